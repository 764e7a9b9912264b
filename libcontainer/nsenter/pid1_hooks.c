// Hooks run by the container's C init (pid1.c). createContainer hooks, with
// the set-up in C: from its 'C' record (setup.c), after the mounts and the
// parent's hooks, before pivot_root, from the rootfs as the cwd, as the
// runtime (as the Go set-up child ran them). startContainer hooks of create,
// from the plan's applier: after the privilege drop and AppArmor, before
// the last seccomp filter and execve, as the process will run (its user,
// capabilities, cwd, no_new_privs, and its environment for a hook without
// one). As rt's hooks package does: the state as JSON on stdin, argv =
// args (or the path), stdout and stderr captured for the error only, killed
// past its timeout, a failure named "startContainer hook #<i> (<path>):
// <why>[: <stderr, else stdout>]".
//
// Payload (RT_MSG_STARTHOOKS after the plan, or the rest of a 'C' set-up
// record; libcontainer/starthooks.go hooksPayload): u32 count, the
// state (a NUL-terminated string), then per hook: i32 timeout in seconds
// (-1: none), the path, u32 argc and that many strings, i32 envc (-1: the
// process's environment) and that many strings. Integers little endian.
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pid1.h"
#include "plan.h"

struct start_hook {
	int32_t timeout;
	const char *path;
	char **argv;
	char **env; /* NULL: the process's */
};

/* A kind of hooks: its name (in errors), the hooks and their state. */
struct hook_set {
	const char *kind;
	struct start_hook *hooks;
	uint32_t n;
	const char *state;
};

static struct hook_set start_hooks = {.kind = "startContainer"};
static struct hook_set create_hooks = {.kind = "createContainer"};

/* The payload is kept for the process's life (it execs or exits). */
static const char *cur, *end;

static int get_u32(uint32_t *v)
{
	if (end - cur < 4)
		return -1;
	memcpy(v, cur, 4);
	cur += 4;
	return 0;
}

static const char *get_str(void)
{
	const char *nul = memchr(cur, 0, (size_t)(end - cur));
	if (nul == NULL)
		return NULL;
	const char *s = cur;
	cur = nul + 1;
	return s;
}

static int get_strs(uint32_t n, char ***out)
{
	if (n > 65536)
		return -1;
	char **v = calloc(n + 1, sizeof(char *));
	if (v == NULL)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		if ((v[i] = (char *)get_str()) == NULL)
			return -1;
	*out = v;
	return 0;
}

static int parse_set(struct hook_set *set, const char *buf, size_t len)
{
	cur = buf;
	end = buf + len;
	if (get_u32(&set->n) < 0 || set->n == 0 || set->n > 1024 || (set->state = get_str()) == NULL)
		return -1;
	set->hooks = calloc(set->n, sizeof(*set->hooks));
	if (set->hooks == NULL)
		return -1;
	for (uint32_t i = 0; i < set->n; i++) {
		struct start_hook *h = &set->hooks[i];
		uint32_t t, argc, envc;
		if (get_u32(&t) < 0 || (h->path = get_str()) == NULL || get_u32(&argc) < 0 || get_strs(argc, &h->argv) < 0 ||
		    get_u32(&envc) < 0)
			return -1;
		h->timeout = (int32_t)t;
		if ((int32_t)envc >= 0 && get_strs(envc, &h->env) < 0)
			return -1;
		if (argc == 0) {
			h->argv = realloc(h->argv, 2 * sizeof(char *));
			if (h->argv == NULL)
				return -1;
			h->argv[0] = (char *)h->path;
			h->argv[1] = NULL;
		}
	}
	return cur == end ? 0 : -1;
}

int rt_pid1_parse_hooks(const char *buf, size_t len)
{
	return parse_set(&start_hooks, buf, len);
}

