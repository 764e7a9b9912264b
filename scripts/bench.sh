#!/bin/bash
# bench.sh RT [N]: rt, runc and crun side by side in one sitting, interleaved
# (rt, runc, crun, rt, runc, crun, ...), medians and ratios:
#   run        `run` of /bin/true (create+start+wait+delete in one call),
#              interleaved (each runtime right after another one's run), and
#              as for exec: back to back (right after an untimed run of its
#              own) and 0.3 s apart (a quiet moment before each)
#   split      create; start; delete --force, as an engine's shim does it
#   run_seccomp  `run` with the default seccomp profile engines give every
#              container (containers/common's, when podman installed it)
#   exec       `exec` of /bin/true into a running container, back to back
#              (after an untimed one of the same runtime) and 0.3 s apart
#   init RSS   VmRSS of the container's init while `created`
#   memcg      memory.usage_in_bytes (v1) / memory.current (v2) of the
#              container's memory cgroup right after `create`
#   peak RSS   of the `create` and `exec` commands themselves (/usr/bin/time)
#   exec charge  the peak memory charged to the container's memory cgroup by
#              one `exec` of /bin/true (cgroup v1 memory.max_usage_in_bytes,
#              reset before; the row is left out on cgroup v2)
#   list/state with 0, BENCH_MID (100) and BENCH_MANY (1000) other containers
#              present (running `sleep`), and `run` with BENCH_MANY present
# plus floor.c (../shared/harness/perf), the least work a runtime can do per
# container in one C process, for reference, and beside `run` with and
# without many containers present: the share of that growth that is the host's.
# N (default 30) samples per row; BENCH_MANY=0 leaves the list rows out.
# Every timing is one command's wall time from bash ($EPOCHREALTIME), so it
# includes a fork+exec of the runtime by the shell, as an engine pays it.
set -eu
rt=$1; n=${2:-30}
mid=${BENCH_MID:-100}; many=${BENCH_MANY:-1000}
here=$(cd "$(dirname "$0")/.." && pwd)
perf=${SHARED:-$here/../shared}/harness/perf
WITH_BENCH=1 "$here/scripts/install-deps.sh"
# crun 1.8 refuses the hybrid host unless hugetlb is a v1 hierarchy.
if [ ! -d /sys/fs/cgroup/hugetlb ] && [ -d /sys/fs/cgroup/memory ] && grep -qw hugetlb /proc/cgroups; then
	if ! { mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb; }; then
		rmdir /sys/fs/cgroup/hugetlb 2>/dev/null || true
		echo "bench: could not mount the v1 hugetlb hierarchy: crun will fail" >&2
	fi
