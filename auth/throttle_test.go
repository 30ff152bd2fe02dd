package auth

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ucwad/ucwad/clock"
)

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newThrottle(t *testing.T, cfg ThrottleConfig) (*Throttle, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(epoch)
	return NewThrottle(clk, cfg), clk
}

func fail(t *testing.T, th *Throttle, account string, n int) {
	t.Helper()
	for range n {
		th.Failure(account)
	}
}

func checkDelay(t *testing.T, th *Throttle, account string, want time.Duration) {
	t.Helper()
	if got := th.Delay(account); got != want {
		t.Errorf("Delay(%q) = %v, want %v", account, got, want)
	}
}

func TestThrottleDefaults(t *testing.T) {
	want := ThrottleConfig{Free: 5, Base: 250 * time.Millisecond, Max: 8 * time.Second, Window: 15 * time.Minute, MaxAccounts: 100000}
	for _, cfg := range []ThrottleConfig{{}, {Free: -1, Base: -1, Max: -1, Window: -1, MaxAccounts: -1}} {
		if got := NewThrottle(nil, cfg).Config(); got != want {
			t.Errorf("NewThrottle(%+v).Config() = %+v, want %+v", cfg, got, want)
		}
	}
	custom := ThrottleConfig{Free: 1, Base: time.Second, Max: time.Minute, Window: time.Hour, MaxAccounts: 3}
	if got := NewThrottle(nil, custom).Config(); got != custom {
		t.Errorf("Config() = %+v, want %+v", got, custom)
	}
}

func TestThrottleSchedule(t *testing.T) {
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{0, 0},
		{1, 0},
		{4, 0},
		{5, 250 * time.Millisecond},
		{6, 500 * time.Millisecond},
		{7, time.Second},
		{8, 2 * time.Second},
		{9, 4 * time.Second},
		{10, 8 * time.Second},
		{11, 8 * time.Second},
		{1000, 8 * time.Second},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.failures), func(t *testing.T) {
			th, _ := newThrottle(t, ThrottleConfig{})
			fail(t, th, "alice@contoso.com", tt.failures)
			checkDelay(t, th, "alice@contoso.com", tt.want)
			checkDelay(t, th, "bob@contoso.com", 0)
		})
	}
}

func TestThrottleCapNoOverflow(t *testing.T) {
	const huge = time.Duration(1<<63 - 1)
	th, _ := newThrottle(t, ThrottleConfig{Free: 1, Base: time.Nanosecond, Max: huge})
	fail(t, th, "a", 200)
	checkDelay(t, th, "a", huge)

	// A cap below the base wins.
	th, _ = newThrottle(t, ThrottleConfig{Free: 1, Base: time.Minute, Max: time.Second})
	fail(t, th, "a", 1)
	checkDelay(t, th, "a", time.Second)
}

func TestThrottleAccountNormalised(t *testing.T) {
	th, _ := newThrottle(t, ThrottleConfig{Free: 3})
	th.Failure("Alice@Contoso.com")
	th.Failure("sip:alice@contoso.com")
	th.Failure("SIP:ALICE@CONTOSO.COM")
	for _, name := range []string{"alice@contoso.com", "ALICE@contoso.COM", "sip:Alice@contoso.com"} {
		checkDelay(t, th, name, 250*time.Millisecond)
	}
	checkDelay(t, th, "alice@contoso.co", 0)
}

func TestThrottleWindow(t *testing.T) {
	th, clk := newThrottle(t, ThrottleConfig{Free: 2, Window: 10 * time.Minute})
	fail(t, th, "a", 3)
	checkDelay(t, th, "a", 500*time.Millisecond)

	// Each failure extends the memory of the ones before it.
	clk.Advance(9 * time.Minute)
	th.Failure("a")
	clk.Advance(9 * time.Minute)
	checkDelay(t, th, "a", time.Second)

	// Once Window passes without a failure, all is forgotten.
	clk.Advance(time.Minute)
	checkDelay(t, th, "a", 0)
	th.Failure("a")
	checkDelay(t, th, "a", 0)
	th.Failure("a")
	checkDelay(t, th, "a", 250*time.Millisecond)
}

