package postgres

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/ucwad/ucwad"
)

// Anonymous meeting guests are rows of users (migration 3) with anonymous
// set, bound to one meeting: everything that works for a user works for
// them, and they go with their expiry.

func errGuestNotFound() error {
	return ucwad.Errorf(ucwad.ENotFound, "", "no anonymous guest holds that token for that meeting")
}

// liveMeeting reads the meeting id that has not passed its expiration
// time, or fails with DestinationNotFound.
func liveMeeting(ctx context.Context, tx *writeTx, id string, now time.Time) (*ucwad.OnlineMeeting, error) {
	ms, _, err := readMeetings(ctx, tx, `m.id = ? AND m.expiration_time >= ?`, 1, id, millis(now))
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, errDestinationNotFound()
	}
	return ms[0], nil
}

// CreateGuest creates an anonymous guest with its first token; see
// ucwad.GuestStore.
func (db *DB) CreateGuest(ctx context.Context, g *ucwad.User, organizerSIP string, t *ucwad.Token) error {
	if g.Guest == nil {
		return errors.New("postgres: create guest: not a guest")
	}
	if len(t.Hash) == 0 || t.ExpiresAt.IsZero() {
		return errors.New("postgres: create guest: token without hash or expiry")
	}
	now := db.now()
	created, expires := now, fromMillis(millis(t.ExpiresAt))
	if !t.CreatedAt.IsZero() {
		created = fromMillis(millis(t.CreatedAt))
	}
	var id int64
	var sip string
	err := db.inWriteTx(ctx, func(tx *writeTx) error {
		m, err := liveMeeting(ctx, tx, g.Guest.MeetingID, now)
		if err != nil {
			return err
		}
		if organizerSIP != "" && !ucwad.SameOrganizer(organizerSIP, m.Organizer.SIP) {
			return errDestinationNotFound()
		}
		// An address of the organizer's domain that no user who signs in
		// is likely to have, and that no one can sign in as.
		_, domain, _ := strings.Cut(m.Organizer.SIP, "@")
		sip = "guest-" + ucwad.NewID() + "@" + domain
		if err := tx.QueryRowContext(ctx, `
			INSERT INTO users (sip, name, password_hash, created_at, anonymous, meeting_id, address, expires_at)
			VALUES (?, ?, '', ?, true, ?, ?, ?) RETURNING id`,
			sip, g.Name, millis(created), m.ID, g.Guest.Address, millis(expires)).Scan(&id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO tokens (hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			t.Hash, id, millis(created), millis(expires))
		return err
	})
	if err != nil {
		return wrap("create guest", err)
	}
	g.ID, g.SIP, g.CreatedAt, g.PasswordHash = id, sip, created, ""
	g.Guest.MeetingID = ucwad.CanonicalMeetingID(g.Guest.MeetingID)
	g.Guest.ExpiresAt = expires
	t.UserID, t.CreatedAt, t.ExpiresAt = id, created, expires
	return nil
}

// RenewGuest gives a guest a new token, keeping its identity; see
// ucwad.GuestStore.
func (db *DB) RenewGuest(ctx context.Context, old []byte, meetingID string, t *ucwad.Token, oldUntil time.Time) (*ucwad.User, error) {
	if len(t.Hash) == 0 || t.ExpiresAt.IsZero() {
		return nil, errors.New("postgres: renew guest: token without hash or expiry")
	}
	now := db.now()
	expires := fromMillis(millis(t.ExpiresAt))
	var g *ucwad.User
	err := db.inWriteTx(ctx, func(tx *writeTx) error {
		var id int64
		var meeting string
		err := tx.QueryRowContext(ctx, `
			SELECT u.id, u.meeting_id FROM tokens t JOIN users u ON u.id = t.user_id
			WHERE t.hash = ? AND t.expires_at > ? AND u.anonymous`, old, millis(now)).Scan(&id, &meeting)
		if errors.Is(err, sql.ErrNoRows) || err == nil && !strings.EqualFold(meeting, meetingID) {
			return errGuestNotFound()
		}
		if err != nil {
			return err
		}
		if _, err := liveMeeting(ctx, tx, meeting, now); err != nil {
			if ucwad.ErrorCode(err) == ucwad.ENotFound {
				return errGuestNotFound()
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO tokens (hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			t.Hash, id, millis(now), millis(expires)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tokens SET expires_at = LEAST(expires_at, ?) WHERE hash = ?`, millis(oldUntil), old); err != nil {
			return err
		}
		g, err = scanUser(tx.QueryRowContext(ctx, `
			UPDATE users SET expires_at = GREATEST(expires_at, ?) WHERE id = ? RETURNING `+userColumns, millis(expires), id))
		return err
	})
	if isUnique(err) {
		return nil, ucwad.Errorf(ucwad.EConflict, ucwad.SubAlreadyExists, "token already exists")
	}
	if err != nil {
		return nil, wrap("renew guest", err)
	}
	t.UserID, t.CreatedAt, t.ExpiresAt = g.ID, now, expires
	return g, nil
}

// guestExpiryChunk is how many expired guests one transaction of the sweep
// removes, so that a large sweep does not hold its locks long.
const guestExpiryChunk = 64

// DeleteExpiredGuests removes expired guests; see ucwad.GuestStore. Their
// applications leave the meetings they are in first, the others seeing
// them go, as when an application expires.
func (db *DB) DeleteExpiredGuests(ctx context.Context) (int, error) {
	total := 0
	for {
		now := db.now()
		var n int
		var notify []string
		err := db.inWriteTx(ctx, func(tx *writeTx) error {
			// A retried transaction starts again from nothing; another
			// node sweeping now leaves this round to it.
			n, notify = 0, nil
			if ok, err := tx.sweepLock(ctx, sweepGuests); !ok || err != nil {
				return err
			}
			ids, err := queryStrings(ctx, tx, `
				SELECT CAST(id AS TEXT) FROM users WHERE anonymous AND expires_at <= ? ORDER BY expires_at LIMIT ?`,
				millis(now), guestExpiryChunk)
			if err != nil || len(ids) == 0 {
				return err
			}
			n = len(ids)
			list := marshalList(ids)
			apps, err := queryStrings(ctx, tx, `
				SELECT id FROM applications WHERE user_id IN (SELECT CAST(value AS BIGINT) FROM json_array_elements_text(?::json))`, list)
			if err != nil {
				return err
			}
			left, err := db.leaveApplications(ctx, tx, apps)
			if err != nil {
				return err
			}
			notify = append(apps, left...)
			_, err = tx.ExecContext(ctx, `DELETE FROM users WHERE anonymous AND id IN (SELECT CAST(value AS BIGINT) FROM json_array_elements_text(?::json))`, list)
			return err
		})
		if err != nil {
			return total, wrap("delete expired guests", err)
		}
		db.notify(notify)
		total += n
		if n < guestExpiryChunk {
			return total, nil
		}
	}
}
