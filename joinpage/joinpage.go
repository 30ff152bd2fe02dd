// Package joinpage serves the page a meeting's join link opens: a browser
// client of the UCWA API of the server it came from, which lets a person
// join the meeting as a guest or signed in, wait in the lobby, see the
// roster, exchange instant messages, admit or reject people waiting (as a
// leader) and leave. The page, its script and its style sheet are embedded
// in the binary; nothing is loaded from anywhere else.
//
// The page holds no privilege: everything it shows comes from the UCWA
// resources and events its own application receives, exactly as any other
// client would get them. The server side only answers whether the link
// names a meeting that can be joined (404 and a page that says so when it
// does not), and hands the page the meeting's URI.
package joinpage

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/ucwad/ucwad"
)

//go:embed static/join.html static/notfound.html static/join.js static/join.css
var files embed.FS

// Prefix is where the page is mounted: every join link the server hands
// out by default is Prefix + "<alias>/<onlineMeetingId>" (see
// ucwad.JoinPath), and the page's script and style sheet are under
// Prefix + "static/".
const Prefix = ucwad.JoinPath + "/"

// StaticPrefix is where the page's script and style sheet are served.
const StaticPrefix = Prefix + "static/"

// Meetings is the one thing the page needs of the store: the meeting a
// join link names, if it can be joined (ucwad.MeetingStore.JoinableMeeting).
type Meetings interface {
	JoinableMeeting(ctx context.Context, alias, id string) (*ucwad.OnlineMeeting, error)
}

// Config is what the page needs.
type Config struct {
	// Meetings finds the meeting a link names.
	Meetings Meetings
	// ConnectOrigins are origins beside the page's own that its script may
	// reach (Content-Security-Policy connect-src): the server's public URL
	// when the page is served on another host (meetings.joinBaseUrl).
	ConnectOrigins []string
	// Log receives the store failures the page answers with 500.
	Log *slog.Logger
}

// Page is the join page's handler.
type Page struct {
	cfg      Config
	page     *template.Template
	notFound []byte
	csp      string
	static   map[string]asset
}

type asset struct {
	body  []byte
	gz    []byte // body gzipped once, at start
	ctype string
	etag  string
}

// New returns the page's handler. Mount it at Prefix (it serves every
// path under it) and, for a joinBaseUrl of this server, wrap it with At.
func New(cfg Config) *Page {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	read := func(name string) []byte {
		b, err := files.ReadFile("static/" + name)
		if err != nil {
			panic(err) // embedded above: cannot happen
		}
		return b
	}
	p := &Page{
		cfg:      cfg,
		page:     template.Must(template.New("join.html").Parse(string(read("join.html")))),
		notFound: read("notfound.html"),
		static:   map[string]asset{},
	}
	for name, ctype := range map[string]string{"join.js": "text/javascript; charset=utf-8", "join.css": "text/css; charset=utf-8"} {
		b := read(name)
		sum := sha256.Sum256(b)
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		zw.Write(b)
		zw.Close()
		p.static[name] = asset{body: b, gz: gz.Bytes(), ctype: ctype, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	connect := "'self'"
	for _, o := range cfg.ConnectOrigins {
		if o = strings.TrimRight(o, "/"); o != "" && !strings.ContainsAny(o, " ;,'") {
			connect += " " + o
		}
	}
	// No inline script or style, nothing from elsewhere, no plugins, no
	// forms posted anywhere (the script sends what the forms hold), and no
	// framing: a page with an Admit button must not be clickjacked.
	p.csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src " + connect +
		"; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	return p
}

// CSP is the Content-Security-Policy of every answer of the page.
func (p *Page) CSP() string { return p.csp }

// ServeHTTP serves Prefix + "<alias>/<onlineMeetingId>" (the page, or 404
// with a page saying there is no such meeting) and the page's files under
// StaticPrefix.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if name, ok := strings.CutPrefix(r.URL.Path, StaticPrefix); ok {
		p.serveStatic(w, r, name)
		return
	}
	alias, id, ok := Link(r.URL.Path, ucwad.JoinPath)
	if !ok {
		p.headers(w)
		p.answerNotFound(w, r)
		return
	}
	p.serveLink(w, r, alias, id)
}

