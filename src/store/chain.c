// SPDX-License-Identifier: GPL-2.0-only
/*
 * The hash chain over the events table. The encoding is fixed (docs/
 * events.md, "The hash chain") so that another implementation can check
 * a copy of the store. Two steps per row:
 *
 *   content = SHA-256(time_ns, session     u64 big-endian each
 *                     agent_id, action     field
 *                     pid, ppid, uid       u64 big-endian each
 *                     exe, target, decision, rule, text, json   field)
 *   chain   = SHA-256(prev chain (32 bytes), id (u64 big-endian), content)
 *
 * where a field is one byte 0 for NULL, or one byte 1, the length as a
 * u64 big-endian and the bytes. Integers are the stored values read as
 * u64 (SQLite's signed integers reinterpreted). The genesis hash is
 * SHA-256 of "agentwall chain genesis v1", NUL, the genesis row id and
 * time (u64 big-endian).
 *
 * The split is for speed: the content digest (the ~1 KiB row, ~0.6 us)
 * can be computed by the daemon's event loop while the writer thread,
 * the pipeline's slower half, only links (64 bytes + id) in id order.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * OpenSSL's low-level SHA-256, not EVP: EVP's first digest loads the
 * default provider, +2.2 MiB RSS in a daemon whose idle target is 20 MiB
 * (measured 15.7 -> 17.8), and costs ~10% more per row. The low-level
 * calls are deprecated in OpenSSL 3 but present throughout 3.x; should
 * they go, EVP_Digest* is the drop-in (digest() below is the one place).
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "shared/util.h"
#include "store/chain.h"

/* Rows on either side of a break searched for where a reordered row's
 * hash belongs. */
#define CHAIN_REORDER_WINDOW 64

struct aw_chain_hasher {
	unsigned char *buf; /* one row's encoding */
	size_t cap;
};

int aw_chain_hasher_new(struct aw_chain_hasher **ret)
{
	struct aw_chain_hasher *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	*ret = h;
	return 0;
}

void aw_chain_hasher_free(struct aw_chain_hasher *h)
{
	if (!h)
		return;
	free(h->buf);
	free(h);
}

static unsigned char *put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (unsigned char)v;
		v >>= 8;
	}
	return p + 8;
}

static unsigned char *put_field(unsigned char *p, const char *s, size_t n)
{
	if (!s) {
		*p++ = 0;
		return p;
	}
	*p++ = 1;
	p = put_u64(p, n);
	memcpy(p, s, n);
	return p + n;
}

static int digest(const void *data, size_t n, uint8_t out[AW_CHAIN_HASH])
{
	SHA256_CTX c;

	if (SHA256_Init(&c) != 1 || SHA256_Update(&c, data, n) != 1 ||
	    SHA256_Final(out, &c) != 1)
		return -EIO;
	return 0;
}

int chain_content_digest(struct aw_chain_hasher *h, const struct chain_row *row,
			 uint8_t out[AW_CHAIN_HASH])
{
	size_t need = 5 * 8;
	unsigned char *p;

	for (int i = 0; i < CHAIN_N_STR; i++)
		need += 1 + (row->str[i] ? 8 + row->len[i] : 0);
	if (need > h->cap) {
		size_t cap = need < 4096 ? 4096 : need * 2;
		unsigned char *b = realloc(h->buf, cap);

		if (!b)
			return -ENOMEM;
		h->buf = b;
		h->cap = cap;
	}
	p = h->buf;
	p = put_u64(p, row->time_ns);
	p = put_u64(p, row->session);
	p = put_field(p, row->str[CHAIN_AGENT_ID], row->len[CHAIN_AGENT_ID]);
	p = put_field(p, row->str[CHAIN_ACTION], row->len[CHAIN_ACTION]);
	p = put_u64(p, row->pid);
	p = put_u64(p, row->ppid);
	p = put_u64(p, row->uid);
	for (int i = CHAIN_EXE; i < CHAIN_N_STR; i++)
		p = put_field(p, row->str[i], row->len[i]);
	return digest(h->buf, (size_t)(p - h->buf), out);
}

