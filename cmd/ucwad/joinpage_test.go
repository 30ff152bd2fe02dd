package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/clock"
	"github.com/ucwad/ucwad/joinpage"
)

// startJoinServer runs the server on a fresh database with clk and the
// configuration file body (none when ""), and returns it with the demo
// user's address and password.
func startJoinServer(t testing.TB, clk clock.Clock, file string, args ...string) (*Main, string, string) {
	t.Helper()
	m, user, password, _ := startJoinServerLog(t, clk, file, args...)
	return m, user, password
}

// startJoinServerLog is startJoinServer, also returning what the server
// logs.
func startJoinServerLog(t testing.TB, clk clock.Clock, file string, args ...string) (*Main, string, string, *syncBuffer) {
	t.Helper()
	dir := t.TempDir()
	args = append([]string{"--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "ucwad.db")}, args...)
	if file != "" {
		path := filepath.Join(dir, "ucwad.json")
		if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", path)
	}
	env, out, _ := testEnv("", nil)
	logs := &syncBuffer{}
	env.Stderr = logs
	m := NewMain(env)
	m.HashParams = auth.TestParams
	m.Clock = clk
	if err := m.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	match := demoLine.FindStringSubmatch(out.String())
	if match == nil {
		t.Fatalf("no demo user printed:\n%s", out)
	}
	return m, match[1], match[2], logs
}

// organizer is a signed-in application of a user, over real HTTP.
type organizer struct {
	t     testing.TB
	base  string
	token string
	app   map[string]any
}

func newOrganizer(t testing.TB, base, user, password string) *organizer {
	t.Helper()
	res, err := http.PostForm(base+"/WebTicket/oauthtoken", url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("token: %d %v", res.StatusCode, err)
	}
	o := &organizer{t: t, base: base, token: tok.AccessToken}
	status, app := o.do("POST", "/ucwa/oauth/v1/applications", `{"userAgent":"t","endpointId":"e","culture":"en-US"}`)
	if status != 201 {
		t.Fatalf("POST applications: %d %v", status, app)
	}
	o.app = app
	return o
}

// do sends a JSON request and decodes the JSON answer, if any.
func (o *organizer) do(method, href, body string) (int, map[string]any) {
	o.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r, _ := http.NewRequest(method, o.base+href, rd)
	r.Header.Set("Authorization", "Bearer "+o.token)
	r.Header.Set("Accept", "application/json")
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		o.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// schedule creates a meeting with the settings in body.
func (o *organizer) schedule(body string) map[string]any {
	o.t.Helper()
	href := o.app["_embedded"].(map[string]any)["onlineMeetings"].(map[string]any)["_links"].(map[string]any)["myOnlineMeetings"].(map[string]any)["href"].(string)
	status, m := o.do("POST", href, body)
	if status != 201 {
		o.t.Fatalf("schedule: %d %v", status, m)
	}
	return m
}

func (o *organizer) deleteMeeting(m map[string]any) {
	o.t.Helper()
	href := m["_links"].(map[string]any)["self"].(map[string]any)["href"].(string)
	if status, _ := o.do("DELETE", href, ""); status != 204 {
		o.t.Fatalf("DELETE meeting: %d", status)
	}
}

// page is an answer of the join page.
type page struct {
	status int
	header http.Header
	body   string
}

func getPage(t *testing.T, method, u string) page {
	t.Helper()
	r, _ := http.NewRequest(method, u, nil)
	r.Header.Set("Accept", "text/html")
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return page{res.StatusCode, res.Header, string(b)}
}

var (
	attrURI   = regexp.MustCompile(`data-meeting="([^"]*)"`)
	attrID    = regexp.MustCompile(`data-meeting-id="([^"]*)"`)
	scriptTag = regexp.MustCompile(`(?is)<script\b[^>]*>(.*?)</script>`)
	htmlTitle = regexp.MustCompile(`(?is)<title>(.*?)</title>`)
)

// cspDirectives parses a Content-Security-Policy into its directives.
func cspDirectives(t *testing.T, csp string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, d := range strings.Split(csp, ";") {
		f := strings.Fields(d)
		if len(f) == 0 {
			continue
		}
		if _, dup := out[f[0]]; dup {
			t.Errorf("CSP names %s twice: %q", f[0], csp)
		}
		out[f[0]] = f[1:]
	}
	return out
}

// wantPageHeaders checks what every answer of the join page carries: a
// policy that allows script only from the server itself (no inline
// script, no eval) and no framing.
func wantPageHeaders(t *testing.T, what string, p page) {
	t.Helper()
	d := cspDirectives(t, p.header.Get("Content-Security-Policy"))
	want := map[string]string{
		"default-src": "'none'", "script-src": "'self'", "style-src": "'self'",
		"frame-ancestors": "'none'", "base-uri": "'none'", "form-action": "'none'",
	}
	for k, v := range want {
		if got := strings.Join(d[k], " "); got != v {
			t.Errorf("%s: CSP %s %q, want %q", what, k, got, v)
		}
	}
	if h := p.header.Get("X-Frame-Options"); h != "DENY" {
		t.Errorf("%s: X-Frame-Options %q", what, h)
	}
	if h := p.header.Get("X-Content-Type-Options"); h != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q", what, h)
	}
	if h := p.header.Get("Referrer-Policy"); h != "no-referrer" {
		t.Errorf("%s: Referrer-Policy %q", what, h)
	}
}

// TestJoinPageRoute: a meeting's joinUrl is the server's own /meet link,
// which serves the page (with the meeting's URI and id for the page's
// client, and scripts only from files); the page's files are served; a
// link that names no meeting, someone else's alias, a deleted or an
// expired meeting answers 404 with a page that says so; the page takes
// only GET and HEAD.
func TestJoinPageRoute(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	m, user, password := startJoinServer(t, clk, "")
	alice := newOrganizer(t, m.URL, user, password)
	meeting := alice.schedule(`{"subject":"Design review","accessLevel":"Invited","expirationTime":"2026-03-01T17:00:00Z"}`)
	id := meeting["onlineMeetingId"].(string)
	join := meeting["joinUrl"].(string)
	if want := m.URL + "/meet/demo/" + id; join != want {
		t.Fatalf("joinUrl %q, want %q", join, want)
	}

	p := getPage(t, "GET", join)
	if p.status != 200 || p.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET %s: %d %s\n%s", join, p.status, p.header.Get("Content-Type"), p.body)
	}
	wantPageHeaders(t, "the page", p)
	if cc := p.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("the page: Cache-Control %q", cc)
	}
	if got := attrURI.FindStringSubmatch(p.body); got == nil || html.UnescapeString(got[1]) != meeting["onlineMeetingUri"] {
		t.Errorf("the page names the meeting URI %q, want %q", got, meeting["onlineMeetingUri"])
	}
	if got := attrID.FindStringSubmatch(p.body); got == nil || got[1] != id {
		t.Errorf("the page names the meeting id %q, want %q", got, id)
	}
	for _, s := range scriptTag.FindAllStringSubmatch(p.body, -1) {
		if strings.TrimSpace(s[1]) != "" {
			t.Errorf("the page has inline script: %q", s[0])
		}
	}
	// The alias in any case and the id in lower case lead to the same page.
	if p := getPage(t, "GET", m.URL+"/meet/DEMO/"+strings.ToLower(id)); p.status != 200 {
		t.Errorf("the link in other cases: %d", p.status)
	}
	if p := getPage(t, "HEAD", join); p.status != 200 || p.body != "" {
		t.Errorf("HEAD: %d %q", p.status, p.body)
	}
	for _, method := range []string{"POST", "PUT", "DELETE"} {
		if p := getPage(t, method, join); p.status != 405 || p.header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d, Allow %q", method, p.status, p.header.Get("Allow"))
		}
	}

	// The page's files, with the same policy.
	for name, ctype := range map[string]string{"join.js": "text/javascript; charset=utf-8", "join.css": "text/css; charset=utf-8"} {
		p := getPage(t, "GET", m.URL+joinpage.StaticPrefix+name)
		if p.status != 200 || p.header.Get("Content-Type") != ctype || p.body == "" || p.header.Get("ETag") == "" {
			t.Errorf("%s: %d %q etag %q, %d bytes", name, p.status, p.header.Get("Content-Type"), p.header.Get("ETag"), len(p.body))
		}
		wantPageHeaders(t, name, p)
		// Compressed or not, as the client asks, the file as it is in the
		// repository.
		file, err := os.ReadFile(filepath.Join("..", "..", "joinpage", "static", name))
		if err != nil {
			t.Fatal(err)
		}
		for _, ae := range []string{"gzip", "identity", "gzip;q=0"} {
			r, _ := http.NewRequest("GET", m.URL+joinpage.StaticPrefix+name, nil)
			r.Header.Set("Accept-Encoding", ae)
			res, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			var body io.Reader = res.Body
			if enc := res.Header.Get("Content-Encoding"); (enc == "gzip") != (ae == "gzip") {
				t.Errorf("%s with Accept-Encoding %s: Content-Encoding %q", name, ae, enc)
			} else if enc == "gzip" {
				if body, err = gzip.NewReader(res.Body); err != nil {
					t.Fatal(err)
				}
			}
			got, err := io.ReadAll(body)
			res.Body.Close()
			if err != nil || !bytes.Equal(got, file) {
				t.Errorf("%s with Accept-Encoding %s: %d bytes (%v), want the %d of the file", name, ae, len(got), err, len(file))
			}
		}
		r, _ := http.NewRequest("GET", m.URL+joinpage.StaticPrefix+name, nil)
		r.Header.Set("If-None-Match", p.header.Get("ETag"))
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 304 {
			t.Errorf("%s with If-None-Match: %d", name, res.StatusCode)
		}
	}

	gone := alice.schedule(`{}`)
	alice.deleteMeeting(gone)
	notFound := []string{
		m.URL + "/meet/demo/ZZZZZZZZZZ",                          // no such meeting
		m.URL + "/meet/someoneelse/" + id,                        // not the organizer's alias
		m.URL + "/meet/demo@example.com/" + id,                   // an address is not an alias
		m.URL + "/meet/demo/" + id + "/more",                     // not a link
		m.URL + "/meet/demo",                                     // not a link
		m.URL + "/meet/",                                         // not a link
		m.URL + "/meet/demo/" + gone["onlineMeetingId"].(string), // deleted
		m.URL + joinpage.StaticPrefix + "nothing.js",             // no such file
	}
	for _, u := range notFound {
		p := getPage(t, "GET", u)
		if p.status != 404 || p.header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("GET %s: %d %s, want a 404 page", u, p.status, p.header.Get("Content-Type"))
			continue
		}
		wantPageHeaders(t, u, p)
		if title := htmlTitle.FindStringSubmatch(p.body); title == nil || title[1] != "No such meeting" {
			t.Errorf("GET %s: the 404 page's title is %q", u, title)
		}
	}

	// Expired: joinable up to its expiration time, not after.
	clk.Advance(time.Date(2026, 3, 1, 17, 0, 0, 0, time.UTC).Sub(clk.Now()))
	if p := getPage(t, "GET", join); p.status != 200 {
		t.Errorf("at the expiration time: %d", p.status)
	}
	clk.Advance(time.Second)
	if p := getPage(t, "GET", join); p.status != 404 {
		t.Errorf("after the expiration time: %d", p.status)
	}
}

