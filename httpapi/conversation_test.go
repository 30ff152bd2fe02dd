package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/clock"
	"github.com/ucwad/ucwad/httpapi"
	"github.com/ucwad/ucwad/sqlite"
	"github.com/ucwad/ucwad/ucwa"
	"github.com/ucwad/ucwad/ucwa/ucwatest"
)

// addUser creates another user of the test server: <name>@contoso.com,
// display name "<Name> Example", password "secret-<name>".
func (e *env) addUser(name string) {
	e.t.Helper()
	h, err := auth.NewHasher(auth.TestParams, 1).Hash(context.Background(), "secret-"+name)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.CreateUser(context.Background(), &ucwad.User{SIP: name + "@contoso.com",
		Name: strings.ToUpper(name[:1]) + name[1:] + " Example", PasswordHash: h}); err != nil {
		e.t.Fatal(err)
	}
}

// member is a session joining meetings in one format: every request and
// its event channel use accept.
type member struct {
	*session
	name   string // display name
	accept string
	next   string // the next events href
	conv   string // the conversation href, once joined
}

func (e *env) member(user, accept string) *member {
	e.t.Helper()
	s := e.signIn(user, "join-"+user)
	return &member{session: s, name: strings.ToUpper(user[:1]) + user[1:] + " Example", accept: accept, next: link(e.t, s.app, "events")}
}

func (m *member) do(r req) *resp {
	m.e.t.Helper()
	if r.header == nil {
		r.header = map[string]string{}
	}
	if _, ok := r.header["Accept"]; !ok {
		r.header["Accept"] = m.accept
	}
	if r.body != "" {
		if _, ok := r.header["Content-Type"]; !ok {
			r.header["Content-Type"] = "application/json"
		}
	}
	return m.session.do(r)
}

func (m *member) get(t *testing.T, href string) *ucwa.Resource {
	t.Helper()
	return m.do(req{method: "GET", url: href}).wantStatus(t, http.StatusOK).resource(t)
}

func (m *member) communication(t *testing.T) *ucwa.Resource {
	t.Helper()
	return embedded(t, m.app, "communication")
}

// join POSTs joinOnlineMeeting and returns the invitation's href.
func (m *member) join(t *testing.T, body string) string {
	t.Helper()
	r := m.do(req{method: "POST", url: link(t, m.communication(t), "joinOnlineMeeting"), body: body})
	r.wantStatus(t, http.StatusCreated)
	if len(r.body) != 0 {
		t.Errorf("join answered a body: %s", r.body)
	}
	loc := r.Header.Get("Location")
	if !strings.HasPrefix(loc, m.app.Href+"/communication/") {
		t.Fatalf("Location %q is not under the application", loc)
	}
	return loc
}

// events reads the next batch of m's channel (there must be one waiting)
// and describes each event as "<sender rel>: <type> <link rel> [title]
// [in <rel>] [<state>] [<status> <code>/<subcode>]", checking that every
// href is where it belongs: senders and in links at m's resources.
func (m *member) events(t *testing.T) []string {
	t.Helper()
	r := m.do(req{method: "GET", url: m.next}).wantStatus(t, http.StatusOK)
	if got := r.format(t); got != formatOf(m.accept) {
		t.Fatalf("events answered in format %v", got)
	}
	ev := r.events(t)
	if ev.Next == "" {
		t.Fatalf("no next link: %s", r.body)
	}
	m.next = ev.Next
	var out []string
	for _, snd := range ev.Senders {
		for _, e := range snd.Events {
			out = append(out, m.describe(t, snd, e))
		}
	}
	return out
}

// skip reads the next batch of m's channel without looking at it.
func (m *member) skip(t *testing.T) {
	t.Helper()
	r := m.do(req{method: "GET", url: m.next}).wantStatus(t, http.StatusOK)
	m.next = r.events(t).Next
}

func formatOf(accept string) ucwa.Format {
	if strings.Contains(accept, "xml") {
		return ucwa.XML
	}
	return ucwa.JSON
}

func (m *member) describe(t *testing.T, snd ucwa.EventSender, e ucwa.EventEntry) string {
	t.Helper()
	s := fmt.Sprintf("%s: %s %s", snd.Rel, e.Type, e.Link.Rel)
	comm := m.app.Href + "/communication"
	switch snd.Rel {
	case "communication":
		if snd.Href != comm {
			t.Errorf("sender communication %s, want %s", snd.Href, comm)
		}
	case "conversation":
		if !strings.HasPrefix(snd.Href, comm+"/conversations/") {
			t.Errorf("sender conversation %s", snd.Href)
		}
		if m.conv != "" && snd.Href != m.conv {
			t.Errorf("sender %s, want %s's conversation %s", snd.Href, m.name, m.conv)
		}
		if !strings.HasPrefix(e.Link.Href, snd.Href+"/") {
			t.Errorf("%s %s: link %s is not in the conversation %s", e.Type, e.Link.Rel, e.Link.Href, snd.Href)
		}
	case "onlineMeetings": // the meeting's own events
	default:
		t.Errorf("sender %s %s", snd.Rel, snd.Href)
	}
	if e.Link.Title != "" {
		s += " " + e.Link.Title
	}
	if e.In != nil {
		s += " in " + e.In.Rel
		want := snd.Href + "/" + e.In.Rel
		if e.In.Rel == "typingParticipants" {
			want = snd.Href + "/messaging/" + e.In.Rel
		}
		if e.In.Rel != "conversation" && e.In.Href != want {
			t.Errorf("in %s href %s, want %s", e.In.Rel, e.In.Href, want)
		}
		if e.In.Rel == "conversation" && e.In.Href != snd.Href {
			t.Errorf("in conversation %s, want %s", e.In.Href, snd.Href)
		}
	}
	if e.Embedded != nil {
		if e.Embedded.Href != e.Link.Href {
			t.Errorf("%s %s embeds %s", e.Type, e.Link.Href, e.Embedded.Href)
		}
		if st, ok := e.Embedded.Get("state"); ok {
			s += " [" + st.Str() + "]"
		}
	}
	if e.Status != "" {
		s += " " + e.Status
	}
	if e.Reason != nil {
		s += " " + e.Reason.Code + "/" + e.Reason.Subcode
	}
	return s
}

