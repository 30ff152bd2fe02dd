package sqlite

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
)

// TestMigrationCountsScheduledMeetings upgrades a database whose user has
// three scheduled meetings and an assigned one to the counted limit
// (migration 0015): the count starts at three, so with a limit of four one
// more meeting is scheduled and the next is refused.
func TestMigrationCountsScheduledMeetings(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "ucwad.db")
	qs := []string{
		`INSERT INTO users (id, sip, name, password_hash, created_at) VALUES (1, 'alice@contoso.com', '', 'x', 0), (2, 'bob@contoso.com', '', 'x', 0)`,
	}
	for i, rel := range []string{"myOnlineMeetings", "myOnlineMeetings", "myAssignedOnlineMeeting", "myOnlineMeetings"} {
		qs = append(qs, fmt.Sprintf(`INSERT INTO meetings (id, user_id, rel, conference_id, subject, description, access_level,
			automatic_leader_assignment, entry_exit_announcement, lobby_bypass_for_phone_users, phone_user_admission,
			attendees, leaders, expiration_time, etag, created_at, updated_at)
			VALUES ('M%d', 1, '%s', '%d', '', '', 'Everyone', 'Disabled', 'Disabled', 'Disabled', 'Disabled', '[]', '[]', %d, 'e', 0, 0)`,
			i, rel, 1000+i, time.Now().Add(time.Hour).UnixMilli()))
	}
	oldDatabase(t, path, 15, qs...)

	db := openClosing(t, path, Options{PollInterval: -1, Limits: ucwad.Limits{MaxMeetingsPerUser: 4}})
	settings := ucwad.MeetingSettings{Subject: "s", AccessLevel: "Everyone", ExpirationTime: time.Now().Add(time.Hour)}
	if err := db.CreateMeeting(ctx, &ucwad.OnlineMeeting{UserID: 1, MeetingSettings: settings}); err != nil {
		t.Fatalf("the fourth scheduled meeting: %v", err)
	}
	err := db.CreateMeeting(ctx, &ucwad.OnlineMeeting{UserID: 1, MeetingSettings: settings})
	if ucwad.ErrorCode(err) != ucwad.EConflict {
		t.Errorf("the fifth scheduled meeting: %v, want EConflict", err)
	}
	for i := range 4 {
		if err := db.CreateMeeting(ctx, &ucwad.OnlineMeeting{UserID: 2, MeetingSettings: settings}); err != nil {
			t.Fatalf("bob's meeting %d: %v", i+1, err)
		}
	}
}

// oldDatabase creates the database at path as a release that knew only the
// migrations before version below left it: those applied and recorded,
// then the statements qs run (the rows that release had written). The
// database is closed, ready for Open to migrate it the rest of the way.
func oldDatabase(t *testing.T, path string, below int, qs ...string) {
	t.Helper()
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	old, err := sql.Open("sqlite", dsn(path, "NORMAL", true))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	var versions []string
	for _, m := range ms {
		if m.version >= below {
			break
		}
		if _, err := old.ExecContext(t.Context(), m.sql); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		versions = append(versions, fmt.Sprintf("(%d, 0)", m.version))
	}
	qs = append([]string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT`,
		`INSERT INTO schema_migrations VALUES ` + strings.Join(versions, ", "),
	}, qs...)
	for _, q := range qs {
		if _, err := old.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}
