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
#include "daemon/writer.h"
#include "shared/util.h"

struct ev_info {
	const char *action;
	struct aw_procinfo *pi; /* may be NULL for daemon-level events */
	uint64_t session;
	uint64_t ktime; /* boottime ns; 0 = now */
	const char *target;
	const char *rule;
	int subagent;
	int new_session;
	int has_exit;
	int exit_code;
	int exe_trunc, args_trunc;
	const char *extra_json; /* appended members, without braces */
	const char *decision;	/* NULL: allow */
};

const struct aw_sigref *aw_daemon_sig(struct aw_daemon *d, uint32_t number)
{
	if (number == 0 || number >= d->n_sigs || !d->sigs[number].id)
		return NULL;
	return &d->sigs[number];
}

/* The hot path formats numbers by hand: vsnprintf was a tenth of the
 * daemon's time in an event storm. */
static void put_u64(struct aw_buf *b, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	aw_buf_add(b, tmp + i, sizeof(tmp) - i);
}

static void put_i64(struct aw_buf *b, int64_t v)
{
	if (v < 0) {
		aw_buf_add(b, "-", 1);
		put_u64(b, -(uint64_t)v);
	} else {
		put_u64(b, v);
	}
}

/* RFC 3339 with microseconds; the date and time part is reused while the
 * second does not change. */
static void format_time_cached(uint64_t ns, char *out, size_t len)
{
	static uint64_t cached_sec = UINT64_MAX;
	static char cached[64];
	uint64_t sec = ns / 1000000000ull;

	if (sec != cached_sec) {
		aw_format_time(sec * 1000000000ull, cached, sizeof(cached));
		cached_sec = sec;
	}
	/* cached is "YYYY-MM-DDTHH:MM:SS.000000Z": patch the fraction. */
	snprintf(out, len, "%s", cached);
	{
		uint32_t us = (ns / 1000) % 1000000;
		char *dot = strchr(out, '.');

		if (dot && strlen(dot) >= 8) {
			for (int i = 6; i >= 1; i--) {
				dot[i] = '0' + us % 10;
				us /= 10;
			}
		}
	}
}

void aw_store_lock(struct aw_daemon *d)
{
	if (d->writer)
		aw_writer_store_lock(d->writer);
}

void aw_store_unlock(struct aw_daemon *d)
{
	if (d->writer)
		aw_writer_store_unlock(d->writer);
}

uint64_t aw_daemon_user_drops(struct aw_daemon *d)
{
	uint64_t n = d->user_drops;

	if (d->writer)
		n += aw_writer_lost(d->writer);
	else if (d->store)
		n += aw_store_lost(d->store);
	return n;
}

static uint64_t to_realtime(struct aw_daemon *d, uint64_t boot_ns)
{
	if (!boot_ns)
		return aw_now_realtime_ns();
	return boot_ns + d->boot_realtime_offset;
}

void aw_json_agent(struct aw_buf *b, const struct aw_sigref *s,
		   const char *version)
{
	if (!s) {
		aw_buf_puts(b, "null");
		return;
	}
	aw_buf_puts(b, "{");
	aw_json_key(b, "id");
	aw_json_cstr(b, s->id);
	aw_buf_puts(b, ",");
	aw_json_key(b, "vendor");
	aw_json_cstr(b, s->vendor);
	aw_buf_puts(b, ",");
	aw_json_key(b, "product");
	aw_json_cstr(b, s->product);
	aw_buf_puts(b, ",");
	aw_json_key(b, "class");
	aw_json_cstr(b, s->class);
	aw_buf_puts(b, ",");
	aw_json_key(b, "version");
	aw_json_cstr(b, version);
	aw_buf_puts(b, "}");
}

void aw_json_argv(struct aw_buf *b, const char *argv, size_t len)
{
	size_t i = 0;
	int first = 1;

	aw_buf_puts(b, "[");
	while (argv && i < len) {
		size_t n = strnlen(argv + i, len - i);

		if (!first)
			aw_buf_puts(b, ",");
		first = 0;
		aw_json_str(b, argv + i, n);
		i += n + 1;
	}
	aw_buf_puts(b, "]");
}

