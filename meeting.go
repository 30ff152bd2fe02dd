package ucwad

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"iter"
	"strconv"
	"strings"
	"time"
)

// MeetingStore keeps the online meetings users organize and the extensions
// applications attach to them. Every method that takes a userID acts only
// on that user's meetings: a meeting of someone else is ENotFound, exactly
// as one that does not exist. Every change a client asks for appends an
// event (added, updated or deleted; subject SubjectMeeting or
// SubjectExtension, with the value at commit as JSON in Data for added and
// updated: a meeting with its extensions' identities, an extension whole)
// to every channel of every application of the organizer, in the same
// transaction. Every meeting it returns carries its organizer
// (OnlineMeeting.Organizer), and so does the JSON of a meeting in Data.
// The counts it enforces are those of the Limits the store was opened with.
// It checks no settings: callers pass what MeetingRules returned.
type MeetingStore interface {
	// CreateMeeting schedules m for m.UserID with m's settings and
	// m.JoinBase, and sets
	// m.ID, m.ConferenceID, m.Rel (MeetingRelScheduled), m.Organizer,
	// m.ETag, m.CreatedAt, m.UpdatedAt and an empty m.Extensions. Returns
	// EConflict (subcode TooManyOnlineMeetings) when the user already has
	// Limits.MaxMeetingsPerUser scheduled meetings (the assigned meeting
	// does not count), and ENotFound if m.UserID names no user.
	CreateMeeting(ctx context.Context, m *OnlineMeeting) error
	// AssignedMeeting returns the user's assigned meeting (MeetingRelAssigned),
	// creating it with settings s and JoinBase joinBase the first time it
	// is asked for (an existing one keeps its own). Creating
	// it appends no event: it is new to the store, not to the user, for
	// whom it has always been there. Returns ENotFound if userID names no
	// user.
	AssignedMeeting(ctx context.Context, userID int64, s MeetingSettings, joinBase string) (*OnlineMeeting, error)
	// FindMeeting returns the meeting with the identities of its
	// extensions (see OnlineMeeting.Extensions); ListExtensions reads them
	// whole. Returns ENotFound if the user has no meeting with that ID.
	FindMeeting(ctx context.Context, userID int64, id string) (*OnlineMeeting, error)
	// JoinableMeeting returns the meeting a join link names, whoever asks:
	// the meeting with that id (any rel, ad hoc ones included) whose
	// organizer's alias (see SameOrganizer) is alias, if it is not past its
	// ExpirationTime, exactly the meetings JoinMeeting lets someone join.
	// Returns ENotFound (SubDestinationNotFound) otherwise.
	JoinableMeeting(ctx context.Context, alias, id string) (*OnlineMeeting, error)
	// ListMeetings yields the user's meetings of rel (MeetingRelScheduled
	// or MeetingRelAssigned) in the order they were created, each with the
	// identities of its extensions. It reads them a page at a time and
	// holds nothing of the store while the caller handles a page, so that
	// a list of any length costs the memory of a page; a meeting created or
	// deleted meanwhile may or may not be yielded. A failure is yielded as
	// the last element, with a nil meeting.
	ListMeetings(ctx context.Context, userID int64, rel string) iter.Seq2[*OnlineMeeting, error]
	// ListExtensions yields the extensions of the user's meeting, whole,
	// in the order they were added, a page at a time as ListMeetings does.
	// A meeting the user does not have (any longer) yields none.
	ListExtensions(ctx context.Context, userID int64, meetingID string) iter.Seq2[*Extension, error]
	// UpdateMeeting replaces the settings of the meeting with s (a zero
	// s.ExpirationTime keeps the stored one) and gives it a new ETag, if
	// its ETag is ifMatch ("" matches any). It returns the meeting as
	// committed, with its extensions' identities. Returns ENotFound if the user has no such meeting and
	// EPreconditionFailed if the ETag is not ifMatch.
	UpdateMeeting(ctx context.Context, userID int64, id string, s MeetingSettings, ifMatch string) (*OnlineMeeting, error)
	// DeleteMeeting removes a scheduled meeting with its extensions. The
	// assigned meeting cannot go, since its coordinates never change:
	// deleting it resets it instead, to the settings reset (a zero
	// ExpirationTime keeps the stored one), without extensions, with a new
	// ETag (an updated event, not a deleted one). Returns ENotFound if the
	// user has no such meeting.
	DeleteMeeting(ctx context.Context, userID int64, id string, reset MeetingSettings) error
	// ExpireMeetings removes the scheduled meetings whose ExpirationTime
	// is before cutoff, with their extensions, and returns how many it
	// removed. Assigned meetings never expire.
	ExpireMeetings(ctx context.Context, cutoff time.Time) (int, error)

	// CreateExtension adds x to meeting x.MeetingID of the user and sets
	// x.ETag, x.CreatedAt and x.UpdatedAt; an empty x.ID is replaced by a
	// new one. Returns ENotFound if the user has no such meeting, EConflict
	// (subcode AlreadyExists) if the meeting has an extension x.ID, and
	// EConflict (subcode LimitExceeded) if it has
	// Limits.MaxExtensionsPerMeeting extensions already.
	CreateExtension(ctx context.Context, userID int64, x *Extension) error
	// FindExtension returns ENotFound if the user has no such meeting or
	// the meeting no such extension.
	FindExtension(ctx context.Context, userID int64, meetingID, id string) (*Extension, error)
	// UpdateExtension replaces the Type and Properties of extension x.ID of
	// meeting x.MeetingID and gives it a new ETag, if its ETag is ifMatch
	// ("" matches any); x is set to the extension as committed. The
	// meeting's own ETag does not change. Returns ENotFound if there is no
	// such extension for the user and EPreconditionFailed if the ETag is
	// not ifMatch.
	UpdateExtension(ctx context.Context, userID int64, x *Extension, ifMatch string) error
	// DeleteExtension returns ENotFound if there is no such extension for
	// the user.
	DeleteExtension(ctx context.Context, userID int64, meetingID, id string) error
}

