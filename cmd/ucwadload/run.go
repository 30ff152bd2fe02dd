package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
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
	"text/tabwriter"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/postgres"
	"github.com/ucwad/ucwad/sqlite"
)

// runConfig is a load run's settings (the flags of the default mode).
type runConfig struct {
	url         string // a running server (or several, comma-separated)
	server      string // or a ucwad binary to start
	postgres    string // with server: a PostgreSQL URL instead of SQLite
	nodes       int    // with server: how many to start
	serverFlags string
	serverPIDs  string // with url: the processes to read RSS from

	clients, clientsPerUser, workers, sourceAddrs int
	userPattern, password                         string
	hash                                          string

	mix                         string
	think, duration             time.Duration
	requests                    int64
	minEach                     int
	rate                        float64
	pgetTimeout, requestTimeout time.Duration
	available, keepAlive        bool
	opConns                     int
	settle                      time.Duration
	setupParallel               int

	ceiling      time.Duration
	ceilingConns int

	json     bool
	progress bool
}

// Environment variable naming the hidden roles the tool re-executes
// itself in: "worker" (a share of the clients) and "bare" (the
// bare-handler ceiling).
const roleEnv = "UCWADLOAD_ROLE"

// connsPerClient is the connections a client holds: its P-GET's, and one
// for its operations when it has any and keeps it.
func connsPerClient(mix []weight, keepAlive bool, opConns int) int {
	if len(mix) == 0 || !keepAlive || opConns > 0 {
		return 1
	}
	return 2
}

// raiseFileLimit raises the soft RLIMIT_NOFILE to the hard limit and
// says clearly when need descriptors are more than that. It returns the
// limit now in force.
func raiseFileLimit(need uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, fmt.Errorf("raising the descriptor limit to %d: %v", lim.Max, err)
		}
	}
	if need > lim.Cur {
		return lim.Cur, fmt.Errorf("this process needs about %d file descriptors and may hold at most %d (the hard limit, ulimit -Hn): use more --workers or raise the hard limit", need, lim.Cur)
	}
	return lim.Cur, nil
}

func fileLimit() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 1024
	}
	return lim.Max
}

// report is what a run measured, printed as a table or as JSON.
type report struct {
	Target         string         `json:"target"`
	Clients        int            `json:"clients"`
	Held           int            `json:"held"`
	Users          int            `json:"users"`
	ClientsPerUser int            `json:"clients_per_user"`
	Workers        int            `json:"workers"`
	SourceAddrs    int            `json:"source_addrs"`
	Mix            string         `json:"mix"`
	ThinkMs        float64        `json:"think_ms"`
	Rate           float64        `json:"rate,omitempty"`
	ElapsedS       float64        `json:"elapsed_s"`
	Ops            []opRow        `json:"ops"`
	Total          opRow          `json:"total"`
	Setup          []opRow        `json:"setup"`
	Events         opRow          `json:"events"`
	Ceiling        *ceilingReport `json:"ceiling,omitempty"`
	ServerRSS      *rssReport     `json:"server_rss,omitempty"`
}

// opRow is one operation's line of the report.
type opRow struct {
	Op         string            `json:"op"`
	Requests   uint64            `json:"requests"`
	PerSecond  float64           `json:"per_second"`
	Latency    latencyReport     `json:"latency"`
	ErrorCount uint64            `json:"error_count"`
	Errors     map[string]uint64 `json:"errors,omitempty"`
	Delivery   *latencyReport    `json:"delivery,omitempty"`
}

// ceilingReport is the same read, closed loop, against the server and
// against a bare net/http handler writing the same bytes.
type ceilingReport struct {
	Conns     int     `json:"conns"`
	DurationS float64 `json:"duration_s"`
	Read      opRow   `json:"read"`
	Bare      opRow   `json:"bare"`
	Ratio     float64 `json:"ratio"` // read/s over bare/s
}

