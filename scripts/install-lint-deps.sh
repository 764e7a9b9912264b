#!/bin/sh
# Installs the tools of `make lint` at pinned versions: the Go ones with
# `go install` (through the Go module proxy) into .tools/bin of the
# repository, shellcheck from Debian. Idempotent; apt needs root.
set -eu
cd "$(dirname "$0")/.."
GO=${GO:-$(command -v go 2>/dev/null || echo /usr/local/go/bin/go)}
BIN=$(pwd)/.tools/bin
# module path of the command, and its pinned version
tools="
golang.org/x/tools/cmd/deadcode@v0.52.0
honnef.co/go/tools/cmd/staticcheck@v0.8.2
github.com/polyfloyd/go-errorlint@v1.8.0
"
mkdir -p "$BIN"
for t in $tools; do
	name=$(basename "${t%@*}")
	stamp="$BIN/.$name.version"
	if [ -x "$BIN/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$t" ]; then
		continue
	fi
	echo "install-lint-deps: $t"
	GOBIN=$BIN GOFLAGS=-mod=mod "$GO" install "$t"
	echo "$t" >"$stamp"
done
if ! command -v shellcheck >/dev/null 2>&1; then
	[ "$(id -u)" = 0 ] || { echo "install-lint-deps: must be root to install shellcheck" >&2; exit 1; }
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq -o DPkg::Lock::Timeout=600 shellcheck >/dev/null 2>&1 || {
		apt-get -qq -o DPkg::Lock::Timeout=600 update
		apt-get install -y -qq -o DPkg::Lock::Timeout=600 shellcheck >/dev/null
	}
fi
