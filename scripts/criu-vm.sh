#!/usr/bin/env bash
# criu-vm.sh: rt's checkpoint/restore tests (tests/checkpoint_test.go) in the
# qemu VM of ../shared/harness/vm: Debian's 6.1 kernel, cgroup v2 only, with
# the CRIU 4.2 of scripts/install-criu.sh (CRIU_DIR; Debian's 3.17.1 works on
# that kernel too but restores no_new_privs unset, which rt refuses). What
# the host cannot show: the cgroup v2 freezer path and --pre-dump +
# --parent-path (the 6.1 kernel has soft-dirty tracking). The payload holds
# bin/rt, criu and the ldd closure, GNU tar and gzip (criu archives tmpfs
# mounts with GNU tar options), iptables (criu locks the network with
# iptables-restore) with its xtables plugins, and the compiled tests.
# Ends with "N passed, M failed"; exit 0 only when every test passed.
# Needs: bin/rt, criu (make criu), iptables, busybox-static, qemu (the harness).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SHARED=${SHARED:-$(cd "$ROOT/.." && pwd)/shared}
RUNVM=$SHARED/harness/vm/run-in-vm.sh
RT=${RT_BINARY:-$ROOT/bin/rt}
GO=${GO:-go}
CRIU=$(readlink -f "${VM_CRIU:-${CRIU_DIR:-/usr/local/libexec/rt-criu}/criu}")
[ -x "$RUNVM" ] || { echo "run-in-vm.sh not found at $RUNVM (set SHARED)" >&2; exit 2; }
[ -x "$RT" ] || { echo "$RT missing: run make build" >&2; exit 2; }
for b in "$CRIU" "$(command -v xtables-nft-multi || true)" /usr/bin/tar /usr/bin/gzip; do
	{ [ -n "$b" ] && [ -x "$b" ]; } || { echo "criu-vm: need criu (make criu), iptables, tar and gzip" >&2; exit 2; }
done
start=$(date +%s)
P=$(mktemp -d /tmp/rt-criu-vm.XXXXXX)
LOG=$(mktemp /tmp/rt-criu-vm-log.XXXXXX)
trap 'rm -rf "$P" "$LOG"' EXIT
mkdir -p "$P/bin" "$P/lib" "$P/xtables"
cp "$RT" "$P/bin/rt"
cp "$CRIU" "$P/bin/criu"
cp /usr/bin/tar /usr/bin/gzip "$(command -v xtables-nft-multi)" "$P/bin/"
for a in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
	ln -s xtables-nft-multi "$P/bin/$a"
done
xt=$(dirname "$(dpkg -L iptables | grep -m1 '/xtables/libxt_mark.so$')")
cp "$xt"/*.so "$P/xtables/"
for f in "$P"/bin/*; do
	[ -L "$f" ] && continue
	for l in $(ldd "$f" 2>/dev/null | awk '/=>/ {print $3}'); do
		case ${l##*/} in libc.so.*|libm.so.*) ;; *) cp -L "$l" "$P/lib/" ;; esac
	done
done
(cd "$ROOT" && "$GO" test -c -o "$P/tests.test" ./tests)
echo "== checkpoint/restore in the cgroup v2 VM (payload $(du -sh "$P" | cut -f1))"
set +e
RUN_IN_VM_TIMEOUT=${RUN_IN_VM_TIMEOUT:-600} "$RUNVM" "$P" sh -c \
	'export XTABLES_LIBDIR=/payload/xtables RT_REQUIRE_CRIU=1
	 criu check || exit 1
	 RT_BINARY=/payload/bin/rt ./tests.test -test.v -test.timeout 8m -test.run "TestCheckpoint|TestRestoreForeground|TestStdioDevNullReopened"' 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
set -e
passed=$(grep -c '^--- PASS' "$LOG" || true)
failed=$(grep -c '^--- FAIL' "$LOG" || true)
skipped=$(grep -c '^--- SKIP' "$LOG" || true)
if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
	failed=1
	echo "test-criu-vm: run-in-vm exit $rc"
fi
echo "test-criu-vm: wall time $(( $(date +%s) - start ))s, $skipped skipped"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
