// Package auth holds the server's credentials machinery: password hashing
// and access tokens. It knows nothing of HTTP; package httpapi wires it to
// the token endpoint and the Authorization header. The sign-in schedule that
// throttles password guessing lives in the store (ucwad.SignInStore), so
// that every server process shares it.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	// Time is the number of passes over the memory.
	Time uint32
	// MemoryKiB is the memory each hash computation holds, in KiB.
	MemoryKiB uint32
	// Threads is the degree of parallelism.
	Threads uint8
}

// DefaultParams are OWASP's minimum recommendation for argon2id
// (19 MiB, 2 passes, 1 thread).
var DefaultParams = Params{Time: 2, MemoryKiB: 19 * 1024, Threads: 1}

// TestParams are cheap parameters for tests (still real argon2id); never use
// them in production.
var TestParams = Params{Time: 1, MemoryKiB: 64, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32

	// Bounds on what Verify accepts from an encoded hash (see affordable).
	maxMemoryKiB = 4 << 20 // 4 GiB
	maxTime      = 64
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 128
)

// ErrMalformedHash is returned (wrapped) by Verify when the encoded hash is
// not an argon2id PHC string this package can verify. It never carries the
// encoded string itself.
var ErrMalformedHash = errors.New("auth: malformed password hash")

// Hasher hashes and verifies passwords with bounded concurrency, so that a
// burst of sign-ins cannot exhaust memory: at most `concurrency` hash
// computations run at once; others wait for a slot or for ctx.
//
// Create one with NewHasher; the zero Hasher is not usable. A Hasher is safe
// for concurrent use.
type Hasher struct {
	p   Params
	sem chan struct{}
	// dummy is verified against when the account does not exist, so that an
	// unknown user costs exactly what a known one does.
	dummy phc
	// onWait, when set (by tests only), is called when a computation finds
	// every slot taken and is about to block.
	onWait func()
}

// NewHasher returns a Hasher that hashes new passwords with p and runs at
// most concurrency computations at once (concurrency < 1 means 1). Zero
// fields of p take the value of DefaultParams, and MemoryKiB is raised to
// argon2's floor of 8 KiB per thread, so that a partly filled configuration
// can never produce hashes that argon2 implementations reject.
func NewHasher(p Params, concurrency int) *Hasher {
	if p.Time == 0 {
		p.Time = DefaultParams.Time
	}
	if p.MemoryKiB == 0 {
		p.MemoryKiB = DefaultParams.MemoryKiB
	}
	if p.Threads == 0 {
		p.Threads = DefaultParams.Threads
	}
	if p.MemoryKiB < 8*uint32(p.Threads) {
		p.MemoryKiB = 8 * uint32(p.Threads) // argon2's floor; see parseParams
	}
	if concurrency < 1 {
		concurrency = 1
	}
	// Random rather than constant so that no password can match the dummy.
	dummy := phc{p: p, salt: make([]byte, saltLen), key: make([]byte, keyLen)}
	rand.Read(dummy.salt)
	rand.Read(dummy.key)
	return &Hasher{p: p, sem: make(chan struct{}, concurrency), dummy: dummy}
}

// Params returns the parameters h hashes new passwords with.
func (h *Hasher) Params() Params { return h.p }

// Hash returns the PHC encoding of a fresh argon2id hash of password:
// "$argon2id$v=19$m=<KiB>,t=<n>,p=<n>$<salt>$<key>" with a 16-byte random
// salt and a 32-byte key, both in unpadded standard base64. It returns
// ctx.Err() if ctx ends before a computation slot is free.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	e := phc{p: h.p, salt: make([]byte, saltLen)}
	rand.Read(e.salt)
	key, err := h.derive(ctx, password, e.p, e.salt, keyLen)
	if err != nil {
		return "", err
	}
	e.key = key
	return e.String(), nil
}

// Verify reports whether password matches encoded, comparing the derived key
// in constant time. It uses the parameters recorded in encoded, so hashes
// made before a change of defaults keep working.
//
// When encoded is "" (unknown user) it spends the same work as for a real
// hash made with h's parameters and returns false, so the response time does
// not reveal whether the account exists. A malformed encoded returns an error
// wrapping ErrMalformedHash; if ctx ends before a computation slot is free it
// returns ctx.Err().
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (bool, error) {
	want := h.dummy
	if encoded != "" {
		var err error
		if want, err = parsePHC(encoded); err != nil {
			return false, err
		}
		if err := h.affordable(want.p); err != nil {
			return false, err
		}
	}
	got, err := h.derive(ctx, password, want.p, want.salt, uint32(len(want.key)))
	if err != nil {
		return false, err
	}
	match := subtle.ConstantTimeCompare(got, want.key) == 1
	return match && encoded != "", nil
}

