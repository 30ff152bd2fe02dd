package postgres

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/ucwad/ucwad"
)

// signInRow locates an account's schedule: a user's row by id, any other
// name's by the digest of the name.
type signInRow struct {
	table, keyColumn string
	key              any
}

func signInRowOf(a ucwad.SignInAccount) signInRow {
	if a.UserID != 0 {
		return signInRow{"signin_users", "user_id", a.UserID}
	}
	return signInRow{"signin_names", "name_hash", nameKey(a.Name)}
}

// nameKey normalises a sign-in name as the user directory compares names
// (case-insensitively, without "sip:") and digests it, so that spelling
// variants share one schedule and a long name costs no more to keep than a
// short one.
func nameKey(name string) []byte {
	h := sha256.Sum256([]byte(strings.ToLower(stripSIP(name))))
	return h[:]
}

// ceilMillis is t + d in stored milliseconds, rounded up so that a delay is
// never shortened by the storage's precision.
func ceilMillis(t time.Time, d time.Duration) time.Time {
	ms := millis(t) + int64(d/time.Millisecond)
	if d%time.Millisecond > 0 {
		ms++
	}
	return fromMillis(ms)
}

// ClaimSignIn grants or refuses the account's next password check; see
// ucwad.SignInStore. It is one write transaction, so claims from every
// node sharing the database are serialised and at most one is granted per slot.
func (db *DB) ClaimSignIn(ctx context.Context, a ucwad.SignInAccount, p ucwad.SignInPolicy) (ucwad.SignInClaim, error) {
	p = p.WithDefaults()
	now := fromMillis(millis(db.clock.Now()))
	row := signInRowOf(a)
	var c ucwad.SignInClaim
	err := db.inWriteTx(ctx, func(tx *writeTx) error {
		// A retried transaction starts again from nothing: an attempt
		// whose commit failed must not leave its grant behind.
		c = ucwad.SignInClaim{Account: a}
		var prev ucwad.SignInState
		var next, last int64
		err := tx.QueryRowContext(ctx, `SELECT failures, next_at, last_at FROM `+row.table+` WHERE `+row.keyColumn+` = ?`,
			row.key).Scan(&prev.Failures, &next, &last)
		found := err == nil
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case now.Sub(fromMillis(last)) >= p.Window:
			prev = ucwad.SignInState{} // forgotten
		default:
			prev.NextAt, prev.LastAt = fromMillis(next), fromMillis(last)
		}
		if now.Before(prev.NextAt) {
			c.RetryAt = prev.NextAt
			return nil
		}
		n := ucwad.SignInState{Failures: prev.Failures + 1, LastAt: now}
		n.NextAt = ceilMillis(now, p.Delay(n.Failures))
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+row.table+` (`+row.keyColumn+`, failures, next_at, last_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (`+row.keyColumn+`) DO UPDATE SET failures = excluded.failures, next_at = excluded.next_at, last_at = excluded.last_at`,
			row.key, n.Failures, millis(n.NextAt), millis(n.LastAt)); err != nil {
			if isForeignKey(err) {
				return errUserNotFound()
			}
			return err
		}
		if !found && a.UserID == 0 {
			// Only a new row can take the table over its bound. The name
			// just claimed is the newest and is never the one evicted.
			if _, err := tx.ExecContext(ctx, `DELETE FROM signin_names WHERE name_hash IN (
				SELECT name_hash FROM signin_names WHERE name_hash != ? ORDER BY last_at
				LIMIT GREATEST(0, (SELECT n FROM signin_names_count) - ?))`, row.key, db.maxUnknownNames); err != nil {
				return err
			}
		}
		c.Granted, c.Prev, c.Next = true, prev, n
		return nil
	})
	if err != nil {
		return ucwad.SignInClaim{}, wrap("claim sign-in", err)
	}
	return c, nil
}

// ReleaseSignIn undoes a granted claim; see ucwad.SignInStore.
func (db *DB) ReleaseSignIn(ctx context.Context, c ucwad.SignInClaim) error {
	if !c.Granted {
		return nil
	}
	row := signInRowOf(c.Account)
	where := ` WHERE ` + row.keyColumn + ` = ? AND failures = ? AND next_at = ? AND last_at = ?`
	is := []any{row.key, c.Next.Failures, millis(c.Next.NextAt), millis(c.Next.LastAt)}
	return wrap("release sign-in", db.inWriteTx(ctx, func(tx *writeTx) error {
		if c.Prev.Failures == 0 {
			_, err := tx.ExecContext(ctx, `DELETE FROM `+row.table+where, is...)
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE `+row.table+` SET failures = ?, next_at = ?, last_at = ?`+where,
			append([]any{c.Prev.Failures, millis(c.Prev.NextAt), millis(c.Prev.LastAt)}, is...)...)
		return err
	}))
}

// ResetSignIn forgets the account's failures; see ucwad.SignInStore.
func (db *DB) ResetSignIn(ctx context.Context, a ucwad.SignInAccount) error {
	row := signInRowOf(a)
	return wrap("reset sign-in", db.inWriteTx(ctx, func(tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM `+row.table+` WHERE `+row.keyColumn+` = ?`, row.key)
		return err
	}))
}

// DeleteExpiredSignIns forgets stale accounts; see ucwad.SignInStore.
func (db *DB) DeleteExpiredSignIns(ctx context.Context, window time.Duration) (int, error) {
	cutoff := millis(db.clock.Now()) - window.Milliseconds()
	var n int64
	err := db.inWriteTx(ctx, func(tx *writeTx) error {
		n = 0 // a retried transaction starts over
		if ok, err := tx.sweepLock(ctx, sweepSignIns); !ok || err != nil {
			return err
		}
		for _, table := range []string{"signin_users", "signin_names"} {
			k, err := changed(tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE last_at <= ?`, cutoff))
			if err != nil {
				return err
			}
			n += k
		}
		return nil
	})
	if err != nil {
		return 0, storeErr("delete expired sign-ins", err)
	}
	return int(n), nil
}
