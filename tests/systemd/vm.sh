#!/usr/bin/env bash
# tests/systemd/vm.sh: boot a Debian guest whose PID 1 is systemd (with the
# system D-Bus, cgroup v2 only) under qemu's software emulator (TCG, no KVM
# needed), run one command in it as a systemd service after
# multi-user.target, stream its output back and exit with its status.
#
#   tests/systemd/vm.sh [--build-only] [PAYLOAD_DIR CMD [ARG...]]
#
# PAYLOAD_DIR appears in the guest at /payload (in RAM, writable); CMD runs
# there as root (cwd /payload) from the unit rt-vm-cmd.service, so it sees a
# real systemd: `systemctl`, the system bus, transient units, a delegated
# cgroup v2 tree. Exit status: CMD's; 124 timeout; 125 the VM failed.
#
# The image is built from Debian packages only (`apt-get download`, unpacked
# with dpkg-deb; no maintainer scripts run): the stock kernel (booted as an
# ELF vmlinux through qemu's PVH entry), systemd, dbus, containerd, runc,
# busybox-static. It is cached under $RT_SYSTEMD_VM_CACHE (default
# /tmp/rt-systemd-vm-cache), keyed by a hash of this script.
#
# Environment: RT_SYSTEMD_VM_CACHE, RT_SYSTEMD_VM_MEM (MiB, 2048),
# RT_SYSTEMD_VM_SMP (2), RT_SYSTEMD_VM_TIMEOUT (s, 900), RT_SYSTEMD_VM_ENV
# (names of variables to copy into the guest), RT_SYSTEMD_VM_VERBOSE=1
# (console to stderr), RT_SYSTEMD_VM_CGROUP (v2, hybrid or legacy). Needs qemu-system-x86, cpio, xz-utils, apt.
set -euo pipefail
SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
CACHE=${RT_SYSTEMD_VM_CACHE:-/tmp/rt-systemd-vm-cache}
MEM=${RT_SYSTEMD_VM_MEM:-2048}
SMP=${RT_SYSTEMD_VM_SMP:-2}
TIMEOUT=${RT_SYSTEMD_VM_TIMEOUT:-900}
VERBOSE=${RT_SYSTEMD_VM_VERBOSE:-0}
FORWARD_ENV=${RT_SYSTEMD_VM_ENV:-}

die() { echo "systemd-vm: $*" >&2; exit 125; }

