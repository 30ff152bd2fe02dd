package httpapi_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/httpapi"
	"github.com/ucwad/ucwad/sqlite"
	"github.com/ucwad/ucwad/ucwa"
)

// The attack benchmarks reproduce, at the default limits, the attacks the
// per-user bounds were built against: one user making the server store
// and hold a lot (database growth per request with many channels), one
// user's large writes delaying another user's small ones, and parallel
// GETs of the largest list the defaults allow. They run a real server on
// loopback over a SQLite file with the default configuration.

// attackServer is a server with users alice (the attacker) and bob.
type attackServer struct {
	b      *testing.B
	db     *sqlite.DB
	path   string
	srv    *httptest.Server
	client *http.Client
}

func newAttackServer(b *testing.B) *attackServer {
	b.Helper()
	ctx := context.Background()
	hub := httpapi.NewHub()
	path := filepath.Join(b.TempDir(), "ucwad.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{Notifier: hub})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	hasher := auth.NewHasher(auth.TestParams, 2)
	for _, name := range []string{"alice", "bob"} {
		h, err := hasher.Hash(ctx, "secret")
		if err != nil {
			b.Fatal(err)
		}
		if err := db.CreateUser(ctx, &ucwad.User{SIP: name + "@contoso.com", PasswordHash: h}); err != nil {
			b.Fatal(err)
		}
	}
	api := httpapi.New(httpapi.Config{}, httpapi.Deps{Store: db, Hasher: hasher, Hub: hub})
	srv := httptest.NewServer(api.Handler())
	b.Cleanup(func() { api.Shutdown(); srv.Close() })
	return &attackServer{b: b, db: db, path: path, srv: srv, client: benchClient(srv)}
}

// call sends one request and returns the status and the body; it may run
// on any goroutine.
func (a *attackServer) call(method, path, token, body string, header ...string) (int, []byte, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.srv.URL+path, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := a.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	return res.StatusCode, out, err
}

// discard sends one request, reads the answer to the end without keeping
// it, and returns the status; it may run on any goroutine.
func (a *attackServer) discard(method, path, token, body string, header ...string) (int, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.srv.URL+path, r)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := a.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, err = io.Copy(io.Discard, res.Body)
	return res.StatusCode, err
}

// must is call that fails the benchmark unless the status is want.
func (a *attackServer) must(want int, method, path, token, body string, header ...string) *ucwa.Resource {
	a.b.Helper()
	status, out, err := a.call(method, path, token, body, header...)
	if err != nil || status != want {
		a.b.Fatalf("%s %s: %d %v %.300s", method, path, status, err, out)
	}
	if len(out) == 0 {
		return nil
	}
	res, err := ucwa.Decode(bytes.NewReader(out), ucwa.JSON)
	if err != nil {
		a.b.Fatal(err)
	}
	return res
}

// token signs user in.
func (a *attackServer) token(user string) string {
	a.b.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {user + "@contoso.com"}, "password": {"secret"}}
	res, err := a.client.PostForm(a.srv.URL+"/WebTicket/oauthtoken", form)
	if err != nil {
		a.b.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil {
		a.b.Fatal(err)
	}
	return tok.AccessToken
}

// channels registers apps applications of the token's user with perApp
// channels each and returns the myOnlineMeetings href of the first.
func (a *attackServer) channels(token string, apps, perApp int) string {
	a.b.Helper()
	var first *ucwa.Resource
	for i := range apps {
		for c := range perApp {
			inst := ""
			if c > 0 {
				inst = fmt.Sprint("tab", c)
			}
			app := a.must(map[bool]int{true: http.StatusCreated, false: http.StatusOK}[c == 0], "POST", "/ucwa/oauth/v1/applications", token,
				fmt.Sprintf(`{"userAgent":"attack","endpointId":"ep%d","culture":"en-US","instanceId":%q}`, i, inst))
			if first == nil {
				first = app
			}
		}
	}
	l, _ := first.FindEmbedded("onlineMeetings")[0].FindLink("myOnlineMeetings")
	return l.Href
}

