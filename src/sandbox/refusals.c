// SPDX-License-Identifier: GPL-2.0-only
/*
 * Records of what a session's sandbox refuses by itself, with no hook
 * of ours deciding: a write into the read-only view (EROFS from the
 * read-only bind; Landlock behind it), a write under a mask (EROFS from
 * the placeholder's read-only tmpfs), a raw or packet socket (EPERM: the
 * session has no CAP_NET_RAW), a signal to a pid outside the session
 * (ESRCH: its own pid namespace).
 *
 * The session's seccomp filter sends these calls — only with a write
 * intent: open/openat/creat with O_WRONLY, O_RDWR, O_CREAT or O_TRUNC,
 * openat2 (its flags are in memory), mkdir, rmdir, unlink, rename, link,
 * symlink, mknod (and their `at` forms), truncate, chmod, chown, the
 * xattr writes; socket of a packet or raw IP socket; kill, tkill,
 * tgkill — to the launcher's supervisor, which lets each go on at once
 * (SECCOMP_USER_NOTIF_FLAG_CONTINUE: the kernel decides, as without us)
 * after taking what it names (the strings, the caller's cwd or directory
 * fd and root). Then, the call already on its way, it judges whether the
 * sandbox refuses it: the name resolved in the caller's root, the mount
 * that holds it (or its parent, for a new name) read-only; the pid absent
 * from the session's /proc. A refusal becomes a record named by the plan:
 * the deepest operation holding the path gives the rule (a mask's, an
 * escalate location's), else POLICY/read-only.
 *
 * Cost: only the session's watched calls wait, for one round trip to the
 * supervisor (reads, opens, stats: the agent's read-only opens and every
 * other call never leave the kernel's filter); nobody outside a session
 * pays anything. If the supervisor dies, the watched calls fail (ENOSYS),
 * as the denied groups do.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "policy/policy.h"
#include "sandbox/launch.h"
#include "sandbox/refusals.h"
#include "shared/util.h"

#define W_OPEN_FLAGS (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)

enum shape_kind {
	K_PATH,	   /* one name */
	K_OPEN,	   /* one name, flags decide */
	K_TWO,	   /* rename, link: old and new names */
	K_SYMLINK, /* the new name only (the first is the link's text) */
	K_SOCKET,
	K_KILL,
};

struct watched {
	const char *name;
	uint8_t kind;
	int8_t path, dfd;   /* argument indexes; dfd -1: the cwd */
	int8_t path2, dfd2; /* second name */
	int8_t flags;	    /* K_OPEN: the flags' argument, -1 openat2 */
	uint8_t create;	    /* a new name: judged by its parent */
};

static const struct watched watched[] = {
    {"open", K_OPEN, 0, -1, -1, -1, 1, 0},
    {"creat", K_PATH, 0, -1, -1, -1, 0, 1},
    {"openat", K_OPEN, 1, 0, -1, -1, 2, 0},
    {"openat2", K_OPEN, 1, 0, -1, -1, -1, 0},
    {"mkdir", K_PATH, 0, -1, -1, -1, 0, 1},
    {"mkdirat", K_PATH, 1, 0, -1, -1, 0, 1},
    {"mknod", K_PATH, 0, -1, -1, -1, 0, 1},
    {"mknodat", K_PATH, 1, 0, -1, -1, 0, 1},
    {"rmdir", K_PATH, 0, -1, -1, -1, 0, 0},
    {"unlink", K_PATH, 0, -1, -1, -1, 0, 0},
    {"unlinkat", K_PATH, 1, 0, -1, -1, 0, 0},
    {"truncate", K_PATH, 0, -1, -1, -1, 0, 0},
    {"chmod", K_PATH, 0, -1, -1, -1, 0, 0},
    {"fchmodat", K_PATH, 1, 0, -1, -1, 0, 0},
    {"chown", K_PATH, 0, -1, -1, -1, 0, 0},
    {"lchown", K_PATH, 0, -1, -1, -1, 0, 0},
    {"fchownat", K_PATH, 1, 0, -1, -1, 0, 0},
    {"setxattr", K_PATH, 0, -1, -1, -1, 0, 0},
    {"lsetxattr", K_PATH, 0, -1, -1, -1, 0, 0},
    {"removexattr", K_PATH, 0, -1, -1, -1, 0, 0},
    {"lremovexattr", K_PATH, 0, -1, -1, -1, 0, 0},
    {"rename", K_TWO, 0, -1, 1, -1, 0, 1},
    {"renameat", K_TWO, 1, 0, 3, 2, 0, 1},
    {"renameat2", K_TWO, 1, 0, 3, 2, 0, 1},
    {"link", K_TWO, 0, -1, 1, -1, 0, 1},
    {"linkat", K_TWO, 1, 0, 3, 2, 0, 1},
    {"symlink", K_SYMLINK, -1, -1, 1, -1, 0, 1},
    {"symlinkat", K_SYMLINK, -1, -1, 2, 1, 0, 1},
    {"socket", K_SOCKET, -1, -1, -1, -1, 0, 0},
    {"kill", K_KILL, -1, -1, -1, -1, 0, 0},
    {"tkill", K_KILL, -1, -1, -1, -1, 0, 0},
    {"tgkill", K_KILL, -1, -1, -1, -1, 0, 0},
};

