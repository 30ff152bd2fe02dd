package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"
)

// The schema is the sequence of files migrations/NNNN_name.sql, numbered
// from 1 without gaps. A released file is never edited: a change is a new
// file, so every database reaches the same schema by the same steps.
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
		if v != len(ms)+1 {
			return nil, fmt.Errorf("migration %s: want version %d", base, len(ms)+1)
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
// It refuses a database whose schema is newer than this binary: running old
// code against it could corrupt data the new code relies on.
func migrate(ctx context.Context, db *sql.DB, now time.Time) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	latest := len(ms)
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
		var current int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return err
		}
		if current > latest {
			return fmt.Errorf("database schema version %d is newer than this binary supports (%d): upgrade ucwad", current, latest)
		}
		if m == nil || current >= m.version {
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
