// SPDX-License-Identifier: GPL-2.0-only
/*
 * The daemon's counters and their exposition (see metrics.h). A sink like
 * emit.c: the stages call in, it calls nothing of theirs.
 *
 * Cost on the hot path: aw_emit adds one hash of the action and decision
 * (a few bytes each), one table probe and one increment per event (about
 * 35 ns on the development VMs). The event counters have a single writer (the
 * event loop); the exposition thread reads them with atomic loads, and a new
 * (action, decision) pair is published by a release store of the pair count.
 * Everything else (sessions, forcing, the loop's samples) changes a few
 * times a second at most and is kept under one mutex, held by the
 * exposition only while it formats.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/emit.h"
#include "daemon/metrics.h"
#include "shared/util.h"

#define EV_PAIRS 128	   /* (action, decision) pairs counted apart */
#define EV_INDEX 256	   /* open addressing over them */
#define SESS_PAIRS 128	   /* (agent, policy) pairs */
#define SESS_TRACKED 65536 /* live sessions whose labels are known */
#define FORCE_PENDING 64   /* agents stopped, not yet contained */
#define FORCE_STALE_NS 60000000000ull

struct ev_pair {
	char action[32];
	char decision[16];
	uint64_t n;
};

struct sess_pair {
	char agent[64];
	char policy[64];
	uint64_t live, started, sandboxed;
};

struct sess_track {
	uint64_t session;
	uint32_t pair;
};

struct force_pending {
	uint64_t session, stop_ns;
};

/* Upper bounds, seconds (as the exposition writes them). Forcing takes
 * about 10-20 ms on the development VMs (docs/sandbox.md). */
static const char *const force_le[] = {
    "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
    "0.25",  "0.5",    "1.0",	"2.5",	"5.0",	 "10.0"};
static const uint64_t force_le_ns[] = {
    1000000,	   2500000,	  5000000,	 10000000,  25000000,
    50000000,	   100000000,	  250000000,	 500000000, 1000000000,
    2500000000ull, 5000000000ull, 10000000000ull};
#define FORCE_BUCKETS AW_ARRAY_SIZE(force_le)

static const char *const dns_verdict[AW_METRICS_DNS_MAX] = {
    [AW_METRICS_DNS_ALLOW] = "allow",
    [AW_METRICS_DNS_DENY] = "deny",
    [AW_METRICS_DNS_AUDIT] = "audit",
    [AW_METRICS_DNS_MALFORMED] = "malformed",
};

static const char *const reject_reason[AW_METRICS_REJ_MAX] = {
    [AW_METRICS_REJ_BUSY] = "busy",
    [AW_METRICS_REJ_TIMEOUT] = "timeout",
    [AW_METRICS_REJ_TOO_LARGE] = "too-large",
    [AW_METRICS_REJ_BAD] = "bad-request",
    [AW_METRICS_REJ_METHOD] = "method",
    [AW_METRICS_REJ_PATH] = "path",
};

struct aw_metrics {
	/* Event counters: written by the event loop only. */
	struct ev_pair ev[EV_PAIRS];
	uint32_t n_ev;		     /* published with a release store */
	uint16_t ev_index[EV_INDEX]; /* 0: empty, else pair + 1 */
	struct ev_pair ev_other;     /* past EV_PAIRS */

	uint64_t dns[AW_METRICS_DNS_MAX];
	uint64_t rejected[AW_METRICS_REJ_MAX];

	const uint64_t *ring_cons, *ring_prod;
	uint64_t ring_size;

	char version[64], revision[64], mode[16], backend[32];

	pthread_mutex_t lock; /* everything below */
	struct sess_pair sp[SESS_PAIRS];
	size_t n_sp;
	struct sess_track *tracked;
	size_t n_tracked, cap_tracked;
	struct force_pending pend[FORCE_PENDING];
	size_t n_pend;
	uint64_t force_bucket[FORCE_BUCKETS + 1]; /* last: above all */
	uint64_t force_count, force_sum_ns;
	struct aw_metrics_sample sample;
};

