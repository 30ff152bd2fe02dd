package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
)

var signInTests = []struct {
	name string
	f    func(*testing.T, *env)
}{
	{"SignInSchedule", testSignInSchedule},
	{"SignInParallel", testSignInParallel},
	{"SignInRelease", testSignInRelease},
	{"SignInReset", testSignInReset},
	{"SignInWindow", testSignInWindow},
	{"SignInAccounts", testSignInAccounts},
	{"SignInUnknownNamesBounded", testSignInUnknownNamesBounded},
}

// signInPolicy is small enough to walk through by hand: two free
// failures, then 1 s doubling to 4 s.
var signInPolicy = ucwad.SignInPolicy{Free: 2, FirstDelay: time.Second, MaxDelay: 4 * time.Second, Window: time.Minute}

func (e *env) claim(t *testing.T, a ucwad.SignInAccount, p ucwad.SignInPolicy) ucwad.SignInClaim {
	t.Helper()
	c, err := e.s.ClaimSignIn(e.ctx, a, p)
	if err != nil {
		t.Fatalf("ClaimSignIn(%+v): %v", a, err)
	}
	return c
}

// wantGranted fails unless c is granted and leaves the account with
// failures failures and its next check next after now.
func (e *env) wantGranted(t *testing.T, what string, c ucwad.SignInClaim, failures int, next time.Duration) {
	t.Helper()
	now := e.clk.Now()
	want := ucwad.SignInState{Failures: failures, NextAt: now.Add(next), LastAt: now}
	if !c.Granted || c.Next.Failures != want.Failures || !c.Next.NextAt.Equal(want.NextAt) || !c.Next.LastAt.Equal(want.LastAt) {
		t.Errorf("%s: got %+v, want granted with Next %+v", what, c, want)
	}
}

// wantRefused fails unless c is refused until retryAt.
func wantRefused(t *testing.T, what string, c ucwad.SignInClaim, retryAt time.Time) {
	t.Helper()
	if c.Granted || !c.RetryAt.Equal(retryAt) {
		t.Errorf("%s: got %+v, want refused until %v", what, c, retryAt)
	}
}

// signInAccounts are the two kinds of account: a user and a name no user
// has. Both follow the same schedule.
func (e *env) signInAccounts(t *testing.T) map[string]ucwad.SignInAccount {
	alice := e.createUser(t, "alice@contoso.com")
	return map[string]ucwad.SignInAccount{
		"user":         {UserID: alice.ID, Name: "alice@contoso.com"},
		"unknown name": {Name: "nobody@contoso.com"},
	}
}

func testSignInSchedule(t *testing.T, e *env) {
	for kind, a := range e.signInAccounts(t) {
		t.Run(kind, func(t *testing.T) {
			e.wantGranted(t, "first attempt", e.claim(t, a, signInPolicy), 1, 0)
			e.wantGranted(t, "second (last free) attempt", e.claim(t, a, signInPolicy), 2, time.Second)
			slot := e.clk.Now().Add(time.Second)
			for i := range 3 {
				wantRefused(t, fmt.Sprintf("refused attempt %d", i), e.claim(t, a, signInPolicy), slot)
			}
			// Refusals did not move the slot.
			e.clk.Advance(999 * time.Millisecond)
			wantRefused(t, "a millisecond early", e.claim(t, a, signInPolicy), slot)
			e.clk.Advance(time.Millisecond)
			e.wantGranted(t, "third attempt", e.claim(t, a, signInPolicy), 3, 2*time.Second)
			e.clk.Advance(2 * time.Second)
			e.wantGranted(t, "fourth attempt", e.claim(t, a, signInPolicy), 4, 4*time.Second)
			e.clk.Advance(4 * time.Second)
			e.wantGranted(t, "fifth attempt", e.claim(t, a, signInPolicy), 5, 4*time.Second)
			// Late is fine: the next slot counts from the attempt.
			e.clk.Advance(10 * time.Second)
			e.wantGranted(t, "late attempt", e.claim(t, a, signInPolicy), 6, 4*time.Second)
		})
	}
}

