// Package storetest is the behaviour every ucwad.Store must show, written
// once as a test suite that each backend runs against itself:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, cfg storetest.Config) ucwad.Store {
//			db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"),
//				sqlite.Options{Clock: cfg.Clock, Notifier: cfg.Notifier, Limits: cfg.Limits})
//			if err != nil {
//				t.Fatal(err)
//			}
//			return db
//		})
//	}
package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/clock"
)

// Start is the fake clock's time when each subtest begins. It and every step
// the suite advances the clock by are whole milliseconds, so a backend that
// keeps time to the millisecond or finer must return times exactly equal to
// the clock's.
var Start = time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

// Config is what the store under test must be opened with.
type Config struct {
	// Clock is the fake clock the store must take "now" from.
	Clock clock.Clock
	// Notifier must be told, after commit, which applications got events.
	Notifier ucwad.Notifier
	// Limits are the limits the store must enforce: those of Limits, or
	// for the joining subtests roomier logs and the joining bounds they
	// test. A user's event bytes (Limits.MaxEventBytesPerUser) count each
	// change once: its data (Event.Data) and identifiers, plus at most 256
	// bytes of the store's own per event.
	Limits ucwad.Limits
}

// The limits the suite configures. The event limits are small, so that
// overflow is cheap to provoke; the meeting limits leave room for the
// subtests that list many meetings or extensions; three unknown sign-in
// names are few enough to flood.
const (
	MaxApplicationsPerUser    = 100
	MaxChannelsPerApplication = 16
	MaxChannelsPerUser        = 200
	MaxEventsPerChannel       = 6
	MaxEventBytesPerUser      = 16 << 10
	MaxBatchBytes             = 8 << 10
	MaxMeetingsPerUser        = 64
	MaxExtensionsPerMeeting   = 40
	MaxUnknownSignInNames     = 3
)

// Limits are the limits of the constants above, as Config carries them.
func Limits() ucwad.Limits {
	return ucwad.Limits{
		MaxApplicationsPerUser:    MaxApplicationsPerUser,
		MaxChannelsPerApplication: MaxChannelsPerApplication,
		MaxChannelsPerUser:        MaxChannelsPerUser,
		MaxEventsPerChannel:       MaxEventsPerChannel,
		MaxEventBytesPerUser:      MaxEventBytesPerUser,
		MaxBatchBytes:             MaxBatchBytes,
		MaxMeetingsPerUser:        MaxMeetingsPerUser,
		MaxExtensionsPerMeeting:   MaxExtensionsPerMeeting,
		MaxUnknownSignInNames:     MaxUnknownSignInNames,
	}
}

// Run runs the shared suite, each subtest against a fresh, empty store from
// open, which must honour cfg. Run closes the store when the subtest ends.
func Run(t *testing.T, open func(t *testing.T, cfg Config) ucwad.Store) {
	tests := []struct {
		name string
		f    func(*testing.T, *env)
	}{
		{"CreateUser", testCreateUser},
		{"CreateUserInvalid", testCreateUserInvalid},
		{"CreateUserDuplicate", testCreateUserDuplicate},
		{"FindUserByID", testFindUserByID},
		{"FindUserBySIP", testFindUserBySIP},
		{"ListUsers", testListUsers},
		{"CountUsers", testCountUsers},
		{"SetUserPassword", testSetUserPassword},
		{"DeleteUser", testDeleteUser},
		{"CreateFindToken", testCreateFindToken},
		{"TokenExpiry", testTokenExpiry},
		{"RevokeToken", testRevokeToken},
		{"DeleteExpiredTokens", testDeleteExpiredTokens},
		{"CreateApplication", testCreateApplication},
		{"CreateApplicationSame", testCreateApplicationSame},
		{"CreateApplicationDistinct", testCreateApplicationDistinct},
		{"ApplicationChannels", testApplicationChannels},
		{"FindApplicationIsolation", testFindApplicationIsolation},
		{"FindTokenApplication", testFindTokenApplication},
		{"TouchApplication", testTouchApplication},
		{"MakeApplicationAvailable", testMakeApplicationAvailable},
		{"DeleteApplication", testDeleteApplication},
		{"DeleteApplicationNotFound", testDeleteApplicationNotFound},
		{"MaxApplicationsPerUser", testMaxApplicationsPerUser},
		{"CreateApplicationConcurrent", testCreateApplicationConcurrent},
		{"ChannelLimits", testChannelLimits},
	}
	tests = append(tests, eventTests...)
	tests = append(tests, meetingTests...)
	tests = append(tests, signInTests...)
	tests = append(tests, healthTests...)
	tests = append(tests, cacheFeedTests...)
	for _, tt := range tests {
		runOne(t, open, tt.name, tt.f, Limits())
	}
	for _, tt := range append(conversationTests, guestTests...) {
		lim := joinLimits()
		if tt.limits != nil {
			tt.limits(&lim)
		}
		runOne(t, open, tt.name, tt.f, lim)
	}
	for _, tt := range messagingTests {
		lim := joinLimits()
		if tt.limits != nil {
			tt.limits(&lim)
		}
		runOne(t, open, tt.name, tt.f, lim)
	}
}

// The event limits of the joining subtests, which check every event of
// every change: more than the small logs of the others hold.
const (
	RoomyEventsPerChannel  = 1000
	RoomyEventBytesPerUser = 4 << 20
)

