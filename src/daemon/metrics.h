/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon's counters, for the OpenMetrics endpoint (--metrics).
 *
 * metrics.c keeps them and formats them; it sits below every stage and
 * calls none of them: the stages count into it (emit.c at its single
 * emit point, egress.c per resolver query, events.c and sessions.c
 * around forcing) and the event loop publishes what only it can read
 * (kernel counters, the writer's queue) on its tick. metrics_http.c
 * serves the text on a thread of its own. Every aw_metrics_* call takes
 * a NULL struct (no --metrics) and then does nothing.
 */
#ifndef AW_DAEMON_METRICS_H
#define AW_DAEMON_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "agentwall_abi.h"
#include "shared/json.h"

struct aw_metrics;
struct aw_emit_info;

int aw_metrics_new(const char *version, const char *revision, const char *mode,
		   const char *backend, struct aw_metrics **ret);
void aw_metrics_free(struct aw_metrics *m);

/* emit.c: one event queued for the store (after aw_writer_add took it,
 * so that the counts are the store's). decision is the stored one;
 * session_agent the id of the session's agent, NULL if none. Called
 * from the event loop only (one writer: the counters need no lock). */
void aw_metrics_event(struct aw_metrics *m, const struct aw_emit_info *e,
		      const char *decision, const char *session_agent);

/* egress.c: one query to a session's resolver, by the policy's verdict. */
enum aw_metrics_dns {
	AW_METRICS_DNS_ALLOW,
	AW_METRICS_DNS_DENY,
	AW_METRICS_DNS_AUDIT,
	AW_METRICS_DNS_MALFORMED,
	AW_METRICS_DNS_MAX,
};
void aw_metrics_dns(struct aw_metrics *m, enum aw_metrics_dns verdict);

/* Forcing latency: the exec hook stopped the agent of session at
 * stop_ns (boottime, the exec record's time; events.c), and the forced
 * launcher was given that session at now_ns (sessions.c). */
void aw_metrics_force_stopped(struct aw_metrics *m, uint64_t session,
			      uint64_t stop_ns);
void aw_metrics_force_contained(struct aw_metrics *m, uint64_t session,
				uint64_t now_ns);

/* What the event loop reads on its tick (main.c). */
struct aw_metrics_sample {
	uint64_t kernel[AW_STAT_MAX]; /* aw_stats, summed over CPUs */
	uint64_t user_drops;	      /* events lost in user space */
	uint64_t queue_events, queue_bytes;
	uint64_t store_committed;
};
void aw_metrics_publish(struct aw_metrics *m,
			const struct aw_metrics_sample *s);
/* The ring buffer's positions, read at each scrape (a read-only mapping
 * of its two position pages, kernel.c). */
void aw_metrics_set_ring(struct aw_metrics *m, const uint64_t *consumer,
			 const uint64_t *producer, uint64_t size);

/* The exposition: OpenMetrics 1.0 text (openmetrics = 1, ending with
 * "# EOF") or the Prometheus text format 0.0.4. */
void aw_metrics_render(struct aw_metrics *m, struct aw_buf *b, int openmetrics);

/* metrics_http.c's refusals, by reason (counted in the exposition). */
enum aw_metrics_reject {
	AW_METRICS_REJ_BUSY,	/* all connection slots taken */
	AW_METRICS_REJ_TIMEOUT, /* request not complete in time */
	AW_METRICS_REJ_TOO_LARGE,
	AW_METRICS_REJ_BAD, /* not HTTP/1.x */
	AW_METRICS_REJ_METHOD,
	AW_METRICS_REJ_PATH,
	AW_METRICS_REJ_MAX,
};
void aw_metrics_rejected(struct aw_metrics *m, enum aw_metrics_reject why);

/* metrics_http.c: the endpoint. listen is "ADDR:PORT" ("[ADDR]:PORT"
 * for IPv6, "localhost:PORT"); an address that is not loopback is refused
 * unless allow_remote. */
int aw_metrics_parse_listen(const char *addr, int allow_remote,
			    struct sockaddr_storage *ret, socklen_t *ret_len,
			    char *err, size_t errlen);
struct aw_metrics_server;
int aw_metrics_serve(struct aw_metrics *m, const char *addr, int allow_remote,
		     struct aw_metrics_server **ret, char *err, size_t errlen);
void aw_metrics_server_stop(struct aw_metrics_server *s);

#endif
