package ucwad

import (
	"context"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// ConversationStore keeps who is in which meeting: each meeting's live
// conversation, its participants (in the lobby or admitted) and the
// invitations (onlineMeetingInvitation) applications follow their joins
// with. Every change appends its events, in the same transaction, to the
// audiences the Deliveries of conversationevents.go name (each event's body
// stored once). Bounds are the store's Limits (MaxParticipants,
// MaxLobbyParticipants, MaxConversationsPerApplication, LobbyTimeout),
// counted and enforced inside the change's transaction, so that they hold
// whatever runs in parallel, in this process or another one sharing the
// store.
//
// appID is always the caller's own application; a conversation it is not
// a participant of is ENotFound, exactly as one that does not exist.
type ConversationStore interface {
	// JoinMeeting joins r.ApplicationID to meeting r.MeetingID: it creates
	// the invitation, starts the meeting's conversation if it has none,
	// and lets the joiner in or into the lobby (see Admission), or refuses
	// it for a bound (the invitation then fails with
	// SubTooManyParticipants or SubTooManyLobbyParticipants). It returns
	// the invitation as committed. Synchronous failures, which change
	// nothing: ENotFound (SubDestinationNotFound) when there is no such
	// meeting, it is not organized by r.OrganizerSIP (when set), or it is
	// past its ExpirationTime; EConflict (SubAlreadyExists) when the
	// application is in the meeting's conversation already; EConflict
	// (SubTooManyConversations) when it is in MaxConversationsPerApplication
	// conversations. A joiner waiting in the lobby waits LobbyTimeout at
	// most (see SweepConversations). An anonymous joiner (r.Anonymous, a
	// guest of GuestStore) takes r.Name as its user's name, which its me
	// shows.
	JoinMeeting(ctx context.Context, r *JoinRequest) (*Invitation, error)
	// StartMeeting creates an ad hoc meeting (MeetingRelAdHoc) of r.UserID
	// with settings s and JoinBase r.JoinBase and joins it as its organizer, as JoinMeeting does
	// (r.MeetingID is ignored). The meeting goes with its conversation.
	StartMeeting(ctx context.Context, r *JoinRequest, s MeetingSettings) (*Invitation, error)
	// FindInvitation returns an invitation of the application, or
	// ENotFound.
	FindInvitation(ctx context.Context, appID, id string) (*Invitation, error)
	// FindConversation returns the application's view of the
	// conversation, or ENotFound.
	FindConversation(ctx context.Context, appID, conversationID string) (*ConversationView, error)
	// ListConversations returns the application's views of every
	// conversation it is in, oldest first.
	ListConversations(ctx context.Context, appID string) ([]*ConversationView, error)
	// Roster returns the application's view of the conversation and the
	// participants it can see (see Sees), in the order they arrived, or
	// ENotFound.
	Roster(ctx context.Context, appID, conversationID string) (*ConversationView, []*Participant, error)
	// ConversationMeeting returns the meeting of the conversation (with its
	// Organizer, as every meeting the store returns), for a participant of
	// it, or ENotFound.
	ConversationMeeting(ctx context.Context, appID, conversationID string) (*OnlineMeeting, error)
	// LeaveConversation takes the application's participant out of the
	// conversation (Departure with SubCanceled for one in the lobby).
	// Returns ENotFound if it is not in it.
	LeaveConversation(ctx context.Context, appID, conversationID string) error
	// ChangeParticipant has the application's participant do a to the
	// participant targetID of the same conversation: the checks of
	// CheckAction, then the change and its events. Returns ENotFound when
	// the application is not in the conversation; EForbidden
	// (SubAttendeeNotAllowed) when its participant is not an admitted
	// leader, whoever the target; ENotFound when the target is not there
	// (or not visible to it); the other errors of CheckAction; and
	// EConflict (SubTooManyParticipants) when admitting into a meeting
	// holding MaxParticipants.
	ChangeParticipant(ctx context.Context, appID, conversationID, targetID string, a Action) error
	// SweepConversations removes the participants that waited in a lobby
	// until their LobbyDeadline (now or before; SubTimeout) and those whose
	// application is gone, and returns how many it removed.
	SweepConversations(ctx context.Context) (int, error)
}

// MaxFinishedInvitations is how many failed invitations the store keeps
// per application, the newest, so that a client can still read why a join
// failed without an application piling failures up.
const MaxFinishedInvitations = 16

// MeetingRelAdHoc marks a meeting made by startOnlineMeeting. It is never
// on the wire: such meetings are not listed in myOnlineMeetings, and their
// view reports MeetingRelScheduled.
const MeetingRelAdHoc = "adhoc"

// Participant roles (the Role enumeration).
const (
	RoleLeader   = "Leader"
	RoleAttendee = "Attendee"
)

// Conversation states (the ConversationState enumeration) a meeting
// conversation goes through.
const (
	StateConnecting   = "Connecting"
	StateInLobby      = "InLobby"
	StateConferenced  = "Conferenced"
	StateDisconnected = "Disconnected"
)

// Invitation states (the InvitationState enumeration) of an
// onlineMeetingInvitation.
const (
	InvitationConnecting = "Connecting"
	InvitationConnected  = "Connected"
	InvitationFailed     = "Failed"
)

// Subcodes of joining: synchronous errors, and the reasons of failed
// invitations and ended conversations.
const (
	SubDestinationNotFound      = "DestinationNotFound"
	SubTooManyConversations     = "TooManyConversations"
	SubTooManyParticipants      = "TooManyParticipants"
	SubTooManyLobbyParticipants = "TooManyLobbyParticipants"
	SubAttendeeNotAllowed       = "AttendeeNotAllowed"
	SubDenied                   = "Denied"
	SubEjected                  = "Ejected"
	SubEnded                    = "Ended"
	SubTimeout                  = "Timeout"
	SubCanceled                 = "Canceled"
)

// ReasonCode is the ErrorCode that goes with a subcode of an asynchronous
// failure (a failed invitation, an ended conversation).
func ReasonCode(subcode string) string {
	switch subcode {
	case SubTimeout:
		return "Timeout"
	case SubEnded:
		return "Gone"
	case SubCanceled:
		return "Informational"
	}
	return string(EForbidden)
}

// Importances are the values of the Importance enumeration.
var Importances = []string{"Normal", "Urgent", "Emergency"}

// Bounds of what a join request carries, in characters: the reference's
// for operationId and subject; threadId has none documented.
const (
	MaxOperationID = 50
	MaxSubject     = 250
	MaxThreadID    = 256
	// MaxMeetingURI bounds the meeting URI a client names: a focus URI
	// or join URL is a few hundred characters.
	MaxMeetingURI = 2048
	// MaxAnonymousDisplayName is the reference's bound of
	// anonymousDisplayName.
	MaxAnonymousDisplayName = 250
)

// Joiner is who joins: a signed-in user, or (UserID 0) an anonymous guest.
type Joiner struct {
	UserID int64
	// URI is the joiner's SIP URI, "sip:user@domain".
	URI       string
	Name      string
	Anonymous bool
}

// JoinRequest is a joinOnlineMeeting or startOnlineMeeting.
type JoinRequest struct {
	ApplicationID string
	Joiner
	// MeetingID and OrganizerSIP are what the meeting URI names (see
	// ParseMeetingURI); OrganizerSIP "" does not check the organizer.
	MeetingID    string
	OrganizerSIP string
	// OnlineMeetingURI is the URI as the client sent it, echoed in the
	// invitation.
	OnlineMeetingURI     string
	OperationID          string
	Subject              string
	Importance           string
	ThreadID             string
	AnonymousDisplayName string
	// JoinBase is the JoinBase of the ad hoc meeting StartMeeting creates;
	// JoinMeeting ignores it.
	JoinBase string
}

// Check validates what the client sent (bounds, text XML can carry, and
// enumerations) and canonicalizes Importance ("Normal" when empty). It
// returns a 400 ParameterValidationFailure naming the member at fault.
// Query parameters reach it unchecked, so it checks the text too.
func (r *JoinRequest) Check() error {
	for _, f := range []struct {
		name, v string
		max     int
	}{
		{"onlineMeetingUri", r.OnlineMeetingURI, MaxMeetingURI},
		{"operationId", r.OperationID, MaxOperationID},
		{"subject", r.Subject, MaxSubject},
		{"threadId", r.ThreadID, MaxThreadID},
		{"anonymousDisplayName", r.AnonymousDisplayName, MaxAnonymousDisplayName},
	} {
		if n := utf8.RuneCountInString(f.v); n > f.max {
			return InvalidParameter(f.name, "%s must be at most %d characters (it has %d).", f.name, f.max, n)
		}
		if !utf8.ValidString(f.v) || strings.ContainsFunc(f.v, notXMLText) {
			return InvalidParameter(f.name, "%s holds a character UCWA cannot carry.", f.name)
		}
	}
	if r.Importance == "" {
		r.Importance = Importances[0]
		return nil
	}
	canon, ok := EnumValue(Importances, r.Importance)
	if !ok {
		return InvalidParameter("importance", "importance %q is not one of %s.", r.Importance, strings.Join(Importances, ", "))
	}
	r.Importance = canon
	return nil
}

// SetMeeting sets MeetingID and OrganizerSIP from the meeting URI a client
// names (see ParseMeetingURI), or returns a 400 ParameterValidationFailure
// naming onlineMeetingUri when uri names no meeting.
func (r *JoinRequest) SetMeeting(uri string) error {
	organizer, id, ok := ParseMeetingURI(uri)
	if !ok {
		return InvalidParameter("onlineMeetingUri", "onlineMeetingUri %q is not a meeting URI such as sip:alice@contoso.com;gruu;opaque=app:conf:focus:id:PYC58WSY3K.", shortName(uri))
	}
	r.MeetingID, r.OrganizerSIP = id, organizer
	return nil
}

// notXMLText reports the characters XML 1.0 cannot carry in text: control
// characters other than tab, line feed and carriage return, and U+FFFE and
// U+FFFF.
func notXMLText(r rune) bool {
	return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF
}

// ParseMeetingURI reads the meeting a client names: the focus URI
// "sip:<organizer>;gruu;opaque=app:conf:focus:id:<id>", the legacy
// "conf:<focus URI>?conversation-id=<guid>", or the join URL
// "https://<host>/<alias>/<id>". It returns the organizer's SIP address
// (without "sip:"; for a join URL only its alias, without "@") and the
// meeting id; ok is false when s is none of these.
func ParseMeetingURI(s string) (organizer, id string, ok bool) {
	s = strings.TrimSpace(s)
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "https://") || strings.HasPrefix(lower, "http://"):
		u, err := url.Parse(s)
		if err != nil {
			return "", "", false
		}
		segs := strings.Split(strings.Trim(u.Path, "/"), "/")
		if len(segs) < 2 {
			return "", "", false
		}
		alias, id := segs[len(segs)-2], segs[len(segs)-1]
		if alias == "" || id == "" || strings.Contains(alias, "@") {
			return "", "", false
		}
		return alias, id, true
	case strings.HasPrefix(lower, "conf:"):
		s = s[len("conf:"):]
		if q := strings.IndexByte(s, '?'); q >= 0 {
			s = s[:q]
		}
	}
	if len(s) >= 4 && strings.EqualFold(s[:4], "sip:") {
		s = s[4:]
	}
	addr, params, found := strings.Cut(s, ";")
	if !found {
		return "", "", false
	}
	const focus = "opaque=app:conf:focus:id:"
	for _, p := range strings.Split(params, ";") {
		if len(p) > len(focus) && strings.EqualFold(p[:len(focus)], focus) {
			id = p[len(focus):]
		}
	}
	user, domain, at := strings.Cut(addr, "@")
	if id == "" || !at || user == "" || domain == "" {
		return "", "", false
	}
	return addr, id, true
}

