package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/httpapi"
	"github.com/ucwad/ucwad/ucwa"
)

var jsonBody = map[string]string{"Content-Type": "application/json"}

// dashboard is the online-meetings resource embedded in the application.
func (s *session) dashboard(t *testing.T) *ucwa.Resource {
	t.Helper()
	return embedded(t, s.app, "onlineMeetings")
}

// myMeetings is the href of myOnlineMeetings, from the dashboard's link.
func (s *session) myMeetings(t *testing.T) string {
	t.Helper()
	return link(t, s.dashboard(t), "myOnlineMeetings")
}

// schedule POSTs a JSON body to myOnlineMeetings and returns the meeting.
func (s *session) schedule(t *testing.T, body string) *ucwa.Resource {
	t.Helper()
	r := s.do(req{method: "POST", url: s.myMeetings(t), body: body, header: jsonBody})
	r.wantStatus(t, http.StatusCreated)
	return r.resource(t)
}

// addExtension POSTs a JSON body to the meeting's extensions.
func (s *session) addExtension(t *testing.T, meeting *ucwa.Resource, body string) *ucwa.Resource {
	t.Helper()
	r := s.do(req{method: "POST", url: link(t, meeting, "onlineMeetingExtensions"), body: body, header: jsonBody})
	r.wantStatus(t, http.StatusCreated)
	return r.resource(t)
}

// get GETs href (JSON) and returns the resource, failing unless 200.
func (s *session) get(t *testing.T, href string) *ucwa.Resource {
	t.Helper()
	return s.do(req{method: "GET", url: href}).wantStatus(t, http.StatusOK).resource(t)
}

// put PUTs body (JSON) to href with If-Match.
func (s *session) put(href, ifMatch, body string) *resp {
	s.e.t.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	if ifMatch != "" {
		h["If-Match"] = ifMatch
	}
	return s.do(req{method: "PUT", url: href, body: body, header: h})
}

// sentinel returns the name of res's PUT sentinel property, failing unless
// it has exactly one.
func sentinel(t *testing.T, res *ucwa.Resource) string {
	t.Helper()
	var names []string
	for _, p := range res.Props() {
		if p.Value.Str() == ucwa.PutSentinel {
			names = append(names, p.Name)
		}
	}
	if len(names) != 1 || !reSentinelName.MatchString(names[0]) {
		t.Fatalf("%s has sentinel properties %v, want one GUID-named", res.Rel, names)
	}
	return names[0]
}

