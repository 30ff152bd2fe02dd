package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestPGetReplacedAcrossServerProcesses: two server processes on one
// database file. A P-GET started on the second replaces the one held on the
// first, which answers 409 PGetReplaced (within the first's poll interval,
// a second by default); the newer one stays held and gets the next events,
// whichever process the change went through.
func TestPGetReplacedAcrossServerProcesses(t *testing.T) {
	pgetReplacedAcross(t, filepath.Join(t.TempDir(), "ucwad.db"))
}

// pgetReplacedAcross is TestPGetReplacedAcrossServerProcesses on the
// database db.
func pgetReplacedAcross(t *testing.T, db string) {
	first := startServerProcess(t, db)
	second := startServerProcess(t, db)
	tok := first.token(t)
	app := first.createApplication(t, tok)

	pget := func(p *serverProcess) <-chan *http.Response {
		answer := make(chan *http.Response, 1)
		go func() {
			req, _ := http.NewRequest("GET", p.base+app.Links.Events.Href+"&timeout=1800", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
			}
			answer <- res
		}()
		return answer
	}
	older := pget(first)
	first.waitLog(t, "held")
	newer := pget(second)
	second.waitLog(t, "held")

	res := <-older
	if res == nil {
		t.FailNow()
	}
	var e struct{ Code, Subcode string }
	err := json.NewDecoder(res.Body).Decode(&e)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusConflict || e.Code != "Conflict" || e.Subcode != "PGetReplaced" {
		t.Fatalf("the older P-GET: %d %+v %v, want 409 Conflict PGetReplaced", res.StatusCode, e, err)
	}

	req, _ := http.NewRequest("POST", first.base+"/ucwa/oauth/v1/applications/"+app.ID+"/me/makeMeAvailable", strings.NewReader(`{"signInAs":"Online"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	made, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	made.Body.Close()
	if made.StatusCode != http.StatusNoContent {
		t.Fatalf("makeMeAvailable: %d", made.StatusCode)
	}
	res = <-newer
	if res == nil {
		t.FailNow()
	}
	var ev struct {
		Sender []struct {
			Events []json.RawMessage `json:"events"`
		} `json:"sender"`
	}
	err = json.NewDecoder(res.Body).Decode(&ev)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK || len(ev.Sender) != 2 {
		t.Fatalf("the newer P-GET: %d %+v %v, want the two events of makeMeAvailable", res.StatusCode, ev, err)
	}
}
