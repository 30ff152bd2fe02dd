package sqlite

import (
	"context"
	"slices"
	"testing"
)

// queued joins lane's waiters now, in the caller's order, and serves the
// turn on a goroutine: it reports name on order when its turn comes, waits
// for done, releases, and reports on released.
func queued(q *writeQueue, lane, name string, order chan<- string, done <-chan struct{}, released chan<- struct{}) {
	r := newWriteReq(context.Background(), lane, nil)
	leads := q.enqueue(r)
	go func() {
		if !leads {
			if err := q.await(r); err != nil {
				order <- "error " + err.Error()
				return
			}
		}
		order <- name
		<-done
		q.release()
		released <- struct{}{}
	}()
}

// TestWriteQueueTakesTurns: lanes take turns; within a lane, arrival
// order. Alice's four queued writes let Bob's and Carol's through after the
// first of them.
func TestWriteQueueTakesTurns(t *testing.T) {
	q := &writeQueue{}
	if !q.enqueue(newWriteReq(t.Context(), "holder", nil)) {
		t.Fatal("the free writer was not taken")
	}
	order := make(chan string, 16)
	done := make(chan struct{})
	released := make(chan struct{}, 16)
	for _, w := range []struct{ lane, name string }{
		{"alice", "a1"}, {"alice", "a2"}, {"alice", "a3"}, {"bob", "b1"}, {"alice", "a4"}, {"carol", "c1"}, {"bob", "b2"},
	} {
		queued(q, w.lane, w.name, order, done, released)
	}
	q.release()
	var got []string
	for range 7 {
		got = append(got, <-order)
		done <- struct{}{}
		<-released
	}
	if want := []string{"a1", "b1", "c1", "a2", "b2", "a3", "a4"}; !slices.Equal(got, want) {
		t.Errorf("served %v, want %v", got, want)
	}
	if q.busy || len(q.turns) != 0 || len(q.waiting) != 0 {
		t.Errorf("after everything: busy %v, turns %v, waiting %v", q.busy, q.turns, q.waiting)
	}
}

// TestWriteQueueCancel: a waiter whose context ends leaves the queue
// without taking or losing anyone's turn.
func TestWriteQueueCancel(t *testing.T) {
	q := &writeQueue{}
	if !q.enqueue(newWriteReq(t.Context(), "holder", nil)) {
		t.Fatal("the free writer was not taken")
	}
	ctx, cancel := context.WithCancel(t.Context())
	alice := newWriteReq(ctx, "alice", nil)
	q.enqueue(alice)
	order := make(chan string, 4)
	done := make(chan struct{})
	released := make(chan struct{}, 4)
	queued(q, "bob", "b1", order, done, released)
	cancel()
	if err := q.await(alice); err == nil {
		t.Fatal("a cancelled wait succeeded")
	}
	q.release()
	if got := <-order; got != "b1" {
		t.Fatalf("served %s, want b1", got)
	}
	done <- struct{}{}
	<-released
	if q.busy || len(q.turns) != 0 || len(q.waiting) != 0 {
		t.Errorf("after everything: busy %v, turns %v, waiting %v", q.busy, q.turns, q.waiting)
	}

	// Cancelled just as its turn came: the turn passes on.
	if !q.enqueue(newWriteReq(t.Context(), "holder", nil)) {
		t.Fatal("the free writer was not taken")
	}
	ctx, cancel = context.WithCancel(t.Context())
	alice = newWriteReq(ctx, "alice", nil)
	q.enqueue(alice)
	queued(q, "bob", "b2", order, done, released)
	q.release() // alice's turn, which she is giving up
	cancel()
	if err := q.await(alice); err != nil {
		// Either she took it (and must release) or passed it on.
		if got := <-order; got != "b2" {
			t.Fatalf("served %s, want b2", got)
		}
	} else {
		q.release()
		if got := <-order; got != "b2" {
			t.Fatalf("served %s, want b2", got)
		}
	}
	done <- struct{}{}
	<-released
	if q.busy {
		t.Error("the writer stayed taken")
	}
}

// TestWriteQueueFillTakesTurns: a leader's batch takes the waiters in the
// order of turns, bounded, and the rest wait for the next leader.
func TestWriteQueueFillTakesTurns(t *testing.T) {
	q := &writeQueue{}
	holder := newWriteReq(t.Context(), "holder", nil)
	if !q.enqueue(holder) {
		t.Fatal("the free writer was not taken")
	}
	reqs := map[*writeReq]string{}
	for _, w := range []struct{ lane, name string }{
		{"alice", "a1"}, {"alice", "a2"}, {"alice", "a3"}, {"bob", "b1"}, {"carol", "c1"}, {"bob", "b2"},
	} {
		r := newWriteReq(t.Context(), w.lane, nil)
		reqs[r] = w.name
		q.enqueue(r)
	}
	var got []string
	for _, r := range q.fill([]*writeReq{holder}, 5)[1:] {
		got = append(got, reqs[r])
		if r.leader {
			t.Errorf("%s taken as a leader", reqs[r])
		}
	}
	if want := []string{"a1", "b1", "c1", "a2"}; !slices.Equal(got, want) {
		t.Errorf("batch %v, want %v", got, want)
	}
	q.release()
	for r, name := range reqs {
		select {
		case <-r.wake:
			if name == "b2" != r.leader {
				t.Errorf("%s: leader %v", name, r.leader)
			}
		default:
			if name != "a3" {
				t.Errorf("%s still waits", name)
			}
		}
	}
}
