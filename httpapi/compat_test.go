package httpapi_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/httpapi"
	"github.com/ucwad/ucwad/ucwa"
)

// TestEveryAnswerNamesTheRevision: Versioning.md says every UCWA answer
// carries X-MS-UcwaVersion; errors, 204s, the token endpoint, the event
// channel and compressed answers included.
func TestEveryAnswerNamesTheRevision(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "ver")
	me := embedded(t, s.app, "me")
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for _, tc := range []struct {
		name   string
		send   func(req) *resp
		r      req
		status int
	}{
		{"autodiscover", e.do, req{method: "GET", url: "/"}, 200},
		{"challenge", e.do, req{method: "GET", url: "/Autodiscover/AutodiscoverService.svc/root/oauth/user"}, 401},
		{"token", e.do, req{method: "POST", url: "/WebTicket/oauthtoken", header: form, body: "grant_type=password&username=alice@contoso.com&password=secret-alice"}, 200},
		{"token refused", e.do, req{method: "POST", url: "/WebTicket/oauthtoken", header: form, body: "grant_type=password&username=alice@contoso.com&password=nope"}, 400},
		{"application", s.do, req{method: "GET", url: s.app.Href}, 200},
		{"gzip", s.do, req{method: "GET", url: s.app.Href, header: map[string]string{"Accept-Encoding": "gzip"}}, 200},
		{"no content", s.do, req{method: "POST", url: link(t, me, "makeMeAvailable")}, 204},
		{"events", s.do, req{method: "GET", url: link(t, s.app, "events")}, 200},
		{"not found", s.do, req{method: "GET", url: s.app.Href + "/nothing", header: map[string]string{"Accept": "application/xml"}}, 404},
		{"method not allowed", s.do, req{method: "PATCH", url: s.app.Href}, 405},
	} {
		r := tc.send(tc.r).wantStatus(t, tc.status)
		if got := r.Header.Values("X-MS-UcwaVersion"); len(got) != 1 || got[0] != "2.0" {
			t.Errorf("%s: X-MS-UcwaVersion %q, want one 2.0", tc.name, got)
		}
	}
}

// TestApplicationETag: POST and GET application carry an ETag, as the
// reference shows; it stays while the application is unchanged and moves
// when what GET shows changes (after makeMeAvailable).
func TestApplicationETag(t *testing.T) {
	e := newEnv(t)
	tok := e.token("alice@contoso.com", "secret-alice")
	s := &session{e: e, token: tok}
	body := `{"userAgent":"etag","endpointId":"e","culture":"en-US"}`
	json := map[string]string{"Content-Type": "application/json"}
	created := s.do(req{method: "POST", url: "/ucwa/oauth/v1/applications", header: json, body: body}).wantStatus(t, 201)
	again := s.do(req{method: "POST", url: "/ucwa/oauth/v1/applications", header: json, body: body}).wantStatus(t, 200)
	app := created.resource(t)
	got := s.do(req{method: "GET", url: app.Href}).wantStatus(t, 200)
	tag := created.Header.Get("ETag")
	if !quotedTag.MatchString(tag) {
		t.Fatalf("POST ETag %q, want a quoted tag", tag)
	}
	if again.Header.Get("ETag") != tag || got.Header.Get("ETag") != tag {
		t.Errorf("ETags of one unchanged application: POST %q, POST again %q, GET %q", tag, again.Header.Get("ETag"), got.Header.Get("ETag"))
	}
	if xml := s.do(req{method: "GET", url: app.Href, header: map[string]string{"Accept": "application/xml"}}).wantStatus(t, 200); !quotedTag.MatchString(xml.Header.Get("ETag")) {
		t.Errorf("XML GET ETag %q", xml.Header.Get("ETag"))
	}
	s.do(req{method: "POST", url: link(t, embedded(t, app, "me"), "makeMeAvailable")}).wantStatus(t, 204)
	if after := s.do(req{method: "GET", url: app.Href}).wantStatus(t, 200).Header.Get("ETag"); after == tag || !quotedTag.MatchString(after) {
		t.Errorf("ETag after makeMeAvailable %q, before %q", after, tag)
	}
}

var quotedTag = regexp.MustCompile(`^"[0-9]+"$`)

