package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ucwad/ucwad"
)

// The conversation store keeps each meeting's live conversation, its
// participants and the invitations of the joins (migration 9). Every change
// reads the conversation's whole roster (at most the meeting and lobby
// bounds), decides with the domain's rules, writes, and appends the
// deliveries the domain names for it, all in one write transaction.

func errConversationNotFound() error {
	return ucwad.Errorf(ucwad.ENotFound, ucwad.SubResourceNotFound, "There is no such conversation.")
}

func errParticipantNotFound() error {
	return ucwad.Errorf(ucwad.ENotFound, ucwad.SubResourceNotFound, "There is no such participant in this conversation.")
}

func errInvitationNotFound() error {
	return ucwad.Errorf(ucwad.ENotFound, ucwad.SubResourceNotFound, "There is no such online meeting invitation.")
}

func errDestinationNotFound() error {
	return ucwad.Errorf(ucwad.ENotFound, ucwad.SubDestinationNotFound, "There is no such online meeting, or it has expired.")
}

// txQuerier runs queries in a transaction: a *writeTx or a *readTx.
type txQuerier interface {
	querier
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const participantColumns = `id, conversation_id, application_id, user_id, name, uri, role, in_lobby,
	organizer, anonymous, invitation_id, joined_at, lobby_deadline`

func scanParticipant(row scanner) (*ucwad.Participant, error) {
	var p ucwad.Participant
	var joined, deadline int64
	if err := row.Scan(&p.ID, &p.ConversationID, &p.ApplicationID, &p.UserID, &p.Name, &p.URI, &p.Role, &p.InLobby,
		&p.Organizer, &p.Anonymous, &p.InvitationID, &joined, &deadline); err != nil {
		return nil, err
	}
	p.JoinedAt = fromMillis(joined)
	if deadline != 0 {
		p.LobbyDeadline = fromMillis(deadline)
	}
	return &p, nil
}

const invitationColumns = `id, application_id, user_id, meeting_id, conversation_id, participant_id,
	online_meeting_uri, operation_id, subject, importance, thread_id, anonymous_display_name,
	state, reason, created_at, updated_at`

func scanInvitation(row scanner) (*ucwad.Invitation, error) {
	var inv ucwad.Invitation
	var created, updated int64
	if err := row.Scan(&inv.ID, &inv.ApplicationID, &inv.UserID, &inv.MeetingID, &inv.ConversationID, &inv.ParticipantID,
		&inv.OnlineMeetingURI, &inv.OperationID, &inv.Subject, &inv.Importance, &inv.ThreadID, &inv.AnonymousDisplayName,
		&inv.State, &inv.Reason, &created, &updated); err != nil {
		return nil, err
	}
	inv.CreatedAt, inv.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &inv, nil
}

const conversationColumns = `id, meeting_id, thread_id, subject, created_at`

func scanConversation(row scanner) (*ucwad.Conversation, error) {
	var c ucwad.Conversation
	var created int64
	if err := row.Scan(&c.ID, &c.MeetingID, &c.ThreadID, &c.Subject, &created); err != nil {
		return nil, err
	}
	c.CreatedAt = fromMillis(created)
	return &c, nil
}

// loadConversation reads the conversation whose column col is v, or nil.
func loadConversation(ctx context.Context, q txQuerier, col, v string) (*ucwad.Conversation, error) {
	c, err := scanConversation(q.QueryRowContext(ctx, `SELECT `+conversationColumns+` FROM conversations WHERE `+col+` = ?`, v))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return c, err
}

// loadRoster reads the participants of a conversation in arrival order.
func loadRoster(ctx context.Context, q querier, conversationID string) ([]*ucwad.Participant, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+participantColumns+` FROM participants WHERE conversation_id = ? ORDER BY seq`, conversationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*ucwad.Participant
	for rows.Next() {
		p, err := scanParticipant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// loadInvitation reads an invitation by id, or nil.
func loadInvitation(ctx context.Context, q txQuerier, id string) (*ucwad.Invitation, error) {
	inv, err := scanInvitation(q.QueryRowContext(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return inv, err
}

// session is one conversation as a change sees it: the conversation, its
// roster and the caller's participant in it.
type session struct {
	conv   *ucwad.Conversation
	roster []*ucwad.Participant
	self   *ucwad.Participant
}

// loadSession reads the conversation, its roster and appID's participant,
// failing with ENotFound when appID is not in it.
func loadSession(ctx context.Context, q txQuerier, appID, conversationID string) (*session, error) {
	c, err := loadConversation(ctx, q, "id", conversationID)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errConversationNotFound()
	}
	roster, err := loadRoster(ctx, q, c.ID)
	if err != nil {
		return nil, err
	}
	s := &session{conv: c, roster: roster}
	for _, p := range roster {
		if p.ApplicationID == appID {
			s.self = p
		}
	}
	if s.self == nil {
		return nil, errConversationNotFound()
	}
	return s, nil
}

// view builds the view of the session's caller.
func (s *session) view(ctx context.Context, q txQuerier) (*ucwad.ConversationView, error) {
	inv, err := invitationOf(ctx, q, s.self)
	if err != nil {
		return nil, err
	}
	return ucwad.ViewOf(s.conv, s.self, inv, s.roster), nil
}

// invitationOf reads the invitation of p. A participant's invitation is
// never dropped while the participant is there; should it be missing
// anyway, p's view still works with a bare one.
func invitationOf(ctx context.Context, q txQuerier, p *ucwad.Participant) (*ucwad.Invitation, error) {
	inv, err := loadInvitation(ctx, q, p.InvitationID)
	if err != nil || inv != nil {
		return inv, err
	}
	return &ucwad.Invitation{ID: p.InvitationID, ApplicationID: p.ApplicationID, UserID: p.UserID,
		ConversationID: p.ConversationID, ParticipantID: p.ID, State: ucwad.InvitationConnecting}, nil
}

func counts(roster []*ucwad.Participant) (admitted, waiting int) {
	for _, p := range roster {
		if p.InLobby {
			waiting++
		} else {
			admitted++
		}
	}
	return admitted, waiting
}

func without(roster []*ucwad.Participant, p *ucwad.Participant) []*ucwad.Participant {
	out := make([]*ucwad.Participant, 0, len(roster))
	for _, q := range roster {
		if q.ID != p.ID {
			out = append(out, q)
		}
	}
	return out
}

func deadlineMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return millis(t)
}

func insertParticipant(ctx context.Context, tx *writeTx, p *ucwad.Participant) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO participants (`+participantColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.ConversationID, p.ApplicationID, p.UserID, p.Name, p.URI, p.Role, p.InLobby,
		p.Organizer, p.Anonymous, p.InvitationID, millis(p.JoinedAt), deadlineMillis(p.LobbyDeadline))
	return err
}

// saveParticipant writes what changes of a participant: its role and
// whether it waits.
func saveParticipant(ctx context.Context, tx *writeTx, p *ucwad.Participant) error {
	_, err := tx.ExecContext(ctx, `UPDATE participants SET role = ?, in_lobby = ?, lobby_deadline = ? WHERE id = ?`,
		p.Role, p.InLobby, deadlineMillis(p.LobbyDeadline), p.ID)
	return err
}

func insertInvitation(ctx context.Context, tx *writeTx, inv *ucwad.Invitation) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO invitations (`+invitationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		inv.ID, inv.ApplicationID, inv.UserID, inv.MeetingID, inv.ConversationID, inv.ParticipantID,
		inv.OnlineMeetingURI, inv.OperationID, inv.Subject, inv.Importance, inv.ThreadID, inv.AnonymousDisplayName,
		inv.State, inv.Reason, millis(inv.CreatedAt), millis(inv.UpdatedAt))
	if err != nil || inv.State != ucwad.InvitationFailed {
		return err
	}
	return trimInvitations(ctx, tx, inv.ApplicationID)
}

// finishInvitation records that inv completed (Connected, or Failed with
// its reason) at now.
func finishInvitation(ctx context.Context, tx *writeTx, inv *ucwad.Invitation, now time.Time) error {
	inv.UpdatedAt = now
	_, err := tx.ExecContext(ctx, `UPDATE invitations SET state = ?, reason = ?, updated_at = ? WHERE id = ?`,
		inv.State, inv.Reason, millis(now), inv.ID)
	if err != nil || inv.State != ucwad.InvitationFailed {
		return err
	}
	return trimInvitations(ctx, tx, inv.ApplicationID)
}

// trimInvitations keeps the application's newest failed invitations only.
func trimInvitations(ctx context.Context, tx *writeTx, appID string) error {
	_, err := tx.ExecContext(ctx, `
		DELETE FROM invitations WHERE seq IN (
		  SELECT seq FROM invitations WHERE application_id = ? AND state = ? ORDER BY seq DESC OFFSET ?)`,
		appID, ucwad.InvitationFailed, ucwad.MaxFinishedInvitations)
	return err
}

// deliver appends the events of a change, in order, each for its audience
// (as appendEvent does one: the body stored once, one entry in the log of
// each user it names, the same accounting and bounds), and returns the
// applications to notify after commit. Recipients that are gone get
// nothing. It writes in a few multi-row statements, bodies and entries
// deliverChunk at a time, so that a change that tells a meeting of 250
// costs a few dozen statements, not thousands.
func (db *DB) deliver(ctx context.Context, tx *writeTx, ds []ucwad.Delivery) ([]string, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	// Who is there: the applications named, and those of users named whole.
	var appIDs []string
	var userIDs []int64
	for _, d := range ds {
		for _, r := range d.To {
			if r.ApplicationID != "" {
				appIDs = append(appIDs, r.ApplicationID)
			} else {
				userIDs = append(userIDs, r.UserID)
			}
		}
	}
	if userIDs == nil {
		userIDs = []int64{} // JSON [], not null
	}
	users, err := json.Marshal(userIDs)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT id, user_id FROM applications WHERE id IN (SELECT value FROM json_array_elements_text(?1::json))
		   OR user_id IN (SELECT value::bigint FROM json_array_elements_text(?2::json)) ORDER BY id`, marshalList(appIDs), string(users))
	if err != nil {
		return nil, err
	}
	appUser := map[string]int64{}    // each live application's user
	userApps := map[int64][]string{} // each user's live applications
	for rows.Next() {
		var id string
		var user int64
		if err := rows.Scan(&id, &user); err != nil {
			rows.Close()
			return nil, err
		}
		appUser[id] = user
		userApps[user] = append(userApps[user], id)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}

	type entry struct {
		user int64
		app  any // NULL: every application of the user
		size int64
		body int64
	}
	var bodies []any // the bodies' columns, in insertion order
	var entries []entry
	// Bodies are numbered 1, 2, … here, and given ids from the table's
	// sequence once their number is known.
	var nextBody int64
	now := millis(db.clock.Now())
	var notify []string
	notified := map[string]bool{}
	tell := func(ids ...string) {
		for _, id := range ids {
			if !notified[id] {
				notified[id] = true
				notify = append(notify, id)
			}
		}
	}
	type totals struct {
		User  int64 `json:"u"`
		Bytes int64 `json:"b"`
		Count int64 `json:"n"`
	}
	byUser := map[int64]*totals{}
	var sums []*totals
	for _, d := range ds {
		e := d.Event
		size := int64(len(e.Data) + len(e.Subject.Key) + eventOverhead)
		n := 0
		for _, r := range recipients(d.To) {
			var app any
			if r.ApplicationID == "" {
				if len(userApps[r.UserID]) == 0 {
					continue
				}
				tell(userApps[r.UserID]...)
			} else {
				if user, ok := appUser[r.ApplicationID]; !ok || user != r.UserID {
					continue
				}
				app = r.ApplicationID
				tell(r.ApplicationID)
			}
			if n == 0 {
				nextBody++
			}
			n++
			entries = append(entries, entry{user: r.UserID, app: app, size: size, body: nextBody})
			t := byUser[r.UserID]
			if t == nil {
				t = &totals{User: r.UserID}
				byUser[r.UserID] = t
				sums = append(sums, t)
			}
			t.Bytes, t.Count = t.Bytes+size, t.Count+1
		}
		if n > 0 {
			bodies = append(bodies, nextBody, db.origin, string(e.Type), string(e.Subject.Kind), e.Subject.Key, n, now, e.Data)
		}
	}
	if len(entries) == 0 {
		return nil, nil
	}
	const bodyColumns = 8
	ids, err := queryInts(ctx, tx, `SELECT nextval(pg_get_serial_sequence('event_bodies', 'id')) FROM generate_series(1, ?::bigint)`, nextBody)
	if err != nil {
		return nil, err
	}
	for i := 0; i < len(bodies); i += bodyColumns {
		bodies[i] = ids[bodies[i].(int64)-1]
	}
	for i := range entries {
		entries[i].body = ids[entries[i].body-1]
	}
	for i := 0; i < len(bodies); i += deliverChunk * bodyColumns {
		chunk := bodies[i:min(len(bodies), i+deliverChunk*bodyColumns)]
		if _, err := tx.ExecContext(ctx, multiInsert(`INSERT INTO event_bodies (id, origin, type, subject_kind, subject_key, refs, created_at, data) VALUES `,
			len(chunk)/bodyColumns, bodyColumns, ""), chunk...); err != nil {
			return nil, err
		}
	}
	// Entries in order: each log receives its events in the change's order.
	last := map[int64]int64{} // each user's last new entry
	args := make([]any, 0, deliverChunk*4)
	for i := 0; i < len(entries); i += deliverChunk {
		chunk := entries[i:min(len(entries), i+deliverChunk)]
		args = args[:0]
		for _, e := range chunk {
			args = append(args, e.user, e.app, e.size, e.body)
		}
		rows, err := tx.QueryContext(ctx, multiInsert(`INSERT INTO events (user_id, application_id, size, body) VALUES `,
			len(chunk), 4, ` RETURNING seq, user_id`), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var seq, user int64
			if err := rows.Scan(&seq, &user); err != nil {
				rows.Close()
				return nil, err
			}
			last[user] = max(last[user], seq)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	b, err := json.Marshal(sums)
	if err != nil {
		return nil, err
	}
	res, err := tx.QueryContext(ctx, `
		UPDATE users SET event_bytes = event_bytes + (x.value->>'b')::bigint, event_count = event_count + (x.value->>'n')::bigint
		FROM json_array_elements(?::json) x (value) WHERE users.id = (x.value->>'u')::bigint
		RETURNING users.id, users.event_bytes, users.event_count`, string(b))
	if err != nil {
		return nil, err
	}
	type over struct{ user, bytes, count int64 }
	var trim []over
	for res.Next() {
		var o over
		if err := res.Scan(&o.user, &o.bytes, &o.count); err != nil {
			res.Close()
			return nil, err
		}
		if o.bytes > db.maxUserEventBytes || o.count > int64(db.maxEvents) {
			trim = append(trim, o)
		}
	}
	if err := res.Close(); err != nil {
		return nil, err
	}
	// A log over its bounds loses its oldest events, as with appendEvent;
	// those of this change may go too, but never its user's last one.
	for _, o := range trim {
		if err := db.trimLog(ctx, tx, o.user, o.bytes-db.maxUserEventBytes, o.count-int64(db.maxEvents), last[o.user]); err != nil {
			return nil, err
		}
	}
	tx.tell(notify...)
	tx.events += int64(len(entries))
	return notify, nil
}

// deliverChunk is how many rows one statement of deliver inserts: every
// statement of that shape is prepared once, and at most 8 parameters a row
// keep it far below PostgreSQL's limit on parameters (65,535).
const deliverChunk = 64

// multiInsert is the statement insert, n rows of cols parameters, then
// tail.
func multiInsert(insert string, n, cols int, tail string) string {
	row := "(?" + strings.Repeat(", ?", cols-1) + ")"
	var b strings.Builder
	b.WriteString(insert)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	b.WriteString(tail)
	return b.String()
}

// now is the store's time, to the millisecond it keeps.
func (db *DB) now() time.Time { return fromMillis(millis(db.clock.Now())) }

// JoinMeeting joins an application to a meeting; see ucwad.ConversationStore.
func (db *DB) JoinMeeting(ctx context.Context, r *ucwad.JoinRequest) (*ucwad.Invitation, error) {
	now := db.now()
	var inv *ucwad.Invitation
	var notify []string
	err := db.inWriteTxFor(ctx, userLane(r.UserID), func(tx *writeTx) error {
		ms, _, err := readMeetings(ctx, tx, `m.id = ? AND m.expiration_time >= ?`, 1, r.MeetingID, millis(now))
		if err != nil {
			return err
		}
		if len(ms) == 0 {
			return errDestinationNotFound()
		}
		if r.OrganizerSIP != "" && !ucwad.SameOrganizer(r.OrganizerSIP, ms[0].Organizer.SIP) {
			return errDestinationNotFound()
		}
		if inv, notify, err = db.join(ctx, tx, r, ms[0], now); err != nil || !r.Anonymous {
			return err
		}
		// A guest is named by what it joins with: its me shows that name.
		_, err = tx.ExecContext(ctx, `UPDATE users SET name = ? WHERE id = ? AND anonymous`, r.Name, r.UserID)
		return err
	})
	if err != nil {
		return nil, wrap("join meeting", err)
	}
	db.notify(notify)
	return inv, nil
}

// StartMeeting creates an ad hoc meeting and joins it; see
// ucwad.ConversationStore.
func (db *DB) StartMeeting(ctx context.Context, r *ucwad.JoinRequest, s ucwad.MeetingSettings) (*ucwad.Invitation, error) {
	now := db.now()
	etag := ucwad.NewETag()
	var inv *ucwad.Invitation
	var notify []string
	err := db.inWriteTxFor(ctx, userLane(r.UserID), func(tx *writeTx) error {
		m, err := insertMeeting(ctx, tx, r.UserID, ucwad.MeetingRelAdHoc, &s, r.JoinBase, 0, etag, millis(now))
		if err != nil {
			return err
		}
		join := *r
		join.MeetingID = m.ID
		if inv, notify, err = db.join(ctx, tx, &join, m, now); err != nil {
			return err
		}
		if inv.ParticipantID == "" {
			// Refused by a bound: nobody is in it, so it goes at once.
			_, err = tx.ExecContext(ctx, `DELETE FROM meetings WHERE id = ?`, m.ID)
		}
		return err
	})
	if err != nil {
		return nil, wrap("start meeting", err)
	}
	db.notify(notify)
	return inv, nil
}

// join is the body of JoinMeeting and StartMeeting, in their transaction,
// with the meeting found.
func (db *DB) join(ctx context.Context, tx *writeTx, r *ucwad.JoinRequest, m *ucwad.OnlineMeeting, now time.Time) (*ucwad.Invitation, []string, error) {
	lim := &db.joining
	// What fails the request itself comes first: it changes nothing.
	conv, err := loadConversation(ctx, tx, "meeting_id", m.ID)
	if err != nil {
		return nil, nil, err
	}
	var roster []*ucwad.Participant
	if conv != nil {
		if roster, err = loadRoster(ctx, tx, conv.ID); err != nil {
			return nil, nil, err
		}
		for _, p := range roster {
			if p.ApplicationID == r.ApplicationID {
				return nil, nil, ucwad.Errorf(ucwad.EConflict, ucwad.SubAlreadyExists,
					"The application is in this meeting already (conversation %s).", conv.ID)
			}
		}
	}
	// Then the application's bound: joining again is AlreadyExists
	// whatever the number of its conversations.
	var in int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM participants WHERE application_id = ?`, r.ApplicationID).Scan(&in); err != nil {
		return nil, nil, err
	}
	if in >= lim.MaxConversationsPerApplication {
		return nil, nil, ucwad.Errorf(ucwad.EConflict, ucwad.SubTooManyConversations,
			"The application is in the maximum of %d conversations already; leave one first.", lim.MaxConversationsPerApplication)
	}
	inv := &ucwad.Invitation{ID: ucwad.NewID(), ApplicationID: r.ApplicationID, UserID: r.UserID, MeetingID: m.ID,
		OnlineMeetingURI: r.OnlineMeetingURI, OperationID: r.OperationID, Subject: r.Subject, Importance: r.Importance,
		ThreadID: r.ThreadID, AnonymousDisplayName: r.AnonymousDisplayName, State: ucwad.InvitationConnecting,
		CreatedAt: now, UpdatedAt: now}
	entry := ucwad.Admission(m, r.Joiner)
	admitted, waiting := counts(roster)
	switch {
	case entry.Lobby && waiting >= lim.MaxLobbyParticipants:
		inv.State, inv.Reason = ucwad.InvitationFailed, ucwad.SubTooManyLobbyParticipants
	case !entry.Lobby && admitted >= lim.MaxParticipants:
		inv.State, inv.Reason = ucwad.InvitationFailed, ucwad.SubTooManyParticipants
	}
	if inv.State == ucwad.InvitationFailed {
		if err := insertInvitation(ctx, tx, inv); err != nil {
			return nil, nil, err
		}
		notify, err := db.deliver(ctx, tx, ucwad.RefusedJoinEvents(inv))
		return inv, notify, err
	}
	if conv == nil {
		conv = &ucwad.Conversation{ID: ucwad.NewID(), MeetingID: m.ID, ThreadID: ucwad.NewThreadID(), Subject: m.Subject, CreatedAt: now}
		if _, err := tx.ExecContext(ctx, `INSERT INTO conversations (`+conversationColumns+`) VALUES (?, ?, ?, ?, ?)`,
			conv.ID, conv.MeetingID, conv.ThreadID, conv.Subject, millis(now)); err != nil {
			return nil, nil, err
		}
	}
	p := &ucwad.Participant{ID: ucwad.NewID(), ConversationID: conv.ID, ApplicationID: r.ApplicationID, UserID: r.UserID,
		Name: r.Name, URI: r.URI, Role: entry.Role, InLobby: entry.Lobby, Organizer: entry.Organizer, Anonymous: r.Anonymous,
		InvitationID: inv.ID, JoinedAt: now}
	if p.InLobby {
		p.LobbyDeadline = now.Add(lim.LobbyTimeout)
	}
	inv.ConversationID, inv.ParticipantID = conv.ID, p.ID
	if !p.InLobby {
		inv.State = ucwad.InvitationConnected
	}
	if err := insertInvitation(ctx, tx, inv); err != nil {
		return nil, nil, err
	}
	if err := insertParticipant(ctx, tx, p); err != nil {
		return nil, nil, err
	}
	ds := ucwad.JoinEvents(conv, inv, p, append(roster, p))
	if !p.InLobby {
		ds = append(ds, ucwad.MessagingAvailableEvents(p)...)
	}
	notify, err := db.deliver(ctx, tx, ds)
	return inv, notify, err
}

// remove takes p out of session s, with the events of its leaving (see
// ucwad.DepartureEvents: reason is why, when p did not ask to leave), and
// ends the conversation when p was the last one. It returns the
// deliveries; s.roster no longer holds p.
func (db *DB) remove(ctx context.Context, tx *writeTx, s *session, p *ucwad.Participant, reason string, tellOthers bool, now time.Time) ([]ucwad.Delivery, error) {
	if _, err := tx.ExecContext(ctx, `DELETE FROM participants WHERE id = ?`, p.ID); err != nil {
		return nil, err
	}
	inv, err := invitationOf(ctx, tx, p)
	if err != nil {
		return nil, err
	}
	if p.InLobby {
		inv.State, inv.Reason = ucwad.InvitationFailed, reason
		if reason == "" {
			inv.Reason = ucwad.SubCanceled
		}
		if err := finishInvitation(ctx, tx, inv, now); err != nil {
			return nil, err
		}
	} else if _, err := tx.ExecContext(ctx, `DELETE FROM invitations WHERE id = ?`, inv.ID); err != nil {
		// A join that succeeded is over when its participant leaves.
		return nil, err
	}
	s.roster = without(s.roster, p)
	ds := ucwad.DepartureEvents(s.conv, inv, p, s.roster, reason, tellOthers)
	if len(s.roster) == 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM conversations WHERE id = ?`, s.conv.ID); err != nil {
			return nil, err
		}
		// An ad hoc meeting lives as long as its conversation.
		if _, err := tx.ExecContext(ctx, `DELETE FROM meetings WHERE id = ? AND rel = ?`, s.conv.MeetingID, ucwad.MeetingRelAdHoc); err != nil {
			return nil, err
		}
	}
	return ds, nil
}

// LeaveConversation takes the application's participant out; see
// ucwad.ConversationStore.
func (db *DB) LeaveConversation(ctx context.Context, appID, conversationID string) error {
	now := db.now()
	var notify []string
	err := db.inWriteTxFor(ctx, appLane(appID), func(tx *writeTx) error {
		s, err := loadSession(ctx, tx, appID, conversationID)
		if err != nil {
			return err
		}
		ds, err := db.remove(ctx, tx, s, s.self, "", true, now)
		if err != nil {
			return err
		}
		notify, err = db.deliver(ctx, tx, ds)
		return err
	})
	if err != nil {
		return wrap("leave conversation", err)
	}
	db.notify(notify)
	return nil
}

// ChangeParticipant has a leader act on a participant; see
// ucwad.ConversationStore.
func (db *DB) ChangeParticipant(ctx context.Context, appID, conversationID, targetID string, a ucwad.Action) error {
	lim := &db.joining
	now := db.now()
	var notify []string
	err := db.inWriteTxFor(ctx, appLane(appID), func(tx *writeTx) error {
		s, err := loadSession(ctx, tx, appID, conversationID)
		if err != nil {
			return err
		}
		// A participant who may not act learns nothing about the target.
		if s.self.InLobby || s.self.Role != ucwad.RoleLeader {
			return ucwad.CheckAction(s.self, s.self, a)
		}
		var target *ucwad.Participant
		for _, p := range s.roster {
			if p.ID == targetID && s.self.Sees(p) {
				target = p
			}
		}
		if target == nil {
			return errParticipantNotFound()
		}
		if err := ucwad.CheckAction(s.self, target, a); err != nil {
			return err
		}
		var ds []ucwad.Delivery
		switch a {
		case ucwad.ActionAdmit:
			if admitted, _ := counts(s.roster); admitted >= lim.MaxParticipants {
				return ucwad.Errorf(ucwad.EConflict, ucwad.SubTooManyParticipants,
					"The meeting holds the maximum of %d participants already.", lim.MaxParticipants)
			}
			target.InLobby, target.LobbyDeadline = false, time.Time{}
			if err := saveParticipant(ctx, tx, target); err != nil {
				return err
			}
			inv, err := invitationOf(ctx, tx, target)
			if err != nil {
				return err
			}
			inv.State, inv.Reason = ucwad.InvitationConnected, ""
			if err := finishInvitation(ctx, tx, inv, now); err != nil {
				return err
			}
			ds = append(ucwad.AdmitEvents(s.conv, inv, target, s.roster), ucwad.MessagingAvailableEvents(target)...)
		case ucwad.ActionReject, ucwad.ActionEject:
			reason := ucwad.SubDenied
			if a == ucwad.ActionEject {
				reason = ucwad.SubEjected
			}
			if ds, err = db.remove(ctx, tx, s, target, reason, true, now); err != nil {
				return err
			}
		case ucwad.ActionPromote, ucwad.ActionDemote:
			old := target.Role
			target.Role = ucwad.RoleLeader
			if a == ucwad.ActionDemote {
				target.Role = ucwad.RoleAttendee
			}
			if err := saveParticipant(ctx, tx, target); err != nil {
				return err
			}
			inv, err := invitationOf(ctx, tx, target)
			if err != nil {
				return err
			}
			ds = ucwad.RoleEvents(s.conv, inv, target, old, s.roster)
		default:
			return fmt.Errorf("unknown action %q", a)
		}
		notify, err = db.deliver(ctx, tx, ds)
		return err
	})
	if err != nil {
		return wrap("change participant", err)
	}
	db.notify(notify)
	return nil
}

// FindInvitation returns an invitation of the application; see
// ucwad.ConversationStore.
func (db *DB) FindInvitation(ctx context.Context, appID, id string) (*ucwad.Invitation, error) {
	inv, err := scanInvitation(db.queryRow(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE id = ? AND application_id = ?`, id, appID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errInvitationNotFound()
	}
	if err != nil {
		return nil, storeErr("find invitation", err)
	}
	return inv, nil
}

