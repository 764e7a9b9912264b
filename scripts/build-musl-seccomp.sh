#!/bin/sh
# build-musl-seccomp.sh [PREFIX]: Debian's libseccomp, the same version as
# the installed libseccomp-dev and with Debian's patches, built as a static
# library against musl into PREFIX (default /usr/local/lib/rt-musl-seccomp),
# so that bin/rt can be linked against musl instead of glibc (Makefile
# LIBC=auto|musl). Why: a static glibc program detects the CPU's features
# and cache sizes at each start with some 80 `cpuid` instructions, each a
# trap to the hypervisor in a VM (~1 ms per start of rt here); musl does
# none of that. The source comes from Debian's own archive (apt-get source,
# through the deb-src twins of the machine's apt sources, in a private apt
# state: the system's lists are not touched). Idempotent; needs root and
# musl-gcc, gperf, dpkg-source (make deps installs them).
set -eu
prefix=${1:-/usr/local/lib/rt-musl-seccomp}
# One build at a time (make deps may run from several scripts at once): the
# second waits, then finds the library there.
mkdir -p "$(dirname "$prefix")"
exec 9>"$prefix.lock"
flock 9
version=$(dpkg-query -W -f='${Version}' libseccomp-dev 2>/dev/null) || {
	echo "build-musl-seccomp: libseccomp-dev is not installed" >&2; exit 1; }
if [ -f "$prefix/lib/libseccomp.a" ] && [ "$(cat "$prefix/VERSION" 2>/dev/null)" = "$version" ]; then
	exit 0
fi
for c in musl-gcc gperf dpkg-source apt-get; do
	command -v "$c" >/dev/null || { echo "build-musl-seccomp: $c is needed" >&2; exit 1; }
done
work=$(mktemp -d /tmp/rt-musl-seccomp.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/parts" "$work/lists/partial" "$work/archives/partial"
# The deb-src twins of the machine's sources (deb822 and one-line forms).
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	sed 's/^Types:.*/Types: deb-src/' "$f" >"$work/parts/$(basename "$f")"
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] || continue
	sed -n 's/^deb \(.*\)/deb-src \1/p' "$f" >"$work/parts/$(basename "$f").list"
done
apt_opts="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$work/parts -o Dir::State::Lists=$work/lists -o Dir::Cache::Archives=$work/archives -o APT::Sandbox::User=root"
# A source of the machine's that has no deb-src twin fails here alone; the
# download below says whether libseccomp's source was found.
# shellcheck disable=SC2086 # apt_opts is a list of options: split on purpose
apt-get -qq $apt_opts update >/dev/null 2>&1 || true
# shellcheck disable=SC2086
(cd "$work" && apt-get -qq $apt_opts source --download-only "libseccomp=$version" >/dev/null)
dpkg-source --no-check -x "$work"/libseccomp_*.dsc "$work/src" >/dev/null
arch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
cd "$work/src"
# musl's headers first; the kernel's (linux/, asm/) after them.
CC=musl-gcc CFLAGS="-O2 -idirafter /usr/include -idirafter /usr/include/$arch" \
	./configure --quiet --enable-static --disable-shared --prefix="$prefix" >/dev/null
{ make -s -C src && rm -rf "$prefix" && make -s -C src install && make -s -C include install; } >"$work/make.log" 2>&1 || {
	cat "$work/make.log" >&2; exit 1; }
# Its own pkg-config file: libseccomp-golang asks pkg-config for libseccomp.
mkdir -p "$prefix/lib/pkgconfig"
cat >"$prefix/lib/pkgconfig/libseccomp.pc" <<EOF
prefix=$prefix
Name: libseccomp
Description: The enhanced seccomp library (Debian's $version, built against musl)
Version: ${version%%-*}
Cflags: -I\${prefix}/include
Libs: -L\${prefix}/lib -lseccomp
EOF
echo "$version" >"$prefix/VERSION"
echo "build-musl-seccomp: libseccomp $version for musl in $prefix"
