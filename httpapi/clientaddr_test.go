package httpapi

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
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

func TestAddressGate(t *testing.T) {
	g := newAddressGate(2)
	a, b := netip.MustParsePrefix("192.0.2.1/32"), netip.MustParsePrefix("192.0.2.2/32")
	if !g.enter(a) || !g.enter(a) {
		t.Fatal("the first two places refused")
	}
	if g.enter(a) {
		t.Fatal("a third place granted")
	}
	if !g.enter(b) {
		t.Fatal("another address refused")
	}
	g.leave(a)
	if !g.enter(a) {
		t.Fatal("a place given back was not granted again")
	}
	for _, k := range []netip.Prefix{a, a, b} {
		g.leave(k)
	}
	if len(g.n) != 0 {
		t.Errorf("entries left after every leave: %v", g.n)
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
