package auth

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
)

func newToken(t *testing.T) (string, []byte) {
	t.Helper()
	value, hash, err := NewToken()
	if err != nil {
		t.Fatalf("NewToken: %v", err)
	}
	return value, hash
}

func TestNewToken(t *testing.T) {
	value, hash := newToken(t)
	if !strings.HasPrefix(value, TokenPrefix) {
		t.Fatalf("token %q lacks prefix %q", value, TokenPrefix)
	}
	if got, want := len(value), len(TokenPrefix)+43; got != want {
		t.Errorf("len(token) = %d, want %d", got, want)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(value, TokenPrefix))
	if err != nil {
		t.Fatalf("token body is not unpadded base64url: %v", err)
	}
	if got, want := len(raw), 32; got != want {
		t.Errorf("random bytes = %d, want %d", got, want)
	}
	if got, want := hash, HashToken(value); !bytes.Equal(got, want) {
		t.Errorf("hash = %x, want HashToken(value) = %x", got, want)
	}
	if got, ok := ParseBearer("Bearer " + value); !ok || got != value {
		t.Errorf("ParseBearer(Bearer <new token>) = %q, %v; want the token, true", got, ok)
	}
}

func TestNewTokenUnique(t *testing.T) {
	const n = 10000
	seen := make(map[string]bool, n)
	hashes := make(map[string]bool, n)
	for range n {
		value, hash := newToken(t)
		if seen[value] || hashes[string(hash)] {
			t.Fatalf("duplicate token after %d", len(seen))
		}
		seen[value], hashes[string(hash)] = true, true
	}
}

func TestHashToken(t *testing.T) {
	for _, value := range []string{"cwt=abc", "cwt=", ""} {
		want := sha256.Sum256([]byte(value))
		if got := HashToken(value); !bytes.Equal(got, want[:]) {
			t.Errorf("HashToken(%q) = %x, want %x", value, got, want)
		}
		if a, b := HashToken(value), HashToken(value); !bytes.Equal(a, b) {
			t.Errorf("HashToken(%q) not deterministic", value)
		}
	}
	if bytes.Equal(HashToken("cwt=abc"), HashToken("abc")) {
		t.Error("prefix does not take part in the hash")
	}
}

func TestEqual(t *testing.T) {
	a := HashToken("cwt=a")
	tests := []struct {
		name string
		x, y []byte
		want bool
	}{
		{"same", a, HashToken("cwt=a"), true},
		{"different", a, HashToken("cwt=b"), false},
		{"prefix", a, a[:16], false},
		{"one empty", a, nil, false},
		{"both empty", nil, []byte{}, false},
		{"both nil", nil, nil, false},
	}
	for _, tt := range tests {
		if got := Equal(tt.x, tt.y); got != tt.want {
			t.Errorf("%s: Equal = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestParseBearer(t *testing.T) {
	const tok = "cwt=AAEBHAEAAAAA_-xyz"
	tests := []struct {
		header string
		want   string
		ok     bool
	}{
		{"Bearer " + tok, tok, true},
		{"bearer " + tok, tok, true},
		{"BEARER " + tok, tok, true},
		{"  Bearer    " + tok + "  ", tok, true},
		{"Bearer\t" + tok, tok, true},
		{"\tBearer \t " + tok + "\t", tok, true},
		{"", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Bearer cwt=", "", false},
		{tok, "", false},
		{"Basic dXNlcjpwYXNz", "", false},
		{"Basic " + tok, "", false},
		{"Bearerx " + tok, "", false},
		{"MsRtcOAuth " + tok, "", false},
		{"Bearer abc", "", false},
		{"Bearer CWT=abc", "", false},
		{"Bearer " + tok + " extra", "", false},
		{"Bearer " + tok + "\x00", "", false},
		{"Bearer " + tok + "\x7f", "", false},
		{"Bearer " + tok + "é", "", false},
		{"Bearer cwt=" + strings.Repeat("a", maxTokenLen), "", false},
	}
	for _, tt := range tests {
		got, ok := ParseBearer(tt.header)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseBearer(%q) = %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseBearer(f *testing.F) {
	f.Add("Bearer cwt=abc")
	f.Add(" bearer\tcwt=x ")
	f.Add("Basic abc")
	f.Fuzz(func(t *testing.T, header string) {
		value, ok := ParseBearer(header)
		if !ok {
			if value != "" {
				t.Errorf("ParseBearer(%q) = %q with ok=false", header, value)
			}
			return
		}
		if !strings.HasPrefix(value, TokenPrefix) || strings.ContainsAny(value, " \t") || !strings.Contains(header, value) {
			t.Errorf("ParseBearer(%q) = %q", header, value)
		}
		if again, ok := ParseBearer("Bearer " + value); !ok || again != value {
			t.Errorf("ParseBearer not stable on %q", value)
		}
	})
}
