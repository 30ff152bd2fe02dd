package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/ucwad/ucwad"
)

// CacheChanges reads the feed after cursor; see ucwad.CacheFeed.
//
// Sequence numbers are handed out when rows are inserted, not when their
// transactions commit, so a cursor of seq would step over a change that
// commits after a later one was read. The cursor is instead the snapshot
// of the previous read: this read returns the rows of every transaction
// that snapshot did not see (all of them at least its xmin, the oldest
// transaction then running) and this statement's snapshot does, and its
// own snapshot becomes the next cursor. Each change is read exactly once.
func (db *DB) CacheChanges(ctx context.Context, cursor string) ([]ucwad.CacheChange, string, error) {
	if cursor == "" {
		var snap string
		if err := db.queryRow(ctx, `SELECT pg_current_snapshot()::text`).Scan(&snap); err != nil {
			return nil, "", fmt.Errorf("postgres: cache changes: %w", err)
		}
		return nil, snap, nil
	}
	rows, err := db.query(ctx, `
		SELECT s.snap::text, c.kind, c.key
		FROM (SELECT pg_current_snapshot() AS snap) s
		LEFT JOIN cache_changes c
		       ON c.xid >= pg_snapshot_xmin(CAST(? AS pg_snapshot))
		      AND NOT pg_visible_in_snapshot(c.xid, CAST(? AS pg_snapshot))
		ORDER BY c.seq`, cursor, cursor)
	if err != nil {
		return nil, "", fmt.Errorf("postgres: cache changes: %w", err)
	}
	defer rows.Close()
	var out []ucwad.CacheChange
	next := cursor
	for rows.Next() {
		var kind, key sql.NullString
		if err := rows.Scan(&next, &kind, &key); err != nil {
			return nil, "", fmt.Errorf("postgres: cache changes: %w", err)
		}
		if kind.Valid {
			out = append(out, ucwad.CacheChange{Kind: ucwad.CacheKind(kind.String), Key: key.String})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("postgres: cache changes: %w", err)
	}
	return out, next, nil
}

// PruneCacheChanges deletes old changes; see ucwad.CacheFeed. The age is
// by the database's clock, which wrote them.
func (db *DB) PruneCacheChanges(ctx context.Context) (int, error) {
	var n int64
	err := db.inWriteTx(ctx, func(tx *writeTx) (err error) {
		n, err = changed(tx.ExecContext(ctx, `DELETE FROM cache_changes WHERE at < now() - make_interval(secs => ?)`, ucwad.CacheChangeRetention.Seconds()))
		return err
	})
	return int(n), wrap("prune cache changes", err)
}

// cacheChannel is what the feed's trigger notifies (migration 0005).
const cacheChannel = "ucwad_cache"

// cacheChanged passes a notification of the feed on to the notifier, when
// it reads the feed (httpapi's Hub does, for its server's read cache).
func (db *DB) cacheChanged() {
	if n, ok := db.notifier.(interface{ CacheChanged() }); ok {
		n.CacheChanged()
	}
}
