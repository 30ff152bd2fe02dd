package ucwad

import "encoding/json"

// Kinds of the subjects of joining meetings. Their Event.Data is a
// ConversationEvent (JSON).
const (
	// SubjectInvitation is an onlineMeetingInvitation; its key is the
	// invitation's id.
	SubjectInvitation SubjectKind = "onlineMeetingInvitation"
	// SubjectConversation is a conversation; its key is its id.
	SubjectConversation SubjectKind = "conversation"
	// SubjectMeetingView is a conversation's onlineMeeting view; its key is
	// the conversation's id.
	SubjectMeetingView SubjectKind = "onlineMeeting"
	// SubjectLocalParticipant is the receiver's own participant; its key is
	// the conversation's id and the participant's.
	SubjectLocalParticipant SubjectKind = "localParticipant"
	// SubjectParticipant is a participant of a conversation; its key is
	// the conversation's id and the participant's.
	SubjectParticipant SubjectKind = "participant"
)

// InvitationSubject is the subject of events about an invitation.
func InvitationSubject(invitationID string) Subject {
	return Subject{Kind: SubjectInvitation, Key: invitationID}
}

// ConversationSubject is the subject of events about a conversation
// (kind SubjectConversation or SubjectMeetingView).
func ConversationSubject(kind SubjectKind, conversationID string) Subject {
	return Subject{Kind: kind, Key: conversationID}
}

// ParticipantSubject is the subject of events about a participant of a
// conversation (kind SubjectParticipant or SubjectLocalParticipant).
func ParticipantSubject(kind SubjectKind, conversationID, participantID string) Subject {
	return Subject{Kind: kind, Key: conversationID + "/" + participantID}
}

// ConversationID is the conversation a subject of joining (but an
// invitation's) belongs to: the first id of its key.
func (s Subject) ConversationID() string { return s.MeetingID() }

// ParticipantID is the participant a participant subject names: its key
// after the conversation's id.
func (s Subject) ParticipantID() string { return s.ExtensionID() }

// ConversationEvent is what an event of joining carries (Event.Data, as
// JSON) beyond its subject: enough to render it for the application that
// receives it, as it was at commit. The same body goes to every recipient
// of a change that tells several applications the same (a participant
// arriving, leaving, moving), so it never holds anything of the receiver's
// but for events only the receiver gets (its conversation, its local
// participant, its invitation).
type ConversationEvent struct {
	// Name is the participant's, the link's title of participant events;
	// In names the roster view (ViewLobby, ViewLeaders, ViewAttendees) of
	// an event about the view rather than the roster.
	Name string `json:"name,omitempty"`
	In   string `json:"in,omitempty"`
	// Reason is the subcode of a server-initiated change (an ejection, a
	// meeting that ended) on a conversation update.
	Reason string `json:"reason,omitempty"`
	// View is the receiver's view, for conversation and localParticipant
	// events that embed it.
	View *ConversationView `json:"view,omitempty"`
	// Invitation is the invitation, for its events.
	Invitation *Invitation `json:"invitation,omitempty"`
}

// Delivery is one event of a change and its audience. The functions below
// return a change's deliveries in order: each recipient receives its events
// in that order, and an event that several applications receive alike is
// one delivery (one body in the store) for them all.
type Delivery struct {
	Event Event
	To    Audience
}

// delivery is one event for one application, as the functions below
// decide them; changes groups them into Deliveries.
type delivery struct {
	to Recipient
	ev Event
}

// deliveries collects the events of one change, in order, one per
// recipient.
type deliveries []delivery

// recipient is who receives a participant's events: its own application,
// not its user's other applications (an application joins a meeting, not
// a user), so the recipient names the application.
func recipient(p *Participant) Recipient {
	return Recipient{UserID: p.UserID, ApplicationID: p.ApplicationID}
}

func (ds *deliveries) add(to Recipient, typ EventType, subject Subject, ce ConversationEvent) {
	b, err := json.Marshal(ce)
	if err != nil {
		panic("ucwad: marshalling a conversation event: " + err.Error()) // plain structs cannot fail
	}
	*ds = append(*ds, delivery{to: to, ev: Event{Type: typ, Subject: subject, Data: b}})
}