// SameOrganizer reports whether the organizer a meeting URI names (a SIP
// address, or a join URL's alias) is the user with SIP address sip.
func SameOrganizer(named, sip string) bool {
	if strings.Contains(named, "@") {
		return strings.EqualFold(named, sip)
	}
	alias, _, _ := strings.Cut(sip, "@")
	return strings.EqualFold(named, alias)
}

// Entry is how a joiner enters a meeting (see Admission).
type Entry struct {
	Lobby     bool
	Role      string
	Organizer bool
}

// Admission decides how j enters meeting m (the table "Who gets in" of
// docs/meetings.md): whether it waits in the lobby, and the role it gets
// when it enters. Listed leaders and attendees are matched by SIP
// address, ignoring case. Automatic leader assignment decides the role on
// entry, never the lobby.
func Admission(m *OnlineMeeting, j Joiner) Entry {
	organizer := !j.Anonymous && j.UserID != 0 && j.UserID == m.UserID
	listedLeader := !j.Anonymous && listed(m.Leaders, j.URI)
	listedAttendee := !j.Anonymous && listed(m.Attendees, j.URI)
	var lobby bool
	switch {
	case organizer || listedLeader:
		lobby = false
	case m.AccessLevel == "Everyone":
		lobby = false
	case m.AccessLevel == "SameEnterprise":
		lobby = j.Anonymous
	case m.AccessLevel == "Invited":
		lobby = !listedAttendee
	default: // Locked, and None ("not initialised"), which fails closed
		lobby = true
	}
	role := RoleAttendee
	switch {
	case organizer || listedLeader:
		role = RoleLeader
	case m.AutomaticLeaderAssignment == "Everyone":
		role = RoleLeader
	case m.AutomaticLeaderAssignment == "SameEnterprise" && !j.Anonymous:
		role = RoleLeader
	}
	return Entry{Lobby: lobby, Role: role, Organizer: organizer}
}

