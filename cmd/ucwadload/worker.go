package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ucwad/ucwad/ucwa"
)

// A worker is one process of the load (the coordinator re-executes itself
// with UCWADLOAD_ROLE=worker). It reads its workerSpec as one JSON line on
// stdin, signs its users in, registers its clients' applications, holds
// their P-GETs and reports "ready"; on the line "start" it runs the mix,
// reporting progress every second and its result at the end; then it
// keeps holding the P-GETs until "stop" (or the end of stdin), so that the
// coordinator can measure the bare-handler ceiling with them held.

// workerSpec is what the coordinator tells one worker.
type workerSpec struct {
	Index          int           `json:"index"`
	Bases          []string      `json:"bases"` // a base URL per node; client i uses node i mod len
	FirstUser      int           `json:"first_user"`
	Users          int           `json:"users"`
	ClientsPerUser int           `json:"clients_per_user"`
	LastClients    int           `json:"last_clients"` // clients of the last user, when fewer
	UserPattern    string        `json:"user_pattern"`
	Password       string        `json:"password"`
	SourceIPs      []string      `json:"source_ips"` // empty: the system chooses
	Mix            []weight      `json:"mix"`
	Think          time.Duration `json:"think"`
	Rate           float64       `json:"rate"`     // operations per second of this worker, 0: no pacing
	Requests       int64         `json:"requests"` // operations of this worker, 0: until Duration
	Duration       time.Duration `json:"duration"`
	MinEach        int           `json:"min_each"` // go on past Duration until each operation succeeded this often
	PGetTimeout    time.Duration `json:"pget_timeout"`
	RequestTimeout time.Duration `json:"request_timeout"`
	Available      bool          `json:"available"`
	KeepAlive      bool          `json:"keepalive"`
	OpConns        int           `json:"op_conns"` // >0: the clients' operations share this many connections
	SetupParallel  int           `json:"setup_parallel"`
	Seed           uint64        `json:"seed"`
}

func (s workerSpec) clients() int {
	if s.Users == 0 {
		return 0
	}
	return (s.Users-1)*s.ClientsPerUser + s.LastClients
}

// workerMsg is one line a worker writes on stdout.
type workerMsg struct {
	Kind   string            `json:"kind"` // ready, progress, result, fatal
	Held   int               `json:"held"`
	Error  string            `json:"error,omitempty"`
	Sample *readSample       `json:"sample,omitempty"`
	Ops    map[string]uint64 `json:"ops,omitempty"` // progress: successes so far
	Errs   uint64            `json:"errs,omitempty"`
	// Registered is the applications registered so far (setup).
	Registered int64               `json:"registered,omitempty"`
	Stats      map[string]*opStats `json:"stats,omitempty"`
}

// readSample is one read of the mix as the server answered it: the
// coordinator replays the request for the closed-loop read and serves the
// answer's bytes from the bare handler.
type readSample struct {
	URL         string `json:"url"`
	Token       string `json:"token"`
	SourceIP    string `json:"source_ip,omitempty"`
	ContentType string `json:"content_type"`
	Body        []byte `json:"body"`
}

// worker is one process's share of the clients.
type worker struct {
	spec    workerSpec
	users   []*user
	clients []*client
	seq     atomic.Int64

	mu    sync.Mutex
	stats map[string]*opStats
	ops   map[string]uint64

	tmu     sync.Mutex
	pending map[string]*change

	registered atomic.Int64 // applications registered so far
}

// change is a change whose events the tracker waits for: when its 2xx
// arrived (zero until then), how many deliveries it expects (-1: not
// known, none is counted missing), which arrived before the 2xx.
type change struct {
	op      string
	done    time.Time
	created time.Time
	want    int
	got     int
	early   []time.Time
}

// How long a change's events may take before they count as not
// delivered.
const deliveryWait = 30 * time.Second

func (w *worker) record(op string, d time.Duration, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.stats[op]
	if s == nil {
		s = &opStats{}
		w.stats[op] = s
	}
	if err != nil {
		s.fail(errKind(err), 1)
		return
	}
	s.Latency.add(d)
	w.ops[op]++
}

