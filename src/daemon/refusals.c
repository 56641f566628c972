// SPDX-License-Identifier: GPL-2.0-only
/*
 * Records of what a session's sandbox refused with no hook of ours
 * deciding: a write into the read-only view (EROFS from the bind, or
 * Landlock's EACCES behind it), a write under a mask (EROFS from the
 * placeholder's read-only tmpfs), a raw or packet socket refused by the
 * capability check (EPERM). The kernel side (bpf/records.bpf.c) reports
 * a session member's failed call at its exit with the names it passed;
 * here the name is made absolute (the process's cwd or directory fd, as
 * /proc shows them: a session's view mirrors the host's paths) and
 * matched against the session's view, which its launcher sends once the
 * plan is made ("session-view": every operation's verb, rule and real
 * path). The deepest operation holding the path names the rule: a mask
 * (`deny`), a persistence location (`escalate`); none, the read-only
 * rest of the file system (`POLICY/read-only`). A failure inside a
 * writable tree (a file's mode, a sticky directory) is not the
 * sandbox's: it is counted, not recorded.
 *
 * The kernel side is attached only while a session with a view lives:
 * every syscall on the machine pays for it while it is (bench/
 * records.sh).
 *
 * At most REFUSALS_PER_SEC records a second per session; the rest are
 * counted into the next one's suppressed_before (and the kernel counts
 * what it did not send: aw_stats). Nothing here blocks the agent: the
 * kernel has already answered it.
 *
 * Called by the decoder (events.c) and the control socket (control.c);
 * calls only the sink (emit.c) and membership (members.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/members.h"
#include "policy/policy.h"
#include "shared/json.h"
#include "shared/util.h"

#define REFUSALS_PER_SEC 50
#define VIEW_OPS_MAX 4096

struct view_op {
	int verb; /* enum aw_fs_verb */
	char *rule;
	char *path;
	size_t len;
};

struct ref_session {
	uint64_t session;
	char policy[65];
	struct view_op *ops;
	size_t n_ops;
	uint64_t window, in_window, suppressed;
};

struct aw_refusals {
	struct ref_session *v;
	size_t n;
	uint64_t recorded, not_sandbox, suppressed;
};

static struct aw_refusals *refusals_get(struct aw_daemon *d)
{
	if (!d->refusals)
		d->refusals = calloc(1, sizeof(*d->refusals));
	return d->refusals;
}

static struct ref_session *rsession(struct aw_refusals *r, uint64_t session,
				    int create)
{
	struct ref_session *n;

	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].session == session)
			return &r->v[i];
	if (!create)
		return NULL;
	n = realloc(r->v, (r->n + 1) * sizeof(*n));
	if (!n)
		return NULL;
	r->v = n;
	n = &r->v[r->n++];
	memset(n, 0, sizeof(*n));
	n->session = session;
	return n;
}

static void ops_free(struct ref_session *s)
{
	for (size_t i = 0; i < s->n_ops; i++) {
		free(s->ops[i].rule);
		free(s->ops[i].path);
	}
	free(s->ops);
	s->ops = NULL;
	s->n_ops = 0;
}

/*
 * "session-view session=ID policy=P v0=VERB r0=RULE p0=PATH ...": the
 * launcher's plan, for naming the rule of a refused write. Only a member
 * of the session may send it; a later request adds to the first.
 */
void aw_refusals_view(struct aw_daemon *d, int fd, const char *args,
		      struct aw_buf *out)
{
	struct aw_refusals *r = refusals_get(d);
	struct aw_task_state st;
	struct ref_session *s;
	int pidfd = -1;
	size_t added = 0;

