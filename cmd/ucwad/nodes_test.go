package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for the tests' own schema set-up

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
)

// pgDSN returns a PostgreSQL DSN whose search_path is a new, empty schema
// (dropped when t ends) of the database UCWAD_TEST_POSTGRES names, or skips
// t when it is not set (and fails it when UCWAD_REQUIRE_POSTGRES is).
func pgDSN(t *testing.T) string {
	t.Helper()
	base := os.Getenv("UCWAD_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("UCWAD_REQUIRE_POSTGRES") != "" {
			t.Fatal("UCWAD_TEST_POSTGRES is not set, and UCWAD_REQUIRE_POSTGRES says the PostgreSQL tests must run")
		}
		t.Skip("UCWAD_TEST_POSTGRES is not set: set it to a PostgreSQL URL (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) to run the multi-node tests")
	}
	return newSchema(t, base)
}

// newSchema creates a schema in the database base names and returns base
// with that schema as its search_path.
func newSchema(t *testing.T, base string) string {
	t.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(t.Context(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	// Registered first, so it runs after the servers' cleanups stopped
	// them.
	t.Cleanup(func() {
		admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("UCWAD_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// call makes an authenticated request to a server process and decodes a
// JSON answer into out (when not nil).
func call(t *testing.T, method, url, tok, body string, out any) (int, error) {
	t.Helper()
	var r *strings.Reader
	if body != "" {
		r = strings.NewReader(body)
	} else {
		r = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, url, r)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			return res.StatusCode, fmt.Errorf("%s %s: %d with an undecodable body: %v", method, url, res.StatusCode, err)
		}
	}
	return res.StatusCode, nil
}

// meetingsHref is the myOnlineMeetings collection of an application.
func meetingsHref(app processApp) string {
	return "/ucwa/oauth/v1/applications/" + app.ID + "/onlineMeetings/myOnlineMeetings"
}

// scheduled is what the tests read of a scheduled meeting, or of an
// error.
type scheduled struct {
	Links struct {
		Self struct {
			Href string `json:"href"`
		} `json:"self"`
	} `json:"_links"`
	Code    string `json:"code"`
	Subcode string `json:"subcode"`
}

// schedule schedules a meeting through p and returns its href.
func schedule(t *testing.T, p *serverProcess, app processApp, tok, subject string) string {
	t.Helper()
	var m scheduled
	status, err := call(t, "POST", p.base+meetingsHref(app), tok, `{"subject":"`+subject+`"}`, &m)
	if err != nil || status != http.StatusOK && status != http.StatusCreated || m.Links.Self.Href == "" {
		t.Fatalf("scheduling %q: %d %+v %v", subject, status, m, err)
	}
	return m.Links.Self.Href
}

// eventBatch is what the tests read of an event batch.
type eventBatch struct {
	Sender []struct {
		Rel    string `json:"rel"`
		Events []struct {
			Type string `json:"type"`
			Link struct {
				Rel  string `json:"rel"`
				Href string `json:"href"`
			} `json:"link"`
		} `json:"events"`
	} `json:"sender"`
	Code    string `json:"code"`
	Subcode string `json:"subcode"`
}

// hold starts a P-GET through p on the application's channel and returns
// its answer when it comes.
func hold(t *testing.T, p *serverProcess, app processApp, tok string) <-chan eventBatch {
	answer := make(chan eventBatch, 1)
	go func() {
		var b eventBatch
		status, err := call(t, "GET", p.base+app.Links.Events.Href+"&timeout=1800", tok, "", &b)
		if err != nil {
			t.Errorf("P-GET: %v", err)
		}
		if status != http.StatusOK && b.Code == "" {
			b.Code = fmt.Sprint(status)
		}
		answer <- b
	}()
	return answer
}

// TestTwoNodesOnePostgres: two server processes on one PostgreSQL
// database, as behind a load balancer. A client signs in and registers on
// node A, holds its P-GET on node B, schedules a meeting through A and
// hears of it on B (through LISTEN/NOTIFY: the periodic check is set to an
// hour). Then node A is killed with SIGKILL in the middle of a stream of
// writes, and node B serves every write A acknowledged.
func TestTwoNodesOnePostgres(t *testing.T) {
	db := pgDSN(t)
	a := startServerProcess(t, db)
	b := startServerProcess(t, db)
	tok := a.token(t)
	app := a.createApplication(t, tok)

	events := hold(t, b, app, tok)
	b.waitLog(t, "held")
	href := schedule(t, a, app, tok, "Planning")
	got := <-events
	found := false
	for _, s := range got.Sender {
		for _, e := range s.Events {
			if e.Type == "added" && e.Link.Href == href {
				found = true
			}
		}
	}
	if !found {
		t.Fatalf("the P-GET held on node B answered %+v; want the meeting %s scheduled through node A, added", got, href)
	}

	// Writes stream into node A from a few clients until it dies; each
	// one acknowledged (a 2xx that arrived) must be on node B afterwards.
	var mu sync.Mutex
	var acked []string
	enough := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				var m scheduled
				status, err := call(t, "POST", a.base+meetingsHref(app), tok, fmt.Sprintf(`{"subject":"w%d-%d"}`, w, i), &m)
				if err != nil {
					return // node A is gone
				}
				if status != http.StatusCreated && status != http.StatusOK {
					t.Errorf("scheduling through node A: %d %+v", status, m)
					return
				}
				mu.Lock()
				acked = append(acked, m.Links.Self.Href)
				if len(acked) == 20 {
					close(enough)
				}
				mu.Unlock()
			}
		})
	}
	<-enough
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for _, h := range acked {
		var m scheduled
		if status, err := call(t, "GET", b.base+h, tok, "", &m); err != nil || status != http.StatusOK {
			t.Errorf("meeting %s, acknowledged by node A before it was killed: node B answers %d %+v %v", h, status, m, err)
		}
	}
	t.Logf("%d writes acknowledged before the kill, all on node B", len(acked))
}

