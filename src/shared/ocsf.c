// SPDX-License-Identifier: GPL-2.0-only
/*
 * agentwall.event/1 -> OCSF 1.8 (ocsf.h). The event line is read with the
 * strict reader and its strings are copied as they are, still escaped:
 * our writer made them valid JSON (and valid UTF-8), so nothing is
 * decoded and re-encoded. Each action picks a class and an activity; the
 * acting process, its parent and lineage, the session and agent, the rule
 * and the decision go to OCSF's own attributes, and the event's own keys
 * are kept under `unmapped`, so that nothing of the record is lost.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "shared/ocsf.h"

enum {
	C_BASE = 0,
	C_FILE = 1001,
	C_KERNEL = 1003,
	C_PROCESS = 1007,
	C_FINDING = 2004,
	C_NETWORK = 4001,
	C_DNS = 4003,
};

/* The keys the mapping reads, found in one pass over the event. */
enum {
	K_SCHEMA,
	K_TIME,
	K_HOST,
	K_SESSION,
	K_AGENT,
	K_PROCESS,
	K_LINEAGE,
	K_ACTION,
	K_TARGET,
	K_DECISION,
	K_RULE,
	K_HOOK,
	K_ADDRESS,
	K_PORT,
	K_NAME,
	K_PROTOCOL,
	K_QTYPE,
	K_ADDRESSES,
	K_TTL,
	K_EXIT_CODE,
	K_MAX,
};
static const char *const keys[K_MAX] = {
    "schema",	"time",	   "host",	"session", "agent",
    "process",	"lineage", "action",	"target",  "decision",
    "rule",	"hook",	   "address",	"port",	   "name",
    "protocol", "qtype",   "addresses", "ttl",	   "exit_code",
};

enum {
	P_PID,
	P_PPID,
	P_UID,
	P_EXE,
	P_ARGV,
	P_CWD,
	P_COMM,
	P_START,
	P_MAX,
};
static const char *const pkeys[P_MAX] = {
    "pid", "ppid", "uid", "exe", "argv", "cwd", "comm", "start_time",
};

/* Keys that OCSF's own attributes hold entirely: left out of unmapped
 * (the others are kept there as they are). */
static const char own_key[K_MAX] = {
    [K_SCHEMA] = 1,  [K_TIME] = 1,   [K_HOST] = 1,    [K_PROCESS] = 1,
    [K_LINEAGE] = 1, [K_TARGET] = 1, [K_SESSION] = 1, [K_RULE] = 1,
};

struct ev {
	const struct aw_jdoc *d;
	int root, time, host, session, agent, process, lineage;
	int action, target, decision, rule;
	int k[K_MAX];
	int p[P_MAX]; /* members of process, or -1 */
};

static const char *tok_s(const struct aw_jdoc *d, int i)
{
	return d->s + d->tok[i].start;
}

static int is_null(const struct aw_jdoc *d, int i)
{
	return i < 0 || d->tok[i].type == AW_J_NULL;
}

/* The value's JSON text as it stands in the line (a string with its
 * quotes). */
static void put_raw(struct aw_buf *o, const struct aw_jdoc *d, int i)
{
	const struct aw_jtok *t;

	if (i < 0) { /* absent: callers check first; never a crash */
		aw_buf_puts(o, "null");
		return;
	}
	t = &d->tok[i];
	if (t->type == AW_J_STR)
		aw_buf_add(o, tok_s(d, i) - 1, t->len + 2);
	else
		aw_buf_add(o, tok_s(d, i), t->len);
}

/* ,"key":VALUE for a present, non-null value. */
static void member(struct aw_buf *o, const char *key, const struct aw_jdoc *d,
		   int i)
{
	if (is_null(d, i))
		return;
	aw_buf_puts(o, ",\"");
	aw_buf_puts(o, key);
	aw_buf_puts(o, "\":");
	put_raw(o, d, i);
}

/* The last component of a path string token, as a JSON string. */
static void put_basename(struct aw_buf *o, const struct aw_jdoc *d, int i)
{
	const char *s = tok_s(d, i), *b = s;
	uint32_t n = d->tok[i].len;

	for (uint32_t k = 0; k < n; k++)
		if (s[k] == '/' && k + 1 < n)
			b = s + k + 1;
	aw_buf_add(o, "\"", 1);
	aw_buf_add(o, b, n - (b - s));
	aw_buf_add(o, "\"", 1);
}

