// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tools per session: an MCP server the session's agent is configured to
 * start becomes a sub-agent under the tool's policy, named as configured,
 * whether or not a signature knows it.
 *
 * At every exec of a session member (events.c), the exec's argv is
 * compared with the servers named by the agent's config files as the
 * session sees them (tools_config.c: Codex's config.toml, Claude Code's
 * ~/.claude.json and .mcp.json, Gemini CLI's settings.json; HOME and
 * CODEX_HOME from the session root's environment, the workspace from its
 * cwd; read again at most once a second per session). Only members are
 * compared: a process named like a configured server that the session did
 * not start is nobody's tool. A match:
 *
 *  - is marked in the kernel (AW_TASK_TOOL | AW_TASK_SUBAGENT on each of
 *    its threads, through pidfds): what it forks inherits the mark, and
 *    an exec keeps it, so it stays the tool whatever it runs next;
 *  - gets the policy that applies to the class `mcp-server` (the
 *    template `mcp-server`), of which the process limit is applied in
 *    place: a pids cgroup of its own below the session's
 *    (aw_sandbox_tool_cgroup);
 *  - is recorded: a `tool-start` event (the name, whose config, which
 *    file, the policy, the limit or why it could not be applied), and the
 *    name on every later event of its processes and in `ps`.
 *
 * Called by events.c only; calls sessions.c (cgroups), emit.c and the
 * kernel stage, none of which call back.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/emit.h"
#include "daemon/tools.h"
#include "policy/policy.h"
#include "shared/json.h"
#include "shared/util.h"

#define TOOLS_CACHE_MAX 64
#define TOOLS_RELOAD_NS 1000000000ull

struct tools_entry {
	uint64_t session;
	uint64_t loaded_ns;
	struct aw_tool_confs confs;
};

#define TOOLS_NETS_MAX 1024

struct aw_tools {
	struct tools_entry e[TOOLS_CACHE_MAX];
	size_t next; /* round robin replacement */
	/* tools' own network policies: ended with their session */
	struct {
		uint64_t session, key;
	} nets[TOOLS_NETS_MAX];
	size_t n_nets;
};

static struct aw_tools *tools_get(struct aw_daemon *d)
{
	if (!d->tools)
		d->tools = calloc(1, sizeof(*d->tools));
	return d->tools;
}

void aw_tools_session_end(struct aw_daemon *d, uint64_t session)
{
	struct aw_tools *t = d->tools;

	for (size_t i = 0; t && i < t->n_nets;) {
		if (t->nets[i].session != session) {
			i++;
			continue;
		}
		aw_net_session_end(d, t->nets[i].key);
		t->nets[i] = t->nets[--t->n_nets];
	}
}

/*
 * The tool's own network policy: the policy's rules under a key of its
 * own (the session's upper half, a fresh counter), with a resolver of
 * its own, its records going to the session. The counter for the mark,
 * 0 if none (why in err).
 */
static uint32_t tool_net(struct aw_daemon *d, struct aw_procinfo *pi,
			 const struct aw_policy_flat *f, char *err,
			 size_t errlen)
{
	struct aw_tools *t = tools_get(d);
	uint64_t key;
	uint32_t counter;
	int pidfd, r;

	if (!f->has_network) {
		snprintf(err, errlen,
			 "its policy does not confine the network");
		return 0;
	}
	if (!d->kernel || !d->net || aw_kernel_net_error(d->kernel)) {
		snprintf(err, errlen, "no network hooks");
		return 0;
	}
	if (!t || t->n_nets >= TOOLS_NETS_MAX) {
		snprintf(err, errlen, "too many tools with a network policy");
		return 0;
	}
	counter = (uint32_t)aw_kernel_new_session(d->kernel);
	if (!counter)
		counter = (uint32_t)aw_kernel_new_session(d->kernel);
	key = (pi->session & 0xffffffff00000000ull) | counter;
	pidfd = syscall(SYS_pidfd_open, (pid_t)pi->pid, 0);
	if (pidfd < 0) {
		snprintf(err, errlen, "gone");
		return 0;
	}
	r = aw_net_session_open_as(d, key, pi->session, pi->uid, pidfd, 0, f,
				   err, errlen);
	close(pidfd);
	if (r < 0)
		return 0;
	t->nets[t->n_nets].session = pi->session;
	t->nets[t->n_nets].key = key;
	t->n_nets++;
	return counter;
}

void aw_tools_free(struct aw_daemon *d)
{
	if (!d->tools)
		return;
	for (size_t i = 0; i < TOOLS_CACHE_MAX; i++)
		aw_tool_confs_free(&d->tools->e[i].confs);
	free(d->tools);
	d->tools = NULL;
}

