package ucwa

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// appendJSONDate appends the ASP.NET AJAX form "\/Date(ms)\/", quotes
// included. The escaped slashes are part of the wire text: strict
// JavaScriptSerializer-style consumers look for them.
func appendJSONDate(b []byte, t time.Time) []byte {
	b = append(b, `"\/Date(`...)
	b = strconv.AppendInt(b, t.UnixMilli(), 10)
	return append(b, `)\/"`...)
}

// appendISODate appends t in UTC with the seven fraction digits .NET writes.
func appendISODate(b []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(b, "2006-01-02T15:04:05.0000000Z")
}

var errDate = errors.New("not a UCWA date")

// ParseDate parses the date forms UCWA clients send:
//
//   - "/Date(ms)/" and "\/Date(ms)\/", ms being milliseconds since the Unix
//     epoch (negative allowed), optionally followed by an offset "+hhmm" or
//     "-hhmm" before ")": the instant is still ms, the offset only gives the
//     location of the returned time;
//   - ISO-8601 / RFC 3339 "2006-01-02T15:04:05[.f][Z|±hh:mm|±hhmm]" with 1 to
//     9 fraction digits ("T" and "Z" in either case); without a zone the time
//     is taken as UTC.
//
// Anything else is an error.
func ParseDate(s string) (time.Time, error) {
	if t, ok := parseMSDate(s); ok {
		return t, nil
	}
	if t, ok := parseISODate(s); ok {
		return t, nil
	}
	return time.Time{}, &time.ParseError{Value: s, Message: ": " + errDate.Error()}
}

// parseMSDate parses the "/Date(…)/" form; Decode also uses it to tell
// dates apart from ordinary strings.
func parseMSDate(s string) (time.Time, bool) {
	var inner string
	switch {
	case strings.HasPrefix(s, "/Date(") && strings.HasSuffix(s, ")/"):
		inner = s[len("/Date(") : len(s)-len(")/")]
	case strings.HasPrefix(s, `\/Date(`) && strings.HasSuffix(s, `)\/`):
		inner = s[len(`\/Date(`) : len(s)-len(`)\/`)]
	default:
		return time.Time{}, false
	}
	if len(inner) < 1 {
		return time.Time{}, false
	}
	// The offset sign is searched after the first character so that a
	// leading minus stays part of the milliseconds.
	var zone *time.Location
	if i := strings.LastIndexAny(inner, "+-"); i > 0 {
		off := inner[i+1:]
		if len(off) != 4 || !allDigits(off) {
			return time.Time{}, false
		}
		hh, _ := strconv.Atoi(off[:2])
		mm, _ := strconv.Atoi(off[2:])
		if hh > 23 || mm > 59 {
			return time.Time{}, false
		}
		secs := hh*3600 + mm*60
		if inner[i] == '-' {
			secs = -secs
		}
		zone = time.FixedZone("", secs)
		inner = inner[:i]
	}
	digits := strings.TrimPrefix(inner, "-")
	if digits == "" || !allDigits(digits) {
		return time.Time{}, false
	}
	ms, err := strconv.ParseInt(inner, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	t := time.UnixMilli(ms).UTC()
	if zone != nil {
		t = t.In(zone)
	}
	return t, true
}

func parseISODate(s string) (time.Time, bool) {
	// 2006-01-02T15:04:05 is 19 bytes.
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(from, to int) (int, bool) {
		if !allDigits(s[from:to]) {
			return 0, false
		}
		n, _ := strconv.Atoi(s[from:to])
		return n, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 7)
	day, ok3 := num(8, 10)
	hour, ok4 := num(11, 13)
	minute, ok5 := num(14, 16)
	sec, ok6 := num(17, 19)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, false
	}
	if month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	rest := s[19:]
	nsec := 0
	if strings.HasPrefix(rest, ".") {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		frac := rest[1:n]
		if len(frac) < 1 || len(frac) > 9 {
			return time.Time{}, false
		}
		v, _ := strconv.Atoi(frac)
		for i := len(frac); i < 9; i++ {
			v *= 10
		}
		nsec = v
		rest = rest[n:]
	}
	loc := time.UTC
	switch {
	case rest == "" || rest == "Z" || rest == "z":
	case rest[0] == '+' || rest[0] == '-':
		off := rest[1:]
		if len(off) == 5 && off[2] == ':' {
			off = off[:2] + off[3:]
		}
		if len(off) != 4 || !allDigits(off) {
			return time.Time{}, false
		}
		hh, _ := strconv.Atoi(off[:2])
		mm, _ := strconv.Atoi(off[2:])
		if hh > 23 || mm > 59 {
			return time.Time{}, false
		}
		secs := hh*3600 + mm*60
		if rest[0] == '-' {
			secs = -secs
		}
		loc = time.FixedZone("", secs)
	default:
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc)
	if t.Day() != day { // time.Date normalises 31 February into March
		return time.Time{}, false
	}
	return t, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
