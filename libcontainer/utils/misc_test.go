package utils

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]unix.Signal{
		"9":           unix.SIGKILL,
		"0":           0,
		"64":          64,
		"KILL":        unix.SIGKILL,
		"SIGKILL":     unix.SIGKILL,
		"sigkill":     unix.SIGKILL,
		"term":        unix.SIGTERM,
		"SIGWINCH":    unix.SIGWINCH,
		"IOT":         unix.SIGABRT,
		"SIGCLD":      unix.SIGCHLD,
		"RTMIN":       34,
		"SIGRTMIN+1":  35,
		"rtmin+30":    64,
		"RTMAX":       64,
		"RTMAX-2":     62,
		"SIGRTMAX-30": 34,
	} {
		got, err := ParseSignal(in)
		if err != nil || got != want {
			t.Errorf("ParseSignal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"FOO", "", "-1", "65", "SIG", "RTMIN+31", "RTMAX-31", "RTMIN-1", "RTMAX+1", "RTMIN+", "RTMINX", "RTMIN++1", " KILL"} {
		_, err := ParseSignal(in)
		if err == nil {
			t.Errorf("ParseSignal(%q): no error", in)
		} else if want := `unknown signal "` + in + `"`; err.Error() != want {
			t.Errorf("ParseSignal(%q) error %q, want %q", in, err, want)
		}
	}
}

func TestAtomicWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.json")
	old := unix.Umask(0o077)
	defer unix.Umask(old)
	for i, content := range []string{"first", "second, longer"} {
		if err := AtomicWriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(p)
		if err != nil || string(data) != content {
			t.Errorf("write %d: read %q, %v", i, data, err)
		}
		fi, _ := os.Stat(p)
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("mode = %v, want 0644 regardless of umask", fi.Mode())
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	// Failure (missing directory) leaves nothing behind and names the path.
	bad := filepath.Join(dir, "missing", "f")
	if err := AtomicWriteFile(bad, nil, 0o600); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("err = %v", err)
	}
	// Renaming over a directory fails; the temp file is removed.
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	if err := AtomicWriteFile(sub, []byte("x"), 0o600); err == nil {
		t.Error("writing over a directory: no error")
	}
	entries, _ = os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary files left after failure: %v", entries)
	}
}
