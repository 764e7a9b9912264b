// The container's set-up applied in C by its init (pid1.c), without a Go
// set-up child: the records of a SetupPlan frame (initproto/setup.go, which
// documents every tag), computed by the parent from the config
// (rootfs.Compile), applied in order. It does what the Go set-up
// (libcontainer/rootfs) does for the configs the parent gives it (see
// rootfs.CompileReason for the others): each destination is resolved inside
// the rootfs with openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS), missing
// directories are made one at a time and reopened with RESOLVE_BENEATH|
// RESOLVE_NO_SYMLINKS|RESOLVE_NO_XDEV, filesystems are mounted onto the
// resolved directory through the working directory (fchdir, then mount on
// "."), binds are open_tree clones moved onto the resolved handle, and
// remounts are mount_setattr calls on it: no path through /proc.
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "pid1.h"
#include "plan.h"
#include "proto.h"
#include "setup.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif
#ifndef FSOPEN_CLOEXEC
#define FSOPEN_CLOEXEC 0x00000001
#define FSMOUNT_CLOEXEC 0x00000001
#define FSCONFIG_SET_FLAG 0
#define FSCONFIG_CMD_CREATE 6
#endif
#define RT_MOUNT_ATTR_RDONLY 0x00000001
#define RT_MOUNT_ATTR_NOSUID 0x00000002
#define RT_MOUNT_ATTR_NODEV 0x00000004
#define RT_MOUNT_ATTR_NOEXEC 0x00000008
#define RT_MOUNT_ATTR__ATIME 0x00000070
#define RT_MOUNT_ATTR_RELATIME 0x00000000
#define RT_MOUNT_ATTR_NOATIME 0x00000010
#define RT_MOUNT_ATTR_STRICTATIME 0x00000020
#define RT_MOUNT_ATTR_NODIRATIME 0x00000080
#define RT_MOUNT_ATTR_NOSYMFOLLOW 0x00200000
#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

#ifndef SYS_open_tree
#define SYS_open_tree 428
#define SYS_move_mount 429
#define SYS_fsopen 430
#define SYS_fsconfig 431
#define SYS_fsmount 432
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_statx
#define SYS_statx 332
#endif
#define PATH_MAX_ 4096
#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

/* The head of struct statx (the kernel writes 256 bytes). */
struct rt_statx {
	uint32_t mask, blksize;
	uint64_t attributes;
	uint32_t nlink, uid, gid;
	uint16_t mode, pad0;
	uint64_t ino, size, blocks, attributes_mask;
	unsigned char rest[256 - 64];
};

struct rt_mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

/* The bits of 'f' and 'b' records (initproto.SetupRealDir, ...). */
enum { B_REALDIR = 1, B_KEEPMODE = 2, B_RECURSIVE = 8, B_REMOUNT = 16 };

static int rootfd = -1;        /* where destinations are resolved */
static int parent_sock = -1;   /* the init socket, for 'H' */
static char **hook_env;        /* the process's environment, for 'C' */
static const char *ctx = "";   /* the current record's error prefix */

static int sfail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sfail(int err, const char *fmt, ...)
{
	int n = snprintf(rt_plan_errmsg, sizeof(rt_plan_errmsg), "%s%s", ctx, *ctx ? ": " : "");
	if (n < 0 || (size_t)n >= sizeof(rt_plan_errmsg) - 128)
		n = 0;
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(rt_plan_errmsg + n, sizeof(rt_plan_errmsg) - 64 - (size_t)n, fmt, ap);
	va_end(ap);
	if (m > 0)
		n += m;
	if ((size_t)n > sizeof(rt_plan_errmsg) - 64)
		n = (int)(sizeof(rt_plan_errmsg) - 64);
	if (err) {
		char e[128];
		snprintf(e, sizeof(e), "%s", strerror(err));
		e[0] = (char)tolower((unsigned char)e[0]);
		snprintf(rt_plan_errmsg + n, sizeof(rt_plan_errmsg) - (size_t)n, ": %s", e);
	}
	return -1;
}

/* ---- system calls without libc wrappers ---- */

static int openat2_(int dir, const char *path, uint64_t flags, uint64_t resolve)
{
	struct open_how how = {.flags = flags | O_CLOEXEC, .resolve = resolve};
	int fd = -1;
	/* EAGAIN: a rename or mount raced the lookup (as securejoin, up to 128). */
	for (int i = 0; i < 128; i++) {
		fd = (int)syscall(SYS_openat2, dir, path, &how, sizeof(how));
		if (fd >= 0 || (errno != EAGAIN && errno != EINTR))
			break;
	}
	return fd;
}

