package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/clock"
	"github.com/ucwad/ucwad/ucwa"
)

// Instant messaging in meetings: a conversation's messaging modality, the
// messages and who is typing (docs/meetings.md, "Messages"). Hrefs follow
// the Front End's traces (SendAnIM.md, ReceiveAnIM.md): sendMessage is the
// messages collection, stopMessaging "terminate", setIsTyping "typing".

func (c *call) messagingHref(conversationID string) string {
	return c.conversationHref(conversationID) + "/messaging"
}

func (c *call) messageHref(conversationID, id string) string {
	return c.messagingHref(conversationID) + "/messages/" + url.PathEscape(id)
}

func (c *call) messagingInvitationHref(id string) string {
	return c.communicationHref() + "/messagingInvitations/" + url.PathEscape(id)
}

// Resource names of messaging.
const (
	relMessaging           = "messaging"
	relMessagingInvitation = "messagingInvitation"
	relMessage             = "message"
	relMessages            = "messages"
	relTypingParticipants  = "typingParticipants"
)

// messagingRoutes are the URLs of messaging, under the application app.
func (s *Server) messagingRoutes(app string) []*route {
	m := app + "/communication/conversations/{conversation}/messaging"
	return []*route{
		newRoute(m, inApp, false).on("GET", s.handleMessaging),
		newRoute(m+"/addMessaging", inApp, false).on("POST", s.handleAddMessaging),
		newRoute(m+"/terminate", inApp, false).on("POST", s.handleStopMessaging),
		newRoute(m+"/messages", inApp, false).on("POST", s.handleSendMessage).on("GET", s.handleMessages),
		newRoute(m+"/messages/{message}", inApp, false).on("GET", s.handleMessage),
		newRoute(m+"/typing", inApp, false).on("POST", s.handleSetTyping),
		newRoute(m+"/typingParticipants", inApp, false).on("GET", s.handleTypingParticipants),
		newRoute(app+"/communication/messagingInvitations/{invitation}", inApp, false).on("GET", s.handleMessagingInvitation),
	}
}

// messagingResource is a participant's messaging: its links follow its
// state (addMessaging when disconnected and admitted, the rest when
// connected).
func messagingResource(c *call, self *ucwad.Participant, m *ucwad.Messaging) *ucwa.Resource {
	href := c.messagingHref(self.ConversationID)
	res := ucwa.New(relMessaging, href)
	res.Set("negotiatedMessageFormats", ucwa.Strings(ucwad.MessageFormats))
	res.Set("state", ucwa.String(m.State))
	if !m.Connected() && !self.InLobby {
		res.Link("addMessaging", href+"/addMessaging")
	}
	res.Link(relConversation, c.conversationHref(self.ConversationID))
	if m.Connected() {
		res.Link("sendMessage", href+"/messages")
		res.Link("setIsTyping", href+"/typing")
		res.Link("stopMessaging", href+"/terminate")
		res.Link(relTypingParticipants, href+"/typingParticipants")
	}
	return res
}

// messagingInvitationResource is an addMessaging operation, in state.
func messagingInvitationResource(c *call, m *ucwad.Messaging, state string) *ucwa.Resource {
	res := ucwa.New(relMessagingInvitation, c.messagingInvitationHref(m.InvitationID))
	res.Set("direction", ucwa.String("Outgoing"))
	res.Set("importance", ucwa.String(ucwad.Importances[0]))
	if m.OperationID != "" {
		res.Set("operationId", ucwa.String(m.OperationID))
	}
	res.Set("state", ucwa.String(state))
	res.Link(relConversation, c.conversationHref(m.ConversationID))
	res.Link(relMessaging, c.messagingHref(m.ConversationID))
	return res
}

