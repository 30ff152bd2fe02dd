package ucwa

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ucwad/ucwad/ucwa/ucwatest"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// diffResources returns the differences between two resources, one per
// line, or "" when they are the same.
func diffResources(got, want *Resource) string {
	var b strings.Builder
	diffResource(&b, "$", got, want)
	return b.String()
}

func diffResource(b *strings.Builder, path string, got, want *Resource) {
	if got == nil || want == nil {
		if got != want {
			fmt.Fprintf(b, "%s: got %v, want %v\n", path, got, want)
		}
		return
	}
	if got.Rel != want.Rel {
		fmt.Fprintf(b, "%s.rel: got %q, want %q\n", path, got.Rel, want.Rel)
	}
	if got.Href != want.Href {
		fmt.Fprintf(b, "%s.href: got %q, want %q\n", path, got.Href, want.Href)
	}
	gp, wp := got.Props(), want.Props()
	if len(gp) != len(wp) {
		fmt.Fprintf(b, "%s: got %d properties %v, want %d %v\n", path, len(gp), propNames(gp), len(wp), propNames(wp))
	} else {
		for i := range gp {
			if gp[i].Name != wp[i].Name || !gp[i].Value.Equal(wp[i].Value) {
				fmt.Fprintf(b, "%s property %d: got %s, want %s\n", path, i, showProp(gp[i]), showProp(wp[i]))
			}
		}
	}
	if gl, wl := got.Links(), want.Links(); !reflect.DeepEqual(gl, wl) {
		fmt.Fprintf(b, "%s links:\ngot  %+v\nwant %+v\n", path, gl, wl)
	}
	ge, we := got.Embedded(), want.Embedded()
	if len(ge) != len(we) {
		fmt.Fprintf(b, "%s: got %d embed groups, want %d\n", path, len(ge), len(we))
		return
	}
	for i := range ge {
		p := path + "._embedded." + we[i].Rel
		if ge[i].Rel != we[i].Rel || ge[i].Array != we[i].Array || len(ge[i].Resources) != len(we[i].Resources) {
			fmt.Fprintf(b, "%s: got group %q array=%v len=%d, want %q array=%v len=%d\n", p,
				ge[i].Rel, ge[i].Array, len(ge[i].Resources), we[i].Rel, we[i].Array, len(we[i].Resources))
			continue
		}
		for j := range ge[i].Resources {
			diffResource(b, fmt.Sprintf("%s[%d]", p, j), ge[i].Resources[j], we[i].Resources[j])
		}
	}
}

func propNames(ps []Property) []string {
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	return names
}

func showProp(p Property) string {
	if p.Value.Kind() == KindStrings {
		return fmt.Sprintf("%s=%q(%v)", p.Name, p.Value.StringsVal(), p.Value.Kind())
	}
	return fmt.Sprintf("%s=%q(%v)", p.Name, p.Value.Text(), p.Value.Kind())
}

// asXMLDecodes returns what Decode(XML) gives back for r: scalar values
// become strings, and one-element arrays single-valued.
func asXMLDecodes(r *Resource) *Resource {
	out := New(r.Rel, r.Href)
	for _, p := range r.Props() {
		if p.Value.Kind() == KindStrings {
			out.Set(p.Name, p.Value)
		} else {
			out.Set(p.Name, String(p.Value.Text()))
		}
	}
	for _, g := range r.Links() {
		if len(g.Links) == 1 {
			out.AddLink(g.Links[0])
		} else if len(g.Links) > 1 {
			out.LinkArray(g.Rel, g.Links)
		}
	}
	for _, g := range r.Embedded() {
		var es []*Resource
		for _, e := range g.Resources {
			es = append(es, asXMLDecodes(e))
		}
		switch {
		case len(es) == 1:
			out.Embed(g.Rel, es[0])
		case len(es) > 1:
			out.EmbedArray(g.Rel, es)
		}
	}
	return out
}

// ---- generic trees for structural comparison with the documentation ----

