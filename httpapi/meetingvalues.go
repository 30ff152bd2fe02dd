package httpapi

import (
	"net/http"
	"net/url"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/ucwa"
)

// The settings resources of the online meetings dashboard. Their values
// come from Config.Meetings; hrefs follow the task pages' spelling.

func (c *call) defaultValuesHref() string   { return c.meetingsHref() + "/defaultValues" }
func (c *call) eligibleValuesHref() string  { return c.meetingsHref() + "/eligibleValues" }
func (c *call) meetingPoliciesHref() string { return c.meetingsHref() + "/policies" }
func (c *call) customInvitationHref() string {
	return c.meetingsHref() + "/customInvitation"
}
func (c *call) dialInHref() string { return c.meetingsHref() + "/phoneDialInInformation" }

func (s *Server) handleMeetingDefaults(w http.ResponseWriter, r *http.Request, c *call) error {
	d := s.cfg.Meetings.Defaults
	res := ucwa.New("onlineMeetingDefaultValues", c.defaultValuesHref())
	res.Set("accessLevel", ucwa.String(d.AccessLevel))
	res.Set("automaticLeaderAssignment", ucwa.String(d.AutomaticLeaderAssignment))
	res.Set("defaultOnlineMeetingRel", ucwa.String(d.DefaultOnlineMeetingRel))
	res.Set("entryExitAnnouncement", ucwa.String(d.EntryExitAnnouncement))
	res.Set("lobbyBypassForPhoneUsers", ucwa.String(d.LobbyBypassForPhoneUsers))
	res.Set("participantsWarningThreshold", ucwa.Int(int64(d.ParticipantsWarningThreshold)))
	return s.writeResource(w, c, http.StatusOK, res, "")
}

func (s *Server) handleMeetingEligible(w http.ResponseWriter, r *http.Request, c *call) error {
	assigned, err := s.assignedMeeting(r.Context(), c)
	if err != nil {
		return err
	}
	cfg := &s.cfg.Meetings
	res := ucwa.New("onlineMeetingEligibleValues", c.eligibleValuesHref())
	res.Set("accessLevels", ucwa.Strings(cfg.Eligible.AccessLevels))
	res.Set("automaticLeaderAssignments", ucwa.Strings(cfg.Eligible.AutomaticLeaderAssignments))
	res.Set("eligibleOnlineMeetingRels", ucwa.Strings(cfg.EligibleRels()))
	res.Set("entryExitAnnouncements", ucwa.Strings(cfg.Eligible.EntryExitAnnouncements))
	res.Set("lobbyBypassForPhoneUsersSettings", ucwa.Strings(cfg.Eligible.LobbyBypassForPhoneUsersSettings))
	if assigned != nil {
		res.Link(ucwad.MeetingRelAssigned, c.meetingHref(assigned.ID))
	}
	res.Link(ucwad.MeetingRelScheduled, c.myMeetingsHref())
	return s.writeResource(w, c, http.StatusOK, res, "")
}

func (s *Server) handleMeetingPolicies(w http.ResponseWriter, r *http.Request, c *call) error {
	p := s.cfg.Meetings.Policies
	res := ucwa.New("onlineMeetingPolicies", c.meetingPoliciesHref())
	res.Set("entryExitAnnouncement", ucwa.String(p.EntryExitAnnouncement))
	res.Set("externalUserMeetingRecording", ucwa.String(p.ExternalUserMeetingRecording))
	res.Set("meetingRecording", ucwa.String(p.MeetingRecording))
	res.Set("meetingSize", ucwa.Int(int64(p.MeetingSize)))
	res.Set("phoneUserAdmission", ucwa.String(p.PhoneUserAdmission))
	res.Set("voipAudio", ucwa.String(p.VoipAudio))
	return s.writeResource(w, c, http.StatusOK, res, "")
}

func (s *Server) handleCustomInvitation(w http.ResponseWriter, r *http.Request, c *call) error {
	inv := s.cfg.Meetings.Invitation
	res := ucwa.New("onlineMeetingInvitationCustomization", c.customInvitationHref())
	res.Set("enterpriseHelpUrl", ucwa.String(inv.EnterpriseHelpURL))
	res.Set("invitationFooterText", ucwa.String(inv.InvitationFooterText))
	res.Set("invitationHelpUrl", ucwa.String(inv.InvitationHelpURL))
	res.Set("invitationLegalUrl", ucwa.String(inv.InvitationLegalURL))
	res.Set("invitationLogoUrl", ucwa.String(inv.InvitationLogoURL))
	return s.writeResource(w, c, http.StatusOK, res, "")
}

func (c *call) dialInRegionHref(name string) string {
	return c.dialInHref() + "/" + url.PathEscape(name)
}

func dialInRegionResource(c *call, r *ucwad.DialInRegion) *ucwa.Resource {
	res := ucwa.New("dialInRegion", c.dialInRegionHref(r.Name))
	res.Set("languages", ucwa.Strings(r.Languages))
	res.Set("name", ucwa.String(r.Name))
	res.Set("number", ucwa.String(r.Number))
	return res
}

// handleDialIn reports the dial-in information with the regions embedded;
// its conferenceId is the caller's assigned meeting's (empty without one).
func (s *Server) handleDialIn(w http.ResponseWriter, r *http.Request, c *call) error {
	assigned, err := s.assignedMeeting(r.Context(), c)
	if err != nil {
		return err
	}
	conferenceID := ""
	if assigned != nil {
		conferenceID = assigned.ConferenceID
	}
	d := &s.cfg.Meetings.DialIn
	res := ucwa.New("phoneDialInInformation", c.dialInHref())
	res.Set("conferenceId", ucwa.String(conferenceID))
	res.Set("defaultRegion", ucwa.String(d.DefaultRegion))
	res.Set("externalDirectoryUri", ucwa.String(d.ExternalDirectoryURI))
	res.Set("internalDirectoryUri", ucwa.String(d.InternalDirectoryURI))
	res.Set("isAudioConferenceProviderEnabled", ucwa.Bool(d.IsAudioConferenceProviderEnabled))
	res.Set("participantPassCode", ucwa.String(d.ParticipantPassCode))
	res.Set("tollFreeNumbers", ucwa.Strings(d.TollFreeNumbers))
	res.Set("tollNumber", ucwa.String(d.TollNumber))
	regions := make([]*ucwa.Resource, len(d.Regions))
	for i := range d.Regions {
		regions[i] = dialInRegionResource(c, &d.Regions[i])
	}
	res.EmbedArray("dialInRegion", regions)
	return s.writeResource(w, c, http.StatusOK, res, "")
}

func (s *Server) handleDialInRegion(w http.ResponseWriter, r *http.Request, c *call) error {
	for i := range s.cfg.Meetings.DialIn.Regions {
		if reg := &s.cfg.Meetings.DialIn.Regions[i]; reg.Name == c.params["region"] {
			return s.writeResource(w, c, http.StatusOK, dialInRegionResource(c, reg), "")
		}
	}
	return ucwad.Errorf(ucwad.ENotFound, ucwad.SubResourceNotFound, "There is no such dial-in region.")
}
