package storetest

import (
	"encoding/hex"
	"strconv"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
)

var cacheFeedTests = []struct {
	name string
	f    func(*testing.T, *env)
}{
	{"CacheFeed", testCacheFeed},
}

// feedReader reads a store's cache feed from where it stood when made.
type feedReader struct {
	e      *env
	feed   ucwad.CacheFeed
	cursor string
}

func newFeedReader(t *testing.T, e *env) *feedReader {
	t.Helper()
	feed, ok := e.s.(ucwad.CacheFeed)
	if !ok {
		t.Skip("the store keeps no cache feed")
	}
	r := &feedReader{e: e, feed: feed}
	if got := r.read(t); len(got) != 0 {
		t.Fatalf("the first read of the feed returned %v, want nothing", got)
	}
	return r
}

// read returns the distinct changes committed since the last read.
func (r *feedReader) read(t *testing.T) map[ucwad.CacheChange]bool {
	t.Helper()
	changes, next, err := r.feed.CacheChanges(r.e.ctx, r.cursor)
	if err != nil {
		t.Fatalf("CacheChanges: %v", err)
	}
	r.cursor = next
	out := map[ucwad.CacheChange]bool{}
	for _, c := range changes {
		out[c] = true
	}
	return out
}

// expect reads the feed and checks that it names exactly want.
func (r *feedReader) expect(t *testing.T, what string, want ...ucwad.CacheChange) {
	t.Helper()
	got := r.read(t)
	wantSet := map[ucwad.CacheChange]bool{}
	for _, c := range want {
		wantSet[c] = true
		if !got[c] {
			t.Errorf("%s: the feed does not name %v (it names %v)", what, c, got)
		}
	}
	for c := range got {
		if !wantSet[c] {
			t.Errorf("%s: the feed names %v, which did not change", what, c)
		}
	}
}

// testCacheFeed checks that every change a read cache must hear of names
// its key in the feed, the changes cascading from a user's removal
// included, that what caches never hold (activity, new rows) names
// nothing, and that each change is read once.
func testCacheFeed(t *testing.T, e *env) {
	r := newFeedReader(t, e)
	token := func(h string) ucwad.CacheChange {
		return ucwad.CacheChange{Kind: ucwad.CacheToken, Key: hex.EncodeToString([]byte(h))}
	}
	user := func(u *ucwad.User) ucwad.CacheChange {
		return ucwad.CacheChange{Kind: ucwad.CacheUser, Key: strconv.FormatInt(u.ID, 10)}
	}
	app := func(a *ucwad.Application) ucwad.CacheChange {
		return ucwad.CacheChange{Kind: ucwad.CacheApplication, Key: a.ID}
	}
	meeting := func(m *ucwad.OnlineMeeting) ucwad.CacheChange {
		return ucwad.CacheChange{Kind: ucwad.CacheMeeting, Key: m.ID}
	}

	alice := e.createUser(t, "alice@contoso.com")
	e.createToken(t, alice, "token-a1", time.Hour)
	e.createToken(t, alice, "token-a2", time.Hour)
	a, _ := e.createApp(t, alice, "e1", "")
	m := e.createMeeting(t, alice, e.settings(time.Hour))
	r.expect(t, "creating a user, tokens, an application and a meeting")

	if err := e.s.RevokeToken(e.ctx, []byte("token-a1")); err != nil {
		t.Fatal(err)
	}
	r.expect(t, "RevokeToken", token("token-a1"))
	r.expect(t, "a second read")

	if err := e.s.SetUserPassword(e.ctx, alice.ID, "new hash"); err != nil {
		t.Fatal(err)
	}
	r.expect(t, "SetUserPassword", user(alice), token("token-a2"))

	e.clk.Advance(time.Minute)
	if err := e.s.TouchApplication(e.ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	r.expect(t, "TouchApplication")
	if err := e.s.MakeApplicationAvailable(e.ctx, alice.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	r.expect(t, "MakeApplicationAvailable", app(a))
	// Gone before the meetings change, whose events would otherwise fill
	// its channel and move what the channel acknowledges.
	if err := e.s.DeleteApplication(e.ctx, alice.ID, a.ID, ""); err != nil {
		t.Fatal(err)
	}
	r.expect(t, "DeleteApplication", app(a))

	if _, err := e.s.UpdateMeeting(e.ctx, alice.ID, m.ID, e.settings(2*time.Hour), ""); err != nil {
		t.Fatal(err)
	}
	r.expect(t, "UpdateMeeting", meeting(m))
	x := e.createExtension(t, alice.ID, m.ID, "x1", "RoamedParticipantData", ucwad.ExtensionProperty{Name: "color", Value: "blue"})
	r.expect(t, "CreateExtension", meeting(m))
	x.Properties = []ucwad.ExtensionProperty{{Name: "color", Value: "red"}}
	if err := e.s.UpdateExtension(e.ctx, alice.ID, x, ""); err != nil {
		t.Fatal(err)
	}
	r.expect(t, "UpdateExtension", meeting(m))
	if err := e.s.DeleteExtension(e.ctx, alice.ID, m.ID, "x1"); err != nil {
		t.Fatal(err)
	}
	r.expect(t, "DeleteExtension", meeting(m))

	m2 := e.createMeeting(t, alice, e.settings(time.Hour))
	if err := e.s.DeleteMeeting(e.ctx, alice.ID, m2.ID, e.settings(time.Hour)); err != nil {
		t.Fatal(err)
	}
	r.expect(t, "DeleteMeeting", meeting(m2))

	bob := e.createUser(t, "bob@contoso.com")
	e.createToken(t, bob, "token-b", time.Hour)
	b, _ := e.createApp(t, bob, "e1", "")
	bm := e.createMeeting(t, bob, e.settings(time.Hour))
	e.createExtension(t, bob.ID, bm.ID, "x", "RoamedParticipantData")
	r.read(t)
	if err := e.s.DeleteUser(e.ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	r.expect(t, "DeleteUser", user(bob), token("token-b"), app(b), meeting(bm))

	if _, err := e.s.(ucwad.CacheFeed).PruneCacheChanges(e.ctx); err != nil {
		t.Fatalf("PruneCacheChanges: %v", err)
	}
	r.expect(t, "PruneCacheChanges")
}