/* One variable of /proc/PID/environ, or "". */
static void environ_get(uint32_t pid, const char *key, char *out, size_t len)
{
	char p[64], *buf;
	size_t klen = strlen(key), got = 0;
	FILE *f;

	out[0] = 0;
	snprintf(p, sizeof(p), "/proc/%u/environ", pid);
	f = fopen(p, "re");
	if (!f)
		return;
	buf = malloc(65536);
	if (buf)
		got = fread(buf, 1, 65535, f);
	fclose(f);
	if (!buf)
		return;
	buf[got] = 0;
	for (size_t off = 0; off < got; off += strlen(buf + off) + 1) {
		if (!strncmp(buf + off, key, klen) && buf[off + klen] == '=') {
			snprintf(out, len, "%s", buf + off + klen + 1);
			break;
		}
	}
	free(buf);
}

/* A process's effective uid and gid (/proc/PID/status); nobody's if it
 * cannot be read. */
static void ids_of(uint32_t pid, uint32_t *uid, uint32_t *gid)
{
	char p[64], line[256];
	unsigned r, e;
	FILE *f;

	*uid = *gid = 65534;
	snprintf(p, sizeof(p), "/proc/%u/status", pid);
	f = fopen(p, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Uid: %u %u", &r, &e) == 2)
			*uid = e;
		else if (sscanf(line, "Gid: %u %u", &r, &e) == 2)
			*gid = e;
	}
	fclose(f);
}

/* The servers the session's agent is configured to start, read through
 * pid's view of the file system. */
static const struct aw_tool_confs *confs_for(struct aw_daemon *d,
					     struct aw_procinfo *pi)
{
	struct aw_sessioninfo *si = aw_sessions_get(d->procs, pi->session);
	struct aw_procinfo *root = NULL;
	struct tools_entry *te = NULL;
	uint64_t now = aw_now_boottime_ns();
	char home[PATH_MAX], chome[PATH_MAX], p[64];
	uint32_t envpid = pi->pid, fsuid, fsgid;
	const char *ws = NULL;
	int rfd;

	if (!tools_get(d))
		return NULL;
	for (size_t i = 0; i < TOOLS_CACHE_MAX; i++)
		if (d->tools->e[i].session == pi->session)
			te = &d->tools->e[i];
	if (te && now - te->loaded_ns < TOOLS_RELOAD_NS)
		return &te->confs;
	if (!te) {
		te = &d->tools->e[d->tools->next];
		d->tools->next = (d->tools->next + 1) % TOOLS_CACHE_MAX;
	}
	aw_tool_confs_free(&te->confs);
	te->session = pi->session;
	te->loaded_ns = now;
	if (si)
		root = aw_procs_get(d->procs, si->root_pid, si->root_start);
	if (root && aw_proc_still(root->pid, root->start_time) == 1)
		envpid = root->pid;
	if (root && root->cwd)
		ws = root->cwd;
	else
		ws = pi->cwd;
	environ_get(envpid, "HOME", home, sizeof(home));
	environ_get(envpid, "CODEX_HOME", chome, sizeof(chome));
	snprintf(p, sizeof(p), "/proc/%u/root", pi->pid);
	rfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return &te->confs;
	/* Read as the process's own user: root does not read for a
	 * session what the session itself could not (a config symlinked
	 * to a root-only file). setfsuid is per thread; this is the event
	 * loop's, back to root at once. */
	ids_of(pi->pid, &fsuid, &fsgid);
	setfsgid(fsgid);
	setfsuid(fsuid);
	aw_tool_confs_load(rfd, home[0] ? home : NULL, chome[0] ? chome : NULL,
			   ws, &te->confs);
	setfsuid(0);
	setfsgid(0);
	close(rfd);
	return &te->confs;
}

struct tool_mark {
	struct aw_daemon *d;
	uint32_t net_counter;
};

static int tool_mark_thread(int tfd, void *arg)
{
	struct tool_mark *tm = arg;
	struct aw_task_state st;

	if (aw_kernel_task_get(tm->d->kernel, tfd, &st) < 0 || !st.session)
		return 0;
	st.flags |= AW_TASK_TOOL | AW_TASK_SUBAGENT;
	if (tm->net_counter) {
		/* its sockets fail closed without its entry */
		st.net_counter = tm->net_counter;
		st.flags |= AW_TASK_NET;
	}
	return aw_kernel_task_set(tm->d->kernel, tfd, &st) == 0;
}

/* Mark every thread of pid a tool in the kernel (with its own network
 * key if net_counter); the number marked. */
static int mark_threads(struct aw_daemon *d, uint32_t pid, uint32_t net_counter)
{
	struct tool_mark tm = {.d = d, .net_counter = net_counter};

	return aw_kernel_threads_each(pid, tool_mark_thread, &tm);
}

