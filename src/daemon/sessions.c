// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sandboxed sessions: the privileged half of `agentwall run` and of the
 * launcher a forced agent is re-executed into (src/sandbox/launch.c is the
 * unprivileged half).
 *
 * The launcher asks on the control socket ("session-open ..."); the
 * request is revalidated here from what the kernel says of the peer, not
 * from what the peer says of itself:
 *  - who: SO_PEERCRED (uid, gid, pid) and SO_PEERPIDFD (the process, not a
 *    pid that could be reused);
 *  - forced: the peer's task storage must carry AW_TASK_FORCING, set by the
 *    exec hook when it stopped the agent; the session and agent are the
 *    kernel's, the request cannot choose them;
 *  - run: the peer must not already belong to a session (a member of an
 *    audit-mode session cannot pick itself a laxer policy).
 * Then, with root's rights: the session's own cgroup with its pids limit
 * (see cg_setup), the peer moved into it, its task storage marked
 * CONTAINED, a session store directory owned by the user. The reply is the
 * flattened policy, which the launcher turns into namespaces, mounts, Landlock
 * and seccomp.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/filter.h>

#include "daemon/daemon.h"
#include "daemon/members.h"
#include "daemon/metrics.h"
#include "policy/policy.h"
#include "sandbox/seccomp.h"
#include "shared/util.h"
#include "shared/stage.h"
#include "shared/embedded.h"

/* Sessions with cgroups of ours one user may hold at once: a user who
 * forks launchers in a loop runs out of these, not of the host's. */
#define SANDBOXES_PER_UID 256

/* The launcher's move into its session's cgroups, on a thread of its own
 * (see cg_setup): each write to cgroup.procs may wait for an RCU grace
 * period, which the launcher spends on its plan. */
struct cg_move {
	pthread_t th;
	uint32_t pid;
	int r;
	char procs[2][PATH_MAX + 16]; /* the second may be empty */
	char err[256];
};

struct aw_sandbox {
	uint64_t session;
	uid_t uid;
	int ended; /* its cgroups go as soon as they are empty */
	char cg2[PATH_MAX];
	char cgpids[PATH_MAX];
	char policy[65];
	uint64_t forks_refused; /* pids.events "max", as last reported */
	struct cg_move *move;	/* under way until joined (cg_moved) */
};

/* Sessions opened but not yet recorded: the launcher gets its reply
 * first, the store (which may wait on the writer's commit) comes after. */
struct aw_pending_open {
	uint32_t pid, uid, agent;
	int forced;
	uint64_t session;
	char policy[65];
	char workspace[PATH_MAX];
	char note[256];
	char cu[256]; /* the computer-use grants, a JSON object */
};

void aw_sessions_flush_pending(struct aw_daemon *d)
{
	for (size_t i = 0; i < d->n_pending; i++) {
		struct aw_pending_open *p = &d->pending[i];

		aw_events_session_open(d, p->pid, p->uid, p->session, p->agent,
				       p->cu, p->policy, p->workspace,
				       p->forced, p->note);
	}
	free(d->pending);
	d->pending = NULL;
	d->n_pending = 0;
}

static void pending_add(struct aw_daemon *d, uint32_t pid, uint32_t uid,
			uint64_t session, uint32_t agent, const char *cu,
			const char *policy, const char *workspace, int forced,
			const char *note)
{
	struct aw_pending_open *n =
	    realloc(d->pending, (d->n_pending + 1) * sizeof(*n));

	if (!n) {
		/* Recorded now, then: slower, not lost. */
		aw_events_session_open(d, pid, uid, session, agent, cu, policy,
				       workspace, forced, note);
		return;
	}
	d->pending = n;
	n = &d->pending[d->n_pending++];
	memset(n, 0, sizeof(*n));
	n->pid = pid;
	n->uid = uid;
	n->session = session;
	n->agent = agent;
	n->forced = forced;
	snprintf(n->policy, sizeof(n->policy), "%s", policy);
	snprintf(n->workspace, sizeof(n->workspace), "%s", workspace);
	snprintf(n->note, sizeof(n->note), "%s", note);
	snprintf(n->cu, sizeof(n->cu), "%s", cu);
}

/* What a session is granted of the display, input injection and CDP
 * ports: for its launcher (the reply's first line) and its record. */
static void cu_grants(const struct aw_policy_flat *f, struct aw_buf *reply,
		      char *json, size_t jlen)
{
	int o;

	aw_buf_printf(reply, " display=%d input=%d cdp=", f->display, f->input);
	o = snprintf(json, jlen, "{\"display\":%s,\"input\":%s,\"cdp_ports\":[",
		     f->display ? "true" : "false",
		     f->input ? "true" : "false");
	for (size_t i = 0; i < f->n_cdp; i++) {
		aw_buf_printf(reply, "%s%u", i ? "," : "", f->cdp[i]);
		if (o > 0 && (size_t)o < jlen)
			o += snprintf(json + o, jlen - o, "%s%u", i ? "," : "",
				      f->cdp[i]);
	}
	if (!f->n_cdp)
		aw_buf_puts(reply, "-");
	if (o > 0 && (size_t)o < jlen)
		snprintf(json + o, jlen - o, "]}");
}

/* ---- policies ---------------------------------------------------------- */

