/* The process plan: a flat description of the container's final process,
 * computed by the parent (rt, on the host, in Go: initproto/plan.go) and
 * applied here in C, so that no Go runtime has to start inside the
 * container. The parent resolves everything it can (capability names to
 * masks, the seccomp profile to BPF, rlimit/scheduler/personality names to
 * numbers); what needs the container's own filesystem (HOME from its
 * /etc/passwd, the PATH lookup, chdir) is done here, inside it.
 *
 * Wire format (payload of an RT_MSG_PLAN frame): records, each a tag byte,
 * a u32 little-endian length and that many bytes. Integers are little
 * endian; strings carry their terminating NUL (and no other), so that the
 * decoded plan points into the buffer. An unknown tag, a record of the
 * wrong size or a repeated single record is an error: nothing the parent
 * asks for is ignored. initproto/plan.go documents every tag. */
#ifndef RT_NSENTER_PLAN_H
#define RT_NSENTER_PLAN_H

#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/filter.h>

#define RT_MAX_PLAN (64 << 20)
#define RT_PLAN_MAX_CAP 63
#define RT_CAP_NAMES 41
extern const char *const rt_cap_names[RT_CAP_NAMES];

struct rt_plan_rlimit {
	uint32_t resource;
	uint64_t soft, hard;
	const char *name; /* "RLIMIT_NOFILE", for messages */
};

struct rt_plan_sched {
	uint32_t policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
	const char *name; /* "SCHED_FIFO", for messages */
};

struct rt_plan {
	char **argv; /* NULL-terminated, at least one element */
	char **env;  /* NULL-terminated; rt_plan_home may add HOME */
	size_t envc;
	const char *cwd; /* absolute, inside the container */
	uint32_t uid, gid;
	uint32_t *groups;
	size_t ngroups;
	uint32_t umask; /* 022 when the config gives none */

	/* Capabilities: has_caps == 0 leaves them as they are (the parent
	 * could not resolve an empty set: never happens for rt's configs). */
	int has_caps;
	int last_cap; /* the kernel's cap_last_cap, read by the parent */
	uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable;
	uint8_t ambient[RT_PLAN_MAX_CAP + 1]; /* in the config's order */
	int nambient;

	int no_new_privs;

	/* Seccomp, compiled by the parent: NULL filter means none. */
	struct sock_filter *filter;
	unsigned short filter_len;
	uint32_t seccomp_flags;
	int seccomp_notify; /* SECCOMP_FILTER_FLAG_NEW_LISTENER in flags */

	const char *apparmor; /* NULL: none */

	struct rt_plan_rlimit *rlimits;
	size_t nrlimits;
	int has_sched;
	struct rt_plan_sched sched;
	int has_ioprio;
	uint32_t ioprio; /* class << 13 | priority */
	int has_personality;
	uint32_t personality;
	int has_mempolicy;
	uint32_t mpol_mode; /* mode | mode flags */
	unsigned long *mpol_nodes;
	size_t mpol_nnodes;
	uint32_t mpol_maxnode;

	/* Final CPU affinity: has_affinity == 0 leaves it as it is (exec's
	 * execCPUAffinity.initial without a final); else the mask (all ones:
	 * every CPU of the cpuset, runc's reset). */
	int has_affinity;
	unsigned char *affinity;
	size_t affinity_len;

	uint32_t preserve_fds;
	int terminal;
	int has_console_size;
	uint16_t console_rows, console_cols;
	const char *keyring; /* session keyring to join ("_ses.<id>"); NULL: none */
	int late_cgroup;     /* exec into a paused container: ask to join last */

	/* Filled by rt_plan_lookup: the executable to execve. */
	const char *path;

	/* Not encoded; set by the caller before rt_plan_exec: where a failure
	 * is reported. err_sock >= 0: an RT_MSG_ERROR frame there (the parent
	 * listens); else the text goes to err_fifo (if >= 0, create's exec
	 * fifo after Ready) and to stderr prefixed "rt init: ". */
	int err_sock;
	int err_fifo;
	/* Not encoded; set by the caller: run after AppArmor and before the
	 * last seccomp filter and execve, as the process will run (create's
	 * startContainer hooks, pid1.c). Returns 0, or -1 with rt_plan_errmsg
	 * set. NULL: nothing. */
	int (*before_exec)(const struct rt_plan *p);
	/* Not encoded; set by rt_plan_bounding: rt_plan_exec drops nothing
	 * from the bounding set again. */
	int bounding_dropped;

	/* Allocations owned by the plan (rt_plan_free). */
	void *alloc;
};

