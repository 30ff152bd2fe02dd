package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
)

// eventTests are the event-channel subtests.
var eventTests = []struct {
	name string
	f    func(*testing.T, *env)
}{
	{"ReadBatchAckProtocol", testReadBatchAckProtocol},
	{"ReadBatchDeferAck", testReadBatchDeferAck},
	{"ReadBatchChannels", testReadBatchChannels},
	{"ReadBatchUnknownChannel", testReadBatchUnknownChannel},
	{"ReadBatchIsActivity", testReadBatchIsActivity},
	{"ReadBatchHold", testReadBatchHold},
	{"KeepApplicationsAlive", testKeepApplicationsAlive},
	{"ChannelOptions", testChannelOptions},
	{"ExpireApplications", testExpireApplications},
	{"EventLogOverflow", testEventLogOverflow},
	{"EventBytesPerUser", testEventBytesPerUser},
	{"EventBytesReleasedBatch", testEventBytesReleasedBatch},
	{"BatchBytes", testBatchBytes},
	{"EventLogOverflowOneApplication", testEventLogOverflowOneApplication},
}

// notifications records what the store tells its Notifier.
type notifications struct {
	mu   sync.Mutex
	apps []string
}

func (n *notifications) Notify(appIDs []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.apps = append(n.apps, appIDs...)
}

// take returns the notified application ids so far (sorted, deduplicated)
// and forgets them.
func (n *notifications) take() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := slices.Compact(slices.Sorted(slices.Values(n.apps)))
	n.apps = nil
	return out
}

// summary is an event without its sequence number and data.
type summary struct {
	typ     ucwad.EventType
	subject ucwad.SubjectKind
}

func summarize(evs []ucwad.Event) []summary {
	var out []summary
	for _, e := range evs {
		out = append(out, summary{e.Type, e.Subject.Kind})
	}
	return out
}

// availabilityEvents are what MakeApplicationAvailable appends.
var availabilityEvents = []summary{{ucwad.EventUpdated, ucwad.SubjectMe}, {ucwad.EventUpdated, ucwad.SubjectCommunication}}

func (e *env) readBatch(t *testing.T, app *ucwad.Application, instance string, ack int64, release bool) *ucwad.Batch {
	t.Helper()
	b, err := e.s.ReadBatch(e.ctx, app.ID, instance, ack, release, 0)
	if err != nil {
		t.Fatalf("ReadBatch(ack %d, release %v): %v", ack, release, err)
	}
	return b
}

// wantBatch checks a served batch: its number and events, not waiting, no resync.
func wantBatch(t *testing.T, what string, b *ucwad.Batch, ack int64, want []summary) {
	t.Helper()
	if b.Wait || b.Resync != 0 || b.Ack != ack || !slices.Equal(summarize(b.Events), want) {
		t.Fatalf("%s: got ack %d wait %v resync %d events %v, want batch %d with %v", what, b.Ack, b.Wait, b.Resync, summarize(b.Events), ack, want)
	}
	for i := 1; i < len(b.Events); i++ {
		if b.Events[i].Seq <= b.Events[i-1].Seq {
			t.Fatalf("%s: events out of order: %+v", what, b.Events)
		}
	}
}

func wantResync(t *testing.T, what string, b *ucwad.Batch, to int64) {
	t.Helper()
	if b.Resync != to || len(b.Events) != 0 || b.Wait {
		t.Fatalf("%s: got resync %d wait %v events %d, want resync to %d", what, b.Resync, b.Wait, len(b.Events), to)
	}
}

func wantWait(t *testing.T, what string, b *ucwad.Batch) {
	t.Helper()
	if !b.Wait || b.Resync != 0 || len(b.Events) != 0 {
		t.Fatalf("%s: got wait %v resync %d events %d, want to wait", what, b.Wait, b.Resync, len(b.Events))
	}
}

