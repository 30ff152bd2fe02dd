package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/clock"
	"github.com/ucwad/ucwad/ucwa"
)

// keepAlive is how stale the recorded activity of an application with a
// P-GET held here may grow before the sweep records activity again, so that
// no process's expiry takes it for abandoned while the request is held (up
// to 30 minutes): 5 minutes, or a third of the idle limit when that is
// shorter. The held requests themselves write nothing while they wait.
func (s *Server) keepAlive() time.Duration { return min(5*time.Minute, s.cfg.ApplicationIdle/3) }

// eventsPath is the href of the call's event channel for batch ack.
func (c *call) eventsPath(ack int64) string {
	return c.appHref() + "/events?ack=" + strconv.FormatInt(ack, 10) + c.instanceQuery("&")
}

// handleEvents serves the pending GET of an event channel: it answers as
// soon as the requested batch has events, or with an empty batch when the
// channel's timeout passes, or at once when the ack cannot be served
// (resync), the request was replaced (409 PGetReplaced), the application
// went away (404) or the server shuts down (empty batch).
//
// Thousands of these wait at once, each on its connection's goroutine, so
// that goroutine is kept small: the request's state lives in a pget, the
// store is read and the answer written on other goroutines (offStack), and
// it parks on one channel receive, a few KiB deep, so that its stack stays
// at the smallest size the layers above it need.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request, c *call) error {
	var p *pget
	var done bool
	var err error
	offStack(func() {
		if p, err = s.startEvents(w, r, c); err == nil {
			done, err = p.read()
		}
	})
	if p == nil {
		return err
	}
	defer p.end()
	for !done {
		<-p.wt.wake
		offStack(func() {
			if done, err = p.woken(); !done {
				done, err = p.read()
			}
		})
	}
	return err
}

// offStack runs f on another goroutine and returns when it is done,
// passing a panic on. What f calls (the store's driver goes deep) grows
// that goroutine's stack instead of the stack of the held request, which
// would keep the grown size while it waits. The goroutines are kept for
// the next call (a few of them idle, see stackPool), so that their stacks
// grow once rather than at every call.
func offStack(f func()) { workers.run(f) }

// offStackErr is offStack for a function that returns an error. The
// routes that park their requests call the store through it before their
// handler runs (see route.parks); the others call it directly, without
// the closure this needs.
func offStackErr(f func() error) error {
	var err error
	offStack(func() { err = f() })
	return err
}

// workers runs offStack's calls.
var workers = &stackPool{work: make(chan func())}

// maxIdleWorkers bounds the goroutines kept waiting for the next call,
// each with a stack grown for the store's driver (tens of KiB): a burst of
// calls leaves at most this many behind.
const maxIdleWorkers = 16

// stackPool runs functions on goroutines that wait for the next one when
// they are done, up to maxIdleWorkers of them; a call that finds none
// waiting starts a new one.
type stackPool struct {
	work chan func() // unbuffered: a send succeeds only to a waiting goroutine
	idle atomic.Int32
}

func (p *stackPool) run(f func()) {
	done := make(chan any, 1)
	call := func() {
		panicked := true
		defer func() {
			if panicked {
				done <- recover()
			}
		}()
		f()
		panicked = false
		done <- nil
	}
	select {
	case p.work <- call:
	default:
		go p.worker(call)
	}
	if v := <-done; v != nil {
		panic(v)
	}
}

func (p *stackPool) worker(call func()) {
	for {
		call()
		if p.idle.Add(1) > maxIdleWorkers {
			p.idle.Add(-1)
			return
		}
		call = <-p.work
		p.idle.Add(-1)
	}
}

// pget is one held event request between its reads of the store.
type pget struct {
	s    *Server
	w    http.ResponseWriter
	r    *http.Request
	c    *call
	wt   *waiter
	self string
	ack  int64
	// hold is the store's record that this process holds the channel,
	// from the first read that had to wait; reading again with it tells
	// whether a P-GET in another process took the channel since.
	hold    int64
	release bool // the timeout passed: the next read releases the batch
	timeout time.Duration
	// timer and stopGone exist from when the request first parks: the
	// timeout runs from then, and a pending timer tells that it is parked.
	timer    clock.Timer
	stopGone func() bool
}

