package libcontainer

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
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
