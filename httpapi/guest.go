package httpapi

import (
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/clock"
	"github.com/ucwad/ucwad/ucwa"
)

// Anonymous meeting guests (docs/meetings.md, "Anonymous guests"): the
// token endpoint's anonmeeting grant, anonApplications, and what a guest's
// token may reach. Everything after the grant is the ordinary code: a
// guest is a user of its own kind (ucwad.Guest), bound to one meeting.

// Grant types of the token endpoint.
const (
	grantPassword    = "password"
	grantAnonMeeting = "urn:microsoft.rtc:anonmeeting"
)

// grantTypes lists the token grants this server accepts, as advertised in
// the MsRtcOAuth challenge: the anonymous grant only while anonymous join
// is enabled.
func (s *Server) grantTypes() string {
	if s.cfg.Meetings.AnonymousEnabled() {
		return grantAnonMeeting + "," + grantPassword
	}
	return grantPassword
}

// anonApplicationsPath is where anonApplications is served under
// applicationsPath's prefix; anonApplicationsRefPath is the reference's
// spelling (/ucwa/v1/anonApplications), which clients build by hand since
// no documented link leads there.
const (
	anonApplicationsPath    = "/ucwa/oauth/v1/anonApplications"
	anonApplicationsRefPath = "/ucwa/v1/anonApplications"
)

// issueGuestToken answers the anonmeeting grant: ms_rtc_conferenceuri names
// the meeting, password is its key (its onlineMeetingId, in any case), and
// ms_rtc_renew, when sent, is the guest's current token, whose identity the
// new token keeps. Grants are throttled per client address before anything
// is looked at, so that neither guessing keys nor minting identities goes
// faster than AnonymousGrantsPerMinute from one address.
func (s *Server) issueGuestToken(w http.ResponseWriter, r *http.Request, form url.Values) error {
	if !s.cfg.Meetings.AnonymousEnabled() {
		return &oauthError{http.StatusBadRequest, "unsupported_grant_type", "Anonymous meeting join is disabled on this server."}
	}
	uri, key := strings.TrimSpace(form.Get("ms_rtc_conferenceuri")), form.Get("password")
	if uri == "" || strings.TrimSpace(key) == "" {
		return &oauthError{http.StatusBadRequest, "invalid_request", "ms_rtc_conferenceuri and password (the meeting key) are required."}
	}
	if len(uri) > ucwad.MaxMeetingURI {
		return &oauthError{http.StatusBadRequest, "invalid_request", "ms_rtc_conferenceuri is too long."}
	}
	addr := addressKey(s.clientAddr(r))
	if wait, ok := s.guestGrants.take(addr); !ok {
		return &retryLater{oauthError{http.StatusTooManyRequests, "temporarily_unavailable",
			"Too many anonymous meeting grants from this address."}, max(1, int((wait+time.Second-1)/time.Second))}
	}
	organizer, id, ok := ucwad.ParseMeetingURI(uri)
	if !ok || !ucwad.MeetingKey(key, id) {
		return errBadMeetingKey
	}
	id = ucwad.CanonicalMeetingID(id)
	value, hash, err := auth.NewToken()
	if err != nil {
		return err
	}
	now := s.clock.Now()
	t := &ucwad.Token{Hash: hash, CreatedAt: now, ExpiresAt: now.Add(ucwad.GuestTokenLifetime)}
	if renew := form.Get("ms_rtc_renew"); renew != "" {
		old, _ := auth.ParseBearer("Bearer " + strings.TrimSpace(renew))
		if old == "" {
			return errBadMeetingKey
		}
		// The old token keeps working as long as an event request may be
		// held with it, so that a client swapping tokens loses no P-GET.
		g, err := s.store.guests.RenewGuest(r.Context(), auth.HashToken(old), id, t, now.Add(s.cfg.MaxEventTimeout))
		if ucwad.ErrorCode(err) == ucwad.ENotFound {
			return &oauthError{http.StatusBadRequest, "invalid_grant", "ms_rtc_renew is not a valid anonymous token of this meeting."}
		}
		if err != nil {
			return err
		}
		s.log.Info("anonymous token renewed", "guest", g.SIP, "meeting", id, "remote", addr.String())
		return s.writeToken(w, value, ucwad.GuestTokenLifetime)
	}
	g := &ucwad.User{Guest: &ucwad.Guest{MeetingID: id, Address: addr.String()}}
	if err := s.store.guests.CreateGuest(r.Context(), g, organizer, t); err != nil {
		if ucwad.ErrorCode(err) == ucwad.ENotFound {
			return errBadMeetingKey
		}
		return err
	}
	s.log.Info("anonymous guest admitted to sign in", "guest", g.SIP, "meeting", id, "remote", addr.String())
	return s.writeToken(w, value, ucwad.GuestTokenLifetime)
}

