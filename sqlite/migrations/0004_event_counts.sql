-- How many events each channel's log holds, kept with every insert and
-- delete, so that enforcing the log's cap costs one row update instead of
-- counting the log on every event.
ALTER TABLE channels ADD COLUMN queued INTEGER NOT NULL DEFAULT 0;

UPDATE channels SET queued = (
	SELECT COUNT(*) FROM events e
	WHERE e.application_id = channels.application_id AND e.instance_id = channels.instance_id);
