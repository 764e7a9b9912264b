// The container's init for `rt create` stays a C process: it never starts
// the Go runtime. Called by the C stage (nsenter.c) in the process that
// would otherwise return into Go as the container's init, when the
// bootstrap has the "p" record:
//
//   1. read the process plan (RT_MSG_PLAN, the frame after RT_MSG_PID);
//   2. fork ONE set-up child, which returns into Go (`rt init`) and does
//      what is done once per container: mounts, pivot_root, devices,
//      console pty, hostname, sysctls, masked/read-only paths, the
//      createContainer hooks. It hands this process the new root and the
//      pty slave (RT_MSG_SETUPDONE with SCM_RIGHTS on a private socket),
//      then exits: its Go heap, threads and stacks are gone before the
//      container is reported created;
//   3. meanwhile wait for it, bounded by the parent: if the parent's end of
//      the init socket closes (rt create killed), kill the set-up child and
//      exit;
//   4. per-process steps: the container's root (fchdir + chroot: pivot_root
//      moves only the root of processes whose root was the old root, and
//      with --no-pivot or without a mount namespace nothing moves it),
//      /dev/null for stdio, the pty as controlling terminal or a session of
//      its own, keyring, HOME, the seccomp notify listener (its fd goes to
//      the parent), rlimits, scheduler, I/O priority, personality, memory
//      policy, cwd, PATH lookup: the plan's helpers (plan.c);
//   5. RT_MSG_READY, close the log pipe and the init socket; wait on the
//      exec fifo; then the plan's applier (credentials, capabilities,
//      seccomp, execve). Errors after Ready go to the fifo (`rt start`
//      prints them) and to stderr.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "pid1.h"
#include "plan.h"
#include "proto.h"
#include "setup.h"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

/* In the set-up child: its end of the private socket to pid 1 (read by Go,
 * nsenter.SetupSock). -1 in every other process. */
int rt_setup_sock = -1;

/* The set-up child, until reaped. */
static pid_t setup_pid = -1;
static int setup_pidfd = -1;

/* die reports rt_plan_errmsg as the plan says and exits; a set-up child
 * still there goes too (without a pid namespace nothing else kills it). */
static void die(const struct rt_plan *p) __attribute__((noreturn));
static void die(const struct rt_plan *p)
{
	if (setup_pid > 0)
		kill(setup_pid, SIGKILL);
	rt_plan_fail(p);
}

/* fail reports a failure of pid 1 as the plan says (an error frame while
 * the parent listens, the exec fifo and stderr after Ready) and exits. */
static void fail(const struct rt_plan *p, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
static void fail(const struct rt_plan *p, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	rt_format_error(rt_plan_errmsg, sizeof(rt_plan_errmsg), saved, fmt, ap);
	va_end(ap);
	die(p);
}

/* Ends pid 1 on the signals that ended rt's Go init while created (the Go
 * runtime exits on SIGHUP, SIGINT, SIGTERM, and with a dump on SIGQUIT,
 * SIGABRT, SIGTRAP, SIGSTKFLT, SIGSYS): as the init of a pid namespace, a
 * process without a handler would not even see them. The handlers go away
 * at execve (caught signals are reset to their default). */
static void on_signal(int sig)
{
	_exit(128 + sig);
}

static void on_ignored_signal(int sig)
{
	(void)sig;
}

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}


/* parent_gone: the parent's end of the init socket closed (rt create was
 * killed): kill the set-up child and exit. */
static void parent_gone(void) __attribute__((noreturn));
static void parent_gone(void)
{
	kill(setup_pid, SIGKILL);
	waitpid(setup_pid, NULL, 0);
	_exit(1);
}

/* setup_failed reports a set-up child that ended without handing over. It
 * has sent its own error frame to the parent, which stops reading at the
 * first one: this one matters only if it died without a word (killed). */
static void setup_failed(const struct rt_plan *p, int status) __attribute__((noreturn));
static void setup_failed(const struct rt_plan *p, int status)
{
	setup_pid = -1; /* reaped */
	errno = 0;
	if (WIFSIGNALED(status))
		fail(p, "container set-up process killed by signal %d", WTERMSIG(status));
	fail(p, "container set-up process exited with status %d", WEXITSTATUS(status));
}

/* wait_setup waits for the set-up child's RT_MSG_SETUPDONE on sock and its
 * fds (the root, then the pty slave if any). The wait ends if the parent
 * goes away, or if the child exits without handing over. Returns the
 * number of fds received (at least 1). */
