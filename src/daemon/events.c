// SPDX-License-Identifier: GPL-2.0-only
/*
 * Ring-buffer records in, enriched events out: the process cache gives
 * exe, argv, cwd and lineage; every event goes to the store, the export
 * stream and (readably) the terminal. The decoder trusts nothing about a
 * record until its type, version and size are checked.
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
#include <sys/stat.h>
#include <sys/syscall.h>

#include <bpf/bpf.h>

#include "daemon/daemon.h"
#include "daemon/emit.h"
#include "daemon/members.h"
#include "daemon/metrics.h"
#include "daemon/writer.h"
#include "shared/util.h"

static int handle_exec(struct aw_daemon *d, const struct aw_event_exec *ev,
		       size_t size)
{
	const char *args = ev->data;
	const char *fname = ev->data + ev->args_len;
	struct aw_procinfo *pi;
	struct aw_procinfo *sp;
	char rule_desc[256] = "";
	char fn[AW_PATH_MAX + 1];
	int is_new_session = ev->flags & AW_EXEC_NEW_SESSION;
	int was_known, adopt_killed = 0;

	if (ev->filename_len > AW_PATH_MAX || ev->args_len > AW_ARGS_MAX ||
	    sizeof(*ev) + ev->filename_len + ev->args_len > size)
		return -EBADMSG;
	memcpy(fn, fname, ev->filename_len);
	fn[ev->filename_len] = 0;

	pi = aw_members_proc_take(d, ev->proc.pid, ev->proc.start_time,
				  &was_known);
	if (!pi)
		return -ENOMEM;
	pi->uid = ev->proc.uid;
	pi->ppid = ev->proc.ppid;
	pi->session = ev->proc.session;
	pi->agent = ev->proc.agent;
	pi->subagent = !!(ev->proc.task_flags & AW_TASK_SUBAGENT);
	pi->last_seen_ns = aw_now_boottime_ns();
	memcpy(pi->comm, ev->proc.comm, sizeof(pi->comm));
	pi->comm[sizeof(pi->comm) - 1] = 0;
	if (!was_known && !is_new_session) {
		/* Fork record lost (counted in the kernel): fall back to the
		 * ppid, which is right unless it was reparented. */
		struct aw_sessioninfo *si;

		sp = aw_procs_get(d->procs, ev->proc.ppid, 0);
		if (sp && sp->session == pi->session) {
			pi->spawner = sp->pid;
			pi->spawner_start = sp->start_time;
		}
		si = aw_members_session_lazy(d, pi, ev->hdr.ktime);
		if (si && !si->ended_ns)
			si->live++; /* a member, even unannounced */
	}
	free(pi->argv);
	pi->argv = NULL;
	pi->argv_len = 0;
	if (ev->args_len) {
		pi->argv = malloc(ev->args_len);
		if (pi->argv) {
			memcpy(pi->argv, args, ev->args_len);
			pi->argv_len = ev->args_len;
			/* The block ends in NUL unless it was truncated. */
			if (pi->argv[pi->argv_len - 1] != 0)
				pi->argv[pi->argv_len - 1] = 0;
		}
	}
	pi->argv_trunc = !!(ev->flags & AW_EXEC_ARGS_TRUNC);

	{
		char *exe = NULL, *cwd = NULL;

		if (aw_proc_still(pi->pid, pi->start_time) == 1) {
			exe = aw_members_proc_link(pi->pid, "exe");
			cwd = aw_members_proc_link(pi->pid, "cwd");
		}
		if (!cwd && pi->spawner) {
			sp = aw_procs_get(d->procs, pi->spawner,
					  pi->spawner_start);
			if (sp && sp->cwd)
				cwd = strdup(sp->cwd);
		}
		if (!exe) {
			if (fn[0] == '/' || !cwd)
				exe = strdup(fn);
			else if (asprintf(&exe, "%s/%s", cwd, fn) < 0)
				exe = NULL;
		}
		free(pi->exe);
		pi->exe = exe;
		if (cwd) {
			free(pi->cwd);
			pi->cwd = cwd;
		}
	}

	/* The agent waits, stopped, for this: before anything that may
	 * wait on the store. */
	/* (Killed at adoption, and recorded: nothing to force.) */
	adopt_killed = aw_daemon_was_killed_forcing(d, pi->pid, pi->start_time);
	if (ev->flags & AW_EXEC_FORCE_STOP && d->force && !adopt_killed) {
		aw_force_request(d->force, pi->pid, pi->start_time, pi->session,
				 !!(ev->flags & AW_EXEC_CONTENT));
		aw_metrics_force_stopped(d->metrics, pi->session,
					 ev->hdr.ktime);
	}
	if (ev->flags & AW_EXEC_CONTENT) {
		/* Held for a content check: no session until its digest
		 * says it is an agent (aw_events_content_session). */
		pi->session = 0;
		pi->agent = 0;
		if (ev->flags & AW_EXEC_FORCE_KILL) {
			struct aw_emit_info e = {
			    .action = "force",
			    .pi = pi,
			    .ktime = ev->hdr.ktime,
			    .target = fn,
			    .rule = ev->flags & AW_EXEC_FORCE_TRACED
					? "force/traced"
					: "force/no-daemon",
			    .decision = "deny",
			    .extra_json =
				ev->flags & AW_EXEC_FORCE_TRACED
				    ? "\"detail\":\"its size is a known agent "
				      "binary's and it was already ptraced at "
				      "exec (the daemon could not hold it for "
				      "a content check): killed before its "
				      "first instruction\""
				    : "\"detail\":\"its size is a known agent "
				      "binary's and no live daemon could check "
				      "its content: killed before its first "
				      "instruction\"",
			};
			aw_emit(d, &e);
		}
		return 0;
	}

	if (ev->rule) {
		const struct aw_sigref *sig = aw_daemon_sig(d, pi->agent);

		if (ev->flags & AW_EXEC_BY_INODE) {
			snprintf(rule_desc, sizeof(rule_desc),
				 "signature/%s:inode:%llu:%llu",
				 sig ? sig->id : "?",
				 (unsigned long long)ev->exe_dev,
				 (unsigned long long)ev->exe_ino);
		} else {
			aw_members_rule_describe(d, ev->rule, rule_desc,
						 sizeof(rule_desc), sig);
			/* Learn the file: hard links and renames of it are
			 * recognised from now on. */
			/* (A full table only means the path rules alone
			 * apply to this file; status shows the count.) */
			aw_daemon_learn_inode(d, ev->exe_dev, ev->exe_ino,
					      ev->exe_gen, ev->rule, pi->exe);
		}
	}
	if (is_new_session) {
		pi->spawner = 0;
		const struct aw_sigref *sig = aw_daemon_sig(d, pi->agent);
		struct aw_emit_info e = {
		    .action = "session-start",
		    .pi = pi,
		    .session = pi->session,
		    .ktime = ev->hdr.ktime,
		    .target = sig ? sig->id : NULL,
		    .rule = rule_desc,
		};

		aw_members_session_started(d, pi, ev, fn, rule_desc);
		aw_emit(d, &e);
	}
	{
		struct aw_emit_info e = {
		    .action = "exec",
		    .pi = pi,
		    .session = pi->session,
		    .ktime = ev->hdr.ktime,
		    .target = fn,
		    .rule = rule_desc[0] ? rule_desc : NULL,
		    .subagent = !!(ev->flags & AW_EXEC_SUBAGENT),
		    .new_session = is_new_session,
		    .exe_trunc = !!(ev->flags & AW_EXEC_PATH_TRUNC),
		    .args_trunc = !!(ev->flags & AW_EXEC_ARGS_TRUNC),
		};
		aw_emit(d, &e);
	}
	/* A tool the agent is configured to start (tools.c). */
	if (!is_new_session)
		aw_tools_exec(d, pi, ev->proc.task_flags, ev->hdr.ktime);
	if (ev->flags & AW_EXEC_FORCE_KILL) {
		int traced = !!(ev->flags & AW_EXEC_FORCE_TRACED);
		int other = !!(ev->flags & AW_EXEC_NOT_LAUNCHER);
		struct aw_emit_info e = {
		    .action = "force",
		    .pi = pi,
		    .session = pi->session,
		    .ktime = ev->hdr.ktime,
		    .target = fn,
		    .rule = other    ? "force/failed"
			    : traced ? "force/traced"
				     : "force/no-daemon",
		    .decision = "deny",
		    .extra_json =
			other	 ? "\"detail\":\"exec'd this while being "
				   "forced into its session, where only "
				   "agentwall's launcher may run, once (a file "
				   "bound over the launcher's path, or a "
				   "preloaded library or another tracer making "
				   "it exec something else): killed before its "
				   "first instruction\""
			: traced ? "\"detail\":\"already ptraced at exec "
				   "(PTRACE_TRACEME or attached): the daemon "
				   "could not hold it and its tracer could run "
				   "it: killed before its first instruction\""
				 : "\"detail\":\"enforce mode and no live "
				   "daemon to force it into a session: killed "
				   "before its first instruction\"",
		};
		aw_emit(d, &e);
	}
	return 0;
}

