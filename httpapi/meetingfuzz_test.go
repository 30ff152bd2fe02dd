package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/clock"
	"github.com/ucwad/ucwad/httpapi"
	"github.com/ucwad/ucwad/sqlite"
	"github.com/ucwad/ucwad/ucwa"
)

// fuzzServer is a handler with a signed-in user, an application and a
// meeting, driven without a network.
type fuzzServer struct {
	handler  http.Handler
	token    string
	meetings string // myOnlineMeetings
	exts     string // one meeting's onlineMeetingExtensions
}

func newFuzzServer(f *testing.F) *fuzzServer {
	ctx := context.Background()
	clk := clock.NewFake(t0)
	db, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "fuzz.db"), sqlite.Options{Clock: clk})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	hasher := auth.NewHasher(auth.TestParams, 2)
	h, _ := hasher.Hash(ctx, "secret-alice")
	if err := db.CreateUser(ctx, &ucwad.User{SIP: "alice@contoso.com", PasswordHash: h}); err != nil {
		f.Fatal(err)
	}
	api := httpapi.New(httpapi.Config{MaxBodyBytes: 8192}, httpapi.Deps{Store: db, Hasher: hasher, Clock: clk})
	s := &fuzzServer{handler: api.Handler()}
	form := url.Values{"grant_type": {"password"}, "username": {"alice@contoso.com"}, "password": {"secret-alice"}}
	w := s.do("POST", "/WebTicket/oauthtoken", "application/x-www-form-urlencoded", "", form.Encode())
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &tok); err != nil || w.Code != http.StatusOK {
		f.Fatalf("token: %d %s %v", w.Code, w.Body, err)
	}
	s.token = tok.AccessToken
	app := s.resource(f, s.do("POST", "/ucwa/oauth/v1/applications", "application/json", "", `{"userAgent":"fuzz","endpointId":"f","culture":"en-US"}`))
	l, _ := app.FindEmbedded("onlineMeetings")[0].FindLink("myOnlineMeetings")
	s.meetings = l.Href
	m := s.resource(f, s.do("POST", s.meetings, "application/json", "", "{}"))
	l, _ = m.FindLink("onlineMeetingExtensions")
	s.exts = l.Href
	return s
}

func (s *fuzzServer) do(method, target, contentType, ifMatch, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Set("Accept", "application/json")
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if s.token != "" {
		r.Header.Set("Authorization", "Bearer "+s.token)
	}
	if ifMatch != "" {
		r.Header.Set("If-Match", ifMatch)
	}
	w := httptest.NewRecorder()
	s.handler.ServeHTTP(w, r)
	return w
}

func (s *fuzzServer) resource(tb testing.TB, w *httptest.ResponseRecorder) *ucwa.Resource {
	tb.Helper()
	res, err := ucwa.Decode(bytes.NewReader(w.Body.Bytes()), ucwa.JSON)
	if err != nil || w.Code >= 300 {
		tb.Fatalf("status %d body %q: %v", w.Code, w.Body, err)
	}
	return res
}

// FuzzMeetingInput posts arbitrary bodies as new meetings and new
// extensions. Nothing may fail with 500; whatever is accepted must read
// back as it was answered, and survive a GET→PUT round trip unchanged.
func FuzzMeetingInput(f *testing.F) {
	f.Add("application/json", readSeed(f, "extension-input.json"))
	f.Add("application/xml", readSeed(f, "extension-input.xml"))
	f.Add("application/json", `{"id":"a/b%c","type":"roamedorganizerdata","k":"v","n":1,"l":["x"],"z":null}`)
	f.Add("application/json", `{"subject":"s","accessLevel":"Locked","attendees":["bob@contoso.com"],"expirationTime":"\/Date(1772384400000)\/"}`)
	f.Add("application/xml", `<input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa"><property name="ETAG">x</property><property name="">y</property></input>`)
	f.Add("application/json", `{"id":"\u0000","type":"Undefined"}`)
	f.Add("application/json", `{"id":"h","Self":"/x","PGuid":"y","ETag":"1","n\u0085":"v","k\ud800":"v"}`)
	f.Add("text/plain", `{}`)
	s := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, contentType, body string) {
		for _, target := range []string{s.exts, s.meetings} {
			w := s.do("POST", target, contentType, "", body)
			switch w.Code {
			case http.StatusCreated:
			case http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
				continue
			default:
				t.Fatalf("POST %s %q %q: status %d %s", target, contentType, body, w.Code, w.Body)
			}
			created := s.resource(t, w)
			got := s.resource(t, s.do("GET", created.Href, "", "", ""))
			if d := diffResources(got, created); d != "" {
				t.Fatalf("GET differs from the POST answer for %q:\n%s", body, d)
			}
			etag := str(t, got, "etag")
			put := s.do("PUT", got.Href, "application/json", etag, putBody(t, got, nil))
			if put.Code != http.StatusOK {
				t.Fatalf("PUT of the GET body of %q: status %d %s", body, put.Code, put.Body)
			}
			after := s.resource(t, put)
			after.Set("etag", ucwa.String(etag))
			if d := diffResources(after, got); d != "" {
				t.Fatalf("a GET→PUT round trip changed %q:\n%s", body, d)
			}
			if w := s.do("DELETE", got.Href, "", "", ""); w.Code != http.StatusNoContent {
				t.Fatalf("DELETE %s: status %d", got.Href, w.Code)
			}
		}
	})
}
