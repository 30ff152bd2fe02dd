// Command ucwadload measures ucwad's event channel under load: it starts a
// ucwad server as a separate process on a fresh database on loopback, signs
// many applications in, has each hold a pending GET on its event channel,
// and then measures
//
//   - delivery latency: from the commit of a change (the 204 of
//     makeMeAvailable) to the held P-GET's answer, over every application;
//   - memory: the server's resident memory per held P-GET.
//
// With --signin it measures the token endpoint under attack instead (see
// runSignIn): password guesses checked per second against one account, and
// another address's sign-in latency during a flood.
//
// Usage:
//
//	go build -o /tmp/ucwad ./cmd/ucwad
//	go run ./cmd/ucwadload --server /tmp/ucwad --apps 1000
//	go run ./cmd/ucwadload --server /tmp/ucwad --signin
//
// All traffic goes to 127.0.0.1; every loop is bounded and the tool stops
// the server when done.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/sqlite"
)

func main() {
	if err := run(); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "ucwadload:", err)
			os.Exit(1)
		}
	}
}

type config struct {
	server   string
	apps     int
	perUser  int
	parallel int
	timeout  time.Duration
	signIn   bool
	si       signInConfig
	nodes    nodesConfig
}

func run() error {
	var c config
	fs := flag.NewFlagSet("ucwadload", flag.ContinueOnError)
	fs.StringVar(&c.server, "server", "", "path to a built ucwad binary (required): go build -o /tmp/ucwad ./cmd/ucwad")
	fs.IntVar(&c.apps, "apps", 1000, "applications, each holding one P-GET (at most 10000: each costs a descriptor in each process)")
	fs.IntVar(&c.perUser, "apps-per-user", 100, "applications per user (the server's default limit is 100)")
	fs.IntVar(&c.parallel, "parallel", 32, "concurrent requests while setting up")
	fs.DurationVar(&c.timeout, "deadline", 5*time.Minute, "give up after this long")
	fs.BoolVar(&c.signIn, "signin", false, "measure the token endpoint under password guessing and a flood instead of the event channel")
	fs.IntVar(&c.si.guessers, "guessers", 400, "with --signin: connections guessing one account's password, each from its own address")
	fs.IntVar(&c.si.flooders, "flooders", 1000, "with --signin: connections signing in without pause from one address")
	fs.DurationVar(&c.si.duration, "duration", 30*time.Second, "with --signin: how long the guessing, then the flood, lasts")
	fs.StringVar(&c.si.serverFlags, "server-flags", "--trusted-proxy 127.0.0.1", "with --signin: extra flags for the server (client addresses are sent as X-Forwarded-For)")
	fs.StringVar(&c.nodes.dsn, "postgres", "", "a PostgreSQL URL: compare one node on SQLite with one and two nodes on PostgreSQL (scheduling and GET throughput, event latency) instead of the event channel test")
	fs.IntVar(&c.nodes.clients, "clients", 32, "with --postgres: concurrent clients (one user and application each)")
	fs.DurationVar(&c.nodes.duration, "phase", 10*time.Second, "with --postgres: how long each throughput test lasts")
	fs.IntVar(&c.nodes.samples, "samples", 200, "with --postgres: event latency samples per setup")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ucwadload --server PATH [flags]\n\nMeasures event delivery latency and memory per held P-GET of a ucwad server it starts on loopback.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	if c.server == "" {
		fs.Usage()
		return errors.New("--server is required")
	}
	if c.apps < 1 || c.apps > 10000 || c.perUser < 1 || c.perUser > 100 {
		return errors.New("--apps must be 1..10000 and --apps-per-user 1..100")
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	if c.nodes.dsn != "" {
		if c.nodes.clients < 1 || c.nodes.clients > 1000 || c.nodes.samples < 1 || c.nodes.duration <= 0 {
			return errors.New("--clients must be 1..1000, --samples at least 1 and --phase positive")
		}
		return runNodes(ctx, c.server, c.nodes)
	}
	if c.signIn {
		if c.si.guessers < 1 || c.si.flooders < 1 || c.si.guessers > 5000 || c.si.flooders > 5000 {
			return errors.New("--guessers and --flooders must be 1..5000")
		}
		return runSignIn(ctx, c.server, c.si)
	}

	dir, err := os.MkdirTemp("", "ucwadload")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	users := (c.apps + c.perUser - 1) / c.perUser
	logf("creating %d users in %s", users, dir)
	if err := createUsers(ctx, filepath.Join(dir, "ucwad.db"), users); err != nil {
		return err
	}

	srv, base, err := startServer(ctx, c.server, filepath.Join(dir, "ucwad.db"))
	if err != nil {
		return err
	}
	defer func() {
		if srv != nil {
			srv.stop()
		}
	}()

	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns:        c.apps * 2,
		MaxIdleConnsPerHost: c.apps * 2,
		IdleConnTimeout:     time.Minute,
	}}
	l := &load{c: c, base: base, client: client}

	logf("signing in %d users and registering %d applications", users, c.apps)
	if err := l.setup(ctx, users); err != nil {
		return err
	}
	idle, err := srv.rss()
	if err != nil {
		return err
	}

	logf("holding %d P-GETs", c.apps)
	if err := l.holdAll(ctx); err != nil {
		return err
	}
	held, err := srv.rss()
	if err != nil {
		return err
	}

	logf("baseline: timing %d plain GETs of the autodiscover root", len(l.apps))
	rtt, err := l.baseline(ctx)
	if err != nil {
		return err
	}
	logf("triggering one event per application and timing its delivery")
	lat, err := l.measure(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("applications holding a P-GET: %d\n", c.apps)
	fmt.Printf("delivery latency (204 of the change -> P-GET answer): %s\n", percentiles(lat))
	fmt.Printf("baseline, same run (GET of the autodiscover root, round trip): %s\n", percentiles(rtt))
	fmt.Printf("server RSS: %.1f MiB with all applications idle, %.1f MiB with all P-GETs held: %.1f KiB per held P-GET\n",
		mib(idle), mib(held), float64(held-idle)/1024/float64(c.apps))
	start := time.Now()
	err = srv.stop()
	srv = nil
	fmt.Printf("shutdown with %d P-GETs held: %v (exit: %v)\n", c.apps, time.Since(start).Round(time.Millisecond), err)
	return nil
}

