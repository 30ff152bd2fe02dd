package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ucwad/ucwad/ucwa"
)

// TestMain lets the test binary play the tool's hidden roles: a sizing
// run re-executes os.Executable(), which in a test is this binary.
func TestMain(m *testing.M) {
	switch os.Getenv(roleEnv) {
	case "worker":
		if err := runWorker(os.Stdin, os.Stdout); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	case "bare":
		if err := runBare(os.Stdin, os.Stdout); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// ucwadBinary builds cmd/ucwad once per test binary (without the race
// detector: the server under load is not what these tests check for
// races, the tool is).
func ucwadBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		dir, err := os.MkdirTemp("", "ucwadload-test")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ucwad")
		out, err := exec.Command(goBin, "build", "-o", binPath, "github.com/ucwad/ucwad/cmd/ucwad").CombinedOutput()
		if err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building ucwad: %v\n%s", buildErr, binPath)
	}
	return binPath
}

// runJSON runs the tool with args and --json --quiet and decodes its
// report.
func runJSON(t *testing.T, args ...string) *report {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(append(args, "--json", "--quiet"), &out, &errb)
	if err != nil {
		t.Fatalf("ucwadload %s: %v\nstderr:\n%s", strings.Join(args, " "), err, errb.String())
	}
	var r report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("decoding the report: %v\n%s", err, out.String())
	}
	return &r
}

func wantNoErrors(t *testing.T, r opRow) {
	t.Helper()
	if r.ErrorCount != 0 {
		t.Errorf("%s: %d errors: %v", r.Op, r.ErrorCount, r.Errors)
	}
}

// TestSizingRun: a short run of every operation of the mix, against a
// server the tool starts, over two worker processes and several source
// addresses: every operation is made and none fails, every client holds
// its P-GET, the changes' events reach the P-GETs, and the ceiling and
// the server's memory are measured.
func TestSizingRun(t *testing.T) {
	t.Parallel() // mostly waiting: think times, the server's answers
	bin := ucwadBinary(t)
	const clients = 200
	// Weights that make every operation happen often in seconds; past
	// the duration, the run goes on until each happened thrice per
	// worker, however slow the machine is today.
	r := runJSON(t, "--server", bin, "--clients", strconv.Itoa(clients), "--clients-per-user", "4", "--workers", "2",
		"--source-addrs", "8", "--think", "300ms", "--duration", "3s", "--min-each", "3", "--deadline", "3m", "--ceiling", "300ms", "--ceiling-conns", "4",
		"--mix", "schedule=2,read=3,ext-add=2,ext-read=2,ext-update=2,join=4,message=4,leave=2,delete=2")
	if r.Held != clients || r.Clients != clients || r.Users != clients/4 || r.Workers != 2 || r.SourceAddrs != 8 {
		t.Errorf("held %d of %d clients, %d users, %d workers, %d source addresses", r.Held, r.Clients, r.Users, r.Workers, r.SourceAddrs)
	}
	if len(r.Ops) != len(mixOps) {
		t.Fatalf("%d operations in the report, want %d: %+v", len(r.Ops), len(mixOps), r.Ops)
	}
	for _, o := range append(r.Ops, r.Events) {
		t.Logf("%-10s %5d requests %7.1f/s  p50 %6.1f ms  p99 %6.1f ms", o.Op, o.Requests, o.PerSecond, o.Latency.P50ms, o.Latency.P99ms)
	}
	delivered := map[string]bool{opSchedule: true, opExtAdd: true, opExtUpdate: true, opDelete: true, opMessage: true}
	for i, o := range r.Ops {
		if o.Op != mixOps[i] {
			t.Errorf("operation %d is %s, want %s", i, o.Op, mixOps[i])
		}
		if o.Requests == 0 || o.PerSecond <= 0 || o.Latency.N != o.Requests || o.Latency.MaxMs < o.Latency.P50ms {
			t.Errorf("%s: %d requests, %.1f/s, latency %+v", o.Op, o.Requests, o.PerSecond, o.Latency)
		}
		wantNoErrors(t, o)
		if delivered[o.Op] && (o.Delivery == nil || o.Delivery.N == 0) {
			t.Errorf("%s: no event delivery measured", o.Op)
		}
	}
	wantNoErrors(t, r.Total)
	wantNoErrors(t, r.Events)
	if r.Events.Requests == 0 {
		t.Error("no P-GET answered")
	}
	if len(r.Setup) != 2 || r.Setup[0].Requests != clients/4 || r.Setup[1].Requests != clients {
		t.Errorf("setup: %+v", r.Setup)
	}
	for _, o := range r.Setup {
		wantNoErrors(t, o)
	}
	if c := r.Ceiling; c == nil || c.Read.Requests == 0 || c.Bare.Requests == 0 || c.Ratio <= 0 {
		t.Errorf("ceiling: %+v", c)
	} else {
		wantNoErrors(t, c.Read)
		wantNoErrors(t, c.Bare)
	}
	if s := r.ServerRSS; s == nil || s.IdleMiB <= 0 || s.HeldMiB <= 0 || s.MaxMiB < s.HeldMiB || len(s.PIDs) != 1 {
		t.Errorf("server RSS: %+v", s)
	}
}

