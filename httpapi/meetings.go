package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strings"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/ucwa"
)

// Hrefs of the online meeting resources, all under the application.

func (c *call) meetingsHref() string   { return c.appHref() + "/onlineMeetings" }
func (c *call) myMeetingsHref() string { return c.meetingsHref() + "/myOnlineMeetings" }

func (c *call) meetingHref(id string) string {
	return c.myMeetingsHref() + "/" + url.PathEscape(id)
}

func (c *call) extensionsHref(meetingID string) string {
	return c.meetingHref(meetingID) + "/onlineMeetingExtensions"
}

// extensionHref escapes the application-chosen id so that every extension
// has an href of its own that the router maps back to exactly that id.
func (c *call) extensionHref(meetingID, id string) string {
	return c.extensionsHref(meetingID) + "/" + url.PathEscape(id)
}

// Resource names of the meeting resources.
const (
	relMyOnlineMeeting = "myOnlineMeeting"
	relExtensions      = "onlineMeetingExtensions"
	relExtension       = "onlineMeetingExtension"
)

// meetingRel is the resource name of m: myOnlineMeeting or
// myAssignedOnlineMeeting.
func meetingRel(m *ucwad.OnlineMeeting) string {
	if m.Rel == ucwad.MeetingRelAssigned {
		return ucwad.MeetingRelAssigned
	}
	return relMyOnlineMeeting
}

