package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ucwad/ucwad"
	"github.com/ucwad/ucwad/auth"
	"github.com/ucwad/ucwad/ucwa"
)

// handleRoot answers autodiscover: absolute links to itself and to the user
// resource (clients derive host names from them with regular expressions
// that need "https://…/Autodiscover/"). No redirect link: clients follow any
// redirect link they see.
func (s *Server) handleRoot(w http.ResponseWriter, r *http.Request, c *call) error {
	q := originalDomain(r)
	res := ucwa.New("root", c.base+rootPath+q)
	res.Link("user", c.base+userPath+q)
	if len(s.origins) > 0 {
		// Only where XFrame serves the page: an allow-list is configured.
		res.Link("xframe", c.base+XFramePath)
	}
	return s.writeResource(w, c, http.StatusOK, res, "")
}

// originalDomain carries the optional originalDomain parameter over into
// the hrefs we hand out, as the Front End does.
func originalDomain(r *http.Request) string {
	if d := queryValue(r, "originalDomain"); d != "" {
		return "?originalDomain=" + url.QueryEscape(d)
	}
	return ""
}

// handleUser is reached only with a valid token (otherwise the router
// answers with the MsRtcOAuth challenge) and points at applications.
func (s *Server) handleUser(w http.ResponseWriter, r *http.Request, c *call) error {
	self := c.base + rootPath + "/oauth/user"
	if !strings.Contains(strings.ToLower(r.URL.Path), "/oauth/") {
		self = c.base + rootPath + "/user"
	}
	res := ucwa.New("user", self+originalDomain(r))
	res.Link("applications", c.base+applicationsPath)
	return s.writeResource(w, c, http.StatusOK, res, "")
}

// maxTokenForm bounds a token request: a sign-in form is a few hundred
// bytes, and requests waiting for a password-hashing slot must not each
// hold a large body.
const maxTokenForm = 16 << 10

// tokenAnswer is the OAuth token response (plain JSON, not a UCWA resource).
type tokenAnswer struct {
	AccessToken   string `json:"access_token"`
	ExpiresIn     int64  `json:"expires_in"`
	IdentityScope string `json:"ms_rtc_identityscope"`
	TokenType     string `json:"token_type"`
}

// oauthError is an OAuth error answer of the token endpoint.
type oauthError struct {
	status int
	code   string // invalid_request, invalid_grant, unsupported_grant_type, temporarily_unavailable, server_error
	diag   string // X-Ms-Diagnostics text
}

func (e *oauthError) Error() string { return e.code + ": " + e.diag }

// handleToken is the WebTicket token endpoint: a form-encoded POST whose
// password grant (and, for anonymous meeting guests, anonmeeting grant)
// answers with a bearer token. Its errors are OAuth JSON, not
// UCWA error bodies, as OAuth clients expect.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request, c *call) error {
	if s.hooks.done != nil {
		defer s.hooks.done()
	}
	err := s.issueToken(w, r)
	if gone := r.Context().Err(); gone != nil && errors.Is(err, gone) {
		return nil // the client left: no one to answer, nothing went wrong
	}
	var oe *oauthError
	if rl := (*retryLater)(nil); errors.As(err, &rl) {
		oe = &rl.oauthError
		w.Header().Set("Retry-After", strconv.Itoa(rl.seconds))
		if rl == errTooManyFromAddress {
			s.signInFailed(signInThrottledAddress)
		} else {
			s.signInFailed(signInThrottledAccount)
		}
	}
	if oe != nil || errors.As(err, &oe) {
		noteError(r, oe.code, "")
		switch oe.code {
		case "invalid_request":
			s.signInFailed(signInInvalidRequest)
		case "unsupported_grant_type":
			s.signInFailed(signInUnsupportedGrant)
		}
		switch {
		case oe.code == "invalid_grant": // checkPassword logs those, with the user
		case oe.status == http.StatusTooManyRequests:
			// Only at debug: a flood of refusals must not become a flood of
			// log lines. The checks that do run are logged, at most one
			// per account per step.
			s.log.Debug("sign-in refused", "error", oe.code, "reason", oe.diag, "remote", s.clientAddr(r).String())
		default:
			s.log.Info("sign-in refused", "error", oe.code, "reason", oe.diag, "remote", s.clientAddr(r).String())
		}
		h := w.Header()
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
		h.Set("X-Ms-Diagnostics", `28000;source="`+s.cfg.ServerName+`";reason="`+quotable(oe.diag)+`"`)
		w.WriteHeader(oe.status)
		json.NewEncoder(w).Encode(map[string]string{"error": oe.code})
		return nil
	}
	return err
}

