package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

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
	code   string // invalid_request, invalid_grant, unsupported_grant_type, server_error
	diag   string // X-Ms-Diagnostics text
}

func (e *oauthError) Error() string { return e.code + ": " + e.diag }

// handleToken is the WebTicket token endpoint: a form-encoded POST whose
// password grant answers with a bearer token. Its errors are OAuth JSON, not
// UCWA error bodies, as OAuth clients expect.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request, c *call) error {
	err := s.issueToken(w, r)
	var oe *oauthError
	if errors.As(err, &oe) {
		noteError(r, oe.code, "")
		if oe.code != "invalid_grant" { // checkPassword logs those, with the user
			s.log.Info("sign-in refused", "error", oe.code, "reason", oe.diag, "remote", r.RemoteAddr)
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
	case "password":
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
	if err := s.store.CreateToken(r.Context(), t); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	ans := tokenAnswer{AccessToken: value, ExpiresIn: int64(s.cfg.TokenLifetime.Seconds()), IdentityScope: "local", TokenType: "Bearer"}
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

// checkPassword verifies a password sign-in, first waiting out the
// account's throttle delay: repeated failures slow an account down but never
// lock its owner out, and attempts sent in parallel each wait longer than
// the one before. Unknown users cost the same work as known ones.
func (s *Server) checkPassword(r *http.Request, username, password string) (*ucwad.User, error) {
	ctx := r.Context()
	if d := s.throttle.Attempt(username); d > 0 {
		done := make(chan struct{})
		t := s.clock.AfterFunc(d, func() { close(done) })
		select {
		case <-done:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	u, err := s.store.FindUserBySIP(ctx, username)
	encoded := ""
	switch {
	case err == nil:
		encoded = u.PasswordHash
	case ucwad.ErrorCode(err) != ucwad.ENotFound:
		return nil, err
	}
	ok, err := s.hasher.Verify(ctx, encoded, password)
	if err != nil {
		return nil, err
	}
	if !ok || u == nil {
		// Attempt counted it as a failure already. The operator learns
		// which it was; the client does not.
		reason := "wrong password"
		if u == nil {
			reason = "unknown user"
		}
		s.log.Info("sign-in failed", "user", username, "reason", reason, "remote", r.RemoteAddr)
		return nil, &oauthError{http.StatusBadRequest, "invalid_grant", "The user name or password is incorrect."}
	}
	s.throttle.Success(username)
	return u, nil
}
