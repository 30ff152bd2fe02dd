package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
)

// conversationTests are the subtests of joining meetings.
var conversationTests = []struct {
	name string
	f    func(*testing.T, *env)
	// limits lowers the joining limits the store is opened with for the
	// subtest (joinLimits otherwise).
	limits func(*ucwad.Limits)
}{
	{"JoinEntersDirectly", testJoinEntersDirectly, nil},
	{"JoinLobbyAdmit", testJoinLobbyAdmit, nil},
	{"RejectEjectLeave", testRejectEjectLeave, nil},
	{"PromoteDemote", testPromoteDemote, nil},
	{"ParticipantActionErrors", testParticipantActionErrors, nil},
	{"JoinErrors", testJoinErrors, func(l *ucwad.Limits) { l.MaxConversationsPerApplication = 1 }},
	{"JoinBounds", testJoinBounds, func(l *ucwad.Limits) { l.MaxParticipants, l.MaxLobbyParticipants = 2, 1 }},
	{"ConcurrentJoins", testConcurrentJoins, func(l *ucwad.Limits) { l.MaxParticipants = 5 }},
	{"ConcurrentLobbyJoins", testConcurrentLobbyJoins, func(l *ucwad.Limits) { l.MaxLobbyParticipants = 4 }},
	{"ConcurrentAdmits", testConcurrentAdmits, func(l *ucwad.Limits) { l.MaxParticipants = 4 }},
	{"LobbyTimeout", testLobbyTimeout, nil},
	{"ApplicationGoneLeaves", testApplicationGoneLeaves, nil},
	{"MeetingGoneEnds", testMeetingGoneEnds, nil},
	{"LastLeaveEndsConversation", testLastLeaveEndsConversation, nil},
	{"AdHocMeeting", testAdHocMeeting, func(l *ucwad.Limits) { l.MaxConversationsPerApplication = 1 }},
	{"FinishedInvitations", testFinishedInvitations, func(l *ucwad.Limits) { l.MaxLobbyParticipants = 1 }},
	{"ConversationIsolation", testConversationIsolation, nil},
	{"OrphanSweep", testOrphanSweep, nil},
}

// joinLimits are the suite's limits (Limits) with generous joining limits
// and logs roomy enough for every event of every change the subtests
// check; subtests lower what they test (see conversationTests).
func joinLimits() ucwad.Limits {
	l := Limits()
	l.MaxEventsPerChannel, l.MaxEventBytesPerUser = RoomyEventsPerChannel, RoomyEventBytesPerUser
	l.MaxParticipants, l.MaxLobbyParticipants = 250, 100
	l.MaxConversationsPerApplication, l.LobbyTimeout = 16, 15*time.Minute
	return l
}

// person is a user with one application, in a subtest about joining.
type person struct {
	name string
	user *ucwad.User
	app  *ucwad.Application
	ack  int64 // the next batch to read
}

// people creates a user with an application for each name
// ("alice" → alice@contoso.com, display name "Alice").
func (e *env) people(t *testing.T, names ...string) map[string]*person {
	t.Helper()
	out := map[string]*person{}
	for _, n := range names {
		u := e.createUser(t, n+"@contoso.com")
		app, _ := e.createApp(t, u, "ep-"+n, "")
		out[n] = &person{name: n, user: u, app: app, ack: app.Channel.NextAck}
	}
	return out
}

// joiner is what a join request says of p.
func (p *person) joinRequest(m *ucwad.OnlineMeeting) *ucwad.JoinRequest {
	return &ucwad.JoinRequest{ApplicationID: p.app.ID, MeetingID: m.ID, Importance: "Normal",
		OnlineMeetingURI: "sip:meeting;gruu;opaque=app:conf:focus:id:" + m.ID,
		Joiner:           ucwad.Joiner{UserID: p.user.ID, URI: "sip:" + p.user.SIP, Name: p.name}}
}

// meetingOf schedules a meeting of p with the access level, automatic
// leader assignment Disabled and the listed attendees and leaders.
func (e *env) meetingOf(t *testing.T, p *person, access string, attendees, leaders []string) *ucwad.OnlineMeeting {
	t.Helper()
	s := e.settings(8 * time.Hour)
	s.AccessLevel, s.AutomaticLeaderAssignment = access, "Disabled"
	s.Attendees, s.Leaders = attendees, leaders
	m := e.createMeeting(t, p.user, s)
	e.events(t, p) // the meeting's own event
	e.notes.take()
	return m
}

func (e *env) join(t *testing.T, p *person, m *ucwad.OnlineMeeting) *ucwad.Invitation {
	t.Helper()
	inv, err := e.s.JoinMeeting(e.ctx, p.joinRequest(m))
	if err != nil {
		t.Fatalf("%s joins: %v", p.name, err)
	}
	return inv
}

func (e *env) invitation(t *testing.T, p *person, id string) *ucwad.Invitation {
	t.Helper()
	inv, err := e.s.FindInvitation(e.ctx, p.app.ID, id)
	if err != nil {
		t.Fatalf("FindInvitation of %s: %v", p.name, err)
	}
	return inv
}

func wantInvitation(t *testing.T, what string, inv *ucwad.Invitation, state, reason string) {
	t.Helper()
	if inv.State != state || inv.Reason != reason {
		t.Errorf("%s: invitation %s/%s, want %s/%s", what, inv.State, inv.Reason, state, reason)
	}
}

// roster returns the names p sees in a conversation, and p's view.
func (e *env) roster(t *testing.T, p *person, conversationID string) (*ucwad.ConversationView, []string) {
	t.Helper()
	v, ps, err := e.s.Roster(e.ctx, p.app.ID, conversationID)
	if err != nil {
		t.Fatalf("Roster of %s: %v", p.name, err)
	}
	var names []string
	for _, q := range ps {
		s := q.Name + " " + q.Role
		if q.InLobby {
			s += " lobby"
		}
		names = append(names, s)
	}
	return v, names
}

func (e *env) act(p *person, conversationID string, target *ucwad.Participant, a ucwad.Action) error {
	return e.s.ChangeParticipant(e.ctx, p.app.ID, conversationID, target.ID, a)
}