// none checks that nothing waits on m's channel, asking the store (a P-GET
// would be held).
func (m *member) none(t *testing.T) {
	t.Helper()
	app := m.app.Href[strings.LastIndex(m.app.Href, "/")+1:]
	b, err := m.e.store.ReadBatch(t.Context(), app, "", ackOf(t, m.next), false, 0)
	if err != nil || !b.Wait {
		t.Errorf("%s has events waiting: %+v, %v", m.name, b, err)
	}
}

func wantList(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n  %s\nwant\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// names lists the participants a roster resource embeds: "<name> <role>"
// and " lobby" when waiting, with the capability links offered.
func names(t *testing.T, res *ucwa.Resource) []string {
	t.Helper()
	var out []string
	for _, p := range res.FindEmbedded("participant") {
		s := str(t, p, "name") + " " + str(t, p, "role")
		if v, _ := p.Get("inLobby"); strings.EqualFold(v.Text(), "true") { // XML booleans decode as text
			s += " lobby"
		}
		var caps []string
		for _, a := range []string{"admit", "reject", "promote", "demote", "eject"} {
			if l, ok := p.FindLink(a); ok {
				if l.Href != p.Href+"/"+a {
					t.Errorf("%s link %s of %s", a, l.Href, p.Href)
				}
				caps = append(caps, a)
			}
		}
		if len(caps) > 0 {
			s += " (" + strings.Join(caps, " ") + ")"
		}
		out = append(out, s)
	}
	return out
}

// participantHref finds the href of the participant named name in a
// roster resource.
func participantHref(t *testing.T, res *ucwa.Resource, name string) string {
	t.Helper()
	for _, p := range res.FindEmbedded("participant") {
		if str(t, p, "name") == name {
			return p.Href
		}
	}
	t.Fatalf("%s does not list %s", res.Href, name)
	return ""
}

// TestJoiningEndToEnd is the scenario of docs/meetings.md, over HTTP, in
// JSON and in XML: the organizer schedules an Invited meeting listing one
// attendee and joins; the invited user enters directly; an uninvited user
// waits in the lobby and is admitted; another is rejected; a leader ejects
// a participant; one leaves. Each application's channel sees exactly the
// events the design lists, with their senders, in links and titles.
func TestJoiningEndToEnd(t *testing.T) {
	for _, accept := range []string{"application/json", "application/vnd.microsoft.com.ucwa+xml"} {
		t.Run(formatName(accept), func(t *testing.T) { joiningScenario(t, accept) })
	}
}

func joiningScenario(t *testing.T, accept string) {
	e := newEnv(t)
	e.addUser("carol")
	e.addUser("dave")
	alice, bob, carol, dave := e.member("alice", accept), e.member("bob", accept), e.member("carol", accept), e.member("dave", accept)
	m := alice.schedule(t, `{"subject":"Design review","accessLevel":"Invited","automaticLeaderAssignment":"Disabled","attendees":["sip:bob@contoso.com"]}`)
	uri := str(t, m, "onlineMeetingUri")
	alice.skip(t) // the meeting's own event
	body := func(op string) string { return fmt.Sprintf(`{"onlineMeetingUri":%q,"operationId":%q}`, uri, op) }

	// The organizer joins.
	inv := alice.join(t, body("op-alice"))
	wantList(t, "alice joins", alice.events(t),
		"communication: started onlineMeetingInvitation [Connecting]",
		"communication: added conversation [Connecting]",
		"conversation: added onlineMeeting in conversation",
		"conversation: added localParticipant Alice Example",
		"conversation: added participant Alice Example in leaders",
		"communication: updated conversation [Conferenced]",
		"communication: completed onlineMeetingInvitation [Connected] Success",
		"conversation: updated messaging [Disconnected]",
	)
	invRes := alice.get(t, inv)
	if str(t, invRes, "operationId") != "op-alice" || str(t, invRes, "state") != "Connected" || str(t, invRes, "onlineMeetingUri") != uri {
		t.Errorf("alice's invitation %v", invRes.Props())
	}
	alice.conv = link(t, invRes, "conversation")
	conv := alice.get(t, alice.conv)
	if str(t, conv, "state") != "Conferenced" || str(t, conv, "subject") != "Design review" {
		t.Errorf("alice's conversation %v", conv.Props())
	}
	view := alice.get(t, link(t, conv, "onlineMeeting"))
	if str(t, view, "organizerName") != "Alice Example" || str(t, view, "onlineMeetingUri") != uri || str(t, view, "joinUrl") != str(t, m, "joinUrl") {
		t.Errorf("the meeting view %v", view.Props())
	}

	// The invited attendee enters directly.
	bob.join(t, body("op-bob"))
	wantList(t, "bob joins", bob.events(t),
		"communication: started onlineMeetingInvitation [Connecting]",
		"communication: added conversation [Connecting]",
		"conversation: added onlineMeeting in conversation",
		"conversation: added localParticipant Bob Example",
		"conversation: added participant Bob Example in attendees",
		"conversation: added participant Alice Example",
		"conversation: added participant Alice Example in leaders",
		"communication: updated conversation [Conferenced]",
		"communication: completed onlineMeetingInvitation [Connected] Success",
		"conversation: updated messaging [Disconnected]",
	)
	wantList(t, "alice sees bob", alice.events(t),
		"conversation: added participant Bob Example",
		"conversation: added participant Bob Example in attendees",
	)

	// Carol and Dave, not invited, wait in the lobby.
	carolInv := carol.join(t, body("op-carol"))
	for _, who := range []*member{carol, dave} {
		if who == dave {
			dave.join(t, body("op-dave"))
		}
		wantList(t, who.name+" waits", who.events(t),
			"communication: started onlineMeetingInvitation [Connecting]",
			"communication: added conversation [Connecting]",
			"conversation: added localParticipant "+who.name,
			"conversation: added participant "+who.name+" in lobby",
			"communication: updated conversation [InLobby]",
			"communication: updated onlineMeetingInvitation [Connecting]",
		)
		wantList(t, "alice sees "+who.name+" wait", alice.events(t),
			"conversation: added participant "+who.name,
			"conversation: added participant "+who.name+" in lobby",
		)
	}
	bob.none(t)
	carol.conv = link(t, carol.get(t, carolInv), "conversation")
	carolConv := carol.get(t, carol.conv)
	if str(t, carolConv, "state") != "InLobby" {
		t.Errorf("carol's conversation %v", carolConv.Props())
	}
	for _, rel := range []string{"participants", "onlineMeeting", "leaders", "attendees", "lobby"} {
		if _, ok := carolConv.FindLink(rel); ok {
			t.Errorf("carol, waiting, is offered %s", rel)
		}
	}
	carol.do(req{method: "GET", url: carol.conv + "/onlineMeeting"}).wantError(t, http.StatusForbidden, ucwad.EForbidden, "")
	wantList(t, "carol sees only herself", names(t, carol.get(t, carol.conv+"/participants")), "Carol Example Attendee lobby")

	lobby := alice.get(t, link(t, conv, "lobby"))
	wantList(t, "alice's lobby", names(t, lobby), "Carol Example Attendee lobby (admit reject eject)", "Dave Example Attendee lobby (admit reject eject)")
	wantList(t, "alice's participants", names(t, alice.get(t, link(t, conv, "participants"))),
		"Alice Example Leader", "Bob Example Attendee (promote eject)",
		"Carol Example Attendee lobby (admit reject eject)", "Dave Example Attendee lobby (admit reject eject)")
	bobConv := bob.get(t, link(t, bob.get(t, link(t, bob.communication(t), "conversations")).FindEmbedded("conversation")[0], "self"))
	bob.conv = bobConv.Href
	if _, ok := bobConv.FindLink("lobby"); ok {
		t.Error("bob, an attendee, is offered the lobby")
	}
	wantList(t, "bob's participants", names(t, bob.get(t, link(t, bobConv, "participants"))), "Alice Example Leader", "Bob Example Attendee")
	wantList(t, "bob's lobby", names(t, bob.get(t, bob.conv+"/lobby")))

	// Bob, not a leader, may neither admit nor eject: 403, nothing changes.
	carolHref := participantHref(t, lobby, "Carol Example")
	carolForBob := bob.conv + "/participants/" + carolHref[strings.LastIndex(carolHref, "/")+1:]
	bob.do(req{method: "POST", url: carolForBob + "/admit"}).wantError(t, http.StatusForbidden, ucwad.EForbidden, ucwad.SubAttendeeNotAllowed)
	aliceForBob := participantHref(t, bob.get(t, bob.conv+"/participants"), "Alice Example")
	bob.do(req{method: "POST", url: aliceForBob + "/eject"}).wantError(t, http.StatusForbidden, ucwad.EForbidden, ucwad.SubAttendeeNotAllowed)

	// Alice admits Carol.
	alice.do(req{method: "POST", url: carolHref + "/admit"}).wantStatus(t, http.StatusNoContent)
	wantList(t, "carol admitted", carol.events(t),
		"conversation: deleted participant Carol Example in lobby",
		"conversation: added participant Carol Example in attendees",
		"conversation: updated localParticipant Carol Example",
		"conversation: added onlineMeeting in conversation",
		"conversation: added participant Alice Example",
		"conversation: added participant Alice Example in leaders",
		"conversation: added participant Bob Example",
		"conversation: added participant Bob Example in attendees",
		"communication: updated conversation [Conferenced]",
		"communication: completed onlineMeetingInvitation [Connected] Success",
		"conversation: updated messaging [Disconnected]",
	)
	wantList(t, "alice", alice.events(t),
		"conversation: deleted participant Carol Example in lobby",
		"conversation: added participant Carol Example in attendees",
		"conversation: updated participant Carol Example",
	)
	wantList(t, "bob", bob.events(t),
		"conversation: added participant Carol Example",
		"conversation: added participant Carol Example in attendees",
	)
	// Admitting her again: she is not in the lobby.
	alice.do(req{method: "POST", url: carolHref + "/admit"}).wantError(t, http.StatusConflict, ucwad.EConflict, "")
	if str(t, carol.get(t, carol.conv), "state") != "Conferenced" {
		t.Error("carol's conversation is not Conferenced")
	}

	// Alice rejects Dave.
	alice.do(req{method: "POST", url: participantHref(t, lobby, "Dave Example") + "/reject"}).wantStatus(t, http.StatusNoContent)
	wantList(t, "dave rejected", dave.events(t),
		"communication: completed onlineMeetingInvitation [Failed] Failure Forbidden/Denied",
		"conversation: deleted localParticipant Dave Example",
		"communication: updated conversation [Disconnected]",
		"communication: deleted conversation",
	)
	wantList(t, "alice", alice.events(t),
		"conversation: deleted participant Dave Example in lobby",
		"conversation: deleted participant Dave Example",
	)

	// Alice ejects Bob.
	alice.do(req{method: "POST", url: participantHref(t, alice.get(t, alice.conv+"/attendees"), "Bob Example") + "/eject"}).wantStatus(t, http.StatusNoContent)
	wantList(t, "bob ejected", bob.events(t),
		"conversation: deleted participant Bob Example in attendees",
		"conversation: deleted localParticipant Bob Example",
		"communication: updated conversation [Disconnected] Forbidden/Ejected",
		"communication: deleted conversation",
	)
	for _, who := range []*member{alice, carol} {
		wantList(t, who.name+" sees bob go", who.events(t),
			"conversation: deleted participant Bob Example in attendees",
			"conversation: deleted participant Bob Example",
		)
	}
	bob.do(req{method: "GET", url: bob.conv}).wantError(t, http.StatusNotFound, ucwad.ENotFound, ucwad.SubResourceNotFound)

	// Carol leaves.
	carol.do(req{method: "DELETE", url: carol.conv}).wantStatus(t, http.StatusNoContent)
	wantList(t, "carol leaves", carol.events(t),
		"conversation: deleted participant Carol Example in attendees",
		"conversation: deleted localParticipant Carol Example",
		"communication: updated conversation [Disconnected]",
		"communication: deleted conversation",
	)
	wantList(t, "alice sees carol go", alice.events(t),
		"conversation: deleted participant Carol Example in attendees",
		"conversation: deleted participant Carol Example",
	)
	carol.do(req{method: "GET", url: carol.conv}).wantError(t, http.StatusNotFound, ucwad.ENotFound, ucwad.SubResourceNotFound)
	wantList(t, "alice alone", names(t, alice.get(t, alice.conv+"/participants")), "Alice Example Leader")
	for _, who := range []*member{alice, bob, carol, dave} {
		who.none(t)
	}
}

// TestJoiningErrors: each bad request answers its error and changes
// nothing anyone can see.
func TestJoiningErrors(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) { c.Limits.MaxParticipants = 2 })
	e.addUser("carol")
	alice, bob, carol := e.member("alice", "application/json"), e.member("bob", "application/json"), e.member("carol", "application/json")
	m := alice.schedule(t, `{"accessLevel":"Everyone"}`)
	gone := alice.schedule(t, `{}`)
	alice.do(req{method: "DELETE", url: gone.Href}).wantStatus(t, http.StatusNoContent)
	soon := alice.schedule(t, fmt.Sprintf(`{"expirationTime":"\/Date(%d)\/"}`, t0.Add(time.Minute).UnixMilli()))
	e.clock.Advance(2 * time.Minute)
	alice.skip(t) // the meetings' own events
	alice.join(t, fmt.Sprintf(`{"onlineMeetingUri":%q}`, str(t, m, "onlineMeetingUri")))
	alice.events(t)
	joinURL := link(t, bob.communication(t), "joinOnlineMeeting")
	other := strings.Replace(str(t, m, "onlineMeetingUri"), "alice@", "bob@", 1)
	for _, tc := range []struct {
		what, uri string
		status    int
		code      ucwad.Code
		subcode   string
	}{
		{"an unknown meeting", "sip:alice@contoso.com;gruu;opaque=app:conf:focus:id:NOSUCHMTNG", 404, ucwad.ENotFound, ucwad.SubDestinationNotFound},
		{"a deleted meeting", str(t, gone, "onlineMeetingUri"), 404, ucwad.ENotFound, ucwad.SubDestinationNotFound},
		{"an expired meeting", str(t, soon, "onlineMeetingUri"), 404, ucwad.ENotFound, ucwad.SubDestinationNotFound},
		{"the meeting under another organizer", other, 404, ucwad.ENotFound, ucwad.SubDestinationNotFound},
		{"something else than a meeting URI", "sip:alice@contoso.com", 400, ucwad.EBadRequest, ucwad.SubParameterValidationFailure},
	} {
		for _, accept := range []string{"application/json", "application/xml"} {
			r := bob.do(req{method: "POST", url: joinURL, body: fmt.Sprintf(`{"onlineMeetingUri":%q}`, tc.uri), header: map[string]string{"Accept": accept}})
			r.wantError(t, tc.status, tc.code, tc.subcode)
		}
	}
	bob.do(req{method: "POST", url: joinURL, body: `{"importance":"Sometimes"}`}).wantError(t, 400, ucwad.EBadRequest, ucwad.SubParameterValidationFailure)
	bob.do(req{method: "POST", url: joinURL + "?onlineMeetingUri=" + strings.Repeat("x", 20), body: `{}`}).
		wantError(t, 400, ucwad.EBadRequest, ucwad.SubParameterValidationFailure)
	// Query parameters are checked as body members are.
	r := bob.do(req{method: "POST", url: joinURL + "?operationId=op%00&onlineMeetingUri=" + url.QueryEscape(str(t, m, "onlineMeetingUri")), body: `{}`})
	if reason := r.wantError(t, 400, ucwad.EBadRequest, ucwad.SubParameterValidationFailure); len(reason.Parameters) != 1 || reason.Parameters[0].Name != "operationId" {
		t.Errorf("a control character in operationId: parameters %+v", reason.Parameters)
	}

	alice.none(t)
	bob.none(t)
	if cs := bob.get(t, link(t, bob.communication(t), "conversations")).FindEmbedded("conversation"); len(cs) != 0 {
		t.Errorf("bob is in %d conversations after refused joins", len(cs))
	}
	// The query parameter works as the body member does; bob enters.
	bob.do(req{method: "POST", url: joinURL + "?onlineMeetingUri=" + url.QueryEscape(str(t, m, "onlineMeetingUri")), body: `{}`}).
		wantStatus(t, http.StatusCreated)
	bob.events(t)
	alice.events(t)
	// Joining again from the same application.
	bob.do(req{method: "POST", url: joinURL, body: fmt.Sprintf(`{"onlineMeetingUri":%q}`, str(t, m, "onlineMeetingUri"))}).
		wantError(t, http.StatusConflict, ucwad.EConflict, ucwad.SubAlreadyExists)

	// Past the participant bound: the join starts and fails; the roster
	// does not change.
	carol.join(t, fmt.Sprintf(`{"onlineMeetingUri":%q}`, str(t, m, "onlineMeetingUri")))
	wantList(t, "carol, third in a meeting of two", carol.events(t),
		"communication: started onlineMeetingInvitation [Connecting]",
		"communication: completed onlineMeetingInvitation [Failed] Failure Forbidden/TooManyParticipants",
	)
	alice.none(t)
	bob.none(t)
}

