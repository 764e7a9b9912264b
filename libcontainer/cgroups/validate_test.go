package cgroups

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/cgroups/systemd"
	"github.com/rt-runtime/rt/libcontainer/configs"
)

var testHost = &hostInfo{cpus: []int{0, 1, 2, 3}, mems: []int{0}, hugePageSizes: []string{"1GB", "2MB"}}

func TestValidateResourcesAccepts(t *testing.T) {
	ok := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptrI(-1), Swap: ptrI(-1), Reservation: ptrI(0), Swappiness: ptrU(100)},
		CPU: &specs.LinuxCPU{Shares: ptrU(1024), Quota: ptrI(-1), Period: ptrU(100000), Cpus: "0-1,3", Mems: "0",
			RealtimeRuntime: ptrI(-1), Idle: ptrI(1)},
		Pids:           &specs.LinuxPids{Limit: ptrI(-1)},
		BlockIO:        &specs.LinuxBlockIO{Weight: ptrU16(500), WeightDevice: []specs.LinuxWeightDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8}, Weight: ptrU16(10)}}},
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1 << 21}},
		Devices:        append([]specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}, DefaultAllowedDevices...),
		Unified:        map[string]string{"memory.high": "1G"},
	}
	if err := validateResources(ok, testHost); err != nil {
		t.Fatal(err)
	}
	if err := ValidateResources(nil); err != nil {
		t.Fatal(err)
	}
}

func TestValidateResourcesRejects(t *testing.T) {
	for _, tc := range []struct {
		r    specs.LinuxResources
		want string
	}{
		{specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptrI(-2)}}, "linux.resources.memory.limit: -2 is negative"},
		{specs.LinuxResources{Memory: &specs.LinuxMemory{Reservation: ptrI(-5)}}, "linux.resources.memory.reservation:"},
		{specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptrI(200), Swap: ptrI(100)}}, "linux.resources.memory.swap: 100 is below memory.limit 200"},
		{specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: ptrU(101)}}, "linux.resources.memory.swappiness:"},
		{specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0-7"}}, "linux.resources.cpu.cpus: cpu 4 is not online on this machine (online: 0-3)"},
		{specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0-"}}, "linux.resources.cpu.cpus: invalid list"},
		{specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "a"}}, "linux.resources.cpu.cpus:"},
		{specs.LinuxResources{CPU: &specs.LinuxCPU{Mems: "1"}}, "linux.resources.cpu.mems: memory node 1 is not online"},
		{specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptrI(-3)}}, "linux.resources.cpu.quota:"},
		{specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptrI(500)}}, "linux.resources.cpu.quota: 500 is below"},
		{specs.LinuxResources{CPU: &specs.LinuxCPU{Period: ptrU(10)}}, "linux.resources.cpu.period:"},
		{specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptrU(1)}}, "linux.resources.cpu.shares:"},
		{specs.LinuxResources{CPU: &specs.LinuxCPU{Idle: ptrI(2)}}, "linux.resources.cpu.idle:"},
		{specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: ptrI(2000), RealtimePeriod: ptrU(1000)}}, "linux.resources.cpu.realtimeRuntime:"},
		{specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptrU16(1001)}}, "linux.resources.blockIO.weight:"},
		{specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: -1}}}}}, "linux.resources.blockIO.throttleReadBpsDevice[0]:"},
		{specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "3MB"}}}, `linux.resources.hugepageLimits[0].pageSize: unknown huge page size "3MB" (this machine has: 1GB, 2MB)`},
		{specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "p"}}}, "linux.resources.devices[0].type:"},
		{specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "c", Access: "rwx"}}}, "linux.resources.devices[0].access:"},
		{specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "c", Major: ptrI(-7)}}}, "linux.resources.devices[0].major:"},
		{specs.LinuxResources{Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: ""}}}}, "linux.resources.network.priorities[0].name:"},
		{specs.LinuxResources{Unified: map[string]string{"../x": "1"}}, "linux.resources.unified["},
	} {
		err := validateResources(&tc.r, testHost)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("got %v, want prefix %q", err, tc.want)
			continue
		}
		var ire *InvalidResourceError
		if !errors.Is(err, ErrInvalidResource) || !errors.As(err, &ire) {
			t.Errorf("%v: not an InvalidResourceError", err)
		}
	}
}

func TestValidateResourcesThisHost(t *testing.T) {
	// Reads the real sysfs: cpu 4096 is outside any test machine.
	err := ValidateResources(&specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "4095"}})
	if !errors.Is(err, ErrInvalidResource) {
		t.Fatalf("got %v", err)
	}
}

func TestHugePageSizeName(t *testing.T) {
	for in, want := range map[uint64]string{2 << 20: "2MB", 1 << 30: "1GB", 64 << 10: "64KB", 1536 << 10: "1.5MB", 16 << 30: "16GB"} {
		if got := HugePageSizeName(in); got != want {
			t.Errorf("HugePageSizeName(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestDefaultAllowedDevicesMatchRunc11(t *testing.T) {
	var got []string
	for _, d := range DefaultAllowedDevices {
		s := d.Type + " "
		for _, n := range []*int64{d.Major, d.Minor} {
			if n == nil {
				s += "*"
			} else {
				s += fmt.Sprint(*n)
			}
			s += ":"
		}
		got = append(got, strings.TrimSuffix(s, ":")+" "+d.Access)
		if !d.Allow {
			t.Errorf("%s: not an allow rule", s)
		}
	}
	want := []string{"c *:* m", "b *:* m", "c 1:3 rwm", "c 1:8 rwm", "c 1:7 rwm", "c 5:0 rwm", "c 1:5 rwm", "c 1:9 rwm", "c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

// TestNewSystemdNotRunning: --systemd-cgroup on a host whose init is not
// systemd is an error, as runc's (nothing is created).
func TestNewSystemdNotRunning(t *testing.T) {
	if systemd.IsRunning() {
		t.Skip("systemd is this host's init: tests/systemd covers the driver")
	}
	_, err := New(&configsCgroupSystemd, "x")
	if !errors.Is(err, ErrSystemdUnsupported) {
		t.Fatalf("New = %v, want ErrSystemdUnsupported", err)
	}
}

var configsCgroupSystemd = configs.Cgroup{Systemd: true, Path: "system.slice:rt:x"}
