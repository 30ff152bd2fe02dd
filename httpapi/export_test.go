package httpapi

import "context"

// SetSignInHooks installs the sign-in test hooks (see signInHooks); call
// it before the server gets its first request.
func SetSignInHooks(s *Server, beforeVerify func(ctx context.Context, username string) error, done func()) {
	s.hooks = signInHooks{beforeVerify: beforeVerify, done: done}
}
