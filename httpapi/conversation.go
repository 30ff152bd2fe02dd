package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/ucwa"
)

// Joining meetings: the entry points on communication, the invitation a
// client follows its join with, and the conversation with its roster,
// lobby and the leaders' controls (docs/meetings.md, "Joining").

// Hrefs of the joining resources, all under the application.

func (c *call) communicationHref() string { return c.appHref() + "/communication" }

func (c *call) invitationHref(id string) string {
	return c.communicationHref() + "/onlineMeetingInvitations/" + url.PathEscape(id)
}

func (c *call) conversationsHref() string { return c.communicationHref() + "/conversations" }

func (c *call) conversationHref(id string) string {
	return c.conversationsHref() + "/" + url.PathEscape(id)
}

func (c *call) participantHref(conversationID, id string) string {
	return c.conversationHref(conversationID) + "/participants/" + url.PathEscape(id)
}

// Resource names of joining.
const (
	relInvitation       = "onlineMeetingInvitation"
	relConversation     = "conversation"
	relConversations    = "conversations"
	relMeetingView      = "onlineMeeting"
	relLocalParticipant = "localParticipant"
	relParticipant      = "participant"
	relParticipants     = "participants"
)

// conversationRoutes are the URLs of joining, under the application app.
func (s *Server) conversationRoutes(app string) []*route {
	comm := app + "/communication"
	conv := comm + "/conversations/{conversation}"
	p := conv + "/participants/{participant}"
	return []*route{
		newRoute(comm+"/joinOnlineMeeting", inApp, false).on("POST", s.handleJoinMeeting),
		newRoute(comm+"/startOnlineMeeting", inApp, false).on("POST", s.handleStartMeeting),
		newRoute(comm+"/onlineMeetingInvitations/{invitation}", inApp, false).on("GET", s.handleInvitation),
		newRoute(comm+"/conversations", inApp, false).on("GET", s.handleConversations),
		newRoute(conv, inApp, false).on("GET", s.handleConversation).on("DELETE", s.handleLeave),
		newRoute(conv+"/onlineMeeting", inApp, false).on("GET", s.handleMeetingView),
		newRoute(conv+"/localParticipant", inApp, false).on("GET", s.handleLocalParticipant),
		newRoute(conv+"/participants", inApp, false).on("GET", s.rosterHandler(relParticipants, "")),
		newRoute(conv+"/leaders", inApp, false).on("GET", s.rosterHandler(ucwad.ViewLeaders, ucwad.ViewLeaders)),
		newRoute(conv+"/attendees", inApp, false).on("GET", s.rosterHandler(ucwad.ViewAttendees, ucwad.ViewAttendees)),
		newRoute(conv+"/lobby", inApp, false).on("GET", s.rosterHandler(ucwad.ViewLobby, ucwad.ViewLobby)),
		newRoute(p, inApp, false).on("GET", s.handleParticipant),
		newRoute(p+"/{action}", inApp, false).on("POST", s.handleParticipantAction),
	}
}

// communicationLinks are the links joining adds to communication.
func communicationLinks(c *call, res *ucwa.Resource) {
	res.Link(relConversations, c.conversationsHref())
	res.Link("joinOnlineMeeting", c.communicationHref()+"/joinOnlineMeeting")
	if !c.user.Anonymous() {
		// A guest joins its meeting and starts none.
		res.Link("startOnlineMeeting", c.communicationHref()+"/startOnlineMeeting")
	}
}

// writeCreated answers an operation that started: 201, no body, the
// operation's href in Location.
func writeCreated(w http.ResponseWriter, location string) {
	h := w.Header()
	noCache(h)
	h.Set("Location", location)
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
}

