package ucwa

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// Helpers over encoding/xml's token stream. Decoding walks tokens rather
// than unmarshalling into structs because UCWA XML is generic (property
// bags, repeated links) and element order matters.

func newXMLDecoder(data []byte) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	return d
}

// xmlSyntax turns a token error into a *SyntaxError carrying the offset.
func xmlSyntax(d *xml.Decoder, err error) error {
	var se *SyntaxError
	if errors.As(err, &se) {
		return err
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return &SyntaxError{Msg: "XML: " + err.Error(), Offset: d.InputOffset()}
}

func isSpace(b []byte) bool { return len(bytes.TrimLeft(b, " \t\r\n")) == 0 }

// xmlRoot returns the root start element, allowing only the XML
// declaration, comments, processing instructions and whitespace before it.
// A DOCTYPE is refused: UCWA never uses one, and refusing it keeps entity
// tricks out.
func xmlRoot(d *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return xml.StartElement{}, xmlSyntax(d, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.CharData:
			if !isSpace(t) {
				return xml.StartElement{}, &SyntaxError{Msg: "XML: text before the root element", Offset: d.InputOffset()}
			}
		case xml.Directive:
			return xml.StartElement{}, &SyntaxError{Msg: "XML: directives are not allowed", Offset: d.InputOffset()}
		}
	}
}

// xmlEnd checks that nothing but comments, processing instructions and
// whitespace follows the root element.
func xmlEnd(d *xml.Decoder) error {
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return xmlSyntax(d, err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if !isSpace(t) {
				return &SyntaxError{Msg: "XML: text after the root element", Offset: d.InputOffset()}
			}
		case xml.Comment, xml.ProcInst:
		default:
			return &SyntaxError{Msg: "XML: content after the root element", Offset: d.InputOffset()}
		}
	}
}

// xmlAttr returns the unqualified attribute name of e.
func xmlAttr(e xml.StartElement, name string) (string, bool) {
	for _, a := range e.Attr {
		if a.Name.Space == "" && a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// xmlNil reports xsi:nil="true". The prefix is accepted undeclared as well,
// as hand-written clients forget the xmlns:xsi declaration.
func xmlNil(e xml.StartElement) bool {
	for _, a := range e.Attr {
		if a.Name.Local == "nil" && (a.Name.Space == xsiNamespace || a.Name.Space == "xsi") {
			v := strings.TrimSpace(a.Value)
			return strings.EqualFold(v, "true") || v == "1"
		}
	}
	return false
}

// xmlLeafText reads the text of an element whose start was just read, up to
// and including its end. Child elements are an error.
func xmlLeafText(d *xml.Decoder) (string, error) {
	var b []byte
	for {
		tok, err := d.Token()
		if err != nil {
			return "", xmlSyntax(d, err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			b = append(b, t...)
		case xml.StartElement:
			return "", &SyntaxError{Msg: "XML: element <" + t.Name.Local + "> inside a text-only element", Offset: d.InputOffset()}
		case xml.EndElement:
			return string(b), nil
		}
	}
}

// xmlItems reads the <item> children of a <propertyList> whose start was
// just read, up to and including its end.
func xmlItems(d *xml.Decoder) ([]string, error) {
	items := []string{}
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, xmlSyntax(d, err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if !isSpace(t) {
				return nil, &SyntaxError{Msg: "XML: text inside <propertyList>", Offset: d.InputOffset()}
			}
		case xml.StartElement:
			if t.Name.Local != "item" || xmlNil(t) {
				return nil, &SyntaxError{Msg: "XML: <propertyList> may only hold non-nil <item> elements", Offset: d.InputOffset()}
			}
			s, err := xmlLeafText(d)
			if err != nil {
				return nil, err
			}
			items = append(items, s)
		case xml.EndElement:
			return items, nil
		}
	}
}

// xmlLink reads rel, href, title and revision attributes.
func xmlLink(e xml.StartElement) Link {
	var l Link
	l.Rel, _ = xmlAttr(e, "rel")
	l.Href, _ = xmlAttr(e, "href")
	l.Title, _ = xmlAttr(e, "title")
	l.Revision, _ = xmlAttr(e, "revision")
	return l
}

// ucwaElement reports whether e is the named element in the UCWA namespace
// or in none.
func ucwaElement(e xml.StartElement, local string) bool {
	return e.Name.Local == local && (e.Name.Space == "" || e.Name.Space == Namespace)
}
