package ucwa

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxInputSize bounds the request bodies ReadInput reads. UCWA inputs are a
// handful of short members; callers wanting a smaller limit wrap the body in
// http.MaxBytesReader.
const MaxInputSize = 1 << 20

// ErrTooLarge is wrapped by the InputError ReadInput returns for a body
// above MaxInputSize, so that callers can answer 413 as they do for
// *http.MaxBytesError.
var ErrTooLarge = errors.New("ucwa: request body too large")

// InputError is the error ReadInput returns. Unsupported means the media
// type is not one UCWA accepts (answer 415); otherwise the body is
// malformed or could not be read (answer 400, or 413 when Err is or wraps a
// size error such as ErrTooLarge or *http.MaxBytesError).
type InputError struct {
	Unsupported bool
	Msg         string
	Err         error // the cause, if any: a read error or a *SyntaxError
	// Refused is set when the body is well-formed but the value of member
	// Member cannot be accepted.
	Refused bool
	Member  string
}

// Error describes the failure and its cause.
func (e *InputError) Error() string {
	if e.Err != nil {
		return "ucwa: " + e.Msg + ": " + e.Err.Error()
	}
	return "ucwa: " + e.Msg
}

// Unwrap returns the cause, so errors.Is and errors.As see through.
func (e *InputError) Unwrap() error { return e.Err }

// MemberKind tells how an input member was sent.
type MemberKind int

// Member kinds. XML carries no types: XML properties are MemberString (or
// MemberNull for xsi:nil) and property lists MemberList.
const (
	MemberString MemberKind = iota
	MemberNumber
	MemberBool
	MemberNull
	MemberList
)

// String returns the kind's name, for messages.
func (k MemberKind) String() string {
	switch k {
	case MemberString:
		return "string"
	case MemberNumber:
		return "number"
	case MemberBool:
		return "bool"
	case MemberNull:
		return "null"
	case MemberList:
		return "list"
	}
	return "MemberKind(" + strconv.Itoa(int(k)) + ")"
}

// Member is one input member. Name is as the client spelled it. Text holds
// a string, the literal text of a number, or "true"/"false"; it is empty for
// null and list members. List holds the items of a list member.
type Member struct {
	Name string
	Kind MemberKind
	Text string
	List []string
}

// Input is a decoded POST/PUT body: the members the client sent, matched by
// name case-insensitively (real clients send both userAgent and UserAgent).
// Links and embedded resources are not members: clients may PUT back what
// they GET. A nil *Input behaves as an empty one.
type Input struct {
	members []Member
	index   map[string]int // appendFoldKey(name) → position; nil while small
}

// ReadInput decodes a request body according to its Content-Type.
//
// An empty body (nothing or only whitespace) gives an empty Input whatever
// the type. Accepted types, parameters ignored: application/json,
// application/vnd.microsoft.com.ucwa+json, application/xml, text/xml,
// application/vnd.microsoft.com.ucwa+xml, application/vnd.microsoft.ucwa+xml.
// Without a Content-Type the body is sniffed ('{' JSON, '<' XML). Any other
// type gives an *InputError with Unsupported set.
//
// JSON: the top level must be an object; a trailing comma before '}' or ']'
// is tolerated. Members rel, href, _links and _embedded (any casing) and
// object-valued members are skipped; arrays must hold strings, numbers or
// booleans (kept as their text); null is MemberNull. A name sent twice (any
// casing) keeps its first position and its last value.
//
// XML: root <input> or <resource>, in the UCWA namespace or none, holding
// <property name="x">text</property> (xsi:nil="true" is null) and
// <propertyList name="x"><item>…</item></propertyList>; <link>, nested
// <resource> and unknown elements are skipped, as are the properties named
// like the skipped JSON members.
//
// A kept member whose name or text is not valid UTF-8 (including lone
// surrogate escapes in JSON) or holds a character XML cannot carry is
// refused: an *InputError with Refused set, naming the member.
//
// A failure is always an *InputError; read errors from body are wrapped in
// it. A leading UTF-8 byte order mark is ignored.
func ReadInput(body io.Reader, contentType string) (*Input, error) {
	data, err := io.ReadAll(io.LimitReader(body, MaxInputSize+1))
	if err != nil {
		return nil, &InputError{Msg: "reading request body", Err: err}
	}
	if len(data) > MaxInputSize {
		return nil, &InputError{Msg: "reading request body", Err: ErrTooLarge}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		return &Input{}, nil
	}
	var isXML bool
	mt, _, _ := strings.Cut(contentType, ";")
	switch strings.ToLower(strings.TrimSpace(mt)) {
	case MediaJSON, MediaUCWAJSON:
	case MediaXML, MediaTextXML, MediaUCWAXML, MediaUCWAXMLAlt:
		isXML = true
	case "":
		switch trimmed[0] {
		case '{':
		case '<':
			isXML = true
		default:
			return nil, &InputError{Msg: "request body without Content-Type is neither JSON nor XML"}
		}
	default:
		return nil, &InputError{Unsupported: true, Msg: "unsupported media type " + strconv.Quote(mt)}
	}
	in := &Input{}
	if isXML {
		err = in.readXML(data)
	} else {
		err = in.readJSON(data)
	}
	if err != nil {
		return nil, err
	}
	if err := in.checkText(); err != nil {
		return nil, err
	}
	return in, nil
}

