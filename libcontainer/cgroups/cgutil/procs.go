package cgutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ReadProcs returns the pids listed in dir/cgroup.procs.
func ReadProcs(dir string) ([]int, error) {
	s, err := ReadFile(dir, "cgroup.procs")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, f := range strings.Fields(s) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, "cgroup.procs"), err)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// AllPids returns the pids of dir and of every cgroup below it, sorted.
// A missing dir yields ErrNotExist.
func AllPids(dir string) ([]int, error) {
	if _, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", dir, ErrNotExist)
		}
		return nil, err
	}
	var all []int
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			// A sub-cgroup removed while walking is not an error.
			if errors.Is(err, fs.ErrNotExist) && p != dir {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		pids, err := ReadProcs(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p != dir {
				return nil
			}
			return err
		}
		all = append(all, pids...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Ints(all)
	return all, nil
}
