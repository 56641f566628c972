// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policies, sets: freeing, finding and resolving policies in a set, the
 * whole-set checks (claims, chains), and the loaders (buffer, file,
 * directory, check_all) on top of the shared YAML file helpers.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yaml.h>

#include "policy/policy.h"
#include "policy/policy_int.h"
#include "shared/diag.h"
#include "shared/util.h"
#include "shared/yaml.h"

void pol_rule_free(struct aw_fs_rule *r)
{
	size_t i;

	free(r->id);
	for (i = 0; i < r->n_paths; i++)
		free(r->paths[i]);
	free(r->paths);
	free(r->path_at);
	/* r->file belongs to the policy */
	memset(r, 0, sizeof(*r));
}

static void pol_strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void pol_net_rule_free(struct aw_net_rule *r)
{
	free(r->id);
	pol_strv_free(r->hosts, r->n_hosts);
	free(r->cidrs);
	free(r->ports);
	/* r->file belongs to the policy */
	memset(r, 0, sizeof(*r));
}

static void pol_policy_free(struct aw_policy *pol)
{
	size_t i;

	free(pol->id);
	free(pol->description);
	free(pol->extends);
	pol_strv_free(pol->agents, pol->n_agents);
	pol_strv_free(pol->classes, pol->n_classes);
	pol_strv_free(pol->remove, pol->n_remove);
	free(pol->agents_at);
	free(pol->classes_at);
	free(pol->remove_at);
	for (i = 0; i < pol->n_rules; i++)
		pol_rule_free(&pol->rules[i]);
	free(pol->rules);
	for (i = 0; i < pol->n_net_rules; i++)
		pol_net_rule_free(&pol->net_rules[i]);
	free(pol->net_rules);
	free(pol->cu_cdp_rule.ports);
	free(pol->file);
	memset(pol, 0, sizeof(*pol));
}

void aw_policyset_free(struct aw_policyset *set)
{
	size_t i;

	if (!set)
		return;
	for (i = 0; i < set->n_pols; i++)
		pol_policy_free(&set->pols[i]);
	free(set->pols);
	memset(set, 0, sizeof(*set));
}

/* ---- sets --------------------------------------------------------------- */

const struct aw_policy *aw_policyset_find(const struct aw_policyset *set,
					  const char *id)
{
	size_t i;

	if (!set || !id)
		return NULL;
	for (i = 0; i < set->n_pols; i++)
		if (set->pols[i].id && !strcmp(set->pols[i].id, id))
			return &set->pols[i];
	return NULL;
}

