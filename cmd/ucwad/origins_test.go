package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ucwad/ucwad/httpapi"
)

// TestAllowOriginFlag: --allow-origin repeats, UCWAD_ALLOW_ORIGIN takes a
// comma-separated list, origins come out in the form browsers send, flags
// win over the environment, and anything that is not an origin is refused
// with the reason.
func TestAllowOriginFlag(t *testing.T) {
	parse := func(vars map[string]string, args ...string) (*Main, error) {
		env, _, _ := testEnv("", vars)
		m := NewMain(env)
		return m, m.ParseFlags(args)
	}
	m, err := parse(nil, "--allow-origin", "https://App.Contoso.com", "--allow-origin", "http://localhost:3000/", "--allow-origin", "https://app.contoso.com:443")
	if err != nil || !slices.Equal(m.Config.AllowOrigins, originsFlag{"https://app.contoso.com", "http://localhost:3000"}) {
		t.Fatalf("repeated flags: %q %v", m.Config.AllowOrigins, err)
	}
	m, err = parse(map[string]string{"UCWAD_ALLOW_ORIGIN": "https://a.example, https://b.example:8443,"})
	if err != nil || !slices.Equal(m.Config.AllowOrigins, originsFlag{"https://a.example", "https://b.example:8443"}) {
		t.Fatalf("environment: %q %v", m.Config.AllowOrigins, err)
	}
	if !strings.Contains(m.Config.String(), `allow-origin="https://a.example,https://b.example:8443"`) {
		t.Errorf("start-up line %s", m.Config.String())
	}
	m, err = parse(map[string]string{"UCWAD_ALLOW_ORIGIN": "https://a.example"}, "--allow-origin", "https://c.example")
	if err != nil || !slices.Equal(m.Config.AllowOrigins, originsFlag{"https://c.example"}) {
		t.Fatalf("flag and environment: %q %v", m.Config.AllowOrigins, err)
	}
	m, err = parse(nil)
	if err != nil || len(m.Config.AllowOrigins) != 0 {
		t.Fatalf("default: %q %v", m.Config.AllowOrigins, err)
	}
	for _, bad := range []string{"app.contoso.com", "https://app.contoso.com/path", "ftp://app.contoso.com", "https://app.contoso.com?x=1", "*", "https://user@app.contoso.com"} {
		if _, err := parse(nil, "--allow-origin", bad); err == nil || !strings.Contains(err.Error(), "origin") {
			t.Errorf("--allow-origin %q: %v", bad, err)
		}
		if _, err := parse(map[string]string{"UCWAD_ALLOW_ORIGIN": "https://ok.example," + bad}); err == nil || !strings.Contains(err.Error(), "UCWAD_ALLOW_ORIGIN") {
			t.Errorf("UCWAD_ALLOW_ORIGIN with %q: %v", bad, err)
		}
	}
	env, _, errb := testEnv("", nil)
	Run(context.Background(), []string{"serve", "--help"}, env)
	if !strings.Contains(errb.String(), "-allow-origin") {
		t.Errorf("serve --help does not mention --allow-origin:\n%s", errb)
	}
}

// TestBatchLimitConfig: limits.maxOutstandingBatchRequests defaults to
// UCWA's 100 and must be positive.
func TestBatchLimitConfig(t *testing.T) {
	m, err := parseWithFile(t, `{"limits":{"maxOutstandingBatchRequests":20}}`)
	if err != nil || m.Config.File.Limits.MaxOutstandingBatchRequests != 20 {
		t.Fatalf("%+v %v", m.Config.File.Limits, err)
	}
	if DefaultFileConfig().Limits.MaxOutstandingBatchRequests != 100 {
		t.Errorf("default %d", DefaultFileConfig().Limits.MaxOutstandingBatchRequests)
	}
	if _, err := parseWithFile(t, `{"limits":{"maxOutstandingBatchRequests":0}}`); err == nil || !strings.Contains(err.Error(), "maxOutstandingBatchRequests") {
		t.Errorf("0: %v", err)
	}
}

// TestXFrameMounted: the binary serves the xframe page (and links it) only
// when an origin is allowed; otherwise its paths are UCWA's 404.
func TestXFrameMounted(t *testing.T) {
	get := func(url string) (*http.Response, string) {
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	bare, _ := startMain(t, []string{"--db", filepath.Join(t.TempDir(), "ucwad.db")}, nil)
	for _, p := range httpapi.XFramePaths {
		if res, _ := get(bare.URL + p); res.StatusCode != http.StatusNotFound || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Errorf("GET %s without --allow-origin: %d %s", p, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
	if _, root := get(bare.URL + "/"); strings.Contains(root, "xframe") {
		t.Errorf("root without --allow-origin links xframe: %s", root)
	}

	m, _ := startMain(t, []string{"--db", filepath.Join(t.TempDir(), "ucwad.db"), "--allow-origin", "https://app.contoso.com"}, nil)
	for _, p := range httpapi.XFramePaths {
		res, _ := get(m.URL + p)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: %d, CSP %q", p, res.StatusCode, res.Header.Get("Content-Security-Policy"))
		}
	}
	if _, root := get(m.URL + "/"); !strings.Contains(root, `"xframe":{"href":"`+m.URL+httpapi.XFramePath+`"}`) {
		t.Errorf("root: %s", root)
	}
	// CORS reaches the binary's whole URL space, the xframe page included.
	r, _ := http.NewRequest("OPTIONS", m.URL+"/ucwa/oauth/v1/applications", nil)
	r.Header.Set("Origin", "https://app.contoso.com")
	r.Header.Set("Access-Control-Request-Method", "POST")
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "https://app.contoso.com" {
		t.Errorf("preflight: %d %v", res.StatusCode, res.Header)
	}
}
