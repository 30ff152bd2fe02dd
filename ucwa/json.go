package ucwa

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// A small JSON reader of our own rather than encoding/json: it keeps object
// members in order (duplicates included), tolerates the trailing commas real
// clients send, and bounds nesting. Strings are unquoted exactly as
// encoding/json does (invalid UTF-8 and lone surrogates become U+FFFD), so
// that what encoding/json accepts we read the same way; only request input
// keeps them, to refuse them.

// maxDepth bounds object/array nesting in everything this package decodes.
// A resource embedding costs three levels, so this is far beyond any real
// document while keeping recursion shallow.
const maxDepth = 128

type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

// jsonValue is a parsed JSON value. s holds the string, the number's
// literal text, or "true"/"false".
type jsonValue struct {
	kind    jsonKind
	s       string
	items   []jsonValue
	members []jsonMember
}

type jsonMember struct {
	name  string
	value jsonValue
}

// member returns the last member named name (exact match), as encoding/json
// lets a later duplicate win.
func (v *jsonValue) member(name string) (*jsonValue, bool) {
	for i := len(v.members) - 1; i >= 0; i-- {
		if v.members[i].name == name {
			return &v.members[i].value, true
		}
	}
	return nil, false
}

// SyntaxError reports malformed JSON or XML and where it was found.
type SyntaxError struct {
	Msg    string
	Offset int64 // byte offset in the input
}

// Error describes the problem and where it was found.
func (e *SyntaxError) Error() string {
	return "ucwa: " + e.Msg + " at offset " + strconv.FormatInt(e.Offset, 10)
}

type jsonParser struct {
	data  []byte
	pos   int
	depth int
	// raw keeps invalid UTF-8 and lone surrogate escapes in strings as
	// invalid UTF-8 instead of turning them into U+FFFD, so that input
	// checks can refuse what the client really sent rather than silently
	// store something else.
	raw bool
}

// parseJSON parses data, which must hold exactly one JSON value with
// optional surrounding whitespace.
func parseJSON(data []byte) (jsonValue, error) {
	p := jsonParser{data: data}
	v, err := p.value(true)
	if err != nil {
		return jsonValue{}, err
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return jsonValue{}, p.errorf("data after top-level value")
	}
	return v, nil
}

func (p *jsonParser) errorf(msg string) error {
	return &SyntaxError{Msg: msg, Offset: int64(p.pos)}
}

func (p *jsonParser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// value parses the value at p.pos. Without build, objects and arrays are
// only validated, so that skipped members cost no memory.
func (p *jsonParser) value(build bool) (jsonValue, error) {
	p.skipSpace()
	if p.pos >= len(p.data) {
		return jsonValue{}, p.errorf("unexpected end of JSON input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(build)
	case c == '[':
		return p.array(build)
	case c == '"':
		s, err := p.str()
		return jsonValue{kind: jsonString, s: s}, err
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == 't':
		return p.literal("true", jsonValue{kind: jsonBool, s: "true"})
	case c == 'f':
		return p.literal("false", jsonValue{kind: jsonBool, s: "false"})
	case c == 'n':
		return p.literal("null", jsonValue{kind: jsonNull})
	}
	return jsonValue{}, p.errorf("invalid character " + strconv.QuoteRune(rune(p.data[p.pos])) + " looking for beginning of value")
}

func (p *jsonParser) literal(lit string, v jsonValue) (jsonValue, error) {
	if len(p.data)-p.pos < len(lit) || string(p.data[p.pos:p.pos+len(lit)]) != lit {
		return jsonValue{}, p.errorf("invalid literal")
	}
	p.pos += len(lit)
	return v, nil
}

func (p *jsonParser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errorf("nesting too deep")
	}
	return nil
}

func (p *jsonParser) object(build bool) (jsonValue, error) {
	if err := p.enter(); err != nil {
		return jsonValue{}, err
	}
	p.pos++ // '{'
	v := jsonValue{kind: jsonObject}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		p.depth--
		return v, nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return jsonValue{}, p.errorf("expected string naming an object member")
		}
		name, err := p.str()
		if err != nil {
			return jsonValue{}, err
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return jsonValue{}, p.errorf("expected ':' after object member name")
		}
		p.pos++
		val, err := p.value(build)
		if err != nil {
			return jsonValue{}, err
		}
		if build {
			v.members = append(v.members, jsonMember{name: name, value: val})
		}
		if done, err := p.next('}', "object member"); done || err != nil {
			return v, err
		}
	}
}

