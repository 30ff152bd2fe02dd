package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for the schemas the runs use

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/postgres"
	"github.com/ucwad/ucwad/sqlite"
)

// nodesConfig is the --postgres comparison: the same measurements on one
// node with SQLite, one node with PostgreSQL and two nodes with
// PostgreSQL, in one run.
type nodesConfig struct {
	dsn      string
	clients  int
	duration time.Duration
	samples  int
}

// setupRun is one configuration of the comparison.
type setupRun struct {
	name  string
	db    string // what --db gets
	nodes int
}

// nodeResult is what one configuration measured.
type nodeResult struct {
	schedule, get float64 // requests per second
	// latency is from sending the change to the P-GET's answer; post is
	// the change's own round trip, the baseline of the same samples.
	latency, post []time.Duration
}

func runNodes(ctx context.Context, bin string, nc nodesConfig) error {
	dir, err := os.MkdirTemp("", "ucwadload")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	admin, err := sql.Open("pgx", nc.dsn)
	if err != nil {
		return err
	}
	defer admin.Close()
	// Each PostgreSQL run gets a schema of its own, dropped afterwards.
	schemaDSN := func() (string, func(), error) {
		var b [6]byte
		rand.Read(b[:])
		schema := "ucwadload_" + hex.EncodeToString(b[:])
		if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
			return "", nil, err
		}
		u, err := url.Parse(nc.dsn)
		if err != nil {
			return "", nil, err
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String(), func() { admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`) }, nil
	}
	runs := []setupRun{{name: "SQLite, 1 node", db: filepath.Join(dir, "ucwad.db"), nodes: 1}}
	for _, n := range []int{1, 2} {
		dsn, drop, err := schemaDSN()
		if err != nil {
			return err
		}
		defer drop()
		runs = append(runs, setupRun{name: fmt.Sprintf("PostgreSQL, %d node(s)", n), db: dsn, nodes: n})
	}
	results := make([]nodeResult, len(runs))
	for i, r := range runs {
		logf("%s: %d clients, %v per throughput test, %d event samples", r.name, nc.clients, nc.duration, nc.samples)
		res, err := measureSetup(ctx, bin, r, nc)
		if err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
		results[i] = res
	}
	fmt.Printf("| Setup | Scheduling (POST myOnlineMeetings) | GET application | Event: POST sent → P-GET answered | Baseline: the POST's round trip |\n|---|---|---|---|---|\n")
	for i, r := range runs {
		res := results[i]
		fmt.Printf("| %s | %.0f/s | %.0f/s | %s | %s |\n", r.name, res.schedule, res.get, percentiles(res.latency), percentiles(res.post))
	}
	return nil
}

// createStoreUsers adds load0..loadN-1@load.test (password "load") to the
// database db names.
func createStoreUsers(ctx context.Context, db string, n int) error {
	var s ucwad.Store
	var err error
	if u, perr := url.Parse(db); perr == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		s, err = postgres.Open(ctx, db, postgres.Options{})
	} else {
		s, err = sqlite.Open(ctx, db, sqlite.Options{})
	}
	if err != nil {
		return err
	}
	defer s.Close()
	h, err := auth.NewHasher(auth.TestParams, 1).Hash(ctx, "load")
	if err != nil {
		return err
	}
	for i := range n {
		if err := s.CreateUser(ctx, &ucwad.User{SIP: fmt.Sprintf("load%d@load.test", i), PasswordHash: h}); err != nil {
			return err
		}
	}
	return nil
}

// measureSetup starts r's nodes and measures: scheduling throughput and
// GET throughput with nc.clients concurrent clients spread over the
// nodes, then event latency: a meeting scheduled through node 0, timed
// from its 201 to the answer of the P-GET held on the last node (the other
// one, with two).
func measureSetup(ctx context.Context, bin string, r setupRun, nc nodesConfig) (nodeResult, error) {
	var res nodeResult
	// A user per client, and one more whose log only the latency samples
	// fill: a P-GET then waits for the sample's own event.
	users := nc.clients + 1
	if err := createStoreUsers(ctx, r.db, users); err != nil {
		return res, err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 4 * nc.clients, MaxIdleConnsPerHost: 4 * nc.clients, IdleConnTimeout: time.Minute}}
	var nodes []*load
	for range r.nodes {
		srv, base, err := startServer(ctx, bin, r.db)
		if err != nil {
			return res, err
		}
		defer srv.stop()
		nodes = append(nodes, &load{apps: users, perUser: 1, parallel: 16, base: base, client: client})
	}
	// One application per user, registered through the first node.
	if err := nodes[0].setup(ctx, users); err != nil {
		return res, err
	}
	apps := nodes[0].registered

	throughput := func(f func(client int, node *load) error) (float64, error) {
		var done atomic.Int64
		var failed atomic.Value
		deadline := time.Now().Add(nc.duration)
		var wg sync.WaitGroup
		for c := range nc.clients {
			wg.Go(func() {
				for k := 0; time.Now().Before(deadline); k++ {
					if err := f(c, nodes[(c+k)%len(nodes)]); err != nil {
						failed.CompareAndSwap(nil, err)
						return
					}
					done.Add(1)
				}
			})
		}
		start := time.Now()
		wg.Wait()
		if err, _ := failed.Load().(error); err != nil {
			return 0, err
		}
		return float64(done.Load()) / time.Since(start).Seconds(), nil
	}
	meetings := func(a *app) string { return a.self + "/onlineMeetings/myOnlineMeetings" }
	var err error
	res.schedule, err = throughput(func(c int, n *load) error {
		a := apps[c]
		return n.call(ctx, "POST", meetings(a), a.token, "application/json", `{"subject":"load"}`, 201, nil)
	})
	if err != nil {
		return res, err
	}
	res.get, err = throughput(func(c int, n *load) error {
		a := apps[c]
		return n.call(ctx, "GET", a.self, a.token, "", "", 200, nil)
	})
	if err != nil {
		return res, err
	}

	// Event latency on the last application: P-GET on the last node, the
	// change through the first.
	a := apps[nc.clients]
	holder, writer := nodes[len(nodes)-1], nodes[0]
	href := a.events + "&timeout=1800"
	for range nc.samples {
		type answer struct {
			at   time.Time
			next string
			err  error
		}
		got := make(chan answer, 1)
		go func() {
			var ev struct {
				Links map[string]struct {
					Href string `json:"href"`
				} `json:"_links"`
				Sender []json.RawMessage `json:"sender"`
			}
			err := holder.call(ctx, "GET", href, a.token, "", "", 200, &ev)
			got <- answer{time.Now(), ev.Links["next"].Href, err}
		}()
		// Long enough for the P-GET to be parked on this machine; a P-GET
		// that arrives after the change answers at once, which only
		// shortens the sample.
		time.Sleep(20 * time.Millisecond)
		sent := time.Now()
		if err := writer.call(ctx, "POST", meetings(a), a.token, "application/json", `{"subject":"latency"}`, 201, nil); err != nil {
			return res, err
		}
		res.post = append(res.post, time.Since(sent))
		ans := <-got
		if ans.err != nil {
			return res, ans.err
		}
		if ans.next == "" {
			return res, errors.New("event batch without a next link")
		}
		res.latency = append(res.latency, ans.at.Sub(sent))
		href = ans.next + "&timeout=1800"
	}
	return res, nil
}
