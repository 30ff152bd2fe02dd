package ucwa

import (
	"encoding/xml"
	"errors"
	"io"
	"strconv"
)

// MaxDecodeSize bounds the documents Decode, DecodeEventBatch and DecodeReason
// read.
const MaxDecodeSize = 64 << 20

func readDocument(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxDecodeSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxDecodeSize {
		return nil, errors.New("ucwa: document larger than MaxDecodeSize")
	}
	return data, nil
}

// Decode reads a resource in format f, as written by Encode or by a UCWA
// server.
//
// JSON: strings of the form "/Date(ms)/" come back as Date values, integers
// that fit int64 as Int, other numbers as String of their literal text,
// arrays of scalars as Strings; null members, object members other than
// _links and _embedded, and arrays holding objects are skipped. A _links or
// _embedded entry that is a JSON array comes back as an array group.
//
// XML: property values come back as strings, since XML carries no types,
// and propertyLists as Strings. A link rel or embedded rel occurring more
// than once becomes an array group; one occurrence is single-valued, as XML
// cannot tell a one-element array apart. Embedded resources take their Rel
// from their <property name="rel">.
func Decode(r io.Reader, f Format) (*Resource, error) {
	return decodeDocument(r, f, "resource", jsonResource,
		func(d *xml.Decoder, root xml.StartElement) (*Resource, error) { return xmlResource(d, root, 1) })
}

// decodeDocument reads a whole document in format f and builds its value:
// the JSON top level must be an object, the XML root the UCWA element
// named root, followed by nothing but the end of the document.
func decodeDocument[T any](r io.Reader, f Format, root string, fromJSON func(*jsonValue) T, fromXML func(*xml.Decoder, xml.StartElement) (T, error)) (T, error) {
	var zero T
	data, err := readDocument(r)
	if err != nil {
		return zero, err
	}
	switch f {
	case JSON:
		v, err := parseJSON(data)
		if err != nil {
			return zero, err
		}
		if v.kind != jsonObject {
			return zero, errors.New("ucwa: JSON " + root + " is not an object")
		}
		return fromJSON(&v), nil
	case XML:
		d := newXMLDecoder(data)
		start, err := xmlRoot(d)
		if err != nil {
			return zero, err
		}
		if !ucwaElement(start, root) {
			return zero, errors.New("ucwa: XML root is not a UCWA <" + root + ">")
		}
		v, err := fromXML(d, start)
		if err != nil {
			return zero, err
		}
		return v, xmlEnd(d)
	}
	return zero, errFormat
}

func jsonResource(v *jsonValue) *Resource {
	r := &Resource{}
	var g groups
	for _, m := range v.members {
		switch m.name {
		case "rel":
			if m.value.kind == jsonString {
				r.Rel = m.value.s
			}
		case "_links":
			for _, l := range m.value.members {
				switch l.value.kind {
				case jsonObject:
					link := jsonLink(&l.value)
					if l.name == "self" {
						r.Href = link.Href
						continue
					}
					link.Rel = l.name
					g.setLinks(r, LinkGroup{Rel: l.name, Links: []Link{link}})
				case jsonArray:
					links := make([]Link, 0, len(l.value.items))
					for i := range l.value.items {
						if l.value.items[i].kind == jsonObject {
							link := jsonLink(&l.value.items[i])
							link.Rel = l.name
							links = append(links, link)
						}
					}
					if l.name == "self" {
						r.LinkArray("self", links)
						continue
					}
					g.setLinks(r, LinkGroup{Rel: l.name, Array: true, Links: links})
				}
			}
		case "_embedded":
			for _, e := range m.value.members {
				switch e.value.kind {
				case jsonObject:
					g.setEmbedded(r, EmbedGroup{Rel: e.name, Resources: []*Resource{jsonResource(&e.value)}})
				case jsonArray:
					es := make([]*Resource, 0, len(e.value.items))
					for i := range e.value.items {
						if e.value.items[i].kind == jsonObject {
							es = append(es, jsonResource(&e.value.items[i]))
						}
					}
					g.setEmbedded(r, EmbedGroup{Rel: e.name, Array: true, Resources: es})
				}
			}
		default:
			if val, ok := jsonPropertyValue(&m.value); ok {
				r.setProp(m.name, val)
			}
		}
	}
	return r
}

func jsonPropertyValue(v *jsonValue) (Value, bool) {
	switch v.kind {
	case jsonString:
		if t, ok := parseMSDate(v.s); ok {
			return Date(t), true
		}
		return String(v.s), true
	case jsonNumber:
		if n, err := strconv.ParseInt(v.s, 10, 64); err == nil {
			return Int(n), true
		}
		return String(v.s), true
	case jsonBool:
		return Bool(v.s == "true"), true
	case jsonArray:
		l := make([]string, 0, len(v.items))
		for _, it := range v.items {
			switch it.kind {
			case jsonString, jsonNumber, jsonBool:
				l = append(l, it.s)
			default:
				return Value{}, false
			}
		}
		return Value{kind: KindStrings, l: l}, true
	}
	return Value{}, false
}