// participant returns the participant named name as p sees it.
func (e *env) participant(t *testing.T, p *person, conversationID, name string) *ucwad.Participant {
	t.Helper()
	_, ps, err := e.s.Roster(e.ctx, p.app.ID, conversationID)
	if err != nil {
		t.Fatalf("Roster of %s: %v", p.name, err)
	}
	for _, q := range ps {
		if q.Name == name {
			return q
		}
	}
	t.Fatalf("%s does not see %s", p.name, name)
	return nil
}

// events reads every event waiting on p's default channel, described as
// "added participant bob in lobby", "updated conversation Conferenced",
// "completed onlineMeetingInvitation Failed/Denied", …
func (e *env) events(t *testing.T, p *person) []string {
	t.Helper()
	var out []string
	for {
		b := e.readBatch(t, p.app, "", p.ack, false)
		if b.Resync != 0 {
			t.Fatalf("%s's channel lost events (resync)", p.name)
		}
		if b.Wait {
			return out
		}
		p.ack++
		for _, ev := range b.Events {
			out = append(out, describeEvent(t, ev))
		}
	}
}

func describeEvent(t *testing.T, ev ucwad.Event) string {
	t.Helper()
	s := string(ev.Type) + " " + string(ev.Subject.Kind)
	var ce ucwad.ConversationEvent
	if len(ev.Data) > 0 {
		if err := json.Unmarshal(ev.Data, &ce); err != nil {
			t.Fatalf("event data %s: %v", ev.Data, err)
		}
	}
	switch ev.Subject.Kind {
	case ucwad.SubjectInvitation:
		s += " " + ce.Invitation.State
		if ce.Invitation.Reason != "" {
			s += "/" + ce.Invitation.Reason
		}
	case ucwad.SubjectConversation:
		if ce.View != nil {
			s += " " + ce.View.State
		}
		if ce.Reason != "" {
			s += "/" + ce.Reason
		}
	case ucwad.SubjectParticipant:
		s += " " + ce.Name
		if ce.In != "" {
			s += " in " + ce.In
		}
	case ucwad.SubjectMessaging, ucwad.SubjectMessagingInvitation, ucwad.SubjectTyping, ucwad.SubjectMessage:
		s += describeMessagingEvent(t, ev)
	}
	return s
}

