// SPDX-License-Identifier: GPL-2.0-only
/*
 * Signature database: what holds across files (a pattern defined twice
 * for the same start, whoever defines it: the kernel could not tell the
 * two apart; the limits of the whole database), and the loaders (buffer,
 * file, directory) on top of the parser (signatures.c) and the shared
 * YAML file helpers. Every loader parses into a private database and
 * moves it into the caller's only once everything checked out, so a
 * failed load leaves the caller's database exactly as it was.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwall_abi.h"
#include "shared/diag.h"
#include "shared/util.h"
#include "shared/yaml.h"
#include "signatures/sig_int.h"
#include "signatures/signatures.h"

struct sig_pat_ref {
	const char *pattern;
	int start; /* AW_MATCH_EXE for exe + interpreters, else script */
	size_t order;
	const char *file;
	unsigned line, column;
	const char *owner; /* signature id, or NULL for an interpreter */
};

static int sig_pat_ref_cmp(const void *a, const void *b)
{
	const struct sig_pat_ref *x = a, *y = b;
	int c;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	c = strcmp(x->pattern, y->pattern);
	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void sig_add_refs(struct sig_pat_ref *refs, size_t *n,
			 const struct aw_sigdb *db, const char *interp_file)
{
	size_t i, j;

	for (i = 0; i < db->n_sigs; i++)
		for (j = 0; j < db->sigs[i].n_matches; j++) {
			const struct aw_match *m = &db->sigs[i].matches[j];

			refs[*n] = (struct sig_pat_ref){
			    .pattern = m->pattern,
			    .start = m->kind,
			    .order = *n,
			    .file = db->sigs[i].file,
			    .line = m->line,
			    .column = m->column,
			    .owner = db->sigs[i].id,
			};
			(*n)++;
		}
	for (i = 0; i < db->n_interpreters; i++) {
		const struct aw_match *m = &db->interpreters[i];

		refs[*n] = (struct sig_pat_ref){
		    .pattern = m->pattern,
		    .start = AW_MATCH_EXE,
		    .order = *n,
		    .file = interp_file,
		    .line = m->line,
		    .column = m->column,
		};
		(*n)++;
	}
}

static size_t sig_count_patterns(const struct aw_sigdb *db)
{
	size_t i, n = db->n_interpreters;

	for (i = 0; i < db->n_sigs; i++)
		n += db->sigs[i].n_matches;
	return n;
}

/*
 * Checks that need the whole database: limits, duplicate ids, the same
 * pattern twice for one start. `dbs` in load order; `names[i]` is the
 * file of dbs[i]'s interpreters (signatures carry their own).
 */
static int sig_check(const struct aw_sigdb *const *dbs,
		     const char *const *names, size_t n_dbs,
		     struct aw_diag *diag)
{
	const struct aw_signature *all[AW_SIG_SIGS_MAX];
	struct sig_pat_ref *refs, *dup = NULL;
	size_t i, j, k, n_sigs = 0, n_interp = 0, n_refs = 0, n_pat = 0;

	for (k = 0; k < n_dbs; k++) {
		for (i = 0; i < dbs[k]->n_sigs; i++) {
			const struct aw_signature *s = &dbs[k]->sigs[i];

			if (n_sigs == AW_SIG_SIGS_MAX) {
				aw_diag_set(
				    diag, s->file, s->line, s->column,
				    "more than %d signatures in the database",
				    AW_SIG_SIGS_MAX);
				return -E2BIG;
			}
			for (j = 0; j < n_sigs; j++)
				if (!strcmp(all[j]->id, s->id)) {
					aw_diag_set(
					    diag, s->file, s->line, s->column,
					    "duplicate id '%s' (first defined "
					    "at %.96s:%u)",
					    s->id, all[j]->file, all[j]->line);
					return -EINVAL;
				}
			all[n_sigs++] = s;
		}
		n_interp += dbs[k]->n_interpreters;
		if (n_interp > AW_SIG_INTERPRETERS_MAX) {
			aw_diag_set(diag, names[k], 0, 0,
				    "more than %d interpreters in the database",
				    AW_SIG_INTERPRETERS_MAX);
			return -E2BIG;
		}
		n_pat += sig_count_patterns(dbs[k]);
	}

	if (!n_pat)
		return 0;
	refs = calloc(n_pat, sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	for (k = 0; k < n_dbs; k++)
		sig_add_refs(refs, &n_refs, dbs[k], names[k]);
	qsort(refs, n_refs, sizeof(*refs), sig_pat_ref_cmp);
	/* Report the duplicate written last-but-earliest: the second
	 * occurrence that comes first in load order. */
	for (i = 1; i < n_refs; i++)
		if (refs[i].start == refs[i - 1].start &&
		    !strcmp(refs[i].pattern, refs[i - 1].pattern) &&
		    (!dup || refs[i].order < dup->order))
			dup = &refs[i];
	if (dup) {
		const struct sig_pat_ref *first = dup - 1;

		while (first > refs && first[-1].start == dup->start &&
		       !strcmp(first[-1].pattern, dup->pattern))
			first--;
		aw_diag_set(
		    diag, dup->file, dup->line, dup->column,
		    "pattern '%.64s' already used by %s%s at %.64s:%u",
		    dup->pattern, first->owner ? "signature " : "interpreters",
		    first->owner ? first->owner : "", first->file, first->line);
		free(refs);
		return -EINVAL;
	}
	free(refs);
	return 0;
}

/* Move src's contents to the end of dst; src ends up empty. Nothing in
 * dst changes unless this succeeds. */
static int sig_append(struct aw_sigdb *dst, struct aw_sigdb *src)
{
	struct aw_signature *sigs = dst->sigs;
	struct aw_match *interp = dst->interpreters;

	if (src->n_sigs) {
		sigs = malloc((dst->n_sigs + src->n_sigs) * sizeof(*sigs));
		if (!sigs)
			return -ENOMEM;
	}
	if (src->n_interpreters) {
		interp = malloc((dst->n_interpreters + src->n_interpreters) *
				sizeof(*interp));
		if (!interp) {
			if (sigs != dst->sigs)
				free(sigs);
			return -ENOMEM;
		}
	}
	if (sigs != dst->sigs) {
		if (dst->n_sigs)
			memcpy(sigs, dst->sigs, dst->n_sigs * sizeof(*sigs));
		memcpy(sigs + dst->n_sigs, src->sigs,
		       src->n_sigs * sizeof(*sigs));
		free(dst->sigs);
		dst->sigs = sigs;
		dst->n_sigs += src->n_sigs;
	}
	if (interp != dst->interpreters) {
		if (dst->n_interpreters)
			memcpy(interp, dst->interpreters,
			       dst->n_interpreters * sizeof(*interp));
		memcpy(interp + dst->n_interpreters, src->interpreters,
		       src->n_interpreters * sizeof(*interp));
		free(dst->interpreters);
		dst->interpreters = interp;
		dst->n_interpreters += src->n_interpreters;
	}
	if (src->n_llm_apis) {
		char **l =
		    realloc(dst->llm_apis,
			    (dst->n_llm_apis + src->n_llm_apis) * sizeof(*l));

		if (!l)
			return -ENOMEM; /* (sigs moved: src keeps the rest) */
		memcpy(l + dst->n_llm_apis, src->llm_apis,
		       src->n_llm_apis * sizeof(*l));
		dst->llm_apis = l;
		dst->n_llm_apis += src->n_llm_apis;
	}
	/* the strings now belong to dst */
	free(src->sigs);
	free(src->interpreters);
	free(src->llm_apis);
	memset(src, 0, sizeof(*src));
	return 0;
}

/* Check new (from file `name`) against db, then move it in. */
static int sig_merge(struct aw_sigdb *db, struct aw_sigdb *new,
		     const char *name, struct aw_diag *diag)
{
	const struct aw_sigdb *dbs[2] = {db, new};
	const char *names[2] = {"(loaded before)", name};
	int r;

	r = sig_check(dbs, names, 2, diag);
	if (r < 0)
		return r;
	return sig_append(db, new);
}

int aw_sigdb_load_buffer(struct aw_sigdb *db, const char *name,
			 const char *data, size_t len, struct aw_diag *diag)
{
	struct aw_sigdb tmp = {0};
	int r;

	if (!db || (!data && len))
		return -EINVAL;
	if (!name)
		name = "(buffer)";
	r = sig_parse(name, data ? data : "", len, &tmp, diag);
	if (r >= 0)
		r = sig_merge(db, &tmp, name, diag);
	aw_sigdb_free(&tmp);
	return r;
}

/* Read a whole regular file of at most AW_SIG_FILE_MAX bytes. */
static int sig_read_file(const char *path, char **ret_data, size_t *ret_len,
			 struct aw_diag *diag)
{
	struct aw_yaml_report rep = {.diag = diag};

	return aw_yaml_read_file(path, AW_SIG_FILE_MAX, 0, &rep, ret_data,
				 ret_len);
}

int aw_sigdb_load_file(struct aw_sigdb *db, const char *path,
		       struct aw_diag *diag)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int r;

	if (!db || !path)
		return -EINVAL;
	r = sig_read_file(path, &data, &len, diag);
	if (r < 0)
		return r;
	return aw_sigdb_load_buffer(db, path, data, len, diag);
}

int aw_sigdb_load_dir(struct aw_sigdb *db, const char *dir,
		      struct aw_diag *diag)
{
	struct aw_yaml_report rep = {.diag = diag};
	struct aw_sigdb all = {0};
	char *names[AW_SIG_DIR_FILES_MAX];
	size_t i, n = 0;
	int r;

	if (!db || !dir)
		return -EINVAL;
	r = aw_yaml_list_dir(dir, AW_SIG_DIR_FILES_MAX, 0, &rep, names, &n);
	if (r < 0)
		return r;
	if (n == 0) {
		/* An empty database classifies nothing: fail closed. */
		aw_diag_set(diag, dir, 0, 0,
			    "no signature files (*.yaml) found");
		r = -ENOENT;
		goto out;
	}

	for (i = 0; i < n; i++) {
		_cleanup_free_ char *path = NULL;
		_cleanup_free_ char *data = NULL;
		struct aw_sigdb one = {0};
		const struct aw_sigdb *dbs[3] = {db, &all, &one};
		const char *dbnames[3] = {"(loaded before)", dir, NULL};
		size_t len;

		if (asprintf(&path, "%s/%s", dir, names[i]) < 0) {
			path = NULL;
			r = -ENOMEM;
			goto out;
		}
		r = sig_read_file(path, &data, &len, diag);
		if (r < 0)
			goto out;
		r = sig_parse(path, data, len, &one, diag);
		if (r >= 0) {
			/* against the caller's db and the files before */
			dbnames[2] = path;
			r = sig_check(dbs, dbnames, 3, diag);
		}
		if (r >= 0)
			r = sig_append(&all, &one);
		aw_sigdb_free(&one);
		if (r < 0)
			goto out;
	}
	r = sig_append(db, &all);

out:
	for (i = 0; i < n; i++)
		free(names[i]);
	aw_sigdb_free(&all);
	return r;
}

const struct aw_signature *aw_sigdb_find(const struct aw_sigdb *db,
					 const char *id)
{
	size_t i;

	if (!db || !id)
		return NULL;
	for (i = 0; i < db->n_sigs; i++)
		if (!strcmp(db->sigs[i].id, id))
			return &db->sigs[i];
	return NULL;
}
