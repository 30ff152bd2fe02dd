package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ucwad/ucwad"
)

// The event store keeps one log per user (the events table): a change's
// event is appended once, whatever the number of channels that receive it,
// and each channel reads the log from its own position. A channel's state
// is its cursor (every event up to it is acknowledged or was dropped), and
// the one batch it may have released and not had acknowledged: the events
// in (cursor, batch_end], numbered acked_below, with next_batch one past it
// (UCWA's ack protocol never has more than one such batch: asking for the
// next acknowledges it). An event goes once every channel of its user has
// passed it, or when the user's log is over its bounds.
//
// A log holds entries (the events table), each referring to the change's
// body (event_bodies: type, subject, data), which is stored once however
// many users' logs receive the change.
//
// A channel also records which process holds it (holder: the origin of the
// DB where the last P-GET started, and taken: the number of that take).
// Reading it takes a write only when something changes: a P-GET parked on
// a channel its process holds reads, and writes nothing, when it is woken.

// eventColumns are the columns scanEvent reads, of entry e and body b.
const eventColumns = `e.seq, b.type, b.subject_kind, b.subject_key, e.size, b.data`

func scanEvent(row scanner) (ucwad.Event, int64, error) {
	var e ucwad.Event
	var typ, kind string
	var size int64
	err := row.Scan(&e.Seq, &typ, &kind, &e.Subject.Key, &size, &e.Data)
	e.Type, e.Subject.Kind = ucwad.EventType(typ), ucwad.SubjectKind(kind)
	return e, size, err
}

// channelEvents selects the events of user ?1 for application ?2 after
// seq ?3 and up to seq ?4, in order.
const channelEvents = `SELECT ` + eventColumns + ` FROM events e JOIN event_bodies b ON b.id = e.body
	WHERE e.user_id = ?1 AND e.seq > ?3 AND e.seq <= ?4 AND (e.application_id IS NULL OR e.application_id = ?2)
	ORDER BY e.seq`

// channelState is what ReadBatch reads of a channel and its application.
type channelState struct {
	next, ackedBelow, cursor, batchEnd, userID int64
	holder, taken, lastActive                  int64
	lost                                       bool
	// waiting is set when events for the channel wait after the released
	// batch (after its cursor when none is released).
	waiting bool
}

// rowQuerier runs a query that returns one row: a transaction, or the read
// pool (readPool).
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// readPool runs single-row queries on the read pool, prepared.
type readPool struct{ db *DB }

func (p readPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return p.db.queryRow(ctx, query, args...)
}

// readChannel reads the channel's state with q, or returns
// ApplicationNotFound. Only with waiting does it look for waiting events
// (the write path reads them anyway): events after the released batch, or
// after the cursor when none is released.
func readChannel(ctx context.Context, q rowQuerier, appID, instanceID string, waiting bool) (*channelState, error) {
	var st channelState
	err := q.QueryRowContext(ctx, `
		SELECT c.next_batch, c.acked_below, c.lost, c.cursor, c.batch_end, a.user_id, c.holder, c.taken, a.last_active_at,
		       ?3 AND EXISTS (SELECT 1 FROM events e WHERE e.user_id = a.user_id
		                      AND e.seq > CASE WHEN c.next_batch > c.acked_below THEN c.batch_end ELSE c.cursor END
		                      AND (e.application_id IS NULL OR e.application_id = c.application_id))
		FROM channels c JOIN applications a ON a.id = c.application_id
		WHERE c.application_id = ?1 AND c.instance_id = ?2`, appID, instanceID, waiting).Scan(
		&st.next, &st.ackedBelow, &st.lost, &st.cursor, &st.batchEnd, &st.userID, &st.holder, &st.taken, &st.lastActive, &st.waiting)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errApplicationNotFound()
	}
	return &st, err
}

// batchRead is one ReadBatch call.
type batchRead struct {
	appID, instanceID string
	ack               int64
	release           bool
	hold              int64
	now               int64 // millis
	// deferAck: an acknowledgement that is the only write the answer
	// needs is left to the next write (ReadBatchDeferAck).
	deferAck bool
}