// TestConversationRepresentations pins every resource of joining, in JSON
// and XML, with what is random in it replaced by names: the organizer's
// view of a meeting with an invited attendee in it and an uninvited user
// waiting, and the waiting user's own.
func TestConversationRepresentations(t *testing.T) {
	e := newEnv(t)
	e.addUser("carol")
	alice, bob, carol := e.member("alice", "application/json"), e.member("bob", "application/json"), e.member("carol", "application/json")
	m := alice.schedule(t, `{"subject":"Design review","accessLevel":"Invited","automaticLeaderAssignment":"Disabled",
		"attendees":["sip:bob@contoso.com"],"expirationTime":"2026-03-01T17:00:00Z"}`)
	alice.skip(t)
	body := fmt.Sprintf(`{"onlineMeetingUri":%q,"operationId":"op-1","subject":"Sprint & <review>","importance":"urgent"}`, str(t, m, "onlineMeetingUri"))
	aliceInv := alice.join(t, body)
	bob.join(t, fmt.Sprintf(`{"onlineMeetingUri":%q}`, str(t, m, "onlineMeetingUri")))
	carolInv := carol.join(t, fmt.Sprintf(`{"onlineMeetingUri":%q}`, str(t, m, "onlineMeetingUri")))
	alice.conv = link(t, alice.get(t, aliceInv), "conversation")
	carol.conv = link(t, carol.get(t, carolInv), "conversation")
	conv := alice.get(t, alice.conv)
	roster := alice.get(t, link(t, conv, "participants"))

	id := func(href string) string { return href[strings.LastIndex(href, "/")+1:] }
	names := []string{
		id(alice.app.Href), "ALICE-APP", id(bob.app.Href), "BOB-APP", id(carol.app.Href), "CAROL-APP",
		id(alice.conv), "CONVERSATION", id(aliceInv), "ALICE-INVITATION", id(carolInv), "CAROL-INVITATION",
		str(t, m, "onlineMeetingId"), "MEETING-ID", str(t, m, "conferenceId"), "MEETING-CONFERENCE",
		str(t, conv, "threadId"), "THREAD",
		id(participantHref(t, roster, "Alice Example")), "ALICE-PARTICIPANT",
		id(participantHref(t, roster, "Bob Example")), "BOB-PARTICIPANT",
		id(participantHref(t, roster, "Carol Example")), "CAROL-PARTICIPANT",
	}
	// The server's address, which the joinUrl starts with.
	names = append(names, e.base, "BASE")
	normalize := strings.NewReplacer(names...)
	guid := regexp.MustCompile(`conversation-id=[0-9a-f-]{36}`)

	for _, tc := range []struct {
		name string
		who  *member
		href string
	}{
		{"communication", alice, link(t, alice.app, "self") + "/communication"},
		{"onlineMeetingInvitation", alice, aliceInv},
		{"conversations", alice, link(t, alice.communication(t), "conversations")},
		{"conversation", alice, alice.conv},
		{"conversationMeeting", alice, link(t, conv, "onlineMeeting")},
		{"localParticipant", alice, link(t, conv, "localParticipant")},
		{"participants", alice, link(t, conv, "participants")},
		{"participant", alice, participantHref(t, roster, "Bob Example")},
		{"leaders", alice, link(t, conv, "leaders")},
		{"attendees", alice, link(t, conv, "attendees")},
		{"lobby", alice, link(t, conv, "lobby")},
		{"conversationInLobby", carol, carol.conv},
		{"onlineMeetingInvitationInLobby", carol, carolInv},
	} {
		for _, f := range []struct{ ext, accept string }{{"json", "application/json"}, {"xml", "application/xml"}} {
			r := tc.who.do(req{method: "GET", url: tc.href, header: map[string]string{"Accept": f.accept}}).wantStatus(t, 200)
			out := guid.ReplaceAll([]byte(normalize.Replace(string(r.body))), []byte("conversation-id=GUID"))
			ucwatest.Golden(t, tc.name+"."+f.ext, out)
		}
	}
	// The events of a join, as the organizer's channel carries them.
	for _, f := range []struct{ ext, accept string }{{"json", "application/json"}, {"xml", "application/vnd.microsoft.com.ucwa+xml"}} {
		next := alice.next
		r := alice.do(req{method: "GET", url: next, header: map[string]string{"Accept": f.accept}}).wantStatus(t, 200)
		ack := regexp.MustCompile(`ack=\d+`)
		out := ack.ReplaceAll([]byte(normalize.Replace(string(r.body))), []byte("ack=N"))
		ucwatest.Golden(t, "joinEvents."+f.ext, out)
	}
}