BUILD_ONLY=0
if [ "${1:-}" = --build-only ]; then BUILD_ONLY=1; shift; fi
if [ "$BUILD_ONLY" = 0 ]; then
  [ $# -ge 2 ] || { sed -n '2,13p' "$SELF" | sed 's/^# \{0,1\}//' >&2; exit 2; }
  PAYLOAD=$1; shift
  [ -d "$PAYLOAD" ] || die "payload dir $PAYLOAD not found"
fi
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"

# ---------------------------------------------------------------- build
MA=x86_64-linux-gnu
# The guest's userland: systemd + the system bus, containerd and runc (the
# engine and the reference runtime for the comparison), busybox for scripts.
PKGS="systemd dbus containerd runc busybox-static util-linux mount dash coreutils grep sed procps mawk libpam-modules"
# or-group alternatives and tools apt-cache lists that the guest does not need
SKIP='^(libelogind0|usrmerge|perl|perl-base|perl-modules-.*|libperl.*|cdebconf|libdebian-installer4|libnewt.*|libslang2|libtextwrap1|lib.*-perl|install-info|debconf|adduser|dpkg|init-system-helpers)$'

apt_download() { # DIR PKG...
  local dir=$1; shift
  ( cd "$dir" && apt-get -q -o APT::Sandbox::User=root download "$@" >/dev/null 2>&1 ) && return 0
  apt-get -q update >/dev/null 2>&1 || true
  ( cd "$dir" && apt-get -q -o APT::Sandbox::User=root download "$@" >/dev/null )
}
# Debian package file names: ls is fine.
# shellcheck disable=SC2012
deb_of() { ls "$1"/"$2"_*.deb 2>/dev/null | sort -V | tail -1; }
decompress() { case "$1" in xz) xz -dc ;; zst) zstd -dc ;; gz) gzip -dc ;; esac; }
is_elf() { [ "$(head -c4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; }
extract_vmlinux() { # BZIMAGE OUT: the ELF kernel inside the bzImage (PVH boot skips decompression under TCG)
  local img=$1 out=$2 magic kind off
  for magic in 'xz:\xfd7zXZ\x00' 'zst:\x28\xb5\x2f\xfd' 'gz:\x1f\x8b\x08'; do
    kind=${magic%%:*}
    for off in $(LC_ALL=C grep -obUaP "${magic#*:}" "$img" 2>/dev/null | head -3 | cut -d: -f1); do
      tail -c+$((off + 1)) "$img" | decompress "$kind" > "$out" 2>/dev/null || true
      is_elf "$out" && return 0
    done
  done
  return 1
}

build_image() { # KEY DEST
  local key=$1 dest=$2 dl=$CACHE/debs work
  mkdir -p "$dl"; rm -rf "$CACHE"/build.*
  work=$(mktemp -d "$CACHE/build.XXXXXX")
  echo "systemd-vm: building the guest image in $dest (one-time)..." >&2
  [ -n "$(deb_of "$dl" linux-image-amd64)" ] || apt_download "$dl" linux-image-amd64
  local kpkg; kpkg=$(dpkg-deb -f "$(deb_of "$dl" linux-image-amd64)" Depends | sed 's/[ (|,].*//')
  [ -n "$(deb_of "$dl" "$kpkg")" ] || apt_download "$dl" "$kpkg"
  local pkgs p missing=
  # $PKGS is a list of package names: split on purpose.
  # shellcheck disable=SC2086
  pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
          --no-replaces --no-enhances $PKGS | grep -v '^[ <]' | sort -u | grep -Ev "$SKIP")
  [ -n "$pkgs" ] || die "apt-cache depends $PKGS gave nothing (apt-get update?)"
  for p in $pkgs; do [ -n "$(deb_of "$dl" "$p")" ] || missing="$missing $p"; done
  # shellcheck disable=SC2086
  [ -z "$missing" ] || apt_download "$dl" $missing

  local R=$work/root d
  mkdir -p "$R"/usr/{bin,sbin,lib,lib64} "$R/usr/lib/$MA"
  for d in bin sbin lib lib64; do ln -s "usr/$d" "$R/$d"; done   # merged /usr, as bookworm installs it
  for p in $pkgs; do
    dpkg-deb --fsys-tarfile "$(deb_of "$dl" "$p")" | tar -x -C "$R" --keep-directory-symlink
  done
  rm -rf "$R"/usr/share/{doc,man,info,locale,lintian,bash-completion,zsh}
  mkdir -p "$R"/{proc,sys,dev,run,tmp,root,var/tmp,var/log,var/lib/dbus,etc/systemd/system,payload,usr/local/bin}
  chmod 1777 "$R/tmp" "$R/var/tmp"

  # kernel modules: the closure of what the guest loads, uncompressed, with
  # busybox's depmod/modprobe (no kmod in the image)
  mkdir -p "$work/k" "$work/bb"
  dpkg-deb -x "$(deb_of "$dl" "$kpkg")" "$work/k"
  local kver BB=$R/usr/bin/busybox
  # shellcheck disable=SC2012 # one kernel version directory
  kver=$(ls "$work/k/lib/modules" | head -1)
  "$BB" depmod -b "$work/k" "$kver"
  local M=$work/k/lib/modules/$kver m want="virtio_pci virtio_console virtio_rng overlay veth bridge loop nf_tables"
  for m in $(for w in $want; do awk -v m="$w" -F: '{ n=$1; sub(".*/","",n); sub("\\.ko.*$","",n); gsub("-","_",n);
        if (n==m) print $1 " " $2 }' "$M/modules.dep"; done | tr ' ' '\n' | grep . | sort -u); do
    mkdir -p "$R/lib/modules/$kver/$(dirname "$m")"
    case "$m" in
      *.ko.xz|*.ko.zst|*.ko.gz) decompress "${m##*.}" < "$M/$m" > "$R/lib/modules/$kver/${m%.*}" ;;
      *) cp "$M/$m" "$R/lib/modules/$kver/$m" ;;
    esac
  done
  cp "$M"/modules.builtin* "$M/modules.order" "$R/lib/modules/$kver/" 2>/dev/null || true
  "$BB" depmod -b "$R" "$kver"
  ln -sf ../bin/busybox "$R/usr/sbin/modprobe"; ln -sf dash "$R/usr/bin/sh"

  # /etc: no maintainer scripts ran, so write what they would have
  printf 'root:x:0:0:root:/root:/bin/sh\nmessagebus:x:100:101::/nonexistent:/usr/sbin/nologin\nrtuser:x:1000:1000::/home/rtuser:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' > "$R/etc/passwd"
  printf 'root:x:0:\ntty:x:5:\nmessagebus:x:101:\nsystemd-journal:x:102:\nrtuser:x:1000:\nnogroup:x:65534:\n' > "$R/etc/group"
  printf 'root:*:1::::::\nmessagebus:*:1::::::\nrtuser:*:1::::::\nnobody:*:1::::::\n' > "$R/etc/shadow"
  printf 'rtuser:100000:65536\n' > "$R/etc/subuid"; cp "$R/etc/subuid" "$R/etc/subgid"
  mkdir -p "$R/home/rtuser"; chown 1000:1000 "$R/home/rtuser"
  # user@.service's PAM stack (pam-auth-update did not run)
  printf 'account required pam_permit.so\nsession required pam_permit.so\n' > "$R/etc/pam.d/systemd-user"
  cp "$R/etc/pam.d/systemd-user" "$R/etc/pam.d/other"
  # pam_systemd (with logind) would set it
  mkdir -p "$R/etc/systemd/system/user@.service.d"
  printf '[Service]\nEnvironment=XDG_RUNTIME_DIR=/run/user/%%i\n' > "$R/etc/systemd/system/user@.service.d/env.conf"
  printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' > "$R/etc/nsswitch.conf"
  printf '127.0.0.1 localhost vm\n' > "$R/etc/hosts"; echo vm > "$R/etc/hostname"
  printf 'PRETTY_NAME="Debian GNU/Linux 12 (rt systemd test guest)"\nNAME="Debian GNU/Linux"\nID=debian\nVERSION_ID="12"\n' > "$R/usr/lib/os-release"
  ln -sf ../usr/lib/os-release "$R/etc/os-release"
  echo "5b7e1f0c2d3a4e5f8a9b0c1d2e3f4a5b" > "$R/etc/machine-id"
  : > "$R/etc/fstab"
  ln -sf /usr/lib/systemd/system/multi-user.target "$R/etc/systemd/system/default.target"
  # speed under TCG: what a test guest does not need
  for u in systemd-logind.service getty@tty1.service serial-getty@ttyS0.service console-getty.service \
           systemd-remount-fs.service systemd-firstboot.service systemd-random-seed.service \
           systemd-update-utmp.service systemd-update-utmp-runlevel.service systemd-networkd.service \
           systemd-journal-flush.service systemd-hwdb-update.service systemd-udevd.service \
           systemd-pstore.service systemd-binfmt.service sys-kernel-config.mount sys-fs-fuse-connections.mount \
           e2scrub_reap.service fstrim.timer e2scrub_all.timer containerd.service; do
    ln -sf /dev/null "$R/etc/systemd/system/$u"
  done
  mkdir -p "$R/etc/systemd/system/sockets.target.wants" "$R/etc/systemd/system/multi-user.target.wants"
  [ -e "$R/usr/lib/systemd/system/sockets.target.wants/dbus.socket" ] ||
    ln -sf /usr/lib/systemd/system/dbus.socket "$R/etc/systemd/system/sockets.target.wants/dbus.socket"
  mkdir -p "$R/etc/systemd/journald.conf.d"
  printf '[Journal]\nStorage=volatile\nForwardToConsole=no\n' > "$R/etc/systemd/journald.conf.d/vm.conf"

  # the command's unit: after multi-user.target, output on the virtio port
  cat > "$R/etc/systemd/system/rt-vm-cmd.service" <<'EOF'