// TestDefaultPolicies: the policies resource has every member
// policies_ref.md documents, each with its documented type, in JSON and
// XML.
func TestDefaultPolicies(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "pol")
	documented := []string{"allowDeviceContactsSync", "audioOnlyOnWifi", "callLogArchiving",
		"customerExperienceImprovementProgram", "emergencyDialMask", "emergencyDialString", "emergencyNumbers",
		"emergencyServiceDisclaimer", "emoticons", "encryptAppData", "clientExchangeConnectivity",
		"exchangeUnifiedMessaging", "helpEnvironment", "htmlMessaging", "locationRefreshInterval",
		"locationRequired", "logging", "loggingLevel", "messageArchiving", "messagingUrls", "multiViewJoin",
		"onlineFeedbackUrl", "photos", "saveCallLogs", "saveCredentials", "saveMessagingHistory",
		"sendFeedbackUrl", "sharingOnlyOnWifi", "softwareQualityMetrics", "telephonyMode",
		"useLocationForE911Only", "videoOnlyOnWifi", "voicemailUri"}
	for _, accept := range []string{"application/json", "application/xml"} {
		pol := s.do(req{method: "GET", url: link(t, s.app, "policies"), header: map[string]string{"Accept": accept}}).wantStatus(t, 200).resource(t)
		var names []string
		for _, p := range pol.Props() {
			names = append(names, p.Name)
		}
		if !equalStrings(names, documented) {
			t.Errorf("%s: policies %q, want the %d documented ones %q", accept, names, len(documented), documented)
		}
		if v, _ := pol.Get("emergencyNumbers"); v.Kind() != ucwa.KindStrings {
			t.Errorf("%s: emergencyNumbers is %s, want a list", accept, v.Kind())
		}
		// XML carries no types: a number reads back as its text there.
		if v, _ := pol.Get("locationRefreshInterval"); v.Text() != "4" || accept == "application/json" && v.Kind() != ucwa.KindInt {
			t.Errorf("%s: locationRefreshInterval is %s %q, want the number 4", accept, v.Kind(), v.Text())
		}
		if str(t, pol, "emoticons") != "Enabled" || str(t, pol, "telephonyMode") != "Uc" {
			t.Errorf("%s: emoticons %q telephonyMode %q", accept, str(t, pol, "emoticons"), str(t, pol, "telephonyMode"))
		}
	}
}

