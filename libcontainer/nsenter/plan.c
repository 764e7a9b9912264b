// The process plan's decoder and applier (see plan.h and initproto/plan.go).
// Everything here runs in a single-threaded process that has no Go runtime
// (the container's process before execve), so it uses plain syscalls and
// reports errors in rt_plan_errmsg with the texts of rt's former Go init.
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>

#include "plan.h"
#include "proto.h"
#include "setup.h"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif
#define PROC_ROOT_INO 1
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif
#define KEYCTL_JOIN_SESSION_KEYRING 1

char rt_plan_errmsg[1024];

/* Go's texts of errno values are the kernel's with a lower-case first
 * letter ("no such file or directory"); rt's messages keep them. */
static const char *errstr(int e)
{
	static char buf[128];
	snprintf(buf, sizeof(buf), "%s", strerror(e));
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rt_plan_errmsg, sizeof(rt_plan_errmsg), fmt, ap);
	va_end(ap);
	return -1;
}

int rt_format_error(char *buf, size_t size, int err, const char *fmt, va_list ap)
{
	// 64 bytes kept for ": <strerror>", so that a long message still says
	// why it failed.
	int n = vsnprintf(buf, size - 64, fmt, ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > size - 64)
		n = (int)(size - 64);
	if (err)
		n += snprintf(buf + n, size - (size_t)n, ": %s", strerror(err));
	if ((size_t)n >= size)
		n = (int)(size - 1);
	return n;
}

/* ---- frames ---- */

int rt_send_frame_fd(int sock, char type, const void *payload, uint32_t len, int fd)
{
	char hdr[RT_FRAME_HEADER];
	hdr[0] = type;
	memcpy(hdr + 1, &len, 4);
	struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)payload, len}};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
	if (fd >= 0) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	size_t left = sizeof(hdr) + len;
	while (left > 0) {
		ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		left -= (size_t)n;
		// The fd went with the first bytes; move the iovecs on.
		msg.msg_control = NULL;
		msg.msg_controllen = 0;
		while (n > 0 && msg.msg_iovlen > 0) {
			size_t take = (size_t)n < msg.msg_iov->iov_len ? (size_t)n : msg.msg_iov->iov_len;
			msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + take;
			msg.msg_iov->iov_len -= take;
			n -= (ssize_t)take;
			if (msg.msg_iov->iov_len == 0) {
				msg.msg_iov++;
				msg.msg_iovlen--;
			}
		}
	}
	return 0;
}

int rt_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int rt_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int rt_recv_header(int sock, char *type, uint32_t *len)
{
	char hdr[RT_FRAME_HEADER];
	if (rt_read_all(sock, hdr, sizeof(hdr)) < 0)
		return -1;
	*type = hdr[0];
	memcpy(len, hdr + 1, 4);
	return 0;
}

/* ---- decoder ---- */

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* A string record: its payload ends with the only NUL. */
static const char *str_of(const unsigned char *v, uint32_t n)
{
	if (n == 0 || v[n - 1] != '\0' || memchr(v, '\0', n - 1) != NULL)
		return NULL;
	return (const char *)v;
}

/* The single-record tags, in the order of their bits in `seen`. */
static const char single_tags[] = "wugmkns" "ASipMcftKL";

