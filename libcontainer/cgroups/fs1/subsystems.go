package fs1

// unifiedKey is the Paths() key of the cgroup2 hierarchy of a hybrid
// host (runc stores it the same way).
const unifiedKey = ""

// subsystemOrder is every hierarchy the manager joins, in the order it
// joins them; only the mounted ones get a directory. Other named
// hierarchies (name=foo) are left alone, as runc does. The freezer comes
// last: a process that joins a frozen cgroup (exec --ignore-paused) stops
// there, and it must be in every other hierarchy by then, or a crash of
// rt in the middle leaves it frozen outside the others (and outside
// what delete kills).
var subsystemOrder = []string{
	"cpuset", "devices", "memory", "cpu", "cpuacct", "pids", "blkio",
	"hugetlb", "net_cls", "net_prio", "perf_event", "rdma",
	"misc", "name=systemd", unifiedKey, "freezer",
}

func isJoinedSubsystem(name string) bool {
	for _, s := range subsystemOrder {
		if s == name {
			return true
		}
	}
	return false
}