// checkText refuses a member whose name or text is not valid UTF-8 (JSON
// strings with invalid bytes or lone surrogate escapes) or holds a character
// XML cannot carry (control characters other than tab, line feed and
// carriage return, and the non-characters U+FFFE and U+FFFF): a member
// accepted in JSON would otherwise come back altered, as U+FFFD, in XML (or
// in JSON), and a client's GET→PUT would rename or change it.
func (in *Input) checkText() error {
	for _, m := range in.members {
		if err := checkString(m.Name, m.Name, "name"); err != nil {
			return err
		}
		for _, text := range append([]string{m.Text}, m.List...) {
			if err := checkString(m.Name, text, "value"); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkString(member, s, what string) error {
	if !utf8.ValidString(s) {
		return &InputError{Refused: true, Member: member, Msg: fmt.Sprintf("the %s of member %q is not valid UTF-8", what, member)}
	}
	if i := strings.IndexFunc(s, notXMLChar); i >= 0 {
		return &InputError{Refused: true, Member: member, Msg: fmt.Sprintf("the %s of member %q holds the character %U, which UCWA cannot carry", what, member, []rune(s[i:])[0])}
	}
	return nil
}

// notXMLChar reports the runes XML 1.0 does not allow in text.
func notXMLChar(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return false
	case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
		return true
	}
	return false
}

// reservedMember reports the names that are never input members: they
// describe the resource a client GOT, not what it wants to change.
func reservedMember(name string) bool {
	return strings.EqualFold(name, "rel") || strings.EqualFold(name, "href") ||
		strings.EqualFold(name, "_links") || strings.EqualFold(name, "_embedded")
}

func (in *Input) readJSON(data []byte) error {
	p := jsonParser{data: data, raw: true}
	if err := p.inputMembers(reservedMember, in.put); err != nil {
		if err == errNotObject {
			return &InputError{Msg: err.Error()}
		}
		return &InputError{Msg: "malformed JSON body", Err: err}
	}
	return nil
}

const xsiNamespace = "http://www.w3.org/2001/XMLSchema-instance"

func (in *Input) readXML(data []byte) error {
	d := newXMLDecoder(data)
	root, err := xmlRoot(d)
	if err != nil {
		return &InputError{Msg: "malformed XML body", Err: err}
	}
	if root.Name.Local != "input" && root.Name.Local != "resource" ||
		root.Name.Space != "" && root.Name.Space != Namespace {
		return &InputError{Msg: "XML body root is not a UCWA <input> or <resource>"}
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return &InputError{Msg: "malformed XML body", Err: xmlSyntax(d, err)}
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if err := xmlEnd(d); err != nil {
				return &InputError{Msg: "malformed XML body", Err: err}
			}
			return nil
		case xml.StartElement:
			switch t.Name.Local {
			case "property", "propertyList":
				name, ok := xmlAttr(t, "name")
				if !ok {
					return &InputError{Msg: "XML <" + t.Name.Local + "> without a name"}
				}
				m := Member{Name: name, Kind: MemberString}
				var err error
				if t.Name.Local == "property" {
					m.Text, err = xmlLeafText(d)
				} else {
					m.Kind = MemberList
					m.List, err = xmlItems(d)
				}
				if err != nil {
					return &InputError{Msg: "malformed XML body", Err: err}
				}
				if reservedMember(name) {
					continue
				}
				if xmlNil(t) {
					m = Member{Name: name, Kind: MemberNull}
				}
				in.put(m)
			default:
				if err := d.Skip(); err != nil {
					return &InputError{Msg: "malformed XML body", Err: xmlSyntax(d, err)}
				}
			}
		}
	}
}

// put adds m, or replaces the value of a member of the same name (any
// casing) in place. Past a few members an index keeps this linear in the
// number of members, however many a hostile body sends.
func (in *Input) put(m Member) {
	if i := in.pos(m.Name); i >= 0 {
		in.members[i] = m
		return
	}
	in.members = append(in.members, m)
	switch {
	case len(in.members) < inputIndexFrom:
	case in.index == nil:
		in.index = make(map[string]int, 2*len(in.members))
		for i, m := range in.members {
			in.index[string(appendFoldKey(nil, m.Name))] = i
		}
	default:
		in.index[string(appendFoldKey(nil, m.Name))] = len(in.members) - 1
	}
}

// inputIndexFrom is the member count from which put keeps an index; real
// inputs have fewer members, and a scan of them allocates nothing.
const inputIndexFrom = 16

// pos returns the position of the member named name in any casing, or -1.
func (in *Input) pos(name string) int {
	if in == nil {
		return -1
	}
	if in.index == nil {
		for i := range in.members {
			if strings.EqualFold(in.members[i].Name, name) {
				return i
			}
		}
		return -1
	}
	var buf [64]byte
	if i, ok := in.index[string(appendFoldKey(buf[:0], name))]; ok {
		return i
	}
	return -1
}

// appendFoldKey appends a key equal for exactly the names strings.EqualFold
// deems equal: each rune is replaced by the smallest rune of its Unicode
// simple-folding orbit (so "K", "k" and the Kelvin sign all give "K").
func appendFoldKey(b []byte, s string) []byte {
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			b = append(b, byte(r))
		default:
			least := r
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				least = min(least, f)
			}
			b = utf8.AppendRune(b, least)
		}
	}
	return b
}