// runOne runs subtest f against a fresh store from open with limits lim.
func runOne(t *testing.T, open func(t *testing.T, cfg Config) ucwad.Store, name string, f func(*testing.T, *env), lim ucwad.Limits) {
	t.Run(name, func(t *testing.T) {
		clk := clock.NewFake(Start)
		notes := &notifications{}
		s := open(t, Config{Clock: clk, Notifier: notes, Limits: lim})
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		f(t, &env{ctx: t.Context(), s: s, clk: clk, notes: notes, limits: lim})
	})
}

// env is what a subtest works with.
type env struct {
	ctx   context.Context
	s     ucwad.Store
	clk   *clock.Fake
	notes *notifications
	// limits are the limits the store was opened with.
	limits ucwad.Limits
}

func (e *env) createUser(t *testing.T, sip string) *ucwad.User {
	t.Helper()
	u := &ucwad.User{SIP: sip, Name: "Name of " + sip, PasswordHash: "hash of " + sip}
	if err := e.s.CreateUser(e.ctx, u); err != nil {
		t.Fatalf("CreateUser(%q): %v", sip, err)
	}
	return u
}

func (e *env) createToken(t *testing.T, u *ucwad.User, hash string, ttl time.Duration) *ucwad.Token {
	t.Helper()
	now := e.clk.Now()
	tok := &ucwad.Token{Hash: []byte(hash), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := e.s.CreateToken(e.ctx, tok); err != nil {
		t.Fatalf("CreateToken(%q): %v", hash, err)
	}
	return tok
}

// createApp registers the application (userAgent "ua", endpointID, culture
// "en-US") of u on the channel instanceID.
func (e *env) createApp(t *testing.T, u *ucwad.User, endpointID, instanceID string) (*ucwad.Application, bool) {
	t.Helper()
	a := &ucwad.Application{UserID: u.ID, UserAgent: "ua", EndpointID: endpointID, Culture: "en-US"}
	app, created, err := e.s.CreateApplication(e.ctx, a, instanceID)
	if err != nil {
		t.Fatalf("CreateApplication(%q, %q): %v", endpointID, instanceID, err)
	}
	return app, created
}

func (e *env) findApp(t *testing.T, userID int64, id, instanceID string) *ucwad.Application {
	t.Helper()
	app, err := e.s.FindApplication(e.ctx, userID, id, instanceID)
	if err != nil {
		t.Fatalf("FindApplication(%d, %q, %q): %v", userID, id, instanceID, err)
	}
	return app
}

// wantErr fails unless err carries code and subcode.
func wantErr(t *testing.T, what string, err error, code ucwad.Code, subcode string) {
	t.Helper()
	if ucwad.ErrorCode(err) != code || ucwad.ErrorSubcode(err) != subcode {
		t.Errorf("%s: got error %v (code %q, subcode %q), want code %q, subcode %q",
			what, err, ucwad.ErrorCode(err), ucwad.ErrorSubcode(err), code, subcode)
	}
}

func wantAppNotFound(t *testing.T, what string, err error) {
	t.Helper()
	wantErr(t, what, err, ucwad.ENotFound, ucwad.SubApplicationNotFound)
}

func checkUser(t *testing.T, what string, got, want *ucwad.User) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got nil user", what)
		return
	}
	if got.ID != want.ID || got.SIP != want.SIP || got.Name != want.Name ||
		got.PasswordHash != want.PasswordHash || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("%s:\ngot  %+v\nwant %+v", what, *got, *want)
	}
}

func checkToken(t *testing.T, what string, got, want *ucwad.Token) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got nil token", what)
		return
	}
	if string(got.Hash) != string(want.Hash) || got.UserID != want.UserID ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Errorf("%s:\ngot  %+v\nwant %+v", what, *got, *want)
	}
}

func checkApp(t *testing.T, what string, got, want *ucwad.Application) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got nil application", what)
		return
	}
	if got.ID != want.ID || got.UserID != want.UserID || got.UserAgent != want.UserAgent ||
		got.EndpointID != want.EndpointID || got.Culture != want.Culture || got.Type != want.Type ||
		got.Available != want.Available || !got.CreatedAt.Equal(want.CreatedAt) ||
		!got.LastActiveAt.Equal(want.LastActiveAt) || got.Channel.ApplicationID != want.Channel.ApplicationID ||
		got.Channel.InstanceID != want.Channel.InstanceID || !got.Channel.CreatedAt.Equal(want.Channel.CreatedAt) {
		t.Errorf("%s:\ngot  %+v\nwant %+v", what, *got, *want)
	}
}