func (s *Server) issueToken(w http.ResponseWriter, r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		// Clients send charset='utf-8' and the like; only the type matters.
		mt = strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0]))
	}
	if mt != "application/x-www-form-urlencoded" {
		return &oauthError{http.StatusBadRequest, "invalid_request", "The token request must be application/x-www-form-urlencoded."}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, min(s.cfg.MaxBodyBytes, maxTokenForm)))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &oauthError{http.StatusRequestEntityTooLarge, "invalid_request", "The token request is too large."}
		}
		return err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return &oauthError{http.StatusBadRequest, "invalid_request", "The token request body is not valid form encoding."}
	}
	switch form.Get("grant_type") {
	case grantPassword:
	case grantAnonMeeting:
		return s.issueGuestToken(w, r, form)
	case "":
		return &oauthError{http.StatusBadRequest, "invalid_request", "grant_type is required."}
	default:
		return &oauthError{http.StatusBadRequest, "unsupported_grant_type", "Authentication type not allowed."}
	}
	username, password := strings.TrimSpace(form.Get("username")), form.Get("password")
	if username == "" || password == "" {
		return &oauthError{http.StatusBadRequest, "invalid_request", "username and password are required."}
	}
	username = s.signInName(username)
	u, err := s.checkPassword(r, username, password)
	if err != nil {
		return err
	}
	value, hash, err := auth.NewToken()
	if err != nil {
		return err
	}
	now := s.clock.Now()
	t := &ucwad.Token{Hash: hash, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.TokenLifetime)}
	if err := s.store.tokens.CreateToken(r.Context(), t); err != nil {
		return err
	}
	return s.writeToken(w, value, s.cfg.TokenLifetime)
}

// writeToken answers a grant with the token value, valid for lifetime.
func (s *Server) writeToken(w http.ResponseWriter, value string, lifetime time.Duration) error {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	ans := tokenAnswer{AccessToken: value, ExpiresIn: int64(lifetime.Seconds()), IdentityScope: "local", TokenType: "Bearer"}
	b, err := json.Marshal(ans)
	if err != nil {
		return err
	}
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
	return nil
}

// signInName maps a down-level logon name, NETBIOS\user as on-premises
// Windows clients send it, to the SIP address user@domain; the NetBIOS name
// matches in any case. Anything else (user@domain, sip:user@domain, another
// NetBIOS name) is returned as it is, so that it is looked up and fails
// like any unknown user, at the same cost. Throttling then counts every
// spelling of one account as the same account.
func (s *Server) signInName(name string) string {
	netbios, user, ok := strings.Cut(name, `\`)
	if !ok || s.cfg.Domain == "" || user == "" || strings.ContainsAny(user, `\@`) || !strings.EqualFold(netbios, s.cfg.NetBIOSName) {
		return name
	}
	return user + "@" + s.cfg.Domain
}

// checkPassword verifies a password sign-in when the account's schedule
// allows a check now, and otherwise answers 429 at once without looking at
// the password: an attacker learns that the guess was not tried, and gains
// nothing by sending guesses in parallel or to several processes, since
// the schedule is in the store. An attempt counts as a failure from the
// moment its check is granted until its password proves right; one whose
// client leaves before the check runs is given back. Unknown users follow
// the same schedule and cost the same work as known ones.
//
// At most MaxSignInsPerAddress password sign-ins from one client address
// are in flight at once; one more waits for a place (its form read, so that
// a client leaving is noticed) and answers 429 if none frees within
// MaxSignInWait.
func (s *Server) checkPassword(r *http.Request, username, password string) (*ucwad.User, error) {
	ctx := r.Context()
	addr := addressKey(s.clientAddr(r))
	entered, err := s.signIns.enter(ctx, addr)
	if !entered {
		if err == nil {
			err = errTooManyFromAddress
		}
		return nil, err
	}
	defer s.signIns.leave(addr)
	acct := ucwad.SignInAccount{Name: username}
	u, err := s.store.users.FindUserBySIP(ctx, username)
	encoded := ""
	switch {
	case err == nil:
		acct.UserID, encoded = u.ID, u.PasswordHash
	case ucwad.ErrorCode(err) != ucwad.ENotFound:
		return nil, err
	}
	claim, err := s.store.signIns.ClaimSignIn(ctx, acct, s.cfg.SignIn)
	switch {
	case ucwad.ErrorCode(err) == ucwad.ENotFound:
		s.signInFailed(signInUnknownUser)
		return nil, errBadCredentials // the user was deleted since the lookup
	case err != nil:
		return nil, err
	case !claim.Granted:
		return nil, tooManyAttempts(s.clock.Now(), claim.RetryAt)
	}
	ok, err := s.verify(ctx, username, encoded, password)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			// The client left while waiting for a hashing slot: its
			// password was never checked, so the attempt never happened.
			if err := s.store.signIns.ReleaseSignIn(context.WithoutCancel(ctx), claim); err != nil {
				s.log.Error("releasing an abandoned sign-in", "err", err)
			}
		}
		return nil, err
	}
	if !ok || u == nil {
		// Counted when the check was granted. The operator learns which
		// it was; the client does not.
		reason, label := "wrong password", signInWrongPassword
		if u == nil {
			reason, label = "unknown user", signInUnknownUser
		}
		s.signInFailed(label)
		s.log.Info("sign-in failed", "user", username, "reason", reason, "remote", s.clientAddr(r).String())
		return nil, errBadCredentials
	}
	if err := s.store.signIns.ResetSignIn(context.WithoutCancel(ctx), acct); err != nil {
		return nil, err
	}
	return u, nil
}

// errBadCredentials is the answer to a wrong user name or password.
var errBadCredentials = &oauthError{status: http.StatusBadRequest, code: "invalid_grant", diag: "The user name or password is incorrect."}

// verify checks password against encoded, waiting for a hashing slot.
func (s *Server) verify(ctx context.Context, username, encoded, password string) (bool, error) {
	if s.hooks.beforeVerify != nil {
		if err := s.hooks.beforeVerify(ctx, username); err != nil {
			return false, err
		}
	}
	return s.hasher.Verify(ctx, encoded, password)
}
