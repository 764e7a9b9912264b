package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/configs"
	"github.com/rt-runtime/rt/libcontainer/intelrdt"
	"github.com/rt-runtime/rt/libcontainer/utils"
)

const (
	stateFile    = "state.json"
	configFile   = "config.json"
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
	// SystemdCgroup is the cgroupsPath ("slice:prefix:name") of a
	// container whose cgroup is a systemd unit (--systemd-cgroup): its
	// commands rebuild the systemd manager from it without the config.
	SystemdCgroup string `json:"systemd_cgroup,omitempty"`
	// IntelRdt is the container's resctrl group (linux.intelRdt).
	IntelRdt *intelrdt.Group `json:"intel_rdt,omitempty"`
	// Bundle, Rootfs and Annotations are copies of the config's, for
	// `list` and `state`, which print them and read nothing else: they
	// stay flat in the number of containers and never decode a config.
	Bundle      string            `json:"bundle,omitempty"`
	Rootfs      string            `json:"rootfs,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// Config is stored beside state.json, in config.json (written before
	// the first state.json), and read only by the commands that act on
	// the container (Container.config).
	Config *configs.Config `json:"-"`
	// configSaved: Config has been written to config.json.
	configSaved bool
}

// stateFileContents is state.json as read: State, and the whole config
// that state.json held before config.json existed (a container created by
// an older rt).
type stateFileContents struct {
	State
	LegacyConfig *configs.Config `json:"config,omitempty"`
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
	fd   int // the open directory, -1 once unlocked
}

func (d *lockedDir) unlock() {
	if d != nil && d.fd >= 0 {
		unix.Close(d.fd)
		d.fd = -1
	}
}

// lockDir opens path and takes its flock. (A raw descriptor: an *os.File
// of a directory costs four fcntl and a failed epoll_ctl more.)
func lockDir(path string, how int) (*lockedDir, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, ErrNotExist
		}
		return nil, fmt.Errorf("open state dir %s: %w", path, &os.PathError{Op: "open", Path: path, Err: err})
	}
	for {
		err = unix.Flock(fd, how)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lock state dir %s: %w", path, err)
	}
	// The directory may have been removed while we waited for the lock.
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Nlink == 0 {
		unix.Close(fd)
		return nil, ErrNotExist
	}
	return &lockedDir{path: path, fd: fd}, nil
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

// readState reads state.json alone: the config stays on disk until
// readConfig (unless state.json is an older rt's, with the config inside).
func readState(dir string) (*State, error) {
	// One read into a stack buffer and the fast decoder: `list` reads one
	// state.json per container (about 700 bytes; annotations may make it
	// larger, then it is read whole).
	var buf [4096]byte
	path := filepath.Join(dir, stateFile)
	data, truncated, err := utils.ReadSmall(path, buf[:])
	if err == nil && truncated {
		data, err = utils.ReadFile(path)
	}
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, ErrNotExist
		}
		return nil, fmt.Errorf("read state: %w", err)
	}
	if s, ok := decodeStateFast(data); ok {
		return &s, nil
	}
	var f stateFileContents
	// (a copy: encoding/json keeps a reference, buf stays on the stack)
	if err := json.Unmarshal(append([]byte(nil), data...), &f); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	s := f.State
	if f.LegacyConfig != nil {
		s.Config, s.configSaved = f.LegacyConfig, true
		s.Bundle, s.Rootfs, s.Annotations = s.Config.Bundle, s.Config.Rootfs, s.Config.Annotations
	}
	return &s, nil
}

// readConfig reads the container's config.json.
func readConfig(dir string) (*configs.Config, error) {
	var c configs.Config
	if err := readConfigInto(dir, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// readConfigInto decodes dir's config.json into v: a configs.Config, or a
// view of some of its fields (execConfigView).
func readConfigInto(dir string, v any) error {
	path := filepath.Join(dir, configFile)
	data, err := utils.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return ErrNotExist
		}
		return fmt.Errorf("read container config: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}

// writeState replaces state.json atomically (write + rename): a reader sees
// the old state or the new one, never a torn file. The first time, the
// config goes to config.json first, so whoever sees state.json finds it
// (but for create's first state: see writeStateOnly).
func writeState(dir string, s *State) error {
	if s.Config != nil && !s.configSaved {
		if err := writeConfig(dir, s.Config); err != nil {
			return err
		}
		s.configSaved = true
	}
	return writeStateOnly(dir, s)
}

// writeStateOnly replaces state.json without saving the config: create's
// first state, which names what create is about to make (its cgroups) for
// delete --force, is written before the init starts; config.json follows
// with the init's pid (recordInit, while the init does its set-up), off
// create's path. Until then the state says Creating, and delete does
// without the config (a container never created has no poststop hooks
// to run).
func writeStateOnly(dir string, s *State) error {
	if s.Config != nil {
		s.Bundle, s.Rootfs, s.Annotations = s.Config.Bundle, s.Config.Rootfs, s.Config.Annotations
	}
	data, err := encodeState(s)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	if err := replaceFile(dir, stateFile, data); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

// writeConfig replaces config.json atomically.
func writeConfig(dir string, c *configs.Config) error {
	// encodeConfig: json.Marshal's bytes without its reflection (whose
	// first use costs ~0.5 ms of CPU for this type).
	if err := replaceFile(dir, configFile, encodeConfig(c)); err != nil {
		return fmt.Errorf("write container config: %w", err)
	}
	return nil
}

// replaceFile writes dir/name through a temporary file: a reader sees the
// old content or the new, never a torn file and never none. An existing
// dir/name is exchanged with the new file (renameat2 RENAME_EXCHANGE) and
// the old one unlinked, rather than renamed over: on ext4 a rename that
// replaces a file starts the new file's writeback at once (auto_da_alloc,
// ~0.1 ms here, and the delete that unlinks it later waits for that I/O).
// State files need no such flush: nothing here is fsynced, and a
// container's state does not outlive a reboot. The first write, or a
// filesystem without exchange, renames. Raw system calls: an *os.File of a
// regular file costs four fcntl and a failed epoll_ctl.
func replaceFile(dir, name string, data []byte) error {
	final := filepath.Join(dir, name)
	tmp, err := writeTemp(dir, data)
	if err != nil {
		return err
	}
	err = unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, final, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EINVAL) {
		if err = unix.Rename(tmp, final); err == nil {
			return nil
		}
	}
	// tmp: the old content after an exchange, the new one after a failure
	_ = unix.Unlink(tmp)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: tmp, New: final, Err: err}
	}
	return nil
}

// writeTemp writes data to a new file .state-<random> in dir, mode 0600,
// and returns its path.
func writeTemp(dir string, data []byte) (string, error) {
	for range 100 {
		tmp := filepath.Join(dir, ".state-"+strconv.FormatUint(uint64(rand.Uint32()), 10))
		fd, err := unix.Open(tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		if err != nil {
			return "", &os.PathError{Op: "open", Path: tmp, Err: err}
		}
		err = writeAll(fd, data)
		if cerr := unix.Close(fd); err == nil {
			err = cerr
		}
		if err != nil {
			_ = unix.Unlink(tmp)
			return "", &os.PathError{Op: "write", Path: tmp, Err: err}
		}
		return tmp, nil
	}
	return "", &os.PathError{Op: "open", Path: filepath.Join(dir, ".state-*"), Err: unix.EEXIST}
}

func writeAll(fd int, data []byte) error {
	for len(data) > 0 {
		n, err := unix.Write(fd, data)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// removeStateDir removes a container's state directory and what it holds.
// os.RemoveAll would first try the directory as a file and as an empty
// directory, and open its parent: three failed or extra calls per delete.
func removeStateDir(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return os.RemoveAll(dir)
	}
	var buf [2048]byte
	var names []string
	for {
		n, err := unix.Getdents(fd, buf[:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n <= 0 {
			break
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
	for _, name := range names {
		if err := unix.Unlinkat(fd, name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			// a directory, or anything else unexpected: os.RemoveAll's
			// care below
			break
		}
	}
	unix.Close(fd)
	if err := unix.Rmdir(dir); err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	return os.RemoveAll(dir)
}