/* Every counter bumped this way has one writer (the event loop's, or the
 * endpoint thread's for its refusals): a plain increment, no locked
 * instruction (which cost more than the rest of the count, 23 ns of
 * 56), made of atomic accesses so the exposition's loads do not tear. */
static void bump(uint64_t *c)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELAXED);
}

static uint64_t load(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

int aw_metrics_new(const char *version, const char *revision, const char *mode,
		   const char *backend, struct aw_metrics **ret)
{
	struct aw_metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	snprintf(m->version, sizeof(m->version), "%s", version);
	snprintf(m->revision, sizeof(m->revision), "%s", revision);
	snprintf(m->mode, sizeof(m->mode), "%s", mode);
	snprintf(m->backend, sizeof(m->backend), "%s", backend);
	snprintf(m->ev_other.action, sizeof(m->ev_other.action), "other");
	snprintf(m->ev_other.decision, sizeof(m->ev_other.decision), "other");
	*ret = m;
	return 0;
}

void aw_metrics_free(struct aw_metrics *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m->tracked);
	free(m);
}

/* FNV-1a over both strings (with a separator). */
static uint32_t pair_hash(const char *a, const char *b)
{
	uint32_t h = 2166136261u;

	for (; *a; a++)
		h = (h ^ (uint8_t)*a) * 16777619u;
	h = (h ^ 0xff) * 16777619u;
	for (; *b; b++)
		h = (h ^ (uint8_t)*b) * 16777619u;
	return h;
}

static struct ev_pair *ev_slot(struct aw_metrics *m, const char *action,
			       const char *decision)
{
	uint32_t h = pair_hash(action, decision);

	for (uint32_t i = 0; i < EV_INDEX; i++) {
		uint32_t at = (h + i) % EV_INDEX;
		uint16_t x = m->ev_index[at];
		struct ev_pair *p;

		if (x) {
			p = &m->ev[x - 1];
			if (!strcmp(p->action, action) &&
			    !strcmp(p->decision, decision))
				return p;
			continue;
		}
		/* New pair: a label too long for its field would be cut
		 * into another's name; counted as "other" instead. */
		if (m->n_ev == EV_PAIRS ||
		    strlen(action) >= sizeof(p->action) ||
		    strlen(decision) >= sizeof(p->decision))
			return &m->ev_other;
		p = &m->ev[m->n_ev];
		snprintf(p->action, sizeof(p->action), "%s", action);
		snprintf(p->decision, sizeof(p->decision), "%s", decision);
		m->ev_index[at] = (uint16_t)(m->n_ev + 1);
		__atomic_store_n(&m->n_ev, m->n_ev + 1, __ATOMIC_RELEASE);
		return p;
	}
	return &m->ev_other;
}

/* Under m->lock. */
static struct sess_pair *sess_pair(struct aw_metrics *m, const char *agent,
				   const char *policy)
{
	struct sess_pair *p;

	for (size_t i = 0; i < m->n_sp; i++)
		if (!strcmp(m->sp[i].agent, agent) &&
		    !strcmp(m->sp[i].policy, policy))
			return &m->sp[i];
	if (m->n_sp >= SESS_PAIRS - 1 || strlen(agent) >= sizeof(p->agent) ||
	    strlen(policy) >= sizeof(p->policy)) {
		agent = policy = "other";
		for (size_t i = 0; i < m->n_sp; i++)
			if (!strcmp(m->sp[i].agent, agent) &&
			    !strcmp(m->sp[i].policy, policy))
				return &m->sp[i];
	}
	p = &m->sp[m->n_sp++];
	snprintf(p->agent, sizeof(p->agent), "%s", agent);
	snprintf(p->policy, sizeof(p->policy), "%s", policy);
	return p;
}

