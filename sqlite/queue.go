package sqlite

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
)

// writeQueue hands the single writer connection to one leader at a time,
// taking turns between lanes (one per user): a lane with many transactions
// waiting gets one turn per round, so one user's burst of writes delays
// another user's write by at most one of its transactions, not by the whole
// burst. Within a lane, transactions go in arrival order.
//
// With group commit, the leader that gets the writer also takes the
// requests waiting behind it, in the same order of turns (fill), and runs
// them all in one transaction: one COMMIT, and one fsync with synchronous
// FULL, for the requests that arrived together.
type writeQueue struct {
	mu      sync.Mutex
	busy    bool
	waiting map[string][]*writeReq
	// turns lists the lanes with waiters in the order they get the
	// writer; a lane served goes to the back if it has more.
	turns []string
	// waited, when set, is called after a request joins the waiters
	// (for tests, which wait on it instead of sleeping).
	waited func()
}

// The lanes of the write queue. A user's own writes share the user's
// lane; writes known only by application (event reads, activity) have the
// application's; everything else (sign-in, maintenance) shares one.
func userLane(id int64) string { return "u" + strconv.FormatInt(id, 10) }
func appLane(id string) string { return "a" + id }

const sharedLane = ""

// The states of a writeReq that another goroutine's leader may run.
const (
	reqWaiting   int32 = iota // in the queue, or not yet run by its leader
	reqRunning                // its leader has started its work: it waits for the outcome
	reqAbandoned              // its context ended first: its leader skips it
)

// writeReq is one write transaction's request for the writer: its work (f)
// and, once run, its outcome.
type writeReq struct {
	ctx  context.Context
	lane string
	f    func(tx *writeTx) error
	// wake is closed when the request leaves the queue: as the leader
	// (leader set) or taken into a leader's batch.
	wake   chan struct{}
	leader bool
	state  atomic.Int32
	// done is closed when a batched request's outcome (err, panicked) is
	// known: after the COMMIT, or the failure.
	done     chan struct{}
	err      error
	panicked any
	tx       *writeTx
}

func newWriteReq(ctx context.Context, lane string, f func(tx *writeTx) error) *writeReq {
	return &writeReq{ctx: ctx, lane: lane, f: f, wake: make(chan struct{}), done: make(chan struct{})}
}

// enqueue takes the writer for r if it is free (returning true: r leads)
// or joins r's lane's waiters.
func (q *writeQueue) enqueue(r *writeReq) bool {
	q.mu.Lock()
	if !q.busy {
		q.busy = true
		r.leader = true
		q.mu.Unlock()
		return true
	}
	if q.waiting == nil {
		q.waiting = map[string][]*writeReq{}
	}
	if len(q.waiting[r.lane]) == 0 {
		q.turns = append(q.turns, r.lane)
	}
	q.waiting[r.lane] = append(q.waiting[r.lane], r)
	waited := q.waited
	q.mu.Unlock()
	if waited != nil {
		waited()
	}
	return false
}

// await waits until r leaves the queue (nil: r.leader tells how), or leaves
// the queue when r's context ends first. A request handed the writer as it
// gives up passes the writer on; one already taken into a batch returns
// nil, and its caller decides (see DB.awaitBatch).
func (q *writeQueue) await(r *writeReq) error {
	select {
	case <-r.wake:
		return nil
	case <-r.ctx.Done():
	}
	q.mu.Lock()
	select {
	case <-r.wake:
		q.mu.Unlock()
		if r.leader {
			// Handed the writer while giving up: pass it on.
			q.release()
			return r.ctx.Err()
		}
		return nil
	default:
	}
	w := q.waiting[r.lane]
	for i, c := range w {
		if c == r {
			w = append(w[:i:i], w[i+1:]...)
			break
		}
	}
	if len(w) == 0 {
		delete(q.waiting, r.lane)
		for i, l := range q.turns {
			if l == r.lane {
				q.turns = append(q.turns[:i:i], q.turns[i+1:]...)
				break
			}
		}
	} else {
		q.waiting[r.lane] = w
	}
	q.mu.Unlock()
	return r.ctx.Err()
}

// next takes the first waiter of the lane whose turn it is, sending the
// lane to the back if it has more. q.mu is held and turns is not empty.
func (q *writeQueue) next() *writeReq {
	lane := q.turns[0]
	q.turns = q.turns[1:]
	w := q.waiting[lane]
	r := w[0]
	if len(w) == 1 {
		delete(q.waiting, lane)
	} else {
		q.waiting[lane] = w[1:]
		q.turns = append(q.turns, lane)
	}
	return r
}

// fill adds to batch, which its leader holds the writer for, the waiters
// next in turn until it holds max requests, and tells them they are taken.
func (q *writeQueue) fill(batch []*writeReq, max int) []*writeReq {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(batch) < max && len(q.turns) > 0 {
		r := q.next()
		close(r.wake)
		batch = append(batch, r)
	}
	return batch
}

// release hands the writer to the next waiter in turn, as the leader, or
// frees it.
func (q *writeQueue) release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.turns) == 0 {
		q.busy = false
		return
	}
	r := q.next()
	r.leader = true
	close(r.wake)
}