static bool pol_strv_has(char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

const struct aw_policy *aw_policyset_resolve(const struct aw_policyset *set,
					     const char *agent_id,
					     const char *agent_class)
{
	size_t i;

	if (!set)
		return NULL;
	if (agent_id)
		for (i = 0; i < set->n_pols; i++)
			if (pol_strv_has(set->pols[i].agents,
					 set->pols[i].n_agents, agent_id))
				return &set->pols[i];
	if (agent_class)
		for (i = 0; i < set->n_pols; i++)
			if (pol_strv_has(set->pols[i].classes,
					 set->pols[i].n_classes, agent_class))
				return &set->pols[i];
	return aw_policyset_find(set, "default");
}

/* Can pol join the sets (earlier ones first)? Its id must be new and
 * the set not full. */
static int pol_admit(const struct aw_policyset *const *sets, size_t n_sets,
		     const struct aw_policy *pol, struct aw_yaml_report *rep)
{
	size_t i, total = 0;

	for (i = 0; i < n_sets; i++) {
		const struct aw_policy *o = aw_policyset_find(sets[i], pol->id);

		if (o)
			return aw_yaml_report(
			    rep, -EINVAL, pol->file, pol->id_at.line,
			    pol->id_at.column,
			    "duplicate policy id '%s' (first "
			    "defined at %.96s:%u:%u)",
			    pol->id, o->file, o->id_at.line, o->id_at.column);
		total += sets[i]->n_pols;
	}
	if (total >= AW_POL_SET_MAX)
		return aw_yaml_report(
		    rep, -E2BIG, pol->file, pol->line, pol->column,
		    "more than %d policies in the set", AW_POL_SET_MAX);
	return 0;
}

/* Move n policies to the end of set; they are zeroed. Nothing in set
 * changes unless this succeeds. */
static int pol_set_append(struct aw_policyset *set, struct aw_policy *pols,
			  size_t n)
{
	struct aw_policy *all;

	if (!n)
		return 0;
	all = realloc(set->pols, (set->n_pols + n) * sizeof(*all));
	if (!all)
		return -ENOMEM;
	memcpy(all + set->n_pols, pols, n * sizeof(*all));
	memset(pols, 0, n * sizeof(*pols));
	set->pols = all;
	set->n_pols += n;
	return 0;
}

/* ---- whole-set checks --------------------------------------------------- */

struct pol_claim {
	const char *name;
	size_t pol;
	size_t order;
	struct aw_policy_place at;
};

static int pol_claim_cmp(const void *a, const void *b)
{
	const struct pol_claim *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* No agent (or class) in two policies' applies-to: which one would it
 * get? Reported at the later one, naming the first. */
static int pol_check_claims(const struct aw_policyset *set, bool classes,
			    struct aw_yaml_report *rep)
{
	struct pol_claim *c;
	size_t i, j, n = 0;
	int bad = 0;

	for (i = 0; i < set->n_pols; i++)
		n += classes ? set->pols[i].n_classes : set->pols[i].n_agents;
	if (!n)
		return 0;
	c = calloc(n, sizeof(*c));
	if (!c)
		return -ENOMEM;
	n = 0;
	for (i = 0; i < set->n_pols; i++) {
		const struct aw_policy *q = &set->pols[i];
		size_t m = classes ? q->n_classes : q->n_agents;

		for (j = 0; j < m; j++, n++) {
			c[n].name = classes ? q->classes[j] : q->agents[j];
			c[n].pol = i;
			c[n].order = n;
			c[n].at = classes ? q->classes_at[j] : q->agents_at[j];
		}
	}
	if (n)
		qsort(c, n, sizeof(*c), pol_claim_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && !strcmp(c[j].name, c[i].name); j++) {
			const struct aw_policy *a = &set->pols[c[i].pol];
			const struct aw_policy *b = &set->pols[c[j].pol];
			int r;

			if (a == b)
				continue;
			r = aw_yaml_report(
			    rep, -EINVAL, b->file, c[j].at.line, c[j].at.column,
			    "%s '%s' is in applies-to of policies "
			    "'%s' and '%s' (%.64s:%u:%u): which one "
			    "would it get?",
			    classes ? "class" : "agent", c[j].name, b->id,
			    a->id, a->file, c[i].at.line, c[i].at.column);
			if (!bad)
				bad = r;
			if (aw_yaml_stop(rep, r))
				goto out;
		}
	}
out:
	free(c);
	return bad;
}

/* Everything that needs the whole set. `where` names the set in a
 * diagnostic about it as a whole (no default). */
static int pol_check_set(const struct aw_policyset *set, const char *where,
			 struct aw_yaml_report *rep)
{
	size_t i, j;
	int r, bad = 0;

	/* A set built by the loaders has neither problem; a hand-built one
	 * may. */
	if (set->n_pols > AW_POL_SET_MAX)
		return aw_yaml_report(
		    rep, -E2BIG, where, 0, 0,
		    "%zu policies in the set, the limit is %d", set->n_pols,
		    AW_POL_SET_MAX);
	for (i = 0; i < set->n_pols; i++) {
		if (!set->pols[i].id || !set->pols[i].file)
			return aw_yaml_report(rep, -EINVAL, where, 0, 0,
					      "a policy without an id or file");
		for (j = 0; j < i; j++)
			if (!strcmp(set->pols[i].id, set->pols[j].id))
				POL_CHECK(aw_yaml_report(
				    rep, -EINVAL, set->pols[i].file,
				    set->pols[i].id_at.line,
				    set->pols[i].id_at.column,
				    "duplicate policy id '%s' (first defined "
				    "at %.96s:%u:%u)",
				    set->pols[i].id, set->pols[j].file,
				    set->pols[j].id_at.line,
				    set->pols[j].id_at.column));
	}

	if (!aw_policyset_find(set, "default"))
		POL_CHECK(aw_yaml_report(
		    rep, -EINVAL, where, 0, 0,
		    "no policy with id 'default' (the one every agent without "
		    "a policy of its own gets)"));
	POL_CHECK(pol_check_claims(set, false, rep));
	POL_CHECK(pol_check_claims(set, true, rep));

	for (i = 0; i < set->n_pols; i++) {
		const struct aw_policy *p = &set->pols[i];
		const struct aw_policy *chain[AW_POL_EXTENDS_MAX + 1];
		const struct aw_policy *pchain[AW_POL_EXTENDS_MAX + 1];
		const struct aw_policy *at = NULL, *pat = NULL, *parent;
		struct pol_flat_rules fr = {0};
		size_t n, pn;

		r = pol_chain(set, p, chain, &n, &at);
		if (r == -ELOOP) {
			/* Once per loop: at its member first in the set. */
			const struct aw_policy *cur = at;
			bool first = at == p;

			do {
				if (cur < p)
					first = false;
				cur = aw_policyset_find(set, cur->extends);
			} while (cur && cur != at);
			if (first)
				POL_CHECK(pol_report_chain(set, r, at, rep));
			continue;
		}
		if (r == -E2BIG) {
			/* once, at the first policy too deep */
			parent = aw_policyset_find(set, p->extends);
			if (parent &&
			    pol_chain(set, parent, pchain, &pn, &pat) != -E2BIG)
				POL_CHECK(pol_report_chain(set, r, p, rep));
			continue;
		}
		if (r == -ENOENT && at == p)
			/* once, at the policy whose extends is wrong */
			POL_CHECK(pol_report_chain(set, r, at, rep));
		/* With a broken extends, what is there is still checked (in
		 * keep-going mode: more problems in one run). */
		r = pol_flatten_chain(chain, n, true, rep, &fr);
		pol_flat_rules_free(&fr);
		POL_CHECK(r);
	}
out:
	return bad;
}

int aw_policyset_validate(const struct aw_policyset *set, struct aw_diag *diag)
{
	struct aw_yaml_report rep = {.diag = diag};

	if (!set)
		return -EINVAL;
	return pol_check_set(set, "policy set", &rep);
}

/* ---- loading ------------------------------------------------------------ */

/* Policy files are opened without blocking (a FIFO is refused, not
 * waited on) and, unless told otherwise, must be root's or ours and
 * writable by no one else. */
static unsigned pol_read_flags(unsigned flags)
{
	return AW_YAML_NONBLOCK |
	       (flags & AW_POLICY_LOAD_NO_OWNER_CHECK ? 0
						      : AW_YAML_OWNER_CHECK);
}

int aw_policy_load_buffer(struct aw_policyset *set, const char *name,
			  const char *data, size_t len, struct aw_diag *diag)
{
	struct aw_yaml_report rep = {.diag = diag};
	const struct aw_policyset *sets[1] = {set};
	struct aw_policy pol = {0};
	int r;

	if (!set || (!data && len))
		return -EINVAL;
	if (!name)
		name = "(buffer)";
	r = pol_parse(name, data ? data : "", len, &rep, &pol);
	if (r >= 0)
		r = pol_admit(sets, 1, &pol, &rep);
	if (r >= 0)
		r = pol_set_append(set, &pol, 1);
	pol_policy_free(&pol);
	return r;
}

int aw_policy_load_file_flags(struct aw_policyset *set, const char *path,
			      unsigned flags, struct aw_diag *diag)
{
	struct aw_yaml_report rep = {.diag = diag};
	_cleanup_free_ char *data = NULL;
	size_t len;
	int r;

	if (!set || !path)
		return -EINVAL;
	r = aw_yaml_read_file(path, AW_POL_FILE_MAX, pol_read_flags(flags),
			      &rep, &data, &len);
	if (r < 0)
		return r;
	return aw_policy_load_buffer(set, path, data, len, diag);
}

int aw_policy_load_file(struct aw_policyset *set, const char *path,
			struct aw_diag *diag)
{
	return aw_policy_load_file_flags(set, path, 0, diag);
}

int aw_policy_load_dir_flags(struct aw_policyset *set, const char *dir,
			     unsigned flags, struct aw_diag *diag)
{
	struct aw_yaml_report rep = {.diag = diag};
	struct aw_policyset all = {0};
	const struct aw_policyset *sets[2] = {set, &all};
	char *names[AW_POL_DIR_FILES_MAX];
	size_t i, n = 0;
	int r;

	if (!set || !dir)
		return -EINVAL;
	r = aw_yaml_list_dir(dir, AW_POL_DIR_FILES_MAX, pol_read_flags(flags),
			     &rep, names, &n);
	if (r < 0)
		return r;
	all.pols = calloc(n ? n : 1, sizeof(*all.pols));
	if (!all.pols) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		_cleanup_free_ char *path = NULL;
		_cleanup_free_ char *data = NULL;
		struct aw_policy *pol = &all.pols[all.n_pols];
		size_t len;

		if (asprintf(&path, "%s/%s", dir, names[i]) < 0) {
			path = NULL;
			r = -ENOMEM;
			goto out;
		}
		r = aw_yaml_read_file(path, AW_POL_FILE_MAX,
				      pol_read_flags(flags), &rep, &data, &len);
		if (r < 0)
			goto out;
		r = pol_parse(path, data, len, &rep, pol);
		if (r >= 0)
			r = pol_admit(sets, 2, pol, &rep);
		if (r < 0) {
			pol_policy_free(pol);
			goto out;
		}
		all.n_pols++;
	}
	/* Every agent without a policy of its own gets `default`: a set
	 * without one would leave them unconfined. It may come from an
	 * earlier load (the embedded templates). */
	if (!aw_policyset_find(set, "default") &&
	    !aw_policyset_find(&all, "default")) {
		r = aw_yaml_report(&rep, -EINVAL, dir, 0, 0,
				   "no policy with id 'default' (the one every "
				   "agent without a policy of its own gets)");
		goto out;
	}
	r = pol_set_append(set, all.pols, all.n_pols);
	if (r >= 0)
		all.n_pols = 0;
out:
	aw_policyset_free(&all);
	for (i = 0; i < n; i++)
		free(names[i]);
	return r;
}

