// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policies, flattening: extends chains, the path checks of one rule and
 * of a flattened rule list (masked grants, contradictions), and
 * aw_policy_flatten, which gives a session its one list of rules.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "policy/policy.h"
#include "policy/policy_int.h"
#include "shared/diag.h"
#include "shared/util.h"
#include "shared/yaml.h"

/* Which placeholder a path starts with, and where its components start.
 * Returns the root's length (0: not a rooted path). The roots: "/", "~",
 * "{workspace}", "{runtime}"; ret_rest is "" for the root alone. */
static size_t pol_root(const char *path, const char **ret_rest)
{
	static const char *const roots[] = {"/", "~", "{workspace}",
					    "{runtime}"};
	size_t i;

	for (i = 0; i < AW_ARRAY_SIZE(roots); i++) {
		size_t len = strlen(roots[i]);

		if (strncmp(path, roots[i], len))
			continue;
		if (len == 1 && path[0] == '/') {
			*ret_rest = path + 1;
			return 1;
		}
		if (path[len] && path[len] != '/')
			return 0;
		*ret_rest = path[len] ? path + len + 1 : path + len;
		return len;
	}
	return 0;
}

#define POL_ENV_SSH "{env:SSH_AUTH_SOCK}"

/*
 * Check one path's syntax for a verb (the rules in policies/README.md).
 * Returns 0 or -EINVAL with a reason in why. Strict: nothing is
 * normalised, a path that would need it is refused.
 */
int pol_path_check(const char *path, enum aw_fs_verb verb, char *why,
		   size_t why_len)
{
	const char *rest, *c;
	size_t i, len = strlen(path), depth = 0;

#define POL_WHY(...)                                                           \
	do {                                                                   \
		snprintf(why, why_len, __VA_ARGS__);                           \
		return -EINVAL;                                                \
	} while (0)

	if (len == 0)
		POL_WHY("empty path");
	if (len > AW_POL_PATH_MAX)
		POL_WHY("path is %zu bytes, the limit is %d", len,
			AW_POL_PATH_MAX);
	for (i = 0; i < len; i++)
		if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
			POL_WHY("control character 0x%02x at byte %zu",
				(unsigned char)path[i], i + 1);

	if (!strncmp(path, "{env:", 5)) {
		if (strcmp(path, POL_ENV_SSH))
			POL_WHY("'{env:...}' is not supported, except "
				"'" POL_ENV_SSH "' as a whole path");
		if (verb != AW_FS_DENY)
			POL_WHY("'" POL_ENV_SSH "' names the agent's ssh-agent "
				"socket: only 'deny' applies to it");
		return 0;
	}
	if (!strncmp(path, "**", 2)) {
		const char *name = path + 3;

		if (path[2] != '/')
			POL_WHY("'**' must be followed by '/NAME'");
		if (verb != AW_FS_DENY)
			POL_WHY("'**/NAME' is only allowed in 'deny'");
		if (!*name)
			POL_WHY("'**/' needs a NAME after it");
		if (strchr(name, '/') || strchr(name, '*'))
			POL_WHY("'**/NAME' takes one literal name: no '/' or "
				"'*' after '**/'");
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			POL_WHY("'**/%s' names no entry", name);
		if (strlen(name) > AW_POL_COMPONENT_MAX)
			POL_WHY("name of %zu bytes, the limit is %d",
				strlen(name), AW_POL_COMPONENT_MAX);
		if (strpbrk(name, "?[{}"))
			POL_WHY("'?', '[', '{' and '}' are not allowed in a "
				"'**/NAME' name");
		return 0;
	}
	if (!pol_root(path, &rest)) {
		if (path[0] == '~')
			POL_WHY("'~NAME' (another user's home) is not "
				"supported: use '~' or '~/...'");
		if (!strncmp(path, "{workspace}", 11) ||
		    !strncmp(path, "{runtime}", 9))
			POL_WHY("a placeholder is followed by '/' or nothing");
		if (path[0] == '{')
			POL_WHY("unknown placeholder: expected {workspace}, "
				"{runtime} or " POL_ENV_SSH);
		POL_WHY("relative path: start with '/', '~', '{workspace}' or "
			"'{runtime}'%s",
			verb == AW_FS_DENY ? " (or '**/NAME')" : "");
	}
	/* "/" and "~" alone are fine; "/x/" and "~/" are not. */
	if (!*rest && rest > path && rest[-1] == '/' && len > 1)
		POL_WHY("trailing '/': write the path without it");
	for (c = rest; *c;) {
		size_t clen = strcspn(c, "/");

		if (clen == 0)
			POL_WHY("empty path component ('//')");
		if ((clen == 1 && c[0] == '.') ||
		    (clen == 2 && c[0] == '.' && c[1] == '.'))
			POL_WHY("'.' and '..' components are not allowed: "
				"write the path they mean");
		if (clen > AW_POL_COMPONENT_MAX)
			POL_WHY("path component of %zu bytes, the limit is %d",
				clen, AW_POL_COMPONENT_MAX);
		for (i = 0; i < clen; i++) {
			if (c[i] == '*' && i + 1 < clen && c[i + 1] == '*')
				POL_WHY("'**' is only allowed as '**/NAME' at "
					"the start of a deny path");
			if (c[i] == '?' || c[i] == '[')
				POL_WHY("'?' and '[' are not supported: '*' is "
					"the only wildcard");
			if (c[i] == '{' || c[i] == '}')
				POL_WHY("'{' and '}' only belong to a leading "
					"{workspace}, {runtime} or "
					"" POL_ENV_SSH);
		}
		if (++depth > AW_POL_DEPTH_MAX)
			POL_WHY("path has more than %d components",
				AW_POL_DEPTH_MAX);
		c += clen;
		if (*c == '/') {
			c++;
			if (!*c)
				POL_WHY("trailing '/': write the path without "
					"it");
		}
	}
#undef POL_WHY
	return 0;
}