static void promote(struct aw_daemon *d, struct aw_procinfo *pi,
		    const struct aw_tool_conf *c, uint64_t ktime)
{
	const struct aw_policy *pol =
	    aw_policyset_resolve(&d->policies, NULL, "mcp-server");
	struct aw_policy_flat flat = {};
	struct aw_diag diag = {};
	struct aw_buf x = {};
	char rule[320], cg[PATH_MAX] = "", why[PATH_MAX] = "";
	char nwhy[256] = "";
	int64_t pids = -1;
	uint32_t net = 0;
	int marked;

	aw_procinfo_set_str(&pi->tool, c->name);
	pi->subagent = 1;
	if (pol && aw_policy_flatten(&d->policies, pol, &flat, &diag) == 0)
		pids = flat.pids_max;
	pi->tool_pid = pi->pid;
	pi->tool_pids_max = pids;
	if (pids > 0)
		aw_sandbox_tool_cgroup(d, pi->session, pi->pid, pi->pid, pids,
				       cg, sizeof(cg), why, sizeof(why));
	if (pids > 0)
		net = tool_net(d, pi, &flat, nwhy, sizeof(nwhy));
	pi->tool_net = net;
	aw_policy_flat_free(&flat);
	/* Marked after the move: a child that has the mark was forked in
	 * the tool's cgroup; one forked before has neither and is caught
	 * up at its fork record (aw_tools_fork). */
	marked = d->kernel ? mark_threads(d, pi->pid, net) : 0;

	aw_json_key(&x, "mcp");
	aw_buf_puts(&x, "{");
	aw_json_key(&x, "name");
	aw_json_cstr(&x, c->name);
	aw_buf_puts(&x, ",");
	aw_json_key(&x, "agent");
	aw_json_cstr(&x, c->agent);
	aw_buf_puts(&x, ",");
	aw_json_key(&x, "config");
	aw_json_cstr(&x, c->source);
	aw_buf_puts(&x, ",");
	aw_json_key(&x, "command");
	aw_json_cstr(&x, c->command);
	aw_buf_puts(&x, ",");
	aw_json_key(&x, "policy");
	if (pol)
		aw_json_cstr(&x, pol->id);
	else
		aw_buf_puts(&x, "null");
	aw_buf_printf(&x, ",\"pids_max\":%lld,\"marked\":%s", (long long)pids,
		      marked ? "true" : "false");
	/* Its sockets: the policy's network rules, or why the session's. */
	aw_buf_puts(&x, ",");
	aw_json_key(&x, "network");
	aw_json_cstr(&x, net ? "own" : nwhy[0] ? nwhy : "the session's");
	aw_buf_puts(&x, ",");
	if (cg[0]) {
		aw_json_key(&x, "cgroup");
		aw_json_cstr(&x, cg);
	} else {
		aw_json_key(&x, "limit");
		aw_json_cstr(&x, why[0] ? why : "no policy for mcp-server");
	}
	aw_buf_puts(&x, "}");
	aw_buf_add(&x, "", 1);
	snprintf(rule, sizeof(rule), "tool/%s:%s", c->agent, c->name);
	{
		struct aw_emit_info e = {
		    .action = "tool-start",
		    .pi = pi,
		    .session = pi->session,
		    .ktime = ktime,
		    .target = c->name,
		    .rule = rule,
		    .subagent = 1,
		    .extra_json = x.oom ? NULL : x.data,
		};

		aw_emit(d, &e);
	}
	aw_buf_free(&x);
}

void aw_tools_fork(struct aw_daemon *d, const struct aw_procinfo *parent,
		   struct aw_procinfo *child, uint32_t task_flags)
{
	char cg[PATH_MAX], why[256];

	if (!parent || !parent->tool)
		return;
	aw_procinfo_set_str(&child->tool, parent->tool);
	child->tool_pid = parent->tool_pid;
	child->tool_pids_max = parent->tool_pids_max;
	child->tool_net = parent->tool_net;
	child->subagent = 1;
	if (task_flags & AW_TASK_TOOL)
		return; /* forked after the mark: inherited both */
	/* Forked between the tool's exec and its mark: catch up. */
	if (d->kernel)
		mark_threads(d, child->pid, child->tool_net);
	if (child->tool_pids_max > 0 && child->tool_pid)
		aw_sandbox_tool_cgroup(d, child->session, child->tool_pid,
				       child->pid, child->tool_pids_max, cg,
				       sizeof(cg), why, sizeof(why));
}

void aw_tools_exec(struct aw_daemon *d, struct aw_procinfo *pi,
		   uint32_t task_flags, uint64_t ktime)
{
	const struct aw_tool_confs *confs;

	if (!pi->session || pi->tool)
		return;
	if (task_flags & AW_TASK_TOOL) {
		/* Marked, but its name was not learnt here (a record lost,
		 * a daemon restarted): its spawner's, if known. */
		struct aw_procinfo *sp =
		    aw_procs_get(d->procs, pi->spawner, pi->spawner_start);

		aw_procinfo_set_str(&pi->tool, sp && sp->tool ? sp->tool : "?");
		return;
	}
	if (task_flags & AW_TASK_ROOT)
		return; /* the agent itself */
	if (aw_proc_still(pi->pid, pi->start_time) != 1)
		return; /* gone: nothing to hold to a policy */
	confs = confs_for(d, pi);
	for (size_t i = 0; confs && i < confs->n; i++) {
		if (aw_tool_conf_matches(&confs->v[i], pi->exe, pi->argv,
					 pi->argv_len)) {
			promote(d, pi, &confs->v[i], ktime);
			return;
		}
	}
}