static int open_tree_(int dir, const char *path, unsigned int flags)
{
	return (int)syscall(SYS_open_tree, dir, path, flags);
}

static int move_mount_(int from, int to)
{
	return (int)syscall(SYS_move_mount, from, "", to, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

static int mount_setattr_(int fd, unsigned int flags, struct rt_mount_attr *a)
{
	return (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | flags, a, sizeof(*a));
}

/* ---- resolving inside the root ---- */

/* in_root opens path inside the root: symlinks and ".." stay in it, no
 * magic link is followed. */
static int in_root(const char *path, uint64_t flags)
{
	return openat2_(rootfd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

/* split_last copies path's parent into dir (n bytes) and returns its last
 * component, or NULL if path has none. */
static const char *split_last(const char *path, char *dir, size_t n)
{
	size_t len = strlen(path);
	while (len > 1 && path[len - 1] == '/')
		len--;
	size_t i = len;
	while (i > 0 && path[i - 1] != '/')
		i--;
	if (i == len || len >= n)
		return NULL;
	memcpy(dir, path, i);
	dir[i] = '\0';
	if (i == 0)
		strcpy(dir, ".");
	static char last[PATH_MAX_];
	snprintf(last, sizeof(last), "%.*s", (int)(len - i), path + i);
	return last;
}

/* mkdir_all returns an O_PATH handle of the directory path inside the root,
 * making what is missing: the existing part resolved in the root, each
 * missing directory made with mkdirat and reopened without following
 * anything (a symlink put there meanwhile fails). */
static int mkdir_all_(const char *path, int depth, int missing);

static int mkdir_all(const char *path, int depth)
{
	return mkdir_all_(path, depth, 0);
}

/* mkdir_all_ is mkdir_all; missing: the caller's own lookup of path just
 * failed with ENOENT, so it is not looked up again. */
static int mkdir_all_(const char *path, int depth, int missing)
{
	int fd;
	if (!missing) {
		fd = in_root(path, O_PATH | O_DIRECTORY);
		if (fd >= 0 || errno != ENOENT)
			return fd;
	}
	if (depth > 64) {
		errno = ELOOP;
		return -1;
	}
	char dir[PATH_MAX_];
	const char *last = split_last(path, dir, sizeof(dir));
	if (last == NULL || strcmp(last, "..") == 0 || strcmp(last, ".") == 0) {
		errno = ENOENT;
		return -1;
	}
	char name[PATH_MAX_];
	snprintf(name, sizeof(name), "%s", last);
	int parent = mkdir_all(dir, depth + 1);
	if (parent < 0)
		return -1;
	if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST) {
		int e = errno;
		close(parent);
		errno = e;
		return -1;
	}
	fd = openat2_(parent, name, O_PATH | O_DIRECTORY, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV);
	int e = errno;
	close(parent);
	errno = e;
	return fd;
}

/* secure_join resolves path as if the root were "/" (what filepath-
 * securejoin's SecureJoin does for the Go set-up when a symlink on the way
 * points at something missing, as runc does): symlinks are followed inside
 * the root (an absolute one from the root, at most 255), ".." never goes
 * above it, missing components are kept. The result only names what to
 * create; everything is then opened with openat2 inside the root. */
static int secure_join(const char *path, char *out, size_t n)
{
	static char rest[2 * PATH_MAX_], next_rest[2 * PATH_MAX_];
	char cur[PATH_MAX_] = "";
	int links = 0;
	snprintf(rest, sizeof(rest), "%s", path);
	char *r = rest;
	for (;;) {
		while (*r == '/')
			r++;
		if (*r == '\0')
			break;
		char *end = strchr(r, '/');
		size_t len = end ? (size_t)(end - r) : strlen(r);
		char comp[256];
		if (len >= sizeof(comp)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(comp, r, len);
		comp[len] = '\0';
		r += len;
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			char *s = strrchr(cur, '/');
			if (s != NULL)
				*s = '\0';
			continue;
		}
		char next[PATH_MAX_];
		if ((size_t)snprintf(next, sizeof(next), "%s/%s", cur, comp) >= sizeof(next)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		char tgt[PATH_MAX_];
		ssize_t tl = readlinkat(rootfd, next + 1, tgt, sizeof(tgt) - 1);
		if (tl < 0) {
			if (errno != EINVAL && errno != ENOENT && errno != ENOTDIR)
				return -1;
			memcpy(cur, next, strlen(next) + 1); /* not a symlink, or missing */
			continue;
		}
		if (++links > 255) {
			errno = ELOOP;
			return -1;
		}
		tgt[tl] = '\0';
		if ((size_t)snprintf(next_rest, sizeof(next_rest), "%s/%s", tgt, r) >= sizeof(next_rest)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(rest, next_rest, strlen(next_rest) + 1);
		r = rest;
		if (tgt[0] == '/')
			cur[0] = '\0';
	}
	snprintf(out, n, "%s", cur[0] ? cur : "/");
	return 0;
}

/* make_dir is mkdir_all; where a symlink on the way points at something
 * missing, the directory it names is made (secure_join), as the Go set-up
 * and runc do. make_dir_ with missing: see mkdir_all_. */
static int make_dir_(const char *path, int missing)
{
	int fd = mkdir_all_(path, 0, missing);
	if (fd >= 0 || (errno != ENOENT && errno != ENOTDIR && errno != ELOOP && errno != EEXIST))
		return fd;
	char resolved[PATH_MAX_];
	if (secure_join(path, resolved, sizeof(resolved)) < 0)
		return -1;
	return mkdir_all(resolved, 0);
}

static int make_dir(const char *path)
{
	return make_dir_(path, 0);
}

/* create_file makes an empty file path inside the root (its parents too);
 * an existing one is left alone, the last component never followed. */
static int create_file(const char *path)
{
	char dir[PATH_MAX_];
	const char *last = split_last(path, dir, sizeof(dir));
	if (last == NULL) {
		errno = ENOENT;
		return -1;
	}
	char name[PATH_MAX_];
	snprintf(name, sizeof(name), "%s", last);
	int parent = make_dir(dir);
	if (parent < 0)
		return -1;
	int f = openat(parent, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0644);
	int e = errno;
	close(parent);
	if (f < 0 && e != EEXIST) {
		errno = e;
		return -1;
	}
	if (f >= 0)
		close(f);
	return 0;
}

/* target returns a handle of dest, made if missing: a directory, or an
 * empty file when is_file. *existed says whether it was there. */
static int target(const char *dest, int is_file, int *existed)
{
	int fd = in_root(dest, O_PATH);
	*existed = fd >= 0;
	if (fd >= 0 || errno != ENOENT)
		return fd;
	if (!is_file)
		return make_dir_(dest, 1);
	if (create_file(dest) < 0)
		return -1;
	fd = in_root(dest, O_PATH);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	/* dest is a dangling symlink: make the file it names. */
	char resolved[PATH_MAX_];
	if (secure_join(dest, resolved, sizeof(resolved)) < 0 || create_file(resolved) < 0)
		return -1;
	return in_root(dest, O_PATH);
}

/* require_real_dir refuses a dest whose last component exists and is not a
 * directory (a symlink especially): proc and sysfs mounts. */
static int require_real_dir(const char *dest)
{
	char dir[PATH_MAX_];
	const char *last = split_last(dest, dir, sizeof(dir));
	if (last == NULL)
		return 0;
	int parent = in_root(dir, O_PATH);
	if (parent < 0)
		return errno == ENOENT ? 0 : sfail(errno, "open %s", dir);
	struct stat st;
	int r = fstatat(parent, last, &st, AT_SYMLINK_NOFOLLOW);
	int e = errno;
	close(parent);
	if (r < 0)
		return e == ENOENT ? 0 : sfail(e, "stat %s", dest);
	if (!S_ISDIR(st.st_mode))
		return sfail(0, "\"%s\": must be mounted on an ordinary directory", dest);
	return 0;
}

/* ---- mount attributes ---- */

/* exact_attr: what MS_REMOUNT|MS_BIND with flags leaves on a mount, as a
 * mount_setattr: every per-mount flag replaced; the atime flags only when
 * flags name one (else the kernel keeps them, as a remount does). */
static void exact_attr(uint64_t flags, struct rt_mount_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->attr_clr = RT_MOUNT_ATTR_RDONLY | RT_MOUNT_ATTR_NOSUID | RT_MOUNT_ATTR_NODEV | RT_MOUNT_ATTR_NOEXEC |
		      RT_MOUNT_ATTR_NOSYMFOLLOW;
	if (flags & MS_RDONLY)
		a->attr_set |= RT_MOUNT_ATTR_RDONLY;
	if (flags & MS_NOSUID)
		a->attr_set |= RT_MOUNT_ATTR_NOSUID;
	if (flags & MS_NODEV)
		a->attr_set |= RT_MOUNT_ATTR_NODEV;
	if (flags & MS_NOEXEC)
		a->attr_set |= RT_MOUNT_ATTR_NOEXEC;
	if (flags & MS_NOSYMFOLLOW)
		a->attr_set |= RT_MOUNT_ATTR_NOSYMFOLLOW;
	if (flags & (MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)) {
		a->attr_clr |= RT_MOUNT_ATTR__ATIME | RT_MOUNT_ATTR_NODIRATIME;
		if (flags & MS_STRICTATIME)
			a->attr_set |= RT_MOUNT_ATTR_STRICTATIME;
		else if (flags & MS_NOATIME)
			a->attr_set |= RT_MOUNT_ATTR_NOATIME;
		else
			a->attr_set |= RT_MOUNT_ATTR_RELATIME;
		if (flags & MS_NODIRATIME)
			a->attr_set |= RT_MOUNT_ATTR_NODIRATIME;
	}
}

/* after_mount applies a mount record's propagation flags, then its
 * recursive attributes, to the mount now on dest. */
static int after_mount(const char *dest, uint32_t nprop, const unsigned char *props, uint64_t recset, uint64_t recclr)
{
	if (nprop == 0 && recset == 0 && recclr == 0)
		return 0;
	int t = in_root(dest, O_PATH);
	if (t < 0)
		return sfail(errno, "open %s", dest);
	for (uint32_t i = 0; i < nprop; i++) {
		uint64_t p = 0;
		for (int k = 0; k < 8; k++)
			p |= (uint64_t)props[8 * i + k] << (8 * k);
		struct rt_mount_attr a = {.propagation = p & ~(uint64_t)MS_REC};
		if (mount_setattr_(t, (p & MS_REC) ? AT_RECURSIVE : 0, &a) < 0) {
			int e = errno;
			close(t);
			return sfail(e, "propagation");
		}
	}
	if (recset || recclr) {
		struct rt_mount_attr a = {.attr_set = recset, .attr_clr = recclr};
		if (mount_setattr_(t, AT_RECURSIVE, &a) < 0) {
			int e = errno;
			close(t);
			return sfail(e, "mount_setattr(set %#llx, clear %#llx)", (unsigned long long)recset,
				     (unsigned long long)recclr);
		}
	}
	close(t);
	return 0;
}

/* ---- records ---- */

struct rec {
	const unsigned char *p; /* the fields not read yet */
	uint32_t left;
	int bad;
};

static const unsigned char *getn(struct rec *r, uint32_t n)
{
	if (r->left < n) {
		r->bad = 1;
		return NULL;
	}
	const unsigned char *v = r->p;
	r->p += n;
	r->left -= n;
	return v;
}

/* getint reads a little-endian integer of size bytes. */
static uint64_t getint(struct rec *r, uint32_t size)
{
	const unsigned char *p = getn(r, size);
	uint64_t v = 0;
	for (uint32_t i = 0; p != NULL && i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint32_t get32(struct rec *r)
{
	return (uint32_t)getint(r, 4);
}

static uint64_t get64(struct rec *r)
{
	return getint(r, 8);
}


static const char *getstr(struct rec *r)
{
	const unsigned char *nul = r->left ? memchr(r->p, 0, r->left) : NULL;
	if (nul == NULL) {
		r->bad = 1;
		return "";
	}
	const char *s = (const char *)r->p;
	uint32_t n = (uint32_t)(nul - r->p) + 1;
	r->p += n;
	r->left -= n;
	return s;
}

static int do_root(struct rec *r, int apply)
{
	uint64_t prop = get64(r);
	ctx = getstr(r);
	const char *rootfs = getstr(r);
	if (!apply || r->bad)
		return 0;
	if (mount("", "/", NULL, prop, NULL) < 0)
		return sfail(errno, "mount \"\" on \"/\", flags %#llx", (unsigned long long)prop);
	if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return sfail(errno, "bind %s onto itself", rootfs);
	if (rootfd >= 0)
		close(rootfd);
	rootfd = rt_open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return sfail(errno, "open rootfs");
	return 0;
}

static int do_mount(struct rec *r, int apply, int bind)
{
	uint64_t flags = get64(r);
	uint32_t bits = get32(r);
	uint64_t recset = get64(r), recclr = get64(r);
	uint32_t nprop = get32(r);
	/* At most 16 (rootfs.maxSetupPropagation). */
	const unsigned char *props = nprop <= 16 ? getn(r, 8 * nprop) : (r->bad = 1, NULL);
	ctx = getstr(r);
	const char *dest = getstr(r);
	const char *fstype = bind ? "" : getstr(r);
	const char *source = getstr(r);
	const char *data = bind ? "" : getstr(r);
	if (!apply || r->bad)
		return 0;
	if (rootfd < 0)
		return sfail(0, "no root");
	if ((bits & B_REALDIR) && require_real_dir(dest) < 0)
		return -1;
	int existed;
	if (bind) {
		/* The source first: the target is a file unless it is a
		 * directory (the parent never looks at the source). */
		unsigned int of = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | ((bits & B_RECURSIVE) ? AT_RECURSIVE : 0);
		int tree = open_tree_(AT_FDCWD, source, of);
		if (tree < 0)
			return sfail(errno, "open_tree %s", source);
		struct stat sst;
		if (fstat(tree, &sst) < 0) {
			int e = errno;
			close(tree);
			return sfail(e, "stat %s", source);
		}
		int t = target(dest, !S_ISDIR(sst.st_mode), &existed);
		if (t < 0) {
			int e = errno;
			close(tree);
			return sfail(e, "%s %s in rootfs", existed ? "open" : "create", dest);
		}
		int rc = move_mount_(tree, t);
		int e = errno;
		close(tree);
		close(t);
		if (rc < 0)
			return sfail(e, "bind %s", source);
		if (bits & B_REMOUNT) {
			int top = in_root(dest, O_PATH);
			if (top < 0)
				return sfail(errno, "open %s", dest);
			struct rt_mount_attr a;
			exact_attr(flags, &a);
			rc = mount_setattr_(top, 0, &a);
			e = errno;
			close(top);
			if (rc < 0)
				return sfail(e, "remount");
		}
	} else {
		int t = target(dest, 0, &existed);
		if (t < 0)
			return sfail(errno, "%s %s in rootfs", existed ? "open" : "create", dest);
		struct stat st;
		if (fstat(t, &st) < 0) {
			int e = errno;
			close(t);
			return sfail(e, "stat");
		}
		if (fchdir(t) < 0) {
			int e = errno;
			close(t);
			return sfail(e, "chdir");
		}
		close(t);
		if (mount(source, ".", fstype, flags, data) < 0)
			return sfail(errno, "mount %s (flags %#llx, data \"%s\")", fstype, (unsigned long long)flags, data);
		if ((bits & B_KEEPMODE) && existed) {
			int top = in_root(dest, O_RDONLY | O_DIRECTORY);
			if (top < 0)
				return sfail(errno, "open %s", dest);
			int rc = fchmod(top, st.st_mode & 07777);
			int e = errno;
			close(top);
			if (rc < 0)
				return sfail(e, "chmod tmpfs");
		}
	}
	return after_mount(dest, nprop, props, recset, recclr);
}

static int do_attr(struct rec *r, int apply)
{
	uint64_t set = get64(r), clr = get64(r);
	ctx = getstr(r);
	const char *dest = getstr(r);
	if (!apply || r->bad)
		return 0;
	int t = in_root(dest, O_PATH);
	if (t < 0)
		return sfail(errno, "open %s", dest);
	struct rt_mount_attr a = {.attr_set = set, .attr_clr = clr};
	int rc = mount_setattr_(t, AT_RECURSIVE, &a);
	int e = errno;
	close(t);
	if (rc < 0)
		return sfail(e, "mount attributes %#llx", (unsigned long long)set);
	return 0;
}

static int do_device(struct rec *r, int apply)
{
	uint32_t mode = get32(r), major = get32(r), minor = get32(r), uid = get32(r), gid = get32(r);
	ctx = getstr(r);
	const char *path = getstr(r);
	if (!apply || r->bad)
		return 0;
	char dir[PATH_MAX_];
	const char *last = split_last(path, dir, sizeof(dir));
	if (last == NULL)
		return sfail(0, "path \"%s\": invalid device", path);
	char name[PATH_MAX_];
	snprintf(name, sizeof(name), "%s", last);
	int parent = make_dir(dir);
	if (parent < 0)
		return sfail(errno, "mkdir \"%s\" in rootfs", dir);
	dev_t dev = S_ISFIFO(mode) ? 0 : makedev(major, minor);
	mode_t old = umask(0);
	int rc = mknodat(parent, name, mode, dev);
	int e = errno;
	umask(old);
	if (rc < 0 && e == EEXIST) {
		close(parent);
		return 0;
	}
	if (rc < 0 && e == EPERM) {
		/* No mknod here: a bind of the host's node at the same path. */
		close(parent);
		int existed;
		int t = target(path, 1, &existed);
		if (t < 0)
			return sfail(errno, "create %s", path);
		int tree = open_tree_(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (tree < 0) {
			e = errno;
			close(t);
			return sfail(e, "open_tree %s", path);
		}
		rc = move_mount_(tree, t);
		e = errno;
		close(tree);
		close(t);
		return rc < 0 ? sfail(e, "bind %s", path) : 0;
	}
	if (rc < 0) {
		close(parent);
		return sfail(e, "mknod");
	}
	rc = fchownat(parent, name, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW);
	e = errno;
	close(parent);
	return rc < 0 ? sfail(e, "chown") : 0;
}

static int do_symlink(struct rec *r, int apply)
{
	uint32_t bits = get32(r);
	ctx = getstr(r);
	const char *dir = getstr(r), *tgt = getstr(r), *name = getstr(r);
	if (!apply || r->bad)
		return 0;
	int d = make_dir(dir);
	if (d < 0)
		return sfail(errno, "mkdir \"%s\" in rootfs", dir);
	int rc = 0, e = 0;
	if ((bits & 1) && unlinkat(d, name, 0) < 0 && errno != ENOENT) {
		e = errno;
		close(d);
		return sfail(e, "remove %s/%s", dir, name);
	}
	rc = symlinkat(tgt, d, name);
	e = errno;
	close(d);
	if (rc < 0 && !(e == EEXIST && !(bits & 1)))
		return sfail(e, "symlink %s/%s", dir, name);
	return 0;
}

static int do_pivot(struct rec *r, int apply)
{
	uint64_t prop = get64(r);
	ctx = getstr(r);
	const char *rootfs = getstr(r);
	if (!apply || r->bad)
		return 0;
	int oldroot = rt_open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (oldroot < 0)
		return sfail(errno, "open old root");
	int newroot = rt_open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (newroot < 0) {
		int e = errno;
		close(oldroot);
		return sfail(e, "open rootfs \"%s\"", rootfs);
	}
	int rc = -1;
	if (fchdir(newroot) < 0)
		sfail(errno, "chdir rootfs");
	else if (syscall(SYS_pivot_root, ".", ".") < 0)
		sfail(errno, "pivot_root \"%s\"", rootfs);
	else if (fchdir(oldroot) < 0)
		sfail(errno, "chdir old root");
	/* Unmounting the old root must not propagate to the host. */
	else if (mount("", ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		sfail(errno, "old root");
	else if (umount2(".", MNT_DETACH) < 0)
		sfail(errno, "unmount old root");
	else if (chdir("/") < 0)
		sfail(errno, "chdir /");
	else
		rc = 0;
	close(oldroot);
	close(newroot);
	if (rc < 0)
		return -1;
	if (prop != 0 && mount("", "/", NULL, prop, NULL) < 0)
		return sfail(errno, "rootfs propagation");
	close(rootfd);
	rootfd = rt_open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return sfail(errno, "open /");
	return 0;
}

static int do_strs(struct rec *r, int apply, char tag)
{
	ctx = getstr(r);
	const char *a = getstr(r);
	const char *b = tag == 'y' ? getstr(r) : "";
	if (!apply || r->bad)
		return 0;
	switch (tag) {
	case 'h':
		return sethostname(a, strlen(a)) < 0 ? sfail(errno, "set hostname \"%s\"", a) : 0;
	case 'n':
		return setdomainname(a, strlen(a)) < 0 ? sfail(errno, "set domainname \"%s\"", a) : 0;
	case 'y': {
		int fd = rt_proc_open_write(a);
		if (fd < 0) {
			if (errno == EXDEV)
				return sfail(0, "/proc/%s: something is mounted on the path (refused: the write would go to it)", a);
			if (errno == ENOTDIR)
				return sfail(0, "/proc is not the root of a procfs");
			return sfail(errno, "open /proc/%s", a);
		}
		int rc = rt_write_all(fd, b, strlen(b));
		int e = errno;
		close(fd);
		return rc < 0 ? sfail(e, "write /proc/%s", a) : 0;
	}
	case 'w': {
		/* mkdir -p, following symlinks (as Go's os.MkdirAll): the
		 * container's own root, after pivot_root. */
		char p[PATH_MAX_];
		snprintf(p, sizeof(p), "%s", a);
		for (char *s = p + 1;; s++) {
			if (*s != '/' && *s != '\0')
				continue;
			char c = *s;
			*s = '\0';
			if (mkdir(p, 0755) < 0 && errno != EEXIST)
				return sfail(errno, "mkdir %s", p);
			*s = c;
			if (c == '\0')
				break;
		}
		struct stat st;
		if (stat(p, &st) < 0)
			return sfail(errno, "stat %s", p);
		if (!S_ISDIR(st.st_mode))
			return sfail(ENOTDIR, "mkdir %s", p);
		return 0;
	}
	}
	return 0;
}

/* The masking tmpfs: made once, attached to the first masked directory and
 * cloned onto the others (as the Go set-up does); the container's checked
 * /dev/null, bound onto every other masked path. */
static int mask_tmpfs = -1;
static int dev_null = -1;

/* clone_onto attaches a clone of src (a mount's root, or a file) at t. */
static int clone_onto(int src, int t, const char *what)
{
	int c = open_tree_(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (c < 0)
		return sfail(errno, "open_tree of %s", what);
	int rc = move_mount_(c, t);
	int e = errno;
	close(c);
	return rc < 0 ? sfail(e, "move_mount of %s", what) : 0;
}

/* new_mask_tmpfs makes the empty read-only tmpfs (fsopen, fsmount). */
static int new_mask_tmpfs(void)
{
	int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return sfail(errno, "fsopen tmpfs");
	if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		int e = errno;
		close(fs);
		return sfail(e, "fsconfig create tmpfs");
	}
	int m = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, RT_MOUNT_ATTR_RDONLY);
	int e = errno;
	close(fs);
	return m < 0 ? sfail(e, "fsmount tmpfs") : m;
}

/* open_dev_null opens the root's /dev/null and checks it is the 1:3 char
 * device, so that a symlink or a mount put there is not bound instead
 * (CVE-2025-31133). */
static int open_dev_null(void)
{
	int n = in_root("/dev/null", O_PATH);
	if (n < 0)
		return sfail(errno, "open /dev/null");
	struct stat st;
	if (fstat(n, &st) < 0) {
		int e = errno;
		close(n);
		return sfail(e, "stat /dev/null");
	}
	if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 || minor(st.st_rdev) != 3) {
		close(n);
		return sfail(0, "/dev/null is not the null device");
	}
	return n;
}

/* mask hides what t holds: a directory under the masking tmpfs, anything
 * else under /dev/null. */
static int mask(int t)
{
	struct stat st;
	if (fstat(t, &st) < 0)
		return sfail(errno, "stat");
	if (!S_ISDIR(st.st_mode)) {
		if (dev_null < 0 && (dev_null = open_dev_null()) < 0)
			return -1;
		return clone_onto(dev_null, t, "/dev/null");
	}
	if (mask_tmpfs >= 0)
		return clone_onto(mask_tmpfs, t, "the masking tmpfs");
	if ((mask_tmpfs = new_mask_tmpfs()) < 0)
		return -1;
	return move_mount_(mask_tmpfs, t) < 0 ? sfail(errno, "move_mount tmpfs") : 0;
}

static int do_finalize(struct rec *r, int apply, char tag)
{
	ctx = getstr(r);
	const char *path = tag == 'O' ? "/" : getstr(r);
	if (!apply || r->bad)
		return 0;
	if (tag == 'O')
		return mount("", "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0 ? sfail(errno, "remount") : 0;
	int t = in_root(path, O_PATH);
	if (t < 0) {
		if (errno == ENOENT && tag != 'o')
			return 0; /* a missing read-only or masked path is skipped */
		return sfail(errno, "open %s", path);
	}
	/* As the Go set-up (which checks its handles through /proc): the
	 * container's /proc must be a procfs, whose fake fd links would
	 * otherwise pass it. Nothing here goes through /proc; the check keeps
	 * the two set-ups refusing the same configs. */
	struct statfs pfs;
	if (statfs("/proc/self/fd", &pfs) < 0 || pfs.f_type != PROC_SUPER_MAGIC) {
		close(t);
		return sfail(0, "\"%s\": /proc is not a procfs: cannot check where a path resolves", path);
	}
	int rc = 0, e = 0;
	switch (tag) {
	case 'o': {
		struct rt_statx stx;
		if (syscall(SYS_statx, t, "", AT_EMPTY_PATH, 0, &stx) == 0 && (stx.attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
		    !(stx.attributes & STATX_ATTR_MOUNT_ROOT)) {
			close(t);
			return sfail(0, "\"%s\" is not a mount's root", path);
		}
		struct rt_mount_attr a = {.attr_set = RT_MOUNT_ATTR_RDONLY};
		rc = mount_setattr_(t, 0, &a);
		e = errno;
		close(t);
		return rc < 0 ? sfail(e, "mount_setattr read-only") : 0;
	}
	case 'R': {
		int tree = open_tree_(t, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
		if (tree < 0) {
			e = errno;
			close(t);
			return sfail(e, "open_tree");
		}
		struct rt_mount_attr a = {.attr_set = RT_MOUNT_ATTR_RDONLY};
		if (mount_setattr_(tree, 0, &a) < 0)
			sfail(errno, "mount_setattr read-only"), rc = -1;
		else if (move_mount_(tree, t) < 0)
			sfail(errno, "move_mount"), rc = -1;
		close(tree);
		close(t);
		return rc;
	}
	case 'm':
		rc = mask(t);
		close(t);
		return rc;
	}
	close(t);
	return 0;
}

static int do_loopback(int apply)
{
	if (!apply)
		return 0;
	ctx = "network namespace";
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return sfail(errno, "socket");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	int rc = 0;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		rc = sfail(errno, "lo flags");
	else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			rc = sfail(errno, "bring lo up");
	}
	close(s);
	return rc;
}

/* do_parent_hooks asks the parent to run its prestart and createRuntime
 * hooks now (after the mounts, before pivot_root, as the Go set-up child
 * and runc do) and waits for its answer: HooksOK, or the parent's error
 * (then it has failed the create and kills this process) or EOF (it is
 * gone): the wait ends with the parent. */
static int do_parent_hooks(struct rec *r, int apply)
{
	ctx = getstr(r);
	if (!apply || r->bad)
		return 0;
	if (rt_send_frame_fd(parent_sock, RT_MSG_HOOKS, NULL, 0, -1) < 0)
		return sfail(errno, "ask the parent");
	char type;
	uint32_t len;
	if (rt_recv_header(parent_sock, &type, &len) < 0)
		return sfail(0, "the parent went away");
	if (type != RT_MSG_HOOKSOK || len != 0)
		return sfail(0, "the parent's hooks failed (answer 0x%02x)", (unsigned char)type);
	return 0;
}

/* do_create_hooks runs the createContainer hooks (pid1_hooks.c) where the
 * Go set-up child ran them: after the mounts and the parent's hooks,
 * before pivot_root, in the container's namespaces, from the rootfs as the
 * cwd. Their errors are theirs ("createContainer hook #0 (...): ..."). */
static int do_create_hooks(struct rec *r, int apply)
{
	ctx = getstr(r);
	const char *dir = getstr(r);
	uint32_t n = r->left;
	const char *payload = (const char *)getn(r, n);
	if (!apply || r->bad)
		return 0;
	if (chdir(dir) < 0)
		return sfail(errno, "chdir to the rootfs %s", dir);
	return rt_pid1_run_create_hooks(payload, n, hook_env);
}

/* one reads (and, if apply, applies) the record tag with fields r. */
static int one(char tag, struct rec *r, int apply)
{
	switch (tag) {
	case 'l': return do_loopback(apply);
	case 'r': return do_root(r, apply);
	case 'f': return do_mount(r, apply, 0);
	case 'b': return do_mount(r, apply, 1);
	case 'a': return do_attr(r, apply);
	case 'd': return do_device(r, apply);
	case 's': return do_symlink(r, apply);
	case 'p': return do_pivot(r, apply);
	case 'h': case 'n': case 'y': case 'w': return do_strs(r, apply, tag);
	case 'R': case 'm': case 'o': case 'O': return do_finalize(r, apply, tag);
	case 'H': return do_parent_hooks(r, apply);
	case 'C': return do_create_hooks(r, apply);
	}
	r->bad = 1;
	return 0;
}

/* walk reads every record of buf; with apply, it applies each one. */
static int walk(const char *buf, size_t len, int apply)
{
	const unsigned char *b = (const unsigned char *)buf;
	for (size_t off = 0; off < len;) {
		ctx = "set-up";
		if (len - off < 5)
			return sfail(0, "truncated record header at byte %zu", off);
		char tag = (char)b[off];
		uint32_t n = (uint32_t)b[off + 1] | (uint32_t)b[off + 2] << 8 | (uint32_t)b[off + 3] << 16 | (uint32_t)b[off + 4] << 24;
		if (n > len - off - 5)
			return sfail(0, "record '%c' of %u bytes runs past the end", tag, n);
		struct rec r = {.p = b + off + 5, .left = n};
		if (one(tag, &r, apply) < 0)
			return -1;
		if (r.bad || r.left != 0) {
			ctx = "set-up";
			return sfail(0, "malformed record '%c' at byte %zu", tag, off);
		}
		off += 5 + n;
	}
	return 0;
}

int rt_setup_check(const char *buf, size_t len)
{
	return walk(buf, len, 0);
}

int rt_setup_apply(const char *buf, size_t len, int sock, char **env)
{
	parent_sock = sock;
	hook_env = env;
	/* Nothing is applied unless every record reads well. */
	if (walk(buf, len, 0) < 0)
		return -1;
	int rc = walk(buf, len, 1);
	if (rootfd >= 0)
		close(rootfd);
	rootfd = -1;
	if (mask_tmpfs >= 0)
		close(mask_tmpfs);
	if (dev_null >= 0)
		close(dev_null);
	mask_tmpfs = dev_null = -1;
	return rc;
}