/* ---- flattening --------------------------------------------------------- */

/*
 * The chain of p: chain[0] = p, chain[k] its k-th ancestor; *ret_n says
 * how many were found (also on error). Returns 0, or -ENOENT (*ret_at's
 * extends names nothing), -ELOOP (*ret_at is where the loop closes: the
 * policy met twice) or -E2BIG (deeper than AW_POL_EXTENDS_MAX).
 */
int pol_chain(const struct aw_policyset *set, const struct aw_policy *p,
	      const struct aw_policy **chain, size_t *ret_n,
	      const struct aw_policy **ret_at)
{
	const struct aw_policy *cur = p, *next;
	size_t i;

	*ret_n = 0;
	for (;;) {
		for (i = 0; i < *ret_n; i++)
			if (chain[i] == cur) {
				*ret_at = cur;
				return -ELOOP;
			}
		if (*ret_n == AW_POL_EXTENDS_MAX + 1) {
			*ret_at = p;
			return -E2BIG;
		}
		chain[(*ret_n)++] = cur;
		if (!cur->extends)
			return 0;
		next = aw_policyset_find(set, cur->extends);
		if (!next) {
			*ret_at = cur;
			return -ENOENT;
		}
		cur = next;
	}
}

/* "a -> b -> a" for a loop that closes at `at`, into buf. */
static void pol_loop_text(const struct aw_policyset *set,
			  const struct aw_policy *at, char *buf, size_t size)
{
	const struct aw_policy *cur = at;
	size_t off = 0, steps = 0;

	buf[0] = 0;
	do {
		off += snprintf(buf + off, size - off, "%s -> ", cur->id);
		if (off >= size)
			return;
		cur = aw_policyset_find(set, cur->extends);
	} while (cur && cur != at && ++steps <= AW_POL_EXTENDS_MAX);
	snprintf(buf + off, size - off, "%s", at->id);
}

