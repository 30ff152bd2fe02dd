package ucwa

import "testing"

func TestNegotiate(t *testing.T) {
	const (
		json    = "application/json; charset=utf-8"
		vndJSON = "application/vnd.microsoft.com.ucwa+json; charset=utf-8"
		xml     = "application/xml; charset=utf-8"
		vndXML  = "application/vnd.microsoft.com.ucwa+xml; charset=utf-8"
		altXML  = "application/vnd.microsoft.ucwa+xml; charset=utf-8"
		textXML = "text/xml; charset=utf-8"
	)
	tests := []struct {
		accept string
		f      Format
		ct     string
	}{
		// Missing, wildcard, garbage: JSON.
		{"", JSON, json},
		{"   ", JSON, json},
		{"*/*", JSON, json},
		{"*", JSON, json},
		{"application/*", JSON, json},
		{"garbage", JSON, json},
		{"text/html", JSON, json},
		{";;;,,,", JSON, json},
		{"application/xml;q=abc", JSON, json},
		{"application/xml;q=1.5", JSON, json},
		{"application/xml;q=-1", JSON, json},
		{"application/xml;q=", JSON, json},
		{"*/xml", JSON, json},
		// Exact types name themselves.
		{"application/json", JSON, json},
		{"application/vnd.microsoft.com.ucwa+json", JSON, vndJSON},
		{"application/xml", XML, xml},
		{"application/vnd.microsoft.com.ucwa+xml", XML, vndXML},
		{"application/vnd.microsoft.ucwa+xml", XML, altXML},
		{"text/xml", XML, textXML},
		{"APPLICATION/XML", XML, xml},
		{" application/xml ; charset=utf-8 ", XML, xml},
		{`application/xml; foo="a,b", application/json;q=0.1`, XML, xml},
		// q-values.
		{"application/json;q=0.5, application/xml", XML, xml},
		{"application/xml;q=0.9, application/json;q=0.8", XML, xml},
		{"application/xml;q=0.8, application/json;q=0.9", JSON, json},
		{"application/xml;Q=0.8, application/json;q=.9", JSON, json},
		{"application/xml;q=1.000, application/json;q=0.999", XML, xml},
		{"application/json;q=0", JSON, json},
		{"application/json;q=0, application/xml", XML, xml},
		{"application/json;q=0.0, */*", JSON, vndJSON},
		{"application/json;q=0, application/vnd.microsoft.com.ucwa+json;q=0, */*", XML, xml},
		{"application/xml;q=0, */*;q=0.1", JSON, json},
		{"application/xml;q=0.0001, application/json;q=0", JSON, json},
		{"text/html, application/xml;q=0.9, */*;q=0.8", XML, xml},
		{"text/html, application/xhtml+xml, */*", JSON, json},
		{"application/*;q=0.2, application/xml", XML, xml},
		{"*/*;q=0.5, application/xml;q=0.5", XML, xml},
		// Ties: the more specific range, then the first listed.
		{"application/xml, application/json", XML, xml},
		{"application/json, application/xml", JSON, json},
		{"application/vnd.microsoft.com.ucwa+xml, application/json", XML, vndXML},
		{"application/*, application/xml", XML, xml},
		{"*/*, application/vnd.microsoft.com.ucwa+xml", XML, vndXML},
		// The first range of equal specificity decides a type's q.
		{"application/xml;q=0.1, application/xml;q=0.9, application/json;q=0.5", JSON, json},
		// Parameters after q are extensions.
		{"application/xml;q=0.5;level=1, application/json;q=0.4", XML, xml},
	}
	for _, tt := range tests {
		f, ct := Negotiate(tt.accept)
		if f != tt.f || ct != tt.ct {
			t.Errorf("Negotiate(%q) = %v, %q; want %v, %q", tt.accept, f, ct, tt.f, tt.ct)
		}
	}
}

func TestContentType(t *testing.T) {
	for _, tt := range []struct {
		f    Format
		want string
	}{{JSON, "application/json; charset=utf-8"}, {XML, "application/xml; charset=utf-8"}} {
		if got := ContentType(tt.f); got != tt.want {
			t.Errorf("ContentType(%v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

func TestParseQ(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"1", 1000, true}, {"1.", 1000, true}, {"1.000", 1000, true}, {"0", 0, true}, {"0.5", 500, true},
		{".5", 500, true}, {"0.123", 123, true}, {"0.1239", 123, true}, {"1.001", 0, false}, {"2", 0, false},
		{"", 0, false}, {".", 0, false}, {"0x1", 0, false}, {"NaN", 0, false}, {"-0", 0, false}, {"0.1234567", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseQ(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseQ(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
