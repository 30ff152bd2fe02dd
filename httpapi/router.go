package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/ucwa"
)

// authLevel is what a route requires of the caller.
type authLevel int

const (
	public   authLevel = iota // anyone
	signedIn                  // a valid access token
	inApp                     // a valid token and the caller's own application {app}
)

// handler serves one method of one route. It writes the answer on success
// and returns an error otherwise; it never writes an error itself.
type handler func(w http.ResponseWriter, r *http.Request, c *call) error

// route is one path pattern with its methods.
type route struct {
	segs    []string // literal segments, or "{name}" for a wildcard
	fold    bool     // literal segments match case-insensitively
	auth    authLevel
	methods map[string]handler
	// unbatched routes are refused inside a batch (UCWA refuses events,
	// which would hold the batch, and batch itself).
	unbatched bool
	// container routes run other requests (batch); they take no write
	// turn themselves, as each request they run takes its own.
	container bool
	// ownActivity routes record activity on the application in their own
	// store call (events: ReadBatch), so loading the application does not.
	ownActivity bool
	// guests routes serve anonymous meeting guests too; any other answers
	// a guest's token 403 AnonymousNotAllowed.
	guests bool
	// parks routes hold their request for minutes (events): the store
	// calls before the handler run offStack, so that the driver's depth
	// never grows the stack the request then waits on (the runtime
	// halves a grown stack only at a collection, once per collection:
	// when thousands of requests park at once, their grown stacks make
	// the peak of resident memory).
	parks bool
	// metrics are the route's series (nil without metrics).
	metrics *routeMetrics
}

// call is the per-request state handlers receive.
type call struct {
	format      ucwa.Format
	contentType string
	params      map[string]string
	base        string // absolute scheme://host of the server as the client sees it
	user        *ucwad.User
	tokenHash   []byte // the hash of the caller's access token
	app         *ucwad.Application
	instanceID  string // the multi-tab instanceId the request named, if any
	// cached is set for the reads the read cache may answer (GETs other
	// than P-GETs, while the cache is usable): never for a write, whose
	// token and application always come from the store.
	cached bool
	// gen is the read cache's generation when the request began: what it
	// reads from the store is kept only if nothing was dropped since.
	gen uint64
	// read is set when authenticate read the call's application with its
	// token (ucwad.TokenApplicationFinder); readApp is then that
	// application, nil for none.
	read    bool
	readApp *ucwad.Application
}

func newCall(r *http.Request) *call {
	f, ct := ucwa.Negotiate(r.Header.Get("Accept"))
	return &call{format: f, contentType: ct}
}

// appHref is the path-absolute href of the call's application.
func (c *call) appHref() string { return applicationsPath + "/" + c.app.ID }

// Paths of the resources outside an application. Autodiscover and WebTicket
// paths match in any casing; these are the spellings we hand out.
const (
	rootPath         = "/Autodiscover/AutodiscoverService.svc/root"
	userPath         = rootPath + "/oauth/user"
	tokenPath        = "/WebTicket/oauthtoken"
	applicationsPath = "/ucwa/oauth/v1/applications"
)

