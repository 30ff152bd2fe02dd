package httpapi_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/clock"
	"github.com/ucwad/ucwad/httpapi"
	"github.com/ucwad/ucwad/sqlite"
	"github.com/ucwad/ucwad/ucwa"
)

// pget starts a P-GET in the background; wait returns its answer.
type pget struct {
	ch chan *resp
}

func (s *session) startPGet(t *testing.T, href string, header map[string]string) *pget {
	t.Helper()
	p := &pget{ch: make(chan *resp, 1)}
	go func() { p.ch <- s.do(req{method: "GET", url: href, header: header}) }()
	return p
}

func (p *pget) wait() *resp { return <-p.ch }

// abandonable is a P-GET its client can give up (leave) while it is held.
type abandonable struct {
	cancel context.CancelFunc
	done   chan error
}

func (s *session) startAbandonable(href string) *abandonable {
	ctx, cancel := context.WithCancel(s.e.t.Context())
	hr, _ := http.NewRequestWithContext(ctx, "GET", s.e.base+href, nil)
	hr.Header.Set("Authorization", "Bearer "+s.token)
	a := &abandonable{cancel: cancel, done: make(chan error, 1)}
	go func() {
		res, err := s.e.srv.Client().Do(hr)
		if err == nil {
			res.Body.Close()
		}
		a.done <- err
	}()
	return a
}

// abandon leaves the request and waits until its client has given up.
func (a *abandonable) abandon(t *testing.T) {
	t.Helper()
	a.cancel()
	if err := <-a.done; err == nil {
		t.Fatal("the cancelled request was answered")
	}
}

// ackOf returns the ack parameter of an events href.
func ackOf(t *testing.T, href string) int64 {
	t.Helper()
	u, err := url.Parse(href)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseInt(u.Query().Get("ack"), 10, 64)
	if err != nil {
		t.Fatalf("href %q has no numeric ack", href)
	}
	return n
}

// heldTimers is how many clock timers one held P-GET arms (its timeout;
// activity while it is held is the sweep's business): waiting for them
// means the request is parked.
const heldTimers = 1

func TestEventReachesHeldPGet(t *testing.T) {
	for _, accept := range []string{"application/json", "application/vnd.microsoft.com.ucwa+xml"} {
		t.Run(accept, func(t *testing.T) {
			e := newEnv(t)
			s := e.signIn("alice", "ev")
			events := link(t, s.app, "events")
			if ackOf(t, events) != 1 {
				t.Fatalf("first events href %q", events)
			}
			h := map[string]string{"Accept": accept}
			p := s.startPGet(t, events, h)
			e.waitTimers(heldTimers)

			me := embedded(t, s.app, "me")
			s.do(req{method: "POST", url: link(t, me, "makeMeAvailable")}).wantStatus(t, http.StatusNoContent)

			r := p.wait().wantStatus(t, 200)
			if accept != "application/json" && r.format(t) != ucwa.XML {
				t.Fatalf("Content-Type %q for Accept %s", r.Header.Get("Content-Type"), accept)
			}
			ev := r.events(t)
			if ev.Next == "" || ackOf(t, ev.Next) != 2 || ev.Resync != "" {
				t.Fatalf("links self %q next %q resync %q", ev.Self, ev.Next, ev.Resync)
			}
			got := senderSummary(ev)
			want := []string{"me me updated " + s.app.Href + "/me", "communication communication updated " + s.app.Href + "/communication"}
			if !equalStrings(got, want) {
				t.Fatalf("events %q, want %q", got, want)
			}
			// Both events embed their resource as it is now (the request
			// was held before makeMeAvailable): me without makeMeAvailable.
			me, comm := ev.Senders[0].Events[0].Embedded, ev.Senders[1].Events[0].Embedded
			if me == nil || comm == nil {
				t.Fatalf("embedded me %v, communication %v", me, comm)
			}
			if me.Rel != "me" || me.Href != s.app.Href+"/me" || str(t, me, "uri") != "sip:alice@contoso.com" {
				t.Errorf("embedded me %q %q uri %q", me.Rel, me.Href, str(t, me, "uri"))
			}
			if _, ok := me.FindLink("makeMeAvailable"); ok {
				t.Error("embedded me still offers makeMeAvailable")
			}
			if comm.Rel != "communication" || comm.Href != s.app.Href+"/communication" {
				t.Errorf("embedded communication %q %q", comm.Rel, comm.Href)
			}
			if v, ok := comm.Get("supportedMessageFormats"); !ok || !equalStrings(v.StringsVal(), []string{"Plain", "Html"}) {
				t.Errorf("embedded communication supportedMessageFormats %v", v)
			}
		})
	}
}

