package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// BenchmarkBatch measures 20 GETs of the application's me resource sent
// as one batch against its baseline in the same run: the same 20 GETs
// sent one by one on a kept-alive connection. One op is the 20 requests.
func BenchmarkBatch(b *testing.B) {
	const n = 20
	s := newBenchServer(b)
	me := s.app.Href + "/me"
	b.Run("20 GETs alone", func(b *testing.B) {
		for b.Loop() {
			for range n {
				s.do("GET", me, "", "application/json", "", http.StatusOK)
			}
		}
	})
	b.Run("20 GETs in one batch", func(b *testing.B) {
		const boundary = "bench"
		var sb strings.Builder
		for range n {
			sb.WriteString("--" + boundary + "\r\nContent-Type: application/http; msgtype=request\r\n\r\nGET " + me + " HTTP/1.1\r\nAccept: application/json\r\n\r\n")
		}
		sb.WriteString("--" + boundary + "--\r\n")
		body := sb.String()
		for b.Loop() {
			out := s.do("POST", s.app.Href+"/batch", "multipart/batching;boundary="+boundary, "multipart/batching", body, http.StatusOK)
			if c := strings.Count(string(out), "HTTP/1.1 200 OK"); c != n {
				b.Fatalf("%d parts answered 200", c)
			}
		}
	})
}
