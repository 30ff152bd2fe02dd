package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/httpapi"
)

// parseWithFile parses the serve flags with a config file holding body.
func parseWithFile(t *testing.T, body string) (*Main, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ucwad.json")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	env, _, _ := testEnv("", nil)
	m := NewMain(env)
	return m, m.ParseFlags([]string{"--config", path})
}

func TestMeetingsConfig(t *testing.T) {
	// Without a file, the section holds the domain's defaults.
	env, _, _ := testEnv("", nil)
	m := NewMain(env)
	if err := m.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	if got, want := m.Config.File.Meetings.Config(), ucwad.DefaultMeetingConfig(); !reflect.DeepEqual(got, want) {
		t.Errorf("default meetings config:\ngot  %+v\nwant %+v", got, want)
	}
	if got, want := m.Config.File.ServerLimits(), ucwad.DefaultLimits(); got != want {
		t.Errorf("default limits:\ngot  %+v\nwant %+v", got, want)
	}

	// A file sets what it names; the rest keeps its default.
	m, err := parseWithFile(t, `{"meetings":{
		"joinBaseUrl":"https://meet.contoso.com","maxMeetingsPerUser":5,"expiryGrace":"48h",
		"maxParticipants":50,"maxLobbyParticipants":7,"lobbyTimeout":"30m","maxConversationsPerApplication":3,
		"defaultValues":{"accessLevel":"Locked"},
		"eligibleValues":{"accessLevels":["Locked","Invited"]},
		"policies":{"phoneUserAdmission":"Disabled"},
		"customInvitation":{"invitationFooterText":"Call us"},
		"phoneDialInInformation":{"defaultRegion":"Redmond","regions":[{"name":"Redmond","number":"tel:+14255550001","languages":["en-US"]}]}}}`)
	if err != nil {
		t.Fatal(err)
	}
	got := m.Config.File.Meetings.Config()
	want := ucwad.DefaultMeetingConfig()
	want.JoinBaseURL = "https://meet.contoso.com"
	if got, want := m.Config.File.ServerLimits().MaxMeetingsPerUser, 5; got != want {
		t.Errorf("meetings.maxMeetingsPerUser from the file: %d, want %d", got, want)
	}
	want.ExpiryGrace = 48 * time.Hour
	l := m.Config.File.ServerLimits()
	if l.MaxParticipants != 50 || l.MaxLobbyParticipants != 7 || l.MaxConversationsPerApplication != 3 || l.LobbyTimeout != 30*time.Minute {
		t.Errorf("joining limits from the file: %+v", l)
	}
	want.Defaults.AccessLevel = "Locked"
	want.Eligible.AccessLevels = []string{"Locked", "Invited"}
	want.Policies.PhoneUserAdmission = "Disabled"
	want.Invitation.InvitationFooterText = "Call us"
	want.DialIn.DefaultRegion = "Redmond"
	want.DialIn.Regions = []ucwad.DialInRegion{{Name: "Redmond", Number: "tel:+14255550001", Languages: []string{"en-US"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("meetings config from the file:\ngot  %+v\nwant %+v", got, want)
	}

	// Without maxParticipants, the bound is the policies' meetingSize.
	m, err = parseWithFile(t, `{"meetings":{"policies":{"meetingSize":40}}}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Config.File.ServerLimits().MaxParticipants; got != 40 {
		t.Errorf("maxParticipants without a value, meetingSize 40: %d", got)
	}

	for _, tc := range []struct{ name, meetings, wantErr string }{
		{"default not eligible", `{"eligibleValues":{"accessLevels":["Locked"]}}`, "defaultValues.accessLevel"},
		{"unknown value", `{"eligibleValues":{"automaticLeaderAssignments":["Always"]}}`, "automaticLeaderAssignments"},
		{"case matters in the file", `{"eligibleValues":{"lobbyBypassForPhoneUsersSettings":["enabled"]}}`, "lobbyBypassForPhoneUsersSettings"},
		{"empty list", `{"eligibleValues":{"entryExitAnnouncements":[]}}`, "entryExitAnnouncements"},
		{"assigned rel without assigned meetings", `{"assignedMeeting":"Disabled","defaultValues":{"defaultOnlineMeetingRel":"myAssignedOnlineMeeting"}}`, "defaultOnlineMeetingRel"},
		{"assigned policy", `{"assignedMeeting":"Sometimes"}`, "assignedMeeting"},
		{"negative limit", `{"maxMeetingsPerUser":-1}`, "maxMeetingsPerUser"},
		{"negative grace", `{"expiryGrace":"-1h"}`, "expiryGrace"},
		{"negative participants", `{"maxParticipants":-1}`, "maxParticipants"},
		{"negative lobby", `{"maxLobbyParticipants":-1}`, "maxLobbyParticipants"},
		{"negative lobby timeout", `{"lobbyTimeout":"-1m"}`, "lobbyTimeout"},
		{"negative conversations", `{"maxConversationsPerApplication":-2}`, "maxConversationsPerApplication"},
		{"policy value", `{"policies":{"voipAudio":"Maybe"}}`, "voipAudio"},
		{"join base", `{"joinBaseUrl":"meet.contoso.com"}`, "joinBaseUrl"},
		{"region twice", `{"phoneDialInInformation":{"regions":[{"name":"A"},{"name":"A"}]}}`, "twice"},
		{"default region", `{"phoneDialInInformation":{"defaultRegion":"Nowhere"}}`, "defaultRegion"},
		{"misspelt setting", `{"maxMeetingPerUser":3}`, "maxMeetingPerUser"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseWithFile(t, `{"meetings":`+tc.meetings+`}`)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want one naming %s", err, tc.wantErr)
			}
		})
	}
}

// TestConfigurationDoc keeps docs/configuration.md true: every JSON example
// in it is a valid configuration file, and the first, "the whole file with
// its defaults", is exactly what applies without a file.
func TestConfigurationDoc(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(doc), "```json\n")[1:]
	if len(blocks) < 2 {
		t.Fatalf("%d JSON examples in docs/configuration.md, want at least 2", len(blocks))
	}
	for i, b := range blocks {
		body, _, _ := strings.Cut(b, "```")
		m, err := parseWithFile(t, body)
		if err != nil {
			t.Fatalf("example %d: %v", i+1, err)
		}
		if i == 0 && !reflect.DeepEqual(m.Config.File, DefaultFileConfig()) {
			t.Errorf("the documented defaults differ from DefaultFileConfig:\ngot  %+v\nwant %+v", m.Config.File, DefaultFileConfig())
		}
	}
}

// TestPoliciesConfig: the file gives each policy its documented type
// (emergencyNumbers a list, locationRefreshInterval a number) and is
// refused when it gives another type, an undocumented name or a name twice.
func TestPoliciesConfig(t *testing.T) {
	m, err := parseWithFile(t, `{"policies":[
		{"name":"emergencyNumbers","value":["911;555","112"]},
		{"name":"locationRefreshInterval","value":6},
		{"name":"emoticons","value":"Disabled"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	want := []httpapi.Policy{
		{Name: "emergencyNumbers", Value: httpapi.PolicyList("911;555", "112")},
		{Name: "locationRefreshInterval", Value: httpapi.PolicyNumber(6)},
		{Name: "emoticons", Value: httpapi.PolicyText("Disabled")},
	}
	if !reflect.DeepEqual(m.Config.File.Policies, want) {
		t.Errorf("policies from the file:\ngot  %+v\nwant %+v", m.Config.File.Policies, want)
	}
	if n := len(DefaultFileConfig().Policies); n != 33 {
		t.Errorf("%d default policies, want the 33 documented", n)
	}
	for _, tc := range []struct{ name, policies, wantErr string }{
		{"list as a string", `[{"name":"emergencyNumbers","value":"911"}]`, "emergencyNumbers"},
		{"number as a string", `[{"name":"locationRefreshInterval","value":"4"}]`, "locationRefreshInterval"},
		{"string as a number", `[{"name":"emoticons","value":1}]`, "emoticons"},
		{"fraction", `[{"name":"locationRefreshInterval","value":4.5}]`, "whole number"},
		{"out of range", `[{"name":"locationRefreshInterval","value":0}]`, "locationRefreshInterval"},
		{"list of numbers", `[{"name":"emergencyNumbers","value":[911]}]`, "strings"},
		{"boolean", `[{"name":"photos","value":true}]`, "whole number"},
		{"undocumented", `[{"name":"emoticon","value":"Enabled"}]`, "emoticon"},
		{"twice", `[{"name":"photos","value":"Enabled"},{"name":"photos","value":"Disabled"}]`, "twice"},
		{"misspelt member", `[{"name":"photos","valeu":"Enabled"}]`, "valeu"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseWithFile(t, `{"policies":`+tc.policies+`}`)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want one naming %s", err, tc.wantErr)
			}
		})
	}
}

// TestLimitsConfig: the per-user bounds of the limits section, their
// defaults, and the values that cannot work.
func TestLimitsConfig(t *testing.T) {
	env, _, _ := testEnv("", nil)
	m := NewMain(env)
	if err := m.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	l := m.Config.File.Limits
	if l.MaxChannelsPerApplication != 16 || l.MaxChannelsPerUser != 200 || l.MaxEventBytesPerUser != 4<<20 || l.MaxConcurrentWritesPerUser != 1 {
		t.Errorf("default channel and event limits: %+v", l)
	}
	if got := m.Config.File.Meetings.MaxExtensionBytes; got != 64<<10 {
		t.Errorf("default meetings.maxExtensionBytes %d, want 65536", got)
	}
	m, err := parseWithFile(t, `{"limits":{"maxChannelsPerApplication":4,"maxChannelsPerUser":40,"maxEventBytesPerUser":8388608,"maxConcurrentWritesPerUser":3},
		"meetings":{"maxExtensionBytes":2048}}`)
	if err != nil {
		t.Fatal(err)
	}
	if l := m.Config.File.Limits; l.MaxChannelsPerApplication != 4 || l.MaxChannelsPerUser != 40 || l.MaxEventBytesPerUser != 8<<20 || l.MaxConcurrentWritesPerUser != 3 {
		t.Errorf("limits from the file: %+v", l)
	}
	// The store and the transport get both sections in one value.
	want := ucwad.DefaultLimits()
	want.MaxChannelsPerApplication, want.MaxChannelsPerUser, want.MaxEventBytesPerUser, want.MaxExtensionBytes = 4, 40, 8<<20, 2048
	if got := m.Config.File.ServerLimits(); got != want {
		t.Errorf("limits from the file:\ngot  %+v\nwant %+v", got, want)
	}
	for _, tc := range []struct{ name, file, wantErr string }{
		{"no channels", `{"limits":{"maxChannelsPerApplication":0}}`, "maxChannelsPerApplication"},
		{"fewer per user than per application", `{"limits":{"maxChannelsPerApplication":20,"maxChannelsPerUser":10}}`, "maxChannelsPerUser"},
		{"event bytes too small", `{"limits":{"maxEventBytesPerUser":65536}}`, "maxEventBytesPerUser"},
		{"no writes", `{"limits":{"maxConcurrentWritesPerUser":0}}`, "maxConcurrentWritesPerUser"},
		{"extension too small", `{"meetings":{"maxExtensionBytes":100}}`, "maxExtensionBytes"},
		{"extension too large", `{"meetings":{"maxExtensionBytes":2097152}}`, "maxExtensionBytes"},
		{"negative extension", `{"meetings":{"maxExtensionBytes":-1}}`, "maxExtensionBytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseWithFile(t, tc.file)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want one naming %s", err, tc.wantErr)
			}
		})
	}
}
