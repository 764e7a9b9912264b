#!/bin/sh
# install-criu.sh: makes a criu that works on this kernel available to rt's
# checkpoint/restore tests and prints the directory that holds it
# (default /usr/local/libexec/rt-criu, outside the default PATH: nothing
# else on the host picks it up; `make integration` puts it first in PATH).
#
# Debian 12's criu 3.17.1 fails on kernels since 6.13 ("Unexpected rt vDSO
# area bounds"), so CRIU 4.2 is built from source with the shared harness
# (harness/criu/build.sh: Debian build dependencies through apt, the
# upstream release tarball, ~3 min on 2 cores). Idempotent: a criu there
# that passes `criu check` is kept. Fails loudly when no working criu
# results.
set -eu
dest=${RT_CRIU_DIR:-/usr/local/libexec/rt-criu}
if [ -x "$dest/criu" ] && "$dest/criu" check >/dev/null 2>&1; then
	echo "$dest"
	exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)
shared=${SHARED:-$here/../../shared}
build=$shared/harness/criu/build.sh
[ -x "$build" ] || { echo "install-criu: $build not found (set SHARED)" >&2; exit 1; }
bin=$("$build" | tail -n 1)
[ -x "$bin" ] || { echo "install-criu: the build printed no criu binary ($bin)" >&2; exit 1; }
mkdir -p "$dest"
ln -sf "$bin" "$dest/criu"
if ! out=$("$dest/criu" check 2>&1); then
	echo "$out" >&2
	echo "install-criu: criu check fails with $bin on this kernel" >&2
	exit 1
fi
echo "$dest"
