package main

import (
	"errors"
	"net"
	"testing"
	"time"
)

func TestConnectionLimit(t *testing.T) {
	for _, c := range []struct {
		fds  uint64
		want int
	}{
		{0, 0},       // unknown: no limit
		{1 << 62, 0}, // unlimited
		{20000, 20000 - descriptorReserve},
		{300, minConnections}, // a tiny limit still serves
		{1024, 1024 - descriptorReserve},
	} {
		if got := connectionLimit(c.fds); got != c.want {
			t.Errorf("connectionLimit(%d) = %d, want %d", c.fds, got, c.want)
		}
	}
}

// TestLimitListener: past the limit, a connection is accepted only once
// another closes; closing a connection twice gives one slot back; closing
// the listener ends an Accept waiting for a slot.
func TestLimitListener(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := newLimitListener(inner, 1).(*limitListener)
	defer ln.Close()
	for range 2 {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	first, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if len(ln.slots) != 1 {
		t.Fatalf("%d slots taken with one connection open, want 1", len(ln.slots))
	}
	accepted := make(chan net.Conn)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	first.Close()
	first.Close()
	watchdog := time.After(10 * time.Second) // not a wait: a watchdog
	var second net.Conn
	select {
	case second = <-accepted:
	case <-watchdog:
		t.Fatal("the second connection was not accepted after the first closed")
	}
	if len(ln.slots) != 1 {
		t.Fatalf("%d slots taken after one close (twice) and one accept, want 1", len(ln.slots))
	}
	// At the limit again: an Accept waits for a slot until the listener
	// closes.
	ended := make(chan error)
	go func() {
		_, err := ln.Accept()
		ended <- err
	}()
	ln.Close()
	select {
	case err := <-ended:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close: %v, want net.ErrClosed", err)
		}
	case <-watchdog:
		t.Fatal("closing the listener did not end a waiting Accept")
	}
	second.Close()
	if len(ln.slots) != 0 {
		t.Fatalf("%d slots taken with no connection open", len(ln.slots))
	}
}