int rt_plan_parse(const char *buf, size_t len, struct rt_plan *out)
{
	memset(out, 0, sizeof(*out));
	out->umask = 022;
	out->err_sock = -1;
	out->err_fifo = -1;
	if (len > RT_MAX_PLAN)
		return fail("plan: %zu bytes exceed %d", len, RT_MAX_PLAN);

	// Pass 1: check the framing, count what repeats, size the arrays.
	size_t nargv = 0, nenv = 0, nrl = 0, ngroups = 0, nfilter = 0, nnodes = 0, naff = 0;
	unsigned long seen = 0;
	const unsigned char *b = (const unsigned char *)buf;
	for (size_t off = 0; off < len;) {
		if (len - off < 5)
			return fail("plan: truncated record header at byte %zu", off);
		char tag = (char)b[off];
		uint32_t n = le32(b + off + 1);
		if (n > len - off - 5)
			return fail("plan: record '%c' of %u bytes runs past the end", tag, n);
		const char *s = strchr(single_tags, tag);
		if (tag != '\0' && s != NULL) {
			unsigned long bit = 1UL << (s - single_tags);
			if (seen & bit)
				return fail("plan: record '%c' given twice", tag);
			seen |= bit;
		}
		switch (tag) {
		case 'a': nargv++; break;
		case 'e': nenv++; break;
		case 'r': nrl++; break;
		case 'g': ngroups = n / 4; break;
		case 's': nfilter = n >= 5 ? (n - 5) / sizeof(struct sock_filter) : 0; break;
		case 'M': nnodes = n >= 8 ? (n - 8) / sizeof(unsigned long) : 0; break;
		case 'c': naff = n; break;
		default:
			if (s == NULL || tag == '\0')
				return fail("plan: unknown record 0x%02x", (unsigned char)tag);
		}
		off += 5 + (size_t)n;
	}
	if (nargv == 0)
		return fail("plan: no argv");
	if (nrl > 64)
		return fail("plan: %zu rlimits", nrl);

	// One allocation for every array, pointer-aligned pieces.
#define ALIGNED(x) (((x) + 15) & ~(size_t)15)
	size_t sz = ALIGNED((nargv + 1) * sizeof(char *)) + ALIGNED((nenv + 2) * sizeof(char *)) +
		    ALIGNED(nrl * sizeof(struct rt_plan_rlimit)) + ALIGNED(ngroups * 4) +
		    ALIGNED(nfilter * sizeof(struct sock_filter)) + ALIGNED(nnodes * sizeof(unsigned long)) +
		    ALIGNED(naff);
	char *mem = calloc(1, sz ? sz : 1);
	if (mem == NULL)
		return fail("plan: out of memory (%zu bytes)", sz);
	out->alloc = mem;
	out->argv = (char **)mem;
	mem += ALIGNED((nargv + 1) * sizeof(char *));
	out->env = (char **)mem;
	mem += ALIGNED((nenv + 2) * sizeof(char *));
	out->rlimits = (struct rt_plan_rlimit *)mem;
	mem += ALIGNED(nrl * sizeof(struct rt_plan_rlimit));
	out->groups = (uint32_t *)mem;
	mem += ALIGNED(ngroups * 4);
	struct sock_filter *filter = (struct sock_filter *)mem;
	mem += ALIGNED(nfilter * sizeof(struct sock_filter));
	unsigned long *nodes = (unsigned long *)mem;
	mem += ALIGNED(nnodes * sizeof(unsigned long));
	unsigned char *aff = (unsigned char *)mem;
#undef ALIGNED

	// Pass 2: decode.
	size_t ia = 0;
	for (size_t off = 0; off < len;) {
		char tag = (char)b[off];
		uint32_t n = le32(b + off + 1);
		const unsigned char *v = b + off + 5;
		off += 5 + (size_t)n;
		const char *s = NULL;
		// Records that are a string: check it once here.
		if (strchr("aewAK", tag) != NULL) {
			s = str_of(v, n);
			if (s == NULL)
				goto bad;
		}
		switch (tag) {
		case 'a':
			out->argv[ia++] = (char *)s;
			break;
		case 'e':
			out->env[out->envc++] = (char *)s;
			break;
		case 'w':
			if (s[0] != '/')
				goto bad;
			out->cwd = s;
			break;
		case 'u':
			if (n != 8)
				goto bad;
			out->uid = le32(v);
			out->gid = le32(v + 4);
			break;
		case 'g':
			if (n % 4 != 0)
				goto bad;
			for (size_t i = 0; i < ngroups; i++)
				out->groups[i] = le32(v + 4 * i);
			out->ngroups = ngroups;
			break;
		case 'm':
			if (n != 4)
				goto bad;
			out->umask = le32(v);
			break;
		case 'k':
			// last_cap u32, bounding, effective, permitted, inheritable
			// u64, then the ambient capabilities, a byte each.
			if (n < 36 || n - 36 > RT_PLAN_MAX_CAP + 1)
				goto bad;
			// Checked as the u32 it is: cast first, a value of 2^31 or
			// more turned negative and passed (found by FuzzPlanParse).
			if (le32(v) > RT_PLAN_MAX_CAP)
				goto bad;
			out->has_caps = 1;
			out->last_cap = (int)le32(v);
			out->cap_bounding = le64(v + 4);
			out->cap_effective = le64(v + 12);
			out->cap_permitted = le64(v + 20);
			out->cap_inheritable = le64(v + 28);
			out->nambient = (int)(n - 36);
			for (int i = 0; i < out->nambient; i++) {
				if (v[36 + i] > RT_PLAN_MAX_CAP)
					goto bad;
				out->ambient[i] = v[36 + i];
			}
			break;
		case 'n':
			if (n != 0)
				goto bad;
			out->no_new_privs = 1;
			break;
		case 's':
			// flags u32, notify u8, then struct sock_filter records in
			// the host's byte order (libseccomp's export).
			if (n < 5 || (n - 5) % sizeof(struct sock_filter) != 0 || nfilter == 0 || nfilter > 0xFFFF ||
			    v[4] > 1)
				goto bad;
			out->seccomp_flags = le32(v);
			out->seccomp_notify = v[4];
			memcpy(filter, v + 5, n - 5);
			out->filter = filter;
			out->filter_len = (unsigned short)nfilter;
			break;
		case 'A':
			out->apparmor = s;
			break;
		case 'r': {
			// resource u32, soft u64, hard u64, name (string)
			if (n < 21 || str_of(v + 20, n - 20) == NULL)
				goto bad;
			struct rt_plan_rlimit *r = &out->rlimits[out->nrlimits++];
			r->resource = le32(v);
			r->soft = le64(v + 4);
			r->hard = le64(v + 12);
			r->name = (const char *)v + 20;
			break;
		}
		case 'S':
			// policy u32, flags u64, nice i32, priority u32, runtime,
			// deadline, period u64, name (string)
			if (n < 45 || str_of(v + 44, n - 44) == NULL)
				goto bad;
			out->has_sched = 1;
			out->sched.policy = le32(v);
			out->sched.flags = le64(v + 4);
			out->sched.nice = (int32_t)le32(v + 12);
			out->sched.priority = le32(v + 16);
			out->sched.runtime = le64(v + 20);
			out->sched.deadline = le64(v + 28);
			out->sched.period = le64(v + 36);
			out->sched.name = (const char *)v + 44;
			break;
		case 'i':
			if (n != 4)
				goto bad;
			out->has_ioprio = 1;
			out->ioprio = le32(v);
			break;
		case 'p':
			if (n != 4)
				goto bad;
			out->has_personality = 1;
			out->personality = le32(v);
			break;
		case 'M':
			// mode u32, maxnode u32, node mask words (host order)
			if (n < 8 || (n - 8) % sizeof(unsigned long) != 0)
				goto bad;
			out->has_mempolicy = 1;
			out->mpol_mode = le32(v);
			out->mpol_maxnode = le32(v + 4);
			if (out->mpol_maxnode > nnodes * sizeof(unsigned long) * 8 + 1)
				goto bad;
			memcpy(nodes, v + 8, n - 8);
			out->mpol_nodes = nnodes ? nodes : NULL;
			out->mpol_nnodes = nnodes;
			break;
		case 'c':
			if (n == 0)
				goto bad;
			memcpy(aff, v, n);
			out->has_affinity = 1;
			out->affinity = aff;
			out->affinity_len = n;
			break;
		case 'f':
			if (n != 4 || le32(v) > 1 << 20)
				goto bad;
			out->preserve_fds = le32(v);
			break;
		case 't':
			if (n != 0 && n != 4)
				goto bad;
			out->terminal = 1;
			if (n == 4) {
				out->has_console_size = 1;
				out->console_rows = (uint16_t)(v[0] | v[1] << 8);
				out->console_cols = (uint16_t)(v[2] | v[3] << 8);
			}
			break;
		case 'K':
			out->keyring = s;
			break;
		case 'L':
			if (n != 0)
				goto bad;
			out->late_cgroup = 1;
			break;
		}
		continue;
	bad:
		rt_plan_free(out);
		return fail("plan: bad record '%c' (%u bytes)", tag, n);
	}
	if (out->cwd == NULL || !(seen & (1UL << (strchr(single_tags, 'u') - single_tags)))) {
		rt_plan_free(out);
		return fail("plan: no cwd or user");
	}
	return 0;
}

