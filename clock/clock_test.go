package clock

import (
	"sync"
	"testing"
	"time"
)

func TestFakeRunsDueTimersOnly(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewFake(t0)
	var mu sync.Mutex
	var fired []string
	var wg sync.WaitGroup
	add := func(name string, d time.Duration) Timer {
		wg.Add(1)
		return c.AfterFunc(d, func() {
			defer wg.Done()
			mu.Lock()
			fired = append(fired, name)
			mu.Unlock()
		})
	}
	add("1s", time.Second)
	add("2s", 2*time.Second)
	stopped := add("3s", 3*time.Second)
	if c.Pending() != 3 {
		t.Fatalf("pending %d, want 3", c.Pending())
	}
	if !stopped.Stop() {
		t.Fatal("Stop of a pending timer reported false")
	}
	wg.Done() // the stopped one never runs
	if stopped.Stop() {
		t.Fatal("second Stop reported true")
	}

	c.Advance(1500 * time.Millisecond)
	if got := c.Now(); !got.Equal(t0.Add(1500 * time.Millisecond)) {
		t.Fatalf("Now %v", got)
	}
	if c.Pending() != 1 {
		t.Fatalf("pending %d after 1.5 s, want 1", c.Pending())
	}
	c.Advance(time.Hour)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(fired) != 2 {
		t.Fatalf("fired %v, want 1s and 2s", fired)
	}
}

func TestWaitForTimers(t *testing.T) {
	c := NewFake(time.Unix(0, 0))
	done := make(chan struct{})
	go func() {
		c.WaitForTimers(2)
		close(done)
	}()
	c.AfterFunc(time.Second, func() {})
	select {
	case <-done:
		t.Fatal("WaitForTimers(2) returned with one timer")
	default:
	}
	c.AfterFunc(time.Second, func() {})
	<-done
}

func TestRealClock(t *testing.T) {
	c := Real()
	before := time.Now()
	if c.Now().Before(before) {
		t.Fatal("Real().Now() is in the past")
	}
	ran := make(chan struct{})
	c.AfterFunc(0, func() { close(ran) })
	<-ran
	if c.AfterFunc(time.Hour, func() {}).Stop() != true {
		t.Fatal("Stop of a pending real timer reported false")
	}
}