static int policies_load(struct aw_daemon *d, struct aw_policyset *set,
			 char *err, size_t len)
{
	struct aw_diag diag = {};
	int r = 0;

	if (d->opts.policy_dir[0]) {
		r = aw_policy_load_dir(set, d->opts.policy_dir, &diag);
	} else {
		for (size_t i = 0; i < aw_embedded_policies_count && !r; i++)
			r = aw_policy_load_buffer(
			    set, aw_embedded_policies[i].name,
			    aw_embedded_policies[i].data,
			    aw_embedded_policies[i].len, &diag);
		/* Site policies add to (and by id may not clash with) the
		 * embedded templates. */
		if (!r && access(AW_DEFAULT_EXTRA_POLICIES, F_OK) == 0)
			r = aw_policy_load_dir(set, AW_DEFAULT_EXTRA_POLICIES,
					       &diag);
	}
	if (!r)
		r = aw_policyset_validate(set, &diag);
	if (r < 0)
		aw_diag_format(&diag, err, len);
	return r;
}

/* Which policy an agent (signature number, 0 = unknown) gets. */
static const struct aw_policy *policy_for(struct aw_daemon *d, uint32_t sig)
{
	const struct aw_sigref *s = aw_daemon_sig(d, sig);

	return aw_policyset_resolve(&d->policies, s ? s->id : NULL,
				    s ? s->class : NULL);
}

/* Tell the exec hook which agents' policies are in audit mode (never
 * forced). Called after every policy or signature load. */
void aw_policies_apply_modes(struct aw_daemon *d)
{
	for (uint32_t n = 1; n < d->n_sigs && n < AW_SIGS_MAX; n++) {
		const struct aw_policy *p = policy_for(d, n);
		struct aw_policy_flat f = {};
		struct aw_diag diag = {};
		enum aw_mode m = AW_MODE_ENFORCE;

		if (p && aw_policy_flatten(&d->policies, p, &f, &diag) == 0) {
			m = f.mode == 0 ? AW_MODE_AUDIT : AW_MODE_ENFORCE;
			aw_policy_flat_free(&f);
		}
		aw_kernel_set_sig_mode(d->kernel, n, m);
	}
}

int aw_daemon_reload_policies(struct aw_daemon *d, char *err, size_t len)
{
	struct aw_policyset set = {};
	int r = policies_load(d, &set, err, len);

	if (r < 0) {
		/* The policy in force stays: nothing was swapped. */
		aw_policyset_free(&set);
		snprintf(d->policy_error, sizeof(d->policy_error), "%s", err);
		return r;
	}
	aw_policyset_free(&d->policies);
	d->policies = set;
	d->policy_generation++;
	d->policy_error[0] = 0;
	aw_policies_apply_modes(d);
	return 0;
}

/* ---- classification of a command, in user space ------------------------ */

/* The signature number `run` would get for exe (its real path) and its
 * arguments, matched as the exec hook matches them; 0 for none. */
static uint32_t classify(struct aw_daemon *d, const char *exe,
			 char args[][PATH_MAX], size_t nargs)
{
	const struct aw_compiled *c = d->compiled;
	unsigned bank = aw_kernel_bank(d->kernel);
	uint32_t r;

	if (!c || !d->rule_sig[bank])
		return 0;
	r = aw_compiled_match(c, c->exe_start, exe);
	if (!r)
		return 0;
	if (c->rules[r - 1].kind != AW_RULE_INTERPRETER)
		return d->rule_sig[bank][r - 1];
	for (size_t i = 0; i < nargs; i++) {
		if (args[i][0] == '-')
			continue;
		r = aw_compiled_match(c, c->script_start, args[i]);
		return r ? d->rule_sig[bank][r - 1] : 0;
	}
	return 0;
}

/* ---- cgroups ------------------------------------------------------------ */

