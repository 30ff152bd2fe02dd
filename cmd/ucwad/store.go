package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/sqlite"
)

// storeOptions are what the server passes to the store it opens; the user
// commands pass none.
type storeOptions = sqlite.Options

// openStore opens the store a --db value names, for every command: a file
// path (or "sqlite:PATH") is an SQLite database, created with its directory
// when missing. Pending migrations are applied on open.
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
		db, err := sqlite.Open(ctx, target, opts)
		if err != nil {
			return nil, fmt.Errorf("opening database %s: %w", target, err)
		}
		return db, nil
	default:
		return nil, fmt.Errorf("--db %q: %s databases are not supported by this build (use a file path for SQLite)", redactDSN(dsn), kind)
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
