package httpapi_test

import (
	"net/url"
	"regexp"
	"testing"

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
