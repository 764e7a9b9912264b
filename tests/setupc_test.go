package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The container's set-up is applied by its C init when the config allows
// (rootfs.Compile; no Go set-up child) and by the Go set-up child
// otherwise. The Go set-up is the reference: the same bundle must give the
// same container either way. goSetupMount(true) sends a config to the Go
// set-up without changing the container; `--debug` says which one ran, so
// that a test that meant to compare the two cannot silently compare Go
// with Go.

// goSetupMount is a tmpfs that both set-ups leave alike. With goSetup it
// carries more propagation options ("rprivate", what a new mount under
// "/" made a slave is anyway) than the C set-up reads, which keeps the
// config on the Go set-up child (rootfs.CompileReason).
func goSetupMount(goSetup bool) specs.Mount {
	m := specs.Mount{Destination: "/mnt/go-setup", Type: "tmpfs", Source: "tmpfs"}
	for i := 0; goSetup && i < 17; i++ {
		m.Options = append(m.Options, "rprivate")
	}
	return m
}

// setupReport is what the container shows of its set-up: its mounts, its
// /dev and the modes of what the set-up made, its names and sysctls.
const setupReport = `cat /proc/self/mountinfo; echo ==; ` +
	`for f in /dev/* /dev/pts/* /dev/shm /dev/mqueue /sys/fs/cgroup/* /tmp /tmp2 /mnt/* /mnt/*/* /mnt/*/*/* /run/* /run/*/*/* /nowhere/*; do stat -c '%n %F %a %u %g %t:%T' "$f"; done 2>&1; ` +
	`for l in /dev/fd /dev/stdin /dev/ptmx /dev/core /sys/fs/cgroup/cpu /sys/fs/cgroup/cpuacct; do readlink "$l" || echo "$l none"; done; ` +
	`echo ==; hostname; cat /proc/sys/kernel/domainname /proc/sys/net/ipv4/ip_forward; pwd; ` +
	`ip link show lo 2>/dev/null | grep -o 'state [A-Z]*' || cat /sys/class/net/lo/operstate; ` +
	`touch /x 2>&1 | sed 's/^.*: //'; touch /dev/x 2>&1 | sed 's/^.*: //'; cat /proc/keys /sys/firmware/x 2>&1 | sed 's/^.*: //'`

var (
	// What another process of the host may change between the two runs of
	// a config that binds the host's /dev: its ptys and shm files.
	reHostVolatile = regexp.MustCompile(`(?m)^/dev/(pts/\d+|shm/).*\n`)
	reMountIDs     = regexp.MustCompile(`(?m)^\d+ \d+ \d+:\d+ `)
	rePeerGroup    = regexp.MustCompile(`(shared|master|propagate_from):\d+`)
)

// runSetup runs b as container id with --debug and returns the report, and
// which set-up ran ("C" or "Go").
func runSetup(t *testing.T, b *bundle, id string) (string, string) {
	t.Helper()
	so, se, code := rt(t, "--debug", "run", "--bundle", b.Dir, id)
	if code != 0 {
		t.Fatalf("run %s: exit %d\nstdout: %s\nstderr: %s", id, code, so, se)
	}
	which := ""
	switch {
	case strings.Contains(se, "set-up in C ("):
		which = "C"
	case strings.Contains(se, "set-up in Go: "):
		which = "Go"
	default:
		t.Fatalf("run %s: --debug does not say which set-up ran:\n%s", id, se)
	}
	out := strings.ReplaceAll(so, b.Dir, "BUNDLE")
	out = strings.ReplaceAll(out, id, "ID")
	out = reHostVolatile.ReplaceAllString(out, "")
	out = reMountIDs.ReplaceAllString(out, "N N D ")
	out = rePeerGroup.ReplaceAllString(out, "$1:N")
	return out, which
}

