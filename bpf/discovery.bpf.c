// SPDX-License-Identifier: GPL-2.0-only
/*
 * agentwall kernel side (portable backend): discovery and lineage. The
 * network hooks are network.bpf.c; both are linked into one object.
 *
 *  - sched_process_exec: classify the new image against the signature DFA
 *    before it runs its first instruction (the tracepoint fires inside
 *    execve, after the new mm is installed and before return to user
 *    space). A match outside any session opens a session: the task gets
 *    task local storage carrying the session id.
 *  - sched_process_fork: a child of a session member inherits the storage
 *    (threads too), so double forks, setsid and reparenting to init do not
 *    leave the session: lineage is what the kernel saw, not ppid.
 *  - sched_process_exit: report when a member's thread group is gone.
 *  - signal_generate: a task waiting to be forced that something would
 *    resume before the daemon holds it is killed (enforce mode).
 *
 * Fast path for everything else: one task storage lookup (fork/exit), at
 * exec a scope check plus the DFA walk of the executable's path (and, in
 * enforce mode, one size lookup), at a signal a compare. Discovery only
 * observes, so its early returns are fail-open by construction; forcing
 * (force_check, aw_signal) stops or kills and fails closed; what must not
 * fail silently (a lost event, storage that could not be created) is
 * counted in aw_stats.
 */
#include "common.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the daemon before load (aw_session_salt and the counter are
 * shared with network.bpf.c, whose discovery opens sessions too). */
const volatile __u32 aw_scope_kind = AW_SCOPE_CGROUP;
const volatile __u32 aw_session_salt = 0;

/* Session ids: salt (random per load) << 32 | counter. */
__u32 aw_session_counter = 0;

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} aw_scope_cgroup SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct aw_config);
} aw_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} aw_daemon_alive SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct aw_launcher_id);
} aw_launcher SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AW_SIGS_MAX);
	__type(key, __u32);
	__type(value, __u32);
} aw_sig_mode SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AW_DFA_TRANS_MAX);
	__type(key, struct aw_dfa_key);
	__type(value, struct aw_dfa_next);
} aw_dfa_trans SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AW_DFA_STATES_MAX);
	__type(key, __u32);
	__type(value, struct aw_dfa_state);
} aw_dfa_states SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AW_RULES_MAX);
	__type(key, __u32);
	__type(value, struct aw_rule);
} aw_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AW_INODES_MAX);
	__type(key, struct aw_inode_key);
	__type(value, __u32); /* rule number + 1 */
} aw_inodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AW_SIGS_MAX);
	__type(key, __u32);
	__type(value, struct aw_sig_id);
} aw_sig_ids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AW_CONTENT_SIZES_MAX);
	__type(key, __u64); /* i_size */
	__type(value, __u32);
} aw_content_sizes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, AW_CONTENT_OK_MAX);
	__type(key, struct aw_content_key);
	__type(value, __u32);
} aw_content_ok SEC(".maps");

/* Per-CPU scratch: the exec record is built here, then copied to the ring
 * buffer with its real size (records are up to ~1.6 KiB, most far less). */
/*
 * Loop state for the path walks. It lives in the per-CPU scratch map, not
 * on the stack: the verifier tracks stack values exactly and would explore
 * every iteration of a bpf_loop callback as a new state (the program then
 * exceeds the 1M-instruction budget); values loaded from a map are plain
 * scalars, bounded by the explicit checks below, and the states converge.
 * Kernel pointers are kept as integers and only read with probe reads.
 */
struct walk_ctx {
	__u64 dentry;
	__u64 mnt;
	__u32 state;
	__u32 best; /* rule + 1 */
	__u32 at_root;
	__u32 dead;
};

struct script_ctx {
	__s32 pos;   /* next byte to look at, scanning down */
	__u32 start; /* first byte of the argument */
	__u32 state;
	__u32 best;
	__u64 h;
	__u32 clen;
	__u32 dead;
	__u32 dots;    /* component so far is "." or ".." */
	__u32 stopped; /* met "..": only the suffix seen so far counts */
};