static int mkdir_ok(const char *p, mode_t m)
{
	if (mkdir(p, m) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int cg_has_pids_v2(const char *dir)
{
	char p[PATH_MAX + 32], buf[512] = "";
	int fd;
	ssize_t n;

	snprintf(p, sizeof(p), "%s/cgroup.controllers", dir);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return strstr(buf, "pids") != NULL;
}

/*
 * The session's own cgroup, with its pids limit, and pid moved into it:
 *  - cgroup v2 with the pids controller: a v2 cgroup under the scope;
 *  - a hybrid host (v2 without pids, as here): a cgroup in the v1 pids
 *    hierarchy for the limit. When its policy confines the network the
 *    session is moved into a v2 cgroup under the scope's
 *    agentwall-sessions as well: that is where the listener hook is
 *    attached, and a launcher started outside the scope would otherwise
 *    not be under the socket hooks at all. (The v2 move was once an RCU
 *    grace period, 10-15 ms; measured 0.04 ms on 6.18.)
 *  - neither: a v2 cgroup without a limit, and a note saying so.
 * The cgroups are made here; the move itself (a write to cgroup.procs,
 * which takes the kernel's cgroup_threadgroup_rwsem for write: an RCU
 * grace period when no other move happened just before, ~10 ms on these
 * VMs) runs on a thread while the launcher computes its plan, and the
 * launcher asks for its outcome before it clones the session's first
 * process (aw_session_ready). On failure err says which step failed.
 */
static int cg_moved(struct aw_sandbox *sb, char *err, size_t errlen);

static void *cg_move_main(void *arg)
{
	struct cg_move *mv = arg;
	char num[32];

	snprintf(num, sizeof(num), "%u", mv->pid);
	for (int i = 0; i < 2 && mv->procs[i][0]; i++) {
		mv->r = aw_write_file(mv->procs[i], num);
		if (mv->r < 0) {
			snprintf(mv->err, sizeof(mv->err),
				 "move pid %u into %s: %s", mv->pid,
				 mv->procs[i], strerror(-mv->r));
			break;
		}
	}
	return NULL;
}

static int cg_setup(struct aw_daemon *d, struct aw_sandbox *sb, uint32_t pid,
		    int64_t pids_max, int need_hooks, char *note,
		    size_t notelen, char *err, size_t errlen)
{
	char v2p[PATH_MAX], v1p[PATH_MAX], p[PATH_MAX + 64], lim[32];
	int r, v2_pids;
	char *dir;
	struct cg_move *mv;

	cg_moved(sb, err, errlen); /* an earlier launcher's, on resume */
	err[0] = 0;
	aw_session_cgroup_parents(d, v2p, sizeof(v2p), v1p, sizeof(v1p));
	snprintf(lim, sizeof(lim), "%lld", (long long)pids_max);
	v2_pids = d->probe.cgroup2_path[0] && mkdir_ok(v2p, 0755) == 0 &&
		  cg_has_pids_v2(v2p);
	if (!v2_pids && access(CG_PIDS_V1 "/cgroup.procs", F_OK) == 0) {
		dir = sb->cgpids;
		snprintf(dir, sizeof(sb->cgpids), "%s/s-%016llx", v1p,
			 (unsigned long long)sb->session);
		r = mkdir_ok(v1p, 0755);
	} else if (d->probe.cgroup2_path[0]) {
		dir = sb->cg2;
		snprintf(dir, sizeof(sb->cg2), "%s/s-%016llx", v2p,
			 (unsigned long long)sb->session);
		r = mkdir_ok(v2p, 0755);
		if (v2_pids) {
			snprintf(p, sizeof(p), "%s/cgroup.subtree_control",
				 v2p);
			aw_write_file(p, "+pids");
		}
	} else {
		snprintf(err, errlen, "no cgroup hierarchy for sessions");
		return -ENOENT;
	}
	if (r == 0)
		r = mkdir_ok(dir, 0755);
	if (r < 0) {
		snprintf(err, errlen, "mkdir %s: %s", dir, strerror(-r));
		dir[0] = 0;
		return r;
	}
	snprintf(p, sizeof(p), "%s/pids.max", dir);
	if (access(p, F_OK) < 0 || aw_write_file(p, lim) < 0)
		snprintf(note, notelen,
			 "no pids controller: the session's process count is "
			 "not limited");
	mv = calloc(1, sizeof(*mv));
	if (!mv) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	mv->pid = pid;
	snprintf(mv->procs[0], sizeof(mv->procs[0]), "%s/cgroup.procs", dir);
	if (need_hooks && !sb->cg2[0]) {
		/*
		 * The socket hooks are attached to the scope (v2) cgroup, the
		 * listener check (ingress) to its agentwall-sessions child: a
		 * launcher started outside the scope (`agentwall run` from a
		 * shell elsewhere, on a hybrid host where the session's own
		 * cgroup is a v1 one) would not be decided at all, and one in
		 * the scope not at ingress. Its own v2 cgroup there, then.
		 * Refused if that fails: fail closed.
		 */
		snprintf(sb->cg2, sizeof(sb->cg2), "%s/s-%016llx", v2p,
			 (unsigned long long)sb->session);
		r = mkdir_ok(v2p, 0755);
		if (r == 0)
			r = mkdir_ok(sb->cg2, 0755);
		if (r < 0) {
			snprintf(err, errlen, "mkdir %s: %s", sb->cg2,
				 strerror(-r));
			free(mv);
			return r;
		}
		snprintf(mv->procs[1], sizeof(mv->procs[1]), "%s/cgroup.procs",
			 sb->cg2);
	}
	sb->move = mv;
	if (pthread_create(&mv->th, NULL, cg_move_main, mv) != 0) {
		/* No thread: moved now. */
		cg_move_main(mv);
		mv->th = 0;
	}
	return 0;
}

/* The id of the session's own v2 cgroup (its directory's inode number),
 * or 0. Only the session's tasks are ever in it. */
static uint64_t cg_id(const struct aw_sandbox *sb)
{
	struct stat st;

	if (!sb->cg2[0] || stat(sb->cg2, &st) < 0)
		return 0;
	return (uint64_t)st.st_ino;
}

/* The move's outcome, once it is done (0 or -errno, err says which
 * step). Each session's launcher waits for it before it clones the
 * session's first process ("session-ready"). */
static int cg_moved(struct aw_sandbox *sb, char *err, size_t errlen)
{
	struct cg_move *mv = sb->move;
	int r;

	if (!mv)
		return 0;
	if (mv->th)
		pthread_join(mv->th, NULL);
	r = mv->r;
	if (r < 0)
		snprintf(err, errlen, "%s", mv->err);
	free(mv);
	sb->move = NULL;
	return r;
}

/* A cgroup is removed once it is empty; a session that still has
 * processes (the daemon is going while sessions run) keeps it. */
/* The tools' cgroups below a session's (aw_sandbox_tool_cgroup): empty
 * once their processes are gone, removed before their parent. */
static void cg_remove_tools(const char *dir)
{
	DIR *dd = opendir(dir);
	struct dirent *de;
	char p[PATH_MAX];

	while (dd && (de = readdir(dd))) {
		if (strncmp(de->d_name, "t-", 2) || de->d_type != DT_DIR)
			continue;
		if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) <
		    sizeof(p))
			rmdir(p);
	}
	if (dd)
		closedir(dd);
}

static void cg_remove(struct aw_sandbox *sb)
{
	char err[256];

	cg_moved(sb, err, sizeof(err));
	if (sb->cgpids[0])
		cg_remove_tools(sb->cgpids);
	if (sb->cgpids[0] && rmdir(sb->cgpids) == 0)
		sb->cgpids[0] = 0;
	if (sb->cg2[0] && rmdir(sb->cg2) == 0)
		sb->cg2[0] = 0;
}

static struct aw_sandbox *sandbox_find(struct aw_daemon *d, uint64_t session)
{
	for (size_t i = 0; i < d->n_sandboxes; i++)
		if (d->sandboxes[i].session == session)
			return &d->sandboxes[i];
	return NULL;
}

