package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/httpapi"
	"github.com/ucwad/ucwad/ucwa"
)

// batchPart is one response of a batch answer, decoded.
type batchPart struct {
	*http.Response
	body []byte
	raw  []byte // the part's content as sent
}

// batch POSTs a multipart/batching body to the application's batch link.
func (s *session) batch(t *testing.T, contentType, body string) *resp {
	t.Helper()
	return s.do(req{method: "POST", url: link(t, s.app, "batch"), body: body,
		header: map[string]string{"Content-Type": contentType, "Accept": "multipart/batching"}})
}

// parts decodes a 200 batch answer into its responses, in order.
func (r *resp) parts(t *testing.T) []batchPart {
	t.Helper()
	r.wantStatus(t, http.StatusOK)
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/batching" || params["boundary"] == "" {
		t.Fatalf("batch answer Content-Type %q", r.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(bytes.NewReader(r.body), params["boundary"])
	var out []batchPart
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("batch answer: %v\n%s", err, r.body)
		}
		if ct := p.Header.Get("Content-Type"); ct != "application/http; msgtype=response" {
			t.Fatalf("part Content-Type %q", ct)
		}
		raw, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		// The request is named for failure messages: "batch part-N".
		named := &http.Request{Method: "batch", URL: &url.URL{Path: fmt.Sprintf("part-%d", len(out)+1)}}
		res, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), named)
		if err != nil {
			t.Fatalf("part %d is not an HTTP response: %v\n%s", len(out)+1, err, raw)
		}
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatalf("part %d body: %v", len(out)+1, err)
		}
		out = append(out, batchPart{Response: res, body: body, raw: raw})
	}
}

// resp is the part as an answer, for the harness's checks.
func (p batchPart) resp() *resp { return &resp{Response: p.Response, body: p.body} }

// batchBody builds a multipart/batching body of HTTP request messages with
// CRLF line ends, and returns it with its Content-Type.
func batchBody(msgs ...string) (contentType, body string) {
	const b = "77f2569d-c005-442b-b856-782305305e5f"
	var sb strings.Builder
	for _, m := range msgs {
		sb.WriteString("--" + b + "\r\nContent-Type: application/http; msgtype=request\r\n\r\n")
		sb.WriteString(strings.ReplaceAll(m, "\n", "\r\n"))
		sb.WriteString("\r\n")
	}
	sb.WriteString("--" + b + "--\r\n")
	return "multipart/batching;boundary=" + b, sb.String()
}

// TestBatch sends a GET, a POST and a request for a resource that does not
// exist in one batch: three responses, in order, 200, 201 and 404, each
// exactly what the request alone would have answered.
func TestBatch(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "batch")
	me := link(t, embedded(t, s.app, "me"), "self")
	ct, body := batchBody(
		"GET "+me+" HTTP/1.1\nHost: lyncweb.contoso.com\nAccept: application/json\n",
		"POST "+s.myMeetings(t)+" HTTP/1.1\nHost: lyncweb.contoso.com\nAccept: application/json\nContent-Type: application/json\n\n"+
			`{"subject":"Batched","attendees":["sip:bob@contoso.com"]}`,
		"GET "+s.app.Href+"/no/such/thing HTTP/1.1\nAccept: application/xml\n",
	)
	r := s.batch(t, ct, body)
	if r.Header.Get("X-MS-UcwaVersion") != "2.0" {
		t.Errorf("batch answer without X-MS-UcwaVersion")
	}
	parts := r.parts(t)
	if len(parts) != 3 {
		t.Fatalf("%d parts, want 3", len(parts))
	}

	got := parts[0].resp().wantStatus(t, http.StatusOK).resource(t)
	if got.Rel != "me" || str(t, got, "uri") != "sip:alice@contoso.com" {
		t.Errorf("GET me in a batch: rel %q uri %q", got.Rel, str(t, got, "uri"))
	}
	if parts[0].Header.Get("X-MS-UcwaVersion") != "2.0" {
		t.Errorf("part without X-MS-UcwaVersion: %v", parts[0].Header)
	}

	created := parts[1].resp().wantStatus(t, http.StatusCreated).resource(t)
	if str(t, created, "subject") != "Batched" {
		t.Errorf("created meeting subject %q", str(t, created, "subject"))
	}
	if etag := parts[1].Header.Get("ETag"); etag != `"`+str(t, created, "etag")+`"` {
		t.Errorf("part ETag %q, body etag %q", etag, str(t, created, "etag"))
	}
	// The meeting exists, for the caller: the POST was executed as alice.
	if again := s.get(t, created.Href); str(t, again, "subject") != "Batched" {
		t.Errorf("GET the batched meeting: subject %q", str(t, again, "subject"))
	}

	nf := parts[2].resp()
	nf.wantError(t, http.StatusNotFound, ucwad.ENotFound, ucwad.SubResourceNotFound)
	if nf.format(t) != ucwa.XML {
		t.Errorf("part asked for XML, got %s", nf.Header.Get("Content-Type"))
	}
}

