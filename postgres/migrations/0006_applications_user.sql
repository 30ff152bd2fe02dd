-- Every event appended looks up the applications of its recipient user, in
-- id order (the application ids to wake); creating an application counts
-- them. This index answers both from the index alone, already in order,
-- instead of reading each application's row and sorting. (The SQLite store's
-- migration 14.)
CREATE INDEX applications_user ON applications (user_id, id);
