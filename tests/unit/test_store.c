// SPDX-License-Identifier: GPL-2.0-only
/*
 * The audit store against a real SQLite file in a private temporary
 * directory: schema, batching, every query filter, retention, read-only
 * access, and insert throughput (printed, not asserted: it depends on the
 * machine).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/chain.h"
#include "store/store.h"

#define SEC 1000000000ull
#define T0 (1795849408ull * SEC)
#define BIG_SESSION 0xfedcba9876543210ull /* > INT64_MAX */

struct fixture {
	char dir[64];
	char path[128];
	struct aw_store *st;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/aw-store-test.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/events.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
	char p[160];

	aw_store_close(f->st);
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, sfx[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct aw_store *open_rw(struct fixture *f, uint64_t max_events,
				uint64_t max_age_s)
{
	struct aw_store_limits lim = {.max_events = max_events,
				      .max_age_s = max_age_s};
	char err[256] = "";
	int r;

	r = aw_store_open(f->path, &lim, &f->st, err, sizeof(err));
	if (r < 0)
		print_error("aw_store_open: %d %s\n", r, err);
	assert_int_equal(r, 0);
	assert_non_null(f->st);
	return f->st;
}

/* Collected query results. */
struct rows {
	size_t n;
	char *text[64];
	char *json[64];
	int stop_after; /* 0 = never */
};

static int collect(void *ud, const char *text, const char *json)
{
	struct rows *r = ud;

	if (r->n < 64) {
		r->text[r->n] = strdup(text);
		r->json[r->n] = strdup(json);
	}
	r->n++;
	if (r->stop_after && r->n >= (size_t)r->stop_after)
		return -ECANCELED;
	return 0;
}

static void rows_free(struct rows *r)
{
	for (size_t i = 0; i < r->n && i < 64; i++) {
		free(r->text[i]);
		free(r->json[i]);
	}
	memset(r, 0, sizeof(*r));
}

static int query(struct aw_store *st, const struct aw_store_query *q,
		 struct rows *r)
{
	int stop_after = r->stop_after;

	rows_free(r);
	r->stop_after = stop_after;
	return aw_store_query_events(st, q, collect, r);
}

static void add(struct aw_store *st, uint64_t t, uint64_t session,
		const char *agent, const char *action, const char *decision,
		const char *text)
{
	struct aw_store_event e = {
	    .time_ns = t,
	    .session = session,
	    .agent_id = agent,
	    .action = action,
	    .pid = 100,
	    .ppid = 1,
	    .uid = 1000,
	    .exe = "/usr/bin/node",
	    .target = "/bin/sh",
	    .decision = decision,
	    .rule = "observe",
	    .text = text,
	    .json = text,
	};

	assert_int_equal(aw_store_add_event(st, &e), 0);
}

static void session(struct aw_store *st, uint64_t id, const char *agent,
		    const char *vendor, const char *class, uint64_t ended)
{
	struct aw_store_session s = {
	    .session = id,
	    .agent_id = agent,
	    .vendor = vendor,
	    .product = "product",
	    .class = class,
	    .version = NULL,
	    .root_pid = 100,
	    .root_start_time = 12345,
	    .uid = 1000,
	    .exe = "/usr/bin/node",
	    .argv = "node codex.js",
	    .matched = "signature/x:match[0]",
	    .started_ns = T0,
	    .ended_ns = ended,
	};

	assert_int_equal(aw_store_upsert_session(st, &s), 0);
}

static uint64_t count(struct aw_store *st)
{
	uint64_t n = 12345;

	assert_int_equal(aw_store_count_events(st, &n), 0);
	return n;
}

static void test_open_insert_flush(void **state)
{
	struct fixture *f = *state;
	struct aw_store *st = open_rw(f, 0, 0);
	struct rows r = {};

	assert_int_equal(count(st), 0);
	add(st, T0, 1, "openai.codex-cli", "exec", "allow", "e1");
	add(st, T0 + 1, 1, "openai.codex-cli", "fork", "allow", "e2");
	/* The writer sees its own batch before the commit. */
	assert_int_equal(count(st), 2);
	assert_int_equal(aw_store_flush(st), 0);
	assert_int_equal(aw_store_flush(st), 0); /* nothing open: no-op */
	assert_int_equal(query(st, NULL, &r), 2);
	assert_string_equal(r.text[0], "e1");
	assert_string_equal(r.text[1], "e2");

	/* Reopening keeps the rows, and the schema is not recreated. */
	aw_store_close(st);
	f->st = NULL;
	st = open_rw(f, 0, 0);
	assert_int_equal(count(st), 2);

	/* close commits what is pending. */
	add(st, T0 + 2, 1, "openai.codex-cli", "exit", "allow", "e3");
	aw_store_close(st);
	f->st = NULL;
	st = open_rw(f, 0, 0);
	assert_int_equal(count(st), 3);

	/* A stopping callback's code comes back. */
	r.stop_after = 1;
	assert_int_equal(query(st, NULL, &r), -ECANCELED);
	assert_int_equal(r.n, 1);
	rows_free(&r);
}

static void test_query_filters(void **state)
{
	struct fixture *f = *state;
	struct aw_store *st = open_rw(f, 0, 0);
	struct aw_store_query q = {};
	struct rows r = {};

	session(st, 1, "openai.codex-cli", "openai", "coding", 0);
	session(st, 2, "anthropic.claude-code", "anthropic", "coding", 0);
	session(st, 3, "openai.chatgpt-desktop", "openai", "assistant", 0);
	add(st, T0 + 0 * SEC, 1, "openai.codex-cli", "exec", "allow", "a");
	add(st, T0 + 1 * SEC, 1, "mcp.filesystem", "exec", "allow", "b");
	add(st, T0 + 2 * SEC, 2, "anthropic.claude-code", "fork", "allow", "c");
	add(st, T0 + 3 * SEC, 2, "anthropic.claude-code", "exec", "deny", "d");
	add(st, T0 + 4 * SEC, 3, "openai.chatgpt-desktop", "exit", "allow",
	    "e");
	add(st, T0 + 5 * SEC, 0, NULL, "drop", "allow", "f");
	add(st, T0 + 6 * SEC, 4, "openaix.other", "exec", "allow", "g");
	assert_int_equal(aw_store_flush(st), 0);

	q.session = 2;
	assert_int_equal(query(st, &q, &r), 2);
	assert_string_equal(r.text[0], "c");
	assert_string_equal(r.text[1], "d");

	/* Exact agent id, plus the events of sessions that agent roots
	 * (its sub-agent's "b" included). */
	q = (struct aw_store_query){.agent = "openai.codex-cli"};
	assert_int_equal(query(st, &q, &r), 2);
	assert_string_equal(r.text[0], "a");
	assert_string_equal(r.text[1], "b");

	/* A sub-agent by its own id. */
	q = (struct aw_store_query){.agent = "mcp.filesystem"};
	assert_int_equal(query(st, &q, &r), 1);
	assert_string_equal(r.text[0], "b");

	/* Vendor: "openai" matches "openai.*", not "openaix.*". */
	q = (struct aw_store_query){.agent = "openai"};
	assert_int_equal(query(st, &q, &r), 3);
	assert_string_equal(r.text[0], "a");
	assert_string_equal(r.text[1], "b");
	assert_string_equal(r.text[2], "e");

	/* Class, through the sessions table. */
	q = (struct aw_store_query){.agent = "coding"};
	assert_int_equal(query(st, &q, &r), 4);
	assert_string_equal(r.text[3], "d");
	q = (struct aw_store_query){.agent = "assistant"};
	assert_int_equal(query(st, &q, &r), 1);
	assert_string_equal(r.text[0], "e");
	q = (struct aw_store_query){.agent = "nobody"};
	assert_int_equal(query(st, &q, &r), 0);
	/* LIKE metacharacters are not special. */
	q = (struct aw_store_query){.agent = "%"};
	assert_int_equal(query(st, &q, &r), 0);

	q = (struct aw_store_query){.action = "exec"};
	assert_int_equal(query(st, &q, &r), 4);
	q = (struct aw_store_query){.decision = "deny"};
	assert_int_equal(query(st, &q, &r), 1);
	assert_string_equal(r.text[0], "d");
	q = (struct aw_store_query){.action = "exec", .decision = "allow"};
	assert_int_equal(query(st, &q, &r), 3);

	/* since inclusive, until exclusive. */
	q = (struct aw_store_query){.since_ns = T0 + 2 * SEC,
				    .until_ns = T0 + 4 * SEC};
	assert_int_equal(query(st, &q, &r), 2);
	assert_string_equal(r.text[0], "c");
	assert_string_equal(r.text[1], "d");
	q = (struct aw_store_query){.since_ns = T0 + 6 * SEC};
	assert_int_equal(query(st, &q, &r), 1);
	q = (struct aw_store_query){.until_ns = T0 + 1};
	assert_int_equal(query(st, &q, &r), 1);
	/* A bound beyond INT64_MAX is clamped, not wrapped negative. */
	q = (struct aw_store_query){.until_ns = UINT64_MAX};
	assert_int_equal(query(st, &q, &r), 7);

	/* Combined filters. */
	q = (struct aw_store_query){
	    .agent = "coding", .action = "exec", .since_ns = T0 + 1 * SEC};
	assert_int_equal(query(st, &q, &r), 2);
	assert_string_equal(r.text[0], "b");
	assert_string_equal(r.text[1], "d");
	rows_free(&r);
}

static void test_query_limit(void **state)
{
	struct fixture *f = *state;
	struct aw_store *st = open_rw(f, 0, 0);
	struct aw_store_query q = {};
	struct rows r = {};
	char t[16];

	for (int i = 0; i < 10; i++) {
		snprintf(t, sizeof(t), "ev%d", i);
		add(st, T0 + (uint64_t)i, i % 2 + 1, "x.y", "exec", "allow", t);
	}
	assert_int_equal(aw_store_flush(st), 0);

	/* The last three, oldest first. */
	q.limit = 3;
	assert_int_equal(query(st, &q, &r), 3);
	assert_string_equal(r.text[0], "ev7");
	assert_string_equal(r.text[1], "ev8");
	assert_string_equal(r.text[2], "ev9");

	/* The last two of session 1 (even events). */
	q = (struct aw_store_query){.session = 1, .limit = 2};
	assert_int_equal(query(st, &q, &r), 2);
	assert_string_equal(r.text[0], "ev6");
	assert_string_equal(r.text[1], "ev8");

	q = (struct aw_store_query){.limit = 1000};
	assert_int_equal(query(st, &q, &r), 10);
	assert_string_equal(r.text[0], "ev0");
	q = (struct aw_store_query){.limit = UINT64_MAX};
	assert_int_equal(query(st, &q, &r), 10);
	rows_free(&r);
}

static void test_prune_count(void **state)
{
	struct fixture *f = *state;
	struct aw_store *st = open_rw(f, 5, 0);
	struct rows r = {};
	char t[16];

	/* An ended session whose events all go is pruned with them; a live
	 * one stays. */
	session(st, 1, "x.a", "x", "c", T0 + 1);
	session(st, 2, "x.b", "x", "c", 0);
	for (int i = 0; i < 12; i++) {
		snprintf(t, sizeof(t), "ev%d", i);
		add(st, T0 + (uint64_t)i, i < 4 ? 1 : 3, "x.y", "exec", "allow",
		    t);
	}
	/* prune commits the pending batch itself. */
	assert_int_equal(aw_store_prune(st, T0 + 100), 7);
	assert_int_equal(count(st), 5);
	assert_int_equal(query(st, NULL, &r), 5);
	assert_string_equal(r.text[0], "ev7");
	assert_string_equal(r.text[4], "ev11");
	assert_int_equal(aw_store_prune(st, T0 + 100), 0);

	{
		sqlite3 *db;
		sqlite3_stmt *s;

		assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
		assert_int_equal(
		    sqlite3_prepare_v2(db,
				       "SELECT group_concat(session) "
				       "FROM sessions",
				       -1, &s, NULL),
		    SQLITE_OK);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(s, 0),
				    "2");
		sqlite3_finalize(s);
		sqlite3_close(db);
	}
	rows_free(&r);
}

static void test_prune_age(void **state)
{
	struct fixture *f = *state;
	struct aw_store *st = open_rw(f, 0, 60);
	uint64_t now = T0 + 1000 * SEC;
	uint64_t k = 0, u = 0;
	struct rows r = {};

	add(st, now - 3600 * SEC, 1, "x.y", "exec", "allow", "old1");
	add(st, now - 61 * SEC, 1, "x.y", "exec", "allow", "old2");
	add(st, now - 60 * SEC, 1, "x.y", "exec", "allow", "edge");
	add(st, now - 1 * SEC, 1, "x.y", "exec", "allow", "new");
	assert_int_equal(aw_store_record_drops(st, now - 3600 * SEC, 1, 0), 0);
	assert_int_equal(aw_store_record_drops(st, now - 3000 * SEC, 2, 1), 0);
	assert_int_equal(aw_store_prune(st, now), 2);
	assert_int_equal(query(st, NULL, &r), 2);
	assert_string_equal(r.text[0], "edge");
	assert_string_equal(r.text[1], "new");
	/* The newest drop counters survive even when old. */
	assert_int_equal(aw_store_last_drops(st, &k, &u), 0);
	assert_int_equal(k, 2);
	assert_int_equal(u, 1);
	/* now earlier than the age: nothing to cut, no underflow. */
	assert_int_equal(aw_store_prune(st, 5), 0);
	assert_int_equal(count(st), 2);
	rows_free(&r);
}

static void test_prune_no_limits(void **state)
{
	struct fixture *f = *state;
	struct aw_store *st = open_rw(f, 0, 0);

	add(st, 1, 1, "x.y", "exec", "allow", "a");
	assert_int_equal(aw_store_prune(st, T0), 0);
	assert_int_equal(count(st), 1);
}

static void test_readonly(void **state)
{
	struct fixture *f = *state;
	struct aw_store *st = open_rw(f, 0, 0);
	struct aw_store *ro = NULL;
	struct aw_store_event e = {.action = "exec"};
	char err[256] = "";
	uint64_t k = 9, u = 9;
	struct rows r = {};

	add(st, T0, 1, "x.y", "exec", "allow", "committed");
	assert_int_equal(aw_store_record_drops(st, T0, 7, 3), 0);
	assert_int_equal(aw_store_flush(st), 0);
	add(st, T0 + 1, 1, "x.y", "exec", "allow", "pending");

	assert_int_equal(aw_store_open_ro(f->path, &ro, err, sizeof(err)), 0);
	/* The reader sees the last commit, not the writer's open batch. */
	assert_int_equal(count(ro), 1);
	assert_int_equal(query(ro, NULL, &r), 1);
	assert_string_equal(r.text[0], "committed");
	assert_int_equal(aw_store_last_drops(ro, &k, &u), 0);
	assert_int_equal(k, 7);
	assert_int_equal(u, 3);
	assert_int_equal(aw_store_flush(st), 0);
	assert_int_equal(count(ro), 2);

	/* Writes through a read-only handle are refused. */
	assert_int_equal(aw_store_add_event(ro, &e), -EROFS);
	assert_int_equal(aw_store_prune(ro, T0), -EROFS);
	assert_int_equal(aw_store_flush(ro), 0);
	aw_store_close(ro);
	ro = NULL;

	/* With the writer gone, the reader still opens the store. */
	aw_store_close(st);
	f->st = NULL;
	assert_int_equal(aw_store_open_ro(f->path, &ro, err, sizeof(err)), 0);
	assert_int_equal(count(ro), 2);
	aw_store_close(ro);
	rows_free(&r);
}

static void test_readonly_missing(void **state)
{
	struct fixture *f = *state;
	struct aw_store *ro = (struct aw_store *)0x1;
	char err[256] = "";

	assert_int_equal(aw_store_open_ro(f->path, &ro, err, sizeof(err)),
			 -ENOENT);
	assert_true(ro == (struct aw_store *)0x1); /* untouched */
	assert_non_null(strstr(err, "no store"));
	assert_non_null(strstr(err, f->path));
	/* And it did not create one. */
	assert_int_equal(access(f->path, F_OK), -1);
}

static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_newer_schema_refused(void **state)
{
	struct fixture *f = *state;
	struct aw_store *st = open_rw(f, 0, 0);
	struct aw_store *other = NULL;
	char err[256] = "";

	aw_store_close(st);
	f->st = NULL;
	raw_exec(f->path, "INSERT INTO schema_version VALUES (3)");

	assert_int_equal(aw_store_open(f->path, NULL, &other, err, sizeof(err)),
			 -EPROTONOSUPPORT);
	assert_null(other);
	assert_non_null(strstr(err, "newer"));
	assert_non_null(strstr(err, "version 3"));
	err[0] = 0;
	assert_int_equal(aw_store_open_ro(f->path, &other, err, sizeof(err)),
			 -EPROTONOSUPPORT);
	assert_null(other);
	assert_non_null(strstr(err, "newer"));
}

static void test_foreign_database_refused(void **state)
{
	struct fixture *f = *state;
	struct aw_store *st = NULL;
	char err[256] = "";

	raw_exec(f->path, "CREATE TABLE mine (x)");
	assert_int_equal(aw_store_open(f->path, NULL, &st, err, sizeof(err)),
			 -EINVAL);
	assert_null(st);
	assert_non_null(strstr(err, "not an agentwall store"));
	assert_int_equal(aw_store_open_ro(f->path, &st, err, sizeof(err)),
			 -EINVAL);

	/* Not SQLite at all: an error with sqlite's own words. */
	{
		FILE *fp = fopen(f->path, "w");

		assert_non_null(fp);
		fputs("this is not a database, but it is long enough to have "
		      "a header the size of one. this is not a database, but "
		      "it is long enough to have a header",
		      fp);
		fclose(fp);
	}
	err[0] = 0;
	assert_true(aw_store_open(f->path, NULL, &st, err, sizeof(err)) < 0);
	assert_null(st);
	assert_true(err[0] != 0);
}

static void test_u64_session(void **state)
{
	struct fixture *f = *state;
	struct aw_store *st = open_rw(f, 0, 0);
	struct aw_store_query q = {.session = BIG_SESSION};
	struct rows r = {};
	sqlite3 *db;
	sqlite3_stmt *s;

	session(st, BIG_SESSION, "openai.codex-cli", "openai", "coding", 0);
	add(st, T0, BIG_SESSION, "openai.codex-cli", "exec", "allow", "big");
	add(st, T0, UINT64_MAX, "openai.codex-cli", "exec", "allow", "max");
	add(st, T0, 1, "openai.codex-cli", "exec", "allow", "small");
	assert_int_equal(aw_store_end_session(st, BIG_SESSION, T0 + SEC), 0);
	assert_int_equal(aw_store_flush(st), 0);

	assert_int_equal(query(st, &q, &r), 1);
	assert_string_equal(r.text[0], "big");
	q.session = UINT64_MAX;
	assert_int_equal(query(st, &q, &r), 1);
	assert_string_equal(r.text[0], "max");

	/* On disk: the signed reinterpretation, converting back exactly. */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT s.session, s.ended_ns, "
					    "e.session FROM sessions s, "
					    "events e WHERE e.text = 'big'",
					    -1, &s, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_true(sqlite3_column_int64(s, 0) < 0);
	assert_true((uint64_t)sqlite3_column_int64(s, 0) == BIG_SESSION);
	assert_true((uint64_t)sqlite3_column_int64(s, 1) == T0 + SEC);
	assert_true((uint64_t)sqlite3_column_int64(s, 2) == BIG_SESSION);
	sqlite3_finalize(s);

	/* An update that does not know the end keeps it. */
	session(st, BIG_SESSION, "openai.codex-cli", "openai", "coding", 0);
	assert_int_equal(aw_store_flush(st), 0);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT ended_ns FROM sessions",
					    -1, &s, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_true((uint64_t)sqlite3_column_int64(s, 0) == T0 + SEC);
	sqlite3_finalize(s);
	sqlite3_close(db);

	/* The class filter reaches the big session through the join. */
	q = (struct aw_store_query){.agent = "coding"};
	assert_int_equal(query(st, &q, &r), 1);
	assert_string_equal(r.text[0], "big");
	rows_free(&r);
}

static void test_hostile_strings(void **state)
{
	struct fixture *f = *state;
	struct aw_store *st = open_rw(f, 0, 0);
	static const char text[] = "line1\nline2\r\n\t\x1b[2J\xff\xfe\xc0\xaf"
				   "'; DROP TABLE events; --\"\\";
	static const char json[] = "{\"argv\":[\"a\\nb\",\"\xed\xa0\x80\"]}";
	struct aw_store_event e = {
	    .time_ns = T0,
	    .session = 9,
	    .agent_id = "evil'agent\n",
	    .action = "exec",
	    .exe = "/tmp/\xff\n/x",
	    .target = "%_\\",
	    .decision = "allow",
	    .rule = NULL,
	    .text = text,
	    .json = json,
	};
	struct aw_store_query q = {.agent = "evil'agent\n"};
	struct rows r = {};
	struct aw_store *ro = NULL;
	char err[256];

	assert_int_equal(aw_store_add_event(st, &e), 0);
	assert_int_equal(aw_store_flush(st), 0);
	assert_int_equal(aw_store_open_ro(f->path, &ro, err, sizeof(err)), 0);
	assert_int_equal(query(ro, &q, &r), 1);
	assert_int_equal(strlen(r.text[0]), sizeof(text) - 1);
	assert_memory_equal(r.text[0], text, sizeof(text));
	assert_string_equal(r.json[0], json);
	aw_store_close(ro);
	assert_int_equal(count(st), 1);
	rows_free(&r);
}

static void test_drops(void **state)
{
	struct fixture *f = *state;
	struct aw_store *st = open_rw(f, 0, 0);
	uint64_t k = 9, u = 9;

	assert_int_equal(aw_store_last_drops(st, &k, &u), 0);
	assert_int_equal(k, 0);
	assert_int_equal(u, 0);
	assert_int_equal(aw_store_record_drops(st, T0, 5, 1), 0);
	assert_int_equal(aw_store_record_drops(st, T0 + 1, 8, 2), 0);
	assert_int_equal(aw_store_last_drops(st, &k, &u), 0);
	assert_int_equal(k, 8);
	assert_int_equal(u, 2);
}

/* Sessions ids like the daemon's: random-looking u64 values. */
static void verify_ro(struct fixture *f, const struct aw_chain_anchor *a,
		      size_t na, struct aw_chain_report *rep);

static void test_throughput(void **state)
{
	struct fixture *f = *state;
	struct aw_store *st = open_rw(f, 0, 0);
	enum { N = 200000, BATCH = 4096 };
	char json[1024], text[256];
	struct aw_store_event e = {
	    .agent_id = "openai.codex-cli",
	    .action = "exec",
	    .ppid = 4242,
	    .uid = 1000,
	    .exe = "/usr/lib/node_modules/@openai/codex/bin/codex-x86_64",
	    .target = "/usr/bin/git",
	    .decision = "allow",
	    .rule = "observe",
	    .text = text,
	    .json = json,
	};
	struct aw_chain_report rep;
	struct timespec a, b;
	double secs;
	uint64_t n = 0;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < N; i++) {
		e.time_ns = T0 + (uint64_t)i * 1000;
		e.session = 0x9e3779b97f4a7c15ull * (uint64_t)(i / 500 + 1);
		e.pid = 10000 + (uint32_t)i;
		/* A realistic record: ~700 bytes of JSON, ~110 of text. */
		snprintf(
		    json, sizeof(json),
		    "{\"schema\":\"agentwall.event/1\",\"time\":"
		    "\"2026-11-28T05:03:28.%06dZ\",\"host\":\"build-7\","
		    "\"session\":\"%016llx\",\"agent\":{\"id\":"
		    "\"openai.codex-cli\",\"vendor\":\"openai\","
		    "\"product\":\"codex-cli\",\"class\":\"coding\","
		    "\"version\":\"0.58.0\"},\"process\":{\"pid\":%u,"
		    "\"ppid\":4242,\"uid\":1000,\"exe\":\"/usr/bin/git\","
		    "\"argv\":[\"git\",\"status\",\"--porcelain\"],"
		    "\"cwd\":\"/home/dev/src/project\",\"comm\":\"git\","
		    "\"start_time\":%d},\"lineage\":[{\"pid\":4000,\"exe\":"
		    "\"/usr/bin/node\"},{\"pid\":4242,\"exe\":\"/usr/lib/"
		    "node_modules/@openai/codex/bin/codex-x86_64\"},"
		    "{\"pid\":%u,\"exe\":\"/usr/bin/git\"}],\"action\":"
		    "\"exec\",\"target\":\"/usr/bin/git\",\"decision\":"
		    "\"allow\",\"rule\":\"observe\"}",
		    i % 1000000, (unsigned long long)e.session, e.pid, i * 7,
		    e.pid);
		snprintf(text, sizeof(text),
			 "05:03:28.%06d  %08x  openai.codex-cli %7u  exec"
			 "          /usr/bin/git status --porcelain",
			 i % 1000000, (unsigned)e.session, e.pid);
		assert_int_equal(aw_store_add_event(st, &e), 0);
		if ((i + 1) % BATCH == 0)
			assert_int_equal(aw_store_flush(st), 0);
	}
	assert_int_equal(aw_store_flush(st), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) +
	       (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	assert_int_equal(aw_store_count_events(st, &n), 0);
	assert_int_equal(n, N);
	printf("[   INFO   ] store insert throughput: %d events in %.3f s = "
	       "%.0f events/s (batches of %d, ~%zu-byte json)\n",
	       N, secs, N / secs, BATCH, strlen(json));

	/* The whole chain proves, with its periodic checkpoints (one at the
	 * first commit past each 65,536 rows). */
	aw_store_close(st);
	f->st = NULL;
	clock_gettime(CLOCK_MONOTONIC, &a);
	verify_ro(f, NULL, 0, &rep);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_int_equal(rep.problem, AW_CHAIN_OK);
	assert_int_equal(rep.verified, N);
	assert_int_equal(rep.checkpoints, N / 65536);
	secs = (double)(b.tv_sec - a.tv_sec) +
	       (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("[   INFO   ] log --verify: %d rows in %.3f s = %.0f rows/s\n",
	       N, secs, N / secs);
}

/* ---- the hash chain ---- */

/* n events with distinct content, flushed every `batch`. */
static void add_n(struct aw_store *st, int from, int n, int batch)
{
	char text[96];

	for (int i = from; i < from + n; i++) {
		snprintf(text, sizeof(text),
			 "{\"n\":%d,\"decision\":\"allow\",\"x\":\"abc\"}", i);
		add(st, T0 + (uint64_t)i * SEC, 0x1000 + (uint64_t)(i / 10),
		    "test.agent", i % 3 ? "exec" : "connect", "allow", text);
		if (batch && (i + 1 - from) % batch == 0)
			assert_int_equal(aw_store_flush(st), 0);
	}
	assert_int_equal(aw_store_flush(st), 0);
}

static void verify_ro(struct fixture *f, const struct aw_chain_anchor *a,
		      size_t na, struct aw_chain_report *rep)
{
	struct aw_store *ro = NULL;
	char err[256] = "";

	assert_int_equal(aw_store_open_ro(f->path, &ro, err, sizeof(err)), 0);
	assert_int_equal(aw_store_verify(ro, a, na, rep), 0);
	aw_store_close(ro);
}

/* A fresh store of 50 chained rows, closed. */
static void make_chain(struct fixture *f)
{
	struct aw_store *st = open_rw(f, 0, 0);

	add_n(st, 0, 50, 7);
	aw_store_close(st);
	f->st = NULL;
}

static void row_hash(const char *path, uint64_t id, struct aw_chain_anchor *ret)
{
	sqlite3 *db;
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT chain FROM events "
					    "WHERE id = ?1",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_bytes(st, 0), AW_CHAIN_HASH);
	ret->id = id;
	memcpy(ret->hash, sqlite3_column_blob(st, 0), AW_CHAIN_HASH);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void test_chain_intact(void **state)
{
	struct fixture *f = *state;
	struct aw_chain_report rep;
	struct aw_chain_anchor a;
	uint8_t head[AW_CHAIN_HASH];
	uint64_t id = 0, n = 0;
	struct aw_store *st = open_rw(f, 0, 0);

	add_n(st, 0, 50, 7);
	assert_int_equal(aw_store_chain_head(st, &id, head, &n), 0);
	assert_int_equal(id, 50);
	assert_int_equal(n, 50);
	/* The writer can verify its own store between batches. */
	assert_int_equal(aw_store_verify(st, NULL, 0, &rep), 0);
	assert_int_equal(rep.problem, AW_CHAIN_OK);
	aw_store_close(st);
	f->st = NULL;

	verify_ro(f, NULL, 0, &rep);
	assert_int_equal(rep.problem, AW_CHAIN_OK);
	assert_int_equal(rep.verified, 50);
	assert_int_equal(rep.first_id, 1);
	assert_int_equal(rep.last_id, 50);
	assert_string_equal(rep.start_kind, "genesis");
	assert_memory_equal(rep.head, head, AW_CHAIN_HASH);
	/* An anchor taken from status checks out. */
	a.id = id;
	memcpy(a.hash, head, AW_CHAIN_HASH);
	verify_ro(f, &a, 1, &rep);
	assert_int_equal(rep.problem, AW_CHAIN_OK);
	assert_int_equal(rep.anchors_checked, 1);

	/* Reopened, the writer continues the same chain. */
	st = open_rw(f, 0, 0);
	add_n(st, 50, 10, 0);
	aw_store_close(st);
	f->st = NULL;
	verify_ro(f, &a, 1, &rep);
	assert_int_equal(rep.problem, AW_CHAIN_OK);
	assert_int_equal(rep.verified, 60);
}

struct tamper {
	const char *name;
	const char *sql;
	enum aw_chain_problem want;
	uint64_t bad_id;
};

static void test_chain_tamper(void **state)
{
	static const struct tamper cases[] = {
	    {"one byte of json",
	     "UPDATE events SET json = replace(json, 'abc', 'abd') "
	     "WHERE id = 20",
	     AW_CHAIN_EDITED, 20},
	    {"a decision", "UPDATE events SET decision = 'deny' WHERE id = 21",
	     AW_CHAIN_EDITED, 21},
	    {"the time", "UPDATE events SET time_ns = time_ns + 1 WHERE id = 3",
	     AW_CHAIN_EDITED, 3},
	    {"text to blob of other bytes",
	     "UPDATE events SET text = CAST('x' AS BLOB) WHERE id = 4",
	     AW_CHAIN_EDITED, 4},
	    {"a row deleted in the middle", "DELETE FROM events WHERE id = 30",
	     AW_CHAIN_MISSING, 31},
	    {"the last rows deleted", "DELETE FROM events WHERE id >= 48",
	     AW_CHAIN_TRUNCATED, 0},
	    {"two rows swapped",
	     "UPDATE events SET id = -1 WHERE id = 10;"
	     "UPDATE events SET id = 10 WHERE id = 12;"
	     "UPDATE events SET id = 12 WHERE id = -1;",
	     AW_CHAIN_REORDERED, 10},
	    {"a forged row appended",
	     "INSERT INTO events (id, time_ns, session, action, pid, ppid, "
	     "uid, json, chain) VALUES (51, 1, 1, 'exec', 1, 1, 0, '{}', "
	     "zeroblob(32))",
	     AW_CHAIN_APPENDED, 51},
	    {"a row without hash inserted",
	     "INSERT INTO events (id, time_ns, session, action, pid, ppid, "
	     "uid) VALUES (51, 1, 1, 'exec', 1, 1, 0)",
	     AW_CHAIN_APPENDED, 51},
	    {"a hash removed", "UPDATE events SET chain = NULL WHERE id = 5",
	     AW_CHAIN_UNCHAINED, 5},
	    {"the head checkpoint",
	     "UPDATE chain_checkpoints SET hash = zeroblob(32) "
	     "WHERE kind = 'head'",
	     AW_CHAIN_CHECKPOINT, 50},
	    {"the genesis checkpoint",
	     "UPDATE chain_checkpoints SET time_ns = 5 WHERE kind = 'genesis'",
	     AW_CHAIN_CHECKPOINT, 0},
	    {"a row before the chain",
	     "INSERT INTO events (id, time_ns, session, action, pid, ppid, "
	     "uid) VALUES (-5, 1, 1, 'exec', 1, 1, 0)",
	     AW_CHAIN_INSERTED, 0},
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct aw_chain_report rep;

		make_chain(f);
		raw_exec(f->path, cases[i].sql);
		verify_ro(f, NULL, 0, &rep);
		if (rep.problem != cases[i].want ||
		    rep.bad_id != cases[i].bad_id)
			print_error("%s: problem %d at %llu (%s), want %d at "
				    "%llu\n",
				    cases[i].name, rep.problem,
				    (unsigned long long)rep.bad_id, rep.detail,
				    cases[i].want,
				    (unsigned long long)cases[i].bad_id);
		assert_int_equal(rep.problem, cases[i].want);
		assert_int_equal(rep.bad_id, cases[i].bad_id);
		assert_true(rep.detail[0]);
		raw_exec(f->path, "DROP TABLE events; DROP TABLE sessions;"
				  "DROP TABLE drops; DROP TABLE schema_version;"
				  "DROP TABLE chain_checkpoints;");
	}
}

/* Rewrite rows from `from` to the end with hashes recomputed as the
 * documented encoding says, and the head with them: what anyone with
 * write access can do to a plain hash chain. */
static void forge_from(const char *path, uint64_t from, int fix_head)
{
	struct aw_chain_hasher *h;
	sqlite3 *db;
	sqlite3_stmt *st, *up;
	uint8_t prev[AW_CHAIN_HASH];
	struct aw_chain_anchor a;
	uint64_t last = 0;

	row_hash(path, from - 1, &a);
	memcpy(prev, a.hash, AW_CHAIN_HASH);
	assert_int_equal(aw_chain_hasher_new(&h), 0);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db,
			 "BEGIN; UPDATE events SET json = replace(json, "
			 "'allow', 'deny!') WHERE id = 25",
			 NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT id, time_ns, session, "
					    "agent_id, action, pid, ppid, uid, "
					    "exe, target, decision, rule, "
					    "text, json FROM events WHERE id "
					    ">= ?1 ORDER BY id",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "UPDATE events SET chain = ?2 "
					    "WHERE id = ?1",
					    -1, &up, NULL),
			 SQLITE_OK);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
	while (sqlite3_step(st) == SQLITE_ROW) {
		static const int col[CHAIN_N_STR] = {3,	 4,  8,	 9,
						     10, 11, 12, 13};
		struct chain_row r = {
		    .id = (uint64_t)sqlite3_column_int64(st, 0),
		    .time_ns = (uint64_t)sqlite3_column_int64(st, 1),
		    .session = (uint64_t)sqlite3_column_int64(st, 2),
		    .pid = (uint64_t)sqlite3_column_int64(st, 5),
		    .ppid = (uint64_t)sqlite3_column_int64(st, 6),
		    .uid = (uint64_t)sqlite3_column_int64(st, 7),
		};

		for (int i = 0; i < CHAIN_N_STR; i++) {
			r.str[i] =
			    (const char *)sqlite3_column_text(st, col[i]);
			r.len[i] = (size_t)sqlite3_column_bytes(st, col[i]);
		}
		assert_int_equal(chain_hash_row(h, prev, &r, prev), 0);
		sqlite3_bind_int64(up, 1, (sqlite3_int64)r.id);
		sqlite3_bind_blob(up, 2, prev, AW_CHAIN_HASH, SQLITE_TRANSIENT);
		assert_int_equal(sqlite3_step(up), SQLITE_DONE);
		sqlite3_reset(up);
		last = r.id;
		if (!fix_head)
			break; /* only the edited row */
	}
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	if (fix_head) {
		assert_int_equal(
		    sqlite3_prepare_v2(db,
				       "UPDATE chain_checkpoints "
				       "SET hash = ?1 WHERE row_id "
				       "= ?2",
				       -1, &up, NULL),
		    SQLITE_OK);
		sqlite3_bind_blob(up, 1, prev, AW_CHAIN_HASH, SQLITE_TRANSIENT);
		sqlite3_bind_int64(up, 2, (sqlite3_int64)last);
		assert_int_equal(sqlite3_step(up), SQLITE_DONE);
		sqlite3_finalize(up);
	}
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	aw_chain_hasher_free(h);
}

