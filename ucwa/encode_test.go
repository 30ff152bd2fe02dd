package ucwa

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ucwad/ucwad/ucwa/ucwatest"
)

func marshal(t *testing.T, f Format, r *Resource) []byte {
	t.Helper()
	b, err := Marshal(f, r)
	if err != nil {
		t.Fatalf("Marshal(%v): %v", f, err)
	}
	var buf bytes.Buffer
	if err := Encode(&buf, f, r); err != nil {
		t.Fatalf("Encode(%v): %v", f, err)
	}
	if !bytes.Equal(buf.Bytes(), b) {
		t.Fatalf("Encode and Marshal differ:\n%s\n%s", buf.Bytes(), b)
	}
	return b
}

func TestGoldenResources(t *testing.T) {
	tests := []struct {
		name string
		r    *Resource
	}{
		{"extensions", seedExtensions()},
		{"extension", seedExtension()},
		{"meeting", meeting(2)},
		{"empty-collection", New("myOnlineMeetings", "/ucwa/oauth/v1/applications/103/onlineMeetings/myOnlineMeetings").
			EmbedArray("myOnlineMeeting", nil).EmbedArray("myAssignedOnlineMeeting", []*Resource{})},
		{"no-links", New("operationsQueued", "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ucwatest.Golden(t, tt.name+".json", marshal(t, JSON, tt.r))
			ucwatest.Golden(t, tt.name+".xml", marshal(t, XML, tt.r))
		})
	}
}

// TestSeedExamples checks that our output for the reference page's
// resources has the structure of the page's examples, whitespace aside.
func TestSeedExamples(t *testing.T) {
	tests := []struct {
		seed string
		r    *Resource
	}{
		{"extensions", seedExtensions()},
		{"extension", seedExtension()},
	}
	for _, tt := range tests {
		t.Run(tt.seed, func(t *testing.T) {
			t.Run("json", func(t *testing.T) {
				compareJSON(t, marshal(t, JSON, tt.r), readTestdata(t, "seed/"+tt.seed+".json"))
			})
			t.Run("xml", func(t *testing.T) {
				compareXML(t, marshal(t, XML, tt.r), readTestdata(t, "seed/"+tt.seed+".xml"))
			})
		})
	}
}