// OnlineMeeting is a meeting a user organizes: scheduled ones
// (myOnlineMeeting) and the user's one assigned meeting
// (myAssignedOnlineMeeting). Its JSON form is what events carry in Data.
type OnlineMeeting struct {
	// ID is the onlineMeetingId: short, unique among all meetings,
	// unguessable (see NewMeetingID). It appears in hrefs and join URIs.
	ID string
	// UserID is the organizer.
	UserID int64
	// Organizer is who UserID names, as the store read them with the
	// meeting: what the meeting's coordinates (URI, joinUrl) and its
	// organizerUri are made of, so that it reads the same whoever asks.
	Organizer Person
	// Rel is MeetingRelScheduled or MeetingRelAssigned.
	Rel string
	// ConferenceID is the numeric id for dial-in, unique among meetings.
	ConferenceID string
	// JoinBase is what the meeting's joinUrl starts with, fixed when the
	// meeting is created (see MeetingConfig.JoinBase) so that the link in
	// invitations never changes; "" for meetings stored before bases were
	// stored, whose joinUrl MeetingConfig.JoinURL makes as it always did.
	JoinBase string
	MeetingSettings
	ETag      string
	CreatedAt time.Time
	UpdatedAt time.Time
	// Extensions are the meeting's extensions in the order they were
	// added; never nil on a meeting the store returns. The store returns
	// them as identities only (Properties nil), so that a meeting costs
	// the same whatever its extensions hold.
	Extensions []*Extension
}

// URI is the meeting's focus URI (onlineMeetingUri), what clients join
// with: the organizer's SIP URI, ";gruu;opaque=app:conf:focus:id:" and
// the meeting's ID.
func (m *OnlineMeeting) URI() string {
	return m.Organizer.URI() + ";gruu;opaque=app:conf:focus:id:" + m.ID
}

// Person is someone as a meeting names them: an address and a name, and
// nothing that signs them in.
type Person struct {
	// SIP is the address without the "sip:" scheme, as User.SIP.
	SIP string
	// Name is the display name; may be empty.
	Name string
}

// URI is the person's SIP URI, e.g. "sip:alice@contoso.com".
func (p Person) URI() string { return "sip:" + p.SIP }

// DisplayName is the name to show: Name, or the SIP address when unset.
func (p Person) DisplayName() string {
	if p.Name != "" {
		return p.Name
	}
	return p.SIP
}

// MeetingSettings are the properties of a meeting a client sets (POST and
// PUT). Enumerated values are spelled as on the wire.
type MeetingSettings struct {
	Subject                   string
	Description               string
	AccessLevel               string
	AutomaticLeaderAssignment string
	EntryExitAnnouncement     string
	LobbyBypassForPhoneUsers  string
	PhoneUserAdmission        string
	// Attendees and Leaders are SIP URIs ("sip:user@domain"); never nil on
	// a meeting the store returns.
	Attendees []string
	Leaders   []string
	// ExpirationTime is when the meeting may be deleted.
	ExpirationTime time.Time
}

