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

// RunReadCache reads the store's change feed as Run does, without the
// sweeps (whose timers the harness's tests count), until stop is called;
// polled, when not nil, is called after each read of the feed that
// succeeded.
func (s *Server) RunReadCache(polled func()) (stop func()) {
	if s.cache == nil {
		return func() {}
	}
	s.cache.polled = polled
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.cache.run(ctx, s.cacheWake, func(error) {})
	}()
	return func() { cancel(); <-done }
}

// SyncReadCache reads the change feed once now.
func (s *Server) SyncReadCache(ctx context.Context) error { return s.cache.poll(ctx) }

// ReadCacheFresh reports whether the read cache may answer now.
func (s *Server) ReadCacheFresh() bool { return s.cache.fresh() }