// TestJoinPageBaseURL: with meetings.joinBaseUrl, new meetings' links start
// with it and the page is served at <its path>/<alias>/<id> as well, where
// only join links are taken: the API's paths beside them are the API's.
func TestJoinPageBaseURL(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	m, user, password := startJoinServer(t, clk, `{"meetings":{"joinBaseUrl":"https://meet.example.com"}}`)
	alice := newOrganizer(t, m.URL, user, password)
	meeting := alice.schedule(`{}`)
	id := meeting["onlineMeetingId"].(string)
	if join, want := meeting["joinUrl"].(string), "https://meet.example.com/demo/"+id; join != want {
		t.Fatalf("joinUrl %q, want %q", join, want)
	}
	for _, u := range []string{m.URL + "/demo/" + id, m.URL + "/meet/demo/" + id} {
		p := getPage(t, "GET", u)
		if p.status != 200 || !strings.Contains(p.header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s: %d %s", u, p.status, p.header.Get("Content-Type"))
		}
		wantPageHeaders(t, u, p)
	}
	if p := getPage(t, "GET", m.URL+"/demo/ZZZZZZZZZZ"); p.status != 404 || !strings.Contains(p.header.Get("Content-Type"), "text/html") {
		t.Errorf("an unknown meeting at the root: %d %s", p.status, p.header.Get("Content-Type"))
	}
	// What is not a join link is the API's, answered as UCWA answers.
	for _, u := range []string{"/WebTicket/oauthtoken", "/ucwa/oauth", "/demo/not-an-id", "/Autodiscover/XFrame", "/ucwa/ABCDEFGHJK"} {
		r, _ := http.NewRequest("GET", m.URL+u, nil)
		r.Header.Set("Accept", "application/json")
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.Header.Get("X-MS-UcwaVersion") == "" || res.Header.Get("Content-Security-Policy") != "" {
			t.Errorf("GET %s was not the API's: %d %v", u, res.StatusCode, res.Header)
		}
	}
	status, root := alice.do("GET", "/", "")
	if status != 200 || root["_links"] == nil {
		t.Errorf("the root resource: %d %v", status, root)
	}
}

