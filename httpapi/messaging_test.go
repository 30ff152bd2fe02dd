package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/httpapi"
	"github.com/ucwad/ucwad/ucwa"
	"github.com/ucwad/ucwad/ucwa/ucwatest"
)

// batch reads the next batch of m's channel (there must be one waiting)
// and returns each event described as events does, with the entries.
func (m *member) batch(t *testing.T) ([]string, []ucwa.EventEntry) {
	t.Helper()
	r := m.do(req{method: "GET", url: m.next}).wantStatus(t, http.StatusOK)
	if got := r.format(t); got != formatOf(m.accept) {
		t.Fatalf("events answered in format %v", got)
	}
	ev := r.events(t)
	m.next = ev.Next
	var out []string
	var entries []ucwa.EventEntry
	for _, snd := range ev.Senders {
		for _, e := range snd.Events {
			out = append(out, m.describe(t, snd, e))
			entries = append(entries, e)
		}
	}
	return out, entries
}

// message finds the one message event among entries, failing unless there
// is exactly one.
func message(t *testing.T, who string, entries []ucwa.EventEntry) *ucwa.Resource {
	t.Helper()
	var found []*ucwa.Resource
	for _, e := range entries {
		if e.Link.Rel == "message" {
			if e.Type != "completed" || e.Status != "Success" || e.Embedded == nil {
				t.Fatalf("%s: message event %s %s, embedded %v", who, e.Type, e.Status, e.Embedded != nil)
			}
			found = append(found, e.Embedded)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s got %d message events, want exactly 1", who, len(found))
	}
	return found[0]
}

// dataText decodes a message's data: URI link rel, checking its media
// type and that it is percent-encoded (no '+' for spaces, no raw spaces).
func dataText(t *testing.T, res *ucwa.Resource, rel, media string) string {
	t.Helper()
	l, ok := res.FindLink(rel)
	if !ok {
		t.Fatalf("message %s has no %s link", res.Href, rel)
	}
	prefix := "data:" + media + ";charset=utf-8,"
	if !strings.HasPrefix(l.Href, prefix) {
		t.Fatalf("%s %q does not start %q", rel, l.Href, prefix)
	}
	enc := strings.TrimPrefix(l.Href, prefix)
	if strings.ContainsAny(enc, " +<>\"") {
		t.Errorf("%s is not percent-encoded: %q", rel, enc)
	}
	s, err := url.PathUnescape(enc)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return s
}

// connect adds messaging for m (its conversation known) with operationId
// op in the body, and checks its events.
func (m *member) connect(t *testing.T, op string) string {
	t.Helper()
	msg := m.get(t, link(t, m.get(t, m.conv), "messaging"))
	if st := str(t, msg, "state"); st != "Disconnected" {
		t.Fatalf("%s's messaging before adding it: %s", m.name, st)
	}
	r := m.do(req{method: "POST", url: link(t, msg, "addMessaging"), body: fmt.Sprintf(`{"operationId":%q}`, op)}).wantStatus(t, http.StatusCreated)
	loc := r.Header.Get("Location")
	if !strings.HasPrefix(loc, m.app.Href+"/communication/messagingInvitations/") {
		t.Fatalf("addMessaging Location %q", loc)
	}
	wantList(t, m.name+" adds messaging", m.events(t),
		"communication: started messagingInvitation [Connecting]",
		"conversation: updated messaging [Connected]",
		"communication: completed messagingInvitation [Connected] Success")
	inv := m.get(t, loc)
	if str(t, inv, "operationId") != op || str(t, inv, "state") != "Connected" {
		t.Errorf("%s's messagingInvitation: %s %s", m.name, str(t, inv, "operationId"), str(t, inv, "state"))
	}
	return loc
}

// TestMessagingEndToEnd: three participants of a meeting connect
// messaging; typing shows and clears (by itself and on sending); plain and
// HTML messages (one with a script and an onclick) reach the other two
// exactly once, sanitized, and the sender its own completed message; then
// every error case, each changing nothing. In JSON and in XML.
func TestMessagingEndToEnd(t *testing.T) {
	for _, accept := range []string{"application/json", "application/vnd.microsoft.com.ucwa+xml"} {
		t.Run(formatName(accept), func(t *testing.T) { messagingScenario(t, accept) })
	}
}

// meeting3 schedules a meeting of alice that bob and carol are invited to,
// and has all three join it, their channels drained; dave, not invited,
// waits in the lobby.
func meeting3(t *testing.T, e *env, accept string) (alice, bob, carol, dave *member) {
	t.Helper()
	e.addUser("carol")
	e.addUser("dave")
	alice, bob, carol, dave = e.member("alice", accept), e.member("bob", accept), e.member("carol", accept), e.member("dave", accept)
	m := alice.schedule(t, `{"subject":"Stand-up","accessLevel":"Invited","automaticLeaderAssignment":"Disabled",
		"attendees":["sip:bob@contoso.com","sip:carol@contoso.com"]}`)
	alice.skip(t)
	uri := fmt.Sprintf(`{"onlineMeetingUri":%q}`, str(t, m, "onlineMeetingUri"))
	for _, p := range []*member{alice, bob, carol, dave} {
		inv := p.join(t, uri)
		p.conv = link(t, p.get(t, inv), "conversation")
	}
	for _, p := range []*member{alice, bob, carol, dave} {
		p.skip(t)
	}
	return alice, bob, carol, dave
}

func messagingScenario(t *testing.T, accept string) {
	lim := ucwad.Limits{MessageBurst: 3, MessagesPerMinute: 6, MaxMessageChars: 8000}
	e := newEnv(t, func(c *httpapi.Config) { c.Limits = lim })
	alice, bob, carol, dave := meeting3(t, e, accept)

	// Each connects messaging; a query parameter names the operation as
	// well as the body.
	alice.connect(t, "op-alice")
	bob.connect(t, "op-bob")
	carol.connect(t, "op-carol")
	msgHref := link(t, alice.get(t, alice.conv), "messaging")
	messaging := func(m *member) *ucwa.Resource { return m.get(t, link(t, m.get(t, m.conv), "messaging")) }
	for _, m := range []*member{alice, bob, carol} {
		res := messaging(m)
		if str(t, res, "state") != "Connected" {
			t.Fatalf("%s's messaging: %s", m.name, str(t, res, "state"))
		}
		for _, rel := range []string{"sendMessage", "setIsTyping", "stopMessaging", "typingParticipants"} {
			link(t, res, rel)
		}
		if _, ok := res.FindLink("addMessaging"); ok {
			t.Errorf("%s's connected messaging offers addMessaging", m.name)
		}
	}
	_ = msgHref

	// Bob types: the others see him in typingParticipants, once however
	// often he says so, and he drops out by himself after the timeout.
	bobMsg := messaging(bob)
	bob.do(req{method: "POST", url: link(t, bobMsg, "setIsTyping")}).wantStatus(t, http.StatusNoContent)
	for _, m := range []*member{alice, carol} {
		wantList(t, m.name+" sees bob type", m.events(t), "conversation: added participant Bob Example in typingParticipants")
	}
	bob.none(t)
	typing := alice.get(t, link(t, messaging(alice), "typingParticipants"))
	wantList(t, "alice's typingParticipants", names(t, typing), "Bob Example Attendee (promote eject)")
	bob.do(req{method: "POST", url: link(t, bobMsg, "setIsTyping")}).wantStatus(t, http.StatusNoContent)
	alice.none(t)
	carol.none(t)
	e.clock.Advance(lim.WithDefaults().TypingTimeout)
	for _, m := range []*member{alice, carol} {
		wantList(t, m.name+" sees bob stop typing", m.events(t), "conversation: deleted participant Bob Example in typingParticipants")
	}
	if got := names(t, alice.get(t, typing.Href)); len(got) != 0 {
		t.Errorf("typingParticipants after the timeout: %v", got)
	}

	// Carol types, then sends plain text: her typing ends with it; alice
	// and bob get the message once, as sent; carol gets her own completed.
	carolMsg := messaging(carol)
	carol.do(req{method: "POST", url: link(t, carolMsg, "setIsTyping")}).wantStatus(t, http.StatusNoContent)
	alice.skip(t)
	bob.skip(t)
	plain := "Hello world & <friends>, 100% sure + ünïcødé\r\nline two"
	r := carol.do(req{method: "POST", url: link(t, carolMsg, "sendMessage") + "?OperationContext=ctx-1", body: plain,
		header: map[string]string{"Content-Type": "text/plain; charset=utf-8"}}).wantStatus(t, http.StatusCreated)
	plainHref := r.Header.Get("Location")
	if !strings.HasPrefix(plainHref, carol.conv+"/messaging/messages/") || len(r.body) != 0 {
		t.Fatalf("sendMessage: Location %q, body %q", plainHref, r.body)
	}
	carolParticipant := participantHref(t, alice.get(t, alice.conv+"/participants"), "Carol Example")
	for _, m := range []*member{alice, bob} {
		got, entries := m.batch(t)
		wantList(t, m.name+" receives carol's message", got,
			"conversation: deleted participant Carol Example in typingParticipants",
			"conversation: completed message Success")
		res := message(t, m.name, entries)
		if str(t, res, "direction") != "Incoming" {
			t.Errorf("%s: direction %s", m.name, str(t, res, "direction"))
		}
		if _, ok := res.Get("timeStamp"); !ok {
			t.Errorf("%s: no timeStamp", m.name)
		}
		p, _ := res.FindLink("participant")
		wantHref := strings.Replace(carolParticipant, alice.app.Href, m.app.Href, 1)
		if p.Title != "Carol Example" || p.Href != wantHref {
			t.Errorf("%s: participant link %q %q, want Carol Example %q", m.name, p.Title, p.Href, wantHref)
		}
		if got := dataText(t, res, "plainMessage", "text/plain"); got != plain {
			t.Errorf("%s: plainMessage %q, want %q", m.name, got, plain)
		}
		if _, ok := res.FindLink("htmlMessage"); ok {
			t.Errorf("%s: a plain message has an htmlMessage", m.name)
		}
	}
	got, entries := carol.batch(t)
	wantList(t, "carol's own message", got, "conversation: completed message Success")
	own := message(t, "carol", entries)
	if str(t, own, "direction") != "Outgoing" || str(t, own, "operationId") != "ctx-1" || own.Href != plainHref {
		t.Errorf("carol's completed message: %s %s %s", str(t, own, "direction"), str(t, own, "operationId"), own.Href)
	}
	if _, ok := own.FindLink("plainMessage"); ok {
		t.Errorf("the sender's completed message carries the text back")
	}

	// Alice sends HTML with a script, an onclick, an image and a
	// javascript: link; bob and carol get it once, reduced to the safe
	// subset, with its plain text beside it.
	html := `<p onclick="steal()" style="color:red;background:url(http://evil/x)">Hi <b>all</b><script>alert(1)</script>` +
		`<img src="http://evil/x.png" onerror="alert(3)"><a href="javascript:alert(2)">x</a> <a href="https://example.com/?a=1&amp;b=2" onmouseover="x()">site</a></p>`
	wantHTML := `<p style="color:red">Hi <b>all</b><a rel="noopener noreferrer">x</a> <a href="https://example.com/?a=1&amp;b=2" rel="noopener noreferrer">site</a></p>`
	r = alice.do(req{method: "POST", url: link(t, messaging(alice), "sendMessage"), body: html,
		header: map[string]string{"Content-Type": "text/html"}}).wantStatus(t, http.StatusCreated)
	htmlHref := r.Header.Get("Location")
	for _, m := range []*member{bob, carol} {
		got, entries := m.batch(t)
		wantList(t, m.name+" receives alice's HTML", got, "conversation: completed message Success")
		res := message(t, m.name, entries)
		if got := dataText(t, res, "htmlMessage", "text/html"); got != wantHTML {
			t.Errorf("%s: htmlMessage\n  %q\nwant\n  %q", m.name, got, wantHTML)
		}
		if got := dataText(t, res, "plainMessage", "text/plain"); got != "Hi allx site" {
			t.Errorf("%s: plainMessage of the HTML %q", m.name, got)
		}
		for _, bad := range []string{"script", "onclick", "onerror", "javascript", "img", "url("} {
			if strings.Contains(strings.ToLower(dataText(t, res, "htmlMessage", "text/html")), bad) {
				t.Errorf("%s: the HTML kept %q", m.name, bad)
			}
		}
	}
	wantList(t, "alice's own HTML message", alice.events(t), "conversation: completed message Success")

	// The messages, while their events are kept.
	if got := bob.get(t, strings.Replace(htmlHref, alice.app.Href, bob.app.Href, 1)); str(t, got, "direction") != "Incoming" {
		t.Errorf("bob GETs alice's message: %s", str(t, got, "direction"))
	}
	if got := alice.get(t, htmlHref); str(t, got, "direction") != "Outgoing" {
		t.Errorf("alice GETs her message: %s", str(t, got, "direction"))
	}
	// Carol's own plain message went once everyone read past it; alice's
	// waits for carol's next read.
	list := carol.get(t, link(t, carolMsg, "sendMessage"))
	if l, ok := list.FindLink("message"); !ok || l.Href != strings.Replace(htmlHref, alice.app.Href, carol.app.Href, 1) {
		t.Errorf("carol's messages: %+v", list.Links())
	}

	// Every error, each changing nothing: nobody hears of it.
	quiet := func(what string) {
		t.Helper()
		for _, m := range []*member{alice, bob, carol} {
			if m.none(t); t.Failed() {
				t.Logf("(after %s)", what)
			}
		}
	}
	send := func(m *member, href, contentType, body string) *resp {
		return m.do(req{method: "POST", url: href, body: body, header: map[string]string{"Content-Type": contentType}})
	}
	aliceSend := link(t, messaging(alice), "sendMessage")
	send(alice, aliceSend, "text/plain", strings.Repeat("é", 8001)).wantError(t, http.StatusBadRequest, ucwad.EBadRequest, ucwad.SubParameterValidationFailure)
	send(alice, aliceSend, "text/plain", strings.Repeat("é", 8000)).wantStatus(t, http.StatusCreated) // the limit itself is fine
	for _, m := range []*member{alice, bob, carol} {
		m.skip(t)
	}
	send(alice, aliceSend, "text/plain", "").wantError(t, http.StatusBadRequest, ucwad.EBadRequest, ucwad.SubParameterValidationFailure)
	send(alice, aliceSend, "text/plain", "\xff\xfe").wantError(t, http.StatusBadRequest, ucwad.EBadRequest, ucwad.SubParameterValidationFailure)
	send(alice, aliceSend, "application/octet-stream", "hi").wantError(t, http.StatusUnsupportedMediaType, ucwad.EUnsupportedMediaType, "")
	send(alice, aliceSend, "text/plain; charset=iso-8859-1", "hi").wantError(t, http.StatusUnsupportedMediaType, ucwad.EUnsupportedMediaType, "")
	send(alice, aliceSend+"?operationId="+strings.Repeat("x", 51), "text/plain", "hi").wantError(t, http.StatusBadRequest, ucwad.EBadRequest, ucwad.SubParameterValidationFailure)
	quiet("refused bodies")

	// The rate: alice has sent two messages at this instant; the burst is
	// three, then one every 10 s.
	send(alice, aliceSend, "text/plain", "three").wantStatus(t, http.StatusCreated)
	for _, m := range []*member{alice, bob, carol} {
		m.skip(t)
	}
	r = send(alice, aliceSend, "text/plain", "four")
	r.wantError(t, http.StatusTooManyRequests, ucwad.ETooManyRequests, "")
	if ra := r.Header.Get("Retry-After"); ra != "10" {
		t.Errorf("Retry-After %q, want 10", ra)
	}
	quiet("a message over the rate")
	e.clock.Advance(10 * time.Second)
	send(alice, aliceSend, "text/plain", "four").wantStatus(t, http.StatusCreated)
	for _, m := range []*member{alice, bob, carol} {
		m.skip(t)
	}

	// From the lobby: 403, for every messaging operation.
	daveMsg := dave.get(t, dave.conv+"/messaging")
	if _, ok := daveMsg.FindLink("addMessaging"); ok {
		t.Errorf("dave, in the lobby, is offered addMessaging")
	}
	dave.do(req{method: "POST", url: dave.conv + "/messaging/addMessaging"}).wantError(t, http.StatusForbidden, ucwad.EForbidden, ucwad.SubMessagingNotConnected)
	send(dave, dave.conv+"/messaging/messages", "text/plain", "let me in").wantError(t, http.StatusForbidden, ucwad.EForbidden, ucwad.SubMessagingNotConnected)
	dave.do(req{method: "POST", url: dave.conv + "/messaging/typing"}).wantError(t, http.StatusForbidden, ucwad.EForbidden, ucwad.SubMessagingNotConnected)
	quiet("dave's attempts from the lobby")

	// Adding messaging twice is a conflict.
	alice.do(req{method: "POST", url: alice.conv + "/messaging/addMessaging"}).wantError(t, http.StatusConflict, ucwad.EConflict, ucwad.SubAlreadyExists)
	quiet("adding messaging twice")

	// Bob stops messaging: then he may neither send nor type, and hears
	// nothing more.
	bob.do(req{method: "POST", url: link(t, bobMsg, "stopMessaging")}).wantStatus(t, http.StatusNoContent)
	wantList(t, "bob stops messaging", bob.events(t), "conversation: updated messaging [Disconnected]")
	send(bob, link(t, bobMsg, "sendMessage"), "text/plain", "hello?").wantError(t, http.StatusForbidden, ucwad.EForbidden, ucwad.SubMessagingNotConnected)
	bob.do(req{method: "POST", url: link(t, bobMsg, "setIsTyping")}).wantError(t, http.StatusForbidden, ucwad.EForbidden, ucwad.SubMessagingNotConnected)
	bob.do(req{method: "POST", url: link(t, bobMsg, "stopMessaging")}).wantError(t, http.StatusForbidden, ucwad.EForbidden, ucwad.SubMessagingNotConnected)
	quiet("bob's attempts without messaging")
	send(carol, link(t, carolMsg, "sendMessage"), "text/plain", "just us").wantStatus(t, http.StatusCreated)
	wantList(t, "alice, after bob stopped", alice.events(t), "conversation: completed message Success")
	wantList(t, "carol, after bob stopped", carol.events(t), "conversation: completed message Success")
	bob.none(t)

	// After leaving: 404 for everything of the conversation's messaging.
	carol.do(req{method: "DELETE", url: carol.conv}).wantStatus(t, http.StatusNoContent)
	carol.skip(t)
	alice.skip(t)
	bob.skip(t)
	send(carol, link(t, carolMsg, "sendMessage"), "text/plain", "still here?").wantError(t, http.StatusNotFound, ucwad.ENotFound, ucwad.SubResourceNotFound)
	carol.do(req{method: "POST", url: link(t, carolMsg, "setIsTyping")}).wantError(t, http.StatusNotFound, ucwad.ENotFound, ucwad.SubResourceNotFound)
	carol.do(req{method: "POST", url: carol.conv + "/messaging/addMessaging"}).wantError(t, http.StatusNotFound, ucwad.ENotFound, ucwad.SubResourceNotFound)
	carol.do(req{method: "GET", url: carol.conv + "/messaging"}).wantError(t, http.StatusNotFound, ucwad.ENotFound, ucwad.SubResourceNotFound)
	carol.do(req{method: "GET", url: plainHref}).wantError(t, http.StatusNotFound, ucwad.ENotFound, ucwad.SubResourceNotFound)
	quiet("carol's attempts after leaving")
}

// TestMessagingRepresentations pins the resources and events of messaging,
// in JSON and XML, with what is random in them replaced by names.
func TestMessagingRepresentations(t *testing.T) {
	e := newEnv(t)
	alice, bob, carol, _ := meeting3(t, e, "application/json")
	aliceInv := alice.connect(t, "op-1")
	bob.connect(t, "op-2")
	disconnected := carol.conv + "/messaging"
	msgHref := alice.conv + "/messaging"
	bob.do(req{method: "POST", url: bob.conv + "/messaging/typing"}).wantStatus(t, http.StatusNoContent)
	r := bob.do(req{method: "POST", url: bob.conv + "/messaging/messages?SessionContext=ctx-9", body: `<b onclick="x()">Hi</b> <i>there</i>`,
		header: map[string]string{"Content-Type": "text/html"}}).wantStatus(t, http.StatusCreated)
	bobMsg := r.Header.Get("Location")
	aliceMsg := strings.Replace(bobMsg, bob.app.Href, alice.app.Href, 1)
	bob.do(req{method: "POST", url: bob.conv + "/messaging/typing"}).wantStatus(t, http.StatusNoContent)

	roster := alice.get(t, alice.conv+"/participants")
	id := func(href string) string { return href[strings.LastIndex(href, "/")+1:] }
	normalize := strings.NewReplacer(
		id(alice.app.Href), "ALICE-APP", id(bob.app.Href), "BOB-APP", id(carol.app.Href), "CAROL-APP",
		id(alice.conv), "CONVERSATION", id(aliceInv), "ALICE-MESSAGING-INVITATION", id(bobMsg), "MESSAGE",
		id(participantHref(t, roster, "Alice Example")), "ALICE-PARTICIPANT",
		id(participantHref(t, roster, "Bob Example")), "BOB-PARTICIPANT",
		id(participantHref(t, roster, "Carol Example")), "CAROL-PARTICIPANT",
	)
	date := regexp.MustCompile(`\d{4}-\d\d-\d\dT[0-9:.]+Z`)
	for _, tc := range []struct {
		name string
		who  *member
		href string
	}{
		{"messaging", alice, msgHref},
		{"messagingDisconnected", carol, disconnected},
		{"messagingInvitation", alice, aliceInv},
		{"message", alice, aliceMsg},
		{"messageOutgoing", bob, bobMsg},
		{"messages", alice, msgHref + "/messages"},
		{"typingParticipants", alice, msgHref + "/typingParticipants"},
	} {
		for _, f := range []struct{ ext, accept string }{{"json", "application/json"}, {"xml", "application/xml"}} {
			r := tc.who.do(req{method: "GET", url: tc.href, header: map[string]string{"Accept": f.accept}}).wantStatus(t, 200)
			ucwatest.Golden(t, tc.name+"."+f.ext, date.ReplaceAll([]byte(normalize.Replace(string(r.body))), []byte("DATE")))
		}
	}
	// What alice's channel carries: bob typing, his message, typing again.
	for _, f := range []struct{ ext, accept string }{{"json", "application/json"}, {"xml", "application/vnd.microsoft.com.ucwa+xml"}} {
		r := alice.do(req{method: "GET", url: alice.next, header: map[string]string{"Accept": f.accept}}).wantStatus(t, 200)
		ack := regexp.MustCompile(`ack=\d+`)
		out := ack.ReplaceAll(date.ReplaceAll([]byte(normalize.Replace(string(r.body))), []byte("DATE")), []byte("ack=N"))
		ucwatest.Golden(t, "messageEvents."+f.ext, out)
	}
}