func wantEvents(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n%s\nwant\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// wantNoEvents checks that nobody of ps got an event.
func (e *env) wantNoEvents(t *testing.T, what string, ps ...*person) {
	t.Helper()
	for _, p := range ps {
		if evs := e.events(t, p); len(evs) != 0 {
			t.Errorf("%s: %s got events %v", what, p.name, evs)
		}
	}
}

func testJoinEntersDirectly(t *testing.T, e *env) {
	ps := e.people(t, "alice")
	alice := ps["alice"]
	m := e.meetingOf(t, alice, "Invited", nil, nil)
	r := alice.joinRequest(m)
	r.OperationID, r.Subject, r.ThreadID = "op-1", "Standup", "thread-1"
	inv, err := e.s.JoinMeeting(e.ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	got := e.invitation(t, alice, inv.ID)
	want := &ucwad.Invitation{ID: inv.ID, ApplicationID: alice.app.ID, UserID: alice.user.ID, MeetingID: m.ID,
		ConversationID: inv.ConversationID, ParticipantID: inv.ParticipantID, OnlineMeetingURI: r.OnlineMeetingURI,
		OperationID: "op-1", Subject: "Standup", Importance: "Normal", ThreadID: "thread-1",
		State: ucwad.InvitationConnected, CreatedAt: Start, UpdatedAt: Start}
	if *got != *want || *inv != *want {
		t.Errorf("invitation\n got %+v\nfind %+v\nwant %+v", *inv, *got, *want)
	}
	if notes := e.notes.take(); !slices.Equal(notes, []string{alice.app.ID}) {
		t.Errorf("notified %v, want alice's application", notes)
	}
	v, names := e.roster(t, alice, inv.ConversationID)
	if v.State != ucwad.StateConferenced || v.ParticipantCount != 1 || v.Subject() != "Standup" || v.Thread() != "thread-1" ||
		v.MeetingID != m.ID || !v.CreatedAt.Equal(Start) || v.Self.ID != inv.ParticipantID || !v.Self.Organizer {
		t.Errorf("view %+v", v)
	}
	if !slices.Equal(names, []string{"alice Leader"}) {
		t.Errorf("roster %v", names)
	}
	wantEvents(t, "alice", e.events(t, alice),
		"started onlineMeetingInvitation Connecting",
		"added conversation Connecting",
		"added onlineMeeting",
		"added localParticipant",
		"added participant alice in leaders",
		"updated conversation Conferenced",
		"completed onlineMeetingInvitation Connected",
		"updated messaging Disconnected",
	)
	gotM, err := e.s.ConversationMeeting(e.ctx, alice.app.ID, inv.ConversationID)
	if err != nil || gotM.ID != m.ID || gotM.UserID != alice.user.ID || gotM.Organizer != alice.user.Person() {
		t.Errorf("ConversationMeeting: %+v, %v", gotM, err)
	}
	views, err := e.s.ListConversations(e.ctx, alice.app.ID)
	if err != nil || len(views) != 1 || views[0].ID != inv.ConversationID {
		t.Errorf("ListConversations: %+v, %v", views, err)
	}
	// Without a subject or thread of its own, a participant has the
	// meeting's and the conversation's.
	bob := e.people(t, "bob")["bob"]
	inv2 := e.join(t, bob, &ucwad.OnlineMeeting{ID: m.ID})
	v, _ = e.roster(t, alice, inv.ConversationID)
	vb, _ := e.roster(t, bob, inv2.ConversationID)
	if inv2.ConversationID != inv.ConversationID || vb.Subject() != m.Subject || vb.Thread() != v.ThreadID || len(v.ThreadID) != 32 {
		t.Errorf("bob's view %+v (subject %q, thread %q), alice's conversation thread %q", vb, vb.Subject(), vb.Thread(), v.ThreadID)
	}
}

func testJoinLobbyAdmit(t *testing.T, e *env) {
	ps := e.people(t, "alice", "bob", "carol")
	alice, bob, carol := ps["alice"], ps["bob"], ps["carol"]
	m := e.meetingOf(t, alice, "Invited", []string{"sip:carol@contoso.com"}, nil)
	invA := e.join(t, alice, m)
	conv := invA.ConversationID
	e.events(t, alice)
	invC := e.join(t, carol, m)
	wantInvitation(t, "carol, invited", invC, ucwad.InvitationConnected, "")
	e.events(t, alice)
	e.events(t, carol)

	e.clk.Advance(time.Second)
	invB := e.join(t, bob, m)
	wantInvitation(t, "bob, not invited", invB, ucwad.InvitationConnecting, "")
	if invB.ConversationID != conv {
		t.Fatalf("bob is in conversation %s, alice in %s", invB.ConversationID, conv)
	}
	wantEvents(t, "bob waiting", e.events(t, bob),
		"started onlineMeetingInvitation Connecting",
		"added conversation Connecting",
		"added localParticipant",
		"added participant bob in lobby",
		"updated conversation InLobby",
		"updated onlineMeetingInvitation Connecting",
	)
	wantEvents(t, "alice, a leader, sees bob wait", e.events(t, alice), "added participant bob", "added participant bob in lobby")
	e.wantNoEvents(t, "carol, an attendee, does not see the lobby", carol)
	v, names := e.roster(t, bob, conv)
	if v.State != ucwad.StateInLobby || v.ParticipantCount != 1 || !slices.Equal(names, []string{"bob Attendee lobby"}) {
		t.Errorf("bob's view %s %d, roster %v: want to see only himself", v.State, v.ParticipantCount, names)
	}
	wantDeadline := Start.Add(time.Second + e.limits.LobbyTimeout)
	if !v.Self.LobbyDeadline.Equal(wantDeadline) {
		t.Errorf("bob's lobby deadline %v, want %v", v.Self.LobbyDeadline, wantDeadline)
	}
	if _, names := e.roster(t, alice, conv); !slices.Equal(names, []string{"alice Leader", "carol Attendee", "bob Attendee lobby"}) {
		t.Errorf("alice's roster %v", names)
	}
	if _, names := e.roster(t, carol, conv); !slices.Equal(names, []string{"alice Leader", "carol Attendee"}) {
		t.Errorf("carol's roster %v", names)
	}

	e.clk.Advance(time.Second)
	if err := e.act(alice, conv, e.participant(t, alice, conv, "bob"), ucwad.ActionAdmit); err != nil {
		t.Fatal(err)
	}
	got := e.invitation(t, bob, invB.ID)
	wantInvitation(t, "bob admitted", got, ucwad.InvitationConnected, "")
	if !got.UpdatedAt.Equal(Start.Add(2 * time.Second)) {
		t.Errorf("invitation updated at %v", got.UpdatedAt)
	}
	wantEvents(t, "bob admitted", e.events(t, bob),
		"deleted participant bob in lobby",
		"added participant bob in attendees",
		"updated localParticipant",
		"added onlineMeeting",
		"added participant alice",
		"added participant alice in leaders",
		"added participant carol",
		"added participant carol in attendees",
		"updated conversation Conferenced",
		"completed onlineMeetingInvitation Connected",
		"updated messaging Disconnected",
	)
	wantEvents(t, "alice", e.events(t, alice),
		"deleted participant bob in lobby", "added participant bob in attendees", "updated participant bob")
	wantEvents(t, "carol", e.events(t, carol), "added participant bob", "added participant bob in attendees")
	v, names = e.roster(t, bob, conv)
	if v.State != ucwad.StateConferenced || v.ParticipantCount != 3 || !v.Self.LobbyDeadline.IsZero() ||
		!slices.Equal(names, []string{"alice Leader", "carol Attendee", "bob Attendee"}) {
		t.Errorf("bob's view %s %d, roster %v", v.State, v.ParticipantCount, names)
	}
}

func testRejectEjectLeave(t *testing.T, e *env) {
	ps := e.people(t, "alice", "bob", "carol", "dave")
	alice, bob, carol, dave := ps["alice"], ps["bob"], ps["carol"], ps["dave"]
	m := e.meetingOf(t, alice, "Invited", []string{"sip:carol@contoso.com", "sip:dave@contoso.com"}, nil)
	conv := e.join(t, alice, m).ConversationID
	invB := e.join(t, bob, m)
	invC := e.join(t, carol, m)
	invD := e.join(t, dave, m)
	for _, p := range ps {
		e.events(t, p)
	}

	if err := e.act(alice, conv, e.participant(t, alice, conv, "bob"), ucwad.ActionReject); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "bob rejected", e.events(t, bob),
		"completed onlineMeetingInvitation Failed/Denied",
		"deleted localParticipant",
		"updated conversation Disconnected",
		"deleted conversation",
	)
	wantEvents(t, "alice", e.events(t, alice), "deleted participant bob in lobby", "deleted participant bob")
	e.wantNoEvents(t, "attendees did not see bob", carol, dave)
	wantInvitation(t, "bob's failed invitation is kept", e.invitation(t, bob, invB.ID), ucwad.InvitationFailed, ucwad.SubDenied)
	if _, err := e.s.FindConversation(e.ctx, bob.app.ID, conv); ucwad.ErrorCode(err) != ucwad.ENotFound {
		t.Errorf("bob's conversation after rejection: %v", err)
	}

	if err := e.act(alice, conv, e.participant(t, alice, conv, "carol"), ucwad.ActionEject); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "carol ejected", e.events(t, carol),
		"deleted participant carol in attendees",
		"deleted localParticipant",
		"updated conversation Disconnected/Ejected",
		"deleted conversation",
	)
	wantEvents(t, "alice", e.events(t, alice), "deleted participant carol in attendees", "deleted participant carol")
	wantEvents(t, "dave", e.events(t, dave), "deleted participant carol in attendees", "deleted participant carol")
	if _, err := e.s.FindInvitation(e.ctx, carol.app.ID, invC.ID); ucwad.ErrorCode(err) != ucwad.ENotFound {
		t.Errorf("carol's invitation after she was ejected: %v; a join that succeeded ends with its participant", err)
	}

	if err := e.s.LeaveConversation(e.ctx, dave.app.ID, conv); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "dave left", e.events(t, dave),
		"deleted participant dave in attendees",
		"deleted localParticipant",
		"updated conversation Disconnected",
		"deleted conversation",
	)
	wantEvents(t, "alice", e.events(t, alice), "deleted participant dave in attendees", "deleted participant dave")
	if _, err := e.s.FindInvitation(e.ctx, dave.app.ID, invD.ID); ucwad.ErrorCode(err) != ucwad.ENotFound {
		t.Errorf("dave's invitation after he left: %v", err)
	}
	if err := e.s.LeaveConversation(e.ctx, dave.app.ID, conv); ucwad.ErrorCode(err) != ucwad.ENotFound {
		t.Errorf("leaving twice: %v", err)
	}
	if _, names := e.roster(t, alice, conv); !slices.Equal(names, []string{"alice Leader"}) {
		t.Errorf("alice's roster %v", names)
	}

	// Leaving the lobby fails the invitation with Canceled.
	invB = e.join(t, bob, m)
	e.events(t, alice)
	e.events(t, bob)
	if err := e.s.LeaveConversation(e.ctx, bob.app.ID, conv); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "bob left the lobby", e.events(t, bob),
		"completed onlineMeetingInvitation Failed/Canceled",
		"deleted localParticipant",
		"updated conversation Disconnected",
		"deleted conversation",
	)
	wantEvents(t, "alice", e.events(t, alice), "deleted participant bob in lobby", "deleted participant bob")
}

