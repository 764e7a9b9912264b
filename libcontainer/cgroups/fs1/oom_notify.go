package fs1

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
)

// NotifyOOM registers an eventfd for memory.oom_control through
// cgroup.event_control (the v1 notification API). The channel receives
// a value for every OOM the memory cgroup reports and is closed once the
// cgroup is removed (the kernel signals the eventfd then too).
func (m *Manager) NotifyOOM() (<-chan struct{}, error) {
	dir := m.Path("memory")
	if dir == "" {
		return nil, fmt.Errorf("oom notification: memory: %w", cgutil.ErrNotMounted)
	}
	return registerMemoryEvent(dir, "memory.oom_control", "")
}

// registerMemoryEvent asks the kernel to signal a new eventfd on events of
// the memory cgroup file evName (arg is the file's argument, e.g. a
// threshold; empty for oom_control).
func registerMemoryEvent(dir, evName, arg string) (<-chan struct{}, error) {
	evPath := filepath.Join(dir, evName)
	evFile, err := os.Open(evPath)
	if err != nil {
		return nil, fmt.Errorf("oom notification: open %s: %w", evPath, err)
	}
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		evFile.Close()
		return nil, fmt.Errorf("oom notification: eventfd: %w", err)
	}
	efd := os.NewFile(uintptr(fd), "eventfd")
	line := fmt.Sprintf("%d %d", efd.Fd(), evFile.Fd())
	if arg != "" {
		line += " " + arg
	}
	if err := cgutil.WriteFile(dir, "cgroup.event_control", line); err != nil {
		efd.Close()
		evFile.Close()
		return nil, fmt.Errorf("oom notification: %w", err)
	}
	ch := make(chan struct{})
	control := filepath.Join(dir, "cgroup.event_control")
	go func() {
		defer func() {
			close(ch)
			efd.Close()
			evFile.Close()
		}()
		buf := make([]byte, 8)
		for {
			if _, err := efd.Read(buf); err != nil {
				return
			}
			// The kernel also signals the eventfd when the cgroup goes.
			if _, err := os.Lstat(control); errors.Is(err, os.ErrNotExist) {
				return
			}
			ch <- struct{}{}
		}
	}()
	return ch, nil
}