// staleActivity reports whether the application's recorded activity is
// older than ucwad.ActivityInterval.
func (r *batchRead) staleActivity(st *channelState) bool {
	return r.now-st.lastActive >= ucwad.ActivityInterval.Milliseconds()
}

// What ReadBatch must do to answer, given the channel's state.
type batchPlan int

const (
	planAnswer    batchPlan = iota // the answer is known, and needs no write
	planRedeliver                  // the released batch again: a read
	planWrite                      // something to write
)

// plan decides how to answer r from st, as writeBatch would answer it.
func (db *DB) plan(r *batchRead, st *channelState) (*ucwad.Batch, batchPlan) {
	switch {
	case r.hold != 0 && st.taken != r.hold:
		return &ucwad.Batch{Replaced: true}, planAnswer
	case st.lost, r.hold == 0 && r.staleActivity(st):
		return nil, planWrite
	case r.ack < st.ackedBelow || r.ack > st.next:
		return &ucwad.Batch{Resync: st.ackedBelow}, planAnswer
	case r.ack > st.ackedBelow && r.deferAck && !r.release && !st.waiting && (r.hold != 0 || st.holder == db.origin):
		// Nothing to release after the acknowledged batch: wait, and
		// leave the acknowledgement to the write that releases the next.
		return &ucwad.Batch{Ack: r.ack, Wait: true, Hold: st.taken, AckDeferred: true}, planAnswer
	case r.ack > st.ackedBelow:
		return nil, planWrite // acknowledges the released batch
	case r.ack < st.next:
		return nil, planRedeliver
	case r.release, st.waiting, r.hold == 0 && st.holder != db.origin:
		return nil, planWrite // freezes a batch, or takes the channel
	}
	return &ucwad.Batch{Ack: r.ack, Wait: true, Hold: st.taken}, planAnswer
}

// ReadBatch serves "GET events?ack=N" on a channel; see ucwad.EventStore.
// It first reads the channel on the read pool, in one statement, and takes
// a write transaction only when the answer needs one, reading the channel
// again there: most reads of a held channel (a P-GET that starts and finds
// nothing, a P-GET woken for another channel of its application) write
// nothing.
func (db *DB) ReadBatch(ctx context.Context, appID, instanceID string, ack int64, release bool, hold int64) (*ucwad.Batch, error) {
	return db.readBatch(ctx, &batchRead{appID: appID, instanceID: instanceID, ack: ack, release: release, hold: hold, now: millis(db.clock.Now())})
}

// ReadBatchDeferAck is ReadBatch leaving an acknowledgement that is the
// only write to the next write; see ucwad.EventStore.
func (db *DB) ReadBatchDeferAck(ctx context.Context, appID, instanceID string, ack int64, release bool, hold int64) (*ucwad.Batch, error) {
	return db.readBatch(ctx, &batchRead{appID: appID, instanceID: instanceID, ack: ack, release: release, hold: hold, now: millis(db.clock.Now()), deferAck: true})
}

func (db *DB) readBatch(ctx context.Context, r *batchRead) (*ucwad.Batch, error) {
	appID, instanceID, ack := r.appID, r.instanceID, r.ack
	st, err := readChannel(ctx, readPool{db}, appID, instanceID, true)
	if err != nil {
		return nil, wrap("read event batch", err)
	}
	b, plan := db.plan(r, st)
	if plan == planRedeliver {
		// The batch and the channel's state in one snapshot: an
		// acknowledgement in between would move the cursor.
		err = db.inReadTx(ctx, func(tx *readTx) error {
			st, err := readChannel(ctx, tx, appID, instanceID, true)
			if err != nil {
				return err
			}
			if b, plan = db.plan(r, st); plan == planRedeliver {
				evs, err := queryEvents(ctx, tx, 0, channelEvents, st.userID, appID, st.cursor, st.batchEnd)
				b, plan = &ucwad.Batch{Ack: ack, Events: evs}, planAnswer
				return err
			}
			return nil
		})
		if err != nil {
			return nil, wrap("read event batch", err)
		}
	}
	if plan == planAnswer {
		return b, nil
	}
	err = db.inWriteTxFor(ctx, appLane(appID), func(tx *writeTx) error {
		st, err := readChannel(ctx, tx, appID, instanceID, false)
		if err != nil {
			return err
		}
		b, err = db.writeBatch(ctx, tx, r, st)
		return err
	})
	if err != nil {
		return nil, wrap("read event batch", err)
	}
	return b, nil
}

