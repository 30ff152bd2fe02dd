package ucwad_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ucwad/ucwad"
)

func TestErrorCodeAndSubcode(t *testing.T) {
	inner := &ucwad.Error{Code: ucwad.EConflict, Subcode: ucwad.SubAlreadyExists, Message: "taken"}
	for _, tc := range []struct {
		err     error
		code    ucwad.Code
		subcode string
	}{
		{nil, "", ""},
		{inner, ucwad.EConflict, ucwad.SubAlreadyExists},
		{fmt.Errorf("wrapped: %w", inner), ucwad.EConflict, ucwad.SubAlreadyExists},
		{errors.New("disk on fire"), ucwad.EServiceFailure, ""},
		{ucwad.InvalidParameter("subject", "too long"), ucwad.EBadRequest, ucwad.SubParameterValidationFailure},
	} {
		if got := ucwad.ErrorCode(tc.err); got != tc.code {
			t.Errorf("ErrorCode(%v) = %q, want %q", tc.err, got, tc.code)
		}
		if got := ucwad.ErrorSubcode(tc.err); got != tc.subcode {
			t.Errorf("ErrorSubcode(%v) = %q, want %q", tc.err, got, tc.subcode)
		}
	}
	if got := inner.Error(); got != "Conflict/AlreadyExists: taken" {
		t.Errorf("Error() = %q", got)
	}
	if p := ucwad.InvalidParameter("subject", "x").Parameters; len(p) != 1 || p[0] != "subject" {
		t.Errorf("InvalidParameter names %v", p)
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		id := ucwad.NewID()
		if len(id) != 20 {
			t.Fatalf("NewID() = %q: length %d, want 20", id, len(id))
		}
		for _, r := range id {
			if !(r >= 'a' && r <= 'z' || r >= '2' && r <= '7') {
				t.Fatalf("NewID() = %q has %q", id, r)
			}
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestUserNames(t *testing.T) {
	u := &ucwad.User{SIP: "alice@contoso.com"}
	if u.URI() != "sip:alice@contoso.com" || u.DisplayName() != "alice@contoso.com" {
		t.Errorf("URI %q DisplayName %q", u.URI(), u.DisplayName())
	}
	u.Name = "Alice Example"
	if u.DisplayName() != "Alice Example" {
		t.Errorf("DisplayName %q", u.DisplayName())
	}
}
