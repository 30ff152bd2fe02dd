package httpapi

import (
	"context"
	"sync"
)

// userGates bound how many write requests (POST, PUT, DELETE) each user
// has in progress at once; more wait their turn. Reading and checking a
// large body, the transaction and the answer all cost CPU, and a user
// sending many such writes in parallel would otherwise take every core from
// everyone else. Memory is one small entry per user with writes in
// progress.
type userGates struct {
	limit int
	mu    sync.Mutex
	gates map[int64]*userGate
}

// userGate is one user's slots; users counts the requests holding or
// waiting for one, so that an idle user's entry goes.
type userGate struct {
	slots chan struct{}
	users int
}

func newUserGates(limit int) *userGates {
	return &userGates{limit: limit, gates: map[int64]*userGate{}}
}

// acquire waits for one of the user's slots, or until ctx ends. On
// success the caller must call the returned release once.
func (g *userGates) acquire(ctx context.Context, userID int64) (release func(), err error) {
	g.mu.Lock()
	gate := g.gates[userID]
	if gate == nil {
		gate = &userGate{slots: make(chan struct{}, g.limit)}
		g.gates[userID] = gate
	}
	gate.users++
	g.mu.Unlock()
	leave := func() {
		g.mu.Lock()
		if gate.users--; gate.users == 0 {
			delete(g.gates, userID)
		}
		g.mu.Unlock()
	}
	select {
	case gate.slots <- struct{}{}:
		return func() {
			<-gate.slots
			leave()
		}, nil
	case <-ctx.Done():
		leave()
		return nil, ctx.Err()
	}
}