// rssReport is the server's resident memory (summed over its processes).
type rssReport struct {
	PIDs         []int   `json:"pids"`
	IdleMiB      float64 `json:"idle_mib"`
	HeldMiB      float64 `json:"held_mib"`
	MaxMiB       float64 `json:"max_mib"`
	EndMiB       float64 `json:"end_mib"`
	PerClientKiB float64 `json:"per_client_kib"`
	// MixCPUS is the CPU time (user and system) the servers used during
	// the mix, and CPUPerOpMs that divided by the operations made: what
	// an operation and its events cost the server, whatever else ran
	// on the machine.
	MixCPUS    float64 `json:"mix_cpu_s"`
	CPUPerOpMs float64 `json:"cpu_per_op_ms,omitempty"`
}

func row(op string, s *opStats, elapsed time.Duration) opRow {
	r := opRow{Op: op, Requests: s.Latency.n, Latency: summarize(&s.Latency), ErrorCount: s.errorCount(), Errors: s.Errors}
	if elapsed > 0 {
		r.PerSecond = float64(s.Latency.n) / elapsed.Seconds()
	}
	if s.Delivery.n > 0 {
		d := summarize(&s.Delivery)
		r.Delivery = &d
	}
	return r
}

// workerProc is one worker process as the coordinator sees it.
type workerProc struct {
	spec  workerSpec
	cmd   *exec.Cmd
	stdin io.WriteCloser
	last  workerMsg // its latest progress
}

type procMsg struct {
	w   int
	msg workerMsg
	err error // the worker's output ended
}

func (rc *runConfig) logf(format string, args ...any) {
	if rc.progress {
		logf(format, args...)
	}
}