// Members returns a copy of the members in the order sent, each name once.
func (in *Input) Members() []Member {
	if in == nil {
		return nil
	}
	out := slices.Clone(in.members)
	for i := range out {
		out[i].List = slices.Clone(out[i].List)
	}
	return out
}

// Lookup returns the member named name, matched case-insensitively.
func (in *Input) Lookup(name string) (Member, bool) {
	m := in.find(name)
	if m == nil {
		return Member{}, false
	}
	c := *m
	c.List = slices.Clone(m.List)
	return c, true
}

func (in *Input) find(name string) *Member {
	if i := in.pos(name); i >= 0 {
		return &in.members[i]
	}
	return nil
}

// Has reports whether the member is present and not null.
func (in *Input) Has(name string) bool {
	m := in.find(name)
	return m != nil && m.Kind != MemberNull
}

// String returns a string member, or the literal text of a number or
// boolean member. It reports false for a null, list or absent member.
func (in *Input) String(name string) (string, bool) {
	m := in.find(name)
	if m == nil || m.Kind == MemberNull || m.Kind == MemberList {
		return "", false
	}
	return m.Text, true
}

// Strings returns a list member (a JSON array or an XML propertyList). A
// lone string, number or boolean is taken as a one-element list, since a
// client sending one value where a list is expected means that value. It
// reports false for an absent or null member.
func (in *Input) Strings(name string) ([]string, bool) {
	m := in.find(name)
	switch {
	case m == nil || m.Kind == MemberNull:
		return nil, false
	case m.Kind == MemberList:
		return slices.Clone(m.List), true
	}
	return []string{m.Text}, true
}

// Date returns a date member parsed with ParseDate. An absent or null
// member, or an empty string (what an empty XML element gives), reports
// ok=false with a nil error; anything else that does not parse is an error.
func (in *Input) Date(name string) (t time.Time, ok bool, err error) {
	m := in.find(name)
	if m == nil || m.Kind == MemberNull || m.Kind == MemberString && m.Text == "" {
		return time.Time{}, false, nil
	}
	if m.Kind != MemberString {
		return time.Time{}, false, errors.New("ucwa: member " + strconv.Quote(name) + " is a " + m.Kind.String() + ", not a date")
	}
	t, err = ParseDate(m.Text)
	if err != nil {
		return time.Time{}, false, err
	}
	return t, true, nil
}

// Bool returns a boolean member: JSON true/false, or the strings "true" and
// "false" in any casing (XML sends True/False). Absent or null reports
// ok=false with a nil error; anything else is an error.
func (in *Input) Bool(name string) (v, ok bool, err error) {
	m := in.find(name)
	if m == nil || m.Kind == MemberNull {
		return false, false, nil
	}
	if m.Kind == MemberBool || m.Kind == MemberString {
		switch {
		case strings.EqualFold(m.Text, "true"):
			return true, true, nil
		case strings.EqualFold(m.Text, "false"):
			return false, true, nil
		}
	}
	return false, false, errors.New("ucwa: member " + strconv.Quote(name) + " is not a boolean")
}

// Int returns an integer member: a JSON number without fraction or
// exponent, or a string holding one (XML). Absent or null reports ok=false
// with a nil error; anything else, or a value outside int64, is an error.
func (in *Input) Int(name string) (n int64, ok bool, err error) {
	m := in.find(name)
	if m == nil || m.Kind == MemberNull {
		return 0, false, nil
	}
	if m.Kind == MemberNumber || m.Kind == MemberString {
		if n, err := strconv.ParseInt(strings.TrimSpace(m.Text), 10, 64); err == nil {
			return n, true, nil
		}
	}
	return 0, false, errors.New("ucwa: member " + strconv.Quote(name) + " is not an integer")
}

// AddQuery adds POST inputs passed as query parameters: each parameter
// becomes a string member (its first value) unless the body already has a
// member of that name, matched case-insensitively, so the body wins. Names
// are added in sorted order; of two parameters differing only in case the
// one sorting first wins. The reserved names rel, href, _links and
// _embedded are skipped.
func (in *Input) AddQuery(q url.Values) {
	if in == nil {
		return
	}
	for _, name := range slices.Sorted(maps.Keys(q)) {
		if len(q[name]) == 0 || reservedMember(name) {
			continue
		}
		if in.find(name) != nil {
			continue
		}
		in.put(Member{Name: name, Kind: MemberString, Text: q[name][0]})
	}
}
