// Package jsonread reads JSON documents for decoders written by hand (or
// generated) that must give exactly what encoding/json gives, or give up:
// every method reports false on anything it does not read exactly as
// encoding/json would (malformed JSON, invalid UTF-8 or a lone surrogate
// in a string, a number that does not fit, ...), and the caller then
// decodes with encoding/json, whose results and errors stay the
// reference. It saves the reflection encoding/json spends on a type the
// first time it meets it (specconv's config.json, libcontainer's
// state.json).
package jsonread

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Reader reads one JSON document; every method returns false (or ok
// false) to give up.
type Reader struct {
	data  []byte
	i     int
	depth int
}

// maxSkipDepth bounds the nesting of a value skipped (an unknown field):
// deeper, the Reader gives up (encoding/json refuses past 10000).
const maxSkipDepth = 512

// New returns a Reader of data.
func New(data []byte) *Reader { return &Reader{data: data} }

// End reports whether only white space is left.
func (d *Reader) End() bool {
	d.Space()
	return d.i == len(d.data)
}

// RawString reads one string and returns it with its quotes, as an
// UnmarshalJSON method takes it (time.Time's).
func (d *Reader) RawString() ([]byte, bool) {
	if d.Peek() != '"' {
		return nil, false
	}
	start := d.i
	if _, ok := d.stringBytes(); !ok {
		return nil, false
	}
	return d.data[start:d.i], true
}

// Space skips white space.
func (d *Reader) Space() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// Peek returns the next value's first byte (0 at the end).
func (d *Reader) Peek() byte {
	d.Space()
	if d.i >= len(d.data) {
		return 0
	}
	return d.data[d.i]
}

// Null consumes a null if one comes next.
func (d *Reader) Null() bool {
	return d.Peek() == 'n' && d.literal("null")
}

// Members reads an object's members one at a time. It hands no slice of
// the document to a callback and stores none (the compiler would then
// keep the whole document on the heap: libcontainer's state.json buffer
// is on the stack):
//
//	m := d.Members()
//	for key, more := m.Next(); more; key, more = m.Next() {
//		switch string(key) { ... read the value, or give up ... }
//	}
//	ok := m.OK()
func (d *Reader) Members() Members { return Members{d: d} }

// Members iterates over an object (see Reader.Members).
type Members struct {
	d       *Reader
	started bool
	ended   bool
	ok      bool
}

// Next reads the next member's name and its ':' (the value is the
// caller's to read) and returns the name, a slice of the document (or a
// copy, for a name with escapes); or it reads the object's end, or gives
// up: more is false then, and OK says which.
func (m *Members) Next() (key []byte, more bool) {
	if m.ended {
		return nil, false
	}
	d := m.d
	if !m.started {
		m.started = true
		if d.Peek() != '{' {
			return nil, m.stop(false)
		}
		d.i++
		if d.Peek() == '}' {
			d.i++
			return nil, m.stop(true)
		}
	} else {
		switch d.Peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil, m.stop(true)
		default:
			return nil, m.stop(false)
		}
	}
	if d.Peek() != '"' {
		return nil, m.stop(false)
	}
	key, ok := d.stringBytes()
	if !ok || d.Peek() != ':' {
		return nil, m.stop(false)
	}
	d.i++
	return key, true
}

// stop ends the iteration (false, for Next to return).
func (m *Members) stop(ok bool) bool {
	m.ended, m.ok = true, ok
	return false
}

// OK reports whether the object was read to its end.
func (m *Members) OK() bool { return m.ended && m.ok }

// Array reads an array, calling elem for each element.
func (d *Reader) Array(elem func() bool) bool {
	if d.Peek() != '[' {
		return false
	}
	d.i++
	if d.Peek() == ']' {
		d.i++
		return true
	}
	for {
		if !elem() {
			return false
		}
		switch d.Peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return true
		default:
			return false
		}
	}
}

// First marks field bit of seen, giving up on a name seen before in the
// object (encoding/json merges a duplicate into the first: left to it).
func (d *Reader) First(seen *uint64, bit int) bool {
	if *seen&(1<<bit) != 0 {
		return false
	}
	*seen |= 1 << bit
	return true
}

// Unknown skips the value of a member that matches no field name exactly,
// giving up if it matches one the way encoding/json's case-insensitive
// matching might (with or without '-' and '_').
func (d *Reader) Unknown(key []byte, names []string) bool {
	k := string(key)
	bare := noDelims.Replace(k)
	for _, n := range names {
		if n == k || strings.EqualFold(n, k) || strings.EqualFold(noDelims.Replace(n), bare) {
			return false
		}
	}
	return d.Skip()
}

var noDelims = strings.NewReplacer("-", "", "_", "")