func (p *jsonParser) array(build bool) (jsonValue, error) {
	if err := p.enter(); err != nil {
		return jsonValue{}, err
	}
	p.pos++ // '['
	v := jsonValue{kind: jsonArray, items: []jsonValue{}}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		p.depth--
		return v, nil
	}
	for {
		item, err := p.value(build)
		if err != nil {
			return jsonValue{}, err
		}
		if build {
			v.items = append(v.items, item)
		}
		if done, err := p.next(']', "array element"); done || err != nil {
			return v, err
		}
	}
}

// next reads what follows a member or element of a container that closes
// with end: a comma, after which more follows unless end comes right away
// (a trailing comma, which clients send), or end itself. done reports that
// the container was closed.
func (p *jsonParser) next(end byte, what string) (done bool, err error) {
	p.skipSpace()
	if p.pos >= len(p.data) {
		return false, p.errorf("unexpected end of JSON input")
	}
	switch p.data[p.pos] {
	case ',':
		p.pos++
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != end {
			return false, nil
		}
	case end:
	default:
		return false, p.errorf("expected ',' or '" + string(end) + "' after " + what)
	}
	p.pos++
	p.depth--
	return true, nil
}

func (p *jsonParser) number() (jsonValue, error) {
	d, start := p.data, p.pos
	i := p.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		p.pos = i
		return jsonValue{}, p.errorf("invalid number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			p.pos = i
			return jsonValue{}, p.errorf("invalid number")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			p.pos = i
			return jsonValue{}, p.errorf("invalid number")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	p.pos = i
	return jsonValue{kind: jsonNumber, s: string(d[start:i])}, nil
}

// str reads a quoted string starting at the opening quote.
func (p *jsonParser) str() (string, error) {
	d := p.data
	p.pos++ // opening quote
	start := p.pos
	// Fast path: plain ASCII without escapes needs no copy-and-rewrite.
	i := start
	for i < len(d) {
		c := d[i]
		if c == '"' {
			p.pos = i + 1
			return string(d[start:i]), nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		i++
	}
	b := make([]byte, 0, i-start+16)
	b = append(b, d[start:i]...)
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return string(b), nil
		case c < 0x20:
			p.pos = i
			return "", p.errorf("invalid control character in string literal")
		case c == '\\':
			if i+1 >= len(d) {
				p.pos = i
				return "", p.errorf("unexpected end of JSON input")
			}
			switch e := d[i+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
				i += 2
			case 'b':
				b = append(b, '\b')
				i += 2
			case 'f':
				b = append(b, '\f')
				i += 2
			case 'n':
				b = append(b, '\n')
				i += 2
			case 'r':
				b = append(b, '\r')
				i += 2
			case 't':
				b = append(b, '\t')
				i += 2
			case 'u':
				r := hex4(d[i+2:])
				if r < 0 {
					p.pos = i
					return "", p.errorf("invalid \\u escape in string literal")
				}
				i += 6
				if utf16.IsSurrogate(r) {
					// Mirrors encoding/json: a valid pair is joined; anything
					// else becomes U+FFFD and the next escape stands alone.
					if len(d)-i >= 6 && d[i] == '\\' && d[i+1] == 'u' {
						if r2 := hex4(d[i+2:]); r2 >= 0 {
							if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
								b = utf8.AppendRune(b, dec)
								i += 6
								continue
							}
						}
					}
					if p.raw {
						// The three bytes UTF-8 would give the surrogate:
						// invalid UTF-8, which input checks refuse.
						b = append(b, 0xE0|byte(r>>12), 0x80|byte(r>>6&0x3F), 0x80|byte(r&0x3F))
						continue
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
			default:
				p.pos = i
				return "", p.errorf("invalid escape in string literal")
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 && !p.raw {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, d[i:i+size]...)
			}
			i += size
		}
	}
	p.pos = i
	return "", p.errorf("unexpected end of JSON input")
}

// hex4 decodes four hex digits, or returns -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// errNotScalarList reports an input array holding something other than
// strings, numbers and booleans.
var errNotScalarList = errors.New("array holding something other than strings, numbers or booleans")

// inputMembers reads a top-level object member by member, calling member
// for each one. Values of members skip reports true for, and object values,
// are validated without being kept; arrays are read straight into string
// lists. Memory therefore stays proportional to what is kept, whatever the
// body holds.
func (p *jsonParser) inputMembers(skip func(name string) bool, member func(Member)) error {
	p.skipSpace()
	if p.pos >= len(p.data) || p.data[p.pos] != '{' {
		return errNotObject
	}
	p.depth = 1
	p.pos++
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return p.end()
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return p.errorf("expected string naming an object member")
		}
		name, err := p.str()
		if err != nil {
			return err
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return p.errorf("expected ':' after object member name")
		}
		p.pos++
		p.skipSpace()
		if p.pos >= len(p.data) {
			return p.errorf("unexpected end of JSON input")
		}
		switch c := p.data[p.pos]; {
		case skip(name) || c == '{':
			if _, err := p.value(false); err != nil {
				return err
			}
		case c == '[':
			l, err := p.scalarList()
			if err != nil {
				return err
			}
			member(Member{Name: name, Kind: MemberList, List: l})
		default:
			v, err := p.value(true)
			if err != nil {
				return err
			}
			m := Member{Name: name, Text: v.s}
			switch v.kind {
			case jsonNull:
				m.Kind = MemberNull
			case jsonBool:
				m.Kind = MemberBool
			case jsonNumber:
				m.Kind = MemberNumber
			}
			member(m)
		}
		p.skipSpace()
		if p.pos >= len(p.data) {
			return p.errorf("unexpected end of JSON input")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			p.skipSpace()
			if p.pos < len(p.data) && p.data[p.pos] == '}' { // trailing comma
				p.pos++
				return p.end()
			}
		case '}':
			p.pos++
			return p.end()
		default:
			return p.errorf("expected ',' or '}' after object member")
		}
	}
}

// end checks that only whitespace follows the top-level value.
func (p *jsonParser) end() error {
	p.skipSpace()
	if p.pos != len(p.data) {
		return p.errorf("data after top-level value")
	}
	return nil
}

// scalarList reads an array of strings, numbers and booleans into their
// texts.
func (p *jsonParser) scalarList() ([]string, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.pos++ // '['
	l := []string{}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		p.depth--
		return l, nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of JSON input")
		}
		switch c := p.data[p.pos]; c {
		case '{', '[', 'n':
			return nil, &SyntaxError{Msg: errNotScalarList.Error(), Offset: int64(p.pos)}
		}
		v, err := p.value(true)
		if err != nil {
			return nil, err
		}
		l = append(l, v.s)
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of JSON input")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			p.skipSpace()
			if p.pos < len(p.data) && p.data[p.pos] == ']' { // trailing comma
				p.pos++
				p.depth--
				return l, nil
			}
		case ']':
			p.pos++
			p.depth--
			return l, nil
		default:
			return nil, p.errorf("expected ',' or ']' after array element")
		}
	}
}

var errNotObject = errors.New("JSON body is not an object")
