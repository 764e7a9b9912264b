#!/bin/sh
# mkbundle.sh DIR [RT]: a busybox bundle in DIR (rootfs from Debian's
# busybox-static, config.json from `rt spec`, made non-interactive).
set -eu
dir=$1
rt=${2:-$(dirname "$0")/../bin/rt}
bb=$(command -v busybox || echo /bin/busybox)
mkdir -p "$dir/rootfs/bin" "$dir/rootfs/etc" "$dir/rootfs/proc" "$dir/rootfs/sys" "$dir/rootfs/dev" "$dir/rootfs/tmp" "$dir/rootfs/root"
cp "$bb" "$dir/rootfs/bin/busybox"
for a in $("$bb" --list); do [ "$a" = busybox ] || ln -sf busybox "$dir/rootfs/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$dir/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$dir/rootfs/etc/group"
rm -f "$dir/config.json"
"$rt" spec --bundle "$dir"