// FindConversation returns the application's view of a conversation; see
// ucwad.ConversationStore.
func (db *DB) FindConversation(ctx context.Context, appID, conversationID string) (*ucwad.ConversationView, error) {
	v, _, err := db.Roster(ctx, appID, conversationID)
	return v, err
}

// Roster returns the application's view of a conversation and the
// participants it sees; see ucwad.ConversationStore.
func (db *DB) Roster(ctx context.Context, appID, conversationID string) (*ucwad.ConversationView, []*ucwad.Participant, error) {
	var v *ucwad.ConversationView
	var visible []*ucwad.Participant
	err := db.inReadTx(ctx, func(tx *readTx) error {
		s, err := loadSession(ctx, tx, appID, conversationID)
		if err != nil {
			return err
		}
		if v, err = s.view(ctx, tx); err != nil {
			return err
		}
		for _, p := range s.roster {
			if s.self.Sees(p) {
				visible = append(visible, p)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, wrap("read conversation", err)
	}
	return v, visible, nil
}

// ListConversations returns the application's views of its conversations;
// see ucwad.ConversationStore.
func (db *DB) ListConversations(ctx context.Context, appID string) ([]*ucwad.ConversationView, error) {
	views := []*ucwad.ConversationView{}
	err := db.inReadTx(ctx, func(tx *readTx) error {
		ids, err := queryStrings(ctx, tx, `SELECT conversation_id FROM participants WHERE application_id = ? ORDER BY seq`, appID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			s, err := loadSession(ctx, tx, appID, id)
			if err != nil {
				return err
			}
			v, err := s.view(ctx, tx)
			if err != nil {
				return err
			}
			views = append(views, v)
		}
		return nil
	})
	if err != nil {
		return nil, wrap("list conversations", err)
	}
	return views, nil
}

// ConversationMeeting returns the meeting of a conversation; see
// ucwad.ConversationStore.
func (db *DB) ConversationMeeting(ctx context.Context, appID, conversationID string) (*ucwad.OnlineMeeting, error) {
	var m *ucwad.OnlineMeeting
	err := db.inReadTx(ctx, func(tx *readTx) error {
		s, err := loadSession(ctx, tx, appID, conversationID)
		if err != nil {
			return err
		}
		ms, _, err := readMeetings(ctx, tx, `m.id = ?`, 1, s.conv.MeetingID)
		if err != nil {
			return err
		}
		if len(ms) == 0 {
			// The meeting went; its conversation is ending in the same
			// transaction that removed it, or by the sweep.
			return errConversationNotFound()
		}
		m = ms[0]
		return nil
	})
	if err != nil {
		return nil, wrap("read conversation meeting", err)
	}
	return m, nil
}

// sweepChunk is how many participants one sweep transaction removes, so
// that a large sweep holds its locks briefly.
const sweepChunk = 16

// SweepConversations removes the participants whose lobby wait is over and
// those whose application is gone; see ucwad.ConversationStore.
func (db *DB) SweepConversations(ctx context.Context) (int, error) {
	total := 0
	for _, q := range []struct {
		query  string
		args   func(now time.Time) []any
		reason string
	}{
		{`SELECT id, conversation_id FROM participants WHERE in_lobby AND lobby_deadline > 0 AND lobby_deadline <= ?
		  ORDER BY lobby_deadline LIMIT ?`,
			func(now time.Time) []any { return []any{millis(now), sweepChunk} }, ucwad.SubTimeout},
		{`SELECT id, conversation_id FROM participants WHERE application_id NOT IN (SELECT id FROM applications) LIMIT ?`,
			func(time.Time) []any { return []any{sweepChunk} }, ""},
	} {
		for {
			now := db.now()
			n, err := db.sweepParticipants(ctx, q.query, q.args(now), q.reason, now)
			total += n
			if err != nil {
				return total, err
			}
			if n < sweepChunk {
				break
			}
		}
	}
	// Conversations whose meeting went without ending them (its organizer
	// was deleted) end now, as if the meeting had been deleted.
	var notify []string
	err := db.inWriteTx(ctx, func(tx *writeTx) error {
		gone, err := queryStrings(ctx, tx, `SELECT meeting_id FROM conversations WHERE meeting_id NOT IN (SELECT id FROM meetings) LIMIT ?`, sweepChunk)
		if err != nil {
			return err
		}
		notify, err = db.endMeetings(ctx, tx, gone)
		return err
	})
	if err != nil {
		return total, wrap("sweep conversations", err)
	}
	db.notify(notify)
	// Leftovers of applications gone without telling: their invitations,
	// and ad hoc meetings without a conversation.
	err = db.inWriteTx(ctx, func(tx *writeTx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM invitations WHERE application_id NOT IN (SELECT id FROM applications)`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM meetings WHERE rel = ? AND id NOT IN (SELECT meeting_id FROM conversations)`, ucwad.MeetingRelAdHoc)
		return err
	})
	return total, wrap("sweep conversations", err)
}

// sweepParticipants removes, in one transaction, the participants that
// query selects with args (at most sweepChunk), with reason.
func (db *DB) sweepParticipants(ctx context.Context, query string, args []any, reason string, now time.Time) (int, error) {
	n := 0
	var notify []string
	err := db.inWriteTx(ctx, func(tx *writeTx) error {
		n, notify = 0, nil // a retried transaction starts over
		if ok, err := tx.sweepLock(ctx, sweepConversations); !ok || err != nil {
			return err
		}
		type target struct{ id, conversation string }
		var targets []target
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var t target
			if err := rows.Scan(&t.id, &t.conversation); err != nil {
				rows.Close()
				return err
			}
			targets = append(targets, t)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for _, t := range targets {
			apps, err := db.removeByID(ctx, tx, t.conversation, t.id, reason, now)
			if err != nil {
				return err
			}
			notify = append(notify, apps...)
			n++
		}
		return nil
	})
	if err != nil {
		return 0, wrap("sweep conversations", err)
	}
	db.notify(notify)
	return n, nil
}

// removeByID removes participant id of a conversation with reason, telling
// the others, and delivers the events.
func (db *DB) removeByID(ctx context.Context, tx *writeTx, conversationID, id, reason string, now time.Time) ([]string, error) {
	c, err := loadConversation(ctx, tx, "id", conversationID)
	if err != nil || c == nil {
		return nil, err
	}
	roster, err := loadRoster(ctx, tx, c.ID)
	if err != nil {
		return nil, err
	}
	s := &session{conv: c, roster: roster}
	for _, p := range roster {
		if p.ID == id {
			ds, err := db.remove(ctx, tx, s, p, reason, true, now)
			if err != nil {
				return nil, err
			}
			return db.deliver(ctx, tx, ds)
		}
	}
	return nil, nil
}

// leaveApplications takes the participants of applications that are being
// removed (in transaction tx) out of their conversations, telling the
// others, and drops the applications' invitations. It returns the
// applications to notify after commit.
func (db *DB) leaveApplications(ctx context.Context, tx *writeTx, appIDs []string) ([]string, error) {
	if len(appIDs) == 0 {
		return nil, nil
	}
	list := marshalList(appIDs)
	rows, err := tx.QueryContext(ctx, `SELECT id, conversation_id FROM participants WHERE application_id IN (SELECT value FROM json_array_elements_text(?::json)) ORDER BY seq`, list)
	if err != nil {
		return nil, err
	}
	type target struct{ id, conversation string }
	var targets []target
	for rows.Next() {
		var t target
		if err := rows.Scan(&t.id, &t.conversation); err != nil {
			rows.Close()
			return nil, err
		}
		targets = append(targets, t)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	now := db.now()
	var notify []string
	for _, t := range targets {
		apps, err := db.removeByID(ctx, tx, t.conversation, t.id, "", now)
		if err != nil {
			return nil, err
		}
		notify = append(notify, apps...)
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM invitations WHERE application_id IN (SELECT value FROM json_array_elements_text(?::json))`, list)
	return notify, err
}

// endMeetings ends the conversations of meetings that are being removed
// (in transaction tx): every participant leaves with reason SubEnded,
// hearing of its own leaving only. It returns the applications to notify
// after commit.
func (db *DB) endMeetings(ctx context.Context, tx *writeTx, meetingIDs []string) ([]string, error) {
	now := db.now()
	var notify []string
	for _, id := range meetingIDs {
		c, err := loadConversation(ctx, tx, "meeting_id", id)
		if err != nil {
			return nil, err
		}
		if c == nil {
			continue
		}
		roster, err := loadRoster(ctx, tx, c.ID)
		if err != nil {
			return nil, err
		}
		s := &session{conv: c, roster: roster}
		for _, p := range roster {
			ds, err := db.remove(ctx, tx, s, p, ucwad.SubEnded, false, now)
			if err != nil {
				return nil, err
			}
			apps, err := db.deliver(ctx, tx, ds)
			if err != nil {
				return nil, err
			}
			notify = append(notify, apps...)
		}
	}
	return notify, nil
}
