package ucwad

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// MeetingConfig is what the server reports about online meetings
// (onlineMeetingDefaultValues, onlineMeetingEligibleValues,
// onlineMeetingPolicies, onlineMeetingInvitationCustomization,
// phoneDialInInformation) and the values the meeting rules hold clients to
// (MeetingRules). Its limits are in Limits, with every other bound. A zero
// field takes its value from DefaultMeetingConfig.
type MeetingConfig struct {
	// JoinBaseURL is the absolute URL the joinUrl of every meeting created
	// from now on starts with, e.g. "https://meet.contoso.com" for a
	// deployment that maps meet.<domain> to this server. Empty: the
	// server's own join page, <public URL>/meet (see JoinBase).
	JoinBaseURL string
	// ExpiryGrace is how long a meeting stays after its expirationTime
	// before the sweep deletes it.
	ExpiryGrace time.Duration
	// AssignedMeeting is "Enabled" when every user has an assigned meeting
	// (myAssignedOnlineMeeting), created on first use, or "Disabled".
	AssignedMeeting string
	// AnonymousJoin is "Enabled" when anonymous guests may join meetings
	// with the meeting key (the token endpoint's anonmeeting grant, listed
	// in the MsRtcOAuth challenge), or "Disabled" (the grant is then an
	// unsupported grant type).
	AnonymousJoin string

	Defaults   MeetingDefaults
	Eligible   MeetingEligibleValues
	Policies   MeetingPolicies
	Invitation InvitationCustomization
	DialIn     DialInInformation
}

// MeetingDefaults are the onlineMeetingDefaultValues: what a meeting gets
// for a setting the client does not send.
type MeetingDefaults struct {
	AccessLevel               string `json:"accessLevel"`
	AutomaticLeaderAssignment string `json:"automaticLeaderAssignment"`
	// DefaultOnlineMeetingRel is the template clients should schedule with:
	// "myOnlineMeetings" or "myAssignedOnlineMeeting".
	DefaultOnlineMeetingRel      string `json:"defaultOnlineMeetingRel"`
	EntryExitAnnouncement        string `json:"entryExitAnnouncement"`
	LobbyBypassForPhoneUsers     string `json:"lobbyBypassForPhoneUsers"`
	ParticipantsWarningThreshold int    `json:"participantsWarningThreshold"`
}

// MeetingEligibleValues are the onlineMeetingEligibleValues: the only
// values a client may set. (eligibleOnlineMeetingRels follows from
// MeetingConfig.AssignedMeeting.)
type MeetingEligibleValues struct {
	AccessLevels                     []string `json:"accessLevels"`
	AutomaticLeaderAssignments       []string `json:"automaticLeaderAssignments"`
	EntryExitAnnouncements           []string `json:"entryExitAnnouncements"`
	LobbyBypassForPhoneUsersSettings []string `json:"lobbyBypassForPhoneUsersSettings"`
}

// MeetingPolicies are the onlineMeetingPolicies. PhoneUserAdmission also
// decides whether meetings may set phoneUserAdmission to Enabled.
type MeetingPolicies struct {
	EntryExitAnnouncement        string `json:"entryExitAnnouncement"`
	ExternalUserMeetingRecording string `json:"externalUserMeetingRecording"`
	MeetingRecording             string `json:"meetingRecording"`
	MeetingSize                  int    `json:"meetingSize"`
	PhoneUserAdmission           string `json:"phoneUserAdmission"`
	VoipAudio                    string `json:"voipAudio"`
}

// InvitationCustomization is the onlineMeetingInvitationCustomization;
// empty values are reported empty.
type InvitationCustomization struct {
	EnterpriseHelpURL    string `json:"enterpriseHelpUrl"`
	InvitationFooterText string `json:"invitationFooterText"`
	InvitationHelpURL    string `json:"invitationHelpUrl"`
	InvitationLegalURL   string `json:"invitationLegalUrl"`
	InvitationLogoURL    string `json:"invitationLogoUrl"`
}

