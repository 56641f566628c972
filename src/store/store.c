// SPDX-License-Identifier: GPL-2.0-only
/*
 * The audit store: one SQLite file in WAL mode. The daemon is the only
 * writer; it queues inserts in an open transaction that aw_store_flush()
 * commits, so one fsync-free commit covers a whole batch of events. The CLI
 * opens the same file read-only and, thanks to WAL, reads the last committed
 * state without ever blocking the writer. A second, internal thread with
 * its own connection runs WAL checkpoints so that their copying and fsync
 * stay off the daemon's event loop (see store_ckpt below).
 *
 * Query semantics (struct aw_store_query):
 *  - session: exact match (0 = any).
 *  - agent: an event matches if its agent_id equals the filter, or starts
 *    with "<filter>." (a vendor: "openai" matches "openai.codex-cli"), or if
 *    its session's root agent (sessions table) has that id, vendor or
 *    class. So "--agent openai.codex-cli" shows whole Codex sessions,
 *    including what their sub-agents (MCP servers...) did, and "--agent
 *    coding" shows every session of a coding-class agent.
 *  - action, decision: exact match.
 *  - since_ns inclusive, until_ns exclusive (realtime ns, 0 = unbounded).
 *  - limit: the newest `limit` matching events, delivered oldest first.
 * "Oldest first" is insertion order (the daemon's drain order), which is
 * what the row id records.
 *
 * Session ids are u64 and may exceed INT64_MAX; SQLite integers are signed,
 * so they are stored as the two's-complement reinterpretation and converted
 * back on the way out. Equality, which is all we need on them, survives.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/chain.h"
#include "store/store.h"

/* 1: events, sessions, drops. 2: the hash chain (events.chain and
 * chain_checkpoints); a version 1 store is migrated on open, its rows
 * kept before the chain's genesis, unchained. */
#define STORE_SCHEMA_VERSION 2
/* A periodic checkpoint at the first commit past every this many
 * chained rows: fixed points of the chain between prunes. */
#define CHAIN_PERIODIC_ROWS 65536
/* Long enough to ride out a checkpoint or a reader's WAL recovery, short
 * enough that a wedged peer shows up as an error, not a hang. */
#define STORE_BUSY_TIMEOUT_MS 5000
/* The WAL is reset to this size after checkpoints, not left at its peak. */
#define STORE_WAL_LIMIT (64ll * 1024 * 1024)
/* Commit on our own beyond this many queued rows: bounds the transaction
 * (memory, WAL growth before a checkpoint can run, loss on a crash) when
 * events arrive faster than the caller's flush timer. */
#define STORE_BATCH_MAX 8192

/*
 * Checkpoints (copying committed WAL pages into the database file, with an
 * fsync) cost about as much as the inserts themselves. Done inline, as
 * SQLite's autocheckpoint does, they cap a batch writer near 130k events/s
 * here; done by a thread on its own connection they overlap with the next
 * batches (~220k/s). The writer asks for one after a commit leaves
 * CKPT_SOFT_BYTES in the WAL, and checkpoints inline itself past
 * CKPT_HARD_BYTES: back-pressure, so a checkpointer that cannot keep up
 * slows the writer instead of growing the WAL without bound.
 */
#define CKPT_SOFT_BYTES (8 << 20)
#define CKPT_HARD_BYTES (128 << 20)
/* Larger pages: fewer B-tree splits, WAL frames and checkpoint copies
 * for rows that are ~1 KiB of JSON and text each (+60% inserts/s over
 * 4 KiB here). Only takes effect when the file is created. */
#define STORE_PAGE_SIZE 16384

struct store_ckpt {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	sqlite3 *db;
	int soft_frames, hard_frames;
	int pending;
	int stop;
};

struct aw_store {
	sqlite3 *db;
	int readonly;
	struct aw_store_limits limits;
	struct store_ckpt *ckpt; /* NULL: SQLite checkpoints inline */
	unsigned pending;	 /* rows in the open transaction */
	uint64_t lost;		 /* rows rolled back by a failed commit */
	sqlite3_stmt *ins_event;
	sqlite3_stmt *upsert_session;
	sqlite3_stmt *end_session;
	sqlite3_stmt *ins_drops;
	sqlite3_stmt *begin;
	sqlite3_stmt *commit;
	/* The hash chain (writer only). head_* moves with each insert;
	 * committed_* is what the last commit made durable, restored when
	 * a batch is rolled back, and what status reports (under
	 * head_lock: read from the event loop while the writer thread
	 * commits). */
	struct aw_chain_hasher *hasher;
	sqlite3_stmt *upd_head;
	sqlite3_stmt *ins_checkpoint;
	uint64_t genesis_id;
	uint64_t next_id;
	uint64_t head_id;
	uint8_t head_hash[AW_CHAIN_HASH];
	uint64_t committed_next_id;
	pthread_mutex_t head_lock;
	int head_lock_init;
	uint64_t committed_id;
	uint8_t committed_hash[AW_CHAIN_HASH];
};

static const char schema_sql[] =
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY,"
    " time_ns INTEGER NOT NULL,"
    " session INTEGER NOT NULL,"
    " agent_id TEXT,"
    " action TEXT NOT NULL,"
    " pid INTEGER NOT NULL,"
    " ppid INTEGER NOT NULL,"
    " uid INTEGER NOT NULL,"
    " exe TEXT,"
    " target TEXT,"
    " decision TEXT,"
    " rule TEXT,"
    " text TEXT,"
    " json TEXT);"
    /* Only what the queries use: every index is paid for on each insert
     * of a stream that must sustain >= 200k events/s. The session index
     * also serves the agent filter's session join; the time index serves
     * --since/--until and age-based pruning. */
    "CREATE INDEX events_session ON events(session);"
    "CREATE INDEX events_time ON events(time_ns);"
    "CREATE TABLE sessions ("
    " session INTEGER PRIMARY KEY,"
    " agent_id TEXT,"
    " vendor TEXT,"
    " product TEXT,"
    " class TEXT,"
    " version TEXT,"
    " root_pid INTEGER NOT NULL,"
    " root_start_time INTEGER NOT NULL,"
    " uid INTEGER NOT NULL,"
    " exe TEXT,"
    " argv TEXT,"
    " matched TEXT,"
    " started_ns INTEGER NOT NULL,"
    " ended_ns INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE drops ("
    " time_ns INTEGER NOT NULL,"
    " kernel_drops INTEGER NOT NULL,"
    " user_drops INTEGER NOT NULL);";

