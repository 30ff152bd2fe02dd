package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
)

// meetingTests are the online meeting and extension subtests.
var meetingTests = []struct {
	name string
	f    func(*testing.T, *env)
}{
	{"CreateMeeting", testCreateMeeting},
	{"CreateMeetingUnknownUser", testCreateMeetingUnknownUser},
	{"MaxMeetingsPerUser", testMaxMeetingsPerUser},
	{"MeetingOrganizer", testMeetingOrganizer},
	{"ListMeetings", testListMeetings},
	{"ListExtensions", testListExtensions},
	{"UpdateMeeting", testUpdateMeeting},
	{"UpdateMeetingConcurrent", testUpdateMeetingConcurrent},
	{"DeleteMeetingCascade", testDeleteMeetingCascade},
	{"AssignedMeeting", testAssignedMeeting},
	{"AssignedMeetingConcurrent", testAssignedMeetingConcurrent},
	{"ExpireMeetings", testExpireMeetings},
	{"ExpireManyMeetings", testExpireManyMeetings},
	{"MeetingIsolation", testMeetingIsolation},
	{"Extensions", testExtensions},
	{"ExtensionLimit", testExtensionLimit},
	{"UpdateExtensionConcurrent", testUpdateExtensionConcurrent},
	{"MeetingEvents", testMeetingEvents},
	{"JoinBase", testJoinBase},
	{"JoinableMeeting", testJoinableMeeting},
}

// joinBase is the JoinBase meetings of the suite are created with.
const joinBase = "https://lyncweb.contoso.com/meet"

// settings returns meeting settings expiring d after now, with every
// field set.
func (e *env) settings(d time.Duration) ucwad.MeetingSettings {
	return ucwad.MeetingSettings{
		Subject:                   "Quarterly sales numbers",
		Description:               "Q3 <draft> & \"plans\"",
		AccessLevel:               "SameEnterprise",
		AutomaticLeaderAssignment: "Everyone",
		EntryExitAnnouncement:     "Disabled",
		LobbyBypassForPhoneUsers:  "Enabled",
		PhoneUserAdmission:        "Disabled",
		Attendees:                 []string{"sip:johndoe@contoso.com", "sip:janedoe@contoso.com"},
		Leaders:                   []string{"sip:aikc@contoso.com"},
		ExpirationTime:            e.clk.Now().Add(d),
	}
}

func (e *env) createMeeting(t *testing.T, u *ucwad.User, s ucwad.MeetingSettings) *ucwad.OnlineMeeting {
	t.Helper()
	m := &ucwad.OnlineMeeting{UserID: u.ID, MeetingSettings: s, JoinBase: joinBase}
	if err := e.s.CreateMeeting(e.ctx, m); err != nil {
		t.Fatalf("CreateMeeting: %v", err)
	}
	return m
}

func (e *env) findMeeting(t *testing.T, userID int64, id string) *ucwad.OnlineMeeting {
	t.Helper()
	m, err := e.s.FindMeeting(e.ctx, userID, id)
	if err != nil {
		t.Fatalf("FindMeeting(%q): %v", id, err)
	}
	return m
}

func (e *env) createExtension(t *testing.T, userID int64, meetingID, id, typ string, props ...ucwad.ExtensionProperty) *ucwad.Extension {
	t.Helper()
	x := &ucwad.Extension{MeetingID: meetingID, ID: id, Type: typ, Properties: props}
	if err := e.s.CreateExtension(e.ctx, userID, x); err != nil {
		t.Fatalf("CreateExtension(%q): %v", id, err)
	}
	return x
}

// checkMeeting compares meetings field by field, times by instant.
func checkMeeting(t *testing.T, what string, got, want *ucwad.OnlineMeeting) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got nil meeting", what)
	}
	g, w := *got, *want
	if !g.ExpirationTime.Equal(w.ExpirationTime) || !g.CreatedAt.Equal(w.CreatedAt) || !g.UpdatedAt.Equal(w.UpdatedAt) {
		t.Errorf("%s: times expiration %v created %v updated %v, want %v %v %v", what,
			g.ExpirationTime, g.CreatedAt, g.UpdatedAt, w.ExpirationTime, w.CreatedAt, w.UpdatedAt)
	}
	g.ExpirationTime, g.CreatedAt, g.UpdatedAt = w.ExpirationTime, w.CreatedAt, w.UpdatedAt
	gx, wx := g.Extensions, w.Extensions
	g.Extensions, w.Extensions = nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\ngot  %+v\nwant %+v", what, g, w)
	}
	if gx == nil {
		t.Errorf("%s: nil extensions", what)
	}
	if len(gx) != len(wx) {
		t.Fatalf("%s: %d extensions, want %d", what, len(gx), len(wx))
	}
	// A meeting carries its extensions' identities, never their properties.
	for i := range wx {
		checkExtension(t, fmt.Sprintf("%s extension %d", what, i), gx[i], identity(wx[i]))
	}
}

// identity is x without its properties, as a meeting carries it.
func identity(x *ucwad.Extension) *ucwad.Extension {
	id := *x
	id.Properties = nil
	return &id
}

// listMeetings collects ListMeetings, failing on an error.
func (e *env) listMeetings(t *testing.T, userID int64, rel string) []*ucwad.OnlineMeeting {
	t.Helper()
	ms := []*ucwad.OnlineMeeting{}
	for m, err := range e.s.ListMeetings(e.ctx, userID, rel) {
		if err != nil {
			t.Fatalf("ListMeetings(%q): %v", rel, err)
		}
		ms = append(ms, m)
	}
	return ms
}

// listExtensions collects ListExtensions, failing on an error.
func (e *env) listExtensions(t *testing.T, userID int64, meetingID string) []*ucwad.Extension {
	t.Helper()
	var xs []*ucwad.Extension
	for x, err := range e.s.ListExtensions(e.ctx, userID, meetingID) {
		if err != nil {
			t.Fatalf("ListExtensions(%q): %v", meetingID, err)
		}
		xs = append(xs, x)
	}
	return xs
}

func checkExtension(t *testing.T, what string, got, want *ucwad.Extension) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got nil extension", what)
	}
	g, w := *got, *want
	if !g.CreatedAt.Equal(w.CreatedAt) || !g.UpdatedAt.Equal(w.UpdatedAt) {
		t.Errorf("%s: created %v updated %v, want %v %v", what, g.CreatedAt, g.UpdatedAt, w.CreatedAt, w.UpdatedAt)
	}
	g.CreatedAt, g.UpdatedAt = w.CreatedAt, w.UpdatedAt
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\ngot  %+v\nwant %+v", what, g, w)
	}
}

