package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/seccomp"
)

// The first exec compiles and stores the filter; the next one reads it; a
// changed profile or a damaged file is compiled again, never used.
func TestCachedSeccomp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, seccompCacheFile)
	prof := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdirat"}, Action: specs.ActErrno}}}
	first, err := cachedSeccomp(dir, decodedSeccomp{prof})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("nothing stored: %v", err)
	}
	st1, _ := os.Stat(path)
	again, err := cachedSeccomp(dir, decodedSeccomp{prof})
	if err != nil {
		t.Fatal(err)
	}
	a, af := first.BPF()
	if b, bf := again.BPF(); string(a) != string(b) || af != bf {
		t.Error("the cached program differs from the compiled one")
	}
	if st2, _ := os.Stat(path); !st2.ModTime().Equal(st1.ModTime()) {
		t.Error("the cache was rewritten although it matched")
	}
	// Another profile: compiled again (not the stored one) and stored.
	prof2 := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"uname"}, Action: specs.ActErrno}}}
	other, err := cachedSeccomp(dir, decodedSeccomp{prof2})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := other.BPF(); string(a) == string(b) {
		t.Error("a changed profile got the stored program of the old one")
	}
	// A damaged file: compiled again.
	if err := os.WriteFile(path, stored[:len(stored)-5], 0o600); err != nil {
		t.Fatal(err)
	}
	fixed, err := cachedSeccomp(dir, decodedSeccomp{prof})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := fixed.BPF(); string(a) != string(b) {
		t.Error("a damaged cache was used")
	}
	if p, err := cachedSeccomp(dir, nil); p != nil || err != nil {
		t.Errorf("no profile: %v, %v", p, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.tmp*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// noCompile is a profile's source whose profile cannot be had: a cached
// program is the only way to succeed.
type noCompile struct{ k [32]byte }

func (n noCompile) key() ([32]byte, error) { return n.k, nil }
func (n noCompile) profile() (*specs.LinuxSeccomp, error) {
	return nil, errors.New("compiled again instead of read from the cache")
}

// A create compiles a profile once per state root: the next container's
// program is the root's shared copy (a hard link), not compiled again; a
// shared file holding another profile's program is not used.
func TestSharedSeccompCache(t *testing.T) {
	root := t.TempDir()
	c1, c2, c3 := filepath.Join(root, "c1"), filepath.Join(root, "c2"), filepath.Join(root, "c3")
	for _, d := range []string{c1, c2, c3} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	prof := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdirat"}, Action: specs.ActErrno}}}
	key, err := seccompKey(prof)
	if err != nil {
		t.Fatal(err)
	}
	first, err := cachedSeccomp(c1, decodedSeccomp{prof})
	if err != nil {
		t.Fatal(err)
	}
	name, err := sharedSeccompName(key)
	if err != nil {
		t.Fatal(err)
	}
	shared := filepath.Join(root, sharedSeccompPrefix+name)
	s0, err := os.Stat(shared)
	if err != nil {
		t.Fatalf("not in the shared cache: %v", err)
	}
	second, err := cachedSeccomp(c2, noCompile{key})
	if err != nil {
		t.Fatalf("second container: %v", err)
	}
	a, af := first.BPF()
	if b, bf := second.BPF(); string(a) != string(b) || af != bf {
		t.Error("the shared program differs from the compiled one")
	}
	if s2, err := os.Stat(filepath.Join(c2, seccompCacheFile)); err != nil || !os.SameFile(s0, s2) {
		t.Errorf("the second container's cache is not a link of the shared file (%v)", err)
	}
	// The shared file of this profile holding another profile's program.
	prof2 := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"uname"}, Action: specs.ActErrno}}}
	other, err := seccomp.Compile(prof2)
	if err != nil {
		t.Fatal(err)
	}
	key2, _ := seccompKey(prof2)
	if err := os.Remove(shared); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(shared, other.MarshalBinary(key2), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := cachedSeccomp(c3, noCompile{key}); err == nil {
		t.Error("a shared file with another profile's program was used")
	}
}

// The shared cache is regular files of the root, never a directory (a scan
// of the root for containers' directories must find only containers), and
// a full cache is emptied before the next program goes in; containers'
// directories are left alone.
func TestSharedSeccompCacheFilesBounded(t *testing.T) {
	root := t.TempDir()
	c1 := filepath.Join(root, "c1")
	if err := os.Mkdir(c1, 0o700); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < sharedSeccompMax; i++ {
		if err := os.WriteFile(filepath.Join(root, fmt.Sprintf("%sold%d.bpf", sharedSeccompPrefix, i)), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	prof := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"uname"}, Action: specs.ActErrno}}}
	if _, err := cachedSeccomp(c1, decodedSeccomp{prof}); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var cached, dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		} else if strings.HasPrefix(e.Name(), sharedSeccompPrefix) {
			cached = append(cached, e.Name())
		}
	}
	if len(dirs) != 1 || dirs[0] != "c1" {
		t.Errorf("directories in the root: %v, want only the container's", dirs)
	}
	if len(cached) != 1 || strings.HasPrefix(cached[0], sharedSeccompPrefix+"old") {
		t.Errorf("shared cache after storing into a full one: %v, want only the new program", cached)
	}
}
