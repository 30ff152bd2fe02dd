package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

func TestMux(t *testing.T) {
	named := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, name) })
	}
	m := newMux(named("api"))
	m.handle("/meet/", named("meet"))
	m.handle("/xframe", named("xframe"))
	for path, want := range map[string]string{
		"/":                                     "api",
		"/ucwa/oauth/v1/applications":           "api",
		"//ucwa//oauth/v1/applications/":        "api", // never cleaned or redirected
		"/meet/alice/ABC123":                    "meet",
		"/meet/":                                "meet",
		"/meet":                                 "api",
		"/xframe":                               "xframe",
		"/xframe/x":                             "api",
		"/Autodiscover/AutodiscoverService.svc": "api",
	} {
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, &http.Request{Method: "POST", URL: mustURL(t, path)})
		if rec.Code != http.StatusOK || rec.Body.String() != want {
			t.Errorf("%s: status %d, served by %q; want 200 from %q", path, rec.Code, rec.Body.String(), want)
		}
	}
}

func mustURL(t *testing.T, path string) *url.URL {
	t.Helper()
	u, err := url.Parse(path)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
