// Package httpapi is the HTTP transport of ucwad: the route table, the
// handlers (which return errors instead of writing them) and the one adapter
// that renders every error as a UCWA error body in the negotiated format.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/clock"
)

// Config is what the transport needs to know. The zero value of each field
// means its default (see withDefaults).
type Config struct {
	// PublicURL is the absolute base URL clients reach the server at, e.g.
	// "https://lyncweb.contoso.com". Empty: derived from each request's
	// scheme and Host header.
	PublicURL string
	// MaxBodyBytes bounds request bodies (default 1 MiB).
	MaxBodyBytes int64
	// TokenLifetime is how long an access token is valid (default 8 h).
	TokenLifetime time.Duration
	// ServerName appears as the source of X-Ms-Diagnostics headers
	// (default "ucwad").
	ServerName string
	// Policies are the properties of the application's policies resource,
	// in order.
	Policies []Policy
	// DefaultEventTimeout is how long a P-GET is held when the channel set
	// no timeout (default 180 s); MinEventTimeout and MaxEventTimeout bound
	// what a client may ask for (default 180 s and 1800 s, as in UCWA).
	DefaultEventTimeout, MinEventTimeout, MaxEventTimeout time.Duration
	// ApplicationIdle is how long an application may go without a request
	// or a held P-GET before it is expired (default 15 min).
	ApplicationIdle time.Duration
	// SweepInterval is how often expiry runs (default 1 min).
	SweepInterval time.Duration
	// Meetings configures online meetings; zero fields take the values of
	// ucwad.DefaultMeetingConfig.
	Meetings ucwad.MeetingConfig
	// Limits must be the limits the store was opened with: the store
	// enforces their counts, the meeting rules their sizes. Zero fields
	// take the values of ucwad.DefaultLimits.
	Limits ucwad.Limits
	// SignIn is the schedule of password checks per account; zero fields
	// take the values of ucwad.DefaultSignInPolicy.
	SignIn ucwad.SignInPolicy
	// MaxSignInsPerAddress bounds the sign-ins in flight from one client
	// address (one IPv6 /64) (default 2); more wait for a place.
	MaxSignInsPerAddress int
	// MaxSignInWait is how long a sign-in waits for a place before it
	// answers 429 (default 5 s).
	MaxSignInWait time.Duration
	// TrustedProxies are the peers whose X-Forwarded-For names the client
	// address (see ParseTrustedProxy). Empty: the peer is the client.
	TrustedProxies []netip.Prefix
	// Domain is the SIP domain that down-level logon names
	// (NETBIOS\user) sign in to: user@Domain. Empty: down-level names are
	// not accepted.
	Domain string
	// NetBIOSName is the NetBIOS domain name of down-level logon names,
	// matched in any case. Empty: the first label of Domain, upper-cased
	// and cut to the 15 characters NetBIOS allows, as Windows derives it.
	NetBIOSName string
	// MaxConcurrentWritesPerUser bounds the write requests (POST, PUT,
	// DELETE) one user has in progress at once; more wait their turn
	// (default 1).
	MaxConcurrentWritesPerUser int
	// AllowedOrigins are the origins (scheme://host[:port]) of browser
	// pages on other origins allowed in, through CORS or through the
	// xframe page. Empty: none; the xframe page is then not served.
	AllowedOrigins []string
	// MaxOutstandingBatchRequests bounds the requests of one user's
	// batches that are not answered yet, across all of them (default 100,
	// as in UCWA); a batch that would pass it is refused whole with 429.
	MaxOutstandingBatchRequests int
	// AnonymousGrantsPerMinute bounds the anonymous meeting grants (new
	// guests and renewals, right or wrong) from one client address (one
	// IPv6 /64) per minute, in this process (default 10); beyond it the
	// token endpoint answers 429.
	AnonymousGrantsPerMinute int
	// ReadCache configures the read cache (authenticated GETs answered
	// from memory), used when the store is a ucwad.CacheFeed and Run
	// runs.
	ReadCache ReadCacheConfig
}

