package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/clock"
	"github.com/ucwad/ucwad/storetest"
)

// usedBytes is what the database file holds in use: its pages less the
// free ones, after the WAL is checkpointed into it.
func usedBytes(t testing.TB, db *DB) int64 {
	t.Helper()
	ctx := context.Background()
	if _, err := db.write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	var pages, free, size int64
	if err := db.write.QueryRowContext(ctx, `SELECT (SELECT page_count FROM pragma_page_count), (SELECT freelist_count FROM pragma_freelist_count), (SELECT page_size FROM pragma_page_size)`).Scan(&pages, &free, &size); err != nil {
		t.Fatal(err)
	}
	return (pages - free) * size
}

// channelsFor registers apps applications of u with perApp channels each.
func channelsFor(t testing.TB, db *DB, u *ucwad.User, apps, perApp int) {
	t.Helper()
	for a := range apps {
		for c := range perApp {
			inst := ""
			if c > 0 {
				inst = fmt.Sprint("tab", c)
			}
			if _, _, err := db.CreateApplication(context.Background(), &ucwad.Application{UserID: u.ID, UserAgent: "ua", EndpointID: fmt.Sprint("ep", a), Culture: "en-US"}, inst); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestEventBodyStoredOnce: a change's body is stored once however many
// channels receive it. A 100 KB change to a user with 64 channels grows the
// database by about what it grows for a user with one channel, not 64
// times as much.
func TestEventBodyStoredOnce(t *testing.T) {
	ctx := t.Context()
	db := openClosing(t, filepath.Join(t.TempDir(), "ucwad.db"), Options{PollInterval: -1})
	growth := map[int]int64{}
	for _, channels := range []int{1, 64} {
		u := &ucwad.User{SIP: fmt.Sprintf("user%d@contoso.com", channels), PasswordHash: "x"}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		channelsFor(t, db, u, (channels+15)/16, min(channels, 16))
		before := usedBytes(t, db)
		m := &ucwad.OnlineMeeting{UserID: u.ID, MeetingSettings: ucwad.MeetingSettings{
			Description: strings.Repeat("x", 100_000), ExpirationTime: time.Now().Add(time.Hour)}}
		if err := db.CreateMeeting(ctx, m); err != nil {
			t.Fatal(err)
		}
		growth[channels] = usedBytes(t, db) - before
		var rows int
		if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE user_id = ?`, u.ID).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows != 1 {
			t.Errorf("%d channels: %d event rows, want 1", channels, rows)
		}
	}
	// The meeting row and one body each time (about 200 KB), plus a small
	// row per channel.
	if growth[64] > growth[1]+64*256+16<<10 {
		t.Errorf("a 100 KB change grew the database by %d bytes with 64 channels, %d with one", growth[64], growth[1])
	}
	t.Logf("growth: %d bytes with one channel, %d with 64", growth[1], growth[64])
}

// checkEventAccounting compares what the store keeps about its logs with
// the logs themselves: each user's event bytes and count; and that every
// channel's position is within its user's log.
func checkEventAccounting(t *testing.T, db *DB, step string) {
	t.Helper()
	ctx := context.Background()
	for _, q := range []struct{ what, query string }{
		{"event_bytes", `SELECT COUNT(*) FROM users u WHERE event_bytes <> (SELECT COALESCE(SUM(size), 0) FROM events e WHERE e.user_id = u.id)`},
		{"event_count", `SELECT COUNT(*) FROM users u WHERE event_count <> (SELECT COUNT(*) FROM events e WHERE e.user_id = u.id)`},
		{"batch_end", `SELECT COUNT(*) FROM channels WHERE next_batch > acked_below AND batch_end < cursor`},
		{"cursor", `SELECT COUNT(*) FROM channels WHERE cursor > (SELECT seq FROM sqlite_sequence WHERE name = 'events')`},
		{"refs", `SELECT COUNT(*) FROM event_bodies b WHERE refs <> (SELECT COUNT(*) FROM events e WHERE e.body = b.id)`},
		{"body", `SELECT COUNT(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM event_bodies b WHERE b.id = e.body)`},
	} {
		var n int
		if err := db.read.QueryRowContext(ctx, q.query).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s: %d rows disagree on %s", step, n, q.what)
		}
	}
}

// TestEventAccounting drives every way events come and go and checks the
// counts the bounds rely on after each.
func TestEventAccounting(t *testing.T) {
	ctx := t.Context()
	clk := clock.NewFake(storetest.Start)
	db := openClosing(t, filepath.Join(t.TempDir(), "ucwad.db"), Options{Clock: clk, PollInterval: -1,
		Limits: ucwad.Limits{MaxEventsPerChannel: 5, MaxEventBytesPerUser: 8 << 10, MaxBatchBytes: 2 << 10}})
	var users []*ucwad.User
	for _, name := range []string{"alice", "bob"} {
		u := &ucwad.User{SIP: name + "@contoso.com", PasswordHash: "x"}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		channelsFor(t, db, u, 2, 3)
		users = append(users, u)
	}
	alice := users[0]
	var appID string
	if err := db.read.QueryRowContext(ctx, `SELECT id FROM applications WHERE user_id = ? ORDER BY id LIMIT 1`, alice.ID).Scan(&appID); err != nil {
		t.Fatal(err)
	}
	schedule := func(n, size int) []*ucwad.OnlineMeeting {
		var ms []*ucwad.OnlineMeeting
		for range n {
			m := &ucwad.OnlineMeeting{UserID: alice.ID, MeetingSettings: ucwad.MeetingSettings{
				Description: strings.Repeat("d", size), ExpirationTime: clk.Now().Add(time.Minute)}}
			if err := db.CreateMeeting(ctx, m); err != nil {
				t.Fatal(err)
			}
			ms = append(ms, m)
		}
		return ms
	}
	read := func(inst string, ack int64) {
		if _, err := db.ReadBatch(ctx, appID, inst, ack, true, 0); err != nil {
			t.Fatal(err)
		}
	}
	schedule(3, 100)
	checkEventAccounting(t, db, "three small events")
	read("", 1)
	read("tab1", 1)
	read("", 2)
	checkEventAccounting(t, db, "released and acknowledged")
	schedule(4, 100)
	checkEventAccounting(t, db, "over the count")
	ms := schedule(3, 3000)
	checkEventAccounting(t, db, "over the bytes")
	read("tab2", 1)
	schedule(1, 9000)
	checkEventAccounting(t, db, "one change over the whole bound")
	if err := db.MakeApplicationAvailable(ctx, alice.ID, appID); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteExtension(ctx, alice.ID, ms[0].ID, "none"); ucwad.ErrorCode(err) != ucwad.ENotFound {
		t.Fatal(err)
	}
	if err := db.DeleteApplication(ctx, alice.ID, appID, "tab1"); err != nil {
		t.Fatal(err)
	}
	checkEventAccounting(t, db, "a channel deleted")
	clk.Advance(time.Hour)
	if _, err := db.ExpireMeetings(ctx, clk.Now()); err != nil {
		t.Fatal(err)
	}
	checkEventAccounting(t, db, "meetings expired")
	if _, err := db.ExpireApplications(ctx, clk.Now(), nil); err != nil {
		t.Fatal(err)
	}
	checkEventAccounting(t, db, "applications expired")
	schedule(2, 100) // nobody to tell
	checkEventAccounting(t, db, "no channels")
	var events int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM events`).Scan(&events); err != nil || events != 0 {
		t.Errorf("%d events left without channels (%v)", events, err)
	}
}

// TestMigrationResyncs opens a database at schema version 4 holding
// events, as the previous release left it: the events of the old
// per-channel logs are not carried over, and every channel answers its
// next P-GET with resync, the protocol's "read again"; then the channels
// work, and sequence numbers go on from where they were.
func TestMigrationResyncs(t *testing.T) {
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
	for _, m := range ms[:4] {
		if _, err := old.ExecContext(ctx, m.sql); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
	}
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT`,
		`INSERT INTO schema_migrations VALUES (1, 0), (2, 0), (3, 0), (4, 0)`,
		`INSERT INTO users (id, sip, name, password_hash, created_at) VALUES (1, 'alice@contoso.com', '', 'x', 0)`,
		`INSERT INTO applications VALUES ('app1', 1, 'ua', 'ep', 'en', 'Browser', 0, 0, 0)`,
		`INSERT INTO channels (application_id, instance_id, created_at, queued) VALUES ('app1', '', 0, 2), ('app1', 'tab', 0, 1)`,
		`INSERT INTO events (seq, application_id, instance_id, type, subject, meeting_id, data, created_at) VALUES
			(7, 'app1', '', 'added', 'meeting', 'M1', CAST('{"ID":"M1","ETag":"1"}' AS BLOB), 0),
			(8, 'app1', 'tab', 'added', 'meeting', 'M1', CAST('{"ID":"M1","ETag":"1"}' AS BLOB), 0),
			(9, 'app1', '', 'updated', 'me', '', NULL, 0)`,
		// Later events were acknowledged and deleted: numbering went on to 20.
		`UPDATE sqlite_sequence SET seq = 20 WHERE name = 'events'`,
	} {
		if _, err := old.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	old.Close()

	db := openClosing(t, path, Options{PollInterval: -1})
	checkEventAccounting(t, db, "after the migration")
	for _, inst := range []string{"", "tab"} {
		b, err := db.ReadBatch(ctx, "app1", inst, 1, false, 0)
		if err != nil || b.Resync != 1 {
			t.Fatalf("channel %q after the migration: %+v, %v; want resync to 1", inst, b, err)
		}
		if b, err := db.ReadBatch(ctx, "app1", inst, 1, false, 0); err != nil || !b.Wait {
			t.Fatalf("channel %q after resync: %+v, %v; want to wait", inst, b, err)
		}
	}
	if err := db.MakeApplicationAvailable(ctx, 1, "app1"); err != nil {
		t.Fatal(err)
	}
	b, err := db.ReadBatch(ctx, "app1", "tab", 1, false, 0)
	if err != nil || len(b.Events) != 2 || b.Events[0].Seq <= 20 {
		t.Errorf("new events after the migration: %+v, %v; want two numbered above 20", b, err)
	}
	checkEventAccounting(t, db, "after new events")
}

// TestCheckpointBesideTheWriter: the writer never checkpoints (that would
// hold every user's writes for the copy and its fsyncs; TestPragmas checks
// it is off there); a background checkpoint runs soon after writes.
func TestCheckpointBesideTheWriter(t *testing.T) {
	checkpoints := make(chan struct{}, 16)
	path := filepath.Join(t.TempDir(), "ucwad.db")
	db := openClosing(t, path, Options{PollInterval: -1, checkpointed: func() {
		select {
		case checkpoints <- struct{}{}:
		default:
		}
	}})
	ctx := t.Context()
	for i := range 200 {
		if err := db.CreateUser(ctx, &ucwad.User{SIP: fmt.Sprintf("user%d@contoso.com", i), PasswordHash: strings.Repeat("h", 1000)}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-checkpoints:
	case <-time.After(20 * time.Second): // a watchdog, not a wait
		t.Fatal("no checkpoint after the writes")
	}
}

// TestWALShrinksAfterBurst: after a burst of writes larger than the
// journal size limit, the WAL file is cut back to the limit once it was
// checkpointed whole, instead of keeping its largest size for good.
func TestWALShrinksAfterBurst(t *testing.T) {
	checkpoints := make(chan struct{}, 1)
	path := filepath.Join(t.TempDir(), "ucwad.db")
	db := openClosing(t, path, Options{PollInterval: -1, checkpointed: func() {
		select {
		case checkpoints <- struct{}{}:
		default:
		}
	}})
	ctx := t.Context()
	walSize := func() int64 {
		t.Helper()
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	// Each write is 1 MiB in one transaction. A reader holding its
	// snapshot open keeps every checkpoint from reaching the end of the
	// log, so the burst grows the WAL however fast the background
	// checkpoint runs (a checkpoint never cuts the file, only a restart of
	// the log does); the reader then goes, as a long read would.
	pin, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer pin.Close()
	snapshot, err := pin.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := snapshot.QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&n); err != nil {
		t.Fatal(err)
	}
	for i := range journalSizeLimit>>20 + 8 {
		if err := db.CreateUser(ctx, &ucwad.User{SIP: fmt.Sprintf("user%d@contoso.com", i), PasswordHash: strings.Repeat("h", 1<<20)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := snapshot.Rollback(); err != nil {
		t.Fatal(err)
	}
	grown := walSize()
	if grown <= journalSizeLimit {
		t.Fatalf("the burst grew the WAL to %d bytes only; the test needs more than %d", grown, journalSizeLimit)
	}
	// A write after a complete checkpoint restarts the log, and cuts the
	// file. Each write signals the checkpoint loop; the next write after a
	// checkpoint must find the WAL cut.
	watchdog := time.After(20 * time.Second) // not a wait: a watchdog
	for i := 0; ; i++ {
		if err := db.CreateUser(ctx, &ucwad.User{SIP: fmt.Sprintf("small%d@contoso.com", i)}); err != nil {
			t.Fatal(err)
		}
		if size := walSize(); size <= journalSizeLimit {
			t.Logf("the WAL went from %d to %d bytes", grown, size)
			return
		}
		select {
		case <-checkpoints:
		case <-watchdog:
			t.Fatalf("the WAL is still %d bytes after %d checkpoints", walSize(), i)
		}
	}
}