/* sqlite result code to -errno. Most have no better name than EIO; the
 * few below tell the operator what to do about them. */
static int sql_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	default:
		return -EIO;
	}
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int store_fail(struct aw_store *s, int rc, char *err, size_t errlen,
		      const char *what)
{
	set_err(err, errlen, "%s: %s", what,
		s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
	return sql_errno(rc) ?: -EIO;
}

static int exec_sql(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static int select_i64(sqlite3 *db, const char *sql, int64_t *ret)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static int count_tables(sqlite3 *db, int64_t *ret)
{
	return select_i64(db,
			  "SELECT count(*) FROM sqlite_master "
			  "WHERE type = 'table'",
			  ret);
}

/* Read the schema version; 0 when the table does not exist yet. */
static int read_version(sqlite3 *db, int64_t *ret)
{
	int64_t n = 0, v = 0;
	int rc;

	rc = select_i64(db,
			"SELECT count(*) FROM sqlite_master WHERE "
			"type = 'table' AND name = 'schema_version'",
			&n);
	if (rc == SQLITE_OK && n)
		rc = select_i64(db, "SELECT max(version) FROM schema_version",
				&v);
	if (rc == SQLITE_OK)
		*ret = v;
	return rc;
}

static int check_version(int64_t v, const char *path, char *err, size_t errlen)
{
	if (v > STORE_SCHEMA_VERSION) {
		/* A newer agentwall wrote this file: guessing at its layout
		 * could corrupt an audit trail, so refuse and say why. */
		set_err(err, errlen,
			"%s: store schema version %lld is newer than this "
			"agentwall supports (%d); upgrade agentwall or use "
			"another state directory",
			path, (long long)v, STORE_SCHEMA_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (v < 1) {
		set_err(err, errlen,
			"%s: not an agentwall store (no schema version)", path);
		return -EINVAL;
	}
	return 0;
}

static int prepare(struct aw_store *s, const char *sql, sqlite3_stmt **ret)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
				NULL);
	if (rc != SQLITE_OK)
		return rc;
	*ret = st;
	return SQLITE_OK;
}

static int prepare_writer(struct aw_store *s)
{
	int rc;

	rc = prepare(s, "BEGIN IMMEDIATE", &s->begin);
	if (rc == SQLITE_OK)
		rc = prepare(s, "COMMIT", &s->commit);
	if (rc == SQLITE_OK)
		rc = prepare(s,
			     "INSERT INTO events (id, time_ns, session, "
			     "agent_id, action, pid, ppid, uid, exe, target, "
			     "decision, rule, text, json, chain) VALUES "
			     "(?14, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
			     "?11, ?12, ?13, ?15)",
			     &s->ins_event);
	if (rc == SQLITE_OK)
		rc = prepare(s,
			     "UPDATE chain_checkpoints SET row_id = ?1, "
			     "hash = ?2, time_ns = ?3, count = ?4 "
			     "WHERE kind = 'head'",
			     &s->upd_head);
	if (rc == SQLITE_OK)
		rc = prepare(s,
			     "INSERT INTO chain_checkpoints (kind, row_id, "
			     "hash, time_ns, count) VALUES (?1, ?2, ?3, ?4, "
			     "?5)",
			     &s->ins_checkpoint);
	if (rc == SQLITE_OK)
		rc = prepare(s,
			     "INSERT INTO sessions (session, agent_id, vendor, "
			     "product, class, version, root_pid, "
			     "root_start_time, uid, exe, argv, matched, "
			     "started_ns, ended_ns) VALUES (?1, ?2, ?3, ?4, "
			     "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
			     "ON CONFLICT (session) DO UPDATE SET "
			     "agent_id = excluded.agent_id, "
			     "vendor = excluded.vendor, "
			     "product = excluded.product, "
			     "class = excluded.class, "
			     "version = excluded.version, "
			     "root_pid = excluded.root_pid, "
			     "root_start_time = excluded.root_start_time, "
			     "uid = excluded.uid, exe = excluded.exe, "
			     "argv = excluded.argv, "
			     "matched = excluded.matched, "
			     "started_ns = excluded.started_ns, "
			     /* An update that does not know the end (0)
			      * must not reopen an ended session. */
			     "ended_ns = CASE WHEN excluded.ended_ns != 0 "
			     "THEN excluded.ended_ns ELSE sessions.ended_ns "
			     "END",
			     &s->upsert_session);
	if (rc == SQLITE_OK)
		rc = prepare(s,
			     "UPDATE sessions SET ended_ns = ?2 "
			     "WHERE session = ?1",
			     &s->end_session);
	if (rc == SQLITE_OK)
		rc = prepare(s,
			     "INSERT INTO drops (time_ns, kernel_drops, "
			     "user_drops) VALUES (?1, ?2, ?3)",
			     &s->ins_drops);
	return rc;
}

static uint64_t now_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int insert_checkpoint(sqlite3 *db, const char *kind, uint64_t row_id,
			     const uint8_t hash[AW_CHAIN_HASH],
			     uint64_t time_ns, uint64_t count)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db,
				"INSERT INTO chain_checkpoints (kind, row_id, "
				"hash, time_ns, count) VALUES (?1, ?2, ?3, "
				"?4, ?5)",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)row_id);
	sqlite3_bind_blob(st, 3, hash, AW_CHAIN_HASH, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)time_ns);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)count);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * Schema 1 -> 2: the hash chain. Rows already there stay as they are,
 * unchained: the genesis checkpoint records the last of them and how
 * many there were; the chain starts after it. The head checkpoint is
 * what each commit moves.
 */
