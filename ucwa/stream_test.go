package ucwa

import (
	"bytes"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"testing"
)

// yieldAll yields rs, then err if it is not nil.
func yieldAll(rs []*Resource, err error) iter.Seq2[*Resource, error] {
	return func(yield func(*Resource, error) bool) {
		for _, r := range rs {
			if !yield(r, nil) {
				return
			}
		}
		if err != nil {
			yield(nil, err)
		}
	}
}

// countingWriter records the size of every Write.
type countingWriter struct {
	bytes.Buffer
	writes []int
}

func (w *countingWriter) Write(b []byte) (int, error) {
	w.writes = append(w.writes, len(b))
	return w.Buffer.Write(b)
}

// TestEncodeStreamEqualsEncode: a streamed collection is byte for byte what
// Encode writes for the same resource with the items embedded, in both
// formats, whatever else the resource embeds, for any number of items.
func TestEncodeStreamEqualsEncode(t *testing.T) {
	heads := map[string]func() *Resource{
		"bare":    func() *Resource { return New("onlineMeetingExtensions", "/x") },
		"no self": func() *Resource { return New("myOnlineMeetings", "") },
		"full":    func() *Resource { return meeting(0) },
		"embeds too": func() *Resource {
			return New("myOnlineMeetings", "/m").EmbedArray("myAssignedOnlineMeeting", []*Resource{meeting(2)})
		},
	}
	for name, head := range heads {
		for _, n := range []int{0, 1, 3, 200} {
			items := make([]*Resource, n)
			for i := range items {
				items[i] = meeting(i % 4)
				items[i].Set("description", String(strings.Repeat("<&\"x", i*50)))
			}
			for _, f := range []Format{JSON, XML} {
				var got countingWriter
				if err := EncodeStream(&got, f, head(), "myOnlineMeeting", yieldAll(items, nil)); err != nil {
					t.Fatalf("%s, %d items, %v: %v", name, n, f, err)
				}
				want := marshal(t, f, head().EmbedArray("myOnlineMeeting", items))
				if !bytes.Equal(got.Bytes(), want) {
					t.Fatalf("%s, %d items, %v:\ngot  %s\nwant %s", name, n, f, got.Bytes(), want)
				}
				// Written as it goes, each write the buffer and at most one
				// item more.
				largest := 0
				for _, it := range items {
					largest = max(largest, len(marshal(t, f, it)))
				}
				if n == 200 && (len(got.writes) < 10 || slices.Max(got.writes) > streamFlush+largest) {
					t.Errorf("%s, %v: %d writes of at most %d bytes for %d bytes", name, f, len(got.writes), slices.Max(got.writes), got.Len())
				}
			}
		}
	}
}

func TestEncodeStreamErrors(t *testing.T) {
	boom := errors.New("boom")
	items := []*Resource{meeting(1), meeting(1)}
	var buf bytes.Buffer
	if err := EncodeStream(&buf, JSON, New("x", "/x"), "item", yieldAll(items, boom)); !errors.Is(err, boom) {
		t.Errorf("a failing sequence: got %v, want %v", err, boom)
	}
	if err := EncodeStream(failWriter{}, XML, New("x", "/x"), "item", yieldAll(items, nil)); !errors.Is(err, errWrite) {
		t.Errorf("a failing writer: got %v, want %v", err, errWrite)
	}
	if err := EncodeStream(&buf, JSON, New("x", "/x").EmbedArray("item", nil), "item", yieldAll(items, nil)); err == nil {
		t.Error("a rel embedded already: got nil error")
	}
	if err := EncodeStream(&buf, Format(7), New("x", "/x"), "item", yieldAll(items, nil)); err == nil {
		t.Error("an unknown format: got nil error")
	}
	if err := EncodeStream(&buf, JSON, nil, "item", yieldAll(items, nil)); err == nil {
		t.Error("a nil resource: got nil error")
	}
	// Stopping early leaves the sequence alone.
	seen := 0
	seq := func(yield func(*Resource, error) bool) {
		for i := range 5 {
			seen++
			if !yield(nil, fmt.Errorf("item %d", i)) {
				return
			}
		}
	}
	if err := EncodeStream(&buf, JSON, New("x", "/x"), "item", seq); err == nil || seen != 1 {
		t.Errorf("stopping at the first error: err %v after %d items", err, seen)
	}
}