// compareJSON decodes both documents with encoding/json into generic values
// and reports differences in member names, nesting, value types and values.
func compareJSON(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("our output is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("reference is not JSON: %v", err)
	}
	var diffs []string
	diffJSON(&diffs, "$", g, w)
	for _, d := range diffs {
		t.Error(d)
	}
}

func diffJSON(diffs *[]string, path string, got, want any) {
	if reflect.TypeOf(got) != reflect.TypeOf(want) {
		*diffs = append(*diffs, fmt.Sprintf("%s: got %T %v, want %T %v", path, got, got, want, want))
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(w)) {
			if _, ok := g[k]; !ok {
				*diffs = append(*diffs, fmt.Sprintf("%s: missing member %q", path, k))
				continue
			}
			diffJSON(diffs, path+"."+k, g[k], w[k])
		}
		for _, k := range slices.Sorted(maps.Keys(g)) {
			if _, ok := w[k]; !ok {
				*diffs = append(*diffs, fmt.Sprintf("%s: unexpected member %q", path, k))
			}
		}
	case []any:
		g := got.([]any)
		if len(g) != len(w) {
			*diffs = append(*diffs, fmt.Sprintf("%s: got %d elements, want %d", path, len(g), len(w)))
			return
		}
		for i := range w {
			diffJSON(diffs, fmt.Sprintf("%s[%d]", path, i), g[i], w[i])
		}
	default:
		if got != want {
			*diffs = append(*diffs, fmt.Sprintf("%s: got %v, want %v", path, got, want))
		}
	}
}

func compareXML(t *testing.T, got, want []byte) {
	t.Helper()
	var diffs []string
	diffXML(&diffs, "", ucwatest.ParseXML(t, got), ucwatest.ParseXML(t, want))
	for _, d := range diffs {
		t.Error(d)
	}
}

func diffXML(diffs *[]string, path string, got, want *ucwatest.Element) {
	path += "/" + want.Name.Local
	if got.Name != want.Name {
		*diffs = append(*diffs, fmt.Sprintf("%s: got element %v, want %v", path, got.Name, want.Name))
		return
	}
	if !reflect.DeepEqual(got.Attrs, want.Attrs) {
		*diffs = append(*diffs, fmt.Sprintf("%s: got attributes %v, want %v", path, got.Attrs, want.Attrs))
	}
	if got.Text != want.Text {
		*diffs = append(*diffs, fmt.Sprintf("%s: got text %q, want %q", path, got.Text, want.Text))
	}
	if len(got.Children) != len(want.Children) {
		*diffs = append(*diffs, fmt.Sprintf("%s: got %d children, want %d", path, len(got.Children), len(want.Children)))
		return
	}
	for i := range want.Children {
		diffXML(diffs, fmt.Sprintf("%s[%d]", path, i), got.Children[i], want.Children[i])
	}
}

// ---- fixtures ----

const extensionsHref = "/ucwa/v1/applications/192/onlineMeetings/myOnlineMeetings/943/onlineMeetingExtensions"

// seedExtension is the onlineMeetingExtension of the reference page (the
// POST answer, also embedded in the collection).
func seedExtension() *Resource {
	return New("onlineMeetingExtension", extensionsHref+"/onlineMeetingExtension").
		Set("id", String("917823")).
		Set("type", String("RoamedParticipantData"))
}

// seedExtensions is the onlineMeetingExtensions collection of the
// reference page's GET example.
func seedExtensions() *Resource {
	return New("onlineMeetingExtensions", extensionsHref).
		EmbedArray("onlineMeetingExtension", []*Resource{seedExtension()})
}

var meetingTime = time.Date(2016, 9, 26, 23, 20, 29, 4_000_000, time.UTC)

