package libcontainer

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"golang.org/x/sys/unix"
)

// sealedMemfd holds what it was given and refuses every change: write
// (through its own read-write fd), grow, shrink, more seals.
func TestSealedMemfd(t *testing.T) {
	data := bytes.Repeat([]byte("rt-stage"), 1000)
	f, err := sealedMemfd("rt-test", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE; seals != want {
		t.Errorf("seals %#x, want %#x", seals, want)
	}
	if _, err := f.WriteAt([]byte("x"), 0); !errors.Is(err, unix.EPERM) {
		t.Errorf("write to the sealed memfd: %v, want EPERM", err)
	}
	if err := f.Truncate(1); !errors.Is(err, unix.EPERM) {
		t.Errorf("shrink: %v, want EPERM", err)
	}
	if err := f.Truncate(int64(len(data)) + 1); !errors.Is(err, unix.EPERM) {
		t.Errorf("grow: %v, want EPERM", err)
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_FUTURE_WRITE); !errors.Is(err, unix.EPERM) {
		t.Errorf("another seal: %v, want EPERM", err)
	}
	got, err := io.ReadAll(io.NewSectionReader(f, 0, int64(len(data))+1))
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("memfd holds %d bytes (%v), want the %d given", len(got), err, len(data))
	}
}
