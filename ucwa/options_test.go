package ucwa

import (
	"bytes"
	"reflect"
	"testing"
)

// TestOptionsRoundTrip: what EncodeOptions writes, DecodeOptions reads
// back, in both formats; JSON always carries its arrays.
func TestOptionsRoundTrip(t *testing.T) {
	m := []MethodMetadata{
		{HTTPMethod: "POST", Parameters: []ParameterMetadata{{Name: "type", SupportedValues: []string{"Browser", "<&>"}}, {Name: "culture"}}},
		{HTTPMethod: "OPTIONS"},
	}
	for _, f := range []Format{JSON, XML} {
		var b bytes.Buffer
		if err := EncodeOptions(&b, f, m); err != nil {
			t.Fatal(err)
		}
		got, err := DecodeOptions(&b, f)
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("%s: %+v %v", f, got, err)
		}
	}
	var b bytes.Buffer
	EncodeOptions(&b, JSON, []MethodMetadata{{HTTPMethod: "OPTIONS"}})
	if want := `{"metadata":[{"httpMethod":"OPTIONS","parameters":[]}]}`; b.String() != want {
		t.Errorf("JSON %s, want %s", b.String(), want)
	}
}

// FuzzDecodeOptions: DecodeOptions never panics, and what it reads
// survives being written and read again in the same format.
func FuzzDecodeOptions(f *testing.F) {
	f.Add([]byte(`{"metadata":[{"httpMethod":"POST","parameters":[{"name":"type","supportedValues":["Browser"]}]}]}`), false)
	f.Add([]byte(`<?xml version="1.0"?><optionsMetadata><metadata><httpMethodMetadata><httpMethod>POST</httpMethod><parameters><parameter><name>n</name><supportedValues><value>v</value></supportedValues></parameter></parameters></httpMethodMetadata></metadata></optionsMetadata>`), true)
	f.Add([]byte(`{"metadata":[{"parameters":null}]}`), false)
	f.Fuzz(func(t *testing.T, data []byte, xml bool) {
		format := JSON
		if xml {
			format = XML
		}
		m, err := DecodeOptions(bytes.NewReader(data), format)
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := EncodeOptions(&b, format, m); err != nil {
			t.Fatalf("encoding %+v: %v", m, err)
		}
		again, err := DecodeOptions(&b, format)
		if err != nil {
			t.Fatalf("re-reading %s: %v", b.Bytes(), err)
		}
		if !reflect.DeepEqual(again, m) {
			t.Fatalf("round trip changed\n%+v\n%+v", m, again)
		}
	})
}
