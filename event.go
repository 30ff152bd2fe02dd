package ucwad

import (
	"context"
)

// EventStore keeps each event channel's log and implements UCWA's ack
// protocol. Events are appended by the store itself, in the transaction of
// the change that causes them, so nothing is published that did not commit.
// The store bounds what the logs hold: events per channel, and the bytes of
// a user's events (each change counted once, however many channels hold
// it). Over a bound the oldest events go and the channels that lost some
// answer their next read with Resync; a change is never refused for it.
type EventStore interface {
	// ReadBatch serves "GET events?ack=N" on a channel, in one transaction:
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
	// Returns ENotFound (subcode ApplicationNotFound) if the channel does not
	// exist.
	ReadBatch(ctx context.Context, appID, instanceID string, ack int64, release bool) (*Batch, error)
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

// Subjects of events: what changed.
const (
	SubjectMe            = "me"
	SubjectCommunication = "communication"
	SubjectMeeting       = "meeting"
	SubjectExtension     = "extension"
)

// Event is one change reported on an event channel. It names its subject in
// domain terms; the transport turns it into links and hrefs for the
// application that receives it.
type Event struct {
	// Seq orders events within the store.
	Seq     int64
	Type    EventType
	Subject string
	// MeetingID and ExtensionID identify meeting and extension subjects.
	MeetingID   string
	ExtensionID string
	// Data is the subject's state at commit (JSON of the domain value), for
	// added and updated events of meetings and extensions; nil otherwise.
	Data []byte
}

// Notifier is told, after commit, which applications have new events, so
// that held event requests wake up at once.
type Notifier interface {
	Notify(appIDs []string)
}