func testPromoteDemote(t *testing.T, e *env) {
	ps := e.people(t, "alice", "bob", "carol")
	alice, bob, carol := ps["alice"], ps["bob"], ps["carol"]
	m := e.meetingOf(t, alice, "Invited", []string{"sip:bob@contoso.com"}, nil)
	conv := e.join(t, alice, m).ConversationID
	e.join(t, bob, m)
	e.join(t, carol, m) // waits
	for _, p := range ps {
		e.events(t, p)
	}
	if err := e.act(alice, conv, e.participant(t, alice, conv, "bob"), ucwad.ActionPromote); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "bob promoted", e.events(t, bob),
		"deleted participant bob in attendees",
		"added participant bob in leaders",
		"updated localParticipant",
		"updated participant alice",
		"added participant carol",
		"added participant carol in lobby",
	)
	wantEvents(t, "alice", e.events(t, alice),
		"deleted participant bob in attendees", "added participant bob in leaders", "updated participant bob")
	e.wantNoEvents(t, "carol waits", carol)
	if _, names := e.roster(t, bob, conv); !slices.Equal(names, []string{"alice Leader", "bob Leader", "carol Attendee lobby"}) {
		t.Errorf("bob's roster %v", names)
	}
	// Bob, a leader now, may admit.
	if err := e.act(bob, conv, e.participant(t, bob, conv, "carol"), ucwad.ActionAdmit); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		e.events(t, p)
	}
	if err := e.act(alice, conv, e.participant(t, alice, conv, "bob"), ucwad.ActionDemote); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "bob demoted", e.events(t, bob),
		"deleted participant bob in leaders",
		"added participant bob in attendees",
		"updated localParticipant",
		"updated participant alice",
		"updated participant carol",
	)
	wantEvents(t, "alice", e.events(t, alice),
		"deleted participant bob in leaders", "added participant bob in attendees", "updated participant bob")
	wantEvents(t, "carol", e.events(t, carol), "deleted participant bob in leaders", "added participant bob in attendees")
	if _, names := e.roster(t, carol, conv); !slices.Equal(names, []string{"alice Leader", "bob Attendee", "carol Attendee"}) {
		t.Errorf("carol's roster %v", names)
	}
}

func testParticipantActionErrors(t *testing.T, e *env) {
	ps := e.people(t, "alice", "bob", "carol", "dave")
	alice, bob, carol, dave := ps["alice"], ps["bob"], ps["carol"], ps["dave"]
	m := e.meetingOf(t, alice, "Invited", []string{"sip:bob@contoso.com", "sip:carol@contoso.com"}, nil)
	conv := e.join(t, alice, m).ConversationID
	e.join(t, bob, m)
	e.join(t, carol, m)
	e.join(t, dave, m) // waits
	for _, p := range ps {
		e.events(t, p)
	}
	pa, pb := e.participant(t, alice, conv, "alice"), e.participant(t, alice, conv, "bob")
	pd := e.participant(t, alice, conv, "dave")
	for _, tc := range []struct {
		who     *person
		target  *ucwad.Participant
		a       ucwad.Action
		code    ucwad.Code
		subcode string
	}{
		{bob, e.participant(t, bob, conv, "carol"), ucwad.ActionEject, ucwad.EForbidden, ucwad.SubAttendeeNotAllowed},
		{bob, pa, ucwad.ActionPromote, ucwad.EForbidden, ucwad.SubAttendeeNotAllowed},
		{dave, pd, ucwad.ActionAdmit, ucwad.EForbidden, ucwad.SubAttendeeNotAllowed},
		{bob, pd, ucwad.ActionAdmit, ucwad.EForbidden, ucwad.SubAttendeeNotAllowed}, // whom bob does not see
		{bob, &ucwad.Participant{ID: "nobody"}, ucwad.ActionAdmit, ucwad.EForbidden, ucwad.SubAttendeeNotAllowed},
		{alice, pb, ucwad.ActionAdmit, ucwad.EConflict, ""},
		{alice, pb, ucwad.ActionReject, ucwad.EConflict, ""},
		{alice, pb, ucwad.ActionDemote, ucwad.EConflict, ""},
		{alice, pd, ucwad.ActionPromote, ucwad.EConflict, ""},
		{alice, pa, ucwad.ActionEject, ucwad.EConflict, ""},
		{alice, &ucwad.Participant{ID: "nobody"}, ucwad.ActionEject, ucwad.ENotFound, ucwad.SubResourceNotFound},
	} {
		err := e.act(tc.who, conv, tc.target, tc.a)
		wantErr(t, fmt.Sprintf("%s %s %s", tc.who.name, tc.a, tc.target.Name), err, tc.code, tc.subcode)
	}
	// Alice made a leader by promotion cannot demote the organizer.
	e.act(alice, conv, pb, ucwad.ActionPromote)
	for _, p := range ps {
		e.events(t, p)
	}
	for _, a := range []ucwad.Action{ucwad.ActionDemote, ucwad.ActionEject} {
		wantErr(t, "bob "+string(a)+" the organizer", e.act(bob, conv, e.participant(t, bob, conv, "alice"), a), ucwad.EConflict, "")
	}
	e.wantNoEvents(t, "refused actions", alice, bob, carol, dave)
	if _, names := e.roster(t, alice, conv); !slices.Equal(names, []string{"alice Leader", "bob Leader", "carol Attendee", "dave Attendee lobby"}) {
		t.Errorf("roster after refused actions %v", names)
	}
}