static int handle_fork(struct aw_daemon *d, const struct aw_event_fork *ev)
{
	struct aw_procinfo *pi, *parent;
	struct aw_sessioninfo *si;
	char target[32];
	int known;

	/* Already known (adopted from /proc after a restart, while its
	 * fork record waited in the ring): counted once only. */
	pi = aw_members_proc_take(d, ev->proc.pid, ev->proc.start_time, &known);
	if (!pi)
		return -ENOMEM;
	parent = aw_procs_get(d->procs, ev->parent_pid, ev->parent_start_time);
	pi->uid = ev->proc.uid;
	pi->ppid = ev->proc.ppid;
	pi->session = ev->proc.session;
	pi->agent = ev->proc.agent;
	pi->subagent = !!(ev->proc.task_flags & AW_TASK_SUBAGENT);
	pi->spawner = ev->parent_pid;
	pi->spawner_start = ev->parent_start_time;
	pi->last_seen_ns = aw_now_boottime_ns();
	memcpy(pi->comm, ev->proc.comm, sizeof(pi->comm));
	pi->comm[sizeof(pi->comm) - 1] = 0;
	/* A forked child runs its parent's image until it execs. */
	if (parent) {
		aw_procinfo_set_str(&pi->exe, parent->exe);
		aw_procinfo_set_str(&pi->cwd, parent->cwd);
		if (parent->argv) {
			free(pi->argv);
			pi->argv = malloc(parent->argv_len);
			if (pi->argv) {
				memcpy(pi->argv, parent->argv,
				       parent->argv_len);
				pi->argv_len = parent->argv_len;
			}
		}
	}
	aw_tools_fork(d, parent, pi, ev->proc.task_flags);
	si = aw_members_session_lazy(d, pi, ev->hdr.ktime);
	if (si && !si->ended_ns && !known)
		si->live++;
	snprintf(target, sizeof(target), "%u", pi->pid);
	{
		struct aw_emit_info e = {
		    .action = "fork",
		    .pi = pi,
		    .session = pi->session,
		    .ktime = ev->hdr.ktime,
		    .target = target,
		};
		aw_emit(d, &e);
	}
	return 0;
}