// TestBatchSampleLibrary sends what Microsoft's sample library (Batch.js)
// builds, a request body on a "Data:" line and no Content-Type, and reads
// the answer the way its parser (Mime.js) does: the status is the second
// word of the HTTP/1.1 line, every non-empty line after the inner
// Content-Type is a JSON document of its own.
func TestBatchSampleLibrary(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "sample")
	const b = "5e8f3c1a-6d2b-4a0e-9f7c-0a1b2c3d4e5f"
	part := func(line, data string) string {
		p := "\r\n--" + b + "\r\nContent-Type: application/http; msgtype=request\r\n\r\n" + line +
			"\r\nHost: 127.0.0.1\r\nAccept: application/json"
		if data != "" {
			p += "\r\nData: " + data
		}
		return p + "\r\n"
	}
	body := strings.Join([]string{
		part("GET "+s.e.base+s.myMeetings(t)+" HTTP/1.1", ""), // an absolute URL, as Batch.js keeps them
		part("POST "+s.myMeetings(t)+" HTTP/1.1", `{"subject":"From Batch.js"}`),
		part("DELETE "+s.app.Href+"/onlineMeetings/myOnlineMeetings/NOSUCH HTTP/1.1", ""),
	}, "\r\n") + "\r\n\r\n--" + b + "--\r\n"
	r := s.batch(t, "multipart/batching;boundary="+b, body)
	r.wantStatus(t, http.StatusOK)

	_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var statuses []string
	for _, chunk := range strings.Split(string(r.body), "--"+params["boundary"]) {
		chunk = strings.TrimSpace(chunk)
		if chunk == "" || chunk == "--" {
			continue
		}
		if !strings.Contains(chunk, "http; msgtype=response") {
			t.Fatalf("part without msgtype=response: %q", chunk)
		}
		lines := strings.Split(chunk, "\r\n")
		inner := false
		for i, line := range lines {
			switch {
			case strings.Contains(line, "HTTP/1.1"):
				statuses = append(statuses, strings.Split(line, " ")[1])
			case i > 0 && strings.HasPrefix(line, "Content-Type:"):
				inner = true
			case inner && strings.TrimSpace(line) != "":
				if !json.Valid([]byte(line)) {
					t.Errorf("line after the inner Content-Type is not JSON on its own: %q", line)
				}
			}
		}
	}
	if strings.Join(statuses, ",") != "200,201,404" {
		t.Fatalf("statuses %v, want 200,201,404\n%s", statuses, r.body)
	}
	ms := s.get(t, s.myMeetings(t))
	if n := len(ms.FindEmbedded("myOnlineMeeting")); n != 1 {
		t.Errorf("%d meetings after the batch, want 1", n)
	}
}

