package auth

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func hashOf(t *testing.T, h *Hasher, password string) string {
	t.Helper()
	enc, err := h.Hash(context.Background(), password)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	return enc
}

func verify(t *testing.T, h *Hasher, encoded, password string) bool {
	t.Helper()
	ok, err := h.Verify(context.Background(), encoded, password)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return ok
}

func TestHashVerify(t *testing.T) {
	h := NewHasher(TestParams, 2)
	enc := hashOf(t, h, "correct horse")
	tests := []struct {
		name     string
		password string
		want     bool
	}{
		{"right", "correct horse", true},
		{"wrong", "correct horsf", false},
		{"prefix", "correct hors", false},
		{"empty", "", false},
		{"case", "Correct horse", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := verify(t, h, enc, tt.password); got != tt.want {
				t.Errorf("Verify(%q) = %v, want %v", tt.password, got, tt.want)
			}
		})
	}
}

func TestHashEmptyPassword(t *testing.T) {
	h := NewHasher(TestParams, 1)
	enc := hashOf(t, h, "")
	if got := verify(t, h, enc, ""); !got {
		t.Errorf("Verify(empty) = false, want true")
	}
}

var phcPattern = regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$`)

func TestHashFormat(t *testing.T) {
	p := Params{Time: 3, MemoryKiB: 128, Threads: 2}
	// A password no base64 text can contain ('!' is outside its alphabet),
	// so that finding it in the output means it was written there.
	const password = "correct horse!"
	enc := hashOf(t, NewHasher(p, 1), password)
	m := phcPattern.FindStringSubmatch(enc)
	if m == nil {
		t.Fatalf("Hash = %q, not an argon2id PHC string", enc)
	}
	if got, want := m[1]+","+m[2]+","+m[3], "128,3,2"; got != want {
		t.Errorf("m,t,p = %s, want %s", got, want)
	}
	// Unpadded base64 of 16 and 32 bytes.
	if got, want := len(m[4]), 22; got != want {
		t.Errorf("salt length = %d chars, want %d", got, want)
	}
	if got, want := len(m[5]), 43; got != want {
		t.Errorf("key length = %d chars, want %d", got, want)
	}
	if strings.Contains(enc, password) {
		t.Errorf("Hash output %q contains the password", enc)
	}
}

func TestVerifyUsesEncodedParams(t *testing.T) {
	old := NewHasher(Params{Time: 2, MemoryKiB: 96, Threads: 2}, 1)
	enc := hashOf(t, old, "secret")
	cur := NewHasher(TestParams, 1)
	if got := verify(t, cur, enc, "secret"); !got {
		t.Errorf("Verify with other Params = false, want true")
	}
	if got := verify(t, cur, enc, "Secret"); got {
		t.Errorf("Verify wrong password with other Params = true, want false")
	}
	if got := cur.NeedsRehash(enc); !got {
		t.Errorf("NeedsRehash(old params) = false, want true")
	}
	if got := cur.NeedsRehash(hashOf(t, cur, "secret")); got {
		t.Errorf("NeedsRehash(current params) = true, want false")
	}
	if got := cur.NeedsRehash("garbage"); !got {
		t.Errorf("NeedsRehash(garbage) = false, want true")
	}
}

// Vectors from the reference C implementation (libargon2's
// argon2id_hash_encoded) pin the encoding and the parameter handling to what
// other argon2id implementations produce and accept.
func TestVerifyReferenceVectors(t *testing.T) {
	vectors := []string{
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$Wb9DOLKUgwlL5fjad9tfCPU0SBAo0PEY/evJRhwtUR0",
		"$argon2id$v=19$m=96,t=2,p=2$c2FsdHNhbHRzYWx0c2FsdA$mOHcYsHuv5gK2iLLRkJ4wKU6aoIBedw0DpPP3RW+fHU",
		"$argon2id$v=19$m=256,t=3,p=4$c2FsdHNhbHRzYWx0c2FsdA$fwfGb+vIubWfuLB9/YzfZTInF3Z4Ua2Wgy1Elio7Ys0",
	}
	h := NewHasher(TestParams, 1)
	for _, enc := range vectors {
		if got := verify(t, h, enc, "password"); !got {
			t.Errorf("Verify(%q, right password) = false, want true", enc)
		}
		if got := verify(t, h, enc, "passwore"); got {
			t.Errorf("Verify(%q, wrong password) = true, want false", enc)
		}
		e, err := parsePHC(enc)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.String(); got != enc {
			t.Errorf("re-encoded = %q, want %q", got, enc)
		}
	}
}

func TestHashSalted(t *testing.T) {
	h := NewHasher(TestParams, 1)
	a, b := hashOf(t, h, "same"), hashOf(t, h, "same")
	if a == b {
		t.Errorf("two hashes of the same password are equal: %q", a)
	}
}

func TestVerifyUnknownUser(t *testing.T) {
	h := NewHasher(TestParams, 1)
	for _, pw := range []string{"", "anything"} {
		if got := verify(t, h, "", pw); got {
			t.Errorf("Verify(\"\", %q) = true, want false", pw)
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	h := NewHasher(TestParams, 1)
	good := hashOf(t, h, "pw")
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	with := func(alg, ver, params, salt, key string) string {
		return strings.Join([]string{"", alg, ver, params, salt, key}, "$")
	}
	tests := []struct {
		name    string
		encoded string
	}{
		{"garbage", "not a hash"},
		{"no leading dollar", strings.TrimPrefix(good, "$")},
		{"too few fields", "$argon2id$v=19$m=64,t=1,p=1$" + salt},
		{"too many fields", good + "$x"},
		{"argon2i", with("argon2i", "v=19", "m=64,t=1,p=1", salt, key)},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"version 16", with("argon2id", "v=16", "m=64,t=1,p=1", salt, key)},
		{"no version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key},
		{"params order", with("argon2id", "v=19", "t=1,m=64,p=1", salt, key)},
		{"params missing", with("argon2id", "v=19", "m=64,t=1", salt, key)},
		{"params extra", with("argon2id", "v=19", "m=64,t=1,p=1,k=2", salt, key)},
		{"param not a number", with("argon2id", "v=19", "m=x,t=1,p=1", salt, key)},
		{"param negative", with("argon2id", "v=19", "m=64,t=-1,p=1", salt, key)},
		{"param overflow", with("argon2id", "v=19", "m=4294967296,t=1,p=1", salt, key)},
		{"time zero", with("argon2id", "v=19", "m=64,t=0,p=1", salt, key)},
		{"threads zero", with("argon2id", "v=19", "m=64,t=1,p=0", salt, key)},
		{"threads over 255", with("argon2id", "v=19", "m=4096,t=1,p=256", salt, key)},
		{"memory below floor", with("argon2id", "v=19", "m=15,t=1,p=2", salt, key)},
		{"memory too high", with("argon2id", "v=19", "m=4194305,t=1,p=1", salt, key)},
		{"time too high", with("argon2id", "v=19", "m=64,t=65,p=1", salt, key)},
		{"salt not base64", with("argon2id", "v=19", "m=64,t=1,p=1", "!!!!", key)},
		{"salt padded", with("argon2id", "v=19", "m=64,t=1,p=1", salt+"==", key)},
		{"salt too short", with("argon2id", "v=19", "m=64,t=1,p=1", "c2FsdA", key)},
		{"salt empty", with("argon2id", "v=19", "m=64,t=1,p=1", "", key)},
		{"key empty", with("argon2id", "v=19", "m=64,t=1,p=1", salt, "")},
		{"key too short", with("argon2id", "v=19", "m=64,t=1,p=1", salt, key[:20])},
		{"key url alphabet", with("argon2id", "v=19", "m=64,t=1,p=1", salt, strings.Repeat("-", 43))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := h.Verify(context.Background(), tt.encoded, "pw")
			if !errors.Is(err, ErrMalformedHash) {
				t.Errorf("Verify(%q) error = %v, want ErrMalformedHash", tt.encoded, err)
			}
			if ok {
				t.Errorf("Verify(%q) = true, want false", tt.encoded)
			}
		})
	}
}

func TestErrorsHideSecrets(t *testing.T) {
	h := NewHasher(TestParams, 1)
	const password = "hunter2-secret"
	enc := "$argon2id$v=19$m=64,t=1,p=1$" + password + "$" + password
	_, err := h.Verify(context.Background(), enc, password)
	if err == nil {
		t.Fatal("Verify succeeded on a malformed hash")
	}
	if strings.Contains(err.Error(), password) {
		t.Errorf("error %q reveals the secret", err)
	}
}

func TestNewHasherDefaults(t *testing.T) {
	tests := []struct {
		in, want Params
	}{
		{Params{}, DefaultParams},
		{Params{Time: 1}, Params{Time: 1, MemoryKiB: DefaultParams.MemoryKiB, Threads: 1}},
		{Params{Time: 1, MemoryKiB: 8, Threads: 4}, Params{Time: 1, MemoryKiB: 32, Threads: 4}},
		{TestParams, TestParams},
	}
	for _, tt := range tests {
		if got := NewHasher(tt.in, 0).Params(); got != tt.want {
			t.Errorf("NewHasher(%+v).Params() = %+v, want %+v", tt.in, got, tt.want)
		}
	}
	if got, want := cap(NewHasher(TestParams, -3).sem), 1; got != want {
		t.Errorf("concurrency = %d, want %d", got, want)
	}
}

// TestHasherBounded holds the only slot as a running computation would and
// shows that Hash and Verify wait for it, give up with ctx.Err() when their
// context ends, and proceed once the slot is released.
func TestHasherBounded(t *testing.T) {
	h := NewHasher(TestParams, 1)
	enc := hashOf(t, h, "pw")
	waiting := make(chan struct{}, 1)
	h.onWait = func() { waiting <- struct{}{} }

	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Hash", func(ctx context.Context) error {
			_, err := h.Hash(ctx, "pw")
			return err
		}},
		{"Verify", func(ctx context.Context) error {
			ok, err := h.Verify(ctx, enc, "pw")
			if err == nil && !ok {
				return errors.New("Verify = false, want true")
			}
			return err
		}},
		{"Verify unknown user", func(ctx context.Context) error {
			_, err := h.Verify(ctx, "", "pw")
			return err
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			h.sem <- struct{}{} // occupy the only slot

			// A context cancelled while waiting.
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- c.call(ctx) }()
			<-waiting
			select {
			case err := <-done:
				t.Fatalf("returned %v while the slot was taken", err)
			default:
			}
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("error = %v, want %v", err, context.Canceled)
			}

			// A context already cancelled does not even queue.
			if err := c.call(ctx); !errors.Is(err, context.Canceled) {
				t.Errorf("error with cancelled ctx = %v, want %v", err, context.Canceled)
			}

			// Waiting, then released.
			go func() { done <- c.call(context.Background()) }()
			<-waiting
			<-h.sem
			if err := <-done; err != nil {
				t.Errorf("after release: %v", err)
			}
			if got := len(h.sem); got != 0 {
				t.Errorf("slots held after return = %d, want 0", got)
			}
		})
	}
}

func TestHasherConcurrent(t *testing.T) {
	h := NewHasher(TestParams, 2)
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() {
			pw := fmt.Sprint("pw", i)
			enc, err := h.Hash(context.Background(), pw)
			if err == nil {
				var ok bool
				ok, err = h.Verify(context.Background(), enc, pw)
				if err == nil && !ok {
					err = errors.New("round trip failed")
				}
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := len(h.sem); got != 0 {
		t.Errorf("slots held after return = %d, want 0", got)
	}
}

func BenchmarkHashDefault(b *testing.B) {
	h := NewHasher(DefaultParams, 1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyDefault(b *testing.B) {
	h := NewHasher(DefaultParams, 1)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		ok, err := h.Verify(ctx, enc, "correct horse battery staple")
		if err != nil || !ok {
			b.Fatalf("Verify = %v, %v", ok, err)
		}
	}
}
