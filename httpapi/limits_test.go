package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/clock"
	"github.com/ucwad/ucwad/httpapi"
	"github.com/ucwad/ucwad/sqlite"
	"github.com/ucwad/ucwad/ucwa"
)

// register POSTs applications for the session's user with endpointId and
// instanceId.
func (s *session) register(endpointID, instanceID string) *resp {
	s.e.t.Helper()
	return s.do(req{method: "POST", url: "/ucwa/oauth/v1/applications", header: jsonBody,
		body: fmt.Sprintf(`{"userAgent":"test","endpointId":%q,"culture":"en-US","instanceId":%q}`, endpointID, instanceID)})
}

// wantLimit checks a 409 LimitExceeded whose message names the limit.
func wantLimit(t *testing.T, r *resp, limit string) {
	t.Helper()
	reason := r.wantError(t, http.StatusConflict, ucwad.EConflict, ucwad.SubLimitExceeded)
	if !strings.Contains(reason.Message, limit) {
		t.Errorf("message %q does not name %s", reason.Message, limit)
	}
}

// TestChannelLimits: 16 channels per application and 200 per user by
// default; one more is 409 LimitExceeded naming the limit, and the
// channels that exist keep working.
func TestChannelLimits(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "ep0") // the default channel of ep0
	for i := 1; i < 16; i++ {
		s.register("ep0", fmt.Sprint("tab", i)).wantStatus(t, http.StatusOK)
	}
	wantLimit(t, s.register("ep0", "tab16"), "maxChannelsPerApplication")
	s.register("ep0", "tab15").wantStatus(t, http.StatusOK)
	tab := s.register("ep0", "tab3").wantStatus(t, http.StatusOK).resource(t)
	s.do(req{method: "DELETE", url: tab.Href}).wantStatus(t, http.StatusNoContent)
	s.register("ep0", "tab16").wantStatus(t, http.StatusOK)

	channels, last := 16, ""
	for app := 1; channels < 200; app++ {
		last = fmt.Sprint("ep", app)
		s.register(last, "").wantStatus(t, http.StatusCreated)
		channels++
		for i := 1; i < 16 && channels < 200; i++ {
			s.register(last, fmt.Sprint("tab", i)).wantStatus(t, http.StatusOK)
			channels++
		}
	}
	wantLimit(t, s.register("ep0", "tab17"), "maxChannelsPerApplication")
	wantLimit(t, s.register(last, "one more"), "maxChannelsPerUser")
	wantLimit(t, s.register("a new endpoint", ""), "maxChannelsPerUser")
	s.register(last, "tab1").wantStatus(t, http.StatusOK)
	// Bob is not alice.
	e.signIn("bob", "ep0").register("ep0", "tab1").wantStatus(t, http.StatusOK)
}

// sipList is n distinct SIP addresses as a JSON array.
func sipList(n int) string {
	l := make([]string, n)
	for i := range l {
		l[i] = fmt.Sprintf("%q", fmt.Sprintf("sip:user%d@contoso.com", i))
	}
	return "[" + strings.Join(l, ",") + "]"
}

// longSIPList is n distinct SIP addresses of 200 characters as a JSON
// array: 200 of them are more than 32 KiB.
func longSIPList(n int) string {
	l := make([]string, n)
	for i := range l {
		user := fmt.Sprintf("user%d-", i)
		l[i] = fmt.Sprintf("%q", "sip:"+user+strings.Repeat("x", 200-len("sip:@contoso.com")-len(user))+"@contoso.com")
	}
	return "[" + strings.Join(l, ",") + "]"
}