static int wait_setup(const struct rt_plan *p, int initfd, int sock, int fds[2])
{
	for (;;) {
		struct pollfd pfd[3] = {
			{.fd = initfd, .events = 0}, /* only POLLHUP/POLLERR: the parent is gone */
			{.fd = sock, .events = POLLIN},
			{.fd = setup_pidfd, .events = POLLIN},
		};
		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			fail(p, "wait for the set-up process");
		}
		if (pfd[0].revents & (POLLHUP | POLLERR))
			parent_gone();
		if (pfd[1].revents)
			break;
		if (pfd[2].revents) {
			int status = 0;
			waitpid(setup_pid, &status, 0);
			setup_failed(p, status);
		}
	}
	char hdr[RT_FRAME_HEADER];
	char cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = {.iov_base = hdr, .iov_len = sizeof(hdr)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	ssize_t n;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	int nfds = 0;
	if (n > 0) {
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			for (int i = 0; i < k; i++) {
				int fd;
				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				if (nfds < 2)
					fds[nfds++] = fd;
				else
					close(fd);
			}
		}
		if (n < (ssize_t)sizeof(hdr) && rt_read_all(sock, hdr + n, sizeof(hdr) - (size_t)n) < 0)
			n = -1;
	}
	close(sock);
	if (n <= 0) {
		/* EOF: the child gave up (or died) without handing over. */
		int status = 0;
		waitpid(setup_pid, &status, 0);
		setup_failed(p, status);
	}
	if (mh.msg_flags & MSG_CTRUNC || hdr[0] != RT_MSG_SETUPDONE || nfds < 1) {
		errno = 0;
		fail(p, "bad message from the set-up process");
	}
	return nfds;
}

/* reap_setup waits for the set-up child to be gone (it exits right after
 * handing over; pid 1 meanwhile did its own steps), so that its memory is
 * no longer the container's when create returns, and it is no zombie child
 * of the container's process. */
static void reap_setup(const struct rt_plan *p, int initfd)
{
	for (;;) {
		struct pollfd pfd[2] = {{.fd = initfd, .events = 0}, {.fd = setup_pidfd, .events = POLLIN}};
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fail(p, "wait for the set-up process");
		}
		if (pfd[0].revents & (POLLHUP | POLLERR))
			parent_gone();
		if (pfd[1].revents)
			break;
	}
	int status = 0;
	if (waitpid(setup_pid, &status, 0) < 0)
		fail(p, "wait for the set-up process %d", (int)setup_pid);
	setup_pid = -1;
	close(setup_pidfd);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		setup_failed(p, status);
}

/* reopen_devnull gives stdio fds that are the host's /dev/null the
 * container's (as runc's init does: CRIU cannot dump a file of a mount
 * outside the container, and engines hand detached containers /dev/null). */
static void reopen_devnull(const struct rt_plan *p)
{
	int nfd = rt_open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nfd < 0)
		return; /* no /dev/null in the container: nothing to swap in */
	struct stat null;
	if (fstat(nfd, &null) < 0 || !S_ISCHR(null.st_mode)) {
		close(nfd);
		return;
	}
	for (int fd = 0; fd < 3; fd++) {
		struct stat st;
		if (fstat(fd, &st) < 0)
			continue;
		if (S_ISCHR(st.st_mode) && st.st_rdev == null.st_rdev && dup3(nfd, fd, 0) < 0)
			fail(p, "reopen /dev/null as fd %d", fd);
	}
	close(nfd);
}

static void step(const struct rt_plan *p, int rc)
{
	if (rc < 0)
		die(p);
}

/* read_setup reads the SetupPlan frame (after the plan and the start
 * hooks) and applies it: the container's set-up without a set-up child. */
static void read_setup(const struct rt_plan *p, int initfd)
{
	char type;
	uint32_t len;
	if (rt_recv_header(initfd, &type, &len) < 0)
		fail(p, "read the set-up");
	errno = 0;
	if (type != RT_MSG_SETUPPLAN)
		fail(p, "expected the set-up, got message 0x%02x", (unsigned char)type);
	if (len > RT_MAX_PLAN)
		fail(p, "bad set-up length %u", len);
	char *buf = malloc(len ? len : 1);
	if (buf == NULL)
		fail(p, "malloc set-up");
	if (rt_read_all(initfd, buf, len) < 0)
		fail(p, "read the set-up");
	if (rt_setup_apply(buf, len, initfd, p->env) < 0)
		die(p);
	free(buf);
	rt_log("debug", "pid1: set-up applied in C (%u bytes)", len);
}