static int num2(const char *p)
{
	return (p[0] - '0') * 10 + (p[1] - '0');
}

/* RFC 3339 UTC as the events write it -> ms since the epoch; -1. */
static int64_t time_ms(const struct aw_jdoc *d, int i)
{
	const char *s;
	int64_t y, m, day, days, ms = 0;
	uint32_t n;

	if (i < 0 || d->tok[i].type != AW_J_STR || d->tok[i].len < 20)
		return -1;
	s = tok_s(d, i);
	n = d->tok[i].len;
	for (uint32_t k = 0; k < 19; k++)
		if (!strchr("-T:", s[k]) && (s[k] < '0' || s[k] > '9'))
			return -1;
	if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[n - 1] != 'Z')
		return -1;
	y = num2(s) * 100 + num2(s + 2);
	m = num2(s + 5);
	day = num2(s + 8);
	if (m < 1 || m > 12 || day < 1 || day > 31)
		return -1;
	/* Days from the civil date (proleptic Gregorian), no libc. */
	y -= m <= 2;
	{
		int64_t era = y / 400, yoe = y - era * 400;
		int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + day - 1;
		int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

		days = era * 146097 + doe - 719468;
	}
	if (s[19] == '.')
		for (uint32_t k = 20, f = 100; k < n - 1 && f; k++, f /= 10)
			ms += (s[k] - '0') * f;
	return ((days * 24 + num2(s + 11)) * 60 + num2(s + 14)) * 60000 +
	       num2(s + 17) * 1000 + ms;
}

/* The parent's path, from the lineage's entry for pid ppid. */
static int lineage_exe_of(const struct ev *e, int64_t pid)
{
	const struct aw_jdoc *d = e->d;

	if (e->lineage < 0 || d->tok[e->lineage].type != AW_J_ARR)
		return -1;
	for (uint32_t k = 0, it = e->lineage + 1; k < d->tok[e->lineage].size;
	     k++, it = d->tok[it].next) {
		int64_t p;

		if (aw_jint(d, aw_jget(d, it, "pid"), &p) == 0 && p == pid)
			return aw_jget(d, it, "exe");
	}
	return -1;
}

/* {"pid":P,"path":EXE} of a process known by pid and path only. */
static void entity(struct aw_buf *o, const struct aw_jdoc *d, int pid, int exe)
{
	aw_buf_puts(o, "{\"pid\":");
	put_raw(o, d, pid);
	member(o, "path", d, exe);
	aw_buf_puts(o, "}");
}

/* The process object of the event's `process`: pid, name (comm),
 * cmd_line, file, user, working directory, its parent and (top: 1) its
 * ancestry from the lineage, newest first; only when the lineage goes
 * further back than the parent (the ancestry's first entry is the
 * parent_process again). */
static void process_obj(struct aw_buf *o, const struct ev *e, int top)
{
	const struct aw_jdoc *d = e->d;
	int pid = e->p[P_PID], ppid = e->p[P_PPID];
	int exe = e->p[P_EXE], argv = e->p[P_ARGV];
	int uid = e->p[P_UID], st = e->p[P_START];
	int64_t ppid_v = -1, pid_v = -1;

	aw_buf_puts(o, "{\"pid\":");
	put_raw(o, d, pid);
	if (!is_null(d, st) && d->tok[st].type == AW_J_NUM) {
		/* Unique per process: pids are reused, (pid, start) is not. */
		aw_buf_puts(o, ",\"uid\":\"");
		put_raw(o, d, pid);
		aw_buf_puts(o, "-");
		put_raw(o, d, st);
		aw_buf_puts(o, "\"");
	}
	member(o, "name", d, e->p[P_COMM]);
	if (argv >= 0 && d->tok[argv].type == AW_J_ARR && d->tok[argv].size) {
		aw_buf_puts(o, ",\"cmd_line\":\"");
		for (uint32_t k = 0; k < d->tok[argv].size; k++) {
			int a = aw_jat(d, argv, k);

			if (k)
				aw_buf_add(o, " ", 1);
			if (d->tok[a].type == AW_J_STR)
				aw_buf_add(o, tok_s(d, a), d->tok[a].len);
		}
		aw_buf_puts(o, "\"");
	}
	if (!is_null(d, exe) && d->tok[exe].type == AW_J_STR) {
		aw_buf_puts(o, ",\"file\":{\"path\":");
		put_raw(o, d, exe);
		aw_buf_puts(o, ",\"name\":");
		put_basename(o, d, exe);
		aw_buf_puts(o, ",\"type_id\":1}");
	}
	member(o, "working_directory", d, e->p[P_CWD]);
	if (uid >= 0 && d->tok[uid].type == AW_J_NUM) {
		aw_buf_puts(o, ",\"user\":{\"uid\":\"");
		put_raw(o, d, uid);
		aw_buf_puts(o, "\"}");
	}
	aw_jint(d, ppid, &ppid_v);
	aw_jint(d, pid, &pid_v);
	if (!is_null(d, ppid)) {
		aw_buf_puts(o, ",\"parent_process\":");
		entity(o, d, ppid, lineage_exe_of(e, ppid_v));
	}
	if (top && e->lineage >= 0 && d->tok[e->lineage].type == AW_J_ARR &&
	    d->tok[e->lineage].size > 2) {
		uint32_t n = d->tok[e->lineage].size, first = 1;

		aw_buf_puts(o, ",\"ancestry\":[");
		/* The lineage runs from the session root to the process. */
		for (uint32_t k = n; k-- > 0;) {
			int it = aw_jat(d, e->lineage, k);
			int lp = aw_jget(d, it, "pid");
			int64_t v;

			if (aw_jint(d, lp, &v) < 0 || v == pid_v)
				continue;
			if (!first)
				aw_buf_add(o, ",", 1);
			first = 0;
			entity(o, d, lp, aw_jget(d, it, "exe"));
		}
		aw_buf_puts(o, "]");
	}
	aw_buf_puts(o, "}");
}