// TestMeetingTextLimits: subject (the reference's 250 characters),
// description and the attendee and leader lists (1000 addresses, 32 KiB)
// are bounded; at the limit
// a meeting is scheduled and changed, one more is 400 naming the member,
// on POST and PUT alike, and changes nothing.
func TestMeetingTextLimits(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "text")
	m := s.schedule(t, fmt.Sprintf(`{"subject":%q,"description":%q,"attendees":%s,"leaders":%s}`,
		strings.Repeat("é", 250), strings.Repeat("d", 8192), sipList(1000), sipList(1000)))
	s.schedule(t, `{"attendees":`+longSIPList(163)+`,"leaders":`+longSIPList(163)+`}`) // 32,600 bytes each
	if got := str(t, m, "subject"); got != strings.Repeat("é", 250) {
		t.Errorf("a subject of 250 characters came back as %d", len([]rune(got)))
	}
	for _, tc := range []struct{ name, body, param string }{
		{"subject", fmt.Sprintf(`{"subject":%q}`, strings.Repeat("s", 251)), "subject"},
		{"subject in characters", fmt.Sprintf(`{"subject":%q}`, strings.Repeat("é", 251)), "subject"},
		{"description", fmt.Sprintf(`{"description":%q}`, strings.Repeat("d", 8193)), "description"},
		{"attendees", `{"attendees":` + sipList(1001) + `}`, "attendees"},
		{"leaders", `{"leaders":` + sipList(1001) + `}`, "leaders"},
		{"attendees in bytes", `{"attendees":` + longSIPList(200) + `}`, "attendees"},
		{"leaders in bytes", `{"leaders":` + longSIPList(200) + `}`, "leaders"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantParameter(t, s.do(req{method: "POST", url: s.myMeetings(t), body: tc.body, header: jsonBody}), tc.param)
			var changes map[string]any
			if err := json.Unmarshal([]byte(tc.body), &changes); err != nil {
				t.Fatal(err)
			}
			wantParameter(t, s.put(m.Href, str(t, m, "etag"), putBody(t, m, changes)), tc.param)
		})
	}
	if got := s.get(t, s.myMeetings(t)).FindEmbedded("myOnlineMeeting"); len(got) != 2 || str(t, got[0], "etag") != str(t, m, "etag") {
		t.Errorf("after the refusals: %d meetings", len(got))
	}
}

// TestExtensionLimits: an extension holds at most 64 KiB (id, type,
// property names and values), property names at most 256 characters, at
// most 256 properties; one more is 400 naming the member to shrink.
func TestExtensionLimits(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "ext")
	m := s.schedule(t, `{"subject":"x"}`)
	exts := link(t, m, "onlineMeetingExtensions")
	// id (4) + type (21) + "a" (1) + value + "b" (1) + "tiny" (4): 64 KiB exactly.
	value := strings.Repeat("v", 64<<10-4-21-1-1-4)
	x := s.addExtension(t, m, fmt.Sprintf(`{"id":"full","type":"RoamedParticipantData","a":%q,"b":"tiny"}`, value))
	post := func(body string) *resp {
		return s.do(req{method: "POST", url: exts, body: body, header: jsonBody})
	}
	wantParameter(t, post(fmt.Sprintf(`{"id":"over","type":"RoamedParticipantData","a":%q,"b":"tinyy"}`, value)), "a")
	wantParameter(t, post(fmt.Sprintf(`{"id":"name","%s":"v"}`, strings.Repeat("n", 257))), strings.Repeat("n", 256)+"…")
	s.addExtension(t, m, fmt.Sprintf(`{"id":"name256","%s":"v"}`, strings.Repeat("n", 256)))
	props := make([]string, 257)
	for i := range props {
		props[i] = fmt.Sprintf(`"p%d":"v"`, i)
	}
	wantParameter(t, post(`{"id":"many",`+strings.Join(props, ",")+`}`), "p256")
	s.addExtension(t, m, `{"id":"enough",`+strings.Join(props[:256], ",")+`}`)
	// A PUT over the limit changes nothing.
	wantParameter(t, s.put(x.Href, str(t, x, "etag"), putBody(t, x, map[string]any{"b": strings.Repeat("b", 6)})), "a")
	if got := s.get(t, x.Href); str(t, got, "etag") != str(t, x, "etag") {
		t.Error("a refused PUT changed the extension")
	}

	// The total is configurable.
	e = newEnv(t, func(c *httpapi.Config) { c.Limits.MaxExtensionBytes = 2048 })
	s = e.signIn("alice", "ext")
	m = s.schedule(t, `{}`)
	s.addExtension(t, m, fmt.Sprintf(`{"id":"x","big":%q}`, strings.Repeat("v", 2048-1-9-3)))
	r := s.do(req{method: "POST", url: link(t, m, "onlineMeetingExtensions"), header: jsonBody,
		body: fmt.Sprintf(`{"id":"y","big":%q}`, strings.Repeat("v", 2048-1-9-3+1))})
	wantParameter(t, r, "big")
}