void rt_plan_free(struct rt_plan *p)
{
	free(p->alloc);
	memset(p, 0, sizeof(*p));
	p->err_sock = -1;
	p->err_fifo = -1;
}

/* ---- reporting ---- */

void rt_plan_fail(const struct rt_plan *p)
{
	size_t n = strlen(rt_plan_errmsg);
	if (p->err_sock >= 0) {
		rt_send_frame_fd(p->err_sock, RT_MSG_ERROR, rt_plan_errmsg, (uint32_t)n, -1);
	} else {
		if (p->err_fifo >= 0)
			rt_write_all(p->err_fifo, rt_plan_errmsg, n);
		char line[sizeof(rt_plan_errmsg) + 16];
		int m = snprintf(line, sizeof(line), "rt init: %s\n", rt_plan_errmsg);
		if (m > 0)
			rt_write_all(2, line, (size_t)m < sizeof(line) ? (size_t)m : sizeof(line) - 1);
	}
	_exit(1);
}

/* ---- prep helpers ---- */

int rt_plan_setsid(const struct rt_plan *p)
{
	(void)p;
	// EPERM: already a group leader (no pid namespace of its own).
	if (setsid() < 0 && errno != EPERM)
		return fail("setsid: %s", errstr(errno));
	return 0;
}

int rt_plan_keyring(const struct rt_plan *p)
{
	if (p->keyring == NULL)
		return 0;
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, p->keyring) < 0 && errno != ENOSYS)
		return fail("join session keyring: %s", errstr(errno));
	return 0;
}