func listed(list []string, uri string) bool {
	for _, l := range list {
		if strings.EqualFold(l, uri) {
			return true
		}
	}
	return false
}

// Conversation is the live session of one meeting, shared by its
// participants.
type Conversation struct {
	ID        string
	MeetingID string
	// ThreadID is drawn when the conversation starts; participants that
	// name none share it.
	ThreadID string
	// Subject is the meeting's subject when the conversation started.
	Subject   string
	CreatedAt time.Time
}

// Participant is one application in a meeting's conversation.
type Participant struct {
	ID             string
	ConversationID string
	ApplicationID  string
	// UserID is the signed-in user, 0 for an anonymous guest.
	UserID    int64
	Name      string
	URI       string
	Role      string
	InLobby   bool
	Organizer bool
	Anonymous bool
	// InvitationID is the join that brought it.
	InvitationID string
	JoinedAt     time.Time
	// LobbyDeadline is when a participant in the lobby stops waiting.
	LobbyDeadline time.Time
}

// View is the roster view (lobby, leaders or attendees) the participant is
// in.
func (p *Participant) View() string {
	switch {
	case p.InLobby:
		return ViewLobby
	case p.Role == RoleLeader:
		return ViewLeaders
	}
	return ViewAttendees
}

// The roster views of a conversation.
const (
	ViewLobby     = "lobby"
	ViewLeaders   = "leaders"
	ViewAttendees = "attendees"
)

