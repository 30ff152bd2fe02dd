package ucwad

import (
	"fmt"
	"time"
)

// Limits bound what one user can make the server store, hold or send, in
// total and not only per request. The server builds one value once (cmd/ucwad
// builds it from its configuration) and hands that same value to the store
// when it opens it and to the meeting rules (MeetingRules): no store method
// takes a limit of its own, so every call is held to the same bounds, and a
// second store (another process, another backend) opened with the same
// value enforces exactly the same. A zero field means its default
// (DefaultLimits).
//
// Which part enforces what: the store counts (applications, channels,
// events, meetings, extensions), since only it sees every writer; the
// meeting rules check sizes, which a request carries whole.
type Limits struct {
	// MaxApplicationsPerUser bounds the applications a user registers;
	// one more is EGone, subcode TooManyApplications.
	MaxApplicationsPerUser int
	// MaxChannelsPerApplication and MaxChannelsPerUser bound the event
	// channels (the default one and one per instanceId) of one application
	// and of all of a user's applications together; a registration that
	// would need one more is EConflict, subcode LimitExceeded.
	MaxChannelsPerApplication, MaxChannelsPerUser int
	// MaxEventsPerChannel bounds each event channel's log (by bounding the
	// log of its user that every channel of the user reads, each change
	// counted once); on overflow the oldest events go and the channels that
	// had not read them are told to resync. A change is never refused for
	// it.
	MaxEventsPerChannel int
	// MaxEventBytesPerUser bounds the bytes of a user's events (each change
	// stored and counted once, however many channels receive it: its data,
	// identifiers and a fixed overhead); over it the user's oldest events
	// go, as for MaxEventsPerChannel.
	MaxEventBytesPerUser int64
	// MaxBatchBytes is the event bytes (counted as for
	// MaxEventBytesPerUser) one event batch takes beyond its first event;
	// the rest wait for the next batch.
	MaxBatchBytes int64
	// MaxMeetingsPerUser bounds the meetings a user schedules (the
	// assigned meeting does not count); one more is EConflict, subcode
	// TooManyOnlineMeetings.
	MaxMeetingsPerUser int
	// MaxExtensionsPerMeeting bounds a meeting's extensions; one more is
	// EConflict, subcode LimitExceeded.
	MaxExtensionsPerMeeting int
	// MaxExtensionBytes bounds one extension: its id, type, property names
	// and values together, in bytes (MinExtensionBytes to
	// MaxExtensionBytes). A larger one is refused with a 400
	// ParameterValidationFailure naming its largest member.
	MaxExtensionBytes int
	// MaxUnknownSignInNames bounds how many sign-in names that are no
	// user's the store tracks for the sign-in schedule; beyond it the name
	// whose latest attempt is oldest is forgotten (never a user's state).
	MaxUnknownSignInNames int
	// MaxParticipants bounds the admitted participants of one meeting: a
	// join beyond it fails (its invitation completes with
	// SubTooManyParticipants), an admission from the lobby is EConflict
	// with that subcode.
	MaxParticipants int
	// MaxLobbyParticipants bounds the participants waiting in one lobby; a
	// join beyond it fails with SubTooManyLobbyParticipants.
	MaxLobbyParticipants int
	// MaxConversationsPerApplication bounds the conversations one
	// application is in (waiting or admitted); one more join is EConflict,
	// subcode SubTooManyConversations.
	MaxConversationsPerApplication int
	// LobbyTimeout is how long a participant waits in a lobby: past it the
	// sweep removes it and its join fails with SubTimeout. It bounds how
	// long one join holds a place in a lobby.
	LobbyTimeout time.Duration
	// MaxGuestApplicationsPerMeeting bounds the applications the anonymous
	// guests of one meeting hold together, and
	// MaxGuestApplicationsPerAddress those of the guests granted from one
	// client address (an IPv4 address or an IPv6 /64): the meeting key is
	// public, so what strangers can make the server hold is bounded per
	// meeting and per source. One more is EGone, subcode
	// TooManyApplications.
	MaxGuestApplicationsPerMeeting, MaxGuestApplicationsPerAddress int

	// Messaging in meetings (docs/meetings.md, "Messages").

	// MaxMessageChars bounds one instant message, in characters as sent
	// (for HTML, before it is sanitized); a longer one is a 400
	// ParameterValidationFailure.
	MaxMessageChars int
	// MessagesPerMinute and MessageBurst are each participant's message
	// rate: MessageBurst at once, then one every minute/MessagesPerMinute;
	// one more is ETooManyRequests with the wait in Retry-After.
	MessagesPerMinute, MessageBurst int
	// TypingTimeout is how long a participant shows as typing after its
	// last setIsTyping (sending a message ends it at once).
	TypingTimeout time.Duration
}

// The range Limits.MaxExtensionBytes may take: room for an id and a few
// properties at least, and at most what a request body can carry.
const (
	MinExtensionBytes = 1 << 10
	MaxExtensionBytes = 1 << 20
)

