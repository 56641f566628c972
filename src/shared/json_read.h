/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The project's one JSON grammar (RFC 8259), strict: it tokenizes in
 * place, like a flat DOM, and never copies a string. Readers of our own
 * event lines compare and re-emit the raw (still escaped) text, which is
 * valid JSON string content as it is; the tree reader (jsonr.h) builds on
 * the same tokens and unescapes with aw_jstr_unescape(). Anything that is
 * not one JSON value is refused: trailing bytes, raw control characters
 * in strings, bad escapes, lone surrogates, \u0000 (values are handed on
 * as C strings), bad numbers, invalid UTF-8, nesting past AW_JREAD_DEPTH
 * containers, more than AW_JREAD_TOKENS_MAX tokens (values and keys). The
 * escapes, number syntax, UTF-8 rules and limits live here and nowhere else.
 *
 * AW_JREAD_JSONC also accepts comments (// and slash-star) and trailing
 * commas; AW_JREAD_BOM skips a leading UTF-8 byte order mark.
 */
#ifndef AW_JSON_READ_H
#define AW_JSON_READ_H

#include <stddef.h>
#include <stdint.h>

#define AW_JREAD_DEPTH 32
#define AW_JREAD_TOKENS_MAX (256 * 1024) /* values and keys */

enum {
	AW_JREAD_JSONC = 1 << 0, /* comments and trailing commas */
	AW_JREAD_BOM = 1 << 1,	 /* a leading byte order mark is skipped */
};

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
	/* After a refusal: the byte offset at fault and why (a message
	 * for a diagnostic; line and column are the caller's to compute). */
	size_t err_off;
	const char *err_what;
};

/* Parse s[0..len) into doc (doc->tok[0] is the root). 0 or -EINVAL
 * (not strict JSON), -ENOMEM, -E2BIG (past AW_JREAD_TOKENS_MAX tokens or
 * 4 GiB of input). aw_jread_flags: the same with AW_JREAD_* flags. */
int aw_jread(struct aw_jdoc *doc, const char *s, size_t len);
int aw_jread_flags(struct aw_jdoc *doc, const char *s, size_t len,
		   unsigned flags);
void aw_jdoc_free(struct aw_jdoc *doc);

/* The value of key in the object at index obj, or -1. A repeated key:
 * the last one, as JavaScript's JSON.parse and the tree reader see it. */
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
/* The decoded text of string token i into out (room for its raw len + 1
 * bytes: decoding never lengthens), NUL-terminated; its length. */
size_t aw_jstr_unescape(const struct aw_jdoc *doc, int i, char *out);

/* UTF-8 (also the TOML reader's): the length of the well-formed sequence
 * at s (n bytes left; 1 for ASCII, 0 if invalid: overlong, surrogate,
 * above U+10FFFF, cut short), and the encoding of a code point into o (up
 * to 4 bytes), its length. */
size_t aw_utf8_seq_len(const unsigned char *s, size_t n);
size_t aw_utf8_put(char *o, uint32_t cp);

#endif
