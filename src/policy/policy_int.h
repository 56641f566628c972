/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the policy sources share among themselves (parse.c, network.c,
 * flatten.c, set.c); the API is policy.h.
 */
#ifndef AW_POLICY_INT_H
#define AW_POLICY_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <yaml.h>

#include "policy/policy.h"
#include "shared/yaml.h"

/* ---- parser (parse.c) --------------------------------------------------- */

struct pol_parser {
	struct aw_yaml y; /* first: pol_parse_doc() casts back */
	size_t budget;	  /* bytes of text still allowed out of the document */
};

static inline struct aw_policy_place pol_place(const yaml_node_t *n)
{
	return (struct aw_policy_place){n->start_mark.line + 1,
					n->start_mark.column + 1};
}

/* A grant makes something writable: it cannot be honoured inside a
 * masked tree. escalate is not a grant (read-only, or held). */
static inline bool pol_is_grant(enum aw_fs_verb v)
{
	return v == AW_FS_COW || v == AW_FS_TMPFS || v == AW_FS_WRITE;
}

/*
 * Parse one document into pol (zeroed by the caller, who frees it in any
 * case). In keep-going mode pol may be usable (pol->id set) despite
 * problems.
 */
int pol_parse(const char *name, const char *data, size_t len,
	      struct aw_yaml_report *rep, struct aw_policy *pol);

/* Charge a scalar's text to the budget without copying it (values that
 * are parsed into numbers or normalized): walking it costs the same. */
int pol_spend(struct pol_parser *p, const yaml_node_t *n);

/* An id ([a-z0-9][a-z0-9._-]*, <= 64 bytes) copied out of n. */
int pol_id(struct pol_parser *p, const yaml_node_t *n, const char *what,
	   char **ret);

/* ---- network rules (network.c) ------------------------------------------ */

int pol_parse_net_rules(struct pol_parser *p, const yaml_node_t *seq,
			struct aw_policy *pol);

/* The rule of the file's filesystem or network rules (they share the
 * namespace of `remove`) with this id: its place, or false. */
bool pol_rule_id_at(const struct aw_policy *pol, const char *id,
		    struct aw_policy_place *ret);

/* ---- flattening (flatten.c) --------------------------------------------- */

/* One path's syntax for a verb: 0, or -EINVAL with a reason in why. */
int pol_path_check(const char *path, enum aw_fs_verb verb, char *why,
		   size_t why_len);

/* The chain of p (chain[0] = p, then its ancestors): 0, -ENOENT, -ELOOP
 * or -E2BIG, *ret_at the policy to blame (see flatten.c). */
int pol_chain(const struct aw_policyset *set, const struct aw_policy *p,
	      const struct aw_policy **chain, size_t *ret_n,
	      const struct aw_policy **ret_at);

/* Report a broken chain (from pol_chain) at the right place. */
int pol_report_chain(const struct aw_policyset *set, int r,
		     const struct aw_policy *at, struct aw_yaml_report *rep);

/* The flattened rules, as pol_flatten_chain hands them out. */
struct pol_flat_rules {
	const struct aw_fs_rule **fs;
	size_t n_fs;
	const struct aw_net_rule **net;
	size_t n_net;
};

int pol_flatten_chain(const struct aw_policy *const *chain, size_t n,
		      bool own_only, struct aw_yaml_report *rep,
		      struct pol_flat_rules *ret);
void pol_flat_rules_free(struct pol_flat_rules *fr);

/* ---- sets (set.c) ------------------------------------------------------- */

void pol_rule_free(struct aw_fs_rule *r);
void pol_net_rule_free(struct aw_net_rule *r);

/*
 * Run expr in a function with `int bad`, `struct aw_yaml_report *rep` and
 * a label `out`: the first failure is kept in bad, and the function goes
 * to out when rep stops at it (first-problem mode, out of memory).
 */
#define POL_CHECK(expr)                                                        \
	do {                                                                   \
		int _r = (expr);                                               \
		if (_r < 0) {                                                  \
			if (!bad)                                              \
				bad = _r;                                      \
			if (aw_yaml_stop(rep, _r))                             \
				goto out;                                      \
		}                                                              \
	} while (0)

#endif
