package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/httpapi"
)

// tokenAnswer is the token endpoint's JSON.
type tokenAnswer struct {
	AccessToken   string `json:"access_token"`
	TokenType     string `json:"token_type"`
	ExpiresIn     int64  `json:"expires_in"`
	IdentityScope string `json:"ms_rtc_identityscope"`
	Error         string `json:"error"`
}

func decodeToken(t *testing.T, r *resp) tokenAnswer {
	t.Helper()
	var tok tokenAnswer
	if err := json.Unmarshal(r.body, &tok); err != nil {
		t.Fatalf("token answer %s: %v", r.body, err)
	}
	if r.StatusCode == http.StatusOK {
		if !strings.HasPrefix(tok.AccessToken, "cwt=") || tok.TokenType != "Bearer" || tok.IdentityScope != "local" || tok.ExpiresIn != 8*3600 {
			t.Fatalf("token answer %+v", tok)
		}
	}
	return tok
}

func TestErrorsAreUCWABodies(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) { c.MaxBodyBytes = 4096 })
	s := e.signIn("alice", "errs")
	apps := "/ucwa/oauth/v1/applications"
	json := map[string]string{"Content-Type": "application/json"}
	for _, tc := range []struct {
		name    string
		r       req
		status  int
		code    ucwad.Code
		subcode string
		param   string // the member the error must name
	}{
		{"malformed json", req{method: "POST", url: apps, header: json, body: `{"userAgent":`}, 400, ucwad.EBadRequest, "", ""},
		{"json not an object", req{method: "POST", url: apps, header: json, body: `["a"]`}, 400, ucwad.EBadRequest, "", ""},
		{"malformed xml", req{method: "POST", url: apps, header: map[string]string{"Content-Type": "application/xml"}, body: `<input><property name="a">`}, 400, ucwad.EBadRequest, "", ""},
		{"missing userAgent", req{method: "POST", url: apps, header: json, body: `{"endpointId":"e","culture":"en-US"}`}, 400, ucwad.EBadRequest, ucwad.SubParameterValidationFailure, "userAgent"},
		{"missing culture", req{method: "POST", url: apps, header: json, body: `{"userAgent":"u","endpointId":"e"}`}, 400, ucwad.EBadRequest, ucwad.SubParameterValidationFailure, "culture"},
		{"empty body", req{method: "POST", url: apps, header: json}, 400, ucwad.EBadRequest, ucwad.SubParameterValidationFailure, "userAgent"},
		{"endpointId too long", req{method: "POST", url: apps, header: json, body: `{"userAgent":"u","endpointId":"` + strings.Repeat("x", 101) + `","culture":"en-US"}`}, 400, ucwad.EBadRequest, ucwad.SubParameterValidationFailure, "endpointId"},
		{"instanceId too long", req{method: "POST", url: apps, header: json, body: `{"userAgent":"u","endpointId":"e","culture":"c","instanceId":"` + strings.Repeat("x", 101) + `"}`}, 400, ucwad.EBadRequest, ucwad.SubParameterValidationFailure, "instanceId"},
		{"text XML cannot carry", req{method: "POST", url: apps, header: json, body: `{"userAgent":"a\u0001b","endpointId":"e","culture":"en-US"}`}, 400, ucwad.EBadRequest, ucwad.SubParameterValidationFailure, "userAgent"},
		{"body too large", req{method: "POST", url: apps, header: json, body: `{"userAgent":"` + strings.Repeat("x", 5000) + `"}`}, 413, ucwad.EEntityTooLarge, "", ""},
		{"unsupported media type", req{method: "POST", url: apps, header: map[string]string{"Content-Type": "text/plain"}, body: "hello"}, 415, ucwad.EUnsupportedMediaType, "", ""},
		{"unknown path", req{method: "GET", url: "/ucwa/oauth/v1/nothing"}, 404, ucwad.ENotFound, ucwad.SubResourceNotFound, ""},
		{"unknown path under application", req{method: "GET", url: s.app.Href + "/nothing"}, 404, ucwad.ENotFound, ucwad.SubResourceNotFound, ""},
		{"wrong method", req{method: "PUT", url: s.app.Href}, 405, ucwad.EMethodNotAllowed, "", ""},
		{"unknown application", req{method: "GET", url: "/ucwa/oauth/v1/applications/nosuchapp"}, 404, ucwad.ENotFound, ucwad.SubApplicationNotFound, ""},
		{"version too new", req{method: "GET", url: s.app.Href, header: map[string]string{"X-MS-RequiresMinResourceVersion": "4.0"}}, 404, ucwad.ENotFound, "APIVersionNotSupported", ""},
		{"version garbage", req{method: "GET", url: s.app.Href, header: map[string]string{"X-MS-RequiresMinResourceVersion": "two"}}, 400, ucwad.EBadRequest, ucwad.SubParameterValidationFailure, "X-MS-RequiresMinResourceVersion"},
		{"version NaN", req{method: "GET", url: s.app.Href, header: map[string]string{"X-MS-RequiresMinResourceVersion": "NaN"}}, 400, ucwad.EBadRequest, ucwad.SubParameterValidationFailure, "X-MS-RequiresMinResourceVersion"},
		{"version -Inf", req{method: "GET", url: s.app.Href, header: map[string]string{"X-MS-RequiresMinResourceVersion": "-Inf"}}, 400, ucwad.EBadRequest, ucwad.SubParameterValidationFailure, "X-MS-RequiresMinResourceVersion"},
		{"version Inf", req{method: "GET", url: s.app.Href, header: map[string]string{"X-MS-RequiresMinResourceVersion": "+Inf"}}, 400, ucwad.EBadRequest, ucwad.SubParameterValidationFailure, "X-MS-RequiresMinResourceVersion"},
		{"version exponent", req{method: "GET", url: s.app.Href, header: map[string]string{"X-MS-RequiresMinResourceVersion": "2e0"}}, 400, ucwad.EBadRequest, ucwad.SubParameterValidationFailure, "X-MS-RequiresMinResourceVersion"},
	} {
		for _, accept := range []string{"application/json", "application/xml"} {
			t.Run(tc.name+"/"+accept, func(t *testing.T) {
				r := tc.r
				h := map[string]string{"Accept": accept}
				for k, v := range r.header {
					h[k] = v
				}
				r.header = h
				got := s.do(r)
				if ct := got.Header.Get("Content-Type"); !strings.HasPrefix(ct, accept) {
					t.Fatalf("Content-Type %q, want %s; body %s", ct, accept, got.body)
				}
				reason := got.wantError(t, tc.status, tc.code, tc.subcode)
				if tc.param != "" && (len(reason.Parameters) != 1 || reason.Parameters[0].Name != tc.param) {
					t.Errorf("parameters %+v, want %s", reason.Parameters, tc.param)
				}
				if reason.Message == "" {
					t.Error("no message")
				}
				if tc.status == 405 && got.Header.Get("Allow") != "DELETE, GET" {
					t.Errorf("Allow %q", got.Header.Get("Allow"))
				}
			})
		}
	}
}

