/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The store's hash chain (internal to src/store): the canonical encoding
 * of an event row, SHA-256 over it and the previous row's hash, and the
 * walk that proves a store's chain (aw_store_verify).
 */
#ifndef AW_STORE_CHAIN_H
#define AW_STORE_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store/store.h"

/* The text columns, in the order they are encoded. */
enum {
	CHAIN_AGENT_ID,
	CHAIN_ACTION,
	CHAIN_EXE,
	CHAIN_TARGET,
	CHAIN_DECISION,
	CHAIN_RULE,
	CHAIN_TEXT,
	CHAIN_JSON,
	CHAIN_N_STR,
};

/* One events row as it is hashed: integers as stored (the u64
 * reinterpretation of SQLite's signed integers), text as its bytes,
 * NULL distinct from "". */
struct chain_row {
	uint64_t id, time_ns, session, pid, ppid, uid;
	const char *str[CHAIN_N_STR];
	size_t len[CHAIN_N_STR];
};

/* The row's content digest (every column but id and chain). */
int chain_content_digest(struct aw_chain_hasher *h, const struct chain_row *row,
			 uint8_t out[AW_CHAIN_HASH]);
/* out = SHA-256(prev, id, content). */
int chain_link(struct aw_chain_hasher *h, const uint8_t prev[AW_CHAIN_HASH],
	       uint64_t id, const uint8_t content[AW_CHAIN_HASH],
	       uint8_t out[AW_CHAIN_HASH]);
/* Both: the row's chain hash from the previous one; 0 or -errno. */
int chain_hash_row(struct aw_chain_hasher *h, const uint8_t prev[AW_CHAIN_HASH],
		   const struct chain_row *row, uint8_t out[AW_CHAIN_HASH]);
/* The hash the chain starts from: a function of the genesis
 * checkpoint's row id and time, so an edited genesis shows. */
int chain_genesis_hash(struct aw_chain_hasher *h, uint64_t row_id,
		       uint64_t time_ns, uint8_t out[AW_CHAIN_HASH]);

/* Walk the chain of db (a read transaction is opened here). */
int chain_verify(sqlite3 *db, const struct aw_chain_anchor *anchors,
		 size_t n_anchors, struct aw_chain_report *ret);

#endif