// writeBatch answers r from st in write transaction tx, writing what the
// answer needs.
func (db *DB) writeBatch(ctx context.Context, tx *writeTx, r *batchRead, st *channelState) (*ucwad.Batch, error) {
	if r.hold != 0 && st.taken != r.hold {
		return &ucwad.Batch{Replaced: true}, nil
	}
	// Writing anyway: the activity goes with it when it is stale.
	if r.staleActivity(st) {
		if _, err := tx.ExecContext(ctx, `UPDATE applications SET last_active_at = ? WHERE id = ?`, r.now, r.appID); err != nil {
			return nil, err
		}
	}
	if st.lost {
		_, err := tx.ExecContext(ctx, `UPDATE channels SET lost = 0 WHERE application_id = ? AND instance_id = ?`, r.appID, r.instanceID)
		return &ucwad.Batch{Resync: st.ackedBelow}, err
	}
	if r.ack < st.ackedBelow || r.ack > st.next {
		return &ucwad.Batch{Resync: st.ackedBelow}, nil
	}
	cursor := st.cursor
	if r.ack > st.ackedBelow {
		// Asking for the next batch acknowledges the released one (there
		// is never more than one): the cursor moves past it, and events
		// every channel of the user has passed go.
		cursor = st.batchEnd
		if _, err := tx.ExecContext(ctx, `
			UPDATE channels SET acked_below = ?, cursor = ? WHERE application_id = ? AND instance_id = ?`,
			r.ack, cursor, r.appID, r.instanceID); err != nil {
			return nil, err
		}
		if err := dropPassedEvents(ctx, tx, st.userID); err != nil {
			return nil, err
		}
	}
	if r.ack < st.next {
		evs, err := queryEvents(ctx, tx, 0, channelEvents, st.userID, r.appID, cursor, st.batchEnd)
		return &ucwad.Batch{Ack: r.ack, Events: evs}, err
	}
	// A batch takes the waiting events up to the byte budget (at least
	// one): the rest wait for the next batch, which the client asks for
	// at once.
	evs, err := queryEvents(ctx, tx, db.maxBatchBytes, channelEvents, st.userID, r.appID, cursor, int64(math.MaxInt64))
	if err != nil {
		return nil, err
	}
	if len(evs) == 0 && !r.release {
		take := st.taken
		if r.hold == 0 && st.holder != db.origin {
			if take, err = db.takeChannel(ctx, tx, r.appID, r.instanceID); err != nil {
				return nil, err
			}
		}
		return &ucwad.Batch{Ack: r.ack, Wait: true, Hold: take}, nil
	}
	end := cursor
	if len(evs) > 0 {
		end = evs[len(evs)-1].Seq
	}
	if _, err := tx.ExecContext(ctx, `
		UPDATE channels SET next_batch = ?, batch_end = ? WHERE application_id = ? AND instance_id = ?`,
		r.ack+1, end, r.appID, r.instanceID); err != nil {
		return nil, err
	}
	return &ucwad.Batch{Ack: r.ack, Events: evs}, nil
}

// takeChannel records that this process holds the channel, under the next
// take number, and returns that number. Other processes' polls find the
// take by its number and wake their P-GETs on the channel, which then read
// that they were replaced.
func (db *DB) takeChannel(ctx context.Context, tx *writeTx, appID, instanceID string) (int64, error) {
	var take int64
	if err := tx.QueryRowContext(ctx, `UPDATE channel_takes SET last = last + 1 RETURNING last`).Scan(&take); err != nil {
		return 0, err
	}
	_, err := tx.ExecContext(ctx, `UPDATE channels SET holder = ?, taken = ? WHERE application_id = ? AND instance_id = ?`,
		db.origin, take, appID, instanceID)
	return take, err
}

