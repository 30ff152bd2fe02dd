package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
)

// BenchmarkCreateApplication measures registering an application: "new"
// creates one per iteration (spread over users so the per-user count stays
// small), with each durability setting; "existing" re-registers the same
// one, as a reloading page does.
func BenchmarkCreateApplication(b *testing.B) {
	ctx := context.Background()
	for _, sync := range []string{"normal", "full"} {
		b.Run("new/sync="+sync, func(b *testing.B) {
			db := openClosing(b, filepath.Join(b.TempDir(), "ucwad.db"), Options{Sync: sync})
			users := make([]int64, b.N/ucwad.DefaultLimits().MaxApplicationsPerUser+1)
			for i := range users {
				u := &ucwad.User{SIP: fmt.Sprintf("user%d@contoso.com", i)}
				if err := db.CreateUser(ctx, u); err != nil {
					b.Fatal(err)
				}
				users[i] = u.ID
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				a := &ucwad.Application{UserID: users[i/ucwad.DefaultLimits().MaxApplicationsPerUser], UserAgent: "ua", EndpointID: fmt.Sprint(i), Culture: "en-US"}
				if _, created, err := db.CreateApplication(ctx, a, ""); err != nil || !created {
					b.Fatal(created, err)
				}
			}
		})
	}
	b.Run("existing", func(b *testing.B) {
		db := openClosing(b, filepath.Join(b.TempDir(), "ucwad.db"), Options{})
		u := &ucwad.User{SIP: "alice@contoso.com"}
		if err := db.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			a := &ucwad.Application{UserID: u.ID, UserAgent: "ua", EndpointID: "ep", Culture: "en-US"}
			if _, _, err := db.CreateApplication(ctx, a, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFindToken measures the lookup every authenticated request makes.
func BenchmarkFindToken(b *testing.B) {
	ctx := context.Background()
	db := openClosing(b, filepath.Join(b.TempDir(), "ucwad.db"), Options{})
	u := &ucwad.User{SIP: "alice@contoso.com"}
	if err := db.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	hash := make([]byte, 32)
	for i := range 1000 {
		copy(hash, fmt.Sprintf("%032d", i))
		tok := &ucwad.Token{Hash: hash, UserID: u.ID, ExpiresAt: time.Now().Add(time.Hour)}
		if err := db.CreateToken(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := db.FindToken(ctx, hash); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, _, err := db.FindToken(ctx, hash); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkRawInsert is the baseline for BenchmarkCreateApplication/new: one
// bare INSERT in its own BEGIN IMMEDIATE transaction, through a pool set up
// with the same DSN as the writer, for each durability setting.
func BenchmarkRawInsert(b *testing.B) {
	for _, sync := range []string{"NORMAL", "FULL"} {
		b.Run("sync="+strings.ToLower(sync), func(b *testing.B) { benchmarkRawInsert(b, sync) })
	}
}

func benchmarkRawInsert(b *testing.B, sync string) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", dsn(filepath.Join(b.TempDir(), "raw.db"), sync, true))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (id TEXT PRIMARY KEY, v INTEGER NOT NULL) STRICT`); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO t (id, v) VALUES (?, ?)`, ucwad.NewID(), i); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGuest measures the store's work for anonymous guests, to be read
// beside CreateApplication/new in the same run: "grant" is the
// anonmeeting grant's (the meeting read, a user and a token written);
// "application" is guests registering their applications as their
// meetings fill to 99 guest applications (the default bound is 100) and
// their addresses to 9 (of 10): the bounds count 49 and 4 on average.
func BenchmarkGuest(b *testing.B) {
	ctx := context.Background()
	setup := func(b *testing.B, meetings int) (*DB, []*ucwad.OnlineMeeting) {
		db := openClosing(b, filepath.Join(b.TempDir(), "ucwad.db"), Options{})
		u := &ucwad.User{SIP: "alice@contoso.com"}
		if err := db.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
		ms := make([]*ucwad.OnlineMeeting, meetings)
		for i := range ms {
			ms[i] = &ucwad.OnlineMeeting{UserID: u.ID, MeetingSettings: ucwad.MeetingSettings{AccessLevel: "Everyone", ExpirationTime: time.Now().Add(time.Hour)}}
			if err := db.CreateMeeting(ctx, ms[i]); err != nil {
				b.Fatal(err)
			}
		}
		return db, ms
	}
	guest := func(db *DB, m *ucwad.OnlineMeeting, addr string, i int) *ucwad.User {
		g := &ucwad.User{Guest: &ucwad.Guest{MeetingID: m.ID, Address: addr}}
		t := &ucwad.Token{Hash: fmt.Appendf(nil, "%032d", i), ExpiresAt: time.Now().Add(time.Hour)}
		if err := db.CreateGuest(ctx, g, "", t); err != nil {
			b.Fatal(err)
		}
		return g
	}
	b.Run("grant", func(b *testing.B) {
		db, ms := setup(b, 1)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			guest(db, ms[0], fmt.Sprint("192.0.2.", i%250), i)
		}
	})
	b.Run("application", func(b *testing.B) {
		const perMeeting, perAddress = 99, 9
		// The guests that fill the bounds, and one more per iteration.
		n := b.N + perMeeting
		db, ms := setup(b, n/perMeeting+1)
		gs := make([]*ucwad.User, n)
		for i := range gs {
			gs[i] = guest(db, ms[i/perMeeting], fmt.Sprint("addr-", i/perAddress), i)
		}
		register := func(g *ucwad.User) {
			a := &ucwad.Application{UserID: g.ID, UserAgent: "ua", EndpointID: "ep", Culture: "en-US"}
			if _, created, err := db.CreateApplication(ctx, a, ""); err != nil || !created {
				b.Fatal(created, err)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			register(gs[i])
		}
	})
}

// BenchmarkWrite measures the store's part of the two write requests of
// issue 17's targets, one caller at a time (no group commit, no HTTP):
// scheduling a meeting and adding an extension (a new meeting every 50),
// taking turns among 16 users with one application each, so that each
// change's event is stored. It is the write path of httpapi's
// BenchmarkWrites without the noise of 16 callers on a shared machine.
func BenchmarkWrite(b *testing.B) {
	ctx := context.Background()
	for _, op := range []string{"schedule", "extension"} {
		b.Run(op, func(b *testing.B) {
			db := openClosing(b, filepath.Join(b.TempDir(), "ucwad.db"), Options{Sync: "normal",
				Limits: ucwad.Limits{MaxMeetingsPerUser: 1 << 30, MaxExtensionsPerMeeting: 1 << 30}})
			users := make([]int64, 16)
			for i := range users {
				u := &ucwad.User{SIP: fmt.Sprintf("user%d@contoso.com", i)}
				if err := db.CreateUser(ctx, u); err != nil {
					b.Fatal(err)
				}
				a := &ucwad.Application{UserID: u.ID, UserAgent: "ua", EndpointID: "ep", Culture: "en-US"}
				if _, _, err := db.CreateApplication(ctx, a, ""); err != nil {
					b.Fatal(err)
				}
				users[i] = u.ID
			}
			settings := ucwad.MeetingSettings{Subject: "Weekly sync", AccessLevel: "Everyone",
				Attendees: []string{"sip:bob@contoso.com", "sip:carol@contoso.com"}, ExpirationTime: time.Now().Add(24 * time.Hour)}
			meetings := make([]string, len(users))
			b.ReportAllocs()
			i := 0
			cpu := processCPU()
			for b.Loop() {
				u := i % len(users)
				if op == "schedule" || i/len(users)%50 == 0 {
					m := &ucwad.OnlineMeeting{UserID: users[u], MeetingSettings: settings}
					if err := db.CreateMeeting(ctx, m); err != nil {
						b.Fatal(err)
					}
					meetings[u] = m.ID
				}
				if op == "extension" {
					x := &ucwad.Extension{MeetingID: meetings[u], Type: "RoamingCommunication",
						Properties: []ucwad.ExtensionProperty{{Name: "color", Value: "blue"}}}
					if err := db.CreateExtension(ctx, users[u], x); err != nil {
						b.Fatal(err)
					}
				}
				i++
			}
			b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// processCPU is the CPU time (user and system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
