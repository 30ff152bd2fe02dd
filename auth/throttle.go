package auth

import (
	"container/list"
	"crypto/sha256"
	"strings"
	"sync"
	"time"

	"github.com/ucwad/ucwad/clock"
)

// ThrottleConfig tunes a Throttle. Zero (or negative) fields take the
// defaults in their comments.
type ThrottleConfig struct {
	// Free is how many failures are allowed before any delay (default 5).
	Free int
	// Base is the delay after Free failures (default 250ms); it doubles with
	// each further failure.
	Base time.Duration
	// Max caps the delay (default 8s).
	Max time.Duration
	// Window is how long an account's failures are remembered: they are
	// forgotten once Window has passed since its latest failure
	// (default 15m).
	Window time.Duration
	// MaxAccounts bounds how many accounts are tracked; beyond it the account
	// whose latest failure is oldest is forgotten first (default 100000).
	MaxAccounts int
}

const (
	defaultFree        = 5
	defaultBase        = 250 * time.Millisecond
	defaultMax         = 8 * time.Second
	defaultWindow      = 15 * time.Minute
	defaultMaxAccounts = 100000
)

// Throttle slows down repeated failed sign-ins for one account without
// locking it: a legitimate user is delayed, never refused, so an attacker
// cannot lock a user out. Memory is bounded by MaxAccounts whatever the
// account names are. Create one with NewThrottle; a Throttle is safe for
// concurrent use.
type Throttle struct {
	clk clock.Clock
	cfg ThrottleConfig

	mu sync.Mutex
	// byKey indexes the elements of recent, which is ordered by latest
	// failure, newest first, so that both expiry and eviction happen at the
	// back in O(1).
	byKey  map[accountKey]*list.Element
	recent *list.List // of *failures
}

// accountKey is a digest of the normalised account name, so that an
// attacker sending enormous user names cannot grow the throttle's memory.
type accountKey [sha256.Size]byte

type failures struct {
	key    accountKey
	count  int
	latest time.Time
}

// NewThrottle returns a Throttle reading the time from clk (clock.Real()
// when nil), with zero fields of cfg replaced by their defaults.
func NewThrottle(clk clock.Clock, cfg ThrottleConfig) *Throttle {
	if clk == nil {
		clk = clock.Real()
	}
	if cfg.Free <= 0 {
		cfg.Free = defaultFree
	}
	if cfg.Base <= 0 {
		cfg.Base = defaultBase
	}
	if cfg.Max <= 0 {
		cfg.Max = defaultMax
	}
	if cfg.Window <= 0 {
		cfg.Window = defaultWindow
	}
	if cfg.MaxAccounts <= 0 {
		cfg.MaxAccounts = defaultMaxAccounts
	}
	return &Throttle{clk: clk, cfg: cfg, byKey: make(map[accountKey]*list.Element), recent: list.New()}
}

// Config returns the configuration in force, defaults filled in.
func (t *Throttle) Config() ThrottleConfig { return t.cfg }

// Delay returns how long to wait before verifying a sign-in attempt for
// account: 0 while the account has fewer than Free recent failures, then
// Base, doubling with each further failure up to Max.
func (t *Throttle) Delay(account string) time.Duration {
	key := keyOf(account)
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.byKey[key]
	if !ok {
		return 0
	}
	f := e.Value.(*failures)
	if t.expired(f, t.clk.Now()) {
		t.forget(e)
		return 0
	}
	return t.delay(f.count)
}

// Failure records a failed sign-in for account.
func (t *Throttle) Failure(account string) {
	key := keyOf(account)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failLocked(key, t.clk.Now())
}

// Attempt is Delay and Failure in one step: it returns the delay for this
// attempt and counts the attempt as failed until Success says otherwise.
// Counting on arrival rather than after the password check means attempts
// sent in parallel each wait longer than the one before, instead of all
// waiting the delay of the failures known when they arrived.
func (t *Throttle) Attempt(account string) time.Duration {
	key := keyOf(account)
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clk.Now()
	var d time.Duration
	if e, ok := t.byKey[key]; ok && !t.expired(e.Value.(*failures), now) {
		d = t.delay(e.Value.(*failures).count)
	}
	t.failLocked(key, now)
	return d
}

func (t *Throttle) failLocked(key accountKey, now time.Time) {
	e, ok := t.byKey[key]
	if ok {
		f := e.Value.(*failures)
		if t.expired(f, now) {
			f.count = 0
		}
		f.count++
		f.latest = now
		t.recent.MoveToFront(e)
	} else {
		t.byKey[key] = t.recent.PushFront(&failures{key: key, count: 1, latest: now})
	}
	for b := t.recent.Back(); b != nil; b = t.recent.Back() {
		if t.recent.Len() <= t.cfg.MaxAccounts && !t.expired(b.Value.(*failures), now) {
			break
		}
		t.forget(b)
	}
}

// Success forgets account's failures: the user proved who they are.
func (t *Throttle) Success(account string) {
	key := keyOf(account)
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.byKey[key]; ok {
		t.forget(e)
	}
}

func (t *Throttle) expired(f *failures, now time.Time) bool {
	return now.Sub(f.latest) >= t.cfg.Window
}

func (t *Throttle) forget(e *list.Element) {
	delete(t.byKey, e.Value.(*failures).key)
	t.recent.Remove(e)
}

func (t *Throttle) delay(count int) time.Duration {
	if count < t.cfg.Free {
		return 0
	}
	d := t.cfg.Base
	for i := t.cfg.Free; i < count; i++ {
		if d >= t.cfg.Max-d { // 2d ≥ Max, written so that it cannot overflow
			return t.cfg.Max
		}
		d *= 2
	}
	return min(d, t.cfg.Max)
}

// keyOf normalises account the way the user store matches SIP addresses
// (case-insensitively, with or without "sip:"), so that spelling variants of
// one account share its failures.
func keyOf(account string) accountKey {
	account = strings.ToLower(account)
	account = strings.TrimPrefix(account, "sip:")
	return sha256.Sum256([]byte(account))
}
