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

#define AW_CHAIN_HASH 32 /* SHA-256 */

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
	/* Optional: aw_store_event_digest() of this event, computed by the
	 * caller (on its own thread, off the insert path). NULL: the store
	 * computes it. */
	const uint8_t *digest;
};

/* A reusable SHA-256 context and buffer; one per thread that hashes. */
struct aw_chain_hasher;
int aw_chain_hasher_new(struct aw_chain_hasher **ret);
void aw_chain_hasher_free(struct aw_chain_hasher *h);
/* The content digest of an event as the store will hash it (docs/
 * events.md, "The hash chain"); 0 or -errno. */
int aw_store_event_digest(struct aw_chain_hasher *h,
			  const struct aw_store_event *e,
			  uint8_t ret[AW_CHAIN_HASH]);

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

/*
 * Tamper evidence (docs/events.md, "The hash chain"). Every event row
 * carries chain = SHA-256(previous row's chain, the row's canonical
 * encoding); checkpoints (genesis, periodic, prune, and the head the
 * daemon moves at each commit) pin rows of the chain. Anyone with write
 * access can recompute a plain hash chain: compare the head with a copy
 * kept elsewhere (an anchor) to detect that.
 */
/* What is wrong at the first break, in the order verification meets
 * them. */
enum aw_chain_problem {
	AW_CHAIN_OK = 0,
	AW_CHAIN_NONE,	     /* no chain here (schema 1: not migrated yet) */
	AW_CHAIN_EDITED,     /* a row's fields do not match its hash */
	AW_CHAIN_MISSING,    /* ids skip: rows deleted */
	AW_CHAIN_REORDERED,  /* a genuine row under another row's id */
	AW_CHAIN_UNCHAINED,  /* a row without a hash inside the chain */
	AW_CHAIN_CHECKPOINT, /* a checkpoint disagrees with its row */
	AW_CHAIN_TRUNCATED,  /* rows a checkpoint or anchor names are gone */
	AW_CHAIN_APPENDED,   /* rows after the recorded head */
	AW_CHAIN_ANCHOR,     /* an anchor's hash differs from the row's */
	AW_CHAIN_INSERTED,   /* a row where the chain says none can be */
};

struct aw_chain_anchor {
	uint64_t id;
	uint8_t hash[AW_CHAIN_HASH];
};

struct aw_chain_report {
	enum aw_chain_problem problem;
	uint64_t verified;	     /* rows whose hash was recomputed */
	uint64_t first_id, last_id;  /* the verified range (0: none) */
	uint8_t head[AW_CHAIN_HASH]; /* the last verified row's hash */
	char start_kind[16];	     /* genesis or prune */
	uint64_t start_id;	     /* the chain is proved from here */
	uint8_t start_hash[AW_CHAIN_HASH];
	uint64_t pruned;	  /* chained rows pruned before start_id */
	uint64_t legacy;	  /* unchained rows from before the chain */
	uint64_t checkpoints;	  /* checkpoints compared with their rows */
	uint64_t anchors_checked; /* anchors compared */
	uint64_t anchors_pruned;  /* anchors before the verifiable range */
	/* The first broken row (bad_id 0: none to name, e.g. truncation
	 * past the end), and what is wrong with it. */
	uint64_t bad_id, bad_time_ns;
	char bad_action[32];
	char detail[384];
};

/* Prove the chain from the oldest checkpoint still verifiable (genesis,
 * or the newest prune checkpoint) to the newest row, in one read
 * snapshot, and check the anchors (row id + hash kept elsewhere) against
 * it. Returns 0 with ret->problem set (AW_CHAIN_OK when intact), or
 * -errno when the store could not be read. */
int aw_store_verify(struct aw_store *s, const struct aw_chain_anchor *anchors,
		    size_t n_anchors, struct aw_chain_report *ret);
/* The writer's committed head: the newest row's id and hash, and the
 * number of rows chained since genesis. Thread-safe (status). */
int aw_store_chain_head(struct aw_store *s, uint64_t *ret_id,
			uint8_t ret_hash[AW_CHAIN_HASH], uint64_t *ret_count);
/* hex: 2 * AW_CHAIN_HASH + 1 bytes. */
void aw_chain_hex(const uint8_t hash[AW_CHAIN_HASH], char *hex);
/* Parse 64 hex digits; 0 or -EINVAL. */
int aw_chain_unhex(const char *hex, uint8_t ret[AW_CHAIN_HASH]);
/* The newest event row id (0: none), for log --follow. */
int aw_store_last_id(struct aw_store *s, uint64_t *ret);

#endif