// messageResource is msg as the calling application sees it: its sender's
// as SendAnIM.md shows it (Outgoing, with its operationId), a receiver's
// as ReceiveAnIM.md does (Incoming, the sender as a titled participant
// link, the text as data: URIs: plainMessage always, so that clients
// reading only that one show every message, htmlMessage for HTML).
func messageResource(c *call, msg *ucwad.Message) *ucwa.Resource {
	res := ucwa.New(relMessage, c.messageHref(msg.ConversationID, msg.ID))
	dir := msg.Direction(c.app.ID)
	res.Set("direction", ucwa.String(dir))
	if dir == "Outgoing" && msg.OperationID != "" {
		res.Set("operationId", ucwa.String(msg.OperationID))
	}
	res.Set("timeStamp", ucwa.Date(msg.TimeStamp))
	if dir == "Incoming" {
		res.AddLink(ucwa.Link{Rel: relParticipant, Href: c.participantHref(msg.ConversationID, msg.SenderID), Title: msg.SenderName})
	}
	res.Link(relMessaging, c.messagingHref(msg.ConversationID))
	if dir == "Incoming" {
		if msg.Format == ucwad.FormatHTML {
			res.Link("htmlMessage", ucwad.DataURI("text/html", msg.HTML))
		}
		res.Link("plainMessage", ucwad.DataURI("text/plain", msg.Text))
	}
	return res
}

func (s *Server) handleMessaging(w http.ResponseWriter, r *http.Request, c *call) error {
	v, err := s.store.messaging.Messaging(r.Context(), c.app.ID, c.params["conversation"])
	if err != nil {
		return err
	}
	return s.writeResource(w, c, http.StatusOK, messagingResource(c, v.Self, &v.Messaging), "")
}

// operationID reads a messaging operation's operationId: a body member or
// query parameter, or, as real clients send it instead, the
// OperationContext or SessionContext query parameter. None is required.
func operationID(in *ucwa.Input, r *http.Request) (string, error) {
	var v string
	if in != nil {
		got, ok, err := stringMember(in, "operationId")
		if err != nil {
			return "", err
		}
		if ok {
			v = got
		}
	}
	for _, name := range []string{"operationId", "OperationContext", "SessionContext"} {
		if v == "" {
			v = queryValue(r, name)
		}
	}
	req := ucwad.JoinRequest{OperationID: v}
	if err := req.Check(); err != nil {
		return "", err
	}
	return v, nil
}

// handleAddMessaging connects the caller's messaging: 201 and the
// messagingInvitation in Location; the progress follows as events. The
// body (operationId; an opening message is not taken) may be empty.
func (s *Server) handleAddMessaging(w http.ResponseWriter, r *http.Request, c *call) error {
	var in *ucwa.Input
	if r.ContentLength != 0 && r.Header.Get("Content-Type") != "" {
		var err error
		if in, err = s.readInput(w, r); err != nil {
			return err
		}
	}
	op, err := operationID(in, r)
	if err != nil {
		return err
	}
	v, err := s.store.messaging.AddMessaging(r.Context(), c.app.ID, c.params["conversation"], op)
	if err != nil {
		return err
	}
	writeCreated(w, c.messagingInvitationHref(v.Messaging.InvitationID))
	return nil
}

// handleStopMessaging disconnects the caller's messaging; the body, which
// the reference leaves empty, is ignored.
func (s *Server) handleStopMessaging(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.store.messaging.StopMessaging(r.Context(), c.app.ID, c.params["conversation"]); err != nil {
		return err
	}
	writeNoContent(w)
	return nil
}

// handleSendMessage sends the body (text/plain or text/html) to the
// conversation: 201 and the message in Location.
func (s *Server) handleSendMessage(w http.ResponseWriter, r *http.Request, c *call) error {
	op, err := operationID(nil, r)
	if err != nil {
		return err
	}
	// Characters are at most 4 bytes; the body limit caps it whatever the
	// configured size.
	limit := min(int64(s.cfg.Limits.MaxMessageChars)*4, s.cfg.MaxBodyBytes)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return ucwad.InvalidParameter("message", "The message must be at most %d characters.", s.cfg.Limits.MaxMessageChars)
	}
	if err != nil {
		return ucwad.Errorf(ucwad.EBadRequest, "", "The request body could not be read.")
	}
	msg, err := ucwad.ParseMessage(r.Header.Get("Content-Type"), body, s.cfg.Limits.MaxMessageChars)
	if err != nil {
		return err
	}
	m, err := s.store.messaging.SendMessage(r.Context(), c.app.ID, c.params["conversation"], op, msg)
	if err != nil {
		return err
	}
	writeCreated(w, c.messageHref(m.ConversationID, m.ID))
	return nil
}

