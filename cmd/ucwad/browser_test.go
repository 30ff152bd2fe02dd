package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ucwad/ucwad/httpapi"
)

// The browser tests drive a real Chromium: pages served by the test on a
// second loopback port (another origin) talk to a running server through
// CORS and through the xframe page. Without a browser they skip, unless
// UCWAD_REQUIRE_BROWSER is set (CI sets it), when they fail instead.

// browserPath finds Chromium: $UCWAD_CHROMIUM, or a usual name on PATH.
func browserPath() string {
	if p := os.Getenv("UCWAD_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile, ended when
// the test ends.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := browserPath()
	if path == "" {
		msg := "no Chromium found (install it with apt-get install chromium, or set UCWAD_CHROMIUM to its path)"
		if os.Getenv("UCWAD_REQUIRE_BROWSER") != "" {
			t.Fatal(msg + "; UCWAD_REQUIRE_BROWSER is set")
		}
		t.Skip(msg + ": skipping the browser test")
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // Chromium refuses to run as root with its sandbox
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// The first run starts the browser, which lives as long as its context.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}

// pageServer serves the test pages in testdata/browser from another
// origin than the server's.
func pageServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir("testdata/browser")))
	t.Cleanup(srv.Close)
	return srv
}

// runPage opens page with the server and the demo user's credentials in
// its query and returns the JSON object the page leaves in window.result.
func runPage(t *testing.T, ctx context.Context, page, server, user, password string) map[string]any {
	t.Helper()
	q := url.Values{"server": {server}, "user": {user}, "password": {password}}
	// A watchdog, so that a broken page fails the test instead of hanging
	// the run; the pages finish in well under a second.
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(page+"?"+q.Encode())); err != nil {
		t.Fatalf("%s: %v", page, err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Poll[string](`window.result`, chromedp.WithPollingTimeout(0)))
	if err != nil {
		t.Fatalf("%s: %v", page, err)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		t.Fatalf("%s left %q: %v", page, raw, err)
	}
	return out
}

// startForBrowser runs the server allowing origins, and returns it with
// the demo user's address and password.
func startForBrowser(t *testing.T, origins ...string) (*Main, string, string) {
	t.Helper()
	args := []string{"--db", t.TempDir() + "/ucwad.db"}
	for _, o := range origins {
		args = append(args, "--allow-origin", o)
	}
	m, out := startMain(t, args, nil)
	match := demoLine.FindStringSubmatch(out.String())
	if match == nil {
		t.Fatalf("no demo user printed:\n%s", out)
	}
	return m, match[1], match[2]
}

// wantFields fails unless out holds every field of want, compared as JSON
// values.
func wantFields(t *testing.T, out map[string]any, want map[string]any) {
	t.Helper()
	if e, ok := out["error"]; ok {
		t.Fatalf("the page failed: %v (it got as far as %v)", e, out)
	}
	for k, w := range want {
		wj, _ := json.Marshal(w)
		gj, _ := json.Marshal(out[k])
		if string(wj) != string(gj) {
			t.Errorf("%s = %s, want %s", k, gj, wj)
		}
	}
}

// checkMeeting GETs the meeting the page scheduled, with the page's token,
// from Go: it exists and is the caller's.
func checkMeeting(t *testing.T, base string, out map[string]any, subject string) {
	t.Helper()
	href, _ := out["meetingHref"].(string)
	tok, _ := out["token"].(string)
	r, _ := http.NewRequest("GET", base+href, nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	r.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m struct {
		Subject string `json:"subject"`
	}
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil || res.StatusCode != 200 || m.Subject != subject {
		t.Fatalf("GET %s: %d %q %v", href, res.StatusCode, m.Subject, err)
	}
}

// TestBrowserCORS: a page on an allowed origin signs in with fetch, reads
// the 401 challenge and the ETags through CORS, creates an application and
// schedules a meeting; a page on another origin is kept out by the browser.
func TestBrowserCORS(t *testing.T) {
	pages := pageServer(t)
	others := pageServer(t)
	m, user, password := startForBrowser(t, pages.URL)
	ctx := newBrowser(t)

	out := runPage(t, ctx, pages.URL+"/cors.html", m.URL, user, password)
	wantFields(t, out, map[string]any{
		"rootStatus": 200, "rootXframe": m.URL + httpapi.XFramePath,
		"challengeStatus": 401, "tokenStatus": 200, "appStatus": 201, "endpointId": "cors-endpoint",
		"meetingStatus": 201, "subject": "Scheduled from a browser (CORS)", "notFoundStatus": 404,
	})
	if c, _ := out["challenge"].(string); !strings.Contains(c, `MsRtcOAuth href="`+m.URL+`/WebTicket/oauthtoken"`) {
		t.Errorf("the page read the challenge %q", c)
	}
	if e, _ := out["meetingETag"].(string); e == "" || e != `"`+out["etag"].(string)+`"` {
		t.Errorf("the page read ETag %q for etag %v", e, out["etag"])
	}
	if e, _ := out["appETag"].(string); e == "" {
		t.Error("the page could not read the application's ETag")
	}
	if d, _ := out["notFoundDiagnostics"].(string); !strings.HasPrefix(d, "404;") {
		t.Errorf("the page read X-Ms-Diagnostics %q", d)
	}
	checkMeeting(t, m.URL, out, "Scheduled from a browser (CORS)")

	// Not on the list: the browser refuses the page the answers.
	out = runPage(t, ctx, others.URL+"/cors.html", m.URL, user, password)
	if e, _ := out["error"].(string); !strings.Contains(e, "TypeError") || out["rootStatus"] != nil {
		t.Errorf("a page on an origin not allowed got %v", out)
	}
}

// TestBrowserXFrame: a page on an allowed origin reaches the server only
// through the xframe page, speaking its postMessage protocol: discovery,
// sign-in, an application, a meeting and a batch; a page on another
// origin gets the Front End's 403 and reason through the same frame.
func TestBrowserXFrame(t *testing.T) {
	pages := pageServer(t)
	others := pageServer(t)
	m, user, password := startForBrowser(t, pages.URL)
	ctx := newBrowser(t)

	out := runPage(t, ctx, pages.URL+"/xframe.html", m.URL, user, password)
	wantFields(t, out, map[string]any{
		"rootStatus": 200, "xframeHref": m.URL + httpapi.XFramePath, "xframeStatus": 200,
		"challengeStatus": 401, "tokenStatus": 200, "appStatus": 201,
		"meetingStatus": 201, "subject": "Scheduled from a browser (xframe)",
		"batchStatus": 200, "batchStatuses": []string{"200", "201", "404"},
		"elsewhereStatus": 0,
	})
	h, _ := out["meetingHeaders"].(map[string]any)
	for _, name := range []string{"ETag", "Content-Type", "X-MS-UcwaVersion"} {
		if v, _ := h[name].(string); v == "" {
			t.Errorf("relayed headers lack %s: %v", name, slices.Collect(mapKeys(h)))
		}
	}
	checkMeeting(t, m.URL, out, "Scheduled from a browser (xframe)")

	out = runPage(t, ctx, others.URL+"/xframe.html", m.URL, user, password)
	wantFields(t, out, map[string]any{"rootStatus": 403})
	if d, _ := out["rootDiagnostics"].(string); !strings.Contains(d, `reason="Service does not allow a cross domain request from this origin."`) {
		t.Errorf("X-Ms-diagnostics through the frame: %q", d)
	}
}

func mapKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
