package ucwa

import (
	"bytes"
	"errors"
	"io"
	"iter"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"
)

// Namespace is the XML namespace of every UCWA element.
const Namespace = "http://schemas.microsoft.com/rtc/2012/03/ucwa"

const xmlDecl = `<?xml version="1.0" encoding="utf-8"?>`

// errFormat is returned for a Format value that is neither JSON nor XML.
var errFormat = errors.New("ucwa: unknown format")

// encodeState is a reusable output buffer: documents are built in memory
// and handed to the writer in one Write, so a failed encoding never leaves
// half a body behind and small bodies cost one allocation at most.
type encodeState struct{ b []byte }

var encodePool = sync.Pool{New: func() any { return &encodeState{b: make([]byte, 0, 2048)} }}

func getState() *encodeState { return encodePool.Get().(*encodeState) }

func putState(e *encodeState) {
	if cap(e.b) > 256<<10 { // let rare huge bodies go to the GC
		return
	}
	e.b = e.b[:0]
	encodePool.Put(e)
}

// Encode writes r to w in format f, in one Write call. JSON output is
// compact and on one line; XML output starts with the XML declaration.
func Encode(w io.Writer, f Format, r *Resource) error {
	if r == nil {
		return errors.New("ucwa: Encode of nil resource")
	}
	e := getState()
	defer putState(e)
	var err error
	e.b, err = appendResource(e.b, f, r)
	if err != nil {
		return err
	}
	_, err = w.Write(e.b)
	return err
}

// Marshal returns r encoded in format f, exactly as Encode writes it.
func Marshal(f Format, r *Resource) ([]byte, error) {
	if r == nil {
		return nil, errors.New("ucwa: Marshal of nil resource")
	}
	e := getState()
	defer putState(e)
	var err error
	e.b, err = appendResource(e.b, f, r)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), e.b...), nil
}

// streamFlush is how much EncodeStream buffers before it writes.
const streamFlush = 32 << 10

// EncodeStream writes r in format f, as Encode does, with the resources
// items yields embedded under the multi-valued rel after everything r
// embeds itself (r must embed nothing under rel). Each item is encoded when
// it is yielded and the output goes to w in writes of about 32 KiB, so a
// collection of any length costs the memory of one of its members and of
// the buffer. The output is exactly what Encode writes for r with the items
// embedded by EmbedArray. When items yields an error or w fails, EncodeStream
// stops and returns the error: what was written is an incomplete document,
// and the caller must abandon it rather than append anything.
func EncodeStream(w io.Writer, f Format, r *Resource, rel string, items iter.Seq2[*Resource, error]) error {
	if r == nil {
		return errors.New("ucwa: EncodeStream of nil resource")
	}
	for _, g := range r.embedded {
		if g.Rel == rel {
			return errors.New("ucwa: EncodeStream: the resource embeds " + rel + " already")
		}
	}
	// The document with an empty array under rel, cut where the items go:
	// the array (or, in XML, the embedded resources) comes last.
	head := *r
	head.embedded = append(slices.Clone(r.embedded), EmbedGroup{Rel: rel, Array: true})
	e := getState()
	defer putState(e)
	var err error
	if e.b, err = appendResource(e.b, f, &head); err != nil {
		return err
	}
	tail := "]}}" // the array's end, _embedded's and the resource's
	if f == XML {
		tail = "</resource>"
	}
	if !bytes.HasSuffix(e.b, []byte(tail)) {
		return errors.New("ucwa: EncodeStream: unexpected document end")
	}
	e.b = e.b[:len(e.b)-len(tail)]
	n := 0
	for item, err := range items {
		if err != nil {
			return err
		}
		if item == nil {
			continue
		}
		switch {
		case f == XML:
			e.b = appendXMLResource(e.b, item, rel, false)
		case n > 0:
			e.b = append(e.b, ',')
			fallthrough
		default:
			e.b = appendJSONResource(e.b, item)
		}
		n++
		if len(e.b) >= streamFlush {
			if _, err := w.Write(e.b); err != nil {
				return err
			}
			e.b = e.b[:0]
		}
	}
	e.b = append(e.b, tail...)
	_, err = w.Write(e.b)
	return err
}