// routeTable is the whole URL space of the server in one place.
func (s *Server) routeTable() []*route {
	app := applicationsPath + "/{app}"
	myMeetings := app + "/onlineMeetings/myOnlineMeetings"
	meeting := myMeetings + "/{meeting}"
	return append([]*route{
		newRoute("/", public, true).on("GET", s.handleRoot),
		newRoute(rootPath, public, true).on("GET", s.handleRoot),
		newRoute(userPath, signedIn, true).on("GET", s.handleUser),
		newRoute(rootPath+"/user", signedIn, true).on("GET", s.handleUser),
		newRoute(tokenPath, public, true).on("POST", s.handleToken),
		newRoute(applicationsPath, signedIn, false).on("POST", s.handleApplicationCreate).on("OPTIONS", s.handleApplicationsOptions),
		newRoute(app, inApp, false).on("GET", s.handleApplicationGet).on("DELETE", s.handleApplicationDelete),
		newRoute(app+"/batch", inApp, false).on("POST", s.handleBatch).notInBatch().runsRequests(),
		newRoute(app+"/events", inApp, false).on("GET", s.handleEvents).notInBatch().recordsActivity().parked(),
		newRoute(app+"/policies", inApp, false).on("GET", s.handlePolicies),
		newRoute(app+"/me", inApp, false).on("GET", s.handleMe),
		newRoute(app+"/me/makeMeAvailable", inApp, false).on("POST", s.handleMakeMeAvailable),
		newRoute(app+"/me/reportMyActivity", inApp, false).on("POST", s.handleReportMyActivity),
		newRoute(app+"/people", inApp, false).on("GET", s.handlePeople),
		newRoute(app+"/communication", inApp, false).on("GET", s.handleCommunication),
		newRoute(app+"/onlineMeetings", inApp, false).on("GET", s.handleOnlineMeetings),
		newRoute(myMeetings, inApp, false).on("GET", s.handleMyMeetings).on("POST", s.handleMeetingCreate),
		newRoute(meeting, inApp, false).on("GET", s.handleMeetingGet).on("PUT", s.handleMeetingUpdate).on("DELETE", s.handleMeetingDelete),
		newRoute(meeting+"/onlineMeetingExtensions", inApp, false).on("GET", s.handleExtensions).on("POST", s.handleExtensionCreate),
		newRoute(meeting+"/onlineMeetingExtensions/{extension}", inApp, false).
			on("GET", s.handleExtensionGet).on("PUT", s.handleExtensionUpdate).on("DELETE", s.handleExtensionDelete),
		newRoute(app+"/onlineMeetings/defaultValues", inApp, false).on("GET", s.handleMeetingDefaults),
		newRoute(app+"/onlineMeetings/eligibleValues", inApp, false).on("GET", s.handleMeetingEligible),
		newRoute(app+"/onlineMeetings/policies", inApp, false).on("GET", s.handleMeetingPolicies),
		newRoute(app+"/onlineMeetings/customInvitation", inApp, false).on("GET", s.handleCustomInvitation),
		newRoute(app+"/onlineMeetings/phoneDialInInformation", inApp, false).on("GET", s.handleDialIn),
		newRoute(app+"/onlineMeetings/phoneDialInInformation/{region}", inApp, false).on("GET", s.handleDialInRegion),

		// Anonymous guests register here too (the reference's
		// registration point, in our spelling and in the reference's);
		// which routes serve guests is openToGuests' list.
		newRoute(anonApplicationsPath, signedIn, false).on("POST", s.handleAnonApplicationCreate).on("OPTIONS", s.handleAnonApplicationsOptions),
		newRoute(anonApplicationsRefPath, signedIn, false).on("POST", s.handleAnonApplicationCreate).on("OPTIONS", s.handleAnonApplicationsOptions),
	}, append(s.conversationRoutes(app), s.messagingRoutes(app)...)...)
}

func newRoute(pattern string, a authLevel, fold bool) *route {
	return &route{segs: splitPath(pattern), fold: fold, auth: a, methods: map[string]handler{}}
}

func (rt *route) on(method string, h handler) *route {
	rt.methods[method] = h
	return rt
}

// runsRequests marks the route as one that runs other requests (batch):
// it takes no write turn of its own, or its parts would wait for it.
func (rt *route) runsRequests() *route {
	rt.container = true
	return rt
}

// recordsActivity marks the route as one whose handler records activity
// on the application in the store call it makes anyway: a P-GET's start
// costs at most one write.
func (rt *route) recordsActivity() *route {
	rt.ownActivity = true
	return rt
}

// parked marks the route as one that holds its requests (see route.parks).
func (rt *route) parked() *route {
	rt.parks = true
	return rt
}

// notInBatch marks the route as refused inside a batch.
func (rt *route) notInBatch() *route {
	rt.unbatched = true
	return rt
}

func (rt *route) allow() string {
	ms := make([]string, 0, len(rt.methods))
	for m := range rt.methods {
		ms = append(ms, m)
	}
	sort.Strings(ms)
	return strings.Join(ms, ", ")
}

// match returns the route for the cleaned path segs and its wildcard values.
func (s *Server) match(segs []string) (*route, map[string]string) {
	for _, rt := range s.routes {
		if len(rt.segs) != len(segs) {
			continue
		}
		var params map[string]string
		ok := true
		for i, p := range rt.segs {
			if strings.HasPrefix(p, "{") {
				if params == nil {
					params = map[string]string{}
				}
				params[p[1:len(p)-1]] = segs[i]
				continue
			}
			if p != segs[i] && !(rt.fold && strings.EqualFold(p, segs[i])) {
				ok = false
				break
			}
		}
		if ok {
			return rt, params
		}
	}
	return nil, nil
}

// splitPath splits a URL path into its non-empty segments, so that
// duplicated and trailing slashes are served as if absent rather than
// redirected (a redirect turns a client's POST into a GET).
func splitPath(p string) []string {
	var segs []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	return segs
}

// requestSegments splits the request's path into segments and unescapes
// each on its own, so that an escaped "/" in an id a client chose (an
// extension id) stays inside its segment.
func requestSegments(r *http.Request) []string {
	segs := splitPath(r.URL.EscapedPath())
	for i, seg := range segs {
		if u, err := url.PathUnescape(seg); err == nil {
			segs[i] = u
		}
	}
	return segs
}

