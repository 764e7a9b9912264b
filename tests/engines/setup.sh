#!/bin/sh
# Installs what the engine tests in tests/engines need: containerd 1.6 (with
# ctr and the runc v2 shim; Debian's runc package is not needed, the shim is
# given rt as its runtime), the CNI bridge/host-local/loopback plugins for the
# pod network test (and iproute2 to remove its bridge), a static busybox for
# the test image, script(1) for the TTY tests, and jq for ctr-network.sh. Idempotent; needs root.
# Package postinst scripts are kept from starting the system containerd
# service by a temporary policy-rc.d.
set -eu
pkgs="containerd containernetworking-plugins busybox-static bsdutils iproute2 jq"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
[ "$(id -u)" = 0 ] || { echo "setup.sh: must be root to install:$missing" >&2; exit 1; }
echo "setup.sh: installing$missing"
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && policy=1
fi
trap '[ -n "$policy" ] && rm -f /usr/sbin/policy-rc.d' EXIT
export DEBIAN_FRONTEND=noninteractive
opts="-y -qq --no-install-recommends -o DPkg::Lock::Timeout=600"
# shellcheck disable=SC2086
apt-get install $opts $missing >/dev/null 2>&1 || {
	apt-get -qq -o DPkg::Lock::Timeout=600 update
	apt-get install $opts $missing >/dev/null
}
