/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small strict JSON reader (RFC 8259) for our own event lines: it
 * tokenizes in place, like a flat DOM, and never copies or unescapes a
 * string. Readers compare and re-emit the raw (still escaped) text, which
 * is valid JSON string content as it is. Anything that is not one JSON
 * value (trailing bytes, raw control characters in strings, bad escapes,
 * bad numbers, invalid UTF-8, nesting past AW_JREAD_DEPTH) is refused.
 */
#ifndef AW_JSON_READ_H
#define AW_JSON_READ_H

#include <stddef.h>
#include <stdint.h>

#define AW_JREAD_DEPTH 32

enum aw_jtype {
	AW_J_NULL,
	AW_J_FALSE,
	AW_J_TRUE,
	AW_J_NUM,
	AW_J_STR,
	AW_J_ARR,
	AW_J_OBJ,
};

/* One value. Strings: start/len are the content between the quotes (raw,
 * escapes kept). Numbers, literals: their text. Arrays and objects: the
 * brackets' span; size is the count of elements or members, and an
 * object's members follow it as key token, value tokens. */
struct aw_jtok {
	uint8_t type;
	uint32_t start, len;
	uint32_t size;
	uint32_t next; /* index of the first token after this value */
};

struct aw_jdoc {
	const char *s;
	struct aw_jtok *tok;
	size_t n, cap; /* grows as needed; reused across parses */
};

/* Parse s[0..len) into doc (doc->tok[0] is the root). 0 or -EINVAL
 * (not strict JSON), -ENOMEM, -E2BIG (past 1 << 20 tokens). */
int aw_jread(struct aw_jdoc *doc, const char *s, size_t len);
void aw_jdoc_free(struct aw_jdoc *doc);

/* The value of key in the object at index obj, or -1. */
int aw_jget(const struct aw_jdoc *doc, int obj, const char *key);
/* aw_jget for n keys (n <= 32) in one pass: ret[k] for keys[k]. */
void aw_jget_many(const struct aw_jdoc *doc, int obj, const char *const *keys,
		  size_t n, int *ret);
/* 1 if token i is a string whose raw text is exactly lit. */
int aw_jstr_is(const struct aw_jdoc *doc, int i, const char *lit);
/* Integer value of a number token (no fraction or exponent); -EINVAL. */
int aw_jint(const struct aw_jdoc *doc, int i, int64_t *ret);
/* Child k of an array (k < size), or -1. */
int aw_jat(const struct aw_jdoc *doc, int arr, uint32_t k);

#endif
