package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/httpapi"
	"github.com/ucwad/ucwad/sqlite"
	"github.com/ucwad/ucwad/ucwa"
)

// The benchmarks measure whole requests over real HTTP on loopback, client
// included, against a server on a SQLite file with the default durability
// (synchronous=NORMAL). Compression is off on the client, as it is for the
// baseline, so both measure the same transport work.

// benchMetrics runs the benchmarks' servers with Prometheus metrics, so
// that a run with and a run without them, alternated, measure what
// counting costs (docs/benchmarks.md).
var benchMetrics = flag.Bool("metrics", false, "benchmark servers keep Prometheus metrics")

// benchServer is a server with one signed-in user and an application.
type benchServer struct {
	b      *testing.B
	client *http.Client
	base   string
	token  string
	app    *ucwa.Resource
	db     *sqlite.DB
	appID  string
	ack    int64
}

func newBenchServer(b *testing.B) *benchServer {
	b.Helper()
	ctx := context.Background()
	hub := httpapi.NewHub()
	// The benchmarks create more meetings and extensions than a user may.
	limits := ucwad.Limits{MaxMeetingsPerUser: 1 << 30, MaxExtensionsPerMeeting: 1 << 30}
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "ucwad.db"), sqlite.Options{Notifier: hub, Limits: limits})
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
	cfg := httpapi.Config{Limits: limits}
	deps := httpapi.Deps{Store: db, Hasher: hasher, Hub: hub}
	if *benchMetrics {
		deps.Metrics = prometheus.NewRegistry()
	}
	api := httpapi.New(cfg, deps)
	srv := httptest.NewServer(api.Handler())
	b.Cleanup(func() { api.Shutdown(); srv.Close() })
	s := &benchServer{b: b, client: benchClient(srv), base: srv.URL, db: db, ack: 1}

	form := url.Values{"grant_type": {"password"}, "username": {"alice@contoso.com"}, "password": {"secret"}}
	body := s.do("POST", "/WebTicket/oauthtoken", "application/x-www-form-urlencoded", "", form.Encode(), http.StatusOK)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil {
		b.Fatal(err)
	}
	s.token = tok.AccessToken
	s.app = s.resource(s.do("POST", "/ucwa/oauth/v1/applications", "application/json", "application/json",
		`{"userAgent":"bench","endpointId":"b","culture":"en-US"}`, http.StatusCreated))
	s.appID = strings.TrimPrefix(s.app.Href, "/ucwa/oauth/v1/applications/")
	return s
}

// pollEvery is how many writes a polling client lets pass between two
// reads of its event channel.
const pollEvery = 50

// poll reads and acknowledges the application's events, as a client's
// P-GET does, outside the measured time, every pollEvery calls. With
// poll false the events pile up to the channel's cap, as they do for a
// client that never reads them.
func (s *benchServer) poll(i int, poll bool) {
	if !poll || i%pollEvery != 0 {
		return
	}
	s.b.StopTimer()
	if _, err := s.db.ReadBatch(context.Background(), s.appID, "", s.ack, true, 0); err != nil {
		s.b.Fatal(err)
	}
	s.ack++
	s.b.StartTimer()
}

// eventReaders are the two kinds of client the write benchmarks model.
var eventReaders = []struct {
	name string
	poll bool
}{{"events-read", true}, {"events-unread", false}}

func benchClient(srv *httptest.Server) *http.Client {
	c := srv.Client()
	c.Transport.(*http.Transport).DisableCompression = true
	return c
}

