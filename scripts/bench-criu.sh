#!/usr/bin/env bash
# bench-criu.sh RT [N]: checkpoint and restore time of one busybox container
# (a shell counting in memory) for RT and runc with the same criu, N rounds
# each (median of the wall time of the command). For rt, "criu" is the criu
# process's own time, start to exit (rt's --debug log), and "rt adds" the
# rest: what rt costs on top of criu (target: at most 10%). For runc, only
# criu's log time (from after its start-up) is known. criu is taken from
# PATH after CRIU_DIR (default /usr/local/libexec/rt-criu).
set -euo pipefail
rt=$(readlink -f "$1"); n=${2:-5}
export PATH=${CRIU_DIR:-/usr/local/libexec/rt-criu}:$PATH
criu check >/dev/null 2>&1 || { echo "bench-criu: criu check fails: run make criu" >&2; exit 1; }
runc=$(command -v runc || true)
w=$(mktemp -d /tmp/rt-bench-criu.XXXXXX)
trap 'rm -rf "$w"' EXIT
b=$w/bundle
mkdir -p "$b/rootfs"/{bin,proc,sys,dev,tmp,root,etc}
cp "$(command -v busybox)" "$b/rootfs/bin/busybox"
for a in $(busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$b/rootfs/bin/$a"; done
(cd "$b" && "$rt" spec)
sed -i 's/"terminal": true/"terminal": false/; s/"readonly": true/"readonly": false/' "$b/config.json"
sed -i 's|"sh"|"sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/cnt; sleep 0.1; done"|' "$b/config.json"
now() { date +%s%N; }
logtime() { tail -n 1 "$1" | sed -E 's/^\(([0-9]+)\.([0-9]+)\).*/\1\2/' | awk '{ printf "%d", $1 / 1000 }'; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# An anonymous pipe, both ends kept (read and write of the same fd on purpose).
exec {p}<> <(:)
# shellcheck disable=SC2094
exec {in_r}</proc/self/fd/$p {out_w}>/proc/self/fd/$p {p}>&-
one() { # runtime name -> "ckpt_ms criu_dump_ms restore_ms criu_restore_ms"
	local R=$1 root=$w/root-$2 id=bench-$2 dbg=()
	[ "$2" = rt ] && dbg=(--debug --log "$w/rt.log")
	rm -f "$w/rt.log"
	"$R" --root "$root" run -d --bundle "$b" "$id" <&$in_r >&$out_w 2>&$out_w
	sleep 0.5
	rm -rf "$w/img"
	local t0 t1 t2
	t0=$(now); "$R" "${dbg[@]}" --root "$root" checkpoint --image-path "$w/img" "$id"; t1=$(now)
	(cd "$b" && "$R" "${dbg[@]}" --root "$root" restore -d --image-path "$w/img" "$id" <&$in_r >&$out_w 2>&$out_w); t2=$(now)
	"$R" --root "$root" delete -f "$id"
	local cd cr
	cd=$(logtime "$w/img/dump.log")
	cr=$(logtime "$w/img/restore.log")
	if [ "$2" = rt ]; then
		cd=$(sed -nE 's/.*criu dump: ([0-9]+) us.*/\1/p' "$w/rt.log" | awk '{ printf "%d", $1 / 1000 }')
		cr=$(sed -nE 's/.*criu restore: ([0-9]+) us.*/\1/p' "$w/rt.log" | awk '{ printf "%d", $1 / 1000 }')
	fi
	echo "$(( (t1 - t0) / 1000000 )) $cd $(( (t2 - t1) / 1000000 )) $cr"
}
report() { # name binary
	local f=$w/$1.txt
	: > "$f"
	for _ in $(seq "$n"); do one "$2" "$1" >> "$f"; done
	local c cd r rd
	c=$(cut -d' ' -f1 "$f" | median); cd=$(cut -d' ' -f2 "$f" | median)
	r=$(cut -d' ' -f3 "$f" | median); rd=$(cut -d' ' -f4 "$f" | median)
	awk -v nm="$1" -v c="$c" -v cd="$cd" -v r="$r" -v rd="$rd" 'BEGIN {
		w = (nm == "rt") ? "criu process" : "criu log"
		printf "%-5s checkpoint %5d ms (%s %5d ms, +%.0f%%)  restore %5d ms (%s %5d ms, +%.0f%%)\n",
			nm, c, w, cd, (c - cd) * 100 / cd, r, w, rd, (r - rd) * 100 / rd }'
}
echo "checkpoint/restore of one busybox container, median of $n, criu $(criu --version | awk '/Version/ {print $2}')"
report rt "$rt"
if [ -n "$runc" ]; then report runc "$runc"; else echo "runc: not installed (WITH_BENCH=1 scripts/install-deps.sh)"; fi
