package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/clock"
	"github.com/ucwad/ucwad/storetest"
)

// TestConversationAcrossStores: two stores on one file, as two server
// processes: a meeting joined through one is served by the other, and the
// participant bound holds across both.
func TestConversationAcrossStores(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "ucwad.db")
	clk := clock.NewFake(storetest.Start)
	lim := ucwad.Limits{MaxParticipants: 6, MaxLobbyParticipants: 100, LobbyTimeout: time.Hour}
	one := openClosing(t, path, Options{Clock: clk, PollInterval: -1, Limits: lim})
	two := openClosing(t, path, Options{Clock: clk, PollInterval: -1, Limits: lim})
	stores := []*DB{one, two}

	var users []*ucwad.User
	var apps []*ucwad.Application
	for i := range 12 {
		u := &ucwad.User{SIP: fmt.Sprintf("user%d@contoso.com", i)}
		if err := one.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		app, _, err := two.CreateApplication(ctx, &ucwad.Application{UserID: u.ID, UserAgent: "ua", EndpointID: "ep", Culture: "en-US"}, "")
		if err != nil {
			t.Fatal(err)
		}
		users, apps = append(users, u), append(apps, app)
	}
	m := &ucwad.OnlineMeeting{UserID: users[0].ID, MeetingSettings: ucwad.MeetingSettings{AccessLevel: "Locked",
		AutomaticLeaderAssignment: "Disabled", ExpirationTime: clk.Now().Add(time.Hour)}}
	if err := one.CreateMeeting(ctx, m); err != nil {
		t.Fatal(err)
	}
	request := func(i int) *ucwad.JoinRequest {
		return &ucwad.JoinRequest{ApplicationID: apps[i].ID, MeetingID: m.ID, Importance: "Normal",
			Joiner: ucwad.Joiner{UserID: users[i].ID, URI: "sip:" + users[i].SIP, Name: users[i].SIP}}
	}
	organizer, err := one.JoinMeeting(ctx, request(0))
	if err != nil {
		t.Fatal(err)
	}
	conv := organizer.ConversationID
	// Everyone else waits, joining through either store at once.
	var wg sync.WaitGroup
	errs := make([]error, len(apps))
	for i := 1; i < len(apps); i++ {
		wg.Go(func() {
			_, errs[i] = stores[i%2].JoinMeeting(ctx, request(i))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("join %d: %v", i, err)
		}
	}
	_, waiting, err := two.Roster(ctx, apps[0].ID, conv)
	if err != nil || len(waiting) != len(apps) {
		t.Fatalf("the organizer's roster through the other store: %d participants, %v", len(waiting), err)
	}
	// The organizer admits everyone, through both stores at once: the
	// meeting's bound holds.
	admitted := make([]error, len(waiting)-1)
	for i, p := range waiting[1:] {
		wg.Go(func() {
			admitted[i] = stores[i%2].ChangeParticipant(ctx, apps[0].ID, conv, p.ID, ucwad.ActionAdmit)
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range admitted {
		switch {
		case err == nil:
			ok++
		case ucwad.ErrorSubcode(err) != ucwad.SubTooManyParticipants:
			t.Errorf("admission: %v", err)
		}
	}
	_, roster, err := one.Roster(ctx, apps[0].ID, conv)
	if err != nil {
		t.Fatal(err)
	}
	in := 0
	for _, p := range roster {
		if !p.InLobby {
			in++
		}
	}
	if ok != lim.MaxParticipants-1 || in != lim.MaxParticipants {
		t.Errorf("%d admissions succeeded and %d are in, want %d in", ok, in, lim.MaxParticipants)
	}
	// What one store changed, the other serves.
	for _, p := range roster[1:] {
		i := 0
		for apps[i].ID != p.ApplicationID {
			i++
		}
		v, err := stores[i%2].FindConversation(ctx, p.ApplicationID, conv)
		want := ucwad.StateInLobby
		if !p.InLobby {
			want = ucwad.StateConferenced
		}
		if err != nil || v.State != want {
			t.Errorf("participant %s through store %d: %+v, %v; want %s", p.Name, i%2, v, err, want)
		}
	}
}

// BenchmarkJoinLeave measures one application joining a meeting that holds
// others already and leaving it again: the join's and the departure's
// transactions with their events to every participant (each one's user's
// log; nobody reads them, so the logs stay at their bound, trimming as they
// go). The baseline is BenchmarkRawInsert in the same run.
func BenchmarkJoinLeave(b *testing.B) {
	for _, present := range []int{0, 49, 249} {
		b.Run(fmt.Sprintf("present=%d", present), func(b *testing.B) {
			ctx := context.Background()
			db := openClosing(b, filepath.Join(b.TempDir(), "ucwad.db"), Options{PollInterval: -1})
			join := func(i int) *ucwad.JoinRequest {
				u := &ucwad.User{SIP: fmt.Sprintf("user%d@contoso.com", i)}
				if err := db.CreateUser(ctx, u); err != nil {
					b.Fatal(err)
				}
				app, _, err := db.CreateApplication(ctx, &ucwad.Application{UserID: u.ID, UserAgent: "ua", EndpointID: "ep", Culture: "en-US"}, "")
				if err != nil {
					b.Fatal(err)
				}
				return &ucwad.JoinRequest{ApplicationID: app.ID, Importance: "Normal",
					Joiner: ucwad.Joiner{UserID: u.ID, URI: "sip:" + u.SIP, Name: u.SIP}}
			}
			organizer := join(0)
			m := &ucwad.OnlineMeeting{UserID: organizer.UserID, MeetingSettings: ucwad.MeetingSettings{AccessLevel: "Everyone",
				AutomaticLeaderAssignment: "Disabled", ExpirationTime: time.Now().Add(time.Hour)}}
			if err := db.CreateMeeting(ctx, m); err != nil {
				b.Fatal(err)
			}
			for i := range present {
				r := organizer
				if i > 0 {
					r = join(i)
				}
				r.MeetingID = m.ID
				if _, err := db.JoinMeeting(ctx, r); err != nil {
					b.Fatal(err)
				}
			}
			r := join(present + 1)
			r.MeetingID = m.ID
			b.ReportAllocs()
			for b.Loop() {
				inv, err := db.JoinMeeting(ctx, r)
				if err != nil || inv.State != ucwad.InvitationConnected {
					b.Fatal(inv, err)
				}
				if err := db.LeaveConversation(ctx, r.ApplicationID, inv.ConversationID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestConversationEventAccounting: the events a change delivers in one
// batch are counted as appendEvent counts them, and a log they push over
// its bounds is trimmed, its channel told to resync, never refusing the
// change.
func TestConversationEventAccounting(t *testing.T) {
	ctx := t.Context()
	clk := clock.NewFake(storetest.Start)
	db := openClosing(t, filepath.Join(t.TempDir(), "ucwad.db"), Options{Clock: clk, PollInterval: -1,
		Limits: ucwad.Limits{MaxEventsPerChannel: 5, MaxEventBytesPerUser: 1 << 20, MaxParticipants: 10, MaxLobbyParticipants: 10}})
	var reqs []*ucwad.JoinRequest
	var apps []*ucwad.Application
	for _, name := range []string{"alice", "bob", "carol"} {
		u := &ucwad.User{SIP: name + "@contoso.com"}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		app, _, err := db.CreateApplication(ctx, &ucwad.Application{UserID: u.ID, UserAgent: "ua", EndpointID: "ep", Culture: "en-US"}, "")
		if err != nil {
			t.Fatal(err)
		}
		apps = append(apps, app)
		reqs = append(reqs, &ucwad.JoinRequest{ApplicationID: app.ID, Importance: "Normal",
			Joiner: ucwad.Joiner{UserID: u.ID, URI: "sip:" + u.SIP, Name: name}})
	}
	m := &ucwad.OnlineMeeting{UserID: reqs[0].UserID, MeetingSettings: ucwad.MeetingSettings{AccessLevel: "Locked",
		AutomaticLeaderAssignment: "Disabled", ExpirationTime: clk.Now().Add(time.Hour)}}
	if err := db.CreateMeeting(ctx, m); err != nil {
		t.Fatal(err)
	}
	var conv string
	for i, r := range reqs {
		r.MeetingID = m.ID
		inv, err := db.JoinMeeting(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		conv = inv.ConversationID
		checkEventAccounting(t, db, fmt.Sprintf("join %d", i))
	}
	_, roster, err := db.Roster(ctx, apps[0].ID, conv)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.ChangeParticipant(ctx, apps[0].ID, conv, roster[1].ID, ucwad.ActionAdmit); err != nil {
		t.Fatal(err)
	}
	checkEventAccounting(t, db, "admit")
	if err := db.LeaveConversation(ctx, apps[2].ID, conv); err != nil {
		t.Fatal(err)
	}
	checkEventAccounting(t, db, "leave")
	// Alice's join alone sent her more than her log holds: her channel
	// resyncs, then serves what is left and what comes.
	b, err := db.ReadBatch(ctx, apps[0].ID, "", 1, false, 0)
	if err != nil || b.Resync != 1 {
		t.Fatalf("alice's channel: %+v, %v; want resync", b, err)
	}
	if b, err = db.ReadBatch(ctx, apps[0].ID, "", 1, false, 0); err != nil || b.Wait || len(b.Events) == 0 || len(b.Events) > 5 {
		t.Errorf("alice's channel after resync: %+v, %v; want at most 5 events", b, err)
	}
}
