package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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

// FuzzTokenRequest feeds arbitrary forms to the token endpoint: it always
// answers JSON, with a token or an OAuth error, and never a 500.
func FuzzTokenRequest(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "grant_type=password&username=alice@contoso.com&password=secret-alice")
	f.Add("application/x-www-form-urlencoded;charset='utf-8'", "grant_type=password&username=a&password=b&resource=x")
	f.Add("application/x-www-form-urlencoded", "grant_type=%zz&&&=")
	f.Add("text/plain", "grant_type=password")
	f.Add("", "")
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "fuzz.db"), sqlite.Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	hasher := auth.NewHasher(auth.TestParams, 2)
	h, _ := hasher.Hash(ctx, "secret-alice")
	if err := db.CreateUser(ctx, &ucwad.User{SIP: "alice@contoso.com", PasswordHash: h}); err != nil {
		f.Fatal(err)
	}
	// A throttle that never delays: the fuzzer fails sign-ins by the thousand.
	clk := clock.NewFake(time.Now())
	api := httpapi.New(httpapi.Config{MaxBodyBytes: 4096, SignIn: ucwad.SignInPolicy{Free: 1 << 30}},
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
