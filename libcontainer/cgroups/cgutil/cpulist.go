package cgutil

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/rt-runtime/rt/libcontainer/utils"
)

// maxListID bounds the ids of a cpu/node list so a typo like "0-99999999"
// is not expanded into a huge set.
const maxListID = 1 << 16

// ParseList parses a kernel cpu/node list ("0-3,5,7-8") into its sorted,
// de-duplicated ids. Empty or blank input is an error.
func ParseList(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty list")
	}
	seen := make(map[int]bool)
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := parseListID(lo)
		if err != nil {
			return nil, fmt.Errorf("invalid list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = parseListID(hi); err != nil {
				return nil, fmt.Errorf("invalid list %q: %w", s, err)
			}
			if b < a {
				return nil, fmt.Errorf("invalid list %q: range %q is reversed", s, part)
			}
		}
		for i := a; i <= b; i++ {
			seen[i] = true
		}
	}
	ids := make([]int, 0, len(seen))
	for i := range seen {
		ids = append(ids, i)
	}
	sort.Ints(ids)
	return ids, nil
}

func parseListID(s string) (int, error) {
	if s == "" || strings.TrimSpace(s) != s {
		return 0, fmt.Errorf("bad number %q", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad number %q", s)
	}
	if n >= maxListID {
		return 0, fmt.Errorf("number %d too large", n)
	}
	return n, nil
}

// ReadList reads and parses a list file such as
// /sys/devices/system/cpu/online.
func ReadList(path string) ([]int, error) {
	b, err := utils.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, unwrapPathError(err))
	}
	ids, err := ParseList(string(b))
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return ids, nil
}
