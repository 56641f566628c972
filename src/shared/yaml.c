// SPDX-License-Identifier: GPL-2.0-only
/*
 * The strict-YAML reader of policies and signatures: see yaml.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "shared/diag.h"
#include "shared/util.h"
#include "shared/yaml.h"

int aw_yaml_report(struct aw_yaml_report *rep, int err, const char *file,
		   unsigned line, unsigned column, const char *fmt, ...)
{
	struct aw_diag d = {0};
	char msg[256];
	va_list ap;

	if (rep->stopped)
		return err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rep->n++;
	if (!rep->first)
		rep->first = err;
	if (!rep->cb) {
		aw_diag_set(rep->diag, file, line, column, "%s", msg);
		return err;
	}
	if (rep->n > AW_YAML_PROBLEMS_MAX) {
		aw_diag_set(&d, file, 0, 0,
			    "more than %d problems: stopping here",
			    AW_YAML_PROBLEMS_MAX);
		rep->stopped = true;
	} else {
		aw_diag_set(&d, file, line, column, "%s", msg);
	}
	rep->cb(rep->ud, &d);
	return err;
}

/* Stop at this problem? Always when only the first one is wanted. */
bool aw_yaml_stop(const struct aw_yaml_report *rep, int r)
{
	return r == -ENOMEM || !rep->cb || rep->stopped;
}

/* s made safe to quote in a message: cut to fit, control bytes as '?'. */
const char *aw_yaml_safe(const char *s, char *buf, size_t size)
{
	size_t i;

	if (!s)
		return "";
	for (i = 0; s[i] && i + 1 < size; i++)
		buf[i] =
		    ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	buf[i] = 0;
	/* mark a cut */
	if (s[i] && size > 4)
		memcpy(buf + size - 4, "...", 4);
	return buf;
}
/* Report a problem at a node; returns err. */
int aw_yaml_fail(struct aw_yaml *y, const yaml_node_t *n, int err,
		 const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return aw_yaml_report(y->rep, err, y->name,
			      n ? n->start_mark.line + 1 : 0,
			      n ? n->start_mark.column + 1 : 0, "%s", msg);
}

/* Remember a problem in *bad; true if the caller must stop here
 * (first-problem mode, out of memory, or a fatal problem). In keep-going
 * mode the caller skips the broken item and goes on. */
bool aw_yaml_carry(struct aw_yaml *y, int r, int *bad)
{
	if (r >= 0)
		return false;
	if (!*bad)
		*bad = r;
	return aw_yaml_stop(y->rep, r) || y->fatal;
}

const char *aw_yaml_node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_NO_NODE:
		break;
	}
	return "nothing";
}

yaml_node_t *aw_yaml_node(struct aw_yaml *y, int index)
{
	return yaml_document_get_node(y->doc, index);
}

/* A scalar's text. libyaml lets "\0" into double-quoted scalars: refuse
 * it, or a C string would silently be cut short. */
int aw_yaml_scalar(struct aw_yaml *y, const yaml_node_t *n, const char *what,
		   const char **ret)
{
	const char *s;
	size_t len;

	if (n->type != YAML_SCALAR_NODE)
		return aw_yaml_fail(y, n, -EINVAL,
				    "%s must be a scalar, found %s", what,
				    aw_yaml_node_kind(n));
	s = (const char *)n->data.scalar.value;
	len = n->data.scalar.length;
	if (memchr(s, '\0', len))
		return aw_yaml_fail(y, n, -EINVAL, "%s contains a NUL byte",
				    what);
	if (len == 0)
		return aw_yaml_fail(y, n, -EINVAL, "%s must not be empty",
				    what);
	*ret = s;
	return 0;
}