/* actor: the acting process (or, for a launch, its parent), the agent
 * as the application, the agentwall session. */
static void actor(struct aw_buf *o, const struct ev *e, int parent_only)
{
	const struct aw_jdoc *d = e->d;
	int first = 1;

	aw_buf_puts(o, ",\"actor\":{");
	if (!is_null(d, e->process)) {
		aw_buf_puts(o, "\"process\":");
		/* (A launch's parent, when the record names one.) */
		if (parent_only && e->p[P_PPID] >= 0) {
			int ppid = e->p[P_PPID];
			int64_t v = -1;

			aw_jint(d, ppid, &v);
			entity(o, d, ppid, lineage_exe_of(e, v));
		} else {
			process_obj(o, e, 0);
		}
		first = 0;
	}
	if (!is_null(d, e->agent)) {
		int id = aw_jget(d, e->agent, "id");
		int product = aw_jget(d, e->agent, "product");

		if (!is_null(d, product)) {
			aw_buf_puts(o,
				    first ? "\"app_name\":" : ",\"app_name\":");
			put_raw(o, d, product);
			first = 0;
		}
		if (!is_null(d, id)) {
			aw_buf_puts(o,
				    first ? "\"app_uid\":" : ",\"app_uid\":");
			put_raw(o, d, id);
			first = 0;
		}
	}
	if (!is_null(d, e->session)) {
		aw_buf_puts(o, first ? "\"session\":{\"uid\":"
				     : ",\"session\":{\"uid\":");
		put_raw(o, d, e->session);
		aw_buf_puts(o, "}");
		first = 0;
	}
	if (first) /* nothing known: the daemon itself acted */
		aw_buf_puts(o, "\"app_name\":\"agentwalld\"");
	aw_buf_puts(o, "}");
}

/* severity_id, status_id, action_id, disposition_id of a decision. */
struct outcome {
	int severity_id, status_id, action_id, disposition_id;
};

static struct outcome outcome_of(const struct ev *e)
{
	const struct aw_jdoc *d = e->d;

	/* Refused: Medium, Failure, Denied, Blocked. */
	if (aw_jstr_is(d, e->decision, "deny"))
		return (struct outcome){3, 2, 2, 2};
	/* What enforce mode would refuse: Low, Success, Observed,
	 * Detected. */
	if (aw_jstr_is(d, e->decision, "audit"))
		return (struct outcome){2, 1, 3, 15};
	/* Run in a session's sandbox: Informational, Success, Modified,
	 * Isolated. */
	if (aw_jstr_is(d, e->decision, "sandbox"))
		return (struct outcome){1, 1, 4, 4};
	/* Held for a person's approval: Medium, Success, Allowed,
	 * Delayed. */
	if (aw_jstr_is(d, e->decision, "escalate"))
		return (struct outcome){3, 1, 1, 14};
	return (struct outcome){1, 1, 1, 1};
}

