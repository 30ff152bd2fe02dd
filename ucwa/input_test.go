package ucwa

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func readInput(t *testing.T, body, contentType string) *Input {
	t.Helper()
	in, err := ReadInput(strings.NewReader(body), contentType)
	if err != nil {
		t.Fatalf("ReadInput(%q, %q): %v", body, contentType, err)
	}
	return in
}

func str(name, text string) Member  { return Member{Name: name, Kind: MemberString, Text: text} }
func num(name, text string) Member  { return Member{Name: name, Kind: MemberNumber, Text: text} }
func null(name string) Member       { return Member{Name: name, Kind: MemberNull} }
func boolean(name, t string) Member { return Member{Name: name, Kind: MemberBool, Text: t} }
func list(name string, items ...string) Member {
	return Member{Name: name, Kind: MemberList, List: append([]string{}, items...)}
}

func TestReadInput(t *testing.T) {
	const ns = ` xmlns="http://schemas.microsoft.com/rtc/2012/03/ucwa"`
	tests := []struct {
		name, ct, body string
		want           []Member
	}{
		{"seed json", "application/json", string(mustRead("seed/extension-input.json")),
			[]Member{str("id", "917823"), str("type", "RoamedParticipantData")}},
		{"seed xml", "application/xml", string(mustRead("seed/extension-input.xml")),
			[]Member{str("id", "917823"), str("type", "RoamedParticipantData")}},
		{"pascal case with trailing comma", "application/json",
			`{"UserAgent":"mm_skype4b_plugin","EndpointId":"123","Culture":"en-US",}`,
			[]Member{str("UserAgent", "mm_skype4b_plugin"), str("EndpointId", "123"), str("Culture", "en-US")}},
		{"all kinds", "application/vnd.microsoft.com.ucwa+json; charset=UTF-8",
			`{"s":"x","n":-1.5e3,"t":true,"f":false,"z":null,"l":["a",1,true,],"e":[]}`,
			[]Member{str("s", "x"), num("n", "-1.5e3"), boolean("t", "true"), boolean("f", "false"), null("z"),
				list("l", "a", "1", "true"), list("e")}},
		{"links, embedded, rel, href and objects skipped", "application/json",
			`{"rel":"myOnlineMeeting","Href":"/x","subject":"s","_links":{"self":{"href":"/x"}},` +
				`"_embedded":{"a":[{"rel":"a"}]},"obj":{"k":"v"},"unknownThing":"kept"}`,
			[]Member{str("subject", "s"), str("unknownThing", "kept")}},
		{"duplicates keep first position and last value", "application/json",
			`{"subject":"a","x":1,"Subject":"b","x":{"ignored":true}}`,
			[]Member{str("Subject", "b"), num("x", "1")}},
		{"escapes", "application/json", `{"s":"a\"\\\/\n\r\t\u00e9\ud83d\ude00x\ufffd"}`,
			[]Member{str("s", "a\"\\/\n\r\t\u00e9\U0001F600x\uFFFD")}},
		{"bom", "application/json", "\xef\xbb\xbf{\"a\":\"b\"}", []Member{str("a", "b")}},
		{"empty object", "application/json", ` { } `, nil},
		{"sniffed json", "", ` {"a":"b"}`, []Member{str("a", "b")}},
		{"sniffed xml", "", `<input><property name="a">b</property></input>`, []Member{str("a", "b")}},

		{"xml input without namespace", "text/xml", `<input><property name="subject">Hi &amp; bye</property></input>`,
			[]Member{str("subject", "Hi & bye")}},
		{"xml all forms", "application/vnd.microsoft.com.ucwa+xml",
			`<?xml version="1.0" encoding="utf-8"?><input` + ns + ` xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
				"\n  <property name=\"empty\"/>\n  <property name=\"ws\"> a </property>" +
				`<property name="n" xsi:nil="true"/><property name="n2" xsi:nil="false">v</property>` +
				`<propertyList name="attendees"><item>sip:a@x</item> <item></item></propertyList>` +
				`<propertyList name="none"/><property name="c"><![CDATA[<x>]]></property><!-- c --></input>`,
			[]Member{str("empty", ""), str("ws", " a "), null("n"), str("n2", "v"), list("attendees", "sip:a@x", ""),
				list("none"), str("c", "<x>")}},
		{"xml nil with undeclared prefix", "application/xml", `<input><property name="a" xsi:nil="true"/></input>`,
			[]Member{null("a")}},
		{"xml resource put back", "application/vnd.microsoft.ucwa+xml",
			`<resource rel="myOnlineMeeting" href="/m"` + ns + `><link rel="self" href="/m"/><link rel="organizer" href="/o"/>` +
				`<property name="rel">myOnlineMeeting</property><property name="subject">s</property>` +
				`<resource rel="from" href="/p"><property name="rel">participant</property><property name="name">n</property></resource>` +
				`<property name="56de7bbf">please pass this in a PUT request</property><unknown>x</unknown></resource>`,
			[]Member{str("subject", "s"), str("56de7bbf", PutSentinel)}},
		{"our own resource output", "application/xml", string(mustMarshal(XML, seedExtension())),
			[]Member{str("id", "917823"), str("type", "RoamedParticipantData")}},
		{"our own resource output as json", "application/json", string(mustMarshal(JSON, meeting(1))), []Member{
			str("accessLevel", "SameEnterprise"), list("attendees", "sip:alice@contoso.com", "sip:bob@contoso.com"),
			str("automaticLeaderAssignment", "SameEnterprise"), str("conferenceId", "8123456"),
			str("description", "Q3 numbers <draft> & \"plans\"\nsecond line"), str("entryExitAnnouncement", "Disabled"),
			str("expirationTime", "/Date(1474932029004)/"), boolean("isActive", "true"),
			str("joinUrl", "https://meet.contoso.com/alice/PYC58WSY"), list("leaders"),
			str("lobbyBypassForPhoneUsers", "Disabled"), str("onlineMeetingId", "PYC58WSY"),
			str("onlineMeetingRel", "myOnlineMeetings"),
			str("onlineMeetingUri", "sip:alice@contoso.com;gruu;opaque=app:conf:focus:id:PYC58WSY"),
			str("organizerUri", "sip:alice@contoso.com"), str("phoneUserAdmission", "Enabled"),
			str("subject", "Quarterly review — ünïcode"), num("participantsWarningThreshold", "250"),
			boolean("largeMeeting", "false"), str("etag", "3109609770"),
			str("56de7bbf-1081-43e6-bbf2-1cabf3224c83", PutSentinel)}},

		// Empty bodies are empty inputs whatever the type.
		{"empty", "application/json", "", nil},
		{"whitespace", "application/xml", " \r\n\t", nil},
		{"empty unsupported type", "text/plain", "", nil},
		{"empty no type", "", "  ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readInput(t, tt.body, tt.ct).Members()
			if len(got) == 0 && len(tt.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("members:\ngot  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func mustRead(name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		panic(err)
	}
	return b
}

func mustMarshal(f Format, r *Resource) []byte {
	b, err := Marshal(f, r)
	if err != nil {
		panic(err)
	}
	return b
}

func TestReadInputErrors(t *testing.T) {
	tests := []struct {
		name, ct, body string
		unsupported    bool
	}{
		{"form", "application/x-www-form-urlencoded", "a=b", true},
		{"text", "text/plain", "{}", true},
		{"multipart", "multipart/batching; boundary=x", "--x", true},
		{"json-ish", "application/jsonx", "{}", true},
		{"html", "text/html", "<input/>", true},
		{"sniff fails", "", "a=b", false},
		{"top-level array", "application/json", `[{"a":1}]`, false},
		{"top-level string", "application/json", `"a"`, false},
		{"missing value", "application/json", `{"a":}`, false},
		{"lone comma", "application/json", `{,}`, false},
		{"double comma", "application/json", `{"a":1,,}`, false},
		{"array double comma", "application/json", `{"a":[1,,]}`, false},
		{"array lone comma", "application/json", `{"a":[,]}`, false},
		{"unquoted name", "application/json", `{a:1}`, false},
		{"single quotes", "application/json", `{'a':1}`, false},
		{"trailing data", "application/json", `{"a":1}}`, false},
		{"two objects", "application/json", `{}{}`, false},
		{"unterminated", "application/json", `{"a":"b`, false},
		{"control char", "application/json", "{\"a\":\"b\x01\"}", false},
		{"bad escape", "application/json", `{"a":"\x"}`, false},
		{"bad unicode escape", "application/json", `{"a":"\u12G4"}`, false},
		{"bad number", "application/json", `{"a":01}`, false},
		{"bad number 2", "application/json", `{"a":1.}`, false},
		{"bad number 3", "application/json", `{"a":-}`, false},
		{"bad number 4", "application/json", `{"a":1e}`, false},
		{"NaN", "application/json", `{"a":NaN}`, false},
		{"bad literal", "application/json", `{"a":tru}`, false},
		{"object in array", "application/json", `{"a":[{}]}`, false},
		{"array in array", "application/json", `{"a":[[]]}`, false},
		{"null in array", "application/json", `{"a":["x",null]}`, false},
		{"too deep", "application/json", `{"a":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`, false},
		{"too deep objects", "application/json", strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1), false},
		{"xml wrong root", "application/xml", `<foo/>`, false},
		{"xml wrong namespace", "application/xml", `<input xmlns="urn:other"/>`, false},
		{"xml unclosed", "application/xml", `<input><property name="a">b</property>`, false},
		{"xml mismatched", "application/xml", `<input><property name="a">b</input></property>`, false},
		{"xml property without name", "application/xml", `<input><property>b</property></input>`, false},
		{"xml list without name", "application/xml", `<input><propertyList/></input>`, false},
		{"xml element in property", "application/xml", `<input><property name="a"><b/></property></input>`, false},
		{"xml text in list", "application/xml", `<input><propertyList name="a">x<item>b</item></propertyList></input>`, false},
		{"xml other element in list", "application/xml", `<input><propertyList name="a"><value>b</value></propertyList></input>`, false},
		{"xml nil item", "application/xml", `<input><propertyList name="a"><item xsi:nil="true"/></propertyList></input>`, false},
		{"xml two roots", "application/xml", `<input/><input/>`, false},
		{"xml text before root", "application/xml", `x<input/>`, false},
		{"xml text after root", "application/xml", `<input/>x`, false},
		{"xml doctype", "application/xml", `<!DOCTYPE input [<!ENTITY a "b">]><input><property name="a">&a;</property></input>`, false},
		{"xml unknown entity", "application/xml", `<input><property name="a">&nbsp;</property></input>`, false},
		{"xml utf-16 declared", "application/xml", `<?xml version="1.0" encoding="utf-16"?><input/>`, false},
		{"xml sent as json", "application/json", `<input/>`, false},
		{"json sent as xml", "application/xml", `{"a":"b"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := ReadInput(strings.NewReader(tt.body), tt.ct)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("got %v, %v; want an *InputError", in, err)
			}
			if ie.Unsupported != tt.unsupported {
				t.Errorf("Unsupported = %v, want %v (%v)", ie.Unsupported, tt.unsupported, err)
			}
			if in != nil {
				t.Errorf("got input %v along with the error", in)
			}
		})
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

type customError struct{ code int }

func (e *customError) Error() string { return "custom read failure" }

func TestReadInputReadErrors(t *testing.T) {
	cause := &customError{code: 7}
	_, err := ReadInput(io.MultiReader(strings.NewReader(`{"a":`), errReader{cause}), "application/json")
	var ie *InputError
	if !errors.As(err, &ie) || ie.Unsupported {
		t.Fatalf("got %v, want a malformed *InputError", err)
	}
	if !errors.Is(err, cause) {
		t.Errorf("errors.Is(%v, cause) = false", err)
	}
	var ce *customError
	if !errors.As(err, &ce) || ce.code != 7 {
		t.Errorf("errors.As did not find the *customError in %v", err)
	}

	// The read error wins even over an unsupported type.
	if _, err := ReadInput(errReader{io.ErrUnexpectedEOF}, "text/plain"); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("got %v, want the read error", err)
	}

	// http.MaxBytesReader's error stays visible to the caller.
	rec := httptest.NewRecorder()
	body := http.MaxBytesReader(rec, io.NopCloser(strings.NewReader(`{"subject":"`+strings.Repeat("x", 100)+`"}`)), 10)
	_, err = ReadInput(body, "application/json")
	var mbe *http.MaxBytesError
	if !errors.As(err, &mbe) || mbe.Limit != 10 {
		t.Errorf("got %v, want it to wrap *http.MaxBytesError", err)
	}

	// Our own bound.
	big := `{"a":"` + strings.Repeat("x", MaxInputSize) + `"}`
	_, err = ReadInput(strings.NewReader(big), "application/json")
	if !errors.Is(err, ErrTooLarge) || !errors.As(err, &ie) {
		t.Errorf("got %v, want an *InputError wrapping ErrTooLarge", err)
	}
	if err != nil && !strings.Contains(err.Error(), "too large") {
		t.Errorf("message %q does not say why", err)
	}
}

func TestInputAccessors(t *testing.T) {
	in := readInput(t, `{"Subject":"s","n":42,"big":1e400,"t":true,"TF":"False","z":null,"l":["a","b"],"e":"",`+
		`"ms":"\/Date(1474932029004)\/","iso":"2016-09-26T23:20:29.004Z","bad":"yesterday","dn":5}`, "application/json")

	strTests := []struct {
		name string
		want string
		ok   bool
	}{
		{"subject", "s", true}, {"SUBJECT", "s", true}, {"n", "42", true}, {"t", "true", true}, {"big", "1e400", true},
		{"z", "", false}, {"l", "", false}, {"missing", "", false}, {"e", "", true},
	}
	for _, tt := range strTests {
		got, ok := in.String(tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("String(%q) = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}

	listTests := []struct {
		name string
		want []string
		ok   bool
	}{
		{"l", []string{"a", "b"}, true}, {"L", []string{"a", "b"}, true}, {"subject", []string{"s"}, true},
		{"n", []string{"42"}, true}, {"z", nil, false}, {"missing", nil, false},
	}
	for _, tt := range listTests {
		got, ok := in.Strings(tt.name)
		if !reflect.DeepEqual(got, tt.want) || ok != tt.ok {
			t.Errorf("Strings(%q) = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}

	hasTests := map[string]bool{"subject": true, "z": false, "missing": false, "l": true, "e": true}
	for name, want := range hasTests {
		if got := in.Has(name); got != want {
			t.Errorf("Has(%q) = %v, want %v", name, got, want)
		}
	}

	want := time.UnixMilli(1474932029004)
	dateTests := []struct {
		name   string
		ok     bool
		hasErr bool
	}{
		{"ms", true, false}, {"iso", true, false}, {"z", false, false}, {"missing", false, false}, {"e", false, false},
		{"bad", false, true}, {"n", false, true}, {"l", false, true}, {"t", false, true},
	}
	for _, tt := range dateTests {
		got, ok, err := in.Date(tt.name)
		if ok != tt.ok || (err != nil) != tt.hasErr || ok && !got.Equal(want) {
			t.Errorf("Date(%q) = %v, %v, %v; want ok=%v err=%v", tt.name, got, ok, err, tt.ok, tt.hasErr)
		}
	}

	boolTests := []struct {
		name       string
		v, ok, bad bool
	}{
		{"t", true, true, false}, {"tf", false, true, false}, {"z", false, false, false}, {"missing", false, false, false},
		{"subject", false, false, true}, {"n", false, false, true},
	}
	for _, tt := range boolTests {
		v, ok, err := in.Bool(tt.name)
		if v != tt.v || ok != tt.ok || (err != nil) != tt.bad {
			t.Errorf("Bool(%q) = %v, %v, %v; want %v, %v, err=%v", tt.name, v, ok, err, tt.v, tt.ok, tt.bad)
		}
	}

	intTests := []struct {
		name    string
		v       int64
		ok, bad bool
	}{
		{"n", 42, true, false}, {"dn", 5, true, false}, {"z", 0, false, false}, {"big", 0, false, true},
		{"subject", 0, false, true}, {"t", 0, false, true},
	}
	for _, tt := range intTests {
		v, ok, err := in.Int(tt.name)
		if v != tt.v || ok != tt.ok || (err != nil) != tt.bad {
			t.Errorf("Int(%q) = %v, %v, %v; want %v, %v, err=%v", tt.name, v, ok, err, tt.v, tt.ok, tt.bad)
		}
	}

	// Returned slices are copies.
	l, _ := in.Strings("l")
	l[0] = "changed"
	m, _ := in.Lookup("l")
	m.List[1] = "changed"
	in.Members()[6].List[0] = "changed"
	if got, _ := in.Strings("l"); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("input changed through a returned slice: %q", got)
	}

	xin := readInput(t, `<input><property name="active">True</property><property name="count">7</property></input>`, "application/xml")
	if v, ok, err := xin.Bool("active"); !v || !ok || err != nil {
		t.Errorf("XML Bool = %v, %v, %v", v, ok, err)
	}
	if v, ok, err := xin.Int("count"); v != 7 || !ok || err != nil {
		t.Errorf("XML Int = %v, %v, %v", v, ok, err)
	}
}

func TestInputAddQuery(t *testing.T) {
	in := readInput(t, `{"message":"from body","operationId":null}`, "application/json")
	in.AddQuery(url.Values{
		"Message":          {"from query"},
		"OperationId":      {"q-op"},
		"onlineMeetingUri": {"adhoc", "second"},
		"b":                {"lower"},
		"B":                {"upper"},
		"href":             {"/x"},
		"empty":            {},
	})
	want := []Member{str("message", "from body"), null("operationId"), str("B", "upper"), str("onlineMeetingUri", "adhoc")}
	if got := in.Members(); !reflect.DeepEqual(got, want) {
		t.Errorf("members:\ngot  %#v\nwant %#v", got, want)
	}

	// Query parameters alone, as in POST …/me/note?Message=I'm%20away.
	empty := readInput(t, "", "")
	q, _ := url.ParseQuery("Message=I'm%20away%20today")
	empty.AddQuery(q)
	if got, ok := empty.String("message"); got != "I'm away today" || !ok {
		t.Errorf("String(message) = %q, %v", got, ok)
	}
}

func TestNilInput(t *testing.T) {
	var in *Input
	in.AddQuery(url.Values{"a": {"b"}})
	if in.Members() != nil || in.Has("a") {
		t.Error("nil Input has members")
	}
	if _, ok := in.Lookup("a"); ok {
		t.Error("nil Input Lookup found something")
	}
	if _, ok := in.String("a"); ok {
		t.Error("nil Input String found something")
	}
	if _, ok, err := in.Date("a"); ok || err != nil {
		t.Error("nil Input Date found something")
	}
}

func TestInputErrorMessage(t *testing.T) {
	e := &InputError{Msg: "malformed JSON body", Err: &SyntaxError{Msg: "bad", Offset: 3}}
	if got, want := e.Error(), "ucwa: malformed JSON body: ucwa: bad at offset 3"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	var se *SyntaxError
	if !errors.As(e, &se) || se.Offset != 3 {
		t.Error("errors.As did not find the *SyntaxError")
	}
	if got := (&InputError{Unsupported: true, Msg: "unsupported"}).Error(); got != "ucwa: unsupported" {
		t.Errorf("got %q", got)
	}
}

func TestFoldKey(t *testing.T) {
	names := []string{"userAgent", "UserAgent", "USERAGENT", "useragent", "K", "k", "\u212a", "s", "S", "\u017f",
		"ß", "ẞ", "Σ", "σ", "ς", "\xff", "\ufffd", "", "a b", "A B", "é", "É"}
	for _, a := range names {
		for _, b := range names {
			same := string(appendFoldKey(nil, a)) == string(appendFoldKey(nil, b))
			if same != strings.EqualFold(a, b) {
				t.Errorf("fold keys of %q and %q equal = %v, EqualFold = %v", a, b, same, !same)
			}
		}
	}
}

// TestLargeBodiesStayLinear would time out if member or property lookups
// were quadratic.
func TestLargeBodiesStayLinear(t *testing.T) {
	const n = 60000
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"m` + strconv.Itoa(i) + `":1`)
	}
	b.WriteString(`,"M0":"last"}`)
	start := time.Now()
	in := readInput(t, b.String(), "application/json")
	if got := len(in.Members()); got != n {
		t.Fatalf("got %d members, want %d", got, n)
	}
	if s, _ := in.String("m0"); s != "last" {
		t.Errorf("m0 = %q, want the last value", s)
	}

	r := New("x", "/x")
	for _, m := range in.Members() {
		r.Set(m.Name, String(m.Text))
	}
	r.Set("m5", Int(5))
	if v, _ := r.Get("m5"); v.IntVal() != 5 || len(r.Props()) != n {
		t.Errorf("Set on a large resource: m5 = %v, %d props", v, len(r.Props()))
	}
	js := mustMarshal(JSON, r)
	back, err := Decode(bytes.NewReader(js), JSON)
	if err != nil || len(back.Props()) != n {
		t.Fatalf("Decode: %v, %d props", err, len(back.Props()))
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v", d)
	}
}

// TestReadInputRefusesWhatXMLCannotCarry: a control character accepted
// from JSON would come back altered in XML, and invalid UTF-8 would come
// back as U+FFFD, so either is refused, in a value or in a member's name,
// naming the member.
func TestReadInputRefusesWhatXMLCannotCarry(t *testing.T) {
	for _, tc := range []struct{ body, member string }{
		{`{"subject":"a\u0001b"}`, "subject"},
		{`{"attendees":["sip:a@b.c","x\u001fy"]}`, "attendees"},
		{`{"subject":"\ufffe"}`, "subject"},
		{`{"s":"\b\f"}`, "s"},
		{"{\"s\":\"a\xffb\"}", "s"},
		{`{"s":"a\ud800x"}`, "s"},
		{`{"s":"\udc00"}`, "s"},
		{`{"a\u0000b":"v"}`, "a\x00b"},
		{`{"a\u0001":"v"}`, "a\x01"},
		{"{\"a\xffb\":\"v\"}", "a\xffb"},
		{`{"a\ud800":"v"}`, "a\xed\xa0\x80"},
		{`{"\uffff":"v"}`, "\uffff"},
		{`{"ok":"v","\u001f":["x"]}`, "\x1f"},
	} {
		_, err := ReadInput(strings.NewReader(tc.body), "application/json")
		var ie *InputError
		if !errors.As(err, &ie) || !ie.Refused || ie.Member != tc.member || ie.Unsupported {
			t.Errorf("%q: error %v, want an InputError naming the member %q", tc.body, err, tc.member)
		}
	}
	in, err := ReadInput(strings.NewReader(`{"subject":"tab\tnew\nline\r é 😀"}`), "application/json")
	if err != nil {
		t.Fatalf("ordinary whitespace and non-ASCII refused: %v", err)
	}
	if got, _ := in.String("subject"); got != "tab\tnew\nline\r é 😀" {
		t.Errorf("subject %q", got)
	}
}
