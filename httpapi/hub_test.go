package httpapi

import (
	"errors"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// woken reports whether w has a wake-up pending, taking it.
func woken(w *waiter) bool {
	select {
	case <-w.wake:
		return true
	default:
		return false
	}
}

// TestHubWakesWithReason: every way a held request's wait ends arrives on
// its one wake channel, with the reason beside it; news carries none.
func TestHubWakesWithReason(t *testing.T) {
	h := NewHub()
	key := chanKey{"app1", ""}
	w, ok := h.hold(key, 0)
	if !ok || woken(w) {
		t.Fatalf("hold: ok %v, woken at once", ok)
	}
	h.Notify([]string{"app1"})
	h.Notify([]string{"app1"}) // a second one while the first is pending never blocks
	if !woken(w) || w.why.Load() != 0 {
		t.Fatalf("news: why %b; want a wake-up without a reason", w.why.Load())
	}
	if woken(w) {
		t.Fatal("two notifications left two wake-ups; one tells the request to read again")
	}
	h.Notify([]string{"app2"})
	if woken(w) {
		t.Fatal("news of another application woke the request")
	}

	w.timedOut()
	if !woken(w) || w.why.Load() != wokeTimeout {
		t.Fatalf("timeout: why %b", w.why.Load())
	}

	// A newer request on the channel replaces it; a lower priority one is
	// refused and wakes nobody.
	if _, ok := h.hold(key, -1); ok || woken(w) {
		t.Fatalf("a lower priority newcomer: ok %v", ok)
	}
	w2, ok := h.hold(key, 0)
	if !ok || !woken(w) || w.why.Load()&wokeReplaced == 0 {
		t.Fatalf("replacement: ok %v, why %b", ok, w.why.Load())
	}
	if h.Held() != 1 || woken(w2) {
		t.Fatalf("after the replacement: %d held, newcomer woken", h.Held())
	}
	h.release(w) // the replaced one leaving does not drop its successor
	if h.Held() != 1 {
		t.Fatalf("releasing the replaced request left %d held, want 1", h.Held())
	}

	w2.gone()
	if !woken(w2) || w2.why.Load() != wokeGone {
		t.Fatalf("client gone: why %b", w2.why.Load())
	}
	h.release(w2)
	if h.Held() != 0 || len(h.HeldApplications()) != 0 {
		t.Fatalf("after release: %d held, %v", h.Held(), h.HeldApplications())
	}
}

// TestHubChannelsOfOneApplication: news of an application wakes the
// requests held on each of its channels (instances), whichever of them
// were released before, and the application counts as held until the
// last one is released.
func TestHubChannelsOfOneApplication(t *testing.T) {
	for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}, {1, 0, 2}, {1, 2, 0}} {
		h := NewHub()
		var ws []*waiter
		for _, inst := range []string{"", "tab1", "tab2"} {
			w, ok := h.hold(chanKey{"app1", inst}, 0)
			if !ok {
				t.Fatalf("hold %q refused", inst)
			}
			ws = append(ws, w)
		}
		other, _ := h.hold(chanKey{"app2", ""}, 0)
		released := map[int]bool{}
		for _, i := range order {
			h.Notify([]string{"app1"})
			for j, w := range ws {
				if got := woken(w); got == released[j] {
					t.Fatalf("order %v, after releasing %v: request %d woken %v", order, released, j, got)
				}
			}
			if woken(other) {
				t.Fatalf("order %v: news of app1 woke app2's request", order)
			}
			if apps := h.HeldApplications(); len(apps) != 2 {
				t.Fatalf("order %v, after releasing %v: held applications %v", order, released, apps)
			}
			h.release(ws[i])
			released[i] = true
		}
		if apps := h.HeldApplications(); len(apps) != 1 || apps[0] != "app2" || h.Held() != 1 {
			t.Fatalf("order %v, all of app1 released: held applications %v, %d held", order, apps, h.Held())
		}
		// A replaced request leaves the list; its successor is in it.
		w, _ := h.hold(chanKey{"app2", ""}, 0)
		if !woken(other) || other.why.Load()&wokeReplaced == 0 {
			t.Fatal("replacement did not wake the replaced request")
		}
		h.Notify([]string{"app2"})
		if !woken(w) || woken(other) {
			t.Fatal("news of app2 after the replacement: want only the newcomer woken")
		}
		h.release(other)
		h.release(w)
		if h.Held() != 0 || len(h.HeldApplications()) != 0 {
			t.Fatalf("order %v: %d held at the end", order, h.Held())
		}
	}
}