// DialInInformation is the phoneDialInInformation. Its conferenceId is the
// assigned meeting's, when there is one.
type DialInInformation struct {
	DefaultRegion                    string         `json:"defaultRegion"`
	ExternalDirectoryURI             string         `json:"externalDirectoryUri"`
	InternalDirectoryURI             string         `json:"internalDirectoryUri"`
	IsAudioConferenceProviderEnabled bool           `json:"isAudioConferenceProviderEnabled"`
	ParticipantPassCode              string         `json:"participantPassCode"`
	TollFreeNumbers                  []string       `json:"tollFreeNumbers"`
	TollNumber                       string         `json:"tollNumber"`
	Regions                          []DialInRegion `json:"regions"`
}

// DialInRegion is one dialInRegion; Name is unique and is its href's last
// segment.
type DialInRegion struct {
	Name      string   `json:"name"`
	Number    string   `json:"number"`
	Languages []string `json:"languages"`
}

// Assigned-meeting policy values.
const (
	PolicyEnabled  = "Enabled"
	PolicyDisabled = "Disabled"
)

// DefaultMeetingConfig is what a new installation reports and enforces:
// every value a UCWA client may send is eligible (but None, which means
// "not initialised"), so that unmodified clients schedule as they do
// against a Front End; recording and VoIP audio, which this server does not
// provide, are reported off; there is no dial-in.
func DefaultMeetingConfig() MeetingConfig {
	return MeetingConfig{
		ExpiryGrace:     14 * 24 * time.Hour,
		AssignedMeeting: PolicyEnabled,
		AnonymousJoin:   PolicyEnabled,
		Defaults: MeetingDefaults{
			AccessLevel:                  "SameEnterprise",
			AutomaticLeaderAssignment:    "SameEnterprise",
			DefaultOnlineMeetingRel:      MeetingRelScheduled,
			EntryExitAnnouncement:        "Disabled",
			LobbyBypassForPhoneUsers:     "Disabled",
			ParticipantsWarningThreshold: 250,
		},
		Eligible: MeetingEligibleValues{
			AccessLevels:                     []string{"SameEnterprise", "Locked", "Invited", "Everyone"},
			AutomaticLeaderAssignments:       slices.Clone(AutomaticLeaderAssignments),
			EntryExitAnnouncements:           []string{"Disabled", "Enabled"},
			LobbyBypassForPhoneUsersSettings: slices.Clone(LobbyBypassSettings),
		},
		Policies: MeetingPolicies{
			EntryExitAnnouncement:        PolicyEnabled,
			ExternalUserMeetingRecording: PolicyDisabled,
			MeetingRecording:             PolicyDisabled,
			MeetingSize:                  250,
			PhoneUserAdmission:           PolicyEnabled,
			VoipAudio:                    PolicyDisabled,
		},
		DialIn: DialInInformation{TollFreeNumbers: []string{}, Regions: []DialInRegion{}},
	}
}

// WithDefaults returns m with every zero field set to its value in
// DefaultMeetingConfig and JoinBaseURL without a trailing slash.
func (m MeetingConfig) WithDefaults() MeetingConfig {
	d := DefaultMeetingConfig()
	setInt := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setString := func(v *string, def string) {
		if *v == "" {
			*v = def
		}
	}
	setList := func(v *[]string, def []string) {
		if *v == nil {
			*v = def
		}
	}
	if m.ExpiryGrace <= 0 {
		m.ExpiryGrace = d.ExpiryGrace
	}
	setString(&m.AssignedMeeting, d.AssignedMeeting)
	setString(&m.AnonymousJoin, d.AnonymousJoin)
	m.JoinBaseURL = strings.TrimRight(m.JoinBaseURL, "/")

	setString(&m.Defaults.AccessLevel, d.Defaults.AccessLevel)
	setString(&m.Defaults.AutomaticLeaderAssignment, d.Defaults.AutomaticLeaderAssignment)
	setString(&m.Defaults.DefaultOnlineMeetingRel, d.Defaults.DefaultOnlineMeetingRel)
	setString(&m.Defaults.EntryExitAnnouncement, d.Defaults.EntryExitAnnouncement)
	setString(&m.Defaults.LobbyBypassForPhoneUsers, d.Defaults.LobbyBypassForPhoneUsers)
	setInt(&m.Defaults.ParticipantsWarningThreshold, d.Defaults.ParticipantsWarningThreshold)

	setList(&m.Eligible.AccessLevels, d.Eligible.AccessLevels)
	setList(&m.Eligible.AutomaticLeaderAssignments, d.Eligible.AutomaticLeaderAssignments)
	setList(&m.Eligible.EntryExitAnnouncements, d.Eligible.EntryExitAnnouncements)
	setList(&m.Eligible.LobbyBypassForPhoneUsersSettings, d.Eligible.LobbyBypassForPhoneUsersSettings)

	setString(&m.Policies.EntryExitAnnouncement, d.Policies.EntryExitAnnouncement)
	setString(&m.Policies.ExternalUserMeetingRecording, d.Policies.ExternalUserMeetingRecording)
	setString(&m.Policies.MeetingRecording, d.Policies.MeetingRecording)
	setInt(&m.Policies.MeetingSize, d.Policies.MeetingSize)
	setString(&m.Policies.PhoneUserAdmission, d.Policies.PhoneUserAdmission)
	setString(&m.Policies.VoipAudio, d.Policies.VoipAudio)

	setList(&m.DialIn.TollFreeNumbers, d.DialIn.TollFreeNumbers)
	if m.DialIn.Regions == nil {
		m.DialIn.Regions = d.DialIn.Regions
	}
	for i := range m.DialIn.Regions {
		setList(&m.DialIn.Regions[i].Languages, []string{})
	}
	return m
}