// NeedsRehash reports whether encoded was made with parameters, salt or key
// length other than those h uses for new hashes (or cannot be parsed), so
// that the caller can store a fresh hash after a successful sign-in.
func (h *Hasher) NeedsRehash(encoded string) bool {
	e, err := parsePHC(encoded)
	return err != nil || e.p != h.p || len(e.salt) != saltLen || len(e.key) != keyLen
}

// affordable rejects costs far above both h's own parameters and sane
// limits: the encoded hash comes from storage, and a corrupted or planted row
// must not make one sign-in allocate gigabytes or spin for minutes.
func (h *Hasher) affordable(p Params) error {
	if p.MemoryKiB > max(maxMemoryKiB, h.p.MemoryKiB) || p.Time > max(maxTime, h.p.Time) {
		return fmt.Errorf("%w: cost parameters too high", ErrMalformedHash)
	}
	return nil
}

// derive runs argon2id once a slot is free.
func (h *Hasher) derive(ctx context.Context, password string, p Params, salt []byte, n uint32) ([]byte, error) {
	if err := h.acquire(ctx); err != nil {
		return nil, err
	}
	defer func() { <-h.sem }()
	return argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, n), nil
}

func (h *Hasher) acquire(ctx context.Context) error {
	// A request whose client has gone must not burn a slot.
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case h.sem <- struct{}{}:
		return nil
	default:
	}
	if h.onWait != nil {
		h.onWait()
	}
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// phc is a decoded argon2id PHC string.
type phc struct {
	p    Params
	salt []byte
	key  []byte
}

func (e phc) String() string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, e.p.MemoryKiB, e.p.Time, e.p.Threads,
		b64.EncodeToString(e.salt), b64.EncodeToString(e.key))
}

func parsePHC(s string) (phc, error) {
	var e phc
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return e, fmt.Errorf("%w: not a PHC string", ErrMalformedHash)
	}
	if parts[1] != "argon2id" {
		return e, fmt.Errorf("%w: algorithm is not argon2id", ErrMalformedHash)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return e, fmt.Errorf("%w: unsupported version", ErrMalformedHash)
	}
	var err error
	if e.p, err = parseParams(parts[3]); err != nil {
		return e, err
	}
	b64 := base64.RawStdEncoding
	if e.salt, err = b64.DecodeString(parts[4]); err != nil || len(e.salt) < minSaltLen || len(e.salt) > maxSaltLen {
		return e, fmt.Errorf("%w: bad salt", ErrMalformedHash)
	}
	if e.key, err = b64.DecodeString(parts[5]); err != nil || len(e.key) < minKeyLen || len(e.key) > maxKeyLen {
		return e, fmt.Errorf("%w: bad key", ErrMalformedHash)
	}
	return e, nil
}

// parseParams parses "m=<KiB>,t=<n>,p=<n>" in the order the PHC format fixes.
func parseParams(s string) (Params, error) {
	var p Params
	fields := strings.Split(s, ",")
	names := [...]string{"m", "t", "p"}
	if len(fields) != len(names) {
		return p, fmt.Errorf("%w: bad parameters", ErrMalformedHash)
	}
	var v [3]uint64
	for i, f := range fields {
		name, val, ok := strings.Cut(f, "=")
		if !ok || name != names[i] {
			return p, fmt.Errorf("%w: bad parameters", ErrMalformedHash)
		}
		n, err := strconv.ParseUint(val, 10, 32)
		if err != nil {
			return p, fmt.Errorf("%w: bad parameter %s", ErrMalformedHash, name)
		}
		v[i] = n
	}
	p = Params{MemoryKiB: uint32(v[0]), Time: uint32(v[1]), Threads: uint8(v[2])}
	switch {
	case v[1] < 1:
		return p, fmt.Errorf("%w: time out of range", ErrMalformedHash)
	case v[2] < 1 || v[2] > 255:
		return p, fmt.Errorf("%w: parallelism out of range", ErrMalformedHash)
	case v[0] < 8*v[2]:
		// argon2 needs 8 KiB per lane: the reference implementation rejects
		// less, and x/crypto would silently compute with more than recorded.
		return p, fmt.Errorf("%w: memory out of range", ErrMalformedHash)
	}
	return p, nil
}
