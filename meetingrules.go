package ucwad

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MeetingRules are the rules of meetings and their extensions, written once
// for every way in: a request of the organizer, a part of a batch, and the
// join requests and anonymous callers to come. They decide what a client may
// set, what a meeting gets for what the client leaves out, and how large
// what it sends may be. The transport decodes a request into a MeetingInput
// or an ExtensionInput, asks the rules, and passes what they return to the
// store, which counts (Limits) but checks no values.
type MeetingRules struct {
	// Config is the meeting configuration, defaults applied.
	Config MeetingConfig
	// Limits are the server's limits, defaults applied; the rules read the
	// sizes (MaxExtensionBytes) of it.
	Limits Limits
}

// NewMeetingRules returns the rules of c and l, zero fields taking their
// defaults.
func NewMeetingRules(c MeetingConfig, l Limits) *MeetingRules {
	return &MeetingRules{Config: c.WithDefaults(), Limits: l.WithDefaults()}
}

// What UCWA documents for expirationTime: 8 hours when a new meeting names
// none, and a window from one year back to ten years ahead.
const (
	defaultExpiry       = 8 * time.Hour
	expiryWindowBack    = 1  // years
	expiryWindowForward = 10 // years
)

// Sizes of what a client may store in a meeting and its extensions, so that
// what one user can make the server store and send is bounded (the
// extension total is Limits.MaxExtensionBytes). Text is counted in
// characters, the extension total in bytes of UTF-8.
const (
	// maxSubject is the reference's maximum for a subject (of a
	// conversation and an invitation; it gives none for meetings).
	maxSubject = 250
	// maxDescription leaves room for an agenda of a few pages.
	maxDescription = 8192
	// maxParticipants bounds attendees and leaders each: Skype for
	// Business's largest meetings hold 1,000 people.
	maxParticipants = 1000
	// maxParticipantBytes bounds the addresses of attendees and leaders
	// each, in bytes: room for 1,000 addresses of ordinary length (each
	// may be up to MaxSIPURI), so that the largest meeting stays near 100
	// KB, and so does every write and event that carries it.
	maxParticipantBytes = 32 << 10
	// maxExtensionID bounds an application-chosen extension id, which is
	// part of an href.
	maxExtensionID = 256
	// maxPropertyName bounds the name of an extension's own property, as
	// maxExtensionID bounds its id.
	maxPropertyName = 256
	// maxProperties bounds how many properties an extension has, so that
	// their per-property cost (in memory and on the wire) stays small
	// beside the byte total.
	maxProperties = 256
)

// MeetingInput is what a client sent for a meeting's settings (to schedule
// it or to replace them), decoded but not checked. Text members not sent
// are empty; a nil pointer or list was not sent.
type MeetingInput struct {
	Subject     string
	Description string
	// The enumerated settings, in any casing.
	AccessLevel               *string
	AutomaticLeaderAssignment *string
	EntryExitAnnouncement     *string
	// AttendanceAnnouncementsStatus is the older name of
	// EntryExitAnnouncement, which Lync 2013 clients still send; it is
	// read only when EntryExitAnnouncement is nil.
	AttendanceAnnouncementsStatus *string
	LobbyBypassForPhoneUsers      *string
	PhoneUserAdmission            *string
	// Attendees and Leaders are SIP addresses as sent (see
	// NormalizeSIPURI).
	Attendees, Leaders []string
	ExpirationTime     *time.Time
}

// DefaultSettings are what a meeting gets for every setting a client
// leaves out: the configured default values, phoneUserAdmission Disabled
// (onlineMeetingDefaultValues has none), no attendees or leaders, and no
// expiration time.
func (r *MeetingRules) DefaultSettings() MeetingSettings {
	d := r.Config.Defaults
	return MeetingSettings{
		AccessLevel:               d.AccessLevel,
		AutomaticLeaderAssignment: d.AutomaticLeaderAssignment,
		EntryExitAnnouncement:     d.EntryExitAnnouncement,
		LobbyBypassForPhoneUsers:  d.LobbyBypassForPhoneUsers,
		PhoneUserAdmission:        "Disabled",
		Attendees:                 []string{},
		Leaders:                   []string{},
	}
}

// AdHocSettings are the settings of a meeting startOnlineMeeting starts:
// the defaults, the request's subject, and the default expiry from now.
func (r *MeetingRules) AdHocSettings(subject string, now time.Time) MeetingSettings {
	st := r.DefaultSettings()
	st.Subject = subject
	st.ExpirationTime = now.Add(defaultExpiry)
	return st
}

// AssignedSettings are what the assigned meeting is created with, and reset
// to when it is deleted: the default values and (being permanent) an
// expiration as late as the window allows.
func (r *MeetingRules) AssignedSettings(now time.Time) MeetingSettings {
	st := r.DefaultSettings()
	st.ExpirationTime = now.AddDate(expiryWindowForward, 0, 0)
	return st
}