func (w *worker) recordDelivery(op string, d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.stats[op]
	if s == nil {
		s = &opStats{}
		w.stats[op] = s
	}
	s.Delivery.add(d)
}

func (w *worker) missing(op string, n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.stats[op]
	if s == nil {
		s = &opStats{}
		w.stats[op] = s
	}
	s.fail(fmt.Sprintf("event not delivered within %v", deliveryWait), uint64(n))
}

// expectMeeting registers a change to one of u's meetings whose 2xx
// arrived at done: each of u's clients holding a P-GET gets its event.
func (w *worker) expectMeeting(op string, u *user, key string, done time.Time) {
	want := 0
	for _, c := range u.clients {
		if c.alive.Load() {
			want++
		}
	}
	w.settle(key, op, want, done)
}

// expectMessage registers a message before it is sent; messageSent gives
// its 2xx. Its receivers are the conversation's listeners, which the
// run does not count: none is reported missing.
func (w *worker) expectMessage(token string) {
	w.tmu.Lock()
	defer w.tmu.Unlock()
	w.pending["m|"+token] = &change{op: opMessage, created: time.Now(), want: -1}
}

func (w *worker) messageSent(token string, done time.Time) { w.settle("m|"+token, opMessage, -1, done) }

func (w *worker) settle(key, op string, want int, done time.Time) {
	if key == "" {
		return
	}
	w.tmu.Lock()
	ch := w.pending[key]
	if ch == nil {
		ch = &change{created: done}
		w.pending[key] = ch
	}
	ch.op, ch.want, ch.done = op, want, done
	early := ch.early
	ch.early = nil
	ch.got += len(early)
	if ch.want >= 0 && ch.got >= ch.want {
		delete(w.pending, key)
	}
	w.tmu.Unlock()
	for range early {
		w.recordDelivery(op, 0) // arrived before the 2xx reached the client
	}
}

// arrive is the arrival of key's event on one P-GET at at.
func (w *worker) arrive(key string, at time.Time) {
	w.tmu.Lock()
	ch := w.pending[key]
	if ch == nil {
		ch = &change{created: at, want: -1}
		w.pending[key] = ch
	}
	if ch.done.IsZero() {
		ch.early = append(ch.early, at)
		w.tmu.Unlock()
		return
	}
	ch.got++
	if ch.want >= 0 && ch.got >= ch.want {
		delete(w.pending, key)
	}
	op, d := ch.op, at.Sub(ch.done)
	w.tmu.Unlock()
	w.recordDelivery(op, d)
}

// expire counts the deliveries of changes older than deliveryWait (all of
// them with all) as missing and forgets them, and forgets arrivals of
// changes the run did not make (the seeds').
func (w *worker) expire(now time.Time, all bool) {
	w.tmu.Lock()
	var lost []*change
	for k, ch := range w.pending {
		if !all && now.Sub(ch.created) < deliveryWait {
			continue
		}
		if !ch.done.IsZero() && ch.want > ch.got {
			lost = append(lost, ch)
		}
		delete(w.pending, k)
	}
	w.tmu.Unlock()
	for _, ch := range lost {
		w.missing(ch.op, ch.want-ch.got)
	}
}

// awaited reports how many changes still wait for a counted delivery.
func (w *worker) awaited() int {
	w.tmu.Lock()
	defer w.tmu.Unlock()
	n := 0
	for _, ch := range w.pending {
		if !ch.done.IsZero() && ch.want > ch.got {
			n++
		}
	}
	return n
}

// deliver checks one P-GET answer, hands its events to the tracker and
// sets *href to the next P-GET.
func (w *worker) deliver(c *client, a *answer, at time.Time, href *string) error {
	if err := wantStatus(a, 200); err != nil {
		return err
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return failf("content type %q, want application/json", ct)
	}
	batch, err := ucwa.DecodeEventBatch(bytes.NewReader(a.body), ucwa.JSON)
	if err != nil {
		return failf("body: not an event batch")
	}
	switch {
	case batch.Next != "":
		*href = batch.Next
	case batch.Resync != "":
		// The documented signal to re-read everything: the log overflowed.
		*href = batch.Resync
		return errResync
	default:
		return failf("body: an event batch without next or resync")
	}
	for _, s := range batch.Senders {
		for _, e := range s.Events {
			switch {
			case s.Rel == "onlineMeetings" && (e.Link.Rel == "myOnlineMeeting" || e.Link.Rel == "onlineMeetingExtension"):
				etag := ""
				if e.Embedded != nil {
					etag = str(e.Embedded, "etag")
				}
				w.arrive(meetingKey(c.u.idx, e.Type, c.resolve(e.Link.Href), etag), at)
			case s.Rel == "conversation" && e.Type == "completed" && e.Link.Rel == "message" && e.Embedded != nil:
				if token := messageToken(e.Embedded); token != "" {
					w.arrive("m|"+token, at)
				}
			}
		}
	}
	return nil
}

