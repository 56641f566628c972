// SPDX-License-Identifier: GPL-2.0-only
/*
 * agentwall kernel side: what a session's sandbox refused without any
 * hook of ours deciding. A write into the read-only view or under a
 * mask's placeholder fails with EROFS at the mount, before any open
 * event; Landlock's EACCES and a capability check's EPERM (a raw or
 * packet socket) are decided in the kernel and leave nothing behind. So
 * this program looks at the exit of every syscall and reports a session
 * member's failed write-like call, with the path it named, to the
 * daemon, which makes the path absolute and names the rule
 * (src/daemon/refusals.c).
 *
 * Cost: every task's syscalls take the tracing exit path while this is
 * attached; the program first compares the return value (a successful
 * call, and every error but the three above, returns at once), then does
 * one task storage lookup. Only a session member's failure with one of
 * those errors goes further. Reports are limited per CPU
 * (AW_REFUSED_PER_SEC a second); the rest are counted in aw_stats.
 */
#include "common.bpf.h"

#define EPERM 1
#define EACCES 13
#define ESRCH 3
#define EROFS 30

#define O_WRONLY 01
#define O_RDWR 02
#define O_CREAT 0100
#define O_TRUNC 01000

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define AF_PACKET 17
#define SOCK_RAW 3

struct rate {
	__u64 sec;
	__u64 n;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rate);
} aw_refused_rate SEC(".maps");

/* Where a syscall's names are: the index of the path argument (and of
 * its directory fd, -1 for the cwd), and of a second name. */
struct shape {
	__s8 path, dfd, path2, dfd2;
	__u8 open; /* flags at argument `open - 1` (0: not an open) */
};

static __always_inline int shape_of(long nr, struct shape *s)
{
	s->path = 0;
	s->dfd = -1;
	s->path2 = -1;
	s->dfd2 = -1;
	s->open = 0;
	switch (nr) {
	case 2: /* open */
		s->open = 2;
		return 1;
	case 85:  /* creat */
	case 83:  /* mkdir */
	case 84:  /* rmdir */
	case 87:  /* unlink */
	case 76:  /* truncate */
	case 90:  /* chmod */
	case 92:  /* chown */
	case 94:  /* lchown */
	case 133: /* mknod */
	case 188: /* setxattr */
	case 189: /* lsetxattr */
	case 197: /* removexattr */
	case 198: /* lremovexattr */
		return 1;
	case 257: /* openat */
		s->open = 3;
		/* fall through */
	case 258: /* mkdirat */
	case 263: /* unlinkat */
	case 268: /* fchmodat */
	case 452: /* fchmodat2 */
	case 260: /* fchownat */
	case 259: /* mknodat */
		s->path = 1;
		s->dfd = 0;
		return 1;
	case 437: /* openat2: flags are the first field of struct open_how */
		s->path = 1;
		s->dfd = 0;
		s->open = 0x80 | 3;
		return 1;
	case 82: /* rename */
	case 86: /* link */
	case 88: /* symlink: path 0 is the link's content, not a name */
		s->path2 = 1;
		return 1;
	case 264: /* renameat */
	case 316: /* renameat2 */
	case 265: /* linkat */
		s->path = 1;
		s->dfd = 0;
		s->path2 = 3;
		s->dfd2 = 2;
		return 1;
	case 266: /* symlinkat */
		s->path2 = 2;
		s->dfd2 = 1;
		return 1;
	}
	return 0;
}