// NewMeetingSettings checks the settings of a meeting to schedule: what
// in leaves out takes its default value, and an expiration time 8 hours
// after now.
func (r *MeetingRules) NewMeetingSettings(in MeetingInput, now time.Time) (MeetingSettings, error) {
	return r.settings(in, now, true)
}

// ReplacedMeetingSettings checks the settings that replace a meeting's
// (PUT replaces them all): what in leaves out takes its default value, but
// for the expiration time, which stays as stored (a zero ExpirationTime).
func (r *MeetingRules) ReplacedMeetingSettings(in MeetingInput, now time.Time) (MeetingSettings, error) {
	return r.settings(in, now, false)
}

// settings checks in against the configuration. Enumerated values match in
// any casing and are kept in their canonical spelling. Errors are 400
// ParameterValidationFailure naming the member at fault, checked in the
// order of the members below.
func (r *MeetingRules) settings(in MeetingInput, now time.Time, create bool) (MeetingSettings, error) {
	cfg := &r.Config
	st := r.DefaultSettings()
	for _, f := range []struct {
		name  string
		value string
		dst   *string
		max   int
	}{{"subject", in.Subject, &st.Subject, maxSubject}, {"description", in.Description, &st.Description, maxDescription}} {
		if n := utf8.RuneCountInString(f.value); n > f.max {
			return st, InvalidParameter(f.name, "%s must be at most %d characters (it has %d).", f.name, f.max, n)
		}
		*f.dst = f.value
	}
	entryExit, entryExitName := in.EntryExitAnnouncement, "entryExitAnnouncement"
	if entryExit == nil && in.AttendanceAnnouncementsStatus != nil {
		entryExit, entryExitName = in.AttendanceAnnouncementsStatus, "attendanceAnnouncementsStatus"
	}
	for _, f := range []struct {
		name     string
		value    *string
		dst      *string
		eligible []string
	}{
		{"accessLevel", in.AccessLevel, &st.AccessLevel, cfg.Eligible.AccessLevels},
		{"automaticLeaderAssignment", in.AutomaticLeaderAssignment, &st.AutomaticLeaderAssignment, cfg.Eligible.AutomaticLeaderAssignments},
		{entryExitName, entryExit, &st.EntryExitAnnouncement, cfg.Eligible.EntryExitAnnouncements},
		{"lobbyBypassForPhoneUsers", in.LobbyBypassForPhoneUsers, &st.LobbyBypassForPhoneUsers, cfg.Eligible.LobbyBypassForPhoneUsersSettings},
		{"phoneUserAdmission", in.PhoneUserAdmission, &st.PhoneUserAdmission, cfg.PhoneUserAdmissions()},
	} {
		if f.value == nil {
			continue
		}
		canon, valid := EnumValue(f.eligible, *f.value)
		if !valid {
			return st, InvalidParameter(f.name, "%s %q is not allowed here; the eligible values are %s.", f.name, *f.value, strings.Join(f.eligible, ", "))
		}
		*f.dst = canon
	}
	for _, f := range []struct {
		name string
		list []string
		dst  *[]string
	}{{"attendees", in.Attendees, &st.Attendees}, {"leaders", in.Leaders, &st.Leaders}} {
		if len(f.list) > maxParticipants {
			return st, InvalidParameter(f.name, "%s may name at most %d addresses (it has %d).", f.name, maxParticipants, len(f.list))
		}
		size := 0
		for _, a := range f.list {
			uri, ok := NormalizeSIPURI(strings.TrimSpace(a))
			if !ok {
				return st, InvalidParameter(f.name, "%s: %q is not a SIP URI such as sip:alice@contoso.com.", f.name, a)
			}
			if size += len(uri); size > maxParticipantBytes {
				return st, InvalidParameter(f.name, "%s may hold at most %d bytes of addresses.", f.name, maxParticipantBytes)
			}
			*f.dst = append(*f.dst, uri)
		}
	}
	switch {
	case in.ExpirationTime != nil:
		t := *in.ExpirationTime
		lo, hi := now.AddDate(-expiryWindowBack, 0, 0), now.AddDate(expiryWindowForward, 0, 0)
		if t.Before(lo) || t.After(hi) {
			return st, InvalidParameter("expirationTime", "expirationTime must lie between %s and %s.", lo.UTC().Format(time.RFC3339), hi.UTC().Format(time.RFC3339))
		}
		st.ExpirationTime = t
	case create:
		st.ExpirationTime = now.Add(defaultExpiry)
	}
	return st, nil
}