fi
names=(rt runc crun)
declare -A bin=([rt]=$rt [runc]=$(command -v runc) [crun]=$(command -v crun))
work=$(mktemp -d /tmp/rt-bench.XXXXXX)
cleanup() {
	for r in "${names[@]}"; do
		"${bin[$r]}" --root "$work/root-$r" list -q 2>/dev/null |
			xargs -r -P 4 -n 1 "${bin[$r]}" --root "$work/root-$r" delete --force >/dev/null 2>&1 || true
	done
	if [ -n "${netns:-}" ]; then ip netns del "$netns" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Bundles: /bin/true, /bin/sleep, and a lighter sleep (no network namespace,
# whose set-up and tear-down dominate otherwise) to fill the state roots.
mkbundle() { # name args-json [drop-netns]
	mkdir -p "$work/$1/rootfs/bin" "$work/$1/rootfs/"{proc,dev,sys,tmp,etc}
	cp /usr/bin/busybox "$work/$1/rootfs/bin/"
	for a in sh true sleep; do ln -s busybox "$work/$1/rootfs/bin/$a"; done
	sed "s|\"/bin/true\"|$2|" "$perf/config.json" >"$work/$1/config.json"
	if [ "${3:-}" = nonet ]; then
		# (a cgroup namespace instead: cheap, and no duplicate type)
		sed -i 's|"type": *"network"|"type": "cgroup"|' "$work/$1/config.json"
		if grep -q '"network"' "$work/$1/config.json"; then echo "bench: cannot drop the network namespace from config.json" >&2; exit 1; fi
	fi
	return 0
}
mkbundle true '"/bin/true"'
mkbundle sleep '"/bin/sleep", "1000000"'
mkbundle fill '"/bin/sleep", "1000000"' nonet
# The default seccomp profile engines give every container (containers/
# common's, as podman installs it: its rules for amd64 without a capability
# or kernel condition), when it and python3 are there: a row `run` with it.
seccomp_src=/usr/share/containers/seccomp.json
if [ -f "$seccomp_src" ] && command -v python3 >/dev/null; then
	mkbundle seccomp '"/bin/true"'
	python3 - "$work/seccomp/config.json" "$seccomp_src" <<'EOF' || rm -rf "$work/seccomp"
import json, sys
cfg_path, src = sys.argv[1], sys.argv[2]
c, sc = json.load(open(cfg_path)), json.load(open(src))
p = {"defaultAction": sc["defaultAction"], "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], "syscalls": []}
if "defaultErrnoRet" in sc:
    p["defaultErrnoRet"] = sc["defaultErrnoRet"]
for s in sc["syscalls"]:
    inc, exc = s.get("includes", {}), s.get("excludes", {})
    if inc.get("caps") or inc.get("minKernel") or exc:
        continue
    if inc.get("arches") and not set(inc["arches"]) & {"amd64", "x86_64"}:
        continue
    p["syscalls"].append({k: v for k, v in s.items() if k in ("names", "action", "args", "errnoRet")})
c["linux"]["seccomp"] = p
json.dump(c, open(cfg_path, "w"))
EOF
fi
for r in "${names[@]}"; do mkdir -p "$work/root-$r" "$work/s/$r"; done
# floor.c beside the runtimes: the host's own share of a row. It does the
# least work per container, none per container present, so its growth with
# many containers present is the kernel's (sibling cgroups, superblocks).
floor=
if command -v gcc >/dev/null && [ -f "$perf/floor.c" ] && gcc -O2 -o "$work/floor" "$perf/floor.c" 2>/dev/null; then
	floor=$work/floor; mkdir -p "$work/s/floor"
fi
floorsample() { # ROW: floor's mean per container over 10, in microseconds
	[ -n "$floor" ] || return 0
	local m
	m=$("$floor" "$work/true/rootfs" 10 2>&1 | tail -n 1)
	case $m in [0-9]*" us per container"*) echo "${m%% *}" >>"$work/s/floor/$1" ;; *) echo "bench: floor: $m" >&2; exit 1 ;; esac
}
rtc() { local r=$1; shift; "${bin[$r]}" --root "$work/root-$r" "$@"; }

now() { local t=$EPOCHREALTIME; echo "${t/./}"; }
# sample ROW RUNTIME CMD...: time one command (microseconds), or fail loudly.
sample() {
	local row=$1 r=$2; shift 2
	local t0=${EPOCHREALTIME/./}
	if ! "$@" </dev/null >/dev/null 2>"$work/err"; then
		echo "bench: $r: $row: '$*' failed:" >&2; cat "$work/err" >&2; exit 1
	fi
	local t1=${EPOCHREALTIME/./}
	echo $((t1 - t0)) >>"$work/s/$r/$row"
}
record() { echo "$3" >>"$work/s/$2/$1"; } # ROW RUNTIME VALUE
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; m = int((NR + 1) / 2); print (NR % 2 ? v[m] : (v[m] + v[m + 1]) / 2) }'; }
statepid() { rtc "$1" state "$2" | sed -n 's/^ *"pid": *\([0-9]*\).*/\1/p'; }
memcg_usage() { # PID: bytes charged to its memory cgroup
	local p
	p=$(sed -n 's/^[0-9]*:memory:\(.*\)/\1/p' "/proc/$1/cgroup")
	if [ -n "$p" ]; then cat "/sys/fs/cgroup/memory$p/memory.usage_in_bytes"; return; fi
	p=$(sed -n 's/^0::\(.*\)/\1/p' "/proc/$1/cgroup")
	cat "/sys/fs/cgroup$p/memory.current"
}
memcg_v1() { # PID: its v1 memory cgroup directory, if it has one
	local p
	p=$(sed -n 's/^[0-9]*:memory:\(.*\)/\1/p' "/proc/$1/cgroup")
	if [ -n "$p" ] && [ -f "/sys/fs/cgroup/memory$p/memory.max_usage_in_bytes" ]; then echo "/sys/fs/cgroup/memory$p"; fi
}
exec_charge() { # RUNTIME CGROUP-DIR: peak KiB charged by one exec of /bin/true
	local base peak
	echo 0 >"$2/memory.max_usage_in_bytes"
	base=$(cat "$2/memory.usage_in_bytes")
	rtc "$1" exec "ex-$1" /bin/true </dev/null >/dev/null 2>&1
	peak=$(cat "$2/memory.max_usage_in_bytes")
	echo $(( peak > base ? (peak - base) / 1024 : 0 ))
}
lifecycle() { rtc "$1" create --bundle "$work/sleep" "$2" && rtc "$1" start "$2" && rtc "$1" delete --force "$2"; }
fill() { # RUNTIME FROM TO: running containers <RUNTIME>-f<FROM>..<RUNTIME>-f<TO>
	# (named after the runtime: without cgroupsPath the name is the cgroup's,
	# and another runtime's container of the same name would share it)
	# shellcheck disable=SC2016 # expanded by the inner sh, from its arguments
	seq "$2" "$3" | xargs -P 4 -I{} sh -c '"$1" --root "$2" create --bundle "$3" "$4-f{}" </dev/null >/dev/null 2>&1 && "$1" --root "$2" start "$4-f{}"' \
		_ "${bin[$1]}" "$work/root-$1" "$work/fill" "$1"
}
# rot I: the runtimes' order for the I-th round, rotated each round, so that
# no runtime always comes right after the same other one (whose deferred
# kernel work, an RCU grace period or a cgroup's release, it would pay).
rot() { local k=$(($1 % ${#names[@]})); echo "${names[@]:k}" "${names[@]:0:k}"; }

echo "bench: $n samples per row, interleaved rt runc crun; $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "bench: run, create;start;delete, memory" >&2
for i in $(seq "$n"); do
	for r in $(rot "$i"); do
		sample run "$r" rtc "$r" run --bundle "$work/true" "r$i"
		sample split "$r" lifecycle "$r" "s$i"
		if [ -d "$work/seccomp" ]; then sample run_seccomp "$r" rtc "$r" run --bundle "$work/seccomp" "rs$i"; fi
		[ "$r" != rt ] || floorsample run
	done
done
for i in $(seq "$n"); do
	for r in "${names[@]}"; do
		/usr/bin/time -f %M -o "$work/rss" "${bin[$r]}" --root "$work/root-$r" create --bundle "$work/sleep" "m$i" </dev/null >/dev/null 2>&1
		record peak_create "$r" "$(cat "$work/rss")"
		pid=$(statepid "$r" "m$i")
		record init_rss "$r" "$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")"
		record memcg "$r" $(($(memcg_usage "$pid") / 1024))
		rtc "$r" delete --force "m$i"
	done
done

# list and state with 0 containers present (state: of the one we exec into)
if [ "$many" -gt 0 ]; then
	for i in $(seq "$n"); do for r in $(rot "$i"); do sample list0 "$r" rtc "$r" list; done; done
fi
# run in the two regimes of exec below: a runtime that moves processes into
# cgroup v1 hierarchies by writing cgroup.procs (runc, crun) waits for an
# RCU grace period at the first move after a quiet moment, and not at a
# move right after one of its own (the rcu_sync of cgroup_threadgroup_rwsem
# is still active); the interleaved row above sits between the two.
echo "bench: run back to back and 0.3 s apart" >&2
for i in $(seq "$n"); do
	for r in $(rot "$i"); do
		rtc "$r" run --bundle "$work/true" "$r-rw$i" </dev/null >/dev/null 2>&1
		sample run_b2b "$r" rtc "$r" run --bundle "$work/true" "$r-rb$i"
	done
done
for i in $(seq "$n"); do
	for r in $(rot "$i"); do
		sleep 0.3
		sample run_spaced "$r" rtc "$r" run --bundle "$work/true" "$r-rp$i"
	done
done
echo "bench: exec" >&2
declare -A excg
for r in "${names[@]}"; do
	rtc "$r" create --bundle "$work/sleep" "ex-$r" </dev/null >/dev/null 2>&1 && rtc "$r" start "ex-$r"
	excg[$r]=$(memcg_v1 "$(statepid "$r" "ex-$r")")
done
# Two ways: back to back, each runtime's timed exec right after one of its
# own (warm: a cgroup v1 move of another process waits for an RCU grace
# period whose first taker after a quiet moment pays it, and a runtime
# must not inherit another one's); and 0.3 s apart, as exec probes come.
for i in $(seq "$n"); do
	for r in $(rot "$i"); do
		rtc "$r" exec "ex-$r" /bin/true </dev/null >/dev/null 2>&1
		sample exec "$r" rtc "$r" exec "ex-$r" /bin/true
		/usr/bin/time -f %M -o "$work/rss" "${bin[$r]}" --root "$work/root-$r" exec "ex-$r" /bin/true </dev/null >/dev/null 2>&1
		record peak_exec "$r" "$(cat "$work/rss")"
		if [ -n "${excg[$r]}" ]; then record exec_charge "$r" "$(exec_charge "$r" "${excg[$r]}")"; fi
	done
done
for i in $(seq "$n"); do
	for r in $(rot "$i"); do
		sleep 0.3
		sample exec_spaced "$r" rtc "$r" exec "ex-$r" /bin/true
	done
done
if [ "$many" -gt 0 ]; then
	for i in $(seq "$n"); do for r in $(rot "$i"); do sample state0 "$r" rtc "$r" state "ex-$r"; done; done
	have=0
	for level in "$mid" "$many"; do
		echo "bench: filling each root to $level containers" >&2
		for r in "${names[@]}"; do fill "$r" $((have + 1)) "$level"; done
		for r in "${names[@]}"; do
			got=$(rtc "$r" list -q | wc -l)
			[ "$got" -ge "$level" ] || { echo "bench: $r has $got containers, wanted $level" >&2; exit 1; }
		done
		have=$level
		# Let the kernel's deferred work of the fill (RCU callbacks, cgroup
		# and namespace releases) settle before the timed rows.
		sleep 5
		ls=$n; [ "$level" -ge 500 ] && ls=$(( n < 10 ? n : 10 ))
		for i in $(seq "$ls"); do
			for r in $(rot "$i"); do
				sample "list$level" "$r" rtc "$r" list
				sample "state$level" "$r" rtc "$r" state "ex-$r"
			done
		done
	done
	# Back to back (after an untimed run of its own), against the row
	# "run, back to back": interleaved, a runtime that writes cgroup.procs
	# is timed warm or cold by who ran before it (see run_b2b above).
	for i in $(seq "$n"); do
		for r in $(rot "$i"); do
			rtc "$r" run --bundle "$work/true" "$r-mw$i" </dev/null >/dev/null 2>&1
			sample "run$many" "$r" rtc "$r" run --bundle "$work/true" "$r-rm$i"
			[ "$r" != rt ] || floorsample "run$many"
		done
	done
	echo "bench: removing the containers" >&2
	# The target is rt's run with $many of its own present: the others' go
	# first, and rt's run is timed again with only its own left.
	for r in runc crun rt; do
		rtc "$r" list -q | xargs -r -P 4 -n 1 "${bin[$r]}" --root "$work/root-$r" delete --force >/dev/null 2>&1 || true
		if [ "$r" = crun ]; then
			sleep 5
			for i in $(seq "$n"); do
				rtc rt run --bundle "$work/true" "ow$i" </dev/null >/dev/null 2>&1
				sample "runown$many" rt rtc rt run --bundle "$work/true" "ro$i"
				floorsample "runown$many"
			done
		fi
	done
fi

# Network: `run` of /bin/true with and without the bridge network (the
# rt-net hook beside RT at createRuntime and poststop, one published port),
# rt and runc running the same hook, interleaved. Everything runs inside a
# throw-away network namespace, so the bridge and the nftables rules never
# touch the host's. BENCH_NET=0 leaves these rows out.
netrt=$(dirname "$rt")/rt-net
if [ "${BENCH_NET:-1}" = 1 ] && [ -x "$netrt" ] && command -v ip >/dev/null && command -v nsenter >/dev/null; then
	echo "bench: run with and without the bridge network (rt-net), rt and runc" >&2
	netns=rt-bench-$$
	ip netns add "$netns"
	hook="{\"path\": \"$netrt\", \"args\": [\"rt-net\", \"--state-dir\", \"$work/net-state\", \"VERB\"], \"timeout\": 30}"
	hooks="\"hooks\": {\"createRuntime\": [${hook/VERB/setup}], \"poststop\": [${hook/VERB/teardown}]}"
	mkbundle netbr '"/bin/true"'
	sed -i "0,/{/s||{ \"annotations\": {\"rt.network\": \"bridge\"}, $hooks,|" "$work/netbr/config.json"
	mkbundle netpub '"/bin/true"'
	sed -i "0,/{/s||{ \"annotations\": {\"rt.network\": \"bridge\", \"rt.network.publish\": \"8080:80\"}, $hooks,|" "$work/netpub/config.json"
	# Dual stack, on a bridge of its own (a bridge's IPv6 subnet is fixed by its first user).
	mkbundle net6 '"/bin/true"'
	sed -i "0,/{/s||{ \"annotations\": {\"rt.network\": \"bridge\", \"rt.network.bridge\": \"rt6\", \"rt.network.subnet\": \"10.78.0.0/16\", \"rt.network.subnet6\": \"fd00:78::/64\", \"rt.network.publish\": \"8080:80\"}, $hooks,|" "$work/net6/config.json"
	nrt() { local r=$1; shift; nsenter --net="/run/netns/$netns" "${bin[$r]}" --root "$work/root-$r" "$@"; }
	for i in $(seq "$n"); do
		for r in rt runc; do
			sample netoff "$r" nrt "$r" run --bundle "$work/true" "no$i"
			sample netbr "$r" nrt "$r" run --bundle "$work/netbr" "nb$i"
			sample neton "$r" nrt "$r" run --bundle "$work/netpub" "np$i"
			sample net6 "$r" nrt "$r" run --bundle "$work/net6" "n6$i"
		done
	done
	if [ -n "$(nsenter --net="/run/netns/$netns" "$netrt" --state-dir "$work/net-state" gc)" ] ||
		[ -n "$(find "$work/net-state/leases" -type f 2>/dev/null)" ]; then
		echo "bench: rt-net left leases or tables behind" >&2; exit 1
	fi
fi

row() { # ROW LABEL UNIT(ms|KiB)
	local v=() r m
	for r in "${names[@]}"; do
		[ -s "$work/s/$r/$1" ] || return 0
		m=$(median "$work/s/$r/$1"); v+=("$m")
	done
	awk -v l="$2" -v u="$3" -v a="${v[0]}" -v b="${v[1]}" -v c="${v[2]}" 'BEGIN {
		d = (u == "ms") ? 1000 : 1
		fmt = (u == "ms") ? "%9.1f" : "%9.0f"
		printf "%-44s" fmt " " fmt " " fmt "  %7.2f %7.2f\n", l " (" u ")", a / d, b / d, c / d, a / (b ? b : 1), a / (c ? c : 1) }'
}
echo
printf '%-44s%9s %9s %9s  %7s %7s\n' "median of $n (list/state at $many: of ${ls:-none})" rt runc crun rt/runc rt/crun
row run "run of /bin/true" ms
row run_b2b "run of /bin/true, back to back" ms
row run_spaced "run of /bin/true, 0.3 s apart" ms
row split "create; start; delete --force" ms
row run_seccomp "run, default seccomp profile" ms
row exec "exec of /bin/true, back to back" ms
row exec_spaced "exec of /bin/true, 0.3 s apart" ms
row init_rss "VmRSS of the init while created" KiB
row memcg "memory cgroup usage after create" KiB
row peak_create "peak RSS of the create command" KiB
row peak_exec "peak RSS of the exec command" KiB
row exec_charge "memory cgroup charge of one exec (peak)" KiB
row list0 "list, 0 containers" ms
row "list$mid" "list, $mid containers" ms
row "list$many" "list, $many containers" ms
row state0 "state, 1 container" ms
row "state$mid" "state, $mid others present" ms
row "state$many" "state, $many others present" ms
row "run$many" "run, back to back, $many others present" ms
if [ -s "$work/s/rt/runown$many" ]; then
	a=$(median "$work/s/rt/runown$many"); a0=$(median "$work/s/rt/run_b2b")
	awk -v l="the same, only rt's own $many (rt; / b2b)" -v a="$a" -v a0="$a0" \
		'BEGIN { printf "%-44s%9.1f %9s %9s  %7s %7.2f\n", l, a / 1000, "", "", "", a / (a0 ? a0 : 1) }'
fi
if [ -s "$work/s/rt/run$many" ]; then
	# The target is a runtime's run not slower with many present: each one's
	# own ratio (the host then holds $many containers of each runtime).
	v=()
	for r in "${names[@]}"; do v+=("$(median "$work/s/$r/run$many")" "$(median "$work/s/$r/run_b2b")"); done
	awk -v l="run b2b with $many present / run b2b" -v a="${v[0]}" -v a0="${v[1]}" -v b="${v[2]}" -v b0="${v[3]}" -v c="${v[4]}" -v c0="${v[5]}" \
		'BEGIN { printf "%-44s%9.2f %9.2f %9.2f\n", l, a / (a0 ? a0 : 1), b / (b0 ? b0 : 1), c / (c0 ? c0 : 1) }'
fi
if [ -s "$work/s/floor/run$many" ] && [ -s "$work/s/floor/run" ]; then
	a=$(median "$work/s/floor/run$many"); a0=$(median "$work/s/floor/run")
	awk -v l="floor.c, $many of each present / floor.c" -v a="$a" -v a0="$a0" \
		'BEGIN { printf "%-44s%9.2f   (floor.c %.1f -> %.1f ms per container)\n", l, a / (a0 ? a0 : 1), a0 / 1000, a / 1000 }'
fi
if [ -s "$work/s/floor/runown$many" ] && [ -s "$work/s/floor/run" ]; then
	a=$(median "$work/s/floor/runown$many"); a0=$(median "$work/s/floor/run")
	awk -v l="floor.c, only rt's own $many present / floor.c" -v a="$a" -v a0="$a0" \
		'BEGIN { printf "%-44s%9.2f   (floor.c %.1f -> %.1f ms per container)\n", l, a / (a0 ? a0 : 1), a0 / 1000, a / 1000 }'
fi
if [ -s "$work/s/rt/neton" ]; then
	echo
	printf '%-44s%9s %9s %9s\n' "network, median of $n (in a scratch netns)" rt runc rt/runc
	for rr in "netoff:run of /bin/true, no network" "netbr:run, bridge network (rt-net hook)" "neton:run, bridge + published port" "net6:run, dual stack + published port"; do
		a=$(median "$work/s/rt/${rr%%:*}"); b=$(median "$work/s/runc/${rr%%:*}")
		awk -v l="${rr#*:}" -v a="$a" -v b="$b" 'BEGIN { printf "%-44s%9.1f %9.1f %9.2f\n", l " (ms)", a / 1000, b / 1000, a / (b ? b : 1) }'
	done
	for r in rt runc; do
		o=$(median "$work/s/$r/netoff"); a=$(median "$work/s/$r/netbr"); b=$(median "$work/s/$r/neton"); c=$(median "$work/s/$r/net6")
		awk -v r="$r" -v o="$o" -v a="$a" -v b="$b" -v c="$c" 'BEGIN { printf "%-44s%9.1f %9.1f %9.1f\n", "cost for " r ": bridge, +published, dual (ms)", (a - o) / 1000, (b - o) / 1000, (c - o) / 1000 }'
	done
fi
if [ -n "$floor" ]; then
	printf 'floor (C, least work per container): %s\n' "$("$floor" "$work/true/rootfs" 200 2>&1 | tail -n 1)"
fi