static int migrate_chain(struct aw_store *s)
{
	struct aw_chain_hasher *h = NULL;
	uint8_t g[AW_CHAIN_HASH];
	int64_t last = 0, n = 0;
	uint64_t now = now_realtime_ns();
	int rc;

	rc = exec_sql(s->db,
		      "ALTER TABLE events ADD COLUMN chain BLOB;"
		      "CREATE TABLE chain_checkpoints ("
		      " seq INTEGER PRIMARY KEY,"
		      " kind TEXT NOT NULL," /* genesis periodic prune head */
		      " row_id INTEGER NOT NULL,"
		      " hash BLOB NOT NULL,"
		      " time_ns INTEGER NOT NULL,"
		      " count INTEGER NOT NULL);"
		      "INSERT INTO schema_version VALUES (2);");
	if (rc == SQLITE_OK)
		rc = select_i64(
		    s->db, "SELECT coalesce(max(id), 0) FROM events", &last);
	if (rc == SQLITE_OK)
		rc = select_i64(s->db, "SELECT count(*) FROM events", &n);
	if (rc != SQLITE_OK)
		return rc;
	if (aw_chain_hasher_new(&h) < 0)
		return SQLITE_NOMEM;
	if (chain_genesis_hash(h, (uint64_t)last, now, g) < 0)
		rc = SQLITE_ERROR;
	aw_chain_hasher_free(h);
	if (rc == SQLITE_OK)
		rc = insert_checkpoint(s->db, "genesis", (uint64_t)last, g, now,
				       (uint64_t)n);
	if (rc == SQLITE_OK)
		rc =
		    insert_checkpoint(s->db, "head", (uint64_t)last, g, now, 0);
	return rc;
}

/* Create the schema, or check an existing one, in one write transaction
 * so that two processes opening a fresh file cannot both create it. */
static int init_schema(struct aw_store *s, const char *path, char *err,
		       size_t errlen)
{
	int64_t v = 0;
	int rc, r;

	rc = exec_sql(s->db, "BEGIN IMMEDIATE");
	if (rc != SQLITE_OK)
		return store_fail(s, rc, err, errlen, "begin");
	rc = read_version(s->db, &v);
	if (rc != SQLITE_OK) {
		r = store_fail(s, rc, err, errlen, "reading schema version");
		goto rollback;
	}
	if (v == 0) {
		int64_t ntables = 0;

		/* Never add our tables to some other program's database. */
		rc = count_tables(s->db, &ntables);
		if (rc != SQLITE_OK) {
			r = store_fail(s, rc, err, errlen, path);
			goto rollback;
		}
		if (ntables) {
			r = check_version(0, path, err, errlen);
			goto rollback;
		}
		rc = exec_sql(s->db, schema_sql);
		if (rc == SQLITE_OK)
			rc = exec_sql(s->db,
				      "CREATE TABLE schema_version ("
				      " version INTEGER NOT NULL);"
				      "INSERT INTO schema_version VALUES (1);");
		if (rc != SQLITE_OK) {
			r = store_fail(s, rc, err, errlen, "creating schema");
			goto rollback;
		}
		v = 1;
	} else {
		r = check_version(v, path, err, errlen);
		if (r < 0)
			goto rollback;
	}
	if (v == 1) {
		rc = migrate_chain(s);
		if (rc != SQLITE_OK) {
			r = store_fail(s, rc, err, errlen,
				       "adding the hash chain (schema 2)");
			goto rollback;
		}
	}
	rc = exec_sql(s->db, "COMMIT");
	if (rc != SQLITE_OK) {
		r = store_fail(s, rc, err, errlen, "commit");
		goto rollback;
	}
	return 0;
rollback:
	exec_sql(s->db, "ROLLBACK");
	return r;
}

/* Apply a pragma and check that it took: journal_mode answers with the
 * mode in force rather than failing when it cannot switch. */
static int pragma_expect(sqlite3 *db, const char *sql, const char *want)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *got;
	int rc, ok = 0;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		got = sqlite3_column_text(st, 0);
		ok = got && !strcasecmp((const char *)got, want);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
		ok = 1;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_OK && !ok)
		rc = SQLITE_MISUSE;
	return rc;
}

static void *ckpt_main(void *arg)
{
	struct store_ckpt *c = arg;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->pending && !c->stop)
			pthread_cond_wait(&c->wake, &c->lock);
		if (c->stop)
			break;
		c->pending = 0;
		pthread_mutex_unlock(&c->lock);
		/* PASSIVE: never waits for the writer or readers; whatever
		 * it cannot copy now is copied next time. */
		sqlite3_wal_checkpoint_v2(
		    c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* Called by SQLite after each commit on the writer connection. */
static int ckpt_hook(void *ud, sqlite3 *db, const char *name, int frames)
{
	struct store_ckpt *c = ud;

	if (frames >= c->hard_frames) {
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE,
					  NULL, NULL);
	} else if (frames >= c->soft_frames) {
		pthread_mutex_lock(&c->lock);
		c->pending = 1;
		pthread_cond_signal(&c->wake);
		pthread_mutex_unlock(&c->lock);
	}
	return SQLITE_OK;
}

static void ckpt_stop(struct store_ckpt *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = 1;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	sqlite3_close_v2(c->db);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->wake);
	free(c);
}

/* Best effort: without the thread, SQLite's own autocheckpoint (inline,
 * slower) stays in force, which is correct, so failures are not errors. */