// dropPassedEvents deletes the user's events that every channel of the
// user has passed (all of them when the user has no channel left).
func dropPassedEvents(ctx context.Context, tx *writeTx, userID int64) error {
	_, err := tx.ExecContext(ctx, `
		DELETE FROM events WHERE user_id = ?1 AND seq <= COALESCE(
		  (SELECT MIN(c.cursor) FROM channels c JOIN applications a ON a.id = c.application_id WHERE a.user_id = ?1),
		  9223372036854775807)`, userID)
	return err
}

// queryEvents reads the events query selects. With budget > 0 it stops
// after the event that brings their sizes to budget or beyond, so that a
// batch holds at least one event and at most budget bytes more than its
// last one.
func queryEvents(ctx context.Context, tx interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, budget int64, query string, args ...any) ([]ucwad.Event, error) {
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

// SetChannelOptions stores the channel's sticky P-GET settings; see
// ucwad.EventStore.
func (db *DB) SetChannelOptions(ctx context.Context, appID, instanceID string, o ucwad.ChannelOptions) error {
	return wrap("set channel options", db.inWriteTxFor(ctx, appLane(appID), func(tx *writeTx) error {
		n, err := changed(tx.ExecContext(ctx, `
			UPDATE channels SET timeout = ?, low = ?, medium = ? WHERE application_id = ? AND instance_id = ?`,
			o.Timeout, o.Low, o.Medium, appID, instanceID))
		if err == nil && n == 0 {
			err = errApplicationNotFound()
		}
		return err
	}))
}

// ExpireApplications deletes idle applications; see
// ucwad.ApplicationStore.
func (db *DB) ExpireApplications(ctx context.Context, cutoff time.Time, keep []string) ([]string, error) {
	if keep == nil {
		keep = []string{}
	}
	keepJSON, err := json.Marshal(keep)
	if err != nil {
		return nil, err
	}
	var ids, left []string
	err = db.inWriteTx(ctx, func(tx *writeTx) error {
		rows, err := tx.QueryContext(ctx, `
			DELETE FROM applications
			WHERE last_active_at < ? AND id NOT IN (SELECT value FROM json_each(?))
			RETURNING id, user_id`, millis(cutoff), string(keepJSON))
		if err != nil {
			return err
		}
		users := map[int64]bool{}
		for rows.Next() {
			var id string
			var user int64
			if err := rows.Scan(&id, &user); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
			users[user] = true
		}
		if err := rows.Close(); err != nil {
			return err
		}
		// The expired applications leave the meetings they are in.
		if left, err = db.leaveApplications(ctx, tx, ids); err != nil {
			return err
		}
		// Events only the expired channels still waited for go with them.
		for user := range users {
			if err := dropPassedEvents(ctx, tx, user); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrap("expire applications", err)
	}
	db.notify(append(ids, left...))
	return ids, nil
}

// KeepApplicationsAlive records activity on the held applications whose
// activity is stale; see ucwad.ApplicationStore. It reads first, on the
// read pool, and writes only when one of them is stale.
func (db *DB) KeepApplicationsAlive(ctx context.Context, ids []string, before time.Time) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list := marshalList(ids)
	// The ids that name no application, and whether any is stale.
	const gone = `SELECT j.value FROM json_each(?1) j WHERE NOT EXISTS (SELECT 1 FROM applications a WHERE a.id = j.value)`
	var missing []string
	var stale bool
	err := db.inReadTx(ctx, func(tx *readTx) error {
		var err error
		if missing, err = queryStrings(ctx, tx, gone, list); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM applications WHERE id IN (SELECT value FROM json_each(?1)) AND last_active_at < ?2)`,
			list, millis(before)).Scan(&stale)
	})
	if err != nil || !stale {
		return missing, wrap("keep applications alive", err)
	}
	err = db.inWriteTx(ctx, func(tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `UPDATE applications SET last_active_at = ?3 WHERE id IN (SELECT value FROM json_each(?1)) AND last_active_at < ?2`,
			list, millis(before), millis(db.clock.Now()))
		return err
	})
	return missing, wrap("keep applications alive", err)
}

// eventOverhead is what an event counts against its user's byte bound
// beyond its data and key: roughly what its entry and body rows cost, so
// that events without data count too.
const eventOverhead = 64

// appendEvent appends ev, in transaction tx, for its audience, and returns
// the ids of the applications that receive it, for notification after
// commit. The body is stored once; each user's log gets one entry per
// recipient naming that user (for all of the user's applications or for
// one). Recipients without any application get nothing, and when nobody
// gets anything nothing is stored. When a user's log goes over its bounds
// (events, bytes) its oldest events go, and every channel of the user that
// had not passed them is marked for resync; the change itself is never
// refused.
func (db *DB) appendEvent(ctx context.Context, tx *writeTx, to ucwad.Audience, ev ucwad.Event) ([]string, error) {
	rs := recipients(to)
	if len(rs) == 1 {
		return db.appendEventTo(ctx, tx, rs[0], ev)
	}
	type entry struct {
		user int64
		app  any // NULL: every application of the user
	}
	var apps []string
	var entries []entry
	for _, r := range rs {
		var ids []string
		var err error
		// Two statements, not one with "? = '' OR id = ?": SQLite plans a
		// statement again on every run when a bound value decides a term.
		if r.ApplicationID == "" {
			ids, err = queryStrings(ctx, tx, `SELECT id FROM applications WHERE user_id = ? ORDER BY id`, r.UserID)
		} else {
			ids, err = queryStrings(ctx, tx, `SELECT id FROM applications WHERE user_id = ? AND id = ?`, r.UserID, r.ApplicationID)
		}
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			continue
		}
		apps = append(apps, ids...)
		e := entry{user: r.UserID}
		if r.ApplicationID != "" {
			e.app = r.ApplicationID
		}
		entries = append(entries, e)
	}
	if len(entries) == 0 {
		return nil, nil
	}
	size := eventSize(ev)
	var body int64
	if err := tx.QueryRowContext(ctx, `
		INSERT INTO event_bodies (origin, type, subject_kind, subject_key, refs, created_at, data)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		db.origin, string(ev.Type), string(ev.Subject.Kind), ev.Subject.Key, len(entries), millis(db.clock.Now()), ev.Data).Scan(&body); err != nil {
		return nil, err
	}
	for _, e := range entries {
		if err := db.appendEntry(ctx, tx, e.user, e.app, size, body); err != nil {
			return nil, err
		}
	}
	tx.events += int64(len(entries))
	if len(entries) > 1 {
		apps = slices.Compact(slices.Sorted(slices.Values(apps)))
	}
	return apps, nil
}

// eventSize is what ev counts against each recipient's byte bound.
func eventSize(ev ucwad.Event) int64 {
	return int64(len(ev.Data) + len(ev.Subject.Key) + eventOverhead)
}

// appendEventTo is appendEvent for an audience of one recipient, the
// common case (a meeting's events go to its organizer): the lookup of the
// recipient's applications is part of the body's insert, which inserts
// nothing when there is none, so the event costs three statements instead
// of four. Application ids are NewID's base32, never a space.
func (db *DB) appendEventTo(ctx context.Context, tx *writeTx, r ucwad.Recipient, ev ucwad.Event) ([]string, error) {
	var body int64
	var ids string
	var app any // NULL: every application of the user
	var row *sql.Row
	if r.ApplicationID == "" {
		row = tx.QueryRowContext(ctx, `
			INSERT INTO event_bodies (origin, type, subject_kind, subject_key, refs, created_at, data)
			SELECT ?, ?, ?, ?, 1, ?, ? WHERE EXISTS (SELECT 1 FROM applications WHERE user_id = ?)
			RETURNING id, (SELECT group_concat(id, ' ' ORDER BY id) FROM applications WHERE user_id = ?)`,
			db.origin, string(ev.Type), string(ev.Subject.Kind), ev.Subject.Key, millis(db.clock.Now()), ev.Data,
			r.UserID, r.UserID)
	} else {
		app = r.ApplicationID
		row = tx.QueryRowContext(ctx, `
			INSERT INTO event_bodies (origin, type, subject_kind, subject_key, refs, created_at, data)
			SELECT ?, ?, ?, ?, 1, ?, ? WHERE EXISTS (SELECT 1 FROM applications WHERE user_id = ? AND id = ?)
			RETURNING id, ?`,
			db.origin, string(ev.Type), string(ev.Subject.Kind), ev.Subject.Key, millis(db.clock.Now()), ev.Data,
			r.UserID, r.ApplicationID, r.ApplicationID)
	}
	err := row.Scan(&body, &ids)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil // no application to receive it
	}
	if err != nil {
		return nil, err
	}
	if err := db.appendEntry(ctx, tx, r.UserID, app, eventSize(ev), body); err != nil {
		return nil, err
	}
	tx.events++
	return strings.Split(ids, " "), nil
}

// appendEntry adds the entry of body to user's log (for app, or all the
// user's applications when app is nil), counts it in the user's totals
// and keeps the log within its bounds.
func (db *DB) appendEntry(ctx context.Context, tx *writeTx, user int64, app any, size, body int64) error {
	var seq int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO events (user_id, application_id, size, body) VALUES (?, ?, ?, ?) RETURNING seq`,
		user, app, size, body).Scan(&seq); err != nil {
		return err
	}
	var bytes, count int64
	if err := tx.QueryRowContext(ctx, `
		UPDATE users SET event_bytes = event_bytes + ?, event_count = event_count + 1 WHERE id = ?
		RETURNING event_bytes, event_count`, size, user).Scan(&bytes, &count); err != nil {
		return err
	}
	if bytes > db.maxUserEventBytes || count > int64(db.maxEvents) {
		return db.trimLog(ctx, tx, user, bytes-db.maxUserEventBytes, count-int64(db.maxEvents), seq)
	}
	return nil
}

// recipients is the audience without repetitions: one recipient per
// application, none for an application whose user is a recipient whole,
// in the audience's order.
func recipients(to ucwad.Audience) ucwad.Audience {
	if len(to) < 2 {
		return to
	}
	whole := map[int64]bool{}
	for _, r := range to {
		if r.ApplicationID == "" {
			whole[r.UserID] = true
		}
	}
	seen := map[ucwad.Recipient]bool{}
	out := make(ucwad.Audience, 0, len(to))
	for _, r := range to {
		if seen[r] || (r.ApplicationID != "" && whole[r.UserID]) {
			continue
		}
		seen[r] = true
		out = append(out, r)
	}
	return out
}

// trimLog drops the user's oldest events until at least excessBytes bytes
// and excessCount events are gone, never the event keep (the one just
// appended), and marks for resync every channel of the user that had not
// passed them. Such a channel also loses its released batch (a batch goes
// whole or not at all).
func (db *DB) trimLog(ctx context.Context, tx *writeTx, userID, excessBytes, excessCount, keep int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT seq, size, application_id FROM events WHERE user_id = ? AND seq < ? ORDER BY seq`, userID, keep)
	if err != nil {
		return err
	}
	var upTo, bytes, count int64
	every := false        // an event for every application went
	targets := []string{} // the applications the others were for
	for (bytes < excessBytes || count < excessCount) && rows.Next() {
		var size int64
		var app sql.Null[string]
		if err := rows.Scan(&upTo, &size, &app); err != nil {
			rows.Close()
			return err
		}
		bytes, count = bytes+size, count+1
		if !app.Valid {
			every = true
		} else {
			targets = append(targets, app.V)
		}
	}
	if err := rows.Close(); err != nil || count == 0 {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM events WHERE user_id = ? AND seq <= ?`, userID, upTo); err != nil {
		return err
	}
	// Channels only some of the dropped events were for lose nothing of
	// the others': events meant for one application (availability) do not
	// make the user's other applications resync. A channel marked already
	// is left alone: it resyncs anyway, and reads only what is left, so a
	// user whose channels never read costs this nothing after the first
	// time.
	_, err = tx.ExecContext(ctx, `
		UPDATE channels SET lost = 1, acked_below = next_batch,
		       cursor = max(?1, CASE WHEN next_batch > acked_below THEN batch_end ELSE 0 END)
		WHERE cursor < ?1 AND NOT lost AND application_id IN (
		  SELECT id FROM applications WHERE user_id = ?2 AND (?3 OR id IN (SELECT value FROM json_each(?4))))`,
		upTo, userID, every, marshalList(targets))
	return err
}

// queryStrings reads a one-column query of strings, in a read or a write
// transaction.
func queryStrings(ctx context.Context, tx querier, query string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// notify tells the notifier, after commit, which applications changed.
func (db *DB) notify(appIDs []string) {
	if len(appIDs) > 0 && db.notifier != nil {
		db.notifier.Notify(appIDs)
	}
}

// watcher notices what other processes sharing the database file wrote,
// by polling: events (by their sequence numbers) and channel takes (by
// theirs), and wakes the applications concerned. What this process wrote
// was notified at commit; the poll skips it (by the origin of each event's
// body and the holder of each channel), so that one commit wakes a P-GET
// once.
type watcher struct {
	mu       sync.Mutex
	last     int64 // the newest event seen
	lastTake int64 // the newest take seen
	stop     chan struct{}
	once     sync.Once
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
		db.pollOnce(context.Background())
		db.clock.AfterFunc(interval, tick)
	}
	db.clock.AfterFunc(interval, tick)
}

// pollOnce polls, and logs a failure: nobody else would hear of it, and
// until a poll succeeds P-GETs here wait for other processes' changes until
// their timeout.
func (db *DB) pollOnce(ctx context.Context) {
	if err := db.poll(ctx); err != nil {
		db.log.Error("event poll failed", "err", err)
	}
}

// poll notifies the applications that got events from other processes, or
// whose channels other processes took, since the last poll. A failed poll
// leaves its marks where they were: the next one finds the same.
func (db *DB) poll(ctx context.Context) error {
	w := db.watcher
	w.mu.Lock()
	defer w.mu.Unlock()
	last, lastTake := w.last, w.lastTake
	var apps []string
	seen := map[string]bool{}
	add := func(app sql.Null[string]) {
		if app.Valid && !seen[app.V] {
			seen[app.V] = true
			apps = append(apps, app.V)
		}
	}
	err := db.inReadTx(ctx, func(tx *readTx) error {
		rows, err := tx.QueryContext(ctx, `
			SELECT e.seq, b.origin, a.id FROM events e JOIN event_bodies b ON b.id = e.body
			LEFT JOIN applications a ON a.user_id = e.user_id AND (e.application_id IS NULL OR e.application_id = a.id)
			WHERE e.seq > ? ORDER BY e.seq`, last)
		if err != nil {
			return err
		}
		for rows.Next() {
			var origin int64
			var app sql.Null[string]
			if err := rows.Scan(&last, &origin, &app); err != nil {
				rows.Close()
				return err
			}
			if origin != db.origin {
				add(app)
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT taken, holder, application_id FROM channels WHERE taken > ? ORDER BY taken`, lastTake)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var holder int64
			var app sql.Null[string]
			if err := rows.Scan(&lastTake, &holder, &app); err != nil {
				return err
			}
			if holder != db.origin {
				add(app)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return fmt.Errorf("sqlite: poll for other processes' changes: %w", err)
	}
	w.last, w.lastTake = last, lastTake
	db.notify(apps)
	return nil
}
