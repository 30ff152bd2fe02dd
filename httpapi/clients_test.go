package httpapi_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ucwad/ucwad"
)

// TestClientBehaviours plays what known UCWA clients do (spec NOTES §4–5),
// over HTTPS as they require: PascalCase bodies, "//" paths, the challenge
// read with their expressions, host names derived from hrefs with their
// expressions, gzip asked for on every request, the minimum-version header
// on every request, bootstrap re-run with the same endpointId.
func TestClientBehaviours(t *testing.T) {
	e := newTLSEnv(t)
	common := map[string]string{"Accept": "application/json", "Accept-Encoding": "gzip, deflate", "X-MS-RequiresMinResourceVersion": "2.0"}
	with := func(extra map[string]string) map[string]string {
		h := map[string]string{}
		for k, v := range common {
			h[k] = v
		}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	gz := func(r *resp) *resp {
		t.Helper()
		if r.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s %s: not gzipped although asked (Content-Encoding %q)", r.Request.Method, r.Request.URL, r.Header.Get("Content-Encoding"))
		}
		return r
	}

	// Client C's discovery with originalDomain, any casing.
	root := gz(e.do(req{method: "GET", url: "/autodiscover/AUTODISCOVERSERVICE.svc/root?originalDomain=contoso.com", header: common})).wantStatus(t, 200).resource(t)
	userHref := link(t, root, "user")
	if !strings.Contains(userHref, "originalDomain=contoso.com") {
		t.Errorf("user href %q lost originalDomain", userHref)
	}
	// Client B derives the resource host from the user href.
	m := regexp.MustCompile(`https://(.*)/Autodiscover/`).FindStringSubmatch(userHref)
	if m == nil || "https://"+m[1] != e.base {
		t.Fatalf("client B cannot derive the host from %q: %v", userHref, m)
	}
	ch := gz(e.do(req{method: "GET", url: userHref, header: common}))
	ch.wantError(t, 401, ucwad.EUnauthorized, "")
	tokenURL := challengeTokenURL(t, ch)
	form := url.Values{"grant_type": {"password"}, "username": {"bob@contoso.com"}, "password": {"secret-bob"}, "resource": {m[1]}}
	tok := decodeToken(t, gz(e.do(req{method: "POST", url: tokenURL, body: form.Encode(),
		header: with(map[string]string{"Content-Type": "application/x-www-form-urlencoded;charset='utf-8'"})})).wantStatus(t, 200))
	authz := map[string]string{"Authorization": tok.TokenType + " " + tok.AccessToken}
	user := gz(e.do(req{method: "GET", url: userHref, header: with(authz)})).wantStatus(t, 200).resource(t)
	appsHref := link(t, user, "applications")
	hm := regexp.MustCompile(`https://(.*)/ucwa/`).FindStringSubmatch(appsHref)
	if hm == nil || hm[1] != m[1] {
		t.Fatalf("applications href %q: host %v, user host %s", appsHref, hm, m[1])
	}

	// PascalCase members and a trailing comma, as task pages and client B send them.
	body := `{"UserAgent":"mm_skype4b_plugin","EndpointId":"123","Culture":"en-US",}`
	created := gz(e.do(req{method: "POST", url: appsHref, body: body, header: with(map[string]string{"Content-Type": "application/json", "Authorization": authz["Authorization"]})}))
	created.wantStatus(t, http.StatusCreated)
	app := created.resource(t)
	if got := str(t, app, "endpointId"); got != "123" {
		t.Fatalf("endpointId echoed as %q", got) // the web client rejects the answer otherwise
	}
	// Client B re-runs the whole bootstrap for every meeting, without the version header.
	again := e.do(req{method: "POST", url: appsHref, body: body, header: map[string]string{"Content-Type": "application/json", "Authorization": authz["Authorization"]}})
	again.wantStatus(t, http.StatusOK)
	if again.resource(t).Href != app.Href {
		t.Fatal("re-posting the same application made a new one")
	}

	// Client B builds "https://" + host + "/" + href: a double slash, POSTed.
	meetings := link(t, embedded(t, app, "onlineMeetings"), "self")
	dbl := "https://" + hm[1] + "/" + meetings
	if !strings.Contains(dbl, "//ucwa/") {
		t.Fatalf("test premise: %q has no double slash", dbl)
	}
	gz(e.do(req{method: "GET", url: dbl, header: with(authz)})).wantStatus(t, 200)

	// The Microsoft sample appends its parameters to the events href by
	// concatenation, so the href must already carry a query.
	events := link(t, app, "events")
	if !strings.Contains(events, "?ack=") {
		t.Fatalf("events href %q has no ack query", events)
	}

	// Everything answers gzip when asked, errors included.
	gz(e.do(req{method: "GET", url: app.Href + "/nowhere", header: with(authz)})).wantError(t, 404, ucwad.ENotFound, ucwad.SubResourceNotFound)

	// makeMeAvailable, as the Microsoft sample does after sign-in; the link then goes.
	me := embedded(t, app, "me")
	mma := link(t, me, "makeMeAvailable")
	e.do(req{method: "POST", url: mma, body: `{"SupportedModalities":["Messaging"]}`, header: with(map[string]string{"Content-Type": "application/json", "Authorization": authz["Authorization"]})}).wantStatus(t, 204)
	me2 := gz(e.do(req{method: "GET", url: me.Href, header: with(authz)})).wantStatus(t, 200).resource(t)
	if _, ok := me2.FindLink("makeMeAvailable"); ok {
		t.Error("makeMeAvailable still offered after it succeeded")
	}
	e.do(req{method: "POST", url: link(t, me2, "reportMyActivity"), header: with(authz)}).wantStatus(t, 204)
	pol := gz(e.do(req{method: "GET", url: link(t, app, "policies"), header: with(authz)})).wantStatus(t, 200).resource(t)
	if pol.Rel != "policies" || len(pol.Props()) == 0 {
		t.Errorf("policies %+v", pol)
	}
}

func TestIsolation(t *testing.T) {
	e := newEnv(t)
	alice := e.signIn("alice", "iso")
	bob := e.signIn("bob", "iso")
	for _, u := range []string{alice.app.Href, alice.app.Href + "/me", alice.app.Href + "/policies", alice.app.Href + "/events?ack=1"} {
		bob.do(req{method: "GET", url: u}).wantError(t, 404, ucwad.ENotFound, ucwad.SubApplicationNotFound)
	}
	bob.do(req{method: "DELETE", url: alice.app.Href}).wantError(t, 404, ucwad.ENotFound, ucwad.SubApplicationNotFound)
	alice.do(req{method: "GET", url: alice.app.Href}).wantStatus(t, 200)
}

func TestNegotiation(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ accept, want string }{
		{"", "application/json"},
		{"*/*", "application/json"},
		{"application/json", "application/json"},
		{"application/xml", "application/xml"},
		{"application/vnd.microsoft.com.ucwa+json", "application/vnd.microsoft.com.ucwa+json"},
		{"application/vnd.microsoft.com.ucwa+xml", "application/vnd.microsoft.com.ucwa+xml"},
		{"application/json;q=0.5, application/xml", "application/xml"},
		{"application/xml;q=0, */*", "application/json"},
		{"text/html", "application/json"},
	} {
		r := e.do(req{method: "GET", url: "/", header: map[string]string{"Accept": tc.accept}}).wantStatus(t, 200)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.want) {
			t.Errorf("Accept %q: Content-Type %q, want %s", tc.accept, ct, tc.want)
		}
		if r.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("Accept %q: Cache-Control %q", tc.accept, r.Header.Get("Cache-Control"))
		}
		r.resource(t)
	}
}
