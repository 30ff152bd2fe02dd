package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStrayArgumentsRefused: every command refuses a positional argument
// as a usage error (exit status 2) naming the command, before it opens or
// creates anything.
func TestStrayArgumentsRefused(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	for _, args := range [][]string{
		{"serve", "--db", db, "extra"},
		{"migrate", "--db", db, "extra"},
		{"user", "list", "--db", db, "extra"},
	} {
		t.Run(args[0], func(t *testing.T) {
			var stderr strings.Builder
			env := Env{Stdin: strings.NewReader(""), Stdout: &stderr, Stderr: &stderr, Getenv: func(string) string { return "" }}
			err := Run(context.Background(), args, env)
			var ue usageError
			if !errors.As(err, &ue) || exitCode(err) != 2 {
				t.Fatalf("Run(%q) = %v (exit %d), want a usage error", args, err, exitCode(err))
			}
			if want := `takes no arguments, got ["extra"]`; !strings.HasPrefix(ue.msg, "ucwad "+args[0]) || !strings.HasSuffix(ue.msg, want) {
				t.Errorf("message %q, want it to name the command and end in %q", ue.msg, want)
			}
			if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the database was created (stat: %v)", err)
			}
		})
	}
}