static __always_inline __u64 arg_of(struct pt_regs *regs, int i)
{
	switch (i) {
	case 0:
		return regs->di;
	case 1:
		return regs->si;
	case 2:
		return regs->dx;
	case 3:
		return regs->r10;
	case 4:
		return regs->r8;
	}
	return regs->r9;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(aw_sys_exit, struct pt_regs *regs, long ret)
{
	struct aw_task_state *st;
	struct task_struct *t;
	struct aw_event_refused *e;
	struct shape s;
	struct rate *r;
	__u32 zero = 0;
	__u64 now, flags = 0;
	long nr;

	if (ret != -EROFS && ret != -EACCES && ret != -EPERM && ret != -ESRCH)
		return 0;
	t = bpf_get_current_task_btf();
	st = bpf_task_storage_get(&aw_tasks, t, 0, 0);
	if (!st || !(st->flags & AW_TASK_CONTAINED))
		return 0;
	nr = regs->orig_ax;
	if (nr == 62 || nr == 200 || nr == 234) {
		/* kill, tkill, tgkill: a pid the session cannot name (its
		 * own pid namespace: ESRCH) or may not signal (Landlock's
		 * scope: EPERM). */
		if (ret == -EROFS || ret == -EACCES)
			return 0;
		s.path = -1;
		s.path2 = -1;
		s.dfd = -1;
		s.dfd2 = -1;
		s.open = 0;
	} else if (ret == -ESRCH) {
		return 0;
	} else if (nr == 42) {
		/* connect: an abstract Unix socket outside the session,
		 * refused by Landlock's scope (the cgroup hooks record the
		 * IP connections they refuse). */
		__u16 fam = 0;

		if (ret != -EPERM)
			return 0;
		bpf_probe_read_user(&fam, sizeof(fam), (void *)regs->si);
		if (fam != AF_UNIX)
			return 0;
		s.path = -1;
		s.path2 = -1;
		s.dfd = -1;
		s.dfd2 = -1;
		s.open = 0;
	} else if (nr == 41) { /* socket: a raw or packet socket refused by a
			   capability check (the cgroup hooks record the
			   other sockets they refuse) */
		__u64 fam = regs->di, type = regs->si & 0xf;

		if (ret == -EROFS || (fam != AF_PACKET &&
				      !((fam == AF_INET || fam == AF_INET6) &&
					type == SOCK_RAW)))
			return 0;
		s.path = -1;
		s.path2 = -1;
		s.dfd = -1;
		s.dfd2 = -1;
		s.open = 0;
	} else if (!shape_of(nr, &s)) {
		return 0;
	}
	if (s.open) {
		flags = arg_of(regs, (s.open & 0x7f) - 1);
		if (s.open & 0x80)
			bpf_probe_read_user(&flags, sizeof(flags),
					    (void *)arg_of(regs, 2));
		/* A read refused by a mask is the permission thread's
		 * record (EPERM); a read's EACCES is the file's mode. */
		if (!(flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) ||
		    ret == -EPERM)
			return 0;
	}
	r = bpf_map_lookup_elem(&aw_refused_rate, &zero);
	if (!r)
		return 0;
	now = bpf_ktime_get_boot_ns() / 1000000000ull;
	if (r->sec != now) {
		r->sec = now;
		r->n = 0;
	}
	if (++r->n > AW_REFUSED_PER_SEC) {
		stat_inc(AW_STAT_REFUSED_UNREPORTED);
		return 0;
	}
	e = bpf_ringbuf_reserve(&aw_events, sizeof(*e), 0);
	if (!e) {
		stat_inc(AW_STAT_DROP_REFUSED);
		return 0;
	}
	fill_hdr(&e->hdr, AW_EV_REFUSED, sizeof(*e));
	fill_proc(&e->proc, t, st);
	e->nr = nr;
	e->error = -ret;
	e->dfd = s.dfd >= 0 ? (__s32)arg_of(regs, s.dfd) : -100;
	e->dfd2 = s.dfd2 >= 0 ? (__s32)arg_of(regs, s.dfd2) : -100;
	/* socket: family, type, protocol; kill: pid, signal; tkill: tid,
	 * signal; tgkill: tgid, tid, signal. */
	e->arg = s.path < 0 ? regs->di : 0;
	e->arg2 = s.path < 0 ? regs->si : 0;
	e->arg3 = s.path < 0 ? regs->dx : 0;
	if (s.open)
		e->arg = flags;
	e->path[0] = 0;
	e->path2[0] = 0;
	if (s.path >= 0)
		bpf_probe_read_user_str(e->path, sizeof(e->path),
					(void *)arg_of(regs, s.path));
	if (s.path2 >= 0)
		bpf_probe_read_user_str(e->path2, sizeof(e->path2),
					(void *)arg_of(regs, s.path2));
	if (nr == 42) /* sun_path, bytes (an abstract name starts with 0) */
		bpf_probe_read_user(e->path, 108, (void *)(regs->si + 2));
	bpf_ringbuf_submit(e, 0);
	stat_inc(AW_STAT_EVENTS);
	return 0;
}