func testJoinErrors(t *testing.T, e *env) {
	ps := e.people(t, "alice", "bob")
	alice, bob := ps["alice"], ps["bob"]
	m := e.meetingOf(t, alice, "Everyone", nil, nil)
	expired := e.meetingOf(t, alice, "Everyone", nil, nil)
	gone := e.meetingOf(t, alice, "Everyone", nil, nil)
	if err := e.s.DeleteMeeting(e.ctx, alice.user.ID, gone.ID, ucwad.MeetingSettings{}); err != nil {
		t.Fatal(err)
	}
	e.events(t, alice)
	e.clk.Advance(time.Minute)
	s := expired.MeetingSettings
	s.ExpirationTime = e.clk.Now().Add(-time.Millisecond)
	if _, err := e.s.UpdateMeeting(e.ctx, alice.user.ID, expired.ID, s, ""); err != nil {
		t.Fatal(err)
	}
	e.events(t, alice)
	e.notes.take()

	for _, tc := range []struct {
		what string
		edit func(r *ucwad.JoinRequest)
	}{
		{"unknown meeting", func(r *ucwad.JoinRequest) { r.MeetingID = "NOSUCHMEET" }},
		{"deleted meeting", func(r *ucwad.JoinRequest) { r.MeetingID = gone.ID }},
		{"expired meeting", func(r *ucwad.JoinRequest) { r.MeetingID = expired.ID }},
		{"another organizer", func(r *ucwad.JoinRequest) { r.OrganizerSIP = "bob@contoso.com" }},
		{"another organizer's alias", func(r *ucwad.JoinRequest) { r.OrganizerSIP = "bob" }},
	} {
		r := bob.joinRequest(m)
		r.OrganizerSIP = "ALICE@contoso.com"
		tc.edit(r)
		_, err := e.s.JoinMeeting(e.ctx, r)
		wantErr(t, tc.what, err, ucwad.ENotFound, ucwad.SubDestinationNotFound)
	}
	r := bob.joinRequest(m)
	r.OrganizerSIP = "alice"
	inv, err := e.s.JoinMeeting(e.ctx, r)
	if err != nil {
		t.Fatalf("joining by the organizer's alias: %v", err)
	}
	for _, p := range ps {
		e.events(t, p)
	}
	e.notes.take()
	_, err = e.s.JoinMeeting(e.ctx, bob.joinRequest(m))
	wantErr(t, "joining again", err, ucwad.EConflict, ucwad.SubAlreadyExists)
	other := e.meetingOf(t, alice, "Everyone", nil, nil)
	_, err = e.s.JoinMeeting(e.ctx, bob.joinRequest(other))
	wantErr(t, "one conversation too many", err, ucwad.EConflict, ucwad.SubTooManyConversations)
	e.wantNoEvents(t, "refused joins", alice, bob)
	if notes := e.notes.take(); len(notes) != 0 {
		t.Errorf("refused joins notified %v", notes)
	}
	views, err := e.s.ListConversations(e.ctx, bob.app.ID)
	if err != nil || len(views) != 1 || views[0].ID != inv.ConversationID {
		t.Errorf("bob's conversations after refused joins: %+v, %v", views, err)
	}
}

func testJoinBounds(t *testing.T, e *env) {
	ps := e.people(t, "alice", "bob", "carol", "dave", "erin")
	alice, bob, carol, dave, erin := ps["alice"], ps["bob"], ps["carol"], ps["dave"], ps["erin"]
	m := e.meetingOf(t, alice, "Invited", []string{"sip:bob@contoso.com", "sip:carol@contoso.com"}, nil)
	conv := e.join(t, alice, m).ConversationID
	e.join(t, bob, m)
	inv := e.join(t, carol, m)
	wantInvitation(t, "carol, third in a meeting of two", inv, ucwad.InvitationFailed, ucwad.SubTooManyParticipants)
	if inv.ConversationID != "" || inv.ParticipantID != "" {
		t.Errorf("a refused invitation names conversation %q, participant %q", inv.ConversationID, inv.ParticipantID)
	}
	wantEvents(t, "carol", e.events(t, carol),
		"started onlineMeetingInvitation Connecting", "completed onlineMeetingInvitation Failed/TooManyParticipants")
	wantInvitation(t, "carol's invitation", e.invitation(t, carol, inv.ID), ucwad.InvitationFailed, ucwad.SubTooManyParticipants)
	e.join(t, dave, m) // waits
	inv = e.join(t, erin, m)
	wantInvitation(t, "erin, second in a lobby of one", inv, ucwad.InvitationFailed, ucwad.SubTooManyLobbyParticipants)
	for _, p := range ps {
		e.events(t, p)
	}
	err := e.act(alice, conv, e.participant(t, alice, conv, "dave"), ucwad.ActionAdmit)
	wantErr(t, "admitting into a full meeting", err, ucwad.EConflict, ucwad.SubTooManyParticipants)
	e.wantNoEvents(t, "refused admission", alice, bob, dave)
	if _, names := e.roster(t, alice, conv); !slices.Equal(names, []string{"alice Leader", "bob Attendee", "dave Attendee lobby"}) {
		t.Errorf("roster %v", names)
	}
	// With room again, the admission works.
	if err := e.s.LeaveConversation(e.ctx, bob.app.ID, conv); err != nil {
		t.Fatal(err)
	}
	if err := e.act(alice, conv, e.participant(t, alice, conv, "dave"), ucwad.ActionAdmit); err != nil {
		t.Errorf("admitting with room: %v", err)
	}
}

// racers creates n users, each with an application.
func (e *env) racers(t *testing.T, n int) []*person {
	t.Helper()
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("racer%02d", i)
	}
	ps := e.people(t, names...)
	out := make([]*person, n)
	for i, name := range names {
		out[i] = ps[name]
	}
	return out
}

