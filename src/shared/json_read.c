// SPDX-License-Identifier: GPL-2.0-only
/*
 * The JSON grammar (json_read.h). Recursive descent over the bytes,
 * tokens appended to a growable array; a container's `next` is patched
 * once its last member is read, so a reader skips a subtree in one step.
 * A refusal records where and why once (fail()); the paths above it only
 * pass -1 up, so the hot path carries no diagnostics.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shared/json_read.h"

struct rd {
	struct aw_jdoc *doc;
	const char *s;
	size_t len, pos;
	unsigned flags;
	int err;
};

static __attribute__((noinline, cold)) int fail(struct rd *r, size_t at,
						const char *what)
{
	if (!r->doc->err_what) {
		r->doc->err_off = at;
		r->doc->err_what = what;
	}
	return -1;
}

/* JSONC: comments at r->pos, and the white space between and after
 * them, skipped. Unterminated, a comment is refused and the input taken
 * as read, so whatever was expected next fails too. */
static __attribute__((noinline)) void comments(struct rd *r)
{
	const char *s = r->s;

	while (r->pos < r->len) {
		size_t start = r->pos;
		char c = s[start];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			r->pos++;
			continue;
		}
		if (c != '/' || start + 1 >= r->len)
			return;
		if (s[start + 1] == '/') {
			const char *nl =
			    memchr(s + start, '\n', r->len - start);

			r->pos = nl ? (size_t)(nl - s) : r->len;
			continue;
		}
		if (s[start + 1] != '*')
			return;
		r->pos = 0;
		for (size_t i = start + 2; i + 1 < r->len && !r->pos; i++)
			if (s[i] == '*' && s[i + 1] == '/')
				r->pos = i + 2;
		if (!r->pos) {
			fail(r, start, "unterminated comment");
			r->pos = r->len;
		}
	}
}

/* White space; the comments branch costs the strict reader one compare
 * at the first byte that is not white space. */
static void ws_run(struct rd *r)
{
	while (r->pos < r->len) {
		char c = r->s[r->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			if (c == '/' && (r->flags & AW_JREAD_JSONC))
				comments(r);
			return;
		}
		r->pos++;
	}
}

/* Our own lines have no white space: the next byte decides inline. */
static inline void ws(struct rd *r)
{
	if (r->pos < r->len && (unsigned char)r->s[r->pos] > ' ' &&
	    r->s[r->pos] != '/')
		return;
	ws_run(r);
}

static int tok_grow(struct rd *r)
{
	struct aw_jdoc *d = r->doc;
	size_t cap = d->cap ? d->cap * 2 : 64;
	struct aw_jtok *t;

	/* The bound is checked only as the array grows: none on the hot
	 * path. */
	if (cap > AW_JREAD_TOKENS_MAX)
		cap = AW_JREAD_TOKENS_MAX;
	if (cap <= d->n) {
		r->err = -E2BIG;
		return fail(r, r->pos, "too many values");
	}
	t = realloc(d->tok, cap * sizeof(*t));
	if (!t) {
		r->err = -ENOMEM;
		return fail(r, r->pos, "out of memory");
	}
	d->tok = t;
	d->cap = cap;
	return 0;
}

static inline int tok_new(struct rd *r, enum aw_jtype type, size_t start)
{
	struct aw_jdoc *d = r->doc;
	struct aw_jtok *t;

	if (d->n == d->cap && tok_grow(r) < 0)
		return -1;
	t = &d->tok[d->n];
	t->type = type;
	t->start = start;
	t->len = t->size = t->next = 0;
	return (int)d->n++;
}

static int hex4(const char *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static inline size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && p[1] < 0xa0) /* overlong */
			return 0;
		if (c == 0xed && p[1] >= 0xa0) /* surrogate */
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && p[1] < 0x90) /* overlong */
			return 0;
		if (c == 0xf4 && p[1] >= 0x90) /* above U+10FFFF */
			return 0;
		return 4;
	}
	return 0;
}

size_t aw_utf8_seq_len(const unsigned char *p, size_t n)
{
	return utf8_len(p, n);
}

