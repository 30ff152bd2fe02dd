package main

import (
	"io"
	"net/http"
	"testing"

	"github.com/ucwad/ucwad/clock"
)

// BenchmarkJoinPage: serving a meeting's join page (one read of the meeting
// and the template) and its script, against the baseline of the root
// resource (no store), on the same kept-alive loopback connection.
func BenchmarkJoinPage(b *testing.B) {
	m, user, password := startJoinServer(b, clock.Real(), "")
	org := newOrganizer(b, m.URL, user, password)
	join := org.schedule(`{"subject":"Design review"}`)["joinUrl"].(string)
	client := &http.Client{}
	get := func(b *testing.B, u, accept string) {
		b.ReportAllocs()
		for b.Loop() {
			r, _ := http.NewRequest("GET", u, nil)
			r.Header.Set("Accept", accept)
			res, err := client.Do(r)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				b.Fatalf("GET %s: %d", u, res.StatusCode)
			}
		}
	}
	b.Run("page", func(b *testing.B) { get(b, join, "text/html") })
	b.Run("script", func(b *testing.B) { get(b, m.URL+"/meet/static/join.js", "*/*") })
	b.Run("baseline-root", func(b *testing.B) { get(b, m.URL+"/", "application/json") })
}