/* A sequence's length, or an error if n is not a list or too long. */
int aw_yaml_seq(struct aw_yaml *y, const yaml_node_t *n, const char *what,
		size_t max, size_t *ret)
{
	size_t len;

	if (n->type != YAML_SEQUENCE_NODE)
		return aw_yaml_fail(y, n, -EINVAL,
				    "%s must be a list, found %s", what,
				    aw_yaml_node_kind(n));
	len = n->data.sequence.items.top - n->data.sequence.items.start;
	/* Before anything is allocated or walked: fail fast. */
	if (max != SIZE_MAX && len > max)
		return aw_yaml_fail(y, n, -E2BIG,
				    "%s has %zu entries, the limit is %zu",
				    what, len, max);
	*ret = len;
	return 0;
}

/*
 * Check a mapping against its schema: keys are scalars, known, not
 * repeated; required ones present. values[i] and key_nodes[i] receive
 * the value and key node of keys[i], or NULL. In keep-going mode every
 * bad key is reported and the good ones are still filled in.
 */
int aw_yaml_map(struct aw_yaml *y, const yaml_node_t *map, const char *what,
		const struct aw_yaml_key *keys, size_t n_keys,
		yaml_node_t **values, yaml_node_t **key_nodes)
{
	yaml_node_t *own[AW_YAML_KEYS_MAX];
	yaml_node_pair_t *pair;
	size_t i;
	int bad = 0;

	if (!key_nodes) {
		if (n_keys > AW_ARRAY_SIZE(own))
			return -EINVAL;
		key_nodes = own;
	}
	for (i = 0; i < n_keys; i++)
		values[i] = key_nodes[i] = NULL;
	if (map->type != YAML_MAPPING_NODE)
		return aw_yaml_fail(y, map, -EINVAL,
				    "%s must be a mapping, found %s", what,
				    aw_yaml_node_kind(map));

	for (pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = aw_yaml_node(y, pair->key);
		yaml_node_t *v = aw_yaml_node(y, pair->value);
		const char *name;
		char safe[72];
		int r;

		if (!k || !v) {
			y->fatal = true;
			return aw_yaml_fail(y, map, -EINVAL,
					    "malformed mapping");
		}
		if (k->type != YAML_SCALAR_NODE) {
			r = aw_yaml_fail(y, k, -EINVAL,
					 "keys in %s must be scalars, found %s",
					 what, aw_yaml_node_kind(k));
			if (aw_yaml_carry(y, r, &bad))
				return r;
			continue;
		}
		name = (const char *)k->data.scalar.value;
		for (i = 0; i < n_keys; i++)
			if (strlen(keys[i].name) == k->data.scalar.length &&
			    !memcmp(keys[i].name, name, k->data.scalar.length))
				break;
		if (i == n_keys) {
			char list[192] = "";
			size_t j, off = 0;

			for (j = 0; j < n_keys && off < sizeof(list); j++)
				off += snprintf(list + off, sizeof(list) - off,
						"%s%s", j ? ", " : "",
						keys[j].name);
			if (y->raw_keys)
				r = aw_yaml_fail(y, k, -EINVAL,
						 "unknown key '%.64s' in %s "
						 "(expected %s)",
						 name, what, list);
			else
				r = aw_yaml_fail(y, k, -EINVAL,
						 "unknown key '%s' in %s "
						 "(expected %s)",
						 aw_yaml_safe(name, safe, 48),
						 what, list);
			if (aw_yaml_carry(y, r, &bad))
				return r;
			continue;
		}
		if (key_nodes[i]) {
			r = aw_yaml_fail(
			    y, k, -EINVAL,
			    "duplicate key '%s' in %s (first at line %lu)",
			    keys[i].name, what,
			    (unsigned long)key_nodes[i]->start_mark.line + 1);
			if (aw_yaml_carry(y, r, &bad))
				return r;
			continue;
		}
		key_nodes[i] = k;
		values[i] = v;
	}
	for (i = 0; i < n_keys; i++)
		if (keys[i].required && !values[i]) {
			int r = aw_yaml_fail(y, map, -EINVAL,
					     "%s is missing required key '%s'",
					     what, keys[i].name);

			if (aw_yaml_carry(y, r, &bad))
				return r;
		}
	return bad;
}

