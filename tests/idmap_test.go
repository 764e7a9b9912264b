package tests

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// userNSBundle makes a bundle whose container has a user namespace mapping
// its 0..65535 to the host's 100000..165535, with a host directory of
// files owned by host uid 0 and uid 1000 bound at /data with options and
// mount mappings as given. It returns the bundle and the host directory.
func userNSBundle(t *testing.T, opts []string, uids, gids []specs.LinuxIDMapping) (*bundle, string) {
	t.Helper()
	data := t.TempDir()
	for name, id := range map[string]int{"rootfile": 0, "userfile": 1000} {
		p := filepath.Join(data, name)
		if err := os.WriteFile(p, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, id, id); err != nil {
			t.Fatal(err)
		}
	}
	// Writable by all; owned by host uid 1000, so that the directory is
	// mapped in both idmappings below (the kernel refuses writes to an
	// inode whose owner an idmapped mount cannot map).
	os.Chmod(data, 0o777)
	os.Chown(data, 1000, 1000)
	b := newBundle(t, withArgs("sh", "-c", "stat -c '%u:%g' /data/rootfile /data/userfile; touch /data/new && stat -c '%u' /data/new"),
		func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: data,
				Options: opts, UIDMappings: uids, GIDMappings: gids})
		})
	// The container's root (host uid 100000) must reach its rootfs, and
	// cannot create directories in it (owned by the host's root).
	if err := os.Mkdir(filepath.Join(b.Rootfs, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	for d := b.Dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	return b, data
}

func hostUID(t *testing.T, path string) uint32 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Uid
}

func TestIDMappedMountContainerMappings(t *testing.T) {
	requireSuite(t)
	// Control: without idmap, the host's root files are nobody's inside.
	b, _ := userNSBundle(t, []string{"rbind"}, nil, nil)
	b.Spec.Process.Args = []string{"stat", "-c", "%u:%g", "/data/rootfile"}
	b.write(t)
	if out := strings.TrimSpace(mustRunIn(t, b)); out != "65534:65534" {
		t.Fatalf("plain bind in a user namespace: rootfile owner %q, want 65534:65534", out)
	}
	// idmap with the container's own mappings: the host's owners show
	// through, and what the container's root creates is the host's root's.
	b, data := userNSBundle(t, []string{"rbind", "idmap"}, nil, nil)
	out := strings.Fields(mustRunIn(t, b))
	if strings.Join(out, " ") != "0:0 1000:1000 0" {
		t.Errorf("idmapped mount (container mappings): got %q, want rootfile 0:0, userfile 1000:1000, new file 0", out)
	}
	if uid := hostUID(t, filepath.Join(data, "new")); uid != 0 {
		t.Errorf("file created through the idmapped mount has host uid %d, want 0", uid)
	}
}

func TestIDMappedMountOwnMappings(t *testing.T) {
	requireSuite(t)
	// The mount's own mappings: on-disk 1000 appears as host 100000,
	// which is the container's root; on-disk 0 is unmapped.
	maps := []specs.LinuxIDMapping{{ContainerID: 1000, HostID: 100000, Size: 1}}
	b, data := userNSBundle(t, []string{"rbind"}, maps, maps)
	out := strings.Fields(mustRunIn(t, b))
	if strings.Join(out, " ") != "65534:65534 0:0 0" {
		t.Errorf("idmapped mount (own mappings): got %q, want rootfile 65534:65534, userfile 0:0, new file 0", out)
	}
	if uid := hostUID(t, filepath.Join(data, "new")); uid != 1000 {
		t.Errorf("file created through the idmapped mount has host uid %d, want 1000", uid)
	}
}

func TestIDMappedMountNeedsUserNamespace(t *testing.T) {
	// Without mappings of its own, an idmapped mount uses the container's
	// user namespace: there must be one.
	b := newBundle(t, withArgs("true"), func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: "/tmp", Options: []string{"rbind", "idmap"}})
	})
	id := newID(t)
	if _, se, code := rt(t, "run", "--bundle", b.Dir, id); code == 0 || !strings.Contains(se, "needs a user namespace") {
		t.Errorf("idmap without a user namespace: exit %d, %q", code, se)
	}
	assertNoState(t, id)
}

// With mappings of its own, an idmapped mount needs no container user
// namespace (runc 1.2+): on-disk 1000 appears as root, on-disk 0 unmapped.
func TestIDMappedMountWithoutUserNamespace(t *testing.T) {
	requireSuite(t)
	data := t.TempDir()
	for name, id := range map[string]int{"rootfile": 0, "userfile": 1000} {
		p := filepath.Join(data, name)
		if err := os.WriteFile(p, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, id, id); err != nil {
			t.Fatal(err)
		}
	}
	maps := []specs.LinuxIDMapping{{ContainerID: 1000, HostID: 0, Size: 1}}
	b := newBundle(t, withArgs("stat", "-c", "%u:%g", "/data/rootfile", "/data/userfile"), func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: data,
			Options: []string{"rbind"}, UIDMappings: maps, GIDMappings: maps})
	})
	out := strings.Fields(mustRunIn(t, b))
	if strings.Join(out, " ") != "65534:65534 0:0" {
		t.Errorf("idmapped mount without a container user namespace: got %q, want rootfile 65534:65534, userfile 0:0", out)
	}
}