// jsonText returns the text of a scalar: strings as they are, numbers and
// booleans as their literal.
func jsonText(v *jsonValue) string {
	switch v.kind {
	case jsonString, jsonNumber, jsonBool:
		return v.s
	}
	return ""
}

func jsonLink(v *jsonValue) Link {
	var l Link
	for _, m := range v.members {
		switch m.name {
		case "rel":
			l.Rel = jsonText(&m.value)
		case "href":
			l.Href = jsonText(&m.value)
		case "title":
			l.Title = jsonText(&m.value)
		case "revision":
			l.Revision = jsonText(&m.value)
		}
	}
	return l
}

// xmlResource reads a <resource> element whose start was just read, up to
// and including its end. depth counts the enclosing resources.
func xmlResource(d *xml.Decoder, start xml.StartElement, depth int) (*Resource, error) {
	if depth > maxDepth {
		return nil, &SyntaxError{Msg: "XML: resources nested too deep", Offset: d.InputOffset()}
	}
	r := &Resource{}
	attrRel, _ := xmlAttr(start, "rel")
	r.Href, _ = xmlAttr(start, "href")
	var g groups
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, xmlSyntax(d, err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if r.Rel == "" {
				r.Rel = attrRel
			}
			return r, nil
		case xml.StartElement:
			switch t.Name.Local {
			case "link":
				l := xmlLink(t)
				if err := d.Skip(); err != nil {
					return nil, xmlSyntax(d, err)
				}
				if l.Rel == "self" {
					r.Href = l.Href
					continue
				}
				g.appendLink(r, l)
			case "property":
				name, _ := xmlAttr(t, "name")
				text, err := xmlLeafText(d)
				if err != nil {
					return nil, err
				}
				switch {
				case xmlNil(t), name == "_links", name == "_embedded":
				case name == "rel":
					r.Rel = text
				default:
					r.setProp(name, String(text))
				}
			case "propertyList":
				name, _ := xmlAttr(t, "name")
				items, err := xmlItems(d)
				if err != nil {
					return nil, err
				}
				if !xmlNil(t) && name != "rel" && name != "_links" && name != "_embedded" {
					r.setProp(name, Value{kind: KindStrings, l: items})
				}
			case "resource":
				rel, _ := xmlAttr(t, "rel")
				e, err := xmlResource(d, t, depth+1)
				if err != nil {
					return nil, err
				}
				g.appendEmbedded(r, rel, e)
			default:
				if err := d.Skip(); err != nil {
					return nil, xmlSyntax(d, err)
				}
			}
		}
	}
}

// groups indexes a decoded resource's link and embed groups by rel, so
// that decoding stays linear however many rels a peer sends.
type groups struct {
	links, embedded map[string]int
}

func (g *groups) linkPos(rel string) (int, bool) {
	if g.links == nil {
		g.links = make(map[string]int)
	}
	i, ok := g.links[rel]
	return i, ok
}

func (g *groups) embedPos(rel string) (int, bool) {
	if g.embedded == nil {
		g.embedded = make(map[string]int)
	}
	i, ok := g.embedded[rel]
	return i, ok
}

// setLinks sets the group of its rel, in place if there is one (JSON
// duplicate members: the last wins).
func (g *groups) setLinks(r *Resource, lg LinkGroup) {
	if i, ok := g.linkPos(lg.Rel); ok {
		r.links[i] = lg
		return
	}
	g.links[lg.Rel] = len(r.links)
	r.links = append(r.links, lg)
}

func (g *groups) setEmbedded(r *Resource, eg EmbedGroup) {
	if i, ok := g.embedPos(eg.Rel); ok {
		r.embedded[i] = eg
		return
	}
	g.embedded[eg.Rel] = len(r.embedded)
	r.embedded = append(r.embedded, eg)
}

// appendLink adds l to the group of its rel; a second link of a rel turns
// the group into an array (XML repeats the element for multi-valued rels).
func (g *groups) appendLink(r *Resource, l Link) {
	if i, ok := g.linkPos(l.Rel); ok {
		r.links[i].Array = true
		r.links[i].Links = append(r.links[i].Links, l)
		return
	}
	g.links[l.Rel] = len(r.links)
	r.links = append(r.links, LinkGroup{Rel: l.Rel, Links: []Link{l}})
}

func (g *groups) appendEmbedded(r *Resource, rel string, e *Resource) {
	if i, ok := g.embedPos(rel); ok {
		r.embedded[i].Array = true
		r.embedded[i].Resources = append(r.embedded[i].Resources, e)
		return
	}
	g.embedded[rel] = len(r.embedded)
	r.embedded = append(r.embedded, EmbedGroup{Rel: rel, Resources: []*Resource{e}})
}