static struct aw_sandbox *sandbox_add(struct aw_daemon *d, uint64_t session)
{
	struct aw_sandbox *n;

	n = realloc(d->sandboxes, (d->n_sandboxes + 1) * sizeof(*n));
	if (!n)
		return NULL;
	d->sandboxes = n;
	n = &d->sandboxes[d->n_sandboxes++];
	memset(n, 0, sizeof(*n));
	n->session = session;
	return n;
}

/*
 * A tool the session's agent started (src/daemon/tools.c) is held to its
 * own policy's process limit: a pids cgroup of its own below the
 * session's, `t-OWNER` (the pid the tool started as), that pid and
 * everything it forks are moved to and stay in (the
 * session's cgroup namespace and read-only /sys/fs/cgroup keep it there;
 * its processes still count against the session's limit too). Only in
 * the v1 pids hierarchy: in v2 a cgroup with processes cannot delegate
 * the controller to a child. 0, or -errno with why in err.
 */
int aw_sandbox_tool_cgroup(struct aw_daemon *d, uint64_t session,
			   uint32_t owner, uint32_t pid, int64_t pids_max,
			   char *where, size_t wlen, char *err, size_t errlen)
{
	struct aw_sandbox *sb = sandbox_find(d, session);
	char dir[PATH_MAX], p[PATH_MAX + 32], v[32];
	int r;

	if (!sb) {
		snprintf(err, errlen,
			 "the session has no cgroup of agentwall's");
		return -ENOENT;
	}
	if (!sb->cgpids[0]) {
		snprintf(err, errlen,
			 "the session's cgroup is v2 (a cgroup with processes "
			 "cannot hand the pids controller to a child)");
		return -EOPNOTSUPP;
	}
	if ((size_t)snprintf(dir, sizeof(dir), "%s/t-%u", sb->cgpids, owner) >=
	    sizeof(dir))
		return -ENAMETOOLONG;
	r = mkdir_ok(dir, 0755);
	if (r < 0) {
		snprintf(err, errlen, "mkdir %s: %s", dir, strerror(-r));
		return r;
	}
	snprintf(p, sizeof(p), "%s/pids.max", dir);
	snprintf(v, sizeof(v), "%lld", (long long)pids_max);
	r = aw_write_file(p, v);
	if (r >= 0) {
		snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
		snprintf(v, sizeof(v), "%u", pid);
		r = aw_write_file(p, v);
	}
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", p, strerror(-r));
		if (owner == pid)
			rmdir(dir);
		return r;
	}
	snprintf(where, wlen, "%s", dir);
	return 0;
}

static void sandbox_drop(struct aw_daemon *d, struct aw_sandbox *sb)
{
	size_t i = sb - d->sandboxes;

	d->sandboxes[i] = d->sandboxes[--d->n_sandboxes];
}

/* The last exit record arrives while the exiting task still counts as a
 * member: the cgroups are removed on the next ticks, once empty. */
void aw_sandbox_session_end(struct aw_daemon *d, uint64_t session)
{
	struct aw_sandbox *sb = sandbox_find(d, session);

	if (sb)
		sb->ended = 1;
	aw_sandbox_tick(d);
	aw_stores_session_end(d, session);
	aw_net_session_end(d, session);
	aw_secrets_session_end(d, session);
}

/*
 * A fork bomb is refused by the pids controller (EAGAIN at fork), which
 * counts each refusal in pids.events ("max N"): the count's growth is
 * reported, at most once a tick per session, as a deny record.
 */
static void forks_refused_report(struct aw_daemon *d, struct aw_sandbox *sb)
{
	const char *dir = sb->cgpids[0] ? sb->cgpids : sb->cg2;
	char p[PATH_MAX + 32], buf[128], rule[96], extra[96], *m;
	uint64_t n = 0;
	ssize_t len;
	int fd;

	if (!dir[0])
		return;
	snprintf(p, sizeof(p), "%s/pids.events", dir);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return;
	buf[len] = 0;
	m = strstr(buf, "max ");
	if (!m || aw_parse_u64(strtok(m + 4, "\n"), &n) < 0 ||
	    n <= sb->forks_refused)
		return;
	snprintf(rule, sizeof(rule), "%s/process.pids-max", sb->policy);
	snprintf(extra, sizeof(extra), "\"refused\":%llu",
		 (unsigned long long)(n - sb->forks_refused));
	sb->forks_refused = n;
	aw_events_emit_decision(d, "fork", sb->session, 0, "pids-max", rule,
				"deny", extra);
}

void aw_sandbox_tick(struct aw_daemon *d)
{
	for (size_t i = 0; i < d->n_sandboxes;) {
		struct aw_sandbox *sb = &d->sandboxes[i];

		forks_refused_report(d, sb);
		if (sb->ended)
			cg_remove(sb);
		if (sb->ended && !sb->cg2[0] && !sb->cgpids[0])
			sandbox_drop(d, sb); /* the last one moved here */
		else
			i++;
	}
}

/* Empty session cgroups left by a daemon that was killed (the sessions
 * it ran may still live: only empty ones can be removed, and only those
 * are). Called at start. */
void aw_sandbox_sweep(struct aw_daemon *d)
{
	char parents[2][PATH_MAX];

	aw_session_cgroup_parents(d, parents[0], sizeof(parents[0]), parents[1],
				  sizeof(parents[1]));
	for (int i = 0; i < 2; i++) {
		DIR *dir = opendir(parents[i]);
		struct dirent *de;

		if (!dir)
			continue;
		while ((de = readdir(dir))) {
			char p[PATH_MAX + 300];

			if (strncmp(de->d_name, "s-", 2))
				continue;
			snprintf(p, sizeof(p), "%s/%s", parents[i], de->d_name);
			rmdir(p);
		}
		closedir(dir);
	}
}

