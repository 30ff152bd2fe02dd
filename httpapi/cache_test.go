package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/httpapi"
)

// cachedEnv is a server whose read cache reads its change feed once at the
// start and then only when a write through the server or the test asks:
// its poll and staleness are an hour, so that whatever the store changes
// behind the server's back stays unseen until the test says.
func cachedEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, func(c *httpapi.Config) {
		c.ReadCache = httpapi.ReadCacheConfig{PollInterval: time.Hour, StaleAfter: time.Hour}
	})
	polled := make(chan struct{}, 1)
	stop := e.api.RunReadCache(func() {
		select {
		case polled <- struct{}{}:
		default:
		}
	})
	t.Cleanup(stop)
	<-polled
	return e
}

// cachedMeeting is alice's session with a meeting with one extension,
// each of the three cached reads made once.
type cachedMeeting struct {
	s                  *session
	user               *ucwad.User
	appID, meetingID   string
	meeting, exts, app string
}

func newCachedMeeting(t *testing.T, e *env) *cachedMeeting {
	t.Helper()
	s := e.signIn("alice", "e1")
	m := s.schedule(t, `{"subject":"before"}`)
	s.addExtension(t, m, `{"id":"x1","type":"RoamedParticipantData","color":"blue"}`)
	u, err := e.store.FindUserBySIP(t.Context(), "alice@contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	c := &cachedMeeting{s: s, user: u, meeting: m.Href, exts: link(t, m, "onlineMeetingExtensions"), app: s.app.Href,
		appID: str(t, s.app, "id"), meetingID: str(t, m, "onlineMeetingId")}
	for _, href := range []string{c.meeting, c.exts, c.app} {
		s.get(t, href)
	}
	return c
}

func (c *cachedMeeting) subject(t *testing.T) string {
	t.Helper()
	return str(t, c.s.get(t, c.meeting), "subject")
}

// extensionIDs are the ids of the extensions the meeting's answer embeds
// and those of its extensions' answer.
func (c *cachedMeeting) extensionIDs(t *testing.T) (inMeeting, inList []string) {
	t.Helper()
	for _, x := range c.s.get(t, c.meeting).FindEmbedded("onlineMeetingExtension") {
		inMeeting = append(inMeeting, str(t, x, "id"))
	}
	for _, x := range c.s.get(t, c.exts).FindEmbedded("onlineMeetingExtension") {
		inList = append(inList, str(t, x, "id"))
	}
	return inMeeting, inList
}

// storeUpdate changes the meeting's subject in the store, as another node
// or process would.
func (c *cachedMeeting) storeUpdate(t *testing.T, e *env, subject string) {
	t.Helper()
	m, err := e.store.FindMeeting(t.Context(), c.user.ID, c.meetingID)
	if err != nil {
		t.Fatal(err)
	}
	st := m.MeetingSettings
	st.Subject = subject
	if _, err := e.store.UpdateMeeting(t.Context(), c.user.ID, c.meetingID, st, ""); err != nil {
		t.Fatal(err)
	}
}

// TestReadCacheAnswersFromMemory shows the cache at work: a change made
// behind the server's back is not seen until the feed is read, and is
// seen once it is.
func TestReadCacheAnswersFromMemory(t *testing.T) {
	e := cachedEnv(t)
	c := newCachedMeeting(t, e)
	c.storeUpdate(t, e, "elsewhere")
	if got := c.subject(t); got != "before" {
		t.Fatalf("subject %q before the feed was read, want the cached %q (is the cache used at all?)", got, "before")
	}
	if err := e.api.SyncReadCache(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := c.subject(t); got != "elsewhere" {
		t.Fatalf("subject %q after the feed was read, want %q", got, "elsewhere")
	}
}

// TestReadCacheSeesOwnWrites: what a write through this server changed is
// what the next read answers, without waiting for the feed's poll.
func TestReadCacheSeesOwnWrites(t *testing.T) {
	e := cachedEnv(t)
	c := newCachedMeeting(t, e)
	s := c.s

	m := s.get(t, c.meeting)
	s.put(c.meeting, `"`+str(t, m, "etag")+`"`, `{"subject":"after","`+sentinel(t, m)+`":"please pass this in a PUT request"}`).wantStatus(t, http.StatusOK)
	if got := c.subject(t); got != "after" {
		t.Errorf("subject %q after PUT, want %q", got, "after")
	}

	s.addExtension(t, s.get(t, c.meeting), `{"id":"x2","type":"RoamedParticipantData"}`)
	if in, list := c.extensionIDs(t); len(in) != 2 || len(list) != 2 {
		t.Errorf("after adding x2: extensions %v in the meeting, %v listed, want 2 each", in, list)
	}
	x2 := link(t, s.get(t, c.exts).FindEmbedded("onlineMeetingExtension")[1], "self")
	s.do(req{method: "DELETE", url: x2}).wantStatus(t, http.StatusNoContent)
	if in, list := c.extensionIDs(t); len(in) != 1 || len(list) != 1 {
		t.Errorf("after deleting x2: extensions %v in the meeting, %v listed, want x1 alone", in, list)
	}

	if _, ok := embedded(t, s.get(t, c.app), "me").FindLink("makeMeAvailable"); !ok {
		t.Fatal("a new application's me has no makeMeAvailable link")
	}
	s.do(req{method: "POST", url: c.app + "/me/makeMeAvailable", body: `{}`, header: jsonBody}).wantStatus(t, http.StatusNoContent)
	if _, ok := embedded(t, s.get(t, c.app), "me").FindLink("reportMyActivity"); !ok {
		t.Error("after makeMeAvailable the application's me still offers makeMeAvailable")
	}

	s.do(req{method: "DELETE", url: c.meeting}).wantStatus(t, http.StatusNoContent)
	s.do(req{method: "GET", url: c.meeting}).wantStatus(t, http.StatusNotFound)
	s.do(req{method: "GET", url: c.exts}).wantStatus(t, http.StatusNotFound)

	s.do(req{method: "DELETE", url: c.app}).wantStatus(t, http.StatusNoContent)
	s.do(req{method: "GET", url: c.app}).wantStatus(t, http.StatusNotFound)
}

// TestReadCacheSeesOtherProcesses: changes made by another process (here
// the store used directly, as `ucwad user passwd` or another node would)
// reach the cache through the feed's poll alone: a revoked token, a
// deleted application, a changed meeting.
func TestReadCacheSeesOtherProcesses(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) {
		c.ReadCache = httpapi.ReadCacheConfig{PollInterval: time.Millisecond}
	})
	polls := make(chan struct{}, 1)
	stop := e.api.RunReadCache(func() {
		select {
		case polls <- struct{}{}:
		default:
		}
	})
	t.Cleanup(stop)
	<-polls
	c := newCachedMeeting(t, e)
	// Two polls that succeed: the second began after the change
	// committed.
	waitPolls := func() {
		for range 2 {
			<-polls
		}
		<-polls // the buffered signal may predate the change
	}

	c.storeUpdate(t, e, "elsewhere")
	waitPolls()
	if got := c.subject(t); got != "elsewhere" {
		t.Errorf("subject %q after the change and a poll, want %q", got, "elsewhere")
	}
	if err := e.store.DeleteExtension(t.Context(), c.user.ID, c.meetingID, "x1"); err != nil {
		t.Fatal(err)
	}
	waitPolls()
	if in, list := c.extensionIDs(t); len(in) != 0 || len(list) != 0 {
		t.Errorf("after x1 was deleted elsewhere: %v in the meeting, %v listed", in, list)
	}
	if err := e.store.DeleteApplication(t.Context(), c.user.ID, c.appID, ""); err != nil {
		t.Fatal(err)
	}
	waitPolls()
	c.s.do(req{method: "GET", url: c.app}).wantStatus(t, http.StatusNotFound)

	if err := e.store.SetUserPassword(t.Context(), c.user.ID, c.user.PasswordHash); err != nil {
		t.Fatal(err)
	}
	waitPolls()
	c.s.do(req{method: "GET", url: c.meeting}).wantError(t, http.StatusUnauthorized, ucwad.EUnauthorized, "")
}