// startEvents reads the request's parameters, stores changed channel
// options and registers the request with the hub.
func (s *Server) startEvents(w http.ResponseWriter, r *http.Request, c *call) (*pget, error) {
	rawAck := queryValue(r, "ack")
	ack, err := strconv.ParseInt(rawAck, 10, 64)
	if err != nil || ack < 1 {
		ack = 0 // garbage: ReadBatch answers with resync
	}
	opts, err := s.channelOptions(r, c)
	if err != nil {
		return nil, err
	}
	priority, _ := strconv.ParseInt(queryValue(r, "priority"), 10, 64)
	key := chanKey{c.app.ID, c.instanceID}
	if d := s.hub.deferredAck(key); d > 0 && ack < d {
		// The request held here asked for batch d, acknowledging d-1,
		// and the store has not written that yet: write it before this
		// older ack is read, which then resyncs as it would have.
		if _, err := s.store.events.ReadBatch(r.Context(), c.app.ID, c.instanceID, d, false, 0); err != nil {
			return nil, err
		}
	}
	wt, ok := s.hub.hold(key, priority)
	if !ok {
		return nil, pgetReplaced()
	}
	// A held request keeps only what its answer needs: the route's
	// parameters (a map) served to find the application.
	c.params = nil
	p := &pget{s: s, w: w, r: r, c: c, wt: wt, ack: ack, timeout: time.Duration(opts.Timeout) * time.Second,
		// self is the URL that was asked for, garbage included.
		self: c.appHref() + "/events?ack=" + url.QueryEscape(rawAck) + c.instanceQuery("&")}

	// The request may legitimately outlive the ordinary request deadline.
	// The read deadline goes entirely: while the request is held, the
	// server reads the connection in the background to notice a client
	// that leaves, and a deadline there would cancel the request.
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{})
	rc.SetWriteDeadline(time.Now().Add(p.timeout + time.Minute))
	return p, nil
}

// end forgets the request in the hub and stops what watched its wait.
// When its client left while the acknowledgement its ack made was not
// written yet, end writes it (the application's events link and the
// event log then reflect it); a request replaced or answered at shutdown
// leaves it to the next request, which repeats it.
func (p *pget) end() {
	p.s.hub.release(p.wt)
	if p.wt.deferred.Load() != 0 && p.wt.why.Load()&wokeGone != 0 {
		offStack(p.flushAck)
	}
	if p.timer != nil {
		p.timer.Stop()
	}
	if p.stopGone != nil {
		p.stopGone()
	}
}

// flushAck writes the acknowledgement the request's ack made, which the
// store left unwritten, for a request whose client is gone.
func (p *pget) flushAck() {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(p.r.Context()), 10*time.Second)
	defer cancel()
	if _, err := p.s.store.events.ReadBatch(ctx, p.c.app.ID, p.c.instanceID, p.ack, false, p.hold); err != nil {
		p.s.log.Warn("writing an event acknowledgement", "application", p.c.app.ID, "error", err)
	}
}

// read reads the channel and answers, or prepares to wait (done false).
func (p *pget) read() (done bool, err error) {
	s, r, c := p.s, p.r, p.c
	// A request held for minutes is authenticated again before it
	// releases anything: its token may have been revoked meanwhile.
	if p.hold != 0 {
		if err := s.stillSignedIn(r.Context(), c); err != nil {
			return true, err
		}
	}
	// A batch acknowledged by this request's ack while nothing waits
	// after it is acknowledged in the store only by the write releasing
	// the next: one write per delivered batch rather than two.
	b, err := s.store.events.ReadBatchDeferAck(r.Context(), c.app.ID, c.instanceID, p.ack, p.release, p.hold)
	if err != nil {
		if ucwad.ErrorCode(err) == ucwad.ENotFound {
			return true, appNotFound()
		}
		return true, err
	}
	if b.Replaced {
		return true, pgetReplaced()
	}
	// What the store left unwritten, for the hub; a release (or a write
	// another request made) leaves nothing.
	deferred := int64(0)
	if b.AckDeferred {
		deferred = p.ack
	}
	p.wt.deferred.Store(deferred)
	if !b.Wait {
		return true, s.writeEvents(r.Context(), p.w, c, p.self, p.ack, b)
	}
	if p.hold == 0 {
		p.hold = b.Hold
		p.timer = s.clock.AfterFunc(p.timeout, p.wt.timedOut)
		p.stopGone = context.AfterFunc(r.Context(), p.wt.gone)
		s.log.Debug("event request held", "application", c.app.ID, "ack", p.ack, "timeout", p.timeout)
	}
	return false, nil
}

// woken decides what a wake-up means: an answer now (done), or reading
// the channel again (news, or the timeout, which releases the batch).
func (p *pget) woken() (done bool, err error) {
	why := p.wt.why.Load()
	switch {
	case why&wokeGone != 0:
		return true, nil // the client went away; nothing was released
	case why&wokeShutdown != 0:
		// Answer without a write: thousands of held requests must all
		// answer within the few seconds a shutdown may take. Nothing
		// was released, so next asks for the same batch again.
		return true, p.s.writeEvents(p.r.Context(), p.w, p.c, p.self, p.ack, &ucwad.Batch{Ack: p.ack, Wait: true})
	case why&wokeReplaced != 0:
		return true, pgetReplaced()
	case why&wokeTimeout != 0:
		p.release = true
	}
	return false, nil
}