size_t aw_utf8_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A \u escape at p (the backslash) that is refused: why. */
static __attribute__((noinline, cold)) int bad_u(struct rd *r, size_t start,
						 size_t p)
{
	const char *s = r->s;
	int v;

	if (p + 6 > r->len || (v = hex4(s + p + 2)) < 0) {
		if (!memchr(s + p, '"', r->len - p))
			return fail(r, start - 1, "unterminated string");
		return fail(r, p, "bad \\u escape");
	}
	if (v == 0)
		return fail(r, p, "\\u0000 in a string");
	if (v >= 0xdc00 && v <= 0xdfff)
		return fail(r, p, "lone low surrogate");
	return fail(r, p, "lone high surrogate");
}

static int string(struct rd *r)
{
	const unsigned char *s = (const unsigned char *)r->s;
	size_t start = r->pos + 1, pos = start, len = r->len;
	int t;

	while (pos < len) {
		unsigned char c;

		/* Eight plain bytes at a time: none of '"', '\\', a control
		 * character or a byte >= 0x80 among them. */
		while (pos + 8 <= len) {
			uint64_t x, ones = 0x0101010101010101ull;
			uint64_t high = 0x8080808080808080ull;
			uint64_t q, b;

			memcpy(&x, s + pos, 8);
			q = x ^ (ones * '"');
			b = x ^ (ones * '\\');
			if (((x - ones * 0x20) | (q - ones) | (b - ones) | x) &
			    high)
				break;
			pos += 8;
		}
		if (pos >= len)
			break;
		c = s[pos];
		/* The common case first: printable ASCII. */
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			pos++;
			continue;
		}
		if (c == '"') {
			t = tok_new(r, AW_J_STR, start);
			if (t < 0)
				return -1;
			r->doc->tok[t].len = pos - start;
			r->doc->tok[t].next = t + 1;
			r->pos = pos + 1;
			return t;
		}
		if (c < 0x20)
			return fail(r, pos, "control character in a string");
		if (c == '\\') {
			unsigned char e;

			if (pos + 1 >= len)
				break;
			e = s[pos + 1];
			if (e == 'u') {
				int v;

				/* NUL is refused: values go on as C strings. */
				if (pos + 6 > len ||
				    (v = hex4(r->s + pos + 2)) <= 0)
					return bad_u(r, start, pos);
				/* A high surrogate needs its low half. */
				if (v >= 0xd800 && v <= 0xdbff) {
					int lo;

					if (pos + 12 > len ||
					    s[pos + 6] != '\\' ||
					    s[pos + 7] != 'u' ||
					    (lo = hex4(r->s + pos + 8)) <
						0xdc00 ||
					    lo > 0xdfff)
						return bad_u(r, start, pos);
					pos += 6;
				} else if (v >= 0xdc00 && v <= 0xdfff) {
					return bad_u(r, start, pos);
				}
				pos += 6;
				continue;
			}
			if (!e || !strchr("\"\\/bfnrt", e))
				return fail(r, pos, "bad escape");
			pos += 2;
			continue;
		}
		{
			size_t n = utf8_len(s + pos, len - pos);

			if (!n)
				return fail(r, pos, "invalid UTF-8");
			pos += n;
		}
	}
	return fail(r, start - 1, "unterminated string");
}

static int digits(struct rd *r)
{
	size_t p = r->pos;

	while (r->pos < r->len && r->s[r->pos] >= '0' && r->s[r->pos] <= '9')
		r->pos++;
	return r->pos > p ? 0 : -1;
}

static int number(struct rd *r)
{
	size_t start = r->pos;
	int t;

	if (r->s[r->pos] == '-')
		r->pos++;
	if (r->pos < r->len && r->s[r->pos] == '0')
		r->pos++;
	else if (r->pos >= r->len || r->s[r->pos] < '0' || r->s[r->pos] > '9')
		return fail(r, start, "expected a value");
	else
		digits(r);
	if (r->pos < r->len && r->s[r->pos] == '.') {
		r->pos++;
		if (digits(r) < 0)
			return fail(r, r->pos, "expected a digit");
	}
	if (r->pos < r->len && (r->s[r->pos] == 'e' || r->s[r->pos] == 'E')) {
		r->pos++;
		if (r->pos < r->len &&
		    (r->s[r->pos] == '+' || r->s[r->pos] == '-'))
			r->pos++;
		if (digits(r) < 0)
			return fail(r, r->pos, "expected a digit");
	}
	t = tok_new(r, AW_J_NUM, start);
	if (t < 0)
		return -1;
	r->doc->tok[t].len = r->pos - start;
	r->doc->tok[t].next = t + 1;
	return t;
}

