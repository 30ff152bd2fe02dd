package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
)

// wakes is a ucwad.Notifier that passes every application it is told of
// to a channel, for tests to wait on.
type wakes chan string

func (w wakes) Notify(appIDs []string) {
	for _, id := range appIDs {
		w <- id
	}
}

// awaitWake waits for the notifier to be told of app, skipping others.
func awaitWake(t *testing.T, w wakes, app string) {
	t.Helper()
	timeout := time.NewTimer(30 * time.Second) // a hang guard, not a measurement
	defer timeout.Stop()
	for {
		select {
		case id := <-w:
			if id == app {
				return
			}
		case <-timeout.C:
			t.Fatalf("never told of application %s", app)
		}
	}
}

// twoNodes opens two stores on one fresh schema, as two ucwad nodes would,
// each listening for the other's notifications.
func twoNodes(t *testing.T, opts Options) (a, b *DB, wa, wb wakes) {
	t.Helper()
	dsn := testDSN(t)
	wa, wb = make(wakes, 1024), make(wakes, 1024)
	oa, ob := opts, opts
	oa.Notifier, ob.Notifier = wa, wb
	// The periodic check would find the changes too; an hour leaves the
	// wake-ups to LISTEN/NOTIFY alone (the check's own test is
	// TestPeriodicCheck).
	if oa.PollInterval == 0 {
		oa.PollInterval, ob.PollInterval = time.Hour, time.Hour
	}
	return openTest(t, dsn, oa), openTest(t, dsn, ob), wa, wb
}