// putBody is the resource as a client PUTs it back: its JSON form with
// changes applied (nil deletes a member).
func putBody(t *testing.T, res *ucwa.Resource, changes map[string]any) string {
	t.Helper()
	b, err := ucwa.Marshal(ucwa.JSON, res)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range changes {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func wantProp(t *testing.T, res *ucwa.Resource, name string, want ucwa.Value) {
	t.Helper()
	got, ok := res.Get(name)
	if !ok {
		t.Errorf("%s has no %s", res.Rel, name)
		return
	}
	if !got.Equal(want) {
		t.Errorf("%s.%s = %v %q, want %v %q", res.Rel, name, got.Kind(), got.Text(), want.Kind(), want.Text())
	}
}

// wantETag checks that the answer's ETag header is its etag property,
// quoted, and returns it.
func wantETag(t *testing.T, r *resp) string {
	t.Helper()
	etag := str(t, r.resource(t), "etag")
	if h := r.Header.Get("ETag"); etag == "" || h != `"`+etag+`"` {
		t.Fatalf("%s %s: ETag header %q, etag property %q", r.Request.Method, r.Request.URL, h, etag)
	}
	return etag
}

var (
	reMeetingID    = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{10}$`)
	reConferenceID = regexp.MustCompile(`^[1-9][0-9]{7}$`)
)

func TestScheduleMeeting(t *testing.T) {
	everything := map[string]string{
		"json": `{"accessLevel":"Invited","attendees":["sip:johndoe@contoso.com","janedoe@contoso.com"],
			"automaticLeaderAssignment":"Everyone","description":"Q3 <numbers> & \"plans\"","entryExitAnnouncement":"Enabled",
			"expirationTime":"\/Date(1772398800000)\/","leaders":["SIP:aikc@contoso.com"],"lobbyBypassForPhoneUsers":"Enabled",
			"phoneUserAdmission":"Enabled","subject":"Quarterly sales numbers"}`,
		"xml": `<?xml version="1.0" encoding="utf-8"?><input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">
			<property name="accessLevel">Invited</property>
			<propertyList name="attendees"><item>sip:johndoe@contoso.com</item><item>janedoe@contoso.com</item></propertyList>
			<property name="automaticLeaderAssignment">Everyone</property>
			<property name="description">Q3 &lt;numbers&gt; &amp; "plans"</property>
			<property name="entryExitAnnouncement">Enabled</property>
			<property name="expirationTime">2026-03-01T13:00:00.0000000-08:00</property>
			<propertyList name="leaders"><item>SIP:aikc@contoso.com</item></propertyList>
			<property name="lobbyBypassForPhoneUsers">Enabled</property>
			<property name="phoneUserAdmission">Enabled</property>
			<property name="subject">Quarterly sales numbers</property></input>`,
	}
	for _, f := range []struct{ name, media string }{{"json", "application/json"}, {"xml", "application/xml"}} {
		t.Run(f.name, func(t *testing.T) {
			e := newEnv(t)
			s := e.signIn("alice", "sched")
			r := s.do(req{method: "POST", url: s.myMeetings(t), body: everything[f.name],
				header: map[string]string{"Content-Type": f.media, "Accept": f.media}})
			r.wantStatus(t, http.StatusCreated)
			wantContentType(t, r, f.media)
			etag := wantETag(t, r)
			m := r.resource(t)
			if f.name == "xml" {
				// XML carries no types; read it back as JSON to check them.
				m = s.get(t, m.Href)
			}
			if m.Rel != "myOnlineMeeting" {
				t.Fatalf("rel %q", m.Rel)
			}
			id := str(t, m, "onlineMeetingId")
			if !reMeetingID.MatchString(id) {
				t.Errorf("onlineMeetingId %q", id)
			}
			uri := "sip:alice@contoso.com;gruu;opaque=app:conf:focus:id:" + id
			for name, want := range map[string]ucwa.Value{
				"accessLevel":               ucwa.String("Invited"),
				"attendees":                 ucwa.Strings([]string{"sip:johndoe@contoso.com", "sip:janedoe@contoso.com"}),
				"automaticLeaderAssignment": ucwa.String("Everyone"),
				"description":               ucwa.String(`Q3 <numbers> & "plans"`),
				"entryExitAnnouncement":     ucwa.String("Enabled"),
				"expirationTime":            ucwa.Date(time.Date(2026, 3, 1, 21, 0, 0, 0, time.UTC)),
				"leaders":                   ucwa.Strings([]string{"sip:aikc@contoso.com"}),
				"lobbyBypassForPhoneUsers":  ucwa.String("Enabled"),
				"phoneUserAdmission":        ucwa.String("Enabled"),
				"subject":                   ucwa.String("Quarterly sales numbers"),
				"onlineMeetingUri":          ucwa.String(uri),
				"organizerUri":              ucwa.String("sip:alice@contoso.com"),
				"onlineMeetingRel":          ucwa.String("myOnlineMeetings"),
				"joinUrl":                   ucwa.String(e.base + "/meet/alice/" + id),
				"etag":                      ucwa.String(etag),
			} {
				wantProp(t, m, name, want)
			}
			if c := str(t, m, "conferenceId"); !reConferenceID.MatchString(c) {
				t.Errorf("conferenceId %q is not 8 digits", c)
			}
			if l := str(t, m, "legacyOnlineMeetingUri"); !regexp.MustCompile(`^conf:` + regexp.QuoteMeta(uri) + `\?conversation-id=[0-9a-f-]{36}$`).MatchString(l) {
				t.Errorf("legacyOnlineMeetingUri %q", l)
			}
			sentinel(t, m)
			if want := s.myMeetings(t) + "/" + id; m.Href != want {
				t.Errorf("href %q, want %q", m.Href, want)
			}
			if got := link(t, m, "onlineMeetingExtensions"); got != m.Href+"/onlineMeetingExtensions" {
				t.Errorf("onlineMeetingExtensions link %q", got)
			}
			if g := m.Embedded(); len(g) != 1 || g[0].Rel != "onlineMeetingExtension" || !g[0].Array || len(g[0].Resources) != 0 {
				t.Errorf("embedded %+v, want an empty onlineMeetingExtension array", g)
			}
			// GET answers the same, with the same ETag.
			got := s.do(req{method: "GET", url: m.Href}).wantStatus(t, http.StatusOK)
			if wantETag(t, got) != etag {
				t.Error("GET changed the ETag")
			}
			if d := diffResources(got.resource(t), m); d != "" {
				t.Errorf("GET differs from the POST answer:\n%s", d)
			}
		})
	}
}

func TestScheduleDefaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tweak func(*httpapi.Config)
		want  map[string]string
	}{
		{"built-in", nil, map[string]string{"accessLevel": "SameEnterprise", "automaticLeaderAssignment": "SameEnterprise",
			"entryExitAnnouncement": "Disabled", "lobbyBypassForPhoneUsers": "Disabled", "phoneUserAdmission": "Disabled"}},
		{"configured", func(c *httpapi.Config) {
			c.Meetings.Defaults = ucwad.MeetingDefaults{AccessLevel: "Locked", AutomaticLeaderAssignment: "Disabled",
				EntryExitAnnouncement: "Enabled", LobbyBypassForPhoneUsers: "Enabled"}
		}, map[string]string{"accessLevel": "Locked", "automaticLeaderAssignment": "Disabled",
			"entryExitAnnouncement": "Enabled", "lobbyBypassForPhoneUsers": "Enabled", "phoneUserAdmission": "Disabled"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tweaks []func(*httpapi.Config)
			if tc.tweak != nil {
				tweaks = append(tweaks, tc.tweak)
			}
			e := newEnv(t, tweaks...)
			s := e.signIn("alice", "defaults")
			for _, body := range []string{"", "{}"} {
				m := s.schedule(t, body)
				for name, want := range tc.want {
					wantProp(t, m, name, ucwa.String(want))
				}
				defaults := s.get(t, link(t, s.dashboard(t), "onlineMeetingDefaultValues"))
				for _, name := range []string{"accessLevel", "automaticLeaderAssignment", "entryExitAnnouncement", "lobbyBypassForPhoneUsers"} {
					wantProp(t, defaults, name, ucwa.String(tc.want[name]))
				}
				for _, name := range []string{"subject", "description"} {
					wantProp(t, m, name, ucwa.String(""))
				}
				for _, name := range []string{"attendees", "leaders"} {
					wantProp(t, m, name, ucwa.Strings(nil))
				}
				wantProp(t, m, "expirationTime", ucwa.Date(t0.Add(8*time.Hour)))
			}
		})
	}
}

func TestScheduleExpirationTime(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "expiry")
	ms := func(t time.Time) string { return fmt.Sprintf(`"\/Date(%d)\/"`, t.UnixMilli()) }
	yearBack, tenAhead := t0.AddDate(-1, 0, 0), t0.AddDate(10, 0, 0)
	for _, tc := range []struct {
		name, value string // value is the JSON of expirationTime; "" leaves it out
		want        time.Time
		ok          bool
	}{
		{"omitted", "", t0.Add(8 * time.Hour), true},
		{"null", "null", t0.Add(8 * time.Hour), true},
		{"empty", `""`, t0.Add(8 * time.Hour), true},
		{"ms date", ms(t0.Add(time.Hour)), t0.Add(time.Hour), true},
		{"unescaped ms date", fmt.Sprintf(`"/Date(%d)/"`, t0.Add(time.Hour).UnixMilli()), t0.Add(time.Hour), true},
		{"ISO", `"2026-03-02T01:17:18.000Z"`, time.Date(2026, 3, 2, 1, 17, 18, 0, time.UTC), true},
		// Kept to the millisecond, what the JSON form can carry.
		{"ISO with offset", `"2026-03-01T16:20:29.0559053-07:00"`, time.Date(2026, 3, 1, 23, 20, 29, 55000000, time.UTC), true},
		{"in the past, within a year", ms(t0.Add(-time.Hour)), t0.Add(-time.Hour), true},
		{"a year back", ms(yearBack), yearBack, true},
		{"more than a year back", ms(yearBack.Add(-time.Millisecond)), time.Time{}, false},
		{"ten years ahead", ms(tenAhead), tenAhead, true},
		{"more than ten years ahead", ms(tenAhead.Add(time.Millisecond)), time.Time{}, false},
		{"garbage", `"next tuesday"`, time.Time{}, false},
		{"number", `1772398800000`, time.Time{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := "{}"
			if tc.value != "" {
				body = `{"expirationTime":` + tc.value + `}`
			}
			r := s.do(req{method: "POST", url: s.myMeetings(t), body: body, header: jsonBody})
			if !tc.ok {
				wantParameter(t, r, "expirationTime")
				return
			}
			r.wantStatus(t, http.StatusCreated)
			wantProp(t, r.resource(t), "expirationTime", ucwa.Date(tc.want))
		})
	}
}

// wantParameter checks a 400 ParameterValidationFailure naming param.
func wantParameter(t *testing.T, r *resp, param string) {
	t.Helper()
	reason := r.wantError(t, http.StatusBadRequest, ucwad.EBadRequest, ucwad.SubParameterValidationFailure)
	if len(reason.Parameters) != 1 || reason.Parameters[0].Name != param {
		t.Errorf("parameters %+v, want %s", reason.Parameters, param)
	}
	if reason.Message == "" {
		t.Error("no message")
	}
}

func TestScheduleValidation(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) { c.Meetings.Policies.PhoneUserAdmission = "Disabled" })
	s := e.signIn("alice", "valid")
	for _, tc := range []struct {
		name, json, xml, param string
	}{
		{"unknown accessLevel", `{"accessLevel":"Public"}`, `<property name="accessLevel">Public</property>`, "accessLevel"},
		{"accessLevel not eligible", `{"accessLevel":"None"}`, `<property name="accessLevel">None</property>`, "accessLevel"},
		{"automaticLeaderAssignment", `{"automaticLeaderAssignment":"Nobody"}`, `<property name="automaticLeaderAssignment">Nobody</property>`, "automaticLeaderAssignment"},
		{"entryExitAnnouncement not eligible", `{"entryExitAnnouncement":"Unsupported"}`, `<property name="entryExitAnnouncement">Unsupported</property>`, "entryExitAnnouncement"},
		{"legacy announcement name", `{"attendanceAnnouncementsStatus":"Loud"}`, `<property name="attendanceAnnouncementsStatus">Loud</property>`, "attendanceAnnouncementsStatus"},
		{"lobbyBypassForPhoneUsers", `{"lobbyBypassForPhoneUsers":"Sometimes"}`, `<property name="lobbyBypassForPhoneUsers">Sometimes</property>`, "lobbyBypassForPhoneUsers"},
		{"phoneUserAdmission against the policy", `{"phoneUserAdmission":"Enabled"}`, `<property name="phoneUserAdmission">Enabled</property>`, "phoneUserAdmission"},
		{"attendee without domain", `{"attendees":["sip:bob"]}`, `<propertyList name="attendees"><item>sip:bob</item></propertyList>`, "attendees"},
		{"attendee empty", `{"attendees":["sip:johndoe@contoso.com",""]}`, `<propertyList name="attendees"><item>sip:johndoe@contoso.com</item><item></item></propertyList>`, "attendees"},
		{"attendee with a space", `{"attendees":["sip:john doe@contoso.com"]}`, `<propertyList name="attendees"><item>sip:john doe@contoso.com</item></propertyList>`, "attendees"},
		{"attendee tel URI", `{"attendees":["tel:+14255550001"]}`, `<propertyList name="attendees"><item>tel:+14255550001</item></propertyList>`, "attendees"},
		{"leader with bad domain", `{"leaders":["sip:aikc@contoso..com"]}`, `<propertyList name="leaders"><item>sip:aikc@contoso..com</item></propertyList>`, "leaders"},
		{"leader with parameters", `{"leaders":["sip:aikc@contoso.com;transport=tls"]}`, `<propertyList name="leaders"><item>sip:aikc@contoso.com;transport=tls</item></propertyList>`, "leaders"},
		{"expirationTime too late", `{"expirationTime":"2040-01-01T00:00:00Z"}`, `<property name="expirationTime">2040-01-01T00:00:00Z</property>`, "expirationTime"},
		{"subject as a list", `{"subject":["a","b"]}`, `<propertyList name="subject"><item>a</item></propertyList>`, "subject"},
	} {
		for _, f := range []struct{ name, media, body string }{
			{"json", "application/json", tc.json},
			{"xml", "application/xml", `<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">` + tc.xml + `</input>`},
		} {
			t.Run(tc.name+"/"+f.name, func(t *testing.T) {
				r := s.do(req{method: "POST", url: s.myMeetings(t), body: f.body,
					header: map[string]string{"Content-Type": f.media, "Accept": f.media}})
				wantParameter(t, r, tc.param)
			})
		}
	}
	// Nothing was scheduled by the failures.
	if got := s.get(t, s.myMeetings(t)).FindEmbedded("myOnlineMeeting"); len(got) != 0 {
		t.Errorf("%d meetings after failed POSTs", len(got))
	}
}

