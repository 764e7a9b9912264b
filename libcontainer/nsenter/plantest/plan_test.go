package plantest

import (
	"encoding/binary"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/rt-runtime/rt/libcontainer/capabilities"
	"github.com/rt-runtime/rt/libcontainer/initproto"
)

func u32(v uint32) *uint32 { return &v }

// fullPlan sets every field of the plan.
func fullPlan() *initproto.Plan {
	prog := make([]byte, 3*8)
	for i := range prog {
		prog[i] = byte(i * 7)
	}
	return &initproto.Plan{
		Args: []string{"/bin/sh", "-c", "echo ü; exit 3", ""}, Env: []string{"PATH=/bin:/usr/bin", "A=b=c", "E="},
		Cwd: "/srv/app", UID: 1000, GID: 1001, AdditionalGids: []uint32{5, 0xfffffffe},
		Umask: u32(0o077),
		Caps: &initproto.PlanCaps{LastCap: 40, Bounding: 1<<40 | 1, Effective: 1 << 21, Permitted: 1<<21 | 1<<7,
			Inheritable: 1 << 7, Ambient: []int{7, 0, 40}},
		NoNewPrivs: true,
		Seccomp:    &initproto.PlanSeccomp{Flags: 0x9, Notify: true, Program: prog},
		Apparmor:   "rt-test//child",
		Rlimits: []initproto.PlanRlimit{{Resource: 7, Soft: 1024, Hard: 4096, Name: "RLIMIT_NOFILE"},
			{Resource: 4, Soft: ^uint64(0), Hard: ^uint64(0), Name: "RLIMIT_CORE"}},
		Scheduler: &initproto.PlanScheduler{Policy: 6, Flags: 0x11, Nice: -5, Priority: 3, Runtime: 1e6,
			Deadline: 2e6, Period: 3e6, Name: "SCHED_DEADLINE"},
		IOPriority:   u32(2<<13 | 4),
		Personality:  u32(8),
		MemoryPolicy: &initproto.PlanMemoryPolicy{Mode: 2 | 1<<15, MaxNode: 129, Nodes: []uint64{5, 0}},
		Affinity:     []byte{0xff, 0, 3},
		PreserveFds:  2,
		Terminal:     true,
		ConsoleSize:  &[2]uint16{24, 80},
		Keyring:      "_ses.abc",
		LateCgroup:   true,
	}
}

// The C decoder reads back exactly what the Go encoder wrote: every field,
// and the minimal plan.
func TestPlanRoundTrip(t *testing.T) {
	for _, p := range []*initproto.Plan{
		fullPlan(),
		{Args: []string{"true"}, Cwd: "/", Caps: &initproto.PlanCaps{LastCap: 40, Ambient: []int{}}},
	} {
		frame, err := p.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if frame[0] != byte(initproto.PlanMsg) || int(binary.LittleEndian.Uint32(frame[1:])) != len(frame)-5 {
			t.Fatalf("frame header %q", frame[:5])
		}
		got, err := Parse(frame[initproto.HeaderSize:])
		if err != nil {
			t.Fatalf("C decoder refused the encoder's plan: %v", err)
		}
		if !reflect.DeepEqual(got, p) {
			t.Errorf("C decoded\n%+v\nGo encoded\n%+v", got, p)
		}
	}
}

// Malformed plans are refused with a message, whatever is wrong.
func TestPlanParseRefuses(t *testing.T) {
	good, err := fullPlan().Encode()
	if err != nil {
		t.Fatal(err)
	}
	good = good[initproto.HeaderSize:]
	rec := func(tag byte, v ...byte) []byte {
		b := []byte{tag, 0, 0, 0, 0}
		binary.LittleEndian.PutUint32(b[1:], uint32(len(v)))
		return append(b, v...)
	}
	minimal := append(append(rec('a', 't', 0), rec('w', '/', 0)...), rec('u', 0, 0, 0, 0, 0, 0, 0, 0)...)
	if _, err := Parse(minimal); err != nil {
		t.Fatalf("minimal plan refused: %v", err)
	}
	cases := map[string][]byte{
		"empty":            nil,
		"truncated header": good[:3],
		"truncated record": good[:len(good)-1],
		"unknown tag":      append(append([]byte{}, minimal...), rec('?')...),
		"NUL tag":          append(append([]byte{}, minimal...), rec(0)...),
		"repeated cwd":     append(append([]byte{}, minimal...), rec('w', '/', 0)...),
		"no user":          append(rec('a', 't', 0), rec('w', '/', 0)...),
		"no argv":          append(rec('w', '/', 0), rec('u', 0, 0, 0, 0, 0, 0, 0, 0)...),
		"relative cwd":     append(append(rec('a', 't', 0), rec('w', 'x', 0)...), rec('u', 0, 0, 0, 0, 0, 0, 0, 0)...),
		"string sans NUL":  append(append([]byte{}, minimal...), rec('e', 'A')...),
		"string with NUL":  append(append([]byte{}, minimal...), rec('e', 'A', 0, 'B', 0)...),
		"short user":       append(append(rec('a', 't', 0), rec('w', '/', 0)...), rec('u', 0, 0, 0)...),
		"odd groups":       append(append([]byte{}, minimal...), rec('g', 1, 2, 3)...),
		"empty seccomp":    append(append([]byte{}, minimal...), rec('s', 0, 0, 0, 0, 0)...),
		"ragged seccomp":   append(append([]byte{}, minimal...), rec('s', 0, 0, 0, 0, 0, 1, 2, 3)...),
		"nnp with payload": append(append([]byte{}, minimal...), rec('n', 1)...),
		"cap above 63":     append(append([]byte{}, minimal...), rec('k', append([]byte{64, 0, 0, 0}, make([]byte, 32)...)...)...),
		"ambient above 63": append(append([]byte{}, minimal...), rec('k', append([]byte{40, 0, 0, 0}, append(make([]byte, 32), 64)...)...)...),
		"maxnode too big":  append(append([]byte{}, minimal...), rec('M', 2, 0, 0, 0, 200, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0)...),
		"empty affinity":   append(append([]byte{}, minimal...), rec('c')...),
		"length overflow":  append(append([]byte{}, minimal...), 'e', 0xff, 0xff, 0xff, 0xff, 'x'),
	}
	for name, b := range cases {
		if p, err := Parse(b); err == nil {
			t.Errorf("%s: accepted: %+v", name, p)
		} else if !strings.HasPrefix(err.Error(), "plan: ") {
			t.Errorf("%s: error %q does not say it is about the plan", name, err)
		}
	}
}

