-- Events are stored once per change, in one log per user, instead of once
-- per receiving channel: each channel reads its user's log from its own
-- position (cursor), and an event goes once every channel of the user has
-- acknowledged it, or when the user's log is over its bounds. Appending an
-- event costs the same whatever the number of channels.
--
-- The events waiting in the old per-channel logs are not carried over:
-- every channel answers its next P-GET with resync, the protocol's own
-- "you may have missed events, read again".

UPDATE channels SET lost = 1, acked_below = next_batch;
ALTER TABLE channels DROP COLUMN queued;
-- Every event of the user's log up to cursor is acknowledged (or was
-- dropped) for this channel.
ALTER TABLE channels ADD COLUMN cursor INTEGER NOT NULL DEFAULT 0;
-- The last event of the released batch (acked_below, when next_batch is
-- past it): the batch is the channel's events in (cursor, batch_end].
ALTER TABLE channels ADD COLUMN batch_end INTEGER NOT NULL DEFAULT 0;

-- Sequence numbers go on from the old log's: other processes sharing the
-- file tell new events by them.
CREATE TABLE event_sequence_carry (seq INTEGER NOT NULL);
INSERT INTO event_sequence_carry SELECT COALESCE(MAX(seq), 0) FROM (
	SELECT seq FROM sqlite_sequence WHERE name = 'events' UNION ALL SELECT MAX(seq) FROM events);
DROP TABLE events;

-- A user's event totals, which the log's bounds apply to.
ALTER TABLE users ADD COLUMN event_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN event_count INTEGER NOT NULL DEFAULT 0;

-- AUTOINCREMENT: sequence numbers are never reused after deletes, so that
-- a cursor never mistakes a new event for an acknowledged one.
CREATE TABLE events (
	seq            INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	-- NULL: every application of the user; otherwise that one only.
	application_id TEXT,
	-- What the event counts against the user's byte bound.
	size           INTEGER NOT NULL,
	type           TEXT    NOT NULL,
	subject        TEXT    NOT NULL,
	meeting_id     TEXT    NOT NULL DEFAULT '',
	extension_id   TEXT    NOT NULL DEFAULT '',
	created_at     INTEGER NOT NULL,
	-- Last, so that reading the other columns never walks its overflow pages.
	data           BLOB
) STRICT;

INSERT INTO sqlite_sequence (name, seq) SELECT 'events', seq FROM event_sequence_carry;
DROP TABLE event_sequence_carry;

-- Serves reading a channel's events, the oldest of a user for the bounds,
-- and the cascade from users.
CREATE INDEX events_user ON events (user_id, seq);

-- However an event goes, the user's totals follow.
CREATE TRIGGER events_release AFTER DELETE ON events BEGIN
	UPDATE users SET event_bytes = event_bytes - OLD.size, event_count = event_count - 1 WHERE id = OLD.user_id;
END;

-- Extensions are rebuilt with their properties last, so that listing
-- extensions by identity (id, type, etag) never reads the properties'
-- overflow pages.
CREATE TABLE extensions_new (
	-- Insertion order, which is the order extensions are listed in.
	seq        INTEGER PRIMARY KEY,
	meeting_id TEXT    NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
	-- Chosen by the application; unique within its meeting only.
	id         TEXT    NOT NULL,
	type       TEXT    NOT NULL,
	etag       TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	properties TEXT    NOT NULL,
	-- Also serves lookups by meeting and the cascade from meetings.
	UNIQUE (meeting_id, id)
) STRICT;

INSERT INTO extensions_new (seq, meeting_id, id, type, etag, created_at, updated_at, properties)
SELECT seq, meeting_id, id, type, etag, created_at, updated_at, properties FROM extensions;

DROP TABLE extensions;
ALTER TABLE extensions_new RENAME TO extensions;

-- Lists a meeting's extensions in insertion order (the rowid) without
-- sorting them, so that they can be read a page at a time.
CREATE INDEX extensions_meeting ON extensions (meeting_id);

-- Lists a user's meetings of one rel in creation order from the index
-- alone, a page at a time, without reading (and sorting) every meeting row;
-- it also counts them for the limit, as the index it replaces did.
DROP INDEX meetings_user;
CREATE INDEX meetings_user ON meetings (user_id, rel, created_at);