// testSignInParallel: claims racing for one account get exactly the checks
// that sequential claims would.
func testSignInParallel(t *testing.T, e *env) {
	for kind, a := range e.signInAccounts(t) {
		t.Run(kind, func(t *testing.T) {
			granted := func() int {
				t.Helper()
				claims := make([]ucwad.SignInClaim, 20)
				errs := race(len(claims), func(i int) error {
					var err error
					claims[i], err = e.s.ClaimSignIn(e.ctx, a, signInPolicy)
					return err
				})
				n := 0
				seen := map[int]bool{}
				for i, c := range claims {
					if errs[i] != nil {
						t.Fatalf("claim %d: %v", i, errs[i])
					}
					if c.Granted {
						n++
						if seen[c.Next.Failures] {
							t.Errorf("two claims counted as failure %d", c.Next.Failures)
						}
						seen[c.Next.Failures] = true
					}
				}
				return n
			}
			if n := granted(); n != signInPolicy.Free {
				t.Errorf("20 parallel claims on a fresh account: %d granted, want %d", n, signInPolicy.Free)
			}
			for _, d := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
				e.clk.Advance(d)
				if n := granted(); n != 1 {
					t.Errorf("20 parallel claims when one slot is due: %d granted, want 1", n)
				}
			}
		})
	}
}

// testSignInRelease: a claim whose password was never checked leaves the
// schedule as it found it, unless the schedule moved on since.
func testSignInRelease(t *testing.T, e *env) {
	for kind, a := range e.signInAccounts(t) {
		t.Run(kind, func(t *testing.T) {
			c := e.claim(t, a, signInPolicy)
			if err := e.s.ReleaseSignIn(e.ctx, c); err != nil {
				t.Fatalf("ReleaseSignIn: %v", err)
			}
			e.wantGranted(t, "after releasing the first claim", e.claim(t, a, signInPolicy), 1, 0)
			e.claim(t, a, signInPolicy)
			e.clk.Advance(time.Second)
			c = e.claim(t, a, signInPolicy)
			e.wantGranted(t, "third attempt", c, 3, 2*time.Second)
			if err := e.s.ReleaseSignIn(e.ctx, c); err != nil {
				t.Fatalf("ReleaseSignIn: %v", err)
			}
			// Released: the slot it took is free again, and taking it counts
			// as the third failure, not the fourth.
			c = e.claim(t, a, signInPolicy)
			e.wantGranted(t, "after releasing the third attempt", c, 3, 2*time.Second)
			// Releasing a refused claim changes nothing.
			refused := e.claim(t, a, signInPolicy)
			if err := e.s.ReleaseSignIn(e.ctx, refused); err != nil {
				t.Fatalf("ReleaseSignIn(refused): %v", err)
			}
			wantRefused(t, "after releasing a refused claim", e.claim(t, a, signInPolicy), c.Next.NextAt)
			// Once another claim was granted, releasing an older one leaves
			// the newer state alone.
			e.clk.Advance(2 * time.Second)
			older := e.claim(t, a, signInPolicy)
			e.clk.Advance(4 * time.Second)
			newer := e.claim(t, a, signInPolicy)
			if err := e.s.ReleaseSignIn(e.ctx, older); err != nil {
				t.Fatalf("ReleaseSignIn(older): %v", err)
			}
			wantRefused(t, "after releasing a superseded claim", e.claim(t, a, signInPolicy), newer.Next.NextAt)
		})
	}
}

func testSignInReset(t *testing.T, e *env) {
	accounts := e.signInAccounts(t)
	for _, a := range accounts {
		for range 3 {
			e.claim(t, a, signInPolicy)
		}
	}
	user, name := accounts["user"], accounts["unknown name"]
	if err := e.s.ResetSignIn(e.ctx, user); err != nil {
		t.Fatalf("ResetSignIn: %v", err)
	}
	e.wantGranted(t, "after a reset", e.claim(t, user, signInPolicy), 1, 0)
	wantRefused(t, "another account after a reset", e.claim(t, name, signInPolicy), e.clk.Now().Add(time.Second))
	if err := e.s.ResetSignIn(e.ctx, ucwad.SignInAccount{Name: "never@contoso.com"}); err != nil {
		t.Errorf("ResetSignIn of an account with no state: %v", err)
	}
}