	if (!r) {
		aw_buf_puts(out, "error: out of memory\n");
		return;
	}
	if (aw_members_peer_session(d, fd, args, "names its view", NULL, &pidfd,
				    &st, out) < 0)
		goto out;
	s = rsession(r, st.session, 1);
	if (!s) {
		aw_buf_puts(out, "error: out of memory\n");
		goto out;
	}
	/* The first session with a view attaches the kernel side; the
	 * last one's end detaches it (aw_refusals_session_end). */
	if (!d->opts.no_refusals && aw_kernel_refusals(d->kernel, 1) < 0)
		aw_buf_puts(out, "# refusal records unavailable: the syscall "
				 "exit hook could not be attached\n");
	if (!s->policy[0] &&
	    aw_kv_get(args, "policy", s->policy, sizeof(s->policy)) < 0)
		snprintf(s->policy, sizeof(s->policy), "sandbox");
	for (unsigned i = 0; i < 1024 && s->n_ops < VIEW_OPS_MAX; i++) {
		char k[16], v[16], rule[160], path[PATH_MAX];
		struct view_op *n;

		snprintf(k, sizeof(k), "p%u", i);
		if (aw_kv_get(args, k, path, sizeof(path)) < 0)
			break;
		snprintf(k, sizeof(k), "r%u", i);
		snprintf(v, sizeof(v), "v%u", i);
		if (aw_kv_get(args, k, rule, sizeof(rule)) < 0 ||
		    path[0] != '/')
			continue;
		if (aw_kv_get(args, v, v, sizeof(v)) < 0)
			continue;
		n = realloc(s->ops, (s->n_ops + 1) * sizeof(*n));
		if (!n)
			break;
		s->ops = n;
		n = &s->ops[s->n_ops];
		n->verb = atoi(v);
		n->rule = strdup(rule);
		n->path = strdup(path);
		if (!n->rule || !n->path) {
			free(n->rule);
			free(n->path);
			break;
		}
		/* "/" holds everything: its length is 0 for the prefix. */
		n->len = strcmp(path, "/") ? strlen(path) : 0;
		s->n_ops++;
		added++;
	}
	aw_buf_printf(out, "ok ops=%zu\n", added);
out:
	if (pidfd >= 0)
		close(pidfd);
}

void aw_refusals_session_end(struct aw_daemon *d, uint64_t session)
{
	struct aw_refusals *r = d->refusals;
	struct ref_session *s = r ? rsession(r, session, 0) : NULL;

	if (!s)
		return;
	if (s->suppressed) {
		char x[160];

		snprintf(x, sizeof(x),
			 "\"detail\":\"refusals past %u a second not "
			 "recorded\",\"suppressed\":%llu",
			 REFUSALS_PER_SEC, (unsigned long long)s->suppressed);
		aw_events_emit_decision(d, "notice", session, 0, NULL,
					"session/refusal-rate", "allow", x);
	}
	ops_free(s);
	*s = r->v[--r->n];
	if (!r->n)
		aw_kernel_refusals(d->kernel, 0);
}

void aw_refusals_close(struct aw_daemon *d)
{
	struct aw_refusals *r = d->refusals;

	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		ops_free(&r->v[i]);
	free(r->v);
	free(r);
	d->refusals = NULL;
}

void aw_refusals_status(struct aw_daemon *d, struct aw_buf *b)
{
	struct aw_refusals *r = d->refusals;

	aw_buf_printf(b,
		      ",\"refusals\":{\"recorded\":%llu,\"suppressed\":%llu,"
		      "\"not_sandbox\":%llu}",
		      (unsigned long long)(r ? r->recorded : 0),
		      (unsigned long long)(r ? r->suppressed : 0),
		      (unsigned long long)(r ? r->not_sandbox : 0));
}

static const char *syscall_name(int nr)
{
	static const struct {
		int nr;
		const char *name;
	} t[] = {
	    {2, "open"},	  {85, "creat"},	 {83, "mkdir"},
	    {84, "rmdir"},	  {87, "unlink"},	 {76, "truncate"},
	    {90, "chmod"},	  {92, "chown"},	 {94, "lchown"},
	    {133, "mknod"},	  {188, "setxattr"},	 {189, "lsetxattr"},
	    {197, "removexattr"}, {198, "lremovexattr"}, {257, "openat"},
	    {258, "mkdirat"},	  {263, "unlinkat"},	 {268, "fchmodat"},
	    {452, "fchmodat2"},	  {260, "fchownat"},	 {259, "mknodat"},
	    {437, "openat2"},	  {82, "rename"},	 {86, "link"},
	    {88, "symlink"},	  {264, "renameat"},	 {316, "renameat2"},
	    {265, "linkat"},	  {266, "symlinkat"},	 {41, "socket"},
	    {42, "connect"},	  {62, "kill"},		 {200, "tkill"},
	    {234, "tgkill"},
	};

	for (size_t i = 0; i < AW_ARRAY_SIZE(t); i++)
		if (t[i].nr == nr)
			return t[i].name;
	return "?";
}