func TestThrottleExpiredForgottenByFailure(t *testing.T) {
	th, clk := newThrottle(t, ThrottleConfig{Free: 1, Window: time.Minute})
	fail(t, th, "a", 4)
	clk.Advance(time.Minute)
	// Failure on an expired account starts afresh without a Delay call first.
	th.Failure("a")
	checkDelay(t, th, "a", 250*time.Millisecond)
	// Another account's failure sweeps out expired ones.
	th.Failure("b")
	clk.Advance(time.Minute)
	th.Failure("c")
	if got, want := len(th.byKey), 1; got != want {
		t.Errorf("tracked accounts = %d, want %d", got, want)
	}
}

func TestThrottleSuccess(t *testing.T) {
	th, _ := newThrottle(t, ThrottleConfig{})
	fail(t, th, "a", 8)
	fail(t, th, "b", 8)
	th.Success("A")
	checkDelay(t, th, "a", 0)
	checkDelay(t, th, "b", 2*time.Second)
	fail(t, th, "a", 4)
	checkDelay(t, th, "a", 0)
	th.Success("never seen")
	if got, want := len(th.byKey), 2; got != want {
		t.Errorf("tracked accounts = %d, want %d", got, want)
	}
}

func TestThrottleMaxAccounts(t *testing.T) {
	th, clk := newThrottle(t, ThrottleConfig{Free: 1, MaxAccounts: 3})
	for _, a := range []string{"a", "b", "c"} {
		th.Failure(a)
		clk.Advance(time.Second)
	}
	th.Failure("a") // a is now the most recent; b the oldest
	clk.Advance(time.Second)
	th.Failure("d")

	tests := []struct {
		account string
		want    time.Duration
	}{
		{"a", 500 * time.Millisecond},
		{"b", 0},
		{"c", 250 * time.Millisecond},
		{"d", 250 * time.Millisecond},
	}
	for _, tt := range tests {
		checkDelay(t, th, tt.account, tt.want)
	}
	if got, want := len(th.byKey), 3; got != want {
		t.Errorf("tracked accounts = %d, want %d", got, want)
	}
	for i := range 100 {
		th.Failure(fmt.Sprint("flood", i))
	}
	if got, want := len(th.byKey), 3; got != want {
		t.Errorf("tracked accounts after flood = %d, want %d", got, want)
	}
	if got, want := th.recent.Len(), 3; got != want {
		t.Errorf("list length after flood = %d, want %d", got, want)
	}
}

func TestThrottleConcurrent(t *testing.T) {
	th, clk := newThrottle(t, ThrottleConfig{Free: 2, MaxAccounts: 5})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				account := fmt.Sprint("user", (g+i)%7)
				th.Failure(account)
				if d := th.Delay(account); d < 0 || d > th.Config().Max {
					t.Errorf("Delay = %v out of range", d)
				}
				if i%17 == 0 {
					th.Success(account)
				}
				if i%50 == 0 {
					clk.Advance(time.Minute)
				}
			}
		})
	}
	wg.Wait()
	if n, l := len(th.byKey), th.recent.Len(); n != l || n > 5 {
		t.Errorf("tracked accounts = %d, list = %d, want equal and ≤ 5", n, l)
	}
}

// TestAttemptCountsOnArrival: attempts that arrive together each get a
// longer delay than the one before, and a success forgets them all.
func TestAttemptCountsOnArrival(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	th := NewThrottle(clk, ThrottleConfig{Free: 2, Base: time.Second, Max: 8 * time.Second})
	var got []time.Duration
	for range 6 {
		got = append(got, th.Attempt("Alice@contoso.com"))
	}
	want := []time.Duration{0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	if !slices.Equal(got, want) {
		t.Fatalf("delays %v, want %v", got, want)
	}
	th.Success("sip:alice@contoso.com")
	if d := th.Attempt("alice@contoso.com"); d != 0 {
		t.Fatalf("after a success: delay %v, want 0", d)
	}
	// The window still forgets.
	th.Attempt("alice@contoso.com")
	th.Attempt("alice@contoso.com")
	clk.Advance(th.Config().Window)
	if d := th.Attempt("alice@contoso.com"); d != 0 {
		t.Fatalf("after the window: delay %v, want 0", d)
	}
}