// changes groups the events into Deliveries, one per distinct event where
// the order allows: a recipient's event joins the first delivery of the
// same event (type, subject, data) that comes after the recipient's
// previous one, or starts a new delivery at the end. Each recipient so
// receives its events in the order they were added, and an event told to
// many is stored once.
func (ds deliveries) changes() []Delivery {
	var out []Delivery
	same := map[string][]int{}  // an event's deliveries, by its body
	last := map[Recipient]int{} // each recipient's latest delivery
	for _, d := range ds {
		key := string(d.ev.Type) + "\x00" + string(d.ev.Subject.Kind) + "\x00" + d.ev.Subject.Key + "\x00" + string(d.ev.Data)
		after, seen := last[d.to]
		i := -1
		for _, j := range same[key] {
			if !seen || j > after {
				i = j
				break
			}
		}
		if i < 0 {
			i = len(out)
			out = append(out, Delivery{Event: d.ev})
			same[key] = append(same[key], i)
		}
		out[i].To = append(out[i].To, d.to)
		last[d.to] = i
	}
	return out
}

// invitation adds an event about inv, for its application, embedding inv
// as it is now (a copy: inv may change later in the same change).
func (ds *deliveries) invitation(typ EventType, inv *Invitation) {
	snapshot := *inv
	ds.add(Recipient{UserID: inv.UserID, ApplicationID: inv.ApplicationID}, typ, InvitationSubject(inv.ID),
		ConversationEvent{Invitation: &snapshot})
}

// conversation adds a conversation event for v.Self's application, with v
// in the given state.
func (ds *deliveries) conversation(typ EventType, v *ConversationView, state, reason string) {
	snapshot := *v
	snapshot.State = state
	ce := ConversationEvent{Reason: reason}
	if typ != EventDeleted {
		ce.View = &snapshot
	}
	ds.add(recipient(v.Self), typ, ConversationSubject(SubjectConversation, v.ID), ce)
}

// local adds a localParticipant event for v.Self's application.
func (ds *deliveries) local(typ EventType, v *ConversationView) {
	ce := ConversationEvent{Name: v.Self.Name}
	if typ != EventDeleted {
		snapshot := *v
		self := *v.Self
		snapshot.Self = &self
		ce.View = &snapshot
	}
	ds.add(recipient(v.Self), typ, ParticipantSubject(SubjectLocalParticipant, v.ID, v.Self.ID), ce)
}

// participant adds an event about p for to's application: about the roster
// (in "") or about the view in.
func (ds *deliveries) participant(to *Participant, typ EventType, p *Participant, in string) {
	ds.add(recipient(to), typ, ParticipantSubject(SubjectParticipant, p.ConversationID, p.ID),
		ConversationEvent{Name: p.Name, In: in})
}

// arrival adds, for to's application, the events of p arriving in its
// sight: p in the roster, and in p's view.
func (ds *deliveries) arrival(to, p *Participant) {
	ds.participant(to, EventAdded, p, "")
	ds.participant(to, EventAdded, p, p.View())
}

// departure adds, for to's application, the events of p leaving its sight:
// p out of its view, and out of the roster.
func (ds *deliveries) departure(to, p *Participant) {
	ds.participant(to, EventDeleted, p, p.View())
	ds.participant(to, EventDeleted, p, "")
}

// others returns the participants of roster other than p that see p.
func others(roster []*Participant, p *Participant) []*Participant {
	var out []*Participant
	for _, q := range roster {
		if q.ID != p.ID && q.Sees(p) {
			out = append(out, q)
		}
	}
	return out
}

// RefusedJoinEvents are the events of a join refused for a bound: the
// invitation started and failed (inv as failed).
func RefusedJoinEvents(inv *Invitation) []Delivery {
	var ds deliveries
	started := *inv
	started.State, started.Reason = InvitationConnecting, ""
	ds.invitation(EventStarted, &started)
	ds.invitation(EventCompleted, inv)
	return ds.changes()
}

