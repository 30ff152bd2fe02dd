package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/ucwad/ucwad"
)

// The messaging store keeps each participant's messaging modality
// (migration 2). A participant without a row has never added messaging:
// it is Disconnected. Messages are event bodies only (see MessageEvents):
// FindMessage and ListMessages read them back from event_bodies while
// they are there.

const messagingColumns = `participant_id, conversation_id, state, invitation_id, operation_id, connected_at, typing_until, next_send`

func scanMessaging(row scanner) (*ucwad.Messaging, error) {
	var m ucwad.Messaging
	var connected, typing, next int64
	if err := row.Scan(&m.ParticipantID, &m.ConversationID, &m.State, &m.InvitationID, &m.OperationID, &connected, &typing, &next); err != nil {
		return nil, err
	}
	if connected != 0 {
		m.ConnectedAt = fromMillis(connected)
	}
	if typing != 0 {
		m.TypingUntil = fromMillis(typing)
	}
	if next != 0 {
		m.NextSend = fromMillis(next)
	}
	return &m, nil
}

func zeroMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return millis(t)
}

func saveMessaging(ctx context.Context, tx *writeTx, m *ucwad.Messaging) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO messaging (`+messagingColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (participant_id) DO UPDATE SET state = excluded.state, invitation_id = excluded.invitation_id,
		  operation_id = excluded.operation_id, connected_at = excluded.connected_at, typing_until = excluded.typing_until,
		  next_send = excluded.next_send`,
		m.ParticipantID, m.ConversationID, m.State, m.InvitationID, m.OperationID,
		zeroMillis(m.ConnectedAt), zeroMillis(m.TypingUntil), zeroMillis(m.NextSend))
	return err
}

// messagingSession is a conversation as a messaging change sees it: the
// session and every participant's modality.
type messagingSession struct {
	*session
	modes map[string]*ucwad.Messaging // by participant id; absent: never added
}

// mode is the modality of participant id (Disconnected when it has none).
func (s *messagingSession) mode(p *ucwad.Participant) *ucwad.Messaging {
	if m := s.modes[p.ID]; m != nil {
		return m
	}
	return &ucwad.Messaging{ParticipantID: p.ID, ConversationID: p.ConversationID, State: ucwad.MessagingDisconnected}
}

func (s *messagingSession) connected(id string) bool {
	m := s.modes[id]
	return m != nil && m.Connected()
}

// listeners are those who hear p.
func (s *messagingSession) listeners(p *ucwad.Participant) []*ucwad.Participant {
	return ucwad.Listeners(p, s.roster, s.connected)
}

func loadMessagingSession(ctx context.Context, q txQuerier, appID, conversationID string) (*messagingSession, error) {
	s, err := loadSession(ctx, q, appID, conversationID)
	if err != nil {
		return nil, err
	}
	return withModes(ctx, q, s)
}

// loadConnectedMessaging is loadMessagingSession for an action that needs
// the caller's messaging connected: it also returns the caller's modality,
// or the error ucwad.CheckMessaging gives.
func loadConnectedMessaging(ctx context.Context, q txQuerier, appID, conversationID string) (*messagingSession, *ucwad.Messaging, error) {
	s, err := loadMessagingSession(ctx, q, appID, conversationID)
	if err != nil {
		return nil, nil, err
	}
	m := s.mode(s.self)
	if err := ucwad.CheckMessaging(s.self, m); err != nil {
		return nil, nil, err
	}
	return s, m, nil
}

func withModes(ctx context.Context, q txQuerier, s *session) (*messagingSession, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+messagingColumns+` FROM messaging WHERE conversation_id = ?`, s.conv.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ms := &messagingSession{session: s, modes: map[string]*ucwad.Messaging{}}
	for rows.Next() {
		m, err := scanMessaging(rows)
		if err != nil {
			return nil, err
		}
		ms.modes[m.ParticipantID] = m
	}
	return ms, rows.Err()
}

// typingNow reports whether m shows as typing at now.
func typingNow(m *ucwad.Messaging, now time.Time) bool {
	return !m.TypingUntil.IsZero() && m.TypingUntil.After(now)
}