func TestScheduleEnumSpelling(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "enum")
	// Any casing is accepted and answered in the canonical spelling.
	m := s.schedule(t, `{"accessLevel":"sameenterprise","automaticLeaderAssignment":"EVERYONE","lobbyBypassForPhoneUsers":"enabled"}`)
	wantProp(t, m, "accessLevel", ucwa.String("SameEnterprise"))
	wantProp(t, m, "automaticLeaderAssignment", ucwa.String("Everyone"))
	wantProp(t, m, "lobbyBypassForPhoneUsers", ucwa.String("Enabled"))
	// The legacy name stands in for entryExitAnnouncement, and is ignored
	// when both are sent.
	m = s.schedule(t, `{"attendanceAnnouncementsStatus":"Enabled"}`)
	wantProp(t, m, "entryExitAnnouncement", ucwa.String("Enabled"))
	m = s.schedule(t, `{"entryExitAnnouncement":"Disabled","attendanceAnnouncementsStatus":"Bogus"}`)
	wantProp(t, m, "entryExitAnnouncement", ucwa.String("Disabled"))
	// Client B's request, PascalCase or not.
	m = s.schedule(t, `{"Subject":"Meeting created by alice","AutomaticLeaderAssignment":"SameEnterprise"}`)
	wantProp(t, m, "subject", ucwa.String("Meeting created by alice"))
}

func TestTooManyOnlineMeetings(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) { c.Limits.MaxMeetingsPerUser = 2 })
	alice := e.signIn("alice", "limit")
	first := alice.schedule(t, "{}")
	alice.schedule(t, "{}")
	for _, accept := range []string{"application/json", "application/xml"} {
		r := alice.do(req{method: "POST", url: alice.myMeetings(t), body: "{}", header: map[string]string{"Content-Type": "application/json", "Accept": accept}})
		r.wantError(t, http.StatusConflict, ucwad.EConflict, ucwad.SubTooManyOnlineMeetings)
	}
	bob := e.signIn("bob", "limit")
	bob.schedule(t, "{}")
	alice.do(req{method: "DELETE", url: first.Href}).wantStatus(t, http.StatusNoContent)
	alice.schedule(t, "{}")
}

func TestExtensionErrors(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) { c.Limits.MaxExtensionsPerMeeting = 2 })
	s := e.signIn("alice", "ext")
	m := s.schedule(t, "{}")
	exts := link(t, m, "onlineMeetingExtensions")
	s.addExtension(t, m, `{"id":"917823","type":"RoamedParticipantData"}`)
	for _, tc := range []struct {
		name, body string
		status     int
		code       ucwad.Code
		subcode    string
		param      string
	}{
		{"duplicate id", `{"id":"917823","type":"Undefined"}`, 409, ucwad.EConflict, ucwad.SubAlreadyExists, ""},
		{"unknown type", `{"id":"a","type":"RoamedEverywhere"}`, 400, ucwad.EBadRequest, ucwad.SubParameterValidationFailure, "type"},
		{"id too long", `{"id":"` + strings.Repeat("x", 257) + `"}`, 400, ucwad.EBadRequest, ucwad.SubParameterValidationFailure, "id"},
		{"dot id", `{"id":".."}`, 400, ucwad.EBadRequest, ucwad.SubParameterValidationFailure, "id"},
		{"control character", `{"id":"a\u0001b"}`, 400, ucwad.EBadRequest, ucwad.SubParameterValidationFailure, "id"},
		{"id as a list", `{"id":["a"]}`, 400, ucwad.EBadRequest, ucwad.SubParameterValidationFailure, "id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(req{method: "POST", url: exts, body: tc.body, header: jsonBody})
			reason := r.wantError(t, tc.status, tc.code, tc.subcode)
			if tc.param != "" && (len(reason.Parameters) != 1 || reason.Parameters[0].Name != tc.param) {
				t.Errorf("parameters %+v, want %s", reason.Parameters, tc.param)
			}
		})
	}
	// The second fills the meeting; a third is over the limit, but a
	// taken id is still reported as taken.
	s.addExtension(t, m, `{"type":"Undefined"}`)
	s.do(req{method: "POST", url: exts, body: `{"id":"third"}`, header: jsonBody}).wantError(t, 409, ucwad.EConflict, ucwad.SubLimitExceeded)
	s.do(req{method: "POST", url: exts, body: `{"id":"917823"}`, header: jsonBody}).wantError(t, 409, ucwad.EConflict, ucwad.SubAlreadyExists)
	s.do(req{method: "GET", url: exts + "/nosuchextension"}).wantError(t, 404, ucwad.ENotFound, ucwad.SubResourceNotFound)
	s.do(req{method: "GET", url: s.myMeetings(t) + "/NOSUCHMEET/onlineMeetingExtensions"}).wantError(t, 404, ucwad.ENotFound, ucwad.SubResourceNotFound)
	s.do(req{method: "POST", url: s.myMeetings(t) + "/NOSUCHMEET/onlineMeetingExtensions", body: `{"id":"a"}`, header: jsonBody}).
		wantError(t, 404, ucwad.ENotFound, ucwad.SubResourceNotFound)
	s.do(req{method: "PATCH", url: exts}).wantError(t, 405, ucwad.EMethodNotAllowed, "")
}

