#!/usr/bin/env bash
# ctr-network.sh RT: containerd 1.6 (`ctr run`, the runc v2 shim with rt as
# its runtime binary) runs a container with the rt-net hook (beside RT) and
# the rt.network annotations. ctr has no flag for hooks, and with a whole
# spec (`ctr run --config`, the only way to give it hooks) it ignores
# --annotation; so the spec is containerd's default (`ctr oci spec`) with
# the hooks and annotations that `rt spec --network bridge --subnet6 ...
# --publish 8080:80` writes (a dual-stack network).
# Checks that the published port answers from an "outside" namespace over
# IPv4 and IPv6, that the container has its leased addresses, and that
# removing the task and the container leaves no lease, table or veth.
# containerd (hence its shims, rt and the hook), the bridge and the rules
# all live in a throw-away network namespace playing the host (198.51.100.1,
# 2001:db8:1::1), joined by a veth pair to another playing the outside
# (198.51.100.2, 2001:db8:1::2): nothing touches the real host's links or
# ruleset. Needs root, containerd and ctr (tests/engines/setup.sh installs
# them), jq (installed here when missing), nft and nsenter. Exit 0 only on
# success.
set -euo pipefail
RT=$(readlink -f "$1")
HOOK=$(dirname "$RT")/rt-net
export LC_ALL=C
[ -x "$HOOK" ] || { echo "ctr-network: no rt-net beside $RT (make build)" >&2; exit 1; }
for b in containerd ctr containerd-shim-runc-v2 nft nsenter busybox; do
	command -v "$b" >/dev/null || { echo "ctr-network: $b not installed (tests/engines/setup.sh, scripts/install-deps.sh)" >&2; exit 1; }
done
if ! command -v jq >/dev/null; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 jq >/dev/null 2>&1 || {
		apt-get -qq -o DPkg::Lock::Timeout=600 update
		apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 jq >/dev/null
	}