static struct sess_track *sess_find(struct aw_metrics *m, uint64_t session)
{
	for (size_t i = 0; i < m->n_tracked; i++)
		if (m->tracked[i].session == session)
			return &m->tracked[i];
	return NULL;
}

static void sess_start(struct aw_metrics *m, uint64_t session,
		       const char *agent, const char *policy)
{
	struct sess_pair *p = sess_pair(m, agent, policy);

	p->started++;
	if (m->n_tracked == m->cap_tracked) {
		size_t cap = m->cap_tracked ? m->cap_tracked * 2 : 64;
		struct sess_track *t;

		if (cap > SESS_TRACKED)
			return; /* counted as started, not as live */
		t = realloc(m->tracked, cap * sizeof(*t));
		if (!t)
			return;
		m->tracked = t;
		m->cap_tracked = cap;
	}
	p->live++;
	m->tracked[m->n_tracked++] =
	    (struct sess_track){.session = session, .pair = p - m->sp};
}

/* The session actions: a session starts with "session-start" (an agent
 * classified at exec), "discover" (an LLM API reached from outside any
 * session) or a "sandbox" of rule run/POLICY (agentwall run); a forced
 * agent's session starts at exec and gets its policy with the "sandbox"
 * of rule force/POLICY; "session-end" ends it. */
static void sess_event(struct aw_metrics *m, const struct aw_emit_info *e,
		       const char *agent)
{
	struct sess_track *t;

	pthread_mutex_lock(&m->lock);
	t = sess_find(m, e->session);
	if (!strcmp(e->action, "session-end")) {
		if (t) {
			m->sp[t->pair].live--;
			*t = m->tracked[--m->n_tracked];
		}
	} else if (!strcmp(e->action, "sandbox")) {
		const char *slash = e->rule ? strchr(e->rule, '/') : NULL;
		const char *policy = slash && slash[1] ? slash + 1 : "none";
		struct sess_pair *p;

		if (!t) {
			sess_start(m, e->session, agent, policy);
		} else if (strcmp(m->sp[t->pair].policy, policy)) {
			/* A forced session: it has its policy now. */
			p = sess_pair(m, m->sp[t->pair].agent, policy);
			m->sp[t->pair].live--;
			p->live++;
			t->pair = p - m->sp;
		}
		sess_pair(m, agent, policy)->sandboxed++;
	} else if (!t) {
		sess_start(m, e->session, agent, "none");
	}
	pthread_mutex_unlock(&m->lock);
}

void aw_metrics_event(struct aw_metrics *m, const struct aw_emit_info *e,
		      const char *decision, const char *session_agent)
{
	const char *a = e->action;

	if (!m)
		return;
	bump(&ev_slot(m, a, decision)->n);
	if (e->session && ((a[0] == 's' && (!strcmp(a, "session-start") ||
					    !strcmp(a, "session-end") ||
					    !strcmp(a, "sandbox"))) ||
			   (a[0] == 'd' && !strcmp(a, "discover"))))
		sess_event(m, e, session_agent ? session_agent : "none");
}

void aw_metrics_dns(struct aw_metrics *m, enum aw_metrics_dns verdict)
{
	if (m && verdict < AW_METRICS_DNS_MAX)
		bump(&m->dns[verdict]);
}

void aw_metrics_rejected(struct aw_metrics *m, enum aw_metrics_reject why)
{
	if (m && why < AW_METRICS_REJ_MAX)
		bump(&m->rejected[why]);
}

void aw_metrics_force_stopped(struct aw_metrics *m, uint64_t session,
			      uint64_t stop_ns)
{
	size_t at = 0;

	if (!m || !session)
		return;
	pthread_mutex_lock(&m->lock);
	/* A full table gives up its oldest (or a stale) entry. */
	if (m->n_pend < FORCE_PENDING) {
		at = m->n_pend++;
	} else {
		for (size_t i = 1; i < m->n_pend; i++)
			if (m->pend[i].stop_ns < m->pend[at].stop_ns)
				at = i;
	}
	m->pend[at] = (struct force_pending){session, stop_ns};
	pthread_mutex_unlock(&m->lock);
}

