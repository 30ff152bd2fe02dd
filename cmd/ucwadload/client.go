package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ucwad/ucwad/ucwa"
)

// A simulated client is one UCWA application: its own connections (from
// one loopback source address), its own event channel with a P-GET held
// on it, and the token of its user, which it shares with the user's other
// clients as the tabs of one browser share a sign-in. Everything it sends
// follows links from earlier answers, in JSON, and every answer is checked:
// its status, its content type and its decoded body.

// opError is a wrong answer (or a failed exchange), counted by its kind.
type opError struct{ kind string }

func (e *opError) Error() string { return e.kind }

func failf(format string, args ...any) error { return &opError{fmt.Sprintf(format, args...)} }

// errKind names an error for the report: the kind of a wrong answer, or
// the class of a transport failure (never its full text, whose addresses
// and ports would make every error a kind of its own).
func errKind(err error) string {
	var oe *opError
	switch {
	case errors.As(err, &oe):
		return oe.kind
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "transport: no free local port (EADDRNOTAVAIL)"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "transport: out of file descriptors"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "transport: connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "transport: connection reset"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "transport: timeout"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "transport: connection closed by the server"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "transport: timeout"
	}
	return "transport: other"
}

// answer is one HTTP exchange, its body read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// user is a signed-in user of one worker with what its clients share:
// the token and the meetings it organizes.
type user struct {
	idx     int
	name    string
	token   string
	clients []*client

	mu       sync.Mutex
	meetings []*meeting
}

// meeting is one scheduled meeting as its organizer's clients know it.
// inUse counts operations on it in progress and participants the clients
// in its conversation: a meeting is deleted only when both are zero, so
// that no client of the run sees a 404 the run itself caused.
type meeting struct {
	id, uri      string
	inUse        int
	participants int
	exts         []*extension
}

// extension is one extension; busy while a PUT of it is in flight (a
// second PUT with the same ETag would rightly get 412).
type extension struct {
	id, sentinel, etag string
	busy               bool
}

// client is one simulated application.
type client struct {
	w    *worker
	idx  int // in its worker
	slot int // among its user's clients
	u    *user
	base string
	src  string
	tr   *http.Transport // the P-GET's
	opTr *http.Transport // the operations'
	hc   *http.Client    // requests, with the request timeout
	long *http.Client    // the P-GET, without one
	rng  *rand.Rand

	app, events, myMeetings, join, makeAvailable string
	alive                                        atomic.Bool // its P-GET loop runs

	// The conversation it is in (at most one), with what it needs there.
	conv        string
	convMeeting *meeting
	convOwner   *user
	sendMessage string
	lastMessage time.Time
}

// resolve makes an href of an answer absolute against the client's node.
func (c *client) resolve(href string) string {
	if strings.HasPrefix(href, "http://") || strings.HasPrefix(href, "https://") {
		return href
	}
	return c.base + href
}

// send makes one request with the user's token (when there is one) and
// reads the whole answer.
func (c *client) send(ctx context.Context, hc *http.Client, method, href, contentType string, body []byte, header ...string) (*answer, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.resolve(href), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if c.u.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.u.token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	return &answer{status: res.StatusCode, header: res.Header, body: b}, nil
}

// wantStatus checks the status; a wrong one is an error of the kind
// "status N Code/Subcode", the UCWA error read from the body.
func wantStatus(a *answer, status int) error {
	if a.status == status {
		return nil
	}
	kind := fmt.Sprintf("status %d", a.status)
	if strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
		if r, err := ucwa.DecodeReason(bytes.NewReader(a.body), ucwa.JSON); err == nil && r.Code != "" {
			kind += " " + r.Code
			if r.Subcode != "" {
				kind += "/" + r.Subcode
			}
		}
	}
	return &opError{kind}
}

// wantResource checks the status and decodes a UCWA resource in JSON.
func wantResource(a *answer, status int, rel string) (*ucwa.Resource, error) {
	if err := wantStatus(a, status); err != nil {
		return nil, err
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return nil, failf("content type %q, want application/json", ct)
	}
	res, err := ucwa.Decode(bytes.NewReader(a.body), ucwa.JSON)
	if err != nil {
		return nil, failf("body: not a UCWA resource")
	}
	if rel != "" && res.Rel != rel {
		return nil, failf("body: rel %q, want %s", res.Rel, rel)
	}
	return res, nil
}