static void text_argv(struct aw_buf *b, const char *argv, size_t len)
{
	size_t i = 0;

	while (argv && i < len) {
		size_t n = strnlen(argv + i, len - i);

		aw_buf_puts(b, " ");
		aw_text_sanitize(b, argv + i, n);
		i += n + 1;
		if (b->len > 400) {
			aw_buf_puts(b, " ...");
			break;
		}
	}
}

static void emit(struct aw_daemon *d, const struct ev_info *e)
{
	struct aw_buf *j = &d->json, *t = &d->line;
	struct aw_sessioninfo *si = aw_sessions_get(d->procs, e->session);
	const struct aw_sigref *sess_agent =
	    si ? aw_daemon_sig(d, si->agent) : NULL;
	const struct aw_sigref *agent = sess_agent;
	const char *version = si ? si->version : NULL;
	uint64_t rt = to_realtime(d, e->ktime);
	char tbuf[64], sid[32];
	struct aw_procinfo *lin[64];
	size_t nl = 0;
	struct aw_store_event se = {};

	if (e->pi && e->pi->agent && e->pi->subagent) {
		agent = aw_daemon_sig(d, e->pi->agent);
		version = NULL;
	}
	format_time_cached(rt, tbuf, sizeof(tbuf));
	for (int i = 15; i >= 0; i--)
		sid[15 - i] = "0123456789abcdef"[(e->session >> (4 * i)) & 0xf];
	sid[16] = 0;

	aw_buf_reset(j);
	aw_buf_puts(j, "{\"schema\":\"agentwall.event/1\",");
	aw_json_key(j, "time");
	aw_json_cstr(j, tbuf);
	aw_buf_puts(j, ",");
	aw_json_key(j, "host");
	aw_json_cstr(j, d->hostname);
	aw_buf_puts(j, ",");
	aw_json_key(j, "session");
	if (e->session)
		aw_json_cstr(j, sid);
	else
		aw_buf_puts(j, "null");
	aw_buf_puts(j, ",");
	aw_json_key(j, "agent");
	aw_json_agent(j, agent, version);
	aw_buf_puts(j, ",");
	aw_json_key(j, "session_agent");
	aw_json_cstr(j, sess_agent ? sess_agent->id : NULL);
	if (e->pi) {
		struct aw_procinfo *pi = e->pi;

		aw_buf_puts(j, ",\"process\":{\"pid\":");
		put_u64(j, pi->pid);
		aw_buf_puts(j, ",\"ppid\":");
		put_u64(j, pi->ppid);
		aw_buf_puts(j, ",\"uid\":");
		put_u64(j, pi->uid);
		aw_buf_puts(j, ",");
		aw_json_key(j, "exe");
		aw_json_cstr(j, pi->exe);
		aw_buf_puts(j, ",");
		aw_json_key(j, "argv");
		aw_json_argv(j, pi->argv, pi->argv_len);
		aw_buf_puts(j, ",");
		aw_json_key(j, "cwd");
		aw_json_cstr(j, pi->cwd);
		aw_buf_puts(j, ",");
		aw_json_key(j, "comm");
		aw_json_str(j, pi->comm, strnlen(pi->comm, sizeof(pi->comm)));
		aw_buf_puts(j, ",\"start_time\":");
		put_u64(j, pi->start_time);
		aw_buf_puts(j, "}");
		nl = aw_procs_lineage(d->procs, pi, lin, AW_ARRAY_SIZE(lin));
		aw_buf_puts(j, ",\"lineage\":[");
		for (size_t i = 0; i < nl; i++) {
			aw_buf_puts(j, i ? ",{\"pid\":" : "{\"pid\":");
			put_u64(j, lin[i]->pid);
			aw_buf_puts(j, ",\"exe\":");
			aw_json_cstr(j, lin[i]->exe);
			aw_buf_puts(j, "}");
		}
		aw_buf_puts(j, "]");
	} else {
		aw_buf_puts(j, ",\"process\":null,\"lineage\":[]");
	}
	aw_buf_puts(j, ",");
	aw_json_key(j, "action");
	aw_json_cstr(j, e->action);
	aw_buf_puts(j, ",");
	aw_json_key(j, "target");
	aw_json_cstr(j, e->target);
	aw_buf_puts(j, ",");
	aw_json_key(j, "decision");
	aw_json_cstr(j, e->decision ? e->decision : "allow");
	aw_buf_puts(j, ",");
	aw_json_key(j, "rule");
	aw_json_cstr(j, e->rule ? e->rule : "observe");
	aw_buf_puts(j, d->opts.mode == AW_MODE_ENFORCE ? ",\"mode\":\"enforce\""
						       : ",\"mode\":\"audit\"");
	if (e->subagent)
		aw_buf_puts(j, ",\"subagent\":true");
	if (e->has_exit) {
		aw_buf_puts(j, ",\"exit_code\":");
		put_i64(j, e->exit_code);
	}
	if (e->exe_trunc || e->args_trunc)
		aw_buf_printf(j, ",\"truncated\":[%s%s%s]",
			      e->exe_trunc ? "\"exe\"" : "",
			      e->exe_trunc && e->args_trunc ? "," : "",
			      e->args_trunc ? "\"argv\"" : "");
	if (e->extra_json) {
		aw_buf_puts(j, ",");
		aw_buf_puts(j, e->extra_json);
	}
	aw_buf_puts(j, "}");

	/* The readable line: time, session, agent, pid, action, target. */
	aw_buf_reset(t);
	{
		const char *aid = agent ? agent->id : "-";
		char pid[16];
		size_t n;

		aw_buf_add(t, tbuf + 11, 12);
		aw_buf_puts(t, "  ");
		aw_buf_puts(t, e->session ? sid : "----------------");
		aw_buf_puts(t, "  ");
		aw_buf_puts(t, aid);
		for (n = strlen(aid); n < 22; n++)
			aw_buf_add(t, " ", 1);
		n = snprintf(pid, sizeof(pid), "%u", e->pi ? e->pi->pid : 0);
		for (; n < 8; n++)
			aw_buf_add(t, " ", 1);
		aw_buf_puts(t, pid);
		aw_buf_puts(t, "  ");
		aw_buf_puts(t, e->action);
		for (n = strlen(e->action); n < 14; n++)
			aw_buf_add(t, " ", 1);
	}
	if (e->target)
		aw_text_sanitize(t, e->target, strlen(e->target));
	if (!strcmp(e->action, "exec") && e->pi && e->pi->argv) {
		size_t a0 = strnlen(e->pi->argv, e->pi->argv_len);

		if (a0 < e->pi->argv_len)
			text_argv(t, e->pi->argv + a0 + 1,
				  e->pi->argv_len - a0 - 1);
	}
	if (e->has_exit) {
		/* exit_code is a wait status: say it as a shell would. */
		if ((e->exit_code & 0x7f) == 0)
			aw_buf_printf(t, "exit %d", (e->exit_code >> 8) & 0xff);
		else
			aw_buf_printf(
			    t, "killed by signal %d%s", e->exit_code & 0x7f,
			    e->exit_code & 0x80 ? " (core dumped)" : "");
	}
	if (e->decision && strcmp(e->decision, "allow"))
		aw_buf_printf(t, "  [%s: %s]", e->decision,
			      e->rule ? e->rule : "?");
	if (e->subagent)
		aw_buf_puts(t, "  [sub-agent]");
	if (e->new_session)
		aw_buf_printf(t, "  [new session: %s]", e->rule);

	if (j->oom || t->oom) {
		d->user_drops++;
		aw_buf_reset(j);
		aw_buf_reset(t);
		j->oom = t->oom = 0;
		return;
	}

	se.time_ns = rt;
	se.session = e->session;
	se.agent_id = agent ? agent->id : NULL;
	se.action = e->action;
	se.pid = e->pi ? e->pi->pid : 0;
	se.ppid = e->pi ? e->pi->ppid : 0;
	se.uid = e->pi ? e->pi->uid : 0;
	se.exe = e->pi ? e->pi->exe : NULL;
	se.target = e->target;
	se.decision = e->decision ? e->decision : "allow";
	se.rule = e->rule ? e->rule : "observe";
	aw_buf_add(t, "", 1);
	aw_buf_add(j, "", 1);
	se.text = t->data;
	se.json = j->data;
	if (d->writer) {
		if (aw_writer_add(d->writer, &se) < 0)
			d->user_drops++;
	} else if (d->store && aw_store_add_event(d->store, &se) < 0) {
		d->user_drops++;
	}
	j->len--;
	t->len--;
	if (si)
		si->events++;

	if (d->export_fd >= 0) {
		aw_buf_add(j, "\n", 1);
		if (write(d->export_fd, j->data, j->len) != (ssize_t)j->len)
			d->user_drops++;
		j->len--;
	}
	if (!d->opts.quiet) {
		if (d->opts.json_stdout)
			printf("%.*s\n", (int)j->len, j->data);
		else
			printf("%.*s\n", (int)t->len, t->data);
	}
}