// Skip reads any one value, checking its syntax.
func (d *Reader) Skip() bool {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > maxSkipDepth {
		return false
	}
	switch c := d.Peek(); {
	case c == '{':
		m := d.Members()
		for _, more := m.Next(); more; _, more = m.Next() {
			if !d.Skip() {
				return false
			}
		}
		return m.OK()
	case c == '[':
		return d.Array(d.Skip)
	case c == '"':
		_, ok := d.stringBytes()
		return ok
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.Null()
	case c == '-' || (c >= '0' && c <= '9'):
		_, ok := d.number()
		return ok
	}
	return false
}

func (d *Reader) literal(s string) bool {
	if bytes.HasPrefix(d.data[d.i:], []byte(s)) {
		d.i += len(s)
		return true
	}
	return false
}

// Str decodes a string into *p (null: *p unchanged).
func (d *Reader) Str(p *string) bool {
	if d.Null() {
		return true
	}
	if d.Peek() != '"' {
		return false
	}
	b, ok := d.stringBytes()
	if ok {
		*p = string(b)
	}
	return ok
}

// Bool decodes true or false into *p (null: unchanged).
func (d *Reader) Bool(p *bool) bool {
	switch {
	case d.Null():
		return true
	case d.literal("true"):
		*p = true
		return true
	case d.literal("false"):
		*p = false
		return true
	}
	return false
}

// Int reads a number that fits a signed integer of bits bits.
func (d *Reader) Int(bits int) (n int64, null, ok bool) {
	if d.Null() {
		return 0, true, true
	}
	lit, ok := d.number()
	if !ok {
		return 0, false, false
	}
	n, err := strconv.ParseInt(lit, 10, bits)
	return n, false, err == nil
}

// Uint reads a number that fits an unsigned integer of bits bits.
func (d *Reader) Uint(bits int) (n uint64, null, ok bool) {
	if d.Null() {
		return 0, true, true
	}
	lit, ok := d.number()
	if !ok {
		return 0, false, false
	}
	n, err := strconv.ParseUint(lit, 10, bits)
	return n, false, err == nil
}

// number reads a JSON number's literal (checked against the grammar).
func (d *Reader) number() (string, bool) {
	if d.Peek() == 0 {
		return "", false
	}
	start := d.i
	digits := func() int {
		n := 0
		for d.i < len(d.data) && d.data[d.i] >= '0' && d.data[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if d.data[d.i] == '-' {
		d.i++
	}
	if d.i < len(d.data) && d.data[d.i] == '0' {
		d.i++
	} else if digits() == 0 {
		return "", false
	}
	if d.i < len(d.data) && d.data[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return "", false
		}
	}
	if d.i < len(d.data) && (d.data[d.i] == 'e' || d.data[d.i] == 'E') {
		d.i++
		if d.i < len(d.data) && (d.data[d.i] == '+' || d.data[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return "", false
		}
	}
	return string(d.data[start:d.i]), true
}

// stringBytes reads a string (d.i at its quote) and returns its value:
// a slice of the input when it has no escapes. Invalid UTF-8, a control
// character or a lone surrogate gives up (encoding/json replaces them).
func (d *Reader) stringBytes() ([]byte, bool) {
	d.i++
	start := d.i
	ascii := true
	for d.i < len(d.data) {
		c := d.data[d.i]
		switch {
		case c == '"':
			s := d.data[start:d.i]
			d.i++
			return s, ascii || utf8.Valid(s)
		case c == '\\':
			return d.escaped(start)
		case c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		d.i++
	}
	return nil, false
}

// escaped continues stringBytes from the first backslash.
func (d *Reader) escaped(start int) ([]byte, bool) {
	out := append([]byte(nil), d.data[start:d.i]...)
	for d.i < len(d.data) {
		c := d.data[d.i]
		switch {
		case c == '"':
			d.i++
			return out, utf8.Valid(out)
		case c < 0x20:
			return nil, false
		case c != '\\':
			out = append(out, c)
			d.i++
			continue
		}
		if d.i+1 >= len(d.data) {
			return nil, false
		}
		e := d.data[d.i+1]
		d.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := d.hex4()
			if !ok {
				return nil, false
			}
			if utf16.IsSurrogate(r) {
				if d.i+1 >= len(d.data) || d.data[d.i] != '\\' || d.data[d.i+1] != 'u' {
					return nil, false
				}
				d.i += 2
				r2, ok := d.hex4()
				if !ok {
					return nil, false
				}
				if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
					return nil, false
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, false
		}
	}
	return nil, false
}

func (d *Reader) hex4() (rune, bool) {
	if d.i+4 > len(d.data) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(d.data[d.i:d.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	d.i += 4
	return rune(n), true
}
