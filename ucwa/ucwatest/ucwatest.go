// Package ucwatest helps test code that writes the UCWA wire format: golden
// files, and an XML tree for comparing documents by structure rather than
// by bytes. It uses only the standard library, so package ucwa's own tests
// can use it too.
package ucwatest

import (
	"bytes"
	"encoding/xml"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Golden compares got with testdata/name, or rewrites the file when the
// test runs with -update.
func Golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s:\ngot  %s\nwant %s", name, got, want)
	}
}

// Element is a small XML tree: whitespace-only text is dropped and other
// text trimmed, so indentation does not matter but element order does.
type Element struct {
	Name     xml.Name
	Attrs    []xml.Attr // sorted by namespace and name
	Text     string
	Children []*Element
}

// Attr returns the value of the unqualified attribute name, or "".
func (e *Element) Attr(name string) string {
	for _, a := range e.Attrs {
		if a.Name.Space == "" && a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// ParseXML reads data into a tree, failing the test if it is not XML.
func ParseXML(t testing.TB, data []byte) *Element {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	var stack []*Element
	var root *Element
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not XML: %v\n%s", err, data)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			e := &Element{Name: tk.Name, Attrs: slices.Clone(tk.Attr)}
			sort.Slice(e.Attrs, func(i, j int) bool {
				a, b := e.Attrs[i].Name, e.Attrs[j].Name
				return a.Space+" "+a.Local < b.Space+" "+b.Local
			})
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, e)
			} else {
				root = e
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(tk)
			}
		}
	}
	if root == nil {
		t.Fatalf("no XML element in %q", data)
	}
	var trim func(e *Element)
	trim = func(e *Element) {
		e.Text = strings.TrimSpace(e.Text)
		for _, c := range e.Children {
			trim(c)
		}
	}
	trim(root)
	return root
}