// TestPromoteDemoteOverHTTP: a leader promotes an attendee, who then sees
// the lobby and may admit; demoted, the lobby is gone again.
func TestPromoteDemoteOverHTTP(t *testing.T) {
	e := newEnv(t)
	e.addUser("carol")
	alice, bob, carol := e.member("alice", "application/json"), e.member("bob", "application/json"), e.member("carol", "application/json")
	m := alice.schedule(t, `{"accessLevel":"Invited","automaticLeaderAssignment":"Disabled","attendees":["sip:bob@contoso.com"]}`)
	uri := fmt.Sprintf(`{"onlineMeetingUri":%q}`, str(t, m, "onlineMeetingUri"))
	alice.conv = link(t, alice.get(t, alice.join(t, uri)), "conversation")
	bob.conv = link(t, bob.get(t, bob.join(t, uri)), "conversation")
	carol.join(t, uri)
	alice.skip(t)
	bob.skip(t)
	carol.skip(t)

	bobHref := participantHref(t, alice.get(t, alice.conv+"/attendees"), "Bob Example")
	alice.do(req{method: "POST", url: bobHref + "/promote"}).wantStatus(t, http.StatusNoContent)
	wantList(t, "bob promoted", bob.events(t),
		"conversation: deleted participant Bob Example in attendees",
		"conversation: added participant Bob Example in leaders",
		"conversation: updated localParticipant Bob Example",
		"conversation: updated participant Alice Example",
		"conversation: added participant Carol Example",
		"conversation: added participant Carol Example in lobby",
	)
	wantList(t, "alice", alice.events(t),
		"conversation: deleted participant Bob Example in attendees",
		"conversation: added participant Bob Example in leaders",
		"conversation: updated participant Bob Example",
	)
	if _, ok := bob.get(t, bob.conv).FindLink("lobby"); !ok {
		t.Error("bob, a leader now, is not offered the lobby")
	}
	wantList(t, "bob's roster", names(t, bob.get(t, bob.conv+"/participants")),
		"Alice Example Leader", "Bob Example Leader", "Carol Example Attendee lobby (admit reject eject)")
	wantList(t, "alice's leaders", names(t, alice.get(t, alice.conv+"/leaders")), "Alice Example Leader", "Bob Example Leader (demote eject)")
	alice.do(req{method: "POST", url: bobHref + "/promote"}).wantError(t, http.StatusConflict, ucwad.EConflict, "")

	alice.do(req{method: "POST", url: bobHref + "/demote"}).wantStatus(t, http.StatusNoContent)
	wantList(t, "bob demoted", bob.events(t),
		"conversation: deleted participant Bob Example in leaders",
		"conversation: added participant Bob Example in attendees",
		"conversation: updated localParticipant Bob Example",
		"conversation: updated participant Alice Example",
		"conversation: deleted participant Carol Example in lobby",
		"conversation: deleted participant Carol Example",
	)
	bob.do(req{method: "GET", url: bobHref}).wantError(t, http.StatusNotFound, ucwad.ENotFound, ucwad.SubApplicationNotFound)
	// Unknown actions are no resources; actions answer POST only.
	alice.do(req{method: "POST", url: bobHref + "/mute"}).wantError(t, http.StatusNotFound, ucwad.ENotFound, ucwad.SubResourceNotFound)
	r := alice.do(req{method: "GET", url: bobHref + "/eject"})
	r.wantError(t, http.StatusMethodNotAllowed, ucwad.EMethodNotAllowed, "")
	if r.Header.Get("Allow") != "POST" {
		t.Errorf("Allow %q", r.Header.Get("Allow"))
	}
}

