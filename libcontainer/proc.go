package libcontainer

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/utils"
)

// procStartTime returns field 22 (starttime) of /proc/<pid>/stat and the
// process state letter.
func procStartTime(pid int) (uint64, byte, error) {
	// One read into a stack buffer (the file is one record; 52 numbers
	// and a 16-byte comm fit), fields found in place: `list` calls this
	// once per container.
	var buf [2048]byte
	path := "/proc/" + strconv.Itoa(pid) + "/stat"
	data, truncated, err := utils.ReadSmall(path, buf[:])
	if err != nil {
		return 0, 0, err
	}
	if truncated {
		if data, err = utils.ReadFile(path); err != nil {
			return 0, 0, err
		}
	}
	// comm may contain spaces and parentheses: split after the last ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	// data[i+2:] starts with field 3 (state); starttime is field 22.
	var state byte
	rest := data[i+2:]
	for field := 3; ; field++ {
		for len(rest) > 0 && rest[0] == ' ' {
			rest = rest[1:]
		}
		end := bytes.IndexByte(rest, ' ')
		if end < 0 {
			end = len(rest)
		}
		if end == 0 {
			return 0, 0, fmt.Errorf("parse /proc/%d/stat: too few fields", pid)
		}
		switch field {
		case 3:
			state = rest[0]
		case 22:
			st, err := strconv.ParseUint(string(rest[:end]), 10, 64)
			if err != nil {
				return 0, 0, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
			}
			return st, state, nil
		}
		rest = rest[end:]
	}
}

// processAlive reports whether pid is still the process that started at
// start and is not a zombie.
func processAlive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	st, state, err := procStartTime(pid)
	if err != nil || st != start {
		return false
	}
	return state != 'Z' && state != 'X'
}

// waitGone waits until pid (started at start) has exited, up to timeout.
func waitGone(pid int, start uint64, timeout time.Duration) bool {
	if fd, err := unix.PidfdOpen(pid, 0); err == nil {
		defer unix.Close(fd)
		if !processAlive(pid, start) {
			return true
		}
		if waitPidfd(fd, timeout) {
			return true
		}
		return !processAlive(pid, start)
	}
	deadline := time.Now().Add(timeout)
	for processAlive(pid, start) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// waitPidfd waits up to timeout for the process of pidfd to exit (it may
// linger as a zombie until reaped) and reports whether it did.
func waitPidfd(fd int, timeout time.Duration) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		n, err := unix.Poll(fds, int(left/time.Millisecond)+1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return n > 0 || err != nil
	}
}
