package specconv

//go:generate go run ./internal/gendecode/gen

import (
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/jsonread"
)

// decodeSpec decodes a config.json without reflection (decode_gen.go),
// as encoding/json would, when it can: ok false means it gave up (on
// malformed JSON, a type mismatch, a name that matches a field only
// case-insensitively, a duplicate name, invalid UTF-8, another platform's
// section...), and the caller decodes with encoding/json, which gives the
// same result or error as before. encoding/json's first decode of a Spec
// spends 0.5-0.8 ms setting up its types by reflection; this takes
// 0.05 ms (docs/design.md, "The parent's own work").
// FuzzDecodeSpec holds the two to the same result.
func decodeSpec(data []byte) (*specs.Spec, bool) {
	d := jsonread.New(data)
	if d.Peek() != '{' {
		return nil, false
	}
	var s specs.Spec
	if !decSpec(d, &s) || !d.End() {
		return nil, false
	}
	return &s, true
}

// The generated decoders' building blocks (decode_gen.go): each decodes
// the next JSON value into *p as encoding/json would, or gives up (false).
// A null leaves a string, a number, a bool or a struct as it is, and makes
// a pointer, a slice or a map nil, as encoding/json does.

func decString(d *jsonread.Reader, p *string) bool { return d.Str(p) }

func decNamedString[T ~string](d *jsonread.Reader, p *T) bool {
	s := string(*p)
	if !d.Str(&s) {
		return false
	}
	*p = T(s)
	return true
}

func decBool(d *jsonread.Reader, p *bool) bool { return d.Bool(p) }

func decInt[T ~int | ~int8 | ~int16 | ~int32 | ~int64](d *jsonread.Reader, p *T) bool {
	n, null, ok := d.Int(int(unsafe.Sizeof(*p)) * 8)
	if ok && !null {
		*p = T(n)
	}
	return ok
}

func decUint[T ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64](d *jsonread.Reader, p *T) bool {
	n, null, ok := d.Uint(int(unsafe.Sizeof(*p)) * 8)
	if ok && !null {
		*p = T(n)
	}
	return ok
}

// decPtr decodes into the value *p points to, made when nil.
func decPtr[T any](d *jsonread.Reader, p **T, dec func(*jsonread.Reader, *T) bool) bool {
	if d.Null() {
		*p = nil
		return true
	}
	if *p == nil {
		*p = new(T)
	}
	return dec(d, *p)
}

// decSlice decodes an array into a new slice (empty, not nil, for []).
func decSlice[T any](d *jsonread.Reader, p *[]T, dec func(*jsonread.Reader, *T) bool) bool {
	if d.Null() {
		*p = nil
		return true
	}
	out := []T{}
	if !d.Array(func() bool {
		var e T
		if !dec(d, &e) {
			return false
		}
		out = append(out, e)
		return true
	}) {
		return false
	}
	*p = out
	return true
}

// decMap decodes an object into *p (made when nil), each value from zero.
func decMap[T any](d *jsonread.Reader, p *map[string]T, dec func(*jsonread.Reader, *T) bool) bool {
	if d.Null() {
		*p = nil
		return true
	}
	if *p == nil {
		*p = map[string]T{}
	}
	m := d.Members()
	for key, more := m.Next(); more; key, more = m.Next() {
		var e T
		if !dec(d, &e) {
			return false
		}
		(*p)[string(key)] = e
	}
	return m.OK()
}
