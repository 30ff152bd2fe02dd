// Package postgres implements ucwad.Store on PostgreSQL through
// github.com/jackc/pgx/v5, so that several ucwad processes (nodes) can share
// one database.
//
// Every write runs in a SERIALIZABLE transaction, retried when PostgreSQL
// reports a serialization failure or a deadlock: each transaction then
// behaves as if it ran alone, exactly as the SQLite store's single writer
// makes them, so the store's logic (the counts behind every limit, the
// per-user event log and its cursors) is the same on both and holds across
// nodes. Reads of more than one statement run in a REPEATABLE READ, read
// only transaction: one snapshot.
//
// Changes reach the P-GETs held on other nodes through LISTEN/NOTIFY
// (pg_notify in the change's transaction, delivered only on commit), and a
// periodic check that finds what a lost notification did not tell.
package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/clock"
)

// Options configures Open. The zero value is ready to use.
type Options struct {
	// Clock is the source of "now"; nil means clock.Real().
	Clock clock.Clock
	// Limits are the bounds the store enforces; zero fields take their
	// defaults (ucwad.DefaultLimits).
	Limits ucwad.Limits
	// Notifier is told after each commit which applications got events (or
	// went away), and, through LISTEN/NOTIFY and the periodic check, which
	// got events from other nodes or had a channel taken by one. nil:
	// nobody is told, and the store listens for nothing.
	Notifier ucwad.Notifier
	// PollInterval is how often the store checks for other nodes' changes
	// that a lost notification did not tell; 0 means DefaultPollInterval.
	// Negative disables both the listener and the check (one node alone
	// needs neither; tests that count notifications turn them off).
	PollInterval time.Duration
	// MaxConns bounds the connections the store opens; 0 means
	// DefaultMaxConns.
	MaxConns int
	// Logger receives what the store's background work (the listener, the
	// periodic check) cannot return to a caller; nil discards it.
	Logger *slog.Logger
}

// DefaultPollInterval is how often, by default, the store checks for
// other nodes' changes beside listening for their notifications.
const DefaultPollInterval = 2 * time.Second

// DefaultMaxConns is the default size of the connection pool.
const DefaultMaxConns = 16

// maxRetries bounds how often a write transaction is retried after a
// serialization failure before its error is returned. PostgreSQL's
// serializable isolation guarantees that a retried transaction does not
// fail again for the same conflict, so a handful of retries is plenty even
// under heavy contention; the bound only stops a bug from looping.
const maxRetries = 100

// notifyChannel is the LISTEN/NOTIFY channel of the store.
const notifyChannel = "ucwad_events"

// DB is a ucwad.Store backed by a PostgreSQL database. It is safe for
// concurrent use.
type DB struct {
	pool    *sql.DB
	dsn     string
	clock   clock.Clock
	maxApps int

	maxEvents int
	notifier  ucwad.Notifier
	watcher   *watcher
	log       *slog.Logger
	// origin identifies this DB among the nodes sharing the database: it
	// marks the event bodies it writes, the channels whose P-GETs it holds
	// and its notifications. Random, never 0.
	origin int64

	maxAppChannels, maxUserChannels  int
	maxUserEventBytes, maxBatchBytes int64
	maxMeetings, maxExtensions       int
	maxUnknownNames                  int
	joining                          ucwad.Limits

	writeTxs      atomic.Int64 // see WriteTransactions
	eventsWritten atomic.Int64 // see EventsWritten
	retries       atomic.Int64 // see Retries

	stopped   chan struct{}
	closeOnce sync.Once
	loops     sync.WaitGroup
}

var _ ucwad.Store = (*DB)(nil)

