// Package sqlite implements ucwad.Store on SQLite through the pure-Go
// modernc.org/sqlite driver.
//
// All writes go through one connection, so they queue in Go (taking turns
// per user) rather than fight over SQLite's single write lock; reads use a
// separate small pool that WAL lets run alongside the writer, and so do
// checkpoints.
package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/clock"
)

// Options configures Open. The zero value is ready to use.
type Options struct {
	// Clock is the source of "now"; nil means clock.Real().
	Clock clock.Clock
	// Sync is "normal" (the default when empty) or "full"; see Open.
	Sync string
	// Limits are the bounds the store enforces (applications, channels,
	// events, meetings, extensions); zero fields take their defaults
	// (ucwad.DefaultLimits).
	Limits ucwad.Limits
	// Notifier is told after each commit which applications got events (or
	// went away), and after each poll which got events from other
	// processes or had a channel taken by one. nil: nobody is told.
	Notifier ucwad.Notifier
	// PollInterval is how often the store looks for events written by other
	// processes sharing the file; 0 means DefaultPollInterval, negative
	// disables the poll (a single process needs none).
	PollInterval time.Duration

	// NoGroupCommit runs every write in a transaction of its own. By
	// default, the writes waiting for the writer when it comes free run
	// together in one transaction, each in a savepoint of its own, and
	// share one COMMIT: one fsync for all of them with Sync "full". Each
	// is still answered only once its work is committed, and one's failure
	// rolls back only its own work. Turning it off is for comparing.
	NoGroupCommit bool

	// Logger receives what the store's background work (the poll for other
	// processes' changes, checkpoints) cannot return to a caller; nil
	// discards it.
	Logger *slog.Logger

	// checkpointed, when set, is called after each background checkpoint
	// (for tests).
	checkpointed func()
}

// DefaultPollInterval is how often, by default, the store looks for events
// written by other processes.
const DefaultPollInterval = time.Second

// readConns is the size of the read pool: enough for concurrent requests to
// overlap on a small machine without holding many WAL read marks.
const readConns = 4

// journalSizeLimit is what the WAL file is cut back to after a burst; see
// dsn.
const journalSizeLimit = 16 << 20

// busyTimeout is how long a connection waits for a lock held by another
// process (a second server, the sqlite3 shell, a checkpoint) before failing.
const busyTimeout = 5 * time.Second

// DB is a ucwad.Store backed by one SQLite database file. It is safe for
// concurrent use.
type DB struct {
	write   *sql.DB // one connection; every write transaction runs here
	read    *sql.DB // the read pool; the same *sql.DB as write for ":memory:"
	clock   clock.Clock
	maxApps int

	// readStmts caches prepared read statements by query text: parsing
	// costs as much as running the small lookups every request makes.
	// database/sql prepares each on a read connection the first time that
	// connection runs it.
	readStmts sync.Map // string → *sql.Stmt

	// writeStmts caches prepared write statements by query text (see
	// writeTx).
	writeStmts     sync.Map // string → *sql.Stmt
	writeStmtCount atomic.Int64

	maxEvents int
	notifier  ucwad.Notifier
	watcher   *watcher
	log       *slog.Logger
	// origin identifies this DB among the processes sharing the file: it
	// marks the event bodies it writes (and, in channels, the P-GETs it
	// holds). Random, never 0.
	origin int64

	maxAppChannels, maxUserChannels  int
	maxUserEventBytes, maxBatchBytes int64
	maxMeetings, maxExtensions       int
	maxUnknownNames                  int
	// joining holds the bounds of joining meetings (MaxParticipants,
	// MaxLobbyParticipants, MaxConversationsPerApplication, LobbyTimeout).
	joining ucwad.Limits

	queue    writeQueue
	writeTxs atomic.Int64 // see WriteTransactions
	commits  atomic.Int64 // see WriteCommits
	// noGroupCommit runs every write request in a transaction of its own
	// (Options.NoGroupCommit).
	noGroupCommit bool
	checkpointed  func()
	// checkpoint is signalled after writes (nil for ":memory:", which has
	// no WAL); see checkpointLoop.
	checkpoint chan struct{}
	stopped    chan struct{}
	closeOnce  sync.Once
	loops      sync.WaitGroup

	// eventsWritten counts the events of committed write transactions
	// (see EventsWritten).
	eventsWritten atomic.Int64
	// migrations are the versions of the embedded migrations, which
	// CheckHealth compares with the applied ones.
	migrations []int
}

