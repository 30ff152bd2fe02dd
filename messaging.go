package ucwad

import (
	"context"
	"encoding/json"
	"time"
)

// MessagingStore keeps instant messaging in meeting conversations: each
// participant's messaging modality (connected or not, typing or not, its
// message rate) and delivers the messages. Messaging belongs to a
// participant, whoever it is (a signed-in user's application or an
// anonymous guest's): every method names the caller's application and
// the conversation, and acts for that application's participant in it.
// Every change appends its events, in the same transaction, to the
// audiences the functions of this file name; a message is one event body
// however many participants receive it. Bounds are the store's Limits
// (MaxMessageChars is checked by ParseMessage before; MessagesPerMinute,
// MessageBurst, TypingTimeout here).
//
// Every method (but ExpireTyping and FindMessagingInvitation) returns
// ENotFound when the application is not in the conversation (it never
// joined, or it left), and the EForbidden of CheckMessaging where the
// method says so.
type MessagingStore interface {
	// Messaging returns the participant's view of its messaging.
	Messaging(ctx context.Context, appID, conversationID string) (*MessagingView, error)
	// AddMessaging connects the participant's messaging (the operation's
	// id and operationId recorded), with its events. EForbidden from the
	// lobby; EConflict (SubAlreadyExists) when it is connected already.
	AddMessaging(ctx context.Context, appID, conversationID, operationID string) (*MessagingView, error)
	// StopMessaging disconnects it (and ends its typing), with its events.
	// EForbidden (SubMessagingNotConnected) when it is not connected.
	StopMessaging(ctx context.Context, appID, conversationID string) error
	// SendMessage sends body to every other admitted participant whose
	// messaging is connected, and tells the sender; it ends the sender's
	// typing. It returns the message as stored. EForbidden
	// (SubMessagingNotConnected) from the lobby or without messaging
	// connected; ETooManyRequests (with RetryAfter) over the rate.
	SendMessage(ctx context.Context, appID, conversationID, operationID string, body *MessageBody) (*Message, error)
	// SetTyping shows the participant as typing until TypingTimeout from
	// now (telling the others only when it was not typing). It returns
	// when typing ends unless repeated. EForbidden as SendMessage.
	SetTyping(ctx context.Context, appID, conversationID string) (time.Time, error)
	// ExpireTyping ends every typing whose time is up (now or before),
	// telling the others, and returns when the next one ends (zero: none
	// is typing).
	ExpireTyping(ctx context.Context) (time.Time, error)
	// TypingParticipants returns the participant's view of the
	// conversation and the participants typing now (not itself), in
	// arrival order. EForbidden as SendMessage.
	TypingParticipants(ctx context.Context, appID, conversationID string) (*MessagingView, []*Participant, error)
	// FindMessagingInvitation returns the view of the participant whose
	// latest addMessaging has id invitationID, for its own application,
	// or ENotFound.
	FindMessagingInvitation(ctx context.Context, appID, invitationID string) (*MessagingView, error)
	// FindMessage returns a message of the conversation while its event is
	// stored (until every receiver has read it, or its log bound dropped
	// it), for its sender and for the participants it was sent to, or
	// ENotFound.
	FindMessage(ctx context.Context, appID, conversationID, messageID string) (*Message, error)
	// ListMessages returns the messages FindMessage would find, oldest
	// first.
	ListMessages(ctx context.Context, appID, conversationID string) ([]*Message, error)
}

// States of a participant's messaging (the modality's state).
const (
	MessagingDisconnected = "Disconnected"
	MessagingConnected    = "Connected"
)

// SubMessagingNotConnected is the subcode of messaging without its
// modality connected (no UCWA subcode exists for it).
const SubMessagingNotConnected = "MessagingNotConnected"

// Messaging is one participant's messaging modality.
type Messaging struct {
	ParticipantID  string `json:"participant"`
	ConversationID string `json:"conversation"`
	State          string `json:"state"`
	// InvitationID and OperationID are those of the latest addMessaging:
	// its messagingInvitation and the client's operationId.
	InvitationID string `json:"invitation,omitempty"`
	OperationID  string `json:"operationId,omitempty"`
	// ConnectedAt is when it was last connected: messages from then on are
	// the participant's.
	ConnectedAt time.Time `json:"connectedAt,omitzero"`
	// TypingUntil is when the participant stops showing as typing; zero:
	// it is not typing.
	TypingUntil time.Time `json:"-"`
	// NextSend is the rate's clock (see AllowMessage).
	NextSend time.Time `json:"-"`
}