// TestStartOnlineMeeting: an ad hoc meeting is a real meeting of the
// caller, joined at once, joinable by others by its URI, absent from
// myOnlineMeetings, and gone with its conversation.
func TestStartOnlineMeeting(t *testing.T) {
	for _, start := range []string{"startOnlineMeeting", "joinOnlineMeeting"} {
		t.Run(start, func(t *testing.T) {
			e := newEnv(t)
			alice, bob := e.member("alice", "application/json"), e.member("bob", "application/json")
			r := alice.do(req{method: "POST", url: link(t, alice.communication(t), start), body: `{"operationId":"adhoc-1","subject":"Quick sync"}`})
			r.wantStatus(t, http.StatusCreated)
			inv := alice.get(t, r.Header.Get("Location"))
			alice.conv = link(t, inv, "conversation")
			wantList(t, "alice starts", alice.events(t),
				"communication: started onlineMeetingInvitation [Connecting]",
				"communication: added conversation [Connecting]",
				"conversation: added onlineMeeting in conversation",
				"conversation: added localParticipant Alice Example",
				"conversation: added participant Alice Example in leaders",
				"communication: updated conversation [Conferenced]",
				"communication: completed onlineMeetingInvitation [Connected] Success",
				"conversation: updated messaging [Disconnected]",
			)
			view := alice.get(t, alice.conv+"/onlineMeeting")
			uri := str(t, view, "onlineMeetingUri")
			if str(t, inv, "onlineMeetingUri") != uri || str(t, view, "subject") != "Quick sync" || str(t, view, "onlineMeetingRel") != "myOnlineMeetings" ||
				str(t, view, "organizerUri") != "sip:alice@contoso.com" {
				t.Errorf("the ad hoc meeting's view %v, invitation %v", view.Props(), inv.Props())
			}
			list := alice.get(t, alice.myMeetings(t))
			if n := len(list.FindEmbedded("myOnlineMeeting")); n != 0 {
				t.Errorf("myOnlineMeetings lists %d meetings", n)
			}
			alice.do(req{method: "GET", url: alice.myMeetings(t) + "/" + str(t, view, "onlineMeetingId")}).wantStatus(t, http.StatusNotFound)

			bob.conv = link(t, bob.get(t, bob.join(t, fmt.Sprintf(`{"onlineMeetingUri":%q}`, uri))), "conversation")
			wantList(t, "alice sees bob", alice.events(t), "conversation: added participant Bob Example", "conversation: added participant Bob Example in leaders")
			for _, who := range []*member{alice, bob} {
				who.do(req{method: "DELETE", url: who.conv}).wantStatus(t, http.StatusNoContent)
			}
			bob.do(req{method: "POST", url: link(t, bob.communication(t), "joinOnlineMeeting"), body: fmt.Sprintf(`{"onlineMeetingUri":%q}`, uri)}).
				wantError(t, http.StatusNotFound, ucwad.ENotFound, ucwad.SubDestinationNotFound)
		})
	}
}