void aw_sandbox_cleanup(struct aw_daemon *d)
{
	char v2p[PATH_MAX], v1p[PATH_MAX];

	for (size_t i = 0; i < d->n_sandboxes; i++)
		cg_remove(&d->sandboxes[i]);
	free(d->sandboxes);
	free(d->ended);
	free(d->adopt_killed); /* members.c: agents killed while waiting */
	d->sandboxes = NULL;
	d->n_sandboxes = 0;
	/* The parents go too when no session is left in them. */
	aw_session_cgroup_parents(d, v2p, sizeof(v2p), v1p, sizeof(v1p));
	rmdir(v1p);
	rmdir(v2p);
}

/* ---- the request -------------------------------------------------------- */

static void reply_path(struct aw_buf *b, const char *verb, const char *id,
		       const char *path)
{
	aw_buf_printf(b, "rule verb=%s id=", verb);
	aw_pct_encode(b, id, strlen(id));
	aw_buf_puts(b, " path=");
	aw_pct_encode(b, path, strlen(path));
	aw_buf_puts(b, "\n");
}

/* agentwall itself, wherever this daemon keeps it: its state (store,
 * session stores), control socket, pins, configuration. Masked in every
 * session whatever the policy says. */
static void reply_self(struct aw_daemon *d, struct aw_buf *b)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s", d->opts.store_path);
	if (strrchr(p, '/'))
		*strrchr(p, '/') = 0;
	reply_path(b, "deny", "agentwall.self", p);
	snprintf(p, sizeof(p), "%s", d->opts.socket_path);
	if (strrchr(p, '/'))
		*strrchr(p, '/') = 0;
	reply_path(b, "deny", "agentwall.self", p);
	reply_path(b, "deny", "agentwall.self", d->opts.bpffs_dir);
	reply_path(b, "deny", "agentwall.self", AW_CONF_DIR);
	if (d->opts.policy_dir[0])
		reply_path(b, "deny", "agentwall.self", d->opts.policy_dir);
	if (d->opts.sig_dir[0])
		reply_path(b, "deny", "agentwall.self", d->opts.sig_dir);
	/* Every session's events, command lines included. */
	if (d->opts.export_path[0])
		reply_path(b, "deny", "agentwall.self", d->opts.export_path);
}

/*
 * The session's seccomp program, made here once per (groups allowed,
 * what the listener sees) and sent with the rules: making it takes
 * libseccomp most of a millisecond, in every session's init otherwise.
 * The launcher installs it only for the mask and flags it expects (any
 * other, or none: it makes its own). A line of its own, in hex.
 */
static void reply_seccomp(struct aw_buf *b, const struct aw_policy_flat *f)
{
	static struct {
		uint32_t mask;
		int notify;
		struct sock_filter *insns;
		size_t n;
	} made[8];
	static size_t n_made;
	int notify = 1 | (f->refusal_records ? AW_SECCOMP_WATCH : 0);
	size_t i;

	for (i = 0; i < n_made; i++)
		if (made[i].mask == f->allow_syscalls &&
		    made[i].notify == notify)
			break;
	if (i == n_made) {
		struct sock_filter *insns = NULL;
		size_t n = 0;

		if (aw_seccomp_program(f->allow_syscalls, notify, &insns, &n,
				       NULL, 0) < 0)
			return;
		if (n_made == AW_ARRAY_SIZE(made)) {
			free(made[0].insns); /* the oldest makes room */
			memmove(&made[0], &made[1],
				(n_made - 1) * sizeof(made[0]));
			n_made--;
		}
		i = n_made++;
		made[i].mask = f->allow_syscalls;
		made[i].notify = notify;
		made[i].insns = insns;
		made[i].n = n;
	}
	{
		char *hex = malloc(made[i].n * sizeof(*made[i].insns) * 2 + 1);

		if (!hex)
			return;
		aw_hex(made[i].insns, made[i].n * sizeof(*made[i].insns), hex);
		aw_buf_printf(b, "seccomp mask=%u notify=%d prog=%s\n",
			      (unsigned)made[i].mask, made[i].notify, hex);
		free(hex);
	}
}

static void reply_rules(struct aw_buf *b, const struct aw_policy_flat *f)
{
	for (size_t i = 0; i < f->n_rules; i++) {
		const struct aw_fs_rule *r = f->rules[i];

		for (size_t j = 0; j < r->n_paths; j++)
			reply_path(b, aw_fs_verb_name(r->verb), r->id,
				   r->paths[j]);
	}
}

