package libcontainer

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/hooks"
)

// startHooksPayload encodes the startContainer hooks for the container's C
// init, which runs them just before execve (nsenter/pid1_hooks.c has the
// format): the state they read on stdin, then each hook's timeout (a hook
// without one gets hooks.DefaultTimeout), path, args and env (-1: the
// process's environment, as a hook without env gets it).
func startHooksPayload(hs []specs.Hook, st *specs.State) ([]byte, error) {
	return hooksPayload("startContainer", hs, st)
}

// hooksPayload encodes hooks of kind (its name in errors) for the C init
// (nsenter/pid1_hooks.c): createContainer hooks go in the set-up's 'C'
// record, startContainer hooks in a StartHooks frame.
func hooksPayload(kind string, hs []specs.Hook, st *specs.State) ([]byte, error) {
	state, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("%s hooks: encode state: %w", kind, err)
	}
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(hs)))
	var bad error
	str := func(i int, s string) {
		if strings.IndexByte(s, 0) >= 0 && bad == nil {
			bad = &hooks.Error{Kind: kind, Index: i, Path: hs[i].Path, Err: fmt.Errorf("%q holds a NUL byte", s)}
		}
		b = append(b, s...)
		b = append(b, 0)
	}
	str(0, string(state))
	for i, h := range hs {
		t := int32(hooks.DefaultTimeout / time.Second) // no timeout: the default bound
		if h.Timeout != nil {
			if *h.Timeout <= 0 || *h.Timeout > math.MaxInt32 {
				return nil, &hooks.Error{Kind: kind, Index: i, Path: h.Path,
					Err: fmt.Errorf("invalid timeout %d: must be greater than zero", *h.Timeout)}
			}
			t = int32(*h.Timeout)
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(t))
		str(i, h.Path)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(h.Args)))
		for _, a := range h.Args {
			str(i, a)
		}
		if h.Env == nil {
			b = binary.LittleEndian.AppendUint32(b, math.MaxUint32) // -1
		} else {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(h.Env)))
			for _, e := range h.Env {
				str(i, e)
			}
		}
	}
	return b, bad
}

// nsPid returns pid as its own pid namespace numbers it (the last NSpid
// field of /proc/<pid>/status): what the init would see as getpid().
func nsPid(pid int) (int, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "NSpid:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				return strconv.Atoi(f[len(f)-1])
			}
		}
	}
	return pid, nil
}
