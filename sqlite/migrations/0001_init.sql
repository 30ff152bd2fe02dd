-- Users, their tokens, their applications and the applications' event
-- channels. Times are INTEGER Unix milliseconds UTC. STRICT makes SQLite
-- reject a value of the wrong type instead of silently storing it.

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	-- NOCASE: SIP addresses compare case-insensitively, and the unique index
	-- inherits the collation so "Alice@x" and "alice@x" collide.
	sip           TEXT    NOT NULL UNIQUE COLLATE NOCASE,
	name          TEXT    NOT NULL,
	password_hash TEXT    NOT NULL,
	created_at    INTEGER NOT NULL
) STRICT;

-- Keyed by the SHA-256 of the token value; WITHOUT ROWID stores the row in
-- the primary-key b-tree, saving a second lookup on every request.
CREATE TABLE tokens (
	hash       BLOB    PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX tokens_expires_at ON tokens (expires_at);
-- Revoking a user's tokens and the cascade from users would scan every
-- token without it.
CREATE INDEX tokens_user_id ON tokens (user_id);

-- The unique key is what makes a repeated POST applications return the same
-- application; its leading user_id also serves the cascade from users and
-- the per-user count.
CREATE TABLE applications (
	id             TEXT    PRIMARY KEY,
	user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	user_agent     TEXT    NOT NULL,
	endpoint_id    TEXT    NOT NULL,
	culture        TEXT    NOT NULL,
	type           TEXT    NOT NULL,
	available      INTEGER NOT NULL DEFAULT 0,
	created_at     INTEGER NOT NULL,
	last_active_at INTEGER NOT NULL,
	UNIQUE (user_id, user_agent, endpoint_id, culture)
) STRICT;

CREATE TABLE channels (
	application_id TEXT    NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
	instance_id    TEXT    NOT NULL,
	created_at     INTEGER NOT NULL,
	PRIMARY KEY (application_id, instance_id)
) STRICT, WITHOUT ROWID;
