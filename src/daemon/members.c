// SPDX-License-Identifier: GPL-2.0-only
/*
 * Session membership in the process cache: who belongs to which session,
 * what each session is (agent, version, root, start), and the
 * bookkeeping the decoder (events.c), the session opener (sessions.c)
 * and the forcing thread (force.c) share: a session opened for a
 * launcher, a discovered process, a process forced by its content or
 * released, an agent killed while waiting to be forced. Reads /proc for
 * what a record does not carry. Calls only the process cache, the store
 * and the sink below it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <bpf/bpf.h>

#include "daemon/daemon.h"
#include "daemon/emit.h"
#include "daemon/members.h"
#include "shared/json.h"
#include "shared/util.h"

char *aw_members_proc_link(uint32_t pid, const char *what)
{
	char p[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/%u/%s", pid, what);
	n = readlink(p, buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	return strdup(buf);
}

/* Version of an npm-packaged agent from the package.json above path. */
static char *npm_version(const char *path, const char *package)
{
	char dir[PATH_MAX], file[PATH_MAX + 16], buf[65536];
	char *slash;

	if (!package || !path)
		return NULL;
	snprintf(dir, sizeof(dir), "%s", path);
	for (int depth = 0; depth < 8; depth++) {
		int fd;
		ssize_t n;
		char *name, *ver, *q;
		size_t plen = strlen(package);

		slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			return NULL;
		*slash = 0;
		snprintf(file, sizeof(file), "%s/package.json", dir);
		/* The tree is the agent's: a FIFO or device named
		 * package.json must not block the daemon's one thread. */
		fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
				    O_NOCTTY);
		if (fd < 0)
			continue;
		{
			struct stat fst;

			if (fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode)) {
				close(fd);
				continue;
			}
		}
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		name = strstr(buf, "\"name\"");
		ver = strstr(buf, "\"version\"");
		if (!name || !ver)
			continue;
		name = strchr(name + 6, '"');
		if (!name || strncmp(name + 1, package, plen) != 0)
			continue;
		ver = strchr(ver + 9, '"');
		if (!ver)
			continue;
		q = strchr(ver + 1, '"');
		if (!q || q - ver > 64)
			continue;
		return strndup(ver + 1, q - ver - 1);
	}
	return NULL;
}

