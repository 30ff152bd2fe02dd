package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/ucwad/ucwad/clock"
)

// Layers wraps the server's whole URL space (the composition root's mux:
// the UCWA API and whatever is mounted beside it) in what every answer goes
// through: the request log, outermost so that it sees the final status, and
// gzip. Layers that must run before the UCWA dispatcher authenticates (a
// browser's CORS preflight) belong here too.
func Layers(next http.Handler, log *slog.Logger, clk clock.Clock) http.Handler {
	return requestLog(log, clk, gzipper(next))
}

// logNote is what a handler tells the request log about its answer.
type logNote struct{ code, subcode string }

type logNoteKey struct{}

// noteError tells the request log which error code (and subcode) answered r.
func noteError(r *http.Request, code, subcode string) {
	if n, ok := r.Context().Value(logNoteKey{}).(*logNote); ok {
		n.code, n.subcode = code, subcode
	}
}

// requestLog writes one debug line per request: method, path, status, the
// error code and subcode of a failure, and the duration. A request the
// client abandoned before anything was answered is logged as such, not as
// a status. When debug logging is off it costs nothing.
func requestLog(log *slog.Logger, clk clock.Clock, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !log.Enabled(r.Context(), slog.LevelDebug) {
			next.ServeHTTP(w, r)
			return
		}
		// In a function of its own: this frame stays on the stack of
		// every held event request, and should be small.
		logRequest(log, clk, next, w, r)
	})
}

// logRequest serves r through next and logs it at debug level.
func logRequest(log *slog.Logger, clk clock.Clock, next http.Handler, w http.ResponseWriter, r *http.Request) {
	start := clk.Now()
	note := &logNote{}
	r = r.WithContext(context.WithValue(r.Context(), logNoteKey{}, note))
	sw := &statusWriter{ResponseWriter: w}
	next.ServeHTTP(sw, r)
	duration := clk.Now().Sub(start)
	if sw.status == 0 && r.Context().Err() != nil {
		// Nothing was answered because the client left (a P-GET it gave
		// up, a connection it closed): not a status, an event of its own.
		log.Debug("request abandoned by the client", "method", r.Method, "path", r.URL.Path, "duration", duration)
		return
	}
	status := sw.status
	if status == 0 {
		status = http.StatusOK // what net/http sends for a handler that wrote nothing
	}
	attrs := []any{"method", r.Method, "path", r.URL.Path, "status", status}
	if status >= 400 && note.code != "" {
		attrs = append(attrs, "error", note.code)
		if note.subcode != "" {
			attrs = append(attrs, "subcode", note.subcode)
		}
	}
	log.Debug("request", append(attrs, "duration", duration)...)
}

// statusWriter remembers the status for the request log and passes Flush on.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
