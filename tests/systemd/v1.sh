#!/bin/sh
# tests/systemd/v1.sh: in a systemd guest booted with the hybrid (or
# legacy) cgroup layout (run.sh, RT_SYSTEMD_VM_CGROUP): --systemd-cgroup
# on cgroup v1 — the scope with the v1 properties (MemoryLimit, CPUShares,
# TasksMax) and the v1 files, update, pause, delete leaving nothing.
set -u
name=TestSystemdCgroupV1
echo "=== RUN   $name"
fail() { echo "    $*"; echo "--- FAIL: $name"; exit 1; }
[ -d /sys/fs/cgroup/memory ] || fail "no v1 memory hierarchy: $(grep cgroup /proc/mounts)"
B=/tmp/b; mkdir -p $B/c; cd $B || exit 1; /payload/bin/rt spec
sed -e 's/"terminal": true/"terminal": false/' -e 's#"path": "rootfs"#"path": "/payload/rootfs"#' -e 's/"sh"$/"sleep", "100"/' config.json > c/config.json
sed -i 's#"linux": {#"linux": {"cgroupsPath": "system.slice:rt:v1c", "resources": {"memory": {"limit": 67108864}, "pids": {"limit": 40}, "cpu": {"shares": 512}},#' c/config.json
rt="/payload/bin/rt --systemd-cgroup"
$rt run -d --bundle $B/c v1c </dev/null >/dev/null 2>/tmp/err || fail "run -d: $(cat /tmp/err)"
u="rt-v1c.scope"
got=$(systemctl show $u -p ActiveState,Delegate,MemoryLimit,TasksMax,CPUShares,ControlGroup | sort | tr '\n' ' ')
want="ActiveState=active CPUShares=512 ControlGroup=/system.slice/$u Delegate=yes MemoryLimit=67108864 TasksMax=40 "
[ "$got" = "$want" ] || fail "systemctl show $u: '$got', want '$want'"
m=/sys/fs/cgroup/memory/system.slice/$u
[ "$(cat $m/memory.limit_in_bytes)" = 67108864 ] || fail "memory.limit_in_bytes $(cat $m/memory.limit_in_bytes)"
[ "$(cat /sys/fs/cgroup/pids/system.slice/$u/pids.max)" = 40 ] || fail "pids.max"
[ "$(cat /sys/fs/cgroup/cpu,cpuacct/system.slice/$u/cpu.shares)" = 512 ] || fail "cpu.shares"
pid=$($rt state v1c | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')
grep -q "memory:/system.slice/$u" "/proc/$pid/cgroup" || fail "init's /proc/$pid/cgroup: $(cat "/proc/$pid/cgroup")"
grep -q "freezer:/system.slice/$u" "/proc/$pid/cgroup" || fail "init not in the freezer hierarchy: $(cat "/proc/$pid/cgroup")"
$rt update --memory 128M v1c || fail update
{ [ "$(systemctl show $u -p MemoryLimit --value)" = 134217728 ] && [ "$(cat $m/memory.limit_in_bytes)" = 134217728 ]; } || fail "after update: $(systemctl show $u -p MemoryLimit) $(cat $m/memory.limit_in_bytes)"
$rt pause v1c || fail pause
[ "$(cat /sys/fs/cgroup/freezer/system.slice/$u/freezer.state)" = FROZEN ] || fail "freezer.state after pause"
$rt resume v1c || fail resume
$rt delete -f v1c || fail "delete -f"
i=0; while [ "$(systemctl show $u -p LoadState --value)" != not-found ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i+1)); done
[ "$(systemctl show $u -p LoadState --value)" = not-found ] || fail "$u still loaded after delete"
left=$(ls -d /sys/fs/cgroup/*/system.slice/$u 2>/dev/null)
[ -z "$left" ] || fail "cgroups left: $left"
echo "--- PASS: $name"
