package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ucwad/ucwad"
)

// ReadCacheConfig bounds and paces the read cache: authenticated GETs of
// a meeting, its extensions and the application answered from memory
// (tokens, applications and the encoded answers). The zero value of each
// field means its default.
type ReadCacheConfig struct {
	// Disabled turns the cache off: every read goes to the store.
	Disabled bool
	// PollInterval is how often the store's change feed is read (default
	// 250 ms); writes through this server read it before they answer.
	PollInterval time.Duration
	// StaleAfter is how long after the start of the last successful read
	// of the feed the cache is still used (default 1 s): the bound on how
	// late a change made through another node or process is seen. Past
	// it, and after a failed read, every request goes to the store.
	StaleAfter time.Duration
	// MaxEntries bounds the cached tokens, applications and meetings
	// together (default 100,000).
	MaxEntries int
	// MaxBytes bounds the memory they take, by estimate (default 64 MiB).
	MaxBytes int64
	// MaxEntriesPerUser and MaxBytesPerUser bound what one user's
	// requests may add (default 256 entries and 2 MiB); past them that
	// user's reads go to the store.
	MaxEntriesPerUser int
	MaxBytesPerUser   int64
}

func (c ReadCacheConfig) withDefaults() ReadCacheConfig {
	if c.PollInterval <= 0 {
		c.PollInterval = 250 * time.Millisecond
	}
	if c.StaleAfter <= 0 {
		c.StaleAfter = time.Second
	}
	if c.MaxEntries <= 0 {
		c.MaxEntries = 100_000
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 64 << 20
	}
	if c.MaxEntriesPerUser <= 0 {
		c.MaxEntriesPerUser = 256
	}
	if c.MaxBytesPerUser <= 0 {
		c.MaxBytesPerUser = 2 << 20
	}
	return c
}

// pruneInterval is how often each server deletes the feed's old changes.
const pruneInterval = time.Minute

// maxCachedBody is the largest answer kept; larger ones are streamed from
// the store every time, as without a cache.
const maxCachedBody = 256 << 10

// maxBodiesPerEntry bounds the encodings kept of one meeting or
// application (per format, caller's application, base URL).
const maxBodiesPerEntry = 8

// readCache holds what authenticated reads need, valid only while its
// feed (ucwad.CacheFeed) is read on time: each read of the feed drops the
// keys changed since the previous one, whoever changed them, and a read
// that fails, or one overdue, makes every request go to the store until a
// read succeeds. Writes never use it.
type readCache struct {
	feed ucwad.CacheFeed
	cfg  ReadCacheConfig
	// epoch is the origin of the monotonic times below.
	epoch time.Time
	// freshUntil is when, in nanoseconds since epoch, the cache stops
	// being usable without another successful read of the feed.
	freshUntil atomic.Int64
	// running is set while run reads the feed on time: without it the
	// cache is never used, however recently a write read the feed.
	running atomic.Bool
	// polls counts reads of the feed begun; done is the number of the
	// last that succeeded (see sync).
	polls, done atomic.Int64
	// pollMu serializes reads of the feed; cursor and lastOK are its.
	pollMu sync.Mutex
	cursor string
	lastOK time.Time
	// polled, when set (tests), is called after each successful read.
	polled func()

	mu sync.RWMutex
	// gen changes whenever entries are dropped: a value read from the
	// store is kept only if gen did not change during the read.
	gen      uint64
	tokens   map[string]*tokenEntry
	apps     map[string]*appEntry
	meetings map[string]*meetingEntry
	users    map[int64]*usage
	total    usage
}

type usage struct {
	entries int
	bytes   int64
}

type tokenEntry struct {
	user    ucwad.User
	expires time.Time
	size    int64
}

type appEntry struct {
	userID int64
	// inst are the application as seen through each channel (instanceId).
	inst map[string]*appInst
}

type appInst struct {
	app    ucwad.Application
	bodies map[bodyKey]cachedBody
	size   int64
}

