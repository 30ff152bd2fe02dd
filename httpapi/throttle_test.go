package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/httpapi"
	"github.com/ucwad/ucwad/sqlite"
)

// The throttle tests send sign-ins "from" client addresses through
// X-Forwarded-For, with the loopback peer as the trusted proxy.
func trustLoopback(c *httpapi.Config) {
	c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

// signInFrom posts a password sign-in; from, when not empty, is sent as
// X-Forwarded-For.
func (e *env) signInFrom(from, user, password string) *resp {
	e.t.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}}
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	if from != "" {
		h["X-Forwarded-For"] = from
	}
	return e.do(req{method: "POST", url: "/WebTicket/oauthtoken", body: form.Encode(), header: h})
}

// outcome is what a sign-in attempt got.
type outcome string

const (
	signedIn     outcome = "200"
	checkedWrong outcome = "400 invalid_grant"
	notTried     outcome = "429 account"
	addressBusy  outcome = "429 address"
)

// outcomeOf classifies an answer of the token endpoint, checking that a 429
// is complete: OAuth JSON, Retry-After, no-store and diagnostics.
func outcomeOf(t *testing.T, r *resp) outcome {
	t.Helper()
	tok := decodeToken(t, r)
	switch {
	case r.StatusCode == 200:
		return signedIn
	case r.StatusCode == 400 && tok.Error == "invalid_grant":
		return checkedWrong
	case r.StatusCode == 429 && tok.Error == "temporarily_unavailable":
		secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
		if err != nil || secs < 1 || secs > 8 {
			t.Fatalf("429 with Retry-After %q, want 1 to 8 seconds", r.Header.Get("Retry-After"))
		}
		if r.Header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("429 headers %v", r.Header)
		}
		diag := r.Header.Get("X-Ms-Diagnostics")
		switch {
		case strings.Contains(diag, "this account"):
			return notTried
		case strings.Contains(diag, "this address"):
			return addressBusy
		}
		t.Fatalf("429 with X-Ms-Diagnostics %q", diag)
	}
	t.Fatalf("sign-in answered %d %s", r.StatusCode, r.body)
	return ""
}

func retryAfter(r *resp) string { return r.Header.Get("Retry-After") }

// recv receives from ch. The real-time limit is only a watchdog, so that a
// broken test fails with a message instead of hanging the whole run.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("still waiting for %s", what)
		panic("unreachable")
	}
}

// TestSignInThrottle walks the schedule: five free failures, then one
// check per step; an attempt before its step is refused at once, whatever
// its password, and the right password works once the step comes.
func TestSignInThrottle(t *testing.T) {
	e := newEnv(t)
	for i := range 5 {
		if got := outcomeOf(t, e.signInFrom("", "alice@contoso.com", "wrong")); got != checkedWrong {
			t.Fatalf("free failure %d: %s", i+1, got)
		}
	}
	for _, pw := range []string{"wrong", "secret-alice"} {
		r := e.signInFrom("", "alice@contoso.com", pw)
		if got := outcomeOf(t, r); got != notTried || retryAfter(r) != "1" {
			t.Fatalf("attempt within 250 ms of the fifth failure (password %q): %s, Retry-After %s", pw, got, retryAfter(r))
		}
	}
	e.clock.Advance(249 * time.Millisecond)
	if got := outcomeOf(t, e.signInFrom("", "alice@contoso.com", "wrong")); got != notTried {
		t.Fatalf("a millisecond early: %s", got)
	}
	e.clock.Advance(time.Millisecond)
	if got := outcomeOf(t, e.signInFrom("", "alice@contoso.com", "wrong")); got != checkedWrong {
		t.Fatalf("when the step came: %s", got)
	}
	e.clock.Advance(500 * time.Millisecond)
	if got := outcomeOf(t, e.signInFrom("", "alice@contoso.com", "secret-alice")); got != signedIn {
		t.Fatalf("the owner at the next step: %s", got)
	}
	// Success forgets the failures: five free ones again.
	for i := range 5 {
		if got := outcomeOf(t, e.signInFrom("", "alice@contoso.com", "wrong")); got != checkedWrong {
			t.Fatalf("free failure %d after a success: %s", i+1, got)
		}
	}
	// Unknown users follow the same schedule, so the answers do not tell
	// which accounts exist.
	for i := range 5 {
		if got := outcomeOf(t, e.signInFrom("", "nobody@contoso.com", "wrong")); got != checkedWrong {
			t.Fatalf("unknown user, failure %d: %s", i+1, got)
		}
	}
	if got := outcomeOf(t, e.signInFrom("", "NOBODY@contoso.com", "wrong")); got != notTried {
		t.Fatalf("unknown user, sixth attempt: %s", got)
	}
	// Refusals are logged at debug only, so that a flood of them is not a
	// flood of log lines; the checks that ran are logged at info.
	refused := e.logs.records(t, "sign-in refused")
	if len(refused) != 4 {
		t.Errorf("%d sign-in refused lines, want one per 429 (4)", len(refused))
	}
	for _, r := range refused {
		if r["level"] != "DEBUG" || r["error"] != "temporarily_unavailable" || r["remote"] != "127.0.0.1" {
			t.Errorf("refusal logged as %v, want debug, temporarily_unavailable, remote 127.0.0.1", r)
		}
	}
	if n := len(e.logs.records(t, "sign-in failed")); n != 16 {
		t.Errorf("%d sign-in failed lines, want one per checked wrong password (16)", n)
	}
}

