package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/clock"
	"github.com/ucwad/ucwad/storetest"
)

// meetingOf makes n users, each with one application, joined to one
// meeting of the first (entering directly) with messaging connected, in
// db; the applications alternate between dbs when several are given.
func meetingOf(t *testing.T, n int, clk clock.Clock, dbs ...*DB) (apps []*ucwad.Application, conv string) {
	t.Helper()
	ctx := t.Context()
	var m *ucwad.OnlineMeeting
	for i := range n {
		db := dbs[i%len(dbs)]
		u := newUser(t, db, fmt.Sprintf("user%d@contoso.com", i))
		app := newApp(t, db, u, "ua")
		apps = append(apps, app)
		if i == 0 {
			m = &ucwad.OnlineMeeting{UserID: u.ID, MeetingSettings: ucwad.MeetingSettings{AccessLevel: "Everyone",
				AutomaticLeaderAssignment: "Disabled", ExpirationTime: clk.Now().Add(time.Hour)}}
			if err := db.CreateMeeting(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		inv, err := db.JoinMeeting(ctx, &ucwad.JoinRequest{ApplicationID: app.ID, MeetingID: m.ID, Importance: "Normal",
			Joiner: ucwad.Joiner{UserID: u.ID, URI: "sip:" + u.SIP, Name: u.SIP}})
		if err != nil {
			t.Fatal(err)
		}
		conv = inv.ConversationID
		if _, err := db.AddMessaging(ctx, app.ID, conv, ""); err != nil {
			t.Fatal(err)
		}
	}
	return apps, conv
}

func count(t *testing.T, db *DB, query string, args ...any) int {
	t.Helper()
	var c int
	if err := db.queryRow(t.Context(), query, args...).Scan(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestMessageStoredOnce: a message to a meeting is one event body, however
// many receive it, referred to by one log entry per receiver and the
// sender; it goes with the last of them.
func TestMessageStoredOnce(t *testing.T) {
	ctx := t.Context()
	clk := clock.NewFake(storetest.Start)
	db := openTest(t, testDSN(t), Options{Clock: clk, PollInterval: -1})
	const n = 5
	apps, conv := meetingOf(t, n, clk, db)
	msg, err := db.SendMessage(ctx, apps[0].ID, conv, "", &ucwad.MessageBody{Format: ucwad.FormatPlain, Text: "once"})
	if err != nil {
		t.Fatal(err)
	}
	if got := count(t, db, `SELECT COUNT(*) FROM event_bodies WHERE subject_kind = 'message'`); got != 1 {
		t.Fatalf("%d bodies for one message", got)
	}
	key := conv + "/" + msg.ID
	if got := count(t, db, `SELECT COUNT(*) FROM events WHERE body = (SELECT id FROM event_bodies WHERE subject_key = ?)`, key); got != n {
		t.Errorf("%d log entries for the message, want %d (the sender and every receiver)", got, n)
	}
	// Everyone reads past it: it goes.
	for _, app := range apps {
		for ack := app.Channel.NextAck; ; ack++ {
			b, err := db.ReadBatch(ctx, app.ID, "", ack, false, 0)
			if err != nil {
				t.Fatal(err)
			}
			if b.Wait {
				break
			}
		}
	}
	if got := count(t, db, `SELECT COUNT(*) FROM event_bodies WHERE subject_kind = 'message'`); got != 0 {
		t.Errorf("%d message bodies left after everyone read them", got)
	}
}

// TestTypingExpiresOnceAcrossNodes: every node ends typing on time, so two
// nodes sweep the same typing at the same moment (more of it than one
// sweep transaction takes); each typing ends exactly once, each listener
// told once, and afterwards neither node has typing left to end.
func TestTypingExpiresOnceAcrossNodes(t *testing.T) {
	ctx := t.Context()
	clk := clock.NewFake(storetest.Start)
	a, b, _, _ := twoNodes(t, Options{Clock: clk})
	const n = sweepChunk + 4
	apps, conv := meetingOf(t, n, clk, a, b)
	for i, app := range apps {
		db := []*DB{a, b}[i%2]
		if _, err := db.SetTyping(ctx, app.ID, conv); err != nil {
			t.Fatal(err)
		}
	}
	typingEvents := `SELECT COUNT(*) FROM events e JOIN event_bodies b ON b.id = e.body
		WHERE b.subject_kind = 'typingParticipant' AND b.type = ?`
	if got := count(t, a, typingEvents, string(ucwad.EventAdded)); got != n*(n-1) {
		t.Fatalf("%d typing added events; want %d (each of %d tells the %d others)", got, n*(n-1), n, n-1)
	}
	clk.Advance(a.joining.TypingTimeout)
	var wg sync.WaitGroup
	var errs [2]error
	var next [2]time.Time
	for i, db := range []*DB{a, b} {
		wg.Go(func() { next[i], errs[i] = db.ExpireTyping(context.Background()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: ExpireTyping: %v", i, err)
		}
		if !next[i].IsZero() {
			t.Errorf("node %d: ExpireTyping says the next typing ends at %v; want none left", i, next[i])
		}
	}
	if got := count(t, a, typingEvents, string(ucwad.EventDeleted)); got != n*(n-1) {
		t.Errorf("%d typing deleted events; want %d, each typing ended once for each listener", got, n*(n-1))
	}
	if got := count(t, a, `SELECT COUNT(*) FROM messaging WHERE typing_until > 0`); got != 0 {
		t.Errorf("%d participants still typing", got)
	}
}
