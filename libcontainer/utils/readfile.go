package utils

import (
	"bytes"
	"errors"
	"os"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// ReadFile reads a whole file, as os.ReadFile, with plain open/read/close:
// no registration with the Go runtime's poller (which costs an fstat, four
// fcntls and an epoll_ctl per file). For the small files rt reads by the
// thousand: state files, /proc/<pid>/stat, cgroup interface files. Errors
// are *os.PathError, so errors.Is(err, os.ErrNotExist) works.
func ReadFile(path string) ([]byte, error) {
	fd, err := openRead(path)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	return readAll(fd, path, make([]byte, 0, 1024), -1)
}

// ErrFileTooLarge is ReadFileLimit's refusal of a file past its limit.
var ErrFileTooLarge = errors.New("file larger than the limit")

// ReadFileLimit is ReadFile for a file of at most limit bytes, its buffer
// sized by fstat (one read for a regular file, and its end): past limit it
// fails with ErrFileTooLarge.
func ReadFileLimit(path string, limit int64) ([]byte, error) {
	fd, err := openRead(path)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	size := int64(512)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size > 0 {
		if st.Size > limit {
			return nil, ErrFileTooLarge
		}
		size = st.Size + 1 // the read that sees the end
	}
	return readAll(fd, path, make([]byte, 0, size), limit)
}

func openRead(path string) (int, error) {
	for {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return fd, nil
	}
}

// readAll appends what fd holds to buf, growing it; limit >= 0 bounds the
// total (ErrFileTooLarge).
func readAll(fd int, path string, buf []byte, limit int64) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
		if limit >= 0 && int64(len(buf)) > limit {
			return nil, ErrFileTooLarge
		}
	}
}

// ReadSmall reads path into buf with a single read and returns what it
// read; truncated reports that buf was filled (the file may hold more: the
// caller reads it with ReadFile). One read returns the whole file for
// regular files and for kernel files made of one record
// (/proc/<pid>/stat, a cgroup file of one value); not for files of many
// records (seq_file may stop at a record boundary), which need ReadFile.
// With a caller's stack buffer it allocates nothing and costs three
// syscalls: `list` reads two such files per container.
func ReadSmall(path string, buf []byte) (data []byte, truncated bool, err error) {
	var fd int
	for {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, false, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	for {
		n, err := unix.Read(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, false, &os.PathError{Op: "read", Path: path, Err: err}
		}
		return buf[:n], n == len(buf), nil
	}
}

// Mounts is mountinfo.GetMounts read with ReadFile: /proc files are
// pollable, so os.Open registers each with the Go runtime's poller (and
// wakes its thread) for a read that never blocks. The calling thread's
// mountinfo (/proc/thread-self, as GetMounts), or the process's on a
// kernel without thread-self.
func Mounts(filter mountinfo.FilterFunc) ([]*mountinfo.Info, error) {
	data, err := ReadFile("/proc/thread-self/mountinfo")
	if errors.Is(err, os.ErrNotExist) {
		data, err = ReadFile("/proc/self/mountinfo")
	}
	if err != nil {
		return nil, err
	}
	return mountinfo.GetMountsFromReader(bytes.NewReader(data), filter)
}
