package httpapi_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/clock"
	"github.com/ucwad/ucwad/httpapi"
	"github.com/ucwad/ucwad/sqlite"
)

// BenchmarkMeetingMessage measures one instant message reaching every
// participant's held P-GET, over real HTTP on loopback, in meetings of 250
// (the Front End's recommended maximum) and 1,000 participants, each
// participant a user with one application whose P-GET is held throughout.
// participants=2 (one receiver) is the plain event-delivery baseline of
// the same run: one event to one held P-GET.
//
// Each message is sent (POST sendMessage) by a participant in turn, once
// the previous one reached everyone. Reported:
//   - p50-µs, p99-µs: delivery latency, from the POST's start to each
//     receiving P-GET's answer (every participant, the sender's own
//     completed included);
//   - write-µs: the POST's round trip (one write transaction storing the
//     message once and an entry in each receiver's log), median;
//   - heap-KiB/participant: heap in use with every P-GET held, less before
//     they were, per participant (server and client share the process: it
//     counts both ends of each connection).
//
// The client reads answers without decoding them, so that its share of
// the two cores is small. Run with -benchtime 1x: each run sends
// max(b.N, 50) messages (20 at 1,000).
//
// The meeting is seeded in the database directly (participants with
// messaging connected), since joining a thousand participants one by one
// costs minutes of event writes that are not what is measured here.
func BenchmarkMeetingMessage(b *testing.B) {
	for _, n := range []int{2, 250, 1000} {
		b.Run(fmt.Sprintf("participants=%d", n), func(b *testing.B) {
			messages := 50
			if n >= 1000 {
				messages = 20
			}
			benchMeetingMessage(b, n, max(b.N, messages))
		})
	}
}

type benchParticipant struct {
	token, app, conv string
	ack              int64 // the channel's first batch
	next             string
}