void aw_metrics_force_contained(struct aw_metrics *m, uint64_t session,
				uint64_t now_ns)
{
	if (!m || !session)
		return;
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n_pend;) {
		struct force_pending *p = &m->pend[i];
		uint64_t d = now_ns > p->stop_ns ? now_ns - p->stop_ns : 0;
		size_t b = 0;

		if (p->session != session) {
			/* (Agents killed before their launcher asked.) */
			if (d > FORCE_STALE_NS)
				*p = m->pend[--m->n_pend];
			else
				i++;
			continue;
		}
		while (b < FORCE_BUCKETS && d > force_le_ns[b])
			b++;
		m->force_bucket[b]++;
		m->force_count++;
		m->force_sum_ns += d;
		*p = m->pend[--m->n_pend];
		break;
	}
	pthread_mutex_unlock(&m->lock);
}

void aw_metrics_publish(struct aw_metrics *m, const struct aw_metrics_sample *s)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->sample = *s;
	pthread_mutex_unlock(&m->lock);
}

void aw_metrics_set_ring(struct aw_metrics *m, const uint64_t *consumer,
			 const uint64_t *producer, uint64_t size)
{
	if (!m)
		return;
	m->ring_cons = consumer;
	m->ring_prod = producer;
	m->ring_size = size;
}

/* ---- exposition --------------------------------------------------------- */

/* A label value: backslash, double quote and newline escaped (both
 * formats). */
static void label(struct aw_buf *b, const char *name, const char *v, int more)
{
	aw_buf_puts(b, name);
	aw_buf_puts(b, "=\"");
	for (; *v; v++) {
		if (*v == '\\')
			aw_buf_puts(b, "\\\\");
		else if (*v == '"')
			aw_buf_puts(b, "\\\"");
		else if (*v == '\n')
			aw_buf_puts(b, "\\n");
		else
			aw_buf_add(b, v, 1);
	}
	aw_buf_puts(b, more ? "\"," : "\"");
}

/* The family's header lines. OpenMetrics names a counter family without
 * its _total suffix and has an info type; the Prometheus format names
 * the sample and has neither. */
static void family(struct aw_buf *b, int om, const char *name, const char *type,
		   const char *unit, const char *help)
{
	int counter = !strcmp(type, "counter");
	int info = !strcmp(type, "info");
	const char *suffix = om ? "" : counter ? "_total" : info ? "_info" : "";

	if (!om && info)
		type = "gauge";
	aw_buf_printf(b, "# TYPE %s%s %s\n", name, suffix, type);
	if (om && unit)
		aw_buf_printf(b, "# UNIT %s %s\n", name, unit);
	aw_buf_printf(b, "# HELP %s%s %s\n", name, suffix, help);
}

static void sample_u64(struct aw_buf *b, const char *name, uint64_t v)
{
	aw_buf_puts(b, name);
	aw_buf_puts(b, " ");
	aw_buf_put_u64(b, v);
	aw_buf_puts(b, "\n");
}