func TestSetupInCMatchesGo(t *testing.T) {
	requireSuite(t)
	mode := os.FileMode(0o600)
	uid, gid := uint32(1), uint32(2)
	variants := map[string]func(b *bundle){
		// The engines' case: binds of files and directories, a tmpfs, a
		// sysctl, a device, a missing cwd, a read-only root.
		"engine": func(b *bundle) {
			s := b.Spec
			s.Root.Readonly = true
			s.Domainname = "dom.example"
			s.Process.Cwd = "/work/dir"
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
			s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: "/dev/mynull", Type: "c", Major: 1, Minor: 3, FileMode: &mode, UID: &uid, GID: &gid})
			s.Mounts = append(s.Mounts,
				specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev"}},
				specs.Mount{Destination: "/tmp2", Type: "tmpfs", Source: "tmpfs", Options: []string{"mode=1770", "noexec"}},
				specs.Mount{Destination: "/etc/hosts", Type: "bind", Source: "/etc/hosts", Options: []string{"rbind", "ro", "nosuid"}},
				specs.Mount{Destination: "/mnt/share", Type: "bind", Source: "/usr/share", Options: []string{"bind", "ro", "noatime"}},
				specs.Mount{Destination: "/mnt/plain", Type: "bind", Source: "/usr/lib", Options: []string{"rbind"}},
			)
		},
		// A cgroup namespace (the hierarchies mounted afresh), a private
		// root, recursive read-only and propagation on a bind, a
		// read-only /dev.
		"cgroupns-rro-devro": func(b *bundle) {
			s := b.Spec
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
			s.Linux.RootfsPropagation = "rprivate"
			for i := range s.Mounts {
				if s.Mounts[i].Destination == "/dev" {
					s.Mounts[i].Options = append(s.Mounts[i].Options, "ro")
				}
			}
			s.Mounts = append(s.Mounts,
				specs.Mount{Destination: "/mnt/rro", Type: "bind", Source: "/sys/fs/cgroup", Options: []string{"rbind", "rro", "rprivate"}},
			)
		},
	}
	// Destinations through symlinks (a /var/run -> /run as in distribution
	// images, a dangling one), missing parents several deep, a file bound
	// into a missing directory, "..", a fifo device, nosymfollow.
	variants["paths"] = func(b *bundle) {
		for _, l := range [][2]string{{"/run", "var/run"}, {"/nowhere/x", "dangling"}} {
			os.MkdirAll(filepath.Join(b.Rootfs, filepath.Dir(l[1])), 0o755)
			os.Symlink(l[0], filepath.Join(b.Rootfs, l[1]))
		}
		os.MkdirAll(filepath.Join(b.Rootfs, "run"), 0o755)
		s := b.Spec
		fifo := os.FileMode(0o640)
		s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: "/dev/myfifo", Type: "p", FileMode: &fifo})
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/var/run/secrets/a/b", Type: "tmpfs", Source: "tmpfs", Options: []string{"mode=700"}},
			specs.Mount{Destination: "/dangling", Type: "tmpfs", Source: "tmpfs"},
			specs.Mount{Destination: "/mnt/deep/er/hosts", Type: "bind", Source: "/etc/hosts", Options: []string{"bind", "ro"}},
			specs.Mount{Destination: "/mnt/x/../y", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosymfollow", "nodev"}},
		)
	}
	// The host's /dev bound (no devices made, no /dev links), the host's
	// network namespace (sysfs of the host's), no uts namespace.
	variants["host-dev-net"] = func(b *bundle) {
		s := b.Spec
		var ns []specs.LinuxNamespace
		for _, n := range s.Linux.Namespaces {
			if n.Type != specs.NetworkNamespace && n.Type != specs.UTSNamespace {
				ns = append(ns, n)
			}
		}
		s.Linux.Namespaces = ns
		s.Hostname = ""
		for i := range s.Mounts {
			if s.Mounts[i].Destination == "/dev" {
				s.Mounts[i] = specs.Mount{Destination: "/dev", Type: "bind", Source: "/dev", Options: []string{"rbind", "nosuid"}}
			}
		}
	}
	// Hooks between the mounts and pivot_root: the parent's (asked for by
	// the init), and createContainer hooks (run by the init).
	variants["hooks"] = func(b *bundle) {
		noop := []specs.Hook{{Path: "/bin/true"}}
		b.Spec.Hooks = &specs.Hooks{Prestart: noop, CreateRuntime: noop, CreateContainer: noop}
	}
	if !hasNS("cgroup") {
		delete(variants, "cgroupns-rro-devro")
		t.Log("no cgroup namespaces (CONFIG_CGROUPS ns): the cgroupns variant is not run")
	}
	for name, edit := range variants {
		t.Run(name, func(t *testing.T) {
			// Two bundles made alike: a set-up makes directories in
			// the rootfs, which the second run would find there.
			b := newBundle(t, withArgs("sh", "-c", setupReport))
			edit(b)
			b.Spec.Mounts = append(b.Spec.Mounts, goSetupMount(false))
			b.write(t)
			inC, which := runSetup(t, b, newID(t))
			if which != "C" {
				t.Fatalf("the config was meant for the C set-up, rt ran the Go one")
			}
			b = newBundle(t, withArgs("sh", "-c", setupReport))
			edit(b)
			b.Spec.Mounts = append(b.Spec.Mounts, goSetupMount(true))
			b.write(t)
			inGo, which := runSetup(t, b, newID(t))
			if which != "Go" {
				t.Fatalf("goSetupMount(true) must send the config to the Go set-up, rt ran %s", which)
			}
			if inC != inGo {
				t.Errorf("the C set-up and the Go set-up differ:\n--- C\n%s\n--- Go\n%s", inC, inGo)
			}
			for _, want := range []string{" /proc ", " /sys/fs/cgroup ", "/dev/null", "ptmx"} {
				if !strings.Contains(inC, want) {
					t.Errorf("report lacks %q:\n%s", want, inC)
				}
			}
		})
	}
}

