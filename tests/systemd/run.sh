#!/usr/bin/env bash
# tests/systemd/run.sh (make test-systemd): the tests of rt's systemd
# cgroup driver in a guest whose PID 1 is systemd (tests/systemd/vm.sh):
# the Go tests of tests/systemd (build tag systemdvm), then containerd
# with SystemdCgroup = true running a container through rt, then (with
# RT_SYSTEMD_BENCH=1) the run latency of rt and runc with and without
# --systemd-cgroup, and a second boot with the hybrid cgroup v1 layout
# (tests/systemd/v1.sh). Ends with "N passed, M failed"; exit 0 only when all
# passed. Needs bin/rt, busybox-static, qemu-system-x86 (make deps with
# WITH_VM=1).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RT=${RT_BINARY:-$ROOT/bin/rt}
GO=${GO:-go}
[ -x "$RT" ] || { echo "$RT missing: run make build" >&2; exit 2; }
BB=/bin/busybox
case "$(ldd "$BB" 2>&1 || true)" in
  *"not a dynamic executable"*) ;;
  *) echo "need busybox-static at $BB (apt-get install busybox-static)" >&2; exit 2 ;;
esac
start=$(date +%s)
P=$(mktemp -d /tmp/rt-sd-payload.XXXXXX)
LOG=$(mktemp /tmp/rt-sd-log.XXXXXX)
trap 'rm -rf "$P" "$LOG"' EXIT
mkdir -p "$P/bin" "$P/lib"; chmod 755 "$P"   # the rootless test runs rt as uid 1000
cp "$RT" "$P/bin/rt"
R=$P/rootfs
mkdir -p "$R"/{bin,proc,sys,dev,tmp,root,etc,run}
cp "$BB" "$R/bin/busybox"
for a in $("$BB" --list); do [ "$a" = busybox ] || ln -sf busybox "$R/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$R/etc/passwd"
printf 'root:x:0:\n' > "$R/etc/group"
(cd "$ROOT" && CGO_ENABLED=0 "$GO" test -c -tags systemdvm -o "$P/systemd.test" ./tests/systemd)
cp "$HERE/guest.sh" "$HERE/bench.sh" "$HERE/v1.sh" "$P/"

# the busybox rootfs as an OCI image archive for containerd (ctr import)
I=$(mktemp -d /tmp/rt-sd-img.XXXXXX)
mkdir -p "$I/blobs/sha256"
tar -C "$R" --owner=0 --group=0 --numeric-owner -cf "$I/layer.tar" .
sha() { sha256sum "$1" | cut -d' ' -f1; }
L=$(sha "$I/layer.tar"); LS=$(stat -c %s "$I/layer.tar"); mv "$I/layer.tar" "$I/blobs/sha256/$L"
printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$L" > "$I/config.json"
C=$(sha "$I/config.json"); CS=$(stat -c %s "$I/config.json"); mv "$I/config.json" "$I/blobs/sha256/$C"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' "$C" "$CS" "$L" "$LS" > "$I/manifest.json"
M=$(sha "$I/manifest.json"); MS=$(stat -c %s "$I/manifest.json"); mv "$I/manifest.json" "$I/blobs/sha256/$M"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"docker.io/library/rtbusybox:latest","io.containerd.image.name":"docker.io/library/rtbusybox:latest"}}]}' "$M" "$MS" > "$I/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$I/oci-layout"
tar -C "$I" -cf "$P/image.tar" oci-layout index.json blobs
rm -rf "$I"

echo "== tests/systemd in a systemd guest (payload $(du -sh "$P" | cut -f1))"
set +e
RT_SYSTEMD_VM_ENV="RT_SYSTEMD_BENCH RT_SYSTEMD_BENCH_ONLY RT_SYSTEMD_RUN" RT_SYSTEMD_VM_TIMEOUT=${RT_SYSTEMD_VM_TIMEOUT:-900} \
  flock /tmp/rt-vm.lock "$HERE/vm.sh" "$P" sh guest.sh 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
if [ "${RT_SYSTEMD_BENCH_ONLY:-0}" != 1 ]; then
  # cgroup v1: a second boot with systemd's hybrid layout
  echo "== cgroup v1 (systemd hybrid layout)"
  RT_SYSTEMD_VM_CGROUP=hybrid RT_SYSTEMD_VM_TIMEOUT=300 flock /tmp/rt-vm.lock "$HERE/vm.sh" "$P" sh v1.sh 2>&1 | tee -a "$LOG"
  [ "${PIPESTATUS[0]}" = 0 ] || rc=1
fi
set -e
passed=$(grep -c '^--- PASS' "$LOG" || true)
failed=$(grep -c '^--- FAIL' "$LOG" || true)
if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
  failed=1
  echo "test-systemd: the guest run failed outside any test (exit $rc)"
fi
echo "test-systemd: wall time $(( $(date +%s) - start ))s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
