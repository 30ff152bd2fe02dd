package postgres

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/ucwad/ucwad"
)

func errUserNotFound() error { return ucwad.Errorf(ucwad.ENotFound, "", "user not found") }

// stripSIP removes a leading "sip:" in any case, the form the store keeps
// and compares addresses in.
func stripSIP(s string) string {
	if len(s) >= 4 && strings.EqualFold(s[:4], "sip:") {
		return s[4:]
	}
	return s
}

const userColumns = `id, sip, name, password_hash, created_at, anonymous, meeting_id, address, expires_at`

type scanner interface{ Scan(dest ...any) error }

func scanUser(row scanner) (*ucwad.User, error) {
	var u ucwad.User
	var created, expires int64
	var anonymous bool
	var g ucwad.Guest
	if err := row.Scan(&u.ID, &u.SIP, &u.Name, &u.PasswordHash, &created, &anonymous, &g.MeetingID, &g.Address, &expires); err != nil {
		return nil, err
	}
	u.CreatedAt = fromMillis(created)
	if anonymous {
		g.ExpiresAt = fromMillis(expires)
		u.Guest = &g
	}
	return &u, nil
}

// CreateUser inserts u; see ucwad.UserStore. CreatedAt is kept to the
// millisecond.
func (db *DB) CreateUser(ctx context.Context, u *ucwad.User) error {
	sip := stripSIP(u.SIP)
	if sip == "" {
		return ucwad.InvalidParameter("sip", "the SIP address is empty")
	}
	created := fromMillis(millis(db.clock.Now()))
	var id int64
	err := db.inWriteTx(ctx, func(tx *writeTx) error {
		return tx.QueryRowContext(ctx,
			`INSERT INTO users (sip, name, password_hash, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			sip, u.Name, u.PasswordHash, millis(created)).Scan(&id)
	})
	if isUnique(err) {
		return ucwad.Errorf(ucwad.EConflict, ucwad.SubAlreadyExists, "a user with SIP address %q already exists", sip)
	}
	if err != nil {
		return storeErr("create user", err)
	}
	u.ID, u.SIP, u.CreatedAt = id, sip, created
	return nil
}

// FindUserByID looks a user up by id; see ucwad.UserStore.
func (db *DB) FindUserByID(ctx context.Context, id int64) (*ucwad.User, error) {
	u, err := scanUser(db.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errUserNotFound()
	}
	if err != nil {
		return nil, storeErr("find user", err)
	}
	return u, nil
}

// FindUserBySIP looks a user up by SIP address; see ucwad.UserStore.
// "Case-insensitively" is SQLite's NOCASE, which the schema follows: ASCII
// letters only.
func (db *DB) FindUserBySIP(ctx context.Context, sip string) (*ucwad.User, error) {
	u, err := scanUser(db.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE lower(sip COLLATE "C") = lower(? COLLATE "C") AND NOT anonymous`, stripSIP(sip)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errUserNotFound()
	}
	if err != nil {
		return nil, storeErr("find user", err)
	}
	return u, nil
}

// ListUsers returns every user; see ucwad.UserStore.
func (db *DB) ListUsers(ctx context.Context) ([]*ucwad.User, error) {
	rows, err := db.query(ctx, `SELECT `+userColumns+` FROM users WHERE NOT anonymous ORDER BY lower(sip COLLATE "C"), id`)
	if err != nil {
		return nil, storeErr("list users", err)
	}
	defer rows.Close()
	users := []*ucwad.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, storeErr("list users", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr("list users", err)
	}
	return users, nil
}

// CountUsers counts the users; see ucwad.UserStore.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE NOT anonymous`).Scan(&n); err != nil {
		return 0, storeErr("count users", err)
	}
	return n, nil
}

// SetUserPassword replaces the user's password hash and revokes their
// tokens; see ucwad.UserStore.
func (db *DB) SetUserPassword(ctx context.Context, id int64, passwordHash string) error {
	err := db.inWriteTx(ctx, func(tx *writeTx) error {
		n, err := changed(tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, passwordHash, id))
		if err != nil {
			return err
		}
		if n == 0 {
			return errUserNotFound()
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM tokens WHERE user_id = ?`, id)
		return err
	})
	return wrap("set user password", err)
}

// DeleteUser removes the user; see ucwad.UserStore. The foreign keys
// cascade to everything that belongs to them.
func (db *DB) DeleteUser(ctx context.Context, id int64) error {
	err := db.inWriteTx(ctx, func(tx *writeTx) error {
		n, err := changed(tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id))
		if err != nil {
			return err
		}
		if n == 0 {
			return errUserNotFound()
		}
		return nil
	})
	return wrap("delete user", err)
}