// TestHubShutdown: shutdown wakes every held request for it, and a request
// registered afterwards is woken for it from the start.
func TestHubShutdown(t *testing.T) {
	h := NewHub()
	a, _ := h.hold(chanKey{"a", ""}, 0)
	b, _ := h.hold(chanKey{"b", "tab"}, 0)
	h.Shutdown()
	h.Shutdown() // twice is once
	for _, w := range []*waiter{a, b} {
		if !woken(w) || w.why.Load() != wokeShutdown {
			t.Fatalf("%v at shutdown: why %b", w.key, w.why.Load())
		}
	}
	late, ok := h.hold(chanKey{"c", ""}, 0)
	if !ok || !woken(late) || late.why.Load() != wokeShutdown {
		t.Fatalf("a request after shutdown: ok %v, why %b", ok, late.why.Load())
	}
}

// TestOffStack: f runs to its end before offStack returns, and its panic
// reaches the caller (where the recoverer layer turns it into a 500).
func TestOffStack(t *testing.T) {
	ran := false
	offStack(func() { ran = true })
	if !ran {
		t.Fatal("f did not run")
	}
	// A burst of calls at once, each on a goroutine of its own, leaves at
	// most maxIdleWorkers of them waiting for more.
	var wg sync.WaitGroup
	release := make(chan struct{})
	started := make(chan struct{}, 3*maxIdleWorkers)
	for range 3 * maxIdleWorkers {
		wg.Go(func() { offStack(func() { started <- struct{}{}; <-release }) })
	}
	for range 3 * maxIdleWorkers {
		<-started // all running at once: none could wait for another
	}
	close(release)
	wg.Wait()
	if n := workers.idle.Load(); n > maxIdleWorkers {
		t.Errorf("%d idle workers after the burst, want at most %d", n, maxIdleWorkers)
	}
	boom := errors.New("boom")
	defer func() {
		if v := recover(); v != boom {
			t.Fatalf("recovered %v, want the panic of f", v)
		}
	}()
	offStack(func() { panic(boom) })
	t.Fatal("offStack returned after f panicked")
}

// TestOffStackErr: the store calls of a parked route before its handler
// run on another goroutine and their error comes back.
func TestOffStackErr(t *testing.T) {
	boom := errors.New("boom")
	var g1, g2 uint64
	g1 = goroutineID()
	if err := offStackErr(func() error { g2 = goroutineID(); return boom }); err != boom {
		t.Fatalf("offStackErr returned %v, want f's error", err)
	}
	if g1 == g2 {
		t.Fatal("f ran on the caller's goroutine")
	}
	if err := offStackErr(func() error { return nil }); err != nil {
		t.Fatalf("offStackErr returned %v for f's nil", err)
	}
}

// TestOnlyEventsPark: the event channel is the one route that holds its
// requests, so the only one whose store calls before the handler pay the
// hand-off to another goroutine.
func TestOnlyEventsPark(t *testing.T) {
	s := &Server{}
	var parked []string
	for _, rt := range s.routeTable() {
		if rt.parks {
			parked = append(parked, "/"+strings.Join(rt.segs, "/"))
		}
	}
	if len(parked) != 1 || !strings.HasSuffix(parked[0], "/{app}/events") {
		t.Fatalf("parked routes %q, want only the event channel", parked)
	}
}

// goroutineID reads the running goroutine's id from its stack header.
func goroutineID() uint64 {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	f := strings.Fields(string(buf))
	if len(f) < 2 {
		return 0
	}
	id, _ := strconv.ParseUint(f[1], 10, 64)
	return id
}
