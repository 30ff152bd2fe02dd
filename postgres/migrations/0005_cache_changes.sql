-- Read caches: every change to what a node may hold in memory (a token, a
-- user, an application or its channels, a meeting or its extensions)
-- appends the key it changed, in the transaction that makes it, whoever
-- makes it, and notifies ucwad_cache (delivered on commit) so that nodes
-- read the feed at once rather than at their next poll. Sequence numbers
-- are not the order of commits here: a node reads by transaction id
-- against the snapshot of its previous read (postgres/cachefeed.go). Rows
-- go after ucwad.CacheChangeRetention.
CREATE TABLE cache_changes (
	seq  BIGSERIAL   PRIMARY KEY,
	xid  xid8        NOT NULL DEFAULT pg_current_xact_id(),
	kind TEXT        NOT NULL,
	key  TEXT        NOT NULL,
	at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX cache_changes_xid ON cache_changes (xid);
CREATE INDEX cache_changes_at ON cache_changes (at);

-- One function for every table: TG_ARGV[0] is the kind, and the key is
-- read from the row by the table's name (row triggers fire for the rows
-- foreign keys cascade to as well).
CREATE FUNCTION cache_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	r   record;
	key text;
BEGIN
	IF TG_OP = 'INSERT' THEN r := NEW; ELSE r := OLD; END IF;
	CASE TG_TABLE_NAME
		WHEN 'tokens'       THEN key := encode(r.hash, 'hex');
		WHEN 'users'        THEN key := r.id::text;
		WHEN 'applications' THEN key := r.id;
		WHEN 'channels'     THEN key := r.application_id;
		WHEN 'meetings'     THEN key := r.id;
		WHEN 'extensions'   THEN key := r.meeting_id;
	END CASE;
	INSERT INTO cache_changes (kind, key) VALUES (TG_ARGV[0], key);
	PERFORM pg_notify('ucwad_cache', '');
	RETURN NULL;
END
$$;

CREATE TRIGGER cache_tokens AFTER UPDATE OR DELETE ON tokens
	FOR EACH ROW EXECUTE FUNCTION cache_change('token');
-- Not the event totals, which change with every event.
CREATE TRIGGER cache_users AFTER UPDATE OF sip, name, password_hash, anonymous, meeting_id, address, expires_at OR DELETE ON users
	FOR EACH ROW EXECUTE FUNCTION cache_change('user');
-- Not last_active_at, which reads record every ucwad.ActivityInterval.
CREATE TRIGGER cache_applications AFTER UPDATE OF user_id, user_agent, endpoint_id, culture, type, available OR DELETE ON applications
	FOR EACH ROW EXECUTE FUNCTION cache_change('application');
-- What FindApplication reads of a channel: its acknowledgement and options.
CREATE TRIGGER cache_channels AFTER UPDATE OF acked_below, timeout, low, medium OR DELETE ON channels
	FOR EACH ROW EXECUTE FUNCTION cache_change('application');
CREATE TRIGGER cache_meetings AFTER UPDATE OR DELETE ON meetings
	FOR EACH ROW EXECUTE FUNCTION cache_change('meeting');
CREATE TRIGGER cache_extensions AFTER INSERT OR UPDATE OR DELETE ON extensions
	FOR EACH ROW EXECUTE FUNCTION cache_change('meeting');
