package cgutil

import "errors"

// Sentinel errors callers branch on. Package cgroups re-exports them.
var (
	// ErrNotExist: the container's cgroup (or the asked file) is gone.
	ErrNotExist = errors.New("cgroup does not exist")
	// ErrNotMounted: a controller that a resource needs has no mounted
	// hierarchy on this host.
	ErrNotMounted = errors.New("cgroup controller is not mounted")
	// ErrNotSupported: the kernel lacks the interface file a resource
	// needs (e.g. blkio.weight without CFQ/BFQ, memory.memsw without
	// swap accounting).
	ErrNotSupported = errors.New("not supported by this kernel")
	// ErrFreezeFailed: the freezer stayed in FREEZING.
	ErrFreezeFailed = errors.New("unable to freeze the cgroup")
)