int aw_policy_load_dir(struct aw_policyset *set, const char *dir,
		       struct aw_diag *diag)
{
	return aw_policy_load_dir_flags(set, dir, 0, diag);
}

/* One file's problems, held to be handed on in the order of the file
 * (the parser finds them in the order of the schema). */
struct pol_held {
	struct aw_diag *v;
	size_t n, cap;
	bool nomem;
};

static void pol_hold(void *ud, const struct aw_diag *d)
{
	struct pol_held *h = ud;

	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;
		struct aw_diag *v = realloc(h->v, cap * sizeof(*v));

		if (!v) {
			h->nomem = true;
			return;
		}
		h->v = v;
		h->cap = cap;
	}
	h->v[h->n++] = *d;
}

static int pol_held_cmp(const void *a, const void *b)
{
	const struct aw_diag *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->column != y->column)
		return x->column < y->column ? -1 : 1;
	/* same place: keep the order found (they are stored in it) */
	return x < y ? -1 : x > y;
}

/* check_all: one file, keep going; a usable policy joins the set. */
static int pol_check_file(struct aw_policyset *set, const char *path,
			  struct aw_yaml_report *rep)
{
	const struct aw_policyset *sets[1] = {set};
	struct pol_held held = {0};
	struct aw_yaml_report frep = {.cb = pol_hold, .ud = &held};
	_cleanup_free_ char *data = NULL;
	struct aw_policy pol = {0};
	size_t len, i;
	int r;

