package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/clock"
	"github.com/ucwad/ucwad/storetest"
)

// TestMessageStoredOnce: a message to a meeting is one event body, however
// many receive it, referred to by one log entry per receiver and the
// sender; it goes with the last of them.
func TestMessageStoredOnce(t *testing.T) {
	ctx := t.Context()
	clk := clock.NewFake(storetest.Start)
	db := openClosing(t, filepath.Join(t.TempDir(), "ucwad.db"), Options{Clock: clk, PollInterval: -1})
	const n = 5
	var apps []*ucwad.Application
	var conv string
	m := &ucwad.OnlineMeeting{}
	for i := range n {
		u := &ucwad.User{SIP: fmt.Sprintf("user%d@contoso.com", i)}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		app, _, err := db.CreateApplication(ctx, &ucwad.Application{UserID: u.ID, UserAgent: "ua", EndpointID: "ep", Culture: "en-US"}, "")
		if err != nil {
			t.Fatal(err)
		}
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
	msg, err := db.SendMessage(ctx, apps[0].ID, conv, "", &ucwad.MessageBody{Format: ucwad.FormatPlain, Text: "once"})
	if err != nil {
		t.Fatal(err)
	}
	count := func(query string, args ...any) int {
		t.Helper()
		var c int
		if err := db.queryRow(ctx, query, args...).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if got := count(`SELECT COUNT(*) FROM event_bodies WHERE subject_kind = 'message'`); got != 1 {
		t.Fatalf("%d bodies for one message", got)
	}
	key := conv + "/" + msg.ID
	if got := count(`SELECT COUNT(*) FROM events WHERE body = (SELECT id FROM event_bodies WHERE subject_key = ?)`, key); got != n {
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
	if got := count(`SELECT COUNT(*) FROM event_bodies WHERE subject_kind = 'message'`); got != 0 {
		t.Errorf("%d message bodies left after everyone read them", got)
	}
}
