package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ucwad/ucwad"
)

// DefaultMaxOutstandingBatchRequests is the number of batched requests one
// user may have waiting for an answer, across all batches, as UCWA's
// batching documentation gives it.
const DefaultMaxOutstandingBatchRequests = 100

// Media types of batches (BatchingRequests.md).
const (
	mediaBatch         = "multipart/batching"
	mediaBatchRequest  = "application/http; msgtype=request"
	mediaBatchResponse = "application/http; msgtype=response"
)

// maxPartHeaderLines bounds the header lines of one part and of one
// request inside it: a UCWA request has a handful.
const maxPartHeaderLines = 100

// batchRequest is one request of a batch as its part carries it.
type batchRequest struct {
	method string
	target string // origin form: the path and the query, as sent
	header http.Header
	body   []byte
}

// errBatchTooLarge is what parseBatch returns for a batch with more
// requests than a user may have outstanding: it could never be executed.
var errBatchTooLarge = errors.New("the batch holds more requests than may be outstanding")

// batchSyntaxError is a malformed batch: the whole batch is refused and
// none of it executed.
type batchSyntaxError struct{ msg string }

func (e *batchSyntaxError) Error() string { return e.msg }

func malformed(format string, args ...any) error {
	return &batchSyntaxError{fmt.Sprintf(format, args...)}
}

// parseBatch reads a multipart/batching body (RFC 2046) delimited by
// boundary into its requests, in order. It reads at most max requests:
// a batch with more is errBatchTooLarge. Anything malformed is a
// *batchSyntaxError. Line ends may be CRLF or LF alone, and each request
// may carry its JSON body in a "Data:" header line, as Microsoft's sample
// library (Batch.js) sends it.
func parseBatch(body []byte, boundary string, max int) ([]batchRequest, error) {
	if boundary == "" || len(boundary) > 200 {
		return nil, malformed("the batch boundary must be 1 to 200 characters")
	}
	delim := []byte("--" + boundary)
	at := indexDelimiter(body, delim, 0)
	if at < 0 {
		return nil, malformed("the batch body holds no boundary %q", boundary)
	}
	var reqs []batchRequest
	for {
		after := at + len(delim)
		if bytes.HasPrefix(body[after:], []byte("--")) {
			return reqs, nil // the closing delimiter; what follows is epilogue
		}
		start := lineEnd(body, after)
		next := indexDelimiter(body, delim, start)
		if next < 0 {
			// The reference's own example ends a batch with a plain
			// delimiter line; only a part cut short is an error.
			if len(bytes.TrimSpace(body[start:])) == 0 {
				return reqs, nil
			}
			return nil, malformed("the batch ends without its closing boundary")
		}
		end := next
		if end > start { // the line break before a delimiter belongs to it
			end--
			if end > start && body[end-1] == '\r' {
				end--
			}
		}
		if len(reqs) == max {
			return nil, errBatchTooLarge
		}
		req, err := parsePart(body[start:end])
		if err != nil {
			return nil, malformed("request %d: %v", len(reqs)+1, err)
		}
		reqs = append(reqs, req)
		at = next
	}
}

// indexDelimiter finds the next delimiter line at or after from: delim at
// the start of a line, followed by "--", white space or a line end.
func indexDelimiter(body, delim []byte, from int) int {
	for from <= len(body) {
		i := bytes.Index(body[from:], delim)
		if i < 0 {
			return -1
		}
		i += from
		if i == 0 || body[i-1] == '\n' {
			rest := body[i+len(delim):]
			if len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\r' || rest[0] == '\n' || bytes.HasPrefix(rest, []byte("--")) {
				return i
			}
		}
		from = i + 1
	}
	return -1
}

// lineEnd returns the index just past the end of the line holding i.
func lineEnd(b []byte, i int) int {
	if j := bytes.IndexByte(b[i:], '\n'); j >= 0 {
		return i + j + 1
	}
	return len(b)
}