static const char *errno_name(int e)
{
	return e == EROFS    ? "EROFS"
	       : e == EACCES ? "EACCES"
	       : e == ESRCH  ? "ESRCH"
			     : "EPERM";
}

/* "a/./b/../c" -> "a/c", in place; "/" stays. Lexical: the view's
 * symlinks are not followed (the name as the agent used it). */
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

/* The absolute path of name for pid (relative to dfd, or its cwd);
 * 0 if it could not be made (the process is gone: name as given). */
static int absolute(uint32_t pid, int dfd, const char *name, char *ret,
		    size_t len)
{
	char link[64], base[PATH_MAX];
	ssize_t n;

	if (name[0] == '/') {
		snprintf(ret, len, "%s", name);
		normalize(ret);
		return 1;
	}
	if (dfd == AT_FDCWD)
		snprintf(link, sizeof(link), "/proc/%u/cwd", pid);
	else
		snprintf(link, sizeof(link), "/proc/%u/fd/%d", pid, dfd);
	n = readlink(link, base, sizeof(base) - 1);
	if (n <= 0 || base[0] != '/') {
		snprintf(ret, len, "%s", name);
		return 0;
	}
	base[n] = 0;
	if ((size_t)snprintf(ret, len, "%s/%s", base, name) >= len)
		return 0;
	normalize(ret);
	return 1;
}

/* The deepest operation of the view holding path, or NULL. */
static const struct view_op *op_of(const struct ref_session *s,
				   const char *path)
{
	const struct view_op *best = NULL;

	for (size_t i = 0; s && i < s->n_ops; i++) {
		const struct view_op *o = &s->ops[i];

		if (strncmp(path, o->path, o->len) ||
		    (path[o->len] && path[o->len] != '/'))
			continue;
		if (!best || o->len > best->len)
			best = o;
	}
	return best;
}

static int writable(const struct view_op *o)
{
	return o && (o->verb == AW_FS_COW || o->verb == AW_FS_TMPFS ||
		     o->verb == AW_FS_WRITE || o->verb == AW_FS_STATE);
}

/* One name of a refused call: its absolute path, the rule and how it was
 * refused; 0 if the refusal is not the sandbox's (a writable tree). */
static int name_rule(const struct ref_session *s, const char *policy,
		     const char *path, char *rule, size_t rlen, const char **by)
{
	const struct view_op *o = op_of(s, path);

	if (writable(o))
		return 0;
	if (o && o->verb == AW_FS_DENY) {
		snprintf(rule, rlen, "%s", o->rule);
		*by = "mask";
	} else if (o && o->verb == AW_FS_ESCALATE) {
		snprintf(rule, rlen, "%s", o->rule);
		*by = "view";
	} else {
		snprintf(rule, rlen, "%s/read-only", policy);
		*by = "view";
	}
	return 1;
}

/* The process is agentwall's own launcher or init (building the view,
 * supervising): their refusals are theirs, not the agent's. */
