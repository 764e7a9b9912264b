// Signal handlers of rt's own for the signals it forwards to the process it
// waits for (package signals, catch.go). The handler only writes the
// signal's number to a pipe that a goroutine reads; errno is preserved.
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "catch.h"

static int rt_sig_pipe = -1;

static void rt_sig_handler(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	ssize_t n = write(rt_sig_pipe, &b, 1);
	(void)n; /* a full pipe drops the signal, as os/signal's full channel does */
	errno = saved;
}

/* The kernel's struct sigaction (x86_64, aarch64): libc's refuses the
 * signals the libc reserves for itself (musl: 32 to 34), and 34 is one rt
 * forwards as runc does (SIGRTMIN under glibc). */
struct rt_kernel_sigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	unsigned long mask;
};

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

#if defined(__x86_64__)
/* What every x86_64 libc's sigaction sets as the return path: rt_sigreturn. */
void rt_sig_restore(void);
__asm__(".text\n"
	".align 16\n"
	".type rt_sig_restore,@function\n"
	"rt_sig_restore:\n"
	"	mov $15, %rax\n"
	"	syscall\n"
	".size rt_sig_restore, .-rt_sig_restore\n");
#define RT_SA_RESTORER SA_RESTORER
#define RT_RESTORER rt_sig_restore
#elif defined(__aarch64__)
/* aarch64's kernel returns through the vDSO's trampoline. */
#define RT_SA_RESTORER 0
#define RT_RESTORER NULL
#else
#error "package signals: the kernel's sigaction layout of this architecture is not written down"
#endif

int rt_sig_catch(int pipe_wfd, const unsigned char *sigs, int n)
{
	struct rt_kernel_sigaction ksa;
	int i;

	rt_sig_pipe = pipe_wfd;
	memset(&ksa, 0, sizeof(ksa));
	ksa.handler = rt_sig_handler;
	/* SA_ONSTACK: the signal may arrive on a goroutine's small stack; Go
	 * gives every thread an alternate stack (os/signal's rules for C
	 * handlers). Every signal is blocked while the handler runs. */
	ksa.flags = SA_ONSTACK | SA_RESTART | RT_SA_RESTORER;
	ksa.restorer = RT_RESTORER;
	ksa.mask = ~0UL;
	for (i = 0; i < n; i++) {
		if (syscall(SYS_rt_sigaction, (int)sigs[i], &ksa, NULL, sizeof(ksa.mask)) < 0)
			return -sigs[i];
	}
	return 0;
}
