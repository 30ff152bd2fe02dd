package ucwad

import (
	"context"
	"time"
)

// CacheFeed is the store's record of changes to what a node's read caches
// hold: the database itself appends a CacheChange in the transaction of
// every change to a token, a user, an application or one of its channels,
// a meeting or one of its extensions, whoever makes it (this process,
// another node, the user command of another process), so that every node
// can drop what it holds of that key. A store without read caches in front
// of it need not implement it.
type CacheFeed interface {
	// CacheChanges returns the changes committed after cursor, oldest
	// first, possibly repeated, with the cursor to pass next time. The
	// empty cursor is the start: no changes, and the current position.
	// A cursor older than CacheChangeRetention may have lost changes: the
	// caller must start again from "" (and forget what it cached).
	CacheChanges(ctx context.Context, cursor string) ([]CacheChange, string, error)
	// PruneCacheChanges deletes the changes recorded more than
	// CacheChangeRetention ago and returns how many it deleted.
	PruneCacheChanges(ctx context.Context) (int, error)
}

// CacheChangeRetention is how long a CacheChange stays in the feed: far
// longer than a node lets its caches go without reading it.
const CacheChangeRetention = 10 * time.Minute

// CacheChange names one key whose cached value is no longer what the store
// holds.
type CacheChange struct {
	Kind CacheKind
	// Key is the token's hash in lower-case hex (CacheToken), the user's
	// id in decimal (CacheUser), the application's id (CacheApplication,
	// for a change to it or to one of its channels) or the meeting's id
	// (CacheMeeting, for a change to it or to one of its extensions).
	Key string
}

// CacheKind is what a CacheChange's key names.
type CacheKind string

// The kinds of CacheChange.
const (
	CacheToken       CacheKind = "token"
	CacheUser        CacheKind = "user"
	CacheApplication CacheKind = "application"
	CacheMeeting     CacheKind = "meeting"
)
