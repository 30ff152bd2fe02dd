package ucwa

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/ucwad/ucwad/ucwa/ucwatest"
)

func encodeEvents(t *testing.T, f Format, ev *EventBatch) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := EncodeEventBatch(&buf, f, ev); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeReason(t *testing.T, f Format, r *Reason) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := EncodeReason(&buf, f, r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var eventTests = []struct {
	name string
	ev   *EventBatch
}{
	{"events", sampleEvents()},
	{"events-empty", &EventBatch{Self: "/e?ack=5", Next: "/e?ack=6"}},
	{"events-resync", &EventBatch{Self: "/e?ack=99", Resync: "/e?ack=4"}},
}

func TestGoldenEvents(t *testing.T) {
	for _, tt := range eventTests {
		t.Run(tt.name, func(t *testing.T) {
			js := encodeEvents(t, JSON, tt.ev)
			if !json.Valid(js) {
				t.Errorf("invalid JSON: %s", js)
			}
			ucwatest.Golden(t, tt.name+".json", js)
			xs := encodeEvents(t, XML, tt.ev)
			ucwatest.ParseXML(t, xs) // well-formed
			ucwatest.Golden(t, tt.name+".xml", xs)
		})
	}
}

// TestEventsShape checks the JSON event skeleton of events.md §3 member by
// member, through encoding/json.
func TestEventsShape(t *testing.T) {
	const app = "/ucwa/oauth/v1/applications/102"
	ev := &EventBatch{Self: app + "/events?ack=2", Next: app + "/events?ack=3", Senders: []EventSender{
		{Rel: "communication", Href: app + "/communication", Events: []EventEntry{{
			Type:     "started",
			Link:     Link{Rel: "onlineMeetingInvitation", Href: app + "/communication/onlineMeetingInvitations/i1"},
			Embedded: New("onlineMeetingInvitation", app+"/communication/onlineMeetingInvitations/i1").Set("state", String("Connecting")).Set("operationId", String("123")),
		}}},
		{Rel: "conversation", Href: app + "/communication/conversations/137", Events: []EventEntry{{
			Type: "added",
			Link: Link{Rel: "onlineMeeting", Href: app + "/communication/conversations/137/onlineMeeting"},
			In:   &Link{Rel: "conversation", Href: app + "/communication/conversations/137"},
		}}},
	}}
	want := `{"_links":{"self":{"href":"` + app + `/events?ack=2"},"next":{"href":"` + app + `/events?ack=3"}},
	"sender":[
	 {"rel":"communication","href":"` + app + `/communication","events":[
	   {"link":{"rel":"onlineMeetingInvitation","href":"` + app + `/communication/onlineMeetingInvitations/i1"},
	    "_embedded":{"onlineMeetingInvitation":{"rel":"onlineMeetingInvitation","state":"Connecting","operationId":"123",
	       "_links":{"self":{"href":"` + app + `/communication/onlineMeetingInvitations/i1"}}}},
	    "type":"started"}]},
	 {"rel":"conversation","href":"` + app + `/communication/conversations/137","events":[
	   {"link":{"rel":"onlineMeeting","href":"` + app + `/communication/conversations/137/onlineMeeting"},
	    "in":{"rel":"conversation","href":"` + app + `/communication/conversations/137"},"type":"added"}]}]}`
	compareJSON(t, encodeEvents(t, JSON, ev), []byte(want))

	// The real completed event of SendAnIM.md.
	done := &EventBatch{Self: "/e?ack=1", Next: "/e?ack=2", Senders: []EventSender{{Rel: "communication", Href: "/c", Events: []EventEntry{{
		Type: "completed", Status: "Success",
		Link:     Link{Rel: "messagingInvitation", Href: "/c/messagingInvitations/60c"},
		Embedded: New("messagingInvitation", "/c/messagingInvitations/60c").Set("state", String("Connected")),
	}}}}}
	wantDone := `{"_links":{"self":{"href":"/e?ack=1"},"next":{"href":"/e?ack=2"}},"sender":[{"rel":"communication","href":"/c","events":[
	  {"link":{"rel":"messagingInvitation","href":"/c/messagingInvitations/60c"},"status":"Success",
	   "_embedded":{"messagingInvitation":{"rel":"messagingInvitation","state":"Connected","_links":{"self":{"href":"/c/messagingInvitations/60c"}}}},
	   "type":"completed"}]}]}`
	compareJSON(t, encodeEvents(t, JSON, done), []byte(wantDone))
}

// TestEmptyEventsCarrySender checks that an answer without events (a P-GET
// that timed out, a resync) still has "sender" as an empty array: clients
// index it without checking.
func TestEmptyEventsCarrySender(t *testing.T) {
	for _, ev := range []*EventBatch{{Self: "/e?ack=5", Next: "/e?ack=6"}, {Self: "/e?ack=99", Resync: "/e?ack=4"}} {
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(encodeEvents(t, JSON, ev), &doc); err != nil {
			t.Fatal(err)
		}
		var senders []json.RawMessage
		if err := json.Unmarshal(doc["sender"], &senders); err != nil || senders == nil || len(senders) != 0 {
			t.Errorf("sender of %+v is %s, want []", ev, doc["sender"])
		}
	}
}

// TestEventsXMLShape compares with the XML form shown in events.md §3.
func TestEventsXMLShape(t *testing.T) {
	const app = "/ucwa/oauth/v1/applications/102"
	ev := &EventBatch{Self: app + "/events?ack=1", Next: app + "/events?ack=2", Senders: []EventSender{
		{Rel: "communication", Href: app + "/communication", Events: []EventEntry{{
			Type: "updated", Link: Link{Rel: "communication", Href: app + "/communication"},
			Embedded: New("communication", app+"/communication"),
		}}},
		{Rel: "me", Href: app + "/me", Events: []EventEntry{
			{Type: "updated", Link: Link{Rel: "me", Href: app + "/me"}},
			{Type: "added", Link: Link{Rel: "presence", Href: app + "/me/presence"}},
		}},
	}}
	want := `<events href="` + app + `/events?ack=1" xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">
  <link rel="next" href="` + app + `/events?ack=2" />
  <sender rel="communication" href="` + app + `/communication">
    <updated rel="communication" href="` + app + `/communication">
      <resource rel="communication" href="` + app + `/communication"><property name="rel">communication</property></resource>
    </updated>
  </sender>
  <sender rel="me" href="` + app + `/me">
    <updated rel="me" href="` + app + `/me" />
    <added rel="presence" href="` + app + `/me/presence" />
  </sender>
</events>`
	compareXML(t, encodeEvents(t, XML, ev), []byte(want))
}

func TestRoundTripEvents(t *testing.T) {
	for _, tt := range eventTests {
		for _, f := range []Format{JSON, XML} {
			t.Run(tt.name+"/"+f.String(), func(t *testing.T) {
				got, err := DecodeEventBatch(bytes.NewReader(encodeEvents(t, f, tt.ev)), f)
				if err != nil {
					t.Fatal(err)
				}
				want := tt.ev
				if f == XML {
					want = xmlEventsView(want)
				}
				diffEvents(t, got, want)
			})
		}
	}
}

// xmlEventsView is what DecodeEventBatch(XML) gives back: embedded resources
// with string values.
func xmlEventsView(ev *EventBatch) *EventBatch {
	out := *ev
	out.Senders = nil
	for _, s := range ev.Senders {
		s2 := EventSender{Rel: s.Rel, Href: s.Href}
		for _, e := range s.Events {
			if e.Embedded != nil {
				e.Embedded = asXMLDecodes(e.Embedded)
			}
			s2.Events = append(s2.Events, e)
		}
		out.Senders = append(out.Senders, s2)
	}
	return &out
}

func diffEvents(t *testing.T, got, want *EventBatch) {
	t.Helper()
	if got.Self != want.Self || got.Next != want.Next || got.Resync != want.Resync {
		t.Errorf("links: got %q %q %q, want %q %q %q", got.Self, got.Next, got.Resync, want.Self, want.Next, want.Resync)
	}
	if len(got.Senders) != len(want.Senders) {
		t.Fatalf("got %d senders, want %d", len(got.Senders), len(want.Senders))
	}
	for i, ws := range want.Senders {
		gs := got.Senders[i]
		if gs.Rel != ws.Rel || gs.Href != ws.Href || len(gs.Events) != len(ws.Events) {
			t.Errorf("sender %d: got %q %q with %d events, want %q %q with %d", i, gs.Rel, gs.Href, len(gs.Events), ws.Rel, ws.Href, len(ws.Events))
			continue
		}
		for j, we := range ws.Events {
			ge := gs.Events[j]
			if ge.Type != we.Type || ge.Link != we.Link || ge.Status != we.Status ||
				!reflect.DeepEqual(ge.In, we.In) || !reflect.DeepEqual(ge.Reason, we.Reason) {
				t.Errorf("sender %d event %d:\ngot  %+v\nwant %+v", i, j, ge, we)
			}
			if (ge.Embedded == nil) != (we.Embedded == nil) {
				t.Errorf("sender %d event %d: got embedded %v, want %v", i, j, ge.Embedded, we.Embedded)
			} else if we.Embedded != nil {
				if d := diffResources(ge.Embedded, we.Embedded); d != "" {
					t.Errorf("sender %d event %d embedded:\n%s", i, j, d)
				}
			}
		}
	}
}

var reasonTests = []struct {
	name string
	r    *Reason
}{
	{"reason", &Reason{Code: "Conflict", Subcode: "AlreadyExists", Message: "The requested resource already exists. Please wait and try again."}},
	{"reason-code-only", &Reason{Code: "ServiceFailure"}},
	{"reason-parameters", &Reason{Code: "BadRequest", Subcode: "ParameterValidationFailure", Message: "Please check what you entered & try again.",
		Parameters: []Parameter{{Name: "subject", Value: "too long"}, {Name: "expirationTime", Value: "not a <date>"}}}},
}

func TestGoldenReasons(t *testing.T) {
	for _, tt := range reasonTests {
		t.Run(tt.name, func(t *testing.T) {
			ucwatest.Golden(t, tt.name+".json", encodeReason(t, JSON, tt.r))
			ucwatest.Golden(t, tt.name+".xml", encodeReason(t, XML, tt.r))
		})
	}
}

// TestReasonShape compares with the error bodies of format.md §6.1.
func TestReasonShape(t *testing.T) {
	r := &Reason{Code: "Conflict", Subcode: "AlreadyExists", Message: "The requested resource already exists. Please wait and try again."}
	compareJSON(t, encodeReason(t, JSON, r), []byte(`{ "code": "Conflict", "subcode": "AlreadyExists", "message": "The requested resource already exists. Please wait and try again." }`))
	compareXML(t, encodeReason(t, XML, r), []byte(`<?xml version="1.0" encoding="utf-8"?>
<reason xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa">
  <code>Conflict</code><subcode>AlreadyExists</subcode><message>The requested resource already exists. Please wait and try again.</message></reason>`))
}

func TestRoundTripReason(t *testing.T) {
	for _, tt := range reasonTests {
		for _, f := range []Format{JSON, XML} {
			t.Run(tt.name+"/"+f.String(), func(t *testing.T) {
				got, err := DecodeReason(bytes.NewReader(encodeReason(t, f, tt.r)), f)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, tt.r) {
					t.Errorf("got %+v, want %+v", got, tt.r)
				}
			})
		}
	}
}

