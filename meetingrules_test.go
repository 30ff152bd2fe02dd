package ucwad_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
)

var now = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// wantInvalid checks that err is a 400 ParameterValidationFailure naming
// member, its message holding each of texts.
func wantInvalid(t *testing.T, what string, err error, member string, texts ...string) {
	t.Helper()
	var e *ucwad.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: error %v, want a ParameterValidationFailure naming %s", what, err, member)
	}
	if e.Code != ucwad.EBadRequest || e.Subcode != ucwad.SubParameterValidationFailure || !reflect.DeepEqual(e.Parameters, []string{member}) {
		t.Errorf("%s: %s/%s naming %v, want BadRequest/ParameterValidationFailure naming %s", what, e.Code, e.Subcode, e.Parameters, member)
	}
	for _, s := range texts {
		if !strings.Contains(e.Message, s) {
			t.Errorf("%s: message %q lacks %q", what, e.Message, s)
		}
	}
}

// TestMeetingSettingsDefaults: what a meeting gets for what a client
// leaves out, when scheduling and when replacing its settings.
func TestMeetingSettingsDefaults(t *testing.T) {
	r := ucwad.NewMeetingRules(ucwad.MeetingConfig{}, ucwad.Limits{})
	want := ucwad.MeetingSettings{AccessLevel: "SameEnterprise", AutomaticLeaderAssignment: "SameEnterprise",
		EntryExitAnnouncement: "Disabled", LobbyBypassForPhoneUsers: "Disabled", PhoneUserAdmission: "Disabled",
		Attendees: []string{}, Leaders: []string{}}
	if got := r.DefaultSettings(); !reflect.DeepEqual(got, want) {
		t.Errorf("DefaultSettings:\ngot  %+v\nwant %+v", got, want)
	}
	got, err := r.ReplacedMeetingSettings(ucwad.MeetingInput{}, now)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ReplacedMeetingSettings of nothing (keeps the stored expiration):\ngot  %+v, %v\nwant %+v", got, err, want)
	}
	want.ExpirationTime = now.Add(8 * time.Hour)
	if got, err := r.NewMeetingSettings(ucwad.MeetingInput{}, now); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("NewMeetingSettings of nothing:\ngot  %+v, %v\nwant %+v", got, err, want)
	}
	want.ExpirationTime = now.AddDate(10, 0, 0)
	if got := r.AssignedSettings(now); !reflect.DeepEqual(got, want) {
		t.Errorf("AssignedSettings:\ngot  %+v\nwant %+v", got, want)
	}

	// The configured defaults, not the built-in ones.
	r = ucwad.NewMeetingRules(ucwad.MeetingConfig{Defaults: ucwad.MeetingDefaults{AccessLevel: "Locked"}}, ucwad.Limits{})
	if got := r.DefaultSettings().AccessLevel; got != "Locked" {
		t.Errorf("configured default access level: %q", got)
	}
}

