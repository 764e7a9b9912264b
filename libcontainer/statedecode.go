package libcontainer

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// decodeStateFast decodes a state.json as rt writes it without
// encoding/json's reflection: `list` decodes one per container, and that
// decode was most of its CPU time (the cgroup path map, the time).
// It accepts exactly the plain form rt writes: one object of State's keys
// with strings free of escapes and of invalid UTF-8, integers, booleans and
// flat string maps. For anything else (a key it does not know, such as an
// older rt's "config" or "intel_rdt", an escape, null, a number that is not
// a plain integer, trailing data) it reports ok=false and the caller
// decodes with encoding/json, whose result and errors stay the reference.
// Where it reports ok, the result is what encoding/json would give
// (FuzzDecodeStateFast checks it).
func decodeStateFast(data []byte) (s State, ok bool) {
	d := stateDecoder{data: data}
	if !d.byte('{') {
		return s, false
	}
	if d.peek() == '}' {
		d.i++
		return s, d.end()
	}
	for {
		key, ok := d.str()
		if !ok || !d.byte(':') {
			return s, false
		}
		switch key {
		case "id":
			s.ID, ok = d.str()
		case "init_pid":
			var n int64
			n, ok = d.int(strconv.IntSize)
			s.InitPid = int(n)
		case "init_start":
			s.InitStart, ok = d.uint()
		case "creating":
			s.Creating, ok = d.bool()
		case "created":
			ok = d.time(&s.Created)
		case "owner":
			s.Owner, ok = d.str()
		case "cgroup_paths":
			s.CgroupPaths, ok = d.strMap(s.CgroupPaths)
		case "systemd_cgroup":
			s.SystemdCgroup, ok = d.str()
		case "bundle":
			s.Bundle, ok = d.str()
		case "rootfs":
			s.Rootfs, ok = d.str()
		case "annotations":
			s.Annotations, ok = d.strMap(s.Annotations)
		default:
			return s, false
		}
		if !ok {
			return s, false
		}
		switch d.next() {
		case ',':
		case '}':
			return s, d.end()
		default:
			return s, false
		}
	}
}

type stateDecoder struct {
	data []byte
	i    int
}

func (d *stateDecoder) skipSpace() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space (0 at the end).
func (d *stateDecoder) peek() byte {
	d.skipSpace()
	if d.i >= len(d.data) {
		return 0
	}
	return d.data[d.i]
}

// next consumes and returns the next byte after white space.
func (d *stateDecoder) next() byte {
	c := d.peek()
	if c != 0 {
		d.i++
	}
	return c
}

func (d *stateDecoder) byte(c byte) bool { return d.next() == c }

// end reports whether only white space is left.
func (d *stateDecoder) end() bool { return d.peek() == 0 && d.i == len(d.data) }

// strBytes returns the contents of a string without escapes or control
// characters, in valid UTF-8.
func (d *stateDecoder) strBytes() ([]byte, bool) {
	if !d.byte('"') {
		return nil, false
	}
	start := d.i
	ascii := true
	for ; d.i < len(d.data); d.i++ {
		c := d.data[d.i]
		switch {
		case c == '"':
			b := d.data[start:d.i]
			d.i++
			if !ascii && !utf8.Valid(b) {
				return nil, false // encoding/json would replace bytes
			}
			return b, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

func (d *stateDecoder) str() (string, bool) {
	b, ok := d.strBytes()
	return string(b), ok
}

func (d *stateDecoder) digits() ([]byte, bool) {
	d.skipSpace()
	start := d.i
	if d.i < len(d.data) && d.data[d.i] == '-' {
		d.i++
	}
	for d.i < len(d.data) && d.data[d.i] >= '0' && d.data[d.i] <= '9' {
		d.i++
	}
	b := d.data[start:d.i]
	n := len(b)
	if n > 0 && b[0] == '-' {
		n--
	}
	// JSON: no leading zero; a fraction or an exponent goes to encoding/json.
	if n == 0 || (n > 1 && b[len(b)-n] == '0') {
		return nil, false
	}
	if d.i < len(d.data) {
		switch d.data[d.i] {
		case '.', 'e', 'E':
			return nil, false
		}
	}
	return b, true
}

func (d *stateDecoder) int(bits int) (int64, bool) {
	b, ok := d.digits()
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(string(b), 10, bits)
	return n, err == nil
}

func (d *stateDecoder) uint() (uint64, bool) {
	b, ok := d.digits()
	if !ok || b[0] == '-' {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b), 10, 64)
	return n, err == nil
}

func (d *stateDecoder) bool() (bool, bool) {
	d.skipSpace()
	rest := d.data[d.i:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		d.i += 4
		return true, true
	case len(rest) >= 5 && string(rest[:5]) == "false":
		d.i += 5
		return false, true
	}
	return false, false
}

// time decodes a time string as time.Time's UnmarshalJSON does (the same
// function, on the same quoted bytes).
func (d *stateDecoder) time(t *time.Time) bool {
	d.skipSpace()
	start := d.i
	if _, ok := d.strBytes(); !ok {
		return false
	}
	return t.UnmarshalJSON(d.data[start:d.i]) == nil
}

// strMap decodes an object of strings into m (made when nil), as
// encoding/json does into a map: keys of a repeated object are merged.
func (d *stateDecoder) strMap(m map[string]string) (map[string]string, bool) {
	if !d.byte('{') {
		return m, false
	}
	if m == nil {
		m = make(map[string]string, 16)
	}
	if d.peek() == '}' {
		d.i++
		return m, true
	}
	for {
		k, ok := d.str()
		if !ok || !d.byte(':') {
			return m, false
		}
		v, ok := d.str()
		if !ok {
			return m, false
		}
		m[k] = v
		switch d.next() {
		case ',':
		case '}':
			return m, true
		default:
			return m, false
		}
	}
}
