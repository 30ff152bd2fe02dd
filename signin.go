package ucwad

import (
	"context"
	"time"
)

// SignInStore keeps the sign-in schedule: for each account, how many
// password checks failed recently and when the next one may run. Keeping it
// in the store rather than in a process means every server process sharing
// the store follows one schedule, so adding processes adds no guesses.
//
// Accounts are named by SignInAccount: a user that exists by its id (its
// state goes with the user and is never evicted), any other name by the
// name, in a table bounded by Limits.MaxUnknownSignInNames whose eviction
// can only ever forget other unknown names.
type SignInStore interface {
	// ClaimSignIn asks for a password check for the account now. When the
	// account's next check is due (always, for an account with no recent
	// failures), the claim is granted and already counted as a failure, with
	// the next check set p.Delay(failures) later, so that parallel attempts
	// see each other at once. Otherwise it is refused, with RetryAt the time
	// of the next check, and changes nothing. State older than p.Window is
	// forgotten first. Returns ENotFound if a.UserID names no user.
	ClaimSignIn(ctx context.Context, a SignInAccount, p SignInPolicy) (SignInClaim, error)
	// ReleaseSignIn undoes a granted claim whose password was never checked
	// (the client left while it waited): the account's state goes back to
	// c.Prev, provided it is still c.Next. If another claim has been granted
	// since, the state is left as it is. Releasing a refused claim does
	// nothing.
	ReleaseSignIn(ctx context.Context, c SignInClaim) error
	// ResetSignIn forgets the account's failures: its password proved right.
	ResetSignIn(ctx context.Context, a SignInAccount) error
	// DeleteExpiredSignIns removes the state of accounts whose latest
	// counted attempt is window or more in the past, and returns how many
	// accounts it forgot.
	DeleteExpiredSignIns(ctx context.Context, window time.Duration) (int, error)
}

// SignInAccount is what a sign-in attempt's schedule is kept under.
type SignInAccount struct {
	// UserID, when not zero, is the user the sign-in name belongs to.
	UserID int64
	// Name is the sign-in name as given; it keys the schedule only when
	// UserID is zero (no such user), compared as user names are: without
	// case and without a "sip:" prefix.
	Name string
}

// SignInState is an account's place in the schedule. The zero value is an
// account with no recent failures.
type SignInState struct {
	// Failures counts the granted attempts since the state was last
	// forgotten.
	Failures int
	// NextAt is when the next password check may start.
	NextAt time.Time
	// LastAt is when the latest attempt was granted.
	LastAt time.Time
}

// SignInClaim is the answer to ClaimSignIn.
type SignInClaim struct {
	Account SignInAccount
	// Granted is true when the password may be checked now.
	Granted bool
	// RetryAt, for a refused claim, is when the account's next check may
	// start.
	RetryAt time.Time
	// Prev and Next are the account's state before and after a granted
	// claim, for ReleaseSignIn. Next.Failures counts this attempt.
	Prev, Next SignInState
}

// SignInPolicy is the schedule of password checks per account. Zero fields
// mean the value of DefaultSignInPolicy.
type SignInPolicy struct {
	// Free is how many failures an account may have before its checks are
	// spaced out.
	Free int
	// FirstDelay is how long after the Free-th failure the next check may
	// start; each further failure doubles it, up to MaxDelay.
	FirstDelay time.Duration
	// MaxDelay caps the time between two checks: once guessing stops, the
	// owner's password is checked at most MaxDelay later.
	MaxDelay time.Duration
	// Window is how long failures are remembered: an account's state is
	// forgotten once Window has passed since its latest granted attempt.
	Window time.Duration
}

// DefaultSignInPolicy: five free failures, then 250 ms doubling to 8 s
// between checks (250 ms, 500 ms, 1 s, 2 s, 4 s, 8 s, 8 s, …), remembered
// for 15 minutes.
var DefaultSignInPolicy = SignInPolicy{
	Free:       5,
	FirstDelay: 250 * time.Millisecond,
	MaxDelay:   8 * time.Second,
	Window:     15 * time.Minute,
}

// WithDefaults returns p with its zero (or negative) fields replaced by
// DefaultSignInPolicy's.
func (p SignInPolicy) WithDefaults() SignInPolicy {
	d := DefaultSignInPolicy
	if p.Free <= 0 {
		p.Free = d.Free
	}
	if p.FirstDelay <= 0 {
		p.FirstDelay = d.FirstDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = d.MaxDelay
	}
	if p.Window <= 0 {
		p.Window = d.Window
	}
	return p
}

// Delay is how long after the attempt that brought an account to failures
// failures its next check may start: 0 below Free, then FirstDelay doubling
// with each failure, never more than MaxDelay. p must have its defaults
// filled in (WithDefaults).
func (p SignInPolicy) Delay(failures int) time.Duration {
	if failures < p.Free {
		return 0
	}
	d := p.FirstDelay
	for i := p.Free; i < failures; i++ {
		if d >= p.MaxDelay-d { // 2d ≥ MaxDelay, written so that it cannot overflow
			return p.MaxDelay
		}
		d *= 2
	}
	return min(d, p.MaxDelay)
}