// Sees reports whether viewer may see p: itself always; a participant in
// the lobby nobody else; an attendee every admitted participant; a leader
// everyone.
func (viewer *Participant) Sees(p *Participant) bool {
	switch {
	case viewer.ID == p.ID:
		return true
	case viewer.InLobby:
		return false
	case p.InLobby:
		return viewer.Role == RoleLeader
	}
	return true
}

// Action is what a leader does to a participant.
type Action string

// The actions of the participant resource, named as its capability links.
const (
	ActionAdmit   Action = "admit"
	ActionReject  Action = "reject"
	ActionPromote Action = "promote"
	ActionDemote  Action = "demote"
	ActionEject   Action = "eject"
)

// Actions are every Action, in the order capability links are listed.
var Actions = []Action{ActionAdmit, ActionReject, ActionPromote, ActionDemote, ActionEject}

// Capabilities returns the actions viewer may take on p, in the order of
// Actions: none unless viewer is an admitted leader looking at someone else
// who is not the organizer; then admit, reject and eject for a
// participant in the lobby, promote and eject for an attendee, demote and
// eject for a leader.
func Capabilities(viewer, p *Participant) []Action {
	if viewer.InLobby || viewer.Role != RoleLeader || viewer.ID == p.ID || p.Organizer || !viewer.Sees(p) {
		return nil
	}
	switch {
	case p.InLobby:
		return []Action{ActionAdmit, ActionReject, ActionEject}
	case p.Role == RoleLeader:
		return []Action{ActionDemote, ActionEject}
	}
	return []Action{ActionPromote, ActionEject}
}

