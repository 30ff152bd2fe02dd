// Command ucwad is a UCWA 2.0 server: the Skype for Business Server web API
// for online meetings, on an embedded SQLite database.
//
// Usage:
//
//	ucwad [serve] [flags]       run the server (the default command)
//	ucwad user add|list|remove|passwd [flags]
//
// Run "ucwad COMMAND --help" for the flags of a command.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	setGCPercent(os.Getenv)
	env := Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	if err := Run(ctx, os.Args[1:], env); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "ucwad:", err)
		}
		os.Exit(exitCode(err))
	}
}

// Env is the outside world a command sees; tests substitute their own.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

func exitCode(err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// usageError is a mistake in the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `ucwad is a UCWA 2.0 (Skype for Business Server web API) server.

Usage:
  ucwad [serve] [flags]            run the server (default command)
  ucwad user add --sip ADDRESS [--password SECRET] [--name NAME] [--db PATH]
  ucwad user list [--db PATH]
  ucwad user remove --sip ADDRESS [--db PATH]
  ucwad user passwd --sip ADDRESS [--password SECRET] [--db PATH]
  ucwad migrate [--db PATH|URL]     apply pending database migrations and exit

--db is an SQLite file path or a postgres:// URL (several nodes sharing
one PostgreSQL database); every command applies pending migrations.
Run "ucwad serve --help" or "ucwad user add --help" for details.
Every flag can also be set in the environment: --public-url is UCWAD_PUBLIC_URL.
`

// Run runs the command named by args.
func Run(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 || (len(args[0]) > 0 && args[0][0] == '-' && args[0] != "-h" && args[0] != "--help" && args[0] != "-help") {
		return runServe(ctx, args, env)
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], env)
	case "user":
		return runUser(ctx, args[1:], env)
	case "migrate":
		return runMigrate(ctx, args[1:], env)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(env.Stdout, usage)
		return nil
	}
	fmt.Fprint(env.Stderr, usage)
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}