// TestPGetReplacedAcrossNodes is TestPGetReplacedAcrossServerProcesses on
// PostgreSQL: the older P-GET answers 409 PGetReplaced once a newer one
// starts on the other node.
func TestPGetReplacedAcrossNodes(t *testing.T) {
	pgetReplacedAcross(t, pgDSN(t))
}

// cluster is a private PostgreSQL server the test starts, stops and
// starts again.
type cluster struct {
	bin, dir string
	port     int
	as       []string // the command prefix running a command as its owner
}

// startCluster initialises and starts a PostgreSQL cluster in a temporary
// directory, on a free loopback port, from the binaries in UCWAD_PG_BIN
// or /usr/lib/postgresql/*/bin; it skips t when there are none (fails it
// under UCWAD_REQUIRE_POSTGRES). As root, the cluster runs as nobody:
// PostgreSQL refuses to run as root.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	bin := os.Getenv("UCWAD_PG_BIN")
	if bin == "" {
		dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
		slices.Sort(dirs)
		if len(dirs) > 0 {
			bin = dirs[len(dirs)-1]
		}
	}
	if _, err := os.Stat(filepath.Join(bin, "pg_ctl")); bin == "" || err != nil {
		if os.Getenv("UCWAD_REQUIRE_POSTGRES") != "" {
			t.Fatal("no PostgreSQL binaries (set UCWAD_PG_BIN), and UCWAD_REQUIRE_POSTGRES says the PostgreSQL tests must run")
		}
		t.Skip("no PostgreSQL binaries (initdb, pg_ctl) in UCWAD_PG_BIN or /usr/lib/postgresql/*/bin: this test starts and stops its own cluster")
	}
	dir, err := os.MkdirTemp("", "ucwad-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c := &cluster{bin: bin, dir: dir}
	if os.Geteuid() == 0 {
		if err := os.Chown(dir, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		c.as = []string{"runuser", "-u", "nobody", "--"}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c.run(t, "initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
	c.start(t)
	t.Cleanup(func() { c.cmd("pg_ctl", "-D", filepath.Join(dir, "data"), "-m", "immediate", "stop").Run() })
	return c
}

func (c *cluster) cmd(name string, args ...string) *exec.Cmd {
	argv := append(slices.Clone(c.as), filepath.Join(c.bin, name))
	argv = append(argv, args...)
	return exec.Command(argv[0], argv[1:]...)
}

func (c *cluster) run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := c.cmd(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

func (c *cluster) start(t *testing.T) {
	t.Helper()
	c.run(t, "pg_ctl", "-D", filepath.Join(c.dir, "data"), "-l", filepath.Join(c.dir, "log"), "-w",
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", c.port, c.dir), "start")
}

// stop shuts the server down as an operator's restart does: clients are
// disconnected, and nothing can connect until start.
func (c *cluster) stop(t *testing.T) {
	t.Helper()
	c.run(t, "pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", "fast", "-w", "stop")
}

func (c *cluster) dsn() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// TestPostgresRestartUnderTraffic stops PostgreSQL under a node serving
// writes and a held P-GET: the P-GET is answered, writes answer 503
// ServiceUnavailable with a UCWA body while it is down, the node serves
// again by itself once PostgreSQL is back, and every acknowledged write is
// there.
func TestPostgresRestartUnderTraffic(t *testing.T) {
	c := startCluster(t)
	node := startServerProcess(t, c.dsn())
	tok := node.token(t)
	app := node.createApplication(t, tok)
	// The application is an acknowledged write too.
	acked := []string{"/ucwa/oauth/v1/applications/" + app.ID}

	events := hold(t, node, app, tok)
	node.waitLog(t, "held")
	c.stop(t)

	// The held P-GET learns that the database went away.
	if got := <-events; got.Code != "ServiceUnavailable" {
		t.Errorf("the held P-GET answered %+v when the database stopped; want 503 ServiceUnavailable", got)
	}
	var m scheduled
	status, err := call(t, "POST", node.base+meetingsHref(app), tok, `{"subject":"while down"}`, &m)
	if err != nil || status != http.StatusServiceUnavailable || m.Code != "ServiceUnavailable" {
		t.Errorf("scheduling while the database is down: %d %+v %v; want 503 ServiceUnavailable", status, m, err)
	}

	c.start(t)
	// The first requests may still meet connections broken by the
	// restart: each answers 503 and is retried, as a client would.
	for i := 0; ; i++ {
		var m scheduled
		status, err := call(t, "POST", node.base+meetingsHref(app), tok, `{"subject":"after"}`, &m)
		if err != nil {
			t.Fatal(err)
		}
		if status == http.StatusCreated || status == http.StatusOK {
			acked = append(acked, m.Links.Self.Href)
			break
		}
		if status != http.StatusServiceUnavailable || m.Code != "ServiceUnavailable" || i == 100 {
			t.Fatalf("scheduling after the restart: %d %+v", status, m)
		}
	}
	for _, h := range acked {
		if status, err := call(t, "GET", node.base+h, tok, "", nil); err != nil || status != http.StatusOK {
			t.Errorf("meeting %s after the restart: %d %v", h, status, err)
		}
	}
}

// withPassword puts a password into a URL DSN: the test cluster trusts
// every local connection, so any password connects, and none may show.
func withPassword(t *testing.T, dsn, password string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), password)
	return u.String()
}

// TestUserCommandsPostgres: the user commands work on an empty PostgreSQL
// database (they apply the migrations), and the server reads what they
// wrote.
func TestUserCommandsPostgres(t *testing.T) {
	userCommands(t, pgDSN(t))
}

// TestMigrateCommand: ucwad migrate brings an empty database, SQLite or
// PostgreSQL, to the current schema and says so, never showing the
// password.
func TestMigrateCommand(t *testing.T) {
	for _, tc := range []struct{ name, db string }{
		{"sqlite", filepath.Join(t.TempDir(), "m.db")},
		{"postgres", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := tc.db
			if db == "" {
				db = withPassword(t, pgDSN(t), "hunter2")
			}
			env, out, errb := testEnv("", nil)
			if err := Run(t.Context(), []string{"migrate", "--db", db}, env); err != nil {
				t.Fatalf("migrate: %v %s", err, errb)
			}
			if !strings.Contains(out.String(), "is up to date") || strings.Contains(out.String()+errb.String(), "hunter2") {
				t.Errorf("migrate said %q %q", out, errb)
			}
			s, err := openStore(t.Context(), db, storeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if n, err := s.CountUsers(t.Context()); err != nil || n != 0 {
				t.Errorf("CountUsers after migrate = %d, %v", n, err)
			}
		})
	}
	// A database that does not answer: a clear error, without the
	// password.
	env, _, _ := testEnv("", nil)
	err := Run(t.Context(), []string{"migrate", "--db", "postgres://ucwad:hunter2@127.0.0.1:1/ucwad?connect_timeout=5"}, env)
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "ucwad:xxxxx@127.0.0.1:1") {
		t.Errorf("migrate against nothing: %v; want an error naming the database without its password", err)
	}
}

// addUser creates the user sip with password "pw" in the database db
// names (nothing when it exists already).
func addUser(t *testing.T, db, sip string) {
	t.Helper()
	store, err := openStore(t.Context(), db, storeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	h, _ := auth.NewHasher(auth.TestParams, 1).Hash(t.Context(), "pw")
	if err := store.CreateUser(t.Context(), &ucwad.User{SIP: sip, PasswordHash: h}); err != nil && ucwad.ErrorCode(err) != ucwad.EConflict {
		t.Fatal(err)
	}
}

// tokenFor signs sip (password "pw") in through p.
func tokenFor(t *testing.T, p *serverProcess, sip string) string {
	t.Helper()
	res, err := http.PostForm(p.base+"/WebTicket/oauthtoken", url.Values{"grant_type": {"password"}, "username": {sip}, "password": {"pw"}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token of %s: %d %v", sip, res.StatusCode, err)
	}
	return tok.AccessToken
}

// resource is what the tests read of a UCWA resource in JSON: its links
// and a few properties.
type resource struct {
	Links map[string]json.RawMessage `json:"_links"`
	State string                     `json:"state"`
	// Of a meeting.
	OnlineMeetingURI string `json:"onlineMeetingUri"`
	// Of a message.
	Direction string `json:"direction"`
	// Of an error.
	Code    string `json:"code"`
	Subcode string `json:"subcode"`
}

// link is the href of the link rel of r (the first, when several).
func (r *resource) link(t *testing.T, rel string) string {
	t.Helper()
	raw, ok := r.Links[rel]
	if !ok {
		t.Fatalf("no %s link among %v", rel, slices.Collect(maps.Keys(r.Links)))
	}
	var l struct {
		Href string `json:"href"`
	}
	if json.Unmarshal(raw, &l) != nil {
		var ls []struct {
			Href string `json:"href"`
		}
		if err := json.Unmarshal(raw, &ls); err != nil || len(ls) == 0 {
			t.Fatalf("link %s: %s", rel, raw)
		}
		l = ls[0]
	}
	return l.Href
}

// hrefs are the hrefs of the links rel of r (none, one or several).
func (r *resource) hrefs(t *testing.T, rel string) []string {
	t.Helper()
	raw, ok := r.Links[rel]
	if !ok {
		return nil
	}
	var ls []struct {
		Href string `json:"href"`
	}
	if json.Unmarshal(raw, &ls) != nil {
		return []string{r.link(t, rel)}
	}
	var out []string
	for _, l := range ls {
		out = append(out, l.Href)
	}
	return out
}

// send makes a request of type ctype (when body is not empty) through p,
// wants status, and returns the answer's Location and body decoded
// (when it has one).
func send(t *testing.T, p *serverProcess, tok, method, href, ctype, body string, status int) (string, *resource) {
	t.Helper()
	req, _ := http.NewRequest(method, p.base+href, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	if body != "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, href, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var r resource
	if len(b) > 0 {
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s %s: %d with an undecodable body %q: %v", method, href, res.StatusCode, b, err)
		}
	}
	if res.StatusCode != status {
		t.Fatalf("%s %s: %d %s, want %d", method, href, res.StatusCode, b, status)
	}
	return res.Header.Get("Location"), &r
}

// participantOf is one application of a meeting participant, served by
// one node.
type participantOf struct {
	name string
	node *serverProcess
	tok  string
	app  processApp
	// next is the href of its channel's next batch; conv and messaging
	// are its conversation's and its messaging's.
	next, conv, messaging string
}

// channelEvent is what the tests read of an event.
type channelEvent struct {
	Type   string `json:"type"`
	Status string `json:"status"`
	Link   struct {
		Rel  string `json:"rel"`
		Href string `json:"href"`
	} `json:"link"`
	Embedded map[string]*resource `json:"_embedded"`
}

// until reads p's channel through p's node, a batch after another (each
// request held until there is one), up to the event that match accepts,
// which it returns; the next batch starts after that event's batch. The
// context's deadline is a hang guard, not a measurement.
func (p *participantOf) until(t *testing.T, what string, match func(channelEvent) bool) channelEvent {
	t.Helper()
	e, err := p.await(t.Context(), match)
	if err != nil {
		t.Fatalf("%s waiting for %s: %v", p.name, what, err)
	}
	return e
}

// await is until for any goroutine: it returns what went wrong.
func (p *participantOf) await(ctx context.Context, match func(channelEvent) bool) (channelEvent, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", p.node.base+p.next, nil)
		req.Header.Set("Authorization", "Bearer "+p.tok)
		req.Header.Set("Accept", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return channelEvent{}, err
		}
		var b struct {
			Links struct {
				Next struct {
					Href string `json:"href"`
				} `json:"next"`
			} `json:"_links"`
			Sender []struct {
				Events []channelEvent `json:"events"`
			} `json:"sender"`
		}
		err = json.NewDecoder(res.Body).Decode(&b)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK || b.Links.Next.Href == "" {
			return channelEvent{}, fmt.Errorf("events answered %d, next %q, %v", res.StatusCode, b.Links.Next.Href, err)
		}
		p.next = b.Links.Next.Href
		for _, s := range b.Sender {
			for _, e := range s.Events {
				if match(e) {
					return e, nil
				}
			}
		}
	}
}

// TestMeetingMessagesAcrossNodes: two participants of one meeting, each
// served by its own node of one PostgreSQL database, exchange instant
// messages. Alice (node A) schedules the meeting and both join it and
// connect messaging, each through its node; bob's P-GET is held on node B
// when alice sends through node A, and it answers with her message,
// incoming; alice's P-GET on node A gets bob's answer. Each node then
// serves the other participant's messages: the conversation's messages
// are the same list, whichever node reads them.
func TestMeetingMessagesAcrossNodes(t *testing.T) {
	db := pgDSN(t)
	addUser(t, db, "bob@contoso.com")
	a := startServerProcess(t, db)
	b := startServerProcess(t, db)
	alice := &participantOf{name: "alice", node: a, tok: a.token(t)}
	bob := &participantOf{name: "bob", node: b, tok: tokenFor(t, b, "bob@contoso.com")}
	for _, p := range []*participantOf{alice, bob} {
		p.app = p.node.createApplication(t, p.tok)
		p.next = p.app.Links.Events.Href
	}

	_, m := send(t, a, alice.tok, "POST", meetingsHref(alice.app), "application/json",
		`{"subject":"Across nodes","accessLevel":"Invited","automaticLeaderAssignment":"Disabled","attendees":["sip:bob@contoso.com"]}`, http.StatusCreated)
	if m.OnlineMeetingURI == "" {
		t.Fatalf("the scheduled meeting has no onlineMeetingUri: %+v", m)
	}
	for _, p := range []*participantOf{alice, bob} {
		_, comm := send(t, p.node, p.tok, "GET", "/ucwa/oauth/v1/applications/"+p.app.ID+"/communication", "", "", http.StatusOK)
		inv, _ := send(t, p.node, p.tok, "POST", comm.link(t, "joinOnlineMeeting"), "application/json",
			fmt.Sprintf(`{"onlineMeetingUri":%q}`, m.OnlineMeetingURI), http.StatusCreated)
		p.until(t, "joining", func(e channelEvent) bool {
			return e.Type == "completed" && e.Link.Rel == "onlineMeetingInvitation" && e.Link.Href == inv
		})
		_, invitation := send(t, p.node, p.tok, "GET", inv, "", "", http.StatusOK)
		if invitation.State != "Connected" {
			t.Fatalf("%s's onlineMeetingInvitation: %+v; want Connected (invited, not in the lobby)", p.name, invitation)
		}
		p.conv = invitation.link(t, "conversation")
		_, conv := send(t, p.node, p.tok, "GET", p.conv, "", "", http.StatusOK)
		p.messaging = conv.link(t, "messaging")
		_, msg := send(t, p.node, p.tok, "GET", p.messaging, "", "", http.StatusOK)
		send(t, p.node, p.tok, "POST", msg.link(t, "addMessaging"), "application/json",
			fmt.Sprintf(`{"operationId":"op-%s"}`, p.name), http.StatusCreated)
		p.until(t, "messaging connected", func(e channelEvent) bool {
			return e.Type == "completed" && e.Link.Rel == "messagingInvitation"
		})
	}

	// exchange has from send text through its node while to's P-GET is
	// held on its own, and checks what each hears: to the message,
	// incoming, with the text; from its own completed message, outgoing.
	exchange := func(from, to *participantOf, text string, held func()) string {
		t.Helper()
		type heard struct {
			e   channelEvent
			err error
		}
		got := make(chan heard, 1)
		go func() {
			e, err := to.await(t.Context(), func(e channelEvent) bool { return e.Link.Rel == "message" })
			got <- heard{e, err}
		}()
		held()
		_, fromMsg := send(t, from.node, from.tok, "GET", from.messaging, "", "", http.StatusOK)
		loc, _ := send(t, from.node, from.tok, "POST", fromMsg.link(t, "sendMessage"), "text/plain; charset=utf-8", text, http.StatusCreated)
		h := <-got
		if h.err != nil {
			t.Fatalf("%s waiting for %s's message: %v", to.name, from.name, h.err)
		}
		e := h.e
		res := e.Embedded["message"]
		if e.Type != "completed" || e.Status != "Success" || res == nil || res.Direction != "Incoming" {
			t.Fatalf("%s heard %+v; want %s's message, completed Success, Incoming", to.name, e, from.name)
		}
		enc, ok := strings.CutPrefix(res.link(t, "plainMessage"), "data:text/plain;charset=utf-8,")
		if got, err := url.PathUnescape(enc); !ok || err != nil || got != text {
			t.Errorf("%s got the text %q; want %q", to.name, res.link(t, "plainMessage"), text)
		}
		own := from.until(t, "its own message", func(e channelEvent) bool { return e.Link.Rel == "message" })
		if own.Link.Href != loc || own.Embedded["message"] == nil || own.Embedded["message"].Direction != "Outgoing" {
			t.Errorf("%s's own message event %+v; want %s, Outgoing", from.name, own, loc)
		}
		return loc
	}
	// The first P-GET held on node B is bob's (the log says so), before
	// alice sends through node A.
	exchange(alice, bob, "Hello from node A", func() { b.waitLog(t, "held") })
	bobsLoc := exchange(bob, alice, "Hi from node B", func() {})

	// Either node serves either participant's messages. A message is kept
	// while its event is unread: alice's went once both read past it;
	// bob's is still there for both (neither asked for the next batch).
	_, bobsID := path.Split(bobsLoc)
	for _, p := range []*participantOf{alice, bob} {
		var lists [][]string
		for _, node := range []*serverProcess{a, b} {
			_, list := send(t, node, p.tok, "GET", p.messaging+"/messages", "", "", http.StatusOK)
			lists = append(lists, list.hrefs(t, "message"))
		}
		if len(lists[0]) != 1 || path.Base(lists[0][0]) != bobsID || !slices.Equal(lists[0], lists[1]) {
			t.Errorf("%s's messages: node A lists %q, node B %q; want bob's message %s on both", p.name, lists[0], lists[1], bobsID)
		}
	}
	_, own := send(t, a, bob.tok, "GET", bobsLoc, "", "", http.StatusOK)
	if own.Direction != "Outgoing" {
		t.Errorf("bob's message read through node A: %+v; want Outgoing", own)
	}
}
