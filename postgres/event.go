package postgres

import (
	"maps"
	"strconv"
	"strings"

	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"math"
	"slices"
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
// A channel also records which node holds it (holder: the origin of the
// DB where the last P-GET started, and taken: the number of that take).
// Reading it takes a write only when something changes: a P-GET parked on
// a channel its node holds reads, and writes nothing, when it is woken.

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

// readPool runs queries on the pool, outside a transaction.
type readPool struct{ db *DB }

func (p readPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return p.db.queryRow(ctx, query, args...)
}

func (p readPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return p.db.query(ctx, query, args...)
}

// readChannel reads the channel's state with q, or returns
// ApplicationNotFound. Only with waiting does it look for waiting events
// (the write path reads them anyway): events after the released batch, or
// after the cursor when none is released.
func readChannel(ctx context.Context, q rowQuerier, appID, instanceID string, waiting bool) (*channelState, error) {
	var st channelState
	err := q.QueryRowContext(ctx, `
		SELECT c.next_batch, c.acked_below, c.lost, c.cursor, c.batch_end, a.user_id, c.holder, c.taken, a.last_active_at,
		       ?3::boolean AND EXISTS (SELECT 1 FROM events e WHERE e.user_id = a.user_id
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
// It first reads the channel on the pool, in one statement, and takes
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
		_, err := tx.ExecContext(ctx, `UPDATE channels SET lost = false WHERE application_id = ? AND instance_id = ?`, r.appID, r.instanceID)
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

// takeChannel records that this node holds the channel, under the next
// take number, and returns that number. The other nodes hear of it (the
// commit's notification, or their periodic check finding the take by its
// number) and wake their P-GETs on the channel, which then read that they
// were replaced.
func (db *DB) takeChannel(ctx context.Context, tx *writeTx, appID, instanceID string) (int64, error) {
	var take int64
	if err := tx.QueryRowContext(ctx, `UPDATE channel_takes SET last = last + 1 RETURNING last`).Scan(&take); err != nil {
		return 0, err
	}
	_, err := tx.ExecContext(ctx, `UPDATE channels SET holder = ?, taken = ? WHERE application_id = ? AND instance_id = ?`,
		db.origin, take, appID, instanceID)
	// The node that held the channel wakes its P-GET, which reads that it
	// was replaced.
	tx.tell(appID)
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
		ids, left = nil, nil // a retried transaction starts over
		if ok, err := tx.sweepLock(ctx, sweepApplications); !ok || err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `
			DELETE FROM applications
			WHERE last_active_at < ? AND id NOT IN (SELECT value FROM json_array_elements_text(?::json))
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
		tx.tell(ids...)
		tx.tell(left...)
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
// pool, and writes only when one of them is stale.
func (db *DB) KeepApplicationsAlive(ctx context.Context, ids []string, before time.Time) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list := marshalList(ids)
	// The ids that name no application, and whether any is stale.
	const gone = `SELECT j.value FROM json_array_elements_text(?1::json) j (value) WHERE NOT EXISTS (SELECT 1 FROM applications a WHERE a.id = j.value)`
	var missing []string
	var stale bool
	err := db.inReadTx(ctx, func(tx *readTx) error {
		var err error
		if missing, err = queryStrings(ctx, tx, gone, list); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM applications WHERE id IN (SELECT value FROM json_array_elements_text(?1::json)) AND last_active_at < ?2)`,
			list, millis(before)).Scan(&stale)
	})
	if err != nil || !stale {
		return missing, wrap("keep applications alive", err)
	}
	err = db.inWriteTx(ctx, func(tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `UPDATE applications SET last_active_at = ?3 WHERE id IN (SELECT value FROM json_array_elements_text(?1::json)) AND last_active_at < ?2`,
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
	type entry struct {
		user int64
		app  any // NULL: every application of the user
	}
	var apps []string
	var entries []entry
	for _, r := range recipients(to) {
		ids, err := queryStrings(ctx, tx, `SELECT id FROM applications WHERE user_id = ? AND (?2::text = '' OR id = ?2) ORDER BY id`,
			r.UserID, r.ApplicationID)
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
	size := int64(len(ev.Data) + len(ev.Subject.Key) + eventOverhead)
	var body int64
	if err := tx.QueryRowContext(ctx, `
		INSERT INTO event_bodies (origin, type, subject_kind, subject_key, refs, created_at, data)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		db.origin, string(ev.Type), string(ev.Subject.Kind), ev.Subject.Key, len(entries), millis(db.clock.Now()), ev.Data).Scan(&body); err != nil {
		return nil, err
	}
	for _, e := range entries {
		var seq int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO events (user_id, application_id, size, body) VALUES (?, ?, ?, ?) RETURNING seq`,
			e.user, e.app, size, body).Scan(&seq); err != nil {
			return nil, err
		}
		var bytes, count int64
		if err := tx.QueryRowContext(ctx, `
			UPDATE users SET event_bytes = event_bytes + ?, event_count = event_count + 1 WHERE id = ?
			RETURNING event_bytes, event_count`, size, e.user).Scan(&bytes, &count); err != nil {
			return nil, err
		}
		if bytes > db.maxUserEventBytes || count > int64(db.maxEvents) {
			if err := db.trimLog(ctx, tx, e.user, bytes-db.maxUserEventBytes, count-int64(db.maxEvents), seq); err != nil {
				return nil, err
			}
		}
	}
	if len(entries) > 1 {
		apps = slices.Compact(slices.Sorted(slices.Values(apps)))
	}
	tx.tell(apps...)
	tx.events += int64(len(entries))
	return apps, nil
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
		UPDATE channels SET lost = true, acked_below = next_batch,
		       cursor = GREATEST(?1, CASE WHEN next_batch > acked_below THEN batch_end ELSE 0 END)
		WHERE cursor < ?1 AND NOT lost AND application_id IN (
		  SELECT id FROM applications WHERE user_id = ?2 AND (?3::boolean OR id IN (SELECT value FROM json_array_elements_text(?4::json))))`,
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

// watcher is what the periodic check remembers: the newest event and take
// it has seen, and the events it saw recently (by seq, with their body's
// time), because sequence numbers are drawn before commit: an event of
// another user can commit after a higher one was seen. Events are looked
// for again for recheckWindow after their time, so that one committed late
// is still found.
type watcher struct {
	mu       sync.Mutex
	last     int64
	lastTake int64
	seen     map[int64]int64 // seq → created_at of events seen within the window
}

// recheckWindow is how far back, by the time written in the event, the
// periodic check looks for events committed after newer ones: longer than
// any write transaction runs.
const recheckWindow = 30 * time.Second

// listenBackoff bounds the wait between attempts to (re)connect the
// listener.
const listenBackoff = 2 * time.Second

// listen holds a connection that LISTENs for the other nodes'
// notifications and tells the notifier, until Close. A connection that
// breaks is made again; meanwhile, and for notifications lost with it, the
// periodic check (pollLoop) finds what changed, and every (re)connection
// is followed by a check.
func (db *DB) listen(cfg *pgx.ConnConfig) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-db.stopped
		cancel()
	}()
	defer cancel()
	delay := 50 * time.Millisecond
	for ctx.Err() == nil {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			_, err = conn.Exec(ctx, `LISTEN `+notifyChannel)
		}
		if err == nil {
			_, err = conn.Exec(ctx, `LISTEN `+cacheChannel)
		}
		if err == nil {
			delay = 50 * time.Millisecond
			// What happened while nobody listened.
			db.pollOnce(ctx)
			for {
				var n *pgconn.Notification
				n, err = conn.WaitForNotification(ctx)
				if err != nil {
					break
				}
				if n.Channel == cacheChannel {
					db.cacheChanged()
					continue
				}
				db.received(n.Payload)
			}
		}
		if conn != nil {
			conn.Close(context.Background())
		}
		if ctx.Err() != nil {
			return
		}
		db.notifyAll()
		db.log.Warn("event listener disconnected; reconnecting", "err", err)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(2*delay, listenBackoff)
	}
}

// received handles one notification: the writer's origin, then the
// applications it changed, or "*" for every one held here.
func (db *DB) received(payload string) {
	fields := strings.Fields(payload)
	if len(fields) < 2 || fields[0] == strconv.FormatInt(db.origin, 10) {
		return // this node's own commit, notified already
	}
	if fields[1] == "*" {
		db.notifyAll()
		return
	}
	db.notify(fields[1:])
}

// notifyAll wakes every P-GET this node holds, so that each reads its
// channel again: when a change named too many applications to list, and
// when the listener lost its connection (a P-GET whose read then fails is
// answered with the error, 503 while the database is away, rather than
// left waiting for a notification that cannot come). The notifier names
// what it holds (httpapi's Hub does); one that cannot hears of changes from
// the periodic check.
func (db *DB) notifyAll() {
	if h, ok := db.notifier.(interface{ HeldApplications() []string }); ok {
		db.notify(h.HeldApplications())
	}
}

// pollLoop runs the periodic check every interval until Close.
func (db *DB) pollLoop(interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-db.stopped:
			return
		case <-t.C:
			db.pollOnce(context.Background())
		}
	}
}