var _ ucwad.Store = (*DB)(nil)

// Open opens the database at path, creating the file if needed, and applies
// any pending migrations. It fails if the file's schema is newer than this
// binary knows, or if opts is invalid.
//
// With Sync "normal" a committed transaction survives a crash of the process
// (even kill -9) but the last few may be lost on power loss; "full" survives
// power loss at the cost of an fsync on every commit.
//
// The path ":memory:" opens a private in-memory database, served by the
// single writer connection alone; it is meant for tests.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	var synchronous string
	switch strings.ToLower(opts.Sync) {
	case "", "normal":
		synchronous = "NORMAL"
	case "full":
		synchronous = "FULL"
	default:
		return nil, fmt.Errorf("sqlite: unknown sync mode %q (want \"normal\" or \"full\")", opts.Sync)
	}
	if err := opts.Limits.Validate(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	lim := opts.Limits.WithDefaults()
	clk := opts.Clock
	if clk == nil {
		clk = clock.Real()
	}

	db := &DB{clock: clk, notifier: opts.Notifier,
		maxApps:           lim.MaxApplicationsPerUser,
		maxEvents:         lim.MaxEventsPerChannel,
		maxAppChannels:    lim.MaxChannelsPerApplication,
		maxUserChannels:   lim.MaxChannelsPerUser,
		maxUserEventBytes: lim.MaxEventBytesPerUser,
		maxBatchBytes:     lim.MaxBatchBytes,
		maxMeetings:       lim.MaxMeetingsPerUser,
		maxExtensions:     lim.MaxExtensionsPerMeeting,
		maxUnknownNames:   lim.MaxUnknownSignInNames,
		joining:           lim,
		checkpointed:      opts.checkpointed,
		noGroupCommit:     opts.NoGroupCommit,
		watcher:           &watcher{stop: make(chan struct{})},
		origin:            newOrigin(),
		log:               opts.Logger}
	if db.log == nil {
		db.log = slog.New(slog.DiscardHandler)
	}
	var err error
	db.write, err = sql.Open("sqlite", dsn(path, synchronous, true))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.write.SetMaxOpenConns(1)
	// An in-memory database lives exactly as long as its one connection, so
	// that connection must never be closed for being idle or old.
	db.write.SetMaxIdleConns(1)
	db.write.SetConnMaxIdleTime(0)
	db.write.SetConnMaxLifetime(0)
	// Opening the connection switches the file to WAL before any reader
	// connects.
	if err := ping(ctx, db.write); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := migrate(ctx, db.write, clk.Now()); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	ms, err := loadMigrations()
	if err != nil {
		db.write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	for _, m := range ms {
		db.migrations = append(db.migrations, m.version)
	}

	if err := db.write.QueryRowContext(ctx, `SELECT (SELECT COALESCE(MAX(seq), 0) FROM events), (SELECT last FROM channel_takes)`).Scan(
		&db.watcher.last, &db.watcher.lastTake); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.stopped = make(chan struct{})
	if path == ":memory:" {
		db.read = db.write
		return db, nil
	}
	db.read, err = sql.Open("sqlite", dsn(path, synchronous, false))
	if err != nil {
		db.write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.read.SetMaxOpenConns(readConns)
	db.read.SetMaxIdleConns(readConns)
	if err := ping(ctx, db.read); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.checkpoint = make(chan struct{}, 1)
	db.loops.Go(db.checkpointLoop)
	// Only a file can be shared with another process.
	poll := opts.PollInterval
	if poll == 0 {
		poll = DefaultPollInterval
	}
	if poll > 0 && db.notifier != nil {
		db.watch(poll)
	}
	return db, nil
}

// newOrigin draws a DB's origin: a random positive int64, so that two
// processes on one file never share one.
func newOrigin() int64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("sqlite: random source failed: " + err.Error())
	}
	return int64(binary.BigEndian.Uint64(b[:])>>1) | 1
}

