package sqlite

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ucwad/ucwad"
)

// count returns the number of rows of a table.
func count(t *testing.T, db *DB, table string) int {
	t.Helper()
	var n int
	if err := db.read.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAudienceAcrossUsers: one event for applications of several users is
// one body and one entry in each receiving user's log; every channel of
// the applications named receives it once, others nothing; the body goes
// when the last log lets its entry go.
func TestAudienceAcrossUsers(t *testing.T) {
	ctx := t.Context()
	db := openClosing(t, filepath.Join(t.TempDir(), "ucwad.db"), Options{PollInterval: -1})
	users := map[string]*ucwad.User{}
	apps := map[string]*ucwad.Application{}
	for _, name := range []string{"alice", "bob", "carol"} {
		u := &ucwad.User{SIP: name + "@contoso.com", PasswordHash: "x"}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		users[name] = u
		if name == "carol" { // no application: receives nothing
			continue
		}
		for _, ep := range []string{"1", "2"} {
			app, _, err := db.CreateApplication(ctx, &ucwad.Application{UserID: u.ID, UserAgent: "ua", EndpointID: ep, Culture: "en-US"}, "")
			if err != nil {
				t.Fatal(err)
			}
			apps[name+ep] = app
		}
	}
	to := ucwad.Audience{
		{UserID: users["alice"].ID},
		{UserID: users["alice"].ID, ApplicationID: apps["alice1"].ID}, // within the one above
		{UserID: users["bob"].ID, ApplicationID: apps["bob2"].ID},
		{UserID: users["bob"].ID, ApplicationID: apps["bob2"].ID}, // twice
		{UserID: users["carol"].ID},
		{UserID: users["bob"].ID, ApplicationID: "nosuchapplication000"},
	}
	ev := ucwad.Event{Type: ucwad.EventUpdated, Subject: ucwad.MeetingSubject("M1"), Data: []byte(`{"ID":"M1"}`)}
	var notified []string
	if err := db.inWriteTx(ctx, func(tx *writeTx) error {
		var err error
		notified, err = db.appendEvent(ctx, tx, to, ev)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	want := slices.Sorted(slices.Values([]string{apps["alice1"].ID, apps["alice2"].ID, apps["bob2"].ID}))
	if !slices.Equal(notified, want) {
		t.Errorf("notified %v, want %v", notified, want)
	}
	if got := [2]int{count(t, db, "event_bodies"), count(t, db, "events")}; got != [2]int{1, 2} {
		t.Fatalf("(bodies, entries) = %v, want one body and an entry for each of alice and bob", got)
	}
	checkEventAccounting(t, db, "after the event")

	for _, name := range []string{"alice1", "alice2", "bob1", "bob2"} {
		b, err := db.ReadBatch(ctx, apps[name].ID, "", 1, false)
		if err != nil {
			t.Fatal(err)
		}
		if name == "bob1" {
			if !b.Wait {
				t.Errorf("%s, not in the audience: %+v, want to wait", name, b)
			}
			continue
		}
		if len(b.Events) != 1 || b.Events[0].Subject != ev.Subject || b.Events[0].Type != ev.Type || string(b.Events[0].Data) != string(ev.Data) {
			t.Fatalf("%s: %+v, want the event once", name, b.Events)
		}
		if _, err := db.ReadBatch(ctx, apps[name].ID, "", 2, false); err != nil {
			t.Fatal(err)
		}
		checkEventAccounting(t, db, name+" acknowledged")
	}
	// Alice's channels passed her entry: it went. Bob's stays until every
	// channel of his has passed it (a log is read by all of a user's
	// channels), and so does the body.
	if got := [2]int{count(t, db, "event_bodies"), count(t, db, "events")}; got != [2]int{1, 1} {
		t.Errorf("(bodies, entries) = %v once alice's channels acknowledged, want bob's entry and the body", got)
	}
	if err := db.DeleteApplication(ctx, users["bob"].ID, apps["bob1"].ID, ""); err != nil {
		t.Fatal(err)
	}
	if got := [2]int{count(t, db, "event_bodies"), count(t, db, "events")}; got != [2]int{0, 0} {
		t.Errorf("(bodies, entries) = %v once every channel passed the event, want none", got)
	}
	checkEventAccounting(t, db, "at the end")
}

// TestMigrationCarriesEvents opens a database at schema version 6 holding
// events waiting in a user's log, as the previous release left it: after
// migration 7 (subjects, bodies stored once) every channel reads the same
// events, with their subjects, and nobody has to resync.
func TestMigrationCarriesEvents(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "ucwad.db")
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	old, err := sql.Open("sqlite", dsn(path, "NORMAL", true))
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, m := range ms[:6] {
		if _, err := old.ExecContext(ctx, m.sql); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		versions = append(versions, fmt.Sprintf("(%d, 0)", m.version))
	}
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT`,
		`INSERT INTO schema_migrations VALUES ` + strings.Join(versions, ", "),
		`INSERT INTO users (id, sip, name, password_hash, created_at, event_bytes, event_count) VALUES (1, 'alice@contoso.com', '', 'x', 0, 300, 3)`,
		`INSERT INTO applications VALUES ('app1', 1, 'ua', 'ep', 'en', 'Browser', 0, 0, 0)`,
		`INSERT INTO channels (application_id, instance_id, created_at, cursor) VALUES ('app1', '', 0, 6), ('app1', 'tab', 0, 6)`,
		`INSERT INTO events (seq, user_id, application_id, size, type, subject, meeting_id, extension_id, created_at, data) VALUES
			(7, 1, NULL, 100, 'added', 'meeting', 'M1', '', 0, CAST('{"ID":"M1"}' AS BLOB)),
			(8, 1, NULL, 100, 'updated', 'extension', 'M1', 'x/1', 0, CAST('{"ID":"x/1"}' AS BLOB)),
			(9, 1, 'app1', 100, 'updated', 'me', '', '', 0, NULL)`,
		`UPDATE sqlite_sequence SET seq = 20 WHERE name = 'events'`,
	} {
		if _, err := old.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	old.Close()

	db := openClosing(t, path, Options{PollInterval: -1})
	checkEventAccounting(t, db, "after the migration")
	want := []ucwad.Event{
		{Seq: 7, Type: ucwad.EventAdded, Subject: ucwad.MeetingSubject("M1"), Data: []byte(`{"ID":"M1"}`)},
		{Seq: 8, Type: ucwad.EventUpdated, Subject: ucwad.ExtensionSubject("M1", "x/1"), Data: []byte(`{"ID":"x/1"}`)},
		{Seq: 9, Type: ucwad.EventUpdated, Subject: ucwad.Subject{Kind: ucwad.SubjectMe}},
	}
	for _, inst := range []string{"", "tab"} {
		b, err := db.ReadBatch(ctx, "app1", inst, 1, false)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(b.Events, want, func(a, b ucwad.Event) bool {
			return a.Seq == b.Seq && a.Type == b.Type && a.Subject == b.Subject && string(a.Data) == string(b.Data)
		}) {
			t.Errorf("channel %q after the migration: %+v, want %+v", inst, b, want)
		}
	}
	if got := ucwad.ExtensionSubject("M1", "x/1"); got.MeetingID() != "M1" || got.ExtensionID() != "x/1" {
		t.Errorf("extension subject %+v reads back meeting %q extension %q", got, got.MeetingID(), got.ExtensionID())
	}
	if err := db.MakeApplicationAvailable(ctx, 1, "app1"); err != nil {
		t.Fatal(err)
	}
	b, err := db.ReadBatch(ctx, "app1", "tab", 2, false)
	if err != nil || len(b.Events) != 2 || b.Events[0].Seq <= 20 {
		t.Errorf("new events after the migration: %+v, %v; want two numbered above 20", b, err)
	}
	checkEventAccounting(t, db, "after new events")
}
