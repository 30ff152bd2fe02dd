// Command ucwadload sizes a ucwad deployment: it plays many UCWA clients
// against a server and says what it holds. Each simulated client walks the
// documented sign-in chain, registers an application, holds a P-GET on its
// event channel (re-issued with each answer's next link) and runs a mix of
// operations (schedule a meeting, read it, add, read and update its
// extensions with If-Match, join another user's meeting and exchange
// messages there, leave, delete) with think times. Every answer is checked;
// a wrong one counts as an error of its kind, not as throughput. The run
// ends with a table per operation: requests per second, latency
// percentiles, errors by kind, event delivery latency, the server's
// resident memory, and the ceiling of the same machine: the same read
// against a bare net/http handler, measured in the same run.
//
// Clients are spread over worker processes (the tool re-executes itself)
// and over many loopback source addresses, so that tens of thousands of
// connections run out of neither ports nor descriptors.
//
// Two older measurements remain: --signin (the token endpoint under
// password guessing and a flood) and --compare (one node on SQLite, one
// and two on PostgreSQL). ucwadload --help describes every flag; the
// sizing table and its command lines are in docs/benchmarks.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	var err error
	switch os.Getenv(roleEnv) {
	case "worker":
		err = runWorker(os.Stdin, os.Stdout)
	case "bare":
		err = runBare(os.Stdin, os.Stdout)
	default:
		err = run(os.Args[1:], os.Stdout, os.Stderr)
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) && err != errReported {
			fmt.Fprintln(os.Stderr, "ucwadload:", err)
		}
		os.Exit(1)
	}
}