/* rt_open opens path (no O_CREAT) with one openat system call: musl's
 * open() follows an O_CLOEXEC open with fcntl(F_SETFD), for kernels older
 * than 2.6.23: one more system call for each open of the C stage. */
static inline int rt_open(const char *path, int flags)
{
	return (int)syscall(SYS_openat, AT_FDCWD, path, flags, 0);
}

/* rt_plan_parse decodes buf (len bytes, the payload of RT_MSG_PLAN) into out.
 * buf must stay alive and unchanged while out is used. Returns 0, or -1 with
 * a message in rt_plan_errmsg (out is then freed). */
int rt_plan_parse(const char *buf, size_t len, struct rt_plan *out);
void rt_plan_free(struct rt_plan *p);

/* The last error of a helper below (or of the parser). */
extern char rt_plan_errmsg[1024];

/* Prep helpers, each returns 0 or -1 with rt_plan_errmsg set. In the order
 * rt's exec path calls them (create's pid 1 may interleave its own steps):
 *   rt_plan_console or rt_plan_setsid, rt_plan_keyring, rt_plan_home,
 *   rt_plan_seccomp_notify, rt_plan_rlimits, rt_plan_sched, rt_plan_ioprio,
 *   rt_plan_personality, rt_plan_mempolicy, rt_plan_chdir, rt_plan_lookup. */
int rt_plan_console(const struct rt_plan *p, int consock); /* pty: master to consock; slave = 0,1,2 + ctty */
int rt_plan_setsid(const struct rt_plan *p);
int rt_plan_keyring(const struct rt_plan *p);
int rt_plan_home(struct rt_plan *p); /* HOME from /etc/passwd (or "/") unless env has one */
/* Installs a notify filter now and hands its fd to the parent on sock
 * (RT_MSG_SECCOMP with SCM_RIGHTS, waits for RT_MSG_SECCOMPOK); the applier
 * then installs nothing. A no-op without a notify filter. */
int rt_plan_seccomp_notify(struct rt_plan *p, int sock);
int rt_plan_rlimits(const struct rt_plan *p);
int rt_plan_sched(const struct rt_plan *p);
int rt_plan_ioprio(const struct rt_plan *p);
int rt_plan_personality(const struct rt_plan *p);
int rt_plan_mempolicy(const struct rt_plan *p);
int rt_plan_chdir(const struct rt_plan *p); /* chdir(cwd) + getcwd check (CVE-2024-21626) */
int rt_plan_lookup(struct rt_plan *p);      /* PATH lookup of argv[0] with the plan's env */

/* rt_plan_bounding drops from the bounding set the capabilities the plan
 * leaves out (nothing without has_caps, or done already). rt_plan_exec
 * does it if nobody did; create's pid 1 does it before Ready, as runc's
 * init drops its capabilities before it waits for start. Returns 0 or -1
 * with rt_plan_errmsg set. */
int rt_plan_bounding(struct rt_plan *p);

/* rt_plan_fail reports rt_plan_errmsg as p->err_sock/err_fifo say and
 * exits 1. */
void rt_plan_fail(const struct rt_plan *p) __attribute__((noreturn));

/* rt_plan_exec applies the final steps, in the order of rt's Go init
 * (finalExec): close_range(3 + preserve_fds, CLOEXEC), CPU affinity,
 * bounding set, seccomp if !no_new_privs, setgroups/setresgid/setresuid
 * with PR_SET_KEEPCAPS, capset + ambient, umask, no_new_privs, AppArmor,
 * seccomp if no_new_privs, execve(p->path). Never returns: a failure is
 * reported with rt_plan_fail. Needs rt_plan_lookup done. */
void rt_plan_exec(const struct rt_plan *p) __attribute__((noreturn));

/* The one byte and frame I/O of the C stage (plan.c; nsenter.c and pid1.c
 * use it too): whole buffers across short reads/writes and EINTR; a read
 * that meets EOF fails with EPIPE; a frame's fd goes with its first byte. */
int rt_write_all(int fd, const void *buf, size_t n);
int rt_read_all(int fd, void *buf, size_t len);
int rt_send_frame_fd(int sock, char type, const void *payload, uint32_t len, int fd);
int rt_recv_header(int sock, char *type, uint32_t *len);
/* rt_format_error writes fmt's message into buf (size > 64), followed by
 * ": strerror(err)" when err is not 0, and returns its length. */
int rt_format_error(char *buf, size_t size, int err, const char *fmt, va_list ap);
/* rt_log and rt_log_close are in nsenter.c. rt_log_close closes the log
 * pipe: rt_log writes nothing after it. */
void rt_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rt_log_close(void);

#endif