// Open connects to the database named by dsn (a postgres:// or
// postgresql:// URL, or a libpq key=value string) and applies any pending
// migrations under an advisory lock, so that several nodes starting at once
// take turns. It fails if the schema is newer than this binary knows, or if
// opts is invalid. Errors never contain the password.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if err := opts.Limits.Validate(); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: invalid database URL %s: %w", Redact(dsn), errors.Unwrap(err))
	}
	lim := opts.Limits.WithDefaults()
	clk := opts.Clock
	if clk == nil {
		clk = clock.Real()
	}
	db := &DB{clock: clk, notifier: opts.Notifier, dsn: dsn,
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
		watcher:           &watcher{seen: map[int64]int64{}},
		origin:            newOrigin(),
		log:               opts.Logger,
		stopped:           make(chan struct{}),
	}
	if db.log == nil {
		db.log = slog.New(slog.DiscardHandler)
	}
	db.pool = stdlib.OpenDB(*cfg)
	maxConns := opts.MaxConns
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	db.pool.SetMaxOpenConns(maxConns)
	db.pool.SetMaxIdleConns(maxConns)
	// A connection that broke while the database was away is dropped by
	// database/sql on its first failure; a limited lifetime also spreads
	// connections over a restarted or failed-over server.
	db.pool.SetConnMaxLifetime(30 * time.Minute)
	if err := Migrate(ctx, db.pool, clk.Now()); err != nil {
		db.pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", Redact(dsn), redactErr(err, cfg.Password))
	}
	if err := db.pool.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&db.watcher.last); err != nil {
		db.pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", Redact(dsn), redactErr(err, cfg.Password))
	}
	if err := db.pool.QueryRowContext(ctx, `SELECT last FROM channel_takes`).Scan(&db.watcher.lastTake); err != nil {
		db.pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", Redact(dsn), redactErr(err, cfg.Password))
	}
	poll := opts.PollInterval
	if poll == 0 {
		poll = DefaultPollInterval
	}
	if poll > 0 && db.notifier != nil {
		db.loops.Go(func() { db.listen(cfg) })
		db.loops.Go(func() { db.pollLoop(poll) })
	}
	return db, nil
}

// Redact returns dsn with its password, if any, replaced by "xxxxx", for
// messages and logs.
func Redact(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		rest := dsn[i+3:]
		at := strings.LastIndex(rest, "@")
		if slash := strings.Index(rest, "/"); slash >= 0 && at > slash {
			at = strings.LastIndex(rest[:slash], "@")
		}
		if at >= 0 {
			if user, _, ok := strings.Cut(rest[:at], ":"); ok {
				dsn = dsn[:i+3] + user + ":xxxxx" + rest[at:]
			}
		}
	}
	// key=value form, and a password given as a URL parameter.
	for _, key := range []string{"password=", "password%3D"} {
		for j := 0; ; {
			k := strings.Index(dsn[j:], key)
			if k < 0 {
				break
			}
			start := j + k + len(key)
			end := strings.IndexAny(dsn[start:], " &")
			if end < 0 {
				end = len(dsn) - start
			}
			dsn = dsn[:start] + "xxxxx" + dsn[start+end:]
			j = start + len("xxxxx")
		}
	}
	return dsn
}

// redactErr removes the password from an error's message, should a driver
// error ever quote it.
func redactErr(err error, password string) error {
	if err == nil || password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), password, "xxxxx"))
}

// newOrigin draws a DB's origin: a random positive int64.
func newOrigin() int64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("postgres: random source failed: " + err.Error())
	}
	return int64(binary.BigEndian.Uint64(b[:])>>1) | 1
}

// WriteTransactions returns how many write transactions the DB has begun
// since it was opened, committed or not, retries included.
func (db *DB) WriteTransactions() int64 { return db.writeTxs.Load() }

// Retries returns how many write transactions were retried after a
// serialization failure or deadlock since the DB was opened.
func (db *DB) Retries() int64 { return db.retries.Load() }

// Close stops the listener and the periodic check and closes the pool.
func (db *DB) Close() error {
	db.closeOnce.Do(func() { close(db.stopped) })
	db.loops.Wait()
	return db.pool.Close()
}

// CheckHealth reports whether the database answers and its schema is the
// one this binary's migrations make: what a readiness probe asks. A failed
// check is a *ucwad.HealthError; its message names no host or password.
func (db *DB) CheckHealth(ctx context.Context) error {
	applied, err := queryInts(ctx, readPool{db}, `SELECT version FROM schema_migrations`)
	if err != nil {
		msg := "the database does not answer"
		if ctx.Err() != nil {
			msg = "the database did not answer in time"
		}
		return &ucwad.HealthError{Check: ucwad.CheckDatabase, Message: msg, Err: err}
	}
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	have := make([]int, len(applied))
	for i, v := range applied {
		have[i] = int(v)
	}
	embedded := make([]int, len(ms))
	for i, m := range ms {
		embedded[i] = m.version
	}
	return ucwad.MigrationsHealth(have, embedded)
}

// EventsWritten returns how many events (one per receiving user's log
// entry) the DB's committed transactions appended since it was opened.
func (db *DB) EventsWritten() int64 { return db.eventsWritten.Load() }

var (
	_ ucwad.HealthChecker = (*DB)(nil)
	_ ucwad.EventCounter  = (*DB)(nil)
)

// millis converts t to the stored representation.
func millis(t time.Time) int64 { return t.UnixMilli() }

// fromMillis converts a stored time back; stored times are UTC.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// placeholders caches rebind's translations by query text.
var placeholders sync.Map // string → string