const usageText = `Usage:
  ucwadload (--url URL | --server PATH) [flags]     a sizing run (below)
  ucwadload provision --db PATH|URL --users N        create the users a run against --url signs in as
  ucwadload --server PATH --signin [flags]           the token endpoint under password guessing and a flood
  ucwadload --server PATH --postgres URL --compare   one node on SQLite against one and two on PostgreSQL

A sizing run plays --clients UCWA clients. Client i belongs to user i/--clients-per-user,
named by --user-pattern; each user signs in once (autodiscover, the 401 challenge, the
token endpoint) and its clients share the token, as the tabs of one browser do. Each client
registers its own application, holds a P-GET on its event channel and runs --mix with
--think between operations, for --duration or --requests. The run needs the users to exist:
--server creates them in a fresh database it starts the server on; against --url create
them first, with the same --user-pattern and --password:

  ucwadload provision --db /var/lib/ucwad/ucwad.db --users 1900
  ucwadload --url http://127.0.0.1:8080 --server-pid $(pidof ucwad) --clients 19000 --clients-per-user 10

(or "ucwad user add --sip load0@load.test --password load" and so on, slower: the server's
own password hashing). A user may hold 100 applications: --clients-per-user is at most 100.

Operations of --mix (weights; an operation whose precondition does not hold, such as leave
without a conversation, is drawn again):
  schedule    POST myOnlineMeetings (accessLevel Everyone)
  read        GET one of the user's meetings
  ext-add     POST onlineMeetingExtensions
  ext-read    GET an extension
  ext-update  PUT an extension with If-Match and its PUT sentinel
  join        join another user's meeting: POST joinOnlineMeeting, GET the invitation,
              POST addMessaging, GET messaging
  message     POST sendMessage in the meeting joined (at most one a second per client)
  leave       DELETE the conversation
  delete      DELETE a meeting nobody is in
"hold" (or an empty mix) only holds the P-GETs for --duration.

The report (--json: the same as JSON): per operation the successes per second, latency
p50/p95/p99/max, errors by kind (a wrong status, content type or body, or a failed exchange:
never counted as throughput) and the delivery latency of the events its changes cause, from the
change's 2xx to the event on each affected client's P-GET (the organizer's clients for meetings
and extensions; the listeners and the sender for messages). Then the P-GET answers, the setup,
the ceiling (the mix's read, closed loop, against the server and against a bare net/http
handler writing the same bytes in a child process: the machine's limit in the same run) and
the server's resident memory (with --server, or --url and --server-pid).

Clients spread over --workers processes (this binary again) and --source-addrs loopback
addresses; each process raises its descriptor limit to the hard limit and says so when that is
not enough. A client holds two connections (its P-GET's and its operations'), one with
--keepalive=false or "hold"; with --op-conns K the clients of a worker share K connections for
their operations.

Flags:
`

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "provision" {
		return runProvision(args[1:], stdout, stderr)
	}
	var rc runConfig
	var legacy config
	var signIn, compare bool
	var deadline time.Duration
	fs := flag.NewFlagSet("ucwadload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&rc.url, "url", "", "a running ucwad to load (its base URL, e.g. http://127.0.0.1:8080; several nodes comma-separated, users spread over them)")
	fs.StringVar(&rc.server, "server", "", "a built ucwad binary to start on loopback on a fresh database instead of --url (go build -o /tmp/ucwad ./cmd/ucwad)")
	fs.StringVar(&rc.postgres, "postgres", "", "with --server: a PostgreSQL URL; the run uses a fresh schema in it (dropped afterwards) instead of SQLite")
	fs.IntVar(&rc.nodes, "nodes", 1, "with --server: how many servers to start on the one database (more than 1 needs --postgres)")
	fs.StringVar(&rc.serverFlags, "server-flags", "", "with --server: extra flags for ucwad serve (with --signin the default is --trusted-proxy 127.0.0.1)")
	fs.StringVar(&rc.serverPIDs, "server-pid", "", "with --url: the server's process id (comma-separated for several), to report its resident memory")
	fs.IntVar(&rc.clients, "clients", 100, "simulated clients, each an application holding a P-GET")
	fs.IntVar(&rc.clientsPerUser, "clients-per-user", 2, "clients per user (1..100): they share its sign-in and see each other's meeting events (a change to a meeting reaches every one of them)")
	fs.StringVar(&rc.userPattern, "user-pattern", "load%d@load.test", "the users' SIP addresses, a pattern with one %d (0, 1, …)")
	fs.StringVar(&rc.password, "password", "load", "the users' password")
	fs.StringVar(&rc.hash, "hash", "cheap", "with --server: how the created users' passwords are hashed: cheap (sign-in is not what the run measures) or default (the server's argon2id)")
	fs.IntVar(&rc.workers, "workers", 0, "worker processes the clients are spread over (0: as many as the descriptor limit needs)")
	fs.IntVar(&rc.sourceAddrs, "source-addrs", 64, "loopback source addresses (127.0.0.2, …) the clients' connections are spread over, each with its own ports (0: the system chooses; only used when the server is on 127.x)")
	fs.StringVar(&rc.mix, "mix", defaultMix, "operations and their weights (see above); \"hold\" only holds P-GETs")
	fs.DurationVar(&rc.think, "think", time.Second, "each client's mean think time between operations (uniform over 0..2×)")
	fs.DurationVar(&rc.duration, "duration", 30*time.Second, "how long the mix (or holding) runs")
	fs.Int64Var(&rc.requests, "requests", 0, "stop after this many operations instead of --duration (0: use --duration)")
	fs.IntVar(&rc.minEach, "min-each", 0, "go on past --duration until every operation of the mix has succeeded this often in each worker process (a smoke test of every operation; bounded by --deadline)")
	fs.Float64Var(&rc.rate, "rate", 0, "at most this many operations per second over all clients, spaced evenly (0: only --think paces them)")
	fs.DurationVar(&rc.pgetTimeout, "pget-timeout", 180*time.Second, "the P-GETs' timeout parameter (the server clamps it to 180s..30m)")
	fs.DurationVar(&rc.requestTimeout, "request-timeout", 60*time.Second, "a request without an answer after this long is an error")
	fs.BoolVar(&rc.available, "available", false, "also POST makeMeAvailable for each application after registering it")
	fs.DurationVar(&rc.settle, "settle", time.Minute, "when the server's process is known (--server, or --server-pid), wait after the setup until it uses under 5% of a CPU for a second (it has read and parked every P-GET), at most this long, before measuring its memory and starting the mix (0: do not wait)")
	fs.IntVar(&rc.opConns, "op-conns", 0, "the operations of each worker process's clients share this many kept-alive connections (as behind a reverse proxy that multiplexes clients onto a few upstream connections), so that the server holds one connection per client, its P-GET's, plus these (0: each client has its own, see --keepalive)")
	fs.BoolVar(&rc.keepAlive, "keepalive", true, "keep each client's connection for its operations open between them, as a browser does (false: a new connection per operation, so the server holds one per client, its P-GET's)")
	fs.IntVar(&rc.setupParallel, "setup-parallel", 8, "sign-ins and registrations in flight at once per worker while setting up")
	fs.DurationVar(&rc.ceiling, "ceiling", 3*time.Second, "how long the ceiling measurement reads, against the server then a bare handler (0: skip it)")
	fs.IntVar(&rc.ceilingConns, "ceiling-conns", 16, "connections of the ceiling measurement")
	fs.BoolVar(&rc.json, "json", false, "print the report as JSON on stdout instead of tables")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	fs.DurationVar(&deadline, "deadline", 30*time.Minute, "give up after this long, setup included")

	fs.BoolVar(&signIn, "signin", false, "measure the token endpoint under password guessing and a flood (needs --server)")
	fs.IntVar(&legacy.si.guessers, "guessers", 400, "with --signin: connections guessing one account's password, each from its own address")
	fs.IntVar(&legacy.si.flooders, "flooders", 1000, "with --signin: connections signing in without pause from one address")
	fs.DurationVar(&legacy.si.duration, "signin-duration", 30*time.Second, "with --signin: how long the guessing, then the flood, lasts")
	fs.BoolVar(&compare, "compare", false, "with --server and --postgres: compare one node on SQLite with one and two on PostgreSQL (scheduling and GET throughput, event latency)")
	fs.IntVar(&legacy.nodes.clients, "compare-clients", 32, "with --compare: concurrent clients (one user and application each)")
	fs.DurationVar(&legacy.nodes.duration, "phase", 10*time.Second, "with --compare: how long each throughput test lasts")
	fs.IntVar(&legacy.nodes.samples, "samples", 200, "with --compare: event latency samples per setup")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	rc.progress = !*quiet
	// Interrupted, the run still stops its workers and servers.
	sctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(sctx, deadline)
	defer cancel()

	switch {
	case signIn:
		if rc.server == "" {
			return errors.New("--signin needs --server")
		}
		if legacy.si.guessers < 1 || legacy.si.flooders < 1 || legacy.si.guessers > 5000 || legacy.si.flooders > 5000 {
			return errors.New("--guessers and --flooders must be 1..5000")
		}
		legacy.si.serverFlags = rc.serverFlags
		if !set["server-flags"] {
			legacy.si.serverFlags = "--trusted-proxy 127.0.0.1"
		}
		return runSignIn(ctx, rc.server, legacy.si)
	case compare:
		if rc.server == "" || rc.postgres == "" {
			return errors.New("--compare needs --server and --postgres")
		}
		legacy.nodes.dsn = rc.postgres
		if legacy.nodes.clients < 1 || legacy.nodes.clients > 1000 || legacy.nodes.samples < 1 || legacy.nodes.duration <= 0 {
			return errors.New("--compare-clients must be 1..1000, --samples at least 1 and --phase positive")
		}
		return runNodes(ctx, rc.server, legacy.nodes)
	}

	switch {
	case (rc.url == "") == (rc.server == ""):
		fs.Usage()
		return errors.New("give either --url (a running server) or --server (a binary to start)")
	case rc.url != "" && (rc.postgres != "" || set["nodes"] || rc.serverFlags != ""):
		return errors.New("--postgres, --nodes and --server-flags go with --server, not --url")
	case rc.server != "" && rc.serverPIDs != "":
		return errors.New("--server-pid goes with --url: with --server the tool knows its servers")
	case rc.nodes < 1 || rc.nodes > 16 || (rc.nodes > 1 && rc.postgres == ""):
		return errors.New("--nodes must be 1..16, and more than 1 needs --postgres (SQLite is one node's)")
	case rc.clients < 1 || rc.clients > 200_000:
		return errors.New("--clients must be 1..200000")
	case rc.clientsPerUser < 1 || rc.clientsPerUser > 100:
		return errors.New("--clients-per-user must be 1..100 (the server's default limit of applications per user)")
	case strings.Count(rc.userPattern, "%") != 1 || !strings.Contains(rc.userPattern, "%d"):
		return errors.New("--user-pattern must hold exactly one %d")
	case rc.workers < 0 || rc.workers > 256 || rc.sourceAddrs < 0 || rc.setupParallel < 1:
		return errors.New("--workers must be 0..256, --source-addrs at least 0 and --setup-parallel at least 1")
	case rc.minEach < 0 || (rc.minEach > 0 && rc.requests > 0):
		return errors.New("--min-each must not be negative, and goes with --duration, not --requests")
	case rc.think < 0 || rc.duration <= 0 || rc.requests < 0 || rc.rate < 0 || rc.requestTimeout <= 0 || rc.pgetTimeout <= 0:
		return errors.New("--think, --requests and --rate must not be negative; --duration, --request-timeout and --pget-timeout must be positive")
	case rc.ceiling < 0 || rc.ceilingConns < 1 || rc.ceilingConns > 1000:
		return errors.New("--ceiling must not be negative and --ceiling-conns must be 1..1000")
	}
	rep, err := runLoad(ctx, rc)
	if err != nil {
		return err
	}
	if rc.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printReport(stdout, rep)
	}
	if rep.Held < rep.Clients {
		return fmt.Errorf("held %d of the %d P-GETs asked for", rep.Held, rep.Clients)
	}
	return nil
}

