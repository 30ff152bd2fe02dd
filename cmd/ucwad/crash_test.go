package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/sqlite"
)

// TestHelperServer is not a test: it is the server process that
// TestAcknowledgedWriteSurvivesKill starts and kills.
func TestHelperServer(t *testing.T) {
	db := os.Getenv("UCWAD_TEST_HELPER_DB")
	if db == "" {
		t.Skip("helper process only")
	}
	m := NewMain(Env{Stdin: strings.NewReader(""), Stdout: os.Stdout, Stderr: io.Discard, Getenv: func(string) string { return "" }})
	m.HashParams = auth.TestParams
	if err := m.ParseFlags([]string{"--db", db, "--addr", "127.0.0.1:0"}); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	if err := m.Run(context.Background()); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	select {} // until killed
}

// TestAcknowledgedWriteSurvivesKill registers an application on a server
// process, kills the process with SIGKILL as soon as the 201 arrived, starts
// a new server on the same database and finds the application there.
func TestAcknowledgedWriteSurvivesKill(t *testing.T) {
	db := filepath.Join(t.TempDir(), "ucwad.db")
	// A user whose password we know.
	store, err := sqlite.Open(t.Context(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := auth.NewHasher(auth.TestParams, 1).Hash(t.Context(), "pw")
	if err := store.CreateUser(t.Context(), &ucwad.User{SIP: "alice@contoso.com", PasswordHash: h}); err != nil {
		t.Fatal(err)
	}
	store.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServer$")
	cmd.Env = append(os.Environ(), "UCWAD_TEST_HELPER_DB="+db)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var base string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "ucwad is listening on "); ok {
			base = u
			break
		}
	}
	if base == "" {
		t.Fatalf("the server process did not start: %v", sc.Err())
	}
	go io.Copy(io.Discard, out)

	res, err := http.PostForm(base+"/WebTicket/oauthtoken", url.Values{"grant_type": {"password"}, "username": {"alice@contoso.com"}, "password": {"pw"}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	req, _ := http.NewRequest("POST", base+"/ucwa/oauth/v1/applications", strings.NewReader(`{"userAgent":"k","endpointId":"9","culture":"en-US"}`))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var app struct {
		ID string `json:"id"`
	}
	json.NewDecoder(res.Body).Decode(&app)
	res.Body.Close()
	if res.StatusCode != 201 || app.ID == "" {
		t.Fatalf("POST applications: %d", res.StatusCode)
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	m, _ := startMain(t, []string{"--db", db}, nil)
	req, _ = http.NewRequest("GET", m.URL+"/ucwa/oauth/v1/applications/"+app.ID, nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken) // the token survived too
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("after kill -9 the acknowledged application answers %d", res.StatusCode)
	}
}