struct argscan_ctx {
	__u32 pos, end;
	__u32 argi;
	__u32 cand_start, cand_end;
	__u32 in_arg;
	__u32 found;
	__u32 _pad;
};

#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wgnu-variable-sized-type-not-at-end"
/* ev.data[] and data[] are the same bytes: the record is contiguous. */
struct aw_scratch {
	struct aw_event_exec ev;
	char data[AW_EXEC_DATA_MAX];
	char name[AW_NAME_MAX];
	struct walk_ctx walk;
	struct script_ctx script;
	struct argscan_ctx scan;
};
#pragma clang diagnostic pop

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct aw_scratch);
} aw_scratch_map SEC(".maps");

static __always_inline struct aw_scratch *scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&aw_scratch_map, &zero);
}

/* Byte i of the exec data area; the comparison is the verifier's bound. */
static __always_inline char data_at(struct aw_scratch *sc, __u32 i)
{
	if (i >= AW_EXEC_DATA_MAX)
		return 0;
	return sc->data[i];
}

/* One DFA step; returns the next state or 0 (dead). */
static __always_inline __u32 dfa_step(__u32 state, __u64 hash)
{
	struct aw_dfa_key key = {.state = state, .name_hash = hash};
	struct aw_dfa_next *next;

	next = bpf_map_lookup_elem(&aw_dfa_trans, &key);
	if (!next) {
		key.name_hash = AW_DFA_OTHER;
		next = bpf_map_lookup_elem(&aw_dfa_trans, &key);
	}
	return next ? next->state : 0;
}

static __always_inline __u32 dfa_accept(__u32 state, int root)
{
	struct aw_dfa_state *s = bpf_map_lookup_elem(&aw_dfa_states, &state);

	if (!s)
		return 0;
	return root ? s->root_accept : s->accept;
}

static __always_inline __u64 hash_finish(__u64 h)
{
	/* 0 means "any other name" in the transition table. */
	return h ? h : 1;
}

/* FNV-1a over name[0..len), last byte first. */
struct hash_ctx {
	__u32 len;
	__u32 _pad;
	__u64 h;
};

static long hash_step(__u32 i, void *data)
{
	struct hash_ctx *hc = data;
	struct aw_scratch *sc = scratch();
	__u32 idx;

	if (!sc || i >= hc->len)
		return 1;
	idx = (hc->len - 1 - i) & (AW_NAME_MAX - 1);
	hc->h ^= (__u8)sc->name[idx];
	hc->h *= AW_FNV_PRIME;
	return 0;
}

/*
 * Match the executable's real path: walk d_parent from the file's dentry,
 * crossing mount points through struct mount, feeding each name to the
 * DFA (leaf first). At most AW_WALK_DEPTH hops; a deeper path can still
 * match suffix patterns, which is all that is lost.
 */
static long walk_step(__u32 idx, void *data)
{
	struct aw_scratch *sc = scratch();
	struct walk_ctx *w;
	struct dentry *d, *parent, *mnt_root;
	struct mount *mnt, *up;
	struct hash_ctx hc = {.h = AW_FNV_OFFSET};
	const unsigned char *np;
	__u32 len, a;

	if (!sc)
		return 1;
	w = &sc->walk;
	d = (struct dentry *)w->dentry;
	mnt = (struct mount *)w->mnt;
	mnt_root = BPF_CORE_READ(mnt, mnt.mnt_root);
	if (d == mnt_root) {
		up = BPF_CORE_READ(mnt, mnt_parent);
		if (up == mnt) {
			w->at_root = 1;
			return 1;
		}
		w->dentry = (__u64)BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = (__u64)up;
		return 0;
	}
	parent = BPF_CORE_READ(d, d_parent);
	if (parent == d) {
		/* Disconnected or pseudo-filesystem root. */
		w->at_root = 1;
		return 1;
	}
	len = BPF_CORE_READ(d, d_name.len);
	np = BPF_CORE_READ(d, d_name.name);
	if (len >= AW_NAME_MAX)
		len = AW_NAME_MAX - 1;
	if (bpf_probe_read_kernel(sc->name, len & (AW_NAME_MAX - 1), np) < 0) {
		w->dead = 1;
		return 1;
	}
	hc.len = len;
	bpf_loop(AW_NAME_MAX, hash_step, &hc, 0);
	w->state = dfa_step(w->state, hash_finish(hc.h));
	if (!w->state) {
		w->dead = 1;
		return 1;
	}
	a = dfa_accept(w->state, 0);
	if (a)
		w->best = a;
	w->dentry = (__u64)parent;
	return 0;
}