// Extension is application data attached to a meeting
// (onlineMeetingExtension): an id the application chose, a type, and
// further named string properties.
type Extension struct {
	MeetingID string
	// ID is unique within the meeting and never changes.
	ID string
	// Type is one of ExtensionTypes.
	Type string
	// Properties are the programmer-defined members, in the order the
	// client sent them, each name once; never nil on an extension the store
	// returns whole (FindExtension, ListExtensions, CreateExtension,
	// UpdateExtension), nil on an identity (the extensions of a meeting).
	Properties []ExtensionProperty
	ETag       string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// ExtensionProperty is one programmer-defined member of an extension.
type ExtensionProperty struct {
	Name, Value string
}

// Meeting rels: the OnlineMeetingRel enumeration, which also names the
// collection a meeting belongs to.
const (
	MeetingRelScheduled = "myOnlineMeetings"
	MeetingRelAssigned  = "myAssignedOnlineMeeting"
)

// SubLimitExceeded is the subcode for a server-defined limit, here the
// number of extensions a meeting may hold.
const SubLimitExceeded = "LimitExceeded"

// The values of the meeting enumerations, in their declared order.
var (
	AccessLevels               = []string{"None", "SameEnterprise", "Locked", "Invited", "Everyone"}
	AutomaticLeaderAssignments = []string{"Disabled", "SameEnterprise", "Everyone"}
	EntryExitAnnouncements     = []string{"Unsupported", "Disabled", "Enabled"}
	LobbyBypassSettings        = []string{"Disabled", "Enabled"}
	PhoneUserAdmissions        = []string{"Disabled", "Enabled"}
	ExtensionTypes             = []string{"Undefined", "RoamedOrganizerData", "RoamedParticipantData"}
	// GenericPolicies are the values of onlineMeetingPolicies items.
	GenericPolicies = []string{"None", "Disabled", "Enabled"}
)

// ExtensionTypeUndefined is the type of an extension that names none.
const ExtensionTypeUndefined = "Undefined"

// EnumValue returns the member of values that equals s ignoring case,
// spelled as in values: clients get the canonical spelling back whatever
// casing they sent.
func EnumValue(values []string, s string) (string, bool) {
	for _, v := range values {
		if strings.EqualFold(v, s) {
			return v, true
		}
	}
	return "", false
}

// MaxSIPURI bounds the attendee and leader addresses accepted.
const MaxSIPURI = 256

// NormalizeSIPURI checks that s is a SIP address of a person,
// "sip:user@domain" (the scheme in any case, or missing), and returns it as
// "sip:user@domain". The user part may hold any printable character but
// white space and the separators of a SIP URI; the domain is a dotted host
// name.
func NormalizeSIPURI(s string) (string, bool) {
	if len(s) > MaxSIPURI {
		return "", false
	}
	if len(s) >= 4 && strings.EqualFold(s[:4], "sip:") {
		s = s[4:]
	}
	user, domain, ok := strings.Cut(s, "@")
	if !ok || user == "" || domain == "" {
		return "", false
	}
	for i := 0; i < len(user); i++ {
		c := user[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`@:;?<>"/\`, c) >= 0 {
			return "", false
		}
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return "", false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return "", false
			}
		}
	}
	return "sip:" + user + "@" + domain, true
}

// meetingIDAlphabet is Crockford's base 32: digits and upper-case letters
// without I, L, O and U, so that an id read aloud or typed is not mistaken.
const meetingIDAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// MeetingIDLength is the length of an onlineMeetingId: 10 characters of 5
// bits, 50 random bits, a little longer than the 8 characters of the
// documentation's examples so that ids cannot be guessed in practice.
const MeetingIDLength = 10

// NewMeetingID returns a random onlineMeetingId. It panics only if the
// operating system's random source fails.
func NewMeetingID() string {
	var b [MeetingIDLength]byte
	randomBytes(b[:])
	for i := range b {
		b[i] = meetingIDAlphabet[b[i]&31] // 256 is a multiple of 32: uniform
	}
	return string(b[:])
}

// IsMeetingID reports whether s has the form of an onlineMeetingId:
// MeetingIDLength characters of its alphabet (upper case).
func IsMeetingID(s string) bool {
	if len(s) != MeetingIDLength {
		return false
	}
	for i := range len(s) {
		if strings.IndexByte(meetingIDAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// NewConferenceID returns a random 8-digit conference id (no leading zero,
// as dial-in systems may drop one).
func NewConferenceID() string {
	return strconv.FormatUint(10_000_000+randomUint64()%90_000_000, 10)
}

// NewETag returns a random entity tag: a decimal number, as the Front End
// writes them. Random rather than a counter, so that a resource deleted
// and created again never matches an If-Match meant for its predecessor.
func NewETag() string { return strconv.FormatUint(randomUint64(), 10) }

func randomUint64() uint64 {
	var b [8]byte
	randomBytes(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

func randomBytes(b []byte) {
	if _, err := rand.Read(b); err != nil {
		panic("ucwad: random source failed: " + err.Error())
	}
}