char *aw_members_agent_version(struct aw_daemon *d, struct aw_procinfo *pi,
			       const struct aw_sigref *sig,
			       const char *filename)
{
	char path[PATH_MAX], real[PATH_MAX];
	const char *cand = filename;
	char *v;

	if (!sig)
		return NULL;
	/* The script argument, if an interpreter ran it. */
	if (pi->argv) {
		size_t i = strnlen(pi->argv, pi->argv_len) + 1;

		while (i < pi->argv_len) {
			const char *a = pi->argv + i;

			if (a[0] != '-') {
				cand = a;
				break;
			}
			i += strnlen(a, pi->argv_len - i) + 1;
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		const char *c = pass ? (pi->exe ? pi->exe : filename) : cand;

		if (!c)
			continue;
		if (c[0] == '/')
			snprintf(path, sizeof(path), "/proc/%u/root%s", pi->pid,
				 c);
		else
			snprintf(path, sizeof(path), "/proc/%u/cwd/%s", pi->pid,
				 c);
		if (!realpath(path, real))
			snprintf(real, sizeof(real), "%s", c);
		v = npm_version(real, sig->package);
		if (v)
			return v;
		/* Native installs keep one file per version in versions/. */
		{
			char *b = strrchr(real, '/');

			if (b && b - real > 9 &&
			    !strncmp(b - 9, "/versions", 9))
				return strdup(b + 1);
		}
	}
	return NULL;
}

/*
 * The cache entry for (pid, start): looked up or made. A live entry of an
 * older process with the same pid is that process's end (its exit record
 * was lost), so it leaves its session first. *ret_known says whether the
 * entry existed (counted in its session already).
 */
struct aw_procinfo *aw_members_proc_take(struct aw_daemon *d, uint32_t pid,
					 uint64_t start, int *ret_known)
{
	struct aw_procinfo *old = aw_procs_get(d->procs, pid, 0);

	if (old && old->live && !aw_procs_get(d->procs, pid, start))
		aw_members_session_member_gone(d, old, 0);
	*ret_known = aw_procs_get(d->procs, pid, start) != NULL;
	return aw_procs_add(d->procs, pid, start);
}

/* Write (insert or update) the store's row for a session. */
static void session_store(struct aw_daemon *d, const struct aw_sessioninfo *si,
			  const struct aw_procinfo *root, const char *argv_text)
{
	const struct aw_sigref *sig = aw_daemon_sig(d, si->agent);
	struct aw_store_session ss = {
	    .session = si->session,
	    .agent_id = sig ? sig->id : NULL,
	    .vendor = sig ? sig->vendor : NULL,
	    .product = sig ? sig->product : NULL,
	    .class = sig ? sig->class : NULL,
	    .version = si->version,
	    .root_pid = root->pid,
	    .root_start_time = root->start_time,
	    .uid = root->uid,
	    .exe = root->exe,
	    .argv = argv_text,
	    .matched = si->matched,
	    .started_ns = si->started_ns,
	};

	if (!d->store)
		return;
	aw_store_lock(d);
	if (aw_store_upsert_session(d->store, &ss) < 0)
		d->user_drops++;
	aw_store_unlock(d);
}

/* A member of a session this daemon has no record of: the record that
 * opened it was lost (counted). Make the session known from what the
 * kernel says of this member, so it is listed and ends. */
struct aw_sessioninfo *aw_members_session_lazy(struct aw_daemon *d,
					       struct aw_procinfo *pi,
					       uint64_t ktime)
{
	struct aw_sessioninfo *si = aw_sessions_get(d->procs, pi->session);

	if (si || !pi->session)
		return si;
	si = aw_sessions_add(d->procs, pi->session);
	if (!si)
		return NULL;
	si->agent = pi->agent;
	si->root_pid = pi->pid;
	si->root_start = pi->start_time;
	si->uid = pi->uid;
	si->started_ns = aw_realtime_of(d, ktime);
	aw_procinfo_set_str(&si->matched,
			    "unknown: the opening record was lost");
	session_store(d, si, pi, NULL);
	return si;
}

void aw_members_session_started(struct aw_daemon *d, struct aw_procinfo *pi,
				const struct aw_event_exec *ev,
				const char *filename, char *rule_desc)
{
	struct aw_sessioninfo *si = aw_sessions_get(d->procs, pi->session);
	const struct aw_sigref *sig = aw_daemon_sig(d, pi->agent);
	char *argv_text = NULL;
	int existed = si != NULL;

	if (!si)
		si = aw_sessions_add(d->procs, pi->session);
	if (!si) {
		d->user_drops++;
		return;
	}
	si->agent = pi->agent;
	si->root_pid = pi->pid;
	si->root_start = pi->start_time;
	si->uid = pi->uid;
	si->started_ns = aw_realtime_of(d, ev->hdr.ktime);
	/* Known already (adopted after a restart): members were counted. */
	if (!existed)
		si->live = 1;
	aw_procinfo_set_str(&si->matched, rule_desc);
	free(si->version);
	si->version = aw_members_agent_version(d, pi, sig, filename);

	if (pi->argv) {
		argv_text = malloc(pi->argv_len + 1);
		if (argv_text) {
			for (size_t i = 0; i < pi->argv_len; i++)
				argv_text[i] = pi->argv[i] ? pi->argv[i] : ' ';
			argv_text[pi->argv_len] = 0;
		}
	}
	session_store(d, si, pi, argv_text);
	free(argv_text);
}

/* Remembered for aw_members_take_ended(); if memory runs out, the
 * sandbox ends at the next reconciliation instead (its cgroup is
 * empty). */
static void ended_add(struct aw_daemon *d, uint64_t session)
{
	if (d->n_ended == d->cap_ended) {
		size_t cap = d->cap_ended ? d->cap_ended * 2 : 16;
		uint64_t *n = realloc(d->ended, cap * sizeof(*n));

		if (!n)
			return;
		d->ended = n;
		d->cap_ended = cap;
	}
	d->ended[d->n_ended++] = session;
}

int aw_members_take_ended(struct aw_daemon *d, uint64_t *ret_session)
{
	if (!d->n_ended)
		return 0;
	*ret_session = d->ended[--d->n_ended];
	return 1;
}

void aw_members_session_member_gone(struct aw_daemon *d, struct aw_procinfo *pi,
				    uint64_t ktime)
{
	struct aw_sessioninfo *si;

	if (!pi->live)
		return;
	pi->live = 0;
	si = aw_sessions_get(d->procs, pi->session);
	if (!si || si->ended_ns || !si->live)
		return;
	if (--si->live == 0) {
		si->ended_ns = aw_realtime_of(d, ktime);
		aw_store_lock(d);
		if (d->store)
			aw_store_end_session(d->store, si->session,
					     si->ended_ns);
		aw_store_unlock(d);
		aw_events_emit_simple(d, "session-end", si->session, NULL, NULL,
				      NULL);
		ended_add(d, si->session);
	}
}

void aw_members_rule_describe(struct aw_daemon *d, uint32_t rule, char *buf,
			      size_t len, const struct aw_sigref *sig)
{
	/* Rule numbers carry their bank; both banks' descriptions are kept
	 * so a record written just before a reload still names its rule. */
	uint32_t r = rule - 1;
	unsigned bank = r / AW_RULES_BANK;
	uint32_t idx = r % AW_RULES_BANK;

	if (bank < 2 && idx < d->n_rule_text[bank] && d->rule_text[bank][idx])
		snprintf(buf, len, "%s", d->rule_text[bank][idx]);
	else
		snprintf(buf, len, "signature/%s", sig ? sig->id : "?");
}

static void read_cmdline(struct aw_procinfo *pi);

/* A live process the cache has not seen (its records predate us, or it
 * was not in a session until now), described from /proc. Its start time
 * is known to a clock tick only, corrected by its first kernel record. */
struct aw_procinfo *aw_members_proc_from_proc(struct aw_daemon *d, uint32_t pid)
{
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t tick = 1000000000ull / (uint64_t)(hz > 0 ? hz : 100);
	struct aw_procinfo *pi;
	uint32_t ppid = 0;
	uint64_t ticks = 0;

	if (aw_proc_stat(pid, &ppid, &ticks) < 0)
		return NULL;
	pi = aw_procs_add(d->procs, pid, ticks * tick);
	if (!pi)
		return NULL;
	pi->start_approx = 1;
	pi->ppid = ppid;
	pi->last_seen_ns = aw_now_boottime_ns();
	aw_procinfo_set_str(&pi->exe, NULL);
	pi->exe = aw_members_proc_link(pid, "exe");
	aw_procinfo_set_str(&pi->cwd, NULL);
	pi->cwd = aw_members_proc_link(pid, "cwd");
	read_cmdline(pi);
	return pi;
}

void aw_events_session_open(struct aw_daemon *d, uint32_t pid, uint32_t uid,
			    uint64_t session, uint32_t agent, const char *cu,
			    const char *policy, const char *workspace,
			    int forced, const char *note)
{
	struct aw_sessioninfo *si = aw_sessions_get(d->procs, session);
	struct aw_procinfo *pi = aw_procs_get(d->procs, pid, 0);
	const struct aw_sigref *sig = aw_daemon_sig(d, agent);
	struct aw_buf x = {};
	char rule[128];

	if (!pi || pi->session != session) {
		/* The launcher of `agentwall run`: in no session until now,
		 * so unknown to the cache. */
		pi = aw_members_proc_from_proc(d, pid);
		if (!pi)
			return;
		pi->uid = uid;
		pi->live = 1;
	}
	pi->session = session;
	pi->agent = agent;
	pi->last_seen_ns = aw_now_boottime_ns();
	if (!si) {
		si = aw_sessions_add(d->procs, session);
		if (!si)
			return;
		si->live = 1;
		si->root_pid = pid;
		si->root_start = pi->start_time;
		si->uid = pi->uid;
		si->started_ns = aw_now_realtime_ns();
	}
	si->agent = agent;
	snprintf(rule, sizeof(rule), "%s/%s", forced ? "force" : "run", policy);
	if (!forced)
		aw_procinfo_set_str(&si->matched, rule);
	aw_json_key(&x, "policy");
	aw_json_cstr(&x, policy);
	aw_buf_puts(&x, ",");
	aw_json_key(&x, "workspace");
	aw_json_cstr(&x, workspace && workspace[0] ? workspace : NULL);
	if (cu && cu[0] == '{') {
		aw_buf_puts(&x, ",\"computer_use\":");
		aw_buf_puts(&x, cu);
	}
	if (note && note[0]) {
		aw_buf_puts(&x, ",");
		aw_json_key(&x, "note");
		aw_json_cstr(&x, note);
	}
	aw_buf_add(&x, "", 1);
	if (!forced)
		session_store(d, si, pi, NULL);
	{
		struct aw_emit_info e = {
		    .action = "sandbox",
		    .pi = pi,
		    .session = session,
		    .target = sig ? sig->id : NULL,
		    .rule = rule,
		    .decision = "sandbox",
		    .extra_json = x.oom ? NULL : x.data,
		};

		aw_emit(d, &e);
	}
	aw_buf_free(&x);
}

/* A process that reached a known LLM API from outside any session: now
 * the root of a session of its own (see aw_session_discovered). */
void aw_events_discovered(struct aw_daemon *d, uint32_t pid, uint32_t uid,
			  uint64_t session, const char *api,
			  const char *address, const char *policy)
{
	struct aw_sessioninfo *si;
	struct aw_procinfo *pi = aw_procs_get(d->procs, pid, 0);
	struct aw_buf x = {};
	char rule[300];

	if (!pi)
		pi = aw_members_proc_from_proc(d, pid);
	if (!pi)
		return;
	pi->uid = uid;
	pi->live = 1;
	pi->session = session;
	pi->agent = 0;
	pi->last_seen_ns = aw_now_boottime_ns();
	si = aw_sessions_add(d->procs, session);
	if (!si)
		return;
	si->live = 1;
	si->root_pid = pid;
	si->root_start = pi->start_time;
	si->uid = uid;
	si->started_ns = aw_now_realtime_ns();
	snprintf(rule, sizeof(rule), "behaviour/llm-api:%s", api);
	aw_procinfo_set_str(&si->matched, rule);
	session_store(d, si, pi, NULL);
	aw_json_key(&x, "policy");
	aw_json_cstr(&x, policy);
	aw_buf_puts(&x, ",");
	aw_json_key(&x, "address");
	aw_json_cstr(&x, address);
	aw_buf_add(&x, "", 1);
	{
		struct aw_emit_info e = {
		    .action = "discover",
		    .pi = pi,
		    .session = session,
		    .target = api,
		    .rule = rule,
		    .decision = NULL,
		    .extra_json = x.oom ? NULL : x.data,
		};

		aw_emit(d, &e);
	}
	aw_buf_free(&x);
}

void aw_events_content_session(struct aw_daemon *d, uint32_t pid,
			       uint64_t start_time, uint32_t sig_number,
			       const char *sha)
{
	struct aw_procinfo *pi = aw_procs_get(d->procs, pid, start_time);
	const struct aw_sigref *sig = aw_daemon_sig(d, sig_number);
	struct aw_event_exec ev = {};
	char rule[256];
	int pidfd;
	struct aw_task_state st;

	if (!pi)
		return;
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd >= 0) {
		if (aw_kernel_task_get(d->kernel, pidfd, &st) == 0)
			pi->session = st.session;
		close(pidfd);
	}
	pi->agent = sig_number;
	snprintf(rule, sizeof(rule), "signature/%s:sha256:%s",
		 sig ? sig->id : "?", sha);
	ev.hdr.ktime = aw_now_boottime_ns();
	aw_members_session_started(d, pi, &ev, pi->exe ? pi->exe : "", rule);
	{
		struct aw_emit_info e = {
		    .action = "session-start",
		    .pi = pi,
		    .session = pi->session,
		    .target = sig ? sig->id : NULL,
		    .rule = rule,
		};

		aw_emit(d, &e);
	}
}

