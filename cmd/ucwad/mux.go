package main

import (
	"net/http"
	"strings"
)

// mux is the server's top-level URL space: handlers mounted on path
// prefixes, and the UCWA API for everything else (its root resource is
// "/"). Unlike http.ServeMux it never cleans or redirects a path: UCWA
// clients post to paths with doubled slashes, and a redirect would turn
// their POST into a GET.
type mux struct {
	mounts []mount
	api    http.Handler
	// label, when set, wraps each mounted handler so that the metrics
	// count its requests under its prefix (httpapi.Server.Route).
	label func(prefix string, h http.Handler) http.Handler
}

type mount struct {
	prefix string                 // "/meet/": everything under it; "/xframe": that path alone
	match  func(path string) bool // instead of prefix: the paths it accepts
	h      http.Handler
}

// newMux returns a mux that sends every path to api until others are mounted.
func newMux(api http.Handler) *mux { return &mux{api: api} }

// handle mounts h at prefix: a prefix ending in "/" takes every path under
// it, any other prefix only that exact path. Paths match case-sensitively.
func (m *mux) handle(prefix string, h http.Handler) {
	if m.label != nil {
		h = m.label(prefix, h)
	}
	m.mounts = append(m.mounts, mount{prefix: prefix, h: h})
}

// handleMatch mounts h at the paths match accepts, such as the join links
// of meetings.joinBaseUrl at the root, which no prefix describes; the
// metrics count them under label.
func (m *mux) handleMatch(label string, match func(path string) bool, h http.Handler) {
	if m.label != nil {
		h = m.label(label, h)
	}
	m.mounts = append(m.mounts, mount{match: match, h: h})
}

func (m *mux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	for _, mt := range m.mounts {
		if mt.match != nil && mt.match(p) ||
			mt.match == nil && (p == mt.prefix || (strings.HasSuffix(mt.prefix, "/") && strings.HasPrefix(p, mt.prefix))) {
			mt.h.ServeHTTP(w, r)
			return
		}
	}
	m.api.ServeHTTP(w, r)
}