// rebind turns the store's SQLite-style placeholders (? and ?N) into
// PostgreSQL's ($N): the statements are written once in the style both
// stores share, so that their logic can be compared line by line. A bare ?
// takes the number after the highest seen so far, as in SQLite.
func rebind(query string) string {
	if q, ok := placeholders.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	next := 0
	inString := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		if c == '\'' {
			inString = !inString
		}
		if c != '?' || inString {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(query) && query[j] >= '0' && query[j] <= '9' {
			j++
		}
		n := next + 1
		if j > i+1 {
			n, _ = strconv.Atoi(query[i+1 : j])
		}
		next = max(next, n)
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
		i = j - 1
	}
	q := b.String()
	placeholders.Store(query, q)
	return q
}

// queryRow runs a read query that returns at most one row on the pool.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return db.pool.QueryRowContext(ctx, rebind(query), args...)
}

// query is queryRow for any number of rows.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return db.pool.QueryContext(ctx, rebind(query), args...)
}

// inReadTx runs f in a read-only REPEATABLE READ transaction, so that the
// statements of one read see one snapshot.
func (db *DB) inReadTx(ctx context.Context, f func(tx *readTx) error) error {
	t, err := db.pool.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return err
	}
	err = f(&readTx{Tx: t})
	if cerr := t.Commit(); err == nil {
		err = cerr
	}
	return err
}

// readTx is a read transaction of inReadTx.
type readTx struct{ *sql.Tx }

// QueryContext runs query with the store's placeholders.
func (tx *readTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.Tx.QueryContext(ctx, rebind(query), args...)
}

// QueryRowContext runs query with the store's placeholders.
func (tx *readTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.Tx.QueryRowContext(ctx, rebind(query), args...)
}

// The lanes the SQLite store queues its writes in; here every transaction
// runs at once and PostgreSQL orders them, so a lane only documents whose
// write it is.
func userLane(id int64) string { return "u" + strconv.FormatInt(id, 10) }
func appLane(id string) string { return "a" + id }

const sharedLane = ""

// inWriteTx runs f in a SERIALIZABLE transaction and commits it if f
// returns nil; see inWriteTxFor.
func (db *DB) inWriteTx(ctx context.Context, f func(tx *writeTx) error) error {
	return db.inWriteTxFor(ctx, sharedLane, f)
}

// inWriteTxFor runs f in a SERIALIZABLE transaction and commits it if f
// returns nil. When PostgreSQL aborts it for a conflict with a concurrent
// transaction (on this node or another), f runs again from the start in a
// new transaction, so f must do nothing but database work (what it
// computes is recomputed) until it returns. What it notifies goes after
// commit, through db.notify; what other nodes must hear is sent with
// pg_notify inside the transaction (see tx.tell).
func (db *DB) inWriteTxFor(ctx context.Context, _ string, f func(tx *writeTx) error) error {
	delay := time.Millisecond
	for attempt := 0; ; attempt++ {
		err := db.writeOnce(ctx, f)
		if !retryable(err) || attempt >= maxRetries || ctx.Err() != nil {
			return err
		}
		db.retries.Add(1)
		// A random pause breaks the lockstep of transactions that
		// conflicted with each other.
		var b [2]byte
		rand.Read(b[:])
		pause := time.Duration(int64(binary.BigEndian.Uint16(b[:])) * int64(delay) / math.MaxUint16)
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		delay = min(2*delay, 50*time.Millisecond)
	}
}

func (db *DB) writeOnce(ctx context.Context, f func(tx *writeTx) error) error {
	db.writeTxs.Add(1)
	t, err := db.pool.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable})
	if err != nil {
		return err
	}
	tx := &writeTx{Tx: t, db: db}
	if err = f(tx); err != nil {
		t.Rollback()
		return err
	}
	if len(tx.told) > 0 {
		if _, err := t.ExecContext(ctx, `SELECT pg_notify($1, $2)`, notifyChannel, tx.payload()); err != nil {
			t.Rollback()
			return err
		}
	}
	if err := t.Commit(); err != nil {
		return err
	}
	db.eventsWritten.Add(tx.events)
	return nil
}

// writeTx is a write transaction of inWriteTxFor.
type writeTx struct {
	*sql.Tx
	db *DB
	// told are the applications the transaction's commit must wake on
	// other nodes.
	told []string
	// events counts the log entries appended, for EventsWritten once
	// committed.
	events int64
}

// tell has the commit wake the P-GETs other nodes hold on these
// applications.
func (tx *writeTx) tell(appIDs ...string) { tx.told = append(tx.told, appIDs...) }

// maxPayload is below PostgreSQL's limit on a notification's payload
// (8000 bytes); a longer list is replaced by "*", which wakes every P-GET
// of every node (each then reads, finds nothing new or something).
const maxPayload = 7900

