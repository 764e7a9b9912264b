package utils

import (
	"path/filepath"
	"strings"
)

// CleanPath cleans p lexically like filepath.Clean and, for a relative path,
// also removes leading ".." elements, so the result never climbs above its
// starting directory ("../a/../../b" becomes "b"). An empty path stays empty.
// Symlinks are not resolved: use securejoin for paths inside a rootfs.
func CleanPath(p string) string {
	if p == "" {
		return ""
	}
	p = filepath.Clean(p)
	if filepath.IsAbs(p) {
		return p
	}
	// Cleaning "/"+p drops any ".." that would go above the root.
	p = strings.TrimPrefix(filepath.Clean("/"+p), "/")
	if p == "" {
		return "."
	}
	return p
}
