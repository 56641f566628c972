// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/jsonr.h"

struct aw_jv *aw_jv_new(enum aw_jv_kind kind)
{
	struct aw_jv *v = calloc(1, sizeof(*v));

	if (v)
		v->kind = kind;
	return v;
}

void aw_jv_free(struct aw_jv *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		aw_jv_free(v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->s);
	free(v);
}

int aw_jv_add(struct aw_jv *parent, const char *key, size_t key_len,
	      struct aw_jv *item)
{
	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 4;
		struct aw_jv **items =
		    realloc(parent->items, cap * sizeof(*items));

		if (!items)
			goto oom;
		parent->items = items;
		if (parent->kind == AW_JV_OBJ) {
			char **keys =
			    realloc(parent->keys, cap * sizeof(*keys));

			if (!keys)
				goto oom;
			parent->keys = keys;
		}
		parent->cap = cap;
	}
	if (parent->kind == AW_JV_OBJ) {
		char *k = strndup(key, key_len);

		if (!k)
			goto oom;
		parent->keys[parent->n] = k;
	}
	parent->items[parent->n++] = item;
	return 0;
oom:
	aw_jv_free(item);
	return -ENOMEM;
}

const struct aw_jv *aw_jv_get(const struct aw_jv *v, const char *key)
{
	if (!v || v->kind != AW_JV_OBJ)
		return NULL;
	for (size_t i = v->n; i-- > 0;)
		if (!strcmp(v->keys[i], key))
			return v->items[i];
	return NULL;
}

const char *aw_jv_get_str(const struct aw_jv *v, const char *key)
{
	const struct aw_jv *s = aw_jv_get(v, key);

	return s && s->kind == AW_JV_STR ? s->s : NULL;
}

struct jp {
	const char *d;
	size_t len, pos;
	unsigned flags;
	size_t nodes;
	const char *name;
	struct aw_diag *diag;
	int err;
	/* Place of the last value, advanced forward only (values are met
	 * in order): O(n) for the document, not O(n) per value. */
	size_t pl_off;
	unsigned pl_line, pl_col;
};

static void jp_place(struct jp *p, size_t at, unsigned *line, unsigned *col)
{
	if (at < p->pl_off) {
		aw_text_place(p->d, p->len, at, line, col);
		return;
	}
	for (; p->pl_off < at && p->pl_off < p->len; p->pl_off++) {
		unsigned char ch = (unsigned char)p->d[p->pl_off];

		if (ch == '\n') {
			p->pl_line++;
			p->pl_col = 1;
		} else if ((ch & 0xc0) != 0x80) {
			p->pl_col++;
		}
	}
	*line = p->pl_line;
	*col = p->pl_col;
}

static int jp_fail(struct jp *p, size_t at, const char *what)
{
	unsigned line, col;

	if (p->err)
		return p->err;
	aw_text_place(p->d, p->len, at, &line, &col);
	aw_diag_set(p->diag, p->name, line, col, "%s", what);
	p->err = -EINVAL;
	return p->err;
}

static int jp_oom(struct jp *p)
{
	if (!p->err) {
		aw_diag_set(p->diag, p->name, 0, 0, "out of memory");
		p->err = -ENOMEM;
	}
	return p->err;
}

/* Skip white space and, in JSONC mode, comments. */
static int jp_ws(struct jp *p)
{
	while (p->pos < p->len) {
		char c = p->d[p->pos];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			p->pos++;
			continue;
		}
		if (c != '/' || !(p->flags & AW_JSONR_JSONC) ||
		    p->pos + 1 >= p->len)
			return 0;
		if (p->d[p->pos + 1] == '/') {
			while (p->pos < p->len && p->d[p->pos] != '\n')
				p->pos++;
		} else if (p->d[p->pos + 1] == '*') {
			size_t start = p->pos;
			const char *end = NULL;

			p->pos += 2;
			for (size_t i = p->pos; i + 1 < p->len; i++)
				if (p->d[i] == '*' && p->d[i + 1] == '/') {
					end = p->d + i;
					break;
				}
			if (!end)
				return jp_fail(p, start,
					       "unterminated comment");
			p->pos = (size_t)(end - p->d) + 2;
		} else {
			return 0;
		}
	}
	return 0;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid
 * (overlong forms, surrogates and values above U+10FFFF are invalid). */
size_t aw_utf8_seq_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t k;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		k = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		k = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		k = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return k;
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

