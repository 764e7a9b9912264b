// rt's pre-runtime stage. It runs as a constructor before the Go runtime
// starts, in the re-executed `rt init`, while the process is still
// single-threaded: only then can it setns(2) into user and mount namespaces
// and unshare + fork into a new PID namespace. It does nothing unless the
// environment carries _RT_INITPIPE (one getenv on every other rt command).
//
// Protocol over the init socket (a SOCK_STREAM socketpair with the parent),
// defined in libcontainer/initproto; the type bytes are in proto.h. Every
// message is a frame: type byte, u32 little-endian length, payload.
//   parent -> child : RT_MSG_BOOTSTRAP, payload: NUL-terminated records
//                     "c<cloneflags>", "j<nstype>:<path>",
//                     "t<clockid>:<secs>:<nsecs>", "d" (set non-dumpable),
//                     "l" (late cgroup placement), "x" (plan mode),
//                     "p" (create: the container's init stays C, see pid1.c).
//   parent -> child : RT_MSG_CGROUPOK once it has placed the child in its
//                     cgroups. The parent does that while the child execs,
//                     loads and enters namespaces; the child waits for it
//                     only before it unshares its cgroup namespace and
//                     forks. With "l" (exec into a paused container) it
//                     never comes: the Go init asks to be placed last.
//   child  -> parent: RT_MSG_USERMAPS when it needs its uid/gid maps
//                     written (the parent answers RT_MSG_MAPSOK); then
//                     RT_MSG_PID + u32 pid of the process that returns
//                     into Go (the container's init).
//   parent -> child : RT_MSG_PLAN (plan mode, "x": rt exec): the process
//                     to run. The child never returns into Go: it applies
//                     the plan (plan.c) and execs it, or sends an error.
//   Errors: RT_MSG_ERROR + message, after which the child exits 1.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plan.h"
#include "pid1.h"
#include "proto.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

static int initfd = -1;
/* The log pipe to the parent (_RT_LOGPIPE) and whether it wants debug
 * lines (_RT_LOGLEVEL): see libcontainer/logs.go. */
static int logfd = -1;
static int logdebug = 0;
static int got_cgroup_ack = 0;

static void bail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* wait_for reads (empty) frames from the parent until `want` arrives,
 * remembering a RT_MSG_CGROUPOK (cgroup placement done) that comes first. */
static void wait_for(char want);

/* write_log sends one log line to the parent: a JSON object with the
 * level and the message, as the Go part of the init writes them. */
static void write_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void write_log(const char *level, const char *fmt, ...)
{
	if (logfd < 0)
		return;
	char msg[512], out[1400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	int n = snprintf(out, sizeof(out), "{\"level\":\"%s\",\"msg\":\"", level);
	if (n < 0 || (size_t)n >= sizeof(out) / 2)
		return;
	for (const char *p = msg; *p && (size_t)n < sizeof(out) - 10; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c < 0x20) {
			n += snprintf(out + n, sizeof(out) - (size_t)n, "\\u%04x", c);
		} else {
			out[n++] = (char)c;
		}
	}
	memcpy(out + n, "\"}\n", 3);
	rt_write_all(logfd, out, (size_t)n + 3);
}

void rt_log_close(void)
{
	if (logfd >= 0)
		close(logfd);
	logfd = -1;
}

void rt_log(const char *level, const char *fmt, ...)
{
	if (logfd < 0)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	write_log(level, "%s", msg);
}

#define log_debug(...)                              \
	do {                                        \
		if (logdebug)                       \
			write_log("debug", __VA_ARGS__); \
	} while (0)

/* send_frame writes one frame of the init protocol. */
static int send_frame(char type, const void *payload, uint32_t len)
{
	return rt_send_frame_fd(initfd, type, payload, len, -1);
}

static void bail(const char *fmt, ...)
{
	char msg[1024];
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	int n = rt_format_error(msg, sizeof(msg), saved, fmt, ap);
	va_end(ap);
	if (initfd >= 0)
		send_frame(RT_MSG_ERROR, msg, (uint32_t)n);
	_exit(1);
}