// runLoad is the default mode: the sizing run.
func runLoad(ctx context.Context, rc runConfig) (*report, error) {
	mix, err := parseMix(rc.mix)
	if err != nil {
		return nil, err
	}
	if _, err := raiseFileLimit(0); err != nil {
		return nil, err
	}
	rep := &report{Clients: rc.clients, ClientsPerUser: rc.clientsPerUser, Mix: rc.mix, ThinkMs: ms(rc.think), Rate: rc.rate}
	rep.Users = (rc.clients + rc.clientsPerUser - 1) / rc.clientsPerUser

	var bases []string
	var pids []int
	if rc.server != "" {
		dir, err := os.MkdirTemp("", "ucwadload")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		db := filepath.Join(dir, "ucwad.db")
		rep.Target = fmt.Sprintf("%s started on SQLite", rc.server)
		if rc.postgres != "" {
			dsn, drop, err := freshSchema(ctx, rc.postgres)
			if err != nil {
				return nil, err
			}
			defer drop()
			db = dsn
			rep.Target = fmt.Sprintf("%s started on PostgreSQL, %d node(s)", rc.server, rc.nodes)
		}
		rc.logf("creating %d users (%s) in a fresh database", rep.Users, fmt.Sprintf(rc.userPattern, 0))
		if err := provisionUsers(ctx, db, rc.userPattern, rc.password, rc.hash, 0, rep.Users, nil); err != nil {
			return nil, err
		}
		for range rc.nodes {
			srv, base, err := startServer(ctx, rc.server, db, strings.Fields(rc.serverFlags)...)
			if err != nil {
				return nil, err
			}
			defer srv.stop()
			bases = append(bases, base)
			pids = append(pids, srv.cmd.Process.Pid)
		}
	} else {
		for u := range strings.SplitSeq(rc.url, ",") {
			bases = append(bases, strings.TrimRight(strings.TrimSpace(u), "/"))
		}
		rep.Target = rc.url
		for p := range strings.SplitSeq(rc.serverPIDs, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			pid, err := strconv.Atoi(p)
			if err != nil {
				return nil, fmt.Errorf("--server-pid: %q is not a process id", p)
			}
			pids = append(pids, pid)
		}
	}
	var rss *rssReport
	if len(pids) > 0 {
		rss = &rssReport{PIDs: pids}
		idle, err := rssOf(pids)
		if err != nil {
			return nil, fmt.Errorf("reading the server's memory: %w", err)
		}
		rss.IdleMiB = mib(idle)
	}

	// Workers: enough that none needs more descriptors than the hard
	// limit allows, each a contiguous range of whole users.
	perClient := connsPerClient(mix, rc.keepAlive, rc.opConns)
	// The server needs a descriptor per connection too: say so before
	// the run when it cannot have them.
	for _, pid := range pids {
		if lim, err := openFilesLimit(pid); err == nil && uint64(rc.clients*perClient/len(pids)+64) > lim {
			logf("warning: server process %d may open at most %d files, and %d clients hold %d connection(s) each: it will refuse some (use --keepalive=false, or raise its limit)",
				pid, lim, rc.clients, perClient)
		}
	}
	workers := rc.workers
	if workers <= 0 {
		budget := max(int(fileLimit())*4/5, 256)
		workers = max(1, (rc.clients*perClient+budget-1)/budget)
	}
	workers = min(workers, rep.Users)
	rep.Workers = workers
	ips, err := sourceIPs(bases, rc.sourceAddrs)
	if err != nil {
		return nil, err
	}
	rep.SourceAddrs = len(ips)

	specs := make([]workerSpec, workers)
	firstUser := 0
	for w := range workers {
		users := rep.Users / workers
		if w < rep.Users%workers {
			users++
		}
		s := workerSpec{Index: w, Bases: bases, FirstUser: firstUser, Users: users, ClientsPerUser: rc.clientsPerUser,
			LastClients: rc.clientsPerUser, UserPattern: rc.userPattern, Password: rc.password, Mix: mix, Think: rc.think,
			Duration: rc.duration, MinEach: rc.minEach, PGetTimeout: rc.pgetTimeout, RequestTimeout: rc.requestTimeout, Available: rc.available, KeepAlive: rc.keepAlive, OpConns: rc.opConns,
			SetupParallel: rc.setupParallel, Seed: uint64(time.Now().UnixNano()) + uint64(w)}
		if firstUser+users == rep.Users {
			s.LastClients = rc.clients - (rep.Users-1)*rc.clientsPerUser
		}
		for i, ip := range ips {
			if len(ips) < workers || i%workers == w {
				s.SourceIPs = append(s.SourceIPs, ip)
			}
		}
		firstUser += users
		specs[w] = s
	}
	for w := range specs {
		share := float64(specs[w].clients()) / float64(rc.clients)
		specs[w].Rate = rc.rate * share
		if rc.requests > 0 {
			specs[w].Requests = max(1, int64(float64(rc.requests)*share))
		}
	}

	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	procs := make([]*workerProc, workers)
	msgs := make(chan procMsg, 16*workers)
	quit := make(chan struct{})
	var readers sync.WaitGroup
	defer func() {
		close(quit)
		for _, p := range procs {
			if p == nil {
				continue
			}
			p.stdin.Close()
			done := make(chan struct{})
			go func() { p.cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				p.cmd.Process.Kill()
				<-done
			}
		}
		readers.Wait()
	}()
	rc.logf("starting %d worker process(es) for %d clients of %d users, from %d source address(es)", workers, rc.clients, rep.Users, len(ips))
	for w, s := range specs {
		cmd, stdin, stdout, err := startRole(self, "worker")
		if err != nil {
			return nil, err
		}
		procs[w] = &workerProc{spec: s, cmd: cmd, stdin: stdin}
		b, _ := json.Marshal(s)
		if _, err := stdin.Write(append(b, '\n')); err != nil {
			return nil, err
		}
		readers.Go(func() {
			sc := bufio.NewScanner(stdout)
			sc.Buffer(make([]byte, 1<<20), 64<<20)
			put := func(m procMsg) bool {
				select {
				case msgs <- m:
					return true
				case <-quit:
					return false
				}
			}
			for sc.Scan() {
				var m workerMsg
				if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
					put(procMsg{w: w, err: fmt.Errorf("worker %d: %v", w, err)})
					return
				}
				if !put(procMsg{w: w, msg: m}) {
					return
				}
			}
			put(procMsg{w: w, err: fmt.Errorf("worker %d exited", w)})
		})
	}
	next := func() (procMsg, error) {
		select {
		case m := <-msgs:
			if m.err != nil {
				return m, m.err
			}
			if m.msg.Kind == "fatal" {
				return m, fmt.Errorf("worker %d: %s", m.w, m.msg.Error)
			}
			return m, nil
		case <-ctx.Done():
			return procMsg{}, fmt.Errorf("waiting for the workers: %w", ctx.Err())
		}
	}

	// Setup: every worker signs in, registers and holds.
	var sample *readSample
	setupStart := time.Now()
	lastSetup := time.Now()
	for ready := 0; ready < workers; {
		m, err := next()
		if err == nil && m.msg.Kind == "setup" {
			procs[m.w].last = m.msg
			if time.Since(lastSetup) >= time.Second {
				lastSetup = time.Now()
				var reg int64
				held := 0
				for _, p := range procs {
					reg += p.last.Registered
					held += p.last.Held
				}
				rc.logf("%5.0fs  setting up: %d of %d applications registered, %d P-GETs held", time.Since(setupStart).Seconds(), reg, rc.clients, held)
			}
			continue
		}
		if err != nil {
			if m.msg.Kind == "fatal" && m.msg.Held > 0 {
				return nil, fmt.Errorf("could not hold every P-GET asked for: %v", err)
			}
			return nil, err
		}
		if m.msg.Kind == "ready" {
			ready++
			procs[m.w].last.Held = m.msg.Held
			rep.Held += m.msg.Held
			if sample == nil {
				sample = m.msg.Sample
			}
		}
	}
	rc.logf("%d clients signed in, each holding its P-GET", rep.Held)
	if len(pids) > 0 && rc.settle > 0 {
		// The first P-GETs of thousands of clients queue work on the
		// server (taking their channels, their first batches) for a
		// while after they are sent (the server has not read most of them
		// yet): measure its memory and start the mix once it is done.
		waited, err := settle(pids, rc.settle, func(busy float64) {
			rc.logf("waiting for the server to finish the setup: %.0f%% of a CPU busy", busy*100)
		})
		if err != nil {
			return nil, err
		}
		rc.logf("server settled after %.1fs", waited.Seconds())
	}
	if rss != nil {
		held, err := rssOf(pids)
		if err != nil {
			return nil, err
		}
		rss.HeldMiB = mib(held)
		rss.MaxMiB = rss.HeldMiB
		rss.PerClientKiB = float64(held-int64(rss.IdleMiB*(1<<20))) / 1024 / float64(max(rep.Held, 1))
	}

	// The mix.
	var cpuStart time.Duration
	if len(pids) > 0 {
		cpuStart, _ = cpuOf(pids)
	}
	for _, p := range procs {
		p.stdin.Write([]byte("start\n"))
	}
	start := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	stats := map[string]*opStats{}
	var lastOps uint64
	lastAt := start
	fresh := make([]bool, workers)
	for results := 0; results < workers; {
		// A line once every worker has reported since the last one (they
		// report every second), so that no line counts two seconds of a
		// worker and the next none.
		all := true
		for _, f := range fresh {
			all = all && f
		}
		var due <-chan time.Time
		if all {
			due = tick.C
		}
		select {
		case <-due:
			clear(fresh)
			if rss != nil {
				if b, err := rssOf(pids); err == nil {
					rss.MaxMiB = max(rss.MaxMiB, mib(b))
				}
			}
			var ops, errs uint64
			held := 0
			for _, p := range procs {
				for _, n := range p.last.Ops {
					ops += n
				}
				errs += p.last.Errs
				held += p.last.Held
			}
			now := time.Now()
			line := fmt.Sprintf("%5.0fs  held %d  operations %d (%.0f/s)  errors %d", now.Sub(start).Seconds(), held, ops, float64(ops-lastOps)/now.Sub(lastAt).Seconds(), errs)
			if rss != nil {
				line += fmt.Sprintf("  server RSS max %.0f MiB", rss.MaxMiB)
			}
			rc.logf("%s", line)
			lastOps, lastAt = ops, now
		case m := <-msgs:
			if m.err != nil {
				return nil, m.err
			}
			switch m.msg.Kind {
			case "progress":
				procs[m.w].last = m.msg
				fresh[m.w] = true
			case "result":
				results++
				for op, s := range m.msg.Stats {
					if stats[op] == nil {
						stats[op] = &opStats{}
					}
					stats[op].merge(s)
				}
			case "fatal":
				return nil, fmt.Errorf("worker %d: %s", m.w, m.msg.Error)
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	elapsed := time.Since(start)
	rep.ElapsedS = elapsed.Seconds()
	if rss != nil && len(mix) > 0 {
		if cpu, err := cpuOf(pids); err == nil {
			rss.MixCPUS = (cpu - cpuStart).Seconds()
		}
	}
	if len(mix) == 0 {
		rep.ElapsedS = 0
	}

	// The ceiling, with every P-GET still held.
	if rc.ceiling > 0 && sample != nil {
		rc.logf("ceiling: the same read, closed loop on %d connections, against the server and a bare handler, %v each", rc.ceilingConns, rc.ceiling)
		c, err := measureCeiling(ctx, rc, sample)
		if err != nil {
			return nil, fmt.Errorf("ceiling: %w", err)
		}
		rep.Ceiling = c
	}
	if rss != nil {
		if b, err := rssOf(pids); err == nil {
			rss.EndMiB = mib(b)
			rss.MaxMiB = max(rss.MaxMiB, rss.EndMiB)
		}
		rep.ServerRSS = rss
	}
	for _, p := range procs {
		p.stdin.Write([]byte("stop\n"))
	}
	// Each worker leaves the server as it found it and exits; one that
	// fails (or that the race detector caught) fails the run.
	for w, p := range procs {
		p.stdin.Close()
		err := p.cmd.Wait()
		procs[w] = nil
		if err != nil {
			return nil, fmt.Errorf("worker %d: %v", w, err)
		}
	}

	var total opStats
	for _, w := range mix {
		s := stats[w.Op]
		if s == nil {
			s = &opStats{}
		}
		rep.Ops = append(rep.Ops, row(w.Op, s, elapsed))
		total.merge(s)
	}
	rep.Total = row("total", &total, elapsed)
	if rep.ServerRSS != nil && rep.Total.Requests > 0 {
		rep.ServerRSS.CPUPerOpMs = rep.ServerRSS.MixCPUS * 1000 / float64(rep.Total.Requests)
	}
	for _, op := range []string{opSignIn, opRegister} {
		if s := stats[op]; s != nil {
			rep.Setup = append(rep.Setup, row(op, s, 0))
		}
	}
	if s := stats[opEvents]; s != nil {
		rep.Events = row(opEvents, s, elapsed)
	} else {
		rep.Events = opRow{Op: opEvents}
	}
	return rep, nil
}

// sourceIPs lists the loopback source addresses clients bind to: n of
// them from 127.0.0.2, when every target is an IPv4 loopback address;
// none (the system chooses) otherwise.
func sourceIPs(bases []string, n int) ([]string, error) {
	if n <= 0 {
		return nil, nil
	}
	for _, b := range bases {
		u, err := url.Parse(b)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("--url: %q is not a URL", b)
		}
		ip := net.ParseIP(u.Hostname())
		if u.Hostname() == "localhost" {
			ip = net.IPv4(127, 0, 0, 1)
		}
		if ip == nil || ip.To4() == nil || !ip.IsLoopback() {
			return nil, nil
		}
	}
	if n > 250*256 {
		return nil, errors.New("--source-addrs: at most 64000")
	}
	ips := make([]string, n)
	for i := range n {
		k := i + 2
		ips[i] = fmt.Sprintf("127.0.%d.%d", k/256, k%256)
	}
	return ips, nil
}

// openFilesLimit reads a process's soft limit of open files.
func openFilesLimit(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Max open files"); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				return strconv.ParseUint(f[0], 10, 64)
			}
		}
	}
	return 0, errors.New("no open files limit")
}