static void test_chain_forged(void **state)
{
	struct fixture *f = *state;
	struct aw_chain_report rep;
	struct aw_chain_anchor a;

	/* One row edited and its own hash recomputed: the next row's link
	 * breaks, and the report says the row before may be the one. */
	make_chain(f);
	forge_from(f->path, 25, 0);
	verify_ro(f, NULL, 0, &rep);
	assert_int_equal(rep.problem, AW_CHAIN_EDITED);
	assert_int_equal(rep.bad_id, 26);
	assert_non_null(strstr(rep.detail, "id 25"));
	raw_exec(f->path, "DROP TABLE events; DROP TABLE sessions;"
			  "DROP TABLE drops; DROP TABLE schema_version;"
			  "DROP TABLE chain_checkpoints;");

	/* The whole rest of the chain and the head recomputed: the store
	 * alone cannot tell (the documented limit); a head kept elsewhere
	 * (status, the journal) can. */
	make_chain(f);
	row_hash(f->path, 40, &a);
	forge_from(f->path, 25, 1);
	verify_ro(f, NULL, 0, &rep);
	assert_int_equal(rep.problem, AW_CHAIN_OK);
	verify_ro(f, &a, 1, &rep);
	assert_int_equal(rep.problem, AW_CHAIN_ANCHOR);
	assert_int_equal(rep.bad_id, 40);

	/* Tail truncation with the head moved back: only an anchor past
	 * the new end shows it. */
	row_hash(f->path, 50, &a);
	raw_exec(f->path, "DELETE FROM events WHERE id > 45;"
			  "UPDATE chain_checkpoints SET row_id = 45, hash = "
			  "(SELECT chain FROM events WHERE id = 45) WHERE "
			  "kind = 'head'");
	verify_ro(f, NULL, 0, &rep);
	assert_int_equal(rep.problem, AW_CHAIN_OK);
	verify_ro(f, &a, 1, &rep);
	assert_int_equal(rep.problem, AW_CHAIN_TRUNCATED);
}