// senderSummary flattens a batch to "senderRel linkRel type href" lines.
func senderSummary(ev *ucwa.EventBatch) []string {
	var out []string
	for _, s := range ev.Senders {
		for _, e := range s.Events {
			out = append(out, s.Rel+" "+e.Link.Rel+" "+e.Type+" "+e.Link.Href)
		}
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAckRedeliveryAndResync(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) { c.MinEventTimeout = time.Second })
	s := e.signIn("alice", "ack")
	events := link(t, s.app, "events")
	s.do(req{method: "POST", url: link(t, embedded(t, s.app, "me"), "makeMeAvailable")}).wantStatus(t, 204)

	// Events are waiting: the P-GET answers at once.
	first := s.do(req{method: "GET", url: events}).wantStatus(t, 200).events(t)
	if len(senderSummary(first)) != 2 {
		t.Fatalf("first batch %q", senderSummary(first))
	}
	// The answer was lost on the wire: asking for the same ack gives the same batch.
	again := s.do(req{method: "GET", url: events}).wantStatus(t, 200).events(t)
	if !equalStrings(senderSummary(again), senderSummary(first)) || again.Next != first.Next {
		t.Fatalf("re-delivery %q next %q, want %q next %q", senderSummary(again), again.Next, senderSummary(first), first.Next)
	}

	// Bad acks: resync to the first unacknowledged batch (1), and nothing else.
	for _, bad := range []string{"99", "0", "-3", "x", ""} {
		u := s.app.Href + "/events?ack=" + bad
		r := s.do(req{method: "GET", url: u}).wantStatus(t, 200).events(t)
		if r.Resync == "" || r.Next != "" || len(r.Senders) != 0 || ackOf(t, r.Resync) != 1 {
			t.Fatalf("ack=%q: resync %q next %q senders %d", bad, r.Resync, r.Next, len(r.Senders))
		}
		if r.Self != u { // the URL that was asked for
			t.Errorf("ack=%q: self %q, want %q", bad, r.Self, u)
		}
	}

	// Asking for 2 acknowledges 1; it times out empty after the channel's timeout.
	p := s.startPGet(t, first.Next+"&timeout=5", nil)
	e.waitTimers(heldTimers)
	e.clock.Advance(5 * time.Second)
	empty := p.wait().wantStatus(t, 200).events(t)
	if len(empty.Senders) != 0 || ackOf(t, empty.Next) != 3 {
		t.Fatalf("timeout answer: %d senders, next %q", len(empty.Senders), empty.Next)
	}
	// Batch 1 is gone now: asking for it is a resync to 2 (the empty batch, still unacknowledged).
	r := s.do(req{method: "GET", url: events}).wantStatus(t, 200).events(t)
	if r.Resync == "" || ackOf(t, r.Resync) != 2 {
		t.Fatalf("after ack: resync %q", r.Resync)
	}
	// The timeout is sticky: the next P-GET without the parameter also waits 5 s.
	p = s.startPGet(t, empty.Next, nil)
	e.waitTimers(heldTimers)
	e.clock.Advance(5 * time.Second)
	if ev := p.wait().wantStatus(t, 200).events(t); ackOf(t, ev.Next) != 4 {
		t.Fatalf("sticky timeout: next %q", ev.Next)
	}
}

