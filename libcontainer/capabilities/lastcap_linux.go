package capabilities

import (
	"strconv"
	"strings"
	"sync"

	"github.com/rt-runtime/rt/libcontainer/utils"
)

const lastCapPath = "/proc/sys/kernel/cap_last_cap"

var (
	lastCapOnce  sync.Once
	lastCapValue int
)

// LastCap returns the highest capability number the running kernel knows,
// read from /proc/sys/kernel/cap_last_cap. When that file cannot be read the
// highest capability known to rt is returned.
func LastCap() int {
	lastCapOnce.Do(func() {
		lastCapValue = len(capNames) - 1
		b, err := utils.ReadFile(lastCapPath)
		if err != nil {
			return
		}
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n >= 0 && n < 64 {
			lastCapValue = n
		}
	})
	return lastCapValue
}