static __always_inline __u32 match_exe(struct aw_scratch *sc, struct file *file,
				       __u32 start, __u32 *flags)
{
	struct walk_ctx *w = &sc->walk;
	long n;

	w->dentry = (__u64)BPF_CORE_READ(file, f_path.dentry);
	w->mnt = (__u64)container_of(BPF_CORE_READ(file, f_path.mnt),
				     struct mount, mnt);
	w->state = start;
	w->best = 0;
	w->at_root = 0;
	w->dead = 0;
	n = bpf_loop(AW_WALK_DEPTH, walk_step, NULL, 0);
	if (!w->dead && !w->at_root && n >= AW_WALK_DEPTH)
		*flags |= AW_EXEC_WALK_TRUNC;
	if (w->at_root && !w->dead) {
		__u32 a = dfa_accept(w->state, 1);

		if (a)
			return a;
	}
	return w->best;
}

/*
 * Match a script argument (a string, possibly relative) with the script
 * DFA: scan it backwards, hashing each component last byte first, which
 * is why the hash is defined that way round.
 */
static __always_inline int script_component(struct script_ctx *s)
{
	__u32 a;

	if (s->clen == 0)
		return 0; /* "//" or trailing '/' */
	if (s->dots && s->clen == 1) {
		/* "./x": "." names the same directory, skip it. */
		s->h = AW_FNV_OFFSET;
		s->clen = 0;
		return 0;
	}
	if (s->dots && s->clen == 2) {
		/* ".." cancels what is left of it, never what is right of
		 * it: the suffix already walked is real, so keep its accept
		 * (no evasion by "/x/../node_modules/..."), but walk no
		 * further and never take a whole-path match. */
		s->stopped = 1;
		return 1;
	}
	s->state = dfa_step(s->state, hash_finish(s->h));
	if (!s->state) {
		s->dead = 1;
		return 1;
	}
	a = dfa_accept(s->state, 0);
	if (a)
		s->best = a;
	s->h = AW_FNV_OFFSET;
	s->clen = 0;
	s->dots = 1;
	return 0;
}

static long script_step(__u32 idx, void *data)
{
	struct aw_scratch *sc = scratch();
	struct script_ctx *s;
	char c;

	if (!sc)
		return 1;
	s = &sc->script;
	if (s->pos < (__s32)s->start || s->pos < 0)
		return 1;
	c = data_at(sc, (__u32)s->pos);
	s->pos--;
	if (c == '/')
		return script_component(s);
	if (c != '.')
		s->dots = 0;
	s->h ^= (__u8)c;
	s->h *= AW_FNV_PRIME;
	s->clen++;
	return 0;
}

static __always_inline __u32 match_script(struct aw_scratch *sc, __u32 start,
					  __u32 end, __u32 dfa_start)
{
	struct script_ctx *s = &sc->script;

	if (end <= start || !dfa_start)
		return 0;
	s->pos = (__s32)end - 1;
	s->start = start;
	s->state = dfa_start;
	s->best = 0;
	s->h = AW_FNV_OFFSET;
	s->clen = 0;
	s->dead = 0;
	s->dots = 1;
	s->stopped = 0;
	bpf_loop(AW_ARGS_MAX, script_step, NULL, 0);
	/* Dead or stopped: no longer pattern can match, but the longest
	 * suffix accepted so far stands. */
	if (s->stopped || s->dead)
		return s->best;
	/* The first component (no '/' before it). */
	if (s->clen) {
		script_component(s);
		if (s->stopped || s->dead)
			return s->best;
	}
	if (data_at(sc, start) == '/') {
		__u32 a = dfa_accept(s->state, 1);

		if (a)
			return a;
	}
	return s->best;
}