func TestTimeoutIsClamped(t *testing.T) {
	// The test minimum is 2 s; a client asking for 1 s gets 2 s.
	e := newEnv(t, func(c *httpapi.Config) { c.MinEventTimeout = 2 * time.Second; c.DefaultEventTimeout = 3 * time.Second })
	s := e.signIn("alice", "clamp")
	p := s.startPGet(t, link(t, s.app, "events")+"&timeout=1&low=1&medium=99999&priority=1", nil)
	e.waitTimers(heldTimers)
	// Advance takes every timer that falls due off the clock before it
	// returns (their functions run later, in goroutines): counting the
	// pending timers tells exactly whether the timeout fell due.
	e.clock.Advance(1 * time.Second)
	if n := e.clock.Pending(); n != heldTimers {
		t.Fatalf("after 1 s %d timers pending, want %d: the 1 s timeout was not raised to the 2 s minimum", n, heldTimers)
	}
	e.clock.Advance(1 * time.Second)
	if n := e.clock.Pending(); n != heldTimers-1 {
		t.Fatalf("after 2 s %d timers pending, want %d: the timeout is not the 2 s minimum", n, heldTimers-1)
	}
	if ev := p.wait().wantStatus(t, 200).events(t); len(ev.Senders) != 0 || ackOf(t, ev.Next) != 2 {
		t.Fatalf("timeout answer: next %q, %d senders", ev.Next, len(ev.Senders))
	}
	// The low and medium windows were clamped too, and kept for the channel.
	u, err := e.store.FindUserBySIP(t.Context(), "alice@contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	app, err := e.store.FindApplication(t.Context(), u.ID, str(t, s.app, "id"), "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := app.Channel.Options, (ucwad.ChannelOptions{Timeout: 2, Low: 5, Medium: 1800}); got != want {
		t.Errorf("channel options %+v, want %+v", got, want)
	}
}

func TestPGetReplaced(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "rep")
	events := link(t, s.app, "events")
	a := s.startPGet(t, events, nil)
	e.waitTimers(heldTimers)

	// A newcomer with the same priority replaces the held request.
	b := s.startPGet(t, events, nil)
	a.wait().wantError(t, http.StatusConflict, ucwad.EConflict, ucwad.SubPGetReplaced)
	e.waitTimers(heldTimers)

	// A newcomer with a lower priority is refused; b stays.
	s.do(req{method: "GET", url: events + "&priority=-1"}).wantError(t, http.StatusConflict, ucwad.EConflict, ucwad.SubPGetReplaced)
	if e.hub.Held() != 1 {
		t.Fatalf("%d held, want 1", e.hub.Held())
	}
	// A higher priority replaces it.
	c := s.startPGet(t, events+"&priority=5", nil)
	b.wait().wantError(t, http.StatusConflict, ucwad.EConflict, ucwad.SubPGetReplaced)
	e.waitTimers(heldTimers)
	e.api.Shutdown()
	if ev := c.wait().wantStatus(t, 200).events(t); ev.Next == "" || len(ev.Senders) != 0 {
		t.Fatalf("shutdown answer next %q senders %d", ev.Next, len(ev.Senders))
	}
}

