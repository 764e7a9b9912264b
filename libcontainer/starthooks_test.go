package libcontainer

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-runtime/rt/libcontainer/hooks"
)

// The C init gets each startContainer hook's timeout: its own, or
// hooks.DefaultTimeout for a hook without one (never "no bound").
func TestStartHooksPayloadTimeouts(t *testing.T) {
	five := 5
	hs := []specs.Hook{{Path: "/a", Timeout: &five}, {Path: "/b"}}
	b, err := startHooksPayload(hs, &specs.State{ID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if n := binary.LittleEndian.Uint32(b); n != 2 {
		t.Fatalf("%d hooks encoded", n)
	}
	b = b[4:]
	b = b[bytes.IndexByte(b, 0)+1:] // the state
	var got []int32
	for range hs {
		got = append(got, int32(binary.LittleEndian.Uint32(b)))
		b = b[4:]
		b = b[bytes.IndexByte(b, 0)+1:] // path
		b = b[4:]                       // no args
		b = b[4:]                       // env: -1
	}
	if want := []int32{5, int32(hooks.DefaultTimeout / time.Second)}; got[0] != want[0] || got[1] != want[1] || got[1] <= 0 {
		t.Errorf("timeouts %v, want %v", got, want)
	}
}
