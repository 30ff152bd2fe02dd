package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape is one /metrics answer, parsed by Prometheus's own text parser.
type scrape map[string]*dto.MetricFamily

// scrape fetches the server's registry over HTTP, as Prometheus does, and
// parses the text exposition.
func (e *env) scrape() scrape {
	e.t.Helper()
	srv := httptest.NewServer(promhttp.HandlerFor(e.metrics, promhttp.HandlerOpts{}))
	defer srv.Close()
	r, err := http.NewRequest("GET", srv.URL, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	r.Header.Set("Accept", "text/plain")
	res, err := srv.Client().Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		e.t.Fatalf("parsing /metrics: %v", err)
	}
	return mfs
}

// value is the value of the series of family name whose labels are exactly
// labels: a counter's or gauge's value, a histogram's count. Absent: 0.
func (s scrape) value(name string, labels map[string]string) float64 {
	for _, m := range s.series(name) {
		if !sameLabels(m, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return 0
}

// series are the series of family name (none when it is absent).
func (s scrape) series(name string) []*dto.Metric {
	if mf := s[name]; mf != nil {
		return mf.Metric
	}
	return nil
}

// label returns the value of label name of m.
func label(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func sameLabels(m *dto.Metric, want map[string]string) bool {
	if len(m.Label) != len(want) {
		return false
	}
	for _, l := range m.Label {
		if v, ok := want[l.GetName()]; !ok || v != l.GetValue() {
			return false
		}
	}
	return true
}

const appRoute = "/ucwa/oauth/v1/applications/{app}"

// TestMetricsRequestsByRoute: a request is counted under its route's
// pattern and status, never its raw path; every path nothing is served at
// is counted under one label; a batch is one request, whatever it runs;
// a preflight is the CORS layer's.
func TestMetricsRequestsByRoute(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "metrics")
	for range 3 {
		s.do(req{method: "GET", url: s.app.Href}).wantStatus(t, http.StatusOK)
	}
	e.do(req{method: "GET", url: s.app.Href}).wantStatus(t, http.StatusUnauthorized)
	unknown := []string{"/nope", "/healthz", "/wp-login.php", "/a/b/c/d/e/f", s.app.Href + "/no/such/thing"}
	for _, p := range unknown {
		s.do(req{method: "GET", url: p}).wantStatus(t, http.StatusNotFound)
	}
	ct, body := batchBody(
		"GET "+s.app.Href+" HTTP/1.1\nAccept: application/json\n",
		"GET "+s.app.Href+"/nothing/here HTTP/1.1\nAccept: application/json\n",
	)
	s.batch(t, ct, body).parts(t)
	// A preflight is the CORS layer's, whatever path it names.
	e.do(req{method: "OPTIONS", url: s.app.Href, header: map[string]string{
		"Origin": "https://app.contoso.com", "Access-Control-Request-Method": "GET"}}).wantStatus(t, http.StatusNoContent)

	m := e.scrape()
	for _, c := range []struct {
		route, status string
		want          float64
	}{
		{"/WebTicket/oauthtoken", "200", 1},
		{"/ucwa/oauth/v1/applications", "201", 1},
		{appRoute, "200", 3},
		{appRoute, "401", 1},
		{"unmatched", "404", float64(len(unknown))},
		{appRoute + "/batch", "200", 1},
		{"cors", "204", 1},
	} {
		if got := m.value("ucwad_http_requests_total", map[string]string{"route": c.route, "status": c.status}); got != c.want {
			t.Errorf("requests{route=%q,status=%q} = %v, want %v", c.route, c.status, got, c.want)
		}
	}
	if got := m.value("ucwad_http_request_duration_seconds", map[string]string{"route": appRoute}); got != 4 {
		t.Errorf("latency histogram of %s counts %v requests, want 4", appRoute, got)
	}
	appID := strings.TrimPrefix(s.app.Href, "/ucwa/oauth/v1/applications/")
	unmatched := 0
	for _, series := range m.series("ucwad_http_requests_total") {
		r := label(series, "route")
		if strings.Contains(r, appID) || strings.Contains(r, "nope") || strings.Contains(r, "wp-login") {
			t.Errorf("route label %q holds a raw path", r)
		}
		if r == "unmatched" {
			unmatched++
		}
	}
	if unmatched != 1 {
		t.Errorf("%d series for unmatched paths, want 1", unmatched)
	}
}

// TestMetricsEvents: the held P-GET gauge goes up while a P-GET is held and
// down when it is answered; the events it delivers are counted, and so are
// the events the store wrote.
func TestMetricsEvents(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "metrics")
	if got := e.scrape().value("ucwad_event_requests_held", map[string]string{}); got != 0 {
		t.Fatalf("held P-GETs before any: %v", got)
	}
	written := e.scrape().value("ucwad_events_written_total", map[string]string{})
	p := s.startPGet(t, link(t, s.app, "events"), nil)
	e.waitTimers(heldTimers)
	if got := e.scrape().value("ucwad_event_requests_held", map[string]string{}); got != 1 {
		t.Errorf("held P-GETs while one is held: %v, want 1", got)
	}
	s.do(req{method: "POST", url: link(t, embedded(t, s.app, "me"), "makeMeAvailable")}).wantStatus(t, http.StatusNoContent)
	ev := p.wait().wantStatus(t, http.StatusOK).events(t)
	sent := 0
	for _, sender := range ev.Senders {
		sent += len(sender.Events)
	}
	if sent == 0 {
		t.Fatal("the P-GET delivered no events")
	}
	m := e.scrape()
	if got := m.value("ucwad_event_requests_held", map[string]string{}); got != 0 {
		t.Errorf("held P-GETs after the answer: %v, want 0", got)
	}
	if got := m.value("ucwad_events_delivered_total", map[string]string{}); got != float64(sent) {
		t.Errorf("events delivered %v, want %d", got, sent)
	}
	if got := m.value("ucwad_events_written_total", map[string]string{}) - written; got != float64(sent) {
		t.Errorf("events written grew by %v, want %d", got, sent)
	}
	if got := m.value("ucwad_http_requests_total", map[string]string{"route": appRoute + "/events", "status": "200"}); got != 1 {
		t.Errorf("event requests answered 200: %v, want 1", got)
	}
}

// TestMetricsSignInFailures counts each refused sign-in under its reason.
func TestMetricsSignInFailures(t *testing.T) {
	e := newEnv(t)
	post := func(form url.Values) *resp {
		return e.do(req{method: "POST", url: "/WebTicket/oauthtoken", body: form.Encode(),
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	}
	post(url.Values{"grant_type": {"password"}, "username": {"nobody@contoso.com"}, "password": {"x"}}).wantStatus(t, http.StatusBadRequest)
	post(url.Values{"grant_type": {"client_credentials"}}).wantStatus(t, http.StatusBadRequest)
	post(url.Values{"grant_type": {"password"}, "username": {"alice@contoso.com"}}).wantStatus(t, http.StatusBadRequest)
	// Wrong passwords until the account's schedule refuses one (the clock
	// stands still, so the first delay never passes).
	wrong, throttled := 0, false
	for range 20 {
		r := post(url.Values{"grant_type": {"password"}, "username": {"alice@contoso.com"}, "password": {"wrong"}})
		if r.StatusCode == http.StatusTooManyRequests {
			throttled = true
			break
		}
		r.wantStatus(t, http.StatusBadRequest)
		wrong++
	}
	if !throttled {
		t.Fatal("20 wrong passwords and the account was never throttled")
	}
	m := e.scrape()
	for reason, want := range map[string]float64{
		"unknown_user":           1,
		"unsupported_grant_type": 1,
		"invalid_request":        1,
		"wrong_password":         float64(wrong),
		"throttled_account":      1,
		"throttled_address":      0,
	} {
		if got := m.value("ucwad_signin_failures_total", map[string]string{"reason": reason}); got != want {
			t.Errorf("sign-in failures{reason=%q} = %v, want %v", reason, got, want)
		}
	}
}

// TestMetricsStoreErrors: a request that fails because the database is
// gone answers 500 and is counted as a store error.
func TestMetricsStoreErrors(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "metrics")
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	s.do(req{method: "GET", url: s.app.Href}).wantStatus(t, http.StatusInternalServerError)
	m := e.scrape()
	if got := m.value("ucwad_store_errors_total", map[string]string{"source": "request"}); got != 1 {
		t.Errorf("store errors of requests: %v, want 1", got)
	}
	if got := m.value("ucwad_http_requests_total", map[string]string{"route": appRoute, "status": "500"}); got != 1 {
		t.Errorf("requests{route=%q,status=500} = %v, want 1", appRoute, got)
	}
}
