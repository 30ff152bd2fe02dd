package sqlite

import (
	"context"
	"fmt"
	"strconv"

	"github.com/ucwad/ucwad"
)

// CacheChanges reads the feed after cursor; see ucwad.CacheFeed. The
// cursor is the last seq read: commits take turns on one writer, so seq
// order is commit order and nothing can commit behind it.
func (db *DB) CacheChanges(ctx context.Context, cursor string) ([]ucwad.CacheChange, string, error) {
	if cursor == "" {
		var last int64
		if err := db.queryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM cache_changes`).Scan(&last); err != nil {
			return nil, "", fmt.Errorf("sqlite: cache changes: %w", err)
		}
		return nil, strconv.FormatInt(last, 10), nil
	}
	after, err := strconv.ParseInt(cursor, 10, 64)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: cache changes: bad cursor %q", cursor)
	}
	rows, err := db.query(ctx, `SELECT seq, kind, key FROM cache_changes WHERE seq > ? ORDER BY seq`, after)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: cache changes: %w", err)
	}
	defer rows.Close()
	var out []ucwad.CacheChange
	for rows.Next() {
		var c ucwad.CacheChange
		if err := rows.Scan(&after, &c.Kind, &c.Key); err != nil {
			return nil, "", fmt.Errorf("sqlite: cache changes: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlite: cache changes: %w", err)
	}
	return out, strconv.FormatInt(after, 10), nil
}

// PruneCacheChanges deletes old changes; see ucwad.CacheFeed. The age is
// by the database's clock, which wrote them. The newest change always
// stays: seq is a rowid, one more than the largest (migration 0015), so the
// largest must never go or a number would be used twice. Rows are in seq
// order and at grows with seq, so the old ones are those before the first
// recent one; at is checked on each as well, in case the clock went back.
func (db *DB) PruneCacheChanges(ctx context.Context) (int, error) {
	var n int64
	err := db.inWriteTx(ctx, func(tx *writeTx) (err error) {
		n, err = changed(tx.ExecContext(ctx, `
			DELETE FROM cache_changes
			WHERE seq < COALESCE((SELECT seq FROM cache_changes WHERE at >= unixepoch() - ?1 ORDER BY seq LIMIT 1),
			                     (SELECT MAX(seq) FROM cache_changes))
			  AND at < unixepoch() - ?1`, int64(ucwad.CacheChangeRetention.Seconds())))
		return err
	})
	return int(n), wrap("prune cache changes", err)
}