// dispatch routes one request: match, authenticate, check the method and
// version, load the application, run the handler and render its error.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	c := newCall(r)
	c.base = s.baseURL(r)
	err := s.serve(w, r, c)
	if err != nil && r.Context().Err() != nil {
		// The client went away mid-request: nobody to answer.
		err = nil
	}
	if err != nil {
		code, subcode := string(ucwad.EServiceFailure), ""
		var e *ucwad.Error
		if errors.As(err, &e) {
			code, subcode = string(e.Code), e.Subcode
		}
		noteError(r, code, subcode)
		s.renderError(w, r, c, err)
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, c *call) error {
	rt, params := s.match(requestSegments(r))
	if rt == nil {
		return &ucwad.Error{Code: ucwad.ENotFound, Subcode: ucwad.SubResourceNotFound, Message: "There is no resource at this address."}
	}
	c.params = params
	if rt.metrics != nil {
		noteRoute(w, rt.metrics)
	}
	method := strings.ToUpper(r.Method)
	if s.cache != nil && method == http.MethodGet && !rt.ownActivity {
		c.gen, c.cached = s.cache.begin()
	}
	if s.cache != nil && method != http.MethodGet && method != http.MethodHead {
		// Whatever this request changes is visible to the next read here
		// before it is answered.
		w = &syncingWriter{ResponseWriter: w, sync: func() { s.cache.sync(r.Context()) }}
	}
	if rt.auth >= signedIn {
		var err error
		if rt.parks {
			err = offStackErr(func() error { return s.authenticate(r, c, rt.auth == inApp) })
		} else {
			err = s.authenticate(r, c, rt.auth == inApp)
		}
		if err != nil {
			return err
		}
		if c.user.Anonymous() && !rt.guests {
			return forbidGuest()
		}
	}
	// The reference pages write "Get" and "Post"; clients copying them
	// must still be served.
	h, ok := rt.methods[method]
	if !ok {
		w.Header().Set("Allow", rt.allow())
		return ucwad.Errorf(ucwad.EMethodNotAllowed, "", "The method %s is not allowed on this resource.", r.Method)
	}
	if err := checkVersion(r); err != nil {
		return err
	}
	if m := method; c.user != nil && !rt.container && m != http.MethodGet && m != http.MethodHead {
		release, err := s.writes.acquire(r.Context(), c.user.ID)
		if err != nil {
			return err
		}
		defer release()
	}
	if rt.auth == inApp {
		var err error
		if rt.parks {
			err = offStackErr(func() error { return s.loadApplication(r, c, !rt.ownActivity) })
		} else {
			err = s.loadApplication(r, c, !rt.ownActivity)
		}
		if err != nil {
			return err
		}
	}
	// A per-request deadline instead of a server-wide one, which would cut
	// held event requests; the event handler sets its own.
	rc := http.NewResponseController(w)
	deadline := time.Now().Add(requestDeadline)
	rc.SetReadDeadline(deadline)
	rc.SetWriteDeadline(deadline)
	return h(w, r, c)
}

// supportedRevision is the resource revision this server serves everywhere.
const supportedRevision = 2

