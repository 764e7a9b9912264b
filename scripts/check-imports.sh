#!/bin/bash
# The import rules of CONTRIBUTING.md ("What may import what"), checked
# over `go list`: run by make lint. Prints each broken rule, exits 1 if any.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-$(command -v go 2>/dev/null || echo /usr/local/go/bin/go)}
mod=$("$GO" list -m)
bad=0
fail() { echo "check-imports: $*" >&2; bad=1; }
while read -r pkg imports; do
	p=${pkg#"$mod"/}
	[ "$pkg" = "$mod" ] && p=.
	for i in $imports; do
		case "$i" in
		"$mod"/*) ;;
		os/exec)
			case "$p" in network/* | cmd/rt-net) fail "$p imports os/exec: the network hook execs nothing (no ip, nft or iptables)" ;; esac
			continue ;;
		github.com/urfave/cli*)
			case "$p" in cmd/*) ;; *) fail "$p imports $i: only cmd/* may use the CLI library" ;; esac
			continue ;;
		*) continue ;;
		esac
		q=${i#"$mod"/}
		case "$q" in cmd/*) fail "$p imports $q: nothing imports a command" ;; esac
		case "$p" in
		libcontainer/*)
			[ "$q" = libcontainer ] && fail "$p imports the libcontainer root package: subpackages never do" ;;
		specconv)
			[ "$q" = libcontainer ] && fail "specconv imports the libcontainer root package" ;;
		tests | tests/*)
			fail "$p imports $q: the integration tests drive the binary, they import no rt package" ;;
		esac
		case "$p" in
		libcontainer/configs | libcontainer/initproto | libcontainer/events | libcontainer/utils | libcontainer/cgroups/devices | libcontainer/stagebin)
			fail "$p imports $q: it imports no other rt package" ;;
		libcontainer/cgroups/cgutil)
			[ "$q" = libcontainer/utils ] || fail "$p imports $q: it imports no manager" ;;
		libcontainer/cgroups/fs1 | libcontainer/cgroups/fs2)
			case "$q" in libcontainer/cgroups | libcontainer/cgroups/fs1 | libcontainer/cgroups/fs2)
				fail "$p imports $q: the managers import neither each other nor the chooser" ;;
			esac ;;
		esac
	done
done < <("$GO" list -f '{{.ImportPath}} {{join .Imports " "}} {{join .TestImports " "}} {{join .XTestImports " "}}' ./...)
exit $bad
