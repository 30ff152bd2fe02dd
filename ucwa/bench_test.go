package ucwa

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
)

func benchmarkEncode(b *testing.B, f Format) {
	r := meeting(10)
	size, _ := Marshal(f, r)
	b.SetBytes(int64(len(size)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Encode(io.Discard, f, r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeJSON encodes a meeting with 10 embedded extensions.
func BenchmarkEncodeJSON(b *testing.B) { benchmarkEncode(b, JSON) }

// BenchmarkEncodeXML encodes a meeting with 10 embedded extensions.
func BenchmarkEncodeXML(b *testing.B) { benchmarkEncode(b, XML) }

func BenchmarkDecodeJSON(b *testing.B) {
	data := mustMarshal(JSON, meeting(10))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(bytes.NewReader(data), JSON); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadInputJSON(b *testing.B) {
	data := []byte(`{"subject":"Quarterly review","description":"numbers","attendees":["sip:a@contoso.com","sip:b@contoso.com"],` +
		`"accessLevel":"SameEnterprise","automaticLeaderAssignment":"SameEnterprise","expirationTime":"\/Date(1474932029004)\/",` +
		`"entryExitAnnouncement":"Disabled","lobbyBypassForPhoneUsers":"Disabled","phoneUserAdmission":"Enabled"}`)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadInput(bytes.NewReader(data), "application/json"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNegotiate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Negotiate("text/html, application/xhtml+xml, application/xml;q=0.9, */*;q=0.8")
	}
}

// BenchmarkEncodeStdlibJSON is the baseline for BenchmarkEncodeJSON: the
// same document, decoded into generic maps once, re-encoded by
// encoding/json each iteration.
func BenchmarkEncodeStdlibJSON(b *testing.B) {
	var doc any
	if err := json.Unmarshal(mustMarshal(JSON, meeting(10)), &doc); err != nil {
		b.Fatal(err)
	}
	enc := json.NewEncoder(io.Discard)
	data, _ := json.Marshal(doc)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := enc.Encode(doc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeStdlibJSON is the baseline for BenchmarkReadInputJSON:
// encoding/json decoding the same body into a generic map.
func BenchmarkDecodeStdlibJSON(b *testing.B) {
	data := []byte(`{"subject":"Quarterly review","description":"numbers","attendees":["sip:a@contoso.com","sip:b@contoso.com"],` +
		`"accessLevel":"SameEnterprise","automaticLeaderAssignment":"SameEnterprise","expirationTime":"\/Date(1474932029004)\/",` +
		`"entryExitAnnouncement":"Disabled","lobbyBypassForPhoneUsers":"Disabled","phoneUserAdmission":"Enabled"}`)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			b.Fatal(err)
		}
	}
}