/* A reader error about UTF-8: placed at the byte a user has to fix. */
static int aw_yaml_utf8_error(struct aw_yaml *y, const yaml_parser_t *parser)
{
	struct aw_diag d = {};

	aw_utf8_fault(y->data, y->len, parser->problem_offset, parser->problem,
		      y->kind, &d, y->name);
	return aw_yaml_report(y->rep, -EINVAL, y->name, d.line, d.column, "%s",
			      d.message);
}

int aw_yaml_error(struct aw_yaml *y, const yaml_parser_t *parser)
{
	unsigned line, column;

	switch (parser->error) {
	case YAML_MEMORY_ERROR:
		return aw_yaml_report(y->rep, -ENOMEM, y->name, 0, 0,
				      "out of memory");
	case YAML_READER_ERROR:
		/* Reader errors carry a byte offset, not a mark. */
		if (parser->problem && strstr(parser->problem, "UTF-8"))
			return aw_yaml_utf8_error(y, parser);
		aw_text_place(y->data, y->len, parser->problem_offset, &line,
			      &column);
		return aw_yaml_report(y->rep, -EINVAL, y->name, line, column,
				      "invalid character: %s (0x%02x)",
				      parser->problem ? parser->problem
						      : "unknown",
				      (unsigned)parser->problem_value);
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
	case YAML_COMPOSER_ERROR:
		if (parser->context)
			return aw_yaml_report(
			    y->rep, -EINVAL, y->name,
			    parser->problem_mark.line + 1,
			    parser->problem_mark.column + 1,
			    "YAML syntax error: %s (%s at line %lu, column "
			    "%lu)",
			    parser->problem ? parser->problem : "unknown",
			    parser->context,
			    (unsigned long)parser->context_mark.line + 1,
			    (unsigned long)parser->context_mark.column + 1);
		return aw_yaml_report(
		    y->rep, -EINVAL, y->name, parser->problem_mark.line + 1,
		    parser->problem_mark.column + 1, "YAML syntax error: %s",
		    parser->problem ? parser->problem : "unknown");
	case YAML_NO_ERROR:
	case YAML_WRITER_ERROR:
	case YAML_EMITTER_ERROR:
		break;
	}
	return aw_yaml_report(y->rep, -EINVAL, y->name, 0, 0, "YAML error");
}

int aw_yaml_parse(struct aw_yaml *y, size_t max,
		  int (*parse_root)(struct aw_yaml *y, void *out), void *out)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	int r;

	if (y->len > max)
		return aw_yaml_report(y->rep, -EFBIG, y->name, 0, 0,
				      "file is %zu bytes, the limit is %zu "
				      "(1 MiB)",
				      y->len, max);
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	/* No BOM sniffing into UTF-16: we promise UTF-8 only. */
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	yaml_parser_set_input_string(&parser, (const unsigned char *)y->data,
				     y->len);

	if (!yaml_parser_load(&parser, &doc)) {
		r = aw_yaml_error(y, &parser);
		yaml_parser_delete(&parser);
		return r;
	}
	y->doc = &doc;
	r = parse_root(y, out);
	if (r >= 0 || !aw_yaml_stop(y->rep, r)) {
		int r2 = 0;

		/* A second document would be silently ignored otherwise. */
		if (!yaml_parser_load(&parser, &extra)) {
			r2 = aw_yaml_error(y, &parser);
		} else {
			yaml_node_t *root = yaml_document_get_root_node(&extra);

			if (root) {
				y->doc = &extra;
				r2 = aw_yaml_fail(y, root, -EINVAL,
						  "more than one YAML document "
						  "in the file");
			}
			yaml_document_delete(&extra);
		}
		if (r >= 0)
			r = r2;
	}
	y->doc = NULL;
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return r;
}

/* As OpenBSD's doas: a file anyone else can write is no policy. */
static int aw_yaml_check_owner(const char *path, const struct stat *st,
			       struct aw_yaml_report *rep)
{
	uid_t euid = geteuid();

	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return aw_yaml_report(
		    rep, -EPERM, path, 0, 0,
		    "writable by others (mode %04o): refusing",
		    (unsigned)(st->st_mode & 07777));
	if (st->st_uid != 0 && st->st_uid != euid)
		return aw_yaml_report(rep, -EPERM, path, 0, 0,
				      "owned by uid %u, not root or uid %u: "
				      "refusing",
				      (unsigned)st->st_uid, (unsigned)euid);
	return 0;
}