func (c Config) withDefaults() Config {
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.TokenLifetime <= 0 {
		c.TokenLifetime = 8 * time.Hour
	}
	if c.ServerName == "" {
		c.ServerName = "ucwad"
	}
	if c.DefaultEventTimeout <= 0 {
		c.DefaultEventTimeout = 180 * time.Second
	}
	if c.MinEventTimeout <= 0 {
		c.MinEventTimeout = 180 * time.Second
	}
	if c.MaxEventTimeout <= 0 {
		c.MaxEventTimeout = 1800 * time.Second
	}
	c.MinEventTimeout = min(c.MinEventTimeout, c.DefaultEventTimeout)
	c.MaxEventTimeout = max(c.MaxEventTimeout, c.DefaultEventTimeout)
	if c.ApplicationIdle <= 0 {
		c.ApplicationIdle = 15 * time.Minute
	}
	if c.SweepInterval <= 0 {
		c.SweepInterval = time.Minute
	}
	if c.MaxOutstandingBatchRequests <= 0 {
		c.MaxOutstandingBatchRequests = DefaultMaxOutstandingBatchRequests
	}
	if c.Policies == nil {
		c.Policies = DefaultPolicies
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.NetBIOSName == "" {
		c.NetBIOSName = DefaultNetBIOSName(c.Domain)
	}
	c.Meetings = c.Meetings.WithDefaults()
	c.Limits = c.Limits.WithDefaults()
	c.SignIn = c.SignIn.WithDefaults()
	if c.MaxSignInsPerAddress <= 0 {
		c.MaxSignInsPerAddress = DefaultMaxSignInsPerAddress
	}
	if c.MaxSignInWait <= 0 {
		c.MaxSignInWait = DefaultMaxSignInWait
	}
	if c.MaxConcurrentWritesPerUser <= 0 {
		c.MaxConcurrentWritesPerUser = 1
	}
	if c.AnonymousGrantsPerMinute <= 0 {
		c.AnonymousGrantsPerMinute = DefaultAnonymousGrantsPerMinute
	}
	return c
}

// DefaultMaxSignInsPerAddress is Config.MaxSignInsPerAddress's default:
// half the default number of password hashes computed at once (4), so that
// one address, however hard it floods, leaves hashing slots free for
// everyone else. More sign-ins from one address wait rather than fail, so
// an office behind one address is slowed, not refused, in a burst.
const DefaultMaxSignInsPerAddress = 2

// DefaultMaxSignInWait is Config.MaxSignInWait's default: long enough for
// a burst from one office behind one address to be served rather than
// refused, short enough that a client is not left hanging.
const DefaultMaxSignInWait = 5 * time.Second

// DefaultAnonymousGrantsPerMinute is Config.AnonymousGrantsPerMinute's
// default: a family or a small office joining together, and a renewal
// every few minutes, are far below it; minting identities or guessing
// meeting keys from one address goes no faster.
const DefaultAnonymousGrantsPerMinute = 10

// DefaultNetBIOSName is the NetBIOS name Windows gives a domain by default:
// its first label, upper-cased, at most 15 characters ("CONTOSO" for
// contoso.com).
func DefaultNetBIOSName(domain string) string {
	label, _, _ := strings.Cut(domain, ".")
	label = strings.ToUpper(label)
	if len(label) > 15 {
		label = label[:15]
	}
	return label
}

// Server serves the UCWA API.
type Server struct {
	cfg     Config
	store   stores
	hasher  *auth.Hasher
	clock   clock.Clock
	log     *slog.Logger
	hub     *Hub
	routes  []*route
	writes  *userGates
	origins originList
	batches *outstanding
	signIns *addressGate
	hooks   signInHooks
	// guestGrants throttles the anonymous meeting grant per address.
	guestGrants *grantRate
	// meetings are the rules every request about a meeting is held to.
	meetings *ucwad.MeetingRules
	// typing ends meeting participants' typing on time.
	typing typingTimer
	// metrics are nil when the server keeps none (Deps.Metrics).
	metrics *metrics
	// cache answers authenticated reads from memory; nil without one.
	cache *readCache
	// cacheWake wakes the cache's reader of the change feed.
	cacheWake chan struct{}
}

// stores are the parts of the store the handlers use, one field per store
// interface: a handler reaches the part it works with (s.store.meetings,
// s.store.tokens), never the whole ucwad.Store, so that what each group of
// handlers depends on is plain at the call and a new capability adds its own
// interface here rather than growing one.
type stores struct {
	users    ucwad.UserStore
	tokens   ucwad.TokenStore
	apps     ucwad.ApplicationStore
	events   ucwad.EventStore
	meetings ucwad.MeetingStore
	signIns  ucwad.SignInStore
	// conversations serves joining meetings.
	conversations ucwad.ConversationStore
	// guests serves the anonymous meeting grant.
	guests ucwad.GuestStore
	// messaging serves instant messages in meetings.
	messaging ucwad.MessagingStore
}

func newStores(st ucwad.Store) stores {
	return stores{users: st, tokens: st, apps: st, events: st, meetings: st, signIns: st, conversations: st, guests: st, messaging: st}
}

// Deps are the collaborators a Server uses.
type Deps struct {
	Store  ucwad.Store
	Hasher *auth.Hasher
	Clock  clock.Clock
	Log    *slog.Logger
	// Hub must be the Notifier the store was opened with, so that held
	// event requests wake when events commit. nil: a Hub of its own (then
	// held requests wake only at their timeout).
	Hub *Hub
	// Metrics is where the server registers its Prometheus metrics: a
	// registry of the caller's, not the global one, so that several
	// servers in one process (tests) do not collide. nil: no metrics are
	// kept, and counting costs nothing.
	Metrics prometheus.Registerer
}

// New returns a Server. Deps.Store and Deps.Hasher are required; the others
// default to the real clock and a discarding logger.
func New(cfg Config, d Deps) *Server {
	if d.Clock == nil {
		d.Clock = clock.Real()
	}
	if d.Hub == nil {
		d.Hub = NewHub()
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:    cfg.withDefaults(),
		store:  newStores(d.Store),
		hasher: d.Hasher,
		clock:  d.Clock,
		log:    d.Log,
		hub:    d.Hub,
	}
	s.meetings = ucwad.NewMeetingRules(s.cfg.Meetings, s.cfg.Limits)
	s.signIns = newAddressGate(s.cfg.MaxSignInsPerAddress, s.cfg.MaxSignInWait, s.clock)
	s.guestGrants = newGrantRate(s.cfg.AnonymousGrantsPerMinute, time.Minute, s.clock)
	s.origins = newOriginList(s.cfg.AllowedOrigins)
	s.batches = newOutstanding(s.cfg.MaxOutstandingBatchRequests)
	s.routes = s.routeTable()
	openToGuests(s.routes)
	if d.Metrics != nil {
		s.metrics = newMetrics(d.Metrics, s.hub, d.Store)
		for _, rt := range s.routes {
			rt.metrics = s.metrics.route(routeName(rt.segs))
		}
	}
	s.writes = newUserGates(s.cfg.MaxConcurrentWritesPerUser)
	if feed, ok := d.Store.(ucwad.CacheFeed); ok && !s.cfg.ReadCache.Disabled {
		s.cache = newReadCache(feed, s.cfg.ReadCache)
		s.cacheWake = make(chan struct{}, 1)
		s.hub.cacheWake.Store(&s.cacheWake)
	}
	return s
}

// API returns the UCWA URL space alone: the dispatcher, with the layers
// that belong to UCWA answers (the revision header, panics rendered as
// UCWA errors). The composition root mounts it beside other handlers and
// wraps the whole in Layers.
func (s *Server) API() http.Handler {
	return versioned(s.recoverer(http.HandlerFunc(s.dispatch)))
}

// Handler returns the API wrapped in the server's Layers, for a server that
// serves nothing else (tests, embedding).
func (s *Server) Handler() http.Handler { return s.Layers(s.API()) }

// ucwaVersion is the resource revision this server serves (supportedRevision), as the
// X-MS-UcwaVersion header of every answer names it (Versioning.md: "All
// UCWA responses include the header"). It is written as a decimal like the
// revisions clients send in X-MS-RequiresMinResourceVersion and compare as
// floats.
const ucwaVersion = "2.0"

// versioned names the served revision on every answer, errors and the
// token endpoint included; it sets the header before anything else runs so
// that no path can answer without it.
func versioned(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-MS-UcwaVersion", ucwaVersion)
		next.ServeHTTP(w, r)
	})
}

