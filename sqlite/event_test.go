package sqlite

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/clock"
	"github.com/ucwad/ucwad/storetest"
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
		b, err := db.ReadBatch(ctx, apps[name].ID, "", 1, false, 0)
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
		if _, err := db.ReadBatch(ctx, apps[name].ID, "", 2, false, 0); err != nil {
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
	oldDatabase(t, path, 7,
		`INSERT INTO users (id, sip, name, password_hash, created_at, event_bytes, event_count) VALUES (1, 'alice@contoso.com', '', 'x', 0, 300, 3)`,
		`INSERT INTO applications VALUES ('app1', 1, 'ua', 'ep', 'en', 'Browser', 0, 0, 0)`,
		`INSERT INTO channels (application_id, instance_id, created_at, cursor) VALUES ('app1', '', 0, 6), ('app1', 'tab', 0, 6)`,
		`INSERT INTO events (seq, user_id, application_id, size, type, subject, meeting_id, extension_id, created_at, data) VALUES
			(7, 1, NULL, 100, 'added', 'meeting', 'M1', '', 0, CAST('{"ID":"M1"}' AS BLOB)),
			(8, 1, NULL, 100, 'updated', 'extension', 'M1', 'x/1', 0, CAST('{"ID":"x/1"}' AS BLOB)),
			(9, 1, 'app1', 100, 'updated', 'me', '', '', 0, NULL)`,
		`UPDATE sqlite_sequence SET seq = 20 WHERE name = 'events'`,
	)

	db := openClosing(t, path, Options{PollInterval: -1})
	checkEventAccounting(t, db, "after the migration")
	want := []ucwad.Event{
		{Seq: 7, Type: ucwad.EventAdded, Subject: ucwad.MeetingSubject("M1"), Data: []byte(`{"ID":"M1"}`)},
		{Seq: 8, Type: ucwad.EventUpdated, Subject: ucwad.ExtensionSubject("M1", "x/1"), Data: []byte(`{"ID":"x/1"}`)},
		{Seq: 9, Type: ucwad.EventUpdated, Subject: ucwad.Subject{Kind: ucwad.SubjectMe}},
	}
	for _, inst := range []string{"", "tab"} {
		b, err := db.ReadBatch(ctx, "app1", inst, 1, false, 0)
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
	b, err := db.ReadBatch(ctx, "app1", "tab", 2, false, 0)
	if err != nil || len(b.Events) != 2 || b.Events[0].Seq <= 20 {
		t.Errorf("new events after the migration: %+v, %v; want two numbered above 20", b, err)
	}
	checkEventAccounting(t, db, "after new events")
}

// TestReadBatchWritesOnlyWhenItMust counts the write transactions of the
// reads a P-GET makes: none to wait on a channel this process holds,
// however often it is woken, none to start again where nothing changed,
// one to take a channel, to acknowledge, to freeze a batch or to record
// stale activity at a start.
func TestReadBatchWritesOnlyWhenItMust(t *testing.T) {
	ctx := t.Context()
	clk := clock.NewFake(storetest.Start)
	db := openClosing(t, filepath.Join(t.TempDir(), "ucwad.db"), Options{Clock: clk, PollInterval: -1})
	u := &ucwad.User{SIP: "alice@contoso.com", PasswordHash: "x"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	app, _, err := db.CreateApplication(ctx, &ucwad.Application{UserID: u.ID, UserAgent: "ua", EndpointID: "ep", Culture: "en-US"}, "")
	if err != nil {
		t.Fatal(err)
	}
	var hold int64
	read := func(what string, ack int64, release bool, h int64, writes int64) *ucwad.Batch {
		t.Helper()
		before := db.WriteTransactions()
		b, err := db.ReadBatch(ctx, app.ID, "", ack, release, h)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := db.WriteTransactions() - before; got != writes {
			t.Errorf("%s: %d write transactions, want %d", what, got, writes)
		}
		return b
	}
	b := read("the first P-GET takes the channel", 1, false, 0, 1)
	if hold = b.Hold; !b.Wait || hold == 0 {
		t.Fatalf("first P-GET: %+v", b)
	}
	for range 3 {
		read("the held P-GET woken for nothing", 1, false, hold, 0)
	}
	read("a new P-GET where nothing changed", 1, false, 0, 0)
	clk.Advance(ucwad.ActivityInterval)
	read("the held P-GET woken after the activity interval", 1, false, hold, 0)
	read("a new P-GET after the activity interval", 1, false, 0, 1)
	if got, err := db.FindApplication(ctx, u.ID, app.ID, ""); err != nil || !got.LastActiveAt.Equal(clk.Now()) {
		t.Errorf("activity %v after a new P-GET (%v), want %v", got.LastActiveAt, err, clk.Now())
	}
	read("a new P-GET within the activity interval", 1, false, 0, 0)

	if err := db.MakeApplicationAvailable(ctx, u.ID, app.ID); err != nil {
		t.Fatal(err)
	}
	if b := read("events for the held P-GET freeze batch 1", 1, false, hold, 1); len(b.Events) != 2 {
		t.Fatalf("batch 1: %+v", b)
	}
	read("batch 1 again", 1, false, 0, 0)
	read("a stale ack", 7, false, 0, 0)
	if b := read("acknowledging batch 1", 2, false, 0, 1); !b.Wait || b.Hold != hold {
		t.Fatalf("after acknowledging: %+v, want to wait with hold %d", b, hold)
	}
	read("the timeout freezes an empty batch", 2, true, hold, 1)
	read("the empty batch again", 2, false, 0, 0)
}

// recorder is a Notifier that keeps what it is told.
type recorder struct {
	mu   sync.Mutex
	apps []string
}

func (r *recorder) Notify(appIDs []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.apps = append(r.apps, appIDs...)
}

// take returns what was notified since the last take.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.apps
	r.apps = nil
	return out
}

// TestChannelTakenAcrossProcesses: two stores on one file, as two server
// processes. A P-GET starting in the second takes the channel from the
// first, whose poll then wakes its P-GET there, which reads that it was
// replaced. Each poll skips its own process's commits: an event wakes the
// P-GETs of its own process once, at commit, and the other's at its poll.
func TestChannelTakenAcrossProcesses(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "ucwad.db")
	clk := clock.NewFake(storetest.Start)
	var dbs [2]*DB
	var notes [2]*recorder
	for i := range dbs {
		notes[i] = &recorder{}
		// The test polls by hand: no background poll.
		dbs[i] = openClosing(t, path, Options{Clock: clk, Notifier: notes[i], PollInterval: -1})
	}
	poll := func(i int) []string {
		t.Helper()
		if err := dbs[i].poll(ctx); err != nil {
			t.Fatal(err)
		}
		return notes[i].take()
	}
	u := &ucwad.User{SIP: "alice@contoso.com", PasswordHash: "x"}
	if err := dbs[0].CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	app, _, err := dbs[0].CreateApplication(ctx, &ucwad.Application{UserID: u.ID, UserAgent: "ua", EndpointID: "ep", Culture: "en-US"}, "")
	if err != nil {
		t.Fatal(err)
	}
	first, err := dbs[0].ReadBatch(ctx, app.ID, "", 1, false, 0)
	if err != nil || !first.Wait {
		t.Fatalf("P-GET in the first process: %+v, %v", first, err)
	}
	if got := poll(0); len(got) != 0 {
		t.Errorf("the first process's poll after its own take notified %v", got)
	}
	second, err := dbs[1].ReadBatch(ctx, app.ID, "", 1, false, 0)
	if err != nil || !second.Wait || second.Hold <= first.Hold {
		t.Fatalf("P-GET in the second process: %+v, %v; want to wait with a newer hold than %d", second, err, first.Hold)
	}
	if got := poll(1); len(got) != 0 {
		t.Errorf("the second process's poll after its own take notified %v", got)
	}
	if got := poll(0); !slices.Equal(got, []string{app.ID}) {
		t.Fatalf("the first process's poll after the take notified %v, want %v", got, []string{app.ID})
	}
	before := dbs[0].WriteTransactions()
	if b, err := dbs[0].ReadBatch(ctx, app.ID, "", 1, false, first.Hold); err != nil || !b.Replaced {
		t.Fatalf("the first P-GET woken: %+v, %v; want Replaced", b, err)
	}
	if n := dbs[0].WriteTransactions() - before; n != 0 {
		t.Errorf("reading that the P-GET was replaced took %d write transactions", n)
	}
	if b, err := dbs[1].ReadBatch(ctx, app.ID, "", 1, false, second.Hold); err != nil || !b.Wait {
		t.Fatalf("the second P-GET woken: %+v, %v; want to wait", b, err)
	}
	if got := poll(0); len(got) != 0 {
		t.Errorf("the first process's poll, nothing new: notified %v", got)
	}

	if err := dbs[0].MakeApplicationAvailable(ctx, u.ID, app.ID); err != nil {
		t.Fatal(err)
	}
	if got := notes[0].take(); !slices.Equal(got, []string{app.ID}) {
		t.Errorf("at commit the first process notified %v, want %v", got, []string{app.ID})
	}
	if got := poll(0); len(got) != 0 {
		t.Errorf("the first process's poll after its own events notified %v", got)
	}
	if got := poll(1); !slices.Equal(got, []string{app.ID}) {
		t.Errorf("the second process's poll after the first's events notified %v, want %v", got, []string{app.ID})
	}
	if got := poll(1); len(got) != 0 {
		t.Errorf("polling again notified %v", got)
	}
}