// parsePart reads one part: its MIME headers, then the HTTP request.
func parsePart(part []byte) (batchRequest, error) {
	h, content, err := parseHeaderBlock(part)
	if err != nil {
		return batchRequest{}, err
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "application/http" {
		return batchRequest{}, fmt.Errorf("the part's Content-Type must be %s", mediaBatchRequest)
	}
	if m, ok := params["msgtype"]; ok && !strings.EqualFold(m, "request") {
		return batchRequest{}, fmt.Errorf("the part's msgtype must be request")
	}
	switch cte := strings.ToLower(h.Get("Content-Transfer-Encoding")); cte {
	case "", "7bit", "8bit", "binary":
	case "quoted-printable":
		if content, err = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(content))); err != nil {
			return batchRequest{}, fmt.Errorf("quoted-printable: %v", err)
		}
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, content)
		if content, err = base64.StdEncoding.AppendDecode(nil, clean); err != nil {
			return batchRequest{}, fmt.Errorf("base64: %v", err)
		}
	default:
		return batchRequest{}, fmt.Errorf("Content-Transfer-Encoding %q is not supported", cte)
	}
	return parseRequest(content)
}

// parseRequest reads an HTTP/1.1 request message: request line, headers,
// body. The version may be missing and the header block need not end with
// a blank line when there is no body.
func parseRequest(msg []byte) (batchRequest, error) {
	for len(msg) > 0 && (msg[0] == '\r' || msg[0] == '\n') {
		msg = msg[1:]
	}
	nl := lineEnd(msg, 0)
	line := strings.TrimRight(string(msg[:nl]), "\r\n")
	fields := strings.Fields(line)
	if len(fields) < 2 || len(fields) > 3 || len(fields) == 3 && !strings.HasPrefix(fields[2], "HTTP/") {
		return batchRequest{}, fmt.Errorf("the request line %q is not METHOD TARGET HTTP/1.1", truncate(line, 80))
	}
	method := strings.ToUpper(fields[0])
	if !isToken(method) {
		return batchRequest{}, fmt.Errorf("the method %q is not a token", truncate(fields[0], 40))
	}
	target, err := requestTarget(fields[1])
	if err != nil {
		return batchRequest{}, err
	}
	h, body, err := parseHeaderBlock(msg[nl:])
	if err != nil {
		return batchRequest{}, err
	}
	if te := h.Get("Transfer-Encoding"); te != "" && !strings.EqualFold(te, "identity") {
		return batchRequest{}, fmt.Errorf("Transfer-Encoding %q is not supported inside a batch", truncate(te, 40))
	}
	h.Del("Transfer-Encoding")
	if cl := h.Values("Content-Length"); len(cl) > 0 {
		n, ok := decimal(cl[0])
		if len(cl) > 1 || !ok || n > len(body) {
			return batchRequest{}, fmt.Errorf("Content-Length %q does not match the body", truncate(cl[0], 40))
		}
		body = body[:n]
	}
	if d := h.Values("Data"); len(d) == 1 && len(body) == 0 {
		// Batch.js puts the JSON body of a request on a "Data:" line.
		body = []byte(d[0])
		h.Del("Data")
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "application/json")
		}
	}
	if len(body) == 0 {
		body = nil
	}
	return batchRequest{method: method, target: target, header: h, body: body}, nil
}

// requestTarget accepts the origin form (/path?query) and the absolute
// form (https://host/path?query, whose host is ignored: a batch runs here)
// and returns the origin form.
func requestTarget(s string) (string, error) {
	u, err := url.ParseRequestURI(s)
	if err != nil || u.Path == "" && u.RawPath == "" || u.Opaque != "" || u.Fragment != "" {
		return "", fmt.Errorf("the request target %q is not a path", truncate(s, 80))
	}
	if u.IsAbs() {
		if u.Scheme != "http" && u.Scheme != "https" || u.User != nil {
			return "", fmt.Errorf("the request target %q is not an http(s) URL", truncate(s, 80))
		}
		return u.RequestURI(), nil
	}
	if !strings.HasPrefix(s, "/") {
		return "", fmt.Errorf("the request target %q is not a path", truncate(s, 80))
	}
	return s, nil
}