static void test_chain_prune(void **state)
{
	struct fixture *f = *state;
	struct aw_chain_report rep;
	struct aw_chain_anchor a;
	struct aw_store *st = open_rw(f, 30, 0);

	add_n(st, 0, 100, 9);
	assert_int_equal(aw_store_prune(st, T0 + 1000 * SEC), 70);
	aw_store_close(st);
	f->st = NULL;
	verify_ro(f, NULL, 0, &rep);
	assert_int_equal(rep.problem, AW_CHAIN_OK);
	assert_string_equal(rep.start_kind, "prune");
	assert_int_equal(rep.start_id, 70);
	assert_int_equal(rep.pruned, 70);
	assert_int_equal(rep.verified, 30);
	assert_int_equal(rep.first_id, 71);

	/* Again, and by age: the chain stays provable from the newest
	 * prune checkpoint; an anchor in the pruned part is not a break. */
	row_hash(f->path, 75, &a);
	st = open_rw(f, 30, 100);
	add_n(st, 100, 40, 0);
	assert_true(aw_store_prune(st, T0 + 200 * SEC) >= 40);
	aw_store_close(st);
	f->st = NULL;
	verify_ro(f, &a, 1, &rep);
	assert_int_equal(rep.problem, AW_CHAIN_OK);
	assert_int_equal(rep.start_id, 110);
	assert_int_equal(rep.anchors_pruned, 1);

	/* A pruned row put back is not part of the chain. */
	raw_exec(f->path,
		 "INSERT INTO events (id, time_ns, session, action, pid, "
		 "ppid, uid) VALUES (100, 1, 1, 'exec', 1, 1, 0)");
	verify_ro(f, NULL, 0, &rep);
	assert_int_equal(rep.problem, AW_CHAIN_INSERTED);
	assert_int_equal(rep.bad_id, 100);
	raw_exec(f->path, "DELETE FROM events WHERE id = 100;"
			  "DELETE FROM events WHERE id = 111");
	/* Deleting the first row after the prune point is a missing row. */
	verify_ro(f, NULL, 0, &rep);
	assert_int_equal(rep.problem, AW_CHAIN_MISSING);
	assert_int_equal(rep.bad_id, 112);
}

