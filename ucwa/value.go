package ucwa

import (
	"slices"
	"strconv"
	"time"
)

// Kind tells which of the UCWA property types a Value holds.
type Kind int

// The property types UCWA knows. Enums are strings on the wire.
const (
	KindString  Kind = iota // the zero Value is the empty string
	KindInt                 // int64
	KindBool                // true/false (True/False in XML)
	KindDate                // "\/Date(ms)\/" in JSON, ISO-8601 in XML
	KindStrings             // a list of strings (propertyList in XML)
)

// String returns the kind's name, for messages.
func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindInt:
		return "int"
	case KindBool:
		return "bool"
	case KindDate:
		return "date"
	case KindStrings:
		return "strings"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one typed property value. It is immutable once built: the
// constructors copy what they are given. The zero Value is the empty string.
type Value struct {
	kind Kind
	s    string
	n    int64 // int value; 1/0 for bools
	t    time.Time
	l    []string
}

// String returns a string Value.
func String(s string) Value { return Value{kind: KindString, s: s} }

// Int returns an integer Value.
func Int(n int64) Value { return Value{kind: KindInt, n: n} }

// Bool returns a boolean Value.
func Bool(b bool) Value {
	v := Value{kind: KindBool}
	if b {
		v.n = 1
	}
	return v
}

// Date returns a date Value. JSON keeps millisecond precision and XML 100 ns
// precision; both are written in UTC, so the location of t is not kept.
func Date(t time.Time) Value { return Value{kind: KindDate, t: t} }

// Strings returns a string-list Value holding a copy of s. A nil or empty s
// is still a list: it is written as [] in JSON.
func Strings(s []string) Value { return Value{kind: KindStrings, l: slices.Clone(s)} }

// Kind reports the type of v.
func (v Value) Kind() Kind { return v.kind }

// Str returns the string of a KindString value, or "" for any other kind
// (see Text for a rendering of every kind).
func (v Value) Str() string {
	if v.kind != KindString {
		return ""
	}
	return v.s
}

// IntVal returns the integer of a KindInt value, or 0.
func (v Value) IntVal() int64 {
	if v.kind != KindInt {
		return 0
	}
	return v.n
}

// BoolVal returns the boolean of a KindBool value, or false.
func (v Value) BoolVal() bool { return v.kind == KindBool && v.n != 0 }

// DateVal returns the time of a KindDate value, or the zero time.
func (v Value) DateVal() time.Time {
	if v.kind != KindDate {
		return time.Time{}
	}
	return v.t
}

// StringsVal returns a copy of the list of a KindStrings value, or nil.
func (v Value) StringsVal() []string {
	if v.kind != KindStrings {
		return nil
	}
	return slices.Clone(v.l)
}

// Text renders v as XML carries it: strings as they are, integers in
// decimal, booleans as True/False, dates as ISO-8601 in UTC with seven
// fraction digits. A list is rendered as its items joined by commas, which is
// meant for messages only.
func (v Value) Text() string {
	switch v.kind {
	case KindInt:
		return strconv.FormatInt(v.n, 10)
	case KindBool:
		if v.n != 0 {
			return "True"
		}
		return "False"
	case KindDate:
		return string(appendISODate(nil, v.t))
	case KindStrings:
		b := []byte{}
		for i, s := range v.l {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, s...)
		}
		return string(b)
	}
	return v.s
}

// Equal reports whether v and w have the same kind and value. Dates are
// equal when they denote the same instant, whatever their locations.
func (v Value) Equal(w Value) bool {
	if v.kind != w.kind {
		return false
	}
	switch v.kind {
	case KindString:
		return v.s == w.s
	case KindInt, KindBool:
		return v.n == w.n
	case KindDate:
		return v.t.Equal(w.t)
	case KindStrings:
		return slices.Equal(v.l, w.l)
	}
	return false
}

// Property is one named value of a resource.
type Property struct {
	Name  string
	Value Value
}