/* rt_plan_console creates the pty in the container's devpts (its
 * /dev/ptmx), sends the master to the console socket as runc does (payload
 * "/dev/ptmx", the fd as SCM_RIGHTS), and makes the peer the process's
 * stdio and controlling terminal in a new session. */
int rt_plan_console(const struct rt_plan *p, int consock)
{
	if (consock < 0)
		return fail("process.terminal: no console socket");
	int master = rt_open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return fail("open /dev/ptmx: %s", errstr(errno));
	// The container may have replaced /dev/ptmx (a FIFO, a symlink to
	// /dev/tty: rt exec's own terminal on the host, or to another device
	// whose driver reads the pty ioctls below as something else): only
	// the pty multiplexer (5:2) goes on.
	struct stat pst;
	if (fstat(master, &pst) < 0 || !S_ISCHR(pst.st_mode) || major(pst.st_rdev) != 5 || minor(pst.st_rdev) != 2) {
		close(master);
		return fail("open /dev/ptmx: not the pty multiplexer (character device 5:2) in the container");
	}
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return fail("unlock pty: %s", errstr(errno));
	// The peer comes through the master, never by a path that the
	// container could have replaced with a symlink (CVE-2025-52565).
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return fail("open pty peer: %s", errstr(errno));
	// As runc: the process's user owns its terminal (left as it is when
	// the uid cannot be given here).
	if (fchown(slave, p->uid, (gid_t)-1) < 0 && errno != EINVAL && errno != EPERM && errno != EROFS)
		return fail("chown pty to process.user.uid %u: %s", p->uid, errstr(errno));
	if (p->has_console_size) {
		struct winsize ws = {.ws_row = p->console_rows, .ws_col = p->console_cols};
		if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
			return fail("set console size: %s", errstr(errno));
	}
	static const char name[] = "/dev/ptmx";
	char cm[CMSG_SPACE(sizeof(int))];
	memset(cm, 0, sizeof(cm));
	struct iovec iov = {(void *)name, sizeof(name) - 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm, .msg_controllen = sizeof(cm)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &master, sizeof(int));
	ssize_t sent;
	do
		sent = sendmsg(consock, &msg, MSG_NOSIGNAL);
	while (sent < 0 && errno == EINTR);
	if (sent < 0)
		return fail("send pty master to console socket: send console /dev/ptmx: %s", errstr(errno));
	close(master);
	close(consock);
	if (setsid() < 0)
		return fail("setsid: %s", errstr(errno));
	for (int i = 0; i <= 2; i++)
		if (dup3(slave, i, 0) < 0)
			return fail("dup pty to fd %d: %s", i, errstr(errno));
	if (slave > 2)
		close(slave);
	if (ioctl(0, TIOCSCTTY, 0) < 0)
		return fail("set controlling terminal: %s", errstr(errno));
	return 0;
}

/* passwd_home finds uid's home directory in the container's /etc/passwd
 * (read up to 4 MiB; a non-regular file is not read). Returns a malloc'd
 * string or NULL. */
