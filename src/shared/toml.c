// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/toml.h"
#include "shared/util.h"

/* struct aw_jv.flags of tables and arrays, for TOML's rules on what may
 * be defined where. */
enum {
	TF_EXPLICIT = 1 << 0, /* a [header] defined this table */
	TF_DOTTED = 1 << 1,   /* dotted keys in a key/value line made it */
	TF_INLINE = 1 << 2,   /* an inline table or array value: closed */
	TF_AOT = 1 << 3,      /* an array of tables ([[header]]) */
};

#define TOML_KEY_PARTS_MAX 64

struct tp {
	const char *d;
	size_t len, pos;
	const char *name;
	struct aw_diag *diag;
	size_t nodes;
	int err;
	size_t pl_off;
	unsigned pl_line, pl_col;
};

struct tkey {
	char *part[TOML_KEY_PARTS_MAX];
	size_t part_len[TOML_KEY_PARTS_MAX];
	size_t n;
	size_t at[TOML_KEY_PARTS_MAX]; /* offsets, for diagnostics */
};

static void tkey_free(struct tkey *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->part[i]);
	k->n = 0;
}

static int tp_fail(struct tp *p, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int tp_fail(struct tp *p, size_t at, const char *fmt, ...)
{
	unsigned line, col;
	char msg[200];
	va_list ap;

	if (p->err)
		return p->err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	aw_text_place(p->d, p->len, at, &line, &col);
	aw_diag_set(p->diag, p->name, line, col, "%s", msg);
	p->err = -EINVAL;
	return p->err;
}

/* Place of a value, advanced forward only (values are met nearly in
 * order): O(n) for the document rather than O(n) per value. */
static void tp_place(struct tp *p, size_t at, unsigned *line, unsigned *col)
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

static int tp_oom(struct tp *p)
{
	if (!p->err) {
		aw_diag_set(p->diag, p->name, 0, 0, "out of memory");
		p->err = -ENOMEM;
	}
	return p->err;
}

static int peek(struct tp *p, size_t ahead)
{
	return p->pos + ahead < p->len ? (unsigned char)p->d[p->pos + ahead]
				       : -1;
}

static void skip_ws(struct tp *p)
{
	while (peek(p, 0) == ' ' || peek(p, 0) == '\t')
		p->pos++;
}

/* A comment runs to the end of the line; control characters other than
 * tab are not allowed in it, nor is invalid UTF-8. */
static int skip_comment(struct tp *p)
{
	if (peek(p, 0) != '#')
		return 0;
	while (p->pos < p->len && p->d[p->pos] != '\n') {
		unsigned char c = (unsigned char)p->d[p->pos];
		size_t k;

		if (c == '\r' && peek(p, 1) == '\n') {
			p->pos++;
			continue;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return tp_fail(p, p->pos,
				       "control character in a comment");
		k = aw_utf8_seq_len((const unsigned char *)p->d + p->pos,
				    p->len - p->pos);
		if (!k)
			return tp_fail(p, p->pos, "invalid UTF-8");
		p->pos += k;
	}
	return 0;
}

/* End of a line: white space, a comment, then a newline or the end. */
static int end_of_line(struct tp *p)
{
	skip_ws(p);
	if (skip_comment(p))
		return p->err;
	if (p->pos >= p->len)
		return 0;
	if (peek(p, 0) == '\n') {
		p->pos++;
		return 0;
	}
	if (peek(p, 0) == '\r' && peek(p, 1) == '\n') {
		p->pos += 2;
		return 0;
	}
	return tp_fail(p, p->pos, "expected the end of the line");
}

/* White space, newlines and comments (inside arrays). */
static int skip_ws_nl(struct tp *p)
{
	for (;;) {
		skip_ws(p);
		if (skip_comment(p))
			return p->err;
		if (peek(p, 0) == '\n')
			p->pos++;
		else if (peek(p, 0) == '\r' && peek(p, 1) == '\n')
			p->pos += 2;
		else
			return 0;
	}
}

/*
 * A string at p->pos: "basic", 'literal', """multi-line basic""" or
 * '''multi-line literal'''. multi is 0 for keys (which cannot be
 * multi-line). The decoded text is never longer than the source.
 */
static int parse_string(struct tp *p, int allow_multi, char **ret,
			size_t *ret_len)
{
	size_t start = p->pos, n = 0;
	char q = p->d[p->pos];
	int multi = 0, literal = q == '\'';
	char *o;

	if (allow_multi && peek(p, 1) == q && peek(p, 2) == q) {
		multi = 1;
		p->pos += 3;
		/* A newline right after the opening delimiter is trimmed. */
		if (peek(p, 0) == '\n')
			p->pos++;
		else if (peek(p, 0) == '\r' && peek(p, 1) == '\n')
			p->pos += 2;
	} else {
		p->pos++;
	}
	o = malloc(p->len - p->pos + 1);
	if (!o)
		return tp_oom(p);
	for (;;) {
		int c = peek(p, 0);
		size_t k;

		if (c < 0) {
			free(o);
			return tp_fail(p, start, "unterminated string");
		}
		if (c == q) {
			if (!multi) {
				p->pos++;
				break;
			}
			if (peek(p, 1) == q && peek(p, 2) == q) {
				/* Up to two more quotes may close it:
				 * """a""""" is a"" */
				size_t extra = 0;

				while (extra < 2 && peek(p, 3 + extra) == q)
					extra++;
				for (size_t i = 0; i < extra; i++)
					o[n++] = q;
				p->pos += 3 + extra;
				break;
			}
			o[n++] = (char)c;
			p->pos++;
			continue;
		}
		if (c == '\n' || (c == '\r' && peek(p, 1) == '\n')) {
			if (!multi) {
				free(o);
				return tp_fail(p, p->pos,
					       "newline in a string");
			}
			if (c == '\r')
				p->pos++;
			o[n++] = '\n';
			p->pos++;
			continue;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			free(o);
			return tp_fail(p, p->pos,
				       "control character in a string");
		}
		if (c == '\\' && !literal) {
			int e = peek(p, 1);
			uint32_t cp = 0;
			int digits = 0;

			switch (e) {
			case 'b':
				o[n++] = '\b';
				break;
			case 't':
				o[n++] = '\t';
				break;
			case 'n':
				o[n++] = '\n';
				break;
			case 'f':
				o[n++] = '\f';
				break;
			case 'r':
				o[n++] = '\r';
				break;
			case 'e':
				o[n++] = 0x1b;
				break;
			case '"':
				o[n++] = '"';
				break;
			case '\\':
				o[n++] = '\\';
				break;
			case 'u':
				digits = 4;
				break;
			case 'U':
				digits = 8;
				break;
			default:
				if (multi && (e == ' ' || e == '\t' ||
					      e == '\n' || e == '\r')) {
					/* Line-ending backslash: trims the
					 * white space and newlines after it,
					 * and must be followed by a newline. */
					size_t q0 = p->pos + 1;
					int saw_nl = 0;

					while (q0 < p->len &&
					       (p->d[q0] == ' ' ||
						p->d[q0] == '\t' ||
						p->d[q0] == '\n' ||
						p->d[q0] == '\r')) {
						if (p->d[q0] == '\n')
							saw_nl = 1;
						q0++;
					}
					if (!saw_nl) {
						free(o);
						return tp_fail(p, p->pos,
							       "bad escape");
					}
					p->pos = q0;
					continue;
				}
				free(o);
				return tp_fail(p, p->pos, "bad escape");
			}
			if (digits) {
				for (int i = 0; i < digits; i++) {
					int h =
					    aw_hexval(peek(p, 2 + (size_t)i));

					if (h < 0) {
						free(o);
						return tp_fail(
						    p, p->pos,
						    "bad unicode escape");
					}
					cp = cp << 4 | (uint32_t)h;
				}
				if (cp == 0 || cp > 0x10ffff ||
				    (cp >= 0xd800 && cp <= 0xdfff)) {
					free(o);
					return tp_fail(
					    p, p->pos,
					    "unicode escape not allowed "
					    "here (NUL, surrogate or too "
					    "large)");
				}
				n += aw_utf8_put(o + n, cp);
				p->pos += 2 + (size_t)digits;
			} else {
				p->pos += 2;
			}
			continue;
		}
		k = aw_utf8_seq_len((const unsigned char *)p->d + p->pos,
				    p->len - p->pos);
		if (!k) {
			free(o);
			return tp_fail(p, p->pos, "invalid UTF-8");
		}
		memcpy(o + n, p->d + p->pos, k);
		n += k;
		p->pos += k;
	}
	o[n] = 0;
	*ret = o;
	*ret_len = n;
	return 0;
}

static int is_bare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* key = simple-key *( ws "." ws simple-key ) */
static int parse_key(struct tp *p, struct tkey *k)
{
	for (;;) {
		int c;

		skip_ws(p);
		c = peek(p, 0);
		if (k->n == TOML_KEY_PARTS_MAX)
			return tp_fail(p, p->pos, "key has too many parts");
		k->at[k->n] = p->pos;
		if (c == '"' || c == '\'') {
			if (parse_string(p, 0, &k->part[k->n],
					 &k->part_len[k->n]))
				return p->err;
			if (memchr(k->part[k->n], 0, k->part_len[k->n])) {
				free(k->part[k->n]);
				return tp_fail(p, k->at[k->n], "NUL in a key");
			}
		} else if (is_bare(c)) {
			size_t s = p->pos;

			while (is_bare(peek(p, 0)))
				p->pos++;
			k->part[k->n] = strndup(p->d + s, p->pos - s);
			if (!k->part[k->n])
				return tp_oom(p);
			k->part_len[k->n] = p->pos - s;
		} else {
			return tp_fail(p, p->pos, "expected a key");
		}
		k->n++;
		skip_ws(p);
		if (peek(p, 0) != '.')
			return 0;
		p->pos++;
	}
}

static int digits_ok(const char *s, size_t n, int (*ok)(int))
{
	/* Digits with single underscores between them. */
	if (!n || s[0] == '_' || s[n - 1] == '_')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '_') {
			if (s[i + 1] == '_')
				return 0;
			continue;
		}
		if (!ok((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

static int is_dec(int c)
{
	return c >= '0' && c <= '9';
}
static int is_hex(int c)
{
	return aw_hexval(c) >= 0;
}
static int is_oct(int c)
{
	return c >= '0' && c <= '7';
}
static int is_bin(int c)
{
	return c == '0' || c == '1';
}

static int n_digits(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && is_dec((unsigned char)s[i]))
		i++;
	return (int)i;
}

/* Dates and times, checked for shape (not calendar): 1979-05-27,
 * 07:32:00[.999], 1979-05-27T07:32:00[.999][Z|+07:00] (T, t or space). */
static int time_ok(const char *s, size_t n, size_t *used)
{
	size_t i = 0;

	if (n < 5 || n_digits(s, n) != 2 || s[2] != ':' ||
	    n_digits(s + 3, n - 3) != 2)
		return 0;
	i = 5;
	if (i < n && s[i] == ':') {
		if (n_digits(s + i + 1, n - i - 1) != 2)
			return 0;
		i += 3;
		if (i < n && s[i] == '.') {
			int d = n_digits(s + i + 1, n - i - 1);

			if (!d)
				return 0;
			i += 1 + (size_t)d;
		}
	}
	*used = i;
	return 1;
}

static int datetime_ok(const char *s, size_t n)
{
	size_t i, used;

	if (n_digits(s, n) == 2)
		return time_ok(s, n, &used) && used == n;
	if (n < 10 || n_digits(s, n) != 4 || s[4] != '-' ||
	    n_digits(s + 5, n - 5) != 2 || s[7] != '-' ||
	    n_digits(s + 8, n - 8) != 2)
		return 0;
	if (n == 10)
		return 1;
	if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
		return 0;
	if (!time_ok(s + 11, n - 11, &used))
		return 0;
	i = 11 + used;
	if (i == n)
		return 1;
	if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n)
		return 1;
	if ((s[i] == '+' || s[i] == '-') && n - i == 6 &&
	    n_digits(s + i + 1, 2) == 2 && s[i + 3] == ':' &&
	    n_digits(s + i + 4, 2) == 2)
		return 1;
	return 0;
}

static int number_ok(const char *s, size_t n)
{
	size_t i = 0, intlen;
	const char *e;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b'))
		return digits_ok(s + 2, n - 2,
				 s[1] == 'x'   ? is_hex
				 : s[1] == 'o' ? is_oct
					       : is_bin);
	if (s[0] == '+' || s[0] == '-')
		i = 1;
	if ((n - i == 3) &&
	    (!memcmp(s + i, "inf", 3) || !memcmp(s + i, "nan", 3)))
		return 1;
	/* integer part, no leading zero */
	for (intlen = 0;
	     i + intlen < n &&
	     (is_dec((unsigned char)s[i + intlen]) || s[i + intlen] == '_');
	     intlen++)
		;
	if (!digits_ok(s + i, intlen, is_dec) || (intlen > 1 && s[i] == '0'))
		return 0;
	i += intlen;
	if (i < n && s[i] == '.') {
		size_t f = 0;

		i++;
		while (i + f < n &&
		       (is_dec((unsigned char)s[i + f]) || s[i + f] == '_'))
			f++;
		if (!digits_ok(s + i, f, is_dec))
			return 0;
		i += f;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		e = s + i;
		return digits_ok(e, n - i, is_dec);
	}
	return i == n;
}

static int parse_value(struct tp *p, unsigned depth, struct aw_jv **ret);

static struct aw_jv *new_node(struct tp *p, enum aw_jv_kind kind, size_t at)
{
	struct aw_jv *v;

	if (++p->nodes > AW_JSONR_NODES_MAX) {
		tp_fail(p, at, "too many values");
		return NULL;
	}
	v = aw_jv_new(kind);
	if (!v) {
		tp_oom(p);
		return NULL;
	}
	tp_place(p, at, &v->line, &v->column);
	return v;
}

static int set_key(struct tp *p, struct aw_jv *table, const struct tkey *k,
		   struct aw_jv *v);

static int parse_inline_table(struct tp *p, unsigned depth, struct aw_jv *t)
{
	p->pos++;
	skip_ws(p);
	if (peek(p, 0) == '}') {
		p->pos++;
		return 0;
	}
	for (;;) {
		struct tkey k = {};
		struct aw_jv *v = NULL;

		if (parse_key(p, &k))
			goto fail_key;
		if (peek(p, 0) != '=') {
			tp_fail(p, p->pos, "expected '='");
			goto fail_key;
		}
		p->pos++;
		skip_ws(p);
		if (parse_value(p, depth + 1, &v))
			goto fail_key;
		if (set_key(p, t, &k, v))
			goto fail_key;
		tkey_free(&k);
		skip_ws(p);
		if (peek(p, 0) == '}') {
			p->pos++;
			return 0;
		}
		if (peek(p, 0) != ',')
			return tp_fail(p, p->pos, "expected ',' or '}'");
		p->pos++;
		skip_ws(p);
		continue;
	fail_key:
		tkey_free(&k);
		return p->err;
	}
}

static int parse_array(struct tp *p, unsigned depth, struct aw_jv *a)
{
	p->pos++;
	for (;;) {
		struct aw_jv *v = NULL;

		if (skip_ws_nl(p))
			return p->err;
		if (peek(p, 0) == ']') {
			p->pos++;
			return 0;
		}
		if (parse_value(p, depth + 1, &v))
			return p->err;
		if (aw_jv_add(a, NULL, 0, v))
			return tp_oom(p);
		if (skip_ws_nl(p))
			return p->err;
		if (peek(p, 0) == ']') {
			p->pos++;
			return 0;
		}
		if (peek(p, 0) != ',')
			return tp_fail(p, p->pos, "expected ',' or ']'");
		p->pos++;
	}
}

static int parse_value(struct tp *p, unsigned depth, struct aw_jv **ret)
{
	size_t at = p->pos, n;
	int c = peek(p, 0);
	struct aw_jv *v;
	int r = 0;

	if (depth > AW_JSONR_DEPTH_MAX)
		return tp_fail(p, at, "nested too deeply");
	if (c < 0)
		return tp_fail(p, at, "expected a value");
	v = new_node(p, AW_JV_NULL, at);
	if (!v)
		return p->err;
	if (c == '"' || c == '\'') {
		v->kind = AW_JV_STR;
		r = parse_string(p, 1, &v->s, &v->len);
		if (!r && memchr(v->s, 0, v->len))
			r = tp_fail(p, at, "NUL in a string");
	} else if (c == '[') {
		v->kind = AW_JV_ARR;
		v->flags = TF_INLINE;
		r = parse_array(p, depth, v);
	} else if (c == '{') {
		v->kind = AW_JV_OBJ;
		v->flags = TF_INLINE;
		r = parse_inline_table(p, depth, v);
	} else {
		/* A bare token: boolean, number, date or time. A date may
		 * be followed by one space and a time. */
		n = 0;
		while (at + n < p->len &&
		       (is_bare((unsigned char)p->d[at + n]) ||
			p->d[at + n] == '.' || p->d[at + n] == ':' ||
			p->d[at + n] == '+'))
			n++;
		if (n == 10 && at + 13 < p->len && p->d[at + n] == ' ' &&
		    is_dec((unsigned char)p->d[at + 11]) &&
		    is_dec((unsigned char)p->d[at + 12]) &&
		    p->d[at + 13] == ':') {
			n++;
			while (at + n < p->len &&
			       (is_bare((unsigned char)p->d[at + n]) ||
				p->d[at + n] == '.' || p->d[at + n] == ':' ||
				p->d[at + n] == '+'))
				n++;
		}
		if (n == 4 && !memcmp(p->d + at, "true", 4)) {
			v->kind = AW_JV_BOOL;
			v->b = 1;
		} else if (n == 5 && !memcmp(p->d + at, "false", 5)) {
			v->kind = AW_JV_BOOL;
		} else if (n && (number_ok(p->d + at, n) ||
				 datetime_ok(p->d + at, n))) {
			v->kind = AW_JV_NUM;
			v->s = strndup(p->d + at, n);
			v->len = n;
			if (!v->s)
				r = tp_oom(p);
		} else {
			r = tp_fail(p, at, "expected a value");
		}
		p->pos = at + n;
	}
	if (r) {
		aw_jv_free(v);
		return p->err ? p->err : r;
	}
	*ret = v;
	return 0;
}

static struct aw_jv *find(struct aw_jv *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->keys[i], key))
			return t->items[i];
	return NULL;
}

/* key = value in table: dotted parts make (or enter) tables made the same
 * way; the last part must be new. Takes v (freed on failure). */
static int set_key(struct tp *p, struct aw_jv *table, const struct tkey *k,
		   struct aw_jv *v)
{
	struct aw_jv *t = table;

	for (size_t i = 0; i + 1 < k->n; i++) {
		struct aw_jv *sub = find(t, k->part[i]);

		if (!sub) {
			sub = new_node(p, AW_JV_OBJ, k->at[i]);
			if (!sub)
				goto fail;
			sub->flags = TF_DOTTED;
			if (aw_jv_add(t, k->part[i], k->part_len[i], sub)) {
				tp_oom(p);
				goto fail;
			}
		} else if (sub->kind != AW_JV_OBJ ||
			   !(sub->flags & TF_DOTTED)) {
			tp_fail(p, k->at[i],
				"\"%s\" is already defined and cannot be "
				"extended by a dotted key",
				k->part[i]);
			goto fail;
		}
		t = sub;
	}
	if (find(t, k->part[k->n - 1])) {
		tp_fail(p, k->at[k->n - 1], "duplicate key \"%s\"",
			k->part[k->n - 1]);
		goto fail;
	}
	if (aw_jv_add(t, k->part[k->n - 1], k->part_len[k->n - 1], v))
		return tp_oom(p);
	return 0;
fail:
	aw_jv_free(v);
	return p->err;
}

/* [a.b.c] or [[a.b.c]]: the table key/value lines go into next. */
static int header(struct tp *p, struct aw_jv *root, int aot, struct aw_jv **ret)
{
	struct tkey k = {};
	struct aw_jv *t = root, *last;
	size_t at = p->pos;

	p->pos += aot ? 2 : 1;
	if (parse_key(p, &k))
		goto out;
	if (peek(p, 0) != ']' || (aot && peek(p, 1) != ']')) {
		tp_fail(p, p->pos, "expected '%s'", aot ? "]]" : "]");
		goto out;
	}
	p->pos += aot ? 2 : 1;
	for (size_t i = 0; i + 1 < k.n; i++) {
		struct aw_jv *sub = find(t, k.part[i]);

		if (!sub) {
			sub = new_node(p, AW_JV_OBJ, k.at[i]);
			if (!sub)
				goto out;
			if (aw_jv_add(t, k.part[i], k.part_len[i], sub)) {
				tp_oom(p);
				goto out;
			}
		} else if (sub->kind == AW_JV_ARR && (sub->flags & TF_AOT)) {
			sub = sub->items[sub->n - 1];
		} else if (sub->kind != AW_JV_OBJ || (sub->flags & TF_INLINE)) {
			tp_fail(p, k.at[i], "\"%s\" is not a table", k.part[i]);
			goto out;
		}
		t = sub;
	}
	last = find(t, k.part[k.n - 1]);
	if (aot) {
		struct aw_jv *nt;

		if (!last) {
			last = new_node(p, AW_JV_ARR, k.at[k.n - 1]);
			if (!last)
				goto out;
			last->flags = TF_AOT;
			if (aw_jv_add(t, k.part[k.n - 1], k.part_len[k.n - 1],
				      last)) {
				tp_oom(p);
				goto out;
			}
		} else if (last->kind != AW_JV_ARR || !(last->flags & TF_AOT)) {
			tp_fail(p, k.at[k.n - 1],
				"\"%s\" is already defined as something else "
				"than an array of tables",
				k.part[k.n - 1]);
			goto out;
		}
		nt = new_node(p, AW_JV_OBJ, at);
		if (!nt)
			goto out;
		nt->flags = TF_EXPLICIT;
		if (aw_jv_add(last, NULL, 0, nt)) {
			tp_oom(p);
			goto out;
		}
		*ret = nt;
	} else {
		if (!last) {
			last = new_node(p, AW_JV_OBJ, at);
			if (!last)
				goto out;
			if (aw_jv_add(t, k.part[k.n - 1], k.part_len[k.n - 1],
				      last)) {
				tp_oom(p);
				goto out;
			}
		} else if (last->kind != AW_JV_OBJ ||
			   (last->flags &
			    (TF_EXPLICIT | TF_DOTTED | TF_INLINE))) {
			tp_fail(p, k.at[k.n - 1], "table \"%s\" defined twice",
				k.part[k.n - 1]);
			goto out;
		}
		last->flags |= TF_EXPLICIT;
		*ret = last;
	}
out:
	tkey_free(&k);
	return p->err;
}

int aw_toml_parse(const char *data, size_t len, const char *name,
		  struct aw_jv **ret, struct aw_diag *diag)
{
	struct tp p = {.d = data,
		       .len = len,
		       .name = name,
		       .diag = diag,
		       .pl_line = 1,
		       .pl_col = 1};
	struct aw_jv *root = aw_jv_new(AW_JV_OBJ), *cur;

	if (!root)
		return tp_oom(&p);
	root->line = root->column = 1;
	cur = root;
	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
		p.pos = 3;
	while (p.pos < p.len) {
		int c;

		skip_ws(&p);
		c = peek(&p, 0);
		if (c == '[') {
			if (header(&p, root, peek(&p, 1) == '[', &cur))
				break;
		} else if (c == '#' || c == '\n' || c == '\r' || c < 0) {
			/* empty line or comment: end_of_line below */
		} else {
			struct tkey k = {};
			struct aw_jv *v = NULL;

			if (parse_key(&p, &k)) {
				tkey_free(&k);
				break;
			}
			if (peek(&p, 0) != '=') {
				tkey_free(&k);
				tp_fail(&p, p.pos, "expected '='");
				break;
			}
			p.pos++;
			skip_ws(&p);
			if (parse_value(&p, 1, &v) || set_key(&p, cur, &k, v)) {
				tkey_free(&k);
				break;
			}
			tkey_free(&k);
		}
		if (end_of_line(&p))
			break;
	}
	if (p.err) {
		aw_jv_free(root);
		return p.err;
	}
	*ret = root;
	return 0;
}
