package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/httpapi"
	"github.com/ucwad/ucwad/ucwa/ucwatest"
)

// grant is an answer of the token endpoint to an anonmeeting grant.
type grant struct {
	status     int
	retryAfter string
	Token      string `json:"access_token"`
	ExpiresIn  int64  `json:"expires_in"`
	TokenType  string `json:"token_type"`
	Error      string `json:"error"`
}

// anonGrant asks for an anonymous token of the meeting uri with key, from
// the client address from (sent as X-Forwarded-For when not empty, for
// servers that trust the test's proxy), renewing renew when not empty.
func (e *env) anonGrant(uri, key, renew, from string) grant {
	e.t.Helper()
	form := url.Values{"grant_type": {"urn:microsoft.rtc:anonmeeting"}, "ms_rtc_conferenceuri": {uri}, "password": {key}}
	if renew != "" {
		form.Set("ms_rtc_renew", renew)
	}
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded;charset='utf-8'"}
	if from != "" {
		h["X-Forwarded-For"] = from
	}
	r := e.do(req{method: "POST", url: "/WebTicket/oauthtoken", body: form.Encode(), header: h})
	g := grant{status: r.StatusCode, retryAfter: r.Header.Get("Retry-After")}
	if err := json.Unmarshal(r.body, &g); err != nil {
		e.t.Fatalf("token answer %s: %v", r.body, err)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		e.t.Errorf("token answer without Cache-Control: no-store")
	}
	return g
}

// wantGrant fails unless the grant answered a token.
func (e *env) wantGrant(uri, key, renew, from string) string {
	e.t.Helper()
	g := e.anonGrant(uri, key, renew, from)
	if g.status != http.StatusOK || !strings.HasPrefix(g.Token, "cwt=") || g.TokenType != "Bearer" || g.ExpiresIn != 3600 {
		e.t.Fatalf("anonymous grant with key %q: %+v", key, g)
	}
	return g.Token
}

// wantGrantError fails unless the grant answered status with the OAuth
// error code.
func (e *env) wantGrantError(uri, key, renew, from string, status int, code string) grant {
	e.t.Helper()
	g := e.anonGrant(uri, key, renew, from)
	if g.status != status || g.Error != code || g.Token != "" {
		e.t.Fatalf("anonymous grant with key %q: %+v, want %d %s", key, g, status, code)
	}
	return g
}

// guest registers an application for the anonymous token as Microsoft's
// sample does: GET user with it, then POST the user's applications link.
// With anon set it registers at anonApplications instead, with only the
// culture and userAgent the reference requires.
func (e *env) guest(token, accept string, anon bool) *member {
	e.t.Helper()
	s := &session{e: e, token: token}
	user := s.do(req{method: "GET", url: "/Autodiscover/AutodiscoverService.svc/root/oauth/user"}).wantStatus(e.t, http.StatusOK).resource(e.t)
	href, body := link(e.t, user, "applications"), `{"userAgent":"guest-ua","endpointId":"guest-ep","culture":"en-US"}`
	if anon {
		href, body = "/ucwa/v1/anonApplications", `{"userAgent":"guest-ua","culture":"en-US"}`
	}
	r := s.do(req{method: "POST", url: href, body: body, header: map[string]string{"Content-Type": "application/json"}})
	r.wantStatus(e.t, http.StatusCreated)
	s.app = r.resource(e.t)
	return &member{session: s, accept: accept, next: link(e.t, s.app, "events")}
}

// TestAnonymousGuestEndToEnd is the guests' scenario over HTTP, in JSON and
// XML: a guest gets a token with the meeting key (in upper and lower case,
// and as the joinUrl's last segment), registers, joins an Invited meeting,
// waits in the lobby, is admitted, exchanges instant messages with the
// organizer, renews its token keeping its identity, and leaves; another guest, registered at anonApplications, is rejected;
// a guest's token is refused for another meeting, for makeMeAvailable and
// for every resource outside its meeting, and nothing changes then.
func TestAnonymousGuestEndToEnd(t *testing.T) {
	for _, accept := range []string{"application/json", "application/vnd.microsoft.com.ucwa+xml"} {
		t.Run(formatName(accept), func(t *testing.T) { guestScenario(t, accept) })
	}
}

