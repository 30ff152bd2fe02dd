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

// TestGuestsAcrossNodes: the bound on a meeting's guests' applications
// holds across nodes (guests registering through two nodes at once get
// exactly the bound between them), and two nodes sweeping expired guests
// at once remove each exactly once, without an error.
func TestGuestsAcrossNodes(t *testing.T) {
	const k, n = 5, 24
	clk := clock.NewFake(storetest.Start)
	a, b, _, _ := twoNodes(t, Options{Clock: clk, Limits: ucwad.Limits{MaxGuestApplicationsPerMeeting: k}})
	ctx := t.Context()
	alice := newUser(t, a, "alice@contoso.com")
	m := &ucwad.OnlineMeeting{UserID: alice.ID, MeetingSettings: ucwad.MeetingSettings{AccessLevel: "Everyone",
		AutomaticLeaderAssignment: "Disabled", ExpirationTime: clk.Now().Add(24 * time.Hour)}}
	if err := a.CreateMeeting(ctx, m); err != nil {
		t.Fatal(err)
	}
	nodes := []*DB{a, b}
	var guests []*ucwad.User
	for i := range n {
		g := &ucwad.User{Name: fmt.Sprint("guest ", i), Guest: &ucwad.Guest{MeetingID: m.ID, Address: fmt.Sprintf("192.0.2.%d", i+1)}}
		tok := &ucwad.Token{Hash: []byte(fmt.Sprint("guest-token-", i)), ExpiresAt: clk.Now().Add(ucwad.GuestTokenLifetime)}
		if err := nodes[i%2].CreateGuest(ctx, g, "", tok); err != nil {
			t.Fatal(err)
		}
		guests = append(guests, g)
	}

	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i, g := range guests {
		wg.Go(func() {
			_, _, err := nodes[i%2].CreateApplication(context.Background(), &ucwad.Application{UserID: g.ID, UserAgent: "ua", EndpointID: "ep", Culture: "en-US"}, "")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	ok, refused := 0, 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case ucwad.ErrorSubcode(err) == ucwad.SubTooManyApplications:
			refused++
		default:
			t.Errorf("CreateApplication: %v", err)
		}
	}
	if ok != k || refused != n-k {
		t.Errorf("%d created and %d refused; want exactly %d and %d", ok, refused, k, n-k)
	}

	clk.Advance(ucwad.GuestTokenLifetime)
	var removed [2]int
	var sweepErrs [2]error
	for i, db := range nodes {
		wg.Go(func() { removed[i], sweepErrs[i] = db.DeleteExpiredGuests(context.Background()) })
	}
	wg.Wait()
	for i, err := range sweepErrs {
		if err != nil {
			t.Fatalf("node %d: DeleteExpiredGuests: %v", i, err)
		}
	}
	// A node that found the other sweeping leaves the round to it; one
	// more round then finds nothing left.
	for i, db := range nodes {
		more, err := db.DeleteExpiredGuests(ctx)
		if err != nil {
			t.Fatalf("node %d: DeleteExpiredGuests again: %v", i, err)
		}
		removed[i] += more
	}
	if removed[0]+removed[1] != n {
		t.Errorf("the nodes removed %d and %d guests; want %d in all, each once", removed[0], removed[1], n)
	}
	if got := count(t, a, `SELECT COUNT(*) FROM users WHERE anonymous`); got != 0 {
		t.Errorf("%d guests left after their expiry", got)
	}
}