void aw_events_content_released(struct aw_daemon *d, uint32_t pid,
				uint64_t start_time)
{
	struct aw_procinfo *pi = aw_procs_get(d->procs, pid, start_time);

	if (pi) {
		pi->session = 0;
		pi->agent = 0;
	}
}

static void read_cmdline(struct aw_procinfo *pi)
{
	char p[64], buf[AW_ARGS_MAX];
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "/proc/%u/cmdline", pi->pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return;
	free(pi->argv);
	pi->argv = malloc(n);
	if (!pi->argv)
		return;
	memcpy(pi->argv, buf, n);
	pi->argv[n - 1] = 0;
	pi->argv_len = n;
}

/* Remember the last few agents killed while they waited to be forced
 * (recorded already): a forcing request for one is not reported again. */
void aw_daemon_killed_forcing(struct aw_daemon *d, uint32_t pid,
			      uint64_t start_time)
{
	struct aw_adopt_killed *nk;

	if (d->n_adopt_killed >= 256) {
		memmove(d->adopt_killed, d->adopt_killed + 128,
			(d->n_adopt_killed - 128) * sizeof(*nk));
		d->n_adopt_killed -= 128;
	}
	nk = realloc(d->adopt_killed, (d->n_adopt_killed + 1) * sizeof(*nk));
	if (!nk)
		return;
	d->adopt_killed = nk;
	nk[d->n_adopt_killed++] =
	    (struct aw_adopt_killed){.pid = pid, .start_time = start_time};
}

