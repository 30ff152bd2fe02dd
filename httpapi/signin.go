package httpapi

import (
	"context"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/ucwad/ucwad/clock"
)

// addressGate bounds the sign-ins in flight per client address, so that one
// address's flood holds a few places in the password-hashing queue instead
// of all of them, and everyone else's sign-in waits behind a few hashes at
// most. A sign-in beyond the bound waits, parked, for one of its address's
// places, first come first served, up to a time limit: refusing it at once
// would let a flooder's connections spin, each answer inviting the next
// request, and the spinning alone would starve the password hashing of
// CPU. A waiter costs what the connection it arrived on costs anyway. The
// gate holds an entry only for addresses with sign-ins in flight or
// waiting, so its size is bounded by the requests being served.
type addressGate struct {
	limit int
	wait  time.Duration
	clock clock.Clock

	mu sync.Mutex
	m  map[netip.Prefix]*addressPlaces
}

// addressPlaces are one address's places: a token in places for each
// sign-in in flight, and refs counting those and the waiters.
type addressPlaces struct {
	places chan struct{}
	refs   int
}

func newAddressGate(limit int, wait time.Duration, clk clock.Clock) *addressGate {
	return &addressGate{limit: limit, wait: wait, clock: clk, m: make(map[netip.Prefix]*addressPlaces)}
}

// enter takes one of the places of the address key k, waiting up to the
// gate's time limit for one to free. It reports false when none did, and
// returns ctx.Err() when ctx ends first (the client left; it is dropped
// from the queue). Each true must be followed by one leave.
func (g *addressGate) enter(ctx context.Context, k netip.Prefix) (bool, error) {
	g.mu.Lock()
	e := g.m[k]
	if e == nil {
		e = &addressPlaces{places: make(chan struct{}, g.limit)}
		g.m[k] = e
	}
	e.refs++
	g.mu.Unlock()
	select {
	case e.places <- struct{}{}:
		return true, nil
	default:
	}
	expired := make(chan struct{})
	t := g.clock.AfterFunc(g.wait, func() { close(expired) })
	defer t.Stop()
	select {
	case e.places <- struct{}{}:
		return true, nil
	case <-expired:
		g.unref(k, e)
		return false, nil
	case <-ctx.Done():
		g.unref(k, e)
		return false, ctx.Err()
	}
}

// leave gives back a place taken by enter; the longest waiter, if any,
// takes it.
func (g *addressGate) leave(k netip.Prefix) {
	g.mu.Lock()
	e := g.m[k]
	g.mu.Unlock()
	<-e.places
	g.unref(k, e)
}

func (g *addressGate) unref(k netip.Prefix, e *addressPlaces) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if e.refs--; e.refs == 0 {
		delete(g.m, k)
	}
}

// retryLater is a 429 answer of the token endpoint: an OAuth error with a
// Retry-After header, in seconds.
type retryLater struct {
	oauthError
	seconds int
}

// errTooManyFromAddress is the token endpoint's answer when the client's
// address had MaxSignInsPerAddress sign-ins in flight for as long as the
// sign-in waited. One second is long enough for a few hashes to finish.
var errTooManyFromAddress = &retryLater{oauthError{http.StatusTooManyRequests, "temporarily_unavailable",
	"Too many sign-ins in progress from this address."}, 1}

// tooManyAttempts is the answer to an attempt that came before its
// account's next password check is due: Retry-After counts the whole
// seconds until then, rounded up.
func tooManyAttempts(now, retryAt time.Time) *retryLater {
	secs := max(1, int((retryAt.Sub(now)+time.Second-1)/time.Second))
	return &retryLater{oauthError{http.StatusTooManyRequests, "temporarily_unavailable",
		"Too many sign-in attempts for this account; retry after " + strconv.Itoa(secs) + " s."}, secs}
}

// signInHooks let tests stand where a sign-in waits, without sleeping:
// beforeVerify runs where the password check waits for a hashing slot and
// may return ctx.Err() as that wait does; done runs when the token endpoint
// has finished with a request, answered or not. Both are nil outside tests.
type signInHooks struct {
	beforeVerify func(ctx context.Context, username string) error
	done         func()
}