// wantIdentity checks that res is extension x reduced to its identity:
// rel, id, type, etag and self, nothing else.
func wantIdentity(t *testing.T, what string, res *ucwa.Resource, x *ucwa.Resource) {
	t.Helper()
	var names []string
	for _, p := range res.Props() {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"etag", "id", "type"}) || res.Rel != "onlineMeetingExtension" || res.Href != x.Href ||
		len(res.Links()) != 0 || len(res.Embedded()) != 0 {
		t.Errorf("%s: an extension as %s %s with %v, links %v; want rel, id, type, etag and self only", what, res.Rel, res.Href, names, res.Links())
	}
	for _, p := range []string{"id", "type", "etag"} {
		if str(t, res, p) != str(t, x, p) {
			t.Errorf("%s: %s %q, want %q", what, p, str(t, res, p), str(t, x, p))
		}
	}
}

// TestListsEmbedExtensionIdentities: myOnlineMeetings and meeting events
// embed a meeting's extensions as identities (rel, id, type, etag, self)
// without their own properties; the meeting's own GET and the collection
// still show them whole.
func TestListsEmbedExtensionIdentities(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "lists")
	other := e.signIn("alice", "listener")
	ack := link(t, other.app, "events")
	m := s.schedule(t, `{"subject":"with extensions"}`)
	x := s.addExtension(t, m, fmt.Sprintf(`{"id":"x1","type":"RoamedOrganizerData","color":"blue","payload":%q}`, strings.Repeat("p", 30000)))
	m = s.get(t, m.Href)
	for _, f := range []string{"application/json", "application/xml"} {
		list := s.do(req{method: "GET", url: s.myMeetings(t), header: map[string]string{"Accept": f}}).wantStatus(t, http.StatusOK).resource(t)
		ms := list.FindEmbedded("myOnlineMeeting")
		if len(ms) != 1 {
			t.Fatalf("%s: %d meetings", f, len(ms))
		}
		xs := ms[0].FindEmbedded("onlineMeetingExtension")
		if len(xs) != 1 {
			t.Fatalf("%s: %d extensions in the list", f, len(xs))
		}
		wantIdentity(t, "myOnlineMeetings "+f, xs[0], x)
	}
	// The meeting itself and the collection: whole.
	if xs := m.FindEmbedded("onlineMeetingExtension"); len(xs) != 1 || diffResources(xs[0], x) != "" {
		t.Errorf("GET meeting embeds %v", xs)
	}
	if xs := s.get(t, link(t, m, "onlineMeetingExtensions")).FindEmbedded("onlineMeetingExtension"); len(xs) != 1 || diffResources(xs[0], x) != "" {
		t.Errorf("GET onlineMeetingExtensions embeds %v", xs)
	}
	// A meeting's event: identities, however large the extension.
	s.put(m.Href, str(t, m, "etag"), putBody(t, m, map[string]any{"subject": "changed"})).wantStatus(t, http.StatusOK)
	evs := other.nextEvents(t, &ack, "application/json")
	if len(evs) != 3 || evs[2].Type != "updated" || evs[2].Embedded == nil {
		t.Fatalf("events %+v, want added meeting, added extension, updated meeting", evs)
	}
	xs := evs[2].Embedded.FindEmbedded("onlineMeetingExtension")
	if len(xs) != 1 {
		t.Fatalf("the meeting's event embeds %d extensions", len(xs))
	}
	wantIdentity(t, "the meeting's event", xs[0], rebase(t, x, s.app.Href, other.app.Href))
}

// streamEnv is a server like newEnv's whose store is wrapped by wrap.
func streamEnv(t *testing.T, wrap func(*sqlite.DB) ucwad.Store) *env {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(t0)
	hub := httpapi.NewHub()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ucwad.db"), sqlite.Options{Clock: clk, Notifier: hub, PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	hasher := auth.NewHasher(auth.TestParams, 4)
	h, err := hasher.Hash(ctx, "secret-alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, &ucwad.User{SIP: "alice@contoso.com", PasswordHash: h}); err != nil {
		t.Fatal(err)
	}
	api := httpapi.New(httpapi.Config{}, httpapi.Deps{Store: wrap(db), Hasher: hasher, Clock: clk, Hub: hub})
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(func() { api.Shutdown(); srv.Close() })
	return &env{t: t, clock: clk, store: db, api: api, hub: hub, srv: srv, base: srv.URL}
}