// TestExtensionIDs checks that every application-chosen id gets an href of
// its own that leads back to it.
func TestExtensionIDs(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "ids")
	m := s.schedule(t, "{}")
	generated := s.addExtension(t, m, `{"type":"RoamedOrganizerData"}`)
	if id := str(t, generated, "id"); id == "" || generated.Href != link(t, m, "onlineMeetingExtensions")+"/"+id {
		t.Errorf("generated id %q, href %q", id, generated.Href)
	}
	wantProp(t, s.addExtension(t, m, `{"id":"no-type"}`), "type", ucwa.String("Undefined"))
	wantProp(t, s.addExtension(t, m, `{"id":"lower","type":"roamedparticipantdata"}`), "type", ucwa.String("RoamedParticipantData"))
	hrefs := map[string]bool{}
	for _, id := range []string{"a/b", "a b?c#d%e", "ünï/../x", "onlineMeetingExtension", ".hidden"} {
		body, _ := json.Marshal(map[string]string{"id": id, "type": "Undefined"})
		x := s.addExtension(t, m, string(body))
		if hrefs[x.Href] {
			t.Fatalf("href %s given twice", x.Href)
		}
		hrefs[x.Href] = true
		got := s.get(t, x.Href)
		wantProp(t, got, "id", ucwa.String(id))
		if got.Href != x.Href {
			t.Errorf("GET %s answers with href %s", x.Href, got.Href)
		}
		s.put(x.Href, str(t, got, "etag"), putBody(t, got, nil)).wantStatus(t, http.StatusOK)
		s.do(req{method: "DELETE", url: x.Href}).wantStatus(t, http.StatusNoContent)
		s.do(req{method: "GET", url: x.Href}).wantError(t, 404, ucwad.ENotFound, ucwad.SubResourceNotFound)
	}
}

func TestEmptyCollections(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) { c.Meetings.AssignedMeeting = "Disabled" })
	s := e.signIn("alice", "empty")
	for _, accept := range []string{"application/json", "application/xml"} {
		r := s.do(req{method: "GET", url: s.myMeetings(t), header: map[string]string{"Accept": accept}}).wantStatus(t, 200)
		checkShape(t, formatName(accept), r.body, map[string]string{
			"application/json": `{"rel":"myOnlineMeetings","_links":{"self":{"href":"x"}},"_embedded":{"myAssignedOnlineMeeting":[],"myOnlineMeeting":[]}}`,
			"application/xml":  `<resource rel="myOnlineMeetings" href="x" xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa"><property name="rel">myOnlineMeetings</property></resource>`,
		}[accept])
	}
	m := s.schedule(t, "{}")
	r := s.do(req{method: "GET", url: link(t, m, "onlineMeetingExtensions")}).wantStatus(t, 200)
	checkShape(t, "json", r.body, `{"rel":"onlineMeetingExtensions","_links":{"self":{"href":"x"}},"_embedded":{"onlineMeetingExtension":[]}}`)
}

func formatName(media string) string {
	if strings.Contains(media, "xml") {
		return "xml"
	}
	return "json"
}

func TestMeetingPut(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "put")
	m := s.schedule(t, `{"subject":"before","description":"kept?","attendees":["sip:bob@contoso.com"],"expirationTime":"\/Date(1772431200000)\/"}`)
	etag := str(t, m, "etag")
	name := sentinel(t, m)

	// 428 without If-Match; 400 without the sentinel; 412 with a stale ETag.
	s.put(m.Href, "", putBody(t, m, nil)).wantError(t, http.StatusPreconditionRequired, ucwad.EPreconditionRequired, "")
	wantParameter(t, s.put(m.Href, `"`+etag+`"`, putBody(t, m, map[string]any{name: nil})), name)
	s.put(m.Href, `"12345"`, putBody(t, m, nil)).wantError(t, http.StatusPreconditionFailed, ucwad.EPreconditionFailed, "")
	wantParameter(t, s.put(m.Href, etag, putBody(t, m, map[string]any{"accessLevel": "Public"})), "accessLevel")
	if got := s.get(t, m.Href); str(t, got, "etag") != etag || str(t, got, "subject") != "before" {
		t.Fatalf("failed PUTs changed the meeting: etag %s subject %s", str(t, got, "etag"), str(t, got, "subject"))
	}

	// A full replacement: what is left out takes its default, but for
	// expirationTime, which keeps its value.
	body := `{"subject":"after","accessLevel":"Locked","` + name + `":"` + ucwa.PutSentinel + `"}`
	r := s.put(m.Href, `"`+etag+`"`, body).wantStatus(t, http.StatusOK)
	newETag := wantETag(t, r)
	if newETag == etag {
		t.Fatal("PUT kept the ETag")
	}
	got := r.resource(t)
	wantProp(t, got, "subject", ucwa.String("after"))
	wantProp(t, got, "accessLevel", ucwa.String("Locked"))
	wantProp(t, got, "description", ucwa.String(""))
	wantProp(t, got, "attendees", ucwa.Strings(nil))
	wantProp(t, got, "expirationTime", ucwa.Date(time.UnixMilli(1772431200000)))
	if sentinel(t, got) != name {
		t.Error("the sentinel's name changed with the PUT")
	}
	if d := diffResources(s.get(t, m.Href), got); d != "" {
		t.Errorf("GET after PUT differs from the PUT answer:\n%s", d)
	}

	// If-Match in every form clients send it.
	for _, form := range []func(etag string) string{
		func(etag string) string { return etag },
		func(etag string) string { return `W/"` + etag + `"` },
		func(etag string) string { return `"nope", "` + etag + `"` },
		func(string) string { return "*" },
	} {
		cur := s.get(t, m.Href)
		s.put(m.Href, form(str(t, cur, "etag")), putBody(t, cur, nil)).wantStatus(t, http.StatusOK)
	}
	s.put(s.myMeetings(t)+"/NOSUCHMEET", "*", body).wantError(t, 404, ucwad.ENotFound, ucwad.SubResourceNotFound)
}