int chain_link(struct aw_chain_hasher *h, const uint8_t prev[AW_CHAIN_HASH],
	       uint64_t id, const uint8_t content[AW_CHAIN_HASH],
	       uint8_t out[AW_CHAIN_HASH])
{
	unsigned char b[2 * AW_CHAIN_HASH + 8];

	memcpy(b, prev, AW_CHAIN_HASH);
	put_u64(b + AW_CHAIN_HASH, id);
	memcpy(b + AW_CHAIN_HASH + 8, content, AW_CHAIN_HASH);
	return digest(b, sizeof(b), out);
}

int chain_hash_row(struct aw_chain_hasher *h, const uint8_t prev[AW_CHAIN_HASH],
		   const struct chain_row *row, uint8_t out[AW_CHAIN_HASH])
{
	uint8_t c[AW_CHAIN_HASH];
	int r;

	r = chain_content_digest(h, row, c);
	if (r == 0)
		r = chain_link(h, prev, row->id, c, out);
	return r;
}

int chain_genesis_hash(struct aw_chain_hasher *h, uint64_t row_id,
		       uint64_t time_ns, uint8_t out[AW_CHAIN_HASH])
{
	static const char tag[] = "agentwall chain genesis v1";
	unsigned char b[sizeof(tag) + 16], *p;

	memcpy(b, tag, sizeof(tag)); /* with its NUL */
	p = put_u64(b + sizeof(tag), row_id);
	put_u64(p, time_ns);
	return digest(b, sizeof(b), out);
}

void aw_chain_hex(const uint8_t hash[AW_CHAIN_HASH], char *hex)
{
	aw_hex(hash, AW_CHAIN_HASH, hex);
}

int aw_chain_unhex(const char *hex, uint8_t ret[AW_CHAIN_HASH])
{
	return aw_unhex(hex, AW_CHAIN_HASH, ret);
}

/* ---- verification ---- */

struct cp {
	char kind[16];
	uint64_t row_id, time_ns, count;
	uint8_t hash[AW_CHAIN_HASH];
	int hash_ok; /* the stored hash had 32 bytes */
};

struct walk {
	sqlite3 *db;
	struct aw_chain_hasher *h;
	struct aw_chain_report *rep;
	struct cp *cps;
	size_t n_cps;
	const struct cp *genesis, *head, *start;
};

#define ROW_COLS                                                               \
	"id, time_ns, session, agent_id, action, pid, ppid, uid, exe, "        \
	"target, decision, rule, text, json, chain"

/* Text columns' positions in ROW_COLS, in encoding order. */
static const int str_col[CHAIN_N_STR] = {3, 4, 8, 9, 10, 11, 12, 13};

static void row_read(sqlite3_stmt *st, struct chain_row *r)
{
	r->id = (uint64_t)sqlite3_column_int64(st, 0);
	r->time_ns = (uint64_t)sqlite3_column_int64(st, 1);
	r->session = (uint64_t)sqlite3_column_int64(st, 2);
	r->pid = (uint64_t)sqlite3_column_int64(st, 5);
	r->ppid = (uint64_t)sqlite3_column_int64(st, 6);
	r->uid = (uint64_t)sqlite3_column_int64(st, 7);
	for (int i = 0; i < CHAIN_N_STR; i++) {
		int c = str_col[i];

		if (sqlite3_column_type(st, c) == SQLITE_NULL) {
			r->str[i] = NULL;
			r->len[i] = 0;
		} else {
			/* Text or blob alike: the bytes are what count. */
			r->str[i] = (const char *)sqlite3_column_blob(st, c);
			r->len[i] = (size_t)sqlite3_column_bytes(st, c);
			if (!r->str[i])
				r->str[i] = "";
		}
	}
}