func TestDecodeReasonForeign(t *testing.T) {
	// debugInfo and link are skipped; a real server's empty elements read as empty.
	x := `<?xml version="1.0" encoding="utf-8"?><reason xmlns="` + Namespace + `"><code>Conflict</code><subcode>AlreadyExists</subcode>` +
		`<message>m</message><debugInfo><property name="x">y</property></debugInfo><parameters /></reason>`
	got, err := DecodeReason(strings.NewReader(x), XML)
	if err != nil {
		t.Fatal(err)
	}
	if want := (&Reason{Code: "Conflict", Subcode: "AlreadyExists", Message: "m"}); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	got, err = DecodeReason(strings.NewReader(`{"code":"BadRequest","parameters":{"n":1,"b":true},"debugInfo":{"a":"b"}}`), JSON)
	if err != nil {
		t.Fatal(err)
	}
	if want := (&Reason{Code: "BadRequest", Parameters: []Parameter{{"n", "1"}, {"b", "true"}}}); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for _, bad := range []struct {
		f  Format
		in string
	}{{JSON, `"x"`}, {XML, `<resource/>`}, {XML, `<reason><code>x</reason>`}} {
		if _, err := DecodeReason(strings.NewReader(bad.in), bad.f); err == nil {
			t.Errorf("DecodeReason(%q): got nil error", bad.in)
		}
	}
}

