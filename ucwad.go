// Package ucwad is the domain vocabulary of the ucwad server: the users who
// sign in, the tokens they hold, the applications they register, and the
// storage contract every backend implements. It imports nothing but the
// standard library; the wire format lives in package ucwa, the transport in
// httpapi and the backends in sqlite (and later postgres).
package ucwad

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"
)

// Store is everything the server keeps. Implementations translate their
// driver errors into *Error values (ENotFound, EConflict, ...) at their edge
// so callers never see a driver type.
//
// A store enforces the counts of one Limits value, given to it when it is
// opened (a zero field meaning its default): no method takes a limit, so
// every call that enforces one is held to the same value, whoever calls.
// (The sign-in schedule, SignInPolicy, is a timetable rather than a bound
// and is passed to ClaimSignIn.)
type Store interface {
	UserStore
	TokenStore
	ApplicationStore
	EventStore
	MeetingStore
	ConversationStore
	MessagingStore
	SignInStore
	GuestStore
	// Close releases the store's connections.
	Close() error
}

// UserStore keeps the user directory.
type UserStore interface {
	// CreateUser inserts u, setting u.ID and u.CreatedAt (now) and
	// stripping a "sip:" prefix from u.SIP as it is stored. Returns
	// EBadRequest if the SIP address is empty and EConflict (subcode
	// AlreadyExists) if it is taken, in any casing.
	CreateUser(ctx context.Context, u *User) error
	// FindUserByID returns ENotFound if there is no such user. It finds
	// anonymous guests too (see GuestStore).
	FindUserByID(ctx context.Context, id int64) (*User, error)
	// FindUserBySIP looks a user up by SIP address, case-insensitively and with
	// or without the "sip:" prefix. Returns ENotFound if there is none.
	// Anonymous guests are not found: nobody signs in as one.
	FindUserBySIP(ctx context.Context, sip string) (*User, error)
	// ListUsers returns every user ordered by SIP address, case-insensitively,
	// anonymous guests left out.
	ListUsers(ctx context.Context) ([]*User, error)
	// CountUsers returns how many users exist, anonymous guests left out.
	CountUsers(ctx context.Context) (int, error)
	// SetUserPassword replaces the password hash of the user and revokes all
	// of the user's tokens in the same transaction. Returns ENotFound if there
	// is no such user.
	SetUserPassword(ctx context.Context, id int64, passwordHash string) error
	// DeleteUser removes the user with everything that belongs to them
	// (tokens, applications). Returns ENotFound if there is no such user.
	DeleteUser(ctx context.Context, id int64) error
}

// TokenStore keeps issued access tokens, by the SHA-256 hash of their value
// only: the value itself is never stored.
type TokenStore interface {
	// CreateToken stores t. t.Hash and t.ExpiresAt must be set; a zero
	// t.CreatedAt becomes now, and t is updated to the stored values.
	// Returns ENotFound if t.UserID names no user and EConflict (subcode
	// AlreadyExists) if the hash is stored already.
	CreateToken(ctx context.Context, t *Token) error
	// FindToken returns the unexpired token with that hash together with its
	// user (with its Guest for an anonymous guest); a token is expired from
	// its ExpiresAt on. Returns ENotFound if it
	// does not exist, was revoked or expired.
	FindToken(ctx context.Context, hash []byte) (*Token, *User, error)
	// RevokeToken deletes the token with that hash. Revoking an unknown token
	// is not an error.
	RevokeToken(ctx context.Context, hash []byte) error
	// DeleteExpiredTokens removes the tokens FindToken no longer returns
	// (ExpiresAt at or before now) and returns how many it removed.
	DeleteExpiredTokens(ctx context.Context) (int, error)
}

// TokenApplicationFinder is implemented by stores that can read a token,
// its user and one of the user's applications in one go, as every request
// to an application's resources needs: one read instead of FindToken
// followed by FindApplication. Stores without it are read twice.
type TokenApplicationFinder interface {
	// FindTokenApplication returns what FindToken(hash) returns and, when
	// the token is found, the application FindApplication(user.ID, appID,
	// instanceID) would return, or a nil application where that would
	// return ENotFound.
	FindTokenApplication(ctx context.Context, hash []byte, appID, instanceID string) (*Token, *User, *Application, error)
}

