package systemd

import (
	"bytes"
	"math"
	"testing"

	godbus "github.com/godbus/dbus/v5"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseUnit(t *testing.T) {
	for in, want := range map[string][3]string{
		"system.slice:rt:abc": {"system.slice", "rt-abc.scope", "/system.slice/rt-abc.scope"},
		"":                    {"system.slice", "rt-id1.scope", "/system.slice/rt-id1.scope"},
		":docker:abc":         {"system.slice", "docker-abc.scope", "/system.slice/docker-abc.scope"},
		"kubepods-besteffort-pod1.slice:cri-containerd:abc": {"kubepods-besteffort-pod1.slice", "cri-containerd-abc.scope",
			"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-abc.scope"},
		"-.slice:p:abc":              {"-.slice", "p-abc.scope", "/p-abc.scope"},
		"machine.slice:rt:sub.slice": {"machine.slice", "sub.slice", "/sub.slice"},
		"a.slice:rt:a-b.slice":       {"a.slice", "a-b.slice", "/a.slice/a-b.slice"},
	} {
		u, err := ParseUnit(in, "id1", false)
		if err != nil || u.Slice != want[0] || u.Name != want[1] || u.Path() != want[2] {
			t.Errorf("ParseUnit(%q) = %+v (path %q), %v; want %v", in, u, u.Path(), err, want)
		}
	}
	if u, _ := ParseUnit("", "x", true); u.Slice != "user.slice" {
		t.Errorf("rootless default slice %q, want user.slice", u.Slice)
	}
	for _, bad := range []string{"a:b", "a:b:c:d", "system:rt:x", "a--b.slice:rt:x", "system.slice:rt:", "system.slice:rt:a/b", "s.slice:rt:-x.slice"} {
		if u, err := ParseUnit(bad, "x", false); err == nil {
			t.Errorf("ParseUnit(%q) = %+v, want an error", bad, u)
		}
	}
}

func TestAnnotationProperties(t *testing.T) {
	props, err := AnnotationProperties(map[string]string{
		"org.systemd.property.TimeoutStopSec":     "uint64 7",
		"org.systemd.property.CollectMode":        "'inactive-or-failed'",
		"org.systemd.property.CPUQuotaPerSecUSec": "uint64 20000",
		"other": "x",
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, p := range props {
		got[p.Name] = p.Value.Value()
	}
	if got["TimeoutStopUSec"] != uint64(7000000) || got["CollectMode"] != "inactive-or-failed" || got["CPUQuotaPerSecUSec"] != uint64(20000) || len(got) != 3 {
		t.Errorf("got %v", got)
	}
	for _, bad := range []map[string]string{
		{"org.systemd.property.Bad_Name": "true"},
		{"org.systemd.property.X": "not a gvariant ["},
		{"org.systemd.property.TimeoutStopSec": "'str'"},
	} {
		if _, err := AnnotationProperties(bad); err == nil {
			t.Errorf("%v: want an error", bad)
		}
	}
}

func i64(v int64) *int64   { return &v }
func u64(v uint64) *uint64 { return &v }
func u16(v uint16) *uint16 { return &v }

func TestResourceProps(t *testing.T) {
	r := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: i64(64 << 20), Reservation: i64(32 << 20), Swap: i64(96 << 20)},
		CPU:     &specs.LinuxCPU{Shares: u64(1024), Quota: i64(50000), Period: u64(100000), Cpus: "0-1,3", Mems: "0"},
		Pids:    &specs.LinuxPids{Limit: i64(42)},
		BlockIO: &specs.LinuxBlockIO{Weight: u16(500)},
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}, {Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"},
			{Allow: true, Type: "c", Major: i64(136), Access: "rwm"}, {Allow: true, Type: "b", Access: "m"}},
		Unified: map[string]string{"memory.high": "max", "pids.max": "max"},
	}
	props, err := resourceProps(r, true, 252, "")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, p := range props {
		got[p.Name] = p.Value.Value()
	}
	want := map[string]any{
		"MemoryMax": uint64(64 << 20), "MemoryLow": uint64(32 << 20), "MemorySwapMax": uint64(32 << 20),
		"CPUWeight": uint64(39), "CPUQuotaPeriodUSec": uint64(100000), "CPUQuotaPerSecUSec": uint64(500000),
		"IOWeight": uint64(4950), "DevicePolicy": "strict", "MemoryHigh": uint64(math.MaxUint64),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if got["TasksMax"] != uint64(math.MaxUint64) && got["TasksMax"] != uint64(42) {
		t.Errorf("TasksMax = %v", got["TasksMax"])
	}
	if b, _ := got["AllowedCPUs"].([]byte); !bytes.Equal(b, []byte{0x0b}) {
		t.Errorf("AllowedCPUs = %v, want [0x0b]", got["AllowedCPUs"])
	}
	allow, _ := got["DeviceAllow"].([]deviceAllow)
	wantAllow := []deviceAllow{{"/dev/char/1:3", "rwm"}, {"char-136", "rwm"}, {"block-*", "m"}}
	if len(allow) != len(wantAllow) {
		t.Fatalf("DeviceAllow = %v, want %v", allow, wantAllow)
	}
	for i := range allow {
		if allow[i] != wantAllow[i] {
			t.Errorf("DeviceAllow[%d] = %v, want %v", i, allow[i], wantAllow[i])
		}
	}
	// a fractional per cent rounds up; an unlimited quota is infinity
	for _, c := range []struct {
		q    int64
		p    uint64
		want uint64
	}{{12345, 100000, 130000}, {-1, 0, math.MaxUint64}, {100000, 0, 1000000}} {
		ps := cpuQuotaProps(c.q, c.p, 252)
		v := ps[len(ps)-1].Value.Value()
		if v != c.want {
			t.Errorf("quota %d period %d: %v, want %d", c.q, c.p, v, c.want)
		}
	}
	// the D-Bus signature systemd expects for DeviceAllow
	if s := godbus.SignatureOf([]deviceAllow{}).String(); s != "a(ss)" {
		t.Errorf("DeviceAllow signature %s", s)
	}
	if versionAtoi(`"252.39-1~deb12u1"`) != 252 || versionAtoi("v245.4-1.fc32") != 245 {
		t.Error("versionAtoi")
	}
}
