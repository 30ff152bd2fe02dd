package ucwad

import "encoding/json"

// Subjects of the events of joining meetings. Their Event.Data is a
// ConversationEvent.
const (
	SubjectInvitation       = "onlineMeetingInvitation"
	SubjectConversation     = "conversation"
	SubjectMeetingView      = "onlineMeeting"
	SubjectLocalParticipant = "localParticipant"
	SubjectParticipant      = "participant"
)

// ConversationEvent is what an event about a conversation carries
// (Event.Data, as JSON): enough to render it for the one application that
// receives it, as it was at commit.
type ConversationEvent struct {
	Conversation string `json:"conversation"`
	// Participant is the subject of participant events, and its name the
	// link's title; In names the roster view (ViewLobby, ViewLeaders,
	// ViewAttendees) of an event about the view rather than the roster.
	Participant string `json:"participant,omitempty"`
	Name        string `json:"name,omitempty"`
	In          string `json:"in,omitempty"`
	// Reason is the subcode of a server-initiated change (an ejection, a
	// meeting that ended) on a conversation update.
	Reason string `json:"reason,omitempty"`
	// View is the receiver's view, for conversation and localParticipant
	// events that embed it.
	View *ConversationView `json:"view,omitempty"`
	// Invitation is the invitation, for its events.
	Invitation *Invitation `json:"invitation,omitempty"`
}

// Recipient is the application an event is for.
type Recipient struct {
	UserID        int64
	ApplicationID string
}

// Delivery is one event for one application.
type Delivery struct {
	To    Recipient
	Event Event
}

// deliveries collects the events of one change, in order.
type deliveries []Delivery

func recipient(p *Participant) Recipient {
	return Recipient{UserID: p.UserID, ApplicationID: p.ApplicationID}
}

func (ds *deliveries) add(to Recipient, typ EventType, subject string, ce ConversationEvent) {
	b, err := json.Marshal(ce)
	if err != nil {
		panic("ucwad: marshalling a conversation event: " + err.Error()) // plain structs cannot fail
	}
	*ds = append(*ds, Delivery{To: to, Event: Event{Type: typ, Subject: subject, Data: b}})
}

// invitation adds an event about inv, for its application, embedding inv
// as it is now (a copy: inv may change later in the same change).
func (ds *deliveries) invitation(typ EventType, inv *Invitation) {
	snapshot := *inv
	ds.add(Recipient{inv.UserID, inv.ApplicationID}, typ, SubjectInvitation,
		ConversationEvent{Conversation: inv.ConversationID, Invitation: &snapshot})
}

// conversation adds a conversation event for v.Self's application, with v
// in the given state.
func (ds *deliveries) conversation(typ EventType, v *ConversationView, state, reason string) {
	snapshot := *v
	snapshot.State = state
	ce := ConversationEvent{Conversation: v.ID, Reason: reason}
	if typ != EventDeleted {
		ce.View = &snapshot
	}
	ds.add(recipient(v.Self), typ, SubjectConversation, ce)
}

// local adds a localParticipant event for v.Self's application.
func (ds *deliveries) local(typ EventType, v *ConversationView) {
	ce := ConversationEvent{Conversation: v.ID, Participant: v.Self.ID, Name: v.Self.Name}
	if typ != EventDeleted {
		snapshot := *v
		self := *v.Self
		snapshot.Self = &self
		ce.View = &snapshot
	}
	ds.add(recipient(v.Self), typ, SubjectLocalParticipant, ce)
}

// participant adds an event about p for to's application: about the roster
// (in "") or about the view in.
func (ds *deliveries) participant(to *Participant, typ EventType, p *Participant, in string) {
	ds.add(recipient(to), typ, SubjectParticipant,
		ConversationEvent{Conversation: p.ConversationID, Participant: p.ID, Name: p.Name, In: in})
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
	return ds
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
		ds.add(recipient(p), EventAdded, SubjectMeetingView, ConversationEvent{Conversation: c.ID})
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
	return ds
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
	ds.add(recipient(p), EventAdded, SubjectMeetingView, ConversationEvent{Conversation: c.ID})
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
	return ds
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
	return ds
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
	return ds
}