// settleBusy is the share of one CPU under which the servers count as
// done with the setup.
const settleBusy = 0.05

// settle waits until the processes use less than settleBusy of a CPU over
// a second, or at most limit; it reports the share each second it waits.
func settle(pids []int, limit time.Duration, progress func(busy float64)) (time.Duration, error) {
	start := time.Now()
	prev, err := cpuOf(pids)
	if err != nil {
		return 0, err
	}
	for time.Since(start) < limit {
		time.Sleep(time.Second)
		cur, err := cpuOf(pids)
		if err != nil {
			return 0, err
		}
		busy := (cur - prev).Seconds()
		if busy < settleBusy {
			break
		}
		progress(busy)
		prev = cur
	}
	return time.Since(start), nil
}

// clockTicks is the unit of the CPU times in /proc/PID/stat (USER_HZ,
// 100 on Linux).
const clockTicks = 100

// cpuOf sums the CPU time (user and system) the processes have used.
func cpuOf(pids []int) (time.Duration, error) {
	var ticks int64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0, err
		}
		// The command may hold spaces: the fields follow its closing parenthesis.
		i := bytes.LastIndexByte(b, ')')
		f := strings.Fields(string(b[i+1:]))
		if i < 0 || len(f) < 13 {
			return 0, fmt.Errorf("process %d: unreadable stat", pid)
		}
		for _, v := range f[11:13] { // utime, stime (fields 14 and 15)
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("process %d: unreadable stat", pid)
			}
			ticks += n
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// rssOf sums the resident memory of the processes.
func rssOf(pids []int) (int64, error) {
	var total int64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return 0, err
		}
		found := false
		for line := range strings.SplitSeq(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, err := strconv.ParseInt(f[1], 10, 64)
				if err != nil {
					return 0, err
				}
				total += kb * 1024
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("process %d: no VmRSS", pid)
		}
	}
	return total, nil
}