void aw_events_emit_simple(struct aw_daemon *d, const char *action,
			   uint64_t session, const char *target,
			   const char *rule, const char *detail_json)
{
	aw_events_emit_decision(d, action, session, 0, target, rule, NULL,
				detail_json);
}

void aw_events_emit_decision(struct aw_daemon *d, const char *action,
			     uint64_t session, uint32_t pid, const char *target,
			     const char *rule, const char *decision,
			     const char *detail_json)
{
	struct aw_procinfo *pi = pid ? aw_procs_get(d->procs, pid, 0) : NULL;
	struct ev_info e = {
	    .action = action,
	    .pi = pi && pi->session == session ? pi : NULL,
	    .session = session,
	    .target = target,
	    .rule = rule,
	    .decision = decision,
	    .extra_json = detail_json,
	};

	emit(d, &e);
}

/* Read a /proc link of pid only if pid is still the process we mean. */
/* ppid and start time (clock ticks) from /proc/PID/stat. */
static int proc_stat(uint32_t pid, uint32_t *ret_ppid, uint64_t *ret_ticks)
{
	char p[64], buf[1024], *s;
	unsigned long long st = 0;
	unsigned ppid = 0;
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "/proc/%u/stat", pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ESRCH; /* the process went while we read */
	buf[n] = 0;
	s = strrchr(buf, ')');
	if (!s || sscanf(s + 1, " %*c %u", &ppid) != 1)
		return -EIO;
	s++; /* at the space before field 3 (state) */
	for (int field = 3; field < 22 && s; field++)
		s = strchr(s + 1, ' ');
	if (!s || sscanf(s, " %llu", &st) != 1)
		return -EIO;
	*ret_ppid = ppid;
	*ret_ticks = st;
	return 0;
}