struct pol_ent {
	const char *path;
	const struct aw_fs_rule *rule;
	size_t j;     /* index in rule->paths */
	size_t order; /* position in the flattened policy */
	int kind;
	bool own; /* written in the policy being checked */
};

enum {
	POL_LITERAL,
	POL_GLOB,  /* '*' in a component */
	POL_NAMED, /* **\/NAME */
	POL_ENV,   /* {env:SSH_AUTH_SOCK} */
};

/* Is r written in p (not inherited)? */
static bool pol_owns(const struct aw_policy *p, const struct aw_fs_rule *r)
{
	/* (no arithmetic on a NULL rules array) */
	return p->n_rules && r >= p->rules && r < p->rules + p->n_rules;
}

static struct aw_policy_place pol_ent_place(const struct pol_ent *e)
{
	if (e->rule->path_at)
		return e->rule->path_at[e->j];
	return (struct aw_policy_place){e->rule->line, e->rule->column};
}

/* Path order where '/' sorts before every other byte: a directory's
 * descendants ("a/b") then come right after it ("a"), before "a-b". */
static int pol_path_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char x = *a, y = *b;

		if (x == y) {
			if (!x)
				return 0;
			continue;
		}
		if (!x || x == '/')
			return -1;
		if (!y || y == '/')
			return 1;
		return x < y ? -1 : 1;
	}
}

