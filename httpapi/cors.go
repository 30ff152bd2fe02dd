package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ucwad/ucwad"
)

// ParseOrigin checks that s is a web origin (RFC 6454) as browsers send it
// in Origin headers, scheme://host[:port] with no path, and returns it in
// the form they send: scheme and host lower-cased, the default port of the
// scheme left out, no trailing slash.
func ParseOrigin(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("origin %q: %v", s, err)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("origin %q is not scheme://host[:port], e.g. https://app.contoso.com", s)
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if host == "" || strings.ContainsAny(host, " \t,") {
		return "", fmt.Errorf("origin %q has no valid host name", s)
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // an IPv6 literal
	}
	if port == "" || scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		return scheme + "://" + host, nil
	}
	return scheme + "://" + host + ":" + port, nil
}

// originList is the set of origins allowed to reach the server from a
// browser page on another origin, in their ParseOrigin form.
type originList []string

// newOriginList normalizes the configured origins, dropping any that
// ParseOrigin refuses (the configuration validates them before the server
// starts) and duplicates.
func newOriginList(origins []string) originList {
	var l originList
	for _, o := range origins {
		if n, err := ParseOrigin(o); err == nil && !slices.Contains(l, n) {
			l = append(l, n)
		}
	}
	return l
}

// allows reports whether the origin header value o is on the list. The
// opaque origin "null" (sandboxed frames, file: pages) never is.
func (l originList) allows(o string) bool {
	if o == "" || o == "null" || len(l) == 0 {
		return false
	}
	n, err := ParseOrigin(o)
	return err == nil && slices.Contains(l, n)
}

// Headers of CORS answers. Exposed are the response headers UCWA clients
// read besides the simple ones: the MsRtcOAuth challenge of a 401, Location
// of operations, ETag, the diagnostics of failures and the revision.
const (
	corsExposed      = "WWW-Authenticate, Location, ETag, X-Ms-Diagnostics, X-MS-UcwaVersion"
	corsMethods      = "GET, POST, PUT, DELETE, OPTIONS"
	corsMaxAge       = "600"
	xMsOriginRefused = "Service does not allow a cross domain request from this origin."
)

// corsRequestHeaders are the request headers a preflight is always allowed,
// beyond the X-Ms-* family: what UCWA clients send.
var corsRequestHeaders = []string{
	"Accept", "Accept-Language", "Authorization", "Cache-Control", "Content-Type", "If-Match",
	"If-None-Match", "Pragma", "X-Ms-Origin", "X-MS-RequiresMinResourceVersion", "X-Requested-With",
}

// Layers wraps next, the server's whole URL space, in Layers (the request
// log, gzip) and the layers that need this server's configuration: CORS
// for the allowed origins, answering preflights before anything below
// authenticates, and the X-Ms-Origin check of requests relayed by the
// xframe page.
//
// With metrics, every request is counted and timed by its route, outside
// all of them.
func (s *Server) Layers(next http.Handler) http.Handler {
	return s.instrument(Layers(s.crossOrigin(next), s.log, s.clock))
}

// crossOrigin gives browser pages on allowed origins what they need: CORS
// headers on every answer (401s included) and answers to preflights. The
// list decides only whether CORS headers are sent: a request whose Origin
// is not listed is served without them, because non-browser clients send
// arbitrary Origin values and a browser never attaches a bearer token on
// its own. A request relayed by the xframe page names its page's origin in
// X-Ms-Origin; one from an origin that is neither listed nor the server's
// own is refused with 403, as a Front End refuses it.
func (s *Server) crossOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		allowed := s.origins.allows(origin)
		h := w.Header()
		if origin != "" && len(s.origins) > 0 {
			h.Add("Vary", "Origin")
		}
		if r.Method == http.MethodOptions && origin != "" && r.Header.Get("Access-Control-Request-Method") != "" {
			s.noteCORS(w)
			s.preflight(w, r, allowed)
			return
		}
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Expose-Headers", corsExposed)
		}
		// Several X-Ms-Origin lines join into a value no origin matches.
		if xo := strings.Join(r.Header.Values("X-Ms-Origin"), ", "); xo != "" && !s.origins.allows(xo) && !s.ownOrigin(r, xo) {
			s.refuseOrigin(w, r, xo)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// refuseOrigin answers 403 to a request relayed from origin xo. It is a
// function of its own to keep crossOrigin's frame, which stays on the
// stack of every held event request, small.
func (s *Server) refuseOrigin(w http.ResponseWriter, r *http.Request, xo string) {
	w.Header().Set("X-MS-UcwaVersion", ucwaVersion)
	s.noteCORS(w)
	noteError(r, string(ucwad.EForbidden), "")
	s.log.Info("cross-domain request refused", "origin", xo, "path", r.URL.Path, "remote", r.RemoteAddr)
	c := newCall(r)
	c.base = s.baseURL(r)
	s.renderError(w, r, c, &ucwad.Error{Code: ucwad.EForbidden, Message: xMsOriginRefused})
}

// preflight answers a CORS preflight: from an allowed origin with the
// methods and headers UCWA clients use, from any other with no CORS header,
// which the browser takes as a refusal.
func (s *Server) preflight(w http.ResponseWriter, r *http.Request, allowed bool) {
	h := w.Header()
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	h.Set("X-MS-UcwaVersion", ucwaVersion)
	if allowed {
		h.Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Allow-Methods", corsMethods)
		h.Set("Access-Control-Allow-Headers", allowHeaders(r.Header.Values("Access-Control-Request-Headers")))
		h.Set("Access-Control-Max-Age", corsMaxAge)
	}
	w.WriteHeader(http.StatusNoContent)
}

// allowHeaders is the Access-Control-Allow-Headers value for a preflight
// that asked for requested: the headers UCWA clients send, and every X-Ms-*
// header asked for (the family is open: X-MS-RequiresMinResourceVersion,
// X-Ms-Origin, X-MS-MediaDiagnostics, …). Anything else asked for is left
// out, so the browser refuses to send it.
func allowHeaders(requested []string) string {
	out := slices.Clone(corsRequestHeaders)
	for _, line := range requested {
		for name := range strings.SplitSeq(line, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if !strings.HasPrefix(name, "x-ms-") || !validHeaderName(name) ||
				slices.ContainsFunc(out, func(h string) bool { return strings.EqualFold(h, name) }) {
				continue
			}
			if len(out) >= len(corsRequestHeaders)+16 {
				break // a preflight asking for more is not from a UCWA client
			}
			out = append(out, name)
		}
	}
	return strings.Join(out, ", ")
}

// validHeaderName reports whether s is an HTTP token, so that nothing a
// client sent can break the header we echo it in.
func validHeaderName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// ownOrigin reports whether o is the origin of the server itself as the
// request reached it: a page served from the server's own origin that
// uses the xframe page makes no cross-domain request.
func (s *Server) ownOrigin(r *http.Request, o string) bool {
	own, err := ParseOrigin(s.baseURL(r))
	if err != nil {
		return false
	}
	n, err := ParseOrigin(o)
	return err == nil && n == own
}

// noteCORS counts the request written to w, answered by the CORS layer
// itself, under RouteCORS.
func (s *Server) noteCORS(w http.ResponseWriter) {
	if s.metrics != nil {
		noteRoute(w, s.metrics.cors)
	}
}