/* fork_setup forks the Go set-up child (sp: the socket pair to it). It
 * returns 0 in the child (which goes on into Go), 1 in pid 1. */
static int fork_setup(const struct rt_plan *p, int sp[2])
{
	/* The set-up child first: its Go runtime starts while the parent
	 * records the init and sends the plan. It waits for pid 1's go-ahead
	 * (one byte on its socket) before it reads the init socket, whose next
	 * frame is the plan, pid 1's. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		fail(p, "set-up socketpair");
	pid_t child = fork();
	if (child < 0)
		fail(p, "fork the set-up process");
	if (child == 0) {
		/* The set-up child: into Go. (If pid 1 fails before its go-ahead,
		 * the child reads EOF and exits quietly.) */
		close(sp[0]);
		rt_setup_sock = sp[1];
		return 0;
	}
	close(sp[1]);
	/* The console socket is the set-up child's (it sends the pty master):
	 * pid 1 lets it go, so that the receiver sees its end (as runc). */
	const char *cenv = getenv("_RT_CONSOLEFD");
	if (cenv != NULL && atoi(cenv) >= 3)
		close(atoi(cenv));
	setup_pid = child;
	/* From here on a failure of pid 1 ends it: in a new pid namespace the
	 * kernel kills the set-up child with it, else the child reads EOF. */
	setup_pidfd = pidfd_open_(child);
	if (setup_pidfd < 0)
		fail(p, "pidfd_open of the set-up process %d", (int)child);
	rt_log("debug", "pid1: set-up process %d forked; pid 1 stays in C", (int)child);
	return 1;
}

