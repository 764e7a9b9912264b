package fs2

import "errors"

// Sentinel errors; test with errors.Is.
var (
	// ErrInternalProcesses: the kernel refused to enable a controller or
	// to move a process because of cgroup v2's "no internal processes"
	// rule (EBUSY): a cgroup with processes of its own cannot hand
	// controllers to its children, and a cgroup that hands controllers
	// to its children cannot take processes.
	ErrInternalProcesses = errors.New("cgroup v2 \"no internal processes\" rule")
	// ErrControllerUnavailable: a resource needs a controller that is not
	// listed in the cgroup's cgroup.controllers.
	ErrControllerUnavailable = errors.New("cgroup v2 controller not available")
)