func testCreateMeeting(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	e.clk.Advance(time.Second)
	s := e.settings(8 * time.Hour)
	m := e.createMeeting(t, alice, s)
	now := e.clk.Now()
	if len(m.ID) != ucwad.MeetingIDLength || strings.Trim(m.ID, "0123456789ABCDEFGHJKMNPQRSTVWXYZ") != "" {
		t.Errorf("onlineMeetingId %q is not %d characters of Crockford base 32", m.ID, ucwad.MeetingIDLength)
	}
	if len(m.ConferenceID) != 8 || strings.Trim(m.ConferenceID, "0123456789") != "" {
		t.Errorf("conference id %q is not 8 digits", m.ConferenceID)
	}
	if m.ETag == "" {
		t.Error("empty ETag")
	}
	want := &ucwad.OnlineMeeting{ID: m.ID, UserID: alice.ID, Organizer: alice.Person(), Rel: ucwad.MeetingRelScheduled, ConferenceID: m.ConferenceID,
		MeetingSettings: s, JoinBase: joinBase, ETag: m.ETag, CreatedAt: now, UpdatedAt: now, Extensions: []*ucwad.Extension{}}
	checkMeeting(t, "CreateMeeting", m, want)
	checkMeeting(t, "FindMeeting", e.findMeeting(t, alice.ID, m.ID), want)

	// Empty settings come back as empty lists, never nil.
	bare := e.createMeeting(t, alice, ucwad.MeetingSettings{ExpirationTime: now.Add(time.Hour)})
	got := e.findMeeting(t, alice.ID, bare.ID)
	if got.Attendees == nil || got.Leaders == nil || got.Extensions == nil || len(got.Attendees)+len(got.Leaders) != 0 {
		t.Errorf("bare meeting lists: attendees %#v leaders %#v extensions %#v", got.Attendees, got.Leaders, got.Extensions)
	}
	if bare.ID == m.ID || bare.ConferenceID == m.ConferenceID || bare.ETag == m.ETag {
		t.Errorf("two meetings share an id, conference id or etag: %+v %+v", m, bare)
	}
	for _, id := range []string{"", "nosuchmeeting", strings.ToLower(m.ID)} {
		_, err := e.s.FindMeeting(e.ctx, alice.ID, id)
		wantErr(t, fmt.Sprintf("FindMeeting(%q)", id), err, ucwad.ENotFound, ucwad.SubResourceNotFound)
	}
}

func testCreateMeetingUnknownUser(t *testing.T, e *env) {
	err := e.s.CreateMeeting(e.ctx, &ucwad.OnlineMeeting{UserID: 12345, MeetingSettings: e.settings(time.Hour)})
	wantErr(t, "CreateMeeting(unknown user)", err, ucwad.ENotFound, "")
	_, err = e.s.AssignedMeeting(e.ctx, 12345, e.settings(time.Hour), joinBase)
	wantErr(t, "AssignedMeeting(unknown user)", err, ucwad.ENotFound, "")
}