/* errno's text as Go prints it (lower case first letter). */
static const char *lower(const char *s, char *buf, size_t n)
{
	snprintf(buf, n, "%s", s);
	if (buf[0])
		buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct outbuf {
	char b[4096];
	size_t n;
};

/* drain reads what is there into o (the rest is dropped); 0 at EOF. */
static int drain(int fd, struct outbuf *o)
{
	char tmp[4096];
	ssize_t n = read(fd, tmp, sizeof(tmp));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : 0;
	if (n == 0)
		return 0;
	size_t k = (size_t)n;
	if (k > sizeof(o->b) - 1 - o->n)
		k = sizeof(o->b) - 1 - o->n;
	memcpy(o->b + o->n, tmp, k);
	o->n += k;
	return 1;
}

static const char *trimmed(struct outbuf *o)
{
	o->b[o->n] = 0;
	char *s = o->b;
	while (*s && isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
	return s;
}

static int hook_fail(const struct hook_set *set, int i, const char *why, struct outbuf *out, struct outbuf *err)
{
	const char *o = err ? trimmed(err) : "";
	if (*o == 0 && out)
		o = trimmed(out);
	snprintf(rt_plan_errmsg, sizeof(rt_plan_errmsg), "%s hook #%d (%s): %s%s%s", set->kind, i, set->hooks[i].path,
		 why, *o ? ": " : "", o);
	return -1;
}

/* run_hook runs hook i of set; env is the environment of a hook without
 * one of its own (the process's). */
static int run_hook(const struct hook_set *set, int i, char **env)
{
	struct start_hook *h = &set->hooks[i];
	const char *hook_state = set->state;
	char why[512], eb[256];
	if (h->timeout == 0 || h->timeout < -1)
		return hook_fail(set, i, "invalid timeout: must be greater than zero", NULL, NULL);
	int in[2], out[2], err[2], ex[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(ex, O_CLOEXEC) < 0) {
		snprintf(why, sizeof(why), "pipe: %s", lower(strerror(errno), eb, sizeof(eb)));
		return hook_fail(set, i, why, NULL, NULL);
	}
	pid_t c = fork();
	if (c < 0) {
		snprintf(why, sizeof(why), "fork/exec %s: %s", h->path, lower(strerror(errno), eb, sizeof(eb)));
		return hook_fail(set, i, why, NULL, NULL);
	}
	if (c == 0) {
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0)
			_exit(127);
		execve(h->path, h->argv, h->env ? h->env : env);
		int e = errno;
		if (write(ex[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	close(ex[1]);
	int e;
	ssize_t n = read(ex[0], &e, sizeof(e));
	close(ex[0]);
	if (n == (ssize_t)sizeof(e)) {
		waitpid(c, NULL, 0);
		close(in[1]);
		close(out[0]);
		close(err[0]);
		snprintf(why, sizeof(why), "fork/exec %s: %s", h->path, lower(strerror(e), eb, sizeof(eb)));
		return hook_fail(set, i, why, NULL, NULL);
	}
	int pidfd = (int)syscall(SYS_pidfd_open, c, 0);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	struct outbuf ob = {.n = 0}, eb2 = {.n = 0};
	size_t off = 0, slen = strlen(hook_state);
	int64_t deadline = h->timeout > 0 ? now_ms() + (int64_t)h->timeout * 1000 : -1;
	int exited = 0, timedout = 0, status = 0;
	int64_t drain_until = -1;
	while (in[1] >= 0 || out[0] >= 0 || err[0] >= 0 || !exited) {
		int64_t t = -1, now = now_ms();
		if (!exited && deadline >= 0)
			t = deadline - now;
		if (exited)
			t = drain_until - now; /* the hook's output pipes may be held by a process it left behind */
		if (t < 0 && (exited || deadline >= 0)) {
			if (exited)
				break;
			kill(c, SIGKILL);
			waitpid(c, &status, 0);
			timedout = exited = 1;
			drain_until = now_ms() + 500;
			continue;
		}
		struct pollfd pfd[4] = {
			{.fd = in[1], .events = POLLOUT},
			{.fd = out[0], .events = POLLIN},
			{.fd = err[0], .events = POLLIN},
			{.fd = exited ? -1 : pidfd, .events = POLLIN},
		};
		if (poll(pfd, 4, (int)(t < 0 ? -1 : t)) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents) {
			ssize_t w = pfd[0].revents & POLLOUT ? write(in[1], hook_state + off, slen - off) : -1;
			if (w > 0)
				off += (size_t)w;
			if (w < 0 && errno != EAGAIN && errno != EINTR)
				off = slen;
			if (off == slen) {
				close(in[1]);
				in[1] = -1;
			}
		}
		if (pfd[1].revents && !drain(out[0], &ob)) {
			close(out[0]);
			out[0] = -1;
		}
		if (pfd[2].revents && !drain(err[0], &eb2)) {
			close(err[0]);
			err[0] = -1;
		}
		if (pfd[3].revents) {
			waitpid(c, &status, 0);
			exited = 1;
			drain_until = now_ms() + 500;
			if (in[1] >= 0) {
				close(in[1]);
				in[1] = -1;
			}
		}
	}
	if (in[1] >= 0)
		close(in[1]);
	if (out[0] >= 0)
		close(out[0]);
	if (err[0] >= 0)
		close(err[0]);
	if (pidfd >= 0)
		close(pidfd);
	if (timedout) {
		snprintf(why, sizeof(why), "hook ran past its timeout of %ds: killed", (int)h->timeout);
		return hook_fail(set, i, why, &ob, &eb2);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "signal: %s", lower(strsignal(WTERMSIG(status)), eb, sizeof(eb)));
	else
		snprintf(why, sizeof(why), "exit status %d", WEXITSTATUS(status));
	return hook_fail(set, i, why, &ob, &eb2);
}

static int run_set(const struct hook_set *set, char **env)
{
	for (uint32_t i = 0; i < set->n; i++)
		if (run_hook(set, (int)i, env) < 0)
			return -1;
	return 0;
}

int rt_pid1_run_start_hooks(const struct rt_plan *p)
{
	return run_set(&start_hooks, p->env);
}

int rt_pid1_run_create_hooks(const char *buf, size_t len, char **env)
{
	if (parse_set(&create_hooks, buf, len) < 0) {
		snprintf(rt_plan_errmsg, sizeof(rt_plan_errmsg), "bad createContainer hooks record");
		return -1;
	}
	return run_set(&create_hooks, env);
}