/* Find the first non-option argument after argv[0] in the args block. */
static long argscan_step(__u32 idx, void *data)
{
	struct aw_scratch *sc = scratch();
	struct argscan_ctx *a;
	char c;

	if (!sc)
		return 1;
	a = &sc->scan;
	if (a->pos >= a->end || a->found)
		return 1;
	c = data_at(sc, a->pos);
	if (!a->in_arg) {
		a->in_arg = 1;
		a->cand_start = a->pos;
	}
	if (c == 0) {
		if (a->argi > 0 && a->pos > a->cand_start &&
		    data_at(sc, a->cand_start) != '-') {
			a->cand_end = a->pos;
			a->found = 1;
			return 1;
		}
		a->argi++;
		a->in_arg = 0;
		if (a->argi > AW_SCRIPT_ARG_MAX)
			return 1;
	}
	a->pos++;
	return 0;
}

/*
 * The argument block of the new image, then the filename as passed to
 * execve (for a script: the script path) right after it, into the exec
 * record. The argument pages were just written by execve in this task, so
 * they are present. Read only when needed: for an interpreter's script,
 * or for a record that will be sent; a non-agent in scope never pays it.
 */
static __always_inline void read_exec_data(struct aw_scratch *sc,
					   struct task_struct *p,
					   struct linux_binprm *bprm,
					   __u32 *flags)
{
	struct aw_event_exec *ev = &sc->ev;
	struct mm_struct *mm = BPF_CORE_READ(p, mm);
	__u64 a0 = BPF_CORE_READ(mm, arg_start);
	__u64 a1 = BPF_CORE_READ(mm, arg_end);
	__u64 alen = a1 > a0 ? a1 - a0 : 0;
	__u32 args_len;
	long n;

	ev->args_len = 0;
	if (alen > AW_ARGS_MAX) {
		alen = AW_ARGS_MAX;
		*flags |= AW_EXEC_ARGS_TRUNC;
	}
	if (alen && bpf_probe_read_user(sc->data, alen, (void *)a0) == 0)
		ev->args_len = alen;
	args_len = ev->args_len;
	if (args_len > AW_ARGS_MAX)
		args_len = AW_ARGS_MAX;
	n = bpf_probe_read_kernel_str(sc->data + args_len, AW_PATH_MAX,
				      BPF_CORE_READ(bprm, filename));
	if (n <= 0) {
		sc->data[args_len] = 0;
		n = 1;
	}
	if (n >= AW_PATH_MAX)
		*flags |= AW_EXEC_PATH_TRUNC;
	ev->filename_len = n > AW_PATH_MAX ? AW_PATH_MAX : n;
}

