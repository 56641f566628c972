// SPDX-License-Identifier: GPL-2.0-only
/*
 * The store writer: SQLite inserts on a thread of their own, so that the
 * event loop formats the next events on one CPU while the previous ones
 * are written on the other (in a storm the two halves cost about the
 * same).
 *
 * Double buffering: the event loop appends serialized events to `fill`;
 * the writer swaps it with its empty `drain`, inserts and commits. A full
 * `fill` makes the event loop wait: the kernel ring buffer then absorbs
 * the burst, and what it cannot hold is counted there as drops. Every
 * other use of the store from the event loop holds `store_lock`.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/writer.h"
#include "shared/json.h"
#include "shared/util.h"

#define N_STR 8

struct rec_hdr {
	uint64_t time_ns, session;
	uint32_t pid, ppid, uid;
	uint32_t len[N_STR]; /* with NUL; 0 = NULL */
	uint8_t digest[AW_CHAIN_HASH];
};

struct aw_writer {
	struct aw_store *store;
	pthread_t thread;
	pthread_mutex_t q_lock;
	pthread_cond_t q_cond; /* writer: work or stop */
	pthread_cond_t room;   /* event loop: fill has room again */
	pthread_mutex_t store_lock;
	struct aw_buf fill, drain;
	/* The events' content digests for the store's hash chain are made
	 * by aw_writer_add, on the caller's thread: the writer thread, the
	 * slower half of a storm, then only links them (store.h). */
	struct aw_chain_hasher *hasher;
	pthread_mutex_t hash_lock;
	size_t cap;
	size_t fill_count;
	int stop;
	uint64_t failed_insert; /* under store_lock: inserts that failed */
	uint64_t committed;	/* written under store_lock: events committed */
	uint64_t failed_queue;	/* under q_lock: events not queued (no mem) */
};

static size_t insert_all(struct aw_writer *w, const struct aw_buf *b)
{
	size_t off = 0, n = 0;

	while (off + sizeof(struct rec_hdr) <= b->len) {
		struct rec_hdr h;
		const char *str[N_STR];
		struct aw_store_event e;

		memcpy(&h, b->data + off, sizeof(h));
		off += sizeof(h);
		for (int i = 0; i < N_STR; i++) {
			str[i] = h.len[i] ? b->data + off : NULL;
			off += h.len[i];
		}
		e = (struct aw_store_event){
		    .time_ns = h.time_ns,
		    .session = h.session,
		    .pid = h.pid,
		    .ppid = h.ppid,
		    .uid = h.uid,
		    .agent_id = str[0],
		    .action = str[1],
		    .exe = str[2],
		    .target = str[3],
		    .decision = str[4],
		    .rule = str[5],
		    .text = str[6],
		    .json = str[7],
		    .digest = h.digest,
		};
		if (aw_store_add_event(w->store, &e) < 0)
			w->failed_insert++;
		else
			n++;
	}
	return n;
}

static void *writer_main(void *arg)
{
	struct aw_writer *w = arg;

	aw_thread_background();
	pthread_mutex_lock(&w->q_lock);
	for (;;) {
		struct aw_buf tmp;
		struct timespec ts;

		if (!w->fill.len && !w->stop) {
			/* Wake at least every 200 ms: the commit interval. */
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 200000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&w->q_cond, &w->q_lock, &ts);
		}
		if (!w->fill.len && w->stop)
			break;
		tmp = w->fill;
		w->fill = w->drain;
		w->drain = tmp;
		w->fill_count = 0;
		pthread_cond_broadcast(&w->room);
		pthread_mutex_unlock(&w->q_lock);

		pthread_mutex_lock(&w->store_lock);
		{
			size_t n = insert_all(w, &w->drain);

			/* (Read without the lock: aw_writer_committed.) */
			if (aw_store_flush(w->store) == 0)
				__atomic_store_n(&w->committed,
						 w->committed + n,
						 __ATOMIC_RELAXED);
		}
		pthread_mutex_unlock(&w->store_lock);
		aw_buf_reset(&w->drain);

		pthread_mutex_lock(&w->q_lock);
	}
	pthread_mutex_unlock(&w->q_lock);
	return NULL;
}