// joinRequest reads a joinOnlineMeeting or startOnlineMeeting: its members,
// onlineMeetingUri and operationId also as query parameters (the body
// wins). It returns the request and the meeting URI named, "" for none.
func (s *Server) joinRequest(in *ucwa.Input, r *http.Request, c *call) (*ucwad.JoinRequest, string, error) {
	req := &ucwad.JoinRequest{ApplicationID: c.app.ID,
		Joiner: ucwad.Joiner{UserID: c.user.ID, URI: c.user.URI(), Name: c.user.DisplayName()}}
	var uri string
	for _, f := range []struct {
		name  string
		dst   *string
		query bool
	}{
		{"onlineMeetingUri", &uri, true},
		{"operationId", &req.OperationID, true},
		{"importance", &req.Importance, false},
		{"subject", &req.Subject, false},
		{"threadId", &req.ThreadID, false},
	} {
		v, ok, err := stringMember(in, f.name)
		if err != nil {
			return nil, "", err
		}
		if !ok && f.query {
			v = queryValue(r, f.name)
		}
		*f.dst = strings.TrimSpace(v)
	}
	// Signed-in users are named by the directory; anonymousDisplayName is
	// for anonymous guests only, who must give it.
	if c.user.Anonymous() {
		name, _, err := stringMember(in, "anonymousDisplayName")
		if err != nil {
			return nil, "", err
		}
		req.AnonymousDisplayName = strings.TrimSpace(name)
		if req.AnonymousDisplayName == "" {
			return nil, "", ucwad.InvalidParameter("anonymousDisplayName", "anonymousDisplayName is required of anonymous meeting guests.")
		}
		req.Joiner = ucwad.Joiner{UserID: c.user.ID, URI: c.user.URI(), Name: req.AnonymousDisplayName, Anonymous: true}
	}
	req.OnlineMeetingURI = uri
	if err := req.Check(); err != nil {
		return nil, "", err
	}
	return req, uri, nil
}

// handleJoinMeeting joins the meeting onlineMeetingUri names, or starts an
// ad hoc one when it names none (or the task pages' "adhoc"), as the
// reference says.
func (s *Server) handleJoinMeeting(w http.ResponseWriter, r *http.Request, c *call) error {
	in, err := s.readInput(w, r)
	if err != nil {
		return err
	}
	req, uri, err := s.joinRequest(in, r, c)
	if err != nil {
		return err
	}
	if uri == "" || strings.EqualFold(uri, "adhoc") {
		if c.user.Anonymous() {
			return forbidGuest()
		}
		return s.startMeeting(w, r, c, req)
	}
	if err := req.SetMeeting(uri); err != nil {
		return err
	}
	if g := c.user.Guest; g != nil {
		// A guest's token opens its one meeting, named in any case.
		if ucwad.CanonicalMeetingID(req.MeetingID) != g.MeetingID {
			return ucwad.Errorf(ucwad.EForbidden, "", "This anonymous token was issued for another meeting.")
		}
		req.MeetingID = g.MeetingID
	}
	inv, err := s.store.conversations.JoinMeeting(r.Context(), req)
	if err != nil {
		return err
	}
	writeCreated(w, c.invitationHref(inv.ID))
	return nil
}

// handleStartMeeting creates an ad hoc meeting of the caller and joins it.
func (s *Server) handleStartMeeting(w http.ResponseWriter, r *http.Request, c *call) error {
	in, err := s.readInput(w, r)
	if err != nil {
		return err
	}
	req, _, err := s.joinRequest(in, r, c)
	if err != nil {
		return err
	}
	return s.startMeeting(w, r, c, req)
}

// startMeeting starts an ad hoc meeting with the default values, the
// request's subject and the default expiry.
func (s *Server) startMeeting(w http.ResponseWriter, r *http.Request, c *call, req *ucwad.JoinRequest) error {
	st := s.meetings.AdHocSettings(req.Subject, s.clock.Now())
	req.JoinBase = s.cfg.Meetings.JoinBase(c.base)
	inv, err := s.store.conversations.StartMeeting(r.Context(), req, st)
	if err != nil {
		return err
	}
	writeCreated(w, c.invitationHref(inv.ID))
	return nil
}

func (s *Server) handleInvitation(w http.ResponseWriter, r *http.Request, c *call) error {
	inv, err := s.store.conversations.FindInvitation(r.Context(), c.app.ID, c.params["invitation"])
	if err != nil {
		return err
	}
	return s.writeResource(w, c, http.StatusOK, invitationResource(c, inv), "")
}

