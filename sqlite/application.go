package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ucwad/ucwad"
)

func errApplicationNotFound() error {
	return ucwad.Errorf(ucwad.ENotFound, ucwad.SubApplicationNotFound, "application not found")
}

// scanApplication reads the columns of selectApplication.
func scanApplication(row scanner) (*ucwad.Application, error) {
	var a ucwad.Application
	var created, active, chCreated int64
	o := &a.Channel.Options
	if err := row.Scan(&a.ID, &a.UserID, &a.UserAgent, &a.EndpointID, &a.Culture, &a.Type,
		&a.Available, &created, &active, &a.Channel.InstanceID, &chCreated,
		&a.Channel.NextAck, &o.Timeout, &o.Low, &o.Medium); err != nil {
		return nil, err
	}
	a.CreatedAt, a.LastActiveAt = fromMillis(created), fromMillis(active)
	a.Channel.ApplicationID = a.ID
	if chCreated != 0 { // 0: no such channel (see selectApplication)
		a.Channel.CreatedAt = fromMillis(chCreated)
	}
	return &a, nil
}

// selectApplication selects an application of a user together with its
// channel for an instanceId (the first argument after the user). The
// default instanceId "" finds the application even when it has no default
// channel (a multi-tab application), with a zero channel; any other
// instanceId must name an existing channel. The condition on a.id is
// ?3. There are two statements, one per kind of instanceId, not one with
// "?2 = ” OR …": SQLite plans a statement again on every run when a bound
// value decides a term.
func selectApplication(instanceID string) string {
	if instanceID == "" {
		return selectApplicationAny
	}
	return selectApplicationChannel
}

const selectApplicationAny = `
	SELECT a.id, a.user_id, a.user_agent, a.endpoint_id, a.culture, a.type,
	       a.available, a.created_at, a.last_active_at, COALESCE(c.instance_id, ''), COALESCE(c.created_at, 0),
	       COALESCE(c.acked_below, 1), COALESCE(c.timeout, 0), COALESCE(c.low, 0), COALESCE(c.medium, 0)
	FROM applications a LEFT JOIN channels c ON c.application_id = a.id AND c.instance_id = ?2
	WHERE a.user_id = ?1 AND a.id = ?3`

const selectApplicationChannel = `
	SELECT a.id, a.user_id, a.user_agent, a.endpoint_id, a.culture, a.type,
	       a.available, a.created_at, a.last_active_at, COALESCE(c.instance_id, ''), COALESCE(c.created_at, 0),
	       COALESCE(c.acked_below, 1), COALESCE(c.timeout, 0), COALESCE(c.low, 0), COALESCE(c.medium, 0)
	FROM applications a JOIN channels c ON c.application_id = a.id AND c.instance_id = ?2
	WHERE a.user_id = ?1 AND a.id = ?3`

