package httpapi_test

import (
	"testing"
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
