package httpapi

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/clock"
	"github.com/ucwad/ucwad/sqlite"
	"github.com/ucwad/ucwad/ucwa"
)

// TestMeetingRenderedFromTheMeeting: a meeting and the events about it
// render the same whoever asks: a caller who is not the organizer (as a
// participant or a guest will be) gets the organizer's coordinates
// (onlineMeetingUri, legacyOnlineMeetingUri, joinUrl, organizerUri), and
// the two renderings differ only in the hrefs, which lead into each
// caller's own application. Both formats.
func TestMeetingRenderedFromTheMeeting(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ucwad.db"), sqlite.Options{Clock: clk, PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	alice := &ucwad.User{SIP: "Alice.Smith@Contoso.com", Name: "Alice Smith", PasswordHash: "x"}
	bob := &ucwad.User{SIP: "bob@fabrikam.com", Name: "Bob", PasswordHash: "x"}
	for _, u := range []*ucwad.User{alice, bob} {
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	aliceApp, _, err := db.CreateApplication(ctx, &ucwad.Application{UserID: alice.ID, UserAgent: "ua", EndpointID: "a", Culture: "en-US", Type: ucwad.ApplicationTypeBrowser}, "")
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{}, Deps{Store: db, Hasher: auth.NewHasher(auth.TestParams, 1), Clock: clk})

	st := s.meetings.DefaultSettings()
	st.Subject, st.ExpirationTime = "Planning", clk.Now().Add(time.Hour)
	st.Attendees = []string{"sip:bob@fabrikam.com"}
	m := &ucwad.OnlineMeeting{UserID: alice.ID, MeetingSettings: st}
	if err := db.CreateMeeting(ctx, m); err != nil {
		t.Fatal(err)
	}
	x := &ucwad.Extension{MeetingID: m.ID, ID: "notes", Type: "RoamedOrganizerData", Properties: []ucwad.ExtensionProperty{{Name: "k", Value: "v"}}}
	if err := db.CreateExtension(ctx, alice.ID, x); err != nil {
		t.Fatal(err)
	}
	m, err = db.FindMeeting(ctx, alice.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := db.ReadBatch(ctx, aliceApp.ID, "", 1, false, 0)
	if err != nil || len(batch.Events) != 2 {
		t.Fatalf("alice's events: %+v, %v; want the meeting and the extension added", batch, err)
	}

	// The organizer and someone else, each in an application of their own.
	organizer := &call{user: alice, app: &ucwad.Application{ID: "organizersapp"}}
	other := &call{user: bob, app: &ucwad.Application{ID: "othersapp"}}
	// sameBut compares what the two callers get, the other's hrefs taken
	// back to the organizer's application.
	sameBut := func(what string, f ucwa.Format, mine, theirs *ucwa.Resource) {
		t.Helper()
		a, err := ucwa.Marshal(f, mine)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ucwa.Marshal(f, theirs)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(other.appHref())) {
			t.Fatalf("%s (%s) for the other caller has no href of theirs:\n%s", what, f, b)
		}
		b = bytes.ReplaceAll(b, []byte(other.appHref()), []byte(organizer.appHref()))
		if !bytes.Equal(a, b) {
			t.Errorf("%s (%s) depends on who asks beyond the hrefs:\norganizer %s\nother     %s", what, f, a, b)
		}
	}
	for _, f := range []ucwa.Format{ucwa.JSON, ucwa.XML} {
		organizer.format, other.format = f, f
		theirs := s.meetingSummary(other, m)
		sameBut("the meeting", f, s.meetingSummary(organizer, m), theirs)
		for name, want := range map[string]string{
			"organizerUri":     "sip:Alice.Smith@Contoso.com",
			"onlineMeetingUri": "sip:Alice.Smith@Contoso.com;gruu;opaque=app:conf:focus:id:" + m.ID,
			"joinUrl":          "https://meet.contoso.com/alice.smith/" + m.ID,
		} {
			if v, _ := theirs.Get(name); v.Str() != want {
				t.Errorf("%s for the other caller: %q, want %q", name, v.Str(), want)
			}
		}
		if v, _ := theirs.Get("legacyOnlineMeetingUri"); !strings.HasPrefix(v.Str(), "conf:sip:Alice.Smith@Contoso.com;gruu;") {
			t.Errorf("legacyOnlineMeetingUri for the other caller: %q", v.Str())
		}
		for _, e := range batch.Events {
			_, mine, ok := s.renderEvent(organizer, e)
			_, theirs, ok2 := s.renderEvent(other, e)
			if !ok || !ok2 || mine.Embedded == nil || theirs.Embedded == nil {
				t.Fatalf("event %+v not rendered whole (%v, %v)", e, ok, ok2)
			}
			sameBut("the "+mine.Embedded.Rel+" event", f, mine.Embedded, theirs.Embedded)
		}
	}
}