static int handle_exit(struct aw_daemon *d, const struct aw_event_exit *ev)
{
	struct aw_procinfo *pi;

	pi = aw_procs_get(d->procs, ev->proc.pid, ev->proc.start_time);
	if (!pi) {
		/* Never seen (its records were dropped): make it known so
		 * the exit is still attributed. */
		pi = aw_procs_add(d->procs, ev->proc.pid, ev->proc.start_time);
		if (!pi)
			return -ENOMEM;
		pi->session = ev->proc.session;
		pi->agent = ev->proc.agent;
		pi->uid = ev->proc.uid;
		pi->ppid = ev->proc.ppid;
		memcpy(pi->comm, ev->proc.comm, sizeof(pi->comm));
		pi->comm[sizeof(pi->comm) - 1] = 0;
		pi->live = 0;
	}
	pi->last_seen_ns = aw_now_boottime_ns();
	{
		struct aw_emit_info e = {
		    .action = "exit",
		    .pi = pi,
		    .session = pi->session,
		    .ktime = ev->hdr.ktime,
		    .has_exit = 1,
		    .exit_code = ev->exit_code,
		};
		aw_emit(d, &e);
	}
	aw_members_session_member_gone(d, pi, ev->hdr.ktime);
	return 0;
}

/*
 * The signal hook killed an agent that waited to be forced: something
 * would have resumed it before the daemon held it. Say exactly what.
 */