// CheckAction returns nil when viewer may do a to p (see Capabilities),
// 403 Forbidden (SubAttendeeNotAllowed) when viewer is not an admitted
// leader, and 409 Conflict when the action does not apply to p.
func CheckAction(viewer, p *Participant, a Action) error {
	if viewer.InLobby || viewer.Role != RoleLeader {
		return Errorf(EForbidden, SubAttendeeNotAllowed, "Only a leader of the meeting may %s participants.", a)
	}
	for _, c := range Capabilities(viewer, p) {
		if c == a {
			return nil
		}
	}
	switch {
	case viewer.ID == p.ID:
		return Errorf(EConflict, "", "A leader cannot %s themselves.", a)
	case p.Organizer:
		return Errorf(EConflict, "", "The organizer cannot be %s.", pastTense(a))
	case a == ActionAdmit || a == ActionReject:
		return Errorf(EConflict, "", "%s is not waiting in the lobby.", p.Name)
	case a == ActionPromote && p.InLobby, a == ActionDemote && p.InLobby:
		return Errorf(EConflict, "", "%s is waiting in the lobby: admit them first.", p.Name)
	case a == ActionPromote:
		return Errorf(EConflict, "", "%s is a leader already.", p.Name)
	case a == ActionDemote:
		return Errorf(EConflict, "", "%s is an attendee already.", p.Name)
	}
	return Errorf(EConflict, "", "%s cannot be %s.", p.Name, pastTense(a))
}

func pastTense(a Action) string {
	switch a {
	case ActionAdmit:
		return "admitted"
	case ActionReject:
		return "rejected"
	case ActionPromote:
		return "promoted"
	case ActionDemote:
		return "demoted"
	}
	return "ejected"
}

// Invitation is one join (onlineMeetingInvitation), an operation of the
// joining application.
type Invitation struct {
	ID            string
	ApplicationID string
	UserID        int64
	MeetingID     string
	// ConversationID and ParticipantID are set once the join got a
	// participant (in the lobby or in).
	ConversationID       string
	ParticipantID        string
	OnlineMeetingURI     string
	OperationID          string
	Subject              string
	Importance           string
	ThreadID             string
	AnonymousDisplayName string
	// State is InvitationConnecting, InvitationConnected or
	// InvitationFailed; Reason is the subcode of a failure.
	State     string
	Reason    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ConversationView is one participant's view of its conversation: what GET
// conversation shows it.
type ConversationView struct {
	Conversation
	// Self is the participant whose view this is.
	Self *Participant
	// Invitation is the join that brought Self.
	Invitation *Invitation
	// State is StateInLobby or StateConferenced for a participant in the
	// store; events also carry StateConnecting and StateDisconnected.
	State string
	// ParticipantCount is how many participants Self sees, itself
	// included.
	ParticipantCount int
}

// Subject is the conversation's subject as Self sees it: the one it joined
// with, or the meeting's.
func (v *ConversationView) Subject() string {
	if v.Invitation != nil && v.Invitation.Subject != "" {
		return v.Invitation.Subject
	}
	return v.Conversation.Subject
}

// Thread is the thread id Self joined with, or the conversation's.
func (v *ConversationView) Thread() string {
	if v.Invitation != nil && v.Invitation.ThreadID != "" {
		return v.Invitation.ThreadID
	}
	return v.ThreadID
}

// ViewOf builds p's view of conversation c whose participants are roster
// (p among them), with p's invitation inv.
func ViewOf(c *Conversation, p *Participant, inv *Invitation, roster []*Participant) *ConversationView {
	v := &ConversationView{Conversation: *c, Self: p, Invitation: inv, State: StateConferenced}
	if p.InLobby {
		v.State = StateInLobby
	}
	for _, q := range roster {
		if p.Sees(q) {
			v.ParticipantCount++
		}
	}
	return v
}

// NewThreadID returns a random conversation thread id: 32 lower-case hex
// digits, the shape of the reference's examples. It panics only if the
// operating system's random source fails.
func NewThreadID() string {
	var b [16]byte
	randomBytes(b[:])
	const hex = "0123456789abcdef"
	out := make([]byte, 32)
	for i, c := range b {
		out[2*i], out[2*i+1] = hex[c>>4], hex[c&15]
	}
	return string(out)
}
