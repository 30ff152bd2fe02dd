package ucwa

import (
	"reflect"
	"strconv"
	"testing"
	"time"
)

func TestValues(t *testing.T) {
	tm := time.Date(2016, 9, 26, 23, 20, 29, 38904900, time.UTC)
	tests := []struct {
		v    Value
		kind Kind
		text string
	}{
		{Value{}, KindString, ""},
		{String("x"), KindString, "x"},
		{Int(-7), KindInt, "-7"},
		{Bool(true), KindBool, "True"},
		{Bool(false), KindBool, "False"},
		{Date(tm), KindDate, "2016-09-26T23:20:29.0389049Z"},
		{Strings([]string{"a", "b"}), KindStrings, "a,b"},
		{Strings(nil), KindStrings, ""},
	}
	for _, tt := range tests {
		if tt.v.Kind() != tt.kind || tt.v.Text() != tt.text {
			t.Errorf("%#v: kind %v text %q, want %v %q", tt.v, tt.v.Kind(), tt.v.Text(), tt.kind, tt.text)
		}
	}
	// Accessors answer only for their own kind.
	if String("x").Str() != "x" || Int(1).Str() != "" || Int(5).IntVal() != 5 || String("5").IntVal() != 0 ||
		!Bool(true).BoolVal() || Int(1).BoolVal() || !Date(tm).DateVal().Equal(tm) || !String("").DateVal().IsZero() ||
		!reflect.DeepEqual(Strings([]string{"a"}).StringsVal(), []string{"a"}) || String("a").StringsVal() != nil {
		t.Error("an accessor answered for the wrong kind")
	}
	// Strings copies in and out.
	in := []string{"a"}
	v := Strings(in)
	in[0] = "changed"
	v.StringsVal()[0] = "changed"
	if v.StringsVal()[0] != "a" {
		t.Error("Strings value shares its slice")
	}

	equal := []struct {
		a, b Value
		want bool
	}{
		{String("a"), String("a"), true},
		{String("1"), Int(1), false},
		{Int(1), Bool(true), false},
		{Date(tm), Date(tm.In(time.FixedZone("", 3600))), true},
		{Date(tm), Date(tm.Add(1)), false},
		{Strings(nil), Strings([]string{}), true},
		{Strings([]string{"a"}), Strings([]string{"b"}), false},
	}
	for _, tt := range equal {
		if got := tt.a.Equal(tt.b); got != tt.want {
			t.Errorf("%v.Equal(%v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
	if KindStrings.String() != "strings" || Kind(42).String() != "Kind(42)" || XML.String() != "xml" ||
		MemberList.String() != "list" || Format(5).String() != "Format(5)" {
		t.Error("String methods")
	}
}

func TestResourceProperties(t *testing.T) {
	r := New("x", "/x").Set("a", Int(1)).Set("b", Int(2)).Set("c", Int(3))
	r.Set("b", String("two")) // in place
	r.Delete("a")
	r.Delete("missing")
	r.Set("rel", String("y"))
	want := []Property{{"b", String("two")}, {"c", Int(3)}}
	if got := r.Props(); !reflect.DeepEqual(got, want) {
		t.Errorf("props = %v, want %v", got, want)
	}
	if r.Rel != "y" {
		t.Errorf("Set(rel) gave Rel %q", r.Rel)
	}
	if v, ok := r.Get("b"); !ok || v.Str() != "two" {
		t.Errorf("Get(b) = %v, %v", v, ok)
	}
	if _, ok := r.Get("B"); ok {
		t.Error("Get is case-sensitive on output resources")
	}
	r.Props()[0].Name = "changed"
	if r.Props()[0].Name != "b" {
		t.Error("Props shares its slice")
	}
	for _, name := range []string{"_links", "_embedded"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Set(%q) did not panic", name)
				}
			}()
			r.Set(name, String("x"))
		}()
	}
}