// ping opens a first connection of pool. Switching a new file to WAL needs
// an exclusive lock that SQLite will not wait for under busy_timeout (the
// waiter would hold a shared lock, risking deadlock), so when several
// processes create the file at once the losers get SQLITE_BUSY at once and
// retry here, for as long as busy_timeout would have waited.
func ping(ctx context.Context, pool *sql.DB) error {
	deadline := time.Now().Add(busyTimeout)
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		err := pool.PingContext(ctx)
		if sqliteCode(err)&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// dsn builds the driver's data source name. The pragmas go in the DSN
// rather than being executed once, because database/sql may open a new
// connection at any time and each must be set up the same way.
func dsn(path, synchronous string, writer bool) string {
	q := url.Values{}
	q["_pragma"] = []string{
		// Wait for another process's lock instead of failing at once with
		// SQLITE_BUSY. The driver runs busy_timeout before every other
		// pragma, so they wait too (all but a new file's switch to WAL: see
		// ping).
		fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()),
		// SQLite leaves foreign keys off by default; the ON DELETE CASCADE
		// clauses the schema relies on need them on, per connection.
		"foreign_keys(ON)",
		// WAL lets the read pool read while the writer writes, and makes a
		// commit a single append to the log.
		"journal_mode(WAL)",
		// In WAL mode NORMAL fsyncs only at checkpoints: a committed
		// transaction is in the WAL file and survives a process crash, but
		// the last ones may be lost on power loss. FULL fsyncs every commit.
		"synchronous(" + synchronous + ")",
		// SQLite reuses the WAL file from its start once it was
		// checkpointed whole, but never makes it smaller: after a burst of
		// writes (a large import, an attack on the per-user bounds) the
		// file would keep its largest size for good. With this limit, the
		// first write after a complete checkpoint cuts it back to 16 MiB,
		// which is still more than normal traffic fills between the
		// checkpoints, so that it is not cut and regrown all the time.
		fmt.Sprintf("journal_size_limit(%d)", journalSizeLimit),
	}
	if writer {
		// Checkpoints run beside the writer (checkpointLoop), not in it.
		q["_pragma"] = append(q["_pragma"], "wal_autocheckpoint(0)")
		// BEGIN IMMEDIATE takes the write lock when the transaction starts,
		// so a transaction that reads then writes can never fail with
		// SQLITE_BUSY trying to upgrade its lock.
		q.Set("_txlock", "immediate")
	} else {
		// A write through the read pool would be a bug that WAL would
		// otherwise turn into a lock fight with the writer.
		q["_pragma"] = append(q["_pragma"], "query_only(ON)")
	}
	if path == ":memory:" {
		return path + "?" + q.Encode()
	}
	// A file: URI keeps a '?' or '#' in the path from being taken as the
	// start of the parameters.
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return "file:" + r.Replace(path) + "?" + q.Encode()
}

// checkpointInterval is the least time between two checkpoints: a burst
// of writes is copied into the database file in one go.
const checkpointInterval = 100 * time.Millisecond

// checkpointLoop copies the WAL into the database file (a passive
// checkpoint, on a connection of the read pool) after writes, at most every
// checkpointInterval, until Close. The writer connection never checkpoints
// itself (wal_autocheckpoint is off): a checkpoint there would hold the
// writer, and every user's writes with it, for the copy and its fsyncs.
func (db *DB) checkpointLoop() {
	ctx := context.Background()
	for {
		select {
		case <-db.stopped:
			return
		case <-db.checkpoint:
		}
		// A failure leaves the WAL to the next checkpoint; nothing is lost,
		// but a WAL that is never checkpointed grows without bound, so the
		// operator hears of it. (Readers in the way are no failure: a
		// passive checkpoint copies what it can.)
		if _, err := db.read.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
			db.log.Warn("checkpoint failed", "err", err)
		}
		if db.checkpointed != nil {
			db.checkpointed()
		}
		t := time.NewTimer(checkpointInterval)
		select {
		case <-db.stopped:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// wrote tells the checkpoint loop that the WAL grew.
func (db *DB) wrote() {
	select {
	case db.checkpoint <- struct{}{}:
	default:
	}
}

// WriteTransactions returns how many write transactions the DB has begun
// since it was opened, committed or not: what tests and operators count to
// see that a path writes only when it must. Each request's work counts as
// one, whether or not group commit ran it in a transaction shared with
// others (see WriteCommits).
func (db *DB) WriteTransactions() int64 { return db.writeTxs.Load() }

// WriteCommits returns how many write transactions the DB has committed
// since it was opened: with group commit, one COMMIT (and, with Sync
// "full", one fsync) serves all the requests that arrived together, so
// this grows more slowly than WriteTransactions under concurrent writes.
func (db *DB) WriteCommits() int64 { return db.commits.Load() }

// Close closes both connection pools.
func (db *DB) Close() error {
	db.watcher.once.Do(func() { close(db.watcher.stop) })
	db.closeOnce.Do(func() { close(db.stopped) })
	db.loops.Wait()
	var errs []error
	for _, m := range []*sync.Map{&db.readStmts, &db.writeStmts} {
		m.Range(func(_, v any) bool {
			errs = append(errs, v.(*sql.Stmt).Close())
			return true
		})
	}
	if db.read != db.write {
		errs = append(errs, db.read.Close())
	}
	errs = append(errs, db.write.Close())
	return errors.Join(errs...)
}

// millis converts t to the stored representation.
func millis(t time.Time) int64 { return t.UnixMilli() }

// fromMillis converts a stored time back; stored times are UTC.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// queryRow runs a read query that returns at most one row on the read pool,
// as one implicit transaction.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	stmt, err := db.readStmt(ctx, query)
	if err != nil {
		// Row carries no public way to hold an error; running the query
		// unprepared reports the same failure through Scan.
		return db.read.QueryRowContext(ctx, query, args...)
	}
	return stmt.QueryRowContext(ctx, args...)
}

// query is queryRow for any number of rows.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	stmt, err := db.readStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return stmt.QueryContext(ctx, args...)
}

