package capabilities

import (
	"errors"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestLookupAndKnown(t *testing.T) {
	for i, n := range capNames {
		got, ok := Lookup(n)
		if !ok || got != i {
			t.Fatalf("Lookup(%q) = %d, %v; want %d", n, got, ok, i)
		}
		if Known()[i] != n {
			t.Fatalf("Known()[%d] = %q; want %q", i, Known()[i], n)
		}
	}
	if _, ok := Lookup("CHOWN"); ok {
		t.Fatal("names without the CAP_ prefix must not be accepted")
	}
	if _, ok := Lookup("cap_chown"); ok {
		t.Fatal("lower-case names must not be accepted")
	}
	if len(Known()) != 41 || Known()[40] != "CAP_CHECKPOINT_RESTORE" {
		t.Fatalf("Known() = %v", Known())
	}
}

func TestValidate(t *testing.T) {
	if err := Validate(nil); err != nil {
		t.Fatal(err)
	}
	ok := &specs.LinuxCapabilities{Bounding: []string{"CAP_CHOWN", "CAP_BPF"}, Ambient: []string{"CAP_KILL"}}
	if err := Validate(ok); err != nil {
		t.Fatal(err)
	}
	bad := &specs.LinuxCapabilities{Bounding: []string{"CAP_CHOWN"}, Permitted: []string{"CAP_TEST"}}
	err := Validate(bad)
	if err == nil || !errors.Is(err, ErrUnknownCapability) {
		t.Fatalf("want ErrUnknownCapability, got %v", err)
	}
	if want := `process.capabilities.permitted: unknown capability "CAP_TEST"`; err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
	if _, err := New(bad); err == nil || !strings.Contains(err.Error(), "CAP_TEST") {
		t.Fatalf("New must reject unknown names, got %v", err)
	}
}

func TestNewMasks(t *testing.T) {
	c, err := New(&specs.LinuxCapabilities{
		Bounding:    []string{"CAP_CHOWN", "CAP_KILL"},
		Effective:   []string{"CAP_KILL"},
		Permitted:   []string{"CAP_KILL", "CAP_KILL"},
		Inheritable: nil,
		Ambient:     []string{"CAP_KILL", "CAP_KILL"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Bounding != 0x21 || c.Effective != 0x20 || c.Permitted != 0x20 || c.Inheritable != 0 || c.Ambient != 0x20 {
		t.Fatalf("masks: %+v", c)
	}
	if len(c.ambientList) != 1 {
		t.Fatalf("duplicate ambient caps must be raised once: %v", c.ambientList)
	}
	empty, err := New(nil)
	if err != nil || empty.Bounding != 0 {
		t.Fatalf("New(nil) = %+v, %v", empty, err)
	}
}

func TestAmbientUnraisable(t *testing.T) {
	c := &specs.LinuxCapabilities{
		Permitted:   []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"},
		Inheritable: []string{"CAP_CHOWN", "CAP_NET_RAW", "CAP_SYS_ADMIN"},
		Ambient:     []string{"CAP_NET_RAW", "CAP_KILL", "CAP_SYS_ADMIN", "CAP_CHOWN", "CAP_SETUID"},
	}
	got := strings.Join(AmbientUnraisable(c), " ")
	if want := "CAP_KILL CAP_SYS_ADMIN CAP_SETUID"; got != want {
		t.Errorf("AmbientUnraisable = %q, want %q (not both permitted and inheritable)", got, want)
	}
	if AmbientUnraisable(nil) != nil || AmbientUnraisable(&specs.LinuxCapabilities{Permitted: []string{"CAP_KILL"}}) != nil {
		t.Error("no ambient set: want nothing")
	}
}