struct cls {
	int uid, activity;
	const char *activity_name;
};

static int is(const struct ev *e, const char *action)
{
	return aw_jstr_is(e->d, e->action, action);
}

/* Which class and activity an event is (docs/events.md, "OCSF"). */
static struct cls class_of(const struct ev *e)
{
	const struct aw_jdoc *d = e->d;
	int has_proc = !is_null(d, e->process);
	int deny = aw_jstr_is(d, e->decision, "deny");
	int flagged = deny || aw_jstr_is(d, e->decision, "escalate") ||
		      aw_jstr_is(d, e->decision, "audit");

	if ((is(e, "exec") || is(e, "fork") || is(e, "session-start")) &&
	    has_proc)
		return (struct cls){C_PROCESS, 1, "Launch"};
	if (is(e, "exit") && has_proc)
		return (struct cls){C_PROCESS, 2, "Terminate"};
	if (is(e, "force") && has_proc)
		return deny ? (struct cls){C_PROCESS, 2, "Terminate"}
			    : (struct cls){C_PROCESS, 1, "Launch"};
	if (is(e, "connect")) {
		int hook = e->k[K_HOOK];

		if (aw_jstr_is(d, hook, "bind"))
			return (struct cls){C_NETWORK, 7, "Listen"};
		if (deny)
			return (struct cls){C_NETWORK, 5, "Refuse"};
		return (struct cls){C_NETWORK, 1, "Open"};
	}
	if (is(e, "discover"))
		return (struct cls){C_NETWORK, 1, "Open"};
	if (is(e, "dns"))
		return (struct cls){C_DNS, 2, "Response"};
	if (is(e, "open"))
		return (struct cls){C_FILE, 14, "Open"};
	if (is(e, "commit"))
		return (struct cls){C_FILE, 3, "Update"};
	if (is(e, "discard"))
		return (struct cls){C_FILE, 4, "Delete"};
	if (is(e, "approve"))
		return (struct cls){C_FILE, 99, "Approve"};
	if (is(e, "syscall"))
		return (struct cls){C_KERNEL, 4, "Invoke"};
	/* Escalations, a full store, and any refusal no class above
	 * describes (a fork refused by the pids limit has no process). */
	if (is(e, "hold") || is(e, "quota") || flagged)
		return (struct cls){C_FINDING, 1, "Create"};
	return (struct cls){C_BASE, 99, NULL};
}

/* file {path, name, type}: the target path. */
static void file_obj(struct aw_buf *o, const struct ev *e, int folder)
{
	const struct aw_jdoc *d = e->d;

	aw_buf_puts(o, ",\"file\":{\"path\":");
	put_raw(o, d, e->target);
	aw_buf_puts(o, ",\"name\":");
	put_basename(o, d, e->target);
	aw_buf_puts(o, folder ? ",\"type_id\":2}" : ",\"type_id\":1}");
}

/* src_endpoint: this machine, by its name. */
static void local_endpoint(struct aw_buf *o, const struct ev *e)
{
	aw_buf_puts(o, ",\"src_endpoint\":{\"hostname\":");
	if (!is_null(e->d, e->host))
		put_raw(o, e->d, e->host);
	else
		aw_buf_puts(o, "\"localhost\"");
	aw_buf_puts(o, "}");
}

static void network(struct aw_buf *o, const struct ev *e)
{
	const struct aw_jdoc *d = e->d;
	int hook = e->k[K_HOOK];
	int addr = e->k[K_ADDRESS];
	int port = e->k[K_PORT];
	int name = e->k[K_NAME];
	int proto = e->k[K_PROTOCOL];
	int inbound = aw_jstr_is(d, hook, "accept");
	int dir = inbound ? 1 : aw_jstr_is(d, hook, "bind") ? 0 : 2;

	if (is(e, "discover")) {
		aw_buf_puts(o, ",\"dst_endpoint\":{\"svc_name\":");
		put_raw(o, d, e->target);
		aw_buf_puts(o, "}");
		return;
	}
	if (!is_null(d, addr) && d->tok[addr].type == AW_J_STR) {
		aw_buf_puts(o, inbound ? ",\"src_endpoint\":{\"ip\":"
				       : ",\"dst_endpoint\":{\"ip\":");
		put_raw(o, d, addr);
		if (!is_null(d, port) && d->tok[port].type == AW_J_NUM)
			member(o, "port", d, port);
		if (!inbound && !is_null(d, name) &&
		    d->tok[name].type == AW_J_STR)
			member(o, "hostname", d, name);
		aw_buf_puts(o, "}");
	} else {
		/* A socket refused at creation has no peer: the endpoint is
		 * this machine. */
		local_endpoint(o, e);
	}
	aw_buf_puts(o, ",\"connection_info\":{\"direction_id\":");
	aw_buf_put_u64(o, dir);
	aw_buf_puts(o, dir == 1	  ? ",\"direction\":\"Inbound\""
		       : dir == 2 ? ",\"direction\":\"Outbound\""
				  : ",\"direction\":\"Unknown\"");
	if (!is_null(d, proto) && d->tok[proto].type == AW_J_STR)
		member(o, "protocol_name", d, proto);
	aw_buf_puts(o, "}");
}