func TestDecodeEventBatchForeign(t *testing.T) {
	// Absolute hrefs, a resume link and _embedded under another key, as
	// other servers may send.
	in := `{"_links":{"self":{"href":"https://fe1/e?ack=1"},"resume":{"href":"https://fe1/e?ack=2"}},
	  "sender":[{"rel":"me","href":"/me","events":[{"link":{"rel":"presence","href":"/p"},"type":"updated",
	  "_embedded":{"other":{"rel":"presence","availability":"Online"}}}]},"junk"]}`
	got, err := DecodeEventBatch(strings.NewReader(in), JSON)
	if err != nil {
		t.Fatal(err)
	}
	want := &EventBatch{Self: "https://fe1/e?ack=1", Senders: []EventSender{{Rel: "me", Href: "/me", Events: []EventEntry{{
		Type: "updated", Link: Link{Rel: "presence", Href: "/p"},
		Embedded: New("presence", "").Set("availability", String("Online")),
	}}}}}
	diffEvents(t, got, want)

	for _, bad := range []struct {
		f  Format
		in string
	}{{JSON, `[]`}, {XML, `<resource/>`}, {XML, `<events><sender><added>`}, {Format(3), `{}`}} {
		if _, err := DecodeEventBatch(strings.NewReader(bad.in), bad.f); err == nil {
			t.Errorf("DecodeEventBatch(%q): got nil error", bad.in)
		}
	}
}
