package ucwa

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var jsonInputSeeds = []string{
	`{"id" : "917823", "type" : "RoamedParticipantData"}`,
	`{"UserAgent":"mm_skype4b_plugin","EndpointId":"123","Culture":"en-US",}`,
	`{"subject":"s","attendees":["sip:a@x","sip:b@x",],"expirationTime":"\/Date(1474932029004)\/","n":-1.5e3,"t":true,"z":null}`,
	`{"rel":"x","_links":{"self":{"href":"/x"}},"_embedded":{"a":[{"rel":"a"}]},"obj":{"k":[1,{}]}}`,
	`{"a":"\ud83d\ude00\ud800\u0041","A":"dup","a\u0000":"nul name"}`,
	"{\"a\":\"\xff\"}",
	`{"a":[1,true,"x"]}`,
	`{"a":[null]}`,
	`{"a":[[1]]}`,
	`{"a":1,,}`,
	`[]`,
	` `,
}

// FuzzReadInputJSON checks that ReadInput never panics, fails only with an
// *InputError, agrees with encoding/json on every document encoding/json
// accepts, and reads back its own members unchanged.
func FuzzReadInputJSON(f *testing.F) {
	for _, s := range jsonInputSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := ReadInput(bytes.NewReader(data), "application/json")
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || ie.Unsupported {
				t.Fatalf("error %v is not a malformed-body *InputError", err)
			}
		}
		if json.Valid(data) {
			want, isObject, rejects := stdInputMembers(t, data)
			switch {
			case !isObject:
				if err == nil && len(bytes.TrimSpace(data)) > 0 {
					t.Fatalf("accepted a JSON %q that is not an object", data)
				}
			case rejects:
				if err == nil {
					t.Fatalf("accepted an array holding non-scalars: %q", data)
				}
			case err != nil:
				// Valid JSON may still hold text UCWA cannot carry in XML.
				var ie *InputError
				refusedText := errors.As(err, &ie) && ie.Refused
				if !strings.Contains(err.Error(), "nesting too deep") && !refusedText {
					t.Fatalf("rejected valid JSON %q: %v", data, err)
				}
			default:
				if got := in.Members(); !sameMembers(got, want) {
					t.Fatalf("members differ from encoding/json's reading of %q:\ngot  %#v\nwant %#v", data, got, want)
				}
			}
		}
		if err != nil {
			return
		}
		again, err := ReadInput(bytes.NewReader(inputAsJSON(in)), "application/json")
		if err != nil {
			t.Fatalf("re-reading %s: %v", inputAsJSON(in), err)
		}
		if !sameMembers(again.Members(), in.Members()) {
			t.Fatalf("round trip changed members:\ngot  %#v\nwant %#v", again.Members(), in.Members())
		}
	})
}

var xmlInputSeeds = []string{
	`<?xml version="1.0" encoding="utf-8"?><input xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa"><property name="id">917823</property><property name="type">RoamedParticipantData</property></input>`,
	`<input><property name="a" xsi:nil="true"/><propertyList name="l"><item>x</item><item/></propertyList></input>`,
	`<resource rel="x" href="/x" xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa"><link rel="a" href="/a"/><property name="rel">x</property><property name="s">&lt;&#xD;&#x10FFFF;</property><resource rel="e"><property name="k">v</property></resource></resource>`,
	`<input xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><property name="n" xsi:nil="1"/><property name="c"><![CDATA[]]>]]></property></input>`,
	`<input><property name="a"><b/></property></input>`,
	`<!DOCTYPE x><input/>`,
	`<input/><!-- trailing -->`,
	`<input`,
}