// ExtensionInput is what a client sent for an extension, decoded but not
// checked.
type ExtensionInput struct {
	// ID is the id sent; empty when none was (the store then draws one).
	ID string
	// Type is the type sent, in any casing; nil when none was.
	Type *string
	// Members are the other members of the body, in the order sent, each
	// name once (in any casing), without those the transport keeps for
	// itself (hrefs, entity tags, sentinels): the candidates for the
	// extension's own properties.
	Members []ExtensionMember
}

// ExtensionMember is one member of an extension's body.
type ExtensionMember struct {
	Name, Value string
	// Data is false for a member that carries no string data (a number,
	// a boolean, a list, null, or the text the transport asks clients to
	// send back): its name is checked like any other, but it is not stored.
	Data bool
}

// NewExtension checks an extension to add to meeting meetingID and returns
// it: its id (empty: the store draws one), its type (Undefined when none
// was sent) and its own properties.
func (r *MeetingRules) NewExtension(meetingID string, in ExtensionInput) (*Extension, error) {
	x := &Extension{MeetingID: meetingID}
	if err := r.extension(in, x); err != nil {
		return nil, err
	}
	return x, nil
}

// ReplacedExtension checks what replaces extension id of meeting meetingID
// (PUT replaces its type and properties). An id, when sent, must be the
// extension's own: it never changes.
func (r *MeetingRules) ReplacedExtension(meetingID, id string, in ExtensionInput) (*Extension, error) {
	x, err := r.NewExtension(meetingID, in)
	if err != nil {
		return nil, err
	}
	if x.ID != "" && x.ID != id {
		return nil, InvalidParameter("id", "The id of an extension cannot change (it is %q).", id)
	}
	x.ID = id
	return x, nil
}

// extension reads in into x. The id is at most maxExtensionID bytes, not
// "." or ".." (which browsers resolve away as path segments), without
// control characters. A member name with a control character (C0, DEL or
// C1, U+0085 among them) is refused: XML would carry it altered or not at
// all. Every member with data is a property but id and type (in any
// casing); property names are at most maxPropertyName characters, there
// are at most maxProperties of them, and id, type, names and values add up
// to at most Limits.MaxExtensionBytes bytes.
func (r *MeetingRules) extension(in ExtensionInput, x *Extension) error {
	if len(in.ID) > maxExtensionID || in.ID == "." || in.ID == ".." || strings.ContainsFunc(in.ID, unicode.IsControl) {
		return InvalidParameter("id", "id must be at most %d characters, not \".\" or \"..\", without control characters.", maxExtensionID)
	}
	x.ID = in.ID
	x.Type = ExtensionTypeUndefined
	if in.Type != nil {
		canon, valid := EnumValue(ExtensionTypes, *in.Type)
		if !valid {
			return InvalidParameter("type", "type %q is not one of %s.", *in.Type, strings.Join(ExtensionTypes, ", "))
		}
		x.Type = canon
	}
	x.Properties = []ExtensionProperty{}
	for _, m := range in.Members {
		if strings.ContainsFunc(m.Name, unicode.IsControl) {
			return InvalidParameter(shortName(m.Name), "The property name %q holds a control character.", shortName(m.Name))
		}
		if !m.Data || m.Name == "" || strings.EqualFold(m.Name, "id") || strings.EqualFold(m.Name, "type") {
			continue
		}
		if n := utf8.RuneCountInString(m.Name); n > maxPropertyName {
			return InvalidParameter(shortName(m.Name), "The name of a property is at most %d characters (this one has %d).", maxPropertyName, n)
		}
		if len(x.Properties) == maxProperties {
			return InvalidParameter(m.Name, "An extension has at most %d properties of its own.", maxProperties)
		}
		x.Properties = append(x.Properties, ExtensionProperty{Name: m.Name, Value: m.Value})
	}
	return checkExtensionSize(x, r.Limits.MaxExtensionBytes)
}

// shortName names a member in an error by its beginning when it is longer
// than a property name may be: an error answer does not echo a megabyte.
func shortName(name string) string {
	if utf8.RuneCountInString(name) <= maxPropertyName {
		return name
	}
	return string([]rune(name)[:maxPropertyName]) + "…"
}

// checkExtensionSize fails when the extension's id, type, property names
// and values add up to more than max bytes, naming its largest member: the
// one to make smaller.
func checkExtensionSize(x *Extension, max int) error {
	total := len(x.ID) + len(x.Type)
	largest, largestSize := "id", len(x.ID)
	for _, p := range x.Properties {
		n := len(p.Name) + len(p.Value)
		total += n
		if n > largestSize {
			largest, largestSize = p.Name, n
		}
	}
	if total <= max {
		return nil
	}
	return InvalidParameter(largest, "An extension holds at most %d bytes (its id, type, property names and values add up to %d); %s is the largest member, with %d.", max, total, largest, largestSize)
}
