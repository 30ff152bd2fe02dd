package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
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

// selectMeetings reads meetings LEFT JOINed with their extensions: one row
// per extension, or one row with NULL extension columns. The caller appends
// the condition and meetingOrder.
const selectMeetings = `
	SELECT m.id, m.user_id, m.rel, m.conference_id, m.subject, m.description, m.access_level,
	       m.automatic_leader_assignment, m.entry_exit_announcement, m.lobby_bypass_for_phone_users,
	       m.phone_user_admission, m.attendees, m.leaders, m.expiration_time, m.etag, m.created_at, m.updated_at,
	       x.id, x.type, x.properties, x.etag, x.created_at, x.updated_at
	FROM meetings m LEFT JOIN extensions x ON x.meeting_id = m.id
	WHERE `

// meetingOrder lists meetings in creation order and each one's extensions
// in insertion order, which scanMeetings relies on to group them.
const meetingOrder = ` ORDER BY m.created_at, m.rowid, x.seq`

// scanMeetings groups the rows of selectMeetings into meetings and closes
// rows. One statement reads a meeting and its extensions, so they are
// always from the same snapshot.
func scanMeetings(rows *sql.Rows, err error) ([]*ucwad.OnlineMeeting, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ms := []*ucwad.OnlineMeeting{}
	for rows.Next() {
		var m ucwad.OnlineMeeting
		var attendees, leaders string
		var expires, created, updated int64
		var xID, xType, xProps, xETag sql.Null[string]
		var xCreated, xUpdated sql.Null[int64]
		if err := rows.Scan(&m.ID, &m.UserID, &m.Rel, &m.ConferenceID, &m.Subject, &m.Description, &m.AccessLevel,
			&m.AutomaticLeaderAssignment, &m.EntryExitAnnouncement, &m.LobbyBypassForPhoneUsers,
			&m.PhoneUserAdmission, &attendees, &leaders, &expires, &m.ETag, &created, &updated,
			&xID, &xType, &xProps, &xETag, &xCreated, &xUpdated); err != nil {
			return nil, err
		}
		cur := &m
		if n := len(ms); n > 0 && ms[n-1].ID == m.ID {
			cur = ms[n-1]
		} else {
			if err := unmarshalList(attendees, &m.Attendees); err != nil {
				return nil, err
			}
			if err := unmarshalList(leaders, &m.Leaders); err != nil {
				return nil, err
			}
			m.ExpirationTime, m.CreatedAt, m.UpdatedAt = fromMillis(expires), fromMillis(created), fromMillis(updated)
			m.Extensions = []*ucwad.Extension{}
			ms = append(ms, &m)
		}
		if !xID.Valid {
			continue
		}
		x := &ucwad.Extension{MeetingID: cur.ID, ID: xID.V, Type: xType.V, ETag: xETag.V,
			CreatedAt: fromMillis(xCreated.V), UpdatedAt: fromMillis(xUpdated.V)}
		if err := unmarshalList(xProps.V, &x.Properties); err != nil {
			return nil, err
		}
		cur.Extensions = append(cur.Extensions, x)
	}
	return ms, rows.Err()
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

// loadMeeting reads one meeting of the user inside tx.
func loadMeeting(ctx context.Context, tx *writeTx, userID int64, id string) (*ucwad.OnlineMeeting, error) {
	ms, err := scanMeetings(tx.QueryContext(ctx, selectMeetings+`m.user_id = ? AND m.id = ?`+meetingOrder, userID, id))
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, errMeetingNotFound()
	}
	return ms[0], nil
}

// event builds the event for a change, with v as its data.
func event(typ ucwad.EventType, subject, meetingID, extensionID string, v any) ucwad.Event {
	e := ucwad.Event{Type: typ, Subject: subject, MeetingID: meetingID, ExtensionID: extensionID}
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			panic("sqlite: marshalling event data: " + err.Error()) // plain structs cannot fail
		}
		e.Data = b
	}
	return e
}

// appendUserEvent appends e for every application of the user.
func (db *DB) appendUserEvent(ctx context.Context, tx *writeTx, userID int64, e ucwad.Event) ([]string, error) {
	return db.appendEvent(ctx, tx, "a.user_id = ?", userID, e)
}

