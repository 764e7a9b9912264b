// rt-stage: rt's C stage (libcontainer/nsenter) as a program of its own,
// for `rt exec`. rt exec's C stage joins the container's cgroups and
// namespaces, forks into its pid namespace, applies the process plan and
// execs the process: it never needs the Go runtime. Built static against
// musl (see the Makefile), it starts in ~0.4 ms where rt's own binary,
// linked with glibc, takes ~1.1 ms (glibc's start-up detects the CPU's
// features and caches with some 80 `cpuid` instructions, each a trap to the
// hypervisor in a VM). rt embeds it (libcontainer/stagebin) and runs it
// from a sealed memfd.
//
// The stage is nsenter.c's constructor, rt_nsenter: it has run, and in
// plan mode never returned, before main. main runs only when this program
// was started some other way.
#include <stdio.h>

int main(void)
{
	fputs("rt-stage: rt's C stage for rt exec; not a command\n", stderr);
	return 1;
}
