package libcontainer

import (
	"strconv"

	"github.com/rt-runtime/rt/libcontainer/jsonread"
)

// decodeStateFast decodes a state.json as rt writes it without
// encoding/json's reflection: `list` decodes one per container, and that
// decode was most of its CPU time (the cgroup path map, the time).
// It accepts State's keys only; for anything else (a key it does not know,
// such as an older rt's "config" or "intel_rdt", or whatever jsonread
// gives up on) it reports ok=false and the caller decodes with
// encoding/json, whose result and errors stay the reference. Where it
// reports ok, the result is what encoding/json would give
// (FuzzDecodeStateFast checks it). data does not escape: readState's
// buffer stays on the stack (jsonread.Members, not a callback).
func decodeStateFast(data []byte) (s State, ok bool) {
	d := jsonread.New(data)
	m := d.Members()
	for key, more := m.Next(); more; key, more = m.Next() {
		if !decodeStateMember(d, key, &s) {
			return s, false
		}
	}
	return s, m.OK() && d.End()
}

// decodeStateMember reads the value of State's member key into s.
func decodeStateMember(d *jsonread.Reader, key []byte, s *State) bool {
	switch string(key) {
	case "id":
		return d.Str(&s.ID)
	case "init_pid":
		n, null, ok := d.Int(strconv.IntSize)
		if ok && !null {
			s.InitPid = int(n)
		}
		return ok
	case "init_start":
		n, null, ok := d.Uint(64)
		if ok && !null {
			s.InitStart = n
		}
		return ok
	case "creating":
		return d.Bool(&s.Creating)
	case "created":
		// time.Time's own UnmarshalJSON, on the same quoted bytes (a null
		// leaves it, as encoding/json does).
		if d.Null() {
			return true
		}
		raw, ok := d.RawString()
		return ok && s.Created.UnmarshalJSON(raw) == nil
	case "owner":
		return d.Str(&s.Owner)
	case "cgroup_paths":
		return decodeStrMap(d, &s.CgroupPaths)
	case "systemd_cgroup":
		return d.Str(&s.SystemdCgroup)
	case "bundle":
		return d.Str(&s.Bundle)
	case "rootfs":
		return d.Str(&s.Rootfs)
	case "annotations":
		return decodeStrMap(d, &s.Annotations)
	}
	return false
}

// decodeStrMap decodes an object of strings into *m (made when nil), as
// encoding/json does into a map: keys of a repeated object are merged; a
// null makes it nil.
func decodeStrMap(d *jsonread.Reader, m *map[string]string) bool {
	if d.Null() {
		*m = nil
		return true
	}
	if *m == nil {
		*m = make(map[string]string, 16)
	}
	it := d.Members()
	for key, more := it.Next(); more; key, more = it.Next() {
		var v string
		if !d.Str(&v) {
			return false
		}
		(*m)[string(key)] = v
	}
	return it.OK()
}