// sipURIs is n distinct SIP URIs of length each.
func sipURIs(n, length int, tag string) []string {
	out := make([]string, n)
	for i := range out {
		user := fmt.Sprintf("%s%d-", tag, i)
		user += strings.Repeat("u", length-len("sip:")-len("@contoso.com")-len(user))
		out[i] = "sip:" + user + "@contoso.com"
	}
	return out
}

// largestMeeting is the largest meeting body the default limits accept:
// a subject of 250 characters, a description of 8192, 1000 attendees and
// 1000 leaders filling their 32 KiB each (about 75 KB of JSON).
func largestMeeting(tag string) string {
	b, err := json.Marshal(map[string]any{
		"subject":     strings.Repeat("s", 250),
		"description": strings.Repeat("d", 8192),
		"attendees":   sipURIs(1000, 32, "a"+tag),
		"leaders":     sipURIs(1000, 32, "l"+tag),
	})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// largestExtension is an extension body of 64 KiB, the default limit,
// with the PUT sentinel named sentinel (none when empty).
func largestExtension(tag, sentinel string) string {
	s := ""
	if sentinel != "" {
		s = fmt.Sprintf(`,%q:%q`, sentinel, ucwa.PutSentinel)
	}
	return fmt.Sprintf(`{"id":"big","type":"RoamedOrganizerData","data":%q%s}`,
		tag+strings.Repeat("x", 64<<10-len("big")-len("RoamedOrganizerData")-len("data")-len(tag)), s)
}

// sentinelOf is the name of res's PUT sentinel.
func sentinelOf(res *ucwa.Resource) string {
	for _, p := range res.Props() {
		if p.Value.Str() == ucwa.PutSentinel {
			return p.Name
		}
	}
	return ""
}

// sqliteUsed is the database's pages in use, in bytes, as a second
// connection sees them (the WAL included).
func sqliteUsed(b *testing.B, path string) int64 {
	b.Helper()
	var used int64
	sqliteQuery(b, path, `SELECT (SELECT page_count FROM pragma_page_count) - (SELECT freelist_count FROM pragma_freelist_count)`, &used)
	var size int64
	sqliteQuery(b, path, `SELECT page_size FROM pragma_page_size`, &size)
	return used * size
}

// eventBytes is what the user's events hold, as the store counts them.
func (a *attackServer) eventBytes(b *testing.B, sip string) int64 {
	b.Helper()
	var n int64
	sqliteQuery(b, a.path, `SELECT event_bytes FROM users WHERE sip = '`+sip+`'`, &n)
	return n
}

// sqliteQuery runs a one-value query on a connection of its own.
func sqliteQuery(b *testing.B, path, query string, dst any) {
	b.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(query).Scan(dst); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkAttackGrowth is the storage attack: the user's writes of the
// largest size the defaults allow (a meeting POST, an extension PUT) with
// 64 channels that never read their events, against the same writes with
// one channel (the baseline in the same run). db-B/op is the database's
// growth per request; event-KiB is what the user's events hold at the end
// (bounded by limits.maxEventBytesPerUser). Run with -benchtime 200x.
func BenchmarkAttackGrowth(b *testing.B) {
	for _, kind := range []string{"meeting-post", "extension-put"} {
		for _, channels := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/channels=%d", kind, channels), func(b *testing.B) {
				a := newAttackServer(b)
				tok := a.token("alice")
				meetings := a.channels(tok, (channels+15)/16, min(channels, 16))
				var ext, sentinel string
				if kind == "extension-put" {
					m := a.must(http.StatusCreated, "POST", meetings, tok, `{}`)
					l, _ := m.FindLink("onlineMeetingExtensions")
					x := a.must(http.StatusCreated, "POST", l.Href, tok, largestExtension("0", ""))
					ext, sentinel = x.Href, sentinelOf(x)
				}
				bodies := make([]string, 8)
				for i := range bodies {
					if kind == "meeting-post" {
						bodies[i] = largestMeeting(strconv.Itoa(i))
					} else {
						bodies[i] = largestExtension(strconv.Itoa(i), sentinel)
					}
				}
				before := sqliteUsed(b, a.path)
				b.ResetTimer()
				for i := 0; b.Loop(); i++ {
					method, href, want := "POST", meetings, http.StatusCreated
					if kind == "extension-put" {
						method, href, want = "PUT", ext, http.StatusOK
					}
					if status, err := a.discard(method, href, tok, bodies[i%len(bodies)], "If-Match", "*"); err != nil || status != want {
						b.Fatalf("%s %s: %d %v", method, href, status, err)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(sqliteUsed(b, a.path)-before)/float64(b.N), "db-B/op")
				b.ReportMetric(float64(a.eventBytes(b, "alice@contoso.com"))/1024, "event-KiB")
			})
		}
	}
}