void aw_session_open(struct aw_daemon *d, int fd, const char *args,
		     struct aw_buf *out)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	int pidfd = -1;
	socklen_t pl = sizeof(pidfd);
	struct aw_task_state st = {};
	int forced, have_st, r, prog;
	char val[PATH_MAX], err[512] = "", note[256] = "";
	char sdir[PATH_MAX], wsp[PATH_MAX] = "", cu[256] = "";
	const struct aw_policy *pol;
	struct aw_policy_flat flat = {};
	struct aw_diag diag = {};
	struct aw_sandbox *sb = NULL;
	uint64_t session, resume = 0;
	uint32_t agent;
	const struct aw_sigref *sig;
	size_t start = out->len;
	struct aw_buf cmd = {};
	int stored = 0;

	aw_stage("d-open");
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &pl) < 0) {
		aw_buf_printf(out, "error: peer credentials: %s\n",
			      strerror(errno));
		return;
	}
	forced = aw_kv_get(args, "forced", val, sizeof(val)) == 0 &&
		 !strcmp(val, "1");
	/* The seccomp program goes only to a launcher that asks for it: one
	 * built before it was sent takes any line but a rule for a
	 * malformed reply, and would start no session at all. */
	prog = aw_kv_get(args, "seccomp", val, sizeof(val)) == 0 &&
	       !strcmp(val, "prog");
	have_st = aw_kernel_task_get(d->kernel, pidfd, &st) == 0;
	if (aw_kv_get(args, "workspace", wsp, sizeof(wsp)) < 0)
		wsp[0] = 0;

	if (forced) {
		/* Only the process the exec hook stopped, re-executed into
		 * the launcher, gets the session it was classified into. */
		if (!have_st || !(st.flags & AW_TASK_FORCING)) {
			aw_buf_puts(out,
				    "error: forced session refused: this "
				    "process was not stopped for forcing\n");
			goto out;
		}
		session = st.session;
		agent = st.agent;
		pol = policy_for(d, agent);
		if (aw_kv_get(args, "exe", val, sizeof(val)) == 0)
			aw_buf_puts(&cmd, val);
	} else {
		char exe[PATH_MAX], a[8][PATH_MAX];
		size_t na = 0;

		if (have_st) {
			aw_buf_printf(out,
				      "error: already in session %016llx: a "
				      "session cannot open another\n",
				      (unsigned long long)st.session);
			goto out;
		}
		if (aw_kv_get(args, "exe", exe, sizeof(exe)) < 0)
			exe[0] = 0;
		for (; na < 8; na++) {
			char k[8];

			snprintf(k, sizeof(k), "a%zu", na + 1);
			if (aw_kv_get(args, k, a[na], sizeof(a[na])) < 0)
				break;
		}
		agent = exe[0] ? classify(d, exe, a, na) : 0;
		/* The command, for `agentwall sessions`. */
		aw_buf_puts(&cmd, exe);
		for (size_t i = 0; i < na; i++) {
			aw_buf_puts(&cmd, " ");
			aw_buf_puts(&cmd, a[i]);
		}
		if (aw_kv_get(args, "resume", val, sizeof(val)) == 0) {
			/* Another command on a kept session's state: its
			 * policy and workspace, under its id. */
			const struct aw_kept *k;

			resume = strtoull(val, NULL, 16);
			k = strlen(val) == 16 ? aw_stores_find(d, resume)
					      : NULL;
			if (!k || k->uid != cred.uid) {
				aw_buf_puts(out, "error: no session \"");
				aw_text_sanitize(out, val, strlen(val));
				aw_buf_puts(out, "\" of yours is kept (see "
						 "agentwall sessions)\n");
				goto out;
			}
			if (aw_kv_get(args, "policy", val, sizeof(val)) == 0 &&
			    val[0] && strcmp(val, k->policy)) {
				aw_buf_printf(out,
					      "error: session %016llx runs "
					      "under policy %s\n",
					      (unsigned long long)resume,
					      k->policy);
				goto out;
			}
			snprintf(wsp, sizeof(wsp), "%s", k->workspace);
			pol = aw_policyset_find(&d->policies, k->policy);
			if (!pol) {
				aw_buf_printf(out,
					      "error: policy %s of session "
					      "%016llx is no longer loaded\n",
					      k->policy,
					      (unsigned long long)resume);
				goto out;
			}
		} else if (aw_kv_get(args, "policy", val, sizeof(val)) == 0 &&
			   val[0]) {
			pol = aw_policyset_find(&d->policies, val);
			if (!pol) {
				aw_buf_puts(out, "error: no policy \"");
				aw_text_sanitize(out, val, strlen(val));
				aw_buf_puts(out, "\" is loaded (see agentwall "
						 "policy list)\n");
				goto out;
			}
		} else {
			pol = policy_for(d, agent);
		}
		session = resume ? resume : aw_kernel_new_session(d->kernel);
	}
	if (!pol) {
		aw_buf_puts(out, "error: no policy loaded (the policy set has "
				 "no default)\n");
		goto out;
	}
	r = aw_policy_flatten(&d->policies, pol, &flat, &diag);
	if (r < 0) {
		aw_diag_format(&diag, err, sizeof(err));
		aw_buf_printf(out, "error: policy %s: %s\n", pol->id, err);
		goto out;
	}
	/* The store is masked by path in the session; a hard link to it is
	 * refused here (secrets.c says why not by its inode). */
	if (aw_secrets_store_links(d, err, sizeof(err)) < 0) {
		aw_buf_printf(out, "error: %s\n", err);
		goto out;
	}
	if (!forced) {
		size_t mine = 0;

		for (size_t i = 0; i < d->n_sandboxes; i++)
			mine += d->sandboxes[i].uid == cred.uid &&
				!d->sandboxes[i].ended;
		if (mine >= SANDBOXES_PER_UID) {
			aw_buf_printf(out,
				      "error: uid %u already has %d live "
				      "sessions\n",
				      (unsigned)cred.uid, SANDBOXES_PER_UID);
			goto out;
		}
	}
	aw_stage("d-flat");
	if (resume)
		r = aw_stores_resume(d, session, cred.uid, sdir, sizeof(sdir),
				     err, sizeof(err));
	else if (forced && aw_stores_find(d, session))
		r = -EEXIST; /* one forcing per session */
	else
		r = aw_stores_create(
		    d, session, cred.uid, cred.gid, pol->id,
		    aw_daemon_sig(d, agent) ? aw_daemon_sig(d, agent)->id : "-",
		    wsp, cmd.oom || !cmd.data ? "" : cmd.data, sdir,
		    sizeof(sdir), err, sizeof(err));
	if (r < 0) {
		aw_buf_printf(out, "error: session store: %s\n",
			      err[0] ? err : strerror(-r));
		goto out;
	}
	aw_stage("d-store");
	stored = 1;
	sb = sandbox_find(d, session);
	if (!sb)
		sb = sandbox_add(d, session);
	if (!sb) {
		aw_buf_puts(out, "error: out of memory\n");
		goto out;
	}
	sb->uid = cred.uid;
	snprintf(sb->policy, sizeof(sb->policy), "%s", pol->id);
	if (cg_setup(d, sb, cred.pid, flat.pids_max,
		     flat.has_network && d->kernel &&
			 !aw_kernel_net_error(d->kernel),
		     note, sizeof(note), err, sizeof(err)) < 0) {
		cg_remove(sb);
		sandbox_drop(d, sb);
		aw_buf_printf(out, "error: session cgroup: %s\n", err);
		goto out;
	}
	aw_stage("d-cg");
	/* Mark last: from here on every fork and exec of the launcher's is
	 * attributed to the session and never classified anew. */
	if (!forced) {
		st = (struct aw_task_state){
		    .session = session, .agent = agent, .flags = AW_TASK_ROOT};
	}
	st.flags |= AW_TASK_CONTAINED;
	st.flags &= ~AW_TASK_FORCING;
	if (flat.has_network)
		st.flags |= AW_TASK_NET; /* its sockets fail closed */
	/* The network first: from the mark on, the session's sockets are
	 * decided by it. */
	r = aw_net_session_open(d, session, cred.uid, pidfd, cg_id(sb), &flat,
				err, sizeof(err));
	if (r < 0) {
		cg_remove(sb);
		sandbox_drop(d, sb);
		aw_buf_printf(out, "error: %s\n", err);
		goto out;
	}
	aw_stage("d-net");
	r = aw_kernel_task_set(d->kernel, pidfd, &st);
	aw_stage("d-mark");
	if (r < 0) {
		aw_net_session_end(d, session);
		cg_remove(sb);
		sandbox_drop(d, sb);
		aw_buf_printf(out,
			      "error: mark the session in the kernel: %s\n",
			      strerror(-r));
		goto out;
	}
	/* A forced agent is inside its session from here. */
	if (forced)
		aw_metrics_force_contained(d->metrics, session,
					   aw_now_boottime_ns());

	sig = aw_daemon_sig(d, agent);
	aw_buf_printf(
	    out, "ok session=%016llx policy=", (unsigned long long)session);
	aw_pct_encode(out, pol->id, strlen(pol->id));
	aw_buf_printf(out,
		      " agent=%s mode=%s pids-max=%lld syscalls=%u notify=%d "
		      "refusals=%d product=",
		      sig ? sig->id : "-", flat.mode ? "enforce" : "audit",
		      (long long)flat.pids_max, flat.allow_syscalls,
		      flat.notify, flat.refusal_records);
	if (sig && sig->product)
		aw_pct_encode(out, sig->product, strlen(sig->product));
	aw_buf_puts(out, " dir=");
	aw_pct_encode(out, sdir, strlen(sdir));
	aw_buf_puts(out, " cgroup=");
	aw_pct_encode(out, sb->cg2[0] ? sb->cg2 : sb->cgpids,
		      strlen(sb->cg2[0] ? sb->cg2 : sb->cgpids));
	aw_buf_puts(out, " workspace=");
	aw_pct_encode(out, wsp, strlen(wsp));
	if (aw_stores_walk_cache(d, cred.uid, cred.gid, val, sizeof(val)) ==
	    0) {
		aw_buf_puts(out, " walkcache=");
		aw_pct_encode(out, val, strlen(val));
	}
	cu_grants(&flat, out, cu, sizeof(cu));
	aw_buf_puts(out, "\n");
	reply_rules(out, &flat);
	reply_self(d, out);
	if (prog)
		reply_seccomp(out, &flat);
	aw_buf_puts(out, "end\n");
	pending_add(d, cred.pid, cred.uid, session, agent, cu, pol->id, wsp,
		    forced, note);
	stored = 0; /* the session has it now */
