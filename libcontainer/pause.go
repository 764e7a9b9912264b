package libcontainer

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Pause freezes every process of a running or created container, as
// `runc pause` does. Any other status is ErrNotRunning.
func (c *Container) Pause() error {
	d, err := lockDir(c.dir, unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer d.unlock()
	if err := checkStatus(OpPause, c.ID(), c.Status()); err != nil {
		return err
	}
	m, err := c.cgroupManager()
	if err != nil {
		return fmt.Errorf("pause container %q: %w", c.ID(), err)
	}
	if err := m.Freeze(); err != nil {
		return fmt.Errorf("pause container %q: %w", c.ID(), err)
	}
	return nil
}

// Resume thaws a paused container. A container whose cgroup is not
// frozen (or that is stopped) is ErrNotPaused.
func (c *Container) Resume() error {
	d, err := lockDir(c.dir, unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer d.unlock()
	if err := checkStatus(OpResume, c.ID(), c.Status()); err != nil {
		return err
	}
	m, err := c.cgroupManager()
	if err != nil {
		return fmt.Errorf("resume container %q: %w", c.ID(), err)
	}
	if err := m.Thaw(); err != nil {
		return fmt.Errorf("resume container %q: %w", c.ID(), err)
	}
	return nil
}
