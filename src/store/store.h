/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The embedded audit store: SQLite in WAL mode, batched inserts, a schema
 * version table and retention limits. The daemon writes; the CLI opens the
 * same file read-only to answer queries even when the daemon is down.
 */
#ifndef AW_STORE_H
#define AW_STORE_H

#include <stddef.h>
#include <stdint.h>

struct aw_store;

/* A fully enriched event as the daemon hands it to the store. Strings may
 * be NULL where unknown. `json` is the complete event in the schema of
 * docs/events.md and is what `agentwall log --json` prints verbatim. */
struct aw_store_event {
	uint64_t time_ns; /* realtime */
	uint64_t session;
	const char *agent_id;
	const char *action; /* exec, fork, exit, session-start, ... */
	uint32_t pid;
	uint32_t ppid;
	uint32_t uid;
	const char *exe;
	const char *target;
	const char *decision;
	const char *rule;
	const char *text; /* one-line human rendering */
	const char *json;
};

struct aw_store_session {
	uint64_t session;
	const char *agent_id;
	const char *vendor;
	const char *product;
	const char *class;
	const char *version;
	uint32_t root_pid;
	uint64_t root_start_time; /* boottime ns, with pid identifies root */
	uint32_t uid;
	const char *exe;
	const char *argv;    /* space-joined, for display */
	const char *matched; /* what matched: rule and pattern */
	uint64_t started_ns;
	uint64_t ended_ns; /* 0 while live */
};

struct aw_store_limits {
	uint64_t max_events; /* oldest events pruned beyond this; 0 = none */
	uint64_t max_age_s;  /* events older than this pruned; 0 = none */
};

/* Open (creating the schema) for writing. Returns -errno, fills err. */
int aw_store_open(const char *path, const struct aw_store_limits *limits,
		  struct aw_store **ret, char *err, size_t errlen);
/* Open an existing store read-only (the CLI). */
int aw_store_open_ro(const char *path, struct aw_store **ret, char *err,
		     size_t errlen);
void aw_store_close(struct aw_store *s);

/* Inserts are queued in an open transaction; aw_store_flush commits. */
int aw_store_add_event(struct aw_store *s, const struct aw_store_event *e);
int aw_store_upsert_session(struct aw_store *s,
			    const struct aw_store_session *ss);
int aw_store_end_session(struct aw_store *s, uint64_t session,
			 uint64_t ended_ns);
/* Kernel drop counters as of now (cumulative per daemon boot). */
int aw_store_record_drops(struct aw_store *s, uint64_t time_ns,
			  uint64_t kernel_drops, uint64_t user_drops);
int aw_store_flush(struct aw_store *s);
/* Events accepted by aw_store_add_event and then lost to a failed commit
 * (disk full, I/O error): the daemon reports them as drops. */
uint64_t aw_store_lost(const struct aw_store *s);
/* Apply retention limits; returns rows removed or -errno. */
int aw_store_prune(struct aw_store *s, uint64_t now_ns);

/* Queries for `agentwall log`. All filters optional (NULL / 0). */
struct aw_store_query {
	uint64_t session;  /* 0 = any */
	const char *agent; /* agent id, or vendor, or class */
	const char *action;
	const char *decision;
	uint64_t since_ns, until_ns; /* 0 = unbounded */
	uint64_t limit;		     /* 0 = no limit */
	uint64_t after_id;	     /* only rows inserted after this one */
	uint64_t *last_id;	     /* if set: the id of each row handed out */
	int by_owner;		     /* only sessions whose root ran as: */
	uint32_t owner_uid;
};
/* Filter semantics: `agent` matches an event whose agent_id equals it or
 * starts with "<agent>." (a vendor: "openai" matches "openai.codex-cli"),
 * and every event of a session whose root agent has that id, vendor or
 * class (sessions table), sub-agents' events included. since_ns is
 * inclusive, until_ns exclusive. `limit` keeps the newest matches.
 * Returns the number of events delivered, the callback's negative value if
 * it stopped, or -errno. */
/* Calls cb for each matching event, oldest first. cb returns <0 to stop. */
int aw_store_query_events(struct aw_store *s, const struct aw_store_query *q,
			  int (*cb)(void *ud, const char *text,
				    const char *json),
			  void *ud);
int aw_store_count_events(struct aw_store *s, uint64_t *ret);
int aw_store_last_drops(struct aw_store *s, uint64_t *ret_kernel,
			uint64_t *ret_user);

#endif
