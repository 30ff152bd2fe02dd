package sqlite

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/clock"
	"github.com/ucwad/ucwad/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, cfg storetest.Config) ucwad.Store {
		return openTest(t, filepath.Join(t.TempDir(), "ucwad.db"), suiteOptions(cfg))
	})
}

func TestStoreMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T, cfg storetest.Config) ucwad.Store {
		return openTest(t, ":memory:", suiteOptions(cfg))
	})
}

// suiteOptions opens the store as the shared suite asks. The cross-process
// poll is off: the suite drives its fake clock and counts notifications.
func suiteOptions(cfg storetest.Config) Options {
	return Options{Clock: cfg.Clock, Notifier: cfg.Notifier, Limits: cfg.Limits, PollInterval: -1}
}

// openTest opens path and fails the test on error; the caller closes it.
func openTest(t testing.TB, path string, opts Options) *DB {
	t.Helper()
	db, err := Open(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	return db
}

// openClosing is openTest with Close registered as cleanup.
func openClosing(t testing.TB, path string, opts Options) *DB {
	t.Helper()
	db := openTest(t, path, opts)
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestOpenOptions(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		path string
		opts Options
		ok   bool
	}{
		{"defaults", filepath.Join(dir, "a.db"), Options{}, true},
		{"sync full", filepath.Join(dir, "b.db"), Options{Sync: "full"}, true},
		{"sync FULL", filepath.Join(dir, "c.db"), Options{Sync: "FULL"}, true},
		{"odd path", filepath.Join(dir, "d?x=1#%20.db"), Options{}, true},
		{"unknown sync", filepath.Join(dir, "e.db"), Options{Sync: "off"}, false},
		{"negative limit", filepath.Join(dir, "f.db"), Options{Limits: ucwad.Limits{MaxApplicationsPerUser: -1}}, false},
		{"empty path", "", Options{}, false},
		{"missing directory", filepath.Join(dir, "no", "such", "g.db"), Options{}, false},
	}
	for _, tt := range tests {
		db, err := Open(t.Context(), tt.path, tt.opts)
		if (err == nil) != tt.ok {
			t.Errorf("Open(%s): got error %v, want ok %v", tt.name, err, tt.ok)
		}
		if err == nil {
			db.Close()
			if _, err := os.Stat(tt.path); err != nil {
				t.Errorf("Open(%s) did not create its file: %v", tt.name, err)
			}
		}
	}
}

// pragma reads the value of a pragma through one connection of pool.
func pragma(t *testing.T, pool *sql.DB, name string) string {
	t.Helper()
	var v string
	if err := pool.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

func TestPragmas(t *testing.T) {
	tests := []struct {
		sync string
		want map[string]string
	}{
		// synchronous: 1 is NORMAL, 2 is FULL.
		{"", map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "1", "busy_timeout": "5000", "journal_size_limit": "16777216"}},
		{"full", map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "2", "busy_timeout": "5000", "journal_size_limit": "16777216"}},
	}
	for _, tt := range tests {
		db := openClosing(t, filepath.Join(t.TempDir(), "ucwad.db"), Options{Sync: tt.sync})
		for poolName, pool := range map[string]*sql.DB{"writer": db.write, "reader": db.read} {
			// Hold every connection of the pool at once so each is checked,
			// not just the first one handed out.
			var conns []*sql.Conn
			for range pool.Stats().MaxOpenConnections {
				c, err := pool.Conn(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				conns = append(conns, c)
			}
			for i, c := range conns {
				for name, want := range tt.want {
					var got string
					if err := c.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&got); err != nil {
						t.Fatal(err)
					}
					if got != want {
						t.Errorf("sync %q, %s connection %d: PRAGMA %s = %s, want %s", tt.sync, poolName, i, name, got, want)
					}
				}
			}
			for _, c := range conns {
				c.Close()
			}
		}
		if got := pragma(t, db.read, "query_only"); got != "1" {
			t.Errorf("reader: PRAGMA query_only = %s, want 1", got)
		}
		if got := pragma(t, db.write, "query_only"); got != "0" {
			t.Errorf("writer: PRAGMA query_only = %s, want 0", got)
		}
		if got := pragma(t, db.write, "wal_autocheckpoint"); got != "0" {
			t.Errorf("writer: PRAGMA wal_autocheckpoint = %s, want 0 (checkpoints run beside it)", got)
		}
		if _, err := db.read.ExecContext(t.Context(), `DELETE FROM users`); err == nil {
			t.Error("a write through the read pool succeeded")
		}
	}
}

