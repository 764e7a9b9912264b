package libcontainer

import (
	"encoding/json"
	"fmt"

	"github.com/rt-runtime/rt/libcontainer/configs"
	"github.com/rt-runtime/rt/libcontainer/initproto"
)

// recvIDMapTrees receives the trees in the init and records each fd on
// its mount.
func recvIDMapTrees(conn *initproto.Conn, cfg *configs.Config) error {
	m, err := conn.Expect(initproto.IDMapTrees)
	if err != nil {
		return fmt.Errorf("receive idmapped mounts: %w", err)
	}
	var idx []int
	if err := json.Unmarshal(m.Payload, &idx); err != nil {
		m.CloseFds()
		return fmt.Errorf("receive idmapped mounts: %w", err)
	}
	if len(m.Fds) != len(idx) {
		m.CloseFds()
		return fmt.Errorf("receive idmapped mounts: %d fds for %d mounts", len(m.Fds), len(idx))
	}
	for _, i := range idx {
		if i < 0 || i >= len(cfg.Mounts) || !(cfg.Mounts[i].IDMap || cfg.Mounts[i].SourceTree) {
			m.CloseFds()
			return fmt.Errorf("receive idmapped mounts: bad mount index %d", i)
		}
	}
	for k, i := range idx {
		cfg.Mounts[i].IDMapFd = m.Fds[k]
	}
	return nil
}
