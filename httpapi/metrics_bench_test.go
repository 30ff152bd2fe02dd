package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ucwad/ucwad/clock"
)

// nullWriter is a response writer that keeps nothing, so that the
// benchmark below measures the metrics layer alone.
type nullWriter struct{ h http.Header }

func (w nullWriter) Header() http.Header         { return w.h }
func (w nullWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w nullWriter) WriteHeader(int)             {}

// BenchmarkInstrument is what the metrics layer adds to one request: "off"
// is a handler that only answers, "on" the same handler noting its route
// inside the layer that counts and times it.
func BenchmarkInstrument(b *testing.B) {
	r := httptest.NewRequest("GET", "/ucwa/oauth/v1/applications/x", nil)
	w := nullWriter{h: http.Header{}}
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			s := &Server{clock: clock.Real()}
			var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
			if on {
				s.metrics = newMetrics(prometheus.NewRegistry(), NewHub(), nil)
				rm := s.metrics.route("/ucwa/oauth/v1/applications/{app}")
				inner := h
				h = s.instrument(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					noteRoute(w, rm)
					inner.ServeHTTP(w, r)
				}))
			}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
		})
	}
}
