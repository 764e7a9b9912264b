package main

import (
	"fmt"
	"strconv"
	"strings"
)

// ramInBytes parses a human size with binary multipliers as docker's
// units.RAMInBytes (runc's parser for update): "1024", "64m", "64M",
// "64MB", "64MiB", "1.5g", "10 k". Suffixes are case-insensitive.
func ramInBytes(s string) (int64, error) {
	sep := strings.LastIndexAny(s, "0123456789. ")
	if sep == -1 {
		return -1, fmt.Errorf("invalid size: '%s'", s)
	}
	num, sfx := s[:sep+1], s[sep+1:]
	if s[sep] == ' ' {
		num = s[:sep]
	}
	size, err := strconv.ParseFloat(num, 64)
	if err != nil || size < 0 {
		return -1, fmt.Errorf("invalid size: '%s'", s)
	}
	if sfx == "" {
		return int64(size), nil
	}
	// runc 1.1's go-units reports every malformed size this way.
	bad := fmt.Errorf("invalid size: '%s'", s)
	sfx = strings.ToLower(sfx)
	if len(sfx) > 3 {
		return -1, bad
	}
	if sfx == "b" {
		return int64(size), nil
	}
	shift := strings.IndexByte("kmgtp", sfx[0])
	if shift < 0 {
		return -1, bad
	}
	switch {
	case len(sfx) == 2 && sfx[1] != 'b', len(sfx) == 3 && sfx[1:] != "ib":
		return -1, bad
	}
	return int64(size * float64(uint64(1)<<(10*(shift+1)))), nil
}
