-- Event bodies are stored once per change, not once per receiving channel:
-- each channel's log row refers to the change's body. A body counts the log
-- rows that refer to it (refs) and goes with the last of them, and each
-- user's bodies add up in users.event_bytes, which bounds what one user's
-- unread events may hold.

CREATE TABLE event_bodies (
	-- Increasing: the oldest bodies of a user are the first to go.
	id           INTEGER PRIMARY KEY,
	user_id      INTEGER NOT NULL,
	-- How many log rows refer to this body; the body goes at zero.
	refs         INTEGER NOT NULL,
	-- What the body counts against the user's bound, in bytes.
	size         INTEGER NOT NULL,
	type         TEXT    NOT NULL,
	subject      TEXT    NOT NULL,
	meeting_id   TEXT    NOT NULL DEFAULT '',
	extension_id TEXT    NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	-- Last, so that reading the other columns never walks its overflow pages.
	data         BLOB
) STRICT;

-- Finds a user's oldest bodies when the user is over the bound.
CREATE INDEX event_bodies_user ON event_bodies (user_id, id);

ALTER TABLE users ADD COLUMN event_bytes INTEGER NOT NULL DEFAULT 0;

-- The log keeps its sequence numbers: other processes sharing the file tell
-- new events by them.
CREATE TABLE event_sequence_carry (seq INTEGER NOT NULL);
INSERT INTO event_sequence_carry SELECT COALESCE(MAX(seq), 0) FROM (
	SELECT seq FROM sqlite_sequence WHERE name = 'events' UNION ALL SELECT MAX(seq) FROM events);

-- Every existing log row becomes a body of its own (numbered as the row).
INSERT INTO event_bodies (id, user_id, refs, size, type, subject, meeting_id, extension_id, created_at, data)
SELECT e.seq, a.user_id, 1,
       COALESCE(length(e.data), 0) + length(e.meeting_id) + length(e.extension_id) + 64,
       e.type, e.subject, e.meeting_id, e.extension_id, e.created_at, e.data
FROM events e JOIN applications a ON a.id = e.application_id;

UPDATE users SET event_bytes = COALESCE((SELECT SUM(size) FROM event_bodies b WHERE b.user_id = users.id), 0);

CREATE TABLE events_new (
	seq            INTEGER PRIMARY KEY AUTOINCREMENT,
	application_id TEXT    NOT NULL,
	instance_id    TEXT    NOT NULL,
	batch          INTEGER,
	body           INTEGER NOT NULL REFERENCES event_bodies (id),
	FOREIGN KEY (application_id, instance_id) REFERENCES channels (application_id, instance_id) ON DELETE CASCADE
) STRICT;

INSERT INTO events_new (seq, application_id, instance_id, batch, body)
SELECT seq, application_id, instance_id, batch, seq FROM events WHERE seq IN (SELECT id FROM event_bodies);

DROP TABLE events;
ALTER TABLE events_new RENAME TO events;

DELETE FROM sqlite_sequence WHERE name = 'events';
INSERT INTO sqlite_sequence (name, seq) SELECT 'events', seq FROM event_sequence_carry;
DROP TABLE event_sequence_carry;

-- Serves the channel's batch lookups, the acknowledgement deletes and the
-- cascade from channels.
CREATE INDEX events_channel ON events (application_id, instance_id, batch, seq);
-- Finds the log rows of a body when the user's bound drops it.
CREATE INDEX events_body ON events (body);

-- A log row that goes (acknowledged, dropped, or with its channel) releases
-- its body; the last one removes it, and the user's total follows.
CREATE TRIGGER events_release AFTER DELETE ON events BEGIN
	UPDATE event_bodies SET refs = refs - 1 WHERE id = OLD.body;
	DELETE FROM event_bodies WHERE id = OLD.body AND refs <= 0;
END;

CREATE TRIGGER event_bodies_release AFTER DELETE ON event_bodies BEGIN
	UPDATE users SET event_bytes = event_bytes - OLD.size WHERE id = OLD.user_id;
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
