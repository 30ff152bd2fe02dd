package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// groupDB is a database with a table of names for the group commit tests,
// whose queue reports each request that joins the waiters on waited.
func groupDB(t *testing.T, opts Options) (*DB, chan struct{}) {
	t.Helper()
	db := openClosing(t, filepath.Join(t.TempDir(), "ucwad.db"), opts)
	if err := db.inWriteTx(t.Context(), func(tx *writeTx) error {
		_, err := tx.ExecContext(t.Context(), `CREATE TABLE names (name TEXT PRIMARY KEY) STRICT`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	waited := make(chan struct{}, 64)
	db.queue.waited = func() { waited <- struct{}{} }
	return db, waited
}

// insertName is a request's work: it inserts name.
func insertName(name string) func(tx *writeTx) error {
	return func(tx *writeTx) error {
		_, err := tx.ExecContext(context.Background(), `INSERT INTO names (name) VALUES (?)`, name)
		return err
	}
}

func storedNames(t *testing.T, db *DB) []string {
	t.Helper()
	rows, err := db.read.QueryContext(t.Context(), `SELECT name FROM names ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// holdWriter runs a write that holds the writer until release is closed;
// it returns once the write runs, and the channel its outcome arrives on.
func holdWriter(t *testing.T, db *DB, release <-chan struct{}) <-chan error {
	t.Helper()
	running := make(chan struct{})
	out := make(chan error, 1)
	go func() {
		out <- db.inWriteTx(context.Background(), func(tx *writeTx) error {
			close(running)
			<-release
			return insertName("holder")(tx)
		})
	}()
	<-running
	return out
}

// TestGroupCommit: the requests that wait while the writer is busy share
// one COMMIT; one that fails, and one that panics, lose only their own
// work and hear of their own failure; the others are committed.
func TestGroupCommit(t *testing.T) {
	db, waited := groupDB(t, Options{Sync: "full"})
	release := make(chan struct{})
	held := holdWriter(t, db, release)
	commits, txs := db.WriteCommits(), db.WriteTransactions()

	errFailed := errors.New("this request fails")
	type outcome struct {
		name     string
		err      error
		panicked any
	}
	outcomes := make(chan outcome, 8)
	var wg sync.WaitGroup
	names := []string{"a", "b", "fails", "c", "panics", "d"}
	for _, name := range names {
		f := insertName(name)
		switch name {
		case "fails":
			f = func(tx *writeTx) error {
				if err := insertName(name)(tx); err != nil {
					return err
				}
				return errFailed
			}
		case "panics":
			f = func(tx *writeTx) error {
				if err := insertName(name)(tx); err != nil {
					return err
				}
				panic("boom")
			}
		}
		wg.Go(func() {
			o := outcome{name: name}
			defer func() {
				o.panicked = recover()
				outcomes <- o
			}()
			// Each in a lane of its own: turns between lanes fill the batch.
			o.err = db.inWriteTxFor(context.Background(), appLane(name), f)
		})
		<-waited
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(outcomes)
	for o := range outcomes {
		switch o.name {
		case "fails":
			if !errors.Is(o.err, errFailed) || o.panicked != nil {
				t.Errorf("%s: got %v, panic %v; want its own error", o.name, o.err, o.panicked)
			}
		case "panics":
			if o.panicked != "boom" {
				t.Errorf("%s: got %v, panic %v; want its own panic", o.name, o.err, o.panicked)
			}
		default:
			if o.err != nil || o.panicked != nil {
				t.Errorf("%s: got %v, panic %v", o.name, o.err, o.panicked)
			}
		}
	}
	if got, want := storedNames(t, db), []string{"a", "b", "c", "d", "holder"}; !slices.Equal(got, want) {
		t.Errorf("stored %v, want %v", got, want)
	}
	// The holder's commit, and one for the six that waited.
	if got := db.WriteCommits() - commits; got != 2 {
		t.Errorf("%d commits, want 2", got)
	}
	if got := db.WriteTransactions() - txs; got != int64(len(names)) {
		t.Errorf("%d write transactions counted, want %d", got, len(names))
	}
}

// TestGroupCommitOff: with NoGroupCommit, every request commits alone.
func TestGroupCommitOff(t *testing.T) {
	db, waited := groupDB(t, Options{NoGroupCommit: true})
	release := make(chan struct{})
	held := holdWriter(t, db, release)
	commits := db.WriteCommits()
	var wg sync.WaitGroup
	for _, name := range []string{"a", "b", "c"} {
		wg.Go(func() {
			if err := db.inWriteTxFor(context.Background(), appLane(name), insertName(name)); err != nil {
				t.Error(err)
			}
		})
		<-waited
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if got := db.WriteCommits() - commits; got != 4 {
		t.Errorf("%d commits, want 4", got)
	}
}

// TestGroupCommitCancel: a request whose context ends after it was taken
// into a batch, before its work started, leaves at once and its work never
// runs; one whose context ends while its work runs is answered after the
// commit, with its work committed; neither harms the others.
func TestGroupCommitCancel(t *testing.T) {
	db, waited := groupDB(t, Options{})
	release := make(chan struct{})
	held := holdWriter(t, db, release)

	var wg sync.WaitGroup
	// "leader" gets the writer after the holder and leads the batch.
	wg.Go(func() {
		if err := db.inWriteTx(context.Background(), insertName("leader")); err != nil {
			t.Error(err)
		}
	})
	<-waited
	// "slow" runs until unblocked, its context ending meanwhile.
	slowCtx, cancelSlow := context.WithCancel(context.Background())
	slowRunning, unblock := make(chan struct{}), make(chan struct{})
	slowDone := make(chan error, 1)
	go func() {
		slowDone <- db.inWriteTx(slowCtx, func(tx *writeTx) error {
			close(slowRunning)
			<-unblock
			return insertName("slow")(tx)
		})
	}()
	<-waited
	// "late" is taken into the batch behind "slow".
	lateCtx, cancelLate := context.WithCancel(context.Background())
	lateDone := make(chan error, 1)
	lateRan := false
	go func() {
		lateDone <- db.inWriteTx(lateCtx, func(tx *writeTx) error {
			lateRan = true
			return insertName("late")(tx)
		})
	}()
	<-waited
	close(release)
	<-slowRunning
	cancelLate()
	if err := <-lateDone; !errors.Is(err, context.Canceled) {
		t.Errorf("late: %v, want context.Canceled", err)
	}
	cancelSlow()
	close(unblock)
	if err := <-slowDone; err != nil {
		t.Errorf("slow: %v", err)
	}
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if lateRan {
		t.Error("late's work ran after it left")
	}
	if got, want := storedNames(t, db), []string{"holder", "leader", "slow"}; !slices.Equal(got, want) {
		t.Errorf("stored %v, want %v", got, want)
	}
}

// TestGroupCommitLost: when a request's failure takes the whole
// transaction with it, the requests whose work was in it fail saying so,
// and those after it run in a new transaction.
func TestGroupCommitLost(t *testing.T) {
	db, waited := groupDB(t, Options{})
	release := make(chan struct{})
	held := holdWriter(t, db, release)
	errs := map[string]chan error{}
	for _, name := range []string{"before", "breaks", "after"} {
		f := insertName(name)
		if name == "breaks" {
			// What SQLite does on an I/O error or a full disk.
			f = func(tx *writeTx) error {
				if _, err := tx.ExecContext(context.Background(), `ROLLBACK`); err != nil {
					return err
				}
				return errors.New("disk full")
			}
		}
		errs[name] = make(chan error, 1)
		go func() { errs[name] <- db.inWriteTxFor(context.Background(), appLane(name), f) }()
		<-waited
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if err := <-errs["before"]; err == nil {
		t.Error("before: committed, though its transaction was lost")
	}
	if err := <-errs["breaks"]; err == nil {
		t.Error("breaks: succeeded")
	}
	if err := <-errs["after"]; err != nil {
		t.Errorf("after: %v", err)
	}
	if got, want := storedNames(t, db), []string{"after", "holder"}; !slices.Equal(got, want) {
		t.Errorf("stored %v, want %v", got, want)
	}
}
