-- Read caches: every change to what a node may hold in memory (a token, a
-- user, an application or its channels, a meeting or its extensions)
-- appends the key it changed, in the transaction that makes it, whoever
-- makes it: a server, another server on the same file, or the user command
-- of another process. Each node reads the keys after the last it read
-- (ucwad.CacheFeed) and drops what it holds of them. One writer at a time
-- makes seq the order of commits. Rows go after ucwad.CacheChangeRetention.
CREATE TABLE cache_changes (
	seq  INTEGER PRIMARY KEY AUTOINCREMENT,
	kind TEXT    NOT NULL,
	key  TEXT    NOT NULL,
	-- Unix seconds of the database's own clock, for pruning only.
	at   INTEGER NOT NULL DEFAULT (unixepoch())
) STRICT;

CREATE INDEX cache_changes_at ON cache_changes (at);

-- Triggers fire for the rows foreign keys cascade to as well, so that
-- deleting a user names its tokens, applications and meetings.
CREATE TRIGGER cache_tokens_update AFTER UPDATE ON tokens BEGIN
	INSERT INTO cache_changes (kind, key) VALUES ('token', lower(hex(OLD.hash)));
END;
CREATE TRIGGER cache_tokens_delete AFTER DELETE ON tokens BEGIN
	INSERT INTO cache_changes (kind, key) VALUES ('token', lower(hex(OLD.hash)));
END;

-- Not the event totals, which change with every event.
CREATE TRIGGER cache_users_update AFTER UPDATE OF sip, name, password_hash, anonymous, meeting_id, address, expires_at ON users BEGIN
	INSERT INTO cache_changes (kind, key) VALUES ('user', CAST(OLD.id AS TEXT));
END;
CREATE TRIGGER cache_users_delete AFTER DELETE ON users BEGIN
	INSERT INTO cache_changes (kind, key) VALUES ('user', CAST(OLD.id AS TEXT));
END;

-- Not last_active_at, which reads record every ucwad.ActivityInterval.
CREATE TRIGGER cache_applications_update AFTER UPDATE OF user_id, user_agent, endpoint_id, culture, type, available ON applications BEGIN
	INSERT INTO cache_changes (kind, key) VALUES ('application', OLD.id);
END;
CREATE TRIGGER cache_applications_delete AFTER DELETE ON applications BEGIN
	INSERT INTO cache_changes (kind, key) VALUES ('application', OLD.id);
END;

-- What FindApplication reads of a channel: its acknowledgement and options.
CREATE TRIGGER cache_channels_update AFTER UPDATE OF acked_below, timeout, low, medium ON channels BEGIN
	INSERT INTO cache_changes (kind, key) VALUES ('application', OLD.application_id);
END;
CREATE TRIGGER cache_channels_delete AFTER DELETE ON channels BEGIN
	INSERT INTO cache_changes (kind, key) VALUES ('application', OLD.application_id);
END;

CREATE TRIGGER cache_meetings_update AFTER UPDATE ON meetings BEGIN
	INSERT INTO cache_changes (kind, key) VALUES ('meeting', OLD.id);
END;
CREATE TRIGGER cache_meetings_delete AFTER DELETE ON meetings BEGIN
	INSERT INTO cache_changes (kind, key) VALUES ('meeting', OLD.id);
END;

CREATE TRIGGER cache_extensions_insert AFTER INSERT ON extensions BEGIN
	INSERT INTO cache_changes (kind, key) VALUES ('meeting', NEW.meeting_id);
END;
CREATE TRIGGER cache_extensions_update AFTER UPDATE ON extensions BEGIN
	INSERT INTO cache_changes (kind, key) VALUES ('meeting', OLD.meeting_id);
END;
CREATE TRIGGER cache_extensions_delete AFTER DELETE ON extensions BEGIN
	INSERT INTO cache_changes (kind, key) VALUES ('meeting', OLD.meeting_id);
END;
