package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/ucwa"
)

// handleApplicationCreate registers an application (POST applications).
// Re-posting the same userAgent, endpointId and culture returns the existing
// application with 200, so clients that re-run their bootstrap do not pile
// up applications; an instanceId adds an event channel (multi-tab).
func (s *Server) handleApplicationCreate(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.createApplication(w, r, c, true)
}

// createApplication registers the caller's application; endpointId is
// required at applications, optional at anonApplications.
func (s *Server) createApplication(w http.ResponseWriter, r *http.Request, c *call, needEndpoint bool) error {
	in, err := s.readInput(w, r)
	if err != nil {
		return err
	}
	a := &ucwad.Application{UserID: c.user.ID, Type: ucwad.ApplicationTypeBrowser}
	fields := []struct {
		name     string
		dst      *string
		required bool
	}{
		{"userAgent", &a.UserAgent, true},
		{"endpointId", &a.EndpointID, needEndpoint},
		{"culture", &a.Culture, true},
		{"instanceId", &c.instanceID, false},
	}
	for _, f := range fields {
		v, _ := in.String(f.name)
		v = strings.TrimSpace(v)
		if v == "" && f.required {
			return ucwad.InvalidParameter(f.name, "%s is required.", f.name)
		}
		if len(v) > ucwad.MaxApplicationField {
			return ucwad.InvalidParameter(f.name, "%s must be at most %d characters.", f.name, ucwad.MaxApplicationField)
		}
		*f.dst = v
	}
	if t, ok := in.String("type"); ok && t != "" && !strings.EqualFold(t, ucwad.ApplicationTypeBrowser) {
		return ucwad.InvalidParameter("type", "type must be %s.", ucwad.ApplicationTypeBrowser)
	}
	app, created, err := s.store.apps.CreateApplication(r.Context(), a, c.instanceID)
	if err != nil {
		return err
	}
	c.app = app
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	res, err := s.applicationResource(r.Context(), c)
	if err != nil {
		return err
	}
	return s.writeTaggedResource(w, c, status, res)
}

func (s *Server) handleApplicationGet(w http.ResponseWriter, r *http.Request, c *call) error {
	answer := func(w http.ResponseWriter) error {
		res, err := s.applicationResource(r.Context(), c)
		if err != nil {
			return err
		}
		return s.writeTaggedResource(w, c, http.StatusOK, res)
	}
	if s.hub.deferredAck(chanKey{c.app.ID, c.instanceID}) > 0 {
		// Its events link names a batch the store does not know is
		// acknowledged yet: not an answer to keep.
		return answer(w)
	}
	return s.cachedAnswer(w, c, bodyApplication, c.app.ID, answer)
}

// handleApplicationDelete signs the application (or, for a multi-tab
// instance, that instance's channel) out.
func (s *Server) handleApplicationDelete(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.store.apps.DeleteApplication(r.Context(), c.user.ID, c.app.ID, c.instanceID); err != nil {
		if ucwad.ErrorCode(err) == ucwad.ENotFound {
			return appNotFound()
		}
		return err
	}
	writeNoContent(w)
	return nil
}

// instanceQuery is the query that addresses the call's multi-tab channel.
func (c *call) instanceQuery(sep string) string {
	if c.instanceID == "" {
		return ""
	}
	return sep + "instanceId=" + url.QueryEscape(c.instanceID)
}

// applicationResource is the application with its embedded dashboards.
// The online-meetings dashboard links the assigned meeting, so building it
// may create that meeting (on the user's first use).
func (s *Server) applicationResource(ctx context.Context, c *call) (*ucwa.Resource, error) {
	var assigned *ucwad.OnlineMeeting
	if !c.user.Anonymous() {
		var err error
		if assigned, err = s.assignedMeeting(ctx, c); err != nil {
			return nil, err
		}
	}
	a := c.app
	res := ucwa.New("application", c.appHref()+c.instanceQuery("?"))
	res.Set("culture", ucwa.String(a.Culture))
	res.Set("userAgent", ucwa.String(a.UserAgent))
	res.Set("type", ucwa.String(a.Type))
	res.Set("endpointId", ucwa.String(a.EndpointID))
	res.Set("id", ucwa.String(a.ID))
	if c.instanceID != "" {
		res.Set("instanceId", ucwa.String(c.instanceID))
	}
	res.Link("policies", c.appHref()+"/policies")
	res.Link("batch", c.appHref()+"/batch")
	res.Link("events", c.eventsPath(max(c.app.Channel.NextAck, s.hub.deferredAck(chanKey{c.app.ID, c.instanceID}), 1)))
	res.Embed("me", s.meResource(c))
	if c.user.Anonymous() {
		// A guest has neither contacts nor meetings of its own: it has
		// its meeting, through communication.
		res.Embed("communication", s.communicationResource(c))
		return res, nil
	}
	res.Embed("people", peopleResource(c))
	res.Embed("onlineMeetings", s.onlineMeetingsResource(c, assigned))
	res.Embed("communication", s.communicationResource(c))
	return res, nil
}