// Messaging returns the caller's messaging; see ucwad.MessagingStore.
func (db *DB) Messaging(ctx context.Context, appID, conversationID string) (*ucwad.MessagingView, error) {
	var v *ucwad.MessagingView
	err := db.inReadTx(ctx, func(tx *readTx) error {
		s, err := loadSession(ctx, tx, appID, conversationID)
		if err != nil {
			return err
		}
		m, err := scanMessaging(tx.QueryRowContext(ctx, `SELECT `+messagingColumns+` FROM messaging WHERE participant_id = ?`, s.self.ID))
		if errors.Is(err, sql.ErrNoRows) {
			m, err = (&messagingSession{session: s}).mode(s.self), nil
		}
		if err != nil {
			return err
		}
		v = &ucwad.MessagingView{Self: s.self, Messaging: *m}
		return nil
	})
	if err != nil {
		return nil, wrap("read messaging", err)
	}
	return v, nil
}

// AddMessaging connects the caller's messaging; see ucwad.MessagingStore.
func (db *DB) AddMessaging(ctx context.Context, appID, conversationID, operationID string) (*ucwad.MessagingView, error) {
	now := db.now()
	var v *ucwad.MessagingView
	var notify []string
	err := db.inWriteTxFor(ctx, appLane(appID), func(tx *writeTx) error {
		s, err := loadMessagingSession(ctx, tx, appID, conversationID)
		if err != nil {
			return err
		}
		if s.self.InLobby {
			return ucwad.Errorf(ucwad.EForbidden, ucwad.SubMessagingNotConnected, "Messaging starts once a leader admitted you from the lobby.")
		}
		m := s.mode(s.self)
		if m.Connected() {
			return ucwad.Errorf(ucwad.EConflict, ucwad.SubAlreadyExists, "Messaging is connected already.")
		}
		m.State, m.InvitationID, m.OperationID, m.ConnectedAt = ucwad.MessagingConnected, ucwad.NewID(), operationID, now
		m.TypingUntil = time.Time{}
		if err := saveMessaging(ctx, tx, m); err != nil {
			return err
		}
		v = &ucwad.MessagingView{Self: s.self, Messaging: *m}
		notify, err = db.deliver(ctx, tx, ucwad.AddMessagingEvents(s.self, *m))
		return err
	})
	if err != nil {
		return nil, wrap("add messaging", err)
	}
	db.notify(notify)
	return v, nil
}

// StopMessaging disconnects the caller's messaging; see
// ucwad.MessagingStore.
func (db *DB) StopMessaging(ctx context.Context, appID, conversationID string) error {
	now := db.now()
	var notify []string
	err := db.inWriteTxFor(ctx, appLane(appID), func(tx *writeTx) error {
		s, m, err := loadConnectedMessaging(ctx, tx, appID, conversationID)
		if err != nil {
			return err
		}
		typing := typingNow(m, now)
		m.State, m.TypingUntil = ucwad.MessagingDisconnected, time.Time{}
		if err := saveMessaging(ctx, tx, m); err != nil {
			return err
		}
		notify, err = db.deliver(ctx, tx, ucwad.StopMessagingEvents(s.self, *m, typing, s.listeners(s.self)))
		return err
	})
	if err != nil {
		return wrap("stop messaging", err)
	}
	db.notify(notify)
	return nil
}

// SendMessage sends a message to the caller's conversation; see
// ucwad.MessagingStore.
func (db *DB) SendMessage(ctx context.Context, appID, conversationID, operationID string, body *ucwad.MessageBody) (*ucwad.Message, error) {
	now := db.now()
	var msg *ucwad.Message
	var notify []string
	err := db.inWriteTxFor(ctx, appLane(appID), func(tx *writeTx) error {
		s, m, err := loadConnectedMessaging(ctx, tx, appID, conversationID)
		if err != nil {
			return err
		}
		next, wait, ok := db.joining.AllowMessage(m.NextSend, now)
		if !ok {
			return ucwad.RateError(wait)
		}
		typing := typingNow(m, now)
		m.NextSend, m.TypingUntil = next, time.Time{}
		if err := saveMessaging(ctx, tx, m); err != nil {
			return err
		}
		msg = &ucwad.Message{ID: ucwad.NewID(), ConversationID: s.conv.ID, SenderID: s.self.ID,
			SenderApplicationID: s.self.ApplicationID, SenderName: s.self.Name, OperationID: operationID,
			TimeStamp: now, MessageBody: *body}
		notify, err = db.deliver(ctx, tx, ucwad.MessageEvents(s.self, msg, typing, s.listeners(s.self)))
		return err
	})
	if err != nil {
		return nil, wrap("send message", err)
	}
	db.notify(notify)
	return msg, nil
}

