package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// signInConfig is the --signin measurement's settings.
type signInConfig struct {
	guessers, flooders int
	duration           time.Duration
	serverFlags        string
}

// runSignIn measures the token endpoint under attack, on a server with
// real (default) password hashing:
//
//   - guessing: many connections, each from its own client address, guess
//     one account's password without pause; how many guesses are checked
//     per second, and how long after the guessing stops the owner gets in;
//   - flood: many connections from one client address sign in without
//     pause (a new unknown name each time, so that each would cost a hash);
//     the sign-in latency of a client at another address meanwhile, beside
//     the same client's latency before the flood.
//
// Client addresses are sent as X-Forwarded-For, which the server believes
// when started with --trusted-proxy 127.0.0.1 (the default --server-flags).
func runSignIn(ctx context.Context, bin string, c signInConfig) error {
	dir, err := os.MkdirTemp("", "ucwadload")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "ucwad.db")
	// The server's own command creates the users, so that any version of
	// the binary can be measured on a schema of its own.
	for _, u := range []string{"victim", "other"} {
		out, err := exec.CommandContext(ctx, bin, "user", "add", "--db", db, "--sip", u+"@load.test", "--password", "pw-"+u).CombinedOutput()
		if err != nil {
			return fmt.Errorf("creating %s: %v: %s", u, err, out)
		}
	}
	srv, base, err := startServer(ctx, bin, db, strings.Fields(c.serverFlags)...)
	if err != nil {
		return err
	}
	defer srv.stop()
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConns: 4 * (c.guessers + c.flooders), MaxIdleConnsPerHost: 4 * (c.guessers + c.flooders)},
		Timeout:   2 * time.Minute,
	}
	signIn := func(ctx context.Context, from, user, password string) (int, int, error) {
		form := url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}}
		req, err := http.NewRequestWithContext(ctx, "POST", base+"/WebTicket/oauthtoken", strings.NewReader(form.Encode()))
		if err != nil {
			return 0, 0, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", from)
		res, err := client.Do(req)
		if err != nil {
			return 0, 0, err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		retry, _ := strconv.Atoi(res.Header.Get("Retry-After"))
		return res.StatusCode, retry, nil
	}
	fmt.Printf("server: %s %s (default argon2id parameters)\n", bin, c.serverFlags)

	// Baseline: the other client's sign-in on an idle server.
	var idle []time.Duration
	for range 20 {
		start := time.Now()
		if code, _, err := signIn(ctx, "198.51.100.1", "other@load.test", "pw-other"); err != nil || code != 200 {
			return fmt.Errorf("baseline sign-in: %d %v", code, err)
		}
		idle = append(idle, time.Since(start))
	}

	logf("guessing: %d connections at one account for %v", c.guessers, c.duration)
	gctx, stop := context.WithTimeout(ctx, c.duration)
	var t tally
	var wg sync.WaitGroup
	start := time.Now()
	for g := range c.guessers {
		from := fmt.Sprintf("10.%d.%d.%d", g>>16&255, g>>8&255, g&255+1)
		wg.Go(func() {
			for i := 0; gctx.Err() == nil; i++ {
				t.count(signIn(gctx, from, "victim@load.test", fmt.Sprintf("guess-%d-%d", g, i)))
			}
		})
	}
	wg.Wait()
	stop()
	elapsed := time.Since(start)
	fmt.Printf("guessing, %d connections (one client address each) at one account for %v: %d guesses checked (%.2f/s), %d refused untried (429), %d other\n",
		c.guessers, elapsed.Round(time.Second), t.checked.Load(), float64(t.checked.Load())/elapsed.Seconds(), t.refused.Load(), t.other.Load())

	// The owner, honouring Retry-After, right after the guessing stopped.
	stopped := time.Now()
	for {
		code, retry, err := signIn(ctx, "198.51.100.2", "victim@load.test", "pw-victim")
		if err != nil {
			return err
		}
		if code == 200 {
			break
		}
		if code != 429 {
			return fmt.Errorf("the owner's sign-in: %d", code)
		}
		select {
		case <-time.After(time.Duration(max(retry, 1)) * time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	fmt.Printf("the owner, honouring Retry-After, signed in %v after the guessing stopped\n", time.Since(stopped).Round(10*time.Millisecond))

	logf("flood: %d connections from one address for %v", c.flooders, c.duration)
	fctx, stop := context.WithTimeout(ctx, c.duration)
	defer stop()
	t = tally{}
	var n atomic.Int64
	for range c.flooders {
		wg.Go(func() {
			for fctx.Err() == nil {
				t.count(signIn(fctx, "203.0.113.1", fmt.Sprintf("flood%d@load.test", n.Add(1)), "x"))
			}
		})
	}
	// Let the flood fill the server's queues before measuring.
	time.Sleep(2 * time.Second)
	var during []time.Duration
	for fctx.Err() == nil {
		start := time.Now()
		// The whole sign-in counts, even if the flood ends meanwhile.
		code, _, err := signIn(ctx, "198.51.100.1", "other@load.test", "pw-other")
		if err != nil {
			return err
		}
		if code != 200 {
			return fmt.Errorf("sign-in during the flood: %d", code)
		}
		during = append(during, time.Since(start))
	}
	wg.Wait()
	fmt.Printf("flood, %d connections from one client address for %v: %d sign-ins checked, %d refused (429), %d other\n",
		c.flooders, c.duration, t.checked.Load(), t.refused.Load(), t.other.Load())
	if len(during) == 0 {
		fmt.Println("another address's sign-in during the flood: none completed")
	} else {
		fmt.Printf("another address's sign-in during the flood: %s\n", percentiles(during))
	}
	fmt.Printf("the same sign-in on the idle server (baseline, same run): %s\n", percentiles(idle))
	return nil
}

// tally counts the answers of the token endpoint: a password checked (400
// invalid_grant), refused untried (429), anything else. Failed requests
// (the run ending) are not counted.
type tally struct{ checked, refused, other atomic.Int64 }

func (t *tally) count(code, _ int, err error) {
	switch {
	case err != nil:
	case code == 400:
		t.checked.Add(1)
	case code == 429:
		t.refused.Add(1)
	default:
		t.other.Add(1)
	}
}
