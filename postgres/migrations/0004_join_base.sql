-- The join page: each meeting keeps the base of its joinUrl from the moment
-- it is created (the server's public URL and /meet, or meetings.joinBaseUrl),
-- so that the link in invitations never changes with the Host a later
-- request uses. Meetings stored before keep '' and the link they always had
-- (ucwad.MeetingConfig.JoinURL). (The SQLite store's migration 12.)
ALTER TABLE meetings ADD COLUMN join_base TEXT NOT NULL DEFAULT '';
