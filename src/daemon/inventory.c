// SPDX-License-Identifier: GPL-2.0-only
/*
 * The inventory stage: what agents are installed and which MCP servers
 * their configuration starts (src/inventory/ does the scanning, shared
 * with `agentwall inventory`). The scan runs on a thread of its own: it
 * reads users' files (as each user: setfsuid is per thread) and may hash
 * a large binary once, neither of which the event loop should wait for.
 * It rescans every --inventory-interval seconds and soon after inotify
 * reports a change in a directory it looked at (bounded watches); the
 * main loop collects each finished scan and emits what changed since the
 * last one as `inventory` events.
 *
 * Called by main (open, collect, close), control (status) and reload (a
 * new database); it calls only sigdb.c (its own copy of the database)
 * and emit.c.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "inventory/inventory.h"
#include "shared/json.h"
#include "shared/util.h"

#define INV_WATCHES_MAX 512
/* After a change, wait this long for the burst to end (an editor's save,
 * npm writing a package), and never scan more often than the minimum. */
#define INV_SETTLE_MS 150
#define INV_MIN_GAP_MS 500
/* ... and never spend more than a tenth of the time scanning, whatever a
 * user changes in what is watched. */
#define INV_DUTY 10

struct inv_watch {
	int wd;
	char *path;
};

struct aw_inventory_stage {
	pthread_t thread;
	int started;
	int ready_fd; /* eventfd: a scan is ready (main loop) */
	int wake_fd;  /* eventfd: stop, or a new database (thread) */
	int ino_fd;
	unsigned interval_s;
	pthread_mutex_t lock;
	/* under lock */
	int stop;
	struct aw_sigdb *next_db; /* handed to the thread */
	struct aw_inventory *ready;
	/* thread only */
	struct aw_sigdb *db;
	struct aw_compiled comp;
	struct aw_inv_cache *cache;
	struct inv_watch *watches;
	size_t n_watches;
	uint64_t scans;
	int watch_full;
	/* main thread only */
	struct aw_inventory last;
	int have_last;
	uint64_t collected;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sigdb_drop(struct aw_sigdb *db)
{
	if (db) {
		aw_sigdb_free(db);
		free(db);
	}
}

/* Watches follow the directories the last scan looked at. */
static void watches_update(struct aw_inventory_stage *s,
			   const struct aw_inventory *inv)
{
	const uint32_t mask = IN_CREATE | IN_DELETE | IN_MOVED_TO |
			      IN_MOVED_FROM | IN_CLOSE_WRITE | IN_ATTRIB |
			      IN_DELETE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW;

	for (size_t i = 0; i < s->n_watches;) {
		int keep = 0;

		for (size_t j = 0; j < inv->n_dirs && !keep; j++)
			keep = !strcmp(inv->dirs[j], s->watches[i].path);
		if (keep) {
			i++;
			continue;
		}
		inotify_rm_watch(s->ino_fd, s->watches[i].wd);
		free(s->watches[i].path);
		s->watches[i] = s->watches[--s->n_watches];
	}
	s->watch_full = 0;
	for (size_t j = 0; j < inv->n_dirs; j++) {
		int have = 0, wd;

		for (size_t i = 0; i < s->n_watches && !have; i++)
			have = !strcmp(inv->dirs[j], s->watches[i].path);
		if (have)
			continue;
		if (s->n_watches >= INV_WATCHES_MAX) {
			/* The timer still rescans what is not watched. */
			s->watch_full = 1;
			break;
		}
		wd = inotify_add_watch(s->ino_fd, inv->dirs[j], mask);
		if (wd < 0)
			continue;
		s->watches[s->n_watches].wd = wd;
		s->watches[s->n_watches].path = strdup(inv->dirs[j]);
		if (!s->watches[s->n_watches].path) {
			inotify_rm_watch(s->ino_fd, wd);
			continue;
		}
		s->n_watches++;
	}
}

/* Returns whether the scan hashed a file (its time says nothing about
 * the next scans', which find the digest cached). */
static int scan(struct aw_inventory_stage *s)
{
	struct aw_inv_scan_opts o = {.db = s->db,
				     .comp = &s->comp,
				     .cache = s->cache,
				     .system = 1,
				     .as_owner = 1};
	struct aw_inv_account *accts = NULL;
	struct aw_inventory *inv;
	size_t n = 0;
	int hashed;

	if (!s->db)
		return 0;
	inv = calloc(1, sizeof(*inv));
	if (!inv)
		return 0;
	if (aw_inv_accounts(NULL, (uid_t)-1, &accts, &n) < 0 ||
	    aw_inventory_scan(&o, accts, n, inv) < 0) {
		aw_inv_accounts_free(accts, n);
		free(inv);
		return 0;
	}
	hashed = inv->hashed > 0;
	aw_inv_accounts_free(accts, n);
	watches_update(s, inv);
	s->scans++;
	pthread_mutex_lock(&s->lock);
	if (s->ready) {
		aw_inventory_free(s->ready);
		free(s->ready);
	}
	s->ready = inv;
	pthread_mutex_unlock(&s->lock);
	eventfd_write(s->ready_fd, 1);
	return hashed;
}

/* A database handed over by the main thread: compile it here. */
static void take_db(struct aw_inventory_stage *s, struct aw_sigdb *db)
{
	struct aw_compiled c = {};
	struct aw_diag diag = {};

	if (aw_sigdb_compile(db, &c, &diag) < 0) {
		sigdb_drop(db);
		return;
	}
	aw_compiled_free(&s->comp);
	sigdb_drop(s->db);
	s->db = db;
	s->comp = c;
}

static void drain_inotify(struct aw_inventory_stage *s)
{
	char buf[8192]
	    __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t n = read(s->ino_fd, buf, sizeof(buf));

		if (n <= 0)
			return;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *e = (void *)p;

			/* A watched directory went: forget its watch. */
			if (e->mask & IN_IGNORED)
				for (size_t i = 0; i < s->n_watches; i++)
					if (s->watches[i].wd == e->wd) {
						free(s->watches[i].path);
						s->watches[i] =
						    s->watches[--s->n_watches];
						break;
					}
			p += sizeof(*e) + e->len;
		}
	}
}