func TestMultiTabChannels(t *testing.T) {
	e := newEnv(t)
	tok := e.token("alice@contoso.com", "secret-alice")
	s := &session{e: e, token: tok}
	post := func(instance string, status int) *ucwa.Resource {
		body := `{"userAgent":"tabs","endpointId":"same","culture":"en-US","instanceId":"` + instance + `"}`
		r := s.do(req{method: "POST", url: "/ucwa/oauth/v1/applications", body: body,
			header: map[string]string{"Content-Type": "application/json", "X-MS-RequiresMinResourceVersion": "2"}})
		return r.wantStatus(t, status).resource(t)
	}
	tab1 := post("tab1", http.StatusCreated)
	tab2 := post("tab2", http.StatusOK) // same application, one more channel
	if str(t, tab1, "id") != str(t, tab2, "id") {
		t.Fatal("tabs of one application got different ids")
	}
	ev1, ev2 := link(t, tab1, "events"), link(t, tab2, "events")
	for _, tc := range []struct{ href, instance string }{{ev1, "tab1"}, {ev2, "tab2"}, {tab1.Href, "tab1"}} {
		u, _ := url.Parse(tc.href)
		if u.Query().Get("instanceId") != tc.instance {
			t.Errorf("%q does not address instance %s", tc.href, tc.instance)
		}
	}
	// Each tab holds its own P-GET; both get the application's events.
	p1 := s.startPGet(t, ev1, nil)
	p2 := s.startPGet(t, ev2, nil)
	e.waitTimers(2 * heldTimers)
	s.do(req{method: "POST", url: link(t, embedded(t, tab1, "me"), "makeMeAvailable")}).wantStatus(t, 204)
	for _, p := range []*pget{p1, p2} {
		if got := senderSummary(p.wait().wantStatus(t, 200).events(t)); len(got) != 2 {
			t.Errorf("tab events %q", got)
		}
	}
	// Deleting one tab keeps the other.
	s.do(req{method: "DELETE", url: tab1.Href}).wantStatus(t, 204)
	s.do(req{method: "GET", url: ev1}).wantError(t, 404, ucwad.ENotFound, ucwad.SubApplicationNotFound)
	s.do(req{method: "GET", url: tab2.Href}).wantStatus(t, 200)

	// Without an instanceId the application is addressed as a whole: its
	// default events link works although it was registered on tabs only, and
	// DELETE takes it with every tab.
	whole := s.do(req{method: "GET", url: "/ucwa/oauth/v1/applications/" + str(t, tab1, "id")}).wantStatus(t, 200).resource(t)
	// The default channel got makeMeAvailable's events too; read them first.
	first := s.do(req{method: "GET", url: link(t, whole, "events")}).wantStatus(t, 200).events(t)
	p := s.startPGet(t, first.Next, nil)
	e.waitTimers(heldTimers)
	s.do(req{method: "DELETE", url: whole.Href}).wantStatus(t, 204)
	p.wait().wantError(t, 404, ucwad.ENotFound, ucwad.SubApplicationNotFound)
	s.do(req{method: "GET", url: tab2.Href}).wantError(t, 404, ucwad.ENotFound, ucwad.SubApplicationNotFound)
	s.do(req{method: "GET", url: whole.Href}).wantError(t, 404, ucwad.ENotFound, ucwad.SubApplicationNotFound)
}

func TestApplicationExpiry(t *testing.T) {
	e := newEnv(t)
	idle := e.signIn("alice", "idle")
	busy := e.signIn("alice", "busy")
	held := busy.startPGet(t, link(t, busy.app, "events")+"&timeout=1800", nil)
	e.waitTimers(heldTimers)
	alice, err := e.store.FindUserBySIP(t.Context(), "alice@contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	exists := func(s *session) bool {
		_, err := e.store.FindApplication(t.Context(), alice.ID, str(t, s.app, "id"), "")
		return err == nil
	}

	e.clock.Advance(14 * time.Minute)
	if err := e.api.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !exists(idle) || !exists(busy) {
		t.Fatal("an application expired after 14 minutes")
	}
	e.clock.Advance(2 * time.Minute)
	if err := e.api.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	// 16 minutes without a request: gone, and the client is told so.
	idle.do(req{method: "GET", url: idle.app.Href}).wantError(t, 404, ucwad.ENotFound, ucwad.SubApplicationNotFound)
	// The held P-GET kept the other alive.
	if !exists(busy) {
		t.Fatal("the application holding a P-GET expired")
	}
	// A P-GET held on an application that is deleted answers at once.
	busy.do(req{method: "DELETE", url: busy.app.Href}).wantStatus(t, 204)
	held.wait().wantError(t, 404, ucwad.ENotFound, ucwad.SubApplicationNotFound)
}

