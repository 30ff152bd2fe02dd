package httpapi

import (
	"context"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// addressGate bounds the sign-ins in flight per client address, so that one
// address's flood holds a few places in the password-hashing queue instead
// of all of them, and everyone else's sign-in waits behind a few hashes at
// most. It holds an entry only for addresses with a sign-in in flight, so
// its size is bounded by the requests being served.
type addressGate struct {
	limit int
	mu    sync.Mutex
	n     map[netip.Prefix]int
}

func newAddressGate(limit int) *addressGate {
	return &addressGate{limit: limit, n: make(map[netip.Prefix]int)}
}

// enter takes a place for the address key k, reporting false when k already
// has limit sign-ins in flight. Each true must be followed by one leave.
func (g *addressGate) enter(k netip.Prefix) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n[k] >= g.limit {
		return false
	}
	g.n[k]++
	return true
}

func (g *addressGate) leave(k netip.Prefix) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n[k] <= 1 {
		delete(g.n, k)
		return
	}
	g.n[k]--
}

// retryLater is a 429 answer of the token endpoint: an OAuth error with a
// Retry-After header, in seconds.
type retryLater struct {
	oauthError
	seconds int
}

// errTooManyFromAddress is the token endpoint's answer when the client's
// address has MaxSignInsPerAddress sign-ins in flight already. One second
// is long enough for a few hashes to finish.
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
