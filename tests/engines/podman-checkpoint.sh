#!/usr/bin/env bash
# podman-checkpoint.sh RT: podman (Debian's 4.3, conmon, cgroupfs) checkpoints
# a running container through rt and restores it: `podman container
# checkpoint` stops it with its memory saved, `podman container restore`
# brings it back running through `rt restore`, and the counter its shell
# keeps in memory carries on from where it was. Everything lives in a temp
# dir (storage, run root, config, cgroup parent /rt-ckpt-<unique>); the
# container has no network. Needs root, a working criu in PATH (make criu)
# and podman (installed here when missing). Exit 0 only on success.
set -euo pipefail
RT=$(readlink -f "$1")
export LC_ALL=C
need=()
for p in podman conmon catatonit; do command -v "$p" >/dev/null || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${need[@]}" >/dev/null
fi
criu check >/dev/null 2>&1 || { echo "podman-checkpoint: criu check fails (run make criu and put it in PATH)" >&2; exit 1; }
T=$(mktemp -d /tmp/rt-podman-ckpt.XXXXXX)
CGP=/rt-ckpt-${T##*.}
NAME=rt-ckpt-${T##*.}
IMG=localhost/rt-ckpt-busybox:latest
# As root podman asks for nofile=1048576; without CAP_SYS_RESOURCE no
# runtime can raise the hard limit above ours: pin the defaults to it.
HN=$(ulimit -Hn); HU=$(ulimit -Hu); PM=$(cat /proc/sys/kernel/pid_max)
[ "$HN" = unlimited ] && HN=1048576
if [ "$HU" = unlimited ] || [ "$PM" -lt "$HU" ]; then HU=$PM; fi
cat > "$T/containers.conf" <<EOC
[containers]
default_ulimits = ["nofile=$HN:$HN", "nproc=$HU:$HU"]
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
# podman finds the runtime by name; the name "rt" makes it pass --log-format json.
mkdir -p "$T/bin" && ln -s "$RT" "$T/bin/rt"
P=(timeout -k 5 120 podman --root "$T/root" --runroot "$T/runroot" --runtime "$T/bin/rt")
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
	rm -rf "$T"
}
trap teardown EXIT
fail() { echo "FAIL: $*"; exit 1; }

r=$T/rootfs
mkdir -p "$r"/{bin,etc,proc,sys,dev,tmp,root,run}
cp "$(command -v busybox)" "$r/bin/busybox"
for a in $(busybox --list); do [ "$a" = busybox ] || ln -s busybox "$r/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$r/etc/passwd"
tar --numeric-owner -C "$r" -cf "$T/rootfs.tar" .
"${P[@]}" import "$T/rootfs.tar" "$IMG" >/dev/null 2>&1

# The counter script runs in the container: its $((...)) expands there.
# shellcheck disable=SC2016
"${P[@]}" run -d --name "$NAME" --cgroup-parent "$CGP" --network none "$IMG" \
	sh -c 'i=0; while :; do i=$((i+1)); echo $i > /tmp/cnt.new; mv /tmp/cnt.new /tmp/cnt; sleep 0.2; done' >/dev/null
cnt() { "${P[@]}" exec "$NAME" cat /tmp/cnt; }
sleep 2
before=$(cnt)
[ "$before" -gt 3 ] || fail "counter not running ($before)"
"${P[@]}" container checkpoint "$NAME" >/dev/null || fail "podman container checkpoint"
st=$("${P[@]}" inspect -f '{{.State.Status}}' "$NAME")
[ "$st" = exited ] || fail "after checkpoint: state $st, want exited"
"${P[@]}" container restore "$NAME" >/dev/null || fail "podman container restore"
st=$("${P[@]}" inspect -f '{{.State.Status}}' "$NAME")
[ "$st" = running ] || fail "after restore: state $st, want running"
a=$(cnt); sleep 1; b=$(cnt)
{ [ "$a" -ge "$before" ] && [ "$a" -lt $((before + 40)) ] && [ "$b" -gt "$a" ]; } ||
	fail "counter checkpointed at $before, then $a and $b after restore: want it to carry on and keep counting"
echo "PASS podman checkpoint/restore through rt: counter $before at checkpoint, $a then $b after restore"
