package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

// What the older measurements (--signin, --compare) share: a server
// process started on loopback, and a plain client of it.

// percentiles summarises durations as p50, p99 and max.
func percentiles(d []time.Duration) string {
	slices.Sort(d)
	pct := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))].Round(time.Microsecond) }
	return fmt.Sprintf("p50 %v  p99 %v  max %v  (n=%d)", pct(0.50), pct(0.99), d[len(d)-1].Round(time.Microsecond), len(d))
}

// server is a ucwad process the tool started.
type server struct {
	cmd *exec.Cmd
}

// startServer starts bin serve on db on a free loopback port and returns
// once it listens.
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

// load is a plain client of one server: users load0..N-1@load.test, each
// with perUser applications.
type load struct {
	apps, perUser, parallel int
	base                    string
	client                  *http.Client
	registered              []*app
}

// app is one registered application.
type app struct {
	token, self, events string
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
	l.registered = make([]*app, l.apps)
	return l.parallelDo(ctx, l.apps, func(i int) error {
		tok := tokens[i/l.perUser]
		var res struct {
			Links map[string]struct {
				Href string `json:"href"`
			} `json:"_links"`
		}
		body := fmt.Sprintf(`{"userAgent":"ucwadload","endpointId":"ep%d","culture":"en-US"}`, i)
		if err := l.call(ctx, "POST", "/ucwa/oauth/v1/applications", tok, "application/json", body, 201, &res); err != nil {
			return err
		}
		l.registered[i] = &app{token: tok, self: res.Links["self"].Href, events: res.Links["events"].Href}
		return nil
	})
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
	if err := parallel(n, l.parallel, f); err != nil {
		return err
	}
	return ctx.Err()
}