func TestEventsHrefWithAppendedParameters(t *testing.T) {
	// The Microsoft sample appends its parameters by concatenation.
	e := newEnv(t, func(c *httpapi.Config) { c.MinEventTimeout = time.Second })
	s := e.signIn("alice", "concat")
	href := link(t, s.app, "events") + "&low=15&medium=5&priority=0&timeout=180"
	p := s.startPGet(t, href, nil)
	e.waitTimers(heldTimers)
	e.clock.Advance(180 * time.Second)
	if ev := p.wait().wantStatus(t, 200).events(t); ackOf(t, ev.Next) != 2 {
		t.Fatalf("next %q", ev.Next)
	}
}

// TestEventsAcrossProcesses: two servers on one database file (as two
// processes would be): a P-GET held on the second answers when a change
// made through the first commits, once the second's store polls.
func TestEventsAcrossProcesses(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "shared.db")
	clk := clock.NewFake(t0)
	hasher := auth.NewHasher(auth.TestParams, 2)
	var bases []string
	for range 2 {
		hub := httpapi.NewHub()
		db, err := sqlite.Open(ctx, path, sqlite.Options{Clock: clk, Notifier: hub, PollInterval: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if len(bases) == 0 {
			h, _ := hasher.Hash(ctx, "secret-alice")
			if err := db.CreateUser(ctx, &ucwad.User{SIP: "alice@contoso.com", PasswordHash: h}); err != nil {
				t.Fatal(err)
			}
		}
		api := httpapi.New(httpapi.Config{}, httpapi.Deps{Store: db, Hasher: hasher, Clock: clk, Hub: hub})
		srv := httptest.NewServer(api.Handler())
		t.Cleanup(func() { api.Shutdown(); srv.Close() })
		bases = append(bases, srv.URL)
	}
	e := &env{t: t, clock: clk, srv: httptest.NewServer(nil), base: bases[0]}
	t.Cleanup(e.srv.Close)
	s := e.signIn("alice", "two")
	waitTimers(t, clk, 2) // each store's poll

	p := s.startPGet(t, bases[1]+link(t, s.app, "events"), nil)
	waitTimers(t, clk, 2+heldTimers)
	s.do(req{method: "POST", url: link(t, embedded(t, s.app, "me"), "makeMeAvailable")}).wantStatus(t, 204)
	clk.Advance(time.Second) // the second store's poll finds the new events
	if got := senderSummary(p.wait().wantStatus(t, 200).events(t)); len(got) != 2 {
		t.Fatalf("events on the other server: %q", got)
	}
}

// TestRegisteringAgainKeepsAlive: a client that re-runs its bootstrap (and
// never polls events) keeps its application alive by registering again.
func TestRegisteringAgainKeepsAlive(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "again")
	e.clock.Advance(14 * time.Minute)
	again := e.signIn("alice", "again") // 200, the same application
	if again.app.Href != s.app.Href {
		t.Fatalf("registering again gave %s, first %s", again.app.Href, s.app.Href)
	}
	e.clock.Advance(2 * time.Minute)
	if err := e.api.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	s.do(req{method: "GET", url: s.app.Href}).wantStatus(t, 200)
}

// TestReportMyActivityKeepsAlive: reportMyActivity is activity like any
// request on the application.
// TestReportMyActivityNeedsAvailability: before makeMeAvailable,
// reportMyActivity answers 409 MakeMeAvailableRequired as the reference
// documents, in JSON and XML; after it, 204.
func TestReportMyActivityNeedsAvailability(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "lurker")
	me := embedded(t, s.app, "me")
	href := me.Href + "/reportMyActivity"
	for _, accept := range []string{"application/json", "application/xml"} {
		s.do(req{method: "POST", url: href, header: map[string]string{"Accept": accept}}).
			wantError(t, http.StatusConflict, ucwad.EConflict, ucwad.SubMakeMeAvailableRequired)
	}
	s.do(req{method: "POST", url: link(t, me, "makeMeAvailable")}).wantStatus(t, 204)
	s.do(req{method: "POST", url: href}).wantStatus(t, http.StatusNoContent)
}

