package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/ucwad/ucwad"
)

// The operator endpoints' paths, outside the UCWA URL space.
const (
	HealthzPath = "/healthz"
	ReadyzPath  = "/readyz"
	MetricsPath = "/metrics"
)

// ReadinessTimeout bounds one readiness check: a database that takes
// longer to answer a trivial query is not ready to serve clients.
const ReadinessTimeout = 2 * time.Second

// probeAnswer is the JSON body of /healthz and /readyz.
type probeAnswer struct {
	Status string `json:"status"`          // "ok" or "unavailable"
	Check  string `json:"check,omitempty"` // the check that failed
	Reason string `json:"reason,omitempty"`
}

// Liveness answers GET and HEAD with 200 {"status":"ok"}: the process is
// up and serving HTTP. It checks nothing else, so that an orchestrator
// restarts the process only when it is stuck, never because the database
// is away (a restart would not bring it back).
func Liveness() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProbe(w, r, http.StatusOK, probeAnswer{Status: "ok"})
	})
}

// Readiness answers GET and HEAD with 200 {"status":"ok"} when hc's health
// check passes within ReadinessTimeout, and otherwise 503 with the check
// that failed ("database" or "migrations") and a reason meant for an
// operator; the underlying error goes to log, once each time readiness is
// lost, never into the answer. A nil hc (a store that cannot check itself)
// is always ready.
func Readiness(hc ucwad.HealthChecker, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var mu sync.Mutex
	failing := false
	// changed logs a change between ready and not ready, so that a prober
	// asking every few seconds during an outage logs it once.
	changed := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil && !failing:
			log.Warn("not ready", "err", err)
		case err == nil && failing:
			log.Info("ready again")
		}
		failing = err != nil
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeProbe(w, r, 0, probeAnswer{})
			return
		}
		var err error
		if hc != nil {
			ctx, cancel := context.WithTimeout(r.Context(), ReadinessTimeout)
			err = hc.CheckHealth(ctx)
			cancel()
		}
		if err != nil && r.Context().Err() != nil {
			return // the prober gave up: nobody to answer
		}
		changed(err)
		if err == nil {
			writeProbe(w, r, http.StatusOK, probeAnswer{Status: "ok"})
			return
		}
		ans := probeAnswer{Status: "unavailable", Check: ucwad.CheckDatabase, Reason: "the store's health check failed"}
		var he *ucwad.HealthError
		if errors.As(err, &he) {
			ans.Check, ans.Reason = he.Check, he.Message
		}
		writeProbe(w, r, http.StatusServiceUnavailable, ans)
	})
}

// writeProbe writes a probe's answer, never cached; status 0 refuses a
// method other than GET and HEAD.
func writeProbe(w http.ResponseWriter, r *http.Request, status int, ans probeAnswer) {
	h := w.Header()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		status, ans = http.StatusMethodNotAllowed, probeAnswer{Status: "method not allowed"}
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		json.NewEncoder(w).Encode(ans)
	}
}
