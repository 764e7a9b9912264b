package fs2

import "github.com/rt-runtime/rt/libcontainer/cgroups/devices"

// Access bits of a device request, as the kernel passes them to a
// BPF_PROG_TYPE_CGROUP_DEVICE program (BPF_DEVCG_ACC_*).
const (
	accMknod = uint32(devices.Mknod)
	accRead  = uint32(devices.Read)
	accWrite = uint32(devices.Write)
)

// Device types of a request (BPF_DEVCG_DEV_*).
const (
	devBlock uint32 = 1
	devChar  uint32 = 2
)
