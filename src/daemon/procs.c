// SPDX-License-Identifier: GPL-2.0-only
/*
 * The daemon's process cache and session table, used to enrich events
 * (exe, argv, cwd, lineage back to the session root).
 *
 * This is reporting state only: whether a process belongs to a session is
 * decided in the kernel (task storage). Entries are keyed by (pid, start
 * time) so a reused pid never inherits another process's identity. Dead
 * processes stay while their session is live (their descendants' lineage
 * runs through them) and are trimmed after, within a fixed bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "shared/util.h"

#define PROCS_BUCKETS 65536u
#define SESS_BUCKETS 512u
#define PROCS_MAX 65536u /* cache bound: dead entries trimmed first */
#define SESS_ENDED_KEEP 1024u
#define LINEAGE_MAX 64u

struct proc_node {
	struct proc_node *next;
	struct aw_procinfo pi;
};

struct sess_node {
	struct sess_node *next;
	struct aw_sessioninfo si;
};

struct aw_procs {
	struct proc_node *buckets[PROCS_BUCKETS];
	struct sess_node *sbuckets[SESS_BUCKETS];
	size_t n_procs, n_sessions;
};

struct aw_procs *aw_procs_new(void)
{
	return calloc(1, sizeof(struct aw_procs));
}

static void proc_free(struct proc_node *n)
{
	free(n->pi.exe);
	free(n->pi.argv);
	free(n->pi.cwd);
	free(n->pi.tool);
	free(n);
}

static void sess_free(struct sess_node *n)
{
	free(n->si.version);
	free(n->si.matched);
	free(n);
}

void aw_procs_free(struct aw_procs *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < PROCS_BUCKETS; i++) {
		struct proc_node *n = p->buckets[i], *nx;

		for (; n; n = nx) {
			nx = n->next;
			proc_free(n);
		}
	}
	for (size_t i = 0; i < SESS_BUCKETS; i++) {
		struct sess_node *n = p->sbuckets[i], *nx;

		for (; n; n = nx) {
			nx = n->next;
			sess_free(n);
		}
	}
	free(p);
}

void aw_procinfo_set_str(char **dst, const char *s)
{
	char *c = s ? strdup(s) : NULL;

	if (s && !c)
		return; /* keep the old value rather than lose it */
	free(*dst);
	*dst = c;
}

/* Entries rebuilt from /proc know the start time to a clock tick only. */
static int same_start(struct aw_procinfo *pi, uint64_t t)
{
	static uint64_t tick;

	if (pi->start_time == t)
		return 1;
	if (!pi->start_approx)
		return 0;
	if (!tick) {
		long hz = sysconf(_SC_CLK_TCK);

		tick = 1000000000ull / (uint64_t)(hz > 0 ? hz : 100);
	}
	if (pi->start_time / tick != t / tick)
		return 0;
	pi->start_time = t; /* the kernel's exact value from now on */
	pi->start_approx = 0;
	return 1;
}

struct aw_procinfo *aw_procs_get(struct aw_procs *p, uint32_t pid,
				 uint64_t start_time)
{
	struct proc_node *n = p->buckets[pid % PROCS_BUCKETS];

	for (; n; n = n->next)
		if (n->pi.pid == pid &&
		    (!start_time || same_start(&n->pi, start_time)))
			return &n->pi;
	return NULL;
}

struct aw_procinfo *aw_procs_add(struct aw_procs *p, uint32_t pid,
				 uint64_t start_time)
{
	struct proc_node **pp = &p->buckets[pid % PROCS_BUCKETS], *n;

	/* A new process with a reused pid replaces the dead entry. */
	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->pi.pid != pid)
			continue;
		if (same_start(&(*pp)->pi, start_time))
			return &(*pp)->pi;
		n = *pp;
		*pp = n->next;
		proc_free(n);
		p->n_procs--;
		break;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->pi.pid = pid;
	n->pi.start_time = start_time;
	n->pi.live = 1;
	n->next = p->buckets[pid % PROCS_BUCKETS];
	p->buckets[pid % PROCS_BUCKETS] = n;
	p->n_procs++;
	return &n->pi;
}

size_t aw_procs_count(struct aw_procs *p)
{
	return p->n_procs;
}