// ApplicationStore keeps registered applications and their event channels.
type ApplicationStore interface {
	// CreateApplication registers a for a.UserID. When the user already has
	// an application with the same UserAgent, EndpointID and Culture
	// (compared exactly), that application is returned instead (created ==
	// false), its activity recorded, and a is left untouched. Otherwise a
	// itself is completed and returned: ID is new, Type defaults to
	// ApplicationTypeBrowser, Available is false (a new application is a
	// lurker), CreatedAt and LastActiveAt are now. Every application has its
	// default channel (""); the returned application's Channel is the one
	// for instanceID, created if new.
	// Returns EGone (subcode TooManyApplications) when the user already holds
	// Limits.MaxApplicationsPerUser applications, or, for an anonymous
	// guest, when the guests of its meeting hold
	// Limits.MaxGuestApplicationsPerMeeting applications or the guests
	// granted from its address Limits.MaxGuestApplicationsPerAddress (the
	// message naming the limit); and EConflict (subcode
	// LimitExceeded, the message naming the limit) when a channel it needs
	// would exceed Limits.MaxChannelsPerApplication or
	// Limits.MaxChannelsPerUser; registering on channels that exist always
	// works. Returns ENotFound if a.UserID names no user.
	CreateApplication(ctx context.Context, a *Application, instanceID string) (app *Application, created bool, err error)
	// FindApplication returns the application with that id if it belongs to
	// userID, with Channel set for instanceID. Returns ENotFound (subcode
	// ApplicationNotFound) otherwise, including when the application exists
	// but belongs to someone else or a non-default channel does not exist.
	// The default instanceID "" always finds the application (with a zero
	// Channel when the application has only multi-tab channels).
	FindApplication(ctx context.Context, userID int64, id, instanceID string) (*Application, error)
	// TouchApplication records activity on the application now. Callers
	// record activity at most once per ActivityInterval.
	// Returns ENotFound (subcode ApplicationNotFound) if it does not exist.
	TouchApplication(ctx context.Context, id string) error
	// KeepApplicationsAlive records activity now on the applications in ids
	// whose recorded activity is older than before: they hold P-GETs in
	// this process, which is activity however long each is held, and no
	// process's ExpireApplications may take them for abandoned. It is one
	// write for all of them, and none when every one is recent. It returns
	// the ids that name no application (deleted or expired, possibly by
	// another process sharing the store).
	KeepApplicationsAlive(ctx context.Context, ids []string, before time.Time) (gone []string, err error)
	// MakeApplicationAvailable records that the application left lurker mode
	// (doing it again is harmless); the first time, its channels get "me
	// updated" and "communication updated" events, as UCWA sends them.
	// Returns ENotFound (subcode ApplicationNotFound) if userID has no such
	// application.
	MakeApplicationAvailable(ctx context.Context, userID int64, id string) error
	// DeleteApplication with the default instanceID "" removes the
	// application with all its channels and events; with a multi-tab
	// instanceID it removes only that channel (the application stays, with
	// its default channel, until deleted or expired). Returns ENotFound
	// (subcode ApplicationNotFound) if there is no such application for
	// that user or no such channel.
	DeleteApplication(ctx context.Context, userID int64, id, instanceID string) error
	// ExpireApplications deletes every application that has shown no
	// activity since before cutoff, except those whose ids are in keep
	// (applications with a P-GET held right now), with their channels and
	// events. It returns the ids it deleted.
	ExpireApplications(ctx context.Context, cutoff time.Time, keep []string) ([]string, error)
}

// User is a person who can sign in.
type User struct {
	ID int64
	// SIP is the sign-in address without the "sip:" scheme, e.g.
	// "alice@contoso.com". Unique, compared case-insensitively.
	SIP string
	// Name is the display name; may be empty.
	Name string
	// PasswordHash is an encoded password hash (see package auth); never the
	// password itself.
	PasswordHash string
	CreatedAt    time.Time
	// Guest is set for an anonymous meeting guest (see GuestStore), nil
	// for a user who signs in.
	Guest *Guest
}

// URI is the user's SIP URI, e.g. "sip:alice@contoso.com".
func (u *User) URI() string { return "sip:" + u.SIP }

// Person is the user as meetings name them.
func (u *User) Person() Person { return Person{SIP: u.SIP, Name: u.Name} }

// DisplayName is the name to show: Name, or the SIP address when unset.
func (u *User) DisplayName() string {
	if u.Name != "" {
		return u.Name
	}
	return u.SIP
}

// Token is an issued access token.
type Token struct {
	// Hash is the SHA-256 of the token value the client holds.
	Hash      []byte
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Application is a client's registration (POST applications).
type Application struct {
	// ID is opaque, random and unguessable; it appears in hrefs.
	ID         string
	UserID     int64
	UserAgent  string
	EndpointID string
	Culture    string
	// Type is always "Browser" in UCWA 2.0.
	Type string
	// Available is true once makeMeAvailable succeeded.
	Available    bool
	CreatedAt    time.Time
	LastActiveAt time.Time
	// Channel is the event channel the request addressed (set by the store).
	Channel Channel
}

// Channel is one event channel of an application: the default one
// (InstanceID "") or one per multi-tab instanceId.
type Channel struct {
	ApplicationID string
	InstanceID    string
	CreatedAt     time.Time
	// NextAck is the batch a new P-GET should ask for: the first one the
	// client has not acknowledged.
	NextAck int64
	// Options are the channel's sticky P-GET settings.
	Options ChannelOptions
}

// ActivityInterval is how stale an application's recorded activity may be
// before a request on it records activity again: often enough for expiry
// measured in minutes, rarely enough that reads do not each cost a write.
const ActivityInterval = 30 * time.Second

// Application types and limits.
const (
	ApplicationTypeBrowser = "Browser"
	// MaxApplicationField is the longest userAgent, endpointId, culture or
	// instanceId accepted.
	MaxApplicationField = 100
)

// NewID returns a random, unguessable identifier for use in hrefs: 20
// lower-case base-32 characters (100 bits). It panics only if the operating
// system's random source fails.
func NewID() string {
	var b [13]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("ucwad: random source failed: " + err.Error())
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))[:20]
}