func newUser(t *testing.T, db *DB, sip string) *ucwad.User {
	t.Helper()
	u := &ucwad.User{SIP: sip, PasswordHash: "x"}
	if err := db.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func newApp(t *testing.T, db *DB, u *ucwad.User, agent string) *ucwad.Application {
	t.Helper()
	app, _, err := db.CreateApplication(t.Context(), &ucwad.Application{UserID: u.ID, UserAgent: agent, EndpointID: agent, Culture: "en-US"}, "")
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// A change committed through one node wakes the P-GET held on the other,
// through NOTIFY; a P-GET started on the second node replaces the first's.
func TestCrossNodeEvents(t *testing.T) {
	a, b, _, wb := twoNodes(t, Options{})
	ctx := t.Context()
	u := newUser(t, a, "alice@contoso.com")
	app := newApp(t, a, u, "agent")

	// Node B holds the P-GET: nothing waits yet.
	batch, err := b.ReadBatch(ctx, app.ID, "", 1, false, 0)
	if err != nil || !batch.Wait {
		t.Fatalf("first read on B = %+v, %v; want Wait", batch, err)
	}
	holdB := batch.Hold

	// The change commits through node A; B hears of it.
	if err := a.MakeApplicationAvailable(ctx, u.ID, app.ID); err != nil {
		t.Fatal(err)
	}
	awaitWake(t, wb, app.ID)
	batch, err = b.ReadBatch(ctx, app.ID, "", 1, false, holdB)
	if err != nil || len(batch.Events) != 2 {
		t.Fatalf("read on B after A's change = %+v, %v; want the two events of makeMeAvailable", batch, err)
	}

	// A P-GET starting on A takes the channel; B's held one is told and
	// reads that it was replaced.
	batch, err = b.ReadBatch(ctx, app.ID, "", 2, false, 0)
	if err != nil || !batch.Wait {
		t.Fatalf("second P-GET on B = %+v, %v; want Wait", batch, err)
	}
	holdB = batch.Hold
	batch, err = a.ReadBatch(ctx, app.ID, "", 2, false, 0)
	if err != nil || !batch.Wait {
		t.Fatalf("P-GET on A = %+v, %v; want Wait", batch, err)
	}
	awaitWake(t, wb, app.ID)
	batch, err = b.ReadBatch(ctx, app.ID, "", 2, false, holdB)
	if err != nil || !batch.Replaced {
		t.Fatalf("B's P-GET after A took the channel = %+v, %v; want Replaced", batch, err)
	}
}

// The periodic check finds what no notification told: here the listener
// is off, and only the check can wake node B.
func TestPeriodicCheck(t *testing.T) {
	dsn := testDSN(t)
	wb := make(wakes, 1024)
	a := openTest(t, dsn, Options{PollInterval: -1})
	b := openTest(t, dsn, Options{PollInterval: -1, Notifier: wb})
	u := newUser(t, a, "bob@contoso.com")
	app := newApp(t, a, u, "agent")
	if _, err := b.ReadBatch(t.Context(), app.ID, "", 1, false, 0); err != nil {
		t.Fatal(err)
	}
	if err := a.MakeApplicationAvailable(t.Context(), u.ID, app.ID); err != nil {
		t.Fatal(err)
	}
	if err := b.poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	awaitWake(t, wb, app.ID)
	// Seen once, never again.
	if err := b.poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-wb:
		t.Errorf("second check told of %s again", id)
	default:
	}
}

// Limits hold across nodes: parallel registrations through two stores
// against a limit of K give exactly K applications.
func TestLimitsAcrossNodes(t *testing.T) {
	const k, n = 5, 24
	a, b, _, _ := twoNodes(t, Options{Limits: ucwad.Limits{MaxApplicationsPerUser: k}})
	u := newUser(t, a, "carol@contoso.com")
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		db := a
		if i%2 == 1 {
			db = b
		}
		wg.Go(func() {
			_, _, err := db.CreateApplication(context.Background(), &ucwad.Application{UserID: u.ID, UserAgent: fmt.Sprint("agent", i), Culture: "en-US"}, "")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	ok, refused := 0, 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case ucwad.ErrorSubcode(err) == ucwad.SubTooManyApplications:
			refused++
		default:
			t.Errorf("CreateApplication: %v", err)
		}
	}
	if ok != k || refused != n-k {
		t.Errorf("%d created and %d refused; want exactly %d and %d", ok, refused, k, n-k)
	}
}

// Several nodes starting at once on an empty database apply the
// migrations once, in turn, under the advisory lock.
func TestConcurrentMigrations(t *testing.T) {
	dsn := testDSN(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			db, err := Open(context.Background(), dsn, Options{})
			if err == nil {
				err = db.CheckHealth(context.Background())
				db.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// CheckHealth passes on a migrated database and names the migrations when
// one is missing or unknown.
func TestCheckHealth(t *testing.T) {
	dsn := testDSN(t)
	db := openTest(t, dsn, Options{})
	ctx := t.Context()
	if err := db.CheckHealth(ctx); err != nil {
		t.Fatalf("CheckHealth on a migrated database: %v", err)
	}
	if _, err := db.pool.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (9999, 0)`); err != nil {
		t.Fatal(err)
	}
	var he *ucwad.HealthError
	if err := db.CheckHealth(ctx); !errors.As(err, &he) || he.Check != ucwad.CheckMigrations {
		t.Errorf("CheckHealth with an unknown migration = %v; want a migrations HealthError", err)
	}
	if _, err := db.pool.ExecContext(ctx, `DELETE FROM schema_migrations`); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckHealth(ctx); !errors.As(err, &he) || he.Check != ucwad.CheckMigrations {
		t.Errorf("CheckHealth with migrations missing = %v; want a migrations HealthError", err)
	}
}

// proxy forwards TCP connections to target until stopped, so that a test
// can take the database away from a store and give it back.
type proxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{addr: ln.Addr().String(), target: target}
	p.serve(ln)
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			d, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, d)
			p.mu.Unlock()
			go func() { io.Copy(d, c); d.Close() }()
			go func() { io.Copy(c, d); c.Close() }()
		}
	}()
}

// stop closes the listener and every connection: the database is gone.
func (p *proxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// restart listens again on the same address: the database is back.
func (p *proxy) restart(t *testing.T) {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.serve(ln)
}

// A store whose database goes away answers ServiceUnavailable, and serves
// again by itself once the database is back, with nothing lost.
func TestDatabaseLoss(t *testing.T) {
	dsn := testDSN(t)
	cfg, err := parseURL(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)))
	proxied := replaceHost(t, dsn, p.addr)
	db := openTest(t, proxied, Options{})
	ctx := t.Context()
	u := newUser(t, db, "dave@contoso.com")

	p.stop()
	_, err = db.FindUserByID(ctx, u.ID)
	if ucwad.ErrorCode(err) != ucwad.EServiceUnavailable {
		t.Errorf("read without the database: %v; want ServiceUnavailable", err)
	}
	err = db.CreateUser(ctx, &ucwad.User{SIP: "erin@contoso.com", PasswordHash: "x"})
	if ucwad.ErrorCode(err) != ucwad.EServiceUnavailable {
		t.Errorf("write without the database: %v; want ServiceUnavailable", err)
	}
	var he *ucwad.HealthError
	if err := db.CheckHealth(ctx); !errors.As(err, &he) || he.Check != ucwad.CheckDatabase {
		t.Errorf("CheckHealth without the database = %v; want a database HealthError", err)
	}

	p.restart(t)
	if got, err := db.FindUserByID(ctx, u.ID); err != nil || got.SIP != u.SIP {
		t.Fatalf("read once the database is back = %+v, %v", got, err)
	}
	if err := db.CreateUser(ctx, &ucwad.User{SIP: "erin@contoso.com", PasswordHash: "x"}); err != nil {
		t.Fatalf("write once the database is back: %v", err)
	}
	users, err := db.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sips []string
	for _, u := range users {
		sips = append(sips, u.SIP)
	}
	if want := []string{"dave@contoso.com", "erin@contoso.com"}; !slices.Equal(sips, want) {
		t.Errorf("users = %q; want %q", sips, want)
	}
}

// A meeting's roster and lobby are shared by nodes: the organizer joins
// through node A, a guest of another user through node B waits in the
// lobby, and the organizer's application on A hears of it and admits it
// through A; the guest's P-GET on B is woken, and both nodes show one
// roster.
func TestRosterAcrossNodes(t *testing.T) {
	a, b, wa, wb := twoNodes(t, Options{})
	ctx := t.Context()
	alice := newUser(t, a, "alice@contoso.com")
	bob := newUser(t, b, "bob@contoso.com")
	appA := newApp(t, a, alice, "alice-agent")
	appB := newApp(t, b, bob, "bob-agent")
	m := &ucwad.OnlineMeeting{UserID: alice.ID, MeetingSettings: ucwad.MeetingSettings{
		Subject: "Review", AccessLevel: "Locked", AutomaticLeaderAssignment: "Disabled",
		EntryExitAnnouncement: "Disabled", LobbyBypassForPhoneUsers: "Disabled", PhoneUserAdmission: "Disabled",
		ExpirationTime: time.Now().Add(time.Hour)}}
	if err := a.CreateMeeting(ctx, m); err != nil {
		t.Fatal(err)
	}
	join := func(db *DB, app *ucwad.Application, u *ucwad.User, name string) *ucwad.Invitation {
		t.Helper()
		inv, err := db.JoinMeeting(ctx, &ucwad.JoinRequest{ApplicationID: app.ID, MeetingID: m.ID, Importance: "Normal",
			OnlineMeetingURI: "sip:meeting;gruu;opaque=app:conf:focus:id:" + m.ID,
			Joiner:           ucwad.Joiner{UserID: u.ID, URI: "sip:" + u.SIP, Name: name}})
		if err != nil {
			t.Fatalf("%s joins: %v", name, err)
		}
		return inv
	}
	invA := join(a, appA, alice, "Alice")
	// Bob's channel is held on B before he waits in the lobby.
	if _, err := b.ReadBatch(ctx, appB.ID, "", 1, false, 0); err != nil {
		t.Fatal(err)
	}
	invB := join(b, appB, bob, "Bob")
	if invB.ConversationID != invA.ConversationID || invB.State != ucwad.InvitationConnecting {
		t.Fatalf("bob's invitation %+v; want him waiting in alice's conversation %s", invB, invA.ConversationID)
	}
	// Alice's node hears that someone waits.
	awaitWake(t, wa, appA.ID)
	_, ps, err := a.Roster(ctx, appA.ID, invA.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	var bobID string
	for _, p := range ps {
		if p.Name == "Bob" && p.InLobby {
			bobID = p.ID
		}
	}
	if bobID == "" {
		t.Fatalf("node A's roster %+v lacks Bob in the lobby", ps)
	}
	if err := a.ChangeParticipant(ctx, appA.ID, invA.ConversationID, bobID, ucwad.ActionAdmit); err != nil {
		t.Fatal(err)
	}
	// Bob's node hears he was let in, and shows both admitted.
	awaitWake(t, wb, appB.ID)
	_, ps, err = b.Roster(ctx, appB.ID, invB.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ps {
		if p.InLobby {
			t.Errorf("%s is still in the lobby on node B", p.Name)
		}
		names = append(names, p.Name)
	}
	if !slices.Equal(names, []string{"Alice", "Bob"}) {
		t.Errorf("node B's roster %q; want Alice and Bob", names)
	}
	if inv, err := b.FindInvitation(ctx, appB.ID, invB.ID); err != nil || inv.State != ucwad.InvitationConnected {
		t.Errorf("bob's invitation on node B: %+v, %v; want Connected", inv, err)
	}
}

// Sweeps run on every node at once: two nodes expiring the same idle
// applications together delete each exactly once, without an error.
func TestSweepsOnEveryNode(t *testing.T) {
	a, b, _, _ := twoNodes(t, Options{})
	u := newUser(t, a, "frank@contoso.com")
	var want []string
	for i := range 10 {
		want = append(want, newApp(t, a, u, fmt.Sprint("agent", i)).ID)
	}
	cutoff := time.Now().Add(time.Hour) // every application is idle by then
	var wg sync.WaitGroup
	got := make([][]string, 2)
	errs := make([]error, 2)
	for i, db := range []*DB{a, b} {
		wg.Go(func() { got[i], errs[i] = db.ExpireApplications(context.Background(), cutoff, nil) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("ExpireApplications: %v", err)
		}
	}
	all := append(slices.Clone(got[0]), got[1]...)
	slices.Sort(all)
	slices.Sort(want)
	if !slices.Equal(all, want) {
		t.Errorf("the nodes expired %q and %q; want each of %q exactly once", got[0], got[1], want)
	}
	if n, err := a.DeleteExpiredTokens(context.Background()); err != nil || n != 0 {
		t.Errorf("DeleteExpiredTokens = %d, %v", n, err)
	}
}