// handleSetTyping shows the caller as typing for TypingTimeout.
func (s *Server) handleSetTyping(w http.ResponseWriter, r *http.Request, c *call) error {
	until, err := s.store.messaging.SetTyping(r.Context(), c.app.ID, c.params["conversation"])
	if err != nil {
		return err
	}
	s.typing.at(s, until)
	writeNoContent(w)
	return nil
}

func (s *Server) handleTypingParticipants(w http.ResponseWriter, r *http.Request, c *call) error {
	id := c.params["conversation"]
	v, ps, err := s.store.messaging.TypingParticipants(r.Context(), c.app.ID, id)
	if err != nil {
		return err
	}
	list := []*ucwa.Resource{}
	for _, p := range ps {
		list = append(list, participantResource(c, v.Self, p, false))
	}
	res := ucwa.New(relTypingParticipants, c.messagingHref(id)+"/typingParticipants")
	res.EmbedArray(relParticipant, list)
	return s.writeResource(w, c, http.StatusOK, res, "")
}

func (s *Server) handleMessagingInvitation(w http.ResponseWriter, r *http.Request, c *call) error {
	v, err := s.store.messaging.FindMessagingInvitation(r.Context(), c.app.ID, c.params["invitation"])
	if err != nil {
		return err
	}
	return s.writeResource(w, c, http.StatusOK, messagingInvitationResource(c, &v.Messaging, ucwad.InvitationConnected), "")
}

func (s *Server) handleMessage(w http.ResponseWriter, r *http.Request, c *call) error {
	m, err := s.store.messaging.FindMessage(r.Context(), c.app.ID, c.params["conversation"], c.params["message"])
	if err != nil {
		return err
	}
	return s.writeResource(w, c, http.StatusOK, messageResource(c, m), "")
}

// handleMessages lists the messages still kept (see
// ucwad.MessagingStore.ListMessages) as links, as the reference shows.
func (s *Server) handleMessages(w http.ResponseWriter, r *http.Request, c *call) error {
	id := c.params["conversation"]
	ms, err := s.store.messaging.ListMessages(r.Context(), c.app.ID, id)
	if err != nil {
		return err
	}
	res := ucwa.New(relMessages, c.messagingHref(id)+"/messages")
	links := make([]ucwa.Link, len(ms))
	for i, m := range ms {
		links[i] = ucwa.Link{Rel: relMessage, Href: c.messageHref(id, m.ID)}
	}
	res.LinkArray(relMessage, links)
	return s.writeResource(w, c, http.StatusOK, res, "")
}

// typingTimer ends typing on time: one clock timer, for the earliest end
// this process knows of; when it fires, the store ends every typing that
// is over (whichever process started it) and the timer is set again for
// the next. The sweep does the same, for ends that no process of this
// store had a timer for (one that stopped).
type typingTimer struct {
	mu      sync.Mutex
	timer   clock.Timer
	when    time.Time
	stopped bool // the server shut down: no more timers
}

// stop cancels the timer for good.
func (t *typingTimer) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	if t.timer != nil {
		t.timer.Stop()
		t.timer = nil
	}
}

// at makes sure the timer fires by until.
func (t *typingTimer) at(s *Server, until time.Time) {
	if until.IsZero() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped || t.timer != nil && !t.when.After(until) {
		return
	}
	if t.timer != nil {
		t.timer.Stop()
	}
	t.when = until
	var timer clock.Timer
	timer = s.clock.AfterFunc(max(until.Sub(s.clock.Now()), 0), func() {
		t.mu.Lock()
		if t.timer == timer {
			t.timer = nil
		}
		t.mu.Unlock()
		if err := s.sweepTyping(context.Background()); err != nil {
			s.log.Error("typing expiry", "err", err)
		}
	})
	t.timer = timer
}

