package ucwad

import (
	"context"
	"fmt"
)

// HealthChecker reports whether the store can serve: its database is
// reachable and the migrations it applied are exactly the ones this binary
// embeds (none missing, none newer). It returns nil when both hold. A
// failed check should be a *HealthError naming it; CheckHealth must be
// cheap (it backs a readiness probe polled every few seconds) and must
// honour ctx's deadline.
type HealthChecker interface {
	CheckHealth(ctx context.Context) error
}

// The checks a HealthError names.
const (
	// CheckDatabase fails when the database does not answer.
	CheckDatabase = "database"
	// CheckMigrations fails when the database's schema is not the one this
	// binary embeds: migrations are missing (behind) or the database
	// applied versions this binary does not know (ahead).
	CheckMigrations = "migrations"
)

// HealthError is a failed health check. Check and Message are shown to
// whoever asks the readiness endpoint, so Message must hold nothing secret
// (no connection string, password or host name); the cause, for the log,
// is Err.
type HealthError struct {
	Check   string // CheckDatabase or CheckMigrations
	Message string
	Err     error
}

func (e *HealthError) Error() string {
	s := e.Check + ": " + e.Message
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *HealthError) Unwrap() error { return e.Err }

// MigrationsHealth compares the migration versions a database applied with
// the ones a binary embeds (both in any order) and returns nil when they
// are the same set, or a CheckMigrations *HealthError saying which side is
// behind. Stores share it so that every backend reports the same way.
func MigrationsHealth(applied, embedded []int) error {
	known := make(map[int]bool, len(embedded))
	for _, v := range embedded {
		known[v] = true
	}
	have := make(map[int]bool, len(applied))
	for _, v := range applied {
		have[v] = true
		if !known[v] {
			return &HealthError{Check: CheckMigrations, Message: fmt.Sprintf("the database applied migration %d, which this binary does not know: upgrade ucwad", v)}
		}
	}
	missing := 0
	first := 0
	for _, v := range embedded {
		if !have[v] {
			if missing == 0 || v < first {
				first = v
			}
			missing++
		}
	}
	if missing > 0 {
		return &HealthError{Check: CheckMigrations, Message: fmt.Sprintf("%d migration(s) not applied, the first %d: restart ucwad to apply them", missing, first)}
	}
	return nil
}

// EventCounter is implemented by stores that count, for operators, the
// events they write: one per receiving user's log entry, counted when the
// transaction that appended it commits.
type EventCounter interface {
	// EventsWritten returns how many events the store has written since
	// it was opened.
	EventsWritten() int64
}