type meetingEntry struct {
	userID int64
	bodies map[bodyKey]cachedBody
	size   int64
}

// bodyKey is everything an encoded answer depends on besides the entry it
// belongs to: what was asked (route), through which application and
// channel (the hrefs), at which base URL, in which format.
type bodyKey struct {
	route       uint8
	app, inst   string
	base        string
	contentType string
}

// The cached answers.
const (
	bodyMeeting uint8 = iota + 1
	bodyExtensions
	bodyApplication
)

type cachedBody struct {
	body []byte
	etag string
}

func newReadCache(feed ucwad.CacheFeed, cfg ReadCacheConfig) *readCache {
	c := &readCache{feed: feed, cfg: cfg.withDefaults(), epoch: time.Now()}
	c.clearLocked()
	return c
}

func (c *readCache) now() int64 { return int64(time.Since(c.epoch)) }

// fresh reports whether the cache may be used now.
func (c *readCache) fresh() bool {
	return c != nil && c.running.Load() && c.now() < c.freshUntil.Load()
}

// begin starts a read that may fill the cache: ok is false when the cache
// may not be used at all, and gen is what put must see unchanged.
func (c *readCache) begin() (gen uint64, ok bool) {
	if !c.fresh() {
		return 0, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen, true
}

// run reads the feed every PollInterval until ctx ends, and at once when
// wake fires (a notification from the store).
func (c *readCache) run(ctx context.Context, wake <-chan struct{}, log func(error)) {
	t := time.NewTicker(c.cfg.PollInterval)
	defer t.Stop()
	prune := time.NewTicker(pruneInterval)
	defer prune.Stop()
	var failing bool
	c.running.Store(true)
	for {
		err := c.poll(ctx)
		if err != nil && ctx.Err() == nil && !failing {
			log(err)
		}
		failing = err != nil
		select {
		case <-ctx.Done():
			c.stop()
			return
		case <-t.C:
		case <-wake:
		case <-prune.C:
			if _, err := c.feed.PruneCacheChanges(ctx); err != nil && ctx.Err() == nil {
				log(err)
			}
		}
	}
}

// stop makes the cache unusable, for a server that no longer reads the
// feed.
func (c *readCache) stop() {
	c.running.Store(false)
	c.freshUntil.Store(0)
	c.mu.Lock()
	c.clearLocked()
	c.mu.Unlock()
}

// sync makes every change committed before the call visible to the reads
// that follow it: it returns once a read of the feed begun after the call
// succeeded (one running reads for many callers), or the cache is unusable.
func (c *readCache) sync(ctx context.Context) {
	if c == nil {
		return
	}
	after := c.polls.Load()
	c.pollMu.Lock()
	defer c.pollMu.Unlock()
	if c.done.Load() > after {
		return
	}
	c.pollLocked(ctx)
}

// poll reads the feed once and applies what it read.
func (c *readCache) poll(ctx context.Context) error {
	c.pollMu.Lock()
	defer c.pollMu.Unlock()
	return c.pollLocked(ctx)
}

func (c *readCache) pollLocked(ctx context.Context) error {
	n := c.polls.Add(1)
	start := time.Now()
	startNs := c.now()
	// A cursor last read long ago may have lost changes to pruning.
	restart := c.cursor == "" || start.Sub(c.lastOK) > ucwad.CacheChangeRetention/2
	cursor := c.cursor
	if restart {
		cursor = ""
	}
	changes, next, err := c.feed.CacheChanges(ctx, cursor)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		// Nothing more is served from memory until a read succeeds; what
		// is held may be stale by then.
		c.freshUntil.Store(0)
		c.clearLocked()
		return err
	}
	if restart {
		c.clearLocked()
	} else if len(changes) > 0 {
		c.applyLocked(changes)
	}
	c.cursor, c.lastOK = next, start
	c.freshUntil.Store(startNs + int64(c.cfg.StaleAfter))
	c.done.Store(n)
	if c.polled != nil {
		c.polled()
	}
	return nil
}

