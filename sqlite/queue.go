package sqlite

import (
	"context"
	"strconv"
	"sync"
)

// writeQueue hands the single writer connection to one transaction at a
// time, taking turns between lanes (one per user): a lane with many
// transactions waiting gets one turn per round, so one user's burst of
// writes delays another user's write by at most one of its transactions,
// not by the whole burst. Within a lane, transactions go in arrival order.
type writeQueue struct {
	mu      sync.Mutex
	busy    bool
	waiting map[string][]chan struct{}
	// turns lists the lanes with waiters in the order they get the
	// writer; a lane served goes to the back if it has more.
	turns []string
}

// The lanes of the write queue. A user's own writes share the user's
// lane; writes known only by application (event reads, activity) have the
// application's; everything else (sign-in, maintenance) shares one.
func userLane(id int64) string { return "u" + strconv.FormatInt(id, 10) }
func appLane(id string) string { return "a" + id }

const sharedLane = ""

// acquire waits for the writer's turn of lane, or until ctx ends.
func (q *writeQueue) acquire(ctx context.Context, lane string) error {
	turn := q.enqueue(lane)
	if turn == nil {
		return nil
	}
	return q.await(ctx, lane, turn)
}

// enqueue takes the writer if it is free (returning nil) or joins lane's
// waiters, returning the channel closed when the turn comes.
func (q *writeQueue) enqueue(lane string) chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.busy {
		q.busy = true
		return nil
	}
	if q.waiting == nil {
		q.waiting = map[string][]chan struct{}{}
	}
	turn := make(chan struct{})
	if len(q.waiting[lane]) == 0 {
		q.turns = append(q.turns, lane)
	}
	q.waiting[lane] = append(q.waiting[lane], turn)
	return turn
}

// await waits for turn, or leaves the queue when ctx ends.
func (q *writeQueue) await(ctx context.Context, lane string, turn chan struct{}) error {
	select {
	case <-turn:
		return nil
	case <-ctx.Done():
	}
	q.mu.Lock()
	select {
	case <-turn:
		// Handed the writer while giving up: pass it on.
		q.mu.Unlock()
		q.release()
		return ctx.Err()
	default:
	}
	w := q.waiting[lane]
	for i, c := range w {
		if c == turn {
			w = append(w[:i:i], w[i+1:]...)
			break
		}
	}
	if len(w) == 0 {
		delete(q.waiting, lane)
		for i, l := range q.turns {
			if l == lane {
				q.turns = append(q.turns[:i:i], q.turns[i+1:]...)
				break
			}
		}
	} else {
		q.waiting[lane] = w
	}
	q.mu.Unlock()
	return ctx.Err()
}

// release hands the writer to the next lane in turn, or frees it.
func (q *writeQueue) release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.turns) == 0 {
		q.busy = false
		return
	}
	lane := q.turns[0]
	q.turns = q.turns[1:]
	w := q.waiting[lane]
	next := w[0]
	if len(w) == 1 {
		delete(q.waiting, lane)
	} else {
		q.waiting[lane] = w[1:]
		q.turns = append(q.turns, lane)
	}
	close(next)
}