// pollOnce polls, and logs a failure: until a check succeeds, P-GETs here
// hear of other nodes' changes only through notifications.
func (db *DB) pollOnce(ctx context.Context) {
	if err := db.poll(ctx); err != nil && ctx.Err() == nil {
		db.log.Error("event check failed", "err", err)
	}
}

// poll notifies the applications that got events from other nodes, or
// whose channels other nodes took, and that it has not seen yet. A failed
// poll leaves its marks where they were.
func (db *DB) poll(ctx context.Context) error {
	w := db.watcher
	w.mu.Lock()
	defer w.mu.Unlock()
	last, lastTake := w.last, w.lastTake
	since := millis(db.clock.Now()) - recheckWindow.Milliseconds()
	var apps []string
	seenApp := map[string]bool{}
	add := func(app sql.Null[string]) {
		if app.Valid && !seenApp[app.V] {
			seenApp[app.V] = true
			apps = append(apps, app.V)
		}
	}
	found := map[int64]int64{}
	// Two indexed lookups (new sequence numbers; recent bodies), not a
	// scan of every log.
	err := db.inReadTx(ctx, func(tx *readTx) error {
		rows, err := tx.QueryContext(ctx, `
			WITH recent AS (
			  SELECT e.seq FROM events e WHERE e.seq > ?1
			  UNION
			  SELECT e.seq FROM event_bodies b JOIN events e ON e.body = b.id WHERE b.created_at >= ?2)
			SELECT e.seq, b.origin, b.created_at, a.id FROM recent r JOIN events e ON e.seq = r.seq
			JOIN event_bodies b ON b.id = e.body
			LEFT JOIN applications a ON a.user_id = e.user_id AND (e.application_id IS NULL OR e.application_id = a.id)
			ORDER BY e.seq`, last, since)
		if err != nil {
			return err
		}
		for rows.Next() {
			var seq, origin, created int64
			var app sql.Null[string]
			if err := rows.Scan(&seq, &origin, &created, &app); err != nil {
				rows.Close()
				return err
			}
			last = max(last, seq)
			if _, ok := w.seen[seq]; ok {
				continue
			}
			found[seq] = created
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
		return storeErr("check for other nodes' changes", err)
	}
	maps.Copy(w.seen, found)
	for seq, created := range w.seen {
		if created < since {
			delete(w.seen, seq)
		}
	}
	w.last, w.lastTake = last, lastTake
	db.notify(apps)
	return nil
}

// queryInts reads a one-column query of integers.
func queryInts(ctx context.Context, tx querier, query string, args ...any) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