static void *inventory_thread(void *arg)
{
	struct aw_inventory_stage *s = arg;
	uint64_t last = 0, dirty_at = 0, gap = INV_MIN_GAP_MS;
	int dirty = 1; /* the first scan at once */

	aw_thread_background();
	for (;;) {
		struct pollfd p[2] = {{.fd = s->wake_fd, .events = POLLIN},
				      {.fd = s->ino_fd, .events = POLLIN}};
		uint64_t t = now_ms(), due = last + s->interval_s * 1000ull;
		int timeout;

		if (dirty) {
			uint64_t at = dirty_at + INV_SETTLE_MS;

			if (last && at < last + gap)
				at = last + gap;
			if (at < due)
				due = at;
		}
		if (!last && dirty)
			due = t;
		timeout = due <= t ? 0 : (int)(due - t);
		if (poll(p, 2, timeout) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN) {
			eventfd_t v;
			struct aw_sigdb *db;
			int stop;

			eventfd_read(s->wake_fd, &v);
			pthread_mutex_lock(&s->lock);
			stop = s->stop;
			db = s->next_db;
			s->next_db = NULL;
			pthread_mutex_unlock(&s->lock);
			if (stop)
				break;
			if (db) {
				take_db(s, db);
				if (!dirty)
					dirty_at = now_ms();
				dirty = 1;
			}
		}
		if (p[1].revents & POLLIN) {
			drain_inotify(s);
			if (!dirty)
				dirty_at = now_ms();
			dirty = 1;
		}
		t = now_ms();
		if ((dirty && t >= dirty_at + INV_SETTLE_MS &&
		     (!last || t >= last + gap)) ||
		    t >= last + s->interval_s * 1000ull) {
			int hashed;

			dirty = 0;
			hashed = scan(s);
			last = now_ms();
			if (!hashed) {
				gap = (last - t) * INV_DUTY;
				if (gap < INV_MIN_GAP_MS)
					gap = INV_MIN_GAP_MS;
			}
		}
	}
	return NULL;
}

static struct aw_sigdb *load_copy(struct aw_daemon *d)
{
	struct aw_sigdb *db = calloc(1, sizeof(*db));
	char err[512];

	if (!db)
		return NULL;
	if (aw_sigdb_load_sources(d, db, err, sizeof(err)) < 0) {
		fprintf(stderr, "agentwalld: inventory: signatures: %s\n", err);
		sigdb_drop(db);
		return NULL;
	}
	return db;
}