// guessRound sends n wrong passwords for user at once, each from its own
// address (a distributed guesser), or one after the other, and counts the
// outcomes.
func (e *env) guessRound(user string, n int, parallel bool) map[outcome]int {
	e.t.Helper()
	var mu sync.Mutex
	counts := map[outcome]int{}
	guess := func(i int) {
		o := outcomeOf(e.t, e.signInFrom(fmt.Sprintf("198.51.100.%d", i+1), user, fmt.Sprint("guess", i)))
		mu.Lock()
		counts[o]++
		mu.Unlock()
	}
	if !parallel {
		for i := range n {
			guess(i)
		}
		return counts
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { guess(i) })
	}
	wg.Wait()
	return counts
}

// TestParallelGuessesNoMoreChecks: thirty guesses sent at once from thirty
// addresses get exactly the password checks that thirty sent one after
// the other get, at every step of the schedule.
func TestParallelGuessesNoMoreChecks(t *testing.T) {
	e := newEnv(t, trustLoopback)
	steps := []time.Duration{0, 250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second,
		4 * time.Second, 8 * time.Second, 8 * time.Second}
	for i, step := range steps {
		e.clock.Advance(step)
		seq := e.guessRound("alice@contoso.com", 30, false)
		par := e.guessRound("bob@contoso.com", 30, true)
		want := 1
		if i == 0 {
			want = 5
		}
		if seq[checkedWrong] != want || par[checkedWrong] != want || par[notTried] != 30-want {
			t.Errorf("step %d (+%v): sequential %v, parallel %v; want %d checked, the rest refused untried", i, step, seq, par, want)
		}
	}
}

// TestOwnerGetsInAfterGuessingStops: however long the guessing went on,
// the owner's password is accepted one step (at most 8 s) after it stops.
func TestOwnerGetsInAfterGuessingStops(t *testing.T) {
	e := newEnv(t)
	// Guess without pause, the clock moving a second whenever a guess is
	// refused, until fifteen guesses were checked: the schedule is at its
	// longest step.
	for checks := 0; checks < 15; {
		if outcomeOf(t, e.signInFrom("", "alice@contoso.com", "wrong")) == checkedWrong {
			checks++
		} else {
			e.clock.Advance(time.Second)
		}
	}
	// The guessing stops right after a checked guess.
	r := e.signInFrom("", "alice@contoso.com", "secret-alice")
	if got := outcomeOf(t, r); got != notTried || retryAfter(r) != "8" {
		t.Fatalf("the owner right after the last guess: %s, Retry-After %s; want refused for 8 s", got, retryAfter(r))
	}
	e.clock.Advance(8*time.Second - time.Millisecond)
	r = e.signInFrom("", "alice@contoso.com", "secret-alice")
	if got := outcomeOf(t, r); got != notTried || retryAfter(r) != "1" {
		t.Fatalf("the owner a millisecond early: %s, Retry-After %s", got, retryAfter(r))
	}
	e.clock.Advance(time.Millisecond)
	if got := outcomeOf(t, e.signInFrom("", "alice@contoso.com", "secret-alice")); got != signedIn {
		t.Fatalf("the owner 8 s after the last guess: %s", got)
	}
}

