package sqlite

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/clock"
	"github.com/ucwad/ucwad/storetest"
)

// TestSignInScheduleSharedByProcesses: two stores on one file, as two
// server processes have, follow one schedule: together they grant no more
// password checks than one store alone.
func TestSignInScheduleSharedByProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ucwad.db")
	clk := clock.NewFake(storetest.Start)
	a := openClosing(t, path, Options{Clock: clk})
	b := openClosing(t, path, Options{Clock: clk})
	u := &ucwad.User{SIP: "alice@contoso.com"}
	if err := a.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	p := ucwad.SignInPolicy{Free: 3, FirstDelay: time.Second, MaxDelay: 4 * time.Second}
	for _, acct := range []ucwad.SignInAccount{{UserID: u.ID}, {Name: "nobody@contoso.com"}} {
		// Each process sends 10 claims at once, every time a slot opens.
		granted := func() int {
			t.Helper()
			var mu sync.Mutex
			n := 0
			var wg sync.WaitGroup
			for i := range 20 {
				db := []*DB{a, b}[i%2]
				wg.Go(func() {
					c, err := db.ClaimSignIn(t.Context(), acct, p)
					if err != nil {
						t.Error(err)
						return
					}
					if c.Granted {
						mu.Lock()
						n++
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			return n
		}
		if n := granted(); n != 3 {
			t.Errorf("%+v: %d of 20 claims over two stores granted on a fresh account, want the 3 free", acct, n)
		}
		for _, d := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second} {
			clk.Advance(d)
			if n := granted(); n != 1 {
				t.Errorf("%+v: %d of 20 claims over two stores granted when one slot opened, want 1", acct, n)
			}
		}
		// A success seen by one process frees the account for both.
		if err := b.ResetSignIn(t.Context(), acct); err != nil {
			t.Fatal(err)
		}
		if c, err := a.ClaimSignIn(t.Context(), acct, p); err != nil || !c.Granted || c.Next.Failures != 1 {
			t.Errorf("%+v: after a reset through the other store: %+v, %v", acct, c, err)
		}
	}
}

// TestSignInNamesCounted: the row count that bounds the unknown names
// follows every way rows come and go.
func TestSignInNamesCounted(t *testing.T) {
	clk := clock.NewFake(storetest.Start)
	db := openClosing(t, filepath.Join(t.TempDir(), "ucwad.db"), Options{Clock: clk, Limits: ucwad.Limits{MaxUnknownSignInNames: 5}})
	ctx := t.Context()
	check := func(what string, want int) {
		t.Helper()
		var counted, rows int
		if err := db.read.QueryRowContext(ctx, `SELECT n FROM signin_names_count`).Scan(&counted); err != nil {
			t.Fatal(err)
		}
		if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM signin_names`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if counted != rows || rows != want {
			t.Errorf("%s: counted %d, %d rows; want %d", what, counted, rows, want)
		}
	}
	p := ucwad.SignInPolicy{Free: 1, Window: time.Minute}
	name := func(i int) ucwad.SignInAccount { return ucwad.SignInAccount{Name: fmt.Sprint("n", i)} }
	var last ucwad.SignInClaim
	for i := range 12 {
		clk.Advance(time.Millisecond)
		c, err := db.ClaimSignIn(ctx, name(i), p)
		if err != nil {
			t.Fatal(err)
		}
		last = c
	}
	check("after 12 names with room for 5", 5)
	if err := db.ReleaseSignIn(ctx, last); err != nil {
		t.Fatal(err)
	}
	check("after releasing a new name's claim", 4)
	if err := db.ResetSignIn(ctx, name(10)); err != nil {
		t.Fatal(err)
	}
	check("after a reset", 3)
	clk.Advance(time.Minute)
	if n, err := db.DeleteExpiredSignIns(ctx, time.Minute); err != nil || n != 3 {
		t.Fatalf("DeleteExpiredSignIns = %d, %v", n, err)
	}
	check("after the sweep", 0)
}
