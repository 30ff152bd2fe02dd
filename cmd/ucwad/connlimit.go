package main

import (
	"net"
	"sync"
)

// descriptorReserve is how many file descriptors the server keeps for
// everything but client connections: the database's connections and their
// WAL and shared-memory files, the admin listener, the log, name lookups.
// Without it, thousands of held event requests could take the last
// descriptor and the store could not open a read connection ("unable to
// open database file"), failing every request.
const descriptorReserve = 256

// minConnections is the fewest connections the server accepts at once
// however low its descriptor limit, so that a tiny limit still serves.
const minConnections = 64

// connectionLimit is how many client connections the server holds at once
// for a descriptor limit of fds (0: unknown, no limit).
func connectionLimit(fds uint64) int {
	if fds == 0 || fds > 1<<30 {
		return 0
	}
	n := int(fds) - descriptorReserve
	if n < minConnections {
		n = minConnections
	}
	return n
}

// limitListener accepts at most cap(slots) connections at once; past that
// Accept waits for one to close, and new connections wait in the kernel's
// accept queue, as they do behind a busy server, instead of taking
// descriptors the store needs.
type limitListener struct {
	net.Listener
	slots     chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

func newLimitListener(ln net.Listener, n int) net.Listener {
	if n <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), closed: make(chan struct{})}
}

// Accept waits for a free slot, then for a connection.
func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
}

// Close closes the listener and ends an Accept waiting for a slot.
func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// limitConn gives its listener's slot back when it is closed, once.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