func testConcurrentJoins(t *testing.T, e *env) {
	organizer := e.people(t, "alice")["alice"]
	m := e.meetingOf(t, organizer, "Everyone", nil, nil)
	racers := e.racers(t, 16)
	invs := make([]*ucwad.Invitation, len(racers))
	errs := race(len(racers), func(i int) (err error) {
		invs[i], err = e.s.JoinMeeting(e.ctx, racers[i].joinRequest(m))
		return err
	})
	in, refused := 0, 0
	for i, err := range errs {
		switch {
		case err != nil:
			t.Errorf("racer %d: %v", i, err)
		case invs[i].State == ucwad.InvitationConnected:
			in++
		case invs[i].State == ucwad.InvitationFailed && invs[i].Reason == ucwad.SubTooManyParticipants:
			refused++
		default:
			t.Errorf("racer %d: invitation %+v", i, invs[i])
		}
	}
	if in != e.limits.MaxParticipants || refused != len(racers)-e.limits.MaxParticipants {
		t.Errorf("%d joined and %d were refused, want exactly %d in", in, refused, e.limits.MaxParticipants)
	}
	for i, inv := range invs {
		if inv != nil && inv.State == ucwad.InvitationConnected {
			if _, names := e.roster(t, racers[i], inv.ConversationID); len(names) != e.limits.MaxParticipants {
				t.Errorf("a roster of %d: %v", len(names), names)
			}
			break
		}
	}
}

func testConcurrentLobbyJoins(t *testing.T, e *env) {
	organizer := e.people(t, "alice")["alice"]
	m := e.meetingOf(t, organizer, "Locked", nil, nil)
	conv := e.join(t, organizer, m).ConversationID
	racers := e.racers(t, 12)
	invs := make([]*ucwad.Invitation, len(racers))
	errs := race(len(racers), func(i int) (err error) {
		invs[i], err = e.s.JoinMeeting(e.ctx, racers[i].joinRequest(m))
		return err
	})
	waiting := 0
	for i, err := range errs {
		switch {
		case err != nil:
			t.Errorf("racer %d: %v", i, err)
		case invs[i].State == ucwad.InvitationConnecting:
			waiting++
		case invs[i].Reason != ucwad.SubTooManyLobbyParticipants:
			t.Errorf("racer %d: invitation %+v", i, invs[i])
		}
	}
	if _, names := e.roster(t, organizer, conv); waiting != e.limits.MaxLobbyParticipants || len(names) != 1+e.limits.MaxLobbyParticipants {
		t.Errorf("%d wait, roster %v; want exactly %d in the lobby", waiting, names, e.limits.MaxLobbyParticipants)
	}
}

func testConcurrentAdmits(t *testing.T, e *env) {
	ps := e.people(t, "alice", "bob")
	alice, bob := ps["alice"], ps["bob"]
	m := e.meetingOf(t, alice, "Locked", nil, []string{"sip:bob@contoso.com"})
	conv := e.join(t, alice, m).ConversationID
	e.join(t, bob, m) // a listed leader: enters
	racers := e.racers(t, 8)
	for _, r := range racers {
		e.join(t, r, m)
	}
	// Both leaders admit everyone waiting at once.
	var targets []*ucwad.Participant
	for _, r := range racers {
		targets = append(targets, e.participant(t, alice, conv, r.name))
	}
	errs := race(2*len(targets), func(i int) error {
		leader := alice
		if i%2 == 1 {
			leader = bob
		}
		return e.act(leader, conv, targets[i/2], ucwad.ActionAdmit)
	})
	admitted := 0
	for i, err := range errs {
		switch ucwad.ErrorCode(err) {
		case "":
			admitted++
		case ucwad.EConflict: // full, or admitted by the other leader already
		default:
			t.Errorf("admission %d: %v", i, err)
		}
	}
	_, names := e.roster(t, alice, conv)
	in := 0
	for _, n := range names {
		if !strings.HasSuffix(n, "lobby") {
			in++
		}
	}
	if admitted != e.limits.MaxParticipants-2 || in != e.limits.MaxParticipants {
		t.Errorf("%d admissions succeeded, %d admitted in %v; want exactly %d", admitted, in, names, e.limits.MaxParticipants)
	}
}

func testLobbyTimeout(t *testing.T, e *env) {
	ps := e.people(t, "alice", "bob", "carol")
	alice, bob, carol := ps["alice"], ps["bob"], ps["carol"]
	m := e.meetingOf(t, alice, "Locked", nil, nil)
	conv := e.join(t, alice, m).ConversationID
	invB := e.join(t, bob, m)
	e.clk.Advance(time.Minute)
	invC := e.join(t, carol, m) // waits until a minute after bob
	for _, p := range ps {
		e.events(t, p)
	}
	e.clk.Advance(e.limits.LobbyTimeout - time.Minute - time.Millisecond)
	if n, err := e.s.SweepConversations(e.ctx); err != nil || n != 0 {
		t.Fatalf("sweep before the deadline: %d, %v", n, err)
	}
	e.wantNoEvents(t, "before the deadline", alice, bob)
	e.clk.Advance(time.Millisecond)
	if n, err := e.s.SweepConversations(e.ctx); err != nil || n != 1 {
		t.Fatalf("sweep at the deadline: %d, %v; want bob removed", n, err)
	}
	wantEvents(t, "bob waited too long", e.events(t, bob),
		"completed onlineMeetingInvitation Failed/Timeout",
		"deleted localParticipant",
		"updated conversation Disconnected",
		"deleted conversation",
	)
	wantEvents(t, "alice", e.events(t, alice), "deleted participant bob in lobby", "deleted participant bob")
	wantInvitation(t, "bob", e.invitation(t, bob, invB.ID), ucwad.InvitationFailed, ucwad.SubTimeout)
	if _, names := e.roster(t, alice, conv); !slices.Equal(names, []string{"alice Leader", "carol Attendee lobby"}) {
		t.Errorf("roster %v", names)
	}
	// Carol's own deadline comes a minute later.
	e.clk.Advance(time.Minute - time.Millisecond)
	if n, err := e.s.SweepConversations(e.ctx); err != nil || n != 0 {
		t.Errorf("sweep before carol's deadline: %d, %v", n, err)
	}
	e.clk.Advance(time.Millisecond)
	if n, err := e.s.SweepConversations(e.ctx); err != nil || n != 1 {
		t.Errorf("sweep at carol's deadline: %d, %v; want carol removed", n, err)
	}
	wantInvitation(t, "carol", e.invitation(t, carol, invC.ID), ucwad.InvitationFailed, ucwad.SubTimeout)
	if _, names := e.roster(t, alice, conv); !slices.Equal(names, []string{"alice Leader"}) {
		t.Errorf("roster %v", names)
	}
}