func (c *readCache) clearLocked() {
	c.gen++
	c.tokens = map[string]*tokenEntry{}
	c.apps = map[string]*appEntry{}
	c.meetings = map[string]*meetingEntry{}
	c.users = map[int64]*usage{}
	c.total = usage{}
}

func (c *readCache) applyLocked(changes []ucwad.CacheChange) {
	c.gen++
	for _, ch := range changes {
		switch ch.Kind {
		case ucwad.CacheToken:
			c.dropToken(hexKey(ch.Key))
		case ucwad.CacheApplication:
			c.dropApp(ch.Key)
		case ucwad.CacheMeeting:
			c.dropMeeting(ch.Key)
		case ucwad.CacheUser:
			id, err := strconv.ParseInt(ch.Key, 10, 64)
			if err != nil {
				c.clearLocked()
				continue
			}
			c.dropUser(id)
		default:
			// A kind this build does not know: a newer node wrote it.
			c.clearLocked()
		}
	}
}

// hexKey turns a token hash in hex back into the map key (the raw bytes);
// malformed hex names nothing cached.
func hexKey(h string) string {
	if len(h)%2 != 0 {
		return ""
	}
	b := make([]byte, len(h)/2)
	for i := range b {
		v, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		if err != nil {
			return ""
		}
		b[i] = byte(v)
	}
	return string(b)
}

func (c *readCache) release(userID int64, entries int, bytes int64) {
	c.total.entries -= entries
	c.total.bytes -= bytes
	if u := c.users[userID]; u != nil {
		u.entries -= entries
		u.bytes -= bytes
		if u.entries <= 0 {
			delete(c.users, userID)
		}
	}
}

func (c *readCache) dropToken(key string) {
	if e := c.tokens[key]; e != nil {
		delete(c.tokens, key)
		c.release(e.user.ID, 1, e.size)
	}
}

func (c *readCache) dropApp(id string) {
	if e := c.apps[id]; e != nil {
		delete(c.apps, id)
		for _, in := range e.inst {
			c.release(e.userID, 1, in.size)
		}
	}
}

func (c *readCache) dropMeeting(id string) {
	if e := c.meetings[id]; e != nil {
		delete(c.meetings, id)
		c.release(e.userID, 1, e.size)
	}
}

// dropUser drops everything of the user: a change to the user (a name, a
// password, removal) may change every answer of theirs. Rare enough for a
// walk over the entries.
func (c *readCache) dropUser(id int64) {
	if c.users[id] == nil {
		return
	}
	for k, e := range c.tokens {
		if e.user.ID == id {
			c.dropToken(k)
		}
	}
	for k, e := range c.apps {
		if e.userID == id {
			c.dropApp(k)
		}
	}
	for k, e := range c.meetings {
		if e.userID == id {
			c.dropMeeting(k)
		}
	}
}

// room makes room for an entry of size for userID, evicting others when
// the cache is full; false when the user's own share is used up.
func (c *readCache) room(userID int64, entries int, size int64) bool {
	if u := c.users[userID]; u != nil && (u.entries+entries > c.cfg.MaxEntriesPerUser || u.bytes+size > c.cfg.MaxBytesPerUser) {
		return false
	}
	if size > c.cfg.MaxBytesPerUser {
		return false
	}
	// Eviction in map order, which Go randomizes: cheap, and no entry is
	// favoured.
	for c.total.entries+entries > c.cfg.MaxEntries || c.total.bytes+size > c.cfg.MaxBytes {
		evicted := false
		for k := range c.meetings {
			c.dropMeeting(k)
			evicted = true
			break
		}
		if !evicted {
			for k := range c.apps {
				c.dropApp(k)
				evicted = true
				break
			}
		}
		if !evicted {
			for k := range c.tokens {
				c.dropToken(k)
				evicted = true
				break
			}
		}
		if !evicted {
			return false
		}
	}
	return true
}