static void set_bad(struct aw_chain_report *rep, enum aw_chain_problem p,
		    uint64_t id, uint64_t time_ns, const char *action,
		    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void set_bad(struct aw_chain_report *rep, enum aw_chain_problem p,
		    uint64_t id, uint64_t time_ns, const char *action,
		    const char *fmt, ...)
{
	va_list ap;

	rep->problem = p;
	rep->bad_id = id;
	rep->bad_time_ns = time_ns;
	snprintf(rep->bad_action, sizeof(rep->bad_action), "%s",
		 action ? action : "");
	va_start(ap, fmt);
	vsnprintf(rep->detail, sizeof(rep->detail), fmt, ap);
	va_end(ap);
}

static int load_checkpoints(struct walk *w)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc;

	rc = sqlite3_prepare_v2(w->db,
				"SELECT kind, row_id, hash, time_ns, count "
				"FROM chain_checkpoints ORDER BY row_id, seq",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct cp *c;
		const char *k = (const char *)sqlite3_column_text(st, 0);
		const void *hb = sqlite3_column_blob(st, 2);

		if (w->n_cps == cap) {
			struct cp *n;

			cap = cap ? cap * 2 : 16;
			n = realloc(w->cps, cap * sizeof(*n));
			if (!n) {
				sqlite3_finalize(st);
				return SQLITE_NOMEM;
			}
			w->cps = n;
		}
		c = &w->cps[w->n_cps++];
		memset(c, 0, sizeof(*c));
		snprintf(c->kind, sizeof(c->kind), "%s", k ? k : "");
		c->row_id = (uint64_t)sqlite3_column_int64(st, 1);
		c->time_ns = (uint64_t)sqlite3_column_int64(st, 3);
		c->count = (uint64_t)sqlite3_column_int64(st, 4);
		c->hash_ok = hb && sqlite3_column_bytes(st, 2) == AW_CHAIN_HASH;
		if (c->hash_ok)
			memcpy(c->hash, hb, AW_CHAIN_HASH);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int is_marker(const struct cp *c)
{
	return !strcmp(c->kind, "periodic") || !strcmp(c->kind, "prune");
}

/* A row's id, time and action by id, for naming it. */
static void name_row(struct walk *w, uint64_t id, uint64_t *ret_time,
		     char *action, size_t n)
{
	sqlite3_stmt *st = NULL;

	*ret_time = 0;
	action[0] = 0;
	if (sqlite3_prepare_v2(w->db,
			       "SELECT time_ns, action FROM events "
			       "WHERE id = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *a = (const char *)sqlite3_column_text(st, 1);

		*ret_time = (uint64_t)sqlite3_column_int64(st, 0);
		snprintf(action, n, "%s", a ? a : "");
	}
	sqlite3_finalize(st);
}

/*
 * A row whose hash does not follow: is it a genuine row under another
 * id (rows swapped)? Then its hash is that of its content under some id
 * q nearby, chained from one of the hashes stored nearby. Anything else
 * is an edit.
 */
static int find_origin(struct walk *w, const struct chain_row *row,
		       const uint8_t stored[AW_CHAIN_HASH], uint64_t *ret_q)
{
	uint8_t(*prevs)[AW_CHAIN_HASH] = NULL, content[AW_CHAIN_HASH];
	sqlite3_stmt *st = NULL;
	size_t n = 0, cap = 2 * CHAIN_REORDER_WINDOW + 2;
	uint64_t lo, hi;
	int found = 0;

	prevs = calloc(cap, AW_CHAIN_HASH);
	if (!prevs)
		return 0;
	memcpy(prevs[n++], w->start->hash, AW_CHAIN_HASH);
	lo = row->id > w->start->row_id + CHAIN_REORDER_WINDOW
		 ? row->id - CHAIN_REORDER_WINDOW
		 : w->start->row_id + 1;
	hi = row->id + CHAIN_REORDER_WINDOW;
	if (sqlite3_prepare_v2(w->db,
			       "SELECT chain FROM events WHERE id BETWEEN ?1 "
			       "AND ?2 ORDER BY id",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)lo);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)hi);
		while (n < cap && sqlite3_step(st) == SQLITE_ROW) {
			const void *b = sqlite3_column_blob(st, 0);

			if (b && sqlite3_column_bytes(st, 0) == AW_CHAIN_HASH)
				memcpy(prevs[n++], b, AW_CHAIN_HASH);
		}
	}
	sqlite3_finalize(st);
	/* The content does not depend on the id: digest it once, try only
	 * the links (~17k of 72 bytes at most). */
	if (chain_content_digest(w->h, row, content) < 0)
		n = 0;
	for (uint64_t q = lo; q <= hi && !found; q++) {
		if (q == row->id)
			continue;
		for (size_t i = 0; i < n && !found; i++) {
			uint8_t h[AW_CHAIN_HASH];

			if (chain_link(w->h, prevs[i], q, content, h) == 0 &&
			    !memcmp(h, stored, AW_CHAIN_HASH)) {
				*ret_q = q;
				found = 1;
			}
		}
	}
	free(prevs);
	return found;
}

static const char *prefix_hex(const uint8_t hash[AW_CHAIN_HASH], char *buf)
{
	aw_chain_hex(hash, buf);
	return buf;
}

