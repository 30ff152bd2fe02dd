package httpapi_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/httpapi"
	"github.com/ucwad/ucwad/ucwa"
	"github.com/ucwad/ucwad/ucwa/ucwatest"
)

const appOrigin = "https://app.contoso.com"

func allowApp(c *httpapi.Config) { c.AllowedOrigins = []string{appOrigin, "http://127.0.0.1:3000"} }

// corsHeaders returns the Access-Control-* headers of an answer.
func corsHeaders(r *resp) http.Header {
	h := http.Header{}
	for k, v := range r.Header {
		if strings.HasPrefix(k, "Access-Control-") {
			h[k] = v
		}
	}
	return h
}

// headerList splits a comma-separated header value into lower-cased names.
func headerList(v string) []string {
	var out []string
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// wantCORS checks the CORS headers of an ordinary answer to origin.
func wantCORS(t *testing.T, r *resp, origin string) {
	t.Helper()
	if got := r.Header.Get("Access-Control-Allow-Origin"); got != origin {
		t.Fatalf("%s %s: Access-Control-Allow-Origin %q, want %q", r.Request.Method, r.Request.URL, got, origin)
	}
	exposed := headerList(r.Header.Get("Access-Control-Expose-Headers"))
	for _, h := range []string{"www-authenticate", "location", "etag", "x-ms-diagnostics"} {
		if !slices.Contains(exposed, h) {
			t.Errorf("%s %s: %s not exposed (%q)", r.Request.Method, r.Request.URL, h, exposed)
		}
	}
	if !slices.Contains(headerList(strings.Join(r.Header.Values("Vary"), ",")), "origin") {
		t.Errorf("%s %s: no Vary: Origin", r.Request.Method, r.Request.URL)
	}
}

// TestCORSAnswers: every answer to an allowed origin carries the CORS
// headers, the 401 challenge included, so that a page can read
// WWW-Authenticate; other origins are served without them.
func TestCORSAnswers(t *testing.T) {
	e := newEnv(t, allowApp)
	o := map[string]string{"Origin": appOrigin}

	wantCORS(t, e.do(req{method: "GET", url: "/", header: o}).wantStatus(t, 200), appOrigin)
	ch := e.do(req{method: "GET", url: "/Autodiscover/AutodiscoverService.svc/root/oauth/user", header: o})
	ch.wantError(t, http.StatusUnauthorized, ucwad.EUnauthorized, "")
	wantCORS(t, ch, appOrigin)
	challengeTokenURL(t, ch)

	s := e.signIn("alice", "cors")
	created := s.do(req{method: "POST", url: s.myMeetings(t), body: `{"subject":"cors"}`,
		header: map[string]string{"Origin": appOrigin, "Content-Type": "application/json"}}).wantStatus(t, http.StatusCreated)
	wantCORS(t, created, appOrigin)
	nf := s.do(req{method: "GET", url: s.app.Href + "/nothing", header: o})
	nf.wantError(t, http.StatusNotFound, ucwad.ENotFound, ucwad.SubResourceNotFound)
	wantCORS(t, nf, appOrigin)

	// The other allowed origin, with an explicit port.
	wantCORS(t, e.do(req{method: "GET", url: "/", header: map[string]string{"Origin": "http://127.0.0.1:3000"}}), "http://127.0.0.1:3000")

	// Not on the list: served, but without CORS headers. One real client
	// sends its OAuth redirect URI, path included, as Origin.
	for _, other := range []string{"https://evil.example", "https://app.contoso.com.evil.example", "http://app.contoso.com",
		"https://app.contoso.com:8443", "https://app.contoso.com/oauth/callback", "null"} {
		r := s.do(req{method: "GET", url: s.app.Href, header: map[string]string{"Origin": other}}).wantStatus(t, http.StatusOK)
		if h := corsHeaders(r); len(h) != 0 {
			t.Errorf("Origin %s: CORS headers %v", other, h)
		}
	}
}

// TestCORSPreflight: a preflight is answered before authentication: from
// an allowed origin with the methods and headers UCWA clients use, from
// any other with no CORS header at all.
func TestCORSPreflight(t *testing.T) {
	e := newEnv(t, allowApp)
	preflight := func(origin, path, method, headers string) *resp {
		h := map[string]string{"Origin": origin, "Access-Control-Request-Method": method}
		if headers != "" {
			h["Access-Control-Request-Headers"] = headers
		}
		return e.do(req{method: "OPTIONS", url: path, header: h})
	}
	asked := "authorization, content-type, x-ms-requiresminresourceversion, x-ms-origin, x-ms-mediadiagnostics, x-requested-with, x-evil"
	for _, path := range []string{"/ucwa/oauth/v1/applications", "/WebTicket/oauthtoken",
		"/ucwa/oauth/v1/applications/whatever/onlineMeetings/myOnlineMeetings", "/no/such/path"} {
		r := preflight(appOrigin, path, "POST", asked).wantStatus(t, http.StatusNoContent)
		if r.Header.Get("Access-Control-Allow-Origin") != appOrigin {
			t.Fatalf("preflight %s: Allow-Origin %q", path, r.Header.Get("Access-Control-Allow-Origin"))
		}
		methods := headerList(r.Header.Get("Access-Control-Allow-Methods"))
		for _, m := range []string{"get", "post", "put", "delete"} {
			if !slices.Contains(methods, m) {
				t.Errorf("preflight %s: %s not allowed (%v)", path, m, methods)
			}
		}
		allowed := headerList(r.Header.Get("Access-Control-Allow-Headers"))
		for _, h := range []string{"authorization", "content-type", "x-ms-requiresminresourceversion", "x-ms-origin", "x-ms-mediadiagnostics", "x-requested-with", "if-match"} {
			if !slices.Contains(allowed, h) {
				t.Errorf("preflight %s: header %s not allowed (%v)", path, h, allowed)
			}
		}
		if slices.Contains(allowed, "x-evil") {
			t.Errorf("preflight %s allows x-evil", path)
		}
		if len(r.body) != 0 {
			t.Errorf("preflight body %q", r.body)
		}
	}
	for _, other := range []string{"https://evil.example", "null"} {
		r := preflight(other, "/ucwa/oauth/v1/applications", "POST", "authorization")
		r.wantStatus(t, http.StatusNoContent)
		if h := corsHeaders(r); len(h) != 0 {
			t.Errorf("preflight from %s: CORS headers %v", other, h)
		}
	}
	// With no list, nobody gets CORS headers.
	bare := newEnv(t)
	r := bare.do(req{method: "OPTIONS", url: "/ucwa/oauth/v1/applications", header: map[string]string{"Origin": appOrigin, "Access-Control-Request-Method": "POST"}})
	if h := corsHeaders(r); len(h) != 0 {
		t.Errorf("no allow-list: CORS headers %v", h)
	}
	wantRoot := bare.do(req{method: "GET", url: "/", header: map[string]string{"Origin": appOrigin}}).wantStatus(t, 200)
	if h := corsHeaders(wantRoot); len(h) != 0 {
		t.Errorf("no allow-list: CORS headers %v", h)
	}
}

// TestXMsOrigin: requests relayed by the xframe page name their page's
// origin in X-Ms-Origin; one that is not allowed is refused with 403 and
// the Front End's diagnostics reason, in the negotiated format, and
// changes nothing.
func TestXMsOrigin(t *testing.T) {
	e := newEnv(t, allowApp)
	tok := e.token("alice@contoso.com", "secret-alice")
	post := func(xo, accept string) *resp {
		return e.do(req{method: "POST", url: "/ucwa/oauth/v1/applications", body: `{"userAgent":"x","endpointId":"xo","culture":"en-US"}`,
			header: map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json", "Accept": accept, "X-Ms-Origin": xo}})
	}
	for _, tc := range []struct{ xo, accept string }{
		{"https://evil.example", "application/json"},
		{"https://evil.example", "application/xml"},
		{"null", "application/json"},
		{appOrigin + "/path", "application/json"},
	} {
		r := post(tc.xo, tc.accept)
		r.wantError(t, http.StatusForbidden, ucwad.EForbidden, "")
		if want := ucwa.XML; tc.accept == "application/xml" && r.format(t) != want {
			t.Errorf("X-Ms-Origin %s: %s answered in %s", tc.xo, tc.accept, r.Header.Get("Content-Type"))
		}
		diag := r.Header.Get("X-Ms-Diagnostics")
		if !strings.Contains(diag, `reason="Service does not allow a cross domain request from this origin."`) {
			t.Errorf("X-Ms-Origin %s: X-Ms-Diagnostics %q", tc.xo, diag)
		}
		if r.Header.Get("X-MS-UcwaVersion") != "2.0" {
			t.Errorf("403 without X-MS-UcwaVersion")
		}
	}
	// The token endpoint and discovery are checked too.
	e.do(req{method: "GET", url: "/", header: map[string]string{"X-Ms-Origin": "https://evil.example"}}).
		wantError(t, http.StatusForbidden, ucwad.EForbidden, "")

	// None of the refused requests created the application.
	post(appOrigin, "application/json").wantStatus(t, http.StatusCreated)
	// The server's own origin is not cross-domain.
	post(e.base, "application/json").wantStatus(t, http.StatusOK)
	// Two lines are not one origin.
	hr, _ := http.NewRequest("GET", e.base+"/", nil)
	hr.Header.Add("X-Ms-Origin", appOrigin)
	hr.Header.Add("X-Ms-Origin", "https://evil.example")
	res, err := e.srv.Client().Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("two X-Ms-Origin lines: %d", res.StatusCode)
	}
}

// TestXFramePage: the root links the xframe page only when an origin is
// allowed, and then the page is served with a policy that lets only its
// own script run and talk only to its own server.
func TestXFramePage(t *testing.T) {
	bare := newEnv(t)
	if root := bare.do(req{method: "GET", url: "/"}).resource(t); hasLink(root, "xframe") {
		t.Error("root links xframe with no origin allowed")
	}
	if bare.api.XFrame() != nil {
		t.Error("XFrame is served with no origin allowed")
	}

	e := newEnv(t, allowApp)
	root := e.do(req{method: "GET", url: "/"}).resource(t)
	if got := link(t, root, "xframe"); got != e.base+httpapi.XFramePath {
		t.Errorf("xframe link %q", got)
	}
	srv := httptest.NewServer(e.api.XFrame())
	t.Cleanup(srv.Close)
	get := func(method, path string) *http.Response {
		r, _ := http.NewRequest(method, srv.URL+path, nil)
		res, err := srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for _, p := range httpapi.XFramePaths {
		res := get("GET", p)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d", p, res.StatusCode)
		}
		csp := res.Header.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "default-src 'none'", "connect-src 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %q", p, csp, want)
			}
		}
		ct := res.Header.Get("Content-Type")
		if p == httpapi.XFrameScriptPath {
			if !strings.HasPrefix(ct, "text/javascript") || !bytes.Contains(body, []byte("X-Ms-Origin")) {
				t.Errorf("GET %s: %s %.60q", p, ct, body)
			}
			continue
		}
		if !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET %s: Content-Type %q", p, ct)
		}
		doc := ucwatest.ParseXML(t, body[bytes.Index(body, []byte("<html")):])
		var scripts []*ucwatest.Element
		var walk func(*ucwatest.Element)
		walk = func(el *ucwatest.Element) {
			if el.Name.Local == "script" {
				scripts = append(scripts, el)
			}
			for _, c := range el.Children {
				walk(c)
			}
		}
		walk(doc)
		if len(scripts) != 1 || scripts[0].Attr("src") != httpapi.XFrameScriptPath || scripts[0].Text != "" {
			t.Errorf("GET %s: scripts %v (want one, external)", p, scripts)
		}
	}
	res := get("POST", httpapi.XFramePath)
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Errorf("POST xframe: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

func hasLink(res *ucwa.Resource, rel string) bool {
	_, ok := res.FindLink(rel)
	return ok
}

// TestApplicationsOptions: a plain OPTIONS on applications answers the
// documented metadata, in JSON and XML, to a signed-in caller.
func TestApplicationsOptions(t *testing.T) {
	e := newEnv(t)
	tok := e.token("alice@contoso.com", "secret-alice")
	e.do(req{method: "OPTIONS", url: "/ucwa/oauth/v1/applications"}).wantError(t, http.StatusUnauthorized, ucwad.EUnauthorized, "")
	for _, f := range []struct {
		ext, accept string
		format      ucwa.Format
	}{{"json", "application/json", ucwa.JSON}, {"xml", "application/xml", ucwa.XML}} {
		r := e.do(req{method: "OPTIONS", url: "/ucwa/oauth/v1/applications",
			header: map[string]string{"Authorization": "Bearer " + tok, "Accept": f.accept}}).wantStatus(t, http.StatusOK)
		if r.format(t) != f.format {
			t.Fatalf("OPTIONS in %s answered %s", f.accept, r.Header.Get("Content-Type"))
		}
		ucwatest.Golden(t, "applicationsOptions."+f.ext, r.body)
		m, err := ucwa.DecodeOptions(bytes.NewReader(r.body), f.format)
		if err != nil {
			t.Fatal(err)
		}
		if len(m) != 2 || m[0].HTTPMethod != "POST" || m[1].HTTPMethod != "OPTIONS" {
			t.Fatalf("%s metadata %+v", f.ext, m)
		}
		var names []string
		for _, p := range m[0].Parameters {
			names = append(names, p.Name)
			if p.Name == "type" && !slices.Equal(p.SupportedValues, []string{"Browser"}) {
				t.Errorf("type supports %v", p.SupportedValues)
			}
		}
		if !slices.Equal(names, []string{"culture", "endpointId", "instanceId", "type", "userAgent"}) {
			t.Errorf("POST parameters %v", names)
		}
		if allow := r.Header.Get("Allow"); allow != "OPTIONS, POST" {
			t.Errorf("Allow %q", allow)
		}
	}
	r := e.do(req{method: "GET", url: "/ucwa/oauth/v1/applications", header: map[string]string{"Authorization": "Bearer " + tok}})
	r.wantError(t, http.StatusMethodNotAllowed, ucwad.EMethodNotAllowed, "")
	if allow := r.Header.Get("Allow"); allow != "OPTIONS, POST" {
		t.Errorf("405 Allow %q", allow)
	}
	// Elsewhere OPTIONS is no method of the resource.
	s := e.signIn("alice", "options")
	s.do(req{method: "OPTIONS", url: s.app.Href}).wantError(t, http.StatusMethodNotAllowed, ucwad.EMethodNotAllowed, "")
}
