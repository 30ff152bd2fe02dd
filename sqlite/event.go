package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/ucwad/ucwad"
)

// eventColumns are the columns scanEvent reads.
const eventColumns = `seq, type, subject, meeting_id, extension_id, data`

func scanEvent(row scanner) (ucwad.Event, error) {
	var e ucwad.Event
	var typ string
	err := row.Scan(&e.Seq, &typ, &e.Subject, &e.MeetingID, &e.ExtensionID, &e.Data)
	e.Type = ucwad.EventType(typ)
	return e, err
}

// ReadBatch serves "GET events?ack=N" on a channel; see ucwad.EventStore.
// It also records activity on the application: a P-GET is the client
// saying it is alive.
func (db *DB) ReadBatch(ctx context.Context, appID, instanceID string, ack int64, release bool) (*ucwad.Batch, error) {
	now := millis(db.clock.Now())
	var b *ucwad.Batch
	err := db.inWriteTx(ctx, func(tx *writeTx) error {
		var next, ackedBelow int64
		var lost bool
		err := tx.QueryRowContext(ctx, `
			SELECT next_batch, acked_below, lost FROM channels
			WHERE application_id = ? AND instance_id = ?`, appID, instanceID).Scan(&next, &ackedBelow, &lost)
		if errors.Is(err, sql.ErrNoRows) {
			return errApplicationNotFound()
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE applications SET last_active_at = ? WHERE id = ?`, now, appID); err != nil {
			return err
		}
		if lost {
			_, err := tx.ExecContext(ctx, `UPDATE channels SET lost = 0 WHERE application_id = ? AND instance_id = ?`, appID, instanceID)
			b = &ucwad.Batch{Resync: ackedBelow}
			return err
		}
		if ack < ackedBelow || ack > next {
			b = &ucwad.Batch{Resync: ackedBelow}
			return nil
		}
		if ack > ackedBelow {
			// Asking for N proves the client has every batch before N.
			n, err := changed(tx.ExecContext(ctx, `
				DELETE FROM events WHERE application_id = ? AND instance_id = ? AND batch < ?`,
				appID, instanceID, ack))
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `
				UPDATE channels SET acked_below = ?, queued = queued - ? WHERE application_id = ? AND instance_id = ?`,
				ack, n, appID, instanceID); err != nil {
				return err
			}
		}
		if ack < next {
			evs, err := queryEvents(ctx, tx, `SELECT `+eventColumns+` FROM events
				WHERE application_id = ? AND instance_id = ? AND batch = ? ORDER BY seq`, appID, instanceID, ack)
			b = &ucwad.Batch{Ack: ack, Events: evs}
			return err
		}
		evs, err := queryEvents(ctx, tx, `SELECT `+eventColumns+` FROM events
			WHERE application_id = ? AND instance_id = ? AND batch IS NULL ORDER BY seq`, appID, instanceID)
		if err != nil {
			return err
		}
		if len(evs) == 0 && !release {
			b = &ucwad.Batch{Ack: ack, Wait: true}
			return nil
		}
		if len(evs) > 0 {
			if _, err := tx.ExecContext(ctx, `
				UPDATE events SET batch = ? WHERE application_id = ? AND instance_id = ? AND batch IS NULL AND seq <= ?`,
				ack, appID, instanceID, evs[len(evs)-1].Seq); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE channels SET next_batch = ? WHERE application_id = ? AND instance_id = ?`,
			ack+1, appID, instanceID); err != nil {
			return err
		}
		b = &ucwad.Batch{Ack: ack, Events: evs}
		return nil
	})
	if err != nil {
		return nil, wrap("read event batch", err)
	}
	return b, nil
}

func queryEvents(ctx context.Context, tx *writeTx, query string, args ...any) ([]ucwad.Event, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var evs []ucwad.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		evs = append(evs, e)
	}
	return evs, rows.Err()
}

// SetChannelOptions stores the channel's sticky P-GET settings.
// Returns ENotFound (subcode ApplicationNotFound) if there is no channel.
func (db *DB) SetChannelOptions(ctx context.Context, appID, instanceID string, o ucwad.ChannelOptions) error {
	return wrap("set channel options", db.inWriteTx(ctx, func(tx *writeTx) error {
		n, err := changed(tx.ExecContext(ctx, `
			UPDATE channels SET timeout = ?, low = ?, medium = ? WHERE application_id = ? AND instance_id = ?`,
			o.Timeout, o.Low, o.Medium, appID, instanceID))
		if err == nil && n == 0 {
			err = errApplicationNotFound()
		}
		return err
	}))
}

