package main

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/httpapi"
)

// newRegistry is the server's own Prometheus registry, never the global
// one, so that several servers in one process (the tests) keep apart: the
// Go runtime's and the process's collectors, to which the transport adds
// its metrics.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// operatorEndpoint is one of the endpoints for operators.
type operatorEndpoint struct {
	path string
	h    http.Handler
}

// operatorEndpoints are /healthz, /readyz (the store's health check, when
// the store has one) and /metrics (the registry).
func (m *Main) operatorEndpoints(log *slog.Logger) []operatorEndpoint {
	hc, _ := m.Store.(ucwad.HealthChecker)
	return []operatorEndpoint{
		{httpapi.HealthzPath, httpapi.Liveness()},
		{httpapi.ReadyzPath, httpapi.Readiness(hc, log)},
		{httpapi.MetricsPath, promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
			// A scrape that fails part way still shows what it gathered.
			ErrorHandling: promhttp.ContinueOnError,
		})},
	}
}

// adminHandler serves the operator endpoints on the admin listener, and
// with --pprof the profiler under /debug/pprof/. Anything else is 404.
func (m *Main) adminHandler(log *slog.Logger) http.Handler {
	mx := http.NewServeMux()
	for _, e := range m.operatorEndpoints(log) {
		mx.Handle(e.path, e.h)
	}
	if m.Config.PProf {
		mx.HandleFunc("/debug/pprof/", pprof.Index)
		mx.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mx.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mx.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mx.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mx
}

// serveAdmin starts the admin listener at --admin-addr, plain HTTP: it is
// meant for a private network or loopback, where Prometheus and the
// orchestrator's probes reach it.
func (m *Main) serveAdmin(log *slog.Logger) error {
	ln, err := net.Listen("tcp", m.Config.AdminAddr)
	if err != nil {
		return err
	}
	m.AdminURL = "http://" + ln.Addr().String()
	m.Admin = &http.Server{
		Handler:           m.adminHandler(log),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := m.Admin.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("serving the admin listener", "err", err)
		}
	}()
	return nil
}
