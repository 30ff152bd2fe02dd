package httpapi

import (
	"context"
	"testing"
)

// HoldBatchSlots takes n of the user's outstanding batch slots, as a batch
// of theirs still running would, until release is called.
func (s *Server) HoldBatchSlots(t testing.TB, sip string, n int) (release func()) {
	t.Helper()
	u, err := s.store.users.FindUserBySIP(context.Background(), sip)
	if err != nil {
		t.Fatal(err)
	}
	if !s.batches.reserve(u.ID, n) {
		t.Fatalf("%s already has batch requests outstanding", sip)
	}
	return func() { s.batches.release(u.ID, n) }
}

// SetSignInHooks installs the sign-in test hooks (see signInHooks); call
// it before the server gets its first request.
func SetSignInHooks(s *Server, beforeVerify func(ctx context.Context, username string) error, done func()) {
	s.hooks = signInHooks{beforeVerify: beforeVerify, done: done}
}
