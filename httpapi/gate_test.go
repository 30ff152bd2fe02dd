package httpapi

import (
	"context"
	"testing"
)

// TestUserGates: a user has at most limit writes in progress; the next
// waits (here: gives up, its context being done) while other users go on;
// a released slot serves the next; an idle user's entry goes.
func TestUserGates(t *testing.T) {
	g := newUserGates(2)
	done, cancel := context.WithCancel(t.Context())
	cancel()
	var releases []func()
	for range 2 {
		release, err := g.acquire(t.Context(), 1)
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, release)
	}
	if _, err := g.acquire(done, 1); err == nil {
		t.Fatal("a third write of the same user got a slot")
	}
	other, err := g.acquire(t.Context(), 2)
	if err != nil {
		t.Fatalf("another user: %v", err)
	}
	other()
	releases[0]()
	third, err := g.acquire(t.Context(), 1)
	if err != nil {
		t.Fatalf("after a release: %v", err)
	}
	third()
	releases[1]()
	if len(g.gates) != 0 {
		t.Errorf("%d gates left for idle users", len(g.gates))
	}
}
