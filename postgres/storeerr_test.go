package postgres

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ucwad/ucwad"
)

// TestStoreErrConflict: a serialization failure or deadlock that outlasted
// the retries reaches the client as 503 ServiceUnavailable (try again), not
// as a failure of the server; other database errors stay internal.
func TestStoreErrConflict(t *testing.T) {
	for _, code := range []string{"40001", "40P01"} {
		err := wrap("join meeting", &pgconn.PgError{Code: code, Message: "could not serialize access"})
		if got := ucwad.ErrorCode(err); got != ucwad.EServiceUnavailable {
			t.Errorf("SQLSTATE %s: code %q, want %q (%v)", code, got, ucwad.EServiceUnavailable, err)
		}
		if !strings.Contains(err.Error(), "could not serialize access") {
			t.Errorf("SQLSTATE %s: the cause is lost from the logged error: %v", code, err)
		}
	}
	err := wrap("join meeting", &pgconn.PgError{Code: "23505", Message: "duplicate key"})
	if got := ucwad.ErrorCode(err); got == ucwad.EServiceUnavailable {
		t.Errorf("a unique violation became %q", got)
	}
}