// parseHeaderBlock reads header lines up to the first empty line (or the
// end) and returns them with what follows the empty line. Folded lines
// continue the header before them.
func parseHeaderBlock(b []byte) (http.Header, []byte, error) {
	h := http.Header{}
	var last string
	for n := 0; len(b) > 0; n++ {
		nl := lineEnd(b, 0)
		line := string(b[:nl])
		b = b[nl:]
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if line == "" {
			return h, b, nil
		}
		if n == maxPartHeaderLines {
			return nil, nil, fmt.Errorf("more than %d header lines", maxPartHeaderLines)
		}
		if line[0] == ' ' || line[0] == '\t' {
			if last == "" {
				return nil, nil, errors.New("a folded header line continues nothing")
			}
			vs := h[last]
			vs[len(vs)-1] = strings.TrimSpace(vs[len(vs)-1] + " " + strings.TrimSpace(line))
			if !validHeaderValue(vs[len(vs)-1]) {
				return nil, nil, fmt.Errorf("the value of %s holds control characters", last)
			}
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !isToken(name) {
			return nil, nil, fmt.Errorf("the header line %q is not Name: value", truncate(line, 80))
		}
		value = strings.Trim(value, " \t")
		if !validHeaderValue(value) {
			return nil, nil, fmt.Errorf("the value of %s holds control characters", truncate(name, 40))
		}
		last = textproto.CanonicalMIMEHeaderKey(name)
		h[last] = append(h[last], value)
	}
	return h, nil, nil
}

// isToken reports whether s is an HTTP token (RFC 9110): header names and
// methods.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// validHeaderValue refuses control characters other than tab.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// decimal parses a plain non-negative decimal without sign.
func decimal(s string) (int, bool) {
	if s == "" || len(s) > 12 || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// outstanding counts each user's batched requests not answered yet, so
// that one user cannot make the server hold more than the limit across
// all their batches at once.
type outstanding struct {
	mu    sync.Mutex
	limit int
	n     map[int64]int // only users with requests outstanding
}

func newOutstanding(limit int) *outstanding {
	return &outstanding{limit: limit, n: map[int64]int{}}
}

// reserve takes n slots for user, or none when that would pass the limit.
func (o *outstanding) reserve(user int64, n int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n[user]+n > o.limit {
		return false
	}
	o.n[user] += n
	return true
}

// release gives n slots of user back.
func (o *outstanding) release(user int64, n int) {
	if n <= 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n[user] -= n; o.n[user] <= 0 {
		delete(o.n, user)
	}
}

// handleBatch executes the requests of a multipart/batching body one after
// the other, in order, each through the dispatcher with the caller's
// token exactly as if it had been sent alone, and answers 200 with their
// responses in the same order. A malformed batch is 400 and one that would
// take the user past the outstanding limit 429; neither executes anything.
// events (which would hold the batch) and batch itself are refused inside
// a batch, as UCWA refuses them, each in its own part.
func (s *Server) handleBatch(w http.ResponseWriter, r *http.Request, c *call) error {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != mediaBatch {
		return ucwad.Errorf(ucwad.EUnsupportedMediaType, "", "A batch is %s;boundary=… .", mediaBatch)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return ucwad.Errorf(ucwad.EEntityTooLarge, "", "The batch is larger than %d bytes; split it.", s.cfg.MaxBodyBytes)
		}
		return err
	}
	limit := s.cfg.MaxOutstandingBatchRequests
	reqs, err := parseBatch(body, params["boundary"], limit)
	var syntax *batchSyntaxError
	switch {
	case errors.Is(err, errBatchTooLarge):
		return tooManyBatched(limit)
	case errors.As(err, &syntax):
		return ucwad.Errorf(ucwad.EBadRequest, "", "The batch is malformed: %s.", syntax.msg)
	case err != nil:
		return err
	case len(reqs) == 0:
		return ucwad.Errorf(ucwad.EBadRequest, "", "The batch holds no request.")
	}
	if !s.batches.reserve(c.user.ID, len(reqs)) {
		return tooManyBatched(limit)
	}
	pending := len(reqs)
	defer func() { s.batches.release(c.user.ID, pending) }()

	boundary, err := newBoundary()
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", mediaBatch+`; boundary="`+boundary+`"`)
	noCache(h)
	w.WriteHeader(http.StatusOK)
	api := s.API()
	var out bytes.Buffer
	for _, br := range reqs {
		rec := &partRecorder{header: http.Header{}}
		s.executePart(api, rec, r, br)
		out.Reset()
		writePart(&out, boundary, rec)
		_, err := w.Write(out.Bytes())
		pending--
		s.batches.release(c.user.ID, 1)
		if err != nil {
			return nil // the client went away; the rest is not executed
		}
	}
	io.WriteString(w, "--"+boundary+"--\r\n")
	return nil
}

func tooManyBatched(limit int) error {
	return ucwad.Errorf(ucwad.ETooManyRequests, "", "More than %d batched requests would be outstanding; retry later, in smaller batches.", limit)
}

// executePart runs one batched request through the dispatcher as the
// caller: same token, host, address and TLS state as the batch itself.
func (s *Server) executePart(api http.Handler, rec *partRecorder, r *http.Request, br batchRequest) {
	u, err := url.ParseRequestURI(br.target)
	if err != nil { // parseBatch let it through, so this cannot happen
		u = &url.URL{Path: "/"}
	}
	// The part's errors must not be noted as the batch's in the request log.
	ctx := context.WithValue(r.Context(), logNoteKey{}, &logNote{})
	pr := (&http.Request{
		Method:        br.method,
		URL:           u,
		RequestURI:    br.target,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        br.header.Clone(),
		Body:          io.NopCloser(bytes.NewReader(br.body)),
		ContentLength: int64(len(br.body)),
		Host:          r.Host,
		RemoteAddr:    r.RemoteAddr,
		TLS:           r.TLS,
	}).WithContext(ctx)
	pr.Header.Del("Host")
	pr.Header.Del("Content-Length")
	pr.Header.Del("Authorization")
	if a := r.Header.Get("Authorization"); a != "" {
		pr.Header.Set("Authorization", a)
	}
	// The part came on the batch's connection, through the batch's proxies:
	// its client address is the batch's, whatever the part says it is.
	pr.Header.Del("X-Forwarded-For")
	for _, v := range r.Header.Values("X-Forwarded-For") {
		pr.Header.Add("X-Forwarded-For", v)
	}
	if rt, _ := s.match(requestSegments(pr)); rt != nil && rt.unbatched {
		c := newCall(pr)
		c.base = s.baseURL(pr)
		rec.header.Set("X-MS-UcwaVersion", ucwaVersion)
		s.renderError(rec, pr, c, ucwad.Errorf(ucwad.EBadRequest, "", "This resource cannot be requested inside a batch."))
		return
	}
	api.ServeHTTP(rec, pr)
}

// partRecorder keeps one batched request's answer.
type partRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (p *partRecorder) Header() http.Header { return p.header }

func (p *partRecorder) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}

