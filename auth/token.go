package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
)

// TokenPrefix starts every access token value. UCWA clients expect it: in
// every documented token response the access_token begins with "cwt=".
const TokenPrefix = "cwt="

// tokenBytes of randomness: 256 bits, far beyond guessing.
const tokenBytes = 32

// maxTokenLen bounds what ParseBearer accepts; ours are 47 characters, and a
// longer value can only be junk that is not worth hashing.
const maxTokenLen = 256

// NewToken returns a fresh access token: the value the client holds,
// TokenPrefix followed by 32 random bytes in unpadded base64url (47
// characters in all), and its SHA-256 hash, the only form the server
// stores. The error is non-nil only if the system's random source fails.
func NewToken() (value string, hash []byte, err error) {
	var b [tokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, err
	}
	value = TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return value, HashToken(value), nil
}

// HashToken returns the SHA-256 of the full token value, prefix included: the
// key under which the token is stored and looked up. A fast hash suffices
// (unlike for passwords) because the value carries 256 random bits.
func HashToken(value string) []byte {
	sum := sha256.Sum256([]byte(value))
	return sum[:]
}

// Equal reports, in constant time, whether the token hashes a and b are the
// same. Empty hashes are never equal, so that a missing hash can never match
// another missing one.
func Equal(a, b []byte) bool {
	return len(a) > 0 && subtle.ConstantTimeCompare(a, b) == 1
}

// ParseBearer extracts the token value from an Authorization header value of
// the form "Bearer cwt=…": the scheme is matched case-insensitively and
// spaces or tabs around and between the parts are tolerated. ok is false
// for any other scheme, a value without TokenPrefix, a value containing
// whitespace, control or non-ASCII characters, or an overlong value.
func ParseBearer(header string) (value string, ok bool) {
	header = strings.Trim(header, " \t")
	i := strings.IndexAny(header, " \t")
	if i < 0 || !strings.EqualFold(header[:i], "Bearer") {
		return "", false
	}
	value = strings.TrimLeft(header[i:], " \t")
	if len(value) <= len(TokenPrefix) || len(value) > maxTokenLen || !strings.HasPrefix(value, TokenPrefix) {
		return "", false
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; c <= ' ' || c >= 0x7f {
			return "", false
		}
	}
	return value, true
}