/* The native numbers, resolved once (libseccomp's lookup walks its
 * whole table by name: not per notification). */
static int watched_nr(size_t i)
{
	static int nrs[AW_ARRAY_SIZE(watched)];
	static int resolved;

	if (!resolved) {
		for (size_t k = 0; k < AW_ARRAY_SIZE(watched); k++)
			nrs[k] = seccomp_syscall_resolve_name(watched[k].name);
		resolved = 1;
	}
	return nrs[i];
}

static const struct watched *watched_of(int nr)
{
	for (size_t i = 0; i < AW_ARRAY_SIZE(watched); i++)
		if (watched_nr(i) == nr)
			return &watched[i];
	return NULL;
}

static int raw_socket(const uint64_t args[6])
{
	uint32_t fam = (uint32_t)args[0], type = (uint32_t)args[1] & 0xf;

	return fam == AF_PACKET ||
	       ((fam == AF_INET || fam == AF_INET6) && type == SOCK_RAW);
}

int aw_refusal_watched(int nr, const uint64_t args[6])
{
	const struct watched *w = watched_of(nr);

	if (!w)
		return 0;
	if (w->kind == K_SOCKET)
		return raw_socket(args);
	if (w->kind == K_OPEN && w->flags >= 0)
		return (args[w->flags] & W_OPEN_FLAGS) != 0;
	return 1;
}

int aw_refusal_add_rules(void *scmp_ctx, uint32_t act)
{
	scmp_filter_ctx ctx = scmp_ctx;
	static const uint64_t bits[] = {O_WRONLY, O_RDWR, O_CREAT, O_TRUNC};

	for (size_t i = 0; i < AW_ARRAY_SIZE(watched); i++) {
		const struct watched *w = &watched[i];
		int nr = watched_nr(i), r = 0;

		if (nr < 0)
			continue;
		if (w->kind == K_SOCKET) {
			r = seccomp_rule_add(ctx, act, nr, 1,
					     SCMP_A0(SCMP_CMP_MASKED_EQ,
						     0xffffffffull, AF_PACKET));
			for (int f = 0; !r && f < 2; f++)
				r = seccomp_rule_add(
				    ctx, act, nr, 2,
				    SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffull,
					    f ? AF_INET6 : AF_INET),
				    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_RAW));
		} else if (w->kind == K_OPEN && w->flags >= 0) {
			/* One flag bit per rule: libseccomp ORs rules. */
			for (size_t b = 0; !r && b < AW_ARRAY_SIZE(bits); b++)
				r = seccomp_rule_add(
				    ctx, act, nr, 1,
				    SCMP_CMP(w->flags, SCMP_CMP_MASKED_EQ,
					     bits[b], bits[b]));
		} else {
			r = seccomp_rule_add(ctx, act, nr, 0);
		}
		/* A rule of the deny table on the same call is kept. */
		if (r < 0 && r != -EEXIST)
			return r;
	}
	return 0;
}