// errResync is a resync answer: the documented signal that events were
// lost (the log overflowed), an error but on a channel's first P-GET,
// where it only says that an application registered again (a run after
// another) starts where the server knows it.
var errResync = &opError{"resync"}

// messageToken reads the run's token from a completed message: the
// sender's carries it as its operationId, a receiver's in its text.
func messageToken(m *ucwa.Resource) string {
	if str(m, "direction") == "Outgoing" {
		return str(m, "operationId")
	}
	l, ok := m.FindLink("plainMessage")
	if !ok {
		return ""
	}
	_, data, ok := strings.Cut(l.Href, ",")
	if !ok {
		return ""
	}
	text, err := url.PathUnescape(data)
	if err != nil {
		return ""
	}
	token, ok := strings.CutPrefix(text, "ucwadload ")
	if !ok {
		return ""
	}
	return token
}

// errReported is a worker's failure already told to the coordinator,
// which says it.
var errReported = errors.New("reported to the coordinator")

// runWorker is the worker process's main.
func runWorker(stdin io.Reader, stdout io.Writer) error {
	in := bufio.NewScanner(stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	if !in.Scan() {
		return errors.New("worker: no spec on stdin")
	}
	// Ctrl-C reaches the whole process group: the coordinator decides
	// when a worker stops (it closes stdin), so that it can clean up.
	signal.Ignore(os.Interrupt)
	var spec workerSpec
	if err := json.Unmarshal(in.Bytes(), &spec); err != nil {
		return fmt.Errorf("worker: spec: %w", err)
	}
	var outMu sync.Mutex
	enc := json.NewEncoder(stdout)
	send := func(m workerMsg) {
		outMu.Lock()
		defer outMu.Unlock()
		enc.Encode(m)
	}
	if _, err := raiseFileLimit(uint64(spec.clients())*uint64(connsPerClient(spec.Mix, spec.KeepAlive, spec.OpConns)) + uint64(spec.OpConns) + 256); err != nil {
		send(workerMsg{Kind: "fatal", Error: err.Error()})
		return errReported
	}
	// Lines from the coordinator: "start", then "stop"; the end of stdin
	// is a stop too.
	startc, stopc := make(chan struct{}), make(chan struct{})
	go func() {
		started := false
		for in.Scan() {
			switch in.Text() {
			case "start":
				if !started {
					started = true
					close(startc)
				}
			case "stop":
				close(stopc)
				return
			}
		}
		close(stopc)
	}()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-stopc
		cancel()
	}()
	w := newWorker(spec)
	setupDone := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-setupDone:
				return
			case <-t.C:
				send(workerMsg{Kind: "setup", Registered: w.registered.Load(), Held: w.held()})
			}
		}
	}()
	held, sample, err := w.setup(ctx)
	close(setupDone)
	if err != nil {
		send(workerMsg{Kind: "fatal", Held: held, Error: err.Error()})
		return errReported
	}
	send(workerMsg{Kind: "ready", Held: held, Sample: sample})
	select {
	case <-startc:
	case <-stopc:
		return nil
	}
	mixCtx, stopMix := context.WithCancel(ctx)
	go func() {
		select {
		case <-stopc:
			stopMix()
		case <-mixCtx.Done():
		}
	}()
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				w.expire(now, false)
				ops, errs := w.progress()
				send(workerMsg{Kind: "progress", Ops: ops, Errs: errs, Held: w.held()})
			}
		}
	}()
	w.runMix(mixCtx)
	stopMix()
	// The last changes' events: wait for them a little, then count what
	// has not come as missing.
	for end := time.Now().Add(5 * time.Second); w.awaited() > 0 && time.Now().Before(end); {
		time.Sleep(50 * time.Millisecond)
	}
	w.expire(time.Now(), true)
	close(done)
	send(workerMsg{Kind: "result", Held: w.held(), Stats: w.snapshot()})
	<-stopc
	// Leave the server as the run found it, within bounds: conversations
	// left, meetings deleted.
	cctx, stop := context.WithTimeout(context.Background(), 20*time.Second)
	defer stop()
	parallel(len(w.clients), spec.SetupParallel, func(i int) error { w.clients[i].cleanup(cctx); return nil })
	parallel(len(w.users), spec.SetupParallel, func(i int) error { w.users[i].cleanup(cctx); return nil })
	return nil
}