static int literal(struct rd *r, const char *word, enum aw_jtype type)
{
	size_t n = strlen(word);
	int t;

	if (r->len - r->pos < n || memcmp(r->s + r->pos, word, n))
		return fail(r, r->pos, "expected a value");
	t = tok_new(r, type, r->pos);
	if (t < 0)
		return -1;
	r->doc->tok[t].len = n;
	r->doc->tok[t].next = t + 1;
	r->pos += n;
	return t;
}

static int value(struct rd *r, int depth);

static int container(struct rd *r, int depth, int obj)
{
	char close = obj ? '}' : ']';
	int t = tok_new(r, obj ? AW_J_OBJ : AW_J_ARR, r->pos);
	uint32_t size = 0;

	if (t < 0)
		return -1;
	if (depth >= AW_JREAD_DEPTH)
		return fail(r, r->pos, "nested too deeply");
	r->pos++;
	ws(r);
	if (r->pos < r->len && r->s[r->pos] == close) {
		r->pos++;
		goto done;
	}
	for (;;) {
		ws(r);
		if (obj) {
			if (r->pos >= r->len || r->s[r->pos] != '"')
				return fail(r, r->pos, "expected a string key");
			if (string(r) < 0)
				return -1;
			ws(r);
			if (r->pos >= r->len || r->s[r->pos] != ':')
				return fail(r, r->pos, "expected ':'");
			r->pos++;
			ws(r);
		}
		if (value(r, depth + 1) < 0)
			return -1;
		size++;
		ws(r);
		if (r->pos < r->len && r->s[r->pos] == ',') {
			r->pos++;
			if (!(r->flags & AW_JREAD_JSONC))
				continue;
			/* JSONC: a trailing comma before the closer. */
			ws(r);
			if (r->pos < r->len && r->s[r->pos] == close) {
				r->pos++;
				break;
			}
			continue;
		}
		if (r->pos >= r->len || r->s[r->pos] != close)
			return fail(r, r->pos,
				    obj ? "expected ',' or '}'"
					: "expected ',' or ']'");
		r->pos++;
		break;
	}
done:
	r->doc->tok[t].size = size;
	r->doc->tok[t].len = r->pos - r->doc->tok[t].start;
	r->doc->tok[t].next = r->doc->n;
	return t;
}

static int value(struct rd *r, int depth)
{
	if (r->pos >= r->len)
		return fail(r, r->pos, "unexpected end of input");
	switch (r->s[r->pos]) {
	case '{':
		return container(r, depth, 1);
	case '[':
		return container(r, depth, 0);
	case '"':
		return string(r);
	case 't':
		return literal(r, "true", AW_J_TRUE);
	case 'f':
		return literal(r, "false", AW_J_FALSE);
	case 'n':
		return literal(r, "null", AW_J_NULL);
	default:
		if (r->s[r->pos] == '-' ||
		    (r->s[r->pos] >= '0' && r->s[r->pos] <= '9'))
			return number(r);
		return fail(r, r->pos, "expected a value");
	}
}

int aw_jread_flags(struct aw_jdoc *doc, const char *s, size_t len,
		   unsigned flags)
{
	struct rd r = {.doc = doc, .s = s, .len = len, .flags = flags};

	doc->s = s;
	doc->n = 0;
	doc->err_off = 0;
	doc->err_what = NULL;
	if (len >= UINT32_MAX) {
		fail(&r, 0, "document too large");
		return -E2BIG;
	}
	/* A UTF-8 byte order mark, where asked for (editors on other
	 * systems write one into configuration files). */
	if ((flags & AW_JREAD_BOM) && len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3))
		r.pos = 3;
	ws(&r);
	if (value(&r, 0) < 0)
		return r.err ? r.err : -EINVAL;
	ws(&r);
	if (doc->err_what) /* an unterminated comment at the end */
		return -EINVAL;
	if (r.pos != len) {
		fail(&r, r.pos, "data after the document");
		return -EINVAL;
	}
	return 0;
}

int aw_jread(struct aw_jdoc *doc, const char *s, size_t len)
{
	return aw_jread_flags(doc, s, len, 0);
}

void aw_jdoc_free(struct aw_jdoc *doc)
{
	free(doc->tok);
	*doc = (struct aw_jdoc){};
}