static __always_inline __u32 classify(struct task_struct *p,
				      struct linux_binprm *bprm,
				      struct aw_scratch *sc, __u32 *flags,
				      int *have_data)
{
	__u32 zero = 0, rule, r;
	struct aw_config *cfgp = bpf_map_lookup_elem(&aw_config, &zero);
	struct aw_config cfg_copy;
	struct aw_config *cfg = &cfg_copy;
	struct aw_rule *ri;
	struct aw_inode_key ik = {};
	struct argscan_ctx *a = &sc->scan;
	__u32 *ir;
	struct file *file = BPF_CORE_READ(bprm, file);

	if (!cfgp)
		return 0;
	/* One read of the start states: user space swaps the value in place
	 * on reload, and both must come from the same database. */
	cfg_copy = *cfgp;
	if (!cfg->exe_start)
		return 0; /* no database loaded yet: nothing to classify with */

	/* Exact file identity first: it survives renames and hard links. */
	ik.dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
	ik.ino = BPF_CORE_READ(file, f_inode, i_ino);
	ik.gen = BPF_CORE_READ(file, f_inode, i_generation);
	ir = bpf_map_lookup_elem(&aw_inodes, &ik);
	if (ir && *ir) {
		*flags |= AW_EXEC_BY_INODE;
		return *ir;
	}

	rule = match_exe(sc, file, cfg->exe_start, flags);
	if (!rule)
		return 0;
	r = rule - 1;
	ri = bpf_map_lookup_elem(&aw_rules, &r);
	if (!ri)
		return 0;
	if (ri->kind != AW_RULE_INTERPRETER)
		return rule;

	/* An interpreter: the agent is its script argument. */
	read_exec_data(sc, p, bprm, flags);
	*have_data = 1;
	a->pos = 0;
	a->end = sc->ev.args_len;
	if (a->end > AW_ARGS_MAX)
		return 0;
	a->argi = 0;
	a->cand_start = a->cand_end = 0;
	a->in_arg = 0;
	a->found = 0;
	bpf_loop(AW_ARGS_MAX, argscan_step, NULL, 0);
	if (!a->found)
		return 0;
	return match_script(sc, a->cand_start, a->cand_end, cfg->script_start);
}

static __always_inline int in_scope(void)
{
	if (aw_scope_kind == AW_SCOPE_HOST)
		return 1;
	/* Not under the scope cgroup (or no cgroup configured: the helper
	 * returns an error) -> not ours to classify. */
	return bpf_current_task_under_cgroup(&aw_scope_cgroup, 0) == 1;
}

#define AW_SIGKILL 9
#define AW_SIGCONT 18
#define AW_SIGSTOP 19

/* Kernel 6.13+ (the minimum this builds for is 6.18; on an older kernel
 * the object fails to load, naming it). bpf_send_signal() signals only
 * the current task; the signal hook runs in the sender's context and must
 * kill the target. */
extern int bpf_send_signal_task(struct task_struct *task, int sig,
				enum pid_type type, __u64 value) __ksym;

/*
 * Forced containment (enforce mode): an agent that opened a session here
 * was not started through the launcher. It has not run a single
 * instruction of its own yet; the signal is delivered on the way back to
 * user space. SIGSTOP holds it for the daemon, which re-executes it
 * through the launcher (src/daemon/force.c). A stop is not a hold by
 * itself (a SIGCONT undoes it): aw_signal kills a FORCING task that
 * something would resume before the daemon marks it HELD. Fail closed:
 *  - no live daemon: nobody would force it: killed;
 *  - already ptraced (PTRACE_TRACEME, or attached): the daemon could not
 *    seize it and its tracer could run it: killed.
 */
static __always_inline void force_check(struct task_struct *p,
					struct aw_task_state *st, __u32 sig,
					__u32 *fl)
{
	__u32 zero = 0;
	__u32 *mode;
	__u64 *alive;

	mode = bpf_map_lookup_elem(&aw_sig_mode, &sig);
	if (sig && mode && *mode == AW_MODE_AUDIT)
		return; /* its policy is in audit mode */
	if (BPF_CORE_READ(p, ptrace)) {
		*fl |= AW_EXEC_FORCE_KILL | AW_EXEC_FORCE_TRACED;
		stat_inc(AW_STAT_FORCE_TRACED);
		bpf_send_signal(AW_SIGKILL);
		return;
	}
	alive = bpf_map_lookup_elem(&aw_daemon_alive, &zero);
	if (alive && *alive > bpf_ktime_get_boot_ns()) {
		st->flags |= AW_TASK_FORCING;
		*fl |= AW_EXEC_FORCE_STOP;
		stat_inc(AW_STAT_FORCED);
		bpf_send_signal(AW_SIGSTOP);
	} else {
		*fl |= AW_EXEC_FORCE_KILL;
		stat_inc(AW_STAT_FORCE_KILLED);
		bpf_send_signal(AW_SIGKILL);
	}
}

