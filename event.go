package ucwad

import (
	"context"
	"strings"
)

// EventStore keeps each event channel's log and implements UCWA's ack
// protocol. Events are appended by the store itself, in the transaction of
// the change that causes them, so nothing is published that did not commit.
// The store bounds what the logs hold: events per channel, and the bytes of
// a user's events (each change counted once, however many channels hold
// it). Over a bound the oldest events go and the channels that lost some
// answer their next read with Resync; a change is never refused for it.
//
// The store also records which process holds each channel: the last one
// where a P-GET started on it. Several processes (server instances) may
// share a store; a P-GET held in one is replaced by a newer one started in
// another (see ReadBatch's hold), and the store tells the older process's
// Notifier within its poll interval, so that the older request answers
// PGetReplaced.
type EventStore interface {
	// ReadBatch serves "GET events?ack=N" on a channel, consistently (one
	// snapshot, and one transaction when it writes):
	//   - N names a batch already released and not yet acknowledged: that
	//     batch again (nothing is lost when an answer dies on the wire);
	//   - N is the next batch and events are waiting: they are frozen into
	//     batch N and returned (the oldest of them, as many as the store's
	//     batch size allows, at least one: the rest wait for batch N+1);
	//   - N is the next batch and nothing waits: an empty Batch with Wait set,
	//     unless release is true (the request timed out), in which case an
	//     empty batch N is frozen and returned;
	//   - N cannot be served (already acknowledged and dropped, in the future,
	//     or the log overflowed since): a Batch with Resync set to the first
	//     unacknowledged batch.
	// Asking for N acknowledges every batch before N; they are dropped.
	//
	// hold is 0 for the first read of a P-GET: the read takes the channel
	// for this process (recorded in the store when another process, or
	// none, held it) and sets Batch.Hold. Later reads of the same P-GET
	// pass that Hold; when the channel was taken since (a newer P-GET in
	// another process), the answer is a Batch with Replaced set and nothing
	// else happens.
	//
	// ReadBatch writes only when it must: to acknowledge, to freeze a
	// batch, to take the channel, to clear an overflow, and, on a first
	// read, to record activity on the application when what is recorded is
	// older than ActivityInterval (a write made anyway records it too). A
	// P-GET that finds nothing new on a channel its process holds costs no
	// write at all.
	//
	// Returns ENotFound (subcode ApplicationNotFound) if the channel does not
	// exist.
	ReadBatch(ctx context.Context, appID, instanceID string, ack int64, release bool, hold int64) (*Batch, error)
	// ReadBatchDeferAck is ReadBatch for a P-GET that waits, with one
	// difference: when asking for ack acknowledges the released batch,
	// nothing waits after it, release is false and nothing else needs
	// writing, it answers Wait with AckDeferred set and writes nothing.
	// The store still holds the acknowledged batch (a later read asking
	// for it again gets it again, and NextAck names it) until the next
	// read of the channel that writes: the one releasing the next batch
	// acknowledges it in the same transaction. The client's next request
	// repeats the acknowledgement anyway, so nothing depends on it
	// surviving a crash; the caller answers for the batch being
	// acknowledged in the meantime (httpapi keeps it in its hub).
	ReadBatchDeferAck(ctx context.Context, appID, instanceID string, ack int64, release bool, hold int64) (*Batch, error)
	// SetChannelOptions stores the channel's sticky P-GET settings.
	// Returns ENotFound (subcode ApplicationNotFound) if there is no such
	// channel.
	SetChannelOptions(ctx context.Context, appID, instanceID string, o ChannelOptions) error
}

// Batch is one answer of an event channel.
type Batch struct {
	// Ack is the batch number served; the next request asks for Ack+1.
	Ack    int64
	Events []Event
	// Wait is set when there was nothing to release and release was false.
	Wait bool
	// Resync, when not zero, is the batch the client must ask for instead.
	Resync int64
	// Hold is the take by which this process holds the channel, set when
	// the read had to wait (Wait): the P-GET passes it to its later reads.
	Hold int64
	// Replaced is set when the read's hold is no longer the channel's: a
	// newer P-GET, in another process, took the channel.
	Replaced bool
	// AckDeferred is set on a Wait from ReadBatchDeferAck that left the
	// acknowledgement of batch Ack-1 unwritten.
	AckDeferred bool
}

