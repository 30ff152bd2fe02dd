package ucwa

import (
	"strconv"
	"strings"
)

// Format is a UCWA representation: JSON or XML.
type Format int

// The two representations. JSON is the zero value and the default.
const (
	JSON Format = iota
	XML
)

// String returns "json" or "xml".
func (f Format) String() string {
	switch f {
	case JSON:
		return "json"
	case XML:
		return "xml"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// Media types this package reads and writes.
const (
	MediaJSON       = "application/json"
	MediaUCWAJSON   = "application/vnd.microsoft.com.ucwa+json"
	MediaXML        = "application/xml"
	MediaUCWAXML    = "application/vnd.microsoft.com.ucwa+xml"
	MediaUCWAXMLAlt = "application/vnd.microsoft.ucwa+xml" // Versioning.md spelling, without ".com"
	MediaTextXML    = "text/xml"
)

const charsetParameter = "; charset=utf-8"

// offers are the types Negotiate can answer with, in the order that breaks
// ties between types matched by the same wildcard: plain JSON first because
// it is the default and what clients recognise UCWA errors by.
var offers = [...]struct {
	typ, sub string
	f        Format
}{
	{"application", "json", JSON},
	{"application", "vnd.microsoft.com.ucwa+json", JSON},
	{"application", "xml", XML},
	{"application", "vnd.microsoft.com.ucwa+xml", XML},
	{"application", "vnd.microsoft.ucwa+xml", XML},
	{"text", "xml", XML},
}

// ContentType returns the Content-Type to send for a body in format f when
// no Accept header asked for a particular type, e.g. "application/json;
// charset=utf-8".
func ContentType(f Format) string {
	if f == XML {
		return MediaXML + charsetParameter
	}
	return MediaJSON + charsetParameter
}

// Negotiate picks the response format from an Accept header value (several
// header lines may be joined with commas). For each type it can produce it
// takes the q-value of the most specific media range matching that type
// (exact, then type/*, then */*, "*" alone counting as */*), so a q=0 range
// excludes a type; it then picks the type with the highest q, ties going to
// the more specific range and then to the range listed first. Ranges with a
// malformed q-value are ignored. An empty header, or one accepting nothing
// this package produces, gives JSON.
//
// contentType is the exact Content-Type to send back: the chosen media type
// plus "; charset=utf-8". A wildcard match answers with application/json or
// application/xml.
func Negotiate(accept string) (f Format, contentType string) {
	type match struct {
		q, spec, pos int // q in thousandths; spec: 0 */*, 1 type/*, 2 exact
	}
	var best [len(offers)]match
	for i := range best {
		best[i] = match{q: -1, spec: -1}
	}
	pos := 0
	for rng := range splitAccept(accept) {
		typ, sub, q, ok := parseMediaRange(rng)
		if !ok {
			continue
		}
		pos++
		for i, o := range offers {
			spec := -1
			switch {
			case typ == "*" && sub == "*":
				spec = 0
			case typ == o.typ && sub == "*":
				spec = 1
			case typ == o.typ && sub == o.sub:
				spec = 2
			}
			// Among ranges of equal specificity the first listed counts.
			if spec > best[i].spec {
				best[i] = match{q: q, spec: spec, pos: pos}
			}
		}
	}
	win := -1
	for i, m := range best {
		if m.q <= 0 {
			continue
		}
		if win < 0 {
			win = i
			continue
		}
		w := best[win]
		if m.q > w.q || m.q == w.q && (m.spec > w.spec || m.spec == w.spec && m.pos < w.pos) {
			win = i
		}
	}
	if win < 0 {
		return JSON, MediaJSON + charsetParameter
	}
	o := offers[win]
	return o.f, o.typ + "/" + o.sub + charsetParameter
}

// splitAccept yields the comma-separated elements of an Accept value,
// leaving commas inside quoted parameter values alone.
func splitAccept(s string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		start, quoted := 0, false
		for i := 0; i < len(s); i++ {
			switch s[i] {
			case '\\':
				if quoted {
					i++
				}
			case '"':
				quoted = !quoted
			case ',':
				if !quoted {
					if !yield(s[start:i]) {
						return
					}
					start = i + 1
				}
			}
		}
		yield(s[start:])
	}
}

// parseMediaRange splits "type/sub; q=0.5; x=y" into lower-cased type and
// subtype and q in thousandths (1000 when absent). ok is false for an empty
// element, a range without a slash or with an invalid q.
func parseMediaRange(s string) (typ, sub string, q int, ok bool) {
	mt, params, _ := strings.Cut(s, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if mt == "*" {
		mt = "*/*"
	}
	typ, sub, found := strings.Cut(mt, "/")
	if !found || typ == "" || sub == "" || (typ == "*" && sub != "*") {
		return "", "", 0, false
	}
	q = 1000
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		name, val, _ := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(name), "q") {
			continue
		}
		q, ok = parseQ(strings.TrimSpace(val))
		if !ok {
			return "", "", 0, false
		}
		break // parameters after q are accept-extensions
	}
	return typ, sub, q, true
}

// parseQ parses a qvalue ("0", "0.5", "1.000", ".5") into thousandths.
// RFC 9110 allows three decimals; further digits are tolerated and
// truncated, but never to let a value above 1 through.
func parseQ(s string) (int, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	if len(whole) > 1 || whole == "" && frac == "" || len(frac) > 6 || !allDigits(whole) || !allDigits(frac) {
		return 0, false
	}
	q := 0
	switch whole {
	case "1":
		if strings.Trim(frac, "0") != "" {
			return 0, false
		}
		return 1000, true
	case "", "0":
	default:
		return 0, false
	}
	for i, scale := 0, 100; i < 3 && i < len(frac); i, scale = i+1, scale/10 {
		q += int(frac[i]-'0') * scale
	}
	return q, true
}
