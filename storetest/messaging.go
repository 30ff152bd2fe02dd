package storetest

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
)

// messagingTests are the subtests of instant messaging in meetings, run
// with the joining limits (joinLimits) lowered by limits.
var messagingTests = []struct {
	name   string
	f      func(*testing.T, *env)
	limits func(*ucwad.Limits)
}{
	{"MessagingConnect", testMessagingConnect, nil},
	{"MessageDelivery", testMessageDelivery, nil},
	{"MessagingErrors", testMessagingErrors, nil},
	{"MessageRate", testMessageRate, func(l *ucwad.Limits) { l.MessageBurst, l.MessagesPerMinute = 2, 60 }},
	{"Typing", testTyping, func(l *ucwad.Limits) { l.TypingTimeout = 5 * time.Second }},
	{"FindMessages", testFindMessages, nil},
}

// describeMessagingEvent is what describeEvent adds for the kinds of
// messaging: the modality's state, the typing participant, the message's
// sender and text.
func describeMessagingEvent(t *testing.T, ev ucwad.Event) string {
	t.Helper()
	var me ucwad.MessagingEvent
	if err := json.Unmarshal(ev.Data, &me); err != nil {
		t.Fatalf("event data %s: %v", ev.Data, err)
	}
	switch ev.Subject.Kind {
	case ucwad.SubjectMessaging, ucwad.SubjectMessagingInvitation:
		if me.Messaging == nil {
			t.Fatalf("%s event without its messaging", ev.Subject.Kind)
		}
		return " " + me.Messaging.State
	case ucwad.SubjectTyping:
		return " " + me.Name
	case ucwad.SubjectMessage:
		if me.Message == nil {
			t.Fatalf("message event without its message")
		}
		return " from " + me.Message.SenderName + ": " + me.Message.Text
	}
	return ""
}

// meetingOfAll has alice schedule an Everyone meeting and every person of
// names join it, their channels drained; it returns them and the
// conversation's id.
func (e *env) meetingOfAll(t *testing.T, names ...string) (map[string]*person, string) {
	t.Helper()
	ps := e.people(t, names...)
	m := e.meetingOf(t, ps[names[0]], "Everyone", nil, nil)
	var conv string
	for _, n := range names {
		conv = e.join(t, ps[n], m).ConversationID
	}
	for _, n := range names {
		e.events(t, ps[n])
	}
	e.notes.take()
	return ps, conv
}

func (e *env) connect(t *testing.T, p *person, conv string) *ucwad.MessagingView {
	t.Helper()
	v, err := e.s.AddMessaging(e.ctx, p.app.ID, conv, "op-"+p.name)
	if err != nil {
		t.Fatalf("%s adds messaging: %v", p.name, err)
	}
	e.events(t, p)
	return v
}

func (e *env) send(t *testing.T, p *person, conv, text string) *ucwad.Message {
	t.Helper()
	m, err := e.s.SendMessage(e.ctx, p.app.ID, conv, "", &ucwad.MessageBody{Format: ucwad.FormatPlain, Text: text})
	if err != nil {
		t.Fatalf("%s sends %q: %v", p.name, text, err)
	}
	return m
}