func guestScenario(t *testing.T, accept string) {
	e := newEnv(t)
	alice := e.member("alice", accept)
	m := alice.schedule(t, `{"subject":"Open day","accessLevel":"Invited","automaticLeaderAssignment":"Disabled"}`)
	other := alice.schedule(t, `{"subject":"Board","accessLevel":"Everyone"}`)
	alice.skip(t)
	uri, id, joinURL := str(t, m, "onlineMeetingUri"), str(t, m, "onlineMeetingId"), str(t, m, "joinUrl")
	alice.join(t, fmt.Sprintf(`{"onlineMeetingUri":%q}`, uri))
	alice.skip(t)
	alice.conv = link(t, alice.get(t, link(t, alice.get(t, link(t, alice.communication(t), "conversations")).FindEmbedded("conversation")[0], "self")), "self")

	// The challenge lists the grant.
	ch := e.do(req{method: "GET", url: "/Autodiscover/AutodiscoverService.svc/root/oauth/user"})
	if got := ch.Header.Values("WWW-Authenticate"); len(got) == 0 || !strings.Contains(got[0], `grant_type="urn:microsoft.rtc:anonmeeting,password"`) {
		t.Errorf("challenge %q", got)
	}
	// A wrong key, an unknown meeting, a key of another meeting: refused
	// alike.
	e.wantGrantError(uri, "WRONGKEY00", "", "", http.StatusBadRequest, "invalid_grant")
	e.wantGrantError(strings.Replace(uri, id, "NOSUCHMEET", 1), "NOSUCHMEET", "", "", http.StatusBadRequest, "invalid_grant")
	e.wantGrantError(uri, str(t, other, "onlineMeetingId"), "", "", http.StatusBadRequest, "invalid_grant")
	e.wantGrantError(uri, "", "", "", http.StatusBadRequest, "invalid_request")
	// The key in any case, or as the joinUrl's last segment.
	tok1 := e.wantGrant(uri, strings.ToUpper(id), "", "")
	tok2 := e.wantGrant(uri, strings.ToLower(id), "", "")
	e.wantGrant(uri, joinURL[strings.LastIndex(joinURL, "/")+1:], "", "")

	g1 := e.guest(tok1, accept, false)
	g1.name = "Visitor One"
	me := embedded(t, g1.app, "me")
	if props := me.Props(); len(props) != 2 || str(t, me, "name") != "" || !strings.HasPrefix(str(t, me, "uri"), "sip:guest-") {
		t.Errorf("the guest's me %v", props)
	}
	if len(me.Links()) != 0 {
		t.Errorf("the guest's me links %v", me.Links())
	}
	for _, rel := range []string{"people", "onlineMeetings"} {
		if len(g1.app.FindEmbedded(rel)) != 0 {
			t.Errorf("the guest's application embeds %s", rel)
		}
	}
	if _, ok := g1.communication(t).FindLink("startOnlineMeeting"); ok {
		t.Error("the guest is offered startOnlineMeeting")
	}

	// Outside its meeting a guest's token opens nothing; nothing changes.
	appHref := g1.app.Href
	for _, r := range []req{
		{method: "POST", url: appHref + "/me/makeMeAvailable", body: `{"signInAs":"Online"}`},
		{method: "POST", url: appHref + "/me/reportMyActivity", body: `{}`},
		{method: "GET", url: appHref + "/people"},
		{method: "GET", url: appHref + "/onlineMeetings"},
		{method: "GET", url: appHref + "/onlineMeetings/myOnlineMeetings"},
		{method: "POST", url: appHref + "/onlineMeetings/myOnlineMeetings", body: `{"subject":"mine"}`},
		{method: "POST", url: appHref + "/communication/startOnlineMeeting", body: `{}`},
		{method: "POST", url: appHref + "/communication/joinOnlineMeeting", body: `{"anonymousDisplayName":"Visitor One"}`},
	} {
		g1.do(r).wantError(t, http.StatusForbidden, ucwad.EForbidden, ucwad.SubAnonymousNotAllowed)
	}
	join := func(who *member, meetingURI, name string) *resp {
		t.Helper()
		body := fmt.Sprintf(`{"onlineMeetingUri":%q,"anonymousDisplayName":%q,"operationId":"op"}`, meetingURI, name)
		return who.do(req{method: "POST", url: link(t, who.communication(t), "joinOnlineMeeting"), body: body})
	}
	join(g1, str(t, other, "onlineMeetingUri"), "Visitor One").wantError(t, http.StatusForbidden, ucwad.EForbidden, "")
	g1.do(req{method: "POST", url: link(t, g1.communication(t), "joinOnlineMeeting"), body: fmt.Sprintf(`{"onlineMeetingUri":%q}`, uri)}).
		wantError(t, http.StatusBadRequest, ucwad.EBadRequest, ucwad.SubParameterValidationFailure)
	join(g1, uri, strings.Repeat("n", 251)).wantError(t, http.StatusBadRequest, ucwad.EBadRequest, ucwad.SubParameterValidationFailure)
	g1.none(t)
	alice.none(t)

	// The guest joins the Invited meeting (its URI in lower case) and waits.
	inv := join(g1, strings.ToLower(uri), "Visitor One").wantStatus(t, http.StatusCreated).Header.Get("Location")
	wantList(t, "the guest waits", g1.events(t),
		"communication: started onlineMeetingInvitation [Connecting]",
		"communication: added conversation [Connecting]",
		"conversation: added localParticipant Visitor One",
		"conversation: added participant Visitor One in lobby",
		"communication: updated conversation [InLobby]",
		"communication: updated onlineMeetingInvitation [Connecting]",
	)
	wantList(t, "alice sees the guest wait", alice.events(t),
		"conversation: added participant Visitor One",
		"conversation: added participant Visitor One in lobby",
	)
	if got := str(t, g1.get(t, inv), "anonymousDisplayName"); got != "Visitor One" {
		t.Errorf("invitation anonymousDisplayName %q", got)
	}
	if got := str(t, g1.get(t, appHref+"/me"), "name"); got != "Visitor One" {
		t.Errorf("the guest's me is named %q", got)
	}
	lobby := alice.get(t, alice.conv+"/lobby")
	wantList(t, "alice's lobby", names(t, lobby), "Visitor One Attendee lobby (admit reject eject)")
	for _, p := range lobby.FindEmbedded("participant") {
		if a, _ := p.Get("anonymous"); !strings.EqualFold(a.Text(), "true") || str(t, p, "sourceNetwork") != "Unknown" {
			t.Errorf("the guest as alice sees it: %v", p.Props())
		}
	}

	// Alice admits it.
	alice.do(req{method: "POST", url: participantHref(t, lobby, "Visitor One") + "/admit"}).wantStatus(t, http.StatusNoContent)
	wantList(t, "the guest admitted", g1.events(t),
		"conversation: deleted participant Visitor One in lobby",
		"conversation: added participant Visitor One in attendees",
		"conversation: updated localParticipant Visitor One",
		"conversation: added onlineMeeting in conversation",
		"conversation: added participant Alice Example",
		"conversation: added participant Alice Example in leaders",
		"communication: updated conversation [Conferenced]",
		"communication: completed onlineMeetingInvitation [Connected] Success",
		"conversation: updated messaging [Disconnected]",
	)
	alice.skip(t)
	g1.conv = link(t, g1.get(t, inv), "conversation")
	wantList(t, "the guest's participants", names(t, g1.get(t, g1.conv+"/participants")), "Alice Example Leader", "Visitor One Attendee")

	// The guest and the organizer exchange instant messages, as any two
	// participants do.
	alice.connect(t, "op-alice")
	g1.connect(t, "op-guest")
	send := func(from *member, text string) {
		t.Helper()
		msg := from.get(t, link(t, from.get(t, from.conv), "messaging"))
		from.do(req{method: "POST", url: link(t, msg, "sendMessage"), body: text,
			header: map[string]string{"Content-Type": "text/plain; charset=utf-8"}}).wantStatus(t, http.StatusCreated)
		wantList(t, from.name+"'s own message", from.events(t), "conversation: completed message Success")
	}
	receive := func(to *member, from, text string) {
		t.Helper()
		got, entries := to.batch(t)
		wantList(t, to.name+" receives a message", got, "conversation: completed message Success")
		res := message(t, to.name, entries)
		if p, _ := res.FindLink("participant"); p.Title != from {
			t.Errorf("%s: the message is from %q, want %q", to.name, p.Title, from)
		}
		if got := dataText(t, res, "plainMessage", "text/plain"); got != text {
			t.Errorf("%s: plainMessage %q, want %q", to.name, got, text)
		}
	}
	send(g1, "Hello from a guest")
	receive(alice, "Visitor One", "Hello from a guest")
	send(alice, "Welcome, guest")
	receive(g1, "Alice Example", "Welcome, guest")

	// A second guest registers at anonApplications, waits, and is rejected.
	g2 := e.guest(tok2, accept, true)
	g2.name = "Visitor Two"
	join(g2, uri, "Visitor Two").wantStatus(t, http.StatusCreated)
	g2.skip(t)
	wantList(t, "alice sees the second guest", alice.events(t),
		"conversation: added participant Visitor Two",
		"conversation: added participant Visitor Two in lobby",
	)
	alice.do(req{method: "POST", url: participantHref(t, alice.get(t, alice.conv+"/lobby"), "Visitor Two") + "/reject"}).wantStatus(t, http.StatusNoContent)
	wantList(t, "the second guest rejected", g2.events(t),
		"communication: completed onlineMeetingInvitation [Failed] Failure Forbidden/Denied",
		"conversation: deleted localParticipant Visitor Two",
		"communication: updated conversation [Disconnected]",
		"communication: deleted conversation",
	)
	alice.skip(t)
	g1.none(t)

	// Renewing keeps the identity: the same application, the same me.
	uriBefore := str(t, g1.get(t, appHref+"/me"), "uri")
	e.wantGrantError(uri, id, "cwt=notatoken", "", http.StatusBadRequest, "invalid_grant")
	e.wantGrantError(str(t, other, "onlineMeetingUri"), str(t, other, "onlineMeetingId"), tok1, "", http.StatusBadRequest, "invalid_grant")
	renewed := e.wantGrant(uri, id, tok1, "")
	g1.token = renewed
	if got := g1.get(t, appHref+"/me"); str(t, got, "uri") != uriBefore || str(t, got, "name") != "Visitor One" {
		t.Errorf("after renewal me is %v, was %s", got.Props(), uriBefore)
	}
	old := &session{e: e, token: tok1}
	old.do(req{method: "GET", url: appHref}).wantStatus(t, http.StatusOK)
	e.clock.Advance(29 * time.Minute)
	old.do(req{method: "GET", url: appHref}).wantStatus(t, http.StatusOK)
	e.clock.Advance(time.Minute) // the longest a P-GET is held: 30 minutes
	old.do(req{method: "GET", url: appHref}).wantError(t, http.StatusUnauthorized, ucwad.EUnauthorized, "")

	// The guest leaves.
	g1.do(req{method: "DELETE", url: g1.conv}).wantStatus(t, http.StatusNoContent)
	wantList(t, "alice sees the guest leave", alice.events(t),
		"conversation: deleted participant Visitor One in attendees",
		"conversation: deleted participant Visitor One",
	)
}

