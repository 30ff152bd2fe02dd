package httpapi_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/httpapi"
	"github.com/ucwad/ucwad/postgres"
	"github.com/ucwad/ucwad/sqlite"
	"github.com/ucwad/ucwad/ucwa"
)

// The reads benchmark (docs/benchmarks.md, "Reads from memory") loads a
// server with concurrent clients over loopback, as wrk -c64 would, and
// beside each authenticated GET, in the same run, a bare net/http handler
// writing the same bytes with the same headers: the ratio of their
// requests per second and of their 99th percentiles is the figure.
var (
	readDuration = flag.Duration("readdur", 2*time.Second, "how long each target of BenchmarkReads is loaded per round")
	readRounds   = flag.Int("readrounds", 3, "rounds of BenchmarkReads, each loading every target once")
	readConns    = flag.Int("readconns", 64, "concurrent connections of BenchmarkReads")
)

// readTarget is one GET the benchmark loads.
type readTarget struct {
	name string
	url  string
	// bare serves the same answer from a bare handler.
	bare *httptest.Server
	// bareURL is the bare handler's URL.
	bareURL string
}

// BenchmarkReads loads GET of a meeting with 10 extensions, of its
// extensions (3.9 KB of JSON) and of the application, each beside a bare
// handler writing its answer, with the read cache on and (as before it
// existed) off, on SQLite and, when UCWAD_TEST_POSTGRES names a database,
// on PostgreSQL. Run it once: go test ./httpapi -run '^$' -bench
// BenchmarkReads -benchtime 1x.
func BenchmarkReads(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B, hub *httpapi.Hub, lim ucwad.Limits) ucwad.Store
	}{
		{"sqlite", func(b *testing.B, hub *httpapi.Hub, lim ucwad.Limits) ucwad.Store {
			db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "ucwad.db"), sqlite.Options{Notifier: hub, Limits: lim})
			if err != nil {
				b.Fatal(err)
			}
			return db
		}},
		{"postgres", func(b *testing.B, hub *httpapi.Hub, lim ucwad.Limits) ucwad.Store {
			db, err := postgres.Open(context.Background(), benchPostgresDSN(b), postgres.Options{Notifier: hub, Limits: lim})
			if err != nil {
				b.Fatal(err)
			}
			return db
		}},
	}
	for _, st := range stores {
		for _, cache := range []string{"cache", "nocache"} {
			b.Run(st.name+"/"+cache, func(b *testing.B) {
				hub := httpapi.NewHub()
				db := st.open(b, hub, ucwad.Limits{})
				b.Cleanup(func() { db.Close() })
				runReads(b, db, hub, cache == "nocache")
			})
		}
	}
}