func (c *readCache) charge(userID int64, entries int, size int64) {
	c.total.entries += entries
	c.total.bytes += size
	u := c.users[userID]
	if u == nil {
		u = &usage{}
		c.users[userID] = u
	}
	u.entries += entries
	u.bytes += size
}

// token returns the user of the token with that hash if it is cached and
// unexpired at now.
func (c *readCache) token(hash []byte, now time.Time) (*ucwad.User, bool) {
	if !c.fresh() {
		return nil, false
	}
	c.mu.RLock()
	e := c.tokens[string(hash)]
	c.mu.RUnlock()
	if e == nil || !now.Before(e.expires) {
		return nil, false
	}
	u := e.user
	return &u, true
}

func (c *readCache) putToken(gen uint64, hash []byte, t *ucwad.Token, u *ucwad.User) {
	size := int64(256 + len(hash) + len(u.SIP) + len(u.Name) + len(u.PasswordHash))
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || c.tokens[string(hash)] != nil || !c.room(u.ID, 1, size) {
		return
	}
	c.tokens[string(hash)] = &tokenEntry{user: *u, expires: t.ExpiresAt, size: size}
	c.charge(u.ID, 1, size)
}

// app returns a copy of the cached application id of userID as seen
// through instanceID.
func (c *readCache) app(userID int64, id, instanceID string) (*ucwad.Application, bool) {
	if !c.fresh() {
		return nil, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	e := c.apps[id]
	if e == nil || e.userID != userID {
		return nil, false
	}
	in := e.inst[instanceID]
	if in == nil {
		return nil, false
	}
	a := in.app
	return &a, true
}

func (c *readCache) putApp(gen uint64, a *ucwad.Application, instanceID string) {
	size := int64(512 + len(a.ID) + len(a.UserAgent) + len(a.EndpointID) + len(a.Culture) + len(instanceID))
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || !c.room(a.UserID, 1, size) {
		return
	}
	e := c.apps[a.ID]
	if e == nil {
		e = &appEntry{userID: a.UserID, inst: map[string]*appInst{}}
		c.apps[a.ID] = e
	}
	if e.userID != a.UserID || e.inst[instanceID] != nil {
		return
	}
	e.inst[instanceID] = &appInst{app: *a, size: size}
	c.charge(a.UserID, 1, size)
}

// touched records activity the server recorded on the application, so
// that the cached copy does not ask for it again.
func (c *readCache) touched(id string, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.apps[id]; e != nil {
		for _, in := range e.inst {
			if in.app.LastActiveAt.Before(at) {
				in.app.LastActiveAt = at
			}
		}
	}
}

// body returns a cached answer of the meeting (bodyMeeting,
// bodyExtensions) or of the application (bodyApplication).
func (c *readCache) body(userID int64, id string, k bodyKey) (cachedBody, bool) {
	if !c.fresh() {
		return cachedBody{}, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	var bodies map[bodyKey]cachedBody
	if k.route == bodyApplication {
		if e := c.apps[id]; e != nil && e.userID == userID {
			if in := e.inst[k.inst]; in != nil {
				bodies = in.bodies
			}
		}
	} else if e := c.meetings[id]; e != nil && e.userID == userID {
		bodies = e.bodies
	}
	b, ok := bodies[k]
	return b, ok
}

func (c *readCache) putBody(gen uint64, userID int64, id string, k bodyKey, b cachedBody) {
	if len(b.body) > maxCachedBody {
		return
	}
	size := int64(len(b.body) + len(b.etag) + len(k.base) + len(k.app) + len(k.inst) + 128)
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	// Room first: making it may evict the very entry the body joins,
	// which is looked up after.
	need := 0
	if k.route != bodyApplication && c.meetings[id] == nil {
		need = 1
	}
	if !c.room(userID, need, size) {
		return
	}
	if k.route == bodyApplication {
		// Only beside the application it renders, cached in the same
		// generation.
		e := c.apps[id]
		if e == nil || e.userID != userID {
			return
		}
		in := e.inst[k.inst]
		if in == nil || len(in.bodies) >= maxBodiesPerEntry {
			return
		}
		if in.bodies == nil {
			in.bodies = map[bodyKey]cachedBody{}
		}
		in.bodies[k] = b
		in.size += size
		c.charge(userID, 0, size)
		return
	}
	e := c.meetings[id]
	if e == nil && need == 0 {
		return // evicted to make room
	}
	if e == nil {
		e = &meetingEntry{userID: userID, bodies: map[bodyKey]cachedBody{}}
		c.meetings[id] = e
		c.charge(userID, 1, 0)
	} else if e.userID != userID || len(e.bodies) >= maxBodiesPerEntry {
		return
	}
	if _, ok := e.bodies[k]; ok {
		return
	}
	e.bodies[k] = b
	e.size += size
	c.charge(userID, 0, size)
}

// cachedAnswer answers a read of route about id (a meeting, or the
// application) from the read cache when it can, and otherwise with
// render, whose answer it keeps when it is a 200 small enough to keep.
func (s *Server) cachedAnswer(w http.ResponseWriter, c *call, route uint8, id string, render func(w http.ResponseWriter) error) error {
	if !c.cached {
		return render(w)
	}
	k := bodyKey{route: route, app: c.app.ID, inst: c.instanceID, base: c.base, contentType: c.contentType}
	if b, ok := s.cache.body(c.user.ID, id, k); ok {
		writeBody(w, c, http.StatusOK, b.body, b.etag)
		return nil
	}
	cw := &captureWriter{w: w, header: http.Header{}, status: http.StatusOK}
	if err := render(cw); err != nil {
		return err
	}
	if cw.passed {
		return nil
	}
	etag := strings.Trim(cw.header.Get("ETag"), `"`)
	if cw.status == http.StatusOK {
		s.cache.putBody(c.gen, c.user.ID, id, k, cachedBody{body: bytes.Clone(cw.buf.Bytes()), etag: etag})
	}
	cw.pass(true)
	return nil
}

// captureWriter keeps an answer in memory until it is known to be one to
// cache; past maxCachedBody it passes everything on to w and streams the
// rest.
type captureWriter struct {
	w       http.ResponseWriter
	header  http.Header
	status  int
	written bool
	buf     bytes.Buffer
	passed  bool
}

func (cw *captureWriter) Header() http.Header {
	if cw.passed {
		return cw.w.Header()
	}
	return cw.header
}

func (cw *captureWriter) WriteHeader(code int) {
	if cw.passed {
		cw.w.WriteHeader(code)
		return
	}
	if !cw.written {
		cw.status, cw.written = code, true
	}
}

func (cw *captureWriter) Write(b []byte) (int, error) {
	if cw.passed {
		return cw.w.Write(b)
	}
	cw.written = true
	if cw.buf.Len()+len(b) > maxCachedBody {
		cw.pass(false)
		return cw.w.Write(b)
	}
	return cw.buf.Write(b)
}

// pass sends what was kept to w, the whole answer when complete;
// everything after goes straight there.
func (cw *captureWriter) pass(complete bool) {
	if cw.passed {
		return
	}
	cw.passed = true
	h := cw.w.Header()
	for k, v := range cw.header {
		h[k] = v
	}
	if complete && h.Get("Content-Length") == "" {
		h.Set("Content-Length", strconv.Itoa(cw.buf.Len()))
	}
	cw.w.WriteHeader(cw.status)
	cw.w.Write(cw.buf.Bytes())
}

// Unwrap lets http.ResponseController reach the connection.
func (cw *captureWriter) Unwrap() http.ResponseWriter { return cw.w }