// SetTyping shows the caller as typing; see ucwad.MessagingStore. A
// typing that starts counts against the message rate: over it, the
// participant is not shown (typing is a hint, never refused).
func (db *DB) SetTyping(ctx context.Context, appID, conversationID string) (time.Time, error) {
	now := db.now()
	var until time.Time
	var notify []string
	err := db.inWriteTxFor(ctx, appLane(appID), func(tx *writeTx) error {
		until, notify = time.Time{}, nil // a retried transaction starts over
		s, m, err := loadConnectedMessaging(ctx, tx, appID, conversationID)
		if err != nil {
			return err
		}
		if typingNow(m, now) {
			m.TypingUntil = now.Add(db.joining.TypingTimeout)
			until = m.TypingUntil
			return saveMessaging(ctx, tx, m)
		}
		next, _, ok := db.joining.AllowMessage(m.NextSend, now)
		if !ok {
			return nil
		}
		m.NextSend, m.TypingUntil = next, now.Add(db.joining.TypingTimeout)
		until = m.TypingUntil
		if err := saveMessaging(ctx, tx, m); err != nil {
			return err
		}
		notify, err = db.deliver(ctx, tx, ucwad.TypingEvents(s.self, true, s.listeners(s.self)))
		return err
	})
	if err != nil {
		return time.Time{}, wrap("set typing", err)
	}
	db.notify(notify)
	return until, nil
}

// ExpireTyping ends the typing whose time is up; see ucwad.MessagingStore.
func (db *DB) ExpireTyping(ctx context.Context) (time.Time, error) {
	for {
		now := db.now()
		var notify []string
		n := 0
		err := db.inWriteTx(ctx, func(tx *writeTx) error {
			// A retried transaction starts again from nothing.
			notify, n = nil, 0
			rows, err := tx.QueryContext(ctx, `SELECT participant_id, conversation_id FROM messaging
				WHERE typing_until > 0 AND typing_until <= ? ORDER BY typing_until LIMIT ?`, millis(now), sweepChunk)
			if err != nil {
				return err
			}
			type target struct{ participant, conversation string }
			var targets []target
			for rows.Next() {
				var t target
				if err := rows.Scan(&t.participant, &t.conversation); err != nil {
					rows.Close()
					return err
				}
				targets = append(targets, t)
			}
			if err := rows.Close(); err != nil {
				return err
			}
			for _, t := range targets {
				if _, err := tx.ExecContext(ctx, `UPDATE messaging SET typing_until = 0 WHERE participant_id = ?`, t.participant); err != nil {
					return err
				}
				c, err := loadConversation(ctx, tx, "id", t.conversation)
				if err != nil || c == nil {
					return err
				}
				roster, err := loadRoster(ctx, tx, c.ID)
				if err != nil {
					return err
				}
				s, err := withModes(ctx, tx, &session{conv: c, roster: roster})
				if err != nil {
					return err
				}
				for _, p := range roster {
					if p.ID == t.participant {
						apps, err := db.deliver(ctx, tx, ucwad.TypingEvents(p, false, s.listeners(p)))
						if err != nil {
							return err
						}
						notify = append(notify, apps...)
					}
				}
				n++
			}
			return nil
		})
		if err != nil {
			return time.Time{}, wrap("expire typing", err)
		}
		db.notify(notify)
		if n < sweepChunk {
			break
		}
	}
	var next int64
	if err := db.queryRow(ctx, `SELECT COALESCE(MIN(typing_until), 0) FROM messaging WHERE typing_until > 0`).Scan(&next); err != nil {
		return time.Time{}, wrap("expire typing", err)
	}
	if next == 0 {
		return time.Time{}, nil
	}
	return fromMillis(next), nil
}