// FuzzReadInputXML checks that ReadInput never panics, fails only with an
// *InputError, and reads back its own members unchanged.
func FuzzReadInputXML(f *testing.F) {
	for _, s := range xmlInputSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := ReadInput(bytes.NewReader(data), "application/xml")
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || ie.Unsupported {
				t.Fatalf("error %v is not a malformed-body *InputError", err)
			}
			return
		}
		x := inputAsXML(in)
		again, err := ReadInput(bytes.NewReader(x), "application/xml")
		if err != nil {
			t.Fatalf("re-reading %s: %v", x, err)
		}
		if !sameMembers(again.Members(), in.Members()) {
			t.Fatalf("round trip changed members:\ngot  %#v\nwant %#v", again.Members(), in.Members())
		}
	})
}

// FuzzParseDate checks that ParseDate never panics and that every date it
// accepts survives both wire forms at their precision.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{
		"/Date(1474932029004)/", `\/Date(-1500-0100)\/`, "/Date(9223372036854775807)/", "/Date(-9223372036854775808+2359)/",
		"2016-09-26T16:20:29.0389049-07:00", "2013-02-07T01:17:18.000Z", "0000-01-01T00:00:00", "9999-12-31T23:59:59.999999999+0000",
		"2016-02-30T00:00:00Z", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseDate(s)
		if err != nil {
			return
		}
		ms := string(appendJSONDate(nil, tm))
		ms = strings.ReplaceAll(ms[1:len(ms)-1], `\/`, "/")
		back, err := ParseDate(ms)
		if err != nil {
			t.Fatalf("ParseDate(%q) = %v, but its JSON form %q does not parse: %v", s, tm, ms, err)
		}
		if back.UnixMilli() != tm.UnixMilli() {
			t.Fatalf("JSON form %q of %v reads back as %v", ms, tm, back)
		}
		if y := tm.UTC().Year(); y < 0 || y > 9999 {
			return
		}
		iso := string(appendISODate(nil, tm))
		back, err = ParseDate(iso)
		if err != nil {
			t.Fatalf("ParseDate(%q) = %v, but its XML form %q does not parse: %v", s, tm, iso, err)
		}
		// The seven fraction digits drop what is below 100 ns.
		if want := time.Unix(tm.Unix(), int64(tm.Nanosecond()/100*100)); !back.Equal(want) {
			t.Fatalf("XML form %q of %v reads back as %v", iso, tm, back)
		}
	})
}

// FuzzNegotiate checks that Negotiate never panics and always names one of
// the types it offers, consistently with the format.
func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{
		"", "*/*", "application/json", "application/xml;q=0.9, application/json;q=0.8", "application/json;q=0, */*",
		"application/vnd.microsoft.com.ucwa+xml", `text/html; a="x,y"; q=0.5, text/xml`, "*;q=.2", ";q=1,/,*/",
	} {
		f.Add(s)
	}
	allowed := map[string]Format{}
	for _, o := range offers {
		allowed[o.typ+"/"+o.sub+"; charset=utf-8"] = o.f
	}
	f.Fuzz(func(t *testing.T, accept string) {
		fm, ct := Negotiate(accept)
		want, ok := allowed[ct]
		if !ok {
			t.Fatalf("Negotiate(%q) answered content type %q", accept, ct)
		}
		if want != fm {
			t.Fatalf("Negotiate(%q) = %v with content type %q", accept, fm, ct)
		}
		if fm2, ct2 := Negotiate(accept); fm2 != fm || ct2 != ct {
			t.Fatalf("Negotiate(%q) is not deterministic", accept)
		}
		if fm == XML && !strings.Contains(strings.ToLower(accept), "xml") && !strings.Contains(accept, "0") {
			t.Fatalf("Negotiate(%q) chose XML without XML being asked for or JSON excluded", accept)
		}
	})
}

