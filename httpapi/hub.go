package httpapi

import (
	"sync"
	"sync/atomic"
)

// Hub knows every event request (P-GET) this process holds and wakes them
// when the store reports news of their applications (events, a channel
// taken by another process, the application gone); a woken request reads
// its channel again. It implements ucwad.Notifier. Memory per held request
// is one small waiter; nothing else is kept per idle application.
type Hub struct {
	mu sync.Mutex
	// byApp has the first of the waiters on each application's
	// channels, linked through waiter.next and prev: a list rather than
	// a set per application, which would cost a map for each held
	// request (an application usually has one channel).
	byApp  map[string]*waiter
	held   map[chanKey]*waiter
	closed bool
	// cacheWake is the read cache's wake-up (CacheChanged), once a
	// server with one uses the hub.
	cacheWake atomic.Pointer[chan struct{}]
}

// chanKey names one event channel.
type chanKey struct{ app, instance string }

// Why a held request was woken, beyond news of its application: bits of
// waiter.why, set before the wake-up is sent, never cleared.
const (
	wokeReplaced uint32 = 1 << iota // a newer P-GET took the channel over
	wokeTimeout                     // the channel's timeout passed
	wokeGone                        // the client went away
	wokeShutdown                    // the server shuts down
)

// waiter is one held P-GET. Everything that can end its wait (news, a
// replacement, its timeout, its client leaving, shutdown) arrives on the
// one channel wake, with the reason in why: a held request parks on a
// single receive, which keeps its goroutine's stack small enough for the
// runtime to shrink it while it waits (thousands of them are held).
type waiter struct {
	key      chanKey
	priority int64
	why      atomic.Uint32
	wake     chan struct{} // buffered: a wake-up is never lost while the request is busy
	// next and prev link the waiters on the same application (Hub.byApp),
	// guarded by the hub's lock.
	next, prev *waiter
	// deferred is the ack the request asked for when the store left that
	// acknowledgement unwritten (ReadBatchDeferAck), 0 otherwise.
	deferred atomic.Int64
}

// signal wakes the request (if it is not already due to wake), for reason
// why (0: news of its application).
func (w *waiter) signal(why uint32) {
	if why != 0 {
		w.why.Or(why)
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// timedOut and gone are the waiter's callbacks for its timer and its
// request's context.
func (w *waiter) timedOut() { w.signal(wokeTimeout) }
func (w *waiter) gone()     { w.signal(wokeGone) }

// NewHub returns an empty Hub.
func NewHub() *Hub {
	return &Hub{
		byApp: map[string]*waiter{},
		held:  map[chanKey]*waiter{},
	}
}

// Notify wakes every request held on the applications' channels.
func (h *Hub) Notify(appIDs []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range appIDs {
		for w := h.byApp[id]; w != nil; w = w.next {
			w.signal(0)
		}
	}
}

// hold registers a P-GET on a channel. A channel has one holder: a newcomer
// with the same or a higher priority replaces the current one (which is
// answered 409 PGetReplaced); one with a lower priority is refused
// (ok == false) and the current one stays. After Shutdown a new one is
// registered already woken for it.
func (h *Hub) hold(key chanKey, priority int64) (w *waiter, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if cur := h.held[key]; cur != nil {
		if priority < cur.priority {
			return nil, false
		}
		cur.signal(wokeReplaced)
		h.dropLocked(cur)
	}
	w = &waiter{key: key, priority: priority, wake: make(chan struct{}, 1)}
	if h.closed {
		w.signal(wokeShutdown)
	}
	h.held[key] = w
	if first := h.byApp[key.app]; first != nil {
		w.next, first.prev = first, w
	}
	h.byApp[key.app] = w
	return w, true
}

// deferredAck is the ack of the P-GET held on the channel when the store
// has not written that acknowledgement yet, 0 otherwise: the batch before
// it counts as acknowledged here.
func (h *Hub) deferredAck(key chanKey) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if w := h.held[key]; w != nil {
		return w.deferred.Load()
	}
	return 0
}

// release forgets w (if it was not replaced already).
func (h *Hub) release(w *waiter) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held[w.key] == w {
		h.dropLocked(w)
	}
}

func (h *Hub) dropLocked(w *waiter) {
	delete(h.held, w.key)
	switch {
	case w.prev != nil:
		w.prev.next = w.next
	case w.next != nil:
		h.byApp[w.key.app] = w.next
	default:
		delete(h.byApp, w.key.app)
	}
	if w.next != nil {
		w.next.prev = w.prev
	}
	w.next, w.prev = nil, nil
}

// HeldApplications lists the applications with a P-GET held right now:
// they are alive whatever their last activity says.
func (h *Hub) HeldApplications() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	ids := make([]string, 0, len(h.byApp))
	for id := range h.byApp {
		ids = append(ids, id)
	}
	return ids
}

// Held reports how many P-GETs are held.
func (h *Hub) Held() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.held)
}

// Shutdown makes every held P-GET answer at once (with an empty batch and
// its next link), and every new one answer without waiting.
func (h *Hub) Shutdown() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	for _, w := range h.held {
		w.signal(wokeShutdown)
	}
}