// TestAnonymousGuestBounds: the grant is throttled per client address (as
// X-Forwarded-For names it behind a trusted proxy), right keys and wrong
// ones alike; guests' applications are bounded per address and per
// meeting; a refused request changes nothing; and a disabled anonymous
// join neither lists nor accepts the grant.
func TestAnonymousGuestBounds(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) {
		c.AnonymousGrantsPerMinute = 3
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
		c.Limits.MaxGuestApplicationsPerAddress, c.Limits.MaxGuestApplicationsPerMeeting = 2, 3
	})
	alice := e.member("alice", "application/json")
	m := alice.schedule(t, `{"subject":"Open day","accessLevel":"Everyone"}`)
	uri, id := str(t, m, "onlineMeetingUri"), str(t, m, "onlineMeetingId")
	const a, b, c, d = "192.0.2.1", "198.51.100.1", "203.0.113.1", "2001:db8:1:2::5"

	// Three grants a minute from one address, wrong keys counted too.
	ta1, ta2 := e.wantGrant(uri, id, "", a), e.wantGrant(uri, id, "", a)
	e.wantGrantError(uri, "WRONGKEY00", "", a, http.StatusBadRequest, "invalid_grant")
	if g := e.wantGrantError(uri, id, "", a, http.StatusTooManyRequests, "temporarily_unavailable"); g.retryAfter != "60" {
		t.Errorf("Retry-After %q", g.retryAfter)
	}
	e.wantGrantError(uri, id, ta1, a, http.StatusTooManyRequests, "temporarily_unavailable") // a renewal is a grant
	tb := e.wantGrant(uri, id, "", b)
	tc := e.wantGrant(uri, id, "", c)
	// An IPv6 /64 is one address.
	td := e.wantGrant(uri, id, "", d)
	for range 2 {
		e.wantGrant(uri, id, "", "2001:db8:1:2::9")
	}
	e.wantGrantError(uri, id, "", "2001:db8:1:2:ffff::1", http.StatusTooManyRequests, "temporarily_unavailable")
	e.clock.Advance(time.Minute)
	ta3 := e.wantGrant(uri, id, "", a)

	// Applications: two from one address, three in one meeting.
	register := func(token string) *resp {
		s := &session{e: e, token: token}
		return s.do(req{method: "POST", url: "/ucwa/oauth/v1/applications", body: `{"userAgent":"ua","endpointId":"ep","culture":"en-US"}`,
			header: map[string]string{"Content-Type": "application/json"}})
	}
	ga1 := e.guest(ta1, "application/json", false)
	e.guest(ta2, "application/json", false)
	register(ta3).wantError(t, http.StatusGone, ucwad.EGone, ucwad.SubTooManyApplications)
	e.guest(tb, "application/json", false)
	register(tc).wantError(t, http.StatusGone, ucwad.EGone, ucwad.SubTooManyApplications)
	register(td).wantError(t, http.StatusGone, ucwad.EGone, ucwad.SubTooManyApplications)
	// Signed-in users are not counted with guests.
	e.member("bob", "application/json")
	// A place freed is a place again.
	ga1.do(req{method: "DELETE", url: ga1.app.Href}).wantStatus(t, http.StatusNoContent)
	register(tc).wantStatus(t, http.StatusCreated)
	register(ta3).wantError(t, http.StatusGone, ucwad.EGone, ucwad.SubTooManyApplications)

	// Disabled: the challenge lists the password grant only, and the
	// anonymous grant is an unsupported grant type, before any throttle.
	off := newEnv(t, func(c *httpapi.Config) {
		c.Meetings.AnonymousJoin = ucwad.PolicyDisabled
		c.AnonymousGrantsPerMinute = 1
	})
	ch := off.do(req{method: "GET", url: "/Autodiscover/AutodiscoverService.svc/root/oauth/user"})
	if got := ch.Header.Values("WWW-Authenticate"); len(got) == 0 || !strings.Contains(got[0], `grant_type="password"`) {
		t.Errorf("challenge with anonymous join disabled: %q", got)
	}
	for range 2 {
		off.wantGrantError(uri, id, "", "", http.StatusBadRequest, "unsupported_grant_type")
	}
}