func pgetReplaced() error {
	return &ucwad.Error{Code: ucwad.EConflict, Subcode: ucwad.SubPGetReplaced, Message: "A newer event request replaced this one."}
}

func appNotFound() error {
	return &ucwad.Error{Code: ucwad.ENotFound, Subcode: ucwad.SubApplicationNotFound, Message: "The application does not exist."}
}

// channelOptions merges the request's timeout, low and medium parameters
// into the channel's sticky ones (clamped to their ranges), stores them when
// they changed, and returns the options in force.
func (s *Server) channelOptions(r *http.Request, c *call) (ucwad.ChannelOptions, error) {
	stored := c.app.Channel.Options
	o := stored
	set := func(name string, dst *int, lo, hi int) {
		v := queryValue(r, name)
		if v == "" {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return // ignored like any parameter a client garbles
		}
		*dst = min(max(n, lo), hi)
	}
	minT, maxT := int(s.cfg.MinEventTimeout/time.Second), int(s.cfg.MaxEventTimeout/time.Second)
	set("timeout", &o.Timeout, minT, maxT)
	set("low", &o.Low, 5, 1800)
	set("medium", &o.Medium, 5, 1800)
	if o != stored {
		if err := s.store.events.SetChannelOptions(r.Context(), c.app.ID, c.instanceID, o); err != nil {
			return o, err
		}
	}
	if o.Timeout == 0 {
		o.Timeout = int(s.cfg.DefaultEventTimeout / time.Second)
	}
	o.Timeout = min(max(o.Timeout, minT), maxT)
	return o, nil
}

// writeEvents answers a P-GET with batch b. A batch still marked Wait
// (shutdown) is answered empty with next asking for the same batch again.
func (s *Server) writeEvents(ctx context.Context, w http.ResponseWriter, c *call, self string, ack int64, b *ucwad.Batch) error {
	if err := s.refreshForEvents(ctx, c, b); err != nil {
		return err
	}
	ev := &ucwa.EventBatch{Self: self}
	switch {
	case b.Resync != 0:
		ev.Resync = c.eventsPath(b.Resync)
	case b.Wait:
		ev.Next = c.eventsPath(max(ack, 1))
	default:
		ev.Next = c.eventsPath(b.Ack + 1)
		for _, e := range b.Events {
			sender, out, ok := s.renderEvent(c, e)
			if !ok {
				continue
			}
			if n := len(ev.Senders); n > 0 && ev.Senders[n-1].Rel == sender.Rel && ev.Senders[n-1].Href == sender.Href {
				ev.Senders[n-1].Events = append(ev.Senders[n-1].Events, out)
			} else {
				sender.Events = []ucwa.EventEntry{out}
				ev.Senders = append(ev.Senders, sender)
			}
		}
	}
	h := w.Header()
	h.Set("Content-Type", c.contentType)
	noCache(h)
	w.WriteHeader(http.StatusOK)
	if err := ucwa.EncodeEventBatch(w, c.format, ev); err != nil {
		return err
	}
	if s.metrics != nil {
		n := 0
		for _, sender := range ev.Senders {
			n += len(sender.Events)
		}
		s.metrics.delivered.Add(float64(n))
	}
	return nil
}

// refreshForEvents reloads the call's application when the batch holds
// events that embed its current state (see subjectRenderer.current): the
// P-GET may have been held since before the change it reports.
func (s *Server) refreshForEvents(ctx context.Context, c *call, b *ucwad.Batch) error {
	for _, e := range b.Events {
		if !eventRenderers[e.Subject.Kind].current {
			continue
		}
		app, err := s.store.apps.FindApplication(ctx, c.user.ID, c.app.ID, c.instanceID)
		if err != nil {
			if ucwad.ErrorCode(err) == ucwad.ENotFound {
				return appNotFound()
			}
			return err
		}
		c.app = app
		return nil
	}
	return nil
}

// subjectRenderer renders the events about one kind of subject.
type subjectRenderer struct {
	// render completes out (whose Type is set) for the receiving
	// application and returns it with its sender; false drops the event.
	render func(s *Server, c *call, e ucwad.Event, out ucwa.EventEntry) (ucwa.EventSender, ucwa.EventEntry, bool)
	// current is set when the events embed the receiving application's
	// resource as it is now rather than as it was at commit, so that the
	// application is read again before they are rendered.
	current bool
}

