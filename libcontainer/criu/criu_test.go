package criu

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLogErrorSkipsHarmlessRlimit(t *testing.T) {
	p := filepath.Join(t.TempDir(), "dump.log")
	log := "(00.05) Error (criu/util.c:1534): rlimit: Can't setup RLIMIT_NOFILE for self: Operation not permitted\n" +
		"(00.10) Warn  (criu/x.c:1): something\n" +
		"(00.16) Error (criu/cr-dump.c:1681): A session leader of 22998(1) is outside of its pid namespace\n" +
		"(00.23) Error (criu/cr-dump.c:2128): Dumping FAILED.\n"
	if err := os.WriteFile(p, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	want := "Error (criu/cr-dump.c:1681): A session leader of 22998(1) is outside of its pid namespace"
	if got := LogError(p); got != want {
		t.Fatalf("LogError = %q, want %q", got, want)
	}
	if got := LogError(filepath.Join(t.TempDir(), "missing")); got != "" {
		t.Fatalf("LogError of a missing file = %q", got)
	}
}

func TestFirstError(t *testing.T) {
	out := []byte("Warn  (criu/kerndat.c:1290): Can't keep kdat cache on non-tempfs\n" +
		"Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds\n" +
		"Error (criu/crtools.c:260): Could not initialize kernel features detection.\n")
	if got := firstError(out, errors.New("exit status 1")); got != "Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds" {
		t.Fatalf("firstError = %q", got)
	}
	if got := firstError(nil, errors.New("exit status 1")); got != "exit status 1" {
		t.Fatalf("firstError of no output = %q", got)
	}
}

func TestFindWithoutCriu(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := Find(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Find without criu in PATH: %v", err)
	}
	if err := Check(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Check without criu in PATH: %v", err)
	}
}