// maxIDDraws bounds how often a new meeting draws fresh random ids after a
// collision; with 50-bit ids and 8-digit conference ids a second draw is
// already rare.
const maxIDDraws = 10

// insertMeeting inserts a meeting of the user under fresh random ids,
// drawing again on a collision, and returns it as stored. It returns nil
// without error when the user's existing assigned meeting prevented the
// insert, and EConflict (TooManyOnlineMeetings) when the user has max
// meetings of rel already (max <= 0: no limit).
func insertMeeting(ctx context.Context, tx *writeTx, userID int64, rel string, s *ucwad.MeetingSettings, max int, etag string, now int64) (*ucwad.OnlineMeeting, error) {
	m := &ucwad.OnlineMeeting{UserID: userID, Rel: rel, MeetingSettings: *s, ETag: etag,
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
		// One statement checks the limit and inserts: the common case
		// costs a single round through the engine.
		n, err := changed(tx.ExecContext(ctx, `
			INSERT INTO meetings (id, user_id, rel, conference_id, subject, description, access_level,
			                      automatic_leader_assignment, entry_exit_announcement, lobby_bypass_for_phone_users,
			                      phone_user_admission, attendees, leaders, expiration_time, etag, created_at, updated_at)
			SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
			WHERE ? <= 0 OR (SELECT COUNT(*) FROM meetings WHERE user_id = ? AND rel = ?) < ?
			ON CONFLICT DO NOTHING`,
			m.ID, userID, rel, m.ConferenceID, s.Subject, s.Description, s.AccessLevel,
			s.AutomaticLeaderAssignment, s.EntryExitAnnouncement, s.LobbyBypassForPhoneUsers,
			s.PhoneUserAdmission, attendees, leaders, millis(s.ExpirationTime), etag, now, now,
			max, userID, rel, max))
		if isForeignKey(err) {
			return nil, errUserNotFound()
		}
		if err != nil {
			return nil, err
		}
		if n == 1 {
			return m, nil
		}
		// Nothing inserted: the limit, the assigned meeting that exists,
		// or (rarely) an id drawn twice.
		if max > 0 {
			var count int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM meetings WHERE user_id = ? AND rel = ?`,
				userID, rel).Scan(&count); err != nil {
				return nil, err
			}
			if count >= max {
				return nil, ucwad.Errorf(ucwad.EConflict, ucwad.SubTooManyOnlineMeetings,
					"You already have the maximum of %d online meetings; delete one first.", max)
			}
		}
		if rel == ucwad.MeetingRelAssigned {
			var exists bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM meetings WHERE user_id = ? AND rel = ?)`,
				userID, rel).Scan(&exists); err != nil || exists {
				return nil, err
			}
		}
	}
	return nil, fmt.Errorf("no free meeting id after %d draws", maxIDDraws)
}

// CreateMeeting schedules m; see ucwad.MeetingStore. Times are kept to the
// millisecond and m is updated to the stored values.
func (db *DB) CreateMeeting(ctx context.Context, m *ucwad.OnlineMeeting, max int) error {
	now := millis(db.clock.Now())
	etag := ucwad.NewETag()
	var created *ucwad.OnlineMeeting
	var notify []string
	err := db.inWriteTx(ctx, func(tx *writeTx) error {
		var err error
		created, err = insertMeeting(ctx, tx, m.UserID, ucwad.MeetingRelScheduled, &m.MeetingSettings, max, etag, now)
		if err != nil {
			return err
		}
		notify, err = db.appendUserEvent(ctx, tx, m.UserID, event(ucwad.EventAdded, ucwad.SubjectMeeting, created.ID, "", created))
		return err
	})
	if err != nil {
		return wrap("create meeting", err)
	}
	*m = *created
	db.notify(notify)
	return nil
}