func testMessagingConnect(t *testing.T, e *env) {
	ps, conv := e.meetingOfAll(t, "alice", "bob")
	alice, bob := ps["alice"], ps["bob"]
	v, err := e.s.Messaging(e.ctx, alice.app.ID, conv)
	if err != nil || v.Messaging.State != ucwad.MessagingDisconnected || v.Self.ApplicationID != alice.app.ID {
		t.Fatalf("messaging before adding it: %+v, %v", v, err)
	}
	v, err = e.s.AddMessaging(e.ctx, alice.app.ID, conv, "op-1")
	if err != nil || v.Messaging.State != ucwad.MessagingConnected || v.Messaging.OperationID != "op-1" || v.Messaging.InvitationID == "" {
		t.Fatalf("AddMessaging: %+v, %v", v, err)
	}
	wantEvents(t, "alice adds messaging", e.events(t, alice),
		"started messagingInvitation Connecting", "updated messaging Connected", "completed messagingInvitation Connected")
	e.wantNoEvents(t, "alice adds messaging", bob)
	if got := e.notes.take(); len(got) != 1 || got[0] != alice.app.ID {
		t.Errorf("notified %v, want alice's application", got)
	}
	inv, err := e.s.FindMessagingInvitation(e.ctx, alice.app.ID, v.Messaging.InvitationID)
	if err != nil || inv.Messaging.OperationID != "op-1" || inv.Self.ID != v.Self.ID {
		t.Errorf("FindMessagingInvitation: %+v, %v", inv, err)
	}
	_, err = e.s.FindMessagingInvitation(e.ctx, bob.app.ID, v.Messaging.InvitationID)
	wantErr(t, "bob finds alice's messaging invitation", err, ucwad.ENotFound, ucwad.SubResourceNotFound)
	_, err = e.s.AddMessaging(e.ctx, alice.app.ID, conv, "op-2")
	wantErr(t, "adding messaging twice", err, ucwad.EConflict, ucwad.SubAlreadyExists)
	e.wantNoEvents(t, "adding messaging twice", alice, bob)

	if err := e.s.StopMessaging(e.ctx, alice.app.ID, conv); err != nil {
		t.Fatalf("StopMessaging: %v", err)
	}
	wantEvents(t, "alice stops messaging", e.events(t, alice), "updated messaging Disconnected")
	v, _ = e.s.Messaging(e.ctx, alice.app.ID, conv)
	if v.Messaging.State != ucwad.MessagingDisconnected {
		t.Errorf("after StopMessaging: %s", v.Messaging.State)
	}
	// Connected again, with a new operation.
	v2, err := e.s.AddMessaging(e.ctx, alice.app.ID, conv, "op-3")
	if err != nil || v2.Messaging.InvitationID == v.Messaging.InvitationID {
		t.Errorf("adding messaging again: %+v, %v", v2, err)
	}
}

func testMessageDelivery(t *testing.T, e *env) {
	ps, conv := e.meetingOfAll(t, "alice", "bob", "carol", "dave")
	alice, bob, carol, dave := ps["alice"], ps["bob"], ps["carol"], ps["dave"]
	for _, p := range []*person{alice, bob, carol} {
		e.connect(t, p, conv)
	}
	e.notes.take()
	body := &ucwad.MessageBody{Format: ucwad.FormatHTML, Text: "Hi all", HTML: "<b>Hi</b> all"}
	msg, err := e.s.SendMessage(e.ctx, alice.app.ID, conv, "ctx-1", body)
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	if msg.ID == "" || msg.ConversationID != conv || msg.SenderApplicationID != alice.app.ID || msg.SenderName != "alice" ||
		msg.OperationID != "ctx-1" || !msg.TimeStamp.Equal(e.clk.Now().Truncate(time.Millisecond)) || msg.MessageBody != *body {
		t.Errorf("the message as stored: %+v", msg)
	}
	// Exactly once to each listener and to the sender, the same message.
	for _, p := range []*person{alice, bob, carol} {
		b := e.readBatch(t, p.app, "", p.ack, false)
		p.ack++
		if len(b.Events) != 1 || b.Events[0].Type != ucwad.EventCompleted || b.Events[0].Subject != ucwad.MessageSubject(conv, msg.ID) {
			t.Fatalf("%s's events: %+v", p.name, b.Events)
		}
		var me ucwad.MessagingEvent
		if err := json.Unmarshal(b.Events[0].Data, &me); err != nil || me.Message == nil || me.Message.ID != msg.ID || me.Message.HTML != body.HTML {
			t.Errorf("%s's message: %s, %v", p.name, b.Events[0].Data, err)
		}
		if dir := me.Message.Direction(p.app.ID); dir != map[bool]string{true: "Outgoing", false: "Incoming"}[p == alice] {
			t.Errorf("%s sees the message %s", p.name, dir)
		}
	}
	e.wantNoEvents(t, "dave, without messaging", dave)
	notified := e.notes.take()
	if len(notified) != 3 {
		t.Errorf("notified %v, want the three with messaging", notified)
	}
}