static void test_chain_migrate(void **state)
{
	struct fixture *f = *state;
	struct aw_chain_report rep;
	struct aw_store *st = open_rw(f, 0, 0);
	sqlite3 *db;
	int64_t v = 0;
	sqlite3_stmt *q;

	add_n(st, 0, 10, 0);
	aw_store_close(st);
	f->st = NULL;
	/* Back to schema 1, as an older agentwall left it. */
	raw_exec(f->path, "DROP TABLE chain_checkpoints;"
			  "ALTER TABLE events DROP COLUMN chain;"
			  "DELETE FROM schema_version WHERE version = 2");
	verify_ro(f, NULL, 0, &rep);
	assert_int_equal(rep.problem, AW_CHAIN_NONE);

	st = open_rw(f, 0, 0);
	add_n(st, 10, 5, 0);
	aw_store_close(st);
	f->st = NULL;
	verify_ro(f, NULL, 0, &rep);
	assert_int_equal(rep.problem, AW_CHAIN_OK);
	assert_int_equal(rep.legacy, 10);
	assert_int_equal(rep.start_id, 10);
	assert_int_equal(rep.verified, 5);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT max(version) FROM "
					    "schema_version",
					    -1, &q, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	assert_int_equal(v, 2);
	/* An old row edited is out of the chain's reach; one more is not. */
	raw_exec(f->path, "INSERT INTO events (id, time_ns, session, action, "
			  "pid, ppid, uid) VALUES (0, 1, 1, 'exec', 1, 1, 0)");
	verify_ro(f, NULL, 0, &rep);
	assert_int_equal(rep.problem, AW_CHAIN_INSERTED);
}

