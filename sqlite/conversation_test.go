package sqlite

import (
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
	one := openClosing(t, path, Options{Clock: clk, PollInterval: -1})
	two := openClosing(t, path, Options{Clock: clk, PollInterval: -1})
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
	if err := one.CreateMeeting(ctx, m, 0); err != nil {
		t.Fatal(err)
	}
	lim := ucwad.ConversationLimits{MaxParticipants: 6, MaxLobbyParticipants: 100, LobbyTimeout: time.Hour}
	request := func(i int) *ucwad.JoinRequest {
		return &ucwad.JoinRequest{ApplicationID: apps[i].ID, MeetingID: m.ID, Importance: "Normal",
			Joiner: ucwad.Joiner{UserID: users[i].ID, URI: "sip:" + users[i].SIP, Name: users[i].SIP}}
	}
	organizer, err := one.JoinMeeting(ctx, request(0), lim)
	if err != nil {
		t.Fatal(err)
	}
	conv := organizer.ConversationID
	// Everyone else waits, joining through either store at once.
	var wg sync.WaitGroup
	errs := make([]error, len(apps))
	for i := 1; i < len(apps); i++ {
		wg.Go(func() {
			_, errs[i] = stores[i%2].JoinMeeting(ctx, request(i), lim)
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
			admitted[i] = stores[i%2].ChangeParticipant(ctx, apps[0].ID, conv, p.ID, ucwad.ActionAdmit, lim)
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
