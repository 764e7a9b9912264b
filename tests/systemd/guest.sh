#!/bin/sh
# tests/systemd/guest.sh: runs inside the systemd guest (cwd /payload),
# started by tests/systemd/run.sh. Prints go-test style "--- PASS/FAIL"
# lines that run.sh counts.
# $ctr is a command with its arguments (sh has no arrays): split on purpose.
# shellcheck disable=SC2086
set -u
export RT_BINARY=/payload/bin/rt RT_VM_ROOTFS=/payload/rootfs
echo "== guest: $(systemctl --version | head -1), state $(systemctl is-system-running), $(uname -r)"
rc=0
pass() { echo "--- PASS: $1"; }
fail() { echo "--- FAIL: $1: $2"; rc=1; }

if [ "${RT_SYSTEMD_BENCH_ONLY:-0}" != 1 ]; then
  ./systemd.test -test.v -test.timeout 10m ${RT_SYSTEMD_RUN:+-test.run "$RT_SYSTEMD_RUN"} || rc=1

  # containerd (Debian's, as packaged) with its runc v2 shim driving rt
  # with the systemd cgroup driver: ctr run --runc-binary rt
  # --runc-systemd-cgroup, the same runtime option SystemdCgroup = true
  # sets for CRI.
  echo "=== RUN   TestContainerdSystemdCgroup"
  A=/run/rt-ctd/containerd.sock
  mkdir -p /run/rt-ctd
  cat > /run/rt-ctd/config.toml <<EOT
version = 2
root = "/var/lib/rt-ctd"
state = "/run/rt-ctd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$A"
EOT
  systemd-run --unit rt-containerd --property Delegate=yes --quiet containerd --config /run/rt-ctd/config.toml
  i=0; while [ ! -S "$A" ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i+1)); done
  ctr="ctr -a $A -n rt"
  unit="ctr-rtc1.scope"
  if ! [ -S "$A" ]; then
    fail TestContainerdSystemdCgroup "containerd did not start: $(journalctl -u rt-containerd --no-pager | tail -5)"
  elif ! out=$($ctr image import /payload/image.tar 2>&1); then
    fail TestContainerdSystemdCgroup "ctr image import: $out"
  elif ! out=$(timeout 120 $ctr run -d --runc-binary /payload/bin/rt --runc-systemd-cgroup --cgroup system.slice:ctr:rtc1 \
        docker.io/library/rtbusybox:latest rtc1 sleep 600 2>&1); then
    fail TestContainerdSystemdCgroup "ctr run: $out"
  else
    sleep 1
    st=$(systemctl show -p ActiveState --value $unit); dl=$(systemctl show -p Delegate --value $unit)
    pid=$($ctr task ls | busybox awk '$1=="rtc1" {print $2}')
    cgl=$(cat "/proc/$pid/cgroup" 2>/dev/null)
    if [ "$st" != active ] || [ "$dl" != yes ] || [ "$cgl" != "0::/system.slice/$unit" ]; then
      fail TestContainerdSystemdCgroup "unit $unit ActiveState=$st Delegate=$dl, task pid $pid cgroup '$cgl'"
    else
      echo "    $unit active (Delegate=yes), task pid $pid in 0::/system.slice/$unit"
      timeout 60 $ctr task kill -s KILL rtc1
      i=0; while $ctr task ls | grep -q "rtc1.*RUNNING" && [ $i -lt 100 ]; do sleep 0.2; i=$((i+1)); done
      timeout 60 $ctr task rm rtc1 >/dev/null; timeout 60 $ctr container rm rtc1
      i=0; while [ "$(systemctl show -p LoadState --value $unit)" != not-found ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i+1)); done
      if [ "$(systemctl show -p LoadState --value $unit)" != not-found ] || [ -e /sys/fs/cgroup/system.slice/$unit ]; then
        fail TestContainerdSystemdCgroup "after ctr task rm: $unit $(systemctl show -p LoadState,ActiveState $unit | tr '\n' ' ') cgroup dir: $(ls -d /sys/fs/cgroup/system.slice/$unit 2>&1)"
      else
        pass TestContainerdSystemdCgroup
      fi
    fi
  fi
  systemctl stop rt-containerd

  # nothing of rt's left in systemd or in the cgroup tree
  echo "=== RUN   TestNothingLeft"
  left=$(systemctl list-units --all --no-legend 'rt-*' 'ctr-*' 'rtsd*' | grep -v rt-vm-cmd; ls -d /sys/fs/cgroup/system.slice/rt-*.scope /sys/fs/cgroup/rtsd.slice 2>/dev/null)
  if [ -n "$left" ]; then fail TestNothingLeft "$left"; else pass TestNothingLeft; fi
fi

if [ "${RT_SYSTEMD_BENCH:-0}" = 1 ]; then
  sh /payload/bench.sh || rc=1
fi
exit $rc