// invitationResource is an onlineMeetingInvitation. Its onlineMeetingUri
// is the one the client joined with; an ad hoc meeting's is its focus URI.
func invitationResource(c *call, inv *ucwad.Invitation) *ucwa.Resource {
	res := ucwa.New(relInvitation, c.invitationHref(inv.ID))
	if inv.AnonymousDisplayName != "" {
		res.Set("anonymousDisplayName", ucwa.String(inv.AnonymousDisplayName))
	}
	// No modality is served in meetings yet.
	res.Set("availableModalities", ucwa.Strings([]string{}))
	res.Set("direction", ucwa.String("Outgoing"))
	res.Set("importance", ucwa.String(inv.Importance))
	uri := inv.OnlineMeetingURI
	if uri == "" || strings.EqualFold(uri, "adhoc") {
		// Only the organizer starts an ad hoc meeting.
		uri = (&ucwad.OnlineMeeting{ID: inv.MeetingID, Organizer: c.user.Person()}).URI()
	}
	res.Set("onlineMeetingUri", ucwa.String(uri))
	if inv.OperationID != "" {
		res.Set("operationId", ucwa.String(inv.OperationID))
	}
	res.Set("state", ucwa.String(inv.State))
	res.Set("subject", ucwa.String(inv.Subject))
	if inv.ThreadID != "" {
		res.Set("threadId", ucwa.String(inv.ThreadID))
	}
	if inv.ConversationID != "" && inv.State != ucwad.InvitationFailed {
		res.Link(relConversation, c.conversationHref(inv.ConversationID))
	}
	return res
}

// conversationResource is v as its participant's application sees it; its
// links follow the state (docs/meetings.md: none once disconnected, only
// the local participant in the lobby).
func conversationResource(c *call, v *ucwad.ConversationView) *ucwa.Resource {
	href := c.conversationHref(v.ID)
	res := ucwa.New(relConversation, href)
	res.Set("activeModalities", ucwa.Strings([]string{}))
	res.Set("created", ucwa.Date(v.CreatedAt))
	importance := ucwad.Importances[0]
	if v.Invitation != nil && v.Invitation.Importance != "" {
		importance = v.Invitation.Importance
	}
	res.Set("importance", ucwa.String(importance))
	res.Set("participantCount", ucwa.Int(int64(v.ParticipantCount)))
	res.Set("readLocally", ucwa.Bool(false))
	res.Set("recording", ucwa.Bool(false))
	res.Set("state", ucwa.String(v.State))
	res.Set("subject", ucwa.String(v.Subject()))
	res.Set("threadId", ucwa.String(v.Thread()))
	if v.State == ucwad.StateDisconnected {
		return res
	}
	if !v.Self.InLobby {
		res.Link(ucwad.ViewAttendees, href+"/"+ucwad.ViewAttendees)
		res.Link(ucwad.ViewLeaders, href+"/"+ucwad.ViewLeaders)
		if v.Self.Role == ucwad.RoleLeader {
			res.Link(ucwad.ViewLobby, href+"/"+ucwad.ViewLobby)
		}
	}
	res.Link(relLocalParticipant, href+"/localParticipant")
	if !v.Self.InLobby {
		res.Link(relMessaging, href+"/messaging")
		res.Link(relMeetingView, href+"/onlineMeeting")
		res.Link(relParticipants, href+"/participants")
	}
	return res
}

// participantResource is p as viewer sees it: as a participant (local
// true when it is viewer), or, with local set, as viewer's
// localParticipant. Capability links are the viewer's (ucwad.Capabilities).
func participantResource(c *call, viewer, p *ucwad.Participant, local bool) *ucwa.Resource {
	conv := c.conversationHref(p.ConversationID)
	href, rel := c.participantHref(p.ConversationID, p.ID), relParticipant
	if local {
		href, rel = conv+"/localParticipant", relLocalParticipant
	}
	res := ucwa.New(rel, href)
	res.Set("anonymous", ucwa.Bool(p.Anonymous))
	res.Set("inLobby", ucwa.Bool(p.InLobby))
	res.Set("local", ucwa.Bool(p.ID == viewer.ID))
	res.Set("name", ucwa.String(p.Name))
	res.Set("organizer", ucwa.Bool(p.Organizer))
	res.Set("role", ucwa.String(p.Role))
	network := "SameEnterprise"
	if p.Anonymous {
		network = "Unknown"
	}
	res.Set("sourceNetwork", ucwa.String(network))
	res.Set("uri", ucwa.String(p.URI))
	for _, a := range ucwad.Capabilities(viewer, p) {
		res.Link(string(a), c.participantHref(p.ConversationID, p.ID)+"/"+string(a))
	}
	res.Link(relConversation, conv)
	if p.ID == viewer.ID {
		res.Link("me", c.appHref()+"/me")
	}
	return res
}

