package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
)

// guestTests are the subtests of anonymous meeting guests (GuestStore),
// run with the joining limits.
var guestTests = []struct {
	name   string
	f      func(*testing.T, *env)
	limits func(*ucwad.Limits)
}{
	{"GuestCreate", testGuestCreate, nil},
	{"GuestRenew", testGuestRenew, nil},
	{"GuestApplicationBounds", testGuestApplicationBounds, func(l *ucwad.Limits) {
		l.MaxGuestApplicationsPerMeeting, l.MaxGuestApplicationsPerAddress = 3, 2
	}},
	{"GuestJoins", testGuestJoins, nil},
	{"GuestExpiry", testGuestExpiry, nil},
}

// guest creates an anonymous guest of meeting m from address addr, with
// the token hash, valid an hour.
func (e *env) guest(t *testing.T, m *ucwad.OnlineMeeting, addr, hash string) *ucwad.User {
	t.Helper()
	now := e.clk.Now()
	g := &ucwad.User{Guest: &ucwad.Guest{MeetingID: m.ID, Address: addr}}
	tok := &ucwad.Token{Hash: []byte(hash), CreatedAt: now, ExpiresAt: now.Add(ucwad.GuestTokenLifetime)}
	if err := e.s.CreateGuest(e.ctx, g, "", tok); err != nil {
		t.Fatalf("CreateGuest of %s from %s: %v", m.ID, addr, err)
	}
	if tok.UserID != g.ID {
		t.Errorf("token of user %d, guest %d", tok.UserID, g.ID)
	}
	return g
}

// guestPerson is a guest with an application (userAgent "ua", endpointId
// "ep-<name>"), as a joining subtest's person.
func (e *env) guestPerson(t *testing.T, name string, m *ucwad.OnlineMeeting, addr string) *person {
	t.Helper()
	g := e.guest(t, m, addr, "token of "+name)
	app, _ := e.createApp(t, g, "ep-"+name, "")
	return &person{name: name, user: g, app: app, ack: app.Channel.NextAck}
}

