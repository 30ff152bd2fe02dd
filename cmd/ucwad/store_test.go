package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestStoreKind(t *testing.T) {
	for _, tc := range []struct{ dsn, kind, target string }{
		{"ucwad.db", "sqlite", "ucwad.db"},
		{"/var/lib/ucwad/ucwad.db", "sqlite", "/var/lib/ucwad/ucwad.db"},
		{"sqlite:data/u.db", "sqlite", "data/u.db"},
		{"postgres://u:p@127.0.0.1/ucwad", "postgres", "postgres://u:p@127.0.0.1/ucwad"},
		{"POSTGRESQL://h/db", "postgresql", "POSTGRESQL://h/db"},
		{"dir/with://odd.db", "sqlite", "dir/with://odd.db"},
	} {
		kind, target := storeKind(tc.dsn)
		if kind != tc.kind || target != tc.target {
			t.Errorf("storeKind(%q) = %q, %q; want %q, %q", tc.dsn, kind, target, tc.kind, tc.target)
		}
	}
}

func TestOpenStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "dir", "u.db")
	s, err := openStore(t.Context(), "sqlite:"+path, storeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountUsers(t.Context()); err != nil || n != 0 {
		t.Errorf("CountUsers = %d, %v; want 0, nil", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	_, err = openStore(t.Context(), "mysql://root:hunter2@127.0.0.1/ucwad", storeOptions{})
	if err == nil {
		t.Fatal("openStore accepted a kind of database it does not support")
	}
	if strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "root:xxxxx@127.0.0.1") {
		t.Errorf("error %q: want the DSN shown with its password hidden", err)
	}
}
