package fs2

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
)

// freezeTimeout bounds the wait for "frozen 1" (slow machines and
// emulated VMs take a while to stop a busy cgroup).
const freezeTimeout = 10 * time.Second

// Freeze writes 1 to cgroup.freeze and waits until cgroup.events
// reports "frozen 1". If that does not happen in time it thaws again
// and fails with ErrFreezeFailed rather than leave the cgroup half
// frozen.
func (m *Manager) Freeze() error {
	if err := cgutil.WriteFile(m.dir, "cgroup.freeze", "1"); err != nil {
		return fmt.Errorf("freeze: %w", err)
	}
	deadline := time.Now().Add(freezeTimeout)
	delay := time.Millisecond
	for {
		frozen, err := eventFrozen(m.dir)
		if err != nil {
			return fmt.Errorf("freeze: %w", err)
		}
		if frozen {
			return nil
		}
		if time.Now().After(deadline) {
			err := fmt.Errorf("%s: %w (cgroup.events still reports frozen 0 after %s)", m.dir, cgutil.ErrFreezeFailed, freezeTimeout)
			if terr := cgutil.WriteFile(m.dir, "cgroup.freeze", "0"); terr != nil {
				return errors.Join(err, fmt.Errorf("thaw again: %w", terr))
			}
			return err
		}
		time.Sleep(delay)
		if delay < 50*time.Millisecond {
			delay *= 2
		}
	}
}

// Thaw writes 0 to cgroup.freeze.
func (m *Manager) Thaw() error {
	if err := cgutil.WriteFile(m.dir, "cgroup.freeze", "0"); err != nil {
		return fmt.Errorf("thaw: %w", err)
	}
	return nil
}

// IsFrozen reports whether the cgroup itself was asked to freeze
// (cgroup.freeze is 1), not merely an ancestor of it.
func (m *Manager) IsFrozen() (bool, error) {
	s, err := cgutil.ReadFile(m.dir, "cgroup.freeze")
	if err != nil {
		return false, err
	}
	return strings.TrimSpace(s) == "1", nil
}

// eventFrozen reads the "frozen" key of dir/cgroup.events.
func eventFrozen(dir string) (bool, error) {
	s, err := cgutil.ReadFile(dir, "cgroup.events")
	if err != nil {
		return false, err
	}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), " "); ok && k == "frozen" {
			return strings.TrimSpace(v) == "1", nil
		}
	}
	return false, fmt.Errorf("%s/cgroup.events has no \"frozen\" key (kernel older than 5.2?): %w", dir, cgutil.ErrNotSupported)
}

// EffectivelyFrozen reports whether the cgroup's processes are (or, for a
// cgroup not made yet, would be) frozen, by the cgroup itself or by an
// ancestor: "frozen 1" in the cgroup.events of the cgroup or of its
// nearest existing ancestor (the root cgroup has no cgroup.events).
func (m *Manager) EffectivelyFrozen() (bool, error) {
	dir := m.dir
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
	if _, err := os.Stat(filepath.Join(dir, "cgroup.events")); err != nil {
		return false, nil
	}
	return eventFrozen(dir)
}
