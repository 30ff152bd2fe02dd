package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/ucwa"
)

// statusOf is the one table from error code to HTTP status.
var statusOf = map[ucwad.Code]int{
	ucwad.EBadRequest:           http.StatusBadRequest,
	ucwad.EUnauthorized:         http.StatusUnauthorized,
	ucwad.EForbidden:            http.StatusForbidden,
	ucwad.ENotFound:             http.StatusNotFound,
	ucwad.EMethodNotAllowed:     http.StatusMethodNotAllowed,
	ucwad.EConflict:             http.StatusConflict,
	ucwad.EGone:                 http.StatusGone,
	ucwad.EPreconditionFailed:   http.StatusPreconditionFailed,
	ucwad.EEntityTooLarge:       http.StatusRequestEntityTooLarge,
	ucwad.EUnsupportedMediaType: http.StatusUnsupportedMediaType,
	ucwad.EPreconditionRequired: http.StatusPreconditionRequired,
	ucwad.ETooManyRequests:      http.StatusTooManyRequests,
	ucwad.EServiceFailure:       http.StatusInternalServerError,
	ucwad.EServiceUnavailable:   http.StatusServiceUnavailable,
	ucwad.ETimeout:              http.StatusGatewayTimeout,
}

// renderError is the one place that turns an error into a response: status
// from the table, a UCWA error body in the negotiated format, an
// X-Ms-Diagnostics header, and for EUnauthorized the MsRtcOAuth challenge.
// Errors that are not *ucwad.Error are internal: logged once, never shown.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, c *call, err error) {
	var e *ucwad.Error
	if !errors.As(err, &e) {
		s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		s.storeFailed()
		e = &ucwad.Error{Code: ucwad.EServiceFailure, Message: "The server failed to process the request."}
	} else if e.Code == ucwad.EServiceUnavailable {
		s.storeFailed() // the database is unreachable
	}
	if e.Code == ucwad.EServiceUnavailable && err != error(e) {
		// The store's cause (the database is away) is for the operator.
		s.log.Warn("service unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	h := w.Header()
	if e.Code == ucwad.EUnauthorized {
		// MsRtcOAuth first and quoted, with no space after the comma: the
		// only form every known client's parser accepts. The Bearer line
		// carries no href, so clients that join the headers still find ours.
		h.Add("WWW-Authenticate", `MsRtcOAuth href="`+c.base+tokenPath+`",grant_type="`+s.grantTypes()+`"`)
		h.Add("WWW-Authenticate", `Bearer trusted_issuers="", client_id="00000004-0000-0ff1-ce00-000000000000"`)
	}
	diag := status
	if status == http.StatusUnauthorized {
		diag = 28020 // the Front End's code for "No valid security token."
	}
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((e.RetryAfter+time.Second-1)/time.Second), 10))
	}
	h.Set("X-Ms-Diagnostics", strconv.Itoa(diag)+`;source="`+s.cfg.ServerName+`";reason="`+quotable(e.Message)+`"`)
	h.Set("Content-Type", c.contentType)
	h.Del("Content-Length")
	h.Del("ETag")
	noCache(h)
	reason := &ucwa.Reason{Code: string(e.Code), Subcode: e.Subcode, Message: e.Message}
	for _, p := range e.Parameters {
		reason.Parameters = append(reason.Parameters, ucwa.Parameter{Name: p, Value: e.Message})
	}
	w.WriteHeader(status)
	if err := ucwa.EncodeReason(w, c.format, reason); err != nil {
		s.log.Debug("writing error body", "err", err)
	}
}

// quotable makes s safe inside a quoted header parameter.
func quotable(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r == 0x7f {
			return '\''
		}
		return r
	}, s)
}

// noCache marks a dynamic answer as not to be reused without revalidation.
func noCache(h http.Header) {
	h.Set("Cache-Control", "no-cache")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "-1")
	h.Set("X-Content-Type-Options", "nosniff")
}