static int pol_ent_cmp(const void *a, const void *b)
{
	const struct pol_ent *x = a, *y = b;
	int c = pol_path_cmp(x->path, y->path);

	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* a is a proper ancestor of b (both literal, same root syntax). */
static bool pol_is_ancestor(const char *a, const char *b)
{
	size_t la = strlen(a);

	if (!strcmp(a, "/"))
		return b[0] == '/' && b[1];
	return !strncmp(a, b, la) && b[la] == '/';
}

/* May two components name the same entry? A '*' matches within the
 * component as glob(3) would (not a leading '.'). Two patterns are
 * compared loosely: equal, or one matching the other's text. */
static bool pol_comp_match(const char *a, size_t alen, const char *b,
			   size_t blen)
{
	char x[AW_POL_COMPONENT_MAX + 1], y[AW_POL_COMPONENT_MAX + 1];
	bool ga = memchr(a, '*', alen), gb = memchr(b, '*', blen);
	const int fl = FNM_PERIOD | FNM_NOESCAPE;

	if (alen == blen && !memcmp(a, b, alen))
		return true;
	if ((!ga && !gb) || alen >= sizeof(x) || blen >= sizeof(y))
		return false;
	memcpy(x, a, alen);
	x[alen] = 0;
	memcpy(y, b, blen);
	y[blen] = 0;
	return (ga && !fnmatch(x, y, fl)) || (gb && !fnmatch(y, x, fl));
}

/* Is (or may) grant g be at or under deny d? Component by component,
 * globs matching as above; different roots never meet. */
static bool pol_covers(const char *d, const char *g)
{
	const char *dr, *gr;
	size_t dl = pol_root(d, &dr), gl = pol_root(g, &gr);

	if (!dl || dl != gl || memcmp(d, g, dl))
		return false;
	for (;;) {
		size_t dn, gn;

		if (!*dr)
			return true;
		if (!*gr)
			return false;
		dn = strcspn(dr, "/");
		gn = strcspn(gr, "/");
		if (!pol_comp_match(dr, dn, gr, gn))
			return false;
		dr += dn + (dr[dn] == '/');
		gr += gn + (gr[gn] == '/');
	}
}

static int pol_report_contra(struct aw_yaml_report *rep,
			     const struct pol_ent *at,
			     const struct pol_ent *other)
{
	struct aw_policy_place pa = pol_ent_place(at),
			       po = pol_ent_place(other);
	char safe[72];

	return aw_yaml_report(
	    rep, -EINVAL, at->rule->file, pa.line, pa.column,
	    "'%s' is %s here (rule %s) and %s in rule %s "
	    "(%.64s:%u:%u): one path, one verb",
	    aw_yaml_safe(at->path, safe, 48), aw_fs_verb_name(at->rule->verb),
	    at->rule->id, aw_fs_verb_name(other->rule->verb), other->rule->id,
	    other->rule->file, po.line, po.column);
}

/* A grant inside a masked tree: reported at the grant, or at the deny if
 * only the deny is the checked policy's own. */
static int pol_report_masked(struct aw_yaml_report *rep,
			     const struct pol_ent *g, const struct pol_ent *d,
			     bool own_only)
{
	struct aw_policy_place pg = pol_ent_place(g), pd = pol_ent_place(d);
	char sg[72], sd[72];

	if (!own_only || g->own)
		return aw_yaml_report(
		    rep, -EINVAL, g->rule->file, pg.line, pg.column,
		    "%s '%s' (rule %s) is inside '%s', denied by rule %s "
		    "(%.64s:%u:%u): a grant in a masked tree cannot be "
		    "honoured",
		    aw_fs_verb_name(g->rule->verb),
		    aw_yaml_safe(g->path, sg, 48), g->rule->id,
		    aw_yaml_safe(d->path, sd, 48), d->rule->id, d->rule->file,
		    pd.line, pd.column);
	return aw_yaml_report(
	    rep, -EINVAL, d->rule->file, pd.line, pd.column,
	    "deny '%s' (rule %s) masks %s '%s' of rule %s "
	    "(%.64s:%u:%u): a grant in a masked tree cannot be "
	    "honoured",
	    aw_yaml_safe(d->path, sd, 48), d->rule->id,
	    aw_fs_verb_name(g->rule->verb), aw_yaml_safe(g->path, sg, 48),
	    g->rule->id, g->rule->file, pg.line, pg.column);
}

/* Does `name` (a **\/NAME deny) name a component of grant g? */
static bool pol_names_component(const char *g, const char *name)
{
	const char *rest;
	size_t nlen = strlen(name);

	if (!pol_root(g, &rest))
		return false;
	while (*rest) {
		size_t n = strcspn(rest, "/");

		if (pol_comp_match(rest, n, name, nlen))
			return true;
		rest += n + (rest[n] == '/');
	}
	return false;
}

/*
 * The checks on a flattened rule list: one path under two verbs, and a
 * grant (cow, write, tmpfs) at or under a deny. With own_only, only
 * pairs involving a rule of p itself are reported (an inherited pair
 * was reported with the policy that wrote it).
 *
 * Cost: the literal paths are sorted once (a tree's descendants follow
 * it), so the ancestor walk is linear; paths with wildcards (at most
 * AW_POL_FLAT_GLOBS_MAX) are compared with every path.
 */
static int pol_check_paths(const struct aw_policy *p,
			   const struct aw_fs_rule *const *rules,
			   size_t n_rules, bool own_only,
			   struct aw_yaml_report *rep)
{
	struct pol_ent *ents, **stack = NULL;
	size_t i, j, n = 0, n_globs = 0, sp = 0;
	int bad = 0;

	for (i = 0; i < n_rules; i++)
		n += rules[i]->n_paths;
	if (n > AW_POL_FLAT_PATHS_MAX)
		return aw_yaml_report(rep, -E2BIG, p->file, p->line, p->column,
				      "policy '%s' has %zu paths with what it "
				      "inherits, the limit is %d",
				      p->id, n, AW_POL_FLAT_PATHS_MAX);
	if (!n)
		return 0;
	ents = calloc(n, sizeof(*ents));
	stack = calloc(n, sizeof(*stack));
	if (!ents || !stack) {
		free(ents);
		free(stack);
		return -ENOMEM;
	}
	n = 0;
	for (i = 0; i < n_rules; i++)
		for (j = 0; j < rules[i]->n_paths; j++) {
			const char *s = rules[i]->paths[j];
			struct pol_ent *e = &ents[n];

			e->path = s;
			e->rule = rules[i];
			e->j = j;
			e->order = n++;
			e->own = pol_owns(p, rules[i]);
			if (!strncmp(s, "**/", 3))
				e->kind = POL_NAMED;
			else if (!strcmp(s, POL_ENV_SSH))
				e->kind = POL_ENV;
			else if (strchr(s, '*'))
				e->kind = POL_GLOB;
			else
				e->kind = POL_LITERAL;
			n_globs += e->kind == POL_NAMED || e->kind == POL_GLOB;
		}
	if (n_globs > AW_POL_FLAT_GLOBS_MAX) {
		POL_CHECK(
		    aw_yaml_report(rep, -E2BIG, p->file, p->line, p->column,
				   "policy '%s' has %zu paths with '*' with "
				   "what it inherits, the limit is %d",
				   p->id, n_globs, AW_POL_FLAT_GLOBS_MAX));
		goto out;
	}
	if (n)
		qsort(ents, n, sizeof(*ents), pol_ent_cmp);

	/* One path, one verb: equal paths are adjacent now. */
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && !strcmp(ents[j].path, ents[i].path);
		     j++) {
			const struct pol_ent *a = &ents[i], *b = &ents[j];

			if (a->rule->verb == b->rule->verb ||
			    (own_only && !a->own && !b->own))
				continue;
			if (b->own || !own_only)
				POL_CHECK(pol_report_contra(rep, b, a));
			else
				POL_CHECK(pol_report_contra(rep, a, b));
		}
	}

	/* Grants under literal denies: walk in order, the stack holding
	 * the denies the current path is under. */
	for (i = 0; i < n; i++) {
		struct pol_ent *e = &ents[i];

		if (e->kind == POL_NAMED || e->kind == POL_ENV)
			continue;
		while (sp && !pol_is_ancestor(stack[sp - 1]->path, e->path))
			sp--;
		if (pol_is_grant(e->rule->verb))
			for (j = sp; j-- > 0;)
				if (!own_only || e->own || stack[j]->own) {
					POL_CHECK(pol_report_masked(
					    rep, e, stack[j], own_only));
					break;
				}
		if (e->kind == POL_LITERAL && e->rule->verb == AW_FS_DENY)
			stack[sp++] = e;
	}

	/* Wildcards on either side, and **\/NAME denies. */
	for (i = 0; i < n; i++) {
		const struct pol_ent *a = &ents[i];

		if (a->kind != POL_GLOB && a->kind != POL_NAMED)
			continue;
		for (j = 0; j < n; j++) {
			const struct pol_ent *b = &ents[j], *d, *g;
			bool hit;

			if (a->rule->verb == AW_FS_DENY &&
			    pol_is_grant(b->rule->verb)) {
				d = a;
				g = b;
			} else if (b->rule->verb == AW_FS_DENY &&
				   pol_is_grant(a->rule->verb) &&
				   b->kind != POL_GLOB &&
				   b->kind != POL_NAMED) {
				/* a glob grant against a literal deny (a
				 * glob deny is met in its own turn) */
				d = b;
				g = a;
			} else {
				continue;
			}
			if (g->kind != POL_LITERAL && g->kind != POL_GLOB)
				continue;
			if (own_only && !d->own && !g->own)
				continue;
			/* already reported above */
			if (!strcmp(d->path, g->path) ||
			    (d->kind == POL_LITERAL &&
			     pol_is_ancestor(d->path, g->path)))
				continue;
			if (d->kind == POL_NAMED)
				hit = pol_names_component(g->path, d->path + 3);
			else
				hit = pol_covers(d->path, g->path);
			if (hit)
				POL_CHECK(
				    pol_report_masked(rep, g, d, own_only));
		}
	}