/* 1: the same process lives; 0: it is gone (no such pid, or the pid now
 * names another process); -1: cannot tell (EMFILE, ENOMEM, ...), which
 * callers must treat as alive. */
int aw_proc_still(uint32_t pid, uint64_t start_time)
{
	long hz = sysconf(_SC_CLK_TCK);
	uint32_t ppid;
	uint64_t ticks;
	int r = proc_stat(pid, &ppid, &ticks);

	if (r == -ENOENT || r == -ESRCH)
		return 0;
	if (r < 0)
		return -1;
	if (hz <= 0)
		hz = 100;
	/* /proc reports start_boottime in clock ticks. */
	return ticks == start_time / (1000000000ull / (uint64_t)hz);
}

static char *proc_link(uint32_t pid, const char *what)
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

static char *agent_version(struct aw_daemon *d, struct aw_procinfo *pi,
			   const struct aw_sigref *sig, const char *filename)
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

static void session_member_gone(struct aw_daemon *d, struct aw_procinfo *pi,
				uint64_t ktime);

/*
 * The cache entry for (pid, start): looked up or made. A live entry of an
 * older process with the same pid is that process's end (its exit record
 * was lost), so it leaves its session first. *ret_known says whether the
 * entry existed (counted in its session already).
 */
static struct aw_procinfo *proc_take(struct aw_daemon *d, uint32_t pid,
				     uint64_t start, int *ret_known)
{
	struct aw_procinfo *old = aw_procs_get(d->procs, pid, 0);

	if (old && old->live && !aw_procs_get(d->procs, pid, start))
		session_member_gone(d, old, 0);
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
static struct aw_sessioninfo *
session_lazy(struct aw_daemon *d, struct aw_procinfo *pi, uint64_t ktime)
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
	si->started_ns = to_realtime(d, ktime);
	aw_procinfo_set_str(&si->matched,
			    "unknown: the opening record was lost");
	session_store(d, si, pi, NULL);
	return si;
}

