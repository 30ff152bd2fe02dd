package main

import (
	"encoding/json"
	"maps"
	"math/bits"
	"slices"
	"strconv"
	"time"
)

// hist is a latency histogram that worker processes send to the
// coordinator and that merges exactly: values in microseconds, kept with
// six significant bits (an error under 1.6 %), the maximum exact.
type hist struct {
	counts map[int]uint64
	n      uint64
	max    time.Duration
}

func bucketOf(us uint64) int {
	if us < 64 {
		return int(us)
	}
	e := bits.Len64(us) - 6
	return 64*e + int(us>>e)
}

// bucketValue is the middle of bucket b, in microseconds.
func bucketValue(b int) float64 {
	if b < 64 {
		return float64(b)
	}
	e, m := b/64, b%64
	lo := uint64(m) << e
	return float64(lo) + float64(uint64(1)<<e)/2
}

func (h *hist) add(d time.Duration) {
	if d < 0 {
		d = 0
	}
	if h.counts == nil {
		h.counts = map[int]uint64{}
	}
	h.counts[bucketOf(uint64(d/time.Microsecond))]++
	h.n++
	h.max = max(h.max, d)
}

func (h *hist) merge(o *hist) {
	if o.n == 0 {
		return
	}
	if h.counts == nil {
		h.counts = map[int]uint64{}
	}
	for b, c := range o.counts {
		h.counts[b] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the value at q (0..1), the maximum for q = 1.
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n-1)) + 1
	var seen uint64
	for _, b := range slices.Sorted(maps.Keys(h.counts)) {
		seen += h.counts[b]
		if seen >= rank {
			return min(time.Duration(bucketValue(b)*float64(time.Microsecond)), h.max)
		}
	}
	return h.max
}

type histWire struct {
	Counts map[string]uint64 `json:"counts,omitempty"`
	MaxNS  int64             `json:"max_ns"`
}

func (h hist) MarshalJSON() ([]byte, error) {
	w := histWire{Counts: map[string]uint64{}, MaxNS: int64(h.max)}
	for b, c := range h.counts {
		w.Counts[strconv.Itoa(b)] = c
	}
	return json.Marshal(w)
}

func (h *hist) UnmarshalJSON(b []byte) error {
	var w histWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*h = hist{max: time.Duration(w.MaxNS)}
	for k, c := range w.Counts {
		b, err := strconv.Atoi(k)
		if err != nil {
			return err
		}
		if h.counts == nil {
			h.counts = map[int]uint64{}
		}
		h.counts[b] += c
		h.n += c
	}
	return nil
}

// maxErrorKinds bounds the kinds of error one operation tells apart;
// beyond it they are counted as "other".
const maxErrorKinds = 24

// opStats is what one operation did in one process: successes (the
// latency histogram counts them), errors by kind, and the delivery
// latency of the events its changes caused.
type opStats struct {
	Latency  hist              `json:"latency"`
	Errors   map[string]uint64 `json:"errors,omitempty"`
	Delivery hist              `json:"delivery"`
}

func (s *opStats) fail(kind string, n uint64) {
	if s.Errors == nil {
		s.Errors = map[string]uint64{}
	}
	if _, ok := s.Errors[kind]; !ok && len(s.Errors) >= maxErrorKinds {
		kind = "other"
	}
	s.Errors[kind] += n
}

func (s *opStats) errorCount() uint64 {
	var n uint64
	for _, c := range s.Errors {
		n += c
	}
	return n
}

func (s *opStats) merge(o *opStats) {
	s.Latency.merge(&o.Latency)
	s.Delivery.merge(&o.Delivery)
	for k, c := range o.Errors {
		s.fail(k, c)
	}
}

// latencyReport is a histogram's summary, in milliseconds.
type latencyReport struct {
	N     uint64  `json:"n"`
	P50ms float64 `json:"p50_ms"`
	P95ms float64 `json:"p95_ms"`
	P99ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func summarize(h *hist) latencyReport {
	return latencyReport{N: h.n, P50ms: ms(h.quantile(0.50)), P95ms: ms(h.quantile(0.95)), P99ms: ms(h.quantile(0.99)), MaxMs: ms(h.max)}
}