static void read_str(uint32_t pid, uint64_t addr, char *out, size_t len)
{
	char p[64];
	int fd;
	ssize_t n;

	out[0] = 0;
	if (!addr)
		return;
	snprintf(p, sizeof(p), "/proc/%u/mem", pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = pread(fd, out, len - 1, (off_t)addr);
	close(fd);
	out[n > 0 ? n : 0] = 0;
	/* (a read across an unmapped page ends early: pread returns what
	 * it read; a name is rarely that long) */
}

static void read_base(uint32_t pid, const uint64_t args[6], int dfd_arg,
		      const char *name, char *out, size_t len)
{
	char p[64];
	ssize_t n;

	out[0] = 0;
	if (!name[0] || name[0] == '/')
		return;
	if (dfd_arg < 0 || (int)args[dfd_arg] == AT_FDCWD)
		snprintf(p, sizeof(p), "/proc/%u/cwd", pid);
	else
		snprintf(p, sizeof(p), "/proc/%u/fd/%d", pid,
			 (int)args[dfd_arg]);
	n = readlink(p, out, len - 1);
	out[n > 0 ? n : 0] = 0;
}

void aw_refusal_capture(uint32_t pid, int nr, const uint64_t args[6],
			struct aw_refusal_capture *c)
{
	const struct watched *w = watched_of(nr);
	char p[64];

	c->root_fd = -1;
	c->base[0] = c->base2[0] = c->name[0] = c->name2[0] = 0;
	if (!w || w->kind == K_SOCKET)
		return;
	snprintf(p, sizeof(p), "/proc/%u/root", pid);
	c->root_fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (w->path >= 0) {
		read_str(pid, args[w->path], c->name, sizeof(c->name));
		read_base(pid, args, w->dfd, c->name, c->base, sizeof(c->base));
	}
	if (w->path2 >= 0) {
		read_str(pid, args[w->path2], c->name2, sizeof(c->name2));
		read_base(pid, args, w->dfd2, c->name2, c->base2,
			  sizeof(c->base2));
	}
}

void aw_refusal_release(struct aw_refusal_capture *c)
{
	if (c->root_fd >= 0)
		close(c->root_fd);
	c->root_fd = -1;
}

/* "a/./b/../c" -> "/a/c", in place. Lexical: the name as the agent used
 * it, not where its symlinks lead. */
static void normalize(char *p)
{
	char *out = p, *in = p;

	while (*in) {
		char *seg, *end;
		size_t n;

		while (*in == '/')
			in++;
		seg = in;
		end = strchr(seg, '/');
		n = end ? (size_t)(end - seg) : strlen(seg);
		in = seg + n;
		if (!n || (n == 1 && seg[0] == '.'))
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			while (out > p && *--out != '/') {
			}
			continue;
		}
		*out++ = '/';
		memmove(out, seg, n);
		out += n;
	}
	if (out == p)
		*out++ = '/';
	*out = 0;
}

static int absolute(const char *base, const char *name, char *out, size_t len)
{
	if (!name[0])
		return -ENOENT;
	if (name[0] != '/' && base[0] != '/')
		return -ENOENT; /* the caller was gone */
	if ((size_t)snprintf(out, len, "%s/%s", name[0] == '/' ? "" : base,
			     name) >= len)
		return -ENAMETOOLONG;
	normalize(out);
	return 0;
}

enum judge_mode {
	J_OPEN,	    /* open for writing: an existing regular file */
	J_OPEN_NEW, /* the same, O_CREAT: or a new name */
	J_NEW,	    /* a new name (mkdir, link...): EEXIST wins if it exists */
	J_EXISTING, /* unlink, chmod, rename's old name...: the entry itself */
};

static int fd_read_only(int fd)
{
	struct statvfs sv;

	return fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_RDONLY);
}

/* Would the kernel refuse this name with EROFS (the mount that holds it,
 * resolved in the caller's root, is read-only)? A new name is judged by
 * its parent; an open by the file (a device, fifo or socket opens for
 * writing on a read-only mount). */
static int refused(int root_fd, const char *path, enum judge_mode m)
{
	struct open_how how = {
	    .flags = O_PATH | O_CLOEXEC |
		     (m == J_OPEN || m == J_OPEN_NEW ? 0 : O_NOFOLLOW),
	    .resolve = RESOLVE_IN_ROOT,
	};
	char parent[PATH_MAX], *slash;
	struct stat st;
	int fd, r;

	if (root_fd < 0)
		return 0;
	fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
	if (fd >= 0) {
		r = m != J_NEW && fstat(fd, &st) == 0 &&
		    (m == J_EXISTING || S_ISREG(st.st_mode)) &&
		    fd_read_only(fd);
		close(fd);
		return r;
	}
	if (errno != ENOENT || m == J_OPEN || m == J_EXISTING)
		return 0;
	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (!slash)
		return 0;
	if (slash == parent)
		slash[1] = 0;
	else
		*slash = 0;
	how.flags = O_PATH | O_CLOEXEC;
	fd = syscall(SYS_openat2, root_fd, parent, &how, sizeof(how));
	if (fd < 0)
		return 0;
	r = fd_read_only(fd);
	close(fd);
	return r;
}

/* The deepest operation of the plan holding path, or NULL. */
static const struct aw_plan_op *op_of(const struct aw_plan *plan,
				      const char *path)
{
	const struct aw_plan_op *best = NULL;
	size_t bl = 0;

	for (size_t i = 0; i < plan->n_ops; i++) {
		const struct aw_plan_op *o = &plan->ops[i];
		size_t n = strcmp(o->path, "/") ? strlen(o->path) : 0;

		if (strncmp(path, o->path, n) || (path[n] && path[n] != '/'))
			continue;
		if (!best || n > bl) {
			best = o;
			bl = n;
		}
	}
	return best;
}

