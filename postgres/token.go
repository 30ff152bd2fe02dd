package postgres

import (
	"context"
	"database/sql"
	"errors"

	"github.com/ucwad/ucwad"
)

// CreateToken stores t; see ucwad.TokenStore. Both times are kept to the
// millisecond.
func (db *DB) CreateToken(ctx context.Context, t *ucwad.Token) error {
	if len(t.Hash) == 0 {
		return errors.New("postgres: create token: empty hash")
	}
	if t.ExpiresAt.IsZero() {
		return errors.New("postgres: create token: zero expiry")
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
		return storeErr("create token", err)
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
		return nil, nil, storeErr("find token", err)
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
		n = 0
		if ok, err := tx.sweepLock(ctx, sweepTokens); !ok || err != nil {
			return err
		}
		var err error
		n, err = changed(tx.ExecContext(ctx, `DELETE FROM tokens WHERE expires_at <= ?`, millis(now)))
		return err
	})
	if err != nil {
		return 0, storeErr("delete expired tokens", err)
	}
	return int(n), nil
}