[Unit]
Description=rt test command
After=multi-user.target dbus.service
Wants=dbus.service
[Service]
Type=oneshot
ExecStart=/usr/bin/busybox sh /usr/local/bin/rt-vm-cmd
StandardInput=null
StandardOutput=journal+console
TimeoutStartSec=infinity
EOF
  ln -sf ../rt-vm-cmd.service "$R/etc/systemd/system/multi-user.target.wants/rt-vm-cmd.service"
  cat > "$R/usr/local/bin/rt-vm-cmd" <<'EOF'
# runs /payload/.cmd with output on the virtio-serial port, reports the status
# on ttyS2 and stops the machine
OUT=
for p in /sys/class/virtio-ports/*; do
  [ "$(cat "$p/name" 2>/dev/null)" = rtvm.out ] && OUT=/dev/${p##*/}
done
[ -n "$OUT" ] || OUT=/dev/ttyS1
T=$(cut -d' ' -f1 /proc/uptime)
export HOME=/root PATH=/payload/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LD_LIBRARY_PATH=/payload/lib
[ -f /payload/.env ] && . /payload/.env
cd /payload
echo "systemd-vm: command starts at guest uptime ${T}s" > "$OUT"
/bin/sh /payload/.cmd </dev/null >"$OUT" 2>&1
rc=$?
printf 'RTVM_T_CMD=%s\nRTVM_T_END=%s\nRTVM_RC=%s\n' "$T" "$(cut -d' ' -f1 /proc/uptime)" "$rc" > /dev/ttyS2
sync
echo b > /proc/sysrq-trigger
EOF
  # stage 1 (initramfs /init): make / a real mount (pivot_root needs one),
  # load the virtio console, hand over to systemd
  cat > "$R/init" <<'EOF'