static void wait_for(char want)
{
	if (want == RT_MSG_CGROUPOK && got_cgroup_ack)
		return;
	for (;;) {
		char c;
		uint32_t len;
		if (rt_recv_header(initfd, &c, &len) < 0)
			bail("read from parent while waiting for '%c'", want);
		errno = 0;
		if (len != 0)
			bail("message '%c' from parent with a payload of %u bytes", c, len);
		if (c == RT_MSG_CGROUPOK)
			got_cgroup_ack = 1;
		if (c == want)
			return;
		if (c != RT_MSG_CGROUPOK)
			bail("unexpected message 0x%02x from parent while waiting for '%c'", (unsigned char)c, want);
	}
}

static const char *nsname(int t)
{
	switch (t) {
	case CLONE_NEWUSER: return "user";
	case CLONE_NEWNS: return "mnt";
	case CLONE_NEWPID: return "pid";
	case CLONE_NEWNET: return "net";
	case CLONE_NEWIPC: return "ipc";
	case CLONE_NEWUTS: return "uts";
	case CLONE_NEWCGROUP: return "cgroup";
	case CLONE_NEWTIME: return "time";
	}
	return "?";
}

struct join {
	int type;
	const char *path;
};

#define MAX_JOIN RT_MAX_JOIN
#define MAX_TIME RT_MAX_TIME

static void join_namespaces(struct join *joins, int njoin, int usertype)
{
	// The user namespace first (it grants the rights for the others),
	// then the rest in the given order. Open every path before the first
	// setns: after joining a mount namespace the paths may not resolve.
	int fds[MAX_JOIN];
	for (int i = 0; i < njoin; i++) {
		fds[i] = rt_open(joins[i].path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			bail("open %s namespace path %s", nsname(joins[i].type), joins[i].path);
	}
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < njoin; i++) {
			int isuser = joins[i].type == usertype;
			if ((pass == 0) != isuser)
				continue;
			if (setns(fds[i], joins[i].type) < 0)
				bail("setns %s namespace %s", nsname(joins[i].type), joins[i].path);
			log_debug("nsenter: joined the %s namespace %s", nsname(joins[i].type), joins[i].path);
			close(fds[i]);
		}
	}
}

static void write_file(const char *path, const char *data)
{
	int fd = rt_open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		bail("open %s", path);
	if (rt_write_all(fd, data, strlen(data)) < 0)
		bail("write %s", path);
	close(fd);
}

/* run_plan is `rt exec`'s process after the namespaces: it reads the plan,
 * does the exec-only preparation and applies it (plan.c). No Go runtime
 * ever starts inside the container. */
static void run_plan(void) __attribute__((noreturn));
static void run_plan(void)
{
	char type;
	uint32_t len;
	// Until execve the init socket and the log pipe are ours only.
	fcntl(initfd, F_SETFD, FD_CLOEXEC);
	if (logfd >= 0)
		fcntl(logfd, F_SETFD, FD_CLOEXEC);
	if (rt_recv_header(initfd, &type, &len) < 0)
		bail("read plan");
	errno = 0;
	if (type != RT_MSG_PLAN)
		bail("expected plan, got message 0x%02x", (unsigned char)type);
	if (len == 0 || len > RT_MAX_PLAN)
		bail("bad plan length %u", len);
	char *buf = malloc(len);
	if (buf == NULL)
		bail("malloc plan");
	if (rt_read_all(initfd, buf, len) < 0)
		bail("read plan");
	struct rt_plan p;
	if (rt_plan_parse(buf, len, &p) < 0) {
		errno = 0; // rt_plan_errmsg is the whole message
		bail("%s", rt_plan_errmsg);
	}
	p.err_sock = initfd;
	log_debug("nsenter: plan received (pid %d)", (int)getpid());
	const char *cenv = getenv("_RT_CONSOLEFD");
	int consock = cenv != NULL ? atoi(cenv) : -1;
	// The steps of the former Go init's exec path, in its order.
	if (p.terminal ? rt_plan_console(&p, consock) : rt_plan_setsid(&p))
		rt_plan_fail(&p);
	if (consock >= 3 && !p.terminal)
		close(consock);
	if (rt_plan_keyring(&p) || rt_plan_home(&p) || rt_plan_seccomp_notify(&p, initfd) ||
	    rt_plan_rlimits(&p) || rt_plan_sched(&p) || rt_plan_ioprio(&p) || rt_plan_personality(&p) ||
	    rt_plan_mempolicy(&p) || rt_plan_chdir(&p) || rt_plan_lookup(&p))
		rt_plan_fail(&p);
	// rt exec gone (killed by its caller's timeout, say) while we got
	// ready: the plan was still in the socket, but nobody waits for the
	// process any more; do not start it. (The parent keeps its end open
	// until the execve, or until the late join below.)
	struct pollfd gone = {.fd = initfd, .events = 0};
	if (poll(&gone, 1, 0) > 0 && (gone.revents & (POLLHUP | POLLERR)))
		_exit(1);
	if (p.late_cgroup) {
		// Into the (frozen) cgroup last: the process freezes there and
		// execs on resume, so the parent must not wait for log lines.
		if (logfd >= 0)
			close(logfd);
		logfd = -1;
		if (send_frame(RT_MSG_JOIN, NULL, 0) < 0)
			bail("ask to join the cgroup");
		wait_for(RT_MSG_JOINED);
	}
	log_debug("nsenter: exec %s", p.path);
	rt_plan_exec(&p);
}

