/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * JSON as a tree of struct aw_jv (the writer is json.h), for files other
 * programs wrote and a hostile user may have edited (agents'
 * configuration files). The grammar, its escapes, UTF-8 rules and limits
 * (nesting depth AW_JREAD_DEPTH, AW_JREAD_TOKENS_MAX values and keys; the
 * caller bounds the input size) are json_read.h's, the one JSON reader; this
 * builds the tree from its tokens. Strings may not contain NUL (raw or
 * \u0000): values are handed on as C strings. A duplicate key in an
 * object is kept; aw_jv_get() returns the last one, which is what the
 * JavaScript programs that read these files see. A leading UTF-8 byte
 * order mark is skipped.
 *
 * With AW_JSONR_JSONC, comments (// and slash-star) and trailing commas
 * are accepted, as VS Code's and opencode's configuration files allow.
 *
 * The TOML reader (src/shared/toml.c) builds the same tree, so code
 * that looks values up works on either.
 */
#ifndef AW_JSONR_H
#define AW_JSONR_H

#include <stddef.h>
#include <stdint.h>

#include "shared/diag.h"
#include "shared/json_read.h"

/* The TOML reader's bounds (its tree is this one). */
#define AW_JSONR_DEPTH_MAX 64
#define AW_JSONR_NODES_MAX AW_JREAD_TOKENS_MAX

enum aw_jv_kind {
	AW_JV_NULL = 1,
	AW_JV_BOOL,
	AW_JV_NUM, /* s holds the number's text (TOML: also dates) */
	AW_JV_STR,
	AW_JV_ARR,
	AW_JV_OBJ,
};

struct aw_jv {
	enum aw_jv_kind kind;
	int b;		       /* AW_JV_BOOL */
	unsigned flags;	       /* the TOML reader's bookkeeping */
	unsigned line, column; /* where the value starts, 1-based */
	char *s;	       /* AW_JV_STR, AW_JV_NUM: NUL-terminated */
	size_t len;	       /* bytes in s */
	struct aw_jv **items;  /* array elements, object values */
	char **keys;	       /* object keys, parallel to items */
	size_t n, cap;
};

enum {
	AW_JSONR_JSONC = AW_JREAD_JSONC, /* comments and trailing commas */
};

/* Parse len bytes. name is used in diagnostics. Returns 0 and the tree in
 * *ret, or -EINVAL (syntax, limits; diag says where and why) or -ENOMEM. */
int aw_jsonr_parse(const char *data, size_t len, unsigned flags,
		   const char *name, struct aw_jv **ret, struct aw_diag *diag);
void aw_jv_free(struct aw_jv *v);

/* The value of key in an object (the last if repeated), or NULL (also
 * when v is NULL or not an object). */
const struct aw_jv *aw_jv_get(const struct aw_jv *v, const char *key);
/* The string value of key, or NULL when absent or not a string. */
const char *aw_jv_get_str(const struct aw_jv *v, const char *key);

/* Building (shared with the TOML reader). aw_jv_new returns NULL on
 * allocation failure; aw_jv_add appends (key NULL for arrays), taking
 * ownership of item, and returns -ENOMEM (item freed) on failure. */
struct aw_jv *aw_jv_new(enum aw_jv_kind kind);
int aw_jv_add(struct aw_jv *parent, const char *key, size_t key_len,
	      struct aw_jv *item);

/* UTF-8 (aw_utf8_seq_len, aw_utf8_put): json_read.h. */

#endif
