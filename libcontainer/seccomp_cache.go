package libcontainer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/rt-runtime/rt/libcontainer/seccomp"
)

// seccompCacheFile, in a container's state directory, is its seccomp
// profile compiled to BPF by `rt create` (which compiles it anyway for the
// init), or else by the first `rt exec` (libseccomp takes ~20 ms for a
// default profile of 400 syscalls on three architectures, more than the
// rest of an exec); the container's execs read it. The state directory is the
// host root's: nothing of the container can write it.
const seccompCacheFile = "seccomp.bpf"

// sharedSeccompPrefix names the files of the state root's shared cache:
// `.seccomp@<name>` keeps every program a create of that root compiled,
// for the next creates with the same profile: engines give every container
// the same default profile, and compiling it is most of a create's time
// (~20 ms here; crun and runc compile it at each create). They are regular
// files, so that a scan of the root for containers' directories (as the
// OCI validation harness makes to clean up) does not take the cache for
// one; the leading dot keeps list away, and '@' is no container id's. The
// root is the host root's (or a rootless user's own), as the state.
const sharedSeccompPrefix = ".seccomp@"

// sharedSeccompMax bounds the shared cache: storing one more empties it.
// (Only a profile not seen before stores one.)
const sharedSeccompMax = 64

// sharedSeccompName is a program's file name in the shared cache: its
// profile's key and what else the program depends on that may change while
// the root lives: rt's binary (its compilation steps; the file's identity)
// and the kernel (libseccomp's API level).
func sharedSeccompName(key [32]byte) (string, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &st); err != nil {
		return "", err
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(key[:])
	fmt.Fprintf(h, "\nexe %d:%d %d %d.%d\nkernel %s %s\n", st.Dev, st.Ino, st.Size, st.Mtim.Sec, st.Mtim.Nsec,
		unix.ByteSliceToString(u.Release[:]), unix.ByteSliceToString(u.Version[:]))
	return hex.EncodeToString(h.Sum(nil)) + ".bpf", nil
}

// seccompKey names what a program is compiled from: the profile and the
// libseccomp that compiles it (MarshalBinary's magic stands for rt's own
// compilation steps).
func seccompKey(s *specs.LinuxSeccomp) ([32]byte, error) {
	data, err := json.Marshal(s)
	if err != nil {
		return [32]byte{}, err
	}
	return seccompKeyOf(data), nil
}

// seccompKeyOf is the key of a profile encoded as JSON by json.Marshal.
func seccompKeyOf(data []byte) [32]byte {
	return sha256.Sum256(append([]byte("libseccomp "+seccomp.Version()+"\n"), data...))
}

// seccompSource is a container's seccomp profile as a command has it:
// decoded (create), or still the JSON that config.json holds (exec, which
// decodes a profile of hundreds of syscalls only when the cache misses).
type seccompSource interface {
	// key is seccompKey of the profile.
	key() ([32]byte, error)
	profile() (*specs.LinuxSeccomp, error)
}

// decodedSeccomp is a profile at hand.
type decodedSeccomp struct{ s *specs.LinuxSeccomp }

func (d decodedSeccomp) key() ([32]byte, error)                { return seccompKey(d.s) }
func (d decodedSeccomp) profile() (*specs.LinuxSeccomp, error) { return d.s, nil }

// rawSeccomp is the "seccomp" value of config.json, decoded on first use.
// config.json is the whole config in json.Marshal's bytes (encodeConfig
// writes them: TestEncodeLikeJSON), whose bytes for the profile are
// json.Marshal's of the profile: its key is the same as seccompKey's
// (TestRawSeccompKey).
type rawSeccomp struct {
	raw []byte
	p   *specs.LinuxSeccomp
}

func (r *rawSeccomp) key() ([32]byte, error) { return seccompKeyOf(r.raw), nil }

func (r *rawSeccomp) profile() (*specs.LinuxSeccomp, error) {
	if r.p == nil {
		var p specs.LinuxSeccomp
		if err := json.Unmarshal(r.raw, &p); err != nil {
			return nil, fmt.Errorf("parse linux.seccomp of the container's config: %w", err)
		}
		r.p = &p
	}
	return r.p, nil
}

// cachedSeccomp returns the profile compiled, from dir's cache when it was
// made from the same profile, else compiled now and stored for the next
// time (best effort: a failure to store is only logged). A nil source is
// no profile.
func cachedSeccomp(dir string, src seccompSource) (*seccomp.Program, error) {
	if src == nil {
		return nil, nil
	}
	compile := func() (*seccomp.Program, error) {
		s, err := src.profile()
		if err != nil {
			return nil, err
		}
		return seccomp.Compile(s)
	}
	key, err := src.key()
	if err != nil || dir == "" {
		return compile()
	}
	path := filepath.Join(dir, seccompCacheFile)
	if data, err := os.ReadFile(path); err == nil {
		if p, err := seccomp.UnmarshalProgram(data, key); err == nil {
			return p, nil
		}
	}
	// The root's shared cache: a hard link of its file becomes the
	// container's (the same bytes: a program is stored with its profile's
	// key in both).
	shared := ""
	if name, err := sharedSeccompName(key); err == nil {
		shared = filepath.Join(filepath.Dir(dir), sharedSeccompPrefix+name)
		if data, err := os.ReadFile(shared); err == nil {
			if p, err := seccomp.UnmarshalProgram(data, key); err == nil {
				warnCache(linkInto(shared, path))
				return p, nil
			}
		}
	}
	p, err := compile()
	if err != nil || p == nil {
		return p, err
	}
	tmp := path + ".tmp" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, p.MarshalBinary(key), 0o600); err != nil {
		warnCache(err)
		return p, nil
	}
	if err := os.Rename(tmp, path); err != nil {
		warnCache(err)
		os.Remove(tmp)
		return p, nil
	}
	if shared != "" {
		warnCache(storeShared(path, shared))
	}
	return p, nil
}

func warnCache(err error) {
	if err != nil {
		logrus.Debugf("seccomp: cache the compiled filter: %v", err)
	}
}

// linkInto makes to a hard link of from, replacing what to was.
func linkInto(from, to string) error {
	tmp := to + ".tmp" + strconv.Itoa(os.Getpid())
	if err := os.Link(from, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, to); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// storeShared puts the container's compiled program (path) in the root's
// shared cache as shared, emptying the cache first when it is full.
func storeShared(path, shared string) error {
	root := filepath.Dir(shared)
	if entries, err := os.ReadDir(root); err == nil {
		var cached []string
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), sharedSeccompPrefix) && e.Type().IsRegular() {
				cached = append(cached, e.Name())
			}
		}
		if len(cached) >= sharedSeccompMax {
			for _, name := range cached {
				os.Remove(filepath.Join(root, name))
			}
		}
	}
	return linkInto(path, shared)
}