/* The walk itself: rows after the start, each against the previous. */
static int walk_rows(struct walk *w, const struct aw_chain_anchor *anchors,
		     size_t n_anchors)
{
	struct aw_chain_report *rep = w->rep;
	sqlite3_stmt *st = NULL;
	uint8_t prev[AW_CHAIN_HASH];
	uint64_t prev_id = w->start->row_id;
	size_t ci = 0;
	char hx[2 * AW_CHAIN_HASH + 1];
	int rc, r = 0;

	memcpy(prev, w->start->hash, AW_CHAIN_HASH);
	while (ci < w->n_cps && w->cps[ci].row_id <= prev_id)
		ci++;
	rc = sqlite3_prepare_v2(w->db,
				"SELECT " ROW_COLS " FROM events WHERE id > ?1 "
				"ORDER BY id",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)prev_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct chain_row row;
		uint8_t h[AW_CHAIN_HASH];
		const void *sb = sqlite3_column_blob(st, 14);
		const char *action;
		uint64_t q;

		row_read(st, &row);
		action = row.str[CHAIN_ACTION] ? row.str[CHAIN_ACTION] : "";
		if (row.id != prev_id + 1) {
			set_bad(rep, AW_CHAIN_MISSING, row.id, row.time_ns,
				action,
				"missing row: ids %" PRIu64 "..%" PRIu64
				" are gone (deleted) before this row",
				prev_id + 1, row.id - 1);
			break;
		}
		if (row.id > w->head->row_id) {
			/* The head moves in the same transaction as the
			 * rows: in one snapshot no row is newer. */
			set_bad(rep, AW_CHAIN_APPENDED, row.id, row.time_ns,
				action,
				"appended: a row after the head recorded at "
				"the last commit (id %" PRIu64
				"), not written by the daemon",
				w->head->row_id);
			break;
		}
		if (!sb || sqlite3_column_bytes(st, 14) != AW_CHAIN_HASH) {
			set_bad(rep, AW_CHAIN_UNCHAINED, row.id, row.time_ns,
				action,
				"inserted row: no hash inside the chain (the "
				"daemon hashes every row it writes)");
			break;
		}
		r = chain_hash_row(w->h, prev, &row, h);
		if (r < 0)
			break;
		if (memcmp(h, sb, AW_CHAIN_HASH)) {
			uint8_t stored[AW_CHAIN_HASH];

			memcpy(stored, sb, AW_CHAIN_HASH);
			if (row.id == w->start->row_id + 1 &&
			    w->start != w->genesis)
				/* Nothing before this row to tell which
				 * side changed. */
				set_bad(rep, AW_CHAIN_CHECKPOINT, row.id,
					row.time_ns, action,
					"checkpoint mismatch: the first row "
					"after the prune checkpoint (id "
					"%" PRIu64 ") does not chain from it: "
					"the checkpoint or this row was edited",
					w->start->row_id);
			else if (find_origin(w, &row, stored, &q))
				set_bad(rep, AW_CHAIN_REORDERED, row.id,
					row.time_ns, action,
					"reordered: this row and its hash "
					"were written as id %" PRIu64,
					q);
			else
				set_bad(rep, AW_CHAIN_EDITED, row.id,
					row.time_ns, action,
					"edited: its fields and the previous "
					"row's hash do not give its hash (this "
					"row was edited or forged, or the row "
					"before it, id %" PRIu64 ", was "
					"rewritten with a recomputed hash)",
					prev_id);
			break;
		}
		for (; ci < w->n_cps && w->cps[ci].row_id == row.id; ci++) {
			const struct cp *c = &w->cps[ci];

			if (!is_marker(c))
				continue;
			rep->checkpoints++;
			if (!c->hash_ok || memcmp(c->hash, h, AW_CHAIN_HASH) ||
			    c->count != row.id - w->genesis->row_id) {
				set_bad(rep, AW_CHAIN_CHECKPOINT, row.id,
					row.time_ns, action,
					"checkpoint mismatch: the %s "
					"checkpoint for this row records "
					"another hash or count",
					c->kind);
				goto out;
			}
		}
		for (size_t i = 0; i < n_anchors; i++) {
			if (anchors[i].id != row.id)
				continue;
			rep->anchors_checked++;
			if (memcmp(anchors[i].hash, h, AW_CHAIN_HASH)) {
				set_bad(rep, AW_CHAIN_ANCHOR, row.id,
					row.time_ns, action,
					"anchor mismatch: the hash kept "
					"elsewhere for this row is %s; the "
					"chain up to here was rewritten",
					prefix_hex(anchors[i].hash, hx));
				goto out;
			}
		}
		if (w->head->row_id == row.id &&
		    (!w->head->hash_ok ||
		     memcmp(w->head->hash, h, AW_CHAIN_HASH))) {
			set_bad(rep, AW_CHAIN_CHECKPOINT, row.id, row.time_ns,
				action,
				"checkpoint mismatch: the head recorded at "
				"the last commit has another hash");
			break;
		}
		if (!rep->first_id)
			rep->first_id = row.id;
		rep->last_id = row.id;
		rep->verified++;
		memcpy(prev, h, AW_CHAIN_HASH);
		prev_id = row.id;
	}