// The C set-up refuses what the Go one refuses, with the same words: /proc
// as a symlink (CVE-2019-19921 class), a masked /dev/null that is no null
// device (CVE-2025-31133), an absolute symlink that would send a mount
// outside the rootfs.
func TestSetupInCRefusesAsGo(t *testing.T) {
	requireSuite(t)
	cases := map[string]struct {
		edit func(b *bundle)
		want string
	}{
		"proc symlink": {func(b *bundle) {
			os.Remove(filepath.Join(b.Rootfs, "proc"))
			os.Symlink("/etc", filepath.Join(b.Rootfs, "proc"))
		}, "must be mounted on an ordinary directory"},
		"missing sysctl": {func(b *bundle) {
			b.Spec.Linux.Sysctl = map[string]string{"net.ipv4.nosuch": "1"}
		}, `linux.sysctl["net.ipv4.nosuch"]: open /proc/sys/net/ipv4/nosuch: no such file or directory`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var errs [2]string
			for i, goSetup := range []bool{false, true} {
				b := newBundle(t, withArgs("true"))
				tc.edit(b)
				b.Spec.Mounts = append(b.Spec.Mounts, goSetupMount(goSetup))
				b.write(t)
				id := newID(t)
				so, se, code := rt(t, "--debug", "run", "--bundle", b.Dir, id)
				if code == 0 {
					t.Fatalf("run (Go set-up %v) succeeded: %s %s", goSetup, so, se)
				}
				if !strings.Contains(se, tc.want) {
					t.Fatalf("run (Go set-up %v): stderr lacks %q:\n%s", goSetup, tc.want, se)
				}
				assertNoState(t, id)
				errs[i] = se
			}
			if !strings.Contains(errs[0], "set-up in C (") || !strings.Contains(errs[1], "set-up in Go: ") {
				t.Errorf("the two runs did not take the two set-ups")
			}
		})
	}
}

// mustSetupInC runs rt --debug with args, which must succeed and say that
// the C init applied the set-up.
func mustSetupInC(t *testing.T, args ...string) {
	t.Helper()
	so, se, code := rt(t, append([]string{"--debug"}, args...)...)
	if code != 0 {
		t.Fatalf("%s: exit %d: %s %s", args[0], code, so, se)
	}
	if !strings.Contains(se, "set-up in C (") {
		t.Fatalf("%s: the config did not take the C set-up:\n%s", args[0], se)
	}
}

