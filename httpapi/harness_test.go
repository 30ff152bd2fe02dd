package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/clock"
	"github.com/ucwad/ucwad/httpapi"
	"github.com/ucwad/ucwad/sqlite"
	"github.com/ucwad/ucwad/ucwa"
)

// env is one server over real HTTP on a real SQLite file, with a fake clock.
type env struct {
	t     *testing.T
	clock *clock.Fake
	store *sqlite.DB
	api   *httpapi.Server
	hub   *httpapi.Hub
	srv   *httptest.Server
	base  string
	logs  *logBuffer // everything the server logged, at debug level and up
	// path is the database file, for a second server on it.
	path string
	// metrics is the server's own registry (see scrape).
	metrics *prometheus.Registry
}

// logBuffer collects a server's log as JSON lines, safe for concurrent use.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced at every write
}

func newLogBuffer() *logBuffer { return &logBuffer{changed: make(chan struct{})} }

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.changed)
	b.changed = make(chan struct{})
	return b.buf.Write(p)
}

// wait blocks until the log has a line with message msg and returns the
// first. The real-time limit is only a watchdog, as in waitTimers.
func (b *logBuffer) wait(t *testing.T, msg string) map[string]any {
	t.Helper()
	watchdog := time.After(20 * time.Second)
	for {
		b.mu.Lock()
		ch := b.changed
		b.mu.Unlock()
		if recs := b.records(t, msg); len(recs) > 0 {
			return recs[0]
		}
		select {
		case <-ch:
		case <-watchdog:
			t.Fatalf("the server never logged %q", msg)
		}
	}
}

// records returns the log lines with message msg, decoded.
func (b *logBuffer) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(b.buf.Bytes()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("log line %s: %v", line, err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// newEnv starts a server with users alice@contoso.com and bob@contoso.com
// (password "secret-<name>"). tweak may change the configuration.
func newEnv(t *testing.T, tweak ...func(*httpapi.Config)) *env {
	t.Helper()
	return startEnv(t, false, tweak...)
}

// newTLSEnv is newEnv over HTTPS.
func newTLSEnv(t *testing.T, tweak ...func(*httpapi.Config)) *env {
	t.Helper()
	return startEnv(t, true, tweak...)
}

func startEnv(t *testing.T, tls bool, tweak ...func(*httpapi.Config)) *env {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(t0)
	hub := httpapi.NewHub()
	var cfg httpapi.Config
	for _, f := range tweak {
		f(&cfg)
	}
	// No cross-process poll: one server, and the tests count the clock's
	// timers. The store gets the limits the server has, as cmd/ucwad gives
	// them.
	path := filepath.Join(t.TempDir(), "ucwad.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{Clock: clk, Notifier: hub, PollInterval: -1, Limits: cfg.Limits})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	hasher := auth.NewHasher(auth.TestParams, 4)
	for _, name := range []string{"alice", "bob"} {
		h, err := hasher.Hash(ctx, "secret-"+name)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.CreateUser(ctx, &ucwad.User{SIP: name + "@contoso.com", Name: strings.ToUpper(name[:1]) + name[1:] + " Example", PasswordHash: h}); err != nil {
			t.Fatal(err)
		}
	}
	logs := newLogBuffer()
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := prometheus.NewRegistry()
	api := httpapi.New(cfg, httpapi.Deps{Store: db, Hasher: hasher, Clock: clk, Hub: hub, Log: log, Metrics: reg})
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(api.Handler())
	} else {
		srv = httptest.NewServer(api.Handler())
	}
	t.Cleanup(func() {
		api.Shutdown()
		srv.Close()
	})
	return &env{t: t, clock: clk, store: db, api: api, hub: hub, srv: srv, base: srv.URL, logs: logs, path: path, metrics: reg}
}

// req is one request to send.
type req struct {
	method, url string
	header      map[string]string
	body        string
}

// resp is an answer with its body read (and gunzipped when it was).
type resp struct {
	*http.Response
	body []byte
}

// do sends r. A url that starts with "/" is relative to the server.
func (e *env) do(r req) *resp {
	e.t.Helper()
	u := r.url
	if strings.HasPrefix(u, "/") {
		u = e.base + u
	}
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequest(r.method, u, body)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	if h := r.header["Host"]; h != "" {
		hr.Host = h // Go sends the Host field, never a Host header
	}
	res, err := e.srv.Client().Do(hr)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			e.t.Fatalf("%s %s: gzip body: %v", r.method, r.url, err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			e.t.Fatalf("%s %s: gunzip: %v", r.method, r.url, err)
		}
	}
	return &resp{Response: res, body: b}
}

// format is the UCWA format of an answer, from its Content-Type.
func (r *resp) format(t *testing.T) ucwa.Format {
	t.Helper()
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.Contains(ct, "json"):
		return ucwa.JSON
	case strings.Contains(ct, "xml"):
		return ucwa.XML
	}
	t.Fatalf("Content-Type %q is neither JSON nor XML; body %s", ct, r.body)
	return 0
}