int aw_writer_start(struct aw_store *store, size_t cap, struct aw_writer **ret)
{
	struct aw_writer *w = calloc(1, sizeof(*w));
	sigset_t all, old;
	int r;

	if (!w)
		return -ENOMEM;
	w->store = store;
	w->cap = cap;
	r = aw_chain_hasher_new(&w->hasher);
	if (r < 0) {
		free(w);
		return r;
	}
	pthread_mutex_init(&w->hash_lock, NULL);
	pthread_mutex_init(&w->q_lock, NULL);
	pthread_mutex_init(&w->store_lock, NULL);
	pthread_cond_init(&w->q_cond, NULL);
	pthread_cond_init(&w->room, NULL);
	/* Signals stay with the event loop's signalfd. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&w->thread, NULL, writer_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		aw_chain_hasher_free(w->hasher);
		pthread_mutex_destroy(&w->hash_lock);
		free(w);
		return -r;
	}
	*ret = w;
	return 0;
}

int aw_writer_add(struct aw_writer *w, const struct aw_store_event *e)
{
	const char *str[N_STR] = {e->agent_id, e->action, e->exe,  e->target,
				  e->decision, e->rule,	  e->text, e->json};
	struct rec_hdr h = {
	    .time_ns = e->time_ns,
	    .session = e->session,
	    .pid = e->pid,
	    .ppid = e->ppid,
	    .uid = e->uid,
	};
	size_t need = sizeof(h);
	int r;

	pthread_mutex_lock(&w->hash_lock);
	r = aw_store_event_digest(w->hasher, e, h.digest);
	pthread_mutex_unlock(&w->hash_lock);
	if (r < 0) {
		pthread_mutex_lock(&w->q_lock);
		w->failed_queue++;
		pthread_mutex_unlock(&w->q_lock);
		return r;
	}
	for (int i = 0; i < N_STR; i++) {
		h.len[i] = str[i] ? strlen(str[i]) + 1 : 0;
		need += h.len[i];
	}
	pthread_mutex_lock(&w->q_lock);
	while (w->fill.len && w->fill.len + need > w->cap && !w->stop)
		pthread_cond_wait(&w->room, &w->q_lock);
	aw_buf_add(&w->fill, (const char *)&h, sizeof(h));
	for (int i = 0; i < N_STR; i++)
		if (str[i])
			aw_buf_add(&w->fill, str[i], h.len[i]);
	if (w->fill.oom) {
		/* The whole pending batch is lost: count it, start over. */
		w->failed_queue += w->fill_count + 1;
		aw_buf_free(&w->fill);
		w->fill_count = 0;
		pthread_mutex_unlock(&w->q_lock);
		return -ENOMEM;
	}
	/* Wake the writer once a batch is worth it; else its timer does. */
	if (++w->fill_count == 4096)
		pthread_cond_signal(&w->q_cond);
	pthread_mutex_unlock(&w->q_lock);
	return 0;
}

void aw_writer_store_lock(struct aw_writer *w)
{
	pthread_mutex_lock(&w->store_lock);
}

void aw_writer_store_unlock(struct aw_writer *w)
{
	pthread_mutex_unlock(&w->store_lock);
}

uint64_t aw_writer_lost(struct aw_writer *w)
{
	uint64_t n;

	pthread_mutex_lock(&w->store_lock);
	n = w->failed_insert + aw_store_lost(w->store);
	pthread_mutex_unlock(&w->store_lock);
	pthread_mutex_lock(&w->q_lock);
	n += w->failed_queue;
	pthread_mutex_unlock(&w->q_lock);
	return n;
}

void aw_writer_queue(struct aw_writer *w, uint64_t *ret_events,
		     uint64_t *ret_bytes)
{
	pthread_mutex_lock(&w->q_lock);
	*ret_events = w->fill_count;
	*ret_bytes = w->fill.len;
	pthread_mutex_unlock(&w->q_lock);
}

uint64_t aw_writer_committed(struct aw_writer *w)
{
	/* Not under store_lock, which the writer holds for a whole batch:
	 * the metrics' sample must not wait for a commit. */
	return __atomic_load_n(&w->committed, __ATOMIC_RELAXED);
}

void aw_writer_stop(struct aw_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->q_lock);
	w->stop = 1;
	pthread_cond_signal(&w->q_cond);
	pthread_cond_broadcast(&w->room);
	pthread_mutex_unlock(&w->q_lock);
	pthread_join(w->thread, NULL);
	aw_buf_free(&w->fill);
	aw_buf_free(&w->drain);
	pthread_mutex_destroy(&w->q_lock);
	pthread_mutex_destroy(&w->store_lock);
	pthread_cond_destroy(&w->q_cond);
	pthread_cond_destroy(&w->room);
	aw_chain_hasher_free(w->hasher);
	pthread_mutex_destroy(&w->hash_lock);
	free(w);
}