out:
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -EIO;
	memcpy(rep->head, prev, AW_CHAIN_HASH);
	if (rep->problem != AW_CHAIN_OK)
		return 0;

	/* The end: what checkpoints and anchors say must exist, does. */
	for (; ci < w->n_cps; ci++) {
		const struct cp *c = &w->cps[ci];

		if (!is_marker(c) || c->row_id <= prev_id)
			continue;
		set_bad(rep, AW_CHAIN_TRUNCATED, 0, 0, NULL,
			"missing rows at the end: the %s checkpoint names row "
			"%" PRIu64 ", the store ends at id %" PRIu64,
			c->kind, c->row_id, prev_id);
		return 0;
	}
	if (w->head->row_id > prev_id) {
		set_bad(rep, AW_CHAIN_TRUNCATED, 0, 0, NULL,
			"missing rows at the end: the head recorded at the "
			"last commit is row %" PRIu64 " (%s), the store ends "
			"at id %" PRIu64 " (the newest rows were deleted)",
			w->head->row_id, prefix_hex(w->head->hash, hx),
			prev_id);
		return 0;
	}
	if (prev_id == w->start->row_id &&
	    (!w->head->hash_ok ||
	     memcmp(w->head->hash, w->start->hash, AW_CHAIN_HASH))) {
		set_bad(rep, AW_CHAIN_CHECKPOINT, 0, 0, NULL,
			"checkpoint mismatch: the head recorded at the last "
			"commit differs from the %s checkpoint it should "
			"equal",
			w->start->kind);
		return 0;
	}
	for (size_t i = 0; i < n_anchors; i++) {
		const struct aw_chain_anchor *a = &anchors[i];

		if (a->id > prev_id) {
			set_bad(rep, AW_CHAIN_TRUNCATED, 0, 0, NULL,
				"missing rows at the end: row %" PRIu64
				" (hash kept elsewhere %s) is gone, the store "
				"ends at id %" PRIu64,
				a->id, prefix_hex(a->hash, hx), prev_id);
			return 0;
		}
		if (a->id == w->start->row_id) {
			rep->anchors_checked++;
			if (memcmp(a->hash, w->start->hash, AW_CHAIN_HASH)) {
				set_bad(rep, AW_CHAIN_ANCHOR, 0, 0, NULL,
					"anchor mismatch at the %s checkpoint "
					"(id %" PRIu64 ")",
					w->start->kind, a->id);
				return 0;
			}
		} else if (a->id < w->start->row_id) {
			rep->anchors_pruned++;
		}
	}
	return 0;
}