func testMessagingErrors(t *testing.T, e *env) {
	ps := e.people(t, "alice", "bob", "carol")
	alice, bob, carol := ps["alice"], ps["bob"], ps["carol"]
	m := e.meetingOf(t, alice, "Invited", []string{"sip:bob@contoso.com"}, nil)
	conv := e.join(t, alice, m).ConversationID
	e.join(t, bob, m)
	e.join(t, carol, m) // not invited: in the lobby
	for _, p := range []*person{alice, bob, carol} {
		e.events(t, p)
	}
	e.connect(t, alice, conv)
	body := &ucwad.MessageBody{Format: ucwad.FormatPlain, Text: "hi"}

	_, err := e.s.AddMessaging(e.ctx, carol.app.ID, conv, "")
	wantErr(t, "adding messaging from the lobby", err, ucwad.EForbidden, ucwad.SubMessagingNotConnected)
	_, err = e.s.SendMessage(e.ctx, carol.app.ID, conv, "", body)
	wantErr(t, "sending from the lobby", err, ucwad.EForbidden, ucwad.SubMessagingNotConnected)
	_, err = e.s.SetTyping(e.ctx, carol.app.ID, conv)
	wantErr(t, "typing from the lobby", err, ucwad.EForbidden, ucwad.SubMessagingNotConnected)
	_, err = e.s.SendMessage(e.ctx, bob.app.ID, conv, "", body)
	wantErr(t, "sending without messaging", err, ucwad.EForbidden, ucwad.SubMessagingNotConnected)
	_, err = e.s.SetTyping(e.ctx, bob.app.ID, conv)
	wantErr(t, "typing without messaging", err, ucwad.EForbidden, ucwad.SubMessagingNotConnected)
	err = e.s.StopMessaging(e.ctx, bob.app.ID, conv)
	wantErr(t, "stopping without messaging", err, ucwad.EForbidden, ucwad.SubMessagingNotConnected)
	_, _, err = e.s.TypingParticipants(e.ctx, bob.app.ID, conv)
	wantErr(t, "typingParticipants without messaging", err, ucwad.EForbidden, ucwad.SubMessagingNotConnected)
	e.wantNoEvents(t, "refused messaging", alice, bob, carol)

	if err := e.s.LeaveConversation(e.ctx, alice.app.ID, conv); err != nil {
		t.Fatal(err)
	}
	e.events(t, alice)
	e.events(t, bob)
	_, err = e.s.SendMessage(e.ctx, alice.app.ID, conv, "", body)
	wantErr(t, "sending after leaving", err, ucwad.ENotFound, ucwad.SubResourceNotFound)
	_, err = e.s.AddMessaging(e.ctx, alice.app.ID, conv, "")
	wantErr(t, "adding messaging after leaving", err, ucwad.ENotFound, ucwad.SubResourceNotFound)
	_, err = e.s.Messaging(e.ctx, alice.app.ID, conv)
	wantErr(t, "messaging after leaving", err, ucwad.ENotFound, ucwad.SubResourceNotFound)
	_, err = e.s.SendMessage(e.ctx, alice.app.ID, "no-such-conversation", "", body)
	wantErr(t, "sending to no conversation", err, ucwad.ENotFound, ucwad.SubResourceNotFound)
	e.wantNoEvents(t, "refused after leaving", alice, bob, carol)
}

func testMessageRate(t *testing.T, e *env) {
	ps, conv := e.meetingOfAll(t, "alice", "bob")
	alice, bob := ps["alice"], ps["bob"]
	e.connect(t, alice, conv)
	e.connect(t, bob, conv)
	e.send(t, alice, conv, "one")
	e.send(t, alice, conv, "two")
	_, err := e.s.SendMessage(e.ctx, alice.app.ID, conv, "", &ucwad.MessageBody{Format: ucwad.FormatPlain, Text: "three"})
	wantErr(t, "over the rate", err, ucwad.ETooManyRequests, "")
	var ue *ucwad.Error
	if !asError(err, &ue) || ue.RetryAfter != time.Second {
		t.Errorf("over the rate: RetryAfter %v, want 1s", ue)
	}
	// Bob's rate is his own.
	e.send(t, bob, conv, "bob's")
	e.clk.Advance(time.Second)
	e.send(t, alice, conv, "three")
	wantEvents(t, "bob", e.events(t, bob), "completed message from alice: one", "completed message from alice: two",
		"completed message from bob: bob's", "completed message from alice: three")
}

