package ucwad_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ucwad/ucwad"
)

func TestParseMeetingURI(t *testing.T) {
	for _, tc := range []struct {
		in            string
		organizer, id string
		ok            bool
	}{
		{"sip:alice@contoso.com;gruu;opaque=app:conf:focus:id:PYC58WSY3K", "alice@contoso.com", "PYC58WSY3K", true},
		{"SIP:Alice@Contoso.com;GRUU;OPAQUE=APP:CONF:FOCUS:ID:PYC58WSY3K", "Alice@Contoso.com", "PYC58WSY3K", true},
		{"  sip:alice@contoso.com;gruu;opaque=app:conf:focus:id:X  ", "alice@contoso.com", "X", true},
		{"alice@contoso.com;gruu;opaque=app:conf:focus:id:X", "alice@contoso.com", "X", true},
		{"conf:sip:alice@contoso.com;gruu;opaque=app:conf:focus:id:X?conversation-id=0f7a", "alice@contoso.com", "X", true},
		{"https://meet.contoso.com/alice/PYC58WSY3K", "alice", "PYC58WSY3K", true},
		{"https://meet.contoso.com/alice/PYC58WSY3K/", "alice", "PYC58WSY3K", true},
		{"https://contoso.com/meet/alice/X?sl=1", "alice", "X", true},
		{"https://meet.contoso.com/PYC58WSY3K", "", "", false},
		{"https://meet.contoso.com/a@b/X", "", "", false},
		{"sip:alice@contoso.com", "", "", false},
		{"sip:alice@contoso.com;gruu", "", "", false},
		{"sip:alice@contoso.com;gruu;opaque=app:conf:focus:id:", "", "", false},
		{"sip:@contoso.com;gruu;opaque=app:conf:focus:id:X", "", "", false},
		{"sip:alice;gruu;opaque=app:conf:focus:id:X", "", "", false},
		{"adhoc", "", "", false},
		{"", "", "", false},
	} {
		org, id, ok := ucwad.ParseMeetingURI(tc.in)
		if org != tc.organizer || id != tc.id || ok != tc.ok {
			t.Errorf("ParseMeetingURI(%q) = %q, %q, %v; want %q, %q, %v", tc.in, org, id, ok, tc.organizer, tc.id, tc.ok)
		}
	}
}

func TestSameOrganizer(t *testing.T) {
	for _, tc := range []struct {
		named, sip string
		want       bool
	}{
		{"alice@contoso.com", "alice@contoso.com", true},
		{"ALICE@contoso.COM", "alice@contoso.com", true},
		{"alice@fabrikam.com", "alice@contoso.com", false},
		{"alice", "alice@contoso.com", true},
		{"Alice", "alice@contoso.com", true},
		{"bob", "alice@contoso.com", false},
	} {
		if got := ucwad.SameOrganizer(tc.named, tc.sip); got != tc.want {
			t.Errorf("SameOrganizer(%q, %q) = %v, want %v", tc.named, tc.sip, got, tc.want)
		}
	}
}

// TestAdmission is the table "Who gets in" of docs/meetings.md, for every
// access level, kind of joiner and automatic leader assignment.
func TestAdmission(t *testing.T) {
	const organizer = 1
	joiners := map[string]ucwad.Joiner{
		"organizer": {UserID: organizer, URI: "sip:olga@contoso.com"},
		"leader":    {UserID: 2, URI: "sip:Lea@Contoso.com"}, // listed in another casing
		"attendee":  {UserID: 3, URI: "sip:ada@contoso.com"},
		"colleague": {UserID: 4, URI: "sip:carl@contoso.com"},
		"guest":     {Anonymous: true, URI: "sip:guest-1@contoso.com"},
		// A guest whose generated address happens to be listed is still a guest.
		"listed guest": {Anonymous: true, URI: "sip:ada@contoso.com"},
	}
	// Who waits in the lobby, per access level.
	waits := map[string][]string{
		"Everyone":       {},
		"SameEnterprise": {"guest", "listed guest"},
		"Invited":        {"colleague", "guest", "listed guest"},
		"Locked":         {"attendee", "colleague", "guest", "listed guest"},
		"None":           {"attendee", "colleague", "guest", "listed guest"},
	}
	// Who is a leader on entry, per automatic leader assignment.
	leads := map[string][]string{
		"Disabled":       {"organizer", "leader"},
		"SameEnterprise": {"organizer", "leader", "attendee", "colleague"},
		"Everyone":       {"organizer", "leader", "attendee", "colleague", "guest", "listed guest"},
	}
	for level, waiting := range waits {
		for ala, leaders := range leads {
			m := &ucwad.OnlineMeeting{UserID: organizer, MeetingSettings: ucwad.MeetingSettings{
				AccessLevel: level, AutomaticLeaderAssignment: ala,
				Leaders: []string{"sip:lea@contoso.com"}, Attendees: []string{"sip:ada@contoso.com"}}}
			for name, j := range joiners {
				got := ucwad.Admission(m, j)
				want := ucwad.Entry{Lobby: slices.Contains(waiting, name), Role: ucwad.RoleAttendee, Organizer: name == "organizer"}
				if slices.Contains(leaders, name) {
					want.Role = ucwad.RoleLeader
				}
				if got != want {
					t.Errorf("%s, %s: %s gets %+v, want %+v", level, ala, name, got, want)
				}
			}
		}
	}
}

