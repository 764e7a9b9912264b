#!/bin/sh
# bench.sh RT [N]: lifecycle latency (run, split) and peak RSS of create for
# RT, runc and crun in one sitting, with ratios against runc and crun
# (../shared/harness/perf/lifecycle.sh; floor.c, the least work a runtime
# can do per container, for reference).
set -eu
rt=$1; n=${2:-50}
here=$(cd "$(dirname "$0")/.." && pwd)
perf=${SHARED:-$here/../shared}/harness/perf
WITH_BENCH=1 "$here/scripts/install-deps.sh"
# crun 1.8 refuses the hybrid host unless hugetlb is a v1 hierarchy.
if [ ! -d /sys/fs/cgroup/hugetlb ]; then
	mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb 2>/dev/null || rmdir /sys/fs/cgroup/hugetlb 2>/dev/null || true
fi
val() { sed -E 's/.*: ([0-9]+) .*/\1/'; }
for mode in run split mem; do
	r=$("$perf/lifecycle.sh" "$rt" "$n" "$mode" | val)
	c=$("$perf/lifecycle.sh" "$(command -v runc)" "$n" "$mode" | val)
	k=$("$perf/lifecycle.sh" "$(command -v crun)" "$n" "$mode" | val)
	unit=us; [ "$mode" = mem ] && unit=KiB
	awk -v m="$mode" -v r="$r" -v c="$c" -v k="$k" -v u="$unit" 'BEGIN {
		printf "%-5s rt %7d %s  runc %7d %s  crun %7d %s  rt/runc %.2f  rt/crun %.2f\n", m, r, u, c, u, k, u, r / c, r / k }'
done
if command -v gcc >/dev/null && [ -f "$perf/floor.c" ]; then
	tmp=$(mktemp -d); gcc -O2 -o "$tmp/floor" "$perf/floor.c" 2>/dev/null && {
		mkdir -p "$tmp/rootfs/bin" && cp "$(command -v busybox)" "$tmp/rootfs/bin/" && ln -s busybox "$tmp/rootfs/bin/true"
		mkdir -p "$tmp/rootfs/proc" "$tmp/rootfs/dev" "$tmp/rootfs/sys" "$tmp/rootfs/tmp"
		printf 'floor (C, least work per container): %s\n' "$("$tmp/floor" "$tmp/rootfs" 200 2>&1 | tail -n 1)"
	}; rm -rf "$tmp"
fi