// freshSchema makes a schema of its own in the PostgreSQL database dsn
// names and returns a URL that uses it and a function that drops it.
func freshSchema(ctx context.Context, dsn string) (string, func(), error) {
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", nil, err
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "ucwadload_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		return "", nil, err
	}
	u, err := url.Parse(dsn)
	if err != nil {
		admin.Close()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() {
		admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
		admin.Close()
	}, nil
}

// provisionUsers creates users first..first+n-1 named by pattern (a
// fmt pattern with one %d) with the password, writing through the store
// of the database db names (a SQLite path or a postgres:// URL). Users
// that exist already are left as they are. hash is "cheap" (argon2id with
// the test suite's parameters: sign-in is not what a load run measures)
// or "default" (the server's own parameters).
func provisionUsers(ctx context.Context, db, pattern, password, hash string, first, n int, progress func(done int)) error {
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
	p := auth.TestParams
	switch hash {
	case "cheap":
	case "default":
		p = auth.DefaultParams
	default:
		return fmt.Errorf("--hash: %q is neither cheap nor default", hash)
	}
	h, err := auth.NewHasher(p, 1).Hash(ctx, password)
	if err != nil {
		return err
	}
	for i := first; i < first+n; i++ {
		err := s.CreateUser(ctx, &ucwad.User{SIP: fmt.Sprintf(pattern, i), Name: fmt.Sprintf("Load User %d", i), PasswordHash: h})
		var ue *ucwad.Error
		if err != nil && !(errors.As(err, &ue) && ue.Code == ucwad.EConflict) {
			return err
		}
		if progress != nil && (i-first+1)%1000 == 0 {
			progress(i - first + 1)
		}
	}
	return nil
}

