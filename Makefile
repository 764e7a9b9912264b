# rt — an OCI container runtime with runc's command line.
GO        ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
# encoding/json on top of json/v2 (Go's jsonv2 experiment, the same v1 API
# and behaviour): config.json's first decode in a fresh process builds
# its decoders lazily, per type met, instead of every encoder of the
# whole spec type graph (docs/design.md, "The parent's JSON").
export GOEXPERIMENT := jsonv2
BIN       := bin/rt
COMMIT    := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
VERSION   := $(shell cat VERSION 2>/dev/null || echo 0.1.0)
LDFLAGS   := -X main.commit=$(COMMIT) -X main.version=$(VERSION)
SHARED    ?= $(abspath ../shared)
# urfave_cli_no_docs: leaves out urfave/cli's man/markdown generators (and
# their markdown parser), which rt never uses: less to load and initialise.
GOFLAGS_BUILD := -trimpath -buildvcs=false
# bin/rt is linked statically (glibc's libc.a and libseccomp.a, from
# libc6-dev and libseccomp-dev): rt starts at least twice per container
# (the command and its C stage), and each dynamic start loads ld.so,
# libc and libseccomp (~0.3 ms). osusergo/netgo: Go's own user and name
# lookups (rt makes none through NSS; a static glibc cannot load NSS
# modules). STATIC=0 links dynamically.
STATIC ?= 1
# The C library of the static bin/rt. A static glibc program detects the
# CPU's features and cache sizes at each start with some 80 `cpuid`
# instructions, each a trap to the hypervisor in a VM: ~1 ms of every rt
# command here (rt --version 3.65 -> 2.66 ms against musl). LIBC=auto (the
# default) links against musl when musl-gcc and Debian's libseccomp built
# for musl (scripts/build-musl-seccomp.sh, run by make deps, into
# MUSL_SECCOMP) are there, else against glibc; LIBC=musl requires them;
# LIBC=glibc. STATIC=0 is always glibc.
LIBC ?= auto
MUSL_SECCOMP ?= /usr/local/lib/rt-musl-seccomp
MULTIARCH := $(shell gcc -print-multiarch 2>/dev/null)
# musl's headers first; the kernel's (linux/, asm/) after them. Only the
# musl build of libseccomp is visible to pkg-config.
MUSL_ENV := CC=musl-gcc PKG_CONFIG_LIBDIR=$(MUSL_SECCOMP)/lib/pkgconfig \
	CGO_CFLAGS="-O2 -g -idirafter /usr/include -idirafter /usr/include/$(MULTIARCH)"
ifeq ($(STATIC),1)
RT_TAGS    := urfave_cli_no_docs,osusergo,netgo
RT_LDFLAGS := -linkmode external -extldflags -static
else
RT_TAGS    := urfave_cli_no_docs
RT_LDFLAGS :=
endif

# rt exec's C stage as a program of its own (cmd/rt-stage), static against
# musl: it starts in ~0.4 ms where rt's glibc binary takes ~1.1 ms. It is
# embedded in bin/rt (tag rtstage, libcontainer/stagebin). STAGE=auto (the
# default) builds it when musl-gcc is there when bin/rt is built (after
# make deps), STAGE=1 requires it, STAGE=0 leaves it out: rt exec then
# re-executes rt itself, as create does.
STAGE    ?= auto
STAGE_CC ?= musl-gcc
STAGE_SRC := cmd/rt-stage/main.c $(addprefix libcontainer/nsenter/,nsenter.c plan.c pid1.c pid1_hooks.c setup.c)
# musl's headers first; the kernel's (linux/, asm/) after them.
# Stripped, unused sections dropped: it is copied into a sealed memfd at
# each create and exec (108 KB instead of 133).
STAGE_CFLAGS := -static -O2 -Wall -Werror -ffunction-sections -fdata-sections -Wl,--gc-sections -s \
	-idirafter /usr/include -idirafter /usr/include/$(MULTIARCH)

.PHONY: all build deps test unit integration demo conformance engines bench clean vet fmt

all: build