// FuzzDecode checks that the response decoders never panic on any input.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		string(mustMarshal(JSON, meeting(2))), string(mustMarshal(XML, meeting(2))),
		`{"_links":{"self":{"href":"/e"}},"sender":[{"rel":"me","events":[{"link":{},"_embedded":{"x":{}}}]}]}`,
		`<events href="/e"><sender rel="me"><added rel="a"><in/><reason><code>x</code></reason><resource/></added></sender></events>`,
		`<reason><parameters><property name="a">b</property></parameters></reason>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, fm := range []Format{JSON, XML} {
			if r, err := Decode(bytes.NewReader(data), fm); err == nil {
				if _, err := Marshal(fm, r); err != nil {
					t.Fatalf("decoded resource does not encode: %v", err)
				}
			}
			DecodeEventBatch(bytes.NewReader(data), fm)
			DecodeReason(bytes.NewReader(data), fm)
		}
	})
}

// stdInputMembers reads data with encoding/json's tokenizer and applies the
// ReadInput rules. rejects reports an array holding something other than
// strings, numbers and booleans in a member ReadInput keeps.
func stdInputMembers(t *testing.T, data []byte) (members []Member, isObject, rejects bool) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		t.Fatalf("encoding/json token on valid JSON: %v", err)
	}
	if tok != json.Delim('{') {
		return nil, false, false
	}
	in := &Input{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		name := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatal(err)
		}
		if reservedMember(name) {
			continue
		}
		vdec := json.NewDecoder(bytes.NewReader(raw))
		vdec.UseNumber()
		vt, _ := vdec.Token()
		switch v := vt.(type) {
		case nil:
			in.put(null(name))
		case bool:
			in.put(boolean(name, map[bool]string{true: "true", false: "false"}[v]))
		case json.Number:
			in.put(num(name, string(v)))
		case string:
			in.put(str(name, v))
		case json.Delim:
			if v == '{' {
				continue
			}
			m := list(name)
			for vdec.More() {
				it, _ := vdec.Token()
				switch it := it.(type) {
				case bool:
					m.List = append(m.List, map[bool]string{true: "true", false: "false"}[it])
				case json.Number:
					m.List = append(m.List, string(it))
				case string:
					m.List = append(m.List, it)
				default:
					rejects = true
					return nil, true, true
				}
			}
			in.put(m)
		}
	}
	return in.Members(), true, rejects
}

func sameMembers(a, b []Member) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

// inputAsJSON writes the members back as a JSON object.
func inputAsJSON(in *Input) []byte {
	b := []byte{'{'}
	for i, m := range in.Members() {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, m.Name)
		b = append(b, ':')
		switch m.Kind {
		case MemberNull:
			b = append(b, "null"...)
		case MemberNumber, MemberBool:
			b = append(b, m.Text...)
		case MemberList:
			b = appendJSONValue(b, Strings(m.List))
		default:
			b = appendJSONString(b, m.Text)
		}
	}
	return append(b, '}')
}

// inputAsXML writes the members back as an XML <input>.
func inputAsXML(in *Input) []byte {
	b := []byte(`<input xmlns="` + Namespace + `" xmlns:xsi="` + xsiNamespace + `">`)
	for _, m := range in.Members() {
		switch m.Kind {
		case MemberNull:
			b = append(b, `<property name="`...)
			b = appendXMLAttr(b, m.Name)
			b = append(b, `" xsi:nil="true"/>`...)
		case MemberList:
			b = appendXMLProperty(b, Property{Name: m.Name, Value: Strings(m.List)})
		default:
			b = appendXMLProperty(b, Property{Name: m.Name, Value: String(m.Text)})
		}
	}
	return append(b, `</input>`...)
}

// FuzzFoldKey checks that member names share an index key exactly when
// strings.EqualFold calls them equal.
func FuzzFoldKey(f *testing.F) {
	f.Add("UserAgent", "userAgent")
	f.Add("K", "\u212a")
	f.Add("\u017f", "S")
	f.Add("\xff", "\ufffd")
	f.Fuzz(func(t *testing.T, a, b string) {
		same := string(appendFoldKey(nil, a)) == string(appendFoldKey(nil, b))
		if same != strings.EqualFold(a, b) {
			t.Fatalf("fold keys of %q and %q equal = %v, EqualFold = %v", a, b, same, !same)
		}
	})
}
