package storetest

import (
	"testing"

	"github.com/ucwad/ucwad"
)

// healthTests check what a store tells operators, for the stores that
// tell it (ucwad.HealthChecker, ucwad.EventCounter).
var healthTests = []struct {
	name string
	f    func(*testing.T, *env)
}{
	{"CheckHealth", testCheckHealth},
	{"EventsWritten", testEventsWritten},
}

// testCheckHealth: a freshly opened store has its database and every
// migration, so it is healthy.
func testCheckHealth(t *testing.T, e *env) {
	hc, ok := e.s.(ucwad.HealthChecker)
	if !ok {
		t.Skip("the store does not implement ucwad.HealthChecker")
	}
	if err := hc.CheckHealth(e.ctx); err != nil {
		t.Errorf("CheckHealth of a fresh store: %v", err)
	}
}

// testEventsWritten: a change with an event for one application adds one
// event to the count.
func testEventsWritten(t *testing.T, e *env) {
	c, ok := e.s.(ucwad.EventCounter)
	if !ok {
		t.Skip("the store does not implement ucwad.EventCounter")
	}
	u := e.createUser(t, "alice@contoso.com")
	app, _ := e.createApp(t, u, "ep", "")
	before := c.EventsWritten()
	if err := e.s.MakeApplicationAvailable(e.ctx, u.ID, app.ID); err != nil {
		t.Fatal(err)
	}
	if got := c.EventsWritten() - before; got < 1 {
		t.Errorf("EventsWritten grew by %d after makeMeAvailable, want at least 1", got)
	}
}