# bin/rt-net: the bridge network hook (docs/network.md), beside rt so that
# `rt spec --network bridge` finds it. Static and without cgo (it needs no C):
# no dynamic loader at each start saves about 1 ms per hook run.
build:
	@tags=$(RT_TAGS); \
	if [ "$(STAGE)" = 1 ] || { [ "$(STAGE)" = auto ] && command -v $(STAGE_CC) >/dev/null; }; then \
		$(MAKE) --no-print-directory libcontainer/stagebin/rt-stage && tags=$$tags,rtstage; \
	else echo "build: bin/rt without rt-stage (STAGE=$(STAGE); $(STAGE_CC) is needed): rt exec re-executes rt"; fi; \
	env=; \
	if [ "$(STATIC)" = 1 ] && [ "$(LIBC)" != glibc ]; then \
		if command -v musl-gcc >/dev/null && [ -f $(MUSL_SECCOMP)/lib/pkgconfig/libseccomp.pc ]; then env='$(MUSL_ENV)'; \
		elif [ "$(LIBC)" = musl ]; then echo "build: LIBC=musl needs musl-gcc and $(MUSL_SECCOMP) (make deps)" >&2; exit 1; \
		else echo "build: bin/rt against glibc (LIBC=auto: musl-gcc or $(MUSL_SECCOMP) missing; make deps builds it)"; fi; \
	fi; \
	echo $$env $(GO) build $(GOFLAGS_BUILD) -tags $$tags -ldflags \"$(LDFLAGS) $(RT_LDFLAGS)\" -o $(BIN) ./cmd/rt; \
	eval $$env $(GO) build $(GOFLAGS_BUILD) -tags $$tags -ldflags \"$(LDFLAGS) $(RT_LDFLAGS)\" -o $(BIN) ./cmd/rt
	CGO_ENABLED=0 $(GO) build $(GOFLAGS_BUILD) -tags urfave_cli_no_docs -o bin/rt-net ./cmd/rt-net

