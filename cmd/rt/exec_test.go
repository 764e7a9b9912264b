package main

import "testing"

func TestParseUser(t *testing.T) {
	for in, want := range map[string][2]uint32{"0": {0, 0}, "1000": {1000, 0}, "1000:100": {1000, 100}, "4294967295:1": {4294967295, 1}} {
		uid, gid, err := parseUser(in)
		if err != nil || uid != want[0] || gid != want[1] {
			t.Errorf("parseUser(%q) = %d, %d, %v; want %v", in, uid, gid, err, want)
		}
	}
	// Names are never looked up (CVE-2016-3697): they are errors.
	for _, in := range []string{"root", "1000:wheel", "", ":1", "-1", "4294967296", "1:2:3"} {
		if _, _, err := parseUser(in); err == nil {
			t.Errorf("parseUser(%q): want an error", in)
		}
	}
}