// TestBatchOverLimit: a batch that would take the user past the limit of
// outstanding batched requests is refused with 429 and none of it runs,
// whether the batch alone is too large or the user's other batches hold
// the rest of the limit.
func TestBatchOverLimit(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) { c.MaxOutstandingBatchRequests = 3 })
	s := e.signIn("alice", "limit")
	post := "POST " + s.myMeetings(t) + " HTTP/1.1\nContent-Type: application/json\n\n{\"subject\":\"x\"}"
	countMeetings := func() int {
		return len(s.get(t, s.myMeetings(t)).FindEmbedded("myOnlineMeeting"))
	}

	ct, body := batchBody(post, post, post, post)
	s.batch(t, ct, body).wantError(t, http.StatusTooManyRequests, ucwad.ETooManyRequests, "")
	if n := countMeetings(); n != 0 {
		t.Fatalf("the refused batch created %d meetings", n)
	}

	// Another batch of alice's holds two of the three slots.
	release := e.api.HoldBatchSlots(e.t, "alice@contoso.com", 2)
	ct, body = batchBody(post, post)
	s.batch(t, ct, body).wantError(t, http.StatusTooManyRequests, ucwad.ETooManyRequests, "")
	if n := countMeetings(); n != 0 {
		t.Fatalf("the refused batch created %d meetings", n)
	}
	// Bob's batches are counted apart.
	b := e.signIn("bob", "limit")
	ct, body = batchBody("GET " + b.app.Href + " HTTP/1.1\n")
	if p := b.batch(t, ct, body).parts(t); p[0].StatusCode != http.StatusOK {
		t.Fatalf("bob's batch: part status %d", p[0].StatusCode)
	}
	release()

	ct, body = batchBody(post, post, post)
	for i, p := range s.batch(t, ct, body).parts(t) {
		if p.StatusCode != http.StatusCreated {
			t.Errorf("part %d: %d %s", i, p.StatusCode, p.body)
		}
	}
	if n := countMeetings(); n != 3 {
		t.Fatalf("%d meetings, want 3", n)
	}
	// Answered requests are no longer outstanding.
	ct, body = batchBody("GET "+s.app.Href+" HTTP/1.1\n", "GET "+s.app.Href+" HTTP/1.1\n", "GET "+s.app.Href+" HTTP/1.1\n")
	if p := s.batch(t, ct, body).parts(t); len(p) != 3 {
		t.Fatalf("%d parts", len(p))
	}
}

// TestBatchDefaultLimit: 100 requests in one batch are served, 101 are
// refused, as UCWA documents.
func TestBatchDefaultLimit(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "default-limit")
	get := "GET " + s.app.Href + "/me HTTP/1.1\nAccept: application/json\n"
	msgs := make([]string, 101)
	for i := range msgs {
		msgs[i] = get
	}
	ct, body := batchBody(msgs...)
	s.batch(t, ct, body).wantError(t, http.StatusTooManyRequests, ucwad.ETooManyRequests, "")
	ct, body = batchBody(msgs[:100]...)
	if p := s.batch(t, ct, body).parts(t); len(p) != 100 {
		t.Fatalf("%d parts, want 100", len(p))
	}
}

// TestBatchMalformed: a batch that cannot be read whole is refused and
// nothing in it is executed, even the requests before the fault.
func TestBatchMalformed(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) { c.MaxBodyBytes = 4096 })
	s := e.signIn("alice", "malformed")
	post := "POST " + s.myMeetings(t) + " HTTP/1.1\nContent-Type: application/json\n\n{\"subject\":\"x\"}"
	good, goodBody := batchBody(post)
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		code                    ucwad.Code
	}{
		{"not multipart", "application/json", `{}`, 415, ucwad.EUnsupportedMediaType},
		{"no boundary", "multipart/batching", goodBody, 400, ucwad.EBadRequest},
		{"other boundary", "multipart/batching;boundary=zzz", goodBody, 400, ucwad.EBadRequest},
		{"empty", good, "--77f2569d-c005-442b-b856-782305305e5f--\r\n", 400, ucwad.EBadRequest},
		{"no request line", good, func() string { _, b := batchBody(post, "Accept: application/json\n"); return b }(), 400, ucwad.EBadRequest},
		{"bad header", good, func() string { _, b := batchBody(post, "GET / HTTP/1.1\nno colon here\n"); return b }(), 400, ucwad.EBadRequest},
		{"relative target", good, func() string { _, b := batchBody(post, "GET me HTTP/1.1\n"); return b }(), 400, ucwad.EBadRequest},
		{"not http", good, strings.Replace(goodBody, "application/http", "text/plain", 1), 400, ucwad.EBadRequest},
		{"a response", good, strings.Replace(goodBody, "msgtype=request", "msgtype=response", 1), 400, ucwad.EBadRequest},
		{"cut short", good, strings.TrimSuffix(goodBody, "--77f2569d-c005-442b-b856-782305305e5f--\r\n"), 400, ucwad.EBadRequest},
		{"content-length past the end", good, func() string {
			_, b := batchBody(post, "POST "+s.myMeetings(t)+" HTTP/1.1\nContent-Length: 500\n\n{}")
			return b
		}(), 400, ucwad.EBadRequest},
		{"too large", good, func() string {
			_, b := batchBody(post, "POST "+s.myMeetings(t)+" HTTP/1.1\nContent-Type: application/json\n\n{\"subject\":\""+strings.Repeat("x", 5000)+"\"}")
			return b
		}(), 413, ucwad.EEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.batch(t, tc.contentType, tc.body).wantError(t, tc.status, tc.code, "")
		})
	}
	if n := len(s.get(t, s.myMeetings(t)).FindEmbedded("myOnlineMeeting")); n != 0 {
		t.Fatalf("refused batches created %d meetings", n)
	}
	// The same boundary quoted, and the reference's ending (a plain
	// delimiter line instead of the closing one), are fine.
	body := strings.TrimSuffix(goodBody, "--\r\n") + "\r\n"
	if p := s.batch(t, `multipart/batching; boundary="77f2569d-c005-442b-b856-782305305e5f"`, body).parts(t); len(p) != 1 || p[0].StatusCode != 201 {
		t.Fatalf("parts %v", p)
	}
}