// DefaultLimits are the limits of a new installation.
func DefaultLimits() Limits {
	return Limits{
		MaxApplicationsPerUser:    100,
		MaxChannelsPerApplication: 16,
		MaxChannelsPerUser:        200,
		MaxEventsPerChannel:       1000,
		MaxEventBytesPerUser:      4 << 20,
		MaxBatchBytes:             64 << 10,
		MaxMeetingsPerUser:        1000,
		MaxExtensionsPerMeeting:   100,
		MaxExtensionBytes:         64 << 10,
		MaxUnknownSignInNames:     100_000,
		// The default policies' meetingSize.
		MaxParticipants:      250,
		MaxLobbyParticipants: 100,
		// Beside MaxChannelsPerApplication: an application follows its
		// conversations on its channels.
		MaxConversationsPerApplication: 16,
		LobbyTimeout:                   15 * time.Minute,
		// A lobby's worth of guests per meeting; a household or small
		// office behind one address.
		MaxGuestApplicationsPerMeeting: 100,
		MaxGuestApplicationsPerAddress: 10,

		MaxMessageChars:   8000,
		MessagesPerMinute: 60,
		MessageBurst:      10,
		TypingTimeout:     6 * time.Second,
	}
}

// WithDefaults returns l with every zero (or negative) field set to its
// default.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits()
	setInt := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setInt64 := func(v *int64, def int64) {
		if *v <= 0 {
			*v = def
		}
	}
	setInt(&l.MaxApplicationsPerUser, d.MaxApplicationsPerUser)
	setInt(&l.MaxChannelsPerApplication, d.MaxChannelsPerApplication)
	setInt(&l.MaxChannelsPerUser, d.MaxChannelsPerUser)
	setInt(&l.MaxEventsPerChannel, d.MaxEventsPerChannel)
	setInt64(&l.MaxEventBytesPerUser, d.MaxEventBytesPerUser)
	setInt64(&l.MaxBatchBytes, d.MaxBatchBytes)
	setInt(&l.MaxMeetingsPerUser, d.MaxMeetingsPerUser)
	setInt(&l.MaxExtensionsPerMeeting, d.MaxExtensionsPerMeeting)
	setInt(&l.MaxExtensionBytes, d.MaxExtensionBytes)
	setInt(&l.MaxUnknownSignInNames, d.MaxUnknownSignInNames)
	setInt(&l.MaxParticipants, d.MaxParticipants)
	setInt(&l.MaxLobbyParticipants, d.MaxLobbyParticipants)
	setInt(&l.MaxConversationsPerApplication, d.MaxConversationsPerApplication)
	if l.LobbyTimeout <= 0 {
		l.LobbyTimeout = d.LobbyTimeout
	}
	setInt(&l.MaxGuestApplicationsPerMeeting, d.MaxGuestApplicationsPerMeeting)
	setInt(&l.MaxGuestApplicationsPerAddress, d.MaxGuestApplicationsPerAddress)
	setInt(&l.MaxMessageChars, d.MaxMessageChars)
	setInt(&l.MessagesPerMinute, d.MessagesPerMinute)
	setInt(&l.MessageBurst, d.MessageBurst)
	if l.TypingTimeout <= 0 {
		l.TypingTimeout = d.TypingTimeout
	}
	return l
}

// Validate reports the first limit that cannot work: a negative one, or
// (after defaults) a MaxExtensionBytes outside its range.
func (l Limits) Validate() error {
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"MaxApplicationsPerUser", int64(l.MaxApplicationsPerUser)},
		{"MaxChannelsPerApplication", int64(l.MaxChannelsPerApplication)},
		{"MaxChannelsPerUser", int64(l.MaxChannelsPerUser)},
		{"MaxEventsPerChannel", int64(l.MaxEventsPerChannel)},
		{"MaxEventBytesPerUser", l.MaxEventBytesPerUser},
		{"MaxBatchBytes", l.MaxBatchBytes},
		{"MaxMeetingsPerUser", int64(l.MaxMeetingsPerUser)},
		{"MaxExtensionsPerMeeting", int64(l.MaxExtensionsPerMeeting)},
		{"MaxExtensionBytes", int64(l.MaxExtensionBytes)},
		{"MaxUnknownSignInNames", int64(l.MaxUnknownSignInNames)},
		{"MaxParticipants", int64(l.MaxParticipants)},
		{"MaxLobbyParticipants", int64(l.MaxLobbyParticipants)},
		{"MaxConversationsPerApplication", int64(l.MaxConversationsPerApplication)},
		{"LobbyTimeout", int64(l.LobbyTimeout)},
		{"MaxGuestApplicationsPerMeeting", int64(l.MaxGuestApplicationsPerMeeting)},
		{"MaxGuestApplicationsPerAddress", int64(l.MaxGuestApplicationsPerAddress)},
		{"MaxMessageChars", int64(l.MaxMessageChars)},
		{"MessagesPerMinute", int64(l.MessagesPerMinute)},
		{"MessageBurst", int64(l.MessageBurst)},
		{"TypingTimeout", int64(l.TypingTimeout)},
	} {
		if f.v < 0 {
			return fmt.Errorf("negative %s %d", f.name, f.v)
		}
	}
	if n := l.WithDefaults().MaxExtensionBytes; n < MinExtensionBytes || n > MaxExtensionBytes {
		return fmt.Errorf("MaxExtensionBytes %d: want %d to %d", n, MinExtensionBytes, MaxExtensionBytes)
	}
	return nil
}