func (p *partRecorder) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return p.body.Write(b)
}

// wireHeaderNames are the spellings UCWA answers use where Go's canonical
// form differs.
var wireHeaderNames = map[string]string{
	"Etag":             "ETag",
	"Www-Authenticate": "WWW-Authenticate",
	"X-Ms-Ucwaversion": "X-MS-UcwaVersion",
}

// writePart writes one response part. The headers come sorted with
// Content-Type last, and the body right after: Microsoft's sample parser
// (Mime.js) takes every non-empty line after the inner Content-Type as
// body.
func writePart(b *bytes.Buffer, boundary string, rec *partRecorder) {
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	b.WriteString("--" + boundary + "\r\nContent-Type: " + mediaBatchResponse + "\r\n\r\n")
	fmt.Fprintf(b, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	h := rec.header
	if rec.body.Len() > 0 {
		h.Set("Content-Length", strconv.Itoa(rec.body.Len()))
	}
	names := make([]string, 0, len(h))
	for k := range h {
		switch k {
		case "Content-Type", "Connection", "Transfer-Encoding", "Keep-Alive":
			continue
		}
		names = append(names, k)
	}
	slices.Sort(names)
	if h.Get("Content-Type") != "" {
		names = append(names, "Content-Type")
	}
	for _, k := range names {
		name := k
		if n, ok := wireHeaderNames[k]; ok {
			name = n
		}
		for _, v := range h[k] {
			b.WriteString(name + ": " + v + "\r\n")
		}
	}
	b.WriteString("\r\n")
	b.Write(rec.body.Bytes())
	b.WriteString("\r\n")
}

// newBoundary returns a random multipart boundary that no answer body
// will contain by chance.
func newBoundary() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "batch_" + hex.EncodeToString(b[:]), nil
}