// TestAbandonedSignInDropped: a client that leaves while its sign-in waits
// for a hashing slot is dropped, and its attempt does not count: the
// owner's next attempt takes the slot it had.
func TestAbandonedSignInDropped(t *testing.T) {
	e := newEnv(t)
	queued := make(chan struct{})
	left := make(chan error, 1)
	finished := make(chan struct{}, 16)
	httpapi.SetSignInHooks(e.api, func(ctx context.Context, username string) error {
		if username != "Alice@contoso.com" { // the attacker's spelling
			return nil
		}
		close(queued)
		<-ctx.Done()
		left <- ctx.Err()
		return ctx.Err()
	}, func() { finished <- struct{}{} })
	drain := func(n int) {
		for range n {
			recv(t, finished, "the token endpoint to finish a request")
		}
	}
	for range 5 {
		outcomeOf(t, e.signInFrom("", "alice@contoso.com", "wrong"))
	}
	drain(5)
	e.clock.Advance(250 * time.Millisecond)

	// The attacker's sixth guess takes the slot, then waits "for a hashing
	// slot" until its client gives up.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // before the server's Close, which waits for the request
	form := url.Values{"grant_type": {"password"}, "username": {"Alice@contoso.com"}, "password": {"guess"}}
	hr, _ := http.NewRequestWithContext(ctx, "POST", e.base+"/WebTicket/oauthtoken", strings.NewReader(form.Encode()))
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	clientDone := make(chan error, 1)
	go func() {
		res, err := e.srv.Client().Do(hr)
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		clientDone <- err
	}()
	recv(t, queued, "the sixth guess to queue")
	// While it holds the slot, others are refused.
	if got := outcomeOf(t, e.signInFrom("", "alice@contoso.com", "secret-alice")); got != notTried {
		t.Fatalf("while the slot is held: %s", got)
	}
	drain(1)
	cancel()
	if err := recv(t, clientDone, "the cancelled request to return"); err == nil {
		t.Fatal("the cancelled request got an answer")
	}
	if err := recv(t, left, "the server to see the client leave"); err == nil {
		t.Fatal("the server did not see the client leave")
	}
	drain(1) // the abandoned request is finished with

	// The slot is free again: the owner gets in without waiting.
	if got := outcomeOf(t, e.signInFrom("", "alice@contoso.com", "secret-alice")); got != signedIn {
		t.Fatalf("the owner after the abandoned attempt: %s", got)
	}
}

// TestFloodFromOneAddress: an address with its sign-ins stuck in flight
// has its further ones wait, and then refused, while another address signs
// in at once.
func TestFloodFromOneAddress(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tweak func(*httpapi.Config)
		// other is where the other client is (X-Forwarded-For), and
		// shares is whether it shares the flooder's bound.
		other  string
		shares bool
	}{
		{"another address", trustLoopback, "192.0.2.77", false},
		{"the same IPv6 /64", trustLoopback, "2001:db8:1:2::beef", true},
		{"another IPv6 /64", trustLoopback, "2001:db8:1:3::1", false},
		{"X-Forwarded-For from an untrusted peer", func(*httpapi.Config) {}, "192.0.2.77", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.tweak)
			release := make(chan struct{})
			var once sync.Once
			free := func() { once.Do(func() { close(release) }) }
			t.Cleanup(free) // before the server's Close, which waits for the stuck requests
			entered := make(chan struct{}, 100)
			httpapi.SetSignInHooks(e.api, func(ctx context.Context, username string) error {
				if !strings.HasPrefix(username, "flood") {
					return nil
				}
				entered <- struct{}{}
				select {
				case <-release:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}, nil)

			const flood = 40
			answers := make(chan outcome, flood)
			for i := range flood {
				from := "2001:db8:1:2::1"
				if i%2 == 1 {
					from = "2001:db8:1:2::2" // the same /64
				}
				go func() { answers <- outcomeOf(t, e.signInFrom(from, fmt.Sprintf("flood%d@contoso.com", i), "x")) }()
			}
			const held = httpapi.DefaultMaxSignInsPerAddress
			for range held {
				recv(t, entered, "the flood to fill its address's places")
			}
			// The rest wait, parked, for a place: a timer each on the clock.
			e.waitTimers(flood - held)
			var other chan outcome
			if !tc.shares {
				// Another client signs in meanwhile, without waiting.
				if got := outcomeOf(t, e.signInFrom(tc.other, "alice@contoso.com", "secret-alice")); got != signedIn {
					t.Errorf("another client during the flood: %s", got)
				}
			} else {
				other = make(chan outcome, 1)
				go func() { other <- outcomeOf(t, e.signInFrom(tc.other, "alice@contoso.com", "secret-alice")) }()
				e.waitTimers(flood - held + 1) // queued behind the flood
			}
			select {
			case got := <-answers:
				t.Fatalf("a flood attempt answered while all were stuck or waiting: %s", got)
			default:
			}
			// Waiters whose time is up are refused; the stuck ones stay.
			e.clock.Advance(httpapi.DefaultMaxSignInWait)
			for range flood - held {
				if got := recv(t, answers, "the flood's refusals"); got != addressBusy {
					t.Fatalf("a flood attempt that waited in vain: %s", got)
				}
			}
			if other != nil {
				if got := recv(t, other, "the other client's refusal"); got != addressBusy {
					t.Errorf("a client sharing the flood's address: %s", got)
				}
			}
			free()
			for range held {
				if got := recv(t, answers, "the flood's held attempts"); got != checkedWrong {
					t.Errorf("a flood attempt let through: %s", got)
				}
			}
			// The flooder's places are free again.
			if got := outcomeOf(t, e.signInFrom("2001:db8:1:2::1", "bob@contoso.com", "secret-bob")); got != signedIn {
				t.Errorf("the flooding address after its flood: %s", got)
			}
		})
	}
}