// AssignedMeeting returns the user's assigned meeting, creating it with
// settings s the first time; see ucwad.MeetingStore.
func (db *DB) AssignedMeeting(ctx context.Context, userID int64, s ucwad.MeetingSettings) (*ucwad.OnlineMeeting, error) {
	ms, err := scanMeetings(db.query(ctx, selectMeetings+`m.user_id = ? AND m.rel = ?`+meetingOrder, userID, ucwad.MeetingRelAssigned))
	if err != nil {
		return nil, fmt.Errorf("sqlite: assigned meeting: %w", err)
	}
	if len(ms) > 0 {
		return ms[0], nil
	}
	now := millis(db.clock.Now())
	etag := ucwad.NewETag()
	var m *ucwad.OnlineMeeting
	err = db.inWriteTx(ctx, func(tx *writeTx) error {
		var err error
		if m, err = insertMeeting(ctx, tx, userID, ucwad.MeetingRelAssigned, &s, 0, etag, now); err != nil || m != nil {
			return err
		}
		// Another request created it since we looked.
		ms, err := scanMeetings(tx.QueryContext(ctx, selectMeetings+`m.user_id = ? AND m.rel = ?`+meetingOrder, userID, ucwad.MeetingRelAssigned))
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

// FindMeeting returns the meeting with its extensions; see ucwad.MeetingStore.
func (db *DB) FindMeeting(ctx context.Context, userID int64, id string) (*ucwad.OnlineMeeting, error) {
	ms, err := scanMeetings(db.query(ctx, selectMeetings+`m.user_id = ? AND m.id = ?`+meetingOrder, userID, id))
	if err != nil {
		return nil, fmt.Errorf("sqlite: find meeting: %w", err)
	}
	if len(ms) == 0 {
		return nil, errMeetingNotFound()
	}
	return ms[0], nil
}

// ListMeetings returns every meeting of the user; see ucwad.MeetingStore.
func (db *DB) ListMeetings(ctx context.Context, userID int64) ([]*ucwad.OnlineMeeting, error) {
	ms, err := scanMeetings(db.query(ctx, selectMeetings+`m.user_id = ?`+meetingOrder, userID))
	if err != nil {
		return nil, fmt.Errorf("sqlite: list meetings: %w", err)
	}
	return ms, nil
}

// setMeeting writes settings s over the meeting if its ETag is ifMatch
// ("" matches any) and reports whether it did. A zero s.ExpirationTime
// keeps the stored one.
func setMeeting(ctx context.Context, tx *writeTx, userID int64, id string, s *ucwad.MeetingSettings, ifMatch, etag string, now int64) (bool, error) {
	n, err := changed(tx.ExecContext(ctx, `
		UPDATE meetings SET subject = ?, description = ?, access_level = ?, automatic_leader_assignment = ?,
		       entry_exit_announcement = ?, lobby_bypass_for_phone_users = ?, phone_user_admission = ?,
		       attendees = ?, leaders = ?,
		       expiration_time = CASE WHEN ? THEN expiration_time ELSE ? END,
		       etag = ?, updated_at = ?
		WHERE id = ? AND user_id = ? AND (? = '' OR etag = ?)`,
		s.Subject, s.Description, s.AccessLevel, s.AutomaticLeaderAssignment,
		s.EntryExitAnnouncement, s.LobbyBypassForPhoneUsers, s.PhoneUserAdmission,
		marshalList(s.Attendees), marshalList(s.Leaders),
		s.ExpirationTime.IsZero(), millis(s.ExpirationTime),
		etag, now, id, userID, ifMatch, ifMatch))
	return n == 1, err
}

// UpdateMeeting replaces the meeting's settings if its ETag matches; see
// ucwad.MeetingStore.
func (db *DB) UpdateMeeting(ctx context.Context, userID int64, id string, s ucwad.MeetingSettings, ifMatch string) (*ucwad.OnlineMeeting, error) {
	now := millis(db.clock.Now())
	etag := ucwad.NewETag()
	var m *ucwad.OnlineMeeting
	var notify []string
	err := db.inWriteTx(ctx, func(tx *writeTx) error {
		ok, err := setMeeting(ctx, tx, userID, id, &s, ifMatch, etag, now)
		if err != nil {
			return err
		}
		if !ok {
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
		if m, err = loadMeeting(ctx, tx, userID, id); err != nil {
			return err
		}
		notify, err = db.appendUserEvent(ctx, tx, userID, event(ucwad.EventUpdated, ucwad.SubjectMeeting, id, "", m))
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
	err := db.inWriteTx(ctx, func(tx *writeTx) error {
		var rel string
		err := tx.QueryRowContext(ctx, `SELECT rel FROM meetings WHERE id = ? AND user_id = ?`, id, userID).Scan(&rel)
		if errors.Is(err, sql.ErrNoRows) {
			return errMeetingNotFound()
		}
		if err != nil {
			return err
		}
		if rel != ucwad.MeetingRelAssigned {
			if _, err := tx.ExecContext(ctx, `DELETE FROM meetings WHERE id = ?`, id); err != nil {
				return err
			}
			notify, err = db.appendUserEvent(ctx, tx, userID, event(ucwad.EventDeleted, ucwad.SubjectMeeting, id, "", nil))
			return err
		}
		if _, err := setMeeting(ctx, tx, userID, id, &reset, "", etag, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM extensions WHERE meeting_id = ?`, id); err != nil {
			return err
		}
		m, err := loadMeeting(ctx, tx, userID, id)
		if err != nil {
			return err
		}
		notify, err = db.appendUserEvent(ctx, tx, userID, event(ucwad.EventUpdated, ucwad.SubjectMeeting, id, "", m))
		return err
	})
	if err != nil {
		return wrap("delete meeting", err)
	}
	db.notify(notify)
	return nil
}

// ExpireMeetings removes the scheduled meetings that expired before cutoff;
// see ucwad.MeetingStore.
func (db *DB) ExpireMeetings(ctx context.Context, cutoff time.Time) (int, error) {
	type gone struct {
		id     string
		userID int64
	}
	var removed []gone
	var notify []string
	err := db.inWriteTx(ctx, func(tx *writeTx) error {
		rows, err := tx.QueryContext(ctx, `
			DELETE FROM meetings WHERE rel = ? AND expiration_time < ?
			RETURNING id, user_id`, ucwad.MeetingRelScheduled, millis(cutoff))
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
		for _, g := range removed {
			apps, err := db.appendUserEvent(ctx, tx, g.userID, event(ucwad.EventDeleted, ucwad.SubjectMeeting, g.id, "", nil))
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
func (db *DB) CreateExtension(ctx context.Context, userID int64, x *ucwad.Extension, max int) error {
	now := millis(db.clock.Now())
	stored := &ucwad.Extension{MeetingID: x.MeetingID, ID: x.ID, Type: x.Type, Properties: x.Properties,
		ETag: ucwad.NewETag(), CreatedAt: fromMillis(now), UpdatedAt: fromMillis(now)}
	if stored.ID == "" {
		stored.ID = ucwad.NewID()
	}
	if stored.Properties == nil {
		stored.Properties = []ucwad.ExtensionProperty{}
	}
	id := stored.ID
	var notify []string
	err := db.inWriteTx(ctx, func(tx *writeTx) error {
		// One statement checks ownership and the limit and inserts; the
		// unique key decides duplicates.
		n, err := changed(tx.ExecContext(ctx, `
			INSERT INTO extensions (meeting_id, id, type, properties, etag, created_at, updated_at)
			SELECT ?, ?, ?, ?, ?, ?, ?
			WHERE EXISTS (SELECT 1 FROM meetings WHERE id = ? AND user_id = ?)
			  AND (? <= 0 OR (SELECT COUNT(*) FROM extensions WHERE meeting_id = ?) < ?)`,
			x.MeetingID, id, stored.Type, marshalList(stored.Properties), stored.ETag, now, now,
			x.MeetingID, userID, max, x.MeetingID, max))
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
		notify, err = db.appendUserEvent(ctx, tx, userID, event(ucwad.EventAdded, ucwad.SubjectExtension, x.MeetingID, id, stored))
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
	err := db.inWriteTx(ctx, func(tx *writeTx) error {
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
		notify, err = db.appendUserEvent(ctx, tx, userID, event(ucwad.EventUpdated, ucwad.SubjectExtension, x.MeetingID, x.ID, stored))
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
	err := db.inWriteTx(ctx, func(tx *writeTx) error {
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
		notify, err = db.appendUserEvent(ctx, tx, userID, event(ucwad.EventDeleted, ucwad.SubjectExtension, meetingID, id, nil))
		return err
	})
	if err != nil {
		return wrap("delete extension", err)
	}
	db.notify(notify)
	return nil
}