func newWorker(spec workerSpec) *worker {
	w := &worker{spec: spec, stats: map[string]*opStats{}, ops: map[string]uint64{}, pending: map[string]*change{}}
	// With --op-conns the clients' operations share one pool of kept
	// connections, spread over the worker's source addresses.
	var shared *http.Transport
	if spec.OpConns > 0 {
		var next atomic.Uint64
		dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
			d := net.Dialer{Timeout: 30 * time.Second}
			if len(spec.SourceIPs) > 0 {
				d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(spec.SourceIPs[next.Add(1)%uint64(len(spec.SourceIPs))])}
			}
			return d.DialContext(ctx, network, addr)
		}
		shared = &http.Transport{DialContext: dial, MaxConnsPerHost: spec.OpConns, MaxIdleConnsPerHost: spec.OpConns, IdleConnTimeout: 5 * time.Minute}
	}
	for u := range spec.Users {
		us := &user{idx: spec.FirstUser + u, name: fmt.Sprintf(spec.UserPattern, spec.FirstUser+u)}
		n := spec.ClientsPerUser
		if u == spec.Users-1 {
			n = spec.LastClients
		}
		for slot := range n {
			i := len(w.clients)
			c := &client{w: w, idx: i, slot: slot, u: us, rng: rand.New(rand.NewPCG(spec.Seed, uint64(i)))}
			node := (spec.FirstUser + u) % len(spec.Bases)
			c.base = spec.Bases[node]
			var dialer net.Dialer
			dialer.Timeout = 30 * time.Second
			if len(spec.SourceIPs) > 0 {
				c.src = spec.SourceIPs[i%len(spec.SourceIPs)]
				dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(c.src)}
			}
			// One connection for the P-GET, held; another for the
			// operations, kept between them as a browser keeps it, or
			// closed after each (--keepalive=false).
			c.tr = &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 1, IdleConnTimeout: time.Hour}
			c.opTr = &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 1, IdleConnTimeout: 5 * time.Minute,
				DisableKeepAlives: !spec.KeepAlive}
			if shared != nil {
				c.opTr = shared
			}
			noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			c.hc = &http.Client{Transport: c.opTr, Timeout: spec.RequestTimeout, CheckRedirect: noRedirect}
			c.long = &http.Client{Transport: c.tr, CheckRedirect: noRedirect}
			us.clients = append(us.clients, c)
			w.clients = append(w.clients, c)
		}
		w.users = append(w.users, us)
	}
	return w
}

// snapshot copies the statistics: the P-GETs go on recording into them
// while the copy is encoded.
func (w *worker) snapshot() map[string]*opStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]*opStats, len(w.stats))
	for op, st := range w.stats {
		c := &opStats{}
		c.merge(st)
		out[op] = c
	}
	return out
}

func (w *worker) held() int {
	n := 0
	for _, c := range w.clients {
		if c.alive.Load() {
			n++
		}
	}
	return n
}

func (w *worker) progress() (map[string]uint64, uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ops := make(map[string]uint64, len(w.ops))
	var errs uint64
	for k, v := range w.ops {
		if k != opEvents && k != opSignIn && k != opRegister {
			ops[k] = v
		}
	}
	for _, s := range w.stats {
		errs += s.errorCount()
	}
	return ops, errs
}

