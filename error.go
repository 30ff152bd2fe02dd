package ucwad

import (
	"errors"
	"fmt"
	"time"
)

// Code is a UCWA error code (the ErrorCode enumeration). The set is closed:
// every code maps to exactly one HTTP status in package httpapi.
type Code string

// Error codes, spelled as the UCWA ErrorCode enumeration spells them.
const (
	EBadRequest           Code = "BadRequest"
	EForbidden            Code = "Forbidden"
	ENotFound             Code = "NotFound"
	EMethodNotAllowed     Code = "MethodNotAllowed"
	EConflict             Code = "Conflict"
	EGone                 Code = "Gone"
	EPreconditionFailed   Code = "PreconditionFailed"
	EEntityTooLarge       Code = "EntityTooLarge"
	EUnsupportedMediaType Code = "UnsupportedMediaType"
	EPreconditionRequired Code = "PreconditionRequired"
	ETooManyRequests      Code = "TooManyRequests"
	EServiceFailure       Code = "ServiceFailure"
	EServiceUnavailable   Code = "ServiceUnavailable"
	ETimeout              Code = "Timeout"
	// EUnauthorized is not a UCWA error code: it stands for a missing or
	// invalid token, answered with 401 and the MsRtcOAuth challenge.
	EUnauthorized Code = "Unauthorized"
)

// Subcodes (the ErrorSubcode enumeration) used by this server.
const (
	SubParameterValidationFailure = "ParameterValidationFailure"
	SubApplicationNotFound        = "ApplicationNotFound"
	SubAlreadyExists              = "AlreadyExists"
	SubTooManyApplications        = "TooManyApplications"
	SubTooManyOnlineMeetings      = "TooManyOnlineMeetings"
	SubPGetReplaced               = "PGetReplaced"
	SubResourceNotFound           = "ResourceNotFound"
	SubDeserializationFailure     = "DeserializationFailure"
	SubAnonymousNotAllowed        = "AnonymousNotAllowed"
	SubMakeMeAvailableRequired    = "MakeMeAvailableRequired"
)

// Error is the one error type the server returns to clients. Anything that
// is not an *Error is an internal failure (500, ServiceFailure) whose text
// is logged and never shown.
type Error struct {
	Code    Code
	Subcode string
	// Message is human text safe to show to the client.
	Message string
	// Parameters names the invalid or missing request members (400
	// ParameterValidationFailure).
	Parameters []string
	// RetryAfter, for ETooManyRequests, is how long the client should wait
	// before trying again (sent as Retry-After, in whole seconds).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	s := string(e.Code)
	if e.Subcode != "" {
		s += "/" + e.Subcode
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, subcode, format string, args ...any) *Error {
	return &Error{Code: code, Subcode: subcode, Message: fmt.Sprintf(format, args...)}
}

// InvalidParameter returns a 400 ParameterValidationFailure naming the
// member at fault.
func InvalidParameter(name, format string, args ...any) *Error {
	return &Error{
		Code:       EBadRequest,
		Subcode:    SubParameterValidationFailure,
		Message:    fmt.Sprintf(format, args...),
		Parameters: []string{name},
	}
}

// ErrorCode returns the code of err when it is (or wraps) an *Error, and
// EServiceFailure for any other non-nil error.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EServiceFailure
}

// ErrorSubcode returns the subcode of err when it is (or wraps) an *Error.
func ErrorSubcode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Subcode
	}
	return ""
}
