#!/usr/bin/env bash
# podman-network.sh RT: podman (Debian's 4.3, conmon, cgroupfs) runs a
# container through rt with the rt-net hook (beside RT) from a hooks.d
# directory and the rt.network annotations: `podman run --network none
# --annotation rt.network=bridge --annotation rt.network.publish=8080:80`.
# Checks that the published port answers from an "outside" namespace and that
# `podman rm -f` leaves no lease, table or veth. podman, the hook, the bridge
# and the rules all live in a throw-away network namespace playing the host
# (198.51.100.1), joined by a veth pair to another playing the outside
# (198.51.100.2): nothing touches the real host's links or ruleset. Needs
# root, podman (installed here when missing), nft and nsenter. Exit 0 only
# on success.
set -euo pipefail
RT=$(readlink -f "$1")
HOOK=$(dirname "$RT")/rt-net
export LC_ALL=C
[ -x "$HOOK" ] || { echo "podman-network: no rt-net beside $RT (make build)" >&2; exit 1; }
need=()
for p in podman conmon catatonit nft; do command -v "$p" >/dev/null || need+=("${p/nft/nftables}"); done
if [ ${#need[@]} -gt 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${need[@]}" >/dev/null
fi
T=$(mktemp -d /tmp/rt-podman-net.XXXXXX)
SUF=$(printf '%s' "${T##*.}" | tr '[:upper:]' '[:lower:]')
CGP=/rt-pnet-$SUF
NAME=rt-pnet-$SUF
HN=rtpn-h-$SUF
ON=rtpn-o-$SUF
IMG=localhost/rt-pnet-busybox:latest
H=(nsenter --net="/run/netns/$HN")
O=(nsenter --net="/run/netns/$ON")
# As root podman asks for nofile=1048576; without CAP_SYS_RESOURCE no
# runtime can raise the hard limit above ours: pin the defaults to it.
HL=$(ulimit -Hn); HU=$(ulimit -Hu); PM=$(cat /proc/sys/kernel/pid_max)
[ "$HL" = unlimited ] && HL=1048576
if [ "$HU" = unlimited ] || [ "$PM" -lt "$HU" ]; then HU=$PM; fi
cat > "$T/containers.conf" <<EOC
[containers]
default_ulimits = ["nofile=$HL:$HL", "nproc=$HU:$HU"]
[engine]
runtime_supports_json = ["runc", "crun", "rt"]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$T/events.log"
tmp_dir = "$T/tmp"
lock_type = "file"
[network]
network_config_dir = "$T/net"
EOC
printf '[storage]\ndriver = "overlay"\ngraphroot = "%s/root"\nrunroot = "%s/runroot"\n' "$T" "$T" > "$T/storage.conf"
export CONTAINERS_CONF=$T/containers.conf CONTAINERS_STORAGE_CONF=$T/storage.conf
mkdir -p "$T/bin" "$T/hooks.d" && ln -s "$RT" "$T/bin/rt"
# The hooks, as an administrator would install them in
# /usr/share/containers/oci/hooks.d (here with a private lease directory).
for stage in createRuntime:setup poststop:teardown; do
	cat > "$T/hooks.d/rt-net-${stage#*:}.json" <<EOJ
{"version": "1.0.0",
 "hook": {"path": "$HOOK", "args": ["rt-net", "--state-dir", "$T/net-state", "${stage#*:}"], "timeout": 30},
 "when": {"annotations": {"^rt\\\\.network\$": "^bridge\$"}},
 "stages": ["${stage%%:*}"]}
EOJ
done
P=(timeout -k 5 120 "${H[@]}" podman --root "$T/root" --runroot "$T/runroot" --runtime "$T/bin/rt" --hooks-dir "$T/hooks.d")
teardown() {
	set +e
	"${P[@]}" rm -a -f -t 0 >/dev/null 2>&1
	"${P[@]}" rmi -a -f >/dev/null 2>&1
	for d in /proc/[0-9]*; do
		grep -qsF "$T/" "$d/cmdline" && kill -KILL "${d#/proc/}" 2>/dev/null
	done
	awk -v t="$T/" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
	for c in /sys/fs/cgroup/*"$CGP" /sys/fs/cgroup/"$CGP"; do
		[ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	ip netns del "$HN" 2>/dev/null
	ip netns del "$ON" 2>/dev/null
	rm -rf "$T"
}
trap teardown EXIT
fail() { echo "FAIL: $*"; exit 1; }

ip netns add "$HN"
ip netns add "$ON"
ip -n "$HN" link add up0 type veth peer name out0 netns "$ON"
ip -n "$HN" addr add 198.51.100.1/24 dev up0
ip -n "$ON" addr add 198.51.100.2/24 dev out0
for ns in "$HN" "$ON"; do ip -n "$ns" link set lo up; done
ip -n "$HN" link set up0 up
ip -n "$ON" link set out0 up

r=$T/rootfs
mkdir -p "$r"/{bin,etc,proc,sys,dev,tmp,root,run,www}
cp "$(command -v busybox)" "$r/bin/busybox"
for a in $(busybox --list); do [ "$a" = busybox ] || ln -s busybox "$r/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$r/etc/passwd"
echo "served through podman" > "$r/www/index.html"
tar --numeric-owner -C "$r" -cf "$T/rootfs.tar" .
"${P[@]}" import "$T/rootfs.tar" "$IMG" >/dev/null 2>&1 || fail "podman import"

"${P[@]}" run -d --name "$NAME" --cgroup-parent "$CGP" --network none \
	--annotation rt.network=bridge --annotation rt.network.bridge=rtp0 \
	--annotation rt.network.subnet=10.231.250.0/24 --annotation rt.network.publish=8080:80 \
	"$IMG" httpd -f -p 80 -h /www >/dev/null || fail "podman run with the rt-net hook"
ip=$(sed -n 's/.*"ip":"\([0-9.]*\)".*/\1/p' "$T/net-state/leases/rtp0/"* 2>/dev/null)
[ -n "$ip" ] || fail "no lease written by the hook"
got=""
for _ in $(seq 10); do
	got=$(timeout -s KILL 3 "${O[@]}" busybox wget -q -O- http://198.51.100.1:8080/ 2>/dev/null) && break
	sleep 0.3
done
[ "$got" = "served through podman" ] || fail "published port 8080 from outside: got '$got'"
addr=$("${P[@]}" exec "$NAME" ip -4 -o addr show dev eth0) || fail "podman exec"
case $addr in *"$ip/24"*) ;; *) fail "eth0 in the container: '$addr', lease says $ip" ;; esac
"${P[@]}" rm -f -t 0 "$NAME" >/dev/null || fail "podman rm -f"
# The poststop hook ran (podman's cleanup may finish just after rm returns).
for _ in $(seq 20); do
	[ -z "$(ls "$T/net-state/leases/rtp0" 2>/dev/null)" ] && ! "${H[@]}" nft list tables | grep -q rt-ctr- && break
	sleep 0.25
done
[ -z "$(ls "$T/net-state/leases/rtp0" 2>/dev/null)" ] || fail "lease left after podman rm -f"
! "${H[@]}" nft list tables | grep -q rt-ctr- || fail "container table left after podman rm -f: $("${H[@]}" nft list tables)"
! "${H[@]}" ip -d link show | grep -q "rt-net:" || fail "veth left after podman rm -f"
echo "PASS podman + rt + rt-net hook: container $ip, published 8080:80 answered from outside, nothing left after rm -f"