func testCreateUser(t *testing.T, e *env) {
	tests := []struct{ sip, stored string }{
		{"alice@contoso.com", "alice@contoso.com"},
		{"sip:bob@contoso.com", "bob@contoso.com"},
		{"SIP:Carol@Contoso.com", "Carol@Contoso.com"},
	}
	ids := map[int64]bool{}
	for _, tt := range tests {
		u := &ucwad.User{SIP: tt.sip, Name: "N", PasswordHash: "H"}
		if err := e.s.CreateUser(e.ctx, u); err != nil {
			t.Fatalf("CreateUser(%q): %v", tt.sip, err)
		}
		if u.ID == 0 || ids[u.ID] {
			t.Errorf("CreateUser(%q): got ID %d, want a new non-zero ID", tt.sip, u.ID)
		}
		ids[u.ID] = true
		if !u.CreatedAt.Equal(e.clk.Now()) {
			t.Errorf("CreateUser(%q): got CreatedAt %v, want %v", tt.sip, u.CreatedAt, e.clk.Now())
		}
		want := &ucwad.User{ID: u.ID, SIP: tt.stored, Name: "N", PasswordHash: "H", CreatedAt: e.clk.Now()}
		got, err := e.s.FindUserByID(e.ctx, u.ID)
		if err != nil {
			t.Fatalf("FindUserByID(%d): %v", u.ID, err)
		}
		checkUser(t, "FindUserByID", got, want)
		e.clk.Advance(time.Second)
	}
}

func testCreateUserInvalid(t *testing.T, e *env) {
	for _, sip := range []string{"", "sip:", "SIP:"} {
		err := e.s.CreateUser(e.ctx, &ucwad.User{SIP: sip, PasswordHash: "H"})
		if got := ucwad.ErrorCode(err); got != ucwad.EBadRequest {
			t.Errorf("CreateUser(%q): got %v (code %q), want code %q", sip, err, got, ucwad.EBadRequest)
		}
	}
	if n, err := e.s.CountUsers(e.ctx); err != nil || n != 0 {
		t.Errorf("CountUsers: got %d, %v, want 0", n, err)
	}
}

