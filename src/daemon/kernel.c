// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel-facing layer of the portable backend: open -> configure ->
 * load -> attach -> pin, signature tables written into maps, ring buffer
 * drained, and everything undone on close.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agentwall.skel.h"
#include "daemon/daemon.h"
#include "shared/util.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

struct aw_kernel {
	struct agentwall *skel;
	struct bpf_link *links[4];
	struct bpf_link *net_links[AW_NET_LINKS];
	int net_attached; /* the socket hooks are on the scope cgroup */
	char net_error[256];
	struct ring_buffer *rb;
	void *ring_pos; /* read-only: the consumer and producer pages */
	size_t ring_pos_len;
	int (*handler)(void *ctx, const void *data, size_t size);
	void *handler_ctx;
	int scope_fd;
	char bpffs_dir[PATH_MAX];
	int pinned;
	int dir_fd;    /* the pin directory, flock'ed for our life */
	int adopted;   /* maps taken over from a previous daemon */
	unsigned bank; /* bank of the tables in force */
	int have_tables;
	enum aw_mode mode;
};

static const char *const link_names[4] = {"link_fork", "link_exit",
					  "link_signal", "link_exec"};
static const char *const net_link_names[AW_NET_LINKS] = {
    "link_connect4",	 "link_connect6",     "link_sendmsg4",
    "link_sendmsg6",	 "link_recvmsg4",     "link_recvmsg6",
    "link_getpeername4", "link_getpeername6", "link_sock_create",
    "link_setsockopt",	 "link_egress",	      "link_bind4",
    "link_bind6",	 "link_ingress"};

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	/* The verifier log arrives at WARN on load failure: keep it. */
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static int ring_cb(void *ctx, void *data, size_t size)
{
	struct aw_kernel *k = ctx;

	if (k->handler)
		return k->handler(k->handler_ctx, data, size);
	return 0;
}

void aw_kernel_set_handler(struct aw_kernel *k,
			   int (*fn)(void *ctx, const void *data, size_t size),
			   void *ctx)
{
	k->handler = fn;
	k->handler_ctx = ctx;
}

static int is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

/*
 * Make sure the pin directory exists on a bpffs and take it: an exclusive
 * flock on the directory, held for the daemon's life, tells a running
 * daemon from a crashed one. The conventional mount point /sys/fs/bpf is
 * mounted if nothing is there yet (as systemd does at boot). Returns 1 if
 * the directory was already there (pins of a previous daemon to adopt).
 */
static int pin_dir_take(struct aw_kernel *k, const char *dir, char *err,
			size_t errlen)
{
	char parent[PATH_MAX];
	char *slash;
	int existed = 0;

	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent) {
		snprintf(err, errlen,
			 "--bpffs-dir %s: must be a directory "
			 "below a bpffs mount",
			 dir);
		return -EINVAL;
	}
	*slash = 0;
	if (!is_bpffs(parent)) {
		if (strcmp(parent, "/sys/fs/bpf") != 0) {
			snprintf(err, errlen,
				 "%s is not a bpffs mount "
				 "(mount -t bpf bpf %s)",
				 parent, parent);
			return -ENOTDIR;
		}
		if (mount("bpf", parent, "bpf", 0, "mode=0700") < 0) {
			snprintf(err, errlen, "mount bpffs on %s: %s", parent,
				 strerror(errno));
			return -errno;
		}
	}
	if (mkdir(dir, 0700) < 0) {
		if (errno != EEXIST) {
			snprintf(err, errlen, "mkdir %s: %s", dir,
				 strerror(errno));
			return -errno;
		}
		existed = 1;
	}
	k->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (k->dir_fd < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	if (flock(k->dir_fd, LOCK_EX | LOCK_NB) < 0) {
		int r = -errno;

		snprintf(err, errlen,
			 "%s is in use by a running agentwalld "
			 "(each instance needs its own --bpffs-dir)",
			 dir);
		close(k->dir_fd);
		k->dir_fd = -1;
		return r == -EWOULDBLOCK ? -EBUSY : r;
	}
	return existed;
}