// measureCeiling runs the sample read closed loop on rc.ceilingConns
// connections against the server, then against a bare net/http handler
// (a child process, on loopback) answering the same bytes.
func measureCeiling(ctx context.Context, rc runConfig, s *readSample) (*ceilingReport, error) {
	read, err := readLoop(ctx, s.URL, s.Token, s.SourceIP, rc.ceilingConns, rc.ceiling)
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd, stdin, stdout, err := startRole(self, "bare")
	if err != nil {
		return nil, err
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	b, _ := json.Marshal(s)
	stdin.Write(append(b, '\n'))
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("the bare handler did not start: %v", err)
	}
	u, _ := url.Parse(s.URL)
	bareURL := "http://" + strings.TrimSpace(line) + u.RequestURI()
	bare, err := readLoop(ctx, bareURL, s.Token, s.SourceIP, rc.ceilingConns, rc.ceiling)
	if err != nil {
		return nil, err
	}
	c := &ceilingReport{Conns: rc.ceilingConns, DurationS: rc.ceiling.Seconds(),
		Read: row("read (closed loop)", read, rc.ceiling), Bare: row("bare handler", bare, rc.ceiling)}
	if c.Bare.PerSecond > 0 {
		c.Ratio = c.Read.PerSecond / c.Bare.PerSecond
	}
	return c, nil
}