func str(res *ucwa.Resource, name string) string {
	v, _ := res.Get(name)
	return v.Str()
}

func linkOf(res *ucwa.Resource, rel string) (string, error) {
	l, ok := res.FindLink(rel)
	if !ok || l.Href == "" {
		return "", failf("body: %s has no %s link", res.Rel, rel)
	}
	return l.Href, nil
}

func embeddedLink(res *ucwa.Resource, embedded, rel string) (string, error) {
	es := res.FindEmbedded(embedded)
	if len(es) != 1 {
		return "", failf("body: %s embeds no %s", res.Rel, embedded)
	}
	return linkOf(es[0], rel)
}

// signIn walks the documented chain for c's user: autodiscover, the user
// resource's 401 with the MsRtcOAuth challenge, the token endpoint it
// names, the user resource again with the token. It returns the
// applications href.
func (c *client) signIn(ctx context.Context, password string) (string, error) {
	c.u.token = ""
	a, err := c.send(ctx, c.hc, "GET", "/Autodiscover/AutodiscoverService.svc/root", "", nil)
	if err != nil {
		return "", err
	}
	root, err := wantResource(a, 200, "")
	if err != nil {
		return "", err
	}
	userHref, err := linkOf(root, "user")
	if err != nil {
		return "", err
	}
	if a, err = c.send(ctx, c.hc, "GET", userHref, "", nil); err != nil {
		return "", err
	}
	if err := wantStatus(a, 401); err != nil {
		return "", err
	}
	challenge := a.header.Get("WWW-Authenticate")
	tokenHref := challengeParam(challenge, "href")
	if !strings.HasPrefix(challenge, "MsRtcOAuth") || tokenHref == "" || !strings.Contains(challengeParam(challenge, "grant_type"), "password") {
		return "", failf("401 without an MsRtcOAuth challenge offering the password grant")
	}
	form := url.Values{"grant_type": {"password"}, "username": {c.u.name}, "password": {password}}
	for attempt := 0; ; attempt++ {
		if a, err = c.send(ctx, c.hc, "POST", tokenHref, "application/x-www-form-urlencoded", []byte(form.Encode())); err != nil {
			return "", err
		}
		// The server spaces password checks out: a 429 says when to come
		// back, as a real client would.
		if a.status != 429 || attempt == 20 {
			break
		}
		wait, _ := strconv.Atoi(a.header.Get("Retry-After"))
		select {
		case <-time.After(time.Duration(max(wait, 1)) * time.Second):
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	if err := wantStatus(a, 200); err != nil {
		return "", err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(a.body, &tok); err != nil || tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "Bearer") || tok.ExpiresIn <= 0 {
		return "", failf("body: not a bearer token")
	}
	c.u.token = tok.AccessToken
	if a, err = c.send(ctx, c.hc, "GET", userHref, "", nil); err != nil {
		return "", err
	}
	res, err := wantResource(a, 200, "user")
	if err != nil {
		return "", err
	}
	return linkOf(res, "applications")
}

// challengeParam reads name="value" from a WWW-Authenticate challenge.
func challengeParam(challenge, name string) string {
	i := strings.Index(challenge, name+`="`)
	if i < 0 {
		return ""
	}
	rest := challenge[i+len(name)+2:]
	if j := strings.IndexByte(rest, '"'); j >= 0 {
		return rest[:j]
	}
	return ""
}

// register creates c's application (and makes it available when asked).
func (c *client) register(ctx context.Context, appsHref string, available bool) error {
	// The endpoint id is the client's for good, as a device's is: a run
	// after another gets the same applications back (200 instead of 201),
	// so that repeated runs do not pile up applications for the users.
	body := fmt.Sprintf(`{"userAgent":"ucwadload","endpointId":"ucwadload-%d-%d","culture":"en-US"}`, c.u.idx, c.slot)
	a, err := c.send(ctx, c.hc, "POST", appsHref, "application/json", []byte(body))
	if err != nil {
		return err
	}
	status := 201
	if a.status == 200 {
		status = 200
	}
	res, err := wantResource(a, status, "application")
	if err != nil {
		return err
	}
	c.app = res.Href
	if c.events, err = linkOf(res, "events"); err != nil {
		return err
	}
	if c.myMeetings, err = embeddedLink(res, "onlineMeetings", "myOnlineMeetings"); err != nil {
		return err
	}
	if c.join, err = embeddedLink(res, "communication", "joinOnlineMeeting"); err != nil {
		return err
	}
	if c.makeAvailable, err = embeddedLink(res, "me", "makeMeAvailable"); err != nil {
		return err
	}
	if c.app == "" {
		return failf("body: application without a self link")
	}
	if !available {
		return nil
	}
	body = `{"signInAs":"Online","supportedMessageFormats":["Plain","Html"],"supportedModalities":["Messaging"]}`
	if a, err = c.send(ctx, c.hc, "POST", c.makeAvailable, "application/json", []byte(body)); err != nil {
		return err
	}
	return wantStatus(a, 204)
}

// pgetLoop holds a P-GET on c's event channel for as long as ctx lasts,
// re-issuing it with each answer's next link (or resync), and hands every
// event to the worker's tracker. held gets nil once the first P-GET is
// written (or the error that kept it from being sent).
func (c *client) pgetLoop(ctx context.Context, timeout time.Duration, held chan<- error) {
	defer c.alive.Store(false)
	href := c.events + "&timeout=" + strconv.Itoa(int(timeout/time.Second))
	// The trace's callback runs on the transport's goroutine.
	var once sync.Once
	signal := func(err error) { once.Do(func() { held <- err }) }
	answers := 0
	for failures := 0; ctx.Err() == nil; {
		trace := &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				c.alive.Store(true)
				signal(nil)
			}
		}}
		sent := time.Now()
		a, err := c.send(httptrace.WithClientTrace(ctx, trace), c.long, "GET", href, "", nil)
		at := time.Now()
		if err == nil {
			err = c.w.deliver(c, a, at, &href)
			if err == errResync && answers == 0 {
				err = nil
			}
			answers++
		}
		if ctx.Err() != nil {
			signal(ctx.Err())
			return
		}
		if err != nil {
			// The first P-GET counts as not held once it failed three
			// times (each failure is an error of the report all the
			// same): under the setup's burst a connection may fail
			// once and the next attempt hold.
			if failures >= 2 {
				signal(err)
			}
			c.w.record(opEvents, 0, err)
			if oe, ok := err.(*opError); ok && strings.Contains(oe.kind, "ApplicationNotFound") {
				signal(err)
				return // the application is gone: nothing to hold any more
			}
			failures++
			select {
			case <-time.After(time.Duration(min(failures, 5)) * time.Second):
			case <-ctx.Done():
				signal(ctx.Err())
				return
			}
			continue
		}
		failures = 0
		c.w.record(opEvents, at.Sub(sent), nil)
	}
}

