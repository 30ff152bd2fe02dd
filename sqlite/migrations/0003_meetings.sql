-- Online meetings and their extensions. Lists (attendees, leaders, the
-- extensions' own properties) are JSON text: they are read and written
-- whole, never queried.

CREATE TABLE meetings (
	-- The onlineMeetingId; it is in hrefs and join URIs.
	id                          TEXT    PRIMARY KEY,
	user_id                     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	-- 'myOnlineMeetings' (scheduled) or 'myAssignedOnlineMeeting'.
	rel                         TEXT    NOT NULL,
	-- What callers dial in with, so it must name one meeting only.
	conference_id               TEXT    NOT NULL UNIQUE,
	subject                     TEXT    NOT NULL,
	description                 TEXT    NOT NULL,
	access_level                TEXT    NOT NULL,
	automatic_leader_assignment TEXT    NOT NULL,
	entry_exit_announcement     TEXT    NOT NULL,
	lobby_bypass_for_phone_users TEXT   NOT NULL,
	phone_user_admission        TEXT    NOT NULL,
	attendees                   TEXT    NOT NULL,
	leaders                     TEXT    NOT NULL,
	expiration_time             INTEGER NOT NULL,
	etag                        TEXT    NOT NULL,
	created_at                  INTEGER NOT NULL,
	updated_at                  INTEGER NOT NULL
) STRICT;

-- Counts a user's scheduled meetings for the limit from the index alone,
-- finds a user's meetings and serves the cascade from users.
CREATE INDEX meetings_user ON meetings (user_id, rel);
-- A user has at most one assigned meeting; creating it twice at once
-- collides here instead of making two.
CREATE UNIQUE INDEX meetings_assigned ON meetings (user_id) WHERE rel = 'myAssignedOnlineMeeting';
-- The expiry sweep looks only at scheduled meetings past their time.
CREATE INDEX meetings_expiry ON meetings (expiration_time) WHERE rel = 'myOnlineMeetings';

CREATE TABLE extensions (
	-- Insertion order, which is the order extensions are listed in.
	seq        INTEGER PRIMARY KEY,
	meeting_id TEXT    NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
	-- Chosen by the application; unique within its meeting only.
	id         TEXT    NOT NULL,
	type       TEXT    NOT NULL,
	properties TEXT    NOT NULL,
	etag       TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	-- Also serves lookups by meeting and the cascade from meetings.
	UNIQUE (meeting_id, id)
) STRICT;
