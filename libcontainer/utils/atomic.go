package utils

import (
	"fmt"
	"os"
	"path/filepath"
)

// AtomicWriteFile writes data to path so that readers see either the old
// content or the new, never a partial file: it writes a temporary file in the
// same directory, sets its mode to perm (exactly, ignoring the umask) and
// renames it over path. There is no fsync, so the new content may be lost
// on a system crash; a torn file cannot be observed.
func AtomicWriteFile(path string, data []byte, perm os.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: set mode %o: %w", path, perm, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