func testReadBatchAckProtocol(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	app, _ := e.createApp(t, alice, "ep", "")
	if app.Channel.NextAck != 1 {
		t.Fatalf("new channel NextAck %d, want 1", app.Channel.NextAck)
	}
	wantWait(t, "nothing yet", e.readBatch(t, app, "", 1, false))

	if err := e.s.MakeApplicationAvailable(e.ctx, alice.ID, app.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.notes.take(); !slices.Equal(got, []string{app.ID}) {
		t.Fatalf("notified %v, want %v", got, []string{app.ID})
	}
	first := e.readBatch(t, app, "", 1, false)
	wantBatch(t, "first batch", first, 1, availabilityEvents)
	// Frozen: asking again gives exactly the same batch.
	again := e.readBatch(t, app, "", 1, false)
	wantBatch(t, "re-delivery", again, 1, availabilityEvents)
	if again.Events[0].Seq != first.Events[0].Seq {
		t.Fatal("re-delivery returned other events")
	}
	// Doing it again changes nothing and tells nobody.
	if err := e.s.MakeApplicationAvailable(e.ctx, alice.ID, app.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.notes.take(); len(got) != 0 {
		t.Fatalf("a second MakeApplicationAvailable notified %v", got)
	}

	// Asking for 2 acknowledges 1.
	wantWait(t, "after ack", e.readBatch(t, app, "", 2, false))
	if got := e.findApp(t, alice.ID, app.ID, "").Channel.NextAck; got != 2 {
		t.Fatalf("NextAck %d after acknowledging 1, want 2", got)
	}
	wantResync(t, "acknowledged batch", e.readBatch(t, app, "", 1, false), 2)
	wantResync(t, "future batch", e.readBatch(t, app, "", 3, false), 2)
	wantResync(t, "garbage", e.readBatch(t, app, "", 0, false), 2)
	// A timed-out request freezes an empty batch, which is re-delivered empty.
	wantBatch(t, "released empty", e.readBatch(t, app, "", 2, true), 2, nil)
	wantBatch(t, "empty re-delivery", e.readBatch(t, app, "", 2, false), 2, nil)
	wantWait(t, "next after empty", e.readBatch(t, app, "", 3, false))
	wantResync(t, "before the empty one", e.readBatch(t, app, "", 2, false), 3)
}

// testReadBatchDeferAck: an acknowledgement that is the only write waits
// for the write releasing the next batch, which makes it.
func testReadBatchDeferAck(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	app, _ := e.createApp(t, alice, "ep", "")
	deferred := func(ack int64, release bool) *ucwad.Batch {
		t.Helper()
		b, err := e.s.ReadBatchDeferAck(e.ctx, app.ID, "", ack, release, 0)
		if err != nil {
			t.Fatalf("ReadBatchDeferAck(ack %d, release %v): %v", ack, release, err)
		}
		return b
	}
	nextAck := func() int64 { return e.findApp(t, alice.ID, app.ID, "").Channel.NextAck }
	// Nothing to acknowledge yet: an ordinary wait (taking the channel).
	if b := deferred(1, false); !b.Wait || b.AckDeferred {
		t.Fatalf("first read: wait %v deferred %v, want a plain wait", b.Wait, b.AckDeferred)
	}
	if err := e.s.MakeApplicationAvailable(e.ctx, alice.ID, app.ID); err != nil {
		t.Fatal(err)
	}
	wantBatch(t, "first batch", deferred(1, false), 1, availabilityEvents)

	// Asking for 2 with nothing new: a wait that leaves batch 1 unacknowledged.
	b := deferred(2, false)
	wantWait(t, "deferred acknowledgement", b)
	if !b.AckDeferred || b.Ack != 2 {
		t.Fatalf("deferred: ack %d AckDeferred %v, want 2 and set", b.Ack, b.AckDeferred)
	}
	if got := nextAck(); got != 1 {
		t.Fatalf("NextAck %d with the acknowledgement deferred, want 1", got)
	}
	wantBatch(t, "batch 1 still held", e.readBatch(t, app, "", 1, false), 1, availabilityEvents)

	// The timeout releases batch 2 empty, acknowledging 1 in the same write.
	wantBatch(t, "released empty", deferred(2, true), 2, nil)
	if got := nextAck(); got != 2 {
		t.Fatalf("NextAck %d after releasing 2, want 2", got)
	}
	wantResync(t, "batch 1 after release", e.readBatch(t, app, "", 1, false), 2)

	// Deferred again on 3; a change arrives: the read releases it as batch
	// 3 and acknowledges 2.
	wantWait(t, "deferred on 3", deferred(3, false))
	m := e.bigMeeting(t, alice, 0)
	wantMeetings(t, "batch 3", deferred(3, false), 3, m)
	wantResync(t, "batch 2 after batch 3", e.readBatch(t, app, "", 2, false), 3)

	// Events already wait after the released batch: asking for the next
	// acknowledges and releases at once, deferring nothing.
	m2 := e.bigMeeting(t, alice, 0)
	wantMeetings(t, "batch 4 at once", deferred(4, false), 4, m2)
	// An ordinary read acknowledges at once, as before.
	wantWait(t, "plain read of 5", e.readBatch(t, app, "", 5, false))
	if got := nextAck(); got != 5 {
		t.Fatalf("NextAck %d after a plain read acknowledged 4, want 5", got)
	}
}

func testReadBatchChannels(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	bob := e.createUser(t, "bob@contoso.com")
	tab1, _ := e.createApp(t, alice, "ep", "tab1")
	tab2, _ := e.createApp(t, alice, "ep", "tab2")
	other, _ := e.createApp(t, alice, "other", "")
	bobs, _ := e.createApp(t, bob, "ep", "")

	if err := e.s.MakeApplicationAvailable(e.ctx, alice.ID, tab1.ID); err != nil {
		t.Fatal(err)
	}
	// Every channel of that application gets the events; other applications none.
	wantBatch(t, "tab1", e.readBatch(t, tab1, "tab1", 1, false), 1, availabilityEvents)
	wantBatch(t, "tab2", e.readBatch(t, tab2, "tab2", 1, false), 1, availabilityEvents)
	wantWait(t, "other application", e.readBatch(t, other, "", 1, false))
	wantWait(t, "bob", e.readBatch(t, bobs, "", 1, false))
	// Acknowledging on one channel leaves the other's batch alone.
	wantWait(t, "tab1 ack", e.readBatch(t, tab1, "tab1", 2, false))
	wantBatch(t, "tab2 still", e.readBatch(t, tab2, "tab2", 1, false), 1, availabilityEvents)
}

func testReadBatchUnknownChannel(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	app, _ := e.createApp(t, alice, "ep", "tab")
	for _, tc := range []struct{ id, instance string }{{app.ID, "other"}, {"nosuchapplication000", ""}} {
		_, err := e.s.ReadBatch(e.ctx, tc.id, tc.instance, 1, false, 0)
		wantAppNotFound(t, "ReadBatch("+tc.id+", "+tc.instance+")", err)
	}
}

func testReadBatchIsActivity(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	app, _ := e.createApp(t, alice, "ep", "")
	e.clk.Advance(10 * time.Minute)
	e.readBatch(t, app, "", 1, false)
	if got := e.findApp(t, alice.ID, app.ID, "").LastActiveAt; !got.Equal(e.clk.Now()) {
		t.Fatalf("LastActiveAt %v after ReadBatch, want %v", got, e.clk.Now())
	}
}

// testReadBatchHold: a read that waits holds the channel for the store's
// process; reading again with that hold waits again, even after the
// channel's events were read and acknowledged by a later P-GET of the same
// process; a hold the channel does not have answers Replaced and changes
// nothing.
func testReadBatchHold(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	app, _ := e.createApp(t, alice, "ep", "")
	first := e.readBatch(t, app, "", 1, false)
	wantWait(t, "first P-GET", first)
	if first.Hold == 0 {
		t.Fatal("a read that waits holds nothing")
	}
	hold := func(what string, h int64) *ucwad.Batch {
		t.Helper()
		b, err := e.s.ReadBatch(e.ctx, app.ID, "", 1, false, h)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return b
	}
	if b := hold("held P-GET woken", first.Hold); !b.Wait || b.Hold != first.Hold || b.Replaced {
		t.Fatalf("held P-GET woken: %+v, want to wait with hold %d", b, first.Hold)
	}
	if b := e.readBatch(t, app, "", 1, false); !b.Wait || b.Hold != first.Hold {
		t.Fatalf("a second P-GET of the same process: %+v, want to wait with the same hold %d", b, first.Hold)
	}
	if b := hold("a hold the channel does not have", first.Hold+1); !b.Replaced || b.Wait || len(b.Events) != 0 {
		t.Fatalf("a hold the channel does not have: %+v, want Replaced", b)
	}
	if err := e.s.MakeApplicationAvailable(e.ctx, alice.ID, app.ID); err != nil {
		t.Fatal(err)
	}
	wantBatch(t, "events for the held P-GET", hold("events", first.Hold), 1, availabilityEvents)
	if b := e.readBatch(t, app, "", 2, false); !b.Wait || b.Hold != first.Hold {
		t.Fatalf("after acknowledging: %+v, want to wait with hold %d", b, first.Hold)
	}
}

// testKeepApplicationsAlive: the applications with stale activity record
// activity now, the others keep theirs, and ids without an application
// come back as gone.
func testKeepApplicationsAlive(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	stale, _ := e.createApp(t, alice, "stale", "")
	e.clk.Advance(10 * time.Minute)
	fresh, _ := e.createApp(t, alice, "fresh", "")
	freshAt := e.findApp(t, alice.ID, fresh.ID, "").LastActiveAt
	e.clk.Advance(time.Minute)
	gone, err := e.s.KeepApplicationsAlive(e.ctx, []string{stale.ID, "nosuchapplication000", fresh.ID}, e.clk.Now().Add(-5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gone, []string{"nosuchapplication000"}) {
		t.Errorf("gone %v, want the id without an application", gone)
	}
	if got := e.findApp(t, alice.ID, stale.ID, "").LastActiveAt; !got.Equal(e.clk.Now()) {
		t.Errorf("stale application's activity %v, want now %v", got, e.clk.Now())
	}
	if got := e.findApp(t, alice.ID, fresh.ID, "").LastActiveAt; !got.Equal(freshAt) {
		t.Errorf("recent application's activity %v, want it kept at %v", got, freshAt)
	}
	if gone, err := e.s.KeepApplicationsAlive(e.ctx, nil, e.clk.Now()); err != nil || len(gone) != 0 {
		t.Errorf("no applications: gone %v, %v", gone, err)
	}
}

func testChannelOptions(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	app, _ := e.createApp(t, alice, "ep", "")
	e.createApp(t, alice, "ep", "tab")
	o := ucwad.ChannelOptions{Timeout: 600, Low: 20, Medium: 7}
	if err := e.s.SetChannelOptions(e.ctx, app.ID, "", o); err != nil {
		t.Fatal(err)
	}
	if got := e.findApp(t, alice.ID, app.ID, "").Channel.Options; got != o {
		t.Fatalf("options %+v, want %+v", got, o)
	}
	if got := e.findApp(t, alice.ID, app.ID, "tab").Channel.Options; got != (ucwad.ChannelOptions{}) {
		t.Fatalf("the other channel's options %+v, want none", got)
	}
	wantAppNotFound(t, "SetChannelOptions(unknown channel)", e.s.SetChannelOptions(e.ctx, app.ID, "nope", o))
}

func testExpireApplications(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	old, _ := e.createApp(t, alice, "old", "")
	held, _ := e.createApp(t, alice, "held", "")
	e.clk.Advance(10 * time.Minute)
	fresh, _ := e.createApp(t, alice, "fresh", "")
	if err := e.s.MakeApplicationAvailable(e.ctx, alice.ID, old.ID); err != nil {
		t.Fatal(err)
	}
	e.notes.take()

	cutoff := e.clk.Now().Add(-5 * time.Minute)
	ids, err := e.s.ExpireApplications(e.ctx, cutoff, []string{held.ID, "nosuchapplication000"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []string{old.ID}) {
		t.Fatalf("expired %v, want %v", ids, []string{old.ID})
	}
	if got := e.notes.take(); !slices.Equal(got, []string{old.ID}) {
		t.Fatalf("notified %v, want the expired application", got)
	}
	_, err = e.s.FindApplication(e.ctx, alice.ID, old.ID, "")
	wantAppNotFound(t, "FindApplication(expired)", err)
	_, err = e.s.ReadBatch(e.ctx, old.ID, "", 1, false, 0)
	wantAppNotFound(t, "ReadBatch(expired)", err)
	e.findApp(t, alice.ID, held.ID, "")
	e.findApp(t, alice.ID, fresh.ID, "")

	// Without the keep list the held one goes too; nothing is expired twice.
	ids, err = e.s.ExpireApplications(e.ctx, cutoff, nil)
	if err != nil || !slices.Equal(ids, []string{held.ID}) {
		t.Fatalf("second expiry: %v %v, want %v", ids, err, []string{held.ID})
	}
}

// testEventLogOverflow: a channel keeps at most MaxEventsPerChannel events;
// past that the oldest go, a released batch goes whole, and the next read
// is told to resync.
func testEventLogOverflow(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	app, _ := e.createApp(t, alice, "ep", "")
	added := func(n int) []summary {
		var s []summary
		for range n {
			s = append(s, summary{ucwad.EventAdded, ucwad.SubjectMeeting})
		}
		return s
	}
	schedule := func(n int) {
		t.Helper()
		for range n {
			e.createMeeting(t, alice, e.settings(time.Hour))
		}
	}
	schedule(4)
	wantBatch(t, "four meetings", e.readBatch(t, app, "", 1, false), 1, added(4))
	schedule(3) // 4 released + 3 waiting > 6: batch 1 is dropped whole
	wantResync(t, "after overflow", e.readBatch(t, app, "", 1, false), 2)
	wantBatch(t, "what was kept", e.readBatch(t, app, "", 2, false), 2, added(3))

	schedule(MaxEventsPerChannel + 2) // only waiting events: the newest are kept
	wantResync(t, "after the second overflow", e.readBatch(t, app, "", 3, false), 3)
	wantBatch(t, "the newest", e.readBatch(t, app, "", 3, false), 3, added(MaxEventsPerChannel))
}

// bigMeeting schedules a meeting of u whose description has n bytes and
// returns it.
func (e *env) bigMeeting(t *testing.T, u *ucwad.User, n int) *ucwad.OnlineMeeting {
	t.Helper()
	s := e.settings(time.Hour)
	s.Description = strings.Repeat("d", n)
	return e.createMeeting(t, u, s)
}

// meetingIDs are the meetings the events are about, in order.
func meetingIDs(evs []ucwad.Event) []string {
	var ids []string
	for _, ev := range evs {
		ids = append(ids, ev.Subject.MeetingID())
	}
	return ids
}

// wantMeetings checks a served batch: its number and the meetings its
// events are about.
func wantMeetings(t *testing.T, what string, b *ucwad.Batch, ack int64, ms ...*ucwad.OnlineMeeting) {
	t.Helper()
	var want []string
	for _, m := range ms {
		want = append(want, m.ID)
	}
	if b.Wait || b.Resync != 0 || b.Ack != ack || !slices.Equal(meetingIDs(b.Events), want) {
		t.Fatalf("%s: got ack %d wait %v resync %d meetings %v, want batch %d with %v", what, b.Ack, b.Wait, b.Resync, meetingIDs(b.Events), ack, want)
	}
}

// testEventBytesPerUser: a user's events hold at most MaxEventBytesPerUser,
// each change counted once however many channels hold it; beyond, the
// oldest go (from every channel), the channels are told to resync, and no
// change is refused. Other users keep theirs.
func testEventBytesPerUser(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	bob := e.createUser(t, "bob@contoso.com")
	type channel struct {
		app      *ucwad.Application
		instance string
	}
	var channels []channel
	for _, ep := range []string{"a", "b"} {
		for _, inst := range []string{"", "tab"} {
			app, _ := e.createApp(t, alice, ep, inst)
			channels = append(channels, channel{app, inst})
		}
	}
	bobs, _ := e.createApp(t, bob, "ep", "")
	// Each change is well over a quarter of the bound: two fit, counted
	// once for the four channels; a third does not.
	const size = MaxEventBytesPerUser * 3 / 10
	m1 := e.bigMeeting(t, alice, size)
	m2 := e.bigMeeting(t, alice, size)
	b1 := e.bigMeeting(t, bob, size)
	for _, ch := range channels[1:] {
		wantMeetings(t, "two changes within the bound", e.readBatch(t, ch.app, ch.instance, 1, false), 1, m1, m2)
	}
	m3 := e.bigMeeting(t, alice, size)
	b2 := e.bigMeeting(t, bob, size)
	m4 := e.bigMeeting(t, alice, size)
	// Released batches went whole, the oldest waiting events went, and the
	// channel that read nothing yet lost its oldest too.
	for i, ch := range channels {
		// The first unacknowledged batch: 1 where nothing was released,
		// 2 where batch 1 was released and went.
		wantResync(t, fmt.Sprintf("channel %d after the bound", i), e.readBatch(t, ch.app, ch.instance, 1, false), min(int64(i)+1, 2))
		if i == 0 {
			wantMeetings(t, "the unread channel", e.readBatch(t, ch.app, ch.instance, 1, false), 1, m3, m4)
		} else {
			wantMeetings(t, fmt.Sprintf("channel %d", i), e.readBatch(t, ch.app, ch.instance, 2, false), 2, m3, m4)
		}
	}
	wantMeetings(t, "bob's channel", e.readBatch(t, bobs, "", 1, false), 1, b1, b2)

	// A change larger than the whole bound is still kept, alone.
	huge := e.bigMeeting(t, alice, MaxEventBytesPerUser*2)
	ch := channels[0]
	wantResync(t, "after a huge change", e.readBatch(t, ch.app, ch.instance, 2, false), 2)
	wantMeetings(t, "the huge change", e.readBatch(t, ch.app, ch.instance, 2, false), 2, huge)
}

// testEventBytesReleasedBatch: when the bound drops an event of a batch
// that was released but not acknowledged, the batch goes whole.
func testEventBytesReleasedBatch(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	app, _ := e.createApp(t, alice, "ep", "")
	const size = MaxEventBytesPerUser / 4 // three changes fit, four do not
	m1 := e.bigMeeting(t, alice, size)
	e.clk.Advance(time.Millisecond)
	wantMeetings(t, "batch 1", e.readBatch(t, app, "", 1, false), 1, m1)
	m2 := e.bigMeeting(t, alice, size)
	m3 := e.bigMeeting(t, alice, size)
	wantMeetings(t, "batch 1 again, within the bound", e.readBatch(t, app, "", 1, false), 1, m1)
	m4 := e.bigMeeting(t, alice, size) // m1 goes, and batch 1 with it
	wantResync(t, "batch 1 after the bound", e.readBatch(t, app, "", 1, false), 2)
	// (Two changes this size fill a batch.)
	wantMeetings(t, "what was kept", e.readBatch(t, app, "", 2, false), 2, m2, m3)
	wantMeetings(t, "what was kept, continued", e.readBatch(t, app, "", 3, false), 3, m4)
}

// testBatchBytes: a batch takes waiting events up to MaxBatchBytes beyond
// its first one; the rest make the next batch.
func testBatchBytes(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	app, _ := e.createApp(t, alice, "ep", "")
	const size = MaxBatchBytes * 45 / 100 // two reach the budget
	m1 := e.bigMeeting(t, alice, size)
	m2 := e.bigMeeting(t, alice, size)
	m3 := e.bigMeeting(t, alice, size)
	wantMeetings(t, "the first two", e.readBatch(t, app, "", 1, false), 1, m1, m2)
	wantMeetings(t, "the first two again", e.readBatch(t, app, "", 1, false), 1, m1, m2)
	wantMeetings(t, "the third", e.readBatch(t, app, "", 2, false), 2, m3)
	huge := e.bigMeeting(t, alice, MaxBatchBytes*11/10)
	small := e.createMeeting(t, alice, e.settings(time.Hour))
	wantMeetings(t, "an event larger than a batch", e.readBatch(t, app, "", 3, false), 3, huge)
	wantMeetings(t, "after it", e.readBatch(t, app, "", 4, false), 4, small)
}

// testEventLogOverflowOneApplication: events meant for one application
// (availability) that overflow the log make only that application's
// channels resync; the user's other applications lost nothing.
func testEventLogOverflowOneApplication(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	a, _ := e.createApp(t, alice, "a", "")
	b, _ := e.createApp(t, alice, "b", "")
	if err := e.s.MakeApplicationAvailable(e.ctx, alice.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	var ms []*ucwad.OnlineMeeting
	for range MaxEventsPerChannel - 1 { // one more than the log holds, with a's two
		ms = append(ms, e.createMeeting(t, alice, e.settings(time.Hour)))
	}
	wantResync(t, "the application whose event went", e.readBatch(t, a, "", 1, false), 1)
	b1 := e.readBatch(t, a, "", 1, false)
	if len(b1.Events) == 0 || b1.Events[0].Subject.Kind != ucwad.SubjectCommunication {
		t.Fatalf("after resync: %v, want its second availability event first", summarize(b1.Events))
	}
	wantMeetings(t, "the other application", e.readBatch(t, b, "", 1, false), 1, ms...)
}
