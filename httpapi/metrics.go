package httpapi

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ucwad/ucwad"
)

// Route labels of the requests that no route of the table answers.
const (
	// RouteUnmatched labels requests for a path nothing is served at: one
	// label for all of them, so that scanners cannot grow the series.
	RouteUnmatched = "unmatched"
	// RouteCORS labels requests the CORS layer answers itself (preflights,
	// refused X-Ms-Origin) before any route sees them.
	RouteCORS = "cors"
)

// Sign-in failure reasons (the reason label of ucwad_signin_failures_total).
const (
	signInWrongPassword    = "wrong_password"
	signInUnknownUser      = "unknown_user"
	signInThrottledAccount = "throttled_account"
	signInThrottledAddress = "throttled_address"
	signInInvalidRequest   = "invalid_request"
	signInUnsupportedGrant = "unsupported_grant_type"
)

// metrics are the transport's Prometheus metrics. Everything a request
// touches is resolved before it arrives or once per route and status, so
// that counting costs a few atomic adds, never a label lookup.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	unmatched, cors *routeMetrics
	// named are the routes of handlers mounted beside the API (Route).
	named map[string]*routeMetrics

	delivered     prometheus.Counter
	signInFailure map[string]prometheus.Counter
	storeRequest  prometheus.Counter
	storeSweep    prometheus.Counter
}

// durationBuckets are the request latency buckets in seconds: reads and
// writes take well under a millisecond to a few, sign-ins (a password
// hash) tens of milliseconds, and a held event request up to its timeout
// (3 to 30 minutes).
var durationBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 60, 300, 1800}

// newMetrics registers the transport's metrics in reg: request counts and
// latencies per route, the held event requests (read from hub when
// scraped), events delivered, events written (read from the store when it
// counts them), sign-in failures and store failures.
func newMetrics(reg prometheus.Registerer, hub *Hub, st ucwad.Store) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ucwad_http_requests_total",
			Help: "HTTP requests answered, by route (the pattern of the route table, a mounted path, \"cors\" or \"unmatched\") and status (\"abandoned\" when the client left before an answer).",
		}, []string{"route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ucwad_http_request_duration_seconds",
			Help:    "Time from a request's arrival to the end of its answer, by route; held event requests (P-GETs) count their whole wait.",
			Buckets: durationBuckets,
		}, []string{"route"}),
		named: map[string]*routeMetrics{},
		delivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ucwad_events_delivered_total",
			Help: "Events sent to clients in answers to event requests (P-GETs).",
		}),
		signInFailure: map[string]prometheus.Counter{},
	}
	signIn := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ucwad_signin_failures_total",
		Help: "Password sign-ins refused at the token endpoint, by reason.",
	}, []string{"reason"})
	for _, r := range []string{signInWrongPassword, signInUnknownUser, signInThrottledAccount, signInThrottledAddress, signInInvalidRequest, signInUnsupportedGrant} {
		m.signInFailure[r] = signIn.WithLabelValues(r)
	}
	storeErrors := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ucwad_store_errors_total",
		Help: "Failures of the store (the database) that ended a request (source=\"request\", answered 500 or 503) or a background sweep (source=\"sweep\").",
	}, []string{"source"})
	m.storeRequest = storeErrors.WithLabelValues("request")
	m.storeSweep = storeErrors.WithLabelValues("sweep")
	m.unmatched = m.route(RouteUnmatched)
	m.cors = m.route(RouteCORS)
	reg.MustRegister(m.requests, m.duration, m.delivered, signIn, storeErrors,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ucwad_event_requests_held",
			Help: "Event requests (P-GETs) this process holds now.",
		}, func() float64 { return float64(hub.Held()) }))
	if c, ok := st.(ucwad.EventCounter); ok {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "ucwad_events_written_total",
			Help: "Events this process's store wrote: one per receiving user's log entry, counted on commit.",
		}, func() float64 { return float64(c.EventsWritten()) }))
	}
	return m
}

// routeMetrics are the series of one route label: its latency histogram
// and its request counter per status, each resolved on first use (so that
// routes and statuses never used do not clutter the scrape) and kept.
type routeMetrics struct {
	name     string
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	observer atomic.Pointer[observerRef]
	byStatus [len(statusSlots)]atomic.Pointer[counterRef]
}

type (
	counterRef  struct{ c prometheus.Counter }
	observerRef struct{ o prometheus.Observer }
)