func TestReportMyActivityKeepsAlive(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "active")
	me := embedded(t, s.app, "me")
	s.do(req{method: "POST", url: link(t, me, "makeMeAvailable")}).wantStatus(t, 204)
	me = s.do(req{method: "GET", url: me.Href}).wantStatus(t, 200).resource(t)
	e.clock.Advance(14 * time.Minute)
	s.do(req{method: "POST", url: link(t, me, "reportMyActivity")}).wantStatus(t, 204)
	e.clock.Advance(2 * time.Minute)
	if err := e.api.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	s.do(req{method: "GET", url: s.app.Href}).wantStatus(t, 200)
}

// waitLogged waits until logs has n lines with message msg. The real-time
// limit is only a watchdog, as in waitTimers.
func waitLogged(t *testing.T, logs *logBuffer, msg string, n int) {
	t.Helper()
	watchdog := time.After(20 * time.Second)
	for {
		logs.mu.Lock()
		ch := logs.changed
		logs.mu.Unlock()
		if len(logs.records(t, msg)) >= n {
			return
		}
		select {
		case <-ch:
		case <-watchdog:
			t.Fatalf("the server never logged %q %d times", msg, n)
		}
	}
}

// heldMsg is what the server logs when a P-GET parks after its first read.
const heldMsg = "event request held"

// TestParkedPGetWritesNothing counts the store's write transactions around
// P-GETs: a parked one writes nothing while it waits, however long and
// however often it is woken for nothing; starting one costs one write when
// it acknowledges a batch, none when nothing changed.
func TestParkedPGetWritesNothing(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "parked")
	appID := str(t, s.app, "id")
	writes := e.store.WriteTransactions

	before := writes()
	p := s.startPGet(t, link(t, s.app, "events")+"&timeout=1800", nil)
	waitLogged(t, e.logs, heldMsg, 1)
	if n := writes() - before; n != 2 {
		t.Errorf("the first P-GET took %d write transactions, want 2: its new sticky timeout and taking the channel", n)
	}

	// Held for 29 minutes, past the activity interval many times and woken
	// every minute for nothing: no write. The answer comes after every
	// write the request made, so counting then sees them all.
	before = writes()
	for range 29 {
		e.clock.Advance(time.Minute)
		e.hub.Notify([]string{appID})
	}
	s.do(req{method: "POST", url: link(t, embedded(t, s.app, "me"), "makeMeAvailable")}).wantStatus(t, 204)
	first := p.wait().wantStatus(t, 200).events(t)
	if n := writes() - before; n != 3 {
		t.Errorf("held for 29 minutes, then answered: %d write transactions, want 3: the POST's (its activity and its change) and freezing the batch", n)
	}

	// The next P-GET acknowledges batch 1 and finds nothing new: no
	// write; the acknowledgement goes with the write releasing batch 2.
	before = writes()
	p = s.startPGet(t, first.Next, nil)
	waitLogged(t, e.logs, heldMsg, 2)
	if n := writes() - before; n != 0 {
		t.Errorf("a P-GET acknowledging a batch, nothing new, took %d write transactions, want 0", n)
	}
	// The client starts it again (same ack, nothing changed): no write;
	// the first answers 409 PGetReplaced.
	before = writes()
	again := s.startPGet(t, first.Next, nil)
	p.wait().wantError(t, http.StatusConflict, ucwad.EConflict, ucwad.SubPGetReplaced)
	waitLogged(t, e.logs, heldMsg, 3)
	if n := writes() - before; n != 0 {
		t.Errorf("a P-GET where nothing changed took %d write transactions, want none", n)
	}
	e.api.Shutdown()
	again.wait().wantStatus(t, 200)
	if n := writes() - before; n != 0 {
		t.Errorf("answering at shutdown took %d write transactions, want none", n)
	}
}