static int handle_force_kill(struct aw_daemon *d,
			     const struct aw_event_force_kill *ev)
{
	struct aw_procinfo *pi;
	char comm[17], detail[400];
	int queued = !(ev->reason & AW_FKILL_NOT_QUEUED);

	pi = aw_procs_get(d->procs, ev->proc.pid, ev->proc.start_time);
	memcpy(comm, ev->sender_comm, 16);
	comm[16] = 0;
	for (char *c = comm; *c; c++)
		if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
			*c = '?';
	{
		char w[300];

		if ((ev->reason & ~(uint32_t)AW_FKILL_NOT_QUEUED) ==
		    AW_FKILL_TRACED)
			snprintf(
			    w, sizeof(w),
			    "signalled (signal %u) by pid %u (%s, uid %u) "
			    "while a tracer other than the daemon held it: "
			    "killed",
			    ev->sig, ev->sender_pid, comm, ev->sender_uid);
		else
			snprintf(w, sizeof(w),
				 "continued (signal %u) by pid %u (%s, uid %u) "
				 "before the daemon held it: killed",
				 ev->sig, ev->sender_pid, comm, ev->sender_uid);
		snprintf(detail, sizeof(detail),
			 "\"detail\":\"%s%s\",\"by_pid\":%u,\"by_comm\":"
			 "\"%s\",\"signal\":%u",
			 w,
			 queued ? ""
				: " (the kernel could not queue the kill; "
				  "the daemon sent it)",
			 ev->sender_pid, comm, ev->sig);
	}
	if (!queued && aw_proc_still(ev->proc.pid, ev->proc.start_time) == 1)
		kill((pid_t)ev->proc.pid, SIGKILL);
	aw_daemon_killed_forcing(d, ev->proc.pid, ev->proc.start_time);
	{
		struct aw_emit_info e = {
		    .action = "force",
		    .pi = pi,
		    .session = ev->proc.session,
		    .ktime = ev->hdr.ktime,
		    .target = pi && pi->exe ? pi->exe : NULL,
		    .rule = "force/failed",
		    .decision = "deny",
		    .extra_json = detail,
		};

		if (pi)
			aw_emit(d, &e);
		else
			aw_events_emit_decision(d, "force", ev->proc.session,
						ev->proc.pid, NULL,
						"force/failed", "deny", detail);
	}
	return 0;
}

/* A process outside any session reached a known LLM API: it gets a
 * session of its own (sessions.c) and its resolver (egress.c). */
static int handle_discover(struct aw_daemon *d, const struct aw_event_net *ev)
{
	char a[80];

	aw_net_addr_text(ev, a, sizeof(a));
	return aw_session_discovered(d, ev->proc.pid, ev->proc.uid,
				     ev->proc.start_time, ev->proc.session,
				     aw_net_llm_name(d, ev->api), a);
}

void aw_events_end_sandboxes(struct aw_daemon *d)
{
	uint64_t session;

	while (aw_members_take_ended(d, &session)) {
		aw_tools_session_end(d, session);
		aw_sandbox_session_end(d, session);
	}
}

int aw_events_handle(void *ctx, const void *data, size_t size)
{
	struct aw_daemon *d = ctx;
	const struct aw_event_hdr *h = data;
	int r = -EBADMSG;

	d->events_seen++;
	if (size < sizeof(*h) || h->version != AW_ABI_VERSION ||
	    h->size > size) {
		d->decode_errors++;
		return 0;
	}
	switch ((enum aw_event_type)h->type) {
	case AW_EV_EXEC:
		if (h->size >= sizeof(struct aw_event_exec))
			r = handle_exec(d, data, h->size);
		break;
	case AW_EV_FORK:
		if (h->size >= sizeof(struct aw_event_fork))
			r = handle_fork(d, data);
		break;
	case AW_EV_EXIT:
		if (h->size >= sizeof(struct aw_event_exit))
			r = handle_exit(d, data);
		break;
	case AW_EV_NET:
		if (h->size >= sizeof(struct aw_event_net))
			r = aw_net_record(d, data);
		break;
	case AW_EV_DISCOVER:
		if (h->size >= sizeof(struct aw_event_net))
			r = handle_discover(d, data);
		break;
	case AW_EV_FORCE_KILL:
		if (h->size >= sizeof(struct aw_event_force_kill))
			r = handle_force_kill(d, data);
		break;
	}
	if (r < 0)
		d->decode_errors++;
	aw_events_end_sandboxes(d);
	/* Never stop the drain: one bad record must not lose the rest. */
	return 0;
}

