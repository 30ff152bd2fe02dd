package httpapi

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// ParseTrustedProxy parses a --trusted-proxy value: an IP address ("10.0.0.5",
// "fd00::1") or a CIDR block ("10.0.0.0/8", "fd00::/64"). An IPv4 address
// written in IPv6 form counts as the IPv4 address.
func ParseTrustedProxy(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR block", s)
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR block", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// clientAddr is the address a request comes from: the peer's, or, when the
// peer is a trusted proxy, the nearest address in X-Forwarded-For that is
// not a trusted proxy itself. X-Forwarded-For is read from the right
// because each proxy appends the address it saw: only the entries our own
// proxies appended can be believed, and whatever a client sent is further
// left. A malformed entry ends the walk at the last address believed.
func (s *Server) clientAddr(r *http.Request) netip.Addr {
	peer := parseAddr(r.RemoteAddr)
	if !peer.IsValid() || !s.trustedProxy(peer) {
		return peer
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	addr := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a := parseAddr(hops[i])
		if !a.IsValid() {
			break
		}
		addr = a
		if !s.trustedProxy(a) {
			break
		}
	}
	return addr
}

func (s *Server) trustedProxy(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseAddr reads an address as RemoteAddr and X-Forwarded-For entries
// carry it: "192.0.2.1", "192.0.2.1:5060", "2001:db8::1", "[2001:db8::1]"
// or "[2001:db8::1]:5060". IPv4 in IPv6 form becomes IPv4; zones go. The
// zero Addr means it is not an address.
func parseAddr(s string) netip.Addr {
	s = strings.TrimSpace(s)
	norm := func(a netip.Addr) netip.Addr { return a.Unmap().WithZone("") }
	if a, err := netip.ParseAddr(s); err == nil {
		return norm(a)
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return norm(ap.Addr())
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return norm(a)
		}
	}
	return netip.Addr{}
}

// addressKey is what the per-address bound counts by: an IPv4 address, or
// an IPv6 address's /64, the block a single host or subscriber is given
// (counting single IPv6 addresses would let one host be millions of
// clients).
func addressKey(a netip.Addr) netip.Prefix {
	switch {
	case a.Is4():
		return netip.PrefixFrom(a, 32)
	case a.Is6():
		return netip.PrefixFrom(a, 64).Masked()
	}
	return netip.Prefix{}
}
