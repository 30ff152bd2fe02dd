-- Joining meetings: each meeting's live conversation, its participants and
-- the invitations (onlineMeetingInvitation) applications follow their joins
-- with. There is no foreign key to applications or meetings: when those go,
-- the store takes their participants out itself, in the same transaction,
-- telling the others (a cascade would remove them silently).

CREATE TABLE conversations (
	id         TEXT    PRIMARY KEY,
	-- A meeting has at most one live conversation.
	meeting_id TEXT    NOT NULL UNIQUE,
	thread_id  TEXT    NOT NULL,
	-- The meeting's subject when the conversation started.
	subject    TEXT    NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE participants (
	-- Arrival order, which is the order rosters are listed in.
	seq             INTEGER PRIMARY KEY,
	id              TEXT    NOT NULL UNIQUE,
	conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	application_id  TEXT    NOT NULL,
	-- 0 for an anonymous guest.
	user_id         INTEGER NOT NULL,
	name            TEXT    NOT NULL,
	uri             TEXT    NOT NULL,
	-- 'Leader' or 'Attendee'.
	role            TEXT    NOT NULL,
	in_lobby        INTEGER NOT NULL,
	organizer       INTEGER NOT NULL,
	anonymous       INTEGER NOT NULL,
	invitation_id   TEXT    NOT NULL,
	joined_at       INTEGER NOT NULL,
	-- When a participant in the lobby stops waiting; 0: it does not (or
	-- it was admitted).
	lobby_deadline  INTEGER NOT NULL,
	-- An application is at most once in one conversation.
	UNIQUE (conversation_id, application_id)
) STRICT;

-- Reads a conversation's roster in arrival order, and serves the cascade.
CREATE INDEX participants_conversation ON participants (conversation_id, seq);
-- Counts and finds an application's conversations.
CREATE INDEX participants_application ON participants (application_id);
-- The lobby sweep looks only at those waiting.
CREATE INDEX participants_lobby ON participants (lobby_deadline) WHERE in_lobby;

CREATE TABLE invitations (
	-- Creation order: the bound on failed invitations drops the oldest.
	seq                    INTEGER PRIMARY KEY,
	id                     TEXT    NOT NULL UNIQUE,
	application_id         TEXT    NOT NULL,
	user_id                INTEGER NOT NULL,
	meeting_id             TEXT    NOT NULL,
	-- Set once the join got a participant.
	conversation_id        TEXT    NOT NULL,
	participant_id         TEXT    NOT NULL,
	online_meeting_uri     TEXT    NOT NULL,
	operation_id           TEXT    NOT NULL,
	subject                TEXT    NOT NULL,
	importance             TEXT    NOT NULL,
	thread_id              TEXT    NOT NULL,
	anonymous_display_name TEXT    NOT NULL,
	-- 'Connecting', 'Connected' or 'Failed', with the subcode why.
	state                  TEXT    NOT NULL,
	reason                 TEXT    NOT NULL,
	created_at             INTEGER NOT NULL,
	updated_at             INTEGER NOT NULL
) STRICT;

-- Finds an application's invitations, its failed ones oldest first.
CREATE INDEX invitations_application ON invitations (application_id, state, seq);

-- Ad hoc meetings (startOnlineMeeting) live as long as their conversation;
-- the sweep finds any left over without reading every meeting.
CREATE INDEX meetings_adhoc ON meetings (id) WHERE rel = 'adhoc';