// TestQueuedSignInDropped: a sign-in waiting for its address's place
// whose client leaves is dropped from the queue and takes no place later.
func TestQueuedSignInDropped(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) { c.MaxSignInsPerAddress = 1 })
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free)
	entered := make(chan struct{}, 1)
	finished := make(chan struct{}, 4)
	httpapi.SetSignInHooks(e.api, func(ctx context.Context, username string) error {
		if username == "held@contoso.com" {
			entered <- struct{}{}
			<-release
		}
		return nil
	}, func() { finished <- struct{}{} })

	first := make(chan outcome, 1)
	go func() { first <- outcomeOf(t, e.signInFrom("", "held@contoso.com", "x")) }()
	recv(t, entered, "the first sign-in to hold the place")

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	form := url.Values{"grant_type": {"password"}, "username": {"alice@contoso.com"}, "password": {"secret-alice"}}
	hr, _ := http.NewRequestWithContext(ctx, "POST", e.base+"/WebTicket/oauthtoken", strings.NewReader(form.Encode()))
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	queued := make(chan error, 1)
	go func() {
		res, err := e.srv.Client().Do(hr)
		if err == nil {
			res.Body.Close()
		}
		queued <- err
	}()
	e.waitTimers(1) // it waits for the place
	cancel()
	if err := recv(t, queued, "the cancelled request to return"); err == nil {
		t.Fatal("the cancelled request got an answer")
	}
	recv(t, finished, "the server to drop the waiting request")
	if n := e.clock.Pending(); n != 0 {
		t.Errorf("%d timers left by the dropped request", n)
	}

	free()
	if got := recv(t, first, "the held sign-in"); got != checkedWrong {
		t.Fatalf("the held sign-in: %s", got)
	}
	// The place is free: the next sign-in does not wait.
	next := make(chan outcome, 1)
	go func() { next <- outcomeOf(t, e.signInFrom("", "alice@contoso.com", "secret-alice")) }()
	if got := recv(t, next, "a sign-in after the queue emptied"); got != signedIn {
		t.Fatalf("a sign-in after the queue emptied: %s", got)
	}
}

// twin starts a second server with a store of its own on e's database file
// and clock, as a second server process on the same database runs.
func (e *env) twin() *env {
	e.t.Helper()
	db, err := sqlite.Open(context.Background(), e.path, sqlite.Options{Clock: e.clock, PollInterval: -1})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	api := httpapi.New(httpapi.Config{}, httpapi.Deps{Store: db, Hasher: auth.NewHasher(auth.TestParams, 4), Clock: e.clock})
	srv := httptest.NewServer(api.Handler())
	e.t.Cleanup(func() {
		api.Shutdown()
		srv.Close()
	})
	return &env{t: e.t, clock: e.clock, store: db, api: api, srv: srv, base: srv.URL, path: e.path}
}