static void dns(struct aw_buf *o, const struct ev *e)
{
	const struct aw_jdoc *d = e->d;
	int qtype = e->k[K_QTYPE];
	int addrs = e->k[K_ADDRESSES];
	int ttl = e->k[K_TTL];
	int answered =
	    addrs >= 0 && d->tok[addrs].type == AW_J_ARR && d->tok[addrs].size;

	/* The session's resolver answers on the session's own machine. */
	local_endpoint(o, e);
	if (!is_null(d, e->target) && d->tok[e->target].type == AW_J_STR) {
		aw_buf_puts(o, ",\"query\":{\"hostname\":");
		put_raw(o, d, e->target);
		if (!is_null(d, qtype) && d->tok[qtype].type == AW_J_STR)
			member(o, "type", d, qtype);
		aw_buf_puts(o, "}");
	}
	if (answered) {
		aw_buf_puts(o, ",\"answers\":[");
		for (uint32_t k = 0; k < d->tok[addrs].size; k++) {
			int a = aw_jat(d, addrs, k);

			if (d->tok[a].type != AW_J_STR)
				continue;
			aw_buf_puts(o, k ? ",{\"rdata\":" : "{\"rdata\":");
			put_raw(o, d, a);
			if (!is_null(d, qtype) &&
			    d->tok[qtype].type == AW_J_STR)
				member(o, "type", d, qtype);
			if (!is_null(d, ttl) && d->tok[ttl].type == AW_J_NUM)
				member(o, "ttl", d, ttl);
			aw_buf_puts(o, "}");
		}
		aw_buf_puts(o, "]");
	}
	if (aw_jstr_is(d, e->decision, "deny"))
		aw_buf_puts(o, ",\"rcode_id\":5");
	else if (answered)
		aw_buf_puts(o, ",\"rcode_id\":0");
}

/* finding_info: one finding per event; its uid from the session, the
 * action and the event's time. */
static void finding(struct aw_buf *o, const struct ev *e)
{
	const struct aw_jdoc *d = e->d;

	aw_buf_puts(o, ",\"finding_info\":{\"uid\":\"");
	if (!is_null(d, e->session))
		aw_buf_add(o, tok_s(d, e->session), d->tok[e->session].len);
	else
		aw_buf_puts(o, "-");
	aw_buf_add(o, "/", 1);
	aw_buf_add(o, tok_s(d, e->action), d->tok[e->action].len);
	aw_buf_add(o, "/", 1);
	aw_buf_add(o, tok_s(d, e->time), d->tok[e->time].len);
	aw_buf_puts(o, "\",\"title\":\"");
	aw_buf_add(o, tok_s(d, e->action), d->tok[e->action].len);
	if (!is_null(d, e->target) && d->tok[e->target].type == AW_J_STR) {
		aw_buf_add(o, " ", 1);
		aw_buf_add(o, tok_s(d, e->target), d->tok[e->target].len);
	}
	aw_buf_puts(o, "\",\"types\":[\"agentwall/");
	aw_buf_add(o, tok_s(d, e->action), d->tok[e->action].len);
	aw_buf_puts(o, "\"]");
	if (!is_null(d, e->rule)) {
		aw_buf_puts(o, ",\"analytic\":{\"name\":");
		put_raw(o, d, e->rule);
		aw_buf_puts(o, ",\"type_id\":1}");
	}
	aw_buf_puts(o, "}");
}