func TestProtectedURLsChallenge(t *testing.T) {
	e := newEnv(t)
	s := e.signIn("alice", "p")
	for _, u := range []string{
		"/Autodiscover/AutodiscoverService.svc/root/oauth/user",
		"/autodiscover/autodiscoverservice.svc/root/user",
		"/ucwa/oauth/v1/applications", // client B GETs it unauthenticated and expects the challenge
		s.app.Href,
		s.app.Href + "/me",
		s.app.Href + "/events?ack=1",
	} {
		for _, authz := range []string{"", "Bearer cwt=forged", "Basic YTpi"} {
			h := map[string]string{"Accept": "application/json"}
			if authz != "" {
				h["Authorization"] = authz
			}
			r := e.do(req{method: "GET", url: u, header: h})
			r.wantError(t, http.StatusUnauthorized, ucwad.EUnauthorized, "")
			challengeTokenURL(t, r)
		}
	}
}

func TestTokenEndpoint(t *testing.T) {
	e := newEnv(t)
	form := "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		wantErr                 string
	}{
		{"ok", form, "grant_type=password&username=alice@contoso.com&password=secret-alice", 200, ""},
		{"quoted charset and resource", form + ";charset='utf-8'", "grant_type=password&username=alice%40contoso.com&password=secret-alice&resource=lyncweb.contoso.com", 200, ""},
		{"sip prefix and casing", form + "; charset=UTF-8", "grant_type=password&username=sip:Alice@Contoso.com&password=secret-alice", 200, ""},
		{"wrong password", form, "grant_type=password&username=alice@contoso.com&password=nope", 400, "invalid_grant"},
		{"unknown user", form, "grant_type=password&username=carol@contoso.com&password=x", 400, "invalid_grant"},
		{"missing grant", form, "username=alice@contoso.com&password=secret-alice", 400, "invalid_request"},
		{"missing password", form, "grant_type=password&username=alice@contoso.com", 400, "invalid_request"},
		{"windows grant", form, "grant_type=urn:microsoft.rtc:windows", 400, "unsupported_grant_type"},
		{"json body", "application/json", `{"grant_type":"password"}`, 400, "invalid_request"},
		{"bad encoding", form, "grant_type=%zz", 400, "invalid_request"},
		{"form too large", form, "grant_type=password&username=alice@contoso.com&password=" + strings.Repeat("x", 17<<10), 413, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(req{method: "POST", url: "/webticket/oauthtoken", body: tc.body, header: map[string]string{"Content-Type": tc.contentType}})
			r.wantStatus(t, tc.status)
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			if r.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q", r.Header.Get("Cache-Control"))
			}
			tok := decodeToken(t, r)
			if tok.Error != tc.wantErr {
				t.Errorf("error %q, want %q", tok.Error, tc.wantErr)
			}
		})
	}
}