fi
T=$(mktemp -d /tmp/rt-ctr-net.XXXXXX)
SUF=$(printf '%s' "${T##*.}" | tr '[:upper:]' '[:lower:]')
NS=rt-cnet-$SUF
ID=web
HN=rtcn-h-$SUF
ON=rtcn-o-$SUF
SOCK=$T/containerd.sock
H=(nsenter --net="/run/netns/$HN")
O=(nsenter --net="/run/netns/$ON")
C=(timeout -k 5 60 ctr -a "$SOCK" -n "$NS")
CPID=""
teardown() {
	set +e
	if [ -n "$CPID" ]; then
		"${C[@]}" tasks kill -s SIGKILL "$ID" >/dev/null 2>&1
		sleep 0.3
		"${C[@]}" tasks delete -f "$ID" >/dev/null 2>&1
		"${C[@]}" containers delete "$ID" >/dev/null 2>&1
		kill -TERM "$CPID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$CPID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$CPID" 2>/dev/null
	fi
	for d in /proc/[0-9]*; do
		grep -qsF "$T/" "$d/cmdline" && kill -KILL "${d#/proc/}" 2>/dev/null
	done
	rm -f "/run/containerd/s/$(printf '%s' "$SOCK/$NS/$ID" | sha256sum | cut -d' ' -f1)"
	awk -v t="$T/" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
	for c in /sys/fs/cgroup/*/"$NS" /sys/fs/cgroup/"$NS"; do
		[ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	ip netns del "$HN" 2>/dev/null
	ip netns del "$ON" 2>/dev/null
	rm -rf "$T"
}
trap teardown EXIT
fail() { echo "FAIL: $*"; [ -f "$T/containerd.log" ] && tail -n 15 "$T/containerd.log"; exit 1; }

ip netns add "$HN"
ip netns add "$ON"
ip -n "$HN" link add up0 type veth peer name out0 netns "$ON"
ip -n "$HN" addr add 198.51.100.1/24 dev up0
ip -n "$ON" addr add 198.51.100.2/24 dev out0
ip -n "$HN" addr add 2001:db8:1::1/64 dev up0 nodad
ip -n "$ON" addr add 2001:db8:1::2/64 dev out0 nodad
for ns in "$HN" "$ON"; do ip -n "$ns" link set lo up; done
ip -n "$HN" link set up0 up
ip -n "$ON" link set out0 up

cat > "$T/config.toml" <<EOC
version = 2
root = "$T/root"
state = "$T/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = "$T/debug.sock"
[metrics]
  address = ""
EOC
# containerd in the host namespace: its shims, rt and the hooks run there.
"${H[@]}" containerd --config "$T/config.toml" >"$T/containerd.log" 2>&1 &
CPID=$!
for _ in $(seq 100); do "${C[@]}" version >/dev/null 2>&1 && break; sleep 0.1; done
"${C[@]}" version >/dev/null 2>&1 || fail "containerd did not start"

r=$T/rootfs
mkdir -p "$r"/{bin,etc,proc,sys,dev,tmp,root,run,www}
cp "$(command -v busybox)" "$r/bin/busybox"
for a in sh httpd ip sleep; do ln -s busybox "$r/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$r/etc/passwd"
echo "served through containerd" > "$r/www/index.html"
# The hooks and annotations as rt spec writes them (the hooks also get a
# private lease directory), in containerd's default spec; with --config the
# spec names the rootfs and the process too.
mkdir "$T/rtspec"
(cd "$T/rtspec" && "$RT" spec --network bridge --bridge rtc0 --subnet 10.231.251.0/24 \
	--subnet6 fd00:231:fb::/64 --publish 8080:80) || fail "rt spec --network bridge"
"${C[@]}" oci spec | jq --slurpfile rs "$T/rtspec/config.json" --arg d "$T/net-state" --arg r "$r" --arg cg "/$NS/$ID" \
	'.hooks = ($rs[0].hooks | map_values(map(.args = [.args[0], "--state-dir", $d] + .args[1:]))) |
	 .annotations = $rs[0].annotations | .root = {path: $r} |
	 .process.args = ["httpd", "-f", "-p", "80", "-h", "/www"] | .process.cwd = "/" |
	 .process.env = ["PATH=/bin"] | .linux.cgroupsPath = $cg' > "$T/spec.json" || fail "ctr oci spec"
jq -e --arg h "$HOOK" '.hooks.createRuntime[0].path == $h and .annotations["rt.network"] == "bridge"' "$T/spec.json" >/dev/null ||
	fail "the spec lacks the hook or the annotations: $(cat "$T/spec.json")"

"${C[@]}" run -d --runtime io.containerd.runc.v2 --runc-binary "$RT" --runc-root "$T/rtroot" --fifo-dir "$T/fifo" \
	--config "$T/spec.json" "$ID" > "$T/run.out" 2>&1 || fail "ctr run with the rt-net hook: $(cat "$T/run.out")"
[ -d "$T/rtroot/$NS/$ID" ] || fail "no state of $ID under rt's root $T/rtroot/$NS: was rt the runtime?"
pid=$("${C[@]}" tasks ls | awk -v id="$ID" '$1 == id {print $2}')
grep -q ":/$NS/$ID\$" "/proc/$pid/cgroup" 2>/dev/null || fail "task $ID (pid '$pid') is not in cgroup /$NS/$ID"
lease=$(cat "$T/net-state/leases/rtc0/$ID" 2>/dev/null) || fail "no lease written by the hook"
ip=$(jq -r .ip <<<"$lease")
ip6=$(jq -r .ip6 <<<"$lease")
got=""; got6=""
for _ in $(seq 10); do
	got=$(timeout -s KILL 3 "${O[@]}" busybox wget -q -O- http://198.51.100.1:8080/ 2>/dev/null) && break
	sleep 0.3
done
[ "$got" = "served through containerd" ] || fail "published port 8080 from outside over IPv4: got '$got'"
for _ in $(seq 10); do
	got6=$(timeout -s KILL 3 "${O[@]}" busybox wget -q -O- 'http://[2001:db8:1::1]:8080/' 2>/dev/null) && break
	sleep 0.3
done
[ "$got6" = "served through containerd" ] || fail "published port 8080 from outside over IPv6: got '$got6'"
addr=$("${C[@]}" tasks exec --exec-id addr --fifo-dir "$T/fifo" "$ID" ip -o addr show dev eth0) || fail "ctr tasks exec: $addr"
case $addr in *"$ip/24"*"$ip6/64"*) ;; *) fail "eth0 in the container: '$addr', lease says $ip and $ip6" ;; esac
"${H[@]}" nft list tables | grep -qx "table inet rt-ctr-$ID" || fail "no table inet rt-ctr-$ID: $("${H[@]}" nft list tables)"

"${C[@]}" tasks kill -s SIGKILL "$ID" >/dev/null || fail "ctr tasks kill"
for _ in $(seq 50); do
	[ "$("${C[@]}" tasks ls | awk -v id="$ID" '$1 == id {print $3}')" = STOPPED ] && break
	sleep 0.1
done
"${C[@]}" tasks delete "$ID" >/dev/null || fail "ctr tasks delete"
"${C[@]}" containers delete "$ID" >/dev/null || fail "ctr containers delete"
[ -z "$(ls "$T/net-state/leases/rtc0" 2>/dev/null)" ] || fail "lease left after the task was deleted"
! "${H[@]}" nft list tables | grep -q rt-ctr- || fail "container table left: $("${H[@]}" nft list tables)"
! "${H[@]}" ip -d link show | grep -q "rt-net:" || fail "veth left: $("${H[@]}" ip -d link show)"
[ ! -d "$T/rtroot/$NS/$ID" ] || fail "rt's state of $ID left"
timeout -s KILL 3 "${O[@]}" busybox wget -q -O- http://198.51.100.1:8080/ >/dev/null 2>&1 && fail "the published port still answers"
echo "PASS containerd (ctr) + rt + rt-net hook: container $ip and $ip6, published 8080:80 answered from outside over IPv4 and IPv6, nothing left after delete"