func testApplicationGoneLeaves(t *testing.T, e *env) {
	ps := e.people(t, "alice", "bob", "carol")
	alice, bob, carol := ps["alice"], ps["bob"], ps["carol"]
	m := e.meetingOf(t, alice, "Everyone", nil, nil)
	conv := e.join(t, alice, m).ConversationID
	e.join(t, bob, m)
	invC := e.join(t, carol, m)
	for _, p := range ps {
		e.events(t, p)
	}
	e.notes.take()
	if err := e.s.DeleteApplication(e.ctx, bob.user.ID, bob.app.ID, ""); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "alice sees bob's application go", e.events(t, alice), "deleted participant bob in attendees", "deleted participant bob")
	wantEvents(t, "carol", e.events(t, carol), "deleted participant bob in attendees", "deleted participant bob")
	if notes := e.notes.take(); !slices.Equal(notes, slices.Sorted(slices.Values([]string{alice.app.ID, bob.app.ID, carol.app.ID}))) {
		t.Errorf("notified %v", notes)
	}
	// Carol's application expires; alice's stays active.
	e.clk.Advance(time.Hour)
	e.s.TouchApplication(e.ctx, alice.app.ID)
	ids, err := e.s.ExpireApplications(e.ctx, e.clk.Now().Add(-time.Minute), nil)
	if err != nil || !slices.Equal(ids, []string{carol.app.ID}) {
		t.Fatalf("ExpireApplications: %v, %v", ids, err)
	}
	wantEvents(t, "alice sees carol's application expire", e.events(t, alice), "deleted participant carol in attendees", "deleted participant carol")
	if _, names := e.roster(t, alice, conv); !slices.Equal(names, []string{"alice Leader"}) {
		t.Errorf("roster %v", names)
	}
	if _, err := e.s.FindInvitation(e.ctx, carol.app.ID, invC.ID); ucwad.ErrorCode(err) != ucwad.ENotFound {
		t.Errorf("carol's invitation: %v", err)
	}
	// A multi-tab channel going is not the application going.
	e.createApp(t, alice.user, alice.app.EndpointID, "tab")
	if err := e.s.DeleteApplication(e.ctx, alice.user.ID, alice.app.ID, "tab"); err != nil {
		t.Fatal(err)
	}
	if _, names := e.roster(t, alice, conv); !slices.Equal(names, []string{"alice Leader"}) {
		t.Errorf("roster after a tab went %v", names)
	}
}

func testMeetingGoneEnds(t *testing.T, e *env) {
	ps := e.people(t, "alice", "bob", "carol")
	alice, bob, carol := ps["alice"], ps["bob"], ps["carol"]
	m := e.meetingOf(t, alice, "Invited", []string{"sip:bob@contoso.com"}, nil)
	conv := e.join(t, alice, m).ConversationID
	e.join(t, bob, m)
	invC := e.join(t, carol, m) // waits
	for _, p := range ps {
		e.events(t, p)
	}
	if err := e.s.DeleteMeeting(e.ctx, alice.user.ID, m.ID, ucwad.MeetingSettings{}); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "alice", e.events(t, alice),
		"deleted participant alice in leaders",
		"deleted localParticipant",
		"updated conversation Disconnected/Ended",
		"deleted conversation",
		"deleted meeting",
	)
	wantEvents(t, "bob", e.events(t, bob),
		"deleted participant bob in attendees",
		"deleted localParticipant",
		"updated conversation Disconnected/Ended",
		"deleted conversation",
	)
	wantEvents(t, "carol", e.events(t, carol),
		"completed onlineMeetingInvitation Failed/Ended",
		"deleted localParticipant",
		"updated conversation Disconnected",
		"deleted conversation",
	)
	wantInvitation(t, "carol", e.invitation(t, carol, invC.ID), ucwad.InvitationFailed, ucwad.SubEnded)
	if _, err := e.s.FindConversation(e.ctx, alice.app.ID, conv); ucwad.ErrorCode(err) != ucwad.ENotFound {
		t.Errorf("the conversation of a deleted meeting: %v", err)
	}

	// The expiry sweep ends conversations too.
	m = e.meetingOf(t, alice, "Everyone", nil, nil)
	e.join(t, bob, m)
	e.events(t, bob)
	e.clk.Advance(9 * time.Hour)
	if n, err := e.s.ExpireMeetings(e.ctx, e.clk.Now()); err != nil || n != 1 {
		t.Fatalf("ExpireMeetings: %d, %v", n, err)
	}
	wantEvents(t, "bob", e.events(t, bob),
		"deleted participant bob in attendees",
		"deleted localParticipant",
		"updated conversation Disconnected/Ended",
		"deleted conversation",
	)
}

func testLastLeaveEndsConversation(t *testing.T, e *env) {
	ps := e.people(t, "alice", "bob")
	alice, bob := ps["alice"], ps["bob"]
	m := e.meetingOf(t, alice, "Everyone", nil, nil)
	conv := e.join(t, alice, m).ConversationID
	if e.join(t, bob, m).ConversationID != conv {
		t.Fatal("two conversations for one meeting")
	}
	for _, p := range []*person{alice, bob} {
		if err := e.s.LeaveConversation(e.ctx, p.app.ID, conv); err != nil {
			t.Fatal(err)
		}
	}
	again := e.join(t, bob, m)
	if again.ConversationID == "" || again.ConversationID == conv {
		t.Errorf("joining after everyone left: conversation %q, the old one was %q", again.ConversationID, conv)
	}
	if _, names := e.roster(t, bob, again.ConversationID); !slices.Equal(names, []string{"bob Attendee"}) {
		t.Errorf("roster of the new conversation %v", names)
	}
}