// TestJoinPageBaseURLOrigin: a joinBaseUrl on another host than the public
// URL needs that host's origin allowed (the page there calls the API at the
// public URL); the server says so when it starts, and the page's policy
// lets it connect there.
func TestJoinPageBaseURLOrigin(t *testing.T) {
	const file = `{"meetings":{"joinBaseUrl":"https://meet.example.com/join"}}`
	warning := "add --allow-origin https://meet.example.com"
	m, _, _, logs := startJoinServerLog(t, clock.Real(), file, "--public-url", "https://lyncweb.example.com")
	if !strings.Contains(logs.String(), warning) {
		t.Errorf("no warning about the join page's origin:\n%s", logs)
	}
	p := getPage(t, "GET", m.URL+"/join/demo/ZZZZZZZZZZ")
	if p.status != 404 {
		t.Errorf("a link under the base's path: %d", p.status)
	}
	if got := strings.Join(cspDirectives(t, p.header.Get("Content-Security-Policy"))["connect-src"], " "); got != "'self' https://lyncweb.example.com" {
		t.Errorf("connect-src %q", got)
	}
	_, _, _, logs = startJoinServerLog(t, clock.Real(), file, "--public-url", "https://lyncweb.example.com", "--allow-origin", "https://meet.example.com")
	if strings.Contains(logs.String(), warning) {
		t.Errorf("a warning with the origin allowed:\n%s", logs)
	}
}