// ExpireApplications deletes the applications idle since before cutoff that
// are not in keep, with their channels and events, and returns their ids.
func (db *DB) ExpireApplications(ctx context.Context, cutoff time.Time, keep []string) ([]string, error) {
	if keep == nil {
		keep = []string{}
	}
	keepJSON, err := json.Marshal(keep)
	if err != nil {
		return nil, err
	}
	var ids []string
	err = db.inWriteTx(ctx, func(tx *writeTx) error {
		rows, err := tx.QueryContext(ctx, `
			DELETE FROM applications
			WHERE last_active_at < ? AND id NOT IN (SELECT value FROM json_each(?))
			RETURNING id`, millis(cutoff), string(keepJSON))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("expire applications", err)
	}
	db.notify(ids)
	return ids, nil
}

// appendEvent adds ev, in transaction tx, to every channel of the
// applications that where selects ("a.id = ?" or "a.user_id = ?", with
// arg), and returns those applications' ids for notification after commit.
// A channel whose log is over the limit loses its oldest events and is
// marked for resync.
func (db *DB) appendEvent(ctx context.Context, tx *writeTx, where string, arg any, ev ucwad.Event) ([]string, error) {
	now := millis(db.clock.Now())
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO events (application_id, instance_id, type, subject, meeting_id, extension_id, data, created_at)
		SELECT c.application_id, c.instance_id, ?, ?, ?, ?, ?, ?
		FROM channels c JOIN applications a ON a.id = c.application_id
		WHERE `+where,
		string(ev.Type), ev.Subject, ev.MeetingID, ev.ExtensionID, ev.Data, now, arg); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `
		UPDATE channels SET queued = queued + 1
		WHERE application_id IN (SELECT a.id FROM applications a WHERE `+where+`)
		RETURNING application_id, instance_id, queued`, arg)
	if err != nil {
		return nil, err
	}
	type chanKey struct {
		app, instance string
		queued        int
	}
	var full []chanKey
	var apps []string
	seen := map[string]bool{}
	for rows.Next() {
		var k chanKey
		if err := rows.Scan(&k.app, &k.instance, &k.queued); err != nil {
			rows.Close()
			return nil, err
		}
		if !seen[k.app] {
			seen[k.app] = true
			apps = append(apps, k.app)
		}
		if k.queued > db.maxEvents {
			full = append(full, k)
		}
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	for _, k := range full {
		if err := db.capChannel(ctx, tx, k.app, k.instance, k.queued); err != nil {
			return nil, err
		}
	}
	return apps, nil
}

// capChannel brings a channel whose log went over db.maxEvents back within
// it (appendEvent calls it when the channel's queued count says so): it drops
// the oldest events and every released-but-unacknowledged batch (a batch
// must be re-delivered whole or not at all) and marks the channel so that
// the next P-GET is told to resync.
func (db *DB) capChannel(ctx context.Context, tx *writeTx, appID, instanceID string, queued int) error {
	released, err := changed(tx.ExecContext(ctx, `
		DELETE FROM events WHERE application_id = ? AND instance_id = ? AND batch IS NOT NULL`,
		appID, instanceID))
	if err != nil {
		return err
	}
	// The oldest waiting events, as few as needed: the index walks them
	// first, so this costs the excess, not the log's length.
	excess := int64(queued-db.maxEvents) - released
	var dropped int64
	if excess > 0 {
		dropped, err = changed(tx.ExecContext(ctx, `
			DELETE FROM events WHERE seq IN (
			  SELECT seq FROM events WHERE application_id = ? AND instance_id = ? AND batch IS NULL
			  ORDER BY seq LIMIT ?)`,
			appID, instanceID, excess))
		if err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, `
		UPDATE channels SET lost = 1, acked_below = next_batch, queued = queued - ?
		WHERE application_id = ? AND instance_id = ?`,
		released+dropped, appID, instanceID)
	return err
}

// notify tells the notifier, after commit, which applications changed.
func (db *DB) notify(appIDs []string) {
	if len(appIDs) > 0 && db.notifier != nil {
		db.notifier.Notify(appIDs)
	}
}

// watcher notices events that other processes sharing the database file
// wrote, by polling the highest event sequence number, and wakes the
// applications they are for. Events written by this process were already
// notified at commit.
type watcher struct {
	mu   sync.Mutex
	last int64
	stop chan struct{}
	once sync.Once
}

// watch polls every interval until Close.
func (db *DB) watch(interval time.Duration) {
	w := db.watcher
	var tick func()
	tick = func() {
		select {
		case <-w.stop:
			return
		default:
		}
		db.pollEvents(context.Background())
		db.clock.AfterFunc(interval, tick)
	}
	db.clock.AfterFunc(interval, tick)
}

// pollEvents notifies the applications of events newer than the last seen.
func (db *DB) pollEvents(ctx context.Context) {
	w := db.watcher
	w.mu.Lock()
	defer w.mu.Unlock()
	rows, err := db.read.QueryContext(ctx, `SELECT seq, application_id FROM events WHERE seq > ? ORDER BY seq`, w.last)
	if err != nil {
		return
	}
	defer rows.Close()
	seen := map[string]bool{}
	var apps []string
	for rows.Next() {
		var seq int64
		var app string
		if rows.Scan(&seq, &app) != nil {
			return
		}
		w.last = seq
		if !seen[app] {
			seen[app] = true
			apps = append(apps, app)
		}
	}
	db.notify(apps)
}
