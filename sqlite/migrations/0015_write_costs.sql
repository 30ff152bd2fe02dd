-- What a scheduling or extension request costs SQLite, cut.
--
-- 1. The read caches' feed without AUTOINCREMENT and without the index on
-- at: every change to a cached row (an extension added, a meeting
-- updated) inserted a feed row that also read and rewrote the table's
-- sqlite_sequence entry and inserted into cache_changes_at, about a fifth
-- of what such a write cost SQLite.
--
-- seq stays the commit order and is never reused: a rowid is one more than
-- the largest, and pruning (PruneCacheChanges) always keeps the newest row,
-- so the largest never goes. Pruning walks from the oldest row, in seq
-- order, to the first one recent enough, instead of reading an index on at.
--
-- The triggers that insert into the feed name it, not its definition: they
-- go on unchanged.

CREATE TEMP TABLE cache_changes_carry AS SELECT seq, kind, key, at FROM cache_changes;
-- Dropping the table drops its sqlite_sequence row: an empty feed whose
-- last number was n goes on after n (a node's cursor may be at n) by a row
-- numbered n that names no meeting.
INSERT INTO cache_changes_carry (seq, kind, key, at)
SELECT seq, 'meeting', '', unixepoch() FROM sqlite_sequence
WHERE name = 'cache_changes' AND seq > (SELECT COALESCE(MAX(seq), 0) FROM cache_changes);
DROP TABLE cache_changes;

CREATE TABLE cache_changes (
	seq  INTEGER PRIMARY KEY,
	kind TEXT    NOT NULL,
	key  TEXT    NOT NULL,
	-- Unix seconds of the database's own clock, for pruning only.
	at   INTEGER NOT NULL DEFAULT (unixepoch())
) STRICT;

INSERT INTO cache_changes (seq, kind, key, at) SELECT seq, kind, key, at FROM cache_changes_carry ORDER BY seq;
DROP TABLE cache_changes_carry;

-- 2. The number of a user's scheduled meetings, kept by triggers whoever
-- inserts or deletes them (a request, the expiry sweep, a user's removal,
-- another process on the same file), so that the per-user limit reads one
-- number instead of counting the user's meetings on every insert: at
-- maxMeetingsPerUser (1,000 by default) the count read a thousand index
-- entries. The users row is written anyway in the same transaction (the
-- user's event totals); the feed's trigger on users does not watch this
-- column.
ALTER TABLE users ADD COLUMN scheduled_meetings INTEGER NOT NULL DEFAULT 0;
UPDATE users SET scheduled_meetings = (
	SELECT COUNT(*) FROM meetings m WHERE m.user_id = users.id AND m.rel = 'myOnlineMeetings');

CREATE TRIGGER meetings_scheduled_insert AFTER INSERT ON meetings WHEN NEW.rel = 'myOnlineMeetings' BEGIN
	UPDATE users SET scheduled_meetings = scheduled_meetings + 1 WHERE id = NEW.user_id;
END;
CREATE TRIGGER meetings_scheduled_delete AFTER DELETE ON meetings WHEN OLD.rel = 'myOnlineMeetings' BEGIN
	UPDATE users SET scheduled_meetings = scheduled_meetings - 1 WHERE id = OLD.user_id;
END;
-- No request moves a meeting between users or rels; should anything, the
-- number follows.
CREATE TRIGGER meetings_scheduled_move AFTER UPDATE OF user_id, rel ON meetings
WHEN (OLD.rel = 'myOnlineMeetings') <> (NEW.rel = 'myOnlineMeetings') OR OLD.user_id <> NEW.user_id BEGIN
	UPDATE users SET scheduled_meetings = scheduled_meetings - 1 WHERE id = OLD.user_id AND OLD.rel = 'myOnlineMeetings';
	UPDATE users SET scheduled_meetings = scheduled_meetings + 1 WHERE id = NEW.user_id AND NEW.rel = 'myOnlineMeetings';
END;
