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
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
)

// TestHelperServer is not a test: it is the server process that
// TestAcknowledgedWriteSurvivesKill starts and kills.
func TestHelperServer(t *testing.T) {
	db := os.Getenv("UCWAD_TEST_HELPER_DB")
	if db == "" {
		t.Skip("helper process only")
	}
	m := NewMain(Env{Stdin: strings.NewReader(""), Stdout: os.Stdout, Stderr: os.Stderr, Getenv: func(string) string { return "" }})
	m.HashParams = auth.TestParams
	if err := m.ParseFlags([]string{"--db", db, "--addr", "127.0.0.1:0", "--log-level", "debug"}); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := m.Run(ctx); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	<-ctx.Done() // SIGTERM, or killed before
	if err := m.Close(); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// TestAcknowledgedWriteSurvivesKill registers an application on a server
// process, kills the process with SIGKILL as soon as the 201 arrived, starts
// a new server on the same database and finds the application there.
func TestAcknowledgedWriteSurvivesKill(t *testing.T) {
	db := filepath.Join(t.TempDir(), "ucwad.db")
	srv := startServerProcess(t, db)
	tok := srv.token(t)
	app := srv.createApplication(t, tok)

	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	srv.cmd.Wait()

	m, _ := startMain(t, []string{"--db", db}, nil)
	req, _ := http.NewRequest("GET", m.URL+"/ucwa/oauth/v1/applications/"+app.ID, nil)
	req.Header.Set("Authorization", "Bearer "+tok) // the token survived too
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("after kill -9 the acknowledged application answers %d", res.StatusCode)
	}
}

// TestSIGTERMReleasesHeldPGet: on SIGTERM a server process answers a held
// event request with an empty batch and a next link, and exits cleanly.
func TestSIGTERMReleasesHeldPGet(t *testing.T) {
	srv := startServerProcess(t, filepath.Join(t.TempDir(), "ucwad.db"))
	tok := srv.token(t)
	app := srv.createApplication(t, tok)

	answer := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest("GET", srv.base+app.Links.Events.Href+"&timeout=1800", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			res = nil
		}
		answer <- res
	}()
	// The request is parked once the server says so in its log.
	srv.waitLog(t, "held")
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	res := <-answer
	if res == nil {
		t.FailNow()
	}
	var ev struct {
		Links map[string]struct {
			Href string `json:"href"`
		} `json:"_links"`
		Sender []json.RawMessage `json:"sender"`
	}
	err := json.NewDecoder(res.Body).Decode(&ev)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 || ev.Links["next"].Href == "" || len(ev.Sender) != 0 {
		t.Fatalf("held P-GET on SIGTERM: %d %+v %v", res.StatusCode, ev, err)
	}
	if err := srv.cmd.Wait(); err != nil {
		t.Fatalf("the server did not exit cleanly: %v", err)
	}
}

// serverProcess is a ucwad server in a child process (the test binary
// running TestHelperServer) with user alice@contoso.com, password "pw".
// Several may share one database: an SQLite file, or a PostgreSQL one.
type serverProcess struct {
	cmd  *exec.Cmd
	base string
	log  *bufio.Scanner
}

func startServerProcess(t *testing.T, db string) *serverProcess {
	t.Helper()
	store, err := openStore(t.Context(), db, storeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := auth.NewHasher(auth.TestParams, 1).Hash(t.Context(), "pw")
	if err := store.CreateUser(t.Context(), &ucwad.User{SIP: "alice@contoso.com", PasswordHash: h}); err != nil && ucwad.ErrorCode(err) != ucwad.EConflict {
		t.Fatal(err)
	}
	store.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServer$")
	cmd.Env = append(os.Environ(), "UCWAD_TEST_HELPER_DB="+db)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
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
	return &serverProcess{cmd: cmd, base: base, log: bufio.NewScanner(logs)}
}

// waitLog reads the server's log until a line contains s.
func (p *serverProcess) waitLog(t *testing.T, s string) {
	t.Helper()
	for p.log.Scan() {
		if strings.Contains(p.log.Text(), s) {
			go func() {
				for p.log.Scan() {
				}
			}()
			return
		}
	}
	t.Fatalf("the server's log ended without %q", s)
}

func (p *serverProcess) token(t *testing.T) string {
	t.Helper()
	res, err := http.PostForm(p.base+"/WebTicket/oauthtoken", url.Values{"grant_type": {"password"}, "username": {"alice@contoso.com"}, "password": {"pw"}})
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

// processApp is what the tests read of an application.
type processApp struct {
	ID    string `json:"id"`
	Links struct {
		Events struct {
			Href string `json:"href"`
		} `json:"events"`
	} `json:"_links"`
}

func (p *serverProcess) createApplication(t *testing.T, tok string) processApp {
	t.Helper()
	req, _ := http.NewRequest("POST", p.base+"/ucwa/oauth/v1/applications", strings.NewReader(`{"userAgent":"k","endpointId":"9","culture":"en-US"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var app processApp
	if err := json.NewDecoder(res.Body).Decode(&app); err != nil || res.StatusCode != 201 || app.ID == "" {
		t.Fatalf("POST applications: %d %v", res.StatusCode, err)
	}
	return app
}
