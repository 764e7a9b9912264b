package cgutil

import (
	"path/filepath"
)

// CleanPath cleans a cgroupsPath so it cannot climb out of where it is
// joined: an absolute path is cleaned as is; a relative one is cleaned as
// if rooted at "/" and stays relative ("../../x" becomes "x").
func CleanPath(p string) string {
	if p == "" {
		return ""
	}
	p = filepath.Clean(p)
	if filepath.IsAbs(p) {
		return p
	}
	p = filepath.Clean(string(filepath.Separator) + p)
	rel, err := filepath.Rel(string(filepath.Separator), p)
	if err != nil || rel == "." {
		return ""
	}
	return rel
}