// TestMeetingPutRoundTrip PUTs back what GET gave, as client C does: links,
// embedded extensions, read-only properties (even altered), the ETag from
// the body, an ISO date and the legacy announcement name.
func TestMeetingPutRoundTrip(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "round")
	m := s.schedule(t, `{"subject":"holiday party","attendees":["sip:chris@contoso.com"],"entryExitAnnouncement":"Enabled"}`)
	s.addExtension(t, m, `{"id":"x","type":"Undefined"}`)
	cur := s.get(t, m.Href)
	body := putBody(t, cur, map[string]any{
		"subject":                       "holiday party (moved)",
		"expirationTime":                "2026-03-02T01:17:18.000Z",
		"attendanceAnnouncementsStatus": "Disabled", // ignored: entryExitAnnouncement is there
		"onlineMeetingId":               "HACKED",
		"conferenceId":                  "1",
		"joinUrl":                       "https://evil.example/",
		"organizerUri":                  "sip:mallory@contoso.com",
		"onlineMeetingRel":              "myAssignedOnlineMeeting",
		"etag":                          "stale-but-ignored",
	})
	r := s.put(m.Href, `"`+str(t, cur, "etag")+`"`, body).wantStatus(t, http.StatusOK)
	got := r.resource(t)
	want := cur
	want.Set("subject", ucwa.String("holiday party (moved)"))
	want.Set("expirationTime", ucwa.Date(time.Date(2026, 3, 2, 1, 17, 18, 0, time.UTC)))
	want.Set("etag", ucwa.String(wantETag(t, r)))
	if d := diffResources(got, want); d != "" {
		t.Errorf("after the round trip:\n%s", d)
	}

	// The same in XML: the resource document itself is a valid PUT body.
	xr := s.do(req{method: "GET", url: m.Href, header: map[string]string{"Accept": "application/xml"}}).wantStatus(t, 200)
	etag := strings.Trim(xr.Header.Get("ETag"), `"`)
	put := s.do(req{method: "PUT", url: m.Href, body: strings.Replace(string(xr.body), "holiday party (moved)", "in XML", 1),
		header: map[string]string{"Content-Type": "application/xml", "Accept": "application/xml", "If-Match": etag}})
	put.wantStatus(t, http.StatusOK)
	after := s.get(t, m.Href)
	wantProp(t, after, "subject", ucwa.String("in XML"))
	wantProp(t, after, "attendees", ucwa.Strings([]string{"sip:chris@contoso.com"}))
	wantProp(t, after, "expirationTime", ucwa.Date(time.Date(2026, 3, 2, 1, 17, 18, 0, time.UTC)))
}

// TestExtensionPutRoundTrip checks custom properties: kept, replaced by a
// PUT, never mixed up with the sentinel, etag, id or type.
func TestExtensionPutRoundTrip(t *testing.T) {
	for _, f := range []struct{ name, media string }{{"json", "application/json"}, {"xml", "application/xml"}} {
		t.Run(f.name, func(t *testing.T) {
			e := newEnv(t)
			s := e.signIn("alice", "xround")
			m := s.schedule(t, "{}")
			meetingETag := str(t, m, "etag")
			x := s.addExtension(t, m, `{"id":"prefs","type":"RoamedOrganizerData","color":"blue","layout":"grid","count":3,"tags":["a"]}`)
			name := sentinel(t, x)
			wantMembers(t, x, "id", "type", "color", "layout", name, "etag")

			// GET → PUT of the whole body, with one property changed and one added.
			r := s.do(req{method: "GET", url: x.Href, header: map[string]string{"Accept": f.media}}).wantStatus(t, 200)
			etag := strings.Trim(r.Header.Get("ETag"), `"`)
			var body string
			if f.name == "json" {
				body = putBody(t, r.resource(t), map[string]any{"color": "green", "size": "L"})
			} else {
				body = strings.Replace(string(r.body), ">blue<", ">green<", 1)
				body = strings.Replace(body, `<property name="etag">`, `<property name="size">L</property><property name="etag">`, 1)
			}
			put := s.do(req{method: "PUT", url: x.Href, body: body,
				header: map[string]string{"Content-Type": f.media, "Accept": f.media, "If-Match": `"` + etag + `"`}})
			put.wantStatus(t, http.StatusOK)
			wantETag(t, put)
			got := s.get(t, x.Href)
			wantMembers(t, got, "id", "type", "color", "layout", "size", name, "etag")
			wantProp(t, got, "color", ucwa.String("green"))
			wantProp(t, got, "type", ucwa.String("RoamedOrganizerData"))
			if sentinel(t, got) != name {
				t.Error("the sentinel's name changed")
			}

			// Leaving a property out of a PUT removes it; the id cannot change.
			body = `{"type":"Undefined","layout":"list","` + name + `":"` + ucwa.PutSentinel + `"}`
			s.put(x.Href, str(t, got, "etag"), body).wantStatus(t, http.StatusOK)
			wantMembers(t, s.get(t, x.Href), "id", "type", "layout", name, "etag")
			cur := s.get(t, x.Href)
			wantParameter(t, s.put(x.Href, str(t, cur, "etag"), putBody(t, cur, map[string]any{"id": "other"})), "id")
			s.put(x.Href, "", putBody(t, cur, nil)).wantError(t, 428, ucwad.EPreconditionRequired, "")
			s.put(x.Href, str(t, x, "etag"), putBody(t, cur, nil)).wantError(t, 412, ucwad.EPreconditionFailed, "")
			wantParameter(t, s.put(x.Href, str(t, cur, "etag"), putBody(t, cur, map[string]any{name: nil})), name)

			// None of it changed the meeting's ETag.
			if got := str(t, s.get(t, m.Href), "etag"); got != meetingETag {
				t.Errorf("meeting ETag %s after extension changes, want %s", got, meetingETag)
			}
			s.do(req{method: "DELETE", url: x.Href}).wantStatus(t, http.StatusNoContent)
			if got := str(t, s.get(t, m.Href), "etag"); got != meetingETag {
				t.Errorf("meeting ETag %s after deleting an extension, want %s", got, meetingETag)
			}
		})
	}
}

// wantMembers checks the property names of res, in any order.
func wantMembers(t *testing.T, res *ucwa.Resource, names ...string) {
	t.Helper()
	var got []string
	for _, p := range res.Props() {
		got = append(got, p.Name)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(names))
	if !slices.Equal(got, want) {
		t.Errorf("%s members %v, want %v", res.Rel, got, want)
	}
}