// TestSetupInCParentHooks: prestart and createRuntime hooks (engines'
// network hooks: docker's libnetwork, rt-net) keep the C set-up: the C
// init asks the parent to run them after the mounts and before
// pivot_root, as the Go set-up child does; a failing one fails create and
// leaves nothing.
func TestSetupInCParentHooks(t *testing.T) {
	requireSuite(t)
	h := hookLog{dir: t.TempDir()}
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{
			Prestart:      []specs.Hook{hostHook("prestart", h.dir)},
			CreateRuntime: []specs.Hook{hostHook("createRuntime", h.dir)},
		}
	})
	hostNS := nsInode(t, os.Getpid(), "mnt")
	id := newID(t)
	mustSetupInC(t, "run", "--bundle", b.Dir, id)
	want := []string{"prestart " + hostNS + " host", "createRuntime " + hostNS + " host"}
	if got := h.lines(t); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("hooks: got %q, want %q", got, want)
	}
	st := readHookState(t, h, "createRuntime")
	if st.Status != specs.StateCreating && st.Status != specs.StateCreated || st.Pid <= 0 || st.ID != id {
		t.Errorf("createRuntime's state: %+v", st)
	}

	b.Spec.Hooks.CreateRuntime = []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "echo hook-said-no >&2; exit 3"}}}
	b.write(t)
	id = newID(t)
	_, se, code := rt(t, "--debug", "run", "--bundle", b.Dir, id)
	if code == 0 || !strings.Contains(se, "createRuntime") || !strings.Contains(se, "set-up in C (") {
		t.Fatalf("a failing createRuntime hook: exit %d, stderr:\n%s", code, se)
	}
	assertNoState(t, id)
}

// TestSetupInCCreateContainerHooks: createContainer hooks keep the C
// set-up: the C init runs them where the Go set-up child did (after the
// mounts and the parent's hooks, before pivot_root, in the container's
// mount namespace, from the rootfs), with the state as the container sees
// it (pid 1, created); a failing one fails create with the same words on
// both set-ups and leaves nothing.
func TestSetupInCCreateContainerHooks(t *testing.T) {
	requireSuite(t)
	b, h := newHookBundle(t, "true")
	b.Spec.Hooks.StartContainer, b.Spec.Hooks.Poststart, b.Spec.Hooks.Poststop = nil, nil, nil
	b.write(t)
	hostNS := nsInode(t, os.Getpid(), "mnt")
	id := newID(t)
	mustSetupInC(t, "create", "--bundle", b.Dir, id)
	st := state(t, id)
	contNS := nsInode(t, st.Pid, "mnt")
	want := []string{"prestart " + hostNS + " host", "createRuntime " + hostNS + " host", "createContainer " + contNS + " host"}
	if got := h.lines(t); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("hooks: got %q, want %q", got, want)
	}
	if cs := readHookState(t, h, "createContainer"); cs.Pid != 1 || cs.Status != specs.StateCreated || cs.ID != id {
		t.Errorf("createContainer's state: %+v, want pid 1, created", cs)
	}
	mustRT(t, "delete", "-f", id)

	var errs [2]string
	for i, goSetup := range []bool{false, true} {
		b := newBundle(t, withArgs("true"), func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "echo no-$(pwd) >&2; exit 4"}}}}
			s.Mounts = append(s.Mounts, goSetupMount(goSetup))
		})
		id := newID(t)
		_, se, code := rt(t, "run", "--bundle", b.Dir, id)
		if code == 0 {
			t.Fatalf("a failing createContainer hook (Go set-up %v): run succeeded", goSetup)
		}
		assertNoState(t, id)
		errs[i] = strings.ReplaceAll(strings.ReplaceAll(se, id, "ID"), b.Dir, "BUNDLE")
	}
	if !strings.Contains(errs[0], `createContainer hook #0 (/bin/sh): exit status 4: no-BUNDLE/rootfs`) || errs[0] != errs[1] {
		t.Errorf("a failing createContainer hook:\n C: %s\nGo: %s", errs[0], errs[1])
	}
}