/* The rule without the policy's prefix (the report adds it). */
static void rule_of(const struct aw_plan *plan, const char *full, char *out,
		    size_t len)
{
	size_t n = strlen(plan->policy);

	if (!strncmp(full, plan->policy, n) && full[n] == '/')
		full += n + 1;
	snprintf(out, len, "%s", full);
}

static int judge_path(const struct aw_plan *plan, const struct watched *w,
		      const uint64_t args[6],
		      const struct aw_refusal_capture *c, struct aw_refusal *o)
{
	const struct aw_plan_op *op;
	const char *name, *base, *by = "view";
	enum judge_mode m;

	for (int pass = 0; pass < 2; pass++) {
		/* The new name of a rename, link or symlink first: where the
		 * write is; a rename's old name may be the read-only one. */
		int second = pass == 0 && c->name2[0];

		if (pass == 1 && (w->kind != K_TWO || !c->name2[0]))
			return 0;
		name = second ? c->name2 : c->name;
		base = second ? c->base2 : c->base;
		if (w->kind == K_OPEN)
			m = w->flags < 0 || (args[w->flags] & O_CREAT)
				? J_OPEN_NEW
				: J_OPEN;
		else if (second && !strncmp(w->name, "rename", 6))
			m = J_OPEN_NEW; /* replaces an entry, or makes one */
		else if (second || w->create)
			m = J_NEW;
		else
			m = J_EXISTING;
		if (absolute(base, name, o->target, sizeof(o->target)) < 0)
			continue;
		if (refused(c->root_fd, o->target, m))
			break;
		if (pass == 1 || w->kind != K_TWO)
			return 0;
	}
	op = op_of(plan, o->target);
	if (op && op->verb == AW_FS_DENY) {
		rule_of(plan, op->rule, o->rule, sizeof(o->rule));
		by = "mask";
	} else if (op && op->verb == AW_FS_ESCALATE) {
		rule_of(plan, op->rule, o->rule, sizeof(o->rule));
	} else {
		snprintf(o->rule, sizeof(o->rule), "read-only");
	}
	o->action = "write";
	snprintf(o->detail, sizeof(o->detail),
		 "%s refused (EROFS): by the %s; named %s", w->name,
		 strcmp(by, "mask") ? "read-only view" : "mask", name);
	return 1;
}

int aw_refusal_judge(const struct aw_plan *plan, uint32_t pid, int nr,
		     const uint64_t args[6], const struct aw_refusal_capture *c,
		     struct aw_refusal *o)
{
	const struct watched *w = watched_of(nr);

	memset(o, 0, sizeof(*o));
	if (!w)
		return 0;
	if (w->kind == K_SOCKET) {
		int packet = (uint32_t)args[0] == AF_PACKET;

		o->action = "connect";
		snprintf(o->rule, sizeof(o->rule), "network.socket");
		snprintf(o->target, sizeof(o->target), "%s socket",
			 packet ? "packet" : "raw");
		snprintf(o->detail, sizeof(o->detail),
			 "socket(family %u, type %u, protocol %u) refused "
			 "(EPERM) by the kernel's capability check: a session "
			 "has no CAP_NET_RAW",
			 (unsigned)args[0], (unsigned)args[1] & 0xf,
			 (unsigned)args[2]);
		return 1;
	}
	if (w->kind == K_KILL) {
		int target = (int)args[0], n;
		int sig = (int)args[strcmp(w->name, "tgkill") ? 1 : 2];
		char p[64], comm[32] = "";
		struct stat st;
		FILE *f;

		/* Process groups and "everyone" (<= 0) stay inside the
		 * session's pid namespace by construction. */
		if (target <= 0 || c->root_fd < 0)
			return 0;
		snprintf(p, sizeof(p), "proc/%d", target);
		if (fstatat(c->root_fd, p, &st, 0) == 0 || errno != ENOENT)
			return 0; /* in the session: not a refusal */
		snprintf(p, sizeof(p), "/proc/%d/comm", target);
		f = fopen(p, "re");
		if (f) {
			if (fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n")] = 0;
			fclose(f);
		}
		o->action = "signal";
		snprintf(o->rule, sizeof(o->rule), "process.signal-scope");
		snprintf(o->target, sizeof(o->target), "pid %d", target);
		n = snprintf(o->detail, sizeof(o->detail),
			     "%s(%d, signal %d): no such process in the "
			     "session's pid namespace (ESRCH)",
			     w->name, target, sig);
		if (comm[0] && n > 0 && (size_t)n < sizeof(o->detail))
			snprintf(o->detail + n, sizeof(o->detail) - n,
				 "; the host's pid %d is %s, outside the "
				 "session",
				 target, comm);
		return 1;
	}
	(void)pid;
	return judge_path(plan, w, args, c, o);
}