static int hex4(const char *s, uint32_t *ret)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*ret = v;
	return 0;
}

/* A string at p->pos (the opening quote). The decoded text is never
 * longer than the source, so one allocation of the source's length. */
static int jp_string(struct jp *p, char **ret, size_t *ret_len)
{
	size_t start = p->pos, end, n = 0;
	char *o;

	p->pos++;
	for (end = p->pos; end < p->len && p->d[end] != '"'; end++)
		if (p->d[end] == '\\')
			end++;
	if (end >= p->len)
		return jp_fail(p, start, "unterminated string");
	o = malloc(end - p->pos + 1);
	if (!o)
		return jp_oom(p);
	while (p->pos < end) {
		unsigned char c = (unsigned char)p->d[p->pos];

		if (c < 0x20) {
			free(o);
			return jp_fail(p, p->pos,
				       "control character in a string");
		}
		if (c != '\\') {
			size_t k = aw_utf8_seq_len(
			    (const unsigned char *)p->d + p->pos, end - p->pos);

			if (!k) {
				free(o);
				return jp_fail(p, p->pos, "invalid UTF-8");
			}
			memcpy(o + n, p->d + p->pos, k);
			n += k;
			p->pos += k;
			continue;
		}
		char e = p->d[p->pos + 1];
		uint32_t cp, lo;
		const char *m = NULL;

		switch (e) {
		case '"':
		case '\\':
		case '/':
			o[n++] = e;
			break;
		case 'b':
			o[n++] = '\b';
			break;
		case 'f':
			o[n++] = '\f';
			break;
		case 'n':
			o[n++] = '\n';
			break;
		case 'r':
			o[n++] = '\r';
			break;
		case 't':
			o[n++] = '\t';
			break;
		case 'u':
			if (end - p->pos < 6 || hex4(p->d + p->pos + 2, &cp)) {
				m = "bad \\u escape";
				break;
			}
			if (cp == 0) {
				m = "\\u0000 in a string";
				break;
			}
			if (cp >= 0xdc00 && cp <= 0xdfff) {
				m = "lone low surrogate";
				break;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (end - p->pos < 12 ||
				    p->d[p->pos + 6] != '\\' ||
				    p->d[p->pos + 7] != 'u' ||
				    hex4(p->d + p->pos + 8, &lo) ||
				    lo < 0xdc00 || lo > 0xdfff) {
					m = "lone high surrogate";
					break;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
				p->pos += 6;
			}
			n += aw_utf8_put(o + n, cp);
			p->pos += 4;
			break;
		default:
			m = "bad escape";
			break;
		}
		if (m) {
			free(o);
			return jp_fail(p, p->pos, m);
		}
		p->pos += 2;
	}
	o[n] = 0;
	p->pos = end + 1;
	*ret = o;
	*ret_len = n;
	return 0;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int jp_number(struct jp *p, struct aw_jv *v)
{
	size_t start = p->pos, i = p->pos;

	if (i < p->len && p->d[i] == '-')
		i++;
	if (i < p->len && p->d[i] == '0')
		i++;
	else if (i < p->len && is_digit(p->d[i]))
		while (i < p->len && is_digit(p->d[i]))
			i++;
	else
		return jp_fail(p, start, "expected a value");
	if (i < p->len && p->d[i] == '.') {
		if (++i >= p->len || !is_digit(p->d[i]))
			return jp_fail(p, i, "expected a digit");
		while (i < p->len && is_digit(p->d[i]))
			i++;
	}
	if (i < p->len && (p->d[i] == 'e' || p->d[i] == 'E')) {
		i++;
		if (i < p->len && (p->d[i] == '+' || p->d[i] == '-'))
			i++;
		if (i >= p->len || !is_digit(p->d[i]))
			return jp_fail(p, i, "expected a digit");
		while (i < p->len && is_digit(p->d[i]))
			i++;
	}
	v->s = strndup(p->d + start, i - start);
	if (!v->s)
		return jp_oom(p);
	v->len = i - start;
	p->pos = i;
	return 0;
}

static int jp_word(struct jp *p, const char *w)
{
	size_t n = strlen(w);

	if (p->len - p->pos < n || memcmp(p->d + p->pos, w, n))
		return 0;
	p->pos += n;
	return 1;
}

static int jp_value(struct jp *p, unsigned depth, struct aw_jv **ret);

/* After an element: ',' (then, in JSONC, maybe the closer) or closer.
 * Returns 1 when the container ends, 0 to read another element. */
static int jp_next(struct jp *p, char closer)
{
	if (jp_ws(p))
		return p->err;
	if (p->pos < p->len && p->d[p->pos] == closer) {
		p->pos++;
		return 1;
	}
	if (p->pos >= p->len || p->d[p->pos] != ',')
		return jp_fail(p, p->pos,
			       closer == '}' ? "expected ',' or '}'"
					     : "expected ',' or ']'");
	p->pos++;
	if (jp_ws(p))
		return p->err;
	if ((p->flags & AW_JSONR_JSONC) && p->pos < p->len &&
	    p->d[p->pos] == closer) {
		p->pos++;
		return 1;
	}
	return 0;
}

static int jp_container(struct jp *p, unsigned depth, struct aw_jv *v)
{
	char closer = v->kind == AW_JV_OBJ ? '}' : ']';
	int r;

	p->pos++;
	if (jp_ws(p))
		return p->err;
	if (p->pos < p->len && p->d[p->pos] == closer) {
		p->pos++;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		size_t key_len = 0;
		struct aw_jv *item = NULL;

		if (v->kind == AW_JV_OBJ) {
			if (p->pos >= p->len || p->d[p->pos] != '"')
				return jp_fail(p, p->pos,
					       "expected a string key");
			if (jp_string(p, &key, &key_len))
				return p->err;
			if (jp_ws(p) || p->pos >= p->len ||
			    p->d[p->pos] != ':') {
				free(key);
				return jp_fail(p, p->pos, "expected ':'");
			}
			p->pos++;
		}
		r = jp_value(p, depth + 1, &item);
		if (r) {
			free(key);
			return r;
		}
		r = aw_jv_add(v, key, key_len, item);
		free(key);
		if (r)
			return jp_oom(p);
		r = jp_next(p, closer);
		if (r < 0)
			return r;
		if (r == 1)
			return 0;
	}
}

static int jp_value(struct jp *p, unsigned depth, struct aw_jv **ret)
{
	struct aw_jv *v;
	unsigned line, col;
	int r = 0;

	if (jp_ws(p))
		return p->err;
	if (p->pos >= p->len)
		return jp_fail(p, p->pos, "unexpected end of input");
	if (depth > AW_JSONR_DEPTH_MAX)
		return jp_fail(p, p->pos, "nested too deeply");
	if (++p->nodes > AW_JSONR_NODES_MAX)
		return jp_fail(p, p->pos, "too many values");
	v = aw_jv_new(AW_JV_NULL);
	if (!v)
		return jp_oom(p);
	jp_place(p, p->pos, &line, &col);
	v->line = line;
	v->column = col;
	switch (p->d[p->pos]) {
	case '{':
		v->kind = AW_JV_OBJ;
		r = jp_container(p, depth, v);
		break;
	case '[':
		v->kind = AW_JV_ARR;
		r = jp_container(p, depth, v);
		break;
	case '"':
		v->kind = AW_JV_STR;
		r = jp_string(p, &v->s, &v->len);
		break;
	default:
		if (jp_word(p, "true")) {
			v->kind = AW_JV_BOOL;
			v->b = 1;
		} else if (jp_word(p, "false")) {
			v->kind = AW_JV_BOOL;
		} else if (jp_word(p, "null")) {
			v->kind = AW_JV_NULL;
		} else {
			v->kind = AW_JV_NUM;
			r = jp_number(p, v);
		}
		break;
	}
	if (r) {
		aw_jv_free(v);
		return r;
	}
	*ret = v;
	return 0;
}

int aw_jsonr_parse(const char *data, size_t len, unsigned flags,
		   const char *name, struct aw_jv **ret, struct aw_diag *diag)
{
	struct jp p = {.d = data,
		       .len = len,
		       .flags = flags,
		       .name = name,
		       .diag = diag,
		       .pl_line = 1,
		       .pl_col = 1};
	struct aw_jv *v = NULL;

	/* A UTF-8 byte order mark is tolerated (editors on other systems
	 * write one). */
	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
		p.pos = 3;
	if (jp_value(&p, 0, &v))
		return p.err;
	if (jp_ws(&p)) {
		aw_jv_free(v);
		return p.err;
	}
	if (p.pos != len) {
		aw_jv_free(v);
		return jp_fail(&p, p.pos, "data after the document");
	}
	*ret = v;
	return 0;
}