// TestPGetReplacedAcrossProcesses: two servers on one database file, as two
// processes: a P-GET on the second replaces the one held on the first,
// which answers 409 PGetReplaced once the first's store polls; the newer
// one stays held and gets the next events.
func TestPGetReplacedAcrossProcesses(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "shared.db")
	clk := clock.NewFake(t0)
	hasher := auth.NewHasher(auth.TestParams, 2)
	var bases []string
	var logs []*logBuffer
	for range 2 {
		hub := httpapi.NewHub()
		db, err := sqlite.Open(ctx, path, sqlite.Options{Clock: clk, Notifier: hub, PollInterval: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if len(bases) == 0 {
			h, _ := hasher.Hash(ctx, "secret-alice")
			if err := db.CreateUser(ctx, &ucwad.User{SIP: "alice@contoso.com", PasswordHash: h}); err != nil {
				t.Fatal(err)
			}
		}
		lb := newLogBuffer()
		log := slog.New(slog.NewJSONHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))
		api := httpapi.New(httpapi.Config{}, httpapi.Deps{Store: db, Hasher: hasher, Clock: clk, Hub: hub, Log: log})
		srv := httptest.NewServer(api.Handler())
		t.Cleanup(func() { api.Shutdown(); srv.Close() })
		bases = append(bases, srv.URL)
		logs = append(logs, lb)
	}
	e := &env{t: t, clock: clk, srv: httptest.NewServer(nil), base: bases[0]}
	t.Cleanup(e.srv.Close)
	s := e.signIn("alice", "two")
	events := link(t, s.app, "events")
	waitTimers(t, clk, 2) // each store's poll

	older := s.startPGet(t, bases[0]+events, nil)
	waitLogged(t, logs[0], heldMsg, 1)
	newer := s.startPGet(t, bases[1]+events, nil)
	waitLogged(t, logs[1], heldMsg, 1)
	clk.Advance(time.Second) // the first store's poll finds the channel taken
	older.wait().wantError(t, http.StatusConflict, ucwad.EConflict, ucwad.SubPGetReplaced)

	waitTimers(t, clk, 2+heldTimers) // both polls again, the newer P-GET's timeout
	s.do(req{method: "POST", url: link(t, embedded(t, s.app, "me"), "makeMeAvailable")}).wantStatus(t, 204)
	clk.Advance(time.Second) // the second store's poll finds the events
	if got := senderSummary(newer.wait().wantStatus(t, 200).events(t)); len(got) != 2 {
		t.Fatalf("events on the newer P-GET: %q", got)
	}
}

// TestPGetRefusalsBeforeParking: the event channel authenticates and
// loads the application on another goroutine than the request's (so that
// the store's depth does not grow the stack the request waits on); its
// refusals are the same as every route's.
func TestPGetRefusalsBeforeParking(t *testing.T) {
	e := newEnv(t)
	alice := e.signIn("alice", "a")
	bob := e.signIn("bob", "b")
	events := link(t, alice.app, "events")
	r := e.do(req{method: "GET", url: events, header: map[string]string{"Authorization": "Bearer not-a-token", "Accept": "application/json"}})
	r.wantStatus(t, http.StatusUnauthorized)
	if r.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 without the challenge")
	}
	bob.do(req{method: "GET", url: events}).wantError(t, 404, ucwad.ENotFound, ucwad.SubApplicationNotFound)
	// And the owner's request still parks and answers.
	p := alice.startPGet(t, events, nil)
	e.waitTimers(heldTimers)
	me := embedded(t, alice.app, "me")
	alice.do(req{method: "POST", url: link(t, me, "makeMeAvailable")}).wantStatus(t, http.StatusNoContent)
	if ev := p.wait().wantStatus(t, 200).events(t); len(ev.Senders) == 0 {
		t.Fatal("the held request answered without the events")
	}
}