// checkVersion honours X-MS-RequiresMinResourceVersion: "2" and "2.0" (and
// anything lower) are served; a higher revision is refused as UCWA does.
// A revision is a plain decimal number: NaN, infinities, exponents and hex
// floats, which ParseFloat would take, are not revisions (NaN compares as
// lower than everything and would be served).
func checkVersion(r *http.Request) error {
	v := strings.TrimSpace(r.Header.Get("X-MS-RequiresMinResourceVersion"))
	if v == "" {
		return nil
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || !plainDecimal(v) {
		return ucwad.InvalidParameter("X-MS-RequiresMinResourceVersion", "The header X-MS-RequiresMinResourceVersion must be a number such as 2.0.")
	}
	if n > supportedRevision {
		return ucwad.Errorf(ucwad.ENotFound, "APIVersionNotSupported", "This server serves resource revision %d.", supportedRevision)
	}
	return nil
}

// plainDecimal reports whether s is digits with at most one decimal point
// between digits, such as "2" or "2.0".
func plainDecimal(s string) bool {
	whole, frac, dot := strings.Cut(s, ".")
	digits := func(d string) bool {
		return d != "" && strings.Trim(d, "0123456789") == ""
	}
	return digits(whole) && (!dot || digits(frac))
}

// authenticate resolves the bearer token to its user or fails with
// EUnauthorized (answered with the MsRtcOAuth challenge). With inApp, a
// call the read cache does not answer reads the application {app} in the
// same read when the store can (for loadApplication).
func (s *Server) authenticate(r *http.Request, c *call, inApp bool) error {
	value, ok := auth.ParseBearer(r.Header.Get("Authorization"))
	if !ok {
		return &ucwad.Error{Code: ucwad.EUnauthorized, Message: "No valid security token."}
	}
	hash := auth.HashToken(value)
	if c.cached {
		if u, ok := s.cache.token(hash, s.clock.Now()); ok {
			c.user, c.tokenHash = u, hash
			return nil
		}
	}
	var t *ucwad.Token
	var u *ucwad.User
	var err error
	if f, ok := s.store.tokens.(ucwad.TokenApplicationFinder); ok && inApp && !c.cached {
		c.instanceID = queryValue(r, "instanceId")
		t, u, c.readApp, err = f.FindTokenApplication(r.Context(), hash, c.params["app"], c.instanceID)
		c.read = err == nil
	} else {
		t, u, err = s.store.tokens.FindToken(r.Context(), hash)
	}
	if ucwad.ErrorCode(err) == ucwad.ENotFound {
		return &ucwad.Error{Code: ucwad.EUnauthorized, Message: "No valid security token."}
	}
	if err != nil {
		return err
	}
	if c.cached {
		s.cache.putToken(c.gen, hash, t, u)
	}
	c.user = u
	c.tokenHash = hash
	return nil
}

// stillSignedIn checks again that the call's token is valid, for requests
// that outlive their authentication (a held P-GET): a password change or
// the user's removal, possibly by another process, revokes the token, and
// the token may expire meanwhile. Fails with EUnauthorized then.
func (s *Server) stillSignedIn(ctx context.Context, c *call) error {
	_, _, err := s.store.tokens.FindToken(ctx, c.tokenHash)
	if ucwad.ErrorCode(err) == ucwad.ENotFound {
		return &ucwad.Error{Code: ucwad.EUnauthorized, Message: "No valid security token."}
	}
	return err
}

// requestDeadline bounds how long one ordinary request may take to send its
// body and receive its answer, so that a client that stalls mid-transfer
// does not hold a connection forever.
const requestDeadline = time.Minute

// loadApplication finds the caller's own application {app}; any other
// application id, existing or not, is ApplicationNotFound. With touch, it
// records activity on the application when what is recorded is older than
// ucwad.ActivityInterval.
func (s *Server) loadApplication(r *http.Request, c *call, touch bool) error {
	c.instanceID = queryValue(r, "instanceId")
	app, err := s.findApplication(r, c)
	if err != nil {
		if ucwad.ErrorCode(err) == ucwad.ENotFound {
			return appNotFound()
		}
		return err
	}
	c.app = app
	if now := s.clock.Now(); touch && now.Sub(app.LastActiveAt) >= ucwad.ActivityInterval {
		if err := s.store.apps.TouchApplication(r.Context(), app.ID); err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		app.LastActiveAt = now
		if s.cache != nil {
			s.cache.touched(app.ID, now)
		}
	}
	return nil
}

// findApplication is FindApplication through the read cache for the
// calls that may use it.
func (s *Server) findApplication(r *http.Request, c *call) (*ucwad.Application, error) {
	id := c.params["app"]
	if c.read {
		c.read = false // read once: a later lookup reads the store again
		if c.readApp == nil {
			return nil, ucwad.Errorf(ucwad.ENotFound, ucwad.SubApplicationNotFound, "application not found")
		}
		return c.readApp, nil
	}
	if !c.cached {
		return s.store.apps.FindApplication(r.Context(), c.user.ID, id, c.instanceID)
	}
	if app, ok := s.cache.app(c.user.ID, id, c.instanceID); ok {
		return app, nil
	}
	app, err := s.store.apps.FindApplication(r.Context(), c.user.ID, id, c.instanceID)
	if err == nil {
		s.cache.putApp(c.gen, app, c.instanceID)
	}
	return app, err
}

// syncingWriter brings the read cache up to date (readCache.sync) before
// a write request's answer leaves, so that a client that reads after it
// was answered, on any connection, reads what it wrote.
type syncingWriter struct {
	http.ResponseWriter
	sync   func()
	synced bool
}

func (w *syncingWriter) before() {
	if !w.synced {
		w.synced = true
		w.sync()
	}
}

func (w *syncingWriter) WriteHeader(code int) {
	w.before()
	w.ResponseWriter.WriteHeader(code)
}

func (w *syncingWriter) Write(b []byte) (int, error) {
	w.before()
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *syncingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// queryValue returns a query parameter matched case-insensitively by name,
// as clients spell server-defined parameters in various casings.
func queryValue(r *http.Request, name string) string {
	for k, vs := range r.URL.Query() {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}