// JoinPath is where a meeting's join link leads on the server itself by
// default: joinUrl is <public URL>/meet/<alias>/<onlineMeetingId>, the
// page that lets a person join it in a browser.
const JoinPath = "/meet"

// JoinBase is the base of the joinUrl of a meeting created now, for a
// client that reached the server at server (its public URL, or the
// scheme://host the request used): JoinBaseURL when set, otherwise
// server + JoinPath. The meeting keeps it (OnlineMeeting.JoinBase), so its
// link never changes with the Host a later request uses.
func (m *MeetingConfig) JoinBase(server string) string {
	if base := strings.TrimRight(m.JoinBaseURL, "/"); base != "" {
		return base
	}
	return strings.TrimRight(server, "/") + JoinPath
}

// JoinURL is the meeting's joinUrl, <base>/<alias>/<onlineMeetingId>: the
// alias is the lower-cased part of the organizer's address before "@", the
// base the meeting's own JoinBase. A meeting stored before bases were
// stored (JoinBase "") keeps the link it always had: JoinBaseURL or, when
// that is empty, the organizer's simple URL https://meet.<domain>. It
// depends on the meeting alone, never on who asks.
func (m *MeetingConfig) JoinURL(meeting *OnlineMeeting) string {
	alias, domain, _ := strings.Cut(meeting.Organizer.SIP, "@")
	base := meeting.JoinBase
	if base == "" {
		base = strings.TrimRight(m.JoinBaseURL, "/")
	}
	if base == "" {
		base = "https://meet." + strings.ToLower(domain)
	}
	return base + "/" + url.PathEscape(strings.ToLower(alias)) + "/" + url.PathEscape(meeting.ID)
}

// AnonymousEnabled reports whether anonymous guests may join meetings.
func (m *MeetingConfig) AnonymousEnabled() bool { return m.AnonymousJoin == PolicyEnabled }

// AssignedEnabled reports whether users have an assigned meeting.
func (m *MeetingConfig) AssignedEnabled() bool { return m.AssignedMeeting == PolicyEnabled }

// EligibleRels is eligibleOnlineMeetingRels: the rels a meeting may have.
func (m *MeetingConfig) EligibleRels() []string {
	if m.AssignedEnabled() {
		return []string{MeetingRelScheduled, MeetingRelAssigned}
	}
	return []string{MeetingRelScheduled}
}

// PhoneUserAdmissions are the phoneUserAdmission values the policy allows.
func (m *MeetingConfig) PhoneUserAdmissions() []string {
	if m.Policies.PhoneUserAdmission == PolicyEnabled {
		return PhoneUserAdmissions
	}
	return []string{"Disabled"}
}

