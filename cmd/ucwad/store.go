package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"log/slog"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/clock"
	"github.com/ucwad/ucwad/postgres"
	"github.com/ucwad/ucwad/sqlite"
)

// storeOptions are what the server passes to the store it opens, whatever
// its kind; the user commands pass none.
type storeOptions struct {
	Clock    clock.Clock
	Notifier ucwad.Notifier
	Logger   *slog.Logger
	Limits   ucwad.Limits
	// Sync is SQLite's synchronous mode (see sqlite.Options); PostgreSQL
	// commits durably always.
	Sync string
	// NoGroupCommit turns SQLite's group commit off (see
	// sqlite.Options.NoGroupCommit); PostgreSQL has its own commit
	// handling.
	NoGroupCommit bool
	// PollInterval is how often the store looks for other processes'
	// (nodes') changes; 0 means the store's default.
	PollInterval time.Duration
}

// openStore opens the store a --db value names, for every command: a file
// path (or "sqlite:PATH") is an SQLite database, created with its directory
// when missing; a postgres:// or postgresql:// URL is a PostgreSQL
// database. Pending migrations are applied on open (for PostgreSQL under an
// advisory lock, so that nodes starting at once take turns).
func openStore(ctx context.Context, dsn string, opts storeOptions) (ucwad.Store, error) {
	kind, target := storeKind(dsn)
	switch kind {
	case "sqlite":
		if target == "" {
			return nil, errors.New("--db names no database file")
		}
		if target != ":memory:" {
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return nil, fmt.Errorf("creating the database directory: %w", err)
			}
		}
		db, err := sqlite.Open(ctx, target, sqlite.Options{Clock: opts.Clock, Notifier: opts.Notifier,
			Logger: opts.Logger, Limits: opts.Limits, Sync: opts.Sync, NoGroupCommit: opts.NoGroupCommit, PollInterval: opts.PollInterval})
		if err != nil {
			return nil, fmt.Errorf("opening database %s: %w", target, err)
		}
		return db, nil
	case "postgres", "postgresql":
		db, err := postgres.Open(ctx, target, postgres.Options{Clock: opts.Clock, Notifier: opts.Notifier,
			Logger: opts.Logger, Limits: opts.Limits, PollInterval: opts.PollInterval})
		if err != nil {
			// postgres.Open names the database with its password hidden.
			return nil, fmt.Errorf("opening database: %w", err)
		}
		return db, nil
	default:
		return nil, fmt.Errorf("--db %q: %s databases are not supported (use a file path for SQLite or a postgres:// URL)", redactDSN(dsn), kind)
	}
}

// storeKind splits a --db value into the kind of store and what to open.
func storeKind(dsn string) (kind, target string) {
	if i := strings.Index(dsn, "://"); i > 0 && !strings.ContainsAny(dsn[:i], `/\`) {
		return strings.ToLower(dsn[:i]), dsn
	}
	if rest, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		return "sqlite", rest
	}
	return "sqlite", dsn
}

// redactDSN hides a password in a connection URL before it is shown.
func redactDSN(dsn string) string {
	if kind, _ := storeKind(dsn); kind == "postgres" || kind == "postgresql" {
		return postgres.Redact(dsn)
	}
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return dsn
	}
	userinfo := dsn[scheme+3 : at]
	if user, _, ok := strings.Cut(userinfo, ":"); ok {
		return dsn[:scheme+3] + user + ":xxxxx" + dsn[at:]
	}
	return dsn
}