void aw_events_check_drops(struct aw_daemon *d)
{
	uint64_t st[AW_STAT_MAX];
	uint64_t kdrops, udrops;
	char detail[256];

	aw_kernel_stats(d->kernel, st);
	kdrops = st[AW_STAT_DROP_EXEC] + st[AW_STAT_DROP_FORK] +
		 st[AW_STAT_DROP_EXIT] + st[AW_STAT_STORAGE_FAIL] +
		 st[AW_STAT_DROP_NET] + st[AW_STAT_NET_UNREPORTED] +
		 st[AW_STAT_DROP_FORCE];
	/* Losses in user space (store or export failing, no memory) are
	 * reported the same way as the kernel's. */
	udrops = aw_daemon_user_drops(d);
	if (kdrops + udrops == d->drops_reported)
		return;
	snprintf(detail, sizeof(detail),
		 "\"drops\":{\"exec\":%llu,\"fork\":%llu,\"exit\":%llu,"
		 "\"storage\":%llu,\"user\":%llu}",
		 (unsigned long long)st[AW_STAT_DROP_EXEC],
		 (unsigned long long)st[AW_STAT_DROP_FORK],
		 (unsigned long long)st[AW_STAT_DROP_EXIT],
		 (unsigned long long)st[AW_STAT_STORAGE_FAIL],
		 (unsigned long long)udrops);
	d->drops_reported = kdrops + udrops;
	aw_store_lock(d);
	if (d->store)
		aw_store_record_drops(d->store, aw_now_realtime_ns(), kdrops,
				      udrops);
	aw_store_unlock(d);
	aw_events_emit_simple(
	    d, "drop", 0, NULL,
	    udrops ? "daemon/events-lost" : "kernel/ringbuf-full", detail);
}

struct reconcile_ctx {
	struct aw_daemon *d;
	struct {
		uint32_t pid;
		uint64_t start;
	} gone[256];
	size_t n;
};

static void reconcile_one(void *ud, struct aw_procinfo *pi)
{
	struct reconcile_ctx *c = ud;

	if (!pi->live || c->n >= AW_ARRAY_SIZE(c->gone))
		return;
	if (aw_proc_still(pi->pid, pi->start_time) == 0) {
		c->gone[c->n].pid = pi->pid;
		c->gone[c->n].start = pi->start_time;
		c->n++;
	}
}

/* Exit records can be lost (ring buffer full): processes that are gone
 * are found here so sessions still end. */
void aw_events_reconcile(struct aw_daemon *d)
{
	struct reconcile_ctx c = {.d = d};

	aw_procs_each(d->procs, reconcile_one, &c);
	/* Records written before those processes went (a fork of a child
	 * that outlives its parent, the exit itself) may still be in the
	 * ring: take them first, then look each one up again by (pid,
	 * start), since draining can replace cache entries. */
	aw_kernel_poll(d->kernel);
	for (size_t i = 0; i < c.n; i++) {
		struct aw_procinfo *pi =
		    aw_procs_get(d->procs, c.gone[i].pid, c.gone[i].start);

		if (pi && pi->live)
			aw_members_session_member_gone(d, pi, 0);
	}
	aw_procs_trim(d->procs, aw_now_boottime_ns());
	aw_events_end_sandboxes(d);
}

static void adopt_link(void *ud, struct aw_procinfo *pi)
{
	struct aw_daemon *d = ud;
	struct aw_procinfo *parent;

	if (!pi->start_approx || pi->spawner)
		return;
	/* The parent stands in for the spawner when it is in the session
	 * (a reparented process's original spawner is not known). */
	parent = aw_procs_get(d->procs, pi->ppid, 0);
	if (parent && parent != pi && parent->session == pi->session) {
		pi->spawner = parent->pid;
		pi->spawner_start = parent->start_time;
	}
}

static void adopt_session(void *ud, struct aw_sessioninfo *si)
{
	struct aw_daemon *d = ud;
	struct aw_procinfo *root;

	if (si->version || !si->root_pid)
		return;
	root = aw_procs_get(d->procs, si->root_pid, si->root_start);
	if (!root)
		return;
	si->uid = 0;
	{
		char p[64];
		struct stat st;

		snprintf(p, sizeof(p), "/proc/%u", root->pid);
		if (stat(p, &st) == 0)
			si->uid = st.st_uid;
		root->uid = si->uid;
	}
	aw_procinfo_set_str(&si->matched, "adopted");
	si->version = aw_members_agent_version(
	    d, root, aw_daemon_sig(d, si->agent), root->exe);
}