// Validate reports the first setting that cannot work, after the defaults
// for zero fields are applied: a default that is not eligible, a value
// outside its enumeration, a negative number, duplicate dial-in regions.
// Settings are named as the configuration file names them.
func (m MeetingConfig) Validate() error {
	for name, v := range map[string]int64{
		"expiryGrace": int64(m.ExpiryGrace), "defaultValues.participantsWarningThreshold": int64(m.Defaults.ParticipantsWarningThreshold),
		"policies.meetingSize": int64(m.Policies.MeetingSize),
	} {
		if v < 0 {
			return fmt.Errorf("%s must not be negative", name)
		}
	}
	m = m.WithDefaults()
	if m.JoinBaseURL != "" {
		u, err := url.Parse(m.JoinBaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("joinBaseUrl %q must be an absolute http(s) URL without query, e.g. https://meet.contoso.com", m.JoinBaseURL)
		}
	}
	if m.AssignedMeeting != PolicyEnabled && m.AssignedMeeting != PolicyDisabled {
		return fmt.Errorf("assignedMeeting %q: want Enabled or Disabled", m.AssignedMeeting)
	}
	if m.AnonymousJoin != PolicyEnabled && m.AnonymousJoin != PolicyDisabled {
		return fmt.Errorf("anonymousJoin %q: want Enabled or Disabled", m.AnonymousJoin)
	}
	lists := []struct {
		name           string
		values, domain []string
		def, defName   string
	}{
		{"eligibleValues.accessLevels", m.Eligible.AccessLevels, AccessLevels, m.Defaults.AccessLevel, "accessLevel"},
		{"eligibleValues.automaticLeaderAssignments", m.Eligible.AutomaticLeaderAssignments, AutomaticLeaderAssignments, m.Defaults.AutomaticLeaderAssignment, "automaticLeaderAssignment"},
		{"eligibleValues.entryExitAnnouncements", m.Eligible.EntryExitAnnouncements, EntryExitAnnouncements, m.Defaults.EntryExitAnnouncement, "entryExitAnnouncement"},
		{"eligibleValues.lobbyBypassForPhoneUsersSettings", m.Eligible.LobbyBypassForPhoneUsersSettings, LobbyBypassSettings, m.Defaults.LobbyBypassForPhoneUsers, "lobbyBypassForPhoneUsers"},
		{"eligibleOnlineMeetingRels", m.EligibleRels(), m.EligibleRels(), m.Defaults.DefaultOnlineMeetingRel, "defaultOnlineMeetingRel"},
	}
	for _, l := range lists {
		if len(l.values) == 0 {
			return fmt.Errorf("%s is empty", l.name)
		}
		for i, v := range l.values {
			if !slices.Contains(l.domain, v) {
				return fmt.Errorf("%s: %q is not one of %s", l.name, v, strings.Join(l.domain, ", "))
			}
			if slices.Contains(l.values[:i], v) {
				return fmt.Errorf("%s: %q is listed twice", l.name, v)
			}
		}
		if !slices.Contains(l.values, l.def) {
			return fmt.Errorf("defaultValues.%s %q is not among %s %v", l.defName, l.def, l.name, l.values)
		}
	}
	for name, v := range map[string]string{
		"entryExitAnnouncement": m.Policies.EntryExitAnnouncement, "externalUserMeetingRecording": m.Policies.ExternalUserMeetingRecording,
		"meetingRecording": m.Policies.MeetingRecording, "phoneUserAdmission": m.Policies.PhoneUserAdmission, "voipAudio": m.Policies.VoipAudio,
	} {
		if !slices.Contains(GenericPolicies, v) {
			return fmt.Errorf("policies.%s %q: want one of %s", name, v, strings.Join(GenericPolicies, ", "))
		}
	}
	seen := map[string]bool{}
	for _, r := range m.DialIn.Regions {
		if r.Name == "" {
			return errors.New("phoneDialInInformation.regions: a region has no name")
		}
		if seen[r.Name] {
			return fmt.Errorf("phoneDialInInformation.regions: %q is listed twice", r.Name)
		}
		seen[r.Name] = true
	}
	if d := m.DialIn.DefaultRegion; d != "" && !seen[d] {
		return fmt.Errorf("phoneDialInInformation.defaultRegion %q is not one of the regions", d)
	}
	return nil
}
