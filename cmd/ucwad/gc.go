package main

import "runtime/debug"

// defaultGCPercent is the garbage collector's target heap growth between
// collections when GOGC does not say otherwise: 50 instead of Go's 100.
// A server holding thousands of event requests keeps their state live for
// minutes, and each collection lets the heap grow by this share of it
// before the next: at 100, 19,000 held requests left about half the
// resident memory to garbage not yet collected (docs/benchmarks.md,
// "19,000 held P-GETs"; docs/decisions.md, "Garbage collection").
const defaultGCPercent = 50

// setGCPercent applies defaultGCPercent unless the operator set GOGC,
// which the runtime has already applied.
func setGCPercent(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}