out:
	free(ents);
	free(stack);
	return bad;
}

struct pol_slot {
	const char *id;
	size_t slot;
};

static int pol_slot_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pol_slot *)a)->id,
		      ((const struct pol_slot *)b)->id);
}

/* A place in the flattened policy: a filesystem or a network rule (one
 * of the two; neither once removed). Their ids are one namespace. */
struct pol_flat_slot {
	const char *id;
	const struct aw_fs_rule *fs;
	const struct aw_net_rule *net;
};

/* An inherited rule of the other kind has this id: remove would drop
 * both, so it is refused. Reported at the newer rule. */
static int pol_report_kind_clash(struct aw_yaml_report *rep, const char *file,
				 unsigned line, unsigned column, bool net,
				 const struct pol_flat_slot *old)
{
	char safe[72];

	return aw_yaml_report(
	    rep, -EINVAL, file, line, column,
	    "%s rule '%s' has the id of inherited %s rule (%.64s:%u:%u): "
	    "filesystem and network rule ids are one namespace (remove: "
	    "names either)",
	    net ? "network" : "filesystem", aw_yaml_safe(old->id, safe, 64),
	    net ? "filesystem" : "network",
	    old->fs ? old->fs->file : old->net->file,
	    old->fs ? old->fs->line : old->net->line,
	    old->fs ? old->fs->column : old->net->column);
}