static int is_launcher(struct aw_daemon *d, uint32_t pid)
{
	char link[64], exe[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%u/exe", pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n <= 0)
		return 0;
	exe[n] = 0;
	return !strcmp(exe, d->opts.launcher);
}

static int rate_ok(struct aw_refusals *r, struct ref_session *s,
		   uint64_t *suppressed)
{
	uint64_t now = aw_now_boottime_ns() / 1000000000ull;

	*suppressed = 0;
	if (!s)
		return 1;
	if (now != s->window) {
		s->window = now;
		s->in_window = 0;
	}
	if (++s->in_window > REFUSALS_PER_SEC) {
		s->suppressed++;
		r->suppressed++;
		return 0;
	}
	*suppressed = s->suppressed;
	s->suppressed = 0;
	return 1;
}

static void socket_record(struct aw_daemon *d, struct aw_refusals *r,
			  struct ref_session *s,
			  const struct aw_event_refused *e)
{
	char rule[96], target[64];
	struct aw_buf x = {};
	uint64_t sup;
	int packet = e->arg == 17;

	if (!rate_ok(r, s, &sup))
		return;
	snprintf(target, sizeof(target), "%s socket",
		 packet ? "packet" : "raw");
	snprintf(rule, sizeof(rule), "%s/network.socket",
		 s && s->policy[0] ? s->policy : "sandbox");
	aw_buf_printf(&x,
		      "\"hook\":\"socket\",\"family\":%llu,\"type\":%llu,"
		      "\"protocol\":%llu,\"syscall\":\"socket\","
		      "\"error\":\"%s\",\"detail\":\"refused by the kernel's "
		      "capability check: a session has no CAP_NET_RAW\"",
		      (unsigned long long)e->arg, (unsigned long long)e->arg2,
		      (unsigned long long)e->arg3, errno_name(e->error));
	if (sup)
		aw_buf_printf(&x, ",\"suppressed_before\":%llu",
			      (unsigned long long)sup);
	r->recorded++;
	aw_events_emit_decision(d, "connect", e->proc.session, e->proc.pid,
				target, rule, "deny", x.oom ? NULL : x.data);
	aw_buf_free(&x);
}

/* A connection to an abstract Unix socket outside the session, refused
 * by Landlock's scope. */
static void unix_record(struct aw_daemon *d, struct aw_refusals *r,
			struct ref_session *s, const struct aw_event_refused *e)
{
	char rule[96], target[112];
	struct aw_buf x = {};
	uint64_t sup;
	size_t n =
	    e->arg3 > 3 ? e->arg3 - 3 : 0; /* addrlen: family, leading 0 */

	if (e->path[0] || !n) /* a named socket: not a scope refusal */
		return;
	if (n > 107)
		n = 107;
	if (!rate_ok(r, s, &sup))
		return;
	target[0] = '@';
	memcpy(target + 1, e->path + 1, n);
	target[n + 1] = 0;
	for (size_t i = 1; i <= n; i++)
		if (!target[i])
			target[i] = '@'; /* as ss(8) shows NULs */
	snprintf(rule, sizeof(rule), "%s/network.abstract-unix",
		 s && s->policy[0] ? s->policy : "sandbox");
	aw_buf_printf(&x,
		      "\"hook\":\"connect\",\"syscall\":\"connect\","
		      "\"error\":\"%s\",\"detail\":\"an abstract Unix "
		      "socket outside the session: refused by Landlock's "
		      "scope\"",
		      errno_name(e->error));
	if (sup)
		aw_buf_printf(&x, ",\"suppressed_before\":%llu",
			      (unsigned long long)sup);
	r->recorded++;
	aw_events_emit_decision(d, "connect", e->proc.session, e->proc.pid,
				target, rule, "deny", x.oom ? NULL : x.data);
	aw_buf_free(&x);
}

/* A signal to a pid the session cannot name or may not signal. */
static void signal_record(struct aw_daemon *d, struct aw_refusals *r,
			  struct ref_session *s,
			  const struct aw_event_refused *e)
{
	char rule[96], target[64];
	struct aw_buf x = {};
	uint64_t sup;
	long long pid = (int)e->arg;
	unsigned long long sig = e->nr == 234 ? e->arg3 : e->arg2;

	if (!rate_ok(r, s, &sup))
		return;
	snprintf(target, sizeof(target), "pid %lld", pid);
	snprintf(rule, sizeof(rule), "%s/process.signal-scope",
		 s && s->policy[0] ? s->policy : "sandbox");
	aw_buf_printf(&x,
		      "\"signal\":%llu,\"syscall\":\"%s\",\"error\":\"%s\","
		      "\"detail\":\"%s\"",
		      sig, syscall_name(e->nr), errno_name(e->error),
		      e->error == ESRCH
			  ? "no such process in the session's pid namespace: "
			    "a process outside the session cannot be named"
			  : "refused by Landlock's signal scope: the process "
			    "is outside the session");
	/* The pid is the session's name for it; the host's process of
	 * that number, if any, is what the agent most likely meant. */
	if (pid > 0) {
		char p[64], comm[32] = "";
		FILE *f;

		snprintf(p, sizeof(p), "/proc/%lld/comm", pid);
		f = fopen(p, "re");
		if (f && fgets(comm, sizeof(comm), f)) {
			comm[strcspn(comm, "\n")] = 0;
			aw_buf_puts(&x, ",");
			aw_json_key(&x, "host_comm");
			aw_json_cstr(&x, comm);
		}
		if (f)
			fclose(f);
	}
	if (sup)
		aw_buf_printf(&x, ",\"suppressed_before\":%llu",
			      (unsigned long long)sup);
	r->recorded++;
	aw_events_emit_decision(d, "signal", e->proc.session, e->proc.pid,
				target, rule, "deny", x.oom ? NULL : x.data);
	aw_buf_free(&x);
}

int aw_refusals_record(struct aw_daemon *d, const struct aw_event_refused *e)
{
	struct aw_refusals *r = refusals_get(d);
	struct ref_session *s;
	char name[AW_REFUSED_PATH + 1], path[PATH_MAX], rule[192];
	const char *by = "view", *named;
	struct aw_buf x = {};
	uint64_t sup;
	int dfd, abs_ok;

	if (!r)
		return -ENOMEM;
	if (is_launcher(d, e->proc.pid))
		return 0;
	s = rsession(r, e->proc.session, 0);
	if (e->nr == 41) {
		socket_record(d, r, s, e);
		return 0;
	}
	if (e->nr == 62 || e->nr == 200 || e->nr == 234) {
		signal_record(d, r, s, e);
		return 0;
	}
	if (e->nr == 42) {
		unix_record(d, r, s, e);
		return 0;
	}
	/* The new name of a rename, link or symlink is where the write
	 * is; a rename's old name may be the read-only one. */
	named = e->path2[0] ? e->path2 : e->path;
	dfd = e->path2[0] ? e->dfd2 : e->dfd;
	for (int pass = 0; pass < 2; pass++) {
		memcpy(name, named, AW_REFUSED_PATH);
		name[AW_REFUSED_PATH] = 0;
		if (!name[0])
			return 0;
		abs_ok = absolute(e->proc.pid, dfd, name, path, sizeof(path));
		if (name_rule(s, s && s->policy[0] ? s->policy : "sandbox",
			      path, rule, sizeof(rule), &by))
			break;
		if (pass || !e->path2[0] || !e->path[0] ||
		    (e->nr != 82 && e->nr != 264 && e->nr != 316)) {
			r->not_sandbox++;
			return 0;
		}
		named = e->path;
		dfd = e->dfd;
	}
	if (!rate_ok(r, s, &sup))
		return 0;
	aw_json_key(&x, "name");
	aw_json_cstr(&x, name);
	aw_buf_printf(&x, ",\"syscall\":\"%s\",\"error\":\"%s\",\"by\":\"%s\"",
		      syscall_name(e->nr), errno_name(e->error), by);
	if (!abs_ok)
		aw_buf_puts(&x, ",\"detail\":\"the process was gone: the "
				"name is as it was given\"");
	if (sup)
		aw_buf_printf(&x, ",\"suppressed_before\":%llu",
			      (unsigned long long)sup);
	r->recorded++;
	aw_events_emit_decision(d, "write", e->proc.session, e->proc.pid, path,
				rule, "deny", x.oom ? NULL : x.data);
	aw_buf_free(&x);
	return 0;
}