// TestTwoServersShareSchedule: two server processes on one database grant
// no more checks together than one alone, and a success on one frees the
// account on both.
func TestTwoServersShareSchedule(t *testing.T) {
	a := newEnv(t)
	b := a.twin()
	servers := []*env{a, b}
	for i := range 5 {
		if got := outcomeOf(t, servers[i%2].signInFrom("", "alice@contoso.com", "wrong")); got != checkedWrong {
			t.Fatalf("free failure %d: %s", i+1, got)
		}
	}
	for _, s := range servers {
		if got := outcomeOf(t, s.signInFrom("", "alice@contoso.com", "wrong")); got != notTried {
			t.Fatalf("sixth attempt: %s", got)
		}
	}
	for _, step := range []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second} {
		a.clock.Advance(step)
		results := make(chan outcome, 20)
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() { results <- outcomeOf(t, servers[i%2].signInFrom("", "alice@contoso.com", "wrong")) })
		}
		wg.Wait()
		close(results)
		checked := 0
		for o := range results {
			if o == checkedWrong {
				checked++
			}
		}
		if checked != 1 {
			t.Errorf("after %v: %d of 20 attempts over two servers checked, want 1", step, checked)
		}
	}
	a.clock.Advance(2 * time.Second)
	if got := outcomeOf(t, b.signInFrom("", "alice@contoso.com", "secret-alice")); got != signedIn {
		t.Fatalf("the owner on the second server: %s", got)
	}
	for range 5 {
		if got := outcomeOf(t, a.signInFrom("", "alice@contoso.com", "wrong")); got != checkedWrong {
			t.Fatalf("after a success on the other server: %s", got)
		}
	}
}

// TestThrottleSpellings: every spelling of one account, down-level logon
// names included, follows the account's one schedule.
func TestThrottleSpellings(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) { c.Domain = "contoso.com" })
	for i, name := range []string{`CONTOSO\alice`, "sip:ALICE@contoso.com", `contoso\Alice`, "Alice@Contoso.com", "alice@contoso.com"} {
		if got := outcomeOf(t, e.signInFrom("", name, "wrong")); got != checkedWrong {
			t.Fatalf("failure %d as %s: %s", i+1, name, got)
		}
	}
	for _, name := range []string{`CONTOSO\alice`, "sip:alice@contoso.com", "alice@contoso.com"} {
		if got := outcomeOf(t, e.signInFrom("", name, "secret-alice")); got != notTried {
			t.Errorf("sixth attempt as %s: %s", name, got)
		}
	}
	e.clock.Advance(250 * time.Millisecond)
	if got := outcomeOf(t, e.signInFrom("", `CONTOSO\alice`, "secret-alice")); got != signedIn {
		t.Errorf("the owner at the next step: %s", got)
	}
}

// TestSweepForgetsSignIns: the background sweep purges schedules whose
// window has passed, so that the tables hold only recent guessing.
func TestSweepForgetsSignIns(t *testing.T) {
	e := newEnv(t)
	outcomeOf(t, e.signInFrom("", "alice@contoso.com", "wrong"))
	outcomeOf(t, e.signInFrom("", "nobody@contoso.com", "wrong"))
	e.clock.Advance(15 * time.Minute)
	if err := e.api.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Nothing is left for another sweep to forget.
	if n, err := e.store.DeleteExpiredSignIns(t.Context(), 15*time.Minute); err != nil || n != 0 {
		t.Errorf("after the sweep, %d schedules were still there (%v)", n, err)
	}
}

// TestBatchedSignInAddress: a sign-in inside a batch counts under the
// batch's client address; an X-Forwarded-For inside the part, which the
// client wrote, is not believed.
func TestBatchedSignInAddress(t *testing.T) {
	e := newEnv(t, trustLoopback)
	s := e.signIn("alice", "batch")
	form := url.Values{"grant_type": {"password"}, "username": {"bob@contoso.com"}, "password": {"wrong"}}.Encode()
	ct, body := batchBody("POST /WebTicket/oauthtoken HTTP/1.1\nX-Forwarded-For: 198.51.100.9\n" +
		"Content-Type: application/x-www-form-urlencoded\n\n" + form)
	r := s.do(req{method: "POST", url: link(t, s.app, "batch"), body: body,
		header: map[string]string{"Content-Type": ct, "Accept": "multipart/batching", "X-Forwarded-For": "203.0.113.5"}})
	parts := r.parts(t)
	if len(parts) != 1 || outcomeOf(t, parts[0].resp()) != checkedWrong {
		t.Fatalf("batched sign-in: %d parts", len(parts))
	}
	failed := e.logs.records(t, "sign-in failed")
	if len(failed) != 1 || failed[0]["remote"] != "203.0.113.5" {
		t.Errorf("sign-in failed lines %v, want one from the batch's address 203.0.113.5", failed)
	}
}