static __always_inline int enforcing(void)
{
	__u32 zero = 0;
	struct aw_config *cfg = bpf_map_lookup_elem(&aw_config, &zero);

	return cfg && cfg->mode == AW_MODE_ENFORCE;
}

/*
 * Content identity, the prefilter: neither an inode nor a path matched.
 * One hash lookup on the file's size (in the inode, no I/O) for every
 * such exec; only a file of exactly a known agent binary's size that the
 * daemon has not already cleared is held for hashing.
 */
static __always_inline int content_candidate(struct linux_binprm *bprm)
{
	struct inode *ino = BPF_CORE_READ(bprm, file, f_inode);
	struct aw_content_key k = {};

	k.size = BPF_CORE_READ(ino, i_size);
	if (!bpf_map_lookup_elem(&aw_content_sizes, &k.size))
		return 0; /* fast path: no agent binary has this size */
	k.dev = BPF_CORE_READ(ino, i_sb, s_dev);
	k.ino = BPF_CORE_READ(ino, i_ino);
	k.ctime_sec = BPF_CORE_READ(ino, i_ctime_sec);
	/* Bit 31 of i_ctime_nsec is the multigrain "queried" flag (6.13+),
	 * not part of the time: user space never sees it. */
	k.ctime_nsec = BPF_CORE_READ(ino, i_ctime_nsec) & 0x7fffffffu;
	if (bpf_map_lookup_elem(&aw_content_ok, &k))
		return 0; /* hashed before: not an agent, and unchanged */
	return 1;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(aw_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	struct aw_task_state *st, fresh = {};
	struct aw_scratch *sc;
	struct aw_event_exec *ev;
	__u32 zero = 0, rule, fl = 0, r, size;
	int have_data = 0;

	st = bpf_task_storage_get(&aw_tasks, p, 0, 0);
	/* Fail-open: outside the scope we never classify (scope safety). */
	if (!st && !in_scope())
		return 0;

	sc = bpf_map_lookup_elem(&aw_scratch_map, &zero);
	if (!sc)
		return 0; /* cannot happen: per-CPU array slot 0 */
	ev = &sc->ev;

	/* Being forced: the daemon's execve of the launcher, once, and
	 * nothing else until the session is given (which clears FORCING).
	 * Killed before the image runs; the record says what it exec'd. */
	if (st && (st->flags & AW_TASK_FORCING)) {
		struct inode *fi = BPF_CORE_READ(bprm, file, f_inode);
		struct aw_launcher_id *li =
		    bpf_map_lookup_elem(&aw_launcher, &zero);

		if (!li || (st->flags & AW_TASK_LAUNCHED) ||
		    li->dev != (__u64)BPF_CORE_READ(fi, i_sb, s_dev) ||
		    li->ino != (__u64)BPF_CORE_READ(fi, i_ino)) {
			fl |= AW_EXEC_FORCE_KILL | AW_EXEC_NOT_LAUNCHER;
			stat_inc(AW_STAT_FORCE_KILLED);
			bpf_send_signal(AW_SIGKILL);
		} else {
			st->flags |= AW_TASK_LAUNCHED;
		}
	}

	rule = classify(p, bprm, sc, &fl, &have_data);

	if (!st && !rule) {
		/* Not an agent by path or inode. In enforce mode, a file of
		 * a known agent binary's size is held for the daemon to hash
		 * (a copy, a memfd, a link made before the original was ever
		 * seen). Fail-open otherwise: not an agent. */
		if (!enforcing() || !content_candidate(bprm))
			return 0; /* not an agent: no event, no state */
		fresh.session = ((__u64)aw_session_salt << 32) |
				__sync_fetch_and_add(&aw_session_counter, 1);
		fresh.agent = 0; /* unknown until the daemon hashes it */
		fresh.flags = AW_TASK_ROOT | AW_TASK_CANDIDATE;
		st = bpf_task_storage_get(&aw_tasks, p, &fresh,
					  BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!st) {
			/* Fail closed: it may be an agent, and without the
			 * storage nothing would hold it. */
			stat_inc(AW_STAT_STORAGE_FAIL);
			bpf_send_signal(AW_SIGKILL);
			return 0;
		}
		fl |= AW_EXEC_CONTENT;
		stat_inc(AW_STAT_CONTENT_HELD);
		force_check(p, st, 0, &fl);
	} else if (!st) {
		r = rule - 1;
		struct aw_rule *ri = bpf_map_lookup_elem(&aw_rules, &r);

		if (!ri)
			return 0;
		/* Decide first: the task is marked before anything is
		 * reported, so a full ring buffer never loses the session. */
		fresh.session = ((__u64)aw_session_salt << 32) |
				__sync_fetch_and_add(&aw_session_counter, 1);
		fresh.agent = ri->sig;
		fresh.flags = AW_TASK_ROOT;
		st = bpf_task_storage_get(&aw_tasks, p, &fresh,
					  BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!st) {
			stat_inc(AW_STAT_STORAGE_FAIL);
			return 0;
		}
		stat_inc(AW_STAT_SESSIONS);
		fl |= AW_EXEC_NEW_SESSION;
		if (enforcing())
			force_check(p, st, st->agent, &fl);
	} else if (rule) {
		r = rule - 1;
		struct aw_rule *ri = bpf_map_lookup_elem(&aw_rules, &r);

		if (ri && ri->sig != st->agent) {
			st->agent = ri->sig;
			st->flags |= AW_TASK_SUBAGENT;
			fl |= AW_EXEC_SUBAGENT;
		}
	}

	if (!have_data)
		read_exec_data(sc, p, bprm, &fl);
	fill_proc(&ev->proc, p, st);
	ev->exe_dev = BPF_CORE_READ(bprm, file, f_inode, i_sb, s_dev);
	ev->exe_ino = BPF_CORE_READ(bprm, file, f_inode, i_ino);
	ev->rule = rule;
	ev->flags = fl;
	ev->argc = BPF_CORE_READ(bprm, argc);
	ev->exe_gen = BPF_CORE_READ(bprm, file, f_inode, i_generation);

	size = sizeof(*ev) + ev->filename_len + ev->args_len;
	if (size > sizeof(*ev) + AW_EXEC_DATA_MAX)
		size = sizeof(*ev) + AW_EXEC_DATA_MAX;
	fill_hdr(&ev->hdr, AW_EV_EXEC, size);
	if (bpf_ringbuf_output(&aw_events, sc, size, 0))
		stat_inc(AW_STAT_DROP_EXEC);
	else
		stat_inc(AW_STAT_EVENTS);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(aw_fork, struct task_struct *parent, struct task_struct *child)
{
	struct aw_task_state *st, *cst;
	struct aw_event_fork *ev;

	st = bpf_task_storage_get(&aw_tasks, parent, 0, 0);
	if (!st)
		return 0; /* fast path: not in a session */

	cst = bpf_task_storage_get(&aw_tasks, child, st,
				   BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!cst) {
		stat_inc(AW_STAT_STORAGE_FAIL);
		return 0;
	}
	cst->flags &= ~AW_TASK_ROOT;
	cst->depth = st->depth + 1;

	/* Threads share the process: inherit, but report processes only. */
	if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid))
		return 0;

	ev = bpf_ringbuf_reserve(&aw_events, sizeof(*ev), 0);
	if (!ev) {
		stat_inc(AW_STAT_DROP_FORK);
		return 0;
	}
	fill_hdr(&ev->hdr, AW_EV_FORK, sizeof(*ev));
	fill_proc(&ev->proc, child, cst);
	/* The spawner, which stays the lineage parent after reparenting. */
	ev->parent_pid = BPF_CORE_READ(parent, tgid);
	ev->_pad = 0;
	ev->parent_start_time =
	    BPF_CORE_READ(parent, group_leader, start_boottime);
	bpf_ringbuf_submit(ev, 0);
	stat_inc(AW_STAT_EVENTS);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(aw_exit, struct task_struct *p, bool group_dead)
{
	struct aw_task_state *st;
	struct aw_event_exit *ev;

	st = bpf_task_storage_get(&aw_tasks, p, 0, 0);
	if (!st)
		return 0; /* fast path */
	if (!group_dead)
		return 0; /* other threads still run the process */

	ev = bpf_ringbuf_reserve(&aw_events, sizeof(*ev), 0);
	if (!ev) {
		stat_inc(AW_STAT_DROP_EXIT);
		return 0;
	}
	fill_hdr(&ev->hdr, AW_EV_EXIT, sizeof(*ev));
	fill_proc(&ev->proc, p, st);
	ev->exit_code = BPF_CORE_READ(p, exit_code);
	ev->_pad = 0;
	bpf_ringbuf_submit(ev, 0);
	stat_inc(AW_STAT_EVENTS);
	return 0;
}

/*
 * A stop is not a hold: SIGCONT (a parent's, a shell's `fg`, a loop) ends
 * the exec hook's SIGSTOP, and the agent would run its own code before
 * the daemon's PTRACE_SEIZE. This hook sees every signal as it is
 * generated, in the sender's context with the target's signal lock held.
 * A task still FORCING and not yet HELD by the daemon that is sent
 * SIGCONT, or any signal while a tracer holds it (only another tracer
 * can: the daemon marks HELD as soon as its seize succeeds), is killed:
 * fail closed. SIGCONT has already woken it when this fires; the kill is
 * queued from here (irq_work: interrupts are off under the lock) and runs
 * as the sender drops the lock, while the woken task still has to be
 * scheduled and take that same lock before it can return to user space.
 *
 * Fast path for every other signal on the machine: an integer compare
 * (and a field read); the storage lookup only for SIGCONT or a traced
 * target.
 */
SEC("tp_btf/signal_generate")
int BPF_PROG(aw_signal, int sig, struct kernel_siginfo *info,
	     struct task_struct *t, int group, int result)
{
	struct aw_task_state *st;
	struct aw_event_force_kill *ev;
	struct task_struct *cur;
	__u32 reason;

	if (!t)
		return 0;
	if (sig == AW_SIGCONT)
		reason = AW_FKILL_CONTINUED;
	else if (sig != AW_SIGKILL && BPF_CORE_READ(t, ptrace))
		reason = AW_FKILL_TRACED;
	else
		return 0; /* fast path: cannot resume a stopped task */
	st = bpf_task_storage_get(&aw_tasks, t, 0, 0);
	if (!st || !(st->flags & AW_TASK_FORCING) ||
	    (st->flags & (AW_TASK_HELD | AW_TASK_FORCE_KILLED)))
		return 0; /* not waiting to be forced, or already ours */
	st->flags |= AW_TASK_FORCE_KILLED;
	/* Fail closed: if the kill cannot be queued (-EBUSY: this CPU's
	 * one deferred-signal slot is in use), say so in the record; the
	 * daemon kills it when it reads the record. */
	if (bpf_send_signal_task(t, AW_SIGKILL, PIDTYPE_TGID, 0))
		reason |= AW_FKILL_NOT_QUEUED;
	stat_inc(AW_STAT_FORCE_CONTINUED);

	ev = bpf_ringbuf_reserve(&aw_events, sizeof(*ev), 0);
	if (!ev) {
		stat_inc(AW_STAT_DROP_FORCE);
		return 0;
	}
	fill_hdr(&ev->hdr, AW_EV_FORCE_KILL, sizeof(*ev));
	fill_proc(&ev->proc, t, st);
	cur = bpf_get_current_task_btf();
	ev->sender_pid = cur->tgid;
	ev->sender_uid = BPF_CORE_READ(cur, cred, uid.val);
	ev->sig = sig;
	ev->reason = reason;
	BPF_CORE_READ_STR_INTO(&ev->sender_comm, cur, comm);
	bpf_ringbuf_submit(ev, 0);
	stat_inc(AW_STAT_EVENTS);
	return 0;
}