func TestMigrationsNumbered(t *testing.T) {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatal("no migrations embedded")
	}
	for i, m := range ms {
		if i == 0 && m.version != 1 || i > 0 && m.version <= ms[i-1].version {
			t.Errorf("migration %s has version %d after %d", m.name, m.version, ms[max(i-1, 0)].version)
		}
	}
}

// TestMigrationNumbering: numbers start at 1 and only increase; gaps are
// allowed (numbers reserved by work not merged yet), a number taken twice
// or out of shape is refused.
func TestMigrationNumbering(t *testing.T) {
	for _, tc := range []struct {
		files []string
		want  []int // nil: refused
	}{
		{[]string{"0001_a.sql", "0002_b.sql"}, []int{1, 2}},
		{[]string{"0001_a.sql", "0009_b.sql"}, []int{1, 9}},
		{[]string{"0002_a.sql"}, nil},
		{[]string{"0001_a.sql", "0002_b.sql", "0002_c.sql"}, nil},
		{[]string{"0001_a.sql", "2_b.sql"}, nil},
		{[]string{"0001_a.sql", "0002.sql"}, nil},
	} {
		fsys := fstest.MapFS{}
		for _, f := range tc.files {
			fsys["migrations/"+f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
		}
		ms, err := readMigrations(fsys)
		if tc.want == nil {
			if err == nil {
				t.Errorf("%v: accepted", tc.files)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.files, err)
			continue
		}
		var got []int
		for _, m := range ms {
			got = append(got, m.version)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%v: versions %v, want %v", tc.files, got, tc.want)
		}
	}
}

// TestMigrationFillsGap: a database that applied migrations around a gap
// gets the migration that fills it when a binary that has it opens the
// database, and keeps the others as they were.
func TestMigrationFillsGap(t *testing.T) {
	ctx := t.Context()
	db, err := sql.Open("sqlite", dsn(filepath.Join(t.TempDir(), "gap.db"), "NORMAL", true))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms := []migration{
		{1, "0001_a.sql", "CREATE TABLE a (x INTEGER);"},
		{2, "0002_b.sql", "CREATE TABLE b (x INTEGER);"},
		{5, "0005_c.sql", "CREATE TABLE c (x INTEGER);"},
	}
	if err := applyMigrations(ctx, db, time.UnixMilli(1), []migration{ms[0], ms[2]}); err != nil {
		t.Fatal(err)
	}
	if err := applyMigrations(ctx, db, time.UnixMilli(2), ms); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, `SELECT version, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got [][2]int64
	for rows.Next() {
		var v [2]int64
		if err := rows.Scan(&v[0], &v[1]); err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if want := [][2]int64{{1, 1}, {2, 2}, {5, 1}}; !slices.Equal(got, want) {
		t.Errorf("versions applied (version, at) %v, want %v", got, want)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO b VALUES (1)`); err != nil {
		t.Errorf("the table of the migration that filled the gap: %v", err)
	}
	// A binary without version 5 refuses the database.
	if err := applyMigrations(ctx, db, time.UnixMilli(3), ms[:2]); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("opening with fewer migrations: %v, want a refusal naming a newer schema", err)
	}
}

