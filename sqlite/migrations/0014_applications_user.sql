-- Every event appended looks up the applications of its recipient user, in
-- id order (the application ids to wake); creating an application counts
-- them. The only index that started with user_id was the wide unique one on
-- (user_id, user_agent, endpoint_id, culture): each lookup read the table row
-- of every application and sorted the ids in a temporary b-tree. This one
-- answers both from the index alone, already in order.
CREATE INDEX applications_user ON applications (user_id, id);