/* Totals of a flattened policy's network rules against the limits. */
static int pol_check_net(const struct aw_policy *p,
			 const struct aw_net_rule *const *rules, size_t n,
			 struct aw_yaml_report *rep)
{
	size_t i, hosts = 0, cidrs = 0;

	if (n > AW_POL_RULES_MAX)
		return aw_yaml_report(
		    rep, -E2BIG, p->file, p->line, p->column,
		    "policy '%s' has %zu network rules with what "
		    "it inherits, the limit is %d",
		    p->id, n, AW_POL_RULES_MAX);
	for (i = 0; i < n; i++) {
		hosts += rules[i]->n_hosts;
		cidrs += rules[i]->n_cidrs;
	}
	if (hosts > AW_POL_FLAT_HOSTS_MAX)
		return aw_yaml_report(rep, -E2BIG, p->file, p->line, p->column,
				      "policy '%s' has %zu hosts with what it "
				      "inherits, the limit is %d",
				      p->id, hosts, AW_POL_FLAT_HOSTS_MAX);
	if (cidrs > AW_POL_FLAT_CIDRS_MAX)
		return aw_yaml_report(rep, -E2BIG, p->file, p->line, p->column,
				      "policy '%s' has %zu cidrs with what it "
				      "inherits, the limit is %d",
				      p->id, cidrs, AW_POL_FLAT_CIDRS_MAX);
	return 0;
}

void pol_flat_rules_free(struct pol_flat_rules *fr)
{
	free(fr->fs);
	free(fr->net);
	memset(fr, 0, sizeof(*fr));
}

/*
 * Flatten chain[n-1] (the root) down to chain[0] (p), filesystem and
 * network rules together: removes first (by id, either kind), then a
 * rule with an inherited id replaces it in its place (a rule of the
 * other kind with that id is an error), new ones are appended. ret (its
 * arrays malloc'd) only on success.
 */
int pol_flatten_chain(const struct aw_policy *const *chain, size_t n,
		      bool own_only, struct aw_yaml_report *rep,
		      struct pol_flat_rules *ret)
{
	const struct aw_policy *p = chain[0];
	struct pol_flat_rules fr = {0};
	struct pol_flat_slot *slots;
	struct pol_slot *idx;
	size_t cap = 0, n_slots = 0, lvl, i, k;
	int bad = 0;