#!/usr/bin/busybox sh
/usr/bin/busybox mkdir -p /newroot
/usr/bin/busybox mount --bind / /newroot
cd /newroot
/usr/bin/busybox mount --move . /
/usr/bin/busybox mount -t proc proc /proc
/usr/bin/busybox modprobe virtio_pci; /usr/bin/busybox modprobe virtio_console
echo /usr/sbin/modprobe > /proc/sys/kernel/modprobe
/usr/bin/busybox umount /proc
exec /usr/bin/busybox chroot . /lib/systemd/systemd
EOF
  chmod 755 "$R/init"
  ldconfig -r "$R" 2>/dev/null || true

  ( cd "$R" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet ) > "$work/base.cpio"
  truncate -s %512 "$work/base.cpio"
  rm -rf "$dest.tmp"; mkdir -p "$dest.tmp"
  extract_vmlinux "$work/k/boot/vmlinuz-$kver" "$dest.tmp/vmlinux" || cp "$work/k/boot/vmlinuz-$kver" "$dest.tmp/vmlinux"
  mv "$work/base.cpio" "$dest.tmp/base.cpio"
  echo "$kpkg $kver" > "$dest.tmp/kernel"
  echo "$key" > "$dest.tmp/key"
  rm -rf "$dest"; mv "$dest.tmp" "$dest"; rm -rf "$work"
  echo "systemd-vm: image ready: $kver, rootfs $(du -h "$dest/base.cpio" | cut -f1)" >&2
}

KEY=$(sed -n '/^# -* build$/,/^# -* end build$/p' "$SELF" | sha256sum | cut -c1-16)
BASE=$CACHE/image-$KEY
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"; flock 9
[ -f "$BASE/key" ] || build_image "$KEY" "$BASE"
flock -u 9; exec 9>&-
# ---------------------------------------------------------------- end build
[ "$BUILD_ONLY" = 1 ] && { cat "$BASE/kernel"; exit 0; }

RUN=$(mktemp -d "$CACHE/run.XXXXXX")
QPID='' CATPID=''
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  [ -n "$QPID" ] && kill "$QPID" 2>/dev/null
  [ -n "$CATPID" ] && kill "$CATPID" 2>/dev/null
  if [ "${RT_SYSTEMD_VM_KEEP:-0}" != 0 ]; then echo "systemd-vm: kept $RUN" >&2; else rm -rf "$RUN"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$RUN/stage/payload"
