package fs2

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
	"golang.org/x/sys/unix"
)

// NotifyOOM watches memory.events with inotify. The channel receives a
// value each time its oom_kill counter grows (several kills between two
// reads give one value) and is closed once the cgroup is removed.
func (m *Manager) NotifyOOM() (<-chan struct{}, error) {
	path := filepath.Join(m.dir, "memory.events")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("oom notification: %s: %w (memory controller not enabled?)", path, cgutil.UnwrapPath(err))
	}
	start, err := readOOMKills(m.dir)
	if err != nil {
		return nil, fmt.Errorf("oom notification: %w", err)
	}
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("oom notification: inotify_init1: %w", err)
	}
	if _, err := unix.InotifyAddWatch(fd, path, unix.IN_MODIFY|unix.IN_DELETE_SELF); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("oom notification: watch %s: %w", path, err)
	}
	ch := make(chan struct{})
	go watchOOM(fd, m.dir, start, ch)
	return ch, nil
}

// watchOOM waits for inotify events (checking every second that the
// cgroup is still there, since a removed cgroupfs file does not always
// produce one) and sends on ch when the oom_kill count grows.
func watchOOM(fd int, dir string, last uint64, ch chan<- struct{}) {
	defer close(ch)
	defer unix.Close(fd)
	buf := make([]byte, 4096)
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 1000)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return
		}
		if n > 0 {
			for {
				if _, err := unix.Read(fd, buf); err != nil {
					break // EAGAIN: drained
				}
			}
		}
		cur, err := readOOMKills(dir)
		if err != nil {
			return // the cgroup is gone
		}
		if cur > last {
			last = cur
			ch <- struct{}{}
		}
	}
}

// readOOMKills reads the oom_kill counter of dir/memory.events.
func readOOMKills(dir string) (uint64, error) {
	kv, err := cgutil.ReadKeyValues(dir, "memory.events")
	if err != nil {
		return 0, err
	}
	return kv["oom_kill"], nil
}