// errBadMeetingKey answers a grant for a meeting that does not exist (or
// expired) or with a key that is not its own, without saying which.
var errBadMeetingKey = &oauthError{status: http.StatusBadRequest, code: "invalid_grant",
	diag: "The meeting does not exist or the meeting key is wrong."}

// grantRate counts the anonymous grants of each client address in fixed
// windows: at most limit per window from one address. It holds an entry
// only for addresses seen in the current window, and drops them all when
// the window turns, so its size is bounded by the grants of one window.
type grantRate struct {
	limit  int
	window time.Duration
	clock  clock.Clock

	mu     sync.Mutex
	start  time.Time
	counts map[netip.Prefix]int
}

func newGrantRate(limit int, window time.Duration, clk clock.Clock) *grantRate {
	return &grantRate{limit: limit, window: window, clock: clk, counts: map[netip.Prefix]int{}}
}

// take counts one grant of address k; when k had its limit in the current
// window already, it counts nothing and returns false with the time until
// the window turns.
func (g *grantRate) take(k netip.Prefix) (time.Duration, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.clock.Now()
	if now.Sub(g.start) >= g.window || now.Before(g.start) {
		g.start = now
		clear(g.counts)
	}
	if g.counts[k] >= g.limit {
		return g.start.Add(g.window).Sub(now), false
	}
	g.counts[k]++
	return 0, true
}

// guestRoutes are the routes outside an application's communication that
// serve anonymous guests: the sign-in chain, registering, and the
// application with what a participant needs of it (its events, batch,
// policies and me). Everything else they answer 403 AnonymousNotAllowed:
// me's capabilities, people, the online-meetings dashboard and every
// meeting resource under it.
var guestRoutes = []string{
	userPath, rootPath + "/user", applicationsPath, anonApplicationsPath, anonApplicationsRefPath,
	applicationsPath + "/{app}",
	applicationsPath + "/{app}/batch",
	applicationsPath + "/{app}/events",
	applicationsPath + "/{app}/policies",
	applicationsPath + "/{app}/me",
	applicationsPath + "/{app}/communication",
}

// openToGuests marks the routes that serve anonymous guests: guestRoutes,
// and every route under an application's communication but
// startOnlineMeeting. Guests are ordinary participants of their meeting,
// so joining it, its invitation, its conversation with everything in it
// (roster, lobby, leaders' controls, instant messages) serve them as
// anyone (a guest's application is in no other meeting); startOnlineMeeting
// would make them an organizer. Whatever a later capability adds under
// communication is open to guests by this rule; the rest of the URL space
// opens only by being listed in guestRoutes.
func openToGuests(routes []*route) {
	comm := splitPath(applicationsPath + "/{app}/communication")
	for _, rt := range routes {
		p := "/" + strings.Join(rt.segs, "/")
		under := len(rt.segs) > len(comm) && slices.Equal(rt.segs[:len(comm)], comm) && rt.segs[len(comm)] != "startOnlineMeeting"
		if under || slices.Contains(guestRoutes, p) {
			rt.guests = true
		}
	}
}

// forbidGuest is the answer to an anonymous guest's request for a resource
// guests may not use.
func forbidGuest() error {
	return ucwad.Errorf(ucwad.EForbidden, ucwad.SubAnonymousNotAllowed, "Anonymous meeting guests cannot use this resource.")
}

// anonApplicationsMetadata is what OPTIONS anonApplications answers: the
// reference's members of a POST (culture and userAgent required, the
// others as for applications).
var anonApplicationsMetadata = applicationsMetadata

func (s *Server) handleAnonApplicationsOptions(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.writeOptions(w, c, anonApplicationsMetadata)
}

// handleAnonApplicationCreate registers an application at anonApplications,
// the reference's registration point for anonymous meeting guests: as POST
// applications, except that endpointId may be left out (the reference
// requires only culture and userAgent). A signed-in user may use it too and
// gets an ordinary application.
func (s *Server) handleAnonApplicationCreate(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.createApplication(w, r, c, false)
}

// guestMe is a guest's me: only its name and uri (the reference: "anonymous
// applications expose only uri and name"), and no capability, since
// presence and availability are not a guest's.
func guestMe(c *call) *ucwa.Resource {
	res := ucwa.New("me", c.appHref()+"/me")
	res.Set("name", ucwa.String(c.user.Name))
	res.Set("uri", ucwa.String(c.user.URI()))
	return res
}