// The encoder refuses what the decoder would.
func TestPlanEncodeRefuses(t *testing.T) {
	for name, p := range map[string]*initproto.Plan{
		"no args":     {Cwd: "/"},
		"relative":    {Args: []string{"x"}, Cwd: "srv"},
		"NUL in env":  {Args: []string{"x"}, Cwd: "/", Env: []string{"A=\x00"}},
		"ragged bpf":  {Args: []string{"x"}, Cwd: "/", Seccomp: &initproto.PlanSeccomp{Program: []byte{1, 2, 3}}},
		"ambient 64":  {Args: []string{"x"}, Cwd: "/", Caps: &initproto.PlanCaps{LastCap: 40, Ambient: []int{64}}},
		"empty mask":  {Args: []string{"x"}, Cwd: "/", Affinity: []byte{}},
		"big maxnode": {Args: []string{"x"}, Cwd: "/", MemoryPolicy: &initproto.PlanMemoryPolicy{MaxNode: 66, Nodes: []uint64{1}}},
	} {
		if _, err := p.Encode(); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
}

// FuzzPlanParse feeds arbitrary bytes to the C decoder: it must never
// crash; whatever it accepts must encode back (from Go) to a plan it
// decodes the same way; and every plan the encoder writes from fuzzed
// strings reads back as written.
func FuzzPlanParse(f *testing.F) {
	good, _ := fullPlan().Encode()
	f.Add(good[initproto.HeaderSize:], "x", "/")
	f.Add([]byte{'a', 2, 0, 0, 0, 't', 0, 'w', 2, 0, 0, 0, '/', 0, 'u', 8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}, "a\x00b", "")
	f.Add([]byte{'s', 0xff, 0xff, 0xff, 0xff}, "", "/x")
	f.Fuzz(func(t *testing.T, data []byte, arg, cwd string) {
		if p, err := Parse(data); err == nil {
			frame, err := p.Encode()
			if err != nil {
				t.Fatalf("decoded plan does not encode: %v (%+v)", err, p)
			}
			again, err := Parse(frame[initproto.HeaderSize:])
			if err != nil || !reflect.DeepEqual(again, p) {
				t.Fatalf("re-encoded plan reads back as %+v, %v; want %+v", again, err, p)
			}
		}
		p := &initproto.Plan{Args: []string{arg, cwd}, Env: []string{cwd}, Cwd: cwd, Apparmor: arg, Keyring: arg}
		frame, err := p.Encode()
		if err != nil {
			if strings.HasPrefix(cwd, "/") && !strings.ContainsRune(arg+cwd, 0) {
				t.Fatalf("refused valid input: %v", err)
			}
			return
		}
		got, err := Parse(frame[initproto.HeaderSize:])
		if err != nil {
			t.Fatalf("C decoder refused %q: %v", frame, err)
		}
		if !reflect.DeepEqual(got, p) {
			t.Fatalf("read back %+v, want %+v", got, p)
		}
	})
}

// plan.h's size limit is initproto's.
func TestPlanHeaderLimit(t *testing.T) {
	data, err := os.ReadFile("../plan.h")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "#define RT_MAX_PLAN (64 << 20)\n") || initproto.MaxPlanLen != 64<<20 {
		t.Errorf("RT_MAX_PLAN in plan.h and initproto.MaxPlanLen (%d) differ", initproto.MaxPlanLen)
	}
}

// plan.c's capability names are rt's.
func TestCapNames(t *testing.T) {
	names, known := CapNames(), capabilities.Known()
	if len(names) != len(known) {
		t.Errorf("plan.c names %d capabilities, rt %d", len(names), len(known))
	}
	for n := 0; n < len(names) && n < len(known); n++ {
		if names[n] != known[n] {
			t.Errorf("plan.c names capability %d %q, rt %q", n, names[n], known[n])
		}
	}
}
