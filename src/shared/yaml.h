/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The strict-YAML reader the policy and signature parsers share: every
 * value a plain string, mappings checked against a table of keys
 * (unknown keys are named with the ones expected, duplicate keys and
 * missing required ones are errors), wrong node kinds, empty values and
 * NUL bytes refused, one document per file, reader and syntax errors
 * placed as file:line:column (1-based; libyaml's marks are 0-based).
 *
 * Problems go to a struct aw_yaml_report: either the first one only, into
 * a struct aw_diag (loaders), or every one, to a callback (keep-going
 * checks). In keep-going mode a parser skips the broken item and goes on
 * with the next one; aw_yaml_carry() says when it must stop instead.
 *
 * Aliases: libyaml does not copy aliased nodes, it points at them, so a
 * "billion laughs" document costs nothing to load; what could cost is
 * walking it, which each schema bounds (fixed depth, limited lists).
 */
#ifndef AW_YAML_H
#define AW_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include <yaml.h>

#include "shared/diag.h"

/* Keep-going mode stops reporting after this many (a generated file
 * could otherwise print a million lines). */
#define AW_YAML_PROBLEMS_MAX 1000

struct aw_yaml_report {
	struct aw_diag *diag; /* first problem only, when cb is NULL */
	void (*cb)(void *ud, const struct aw_diag *d); /* every problem */
	void *ud;
	unsigned n;   /* problems reported */
	int first;    /* the first one's -errno */
	bool stopped; /* too many problems: nothing more is reported */
};

/* Record a problem; returns err so callers can `return aw_yaml_report(...)`. */
int aw_yaml_report(struct aw_yaml_report *rep, int err, const char *file,
		   unsigned line, unsigned column, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Stop at this problem? Always when only the first one is wanted. */
bool aw_yaml_stop(const struct aw_yaml_report *rep, int r);

/* s made safe to quote in a message: cut to fit, control bytes as '?'. */
const char *aw_yaml_safe(const char *s, char *buf, size_t size);

/* One document being read. */
struct aw_yaml {
	const char *name; /* for diagnostics */
	const char *data; /* the raw text, to place reader errors */
	size_t len;
	const char *kind; /* "policy files": names the files in messages */
	yaml_document_t *doc;
	struct aw_yaml_report *rep;
	bool fatal; /* ends the file even in keep-going mode */
	/* Unknown keys quoted as they are, cut at 64 bytes, rather than
	 * made safe and cut at 44 (the signature files' messages). */
	bool raw_keys;
};

/* Report a problem at a node (NULL: no place); returns err. */
int aw_yaml_fail(struct aw_yaml *y, const yaml_node_t *n, int err,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Remember a problem in *bad; true if the caller must stop here
 * (first-problem mode, out of memory, or a fatal problem). */
bool aw_yaml_carry(struct aw_yaml *y, int r, int *bad);

/* "a scalar", "a list", "a mapping" or "nothing". */
const char *aw_yaml_node_kind(const yaml_node_t *n);

yaml_node_t *aw_yaml_node(struct aw_yaml *y, int index);

/* A scalar's text: not empty, no NUL byte (libyaml lets "\0" into
 * double-quoted scalars, and a C string would silently be cut short). */
int aw_yaml_scalar(struct aw_yaml *y, const yaml_node_t *n, const char *what,
		   const char **ret);

/* A sequence's length, or an error if n is not a list or has more than
 * max entries (SIZE_MAX: the caller checks the length itself). */
int aw_yaml_seq(struct aw_yaml *y, const yaml_node_t *n, const char *what,
		size_t max, size_t *ret);

struct aw_yaml_key {
	const char *name;
	bool required;
};

/* At most this many keys in a table when the caller passes no key_nodes. */
#define AW_YAML_KEYS_MAX 16

/*
 * Check a mapping against its schema: keys are scalars, known, not
 * repeated; required ones present. values[i] and key_nodes[i] (which may
 * be NULL) receive the value and key node of keys[i], or NULL. In
 * keep-going mode every bad key is reported and the good ones are still
 * filled in.
 */
int aw_yaml_map(struct aw_yaml *y, const yaml_node_t *map, const char *what,
		const struct aw_yaml_key *keys, size_t n_keys,
		yaml_node_t **values, yaml_node_t **key_nodes);

/* Report why libyaml could not load a document. */
int aw_yaml_error(struct aw_yaml *y, const yaml_parser_t *parser);

/*
 * Load y->data (at most max bytes) as one YAML document and hand its
 * root to parse_root(y, out); a second document in the text is an error.
 */
int aw_yaml_parse(struct aw_yaml *y, size_t max,
		  int (*parse_root)(struct aw_yaml *y, void *out), void *out);

/* Read flags. */
enum {
	AW_YAML_OWNER_CHECK = 1
			      << 0, /* not writable by others, root's or ours */
	AW_YAML_NONBLOCK = 1 << 1,  /* open O_NONBLOCK (a FIFO does not hang) */
};

/* Read a whole regular file of at most max bytes. An ownership problem
 * stops here only in first-problem mode. */
int aw_yaml_read_file(const char *path, size_t max, unsigned flags,
		      struct aw_yaml_report *rep, char **ret_data,
		      size_t *ret_len);

/* The *.yaml names in dir (no dotfiles), at most max, sorted, into names
 * (freed by the caller); with AW_YAML_OWNER_CHECK the directory's
 * ownership checked. */
int aw_yaml_list_dir(const char *dir, size_t max, unsigned flags,
		     struct aw_yaml_report *rep, char **names, size_t *ret_n);

#endif