out:
	if (stored)
		aw_stores_abort(d, session, resume != 0);
	aw_buf_free(&cmd);
	/* A forced agent whose session could not be made does not run (its
	 * launcher exits); the record says why. */
	if (forced && have_st && out->len > start &&
	    !strncmp(out->data + start, "error", 5)) {
		struct aw_buf x = {};

		aw_json_key(&x, "detail");
		aw_json_str(&x, out->data + start, out->len - start - 1);
		aw_buf_add(&x, "", 1);
		aw_events_emit_decision(d, "force", st.session, cred.pid, NULL,
					"force/refused", "deny",
					x.oom ? NULL : x.data);
		aw_buf_free(&x);
	}
	aw_policy_flat_free(&flat);
	if (pidfd >= 0)
		close(pidfd);
}

/*
 * "session-ready session=ID": the launcher, before it clones the
 * session's first process, waits here until it is in the session's
 * cgroups (the move started by session-open). An error ends the session
 * before anything of it runs: the launcher exits.
 */
void aw_session_ready(struct aw_daemon *d, int fd, const char *args,
		      struct aw_buf *out)
{
	int pidfd = -1;
	struct aw_task_state st;
	struct aw_sandbox *sb;
	char err[256] = "";

	if (aw_members_peer_session(d, fd, args, "waits for it", NULL, &pidfd,
				    &st, out) < 0)
		goto out;
	sb = sandbox_find(d, st.session);
	if (!sb) {
		/* Not opened by this daemon (it restarted in between): its
		 * move may never have happened. Fail closed. */
		aw_buf_puts(out, "error: session cgroup: this daemon did not "
				 "open the session\n");
		goto out;
	}
	if (cg_moved(sb, err, sizeof(err)) < 0) {
		aw_buf_printf(out, "error: session cgroup: %s\n", err);
		goto out;
	}
	aw_buf_puts(out, "ok\n");
out:
	if (pidfd >= 0)
		close(pidfd);
}

