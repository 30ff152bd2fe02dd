package main

import (
	"runtime/debug"
	"testing"
)

// TestGCPercent: without GOGC the collector runs at defaultGCPercent; an
// operator's GOGC (already applied by the runtime) is left alone.
func TestGCPercent(t *testing.T) {
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	setGCPercent(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != defaultGCPercent {
		t.Errorf("without GOGC: %d, want %d", got, defaultGCPercent)
	}
	setGCPercent(func(k string) string {
		if k == "GOGC" {
			return "100"
		}
		return ""
	})
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC=100: %d, want it left at 100", got)
	}
}