// CreateApplication registers a for a.UserID, or finds it registered; see
// ucwad.ApplicationStore.
func (db *DB) CreateApplication(ctx context.Context, a *ucwad.Application, instanceID string) (*ucwad.Application, bool, error) {
	now := millis(db.clock.Now())
	typ := a.Type
	if typ == "" {
		typ = ucwad.ApplicationTypeBrowser
	}
	newID := ucwad.NewID()
	var app *ucwad.Application
	var created bool
	err := db.inWriteTxFor(ctx, userLane(a.UserID), func(tx *writeTx) error {
		// One statement decides between "already registered" (the unique
		// key), "over the limit" (the count) and "new", so two racing
		// requests cannot both create and the limit binds only new ones.
		n, err := changed(tx.ExecContext(ctx, `
			INSERT INTO applications (id, user_id, user_agent, endpoint_id, culture, type,
			                          available, created_at, last_active_at)
			SELECT ?, ?, ?, ?, ?, ?, 0, ?, ?
			WHERE (SELECT COUNT(*) FROM applications WHERE user_id = ?) < ?
			  AND NOT EXISTS (SELECT 1 FROM users g WHERE g.id = ? AND g.anonymous AND (
			        (SELECT COUNT(*) FROM users o JOIN applications oa ON oa.user_id = o.id
			         WHERE o.anonymous AND o.meeting_id = g.meeting_id) >= ?
			     OR (SELECT COUNT(*) FROM users o JOIN applications oa ON oa.user_id = o.id
			         WHERE o.anonymous AND o.address = g.address) >= ?))
			ON CONFLICT (user_id, user_agent, endpoint_id, culture) DO NOTHING`,
			newID, a.UserID, a.UserAgent, a.EndpointID, a.Culture, typ, now, now,
			a.UserID, db.maxApps, a.UserID, db.joining.MaxGuestApplicationsPerMeeting, db.joining.MaxGuestApplicationsPerAddress))
		if isForeignKey(err) {
			return errUserNotFound()
		}
		if err != nil {
			return err
		}
		created = n == 1
		id := newID
		if !created {
			err := tx.QueryRowContext(ctx, `
				SELECT id FROM applications
				WHERE user_id = ? AND user_agent = ? AND endpoint_id = ? AND culture = ?`,
				a.UserID, a.UserAgent, a.EndpointID, a.Culture).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				return db.whichApplicationBound(ctx, tx, a.UserID)
			}
			if err != nil {
				return err
			}
			// Registering again is a request like any other: the
			// application is in use.
			if _, err := tx.ExecContext(ctx, `UPDATE applications SET last_active_at = ? WHERE id = ?`, now, id); err != nil {
				return err
			}
		}
		if err := db.checkChannels(ctx, tx, a.UserID, id, instanceID); err != nil {
			return err
		}
		// Every application has its default channel, whatever tabs it
		// also has, so its default events link always works. A new
		// channel starts at the end of the log: it hears of what happens
		// from now on.
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO channels (application_id, instance_id, created_at, cursor)
			SELECT ?1, i.value, ?2, (SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'events')
			FROM json_each(json_array('', ?3)) i WHERE true
			ON CONFLICT DO NOTHING`, id, now, instanceID); err != nil {
			return err
		}
		app, err = scanApplication(tx.QueryRowContext(ctx, selectApplication(instanceID),
			a.UserID, instanceID, id))
		return err
	})
	if err != nil {
		return nil, false, wrap("create application", err)
	}
	if created {
		*a = *app
		app = a
	}
	return app, created, nil
}

// checkChannels fails with EConflict (subcode LimitExceeded) when
// registering application appID on instanceID needs channels beyond the
// application's or the user's limit. Channels that exist already cost
// nothing: registering again always works.
func (db *DB) checkChannels(ctx context.Context, tx *writeTx, userID int64, appID, instanceID string) error {
	var missing, appChannels, userChannels int
	if err := tx.QueryRowContext(ctx, `
		SELECT (SELECT COUNT(*) FROM (SELECT '' AS i UNION SELECT ?2) n
		        WHERE NOT EXISTS (SELECT 1 FROM channels WHERE application_id = ?1 AND instance_id = n.i)),
		       (SELECT COUNT(*) FROM channels WHERE application_id = ?1),
		       (SELECT COUNT(*) FROM channels c JOIN applications a ON a.id = c.application_id WHERE a.user_id = ?3)`,
		appID, instanceID, userID).Scan(&missing, &appChannels, &userChannels); err != nil {
		return err
	}
	switch {
	case missing == 0:
		return nil
	case appChannels+missing > db.maxAppChannels:
		return ucwad.Errorf(ucwad.EConflict, ucwad.SubLimitExceeded,
			"The application already has the maximum of %d event channels (maxChannelsPerApplication): delete one (DELETE on the application with its instanceId) or reuse an instanceId.", db.maxAppChannels)
	case userChannels+missing > db.maxUserChannels:
		return ucwad.Errorf(ucwad.EConflict, ucwad.SubLimitExceeded,
			"Your applications already have the maximum of %d event channels (maxChannelsPerUser): delete an application or one of its instances first.", db.maxUserChannels)
	}
	return nil
}

// FindApplication finds one of the user's applications with one of its
// channels; see ucwad.ApplicationStore.
func (db *DB) FindApplication(ctx context.Context, userID int64, id, instanceID string) (*ucwad.Application, error) {
	app, err := scanApplication(db.queryRow(ctx, selectApplication(instanceID),
		userID, instanceID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errApplicationNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: find application: %w", err)
	}
	return app, nil
}

// TouchApplication records activity; see ucwad.ApplicationStore.
func (db *DB) TouchApplication(ctx context.Context, id string) error {
	now := millis(db.clock.Now())
	return wrap("touch application", db.inWriteTxFor(ctx, appLane(id), func(tx *writeTx) error {
		n, err := changed(tx.ExecContext(ctx, `UPDATE applications SET last_active_at = ? WHERE id = ?`, now, id))
		if err != nil {
			return err
		}
		if n == 0 {
			return errApplicationNotFound()
		}
		return nil
	}))
}

// MakeApplicationAvailable takes the application out of lurker mode; see
// ucwad.ApplicationStore.
func (db *DB) MakeApplicationAvailable(ctx context.Context, userID int64, id string) error {
	var notify []string
	err := db.inWriteTxFor(ctx, userLane(userID), func(tx *writeTx) error {
		var available bool
		err := tx.QueryRowContext(ctx, `SELECT available FROM applications WHERE id = ? AND user_id = ?`, id, userID).Scan(&available)
		if errors.Is(err, sql.ErrNoRows) {
			return errApplicationNotFound()
		}
		if err != nil || available {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE applications SET available = 1 WHERE id = ?`, id); err != nil {
			return err
		}
		for _, kind := range []ucwad.SubjectKind{ucwad.SubjectMe, ucwad.SubjectCommunication} {
			apps, err := db.appendEvent(ctx, tx, ucwad.ApplicationAudience(userID, id), ucwad.Event{Type: ucwad.EventUpdated, Subject: ucwad.Subject{Kind: kind}})
			if err != nil {
				return err
			}
			notify = apps
		}
		return nil
	})
	if err != nil {
		return wrap("make application available", err)
	}
	db.notify(notify)
	return nil
}

