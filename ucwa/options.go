package ucwa

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
)

// MethodMetadata is one entry of the answer to OPTIONS on a resource that
// documents it (applications, anonApplications): an HTTP method and the
// parameters it takes, each with the values it supports (none listed: any
// string).
type MethodMetadata struct {
	HTTPMethod string
	Parameters []ParameterMetadata
}

// ParameterMetadata is a parameter of a MethodMetadata.
type ParameterMetadata struct {
	Name            string
	SupportedValues []string
}

// The wire shapes. JSON: {"metadata":[{"httpMethod":…,"parameters":[{"name":…,
// "supportedValues":[…]}]}]}, arrays always present. XML: <optionsMetadata>
// outside the UCWA namespace, with the xsd/xsi declarations of the
// reference example, holding <metadata><httpMethodMetadata>….
type (
	jsonOptions struct {
		Metadata []jsonMethod `json:"metadata"`
	}
	jsonMethod struct {
		HTTPMethod string      `json:"httpMethod"`
		Parameters []jsonParam `json:"parameters"`
	}
	jsonParam struct {
		Name            string   `json:"name"`
		SupportedValues []string `json:"supportedValues"`
	}
	xmlOptions struct {
		XMLName  xml.Name    `xml:"optionsMetadata"`
		XSD      string      `xml:"xmlns:xsd,attr,omitempty"`
		XSI      string      `xml:"xmlns:xsi,attr,omitempty"`
		Metadata []xmlMethod `xml:"metadata>httpMethodMetadata"`
	}
	xmlMethod struct {
		HTTPMethod string     `xml:"httpMethod"`
		Parameters []xmlParam `xml:"parameters>parameter"`
	}
	xmlParam struct {
		Name            string   `xml:"name"`
		SupportedValues []string `xml:"supportedValues>value"`
	}
)

// EncodeOptions writes the OPTIONS metadata m in format f, in one Write
// call. JSON is compact, on one line.
func EncodeOptions(w io.Writer, f Format, m []MethodMetadata) error {
	var b []byte
	var err error
	switch f {
	case JSON:
		doc := jsonOptions{Metadata: []jsonMethod{}}
		for _, mm := range m {
			jm := jsonMethod{HTTPMethod: mm.HTTPMethod, Parameters: []jsonParam{}}
			for _, p := range mm.Parameters {
				jm.Parameters = append(jm.Parameters, jsonParam{Name: p.Name, SupportedValues: append([]string{}, p.SupportedValues...)})
			}
			doc.Metadata = append(doc.Metadata, jm)
		}
		b, err = json.Marshal(doc)
	case XML:
		doc := xmlOptions{XSD: "http://www.w3.org/2001/XMLSchema", XSI: xsiNamespace}
		for _, mm := range m {
			xm := xmlMethod{HTTPMethod: mm.HTTPMethod}
			for _, p := range mm.Parameters {
				xm.Parameters = append(xm.Parameters, xmlParam(p))
			}
			doc.Metadata = append(doc.Metadata, xm)
		}
		b, err = xml.Marshal(doc)
		b = append([]byte(xmlDecl), b...)
	default:
		return errFormat
	}
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// DecodeOptions reads what EncodeOptions writes. Empty parameter and value
// lists come back nil.
func DecodeOptions(r io.Reader, f Format) ([]MethodMetadata, error) {
	data, err := readDocument(r)
	if err != nil {
		return nil, err
	}
	var out []MethodMetadata
	switch f {
	case JSON:
		var doc jsonOptions
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, err
		}
		if doc.Metadata == nil {
			return nil, errors.New("ucwa: no metadata member")
		}
		for _, jm := range doc.Metadata {
			mm := MethodMetadata{HTTPMethod: jm.HTTPMethod}
			for _, p := range jm.Parameters {
				mm.Parameters = append(mm.Parameters, ParameterMetadata{Name: p.Name, SupportedValues: nonEmpty(p.SupportedValues)})
			}
			out = append(out, mm)
		}
	case XML:
		var doc xmlOptions
		if err := xml.Unmarshal(data, &doc); err != nil {
			return nil, err
		}
		for _, xm := range doc.Metadata {
			mm := MethodMetadata{HTTPMethod: xm.HTTPMethod}
			for _, p := range xm.Parameters {
				mm.Parameters = append(mm.Parameters, ParameterMetadata{Name: p.Name, SupportedValues: nonEmpty(p.SupportedValues)})
			}
			out = append(out, mm)
		}
	default:
		return nil, errFormat
	}
	return out, nil
}

func nonEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