// TestJoiningLifetimes: an application that goes leaves its meetings, a
// meeting that goes ends its conversation, a lobby wait ends, all seen by
// those still there.
func TestJoiningLifetimes(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) { c.Limits.LobbyTimeout = 10 * time.Minute })
	e.addUser("carol")
	alice, bob, carol := e.member("alice", "application/xml"), e.member("bob", "application/json"), e.member("carol", "application/json")
	m := alice.schedule(t, `{"accessLevel":"Invited","automaticLeaderAssignment":"Disabled","attendees":["sip:bob@contoso.com"]}`)
	alice.skip(t)
	uri := fmt.Sprintf(`<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa"><property name="onlineMeetingUri">%s</property></input>`, str(t, m, "onlineMeetingUri"))
	alice.do(req{method: "POST", url: link(t, alice.communication(t), "joinOnlineMeeting"), body: uri,
		header: map[string]string{"Content-Type": "application/xml"}}).wantStatus(t, http.StatusCreated)
	json := fmt.Sprintf(`{"onlineMeetingUri":%q}`, str(t, m, "onlineMeetingUri"))
	bob.join(t, json)
	carolInv := carol.join(t, json)
	alice.skip(t)
	bob.skip(t)
	carol.skip(t)

	// Bob's application is deleted: the others see him leave.
	bob.do(req{method: "DELETE", url: bob.app.Href}).wantStatus(t, http.StatusNoContent)
	wantList(t, "alice sees bob's application go", alice.events(t),
		"conversation: deleted participant Bob Example in attendees",
		"conversation: deleted participant Bob Example")

	// Carol waits until the timeout; the sweep ends her wait.
	e.clock.Advance(10 * time.Minute)
	if err := e.api.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantList(t, "carol waited too long", carol.events(t),
		"communication: completed onlineMeetingInvitation [Failed] Failure Timeout/Timeout",
		"conversation: deleted localParticipant Carol Example",
		"communication: updated conversation [Disconnected]",
		"communication: deleted conversation",
	)
	if str(t, carol.get(t, carolInv), "state") != "Failed" {
		t.Error("carol's invitation did not fail")
	}
	wantList(t, "alice", alice.events(t),
		"conversation: deleted participant Carol Example in lobby",
		"conversation: deleted participant Carol Example")

	// The meeting is deleted: alice's conversation ends.
	alice.do(req{method: "DELETE", url: m.Href}).wantStatus(t, http.StatusNoContent)
	wantList(t, "alice's meeting deleted", alice.events(t),
		"conversation: deleted participant Alice Example in leaders",
		"conversation: deleted localParticipant Alice Example",
		"communication: updated conversation [Disconnected] Gone/Ended",
		"communication: deleted conversation",
		"onlineMeetings: deleted myOnlineMeeting",
	)
}