// TestGuestRepresentations pins the resources a guest sees of itself, in
// JSON and XML: the user resource, its application and its me.
func TestGuestRepresentations(t *testing.T) {
	e := newEnv(t)
	alice := e.member("alice", "application/json")
	m := alice.schedule(t, `{"subject":"Open day","accessLevel":"Everyone"}`)
	g := e.guest(e.wantGrant(str(t, m, "onlineMeetingUri"), str(t, m, "onlineMeetingId"), "", ""), "application/json", false)
	me := g.get(t, g.app.Href+"/me")
	sip := strings.TrimPrefix(str(t, me, "uri"), "sip:")
	id := g.app.Href[strings.LastIndex(g.app.Href, "/")+1:]
	normalize := strings.NewReplacer(e.base, "http://SERVER", id, "GUEST-APP", sip[:strings.IndexByte(sip, '@')], "GUEST")
	for _, tc := range []struct{ name, href, method, body string }{
		{"guestUser", "/Autodiscover/AutodiscoverService.svc/root/oauth/user", "GET", ""},
		{"guestApplication", g.app.Href, "GET", ""},
		{"guestMe", g.app.Href + "/me", "GET", ""},
		{"anonApplicationsOptions", "/ucwa/v1/anonApplications", "OPTIONS", ""},
	} {
		for _, f := range []struct{ ext, accept string }{{"json", "application/json"}, {"xml", "application/xml"}} {
			r := g.do(req{method: tc.method, url: tc.href, header: map[string]string{"Accept": f.accept}}).wantStatus(t, http.StatusOK)
			ucwatest.Golden(t, tc.name+"."+f.ext, []byte(normalize.Replace(string(r.body))))
		}
	}
}