// TestDeferredAcknowledgement: a P-GET that acknowledges a batch and finds
// nothing new waits without writing; the acknowledgement is written with
// the release of the next batch, or at once when the client leaves or an
// older ack comes, and meanwhile everything the client sees treats the
// batch as acknowledged.
func TestDeferredAcknowledgement(t *testing.T) {
	e := cachedEnv(t) // the application's answer may come from memory
	s := e.signIn("alice", "deferred")
	events := link(t, s.app, "events")
	writes := e.store.WriteTransactions
	// The first P-GET waits, taking the channel for this server.
	p := s.startPGet(t, events, nil)
	waitLogged(t, e.logs, heldMsg, 1)
	s.do(req{method: "POST", url: link(t, embedded(t, s.app, "me"), "makeMeAvailable")}).wantStatus(t, 204)
	first := p.wait().wantStatus(t, 200).events(t)
	if ackOf(t, first.Next) != 2 {
		t.Fatalf("first batch next %q", first.Next)
	}

	// Batch 1 is released, not acknowledged: the application's events
	// link asks for it (and the read cache keeps that answer).
	app := s.do(req{method: "GET", url: s.app.Href}).wantStatus(t, 200).resource(t)
	if got := ackOf(t, link(t, app, "events")); got != 1 {
		t.Fatalf("application's events link asks for %d with batch 1 released, want 1", got)
	}

	// Asking for 2 acknowledges 1 and waits, writing nothing; the
	// application's events link already asks for 2.
	before := writes()
	p = s.startPGet(t, first.Next, nil)
	waitLogged(t, e.logs, heldMsg, 2)
	if n := writes() - before; n != 0 {
		t.Errorf("acknowledging with nothing new took %d write transactions, want 0", n)
	}
	app = s.do(req{method: "GET", url: s.app.Href}).wantStatus(t, 200).resource(t)
	if got := ackOf(t, link(t, app, "events")); got != 2 {
		t.Errorf("application's events link asks for %d while 1 is acknowledged, want 2", got)
	}

	// An older ack replaces the held request and resyncs to 2, as it
	// would had the acknowledgement been written: batch 1 is not sent again.
	old := s.do(req{method: "GET", url: events}).wantStatus(t, 200).events(t)
	p.wait().wantError(t, http.StatusConflict, ucwad.EConflict, ucwad.SubPGetReplaced)
	if old.Resync == "" || ackOf(t, old.Resync) != 2 || len(old.Senders) != 0 {
		t.Fatalf("ack=1 after 2 was asked: resync %q senders %d, want a resync to 2", old.Resync, len(old.Senders))
	}

	// Held again on 2 (the acknowledgement is written now); a change
	// releases batch 2 with one write of the P-GET's own.
	p = s.startPGet(t, first.Next, nil)
	waitLogged(t, e.logs, heldMsg, 3)
	before = writes()
	s.schedule(t, `{"subject":"deferred"}`)
	second := p.wait().wantStatus(t, 200).events(t)
	if len(second.Senders) == 0 || ackOf(t, second.Next) != 3 {
		t.Fatalf("batch 2: %d senders, next %q", len(second.Senders), second.Next)
	}
	if n := writes() - before; n != 2 {
		t.Errorf("a change and the release of its batch: %d write transactions, want 2", n)
	}

	// Asking for 3 with nothing new defers again; the client leaves: the
	// acknowledgement of 2 is written before the request is done, so
	// asking for 2 again resyncs to 3 and the application asks for 3.
	left := s.startAbandonable(second.Next)
	waitLogged(t, e.logs, heldMsg, 4)
	before = writes()
	left.abandon(t)
	e.logs.wait(t, "request abandoned by the client")
	if n := writes() - before; n != 1 {
		t.Errorf("a client leaving with its acknowledgement unwritten: %d write transactions, want 1", n)
	}
	app = s.do(req{method: "GET", url: s.app.Href}).wantStatus(t, 200).resource(t)
	if got := ackOf(t, link(t, app, "events")); got != 3 {
		t.Errorf("after the client left, the events link asks for %d, want 3", got)
	}
	again := s.do(req{method: "GET", url: first.Next}).wantStatus(t, 200).events(t)
	if again.Resync == "" || ackOf(t, again.Resync) != 3 {
		t.Fatalf("ack=2 after 3 was acknowledged: resync %q, want 3", again.Resync)
	}
}
