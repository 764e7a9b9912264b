package libcontainer

import (
	"fmt"

	"github.com/rt-runtime/rt/libcontainer/events"
)

// Stats returns the container's resource usage, read from its cgroup.
func (c *Container) Stats() (*events.Stats, error) {
	m, err := c.cgroupManager()
	if err != nil {
		return nil, fmt.Errorf("stats of container %q: %w", c.ID(), err)
	}
	s, err := m.Stats()
	if err != nil {
		return nil, fmt.Errorf("stats of container %q: %w", c.ID(), err)
	}
	return s, nil
}

// NotifyOOM returns a channel that receives a value for every OOM kill
// in the container's memory cgroup; it is closed when the cgroup is
// removed.
func (c *Container) NotifyOOM() (<-chan struct{}, error) {
	m, err := c.cgroupManager()
	if err != nil {
		return nil, fmt.Errorf("oom notification of container %q: %w", c.ID(), err)
	}
	ch, err := m.NotifyOOM()
	if err != nil {
		return nil, fmt.Errorf("oom notification of container %q: %w", c.ID(), err)
	}
	return ch, nil
}

// Processes returns the host pids of every process in the container's
// cgroup, sorted; nil when there is none (the container stopped, or its
// cgroup is gone).
func (c *Container) Processes() ([]int, error) {
	m, err := c.cgroupManager()
	if err != nil {
		return nil, fmt.Errorf("unable to get all container pids: %w", err)
	}
	if !m.Exists() {
		return nil, nil
	}
	pids, err := m.GetPids()
	if err != nil {
		return nil, fmt.Errorf("unable to get all container pids: %w", err)
	}
	if len(pids) == 0 {
		return nil, nil
	}
	return pids, nil
}