// TestMeetingSettings: values are checked against the configuration,
// enumerations answered in their canonical spelling, addresses normalized;
// each fault is a 400 naming its member.
func TestMeetingSettings(t *testing.T) {
	r := ucwad.NewMeetingRules(ucwad.MeetingConfig{}, ucwad.Limits{})
	in := ucwad.MeetingInput{
		Subject: strings.Repeat("é", 250), Description: "agenda",
		AccessLevel: ptr("everyone"), AutomaticLeaderAssignment: ptr("DISABLED"),
		AttendanceAnnouncementsStatus: ptr("enabled"), LobbyBypassForPhoneUsers: ptr("Enabled"), PhoneUserAdmission: ptr("enabled"),
		Attendees: []string{" bob@contoso.com ", "SIP:carol@fabrikam.com"}, Leaders: []string{"sip:dave@contoso.com"},
		ExpirationTime: ptr(now.AddDate(10, 0, 0)),
	}
	got, err := r.NewMeetingSettings(in, now)
	if err != nil {
		t.Fatal(err)
	}
	want := ucwad.MeetingSettings{Subject: in.Subject, Description: "agenda", AccessLevel: "Everyone",
		AutomaticLeaderAssignment: "Disabled", EntryExitAnnouncement: "Enabled", LobbyBypassForPhoneUsers: "Enabled",
		PhoneUserAdmission: "Enabled", Attendees: []string{"sip:bob@contoso.com", "sip:carol@fabrikam.com"},
		Leaders: []string{"sip:dave@contoso.com"}, ExpirationTime: now.AddDate(10, 0, 0)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("settings:\ngot  %+v\nwant %+v", got, want)
	}
	// The current name wins over the older one.
	in.EntryExitAnnouncement = ptr("disabled")
	if got, err := r.NewMeetingSettings(in, now); err != nil || got.EntryExitAnnouncement != "Disabled" {
		t.Errorf("entryExitAnnouncement beside attendanceAnnouncementsStatus: %q, %v", got.EntryExitAnnouncement, err)
	}

	many := make([]string, 1001)
	for i := range many {
		many[i] = fmt.Sprintf("sip:u%d@contoso.com", i)
	}
	long := make([]string, 200)
	for i := range long {
		long[i] = fmt.Sprintf("sip:%0200d@contoso.com", i)
	}
	for _, tc := range []struct {
		name   string
		in     ucwad.MeetingInput
		member string
		texts  []string
	}{
		{"subject", ucwad.MeetingInput{Subject: strings.Repeat("s", 251)}, "subject", []string{"at most 250 characters (it has 251)"}},
		{"description", ucwad.MeetingInput{Description: strings.Repeat("d", 8193)}, "description", []string{"8192"}},
		{"access level", ucwad.MeetingInput{AccessLevel: ptr("None")}, "accessLevel", []string{`accessLevel "None" is not allowed here`, "SameEnterprise, Locked, Invited, Everyone"}},
		{"older name", ucwad.MeetingInput{AttendanceAnnouncementsStatus: ptr("Loud")}, "attendanceAnnouncementsStatus", []string{`"Loud"`}},
		{"empty value", ucwad.MeetingInput{LobbyBypassForPhoneUsers: ptr("")}, "lobbyBypassForPhoneUsers", nil},
		{"attendee", ucwad.MeetingInput{Attendees: []string{"bob"}}, "attendees", []string{`"bob" is not a SIP URI`}},
		{"leader", ucwad.MeetingInput{Leaders: []string{"sip:bob@contoso..com"}}, "leaders", nil},
		{"attendee count", ucwad.MeetingInput{Attendees: many}, "attendees", []string{"at most 1000 addresses (it has 1001)"}},
		{"leader bytes", ucwad.MeetingInput{Leaders: long}, "leaders", []string{"32768 bytes"}},
		{"expiry too early", ucwad.MeetingInput{ExpirationTime: ptr(now.AddDate(-1, 0, 0).Add(-time.Millisecond))}, "expirationTime", []string{"2025-03-01T09:00:00Z and 2036-03-01T09:00:00Z"}},
		{"expiry too late", ucwad.MeetingInput{ExpirationTime: ptr(now.AddDate(10, 0, 0).Add(time.Millisecond))}, "expirationTime", nil},
	} {
		for _, replace := range []bool{false, true} {
			check := r.NewMeetingSettings
			if replace {
				check = r.ReplacedMeetingSettings
			}
			_, err := check(tc.in, now)
			wantInvalid(t, fmt.Sprintf("%s (replace %v)", tc.name, replace), err, tc.member, tc.texts...)
		}
	}

	// phoneUserAdmission Enabled only under the policy that allows it.
	r = ucwad.NewMeetingRules(ucwad.MeetingConfig{Policies: ucwad.MeetingPolicies{PhoneUserAdmission: "Disabled"}}, ucwad.Limits{})
	_, err = r.NewMeetingSettings(ucwad.MeetingInput{PhoneUserAdmission: ptr("Enabled")}, now)
	wantInvalid(t, "phoneUserAdmission against the policy", err, "phoneUserAdmission", "the eligible values are Disabled.")
	// The configured eligible values, not the enumeration.
	r = ucwad.NewMeetingRules(ucwad.MeetingConfig{Eligible: ucwad.MeetingEligibleValues{AccessLevels: []string{"SameEnterprise", "Locked"}}}, ucwad.Limits{})
	_, err = r.NewMeetingSettings(ucwad.MeetingInput{AccessLevel: ptr("Everyone")}, now)
	wantInvalid(t, "an access level not eligible here", err, "accessLevel", "SameEnterprise, Locked.")
}