func appendResource(b []byte, f Format, r *Resource) ([]byte, error) {
	switch f {
	case JSON:
		return appendJSONResource(b, r), nil
	case XML:
		b = append(b, xmlDecl...)
		return appendXMLResource(b, r, r.Rel, true), nil
	}
	return b, errFormat
}

// ---- JSON ----

func appendJSONResource(b []byte, r *Resource) []byte {
	b = append(b, '{')
	n := 0
	if r.Rel != "" {
		b = append(b, `"rel":`...)
		b = appendJSONString(b, r.Rel)
		n++
	}
	for _, p := range r.props {
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = appendJSONString(b, p.Name)
		b = append(b, ':')
		b = appendJSONValue(b, p.Value)
	}
	if r.Href != "" || len(r.links) > 0 {
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, `"_links":{`...)
		m := 0
		if r.Href != "" {
			b = append(b, `"self":{"href":`...)
			b = appendJSONString(b, r.Href)
			b = append(b, '}')
			m++
		}
		for _, g := range r.links {
			if !g.Array && len(g.Links) == 0 {
				continue
			}
			if m > 0 {
				b = append(b, ',')
			}
			m++
			b = appendJSONString(b, g.Rel)
			b = append(b, ':')
			if !g.Array {
				b = appendJSONLink(b, g.Links[0], false)
				continue
			}
			b = append(b, '[')
			for i, l := range g.Links {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendJSONLink(b, l, false)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	if len(r.embedded) > 0 {
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, `"_embedded":{`...)
		m := 0
		for _, g := range r.embedded {
			if !g.Array && len(g.Resources) == 0 {
				continue
			}
			if m > 0 {
				b = append(b, ',')
			}
			m++
			b = appendJSONString(b, g.Rel)
			b = append(b, ':')
			if !g.Array {
				b = appendJSONResource(b, g.Resources[0])
				continue
			}
			b = append(b, '[')
			for i, e := range g.Resources {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendJSONResource(b, e)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendJSONLink writes a link object; withRel is for the event channel,
// whose links carry their rel inside the object.
func appendJSONLink(b []byte, l Link, withRel bool) []byte {
	b = append(b, '{')
	if withRel {
		b = append(b, `"rel":`...)
		b = appendJSONString(b, l.Rel)
		b = append(b, ',')
	}
	b = append(b, `"href":`...)
	b = appendJSONString(b, l.Href)
	if l.Title != "" {
		b = append(b, `,"title":`...)
		b = appendJSONString(b, l.Title)
	}
	if l.Revision != "" {
		b = append(b, `,"revision":`...)
		b = appendJSONString(b, l.Revision)
	}
	return append(b, '}')
}

func appendJSONValue(b []byte, v Value) []byte {
	switch v.kind {
	case KindInt:
		return strconv.AppendInt(b, v.n, 10)
	case KindBool:
		if v.n != 0 {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case KindDate:
		return appendJSONDate(b, v.t)
	case KindStrings:
		b = append(b, '[')
		for i, s := range v.l {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		return append(b, ']')
	}
	return appendJSONString(b, v.s)
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s the way encoding/json does, minus the HTML
// escaping of <, > and &, which UCWA consumers do not need: invalid UTF-8
// becomes U+FFFD, and U+2028/U+2029 are escaped for JavaScript consumers.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// ---- XML ----

// appendXMLResource writes r as a <resource> element whose rel attribute is
// attrRel: the resource type at the top, the link rel when embedded.
func appendXMLResource(b []byte, r *Resource, attrRel string, root bool) []byte {
	b = append(b, `<resource rel="`...)
	b = appendXMLAttr(b, attrRel)
	b = append(b, '"')
	if r.Href != "" {
		b = append(b, ` href="`...)
		b = appendXMLAttr(b, r.Href)
		b = append(b, '"')
	}
	if root {
		b = append(b, ` xmlns="`+Namespace+`"`...)
	}
	b = append(b, '>')
	for _, g := range r.links {
		for _, l := range g.Links {
			l.Rel = g.Rel
			b = appendXMLLink(b, "link", l)
		}
	}
	if r.Rel != "" {
		b = append(b, `<property name="rel">`...)
		b = appendXMLText(b, r.Rel)
		b = append(b, `</property>`...)
	}
	for _, p := range r.props {
		b = appendXMLProperty(b, p)
	}
	for _, g := range r.embedded {
		for _, e := range g.Resources {
			b = appendXMLResource(b, e, g.Rel, false)
		}
	}
	return append(b, `</resource>`...)
}

// appendXMLLink writes an empty element named elem carrying l as attributes.
func appendXMLLink(b []byte, elem string, l Link) []byte {
	b = append(b, '<')
	b = append(b, elem...)
	b = appendXMLLinkAttrs(b, l)
	return append(b, "/>"...)
}

func appendXMLLinkAttrs(b []byte, l Link) []byte {
	b = append(b, ` rel="`...)
	b = appendXMLAttr(b, l.Rel)
	b = append(b, `" href="`...)
	b = appendXMLAttr(b, l.Href)
	b = append(b, '"')
	if l.Title != "" {
		b = append(b, ` title="`...)
		b = appendXMLAttr(b, l.Title)
		b = append(b, '"')
	}
	if l.Revision != "" {
		b = append(b, ` revision="`...)
		b = appendXMLAttr(b, l.Revision)
		b = append(b, '"')
	}
	return b
}

func appendXMLProperty(b []byte, p Property) []byte {
	if p.Value.kind == KindStrings {
		b = append(b, `<propertyList name="`...)
		b = appendXMLAttr(b, p.Name)
		b = append(b, `">`...)
		for _, s := range p.Value.l {
			b = append(b, `<item>`...)
			b = appendXMLText(b, s)
			b = append(b, `</item>`...)
		}
		return append(b, `</propertyList>`...)
	}
	b = append(b, `<property name="`...)
	b = appendXMLAttr(b, p.Name)
	b = append(b, `">`...)
	switch p.Value.kind {
	case KindInt:
		b = strconv.AppendInt(b, p.Value.n, 10)
	case KindBool:
		if p.Value.n != 0 {
			b = append(b, "True"...)
		} else {
			b = append(b, "False"...)
		}
	case KindDate:
		b = appendISODate(b, p.Value.t)
	default:
		b = appendXMLText(b, p.Value.s)
	}
	return append(b, `</property>`...)
}

// appendXMLSimple writes <elem>text</elem>.
func appendXMLSimple(b []byte, elem, text string) []byte {
	b = append(b, '<')
	b = append(b, elem...)
	b = append(b, '>')
	b = appendXMLText(b, text)
	b = append(b, '<', '/')
	b = append(b, elem...)
	return append(b, '>')
}

func appendXMLText(b []byte, s string) []byte { return appendXMLEscaped(b, s, false) }
func appendXMLAttr(b []byte, s string) []byte { return appendXMLEscaped(b, s, true) }

// appendXMLEscaped escapes s for character data or a double-quoted
// attribute. Tabs and line ends are written as character references in
// attributes (where parsers would otherwise normalise them to spaces), and
// carriage returns everywhere (where parsers would fold CRLF). Characters XML
// cannot carry at all, and invalid UTF-8, become U+FFFD, as in encoding/xml.
func appendXMLEscaped(b []byte, s string, attr bool) []byte {
	safe := &xmlTextSafe
	if attr {
		safe = &xmlAttrSafe
	}
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if safe[c] {
			i++
			continue
		}
		var esc string
		if c < utf8.RuneSelf {
			switch c {
			case '&':
				esc = "&amp;"
			case '<':
				esc = "&lt;"
			case '>':
				esc = "&gt;"
			case '"':
				esc = "&quot;"
			case '\r':
				esc = "&#xD;"
			case '\n':
				esc = "&#xA;"
			case '\t':
				esc = "&#x9;"
			default:
				esc = "\uFFFD"
			}
			b = append(b, s[start:i]...)
			b = append(b, esc...)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == 0xFFFE || r == 0xFFFF {
			b = append(b, s[start:i]...)
			b = append(b, "\uFFFD"...)
		} else {
			b = append(b, s[start:i+size]...)
		}
		i += size
		start = i
	}
	return append(b, s[start:]...)
}

// xmlTextSafe and xmlAttrSafe mark the bytes copied as they are; bytes of
// multi-byte UTF-8 sequences are checked one rune at a time.
var xmlTextSafe, xmlAttrSafe = func() (text, attr [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		text[c], attr[c] = true, true
	}
	for _, c := range "&<>" {
		text[c], attr[c] = false, false
	}
	attr['"'] = false
	text['\n'], text['\t'] = true, true
	return text, attr
}()
