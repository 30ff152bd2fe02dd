package httpapi

import (
	"strconv"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
)

// TestReadCacheBounds: the cache holds at most its entries and bytes in
// total and per user, and its accounting returns to nothing as entries
// are dropped.
func TestReadCacheBounds(t *testing.T) {
	c := newReadCache(nil, ReadCacheConfig{MaxEntries: 10, MaxBytes: 1 << 20, MaxEntriesPerUser: 4, MaxBytesPerUser: 64 << 10})
	exp := time.Now().Add(time.Hour)
	put := func(userID int64, i int) {
		u := &ucwad.User{ID: userID, SIP: "u" + strconv.FormatInt(userID, 10)}
		h := []byte(strconv.FormatInt(userID, 10) + "/" + strconv.Itoa(i))
		c.putToken(c.gen, h, &ucwad.Token{ExpiresAt: exp}, u)
	}
	check := func(what string) {
		t.Helper()
		var entries int
		perUser := map[int64]int{}
		for _, e := range c.tokens {
			entries++
			perUser[e.user.ID]++
		}
		for _, e := range c.meetings {
			entries++
			perUser[e.userID]++
		}
		if entries != c.total.entries || entries > c.cfg.MaxEntries || c.total.bytes > c.cfg.MaxBytes {
			t.Errorf("%s: %d entries (counted %d, bytes %d), bounds %d and %d", what, entries, c.total.entries, c.total.bytes, c.cfg.MaxEntries, c.cfg.MaxBytes)
		}
		for id, n := range perUser {
			if n > c.cfg.MaxEntriesPerUser || c.users[id] == nil || c.users[id].entries != n || c.users[id].bytes > c.cfg.MaxBytesPerUser {
				t.Errorf("%s: user %d holds %d entries (counted %+v), bound %d", what, id, n, c.users[id], c.cfg.MaxEntriesPerUser)
			}
		}
	}
	for i := range 100 {
		put(1, i)
	}
	check("one user's 100 tokens")
	if c.users[1].entries != 4 {
		t.Errorf("one user's 100 tokens: %d kept, want their share of 4", c.users[1].entries)
	}
	for u := int64(2); u < 40; u++ {
		for i := range 3 {
			put(u, i)
		}
	}
	check("many users' tokens")

	// An answer larger than a user's share of bytes is not kept.
	k := bodyKey{route: bodyMeeting, app: "a", contentType: "application/json"}
	c.putBody(c.gen, 50, "m-big", k, cachedBody{body: make([]byte, 65<<10)})
	if c.meetings["m-big"] != nil {
		t.Error("an answer over the user's byte share was kept")
	}
	for i := range maxBodiesPerEntry + 3 {
		k.base = "http://host" + strconv.Itoa(i)
		c.putBody(c.gen, 51, "m", k, cachedBody{body: make([]byte, 1000)})
	}
	if e := c.meetings["m"]; e == nil || len(e.bodies) != maxBodiesPerEntry {
		t.Errorf("one meeting's answers under %d base URLs: entry %v, want %d answers", maxBodiesPerEntry+3, e != nil, maxBodiesPerEntry)
	}
	check("answers")

	// A value read before entries were dropped is not kept.
	gen := c.gen
	c.mu.Lock()
	c.applyLocked([]ucwad.CacheChange{{Kind: ucwad.CacheUser, Key: "51"}})
	c.mu.Unlock()
	c.putBody(gen, 52, "m2", k, cachedBody{body: []byte("{}")})
	if c.meetings["m2"] != nil {
		t.Error("an answer read before a change was dropped was kept after it")
	}
	if c.meetings["m"] != nil || c.users[51] != nil {
		t.Error("a change to the user left their meeting's answers")
	}
	check("after dropping a user")

	c.mu.Lock()
	for id := int64(1); id < 60; id++ {
		c.applyLocked([]ucwad.CacheChange{{Kind: ucwad.CacheUser, Key: strconv.FormatInt(id, 10)}})
	}
	c.mu.Unlock()
	if c.total != (usage{}) || len(c.users) != 0 || len(c.tokens) != 0 {
		t.Errorf("after dropping every user: totals %+v, %d users, %d tokens", c.total, len(c.users), len(c.tokens))
	}
}