static void ckpt_start(struct aw_store *s, const char *path)
{
	struct store_ckpt *c = calloc(1, sizeof(*c));
	int64_t page = 0;
	sigset_t all, old;
	int r;

	/* Two connections used from two threads need a thread-safe build. */
	if (!c || !sqlite3_threadsafe()) {
		free(c);
		return;
	}
	/* The WAL hook counts frames, one page each; the limits are bytes. */
	if (select_i64(s->db, "PRAGMA page_size", &page) != SQLITE_OK ||
	    page < 512)
		page = 4096;
	c->soft_frames = (int)(CKPT_SOFT_BYTES / page);
	c->hard_frames = (int)(CKPT_HARD_BYTES / page);
	if (sqlite3_open_v2(path, &c->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		sqlite3_close_v2(c->db);
		free(c);
		return;
	}
	sqlite3_busy_timeout(c->db, STORE_BUSY_TIMEOUT_MS);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	/* The daemon takes its signals through a signalfd with them blocked;
	 * a thread with them unblocked would receive SIGTERM instead and
	 * die with the default action. Start it with everything blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&c->thread, NULL, ckpt_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		sqlite3_close_v2(c->db);
		pthread_mutex_destroy(&c->lock);
		pthread_cond_destroy(&c->wake);
		free(c);
		return;
	}
	s->ckpt = c;
	/* Replaces the autocheckpoint, which is itself a WAL hook. */
	sqlite3_wal_hook(s->db, ckpt_hook, c);
}

/*
 * Where the writer continues the chain: from the head checkpoint (the
 * last commit's), at the id after both it and the newest row. Rows
 * deleted or appended behind the daemon's back are thus not papered
 * over: the gap or the unchained rows stay for `log --verify` to name.
 */
static int load_head(struct aw_store *s)
{
	sqlite3_stmt *st = NULL;
	int64_t gid = 0, last = 0;
	int rc, found = 0;

	rc =
	    select_i64(s->db,
		       "SELECT coalesce(max(row_id), 0) FROM chain_checkpoints "
		       "WHERE kind = 'genesis'",
		       &gid);
	if (rc == SQLITE_OK)
		rc = select_i64(
		    s->db, "SELECT coalesce(max(id), 0) FROM events", &last);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(s->db,
					"SELECT row_id, hash FROM "
					"chain_checkpoints WHERE kind = 'head' "
					"ORDER BY seq DESC LIMIT 1",
					-1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_bytes(st, 1) == AW_CHAIN_HASH) {
		s->head_id = (uint64_t)sqlite3_column_int64(st, 0);
		memcpy(s->head_hash, sqlite3_column_blob(st, 1), AW_CHAIN_HASH);
		found = 1;
	}
	sqlite3_finalize(st);
	if (!found) {
		/* No head (edited away): continue from the genesis hash; the
		 * verifier reports the missing checkpoint either way. */
		s->head_id = (uint64_t)gid;
		if (chain_genesis_hash(s->hasher, (uint64_t)gid, 0,
				       s->head_hash) < 0)
			return SQLITE_ERROR;
	}
	s->genesis_id = (uint64_t)gid;
	s->next_id =
	    ((uint64_t)last > s->head_id ? (uint64_t)last : s->head_id) + 1;
	s->committed_next_id = s->next_id;
	s->committed_id = s->head_id;
	memcpy(s->committed_hash, s->head_hash, AW_CHAIN_HASH);
	return SQLITE_OK;
}

int aw_store_open(const char *path, const struct aw_store_limits *limits,
		  struct aw_store **ret, char *err, size_t errlen)
{
	struct aw_store *s;
	int rc, r, persist = 1;
	int64_t v = 0;
	char sql[160];

	if (!path || !ret)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (limits)
		s->limits = *limits;
	pthread_mutex_init(&s->head_lock, NULL);
	s->head_lock_init = 1;
	r = aw_chain_hasher_new(&s->hasher);
	if (r < 0) {
		set_err(err, errlen, "SHA-256: out of memory");
		goto fail;
	}
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				 SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		r = store_fail(s, rc, err, errlen, path);
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
	/* Keep -wal and -shm after the daemon closes the store: a CLI
	 * without write access to the directory can then still open it in
	 * WAL mode read-only (it cannot create those files itself). */
	sqlite3_file_control(s->db, NULL, SQLITE_FCNTL_PERSIST_WAL, &persist);

	/* Look before switching the journal mode, which rewrites the file
	 * header: a store from a newer agentwall is left exactly as it is. */
	rc = read_version(s->db, &v);
	if (rc != SQLITE_OK) {
		r = store_fail(s, rc, err, errlen, path);
		goto fail;
	}
	if (v > STORE_SCHEMA_VERSION) {
		r = check_version(v, path, err, errlen);
		goto fail;
	}
	snprintf(sql, sizeof(sql), "PRAGMA page_size = %d", STORE_PAGE_SIZE);
	rc = exec_sql(s->db, sql);
	if (rc != SQLITE_OK) {
		r = store_fail(s, rc, err, errlen, "page_size");
		goto fail;
	}
	rc = pragma_expect(s->db, "PRAGMA journal_mode = WAL", "wal");
	if (rc == SQLITE_MISUSE) {
		set_err(err, errlen,
			"%s: cannot switch to WAL mode (does the filesystem "
			"support shared memory mappings?)",
			path);
		r = -ENOTSUP;
		goto fail;
	}
	if (rc != SQLITE_OK) {
		r = store_fail(s, rc, err, errlen, "journal_mode");
		goto fail;
	}
	/* NORMAL in WAL mode: a power loss may lose the last commits, never
	 * corrupt the file, and commits cost no fsync. */
	snprintf(sql, sizeof(sql),
		 "PRAGMA synchronous = NORMAL;"
		 "PRAGMA journal_size_limit = %lld;"
		 "PRAGMA cache_size = -16384;"
		 "PRAGMA temp_store = MEMORY;",
		 STORE_WAL_LIMIT);
	rc = exec_sql(s->db, sql);
	if (rc != SQLITE_OK) {
		r = store_fail(s, rc, err, errlen, "pragma");
		goto fail;
	}
	r = init_schema(s, path, err, errlen);
	if (r < 0)
		goto fail;
	rc = prepare_writer(s);
	if (rc == SQLITE_OK)
		rc = load_head(s);
	if (rc != SQLITE_OK) {
		r = store_fail(s, rc, err, errlen, "prepare");
		goto fail;
	}
	ckpt_start(s, path);
	*ret = s;
	return 0;
fail:
	aw_store_close(s);
	return r;
}

/* A file: URI for path, every byte outside the unreserved set escaped. */
static char *path_uri(const char *path, const char *query)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(path), q = strlen(query);
	char *u, *p;

	u = malloc(n * 3 + q + sizeof("file:"));
	if (!u)
		return NULL;
	p = stpcpy(u, "file:");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)path[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("/-._~", c)) {
			*p++ = (char)c;
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 0xf];
		}
	}
	strcpy(p, query);
	return u;
}

