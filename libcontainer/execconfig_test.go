package libcontainer

import (
	"encoding/json"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/configs"
)

// Every field of execConfigView is configs.Config's field of the same
// name, type and JSON name: the view reads what create wrote.
func TestExecConfigViewFieldsAreConfigs(t *testing.T) {
	full := reflect.TypeOf(configs.Config{})
	view := reflect.TypeOf(execConfigView{})
	for i := 0; i < view.NumField(); i++ {
		vf := view.Field(i)
		ff, ok := full.FieldByName(vf.Name)
		if !ok {
			t.Errorf("execConfigView.%s: configs.Config has no such field", vf.Name)
			continue
		}
		if vf.Name == "Seccomp" && vf.Type == reflect.TypeOf(json.RawMessage(nil)) {
			// Kept as JSON (rawSeccomp); the name must still match.
			if ff.Tag.Get("json") != vf.Tag.Get("json") {
				t.Errorf("execConfigView.Seccomp is `json:%q`, configs.Config's `json:%q`", vf.Tag.Get("json"), ff.Tag.Get("json"))
			}
			continue
		}
		if ff.Type != vf.Type || ff.Tag.Get("json") != vf.Tag.Get("json") {
			t.Errorf("execConfigView.%s is %v `json:%q`, configs.Config's is %v `json:%q`",
				vf.Name, vf.Type, vf.Tag.Get("json"), ff.Type, ff.Tag.Get("json"))
		}
	}
}

// The plan of an exec computed from ExecConfig (the view) is the one
// computed from the whole config, for a config that sets every field
// processPlan reads and many it does not.
func TestExecConfigViewPlansAsConfig(t *testing.T) {
	root := t.TempDir()
	d, err := newStateDir(root, "c1")
	if err != nil {
		t.Fatal(err)
	}
	umask := uint32(0o27)
	proc := &specs.Process{
		Args: []string{"/bin/sh", "-c", "true"}, Env: []string{"A=1"}, Cwd: "/w",
		User:            specs.User{UID: 5, GID: 6, AdditionalGids: []uint32{7}, Umask: &umask},
		Capabilities:    &specs.LinuxCapabilities{Bounding: []string{"CAP_KILL"}, Effective: []string{"CAP_KILL"}, Permitted: []string{"CAP_KILL"}},
		Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 512}},
		NoNewPrivileges: true, OOMScoreAdj: new(int),
	}
	cfg := &configs.Config{
		ID: "c1", Bundle: "/b", Rootfs: "/b/rootfs", Hostname: "h",
		Namespaces:   []configs.Namespace{{Type: specs.PIDNamespace}, {Type: specs.MountNamespace}},
		Mounts:       []*configs.Mount{{Source: "proc", Destination: "/proc", Device: "proc"}},
		MaskedPaths:  []string{"/proc/kcore"},
		Personality:  &specs.LinuxPersonality{Domain: specs.PerLinux32},
		MemoryPolicy: &configs.MemoryPolicy{Mode: 1, Nodes: []uint64{1}},
		Seccomp: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"kexec_load"}, Action: specs.ActErrno}}},
		Cgroup:  configs.Cgroup{Path: "/c1", Resources: &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: new(int64)}}},
		Hooks:   configs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true"}}},
		Process: proc,
	}
	if err := writeState(d.path, &State{ID: "c1", InitPid: 1, Config: cfg}); err != nil {
		t.Fatal(err)
	}
	d.unlock()
	st, err := readState(d.path)
	if err != nil {
		t.Fatal(err)
	}
	c := &Container{root: root, dir: d.path, state: st}
	view, err := c.ExecConfig()
	if err != nil {
		t.Fatal(err)
	}
	if view.Process == nil || !reflect.DeepEqual(*view.Process, *proc) {
		t.Fatalf("ExecConfig().Process = %+v, want %+v", view.Process, proc)
	}
	for _, o := range []planOpts{{exec: true}, {exec: true, preserveFds: 2, lateCgroup: true}} {
		want, err := processPlan(cfg, proc, o)
		if err != nil {
			t.Fatal(err)
		}
		ov := o
		ov.seccomp = c.seccompSource() // as exec passes it
		if view.Seccomp != nil || ov.seccomp == nil {
			t.Fatalf("ExecConfig decoded the seccomp profile (%v) or lost it (%v)", view.Seccomp, ov.seccomp)
		}
		got, err := processPlan(view, view.Process, ov)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("plan from ExecConfig %+v\nwant (from the whole config) %+v", got, want)
		}
	}
	// A container whose whole config is loaded already serves it.
	full, err := c.Config()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := c.ExecConfig(); again != full {
		t.Errorf("ExecConfig after Config: %p, want the whole config %p", again, full)
	}
}

// The key of the seccomp profile's JSON in config.json (exec's) is the key
// of the decoded profile (create's): one compiled program serves both.
func TestRawSeccompKey(t *testing.T) {
	errno := uint(1)
	prof := &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno, DefaultErrnoRet: &errno,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86},
		Flags:         []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read", "write", "<>&"}, Action: specs.ActAllow},
			{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 8, Op: specs.OpEqualTo}}},
		},
		ListenerPath: "/run/l.sock", ListenerMetadata: "m",
	}
	cfg := &configs.Config{ID: "c", Seccomp: prof, Process: &specs.Process{Args: []string{"x"}}}
	data := encodeConfig(cfg) // what writeConfig writes
	var v execConfigView
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	want, err := seccompKey(prof)
	if err != nil {
		t.Fatal(err)
	}
	r := &rawSeccomp{raw: v.Seccomp}
	if got, _ := r.key(); got != want {
		t.Errorf("key of config.json's seccomp bytes %x, of the profile %x (bytes %s)", got, want, v.Seccomp)
	}
	back, err := r.profile()
	if err != nil || !reflect.DeepEqual(back, prof) {
		t.Errorf("profile() = %+v, %v; want %+v", back, err, prof)
	}
}