// percentiles summarises durations as p50, p99 and max.
func percentiles(d []time.Duration) string {
	slices.Sort(d)
	pct := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))].Round(time.Microsecond) }
	return fmt.Sprintf("p50 %v  p99 %v  max %v  (n=%d)", pct(0.50), pct(0.99), d[len(d)-1].Round(time.Microsecond), len(d))
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// createUsers adds users load0..loadN-1@load.test with password "load",
// hashed with cheap parameters: the benchmark is not about sign-in.
func createUsers(ctx context.Context, path string, n int) error {
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	h, err := auth.NewHasher(auth.TestParams, 1).Hash(ctx, "load")
	if err != nil {
		return err
	}
	for i := range n {
		if err := db.CreateUser(ctx, &ucwad.User{SIP: fmt.Sprintf("load%d@load.test", i), PasswordHash: h}); err != nil {
			return err
		}
	}
	return nil
}

// server is the ucwad process under test.
type server struct {
	cmd *exec.Cmd
}

func startServer(ctx context.Context, bin, db string, extra ...string) (*server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, append([]string{"serve", "--db", db, "--addr", addr, "--log-level", "warn"}, extra...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	s := &server{cmd: cmd}
	// The server prints its address once it accepts connections.
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "ucwad is listening on ") {
			go io.Copy(io.Discard, out)
			return s, "http://" + addr, nil
		}
	}
	s.stop()
	return nil, "", fmt.Errorf("the server exited before listening: %v", sc.Err())
}

// stop sends SIGTERM and waits for the server to exit (killing it after
// 30 s), returning how it exited.
func (s *server) stop() error {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		return errors.New("did not exit within 30 s; killed")
	}
}

// rss returns the server's resident memory in bytes.
func (s *server) rss() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmRSS")
}

// load is the client side.
type load struct {
	c      config
	base   string
	client *http.Client
	apps   []*app
}

// app is one registered application.
type app struct {
	token, self, events, makeAvailable string
	answer                             chan time.Time // when its P-GET answered with events
}