// TestExtensionRules: an extension's id, type and own properties, and the
// faults refused with a 400 naming the member.
func TestExtensionRules(t *testing.T) {
	r := ucwad.NewMeetingRules(ucwad.MeetingConfig{}, ucwad.Limits{MaxExtensionBytes: 2048})
	x, err := r.NewExtension("M1", ucwad.ExtensionInput{ID: "a/b", Type: ptr("roamedorganizerdata"), Members: []ucwad.ExtensionMember{
		{Name: "color", Value: "red", Data: true},
		{Name: "n", Value: "1"},              // a number: not data
		{Name: "ID", Value: "x", Data: true}, // the id under another casing is no property
		{Name: "", Value: "nameless", Data: true},
		{Name: "size", Value: "", Data: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := &ucwad.Extension{MeetingID: "M1", ID: "a/b", Type: "RoamedOrganizerData",
		Properties: []ucwad.ExtensionProperty{{Name: "color", Value: "red"}, {Name: "size", Value: ""}}}
	if !reflect.DeepEqual(x, want) {
		t.Errorf("NewExtension:\ngot  %+v\nwant %+v", x, want)
	}
	if x, err := r.NewExtension("M1", ucwad.ExtensionInput{}); err != nil || x.ID != "" || x.Type != "Undefined" || x.Properties == nil {
		t.Errorf("an empty extension: %+v, %v; want no id (the store draws one), Undefined, no properties", x, err)
	}

	// A PUT keeps the id, sent or not, and may not change it.
	if x, err := r.ReplacedExtension("M1", "a/b", ucwad.ExtensionInput{}); err != nil || x.ID != "a/b" {
		t.Errorf("ReplacedExtension without an id: %+v, %v", x, err)
	}
	_, err = r.ReplacedExtension("M1", "a/b", ucwad.ExtensionInput{ID: "c"})
	wantInvalid(t, "a changed id", err, "id", `The id of an extension cannot change (it is "a/b").`)

	props := func(n int) []ucwad.ExtensionMember {
		ms := make([]ucwad.ExtensionMember, n)
		for i := range ms {
			ms[i] = ucwad.ExtensionMember{Name: fmt.Sprint("p", i), Value: "v", Data: true}
		}
		return ms
	}
	for _, tc := range []struct {
		name   string
		in     ucwad.ExtensionInput
		member string
		texts  []string
	}{
		{"long id", ucwad.ExtensionInput{ID: strings.Repeat("i", 257)}, "id", []string{"at most 256 characters"}},
		{"dot id", ucwad.ExtensionInput{ID: ".."}, "id", nil},
		{"control in id", ucwad.ExtensionInput{ID: "a\u0085b"}, "id", nil},
		{"type", ucwad.ExtensionInput{Type: ptr("Roamed")}, "type", []string{`type "Roamed" is not one of Undefined, RoamedOrganizerData, RoamedParticipantData.`}},
		// A name is checked even on a member that carries no data.
		{"control in a name", ucwad.ExtensionInput{Members: []ucwad.ExtensionMember{{Name: "tab\there", Value: "1"}}}, "tab\there", []string{"control character"}},
		{"long name", ucwad.ExtensionInput{Members: []ucwad.ExtensionMember{{Name: strings.Repeat("n", 257), Value: "v", Data: true}}}, strings.Repeat("n", 256) + "…", []string{"(this one has 257)"}},
		{"properties", ucwad.ExtensionInput{Members: props(257)}, "p256", []string{"at most 256 properties"}},
		{"size", ucwad.ExtensionInput{ID: "x", Members: []ucwad.ExtensionMember{{Name: "small", Value: "v", Data: true}, {Name: "big", Value: strings.Repeat("b", 2040), Data: true}}},
			"big", []string{"at most 2048 bytes", "add up to 2059", "big is the largest member, with 2043"}},
	} {
		_, err := r.NewExtension("M1", tc.in)
		wantInvalid(t, tc.name, err, tc.member, tc.texts...)
	}
}

// TestLimits: zero limits take their defaults; negative ones and extension
// sizes outside their range cannot work.
func TestLimits(t *testing.T) {
	if got, want := (ucwad.Limits{}).WithDefaults(), ucwad.DefaultLimits(); got != want {
		t.Errorf("defaults: %+v, want %+v", got, want)
	}
	set := ucwad.Limits{MaxMeetingsPerUser: 3, MaxEventBytesPerUser: 1 << 30}
	if got := set.WithDefaults(); got.MaxMeetingsPerUser != 3 || got.MaxEventBytesPerUser != 1<<30 || got.MaxExtensionsPerMeeting != 100 {
		t.Errorf("set limits with defaults: %+v", got)
	}
	if err := (ucwad.Limits{}).Validate(); err != nil {
		t.Errorf("zero limits: %v", err)
	}
	for _, tc := range []struct {
		l    ucwad.Limits
		want string
	}{
		{ucwad.Limits{MaxApplicationsPerUser: -1}, "MaxApplicationsPerUser"},
		{ucwad.Limits{MaxBatchBytes: -1}, "MaxBatchBytes"},
		{ucwad.Limits{MaxExtensionsPerMeeting: -1}, "MaxExtensionsPerMeeting"},
		{ucwad.Limits{MaxExtensionBytes: ucwad.MinExtensionBytes - 1}, "MaxExtensionBytes"},
		{ucwad.Limits{MaxExtensionBytes: ucwad.MaxExtensionBytes + 1}, "MaxExtensionBytes"},
	} {
		if err := tc.l.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v): %v, want an error naming %s", tc.l, err, tc.want)
		}
	}
}

// TestJoinURL: a meeting's joinUrl is its own stored base, its organizer's
// alias and its id; a meeting stored before bases were stored keeps the
// link it always had, from the configured base or the organizer's domain.
func TestJoinURL(t *testing.T) {
	m := &ucwad.OnlineMeeting{ID: "AB12CD34EF", Organizer: ucwad.Person{SIP: "Alice.Smith@Contoso.COM"}}
	for _, tc := range []struct{ stored, configured, want string }{
		{"", "", "https://meet.contoso.com/alice.smith/AB12CD34EF"},
		{"", "https://lync.contoso.com/meet/", "https://lync.contoso.com/meet/alice.smith/AB12CD34EF"},
		{"https://ucwad.contoso.com/meet", "", "https://ucwad.contoso.com/meet/alice.smith/AB12CD34EF"},
		{"https://ucwad.contoso.com/meet", "https://lync.contoso.com", "https://ucwad.contoso.com/meet/alice.smith/AB12CD34EF"},
	} {
		c := ucwad.MeetingConfig{JoinBaseURL: tc.configured}
		m.JoinBase = tc.stored
		if got := c.JoinURL(m); got != tc.want {
			t.Errorf("JoinURL with stored base %q, configured %q: %q, want %q", tc.stored, tc.configured, got, tc.want)
		}
	}
	// The base a new meeting gets: the configured one, else the server's
	// join page.
	for _, tc := range []struct{ configured, server, want string }{
		{"", "https://lyncweb.contoso.com", "https://lyncweb.contoso.com/meet"},
		{"", "http://127.0.0.1:8080/", "http://127.0.0.1:8080/meet"},
		{"https://meet.contoso.com/", "https://lyncweb.contoso.com", "https://meet.contoso.com"},
	} {
		c := ucwad.MeetingConfig{JoinBaseURL: tc.configured}
		if got := c.JoinBase(tc.server); got != tc.want {
			t.Errorf("JoinBase(%q) with %q configured: %q, want %q", tc.server, tc.configured, got, tc.want)
		}
	}
	if got, want := m.URI(), "sip:Alice.Smith@Contoso.COM;gruu;opaque=app:conf:focus:id:AB12CD34EF"; got != want {
		t.Errorf("URI: %q, want %q", got, want)
	}
}
