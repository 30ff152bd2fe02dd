package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
)

const userUsage = `Usage:
  ucwad user add --sip ADDRESS [--password SECRET] [--name NAME] [--db PATH]
  ucwad user list [--db PATH]
  ucwad user remove --sip ADDRESS [--db PATH]
  ucwad user passwd --sip ADDRESS [--password SECRET] [--db PATH]

Without --password, add and passwd read the password from the first line of
standard input, or generate a random one and print it when that is empty.
`

// userFlags are the flags of the user subcommands.
type userFlags struct {
	db, sip, password, name string
}

func runUser(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(env.Stdout, userUsage)
		if len(args) == 0 {
			return usageError{"user needs a subcommand: add, list, remove or passwd"}
		}
		return nil
	}
	sub := args[0]
	var f userFlags
	fs := flag.NewFlagSet("ucwad user "+sub, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.StringVar(&f.db, "db", "ucwad.db", "the database: an SQLite file path or a postgres:// URL")
	needSIP := sub == "add" || sub == "remove" || sub == "passwd"
	if needSIP {
		fs.StringVar(&f.sip, "sip", "", "the user's SIP address, e.g. alice@contoso.com")
	}
	if sub == "add" || sub == "passwd" {
		fs.StringVar(&f.password, "password", "", "the password (default: first line of standard input, or a generated one)")
	}
	if sub == "add" {
		fs.StringVar(&f.name, "name", "", "display name, e.g. \"Alice Example\"")
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ucwad user %s [flags]\n\nFlags (each also from the environment, e.g. --db as UCWAD_DB):\n", sub)
		fs.PrintDefaults()
	}
	switch sub {
	case "add", "list", "remove", "passwd":
	default:
		fmt.Fprint(env.Stderr, userUsage)
		return usageError{fmt.Sprintf("unknown user subcommand %q", sub)}
	}
	if err := parseCommand(fs, args[1:], env.Getenv); err != nil {
		return err
	}
	f.sip = strings.TrimPrefix(strings.TrimSpace(f.sip), "sip:")
	if needSIP && (f.sip == "" || !strings.Contains(f.sip, "@")) {
		return usageError{"--sip must be an address such as alice@contoso.com"}
	}
	db, err := openStore(ctx, f.db, storeOptions{})
	if err != nil {
		return err
	}
	defer db.Close()
	hasher := auth.NewHasher(auth.DefaultParams, 1)
	switch sub {
	case "add":
		pw, generated, err := passwordFrom(f.password, env)
		if err != nil {
			return err
		}
		hash, err := hasher.Hash(ctx, pw)
		if err != nil {
			return err
		}
		u := &ucwad.User{SIP: f.sip, Name: f.name, PasswordHash: hash}
		if err := db.CreateUser(ctx, u); err != nil {
			if ucwad.ErrorCode(err) == ucwad.EConflict {
				return fmt.Errorf("user %s already exists", f.sip)
			}
			return err
		}
		fmt.Fprintf(env.Stdout, "added %s\n", u.SIP)
		if generated {
			fmt.Fprintf(env.Stdout, "password: %s\n", pw)
		}
	case "list":
		users, err := db.ListUsers(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SIP\tNAME\tCREATED")
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", u.SIP, u.Name, u.CreatedAt.UTC().Format("2006-01-02 15:04"))
		}
		return tw.Flush()
	case "remove":
		u, err := db.FindUserBySIP(ctx, f.sip)
		if err != nil {
			return notFound(err, f.sip)
		}
		if err := db.DeleteUser(ctx, u.ID); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "removed %s\n", u.SIP)
	case "passwd":
		u, err := db.FindUserBySIP(ctx, f.sip)
		if err != nil {
			return notFound(err, f.sip)
		}
		pw, generated, err := passwordFrom(f.password, env)
		if err != nil {
			return err
		}
		hash, err := hasher.Hash(ctx, pw)
		if err != nil {
			return err
		}
		if err := db.SetUserPassword(ctx, u.ID, hash); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "changed the password of %s (its tokens are revoked)\n", u.SIP)
		if generated {
			fmt.Fprintf(env.Stdout, "password: %s\n", pw)
		}
	}
	return nil
}

func notFound(err error, sip string) error {
	if ucwad.ErrorCode(err) == ucwad.ENotFound {
		return fmt.Errorf("no user %s", sip)
	}
	return err
}

// passwordFrom returns the flag's password, else the first line of standard
// input, else a generated one (generated == true).
func passwordFrom(flagValue string, env Env) (pw string, generated bool, err error) {
	if flagValue != "" {
		return flagValue, false, nil
	}
	if env.Stdin != nil && !isTerminal(env.Stdin) {
		sc := bufio.NewScanner(env.Stdin)
		if sc.Scan() {
			if line := strings.TrimRight(sc.Text(), "\r\n"); line != "" {
				return line, false, nil
			}
		}
	}
	pw, err = randomPassword()
	return pw, true, err
}

// randomPassword returns 26 base-32 characters (128 random bits).
func randomPassword() (string, error) { return rand.Text(), nil }

// isTerminal reports whether r is an interactive terminal, from which we do
// not wait for a password nobody was asked for.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