// TypingParticipants returns who is typing; see ucwad.MessagingStore.
func (db *DB) TypingParticipants(ctx context.Context, appID, conversationID string) (*ucwad.MessagingView, []*ucwad.Participant, error) {
	now := db.now()
	var v *ucwad.MessagingView
	var typing []*ucwad.Participant
	err := db.inReadTx(ctx, func(tx *readTx) error {
		s, m, err := loadConnectedMessaging(ctx, tx, appID, conversationID)
		if err != nil {
			return err
		}
		v = &ucwad.MessagingView{Self: s.self, Messaging: *m}
		for _, p := range s.roster {
			if q := s.modes[p.ID]; p.ID != s.self.ID && q != nil && q.Connected() && typingNow(q, now) && s.self.Sees(p) {
				typing = append(typing, p)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, wrap("read typing participants", err)
	}
	return v, typing, nil
}

// FindMessagingInvitation returns the messaging of an addMessaging; see
// ucwad.MessagingStore.
func (db *DB) FindMessagingInvitation(ctx context.Context, appID, invitationID string) (*ucwad.MessagingView, error) {
	var v *ucwad.MessagingView
	err := db.inReadTx(ctx, func(tx *readTx) error {
		m, err := scanMessaging(tx.QueryRowContext(ctx, `SELECT `+messagingColumns+` FROM messaging WHERE invitation_id = ?`, invitationID))
		if errors.Is(err, sql.ErrNoRows) {
			return ucwad.Errorf(ucwad.ENotFound, ucwad.SubResourceNotFound, "There is no such messaging invitation.")
		}
		if err != nil {
			return err
		}
		p, err := scanParticipant(tx.QueryRowContext(ctx, `SELECT `+participantColumns+` FROM participants WHERE id = ?`, m.ParticipantID))
		if errors.Is(err, sql.ErrNoRows) || err == nil && p.ApplicationID != appID {
			return ucwad.Errorf(ucwad.ENotFound, ucwad.SubResourceNotFound, "There is no such messaging invitation.")
		}
		if err != nil {
			return err
		}
		v = &ucwad.MessagingView{Self: p, Messaging: *m}
		return nil
	})
	if err != nil {
		return nil, wrap("find messaging invitation", err)
	}
	return v, nil
}

// FindMessage returns a stored message; see ucwad.MessagingStore.
func (db *DB) FindMessage(ctx context.Context, appID, conversationID, messageID string) (*ucwad.Message, error) {
	msgs, err := db.messages(ctx, appID, conversationID, messageID)
	if err != nil {
		return nil, wrap("find message", err)
	}
	if len(msgs) == 0 {
		return nil, ucwad.Errorf(ucwad.ENotFound, ucwad.SubResourceNotFound, "There is no such message, or it is no longer kept.")
	}
	return msgs[0], nil
}

// ListMessages returns the stored messages of a conversation; see
// ucwad.MessagingStore.
func (db *DB) ListMessages(ctx context.Context, appID, conversationID string) ([]*ucwad.Message, error) {
	msgs, err := db.messages(ctx, appID, conversationID, "")
	if err != nil {
		return nil, wrap("list messages", err)
	}
	return msgs, nil
}

// messages reads the caller's messages of a conversation from the stored
// events, one (id) or all (id ""): those it sent, and those sent while its
// messaging was connected (it was among their receivers).
func (db *DB) messages(ctx context.Context, appID, conversationID, id string) ([]*ucwad.Message, error) {
	out := []*ucwad.Message{}
	err := db.inReadTx(ctx, func(tx *readTx) error {
		s, err := loadSession(ctx, tx, appID, conversationID)
		if err != nil {
			return err
		}
		m, err := scanMessaging(tx.QueryRowContext(ctx, `SELECT `+messagingColumns+` FROM messaging WHERE participant_id = ?`, s.self.ID))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		// COLLATE "C": the index's, and the bytewise order the range
		// below relies on whatever the database's collation.
		query := `SELECT data FROM event_bodies WHERE subject_kind = 'message' AND subject_key COLLATE "C" = ?`
		args := []any{s.conv.ID + "/" + id}
		if id == "" {
			// The conversation's keys: after "<id>/", before "<id>0" ('0'
			// follows '/').
			query = `SELECT data FROM event_bodies WHERE subject_kind = 'message' AND subject_key COLLATE "C" > ? AND subject_key COLLATE "C" < ? ORDER BY id`
			args = append(args, s.conv.ID+"0")
		}
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var data []byte
			if err := rows.Scan(&data); err != nil {
				return err
			}
			var me ucwad.MessagingEvent
			if err := json.Unmarshal(data, &me); err != nil || me.Message == nil {
				continue
			}
			msg := me.Message
			mine := msg.SenderID == s.self.ID
			received := !m.ConnectedAt.IsZero() && !msg.TimeStamp.Before(m.ConnectedAt) && !s.self.InLobby
			if mine || received {
				out = append(out, msg)
			}
		}
		return rows.Err()
	})
	return out, err
}