static int open_ro_db(const char *path, int immutable, sqlite3 **ret)
{
	sqlite3 *db = NULL;
	char *uri = path_uri(path, immutable ? "?immutable=1" : "");
	int rc;

	if (!uri)
		return SQLITE_NOMEM;
	rc = sqlite3_open_v2(
	    uri, &db,
	    SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
	free(uri);
	if (rc != SQLITE_OK) {
		*ret = db; /* for the message; the caller closes it */
		return rc;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS);
	*ret = db;
	return SQLITE_OK;
}

int aw_store_open_ro(const char *path, struct aw_store **ret, char *err,
		     size_t errlen)
{
	struct aw_store *s;
	struct stat sb;
	char walpath[4096];
	int64_t v = 0;
	int rc, r;

	if (!path || !ret)
		return -EINVAL;
	/* SQLite would report a missing file as a bare "unable to open";
	 * say what it means instead. */
	if (stat(path, &sb) < 0) {
		r = -errno;
		if (r == -ENOENT)
			set_err(err, errlen,
				"%s: no store here (has agentwalld run with "
				"this state directory?)",
				path);
		else
			set_err(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	if (access(path, R_OK) < 0) {
		r = -errno;
		set_err(err, errlen,
			"%s: %s (the store is readable by root "
			"only?)",
			path, strerror(-r));
		return r;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->readonly = 1;
	rc = open_ro_db(path, 0, &s->db);
	if (rc == SQLITE_OK)
		rc = read_version(s->db, &v);
	if (((rc & 0xff) == SQLITE_CANTOPEN ||
	     (rc & 0xff) == SQLITE_READONLY) &&
	    snprintf(walpath, sizeof(walpath), "%s-wal", path) <
		(int)sizeof(walpath) &&
	    access(walpath, F_OK) < 0 && errno == ENOENT) {
		/* A WAL reader must create the -shm when it is missing, and
		 * cannot where it may not write. Without a -wal no writer
		 * has the store open (the daemon keeps it while running),
		 * so the file alone is the whole, unchanging state. */
		sqlite3_close_v2(s->db);
		s->db = NULL;
		rc = open_ro_db(path, 1, &s->db);
		if (rc == SQLITE_OK)
			rc = read_version(s->db, &v);
	}
	if (rc != SQLITE_OK) {
		r = store_fail(s, rc, err, errlen, path);
		goto fail;
	}
	r = check_version(v, path, err, errlen);
	if (r < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	aw_store_close(s);
	return r;
}

void aw_store_close(struct aw_store *s)
{
	if (!s)
		return;
	if (s->db && !s->readonly && !sqlite3_get_autocommit(s->db))
		aw_store_flush(s);
	/* Before the writer: the last connection to close checkpoints the
	 * whole WAL, and that should be the writer, after its last commit. */
	if (s->ckpt) {
		sqlite3_wal_hook(s->db, NULL, NULL);
		ckpt_stop(s->ckpt);
	}
	sqlite3_finalize(s->ins_event);
	sqlite3_finalize(s->upsert_session);
	sqlite3_finalize(s->end_session);
	sqlite3_finalize(s->ins_drops);
	sqlite3_finalize(s->begin);
	sqlite3_finalize(s->commit);
	sqlite3_finalize(s->upd_head);
	sqlite3_finalize(s->ins_checkpoint);
	aw_chain_hasher_free(s->hasher);
	if (s->head_lock_init)
		pthread_mutex_destroy(&s->head_lock);
	/* close_v2 defers the close if a statement somehow survived, rather
	 * than leaking the connection. */
	sqlite3_close_v2(s->db);
	free(s);
}

/* Run a prepared statement that returns no rows and reset it. */
static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Open the batch transaction on first use. */
static int ensure_tx(struct aw_store *s)
{
	if (!s || !s->db)
		return -EINVAL;
	if (s->readonly)
		return -EROFS;
	if (!sqlite3_get_autocommit(s->db))
		return 0;
	return sql_errno(step_done(s->begin));
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	/* STATIC: the statement is stepped and reset before we return, and
	 * copying every json string would cost a malloc per event. */
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void bind_text_n(sqlite3_stmt *st, int i, const char *v, size_t n)
{
	if (v)
		sqlite3_bind_text(st, i, v, (int)n, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* u64 on disk as signed 64: SQLite has no unsigned integers. */
static sqlite3_int64 u64_to_db(uint64_t v)
{
	return (sqlite3_int64)v;
}

static uint64_t clamp_i64(uint64_t v)
{
	return v > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : v;
}

/* The event as a chain_row: the integers as SQLite will hold them. */
static void event_row(const struct aw_store_event *e, struct chain_row *row)
{
	*row = (struct chain_row){
	    .time_ns = clamp_i64(e->time_ns),
	    .session = e->session,
	    .pid = e->pid,
	    .ppid = e->ppid,
	    .uid = e->uid,
	    .str = {e->agent_id, e->action, e->exe, e->target, e->decision,
		    e->rule, e->text, e->json},
	};
	for (int i = 0; i < CHAIN_N_STR; i++)
		row->len[i] = row->str[i] ? strlen(row->str[i]) : 0;
}

int aw_store_event_digest(struct aw_chain_hasher *h,
			  const struct aw_store_event *e,
			  uint8_t ret[AW_CHAIN_HASH])
{
	struct chain_row row;

	if (!h || !e || !e->action)
		return -EINVAL;
	event_row(e, &row);
	return chain_content_digest(h, &row, ret);
}

int aw_store_add_event(struct aw_store *s, const struct aw_store_event *e)
{
	/* Bound as text parameters 3, 4, 8..13. */
	static const int col[CHAIN_N_STR] = {3, 4, 8, 9, 10, 11, 12, 13};
	struct chain_row row;
	uint8_t content[AW_CHAIN_HASH], h[AW_CHAIN_HASH];
	sqlite3_stmt *st;
	int r;

	if (!e || !e->action)
		return -EINVAL;
	r = ensure_tx(s);
	if (r < 0)
		return r;
	/* Hashed exactly as stored, under the id we are about to give the
	 * row; the content digest from the caller when it made one. */
	event_row(e, &row);
	row.id = s->next_id;
	if (e->digest)
		memcpy(content, e->digest, AW_CHAIN_HASH);
	else
		r = chain_content_digest(s->hasher, &row, content);
	if (r == 0)
		r = chain_link(s->hasher, s->head_hash, row.id, content, h);
	if (r < 0)
		return r;
	st = s->ins_event;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)row.time_ns);
	sqlite3_bind_int64(st, 2, u64_to_db(e->session));
	sqlite3_bind_int64(st, 5, e->pid);
	sqlite3_bind_int64(st, 6, e->ppid);
	sqlite3_bind_int64(st, 7, e->uid);
	for (int i = 0; i < CHAIN_N_STR; i++)
		bind_text_n(st, col[i], row.str[i], row.len[i]);
	sqlite3_bind_int64(st, 14, (sqlite3_int64)row.id);
	sqlite3_bind_blob(st, 15, h, AW_CHAIN_HASH, SQLITE_STATIC);
	r = sql_errno(step_done(st));
	sqlite3_clear_bindings(st);
	if (r == 0) {
		s->head_id = row.id;
		memcpy(s->head_hash, h, AW_CHAIN_HASH);
		s->next_id++;
	}
	if (r == 0 && ++s->pending >= STORE_BATCH_MAX)
		r = aw_store_flush(s);
	return r;
}

int aw_store_upsert_session(struct aw_store *s,
			    const struct aw_store_session *ss)
{
	sqlite3_stmt *st;
	int r;

	if (!ss)
		return -EINVAL;
	r = ensure_tx(s);
	if (r < 0)
		return r;
	st = s->upsert_session;
	sqlite3_bind_int64(st, 1, u64_to_db(ss->session));
	bind_text(st, 2, ss->agent_id);
	bind_text(st, 3, ss->vendor);
	bind_text(st, 4, ss->product);
	bind_text(st, 5, ss->class);
	bind_text(st, 6, ss->version);
	sqlite3_bind_int64(st, 7, ss->root_pid);
	sqlite3_bind_int64(st, 8,
			   (sqlite3_int64)clamp_i64(ss->root_start_time));
	sqlite3_bind_int64(st, 9, ss->uid);
	bind_text(st, 10, ss->exe);
	bind_text(st, 11, ss->argv);
	bind_text(st, 12, ss->matched);
	sqlite3_bind_int64(st, 13, (sqlite3_int64)clamp_i64(ss->started_ns));
	sqlite3_bind_int64(st, 14, (sqlite3_int64)clamp_i64(ss->ended_ns));
	r = sql_errno(step_done(st));
	sqlite3_clear_bindings(st);
	return r;
}

int aw_store_end_session(struct aw_store *s, uint64_t session,
			 uint64_t ended_ns)
{
	sqlite3_stmt *st;
	int r;

	r = ensure_tx(s);
	if (r < 0)
		return r;
	st = s->end_session;
	sqlite3_bind_int64(st, 1, u64_to_db(session));
	sqlite3_bind_int64(st, 2, (sqlite3_int64)clamp_i64(ended_ns));
	return sql_errno(step_done(st));
}

int aw_store_record_drops(struct aw_store *s, uint64_t time_ns,
			  uint64_t kernel_drops, uint64_t user_drops)
{
	sqlite3_stmt *st;
	int r;

	r = ensure_tx(s);
	if (r < 0)
		return r;
	st = s->ins_drops;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)clamp_i64(time_ns));
	sqlite3_bind_int64(st, 2, (sqlite3_int64)clamp_i64(kernel_drops));
	sqlite3_bind_int64(st, 3, (sqlite3_int64)clamp_i64(user_drops));
	return sql_errno(step_done(st));
}

/* The head checkpoint moves in the batch's own transaction, so that it
 * always names the newest committed row; a periodic checkpoint is added
 * at the first commit past each CHAIN_PERIODIC_ROWS rows. */
static int chain_commit_head(struct aw_store *s)
{
	uint64_t now = now_realtime_ns(), count = s->head_id - s->genesis_id;
	sqlite3_stmt *st = s->upd_head;
	int rc;

	if (s->head_id == s->committed_id)
		return SQLITE_OK;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)s->head_id);
	sqlite3_bind_blob(st, 2, s->head_hash, AW_CHAIN_HASH, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)count);
	rc = step_done(st);
	if (rc != SQLITE_OK ||
	    (s->head_id - s->genesis_id) / CHAIN_PERIODIC_ROWS ==
		(s->committed_id - s->genesis_id) / CHAIN_PERIODIC_ROWS)
		return rc;
	st = s->ins_checkpoint;
	sqlite3_bind_text(st, 1, "periodic", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)s->head_id);
	sqlite3_bind_blob(st, 3, s->head_hash, AW_CHAIN_HASH, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)count);
	return step_done(st);
}

