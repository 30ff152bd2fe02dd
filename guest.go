package ucwad

import (
	"context"
	"strings"
	"time"
)

// GuestStore keeps anonymous meeting guests: the identities the token
// endpoint's anonmeeting grant creates. A guest is a user of its own kind
// (User.Guest set): it holds tokens, registers applications and has an
// event log exactly as a signed-in user does, so that everything after the
// grant is the ordinary code with a narrower caller; but it has no
// password, is never found by its address (FindUserBySIP, ListUsers and
// CountUsers leave guests out), is bound to one meeting, and goes when its
// ExpiresAt passes (DeleteExpiredGuests). The applications of guests are
// bounded per meeting and per client address (Limits.MaxGuestApplicationsPerMeeting,
// Limits.MaxGuestApplicationsPerAddress), counted by CreateApplication.
type GuestStore interface {
	// CreateGuest creates a guest of meeting g.Guest.MeetingID, from
	// client address g.Guest.Address, named g.Name (may be empty), with
	// its first token t (t.UserID is set to the new guest), in one
	// transaction. The meeting must exist, be organized by organizerSIP
	// (when not empty; see SameOrganizer) and not be past its
	// ExpirationTime: otherwise ENotFound (SubDestinationNotFound) and
	// nothing is stored. It sets g.ID, g.SIP (a new address of the
	// organizer's domain), g.CreatedAt and g.Guest.ExpiresAt (t's
	// expiry).
	CreateGuest(ctx context.Context, g *User, organizerSIP string, t *Token) error
	// RenewGuest gives the guest that holds the unexpired token old a new
	// token t, keeping its identity: t.UserID is set, the guest's ExpiresAt
	// moves to t's expiry if later, and old now expires at oldUntil at the
	// latest (so that requests in flight with it still finish). The guest
	// must be of meeting meetingID (compared ignoring case) and that
	// meeting must still exist and not be past its ExpirationTime.
	// Returns the guest as renewed, or ENotFound (nothing changed) when
	// old is no guest's unexpired token or any of that does not hold.
	RenewGuest(ctx context.Context, old []byte, meetingID string, t *Token, oldUntil time.Time) (*User, error)
	// DeleteExpiredGuests removes the guests whose ExpiresAt is now or
	// before, with everything that is theirs (as DeleteUser), and returns
	// how many it removed.
	DeleteExpiredGuests(ctx context.Context) (int, error)
}

// Guest is what makes a user an anonymous meeting guest.
type Guest struct {
	// MeetingID is the one meeting the guest may join (an onlineMeetingId).
	MeetingID string
	// Address is the client address the grant came from, as
	// netip.Prefix.String writes it (an IPv4 address or an IPv6 /64): what
	// the per-address bounds count by.
	Address string
	// ExpiresAt is when the identity goes: its latest token's expiry.
	ExpiresAt time.Time
}

// Anonymous reports whether u is an anonymous meeting guest.
func (u *User) Anonymous() bool { return u.Guest != nil }

// GuestTokenLifetime is how long a guest's token is valid: one hour, as
// for Skype for Business's anonymous meeting tokens; renewing (ms_rtc_renew)
// gives another hour with the same identity.
const GuestTokenLifetime = time.Hour

// MeetingKey reports whether password, the key of an anonmeeting grant,
// opens meeting id: the key is the onlineMeetingId (the last segment of
// the meeting's joinUrl), in any case.
func MeetingKey(password, id string) bool {
	k := strings.TrimSpace(password)
	return k != "" && strings.EqualFold(k, id)
}

// CanonicalMeetingID is a meeting id as the store keeps it: meeting ids
// are upper-case Crockford base 32, which clients may write in lower case.
func CanonicalMeetingID(id string) string { return strings.ToUpper(strings.TrimSpace(id)) }