// TestBatchIsolation: each request runs as the caller, alone: a failing
// part does not fail the others, events and batch are refused inside a
// batch, a token inside a part does not change who runs it, and another
// user's application stays out of reach.
func TestBatchIsolation(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "isolation")
	bob := e.signIn("bob", "isolation")
	ct, body := batchBody(
		"GET "+link(t, s.app, "events")+" HTTP/1.1\n",
		"POST "+link(t, s.app, "batch")+" HTTP/1.1\nContent-Type: multipart/batching;boundary=inner\n\n"+
			"--inner\nContent-Type: application/http; msgtype=request\n\nGET / HTTP/1.1\n\n--inner--",
		"PUT "+s.myMeetings(t)+"/NOSUCH HTTP/1.1\nContent-Type: application/json\n\n{}",
		"GET "+s.app.Href+"/me HTTP/1.1\nAuthorization: Bearer "+bob.token+"\n",
		"GET "+bob.app.Href+" HTTP/1.1\nAuthorization: Bearer "+bob.token+"\n",
		"POST "+s.myMeetings(t)+" HTTP/1.1\nContent-Type: application/json\n\n{\"subject\":",
		"POST "+s.myMeetings(t)+" HTTP/1.1\nContent-Type: application/json\n\n{\"subject\":\"survivor\"}",
	)
	parts := s.batch(t, ct, body).parts(t)
	if len(parts) != 7 {
		t.Fatalf("%d parts", len(parts))
	}
	parts[0].resp().wantError(t, http.StatusBadRequest, ucwad.EBadRequest, "")
	parts[1].resp().wantError(t, http.StatusBadRequest, ucwad.EBadRequest, "")
	parts[2].resp().wantError(t, http.StatusNotFound, ucwad.ENotFound, ucwad.SubResourceNotFound)
	if me := parts[3].resp().wantStatus(t, http.StatusOK).resource(t); str(t, me, "uri") != "sip:alice@contoso.com" {
		t.Errorf("a part with bob's token ran as %s", str(t, me, "uri"))
	}
	parts[4].resp().wantError(t, http.StatusNotFound, ucwad.ENotFound, ucwad.SubApplicationNotFound)
	parts[5].resp().wantError(t, http.StatusBadRequest, ucwad.EBadRequest, "")
	if m := parts[6].resp().wantStatus(t, http.StatusCreated).resource(t); str(t, m, "subject") != "survivor" {
		t.Errorf("subject %q", str(t, m, "subject"))
	}

	// Without a token the batch itself is refused.
	e.do(req{method: "POST", url: link(t, s.app, "batch"), body: body, header: map[string]string{"Content-Type": ct}}).
		wantError(t, http.StatusUnauthorized, ucwad.EUnauthorized, "")
}

// TestBatchOrder: the requests run one after the other in order, so a
// later part sees what an earlier one did.
func TestBatchOrder(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "order")
	var msgs []string
	for i := range 5 {
		msgs = append(msgs, fmt.Sprintf("POST %s HTTP/1.1\nContent-Type: application/json\n\n{\"subject\":\"m%d\"}", s.myMeetings(t), i))
	}
	msgs = append(msgs, "GET "+s.myMeetings(t)+" HTTP/1.1\n")
	ct, body := batchBody(msgs...)
	parts := s.batch(t, ct, body).parts(t)
	list := parts[5].resp().wantStatus(t, http.StatusOK).resource(t)
	if n := len(list.FindEmbedded("myOnlineMeeting")); n != 5 {
		t.Fatalf("the last part saw %d meetings, want 5", n)
	}
	for i := range 5 {
		if got := str(t, parts[i].resp().wantStatus(t, 201).resource(t), "subject"); got != fmt.Sprintf("m%d", i) {
			t.Errorf("part %d subject %q", i, got)
		}
	}
}
