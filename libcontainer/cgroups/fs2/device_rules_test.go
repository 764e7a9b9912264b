package fs2

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/cgroups/devices"
)

func i64(v int64) *int64 { return &v }

func dev(allow bool, typ string, major, minor int64, acc string) specs.LinuxDeviceCgroup {
	d := specs.LinuxDeviceCgroup{Allow: allow, Type: typ, Access: acc}
	if major != -2 {
		d.Major = i64(major)
	}
	if minor != -2 {
		d.Minor = i64(minor)
	}
	return d
}

func TestCompileDeviceRules(t *testing.T) {
	rw := accRead | accWrite
	for _, tc := range []struct {
		name  string
		rules []specs.LinuxDeviceCgroup
		check []struct {
			typ, major, minor, acc uint32
			want                   bool
		}
	}{
		{
			name:  "allow-list: deny all, then /dev/null and mknod of any char device",
			rules: []specs.LinuxDeviceCgroup{dev(false, "a", -2, -2, "rwm"), dev(true, "c", 1, 3, "rwm"), dev(true, "c", -2, -2, "m")},
			check: []struct {
				typ, major, minor, acc uint32
				want                   bool
			}{
				{devChar, 1, 3, rw, true}, {devChar, 1, 5, accRead, false}, {devChar, 1, 5, accMknod, true},
				{devBlock, 8, 0, accMknod, false}, {devBlock, 1, 3, accRead, false},
			},
		},
		{
			name:  "no leading 'a' rule starts from deny-all",
			rules: []specs.LinuxDeviceCgroup{dev(true, "c", 1, 9, "r")},
			check: []struct {
				typ, major, minor, acc uint32
				want                   bool
			}{
				{devChar, 1, 9, accRead, true}, {devChar, 1, 9, rw, false}, {devChar, 1, 8, accRead, false},
			},
		},
		{
			name:  "later deny removes an earlier allow",
			rules: []specs.LinuxDeviceCgroup{dev(true, "c", 1, 5, "rwm"), dev(false, "c", 1, 5, "w")},
			check: []struct {
				typ, major, minor, acc uint32
				want                   bool
			}{
				{devChar, 1, 5, accRead, true}, {devChar, 1, 5, accWrite, false}, {devChar, 1, 5, rw, false},
			},
		},
		{
			name:  "allow all, then deny one: a deny-list",
			rules: []specs.LinuxDeviceCgroup{dev(true, "a", -2, -2, "rwm"), dev(false, "c", 1, 5, "w")},
			check: []struct {
				typ, major, minor, acc uint32
				want                   bool
			}{
				{devChar, 1, 5, accRead, true}, {devChar, 1, 5, rw, false}, {devBlock, 8, 0, rw, true},
			},
		},
		{
			name:  "a later 'a' allow resets everything before it",
			rules: []specs.LinuxDeviceCgroup{dev(false, "c", 1, 5, "rwm"), dev(true, "", -2, -2, "")},
			check: []struct {
				typ, major, minor, acc uint32
				want                   bool
			}{
				{devChar, 1, 5, rw, true},
			},
		},
		{
			name:  "wildcard minor",
			rules: []specs.LinuxDeviceCgroup{dev(true, "c", 136, -1, "rw")},
			check: []struct {
				typ, major, minor, acc uint32
				want                   bool
			}{
				{devChar, 136, 7, rw, true}, {devChar, 137, 7, rw, false},
			},
		},
	} {
		_, p, err := devices.Compile(tc.rules)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for _, c := range tc.check {
			if got := allows(p, c.typ, c.major, c.minor, c.acc); got != c.want {
				t.Errorf("%s: %d %d:%d access %d: got %v, want %v", tc.name, c.typ, c.major, c.minor, c.acc, got, c.want)
			}
		}
		// The program has one block per exception and a default.
		if insts := deviceFilter(p); len(insts) < 8 {
			t.Errorf("%s: program too short: %v", tc.name, insts)
		}
	}
	if _, _, err := devices.Compile([]specs.LinuxDeviceCgroup{{Type: "x"}}); err == nil {
		t.Error("want an error for type x")
	}
}

// allows is the test oracle: what the policy answers to a request (typ
// devBlock or devChar, access bits), with the v1 kernel's matching: on a
// deny-all default an allow exception must cover every requested access
// bit; on an allow-all default a deny exception covering any requested bit
// denies. The generated program must compute the same.
func allows(p devices.Policy, typ uint32, major, minor uint32, access uint32) bool {
	for _, e := range p.Exceptions {
		if matches(e, typ, major, minor, access, p.DefaultAllow) {
			return !p.DefaultAllow
		}
	}
	return p.DefaultAllow
}

// matches: partial (any access bit in common) for deny exceptions, full
// (every requested bit covered) for allow exceptions.
func matches(e devices.Exception, typ uint32, major, minor uint32, access uint32, partial bool) bool {
	if (e.Type == 'b' && typ != devBlock) || (e.Type == 'c' && typ != devChar) {
		return false
	}
	acc := uint32(e.Access)
	if partial && access&acc == 0 {
		return false
	}
	if !partial && access&acc != access {
		return false
	}
	if e.Major >= 0 && uint32(e.Major) != major {
		return false
	}
	if e.Minor >= 0 && uint32(e.Minor) != minor {
		return false
	}
	return true
}
