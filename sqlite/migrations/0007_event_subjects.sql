-- Events by subject, with their bodies stored once per change.
--
-- What an event is about is one subject, a kind and a key, instead of a
-- column per kind of id: conversations, participants, messages and
-- invitations add kinds, not columns.
--
-- A change's body (its type, subject and data) is stored once, in
-- event_bodies; every user log that receives it holds a small entry (the
-- events table) referring to it. A change for several users (a message to
-- a conversation's participants) then costs one body and one entry per
-- user's log, not a copy of the body per user. Every entry still counts the
-- body's size against its user's bound: that bound is what one user may
-- make the server hold for them.
--
-- Events waiting in the logs are carried over unchanged: no channel has to
-- resync.

CREATE TABLE event_bodies (
	id           INTEGER PRIMARY KEY,
	-- The store instance (process) that wrote it: the poll that notices
	-- other processes' events skips its own.
	origin       INTEGER NOT NULL,
	type         TEXT    NOT NULL,
	subject_kind TEXT    NOT NULL,
	-- Empty for subjects an application has one of (me, communication).
	subject_key  TEXT    NOT NULL,
	-- How many log entries refer to it; it goes with the last of them.
	refs         INTEGER NOT NULL,
	created_at   INTEGER NOT NULL,
	-- Last, so that reading the other columns never walks its overflow pages.
	data         BLOB
) STRICT;

INSERT INTO event_bodies (id, origin, type, subject_kind, subject_key, refs, created_at, data)
SELECT seq, 0, type, subject,
       CASE subject WHEN 'meeting' THEN meeting_id WHEN 'extension' THEN meeting_id || '/' || extension_id ELSE '' END,
       1, created_at, data
FROM events;

-- The entries keep their sequence numbers (and the table its
-- AUTOINCREMENT counter): cursors and other processes' polls go on.
ALTER TABLE events ADD COLUMN body INTEGER NOT NULL DEFAULT 0;
UPDATE events SET body = seq;
ALTER TABLE events DROP COLUMN type;
ALTER TABLE events DROP COLUMN subject;
ALTER TABLE events DROP COLUMN meeting_id;
ALTER TABLE events DROP COLUMN extension_id;
ALTER TABLE events DROP COLUMN created_at;
ALTER TABLE events DROP COLUMN data;

-- However an entry goes (acknowledged, over a bound, with its user), its
-- body goes with the last entry referring to it.
CREATE TRIGGER events_body_release AFTER DELETE ON events BEGIN
	DELETE FROM event_bodies WHERE id = OLD.body AND refs = 1;
	UPDATE event_bodies SET refs = refs - 1 WHERE id = OLD.body AND refs > 1;
END;

-- Which process holds each channel: the last one that started a P-GET
-- there (0: none yet), and the take that made it so. Takes are numbered
-- in commit order across processes (channel_takes), so that a process
-- polling for channels taken from it finds the new ones by number.
ALTER TABLE channels ADD COLUMN holder INTEGER NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN taken INTEGER NOT NULL DEFAULT 0;
CREATE INDEX channels_taken ON channels (taken);

-- One row: the number of the last take. A counter of its own, because the
-- highest take in channels goes back when that channel is deleted.
CREATE TABLE channel_takes (last INTEGER NOT NULL) STRICT;
INSERT INTO channel_takes VALUES (0);
