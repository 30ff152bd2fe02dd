package ucwa

import (
	"encoding/xml"
	"errors"
	"io"
)

// Reason is the UCWA error body, also carried by failed events. Code is the
// only required member; empty Subcode, Message and Parameters are omitted.
type Reason struct {
	Code, Subcode, Message string
	// Parameters name the invalid or missing request members (400
	// ParameterValidationFailure). Names should be unique: JSON writes them
	// as the members of one object.
	Parameters []Parameter
}

// Parameter is one entry of a Reason's parameters bag.
type Parameter struct {
	Name, Value string
}

const reasonOpen = `<reason xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="` + Namespace + `">`

// EncodeReason writes the error body r in format f, in one Write call:
// JSON {"code":…,"subcode":…,"message":…,"parameters":{name:value,…}} or
// XML <reason> with the xsd/xsi declarations real servers send.
func EncodeReason(w io.Writer, f Format, r *Reason) error {
	if r == nil {
		return errors.New("ucwa: EncodeReason of nil reason")
	}
	e := getState()
	defer putState(e)
	switch f {
	case JSON:
		e.b = appendJSONReason(e.b, r)
	case XML:
		e.b = append(e.b, xmlDecl...)
		e.b = appendXMLReason(e.b, r, reasonOpen)
	default:
		return errFormat
	}
	_, err := w.Write(e.b)
	return err
}

func appendJSONReason(b []byte, r *Reason) []byte {
	b = append(b, `{"code":`...)
	b = appendJSONString(b, r.Code)
	if r.Subcode != "" {
		b = append(b, `,"subcode":`...)
		b = appendJSONString(b, r.Subcode)
	}
	if r.Message != "" {
		b = append(b, `,"message":`...)
		b = appendJSONString(b, r.Message)
	}
	if len(r.Parameters) > 0 {
		b = append(b, `,"parameters":{`...)
		for i, p := range r.Parameters {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, p.Name)
			b = append(b, ':')
			b = appendJSONString(b, p.Value)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendXMLReason writes a <reason> element; open is its start tag, which
// declares namespaces at the top level and nothing inside events.
func appendXMLReason(b []byte, r *Reason, open string) []byte {
	b = append(b, open...)
	b = appendXMLSimple(b, "code", r.Code)
	if r.Subcode != "" {
		b = appendXMLSimple(b, "subcode", r.Subcode)
	}
	if r.Message != "" {
		b = appendXMLSimple(b, "message", r.Message)
	}
	if len(r.Parameters) > 0 {
		b = append(b, `<parameters>`...)
		for _, p := range r.Parameters {
			b = appendXMLProperty(b, Property{Name: p.Name, Value: String(p.Value)})
		}
		b = append(b, `</parameters>`...)
	}
	return append(b, `</reason>`...)
}

// DecodeReason reads an error body in format f. Members it does not know
// (debugInfo, link) are skipped; non-string parameter values are kept as
// their literal text.
func DecodeReason(r io.Reader, f Format) (*Reason, error) {
	return decodeDocument(r, f, "reason", jsonReason,
		func(d *xml.Decoder, _ xml.StartElement) (*Reason, error) { return xmlReason(d) })
}

func jsonReason(v *jsonValue) *Reason {
	r := &Reason{}
	for _, m := range v.members {
		switch m.name {
		case "code":
			r.Code = jsonText(&m.value)
		case "subcode":
			r.Subcode = jsonText(&m.value)
		case "message":
			r.Message = jsonText(&m.value)
		case "parameters":
			for _, p := range m.value.members {
				r.Parameters = append(r.Parameters, Parameter{Name: p.name, Value: jsonText(&p.value)})
			}
		}
	}
	return r
}

// xmlReason reads a <reason> element whose start was just read, up to and
// including its end.
func xmlReason(d *xml.Decoder) (*Reason, error) {
	r := &Reason{}
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, xmlSyntax(d, err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return r, nil
		case xml.StartElement:
			var dst *string
			switch t.Name.Local {
			case "code":
				dst = &r.Code
			case "subcode":
				dst = &r.Subcode
			case "message":
				dst = &r.Message
			case "parameters":
				ps, err := xmlParameters(d)
				if err != nil {
					return nil, err
				}
				r.Parameters = append(r.Parameters, ps...)
				continue
			default:
				if err := d.Skip(); err != nil {
					return nil, xmlSyntax(d, err)
				}
				continue
			}
			s, err := xmlLeafText(d)
			if err != nil {
				return nil, err
			}
			*dst = s
		}
	}
}

func xmlParameters(d *xml.Decoder) ([]Parameter, error) {
	var ps []Parameter
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, xmlSyntax(d, err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return ps, nil
		case xml.StartElement:
			if t.Name.Local != "property" {
				if err := d.Skip(); err != nil {
					return nil, xmlSyntax(d, err)
				}
				continue
			}
			name, _ := xmlAttr(t, "name")
			s, err := xmlLeafText(d)
			if err != nil {
				return nil, err
			}
			ps = append(ps, Parameter{Name: name, Value: s})
		}
	}
}