/* unmapped: the event as agentwall names it (action, target, decision,
 * mode, agent, session_agent) and every key of its own beyond the common
 * ones (exit_code, address, detail, drops, ...); the session and the
 * rule are in actor.session.uid and policy.name. */
static void unmapped(struct aw_buf *o, const struct ev *e)
{
	const struct aw_jdoc *d = e->d;
	uint32_t i = e->root + 1;
	int first = 1;

	aw_buf_puts(o, ",\"unmapped\":{");
	for (uint32_t m = 0; m < d->tok[e->root].size; m++) {
		const struct aw_jtok *k = &d->tok[i];
		int skip = 0;

		for (int o2 = 0; o2 < K_MAX && !skip; o2++)
			skip = (int)i + 1 == e->k[o2] && own_key[o2];
		if (!skip) {
			if (!first)
				aw_buf_add(o, ",", 1);
			first = 0;
			aw_buf_add(o, tok_s(d, i) - 1, k->len + 2);
			aw_buf_add(o, ":", 1);
			put_raw(o, d, i + 1);
		}
		i = d->tok[i + 1].next;
	}
	/* The target under its own name: OCSF's fields above hold it in
	 * the class's own shape. */
	if (!is_null(d, e->target)) {
		aw_buf_puts(o, first ? "\"target\":" : ",\"target\":");
		put_raw(o, d, e->target);
	}
	aw_buf_puts(o, "}");
}

int aw_ocsf_render(struct aw_jdoc *doc, const char *line, size_t len,
		   struct aw_buf *out)
{
	struct ev e = {.d = doc};
	struct cls c;
	struct outcome oc;
	int64_t ms;
	int cat;
	size_t mark = out->len;
	int r = aw_jread(doc, line, len);

	if (r < 0)
		return r;
	e.root = 0;
	if (doc->tok[0].type != AW_J_OBJ)
		return -EINVAL;
	aw_jget_many(doc, 0, keys, K_MAX, e.k);
	if (!aw_jstr_is(doc, e.k[K_SCHEMA], "agentwall.event/1"))
		return -EINVAL;
	e.time = e.k[K_TIME];
	e.host = e.k[K_HOST];
	e.session = e.k[K_SESSION];
	e.agent = e.k[K_AGENT];
	e.process = e.k[K_PROCESS];
	e.lineage = e.k[K_LINEAGE];
	e.action = e.k[K_ACTION];
	e.target = e.k[K_TARGET];
	e.decision = e.k[K_DECISION];
	e.rule = e.k[K_RULE];
	aw_jget_many(doc, e.process, pkeys, P_MAX, e.p);
	ms = time_ms(doc, e.time);
	if (ms < 0 || e.action < 0 || doc->tok[e.action].type != AW_J_STR ||
	    (!is_null(doc, e.process) &&
	     (doc->tok[e.process].type != AW_J_OBJ || e.p[P_PID] < 0 ||
	      doc->tok[e.p[P_PID]].type != AW_J_NUM)) ||
	    (!is_null(doc, e.session) &&
	     doc->tok[e.session].type != AW_J_STR) ||
	    (!is_null(doc, e.agent) && doc->tok[e.agent].type != AW_J_OBJ) ||
	    (!is_null(doc, e.target) && doc->tok[e.target].type != AW_J_STR) ||
	    (!is_null(doc, e.rule) && doc->tok[e.rule].type != AW_J_STR) ||
	    (!is_null(doc, e.host) && doc->tok[e.host].type != AW_J_STR))
		return -EINVAL;
	/* A class that names a file, a call or a service needs it. */
	c = class_of(&e);
	if ((c.uid == C_FILE || c.uid == C_KERNEL || is(&e, "discover")) &&
	    is_null(doc, e.target))
		c = (struct cls){C_BASE, 99, NULL};
	oc = outcome_of(&e);
	cat = c.uid / 1000;

