// SPDX-License-Identifier: GPL-2.0-only
/*
 * The tree reader (jsonr.h): the grammar is json_read.c's; this builds
 * struct aw_jv from its tokens, unescaping strings and placing each value
 * at its line and column.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/json_read.h"
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

struct tb {
	const struct aw_jdoc *doc;
	size_t len;
	/* Place of the last value, advanced forward only (tokens are in
	 * document order): O(n) for the document, not O(n) per value. */
	size_t pl_off;
	unsigned pl_line, pl_col;
};

static void tb_place(struct tb *b, size_t at, unsigned *line, unsigned *col)
{
	for (; b->pl_off < at && b->pl_off < b->len; b->pl_off++) {
		unsigned char ch = (unsigned char)b->doc->s[b->pl_off];

		if (ch == '\n') {
			b->pl_line++;
			b->pl_col = 1;
		} else if ((ch & 0xc0) != 0x80) {
			b->pl_col++;
		}
	}
	*line = b->pl_line;
	*col = b->pl_col;
}

static char *tb_str(struct tb *b, uint32_t i, size_t *ret_len)
{
	char *o = malloc(b->doc->tok[i].len + 1);

	if (o)
		*ret_len = aw_jstr_unescape(b->doc, (int)i, o);
	return o;
}

/* The value at token i, or NULL (out of memory). Recursion is bounded by
 * the grammar's AW_JREAD_DEPTH. */
static struct aw_jv *tb_value(struct tb *b, uint32_t i)
{
	const struct aw_jtok *t = &b->doc->tok[i];
	struct aw_jv *v = aw_jv_new(AW_JV_NULL);
	uint32_t j = i + 1;

	if (!v)
		return NULL;
	/* A string's token starts after its opening quote. */
	tb_place(b, t->type == AW_J_STR ? t->start - 1 : t->start, &v->line,
		 &v->column);
	switch (t->type) {
	case AW_J_NULL:
		break;
	case AW_J_TRUE:
	case AW_J_FALSE:
		v->kind = AW_JV_BOOL;
		v->b = t->type == AW_J_TRUE;
		break;
	case AW_J_NUM:
		v->kind = AW_JV_NUM;
		v->s = strndup(b->doc->s + t->start, t->len);
		v->len = t->len;
		if (!v->s)
			goto oom;
		break;
	case AW_J_STR:
		v->kind = AW_JV_STR;
		v->s = tb_str(b, i, &v->len);
		if (!v->s)
			goto oom;
		break;
	case AW_J_ARR:
	case AW_J_OBJ:
		v->kind = t->type == AW_J_OBJ ? AW_JV_OBJ : AW_JV_ARR;
		for (uint32_t m = 0; m < t->size; m++) {
			char *key = NULL;
			size_t key_len = 0;
			struct aw_jv *item;
			int r;

			if (v->kind == AW_JV_OBJ) {
				key = tb_str(b, j, &key_len);
				if (!key)
					goto oom;
				j++;
			}
			item = tb_value(b, j);
			j = b->doc->tok[j].next;
			r = item ? aw_jv_add(v, key, key_len, item) : -ENOMEM;
			free(key);
			if (r)
				goto oom;
		}
		break;
	}
	return v;
oom:
	aw_jv_free(v);
	return NULL;
}

int aw_jsonr_parse(const char *data, size_t len, unsigned flags,
		   const char *name, struct aw_jv **ret, struct aw_diag *diag)
{
	struct aw_jdoc doc = {};
	struct tb b = {.doc = &doc, .len = len, .pl_line = 1, .pl_col = 1};
	struct aw_jv *v = NULL;
	unsigned line, col;
	int r;

	/* A UTF-8 byte order mark is tolerated (editors on other systems
	 * write one); refused in our own event lines. */
	r = aw_jread_flags(&doc, data, len,
			   AW_JREAD_BOM |
			       (flags & AW_JSONR_JSONC ? AW_JREAD_JSONC : 0));
	if (r == -ENOMEM) {
		aw_diag_set(diag, name, 0, 0, "out of memory");
	} else if (r) {
		aw_text_place(data, len, doc.err_off, &line, &col);
		aw_diag_set(diag, name, line, col, "%s",
			    doc.err_what ? doc.err_what : "not JSON");
		r = -EINVAL;
	} else {
		v = tb_value(&b, 0);
		if (!v) {
			aw_diag_set(diag, name, 0, 0, "out of memory");
			r = -ENOMEM;
		}
	}
	aw_jdoc_free(&doc);
	if (!r)
		*ret = v;
	return r;
}