int aw_store_flush(struct aw_store *s)
{
	int rc;

	if (!s || !s->db)
		return -EINVAL;
	if (s->readonly || sqlite3_get_autocommit(s->db))
		return 0;
	rc = chain_commit_head(s);
	if (rc == SQLITE_OK)
		rc = step_done(s->commit);
	if (rc == SQLITE_OK) {
		s->pending = 0;
		pthread_mutex_lock(&s->head_lock);
		s->committed_id = s->head_id;
		memcpy(s->committed_hash, s->head_hash, AW_CHAIN_HASH);
		pthread_mutex_unlock(&s->head_lock);
		s->committed_next_id = s->next_id;
		return 0;
	}
	/* COMMIT can fail with BUSY and leave the transaction open, to be
	 * retried by the next flush. Anything else (disk full, I/O error)
	 * loses the batch: roll back rather than keep growing a transaction
	 * that can never commit. */
	if ((rc & 0xff) != SQLITE_BUSY && !sqlite3_get_autocommit(s->db))
		exec_sql(s->db, "ROLLBACK");
	if (sqlite3_get_autocommit(s->db)) {
		/* Counted, so the daemon reports the loss as a drop. */
		s->lost += s->pending;
		s->pending = 0;
		/* The chain goes on from the last row that is stored. */
		s->head_id = s->committed_id;
		memcpy(s->head_hash, s->committed_hash, AW_CHAIN_HASH);
		s->next_id = s->committed_next_id;
	}
	return sql_errno(rc) ?: -EIO;
}

/* Run a DELETE with up to two int64 parameters; add the rows removed. */
static int delete_rows(struct aw_store *s, const char *sql, int nparams,
		       sqlite3_int64 a, sqlite3_int64 b, uint64_t *count)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	if (nparams > 0)
		sqlite3_bind_int64(st, 1, a);
	if (nparams > 1)
		sqlite3_bind_int64(st, 2, b);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return rc;
	if (count)
		*count += (uint64_t)sqlite3_changes64(s->db);
	return SQLITE_OK;
}

