package httpapi_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ucwad/ucwad/ucwa"
	"github.com/ucwad/ucwad/ucwa/ucwatest"
)

// TestMeetingRepresentations pins every meeting resource, in JSON and XML,
// with what is random in it (ids, ETags, sentinel names) replaced by names.
func TestMeetingRepresentations(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "golden")
	m := s.schedule(t, `{"subject":"Quarterly sales numbers","description":"Q3 <draft> & \"plans\"","accessLevel":"Invited",
		"attendees":["sip:johndoe@contoso.com"],"leaders":["sip:aikc@contoso.com"],"expirationTime":"2026-03-01T17:00:00Z"}`)
	x := s.addExtension(t, m, `{"id":"917823","type":"RoamedParticipantData","color":"blue"}`)
	m = s.get(t, m.Href)
	d := s.dashboard(t)
	assigned := s.get(t, link(t, d, "myAssignedOnlineMeeting"))

	// Every random value, by what it is.
	names := []string{s.app.Href[strings.LastIndex(s.app.Href, "/")+1:], "APP"}
	for _, r := range []struct {
		res  *ucwa.Resource
		name string
	}{{m, "MEETING"}, {assigned, "ASSIGNED"}, {x, "EXTENSION"}} {
		names = append(names, str(t, r.res, "etag"), r.name+"-ETAG", sentinel(t, r.res), r.name+"-SENTINEL")
		if r.res != x {
			names = append(names, str(t, r.res, "onlineMeetingId"), r.name+"-ID", str(t, r.res, "conferenceId"), r.name+"-CONFERENCE")
		}
	}
	// The server's address, which the joinUrl starts with.
	names = append(names, e.base, "BASE")
	normalize := strings.NewReplacer(names...)
	conversationID := regexp.MustCompile(`conversation-id=[0-9a-f-]{36}`)

	for _, tc := range []struct{ name, href string }{
		{"myOnlineMeeting", m.Href},
		{"myOnlineMeetings", link(t, d, "myOnlineMeetings")},
		{"onlineMeetingExtension", x.Href},
		{"onlineMeetingExtensions", link(t, m, "onlineMeetingExtensions")},
		{"onlineMeetings", d.Href},
		{"onlineMeetingDefaultValues", link(t, d, "onlineMeetingDefaultValues")},
		{"onlineMeetingEligibleValues", link(t, d, "onlineMeetingEligibleValues")},
		{"onlineMeetingPolicies", link(t, d, "onlineMeetingPolicies")},
		{"onlineMeetingInvitationCustomization", link(t, d, "onlineMeetingInvitationCustomization")},
		{"phoneDialInInformation", link(t, d, "phoneDialInInformation")},
	} {
		for _, f := range []struct{ ext, accept string }{{"json", "application/json"}, {"xml", "application/xml"}} {
			r := s.do(req{method: "GET", url: tc.href, header: map[string]string{"Accept": f.accept}}).wantStatus(t, 200)
			body := conversationID.ReplaceAll([]byte(normalize.Replace(string(r.body))), []byte("conversation-id=GUID"))
			ucwatest.Golden(t, tc.name+"."+f.ext, body)
		}
	}
}
