package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/ucwad/ucwad"
)

// TestCacheFeedMigrationKeepsNumbers upgrades a database whose feed was
// pruned empty after 40 changes, and one holding changes, to the feed
// without AUTOINCREMENT (migration 0015): the changes are carried over, and
// the next change is numbered after the last one, so that a node whose
// cursor is at it misses nothing.
func TestCacheFeedMigrationKeepsNumbers(t *testing.T) {
	for _, tc := range []struct {
		name string
		rows string // the feed's rows before the migration
		want []ucwad.CacheChange
	}{
		{name: "empty"},
		{name: "rows", rows: `INSERT INTO cache_changes (seq, kind, key) VALUES (38, 'meeting', 'M1'), (40, 'application', 'a1')`,
			want: []ucwad.CacheChange{{Kind: ucwad.CacheApplication, Key: "a1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			path := filepath.Join(t.TempDir(), "ucwad.db")
			qs := []string{`INSERT INTO sqlite_sequence (name, seq) VALUES ('cache_changes', 40)`}
			if tc.rows != "" {
				qs = append(qs, tc.rows)
			}
			oldDatabase(t, path, 15, qs...)

			db := openClosing(t, path, Options{PollInterval: -1})
			// A node that had read up to 39 reads what came after.
			got, next, err := db.CacheChanges(ctx, "39")
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != nil && (len(got) != 1 || got[0] != tc.want[0]) {
				t.Errorf("changes after 39: %+v, want %+v", got, tc.want)
			}
			if next != "40" {
				t.Errorf("cursor after the migration: %q, want 40", next)
			}
			u := &ucwad.User{SIP: "alice@contoso.com", PasswordHash: "x"}
			if err := db.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			if err := db.DeleteUser(ctx, u.ID); err != nil {
				t.Fatal(err)
			}
			got, _, err = db.CacheChanges(ctx, "40")
			if err != nil {
				t.Fatal(err)
			}
			if want := (ucwad.CacheChange{Kind: ucwad.CacheUser, Key: fmt.Sprint(u.ID)}); len(got) != 1 || got[0] != want {
				t.Errorf("changes after 40: %+v, want %+v", got, want)
			}
		})
	}
}

// TestPruneKeepsNewestChange prunes a feed whose changes are all old: all
// go but the newest, so that the next change is numbered after every
// number a node may have read (seq is a rowid: one more than the largest).
func TestPruneKeepsNewestChange(t *testing.T) {
	ctx := t.Context()
	db := openClosing(t, filepath.Join(t.TempDir(), "ucwad.db"), Options{PollInterval: -1})
	for i := range 3 {
		u := &ucwad.User{SIP: fmt.Sprintf("user%d@contoso.com", i), PasswordHash: "x"}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	_, start, err := db.CacheChanges(ctx, "0")
	if err != nil {
		t.Fatal(err)
	}
	// One recent change, then the first three made old.
	if _, err := db.write.ExecContext(ctx, `UPDATE cache_changes SET at = at - ?`, int64(2*ucwad.CacheChangeRetention.Seconds())); err != nil {
		t.Fatal(err)
	}
	n, err := db.PruneCacheChanges(ctx)
	if err != nil || n != 2 {
		t.Fatalf("PruneCacheChanges = %d, %v; want the 2 old changes but the newest", n, err)
	}
	u := &ucwad.User{SIP: "dave@contoso.com", PasswordHash: "x"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	got, _, err := db.CacheChanges(ctx, start)
	if err != nil {
		t.Fatal(err)
	}
	if want := (ucwad.CacheChange{Kind: ucwad.CacheUser, Key: fmt.Sprint(u.ID)}); len(got) != 1 || got[0] != want {
		t.Errorf("changes after %s: %+v, want %+v (the new one numbered after the kept newest)", start, got, want)
	}
	// A recent change stops the pruning: it and what follows stay.
	if _, err := db.write.ExecContext(ctx, `UPDATE cache_changes SET at = unixepoch() - ? WHERE seq < (SELECT MAX(seq) FROM cache_changes)`,
		int64(2*ucwad.CacheChangeRetention.Seconds())); err != nil {
		t.Fatal(err)
	}
	if n, err := db.PruneCacheChanges(ctx); err != nil || n != 1 {
		t.Errorf("PruneCacheChanges with one recent change = %d, %v; want the 1 old one before it", n, err)
	}
}