/* The id of the oldest event to keep under max_events, or 0 if all fit. */
static int count_cutoff(struct aw_store *s, uint64_t keep, sqlite3_int64 *ret)
{
	sqlite3_stmt *st = NULL;
	sqlite3_int64 id = 0;
	int rc;

	rc = sqlite3_prepare_v2(s->db,
				"SELECT id FROM events ORDER BY id DESC "
				"LIMIT 1 OFFSET ?1",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)clamp_i64(keep - 1));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_OK)
		*ret = id;
	return rc;
}

/* The newest event older than cutoff_ns (0: none). */
static int age_cutoff(struct aw_store *s, uint64_t cutoff_ns,
		      sqlite3_int64 *ret)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(s->db,
				"SELECT coalesce(max(id), 0) FROM events "
				"WHERE time_ns < ?1",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)cutoff_ns);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * Before retention removes chained rows up to `upto`, a prune checkpoint
 * records the last of them and its hash: the rest of the chain is then
 * proved from there. Older periodic and prune checkpoints name rows that
 * are gone, and go too (genesis and head stay).
 */
static int chain_prune_checkpoint(struct aw_store *s, sqlite3_int64 upto,
				  uint64_t now_ns)
{
	sqlite3_stmt *st = NULL;
	uint8_t h[AW_CHAIN_HASH];
	int rc, found = 0;

	if ((uint64_t)upto <= s->genesis_id)
		return SQLITE_OK; /* only rows from before the chain */
	rc = sqlite3_prepare_v2(s->db, "SELECT chain FROM events WHERE id = ?1",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, upto);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_bytes(st, 0) == AW_CHAIN_HASH) {
		memcpy(h, sqlite3_column_blob(st, 0), AW_CHAIN_HASH);
		found = 1;
	}
	sqlite3_finalize(st);
	/* (A row that is missing or has no hash is already a break the
	 * verifier names; nothing honest to record for it.) */
	if (!found)
		return SQLITE_OK;
	rc = delete_rows(s,
			 "DELETE FROM chain_checkpoints WHERE kind IN "
			 "('periodic', 'prune') AND row_id < ?1",
			 1, upto, 0, NULL);
	if (rc == SQLITE_OK)
		rc = insert_checkpoint(s->db, "prune", (uint64_t)upto, h,
				       now_ns, (uint64_t)upto - s->genesis_id);
	return rc;
}

int aw_store_prune(struct aw_store *s, uint64_t now_ns)
{
	uint64_t removed = 0, cutoff_ns = 0;
	sqlite3_int64 keep_from = 0, upto = 0;
	int rc = SQLITE_OK, r;

	if (!s || !s->db)
		return -EINVAL;
	if (s->readonly)
		return -EROFS;
	if (!s->limits.max_events && !s->limits.max_age_s)
		return 0;
	/* Pending inserts first, so that they count against the limits. */
	r = aw_store_flush(s);
	if (r < 0)
		return r;
	r = ensure_tx(s);
	if (r < 0)
		return r;
	if (s->limits.max_age_s) {
		uint64_t age = s->limits.max_age_s;

		age = age > UINT64_MAX / 1000000000ull ? UINT64_MAX
						       : age * 1000000000ull;
		cutoff_ns = now_ns > age ? clamp_i64(now_ns - age) : 0;
	}
	/* Rows go as a prefix by id, so that what remains is one unbroken
	 * stretch of the chain: by age, up to the newest row past the age
	 * (rows are in drain order, within milliseconds of time order). */
	if (cutoff_ns) {
		rc = age_cutoff(s, cutoff_ns, &upto);
		/* Drop counters and ended sessions age out the same way; the
		 * newest drop row stays so status can still show totals. */
		if (rc == SQLITE_OK)
			rc = delete_rows(s,
					 "DELETE FROM drops WHERE time_ns < ?1 "
					 "AND rowid < (SELECT max(rowid) "
					 "FROM drops)",
					 1, (sqlite3_int64)cutoff_ns, 0, NULL);
		if (rc == SQLITE_OK)
			rc = delete_rows(s,
					 "DELETE FROM sessions WHERE "
					 "ended_ns != 0 AND ended_ns < ?1",
					 1, (sqlite3_int64)cutoff_ns, 0, NULL);
	}
	if (rc == SQLITE_OK && s->limits.max_events)
		rc = count_cutoff(s, s->limits.max_events, &keep_from);
	if (keep_from > upto + 1)
		upto = keep_from - 1;
	if (rc == SQLITE_OK && upto > 0)
		rc = chain_prune_checkpoint(s, upto, now_ns);
	if (rc == SQLITE_OK && upto > 0) {
		rc = delete_rows(s, "DELETE FROM events WHERE id <= ?1", 1,
				 upto, 0, &removed);
		/* An ended session none of whose events remain has nothing
		 * left to explain. */
		if (rc == SQLITE_OK && removed && keep_from)
			rc = delete_rows(s,
					 "DELETE FROM sessions WHERE "
					 "ended_ns != 0 AND NOT EXISTS "
					 "(SELECT 1 FROM events WHERE "
					 "events.session = sessions.session)",
					 0, 0, 0, NULL);
	}
	if (rc != SQLITE_OK) {
		if (!sqlite3_get_autocommit(s->db))
			exec_sql(s->db, "ROLLBACK");
		return sql_errno(rc) ?: -EIO;
	}
	r = aw_store_flush(s);
	if (r < 0)
		return r;
	return removed > INT32_MAX ? INT32_MAX : (int)removed;
}