// meetingViewResource is the read-only onlineMeeting of a conversation,
// built from the meeting and its organizer whoever asks: what
// myOnlineMeeting shows (without etag and PUT sentinel) and what the
// conversation's view adds.
func (s *Server) meetingViewResource(c *call, conversationID string, m *ucwad.OnlineMeeting) *ucwa.Resource {
	href := c.conversationHref(conversationID)
	uri := m.URI()
	join := s.cfg.Meetings.JoinURL(m)
	rel := m.Rel
	if rel == ucwad.MeetingRelAdHoc {
		rel = ucwad.MeetingRelScheduled
	}
	res := ucwa.New(relMeetingView, href+"/onlineMeeting")
	res.Set("accessLevel", ucwa.String(m.AccessLevel))
	res.Set("attendees", ucwa.Strings(m.Attendees))
	res.Set("automaticLeaderAssignment", ucwa.String(m.AutomaticLeaderAssignment))
	res.Set("conferenceId", ucwa.String(m.ConferenceID))
	res.Set("description", ucwa.String(m.Description))
	res.Set("disclaimerBody", ucwa.String(""))
	res.Set("disclaimerTitle", ucwa.String(""))
	res.Set("entryExitAnnouncement", ucwa.String(m.EntryExitAnnouncement))
	res.Set("expirationTime", ucwa.Date(m.ExpirationTime))
	// The reference's example shows the join URL's site, which is where
	// the meeting is hosted.
	hosting := ""
	if u, err := url.Parse(join); err == nil {
		hosting = u.Scheme + "://" + u.Host
	}
	res.Set("hostingNetwork", ucwa.String(hosting))
	res.Set("joinUrl", ucwa.String(join))
	res.Set("largeMeeting", ucwa.String("Disabled"))
	res.Set("leaders", ucwa.Strings(m.Leaders))
	res.Set("legacyOnlineMeetingUri", ucwa.String("conf:"+uri+"?conversation-id="+sentinelName("conversation", m.ID)))
	res.Set("lobbyBypassForPhoneUsers", ucwa.String(m.LobbyBypassForPhoneUsers))
	res.Set("onlineMeetingId", ucwa.String(m.ID))
	res.Set("onlineMeetingRel", ucwa.String(rel))
	res.Set("onlineMeetingUri", ucwa.String(uri))
	res.Set("organizerName", ucwa.String(m.Organizer.DisplayName()))
	res.Set("organizerUri", ucwa.String(m.Organizer.URI()))
	res.Set("phoneUserAdmission", ucwa.String(m.PhoneUserAdmission))
	res.Set("subject", ucwa.String(m.Subject))
	res.Link(relConversation, href)
	res.Link("phoneDialInInformation", c.dialInHref())
	return res
}

func (s *Server) handleConversations(w http.ResponseWriter, r *http.Request, c *call) error {
	views, err := s.store.conversations.ListConversations(r.Context(), c.app.ID)
	if err != nil {
		return err
	}
	res := ucwa.New(relConversations, c.conversationsHref())
	list := make([]*ucwa.Resource, len(views))
	for i, v := range views {
		list[i] = conversationResource(c, v)
	}
	res.EmbedArray(relConversation, list)
	return s.writeResource(w, c, http.StatusOK, res, "")
}

func (s *Server) handleConversation(w http.ResponseWriter, r *http.Request, c *call) error {
	v, err := s.store.conversations.FindConversation(r.Context(), c.app.ID, c.params["conversation"])
	if err != nil {
		return err
	}
	return s.writeResource(w, c, http.StatusOK, conversationResource(c, v), "")
}

// handleLeave leaves the conversation (DELETE on it: UCWA documents no
// other leave link).
func (s *Server) handleLeave(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.store.conversations.LeaveConversation(r.Context(), c.app.ID, c.params["conversation"]); err != nil {
		return err
	}
	writeNoContent(w)
	return nil
}

// handleMeetingView shows the conversation's meeting to an admitted
// participant. Someone waiting in the lobby does not see it: it lists who
// is invited.
func (s *Server) handleMeetingView(w http.ResponseWriter, r *http.Request, c *call) error {
	id := c.params["conversation"]
	v, err := s.store.conversations.FindConversation(r.Context(), c.app.ID, id)
	if err != nil {
		return err
	}
	if v.Self.InLobby {
		return ucwad.Errorf(ucwad.EForbidden, "", "The meeting is shown once a leader admitted you from the lobby.")
	}
	m, err := s.store.conversations.ConversationMeeting(r.Context(), c.app.ID, id)
	if err != nil {
		return err
	}
	return s.writeResource(w, c, http.StatusOK, s.meetingViewResource(c, id, m), "")
}