/* Take over the maps a previous daemon pinned (it crashed or was killed:
 * its links kept running and its task storage kept every session). A map
 * whose shape changed is not reused; the warning says so. */
static void maps_adopt(struct aw_kernel *k)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, k->skel->obj)
	{
		char p[PATH_MAX + 64];
		int fd;

		if (bpf_map__is_internal(m))
			continue;
		snprintf(p, sizeof(p), "%s/%s", k->bpffs_dir, bpf_map__name(m));
		fd = bpf_obj_get(p);
		if (fd < 0)
			continue;
		{
			struct bpf_map_info info = {};
			__u32 len = sizeof(info);
			int same;

			same = !bpf_obj_get_info_by_fd(fd, &info, &len) &&
			       info.type == bpf_map__type(m) &&
			       info.key_size == bpf_map__key_size(m) &&
			       info.value_size == bpf_map__value_size(m) &&
			       (info.type == BPF_MAP_TYPE_RINGBUF ||
				info.max_entries == bpf_map__max_entries(m));
			if (!same) {
				fprintf(
				    stderr,
				    "agentwalld: %s: not compatible "
				    "with this build, replaced (its state is "
				    "lost)\n",
				    p);
				close(fd);
				continue;
			}
		}
		if (bpf_map__reuse_fd(m, fd) < 0)
			fprintf(stderr,
				"agentwalld: %s: not compatible with "
				"this build, replaced (its state is lost)\n",
				p);
		else
			k->adopted = 1;
		close(fd);
	}
}

static void pins_remove(struct aw_kernel *k)
{
	char p[PATH_MAX + 64];
	struct bpf_map *m;

	if (!k->pinned)
		return;
	for (size_t i = 0; i < AW_ARRAY_SIZE(link_names); i++) {
		snprintf(p, sizeof(p), "%s/%s", k->bpffs_dir, link_names[i]);
		unlink(p);
	}
	for (size_t i = 0; i < AW_NET_LINKS; i++) {
		snprintf(p, sizeof(p), "%s/%s", k->bpffs_dir,
			 net_link_names[i]);
		unlink(p);
	}
	bpf_object__for_each_map(m, k->skel->obj)
	{
		if (bpf_map__is_internal(m))
			continue;
		snprintf(p, sizeof(p), "%s/%s", k->bpffs_dir, bpf_map__name(m));
		unlink(p);
	}
	rmdir(k->bpffs_dir);
	k->pinned = 0;
}

/*
 * The socket hooks go on the scope cgroup (and so apply to it and its
 * descendants only); with --scope host on the cgroup v2 root. Without
 * cgroup v2 the daemon runs without network confinement, and says so.
 */