// do sends one request and reads the whole answer, failing unless it has
// status want.
func (s *benchServer) do(method, path, contentType, accept, body string, want int) []byte {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.base+path, r)
	if err != nil {
		s.b.Fatal(err)
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res, err := s.client.Do(req)
	if err != nil {
		s.b.Fatal(err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		s.b.Fatal(err)
	}
	if res.StatusCode != want {
		s.b.Fatalf("%s %s: %d %s", method, path, res.StatusCode, out)
	}
	return out
}

func (s *benchServer) resource(body []byte) *ucwa.Resource {
	res, err := ucwa.Decode(bytes.NewReader(body), ucwa.JSON)
	if err != nil {
		s.b.Fatal(err)
	}
	return res
}

func (s *benchServer) myMeetings() string {
	l, _ := s.app.FindEmbedded("onlineMeetings")[0].FindLink("myOnlineMeetings")
	return l.Href
}

// scheduleBody is a meeting as client B schedules one, with attendees.
const scheduleBody = `{"subject":"Meeting created by alice","automaticLeaderAssignment":"SameEnterprise",` +
	`"attendees":["sip:johndoe@contoso.com","sip:janedoe@contoso.com"]}`

// meetingsPerUser is how many meetings BenchmarkScheduleMeeting lets a
// user hold before it deletes them all.
const meetingsPerUser = 500

// BenchmarkScheduleMeeting is POST myOnlineMeetings: a write transaction
// with its events, and the meeting rendered.
func BenchmarkScheduleMeeting(b *testing.B) {
	for _, ev := range eventReaders {
		b.Run("json/"+ev.name, func(b *testing.B) {
			s := newBenchServer(b)
			href := s.myMeetings()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				s.poll(i, ev.poll)
				if i%meetingsPerUser == meetingsPerUser-1 {
					// A user of a realistic size: the default limit is 1000.
					b.StopTimer()
					if _, err := s.db.ExpireMeetings(context.Background(), time.Now().AddDate(20, 0, 0)); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				s.do("POST", href, "application/json", "application/json", scheduleBody, http.StatusCreated)
			}
		})
	}
}

// BenchmarkGetMeeting is GET myOnlineMeeting of a meeting with 10
// extensions, each with two properties of its own.
func BenchmarkGetMeeting(b *testing.B) {
	s := newBenchServer(b)
	m := s.resource(s.do("POST", s.myMeetings(), "application/json", "application/json", scheduleBody, http.StatusCreated))
	exts, _ := m.FindLink("onlineMeetingExtensions")
	for range 10 {
		s.do("POST", exts.Href, "application/json", "application/json",
			`{"type":"RoamedParticipantData","color":"blue","layout":"grid"}`, http.StatusCreated)
	}
	for _, f := range []struct{ name, accept string }{{"json", "application/json"}, {"xml", "application/xml"}} {
		b.Run(f.name+"/10-extensions", func(b *testing.B) {
			s.b = b
			b.ReportAllocs()
			for b.Loop() {
				s.do("GET", m.Href, "", f.accept, "", http.StatusOK)
			}
		})
	}
}

// extensionsPerMeeting is how many extensions BenchmarkPostExtension adds
// to one meeting before it moves on to a new one.
const extensionsPerMeeting = 50

// BenchmarkPostExtension is POST onlineMeetingExtensions with the seed
// page's bodies (the id left out, so that every one is new).
func BenchmarkPostExtension(b *testing.B) {
	for _, f := range []struct{ name, media, body string }{
		{"json", "application/json", `{"type":"RoamedParticipantData"}`},
		{"xml", "application/xml", `<?xml version="1.0" encoding="utf-8"?><input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa"><property name="type">RoamedParticipantData</property></input>`},
	} {
		for _, ev := range eventReaders {
			b.Run(f.name+"/"+ev.name, func(b *testing.B) {
				s := newBenchServer(b)
				var exts string
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					s.poll(i, ev.poll)
					if i%extensionsPerMeeting == 0 {
						// Meetings of a realistic size: the default limit is 100.
						b.StopTimer()
						m := s.resource(s.do("POST", s.myMeetings(), "application/json", "application/json", "{}", http.StatusCreated))
						l, _ := m.FindLink("onlineMeetingExtensions")
						exts = l.Href
						b.StartTimer()
					}
					s.do("POST", exts, f.media, f.media, f.body, http.StatusCreated)
				}
			})
		}
	}
}

// BenchmarkBaselineConstant is the read baseline: a bare net/http handler
// writing a constant body the size of the GET meeting answer, served and
// requested the same way.
func BenchmarkBaselineConstant(b *testing.B) {
	s := newBenchServer(b)
	m := s.resource(s.do("POST", s.myMeetings(), "application/json", "application/json", scheduleBody, http.StatusCreated))
	exts, _ := m.FindLink("onlineMeetingExtensions")
	for range 10 {
		s.do("POST", exts.Href, "application/json", "application/json", `{"type":"RoamedParticipantData","color":"blue","layout":"grid"}`, http.StatusCreated)
	}
	body := s.do("GET", m.Href, "", "application/json", "", http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer srv.Close()
	base := &benchServer{b: b, client: benchClient(srv), base: srv.URL, token: s.token}
	b.ReportAllocs()
	for b.Loop() {
		base.do("GET", "/", "", "application/json", "", http.StatusOK)
	}
}

// BenchmarkMetricsLayer serves the autodiscover root in process, without
// a network, so that what the metrics layer adds to a request (counting
// and timing it by route) stands out from the noise of a loopback round
// trip: "off" is a server without metrics, "on" one with them.
func BenchmarkMetricsLayer(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "ucwad.db"), sqlite.Options{PollInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			deps := httpapi.Deps{Store: db, Hasher: auth.NewHasher(auth.TestParams, 1)}
			if on {
				deps.Metrics = prometheus.NewRegistry() // a registry per server
			}
			h := httpapi.New(httpapi.Config{}, deps).Handler()
			r := httptest.NewRequest("GET", "http://lyncdiscover.contoso.com/Autodiscover/AutodiscoverService.svc/root", nil)
			r.Header.Set("Accept", "application/json")
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
