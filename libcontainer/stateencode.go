package libcontainer

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// encodeState is json.Marshal(s) without encoding/json's reflection: the
// first Marshal of a State builds its encoders (~0.1 ms), and create's
// first state.json is written on the way to starting the init. Same bytes
// as json.Marshal (FuzzEncodeState checks it); a time that Marshal would
// refuse goes to json.Marshal for its error.
func encodeState(s *State) ([]byte, error) {
	if y := s.Created.Year(); y < 0 || y > 9999 {
		return json.Marshal(s)
	}
	b := make([]byte, 0, 640)
	b = append(b, `{"id":`...)
	b = appendJSONString(b, s.ID)
	b = append(b, `,"init_pid":`...)
	b = strconv.AppendInt(b, int64(s.InitPid), 10)
	b = append(b, `,"init_start":`...)
	b = strconv.AppendUint(b, s.InitStart, 10)
	if s.Creating {
		b = append(b, `,"creating":true`...)
	}
	b = append(b, `,"created":"`...)
	b = s.Created.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","owner":`...)
	b = appendJSONString(b, s.Owner)
	if len(s.CgroupPaths) > 0 {
		b = append(b, `,"cgroup_paths":`...)
		b = appendJSONStringMap(b, s.CgroupPaths)
	}
	if s.SystemdCgroup != "" {
		b = append(b, `,"systemd_cgroup":`...)
		b = appendJSONString(b, s.SystemdCgroup)
	}
	if g := s.IntelRdt; g != nil {
		b = append(b, `,"intel_rdt":{"path":`...)
		b = appendJSONString(b, g.Path)
		if g.Created {
			b = append(b, `,"created":true`...)
		}
		if g.MonPath != "" {
			b = append(b, `,"mon_path":`...)
			b = appendJSONString(b, g.MonPath)
		}
		b = append(b, '}')
	}
	if s.Bundle != "" {
		b = append(b, `,"bundle":`...)
		b = appendJSONString(b, s.Bundle)
	}
	if s.Rootfs != "" {
		b = append(b, `,"rootfs":`...)
		b = appendJSONString(b, s.Rootfs)
	}
	if len(s.Annotations) > 0 {
		b = append(b, `,"annotations":`...)
		b = appendJSONStringMap(b, s.Annotations)
	}
	return append(b, '}'), nil
}

// appendJSONStringMap appends m as a JSON object, keys sorted (as
// encoding/json writes maps).
func appendJSONStringMap(b []byte, m map[string]string) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, m[k])
	}
	return append(b, '}')
}

// appendJSONString appends s quoted as encoding/json's Marshal does:
// HTML-safe (<, >, & escaped), U+2028 and U+2029 escaped, invalid UTF-8
// as U+FFFD (the character itself, as json/v2 writes it; encoding/json
// without GOEXPERIMENT=jsonv2 writes the escape: the same string read back).
func appendJSONString(b []byte, s string) []byte {
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