int aw_inventory_open(struct aw_daemon *d, char *err, size_t errlen)
{
	struct aw_inventory_stage *s;
	struct aw_sigdb *db;

	if (!d->opts.inventory_interval)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->interval_s = d->opts.inventory_interval;
	s->ready_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->ino_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	s->watches = calloc(INV_WATCHES_MAX, sizeof(*s->watches));
	s->cache = aw_inv_cache_new();
	pthread_mutex_init(&s->lock, NULL);
	d->inventory = s;
	if (s->ready_fd < 0 || s->wake_fd < 0 || s->ino_fd < 0 || !s->watches ||
	    !s->cache) {
		snprintf(err, errlen, "inventory: %s", strerror(errno));
		aw_inventory_close(d);
		return -ENOMEM;
	}
	db = load_copy(d);
	if (db)
		take_db(s, db);
	if (pthread_create(&s->thread, NULL, inventory_thread, s)) {
		snprintf(err, errlen, "inventory: cannot start its thread");
		aw_inventory_close(d);
		return -EAGAIN;
	}
	s->started = 1;
	return 0;
}

int aw_inventory_fd(struct aw_daemon *d)
{
	return d->inventory ? d->inventory->ready_fd : -1;
}

void aw_inventory_sigdb_changed(struct aw_daemon *d)
{
	struct aw_inventory_stage *s = d->inventory;
	struct aw_sigdb *db;

	if (!s)
		return;
	db = load_copy(d);
	if (!db)
		return;
	pthread_mutex_lock(&s->lock);
	sigdb_drop(s->next_db);
	s->next_db = db;
	pthread_mutex_unlock(&s->lock);
	eventfd_write(s->wake_fd, 1);
}

/* Keys that say an item is the same one in two scans. */
static void agent_key(struct aw_buf *b, const struct aw_inv_agent *a)
{
	aw_buf_reset(b);
	aw_buf_printf(b, "%s\n%s\n%s\n%s", a->account ? a->account : "", a->id,
		      a->path, a->version ? a->version : "");
}

static void server_key(struct aw_buf *b, const struct aw_inv_server *v)
{
	aw_buf_reset(b);
	aw_buf_printf(
	    b, "%s\n%s\n%s\n%s\n%s\n%s\n%d", v->account ? v->account : "",
	    v->config, v->project ? v->project : "", v->name,
	    v->command ? v->command : "", v->url ? v->url : "", v->disabled);
	for (size_t i = 0; i < v->n_args; i++)
		aw_buf_printf(b, "\n%s", v->args[i]);
	aw_buf_puts(b, "\n-");
	for (size_t i = 0; i < v->n_env_keys; i++)
		aw_buf_printf(b, "\n%s", v->env_keys[i]);
}

static void problem_key(struct aw_buf *b, const struct aw_inv_problem *p)
{
	aw_buf_reset(b);
	aw_buf_printf(b, "%s\n%s\n%s", p->account ? p->account : "", p->path,
		      p->reason);
}

enum inv_kind { INV_AGENT, INV_SERVER, INV_PROBLEM };

static void key_of(struct aw_buf *b, enum inv_kind k,
		   const struct aw_inventory *inv, size_t i)
{
	switch (k) {
	case INV_AGENT:
		agent_key(b, &inv->agents[i]);
		break;
	case INV_SERVER:
		server_key(b, &inv->servers.v[i]);
		break;
	case INV_PROBLEM:
		problem_key(b, &inv->problems[i]);
		break;
	}
}

static size_t count_of(enum inv_kind k, const struct aw_inventory *inv)
{
	switch (k) {
	case INV_AGENT:
		return inv->n_agents;
	case INV_SERVER:
		return inv->servers.n;
	case INV_PROBLEM:
		return inv->n_problems;
	}
	return 0;
}

static void emit_item(struct aw_daemon *d, enum inv_kind k,
		      const struct aw_inventory *inv, size_t i,
		      const char *change)
{
	struct aw_buf b = {};
	char rule[200];
	const char *target = NULL;

	aw_buf_printf(&b,
		      "\"inventory\":{\"change\":\"%s\",\"kind\":\"%s\","
		      "\"item\":",
		      change,
		      k == INV_AGENT	? "agent"
		      : k == INV_SERVER ? "mcp-server"
					: "problem");
	switch (k) {
	case INV_AGENT:
		aw_inv_agent_json(&b, &inv->agents[i]);
		target = inv->agents[i].path;
		snprintf(rule, sizeof(rule), "inventory/agent:%s",
			 inv->agents[i].id);
		break;
	case INV_SERVER:
		aw_inv_server_json(&b, &inv->servers.v[i]);
		target = inv->servers.v[i].config;
		snprintf(rule, sizeof(rule), "inventory/mcp-server:%s",
			 inv->servers.v[i].known ? inv->servers.v[i].known
						 : "unknown");
		break;
	case INV_PROBLEM:
		aw_inv_problem_json(&b, &inv->problems[i]);
		target = inv->problems[i].path;
		snprintf(rule, sizeof(rule), "inventory/problem");
		break;
	}
	aw_buf_puts(&b, "}");
	if (!b.oom)
		aw_events_emit_simple(d, "inventory", 0, target, rule, b.data);
	aw_buf_free(&b);
}