// TestSeedDecode reads the reference examples with Decode and expects the
// resources the page describes.
func TestSeedDecode(t *testing.T) {
	for _, tt := range []struct {
		file string
		f    Format
		want *Resource
	}{
		{"seed/extensions.json", JSON, seedExtensions()},
		{"seed/extension.json", JSON, seedExtension()},
		{"seed/extensions.xml", XML, asXMLDecodes(seedExtensions())},
		{"seed/extension.xml", XML, seedExtension()},
	} {
		t.Run(tt.file, func(t *testing.T) {
			got, err := Decode(bytes.NewReader(readTestdata(t, tt.file)), tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if d := diffResources(got, tt.want); d != "" {
				t.Error(d)
			}
		})
	}
}

func TestJSONDetails(t *testing.T) {
	tests := []struct {
		name string
		r    *Resource
		want string
	}{
		{"date escapes slashes", New("x", "").Set("d", Date(time.UnixMilli(1474932029004))),
			`{"rel":"x","d":"\/Date(1474932029004)\/"}`},
		{"date before epoch", New("x", "").Set("d", Date(time.UnixMilli(-1500))),
			`{"rel":"x","d":"\/Date(-1500)\/"}`},
		{"date in another zone", New("x", "").Set("d", Date(time.UnixMilli(1000).In(time.FixedZone("", -7*3600)))),
			`{"rel":"x","d":"\/Date(1000)\/"}`},
		{"scalars", New("x", "").Set("i", Int(-42)).Set("t", Bool(true)).Set("f", Bool(false)).Set("s", String("")),
			`{"rel":"x","i":-42,"t":true,"f":false,"s":""}`},
		{"lists", New("x", "").Set("a", Strings(nil)).Set("b", Strings([]string{"1", "2"})),
			`{"rel":"x","a":[],"b":["1","2"]}`},
		{"escaping", New("x", "").Set("s", String("a\"b\\c\n\t\x01<&>/\u2028\xff")),
			`{"rel":"x","s":"a\"b\\c\n\t\u0001<&>/\u2028\ufffd"}`},
		{"self first then links in order", New("x", "/x").Link("b", "/b").Link("a", "/a"),
			`{"rel":"x","_links":{"self":{"href":"/x"},"b":{"href":"/b"},"a":{"href":"/a"}}}`},
		{"link replaced in place", New("x", "/x").Link("b", "/b").Link("a", "/a").AddLink(Link{Rel: "b", Href: "/b2", Title: "T"}),
			`{"rel":"x","_links":{"self":{"href":"/x"},"b":{"href":"/b2","title":"T"},"a":{"href":"/a"}}}`},
		{"array rels", New("x", "").LinkArray("none", nil).LinkArray("one", []Link{{Href: "/1", Revision: "2"}}),
			`{"rel":"x","_links":{"none":[],"one":[{"href":"/1","revision":"2"}]}}`},
		{"links without self", New("x", "").Link("a", "/a"),
			`{"rel":"x","_links":{"a":{"href":"/a"}}}`},
		{"no rel", &Resource{}, `{}`},
		{"embedded key differs from inner rel", New("message", "/m").Embed("from", New("participant", "/p")),
			`{"rel":"message","_links":{"self":{"href":"/m"}},"_embedded":{"from":{"rel":"participant","_links":{"self":{"href":"/p"}}}}}`},
		{"embed nil removes", New("x", "").Embed("a", New("a", "")).Embed("a", nil), `{"rel":"x"}`},
		{"embed array drops nil", New("x", "").EmbedArray("a", []*Resource{nil, New("a", ""), nil}),
			`{"rel":"x","_embedded":{"a":[{"rel":"a"}]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := marshal(t, JSON, tt.r)
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("not valid JSON: %s", got)
			}
		})
	}
}

func TestXMLDetails(t *testing.T) {
	const open = `<?xml version="1.0" encoding="utf-8"?><resource rel="x" href="/x" xmlns="` + Namespace + `">`
	tests := []struct {
		name string
		r    *Resource
		want string
	}{
		{"scalars", New("x", "/x").Set("i", Int(7)).Set("t", Bool(true)).Set("f", Bool(false)).
			Set("d", Date(time.Date(2016, 9, 26, 16, 20, 29, 38904912, time.FixedZone("", -7*3600)))),
			open + `<property name="rel">x</property><property name="i">7</property><property name="t">True</property>` +
				`<property name="f">False</property><property name="d">2016-09-26T23:20:29.0389049Z</property></resource>`},
		{"lists", New("x", "/x").Set("l", Strings([]string{"a", "b"})).Set("e", Strings(nil)),
			open + `<property name="rel">x</property><propertyList name="l"><item>a</item><item>b</item></propertyList>` +
				`<propertyList name="e"></propertyList></resource>`},
		{"links before properties, arrays repeated", New("x", "/x").Set("p", String("v")).
			AddLink(Link{Rel: "a", Href: "/a?x=1&y=2", Title: `T "q"`, Revision: "2"}).
			LinkArray("m", []Link{{Href: "/1"}, {Href: "/2"}}),
			open + `<link rel="a" href="/a?x=1&amp;y=2" title="T &quot;q&quot;" revision="2"/><link rel="m" href="/1"/>` +
				`<link rel="m" href="/2"/><property name="rel">x</property><property name="p">v</property></resource>`},
		{"escaping", New("x", "/x").Set("s", String("<a&b>\"'\r\n\t\x00\uffff")),
			open + `<property name="rel">x</property><property name="s">&lt;a&amp;b&gt;"'&#xD;` + "\n\t\uFFFD\uFFFD" + `</property></resource>`},
		{"embedded by link rel", New("x", "/x").Embed("from", New("participant", "/p").Link("contact", "/c")),
			open + `<property name="rel">x</property><resource rel="from" href="/p"><link rel="contact" href="/c"/>` +
				`<property name="rel">participant</property></resource></resource>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := marshal(t, XML, tt.r)
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if err := xml.Unmarshal(got, new(struct{})); err != nil {
				t.Errorf("not well-formed XML: %v", err)
			}
		})
	}
}

func TestRoundTripResource(t *testing.T) {
	tests := []struct {
		name string
		r    *Resource
	}{
		{"extensions", seedExtensions()},
		{"meeting", meeting(3)},
		{"meeting one extension", meeting(1)},
		{"empty", &Resource{}},
		{"nested", New("a", "/a").Embed("b", New("b", "/b").EmbedArray("c", []*Resource{New("c", "/c1"), New("c", "/c2").Set("n", Int(1))}))},
		{"odd names", New("x", "/x").Set("name with spaces & <stuff>", String("\x7f ok")).Set("", String("empty name"))},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/json", func(t *testing.T) {
			got, err := Decode(bytes.NewReader(marshal(t, JSON, tt.r)), JSON)
			if err != nil {
				t.Fatal(err)
			}
			if d := diffResources(got, tt.r); d != "" {
				t.Error(d)
			}
		})
		t.Run(tt.name+"/xml", func(t *testing.T) {
			got, err := Decode(bytes.NewReader(marshal(t, XML, tt.r)), XML)
			if err != nil {
				t.Fatal(err)
			}
			if d := diffResources(got, asXMLDecodes(tt.r)); d != "" {
				t.Error(d)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		f    Format
		in   string
	}{
		{"json array", JSON, `[]`},
		{"json truncated", JSON, `{"rel":"x"`},
		{"json garbage after", JSON, `{} {}`},
		{"json too deep", JSON, strings.Repeat(`{"a":`, maxDepth+1) + `1` + strings.Repeat(`}`, maxDepth+1)},
		{"xml wrong root", XML, `<input xmlns="` + Namespace + `"/>`},
		{"xml other namespace", XML, `<resource xmlns="urn:x"/>`},
		{"xml unclosed", XML, `<resource rel="x">`},
		{"xml two roots", XML, `<resource/><resource/>`},
		{"xml doctype", XML, `<!DOCTYPE resource><resource/>`},
		{"xml too deep", XML, strings.Repeat(`<resource>`, maxDepth+1) + strings.Repeat(`</resource>`, maxDepth+1)},
		{"unknown format", Format(7), `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r, err := Decode(strings.NewReader(tt.in), tt.f); err == nil {
				t.Errorf("got %+v, want an error", r)
			}
		})
	}
}

// TestDecodeLenient covers shapes Decode meets in other servers' output.
func TestDecodeLenient(t *testing.T) {
	in := `{"rel":"x","big":12345678901234567890,"frac":1.5,"nul":null,"obj":{"a":1},"mixed":[1,true,"s"],` +
		`"objs":[{}],"iso":"2016-09-26T23:20:29Z","date":"\/Date(1000+0200)\/",` +
		`"_links":{"self":{"href":"/x"},"a":{"href":"/a","title":"T","revision":2},"l":[{"href":"/1"},"junk"],"bad":"s"},` +
		`"_embedded":{"e":{"rel":"e"},"arr":[{"rel":"e2"},3],"bad":1},}`
	got, err := Decode(strings.NewReader(in), JSON)
	if err != nil {
		t.Fatal(err)
	}
	want := New("x", "/x").
		Set("big", String("12345678901234567890")).
		Set("frac", String("1.5")).
		Set("mixed", Strings([]string{"1", "true", "s"})).
		Set("iso", String("2016-09-26T23:20:29Z")).
		Set("date", Date(time.UnixMilli(1000))).
		AddLink(Link{Rel: "a", Href: "/a", Title: "T", Revision: "2"}).
		LinkArray("l", []Link{{Href: "/1"}}).
		Embed("e", New("e", "")).
		EmbedArray("arr", []*Resource{New("e2", "")})
	if d := diffResources(got, want); d != "" {
		t.Error(d)
	}

	xin := `<?xml version="1.0"?><!-- c --><resource rel="x" href="/x"><link rel="self" href="/y"/>` +
		`<property name="a" xsi:nil="true"/><property name="b"><![CDATA[<b>]]></property><unknown><x/></unknown>` +
		`<property name="rel">real</property></resource><!-- after -->`
	got, err = Decode(strings.NewReader(xin), XML)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffResources(got, New("real", "/y").Set("b", String("<b>"))); d != "" {
		t.Error(d)
	}
}

type failWriter struct{}

var errWrite = errors.New("write failed")

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestEncodeErrors(t *testing.T) {
	if err := Encode(failWriter{}, JSON, seedExtension()); !errors.Is(err, errWrite) {
		t.Errorf("Encode to failing writer: got %v, want %v", err, errWrite)
	}
	if err := Encode(&bytes.Buffer{}, Format(9), seedExtension()); err == nil {
		t.Error("Encode with unknown format: got nil error")
	}
	if err := Encode(&bytes.Buffer{}, JSON, nil); err == nil {
		t.Error("Encode(nil): got nil error")
	}
	if _, err := Marshal(Format(-1), seedExtension()); err == nil {
		t.Error("Marshal with unknown format: got nil error")
	}
	if err := EncodeReason(&bytes.Buffer{}, JSON, nil); err == nil {
		t.Error("EncodeReason(nil): got nil error")
	}
	if err := EncodeEventBatch(&bytes.Buffer{}, JSON, nil); err == nil {
		t.Error("EncodeEventBatch(nil): got nil error")
	}
	bad := &EventBatch{Senders: []EventSender{{Events: []EventEntry{{Type: "add ed"}}}}}
	if err := EncodeEventBatch(&bytes.Buffer{}, XML, bad); err == nil {
		t.Error("EncodeEventBatch with a non-word type: got nil error")
	}
}
