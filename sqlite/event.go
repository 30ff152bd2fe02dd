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

// eventColumns are the columns scanEvent reads: a log row joined with its
// body (e and b).
const eventColumns = `e.seq, b.type, b.subject, b.meeting_id, b.extension_id, b.data, b.size`

func scanEvent(row scanner) (ucwad.Event, int64, error) {
	var e ucwad.Event
	var typ string
	var size int64
	err := row.Scan(&e.Seq, &typ, &e.Subject, &e.MeetingID, &e.ExtensionID, &e.Data, &size)
	e.Type = ucwad.EventType(typ)
	return e, size, err
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
			evs, err := queryEvents(ctx, tx, 0, `SELECT `+eventColumns+` FROM events e JOIN event_bodies b ON b.id = e.body
				WHERE e.application_id = ? AND e.instance_id = ? AND e.batch = ? ORDER BY e.seq`, appID, instanceID, ack)
			b = &ucwad.Batch{Ack: ack, Events: evs}
			return err
		}
		// A batch takes the waiting events up to the byte budget (at least
		// one): the rest wait for the next batch, which the client asks for
		// at once.
		evs, err := queryEvents(ctx, tx, db.maxBatchBytes, `SELECT `+eventColumns+` FROM events e JOIN event_bodies b ON b.id = e.body
			WHERE e.application_id = ? AND e.instance_id = ? AND e.batch IS NULL ORDER BY e.seq`, appID, instanceID)
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