func TestJoinRequestCheck(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) }
	for _, tc := range []struct {
		r          ucwad.JoinRequest
		importance string
		bad        string // the member named, "" for valid
	}{
		{ucwad.JoinRequest{}, "Normal", ""},
		{ucwad.JoinRequest{Importance: "urgent"}, "Urgent", ""},
		{ucwad.JoinRequest{Importance: "EMERGENCY"}, "Emergency", ""},
		{ucwad.JoinRequest{Importance: "High"}, "", "importance"},
		{ucwad.JoinRequest{OperationID: long(50), Subject: long(250), ThreadID: long(256), AnonymousDisplayName: long(250)}, "Normal", ""},
		{ucwad.JoinRequest{OperationID: long(51)}, "", "operationId"},
		{ucwad.JoinRequest{Subject: long(251)}, "", "subject"},
		{ucwad.JoinRequest{ThreadID: long(257)}, "", "threadId"},
		{ucwad.JoinRequest{AnonymousDisplayName: long(251)}, "", "anonymousDisplayName"},
		{ucwad.JoinRequest{Subject: "two\nlines\tand a tab"}, "Normal", ""},
		{ucwad.JoinRequest{OperationID: "op\x00"}, "", "operationId"},
		{ucwad.JoinRequest{OnlineMeetingURI: "sip:a@b;x\xff"}, "", "onlineMeetingUri"},
		{ucwad.JoinRequest{ThreadID: "\uFFFE"}, "", "threadId"},
		{ucwad.JoinRequest{OnlineMeetingURI: strings.Repeat("u", 2049)}, "", "onlineMeetingUri"},
	} {
		r := tc.r
		err := r.Check()
		if tc.bad == "" {
			if err != nil || r.Importance != tc.importance {
				t.Errorf("%+v: %v, importance %q; want valid, %q", tc.r, err, r.Importance, tc.importance)
			}
			continue
		}
		var e *ucwad.Error
		if !asError(err, &e) || e.Subcode != ucwad.SubParameterValidationFailure || len(e.Parameters) != 1 || e.Parameters[0] != tc.bad {
			t.Errorf("%+v: %v, want a validation failure naming %s", tc.r, err, tc.bad)
		}
	}
}

func asError(err error, e **ucwad.Error) bool {
	var ok bool
	*e, ok = err.(*ucwad.Error)
	return ok
}

// roster is a conversation in which every kind of participant is present.
func roster() map[string]*ucwad.Participant {
	ps := map[string]*ucwad.Participant{
		"organizer": {Role: ucwad.RoleLeader, Organizer: true},
		"leader":    {Role: ucwad.RoleLeader},
		"attendee":  {Role: ucwad.RoleAttendee},
		"waiting":   {Role: ucwad.RoleAttendee, InLobby: true},
		"waiting2":  {Role: ucwad.RoleLeader, InLobby: true},
	}
	for name, p := range ps {
		p.ID, p.Name, p.ConversationID = name, name, "c"
		p.ApplicationID, p.UserID = "app-"+name, int64(len(name))
	}
	return ps
}

