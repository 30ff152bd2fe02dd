package sqlite

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ucwad/ucwad"
)

// TestCheckHealth: a freshly opened database is healthy; a migration
// version the binary does not know (ahead), or one missing (behind), fails
// the migrations check; a closed database fails the database check.
func TestCheckHealth(t *testing.T) {
	ctx := t.Context()
	db := openTest(t, filepath.Join(t.TempDir(), "ucwad.db"), Options{PollInterval: -1})
	if err := db.CheckHealth(ctx); err != nil {
		t.Fatalf("fresh database: %v", err)
	}
	failed := func(what, check, msg string) {
		t.Helper()
		err := db.CheckHealth(ctx)
		var he *ucwad.HealthError
		if !errors.As(err, &he) || he.Check != check || !strings.Contains(he.Message, msg) {
			t.Errorf("%s: %v, want the %s check failing with %q", what, err, check, msg)
		}
	}
	if _, err := db.write.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)`); err != nil {
		t.Fatal(err)
	}
	failed("a newer binary's migration applied", ucwad.CheckMigrations, "applied migration 9999")
	if _, err := db.write.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = 9999`); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckHealth(ctx); err != nil {
		t.Fatalf("again current: %v", err)
	}
	last := db.migrations[len(db.migrations)-1]
	if _, err := db.write.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = ?`, last); err != nil {
		t.Fatal(err)
	}
	failed("the latest migration missing", ucwad.CheckMigrations, "1 migration(s) not applied")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	failed("closed", ucwad.CheckDatabase, "does not answer")
}

// TestEventsWritten counts one event per receiving log entry, on commit.
func TestEventsWritten(t *testing.T) {
	ctx := t.Context()
	db := openClosing(t, filepath.Join(t.TempDir(), "ucwad.db"), Options{PollInterval: -1})
	u := &ucwad.User{SIP: "alice@contoso.com", PasswordHash: "x"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	app, _, err := db.CreateApplication(ctx, &ucwad.Application{UserID: u.ID, UserAgent: "ua", EndpointID: "ep", Culture: "en-US"}, "")
	if err != nil {
		t.Fatal(err)
	}
	logSize := func() int64 {
		t.Helper()
		var n int64
		if err := db.write.QueryRowContext(ctx, `SELECT COUNT(*) FROM events`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before, logBefore := db.EventsWritten(), logSize()
	if err := db.MakeApplicationAvailable(ctx, u.ID, app.ID); err != nil {
		t.Fatal(err)
	}
	if got, logged := db.EventsWritten()-before, logSize()-logBefore; got == 0 || got != logged {
		t.Errorf("EventsWritten grew by %d after makeMeAvailable; the log holds %d", got, logged)
	}
	// A transaction that fails counts nothing.
	before = db.EventsWritten()
	if err := db.MakeApplicationAvailable(ctx, u.ID, "no-such-app"); err == nil {
		t.Fatal("makeMeAvailable of a missing application succeeded")
	}
	if got := db.EventsWritten(); got != before {
		t.Errorf("EventsWritten %d after a failed change, want %d", got, before)
	}
}
