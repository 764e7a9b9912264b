// Package jsonwrite appends JSON values to a byte slice as encoding/json's
// Marshal writes them, for the encoders rt has without reflection
// (state.json, and config.json's generated one in package configs): a
// first Marshal of a type builds its encoders by reflection, which costs
// more than the encoding itself for the files a command writes once.
package jsonwrite

import (
	"slices"
	"strconv"
	"unicode/utf8"
)

// String appends s quoted as encoding/json's Marshal does: HTML-safe
// (<, >, & escaped), U+2028 and U+2029 escaped, invalid UTF-8 as U+FFFD
// (the character itself, as json/v2 writes it; encoding/json without
// GOEXPERIMENT=jsonv2 writes the escape: the same string read back).
func String(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&':
				b = append(b, c)
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\b':
				b = append(b, '\\', 'b')
			case c == '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, "\ufffd"...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// Int appends n.
func Int[T ~int | ~int8 | ~int16 | ~int32 | ~int64](b []byte, n T) []byte {
	return strconv.AppendInt(b, int64(n), 10)
}

// Uint appends n.
func Uint[T ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr](b []byte, n T) []byte {
	return strconv.AppendUint(b, uint64(n), 10)
}

// Bool appends v.
func Bool(b []byte, v bool) []byte {
	return strconv.AppendBool(b, v)
}

// Slice appends s as a JSON array (null when nil), each element by elem.
func Slice[T any](b []byte, s []T, elem func([]byte, *T) []byte) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = elem(b, &s[i])
	}
	return append(b, ']')
}

// Map appends m as a JSON object (null when nil), keys sorted as
// encoding/json sorts them, each value by elem.
func Map[K ~string, V any](b []byte, m map[K]V, elem func([]byte, *V) []byte) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = String(b, string(k))
		b = append(b, ':')
		v := m[k]
		b = elem(b, &v)
	}
	return append(b, '}')
}

// Ptr appends *p by elem, or null.
func Ptr[T any](b []byte, p *T, elem func([]byte, *T) []byte) []byte {
	if p == nil {
		return append(b, "null"...)
	}
	return elem(b, p)
}

// StringOf, IntOf, UintOf and BoolOf are String, Int, Uint and Bool as
// element functions (for Slice, Map and Ptr).
func StringOf[T ~string](b []byte, s *T) []byte { return String(b, string(*s)) }

func IntOf[T ~int | ~int8 | ~int16 | ~int32 | ~int64](b []byte, n *T) []byte { return Int(b, *n) }

func UintOf[T ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr](b []byte, n *T) []byte {
	return Uint(b, *n)
}

func BoolOf(b []byte, v *bool) []byte { return Bool(b, *v) }

// Key appends a member's quoted name and colon (key, as written by the
// caller) to the object that starts at b[start], with a comma before it
// unless it is the first.
func Key(b []byte, start int, key string) []byte {
	if len(b) > start+1 {
		b = append(b, ',')
	}
	return append(b, key...)
}