// sweepTyping ends the typing that is over and sets the timer for the
// next end.
func (s *Server) sweepTyping(ctx context.Context) error {
	next, err := s.store.messaging.ExpireTyping(ctx)
	if err != nil {
		return err
	}
	s.typing.at(s, next)
	return nil
}

// The events of messaging, rows of eventRenderers: the modality and its
// invitation for the participant's own application, typing and messages
// for the listeners (the message for its sender too), senders
// conversation and communication as the reference's samples show.

func (s *Server) messagingEventData(e ucwad.Event) (ucwad.MessagingEvent, bool) {
	var me ucwad.MessagingEvent
	if err := json.Unmarshal(e.Data, &me); err != nil {
		s.log.Error("messaging event data", "err", err, "kind", e.Subject.Kind, "key", e.Subject.Key)
		return me, false
	}
	return me, true
}

// renderMessagingEvent renders a messaging updated, embedding the
// modality as it was at commit.
func (s *Server) renderMessagingEvent(c *call, e ucwad.Event, out ucwa.EventEntry) (ucwa.EventSender, ucwa.EventEntry, bool) {
	conv := e.Subject.ConversationID()
	me, ok := s.messagingEventData(e)
	if !ok || me.Messaging == nil {
		return conversationSender(c, conv), out, false
	}
	out.Link = ucwa.Link{Rel: relMessaging, Href: c.messagingHref(conv)}
	// The participant as far as its own messaging shows it: admitted (the
	// events are sent only to admitted participants).
	self := &ucwad.Participant{ID: me.Messaging.ParticipantID, ConversationID: conv}
	out.Embedded = messagingResource(c, self, me.Messaging)
	return conversationSender(c, conv), out, true
}

// renderMessagingInvitationEvent renders addMessaging's progress: started
// (Connecting), completed (Connected, Success).
func (s *Server) renderMessagingInvitationEvent(c *call, e ucwad.Event, out ucwa.EventEntry) (ucwa.EventSender, ucwa.EventEntry, bool) {
	me, ok := s.messagingEventData(e)
	if !ok || me.Messaging == nil {
		return communicationSender(c), out, false
	}
	out.Link = ucwa.Link{Rel: relMessagingInvitation, Href: c.messagingInvitationHref(me.Messaging.InvitationID)}
	state := me.Messaging.State
	if e.Type == ucwad.EventCompleted {
		out.Status = "Success"
		state = ucwad.InvitationConnected
	}
	out.Embedded = messagingInvitationResource(c, me.Messaging, state)
	return communicationSender(c), out, true
}

// renderTypingEvent renders a participant entering or leaving the
// conversation's typingParticipants.
func (s *Server) renderTypingEvent(c *call, e ucwad.Event, out ucwa.EventEntry) (ucwa.EventSender, ucwa.EventEntry, bool) {
	conv := e.Subject.ConversationID()
	me, ok := s.messagingEventData(e)
	if !ok {
		return conversationSender(c, conv), out, false
	}
	out.Link = ucwa.Link{Rel: relParticipant, Href: c.participantHref(conv, e.Subject.ParticipantID()), Title: me.Name}
	out.In = &ucwa.Link{Rel: relTypingParticipants, Href: c.messagingHref(conv) + "/typingParticipants"}
	return conversationSender(c, conv), out, true
}

// renderMessageEvent renders a message completed with Success, embedding
// it for the receiving application (see messageResource).
func (s *Server) renderMessageEvent(c *call, e ucwad.Event, out ucwa.EventEntry) (ucwa.EventSender, ucwa.EventEntry, bool) {
	conv := e.Subject.ConversationID()
	me, ok := s.messagingEventData(e)
	if !ok || me.Message == nil {
		return conversationSender(c, conv), out, false
	}
	res := messageResource(c, me.Message)
	out.Link = ucwa.Link{Rel: relMessage, Href: res.Href}
	out.Status = "Success"
	out.Embedded = res
	return conversationSender(c, conv), out, true
}