func testTyping(t *testing.T, e *env) {
	ps, conv := e.meetingOfAll(t, "alice", "bob", "carol")
	alice, bob, carol := ps["alice"], ps["bob"], ps["carol"]
	for _, p := range []*person{alice, bob, carol} {
		e.connect(t, p, conv)
	}
	until, err := e.s.SetTyping(e.ctx, alice.app.ID, conv)
	if err != nil || !until.Equal(e.clk.Now().Add(5*time.Second).Truncate(time.Millisecond)) {
		t.Fatalf("SetTyping: %v, %v", until, err)
	}
	for _, p := range []*person{bob, carol} {
		wantEvents(t, p.name+" sees alice type", e.events(t, p), "added typingParticipant alice")
	}
	e.wantNoEvents(t, "alice types", alice)
	_, typing, err := e.s.TypingParticipants(e.ctx, bob.app.ID, conv)
	if err != nil || len(typing) != 1 || typing[0].Name != "alice" {
		t.Errorf("typingParticipants: %v, %v", typing, err)
	}
	e.clk.Advance(3 * time.Second)
	if _, err := e.s.SetTyping(e.ctx, alice.app.ID, conv); err != nil {
		t.Fatal(err)
	}
	e.wantNoEvents(t, "alice types on", bob, carol)
	e.clk.Advance(3 * time.Second) // 6 s after the first, 3 s after the second
	next, err := e.s.ExpireTyping(e.ctx)
	if err != nil || !next.Equal(e.clk.Now().Add(2*time.Second).Truncate(time.Millisecond)) {
		t.Errorf("ExpireTyping before the end: next %v, %v", next, err)
	}
	e.wantNoEvents(t, "typing not over yet", bob, carol)
	e.clk.Advance(2 * time.Second)
	if next, err := e.s.ExpireTyping(e.ctx); err != nil || !next.IsZero() {
		t.Errorf("ExpireTyping: next %v, %v", next, err)
	}
	for _, p := range []*person{bob, carol} {
		wantEvents(t, p.name+" sees alice stop", e.events(t, p), "deleted typingParticipant alice")
	}
	// Sending ends typing at once, before the message.
	if _, err := e.s.SetTyping(e.ctx, bob.app.ID, conv); err != nil {
		t.Fatal(err)
	}
	e.send(t, bob, conv, "done")
	wantEvents(t, "alice, bob types and sends", e.events(t, alice), "added typingParticipant bob",
		"deleted typingParticipant bob", "completed message from bob: done")
	// So does stopping messaging.
	if _, err := e.s.SetTyping(e.ctx, carol.app.ID, conv); err != nil {
		t.Fatal(err)
	}
	if err := e.s.StopMessaging(e.ctx, carol.app.ID, conv); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "alice, carol types and stops", e.events(t, alice), "added typingParticipant carol", "deleted typingParticipant carol")
	e.events(t, bob)
	e.events(t, carol)
	e.clk.Advance(time.Minute)
	if _, err := e.s.ExpireTyping(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.wantNoEvents(t, "nothing left to expire", alice, bob, carol)
}

func testFindMessages(t *testing.T, e *env) {
	ps, conv := e.meetingOfAll(t, "alice", "bob", "carol")
	alice, bob, carol := ps["alice"], ps["bob"], ps["carol"]
	e.connect(t, alice, conv)
	e.connect(t, bob, conv)
	first := e.send(t, alice, conv, "first")
	e.clk.Advance(time.Second)
	e.connect(t, carol, conv) // after the first message
	second := e.send(t, bob, conv, "second")
	for _, tc := range []struct {
		p    *person
		want []string
	}{{alice, []string{first.ID, second.ID}}, {bob, []string{first.ID, second.ID}}, {carol, []string{second.ID}}} {
		ms, err := e.s.ListMessages(e.ctx, tc.p.app.ID, conv)
		var got []string
		for _, m := range ms {
			got = append(got, m.ID)
		}
		if err != nil || len(got) != len(tc.want) || len(got) > 0 && got[0] != tc.want[0] {
			t.Errorf("%s's messages: %v, %v; want %v", tc.p.name, got, err, tc.want)
		}
	}
	if m, err := e.s.FindMessage(e.ctx, bob.app.ID, conv, first.ID); err != nil || m.Text != "first" || m.SenderID != first.SenderID {
		t.Errorf("bob finds the first message: %+v, %v", m, err)
	}
	_, err := e.s.FindMessage(e.ctx, carol.app.ID, conv, first.ID)
	wantErr(t, "carol finds a message from before she connected", err, ucwad.ENotFound, ucwad.SubResourceNotFound)
	// Once everyone read it, it is gone.
	for _, p := range []*person{alice, bob, carol} {
		e.events(t, p)
		e.readBatch(t, p.app, "", p.ack, false) // acknowledges
	}
	_, err = e.s.FindMessage(e.ctx, alice.app.ID, conv, first.ID)
	wantErr(t, "a message everyone read", err, ucwad.ENotFound, ucwad.SubResourceNotFound)
}

func asError(err error, target **ucwad.Error) bool { return errors.As(err, target) }
