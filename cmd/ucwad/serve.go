package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/clock"
	"github.com/ucwad/ucwad/httpapi"
	"github.com/ucwad/ucwad/joinpage"
)

// Main is a running server: its configuration, store and HTTP server.
// End-to-end tests build one with ParseFlags, call Run and then Close.
type Main struct {
	Config Config
	Env    Env
	Clock  clock.Clock
	// HashParams are the password hash parameters (tests use cheap ones).
	HashParams auth.Params

	Store  ucwad.Store
	API    *httpapi.Server
	Server *http.Server
	ln     net.Listener
	stop   context.CancelFunc // ends the background sweeps
	// URL is the base URL the server listens at, set by Run.
	URL string

	// Registry holds the server's metrics, served at /metrics.
	Registry *prometheus.Registry
	// Admin is the admin listener's server (--admin-addr), nil without
	// one; AdminURL is its base URL.
	Admin    *http.Server
	AdminURL string
}

// NewMain returns a Main with the real clock and default hash parameters.
func NewMain(env Env) *Main {
	return &Main{Env: env, Clock: clock.Real(), HashParams: auth.DefaultParams}
}

// ParseFlags reads the serve flags, the environment and the config file.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("ucwad serve", flag.ContinueOnError)
	fs.SetOutput(m.Env.Stderr)
	serveFlags(fs, &m.Config)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: ucwad serve [flags]\n\nRuns the UCWA server. With no flags it serves http://127.0.0.1:8080 on ucwad.db.\n\nFlags (each also from the environment, e.g. --db as UCWAD_DB):\n")
		fs.PrintDefaults()
	}
	if err := parseCommand(fs, args, m.Env.Getenv); err != nil {
		return err
	}
	fc, err := loadFile(m.Config.ConfigFile)
	if err != nil {
		return err
	}
	m.Config.File = fc
	if m.Config.NetBIOSName == "" {
		m.Config.NetBIOSName = httpapi.DefaultNetBIOSName(m.Config.Domain)
	}
	return m.Config.Validate()
}

func runServe(ctx context.Context, args []string, env Env) error {
	m := NewMain(env)
	if err := m.ParseFlags(args); err != nil {
		return err
	}
	if err := m.Run(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	fmt.Fprintln(env.Stdout, "shutting down")
	return m.Close()
}

// Run opens the store, makes sure someone can sign in, and starts serving
// in the background. It returns once the server accepts connections.
func (m *Main) Run(ctx context.Context) error {
	c := &m.Config
	log := slog.New(slog.NewTextHandler(m.Env.Stderr, &slog.HandlerOptions{Level: logLevel(c.LogLevel)}))
	log.Info("starting", "config", c.String())

	hub := httpapi.NewHub()
	m.Registry = newRegistry()
	// One value of limits, for the store and the transport alike.
	limits := c.File.ServerLimits()
	db, err := openStore(ctx, c.DB, storeOptions{
		Clock:    m.Clock,
		Notifier: hub,
		Logger:   log,
		Sync:     c.Sync,
		Limits:   limits,
		// One setting for SQLite's group commit.
		NoGroupCommit: !c.GroupCommit,
	})
	if err != nil {
		return err
	}
	m.Store = db
	hasher := auth.NewHasher(m.HashParams, c.File.Limits.PasswordHashConcurrency)
	if err := m.ensureDemoUser(ctx, hasher); err != nil {
		return err
	}

	api := httpapi.New(httpapi.Config{
		PublicURL:     c.PublicURL,
		Domain:        c.Domain,
		NetBIOSName:   c.NetBIOSName,
		MaxBodyBytes:  c.File.Limits.MaxBodyBytes,
		TokenLifetime: c.File.Limits.TokenLifetime.Duration,
		Policies:      c.File.Policies,
		Meetings:      c.File.Meetings.Config(),
		Limits:        limits,

		MaxSignInsPerAddress: c.File.Limits.MaxSignInsPerAddress,
		MaxSignInWait:        c.File.Limits.MaxSignInWait.Duration,
		TrustedProxies:       c.TrustedProxies,

		MaxConcurrentWritesPerUser:  c.File.Limits.MaxConcurrentWritesPerUser,
		AllowedOrigins:              c.AllowOrigins,
		MaxOutstandingBatchRequests: c.File.Limits.MaxOutstandingBatchRequests,

		AnonymousGrantsPerMinute: c.File.Meetings.AnonymousGrantsPerMinute,
	}, httpapi.Deps{Store: db, Hasher: hasher, Clock: m.Clock, Log: log, Hub: hub, Metrics: m.Registry})
	m.API = api
	sweepCtx, stop := context.WithCancel(context.Background())
	m.stop = stop
	go api.Run(sweepCtx)

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	maxConns := connectionLimit(descriptorLimit())
	ln = newLimitListener(ln, maxConns)
	if maxConns > 0 {
		log.Info("connections", "max", maxConns, "descriptors-kept-for-the-store", descriptorReserve)
	}
	m.ln = ln
	scheme := "http"
	if c.TLSSelfSigned || c.TLSCert != "" {
		cfg, certFile, err := m.tlsConfig(ln.Addr())
		if err != nil {
			ln.Close()
			return err
		}
		if certFile != "" {
			fmt.Fprintf(m.Env.Stdout, "TLS certificate: %s (self-signed: make clients trust this file)\n", certFile)
		}
		m.printCertificateNames(cfg)
		ln = tls.NewListener(ln, cfg)
		scheme = "https"
	}
	m.URL = scheme + "://" + ln.Addr().String()
	if c.AdminAddr != "" {
		if err := m.serveAdmin(log); err != nil {
			ln.Close()
			return err
		}
	}
	m.Server = &http.Server{
		Handler: api.Layers(m.routes(api, log)),
		// Slow or idle clients must not hold connections forever. There is
		// no server-wide write timeout: it would cut held event requests.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := m.Server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("serving", "err", err)
		}
	}()
	base := m.URL
	if c.PublicURL != "" {
		base = strings.TrimRight(c.PublicURL, "/")
	}
	fmt.Fprintf(m.Env.Stdout, "ucwad is listening on %s\nAutodiscover: %s/Autodiscover/AutodiscoverService.svc/root\n", m.URL, base)
	if m.Admin != nil {
		pprofNote := ""
		if c.PProf {
			pprofNote = ", profiler at /debug/pprof/"
		}
		fmt.Fprintf(m.Env.Stdout, "Operator endpoints (/healthz, /readyz, /metrics%s) on %s\n", pprofNote, m.AdminURL)
	}
	return nil
}

