#!/bin/sh
# Installs the Debian packages rt needs to build (cgo + libseccomp) and
# that its demo, tests and benchmarks use (nftables: `nft` for the network
# tests only; rt-net itself speaks netlink). Idempotent; needs root.
set -eu
# musl-tools, gperf, dpkg-dev: rt-stage and bin/rt against musl (Makefile
# STAGE, LIBC; scripts/build-musl-seccomp.sh).
pkgs="libseccomp-dev musl-tools gperf dpkg-dev pkg-config busybox-static gcc make iproute2 util-linux procps nftables libcap2-bin"
[ "${WITH_BENCH:-0}" = 1 ] && pkgs="$pkgs runc crun time"
# The cgroup v2 + AppArmor VM of ../shared/harness/vm (make test-v2).
[ "${WITH_VM:-0}" = 1 ] && pkgs="$pkgs qemu-system-x86 qemu-system-data cpio zstd xz-utils"
# make test-criu-vm: the VM, and what criu runs there: iptables, GNU tar, gzip.
[ "${WITH_CRIU_VM:-0}" = 1 ] && pkgs="$pkgs qemu-system-x86 qemu-system-data cpio zstd xz-utils iptables tar gzip"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# $missing is a list of package names: split on purpose.
	# shellcheck disable=SC2086
	apt-get install -y -qq $missing >/dev/null
fi
# Debian's libseccomp built against musl, for a bin/rt without glibc's
# start-up (Makefile LIBC=auto). Without it bin/rt links against glibc:
# slower to start, the same behaviour.
"$(dirname "$0")/build-musl-seccomp.sh" ||
	echo "install-deps: libseccomp for musl could not be built: bin/rt will link against glibc" >&2
command -v go >/dev/null 2>&1 || { [ -x /usr/local/go/bin/go ] || { echo "install-deps: no Go toolchain (expected /usr/local/go or go in PATH)" >&2; exit 1; }; }
exit 0