func (s *Server) handleLocalParticipant(w http.ResponseWriter, r *http.Request, c *call) error {
	v, err := s.store.conversations.FindConversation(r.Context(), c.app.ID, c.params["conversation"])
	if err != nil {
		return err
	}
	return s.writeResource(w, c, http.StatusOK, participantResource(c, v.Self, v.Self, true), "")
}

// rosterHandler serves a list of participants (participants, leaders,
// attendees, lobby) named rel, with those of view ("" for every one) that
// the caller sees, embedded in arrival order.
func (s *Server) rosterHandler(rel, view string) handler {
	return func(w http.ResponseWriter, r *http.Request, c *call) error {
		id := c.params["conversation"]
		v, ps, err := s.store.conversations.Roster(r.Context(), c.app.ID, id)
		if err != nil {
			return err
		}
		list := []*ucwa.Resource{}
		for _, p := range ps {
			if view == "" || p.View() == view {
				list = append(list, participantResource(c, v.Self, p, false))
			}
		}
		res := ucwa.New(rel, c.conversationHref(id)+"/"+rel)
		res.EmbedArray(relParticipant, list)
		return s.writeResource(w, c, http.StatusOK, res, "")
	}
}

func (s *Server) handleParticipant(w http.ResponseWriter, r *http.Request, c *call) error {
	v, ps, err := s.store.conversations.Roster(r.Context(), c.app.ID, c.params["conversation"])
	if err != nil {
		return err
	}
	for _, p := range ps {
		if p.ID == c.params["participant"] {
			return s.writeResource(w, c, http.StatusOK, participantResource(c, v.Self, p, false), "")
		}
	}
	return ucwad.Errorf(ucwad.ENotFound, ucwad.SubResourceNotFound, "There is no such participant in this conversation.")
}

// handleParticipantAction runs admit, reject, promote, demote or eject.
// The body, which the reference leaves empty, is read within the limits
// and otherwise ignored.
func (s *Server) handleParticipantAction(w http.ResponseWriter, r *http.Request, c *call) error {
	a := ucwad.Action(c.params["action"])
	known := false
	for _, k := range ucwad.Actions {
		known = known || k == a
	}
	if !known {
		return &ucwad.Error{Code: ucwad.ENotFound, Subcode: ucwad.SubResourceNotFound, Message: "There is no resource at this address."}
	}
	if _, err := s.readInput(w, r); err != nil {
		return err
	}
	if err := s.store.conversations.ChangeParticipant(r.Context(), c.app.ID, c.params["conversation"], c.params["participant"], a); err != nil {
		return err
	}
	writeNoContent(w)
	return nil
}

// reasonMessages explain to a user why a join failed or a conversation
// ended.
var reasonMessages = map[string]string{
	ucwad.SubTooManyParticipants:      "The meeting is full.",
	ucwad.SubTooManyLobbyParticipants: "The meeting's lobby is full.",
	ucwad.SubDenied:                   "A leader of the meeting denied you entry.",
	ucwad.SubEjected:                  "A leader removed you from the meeting.",
	ucwad.SubTimeout:                  "Nobody admitted you from the lobby in time.",
	ucwad.SubEnded:                    "The meeting ended.",
	ucwad.SubCanceled:                 "You left the lobby.",
}

func failure(subcode string) *ucwa.Reason {
	return &ucwa.Reason{Code: ucwad.ReasonCode(subcode), Subcode: subcode, Message: reasonMessages[subcode]}
}

// The events of joining are rendered for the receiving application (one
// the event was appended for), with senders communication (the
// invitation, the conversation) and conversation (everything in it), the
// resources embedded from the snapshot taken at commit. Each kind is a row
// of eventRenderers.

// conversationEventData decodes an event's ConversationEvent; false (and
// a log entry) when it does not decode, and the event is dropped.
func (s *Server) conversationEventData(e ucwad.Event) (ucwad.ConversationEvent, bool) {
	var ce ucwad.ConversationEvent
	if err := json.Unmarshal(e.Data, &ce); err != nil {
		s.log.Error("conversation event data", "err", err, "kind", e.Subject.Kind, "key", e.Subject.Key)
		return ce, false
	}
	return ce, true
}

