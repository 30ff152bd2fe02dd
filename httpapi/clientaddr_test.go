package httpapi

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ucwad/ucwad/clock"
)

func TestParseTrustedProxy(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"10.0.0.5", "10.0.0.5/32"},
		{" 10.0.0.5 ", "10.0.0.5/32"},
		{"10.1.2.3/8", "10.0.0.0/8"},
		{"fd00::1", "fd00::1/128"},
		{"fd00::1/64", "fd00::/64"},
		{"::ffff:192.0.2.1", "192.0.2.1/32"},
		{"::ffff:192.0.2.0/120", "192.0.2.0/24"},
	} {
		got, err := ParseTrustedProxy(tc.in)
		if err != nil || got.String() != tc.want {
			t.Errorf("ParseTrustedProxy(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "proxy.example.com", "10.0.0.0/33", "10.0.0.1:80", "fe80::1%eth0", "10.0.0.0/", "/8"} {
		if got, err := ParseTrustedProxy(in); err == nil {
			t.Errorf("ParseTrustedProxy(%q) = %v, want an error", in, got)
		} else if !strings.Contains(err.Error(), "not an IP address or CIDR block") {
			t.Errorf("ParseTrustedProxy(%q): error %q does not say what is wanted", in, err)
		}
	}
}

func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		peer    string
		xff     []string
		want    string
	}{
		{"no proxies configured", nil, "192.0.2.1:4000", []string{"203.0.113.9"}, "192.0.2.1"},
		{"untrusted peer's header ignored", trusted, "192.0.2.1:4000", []string{"203.0.113.9"}, "192.0.2.1"},
		{"trusted peer without header", trusted, "10.0.0.1:4000", nil, "10.0.0.1"},
		{"trusted peer", trusted, "10.0.0.1:4000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"client's own entries left of ours are not believed", trusted, "10.0.0.1:4000", []string{"1.1.1.1, 2.2.2.2, 203.0.113.9"}, "203.0.113.9"},
		{"a chain of trusted proxies", trusted, "10.0.0.1:4000", []string{"1.1.1.1, 203.0.113.9, 10.9.9.9", "fd00::7"}, "203.0.113.9"},
		{"all trusted: the leftmost", trusted, "10.0.0.1:4000", []string{"10.1.1.1, 10.2.2.2"}, "10.1.1.1"},
		{"malformed entry stops the walk", trusted, "10.0.0.1:4000", []string{"203.0.113.9, unknown, 10.2.2.2"}, "10.2.2.2"},
		{"malformed rightmost entry", trusted, "10.0.0.1:4000", []string{"203.0.113.9, garbage"}, "10.0.0.1"},
		{"empty entry", trusted, "10.0.0.1:4000", []string{"203.0.113.9,"}, "10.0.0.1"},
		{"entries with ports", trusted, "10.0.0.1:4000", []string{"203.0.113.9:5060"}, "203.0.113.9"},
		{"IPv6 entries", trusted, "[fd00::1]:4000", []string{"[2001:db8::5]:443"}, "2001:db8::5"},
		{"IPv6 entry in brackets", trusted, "10.0.0.1:4000", []string{"[2001:db8::5]"}, "2001:db8::5"},
		{"IPv6 entry bare", trusted, "10.0.0.1:4000", []string{" 2001:db8::5 "}, "2001:db8::5"},
		{"IPv4 in IPv6 form", trusted, "[::ffff:10.0.0.1]:4000", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
		{"zone dropped", nil, "[fe80::1%eth0]:4000", nil, "fe80::1"},
		{"unparseable peer", trusted, "@", []string{"203.0.113.9"}, "invalid IP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Server{cfg: Config{TrustedProxies: tc.trusted}}
			r := httptest.NewRequest("POST", "/WebTicket/oauthtoken", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := s.clientAddr(r).String(); got != tc.want {
				t.Errorf("clientAddr = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestAddressKey(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"192.0.2.1", "192.0.2.1/32"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::ffff", "2001:db8:1:2::/64"},
	} {
		if got := addressKey(netip.MustParseAddr(tc.addr)).String(); got != tc.want {
			t.Errorf("addressKey(%s) = %s, want %s", tc.addr, got, tc.want)
		}
	}
	if got := addressKey(netip.Addr{}); got.IsValid() {
		t.Errorf("addressKey(invalid) = %v, want the zero prefix", got)
	}
}

// TestAddressGate: beyond its bound an address waits for a place, first
// come first served, and gives up when its time is up or its client leaves;
// other addresses are not held up, and nothing is left behind.
func TestAddressGate(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	g := newAddressGate(2, 5*time.Second, clk)
	ctx := context.Background()
	a, b := netip.MustParsePrefix("192.0.2.1/32"), netip.MustParsePrefix("192.0.2.2/32")
	enter := func(ctx context.Context, k netip.Prefix) (bool, error) {
		t.Helper()
		ok, err := g.enter(ctx, k)
		return ok, err
	}
	type result struct {
		ok  bool
		err error
	}
	wait := func(ctx context.Context, k netip.Prefix) chan result {
		ch := make(chan result, 1)
		go func() {
			ok, err := g.enter(ctx, k)
			ch <- result{ok, err}
		}()
		return ch
	}
	for range 2 {
		if ok, err := enter(ctx, a); !ok || err != nil {
			t.Fatalf("a free place: %v, %v", ok, err)
		}
	}
	if ok, err := enter(ctx, b); !ok || err != nil {
		t.Fatalf("another address while the first is full: %v, %v", ok, err)
	}

	// A waiter gets the first place given back.
	w := wait(ctx, a)
	clk.WaitForTimers(1)
	g.leave(a)
	if r := <-w; !r.ok || r.err != nil {
		t.Fatalf("the waiter after a leave: %+v", r)
	}

	// A waiter whose time is up is refused.
	w = wait(ctx, a)
	clk.WaitForTimers(1)
	clk.Advance(5 * time.Second)
	if r := <-w; r.ok || r.err != nil {
		t.Fatalf("the waiter after its time: %+v, want refused", r)
	}

	// A waiter whose client leaves is dropped with ctx's error, and takes
	// no place afterwards.
	cctx, cancel := context.WithCancel(ctx)
	w = wait(cctx, a)
	clk.WaitForTimers(1)
	cancel()
	if r := <-w; r.ok || !errors.Is(r.err, context.Canceled) {
		t.Fatalf("the waiter whose client left: %+v", r)
	}
	if n := clk.Pending(); n != 0 {
		t.Errorf("%d timers left behind", n)
	}
	g.leave(a)
	g.leave(a)
	g.leave(b)
	if len(g.m) != 0 {
		t.Errorf("entries left after every leave: %v", g.m)
	}
	if ok, err := enter(ctx, a); !ok || err != nil {
		t.Fatalf("a place after all left: %v, %v", ok, err)
	}
}

// FuzzClientAddr: whatever the peer and the header, the client address is
// the peer's or one of the header's entries, and only a trusted peer's
// header is read.
func FuzzClientAddr(f *testing.F) {
	f.Add("10.0.0.1:4000", "203.0.113.9, 10.2.2.2")
	f.Add("192.0.2.1:1", "203.0.113.9")
	f.Add("[fd00::1]:4000", "[2001:db8::5]:443,unknown, ::ffff:1.2.3.4")
	f.Add("10.0.0.1:4000", ",,,")
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	s := &Server{cfg: Config{TrustedProxies: trusted}}
	f.Fuzz(func(t *testing.T, peer, xff string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = peer
		r.Header.Set("X-Forwarded-For", xff)
		got := s.clientAddr(r)
		p := parseAddr(peer)
		if got == p {
			return
		}
		if !s.trustedProxy(p) {
			t.Fatalf("untrusted peer %q: client %v, want the peer", peer, got)
		}
		for _, e := range strings.Split(xff, ",") {
			if parseAddr(e) == got {
				return
			}
		}
		t.Fatalf("client %v is neither the peer %q nor an entry of %q", got, peer, xff)
	})
}
