package utils

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, 1023, 1024, 1025, 70000} {
		want := bytes.Repeat([]byte("x"), size)
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, want, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(p)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("ReadFile of %d bytes: %d bytes, %v", size, len(got), err)
		}
	}
	// procfs reports size 0: the content is read to EOF all the same.
	got, err := ReadFile("/proc/self/stat")
	if err != nil || !bytes.Contains(got, []byte(") ")) {
		t.Fatalf("ReadFile(/proc/self/stat) = %q, %v", got, err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadFile of a missing file: %v, want ErrNotExist", err)
	}
}

func TestReadSmall(t *testing.T) {
	dir := t.TempDir()
	var buf [16]byte
	for _, size := range []int{0, 1, 15, 16, 17} {
		want := bytes.Repeat([]byte("x"), size)
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, want, 0o600); err != nil {
			t.Fatal(err)
		}
		got, truncated, err := ReadSmall(p, buf[:])
		if err != nil {
			t.Fatalf("ReadSmall of %d bytes: %v", size, err)
		}
		if truncated != (size >= len(buf)) || (!truncated && !bytes.Equal(got, want)) || (truncated && len(got) != len(buf)) {
			t.Fatalf("ReadSmall of %d bytes: %q, truncated %v", size, got, truncated)
		}
	}
	var big [2048]byte
	got, truncated, err := ReadSmall("/proc/self/stat", big[:])
	if err != nil || truncated || !bytes.HasSuffix(got, []byte("\n")) {
		t.Fatalf("ReadSmall(/proc/self/stat) = %q, %v, %v", got, truncated, err)
	}
	if _, _, err := ReadSmall(filepath.Join(dir, "missing"), buf[:]); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadSmall of a missing file: %v, want ErrNotExist", err)
	}
}

// ReadFileLimit reads a file of up to limit bytes whole, and refuses one
// larger: a regular file by its size, a /proc file (size 0) as it reads.
func TestReadFileLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadFileLimit(path, 10); err != nil || string(got) != "0123456789" {
		t.Fatalf("at the limit: %q, %v", got, err)
	}
	if _, err := ReadFileLimit(path, 9); !errors.Is(err, ErrFileTooLarge) {
		t.Fatalf("past the limit: %v", err)
	}
	if _, err := ReadFileLimit("/proc/self/status", 16); !errors.Is(err, ErrFileTooLarge) {
		t.Fatalf("a /proc file past the limit: %v", err)
	}
	if _, err := ReadFileLimit(filepath.Join(filepath.Dir(path), "missing"), 9); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
}