// TestAgainstURL: users provisioned in a running server's database, then
// a run against its URL that only holds P-GETs, its memory read through
// --server-pid; a run asking for users that do not exist fails saying so.
func TestAgainstURL(t *testing.T) {
	t.Parallel() // mostly waiting: think times, the server's answers
	bin := ucwadBinary(t)
	db := filepath.Join(t.TempDir(), "ucwad.db")
	var out, errb bytes.Buffer
	if err := run([]string{"provision", "--db", db, "--users", "5", "--user-pattern", "u%d@example.com", "--password", "pw"}, &out, &errb); err != nil {
		t.Fatalf("provision: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "u0@example.com to u4@example.com") {
		t.Errorf("provision said %q", out.String())
	}
	// Again: the users exist, nothing fails.
	if err := run([]string{"provision", "--db", db, "--users", "5", "--user-pattern", "u%d@example.com", "--password", "pw"}, &out, &errb); err != nil {
		t.Fatalf("provision again: %v\n%s", err, errb.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, base, err := startServer(ctx, bin, db)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.stop()
	pid := strconv.Itoa(srv.cmd.Process.Pid)
	r := runJSON(t, "--url", base, "--server-pid", pid, "--clients", "50", "--clients-per-user", "10",
		"--user-pattern", "u%d@example.com", "--password", "pw", "--mix", "hold", "--duration", "500ms", "--ceiling", "0")
	if r.Held != 50 || r.Users != 5 || len(r.Ops) != 0 || r.Ceiling != nil || r.ServerRSS == nil || r.ServerRSS.HeldMiB <= 0 {
		t.Errorf("report: %+v", r)
	}
	wantNoErrors(t, r.Events)

	// The clients' operations over two shared connections: every
	// change made, its events delivered, nothing fails.
	r = runJSON(t, "--url", base, "--clients", "10", "--clients-per-user", "2", "--op-conns", "2",
		"--user-pattern", "u%d@example.com", "--password", "pw", "--mix", "schedule=1,ext-update=1", "--think", "20ms",
		"--duration", "500ms", "--min-each", "3", "--deadline", "1m", "--ceiling", "0")
	if len(r.Ops) != 2 {
		t.Fatalf("--op-conns run: operations %+v", r.Ops)
	}
	for _, op := range r.Ops {
		wantNoErrors(t, op)
		if op.Requests < 3 || op.Delivery == nil {
			t.Errorf("--op-conns run: %s made %d times, delivery %v", op.Op, op.Requests, op.Delivery)
		}
	}
	wantNoErrors(t, r.Events)

	// Six users are asked for, five exist.
	errb.Reset()
	err = run([]string{"--url", base, "--clients", "60", "--clients-per-user", "10", "--user-pattern", "u%d@example.com",
		"--password", "pw", "--mix", "hold", "--duration", "500ms", "--quiet"}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "signing in u5@example.com") {
		t.Errorf("a run with a missing user: %v", err)
	}
}

func TestParseMix(t *testing.T) {
	mix, err := parseMix(defaultMix)
	if err != nil || len(mix) != len(mixOps) {
		t.Fatalf("the default mix: %v %v", mix, err)
	}
	for i, w := range mix {
		if w.Op != mixOps[i] || w.Weight < 1 {
			t.Errorf("default mix %d: %+v", i, w)
		}
	}
	if mix, err := parseMix("hold"); err != nil || mix != nil {
		t.Errorf("hold: %v %v", mix, err)
	}
	if mix, err := parseMix("read,schedule=0"); err != nil || len(mix) != 1 || mix[0] != (weight{"read", 1}) {
		t.Errorf("read,schedule=0: %v %v", mix, err)
	}
	for _, bad := range []string{"dance=1", "read=x", "read=-1", "read=1,read=2", "read=100000"} {
		if _, err := parseMix(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestHistogram: quantiles within the histogram's precision, exact
// maximum, merging and the JSON round trip the workers use.
func TestHistogram(t *testing.T) {
	var a, b hist
	for i := 1; i <= 1000; i++ {
		a.add(time.Duration(i) * time.Millisecond)
	}
	b.add(5 * time.Second)
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {0, time.Millisecond}} {
		got := a.quantile(c.q)
		if d := float64(got-c.want) / float64(c.want); d > 0.02 || d < -0.02 {
			t.Errorf("quantile %.2f = %v, want %v ± 2 %%", c.q, got, c.want)
		}
	}
	if a.quantile(1) != time.Second || a.max != time.Second {
		t.Errorf("max %v", a.quantile(1))
	}
	j, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var c hist
	if err := json.Unmarshal(j, &c); err != nil {
		t.Fatal(err)
	}
	c.merge(&b)
	if c.n != 1001 || c.max != 5*time.Second || c.quantile(0.5) != a.quantile(0.5) {
		t.Errorf("merged: n %d max %v p50 %v", c.n, c.max, c.quantile(0.5))
	}
	for _, us := range []uint64{0, 63, 64, 100, 1 << 20, 1<<40 + 12345} {
		v := bucketValue(bucketOf(us))
		if d := (v - float64(us)) / max(float64(us), 1); d > 0.02 || d < -0.02 {
			t.Errorf("bucket of %d µs is worth %v", us, v)
		}
	}
}

// TestMessageToken: the run's token from a receiver's message (its
// text) and from the sender's (its operationId); other messages have none.
func TestMessageToken(t *testing.T) {
	in := func(href string) *ucwa.Resource {
		return ucwa.New("message", "/m").Set("direction", ucwa.String("Incoming")).Link("plainMessage", href)
	}
	for _, c := range []struct {
		m    *ucwa.Resource
		want string
	}{
		{in("data:text/plain;charset=utf-8,ucwadload%20w1.23"), "w1.23"},
		{in("data:text/plain;charset=utf-8,hello"), ""},
		{in("data:text/plain;charset=utf-8,ucwadload%zz"), ""},
		{in("no comma"), ""},
		{ucwa.New("message", "/m").Set("direction", ucwa.String("Incoming")), ""},
		{ucwa.New("message", "/m").Set("direction", ucwa.String("Outgoing")).Set("operationId", ucwa.String("w0.7")), "w0.7"},
	} {
		if got := messageToken(c.m); got != c.want {
			t.Errorf("%v: token %q, want %q", c.m.Props(), got, c.want)
		}
	}
}

// TestSizingRunPostgres: the same on two nodes sharing a PostgreSQL
// database (UCWAD_TEST_POSTGRES), the users spread over both: every
// client holds its P-GET and nothing fails; the memory of both servers
// is read.
func TestSizingRunPostgres(t *testing.T) {
	t.Parallel() // mostly waiting: think times, the server's answers
	dsn := os.Getenv("UCWAD_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("UCWAD_REQUIRE_POSTGRES") != "" {
			t.Fatal("UCWAD_TEST_POSTGRES is not set, and UCWAD_REQUIRE_POSTGRES says the PostgreSQL tests must run")
		}
		t.Skip("UCWAD_TEST_POSTGRES is not set (a postgres:// URL of a database the test may create schemas in)")
	}
	bin := ucwadBinary(t)
	const clients = 40
	r := runJSON(t, "--server", bin, "--postgres", dsn, "--nodes", "2", "--clients", strconv.Itoa(clients), "--clients-per-user", "2",
		"--think", "500ms", "--duration", "4s", "--ceiling", "200ms", "--ceiling-conns", "2")
	if r.Held != clients || !strings.Contains(r.Target, "PostgreSQL, 2 node(s)") {
		t.Errorf("held %d of %d clients on %s", r.Held, clients, r.Target)
	}
	if r.Total.Requests == 0 {
		t.Error("no operation was made")
	}
	for _, o := range append(append(r.Ops, r.Total, r.Events), r.Setup...) {
		wantNoErrors(t, o)
	}
	if s := r.ServerRSS; s == nil || len(s.PIDs) != 2 || s.HeldMiB <= 0 {
		t.Errorf("server RSS: %+v", s)
	}
}
