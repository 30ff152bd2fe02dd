package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// encodeBatch writes reqs as a multipart/batching body that parseBatch
// reads back as reqs, with a boundary that occurs nowhere in them.
func encodeBatch(reqs []batchRequest) (body []byte, boundary string) {
	for n := 0; ; n++ {
		boundary = fmt.Sprintf("roundtrip-%d", n)
		var b bytes.Buffer
		for _, r := range reqs {
			b.WriteString("--" + boundary + "\r\nContent-Type: application/http; msgtype=request\r\n\r\n")
			b.WriteString(r.method + " " + r.target + " HTTP/1.1\r\n")
			for name, values := range r.header {
				for _, v := range values {
					b.WriteString(name + ": " + v + "\r\n")
				}
			}
			b.WriteString("\r\n")
			b.Write(r.body)
			b.WriteString("\r\n")
		}
		b.WriteString("--" + boundary + "--\r\n")
		if bytes.Count(b.Bytes(), []byte(boundary)) == len(reqs)+1 {
			return b.Bytes(), boundary
		}
	}
}

// FuzzBatchDecoder: parseBatch never panics, refuses with its two errors
// only, honours its limit, returns only requests the dispatcher can take,
// and what it returns survives being written out and read again.
func FuzzBatchDecoder(f *testing.F) {
	const b = "77f2569d"
	f.Add([]byte("--"+b+"\r\nContent-Type: application/http; msgtype=request\r\n\r\nGET /ucwa/oauth/v1/applications/1/me HTTP/1.1\r\nHost: h\r\nAccept: application/json\r\n\r\n--"+b+"--\r\n"), b)
	f.Add([]byte("\r\n--"+b+"\r\nContent-Type: application/http; msgtype=request\r\n\r\nPOST /x HTTP/1.1\r\nHost: h\r\nAccept: application/json\r\nData: {\"subject\":\"s\"}\r\n\r\n\r\n--"+b+"--\r\n"), b)
	f.Add([]byte("--"+b+"\nContent-Type: application/http\n\nPUT https://h/a?b=c HTTP/1.1\nContent-Length: 2\nX-Folded: a\n b\n\n{}\n--"+b+"\n\n"), b)
	f.Add([]byte("--"+b+"\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGET /a=3Db HTTP/1.1\r\n\r\n--"+b+"--"), b)
	f.Add([]byte("--"+b+"\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: base64\r\n\r\nR0VUIC8gSFRUUC8xLjENCg0K\r\n--"+b+"--"), b)
	f.Add([]byte("preamble\r\n--"+b+" \r\nContent-Type: application/http\r\n\r\nDELETE / HTTP/1.1\r\n\r\n--"+b+"x\r\n--"+b+"--epilogue"), b)
	const max = 8
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		reqs, err := parseBatch(body, boundary, max)
		if err != nil {
			var syntax *batchSyntaxError
			if !errors.Is(err, errBatchTooLarge) && !errors.As(err, &syntax) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			return
		}
		if len(reqs) > max {
			t.Fatalf("%d requests, limit %d", len(reqs), max)
		}
		for i, r := range reqs {
			if !isToken(r.method) || r.method != strings.ToUpper(r.method) {
				t.Fatalf("request %d: method %q", i, r.method)
			}
			if u, err := url.ParseRequestURI(r.target); err != nil || !strings.HasPrefix(r.target, "/") || u.IsAbs() {
				t.Fatalf("request %d: target %q (%v)", i, r.target, err)
			}
			for name, values := range r.header {
				if !isToken(name) {
					t.Fatalf("request %d: header name %q", i, name)
				}
				for _, v := range values {
					if !validHeaderValue(v) || strings.TrimSpace(v) != v {
						t.Fatalf("request %d: header %s value %q", i, name, v)
					}
				}
			}
			if r.body != nil && len(r.body) == 0 {
				t.Fatalf("request %d: empty body not nil", i)
			}
		}
		enc, nb := encodeBatch(reqs)
		again, err := parseBatch(enc, nb, max)
		if err != nil {
			t.Fatalf("re-reading %q: %v", enc, err)
		}
		if len(reqs) == 0 && len(again) == 0 {
			return
		}
		if !reflect.DeepEqual(again, reqs) {
			t.Fatalf("round trip changed the requests:\n%#v\n%#v", reqs, again)
		}
	})
}

// TestOutstanding: slots are per user, taken whole or not at all, and a
// user with none outstanding leaves nothing behind.
func TestOutstanding(t *testing.T) {
	o := newOutstanding(3)
	if !o.reserve(1, 3) || o.reserve(1, 1) {
		t.Fatal("user 1: 3 of 3 then 1 more")
	}
	if !o.reserve(2, 2) {
		t.Fatal("user 2 is counted apart")
	}
	if o.reserve(2, 2) {
		t.Fatal("user 2: 2 + 2 > 3")
	}
	o.release(1, 1)
	if !o.reserve(1, 1) || o.reserve(1, 1) {
		t.Fatal("user 1 after releasing one")
	}
	o.release(1, 3)
	o.release(2, 2)
	if len(o.n) != 0 {
		t.Fatalf("counters left behind: %v", o.n)
	}
}