func benchMeetingMessage(b *testing.B, n, messages int) {
	ctx := context.Background()
	hub := httpapi.NewHub()
	clk := clock.NewFake(time.Now()) // P-GETs are held until answered: no timeout fires
	limits := ucwad.Limits{MaxParticipants: n, MessagesPerMinute: 1 << 20, MessageBurst: 1 << 20}
	path := filepath.Join(b.TempDir(), "ucwad.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{Clock: clk, Notifier: hub, PollInterval: -1, Limits: limits})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	api := httpapi.New(httpapi.Config{Limits: limits}, httpapi.Deps{Store: db, Hasher: auth.NewHasher(auth.TestParams, 2), Hub: hub, Clock: clk})
	srv := httptest.NewServer(api.Handler())
	b.Cleanup(func() { api.Shutdown(); srv.Close() })
	tr := srv.Client().Transport.(*http.Transport)
	tr.DisableCompression = true
	tr.MaxIdleConnsPerHost = n + 16
	client := &http.Client{Transport: tr}

	// Users, tokens and applications through the store; the organizer
	// joins through it too, creating the conversation.
	ps := make([]*benchParticipant, n)
	var meetingID string
	for i := range n {
		u := &ucwad.User{SIP: fmt.Sprintf("user%d@contoso.com", i), Name: fmt.Sprintf("User %d", i)}
		if err := db.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
		value, hash, err := auth.NewToken()
		if err != nil {
			b.Fatal(err)
		}
		now := clk.Now()
		if err := db.CreateToken(ctx, &ucwad.Token{Hash: hash, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}); err != nil {
			b.Fatal(err)
		}
		app, _, err := db.CreateApplication(ctx, &ucwad.Application{UserID: u.ID, UserAgent: "bench", EndpointID: "ep", Culture: "en-US"}, "")
		if err != nil {
			b.Fatal(err)
		}
		p := &benchParticipant{token: value, app: app.ID, ack: app.Channel.NextAck}
		ps[i] = p
		if i == 0 {
			m := &ucwad.OnlineMeeting{UserID: u.ID, MeetingSettings: ucwad.MeetingSettings{AccessLevel: "Everyone",
				AutomaticLeaderAssignment: "Disabled", ExpirationTime: now.Add(24 * time.Hour)}}
			if err := db.CreateMeeting(ctx, m); err != nil {
				b.Fatal(err)
			}
			meetingID = m.ID
			inv, err := db.JoinMeeting(ctx, &ucwad.JoinRequest{ApplicationID: app.ID, MeetingID: m.ID, Importance: "Normal",
				Joiner: ucwad.Joiner{UserID: u.ID, URI: "sip:" + u.SIP, Name: u.Name}})
			if err != nil {
				b.Fatal(err)
			}
			p.conv = inv.ConversationID
			if _, err := db.AddMessaging(ctx, app.ID, p.conv, ""); err != nil {
				b.Fatal(err)
			}
		} else {
			p.conv = ps[0].conv
		}
	}
	_ = meetingID
	seedParticipants(b, path, ps, clk.Now())

	// Every channel drained, then every P-GET held.
	for _, p := range ps {
		drain(b, db, p, p.ack)
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	arrivals := make(chan time.Time, n)
	var wg sync.WaitGroup
	listening, stopListening := context.WithCancel(ctx)
	for _, p := range ps {
		wg.Go(func() { listen(listening, b, client, srv.URL, p, arrivals) })
	}
	// Wait until every P-GET is parked: the hub counts them.
	for hub.Held() < n {
		time.Sleep(time.Millisecond)
	}
	runtime.GC()
	var held runtime.MemStats
	runtime.ReadMemStats(&held)

	var latencies, writes []time.Duration
	b.ResetTimer()
	for k := range messages {
		sender := ps[k%n]
		start := time.Now()
		res := post(b, client, srv.URL+"/ucwa/oauth/v1/applications/"+sender.app+"/communication/conversations/"+sender.conv+"/messaging/messages",
			sender.token, "text/plain", fmt.Sprintf("Message %d to everyone in the meeting.", k))
		writes = append(writes, time.Since(start))
		if res != http.StatusCreated {
			b.Fatalf("sendMessage: %d", res)
		}
		for range n {
			latencies = append(latencies, (<-arrivals).Sub(start))
		}
	}
	b.StopTimer()
	stopListening()
	slices.Sort(latencies)
	slices.Sort(writes)
	pct := func(d []time.Duration, p float64) float64 {
		return float64(d[min(len(d)-1, int(float64(len(d))*p))].Microseconds())
	}
	b.ReportMetric(pct(latencies, 0.50), "p50-µs")
	b.ReportMetric(pct(latencies, 0.99), "p99-µs")
	b.ReportMetric(pct(writes, 0.50), "write-µs")
	b.ReportMetric(float64(int64(held.HeapInuse)-int64(before.HeapInuse))/1024/float64(n), "heap-KiB/participant")
	b.ReportMetric(0, "ns/op")
	wg.Wait()
}

// seedParticipants adds ps[1:] to ps[0]'s conversation, admitted, with
// messaging connected, as JoinMeeting and AddMessaging would leave them.
func seedParticipants(b *testing.B, path string, ps []*benchParticipant, now time.Time) {
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	tx, err := raw.Begin()
	if err != nil {
		b.Fatal(err)
	}
	ms := now.UnixMilli()
	for i, p := range ps[1:] {
		var user int64
		if err := tx.QueryRow(`SELECT user_id FROM applications WHERE id = ?`, p.app).Scan(&user); err != nil {
			b.Fatal(err)
		}
		id := ucwad.NewID()
		if _, err := tx.Exec(`INSERT INTO participants (id, conversation_id, application_id, user_id, name, uri, role, in_lobby,
			organizer, anonymous, invitation_id, joined_at, lobby_deadline) VALUES (?, ?, ?, ?, ?, ?, 'Attendee', 0, 0, 0, ?, ?, 0)`,
			id, p.conv, p.app, user, fmt.Sprintf("User %d", i+1), fmt.Sprintf("sip:user%d@contoso.com", i+1), ucwad.NewID(), ms); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Exec(`INSERT INTO messaging (participant_id, conversation_id, state, invitation_id, operation_id, connected_at,
			typing_until, next_send) VALUES (?, ?, 'Connected', ?, '', ?, 0, 0)`, id, p.conv, ucwad.NewID(), ms); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

func request(b *testing.B, method, url, token, contentType, body string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

func post(b *testing.B, client *http.Client, url, token, contentType, body string) int {
	res, err := client.Do(request(b, "POST", url, token, contentType, body))
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// nextHref finds the next link of an event batch without decoding it.
func nextHref(body []byte) string {
	const key = `"next":{"href":"`
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return ""
	}
	rest := body[i+len(key):]
	return string(rest[:bytes.IndexByte(rest, '"')])
}

// drain reads p's channel through the store until nothing waits (a P-GET
// would be held), so that its first P-GET waits for the first message.
func drain(b *testing.B, db *sqlite.DB, p *benchParticipant, ack int64) {
	for {
		bt, err := db.ReadBatch(context.Background(), p.app, "", ack, false, 0)
		if err != nil {
			b.Fatal(err)
		}
		if bt.Wait {
			p.next = fmt.Sprintf("/ucwa/oauth/v1/applications/%s/events?ack=%d", p.app, ack)
			return
		}
		ack++
	}
}

// listen holds p's P-GET, reporting the time of each answer that carries
// a message, until ctx ends.
func listen(ctx context.Context, b *testing.B, client *http.Client, base string, p *benchParticipant, arrivals chan<- time.Time) {
	stop := ctx.Done()
	for {
		res, err := client.Do(request(b, "GET", base+p.next, p.token, "", "").WithContext(ctx))
		if err != nil {
			select {
			case <-stop:
				return
			default:
			}
			b.Error(err)
			return
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		at := time.Now()
		if res.StatusCode != http.StatusOK {
			select {
			case <-stop:
			default:
				b.Errorf("events: %d %s", res.StatusCode, body)
			}
			return
		}
		p.next = nextHref(body)
		for range bytes.Count(body, []byte(`"link":{"rel":"message"`)) {
			select {
			case arrivals <- at:
			case <-stop:
				return
			}
		}
	}
}