// The mix's operations. Each returns nil, an *opError for a wrong answer,
// or a transport error; errNotApplicable when its precondition does not
// hold (nothing was sent).
var errNotApplicable = errors.New("not applicable")

// Bounds of what the run makes the server hold per user and meeting,
// well inside the server's defaults (1,000 meetings per user, 100
// extensions per meeting, 250 participants).
const (
	maxMeetingsPerUser  = 20
	maxExtsPerMeeting   = 10
	maxJoinedPerMeeting = 40
	messageGap          = 1100 * time.Millisecond // the server allows one a second after a burst
)

func (c *client) meetingHref(m *meeting) string { return c.myMeetings + "/" + m.id }

// pick takes a meeting of u for an operation (marking it in use), or nil.
func (c *client) pick(u *user, ok func(*meeting) bool) *meeting {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := len(u.meetings)
	if n == 0 {
		return nil
	}
	start := c.rng.IntN(n)
	for i := range n {
		m := u.meetings[(start+i)%n]
		if ok == nil || ok(m) {
			m.inUse++
			return m
		}
	}
	return nil
}

func (u *user) release(m *meeting) {
	u.mu.Lock()
	m.inUse--
	u.mu.Unlock()
}

// meetingKey names a meeting-audience event for the tracker: the user,
// what happened, the href below the application's onlineMeetings, and the
// etag of the resource at commit (none for deletions).
func meetingKey(u int, typ, href, etag string) string {
	i := strings.Index(href, "/onlineMeetings/")
	if i < 0 {
		return ""
	}
	return fmt.Sprintf("%d|%s|%s|%s", u, typ, href[i:], etag)
}

