package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
)

// TestAcknowledgedGroupCommitsSurviveKill: several users schedule meetings
// at once on a server process, so that their writes share commits (group
// commit is on by default); the process is killed with SIGKILL in the
// middle of the stream, and a new server on the same database finds every
// meeting whose 201 arrived.
func TestAcknowledgedGroupCommitsSurviveKill(t *testing.T) {
	const users, acknowledged = 8, 120
	db := filepath.Join(t.TempDir(), "ucwad.db")
	store, err := openStore(t.Context(), db, storeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := auth.NewHasher(auth.TestParams, 1).Hash(t.Context(), "pw")
	for i := range users {
		if err := store.CreateUser(t.Context(), &ucwad.User{SIP: fmt.Sprintf("user%d@contoso.com", i), PasswordHash: h}); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()
	srv := startServerProcess(t, db)

	type meeting struct{ token, href string }
	var mu sync.Mutex
	var acked []meeting
	enough := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for i := range users {
		tok := processToken(t, srv.base, fmt.Sprintf("user%d@contoso.com", i))
		app := srv.createApplication(t, tok)
		wg.Go(func() {
			for {
				req, _ := http.NewRequest("POST", srv.base+"/ucwa/oauth/v1/applications/"+app.ID+"/onlineMeetings/myOnlineMeetings",
					strings.NewReader(`{"subject":"s","attendees":["sip:bob@contoso.com"]}`))
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					return // killed
				}
				var m struct {
					Links struct {
						Self struct {
							Href string `json:"href"`
						} `json:"self"`
					} `json:"_links"`
				}
				err = json.NewDecoder(res.Body).Decode(&m)
				res.Body.Close()
				if err != nil || res.StatusCode != http.StatusCreated {
					return // killed while answering
				}
				mu.Lock()
				acked = append(acked, meeting{tok, m.Links.Self.Href})
				if len(acked) >= acknowledged {
					once.Do(func() { close(enough) })
				}
				mu.Unlock()
			}
		})
	}
	<-enough
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	srv.cmd.Wait()
	wg.Wait()

	m, _ := startMain(t, []string{"--db", db}, nil)
	for _, a := range acked {
		req, _ := http.NewRequest("GET", m.URL+a.href, nil)
		req.Header.Set("Authorization", "Bearer "+a.token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("after kill -9 the acknowledged meeting %s answers %d", a.href, res.StatusCode)
		}
	}
}

// processToken signs sip in (password "pw") on the server at base.
func processToken(t *testing.T, base, sip string) string {
	t.Helper()
	res, err := http.PostForm(base+"/WebTicket/oauthtoken", url.Values{"grant_type": {"password"}, "username": {sip}, "password": {"pw"}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %d %v", res.StatusCode, err)
	}
	return tok.AccessToken
}
