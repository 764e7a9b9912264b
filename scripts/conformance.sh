#!/bin/sh
# conformance.sh RT [OUTDIR]: the OCI runtime-tools validation suite (the
# version pinned by ../shared/harness/oci-validation/run.sh) against RT.
# The suite's hugetlb programs need a v1 hugetlb hierarchy; this host keeps
# hugetlb on its (otherwise empty) cgroup2, so mount it as v1 when it is
# free, as the project's benchmarks do. Same for net_cls and net_prio below.
set -eu
rt=$1; out=${2:-}
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$here/../shared}
if [ ! -d /sys/fs/cgroup/hugetlb ] && [ -f /sys/fs/cgroup/unified/cgroup.controllers ] \
   && ! grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.subtree_control 2>/dev/null \
   && grep -qw hugetlb /proc/cgroups; then
	if mkdir /sys/fs/cgroup/hugetlb 2>/dev/null && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb; then
		echo "conformance: mounted the v1 hugetlb hierarchy at /sys/fs/cgroup/hugetlb" >&2
	else
		rmdir /sys/fs/cgroup/hugetlb 2>/dev/null || true
		echo "conformance: could not mount a v1 hugetlb hierarchy; the hugetlb programs will fail" >&2
	fi
fi
# The suite's linux_cgroups_network programs need the v1 net_cls and net_prio
# controllers: this kernel has them but nothing mounts them. Each gets its
# own hierarchy when it is in no hierarchy yet (/proc/cgroups column 2 is 0).
for c in net_cls net_prio; do
	[ -e "/sys/fs/cgroup/$c/cgroup.procs" ] && continue
	awk -v c="$c" '$1 == c && $2 == 0 { f = 1 } END { exit !f }' /proc/cgroups || continue
	if mkdir -p "/sys/fs/cgroup/$c" && mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c"; then
		echo "conformance: mounted the v1 $c hierarchy at /sys/fs/cgroup/$c" >&2
	else
		rmdir "/sys/fs/cgroup/$c" 2>/dev/null || true
		echo "conformance: could not mount a v1 $c hierarchy; linux_cgroups_network will fail" >&2
	fi
done
# $out is empty or one word: unquoted so that empty gives no argument.
# shellcheck disable=SC2086
exec "$shared/harness/oci-validation/run.sh" "$rt" $out