int aw_jget(const struct aw_jdoc *doc, int obj, const char *key)
{
	size_t klen = strlen(key);
	uint32_t i;
	int ret = -1;

	if (obj < 0 || doc->tok[obj].type != AW_J_OBJ)
		return -1;
	i = obj + 1;
	for (uint32_t m = 0; m < doc->tok[obj].size; m++) {
		const struct aw_jtok *k = &doc->tok[i];

		if (k->len == klen && !memcmp(doc->s + k->start, key, klen))
			ret = (int)i + 1;
		i = doc->tok[i + 1].next;
	}
	return ret;
}

int aw_jstr_is(const struct aw_jdoc *doc, int i, const char *lit)
{
	size_t n = strlen(lit);

	return i >= 0 && doc->tok[i].type == AW_J_STR && doc->tok[i].len == n &&
	       !memcmp(doc->s + doc->tok[i].start, lit, n);
}

int aw_jint(const struct aw_jdoc *doc, int i, int64_t *ret)
{
	const char *p;
	uint32_t n;
	int neg = 0;
	uint64_t v = 0;

	if (i < 0 || doc->tok[i].type != AW_J_NUM)
		return -EINVAL;
	p = doc->s + doc->tok[i].start;
	n = doc->tok[i].len;
	if (*p == '-') {
		neg = 1;
		p++;
		n--;
	}
	if (!n || n > 19)
		return -EINVAL;
	for (uint32_t k = 0; k < n; k++) {
		if (p[k] < '0' || p[k] > '9')
			return -EINVAL;
		v = v * 10 + (p[k] - '0');
	}
	if (v > INT64_MAX)
		return -EINVAL;
	*ret = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

int aw_jat(const struct aw_jdoc *doc, int arr, uint32_t k)
{
	uint32_t i;

	if (arr < 0 || doc->tok[arr].type != AW_J_ARR ||
	    k >= doc->tok[arr].size)
		return -1;
	i = arr + 1;
	while (k--)
		i = doc->tok[i].next;
	return i;
}

void aw_jget_many(const struct aw_jdoc *doc, int obj, const char *const *keys,
		  size_t n, int *ret)
{
	size_t klen[32];
	uint32_t i;

	for (size_t k = 0; k < n; k++) {
		ret[k] = -1;
		klen[k] = k < 32 ? strlen(keys[k]) : 0;
	}
	if (obj < 0 || doc->tok[obj].type != AW_J_OBJ || n > 32)
		return;
	i = obj + 1;
	for (uint32_t m = 0; m < doc->tok[obj].size; m++) {
		const struct aw_jtok *t = &doc->tok[i];
		const char *s = doc->s + t->start;

		for (size_t k = 0; k < n; k++)
			if (t->len == klen[k] && s[0] == keys[k][0] &&
			    !memcmp(s, keys[k], t->len)) {
				ret[k] = i + 1;
				break;
			}
		i = doc->tok[i + 1].next;
	}
}

size_t aw_jstr_unescape(const struct aw_jdoc *doc, int i, char *out)
{
	const char *p = doc->s + doc->tok[i].start;
	const char *end = p + doc->tok[i].len;
	size_t n = 0;

	/* The grammar above has checked every escape and sequence. */
	while (p < end) {
		const char *bs = memchr(p, '\\', (size_t)(end - p));
		size_t run = bs ? (size_t)(bs - p) : (size_t)(end - p);
		int cp, lo;

		memcpy(out + n, p, run);
		n += run;
		p += run;
		if (!bs)
			break;
		switch (p[1]) {
		case 'b':
			out[n++] = '\b';
			break;
		case 'f':
			out[n++] = '\f';
			break;
		case 'n':
			out[n++] = '\n';
			break;
		case 'r':
			out[n++] = '\r';
			break;
		case 't':
			out[n++] = '\t';
			break;
		case 'u':
			cp = hex4(p + 2);
			if (cp >= 0xd800 && cp <= 0xdbff) {
				lo = hex4(p + 8);
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
				p += 6;
			}
			n += aw_utf8_put(out + n, (uint32_t)cp);
			p += 4;
			break;
		default: /* " \ / */
			out[n++] = p[1];
			break;
		}
		p += 2;
	}
	out[n] = 0;
	return n;
}