// Run runs the background sweeps, and the reading of the store's change
// feed that keeps the read cache usable, until ctx ends. Without Run the
// read cache is never used.
func (s *Server) Run(ctx context.Context) {
	if s.cache != nil {
		done := make(chan struct{})
		defer func() { <-done }()
		go func() {
			defer close(done)
			s.cache.run(ctx, s.cacheWake, func(err error) {
				s.log.Warn("read cache: reading the change feed failed; reads go to the store", "err", err)
			})
		}()
	}
	s.sweepLoop(ctx, s.cfg.SweepInterval)
}

// CacheChanged tells the server using the hub that the store's change
// feed has news (a notification from another node), so that its read
// cache reads the feed now rather than at its next poll. It never blocks.
// The poll alone keeps the cache's bound; this only makes it shorter.
func (h *Hub) CacheChanged() {
	if w := h.cacheWake.Load(); w != nil {
		select {
		case *w <- struct{}{}:
		default:
		}
	}
}

// Shutdown answers every held event request at once, and stops ending
// meeting participants' typing on time (the sweep of another process, or
// of the next start, does it); call it before shutting the HTTP server
// down so that it does not wait for them.
func (s *Server) Shutdown() {
	s.hub.Shutdown()
	s.typing.stop()
}

// recoverer turns a panicking handler into a 500 UCWA error instead of a
// dropped connection, and logs the panic once.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic", "method", r.Method, "path", r.URL.Path, "panic", v)
				noteError(r, string(ucwad.EServiceFailure), "")
				c := newCall(r)
				s.renderError(w, r, c, &ucwad.Error{Code: ucwad.EServiceFailure, Message: "The server failed to process the request."})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// baseURL is the absolute scheme://host the client used (or PublicURL).
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