int aw_yaml_read_file(const char *path, size_t max, unsigned flags,
		      struct aw_yaml_report *rep, char **ret_data,
		      size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;
	int r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
			    (flags & AW_YAML_NONBLOCK ? O_NONBLOCK : 0));
	if (fd < 0) {
		r = -errno;
		return aw_yaml_report(rep, r, path, 0, 0, "cannot open: %s",
				      strerror(-r));
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		return aw_yaml_report(rep, r, path, 0, 0, "cannot stat: %s",
				      strerror(-r));
	}
	if (!S_ISREG(st.st_mode))
		return aw_yaml_report(rep, -EINVAL, path, 0, 0,
				      "not a regular file");
	/* The descriptor's inode is the one read: no race with a
	 * rename. */
	if (flags & AW_YAML_OWNER_CHECK) {
		r = aw_yaml_check_owner(path, &st, rep);
		if (r < 0 && aw_yaml_stop(rep, r))
			return r;
	}
	if ((size_t)st.st_size > max)
		goto too_big;
	/* One byte more than the limit, so a file that grows under us
	 * is caught too. */
	buf = malloc(max + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf + len, max + 1 - len);

		if (n < 0) {
			r = -errno;
			if (r == -EINTR)
				continue;
			return aw_yaml_report(rep, r, path, 0, 0,
					      "cannot read: %s", strerror(-r));
		}
		if (n == 0)
			break;
		len += n;
		if (len > max)
			goto too_big;
	}
	*ret_data = AW_TAKE_PTR(buf);
	*ret_len = len;
	return 0;

too_big:
	return aw_yaml_report(rep, -EFBIG, path, 0, 0,
			      "file is larger than %zu bytes (1 MiB)", max);
}

static int aw_yaml_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool aw_yaml_is_yaml_name(const char *name)
{
	size_t len = strlen(name);

	/* dotfiles are editor and package-manager leftovers */
	return name[0] != '.' && len > 5 && !strcmp(name + len - 5, ".yaml");
}

int aw_yaml_list_dir(const char *dir, size_t max, unsigned flags,
		     struct aw_yaml_report *rep, char **names, size_t *ret_n)
{
	struct dirent *de;
	struct stat st;
	size_t n = 0;
	DIR *d;
	int r = 0;

	d = opendir(dir);
	if (!d) {
		r = -errno;
		return aw_yaml_report(rep, r, dir, 0, 0,
				      "cannot open directory: %s",
				      strerror(-r));
	}
	if (fstat(dirfd(d), &st) < 0) {
		r = -errno;
		aw_yaml_report(rep, r, dir, 0, 0, "cannot stat: %s",
			       strerror(-r));
		goto out;
	}
	if (flags & AW_YAML_OWNER_CHECK) {
		r = aw_yaml_check_owner(dir, &st, rep);
		if (r < 0 && aw_yaml_stop(rep, r))
			goto out;
		r = 0;
	}
	while ((errno = 0, de = readdir(d))) {
		if (!aw_yaml_is_yaml_name(de->d_name))
			continue;
		if (n == max) {
			r = aw_yaml_report(rep, -E2BIG, dir, 0, 0,
					   "more than %zu *.yaml files in the "
					   "directory",
					   max);
			goto out;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			r = -ENOMEM;
			goto out;
		}
		n++;
	}
	if (errno) {
		r = -errno;
		aw_yaml_report(rep, r, dir, 0, 0, "cannot read directory: %s",
			       strerror(-r));
		goto out;
	}
	if (n)
		qsort(names, n, sizeof(names[0]), aw_yaml_name_cmp);
out:
	closedir(d);
	if (r < 0) {
		while (n)
			free(names[--n]);
		return r;
	}
	*ret_n = n;
	return 0;
}