// runProvision is "ucwadload provision": users for runs against --url.
func runProvision(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ucwadload provision", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "the server's database: a SQLite file or a postgres:// URL (required; the server may be running)")
	users := fs.Int("users", 0, "how many users to create (required): --clients divided by --clients-per-user of the runs, rounded up")
	first := fs.Int("first", 0, "the number of the first user")
	pattern := fs.String("user-pattern", "load%d@load.test", "the users' SIP addresses, a pattern with one %d")
	password := fs.String("password", "load", "their password")
	hash := fs.String("hash", "cheap", "cheap (argon2id with minimal parameters: sign-in is not what a load run measures) or default (the server's)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: ucwadload provision --db PATH|URL --users N [flags]\n\nCreates the users a sizing run signs in as, writing through the store (users that exist are left alone).\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		fs.Usage()
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case *db == "" || *users < 1 || *first < 0:
		fs.Usage()
		return errors.New("provision needs --db and --users (at least 1)")
	case strings.Count(*pattern, "%") != 1 || !strings.Contains(*pattern, "%d"):
		return errors.New("--user-pattern must hold exactly one %d")
	}
	start := time.Now()
	err := provisionUsers(context.Background(), *db, *pattern, *password, *hash, *first, *users, func(n int) {
		fmt.Fprintf(stderr, "%d users\n", n)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "users %s to %s exist, password %q (%v)\n", fmt.Sprintf(*pattern, *first), fmt.Sprintf(*pattern, *first+*users-1), *password, time.Since(start).Round(time.Millisecond))
	return nil
}

// config is the settings of the older measurements.
type config struct {
	si    signInConfig
	nodes nodesConfig
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