static char *passwd_home(uint32_t uid)
{
	// The container controls the file: O_NONBLOCK so that a FIFO cannot
	// hold us, O_NOCTTY so that a symlink to a pty whose master it holds
	// does not become the controlling terminal of this session leader.
	int fd = rt_open("/etc/passwd", O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return NULL;
	struct stat st;
	char *data = NULL, *home = NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		goto out;
	size_t cap = (size_t)st.st_size < (4 << 20) ? (size_t)st.st_size + 1 : (4 << 20);
	data = malloc(cap + 1);
	if (data == NULL)
		goto out;
	size_t got = 0;
	while (got < cap) {
		ssize_t n = read(fd, data + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	data[got] = '\0';
	char want[16];
	snprintf(want, sizeof(want), "%u", uid);
	for (char *line = data, *next; line != NULL && *line; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		// name:password:uid:gid:gecos:home:shell
		char *f[7] = {0};
		int nf = 0;
		for (char *q = line; nf < 7; nf++) {
			f[nf] = q;
			q = strchr(q, ':');
			if (q == NULL) {
				nf++;
				break;
			}
			*q++ = '\0';
		}
		if (nf < 6 || f[0][0] == '#' || f[5][0] == '\0')
			continue;
		char *u = f[2];
		while (isspace((unsigned char)*u))
			u++;
		size_t ul = strlen(u);
		while (ul > 0 && isspace((unsigned char)u[ul - 1]))
			ul--;
		if (ul == strlen(want) && strncmp(u, want, ul) == 0) {
			home = strdup(f[5]);
			break;
		}
	}
out:
	free(data);
	close(fd);
	return home;
}

int rt_plan_home(struct rt_plan *p)
{
	for (size_t i = 0; i < p->envc; i++)
		if (strncmp(p->env[i], "HOME=", 5) == 0)
			return 0;
	char *home = passwd_home(p->uid);
	size_t n = 6 + (home ? strlen(home) : 1);
	char *e = malloc(n);
	if (e == NULL) {
		free(home);
		return fail("HOME: out of memory");
	}
	snprintf(e, n, "HOME=%s", home ? home : "/");
	free(home);
	// The parser left room for one more entry and the NULL.
	p->env[p->envc++] = e;
	p->env[p->envc] = NULL;
	return 0;
}

static int install_filter(const struct rt_plan *p)
{
	struct sock_fprog prog = {.len = p->filter_len, .filter = p->filter};
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->seccomp_flags, &prog);
	if (r < 0) {
		if (errno == EACCES)
			return fail("load seccomp filter: needs no_new_privs or CAP_SYS_ADMIN: %s", errstr(errno));
		return fail("load seccomp filter (flags %#x): %s", p->seccomp_flags, errstr(errno));
	}
	if (p->seccomp_notify)
		return (int)r;
	if (r != 0)
		return fail("load seccomp filter with TSYNC: thread %ld could not be synchronised", r);
	return 0;
}

int rt_plan_seccomp_notify(struct rt_plan *p, int sock)
{
	if (p->filter == NULL || !p->seccomp_notify)
		return 0;
	// The listener must get the notify fd and only the parent can reach
	// it: install the filter now, while the parent listens (as runc; what
	// follows is subject to the filter).
	int fd = install_filter(p);
	if (fd < 0)
		return -1;
	char type;
	uint32_t len;
	if (rt_send_frame_fd(sock, RT_MSG_SECCOMP, NULL, 0, fd) < 0)
		return fail("send seccomp notify fd: %s", errstr(errno));
	close(fd);
	if (rt_recv_header(sock, &type, &len) < 0)
		return fail("send seccomp notify fd: the parent went away");
	if (type != RT_MSG_SECCOMPOK || len != 0)
		return fail("send seccomp notify fd: unexpected answer 0x%02x", (unsigned char)type);
	p->filter = NULL;
	return 0;
}

static void limit_string(char *buf, size_t n, uint64_t v)
{
	if (v == (uint64_t)RLIM_INFINITY)
		snprintf(buf, n, "unlimited");
	else
		snprintf(buf, n, "%llu", (unsigned long long)v);
}

/* prlimit's resource argument: glibc's enum type, an int elsewhere (musl,
 * which cmd/rt-stage is built with). */
#ifdef __GLIBC__
typedef __rlimit_resource_t rt_rlimit_resource;
#else
typedef int rt_rlimit_resource;
#endif

int rt_plan_rlimits(const struct rt_plan *p)
{
	for (size_t i = 0; i < p->nrlimits; i++) {
		const struct rt_plan_rlimit *l = &p->rlimits[i];
		struct rlimit want = {.rlim_cur = l->soft, .rlim_max = l->hard};
		if (prlimit(0, (rt_rlimit_resource)l->resource, &want, NULL) == 0)
			continue;
		int e = errno;
		char soft[24], hard[24], cur[24];
		limit_string(soft, sizeof(soft), l->soft);
		limit_string(hard, sizeof(hard), l->hard);
		struct rlimit now;
		if (e == EPERM && prlimit(0, (rt_rlimit_resource)l->resource, NULL, &now) == 0 && l->hard > now.rlim_max) {
			limit_string(cur, sizeof(cur), now.rlim_max);
			return fail("process.rlimits: %s hard limit %s exceeds the caller's hard limit %s (raising it needs CAP_SYS_RESOURCE): %s",
				    l->name, hard, cur, errstr(e));
		}
		return fail("process.rlimits: set %s to soft %s, hard %s: %s", l->name, soft, hard, errstr(e));
	}
	return 0;
}

/* The kernel's struct sched_attr (sched_setattr(2)); glibc < 2.41 has none. */
struct rt_sched_attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
	uint32_t util_min, util_max;
};

int rt_plan_sched(const struct rt_plan *p)
{
	if (!p->has_sched)
		return 0;
	struct rt_sched_attr a = {
		.size = sizeof(a), .policy = p->sched.policy, .flags = p->sched.flags, .nice = p->sched.nice,
		.priority = p->sched.priority, .runtime = p->sched.runtime, .deadline = p->sched.deadline,
		.period = p->sched.period,
	};
	if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
		return fail("process.scheduler: sched_setattr(policy %s): %s", p->sched.name, errstr(errno));
	return 0;
}

int rt_plan_ioprio(const struct rt_plan *p)
{
	if (!p->has_ioprio)
		return 0;
	static const char *classes[] = {"", "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"};
	uint32_t cls = p->ioprio >> 13;
	// IOPRIO_WHO_PROCESS, 0: this process.
	if (syscall(SYS_ioprio_set, 1, 0, (int)p->ioprio) < 0)
		return fail("process.ioPriority: ioprio_set(%s, %u): %s", cls < 4 ? classes[cls] : "?", p->ioprio & 7,
			    errstr(errno));
	return 0;
}

int rt_plan_personality(const struct rt_plan *p)
{
	if (!p->has_personality)
		return 0;
	if (syscall(SYS_personality, (unsigned long)p->personality) < 0)
		return fail("linux.personality: personality(%#x): %s", p->personality, errstr(errno));
	return 0;
}

int rt_plan_mempolicy(const struct rt_plan *p)
{
	if (!p->has_mempolicy)
		return 0;
	if (syscall(SYS_set_mempolicy, (int)p->mpol_mode, p->mpol_nodes, (unsigned long)p->mpol_maxnode) == 0)
		return 0;
	int e = errno;
	if (e == EINVAL) {
		// A node the host lacks is the usual cause: say which it has.
		char online[128] = "";
		// In the container's /sys: not a FIFO that could hold us.
		int fd = rt_open("/sys/devices/system/node/online", O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
		if (fd >= 0) {
			ssize_t n = read(fd, online, sizeof(online) - 1);
			online[n > 0 ? n : 0] = '\0';
			close(fd);
			for (ssize_t i = n - 1; i >= 0 && isspace((unsigned char)online[i]); i--)
				online[i] = '\0';
		}
		return fail("linux.memoryPolicy: set_mempolicy: %s (nodes online on this host: \"%s\")", errstr(e), online);
	}
	return fail("linux.memoryPolicy: set_mempolicy: %s", errstr(e));
}

int rt_plan_chdir(const struct rt_plan *p)
{
	if (chdir(p->cwd) < 0)
		return fail("process.cwd: chdir to %s: %s", p->cwd, errstr(errno));
	// The cwd must be inside the container (CVE-2024-21626): a directory
	// outside the root reads back as "(unreachable)/...", or fails.
	char wd[PATH_MAX];
	if (syscall(SYS_getcwd, wd, sizeof(wd)) < 0 || wd[0] != '/')
		return fail("process.cwd: %s is outside the container", p->cwd);
	return 0;
}

static int is_executable(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return errno;
	if (S_ISDIR(st.st_mode))
		return EISDIR;
	if ((st.st_mode & 0111) == 0)
		return EACCES;
	return 0;
}

int rt_plan_lookup(struct rt_plan *p)
{
	const char *name = p->argv[0];
	if (strchr(name, '/') != NULL) {
		int e = is_executable(name);
		if (e != 0)
			return fail("exec: \"%s\": %s", name, errstr(e));
		p->path = name;
		return 0;
	}
	const char *path = "";
	for (size_t i = 0; i < p->envc; i++)
		if (strncmp(p->env[i], "PATH=", 5) == 0)
			path = p->env[i] + 5;
	size_t nlen = strlen(name);
	// As Go's filepath.SplitList: an empty PATH has no directory at all
	// (not the cwd).
	for (const char *dir = path; *path != '\0';) {
		const char *end = strchrnul(dir, ':');
		size_t dlen = (size_t)(end - dir);
		// As Go's filepath.Join: "" and "." give the bare name, no
		// doubled slash.
		while (dlen > 1 && dir[dlen - 1] == '/')
			dlen--;
		char *cand = malloc(dlen + nlen + 2);
		if (cand == NULL)
			return fail("exec: out of memory");
		if (dlen == 0 || (dlen == 1 && dir[0] == '.'))
			memcpy(cand, name, nlen + 1);
		else if (dlen == 1 && dir[0] == '/')
			snprintf(cand, dlen + nlen + 2, "/%s", name);
		else
			snprintf(cand, dlen + nlen + 2, "%.*s/%s", (int)dlen, dir, name);
		if (is_executable(cand) == 0) {
			p->path = cand;
			return 0;
		}
		free(cand);
		if (*end == '\0')
			break;
		dir = end + 1;
	}
	return fail("exec: \"%s\": executable file not found in $PATH", name);
}

/* ---- the applier ---- */

static int close_from(unsigned int minfd)
{
	if (syscall(SYS_close_range, minfd, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	if (errno != ENOSYS && errno != EINVAL)
		return fail("close fds: close_range(%u, ~0, CLOSE_RANGE_CLOEXEC): %s", minfd, errstr(errno));
	// Before Linux 5.11: walk /proc/self/fd.
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		return fail("close fds: mark fds close-on-exec: %s", errstr(errno));
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		if (*end != '\0' || end == de->d_name || fd < (long)minfd || fd == dirfd(d))
			continue;
		if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF) {
			closedir(d);
			return fail("close fds: mark fd %ld close-on-exec: %s", fd, errstr(errno));
		}
	}
	closedir(d);
	return 0;
}

/*
 * proc_open_write opens /proc/<sub> for writing such that the file is the
 * procfs's own: /proc must be the root of a procfs mount, and the path
 * below it may cross no mount (openat2 RESOLVE_NO_XDEV; RESOLVE_NO_MAGICLINKS).
 * A check that the opened file is on some procfs is not enough: a procfs
 * file mounted over the target (by a container with CAP_SYS_ADMIN, or
 * through a shared mount, as in CVE-2025-52881) passes it and takes the
 * write as root, /proc/sysrq-trigger say. Returns the fd, or -1 with
 * errno (EXDEV: a mount is on the path; ENOTDIR: /proc is not a procfs
 * root). Before Linux 5.6 (no openat2) it falls back to opening the path
 * and checking only that the file is on procfs.
 */
int rt_proc_open_write(const char *sub)
{
	int dir = rt_open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		return -1;
	struct statfs sfs;
	struct stat st;
	if (fstatfs(dir, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC || fstat(dir, &st) < 0 || st.st_ino != PROC_ROOT_INO) {
		close(dir);
		errno = ENOTDIR;
		return -1;
	}
	struct open_how how = {
		.flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
		.resolve = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, dir, sub, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS) {
		fd = openat(dir, sub, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0 && (fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)) {
			close(fd);
			fd = -1;
			errno = EXDEV;
		}
	}
	int e = errno;
	close(dir);
	errno = e;
	return fd;
}

static int apparmor_exec(const char *profile)
{
	// Written to the thread's exec attribute, opened so that something
	// mounted over /proc or over the file cannot make the profile
	// silently not apply (CVE-2019-16884, CVE-2023-28642) nor take the
	// write (CVE-2025-52881): proc_open_write.
	static const char *paths[] = {"thread-self/attr/apparmor/exec", "thread-self/attr/exec"};
	char val[4096];
	int n = snprintf(val, sizeof(val), "exec %s", profile);
	if (n < 0 || (size_t)n >= sizeof(val))
		return fail("process.apparmorProfile: apply apparmor profile \"%s\": name too long", profile);
	int e = 0;
	for (size_t i = 0; i < 2; i++) {
		int fd = rt_proc_open_write(paths[i]);
		if (fd < 0) {
			e = errno;
			if (e == ENOENT)
				continue;
			if (e == EXDEV)
				return fail("process.apparmorProfile: apply apparmor profile \"%s\": /proc/%s: something is mounted on the path (refused: the write would go to it)",
					    profile, paths[i]);
			if (e == ENOTDIR)
				return fail("process.apparmorProfile: apply apparmor profile \"%s\": /proc is not the root of a procfs", profile);
			return fail("process.apparmorProfile: apply apparmor profile \"%s\": open /proc/%s: %s", profile, paths[i], errstr(e));
		}
		if (write(fd, val, (size_t)n) != n) {
			e = errno;
			close(fd);
			return fail("process.apparmorProfile: apply apparmor profile \"%s\": write /proc/%s: %s", profile, paths[i], errstr(e));
		}
		close(fd);
		return 0;
	}
	return fail("process.apparmorProfile: apply apparmor profile \"%s\": open /proc/%s: %s", profile, paths[1], errstr(e));
}

static int setgroups_denied(void)
{
	char buf[16] = "";
	// O_NONBLOCK | O_NOCTTY: a container with CAP_SYS_ADMIN may have put
	// a FIFO or a tty at this path (it is only read for a message).
	int fd = rt_open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n >= 4 && strncmp(buf, "deny", 4) == 0;
}

static int change_user(const struct rt_plan *p)
{
	// Raw syscalls: this thread only (the process has no other), and no
	// glibc set*id broadcast.
	if (syscall(SYS_setgroups, p->ngroups, p->groups) < 0) {
		int e = errno;
		if (!(e == EPERM && setgroups_denied() && p->ngroups == 0)) {
			if (e == EPERM && setgroups_denied())
				return fail("process.user: setgroups: /proc/self/setgroups is \"deny\" in this user namespace, so additional gids cannot be set: %s",
					    errstr(e));
			return fail("process.user: setgroups: %s", errstr(e));
		}
	}
	if (syscall(SYS_setresgid, p->gid, p->gid, p->gid) < 0)
		return fail("process.user: setresgid(%u): %s", p->gid, errstr(errno));
	if (syscall(SYS_setresuid, p->uid, p->uid, p->uid) < 0)
		return fail("process.user: setresuid(%u): %s", p->uid, errstr(errno));
	return 0;
}

/* The capabilities' names, for messages (rt's capabilities.Name; a test
 * keeps them in step). */
const char *const rt_cap_names[RT_CAP_NAMES] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
	"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
	"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

static const char *cap_name(int n, char *buf, size_t len)
{
	if (n >= 0 && n < RT_CAP_NAMES)
		return rt_cap_names[n];
	snprintf(buf, len, "%d", n);
	return buf;
}

static int apply_caps(const struct rt_plan *p)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];
	for (int i = 0; i < 2; i++) {
		data[i].effective = (uint32_t)(p->cap_effective >> (32 * i));
		data[i].permitted = (uint32_t)(p->cap_permitted >> (32 * i));
		data[i].inheritable = (uint32_t)(p->cap_inheritable >> (32 * i));
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return fail("apply capabilities: capset (effective %#llx, permitted %#llx, inheritable %#llx): %s",
			    (unsigned long long)p->cap_effective, (unsigned long long)p->cap_permitted,
			    (unsigned long long)p->cap_inheritable, errstr(errno));
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return fail("apply capabilities: clear ambient capabilities: %s", errstr(errno));
	// As runc: an ambient capability that cannot be raised (not both
	// permitted and inheritable) is a warning.
	char num[16];
	for (int i = 0; i < p->nambient; i++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, p->ambient[i], 0, 0) < 0)
			rt_log("warning", "can't raise ambient capability %s: %s", cap_name(p->ambient[i], num, sizeof(num)),
			       errstr(errno));
	return 0;
}

static int drop_bounding(const struct rt_plan *p)
{
	if (!p->has_caps)
		return 0;
	for (int n = 0; n <= p->last_cap; n++) {
		if (p->cap_bounding & (1ULL << n))
			continue;
		// One prctl per capability: the drop, which succeeds for one
		// already out of the set. Only if it fails (no CAP_SETPCAP)
		// does the set say whether the drop was needed at all.
		if (prctl(PR_CAPBSET_DROP, n, 0, 0, 0) == 0)
			continue;
		int drop_errno = errno;
		char num[16];
		int in = prctl(PR_CAPBSET_READ, n, 0, 0, 0);
		if (in < 0) {
			fail("apply bounding capabilities: read bounding set for %s: %s", cap_name(n, num, sizeof(num)),
			     errstr(errno));
			return -1;
		}
		if (in == 1) {
			fail("apply bounding capabilities: drop %s from the bounding set: %s", cap_name(n, num, sizeof(num)),
			     errstr(drop_errno));
			return -1;
		}
	}
	return 0;
}

int rt_plan_bounding(struct rt_plan *p)
{
	if (p->bounding_dropped)
		return 0;
	if (drop_bounding(p) < 0)
		return -1;
	p->bounding_dropped = 1;
	return 0;
}

void rt_plan_exec(const struct rt_plan *p)
{
	// No fd but stdio and the preserved ones may reach the process. First:
	// a seccomp filter loaded below may forbid close_range.
	if (close_from(3 + p->preserve_fds) < 0)
		rt_plan_fail(p);
	if (p->has_affinity && sched_setaffinity(0, p->affinity_len, (cpu_set_t *)p->affinity) < 0) {
		fail("set the final CPU affinity: sched_setaffinity: %s", errstr(errno));
		rt_plan_fail(p);
	}
	if (!p->bounding_dropped && drop_bounding(p) < 0)
		rt_plan_fail(p);
	// Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: now,
	// before privileges go (runc's order). With it, last.
	if (p->filter != NULL && !p->no_new_privs && install_filter(p) < 0)
		rt_plan_fail(p);
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
		fail("prctl(PR_SET_KEEPCAPS, 1): %s", errstr(errno));
		rt_plan_fail(p);
	}
	if (change_user(p) < 0)
		rt_plan_fail(p);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) {
		fail("prctl(PR_SET_KEEPCAPS, 0): %s", errstr(errno));
		rt_plan_fail(p);
	}
	// A change of credentials resets the dumpable flag to fs.suid_dumpable:
	// nobody in the container may ptrace us or open our fds before execve.
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (p->has_caps && apply_caps(p) < 0)
		rt_plan_fail(p);
	umask((mode_t)p->umask);
	if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		fail("prctl(PR_SET_NO_NEW_PRIVS): %s", errstr(errno));
		rt_plan_fail(p);
	}
	if (p->apparmor != NULL && apparmor_exec(p->apparmor) < 0)
		rt_plan_fail(p);
	if (p->before_exec != NULL && p->before_exec(p) < 0)
		rt_plan_fail(p);
	if (p->filter != NULL && p->no_new_privs && install_filter(p) < 0)
		rt_plan_fail(p);
	execve(p->path, p->argv, p->env);
	fail("exec \"%s\": %s", p->argv[0], errstr(errno));
	rt_plan_fail(p);
}
