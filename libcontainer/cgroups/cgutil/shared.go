package cgutil

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// UnwrapPath drops the *fs.PathError layer so that a message naming the
// path once ends in the errno text.
func UnwrapPath(err error) error { return unwrapPathError(err) }

// ReadKeyValues parses a "key value" per line file of dir (cpu.stat,
// memory.stat, memory.events, cpuacct.stat, ...).
func ReadKeyValues(dir, name string) (map[string]uint64, error) {
	path := filepath.Join(dir, name)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, unwrapPathError(err))
	}
	defer f.Close()
	res := make(map[string]uint64)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("parse %s: key %q: %w", path, k, err)
		}
		res[k] = n
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return res, nil
}

// RemoveTree removes the cgroup dir and every cgroup below it, deepest
// first (cgroupfs directories hold only interface files, which rmdir
// ignores). A missing dir is not an error.
func RemoveTree(dir string) error {
	// Most often the container made no cgroup below its own: one rmdir.
	// It fails with EBUSY while there are tasks or child cgroups; then
	// the walk below.
	if err := unix.Rmdir(dir); err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("remove cgroup %s: %w", dir, unwrapPathError(err))
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := RemoveTree(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	if err := unix.Rmdir(dir); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove cgroup %s: %w", dir, err)
	}
	return nil
}

// SetCpuset writes cpuset.cpus and cpuset.mems of dir when c gives them
// (the files have the same names on v1 and v2).
func SetCpuset(dir string, c *specs.LinuxCPU) error {
	if c == nil {
		return nil
	}
	if c.Cpus != "" {
		if err := WriteFile(dir, "cpuset.cpus", c.Cpus); err != nil {
			return fmt.Errorf("linux.resources.cpu.cpus: %w", err)
		}
	}
	if c.Mems != "" {
		if err := WriteFile(dir, "cpuset.mems", c.Mems); err != nil {
			return fmt.Errorf("linux.resources.cpu.mems: %w", err)
		}
	}
	return nil
}
