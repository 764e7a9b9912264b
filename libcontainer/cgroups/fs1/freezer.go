package fs1

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
	"github.com/rt-runtime/rt/libcontainer/utils"
)

const freezerState = "freezer.state"

func (m *Manager) freezerPath() (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir := m.paths["freezer"]
	if dir == "" {
		return "", fmt.Errorf("freezer: %w", cgutil.ErrNotMounted)
	}
	return dir, nil
}

// Freeze freezes every process of the cgroup and waits until the kernel
// reports FROZEN. A v1 freezer can stay in FREEZING while processes keep
// forking or joining, so it writes FROZEN again, every 50 tries thaws
// for a moment to let it settle, and after 1000 tries thaws back and
// fails rather than leave the cgroup half frozen.
func (m *Manager) Freeze() error {
	dir, err := m.freezerPath()
	if err != nil {
		return err
	}
	for i := 0; i < 1000; i++ {
		if i > 0 && i%50 == 0 {
			// Thawed for a moment to let a stuck task move; a failure
			// shows in the next write of FROZEN.
			_ = cgutil.WriteFile(dir, freezerState, "THAWED")
			time.Sleep(10 * time.Millisecond)
		}
		if err := cgutil.WriteFile(dir, freezerState, "FROZEN"); err != nil {
			return err
		}
		if i%25 == 24 {
			time.Sleep(10 * time.Microsecond)
		}
		state, err := cgutil.ReadFile(dir, freezerState)
		if err != nil {
			return err
		}
		switch s := strings.TrimSpace(state); s {
		case "FROZEN":
			return nil
		case "FREEZING":
			continue
		default:
			return fmt.Errorf("%s/%s: unexpected state %q after writing FROZEN", dir, freezerState, s)
		}
	}
	err = fmt.Errorf("%s: %w (stuck in FREEZING)", dir, cgutil.ErrFreezeFailed)
	if terr := cgutil.WriteFile(dir, freezerState, "THAWED"); terr != nil {
		return errors.Join(err, fmt.Errorf("thaw again: %w", terr))
	}
	return err
}

// Thaw resumes the cgroup's processes.
func (m *Manager) Thaw() error {
	dir, err := m.freezerPath()
	if err != nil {
		return err
	}
	return cgutil.WriteFile(dir, freezerState, "THAWED")
}

// IsFrozen reports whether the cgroup itself is frozen (not merely an
// ancestor of it). It waits out a transient FREEZING.
func (m *Manager) IsFrozen() (bool, error) {
	dir, err := m.freezerPath()
	if err != nil {
		return false, err
	}
	return IsFrozenDir(dir)
}

// IsFrozenDir is IsFrozen of the freezer cgroup dir, without a Manager:
// `list` probes every container, and rebuilding a manager (a copy of its
// paths) for each was ~8% of its CPU. freezer.state is read with one read.
func IsFrozenDir(dir string) (bool, error) {
	if !isAbs(dir) {
		return false, fmt.Errorf("freezer cgroup path %q is not absolute", dir)
	}
	path := filepath.Join(dir, freezerState)
	for i := 0; ; i++ {
		var buf [32]byte
		state, truncated, err := utils.ReadSmall(path, buf[:])
		if err != nil || truncated {
			// cgutil's error, or a state longer than any known.
			s, err := cgutil.ReadFile(dir, freezerState)
			if err != nil {
				return false, err
			}
			state = []byte(s)
		}
		switch s := string(bytes.TrimSpace(state)); s {
		case "THAWED":
			return false, nil
		case "FROZEN":
			self, err := cgutil.ReadFile(dir, "freezer.self_freezing")
			if err != nil {
				return true, nil // old kernel without self_freezing
			}
			return strings.TrimSpace(self) == "1", nil
		case "FREEZING":
			if i >= 1000 {
				return false, fmt.Errorf("%s/%s: still FREEZING", dir, freezerState)
			}
			time.Sleep(time.Millisecond)
		default:
			return false, fmt.Errorf("%s/%s: unknown state %q", dir, freezerState, s)
		}
	}
}

// EffectivelyFrozen reports whether the cgroup's processes are (or, for a
// cgroup not made yet, would be) frozen, by the cgroup itself or by an
// ancestor: the freezer.state of the cgroup or of its nearest existing
// ancestor (the root cgroup, which cannot freeze, has no freezer.state).
func (m *Manager) EffectivelyFrozen() (bool, error) {
	dir, err := m.freezerPath()
	if err != nil {
		return false, err
	}
	for {
		if _, err := os.Stat(dir); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return false, nil
		}
		dir = parent
	}
	state, err := cgutil.ReadFile(dir, freezerState)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, cgutil.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	return strings.TrimSpace(state) == "FROZEN", nil
}
