package httpapi_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/httpapi"
	"github.com/ucwad/ucwad/sqlite"
	"github.com/ucwad/ucwad/ucwa"
)

// writeCallers is how many clients send writes at once in BenchmarkWrites,
// each a user of its own (one user's writes would wait for its own
// per-user write slots).
const writeCallers = 16

// BenchmarkWrites measures concurrent writes over real loopback HTTP
// beside their storage ceiling, in one run: "raw" is the same SQLite
// driver with the writer's pragmas inserting a meeting-sized row and an
// event row per transaction, one writer connection and writeCallers
// callers; "schedule" is POST myOnlineMeetings and "extension" POST
// onlineMeetingExtensions from writeCallers users at once, with group
// commit on and off. Each at --sync normal and full. req/s is the figure
// to compare; commits/op shows how many requests shared a commit.
func BenchmarkWrites(b *testing.B) {
	for _, sync := range []string{"normal", "full"} {
		b.Run("sync="+sync+"/raw", func(b *testing.B) { benchmarkRawWrites(b, sync) })
		for _, op := range []string{"schedule", "extension"} {
			for _, group := range []bool{false, true} {
				name := fmt.Sprintf("sync=%s/%s/group=%v", sync, op, map[bool]string{true: "on", false: "off"}[group])
				b.Run(name, func(b *testing.B) { benchmarkHTTPWrites(b, sync, op, group) })
			}
		}
	}
}

// rawMeeting is about what a scheduled meeting's row holds: client B's
// settings, two attendees, identifiers and times.
var rawMeeting = strings.Repeat("m", 400)

func benchmarkRawWrites(b *testing.B, sync string) {
	settle()
	ctx := context.Background()
	q := url.Values{"_pragma": {"busy_timeout(5000)", "foreign_keys(ON)", "journal_mode(WAL)",
		"synchronous(" + strings.ToUpper(sync) + ")", "journal_size_limit(16777216)", "wal_autocheckpoint(0)"},
		"_txlock": {"immediate"}}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "raw.db")+"?"+q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, stmt := range []string{
		`CREATE TABLE meetings (id TEXT PRIMARY KEY, user_id INTEGER NOT NULL, data TEXT NOT NULL) STRICT`,
		`CREATE TABLE events (seq INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, data TEXT NOT NULL) STRICT`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			b.Fatal(err)
		}
	}
	var user atomic.Int64
	b.SetParallelism(parallelism())
	cpu := processCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		u := user.Add(1)
		for pb.Next() {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				b.Error(err)
				return
			}
			id := ucwad.NewID()
			if _, err := tx.ExecContext(ctx, `INSERT INTO meetings (id, user_id, data) VALUES (?, ?, ?)`, id, u, rawMeeting); err != nil {
				b.Error(err)
				return
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO events (user_id, data) VALUES (?, ?)`, u, rawMeeting); err != nil {
				b.Error(err)
				return
			}
			if err := tx.Commit(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
}

// processCPU is the CPU time (user and system) the process has used: per
// operation, what it costs whatever else the machine runs, which req/s
// does not show on a shared machine.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// settle writes out what earlier benchmarks left in the page cache (the
// raw case's WAL is large), so that the kernel's writeback of it does not
// slow whichever case comes next.
func settle() { syscall.Sync() }

// parallelism is what b.SetParallelism needs for writeCallers goroutines.
func parallelism() int {
	return max(1, writeCallers/runtime.GOMAXPROCS(0))
}

// writeUser is one caller of benchmarkHTTPWrites: a signed-in user with an
// application.
type writeUser struct {
	token, meetings string
}

func benchmarkHTTPWrites(b *testing.B, sync, op string, group bool) {
	settle()
	ctx := context.Background()
	hub := httpapi.NewHub()
	limits := ucwad.Limits{MaxMeetingsPerUser: 1 << 30, MaxExtensionsPerMeeting: 1 << 30}
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "ucwad.db"),
		sqlite.Options{Notifier: hub, Limits: limits, Sync: sync, NoGroupCommit: !group})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	hasher := auth.NewHasher(auth.TestParams, 2)
	h, err := hasher.Hash(ctx, "secret")
	if err != nil {
		b.Fatal(err)
	}
	api := httpapi.New(httpapi.Config{Limits: limits}, httpapi.Deps{Store: db, Hasher: hasher, Hub: hub})
	srv := httptest.NewServer(api.Handler())
	defer func() { api.Shutdown(); srv.Close() }()
	client := srv.Client()
	tr := client.Transport.(*http.Transport)
	tr.DisableCompression = true
	tr.MaxIdleConnsPerHost = 2 * writeCallers

	users := make([]writeUser, writeCallers)
	for i := range users {
		sip := fmt.Sprintf("user%d@contoso.com", i)
		if err := db.CreateUser(ctx, &ucwad.User{SIP: sip, PasswordHash: h}); err != nil {
			b.Fatal(err)
		}
		s := &benchServer{b: b, client: client, base: srv.URL}
		form := url.Values{"grant_type": {"password"}, "username": {sip}, "password": {"secret"}}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.Unmarshal(s.do("POST", "/WebTicket/oauthtoken", "application/x-www-form-urlencoded", "", form.Encode(), http.StatusOK), &tok); err != nil {
			b.Fatal(err)
		}
		s.token = tok.AccessToken
		s.app = s.resource(s.do("POST", "/ucwa/oauth/v1/applications", "application/json", "application/json",
			`{"userAgent":"bench","endpointId":"b","culture":"en-US"}`, http.StatusCreated))
		users[i] = writeUser{token: s.token, meetings: s.myMeetings()}
	}

	var next atomic.Int64
	commits := db.WriteCommits()
	b.SetParallelism(parallelism())
	cpu := processCPU()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		u := users[int(next.Add(1)-1)%len(users)]
		post := func(href, body string) ([]byte, bool) {
			req, err := http.NewRequest("POST", srv.URL+href, strings.NewReader(body))
			if err != nil {
				b.Error(err)
				return nil, false
			}
			req.Header.Set("Authorization", "Bearer "+u.token)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json")
			res, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return nil, false
			}
			out, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil || res.StatusCode != http.StatusCreated {
				b.Errorf("POST %s: %d %s %v", href, res.StatusCode, out, err)
				return nil, false
			}
			return out, true
		}
		var exts string
		for i := 0; pb.Next(); i++ {
			if op == "schedule" {
				if _, ok := post(u.meetings, scheduleBody); !ok {
					return
				}
				continue
			}
			if i%extensionsPerMeeting == 0 {
				// A new meeting every 50 extensions (the default limit is
				// 100): one request in 50 is a schedule.
				out, ok := post(u.meetings, "{}")
				if !ok {
					return
				}
				m, err := ucwa.Decode(strings.NewReader(string(out)), ucwa.JSON)
				if err != nil {
					b.Error(err)
					return
				}
				l, _ := m.FindLink("onlineMeetingExtensions")
				exts = l.Href
				continue
			}
			if _, ok := post(exts, `{"type":"RoamedParticipantData"}`); !ok {
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(float64(db.WriteCommits()-commits)/float64(b.N), "commits/op")
	b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
}
