package main

import (
	"context"
	"flag"
	"fmt"
)

// runMigrate applies the database's pending migrations and exits: what an
// operator runs before rolling a new version out to several nodes, so that
// no node serves while another changes the schema under it. Opening the
// store applies them (under PostgreSQL's advisory lock), so this is an open
// and a close.
func runMigrate(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("ucwad migrate", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var db string
	fs.StringVar(&db, "db", "ucwad.db", "the database: an SQLite file path or a postgres:// URL")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: ucwad migrate [--db PATH|URL]\n\nApplies the pending database migrations and exits.\n\nFlags (each also from the environment, e.g. --db as UCWAD_DB):\n")
		fs.PrintDefaults()
	}
	if err := parseCommand(fs, args, env.Getenv); err != nil {
		return err
	}
	s, err := openStore(ctx, db, storeOptions{})
	if err != nil {
		return err
	}
	if err := s.Close(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "database %s is up to date\n", redactDSN(db))
	return nil
}