func (l *load) setup(ctx context.Context, users int) error {
	tokens := make([]string, users)
	if err := l.parallelDo(ctx, users, func(i int) error {
		form := url.Values{"grant_type": {"password"}, "username": {fmt.Sprintf("load%d@load.test", i)}, "password": {"load"}}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if err := l.call(ctx, "POST", "/WebTicket/oauthtoken", "", "application/x-www-form-urlencoded", form.Encode(), 200, &tok); err != nil {
			return err
		}
		tokens[i] = tok.AccessToken
		return nil
	}); err != nil {
		return err
	}
	l.apps = make([]*app, l.c.apps)
	return l.parallelDo(ctx, l.c.apps, func(i int) error {
		tok := tokens[i/l.c.perUser]
		var res struct {
			Links map[string]struct {
				Href string `json:"href"`
			} `json:"_links"`
			Embedded struct {
				Me struct {
					Links map[string]struct {
						Href string `json:"href"`
					} `json:"_links"`
				} `json:"me"`
			} `json:"_embedded"`
		}
		body := fmt.Sprintf(`{"userAgent":"ucwadload","endpointId":"ep%d","culture":"en-US"}`, i)
		if err := l.call(ctx, "POST", "/ucwa/oauth/v1/applications", tok, "application/json", body, 201, &res); err != nil {
			return err
		}
		l.apps[i] = &app{token: tok, self: res.Links["self"].Href, events: res.Links["events"].Href,
			makeAvailable: res.Embedded.Me.Links["makeMeAvailable"].Href, answer: make(chan time.Time, 1)}
		return nil
	})
}

// holdAll starts every application's P-GET loop and returns once the
// server holds them all (each P-GET's first request is sent and parked:
// we wait until the server has answered nothing for all of them, judged by
// a probe that reads the server's own count is not available, so we wait
// for every request to have been written).
func (l *load) holdAll(ctx context.Context) error {
	var sent sync.WaitGroup
	sent.Add(len(l.apps))
	for _, a := range l.apps {
		go l.pgetLoop(ctx, a, &sent)
	}
	sent.Wait()
	// Give the server a moment to park what it received, bounded.
	time.Sleep(2 * time.Second)
	return ctx.Err()
}

// pgetLoop keeps one P-GET held on a's channel, reporting answers with events.
func (l *load) pgetLoop(ctx context.Context, a *app, sent *sync.WaitGroup) {
	href := a.events + "&timeout=1800"
	first := true
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, "GET", l.base+href, nil)
		req.Header.Set("Authorization", "Bearer "+a.token)
		req.Header.Set("Accept", "application/json")
		trace := req
		if first {
			first = false
			sent.Done()
		}
		res, err := l.client.Do(trace)
		if err != nil {
			return
		}
		at := time.Now()
		var ev struct {
			Links map[string]struct {
				Href string `json:"href"`
			} `json:"_links"`
			Sender []json.RawMessage `json:"sender"`
		}
		err = json.NewDecoder(res.Body).Decode(&ev)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 {
			return
		}
		if len(ev.Sender) > 0 {
			select {
			case a.answer <- at:
			default:
			}
		}
		next := ev.Links["next"].Href
		if next == "" {
			next = ev.Links["resync"].Href
		}
		href = next
	}
}

// measure posts makeMeAvailable on each application in turn and times the
// arrival of the events on its held P-GET.
func (l *load) measure(ctx context.Context) ([]time.Duration, error) {
	lat := make([]time.Duration, 0, len(l.apps))
	for _, a := range l.apps {
		if err := l.call(ctx, "POST", a.makeAvailable, a.token, "", "", 204, nil); err != nil {
			return nil, err
		}
		committed := time.Now()
		select {
		case at := <-a.answer:
			lat = append(lat, max(at.Sub(committed), 0))
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return lat, nil
}

// baseline times plain round trips to a resource that touches no database,
// with the same P-GETs held: what any answer costs on this machine now.
func (l *load) baseline(ctx context.Context) ([]time.Duration, error) {
	d := make([]time.Duration, 0, len(l.apps))
	for range l.apps {
		start := time.Now()
		if err := l.call(ctx, "GET", "/", "", "", "", 200, nil); err != nil {
			return nil, err
		}
		d = append(d, time.Since(start))
	}
	return d, nil
}

// call sends one request and decodes a JSON answer into out.
func (l *load) call(ctx context.Context, method, path, token, contentType, body string, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, l.base+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	res, err := l.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != want {
		b, _ := io.ReadAll(res.Body)
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	if out != nil {
		return json.NewDecoder(res.Body).Decode(out)
	}
	io.Copy(io.Discard, res.Body)
	return nil
}

// parallelDo runs f(0..n-1) with bounded concurrency.
func (l *load) parallelDo(ctx context.Context, n int, f func(int) error) error {
	sem := make(chan struct{}, l.c.parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := f(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}
