package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ucwad/ucwad"
)

func errMeetingNotFound() error {
	return ucwad.Errorf(ucwad.ENotFound, ucwad.SubResourceNotFound, "There is no such online meeting.")
}

func errExtensionNotFound() error {
	return ucwad.Errorf(ucwad.ENotFound, ucwad.SubResourceNotFound, "There is no such online meeting extension.")
}

func errStale(what string) error {
	return ucwad.Errorf(ucwad.EPreconditionFailed, "", "The %s changed since the entity tag in If-Match; get it again.", what)
}

// meetingColumns are the columns scanMeeting reads from meetingsFrom: the
// meeting, its organizer, and the rowid last (for paging).
const meetingColumns = `
	m.id, m.user_id, u.sip, u.name, m.rel, m.conference_id, m.subject, m.description, m.access_level,
	m.automatic_leader_assignment, m.entry_exit_announcement, m.lobby_bypass_for_phone_users,
	m.phone_user_admission, m.attendees, m.leaders, m.expiration_time, m.join_base, m.etag, m.created_at, m.updated_at, m.rowid`

// meetingsFrom joins each meeting to its organizer, so that a meeting read
// is a meeting whole, whoever reads it (ucwad.OnlineMeeting.Organizer).
const meetingsFrom = ` FROM meetings m JOIN users u ON u.id = m.user_id`

// organizerReturning is the RETURNING clause's tail that reads the
// organizer of the row a statement on meetings wrote.
const organizerReturning = `(SELECT sip FROM users WHERE id = user_id), (SELECT name FROM users WHERE id = user_id)`

// relSQL is rel as an SQL literal, for statements that compare the rel
// column. Meetings have partial indexes on rel, and SQLite plans again, on
// every run, a statement whose bound parameter decides whether such an index
// applies (rel = ?): with the literal in the text the prepared statement is
// planned once. An unknown rel becomes NULL, which matches no meeting.
func relSQL(rel string) string {
	switch rel {
	case ucwad.MeetingRelScheduled, ucwad.MeetingRelAssigned, ucwad.MeetingRelAdHoc:
		return "'" + rel + "'"
	}
	return "NULL"
}

// countSQL is an SQL expression of how many meetings of rel the user (its
// one parameter) has, for the per-user limit. Scheduled meetings are
// counted by triggers in users.scheduled_meetings (migration 0015), so that
// the limit does not read one index entry per meeting the user has; a user
// that does not exist has none, so that the insert fails on the foreign key
// as it did with the count.
func countSQL(rel string) string {
	if rel == ucwad.MeetingRelScheduled {
		return `COALESCE((SELECT scheduled_meetings FROM users WHERE id = ?), 0)`
	}
	return `(SELECT COUNT(*) FROM meetings WHERE user_id = ? AND rel = ` + relSQL(rel) + `)`
}

// meetingKey is where a meeting stands in a user's list: creation time,
// then rowid.
type meetingKey struct{ created, row int64 }

func scanMeeting(row scanner) (*ucwad.OnlineMeeting, meetingKey, error) {
	var m ucwad.OnlineMeeting
	var attendees, leaders string
	var expires, updated int64
	var k meetingKey
	if err := row.Scan(&m.ID, &m.UserID, &m.Organizer.SIP, &m.Organizer.Name, &m.Rel, &m.ConferenceID, &m.Subject, &m.Description, &m.AccessLevel,
		&m.AutomaticLeaderAssignment, &m.EntryExitAnnouncement, &m.LobbyBypassForPhoneUsers,
		&m.PhoneUserAdmission, &attendees, &leaders, &expires, &m.JoinBase, &m.ETag, &k.created, &updated, &k.row); err != nil {
		return nil, k, err
	}
	if err := unmarshalList(attendees, &m.Attendees); err != nil {
		return nil, k, err
	}
	if err := unmarshalList(leaders, &m.Leaders); err != nil {
		return nil, k, err
	}
	m.ExpirationTime, m.CreatedAt, m.UpdatedAt = fromMillis(expires), fromMillis(k.created), fromMillis(updated)
	m.Extensions = []*ucwad.Extension{}
	return &m, k, nil
}