void aw_metrics_render(struct aw_metrics *m, struct aw_buf *b, int om)
{
	static const struct {
		int stat;
		const char *event;
	} drops[] = {
	    {AW_STAT_DROP_EXEC, "exec"},   {AW_STAT_DROP_FORK, "fork"},
	    {AW_STAT_DROP_EXIT, "exit"},   {AW_STAT_DROP_NET, "net"},
	    {AW_STAT_DROP_FORCE, "force"},
	};
	uint32_t n_ev = __atomic_load_n(&m->n_ev, __ATOMIC_ACQUIRE);
	uint64_t cum = 0;

	family(b, om, "agentwall_build", "info", NULL,
	       "The daemon's version, revision, mode and backend.");
	aw_buf_puts(b, "agentwall_build_info{");
	label(b, "version", m->version, 1);
	label(b, "revision", m->revision, 1);
	label(b, "mode", m->mode, 1);
	label(b, "backend", m->backend, 0);
	aw_buf_puts(b, "} 1\n");

	family(b, om, "agentwall_events", "counter", NULL,
	       "Events recorded (queued for the store), by action and "
	       "decision.");
	for (uint32_t i = 0; i <= n_ev; i++) {
		const struct ev_pair *p = i < n_ev ? &m->ev[i] : &m->ev_other;
		uint64_t v = load(&p->n);

		if (i == n_ev && !v)
			break;
		aw_buf_puts(b, "agentwall_events_total{");
		label(b, "action", p->action, 1);
		label(b, "decision", p->decision, 0);
		aw_buf_puts(b, "} ");
		aw_buf_put_u64(b, v);
		aw_buf_puts(b, "\n");
	}

	family(b, om, "agentwall_resolver_queries", "counter", NULL,
	       "Queries to the sessions' resolvers, by the policy's verdict.");
	for (int i = 0; i < AW_METRICS_DNS_MAX; i++) {
		aw_buf_puts(b, "agentwall_resolver_queries_total{");
		label(b, "verdict", dns_verdict[i], 0);
		aw_buf_puts(b, "} ");
		aw_buf_put_u64(b, load(&m->dns[i]));
		aw_buf_puts(b, "\n");
	}

	if (m->ring_cons && m->ring_prod) {
		uint64_t c = __atomic_load_n(m->ring_cons, __ATOMIC_ACQUIRE);
		uint64_t p = __atomic_load_n(m->ring_prod, __ATOMIC_ACQUIRE);
		uint64_t used = p > c ? p - c : 0;

		if (used > m->ring_size)
			used = m->ring_size;
		family(b, om, "agentwall_ring_used_bytes", "gauge", NULL,
		       "Bytes written to the kernel ring buffer and not yet "
		       "consumed.");
		sample_u64(b, "agentwall_ring_used_bytes", used);
		family(b, om, "agentwall_ring_size_bytes", "gauge", NULL,
		       "The kernel ring buffer's size.");
		sample_u64(b, "agentwall_ring_size_bytes", m->ring_size);
	}

	family(b, om, "agentwall_metrics_http_rejected", "counter", NULL,
	       "Requests to this endpoint refused, by reason.");
	for (int i = 0; i < AW_METRICS_REJ_MAX; i++) {
		aw_buf_puts(b, "agentwall_metrics_http_rejected_total{");
		label(b, "reason", reject_reason[i], 0);
		aw_buf_puts(b, "} ");
		aw_buf_put_u64(b, load(&m->rejected[i]));
		aw_buf_puts(b, "\n");
	}

	pthread_mutex_lock(&m->lock);
	family(b, om, "agentwall_ring_drops", "counter", NULL,
	       "Kernel records lost to a full ring buffer (per-CPU counters "
	       "aw_stats, summed), by record.");
	for (size_t i = 0; i < AW_ARRAY_SIZE(drops); i++) {
		aw_buf_puts(b, "agentwall_ring_drops_total{");
		label(b, "event", drops[i].event, 0);
		aw_buf_puts(b, "} ");
		aw_buf_put_u64(b, m->sample.kernel[drops[i].stat]);
		aw_buf_puts(b, "\n");
	}
	family(b, om, "agentwall_kernel_records", "counter", NULL,
	       "Records the kernel side submitted to the ring buffer.");
	sample_u64(b, "agentwall_kernel_records_total",
		   m->sample.kernel[AW_STAT_EVENTS]);
	family(b, om, "agentwall_kernel_storage_failures", "counter", NULL,
	       "Task storage the kernel side could not create.");
	sample_u64(b, "agentwall_kernel_storage_failures_total",
		   m->sample.kernel[AW_STAT_STORAGE_FAIL]);
	family(b, om, "agentwall_user_drops", "counter", NULL,
	       "Events lost in user space (no memory, a failed export "
	       "write, a failed store insert or commit).");
	sample_u64(b, "agentwall_user_drops_total", m->sample.user_drops);
	family(b, om, "agentwall_store_queue_events", "gauge", NULL,
	       "Events queued for the store writer thread.");
	sample_u64(b, "agentwall_store_queue_events", m->sample.queue_events);
	family(b, om, "agentwall_store_queue_bytes", "gauge", NULL,
	       "Bytes queued for the store writer thread (the queue holds "
	       "64 MiB; a full queue makes the event loop wait).");
	sample_u64(b, "agentwall_store_queue_bytes", m->sample.queue_bytes);
	family(b, om, "agentwall_store_committed", "counter", NULL,
	       "Events inserted and committed to the store.");
	sample_u64(b, "agentwall_store_committed_total",
		   m->sample.store_committed);

	if (m->n_sp) {
		family(b, om, "agentwall_sessions_started", "counter", NULL,
		       "Sessions started, by agent.");
		for (size_t i = 0; i < m->n_sp; i++) {
			uint64_t v = 0;
			size_t j;

			for (j = 0; j < i; j++)
				if (!strcmp(m->sp[j].agent, m->sp[i].agent))
					break;
			if (j < i)
				continue; /* agent already written */
			for (j = i; j < m->n_sp; j++)
				if (!strcmp(m->sp[j].agent, m->sp[i].agent))
					v += m->sp[j].started;
			aw_buf_puts(b, "agentwall_sessions_started_total{");
			label(b, "agent", m->sp[i].agent, 0);
			aw_buf_puts(b, "} ");
			aw_buf_put_u64(b, v);
			aw_buf_puts(b, "\n");
		}
		family(b, om, "agentwall_sessions_sandboxed", "counter", NULL,
		       "Sessions given a sandbox (agentwall run, forced), by "
		       "agent and policy.");
		for (size_t i = 0; i < m->n_sp; i++) {
			if (!m->sp[i].sandboxed)
				continue;
			aw_buf_puts(b, "agentwall_sessions_sandboxed_total{");
			label(b, "agent", m->sp[i].agent, 1);
			label(b, "policy", m->sp[i].policy, 0);
			aw_buf_puts(b, "} ");
			aw_buf_put_u64(b, m->sp[i].sandboxed);
			aw_buf_puts(b, "\n");
		}
		family(b, om, "agentwall_sessions_live", "gauge", NULL,
		       "Sessions running, by agent and policy (\"none\": not "
		       "sandboxed).");
		for (size_t i = 0; i < m->n_sp; i++) {
			aw_buf_puts(b, "agentwall_sessions_live{");
			label(b, "agent", m->sp[i].agent, 1);
			label(b, "policy", m->sp[i].policy, 0);
			aw_buf_puts(b, "} ");
			aw_buf_put_u64(b, m->sp[i].live);
			aw_buf_puts(b, "\n");
		}
	}

	family(b, om, "agentwall_force_latency_seconds", "histogram", "seconds",
	       "Forcing: from the exec hook's stop to the agent's launcher "
	       "holding its session.");
	for (size_t i = 0; i <= FORCE_BUCKETS; i++) {
		cum += m->force_bucket[i];
		aw_buf_printf(
		    b,
		    "agentwall_force_latency_seconds_bucket{le=\"%s\"}"
		    " ",
		    i < FORCE_BUCKETS ? force_le[i] : "+Inf");
		aw_buf_put_u64(b, cum);
		aw_buf_puts(b, "\n");
	}
	sample_u64(b, "agentwall_force_latency_seconds_count", m->force_count);
	aw_buf_printf(b, "agentwall_force_latency_seconds_sum %llu.%09llu\n",
		      (unsigned long long)(m->force_sum_ns / 1000000000ull),
		      (unsigned long long)(m->force_sum_ns % 1000000000ull));
	pthread_mutex_unlock(&m->lock);

	if (om)
		aw_buf_puts(b, "# EOF\n");
}