func communicationSender(c *call) ucwa.EventSender {
	return ucwa.EventSender{Rel: "communication", Href: c.communicationHref()}
}

func conversationSender(c *call, conversationID string) ucwa.EventSender {
	return ucwa.EventSender{Rel: relConversation, Href: c.conversationHref(conversationID)}
}

// renderInvitationEvent renders the progress of a join: started, updated,
// completed with Success or Failure and its reason.
func (s *Server) renderInvitationEvent(c *call, e ucwad.Event, out ucwa.EventEntry) (ucwa.EventSender, ucwa.EventEntry, bool) {
	ce, ok := s.conversationEventData(e)
	if !ok || ce.Invitation == nil {
		return communicationSender(c), out, false
	}
	out.Link = ucwa.Link{Rel: relInvitation, Href: c.invitationHref(ce.Invitation.ID)}
	out.Embedded = invitationResource(c, ce.Invitation)
	if e.Type == ucwad.EventCompleted {
		out.Status = "Success"
		if ce.Invitation.State == ucwad.InvitationFailed {
			out.Status, out.Reason = "Failure", failure(ce.Invitation.Reason)
		}
	}
	return communicationSender(c), out, true
}

// renderConversationEvent renders a conversation's own events, embedding
// the receiver's view when it has one.
func (s *Server) renderConversationEvent(c *call, e ucwad.Event, out ucwa.EventEntry) (ucwa.EventSender, ucwa.EventEntry, bool) {
	ce, ok := s.conversationEventData(e)
	if !ok {
		return communicationSender(c), out, false
	}
	out.Link = ucwa.Link{Rel: relConversation, Href: c.conversationHref(e.Subject.ConversationID())}
	if ce.View != nil {
		out.Embedded = conversationResource(c, ce.View)
	}
	if ce.Reason != "" {
		out.Reason = failure(ce.Reason)
	}
	return communicationSender(c), out, true
}

// renderMeetingViewEvent renders the conversation's onlineMeeting view
// appearing.
func (s *Server) renderMeetingViewEvent(c *call, e ucwad.Event, out ucwa.EventEntry) (ucwa.EventSender, ucwa.EventEntry, bool) {
	conv := e.Subject.ConversationID()
	convHref := c.conversationHref(conv)
	out.Link = ucwa.Link{Rel: relMeetingView, Href: convHref + "/onlineMeeting"}
	out.In = &ucwa.Link{Rel: relConversation, Href: convHref}
	return conversationSender(c, conv), out, true
}

// renderLocalParticipantEvent renders the receiver's own participant,
// embedding it when the event has the receiver's view.
func (s *Server) renderLocalParticipantEvent(c *call, e ucwad.Event, out ucwa.EventEntry) (ucwa.EventSender, ucwa.EventEntry, bool) {
	conv := e.Subject.ConversationID()
	ce, ok := s.conversationEventData(e)
	if !ok {
		return conversationSender(c, conv), out, false
	}
	out.Link = ucwa.Link{Rel: relLocalParticipant, Href: c.conversationHref(conv) + "/localParticipant", Title: ce.Name}
	if ce.View != nil {
		out.Embedded = participantResource(c, ce.View.Self, ce.View.Self, true)
	}
	return conversationSender(c, conv), out, true
}

// renderParticipantEvent renders a participant of the roster, or of one of
// its views (in).
func (s *Server) renderParticipantEvent(c *call, e ucwad.Event, out ucwa.EventEntry) (ucwa.EventSender, ucwa.EventEntry, bool) {
	conv := e.Subject.ConversationID()
	ce, ok := s.conversationEventData(e)
	if !ok {
		return conversationSender(c, conv), out, false
	}
	out.Link = ucwa.Link{Rel: relParticipant, Href: c.participantHref(conv, e.Subject.ParticipantID()), Title: ce.Name}
	if ce.In != "" {
		out.In = &ucwa.Link{Rel: ce.In, Href: c.conversationHref(conv) + "/" + ce.In}
	}
	return conversationSender(c, conv), out, true
}

// sweepConversations ends lobby waits that are over and removes the
// participants of applications that are gone.
func (s *Server) sweepConversations(ctx context.Context) error {
	n, err := s.store.conversations.SweepConversations(ctx)
	if n > 0 {
		s.log.Info("removed participants", "count", n)
	}
	return err
}