// ChannelOptions are the sticky parameters of a channel's P-GETs, in
// seconds; zero means unset (the defaults apply).
type ChannelOptions struct {
	Timeout, Low, Medium int
}

// EventType is what happened to an event's subject.
type EventType string

// Event types.
const (
	EventAdded     EventType = "added"
	EventUpdated   EventType = "updated"
	EventDeleted   EventType = "deleted"
	EventStarted   EventType = "started"
	EventCompleted EventType = "completed"
)

// SubjectKind is the kind of thing an event is about. The transport renders
// each kind through its own entry in a table, so that a new kind of subject
// (a conversation, a participant, a message, an invitation) is a new
// constant and a new entry, never a new field of Event.
type SubjectKind string

// Kinds of subjects.
const (
	// SubjectMe is the receiving application's me resource (no key).
	SubjectMe SubjectKind = "me"
	// SubjectCommunication is the receiving application's communication
	// resource (no key).
	SubjectCommunication SubjectKind = "communication"
	// SubjectMeeting is an online meeting; its key is the meeting's id.
	SubjectMeeting SubjectKind = "meeting"
	// SubjectExtension is an onlineMeetingExtension; its key is the
	// meeting's id and the extension's, see ExtensionSubject.
	SubjectExtension SubjectKind = "extension"
)

// Subject names what an event is about: its kind, and within the kind a key
// naming the one thing. A thing inside another is keyed by the path of ids
// from the outermost, joined by "/"; only the last id of a path may itself
// contain "/" (ids the server draws never do; ids a client chooses, such as
// an extension's, may).
type Subject struct {
	Kind SubjectKind
	Key  string
}

// MeetingSubject is the subject of events about the meeting with that id.
func MeetingSubject(meetingID string) Subject {
	return Subject{Kind: SubjectMeeting, Key: meetingID}
}

// ExtensionSubject is the subject of events about one extension of a
// meeting.
func ExtensionSubject(meetingID, extensionID string) Subject {
	return Subject{Kind: SubjectExtension, Key: meetingID + "/" + extensionID}
}

// MeetingID is the meeting a meeting or extension subject belongs to: the
// first id of its key.
func (s Subject) MeetingID() string {
	id, _, _ := strings.Cut(s.Key, "/")
	return id
}

// ExtensionID is the extension an extension subject names: its key after
// the meeting's id.
func (s Subject) ExtensionID() string {
	_, id, _ := strings.Cut(s.Key, "/")
	return id
}

// Event is one change reported on an event channel. It names its subject in
// domain terms; the transport turns it into links and hrefs for the
// application that receives it.
type Event struct {
	// Seq orders events within the store.
	Seq     int64
	Type    EventType
	Subject Subject
	// Data is the subject's state at commit (JSON of the domain value), for
	// added and updated events of meetings and extensions; nil otherwise.
	Data []byte
}

// Recipient is one receiver of an event: every application of a user
// (ApplicationID "") or one application of that user.
type Recipient struct {
	UserID        int64
	ApplicationID string
}

// Audience is who receives an event, chosen by the rules below, never by
// the store: the store stores the event once and delivers it to every
// channel of every application the audience names, whatever the number of
// users it spans. A recipient naming every application of a user includes
// any naming one of them.
type Audience []Recipient

// MeetingAudience receives the events about a meeting and its extensions:
// every application of the organizer, the application that made the change
// included, and nobody else, for a meeting's resource is visible only to
// its organizer.
func MeetingAudience(organizerID int64) Audience {
	return Audience{{UserID: organizerID}}
}

// ApplicationAudience receives the events about an application's own state
// (its me and communication resources): that application alone.
func ApplicationAudience(userID int64, appID string) Audience {
	return Audience{{UserID: userID, ApplicationID: appID}}
}

// Notifier is how a store reaches the P-GETs its process holds.
type Notifier interface {
	// Notify wakes the P-GETs held on the channels of these applications
	// for them to read again: events were appended for them (by this
	// process, told after commit, or by another one sharing the store, told
	// within the poll interval), a channel of theirs was taken by another
	// process, or they went away.
	Notify(appIDs []string)
}