func TestConcurrentPuts(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "race")
	m := s.schedule(t, "{}")
	x := s.addExtension(t, m, `{"id":"x"}`)
	for _, res := range []*ucwa.Resource{m, x} {
		statuses := make([]int, 2)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range statuses {
			wg.Go(func() {
				body := putBody(t, res, map[string]any{"subject": fmt.Sprint("writer ", i), "note": fmt.Sprint(i)})
				<-start
				statuses[i] = s.put(res.Href, `"`+str(t, res, "etag")+`"`, body).StatusCode
			})
		}
		close(start)
		wg.Wait()
		slices.Sort(statuses)
		if !slices.Equal(statuses, []int{http.StatusOK, http.StatusPreconditionFailed}) {
			t.Errorf("%s: two PUTs with the same ETag answered %v, want one 200 and one 412", res.Rel, statuses)
		}
	}
}

func TestMeetingDeleteCascade(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "cascade")
	m := s.schedule(t, "{}")
	other := s.schedule(t, "{}")
	x := s.addExtension(t, m, `{"id":"x"}`)
	y := s.addExtension(t, m, `{"id":"y"}`)
	kept := s.addExtension(t, other, `{"id":"x"}`)
	s.do(req{method: "DELETE", url: m.Href}).wantStatus(t, http.StatusNoContent)
	for _, u := range []string{m.Href, link(t, m, "onlineMeetingExtensions"), x.Href, y.Href} {
		s.do(req{method: "GET", url: u}).wantError(t, 404, ucwad.ENotFound, ucwad.SubResourceNotFound)
	}
	s.do(req{method: "DELETE", url: m.Href}).wantError(t, 404, ucwad.ENotFound, ucwad.SubResourceNotFound)
	s.do(req{method: "DELETE", url: x.Href}).wantError(t, 404, ucwad.ENotFound, ucwad.SubResourceNotFound)
	s.get(t, kept.Href)
	list := s.get(t, s.myMeetings(t)).FindEmbedded("myOnlineMeeting")
	if len(list) != 1 || list[0].Href != other.Href {
		t.Errorf("myOnlineMeetings after the delete: %d meetings", len(list))
	}
}

// TestMeetingIsolation: another user gets 404 for every URL under a
// meeting, with the organizer's application id in the path or their own.
func TestMeetingIsolation(t *testing.T) {
	e := newEnv(t)
	alice := e.signIn("alice", "iso")
	bob := e.signIn("bob", "iso")
	m := alice.schedule(t, `{"subject":"alice only"}`)
	x := alice.addExtension(t, m, `{"id":"x","color":"red"}`)
	m = alice.get(t, m.Href)
	exts := link(t, m, "onlineMeetingExtensions")
	mPut := putBody(t, m, nil)
	xPut := putBody(t, x, nil)
	requests := []req{
		{method: "GET", url: m.Href},
		{method: "PUT", url: m.Href, body: mPut, header: map[string]string{"Content-Type": "application/json", "If-Match": str(t, m, "etag")}},
		{method: "PUT", url: m.Href, body: mPut, header: jsonBody},
		{method: "DELETE", url: m.Href},
		{method: "GET", url: exts},
		{method: "POST", url: exts, body: `{"id":"y"}`, header: jsonBody},
		{method: "GET", url: x.Href},
		{method: "PUT", url: x.Href, body: xPut, header: map[string]string{"Content-Type": "application/json", "If-Match": str(t, x, "etag")}},
		{method: "PUT", url: x.Href, body: xPut, header: jsonBody},
		{method: "DELETE", url: x.Href},
	}
	for _, r := range requests {
		// With alice's application id: that application is not bob's.
		bob.do(r).wantError(t, 404, ucwad.ENotFound, ucwad.SubApplicationNotFound)
		// With bob's own application id: the meeting is not his.
		r.url = strings.Replace(r.url, alice.app.Href, bob.app.Href, 1)
		bob.do(r).wantError(t, 404, ucwad.ENotFound, ucwad.SubResourceNotFound)
	}
	if got := bob.get(t, bob.myMeetings(t)).FindEmbedded("myOnlineMeeting"); len(got) != 0 {
		t.Errorf("bob lists %d meetings", len(got))
	}
	got := alice.get(t, m.Href)
	if d := diffResources(got, m); d != "" {
		t.Errorf("alice's meeting after bob's attempts:\n%s", d)
	}
	alice.get(t, x.Href)
}

func TestMeetingExpirySweep(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tweak func(*httpapi.Config)
		grace time.Duration
	}{
		{"default grace", func(*httpapi.Config) {}, 14 * 24 * time.Hour},
		{"configured grace", func(c *httpapi.Config) { c.Meetings.ExpiryGrace = time.Hour }, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Tokens and applications must outlive the weeks the clock moves.
			e := newEnv(t, tc.tweak, func(c *httpapi.Config) { c.TokenLifetime, c.ApplicationIdle = 90*24*time.Hour, 90*24*time.Hour })
			s := e.signIn("alice", "sweep")
			m := s.schedule(t, fmt.Sprintf(`{"expirationTime":"\/Date(%d)\/"}`, t0.Add(time.Hour).UnixMilli()))
			x := s.addExtension(t, m, `{"id":"x"}`)
			later := s.schedule(t, fmt.Sprintf(`{"expirationTime":"\/Date(%d)\/"}`, t0.Add(48*time.Hour+tc.grace).UnixMilli()))
			sweep := func() {
				t.Helper()
				if err := e.api.Sweep(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			// Past its expiration but within the grace period: still there.
			e.clock.Advance(2 * time.Hour)
			sweep()
			s.get(t, m.Href)
			e.clock.Advance(tc.grace - time.Hour)
			sweep()
			s.get(t, x.Href)
			// Past the grace period: gone, with its extensions.
			e.clock.Advance(time.Millisecond)
			sweep()
			s.do(req{method: "GET", url: m.Href}).wantError(t, 404, ucwad.ENotFound, ucwad.SubResourceNotFound)
			s.do(req{method: "GET", url: x.Href}).wantError(t, 404, ucwad.ENotFound, ucwad.SubResourceNotFound)
			s.get(t, later.Href)
		})
	}
}

