package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The schema is the sequence of files migrations/NNNN_name.sql, numbered
// from 1 upwards. A released file is never edited: a change is a new file,
// so every database reaches the same schema by the same steps. Numbers are
// reserved when work starts, so a branch may carry a later number before an
// earlier one lands; each migration is therefore applied when its own
// version is missing from the database, not only when it is above the
// highest one there.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the embedded migrations in version order and checks
// their numbering.
func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names { // Glob returns names sorted
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || len(num) != 4 {
			return nil, fmt.Errorf("migration %s: name is not NNNN_name.sql", base)
		}
		if v < 1 || (len(ms) > 0 && v <= ms[len(ms)-1].version) {
			return nil, fmt.Errorf("migration %s: version %d is not above the one before", base, v)
		}
		b, err := migrationFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	return ms, nil
}

// migrate brings the database to the newest schema, one transaction per
// migration so a failure leaves the database at the last complete version.
// It refuses a database holding a version this binary does not know (a
// newer schema): running old code against it could corrupt data the new
// code relies on.
func migrate(ctx context.Context, db *sql.DB, now time.Time) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	return applyMigrations(ctx, db, now, ms)
}

// applyMigrations is migrate with the migrations given, in version order.
func applyMigrations(ctx context.Context, db *sql.DB, now time.Time, ms []migration) error {
	known := map[int]bool{}
	for _, m := range ms {
		known[m.version] = true
	}
	latest := 0
	if len(ms) > 0 {
		latest = ms[len(ms)-1].version
	}
	step := func(m *migration) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			applied_at INTEGER NOT NULL
		) STRICT`); err != nil {
			return err
		}
		// Read inside the (immediate) transaction: another process opening
		// the same file at the same time may have just applied m.
		applied, err := appliedVersions(ctx, tx)
		if err != nil {
			return err
		}
		for _, v := range applied {
			if !known[v] {
				return fmt.Errorf("database schema version %d is not one this binary knows (it knows up to %d): a newer ucwad wrote it; upgrade ucwad", v, latest)
			}
		}
		if m == nil || slices.Contains(applied, m.version) {
			return tx.Commit()
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
			m.version, millis(now)); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		return tx.Commit()
	}
	// The first step only checks the version, so a too-new database is
	// refused before any migration touches it.
	if err := step(nil); err != nil {
		return err
	}
	for i := range ms {
		if err := step(&ms[i]); err != nil {
			return err
		}
	}
	return nil
}

// appliedVersions lists the versions recorded in the database.
func appliedVersions(ctx context.Context, tx *sql.Tx) ([]int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, rows.Err()
}
