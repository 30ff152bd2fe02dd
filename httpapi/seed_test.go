package httpapi_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ucwad/ucwad/ucwa"
	"github.com/ucwad/ucwad/ucwa/ucwatest"
)

// The examples of the seed page (the onlineMeetingExtensions reference),
// kept by package ucwa for its own tests.
const seedDir = "../ucwa/testdata/seed"

func readSeed(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(seedDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSeedReplay sends every request of the seed page, with its method
// spelling, headers and bodies, to hrefs found by following links from the
// application, and compares each answer's structure with the page's
// example: the same members, nesting and value types, the same values but
// for hrefs (ours are real ones), plus only the documented additions (etag
// and the PUT sentinel).
func TestSeedReplay(t *testing.T) {
	for _, tc := range []struct {
		format, media, ext string
	}{
		{"json", "application/json", "json"},
		{"xml", "application/xml", "xml"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			e := newEnv(t)
			s := e.signIn("alice", "seed-"+tc.format)
			m := s.schedule(t, `{"subject":"seed replay"}`)
			extensions := link(t, m, "onlineMeetingExtensions")

			// POST, as on the page: 201 Created, an ETag, the extension.
			post := s.do(req{method: "Post", url: extensions, body: readSeed(t, "extension-input."+tc.ext),
				header: map[string]string{"Content-Type": tc.media, "Accept": tc.media}})
			post.wantStatus(t, http.StatusCreated)
			wantContentType(t, post, tc.media)
			checkShape(t, tc.format, post.body, readSeed(t, "extension."+tc.ext))
			x := post.resource(t)
			if etag := post.Header.Get("ETag"); etag == "" || etag != `"`+str(t, x, "etag")+`"` {
				t.Errorf("ETag header %q, etag property %q: want the quoted property", etag, str(t, x, "etag"))
			}
			if want := extensions + "/917823"; x.Href != want {
				t.Errorf("extension href %q, want %q (its own, not the page's placeholder)", x.Href, want)
			}

			// GET, as on the page: 200 OK and the collection holding it.
			get := s.do(req{method: "Get", url: extensions, header: map[string]string{"Accept": tc.media}})
			get.wantStatus(t, http.StatusOK)
			wantContentType(t, get, tc.media)
			checkShape(t, tc.format, get.body, readSeed(t, "extensions."+tc.ext))
			if got := get.resource(t).FindEmbedded("onlineMeetingExtension"); len(got) != 1 || got[0].Href != x.Href {
				t.Errorf("collection embeds %d extensions, want the one just posted at %s", len(got), x.Href)
			}
		})
	}
}

func wantContentType(t *testing.T, r *resp, media string) {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, media) {
		t.Errorf("%s %s: Content-Type %q, want %s", r.Request.Method, r.Request.URL, ct, media)
	}
}

// reSentinelName is the shape of a PUT sentinel property's name.
var reSentinelName = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// documentedAddition reports whether a property the reference example does
// not show may still be in our answer: the etag property and the PUT
// sentinel (format.md §2).
func documentedAddition(name, value string) bool {
	return name == "etag" || reSentinelName.MatchString(name) && value == ucwa.PutSentinel
}

// checkShape compares an answer with a reference example of its format.
func checkShape(t *testing.T, format string, got []byte, want string) {
	t.Helper()
	var diffs []string
	if format == "json" {
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("answer is not JSON: %v\n%s", err, got)
		}
		if err := json.Unmarshal([]byte(want), &w); err != nil {
			t.Fatalf("example is not JSON: %v", err)
		}
		diffJSONShape(&diffs, "$", g, w)
	} else {
		diffXMLShape(&diffs, "", ucwatest.ParseXML(t, got), ucwatest.ParseXML(t, []byte(want)))
	}
	for _, d := range diffs {
		t.Error(d)
	}
	if len(diffs) > 0 {
		t.Logf("answer: %s", got)
	}
}

func diffJSONShape(diffs *[]string, path string, got, want any) {
	if fmt.Sprintf("%T", got) != fmt.Sprintf("%T", want) {
		*diffs = append(*diffs, fmt.Sprintf("%s: got %T %v, want %T %v", path, got, got, want, want))
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(w)) {
			gv, ok := g[k]
			if !ok {
				*diffs = append(*diffs, fmt.Sprintf("%s: missing member %q", path, k))
				continue
			}
			if k == "href" {
				if s, _ := gv.(string); s == "" {
					*diffs = append(*diffs, fmt.Sprintf("%s.href: got %v, want a non-empty string", path, gv))
				}
				continue
			}
			diffJSONShape(diffs, path+"."+k, gv, w[k])
		}
		for _, k := range slices.Sorted(maps.Keys(g)) {
			if _, ok := w[k]; ok {
				continue
			}
			if v, isString := g[k].(string); !isString || !documentedAddition(k, v) {
				*diffs = append(*diffs, fmt.Sprintf("%s: unexpected member %q", path, k))
			}
		}
	case []any:
		g := got.([]any)
		if len(g) != len(w) {
			*diffs = append(*diffs, fmt.Sprintf("%s: got %d elements, want %d", path, len(g), len(w)))
			return
		}
		for i := range w {
			diffJSONShape(diffs, fmt.Sprintf("%s[%d]", path, i), g[i], w[i])
		}
	default:
		if got != want {
			*diffs = append(*diffs, fmt.Sprintf("%s: got %v, want %v", path, got, want))
		}
	}
}

// diffXMLShape compares element names, attribute names and values (but
// href values), text, and children in order; our answer may hold extra
// <property> children that are documented additions.
func diffXMLShape(diffs *[]string, path string, got, want *ucwatest.Element) {
	path += "/" + want.Name.Local
	if r := want.Attr("rel"); r != "" {
		path += "[" + r + "]"
	}
	if got.Name != want.Name {
		*diffs = append(*diffs, fmt.Sprintf("%s: got element %v, want %v", path, got.Name, want.Name))
		return
	}
	if len(got.Attrs) != len(want.Attrs) {
		*diffs = append(*diffs, fmt.Sprintf("%s: got attributes %v, want %v", path, got.Attrs, want.Attrs))
	} else {
		for i, wa := range want.Attrs {
			ga := got.Attrs[i]
			if ga.Name != wa.Name || (wa.Name.Local != "href" && ga.Value != wa.Value) || ga.Value == "" {
				*diffs = append(*diffs, fmt.Sprintf("%s: got attribute %v=%q, want %v=%q", path, ga.Name, ga.Value, wa.Name, wa.Value))
			}
		}
	}
	if got.Text != want.Text {
		*diffs = append(*diffs, fmt.Sprintf("%s: got text %q, want %q", path, got.Text, want.Text))
	}
	var children []*ucwatest.Element
	for _, c := range got.Children {
		if c.Name.Local == "property" && documentedAddition(c.Attr("name"), c.Text) {
			continue
		}
		children = append(children, c)
	}
	if len(children) != len(want.Children) {
		*diffs = append(*diffs, fmt.Sprintf("%s: got %d children (besides documented additions), want %d", path, len(children), len(want.Children)))
		return
	}
	for i := range want.Children {
		diffXMLShape(diffs, path, children[i], want.Children[i])
	}
}