func testGuestCreate(t *testing.T, e *env) {
	alice := e.people(t, "alice")["alice"]
	m := e.meetingOf(t, alice, "Invited", nil, nil)
	expired := e.meetingOf(t, alice, "Invited", nil, nil)
	s := expired.MeetingSettings
	s.ExpirationTime = e.clk.Now().Add(-time.Millisecond)
	if _, err := e.s.UpdateMeeting(e.ctx, alice.user.ID, expired.ID, s, ""); err != nil {
		t.Fatal(err)
	}
	e.events(t, alice)
	users, _ := e.s.CountUsers(e.ctx)

	now := e.clk.Now()
	for _, tc := range []struct{ what, meeting, organizer string }{
		{"unknown meeting", "NOSUCHMEET", ""},
		{"another organizer", m.ID, "bob@contoso.com"},
		{"another organizer's alias", m.ID, "bob"},
		{"expired meeting", expired.ID, ""},
	} {
		g := &ucwad.User{Guest: &ucwad.Guest{MeetingID: tc.meeting, Address: "192.0.2.1"}}
		tok := &ucwad.Token{Hash: []byte("refused " + tc.what), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		wantErr(t, tc.what, e.s.CreateGuest(e.ctx, g, tc.organizer, tok), ucwad.ENotFound, ucwad.SubDestinationNotFound)
		if _, _, err := e.s.FindToken(e.ctx, tok.Hash); ucwad.ErrorCode(err) != ucwad.ENotFound {
			t.Errorf("%s: the token was stored (%v)", tc.what, err)
		}
	}

	tok := &ucwad.Token{Hash: []byte("guest token"), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	g := &ucwad.User{Guest: &ucwad.Guest{MeetingID: m.ID, Address: "2001:db8::/64"}}
	if err := e.s.CreateGuest(e.ctx, g, "Alice", tok); err != nil { // the join URL's alias, in any case
		t.Fatal(err)
	}
	if g.ID == 0 || !strings.HasSuffix(g.SIP, "@contoso.com") || strings.HasPrefix(g.SIP, "sip:") || g.PasswordHash != "" ||
		!g.CreatedAt.Equal(now) || g.Guest.MeetingID != m.ID || !g.Guest.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Errorf("guest %+v %+v", *g, *g.Guest)
	}
	_, u, err := e.s.FindToken(e.ctx, tok.Hash)
	if err != nil || u.ID != g.ID || u.SIP != g.SIP || u.Guest == nil || *u.Guest != *g.Guest || !u.Anonymous() {
		t.Fatalf("FindToken: %+v, %v", u, err)
	}
	if u, err := e.s.FindUserByID(e.ctx, g.ID); err != nil || u.Guest == nil || *u.Guest != *g.Guest {
		t.Errorf("FindUserByID: %+v, %v", u, err)
	}
	if _, _, err := e.s.FindToken(e.ctx, []byte("guest token")); err != nil {
		t.Error(err)
	}
	if _, u, _ := e.s.FindToken(e.ctx, e.createToken(t, alice.user, "alice's", time.Hour).Hash); u.Guest != nil || u.Anonymous() {
		t.Errorf("alice is a guest: %+v", u.Guest)
	}
	// Nobody signs in as a guest, and the directory does not list them.
	_, err = e.s.FindUserBySIP(e.ctx, g.SIP)
	wantErr(t, "FindUserBySIP of a guest", err, ucwad.ENotFound, "")
	if n, _ := e.s.CountUsers(e.ctx); n != users {
		t.Errorf("CountUsers %d with a guest, %d before", n, users)
	}
	list, _ := e.s.ListUsers(e.ctx)
	if slices.ContainsFunc(list, func(u *ucwad.User) bool { return u.ID == g.ID }) {
		t.Error("ListUsers lists the guest")
	}
	// Each grant is a new identity.
	g2 := e.guest(t, m, "2001:db8::/64", "second guest")
	if g2.ID == g.ID || g2.SIP == g.SIP {
		t.Errorf("two guests share an identity: %d %s, %d %s", g.ID, g.SIP, g2.ID, g2.SIP)
	}
}

func testGuestRenew(t *testing.T, e *env) {
	alice := e.people(t, "alice")["alice"]
	m := e.meetingOf(t, alice, "Invited", nil, nil)
	other := e.meetingOf(t, alice, "Invited", nil, nil)
	g := e.guest(t, m, "192.0.2.7", "first")
	e.clk.Advance(30 * time.Minute)
	now := e.clk.Now()

	refused := func(what string, old []byte, meeting string) {
		t.Helper()
		tok := &ucwad.Token{Hash: []byte("refused " + what), ExpiresAt: now.Add(time.Hour)}
		_, err := e.s.RenewGuest(e.ctx, old, meeting, tok, now.Add(time.Minute))
		wantErr(t, what, err, ucwad.ENotFound, "")
		if _, _, err := e.s.FindToken(e.ctx, tok.Hash); ucwad.ErrorCode(err) != ucwad.ENotFound {
			t.Errorf("%s: the new token was stored", what)
		}
	}
	refused("another meeting", []byte("first"), other.ID)
	refused("an unknown token", []byte("no such token"), m.ID)
	refused("a signed-in user's token", e.createToken(t, alice.user, "alice's", time.Hour).Hash, m.ID)

	tok := &ucwad.Token{Hash: []byte("second"), ExpiresAt: now.Add(time.Hour)}
	r, err := e.s.RenewGuest(e.ctx, []byte("first"), strings.ToLower(m.ID), tok, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != g.ID || r.SIP != g.SIP || r.Guest == nil || !r.Guest.ExpiresAt.Equal(now.Add(time.Hour)) || tok.UserID != g.ID {
		t.Errorf("renewed %+v %+v, token of %d; was %+v", *r, r.Guest, tok.UserID, *g)
	}
	if _, u, err := e.s.FindToken(e.ctx, tok.Hash); err != nil || u.ID != g.ID || !u.Guest.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Errorf("FindToken of the renewed token: %+v, %v", u, err)
	}
	// The old token works for the grace only.
	if old, _, err := e.s.FindToken(e.ctx, []byte("first")); err != nil || !old.ExpiresAt.Equal(now.Add(time.Minute)) {
		t.Errorf("old token: %+v, %v", old, err)
	}
	e.clk.Advance(time.Minute)
	if _, _, err := e.s.FindToken(e.ctx, []byte("first")); ucwad.ErrorCode(err) != ucwad.ENotFound {
		t.Errorf("the old token outlived its grace: %v", err)
	}
	refused("an expired token", []byte("first"), m.ID)

	// A meeting that is gone renews nobody.
	if err := e.s.DeleteMeeting(e.ctx, alice.user.ID, m.ID, ucwad.MeetingSettings{}); err != nil {
		t.Fatal(err)
	}
	refused("a deleted meeting", []byte("second"), m.ID)
}

func testGuestApplicationBounds(t *testing.T, e *env) {
	ps := e.people(t, "alice", "bob")
	alice := ps["alice"]
	m := e.meetingOf(t, alice, "Everyone", nil, nil)
	other := e.meetingOf(t, alice, "Everyone", nil, nil)
	a1 := e.guest(t, m, "192.0.2.1", "a1")
	a2 := e.guest(t, m, "192.0.2.1", "a2")
	b1 := e.guest(t, m, "192.0.2.2", "b1")
	c1 := e.guest(t, m, "192.0.2.3", "c1")
	elsewhere := e.guest(t, other, "192.0.2.1", "elsewhere")

	refused := func(what string, g *ucwad.User, endpoint string) {
		t.Helper()
		a := &ucwad.Application{UserID: g.ID, UserAgent: "ua", EndpointID: endpoint, Culture: "en-US"}
		_, _, err := e.s.CreateApplication(e.ctx, a, "")
		wantErr(t, what, err, ucwad.EGone, ucwad.SubTooManyApplications)
		if err != nil && !strings.Contains(err.Error(), "maxGuestApplicationsPer") {
			t.Errorf("%s: the message does not name the bound: %v", what, err)
		}
	}
	app1, _ := e.createApp(t, a1, "one", "")
	e.createApp(t, a2, "two", "")
	// Registering again is no new application.
	if again, created := e.createApp(t, a1, "one", ""); created || again.ID != app1.ID {
		t.Errorf("registering again: created %v, id %s, want %s", created, again.ID, app1.ID)
	}
	refused("a third from one address", a1, "three")
	e.createApp(t, b1, "four", "")
	refused("a fourth in one meeting", c1, "five")
	// Guests of another meeting, and users who sign in, are not counted
	// with them, but the address still is.
	refused("another meeting's guest from a full address", elsewhere, "six")
	for i := range 3 {
		e.createApp(t, ps["bob"].user, "bob-"+string(rune('a'+i)), "")
	}
	// A place freed is a place again.
	if err := e.s.DeleteApplication(e.ctx, a1.ID, app1.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, created := e.createApp(t, c1, "five", ""); !created {
		t.Error("c1's application was not created once a place was free")
	}
	refused("a1 again, the meeting full", a1, "one")
}

func testGuestJoins(t *testing.T, e *env) {
	alice := e.people(t, "alice")["alice"]
	m := e.meetingOf(t, alice, "Invited", nil, nil)
	g := e.guestPerson(t, "guest", m, "192.0.2.9")
	invA := e.join(t, alice, m)
	e.events(t, alice)
	r := &ucwad.JoinRequest{ApplicationID: g.app.ID, MeetingID: m.ID, Importance: "Normal",
		OnlineMeetingURI: m.URI(), AnonymousDisplayName: "Visitor One",
		Joiner: ucwad.Joiner{UserID: g.user.ID, URI: "sip:" + g.user.SIP, Name: "Visitor One", Anonymous: true}}
	inv, err := e.s.JoinMeeting(e.ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	wantInvitation(t, "the guest", inv, ucwad.InvitationConnecting, "")
	if inv.AnonymousDisplayName != "Visitor One" {
		t.Errorf("invitation's anonymousDisplayName %q", inv.AnonymousDisplayName)
	}
	if u, err := e.s.FindUserByID(e.ctx, g.user.ID); err != nil || u.Name != "Visitor One" {
		t.Errorf("the guest is named %+v, %v", u, err)
	}
	p := e.participant(t, alice, invA.ConversationID, "Visitor One")
	if !p.Anonymous || !p.InLobby || p.Role != ucwad.RoleAttendee || p.UserID != g.user.ID {
		t.Errorf("guest participant %+v", *p)
	}
	if err := e.act(alice, invA.ConversationID, p, ucwad.ActionAdmit); err != nil {
		t.Fatal(err)
	}
	wantInvitation(t, "the guest, admitted", e.invitation(t, g, inv.ID), ucwad.InvitationConnected, "")
	_, names := e.roster(t, g, inv.ConversationID)
	if !slices.Equal(names, []string{"alice Leader", "Visitor One Attendee"}) {
		t.Errorf("the guest's roster %v", names)
	}
}

func testGuestExpiry(t *testing.T, e *env) {
	alice := e.people(t, "alice")["alice"]
	m := e.meetingOf(t, alice, "Everyone", nil, nil)
	invA := e.join(t, alice, m)
	g := e.guestPerson(t, "guest", m, "192.0.2.9")
	r := &ucwad.JoinRequest{ApplicationID: g.app.ID, MeetingID: m.ID, Importance: "Normal", OnlineMeetingURI: m.URI(),
		AnonymousDisplayName: "Visitor", Joiner: ucwad.Joiner{UserID: g.user.ID, URI: "sip:" + g.user.SIP, Name: "Visitor", Anonymous: true}}
	if _, err := e.s.JoinMeeting(e.ctx, r); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(30 * time.Minute)
	later := e.guest(t, m, "192.0.2.9", "later")
	e.events(t, alice)
	e.notes.take()

	if n, err := e.s.DeleteExpiredGuests(e.ctx); err != nil || n != 0 {
		t.Fatalf("DeleteExpiredGuests before any expiry: %d, %v", n, err)
	}
	e.clk.Advance(30 * time.Minute)
	if n, err := e.s.DeleteExpiredGuests(e.ctx); err != nil || n != 1 {
		t.Fatalf("DeleteExpiredGuests: %d, %v", n, err)
	}
	if _, err := e.s.FindUserByID(e.ctx, g.user.ID); ucwad.ErrorCode(err) != ucwad.ENotFound {
		t.Errorf("the expired guest is still there: %v", err)
	}
	if _, err := e.s.FindUserByID(e.ctx, later.ID); err != nil {
		t.Errorf("the later guest went too: %v", err)
	}
	// It left the meeting the way an expired application does: the others
	// saw it go.
	_, names := e.roster(t, alice, invA.ConversationID)
	if !slices.Equal(names, []string{"alice Leader"}) {
		t.Errorf("roster after expiry %v", names)
	}
	wantEvents(t, "alice", e.events(t, alice),
		"deleted participant Visitor in attendees",
		"deleted participant Visitor",
	)
	if notes := e.notes.take(); !slices.Contains(notes, alice.app.ID) {
		t.Errorf("notified %v, not alice's application", notes)
	}
}