// statusSlots are the statuses with a slot of their own in routeMetrics;
// "abandoned" (0) included. Any other status is looked up by label.
var statusSlots = [...]int{0, 200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 410, 412, 413, 415, 428, 429, 500, 503, 504}

// slotOf maps a status to its slot in statusSlots, -1 for none.
var slotOf = func() [600]int8 {
	var s [600]int8
	for i := range s {
		s[i] = -1
	}
	for i, st := range statusSlots {
		s[st] = int8(i)
	}
	return s
}()

// route returns the series of the route label name.
func (m *metrics) route(name string) *routeMetrics {
	return &routeMetrics{name: name, requests: m.requests, duration: m.duration}
}

// observe counts one answer of the route.
func (rm *routeMetrics) observe(status int, d time.Duration) {
	o := rm.observer.Load()
	if o == nil {
		o = &observerRef{rm.duration.WithLabelValues(rm.name)}
		rm.observer.Store(o)
	}
	o.o.Observe(d.Seconds())
	slot := -1
	if status >= 0 && status < len(slotOf) {
		slot = int(slotOf[status])
	}
	if slot < 0 {
		rm.requests.WithLabelValues(rm.name, strconv.Itoa(status)).Inc()
		return
	}
	ref := rm.byStatus[slot].Load()
	if ref == nil {
		label := "abandoned"
		if status != 0 {
			label = strconv.Itoa(status)
		}
		ref = &counterRef{rm.requests.WithLabelValues(rm.name, label)}
		rm.byStatus[slot].Store(ref) // a race stores the same child twice: harmless
	}
	ref.c.Inc()
}

// routeName is the label of a route: its pattern in the route table.
func routeName(segs []string) string {
	name := ""
	for _, s := range segs {
		name += "/" + s
	}
	if name == "" {
		return "/"
	}
	return name
}

// instrument counts and times every request of the server's URL space by
// the route that answered it (noted on the response writer by dispatch,
// Route or the CORS layer; RouteUnmatched when none did). The route
// travels on the writer rather than in the request's context: one
// allocation per request instead of three.
func (s *Server) instrument(next http.Handler) http.Handler {
	m := s.metrics
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.clock.Now()
		mw := &meteredWriter{statusWriter: statusWriter{ResponseWriter: w}}
		next.ServeHTTP(mw, r)
		status := mw.status
		if status == 0 && r.Context().Err() == nil {
			status = http.StatusOK // what net/http sends for a handler that wrote nothing
		}
		rm := mw.route
		if rm == nil {
			rm = m.unmatched
		}
		rm.observe(status, s.clock.Now().Sub(start))
	})
}

// meteredWriter is the response writer of the metrics layer: the status
// it saw and the route that answered.
type meteredWriter struct {
	statusWriter
	route *routeMetrics
}

// maxUnwrap bounds the search for the metered writer through the layers'
// writers (request log, gzip): a few, never a loop.
const maxUnwrap = 8

// noteRoute tells the metrics layer that rm answers the request written
// to w, unless a route was noted already. The parts of a batch are written
// to recorders of their own and never reach the batch's writer.
func noteRoute(w http.ResponseWriter, rm *routeMetrics) {
	for range maxUnwrap {
		switch x := w.(type) {
		case *meteredWriter:
			if x.route == nil {
				x.route = rm
			}
			return
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return
		}
	}
}

// Route returns h with its requests counted under the route label name in
// the server's metrics: what the composition root mounts beside the API
// (the xframe page, operator endpoints) goes through it, so that the label
// is the mount, never the raw path. Without metrics it returns h. Call it
// before the server serves.
func (s *Server) Route(name string, h http.Handler) http.Handler {
	if s.metrics == nil {
		return h
	}
	rm := s.metrics.named[name]
	if rm == nil {
		rm = s.metrics.route(name)
		s.metrics.named[name] = rm
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noteRoute(w, rm)
		h.ServeHTTP(w, r)
	})
}

// signInFailed counts a refused sign-in.
func (s *Server) signInFailed(reason string) {
	if s.metrics != nil {
		s.metrics.signInFailure[reason].Inc()
	}
}

// storeFailed counts a store failure that ended a request.
func (s *Server) storeFailed() {
	if s.metrics != nil {
		s.metrics.storeRequest.Inc()
	}
}