// TestGuestFromBrowser: a browser page on an allowed origin runs the guest
// flow: the preflights of the token endpoint and of anonApplications are
// answered before anything authenticates, and every answer, the grant's
// and the registration's, carries the CORS headers.
func TestGuestFromBrowser(t *testing.T) {
	e := newEnv(t, allowApp)
	alice := e.signIn("alice", "browser")
	m := alice.schedule(t, `{"subject":"Open day","accessLevel":"Everyone"}`)
	for _, p := range []string{"/WebTicket/oauthtoken", "/ucwa/v1/anonApplications", "/ucwa/oauth/v1/anonApplications"} {
		r := e.do(req{method: "OPTIONS", url: p, header: map[string]string{"Origin": appOrigin,
			"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}})
		r.wantStatus(t, http.StatusNoContent)
		if r.Header.Get("Access-Control-Allow-Origin") != appOrigin || !strings.Contains(r.Header.Get("Access-Control-Allow-Methods"), "POST") {
			t.Errorf("preflight of %s: %v", p, corsHeaders(r))
		}
	}
	form := url.Values{"grant_type": {"urn:microsoft.rtc:anonmeeting"}, "ms_rtc_conferenceuri": {str(t, m, "onlineMeetingUri")}, "password": {str(t, m, "onlineMeetingId")}}
	r := e.do(req{method: "POST", url: "/WebTicket/oauthtoken", body: form.Encode(),
		header: map[string]string{"Origin": appOrigin, "Content-Type": "application/x-www-form-urlencoded"}}).wantStatus(t, http.StatusOK)
	wantCORS(t, r, appOrigin)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(r.body, &tok); err != nil {
		t.Fatal(err)
	}
	g := &session{e: e, token: tok.AccessToken}
	reg := g.do(req{method: "POST", url: "/ucwa/v1/anonApplications", body: `{"userAgent":"page","culture":"en-US"}`,
		header: map[string]string{"Origin": appOrigin, "Content-Type": "application/json"}}).wantStatus(t, http.StatusCreated)
	wantCORS(t, reg, appOrigin)
	opts := g.do(req{method: "OPTIONS", url: "/ucwa/v1/anonApplications", header: map[string]string{"Origin": appOrigin}}).wantStatus(t, http.StatusOK)
	wantCORS(t, opts, appOrigin)
}

// TestGuestBatch: inside a batch a guest is the same narrowed caller: its
// me answers, makeMeAvailable and the meetings dashboard are refused part
// by part, and nothing changes.
func TestGuestBatch(t *testing.T) {
	e := newEnv(t)
	alice := e.signIn("alice", "guest-batch")
	m := alice.schedule(t, `{"subject":"Open day","accessLevel":"Everyone"}`)
	g := e.guest(e.wantGrant(str(t, m, "onlineMeetingUri"), str(t, m, "onlineMeetingId"), "", ""), "application/json", false)
	ct, body := batchBody(
		"GET "+g.app.Href+"/me HTTP/1.1\nAccept: application/json\n",
		"POST "+g.app.Href+"/me/makeMeAvailable HTTP/1.1\nAccept: application/json\nContent-Type: application/json\n\n{}",
		"GET "+g.app.Href+"/onlineMeetings HTTP/1.1\nAccept: application/xml\n",
	)
	parts := g.session.batch(t, ct, body).parts(t)
	if len(parts) != 3 {
		t.Fatalf("%d parts, want 3", len(parts))
	}
	if me := parts[0].resp().wantStatus(t, http.StatusOK).resource(t); len(me.Props()) != 2 {
		t.Errorf("the guest's me in a batch: %v", me.Props())
	}
	parts[1].resp().wantError(t, http.StatusForbidden, ucwad.EForbidden, ucwad.SubAnonymousNotAllowed)
	parts[2].resp().wantError(t, http.StatusForbidden, ucwad.EForbidden, ucwad.SubAnonymousNotAllowed)
	if me := g.get(t, g.app.Href+"/me"); len(me.Links()) != 0 {
		t.Errorf("me after the batch: %v", me.Links())
	}
	g.none(t)
}