// sentinelName is the name of the PUT sentinel property of a resource: a
// GUID-shaped name derived from the resource's identity, so that it is the
// same on every GET and a GET→PUT round trip never turns it into data.
func sentinelName(identity ...string) string {
	h := sha256.Sum256([]byte(strings.Join(identity, "\x00")))
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

func meetingSentinel(id string) string { return sentinelName("myOnlineMeeting", id) }

func extensionSentinel(meetingID, id string) string {
	return sentinelName("onlineMeetingExtension", meetingID, id)
}

// meetingResource is a meeting as GET shows it but without its extensions,
// which every caller embeds after it: whole as the meeting's own answer
// (writeMeeting), as identities in lists and events (meetingSummary). Its
// properties come from the meeting alone (its coordinates and organizerUri
// from the organizer the store read with it), so that it reads the same
// whoever asks; the caller gives only the hrefs, which lead into their own
// application.
func (s *Server) meetingResource(c *call, m *ucwad.OnlineMeeting) *ucwa.Resource {
	uri := m.URI()
	res := ucwa.New(meetingRel(m), c.meetingHref(m.ID))
	res.Set("accessLevel", ucwa.String(m.AccessLevel))
	res.Set("attendees", ucwa.Strings(m.Attendees))
	res.Set("automaticLeaderAssignment", ucwa.String(m.AutomaticLeaderAssignment))
	res.Set("conferenceId", ucwa.String(m.ConferenceID))
	res.Set("description", ucwa.String(m.Description))
	res.Set("entryExitAnnouncement", ucwa.String(m.EntryExitAnnouncement))
	res.Set("expirationTime", ucwa.Date(m.ExpirationTime))
	res.Set("joinUrl", ucwa.String(s.cfg.Meetings.JoinURL(m)))
	res.Set("leaders", ucwa.Strings(m.Leaders))
	res.Set("legacyOnlineMeetingUri", ucwa.String("conf:"+uri+"?conversation-id="+sentinelName("conversation", m.ID)))
	res.Set("lobbyBypassForPhoneUsers", ucwa.String(m.LobbyBypassForPhoneUsers))
	res.Set("onlineMeetingId", ucwa.String(m.ID))
	res.Set("onlineMeetingRel", ucwa.String(m.Rel))
	res.Set("onlineMeetingUri", ucwa.String(uri))
	res.Set("organizerUri", ucwa.String(m.Organizer.URI()))
	res.Set("phoneUserAdmission", ucwa.String(m.PhoneUserAdmission))
	res.Set("subject", ucwa.String(m.Subject))
	res.Set(meetingSentinel(m.ID), ucwa.String(ucwa.PutSentinel))
	res.Set("etag", ucwa.String(m.ETag))
	res.Link(relExtensions, c.extensionsHref(m.ID))
	return res
}

// meetingSummary is the meeting as lists (myOnlineMeetings) and events
// embed it: its extensions reduced to their identity and links (rel, id,
// type, etag, self), without their own properties, so that a list or an
// event costs what the meetings cost whatever their extensions hold.
func (s *Server) meetingSummary(c *call, m *ucwad.OnlineMeeting) *ucwa.Resource {
	res := s.meetingResource(c, m)
	ids := make([]*ucwa.Resource, len(m.Extensions))
	for i, x := range m.Extensions {
		ids[i] = extensionIdentity(c, x)
	}
	res.EmbedArray(relExtension, ids)
	return res
}

// writeMeeting answers with m as its GET shows it: its extensions embedded
// whole, each read from the store and written as it comes.
func (s *Server) writeMeeting(w http.ResponseWriter, r *http.Request, c *call, status int, m *ucwad.OnlineMeeting) error {
	return s.writeStream(w, r, c, status, s.meetingResource(c, m), m.ETag, relExtension, s.extensionItems(r.Context(), c, m.ID))
}

// extensionItems are the meeting's extensions, whole, as the store yields
// them.
func (s *Server) extensionItems(ctx context.Context, c *call, meetingID string) iter.Seq2[*ucwa.Resource, error] {
	return resources(s.store.meetings.ListExtensions(ctx, c.user.ID, meetingID), func(x *ucwad.Extension) *ucwa.Resource {
		return extensionResource(c, x)
	})
}

// resources renders each element of seq with render, passing errors on.
func resources[T any](seq iter.Seq2[T, error], render func(T) *ucwa.Resource) iter.Seq2[*ucwa.Resource, error] {
	return func(yield func(*ucwa.Resource, error) bool) {
		for v, err := range seq {
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(render(v), nil) {
				return
			}
		}
	}
}

// extensionResource is an extension: id, type, its own properties, the PUT
// sentinel and etag.
func extensionResource(c *call, x *ucwad.Extension) *ucwa.Resource {
	res := ucwa.New(relExtension, c.extensionHref(x.MeetingID, x.ID))
	res.Set("id", ucwa.String(x.ID))
	res.Set("type", ucwa.String(x.Type))
	sentinel := extensionSentinel(x.MeetingID, x.ID)
	for _, p := range x.Properties {
		if !housekeeping(p.Name, sentinel) {
			res.Set(p.Name, ucwa.String(p.Value))
		}
	}
	res.Set(sentinel, ucwa.String(ucwa.PutSentinel))
	res.Set("etag", ucwa.String(x.ETag))
	return res
}

// extensionIdentity is an extension as a meeting in a list or an event
// embeds it: rel, id, type, etag and self. It carries no PUT sentinel: a
// client that PUTs it back would wipe the properties it never saw, so such
// a PUT is refused for the missing sentinel instead.
func extensionIdentity(c *call, x *ucwad.Extension) *ucwa.Resource {
	res := ucwa.New(relExtension, c.extensionHref(x.MeetingID, x.ID))
	res.Set("id", ucwa.String(x.ID))
	res.Set("type", ucwa.String(x.Type))
	res.Set("etag", ucwa.String(x.ETag))
	return res
}

// assignedMeeting returns the caller's assigned meeting, creating it with
// the default values on first use; nil when the policy gives users none.
func (s *Server) assignedMeeting(ctx context.Context, c *call) (*ucwad.OnlineMeeting, error) {
	if !s.cfg.Meetings.AssignedEnabled() {
		return nil, nil
	}
	return s.store.meetings.AssignedMeeting(ctx, c.user.ID, s.meetings.AssignedSettings(s.clock.Now()), s.cfg.Meetings.JoinBase(c.base))
}

// handleMyMeetings lists the caller's meetings, embedded as the
// documentation's example shows, each with its extensions' identities
// (meetingSummary); both arrays are always present, empty or not. The
// scheduled meetings are read and written a page at a time, so the list's
// length costs no memory.
func (s *Server) handleMyMeetings(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.assignedMeeting(r.Context(), c); err != nil {
		return err
	}
	summary := func(m *ucwad.OnlineMeeting) *ucwa.Resource { return s.meetingSummary(c, m) }
	assigned := []*ucwa.Resource{}
	for m, err := range resources(s.store.meetings.ListMeetings(r.Context(), c.user.ID, ucwad.MeetingRelAssigned), summary) {
		if err != nil {
			return err
		}
		assigned = append(assigned, m)
	}
	res := ucwa.New(ucwad.MeetingRelScheduled, c.myMeetingsHref())
	res.EmbedArray(ucwad.MeetingRelAssigned, assigned)
	return s.writeStream(w, r, c, http.StatusOK, res, "", relMyOnlineMeeting,
		resources(s.store.meetings.ListMeetings(r.Context(), c.user.ID, ucwad.MeetingRelScheduled), summary))
}

// handleMeetingCreate schedules a meeting: 201 with the meeting and its
// ETag, as the reference shows (clients accept 200 and 201 alike).
func (s *Server) handleMeetingCreate(w http.ResponseWriter, r *http.Request, c *call) error {
	in, err := s.readInput(w, r)
	if err != nil {
		return err
	}
	d, err := decodeMeeting(in)
	if err != nil {
		return err
	}
	st, err := s.meetings.NewMeetingSettings(d, s.clock.Now())
	if err != nil {
		return err
	}
	// The link is fixed now, from the address this request reached the
	// server at (or the configured base), and stored with the meeting.
	m := &ucwad.OnlineMeeting{UserID: c.user.ID, MeetingSettings: st, JoinBase: s.cfg.Meetings.JoinBase(c.base)}
	if err := s.store.meetings.CreateMeeting(r.Context(), m); err != nil {
		return err
	}
	// A new meeting has no extensions.
	res := s.meetingResource(c, m)
	res.EmbedArray(relExtension, nil)
	return s.writeResource(w, c, http.StatusCreated, res, m.ETag)
}

func (s *Server) handleMeetingGet(w http.ResponseWriter, r *http.Request, c *call) error {
	id := c.params["meeting"]
	return s.cachedAnswer(w, c, bodyMeeting, id, func(w http.ResponseWriter) error {
		m, err := s.store.meetings.FindMeeting(r.Context(), c.user.ID, id)
		if err != nil {
			return err
		}
		return s.writeMeeting(w, r, c, http.StatusOK, m)
	})
}

// handleMeetingUpdate replaces the meeting's settings (PUT). The meeting is
// looked up first so that someone else's meeting is 404 whatever the
// request holds; then If-Match (428), the sentinel and the values (400),
// and the update itself, which fails with 412 if the ETag moved on since.
func (s *Server) handleMeetingUpdate(w http.ResponseWriter, r *http.Request, c *call) error {
	in, err := s.readInput(w, r)
	if err != nil {
		return err
	}
	id := c.params["meeting"]
	if _, err := s.store.meetings.FindMeeting(r.Context(), c.user.ID, id); err != nil {
		return err
	}
	tags, err := ifMatch(r)
	if err != nil {
		return err
	}
	if err := requireSentinel(in, meetingSentinel(id)); err != nil {
		return err
	}
	d, err := decodeMeeting(in)
	if err != nil {
		return err
	}
	st, err := s.meetings.ReplacedMeetingSettings(d, s.clock.Now())
	if err != nil {
		return err
	}
	var m *ucwad.OnlineMeeting
	err = eachTag(tags, func(tag string) (err error) {
		m, err = s.store.meetings.UpdateMeeting(r.Context(), c.user.ID, id, st, tag)
		return err
	})
	if err != nil {
		return err
	}
	return s.writeMeeting(w, r, c, http.StatusOK, m)
}

// handleMeetingDelete deletes a scheduled meeting with its extensions, or
// resets the assigned one (see ucwad.MeetingStore.DeleteMeeting).
func (s *Server) handleMeetingDelete(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.store.meetings.DeleteMeeting(r.Context(), c.user.ID, c.params["meeting"], s.meetings.AssignedSettings(s.clock.Now())); err != nil {
		return err
	}
	writeNoContent(w)
	return nil
}

// handleExtensions lists a meeting's extensions, whole, read and written a
// page at a time; an empty array when there are none.
func (s *Server) handleExtensions(w http.ResponseWriter, r *http.Request, c *call) error {
	id := c.params["meeting"]
	return s.cachedAnswer(w, c, bodyExtensions, id, func(w http.ResponseWriter) error {
		m, err := s.store.meetings.FindMeeting(r.Context(), c.user.ID, id)
		if err != nil {
			return err
		}
		res := ucwa.New(relExtensions, c.extensionsHref(m.ID))
		return s.writeStream(w, r, c, http.StatusOK, res, "", relExtension, s.extensionItems(r.Context(), c, m.ID))
	})
}

// handleExtensionCreate adds an extension: 201, ETag and the extension, as
// on the reference page.
func (s *Server) handleExtensionCreate(w http.ResponseWriter, r *http.Request, c *call) error {
	in, err := s.readInput(w, r)
	if err != nil {
		return err
	}
	d, err := decodeExtension(in, "")
	if err != nil {
		return err
	}
	x, err := s.meetings.NewExtension(c.params["meeting"], d)
	if err != nil {
		return err
	}
	if err := s.store.meetings.CreateExtension(r.Context(), c.user.ID, x); err != nil {
		return err
	}
	return s.writeResource(w, c, http.StatusCreated, extensionResource(c, x), x.ETag)
}

func (s *Server) handleExtensionGet(w http.ResponseWriter, r *http.Request, c *call) error {
	x, err := s.store.meetings.FindExtension(r.Context(), c.user.ID, c.params["meeting"], c.params["extension"])
	if err != nil {
		return err
	}
	return s.writeResource(w, c, http.StatusOK, extensionResource(c, x), x.ETag)
}

// handleExtensionUpdate replaces the extension's type and properties (PUT),
// checking in the same order as handleMeetingUpdate.
func (s *Server) handleExtensionUpdate(w http.ResponseWriter, r *http.Request, c *call) error {
	in, err := s.readInput(w, r)
	if err != nil {
		return err
	}
	meetingID, id := c.params["meeting"], c.params["extension"]
	if _, err := s.store.meetings.FindExtension(r.Context(), c.user.ID, meetingID, id); err != nil {
		return err
	}
	tags, err := ifMatch(r)
	if err != nil {
		return err
	}
	sentinel := extensionSentinel(meetingID, id)
	if err := requireSentinel(in, sentinel); err != nil {
		return err
	}
	d, err := decodeExtension(in, sentinel)
	if err != nil {
		return err
	}
	x, err := s.meetings.ReplacedExtension(meetingID, id, d)
	if err != nil {
		return err
	}
	err = eachTag(tags, func(tag string) error {
		return s.store.meetings.UpdateExtension(r.Context(), c.user.ID, x, tag)
	})
	if err != nil {
		return err
	}
	return s.writeResource(w, c, http.StatusOK, extensionResource(c, x), x.ETag)
}

func (s *Server) handleExtensionDelete(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.store.meetings.DeleteExtension(r.Context(), c.user.ID, c.params["meeting"], c.params["extension"]); err != nil {
		return err
	}
	writeNoContent(w)
	return nil
}

// maxIfMatchTags bounds the entity tags of one If-Match header: each one
// may cost an update transaction, and a client holds one ETag per resource
// (a few, if it retries with older ones).
const maxIfMatchTags = 64

// ifMatch returns the entity tags of the If-Match header without quotes and
// W/ prefixes; "*" becomes "" (any). Without the header a PUT is refused
// with 428, as PayloadFormat.md requires; with more than maxIfMatchTags
// tags, with 400.
func ifMatch(r *http.Request) ([]string, error) {
	var tags []string
	for _, v := range r.Header.Values("If-Match") {
		for t := range strings.SplitSeq(v, ",") {
			t = strings.TrimSpace(t)
			t = strings.TrimPrefix(t, "W/")
			t = strings.Trim(t, `"`)
			if t == "*" {
				return []string{""}, nil
			}
			if t == "" {
				continue
			}
			if len(tags) == maxIfMatchTags {
				return nil, ucwad.InvalidParameter("If-Match", "If-Match may name at most %d entity tags.", maxIfMatchTags)
			}
			tags = append(tags, t)
		}
	}
	if len(tags) == 0 {
		return nil, ucwad.Errorf(ucwad.EPreconditionRequired, "", "A PUT must carry If-Match with the ETag of the resource's last GET.")
	}
	return tags, nil
}

// eachTag runs update with each If-Match tag until one is not stale: any
// tag matching is a match, and a stale one changes nothing.
func eachTag(tags []string, update func(tag string) error) error {
	var err error
	for _, t := range tags {
		if err = update(t); ucwad.ErrorCode(err) != ucwad.EPreconditionFailed {
			return err
		}
	}
	return err
}

// requireSentinel fails a PUT whose body lacks the sentinel property (by
// name; its value is not checked).
func requireSentinel(in *ucwa.Input, name string) error {
	if _, ok := in.Lookup(name); !ok {
		return ucwad.InvalidParameter(name, "A PUT must send back the property %s of the resource's last GET: PUT replaces the whole resource.", name)
	}
	return nil
}

// stringMember returns a string member; null and absent are not present,
// and a list where a string belongs is a 400.
func stringMember(in *ucwa.Input, name string) (string, bool, error) {
	m, ok := in.Lookup(name)
	switch {
	case !ok || m.Kind == ucwa.MemberNull:
		return "", false, nil
	case m.Kind == ucwa.MemberList:
		return "", false, ucwad.InvalidParameter(name, "%s must be a string, not a list.", name)
	}
	return m.Text, true, nil
}

// optionalString returns a string member, nil when it is absent or null;
// a list where a string belongs is a 400.
func optionalString(in *ucwa.Input, name string) (*string, error) {
	v, ok, err := stringMember(in, name)
	if err != nil || !ok {
		return nil, err
	}
	return &v, nil
}

// decodeMeeting reads the settable meeting properties of a POST (create)
// or PUT body for the meeting rules (ucwad.MeetingRules), which check
// them. Only what is malformed on the wire is refused here: a list where a
// string belongs, an expirationTime that is not a date.
func decodeMeeting(in *ucwa.Input) (ucwad.MeetingInput, error) {
	var d ucwad.MeetingInput
	var err error
	if d.Subject, _, err = stringMember(in, "subject"); err != nil {
		return d, err
	}
	if d.Description, _, err = stringMember(in, "description"); err != nil {
		return d, err
	}
	// The enumerated values sent point into one array: one allocation
	// rather than one each.
	values := new([6]string)
	for i, f := range []struct {
		name string
		dst  **string
	}{
		{"accessLevel", &d.AccessLevel},
		{"automaticLeaderAssignment", &d.AutomaticLeaderAssignment},
		{"entryExitAnnouncement", &d.EntryExitAnnouncement},
		{"attendanceAnnouncementsStatus", &d.AttendanceAnnouncementsStatus},
		{"lobbyBypassForPhoneUsers", &d.LobbyBypassForPhoneUsers},
		{"phoneUserAdmission", &d.PhoneUserAdmission},
	} {
		// The older name counts only when the current one is not sent.
		if f.dst == &d.AttendanceAnnouncementsStatus && d.EntryExitAnnouncement != nil {
			continue
		}
		v, ok, err := stringMember(in, f.name)
		if err != nil {
			return d, err
		}
		if ok {
			values[i] = v
			*f.dst = &values[i]
		}
	}
	d.Attendees, _ = in.Strings("attendees")
	d.Leaders, _ = in.Strings("leaders")
	t, ok, err := in.Date("expirationTime")
	if err != nil {
		return d, ucwad.InvalidParameter("expirationTime", "expirationTime is not a date: send \"\\/Date(milliseconds)\\/\" or ISO 8601.")
	}
	if ok {
		d.ExpirationTime = &t
	}
	return d, nil
}

// decodeExtension reads an extension's body for the meeting rules: its id
// and type, and every other member but the housekeeping ones (see
// housekeeping), those that are not strings and those holding the sentinel
// text marked as carrying no data, so that a body copied from another
// extension does not store that extension's sentinel. Only a list where
// the id or the type belongs is refused here.
func decodeExtension(in *ucwa.Input, sentinel string) (ucwad.ExtensionInput, error) {
	var d ucwad.ExtensionInput
	var err error
	if d.ID, _, err = stringMember(in, "id"); err != nil {
		return d, err
	}
	if d.Type, err = optionalString(in, "type"); err != nil {
		return d, err
	}
	for _, m := range in.Members() {
		if strings.EqualFold(m.Name, "id") || strings.EqualFold(m.Name, "type") || housekeeping(m.Name, sentinel) {
			continue
		}
		d.Members = append(d.Members, ucwad.ExtensionMember{Name: m.Name, Value: m.Text,
			Data: m.Kind == ucwa.MemberString && m.Text != ucwa.PutSentinel})
	}
	return d, nil
}

// housekeeping reports the members that describe a resource rather than
// hold its data, in any casing: UCWA's rel, href, self and etag, the PUT
// sentinel of the resource, and PGuid, where SDKs put the sentinel's name
// when they send a resource back. They are never stored as extension
// properties, and never shown as ones (extensions stored before this rule
// lose them at their next PUT).
func housekeeping(name, sentinel string) bool {
	for _, h := range [...]string{"rel", "href", "self", "etag", "pguid"} {
		if strings.EqualFold(name, h) {
			return true
		}
	}
	return sentinel != "" && strings.EqualFold(name, sentinel)
}

// renderMeetingEvent renders events about meetings and extensions for the
// receiving application (always one of the organizer's): sender
// onlineMeetings, the resource's link, and on added and updated the
// resource itself, built from the snapshot the store took at commit, its
// organizer included.
func (s *Server) renderMeetingEvent(c *call, e ucwad.Event, out ucwa.EventEntry) (ucwa.EventSender, ucwa.EventEntry, bool) {
	sender := ucwa.EventSender{Rel: "onlineMeetings", Href: c.meetingsHref()}
	switch e.Subject.Kind {
	case ucwad.SubjectMeeting:
		out.Link = ucwa.Link{Rel: relMyOnlineMeeting, Href: c.meetingHref(e.Subject.MeetingID())}
		if e.Data != nil {
			var m ucwad.OnlineMeeting
			if err := json.Unmarshal(e.Data, &m); err != nil {
				s.log.Error("meeting event data", "err", err, "meeting", e.Subject.MeetingID())
				return sender, out, false
			}
			if m.Organizer.SIP == "" && m.UserID == c.user.ID {
				// A snapshot stored before meetings carried their
				// organizer; such events went to the organizer's own
				// applications only.
				m.Organizer = c.user.Person()
			}
			out.Link.Rel = meetingRel(&m)
			out.Embedded = s.meetingSummary(c, &m)
		}
	case ucwad.SubjectExtension:
		out.Link = ucwa.Link{Rel: relExtension, Href: c.extensionHref(e.Subject.MeetingID(), e.Subject.ExtensionID())}
		out.In = &ucwa.Link{Rel: relExtensions, Href: c.extensionsHref(e.Subject.MeetingID())}
		if e.Data != nil {
			var x ucwad.Extension
			if err := json.Unmarshal(e.Data, &x); err != nil {
				s.log.Error("extension event data", "err", err, "meeting", e.Subject.MeetingID(), "extension", e.Subject.ExtensionID())
				return sender, out, false
			}
			out.Embedded = extensionResource(c, &x)
		}
	default:
		return sender, out, false
	}
	return sender, out, true
}

// sweepMeetings purges the meetings whose expirationTime passed more than
// the grace period ago.
func (s *Server) sweepMeetings(ctx context.Context) error {
	n, err := s.store.meetings.ExpireMeetings(ctx, s.clock.Now().Add(-s.cfg.Meetings.ExpiryGrace))
	if n > 0 {
		s.log.Info("deleted expired meetings", "count", n)
	}
	return err
}