	for (lvl = 0; lvl < n; lvl++)
		cap += chain[lvl]->n_rules + chain[lvl]->n_net_rules;
	slots = calloc(cap ? cap : 1, sizeof(*slots));
	idx = calloc(cap ? cap : 1, sizeof(*idx));
	if (!slots || !idx) {
		free(slots);
		free(idx);
		return -ENOMEM;
	}
	for (lvl = n; lvl-- > 0;) {
		const struct aw_policy *q = chain[lvl];
		/* report here: p's own, or any in a session's flatten */
		bool say = !own_only || !lvl;
		size_t n_idx = 0;

		for (i = 0; i < n_slots; i++)
			idx[n_idx++] = (struct pol_slot){slots[i].id, i};
		qsort(idx, n_idx, sizeof(*idx), pol_slot_cmp);
		/* (the root's removes, if any, were refused by the parser) */
		for (i = 0; lvl + 1 < n && i < q->n_remove; i++) {
			struct pol_slot key = {q->remove[i], 0}, *hit;
			char safe[72];

			hit = bsearch(&key, idx, n_idx, sizeof(*idx),
				      pol_slot_cmp);
			if (hit &&
			    (slots[hit->slot].fs || slots[hit->slot].net)) {
				slots[hit->slot].fs = NULL;
				slots[hit->slot].net = NULL;
				continue;
			}
			if (!say)
				continue;
			POL_CHECK(aw_yaml_report(
			    rep, -EINVAL, q->file, q->remove_at[i].line,
			    q->remove_at[i].column,
			    "remove: '%s' is not a rule of '%s' (or what it "
			    "extends)",
			    aw_yaml_safe(q->remove[i], safe, 64),
			    chain[lvl + 1]->id));
		}
		for (i = 0; i < q->n_rules + q->n_net_rules; i++) {
			bool net = i >= q->n_rules;
			const struct aw_fs_rule *fs = net ? NULL : &q->rules[i];
			const struct aw_net_rule *nr =
			    net ? &q->net_rules[i - q->n_rules] : NULL;
			struct pol_flat_slot *s;
			struct pol_slot key, *hit;

			key.id = net ? nr->id : fs->id;
			hit = bsearch(&key, idx, n_idx, sizeof(*idx),
				      pol_slot_cmp);
			s = hit ? &slots[hit->slot] : NULL;
			if (s && (net ? s->fs != NULL : s->net != NULL)) {
				/* left out: which one did the author mean? */
				if (say)
					POL_CHECK(pol_report_kind_clash(
					    rep, q->file,
					    net ? nr->line : fs->line,
					    net ? nr->column : fs->column, net,
					    s));
				continue;
			}
			if (!s || (!s->fs && !s->net))
				s = &slots[n_slots++];
			*s = (struct pol_flat_slot){key.id, fs, nr};
		}
		for (i = k = 0; i < n_slots; i++)
			if (slots[i].fs || slots[i].net)
				slots[k++] = slots[i];
		n_slots = k;
	}
	fr.fs = calloc(n_slots ? n_slots : 1, sizeof(*fr.fs));
	fr.net = calloc(n_slots ? n_slots : 1, sizeof(*fr.net));
	if (!fr.fs || !fr.net) {
		bad = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n_slots; i++) {
		if (slots[i].fs)
			fr.fs[fr.n_fs++] = slots[i].fs;
		else
			fr.net[fr.n_net++] = slots[i].net;
	}
	if (fr.n_fs > AW_POL_RULES_MAX) {
		POL_CHECK(aw_yaml_report(rep, -E2BIG, p->file, p->line,
					 p->column,
					 "policy '%s' has %zu rules with what "
					 "it inherits, the limit is %d",
					 p->id, fr.n_fs, AW_POL_RULES_MAX));
		goto out;
	}
	POL_CHECK(pol_check_net(p, fr.net, fr.n_net, rep));
	/* (not on a half-flattened list: a missed remove would show up as
	 * contradictions that are not there) */
	if (!bad)
		POL_CHECK(pol_check_paths(p, fr.fs, fr.n_fs, own_only, rep));
out:
	free(idx);
	free(slots);
	if (bad < 0) {
		pol_flat_rules_free(&fr);
		return bad;
	}
	*ret = fr;
	return 0;
}