// MessagingView is a participant's messaging as its application sees it.
type MessagingView struct {
	Self      *Participant
	Messaging Messaging
}

// Connected reports whether the modality is connected.
func (m *Messaging) Connected() bool { return m.State == MessagingConnected }

// Message is one instant message as stored: once, in the event that
// delivers it to every receiver and its sender. Sender fields name the
// sending participant as it was when it sent.
type Message struct {
	ID             string `json:"id"`
	ConversationID string `json:"conversation"`
	SenderID       string `json:"sender"`
	// SenderApplicationID tells the sender's own application (which sees
	// the message as Outgoing) from the receivers'.
	SenderApplicationID string    `json:"senderApp"`
	SenderName          string    `json:"senderName"`
	OperationID         string    `json:"operationId,omitempty"`
	TimeStamp           time.Time `json:"timeStamp"`
	MessageBody
}

// Direction is the message's direction for the application appID:
// Outgoing for the sender's, Incoming for every other.
func (m *Message) Direction(appID string) string {
	if appID == m.SenderApplicationID {
		return "Outgoing"
	}
	return "Incoming"
}

// Kinds of the subjects of messaging. Their Event.Data is a MessagingEvent
// (JSON).
const (
	// SubjectMessaging is a participant's messaging modality; its key is
	// the conversation's id and the participant's.
	SubjectMessaging SubjectKind = "messaging"
	// SubjectMessagingInvitation is an addMessaging operation; its key is
	// the conversation's id, the participant's and the invitation's.
	SubjectMessagingInvitation SubjectKind = "messagingInvitation"
	// SubjectTyping is a participant in a conversation's
	// typingParticipants; its key is the conversation's id and the
	// participant's.
	SubjectTyping SubjectKind = "typingParticipant"
	// SubjectMessage is a message; its key is the conversation's id and
	// the message's.
	SubjectMessage SubjectKind = "message"
)

// MessagingEvent is what an event of messaging carries (Event.Data, as
// JSON) beyond its subject. A message's event goes to the sender and every
// receiver alike: it holds the message and nothing of any receiver's.
type MessagingEvent struct {
	// Name is the typing participant's, its link's title.
	Name string `json:"name,omitempty"`
	// Messaging is the modality at commit, for its own application's
	// messaging and messagingInvitation events.
	Messaging *Messaging `json:"messaging,omitempty"`
	Message   *Message   `json:"message,omitempty"`
}

func (ds *deliveries) addMessaging(to Recipient, typ EventType, subject Subject, me MessagingEvent) {
	b, err := json.Marshal(me)
	if err != nil {
		panic("ucwad: marshalling a messaging event: " + err.Error()) // plain structs cannot fail
	}
	*ds = append(*ds, delivery{to: to, ev: Event{Type: typ, Subject: subject, Data: b}})
}

func messagingSubject(kind SubjectKind, conversationID, participantID string) Subject {
	return Subject{Kind: kind, Key: conversationID + "/" + participantID}
}

// MessagingInvitationSubject is the subject of events about an
// addMessaging operation.
func MessagingInvitationSubject(conversationID, participantID, invitationID string) Subject {
	return Subject{Kind: SubjectMessagingInvitation, Key: conversationID + "/" + participantID + "/" + invitationID}
}

// MessageSubject is the subject of a message's event.
func MessageSubject(conversationID, messageID string) Subject {
	return Subject{Kind: SubjectMessage, Key: conversationID + "/" + messageID}
}

// messagingUpdate adds the messaging updated event of p's modality m, for
// p's application.
func (ds *deliveries) messagingUpdate(p *Participant, m Messaging) {
	ds.addMessaging(recipient(p), EventUpdated, messagingSubject(SubjectMessaging, p.ConversationID, p.ID), MessagingEvent{Messaging: &m})
}

// typing adds, for each of to, p entering (added) or leaving (deleted)
// typingParticipants.
func (ds *deliveries) typing(to []*Participant, typ EventType, p *Participant) {
	for _, q := range to {
		ds.addMessaging(recipient(q), typ, messagingSubject(SubjectTyping, p.ConversationID, p.ID), MessagingEvent{Name: p.Name})
	}
}