func (c *client) schedule(ctx context.Context, track bool) error {
	c.u.mu.Lock()
	full := len(c.u.meetings) >= maxMeetingsPerUser
	c.u.mu.Unlock()
	if full {
		return errNotApplicable
	}
	body := `{"subject":"ucwadload","accessLevel":"Everyone","automaticLeaderAssignment":"Disabled"}`
	a, err := c.send(ctx, c.hc, "POST", c.myMeetings, "application/json", []byte(body))
	if err != nil {
		return err
	}
	done := time.Now()
	res, err := wantResource(a, 201, "myOnlineMeeting")
	if err != nil {
		return err
	}
	m := &meeting{id: str(res, "onlineMeetingId"), uri: str(res, "onlineMeetingUri")}
	if m.id == "" || m.uri == "" || str(res, "subject") != "ucwadload" || str(res, "accessLevel") != "Everyone" || res.Href != c.meetingHref(m) {
		return failf("body: the scheduled meeting is not what was asked")
	}
	if track {
		c.w.expectMeeting(opSchedule, c.u, meetingKey(c.u.idx, "added", res.Href, str(res, "etag")), done)
	}
	c.u.mu.Lock()
	c.u.meetings = append(c.u.meetings, m)
	c.u.mu.Unlock()
	return nil
}

func (c *client) read(ctx context.Context) error {
	m := c.pick(c.u, nil)
	if m == nil {
		return errNotApplicable
	}
	defer c.u.release(m)
	a, err := c.send(ctx, c.hc, "GET", c.meetingHref(m), "", nil)
	if err != nil {
		return err
	}
	res, err := wantResource(a, 200, "myOnlineMeeting")
	if err != nil {
		return err
	}
	if str(res, "onlineMeetingId") != m.id || str(res, "onlineMeetingUri") != m.uri {
		return failf("body: another meeting than the one read")
	}
	if _, err := linkOf(res, "onlineMeetingExtensions"); err != nil {
		return err
	}
	return nil
}

func (c *client) extAdd(ctx context.Context, track bool) error {
	m := c.pick(c.u, func(m *meeting) bool { return len(m.exts) < maxExtsPerMeeting })
	if m == nil {
		return errNotApplicable
	}
	defer c.u.release(m)
	body := fmt.Sprintf(`{"type":"RoamedParticipantData","ucwadload":"%d"}`, c.rng.Uint32())
	a, err := c.send(ctx, c.hc, "POST", c.meetingHref(m)+"/onlineMeetingExtensions", "application/json", []byte(body))
	if err != nil {
		return err
	}
	done := time.Now()
	res, err := wantResource(a, 201, "onlineMeetingExtension")
	if err != nil {
		return err
	}
	e := &extension{id: str(res, "id"), etag: str(res, "etag")}
	for _, p := range res.Props() {
		if p.Value.Str() == "please pass this in a PUT request" {
			e.sentinel = p.Name
		}
	}
	if e.id == "" || e.etag == "" || e.sentinel == "" || str(res, "type") != "RoamedParticipantData" || a.header.Get("ETag") == "" {
		return failf("body: the extension lacks its id, etag or PUT sentinel")
	}
	if track {
		c.w.expectMeeting(opExtAdd, c.u, meetingKey(c.u.idx, "added", res.Href, e.etag), done)
	}
	c.u.mu.Lock()
	m.exts = append(m.exts, e)
	c.u.mu.Unlock()
	return nil
}

// pickExt takes a meeting with an extension that ok accepts.
func (c *client) pickExt(ok func(*extension) bool) (*meeting, *extension) {
	var ext *extension
	m := c.pick(c.u, func(m *meeting) bool {
		if len(m.exts) == 0 {
			return false
		}
		start := c.rng.IntN(len(m.exts))
		for i := range m.exts {
			if e := m.exts[(start+i)%len(m.exts)]; ok == nil || ok(e) {
				ext = e
				return true
			}
		}
		return false
	})
	return m, ext
}