// payload is the notification of tx: the origin, then the applications,
// separated by spaces.
func (tx *writeTx) payload() string {
	var b strings.Builder
	b.WriteString(strconv.FormatInt(tx.db.origin, 10))
	seen := map[string]bool{}
	for _, id := range tx.told {
		if seen[id] {
			continue
		}
		seen[id] = true
		if b.Len()+1+len(id) > maxPayload {
			return strconv.FormatInt(tx.db.origin, 10) + " *"
		}
		b.WriteByte(' ')
		b.WriteString(id)
	}
	return b.String()
}

// ExecContext runs query with the store's placeholders.
func (tx *writeTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.Tx.ExecContext(ctx, rebind(query), args...)
}

// QueryContext runs query with the store's placeholders.
func (tx *writeTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.Tx.QueryContext(ctx, rebind(query), args...)
}

// QueryRowContext runs query with the store's placeholders.
func (tx *writeTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.Tx.QueryRowContext(ctx, rebind(query), args...)
}

// The sweeps, each with its advisory lock (see sweepLock).
const (
	sweepApplications = iota + 0x75637700
	sweepMeetings
	sweepTokens
	sweepSignIns
	sweepConversations
	sweepGuests
)

// sweepLock takes the transaction-scoped advisory lock of a sweep, without
// waiting: when every node runs its sweeps at the same moment, one sweeps
// and the others find the lock taken and skip this round (false), instead
// of deleting the same rows and retrying each other's conflicts.
func (tx *writeTx) sweepLock(ctx context.Context, sweep int64) (bool, error) {
	var ok bool
	// The schema is part of the key: databases with several schemas
	// (several installations, or tests) sweep each on its own.
	err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock(?::int4, hashtext(current_schema()))`, sweep).Scan(&ok)
	return ok, err
}

// retryable reports whether err aborted a transaction that may succeed when
// run again: a serialization failure or a deadlock.
func retryable(err error) bool {
	c := pgCode(err)
	return c == "40001" || c == "40P01"
}

// wrap names the failed operation in a driver error. A *ucwad.Error passes
// through as it is: its message is meant for the client. A database that
// cannot be reached becomes EServiceUnavailable.
func wrap(op string, err error) error {
	var e *ucwad.Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	return storeErr(op, err)
}

// storeErr is err, from operation op, as the store returns it:
// EServiceUnavailable when the database could not be reached (the server
// answers 503 and the client tries again later), otherwise the error
// wrapped with op.
func storeErr(op string, err error) error {
	if retryable(err) {
		// Still conflicting after inWriteTxFor's retries (or its context
		// ended while retrying): the client tries again later, as for a
		// database that cannot be reached, rather than seeing a failure.
		return fmt.Errorf("postgres: %s: %v: %w", op, err, errBusy())
	}
	if unavailable(err) {
		// The *ucwad.Error is what the client sees; the cause stays in
		// the message the server logs.
		return fmt.Errorf("postgres: %s: %v: %w", op, err, errUnavailable())
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// errBusy is the error a client sees when its change kept conflicting with
// concurrent ones.
func errBusy() *ucwad.Error {
	return ucwad.Errorf(ucwad.EServiceUnavailable, "", "The database is busy with conflicting changes; try again later.")
}

// errUnavailable is the error a client sees while the database is away.
func errUnavailable() *ucwad.Error {
	return ucwad.Errorf(ucwad.EServiceUnavailable, "", "The database is unavailable; try again later.")
}

// unavailable reports whether err means the database could not be reached
// or went away: a failed connection, a broken one, or a server shutting
// down or starting up.
func unavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, net.ErrClosed), pgconn.SafeToRetry(err), pgconn.Timeout(err):
		return true
	}
	c := pgCode(err)
	// 08: connection exception; 57P01-57P03: admin shutdown, crash
	// shutdown, cannot connect now; 53300: too many connections.
	if strings.HasPrefix(c, "08") || c == "57P01" || c == "57P02" || c == "57P03" || c == "53300" {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "unexpected EOF") || strings.Contains(msg, "conn closed") ||
		strings.Contains(msg, "connection reset") || strings.Contains(msg, "broken pipe") ||
		strings.Contains(msg, "bad connection")
}

// pgCode returns the SQLSTATE of a server error, or "".
func pgCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// isUnique reports whether err is a violated UNIQUE or PRIMARY KEY
// constraint.
func isUnique(err error) bool { return pgCode(err) == "23505" }

// isForeignKey reports whether err is a violated foreign key, which here
// always means the referenced user or application does not exist.
func isForeignKey(err error) bool { return pgCode(err) == "23503" }

// changed returns the number of rows res affected.
func changed(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