/*
 * A task the previous daemon left waiting to be forced: stopped at exec
 * while no daemon could force it (the daemon died within its pulse's
 * validity), or in the middle of being forced. Nobody can hold it now
 * without a window: kill it, and say exactly what it was doing.
 */
static void adopt_kill_forcing(struct aw_daemon *d, uint32_t pid, int pidfd,
			       const struct aw_task_state *st)
{
	char p[64], buf[512], state = '?', exe[PATH_MAX] = "", detail[512];
	uint64_t start = 0;
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "/proc/%u/stat", pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			char *rp;

			buf[n] = 0;
			rp = strrchr(buf, ')');
			if (rp && rp[1] == ' ')
				state = rp[2];
		}
	}
	snprintf(p, sizeof(p), "/proc/%u/exe", pid);
	n = readlink(p, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	{
		struct aw_procinfo *pi = aw_members_proc_from_proc(d, pid);

		if (pi)
			start = pi->start_time;
	}
	syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	if (state == 'T' && !(st->flags & AW_TASK_HELD))
		snprintf(detail, sizeof(detail),
			 "\"detail\":\"stopped at exec to be forced, but the "
			 "daemon ended before it could be (no daemon forced it "
			 "since; a SIGCONT would have killed it); found "
			 "stopped at restart: killed. It ran none of its own "
			 "code\",\"state\":\"%c\"",
			 state);
	else
		snprintf(detail, sizeof(detail),
			 "\"detail\":\"was being forced when the daemon "
			 "ended (%s; process state %c); found at restart: "
			 "killed\",\"state\":\"%c\"",
			 st->flags & AW_TASK_HELD ? "held by it"
						  : "not yet held",
			 state, state);
	aw_events_emit_decision(d, "force", st->session, pid,
				exe[0] ? exe : NULL, "force/failed", "deny",
				detail);
	aw_daemon_killed_forcing(d, pid, start);
}

void aw_events_adopt(struct aw_daemon *d)
{
	size_t nprocs = 0, nsess = 0;
	struct dirent *de;
	DIR *dir;
	char detail[160];

	dir = opendir("/proc");
	if (!dir)
		return;
	/* Every live process that has session state in the kernel. */
	while ((de = readdir(dir))) {
		struct aw_task_state st;
		struct aw_procinfo *pi;
		struct aw_sessioninfo *si;
		uint32_t pid;
		char *end;
		int pidfd, is_root, r;

		pid = strtoul(de->d_name, &end, 10);
		if (*end || !pid)
			continue;
		pidfd = syscall(SYS_pidfd_open, pid, 0);
		if (pidfd < 0)
			continue;
		r = aw_kernel_task_get(d->kernel, pidfd, &st);
		if (r == 0 && (st.flags & AW_TASK_FORCING)) {
			adopt_kill_forcing(d, pid, pidfd, &st);
			close(pidfd);
			continue;
		}
		close(pidfd);
		if (r < 0)
			continue;
		pi = aw_members_proc_from_proc(d, pid);
		if (!pi)
			continue;
		pi->session = st.session;
		pi->agent = st.agent;
		pi->subagent = !!(st.flags & AW_TASK_SUBAGENT);
		nprocs++;
		si = aw_sessions_get(d->procs, st.session);
		if (!si) {
			si = aw_sessions_add(d->procs, st.session);
			if (!si)
				continue;
			nsess++;
		}
		si->live++;
		/* The root if it lives, else the oldest member. */
		is_root = !!(st.flags & AW_TASK_ROOT);
		if (!si->root_pid || is_root ||
		    (!si->matched && pi->start_time < si->root_start)) {
			si->root_pid = pid;
			si->root_start = pi->start_time;
			si->agent = st.agent;
			si->started_ns =
			    pi->start_time + d->boot_realtime_offset;
			if (is_root)
				aw_procinfo_set_str(&si->matched, "root");
		}
	}
	closedir(dir);
	aw_procs_each(d->procs, adopt_link, d);
	aw_sessions_each(d->procs, adopt_session, d);
	snprintf(detail, sizeof(detail),
		 "\"detail\":\"adopted %zu live sessions and %zu processes "
		 "from the previous daemon's pins\"",
		 nsess, nprocs);
	aw_events_emit_simple(d, "notice", 0, NULL, "daemon/adopt", detail);
}