func TestResourceLinks(t *testing.T) {
	r := New("x", "/x").
		Link("a", "/a").
		LinkArray("m", []Link{{Rel: "wrong", Href: "/1"}, {Href: "/2", Title: "T"}}).
		AddLink(Link{Rel: "b", Href: "/b", Revision: "2"}).
		Link("a", "/a2")
	want := []LinkGroup{
		{Rel: "a", Links: []Link{{Rel: "a", Href: "/a2"}}},
		{Rel: "m", Array: true, Links: []Link{{Rel: "m", Href: "/1"}, {Rel: "m", Href: "/2", Title: "T"}}},
		{Rel: "b", Links: []Link{{Rel: "b", Href: "/b", Revision: "2"}}},
	}
	if got := r.Links(); !reflect.DeepEqual(got, want) {
		t.Errorf("links:\ngot  %+v\nwant %+v", got, want)
	}
	finds := []struct {
		rel  string
		want Link
		ok   bool
	}{
		{"self", Link{Rel: "self", Href: "/x"}, true},
		{"m", Link{Rel: "m", Href: "/1"}, true},
		{"b", Link{Rel: "b", Href: "/b", Revision: "2"}, true},
		{"none", Link{}, false},
	}
	for _, tt := range finds {
		if got, ok := r.FindLink(tt.rel); got != tt.want || ok != tt.ok {
			t.Errorf("FindLink(%q) = %+v, %v; want %+v, %v", tt.rel, got, ok, tt.want, tt.ok)
		}
	}
	r.Links()[0].Links[0].Href = "changed"
	if l, _ := r.FindLink("a"); l.Href != "/a2" {
		t.Error("Links shares its slices")
	}

	r.Link("self", "/y")
	if r.Href != "/y" || len(r.Links()) != 3 {
		t.Errorf("Link(self) gave Href %q and %d groups", r.Href, len(r.Links()))
	}
	r.LinkArray("self", []Link{{Href: "/z"}})
	if r.Href != "/z" {
		t.Errorf("LinkArray(self) gave Href %q", r.Href)
	}
	r.DeleteLink("m")
	r.DeleteLink("self")
	if _, ok := r.FindLink("m"); ok {
		t.Error("DeleteLink(m) left the rel")
	}
	if _, ok := r.FindLink("self"); ok || r.Href != "" {
		t.Error("DeleteLink(self) left Href")
	}
}

func TestResourceEmbedded(t *testing.T) {
	a, b, c := New("a", "/a"), New("b", "/b"), New("c", "/c")
	r := New("x", "/x").Embed("one", a).EmbedArray("many", []*Resource{b, nil, c}).EmbedArray("none", nil)
	want := []EmbedGroup{
		{Rel: "one", Resources: []*Resource{a}},
		{Rel: "many", Array: true, Resources: []*Resource{b, c}},
		{Rel: "none", Array: true, Resources: []*Resource{}},
	}
	if got := r.Embedded(); !reflect.DeepEqual(got, want) {
		t.Errorf("embedded:\ngot  %+v\nwant %+v", got, want)
	}
	if got := r.FindEmbedded("many"); len(got) != 2 || got[0] != b || got[1] != c {
		t.Errorf("FindEmbedded(many) = %v", got)
	}
	if got := r.FindEmbedded("missing"); got != nil {
		t.Errorf("FindEmbedded(missing) = %v", got)
	}
	r.Embed("many", c) // replaces in place, now single
	if g := r.Embedded()[1]; g.Rel != "many" || g.Array || len(g.Resources) != 1 || g.Resources[0] != c {
		t.Errorf("Embed over an array group gave %+v", g)
	}
	r.Embed("one", nil)
	if r.FindEmbedded("one") != nil || len(r.Embedded()) != 2 {
		t.Error("Embed(nil) did not remove the rel")
	}
}

func TestResourceIndexAfterCopyAndDelete(t *testing.T) {
	r := New("x", "")
	for i := range indexFrom + 5 {
		r.Set("p"+strconv.Itoa(i), Int(int64(i)))
	}
	r.Delete("p3")
	if _, ok := r.Get("p3"); ok {
		t.Error("p3 still there after Delete")
	}
	if v, ok := r.Get("p20"); !ok || v.IntVal() != 20 {
		t.Errorf("p20 = %v, %v after Delete", v, ok)
	}
	r.Set("p3", Int(3))
	// A copy shares the index (and, as with any Go slice, the storage): the
	// index must never make the original answer for the copy's additions.
	c := *r
	c.Set("onlyCopy", Int(1))
	if v, ok := c.Get("onlyCopy"); !ok || v.IntVal() != 1 {
		t.Errorf("copy: onlyCopy = %v, %v", v, ok)
	}
	if _, ok := r.Get("onlyCopy"); ok {
		t.Error("original sees the copy's property")
	}
	r.Set("onlyOriginal", Int(2))
	for name, want := range map[string]int64{"onlyOriginal": 2, "p20": 20, "p3": 3, "p0": 0} {
		if v, ok := r.Get(name); !ok || v.IntVal() != want {
			t.Errorf("%s = %v, %v; want %d", name, v, ok, want)
		}
	}
}