func (c *client) extRead(ctx context.Context) error {
	m, e := c.pickExt(nil)
	if m == nil {
		return errNotApplicable
	}
	defer c.u.release(m)
	a, err := c.send(ctx, c.hc, "GET", c.meetingHref(m)+"/onlineMeetingExtensions/"+url.PathEscape(e.id), "", nil)
	if err != nil {
		return err
	}
	res, err := wantResource(a, 200, "onlineMeetingExtension")
	if err != nil {
		return err
	}
	if str(res, "id") != e.id || str(res, "ucwadload") == "" {
		return failf("body: another extension than the one read")
	}
	return nil
}

func (c *client) extUpdate(ctx context.Context, track bool) error {
	var etag string
	m, e := c.pickExt(func(e *extension) bool {
		if e.busy {
			return false
		}
		e.busy = true
		etag = e.etag
		return true
	})
	if m == nil {
		return errNotApplicable
	}
	defer func() {
		c.u.mu.Lock()
		e.busy = false
		c.u.mu.Unlock()
		c.u.release(m)
	}()
	body, _ := json.Marshal(map[string]string{"id": e.id, "type": "RoamedParticipantData", e.sentinel: "please pass this in a PUT request",
		"ucwadload": strconv.FormatUint(uint64(c.rng.Uint32()), 10)})
	a, err := c.send(ctx, c.hc, "PUT", c.meetingHref(m)+"/onlineMeetingExtensions/"+url.PathEscape(e.id), "application/json", body, "If-Match", `"`+etag+`"`)
	if err != nil {
		return err
	}
	done := time.Now()
	res, err := wantResource(a, 200, "onlineMeetingExtension")
	if err != nil {
		return err
	}
	next := str(res, "etag")
	if str(res, "id") != e.id || next == "" || next == etag {
		return failf("body: the updated extension has no new etag")
	}
	if track {
		c.w.expectMeeting(opExtUpdate, c.u, meetingKey(c.u.idx, "updated", res.Href, next), done)
	}
	c.u.mu.Lock()
	e.etag = next
	c.u.mu.Unlock()
	return nil
}

func (c *client) deleteMeeting(ctx context.Context, track bool) error {
	// Take a meeting nobody uses out of the pool first, so that nothing
	// picks it while it goes; keep two for the others.
	c.u.mu.Lock()
	var m *meeting
	if len(c.u.meetings) > 2 {
		start := c.rng.IntN(len(c.u.meetings))
		for i := range c.u.meetings {
			j := (start + i) % len(c.u.meetings)
			if x := c.u.meetings[j]; x.inUse == 0 && x.participants == 0 {
				m = x
				c.u.meetings = append(c.u.meetings[:j], c.u.meetings[j+1:]...)
				break
			}
		}
	}
	c.u.mu.Unlock()
	if m == nil {
		return errNotApplicable
	}
	href := c.meetingHref(m)
	a, err := c.send(ctx, c.hc, "DELETE", href, "", nil)
	if err != nil {
		return err
	}
	done := time.Now()
	if err := wantStatus(a, 204); err != nil {
		return err
	}
	if track {
		c.w.expectMeeting(opDelete, c.u, meetingKey(c.u.idx, "deleted", c.resolve(href), ""), done)
	}
	return nil
}

