// Package intelrdt applies linux.intelRdt through the resctrl filesystem:
// a resctrl group (made, or joined by closID), its schemata, the
// container's tasks, and a monitoring group for enableMonitoring.
package intelrdt

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ErrNotSupported: the host has no resctrl filesystem mounted.
var ErrNotSupported = errors.New("linux.intelRdt: Intel RDT is not supported or enabled on this host (no resctrl filesystem mounted)")

// mkdir and rmdir make and remove resctrl groups (the kernel fills a new
// group with its files and lets a group with tasks go); a unit test on a
// plain directory tree replaces them.
var (
	mkdir = func(path string) error { return os.Mkdir(path, 0o755) }
	rmdir = unix.Rmdir
)

// Root returns where resctrl is mounted, from /proc/self/mountinfo.
func Root() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("linux.intelRdt: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for s.Scan() {
		// id parent maj:min root mountpoint opts ... - fstype source superopts
		fields := strings.Fields(s.Text())
		for i, fld := range fields {
			if fld == "-" && i+1 < len(fields) && fields[i+1] == "resctrl" && len(fields) > 4 {
				return fields[4], nil
			}
		}
	}
	return "", ErrNotSupported
}

// Group is the container's place in resctrl, as recorded in its state.
type Group struct {
	// Path is the resctrl (CTRL_MON) group.
	Path string `json:"path"`
	// Created: rt made Path (no closID, or a closID group that did not
	// exist) and removes it with the container.
	Created bool `json:"created,omitempty"`
	// MonPath is the monitoring group (enableMonitoring), removed with the
	// container.
	MonPath string `json:"mon_path,omitempty"`
}

// schemata returns the lines to write: linux.intelRdt.schemata replaces
// l3CacheSchema and memBwSchema (runtime-spec 1.3).
func schemata(r *specs.LinuxIntelRdt) []string {
	if len(r.Schemata) > 0 {
		return r.Schemata
	}
	var lines []string
	for _, s := range []string{r.L3CacheSchema, r.MemBwSchema} {
		for _, l := range strings.Split(s, "\n") {
			if strings.TrimSpace(l) != "" {
				lines = append(lines, l)
			}
		}
	}
	return lines
}

// Plan is the group Apply will make or join, recorded in the container's
// state before Apply runs, so that a crash in between leaves nothing that
// delete cannot remove: Created is whether the group does not exist yet.
func Plan(root string, r *specs.LinuxIntelRdt, id string) *Group {
	name := r.ClosID
	if name == "" {
		name = id
	}
	g := &Group{Path: filepath.Join(root, name)}
	if _, err := os.Lstat(g.Path); errors.Is(err, os.ErrNotExist) {
		g.Created = true
	}
	if r.EnableMonitoring {
		g.MonPath = filepath.Join(g.Path, "mon_groups", id)
	}
	return g
}

// Apply makes or joins the group of r under root (the resctrl mount),
// writes its schemata if rt made it, and moves pid into it (and into a
// monitoring group named id when monitoring is asked for). pid should be
// single-threaded: its threads and children made later follow it.
func Apply(root string, r *specs.LinuxIntelRdt, id string, pid int) (_ *Group, retErr error) {
	name := r.ClosID
	if name == "" {
		name = id
	}
	g := &Group{Path: filepath.Join(root, name)}
	defer func() {
		if retErr != nil {
			if err := g.Destroy(); err != nil {
				retErr = errors.Join(retErr, err)
			}
		}
	}()
	switch err := mkdir(g.Path); {
	case err == nil:
		g.Created = true
	case errors.Is(err, os.ErrExist) && r.ClosID != "":
		// An existing class of service is joined as it is: its schemata
		// belong to whoever made it (runc does not rewrite them either).
	default:
		return nil, fmt.Errorf("linux.intelRdt: make resctrl group %s: %w", g.Path, err)
	}
	if g.Created {
		for _, line := range schemata(r) {
			if err := writeFile(filepath.Join(g.Path, "schemata"), line+"\n"); err != nil {
				return nil, fmt.Errorf("linux.intelRdt: schemata %q: %w%s", line, err, lastCmdStatus(root))
			}
		}
	}
	if err := AddPid(g, pid); err != nil {
		return nil, err
	}
	if r.EnableMonitoring {
		g.MonPath = filepath.Join(g.Path, "mon_groups", id)
		if err := mkdir(g.MonPath); err != nil {
			g.MonPath = ""
			return nil, fmt.Errorf("linux.intelRdt.enableMonitoring: make monitoring group: %w", err)
		}
		if err := writeFile(filepath.Join(g.MonPath, "tasks"), strconv.Itoa(pid)); err != nil {
			return nil, fmt.Errorf("linux.intelRdt.enableMonitoring: add pid %d: %w", pid, err)
		}
	}
	return g, nil
}

// AddPid moves pid into the group (and its monitoring group, if any): for
// exec'd processes.
func AddPid(g *Group, pid int) error {
	if err := writeFile(filepath.Join(g.Path, "tasks"), strconv.Itoa(pid)); err != nil {
		return fmt.Errorf("linux.intelRdt: add pid %d to %s: %w", pid, g.Path, err)
	}
	if g.MonPath != "" {
		if err := writeFile(filepath.Join(g.MonPath, "tasks"), strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("linux.intelRdt.enableMonitoring: add pid %d: %w", pid, err)
		}
	}
	return nil
}

// Destroy removes the monitoring group and, if rt made it, the group.
// resctrl moves the tasks still in them back to the parent group.
func (g *Group) Destroy() error {
	var errs []error
	if g.MonPath != "" {
		if err := rmdir(g.MonPath); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("remove resctrl monitoring group %s: %w", g.MonPath, err))
		}
	}
	if g.Created {
		if err := rmdir(g.Path); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("remove resctrl group %s: %w", g.Path, err))
		}
	}
	return errors.Join(errs...)
}

func writeFile(path, data string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// lastCmdStatus adds resctrl's own explanation of a refused write.
func lastCmdStatus(root string) string {
	b, err := os.ReadFile(filepath.Join(root, "info", "last_cmd_status"))
	if err != nil || strings.TrimSpace(string(b)) == "" || strings.TrimSpace(string(b)) == "ok" {
		return ""
	}
	return " (" + strings.TrimSpace(string(b)) + ")"
}
