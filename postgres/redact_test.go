package postgres

import (
	"context"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://ucwad:s3cret@db:5432/ucwad?sslmode=require", "postgres://ucwad:xxxxx@db:5432/ucwad?sslmode=require"},
		{"postgresql://ucwad:p@ss@db/ucwad", "postgresql://ucwad:xxxxx@db/ucwad"},
		{"postgres://ucwad@db/ucwad", "postgres://ucwad@db/ucwad"},
		{"postgres://db/ucwad?user=u&password=s3cret&sslmode=disable", "postgres://db/ucwad?user=u&password=xxxxx&sslmode=disable"},
		{"host=db user=ucwad password=s3cret dbname=ucwad", "host=db user=ucwad password=xxxxx dbname=ucwad"},
	} {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

// Open names the database it failed to open without its password.
func TestOpenErrorHidesPassword(t *testing.T) {
	_, err := Open(context.Background(), "postgres://ucwad:s3cret@127.0.0.1:1/ucwad?connect_timeout=5", Options{})
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "ucwad:xxxxx@127.0.0.1:1") {
		t.Errorf("Open against nothing: %v; want an error naming the database without its password", err)
	}
	_, err = Open(context.Background(), "postgres://ucwad:s3cret@127.0.0.1:notaport/ucwad", Options{})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open of a malformed URL: %v; want an error without the password", err)
	}
}