// failingList fails ListMeetings after its first after meetings.
type failingList struct {
	*sqlite.DB
	after int
}

func (f failingList) ListMeetings(ctx context.Context, userID int64, rel string) iter.Seq2[*ucwad.OnlineMeeting, error] {
	return func(yield func(*ucwad.OnlineMeeting, error) bool) {
		n := 0
		for m, err := range f.DB.ListMeetings(ctx, userID, rel) {
			if err == nil && rel == ucwad.MeetingRelScheduled && n == f.after {
				err = fmt.Errorf("the disk is on fire")
			}
			n++
			if !yield(m, err) || err != nil {
				return
			}
		}
	}
}

// TestStreamedList: a list longer than any page arrives whole and in
// order, in JSON, XML and gzip; a store failure before anything was sent
// is an ordinary 500, and one after the first bytes breaks the answer
// rather than ending it early as if the list were whole.
func TestStreamedList(t *testing.T) {
	const n = 60
	for _, after := range []int{-1, 0, 50} {
		e := streamEnv(t, func(db *sqlite.DB) ucwad.Store { return failingList{db, after} })
		s := e.signIn("alice", "stream")
		var ids []string
		for i := range n {
			m := s.schedule(t, fmt.Sprintf(`{"subject":"meeting %d","description":%q}`, i, strings.Repeat("d", 4000)))
			ids = append(ids, str(t, m, "onlineMeetingId"))
		}
		switch after {
		case -1:
			for _, h := range []map[string]string{{"Accept": "application/json"}, {"Accept": "application/xml"}, {"Accept-Encoding": "gzip"}} {
				r := s.do(req{method: "GET", url: s.myMeetings(t), header: h}).wantStatus(t, http.StatusOK)
				var got []string
				for _, m := range r.resource(t).FindEmbedded("myOnlineMeeting") {
					got = append(got, str(t, m, "onlineMeetingId"))
				}
				if !slices.Equal(got, ids) {
					t.Errorf("%v: %d meetings in the list, want %d in order", h, len(got), n)
				}
				if r.ContentLength != -1 {
					t.Errorf("%v: a list with Content-Length %d, want it written as it is read", h, r.ContentLength)
				}
			}
		case 0:
			s.do(req{method: "GET", url: s.myMeetings(t)}).wantError(t, http.StatusInternalServerError, ucwad.EServiceFailure, "")
		default:
			hr, err := http.NewRequest("GET", e.base+s.myMeetings(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			hr.Header.Set("Authorization", "Bearer "+s.token)
			res, err := e.srv.Client().Do(hr)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || err == nil {
				t.Errorf("a failure midway: status %d, %d bytes read, error %v; want 200 and a broken body", res.StatusCode, len(body), err)
			}
		}
	}
}

// TestWritesTakeTurnsPerUser: a user has one write in progress at a time
// (the default): while alice's POST is in progress (its handler reading a
// body that has not come yet), her next POST waits, but her reads and bob's
// writes go on.
func TestWritesTakeTurnsPerUser(t *testing.T) {
	e := newEnv(t)
	alice := e.signIn("alice", "turns")
	bob := e.signIn("bob", "turns")
	meetings := alice.myMeetings(t)

	// The first POST by hand, asking for 100 Continue: the server sends it
	// when the handler starts reading the body, after taking the slot.
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	firstBody := `{"subject":"first"}`
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"+
		"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n", meetings, alice.token, len(firstBody))
	br := bufio.NewReader(conn)
	status, err := br.ReadString('\n')
	if err != nil || !strings.Contains(status, "100") {
		t.Fatalf("first POST: %q, %v; want 100 Continue", status, err)
	}
	if _, err := br.ReadString('\n'); err != nil { // the blank line after it
		t.Fatal(err)
	}

	second := make(chan int, 1)
	go func() {
		r := alice.do(req{method: "POST", url: meetings, body: `{"subject":"second"}`, header: jsonBody})
		second <- r.StatusCode
	}()
	bob.schedule(t, `{"subject":"bob's"}`)
	alice.get(t, meetings)
	select {
	case <-second:
		t.Fatal("alice's second write finished while her first was in progress")
	default:
	}
	if _, err := io.WriteString(conn, firstBody); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("alice's first write: %v, %v", res, err)
	}
	if got := <-second; got != http.StatusCreated {
		t.Fatalf("alice's second write: %d", got)
	}
}