func testSignInWindow(t *testing.T, e *env) {
	accounts := e.signInAccounts(t)
	user := accounts["user"]
	// The unknown name first, so that the user's latest attempt is the
	// later one.
	for _, a := range []ucwad.SignInAccount{accounts["unknown name"], user} {
		for range 4 {
			e.claim(t, a, signInPolicy)
			e.clk.Advance(2 * time.Second)
		}
	}
	// Everything is remembered until Window has passed since the latest
	// granted attempt.
	e.clk.Advance(signInPolicy.Window - 2*time.Second - time.Millisecond)
	e.wantGranted(t, "just inside the window", e.claim(t, user, signInPolicy), 5, 4*time.Second)
	e.clk.Advance(signInPolicy.Window)
	e.wantGranted(t, "a window later", e.claim(t, user, signInPolicy), 1, 0)

	// The sweep forgets the same accounts: here the unknown name only.
	n, err := e.s.DeleteExpiredSignIns(e.ctx, signInPolicy.Window)
	if err != nil || n != 1 {
		t.Errorf("DeleteExpiredSignIns = %d, %v; want 1 forgotten", n, err)
	}
	e.clk.Advance(signInPolicy.Window)
	n, err = e.s.DeleteExpiredSignIns(e.ctx, signInPolicy.Window)
	if err != nil || n != 1 {
		t.Errorf("DeleteExpiredSignIns a window later = %d, %v; want 1 forgotten", n, err)
	}
	e.wantGranted(t, "after the sweep", e.claim(t, accounts["unknown name"], signInPolicy), 1, 0)
}

// testSignInAccounts: names are compared as the user directory compares
// them; a user's schedule goes with the user.
func testSignInAccounts(t *testing.T, e *env) {
	p := signInPolicy
	p.Free = 1
	name := ucwad.SignInAccount{Name: "Nobody@Contoso.com"}
	e.claim(t, name, p)
	for _, spelling := range []string{"nobody@contoso.com", "sip:NOBODY@contoso.com", "SIP:nobody@CONTOSO.COM"} {
		wantRefused(t, spelling, e.claim(t, ucwad.SignInAccount{Name: spelling}, p), e.clk.Now().Add(time.Second))
	}
	e.wantGranted(t, "a different name", e.claim(t, ucwad.SignInAccount{Name: "nobody@contoso.co"}, p), 1, time.Second)

	alice := e.createUser(t, "alice@contoso.com")
	bob := e.createUser(t, "bob@contoso.com")
	e.claim(t, ucwad.SignInAccount{UserID: alice.ID, Name: "alice@contoso.com"}, p)
	// The user's schedule is the user's, whatever name was typed.
	wantRefused(t, "the user under another spelling", e.claim(t, ucwad.SignInAccount{UserID: alice.ID, Name: "ALICE@contoso.com"}, p), e.clk.Now().Add(time.Second))
	e.wantGranted(t, "another user", e.claim(t, ucwad.SignInAccount{UserID: bob.ID, Name: "bob@contoso.com"}, p), 1, time.Second)

	if err := e.s.DeleteUser(e.ctx, alice.ID); err != nil {
		t.Fatal(err)
	}
	_, err := e.s.ClaimSignIn(e.ctx, ucwad.SignInAccount{UserID: alice.ID, Name: "alice@contoso.com"}, p)
	wantErr(t, "ClaimSignIn of a deleted user", err, ucwad.ENotFound, "")
	_, err = e.s.ClaimSignIn(e.ctx, ucwad.SignInAccount{UserID: alice.ID + bob.ID + 1000}, p)
	wantErr(t, "ClaimSignIn of an unknown user id", err, ucwad.ENotFound, "")
}

// testSignInUnknownNamesBounded: a flood of new names evicts only the
// oldest unknown names, never a user's schedule.
func testSignInUnknownNamesBounded(t *testing.T, e *env) {
	p := ucwad.SignInPolicy{Free: 1, FirstDelay: time.Hour, MaxDelay: time.Hour, Window: 2 * time.Hour}
	alice := e.createUser(t, "alice@contoso.com")
	user := ucwad.SignInAccount{UserID: alice.ID, Name: "alice@contoso.com"}
	e.claim(t, user, p)
	aliceSlot := e.clk.Now().Add(time.Hour)
	slots := map[string]time.Time{}
	for i := range 50 {
		e.clk.Advance(time.Millisecond)
		name := fmt.Sprintf("flood%d@contoso.com", i)
		e.wantGranted(t, name, e.claim(t, ucwad.SignInAccount{Name: name}, p), 1, time.Hour)
		slots[name] = e.clk.Now().Add(time.Hour)
	}
	wantRefused(t, "the user after the flood", e.claim(t, user, p), aliceSlot)
	// Refused claims add nothing, so these do not evict each other.
	for _, i := range []int{49, 48, 47} {
		name := fmt.Sprintf("flood%d@contoso.com", i)
		wantRefused(t, "a name among the newest", e.claim(t, ucwad.SignInAccount{Name: name}, p), slots[name])
	}
	e.wantGranted(t, "the oldest name", e.claim(t, ucwad.SignInAccount{Name: "flood0@contoso.com"}, p), 1, time.Hour)
}
