-- Instant messaging in meetings: each participant's messaging modality
-- (the SQLite store's migration 10). Messages themselves are not kept
-- here: a message is one event body (event_bodies, subject kind
-- 'message'), shared by the log entries of its sender and every receiver,
-- and it goes with the last of them.

CREATE TABLE messaging (
	-- A participant's modality goes with it.
	participant_id  TEXT   PRIMARY KEY REFERENCES participants (id) ON DELETE CASCADE,
	conversation_id TEXT   NOT NULL,
	-- 'Connected' or 'Disconnected'.
	state           TEXT   NOT NULL,
	-- The latest addMessaging: its messagingInvitation and operationId.
	invitation_id   TEXT   NOT NULL,
	operation_id    TEXT   NOT NULL,
	-- When it last connected (ms); 0: never.
	connected_at    BIGINT NOT NULL,
	-- When the participant stops showing as typing (ms); 0: not typing.
	typing_until    BIGINT NOT NULL,
	-- The message rate's clock (ms), see ucwad.Limits.AllowMessage.
	next_send       BIGINT NOT NULL
);

-- Reads the modalities of a conversation's participants.
CREATE INDEX messaging_conversation ON messaging (conversation_id);
-- The typing sweep looks only at those typing.
CREATE INDEX messaging_typing ON messaging (typing_until) WHERE typing_until > 0;
-- Finds a messagingInvitation. Not partial, unlike SQLite's: PostgreSQL
-- would not use an index on invitation_id <> '' for a lookup by a
-- parameter (every row has an invitation anyway: a row is written first
-- by addMessaging).
CREATE INDEX messaging_invitation ON messaging (invitation_id);
-- Finds a conversation's messages among the stored events; other events
-- do not pay for it. Keys compare bytewise ("C"), whatever the database's
-- collation, so that a conversation's keys ("<id>/<message>") lie between
-- "<id>/" and "<id>0".
CREATE INDEX event_bodies_messages ON event_bodies ((subject_key COLLATE "C")) WHERE subject_kind = 'message';
