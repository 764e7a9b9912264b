package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/cgroups/cgutil"
	"github.com/rt-runtime/rt/libcontainer/configs"
)

// The resctrl group is in the state before it is made, as the cgroups
// are: a create killed between the group's mkdir and the write of its
// pid leaves a state whose delete --force removes the group. (The kernel
// part, resctrl itself, is TestIntelRdt and TestKillSweepIntelRdt in
// tests/, which skip where resctrl is not mounted; here a plain
// directory stands in for the resctrl mount, and a group is a directory.)
func TestCreateRecordsResctrlBeforeMkdir(t *testing.T) {
	if cgutil.IsUnifiedMode() && os.Geteuid() != 0 {
		t.Skip("SKIP: on a cgroup v2 host the cgroup is made in this step, which needs root")
	}
	rdtRoot := t.TempDir()
	root := t.TempDir()
	id := fmt.Sprintf("rdt-%d", os.Getpid())
	for _, tc := range []struct {
		name    string
		closID  string
		premade bool // the group exists before create (a shared closID)
		mkdir   bool // the killed create had made the group
	}{
		{name: "killed before mkdir"},
		{name: "killed after mkdir", mkdir: true},
		{name: "existing closID joined", closID: "shared", premade: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			group := filepath.Join(rdtRoot, id)
			if tc.closID != "" {
				group = filepath.Join(rdtRoot, tc.closID)
			}
			if tc.premade {
				if err := os.Mkdir(group, 0o755); err != nil {
					t.Fatal(err)
				}
				defer os.Remove(group)
			}
			d, err := newStateDir(root, id)
			if err != nil {
				t.Fatal(err)
			}
			cfg := &configs.Config{
				ID:       id,
				Cgroup:   configs.Cgroup{Path: "/rt-unit-" + id},
				IntelRdt: &specs.LinuxIntelRdt{ClosID: tc.closID},
			}
			cr := &creation{o: &CreateOpts{Root: root}, cfg: cfg, dir: d, cgroupFD: -1, rdtRoot: rdtRoot}
			err = cr.prepareCgroup()
			for _, f := range cr.done {
				f()
			}
			if err != nil {
				d.unlock()
				t.Fatal(err)
			}
			st, err := readState(d.path)
			if err != nil {
				d.unlock()
				t.Fatal(err)
			}
			if st.IntelRdt == nil || st.IntelRdt.Path != group || st.IntelRdt.Created == tc.premade {
				t.Errorf("recorded resctrl group %+v, want %s made by rt: %v", st.IntelRdt, group, !tc.premade)
			}
			if tc.mkdir {
				// What intelrdt.Apply did before the kill.
				if err := os.Mkdir(group, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			d.unlock() // rt is killed here: its lock goes with it
			c, err := Load(root, id)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Delete(true); err != nil {
				t.Fatalf("delete --force: %v", err)
			}
			_, serr := os.Stat(group)
			switch {
			case tc.premade && serr != nil:
				t.Errorf("a joined closID group was removed: %v", serr)
			case !tc.premade && !errors.Is(serr, os.ErrNotExist):
				t.Errorf("resctrl group left after delete --force: %v", serr)
			}
			if _, err := os.Stat(filepath.Join(root, id)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("state dir left: %v", err)
			}
		})
	}
}
