package libcontainer

import (
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/rt-runtime/rt/libcontainer/seccomp"
)

// seccompCacheFile, in a container's state directory, is its seccomp
// profile compiled to BPF by `rt create` (which compiles it anyway for the
// init), or else by the first `rt exec` (libseccomp takes ~20 ms for a
// default profile of 400 syscalls on three architectures, more than the
// rest of an exec); the container's execs read it. The state directory is the
// host root's: nothing of the container can write it.
const seccompCacheFile = "seccomp.bpf"

// seccompKey names what a program is compiled from: the profile and the
// libseccomp that compiles it (MarshalBinary's magic stands for rt's own
// compilation steps).
func seccompKey(s *specs.LinuxSeccomp) ([32]byte, error) {
	data, err := json.Marshal(s)
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(append([]byte("libseccomp "+seccomp.Version()+"\n"), data...)), nil
}

// cachedSeccomp returns s compiled, from dir's cache when it was made from
// the same profile, else compiled now and stored for the next time (best
// effort: a failure to store is only logged).
func cachedSeccomp(dir string, s *specs.LinuxSeccomp) (*seccomp.Program, error) {
	if s == nil {
		return nil, nil
	}
	key, err := seccompKey(s)
	if err != nil || dir == "" {
		return seccomp.Compile(s)
	}
	path := filepath.Join(dir, seccompCacheFile)
	if data, err := os.ReadFile(path); err == nil {
		if p, err := seccomp.UnmarshalProgram(data, key); err == nil {
			return p, nil
		}
	}
	p, err := seccomp.Compile(s)
	if err != nil || p == nil {
		return p, err
	}
	tmp := path + ".tmp" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, p.MarshalBinary(key), 0o600); err != nil {
		logrus.Debugf("seccomp: cache the compiled filter: %v", err)
		return p, nil
	}
	if err := os.Rename(tmp, path); err != nil {
		logrus.Debugf("seccomp: cache the compiled filter: %v", err)
		os.Remove(tmp)
	}
	return p, nil
}
