package plantest

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/configs"
	"github.com/rt-runtime/rt/libcontainer/initproto"
	"github.com/rt-runtime/rt/libcontainer/rootfs"
	"github.com/rt-runtime/rt/specconv"
)

// setupOf compiles the set-up of rt's default spec (with extra mounts).
func setupOf(t testing.TB) []byte {
	t.Helper()
	s := specconv.Example()
	s.Process.Terminal = false
	s.Domainname = "d"
	s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
	s.Mounts = append(s.Mounts,
		specs.Mount{Destination: "/etc/hosts", Type: "bind", Source: "/etc/hosts", Options: []string{"rbind", "ro", "rprivate"}},
		specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"rro"}})
	cfg := &configs.Config{ID: "x", Rootfs: "/nonexistent/rootfs", Readonly: true, Hostname: "h", Domainname: "d",
		Sysctl: s.Linux.Sysctl, MaskedPaths: s.Linux.MaskedPaths, ReadonlyPaths: s.Linux.ReadonlyPaths, Process: s.Process,
		Namespaces: []configs.Namespace{{Type: specs.MountNamespace}, {Type: specs.NetworkNamespace}}}
	for _, m := range s.Mounts {
		cm, err := specconv.ConvertMount(m, "/nonexistent")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Mounts = append(cfg.Mounts, cm)
	}
	host, err := rootfs.HostViewOf(cfg)
	if err != nil {
		t.Fatal(err)
	}
	set := rootfs.Compile(cfg, host, "", []byte{1, 0, 0, 0, '{', '}', 0, 0xff, 0xff, 0xff, 0xff, '/', 'x', 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	frame, err := set.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return frame[initproto.HeaderSize:]
}

// The C reader takes what the Go compiler writes, and refuses a record cut
// anywhere, an unknown tag and trailing bytes.
func TestSetupCheck(t *testing.T) {
	good := setupOf(t)
	if err := SetupCheck(good); err != nil {
		t.Fatalf("the compiled set-up does not read in C: %v", err)
	}
	if err := SetupCheck(nil); err != nil {
		t.Fatalf("an empty set-up: %v", err)
	}
	for cut := 1; cut < len(good); cut++ {
		if SetupCheck(good[:cut]) == nil && !recordBoundary(good, cut) {
			t.Fatalf("a set-up cut at byte %d of %d reads", cut, len(good))
		}
	}
	for _, bad := range [][]byte{{'Z', 0, 0, 0, 0}, append(append([]byte{}, good...), 'l', 1, 0, 0, 0, 0), {'h', 2, 0, 0, 0, 'a', 'b'}} {
		err := SetupCheck(bad)
		if err == nil || !strings.HasPrefix(err.Error(), "set-up: ") {
			t.Errorf("SetupCheck(%q) = %v, want a set-up error", bad[:min(len(bad), 8)], err)
		}
	}
}

// recordBoundary reports whether cut falls between two records of b.
func recordBoundary(b []byte, cut int) bool {
	for off := 0; off < len(b); {
		if off == cut {
			return true
		}
		n := int(b[off+1]) | int(b[off+2])<<8 | int(b[off+3])<<16 | int(b[off+4])<<24
		off += 5 + n
	}
	return false
}

// FuzzSetupCheck: the C reader never crashes nor reads past its buffer
// (run under the race detector's and the fuzzer's instrumentation).
func FuzzSetupCheck(f *testing.F) {
	f.Add(setupOf(f))
	f.Add([]byte{'f', 8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{'b', 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = SetupCheck(data)
	})
}