// Listeners are the participants of roster that hear what p says and
// types: the others that are admitted, see p and whose messaging is
// connected (connected reports that of a participant id).
func Listeners(p *Participant, roster []*Participant, connected func(participantID string) bool) []*Participant {
	var out []*Participant
	for _, q := range roster {
		if q.ID != p.ID && !q.InLobby && q.Sees(p) && connected(q.ID) {
			out = append(out, q)
		}
	}
	return out
}

// MessagingAvailableEvents tell p, admitted into a conversation, that it
// may add messaging: its messaging, Disconnected (what Microsoft's sample
// waits for before it posts addMessaging).
func MessagingAvailableEvents(p *Participant) []Delivery {
	var ds deliveries
	ds.messagingUpdate(p, Messaging{ParticipantID: p.ID, ConversationID: p.ConversationID, State: MessagingDisconnected})
	return ds.changes()
}

// AddMessagingEvents are the events of p connecting its messaging m (as
// committed): the messagingInvitation started, the modality Connected,
// the invitation completed.
func AddMessagingEvents(p *Participant, m Messaging) []Delivery {
	var ds deliveries
	sub := MessagingInvitationSubject(p.ConversationID, p.ID, m.InvitationID)
	started := m
	started.State = "Connecting"
	ds.addMessaging(recipient(p), EventStarted, sub, MessagingEvent{Messaging: &started})
	ds.messagingUpdate(p, m)
	ds.addMessaging(recipient(p), EventCompleted, sub, MessagingEvent{Messaging: &m})
	return ds.changes()
}

// StopMessagingEvents are the events of p disconnecting its messaging m
// (as committed): the listeners see p stop typing if it was, p its
// modality Disconnected.
func StopMessagingEvents(p *Participant, m Messaging, wasTyping bool, listeners []*Participant) []Delivery {
	var ds deliveries
	if wasTyping {
		ds.typing(listeners, EventDeleted, p)
	}
	ds.messagingUpdate(p, m)
	return ds.changes()
}

// TypingEvents are the events of p starting (typing true) or stopping to
// type, for its listeners.
func TypingEvents(p *Participant, typing bool, listeners []*Participant) []Delivery {
	var ds deliveries
	typ := EventDeleted
	if typing {
		typ = EventAdded
	}
	ds.typing(listeners, typ, p)
	return ds.changes()
}

// MessageEvents are the events of p sending msg: the listeners see p stop
// typing if it was, then every listener and p itself get the message
// completed, one event (one stored body) for them all.
func MessageEvents(p *Participant, msg *Message, wasTyping bool, listeners []*Participant) []Delivery {
	var ds deliveries
	if wasTyping {
		ds.typing(listeners, EventDeleted, p)
	}
	sub := MessageSubject(msg.ConversationID, msg.ID)
	me := MessagingEvent{Message: msg}
	for _, q := range listeners {
		ds.addMessaging(recipient(q), EventCompleted, sub, me)
	}
	ds.addMessaging(recipient(p), EventCompleted, sub, me)
	return ds.changes()
}

// CheckMessaging returns nil when p may send and type with modality m: a
// 403 from the lobby or when m is not connected.
func CheckMessaging(p *Participant, m *Messaging) error {
	if p.InLobby {
		return Errorf(EForbidden, SubMessagingNotConnected, "Messaging starts once a leader admitted you from the lobby.")
	}
	if !m.Connected() {
		return Errorf(EForbidden, SubMessagingNotConnected, "Add messaging to the conversation first.")
	}
	return nil
}

// AllowMessage applies the message rate of l to one more message at now,
// given the rate's clock next (a participant's NextSend; zero at first).
// The rate is a generic cell rate: MessageBurst messages at once, then one
// every minute/MessagesPerMinute. It returns the clock to store and true,
// or how long to wait and false (an ETooManyRequests to return, with the
// wait, is RateError).
func (l Limits) AllowMessage(next, now time.Time) (time.Time, time.Duration, bool) {
	l = l.WithDefaults()
	interval := time.Minute / time.Duration(l.MessagesPerMinute)
	tolerance := interval * time.Duration(l.MessageBurst-1)
	if next.Before(now) {
		next = now
	}
	if wait := next.Sub(now) - tolerance; wait > 0 {
		return time.Time{}, wait, false
	}
	return next.Add(interval), 0, true
}

// RateError is the 429 of a message over the rate, to retry after wait.
func RateError(wait time.Duration) error {
	return &Error{Code: ETooManyRequests, Message: "You are sending messages too fast; wait a moment.", RetryAfter: wait}
}
