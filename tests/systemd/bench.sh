#!/bin/sh
# tests/systemd/bench.sh: in the systemd guest, the latency of `run` (create,
# start, wait, delete of a container running `true`) for rt and the
# guest's runc, with the cgroupfs driver and with --systemd-cgroup.
# Interleaved rounds; prints the median of each and the systemd overhead.
set -u
N=${RT_SYSTEMD_BENCH_N:-9}
RUNC=$(command -v runc)
B=/tmp/bench; mkdir -p "$B"
(cd "$B" && /payload/bin/rt spec) || exit 1
mk() { # mk NAME CGROUPSPATH
  mkdir -p "$B/$1"
  sed -e 's/"terminal": true/"terminal": false/' -e 's#"path": "rootfs"#"path": "/payload/rootfs"#' \
      -e 's/"sh"$/"true"/' -e "s#\"linux\": {#\"linux\": {\"cgroupsPath\": \"$2\",#" "$B/config.json" > "$B/$1/config.json"
}
mk fs /rtbench/c
mk sd system.slice:bench:c
now() { date +%s%N; }
t() { # t RUNTIME FLAGS BUNDLE -> ms
  s=$(now) # t runs in $(...): its variables stay there
  # $2 is empty or one flag: unquoted so that empty gives no argument.
  # shellcheck disable=SC2086
  "$1" --root "/run/bench-$(basename "$1")" $2 run --bundle "$B/$3" c >"$B/out" 2>&1 || { echo "FAIL $1 $2 $3: $(cat "$B/out")" >&2; }
  e=$(now); echo $(( (e - s) / 1000000 ))
}
for r in /payload/bin/rt "$RUNC"; do t "$r" "" fs >/dev/null; t "$r" --systemd-cgroup sd >/dev/null; done   # warm up
for _ in $(seq "$N"); do
  for r in /payload/bin/rt "$RUNC"; do
    echo "$(basename "$r") cgroupfs $(t "$r" "" fs)"
    echo "$(basename "$r") systemd $(t "$r" --systemd-cgroup sd)"
  done
done > "$B/times"
med() { grep "^$1 $2 " "$B/times" | busybox awk '{print $3}' | sort -n | busybox awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "== bench: run (create+start+wait+delete of true), median of $N, ms, in the TCG guest"
printf '%-6s %10s %10s %10s\n' runtime cgroupfs systemd overhead
for r in rt runc; do
  f=$(med $r cgroupfs); s=$(med $r systemd)
  printf '%-6s %10s %10s %10s\n' "$r" "$f" "$s" "$((s - f))"
done
echo "($($RUNC --version | head -1))"
