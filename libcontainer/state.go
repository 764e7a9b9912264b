package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/configs"
	"github.com/rt-runtime/rt/libcontainer/intelrdt"
)

const (
	stateFile    = "state.json"
	execFifoFile = "exec.fifo"
)

// Status is the OCI status of a container.
type Status string

const (
	Creating Status = "creating"
	Created  Status = "created"
	Running  Status = "running"
	Paused   Status = "paused"
	Stopped  Status = "stopped"
)

// State is what rt stores about a container in <root>/<id>/state.json.
type State struct {
	ID string `json:"id"`
	// InitPid is the host pid of the container's init process.
	InitPid int `json:"init_pid"`
	// InitStart is the start time of InitPid (field 22 of /proc/pid/stat),
	// so that a recycled pid is never mistaken for the container.
	InitStart uint64 `json:"init_start"`
	// Creating is true until create has finished.
	Creating bool      `json:"creating,omitempty"`
	Created  time.Time `json:"created"`
	Owner    string    `json:"owner"`
	// CgroupPaths maps a controller to its directory ("" for cgroup v2).
	CgroupPaths map[string]string `json:"cgroup_paths,omitempty"`
	// IntelRdt is the container's resctrl group (linux.intelRdt).
	IntelRdt *intelrdt.Group `json:"intel_rdt,omitempty"`
	// Config is the container's configuration as converted at create;
	// exec, update and delete work from it.
	Config *configs.Config `json:"config"`
}

// ValidateID refuses ids that could escape the state directory: runc's
// rule, letters, digits and _ + . - only.
func ValidateID(id string) error {
	if id == "" || id == "." || id == ".." || len(id) > 1024 {
		return fmt.Errorf("%w: %q", ErrInvalidID, id)
	}
	for _, c := range id {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '+' || c == '.' || c == '-'
		if !ok {
			return fmt.Errorf("%w: %q", ErrInvalidID, id)
		}
	}
	return nil
}

// lockedDir is a container's state directory held under flock.
type lockedDir struct {
	path string
	f    *os.File
}

func (d *lockedDir) unlock() {
	if d != nil && d.f != nil {
		d.f.Close()
		d.f = nil
	}
}

func lockDir(path string, how int) (*lockedDir, error) {
	f, err := os.OpenFile(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, ErrNotExist
		}
		return nil, fmt.Errorf("open state dir %s: %w", path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock state dir %s: %w", path, err)
	}
	// The directory may have been removed while we waited for the lock.
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil || st.Nlink == 0 {
		f.Close()
		return nil, ErrNotExist
	}
	return &lockedDir{path: path, f: f}, nil
}

// newStateDir creates <root>/<id> atomically and already locked: the
// directory is prepared under a temporary name, locked, then renamed into
// place with RENAME_NOREPLACE, so of two creates exactly one wins and no
// other command ever sees it unlocked.
func newStateDir(root, id string) (*lockedDir, error) {
	if err := os.MkdirAll(root, 0o711); err != nil {
		return nil, fmt.Errorf("create state root %s: %w", root, err)
	}
	final := filepath.Join(root, id)
	if _, err := os.Lstat(final); err == nil {
		return nil, ErrExist
	}
	tmp, err := os.MkdirTemp(root, ".new-"+id+"-")
	if err != nil {
		return nil, fmt.Errorf("create state dir in %s: %w", root, err)
	}
	if err := os.Chmod(tmp, 0o711); err != nil {
		os.Remove(tmp)
		return nil, err
	}
	d, err := lockDir(tmp, unix.LOCK_EX)
	if err != nil {
		os.Remove(tmp)
		return nil, err
	}
	if err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, final, unix.RENAME_NOREPLACE); err != nil {
		d.unlock()
		os.Remove(tmp)
		if errors.Is(err, unix.EEXIST) || errors.Is(err, unix.ENOTEMPTY) {
			return nil, ErrExist
		}
		return nil, fmt.Errorf("create state dir %s: %w", final, err)
	}
	d.path = final
	return d, nil
}

func readState(dir string) (*State, error) {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, ErrNotExist
		}
		return nil, fmt.Errorf("read state: %w", err)
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, stateFile), err)
	}
	return &s, nil
}

// writeState replaces state.json atomically (write + rename): a reader sees
// the old state or the new one, never a torn file.
func writeState(dir string, s *State) error {
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".state-")
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write state: %w", err)
	}
	tmp.Close()
	if err := os.Rename(tmp.Name(), filepath.Join(dir, stateFile)); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}
