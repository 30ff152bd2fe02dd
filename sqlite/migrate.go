package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"
)

// The schema is the sequence of files migrations/NNNN_name.sql, applied in
// the order of their numbers. A released file is never edited: a change is a
// new file, so every database reaches the same schema by the same steps.
// Numbers only increase; a gap is allowed, because work developed side by
// side reserves its numbers before it is merged. A database records every
// version it applied, so a migration that fills a gap later is applied then
// (each migration creates or changes only what is its own, so the order in
// which two side-by-side migrations reach a database does not matter).
//
//go:embed migrations/*.sql
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the embedded migrations in version order and checks
// their numbering: four digits, strictly increasing, starting at 1.
func loadMigrations() ([]migration, error) { return readMigrations(migrationFS) }

// readMigrations reads the migrations/*.sql files of fsys; see
// loadMigrations.
func readMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
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
		switch {
		case len(ms) == 0 && v != 1:
			return nil, fmt.Errorf("migration %s: the first migration must be version 1", base)
		case len(ms) > 0 && v <= ms[len(ms)-1].version:
			return nil, fmt.Errorf("migration %s: version %d is taken by %s", base, v, ms[len(ms)-1].name)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	return ms, nil
}

// migrate brings the database to the newest schema, one transaction per
// migration so a failure leaves the database with every complete one
// applied. It refuses a database that applied a version this binary does
// not know: it was written by a newer binary, and running old code against
// it could corrupt data the new code relies on.
func migrate(ctx context.Context, db *sql.DB, now time.Time) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	return applyMigrations(ctx, db, now, ms)
}

// applyMigrations applies the migrations of ms (in version order) that the
// database has not applied yet; see migrate.
func applyMigrations(ctx context.Context, db *sql.DB, now time.Time, ms []migration) error {
	if len(ms) == 0 {
		return errors.New("no migrations")
	}
	known := make(map[int]bool, len(ms))
	for _, m := range ms {
		known[m.version] = true
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
		rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
		if err != nil {
			return err
		}
		applied := map[int]bool{}
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return err
			}
			applied[v] = true
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for v := range applied {
			if !known[v] {
				return fmt.Errorf("database schema version %d is newer than this binary supports (it knows %d migrations up to version %d): upgrade ucwad", v, len(ms), ms[len(ms)-1].version)
			}
		}
		if m == nil || applied[m.version] {
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
	// The first step only checks the versions, so a database written by a
	// newer binary is refused before any migration touches it.
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