static int count_rows(sqlite3 *db, const char *sql, uint64_t a, uint64_t b,
		      uint64_t *ret)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_int64(st, 1, (sqlite3_int64)a);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, (sqlite3_int64)b);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret = (uint64_t)sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		*ret = 0;
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static int verify_locked(struct walk *w, const struct aw_chain_anchor *anchors,
			 size_t n_anchors)
{
	struct aw_chain_report *rep = w->rep;
	uint8_t g[AW_CHAIN_HASH];
	uint64_t n = 0;
	int rc, r;

	rc = count_rows(w->db,
			"SELECT count(*) FROM sqlite_master WHERE type = "
			"'table' AND name = 'chain_checkpoints'",
			0, 0, &n);
	if (rc != SQLITE_OK)
		return -EIO;
	if (!n) {
		set_bad(rep, AW_CHAIN_NONE, 0, 0, NULL,
			"no hash chain in this store (schema 1: the daemon "
			"adds one when it next opens the store)");
		return 0;
	}
	rc = load_checkpoints(w);
	if (rc != SQLITE_OK)
		return rc == SQLITE_NOMEM ? -ENOMEM : -EIO;
	for (size_t i = 0; i < w->n_cps; i++) {
		const struct cp *c = &w->cps[i];
		const struct cp **slot = !strcmp(c->kind, "genesis")
					     ? &w->genesis
					 : !strcmp(c->kind, "head") ? &w->head
								    : NULL;

		if (!slot)
			continue;
		if (*slot) {
			set_bad(rep, AW_CHAIN_CHECKPOINT, 0, 0, NULL,
				"checkpoint mismatch: two %s checkpoints",
				c->kind);
			return 0;
		}
		*slot = c;
	}
	if (!w->genesis || !w->head) {
		set_bad(rep, AW_CHAIN_CHECKPOINT, 0, 0, NULL,
			"checkpoint mismatch: the %s checkpoint is missing",
			w->genesis ? "head" : "genesis");
		return 0;
	}
	r = chain_genesis_hash(w->h, w->genesis->row_id, w->genesis->time_ns,
			       g);
	if (r < 0)
		return r;
	if (!w->genesis->hash_ok || memcmp(g, w->genesis->hash, sizeof(g))) {
		set_bad(rep, AW_CHAIN_CHECKPOINT, 0, 0, NULL,
			"checkpoint mismatch: the genesis checkpoint was "
			"edited");
		return 0;
	}
	/* Retention's prune checkpoints move the start forward: the rows
	 * before them are gone, summarized by the checkpoint. */
	w->start = w->genesis;
	for (size_t i = 0; i < w->n_cps; i++)
		if (!strcmp(w->cps[i].kind, "prune") &&
		    w->cps[i].row_id > w->start->row_id)
			w->start = &w->cps[i];
	if (!w->start->hash_ok) {
		set_bad(rep, AW_CHAIN_CHECKPOINT, 0, 0, NULL,
			"checkpoint mismatch: the prune checkpoint at id "
			"%" PRIu64 " has no hash",
			w->start->row_id);
		return 0;
	}
	snprintf(rep->start_kind, sizeof(rep->start_kind), "%s",
		 w->start->kind);
	rep->start_id = w->start->row_id;
	memcpy(rep->start_hash, w->start->hash, AW_CHAIN_HASH);
	rep->pruned = w->start == w->genesis ? 0 : w->start->count;

	/* Before the chain: rows from an older store, kept unchained and
	 * counted at migration (retention may since have removed some). */
	rc = count_rows(w->db, "SELECT count(*) FROM events WHERE id <= ?1",
			w->genesis->row_id, 0, &rep->legacy);
	if (rc != SQLITE_OK)
		return -EIO;
	if (rep->legacy > w->genesis->count) {
		set_bad(rep, AW_CHAIN_INSERTED, 0, 0, NULL,
			"inserted rows before the chain start: %" PRIu64
			" unchained rows, %" PRIu64 " when the chain began",
			rep->legacy, w->genesis->count);
		return 0;
	}
	if (w->start != w->genesis) {
		uint64_t id = 0;

		rc = count_rows(w->db,
				"SELECT min(id) FROM events WHERE id > ?1 AND "
				"id <= ?2",
				w->genesis->row_id, w->start->row_id, &id);
		if (rc != SQLITE_OK)
			return -EIO;
		if (id) {
			uint64_t t;
			char a[32];

			name_row(w, id, &t, a, sizeof(a));
			set_bad(rep, AW_CHAIN_INSERTED, id, t, a,
				"inserted row: retention pruned every row up "
				"to id %" PRIu64,
				w->start->row_id);
			return 0;
		}
	}
	return walk_rows(w, anchors, n_anchors);
}

int chain_verify(sqlite3 *db, const struct aw_chain_anchor *anchors,
		 size_t n_anchors, struct aw_chain_report *ret)
{
	struct walk w = {.db = db, .rep = ret};
	int r;

	memset(ret, 0, sizeof(*ret));
	r = aw_chain_hasher_new(&w.h);
	if (r < 0)
		return r;
	/* One snapshot: the daemon may commit meanwhile. */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		aw_chain_hasher_free(w.h);
		return -EIO;
	}
	r = verify_locked(&w, anchors, n_anchors);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	free(w.cps);
	aw_chain_hasher_free(w.h);
	return r;
}