	r = aw_yaml_read_file(path, AW_POL_FILE_MAX, pol_read_flags(0), &frep,
			      &data, &len);
	if (r != -ENOMEM && data) {
		r = pol_parse(path, data, len, &frep, &pol);
		if (r != -ENOMEM && pol.id &&
		    pol_admit(sets, 1, &pol, &frep) >= 0)
			r = pol_set_append(set, &pol, 1);
	}
	pol_policy_free(&pol);
	if (held.nomem)
		r = -ENOMEM;
	if (r != -ENOMEM) {
		if (held.n) /* qsort(NULL, 0) is undefined */
			qsort(held.v, held.n, sizeof(*held.v), pol_held_cmp);
		for (i = 0; i < held.n; i++)
			aw_yaml_report(rep, -EINVAL, held.v[i].file,
				       held.v[i].line, held.v[i].column, "%s",
				       held.v[i].message);
	}
	free(held.v);
	return r == -ENOMEM ? r : 0;
}

int aw_policyset_check_all(struct aw_policyset *set, const char *const *files,
			   size_t n_files,
			   void (*cb)(void *ud, const struct aw_diag *d),
			   void *ud)
{
	struct aw_yaml_report rep = {.cb = cb, .ud = ud};
	size_t i, j;
	int r = 0;

	if (!set || (!files && n_files) || !cb)
		return -EINVAL;
	for (i = 0; i < n_files && r >= 0 && !rep.stopped; i++) {
		char *names[AW_POL_DIR_FILES_MAX];
		struct stat st;
		size_t n = 0;

		if (stat(files[i], &st) < 0 || !S_ISDIR(st.st_mode)) {
			r = pol_check_file(set, files[i], &rep);
			continue;
		}
		if (aw_yaml_list_dir(files[i], AW_POL_DIR_FILES_MAX,
				     pol_read_flags(0), &rep, names, &n) < 0)
			continue; /* reported */
		for (j = 0; j < n; j++) {
			char *path = NULL;

			if (r >= 0 &&
			    asprintf(&path, "%s/%s", files[i], names[j]) < 0)
				r = -ENOMEM;
			else if (r >= 0)
				r = pol_check_file(set, path, &rep);
			free(path);
			free(names[j]);
		}
	}
	if (r >= 0 && !rep.stopped)
		r = pol_check_set(set, n_files == 1 ? files[0] : "policy set",
				  &rep);
	if (r == -ENOMEM)
		return r;
	return (int)rep.n;
}