/* Report a broken chain (from pol_chain) at the right place. */
int pol_report_chain(const struct aw_policyset *set, int r,
		     const struct aw_policy *at, struct aw_yaml_report *rep)
{
	char text[256], safe[72];

	switch (r) {
	case -ENOENT:
		return aw_yaml_report(
		    rep, -EINVAL, at->file, at->extends_at.line,
		    at->extends_at.column, "'%s' extends unknown policy '%s'",
		    at->id, aw_yaml_safe(at->extends, safe, 64));
	case -ELOOP:
		pol_loop_text(set, at, text, sizeof(text));
		return aw_yaml_report(
		    rep, -EINVAL, at->file, at->extends_at.line,
		    at->extends_at.column, "extends loop: %.200s", text);
	default:
		return aw_yaml_report(rep, -EINVAL, at->file,
				      at->extends_at.line,
				      at->extends_at.column,
				      "extends chain of '%s' is deeper than %d "
				      "policies",
				      at->id, AW_POL_EXTENDS_MAX);
	}
}

static int pol_flatten(const struct aw_policyset *set,
		       const struct aw_policy *p, struct aw_yaml_report *rep,
		       struct aw_policy_flat *ret)
{
	const struct aw_policy *chain[AW_POL_EXTENDS_MAX + 1], *at = NULL;
	struct pol_flat_rules fr;
	size_t n, i;
	int r;

	r = pol_chain(set, p, chain, &n, &at);
	if (r < 0)
		return pol_report_chain(set, r, at, rep);
	r = pol_flatten_chain(chain, n, false, rep, &fr);
	if (r < 0)
		return r;
	*ret = (struct aw_policy_flat){
	    .id = p->id,
	    .mode = 1,
	    .pids_max = AW_POL_PIDS_DEFAULT,
	    .notify = 1,
	    .rules = fr.fs,
	    .n_rules = fr.n_fs,
	    .net_rules = fr.net,
	    .n_net_rules = fr.n_net,
	};
	/* Confined if anyone in the chain said anything about the network:
	 * a child cannot unconfine what its parent confined. */
	for (i = 0; i < n; i++)
		if (chain[i]->has_network)
			ret->has_network = 1;
	/* nearest first */
	for (i = 0; i < n; i++)
		if (chain[i]->mode >= 0) {
			ret->mode = chain[i]->mode;
			break;
		}
	for (i = 0; i < n; i++)
		if (chain[i]->pids_max >= 0) {
			ret->pids_max = chain[i]->pids_max;
			break;
		}
	for (i = 0; i < n; i++)
		if (chain[i]->notify >= 0) {
			ret->notify = chain[i]->notify;
			break;
		}
	for (i = 0; i < n; i++)
		if (chain[i]->allow_syscalls_set) {
			ret->allow_syscalls = chain[i]->allow_syscalls;
			break;
		}
	for (i = 0; i < n; i++)
		if (chain[i]->cu_display >= 0) {
			ret->display = chain[i]->cu_display;
			break;
		}
	for (i = 0; i < n; i++)
		if (chain[i]->cu_input >= 0) {
			ret->input = chain[i]->cu_input;
			break;
		}
	for (i = 0; i < n; i++)
		if (chain[i]->cu_cdp_set) {
			ret->cdp = chain[i]->cu_cdp;
			ret->n_cdp = chain[i]->n_cu_cdp;
			if (chain[i]->n_cu_cdp) {
				const struct aw_net_rule **nr = realloc(
				    ret->net_rules,
				    (ret->n_net_rules + 1) * sizeof(*nr));

				if (!nr) {
					aw_policy_flat_free(ret);
					return -ENOMEM;
				}
				nr[ret->n_net_rules++] = &chain[i]->cu_cdp_rule;
				ret->net_rules = nr;
			}
			break;
		}
	return 0;
}

int aw_policy_flatten(const struct aw_policyset *set, const struct aw_policy *p,
		      struct aw_policy_flat *ret, struct aw_diag *diag)
{
	struct aw_yaml_report rep = {.diag = diag};

	if (!set || !p || !p->id || !ret)
		return -EINVAL;
	return pol_flatten(set, p, &rep, ret);
}

void aw_policy_flat_free(struct aw_policy_flat *f)
{
	if (!f)
		return;
	free(f->rules);
	free(f->net_rules);
	memset(f, 0, sizeof(*f));
}
