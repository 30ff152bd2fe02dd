package httpapi

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/ucwa"
)

// writeResource writes res in the negotiated format with status and, when
// etag is not empty, a quoted ETag header.
func (s *Server) writeResource(w http.ResponseWriter, c *call, status int, res *ucwa.Resource, etag string) error {
	body, err := ucwa.Marshal(c.format, res)
	if err != nil {
		return err
	}
	writeBody(w, c, status, body, etag)
	return nil
}

// writeTaggedResource writes res with an ETag derived from the
// representation itself, for resources without a stored version (the
// application): the tag changes exactly when what the client would GET
// changes, so a client comparing ETags learns whether to re-read.
func (s *Server) writeTaggedResource(w http.ResponseWriter, c *call, status int, res *ucwa.Resource) error {
	body, err := ucwa.Marshal(c.format, res)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	writeBody(w, c, status, body, strconv.FormatUint(binary.BigEndian.Uint64(sum[:8]), 10))
	return nil
}

func writeBody(w http.ResponseWriter, c *call, status int, body []byte, etag string) {
	h := w.Header()
	h.Set("Content-Type", c.contentType)
	noCache(h)
	if etag != "" {
		h.Set("ETag", `"`+etag+`"`)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body) // a failed write is a client that went away; nothing to do
}

// writeStream answers with res and the resources items yields embedded
// under rel, each encoded as it comes (ucwa.EncodeStream), so that a
// collection of any length costs the memory of one member and a buffer.
// The answer has no Content-Length. The status goes out with the first
// bytes, so a failure before them is an ordinary error answer; a failure
// after them cannot be one, and the connection is dropped instead (the
// client sees a broken answer, never a short list that looks whole). Each
// write may take the request's deadline afresh: a large answer to a client
// that keeps reading is not cut, a client that stops reading is.
func (s *Server) writeStream(w http.ResponseWriter, r *http.Request, c *call, status int, res *ucwa.Resource, etag, rel string, items iter.Seq2[*ucwa.Resource, error]) error {
	h := w.Header()
	h.Set("Content-Type", c.contentType)
	noCache(h)
	if etag != "" {
		h.Set("ETag", `"`+etag+`"`)
	}
	sw := &streamWriter{w: w, rc: http.NewResponseController(w), status: status}
	err := ucwa.EncodeStream(sw, c.format, res, rel, items)
	if err == nil || !sw.started {
		return err
	}
	if r.Context().Err() == nil {
		s.log.Error("answer abandoned midway", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	panic(http.ErrAbortHandler)
}

// streamWriter sends the status with the first bytes and renews the write
// deadline before each write.
type streamWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	status  int
	started bool
}

func (sw *streamWriter) Write(b []byte) (int, error) {
	if !sw.started {
		sw.started = true
		sw.w.WriteHeader(sw.status)
	}
	sw.rc.SetWriteDeadline(time.Now().Add(requestDeadline))
	return sw.w.Write(b)
}

// writeNoContent answers 204.
func writeNoContent(w http.ResponseWriter) {
	noCache(w.Header())
	w.WriteHeader(http.StatusNoContent)
}

// readInput reads a POST or PUT body within the size limit and turns
// decoding failures into UCWA errors: 413 over the limit, 415 for a media
// type that is not JSON or XML, 400 for anything malformed.
func (s *Server) readInput(w http.ResponseWriter, r *http.Request) (*ucwa.Input, error) {
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	in, err := ucwa.ReadInput(body, r.Header.Get("Content-Type"))
	if err == nil {
		return in, nil
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) || errors.Is(err, ucwa.ErrTooLarge) {
		return nil, ucwad.Errorf(ucwad.EEntityTooLarge, "", "The request body is larger than %d bytes.", min(s.cfg.MaxBodyBytes, ucwa.MaxInputSize))
	}
	var ie *ucwa.InputError
	if errors.As(err, &ie) {
		if ie.Unsupported {
			return nil, ucwad.Errorf(ucwad.EUnsupportedMediaType, "", "The content type %q is not supported; send JSON or XML.", r.Header.Get("Content-Type"))
		}
		if ie.Refused {
			return nil, ucwad.InvalidParameter(ie.Member, "%s", strings.TrimPrefix(ie.Msg, "ucwa: "))
		}
		return nil, ucwad.Errorf(ucwad.EBadRequest, "", "The request body could not be read: %s", ie.Msg)
	}
	return nil, err
}