// querier runs a query in a transaction: a *writeTx or a *readTx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// readMeetings reads the meetings that cond selects (a condition on m, with
// args), in creation order, at most limit of them (0: all), each with the
// identities of its extensions (their properties nil: they are never read,
// so that a list of meetings costs what the meetings cost). It returns the
// key of the last meeting read.
func readMeetings(ctx context.Context, q querier, cond string, limit int, args ...any) ([]*ucwad.OnlineMeeting, meetingKey, error) {
	query := `SELECT ` + meetingColumns + meetingsFrom + ` WHERE ` + cond + ` ORDER BY m.created_at, m.rowid`
	if limit > 0 {
		query += ` LIMIT ` + strconv.Itoa(limit)
	}
	var last meetingKey
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, last, err
	}
	ms := []*ucwad.OnlineMeeting{}
	byID := map[string]*ucwad.OnlineMeeting{}
	var ids []string
	for rows.Next() {
		m, k, err := scanMeeting(rows)
		if err != nil {
			rows.Close()
			return nil, last, err
		}
		ms, last = append(ms, m), k
		byID[m.ID] = m
		ids = append(ids, m.ID)
	}
	if err := rows.Close(); err != nil {
		return nil, last, err
	}
	if len(ms) == 0 {
		return ms, last, nil
	}
	rows, err = q.QueryContext(ctx, `
		SELECT x.meeting_id, x.id, x.type, x.etag, x.created_at, x.updated_at FROM extensions x
		WHERE x.meeting_id IN (SELECT value FROM json_each(?)) ORDER BY x.seq`, marshalList(ids))
	if err != nil {
		return nil, last, err
	}
	defer rows.Close()
	for rows.Next() {
		x := &ucwad.Extension{}
		var created, updated int64
		if err := rows.Scan(&x.MeetingID, &x.ID, &x.Type, &x.ETag, &created, &updated); err != nil {
			return nil, last, err
		}
		x.CreatedAt, x.UpdatedAt = fromMillis(created), fromMillis(updated)
		if m := byID[x.MeetingID]; m != nil {
			m.Extensions = append(m.Extensions, x)
		}
	}
	return ms, last, rows.Err()
}

// marshalList stores a list as JSON; nil is stored as [] so that it reads
// back as an empty list.
func marshalList[T any](l []T) string {
	if l == nil {
		l = []T{}
	}
	b, err := json.Marshal(l)
	if err != nil {
		panic("sqlite: marshalling a list of strings: " + err.Error()) // cannot fail for these types
	}
	return string(b)
}

func unmarshalList[T any](s string, dst *[]T) error {
	if err := json.Unmarshal([]byte(s), dst); err != nil {
		return fmt.Errorf("stored list %q: %w", s, err)
	}
	if *dst == nil {
		*dst = []T{}
	}
	return nil
}

// event builds the event for a change, with v as its data.
func event(typ ucwad.EventType, subject ucwad.Subject, v any) ucwad.Event {
	e := ucwad.Event{Type: typ, Subject: subject}
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			panic("sqlite: marshalling event data: " + err.Error()) // plain structs cannot fail
		}
		e.Data = b
	}
	return e
}

// appendMeetingEvent appends e, about a meeting of organizerID or one of
// its extensions, for the meeting's audience.
func (db *DB) appendMeetingEvent(ctx context.Context, tx *writeTx, organizerID int64, e ucwad.Event) ([]string, error) {
	return db.appendEvent(ctx, tx, ucwad.MeetingAudience(organizerID), e)
}

// maxIDDraws bounds how often a new meeting draws fresh random ids after a
// collision; with 50-bit ids and 8-digit conference ids a second draw is
// already rare.
const maxIDDraws = 10