func (db *DB) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := db.readStmts.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := db.read.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := db.readStmts.LoadOrStore(query, s); loaded {
		s.Close()
		return prev.(*sql.Stmt), nil
	}
	return s, nil
}

// inReadTx runs f in a read transaction on the read pool, so that the
// statements of one read see one snapshot. Like writeTx, it runs prepared
// statements when the cache has them and prepares the others afterwards:
// preparing needs a connection of the pool, which an in-memory database's
// one connection, held by the transaction, cannot give.
func (db *DB) inReadTx(ctx context.Context, f func(tx *readTx) error) error {
	t, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	tx := &readTx{Tx: t, db: db}
	err = f(tx)
	if cerr := t.Commit(); err == nil {
		err = cerr
	}
	// A failure to prepare only means the statement keeps running unprepared.
	for _, q := range tx.unprepared {
		db.readStmt(ctx, q)
	}
	return err
}

// readTx is a read transaction of inReadTx.
type readTx struct {
	*sql.Tx
	db         *DB
	unprepared []string
}

// QueryContext is sql.Tx.QueryContext with a prepared statement when there
// is one.
func (tx *readTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s, ok := tx.db.readStmts.Load(query); ok {
		return tx.Tx.StmtContext(ctx, s.(*sql.Stmt)).QueryContext(ctx, args...)
	}
	tx.unprepared = append(tx.unprepared, query)
	return tx.Tx.QueryContext(ctx, query, args...)
}

// QueryRowContext is sql.Tx.QueryRowContext with a prepared statement when
// there is one.
func (tx *readTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s, ok := tx.db.readStmts.Load(query); ok {
		return tx.Tx.StmtContext(ctx, s.(*sql.Stmt)).QueryRowContext(ctx, args...)
	}
	tx.unprepared = append(tx.unprepared, query)
	return tx.Tx.QueryRowContext(ctx, query, args...)
}

// inWriteTx runs f in a write transaction (BEGIN IMMEDIATE on the writer)
// and commits it if f returns nil. It waits its turn in the shared lane of
// the write queue.
func (db *DB) inWriteTx(ctx context.Context, f func(tx *writeTx) error) error {
	return db.inWriteTxFor(ctx, sharedLane, f)
}

// maxGroup bounds how many requests one group commit takes: a failure or a
// slow request delays at most this many others, and one transaction's WAL
// frames stay few.
const maxGroup = 64

// inWriteTxFor is inWriteTx waiting its turn in lane (see writeQueue).
//
// With group commit (the default; Options.NoGroupCommit), the request that
// gets the writer leads a batch of the requests waiting behind it, taken
// in turns by lane, and runs each one's f in a SAVEPOINT of one shared
// transaction: a request whose f fails is rolled back to its savepoint and
// fails alone. Every request returns only after the COMMIT that made its
// work durable, and its effects after the commit (counting its events,
// preparing its statements; the caller's notifications) are its own. A
// request whose context ends before its f starts leaves without running;
// once f runs, the request waits for the commit. Transactions run on a
// context of their own, so that no one request's context can abort a
// shared one: f's statements ignore the context they are given (see
// writeTx), and a request's deadline no longer cuts its work short once
// it has started.
//
// If the transaction itself fails (a failed COMMIT, or a statement error
// that made SQLite roll the whole transaction back: I/O error, disk full),
// every request whose work was in it fails with that reason, saying so;
// none is retried (f may have set its caller's variables, and what made
// the COMMIT fail would fail each one alone as well). The requests not yet
// run when the transaction was lost run in a new one.
func (db *DB) inWriteTxFor(ctx context.Context, lane string, f func(tx *writeTx) error) error {
	r := newWriteReq(ctx, lane, f)
	if !db.queue.enqueue(r) {
		if err := db.queue.await(r); err != nil {
			return err
		}
		if !r.leader {
			return db.awaitBatch(r)
		}
	}
	defer db.queue.release()
	defer db.wrote()
	batch := []*writeReq{r}
	if !db.noGroupCommit {
		batch = db.queue.fill(batch, maxGroup)
	}
	db.runBatch(batch)
	return r.result()
}