static void session_started(struct aw_daemon *d, struct aw_procinfo *pi,
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
	si->started_ns = to_realtime(d, ev->hdr.ktime);
	/* Known already (adopted after a restart): members were counted. */
	if (!existed)
		si->live = 1;
	aw_procinfo_set_str(&si->matched, rule_desc);
	free(si->version);
	si->version = agent_version(d, pi, sig, filename);

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

static void session_member_gone(struct aw_daemon *d, struct aw_procinfo *pi,
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
		si->ended_ns = to_realtime(d, ktime);
		aw_store_lock(d);
		if (d->store)
			aw_store_end_session(d->store, si->session,
					     si->ended_ns);
		aw_store_unlock(d);
		aw_events_emit_simple(d, "session-end", si->session, NULL, NULL,
				      NULL);
		aw_sandbox_session_end(d, si->session);
	}
}

static void rule_describe(struct aw_daemon *d, uint32_t rule, char *buf,
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
static struct aw_procinfo *proc_from_proc(struct aw_daemon *d, uint32_t pid)
{
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t tick = 1000000000ull / (uint64_t)(hz > 0 ? hz : 100);
	struct aw_procinfo *pi;
	uint32_t ppid = 0;
	uint64_t ticks = 0;

	if (proc_stat(pid, &ppid, &ticks) < 0)
		return NULL;
	pi = aw_procs_add(d->procs, pid, ticks * tick);
	if (!pi)
		return NULL;
	pi->start_approx = 1;
	pi->ppid = ppid;
	pi->last_seen_ns = aw_now_boottime_ns();
	aw_procinfo_set_str(&pi->exe, NULL);
	pi->exe = proc_link(pid, "exe");
	aw_procinfo_set_str(&pi->cwd, NULL);
	pi->cwd = proc_link(pid, "cwd");
	read_cmdline(pi);
	return pi;
}

void aw_events_session_open(struct aw_daemon *d, uint32_t pid, uint32_t uid,
			    uint64_t session, uint32_t agent,
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
		pi = proc_from_proc(d, pid);
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
	if (note && note[0]) {
		aw_buf_puts(&x, ",");
		aw_json_key(&x, "note");
		aw_json_cstr(&x, note);
	}
	aw_buf_add(&x, "", 1);
	if (!forced)
		session_store(d, si, pi, NULL);
	{
		struct ev_info e = {
		    .action = "sandbox",
		    .pi = pi,
		    .session = session,
		    .target = sig ? sig->id : NULL,
		    .rule = rule,
		    .decision = "sandbox",
		    .extra_json = x.oom ? NULL : x.data,
		};

		emit(d, &e);
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
		pi = proc_from_proc(d, pid);
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
		struct ev_info e = {
		    .action = "discover",
		    .pi = pi,
		    .session = session,
		    .target = api,
		    .rule = rule,
		    .decision = NULL,
		    .extra_json = x.oom ? NULL : x.data,
		};

		emit(d, &e);
	}
	aw_buf_free(&x);
}

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

	pi = proc_take(d, ev->proc.pid, ev->proc.start_time, &was_known);
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
		si = session_lazy(d, pi, ev->hdr.ktime);
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
			exe = proc_link(pi->pid, "exe");
			cwd = proc_link(pi->pid, "cwd");
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
	if (ev->flags & AW_EXEC_FORCE_STOP && d->force && !adopt_killed)
		aw_force_request(d->force, pi->pid, pi->start_time, pi->session,
				 !!(ev->flags & AW_EXEC_CONTENT));
	if (ev->flags & AW_EXEC_CONTENT) {
		/* Held for a content check: no session until its digest
		 * says it is an agent (aw_events_content_session). */
		pi->session = 0;
		pi->agent = 0;
		if (ev->flags & AW_EXEC_FORCE_KILL) {
			struct ev_info e = {
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
			emit(d, &e);
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
			rule_describe(d, ev->rule, rule_desc, sizeof(rule_desc),
				      sig);
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
		struct ev_info e = {
		    .action = "session-start",
		    .pi = pi,
		    .session = pi->session,
		    .ktime = ev->hdr.ktime,
		    .target = sig ? sig->id : NULL,
		    .rule = rule_desc,
		};

		session_started(d, pi, ev, fn, rule_desc);
		emit(d, &e);
	}
	{
		struct ev_info e = {
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
		emit(d, &e);
	}
	if (ev->flags & AW_EXEC_FORCE_KILL) {
		int traced = !!(ev->flags & AW_EXEC_FORCE_TRACED);
		struct ev_info e = {
		    .action = "force",
		    .pi = pi,
		    .session = pi->session,
		    .ktime = ev->hdr.ktime,
		    .target = fn,
		    .rule = traced ? "force/traced" : "force/no-daemon",
		    .decision = "deny",
		    .extra_json =
			traced ? "\"detail\":\"already ptraced at exec "
				 "(PTRACE_TRACEME or attached): the daemon "
				 "could not hold it and its tracer could run "
				 "it: killed before its first instruction\""
			       : "\"detail\":\"enforce mode and no live "
				 "daemon to force it into a session: killed "
				 "before its first instruction\"",
		};
		emit(d, &e);
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
	pi = proc_take(d, ev->proc.pid, ev->proc.start_time, &known);
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
	si = session_lazy(d, pi, ev->hdr.ktime);
	if (si && !si->ended_ns && !known)
		si->live++;
	snprintf(target, sizeof(target), "%u", pi->pid);
	{
		struct ev_info e = {
		    .action = "fork",
		    .pi = pi,
		    .session = pi->session,
		    .ktime = ev->hdr.ktime,
		    .target = target,
		};
		emit(d, &e);
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
		struct ev_info e = {
		    .action = "exit",
		    .pi = pi,
		    .session = pi->session,
		    .ktime = ev->hdr.ktime,
		    .has_exit = 1,
		    .exit_code = ev->exit_code,
		};
		emit(d, &e);
	}
	session_member_gone(d, pi, ev->hdr.ktime);
	return 0;
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
	session_started(d, pi, &ev, pi->exe ? pi->exe : "", rule);
	{
		struct ev_info e = {
		    .action = "session-start",
		    .pi = pi,
		    .session = pi->session,
		    .target = sig ? sig->id : NULL,
		    .rule = rule,
		};

		emit(d, &e);
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
		struct ev_info e = {
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
			emit(d, &e);
		else
			aw_events_emit_decision(d, "force", ev->proc.session,
						ev->proc.pid, NULL,
						"force/failed", "deny", detail);
	}
	return 0;
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
	case AW_EV_DISCOVER:
		if (h->size >= sizeof(struct aw_event_net))
			r = aw_net_record(d, data);
		break;
	case AW_EV_FORCE_KILL:
		if (h->size >= sizeof(struct aw_event_force_kill))
			r = handle_force_kill(d, data);
		break;
	}
	if (r < 0)
		d->decode_errors++;
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
			session_member_gone(d, pi, 0);
	}
	aw_procs_trim(d->procs, aw_now_boottime_ns());
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
	si->version =
	    agent_version(d, root, aw_daemon_sig(d, si->agent), root->exe);
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
		struct aw_procinfo *pi = proc_from_proc(d, pid);

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
		pi = proc_from_proc(d, pid);
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