func TestAssignedMeeting(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "assigned")
	href := link(t, s.dashboard(t), "myAssignedOnlineMeeting")
	a := s.do(req{method: "GET", url: href}).wantStatus(t, 200)
	etag := wantETag(t, a)
	m := a.resource(t)
	if m.Rel != "myAssignedOnlineMeeting" || m.Href != href || !strings.HasPrefix(href, s.myMeetings(t)+"/") {
		t.Fatalf("assigned meeting rel %q href %q (link %q)", m.Rel, m.Href, href)
	}
	wantProp(t, m, "onlineMeetingRel", ucwa.String("myAssignedOnlineMeeting"))
	wantProp(t, m, "accessLevel", ucwa.String("SameEnterprise"))
	id := str(t, m, "onlineMeetingId")

	// The same meeting from every application and resource that links it.
	other := e.signIn("alice", "assigned-2")
	if got := link(t, other.dashboard(t), "myAssignedOnlineMeeting"); !strings.HasSuffix(got, "/"+id) {
		t.Errorf("another application links %q, want meeting %s", got, id)
	}
	eligible := s.get(t, link(t, s.dashboard(t), "onlineMeetingEligibleValues"))
	if got := link(t, eligible, "myAssignedOnlineMeeting"); got != href {
		t.Errorf("eligible values link %q, want %q", got, href)
	}
	wantProp(t, eligible, "eligibleOnlineMeetingRels", ucwa.Strings([]string{"myOnlineMeetings", "myAssignedOnlineMeeting"}))
	list := s.get(t, s.myMeetings(t))
	if got := list.FindEmbedded("myAssignedOnlineMeeting"); len(got) != 1 || got[0].Href != href {
		t.Errorf("myOnlineMeetings embeds %d assigned meetings", len(got))
	}
	dialIn := s.get(t, link(t, s.dashboard(t), "phoneDialInInformation"))
	wantProp(t, dialIn, "conferenceId", ucwa.String(str(t, m, "conferenceId")))

	// PUT changes it like any meeting; DELETE resets it and keeps its coordinates.
	s.put(href, etag, putBody(t, m, map[string]any{"subject": "standing meeting", "accessLevel": "Everyone"})).wantStatus(t, 200)
	s.addExtension(t, m, `{"id":"x"}`)
	s.do(req{method: "DELETE", url: href}).wantStatus(t, http.StatusNoContent)
	reset := s.get(t, href)
	wantProp(t, reset, "subject", ucwa.String(""))
	wantProp(t, reset, "accessLevel", ucwa.String("SameEnterprise"))
	wantProp(t, reset, "onlineMeetingId", ucwa.String(id))
	wantProp(t, reset, "conferenceId", ucwa.String(str(t, m, "conferenceId")))
	if len(reset.FindEmbedded("onlineMeetingExtension")) != 0 {
		t.Error("the reset assigned meeting kept its extensions")
	}

	// Without the policy there is none.
	e2 := newEnv(t, func(c *httpapi.Config) { c.Meetings.AssignedMeeting = "Disabled" })
	s2 := e2.signIn("alice", "none")
	if _, ok := s2.dashboard(t).FindLink("myAssignedOnlineMeeting"); ok {
		t.Error("dashboard links an assigned meeting although the policy is off")
	}
	eligible = s2.get(t, link(t, s2.dashboard(t), "onlineMeetingEligibleValues"))
	wantProp(t, eligible, "eligibleOnlineMeetingRels", ucwa.Strings([]string{"myOnlineMeetings"}))
	if _, ok := eligible.FindLink("myAssignedOnlineMeeting"); ok {
		t.Error("eligible values link an assigned meeting although the policy is off")
	}
	wantProp(t, s2.get(t, link(t, s2.dashboard(t), "phoneDialInInformation")), "conferenceId", ucwa.String(""))
}

func TestOnlineMeetingsDashboard(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "dash")
	d := s.dashboard(t)
	if got := s.get(t, d.Href); diffResources(got, d) != "" {
		t.Errorf("GET onlineMeetings differs from the embedded one:\n%s", diffResources(got, d))
	}
	if len(d.Props()) != 0 {
		t.Errorf("onlineMeetings has properties %v, want links only", d.Props())
	}
	want := map[string]string{
		"myAssignedOnlineMeeting":              "myAssignedOnlineMeeting",
		"myOnlineMeetings":                     "myOnlineMeetings",
		"onlineMeetingDefaultValues":           "onlineMeetingDefaultValues",
		"onlineMeetingEligibleValues":          "onlineMeetingEligibleValues",
		"onlineMeetingInvitationCustomization": "onlineMeetingInvitationCustomization",
		"onlineMeetingPolicies":                "onlineMeetingPolicies",
		"phoneDialInInformation":               "phoneDialInInformation",
	}
	if len(d.Links()) != len(want) {
		t.Errorf("dashboard links %+v, want %d", d.Links(), len(want))
	}
	for rel, resRel := range want {
		for _, accept := range []string{"application/json", "application/xml"} {
			r := s.do(req{method: "GET", url: link(t, d, rel), header: map[string]string{"Accept": accept}}).wantStatus(t, 200)
			wantContentType(t, r, accept)
			if got := r.resource(t); got.Rel != resRel || got.Href != link(t, d, rel) {
				t.Errorf("%s (%s): rel %q href %q", rel, accept, got.Rel, got.Href)
			}
		}
	}
	if got := link(t, d, "onlineMeetingInvitationCustomization"); !strings.HasSuffix(got, "/onlineMeetings/customInvitation") {
		t.Errorf("customInvitation href %q", got)
	}
}