// TestDownLevelLogonNames: on-premises users sign in as NETBIOS\user (the
// NetBIOS name in any case) as well as user@domain and sip:user@domain.
func TestDownLevelLogonNames(t *testing.T) {
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	signIn := func(e *env, user string) *resp {
		t.Helper()
		body := url.Values{"grant_type": {"password"}, "username": {user}, "password": {"secret-alice"}}.Encode()
		return e.do(req{method: "POST", url: "/WebTicket/oauthtoken", header: form, body: body})
	}
	e := newEnv(t, func(c *httpapi.Config) { c.Domain = "contoso.com" })
	for _, user := range []string{`CONTOSO\alice`, `contoso\Alice`, `Contoso\ALICE`, "alice@contoso.com", "sip:alice@contoso.com", "SIP:Alice@Contoso.com"} {
		if tok := decodeToken(t, signIn(e, user).wantStatus(t, 200)); tok.AccessToken == "" {
			t.Errorf("%s: no token", user)
		}
	}
	for _, user := range []string{`FABRIKAM\alice`, `CONTOSO\`, `CONTOSO\alice@contoso.com`, `CONTOSO\\alice`, `\alice`, `contoso.com\alice`} {
		if tok := decodeToken(t, signIn(e, user).wantStatus(t, 400)); tok.Error != "invalid_grant" {
			t.Errorf("%s: error %q, want invalid_grant", user, tok.Error)
		}
	}
	// A configured NetBIOS name replaces the default.
	e = newEnv(t, func(c *httpapi.Config) { c.Domain = "contoso.com"; c.NetBIOSName = "CORP" })
	signIn(e, `corp\alice`).wantStatus(t, 200)
	signIn(e, `CONTOSO\alice`).wantStatus(t, 400)
}

// TestExtensionHousekeepingNotStored: SDKs send back Self, PGuid (holding
// the sentinel's name), ETag, rel and href with an extension; none of them
// is stored as data, in any casing, on POST or PUT, in JSON or XML.
func TestExtensionHousekeepingNotStored(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "house")
	m := s.schedule(t, "{}")
	x := s.addExtension(t, m, `{"id":"x1","type":"Undefined","color":"blue","Self":"/somewhere","PGuid":"abc","ETAG":"1","Rel":"r","HREF":"/h","pguid":"again"}`)
	name := sentinel(t, x)
	wantMembers(t, x, "id", "type", "color", name, "etag")
	wantMembers(t, s.get(t, x.Href), "id", "type", "color", name, "etag")

	// The C# SDK's PUT: the GET body plus Self and PGuid naming the sentinel.
	got := s.get(t, x.Href)
	body := putBody(t, got, map[string]any{"Self": x.Href, "PGuid": name, "size": "L"})
	s.put(x.Href, str(t, got, "etag"), body).wantStatus(t, 200)
	wantMembers(t, s.get(t, x.Href), "id", "type", "color", "size", name, "etag")

	// The same in XML.
	got = s.get(t, x.Href)
	xml := `<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa"><property name="self">` + x.Href +
		`</property><property name="pGuid">` + name + `</property><property name="` + name + `">` + ucwa.PutSentinel +
		`</property><property name="color">red</property></input>`
	s.do(req{method: "PUT", url: x.Href, body: xml, header: map[string]string{"Content-Type": "application/xml", "If-Match": str(t, got, "etag")}}).wantStatus(t, 200)
	after := s.get(t, x.Href)
	wantMembers(t, after, "id", "type", "color", name, "etag")
	wantProp(t, after, "color", ucwa.String("red"))
}

// TestExtensionPropertyNames: a property name XML cannot carry, or could
// carry only altered (NUL, control characters including U+0085, invalid
// UTF-8, U+FFFE), is refused with 400 naming the member, and nothing is
// stored; so is an id with U+0085.
func TestExtensionPropertyNames(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "names")
	m := s.schedule(t, "{}")
	exts := link(t, m, "onlineMeetingExtensions")
	for _, tc := range []struct{ body, member string }{
		{`{"id":"n1","a\u0000b":"v"}`, "a\x00b"},
		{`{"id":"n1","a\u0001":"v"}`, "a\x01"},
		{`{"id":"n1","tab\there":"v"}`, "tab\there"},
		{`{"id":"n1","next\u0085line":"v"}`, "next\u0085line"},
		{`{"id":"n1","del\u007f":"v"}`, "del\x7f"},
		{"{\"id\":\"n1\",\"bad\xffname\":\"v\"}", "bad\xffname"},
		{`{"id":"n1","\ufffe":"v"}`, "\ufffe"},
		{`{"id":"n1","half\ud800":"v"}`, "half\xed\xa0\x80"},
		{`{"id":"a\u0085b"}`, "id"},
	} {
		r := s.do(req{method: "POST", url: exts, body: tc.body, header: jsonBody})
		reason := r.wantError(t, 400, ucwad.EBadRequest, ucwad.SubParameterValidationFailure)
		// JSON carries the name back exactly, unless it is not UTF-8.
		if len(reason.Parameters) != 1 || utf8.ValidString(tc.member) && reason.Parameters[0].Name != tc.member {
			t.Errorf("%q: parameters %+v, want %q", tc.body, reason.Parameters, tc.member)
		}
	}
	if got := s.get(t, exts).FindEmbedded("onlineMeetingExtension"); len(got) != 0 {
		t.Errorf("%d extensions stored from refused bodies", len(got))
	}
	// Ordinary non-ASCII names are properties like any other.
	x := s.addExtension(t, m, `{"id":"n2","Farbe":"blau","名前":"値","ünï code":"ok"}`)
	wantMembers(t, s.get(t, x.Href), "id", "type", "Farbe", "名前", "ünï code", sentinel(t, x), "etag")
}

