package libcontainer

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/configs"
	"github.com/rt-runtime/rt/libcontainer/initproto"
	"github.com/rt-runtime/rt/libcontainer/nsenter"
)

// idmapTrees prepares, on the host side, every idmapped mount of cfg: a
// detached clone of its source (open_tree), idmapped with the container's
// user namespace, or with a user namespace made for the mount's own
// mappings (mount_setattr MOUNT_ATTR_IDMAP). Only a process of the host's
// user namespace can idmap host filesystems; the init then attaches the
// trees (move_mount). It returns the mount indexes and the tree fds.
func idmapTrees(cfg *configs.Config, initPid int) (idx []int, fds []int, retErr error) {
	var usernsFds = map[string]int{}
	defer func() {
		for _, fd := range usernsFds {
			unix.Close(fd)
		}
		if retErr != nil {
			for _, fd := range fds {
				unix.Close(fd)
			}
		}
	}()
	for i, m := range cfg.Mounts {
		if m.SourceTree {
			fd, err := cloneSource(m)
			if err != nil {
				return nil, nil, fmt.Errorf("mounts[%d] (%s): %w", i, m.Destination, err)
			}
			fds = append(fds, fd)
			idx = append(idx, i)
			continue
		}
		if !m.IDMap {
			continue
		}
		uids, gids := m.UIDMappings, m.GIDMappings
		own := len(uids) > 0 && !(reflect.DeepEqual(uids, cfg.UIDMappings) && reflect.DeepEqual(gids, cfg.GIDMappings))
		key := ""
		if own {
			data, _ := json.Marshal([2][]specs.LinuxIDMapping{uids, gids})
			key = string(data)
		}
		userns, ok := usernsFds[key]
		if !ok {
			var err error
			if own {
				userns, err = newUserns(uids, gids)
			} else {
				userns, err = unix.Open("/proc/"+strconv.Itoa(initPid)+"/ns/user", unix.O_RDONLY|unix.O_CLOEXEC, 0)
			}
			if err != nil {
				return nil, nil, fmt.Errorf("mounts[%d] (%s): user namespace for the idmapped mount: %w", i, m.Destination, err)
			}
			usernsFds[key] = userns
		}
		flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
		if m.Flags&unix.MS_REC != 0 {
			flags |= unix.AT_RECURSIVE
		}
		fd, err := unix.OpenTree(unix.AT_FDCWD, m.Source, flags)
		if err != nil {
			return nil, nil, fmt.Errorf("mounts[%d] (%s): open_tree %s: %w", i, m.Destination, m.Source, err)
		}
		fds = append(fds, fd)
		idx = append(idx, i)
		attrFlags := uint(unix.AT_EMPTY_PATH)
		if m.IDMapRecursive {
			attrFlags |= unix.AT_RECURSIVE
		}
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns)}
		if err := unix.MountSetattr(fd, "", attrFlags, &attr); err != nil {
			return nil, nil, fmt.Errorf("mounts[%d] (%s): idmap %s: %w", i, m.Destination, m.Source, err)
		}
	}
	return idx, fds, nil
}

// markSourceTrees picks the bind mounts whose source the parent clones on
// the host for a container with a new user namespace (runc >= 1.2 opens
// bind sources outside the container's user namespace): those outside the
// rootfs, which the container's earlier mounts cannot change.
func markSourceTrees(cfg *configs.Config) {
	if !cfg.HasNewNamespace(specs.UserNamespace) || os.Geteuid() != 0 {
		return
	}
	for _, m := range cfg.Mounts {
		if !m.IsBind() || m.IDMap || m.Source == "" {
			continue
		}
		if m.Source == cfg.Rootfs || strings.HasPrefix(m.Source, cfg.Rootfs+"/") {
			continue
		}
		if _, err := os.Stat(m.Source); err == nil {
			m.SourceTree = true
		}
	}
}

// cloneSource clones m's source into a detached tree (recursively for
// rbind).
func cloneSource(m *configs.Mount) (int, error) {
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	if m.Flags&unix.MS_REC != 0 {
		flags |= unix.AT_RECURSIVE
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, m.Source, flags)
	if err != nil {
		return -1, fmt.Errorf("open_tree %s: %w", m.Source, err)
	}
	return fd, nil
}

// newUserns returns an fd of a new user namespace with the given
// mappings: rt's own binary, sealed, holds it (the C stage's "hold" mode)
// just long enough for the fd to be opened.
func newUserns(uids, gids []specs.LinuxIDMapping) (int, error) {
	exe, err := sealedExe()
	if err != nil {
		return -1, err
	}
	defer exe.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return -1, err
	}
	defer w.Close()
	conv := func(m []specs.LinuxIDMapping) []syscall.SysProcIDMap {
		var out []syscall.SysProcIDMap
		for _, e := range m {
			out = append(out, syscall.SysProcIDMap{ContainerID: int(e.ContainerID), HostID: int(e.HostID), Size: int(e.Size)})
		}
		return out
	}
	cmd := &exec.Cmd{
		Path:  "/proc/self/fd/" + strconv.Itoa(int(exe.Fd())),
		Args:  []string{"rt", "userns-hold"},
		Env:   []string{"_RT_USERNS_HOLD=1"},
		Stdin: r,
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags:  syscall.CLONE_NEWUSER,
			UidMappings: conv(uids),
			GidMappings: conv(gids),
		},
	}
	err = nsenter.WithChildTimerSlack(cmd.Start)
	r.Close()
	if err != nil {
		return -1, fmt.Errorf("start user namespace holder: %w", err)
	}
	fd, err := unix.Open("/proc/"+strconv.Itoa(cmd.Process.Pid)+"/ns/user", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	w.Close()
	cmd.Wait()
	if err != nil {
		return -1, err
	}
	return fd, nil
}

// sendIDMapTrees sends the trees to the init (initproto.IDMapTrees): the
// fds, with the JSON list of the mount indexes they belong to.
func (p *initProc) sendIDMapTrees(idx, fds []int) error {
	payload, err := json.Marshal(idx)
	if err != nil {
		return fmt.Errorf("encode idmapped mounts: %w", err)
	}
	if err := p.conn.Send(initproto.IDMapTrees, payload, fds...); err != nil {
		return p.failed("send idmapped mounts to init", err)
	}
	return nil
}