struct aw_sessioninfo *aw_sessions_get(struct aw_procs *p, uint64_t session)
{
	struct sess_node *n = p->sbuckets[session % SESS_BUCKETS];

	for (; n; n = n->next)
		if (n->si.session == session)
			return &n->si;
	return NULL;
}

struct aw_sessioninfo *aw_sessions_add(struct aw_procs *p, uint64_t session)
{
	struct aw_sessioninfo *s = aw_sessions_get(p, session);
	struct sess_node *n;

	if (s)
		return s;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->si.session = session;
	n->next = p->sbuckets[session % SESS_BUCKETS];
	p->sbuckets[session % SESS_BUCKETS] = n;
	p->n_sessions++;
	return &n->si;
}

void aw_sessions_each(struct aw_procs *p,
		      void (*fn)(void *ud, struct aw_sessioninfo *s), void *ud)
{
	for (size_t i = 0; i < SESS_BUCKETS; i++)
		for (struct sess_node *n = p->sbuckets[i]; n; n = n->next)
			fn(ud, &n->si);
}

void aw_procs_each(struct aw_procs *p,
		   void (*fn)(void *ud, struct aw_procinfo *pi), void *ud)
{
	for (size_t i = 0; i < PROCS_BUCKETS; i++)
		for (struct proc_node *n = p->buckets[i]; n; n = n->next)
			fn(ud, &n->pi);
}

size_t aw_procs_lineage(struct aw_procs *p, struct aw_procinfo *pi,
			struct aw_procinfo **out, size_t max)
{
	struct aw_procinfo *chain[LINEAGE_MAX];
	size_t n = 0;

	/* Follow the spawner (not the reparented ppid) within the session;
	 * the length bound also breaks any cycle a pid reuse could make. */
	while (pi && n < LINEAGE_MAX) {
		chain[n++] = pi;
		if (!pi->spawner)
			break;
		struct aw_procinfo *up =
		    aw_procs_get(p, pi->spawner, pi->spawner_start);
		if (!up || up->session != pi->session)
			break;
		pi = up;
	}
	if (n > max)
		n = max;
	for (size_t i = 0; i < n; i++)
		out[i] = chain[n - 1 - i];
	return n;
}

void aw_procs_trim(struct aw_procs *p, uint64_t now_ns)
{
	/* Dead processes of ended sessions go first; if the cache is still
	 * over its bound, the oldest dead ones go regardless. */
	for (size_t i = 0; i < PROCS_BUCKETS; i++) {
		struct proc_node **pp = &p->buckets[i];

		while (*pp) {
			struct proc_node *n = *pp;
			struct aw_sessioninfo *s;

			s = aw_sessions_get(p, n->pi.session);
			if (!n->pi.live && (!s || s->ended_ns)) {
				*pp = n->next;
				proc_free(n);
				p->n_procs--;
				continue;
			}
			pp = &n->next;
		}
	}
	if (p->n_procs > PROCS_MAX) {
		uint64_t cutoff = now_ns - 60ull * 1000000000ull;

		for (size_t i = 0; i < PROCS_BUCKETS; i++) {
			struct proc_node **pp = &p->buckets[i];

			while (*pp) {
				struct proc_node *n = *pp;

				if (!n->pi.live &&
				    n->pi.last_seen_ns < cutoff) {
					*pp = n->next;
					proc_free(n);
					p->n_procs--;
					continue;
				}
				pp = &n->next;
			}
		}
	}
	if (p->n_sessions > SESS_ENDED_KEEP) {
		for (size_t i = 0; i < SESS_BUCKETS; i++) {
			struct sess_node **pp = &p->sbuckets[i];

			while (*pp) {
				struct sess_node *n = *pp;

				if (n->si.ended_ns) {
					*pp = n->next;
					sess_free(n);
					p->n_sessions--;
					continue;
				}
				pp = &n->next;
			}
		}
	}
}

int aw_proc_stat(uint32_t pid, uint32_t *ret_ppid, uint64_t *ret_ticks)
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
	int r = aw_proc_stat(pid, &ppid, &ticks);

	if (r == -ENOENT || r == -ESRCH)
		return 0;
	if (r < 0)
		return -1;
	if (hz <= 0)
		hz = 100;
	/* /proc reports start_boottime in clock ticks. */
	return ticks == start_time / (1000000000ull / (uint64_t)hz);
}