// awaitBatch waits for the outcome of r, taken into another request's
// batch, or leaves the batch if r's context ends before its work started.
func (db *DB) awaitBatch(r *writeReq) error {
	select {
	case <-r.done:
	case <-r.ctx.Done():
		if r.state.CompareAndSwap(reqWaiting, reqAbandoned) {
			return r.ctx.Err()
		}
		// Its work is in the transaction: answer only once it is durable
		// (or failed).
		<-r.done
	}
	return r.result()
}

// result is r's outcome, in the goroutine of its caller: a panic of its f
// (run by the batch's leader) panics here again.
func (r *writeReq) result() error {
	if r.panicked != nil {
		panic(r.panicked)
	}
	return r.err
}

// errPanicked stands for a request whose f panicked, until its own caller
// panics again (writeReq.result).
var errPanicked = errors.New("sqlite: write transaction panicked")

// run runs r's f in tx, catching a panic for result.
func (r *writeReq) run(tx *writeTx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			r.panicked = v
			err = errPanicked
		}
	}()
	return r.f(tx)
}

// start marks r as started, or reports that it must not run: its context
// ended while it waited.
func (r *writeReq) start() error {
	if !r.state.CompareAndSwap(reqWaiting, reqRunning) {
		return context.Canceled // abandoned: nobody reads the outcome
	}
	return r.ctx.Err()
}

// runBatch runs the requests of batch (the leader first) in one
// transaction, or, alone, in a transaction of its own, and records each
// one's outcome; see inWriteTxFor. The requests taken from the queue hear
// of it (done) when it returns.
func (db *DB) runBatch(batch []*writeReq) {
	defer func() {
		for _, r := range batch[1:] {
			close(r.done)
		}
	}()
	db.runGroup(batch)
}