// meeting is a myOnlineMeeting of realistic size with n embedded
// extensions, using every value kind, link form and escaping need.
func meeting(n int) *Resource {
	const base = "/ucwa/oauth/v1/applications/103/onlineMeetings/myOnlineMeetings/PYC58WSY"
	exts := make([]*Resource, n)
	for i := range exts {
		exts[i] = New("onlineMeetingExtension", fmt.Sprintf("%s/extensions/%d", base, i)).
			Set("id", String(fmt.Sprint(917823+i))).
			Set("type", String("RoamedParticipantData"))
	}
	return New("myOnlineMeeting", base).
		Set("accessLevel", String("SameEnterprise")).
		Set("attendees", Strings([]string{"sip:alice@contoso.com", "sip:bob@contoso.com"})).
		Set("automaticLeaderAssignment", String("SameEnterprise")).
		Set("conferenceId", String("8123456")).
		Set("description", String("Q3 numbers <draft> & \"plans\"\nsecond line")).
		Set("entryExitAnnouncement", String("Disabled")).
		Set("expirationTime", Date(meetingTime)).
		Set("isActive", Bool(true)).
		Set("joinUrl", String("https://meet.contoso.com/alice/PYC58WSY")).
		Set("leaders", Strings(nil)).
		Set("lobbyBypassForPhoneUsers", String("Disabled")).
		Set("onlineMeetingId", String("PYC58WSY")).
		Set("onlineMeetingRel", String("myOnlineMeetings")).
		Set("onlineMeetingUri", String("sip:alice@contoso.com;gruu;opaque=app:conf:focus:id:PYC58WSY")).
		Set("organizerUri", String("sip:alice@contoso.com")).
		Set("phoneUserAdmission", String("Enabled")).
		Set("subject", String("Quarterly review — ünïcode")).
		Set("participantsWarningThreshold", Int(250)).
		Set("largeMeeting", Bool(false)).
		Set("etag", String("3109609770")).
		Set("56de7bbf-1081-43e6-bbf2-1cabf3224c83", String(PutSentinel)).
		AddLink(Link{Rel: "organizer", Href: base + "/organizer", Title: "Alice Example"}).
		AddLink(Link{Rel: "onlineMeetingExtensions", Href: base + "/extensions", Revision: "2"}).
		LinkArray("participant", []Link{{Href: base + "/participants/1", Title: "Bob"}}).
		LinkArray("attendee", nil).
		EmbedArray("onlineMeetingExtension", exts).
		Embed("from", New("participant", base+"/participants/alice@contoso.com").
			Set("name", String("Alice")).
			AddLink(Link{Rel: "contact", Href: "/ucwa/oauth/v1/applications/103/people/alice@contoso.com"}))
}

func sampleEvents() *EventBatch {
	const app = "/ucwa/oauth/v1/applications/102"
	inv := New("onlineMeetingInvitation", app+"/communication/onlineMeetingInvitations/i1").
		Set("state", String("Connecting")).
		Set("operationId", String("123")).
		Link("conversation", app+"/communication/conversations/137")
	return &EventBatch{
		Self: app + "/events?ack=2",
		Next: app + "/events?ack=3",
		Senders: []EventSender{
			{Rel: "communication", Href: app + "/communication", Events: []EventEntry{
				{Type: "started", Link: Link{Rel: "onlineMeetingInvitation", Href: inv.Href}, Embedded: inv},
				{Type: "completed", Link: Link{Rel: "onlineMeetingInvitation", Href: inv.Href}, Status: "Failure",
					Reason: &Reason{Code: "Forbidden", Subcode: "Denied", Message: "The leader <rejected> you & left"}},
			}},
			{Rel: "conversation", Href: app + "/communication/conversations/137", Events: []EventEntry{
				{Type: "added", Link: Link{Rel: "onlineMeeting", Href: app + "/communication/conversations/137/onlineMeeting"},
					In: &Link{Rel: "conversation", Href: app + "/communication/conversations/137"}},
				{Type: "added", Link: Link{Rel: "participant", Href: app + "/communication/conversations/137/participants/bob", Title: "Bob"},
					In: &Link{Rel: "lobby", Href: app + "/communication/conversations/137/lobby"}},
				{Type: "completed", Link: Link{Rel: "messagingInvitation", Href: app + "/communication/messagingInvitations/60c"}, Status: "Success"},
				{Type: "deleted", Link: Link{Rel: "participant", Href: app + "/communication/conversations/137/participants/carol"}},
			}},
			{Rel: "me", Href: app + "/me", Events: []EventEntry{}},
		},
	}
}
