package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
)

// testFindTokenApplication checks, for a store that implements
// ucwad.TokenApplicationFinder, that the one read returns what FindToken
// and FindApplication return: the token, its user and the application with
// its channel (options and acknowledgement included), nil for an
// application FindApplication would not find, and the token's ENotFound.
func testFindTokenApplication(t *testing.T, e *env) {
	f, ok := e.s.(ucwad.TokenApplicationFinder)
	if !ok {
		t.Skip("the store reads tokens and applications separately")
	}
	alice := e.createUser(t, "alice@contoso.com")
	bob := e.createUser(t, "bob@contoso.com")
	tok := e.createToken(t, alice, "alice-token", time.Hour)
	app, _ := e.createApp(t, alice, "ep", "")
	e.clk.Advance(time.Second)
	if _, _, err := e.s.CreateApplication(e.ctx, &ucwad.Application{UserID: alice.ID, UserAgent: "ua", EndpointID: "ep", Culture: "en-US"}, "tab-1"); err != nil {
		t.Fatal(err)
	}
	if err := e.s.SetChannelOptions(e.ctx, app.ID, "tab-1", ucwad.ChannelOptions{Timeout: 60, Low: 5, Medium: 2}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.MakeApplicationAvailable(e.ctx, alice.ID, app.ID); err != nil {
		t.Fatal(err)
	}
	tabOnly, _ := e.createApp(t, alice, "tab-only", "tab-9")
	bobs, _ := e.createApp(t, bob, "ep", "")

	for _, tt := range []struct {
		id, instance string
	}{
		{app.ID, ""}, {app.ID, "tab-1"}, {tabOnly.ID, ""}, {tabOnly.ID, "tab-9"},
		{app.ID, "tab-2"}, {app.ID, "TAB-1"}, {tabOnly.ID, "tab-1"}, {bobs.ID, ""}, {"nosuchapplication000", ""}, {"", ""},
		{swapCase(app.ID), ""},
	} {
		what := fmt.Sprintf("FindTokenApplication(%q, %q)", tt.id, tt.instance)
		gotTok, gotUser, gotApp, err := f.FindTokenApplication(e.ctx, tok.Hash, tt.id, tt.instance)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		checkToken(t, what, gotTok, tok)
		checkUser(t, what+"'s user", gotUser, alice)
		want, err := e.s.FindApplication(e.ctx, alice.ID, tt.id, tt.instance)
		if ucwad.ErrorCode(err) == ucwad.ENotFound {
			if gotApp != nil {
				t.Errorf("%s: got %+v, want none (FindApplication: %v)", what, *gotApp, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("FindApplication(%q, %q): %v", tt.id, tt.instance, err)
		}
		checkApp(t, what, gotApp, want)
		if gotApp != nil && (gotApp.Channel.NextAck != want.Channel.NextAck || gotApp.Channel.Options != want.Channel.Options) {
			t.Errorf("%s: channel %+v, want %+v", what, gotApp.Channel, want.Channel)
		}
	}

	e.clk.Advance(2 * time.Hour)
	for _, h := range []string{"alice-token", "unknown", ""} {
		gotTok, gotUser, gotApp, err := f.FindTokenApplication(e.ctx, []byte(h), app.ID, "")
		wantErr(t, fmt.Sprintf("FindTokenApplication(%q) of an expired or unknown token", h), err, ucwad.ENotFound, "")
		if gotTok != nil || gotUser != nil || gotApp != nil {
			t.Errorf("FindTokenApplication(%q): got %v, %v, %v with the error", h, gotTok, gotUser, gotApp)
		}
	}
}