func schemaVersions(t *testing.T, db *DB) map[int]int64 {
	t.Helper()
	rows, err := db.read.QueryContext(t.Context(), `SELECT version, applied_at FROM schema_migrations`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[int]int64{}
	for rows.Next() {
		var v int
		var at int64
		if err := rows.Scan(&v, &at); err != nil {
			t.Fatal(err)
		}
		got[v] = at
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestMigrationsAppliedOnce(t *testing.T) {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ucwad.db")
	clk := clock.NewFake(storetest.Start)
	db := openTest(t, path, Options{Clock: clk})
	first := schemaVersions(t, db)
	if len(first) != len(ms) {
		t.Fatalf("after the first Open: %d versions recorded, want %d", len(first), len(ms))
	}
	for v, at := range first {
		if at != storetest.Start.UnixMilli() {
			t.Errorf("version %d applied at %d, want %d", v, at, storetest.Start.UnixMilli())
		}
	}
	u := &ucwad.User{SIP: "alice@contoso.com"}
	if err := db.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	db.Close()

	clk.Advance(time.Hour)
	db = openClosing(t, path, Options{Clock: clk})
	again := schemaVersions(t, db)
	if len(again) != len(first) {
		t.Errorf("after re-opening: %d versions recorded, want %d", len(again), len(first))
	}
	for v, at := range first {
		if again[v] != at {
			t.Errorf("re-opening re-applied version %d (applied at %d, was %d)", v, again[v], at)
		}
	}
	if _, err := db.FindUserByID(t.Context(), u.ID); err != nil {
		t.Errorf("a user after re-opening: %v", err)
	}
}

// TestConcurrentOpen opens one new file from several DBs at once, as
// several server processes starting together would: the losers of the race
// to migrate must wait for the lock, then find nothing left to do.
func TestConcurrentOpen(t *testing.T) {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ucwad.db")
	dbs := make([]*DB, 4)
	errs := make([]error, len(dbs))
	var wg sync.WaitGroup
	for i := range dbs {
		wg.Go(func() { dbs[i], errs[i] = Open(t.Context(), path, Options{}) })
	}
	wg.Wait()
	for i, db := range dbs {
		if errs[i] != nil {
			t.Errorf("Open %d: %v", i, errs[i])
			continue
		}
		if got := len(schemaVersions(t, db)); got != len(ms) {
			t.Errorf("Open %d: %d versions recorded, want %d", i, got, len(ms))
		}
		db.Close()
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ucwad.db")
	db := openTest(t, path, Options{})
	if _, err := db.write.ExecContext(t.Context(), `INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err := Open(t.Context(), path, Options{})
	if err == nil {
		db.Close()
		t.Fatal("Open of a database with a newer schema succeeded")
	}
	for _, want := range []string{"999", "newer"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open error %q does not mention %q", err, want)
		}
	}
}

func TestSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ucwad.db")
	clk := clock.NewFake(storetest.Start)
	db := openTest(t, path, Options{Clock: clk})
	ctx := t.Context()
	u := &ucwad.User{SIP: "alice@contoso.com", Name: "Alice", PasswordHash: "h"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	tok := &ucwad.Token{Hash: []byte("tok"), UserID: u.ID, CreatedAt: clk.Now(), ExpiresAt: clk.Now().Add(time.Hour)}
	if err := db.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	app, _, err := db.CreateApplication(ctx, &ucwad.Application{UserID: u.ID, UserAgent: "ua", EndpointID: "ep", Culture: "en-US"}, "tab")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openClosing(t, path, Options{Clock: clk})
	gotTok, gotUser, err := db.FindToken(ctx, tok.Hash)
	if err != nil {
		t.Fatalf("FindToken after re-opening: %v", err)
	}
	if gotUser.SIP != u.SIP || !gotTok.ExpiresAt.Equal(tok.ExpiresAt) {
		t.Errorf("after re-opening: got token %+v of %+v", *gotTok, *gotUser)
	}
	if got, err := db.FindApplication(ctx, u.ID, app.ID, "tab"); err != nil || got.ID != app.ID {
		t.Errorf("FindApplication after re-opening: got %v, %v", got, err)
	}
}

// TestNoOrphans checks that deletes leave no rows behind that the store's
// methods could not show anyway.
func TestNoOrphans(t *testing.T) {
	clk := clock.NewFake(storetest.Start)
	db := openClosing(t, filepath.Join(t.TempDir(), "ucwad.db"), Options{Clock: clk})
	ctx := t.Context()
	count := func(table string) int {
		t.Helper()
		var n int
		if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	u := &ucwad.User{SIP: "alice@contoso.com"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	tok := &ucwad.Token{Hash: []byte("t"), UserID: u.ID, ExpiresAt: clk.Now().Add(time.Hour)}
	if err := db.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	var appID string
	for _, inst := range []string{"", "a", "b"} {
		app, _, err := db.CreateApplication(ctx, &ucwad.Application{UserID: u.ID, EndpointID: "ep"}, inst)
		if err != nil {
			t.Fatal(err)
		}
		appID = app.ID
	}
	if _, _, err := db.CreateApplication(ctx, &ucwad.Application{UserID: u.ID, EndpointID: "other"}, ""); err != nil {
		t.Fatal(err)
	}
	if got := count("channels"); got != 4 {
		t.Fatalf("%d channels, want 4", got)
	}
	if err := db.CreateMeeting(ctx, &ucwad.OnlineMeeting{UserID: u.ID, MeetingSettings: ucwad.MeetingSettings{ExpirationTime: clk.Now().Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if got := [2]int{count("events"), count("event_bodies")}; got != [2]int{1, 1} {
		t.Fatalf("(entries, bodies) = %v after one change, want one of each", got)
	}
	for _, inst := range []string{"a", "b", ""} {
		if err := db.DeleteApplication(ctx, u.ID, appID, inst); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := [2]int{count("applications"), count("channels")}, [2]int{1, 1}; got != want {
		t.Errorf("after deleting every channel of one application: (applications, channels) = %v, want %v", got, want)
	}
	if _, err := db.ClaimSignIn(ctx, ucwad.SignInAccount{UserID: u.ID}, ucwad.SignInPolicy{}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"users", "tokens", "applications", "channels", "events", "event_bodies", "meetings", "signin_users"} {
		if got := count(table); got != 0 {
			t.Errorf("after DeleteUser: %d rows in %s, want 0", got, table)
		}
	}
	rows, err := db.read.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Error("PRAGMA foreign_key_check reports violations")
	}
}

// TestMillisecondPrecision checks that times are kept to the millisecond and
// that what Create* hands back equals what a later read returns.
func TestMillisecondPrecision(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 14, 15, 9, 26, 535_897_932, time.FixedZone("X", 3600)))
	want := time.Date(2026, 3, 14, 14, 9, 26, 535_000_000, time.UTC)
	db := openClosing(t, filepath.Join(t.TempDir(), "ucwad.db"), Options{Clock: clk})
	ctx := t.Context()
	u := &ucwad.User{SIP: "alice@contoso.com"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindUserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for name, tm := range map[string]time.Time{"CreateUser": u.CreatedAt, "FindUserByID": got.CreatedAt} {
		if tm != want { // == also checks the location is UTC
			t.Errorf("%s: got CreatedAt %v, want %v", name, tm, want)
		}
	}
	app, _, err := db.CreateApplication(ctx, &ucwad.Application{UserID: u.ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	if app.CreatedAt != want || app.LastActiveAt != want || app.Channel.CreatedAt != want {
		t.Errorf("CreateApplication: got times %v, %v, %v; want %v", app.CreatedAt, app.LastActiveAt, app.Channel.CreatedAt, want)
	}
}

func TestCreateTokenErrors(t *testing.T) {
	clk := clock.NewFake(storetest.Start)
	db := openClosing(t, ":memory:", Options{Clock: clk})
	ctx := t.Context()
	u := &ucwad.User{SIP: "alice@contoso.com"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	exp := clk.Now().Add(time.Hour)
	tests := []struct {
		name string
		tok  ucwad.Token
		code ucwad.Code
	}{
		{"unknown user", ucwad.Token{Hash: []byte("x"), UserID: u.ID + 1, ExpiresAt: exp}, ucwad.ENotFound},
		{"no hash", ucwad.Token{UserID: u.ID, ExpiresAt: exp}, ucwad.EServiceFailure},
		{"no expiry", ucwad.Token{Hash: []byte("y"), UserID: u.ID}, ucwad.EServiceFailure},
		{"ok", ucwad.Token{Hash: []byte("dup"), UserID: u.ID, ExpiresAt: exp}, ""},
		{"duplicate hash", ucwad.Token{Hash: []byte("dup"), UserID: u.ID, ExpiresAt: exp}, ucwad.EConflict},
	}
	for _, tt := range tests {
		err := db.CreateToken(ctx, &tt.tok)
		if got := ucwad.ErrorCode(err); got != tt.code {
			t.Errorf("CreateToken(%s): got %v (code %q), want code %q", tt.name, err, got, tt.code)
		}
	}
	// A zero CreatedAt means now.
	tok := &ucwad.Token{Hash: []byte("now"), UserID: u.ID, ExpiresAt: exp}
	if err := db.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if !tok.CreatedAt.Equal(clk.Now()) {
		t.Errorf("CreateToken with zero CreatedAt: got %v, want %v", tok.CreatedAt, clk.Now())
	}
}

func TestCreateApplicationUnknownUser(t *testing.T) {
	db := openClosing(t, ":memory:", Options{})
	_, _, err := db.CreateApplication(t.Context(), &ucwad.Application{UserID: 42}, "")
	if got := ucwad.ErrorCode(err); got != ucwad.ENotFound {
		t.Errorf("CreateApplication for an unknown user: got %v, want code %q", err, ucwad.ENotFound)
	}
}

func TestMaxApplicationsOption(t *testing.T) {
	db := openClosing(t, ":memory:", Options{Limits: ucwad.Limits{MaxApplicationsPerUser: 2}})
	ctx := t.Context()
	u := &ucwad.User{SIP: "alice@contoso.com"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	for i, want := range []ucwad.Code{"", "", ucwad.EGone} {
		_, _, err := db.CreateApplication(ctx, &ucwad.Application{UserID: u.ID, EndpointID: string(rune('a' + i))}, "")
		if got := ucwad.ErrorCode(err); got != want {
			t.Errorf("application %d: got %v, want code %q", i+1, err, want)
		}
	}
}

// helperEnv names the database a re-executed test binary is to write to; see
// TestHelperProcess.
const helperEnv = "UCWAD_SQLITE_HELPER_DB"

// TestHelperProcess is not a test: TestKill9 runs the test binary again with
// only this function selected and helperEnv set. It commits one user, says
// so, and waits to be killed.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("runs only as TestKill9's child process")
	}
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(context.Background(), &ucwad.User{SIP: "survivor@contoso.com"}); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("committed\n")
	// Block until killed; if the parent dies instead, stdin reaches EOF and
	// the child exits rather than lingering.
	bufio.NewReader(os.Stdin).ReadByte()
	os.Exit(1)
}

// TestKill9 shows that with the default Sync a committed transaction
// survives the process being killed without any chance to clean up.
func TestKill9(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ucwad.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if line != "committed\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child said %q, %v; want \"committed\"", line, err)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
		t.Fatal(err)
	}
	cmd.Wait()
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Logf("no WAL file left behind: %v", err)
	}

	db := openClosing(t, path, Options{})
	if _, err := db.FindUserBySIP(t.Context(), "survivor@contoso.com"); err != nil {
		t.Errorf("the committed user after kill -9: %v", err)
	}
}

// TestWriteStatementsArePrepared: a write statement runs unprepared the
// first time and is prepared for the transactions after it.
func TestWriteStatementsArePrepared(t *testing.T) {
	ctx := t.Context()
	db := openTest(t, filepath.Join(t.TempDir(), "ucwad.db"), Options{PollInterval: -1})
	defer db.Close()
	if n := db.writeStmtCount.Load(); n != 0 {
		t.Fatalf("%d statements prepared before any write", n)
	}
	for i := range 3 {
		u := &ucwad.User{SIP: fmt.Sprintf("user%d@contoso.com", i), PasswordHash: "x"}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if n := db.writeStmtCount.Load(); n == 0 {
			t.Fatalf("after write %d nothing is prepared", i+1)
		}
	}
	n := db.writeStmtCount.Load()
	if _, err := db.FindUserBySIP(ctx, "user2@contoso.com"); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, &ucwad.User{SIP: "user9@contoso.com", PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	if got := db.writeStmtCount.Load(); got != n {
		t.Fatalf("a repeated write prepared %d more statements", got-n)
	}
}
