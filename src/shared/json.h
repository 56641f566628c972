/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small JSON writer into a growable buffer. Strings are escaped per
 * RFC 8259; bytes that are not valid UTF-8 become U+FFFD so that every
 * record stays valid JSON whatever a hostile argv or file name contains.
 */
#ifndef AW_JSON_H
#define AW_JSON_H

#include <stddef.h>
#include <stdint.h>

struct aw_buf {
	char *data;
	size_t len;
	size_t cap;
	int oom; /* sticky: set when an allocation failed */
};

void aw_buf_free(struct aw_buf *b);
void aw_buf_reset(struct aw_buf *b);
void aw_buf_add_slow(struct aw_buf *b, const char *s, size_t n);

/* Inline fast path: events are built from many short pieces and the call
 * and capacity check were a fifth of the daemon's time in a storm. The
 * buffer is always NUL-terminated. */
static inline void aw_buf_add(struct aw_buf *b, const char *s, size_t n)
{
	if (n <= 4096 && b->data && !b->oom && n < b->cap - b->len) {
		__builtin_memcpy(b->data + b->len, s, n);
		b->len += n;
		b->data[b->len] = 0;
		return;
	}
	aw_buf_add_slow(b, s, n);
}

/* strlen of a literal folds to a constant here. */
static inline void aw_buf_puts(struct aw_buf *b, const char *s)
{
	aw_buf_add(b, s, __builtin_strlen(s));
}
/* Decimal numbers by hand: vsnprintf was a tenth of the daemon's time in
 * an event storm (events, OCSF lines, metrics all format through these). */
static inline void aw_buf_put_u64(struct aw_buf *b, unsigned long long v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	aw_buf_add(b, tmp + i, sizeof(tmp) - i);
}

static inline void aw_buf_put_i64(struct aw_buf *b, long long v)
{
	if (v < 0) {
		aw_buf_add(b, "-", 1);
		aw_buf_put_u64(b, -(unsigned long long)v);
	} else {
		aw_buf_put_u64(b, (unsigned long long)v);
	}
}

void aw_buf_printf(struct aw_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Append a quoted, escaped JSON string of n bytes. */
void aw_json_str(struct aw_buf *b, const char *s, size_t n);
static inline void aw_json_cstr(struct aw_buf *b, const char *s)
{
	if (!s) {
		aw_buf_add(b, "null", 4);
		return;
	}
	aw_json_str(b, s, __builtin_strlen(s));
}
/* `"key":` */
void aw_json_key(struct aw_buf *b, const char *key);

/* Printable form for terminals: control chars and invalid UTF-8 as \xNN. */
void aw_text_sanitize(struct aw_buf *b, const char *s, size_t n);

#endif