// DeleteApplication removes an application or one of its channels; see
// ucwad.ApplicationStore.
func (db *DB) DeleteApplication(ctx context.Context, userID int64, id, instanceID string) error {
	var left []string
	err := wrap("delete application", db.inWriteTxFor(ctx, userLane(userID), func(tx *writeTx) error {
		var n int64
		var err error
		if instanceID == "" {
			n, err = changed(tx.ExecContext(ctx, `DELETE FROM applications WHERE id = ? AND user_id = ?`, id, userID))
		} else {
			n, err = changed(tx.ExecContext(ctx, `
				DELETE FROM channels
				WHERE application_id = ? AND instance_id = ?
				  AND EXISTS (SELECT 1 FROM applications WHERE id = ? AND user_id = ?)`,
				id, instanceID, id, userID))
		}
		if err == nil && n == 0 {
			err = errApplicationNotFound()
		}
		if err != nil {
			return err
		}
		if instanceID == "" {
			// The application leaves the meetings it is in; the others
			// see it go.
			if left, err = db.leaveApplications(ctx, tx, []string{id}); err != nil {
				return err
			}
		}
		// Events only the deleted channels still waited for go with them.
		return dropPassedEvents(ctx, tx, userID)
	}))
	if err == nil {
		// A P-GET held on what was deleted must answer now.
		db.notify(append([]string{id}, left...))
	}
	return err
}

// whichApplicationBound names the bound that kept a new application of
// userID out: the user's own, or for an anonymous guest its meeting's or
// its address's.
func (db *DB) whichApplicationBound(ctx context.Context, tx *writeTx, userID int64) error {
	var own, meeting, address int
	var anonymous bool
	err := tx.QueryRowContext(ctx, `
		SELECT (SELECT COUNT(*) FROM applications WHERE user_id = g.id), g.anonymous,
		       (SELECT COUNT(*) FROM users o JOIN applications oa ON oa.user_id = o.id
		        WHERE g.anonymous AND o.anonymous AND o.meeting_id = g.meeting_id),
		       (SELECT COUNT(*) FROM users o JOIN applications oa ON oa.user_id = o.id
		        WHERE g.anonymous AND o.anonymous AND o.address = g.address)
		FROM users g WHERE g.id = ?`, userID).Scan(&own, &anonymous, &meeting, &address)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return errUserNotFound()
	case err != nil:
		return err
	case own >= db.maxApps:
		return ucwad.Errorf(ucwad.EGone, ucwad.SubTooManyApplications,
			"the user already has the maximum of %d applications", db.maxApps)
	case anonymous && meeting >= db.joining.MaxGuestApplicationsPerMeeting:
		return ucwad.Errorf(ucwad.EGone, ucwad.SubTooManyApplications,
			"the anonymous guests of this meeting already have the maximum of %d applications (maxGuestApplicationsPerMeeting)", db.joining.MaxGuestApplicationsPerMeeting)
	case anonymous && address >= db.joining.MaxGuestApplicationsPerAddress:
		return ucwad.Errorf(ucwad.EGone, ucwad.SubTooManyApplications,
			"the anonymous guests from this address already have the maximum of %d applications (maxGuestApplicationsPerAddress)", db.joining.MaxGuestApplicationsPerAddress)
	}
	// Neither bound holds any longer: a racing change freed a place.
	return ucwad.Errorf(ucwad.EGone, ucwad.SubTooManyApplications, "too many applications; try again")
}
