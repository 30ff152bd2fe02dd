package sqlite

import (
	"context"

	"github.com/ucwad/ucwad"
)

var (
	_ ucwad.HealthChecker = (*DB)(nil)
	_ ucwad.EventCounter  = (*DB)(nil)
)

// CheckHealth reads the applied migration versions on the read pool (the
// cheap query that also proves the database answers) and compares them
// with the embedded ones: the same set, or a *ucwad.HealthError naming the
// check that failed. A closed DB fails the database check.
func (db *DB) CheckHealth(ctx context.Context) error {
	applied, err := db.appliedMigrations(ctx)
	if err != nil {
		msg := "the database does not answer"
		if ctx.Err() != nil {
			msg = "the database did not answer in time"
		}
		return &ucwad.HealthError{Check: ucwad.CheckDatabase, Message: msg, Err: err}
	}
	return ucwad.MigrationsHealth(applied, db.migrations)
}

func (db *DB) appliedMigrations(ctx context.Context) ([]int, error) {
	rows, err := db.query(ctx, `SELECT version FROM schema_migrations`)
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

// EventsWritten returns how many events (one per receiving user's log
// entry) the DB's committed transactions appended since it was opened.
func (db *DB) EventsWritten() int64 { return db.eventsWritten.Load() }