// parallel runs f over 0..n-1 with at most p at once and returns the
// first error.
func parallel(n, p int, f func(int) error) error {
	sem := make(chan struct{}, max(p, 1))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := f(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}

// setup signs the users in (once each, on their first client), registers
// every client's application, schedules one meeting with one extension
// per user (so that every operation of the mix has something to work on
// from the start), then starts every P-GET and waits until each is
// written. It returns how many P-GETs are held and a sample read.
func (w *worker) setup(ctx context.Context) (int, *readSample, error) {
	spec := w.spec
	var sample *readSample
	err := parallel(len(w.users), spec.SetupParallel, func(i int) error {
		u := w.users[i]
		c := u.clients[0]
		start := time.Now()
		apps, err := c.signIn(ctx, spec.Password)
		w.record(opSignIn, time.Since(start), err)
		if err != nil {
			return fmt.Errorf("signing in %s: %v", u.name, errKind(err))
		}
		register := func(c *client) error {
			start := time.Now()
			err := c.register(ctx, apps, spec.Available)
			w.record(opRegister, time.Since(start), err)
			if err != nil {
				return fmt.Errorf("registering an application of %s: %v", u.name, errKind(err))
			}
			w.registered.Add(1)
			// Until the mix starts a client holds only its P-GET's
			// connection: the server's descriptors are one per client.
			if spec.OpConns == 0 {
				c.opTr.CloseIdleConnections()
			}
			return nil
		}
		if err := register(c); err != nil {
			return err
		}
		// The seed is made before the user's other applications exist,
		// so that its events wait only on the first one's channel.
		if len(spec.Mix) > 0 || i == 0 {
			if err := w.seed(ctx, c, i == 0, &sample); err != nil {
				return err
			}
		}
		for _, c := range u.clients[1:] {
			if err := register(c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	heldc := make(chan error, len(w.clients))
	for _, c := range w.clients {
		go c.pgetLoop(ctx, spec.PGetTimeout, heldc)
	}
	var firstErr error
	failed := 0
	for range w.clients {
		if err := <-heldc; err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	held := len(w.clients) - failed
	if firstErr != nil {
		return held, nil, fmt.Errorf("%d of %d P-GETs could not be sent: %v", failed, len(w.clients), errKind(firstErr))
	}
	return held, sample, nil
}

// seed schedules c's user's first meeting with one extension; with
// withSample it also reads it into *sample (the ceiling's read), and
// keeps it from ever being deleted.
func (w *worker) seed(ctx context.Context, c *client, withSample bool, sample **readSample) error {
	u := c.u
	if w.spec.OpConns == 0 {
		defer c.opTr.CloseIdleConnections()
	}
	if err := c.schedule(ctx, false); err != nil {
		return fmt.Errorf("scheduling %s's first meeting: %v", u.name, errKind(err))
	}
	if err := c.extAdd(ctx, false); err != nil {
		return fmt.Errorf("adding an extension to %s's first meeting: %v", u.name, errKind(err))
	}
	if !withSample {
		return nil
	}
	m := u.meetings[0]
	u.mu.Lock()
	m.inUse++
	u.mu.Unlock()
	a, err := c.send(ctx, c.hc, "GET", c.meetingHref(m), "", nil)
	if err != nil {
		return err
	}
	if _, err := wantResource(a, 200, "myOnlineMeeting"); err != nil {
		return err
	}
	*sample = &readSample{URL: c.resolve(c.meetingHref(m)), Token: u.token, SourceIP: c.src, ContentType: a.header.Get("Content-Type"), Body: a.body}
	return nil
}

// runMix runs every client's loop until the duration, the request count
// or ctx ends it.
func (w *worker) runMix(ctx context.Context) {
	spec := w.spec
	if len(spec.Mix) == 0 {
		// Only holding: wait out the duration.
		select {
		case <-ctx.Done():
		case <-time.After(spec.Duration):
		}
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if spec.Requests == 0 {
		// The duration, and with MinEach past it until every operation
		// has succeeded that often.
		go func() {
			if !sleepCtx(ctx, spec.Duration) {
				return
			}
			for !w.covered(spec.MinEach) && sleepCtx(ctx, 100*time.Millisecond) {
			}
			cancel()
		}()
	}
	var budget atomic.Int64
	budget.Store(spec.Requests)
	pace := newPacer(ctx, spec.Rate)
	total := 0
	for _, m := range spec.Mix {
		total += m.Weight
	}
	var wg sync.WaitGroup
	for _, c := range w.clients {
		wg.Go(func() {
			// Clients start spread over one think time, not all at once.
			if spec.Think > 0 && !sleepCtx(ctx, time.Duration(c.rng.Int64N(int64(spec.Think)))) {
				return
			}
			for ctx.Err() == nil {
				op := c.draw(spec.Mix, total)
				if op == "" {
					if !sleepCtx(ctx, 50*time.Millisecond) {
						return
					}
					continue
				}
				if !pace.wait(ctx) {
					return
				}
				if spec.Requests > 0 && budget.Add(-1) < 0 {
					cancel()
					return
				}
				start := time.Now()
				err := c.do(ctx, op)
				if errors.Is(err, errNotApplicable) {
					// Another client took what it needed meanwhile.
					budget.Add(1)
					if spec.Rate > 0 {
						pace.refund() // at once: someone else can use the turn
					} else if !sleepCtx(ctx, 10*time.Millisecond) {
						return
					}
					continue
				}
				if ctx.Err() != nil && err != nil {
					return // the run ended under it: not the server's fault
				}
				w.record(op, time.Since(start), err)
				if spec.Think > 0 && !sleepCtx(ctx, time.Duration(c.rng.Int64N(2*int64(spec.Think)))) {
					return
				}
			}
		})
	}
	wg.Wait()
}

// covered reports whether every operation of the mix has succeeded n
// times in this worker.
func (w *worker) covered(n int) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range w.spec.Mix {
		if w.ops[m.Op] < uint64(n) {
			return false
		}
	}
	return true
}

// draw picks an operation by weight among those whose precondition holds
// for c now ("" if none does).
func (c *client) draw(mix []weight, total int) string {
	for range 8 {
		r := c.rng.IntN(total)
		for _, m := range mix {
			if r < m.Weight {
				if c.applicable(m.Op) {
					return m.Op
				}
				break
			}
			r -= m.Weight
		}
	}
	return ""
}

// applicable is a cheap look at whether op has something to work on; the
// operation itself checks again under the lock.
func (c *client) applicable(op string) bool {
	switch op {
	case opJoin:
		return c.conv == ""
	case opMessage:
		return c.sendMessage != "" && time.Since(c.lastMessage) >= messageGap
	case opLeave:
		return c.conv != ""
	case opExtUpdate:
		c.u.mu.Lock()
		defer c.u.mu.Unlock()
		for _, m := range c.u.meetings {
			for _, e := range m.exts {
				if !e.busy {
					return true
				}
			}
		}
		return false
	}
	return true
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// pacer hands out operations at an even rate to whichever client asks
// (an open-loop rate over all of a worker's clients); a client that
// cannot use its turn gives it back for another. The zero pacer does not
// wait.
type pacer struct {
	tokens chan struct{}
}

func newPacer(ctx context.Context, rate float64) *pacer {
	if rate <= 0 {
		return &pacer{}
	}
	p := &pacer{tokens: make(chan struct{}, max(1, int(rate/20)))}
	go func() {
		start := time.Now()
		t := time.NewTicker(max(time.Millisecond, time.Duration(float64(time.Second)/rate)))
		defer t.Stop()
		given := 0
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				due := int(now.Sub(start).Seconds() * rate)
				for ; given < due; given++ {
					select {
					case p.tokens <- struct{}{}:
					default: // nobody was ready: the turn is lost, as in any open loop
					}
				}
			}
		}
	}()
	return p
}

func (p *pacer) wait(ctx context.Context) bool {
	if p.tokens == nil {
		return ctx.Err() == nil
	}
	select {
	case <-p.tokens:
		return true
	case <-ctx.Done():
		return false
	}
}

// refund gives back a turn taken for an operation that was not made.
func (p *pacer) refund() {
	if p.tokens == nil {
		return
	}
	select {
	case p.tokens <- struct{}{}:
	default:
	}
}