cp -a "$PAYLOAD/." "$RUN/stage/payload/"
sq() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }
{ printf 'set --'; for a in "$@"; do printf ' %s' "$(sq "$a")"; done; echo; echo 'exec "$@"'; } > "$RUN/stage/payload/.cmd"
{ for n in $FORWARD_ENV; do [ -n "${!n+x}" ] && printf 'export %s=%s\n' "$n" "$(sq "${!n}")"; done; true; } > "$RUN/stage/payload/.env"
( cd "$RUN/stage" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet ) > "$RUN/payload.cpio"
cat "$BASE/base.cpio" "$RUN/payload.cpio" > "$RUN/initrd"
rm -rf "$RUN/stage" "$RUN/payload.cpio"

case "${RT_SYSTEMD_VM_CGROUP:-v2}" in   # the cgroup layout systemd sets up
  v2) CG="systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all" ;;
  hybrid) CG="systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=0" ;;
  legacy) CG="systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=1" ;;
  *) die "RT_SYSTEMD_VM_CGROUP must be v2, hybrid or legacy" ;;
esac
APPEND="console=ttyS0 rdinit=/init panic=-1 $CG"
APPEND="$APPEND mitigations=off no_timer_check tsc=reliable i8042.noaux i8042.nokbd i8042.nopnp"
[ "$VERBOSE" = 0 ] && APPEND="$APPEND quiet loglevel=3 systemd.show_status=0"
# qemu options take comma-separated values.
# shellcheck disable=SC2054
QEMU_ARGS=(
  -M q35 -accel tcg,thread=multi -cpu max -smp "$SMP" -m "$MEM"
  -nodefaults -no-user-config -display none -no-reboot
  -kernel "$BASE/vmlinux" -initrd "$RUN/initrd"
  -chardev "file,id=con,path=$RUN/console.log" -serial chardev:con
  -chardev "file,id=out,path=$RUN/out-fallback" -serial chardev:out
  -chardev "file,id=st,path=$RUN/status" -serial chardev:st
  -device virtio-serial-pci,id=vser
  -chardev "pipe,id=vout,path=$RUN/vout" -device virtserialport,bus=vser.0,chardev=vout,name=rtvm.out
  -device virtio-rng-pci
)
[ -f /usr/share/qemu/qboot.rom ] && QEMU_ARGS+=(-bios /usr/share/qemu/qboot.rom)
mkfifo "$RUN/vout.in" "$RUN/vout.out"
cat "$RUN/vout.out" &
CATPID=$!
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 "${QEMU_ARGS[@]}" -append "$APPEND" </dev/null &
QPID=$!
while kill -0 "$QPID" 2>/dev/null; do
  if grep -q '^RTVM_RC=' "$RUN/status" 2>/dev/null; then
    for _ in $(seq 50); do kill -0 "$QPID" 2>/dev/null || break; sleep 0.2; done
    kill "$QPID" 2>/dev/null || true; break
  fi
  sleep 0.2
done
set +e; wait "$QPID"; QRC=$?; set -e; QPID=
( exec 8<>"$RUN/vout.out" ) 2>/dev/null || true
wait "$CATPID" 2>/dev/null || true; CATPID=
[ -s "$RUN/out-fallback" ] && cat "$RUN/out-fallback"
[ "$VERBOSE" = 0 ] || { echo "----- guest console -----" >&2; tr -d '\r' < "$RUN/console.log" >&2; }
RC=$(sed -n 's/^RTVM_RC=//p' "$RUN/status" 2>/dev/null | tr -d '\r' | tail -1)
if [ -z "$RC" ]; then
  echo "systemd-vm: the guest did not report a status (qemu exit $QRC); last console lines:" >&2
  tail -n 40 "$RUN/console.log" | tr -d '\r' >&2
  [ "$QRC" = 124 ] && exit 124
  exit 125
fi
exit "$RC"