// routes is the server's URL space: the UCWA API, and beside it the pages
// and operator endpoints that are not UCWA resources: the xframe page when
// an origin is allowed, the join page, and /healthz, /readyz and /metrics
// unless --admin-addr moves them to their own listener. Each mount is
// counted in the metrics under its path.
func (m *Main) routes(api *httpapi.Server, log *slog.Logger) http.Handler {
	mx := newMux(api.API())
	mx.label = api.Route
	if h := api.XFrame(); h != nil {
		for _, p := range httpapi.XFramePaths {
			mx.handle(p, h)
		}
	}
	m.mountJoinPage(mx, log)
	if m.Config.AdminAddr == "" {
		for _, e := range m.operatorEndpoints(log) {
			mx.handle(e.path, e.h)
		}
	}
	return mx
}

// mountJoinPage mounts the page meetings' join links open: always at
// /meet/, and, when meetings.joinBaseUrl names another base for links,
// at that base's path as well (only at exact join links, so that a base
// at the root shadows no UCWA path).
func (m *Main) mountJoinPage(mx *mux, log *slog.Logger) {
	c := &m.Config
	cfg := joinpage.Config{Meetings: m.Store, Log: log}
	if c.PublicURL != "" {
		// The page may be served on the joinBaseUrl's host while the API's
		// links lead to the public URL.
		if o, err := httpapi.ParseOrigin(c.PublicURL); err == nil {
			cfg.ConnectOrigins = append(cfg.ConnectOrigins, o)
		}
	}
	page := joinpage.New(cfg)
	mx.handle(joinpage.Prefix, page)
	base := c.File.Meetings.JoinBaseURL
	if base == "" {
		return
	}
	u, err := url.Parse(base)
	if err != nil {
		return // Validate refused it already
	}
	// The page on the base's host reaches the API at the public URL: a
	// request to another origin, which the browser makes only if that
	// origin is allowed.
	if c.PublicURL != "" {
		own, _ := httpapi.ParseOrigin(c.PublicURL)
		page, _ := httpapi.ParseOrigin(u.Scheme + "://" + u.Host)
		if page != own && !slices.Contains(c.AllowOrigins, page) {
			log.Warn("the join page on meetings.joinBaseUrl's host cannot reach the API at --public-url: add --allow-origin "+page, "joinBaseUrl", base, "publicUrl", c.PublicURL)
		}
	}
	path := strings.TrimRight(u.Path, "/")
	if path == ucwad.JoinPath {
		return
	}
	mx.handleMatch(path+"/{alias}/{onlineMeetingId}", func(p string) bool {
		_, _, ok := joinpage.Link(p, path)
		return ok
	}, page.At(path))
}

// Close stops serving, waiting a few seconds for requests in flight, and
// closes the store.
func (m *Main) Close() error {
	var errs []error
	if m.stop != nil {
		m.stop()
	}
	if m.API != nil {
		m.API.Shutdown() // held event requests answer now instead of holding Shutdown up
	}
	if m.Server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := m.Server.Shutdown(ctx); err != nil {
			errs = append(errs, err)
			m.Server.Close()
		}
	}
	// The admin listener goes last, so that probes and scrapes are
	// answered while the main listener drains.
	if m.Admin != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := m.Admin.Shutdown(ctx); err != nil {
			errs = append(errs, err)
			m.Admin.Close()
		}
	}
	if m.Store != nil {
		errs = append(errs, m.Store.Close())
	}
	return errors.Join(errs...)
}

// ensureDemoUser creates demo@DOMAIN with a random password when the user
// directory is empty, and prints how to sign in, once.
func (m *Main) ensureDemoUser(ctx context.Context, hasher *auth.Hasher) error {
	n, err := m.Store.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	password, err := randomPassword()
	if err != nil {
		return err
	}
	hash, err := hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	u := &ucwad.User{SIP: "demo@" + m.Config.Domain, Name: "Demo User", PasswordHash: hash}
	if err := m.Store.CreateUser(ctx, u); err != nil {
		return err
	}
	fmt.Fprintf(m.Env.Stdout, "No users yet: created %s with password %s (shown only now; change it with \"ucwad user passwd --sip %s\").\n", u.SIP, password, u.SIP)
	return nil
}

func logLevel(s string) slog.Level {
	var l slog.Level
	l.UnmarshalText([]byte(s))
	return l
}