// BenchmarkAttackLatency is the stall attack: bob schedules small
// meetings one after the other (the measured requests) while alice, with
// 64 channels, sends the largest writes the defaults allow from four
// clients at once: two PUT a meeting of 530 KB, two PUT an extension of
// 64 KiB, each reading its answer to the end. The baseline in the same run
// is bob alone (quiet).
func BenchmarkAttackLatency(b *testing.B) {
	for _, attack := range []bool{false, true} {
		name := "quiet"
		if attack {
			name = "attack"
		}
		b.Run(name, func(b *testing.B) {
			a := newAttackServer(b)
			bob := a.token("bob")
			bobMeetings := a.channels(bob, 1, 1)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var attacks, failures atomic.Int64
			var firstFailure atomic.Value
			if attack {
				alice := a.token("alice")
				meetings := a.channels(alice, 4, 16)
				// Alice's meeting outlives the sweeps of bob's (8 hours).
				m := a.must(http.StatusCreated, "POST", meetings, alice,
					fmt.Sprintf(`{"expirationTime":"\\/Date(%d)\\/"}`, time.Now().AddDate(1, 0, 0).UnixMilli()))
				l, _ := m.FindLink("onlineMeetingExtensions")
				x := a.must(http.StatusCreated, "POST", l.Href, alice, largestExtension("0", ""))
				for w := range 4 {
					href, body := m.Href, withSentinel(largestMeeting(strconv.Itoa(w)), sentinelOf(m))
					if w >= 2 {
						href, body = x.Href, largestExtension(strconv.Itoa(w), sentinelOf(x))
					}
					wg.Go(func() {
						for {
							select {
							case <-stop:
								return
							default:
							}
							if status, err := a.discard("PUT", href, alice, body, "If-Match", "*"); err != nil || status != http.StatusOK {
								if failures.Add(1) == 1 {
									firstFailure.Store(fmt.Sprintf("worker %d: status %d, %v", w, status, err))
								}
							}
							attacks.Add(1)
						}
					})
				}
				time.Sleep(200 * time.Millisecond) // the attack in full swing before measuring
			}
			var lat []time.Duration
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if i%meetingsPerUser == meetingsPerUser-1 {
					b.StopTimer()
					if _, err := a.db.ExpireMeetings(context.Background(), time.Now().AddDate(0, 0, 1)); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				start := time.Now()
				if status, err := a.discard("POST", bobMeetings, bob, scheduleBody); err != nil || status != http.StatusCreated {
					b.Fatalf("bob's POST: %d %v", status, err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			close(stop)
			wg.Wait()
			if failures.Load() > 0 {
				b.Errorf("%d of the attacker's %d requests failed, the first: %v", failures.Load(), attacks.Load(), firstFailure.Load())
			}
			slices.Sort(lat)
			ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / 1e6 }
			b.ReportMetric(ms(0.5), "p50-ms")
			b.ReportMetric(ms(0.99), "p99-ms")
			b.ReportMetric(ms(1), "max-ms")
			b.ReportMetric(float64(attacks.Load())/b.Elapsed().Seconds(), "attacks/s")
		})
	}
}

// withSentinel adds the PUT sentinel named name to a JSON object body.
func withSentinel(body, name string) string {
	return strings.TrimSuffix(body, "}") + fmt.Sprintf(`,%q:%q}`, name, ucwa.PutSentinel)
}

// BenchmarkLargestList is four parallel GETs of the largest myOnlineMeetings
// the defaults allow: 1000 scheduled meetings and the assigned one, each
// of the largest size (largestMeeting) with 100 extensions whose ids have
// the largest length (256). peak-MiB is the process's peak resident set
// during the GETs (client included), idle-MiB the resident set before them
// (the baseline in the same run), answer-MB the size of one answer: an
// answer built whole in memory would cost at least that, four times. Run
// with -benchtime 1x (seeding takes a minute).
func BenchmarkLargestList(b *testing.B) {
	a := newAttackServer(b)
	tok := a.token("alice")
	meetings := a.channels(tok, 1, 1)
	ctx := context.Background()
	alice, err := a.db.FindUserBySIP(ctx, "alice@contoso.com")
	if err != nil {
		b.Fatal(err)
	}
	// Seeded through the store: the user's application is deleted first, so
	// that seeding appends no events.
	app := a.must(http.StatusOK, "POST", "/ucwa/oauth/v1/applications", tok, `{"userAgent":"attack","endpointId":"ep0","culture":"en-US"}`)
	var s ucwad.MeetingSettings
	if err := json.Unmarshal([]byte(largestMeeting("x")), &struct {
		Subject     *string   `json:"subject"`
		Description *string   `json:"description"`
		Attendees   *[]string `json:"attendees"`
		Leaders     *[]string `json:"leaders"`
	}{&s.Subject, &s.Description, &s.Attendees, &s.Leaders}); err != nil {
		b.Fatal(err)
	}
	s.AccessLevel, s.AutomaticLeaderAssignment, s.EntryExitAnnouncement = "SameEnterprise", "SameEnterprise", "Disabled"
	s.LobbyBypassForPhoneUsers, s.PhoneUserAdmission = "Disabled", "Disabled"
	s.ExpirationTime = time.Now().AddDate(1, 0, 0)
	a.must(http.StatusNoContent, "DELETE", app.Href, tok, "")
	if _, err := a.db.AssignedMeeting(ctx, alice.ID, s, ""); err != nil {
		b.Fatal(err)
	}
	var ids []string
	for range 1000 {
		m := &ucwad.OnlineMeeting{UserID: alice.ID, MeetingSettings: s}
		if err := a.db.CreateMeeting(ctx, m); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	assigned, err := a.db.AssignedMeeting(ctx, alice.ID, s, "")
	if err != nil {
		b.Fatal(err)
	}
	ids = append(ids, assigned.ID)
	for _, id := range ids {
		for j := range 100 {
			xid := fmt.Sprintf("%03d", j) + strings.Repeat("i", 253)
			if err := a.db.CreateExtension(ctx, alice.ID, &ucwad.Extension{MeetingID: id, ID: xid, Type: "RoamedOrganizerData"}); err != nil {
				b.Fatal(err)
			}
		}
	}
	app = a.must(http.StatusCreated, "POST", "/ucwa/oauth/v1/applications", tok, `{"userAgent":"attack","endpointId":"ep0","culture":"en-US"}`)
	l, _ := app.FindEmbedded("onlineMeetings")[0].FindLink("myOnlineMeetings")
	meetings = l.Href

	runtime.GC()
	debug.FreeOSMemory()
	idle := procStatus(b, "VmRSS")
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Skipf("cannot reset the peak resident set: %v", err)
	}
	var size atomic.Int64
	b.ResetTimer()
	for b.Loop() {
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				req, _ := http.NewRequest("GET", a.srv.URL+meetings, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Accept", "application/json")
				res, err := a.client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				defer res.Body.Close()
				n, err := io.Copy(io.Discard, res.Body)
				if err != nil || res.StatusCode != http.StatusOK {
					b.Errorf("GET myOnlineMeetings: %d after %d bytes, %v", res.StatusCode, n, err)
				}
				size.Store(n)
			})
		}
		wg.Wait()
	}
	b.StopTimer()
	b.ReportMetric(float64(procStatus(b, "VmHWM"))/(1<<20), "peak-MiB")
	b.ReportMetric(float64(idle)/(1<<20), "idle-MiB")
	b.ReportMetric(float64(size.Load())/1e6, "answer-MB")
}

// procStatus reads a size in bytes from /proc/self/status.
func procStatus(b *testing.B, field string) int64 {
	b.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatalf("no %s in /proc/self/status", field)
	return 0
}