func testAdHocMeeting(t *testing.T, e *env) {
	ps := e.people(t, "alice", "bob")
	alice, bob := ps["alice"], ps["bob"]
	s := e.settings(8 * time.Hour)
	s.Subject = "Meet now"
	r := alice.joinRequest(&ucwad.OnlineMeeting{})
	inv, err := e.s.StartMeeting(e.ctx, r, s)
	if err != nil {
		t.Fatal(err)
	}
	wantInvitation(t, "alice starts a meeting", inv, ucwad.InvitationConnected, "")
	m, err := e.s.ConversationMeeting(e.ctx, alice.app.ID, inv.ConversationID)
	if err != nil || m.ID != inv.MeetingID || m.Rel != ucwad.MeetingRelAdHoc || m.Subject != "Meet now" || m.UserID != alice.user.ID ||
		m.Organizer != alice.user.Person() {
		t.Fatalf("the ad hoc meeting: %+v, %v", m, err)
	}
	v, _ := e.roster(t, alice, inv.ConversationID)
	if !v.Self.Organizer || v.Self.Role != ucwad.RoleLeader {
		t.Errorf("alice in her ad hoc meeting: %+v", v.Self)
	}
	for _, rel := range []string{ucwad.MeetingRelScheduled, ucwad.MeetingRelAssigned} {
		if ms := e.listMeetings(t, alice.user.ID, rel); len(ms) != 0 {
			t.Errorf("%s lists the ad hoc meeting: %+v", rel, ms)
		}
	}
	if _, err := e.s.FindMeeting(e.ctx, alice.user.ID, m.ID); ucwad.ErrorCode(err) != ucwad.ENotFound {
		t.Errorf("FindMeeting of an ad hoc meeting: %v", err)
	}
	if err := e.s.DeleteMeeting(e.ctx, alice.user.ID, m.ID, ucwad.MeetingSettings{}); ucwad.ErrorCode(err) != ucwad.ENotFound {
		t.Errorf("DeleteMeeting of an ad hoc meeting: %v", err)
	}
	if e.join(t, bob, m).ConversationID != inv.ConversationID {
		t.Error("bob joined another conversation")
	}
	for _, p := range []*person{alice, bob} {
		if err := e.s.LeaveConversation(e.ctx, p.app.ID, inv.ConversationID); err != nil {
			t.Fatal(err)
		}
	}
	_, err = e.s.JoinMeeting(e.ctx, bob.joinRequest(m))
	wantErr(t, "joining an ad hoc meeting after everyone left", err, ucwad.ENotFound, ucwad.SubDestinationNotFound)
	// A start refused by the application's bound makes no meeting.
	e.join(t, alice, e.meetingOf(t, alice, "Everyone", nil, nil))
	_, err = e.s.StartMeeting(e.ctx, r, s)
	wantErr(t, "starting one conversation too many", err, ucwad.EConflict, ucwad.SubTooManyConversations)
	if n, err := e.s.SweepConversations(e.ctx); err != nil || n != 0 {
		t.Errorf("sweep: %d, %v", n, err)
	}
}

func testFinishedInvitations(t *testing.T, e *env) {
	ps := e.people(t, "alice", "bob", "carol")
	alice, bob, carol := ps["alice"], ps["bob"], ps["carol"]
	m := e.meetingOf(t, alice, "Locked", nil, nil)
	e.join(t, alice, m)
	e.join(t, bob, m) // fills the lobby
	var ids []string
	for range ucwad.MaxFinishedInvitations + 4 {
		inv := e.join(t, carol, m)
		wantInvitation(t, "carol", inv, ucwad.InvitationFailed, ucwad.SubTooManyLobbyParticipants)
		ids = append(ids, inv.ID)
	}
	for i, id := range ids {
		_, err := e.s.FindInvitation(e.ctx, carol.app.ID, id)
		if kept := i >= 4; kept != (err == nil) {
			t.Errorf("failed invitation %d: %v, want kept %v", i, err, kept)
		}
	}
}

func testConversationIsolation(t *testing.T, e *env) {
	ps := e.people(t, "alice", "bob", "mallory")
	alice, bob, mallory := ps["alice"], ps["bob"], ps["mallory"]
	m := e.meetingOf(t, alice, "Everyone", nil, nil)
	invA := e.join(t, alice, m)
	conv := invA.ConversationID
	e.join(t, bob, m)
	for _, p := range ps {
		e.events(t, p)
	}
	pb := e.participant(t, alice, conv, "bob")
	// Mallory, in no conversation, knows every id.
	_, err := e.s.FindInvitation(e.ctx, mallory.app.ID, invA.ID)
	wantErr(t, "another application's invitation", err, ucwad.ENotFound, ucwad.SubResourceNotFound)
	_, err = e.s.FindConversation(e.ctx, mallory.app.ID, conv)
	wantErr(t, "FindConversation", err, ucwad.ENotFound, ucwad.SubResourceNotFound)
	_, _, err = e.s.Roster(e.ctx, mallory.app.ID, conv)
	wantErr(t, "Roster", err, ucwad.ENotFound, ucwad.SubResourceNotFound)
	_, err = e.s.ConversationMeeting(e.ctx, mallory.app.ID, conv)
	wantErr(t, "ConversationMeeting", err, ucwad.ENotFound, ucwad.SubResourceNotFound)
	wantErr(t, "LeaveConversation", e.s.LeaveConversation(e.ctx, mallory.app.ID, conv), ucwad.ENotFound, ucwad.SubResourceNotFound)
	wantErr(t, "ChangeParticipant", e.act(mallory, conv, pb, ucwad.ActionEject), ucwad.ENotFound, ucwad.SubResourceNotFound)
	if views, err := e.s.ListConversations(e.ctx, mallory.app.ID); err != nil || len(views) != 0 {
		t.Errorf("mallory's conversations: %+v, %v", views, err)
	}
	e.wantNoEvents(t, "mallory's attempts", alice, bob, mallory)
}

func testOrphanSweep(t *testing.T, e *env) {
	ps := e.people(t, "alice", "bob")
	alice, bob := ps["alice"], ps["bob"]
	m := e.meetingOf(t, alice, "Everyone", nil, nil)
	conv := e.join(t, alice, m).ConversationID
	e.join(t, bob, m)
	e.events(t, alice)
	// Deleting a user takes its applications with it, without telling
	// the conversations: the sweep finds what is left.
	if err := e.s.DeleteUser(e.ctx, bob.user.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := e.s.SweepConversations(e.ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v; want bob's participant removed", n, err)
	}
	wantEvents(t, "alice", e.events(t, alice), "deleted participant bob in attendees", "deleted participant bob")
	if _, names := e.roster(t, alice, conv); !slices.Equal(names, []string{"alice Leader"}) {
		t.Errorf("roster %v", names)
	}
	// Deleting an organizer takes their meetings: the conversations of
	// those meetings end for the participants still there.
	carol := e.people(t, "carol")["carol"]
	m = e.meetingOf(t, carol, "Everyone", nil, nil)
	e.join(t, alice, m)
	e.events(t, alice)
	if err := e.s.DeleteUser(e.ctx, carol.user.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.SweepConversations(e.ctx); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "alice, in a meeting of a deleted user", e.events(t, alice),
		"deleted participant alice in attendees",
		"deleted localParticipant",
		"updated conversation Disconnected/Ended",
		"deleted conversation",
	)
}