// testMaxMeetingsPerUser: a user schedules at most MaxMeetingsPerUser
// meetings (the assigned one does not count); one more is EConflict
// TooManyOnlineMeetings and changes nothing.
func testMaxMeetingsPerUser(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	bob := e.createUser(t, "bob@contoso.com")
	const max = MaxMeetingsPerUser
	if _, err := e.s.AssignedMeeting(e.ctx, alice.ID, e.settings(time.Hour), joinBase); err != nil {
		t.Fatal(err)
	}
	var first *ucwad.OnlineMeeting
	for i := range max {
		m := &ucwad.OnlineMeeting{UserID: alice.ID, MeetingSettings: e.settings(time.Hour)}
		if err := e.s.CreateMeeting(e.ctx, m); err != nil {
			t.Fatalf("meeting %d of %d (the assigned one does not count): %v", i+1, max, err)
		}
		if first == nil {
			first = m
		}
	}
	m := &ucwad.OnlineMeeting{UserID: alice.ID, MeetingSettings: e.settings(time.Hour)}
	err := e.s.CreateMeeting(e.ctx, m)
	wantErr(t, "CreateMeeting over the limit", err, ucwad.EConflict, ucwad.SubTooManyOnlineMeetings)
	if m.ID != "" {
		t.Errorf("failed CreateMeeting set ID %q", m.ID)
	}
	if err := e.s.CreateMeeting(e.ctx, &ucwad.OnlineMeeting{UserID: bob.ID, MeetingSettings: e.settings(time.Hour)}); err != nil {
		t.Errorf("another user at alice's limit: %v", err)
	}
	ms := e.listMeetings(t, alice.ID, ucwad.MeetingRelScheduled)
	if len(ms) != max {
		t.Fatalf("ListMeetings: %d scheduled meetings, want %d", len(ms), max)
	}
	// Deleting makes room for one again.
	if err := e.s.DeleteMeeting(e.ctx, alice.ID, first.ID, ucwad.MeetingSettings{}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.CreateMeeting(e.ctx, &ucwad.OnlineMeeting{UserID: alice.ID, MeetingSettings: e.settings(time.Hour)}); err != nil {
		t.Errorf("CreateMeeting after freeing a slot: %v", err)
	}
	err = e.s.CreateMeeting(e.ctx, &ucwad.OnlineMeeting{UserID: alice.ID, MeetingSettings: e.settings(time.Hour)})
	wantErr(t, "CreateMeeting over the limit again", err, ucwad.EConflict, ucwad.SubTooManyOnlineMeetings)
	// Expired meetings make room too, all of it.
	e.clk.Advance(2 * time.Hour)
	if n, err := e.s.ExpireMeetings(e.ctx, e.clk.Now()); err != nil || n != max+1 {
		t.Fatalf("ExpireMeetings = %d, %v; want alice's %d and bob's one", n, err, max)
	}
	for i := range max {
		if err := e.s.CreateMeeting(e.ctx, &ucwad.OnlineMeeting{UserID: alice.ID, MeetingSettings: e.settings(time.Hour)}); err != nil {
			t.Fatalf("meeting %d of %d after the others expired: %v", i+1, max, err)
		}
	}
	err = e.s.CreateMeeting(e.ctx, &ucwad.OnlineMeeting{UserID: alice.ID, MeetingSettings: e.settings(time.Hour)})
	wantErr(t, "CreateMeeting over the limit after expiry", err, ucwad.EConflict, ucwad.SubTooManyOnlineMeetings)
}

// testMeetingOrganizer: every meeting the store returns, and every
// meeting an event carries in Data, names its organizer (address and
// name), so that it reads the same for whoever asks; a user without a
// name is an organizer without one.
func testMeetingOrganizer(t *testing.T, e *env) {
	alice := e.createUser(t, "Alice@Contoso.com")
	nameless := &ucwad.User{SIP: "carol@fabrikam.com", PasswordHash: "hash"}
	if err := e.s.CreateUser(e.ctx, nameless); err != nil {
		t.Fatal(err)
	}
	app, _ := e.createApp(t, alice, "ep", "")
	for _, u := range []*ucwad.User{alice, nameless} {
		want := ucwad.Person{SIP: u.SIP, Name: u.Name}
		check := func(what string, m *ucwad.OnlineMeeting) {
			t.Helper()
			if m.Organizer != want {
				t.Errorf("%s of %s: organizer %+v, want %+v", what, u.SIP, m.Organizer, want)
			}
		}
		m := e.createMeeting(t, u, e.settings(time.Hour))
		check("CreateMeeting", m)
		check("FindMeeting", e.findMeeting(t, u.ID, m.ID))
		updated, err := e.s.UpdateMeeting(e.ctx, u.ID, m.ID, e.settings(2*time.Hour), "")
		if err != nil {
			t.Fatal(err)
		}
		check("UpdateMeeting", updated)
		a, err := e.s.AssignedMeeting(e.ctx, u.ID, e.settings(time.Hour), joinBase)
		if err != nil {
			t.Fatal(err)
		}
		check("AssignedMeeting (created)", a)
		if a, err = e.s.AssignedMeeting(e.ctx, u.ID, e.settings(time.Hour), joinBase); err != nil {
			t.Fatal(err)
		}
		check("AssignedMeeting (found)", a)
		for _, rel := range []string{ucwad.MeetingRelScheduled, ucwad.MeetingRelAssigned} {
			for _, m := range e.listMeetings(t, u.ID, rel) {
				check("ListMeetings("+rel+")", m)
			}
		}
		if err := e.s.DeleteMeeting(e.ctx, u.ID, a.ID, e.settings(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	// Alice's events: her meeting added, updated, and her assigned meeting
	// reset (an update), each carrying her as its organizer.
	b := e.readBatch(t, app, "", 1, false)
	if len(b.Events) != 3 {
		t.Fatalf("%d events on alice's channel, want 3", len(b.Events))
	}
	for _, ev := range b.Events {
		var m ucwad.OnlineMeeting
		if err := json.Unmarshal(ev.Data, &m); err != nil {
			t.Fatalf("%s event data %s: %v", ev.Type, ev.Data, err)
		}
		if want := alice.Person(); m.Organizer != want {
			t.Errorf("%s event: organizer %+v, want %+v", ev.Type, m.Organizer, want)
		}
	}
}

// testListMeetings: every meeting of one rel, in creation order (meetings
// created in the same millisecond too), with their extensions' identities;
// more meetings than a backend would read at once.
func testListMeetings(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	bob := e.createUser(t, "bob@contoso.com")
	if ms := e.listMeetings(t, alice.ID, ucwad.MeetingRelScheduled); len(ms) != 0 {
		t.Fatalf("ListMeetings of nobody's meetings: %#v; want an empty list", ms)
	}
	assigned, err := e.s.AssignedMeeting(e.ctx, alice.ID, e.settings(time.Hour), joinBase)
	if err != nil {
		t.Fatal(err)
	}
	var want []*ucwad.OnlineMeeting
	for i := range 40 {
		m := e.createMeeting(t, alice, e.settings(time.Duration(i+1)*time.Hour))
		for j := range i % 4 {
			m.Extensions = append(m.Extensions, e.createExtension(t, alice.ID, m.ID, fmt.Sprint("x", j), "Undefined",
				ucwad.ExtensionProperty{Name: "big", Value: strings.Repeat("v", 1000)}))
		}
		want = append(want, m)
		if i%3 == 0 { // the others share a millisecond with their predecessor
			e.clk.Advance(time.Millisecond)
		}
	}
	e.createMeeting(t, bob, e.settings(time.Hour))
	got := e.listMeetings(t, alice.ID, ucwad.MeetingRelScheduled)
	if len(got) != len(want) {
		t.Fatalf("ListMeetings: %d meetings, want %d", len(got), len(want))
	}
	for i := range want {
		checkMeeting(t, fmt.Sprintf("ListMeetings[%d]", i), got[i], want[i])
	}
	if got := e.listMeetings(t, alice.ID, ucwad.MeetingRelAssigned); len(got) != 1 {
		t.Fatalf("ListMeetings(assigned): %d meetings, want 1", len(got))
	} else {
		checkMeeting(t, "ListMeetings(assigned)", got[0], assigned)
	}
	// A caller may stop early.
	n := 0
	for range e.s.ListMeetings(e.ctx, alice.ID, ucwad.MeetingRelScheduled) {
		if n++; n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("stopping after 3 meetings saw %d", n)
	}
}

// testListExtensions: a meeting's extensions whole, in the order they were
// added, more than a backend would read at once; nothing for a meeting the
// user does not have.
func testListExtensions(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	bob := e.createUser(t, "bob@contoso.com")
	m := e.createMeeting(t, alice, e.settings(time.Hour))
	other := e.createMeeting(t, alice, e.settings(time.Hour))
	e.createExtension(t, alice.ID, other.ID, "elsewhere", "Undefined")
	var want []*ucwad.Extension
	for i := range 37 {
		want = append(want, e.createExtension(t, alice.ID, m.ID, fmt.Sprintf("x%02d", 40-i), "RoamedOrganizerData",
			ucwad.ExtensionProperty{Name: "n", Value: fmt.Sprint(i)}, ucwad.ExtensionProperty{Name: "z", Value: ""}))
	}
	got := e.listExtensions(t, alice.ID, m.ID)
	if len(got) != len(want) {
		t.Fatalf("ListExtensions: %d extensions, want %d", len(got), len(want))
	}
	for i := range want {
		checkExtension(t, fmt.Sprintf("ListExtensions[%d]", i), got[i], want[i])
	}
	for _, tc := range []struct {
		name    string
		userID  int64
		meeting string
	}{{"another user", bob.ID, m.ID}, {"unknown meeting", alice.ID, "nosuchmeeting"}} {
		if got := e.listExtensions(t, tc.userID, tc.meeting); len(got) != 0 {
			t.Errorf("ListExtensions(%s): %d extensions, want none", tc.name, len(got))
		}
	}
}

func testUpdateMeeting(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	m := e.createMeeting(t, alice, e.settings(8*time.Hour))
	x := e.createExtension(t, alice.ID, m.ID, "917823", "RoamedParticipantData")
	e.clk.Advance(time.Minute)

	s := ucwad.MeetingSettings{Subject: "holiday party", AccessLevel: "Locked", AutomaticLeaderAssignment: "Disabled",
		EntryExitAnnouncement: "Enabled", LobbyBypassForPhoneUsers: "Disabled", PhoneUserAdmission: "Enabled",
		Attendees: []string{"sip:chris@contoso.com"}, ExpirationTime: e.clk.Now().Add(48 * time.Hour)}
	got, err := e.s.UpdateMeeting(e.ctx, alice.ID, m.ID, s, m.ETag)
	if err != nil {
		t.Fatalf("UpdateMeeting: %v", err)
	}
	if got.ETag == "" || got.ETag == m.ETag {
		t.Fatalf("ETag after update %q, before %q: want a new one", got.ETag, m.ETag)
	}
	s.Leaders = []string{} // full replacement: what was not sent is empty
	want := &ucwad.OnlineMeeting{ID: m.ID, UserID: alice.ID, Organizer: alice.Person(), Rel: m.Rel, ConferenceID: m.ConferenceID, MeetingSettings: s,
		JoinBase: joinBase, ETag: got.ETag, CreatedAt: m.CreatedAt, UpdatedAt: e.clk.Now(), Extensions: []*ucwad.Extension{x}}
	checkMeeting(t, "UpdateMeeting", got, want)
	checkMeeting(t, "FindMeeting after update", e.findMeeting(t, alice.ID, m.ID), want)

	// The old ETag is stale now; nothing changes.
	_, err = e.s.UpdateMeeting(e.ctx, alice.ID, m.ID, e.settings(time.Hour), m.ETag)
	wantErr(t, "UpdateMeeting with a stale ETag", err, ucwad.EPreconditionFailed, "")
	checkMeeting(t, "after a stale update", e.findMeeting(t, alice.ID, m.ID), want)

	// A zero expiration keeps the stored one; "" matches any ETag.
	e.clk.Advance(time.Minute)
	keep := e.settings(0)
	keep.ExpirationTime = time.Time{}
	got, err = e.s.UpdateMeeting(e.ctx, alice.ID, m.ID, keep, "")
	if err != nil {
		t.Fatalf("UpdateMeeting without If-Match: %v", err)
	}
	if !got.ExpirationTime.Equal(s.ExpirationTime) || got.Subject != keep.Subject {
		t.Errorf("after keeping the expiration: expiration %v subject %q, want %v %q", got.ExpirationTime, got.Subject, s.ExpirationTime, keep.Subject)
	}
	_, err = e.s.UpdateMeeting(e.ctx, alice.ID, "nosuchmeeting", s, "")
	wantErr(t, "UpdateMeeting(unknown)", err, ucwad.ENotFound, ucwad.SubResourceNotFound)
}

func testUpdateMeetingConcurrent(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	m := e.createMeeting(t, alice, e.settings(time.Hour))
	errs := race(2, func(i int) error {
		s := e.settings(time.Hour)
		s.Subject = fmt.Sprint("writer ", i)
		_, err := e.s.UpdateMeeting(e.ctx, alice.ID, m.ID, s, m.ETag)
		return err
	})
	wantOneWinner(t, errs)
	got := e.findMeeting(t, alice.ID, m.ID)
	if got.Subject != fmt.Sprint("writer ", slices.IndexFunc(errs, func(err error) bool { return err == nil })) {
		t.Errorf("subject %q is not the winner's", got.Subject)
	}
}

// race runs f n times at once and returns each call's error.
func race(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// wantOneWinner fails unless exactly one error is nil and the others are
// EPreconditionFailed.
func wantOneWinner(t *testing.T, errs []error) {
	t.Helper()
	won := 0
	for i, err := range errs {
		switch ucwad.ErrorCode(err) {
		case "":
			won++
		case ucwad.EPreconditionFailed:
		default:
			t.Errorf("writer %d: %v, want success or EPreconditionFailed", i, err)
		}
	}
	if won != 1 {
		t.Errorf("%d writers with the same ETag won, want exactly 1: %v", won, errs)
	}
}

func testDeleteMeetingCascade(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	m := e.createMeeting(t, alice, e.settings(time.Hour))
	other := e.createMeeting(t, alice, e.settings(time.Hour))
	e.createExtension(t, alice.ID, m.ID, "a", "Undefined")
	e.createExtension(t, alice.ID, m.ID, "b", "RoamedOrganizerData")
	kept := e.createExtension(t, alice.ID, other.ID, "a", "Undefined")

	if err := e.s.DeleteMeeting(e.ctx, alice.ID, m.ID, ucwad.MeetingSettings{}); err != nil {
		t.Fatalf("DeleteMeeting: %v", err)
	}
	_, err := e.s.FindMeeting(e.ctx, alice.ID, m.ID)
	wantErr(t, "FindMeeting after delete", err, ucwad.ENotFound, ucwad.SubResourceNotFound)
	for _, id := range []string{"a", "b"} {
		_, err := e.s.FindExtension(e.ctx, alice.ID, m.ID, id)
		wantErr(t, "FindExtension of a deleted meeting", err, ucwad.ENotFound, ucwad.SubResourceNotFound)
	}
	got, err := e.s.FindExtension(e.ctx, alice.ID, other.ID, "a")
	if err != nil {
		t.Fatalf("the other meeting's extension: %v", err)
	}
	checkExtension(t, "the other meeting's extension", got, kept)
	wantErr(t, "DeleteMeeting again", e.s.DeleteMeeting(e.ctx, alice.ID, m.ID, ucwad.MeetingSettings{}), ucwad.ENotFound, ucwad.SubResourceNotFound)
	err = e.s.CreateExtension(e.ctx, alice.ID, &ucwad.Extension{MeetingID: m.ID, ID: "c", Type: "Undefined"})
	wantErr(t, "CreateExtension on a deleted meeting", err, ucwad.ENotFound, ucwad.SubResourceNotFound)
}

func testAssignedMeeting(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	defaults := e.settings(10 * 365 * 24 * time.Hour)
	a, err := e.s.AssignedMeeting(e.ctx, alice.ID, defaults, joinBase)
	if err != nil {
		t.Fatalf("AssignedMeeting: %v", err)
	}
	now := e.clk.Now()
	want := &ucwad.OnlineMeeting{ID: a.ID, UserID: alice.ID, Organizer: alice.Person(), Rel: ucwad.MeetingRelAssigned, ConferenceID: a.ConferenceID,
		MeetingSettings: defaults, JoinBase: joinBase, ETag: a.ETag, CreatedAt: now, UpdatedAt: now, Extensions: []*ucwad.Extension{}}
	checkMeeting(t, "AssignedMeeting", a, want)

	// Asked again, with other settings and another base, it is the same
	// meeting, with its own link.
	e.clk.Advance(time.Minute)
	again, err := e.s.AssignedMeeting(e.ctx, alice.ID, e.settings(time.Hour), "https://other.contoso.com/meet")
	if err != nil {
		t.Fatal(err)
	}
	checkMeeting(t, "AssignedMeeting again", again, want)

	// It is updated like any meeting, and deleting it resets it: same
	// coordinates, reset settings, no extensions, new ETag.
	changed := e.settings(time.Hour)
	changed.Subject = "changed"
	if _, err := e.s.UpdateMeeting(e.ctx, alice.ID, a.ID, changed, a.ETag); err != nil {
		t.Fatal(err)
	}
	e.createExtension(t, alice.ID, a.ID, "x", "Undefined")
	reset := e.settings(0)
	reset.Subject, reset.ExpirationTime = "", time.Time{}
	if err := e.s.DeleteMeeting(e.ctx, alice.ID, a.ID, reset); err != nil {
		t.Fatalf("DeleteMeeting(assigned): %v", err)
	}
	got := e.findMeeting(t, alice.ID, a.ID)
	reset.ExpirationTime = changed.ExpirationTime
	want.MeetingSettings, want.ETag, want.UpdatedAt = reset, got.ETag, e.clk.Now()
	checkMeeting(t, "the assigned meeting after DeleteMeeting", got, want)
	if got.ETag == a.ETag {
		t.Error("resetting the assigned meeting kept its ETag")
	}
	_, err = e.s.FindExtension(e.ctx, alice.ID, a.ID, "x")
	wantErr(t, "extension of the reset assigned meeting", err, ucwad.ENotFound, ucwad.SubResourceNotFound)
}

func testAssignedMeetingConcurrent(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	ids := make([]string, 8)
	errs := race(len(ids), func(i int) error {
		m, err := e.s.AssignedMeeting(e.ctx, alice.ID, e.settings(time.Hour), joinBase)
		if err == nil {
			ids[i] = m.ID
		}
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
	}
	if ids[0] == "" || slices.ContainsFunc(ids, func(id string) bool { return id != ids[0] }) {
		t.Fatalf("concurrent callers got %v, want one meeting", ids)
	}
	if ms := e.listMeetings(t, alice.ID, ucwad.MeetingRelAssigned); len(ms) != 1 {
		t.Fatalf("ListMeetings: %d assigned meetings; want one", len(ms))
	}
}

func testExpireMeetings(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	bob := e.createUser(t, "bob@contoso.com")
	soon := e.createMeeting(t, alice, e.settings(time.Hour))
	e.createExtension(t, alice.ID, soon.ID, "x", "Undefined")
	later := e.createMeeting(t, bob, e.settings(2*time.Hour))
	never := e.createMeeting(t, alice, e.settings(24*time.Hour))
	past := e.createMeeting(t, alice, e.settings(-time.Hour)) // expired when created, as the window allows
	assigned, err := e.s.AssignedMeeting(e.ctx, alice.ID, e.settings(time.Minute), joinBase)
	if err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		advance time.Duration
		removed int
		gone    []*ucwad.OnlineMeeting
	}{
		{0, 1, []*ucwad.OnlineMeeting{past}},
		{time.Hour, 0, nil}, // at its expiration a meeting is still there
		{time.Millisecond, 1, []*ucwad.OnlineMeeting{soon}},
		{2 * time.Hour, 1, []*ucwad.OnlineMeeting{later}},
		{0, 0, nil},
	}
	for i, st := range steps {
		e.clk.Advance(st.advance)
		n, err := e.s.ExpireMeetings(e.ctx, e.clk.Now())
		if err != nil || n != st.removed {
			t.Fatalf("step %d: ExpireMeetings: %d, %v; want %d", i, n, err, st.removed)
		}
		for _, m := range st.gone {
			_, err := e.s.FindMeeting(e.ctx, m.UserID, m.ID)
			wantErr(t, fmt.Sprintf("step %d: expired meeting", i), err, ucwad.ENotFound, ucwad.SubResourceNotFound)
		}
	}
	e.findMeeting(t, alice.ID, never.ID)
	e.findMeeting(t, alice.ID, assigned.ID) // long past its expiration: assigned meetings stay
	_, err = e.s.FindExtension(e.ctx, alice.ID, soon.ID, "x")
	wantErr(t, "extension of an expired meeting", err, ucwad.ENotFound, ucwad.SubResourceNotFound)
}

// testExpireManyMeetings: one sweep removes every expired meeting, however
// many (a backend may work in several transactions), and counts them.
func testExpireManyMeetings(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	bob := e.createUser(t, "bob@contoso.com")
	var expired []*ucwad.OnlineMeeting
	for i := range 50 {
		u := alice
		if i%3 == 0 {
			u = bob
		}
		m := e.createMeeting(t, u, e.settings(time.Minute))
		e.createExtension(t, u.ID, m.ID, "x", "Undefined")
		expired = append(expired, m)
	}
	kept := e.createMeeting(t, alice, e.settings(time.Hour))
	e.clk.Advance(10 * time.Minute)
	n, err := e.s.ExpireMeetings(e.ctx, e.clk.Now())
	if err != nil || n != len(expired) {
		t.Fatalf("ExpireMeetings: %d, %v; want %d", n, err, len(expired))
	}
	for _, m := range expired {
		_, err := e.s.FindMeeting(e.ctx, m.UserID, m.ID)
		wantErr(t, "an expired meeting", err, ucwad.ENotFound, ucwad.SubResourceNotFound)
	}
	e.findMeeting(t, alice.ID, kept.ID)
	if n, err := e.s.ExpireMeetings(e.ctx, e.clk.Now()); n != 0 || err != nil {
		t.Errorf("a second sweep: %d, %v; want 0", n, err)
	}
}

func testMeetingIsolation(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	bob := e.createUser(t, "bob@contoso.com")
	m := e.createMeeting(t, alice, e.settings(time.Hour))
	x := e.createExtension(t, alice.ID, m.ID, "x", "Undefined")
	s := e.settings(time.Hour)
	notFound := func(what string, err error) {
		t.Helper()
		wantErr(t, what+" by another user", err, ucwad.ENotFound, ucwad.SubResourceNotFound)
	}
	_, err := e.s.FindMeeting(e.ctx, bob.ID, m.ID)
	notFound("FindMeeting", err)
	_, err = e.s.UpdateMeeting(e.ctx, bob.ID, m.ID, s, "")
	notFound("UpdateMeeting", err)
	_, err = e.s.UpdateMeeting(e.ctx, bob.ID, m.ID, s, m.ETag)
	notFound("UpdateMeeting with the right ETag", err)
	notFound("DeleteMeeting", e.s.DeleteMeeting(e.ctx, bob.ID, m.ID, s))
	notFound("CreateExtension", e.s.CreateExtension(e.ctx, bob.ID, &ucwad.Extension{MeetingID: m.ID, ID: "y", Type: "Undefined"}))
	_, err = e.s.FindExtension(e.ctx, bob.ID, m.ID, x.ID)
	notFound("FindExtension", err)
	notFound("UpdateExtension", e.s.UpdateExtension(e.ctx, bob.ID, &ucwad.Extension{MeetingID: m.ID, ID: x.ID, Type: "Undefined"}, x.ETag))
	notFound("DeleteExtension", e.s.DeleteExtension(e.ctx, bob.ID, m.ID, x.ID))
	if ms := e.listMeetings(t, bob.ID, ucwad.MeetingRelScheduled); len(ms) != 0 {
		t.Errorf("bob's ListMeetings: %d meetings; want none", len(ms))
	}
	want := *m
	want.Extensions = []*ucwad.Extension{x}
	checkMeeting(t, "alice's meeting after bob's attempts", e.findMeeting(t, alice.ID, m.ID), &want)
}

func testExtensions(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	m := e.createMeeting(t, alice, e.settings(time.Hour))
	other := e.createMeeting(t, alice, e.settings(time.Hour))
	e.clk.Advance(time.Second)
	now := e.clk.Now()

	props := []ucwad.ExtensionProperty{{Name: "zeta", Value: "1"}, {Name: "alpha", Value: "two words"}, {Name: "Mixed Case", Value: ""}}
	x := e.createExtension(t, alice.ID, m.ID, "917823", "RoamedParticipantData", props...)
	want := &ucwad.Extension{MeetingID: m.ID, ID: "917823", Type: "RoamedParticipantData", Properties: props,
		ETag: x.ETag, CreatedAt: now, UpdatedAt: now}
	checkExtension(t, "CreateExtension", x, want)
	got, err := e.s.FindExtension(e.ctx, alice.ID, m.ID, x.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkExtension(t, "FindExtension", got, want)

	// A generated id, an empty property list, odd ids, the same id on another meeting.
	gen := e.createExtension(t, alice.ID, m.ID, "", "Undefined")
	if gen.ID == "" || gen.Properties == nil || len(gen.Properties) != 0 {
		t.Errorf("generated extension: id %q properties %#v", gen.ID, gen.Properties)
	}
	odd := e.createExtension(t, alice.ID, m.ID, "a/b c?d%e", "Undefined")
	e.createExtension(t, alice.ID, other.ID, "917823", "Undefined")
	err = e.s.CreateExtension(e.ctx, alice.ID, &ucwad.Extension{MeetingID: m.ID, ID: "917823", Type: "Undefined"})
	wantErr(t, "CreateExtension(duplicate id)", err, ucwad.EConflict, ucwad.SubAlreadyExists)
	_, err = e.s.FindExtension(e.ctx, alice.ID, m.ID, "917823 ")
	wantErr(t, "FindExtension(unknown id)", err, ucwad.ENotFound, ucwad.SubResourceNotFound)

	// Extension changes leave the meeting's ETag alone.
	if got := e.findMeeting(t, alice.ID, m.ID); got.ETag != m.ETag {
		t.Errorf("meeting ETag %q after adding extensions, want %q", got.ETag, m.ETag)
	}
	meeting := e.findMeeting(t, alice.ID, m.ID)
	if ids := extensionIDs(meeting); !slices.Equal(ids, []string{"917823", gen.ID, odd.ID}) {
		t.Errorf("meeting extensions %v, want in insertion order", ids)
	}

	e.clk.Advance(time.Second)
	upd := &ucwad.Extension{MeetingID: m.ID, ID: x.ID, Type: "Undefined", Properties: []ucwad.ExtensionProperty{{Name: "new", Value: "v"}}}
	if err := e.s.UpdateExtension(e.ctx, alice.ID, upd, x.ETag); err != nil {
		t.Fatalf("UpdateExtension: %v", err)
	}
	if upd.ETag == "" || upd.ETag == x.ETag {
		t.Fatalf("ETag after update %q, before %q", upd.ETag, x.ETag)
	}
	want = &ucwad.Extension{MeetingID: m.ID, ID: x.ID, Type: "Undefined", Properties: []ucwad.ExtensionProperty{{Name: "new", Value: "v"}},
		ETag: upd.ETag, CreatedAt: now, UpdatedAt: e.clk.Now()}
	checkExtension(t, "UpdateExtension", upd, want)
	err = e.s.UpdateExtension(e.ctx, alice.ID, &ucwad.Extension{MeetingID: m.ID, ID: x.ID, Type: "Undefined"}, x.ETag)
	wantErr(t, "UpdateExtension with a stale ETag", err, ucwad.EPreconditionFailed, "")
	err = e.s.UpdateExtension(e.ctx, alice.ID, &ucwad.Extension{MeetingID: m.ID, ID: "nope", Type: "Undefined"}, "")
	wantErr(t, "UpdateExtension(unknown)", err, ucwad.ENotFound, ucwad.SubResourceNotFound)
	if got := e.findMeeting(t, alice.ID, m.ID); got.ETag != m.ETag {
		t.Errorf("meeting ETag %q after updating an extension, want %q", got.ETag, m.ETag)
	}

	if err := e.s.DeleteExtension(e.ctx, alice.ID, m.ID, x.ID); err != nil {
		t.Fatalf("DeleteExtension: %v", err)
	}
	wantErr(t, "DeleteExtension again", e.s.DeleteExtension(e.ctx, alice.ID, m.ID, x.ID), ucwad.ENotFound, ucwad.SubResourceNotFound)
	if ids := extensionIDs(e.findMeeting(t, alice.ID, m.ID)); !slices.Equal(ids, []string{gen.ID, odd.ID}) {
		t.Errorf("extensions after delete %v", ids)
	}
	// The id is free again.
	e.createExtension(t, alice.ID, m.ID, x.ID, "Undefined")
	if got := e.findMeeting(t, alice.ID, m.ID); got.ETag != m.ETag {
		t.Errorf("meeting ETag %q after extension changes, want %q", got.ETag, m.ETag)
	}
}

func extensionIDs(m *ucwad.OnlineMeeting) []string {
	var ids []string
	for _, x := range m.Extensions {
		ids = append(ids, x.ID)
	}
	return ids
}

func testExtensionLimit(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	m := e.createMeeting(t, alice, e.settings(time.Hour))
	other := e.createMeeting(t, alice, e.settings(time.Hour))
	const max = MaxExtensionsPerMeeting
	create := func(meetingID, id string) error {
		return e.s.CreateExtension(e.ctx, alice.ID, &ucwad.Extension{MeetingID: meetingID, ID: id, Type: "Undefined"})
	}
	for i := range max {
		if err := create(m.ID, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	wantErr(t, "CreateExtension over the limit", create(m.ID, "new"), ucwad.EConflict, ucwad.SubLimitExceeded)
	wantErr(t, "CreateExtension over the limit with a taken id", create(m.ID, "0"), ucwad.EConflict, ucwad.SubAlreadyExists)
	if err := create(other.ID, "new"); err != nil {
		t.Errorf("another meeting: %v", err)
	}
	if err := e.s.DeleteExtension(e.ctx, alice.ID, m.ID, "0"); err != nil {
		t.Fatal(err)
	}
	if err := create(m.ID, "new"); err != nil {
		t.Errorf("after freeing a slot: %v", err)
	}
}

func testUpdateExtensionConcurrent(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	m := e.createMeeting(t, alice, e.settings(time.Hour))
	x := e.createExtension(t, alice.ID, m.ID, "x", "Undefined")
	errs := race(2, func(i int) error {
		return e.s.UpdateExtension(e.ctx, alice.ID, &ucwad.Extension{MeetingID: m.ID, ID: x.ID, Type: "Undefined",
			Properties: []ucwad.ExtensionProperty{{Name: "writer", Value: fmt.Sprint(i)}}}, x.ETag)
	})
	wantOneWinner(t, errs)
}

// meetingEvent is what the suite checks of a meeting or extension event.
type meetingEvent struct {
	typ          ucwad.EventType
	subject      ucwad.SubjectKind
	meeting, ext string
	etag         string // of the value in Data; "" when there is none
}

func describe(t *testing.T, evs []ucwad.Event) []meetingEvent {
	t.Helper()
	var out []meetingEvent
	for _, ev := range evs {
		d := meetingEvent{typ: ev.Type, subject: ev.Subject.Kind, meeting: ev.Subject.MeetingID()}
		if ev.Subject.Kind == ucwad.SubjectExtension {
			d.ext = ev.Subject.ExtensionID()
		}
		if ev.Data != nil {
			var v struct{ ID, MeetingID, ETag string }
			if err := json.Unmarshal(ev.Data, &v); err != nil {
				t.Fatalf("event data %s: %v", ev.Data, err)
			}
			d.etag = v.ETag
			if id := map[ucwad.SubjectKind]string{ucwad.SubjectMeeting: d.meeting, ucwad.SubjectExtension: d.ext}[d.subject]; v.ID != id {
				t.Errorf("event about %q carries data of %q", id, v.ID)
			}
		}
		out = append(out, d)
	}
	return out
}

func testMeetingEvents(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	bob := e.createUser(t, "bob@contoso.com")
	tab1, _ := e.createApp(t, alice, "ep", "tab1")
	e.createApp(t, alice, "ep", "tab2")
	other, _ := e.createApp(t, alice, "other", "")
	bobs, _ := e.createApp(t, bob, "ep", "")
	e.notes.take()
	channels := []struct {
		app      *ucwad.Application
		instance string
	}{{tab1, "tab1"}, {tab1, "tab2"}, {other, ""}}
	// check reads batch ack on every channel of alice's (the suite's
	// channels hold few events, so the changes come in two rounds).
	check := func(round string, ack int64, want []meetingEvent) {
		t.Helper()
		for _, ch := range channels {
			b := e.readBatch(t, ch.app, ch.instance, ack, false)
			if got := describe(t, b.Events); b.Ack != ack || !slices.Equal(got, want) {
				t.Errorf("%s, channel %s/%s: batch %d\ngot  %+v\nwant %+v", round, ch.app.ID, ch.instance, b.Ack, got, want)
			}
			wantWait(t, round+": acknowledged", e.readBatch(t, ch.app, ch.instance, ack+1, false))
		}
		wantWait(t, round+": bob's application", e.readBatch(t, bobs, "", 1, false))
		if got, want := e.notes.take(), slices.Sorted(slices.Values([]string{tab1.ID, other.ID})); !slices.Equal(got, want) {
			t.Errorf("%s: notified %v, want alice's applications %v", round, got, want)
		}
	}

	// The assigned meeting appearing on first use is no change for anyone.
	if _, err := e.s.AssignedMeeting(e.ctx, alice.ID, e.settings(time.Hour), joinBase); err != nil {
		t.Fatal(err)
	}
	m := e.createMeeting(t, alice, e.settings(time.Hour))
	x := e.createExtension(t, alice.ID, m.ID, "x", "Undefined")
	addedETag := x.ETag
	updated, err := e.s.UpdateMeeting(e.ctx, alice.ID, m.ID, e.settings(2*time.Hour), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.s.UpdateExtension(e.ctx, alice.ID, x, ""); err != nil {
		t.Fatal(err)
	}
	check("creates and updates", 1, []meetingEvent{
		{ucwad.EventAdded, ucwad.SubjectMeeting, m.ID, "", m.ETag},
		{ucwad.EventAdded, ucwad.SubjectExtension, m.ID, x.ID, addedETag},
		{ucwad.EventUpdated, ucwad.SubjectMeeting, m.ID, "", updated.ETag},
		{ucwad.EventUpdated, ucwad.SubjectExtension, m.ID, x.ID, x.ETag},
	})

	if err := e.s.DeleteExtension(e.ctx, alice.ID, m.ID, x.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.s.DeleteMeeting(e.ctx, alice.ID, m.ID, ucwad.MeetingSettings{}); err != nil {
		t.Fatal(err)
	}
	expired := e.createMeeting(t, alice, e.settings(time.Minute))
	e.clk.Advance(time.Hour)
	if _, err := e.s.ExpireMeetings(e.ctx, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	// Failures append nothing.
	if _, err := e.s.UpdateMeeting(e.ctx, alice.ID, "nosuchmeeting", e.settings(time.Hour), ""); err == nil {
		t.Fatal("updating an unknown meeting succeeded")
	}
	if err := e.s.CreateExtension(e.ctx, alice.ID, &ucwad.Extension{MeetingID: expired.ID, Type: "Undefined"}); err == nil {
		t.Fatal("adding an extension to an expired meeting succeeded")
	}
	check("deletes and expiry", 2, []meetingEvent{
		{ucwad.EventDeleted, ucwad.SubjectExtension, m.ID, x.ID, ""},
		{ucwad.EventDeleted, ucwad.SubjectMeeting, m.ID, "", ""},
		{ucwad.EventAdded, ucwad.SubjectMeeting, expired.ID, "", expired.ETag},
		{ucwad.EventDeleted, ucwad.SubjectMeeting, expired.ID, "", ""},
	})
}

// testJoinBase: a meeting keeps the base of its joinUrl as it was given at
// creation, through updates, in its events and (for the assigned meeting)
// through a reset; an empty base is kept empty (a meeting from before
// bases were stored).
func testJoinBase(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	m := &ucwad.OnlineMeeting{UserID: alice.ID, MeetingSettings: e.settings(time.Hour), JoinBase: "https://meet.contoso.com"}
	if err := e.s.CreateMeeting(e.ctx, m); err != nil {
		t.Fatal(err)
	}
	if m.JoinBase != "https://meet.contoso.com" {
		t.Errorf("CreateMeeting set JoinBase %q", m.JoinBase)
	}
	changed := e.settings(2 * time.Hour)
	changed.Subject = "changed"
	u, err := e.s.UpdateMeeting(e.ctx, alice.ID, m.ID, changed, "")
	if err != nil {
		t.Fatal(err)
	}
	if u.JoinBase != m.JoinBase {
		t.Errorf("UpdateMeeting answered JoinBase %q, want %q", u.JoinBase, m.JoinBase)
	}
	if got := e.findMeeting(t, alice.ID, m.ID).JoinBase; got != m.JoinBase {
		t.Errorf("FindMeeting after update: JoinBase %q, want %q", got, m.JoinBase)
	}
	for got, err := range e.s.ListMeetings(e.ctx, alice.ID, ucwad.MeetingRelScheduled) {
		if err != nil {
			t.Fatal(err)
		}
		if got.JoinBase != m.JoinBase {
			t.Errorf("ListMeetings: JoinBase %q, want %q", got.JoinBase, m.JoinBase)
		}
	}
	old := &ucwad.OnlineMeeting{UserID: alice.ID, MeetingSettings: e.settings(time.Hour)}
	if err := e.s.CreateMeeting(e.ctx, old); err != nil {
		t.Fatal(err)
	}
	if got := e.findMeeting(t, alice.ID, old.ID).JoinBase; got != "" {
		t.Errorf("a meeting created without a base reads back JoinBase %q", got)
	}

	a, err := e.s.AssignedMeeting(e.ctx, alice.ID, e.settings(time.Hour), "https://first.contoso.com/meet")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.s.DeleteMeeting(e.ctx, alice.ID, a.ID, e.settings(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := e.findMeeting(t, alice.ID, a.ID).JoinBase; got != "https://first.contoso.com/meet" {
		t.Errorf("the assigned meeting after a reset: JoinBase %q", got)
	}
}

// testJoinableMeeting: a join link's alias and id find the meeting
// whoever asks, the alias in any case, until the meeting expires; any other
// alias, an unknown or deleted meeting, one past its expiration time are
// DestinationNotFound.
func testJoinableMeeting(t *testing.T, e *env) {
	alice := e.createUser(t, "Alice.Smith@contoso.com")
	e.createUser(t, "bob@contoso.com")
	m := e.createMeeting(t, alice, e.settings(time.Hour))
	for _, alias := range []string{"alice.smith", "Alice.Smith", "ALICE.SMITH"} {
		got, err := e.s.JoinableMeeting(e.ctx, alias, m.ID)
		if err != nil {
			t.Fatalf("JoinableMeeting(%q, %q): %v", alias, m.ID, err)
		}
		checkMeeting(t, "JoinableMeeting", got, e.findMeeting(t, alice.ID, m.ID))
	}
	gone := e.createMeeting(t, alice, e.settings(time.Hour))
	if err := e.s.DeleteMeeting(e.ctx, alice.ID, gone.ID, ucwad.MeetingSettings{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ alias, id string }{
		{"bob", m.ID}, {"alice", m.ID}, {"alice.smith@contoso.com", m.ID}, {"", m.ID},
		{"alice.smith", "NOSUCHMEET"}, {"alice.smith", ""}, {"alice.smith", gone.ID},
	} {
		_, err := e.s.JoinableMeeting(e.ctx, tc.alias, tc.id)
		wantErr(t, fmt.Sprintf("JoinableMeeting(%q, %q)", tc.alias, tc.id), err, ucwad.ENotFound, ucwad.SubDestinationNotFound)
	}
	// Joinable up to its expiration time, as JoinMeeting.
	e.clk.Advance(time.Hour)
	if _, err := e.s.JoinableMeeting(e.ctx, "alice.smith", m.ID); err != nil {
		t.Errorf("JoinableMeeting at the expiration time: %v", err)
	}
	e.clk.Advance(time.Millisecond)
	_, err := e.s.JoinableMeeting(e.ctx, "alice.smith", m.ID)
	wantErr(t, "JoinableMeeting after the expiration time", err, ucwad.ENotFound, ucwad.SubDestinationNotFound)
}