// TestPollFailureLogged: a poll for other processes' changes that fails is
// logged (nobody else would hear of it), and the next poll finds what the
// failed one missed.
func TestPollFailureLogged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ucwad.db")
	clk := clock.NewFake(storetest.Start)
	var logs bytes.Buffer
	notes := &recorder{}
	db := openClosing(t, path, Options{Clock: clk, Notifier: notes, PollInterval: -1,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	other := openClosing(t, path, Options{Clock: clk, PollInterval: -1})
	ctx := t.Context()
	u := &ucwad.User{SIP: "alice@contoso.com", PasswordHash: "x"}
	if err := other.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	app, _, err := other.CreateApplication(ctx, &ucwad.Application{UserID: u.ID, UserAgent: "ua", EndpointID: "ep", Culture: "en-US"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.MakeApplicationAvailable(ctx, u.ID, app.ID); err != nil {
		t.Fatal(err)
	}

	failing, cancel := context.WithCancel(ctx)
	cancel()
	db.pollOnce(failing)
	var rec struct{ Level, Msg, Err string }
	if err := json.Unmarshal(logs.Bytes(), &rec); err != nil || rec.Level != "ERROR" || rec.Msg != "event poll failed" || !strings.Contains(rec.Err, "canceled") {
		t.Fatalf("log after a failed poll: %q (%v), want the error", logs.String(), err)
	}
	if got := notes.take(); len(got) != 0 {
		t.Fatalf("a failed poll notified %v", got)
	}
	db.pollOnce(ctx)
	if got := notes.take(); !slices.Equal(got, []string{app.ID}) {
		t.Errorf("the next poll notified %v, want %v", got, []string{app.ID})
	}
}
