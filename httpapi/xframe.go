package httpapi

import (
	"embed"
	"net/http"
	"strconv"

	"github.com/ucwad/ucwad"
)

// The xframe page: the HTML document browser apps on another origin load
// in a hidden iframe to reach the server through postMessage (UCWA's
// Cross_domainIFRAME.md), and its script, a separate file so that the page
// can forbid inline script.
//
//go:embed xframe/XFrame.html xframe/XFrame.js
var xframeFiles embed.FS

// XFramePath is where the root resource's xframe link points.
const XFramePath = "/Autodiscover/XFrame/XFrame.html"

// XFrameScriptPath is the xframe page's script.
const XFrameScriptPath = "/Autodiscover/XFrame/XFrame.js"

// XFramePaths are the paths the composition root mounts XFrame at: the
// linked page, the page where Microsoft's sample library looks first
// (https://<discovery host>/xframe), the path of the reference
// documentation, and the script.
var XFramePaths = []string{XFramePath, "/xframe", rootPath + "/xframe", XFrameScriptPath}

// XFrame returns the handler of the xframe page and its script, for the
// paths in XFramePaths, or nil when no origin is allowed: the page would
// relay nothing, so it is neither served nor linked.
func (s *Server) XFrame() http.Handler {
	if len(s.origins) == 0 {
		return nil
	}
	page, _ := xframeFiles.ReadFile("xframe/XFrame.html")
	script, _ := xframeFiles.ReadFile("xframe/XFrame.js")
	// The page loads its script from here and talks to nothing else. Any
	// page may frame it, as a Front End's: what it relays for an origin
	// not on the list is refused by the server (crossOrigin) with the
	// reason Microsoft's sample library shows its developer, where a
	// frame-ancestors refusal would leave the library waiting.
	const csp = "default-src 'none'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			c := newCall(r)
			c.base = s.baseURL(r)
			w.Header().Set("Allow", "GET, HEAD")
			w.Header().Set("X-MS-UcwaVersion", ucwaVersion)
			noteError(r, string(ucwad.EMethodNotAllowed), "")
			s.renderError(w, r, c, ucwad.Errorf(ucwad.EMethodNotAllowed, "", "The method %s is not allowed on this resource.", r.Method))
			return
		}
		body, ctype := page, "text/html; charset=utf-8"
		if r.URL.Path == XFrameScriptPath {
			body, ctype = script, "text/javascript; charset=utf-8"
		}
		h := w.Header()
		h.Set("Content-Type", ctype)
		h.Set("Content-Security-Policy", csp)
		h.Set("Content-Length", strconv.Itoa(len(body)))
		h.Set("X-MS-UcwaVersion", ucwaVersion)
		// The allow-list can change with a restart; the page is small.
		noCache(h)
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			w.Write(body)
		}
	})
}