// eventRenderers has one entry per kind of subject: a new kind of event
// (a conversation's, a participant's, a message's, an invitation's) is a
// new entry. Events of a kind without one are not sent.
var eventRenderers = map[ucwad.SubjectKind]subjectRenderer{
	ucwad.SubjectMe:            {render: (*Server).renderMeEvent, current: true},
	ucwad.SubjectCommunication: {render: (*Server).renderCommunicationEvent, current: true},
	ucwad.SubjectMeeting:       {render: (*Server).renderMeetingEvent},
	ucwad.SubjectExtension:     {render: (*Server).renderMeetingEvent},

	ucwad.SubjectInvitation:       {render: (*Server).renderInvitationEvent},
	ucwad.SubjectConversation:     {render: (*Server).renderConversationEvent},
	ucwad.SubjectMeetingView:      {render: (*Server).renderMeetingViewEvent},
	ucwad.SubjectLocalParticipant: {render: (*Server).renderLocalParticipantEvent},
	ucwad.SubjectParticipant:      {render: (*Server).renderParticipantEvent},

	ucwad.SubjectMessaging:           {render: (*Server).renderMessagingEvent},
	ucwad.SubjectMessagingInvitation: {render: (*Server).renderMessagingInvitationEvent},
	ucwad.SubjectTyping:              {render: (*Server).renderTypingEvent},
	ucwad.SubjectMessage:             {render: (*Server).renderMessageEvent},
}

// renderEvent turns a stored event into its sender and wire event for the
// receiving application, through the entry for its subject's kind.
func (s *Server) renderEvent(c *call, e ucwad.Event) (ucwa.EventSender, ucwa.EventEntry, bool) {
	r, ok := eventRenderers[e.Subject.Kind]
	if !ok {
		return ucwa.EventSender{}, ucwa.EventEntry{}, false
	}
	return r.render(s, c, e, ucwa.EventEntry{Type: string(e.Type)})
}

// renderMeEvent renders events about me. Like communication's, they embed
// the resource as it is now, as the reference's "Events in UCWA" example
// does: clients (the C# SDK among them) read the new state from the event
// instead of fetching it.
func (s *Server) renderMeEvent(c *call, _ ucwad.Event, out ucwa.EventEntry) (ucwa.EventSender, ucwa.EventEntry, bool) {
	href := c.appHref() + "/me"
	out.Link = ucwa.Link{Rel: "me", Href: href}
	out.Embedded = s.meResource(c)
	return ucwa.EventSender{Rel: "me", Href: href}, out, true
}

// renderCommunicationEvent renders events about communication, embedding
// it as it is now (see renderMeEvent).
func (s *Server) renderCommunicationEvent(c *call, _ ucwad.Event, out ucwa.EventEntry) (ucwa.EventSender, ucwa.EventEntry, bool) {
	href := c.appHref() + "/communication"
	out.Link = ucwa.Link{Rel: "communication", Href: href}
	out.Embedded = s.communicationResource(c)
	return ucwa.EventSender{Rel: "communication", Href: href}, out, true
}

// sweepLoop expires abandoned applications and purges expired tokens every
// interval until ctx ends.
func (s *Server) sweepLoop(ctx context.Context, interval time.Duration) {
	for {
		done := make(chan struct{})
		t := s.clock.AfterFunc(interval, func() { close(done) })
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-done:
		}
		if err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("sweep", "err", err)
			if s.metrics != nil {
				s.metrics.storeSweep.Inc()
			}
		}
	}
}

// Sweep runs the background clean-up once: the applications with a P-GET
// held here record activity when theirs is older than keepAlive (one write
// for them all), and held requests whose application went away (deleted
// through another process) are woken to answer 404; applications idle for
// longer than the configured lifetime (and holding no P-GET here) are
// deleted (leaving the meetings they are in), expired tokens, anonymous
// guests and sign-in schedules past their window are purged, meetings past their grace are
// deleted, and participants whose lobby wait is over or whose application
// is gone are removed.
func (s *Server) Sweep(ctx context.Context) error {
	defer s.cache.sync(ctx) // what it removed is gone from the read cache too
	now := s.clock.Now()
	held := s.hub.HeldApplications()
	gone, err := s.store.apps.KeepApplicationsAlive(ctx, held, now.Add(-s.keepAlive()))
	if err != nil {
		return err
	}
	s.hub.Notify(gone)
	cutoff := now.Add(-s.cfg.ApplicationIdle)
	ids, err := s.store.apps.ExpireApplications(ctx, cutoff, held)
	if err != nil {
		return err
	}
	if len(ids) > 0 {
		s.log.Info("expired idle applications", "count", len(ids))
	}
	if _, err := s.store.tokens.DeleteExpiredTokens(ctx); err != nil {
		return err
	}
	if n, err := s.store.guests.DeleteExpiredGuests(ctx); err != nil {
		return err
	} else if n > 0 {
		s.log.Info("removed expired anonymous guests", "count", n)
	}
	if _, err := s.store.signIns.DeleteExpiredSignIns(ctx, s.cfg.SignIn.Window); err != nil {
		return err
	}
	if err := s.sweepMeetings(ctx); err != nil {
		return err
	}
	if err := s.sweepConversations(ctx); err != nil {
		return err
	}
	return s.sweepTyping(ctx)
}