func (c *client) joinMeeting(ctx context.Context) error {
	if c.conv != "" {
		return errNotApplicable
	}
	// Another user's meeting, when the worker has other users.
	users := c.w.users
	var owner *user
	var m *meeting
	for range 4 {
		owner = users[c.rng.IntN(len(users))]
		if owner == c.u && len(users) > 1 {
			continue
		}
		if m = c.pick(owner, func(m *meeting) bool { return m.participants < maxJoinedPerMeeting }); m != nil {
			break
		}
	}
	if m == nil {
		return errNotApplicable
	}
	owner.mu.Lock()
	m.participants++
	owner.mu.Unlock()
	joined := false
	defer func() {
		owner.mu.Lock()
		m.inUse--
		if !joined {
			m.participants--
		}
		owner.mu.Unlock()
	}()
	op := fmt.Sprintf("ucwadload-%d-%d", c.w.spec.Index, c.w.seq.Add(1))
	body, _ := json.Marshal(map[string]string{"onlineMeetingUri": m.uri, "operationId": op})
	a, err := c.send(ctx, c.hc, "POST", c.join, "application/json", body)
	if err != nil {
		return err
	}
	if err := wantStatus(a, 201); err != nil {
		return err
	}
	inv := a.header.Get("Location")
	if inv == "" {
		return failf("join: 201 without a Location")
	}
	if a, err = c.send(ctx, c.hc, "GET", inv, "", nil); err != nil {
		return err
	}
	res, err := wantResource(a, 200, "onlineMeetingInvitation")
	if err != nil {
		return err
	}
	if str(res, "state") != "Connected" || str(res, "operationId") != op {
		return failf("body: the invitation is %s, not Connected", str(res, "state"))
	}
	conv, err := linkOf(res, "conversation")
	if err != nil {
		return err
	}
	// From here the client is in the conversation, whatever follows.
	joined = true
	c.conv, c.convMeeting, c.convOwner, c.sendMessage = conv, m, owner, ""
	if a, err = c.send(ctx, c.hc, "POST", conv+"/messaging/addMessaging", "application/json", []byte(`{"operationId":"`+op+`-im"}`)); err != nil {
		return err
	}
	if err := wantStatus(a, 201); err != nil {
		return err
	}
	if a, err = c.send(ctx, c.hc, "GET", conv+"/messaging", "", nil); err != nil {
		return err
	}
	if res, err = wantResource(a, 200, "messaging"); err != nil {
		return err
	}
	if str(res, "state") != "Connected" {
		return failf("body: messaging is %s after addMessaging", str(res, "state"))
	}
	c.sendMessage, err = linkOf(res, "sendMessage")
	return err
}

func (c *client) message(ctx context.Context, track bool) error {
	if c.sendMessage == "" || time.Since(c.lastMessage) < messageGap {
		return errNotApplicable
	}
	c.lastMessage = time.Now()
	token := fmt.Sprintf("w%d.%d", c.w.spec.Index, c.w.seq.Add(1))
	if track {
		// Registered before sending: the events may arrive before the 201.
		c.w.expectMessage(token)
	}
	a, err := c.send(ctx, c.hc, "POST", c.sendMessage+"?OperationContext="+token, "text/plain; charset=utf-8", []byte("ucwadload "+token))
	if err != nil {
		return err
	}
	done := time.Now()
	if err := wantStatus(a, 201); err != nil {
		return err
	}
	if loc := a.header.Get("Location"); !strings.HasPrefix(loc, c.conv+"/messaging/messages/") {
		return failf("sendMessage: 201 without the message's Location")
	}
	if track {
		c.w.messageSent(token, done)
	}
	return nil
}

func (c *client) leave(ctx context.Context) error {
	if c.conv == "" {
		return errNotApplicable
	}
	conv, m, owner := c.conv, c.convMeeting, c.convOwner
	c.conv, c.convMeeting, c.convOwner, c.sendMessage = "", nil, nil, ""
	defer func() {
		owner.mu.Lock()
		m.participants--
		owner.mu.Unlock()
	}()
	a, err := c.send(ctx, c.hc, "DELETE", conv, "", nil)
	if err != nil {
		return err
	}
	return wantStatus(a, 204)
}

// cleanup leaves c's conversation, if any.
func (c *client) cleanup(ctx context.Context) {
	if c.conv != "" {
		c.leave(ctx)
	}
}

// cleanup deletes u's meetings, best effort.
func (u *user) cleanup(ctx context.Context) {
	c := u.clients[0]
	u.mu.Lock()
	ms := u.meetings
	u.meetings = nil
	u.mu.Unlock()
	for _, m := range ms {
		if ctx.Err() != nil {
			return
		}
		c.send(ctx, c.hc, "DELETE", c.meetingHref(m), "", nil)
	}
}

// do runs one operation of the mix.
func (c *client) do(ctx context.Context, op string) error {
	switch op {
	case opSchedule:
		return c.schedule(ctx, true)
	case opRead:
		return c.read(ctx)
	case opExtAdd:
		return c.extAdd(ctx, true)
	case opExtRead:
		return c.extRead(ctx)
	case opExtUpdate:
		return c.extUpdate(ctx, true)
	case opJoin:
		return c.joinMeeting(ctx)
	case opMessage:
		return c.message(ctx, true)
	case opLeave:
		return c.leave(ctx)
	case opDelete:
		return c.deleteMeeting(ctx, true)
	}
	return fmt.Errorf("unknown operation %q", op)
}