func testCreateUserDuplicate(t *testing.T, e *env) {
	first := e.createUser(t, "alice@contoso.com")
	for _, sip := range []string{"alice@contoso.com", "ALICE@Contoso.COM", "sip:alice@contoso.com", "Sip:Alice@contoso.com"} {
		u := &ucwad.User{SIP: sip, PasswordHash: "other"}
		err := e.s.CreateUser(e.ctx, u)
		wantErr(t, fmt.Sprintf("CreateUser(%q)", sip), err, ucwad.EConflict, ucwad.SubAlreadyExists)
		if u.ID != 0 {
			t.Errorf("CreateUser(%q) failed but set ID %d", sip, u.ID)
		}
	}
	got, err := e.s.FindUserBySIP(e.ctx, "alice@contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	checkUser(t, "the first user after failed duplicates", got, first)
}

func testFindUserByID(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	bob := e.createUser(t, "bob@contoso.com")
	for _, want := range []*ucwad.User{alice, bob} {
		got, err := e.s.FindUserByID(e.ctx, want.ID)
		if err != nil {
			t.Fatalf("FindUserByID(%d): %v", want.ID, err)
		}
		checkUser(t, "FindUserByID", got, want)
	}
	for _, id := range []int64{0, -1, alice.ID + bob.ID + 1000} {
		u, err := e.s.FindUserByID(e.ctx, id)
		wantErr(t, fmt.Sprintf("FindUserByID(%d)", id), err, ucwad.ENotFound, "")
		if u != nil {
			t.Errorf("FindUserByID(%d): got user %+v with the error", id, *u)
		}
	}
}

func testFindUserBySIP(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	e.createUser(t, "bob@contoso.com")
	tests := []struct {
		sip   string
		found bool
	}{
		{"alice@contoso.com", true},
		{"ALICE@Contoso.com", true},
		{"sip:alice@contoso.com", true},
		{"SIP:Alice@CONTOSO.com", true},
		{"sIp:alice@contoso.com", true},
		{"", false},
		{"sip:", false},
		{"alice", false},
		{"alice@contoso", false},
		{"sip:sip:alice@contoso.com", false},
		{"alice@contoso.com.", false},
		{"carol@contoso.com", false},
	}
	for _, tt := range tests {
		got, err := e.s.FindUserBySIP(e.ctx, tt.sip)
		if !tt.found {
			wantErr(t, fmt.Sprintf("FindUserBySIP(%q)", tt.sip), err, ucwad.ENotFound, "")
			if got != nil {
				t.Errorf("FindUserBySIP(%q): got user %+v with the error", tt.sip, *got)
			}
			continue
		}
		if err != nil {
			t.Errorf("FindUserBySIP(%q): %v", tt.sip, err)
			continue
		}
		checkUser(t, fmt.Sprintf("FindUserBySIP(%q)", tt.sip), got, alice)
	}
}

func testListUsers(t *testing.T, e *env) {
	users, err := e.s.ListUsers(e.ctx)
	if err != nil || len(users) != 0 {
		t.Fatalf("ListUsers on an empty store: got %d users, %v; want none", len(users), err)
	}
	byName := map[string]*ucwad.User{}
	for _, sip := range []string{"dave@contoso.com", "alice@contoso.com", "carol@contoso.com", "bob@contoso.com"} {
		byName[sip] = e.createUser(t, sip)
		e.clk.Advance(time.Millisecond)
	}
	users, err = e.s.ListUsers(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"alice@contoso.com", "bob@contoso.com", "carol@contoso.com", "dave@contoso.com"}
	if len(users) != len(want) {
		t.Fatalf("ListUsers: got %d users, want %d", len(users), len(want))
	}
	for i, u := range users {
		checkUser(t, fmt.Sprintf("ListUsers[%d]", i), u, byName[want[i]])
	}
}

func testCountUsers(t *testing.T, e *env) {
	count := func(want int) {
		t.Helper()
		if n, err := e.s.CountUsers(e.ctx); err != nil || n != want {
			t.Errorf("CountUsers: got %d, %v, want %d", n, err, want)
		}
	}
	count(0)
	a := e.createUser(t, "alice@contoso.com")
	e.createUser(t, "bob@contoso.com")
	e.createUser(t, "carol@contoso.com")
	count(3)
	if err := e.s.DeleteUser(e.ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	count(2)
}

func testSetUserPassword(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	bob := e.createUser(t, "bob@contoso.com")
	e.createToken(t, alice, "alice-1", time.Hour)
	e.createToken(t, alice, "alice-2", time.Hour)
	bobTok := e.createToken(t, bob, "bob-1", time.Hour)

	if err := e.s.SetUserPassword(e.ctx, alice.ID, "new hash"); err != nil {
		t.Fatalf("SetUserPassword: %v", err)
	}
	got, err := e.s.FindUserByID(e.ctx, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := *alice
	want.PasswordHash = "new hash"
	checkUser(t, "after SetUserPassword", got, &want)
	for _, h := range []string{"alice-1", "alice-2"} {
		_, _, err := e.s.FindToken(e.ctx, []byte(h))
		wantErr(t, "FindToken("+h+") after SetUserPassword", err, ucwad.ENotFound, "")
	}
	tok, u, err := e.s.FindToken(e.ctx, bobTok.Hash)
	if err != nil {
		t.Fatalf("another user's token after SetUserPassword: %v", err)
	}
	checkToken(t, "another user's token", tok, bobTok)
	checkUser(t, "another user's token's user", u, bob)

	err = e.s.SetUserPassword(e.ctx, alice.ID+bob.ID+1000, "x")
	wantErr(t, "SetUserPassword(unknown)", err, ucwad.ENotFound, "")
}

func testDeleteUser(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	bob := e.createUser(t, "bob@contoso.com")
	e.createToken(t, alice, "alice-1", time.Hour)
	aliceApp, _ := e.createApp(t, alice, "ep", "")
	e.createApp(t, alice, "ep", "tab")
	bobTok := e.createToken(t, bob, "bob-1", time.Hour)
	bobApp, _ := e.createApp(t, bob, "ep", "")

	if err := e.s.DeleteUser(e.ctx, alice.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err := e.s.FindUserByID(e.ctx, alice.ID)
	wantErr(t, "FindUserByID after DeleteUser", err, ucwad.ENotFound, "")
	_, err = e.s.FindUserBySIP(e.ctx, alice.SIP)
	wantErr(t, "FindUserBySIP after DeleteUser", err, ucwad.ENotFound, "")
	_, _, err = e.s.FindToken(e.ctx, []byte("alice-1"))
	wantErr(t, "FindToken after DeleteUser", err, ucwad.ENotFound, "")
	for _, inst := range []string{"", "tab"} {
		_, err = e.s.FindApplication(e.ctx, alice.ID, aliceApp.ID, inst)
		wantAppNotFound(t, "FindApplication after DeleteUser", err)
	}
	wantAppNotFound(t, "TouchApplication after DeleteUser", e.s.TouchApplication(e.ctx, aliceApp.ID))

	// Bob's things are untouched.
	if _, _, err := e.s.FindToken(e.ctx, bobTok.Hash); err != nil {
		t.Errorf("another user's token after DeleteUser: %v", err)
	}
	checkApp(t, "another user's application after DeleteUser", e.findApp(t, bob.ID, bobApp.ID, ""), bobApp)

	wantErr(t, "DeleteUser again", e.s.DeleteUser(e.ctx, alice.ID), ucwad.ENotFound, "")
	wantErr(t, "DeleteUser(unknown)", e.s.DeleteUser(e.ctx, alice.ID+bob.ID+1000), ucwad.ENotFound, "")

	// The address is free again.
	again := e.createUser(t, "alice@contoso.com")
	if again.ID == alice.ID {
		t.Errorf("re-created user got the deleted user's ID %d", alice.ID)
	}
}

func testCreateFindToken(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	bob := e.createUser(t, "bob@contoso.com")
	tokens := []struct {
		user *ucwad.User
		tok  *ucwad.Token
	}{
		{alice, e.createToken(t, alice, "a1", time.Hour)},
		{alice, e.createToken(t, alice, "a2", 24*time.Hour)},
		{bob, e.createToken(t, bob, "b1", time.Minute)},
	}
	for _, tt := range tokens {
		tok, u, err := e.s.FindToken(e.ctx, tt.tok.Hash)
		if err != nil {
			t.Fatalf("FindToken(%q): %v", tt.tok.Hash, err)
		}
		checkToken(t, "FindToken", tok, tt.tok)
		checkUser(t, "FindToken's user", u, tt.user)
	}
	for _, h := range []string{"unknown", "a", "a10", ""} {
		tok, u, err := e.s.FindToken(e.ctx, []byte(h))
		wantErr(t, fmt.Sprintf("FindToken(%q)", h), err, ucwad.ENotFound, "")
		if tok != nil || u != nil {
			t.Errorf("FindToken(%q): got %v, %v with the error", h, tok, u)
		}
	}
}

func testTokenExpiry(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	tok := e.createToken(t, alice, "a1", time.Hour)

	e.clk.Advance(time.Hour - time.Millisecond)
	if _, _, err := e.s.FindToken(e.ctx, tok.Hash); err != nil {
		t.Fatalf("FindToken 1ms before expiry: %v", err)
	}
	e.clk.Advance(time.Millisecond)
	_, _, err := e.s.FindToken(e.ctx, tok.Hash)
	wantErr(t, "FindToken at expiry", err, ucwad.ENotFound, "")
	e.clk.Advance(time.Hour)
	_, _, err = e.s.FindToken(e.ctx, tok.Hash)
	wantErr(t, "FindToken after expiry", err, ucwad.ENotFound, "")
}

func testRevokeToken(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	a1 := e.createToken(t, alice, "a1", time.Hour)
	a2 := e.createToken(t, alice, "a2", time.Hour)

	if err := e.s.RevokeToken(e.ctx, a1.Hash); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	_, _, err := e.s.FindToken(e.ctx, a1.Hash)
	wantErr(t, "FindToken after RevokeToken", err, ucwad.ENotFound, "")
	if _, _, err := e.s.FindToken(e.ctx, a2.Hash); err != nil {
		t.Errorf("the user's other token after RevokeToken: %v", err)
	}
	for _, h := range []string{"a1", "unknown"} {
		if err := e.s.RevokeToken(e.ctx, []byte(h)); err != nil {
			t.Errorf("RevokeToken(%q) of a token that is not there: %v", h, err)
		}
	}
}

func testDeleteExpiredTokens(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	bob := e.createUser(t, "bob@contoso.com")
	e.createToken(t, alice, "a1", time.Minute)
	e.createToken(t, bob, "b2", 2*time.Minute)
	a3 := e.createToken(t, alice, "a3", 3*time.Minute)
	b4 := e.createToken(t, bob, "b4", 4*time.Minute)

	steps := []struct {
		advance time.Duration
		deleted int
		left    []*ucwad.Token
	}{
		{0, 0, []*ucwad.Token{a3, b4}},
		{30 * time.Second, 0, []*ucwad.Token{a3, b4}},
		{2 * time.Minute, 2, []*ucwad.Token{a3, b4}}, // now Start+2m30s
		{0, 0, []*ucwad.Token{a3, b4}},
		{time.Minute, 1, []*ucwad.Token{b4}},
		{time.Hour, 1, nil},
	}
	for i, st := range steps {
		e.clk.Advance(st.advance)
		n, err := e.s.DeleteExpiredTokens(e.ctx)
		if err != nil || n != st.deleted {
			t.Errorf("step %d: DeleteExpiredTokens: got %d, %v, want %d", i, n, err, st.deleted)
		}
		for _, tok := range st.left {
			if _, _, err := e.s.FindToken(e.ctx, tok.Hash); err != nil {
				t.Errorf("step %d: unexpired token %q: %v", i, tok.Hash, err)
			}
		}
	}
}

func testCreateApplication(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	e.clk.Advance(time.Second)
	now := e.clk.Now()
	for _, typ := range []string{"", ucwad.ApplicationTypeBrowser} {
		a := &ucwad.Application{UserID: alice.ID, UserAgent: "UCWA Samples", EndpointID: "ep-" + typ, Culture: "en-US", Type: typ}
		app, created, err := e.s.CreateApplication(e.ctx, a, "")
		if err != nil || !created {
			t.Fatalf("CreateApplication(type %q): got created %v, %v; want true", typ, created, err)
		}
		if app.ID == "" {
			t.Fatalf("CreateApplication: empty ID")
		}
		want := &ucwad.Application{
			ID: app.ID, UserID: alice.ID, UserAgent: "UCWA Samples", EndpointID: "ep-" + typ, Culture: "en-US",
			Type: ucwad.ApplicationTypeBrowser, Available: false, CreatedAt: now, LastActiveAt: now,
			Channel: ucwad.Channel{ApplicationID: app.ID, InstanceID: "", CreatedAt: now},
		}
		checkApp(t, "CreateApplication", app, want)
		checkApp(t, "FindApplication", e.findApp(t, alice.ID, app.ID, ""), want)
	}
}

func testCreateApplicationSame(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	first, created := e.createApp(t, alice, "ep", "")
	if !created {
		t.Fatal("first CreateApplication: created false")
	}
	e.clk.Advance(time.Minute)

	a := &ucwad.Application{UserID: alice.ID, UserAgent: "ua", EndpointID: "ep", Culture: "en-US", Type: "Other"}
	before := *a
	app, created, err := e.s.CreateApplication(e.ctx, a, "")
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Error("second CreateApplication with the same triple: created true")
	}
	// Registering again counts as activity.
	want := *first
	want.LastActiveAt = e.clk.Now()
	checkApp(t, "second CreateApplication", app, &want)
	checkApp(t, "FindApplication after the second CreateApplication", e.findApp(t, alice.ID, app.ID, ""), &want)
	if *a != before {
		t.Errorf("second CreateApplication changed its argument:\ngot  %+v\nwant %+v", *a, before)
	}
}

func testCreateApplicationDistinct(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	bob := e.createUser(t, "bob@contoso.com")
	base := ucwad.Application{UserID: alice.ID, UserAgent: "ua", EndpointID: "ep", Culture: "en-US"}
	variants := []struct {
		name   string
		change func(*ucwad.Application)
	}{
		{"base", func(*ucwad.Application) {}},
		{"culture", func(a *ucwad.Application) { a.Culture = "de-DE" }},
		{"culture case", func(a *ucwad.Application) { a.Culture = "en-us" }},
		{"user agent", func(a *ucwad.Application) { a.UserAgent = "other ua" }},
		{"endpoint", func(a *ucwad.Application) { a.EndpointID = "ep2" }},
		{"user", func(a *ucwad.Application) { a.UserID = bob.ID }},
	}
	ids := map[string]string{}
	for _, v := range variants {
		a := base
		v.change(&a)
		app, created, err := e.s.CreateApplication(e.ctx, &a, "")
		if err != nil || !created {
			t.Errorf("CreateApplication(%s): got created %v, %v; want a new application", v.name, created, err)
			continue
		}
		if prev, ok := ids[app.ID]; ok {
			t.Errorf("CreateApplication(%s): got the ID of %s", v.name, prev)
		}
		ids[app.ID] = v.name
	}
}

func testApplicationChannels(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	app, _ := e.createApp(t, alice, "ep", "")
	e.clk.Advance(time.Second)
	tabAt := e.clk.Now()
	tab, created := e.createApp(t, alice, "ep", "tab-1")
	if created || tab.ID != app.ID {
		t.Fatalf("CreateApplication on a new instance: got ID %q, created %v; want %q, false", tab.ID, created, app.ID)
	}
	want := *app
	want.LastActiveAt = tabAt
	want.Channel = ucwad.Channel{ApplicationID: app.ID, InstanceID: "tab-1", CreatedAt: tabAt}
	checkApp(t, "CreateApplication on a new instance", tab, &want)
	checkApp(t, "FindApplication(tab-1)", e.findApp(t, alice.ID, app.ID, "tab-1"), &want)
	wantDefault := *app
	wantDefault.LastActiveAt = tabAt
	checkApp(t, "FindApplication(default)", e.findApp(t, alice.ID, app.ID, ""), &wantDefault)

	// Registering on an existing channel keeps that channel as it was.
	e.clk.Advance(time.Second)
	again, _ := e.createApp(t, alice, "ep", "tab-1")
	want.LastActiveAt = e.clk.Now()
	checkApp(t, "CreateApplication on an existing instance", again, &want)

	// An application first registered on a tab has its default channel too.
	tabOnly, _ := e.createApp(t, alice, "tab-only", "tab-9")
	if got := e.findApp(t, alice.ID, tabOnly.ID, ""); got.Channel.InstanceID != "" || got.Channel.CreatedAt.IsZero() {
		t.Errorf("default channel of an application registered on a tab: %+v", got.Channel)
	}

	for _, inst := range []string{"tab-2", "TAB-1", " "} {
		_, err := e.s.FindApplication(e.ctx, alice.ID, app.ID, inst)
		wantAppNotFound(t, fmt.Sprintf("FindApplication(instance %q)", inst), err)
	}
}

func testFindApplicationIsolation(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	bob := e.createUser(t, "bob@contoso.com")
	app, _ := e.createApp(t, alice, "ep", "")
	tests := []struct {
		name     string
		userID   int64
		id       string
		instance string
	}{
		{"another user", bob.ID, app.ID, ""},
		{"unknown user", alice.ID + bob.ID + 1000, app.ID, ""},
		{"unknown id", alice.ID, "nosuchapplication000", ""},
		{"empty id", alice.ID, "", ""},
		{"id in another case", alice.ID, swapCase(app.ID), ""},
	}
	for _, tt := range tests {
		got, err := e.s.FindApplication(e.ctx, tt.userID, tt.id, tt.instance)
		wantAppNotFound(t, "FindApplication("+tt.name+")", err)
		if got != nil {
			t.Errorf("FindApplication(%s): got %+v with the error", tt.name, *got)
		}
	}
}

// swapCase returns s with its ASCII letters in the other case.
func swapCase(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
		case 'A' <= c && c <= 'Z':
			b[i] = c - 'A' + 'a'
		}
	}
	return string(b)
}

func testTouchApplication(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	app, _ := e.createApp(t, alice, "ep", "")
	other, _ := e.createApp(t, alice, "ep2", "")
	for _, d := range []time.Duration{5 * time.Second, time.Millisecond, time.Hour} {
		e.clk.Advance(d)
		if err := e.s.TouchApplication(e.ctx, app.ID); err != nil {
			t.Fatalf("TouchApplication: %v", err)
		}
		want := *app
		want.LastActiveAt = e.clk.Now()
		checkApp(t, "after TouchApplication", e.findApp(t, alice.ID, app.ID, ""), &want)
	}
	checkApp(t, "an application not touched", e.findApp(t, alice.ID, other.ID, ""), other)
	wantAppNotFound(t, "TouchApplication(unknown)", e.s.TouchApplication(e.ctx, "nosuchapplication000"))
}

func testMakeApplicationAvailable(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	bob := e.createUser(t, "bob@contoso.com")
	app, _ := e.createApp(t, alice, "ep", "")
	other, _ := e.createApp(t, alice, "ep2", "")

	wantAppNotFound(t, "MakeApplicationAvailable(another user)", e.s.MakeApplicationAvailable(e.ctx, bob.ID, app.ID))
	wantAppNotFound(t, "MakeApplicationAvailable(unknown)", e.s.MakeApplicationAvailable(e.ctx, alice.ID, "nosuchapplication000"))
	checkApp(t, "after MakeApplicationAvailable by another user", e.findApp(t, alice.ID, app.ID, ""), app)

	for range 2 {
		if err := e.s.MakeApplicationAvailable(e.ctx, alice.ID, app.ID); err != nil {
			t.Fatalf("MakeApplicationAvailable: %v", err)
		}
		want := *app
		want.Available = true
		checkApp(t, "after MakeApplicationAvailable", e.findApp(t, alice.ID, app.ID, ""), &want)
	}
	checkApp(t, "another application", e.findApp(t, alice.ID, other.ID, ""), other)
}

func testDeleteApplication(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	app, _ := e.createApp(t, alice, "ep", "")
	e.createApp(t, alice, "ep", "tab")
	e.createApp(t, alice, "ep", "tab2")
	other, _ := e.createApp(t, alice, "ep2", "")

	// A tab's channel goes alone; the application and its other channels stay.
	if err := e.s.DeleteApplication(e.ctx, alice.ID, app.ID, "tab"); err != nil {
		t.Fatalf("DeleteApplication(tab): %v", err)
	}
	_, err := e.s.FindApplication(e.ctx, alice.ID, app.ID, "tab")
	wantAppNotFound(t, "FindApplication of the deleted tab", err)
	wantAppNotFound(t, "DeleteApplication of the deleted tab", e.s.DeleteApplication(e.ctx, alice.ID, app.ID, "tab"))
	e.findApp(t, alice.ID, app.ID, "tab2")
	e.findApp(t, alice.ID, app.ID, "")
	if err := e.s.TouchApplication(e.ctx, app.ID); err != nil {
		t.Errorf("TouchApplication with channels left: %v", err)
	}

	// The default instance deletes the whole application.
	if err := e.s.DeleteApplication(e.ctx, alice.ID, app.ID, ""); err != nil {
		t.Fatalf("DeleteApplication(default): %v", err)
	}
	for _, inst := range []string{"", "tab2"} {
		_, err := e.s.FindApplication(e.ctx, alice.ID, app.ID, inst)
		wantAppNotFound(t, "FindApplication("+inst+") after deleting the application", err)
	}
	wantAppNotFound(t, "TouchApplication after deleting the application", e.s.TouchApplication(e.ctx, app.ID))
	wantAppNotFound(t, "DeleteApplication again", e.s.DeleteApplication(e.ctx, alice.ID, app.ID, ""))

	checkApp(t, "another application", e.findApp(t, alice.ID, other.ID, ""), other)

	// The application is gone, so registering the same triple makes a new one.
	e.clk.Advance(time.Second)
	again, created := e.createApp(t, alice, "ep", "")
	if !created || again.ID == app.ID {
		t.Errorf("CreateApplication after deletion: got ID %q, created %v; want a new application", again.ID, created)
	}
}

func testDeleteApplicationNotFound(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	bob := e.createUser(t, "bob@contoso.com")
	app, _ := e.createApp(t, alice, "ep", "")
	tests := []struct {
		name     string
		userID   int64
		id       string
		instance string
	}{
		{"another user", bob.ID, app.ID, ""},
		{"unknown id", alice.ID, "nosuchapplication000", ""},
		{"unknown instance", alice.ID, app.ID, "tab"},
	}
	for _, tt := range tests {
		wantAppNotFound(t, "DeleteApplication("+tt.name+")", e.s.DeleteApplication(e.ctx, tt.userID, tt.id, tt.instance))
	}
	checkApp(t, "after failed deletes", e.findApp(t, alice.ID, app.ID, ""), app)
}

func testMaxApplicationsPerUser(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	bob := e.createUser(t, "bob@contoso.com")
	var first *ucwad.Application
	for i := range MaxApplicationsPerUser {
		app, created := e.createApp(t, alice, fmt.Sprint("ep", i), "")
		if !created {
			t.Fatalf("application %d: created false", i)
		}
		if i == 0 {
			first = app
		}
	}
	a := &ucwad.Application{UserID: alice.ID, UserAgent: "ua", EndpointID: "one too many", Culture: "en-US"}
	app, created, err := e.s.CreateApplication(e.ctx, a, "")
	wantErr(t, "CreateApplication over the limit", err, ucwad.EGone, ucwad.SubTooManyApplications)
	if app != nil || created {
		t.Errorf("CreateApplication over the limit: got %v, %v with the error", app, created)
	}

	// At the limit, existing applications can still be registered again,
	// also on new channels, and other users are not affected.
	if app, created := e.createApp(t, alice, "ep0", ""); created || app.ID != first.ID {
		t.Errorf("re-registering at the limit: got ID %q, created %v; want %q, false", app.ID, created, first.ID)
	}
	if app, created := e.createApp(t, alice, "ep0", "tab"); created || app.ID != first.ID {
		t.Errorf("new channel at the limit: got ID %q, created %v; want %q, false", app.ID, created, first.ID)
	}
	if _, created := e.createApp(t, bob, "ep", ""); !created {
		t.Error("another user at alice's limit: created false")
	}

	// Deleting one makes room for one.
	for _, inst := range []string{"tab", ""} {
		if err := e.s.DeleteApplication(e.ctx, alice.ID, first.ID, inst); err != nil {
			t.Fatal(err)
		}
	}
	if _, created := e.createApp(t, alice, "one too many", ""); !created {
		t.Error("CreateApplication after freeing a slot: created false")
	}
	_, _, err = e.s.CreateApplication(e.ctx, &ucwad.Application{UserID: alice.ID, UserAgent: "ua", EndpointID: "two too many", Culture: "en-US"}, "")
	wantErr(t, "CreateApplication over the limit again", err, ucwad.EGone, ucwad.SubTooManyApplications)
}

func testCreateApplicationConcurrent(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	const n = 20
	type result struct {
		app     *ucwad.Application
		created bool
		err     error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			a := &ucwad.Application{UserID: alice.ID, UserAgent: "ua", EndpointID: "ep", Culture: "en-US"}
			<-start
			app, created, err := e.s.CreateApplication(e.ctx, a, fmt.Sprint("tab-", i%4))
			results[i] = result{app, created, err}
		})
	}
	close(start)
	wg.Wait()

	var id string
	createdCount := 0
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("goroutine %d: %v", i, r.err)
		}
		if id == "" {
			id = r.app.ID
		}
		if r.app.ID != id {
			t.Errorf("goroutine %d: got ID %q, want %q like the others", i, r.app.ID, id)
		}
		if want := fmt.Sprint("tab-", i%4); r.app.Channel.InstanceID != want {
			t.Errorf("goroutine %d: got channel %q, want %q", i, r.app.Channel.InstanceID, want)
		}
		if r.created {
			createdCount++
		}
	}
	if createdCount != 1 {
		t.Errorf("%d goroutines report created, want exactly 1", createdCount)
	}
	for i := range 4 {
		e.findApp(t, alice.ID, id, fmt.Sprint("tab-", i))
	}
}

