package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ucwad/ucwad/ucwa"
)

// probe is a /healthz or /readyz answer.
type probe struct {
	Status string `json:"status"`
	Check  string `json:"check"`
	Reason string `json:"reason"`
}

// getProbe GETs a probe endpoint and decodes its JSON answer.
func getProbe(t *testing.T, url string) (int, probe, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var p probe
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("GET %s: %d, body %q is not JSON: %v", url, res.StatusCode, b, err)
	}
	return res.StatusCode, p, string(b)
}

// scrapeMetrics GETs url (a /metrics endpoint) and parses the text
// exposition with Prometheus's own parser.
func scrapeMetrics(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, res.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parsing %s: %v", url, err)
	}
	return mfs
}

// requests is the value of ucwad_http_requests_total{route, status}.
func requests(mfs map[string]*dto.MetricFamily, route, status string) float64 {
	mf := mfs["ucwad_http_requests_total"]
	if mf == nil {
		return 0
	}
	for _, m := range mf.Metric {
		var r, s string
		for _, l := range m.Label {
			switch l.GetName() {
			case "route":
				r = l.GetValue()
			case "status":
				s = l.GetValue()
			}
		}
		if r == route && s == status {
			return m.Counter.GetValue()
		}
	}
	return 0
}

// TestOperatorEndpoints: by default /healthz, /readyz and /metrics answer
// on the main listener; /readyz answers 503 naming the failed check when
// the database applied a migration this binary does not know, lacks one,
// or is closed, and 200 again once the schema is current.
func TestOperatorEndpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ucwad.db")
	env, out, _ := testEnv("", nil)
	m := NewMain(env)
	if err := m.ParseFlags([]string{"--addr", "127.0.0.1:0", "--db", path}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The store is closed by the test itself; Close must still stop the rest.
	t.Cleanup(func() { m.Close() })
	if strings.Contains(out.String(), "Operator endpoints") {
		t.Errorf("an admin listener announced without --admin-addr:\n%s", out)
	}

	if code, p, _ := getProbe(t, m.URL+"/healthz"); code != http.StatusOK || p.Status != "ok" {
		t.Errorf("/healthz: %d %+v", code, p)
	}
	ready := func(what string) {
		t.Helper()
		if code, p, _ := getProbe(t, m.URL+"/readyz"); code != http.StatusOK || p.Status != "ok" {
			t.Errorf("/readyz %s: %d %+v", what, code, p)
		}
	}
	notReady := func(what, check, reason string) {
		t.Helper()
		code, p, body := getProbe(t, m.URL+"/readyz")
		if code != http.StatusServiceUnavailable || p.Status != "unavailable" || p.Check != check || !strings.Contains(p.Reason, reason) {
			t.Errorf("/readyz %s: %d %+v, want 503 naming %s (%q)", what, code, p, check, reason)
		}
		if strings.Contains(body, path) || strings.Contains(body, "sqlite") {
			t.Errorf("/readyz %s tells where the database is: %s", what, body)
		}
	}
	ready("on a fresh database")

	mfs := scrapeMetrics(t, m.URL+"/metrics")
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "ucwad_event_requests_held", "ucwad_events_written_total", "ucwad_http_requests_total"} {
		if mfs[name] == nil {
			t.Errorf("/metrics has no %s", name)
		}
	}
	if got := requests(mfs, "/healthz", "200"); got != 1 {
		t.Errorf("requests{route=/healthz,status=200} = %v, want 1", got)
	}

	// A second connection to the file changes what the server applied.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)`)
	notReady("with a newer binary's migration applied", "migrations", "9999")
	exec(`DELETE FROM schema_migrations WHERE version = 9999`)
	ready("with the schema current again")
	var latest int
	if err := db.QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&latest); err != nil {
		t.Fatal(err)
	}
	exec(`DELETE FROM schema_migrations WHERE version = ?`, latest)
	notReady("with the latest migration missing", "migrations", "not applied")
	exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)`, latest)
	ready("with the latest migration back")

	if err := m.Store.Close(); err != nil {
		t.Fatal(err)
	}
	notReady("with the database closed", "database", "does not answer")
	if code, p, _ := getProbe(t, m.URL+"/healthz"); code != http.StatusOK || p.Status != "ok" {
		t.Errorf("/healthz with the database closed: %d %+v (liveness checks only the process)", code, p)
	}
}

// TestAdminListener: --admin-addr moves the operator endpoints to their
// own listener, the main one then answering them with the UCWA 404 of any
// unknown path; --pprof serves the profiler there and only there; Close
// stops the admin listener too.
func TestAdminListener(t *testing.T) {
	for _, pprof := range []bool{false, true} {
		args := []string{"--db", filepath.Join(t.TempDir(), "ucwad.db"), "--admin-addr", "127.0.0.1:0"}
		if pprof {
			args = append(args, "--pprof")
		}
		m, out := startMain(t, args, nil)
		if m.AdminURL == "" || !strings.Contains(out.String(), "Operator endpoints") || !strings.Contains(out.String(), m.AdminURL) {
			t.Fatalf("admin listener not announced (AdminURL %q):\n%s", m.AdminURL, out)
		}
		status := func(url string) int {
			t.Helper()
			res, err := http.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			return res.StatusCode
		}
		for _, p := range []string{"/healthz", "/readyz", "/metrics", "/debug/pprof/", "/debug/pprof/cmdline"} {
			res, err := http.Get(m.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			reason, err := ucwa.DecodeReason(res.Body, ucwa.JSON)
			res.Body.Close()
			if res.StatusCode != http.StatusNotFound || err != nil || reason.Code != "NotFound" {
				t.Errorf("main listener %s: %d %+v %v, want the UCWA 404", p, res.StatusCode, reason, err)
			}
		}
		if code, p, _ := getProbe(t, m.AdminURL+"/healthz"); code != http.StatusOK || p.Status != "ok" {
			t.Errorf("admin /healthz: %d %+v", code, p)
		}
		if code, p, _ := getProbe(t, m.AdminURL+"/readyz"); code != http.StatusOK || p.Status != "ok" {
			t.Errorf("admin /readyz: %d %+v", code, p)
		}
		mfs := scrapeMetrics(t, m.AdminURL+"/metrics")
		if got := requests(mfs, "unmatched", "404"); got != 5 {
			t.Errorf("admin /metrics: the main listener's 404s counted %v times under unmatched, want 5", got)
		}
		want := http.StatusNotFound
		if pprof {
			want = http.StatusOK
		}
		for _, p := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/goroutine?debug=1"} {
			if got := status(m.AdminURL + p); got != want {
				t.Errorf("admin %s with pprof %t: %d, want %d", p, pprof, got, want)
			}
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if res, err := http.Get(m.AdminURL + "/healthz"); err == nil {
			res.Body.Close()
			t.Errorf("the admin listener still answers after Close: %d", res.StatusCode)
		}
	}
}

// TestAdminFlags: --pprof without --admin-addr is refused with a message
// saying why; both flags come from the environment like every other.
func TestAdminFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		vars map[string]string
		want string
	}{
		{[]string{"--pprof"}, nil, "--pprof needs --admin-addr"},
		{nil, map[string]string{"UCWAD_PPROF": "true"}, "--pprof needs --admin-addr"},
		{[]string{"--admin-addr", "nonsense"}, nil, "--admin-addr"},
		{[]string{"--addr", "127.0.0.1:8080", "--admin-addr", "127.0.0.1:8080"}, nil, "must differ"},
	} {
		env, _, _ := testEnv("", c.vars)
		err := NewMain(env).ParseFlags(c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseFlags(%q) with %v: %v, want an error saying %q", c.args, c.vars, err, c.want)
		}
	}
	env, _, _ := testEnv("", map[string]string{"UCWAD_ADMIN_ADDR": "127.0.0.1:9100", "UCWAD_PPROF": "true"})
	m := NewMain(env)
	if err := m.ParseFlags(nil); err != nil || m.Config.AdminAddr != "127.0.0.1:9100" || !m.Config.PProf {
		t.Errorf("from the environment: admin-addr %q pprof %t, %v", m.Config.AdminAddr, m.Config.PProf, err)
	}
	env, out, errb := testEnv("", nil)
	if err := Run(context.Background(), []string{"serve", "--help"}, env); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("serve --help: %v", err)
	}
	for _, f := range []string{"-admin-addr", "-pprof", "/healthz"} {
		if !strings.Contains(out.String()+errb.String(), f) {
			t.Errorf("serve --help does not mention %s", f)
		}
	}
}