// runGroup is runBatch without the wake-ups; it calls itself for the
// requests left when a transaction is lost.
func (db *DB) runGroup(batch []*writeReq) {
	alone := len(batch) == 1
	// No request's context reaches the transaction, shared or not: its
	// ending would interrupt a statement, which rolls back the whole
	// transaction (see writeTx); and a context that cannot end spares
	// database/sql a goroutine per transaction and per query watching it.
	// A request's context is checked before its work starts (start).
	ctx := context.Background()
	if alone {
		if err := batch[0].start(); err != nil {
			batch[0].err = err
			return
		}
	}
	t, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		for _, r := range batch {
			r.err = err
		}
		return
	}
	var ran []*writeReq // the requests whose work is in t
	var unprepared []string
	defer func() {
		// Now that the writer's one connection is free, prepare what the
		// transactions ran unprepared, for the next ones.
		for _, q := range unprepared {
			db.prepareWrite(q)
		}
	}()
	// lost ends t after a failure that took the whole transaction with it,
	// failing the requests whose work it held.
	lost := func(cause error) {
		t.Rollback()
		for _, r := range ran {
			r.err = fmt.Errorf("sqlite: the transaction shared by %d requests failed after this one's work was done: %w", len(batch), cause)
		}
	}
	for i, r := range batch {
		db.writeTxs.Add(1)
		tx := &writeTx{tx: t, db: db, ctx: ctx}
		if alone {
			r.tx = tx
			r.err = r.run(tx)
			unprepared = tx.unprepared
			if r.err != nil {
				t.Rollback()
				return
			}
			if r.err = t.Commit(); r.err == nil {
				db.commits.Add(1)
				db.eventsWritten.Add(tx.events)
			}
			return
		}
		if r.err = r.start(); r.err != nil {
			db.writeTxs.Add(-1)
			continue
		}
		if _, err := tx.ExecContext(ctx, `SAVEPOINT request`); err != nil {
			r.err = err
			lost(err)
			db.runGroup(batch[i+1:])
			return
		}
		r.tx = tx
		r.err = r.run(tx)
		unprepared = append(unprepared, tx.unprepared...)
		if r.err != nil {
			// Undo this request's work alone; if SQLite rolled the whole
			// transaction back on the error, the savepoint is gone too.
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO request`); err != nil {
				lost(fmt.Errorf("%w (after %w)", err, r.err))
				db.runGroup(batch[i+1:])
				return
			}
		}
		if _, err := tx.ExecContext(ctx, `RELEASE request`); err != nil {
			if r.err == nil {
				r.err = err
			}
			lost(err)
			db.runGroup(batch[i+1:])
			return
		}
		if r.err == nil {
			ran = append(ran, r)
		}
	}
	if len(ran) == 0 {
		t.Rollback()
		return
	}
	if err := t.Commit(); err != nil {
		for _, r := range ran {
			r.err = fmt.Errorf("sqlite: commit of the transaction shared by %d requests: %w", len(ran), err)
		}
		return
	}
	db.commits.Add(1)
	for _, r := range ran {
		db.eventsWritten.Add(r.tx.events)
	}
}

// maxWriteStmts bounds the cache of prepared write statements; the package
// has a few dozen.
const maxWriteStmts = 256

// writeTx is one request's part of a write transaction (see inWriteTxFor).
// It runs each statement prepared once per process: parsing SQL was a
// quarter of the CPU a write costs. A statement cannot be prepared on the
// writer's single connection while a transaction holds it, so one seen for
// the first time runs unprepared and is prepared after the transaction
// ends.
//
// Its statements run on the transaction's context (ctx), whatever context
// they are given: in a shared transaction, a request's context ending
// would interrupt a statement, and an interrupted write makes SQLite roll
// back the whole transaction, everyone's work with it.
type writeTx struct {
	tx         *sql.Tx
	ctx        context.Context
	db         *DB
	unprepared []string
	// events counts the events appended, for EventsWritten once committed.
	events int64
}

// stmt returns the prepared form of query bound to this transaction, or nil
// when it is not prepared yet.
func (tx *writeTx) stmt(query string) *sql.Stmt {
	if s, ok := tx.db.writeStmts.Load(query); ok {
		return tx.tx.StmtContext(tx.ctx, s.(*sql.Stmt))
	}
	tx.unprepared = append(tx.unprepared, query)
	return nil
}

// ExecContext is sql.Tx.ExecContext with a prepared statement, on the
// transaction's context.
func (tx *writeTx) ExecContext(_ context.Context, query string, args ...any) (sql.Result, error) {
	if s := tx.stmt(query); s != nil {
		return s.ExecContext(tx.ctx, args...)
	}
	return tx.tx.ExecContext(tx.ctx, query, args...)
}

// QueryContext is sql.Tx.QueryContext with a prepared statement, on the
// transaction's context.
func (tx *writeTx) QueryContext(_ context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := tx.stmt(query); s != nil {
		return s.QueryContext(tx.ctx, args...)
	}
	return tx.tx.QueryContext(tx.ctx, query, args...)
}

// QueryRowContext is sql.Tx.QueryRowContext with a prepared statement, on
// the transaction's context.
func (tx *writeTx) QueryRowContext(_ context.Context, query string, args ...any) *sql.Row {
	if s := tx.stmt(query); s != nil {
		return s.QueryRowContext(tx.ctx, args...)
	}
	return tx.tx.QueryRowContext(tx.ctx, query, args...)
}

// prepareWrite prepares query on the writer for later transactions. A
// failure only means the statement keeps running unprepared.
func (db *DB) prepareWrite(query string) {
	if _, ok := db.writeStmts.Load(query); ok || db.writeStmtCount.Load() >= maxWriteStmts {
		return
	}
	s, err := db.write.PrepareContext(context.Background(), query)
	if err != nil {
		return
	}
	if _, loaded := db.writeStmts.LoadOrStore(query, s); loaded {
		s.Close()
		return
	}
	db.writeStmtCount.Add(1)
}

// wrap names the failed operation in a driver error. A *ucwad.Error passes
// through as it is: its message is meant for the client.
func wrap(op string, err error) error {
	var e *ucwad.Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// sqliteCode returns the extended result code of a driver error, or 0.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// isUnique reports whether err is a violated UNIQUE or PRIMARY KEY
// constraint.
func isUnique(err error) bool {
	c := sqliteCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// isForeignKey reports whether err is a violated foreign key, which here
// always means the referenced user or application does not exist.
func isForeignKey(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// changed returns the number of rows res affected.
func changed(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