// TestReadCacheWritesCheckTheStore: a token revoked elsewhere and not yet
// read from the feed still answers reads from memory, but never a write or
// a P-GET, which check it in the store.
func TestReadCacheWritesCheckTheStore(t *testing.T) {
	e := cachedEnv(t)
	c := newCachedMeeting(t, e)
	if err := e.store.RevokeToken(t.Context(), auth.HashToken(c.s.token)); err != nil {
		t.Fatal(err)
	}
	c.s.get(t, c.meeting) // from memory, until the feed is read
	for _, r := range []req{
		{method: "PUT", url: c.meeting, body: `{"subject":"x"}`, header: map[string]string{"Content-Type": "application/json", "If-Match": `"1"`}},
		{method: "POST", url: c.exts, body: `{"type":"RoamedParticipantData"}`, header: jsonBody},
		{method: "DELETE", url: c.meeting},
		{method: "GET", url: link(t, c.s.app, "events")},
	} {
		c.s.do(r).wantError(t, http.StatusUnauthorized, ucwad.EUnauthorized, "")
	}
}

// TestReadCacheTokenExpiry: a cached token expires at its time by the
// server's clock.
func TestReadCacheTokenExpiry(t *testing.T) {
	e := cachedEnv(t)
	c := newCachedMeeting(t, e)
	c.s.get(t, c.meeting)
	e.clock.Advance(8 * time.Hour) // the default token lifetime
	c.s.do(req{method: "GET", url: c.meeting}).wantError(t, http.StatusUnauthorized, ucwad.EUnauthorized, "")
}

// TestReadCacheDatabaseUnreachable: once a read of the feed fails, reads
// fail as they do without a cache, rather than answer from memory.
func TestReadCacheDatabaseUnreachable(t *testing.T) {
	e := cachedEnv(t)
	c := newCachedMeeting(t, e)
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.api.SyncReadCache(context.Background()); err == nil {
		t.Fatal("reading the feed of a closed store succeeded")
	}
	if e.api.ReadCacheFresh() {
		t.Fatal("the cache is still usable after a failed read of its feed")
	}
	// The list of meetings is never cached: how a read fails without one.
	want := c.s.do(req{method: "GET", url: c.s.myMeetings(t)})
	if want.StatusCode < 500 {
		t.Fatalf("GET myOnlineMeetings of a closed store: %d, want a server error", want.StatusCode)
	}
	for _, href := range []string{c.meeting, c.exts, c.app} {
		if r := c.s.do(req{method: "GET", url: href}); r.StatusCode != want.StatusCode {
			t.Errorf("GET %s of a closed store: %d %s, want %d as without a cache", href, r.StatusCode, r.body, want.StatusCode)
		}
	}
}

// TestReadCacheOverdue: a cache whose feed is not read on time is not
// used.
func TestReadCacheOverdue(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) {
		c.ReadCache = httpapi.ReadCacheConfig{PollInterval: time.Hour, StaleAfter: time.Nanosecond}
	})
	stop := e.api.RunReadCache(nil)
	t.Cleanup(stop)
	c := newCachedMeeting(t, e)
	c.storeUpdate(t, e, "elsewhere")
	if got := c.subject(t); got != "elsewhere" {
		t.Fatalf("subject %q from an overdue cache, want the store's %q", got, "elsewhere")
	}
}
