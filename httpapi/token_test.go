package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/clock"
	"github.com/ucwad/ucwad/httpapi"
	"github.com/ucwad/ucwad/sqlite"
)

func TestTokenLifetime(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "life")
	e.clock.Advance(8*time.Hour - time.Second)
	s.do(req{method: "GET", url: s.app.Href}).wantStatus(t, 200)
	e.clock.Advance(time.Second)
	s.do(req{method: "GET", url: s.app.Href}).wantError(t, 401, ucwad.EUnauthorized, "")
}

// TestGuestTokenLifetime: an anonymous guest's token lasts an hour; then
// the sweep removes the guest, which leaves its meeting as an expired
// application does.
func TestGuestTokenLifetime(t *testing.T) {
	e := newEnv(t)
	alice := e.member("alice", "application/json")
	m := alice.schedule(t, `{"subject":"Open day","accessLevel":"Everyone"}`)
	alice.skip(t)
	uri := str(t, m, "onlineMeetingUri")
	alice.join(t, `{"onlineMeetingUri":"`+uri+`"}`)
	alice.skip(t)
	g := e.guest(e.wantGrant(uri, str(t, m, "onlineMeetingId"), "", ""), "application/json", false)
	g.join(t, `{"onlineMeetingUri":"`+uri+`","anonymousDisplayName":"Visitor"}`)
	wantList(t, "alice sees the guest come in", alice.events(t),
		"conversation: added participant Visitor",
		"conversation: added participant Visitor in attendees",
	)
	e.clock.Advance(time.Hour - time.Second)
	g.do(req{method: "GET", url: g.app.Href}).wantStatus(t, 200)
	alice.do(req{method: "GET", url: alice.app.Href}).wantStatus(t, 200) // alice's application stays active
	e.clock.Advance(time.Second)
	g.do(req{method: "GET", url: g.app.Href}).wantError(t, 401, ucwad.EUnauthorized, "")
	if err := e.api.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantList(t, "alice sees the expired guest go", alice.events(t),
		"conversation: deleted participant Visitor in attendees",
		"conversation: deleted participant Visitor",
	)
}

func TestPasswordChangeRevokesTokens(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "pw")
	alice, err := e.store.FindUserBySIP(t.Context(), "alice@contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	h, err := auth.NewHasher(auth.TestParams, 1).Hash(t.Context(), "changed")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.SetUserPassword(t.Context(), alice.ID, h); err != nil {
		t.Fatal(err)
	}
	s.do(req{method: "GET", url: s.app.Href}).wantError(t, 401, ucwad.EUnauthorized, "")
	e.token("alice@contoso.com", "changed")
}

// FuzzTokenRequest feeds arbitrary forms to the token endpoint, the
// password grant's and the anonymous meeting grant's: it always answers
// JSON, with a token or an OAuth error, and never a 500.
func FuzzTokenRequest(f *testing.F) {
	ctx := context.Background()
	clk := clock.NewFake(time.Now())
	db, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "fuzz.db"), sqlite.Options{Clock: clk})
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	hasher := auth.NewHasher(auth.TestParams, 2)
	h, _ := hasher.Hash(ctx, "secret-alice")
	alice := &ucwad.User{SIP: "alice@contoso.com", PasswordHash: h}
	if err := db.CreateUser(ctx, alice); err != nil {
		f.Fatal(err)
	}
	m := &ucwad.OnlineMeeting{UserID: alice.ID, MeetingSettings: ucwad.MeetingSettings{AccessLevel: "Everyone", ExpirationTime: clk.Now().Add(time.Hour)}}
	if err := db.CreateMeeting(ctx, m); err != nil {
		f.Fatal(err)
	}
	uri := url.QueryEscape("sip:alice@contoso.com;gruu;opaque=app:conf:focus:id:" + m.ID)
	f.Add("application/x-www-form-urlencoded", "grant_type=password&username=alice@contoso.com&password=secret-alice")
	f.Add("application/x-www-form-urlencoded;charset='utf-8'", "grant_type=password&username=a&password=b&resource=x")
	f.Add("application/x-www-form-urlencoded", "grant_type=%zz&&&=")
	f.Add("text/plain", "grant_type=password")
	f.Add("", "")
	f.Add("application/x-www-form-urlencoded;charset='utf-8'", "grant_type=urn:microsoft.rtc:anonmeeting&ms_rtc_conferenceuri="+uri+"&password="+m.ID)
	f.Add("application/x-www-form-urlencoded", "grant_type=urn:microsoft.rtc:anonmeeting&ms_rtc_conferenceuri="+uri+"&password="+strings.ToLower(m.ID)+"&ms_rtc_renew=cwt%3DAAEB")
	f.Add("application/x-www-form-urlencoded", "grant_type=urn:microsoft.rtc:anonmeeting&ms_rtc_conferenceuri=https%3A%2F%2Fmeet.contoso.com%2Falice%2F"+m.ID+"&password="+m.ID)
	f.Add("application/x-www-form-urlencoded", "grant_type=urn:microsoft.rtc:anonmeeting&ms_rtc_conferenceuri=conf:sip:a@b;gruu;opaque=app:conf:focus:id:X%3Fconversation-id=1&password=X")
	// Throttles that never delay: the fuzzer fails sign-ins and grants by
	// the thousand.
	api := httpapi.New(httpapi.Config{MaxBodyBytes: 4096, SignIn: ucwad.SignInPolicy{Free: 1 << 30}, AnonymousGrantsPerMinute: 1 << 30},
		httpapi.Deps{Store: db, Hasher: hasher, Clock: clk})
	handler := api.Handler()
	f.Fuzz(func(t *testing.T, contentType, body string) {
		r := httptest.NewRequest("POST", "/WebTicket/oauthtoken", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		switch w.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d for %q %q: %s", w.Code, contentType, body, w.Body)
		}
		if !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
			t.Fatalf("Content-Type %q", w.Header().Get("Content-Type"))
		}
		var ans struct {
			AccessToken string `json:"access_token"`
			Error       string `json:"error"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &ans); err != nil {
			t.Fatalf("body %q: %v", w.Body, err)
		}
		if (w.Code == 200) != (ans.AccessToken != "" && ans.Error == "") {
			t.Fatalf("status %d with %+v", w.Code, ans)
		}
	})
}
