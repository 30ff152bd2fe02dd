package main

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/ucwad/ucwad/auth"
)

// TestReadCacheAcrossProcesses: two server processes on one database each
// answer reads from memory; a meeting deleted through one, and a password
// changed by a third process (which revokes the tokens), are seen by the
// other within the read cache's bound, on SQLite and on PostgreSQL.
func TestReadCacheAcrossProcesses(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "ucwad.db")
			if backend == "postgres" {
				db = pgDSN(t)
			}
			a := startServerProcess(t, db)
			b := startServerProcess(t, db)
			for _, p := range []*serverProcess{a, b} {
				// The request log of the retries below would fill the pipe
				// and stop the server.
				go func() {
					for p.log.Scan() {
					}
				}()
			}
			tok := a.token(t)
			app := a.createApplication(t, tok)
			href := schedule(t, a, app, tok, "Planning")
			for _, p := range []*serverProcess{a, b} {
				for range 2 { // the second from memory
					if status, err := call(t, "GET", p.base+href, tok, "", nil); err != nil || status != http.StatusOK {
						t.Fatalf("GET of the meeting: %d %v", status, err)
					}
				}
			}

			if status, err := call(t, "DELETE", b.base+href, tok, "", nil); err != nil || status != http.StatusNoContent {
				t.Fatalf("DELETE through the second server: %d %v", status, err)
			}
			until(t, a, href, tok, http.StatusNotFound, "the meeting deleted through the other server")

			store, err := openStore(t.Context(), db, storeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			u, err := store.FindUserBySIP(t.Context(), "alice@contoso.com")
			if err != nil {
				t.Fatal(err)
			}
			h, _ := auth.NewHasher(auth.TestParams, 1).Hash(t.Context(), "new password")
			if err := store.SetUserPassword(t.Context(), u.ID, h); err != nil {
				t.Fatal(err)
			}
			app2 := "/ucwa/oauth/v1/applications/" + app.ID
			until(t, a, app2, tok, http.StatusUnauthorized, "the token revoked by another process")
			until(t, b, app2, tok, http.StatusUnauthorized, "the token revoked by another process")
		})
	}
}

// until GETs href from p until it answers status, failing if it never
// does within a generous time (the cache's bound is a second; this only
// keeps a broken build from hanging).
func until(t *testing.T, p *serverProcess, href, tok string, status int, what string) {
	t.Helper()
	var last int
	for giveUp := time.Now().Add(30 * time.Second); time.Now().Before(giveUp); {
		got, err := call(t, "GET", p.base+href, tok, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got == status {
			return
		}
		last = got
	}
	t.Fatalf("%s: %s still answers %d, never %d", what, href, last, status)
}