int aw_daemon_was_killed_forcing(struct aw_daemon *d, uint32_t pid,
				 uint64_t start_time)
{
	/* Start times read from /proc have clock-tick precision (10 ms). */
	for (size_t i = 0; i < d->n_adopt_killed; i++) {
		uint64_t s = d->adopt_killed[i].start_time;

		if (d->adopt_killed[i].pid == pid &&
		    (s > start_time ? s - start_time : start_time - s) <
			20000000ull)
			return 1;
	}
	return 0;
}

int aw_members_peer_session(struct aw_daemon *d, int fd, const char *args,
			    const char *what, struct ucred *ret_cred,
			    int *ret_pidfd, struct aw_task_state *ret_st,
			    struct aw_buf *out)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred), pl = sizeof(*ret_pidfd);
	char val[64];

	if ((ret_cred &&
	     getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, ret_pidfd, &pl) < 0 ||
	    aw_kernel_task_get(d->kernel, *ret_pidfd, ret_st) < 0 ||
	    !(ret_st->flags & AW_TASK_CONTAINED)) {
		aw_buf_printf(out, "error: only a session's launcher %s\n",
			      what);
		return -EPERM;
	}
	if (aw_kv_get(args, "session", val, sizeof(val)) < 0 ||
	    strtoull(val, NULL, 16) != ret_st->session) {
		aw_buf_puts(out, "error: not your session\n");
		return -EPERM;
	}
	if (ret_cred)
		*ret_cred = cred;
	return 0;
}