// TestJoiningBoundsConfigured: the participant bound and the conversations
// of an application are bounded as configured (cmd/ucwad sets the
// participant bound to the policies' meetingSize unless it is set).
func TestJoiningBoundsConfigured(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) {
		c.Limits.MaxParticipants = 1
		c.Limits.MaxConversationsPerApplication = 1
	})
	alice, bob := e.member("alice", "application/json"), e.member("bob", "application/json")
	one := alice.schedule(t, `{"accessLevel":"Everyone"}`)
	two := alice.schedule(t, `{"accessLevel":"Everyone"}`)
	alice.skip(t)
	join := func(m *ucwa.Resource) string {
		return fmt.Sprintf(`{"onlineMeetingUri":%q}`, str(t, m, "onlineMeetingUri"))
	}
	alice.join(t, join(one))
	alice.skip(t)
	bob.join(t, join(one))
	wantList(t, "bob, second in a meeting of one", bob.events(t),
		"communication: started onlineMeetingInvitation [Connecting]",
		"communication: completed onlineMeetingInvitation [Failed] Failure Forbidden/TooManyParticipants",
	)
	alice.do(req{method: "POST", url: link(t, alice.communication(t), "joinOnlineMeeting"), body: join(two)}).
		wantError(t, http.StatusConflict, ucwad.EConflict, ucwad.SubTooManyConversations)
	alice.do(req{method: "POST", url: link(t, alice.communication(t), "startOnlineMeeting"), body: `{}`}).
		wantError(t, http.StatusConflict, ucwad.EConflict, ucwad.SubTooManyConversations)
	alice.none(t)
}