// At returns a handler that serves the page for links base + "/<alias>/
// <onlineMeetingId>" (base a path, "" for the root), as Link recognizes
// them: the path of meetings.joinBaseUrl when that names this server.
func (p *Page) At(base string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		alias, id, ok := Link(r.URL.Path, base)
		if !ok {
			p.headers(w)
			p.answerNotFound(w, r)
			return
		}
		p.serveLink(w, r, alias, id)
	})
}

// reserved are first path segments that are the API's, never an alias of
// a join link at the root: a link must not shadow a UCWA path.
var reserved = []string{"ucwa", "autodiscover", "webticket", "meet", "xframe"}

// Link reports whether path is a join link under base (a path without a
// trailing slash, "" for the root): base + "/<alias>/<id>", the id an
// onlineMeetingId (ucwad.IsMeetingID, in any case) and the alias a
// non-empty segment without "@". It returns the alias and the id in the
// case meetings are stored in (upper). At the root, aliases that are the
// first segment of an API path (reserved) are not links.
func Link(path, base string) (alias, id string, ok bool) {
	rest, ok := strings.CutPrefix(path, base+"/")
	if !ok {
		return "", "", false
	}
	alias, id, ok = strings.Cut(rest, "/")
	if !ok || alias == "" || strings.ContainsAny(alias, "@/") || strings.Contains(id, "/") {
		return "", "", false
	}
	id = strings.ToUpper(id)
	if !ucwad.IsMeetingID(id) {
		return "", "", false
	}
	if base == "" {
		for _, r := range reserved {
			if strings.EqualFold(alias, r) {
				return "", "", false
			}
		}
	}
	return alias, id, true
}

// pageData is what the page template shows: the meeting's URI and id, the
// two things a UCWA client joins with (onlineMeetingUri; the key of the
// anonymous grant). Nothing else of the meeting is in the page: a person
// learns the rest through UCWA once the server lets them in.
type pageData struct {
	MeetingURI string
	MeetingID  string
	Static     string
}

func (p *Page) serveLink(w http.ResponseWriter, r *http.Request, alias, id string) {
	p.headers(w)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "Only GET and HEAD are allowed here.", http.StatusMethodNotAllowed)
		return
	}
	m, err := p.cfg.Meetings.JoinableMeeting(r.Context(), alias, id)
	if ucwad.ErrorCode(err) == ucwad.ENotFound {
		p.answerNotFound(w, r)
		return
	}
	if err != nil {
		p.cfg.Log.Error("join page: reading the meeting", "err", err)
		http.Error(w, "The server could not read the meeting. Try again in a moment.", http.StatusInternalServerError)
		return
	}
	var b bytes.Buffer
	if err := p.page.Execute(&b, pageData{MeetingURI: m.URI(), MeetingID: m.ID, Static: StaticPrefix}); err != nil {
		p.cfg.Log.Error("join page: rendering", "err", err)
		http.Error(w, "The server could not render the page.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// The page names the meeting: it is not kept by caches, and the link
	// (the meeting's key) is never sent on as a Referer.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(b.Bytes())
	}
}

// headers sets what every answer of the page carries.
func (p *Page) headers(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", p.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	// Audio and video are not served; the page never asks for them.
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
}

// answerNotFound is the 404 page: the same for a meeting that never
// existed, one deleted and one expired, so that the answer tells a
// stranger nothing about which.
func (p *Page) answerNotFound(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNotFound)
	if r.Method != http.MethodHead {
		w.Write(p.notFound)
	}
}

func (p *Page) serveStatic(w http.ResponseWriter, r *http.Request, name string) {
	p.headers(w)
	a, ok := p.static[name]
	if !ok {
		p.answerNotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "Only GET and HEAD are allowed here.", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("ETag", a.etag)
	// Revalidated each time: a new binary may bring a new script, and a
	// stale script against a new page would break.
	h.Set("Cache-Control", "no-cache")
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	// Compressed once rather than on every request (the server's gzip
	// layer leaves an answer that has its encoding alone).
	body := a.body
	h.Add("Vary", "Accept-Encoding")
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// acceptsGzip reports whether an Accept-Encoding value allows gzip (or *)
// with a non-zero quality.
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		q := 1.0
		if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				q = f
			}
		}
		if q > 0 {
			return true
		}
	}
	return false
}