// TestRevisionsAccepted: the revisions clients send are served.
func TestRevisionsAccepted(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "rev")
	for _, v := range []string{"2", "2.0", " 2.0 ", "1", "1.5", "0"} {
		s.do(req{method: "GET", url: s.app.Href, header: map[string]string{"X-MS-RequiresMinResourceVersion": v}}).wantStatus(t, 200)
	}
	for _, v := range []string{"2.", ".5", "1.2.3", "0x2"} {
		wantParameter(t, s.do(req{method: "GET", url: s.app.Href, header: map[string]string{"X-MS-RequiresMinResourceVersion": v}}), "X-MS-RequiresMinResourceVersion")
	}
}

// TestIfMatchBounded: If-Match names at most 64 entity tags; beyond, 400
// ParameterValidationFailure naming If-Match, and nothing changes.
func TestIfMatchBounded(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "tags")
	m := s.schedule(t, `{"subject":"before"}`)
	etag := str(t, m, "etag")
	stale := func(n int) string {
		tags := make([]string, n)
		for i := range tags {
			tags[i] = `"stale` + strconv.Itoa(i) + `"`
		}
		return strings.Join(tags, ", ")
	}
	body := putBody(t, m, map[string]any{"subject": "after"})
	// put sends the PUT with one If-Match header line per value.
	put := func(ifMatch ...string) *resp {
		hr, err := http.NewRequest("PUT", e.base+m.Href, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		hr.Header.Set("Authorization", "Bearer "+s.token)
		hr.Header.Set("Content-Type", "application/json")
		hr.Header.Set("Accept", "application/json")
		for _, v := range ifMatch {
			hr.Header.Add("If-Match", v)
		}
		res, err := e.srv.Client().Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return &resp{Response: res, body: b}
	}
	// 65 tags, the right one last, on one line or two: refused.
	wantParameter(t, put(stale(64)+`, "`+etag+`"`), "If-Match")
	wantParameter(t, put(stale(40), stale(24)+`,"`+etag+`"`), "If-Match")
	wantProp(t, s.get(t, m.Href), "subject", ucwa.String("before"))
	// 64 tags, the right one last: served.
	put(stale(63)+`, "`+etag+`"`).wantStatus(t, http.StatusOK)
	wantProp(t, s.get(t, m.Href), "subject", ucwa.String("after"))
}

// TestHeldPGetRevokedToken: a P-GET held while its token is revoked (a
// password change or the user's removal, here through the store as
// another process would do it) answers 401 with the challenge when its
// batch is released, instead of delivering.
func TestHeldPGetRevokedToken(t *testing.T) {
	ctx := t.Context()
	t.Run("password changed, then an event", func(t *testing.T) {
		e := newEnv(t)
		s := e.signIn("alice", "revoke")
		u, err := e.store.FindUserBySIP(ctx, "alice@contoso.com")
		if err != nil {
			t.Fatal(err)
		}
		p := s.startPGet(t, link(t, s.app, "events"), nil)
		e.waitTimers(heldTimers)
		if err := e.store.SetUserPassword(ctx, u.ID, u.PasswordHash); err != nil {
			t.Fatal(err)
		}
		if err := e.store.MakeApplicationAvailable(ctx, u.ID, str(t, s.app, "id")); err != nil {
			t.Fatal(err)
		}
		r := p.wait()
		r.wantError(t, http.StatusUnauthorized, ucwad.EUnauthorized, "")
		challengeTokenURL(t, r)
	})
	t.Run("user removed, then the timeout", func(t *testing.T) {
		e := newEnv(t)
		s := e.signIn("alice", "remove")
		u, err := e.store.FindUserBySIP(ctx, "alice@contoso.com")
		if err != nil {
			t.Fatal(err)
		}
		p := s.startPGet(t, link(t, s.app, "events"), nil)
		e.waitTimers(heldTimers)
		if err := e.store.DeleteUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(180 * time.Second)
		p.wait().wantError(t, http.StatusUnauthorized, ucwad.EUnauthorized, "")
	})
	t.Run("token still valid", func(t *testing.T) {
		e := newEnv(t)
		s := e.signIn("alice", "valid")
		p := s.startPGet(t, link(t, s.app, "events"), nil)
		e.waitTimers(heldTimers)
		e.clock.Advance(180 * time.Second)
		p.wait().wantStatus(t, http.StatusOK)
	})
}

