// SPDX-License-Identifier: GPL-2.0-only
/*
 * JSON and terminal renderings of untrusted bytes. Everything printed here
 * may come from a hostile argv, file name or executable path, so the
 * output must stay valid JSON (for the SIEM) and inert text (for a
 * terminal) whatever the input holds. No allocation failure aborts: the
 * buffer records it (oom) and the caller drops the record and counts it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/json.h"

#define BUF_MIN 256

void aw_buf_free(struct aw_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

/* The contents the oom flag was about are gone, so the flag goes too. */
void aw_buf_reset(struct aw_buf *b)
{
	b->len = 0;
	b->oom = 0;
	if (b->data)
		b->data[0] = 0;
}

/* Room for `extra` more bytes plus a NUL kept after the data, so that
 * data is always a C string when it is not NULL. */
static int buf_reserve(struct aw_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (b->oom)
		return -1;
	if (extra > SIZE_MAX - b->len - 1)
		goto oom;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : BUF_MIN;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	p = realloc(b->data, cap);
	if (!p)
		goto oom;
	b->data = p;
	b->cap = cap;
	return 0;
oom:
	b->oom = 1;
	return -1;
}

/* Slow path of aw_buf_add (json.h): grow, then copy. */
void aw_buf_add_slow(struct aw_buf *b, const char *s, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return;
	if (n)
		memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = 0;
}

void aw_buf_printf(struct aw_buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t avail;
	int n;

	if (buf_reserve(b, 64) < 0)
		return;
	avail = b->cap - b->len;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, avail, fmt, ap);
	va_end(ap);
	if (n < 0) {
		/* Only an invalid format gets here: keep the buffer as it was
		 * and report it the same way as any other lost record. */
		b->data[b->len] = 0;
		b->oom = 1;
		return;
	}
	if ((size_t)n >= avail) {
		if (buf_reserve(b, (size_t)n) < 0) {
			if (b->data)
				b->data[b->len] = 0;
			return;
		}
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

/*
 * Length of the well-formed UTF-8 sequence at s (RFC 3629 table 3-7), or 0
 * if the byte at s does not start one. This rejects overlong forms (C0, C1,
 * E0 80-9F, F0 80-8F), UTF-16 surrogates (ED A0-BF) and code points above
 * U+10FFFF (F4 90-BF, F5-FF). *ret_cp gets the code point.
 */
static size_t utf8_seq(const unsigned char *s, size_t n, unsigned *ret_cp)
{
	unsigned c = s[0], lo = 0x80, hi = 0xbf, cp;
	size_t len;

	if (c < 0x80) {
		*ret_cp = c;
		return 1;
	}
	if (c < 0xc2)
		return 0; /* continuation byte, or C0/C1 overlong lead */
	if (c < 0xe0) {
		len = 2;
		cp = c & 0x1f;
	} else if (c < 0xf0) {
		len = 3;
		cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c < 0xf5) {
		len = 4;
		cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	cp = (cp << 6) | (s[1] & 0x3f);
	for (size_t i = 2; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	*ret_cp = cp;
	return len;
}

/* Code points a terminal acts on, or that reorder or break the displayed
 * line ("Trojan Source"): C1 controls, bidi controls, line separators. */
static int cp_is_display_control(unsigned cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e ||
	       cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029;
}

static const char hexdig[] = "0123456789abcdef";

void aw_json_str(struct aw_buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;

	if (!str)
		n = 0;
	aw_buf_add(b, "\"", 1);
	while (i < n && !b->oom) {
		unsigned c = s[i], cp;
		size_t len;
		char esc[8];

		/* Copy plain ASCII in runs: most of what we print is. The
		 * inner loop is the hot path of every event. */
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			size_t j = i + 1;

			while (j < n && s[j] >= 0x20 && s[j] < 0x7f &&
			       s[j] != '"' && s[j] != '\\')
				j++;
			run += j - i;
			i = j;
			continue;
		}
		if (run) {
			aw_buf_add(b, (const char *)s + i - run, run);
			run = 0;
		}
		switch (c) {
		case '"':
			aw_buf_add(b, "\\\"", 2);
			i++;
			continue;
		case '\\':
			aw_buf_add(b, "\\\\", 2);
			i++;
			continue;
		case '\n':
			aw_buf_add(b, "\\n", 2);
			i++;
			continue;
		case '\r':
			aw_buf_add(b, "\\r", 2);
			i++;
			continue;
		case '\t':
			aw_buf_add(b, "\\t", 2);
			i++;
			continue;
		case '\b':
			aw_buf_add(b, "\\b", 2);
			i++;
			continue;
		case '\f':
			aw_buf_add(b, "\\f", 2);
			i++;
			continue;
		}
		len = utf8_seq(s + i, n - i, &cp);
		if (!len) {
			/* Each byte that is not part of a well-formed sequence
			 * is replaced on its own; resynchronise on the next. */
			aw_buf_add(b, "\\ufffd", 6);
			i++;
			continue;
		}
		if (cp < 0x20 || cp == 0x7f || cp_is_display_control(cp)) {
			/* Valid JSON either way; escaped, a JSON line can also
			 * be shown on a terminal without acting on it. */
			esc[0] = '\\';
			esc[1] = 'u';
			esc[2] = hexdig[(cp >> 12) & 0xf];
			esc[3] = hexdig[(cp >> 8) & 0xf];
			esc[4] = hexdig[(cp >> 4) & 0xf];
			esc[5] = hexdig[cp & 0xf];
			aw_buf_add(b, esc, 6);
		} else {
			aw_buf_add(b, (const char *)s + i, len);
		}
		i += len;
	}
	if (run)
		aw_buf_add(b, (const char *)s + i - run, run);
	aw_buf_add(b, "\"", 1);
}

void aw_json_key(struct aw_buf *b, const char *key)
{
	aw_json_str(b, key, strlen(key));
	aw_buf_add(b, ":", 1);
}

static void add_hex_bytes(struct aw_buf *b, const unsigned char *s, size_t n)
{
	char esc[4] = {'\\', 'x', 0, 0};

	for (size_t k = 0; k < n; k++) {
		esc[2] = hexdig[s[k] >> 4];
		esc[3] = hexdig[s[k] & 0xf];
		aw_buf_add(b, esc, 4);
	}
}

void aw_text_sanitize(struct aw_buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;

	if (!str)
		return;
	/* A backslash is left as it is: this is for reading, not for
	 * parsing back, and doubling every backslash in Windows-ish paths
	 * would hurt more than the rare ambiguity with a literal "\x". */
	while (i < n && !b->oom) {
		unsigned c = s[i], cp;
		size_t len;

		if (c >= 0x20 && c < 0x7f) {
			i++;
			run++;
			continue;
		}
		if (run) {
			aw_buf_add(b, (const char *)s + i - run, run);
			run = 0;
		}
		len = utf8_seq(s + i, n - i, &cp);
		if (!len || cp < 0x20 || cp == 0x7f ||
		    cp_is_display_control(cp)) {
			/* Show the raw bytes of what a terminal could act on,
			 * or of what is not text at all. */
			if (!len)
				len = 1;
			add_hex_bytes(b, s + i, len);
		} else {
			aw_buf_add(b, (const char *)s + i, len);
		}
		i += len;
	}
	if (run)
		aw_buf_add(b, (const char *)s + i - run, run);
}
