-- The sign-in schedule: per account, how many password checks failed
-- recently and when the next one may start. Shared by every process on the
-- file, so that more processes do not mean more guesses.

-- Users' schedules go with the user and are never evicted: nothing an
-- attacker sends can make the server forget a real account's failures.
CREATE TABLE signin_users (
	user_id  INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	failures INTEGER NOT NULL,
	next_at  INTEGER NOT NULL,
	last_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX signin_users_last_at ON signin_users (last_at);

-- Names no user has are throttled the same way, so that the answers do not
-- tell which accounts exist. Keyed by the SHA-256 of the normalised name
-- (names can be long, and people type passwords into the name field); the
-- number of rows is bounded by evicting the oldest, which only ever
-- forgets other unknown names.
CREATE TABLE signin_names (
	name_hash BLOB    PRIMARY KEY,
	failures  INTEGER NOT NULL,
	next_at   INTEGER NOT NULL,
	last_at   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX signin_names_last_at ON signin_names (last_at);

-- How many rows signin_names holds, so that enforcing its bound costs one
-- row read instead of counting the table on every new name.
CREATE TABLE signin_names_count (n INTEGER NOT NULL) STRICT;
INSERT INTO signin_names_count (n) VALUES (0);

CREATE TRIGGER signin_names_added AFTER INSERT ON signin_names
BEGIN
	UPDATE signin_names_count SET n = n + 1;
END;

CREATE TRIGGER signin_names_removed AFTER DELETE ON signin_names
BEGIN
	UPDATE signin_names_count SET n = n - 1;
END;