int aw_store_query_events(struct aw_store *s, const struct aw_store_query *q,
			  int (*cb)(void *ud, const char *text,
				    const char *json),
			  void *ud)
{
	static const struct aw_store_query none;
	char sql[1024];
	sqlite3_stmt *st = NULL;
	size_t n = 0;
	int rc, r = 0, count = 0;

	if (!s || !s->db || !cb)
		return -EINVAL;
	if (!q)
		q = &none;

		/* Fixed SQL fragments only; every value is bound, never pasted.
		 */
#define ADD(str)                                                               \
	do {                                                                   \
		size_t _l = strlen(str);                                       \
		if (n + _l >= sizeof(sql))                                     \
			return -E2BIG;                                         \
		memcpy(sql + n, str, _l + 1);                                  \
		n += _l;                                                       \
	} while (0)
	ADD("SELECT id, text, json FROM events WHERE 1");
	if (q->session)
		ADD(" AND session = :session");
	if (q->agent)
		ADD(" AND (agent_id = :agent"
		    " OR substr(agent_id, 1, length(:agent) + 1) = :agent || "
		    "'.'"
		    " OR session IN (SELECT session FROM sessions WHERE"
		    " agent_id = :agent OR vendor = :agent OR class = "
		    ":agent))");
	if (q->action)
		ADD(" AND action = :action");
	if (q->decision)
		ADD(" AND decision = :decision");
	if (q->since_ns)
		ADD(" AND time_ns >= :since");
	if (q->until_ns)
		ADD(" AND time_ns < :until");
	if (q->after_id)
		ADD(" AND id > :after");
	if (q->by_owner)
		ADD(" AND session IN (SELECT session FROM sessions WHERE"
		    " uid = :owner)");
	if (q->limit) {
		/* The newest `limit`, then turned around: oldest first. */
		char inner[sizeof(sql)];

		ADD(" ORDER BY id DESC LIMIT :limit");
		memcpy(inner, sql, n + 1);
		n = 0;
		ADD("SELECT id, text, json FROM (");
		ADD(inner);
		ADD(") ORDER BY id ASC");
	} else {
		ADD(" ORDER BY id ASC");
	}
#undef ADD

	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sql_errno(rc) ?: -EIO;
#define BIND_I64(name, v)                                                      \
	do {                                                                   \
		int _i = sqlite3_bind_parameter_index(st, name);               \
		if (_i)                                                        \
			sqlite3_bind_int64(st, _i, (v));                       \
	} while (0)
#define BIND_TEXT(name, v)                                                     \
	do {                                                                   \
		int _i = sqlite3_bind_parameter_index(st, name);               \
		if (_i)                                                        \
			sqlite3_bind_text(st, _i, (v), -1, SQLITE_STATIC);     \
	} while (0)
	BIND_I64(":session", u64_to_db(q->session));
	BIND_TEXT(":agent", q->agent);
	BIND_TEXT(":action", q->action);
	BIND_TEXT(":decision", q->decision);
	BIND_I64(":owner", (sqlite3_int64)q->owner_uid);
	BIND_I64(":since", (sqlite3_int64)clamp_i64(q->since_ns));
	BIND_I64(":until", (sqlite3_int64)clamp_i64(q->until_ns));
	BIND_I64(":limit", (sqlite3_int64)clamp_i64(q->limit));
	BIND_I64(":after", (sqlite3_int64)clamp_i64(q->after_id));
#undef BIND_I64
#undef BIND_TEXT

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(st, 1);
		const char *json = (const char *)sqlite3_column_text(st, 2);

		/* NULL from column_text is either SQL NULL or out of memory;
		 * callers print these, so hand them empty strings. */
		if (q->last_id)
			*q->last_id = (uint64_t)sqlite3_column_int64(st, 0);
		r = cb(ud, text ? text : "", json ? json : "");
		if (r < 0)
			break;
		if (count < INT32_MAX)
			count++;
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	if (rc != SQLITE_DONE)
		return sql_errno(rc) ?: -EIO;
	return count;
}

static int select_u64s(struct aw_store *s, const char *sql, int ncol,
		       uint64_t *v)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (!s || !s->db)
		return -EINVAL;
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sql_errno(rc) ?: -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		for (int i = 0; i < ncol; i++)
			v[i] = (uint64_t)sqlite3_column_int64(st, i);
		rc = SQLITE_DONE;
	} else if (rc == SQLITE_DONE) {
		for (int i = 0; i < ncol; i++)
			v[i] = 0;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : (sql_errno(rc) ?: -EIO);
}

int aw_store_count_events(struct aw_store *s, uint64_t *ret)
{
	uint64_t v;
	int r;

	r = select_u64s(s, "SELECT count(*) FROM events", 1, &v);
	if (r < 0)
		return r;
	*ret = v;
	return 0;
}

int aw_store_last_drops(struct aw_store *s, uint64_t *ret_kernel,
			uint64_t *ret_user)
{
	uint64_t v[2];
	int r;

	r = select_u64s(s,
			"SELECT kernel_drops, user_drops FROM drops "
			"ORDER BY rowid DESC LIMIT 1",
			2, v);
	if (r < 0)
		return r;
	if (ret_kernel)
		*ret_kernel = v[0];
	if (ret_user)
		*ret_user = v[1];
	return 0;
}

uint64_t aw_store_lost(const struct aw_store *s)
{
	return s ? s->lost : 0;
}

int aw_store_verify(struct aw_store *s, const struct aw_chain_anchor *anchors,
		    size_t n_anchors, struct aw_chain_report *ret)
{
	if (!s || !s->db || !ret || (n_anchors && !anchors))
		return -EINVAL;
	/* A writer's open batch is its own to commit first. */
	if (!sqlite3_get_autocommit(s->db))
		return -EBUSY;
	return chain_verify(s->db, anchors, n_anchors, ret);
}

int aw_store_chain_head(struct aw_store *s, uint64_t *ret_id,
			uint8_t ret_hash[AW_CHAIN_HASH], uint64_t *ret_count)
{
	if (!s || s->readonly || !s->head_lock_init)
		return -EINVAL;
	pthread_mutex_lock(&s->head_lock);
	if (ret_id)
		*ret_id = s->committed_id;
	if (ret_hash)
		memcpy(ret_hash, s->committed_hash, AW_CHAIN_HASH);
	if (ret_count)
		*ret_count = s->committed_id - s->genesis_id;
	pthread_mutex_unlock(&s->head_lock);
	return 0;
}

int aw_store_last_id(struct aw_store *s, uint64_t *ret)
{
	uint64_t v;
	int r;

	r = select_u64s(s, "SELECT coalesce(max(id), 0) FROM events", 1, &v);
	if (r < 0)
		return r;
	*ret = v;
	return 0;
}