// readLoop GETs href on conns connections without pause for d, checking
// every answer as the mix's read does.
func readLoop(ctx context.Context, href, token, src string, conns int, d time.Duration) (*opStats, error) {
	var mu sync.Mutex
	st := &opStats{}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	for range conns {
		var dialer net.Dialer
		if src != "" {
			dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
		}
		tr := &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 1}
		c := &client{u: &user{token: token}, hc: &http.Client{Transport: tr}}
		wg.Go(func() {
			defer tr.CloseIdleConnections()
			for ctx.Err() == nil {
				start := time.Now()
				a, err := c.send(ctx, c.hc, "GET", href, "", nil)
				if err == nil {
					_, err = wantResource(a, 200, "myOnlineMeeting")
				}
				if ctx.Err() != nil {
					return
				}
				mu.Lock()
				if err != nil {
					st.fail(errKind(err), 1)
				} else {
					st.Latency.add(time.Since(start))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return st, nil
}

// runBare is the bare-handler process: it reads a readSample on stdin,
// serves its bytes to every request on a loopback port it prints, and
// exits at the end of stdin.
func runBare(stdin io.Reader, stdout io.Writer) error {
	r := bufio.NewReader(stdin)
	line, err := r.ReadBytes('\n')
	if err != nil {
		return err
	}
	var s readSample
	if err := json.Unmarshal(line, &s); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	length := strconv.Itoa(len(s.Body))
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{s.ContentType}
		h["Content-Length"] = []string{length}
		w.Write(s.Body)
	}))
	fmt.Fprintln(stdout, ln.Addr().String())
	io.Copy(io.Discard, r)
	return nil
}

// printReport writes the report as tables.
func printReport(w io.Writer, r *report) {
	fmt.Fprintf(w, "target: %s\n", r.Target)
	fmt.Fprintf(w, "clients: %d (%d held a P-GET) of %d users (%d per user), %d worker process(es), %d source address(es)\n",
		r.Clients, r.Held, r.Users, r.ClientsPerUser, r.Workers, r.SourceAddrs)
	rate := ""
	if r.Rate > 0 {
		rate = fmt.Sprintf(", paced to %.0f/s", r.Rate)
	}
	fmt.Fprintf(w, "mix: %s; think %v%s; %.1f s\n\n", orHold(r.Mix), time.Duration(r.ThinkMs*float64(time.Millisecond)), rate, r.ElapsedS)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\trequests\t/s\tp50 ms\tp95 ms\tp99 ms\tmax ms\terrors\tdelivery p50\tp95\tp99\tmax ms\t")
	line := func(r opRow) {
		d := "-\t-\t-\t-"
		if r.Delivery != nil {
			d = fmt.Sprintf("%.1f\t%.1f\t%.1f\t%.1f", r.Delivery.P50ms, r.Delivery.P95ms, r.Delivery.P99ms, r.Delivery.MaxMs)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%d\t%s\t\n", r.Op, r.Requests, r.PerSecond,
			r.Latency.P50ms, r.Latency.P95ms, r.Latency.P99ms, r.Latency.MaxMs, r.ErrorCount, d)
	}
	for _, o := range r.Ops {
		line(o)
	}
	if len(r.Ops) > 0 {
		line(r.Total)
	}
	line(r.Events)
	for _, o := range r.Setup {
		line(o)
	}
	if c := r.Ceiling; c != nil {
		line(c.Read)
		line(c.Bare)
	}
	tw.Flush()
	all := append(append(append([]opRow{}, r.Ops...), r.Events), r.Setup...)
	if r.Ceiling != nil {
		all = append(all, r.Ceiling.Read, r.Ceiling.Bare)
	}
	for _, o := range all {
		for _, k := range slices.Sorted(maps.Keys(o.Errors)) {
			fmt.Fprintf(w, "  %s error: %s: %d\n", o.Op, k, o.Errors[k])
		}
	}
	fmt.Fprintln(w, "(events: P-GET answers, their latency how long each was held; delivery: from the change's 2xx to its event on each affected client's P-GET)")
	if c := r.Ceiling; c != nil && c.Read.Requests == 0 && c.Read.ErrorCount == 0 {
		fmt.Fprintf(w, "ceiling: no read of the server finished within %.0f s: it was still working off the run (a bare net/http handler: %.0f/s)\n", c.DurationS, c.Bare.PerSecond)
	} else if c != nil {
		fmt.Fprintf(w, "ceiling: the read closed loop on %d connections for %.0f s: the server %.0f/s, a bare net/http handler writing the same bytes %.0f/s (%.0f %%)\n",
			c.Conns, c.DurationS, c.Read.PerSecond, c.Bare.PerSecond, 100*c.Ratio)
	}
	if s := r.ServerRSS; s != nil {
		fmt.Fprintf(w, "server RSS: %.1f MiB before the clients, %.1f MiB with every P-GET held (%.1f KiB per client), %.1f MiB at most during the run, %.1f MiB at the end\n",
			s.IdleMiB, s.HeldMiB, s.PerClientKiB, s.MaxMiB, s.EndMiB)
		if s.MixCPUS > 0 {
			fmt.Fprintf(w, "server CPU during the mix: %.1f s (%.0f%% of one CPU), %.2f ms per operation made\n",
				s.MixCPUS, 100*s.MixCPUS/max(r.ElapsedS, 1e-9), s.CPUPerOpMs)
		}
	} else {
		fmt.Fprintln(w, "server RSS: not seen (give --server-pid to read it)")
	}
}

func orHold(mix string) string {
	if mix == "" {
		return "hold (P-GETs only)"
	}
	return mix
}

// startRole starts this binary again in a hidden role (roleEnv), with pipes
// to its stdin and from its stdout and its stderr shared with ours.
func startRole(self, role string) (*exec.Cmd, io.WriteCloser, io.ReadCloser, error) {
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), roleEnv+"="+role)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, nil, err
	}
	return cmd, stdin, stdout, nil
}