/*
 * A denial the launcher's supervisor saw (a seccomp notification it
 * answered with EPERM) or a step it took (a mask it could not apply).
 * The reporter must itself belong to the session it reports for, and the
 * acting process named must too: a session cannot write into another's
 * record.
 */
void aw_session_report(struct aw_daemon *d, int fd, const char *args,
		       struct aw_buf *out)
{
	int pidfd = -1, apfd = -1;
	struct aw_task_state st, ast;
	char val[64], rule[160], target[PATH_MAX] = "", action[32],
				 detail[512] = "";
	uint64_t session, pid;
	struct aw_buf extra = {};

	if (aw_members_peer_session(d, fd, args, "reports for it", NULL, &pidfd,
				    &st, out) < 0)
		goto out;
	session = st.session;
	if (aw_kv_get(args, "pid", val, sizeof(val)) < 0 ||
	    aw_parse_u64(val, &pid) < 0 || pid > INT32_MAX)
		pid = 0;
	if (pid) {
		/* The acting process, if it still lives, must be a member. */
		apfd = syscall(SYS_pidfd_open, (pid_t)pid, 0);
		if (apfd >= 0 &&
		    aw_kernel_task_get(d->kernel, apfd, &ast) == 0 &&
		    ast.session != session) {
			aw_buf_puts(out, "error: that process is not in your "
					 "session\n");
			goto out;
		}
	}
	if (aw_kv_get(args, "rule", rule, sizeof(rule)) < 0 ||
	    aw_kv_get(args, "action", action, sizeof(action)) < 0) {
		aw_buf_puts(out, "error: session-report needs rule= and "
				 "action=\n");
		goto out;
	}
	aw_kv_get(args, "target", target, sizeof(target));
	aw_kv_get(args, "detail", detail, sizeof(detail));
	if (detail[0]) {
		aw_json_key(&extra, "detail");
		aw_json_cstr(&extra, detail);
	}
	aw_buf_add(&extra, "", 1);
	/* Only the launcher's own vocabulary reaches the store. */
	if (aw_kv_get(args, "decision", val, sizeof(val)) < 0)
		snprintf(val, sizeof(val), "deny");
	if (strcmp(val, "deny") && strcmp(val, "allow") &&
	    strcmp(val, "escalate")) {
		aw_buf_puts(
		    out, "error: decision must be deny, allow or escalate\n");
		goto out;
	}
	for (const char *c = action; *c; c++) {
		if (!((*c >= 'a' && *c <= 'z') || *c == '-')) {
			aw_buf_puts(out, "error: action must be [a-z-]+\n");
			goto out;
		}
	}
	aw_events_emit_decision(d, action, session, (uint32_t)pid,
				target[0] ? target : NULL, rule, val,
				extra.len > 1 ? extra.data : NULL);
	aw_buf_puts(out, "ok\n");
out:
	aw_buf_free(&extra);
	if (pidfd >= 0)
		close(pidfd);
	if (apfd >= 0)
		close(apfd);
}

struct mark_thread {
	struct aw_daemon *d;
	const struct aw_task_state *st;
};

static int mark_thread(int tfd, void *arg)
{
	struct mark_thread *mt = arg;

	return aw_kernel_task_set(mt->d->kernel, tfd, mt->st) == 0;
}

/*
 * Behaviour-based discovery: a process in scope, in no session, reached
 * an address a known LLM API name resolves to. It is an agent nobody
 * classified: it gets a session (every thread marked, so its children
 * and its own further sockets belong to it) and the default policy's
 * network rules from now on. It runs on; it is not re-executed into a
 * sandbox (that happens at exec, for agents known by their files).
 */
int aw_session_discovered(struct aw_daemon *d, uint32_t pid, uint32_t uid,
			  uint64_t start_time, uint64_t kmarked,
			  const char *api, const char *address)
{
	const struct aw_policy *pol = policy_for(d, 0);
	struct aw_policy_flat flat = {};
	struct aw_diag diag = {};
	struct aw_task_state st = {};
	char err[512] = "";
	uint64_t session;
	struct mark_thread mt = {.d = d, .st = &st};
	int pidfd, marked; /* threads marked here */

	pidfd = syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (pidfd < 0)
		return 0; /* gone already */
	if (aw_proc_still(pid, start_time) != 1) {
		close(pidfd); /* gone, and its pid reused */
		return 0;
	}
	/* The kernel marked it when it saw the connect (kmarked): anything
	 * else means it is in another session by now. */
	if (aw_kernel_task_get(d->kernel, pidfd, &st) == 0 && st.session &&
	    (st.session != kmarked || !(st.flags & AW_TASK_DISCOVERED))) {
		close(pidfd);
		return 0;
	}
	if (!pol || aw_policy_flatten(&d->policies, pol, &flat, &diag) < 0) {
		close(pidfd);
		return 0;
	}
	session = kmarked ? kmarked : aw_kernel_new_session(d->kernel);
	st = (struct aw_task_state){.session = session,
				    .flags =
					AW_TASK_ROOT | AW_TASK_DISCOVERED |
					(flat.has_network ? AW_TASK_NET : 0)};
	/* The network rules before the mark: no socket of it slips
	 * between the two. */
	if (aw_net_session_open(d, session, uid, pidfd, 0, &flat, err,
				sizeof(err)) < 0)
		fprintf(stderr, "agentwalld: discovered pid %u: %s\n", pid,
			err);
	close(pidfd);
	marked = aw_kernel_threads_each(pid, mark_thread, &mt);
	if (!marked) {
		aw_net_session_end(d, session);
		aw_policy_flat_free(&flat);
		return 0;
	}
	aw_events_discovered(d, pid, uid, session, api, address, pol->id);
	aw_policy_flat_free(&flat);
	return 0;
}
