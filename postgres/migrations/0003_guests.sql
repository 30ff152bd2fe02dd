-- Anonymous meeting guests (the token endpoint's anonmeeting grant) are
-- users of their own kind, so that their tokens, applications and event
-- logs are the ordinary ones: each is bound to one meeting, remembers the
-- client address its grant came from (the per-address bound counts by it)
-- and goes when expires_at passes. Users who sign in keep the defaults.
-- (The SQLite store's migration 11.)

ALTER TABLE users ADD COLUMN anonymous  BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN meeting_id TEXT    NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN address    TEXT    NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN expires_at BIGINT  NOT NULL DEFAULT 0;

-- The bounds on guests' applications count per meeting and per address;
-- the sweep finds expired guests. Partial: users who sign in are not in
-- them.
CREATE INDEX users_guest_meeting ON users (meeting_id) WHERE anonymous;
CREATE INDEX users_guest_address ON users (address) WHERE anonymous;
CREATE INDEX users_guest_expiry ON users (expires_at) WHERE anonymous;