/* The daemon digests events on its event loop and hands the digest in:
 * the same chain as the store's own, and the verifier recomputes it
 * independently (a wrong digest shows as an edit). */
static void test_chain_caller_digest(void **state)
{
	struct fixture *f = *state;
	struct aw_chain_hasher *h;
	struct aw_chain_report rep;
	struct aw_store *st = open_rw(f, 0, 0);
	uint8_t d[AW_CHAIN_HASH];
	char json[64];
	struct aw_store_event e = {
	    .agent_id = "test.agent",
	    .action = "exec",
	    .pid = 7,
	    .session = BIG_SESSION,
	    .exe = "/bin/sh",
	    .decision = "allow",
	    .json = json,
	};

	assert_int_equal(aw_chain_hasher_new(&h), 0);
	for (int i = 0; i < 20; i++) {
		e.time_ns = T0 + (uint64_t)i;
		snprintf(json, sizeof(json), "{\"i\":%d}", i);
		assert_int_equal(aw_store_event_digest(h, &e, d), 0);
		if (i == 13)
			d[0] ^= 1;
		e.digest = i % 2 ? d : NULL;
		assert_int_equal(aw_store_add_event(st, &e), 0);
	}
	aw_chain_hasher_free(h);
	aw_store_close(st);
	f->st = NULL;
	verify_ro(f, NULL, 0, &rep);
	assert_int_equal(rep.problem, AW_CHAIN_EDITED);
	assert_int_equal(rep.bad_id, 14);
	assert_int_equal(rep.verified, 13);
}

/* The daemon restarted on a store whose newest rows were deleted goes on
 * from its recorded head, leaving the gap for --verify to name rather
 * than chaining over it. */
static void test_chain_restart_after_cut(void **state)
{
	struct fixture *f = *state;
	struct aw_chain_report rep;
	struct aw_store *st;

	make_chain(f);
	raw_exec(f->path, "DELETE FROM events WHERE id > 47");
	st = open_rw(f, 0, 0);
	add_n(st, 100, 5, 0);
	aw_store_close(st);
	f->st = NULL;
	verify_ro(f, NULL, 0, &rep);
	assert_int_equal(rep.problem, AW_CHAIN_MISSING);
	assert_int_equal(rep.bad_id, 51);
	assert_non_null(strstr(rep.detail, "48..50"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_insert_flush, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_query_filters, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_query_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prune_count, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prune_age, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prune_no_limits, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_readonly_missing, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_foreign_database_refused,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_u64_session, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_strings, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_drops, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chain_intact, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chain_tamper, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chain_forged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chain_prune, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chain_restart_after_cut, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_chain_caller_digest, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_chain_migrate, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_throughput, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