void rt_pid1(int initfd, int setup_in_c)
{
	static struct rt_plan plan;
	plan.err_sock = initfd;
	plan.err_fifo = -1;
	int sp[2] = {-1, -1};
	if (!setup_in_c && fork_setup(&plan, sp) == 0)
		return; /* the set-up child: into Go */
	else
		rt_log("debug", "pid1: the set-up is applied by pid 1 (no set-up child)");
	struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	const int sigs[] = {SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGABRT, SIGTRAP, SIGSTKFLT, SIGSYS};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	/* The signals the Go init caught and ignored (without a pid namespace
	 * their default action would end the created container). */
	sa.sa_handler = on_ignored_signal;
	const int ign[] = {SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGIO, SIGPWR};
	for (size_t i = 0; i < sizeof(ign) / sizeof(ign[0]); i++)
		sigaction(ign[i], &sa, NULL);
	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		sigaction(sig, &sa, NULL);

	char type;
	uint32_t len;
	if (rt_recv_header(initfd, &type, &len) < 0)
		fail(&plan, "read the process plan");
	errno = 0;
	if (type != RT_MSG_PLAN)
		fail(&plan, "expected the process plan, got message 0x%02x", (unsigned char)type);
	if (len == 0 || len > RT_MAX_PLAN)
		fail(&plan, "bad process plan length %u", len);
	char *buf = malloc(len);
	if (buf == NULL)
		fail(&plan, "malloc process plan");
	if (rt_read_all(initfd, buf, len) < 0)
		fail(&plan, "read the process plan");
	if (rt_plan_parse(buf, len, &plan) < 0) {
		plan.err_sock = initfd;
		plan.err_fifo = -1;
		die(&plan);
	}
	plan.err_sock = initfd;
	plan.err_fifo = -1;
	/* startContainer hooks, if any, come right after the plan (else the
	 * next frame is the config, the set-up child's). */
	char next;
	ssize_t r;
	do
		r = recv(initfd, &next, 1, MSG_PEEK);
	while (r < 0 && errno == EINTR);
	if (r == 1 && next == RT_MSG_STARTHOOKS) {
		if (rt_recv_header(initfd, &type, &len) < 0 || len == 0 || len > RT_MAX_PLAN)
			fail(&plan, "read the startContainer hooks");
		char *hbuf = malloc(len);
		if (hbuf == NULL)
			fail(&plan, "malloc startContainer hooks");
		if (rt_read_all(initfd, hbuf, len) < 0)
			fail(&plan, "read the startContainer hooks");
		errno = 0;
		if (rt_pid1_parse_hooks(hbuf, len) < 0)
			fail(&plan, "bad startContainer hooks frame");
		plan.before_exec = rt_pid1_run_start_hooks;
	}
	int fds[2] = {-1, -1};
	int nfds;
	if (setup_in_c) {
		read_setup(&plan, initfd);
		fds[0] = rt_open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fds[0] < 0)
			fail(&plan, "open the container's root");
		nfds = 1;
	} else {
		ssize_t w;
		do
			w = write(sp[0], "g", 1);
		while (w < 0 && errno == EINTR);
		if (w != 1)
			fail(&plan, "start the set-up process");
		nfds = wait_setup(&plan, initfd, sp[0], fds);
	}
	errno = 0;
	if (plan.terminal && nfds < 2)
		fail(&plan, "process.terminal: the set-up process sent no pty");

	/* The container's root: what the set-up child has as "/". */
	if (fchdir(fds[0]) < 0)
		fail(&plan, "fchdir to the container's root");
	if (chroot(".") < 0)
		fail(&plan, "chroot to the container's root");
	if (chdir("/") < 0)
		fail(&plan, "chdir /");
	close(fds[0]);

	reopen_devnull(&plan);
	if (plan.terminal) {
		int slave = fds[1];
		if (setsid() < 0)
			fail(&plan, "setsid");
		for (int i = 0; i <= 2; i++)
			if (dup3(slave, i, 0) < 0)
				fail(&plan, "dup pty to fd %d", i);
		if (ioctl(0, TIOCSCTTY, 0) < 0)
			fail(&plan, "set controlling terminal");
		close(slave);
	} else {
		if (nfds > 1)
			close(fds[1]);
		step(&plan, rt_plan_setsid(&plan));
	}
	step(&plan, rt_plan_keyring(&plan));
	step(&plan, rt_plan_home(&plan));
	step(&plan, rt_plan_seccomp_notify(&plan, initfd));
	step(&plan, rt_plan_rlimits(&plan));
	step(&plan, rt_plan_sched(&plan));
	step(&plan, rt_plan_ioprio(&plan));
	step(&plan, rt_plan_personality(&plan));
	step(&plan, rt_plan_mempolicy(&plan));
	step(&plan, rt_plan_chdir(&plan));
	step(&plan, rt_plan_lookup(&plan));
	if (!setup_in_c)
		reap_setup(&plan, initfd);

	/* The bounding set is dropped now, while the parent listens: the
	 * created init holds no capability the container will not have in
	 * its bounding set, and start's path is shorter by one prctl for each
	 * (its createContainer hooks ran with the full set, above). */
	step(&plan, rt_plan_bounding(&plan));

	/* Ready: the parent records the container as created and exits. The
	 * log pipe closes first: the parent, woken by Ready, waits for the end
	 * of the log, and must not have to wait until this process runs again
	 * (its wake-up may have preempted us). Nothing is logged after it
	 * (the fd number may be reused). */
	rt_log("debug", "pid1: set up; waiting for start");
	rt_log_close();
	if (rt_send_frame_fd(initfd, RT_MSG_READY, NULL, 0, -1) < 0)
		fail(&plan, "send ready");
	close(initfd);
	plan.err_sock = -1;

	/* Block until `rt start` opens the fifo for reading. */
	const char *env = getenv("_RT_FIFOFD");
	int fifofd = env ? atoi(env) : -1;
	if (fifofd < 3) {
		errno = 0;
		fail(&plan, "no exec fifo");
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fifofd);
	/* The fifo is reopened through /proc/self/fd/N of the container's
	 * /proc (we took its root): without a /proc mount that is the image's
	 * own directory, where a fake /proc/self/fd/N would get our "0" and
	 * let the process run at create, before `rt start` (a write redirected
	 * by a fake /proc: CVE-2025-52881 class). So /proc must be a procfs,
	 * and what opened must be the very fifo we were given. O_NOCTTY: we
	 * lead a session, and the container controls what the path names. */
	struct statfs pfs;
	errno = 0;
	if (statfs("/proc/self/fd", &pfs) < 0 || pfs.f_type != PROC_SUPER_MAGIC)
		fail(&plan, "open exec fifo: /proc/self/fd of the container is not on procfs");
	int fifo;
	do
		fifo = rt_open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	while (fifo < 0 && errno == EINTR);
	if (fifo < 0)
		fail(&plan, "open exec fifo");
	struct stat want, got;
	errno = 0;
	if (fstat(fifofd, &want) < 0 || fstat(fifo, &got) < 0 || want.st_dev != got.st_dev || want.st_ino != got.st_ino)
		fail(&plan, "open exec fifo: %s is not the exec fifo", path);
	close(fifofd);
	plan.err_fifo = fifo;
	ssize_t n;
	do
		n = write(fifo, "0", 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		fail(&plan, "write exec fifo");
	rt_plan_exec(&plan);
}