/* The timer slack rt was started with, when the constructor made rt's own
 * coarser (coarse_timerslack below); -1 otherwise. */
long rt_timerslack_orig = -1;

/* Defined (in ns) by the rt command only (cmd/rt): test binaries and other
 * programs that link this package leave their timer slack alone. */
extern long rt_coarse_timerslack __attribute__((weak));

/* coarse_timerslack gives rt's own process (not `rt init`) a coarse timer
 * slack before the Go runtime starts, so that every thread of it has it:
 * the runtime's sysmon thread, which sleeps 20 us at a time while another
 * thread runs or waits in a syscall (most of a `run`), then wakes about
 * 10 times per `run` instead of ~70. The children rt starts get the
 * original slack back (nsenter.WithChildTimerSlack). Only a larger slack is
 * set, and not over a slack of 0 (a real-time task's). */
static void coarse_timerslack(void)
{
	if (&rt_coarse_timerslack == NULL || rt_coarse_timerslack <= 0)
		return;
	int cur = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if (cur <= 0 || cur >= rt_coarse_timerslack)
		return;
	if (prctl(PR_SET_TIMERSLACK, (unsigned long)rt_coarse_timerslack, 0, 0, 0) == 0)
		rt_timerslack_orig = cur;
}

void rt_nsenter(void) __attribute__((constructor));
void rt_nsenter(void)
{
	// rt's idmapped mounts need user namespaces with given mappings: rt
	// starts itself in a new one (mappings written by Go's os/exec) and
	// this process holds it until its stdin is closed.
	if (getenv("_RT_USERNS_HOLD") != NULL) {
		char c;
		while (read(0, &c, 1) > 0)
			;
		_exit(0);
	}
	const char *env = getenv("_RT_INITPIPE");
	if (env == NULL || *env == '\0') {
		coarse_timerslack();
		return;
	}
	initfd = atoi(env);
	if (initfd < 3)
		return;
	const char *logenv = getenv("_RT_LOGPIPE");
	if (logenv != NULL && atoi(logenv) >= 3) {
		logfd = atoi(logenv);
		const char *level = getenv("_RT_LOGLEVEL");
		logdebug = level != NULL && (strcmp(level, "debug") == 0 || strcmp(level, "trace") == 0);
	}

	uint32_t len;
	char type;
	if (rt_recv_header(initfd, &type, &len) < 0)
		bail("read bootstrap");
	errno = 0;
	if (type != RT_MSG_BOOTSTRAP)
		bail("expected bootstrap, got message 0x%02x", (unsigned char)type);
	if (len == 0 || len > RT_MAX_BOOTSTRAP)
		bail("bad bootstrap length %u", len);
	char *buf = malloc(len + 1);
	if (buf == NULL)
		bail("malloc bootstrap");
	if (rt_read_all(initfd, buf, len) < 0)
		bail("read bootstrap");
	buf[len] = '\0';

	unsigned long cloneflags = 0;
	int nondumpable = 0;
	int late_cgroup = 0;
	int plan_mode = 0;
	int pid1 = 0;
	int setup_in_c = 0;
	struct join joins[MAX_JOIN];
	int njoin = 0;
	char timeoffs[MAX_TIME][96];
	int ntime = 0;
	const char *cgtasks[RT_MAX_CGROUP_TASKS];
	int ncgtasks = 0;
	for (char *p = buf; p < buf + len; p += strlen(p) + 1) {
		switch (p[0]) {
		case 'c':
			cloneflags = strtoul(p + 1, NULL, 10);
			break;
		case 'd':
			nondumpable = 1;
			break;
		case 'x':
			plan_mode = 1;
			break;
		case 'p':
			// The container's init stays in C (pid1.c): it forks the
			// process that returns into Go for the set-up.
			pid1 = 1;
			break;
		case 'm':
			// With "p": no set-up child, the init applies a SetupPlan.
			setup_in_c = 1;
			break;
		case 'l':
			// Late cgroup placement (exec into a paused container): the
			// parent moves the process just before it execs.
			late_cgroup = 1;
			break;
		case 'j': {
			char *colon = strchr(p + 1, ':');
			if (colon == NULL || njoin == MAX_JOIN)
				bail("bad bootstrap record %s", p);
			*colon = '\0';
			joins[njoin].type = (int)strtol(p + 1, NULL, 10);
			joins[njoin].path = colon + 1;
			njoin++;
			break;
		}
		case 'g':
			if (ncgtasks == RT_MAX_CGROUP_TASKS)
				bail("too many cgroup tasks files");
			cgtasks[ncgtasks++] = p + 1;
			break;
		case 't': {
			if (ntime == MAX_TIME)
				bail("too many time offsets");
			// "t<clockid>:<secs>:<nsecs>" -> "<clockid> <secs> <nsecs>"
			snprintf(timeoffs[ntime], sizeof(timeoffs[ntime]), "%s", p + 1);
			for (char *q = timeoffs[ntime]; *q; q++)
				if (*q == ':')
					*q = ' ';
			ntime++;
			break;
		}
		}
	}

	log_debug("nsenter: bootstrap: clone flags 0x%lx, %d namespace(s) to join, %d time offset(s)%s",
		  cloneflags, njoin, ntime, late_cgroup ? ", late cgroup placement" : "");
	// Move ourselves into the container's cgroup v1 hierarchies, before
	// any namespace is joined (host paths, host credentials): "0" in a
	// `tasks` file moves the writing thread, and we are one thread. The
	// kernel moves the current thread without the global write lock a
	// move of another process takes (cgroup_threadgroup_rwsem), whose
	// RCU grace period cost a parent's cgroup.procs write 5-15 ms.
	for (int i = 0; i < ncgtasks; i++) {
		int fd = rt_open(cgtasks[i], O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			bail("join cgroup: open %s", cgtasks[i]);
		if (rt_write_all(fd, "0", 1) < 0)
			bail("join cgroup: write %s", cgtasks[i]);
		close(fd);
	}
	if (ncgtasks > 0)
		log_debug("nsenter: joined %d cgroup v1 hierarchies", ncgtasks);
	// From here on the process enters namespaces that the container may
	// control: nobody there may ptrace it or read its /proc entries.
	if (nondumpable && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		bail("prctl PR_SET_DUMPABLE");

	int needfork = (cloneflags & (CLONE_NEWPID | CLONE_NEWTIME)) != 0;
	for (int i = 0; i < njoin; i++)
		if (joins[i].type == CLONE_NEWPID || joins[i].type == CLONE_NEWTIME)
			needfork = 1;

	join_namespaces(joins, njoin, CLONE_NEWUSER);

	if (cloneflags & CLONE_NEWUSER) {
		if (unshare(CLONE_NEWUSER) < 0)
			bail("unshare user namespace");
		// Ask the parent for the uid/gid maps and wait for them. An
		// unprivileged (rootless) parent can write them only while we
		// are dumpable: nothing of the container can reach us yet (no
		// other namespace entered), so allow it for that moment.
		if (nondumpable && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
			bail("prctl PR_SET_DUMPABLE");
		if (send_frame(RT_MSG_USERMAPS, NULL, 0) < 0)
			bail("ask parent for user namespace maps");
		wait_for(RT_MSG_MAPSOK);
		if (nondumpable && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
			bail("prctl PR_SET_DUMPABLE");
	}
	if (njoin > 0 || (cloneflags & CLONE_NEWUSER)) {
		// Become root of the (new or joined) user namespace, if mapped.
		int joineduser = 0;
		for (int i = 0; i < njoin; i++)
			if (joins[i].type == CLONE_NEWUSER)
				joineduser = 1;
		if (joineduser || (cloneflags & CLONE_NEWUSER)) {
			if (setresgid(0, 0, 0) < 0)
				bail("setresgid to root of user namespace");
			if (setresuid(0, 0, 0) < 0)
				bail("setresuid to root of user namespace");
		}
	}

	unsigned long rest = cloneflags & ~(unsigned long)(CLONE_NEWUSER | CLONE_NEWCGROUP);
	if (rest && unshare((int)rest) < 0)
		bail("unshare namespaces 0x%lx", rest);
	if (rest)
		log_debug("nsenter: unshared namespaces 0x%lx", rest);

	// From here on, what we create must be inside the container's cgroups
	// (unless the parent places the process itself, later).
	if (!late_cgroup)
		wait_for(RT_MSG_CGROUPOK);
	if ((cloneflags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
		bail("unshare cgroup namespace");

	// Non-dumpable, our /proc files belong to the host's root, which a
	// process of a new user namespace is not: allow the write for that
	// moment (as for the maps above; no process of the container exists
	// yet, and none enters the time namespace before we fork).
	if (ntime > 0 && nondumpable && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		bail("prctl PR_SET_DUMPABLE");
	for (int i = 0; i < ntime; i++)
		write_file("/proc/self/timens_offsets", timeoffs[i]);
	if (ntime > 0 && nondumpable && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		bail("prctl PR_SET_DUMPABLE");

	if (needfork) {
		// Plan mode: the plan may already wait in the socket, and the
		// child's first request (its seccomp notify fd, a late cgroup
		// join) must not reach the parent before its pid does: the child
		// waits until this process has sent it and exited (the pipe's
		// write end closes).
		int order[2] = {-1, -1};
		if (plan_mode && pipe2(order, O_CLOEXEC) < 0)
			bail("pipe");
		pid_t child = fork();
		if (child < 0)
			bail("fork into pid namespace");
		if (child > 0) {
			uint32_t pid = (uint32_t)child;
			log_debug("nsenter: forked the container's init into its pid namespace: host pid %d", (int)child);
			if (send_frame(RT_MSG_PID, &pid, 4) < 0)
				_exit(1);
			// The go-ahead (a byte, not only the pipe's end: an
			// unsent pid must stop the child, whose plan may
			// already wait in the socket).
			if (plan_mode && write(order[1], "p", 1) != 1)
				_exit(1);
			_exit(0);
		}
		if (plan_mode) {
			char c;
			ssize_t r;
			close(order[1]);
			while ((r = read(order[0], &c, 1)) < 0 && errno == EINTR)
				;
			close(order[0]);
			if (r != 1)
				_exit(1); /* the pid was not sent: rt knows nothing of us */
		}
		// The container's init: a change of credentials above (setresuid
		// into the user namespace) resets the dumpable flag to
		// fs.suid_dumpable: make sure it stays non-dumpable whatever that is.
		if (nondumpable)
			prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	} else {
		uint32_t pid = (uint32_t)getpid();
		if (send_frame(RT_MSG_PID, &pid, 4) < 0)
			bail("send pid");
	}
	free(buf);
	if (plan_mode)
		run_plan();
	if (pid1)
		rt_pid1(initfd, setup_in_c); /* returns only in the set-up child */
	log_debug("nsenter: done, pid %d enters the Go runtime", (int)getpid());
	// Return into the Go runtime: rt init takes over.
}