// JoinEvents are the events of p joining conversation c with invitation inv
// (as committed: Connected when p entered, Connecting when it waits in the
// lobby); roster is the conversation's participants, p among them.
func JoinEvents(c *Conversation, inv *Invitation, p *Participant, roster []*Participant) []Delivery {
	var ds deliveries
	started := *inv
	started.State = InvitationConnecting
	ds.invitation(EventStarted, &started)
	v := ViewOf(c, p, inv, roster)
	ds.conversation(EventAdded, v, StateConnecting, "")
	if !p.InLobby {
		ds.add(recipient(p), EventAdded, ConversationSubject(SubjectMeetingView, c.ID), ConversationEvent{})
	}
	ds.local(EventAdded, v)
	ds.participant(p, EventAdded, p, p.View())
	if p.InLobby {
		ds.conversation(EventUpdated, v, StateInLobby, "")
		ds.invitation(EventUpdated, inv)
	} else {
		for _, q := range roster {
			if q.ID != p.ID && p.Sees(q) {
				ds.arrival(p, q)
			}
		}
		ds.conversation(EventUpdated, v, StateConferenced, "")
		ds.invitation(EventCompleted, inv)
	}
	for _, q := range others(roster, p) {
		ds.arrival(q, p)
	}
	return ds.changes()
}

// AdmitEvents are the events of p (as admitted) leaving the lobby into
// conversation c; inv is its invitation as completed, roster the
// participants after the change.
func AdmitEvents(c *Conversation, inv *Invitation, p *Participant, roster []*Participant) []Delivery {
	var ds deliveries
	v := ViewOf(c, p, inv, roster)
	ds.participant(p, EventDeleted, p, ViewLobby)
	ds.participant(p, EventAdded, p, p.View())
	ds.local(EventUpdated, v)
	ds.add(recipient(p), EventAdded, ConversationSubject(SubjectMeetingView, c.ID), ConversationEvent{})
	for _, q := range roster {
		if q.ID != p.ID && p.Sees(q) {
			ds.arrival(p, q)
		}
	}
	ds.conversation(EventUpdated, v, StateConferenced, "")
	ds.invitation(EventCompleted, inv)
	for _, q := range others(roster, p) {
		if q.Role == RoleLeader {
			// Leaders saw p in the lobby: it moves, and what they may do
			// to it changes.
			ds.participant(q, EventDeleted, p, ViewLobby)
			ds.participant(q, EventAdded, p, p.View())
			ds.participant(q, EventUpdated, p, "")
		} else {
			ds.arrival(q, p)
		}
	}
	return ds.changes()
}

// DepartureEvents are the events of p (as it was) leaving conversation c:
// inv is its invitation, as failed with reason when p was in the lobby;
// roster is the participants after p left. reason is the subcode of a
// leaving p did not ask for (SubEjected, SubEnded), given with its
// conversation update; tellOthers false leaves the others unaware (they are
// all leaving).
func DepartureEvents(c *Conversation, inv *Invitation, p *Participant, roster []*Participant, reason string, tellOthers bool) []Delivery {
	var ds deliveries
	all := append(roster[:len(roster):len(roster)], p)
	v := ViewOf(c, p, inv, all)
	if p.InLobby {
		ds.invitation(EventCompleted, inv)
		reason = ""
	} else {
		ds.participant(p, EventDeleted, p, p.View())
	}
	ds.local(EventDeleted, v)
	ds.conversation(EventUpdated, v, StateDisconnected, reason)
	ds.conversation(EventDeleted, v, StateDisconnected, "")
	if tellOthers {
		for _, q := range others(roster, p) {
			ds.departure(q, p)
		}
	}
	return ds.changes()
}

// RoleEvents are the events of p (as changed) going from role old to
// p.Role in conversation c; inv is its invitation, roster the participants
// after the change.
func RoleEvents(c *Conversation, inv *Invitation, p *Participant, old string, roster []*Participant) []Delivery {
	var ds deliveries
	before := *p
	before.Role = old
	v := ViewOf(c, p, inv, roster)
	ds.participant(p, EventDeleted, p, before.View())
	ds.participant(p, EventAdded, p, p.View())
	ds.local(EventUpdated, v)
	for _, q := range roster {
		switch {
		case q.ID == p.ID:
		case q.InLobby && p.Role == RoleLeader:
			ds.arrival(p, q)
		case q.InLobby:
			ds.departure(p, q)
		default:
			// What p may do to every admitted participant changed.
			ds.participant(p, EventUpdated, q, "")
		}
	}
	for _, q := range others(roster, p) {
		ds.participant(q, EventDeleted, p, before.View())
		ds.participant(q, EventAdded, p, p.View())
		if q.Role == RoleLeader {
			ds.participant(q, EventUpdated, p, "")
		}
	}
	return ds.changes()
}