// TestMeetingSettingsResources checks that the settings resources report
// the configuration, in both formats with their types.
func TestMeetingSettingsResources(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) {
		c.Meetings.Defaults.ParticipantsWarningThreshold = 16
		c.Meetings.Eligible.AccessLevels = []string{"Locked", "SameEnterprise"}
		c.Meetings.Policies = ucwad.MeetingPolicies{MeetingRecording: "Enabled", MeetingSize: 54, VoipAudio: "None"}
		c.Meetings.Invitation = ucwad.InvitationCustomization{EnterpriseHelpURL: "http://meet.contoso.com/firstimehelp.html",
			InvitationFooterText: "Footer & <more>", InvitationHelpURL: "http://meet.contoso.com/help",
			InvitationLegalURL: "http://meet.contoso.com/disclaimer.html", InvitationLogoURL: "http://meet.contoso.com/companylogo.png"}
		c.Meetings.DialIn = ucwad.DialInInformation{DefaultRegion: "Redmond", ExternalDirectoryURI: "https://dial.contoso.com",
			InternalDirectoryURI: "https://dial.contoso.com/int", IsAudioConferenceProviderEnabled: true, ParticipantPassCode: "1234",
			TollFreeNumbers: []string{"tel:+18005550100"}, TollNumber: "tel:+14255550100",
			Regions: []ucwad.DialInRegion{{Name: "Redmond", Number: "tel:+14255550001", Languages: []string{"en-US", "fr-FR"}},
				{Name: "São Paulo/Centro", Number: "tel:+551155550001"}}}
	})
	s := e.signIn("alice", "values")
	d := s.dashboard(t)
	for _, tc := range []struct {
		rel  string
		want map[string]ucwa.Value
	}{
		{"onlineMeetingDefaultValues", map[string]ucwa.Value{"accessLevel": ucwa.String("SameEnterprise"),
			"automaticLeaderAssignment": ucwa.String("SameEnterprise"), "defaultOnlineMeetingRel": ucwa.String("myOnlineMeetings"),
			"entryExitAnnouncement": ucwa.String("Disabled"), "lobbyBypassForPhoneUsers": ucwa.String("Disabled"),
			"participantsWarningThreshold": ucwa.Int(16)}},
		{"onlineMeetingEligibleValues", map[string]ucwa.Value{"accessLevels": ucwa.Strings([]string{"Locked", "SameEnterprise"}),
			"automaticLeaderAssignments":       ucwa.Strings([]string{"Disabled", "SameEnterprise", "Everyone"}),
			"eligibleOnlineMeetingRels":        ucwa.Strings([]string{"myOnlineMeetings", "myAssignedOnlineMeeting"}),
			"entryExitAnnouncements":           ucwa.Strings([]string{"Disabled", "Enabled"}),
			"lobbyBypassForPhoneUsersSettings": ucwa.Strings([]string{"Disabled", "Enabled"})}},
		{"onlineMeetingPolicies", map[string]ucwa.Value{"entryExitAnnouncement": ucwa.String("Enabled"),
			"externalUserMeetingRecording": ucwa.String("Disabled"), "meetingRecording": ucwa.String("Enabled"),
			"meetingSize": ucwa.Int(54), "phoneUserAdmission": ucwa.String("Enabled"), "voipAudio": ucwa.String("None")}},
		{"onlineMeetingInvitationCustomization", map[string]ucwa.Value{"enterpriseHelpUrl": ucwa.String("http://meet.contoso.com/firstimehelp.html"),
			"invitationFooterText": ucwa.String("Footer & <more>"), "invitationHelpUrl": ucwa.String("http://meet.contoso.com/help"),
			"invitationLegalUrl": ucwa.String("http://meet.contoso.com/disclaimer.html"), "invitationLogoUrl": ucwa.String("http://meet.contoso.com/companylogo.png")}},
		{"phoneDialInInformation", map[string]ucwa.Value{"conferenceId": ucwa.String(str(t, s.get(t, link(t, d, "myAssignedOnlineMeeting")), "conferenceId")),
			"defaultRegion": ucwa.String("Redmond"), "externalDirectoryUri": ucwa.String("https://dial.contoso.com"),
			"internalDirectoryUri": ucwa.String("https://dial.contoso.com/int"), "isAudioConferenceProviderEnabled": ucwa.Bool(true),
			"participantPassCode": ucwa.String("1234"), "tollFreeNumbers": ucwa.Strings([]string{"tel:+18005550100"}),
			"tollNumber": ucwa.String("tel:+14255550100")}},
	} {
		res := s.get(t, link(t, d, tc.rel))
		if len(res.Props()) != len(tc.want) {
			t.Errorf("%s has %d properties, want %d", tc.rel, len(res.Props()), len(tc.want))
		}
		for name, v := range tc.want {
			wantProp(t, res, name, v)
		}
		// XML carries the same values as text.
		x := s.do(req{method: "GET", url: res.Href, header: map[string]string{"Accept": "application/xml"}}).wantStatus(t, 200).resource(t)
		for name, v := range tc.want {
			got, _ := x.Get(name)
			if v.Kind() == ucwa.KindStrings && len(v.StringsVal()) == 0 {
				continue
			}
			if got.Text() != v.Text() {
				t.Errorf("%s in XML: %s = %q, want %q", tc.rel, name, got.Text(), v.Text())
			}
		}
	}
	dialIn := s.get(t, link(t, d, "phoneDialInInformation"))
	regions := dialIn.FindEmbedded("dialInRegion")
	if len(regions) != 2 {
		t.Fatalf("%d dial-in regions embedded, want 2", len(regions))
	}
	for i, want := range []map[string]ucwa.Value{
		{"name": ucwa.String("Redmond"), "number": ucwa.String("tel:+14255550001"), "languages": ucwa.Strings([]string{"en-US", "fr-FR"})},
		{"name": ucwa.String("São Paulo/Centro"), "number": ucwa.String("tel:+551155550001"), "languages": ucwa.Strings(nil)},
	} {
		got := s.get(t, regions[i].Href)
		if d := diffResources(got, regions[i]); d != "" {
			t.Errorf("region %d: GET differs from the embedded one:\n%s", i, d)
		}
		for name, v := range want {
			wantProp(t, got, name, v)
		}
	}
	s.do(req{method: "GET", url: dialIn.Href + "/Atlantis"}).wantError(t, 404, ucwad.ENotFound, ucwad.SubResourceNotFound)
}

// TestMeetingJoinURL: by default a meeting's joinUrl leads to the
// server's own join page, at the address the organizer reached it at when
// scheduling; it is fixed then, whatever Host later requests use. The
// configured base overrides it, for meetings created from then on.
func TestMeetingJoinURL(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "join")
	m := s.schedule(t, "{}")
	id := str(t, m, "onlineMeetingId")
	want := ucwa.String(e.base + "/meet/alice/" + id)
	wantProp(t, m, "joinUrl", want)
	for _, host := range []string{"elsewhere.contoso.com", "lyncweb.contoso.com:4443"} {
		r := s.do(req{method: "GET", url: m.Href, header: map[string]string{"Host": host}}).wantStatus(t, http.StatusOK)
		wantProp(t, r.resource(t), "joinUrl", want)
	}
	// The assigned meeting's link is fixed when it is first asked for.
	d := s.dashboard(t)
	assigned := s.get(t, link(t, d, "myAssignedOnlineMeeting"))
	wantProp(t, assigned, "joinUrl", ucwa.String(e.base+"/meet/alice/"+str(t, assigned, "onlineMeetingId")))

	e = newEnv(t, func(c *httpapi.Config) { c.Meetings.JoinBaseURL = "https://lync.contoso.com/meet/" })
	s = e.signIn("alice", "join")
	m = s.schedule(t, "{}")
	wantProp(t, m, "joinUrl", ucwa.String("https://lync.contoso.com/meet/alice/"+str(t, m, "onlineMeetingId")))
}

// diffResources returns the differences between two resources (properties
// compared as values, links and embedded resources recursively), or "".
func diffResources(got, want *ucwa.Resource) string {
	var b strings.Builder
	diffResource(&b, "$", got, want)
	return b.String()
}

func diffResource(b *strings.Builder, path string, got, want *ucwa.Resource) {
	if got.Rel != want.Rel || got.Href != want.Href {
		fmt.Fprintf(b, "%s: got %s %s, want %s %s\n", path, got.Rel, got.Href, want.Rel, want.Href)
	}
	gp, wp := got.Props(), want.Props()
	if len(gp) != len(wp) {
		fmt.Fprintf(b, "%s: got %d properties, want %d\n", path, len(gp), len(wp))
	}
	for _, p := range wp {
		g, ok := got.Get(p.Name)
		if !ok || !g.Equal(p.Value) {
			fmt.Fprintf(b, "%s.%s: got %q (present %v), want %q\n", path, p.Name, g.Text(), ok, p.Value.Text())
		}
	}
	gl, wl := got.Links(), want.Links()
	if fmt.Sprint(gl) != fmt.Sprint(wl) {
		fmt.Fprintf(b, "%s links: got %v, want %v\n", path, gl, wl)
	}
	ge, we := got.Embedded(), want.Embedded()
	if len(ge) != len(we) {
		fmt.Fprintf(b, "%s: got %d embedded groups, want %d\n", path, len(ge), len(we))
		return
	}
	for i := range we {
		if ge[i].Rel != we[i].Rel || len(ge[i].Resources) != len(we[i].Resources) {
			fmt.Fprintf(b, "%s._embedded: got %s×%d, want %s×%d\n", path, ge[i].Rel, len(ge[i].Resources), we[i].Rel, len(we[i].Resources))
			continue
		}
		for j := range we[i].Resources {
			diffResource(b, fmt.Sprintf("%s._embedded.%s[%d]", path, we[i].Rel, j), ge[i].Resources[j], we[i].Resources[j])
		}
	}
}
