package httpapi_test

import (
	"context"
	"encoding/json"
	"flag"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/clock"
	"github.com/ucwad/ucwad/httpapi"
	"github.com/ucwad/ucwad/sqlite"
)

var heldCount = flag.Int("held", 1000, "P-GETs BenchmarkHeldPGetMemory holds at once")

// BenchmarkHeldPGetMemory holds -held P-GETs at once, each on its own raw
// connection, on a server with every layer (metrics, request log, gzip,
// CORS), and reports what each costs in this process: goroutines, stacks
// (once all are parked, and after two collections) and live heap after
// the collections; beside it, in the same run, a bare net/http handler
// holding the same requests until the client leaves. Each iteration is a
// fresh server; run it once: go test ./httpapi -run '^$' -bench
// HeldPGetMemory -benchtime 1x (docs/benchmarks.md, "Held P-GETs").
func BenchmarkHeldPGetMemory(b *testing.B) {
	n := *heldCount
	b.Run("ucwad", func(b *testing.B) {
		for range b.N {
			reqs, srv, parked := heldServer(b, n)
			measureHeld(b, srv, reqs, parked)
		}
	})
	b.Run("bare", func(b *testing.B) {
		for range b.N {
			started := make(chan struct{}, n)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				started <- struct{}{}
				<-r.Context().Done()
			}))
			reqs := make([]string, n)
			for i := range reqs {
				reqs[i] = "GET /ucwa/oauth/v1/applications/" + strconv.Itoa(i) + "/events?ack=1 HTTP/1.1\r\nHost: x\r\n" +
					"Authorization: Bearer " + strings.Repeat("t", 43) + "\r\nAccept: application/json\r\nAccept-Encoding: gzip\r\n\r\n"
			}
			measureHeld(b, srv, reqs, func() {
				for range n {
					<-started
				}
			})
			srv.Close()
		}
	})
}

// heldServer starts a server with one user holding n applications and
// returns the raw P-GET of each, and a function that returns once every
// P-GET is parked (its timeout armed on the fake clock).
func heldServer(b *testing.B, n int) ([]string, *httptest.Server, func()) {
	b.Helper()
	ctx := context.Background()
	clk := clock.NewFake(time.Now())
	hub := httpapi.NewHub()
	limits := ucwad.Limits{MaxApplicationsPerUser: n, MaxChannelsPerUser: n}
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "ucwad.db"), sqlite.Options{Clock: clk, Notifier: hub, PollInterval: -1, Limits: limits})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	hasher := auth.NewHasher(auth.TestParams, 2)
	h, err := hasher.Hash(ctx, "secret")
	if err != nil {
		b.Fatal(err)
	}
	if err := db.CreateUser(ctx, &ucwad.User{SIP: "alice@contoso.com", PasswordHash: h}); err != nil {
		b.Fatal(err)
	}
	api := httpapi.New(httpapi.Config{Limits: limits}, httpapi.Deps{Store: db, Hasher: hasher, Hub: hub, Clock: clk, Metrics: prometheus.NewRegistry()})
	srv := httptest.NewServer(api.Handler())
	b.Cleanup(func() { api.Shutdown(); srv.Close() })
	s := &benchServer{b: b, client: benchClient(srv), base: srv.URL}
	form := url.Values{"grant_type": {"password"}, "username": {"alice@contoso.com"}, "password": {"secret"}}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(s.do("POST", "/WebTicket/oauthtoken", "application/x-www-form-urlencoded", "", form.Encode(), http.StatusOK), &tok); err != nil {
		b.Fatal(err)
	}
	s.token = tok.AccessToken
	reqs := make([]string, n)
	for i := range reqs {
		app := s.resource(s.do("POST", "/ucwa/oauth/v1/applications", "application/json", "application/json",
			`{"userAgent":"bench","endpointId":"e`+strconv.Itoa(i)+`","culture":"en-US"}`, http.StatusCreated))
		events, ok := app.FindLink("events")
		if !ok {
			b.Fatal("application without an events link")
		}
		reqs[i] = "GET " + events.Href + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.token +
			"\r\nAccept: application/json\r\nAccept-Encoding: gzip\r\n\r\n"
	}
	s.client.CloseIdleConnections()
	return reqs, srv, func() { clk.WaitForTimers(n) }
}

// measureHeld sends each request on a connection of its own, waits until
// parked returns, and reports the process's growth per request.
func measureHeld(b *testing.B, srv *httptest.Server, reqs []string, parked func()) {
	b.Helper()
	addr := strings.TrimPrefix(srv.URL, "http://")
	var before, held, collected runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	g := runtime.NumGoroutine()
	conns := make([]net.Conn, len(reqs))
	for i, r := range reqs {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Write([]byte(r)); err != nil {
			b.Fatal(err)
		}
		conns[i] = c
	}
	parked()
	runtime.ReadMemStats(&held)
	g = runtime.NumGoroutine() - g
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&collected)
	per := func(a, z uint64) float64 { return (float64(z) - float64(a)) / float64(len(reqs)) }
	b.ReportMetric(float64(g)/float64(len(reqs)), "goroutines/held")
	b.ReportMetric(per(before.StackInuse, held.StackInuse), "stack-B/held")
	b.ReportMetric(per(before.StackInuse, collected.StackInuse), "stack-after-gc-B/held")
	b.ReportMetric(per(before.HeapAlloc, collected.HeapAlloc), "live-heap-B/held")
	for _, c := range conns {
		c.Close()
	}
}