// insertMeeting inserts a meeting of the user under fresh random ids,
// drawing again on a collision, and returns it as stored, with its
// organizer. It returns nil without error when the user's existing
// assigned meeting prevented the insert, and EConflict
// (TooManyOnlineMeetings) when the user has max meetings of rel already
// (max <= 0: no limit, for the assigned meeting).
func insertMeeting(ctx context.Context, tx *writeTx, userID int64, rel string, s *ucwad.MeetingSettings, joinBase string, max int, etag string, now int64) (*ucwad.OnlineMeeting, error) {
	m := &ucwad.OnlineMeeting{UserID: userID, Rel: rel, MeetingSettings: *s, JoinBase: joinBase, ETag: etag,
		CreatedAt: fromMillis(now), UpdatedAt: fromMillis(now), Extensions: []*ucwad.Extension{}}
	m.ExpirationTime = fromMillis(millis(s.ExpirationTime))
	if m.Attendees == nil {
		m.Attendees = []string{}
	}
	if m.Leaders == nil {
		m.Leaders = []string{}
	}
	attendees, leaders := marshalList(m.Attendees), marshalList(m.Leaders)
	for range maxIDDraws {
		m.ID, m.ConferenceID = ucwad.NewMeetingID(), ucwad.NewConferenceID()
		// One statement checks the limit, inserts and reads the organizer:
		// the common case costs a single round through the engine.
		err := tx.QueryRowContext(ctx, `
			INSERT INTO meetings (id, user_id, rel, conference_id, subject, description, access_level,
			                      automatic_leader_assignment, entry_exit_announcement, lobby_bypass_for_phone_users,
			                      phone_user_admission, attendees, leaders, expiration_time, join_base, etag, created_at, updated_at)
			SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
			WHERE ? <= 0 OR `+countSQL(rel)+` < ?
			ON CONFLICT DO NOTHING
			RETURNING `+organizerReturning,
			m.ID, userID, rel, m.ConferenceID, s.Subject, s.Description, s.AccessLevel,
			s.AutomaticLeaderAssignment, s.EntryExitAnnouncement, s.LobbyBypassForPhoneUsers,
			s.PhoneUserAdmission, attendees, leaders, millis(s.ExpirationTime), joinBase, etag, now, now,
			max, userID, max).Scan(&m.Organizer.SIP, &m.Organizer.Name)
		if isForeignKey(err) {
			return nil, errUserNotFound()
		}
		if err == nil {
			return m, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		// Nothing inserted: the limit, the assigned meeting that exists,
		// or (rarely) an id drawn twice.
		if max > 0 {
			var count int
			if err := tx.QueryRowContext(ctx, `SELECT `+countSQL(rel),
				userID).Scan(&count); err != nil {
				return nil, err
			}
			if count >= max {
				return nil, ucwad.Errorf(ucwad.EConflict, ucwad.SubTooManyOnlineMeetings,
					"You already have the maximum of %d online meetings; delete one first.", max)
			}
		}
		if rel == ucwad.MeetingRelAssigned {
			var exists bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM meetings WHERE user_id = ? AND rel = `+relSQL(rel)+`)`,
				userID).Scan(&exists); err != nil || exists {
				return nil, err
			}
		}
	}
	return nil, fmt.Errorf("no free meeting id after %d draws", maxIDDraws)
}

// CreateMeeting schedules m; see ucwad.MeetingStore. Times are kept to the
// millisecond and m is updated to the stored values.
func (db *DB) CreateMeeting(ctx context.Context, m *ucwad.OnlineMeeting) error {
	now := millis(db.clock.Now())
	etag := ucwad.NewETag()
	var created *ucwad.OnlineMeeting
	var notify []string
	err := db.inWriteTxFor(ctx, userLane(m.UserID), func(tx *writeTx) error {
		var err error
		created, err = insertMeeting(ctx, tx, m.UserID, ucwad.MeetingRelScheduled, &m.MeetingSettings, m.JoinBase, db.maxMeetings, etag, now)
		if err != nil {
			return err
		}
		notify, err = db.appendMeetingEvent(ctx, tx, m.UserID, event(ucwad.EventAdded, ucwad.MeetingSubject(created.ID), created))
		return err
	})
	if err != nil {
		return wrap("create meeting", err)
	}
	*m = *created
	db.notify(notify)
	return nil
}

// readMeeting reads, in a read transaction, the one meeting of the user
// that cond selects (with args), or nil.
func (db *DB) readMeeting(ctx context.Context, cond string, args ...any) (*ucwad.OnlineMeeting, error) {
	var ms []*ucwad.OnlineMeeting
	err := db.inReadTx(ctx, func(tx *readTx) error {
		var err error
		ms, _, err = readMeetings(ctx, tx, cond, 1, args...)
		return err
	})
	if err != nil || len(ms) == 0 {
		return nil, err
	}
	return ms[0], nil
}

// AssignedMeeting returns the user's assigned meeting, creating it with
// settings s the first time; see ucwad.MeetingStore.
func (db *DB) AssignedMeeting(ctx context.Context, userID int64, s ucwad.MeetingSettings, joinBase string) (*ucwad.OnlineMeeting, error) {
	m, err := db.readMeeting(ctx, `m.user_id = ? AND m.rel = `+relSQL(ucwad.MeetingRelAssigned), userID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: assigned meeting: %w", err)
	}
	if m != nil {
		return m, nil
	}
	now := millis(db.clock.Now())
	etag := ucwad.NewETag()
	err = db.inWriteTxFor(ctx, userLane(userID), func(tx *writeTx) error {
		var err error
		if m, err = insertMeeting(ctx, tx, userID, ucwad.MeetingRelAssigned, &s, joinBase, 0, etag, now); err != nil || m != nil {
			return err
		}
		// Another request created it since we looked.
		ms, _, err := readMeetings(ctx, tx, `m.user_id = ? AND m.rel = `+relSQL(ucwad.MeetingRelAssigned), 1, userID)
		if err == nil && len(ms) == 1 {
			m = ms[0]
		}
		return err
	})
	if err != nil {
		return nil, wrap("create assigned meeting", err)
	}
	if m == nil {
		return nil, errors.New("sqlite: create assigned meeting: neither inserted nor found")
	}
	return m, nil
}

// FindMeeting returns the meeting with its extensions' identities; see
// ucwad.MeetingStore.
func (db *DB) FindMeeting(ctx context.Context, userID int64, id string) (*ucwad.OnlineMeeting, error) {
	// Ad hoc meetings are not the organizer's to manage (see
	// ucwad.MeetingRelAdHoc).
	m, err := db.readMeeting(ctx, `m.user_id = ? AND m.id = ? AND m.rel <> 'adhoc'`, userID, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find meeting: %w", err)
	}
	if m == nil {
		return nil, errMeetingNotFound()
	}
	return m, nil
}

// JoinableMeeting returns the meeting a join link names, whoever asks;
// see ucwad.MeetingStore. It selects as JoinMeeting does.
func (db *DB) JoinableMeeting(ctx context.Context, alias, id string) (*ucwad.OnlineMeeting, error) {
	m, err := db.readMeeting(ctx, `m.id = ? AND m.expiration_time >= ?`, id, millis(db.now()))
	if err != nil {
		return nil, fmt.Errorf("sqlite: joinable meeting: %w", err)
	}
	// An alias is the part of an address before "@": a whole address is
	// not one (SameOrganizer would compare it whole).
	if m == nil || strings.Contains(alias, "@") || !ucwad.SameOrganizer(alias, m.Organizer.SIP) {
		return nil, errDestinationNotFound()
	}
	return m, nil
}

// Pages of ListMeetings and ListExtensions: what one read holds in memory.
// A meeting is at most a few hundred KiB (its attendees and leaders) plus
// its extensions' identities; an extension at most the extension limit.
const (
	meetingPage   = 8
	extensionPage = 16
)

// ListMeetings yields the user's meetings of rel, a page at a time; see
// ucwad.MeetingStore.
func (db *DB) ListMeetings(ctx context.Context, userID int64, rel string) iter.Seq2[*ucwad.OnlineMeeting, error] {
	return func(yield func(*ucwad.OnlineMeeting, error) bool) {
		after := meetingKey{created: math.MinInt64}
		for {
			var page []*ucwad.OnlineMeeting
			err := db.inReadTx(ctx, func(tx *readTx) error {
				var err error
				page, after, err = readMeetings(ctx, tx, `m.user_id = ? AND m.rel = `+relSQL(rel)+` AND (m.created_at, m.rowid) > (?, ?)`,
					meetingPage, userID, after.created, after.row)
				return err
			})
			if err != nil {
				yield(nil, fmt.Errorf("sqlite: list meetings: %w", err))
				return
			}
			for _, m := range page {
				if !yield(m, nil) {
					return
				}
			}
			if len(page) < meetingPage {
				return
			}
		}
	}
}

// ListExtensions yields the extensions of the user's meeting, a page at a
// time; see ucwad.MeetingStore.
func (db *DB) ListExtensions(ctx context.Context, userID int64, meetingID string) iter.Seq2[*ucwad.Extension, error] {
	return func(yield func(*ucwad.Extension, error) bool) {
		after := int64(math.MinInt64)
		for {
			var page []*ucwad.Extension
			rows, err := db.query(ctx, `
				SELECT x.seq, x.id, x.type, x.etag, x.created_at, x.updated_at, x.properties
				FROM extensions x
				WHERE x.meeting_id = ? AND x.seq > ? AND EXISTS (SELECT 1 FROM meetings WHERE id = ? AND user_id = ?)
				ORDER BY x.seq LIMIT `+strconv.Itoa(extensionPage), meetingID, after, meetingID, userID)
			if err == nil {
				page, after, err = scanExtensionPage(rows, meetingID, after)
			}
			if err != nil {
				yield(nil, fmt.Errorf("sqlite: list extensions: %w", err))
				return
			}
			for _, x := range page {
				if !yield(x, nil) {
					return
				}
			}
			if len(page) < extensionPage {
				return
			}
		}
	}
}

// scanExtensionPage reads the rows of a ListExtensions page and closes
// them; it returns the seq of the last one (after when there is none).
func scanExtensionPage(rows *sql.Rows, meetingID string, after int64) ([]*ucwad.Extension, int64, error) {
	defer rows.Close()
	var page []*ucwad.Extension
	for rows.Next() {
		x := &ucwad.Extension{MeetingID: meetingID}
		var props string
		var created, updated int64
		if err := rows.Scan(&after, &x.ID, &x.Type, &x.ETag, &created, &updated, &props); err != nil {
			return nil, after, err
		}
		x.CreatedAt, x.UpdatedAt = fromMillis(created), fromMillis(updated)
		if err := unmarshalList(props, &x.Properties); err != nil {
			return nil, after, err
		}
		page = append(page, x)
	}
	return page, after, rows.Err()
}

// setMeeting writes settings s over the meeting if its ETag is ifMatch
// ("" matches any) and returns the meeting as committed, with its
// organizer and its extensions' identities, or nil when nothing matched. A zero
// s.ExpirationTime keeps the stored one. The meeting is built from s and
// the few columns the update returns rather than read back: reading back
// its attendees and leaders would cost more than writing them.
func setMeeting(ctx context.Context, tx *writeTx, userID int64, id string, s *ucwad.MeetingSettings, ifMatch, etag string, now int64) (*ucwad.OnlineMeeting, error) {
	m := &ucwad.OnlineMeeting{ID: id, UserID: userID, MeetingSettings: *s, ETag: etag, UpdatedAt: fromMillis(now)}
	var expires, created int64
	err := tx.QueryRowContext(ctx, `
		UPDATE meetings SET subject = ?, description = ?, access_level = ?, automatic_leader_assignment = ?,
		       entry_exit_announcement = ?, lobby_bypass_for_phone_users = ?, phone_user_admission = ?,
		       attendees = ?, leaders = ?,
		       expiration_time = CASE WHEN ? THEN expiration_time ELSE ? END,
		       etag = ?, updated_at = ?
		WHERE id = ? AND user_id = ? AND (? = '' OR etag = ?)
		RETURNING rel, conference_id, join_base, expiration_time, created_at, `+organizerReturning,
		s.Subject, s.Description, s.AccessLevel, s.AutomaticLeaderAssignment,
		s.EntryExitAnnouncement, s.LobbyBypassForPhoneUsers, s.PhoneUserAdmission,
		marshalList(s.Attendees), marshalList(s.Leaders),
		s.ExpirationTime.IsZero(), millis(s.ExpirationTime),
		etag, now, id, userID, ifMatch, ifMatch).Scan(&m.Rel, &m.ConferenceID, &m.JoinBase, &expires, &created, &m.Organizer.SIP, &m.Organizer.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m.ExpirationTime, m.CreatedAt = fromMillis(expires), fromMillis(created)
	if m.Attendees == nil {
		m.Attendees = []string{}
	}
	if m.Leaders == nil {
		m.Leaders = []string{}
	}
	if m.Extensions, err = extensionIdentities(ctx, tx, id); err != nil {
		return nil, err
	}
	return m, nil
}

// extensionIdentities reads the identities of the meeting's extensions.
func extensionIdentities(ctx context.Context, q querier, meetingID string) ([]*ucwad.Extension, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT x.id, x.type, x.etag, x.created_at, x.updated_at FROM extensions x
		WHERE x.meeting_id = ? ORDER BY x.seq`, meetingID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	xs := []*ucwad.Extension{}
	for rows.Next() {
		x := &ucwad.Extension{MeetingID: meetingID}
		var created, updated int64
		if err := rows.Scan(&x.ID, &x.Type, &x.ETag, &created, &updated); err != nil {
			return nil, err
		}
		x.CreatedAt, x.UpdatedAt = fromMillis(created), fromMillis(updated)
		xs = append(xs, x)
	}
	return xs, rows.Err()
}

// UpdateMeeting replaces the meeting's settings if its ETag matches; see
// ucwad.MeetingStore.
func (db *DB) UpdateMeeting(ctx context.Context, userID int64, id string, s ucwad.MeetingSettings, ifMatch string) (*ucwad.OnlineMeeting, error) {
	now := millis(db.clock.Now())
	etag := ucwad.NewETag()
	var m *ucwad.OnlineMeeting
	var notify []string
	err := db.inWriteTxFor(ctx, userLane(userID), func(tx *writeTx) error {
		var err error
		if m, err = setMeeting(ctx, tx, userID, id, &s, ifMatch, etag, now); err != nil {
			return err
		}
		if m == nil {
			var exists bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM meetings WHERE id = ? AND user_id = ?)`,
				id, userID).Scan(&exists); err != nil {
				return err
			}
			if exists {
				return errStale("online meeting")
			}
			return errMeetingNotFound()
		}
		notify, err = db.appendMeetingEvent(ctx, tx, userID, event(ucwad.EventUpdated, ucwad.MeetingSubject(id), m))
		return err
	})
	if err != nil {
		return nil, wrap("update meeting", err)
	}
	db.notify(notify)
	return m, nil
}

// DeleteMeeting removes a scheduled meeting (its extensions go by the
// foreign key's cascade, in the same statement) or resets the assigned
// one; see ucwad.MeetingStore.
func (db *DB) DeleteMeeting(ctx context.Context, userID int64, id string, reset ucwad.MeetingSettings) error {
	now := millis(db.clock.Now())
	etag := ucwad.NewETag()
	var notify []string
	err := db.inWriteTxFor(ctx, userLane(userID), func(tx *writeTx) error {
		var rel string
		err := tx.QueryRowContext(ctx, `SELECT rel FROM meetings WHERE id = ? AND user_id = ?`, id, userID).Scan(&rel)
		if errors.Is(err, sql.ErrNoRows) || rel == ucwad.MeetingRelAdHoc {
			return errMeetingNotFound()
		}
		if err != nil {
			return err
		}
		if rel != ucwad.MeetingRelAssigned {
			if _, err := tx.ExecContext(ctx, `DELETE FROM meetings WHERE id = ?`, id); err != nil {
				return err
			}
			// Its conversation, if any, ends with it.
			if notify, err = db.endMeetings(ctx, tx, []string{id}); err != nil {
				return err
			}
			apps, err := db.appendMeetingEvent(ctx, tx, userID, event(ucwad.EventDeleted, ucwad.MeetingSubject(id), nil))
			notify = append(notify, apps...)
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM extensions WHERE meeting_id = ?`, id); err != nil {
			return err
		}
		m, err := setMeeting(ctx, tx, userID, id, &reset, "", etag, now)
		if err != nil {
			return err
		}
		notify, err = db.appendMeetingEvent(ctx, tx, userID, event(ucwad.EventUpdated, ucwad.MeetingSubject(id), m))
		return err
	})
	if err != nil {
		return wrap("delete meeting", err)
	}
	db.notify(notify)
	return nil
}

// expiryChunk is how many meetings one expiry transaction deletes: a
// meeting may hold megabytes of extensions, and the sweep must not hold the
// writer for long.
const expiryChunk = 8

// ExpireMeetings removes the scheduled meetings that expired before cutoff;
// see ucwad.MeetingStore. It works in transactions of a few meetings each,
// so that other writes interleave with a large sweep.
func (db *DB) ExpireMeetings(ctx context.Context, cutoff time.Time) (int, error) {
	total := 0
	for {
		n, err := db.expireMeetings(ctx, cutoff)
		total += n
		if err != nil || n < expiryChunk {
			return total, err
		}
	}
}

// expireMeetings removes up to expiryChunk expired meetings in one
// transaction.
func (db *DB) expireMeetings(ctx context.Context, cutoff time.Time) (int, error) {
	type gone struct {
		id     string
		userID int64
	}
	var removed []gone
	var notify []string
	err := db.inWriteTx(ctx, func(tx *writeTx) error {
		// The rel is written out so that the partial index on expiry serves.
		rows, err := tx.QueryContext(ctx, `
			DELETE FROM meetings WHERE rowid IN (
			  SELECT rowid FROM meetings WHERE rel = 'myOnlineMeetings' AND expiration_time < ? LIMIT ?)
			RETURNING id, user_id`, millis(cutoff), expiryChunk)
		if err != nil {
			return err
		}
		for rows.Next() {
			var g gone
			if err := rows.Scan(&g.id, &g.userID); err != nil {
				rows.Close()
				return err
			}
			removed = append(removed, g)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		ids := make([]string, len(removed))
		for i, g := range removed {
			ids[i] = g.id
		}
		// Their conversations, if any, end with them.
		if notify, err = db.endMeetings(ctx, tx, ids); err != nil {
			return err
		}
		for _, g := range removed {
			apps, err := db.appendMeetingEvent(ctx, tx, g.userID, event(ucwad.EventDeleted, ucwad.MeetingSubject(g.id), nil))
			if err != nil {
				return err
			}
			notify = append(notify, apps...)
		}
		return nil
	})
	if err != nil {
		return 0, wrap("expire meetings", err)
	}
	db.notify(notify)
	return len(removed), nil
}

// selectExtension reads one extension of a meeting of a user.
const selectExtension = `
	SELECT x.type, x.properties, x.etag, x.created_at, x.updated_at
	FROM extensions x JOIN meetings m ON m.id = x.meeting_id
	WHERE m.user_id = ? AND x.meeting_id = ? AND x.id = ?`

func scanExtension(row scanner, meetingID, id string) (*ucwad.Extension, error) {
	x := &ucwad.Extension{MeetingID: meetingID, ID: id}
	var props string
	var created, updated int64
	if err := row.Scan(&x.Type, &props, &x.ETag, &created, &updated); err != nil {
		return nil, err
	}
	x.CreatedAt, x.UpdatedAt = fromMillis(created), fromMillis(updated)
	if err := unmarshalList(props, &x.Properties); err != nil {
		return nil, err
	}
	return x, nil
}

// CreateExtension adds x to its meeting; see ucwad.MeetingStore. Times are
// kept to the millisecond and x is updated to the stored values.
func (db *DB) CreateExtension(ctx context.Context, userID int64, x *ucwad.Extension) error {
	now := millis(db.clock.Now())
	stored := &ucwad.Extension{MeetingID: x.MeetingID, ID: x.ID, Type: x.Type, Properties: x.Properties,
		ETag: ucwad.NewETag(), CreatedAt: fromMillis(now), UpdatedAt: fromMillis(now)}
	if stored.ID == "" {
		stored.ID = ucwad.NewID()
	}
	if stored.Properties == nil {
		stored.Properties = []ucwad.ExtensionProperty{}
	}
	id, max := stored.ID, db.maxExtensions
	var notify []string
	err := db.inWriteTxFor(ctx, userLane(userID), func(tx *writeTx) error {
		// One statement checks ownership and the limit and inserts; the
		// unique key decides duplicates.
		n, err := changed(tx.ExecContext(ctx, `
			INSERT INTO extensions (meeting_id, id, type, properties, etag, created_at, updated_at)
			SELECT ?, ?, ?, ?, ?, ?, ?
			WHERE EXISTS (SELECT 1 FROM meetings WHERE id = ? AND user_id = ?)
			  AND (SELECT COUNT(*) FROM extensions WHERE meeting_id = ?) < ?`,
			x.MeetingID, id, stored.Type, marshalList(stored.Properties), stored.ETag, now, now,
			x.MeetingID, userID, x.MeetingID, max))
		if isUnique(err) {
			return ucwad.Errorf(ucwad.EConflict, ucwad.SubAlreadyExists, "The meeting already has an extension with id %q.", id)
		}
		if err != nil {
			return err
		}
		if n == 0 {
			var mine, taken bool
			if err := tx.QueryRowContext(ctx, `
				SELECT EXISTS (SELECT 1 FROM meetings WHERE id = ? AND user_id = ?),
				       EXISTS (SELECT 1 FROM extensions WHERE meeting_id = ? AND id = ?)`,
				x.MeetingID, userID, x.MeetingID, id).Scan(&mine, &taken); err != nil {
				return err
			}
			switch {
			case !mine:
				return errMeetingNotFound()
			case taken:
				return ucwad.Errorf(ucwad.EConflict, ucwad.SubAlreadyExists, "The meeting already has an extension with id %q.", id)
			}
			return ucwad.Errorf(ucwad.EConflict, ucwad.SubLimitExceeded, "The meeting already has the maximum of %d extensions.", max)
		}
		notify, err = db.appendMeetingEvent(ctx, tx, userID, event(ucwad.EventAdded, ucwad.ExtensionSubject(x.MeetingID, id), stored))
		return err
	})
	if err != nil {
		return wrap("create extension", err)
	}
	*x = *stored
	db.notify(notify)
	return nil
}

// FindExtension returns one extension; see ucwad.MeetingStore.
func (db *DB) FindExtension(ctx context.Context, userID int64, meetingID, id string) (*ucwad.Extension, error) {
	x, err := scanExtension(db.queryRow(ctx, selectExtension, userID, meetingID, id), meetingID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errExtensionNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: find extension: %w", err)
	}
	return x, nil
}

// UpdateExtension replaces the extension's type and properties if its ETag
// matches; see ucwad.MeetingStore.
func (db *DB) UpdateExtension(ctx context.Context, userID int64, x *ucwad.Extension, ifMatch string) error {
	now := millis(db.clock.Now())
	stored := &ucwad.Extension{MeetingID: x.MeetingID, ID: x.ID, Type: x.Type, Properties: x.Properties,
		ETag: ucwad.NewETag(), UpdatedAt: fromMillis(now)}
	if stored.Properties == nil {
		stored.Properties = []ucwad.ExtensionProperty{}
	}
	var notify []string
	err := db.inWriteTxFor(ctx, userLane(userID), func(tx *writeTx) error {
		var created int64
		err := tx.QueryRowContext(ctx, `
			UPDATE extensions SET type = ?, properties = ?, etag = ?, updated_at = ?
			WHERE meeting_id = ? AND id = ? AND (? = '' OR etag = ?)
			  AND EXISTS (SELECT 1 FROM meetings WHERE id = ? AND user_id = ?)
			RETURNING created_at`,
			stored.Type, marshalList(stored.Properties), stored.ETag, now,
			x.MeetingID, x.ID, ifMatch, ifMatch, x.MeetingID, userID).Scan(&created)
		if errors.Is(err, sql.ErrNoRows) {
			var exists bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (`+selectExtension+`)`, userID, x.MeetingID, x.ID).Scan(&exists); err != nil {
				return err
			}
			if exists {
				return errStale("online meeting extension")
			}
			return errExtensionNotFound()
		}
		if err != nil {
			return err
		}
		stored.CreatedAt = fromMillis(created)
		notify, err = db.appendMeetingEvent(ctx, tx, userID, event(ucwad.EventUpdated, ucwad.ExtensionSubject(x.MeetingID, x.ID), stored))
		return err
	})
	if err != nil {
		return wrap("update extension", err)
	}
	*x = *stored
	db.notify(notify)
	return nil
}

// DeleteExtension removes one extension; see ucwad.MeetingStore.
func (db *DB) DeleteExtension(ctx context.Context, userID int64, meetingID, id string) error {
	var notify []string
	err := db.inWriteTxFor(ctx, userLane(userID), func(tx *writeTx) error {
		n, err := changed(tx.ExecContext(ctx, `
			DELETE FROM extensions WHERE meeting_id = ? AND id = ?
			  AND EXISTS (SELECT 1 FROM meetings WHERE id = ? AND user_id = ?)`,
			meetingID, id, meetingID, userID))
		if err != nil {
			return err
		}
		if n == 0 {
			return errExtensionNotFound()
		}
		notify, err = db.appendMeetingEvent(ctx, tx, userID, event(ucwad.EventDeleted, ucwad.ExtensionSubject(meetingID, id), nil))
		return err
	})
	if err != nil {
		return wrap("delete extension", err)
	}
	db.notify(notify)
	return nil
}