// resource decodes a resource answer.
func (r *resp) resource(t *testing.T) *ucwa.Resource {
	t.Helper()
	res, err := ucwa.Decode(bytes.NewReader(r.body), r.format(t))
	if err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
	return res
}

// reason decodes an error answer.
func (r *resp) reason(t *testing.T) *ucwa.Reason {
	t.Helper()
	res, err := ucwa.DecodeReason(bytes.NewReader(r.body), r.format(t))
	if err != nil {
		t.Fatalf("decoding error body %s: %v", r.body, err)
	}
	return res
}

// events decodes an event batch.
func (r *resp) events(t *testing.T) *ucwa.EventBatch {
	t.Helper()
	ev, err := ucwa.DecodeEventBatch(bytes.NewReader(r.body), r.format(t))
	if err != nil {
		t.Fatalf("decoding events %s: %v", r.body, err)
	}
	return ev
}

// wantStatus fails unless the answer has status code.
func (r *resp) wantStatus(t *testing.T, code int) *resp {
	t.Helper()
	if r.StatusCode != code {
		t.Fatalf("%s %s: status %d, want %d; body %s", r.Request.Method, r.Request.URL, r.StatusCode, code, r.body)
	}
	return r
}

// wantError checks an error answer: status, code and subcode, in the
// format the Accept header asked for.
func (r *resp) wantError(t *testing.T, status int, code ucwad.Code, subcode string) *ucwa.Reason {
	t.Helper()
	r.wantStatus(t, status)
	reason := r.reason(t)
	if reason.Code != string(code) || reason.Subcode != subcode {
		t.Fatalf("%s %s: error %s/%s, want %s/%s", r.Request.Method, r.Request.URL, reason.Code, reason.Subcode, code, subcode)
	}
	if r.Header.Get("X-Ms-Diagnostics") == "" {
		t.Errorf("%s %s: no X-Ms-Diagnostics header", r.Request.Method, r.Request.URL)
	}
	return reason
}

// token signs in with a password and returns the access token.
func (e *env) token(user, password string) string {
	e.t.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}}
	r := e.do(req{method: "POST", url: "/WebTicket/oauthtoken", body: form.Encode(),
		header: map[string]string{"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"}})
	r.wantStatus(e.t, http.StatusOK)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(r.body, &tok); err != nil {
		e.t.Fatal(err)
	}
	return tok.AccessToken
}

// session is a signed-in user with an application.
type session struct {
	e     *env
	token string
	app   *ucwa.Resource
}

// signIn walks the chain for user (alice or bob) and creates an application
// with the given endpointId.
func (e *env) signIn(user, endpointID string) *session {
	e.t.Helper()
	s := &session{e: e, token: e.token(user+"@contoso.com", "secret-"+user)}
	r := s.do(req{method: "POST", url: "/ucwa/oauth/v1/applications",
		body:   `{"userAgent":"test","endpointId":"` + endpointID + `","culture":"en-US"}`,
		header: map[string]string{"Content-Type": "application/json"}})
	if r.StatusCode != http.StatusCreated && r.StatusCode != http.StatusOK {
		e.t.Fatalf("creating application: %d %s", r.StatusCode, r.body)
	}
	s.app = r.resource(e.t)
	return s
}

// do sends r with the session's token (and Accept: application/json unless
// r sets Accept).
func (s *session) do(r req) *resp {
	s.e.t.Helper()
	h := map[string]string{"Authorization": "Bearer " + s.token, "Accept": "application/json"}
	for k, v := range r.header {
		h[k] = v
	}
	r.header = h
	return s.e.do(r)
}

// link returns the href of rel on res, failing when absent.
func link(t *testing.T, res *ucwa.Resource, rel string) string {
	t.Helper()
	l, ok := res.FindLink(rel)
	if !ok {
		t.Fatalf("resource %s has no %s link", res.Rel, rel)
	}
	return l.Href
}

// embedded returns the single resource embedded under rel.
func embedded(t *testing.T, res *ucwa.Resource, rel string) *ucwa.Resource {
	t.Helper()
	es := res.FindEmbedded(rel)
	if len(es) != 1 {
		t.Fatalf("resource %s embeds %d %s, want 1", res.Rel, len(es), rel)
	}
	return es[0]
}

// str returns the string property name of res, failing when absent.
func str(t *testing.T, res *ucwa.Resource, name string) string {
	t.Helper()
	v, ok := res.Get(name)
	if !ok {
		t.Fatalf("resource %s has no property %s", res.Rel, name)
	}
	return v.Str()
}

// waitTimers waits until the fake clock has n timers pending (the code under
// test is parked on it). The real-time limit is only a watchdog, so that a
// broken test fails with a message instead of hanging the whole run.
func (e *env) waitTimers(n int) {
	e.t.Helper()
	waitTimers(e.t, e.clock, n)
}

func waitTimers(t *testing.T, c *clock.Fake, n int) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		c.WaitForTimers(n)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("the fake clock never had %d timers pending (it has %d)", n, c.Pending())
	}
}
