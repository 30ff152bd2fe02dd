-- Event channels: each channel numbers the batches it releases. Events wait
-- with batch NULL until a P-GET freezes them into the next batch; a batch
-- stays until the client acknowledges it by asking for a later one.

-- The number the next released batch gets.
ALTER TABLE channels ADD COLUMN next_batch INTEGER NOT NULL DEFAULT 1;
-- Every batch below this one is acknowledged (and deleted).
ALTER TABLE channels ADD COLUMN acked_below INTEGER NOT NULL DEFAULT 1;
-- Set when the channel's log overflowed and events were dropped: the next
-- P-GET is answered with resync.
ALTER TABLE channels ADD COLUMN lost INTEGER NOT NULL DEFAULT 0;
-- Sticky P-GET parameters in seconds; 0 = unset.
ALTER TABLE channels ADD COLUMN timeout INTEGER NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN low INTEGER NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN medium INTEGER NOT NULL DEFAULT 0;

-- AUTOINCREMENT: sequence numbers are never reused after deletes, so a
-- process can tell new events (written by another process) by their seq.
CREATE TABLE events (
	seq            INTEGER PRIMARY KEY AUTOINCREMENT,
	application_id TEXT    NOT NULL,
	instance_id    TEXT    NOT NULL,
	batch          INTEGER,
	type           TEXT    NOT NULL,
	subject        TEXT    NOT NULL,
	meeting_id     TEXT    NOT NULL DEFAULT '',
	extension_id   TEXT    NOT NULL DEFAULT '',
	data           BLOB,
	created_at     INTEGER NOT NULL,
	FOREIGN KEY (application_id, instance_id) REFERENCES channels (application_id, instance_id) ON DELETE CASCADE
) STRICT;

-- Serves the channel's batch lookups, the acknowledgement deletes and the
-- cascade from channels.
CREATE INDEX events_channel ON events (application_id, instance_id, batch, seq);