func TestSeesAndCapabilities(t *testing.T) {
	ps := roster()
	// What each viewer sees, and may do to each participant.
	want := map[string]map[string][]ucwad.Action{
		"organizer": {"organizer": nil, "leader": {"demote", "eject"}, "attendee": {"promote", "eject"},
			"waiting": {"admit", "reject", "eject"}, "waiting2": {"admit", "reject", "eject"}},
		"leader": {"organizer": nil, "leader": nil, "attendee": {"promote", "eject"},
			"waiting": {"admit", "reject", "eject"}, "waiting2": {"admit", "reject", "eject"}},
		"attendee": {"organizer": nil, "leader": nil, "attendee": nil},
		"waiting":  {"waiting": nil},
		"waiting2": {"waiting2": nil},
	}
	for vn, viewer := range ps {
		for pn, p := range ps {
			caps, visible := want[vn][pn]
			if got := viewer.Sees(p); got != visible {
				t.Errorf("%s sees %s: %v, want %v", vn, pn, got, visible)
			}
			if got := ucwad.Capabilities(viewer, p); !slices.Equal(got, caps) {
				t.Errorf("capabilities of %s on %s: %v, want %v", vn, pn, got, caps)
			}
			for _, a := range ucwad.Actions {
				err := ucwad.CheckAction(viewer, p, a)
				switch {
				case slices.Contains(caps, a):
					if err != nil {
						t.Errorf("%s may %s %s: %v", vn, a, pn, err)
					}
				case viewer.InLobby || viewer.Role != ucwad.RoleLeader:
					if ucwad.ErrorCode(err) != ucwad.EForbidden || ucwad.ErrorSubcode(err) != ucwad.SubAttendeeNotAllowed {
						t.Errorf("%s may not %s %s: got %v, want 403 AttendeeNotAllowed", vn, a, pn, err)
					}
				default:
					if ucwad.ErrorCode(err) != ucwad.EConflict {
						t.Errorf("%s cannot %s %s: got %v, want 409", vn, a, pn, err)
					}
				}
			}
		}
	}
	if v := ps["waiting"].View(); v != ucwad.ViewLobby {
		t.Errorf("view of a waiting leader-to-be: %s", v)
	}
	if v := ps["waiting2"].View(); v != ucwad.ViewLobby {
		t.Errorf("view of a waiting leader-to-be: %s", v)
	}
	if v, w := ps["leader"].View(), ps["attendee"].View(); v != ucwad.ViewLeaders || w != ucwad.ViewAttendees {
		t.Errorf("views %s, %s", v, w)
	}
}

// delivery is an event as a test compares it: who gets it and what it says.
type delivery struct {
	to, typ, subject, about, in string
}

func (d delivery) String() string {
	s := d.to + ": " + d.typ + " " + d.subject
	if d.about != "" {
		s += " " + d.about
	}
	if d.in != "" {
		s += " in " + d.in
	}
	return s
}

// describe lists the events of ds, one line per recipient of each.
func describe(t *testing.T, ds []ucwad.Delivery) []string {
	t.Helper()
	var out []string
	for _, d := range ds {
		var ce ucwad.ConversationEvent
		if err := json.Unmarshal(d.Event.Data, &ce); err != nil {
			t.Fatalf("event data %s: %v", d.Event.Data, err)
		}
		if len(d.To) == 0 {
			t.Errorf("an event for nobody: %+v", d.Event)
		}
		for _, to := range d.To {
			x := delivery{to: strings.TrimPrefix(to.ApplicationID, "app-"), typ: string(d.Event.Type), subject: string(d.Event.Subject.Kind), in: ce.In}
			switch d.Event.Subject.Kind {
			case ucwad.SubjectInvitation:
				x.about = ce.Invitation.State
				if ce.Invitation.Reason != "" {
					x.about += "/" + ce.Invitation.Reason
				}
			case ucwad.SubjectConversation:
				if ce.View != nil {
					x.about = ce.View.State
				}
				if ce.Reason != "" {
					x.about += "/" + ce.Reason
				}
			case ucwad.SubjectParticipant:
				x.about = d.Event.Subject.ParticipantID()
			}
			out = append(out, x.String())
		}
	}
	return out
}

func without(ps map[string]*ucwad.Participant, names ...string) []*ucwad.Participant {
	var out []*ucwad.Participant
	for _, n := range []string{"organizer", "leader", "attendee", "waiting", "waiting2", "new"} {
		if p := ps[n]; p != nil && !slices.Contains(names, n) {
			out = append(out, p)
		}
	}
	return out
}

