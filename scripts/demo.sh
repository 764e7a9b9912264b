#!/bin/sh
# demo.sh: build a busybox bundle and run one container in it with rt.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
rt=$here/bin/rt
work=${DEMO_DIR:-/tmp/rt-demo}
rm -rf "$work"
"$here/scripts/mkbundle.sh" "$work/bundle" "$rt"
# Non-interactive: no terminal, a command that shows where it runs (its
# $(...) expand in the container, not here).
# shellcheck disable=SC2016
sed -i -e 's/"terminal": true/"terminal": false/' \
       -e 's|"sh"$|"sh", "-c", "echo hello from rt: hostname=$(hostname) pid=$$ uid=$(id -u); cat /proc/self/cgroup \| head -3"|' \
       "$work/bundle/config.json"
cd "$work/bundle"
echo "+ rt run demo-$$ (bundle $work/bundle)"
"$rt" --root "$work/state" run "demo-$$"
echo "+ done"