/* Items of kind k in a and not in b, emitted as change. */
static void diff(struct aw_daemon *d, enum inv_kind k,
		 const struct aw_inventory *a, const struct aw_inventory *b,
		 const char *change)
{
	size_t na = count_of(k, a), nb = count_of(k, b);
	struct aw_buf ka = {}, kb = {};

	for (size_t i = 0; i < na; i++) {
		int found = 0;

		key_of(&ka, k, a, i);
		for (size_t j = 0; j < nb && !found; j++) {
			key_of(&kb, k, b, j);
			found = !ka.oom && !kb.oom && !strcmp(ka.data, kb.data);
		}
		if (!found)
			emit_item(d, k, a, i, change);
	}
	aw_buf_free(&ka);
	aw_buf_free(&kb);
}

void aw_inventory_collect(struct aw_daemon *d)
{
	struct aw_inventory_stage *s = d->inventory;
	struct aw_inventory *inv;
	eventfd_t v;

	if (!s)
		return;
	eventfd_read(s->ready_fd, &v);
	pthread_mutex_lock(&s->lock);
	inv = s->ready;
	s->ready = NULL;
	pthread_mutex_unlock(&s->lock);
	if (!inv)
		return;
	s->collected++;
	if (!s->have_last) {
		/* The first scan: one summary, not every item (the full
		 * list is `agentwall inventory`). */
		char detail[256];

		snprintf(detail, sizeof(detail),
			 "\"inventory\":{\"change\":\"baseline\","
			 "\"agents\":%zu,\"servers\":%zu,\"problems\":%zu}",
			 inv->n_agents, inv->servers.n, inv->n_problems);
		aw_events_emit_simple(d, "inventory", 0, NULL,
				      "inventory/baseline", detail);
	} else {
		for (int k = INV_AGENT; k <= INV_PROBLEM; k++) {
			diff(d, (enum inv_kind)k, inv, &s->last, "added");
			diff(d, (enum inv_kind)k, &s->last, inv, "removed");
		}
		aw_inventory_free(&s->last);
	}
	s->last = *inv;
	s->have_last = 1;
	free(inv);
}

void aw_inventory_status(struct aw_daemon *d, struct aw_buf *b)
{
	struct aw_inventory_stage *s = d->inventory;

	aw_json_key(b, "inventory");
	if (!s) {
		aw_buf_puts(b, "null");
		return;
	}
	aw_buf_printf(b,
		      "{\"interval_s\":%u,\"scans\":%llu,\"agents\":%zu,"
		      "\"servers\":%zu,\"problems\":%zu}",
		      s->interval_s, (unsigned long long)s->collected,
		      s->last.n_agents, s->last.servers.n, s->last.n_problems);
}

void aw_inventory_close(struct aw_daemon *d)
{
	struct aw_inventory_stage *s = d->inventory;

	if (!s)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->lock);
		s->stop = 1;
		pthread_mutex_unlock(&s->lock);
		eventfd_write(s->wake_fd, 1);
		pthread_join(s->thread, NULL);
	}
	for (size_t i = 0; i < s->n_watches; i++)
		free(s->watches[i].path);
	free(s->watches);
	if (s->ino_fd >= 0)
		close(s->ino_fd);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	if (s->ready_fd >= 0)
		close(s->ready_fd);
	if (s->ready) {
		aw_inventory_free(s->ready);
		free(s->ready);
	}
	sigdb_drop(s->next_db);
	aw_compiled_free(&s->comp);
	sigdb_drop(s->db);
	aw_inv_cache_free(s->cache);
	aw_inventory_free(&s->last);
	pthread_mutex_destroy(&s->lock);
	free(s);
	d->inventory = NULL;
}