// wantDeliveries compares what each recipient ("name: …") receives, in
// order: the order between different recipients' events is not theirs to
// see (each reads its own log).
func wantDeliveries(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	byRecipient := func(a, b string) int {
		ra, _, _ := strings.Cut(a, ": ")
		rb, _, _ := strings.Cut(b, ": ")
		return strings.Compare(ra, rb)
	}
	got, want = slices.Clone(got), slices.Clone(want)
	slices.SortStableFunc(got, byRecipient)
	slices.SortStableFunc(want, byRecipient)
	if !slices.Equal(got, want) {
		t.Errorf("%s: events\n%s\nwant\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestJoinEvents: the table "Events" of docs/meetings.md for joins.
func TestJoinEvents(t *testing.T) {
	c := &ucwad.Conversation{ID: "c", MeetingID: "M"}
	ps := roster()
	newcomer := &ucwad.Participant{ID: "new", Name: "new", ConversationID: "c", ApplicationID: "app-new", UserID: 9, Role: ucwad.RoleAttendee}
	ps["new"] = newcomer
	inv := &ucwad.Invitation{ID: "i", ApplicationID: "app-new", UserID: 9, ConversationID: "c", ParticipantID: "new", State: ucwad.InvitationConnected}

	wantDeliveries(t, "direct entry", describe(t, ucwad.JoinEvents(c, inv, newcomer, without(ps))),
		"new: started onlineMeetingInvitation Connecting",
		"new: added conversation Connecting",
		"new: added onlineMeeting",
		"new: added localParticipant",
		"new: added participant new in attendees",
		"new: added participant organizer",
		"new: added participant organizer in leaders",
		"new: added participant leader",
		"new: added participant leader in leaders",
		"new: added participant attendee",
		"new: added participant attendee in attendees",
		"new: updated conversation Conferenced",
		"new: completed onlineMeetingInvitation Connected",
		"organizer: added participant new",
		"organizer: added participant new in attendees",
		"leader: added participant new",
		"leader: added participant new in attendees",
		"attendee: added participant new",
		"attendee: added participant new in attendees",
	)
	// What the others all hear is one event for them all, not one each.
	for _, d := range ucwad.JoinEvents(c, inv, newcomer, without(ps)) {
		if d.Event.Subject == ucwad.ParticipantSubject(ucwad.SubjectParticipant, "c", "new") {
			var to []string
			for _, r := range d.To {
				to = append(to, r.ApplicationID)
			}
			if want := []string{"app-new"}; slices.Equal(to, want) {
				continue
			}
			if want := []string{"app-organizer", "app-leader", "app-attendee"}; !slices.Equal(to, want) {
				t.Errorf("%s %+v: to %v, want %v", d.Event.Type, d.Event.Subject, to, want)
			}
		}
	}

	newcomer.InLobby = true
	inv.State = ucwad.InvitationConnecting
	wantDeliveries(t, "lobby", describe(t, ucwad.JoinEvents(c, inv, newcomer, without(ps))),
		"new: started onlineMeetingInvitation Connecting",
		"new: added conversation Connecting",
		"new: added localParticipant",
		"new: added participant new in lobby",
		"new: updated conversation InLobby",
		"new: updated onlineMeetingInvitation Connecting",
		"organizer: added participant new",
		"organizer: added participant new in lobby",
		"leader: added participant new",
		"leader: added participant new in lobby",
	)

	inv.State, inv.Reason = ucwad.InvitationFailed, ucwad.SubTooManyParticipants
	wantDeliveries(t, "refused", describe(t, ucwad.RefusedJoinEvents(inv)),
		"new: started onlineMeetingInvitation Connecting",
		"new: completed onlineMeetingInvitation Failed/TooManyParticipants",
	)
}

func TestAdmitEvents(t *testing.T) {
	c := &ucwad.Conversation{ID: "c"}
	ps := roster()
	p := ps["waiting"]
	p.InLobby = false
	inv := &ucwad.Invitation{ApplicationID: p.ApplicationID, UserID: p.UserID, State: ucwad.InvitationConnected}
	wantDeliveries(t, "admit", describe(t, ucwad.AdmitEvents(c, inv, p, without(ps))),
		"waiting: deleted participant waiting in lobby",
		"waiting: added participant waiting in attendees",
		"waiting: updated localParticipant",
		"waiting: added onlineMeeting",
		"waiting: added participant organizer",
		"waiting: added participant organizer in leaders",
		"waiting: added participant leader",
		"waiting: added participant leader in leaders",
		"waiting: added participant attendee",
		"waiting: added participant attendee in attendees",
		"waiting: updated conversation Conferenced",
		"waiting: completed onlineMeetingInvitation Connected",
		"organizer: deleted participant waiting in lobby",
		"organizer: added participant waiting in attendees",
		"organizer: updated participant waiting",
		"leader: deleted participant waiting in lobby",
		"leader: added participant waiting in attendees",
		"leader: updated participant waiting",
		"attendee: added participant waiting",
		"attendee: added participant waiting in attendees",
	)
}

func TestDepartureEvents(t *testing.T) {
	c := &ucwad.Conversation{ID: "c"}
	ps := roster()
	inv := &ucwad.Invitation{ApplicationID: "app-attendee", UserID: 8, State: ucwad.InvitationConnected}
	wantDeliveries(t, "eject", describe(t, ucwad.DepartureEvents(c, inv, ps["attendee"], without(ps, "attendee"), ucwad.SubEjected, true)),
		"attendee: deleted participant attendee in attendees",
		"attendee: deleted localParticipant",
		"attendee: updated conversation Disconnected/Ejected",
		"attendee: deleted conversation",
		"organizer: deleted participant attendee in attendees",
		"organizer: deleted participant attendee",
		"leader: deleted participant attendee in attendees",
		"leader: deleted participant attendee",
	)
	inv = &ucwad.Invitation{ApplicationID: "app-waiting", UserID: 7, State: ucwad.InvitationFailed, Reason: ucwad.SubDenied}
	wantDeliveries(t, "reject", describe(t, ucwad.DepartureEvents(c, inv, ps["waiting"], without(ps, "waiting"), ucwad.SubDenied, true)),
		"waiting: completed onlineMeetingInvitation Failed/Denied",
		"waiting: deleted localParticipant",
		"waiting: updated conversation Disconnected",
		"waiting: deleted conversation",
		"organizer: deleted participant waiting in lobby",
		"organizer: deleted participant waiting",
		"leader: deleted participant waiting in lobby",
		"leader: deleted participant waiting",
	)
	inv = &ucwad.Invitation{ApplicationID: "app-leader", UserID: 6, State: ucwad.InvitationConnected}
	wantDeliveries(t, "ended", describe(t, ucwad.DepartureEvents(c, inv, ps["leader"], without(ps, "leader"), ucwad.SubEnded, false)),
		"leader: deleted participant leader in leaders",
		"leader: deleted localParticipant",
		"leader: updated conversation Disconnected/Ended",
		"leader: deleted conversation",
	)
}

func TestRoleEvents(t *testing.T) {
	c := &ucwad.Conversation{ID: "c"}
	ps := roster()
	p := ps["attendee"]
	p.Role = ucwad.RoleLeader
	inv := &ucwad.Invitation{ApplicationID: p.ApplicationID, UserID: p.UserID}
	wantDeliveries(t, "promote", describe(t, ucwad.RoleEvents(c, inv, p, ucwad.RoleAttendee, without(ps))),
		"attendee: deleted participant attendee in attendees",
		"attendee: added participant attendee in leaders",
		"attendee: updated localParticipant",
		"attendee: updated participant organizer",
		"attendee: updated participant leader",
		"attendee: added participant waiting",
		"attendee: added participant waiting in lobby",
		"attendee: added participant waiting2",
		"attendee: added participant waiting2 in lobby",
		"organizer: deleted participant attendee in attendees",
		"organizer: added participant attendee in leaders",
		"organizer: updated participant attendee",
		"leader: deleted participant attendee in attendees",
		"leader: added participant attendee in leaders",
		"leader: updated participant attendee",
	)
	p = ps["leader"]
	p.Role = ucwad.RoleAttendee
	ps["attendee"].Role = ucwad.RoleAttendee
	wantDeliveries(t, "demote", describe(t, ucwad.RoleEvents(c, inv, p, ucwad.RoleLeader, without(ps))),
		"leader: deleted participant leader in leaders",
		"leader: added participant leader in attendees",
		"leader: updated localParticipant",
		"leader: updated participant organizer",
		"leader: updated participant attendee",
		"leader: deleted participant waiting in lobby",
		"leader: deleted participant waiting",
		"leader: deleted participant waiting2 in lobby",
		"leader: deleted participant waiting2",
		"organizer: deleted participant leader in leaders",
		"organizer: added participant leader in attendees",
		"organizer: updated participant leader",
		"attendee: deleted participant leader in leaders",
		"attendee: added participant leader in attendees",
	)
}

// TestEventsCarrySnapshots: the embedded state of an event is the state
// when the event was made, not what the change did to it later.
func TestEventsCarrySnapshots(t *testing.T) {
	c := &ucwad.Conversation{ID: "c", Subject: "meeting subject"}
	p := &ucwad.Participant{ID: "p", ApplicationID: "a", UserID: 1, Role: ucwad.RoleLeader, ConversationID: "c"}
	inv := &ucwad.Invitation{ID: "i", ApplicationID: "a", UserID: 1, State: ucwad.InvitationConnected, Subject: "mine"}
	ds := ucwad.JoinEvents(c, inv, p, []*ucwad.Participant{p})
	var states []string
	for _, d := range ds {
		var ce ucwad.ConversationEvent
		if err := json.Unmarshal(d.Event.Data, &ce); err != nil {
			t.Fatal(err)
		}
		switch {
		case ce.Invitation != nil:
			states = append(states, "invitation "+ce.Invitation.State)
		case ce.View != nil:
			states = append(states, fmt.Sprintf("%s %s %d %q", d.Event.Subject.Kind, ce.View.State, ce.View.ParticipantCount, ce.View.Subject()))
		}
	}
	wantDeliveries(t, "snapshots", states,
		"invitation Connecting",
		`conversation Connecting 1 "mine"`,
		`localParticipant Conferenced 1 "mine"`,
		`conversation Conferenced 1 "mine"`,
		"invitation Connected")
	if inv.State != ucwad.InvitationConnected {
		t.Errorf("JoinEvents changed the invitation it was given: %s", inv.State)
	}
}

func TestReasonCode(t *testing.T) {
	for sub, code := range map[string]string{
		ucwad.SubDenied: "Forbidden", ucwad.SubEjected: "Forbidden", ucwad.SubTooManyParticipants: "Forbidden",
		ucwad.SubTooManyLobbyParticipants: "Forbidden", ucwad.SubTimeout: "Timeout", ucwad.SubEnded: "Gone",
		ucwad.SubCanceled: "Informational",
	} {
		if got := ucwad.ReasonCode(sub); got != code {
			t.Errorf("ReasonCode(%s) = %s, want %s", sub, got, code)
		}
	}
}

// FuzzParseMeetingURI: any text parses without panicking; what parses has
// an organizer and an id; the focus URI built from what parsed parses back
// to the same.
func FuzzParseMeetingURI(f *testing.F) {
	for _, s := range []string{
		"sip:alice@contoso.com;gruu;opaque=app:conf:focus:id:PYC58WSY3K",
		"conf:sip:alice@contoso.com;gruu;opaque=app:conf:focus:id:X?conversation-id=1",
		"https://meet.contoso.com/alice/PYC58WSY3K",
		"sip:a@b;opaque=app:conf:focus:id:;x",
		"http://%zz/a/b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		org, id, ok := ucwad.ParseMeetingURI(s)
		if !ok {
			if org != "" || id != "" {
				t.Fatalf("ParseMeetingURI(%q) failed but returned %q, %q", s, org, id)
			}
			return
		}
		if org == "" || id == "" {
			t.Fatalf("ParseMeetingURI(%q) = %q, %q", s, org, id)
		}
		if !strings.Contains(org, "@") || strings.ContainsAny(org, ";?") || strings.Contains(id, ";") {
			return // a join URL's alias, or parts a focus URI cannot carry
		}
		org2, id2, ok := ucwad.ParseMeetingURI("sip:" + org + ";gruu;opaque=app:conf:focus:id:" + id)
		if !ok || org2 != org || id2 != id {
			t.Fatalf("the focus URI of %q, %q parses as %q, %q, %v", org, id, org2, id2, ok)
		}
	})
}
