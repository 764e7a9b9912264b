package specconv

//go:generate go run ./internal/gendecode/gen

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// decodeSpec decodes a config.json without reflection (decode_gen.go),
// as encoding/json would, when it can: ok false means it gave up (on
// malformed JSON, a type mismatch, a name that matches a field only
// case-insensitively, a duplicate name, invalid UTF-8, another platform's
// section...), and the caller decodes with encoding/json, which gives the
// same result or error as before. encoding/json's first decode of a Spec
// spends 0.5-0.8 ms setting up its types by reflection; this takes
// 0.05 ms (docs/design.md, "config.json without reflection").
// FuzzDecodeSpec holds the two to the same result.
func decodeSpec(data []byte) (*specs.Spec, bool) {
	d := &decoder{data: data}
	d.space()
	if d.i >= len(d.data) || d.data[d.i] != '{' {
		return nil, false
	}
	var s specs.Spec
	if !decSpec(d, &s) {
		return nil, false
	}
	d.space()
	if d.i != len(d.data) {
		return nil, false
	}
	return &s, true
}

// decoder reads one JSON document; every method returns false (or ok
// false) to give up.
type decoder struct {
	data  []byte
	i     int
	depth int
}

// maxSkipDepth bounds the nesting of a value skipped (an unknown field):
// deeper, the decoder gives up (encoding/json refuses past 10000).
const maxSkipDepth = 512

func (d *decoder) space() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the next value's first byte (0 at the end).
func (d *decoder) peek() byte {
	d.space()
	if d.i >= len(d.data) {
		return 0
	}
	return d.data[d.i]
}

// null consumes a null if one comes next.
func (d *decoder) null() bool {
	return d.peek() == 'n' && d.literal("null")
}

// object reads an object, calling member for each member with its
// (unescaped) name, the reader before its value.
func (d *decoder) object(member func(key []byte) bool) bool {
	if d.peek() != '{' {
		return false
	}
	d.i++
	if d.peek() == '}' {
		d.i++
		return true
	}
	for {
		if d.peek() != '"' {
			return false
		}
		key, ok := d.stringBytes()
		if !ok || d.peek() != ':' {
			return false
		}
		d.i++
		if !member(key) {
			return false
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

// array reads an array, calling elem for each element.
func (d *decoder) array(elem func() bool) bool {
	if d.peek() != '[' {
		return false
	}
	d.i++
	if d.peek() == ']' {
		d.i++
		return true
	}
	for {
		if !elem() {
			return false
		}
		switch d.peek() {
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

// first marks field bit of seen, giving up on a name seen before in the
// object (encoding/json merges a duplicate into the first: left to it).
func (d *decoder) first(seen *uint64, bit int) bool {
	if *seen&(1<<bit) != 0 {
		return false
	}
	*seen |= 1 << bit
	return true
}

// unknown skips the value of a member that matches no field name exactly,
// giving up if it matches one the way encoding/json's case-insensitive
// matching might (with or without '-' and '_').
func (d *decoder) unknown(key []byte, names []string) bool {
	k := string(key)
	bare := noDelims.Replace(k)
	for _, n := range names {
		if n == k || strings.EqualFold(n, k) || strings.EqualFold(noDelims.Replace(n), bare) {
			return false
		}
	}
	return d.skip()
}

var noDelims = strings.NewReplacer("-", "", "_", "")

// skip reads any one value, checking its syntax.
func (d *decoder) skip() bool {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > maxSkipDepth {
		return false
	}
	switch c := d.peek(); {
	case c == '{':
		return d.object(func([]byte) bool { return d.skip() })
	case c == '[':
		return d.array(d.skip)
	case c == '"':
		_, ok := d.stringBytes()
		return ok
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.null()
	case c == '-' || (c >= '0' && c <= '9'):
		_, ok := d.number()
		return ok
	}
	return false
}

func (d *decoder) literal(s string) bool {
	if bytes.HasPrefix(d.data[d.i:], []byte(s)) {
		d.i += len(s)
		return true
	}
	return false
}

// str decodes a string into *p (null: *p unchanged).
func (d *decoder) str(p *string) bool {
	if d.null() {
		return true
	}
	if d.peek() != '"' {
		return false
	}
	b, ok := d.stringBytes()
	if ok {
		*p = string(b)
	}
	return ok
}

// boolean decodes true or false into *p (null: unchanged).
func (d *decoder) boolean(p *bool) bool {
	switch {
	case d.null():
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

// integer reads a number that fits a signed integer of bits bits.
func (d *decoder) integer(bits int) (n int64, null, ok bool) {
	if d.null() {
		return 0, true, true
	}
	lit, ok := d.number()
	if !ok {
		return 0, false, false
	}
	n, err := strconv.ParseInt(lit, 10, bits)
	return n, false, err == nil
}

// unsigned reads a number that fits an unsigned integer of bits bits.
func (d *decoder) unsigned(bits int) (n uint64, null, ok bool) {
	if d.null() {
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
func (d *decoder) number() (string, bool) {
	if d.peek() == 0 {
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
func (d *decoder) stringBytes() ([]byte, bool) {
	d.i++
	start := d.i
	for d.i < len(d.data) {
		c := d.data[d.i]
		switch {
		case c == '"':
			s := d.data[start:d.i]
			d.i++
			return s, utf8.Valid(s)
		case c == '\\':
			return d.escaped(start)
		case c < 0x20:
			return nil, false
		}
		d.i++
	}
	return nil, false
}

// escaped continues stringBytes from the first backslash.
func (d *decoder) escaped(start int) ([]byte, bool) {
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

func (d *decoder) hex4() (rune, bool) {
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
