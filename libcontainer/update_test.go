package libcontainer

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func ptrTo[T any](v T) *T { return &v }

func TestMergeResourcesKeepsUnsetValues(t *testing.T) {
	old := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: ptrTo(int64(64 << 20)), Reservation: ptrTo(int64(32 << 20))},
		CPU:     &specs.LinuxCPU{Shares: ptrTo(uint64(512)), Quota: ptrTo(int64(50000)), Period: ptrTo(uint64(100000)), Cpus: "0"},
		Pids:    &specs.LinuxPids{Limit: ptrTo(int64(20))},
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
		BlockIO: &specs.LinuxBlockIO{ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{
			{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 100},
		}},
	}
	upd := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: ptrTo(int64(128 << 20)), Kernel: ptrTo(int64(1 << 20))},
		CPU:     &specs.LinuxCPU{Quota: ptrTo(int64(20000))},
		Devices: []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}},
		BlockIO: &specs.LinuxBlockIO{ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{
			{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 200},
			{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 16}, Rate: 300},
		}},
	}
	got, err := MergeResources(old, upd)
	if err != nil {
		t.Fatal(err)
	}
	if *got.Memory.Limit != 128<<20 || *got.Memory.Reservation != 32<<20 || got.Memory.Kernel != nil {
		t.Errorf("memory = %+v", got.Memory)
	}
	if *got.CPU.Quota != 20000 || *got.CPU.Period != 100000 || *got.CPU.Shares != 512 || got.CPU.Cpus != "0" {
		t.Errorf("cpu = %+v", got.CPU)
	}
	if *got.Pids.Limit != 20 {
		t.Errorf("pids = %d", *got.Pids.Limit)
	}
	if len(got.Devices) != 1 || got.Devices[0].Allow {
		t.Errorf("devices changed: %+v", got.Devices)
	}
	th := got.BlockIO.ThrottleReadBpsDevice
	if len(th) != 2 || th[0].Rate != 200 || th[1].Minor != 16 || th[1].Rate != 300 {
		t.Errorf("throttle = %+v", th)
	}
	// old is not modified.
	if *old.Memory.Limit != 64<<20 || *old.CPU.Quota != 50000 || old.BlockIO.ThrottleReadBpsDevice[0].Rate != 100 {
		t.Errorf("old resources were modified: %+v %+v", old.Memory, old.CPU)
	}
}

func TestMergeResourcesFromNothing(t *testing.T) {
	got, err := MergeResources(nil, &specs.LinuxResources{
		Pids:   &specs.LinuxPids{Limit: ptrTo(int64(0))},
		Memory: &specs.LinuxMemory{Limit: ptrTo(int64(-1))},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Pids == nil || *got.Pids.Limit != 0 {
		t.Errorf("pids limit 0 must be kept as a real limit: %+v", got.Pids)
	}
	// runc: memory -1 without swap makes swap "leave as is" so the
	// cgroup manager can make it unlimited too.
	if got.Memory.Swap == nil || *got.Memory.Swap != 0 {
		t.Errorf("swap = %v, want 0", got.Memory.Swap)
	}
	if got.CPU != nil || got.BlockIO != nil {
		t.Errorf("unset sections appeared: %+v", got)
	}
}
