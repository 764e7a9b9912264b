package libcontainer

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rt-runtime/rt/libcontainer/configs"
)

func TestValidateID(t *testing.T) {
	for _, id := range []string{"a", "abc-DEF_1.2+3", "ociv-94ac1e3b"} {
		if err := ValidateID(id); err != nil {
			t.Errorf("ValidateID(%q) = %v", id, err)
		}
	}
	for _, id := range []string{"", ".", "..", "a/b", "../x", "a b", "é", "a\x00"} {
		if err := ValidateID(id); !errors.Is(err, ErrInvalidID) {
			t.Errorf("ValidateID(%q) = %v, want ErrInvalidID", id, err)
		}
	}
}

func TestNewStateDirOneWinner(t *testing.T) {
	root := t.TempDir()
	const n = 16
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners int
		exists  int
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := newStateDir(root, "same")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				winners++
				d.unlock()
			case errors.Is(err, ErrExist):
				exists++
			default:
				t.Errorf("newStateDir: %v", err)
			}
		}()
	}
	wg.Wait()
	if winners != 1 || exists != n-1 {
		t.Fatalf("%d winners, %d ErrExist; want 1 and %d", winners, exists, n-1)
	}
	// No temporary directories are left behind.
	ents, _ := os.ReadDir(root)
	if len(ents) != 1 || ents[0].Name() != "same" {
		t.Errorf("state root holds %v", ents)
	}
}

func TestStateRoundTripAndLock(t *testing.T) {
	root := t.TempDir()
	d, err := newStateDir(root, "c1")
	if err != nil {
		t.Fatal(err)
	}
	st := &State{ID: "c1", InitPid: 42, InitStart: 7, Config: &configs.Config{ID: "c1", Bundle: "/b"}}
	if err := writeState(d.path, st); err != nil {
		t.Fatal(err)
	}
	d.unlock()
	got, err := readState(filepath.Join(root, "c1"))
	if err != nil || got.InitPid != 42 || got.InitStart != 7 || got.Bundle != "/b" {
		t.Fatalf("readState = %+v, %v", got, err)
	}
	// state.json alone does not hold the config: list and state never
	// decode it. It is in config.json.
	if got.Config != nil {
		t.Errorf("readState decoded the config")
	}
	raw, _ := os.ReadFile(filepath.Join(d.path, stateFile))
	if strings.Contains(string(raw), `"config"`) {
		t.Errorf("state.json holds the config: %s", raw)
	}
	c := &Container{root: root, dir: d.path, state: got}
	if cfg, err := c.Config(); err != nil || cfg.ID != "c1" || cfg.Bundle != "/b" {
		t.Fatalf("Config() = %+v, %v", cfg, err)
	}
	// No temporary files next to state.json and config.json.
	ents, _ := os.ReadDir(d.path)
	if len(ents) != 2 || ents[0].Name() != configFile || ents[1].Name() != stateFile {
		t.Errorf("state dir holds %v", ents)
	}
	// A directory removed while a command waited for its lock is gone.
	l, err := lockDir(d.path, 2 /* LOCK_EX */)
	if err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(d.path)
	l.unlock()
	if _, err := lockDir(d.path, 2); !errors.Is(err, ErrNotExist) {
		t.Errorf("lockDir of a removed dir: %v, want ErrNotExist", err)
	}
	if _, err := readState(d.path); !errors.Is(err, ErrNotExist) {
		t.Errorf("readState of a removed dir: %v, want ErrNotExist", err)
	}
}

// A state.json written by an older rt holds the whole config: it is still
// read, with the summary fields taken from it.
func TestReadLegacyState(t *testing.T) {
	dir := t.TempDir()
	legacy := `{"id":"old","init_pid":5,"init_start":9,"created":"2026-01-02T03:04:05Z","owner":"root",` +
		`"config":{"id":"old","bundle":"/bundle","rootfs":"/bundle/rootfs","annotations":{"a":"b"}}}`
	if err := os.WriteFile(filepath.Join(dir, stateFile), []byte(legacy), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := readState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Config == nil || st.Config.ID != "old" || st.Bundle != "/bundle" || st.Rootfs != "/bundle/rootfs" || st.Annotations["a"] != "b" {
		t.Fatalf("legacy state read as %+v (config %+v)", st, st.Config)
	}
	c := &Container{dir: dir, state: st}
	if o := c.OCIState(); o.Bundle != "/bundle" || o.Annotations["a"] != "b" {
		t.Fatalf("OCIState of a legacy state = %+v", o)
	}
}

// A create records its state before it makes anything; until its init is
// started that state has no pid. While the create runs (it holds the state
// dir's lock) the container is "creating"; once the create is gone (killed)
// it is "stopped", so that delete removes what it recorded.
func TestStatusOfHalfCreated(t *testing.T) {
	root := t.TempDir()
	d, err := newStateDir(root, "half")
	if err != nil {
		t.Fatal(err)
	}
	st := &State{ID: "half", Creating: true, Config: &configs.Config{}}
	if err := writeState(d.path, st); err != nil {
		t.Fatal(err)
	}
	c, err := Load(root, "half")
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Status(); s != Creating {
		t.Errorf("status while the create holds the lock: %s, want creating", s)
	}
	d.unlock()
	if s := c.Status(); s != Stopped {
		t.Errorf("status after the create is gone: %s, want stopped", s)
	}
}

// A reader of a file that replaceFile replaces over and over always finds
// it, whole: the exchange never leaves the name free, nor a torn file. No
// temporary file stays behind.
func TestReplaceFileNeverMissing(t *testing.T) {
	dir := t.TempDir()
	a, b := []byte(strings.Repeat("a", 700)), []byte(strings.Repeat("b", 900))
	if err := replaceFile(dir, stateFile, a); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	bad := make(chan string, 1)
	go func() {
		defer close(bad)
		for {
			select {
			case <-stop:
				return
			default:
			}
			got, err := os.ReadFile(filepath.Join(dir, stateFile))
			if err != nil || (!bytes.Equal(got, a) && !bytes.Equal(got, b)) {
				bad <- fmt.Sprintf("read %d bytes, %v", len(got), err)
				return
			}
		}
	}()
	for i := range 2000 {
		data := a
		if i%2 == 0 {
			data = b
		}
		if err := replaceFile(dir, stateFile, data); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	if msg, ok := <-bad; ok {
		t.Fatalf("a reader saw a missing or torn state.json: %s", msg)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != stateFile {
		t.Fatalf("left in the directory: %v", entries)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, stateFile)); !bytes.Equal(got, a) {
		t.Fatalf("last content not the last written: %d bytes", len(got))
	}
}

func TestRemoveStateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c")
	for _, p := range []string{"sub/deeper", "sub2"} {
		if err := os.MkdirAll(filepath.Join(dir, p), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{stateFile, configFile, ".state-1", "sub/deeper/x", "z"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := removeStateDir(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("state dir still there: %v", err)
	}
	if err := removeStateDir(dir); err != nil {
		t.Fatalf("a missing dir: %v", err)
	}
}
