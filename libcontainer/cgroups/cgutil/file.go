package cgutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/utils"
)

// WriteFile writes data to the cgroup interface file dir/name with a
// single write(2), the way the kernel expects cgroupfs files to be
// written. The file must exist (cgroupfs creates them); errors read
// "write <path>: <errno>" and unwrap to the errno.
//
// It uses open/write/close directly rather than an *os.File: cgroupfs
// files are pollable, so os.OpenFile registers each with the runtime's
// poller (fcntl twice, epoll_ctl add and delete, and a wake-up of the
// poller's thread) for a write that never returns EAGAIN. A container's
// cgroup v1 placement writes a dozen of them (issue 12's exec path).
func WriteFile(dir, name, data string) error {
	fd, err := OpenWrite(dir, name)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return WriteFD(fd, filepath.Join(dir, name), data)
}

// OpenWrite opens the cgroup interface file dir/name for writing, for
// WriteFD: the kernel takes each write(2) as one value, so a list of them
// (device rules) can go through one open file.
func OpenWrite(dir, name string) (int, error) {
	if dir == "" {
		return -1, fmt.Errorf("write %s: %w", name, ErrNotExist)
	}
	path := filepath.Join(dir, name)
	for {
		fd, err := unix.Open(path, unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return -1, fmt.Errorf("write %s: %w", path, err)
		}
		return fd, nil
	}
}

// WriteFD writes data with a single write(2) to fd, the cgroup file path
// opened by OpenWrite.
func WriteFD(fd int, path, data string) error {
	for {
		_, err := unix.Write(fd, []byte(data))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	}
}

// ReadFile returns the content of dir/name.
func ReadFile(dir, name string) (string, error) {
	path := filepath.Join(dir, name)
	b, err := utils.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, unwrapPathError(err))
	}
	return string(b), nil
}

// ReadUint reads a single unsigned number from dir/name. "max" reads as
// the largest uint64.
func ReadUint(dir, name string) (uint64, error) {
	s, err := ReadFile(dir, name)
	if err != nil {
		return 0, err
	}
	s = strings.TrimSpace(s)
	if s == "max" {
		return ^uint64(0), nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", filepath.Join(dir, name), err)
	}
	return v, nil
}

// Exists reports whether dir/name exists.
func Exists(dir, name string) bool {
	if dir == "" {
		return false
	}
	_, err := os.Stat(filepath.Join(dir, name))
	return err == nil
}

// unwrapPathError drops the *fs.PathError layer so the caller's message
// names the path once and ends in the errno text.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