func (s *Server) handlePolicies(w http.ResponseWriter, r *http.Request, c *call) error {
	res := ucwa.New("policies", c.appHref()+"/policies")
	for _, p := range s.cfg.Policies {
		res.Set(p.Name, p.Value.Value())
	}
	return s.writeResource(w, c, http.StatusOK, res, "")
}

// meResource is the signed-in user. Only links whose targets work here are
// offered: makeMeAvailable until it succeeded, reportMyActivity after (a
// Front End offers neither presence nor activity to a lurker).
func (s *Server) meResource(c *call) *ucwa.Resource {
	if c.user.Anonymous() {
		return guestMe(c)
	}
	u := c.user
	res := ucwa.New("me", c.appHref()+"/me")
	res.Set("name", ucwa.String(u.DisplayName()))
	res.Set("uri", ucwa.String(u.URI()))
	res.Set("emailAddresses", ucwa.Strings([]string{u.SIP}))
	if !c.app.Available {
		res.Link("makeMeAvailable", c.appHref()+"/me/makeMeAvailable")
	} else {
		res.Link("reportMyActivity", c.appHref()+"/me/reportMyActivity")
	}
	return res
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.writeResource(w, c, http.StatusOK, s.meResource(c), "")
}

// handleMakeMeAvailable takes the application out of lurker mode. Its body
// (signInAs, supportedModalities, …) is optional; only its format is checked.
func (s *Server) handleMakeMeAvailable(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.readInput(w, r); err != nil {
		return err
	}
	if err := s.store.apps.MakeApplicationAvailable(r.Context(), c.user.ID, c.app.ID); err != nil {
		return err
	}
	writeNoContent(w)
	return nil
}

// handleReportMyActivity records that the user is active; the activity
// itself was recorded when the router loaded the application. Before
// makeMeAvailable there is no availability to keep up: 409
// MakeMeAvailableRequired, as the reference documents.
func (s *Server) handleReportMyActivity(w http.ResponseWriter, r *http.Request, c *call) error {
	if !c.app.Available {
		return &ucwad.Error{Code: ucwad.EConflict, Subcode: ucwad.SubMakeMeAvailableRequired, Message: "Call makeMeAvailable before reporting activity."}
	}
	if _, err := s.readInput(w, r); err != nil {
		return err
	}
	writeNoContent(w)
	return nil
}

// peopleResource is the people hub. Contact lists are not part of this
// server, so it offers no links beyond itself.
func peopleResource(c *call) *ucwa.Resource {
	return ucwa.New("people", c.appHref()+"/people")
}

func (s *Server) handlePeople(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.writeResource(w, c, http.StatusOK, peopleResource(c), "")
}

// communicationResource is the communication dashboard: the modalities this
// server supports in meetings.
func (s *Server) communicationResource(c *call) *ucwa.Resource {
	res := ucwa.New("communication", c.appHref()+"/communication")
	// No modality is served yet (instant messaging comes with joining
	// meetings), so none is claimed.
	res.Set("supportedModalities", ucwa.Strings([]string{}))
	res.Set("supportedMessageFormats", ucwa.Strings([]string{"Plain", "Html"}))
	communicationLinks(c, res)
	return res
}

func (s *Server) handleCommunication(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.writeResource(w, c, http.StatusOK, s.communicationResource(c), "")
}

// onlineMeetingsResource is the online-meetings dashboard: links only, to
// every meeting resource this server serves. assigned is the caller's
// assigned meeting, nil when the policy gives users none.
func (s *Server) onlineMeetingsResource(c *call, assigned *ucwad.OnlineMeeting) *ucwa.Resource {
	res := ucwa.New("onlineMeetings", c.meetingsHref())
	if assigned != nil {
		res.Link(ucwad.MeetingRelAssigned, c.meetingHref(assigned.ID))
	}
	res.Link(ucwad.MeetingRelScheduled, c.myMeetingsHref())
	res.Link("onlineMeetingDefaultValues", c.defaultValuesHref())
	res.Link("onlineMeetingEligibleValues", c.eligibleValuesHref())
	res.Link("onlineMeetingInvitationCustomization", c.customInvitationHref())
	res.Link("onlineMeetingPolicies", c.meetingPoliciesHref())
	res.Link("phoneDialInInformation", c.dialInHref())
	return res
}

func (s *Server) handleOnlineMeetings(w http.ResponseWriter, r *http.Request, c *call) error {
	assigned, err := s.assignedMeeting(r.Context(), c)
	if err != nil {
		return err
	}
	return s.writeResource(w, c, http.StatusOK, s.onlineMeetingsResource(c, assigned), "")
}