// benchPostgresDSN is a DSN of a new schema of UCWAD_TEST_POSTGRES's
// database, dropped when b ends; b is skipped without one.
func benchPostgresDSN(b *testing.B) string {
	base := os.Getenv("UCWAD_TEST_POSTGRES")
	if base == "" {
		b.Skip("UCWAD_TEST_POSTGRES is not set")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		b.Fatal(err)
	}
	var r [6]byte
	rand.Read(r[:])
	schema := "bench_" + hex.EncodeToString(r[:])
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		b.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func runReads(b *testing.B, db ucwad.Store, hub *httpapi.Hub, noCache bool) {
	ctx, cancel := context.WithCancel(context.Background())
	hasher := auth.NewHasher(auth.TestParams, 2)
	h, err := hasher.Hash(ctx, "secret")
	if err != nil {
		b.Fatal(err)
	}
	if err := db.CreateUser(ctx, &ucwad.User{SIP: "alice@contoso.com", Name: "Alice", PasswordHash: h}); err != nil {
		b.Fatal(err)
	}
	api := httpapi.New(httpapi.Config{ReadCache: httpapi.ReadCacheConfig{Disabled: noCache}}, httpapi.Deps{Store: db, Hasher: hasher, Hub: hub})
	srv := httptest.NewServer(api.Handler())
	running := make(chan struct{})
	go func() { defer close(running); api.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-running; api.Shutdown(); srv.Close() })

	s := &benchServer{b: b, client: benchClient(srv), base: srv.URL}
	form := url.Values{"grant_type": {"password"}, "username": {"alice@contoso.com"}, "password": {"secret"}}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(s.do("POST", "/WebTicket/oauthtoken", "application/x-www-form-urlencoded", "", form.Encode(), http.StatusOK), &tok); err != nil {
		b.Fatal(err)
	}
	s.token = tok.AccessToken
	s.app = s.resource(s.do("POST", "/ucwa/oauth/v1/applications", "application/json", "application/json",
		`{"userAgent":"bench","endpointId":"b","culture":"en-US"}`, http.StatusCreated))
	m := s.resource(s.do("POST", s.myMeetings(), "application/json", "application/json", scheduleBody, http.StatusCreated))
	exts, _ := m.FindLink("onlineMeetingExtensions")
	for i := range 10 {
		s.do("POST", exts.Href, "application/json", "application/json",
			fmt.Sprintf(`{"id":"participant-data-%d","type":"RoamedParticipantData","color":"blue","layout":"grid","theme":"contoso-dark"}`, i), http.StatusCreated)
	}

	targets := []*readTarget{
		{name: "meeting", url: m.Href},
		{name: "extensions", url: exts.Href},
		{name: "application", url: s.app.Href},
	}
	for _, t := range targets {
		t.bare = bareLike(b, s, t.url)
		t.bareURL = t.bare.URL + "/"
	}
	// Warm up: each answer once, then the feed read at least once more.
	for _, t := range targets {
		s.do("GET", t.url, "", "application/json", "", http.StatusOK)
	}

	type result struct{ rps, p99 []float64 }
	results := map[string]*result{}
	load := func(name, target string, auth bool) {
		rps, p99 := loadGET(b, target, s.token, auth)
		r := results[name]
		if r == nil {
			r = &result{}
			results[name] = r
		}
		r.rps = append(r.rps, rps)
		r.p99 = append(r.p99, p99)
	}
	b.ResetTimer()
	for range *readRounds {
		for _, t := range targets {
			load("bare-"+t.name, t.bareURL, false)
			load(t.name, srv.URL+t.url, true)
		}
	}
	b.StopTimer()
	median := func(v []float64) float64 {
		v = slices.Clone(v)
		slices.Sort(v)
		return v[len(v)/2]
	}
	for _, t := range targets {
		got, bare := results[t.name], results["bare-"+t.name]
		ratios := make([]float64, len(got.rps))
		p99s := make([]float64, len(got.rps))
		for i := range got.rps {
			ratios[i] = got.rps[i] / bare.rps[i]
			p99s[i] = got.p99[i] / bare.p99[i]
		}
		b.ReportMetric(median(got.rps), t.name+"-req/s")
		b.ReportMetric(median(bare.rps), t.name+"-bare-req/s")
		b.ReportMetric(100*median(ratios), t.name+"-%-of-bare")
		b.ReportMetric(median(got.p99)*1000, t.name+"-p99-ms")
		b.ReportMetric(median(bare.p99)*1000, t.name+"-bare-p99-ms")
		b.ReportMetric(median(p99s), t.name+"-p99-x-bare")
	}
}

// bareLike is a bare net/http handler answering every request with what
// the server answers a GET of path: the same body, the same headers.
func bareLike(b *testing.B, s *benchServer, path string) *httptest.Server {
	req, _ := http.NewRequest("GET", s.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Accept", "application/json")
	res, err := s.client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d %v", path, res.StatusCode, err)
	}
	if _, err := ucwa.Decode(strings.NewReader(string(body)), ucwa.JSON); err != nil {
		b.Fatal(err)
	}
	header := res.Header.Clone()
	header.Del("Date")
	header.Set("Content-Length", fmt.Sprint(len(body)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range header {
			h[k] = v
		}
		w.Write(body)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// loadGET sends GETs of target from readConns connections for
// readDuration and returns the requests per second and the 99th
// percentile latency in seconds.
func loadGET(b *testing.B, target, token string, withAuth bool) (rps, p99 float64) {
	tr := &http.Transport{MaxIdleConnsPerHost: *readConns, MaxConnsPerHost: *readConns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	lat := make([][]time.Duration, *readConns)
	start := time.Now()
	end := start.Add(*readDuration)
	var failed sync.Once
	for i := range *readConns {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", target, nil)
			req.Header.Set("Accept", "application/json")
			if withAuth {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			for {
				t0 := time.Now()
				if t0.After(end) {
					return
				}
				res, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if err == nil && res.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", res.StatusCode)
					}
				}
				if err != nil {
					failed.Do(func() { b.Errorf("GET %s: %v", target, err) })
					return
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		b.Fatal("no request answered")
	}
	slices.Sort(all)
	return float64(len(all)) / elapsed.Seconds(), all[len(all)*99/100].Seconds()
}
