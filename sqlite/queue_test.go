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
	turn := q.enqueue(lane)
	go func() {
		if turn != nil {
			if err := q.await(context.Background(), lane, turn); err != nil {
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
	if err := q.acquire(t.Context(), "holder"); err != nil {
		t.Fatal(err)
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
	if err := q.acquire(t.Context(), "holder"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	turn := q.enqueue("alice")
	order := make(chan string, 4)
	done := make(chan struct{})
	released := make(chan struct{}, 4)
	queued(q, "bob", "b1", order, done, released)
	cancel()
	if err := q.await(ctx, "alice", turn); err == nil {
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
	if err := q.acquire(t.Context(), "holder"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(t.Context())
	turn = q.enqueue("alice")
	queued(q, "bob", "b2", order, done, released)
	q.release() // alice's turn, which she is giving up
	cancel()
	if err := q.await(ctx, "alice", turn); err != nil {
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
