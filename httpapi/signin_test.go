package httpapi_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/ucwa"
)

// The expressions real clients use on the 401 challenge (spec NOTES §2.1,
// §4): all of them must find what they look for in our header.
var (
	reQuotedHref = regexp.MustCompile(`MsRtcOAuth href="([^"]*)"`)
	reLazyHref   = regexp.MustCompile(`href=(.*?),`)
	reGrantType  = regexp.MustCompile(`grant_type="(.*?)"`)
)

func TestSignInChain(t *testing.T) {
	for _, tc := range []struct {
		name, accept, contentType, body string
		wantCT                          string
	}{
		{"json", "application/json", "application/json",
			`{"userAgent":"chain","endpointId":"e1","culture":"en-US"}`, "application/json"},
		{"xml", "application/xml", "application/xml",
			`<?xml version="1.0" encoding="utf-8"?><input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa"><property name="userAgent">chain</property><property name="endpointId">e1</property><property name="culture">en-US</property></input>`,
			"application/xml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			accept := map[string]string{"Accept": tc.accept}

			root := e.do(req{method: "GET", url: "/", header: accept}).wantStatus(t, http.StatusOK)
			if ct := root.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.wantCT) {
				t.Fatalf("root Content-Type %q, want %s", ct, tc.wantCT)
			}
			rootRes := root.resource(t)
			if rootRes.Rel != "root" {
				t.Errorf("root rel %q", rootRes.Rel)
			}
			if _, ok := rootRes.FindLink("redirect"); ok {
				t.Error("root offers a redirect link although nothing redirects")
			}
			userHref := link(t, rootRes, "user")
			if !strings.HasPrefix(userHref, e.base+"/Autodiscover/") {
				t.Fatalf("user href %q is not absolute under /Autodiscover/", userHref)
			}

			ch := e.do(req{method: "GET", url: userHref, header: accept})
			ch.wantError(t, http.StatusUnauthorized, ucwad.EUnauthorized, "")
			tokenURL := challengeTokenURL(t, ch)
			if tokenURL != e.base+"/WebTicket/oauthtoken" {
				t.Fatalf("challenge names %q", tokenURL)
			}

			form := url.Values{"grant_type": {"password"}, "username": {"alice@contoso.com"}, "password": {"secret-alice"}}
			tr := e.do(req{method: "POST", url: tokenURL, body: form.Encode(),
				header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}).wantStatus(t, http.StatusOK)
			tok := decodeToken(t, tr)
			auth := map[string]string{"Accept": tc.accept, "Authorization": tok.TokenType + " " + tok.AccessToken}

			user := e.do(req{method: "GET", url: userHref, header: auth}).wantStatus(t, http.StatusOK).resource(t)
			appsHref := link(t, user, "applications")
			if appsHref != e.base+"/ucwa/oauth/v1/applications" {
				t.Fatalf("applications href %q", appsHref)
			}

			h := map[string]string{"Content-Type": tc.contentType}
			for k, v := range auth {
				h[k] = v
			}
			created := e.do(req{method: "POST", url: appsHref, header: h, body: tc.body}).wantStatus(t, http.StatusCreated)
			app := created.resource(t)
			checkApplication(t, app, "chain", "e1", "en-US")

			again := e.do(req{method: "POST", url: appsHref, header: h, body: tc.body}).wantStatus(t, http.StatusOK).resource(t)
			if again.Href != app.Href {
				t.Fatalf("re-posting the same application gave %s, first %s", again.Href, app.Href)
			}

			got := e.do(req{method: "GET", url: app.Href, header: auth}).wantStatus(t, http.StatusOK).resource(t)
			checkApplication(t, got, "chain", "e1", "en-US")

			e.do(req{method: "DELETE", url: app.Href, header: auth}).wantStatus(t, http.StatusNoContent)
			e.do(req{method: "GET", url: app.Href, header: auth}).wantError(t, http.StatusNotFound, ucwad.ENotFound, ucwad.SubApplicationNotFound)
		})
	}
}

// challengeTokenURL checks the MsRtcOAuth challenge with every client's
// expressions and returns the token URL.
func challengeTokenURL(t *testing.T, r *resp) string {
	t.Helper()
	values := r.Header.Values("WWW-Authenticate")
	var ours string
	for _, v := range values {
		if strings.HasPrefix(v, "MsRtcOAuth ") {
			ours = v
		}
	}
	if ours == "" {
		t.Fatalf("no MsRtcOAuth challenge in %q", values)
	}
	m := reQuotedHref.FindStringSubmatch(ours)
	if m == nil {
		t.Fatalf("%q does not match %s", ours, reQuotedHref)
	}
	joined := strings.Join(values, ",") // how client B reads them
	lazy := reLazyHref.FindStringSubmatch(joined)
	if lazy == nil || strings.Trim(lazy[1], `"`) != m[1] {
		t.Fatalf("joined challenge %q: %s found %v, want %s", joined, reLazyHref, lazy, m[1])
	}
	g := reGrantType.FindStringSubmatch(ours)
	if g == nil || !strings.Contains(g[1], "password") {
		t.Fatalf("grant_type in %q: %v", ours, g)
	}
	want := `MsRtcOAuth href="` + m[1] + `",grant_type="` + g[1] + `"`
	if ours != want {
		t.Fatalf("challenge %q, want exactly %q", ours, want)
	}
	return m[1]
}

// checkApplication checks an application resource's members.
func checkApplication(t *testing.T, app *ucwa.Resource, userAgent, endpointID, culture string) {
	t.Helper()
	if app.Rel != "application" {
		t.Fatalf("rel %q", app.Rel)
	}
	for name, want := range map[string]string{"userAgent": userAgent, "endpointId": endpointID, "culture": culture, "type": "Browser"} {
		if got := str(t, app, name); got != want {
			t.Errorf("application %s = %q, want %q", name, got, want)
		}
	}
	id := str(t, app, "id")
	if !strings.HasPrefix(app.Href, "/ucwa/oauth/v1/applications/"+id) {
		t.Errorf("application href %q does not carry its id %q", app.Href, id)
	}
	if !strings.HasPrefix(link(t, app, "events"), app.Href+"/events?ack=") {
		t.Errorf("events link %q", link(t, app, "events"))
	}
	if link(t, app, "policies") != app.Href+"/policies" {
		t.Errorf("policies link %q", link(t, app, "policies"))
	}
	if link(t, app, "batch") != app.Href+"/batch" {
		t.Errorf("batch link %q", link(t, app, "batch"))
	}
	me := embedded(t, app, "me")
	if me.Rel != "me" || !strings.HasPrefix(str(t, me, "uri"), "sip:") || str(t, me, "name") == "" {
		t.Errorf("me: rel %q uri %q", me.Rel, str(t, me, "uri"))
	}
	if v, ok := me.Get("emailAddresses"); !ok || len(v.StringsVal()) == 0 {
		t.Error("me has no emailAddresses")
	}
	link(t, me, "makeMeAvailable")
	if _, ok := me.FindLink("reportMyActivity"); ok {
		t.Error("me offers reportMyActivity before makeMeAvailable")
	}
	for _, rel := range []string{"people", "onlineMeetings", "communication"} {
		em := embedded(t, app, rel)
		if em.Rel != rel || !strings.HasPrefix(em.Href, app.Href+"/") {
			t.Errorf("embedded %s: rel %q href %q", rel, em.Rel, em.Href)
		}
	}
}