// testChannelLimits: an application has at most MaxChannelsPerApplication
// channels and a user's applications at most MaxChannelsPerUser together;
// one more is EConflict LimitExceeded and changes nothing, while
// registering on existing channels always works.
func testChannelLimits(t *testing.T, e *env) {
	alice := e.createUser(t, "alice@contoso.com")
	bob := e.createUser(t, "bob@contoso.com")
	register := func(u *ucwad.User, endpointID, instanceID string) (*ucwad.Application, bool, error) {
		return e.s.CreateApplication(e.ctx, &ucwad.Application{UserID: u.ID, UserAgent: "ua", EndpointID: endpointID, Culture: "en-US"}, instanceID)
	}
	app, _ := e.createApp(t, alice, "ep", "")
	for i := 1; i < MaxChannelsPerApplication; i++ {
		e.createApp(t, alice, "ep", fmt.Sprint("tab", i))
	}
	_, _, err := register(alice, "ep", "one too many")
	wantErr(t, "a channel over the application's limit", err, ucwad.EConflict, ucwad.SubLimitExceeded)
	_, err = e.s.FindApplication(e.ctx, alice.ID, app.ID, "one too many")
	wantAppNotFound(t, "the refused channel", err)
	if again, created := e.createApp(t, alice, "ep", "tab1"); created || again.ID != app.ID || again.Channel.InstanceID != "tab1" {
		t.Errorf("registering again on an existing channel at the limit: %+v, created %v", again, created)
	}
	if err := e.s.DeleteApplication(e.ctx, alice.ID, app.ID, "tab1"); err != nil {
		t.Fatal(err)
	}
	e.createApp(t, alice, "ep", "one too many") // room again

	// The user's limit, over several applications.
	apps := 1
	for channels := MaxChannelsPerApplication; channels < MaxChannelsPerUser; apps++ {
		ep := fmt.Sprint("ep", apps)
		e.createApp(t, alice, ep, "")
		channels++
		for i := 1; i < MaxChannelsPerApplication && channels < MaxChannelsPerUser; i++ {
			e.createApp(t, alice, ep, fmt.Sprint("tab", i))
			channels++
		}
	}
	last := fmt.Sprint("ep", apps-1)
	_, _, err = register(alice, "ep", "tab1")
	wantErr(t, "a channel over the user's limit", err, ucwad.EConflict, ucwad.SubLimitExceeded)
	newApp, created, err := register(alice, "a new one", "")
	wantErr(t, "an application over the user's channel limit", err, ucwad.EConflict, ucwad.SubLimitExceeded)
	if newApp != nil || created {
		t.Errorf("the refused application: %v, created %v", newApp, created)
	}
	if _, created := e.createApp(t, alice, last, ""); created {
		t.Errorf("registering an existing application again at the limit created one")
	}
	if _, created := e.createApp(t, bob, "ep", "tab"); !created {
		t.Error("another user at alice's limit: created false")
	}
	// Deleting one application makes room: the refused one is new then.
	if err := e.s.DeleteApplication(e.ctx, alice.ID, app.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, created := e.createApp(t, alice, "a new one", "tab"); !created {
		t.Error("an application after making room: created false")
	}
}
