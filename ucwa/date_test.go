package ucwa

import (
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	tests := []struct {
		in     string
		want   time.Time
		offset int // seconds east of UTC of the result
	}{
		{"/Date(1474932029004)/", time.UnixMilli(1474932029004), 0},
		{`\/Date(1474932029004)\/`, time.UnixMilli(1474932029004), 0},
		{"/Date(0)/", time.Unix(0, 0), 0},
		{"/Date(-1500)/", time.UnixMilli(-1500), 0},
		{"/Date(1474932029004+0200)/", time.UnixMilli(1474932029004), 2 * 3600},
		{"/Date(1474932029004-0730)/", time.UnixMilli(1474932029004), -(7*3600 + 30*60)},
		{"/Date(-1500-0100)/", time.UnixMilli(-1500), -3600},
		{"2013-02-07T01:17:18.000Z", utc(2013, 2, 7, 1, 17, 18, 0), 0},
		{"2016-09-26T23:20:29.0389049Z", utc(2016, 9, 26, 23, 20, 29, 38904900), 0},
		{"2016-09-26T16:20:29.0389049-07:00", utc(2016, 9, 26, 23, 20, 29, 38904900), -7 * 3600},
		{"2016-09-26T16:20:29-0700", utc(2016, 9, 26, 23, 20, 29, 0), -7 * 3600},
		{"2016-09-27T01:20:29.5+02:00", utc(2016, 9, 26, 23, 20, 29, 500000000), 2 * 3600},
		{"2016-09-26T23:20:29", utc(2016, 9, 26, 23, 20, 29, 0), 0},
		{"2016-09-26T23:20:29.123456789", utc(2016, 9, 26, 23, 20, 29, 123456789), 0},
		{"2016-09-26t23:20:29z", utc(2016, 9, 26, 23, 20, 29, 0), 0},
		{"2016-02-29T00:00:00Z", utc(2016, 2, 29, 0, 0, 0, 0), 0},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in)
		if err != nil {
			t.Errorf("ParseDate(%q): %v", tt.in, err)
			continue
		}
		if !got.Equal(tt.want) {
			t.Errorf("ParseDate(%q) = %v, want %v", tt.in, got, tt.want)
		}
		if _, off := got.Zone(); off != tt.offset {
			t.Errorf("ParseDate(%q) offset = %d, want %d", tt.in, off, tt.offset)
		}
	}
}

func TestParseDateErrors(t *testing.T) {
	for _, in := range []string{
		"", "now", "1474932029004", "/Date()/", "/Date(abc)/", "/Date(12.5)/", "/Date(+12)/", "/Date(--12)/",
		"/Date(1474932029004)", "Date(1474932029004)/", `\/Date(1474932029004)/`, "/Date(99999999999999999999)/",
		"/Date(1+02)/", "/Date(1+2400)/", "/Date(1+0060)/", "/Date(1+02:00)/", "/Date(1-)/",
		"2016-09-26", "2016-09-26 23:20:29Z", "2016-9-26T23:20:29Z", "2016-13-26T23:20:29Z", "2015-02-29T00:00:00Z",
		"2016-09-31T00:00:00Z", "2016-09-26T24:00:00Z", "2016-09-26T23:60:29Z", "2016-09-26T23:20:60Z",
		"2016-09-26T23:20:29.Z", "2016-09-26T23:20:29.1234567890Z", "2016-09-26T23:20:29+7", "2016-09-26T23:20:29+25:00",
		"2016-09-26T23:20:29Z ", " 2016-09-26T23:20:29Z", "2016-09-26T23:20:29UTC", "+016-09-26T23:20:29Z",
	} {
		if got, err := ParseDate(in); err == nil {
			t.Errorf("ParseDate(%q) = %v, want an error", in, got)
		}
	}
}

func TestDateWireForms(t *testing.T) {
	tm := time.Date(2016, 9, 26, 16, 20, 29, 38904912, time.FixedZone("PDT", -7*3600))
	if got, want := string(appendJSONDate(nil, tm)), `"\/Date(1474932029038)\/"`; got != want {
		t.Errorf("JSON date = %s, want %s", got, want)
	}
	if got, want := string(appendISODate(nil, tm)), "2016-09-26T23:20:29.0389049Z"; got != want {
		t.Errorf("XML date = %s, want %s", got, want)
	}
}
