package httpapi_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ucwad/ucwad/httpapi"
	"github.com/ucwad/ucwad/ucwa"
)

// rebase returns res as the application at href to sees it: the same
// resource with the hrefs of the application at from moved under to.
func rebase(t *testing.T, res *ucwa.Resource, from, to string) *ucwa.Resource {
	t.Helper()
	b, err := ucwa.Marshal(ucwa.JSON, res)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ucwa.Decode(bytes.NewReader(bytes.ReplaceAll(b, []byte(from+"/"), []byte(to+"/"))), ucwa.JSON)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// nextEvents reads the next batch of the session's event channel (it
// answers at once, events being pending) and returns its events, all of
// which must come from the onlineMeetings sender.
func (s *session) nextEvents(t *testing.T, ack *string, accept string) []ucwa.EventEntry {
	t.Helper()
	r := s.do(req{method: "GET", url: *ack, header: map[string]string{"Accept": accept}}).wantStatus(t, http.StatusOK)
	ev := r.events(t)
	if ev.Next == "" {
		t.Fatalf("event batch without next: %s", r.body)
	}
	*ack = ev.Next
	var out []ucwa.EventEntry
	for _, snd := range ev.Senders {
		if snd.Rel != "onlineMeetings" || snd.Href != s.app.Href+"/onlineMeetings" {
			t.Errorf("sender %s %s, want onlineMeetings of %s", snd.Rel, snd.Href, s.app.Href)
		}
		out = append(out, snd.Events...)
	}
	return out
}

// wantEvent checks one event: type, link, in, and the embedded resource
// (nil: none).
func wantEvent(t *testing.T, got ucwa.EventEntry, typ string, link ucwa.Link, in *ucwa.Link, embedded *ucwa.Resource) {
	t.Helper()
	what := fmt.Sprintf("%s %s", typ, link.Rel)
	if got.Type != typ || got.Link.Rel != link.Rel || got.Link.Href != link.Href {
		t.Errorf("%s: got event %s %s %s, want link %s", what, got.Type, got.Link.Rel, got.Link.Href, link.Href)
	}
	if (got.In == nil) != (in == nil) || in != nil && (got.In.Rel != in.Rel || got.In.Href != in.Href) {
		t.Errorf("%s: in %+v, want %+v", what, got.In, in)
	}
	switch {
	case embedded == nil && got.Embedded != nil:
		t.Errorf("%s: embeds %s, want nothing", what, got.Embedded.Rel)
	case embedded != nil && got.Embedded == nil:
		t.Errorf("%s: embeds nothing", what)
	case embedded != nil:
		if d := diffResources(got.Embedded, embedded); d != "" {
			t.Errorf("%s: embedded resource:\n%s", what, d)
		}
	}
}

// TestMeetingEvents: changes one application makes reach another
// application of the same user, each event rendered with the receiving
// application's hrefs and, on added and updated, the resource as its GET
// would show it at that moment.
func TestMeetingEvents(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) { c.Meetings.ExpiryGrace = time.Minute })
	app1 := e.signIn("alice", "ev-1")
	app2 := e.signIn("alice", "ev-2")
	ack := link(t, app2.app, "events")
	see := func(res *ucwa.Resource) *ucwa.Resource { return rebase(t, res, app1.app.Href, app2.app.Href) }
	moved := func(href string) string { return strings.Replace(href, app1.app.Href, app2.app.Href, 1) }

	m := app1.schedule(t, `{"subject":"first"}`)
	mPut := app1.put(m.Href, str(t, m, "etag"), putBody(t, m, map[string]any{"subject": "second"})).wantStatus(t, 200).resource(t)
	x := app1.addExtension(t, m, `{"id":"a/b","type":"RoamedParticipantData","color":"blue"}`)
	xPut := app1.put(x.Href, str(t, x, "etag"), putBody(t, x, map[string]any{"color": "red"})).wantStatus(t, 200).resource(t)

	meetingLink := ucwa.Link{Rel: "myOnlineMeeting", Href: moved(m.Href)}
	extLink := ucwa.Link{Rel: "onlineMeetingExtension", Href: moved(x.Href)}
	extsLink := &ucwa.Link{Rel: "onlineMeetingExtensions", Href: moved(link(t, m, "onlineMeetingExtensions"))}
	evs := app2.nextEvents(t, &ack, "application/json")
	if len(evs) != 4 {
		t.Fatalf("%d events, want 4: %+v", len(evs), evs)
	}
	wantEvent(t, evs[0], "added", meetingLink, nil, see(m))
	wantEvent(t, evs[1], "updated", meetingLink, nil, see(mPut))
	wantEvent(t, evs[2], "added", extLink, extsLink, see(x))
	wantEvent(t, evs[3], "updated", extLink, extsLink, see(xPut))
	// What the events embed is what the receiving application GETs.
	if d := diffResources(evs[3].Embedded, app2.get(t, extLink.Href)); d != "" {
		t.Errorf("the updated extension differs from app2's GET:\n%s", d)
	}

	app1.do(req{method: "DELETE", url: x.Href}).wantStatus(t, http.StatusNoContent)
	app1.do(req{method: "DELETE", url: m.Href}).wantStatus(t, http.StatusNoContent)
	evs = app2.nextEvents(t, &ack, "application/json")
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2: %+v", len(evs), evs)
	}
	wantEvent(t, evs[0], "deleted", extLink, extsLink, nil)
	wantEvent(t, evs[1], "deleted", meetingLink, nil, nil)

	// The sweep's deletions are events too; XML carries the same.
	soon := app1.schedule(t, fmt.Sprintf(`{"expirationTime":"\/Date(%d)\/"}`, t0.Add(time.Minute).UnixMilli()))
	e.clock.Advance(5 * time.Minute)
	if err := e.api.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	evs = app2.nextEvents(t, &ack, "application/vnd.microsoft.com.ucwa+xml")
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2: %+v", len(evs), evs)
	}
	soonLink := ucwa.Link{Rel: "myOnlineMeeting", Href: moved(soon.Href)}
	if evs[0].Type != "added" || evs[0].Link != soonLink || evs[0].Embedded == nil || evs[0].Embedded.Href != soonLink.Href {
		t.Errorf("XML added event %+v", evs[0])
	}
	wantEvent(t, evs[1], "deleted", soonLink, nil, nil)
}
