package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ucwad/ucwad"
)

// CreateToken stores t; see ucwad.TokenStore. Both times are kept to the
// millisecond.
func (db *DB) CreateToken(ctx context.Context, t *ucwad.Token) error {
	if len(t.Hash) == 0 {
		return errors.New("sqlite: create token: empty hash")
	}
	if t.ExpiresAt.IsZero() {
		return errors.New("sqlite: create token: zero expiry")
	}
	created := t.CreatedAt
	if created.IsZero() {
		created = db.clock.Now()
	}
	created, expires := fromMillis(millis(created)), fromMillis(millis(t.ExpiresAt))
	err := db.inWriteTx(ctx, func(tx *writeTx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO tokens (hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			t.Hash, t.UserID, millis(created), millis(expires))
		return err
	})
	switch {
	case isUnique(err):
		return ucwad.Errorf(ucwad.EConflict, ucwad.SubAlreadyExists, "token already exists")
	case isForeignKey(err):
		return errUserNotFound()
	case err != nil:
		return fmt.Errorf("sqlite: create token: %w", err)
	}
	t.CreatedAt, t.ExpiresAt = created, expires
	return nil
}

// FindToken looks a token up by hash; see ucwad.TokenStore.
func (db *DB) FindToken(ctx context.Context, hash []byte) (*ucwad.Token, *ucwad.User, error) {
	now := db.clock.Now()
	var t ucwad.Token
	var u ucwad.User
	var tCreated, tExpires, uCreated int64
	var anonymous bool
	err := db.queryRow(ctx, `
		SELECT t.hash, t.created_at, t.expires_at,
		       u.id, u.sip, u.name, u.password_hash, u.created_at, u.anonymous
		FROM tokens t JOIN users u ON u.id = t.user_id
		WHERE t.hash = ? AND t.expires_at > ?`,
		hash, millis(now)).Scan(&t.Hash, &tCreated, &tExpires,
		&u.ID, &u.SIP, &u.Name, &u.PasswordHash, &uCreated, &anonymous)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ucwad.Errorf(ucwad.ENotFound, "", "token not found")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: find token: %w", err)
	}
	t.UserID = u.ID
	t.CreatedAt, t.ExpiresAt, u.CreatedAt = fromMillis(tCreated), fromMillis(tExpires), fromMillis(uCreated)
	if anonymous {
		// Only a guest's requests read its guest fields: the lookup every
		// request makes reads one small column more.
		g, err := db.FindUserByID(ctx, u.ID)
		if err != nil {
			return nil, nil, err
		}
		u.Guest = g.Guest
	}
	return &t, &u, nil
}

// RevokeToken deletes a token; see ucwad.TokenStore.
func (db *DB) RevokeToken(ctx context.Context, hash []byte) error {
	return wrap("revoke token", db.inWriteTx(ctx, func(tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE hash = ?`, hash)
		return err
	}))
}

// DeleteExpiredTokens purges expired tokens; see ucwad.TokenStore.
func (db *DB) DeleteExpiredTokens(ctx context.Context) (int, error) {
	now := db.clock.Now()
	var n int64
	err := db.inWriteTx(ctx, func(tx *writeTx) error {
		var err error
		n, err = changed(tx.ExecContext(ctx, `DELETE FROM tokens WHERE expires_at <= ?`, millis(now)))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired tokens: %w", err)
	}
	return int(n), nil
}

// FindTokenApplication is FindToken and FindApplication in one read; see
// ucwad.TokenApplicationFinder. The application's and channel's columns
// come from outer joins (NULL when there is no such application or
// channel), and whether the instanceId must name a channel is decided
// here rather than by a term of the statement, which SQLite would plan
// again on every run.
func (db *DB) FindTokenApplication(ctx context.Context, hash []byte, appID, instanceID string) (*ucwad.Token, *ucwad.User, *ucwad.Application, error) {
	now := db.clock.Now()
	var t ucwad.Token
	var u ucwad.User
	var tCreated, tExpires, uCreated int64
	var anonymous bool
	var a ucwad.Application
	var id sql.Null[string]
	var aCreated, aActive, chCreated sql.Null[int64]
	var userAgent, endpoint, culture, typ, chInstance sql.Null[string]
	var available sql.Null[bool]
	var ackedBelow sql.Null[int64]
	var timeout, low, medium sql.Null[int]
	err := db.queryRow(ctx, `
		SELECT t.hash, t.created_at, t.expires_at,
		       u.id, u.sip, u.name, u.password_hash, u.created_at, u.anonymous,
		       a.id, a.user_agent, a.endpoint_id, a.culture, a.type, a.available, a.created_at, a.last_active_at,
		       c.instance_id, c.created_at, c.acked_below, c.timeout, c.low, c.medium
		FROM tokens t JOIN users u ON u.id = t.user_id
		LEFT JOIN applications a ON a.id = ?3 AND a.user_id = u.id
		LEFT JOIN channels c ON c.application_id = a.id AND c.instance_id = ?4
		WHERE t.hash = ?1 AND t.expires_at > ?2`,
		hash, millis(now), appID, instanceID).Scan(&t.Hash, &tCreated, &tExpires,
		&u.ID, &u.SIP, &u.Name, &u.PasswordHash, &uCreated, &anonymous,
		&id, &userAgent, &endpoint, &culture, &typ, &available, &aCreated, &aActive,
		&chInstance, &chCreated, &ackedBelow, &timeout, &low, &medium)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil, ucwad.Errorf(ucwad.ENotFound, "", "token not found")
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("sqlite: find token: %w", err)
	}
	t.UserID = u.ID
	t.CreatedAt, t.ExpiresAt, u.CreatedAt = fromMillis(tCreated), fromMillis(tExpires), fromMillis(uCreated)
	if anonymous {
		// As FindToken: only a guest's requests read its guest fields.
		g, err := db.FindUserByID(ctx, u.ID)
		if err != nil {
			return nil, nil, nil, err
		}
		u.Guest = g.Guest
	}
	// The default instanceId "" finds the application without a default
	// channel too, with a zero channel; any other must name a channel (see
	// selectApplication).
	if !id.Valid || (instanceID != "" && !chInstance.Valid) {
		return &t, &u, nil, nil
	}
	a.ID, a.UserID, a.UserAgent, a.EndpointID, a.Culture, a.Type = id.V, u.ID, userAgent.V, endpoint.V, culture.V, typ.V
	a.Available = available.V
	a.CreatedAt, a.LastActiveAt = fromMillis(aCreated.V), fromMillis(aActive.V)
	a.Channel.ApplicationID = a.ID
	a.Channel.InstanceID = chInstance.V
	a.Channel.NextAck = 1
	if chInstance.Valid {
		a.Channel.CreatedAt = fromMillis(chCreated.V)
		a.Channel.NextAck = ackedBelow.V
		a.Channel.Options.Timeout, a.Channel.Options.Low, a.Channel.Options.Medium = timeout.V, low.V, medium.V
	}
	return &t, &u, &a, nil
}