libcontainer/stagebin/rt-stage: $(STAGE_SRC) $(wildcard libcontainer/nsenter/*.h)
	$(STAGE_CC) $(STAGE_CFLAGS) -o $@ $(STAGE_SRC)

# Debian packages rt needs to build and its tests need to run.
deps:
	./scripts/install-deps.sh

# The test command (README, .ci/run): unit tests, then integration tests
# that drive bin/rt as root in real namespaces and cgroups.
test: build unit integration

unit:
	$(GO) test -count=1 ./libcontainer/... ./specconv/... ./cmd/... ./network/...

# RT_REQUIRE_ALL=1: a missing prerequisite of the suite (root, bin/rt)
# fails the run instead of skipping every test. tests/vm needs a pure
# cgroup v2 host (make test-v2 runs it in a VM, where RT_REQUIRE_ALL=1);
# here each of its tests reports its skip by name (-v).
# criu for the checkpoint/restore tests: scripts/install-criu.sh puts a
# working one in CRIU_DIR, first in PATH for the tests (and the rt they run).
CRIU_DIR ?= /usr/local/libexec/rt-criu

integration: build
	PATH="$(CRIU_DIR):$$PATH" RT_REQUIRE_ALL=1 RT_BINARY=$(abspath $(BIN)) $(GO) test -count=1 -timeout 20m ./tests/
	RT_REQUIRE_ALL=0 RT_BINARY=$(abspath $(BIN)) $(GO) test -count=1 -v ./tests/vm/

# The checkpoint/restore tests in the qemu VM of ../shared/harness/vm (cgroup
# v2 only, Debian's 6.1 kernel, the CRIU 4.2 of make criu): the cgroup v2
# freezer path and --pre-dump + --parent-path, which the host cannot show.
# ~2.5 min.
.PHONY: test-criu-vm
test-criu-vm: build criu
	WITH_CRIU_VM=1 ./scripts/install-deps.sh
	SHARED=$(SHARED) CRIU_DIR=$(CRIU_DIR) RT_BINARY=$(abspath $(BIN)) ./scripts/criu-vm.sh

# Builds/installs CRIU 4.2 into CRIU_DIR (see scripts/install-criu.sh).
.PHONY: criu
criu:
	SHARED=$(SHARED) RT_CRIU_DIR=$(CRIU_DIR) ./scripts/install-criu.sh

vet:
	$(GO) vet ./...
	cd tests/engines && $(GO) vet .

# Static checks, run by .ci/run: gofmt, go vet, staticcheck (staticcheck.conf),
# errorlint (errors.Is/As, %w), deadcode (nothing of the binary may be
# unreachable from main), shellcheck on every shell script, the import
# rules of CONTRIBUTING.md (scripts/check-imports.sh). The tools are
# installed at pinned versions by scripts/install-lint-deps.sh.
LINTBIN := $(abspath .tools/bin)
.PHONY: lint lint-deps
lint-deps:
	GO=$(GO) ./scripts/install-lint-deps.sh

lint: lint-deps vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt: not formatted:"; echo "$$out"; exit 1; fi
	$(LINTBIN)/staticcheck ./...
	cd tests/engines && $(LINTBIN)/staticcheck .
	$(LINTBIN)/go-errorlint ./...
	cd tests/engines && $(LINTBIN)/go-errorlint .
	@out=$$($(LINTBIN)/deadcode ./cmd/rt ./cmd/rt-net); \
		if [ -n "$$out" ]; then echo "deadcode: unreachable from ./cmd/rt and ./cmd/rt-net:"; echo "$$out"; exit 1; fi
	shellcheck $$(git ls-files '*.sh') .ci/run
	shellcheck -s bash contrib/completions/bash/rt
	GO=$(GO) ./scripts/check-imports.sh

# Fuzz targets, each run briefly: the init protocol's frame decoder and
# bootstrap encoder, the C plan decoder, config loading
# (specconv.LoadSpec), spec conversion (specconv.Convert) and list's state
# decoder. Each runs a number of executions (pkg:Fuzz:N, about 10 s here)
# rather than a duration: Go 1.26's coordinator can fail a -fuzztime
# duration at its deadline with a bare "context deadline exceeded" and no
# failing input (golang/go#75804, fixed in 1.27); a count has no deadline.
# FUZZTIME=30s (or 1000000x) overrides every target's budget.
# Seeds are in the tests (f.Add) and in each package's testdata/fuzz. New
# interesting inputs are minimised for at most FUZZMINTIME (the default of
# 60s would eat the whole run; go test -fuzz reports 0 execs/s meanwhile).
FUZZTIME ?=
FUZZMINTIME ?= 100x
FUZZ_TARGETS ?= ./libcontainer/initproto:FuzzRecv:400000x ./libcontainer/initproto:FuzzBootstrapEncode:400000x \
	./libcontainer/nsenter/plantest:FuzzPlanParse:350000x ./libcontainer/nsenter/plantest:FuzzSetupCheck:200000x \
	./specconv:FuzzLoadSpec:40000x ./specconv:FuzzDecodeSpec:200000x ./specconv:FuzzConvert:120000x ./libcontainer:FuzzDecodeStateFast:180000x \
	./libcontainer:FuzzEncodeState:60000x ./libcontainer:FuzzEncodeConfig:30000x
.PHONY: fuzz
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; fn=$${rest%%:*}; budget=$${rest#*:}; [ -z "$(FUZZTIME)" ] || budget=$(FUZZTIME); \
		echo "== fuzz $$fn ($$pkg, $$budget)"; \
		$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $$budget -fuzzminimizetime $(FUZZMINTIME) $$pkg; \
	done

fmt:
	gofmt -l -w $$(git ls-files '*.go')

# Installs what is needed, builds rt, makes a busybox bundle and runs it.
demo: deps build
	./scripts/demo.sh

# The OCI runtime-tools validation suite (the pinned version of
# ../shared/harness/oci-validation/run.sh) against bin/rt.
conformance: build
	SHARED=$(SHARED) ./scripts/conformance.sh $(abspath $(BIN))

# containerd (ctr + runc v2 shim), podman and docker driving bin/rt through
# the scenarios of ../shared/harness/clients (each installs its engine).
ENGINES ?= containerd podman docker
engines: build
	@rc=0; for e in $(ENGINES); do \
		echo "== engine $$e"; $(SHARED)/harness/clients/$$e.sh $(abspath $(BIN)) || rc=1; \
	done; exit $$rc

# Lifecycle latency and memory of rt, runc and crun side by side.
bench: build criu
	./scripts/bench.sh $(abspath $(BIN))
	CRIU_DIR=$(CRIU_DIR) ./scripts/bench-criu.sh $(abspath $(BIN))

clean:
	rm -rf bin libcontainer/stagebin/rt-stage

# What runc ships beside its binary: man pages (man/*.8) and bash
# completion, generated from the command definitions that --help prints
# (cmd/rt/docs_test.go fails when the committed files differ from them).
.PHONY: docs install uninstall
docs:
	RT_UPDATE_DOCS=1 $(GO) test -count=1 -run '^(TestManPages|TestBashCompletion)$$' ./cmd/rt

# make install [PREFIX=/usr/local] [DESTDIR=]: the binaries (make build
# first), the man pages and the bash completion.
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/sbin
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
# rt-net (the network hook) goes beside rt, where `rt spec --network` looks.
NETBIN      ?= $(dir $(BIN))rt-net
install:
	@for b in $(BIN) $(NETBIN); do [ -x $$b ] || { echo "install: $$b missing: run make build first" >&2; exit 1; }; done
	install -D -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/rt
	install -D -m 0755 $(NETBIN) $(DESTDIR)$(BINDIR)/rt-net
	install -d -m 0755 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 man/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -D -m 0644 contrib/completions/bash/rt $(DESTDIR)$(BASHCOMPDIR)/rt

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/rt $(DESTDIR)$(BINDIR)/rt-net $(DESTDIR)$(BASHCOMPDIR)/rt
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(wildcard man/*.8)))

# containerd driving bin/rt through its CRI API (a Go CRI client, as the kubelet
# does) and through ctr (tests/engines; setup.sh installs containerd if missing).
# tests/engines is a module of its own: its gRPC and CRI API dependencies
# stay out of rt's go.mod.
.PHONY: test-engines
test-engines: build
	tests/engines/setup.sh
	cd tests/engines && PATH="$(CRIU_DIR):$$PATH" RT_BINARY=$(abspath $(BIN)) RT_ENGINES_REQUIRED=1 $(GO) test -count=1 -timeout 10m -v .
	PATH="$(CRIU_DIR):$$PATH" tests/engines/podman-checkpoint.sh $(abspath $(BIN))
	tests/engines/podman-network.sh $(abspath $(BIN))
	tests/engines/ctr-network.sh $(abspath $(BIN))

# The cgroup v2 + AppArmor tests (tests/vm) inside the qemu VM of
# ../shared/harness/vm: limits, OOM and pids enforcement, update, pause,
# stats, the eBPF device filter, AppArmor. Ends with "N passed, M failed".
.PHONY: test-v2
test-v2: build
	WITH_VM=1 ./scripts/install-deps.sh
	SHARED=$(SHARED) RT_BINARY=$(abspath $(BIN)) tests/vm/run.sh

# The systemd cgroup driver (--systemd-cgroup: transient units over D-Bus)
# in a qemu guest whose PID 1 is systemd (tests/systemd/vm.sh builds and
# caches the Debian image): scope properties, limits, update, pause,
# exec, kill, delete, D-Bus errors, containerd with the systemd cgroup
# driver. Ends with "N passed, M failed".
.PHONY: test-systemd bench-systemd
test-systemd: build
	WITH_VM=1 ./scripts/install-deps.sh
	RT_BINARY=$(abspath $(BIN)) tests/systemd/run.sh

# run latency with and without --systemd-cgroup, rt vs the guest's runc.
bench-systemd: build
	WITH_VM=1 ./scripts/install-deps.sh
	RT_SYSTEMD_BENCH=1 RT_SYSTEMD_BENCH_ONLY=1 RT_BINARY=$(abspath $(BIN)) tests/systemd/run.sh
