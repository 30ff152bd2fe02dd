package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/storetest"
)

// testDSNVar names the environment variable holding the DSN of a database
// the tests may create schemas in; .ci/run sets it.
const testDSNVar = "UCWAD_TEST_POSTGRES"

// testDSN returns a DSN whose search_path is a new, empty schema, dropped
// when t ends, or skips t when no database is configured.
func testDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(testDSNVar)
	if base == "" && os.Getenv("UCWAD_REQUIRE_POSTGRES") != "" {
		t.Fatalf("%s is not set, and UCWAD_REQUIRE_POSTGRES says the PostgreSQL tests must run", testDSNVar)
	}
	if base == "" {
		t.Skipf("%s is not set: set it to a PostgreSQL URL (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) to run the PostgreSQL tests", testDSNVar)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	var b [6]byte
	rand.Read(b[:])
	schema := "test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(context.Background(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	return withSearchPath(t, base, schema)
}

// withSearchPath adds search_path=schema to a URL DSN.
func withSearchPath(t testing.TB, dsn, schema string) string {
	t.Helper()
	if !strings.Contains(dsn, "://") {
		return dsn + " search_path=" + schema
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("%s: %v", testDSNVar, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// openTest opens a store on dsn, closed when t ends.
func openTest(t testing.TB, dsn string, opts Options) *DB {
	t.Helper()
	db, err := Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	if os.Getenv(testDSNVar) == "" {
		testDSN(t) // skips
	}
	storetest.Run(t, func(t *testing.T, cfg storetest.Config) ucwad.Store {
		// Run closes the store; the schema goes after it.
		dsn := testDSN(t)
		db, err := Open(t.Context(), dsn, Options{Clock: cfg.Clock, Notifier: cfg.Notifier, Limits: cfg.Limits, PollInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

// parseURL parses a DSN as the store does.
func parseURL(dsn string) (*pgx.ConnConfig, error) { return pgx.ParseConfig(dsn) }

// replaceHost points a URL DSN at addr.
func replaceHost(t testing.TB, dsn, addr string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		t.Skipf("%s is not a URL with a host: cannot route it through a proxy", testDSNVar)
	}
	u.Host = addr
	return u.String()
}
