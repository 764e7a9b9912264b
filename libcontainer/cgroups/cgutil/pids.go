package cgutil

import "strconv"

// PidsMaxValue formats a spec pids limit for pids.max, as runc 1.5 does
// with either cgroup driver: a negative limit is "max" (the spec's -1); 0
// is written as 1, since systemd's TasksMax cannot express 0 and the two
// drivers must agree (a limit of 1 admits no new task either once the
// container's init is in the cgroup).
func PidsMaxValue(limit int64) string {
	switch {
	case limit < 0:
		return "max"
	case limit == 0:
		return "1"
	}
	return strconv.FormatInt(limit, 10)
}