// TestSignInFailuresLogged: a failed sign-in is logged at info with the
// user name and the reason, never the password; refused token requests
// too.
func TestSignInFailuresLogged(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) { c.Domain = "contoso.com" })
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	post := func(v url.Values) {
		e.do(req{method: "POST", url: "/WebTicket/oauthtoken", header: form, body: v.Encode()}).wantStatus(t, 400)
	}
	post(url.Values{"grant_type": {"password"}, "username": {"alice@contoso.com"}, "password": {"hunter2-wrong"}})
	post(url.Values{"grant_type": {"password"}, "username": {`CONTOSO\carol`}, "password": {"hunter2-carol"}})
	post(url.Values{"grant_type": {"urn:microsoft.rtc:windows"}, "username": {"alice@contoso.com"}, "password": {"hunter2-grant"}})
	failed := e.logs.records(t, "sign-in failed")
	want := []struct{ user, reason string }{{"alice@contoso.com", "wrong password"}, {"carol@contoso.com", "unknown user"}}
	if len(failed) != len(want) {
		t.Fatalf("sign-in failed lines %v, want %d", failed, len(want))
	}
	for i, w := range want {
		if f := failed[i]; f["level"] != "INFO" || f["user"] != w.user || f["reason"] != w.reason || f["remote"] == "" {
			t.Errorf("line %d: %v, want info, user %s, reason %s, remote", i, f, w.user, w.reason)
		}
	}
	refused := e.logs.records(t, "sign-in refused")
	if len(refused) != 1 || refused[0]["level"] != "INFO" || refused[0]["error"] != "unsupported_grant_type" {
		t.Errorf("sign-in refused lines %v", refused)
	}
	e.logs.mu.Lock()
	all := e.logs.buf.String()
	e.logs.mu.Unlock()
	if strings.Contains(all, "hunter2") {
		t.Errorf("a password was logged:\n%s", all)
	}
}

// TestRequestLogNamesErrors: request lines of 4xx and 5xx answers carry the
// error code and subcode (the OAuth error for the token endpoint).
func TestRequestLogNamesErrors(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "log")
	s.do(req{method: "GET", url: s.app.Href + "/nothing"}).wantStatus(t, 404)
	s.do(req{method: "POST", url: link(t, embedded(t, s.app, "me"), "makeMeAvailable")}).wantStatus(t, 204)
	e.do(req{method: "POST", url: "/WebTicket/oauthtoken", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		body: "grant_type=password&username=alice@contoso.com&password=wrong"}).wantStatus(t, 400)
	want := map[string]map[string]any{
		s.app.Href + "/nothing":            {"status": 404.0, "error": "NotFound", "subcode": "ResourceNotFound"},
		s.app.Href + "/me/makeMeAvailable": {"status": 204.0, "error": nil, "subcode": nil},
		"/WebTicket/oauthtoken":            {"status": 400.0, "error": "invalid_grant", "subcode": nil},
	}
	seen := 0
	for _, rec := range e.logs.records(t, "request") {
		w, ok := want[rec["path"].(string)]
		if !ok {
			continue
		}
		if rec["path"] == "/WebTicket/oauthtoken" && rec["status"] == 200.0 {
			continue // the sign-in of the session
		}
		seen++
		for k, v := range w {
			if rec[k] != v {
				t.Errorf("request line %v: %s is %v, want %v", rec, k, rec[k], v)
			}
		}
	}
	if seen != 3 {
		t.Errorf("%d of the 3 request lines found", seen)
	}
}

// TestAbandonedRequestLogged: a P-GET the client gives up is logged as
// abandoned, not as a request with status 0.
func TestAbandonedRequestLogged(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "abandon")
	events := link(t, s.app, "events")
	left := s.startAbandonable(events)
	e.waitTimers(heldTimers)
	left.abandon(t)
	rec := e.logs.wait(t, "request abandoned by the client")
	if u, _ := url.Parse(events); rec["path"] != u.Path || rec["method"] != "GET" {
		t.Errorf("abandoned line %v", rec)
	}
	for _, r := range e.logs.records(t, "request") {
		if r["status"] == 0.0 {
			t.Errorf("request logged with status 0: %v", r)
		}
	}
}