	/* Ids only: the captions (class_name, severity, ...) are optional
	 * and derived from them; every byte here is written once per event
	 * (bench/README.md). activity_name stays for "Other" (the action). */
	aw_buf_puts(out, "{\"class_uid\":");
	aw_buf_put_u64(out, c.uid);
	aw_buf_puts(out, ",\"category_uid\":");
	aw_buf_put_u64(out, cat);
	aw_buf_puts(out, ",\"activity_id\":");
	aw_buf_put_u64(out, c.activity);
	if (!c.activity_name || c.activity == 99) {
		aw_buf_puts(out, ",\"activity_name\":\"");
		if (c.activity_name)
			aw_buf_puts(out, c.activity_name);
		else
			aw_buf_add(out, tok_s(doc, e.action),
				   doc->tok[e.action].len);
		aw_buf_puts(out, "\"");
	}
	aw_buf_puts(out, ",\"type_uid\":");
	aw_buf_put_u64(out, (uint64_t)c.uid * 100 + c.activity);
	aw_buf_puts(out, ",\"time\":");
	aw_buf_put_i64(out, ms);
	aw_buf_puts(out, ",\"severity_id\":");
	aw_buf_put_u64(out, oc.severity_id);
	aw_buf_puts(out, ",\"status_id\":");
	aw_buf_put_u64(out, oc.status_id);
	aw_buf_puts(out, ",\"action_id\":");
	aw_buf_put_u64(out, oc.action_id);
	aw_buf_puts(out, ",\"disposition_id\":");
	aw_buf_put_u64(out, oc.disposition_id);
	aw_buf_puts(out,
		    ",\"metadata\":{\"version\":\"" AW_OCSF_VERSION
		    "\",\"product\":{\"name\":\"agentwall\","
		    "\"vendor_name\":\"agentwall\",\"version\":\"" AW_VERSION
		    "\"}}");
	aw_buf_puts(out, ",\"device\":{\"type_id\":0");
	if (!is_null(doc, e.host))
		member(out, "hostname", doc, e.host);
	else
		aw_buf_puts(out, ",\"name\":\"localhost\"");
	aw_buf_puts(out, "}");
	if (!is_null(doc, e.rule)) {
		aw_buf_puts(out, ",\"policy\":{\"name\":");
		put_raw(out, doc, e.rule);
		aw_buf_puts(out, "}");
	}
	{
		/* message: what a person reads first. */
		aw_buf_puts(out, ",\"message\":\"");
		aw_buf_add(out, tok_s(doc, e.action), doc->tok[e.action].len);
		if (!is_null(doc, e.target)) {
			aw_buf_add(out, " ", 1);
			aw_buf_add(out, tok_s(doc, e.target),
				   doc->tok[e.target].len);
		}
		if (!aw_jstr_is(doc, e.decision, "allow") &&
		    !is_null(doc, e.decision) &&
		    doc->tok[e.decision].type == AW_J_STR) {
			aw_buf_puts(out, " (");
			aw_buf_add(out, tok_s(doc, e.decision),
				   doc->tok[e.decision].len);
			aw_buf_puts(out, ")");
		}
		aw_buf_puts(out, "\"");
	}

	switch (c.uid) {
	case C_PROCESS:
		/* Launch: the new process and the one that made it (exec
		 * replaces an image, fork makes a child: either way the
		 * parent acted). Terminate: the process itself. */
		aw_buf_puts(out, ",\"process\":");
		process_obj(out, &e, 1);
		actor(out, &e, c.activity == 1);
		if (c.activity == 2) {
			int64_t w;

			/* A wait status, as the shell would say it. */
			if (aw_jint(doc, e.k[K_EXIT_CODE], &w) == 0) {
				aw_buf_puts(out, ",\"exit_code\":");
				aw_buf_put_i64(out, (w & 0x7f)
							? 128 + (w & 0x7f)
							: (w >> 8) & 0xff);
			}
		}
		break;
	case C_NETWORK:
		actor(out, &e, 0);
		network(out, &e);
		break;
	case C_DNS:
		actor(out, &e, 0);
		dns(out, &e);
		break;
	case C_FILE:
		actor(out, &e, 0);
		file_obj(out, &e, !is(&e, "open"));
		break;
	case C_KERNEL:
		actor(out, &e, 0);
		aw_buf_puts(out, ",\"kernel\":{\"name\":");
		put_raw(out, doc, e.target);
		aw_buf_puts(out, ",\"system_call\":");
		put_raw(out, doc, e.target);
		aw_buf_puts(out, ",\"type_id\":2}");
		break;
	case C_FINDING:
		actor(out, &e, 0);
		finding(out, &e);
		if (!aw_jstr_is(doc, e.decision, "allow"))
			aw_buf_puts(out, ",\"is_alert\":true");
		break;
	default:
		actor(out, &e, 0);
		break;
	}
	unmapped(out, &e);
	aw_buf_puts(out, "}");
	if (out->oom) {
		out->len = mark;
		return -ENOMEM;
	}
	return c.uid;
}