static void net_attach(struct aw_kernel *k, const struct aw_opts *o)
{
	struct bpf_program *progs[AW_NET_LINKS] = {
	    k->skel->progs.aw_connect4,	    k->skel->progs.aw_connect6,
	    k->skel->progs.aw_sendmsg4,	    k->skel->progs.aw_sendmsg6,
	    k->skel->progs.aw_recvmsg4,	    k->skel->progs.aw_recvmsg6,
	    k->skel->progs.aw_getpeername4, k->skel->progs.aw_getpeername6,
	    k->skel->progs.aw_sock_create,  k->skel->progs.aw_setsockopt,
	    k->skel->progs.aw_egress,	    k->skel->progs.aw_bind4,
	    k->skel->progs.aw_bind6,	    k->skel->progs.aw_ingress};
	static const char *const roots[] = {"/sys/fs/cgroup/unified",
					    "/sys/fs/cgroup"};
	int cg = -1, sessions_cg;

	if (o->scope_kind == AW_SCOPE_CGROUP) {
		cg = dup(k->scope_fd);
	} else {
		for (size_t i = 0; i < AW_ARRAY_SIZE(roots) && cg < 0; i++) {
			struct statfs st;

			cg = open(roots[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (cg >= 0 && (fstatfs(cg, &st) < 0 ||
					st.f_type != CGROUP2_SUPER_MAGIC)) {
				close(cg);
				cg = -1;
			}
		}
	}
	if (cg < 0) {
		snprintf(k->net_error, sizeof(k->net_error),
			 "no cgroup v2 to attach the socket hooks to");
		return;
	}
	/* The ingress hook (listeners) runs on every packet its cgroup's
	 * sockets receive: it goes on the sessions' parent only, where
	 * every session whose network is confined is placed (sessions.c),
	 * so that processes outside sessions never pay for it. */
	if (mkdirat(cg, "agentwall-sessions", 0755) < 0 && errno != EEXIST) {
		snprintf(k->net_error, sizeof(k->net_error),
			 "sessions cgroup: %s", strerror(errno));
		close(cg);
		return;
	}
	sessions_cg = openat(cg, "agentwall-sessions",
			     O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sessions_cg < 0) {
		snprintf(k->net_error, sizeof(k->net_error),
			 "sessions cgroup: %s", strerror(errno));
		close(cg);
		return;
	}
	for (size_t i = 0; i < AW_NET_LINKS; i++) {
		char p[PATH_MAX + 64];

		k->net_links[i] = bpf_program__attach_cgroup(
		    progs[i],
		    progs[i] == k->skel->progs.aw_ingress ? sessions_cg : cg);
		if (!k->net_links[i]) {
			snprintf(k->net_error, sizeof(k->net_error),
				 "attach %s: %s", bpf_program__name(progs[i]),
				 strerror(errno));
			break;
		}
		snprintf(p, sizeof(p), "%s/%s", o->bpffs_dir,
			 net_link_names[i]);
		unlink(p); /* a previous daemon's: ours is attached */
		bpf_link__pin(k->net_links[i], p);
	}
	close(cg);
	close(sessions_cg);
	if (k->net_error[0]) {
		for (size_t i = 0; i < AW_NET_LINKS; i++) {
			char p[PATH_MAX + 64];

			snprintf(p, sizeof(p), "%s/%s", o->bpffs_dir,
				 net_link_names[i]);
			if (k->net_links[i])
				unlink(p);
			bpf_link__destroy(k->net_links[i]);
			k->net_links[i] = NULL;
		}
		return;
	}
	k->net_attached = 1;
}

const char *aw_kernel_net_error(struct aw_kernel *k)
{
	return k->net_attached ? NULL : k->net_error;
}

int aw_kernel_net_fd(struct aw_kernel *k, enum aw_net_map m)
{
	switch (m) {
	case AW_NETMAP_SESSIONS:
		return bpf_map__fd(k->skel->maps.aw_net_sessions);
	case AW_NETMAP_ALLOW:
		return bpf_map__fd(k->skel->maps.aw_net_allow);
	case AW_NETMAP_CIDRS:
		return bpf_map__fd(k->skel->maps.aw_net_cidrs);
	case AW_NETMAP_LLM:
		return bpf_map__fd(k->skel->maps.aw_llm_addrs);
	case AW_NETMAP_CGROUPS:
		return bpf_map__fd(k->skel->maps.aw_net_cgroups);
	}
	return -1;
}

int aw_kernel_open(const struct aw_opts *o, struct aw_kernel **ret, char *err,
		   size_t errlen)
{
	struct aw_kernel *k;
	struct bpf_program *progs[4];
	uint32_t salt = 0;
	int r;

	libbpf_set_print(libbpf_print);
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->scope_fd = -1;
	k->mode = o->mode;
	k->dir_fd = -1;
	snprintf(k->bpffs_dir, sizeof(k->bpffs_dir), "%s", o->bpffs_dir);

	k->skel = agentwall__open();
	if (!k->skel) {
		r = -errno;
		snprintf(err, errlen, "open BPF object: %s", strerror(-r));
		goto fail;
	}
	if (getrandom(&salt, sizeof(salt), 0) != sizeof(salt))
		salt = (uint32_t)aw_now_realtime_ns();
	k->skel->rodata->aw_session_salt = salt;
	k->skel->rodata->aw_scope_kind = o->scope_kind;
	/* The consumer maps the ring twice (wrap-around): it counts twice in
	 * the daemon's RSS, so the default is modest and bursts beyond it are
	 * counted drops, never silent. */
	r = bpf_map__set_max_entries(k->skel->maps.aw_events,
				     o->ring_mib << 20);
	if (r) {
		snprintf(err, errlen, "ring buffer size: %s", strerror(-r));
		goto fail;
	}

	/* The scope is checked before anything is created or taken. */
	if (o->scope_kind == AW_SCOPE_CGROUP) {
		struct statfs st;

		k->scope_fd =
		    open(o->scope_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (k->scope_fd < 0) {
			r = -errno;
			snprintf(err, errlen, "--scope cgroup:%s: %s",
				 o->scope_path, strerror(errno));
			goto fail;
		}
		if (fstatfs(k->scope_fd, &st) < 0 ||
		    st.f_type != CGROUP2_SUPER_MAGIC) {
			r = -EINVAL;
			snprintf(err, errlen,
				 "--scope cgroup:%s: not a cgroup "
				 "v2 directory",
				 o->scope_path);
			goto fail;
		}
	}
	r = pin_dir_take(k, o->bpffs_dir, err, errlen);
	if (r < 0)
		goto fail;
	if (r == 1)
		maps_adopt(k);
	else
		k->pinned = 1; /* ours from the start: undo on failure */

	r = agentwall__load(k->skel);
	if (r) {
		snprintf(err, errlen,
			 "load BPF programs: %s (the verifier "
			 "log, if any, is above)",
			 strerror(-r));
		goto fail;
	}

	if (o->scope_kind == AW_SCOPE_CGROUP) {
		uint32_t zero = 0;

		r = bpf_map_update_elem(
		    bpf_map__fd(k->skel->maps.aw_scope_cgroup), &zero,
		    &k->scope_fd, BPF_ANY);
		if (r) {
			r = -errno;
			snprintf(err, errlen, "scope cgroup map: %s",
				 strerror(errno));
			goto fail;
		}
	} else {
		uint32_t zero = 0;

		/* An adopted scope map may still name the old cgroup. */
		bpf_map_delete_elem(bpf_map__fd(k->skel->maps.aw_scope_cgroup),
				    &zero);
	}
	if (k->adopted) {
		/* Keep the database bank in force until ours replaces it. */
		struct aw_config cfg = {};
		uint32_t zero = 0;

		if (bpf_map_lookup_elem(bpf_map__fd(k->skel->maps.aw_config),
					&zero, &cfg) == 0 &&
		    cfg.exe_start) {
			k->have_tables = 1;
			k->bank = cfg.exe_start >= AW_DFA_BANK_STATES;
		}
	}

	/* Fork and exit before exec: once a root is classified, its
	 * children must already be inherited. The signal hook before exec
	 * too: an agent is never stopped for forcing without it. */
	progs[0] = k->skel->progs.aw_fork;
	progs[1] = k->skel->progs.aw_exit;
	progs[2] = k->skel->progs.aw_signal;
	progs[3] = k->skel->progs.aw_exec;
	for (size_t i = 0; i < AW_ARRAY_SIZE(link_names); i++) {
		char p[PATH_MAX + 64];

		if (progs[i] == k->skel->progs.aw_signal &&
		    o->mode != AW_MODE_ENFORCE) {
			/* Only forcing needs it (nothing is stopped in audit
			 * mode): every signal on the machine would pay for
			 * it. A previous enforcing daemon's link goes. */
			snprintf(p, sizeof(p), "%s/%s", o->bpffs_dir,
				 link_names[i]);
			unlink(p);
			continue;
		}
		k->links[i] = bpf_program__attach(progs[i]);
		if (!k->links[i]) {
			r = -errno;
			snprintf(err, errlen, "attach %s: %s",
				 bpf_program__name(progs[i]), strerror(-r));
			goto fail;
		}
		snprintf(p, sizeof(p), "%s/%s", o->bpffs_dir, link_names[i]);
		/* A previous daemon's link: ours is attached already, so
		 * dropping its pin (which detaches it) leaves no gap. */
		unlink(p);
		r = bpf_link__pin(k->links[i], p);
		if (r) {
			snprintf(err, errlen, "pin %s: %s", p, strerror(-r));
			goto fail;
		}
	}
	{
		struct bpf_map *m;

		bpf_object__for_each_map(m, k->skel->obj)
		{
			char p[PATH_MAX + 64];

			if (bpf_map__is_internal(m))
				continue;
			snprintf(p, sizeof(p), "%s/%s", o->bpffs_dir,
				 bpf_map__name(m));
			if (k->adopted) {
				struct bpf_map_info a = {}, b = {};
				__u32 la = sizeof(a), lb = sizeof(b);
				int fd = bpf_obj_get(p);

				/* Already pinned: this is the adopted map. */
				if (fd >= 0 &&
				    !bpf_obj_get_info_by_fd(fd, &a, &la) &&
				    !bpf_obj_get_info_by_fd(bpf_map__fd(m), &b,
							    &lb) &&
				    a.id == b.id) {
					close(fd);
					continue;
				}
				if (fd >= 0)
					close(fd);
				unlink(p);
			}
			r = bpf_map__pin(m, p);
			if (r) {
				snprintf(err, errlen, "pin %s: %s", p,
					 strerror(-r));
				goto fail;
			}
		}
	}

	net_attach(k, o);

	k->rb = ring_buffer__new(bpf_map__fd(k->skel->maps.aw_events), ring_cb,
				 k, NULL);
	if (!k->rb) {
		r = -errno;
		snprintf(err, errlen, "ring buffer: %s", strerror(-r));
		goto fail;
	}
	/* The positions, for the fill gauge (metrics): libbpf 1.1 does not
	 * give them; a read-only mapping of the first two pages does. */
	{
		long pg = sysconf(_SC_PAGESIZE);
		void *p = mmap(NULL, 2 * (size_t)pg, PROT_READ, MAP_SHARED,
			       bpf_map__fd(k->skel->maps.aw_events), 0);

		if (p != MAP_FAILED) {
			k->ring_pos = p;
			k->ring_pos_len = 2 * (size_t)pg;
		}
	}
	k->pinned = 1;
	*ret = k;
	return 0;
fail:
	aw_kernel_close(k);
	return r < 0 ? r : -EIO;
}

int aw_kernel_ring_fd(struct aw_kernel *k)
{
	return ring_buffer__epoll_fd(k->rb);
}

int aw_kernel_poll(struct aw_kernel *k)
{
	return ring_buffer__consume(k->rb);
}

int aw_kernel_ring_positions(struct aw_kernel *k, const uint64_t **ret_cons,
			     const uint64_t **ret_prod, uint64_t *ret_size)
{
	if (!k->ring_pos)
		return -ENODATA;
	*ret_cons = k->ring_pos;
	*ret_prod =
	    (const uint64_t *)((const char *)k->ring_pos + k->ring_pos_len / 2);
	*ret_size = bpf_map__max_entries(k->skel->maps.aw_events);
	return 0;
}

void aw_kernel_stats(struct aw_kernel *k, uint64_t ret[AW_STAT_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(k->skel->maps.aw_stats);

	memset(ret, 0, sizeof(uint64_t) * AW_STAT_MAX);
	if (ncpu <= 0)
		return;
	{
		uint64_t vals[ncpu];

		for (uint32_t i = 0; i < AW_STAT_MAX; i++) {
			if (bpf_map_lookup_elem(fd, &i, vals))
				continue;
			for (int c = 0; c < ncpu; c++)
				ret[i] += vals[c];
		}
	}
}

/*
 * Write a compiled database into the bank not in force, switch the config
 * to it with one update, then clear the old bank. A reader in the middle
 * of a walk sees either bank consistently: states of one bank only lead to
 * states of the same bank.
 */
/* Empty a bank before it is written: whatever a failed load, or a daemon
 * killed mid-reload, left there must not mix with the new tables (a stale
 * (state, name) entry would win over the new "other" transition). */
static void bank_clear(struct aw_kernel *k, unsigned bank)
{
	int fd_trans = bpf_map__fd(k->skel->maps.aw_dfa_trans);
	int fd_states = bpf_map__fd(k->skel->maps.aw_dfa_states);
	uint32_t base = bank * AW_DFA_BANK_STATES;
	struct aw_dfa_key key, next;
	int more = bpf_map_get_next_key(fd_trans, NULL, &key) == 0;

	while (more) {
		more = bpf_map_get_next_key(fd_trans, &key, &next) == 0;
		if (key.state >= base && key.state < base + AW_DFA_BANK_STATES)
			bpf_map_delete_elem(fd_trans, &key);
		key = next;
	}
	for (uint32_t s = 0; s < AW_DFA_BANK_STATES; s++) {
		struct aw_dfa_state empty = {};
		uint32_t kk = base + s;

		bpf_map_update_elem(fd_states, &kk, &empty, BPF_ANY);
	}
}

int aw_kernel_load_sigs(struct aw_kernel *k, const struct aw_compiled *c,
			const uint32_t *rule_sig_numbers, char *err,
			size_t errlen)
{
	unsigned bank = k->have_tables ? !k->bank : 0;
	uint32_t sbase = bank * AW_DFA_BANK_STATES;
	uint32_t rbase = bank * AW_RULES_BANK;
	int fd_trans = bpf_map__fd(k->skel->maps.aw_dfa_trans);
	int fd_states = bpf_map__fd(k->skel->maps.aw_dfa_states);
	int fd_rules = bpf_map__fd(k->skel->maps.aw_rules);
	int fd_cfg = bpf_map__fd(k->skel->maps.aw_config);
	struct aw_config cfg = {};
	uint32_t zero = 0;

	if (c->n_states >= AW_DFA_BANK_STATES || c->n_rules >= AW_RULES_BANK ||
	    c->n_trans > AW_DFA_TRANS_MAX / 2) {
		snprintf(err, errlen,
			 "compiled signatures too large "
			 "(%zu states, %zu rules, %zu transitions)",
			 c->n_states, c->n_rules, c->n_trans);
		return -E2BIG;
	}
	bank_clear(k, bank);
	for (size_t i = 0; i < c->n_rules; i++) {
		struct aw_rule rule = {
		    .sig = rule_sig_numbers[i],
		    .kind = c->rules[i].kind,
		};
		uint32_t key = rbase + i;

		if (bpf_map_update_elem(fd_rules, &key, &rule, BPF_ANY))
			goto map_fail;
	}
	for (size_t s = 0; s < c->n_states; s++) {
		struct aw_dfa_state st = {
		    .accept = c->accept[s] ? rbase + c->accept[s] : 0,
		    .root_accept =
			c->root_accept[s] ? rbase + c->root_accept[s] : 0,
		};
		uint32_t key = sbase + s;

		if (bpf_map_update_elem(fd_states, &key, &st, BPF_ANY))
			goto map_fail;
	}
	for (size_t i = 0; i < c->n_trans; i++) {
		struct aw_dfa_key key = {
		    .state = sbase + c->trans[i].state,
		    .name_hash = c->trans[i].name_hash,
		};
		struct aw_dfa_next next = {.state = sbase + c->trans[i].next};

		if (bpf_map_update_elem(fd_trans, &key, &next, BPF_ANY))
			goto map_fail;
	}

	cfg.exe_start = c->exe_start ? sbase + c->exe_start : 0;
	cfg.script_start = c->script_start ? sbase + c->script_start : 0;
	cfg.generation = bank;
	cfg.mode = k->mode;
	if (bpf_map_update_elem(fd_cfg, &zero, &cfg, BPF_ANY))
		goto map_fail;

	/* The old bank is left as it is: a walk that read the old start
	 * state just before the switch finishes on consistent tables. It is
	 * cleared when the next load takes it. */
	/* Exact-file identities point at rule numbers of the old bank: the
	 * daemon re-adds them for the new one (aw_kernel_set_inode). */
	{
		int fd_ino = bpf_map__fd(k->skel->maps.aw_inodes);
		struct aw_inode_key ik, nk;
		int more = bpf_map_get_next_key(fd_ino, NULL, &ik) == 0;

		while (more) {
			more = bpf_map_get_next_key(fd_ino, &ik, &nk) == 0;
			bpf_map_delete_elem(fd_ino, &ik);
			ik = nk;
		}
	}
	k->bank = bank;
	k->have_tables = 1;
	return 0;
map_fail:
	snprintf(err, errlen, "write signature tables: %s", strerror(errno));
	return -errno;
}

void aw_kernel_close(struct aw_kernel *k)
{
	aw_kernel_release(k, 1);
}

/*
 * remove_pins = 0 leaves the pins (and with them the sessions' kernel
 * state and the programs) in place: used when a daemon that adopted the
 * pins of a crashed one fails to start, so that the failure does not undo
 * what the kernel kept.
 */
void aw_kernel_release(struct aw_kernel *k, int remove_pins)
{
	if (!k)
		return;
	if (!remove_pins)
		k->pinned = 0;
	if (k->rb)
		ring_buffer__free(k->rb);
	if (k->ring_pos)
		munmap(k->ring_pos, k->ring_pos_len);
	/* Unpin first so that destroying the links really detaches. */
	if (k->skel)
		pins_remove(k);
	for (size_t i = 0; i < AW_ARRAY_SIZE(k->links); i++)
		bpf_link__destroy(k->links[i]);
	for (size_t i = 0; i < AW_NET_LINKS; i++)
		bpf_link__destroy(k->net_links[i]);
	if (k->skel)
		agentwall__destroy(k->skel);
	if (k->scope_fd >= 0)
		close(k->scope_fd);
	if (k->dir_fd >= 0)
		close(k->dir_fd);
	free(k);
}

int aw_kernel_adopted(struct aw_kernel *k)
{
	return k->adopted;
}

int aw_kernel_sig_ids_fd(struct aw_kernel *k)
{
	return bpf_map__fd(k->skel->maps.aw_sig_ids);
}

unsigned aw_kernel_bank(struct aw_kernel *k)
{
	return k->bank;
}

/* Record an exact file identity for a rule of the tables in force. The
 * map is bounded: when it is full the identity is not added (the path
 * rules still apply) and the caller is told. */
int aw_kernel_set_inode(struct aw_kernel *k, uint64_t dev, uint64_t ino,
			uint32_t gen, uint32_t rule_index)
{
	struct aw_inode_key key = {.dev = dev, .ino = ino, .gen = gen};
	uint32_t val = k->bank * AW_RULES_BANK + rule_index + 1;

	if (bpf_map_update_elem(bpf_map__fd(k->skel->maps.aw_inodes), &key,
				&val, BPF_ANY))
		return -errno;
	return 0;
}

int aw_kernel_task_del(struct aw_kernel *k, int pidfd)
{
	if (bpf_map_delete_elem(bpf_map__fd(k->skel->maps.aw_tasks), &pidfd) &&
	    errno != ENOENT)
		return -errno;
	return 0;
}

int aw_kernel_content_ok(struct aw_kernel *k, const struct aw_content_key *key)
{
	uint32_t one = 1;

	if (bpf_map_update_elem(bpf_map__fd(k->skel->maps.aw_content_ok), key,
				&one, BPF_ANY))
		return -errno;
	return 0;
}

int aw_kernel_sig_mode(struct aw_kernel *k, uint32_t sig)
{
	uint32_t v = AW_MODE_ENFORCE;

	if (sig < AW_SIGS_MAX)
		bpf_map_lookup_elem(bpf_map__fd(k->skel->maps.aw_sig_mode),
				    &sig, &v);
	return (int)v;
}

/* Sizes are added before stale ones are removed: an exec in between is
 * at worst held for nothing, never missed. */
int aw_kernel_set_content_sizes(struct aw_kernel *k, const uint64_t *sizes,
				size_t n)
{
	int fd = bpf_map__fd(k->skel->maps.aw_content_sizes);
	uint64_t key, next, *stale = NULL;
	size_t n_stale = 0;
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t one = 1;

		if (bpf_map_update_elem(fd, &sizes[i], &one, BPF_ANY))
			r = -errno;
	}
	if (bpf_map_get_next_key(fd, NULL, &key) == 0) {
		do {
			size_t i;
			uint64_t *ns;

			for (i = 0; i < n && sizes[i] != key; i++)
				;
			if (i == n) {
				ns = realloc(stale, (n_stale + 1) * 8);
				if (!ns)
					break;
				stale = ns;
				stale[n_stale++] = key;
			}
		} while (bpf_map_get_next_key(fd, &key, &next) == 0 &&
			 (key = next, 1));
	}
	for (size_t i = 0; i < n_stale; i++)
		bpf_map_delete_elem(fd, &stale[i]);
	free(stale);
	return r;
}

uint64_t aw_kernel_dev(dev_t dev)
{
	return ((uint64_t)major(dev) << 20) | minor(dev);
}

/* The launcher's file, the one program a task being forced may exec
 * (struct aw_launcher_id). */
int aw_kernel_set_launcher(struct aw_kernel *k, const char *path)
{
	struct aw_launcher_id id = {};
	struct stat st;
	uint32_t zero = 0;

	if (stat(path, &st) == 0) {
		id.dev = aw_kernel_dev(st.st_dev);
		id.ino = st.st_ino;
	}
	/* (Not there: every exec of a task being forced is refused.) */
	if (bpf_map_update_elem(bpf_map__fd(k->skel->maps.aw_launcher), &zero,
				&id, BPF_ANY))
		return -errno;
	return 0;
}

/* The daemon's pulse: see AW_ALIVE_GRACE_NS. 0 declares it gone. */
int aw_kernel_heartbeat(struct aw_kernel *k, int alive)
{
	uint64_t until = alive ? aw_now_boottime_ns() + AW_ALIVE_GRACE_NS : 0;
	uint32_t zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(k->skel->maps.aw_daemon_alive),
				&zero, &until, BPF_ANY))
		return -errno;
	return 0;
}

int aw_kernel_set_sig_mode(struct aw_kernel *k, uint32_t sig, enum aw_mode mode)
{
	uint32_t v = mode;

	if (sig >= AW_SIGS_MAX)
		return -E2BIG;
	if (bpf_map_update_elem(bpf_map__fd(k->skel->maps.aw_sig_mode), &sig,
				&v, BPF_ANY))
		return -errno;
	return 0;
}

/* Task storage from user space is keyed by a pidfd: no pid reuse race. */
int aw_kernel_task_get(struct aw_kernel *k, int pidfd,
		       struct aw_task_state *ret)
{
	struct aw_task_state st;

	if (bpf_map_lookup_elem(bpf_map__fd(k->skel->maps.aw_tasks), &pidfd,
				&st))
		return -errno;
	*ret = st;
	return 0;
}

int aw_kernel_tasks_fd(struct aw_kernel *k)
{
	return bpf_map__fd(k->skel->maps.aw_tasks);
}

int aw_kernel_threads_each(uint32_t pid, int (*fn)(int tfd, void *arg),
			   void *arg)
{
	char p[64];
	DIR *dir;
	struct dirent *de;
	int sum = 0;

	snprintf(p, sizeof(p), "/proc/%u/task", pid);
	dir = opendir(p);
	while (dir && (de = readdir(dir))) {
		uint64_t tid;
		int tfd;

		if (aw_parse_u64(de->d_name, &tid) < 0)
			continue;
		/* Threads (not the leader) need PIDFD_THREAD: task storage
		 * is per thread, and each gets its own mark. */
		tfd = syscall(SYS_pidfd_open, (pid_t)tid,
			      tid == pid ? 0 : PIDFD_THREAD);
		if (tfd < 0)
			continue;
		sum += fn(tfd, arg);
		close(tfd);
	}
	if (dir)
		closedir(dir);
	return sum;
}

int aw_kernel_task_set(struct aw_kernel *k, int pidfd,
		       const struct aw_task_state *st)
{
	if (bpf_map_update_elem(bpf_map__fd(k->skel->maps.aw_tasks), &pidfd, st,
				BPF_ANY))
		return -errno;
	return 0;
}

/* Session ids the daemon hands out share the kernel's counter, so they
 * never collide with sessions the exec hook opens. */
uint64_t aw_kernel_new_session(struct aw_kernel *k)
{
	uint32_t n = __atomic_fetch_add(&k->skel->bss->aw_session_counter, 1,
					__ATOMIC_SEQ_CST);

	return ((uint64_t)k->skel->rodata->aw_session_salt << 32) | n;
}