// queryEvents reads the events query selects. With budget > 0 it stops
// after the event that brings their bodies' size to budget or beyond, so
// that a batch holds at least one event and at most budget bytes more than
// its last one.
func queryEvents(ctx context.Context, tx *writeTx, budget int64, query string, args ...any) ([]ucwad.Event, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var evs []ucwad.Event
	var total int64
	for rows.Next() {
		e, size, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		evs = append(evs, e)
		if total += size; budget > 0 && total >= budget {
			break
		}
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

// bodyOverhead is what a body counts against its user's bound beyond its
// data and identifiers: roughly what its row costs, so that bodies without
// data count too.
const bodyOverhead = 64

// appendEvent adds ev, in transaction tx, to every channel of the
// applications of user userID that where selects ("a.id = ?" or
// "a.user_id = ?", with arg), and returns those applications' ids for
// notification after commit. The event's body is stored once; each
// channel's log row refers to it. A channel whose log is over its count
// limit, and a user whose bodies are over the byte bound, lose their oldest
// events and are marked for resync.
func (db *DB) appendEvent(ctx context.Context, tx *writeTx, userID int64, where string, arg any, ev ucwad.Event) ([]string, error) {
	now := millis(db.clock.Now())
	size := int64(len(ev.Data) + len(ev.MeetingID) + len(ev.ExtensionID) + bodyOverhead)
	var body int64
	if err := tx.QueryRowContext(ctx, `
		INSERT INTO event_bodies (user_id, refs, size, type, subject, meeting_id, extension_id, created_at, data)
		VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		userID, size, string(ev.Type), ev.Subject, ev.MeetingID, ev.ExtensionID, now, ev.Data).Scan(&body); err != nil {
		return nil, err
	}
	refs, err := changed(tx.ExecContext(ctx, `
		INSERT INTO events (application_id, instance_id, body)
		SELECT c.application_id, c.instance_id, ?
		FROM channels c JOIN applications a ON a.id = c.application_id
		WHERE `+where, body, arg))
	if err != nil {
		return nil, err
	}
	var userBytes int64
	if err := tx.QueryRowContext(ctx, `UPDATE users SET event_bytes = event_bytes + ? WHERE id = ? RETURNING event_bytes`,
		size, userID).Scan(&userBytes); err != nil {
		return nil, err
	}
	if refs == 0 {
		// Nobody to tell: the body goes at once (and its size with it).
		_, err := tx.ExecContext(ctx, `DELETE FROM event_bodies WHERE id = ?`, body)
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE event_bodies SET refs = ? WHERE id = ?`, refs, body); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `
		UPDATE channels SET queued = queued + 1
		WHERE application_id IN (SELECT a.id FROM applications a WHERE `+where+`)
		RETURNING application_id, instance_id, queued`, arg)
	if err != nil {
		return nil, err
	}
	type fullChannel struct {
		chanKey
		queued int
	}
	var full []fullChannel
	var apps []string
	seen := map[string]bool{}
	for rows.Next() {
		var k fullChannel
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
		if err := db.capChannel(ctx, tx, k.chanKey, k.queued-db.maxEvents); err != nil {
			return nil, err
		}
	}
	if userBytes > db.maxUserEventBytes {
		if err := db.trimUser(ctx, tx, userID, userBytes-db.maxUserEventBytes, body); err != nil {
			return nil, err
		}
	}
	return apps, nil
}

// chanKey names one event channel.
type chanKey struct{ app, instance string }

// capChannel makes a channel lose at least excess events: every
// released-but-unacknowledged batch (a batch must be re-delivered whole or
// not at all) and, if that is not enough, the oldest waiting events; and
// marks the channel so that the next P-GET is told to resync. appendEvent
// calls it when the channel's queued count goes over the limit, and
// trimUser with excess 0 (only the released batches go) for the channels it
// took events from.
func (db *DB) capChannel(ctx context.Context, tx *writeTx, ch chanKey, excess int) error {
	released, err := changed(tx.ExecContext(ctx, `
		DELETE FROM events WHERE application_id = ? AND instance_id = ? AND batch IS NOT NULL`,
		ch.app, ch.instance))
	if err != nil {
		return err
	}
	var dropped int64
	if rest := int64(excess) - released; rest > 0 {
		// The oldest waiting events, as few as needed: the index walks them
		// first, so this costs the excess, not the log's length.
		dropped, err = changed(tx.ExecContext(ctx, `
			DELETE FROM events WHERE seq IN (
			  SELECT seq FROM events WHERE application_id = ? AND instance_id = ? AND batch IS NULL
			  ORDER BY seq LIMIT ?)`,
			ch.app, ch.instance, rest))
		if err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, `
		UPDATE channels SET lost = 1, acked_below = next_batch, queued = queued - ?
		WHERE application_id = ? AND instance_id = ?`,
		released+dropped, ch.app, ch.instance)
	return err
}

// trimUser drops the oldest event bodies of the user, with every log row
// that refers to them, until at least excess bytes are gone; it never drops
// keep (the body just appended). Every channel that lost events is marked
// for resync, and loses its released batches too.
func (db *DB) trimUser(ctx context.Context, tx *writeTx, userID, excess, keep int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, size FROM event_bodies WHERE user_id = ? AND id <> ? ORDER BY id`, userID, keep)
	if err != nil {
		return err
	}
	var bodies []int64
	for freed := int64(0); freed < excess && rows.Next(); {
		var id, size int64
		if err := rows.Scan(&id, &size); err != nil {
			rows.Close()
			return err
		}
		bodies = append(bodies, id)
		freed += size
	}
	if err := rows.Close(); err != nil {
		return err
	}
	lost := map[chanKey]int64{}
	var order []chanKey
	for _, body := range bodies {
		rows, err := tx.QueryContext(ctx, `DELETE FROM events WHERE body = ? RETURNING application_id, instance_id`, body)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k chanKey
			if err := rows.Scan(&k.app, &k.instance); err != nil {
				rows.Close()
				return err
			}
			if _, ok := lost[k]; !ok {
				order = append(order, k)
			}
			lost[k]++
		}
		if err := rows.Close(); err != nil {
			return err
		}
	}
	for _, k := range order {
		if _, err := tx.ExecContext(ctx, `UPDATE channels SET queued = queued - ? WHERE application_id = ? AND instance_id = ?`,
			lost[k], k.app, k.instance); err != nil {
			return err
		}
		if err := db.capChannel(ctx, tx, k, 0); err != nil {
			return err
		}
	}
	return nil
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