// TestJoiningAcrossProcesses: two servers on one database file, as two
// processes: a meeting joined through one is served, admitted and seen
// through the other.
func TestJoiningAcrossProcesses(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "shared.db")
	clk := clock.NewFake(t0)
	hasher := auth.NewHasher(auth.TestParams, 2)
	var bases []string
	for range 2 {
		hub := httpapi.NewHub()
		db, err := sqlite.Open(ctx, path, sqlite.Options{Clock: clk, Notifier: hub, PollInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if len(bases) == 0 {
			for _, name := range []string{"alice", "bob"} {
				h, _ := hasher.Hash(ctx, "secret-"+name)
				if err := db.CreateUser(ctx, &ucwad.User{SIP: name + "@contoso.com", Name: strings.ToUpper(name[:1]) + name[1:] + " Example", PasswordHash: h}); err != nil {
					t.Fatal(err)
				}
			}
		}
		api := httpapi.New(httpapi.Config{}, httpapi.Deps{Store: db, Hasher: hasher, Clock: clk, Hub: hub})
		srv := httptest.NewServer(api.Handler())
		t.Cleanup(func() { api.Shutdown(); srv.Close() })
		bases = append(bases, srv.URL)
	}
	e := &env{t: t, clock: clk, srv: httptest.NewServer(nil), base: bases[0]}
	t.Cleanup(e.srv.Close)
	alice := &member{session: e.signIn("alice", "one"), name: "Alice Example", accept: "application/json"}
	alice.next = link(t, alice.app, "events")
	e.base = bases[1]
	bob := &member{session: e.signIn("bob", "two"), name: "Bob Example", accept: "application/json"}
	bob.next = link(t, bob.app, "events")
	at := func(i int, href string) string { return bases[i] + href }

	e.base = bases[0]
	m := alice.schedule(t, `{"accessLevel":"Locked"}`)
	alice.skip(t)
	body := fmt.Sprintf(`{"onlineMeetingUri":%q}`, str(t, m, "onlineMeetingUri"))
	alice.do(req{method: "POST", url: at(0, link(t, alice.communication(t), "joinOnlineMeeting")), body: body}).wantStatus(t, http.StatusCreated)
	alice.skip(t)
	r := bob.do(req{method: "POST", url: at(1, link(t, bob.communication(t), "joinOnlineMeeting")), body: body}).wantStatus(t, http.StatusCreated)
	bobInv := r.Header.Get("Location")
	wantList(t, "alice, through the first server, sees bob wait", alice.events(t),
		"conversation: added participant Bob Example", "conversation: added participant Bob Example in lobby")
	alice.conv = link(t, alice.get(t, link(t, alice.communication(t), "conversations")).FindEmbedded("conversation")[0], "self")
	lobby := alice.get(t, alice.conv+"/lobby")
	alice.do(req{method: "POST", url: participantHref(t, lobby, "Bob Example") + "/admit"}).wantStatus(t, http.StatusNoContent)

	e.base = bases[1]
	got := bob.events(t) // his join and his admission
	if len(got) == 0 || got[len(got)-1] != "conversation: updated messaging [Disconnected]" {
		t.Errorf("bob, through the second server, after his admission: %q", got)
	}
	if st := str(t, bob.get(t, link(t, bob.get(t, bobInv), "conversation")), "state"); st != "Conferenced" {
		t.Errorf("bob's conversation through the second server: %s", st)
	}
}
