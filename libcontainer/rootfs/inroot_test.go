package rootfs

import (
	"os"
	"path/filepath"
	"testing"
)

func TestOpenInRoot(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Naively followed, each would leave the root.
	for name, target := range map[string]string{"up": "../../../../../..", "abs": outside, "etc2": "/../etc"} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	r, err := openRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for dest, want := range map[string]string{"/up/etc": "/etc", "/etc2": "/etc", "/../../etc": "/etc", "/up": "/"} {
		f, err := openInRoot(r, dest)
		if err != nil {
			t.Errorf("%s: %v", dest, err)
			continue
		}
		got, err := os.Readlink(procFd(f))
		f.Close()
		if err != nil || got != filepath.Join(r.path, want) {
			t.Errorf("%s resolved to %q (%v), want %q", dest, got, err, filepath.Join(r.path, want))
		}
	}
	// An absolute link names a path inside the root, which is missing.
	if f, err := openInRoot(r, "/abs"); err == nil {
		p, _ := os.Readlink(procFd(f))
		f.Close()
		t.Errorf("/abs -> %s opened %q, want ENOENT", outside, p)
	}
}

func TestMkdirLastInRoot(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	if err := os.Symlink(filepath.Join(outside, "made"), filepath.Join(dir, "dangling")); err != nil {
		t.Fatal(err)
	}
	r, err := openRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f, ok := mkdirLastInRoot(r, "/new")
	if !ok {
		t.Fatal("/new: not made")
	}
	got, _ := os.Readlink(procFd(f))
	f.Close()
	if fi, err := os.Lstat(filepath.Join(dir, "new")); err != nil || !fi.IsDir() || got != filepath.Join(r.path, "new") {
		t.Errorf("/new: handle %q, lstat %v", got, err)
	}
	// Not this helper's case: the caller takes securejoin's general path.
	if _, ok := mkdirLastInRoot(r, "/missing/child"); ok {
		t.Error("/missing/child made with a missing parent")
	}
	if _, ok := mkdirLastInRoot(r, "/dangling"); ok {
		t.Error("/dangling: a symlink's place taken")
	}
	if _, err := os.Lstat(filepath.Join(outside, "made")); err == nil {
		t.Error("the dangling symlink was followed out of the root")
	}
	if _, ok := mkdirLastInRoot(r, "/"); ok {
		t.Error(`"/" made`)
	}
}
