// SPDX-License-Identifier: GPL-2.0-only
/*
 * Compile the signature database into the kernel's tables.
 *
 * The kernel classifies a path by walking it from the last component
 * towards the root, one component at a time (it walks dentries, so it
 * never needs to parse a string on the exe side). For each component it
 * computes h = aw_name_hash(name) and looks up (state, h) in the
 * transition table, then (state, AW_DFA_OTHER) if that is absent; if
 * both are absent the walk stops. At every state it enters, a non-zero
 * accept[state] is remembered, later (deeper, a longer suffix) replacing
 * earlier; if the walk consumes the whole path of an absolute path, a
 * non-zero root_accept[state] of the state it stands in wins over what
 * was remembered. Suffix patterns ("**\/a/b") therefore accept through
 * accept[], anchored ones ("/x/a/b") through root_accept[].
 *
 * Construction: every pattern is a chain of NFA states over its reversed
 * components ('*' = any name), the chains for exe and interpreter
 * patterns start together, script patterns start in a second set. Subset
 * construction gives the DFA; its alphabet is every literal component in
 * the database plus OTHER. The NFA has no loops ('**' sits at the root
 * end, where the walk simply may stop), so the DFA is acyclic and its
 * size bounded by the patterns; limits are still enforced as we go.
 *
 * Ambiguity: when patterns of several rules end in the same DFA state
 * (e.g. "**\/x/a" and "**\/ * /a" both reached by ".../x/a"), the rule that
 * comes first in the database wins: rules are numbered signature by
 * signature, match by match, in load order, interpreters last.
 *
 * Everything is numbered in creation order (breadth-first from the
 * starts, symbols in literal order) and the transition table is sorted,
 * so the same database always compiles to the same tables.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwall_abi.h"
#include "shared/diag.h"
#include "shared/util.h"
#include "signatures/signatures.h"

#define CC_TRANS_MAX (AW_DFA_TRANS_MAX / 2) /* one bank */
#define CC_STATES_MAX AW_DFA_BANK_STATES    /* one bank, state 0 included */
/* Bound on NFA-state ids held in all DFA state sets, so a hostile
 * database cannot make the compiler eat memory before a limit trips. */
#define CC_POOL_MAX (16u * 1024 * 1024)
#define CC_NONE UINT32_MAX

struct cc_literal {
	const char *name; /* points into a pattern: not NUL-terminated */
	size_t len;
	uint64_t hash;
};

struct cc_nfa {
	/* per NFA state */
	uint32_t *label; /* 0 = '*', else literal id; CC_NONE if final */
	uint32_t *rule;	 /* rule of the chain */
	bool *anchored;	 /* final state of an absolute pattern */
	size_t n;
	size_t cap;
};

struct cc_dfa_state {
	size_t off; /* set in pool[off .. off + len) */
	size_t len;
};

struct cc {
	const struct aw_sigdb *db;
	struct aw_diag *diag;

	struct cc_literal *lits; /* index 0 unused ('*') */
	size_t n_lits, cap_lits;
	uint32_t *lit_index; /* open addressing: literal ids, 0 = empty */
	size_t lit_index_cap;

	struct cc_nfa nfa;

	uint32_t *pool;
	size_t n_pool, cap_pool;
	struct cc_dfa_state *states; /* index 0 = dead */
	size_t n_states, cap_states;
	uint32_t *set_index; /* open addressing: DFA state ids, 0 = empty */
	size_t set_index_cap;

	struct aw_dfa_trans_entry *trans;
	size_t n_trans, cap_trans;
};

static int cc_grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = reallocarray(*p, n, size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

static uint64_t cc_fnv(const void *data, size_t len)
{
	const unsigned char *b = data;
	uint64_t h = AW_FNV_OFFSET;

	while (len--) {
		h ^= *b++;
		h *= AW_FNV_PRIME;
	}
	return h;
}

/* Table-wide problems have no file: name the database. */
#define cc_diag(diag, file, ...)                                               \
	aw_diag_set((diag), (file) && *(file) ? (file) : "signatures",         \
		    __VA_ARGS__)

/* ---- literals ---------------------------------------------------------- */

static int cc_lit_rehash(struct cc *c, size_t cap)
{
	uint32_t *idx = calloc(cap, sizeof(*idx));
	size_t i;

	if (!idx)
		return -ENOMEM;
	for (i = 1; i < c->n_lits; i++) {
		size_t j = cc_fnv(c->lits[i].name, c->lits[i].len) & (cap - 1);

		while (idx[j])
			j = (j + 1) & (cap - 1);
		idx[j] = i;
	}
	free(c->lit_index);
	c->lit_index = idx;
	c->lit_index_cap = cap;
	return 0;
}

static int cc_literal(struct cc *c, const char *name, size_t len,
		      uint32_t *ret_id)
{
	size_t j;
	int r;

	if (2 * c->n_lits >= c->lit_index_cap) {
		r = cc_lit_rehash(c,
				  c->lit_index_cap ? 2 * c->lit_index_cap : 64);
		if (r < 0)
			return r;
	}
	j = cc_fnv(name, len) & (c->lit_index_cap - 1);
	while (c->lit_index[j]) {
		const struct cc_literal *l = &c->lits[c->lit_index[j]];

		if (l->len == len && !memcmp(l->name, name, len)) {
			*ret_id = c->lit_index[j];
			return 0;
		}
		j = (j + 1) & (c->lit_index_cap - 1);
	}
	r = cc_grow((void **)&c->lits, &c->cap_lits, c->n_lits + 1,
		    sizeof(*c->lits));
	if (r < 0)
		return r;
	c->lits[c->n_lits] = (struct cc_literal){
	    .name = name,
	    .len = len,
	    .hash = aw_name_hash(name, len),
	};
	c->lit_index[j] = c->n_lits;
	*ret_id = c->n_lits++;
	return 0;
}

static int cc_lit_hash_cmp(const void *a, const void *b)
{
	const struct cc_literal *x = *(const struct cc_literal *const *)a;
	const struct cc_literal *y = *(const struct cc_literal *const *)b;

	return x->hash < y->hash ? -1 : x->hash > y->hash;
}

/* Two names with one hash would share transitions in the kernel. With
 * 64-bit FNV this is theoretical for real names, but checking is cheap. */
static int cc_check_hashes(struct cc *c)
{
	const struct cc_literal **v;
	size_t i, n = c->n_lits - 1;

	if (n == 0)
		return 0;
	v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		v[i] = &c->lits[i + 1];
	qsort(v, n, sizeof(*v), cc_lit_hash_cmp);
	for (i = 0; i < n; i++) {
		if (v[i]->hash == AW_DFA_OTHER) {
			cc_diag(c->diag, "", 0, 0,
				"name '%.*s' hashes to the OTHER key",
				(int)(v[i]->len > 64 ? 64 : v[i]->len),
				v[i]->name);
			free(v);
			return -EINVAL;
		}
		if (i && v[i]->hash == v[i - 1]->hash) {
			cc_diag(c->diag, "", 0, 0,
				"names '%.*s' and '%.*s' have the same hash",
				(int)(v[i - 1]->len > 64 ? 64 : v[i - 1]->len),
				v[i - 1]->name,
				(int)(v[i]->len > 64 ? 64 : v[i]->len),
				v[i]->name);
			free(v);
			return -EINVAL;
		}
	}
	free(v);
	return 0;
}

/* ---- NFA --------------------------------------------------------------- */

static int cc_nfa_push(struct cc *c, uint32_t label, uint32_t rule,
		       bool anchored)
{
	struct cc_nfa *n = &c->nfa;
	size_t cap = n->cap;
	int r;

	r = cc_grow((void **)&n->label, &cap, n->n + 1, sizeof(*n->label));
	if (r < 0)
		return r;
	cap = n->cap;
	r = cc_grow((void **)&n->rule, &cap, n->n + 1, sizeof(*n->rule));
	if (r < 0)
		return r;
	cap = n->cap;
	r = cc_grow((void **)&n->anchored, &cap, n->n + 1,
		    sizeof(*n->anchored));
	if (r < 0)
		return r;
	n->cap = cap;
	n->label[n->n] = label;
	n->rule[n->n] = rule;
	n->anchored[n->n] = anchored;
	n->n++;
	return 0;
}

/* Add the chain of one pattern; *ret_first is its first NFA state. */
static int cc_nfa_pattern(struct cc *c, const char *pattern, uint32_t rule,
			  const char *file, unsigned line, unsigned column,
			  uint32_t *ret_first)
{
	const char *comps[AW_WALK_DEPTH];
	size_t lens[AW_WALK_DEPTH];
	size_t n = 0, i;
	const char *p, *end;
	bool anchored;
	uint32_t first = c->nfa.n;
	char why[192];
	int r;

	/* The db may have been built by hand: check again. */
	if (aw_sig_pattern_check(pattern, why, sizeof(why)) < 0) {
		cc_diag(c->diag, file ? file : "", line, column,
			"bad pattern: %s", why);
		return -EINVAL;
	}
	anchored = pattern[0] == '/';
	p = anchored ? pattern + 1 : pattern + 3;
	for (;;) {
		end = strchr(p, '/');
		comps[n] = p;
		lens[n] = end ? (size_t)(end - p) : strlen(p);
		n++;
		if (!end)
			break;
		p = end + 1;
	}
	/* leaf first: the order the kernel walks */
	for (i = n; i-- > 0;) {
		uint32_t label = 0;

		if (!(lens[i] == 1 && comps[i][0] == '*')) {
			r = cc_literal(c, comps[i], lens[i], &label);
			if (r < 0)
				return r;
		}
		r = cc_nfa_push(c, label, rule, false);
		if (r < 0)
			return r;
	}
	r = cc_nfa_push(c, CC_NONE, rule, anchored);
	if (r < 0)
		return r;
	*ret_first = first;
	return 0;
}

/* ---- DFA states -------------------------------------------------------- */

static uint64_t cc_set_hash(const uint32_t *set, size_t len)
{
	return cc_fnv(set, len * sizeof(*set)) ^ len;
}

static int cc_set_rehash(struct cc *c, size_t cap)
{
	uint32_t *idx = calloc(cap, sizeof(*idx));
	size_t i;

	if (!idx)
		return -ENOMEM;
	for (i = 1; i < c->n_states; i++) {
		const struct cc_dfa_state *s = &c->states[i];
		size_t j = cc_set_hash(c->pool + s->off, s->len) & (cap - 1);

		while (idx[j])
			j = (j + 1) & (cap - 1);
		idx[j] = i;
	}
	free(c->set_index);
	c->set_index = idx;
	c->set_index_cap = cap;
	return 0;
}

static int cc_too_big(struct cc *c, const char *what, size_t limit)
{
	cc_diag(c->diag, "", 0, 0,
		"signature database too large: more than %zu DFA %s (ABI limit "
		"per bank)",
		limit, what);
	return -E2BIG;
}

/* The DFA state for a sorted NFA-state set, created if new. */
static int cc_state(struct cc *c, const uint32_t *set, size_t len,
		    uint32_t *ret_state)
{
	size_t j;
	int r;

	if (2 * c->n_states >= c->set_index_cap) {
		r = cc_set_rehash(c, c->set_index_cap ? 2 * c->set_index_cap
						      : 256);
		if (r < 0)
			return r;
	}
	j = cc_set_hash(set, len) & (c->set_index_cap - 1);
	while (c->set_index[j]) {
		const struct cc_dfa_state *s = &c->states[c->set_index[j]];

		if (s->len == len &&
		    !memcmp(c->pool + s->off, set, len * sizeof(*set))) {
			*ret_state = c->set_index[j];
			return 0;
		}
		j = (j + 1) & (c->set_index_cap - 1);
	}
	if (c->n_states >= CC_STATES_MAX)
		return cc_too_big(c, "states", CC_STATES_MAX);
	if (c->n_pool + len > CC_POOL_MAX)
		return cc_too_big(c, "state-set entries", CC_POOL_MAX);
	r = cc_grow((void **)&c->pool, &c->cap_pool, c->n_pool + len + 1,
		    sizeof(*c->pool));
	if (r < 0)
		return r;
	r = cc_grow((void **)&c->states, &c->cap_states, c->n_states + 1,
		    sizeof(*c->states));
	if (r < 0)
		return r;
	/* set must not point into the pool, which may just have moved:
	 * callers pass scratch buffers. */
	memcpy(c->pool + c->n_pool, set, len * sizeof(*set));
	c->states[c->n_states] = (struct cc_dfa_state){c->n_pool, len};
	c->n_pool += len;
	c->set_index[j] = c->n_states;
	*ret_state = c->n_states++;
	return 0;
}

static int cc_add_trans(struct cc *c, uint32_t state, uint64_t hash,
			uint32_t next)
{
	int r;

	if (c->n_trans >= CC_TRANS_MAX)
		return cc_too_big(c, "transitions", CC_TRANS_MAX);
	r = cc_grow((void **)&c->trans, &c->cap_trans, c->n_trans + 1,
		    sizeof(*c->trans));
	if (r < 0)
		return r;
	/* padding zeroed too, so equal databases give equal bytes */
	memset(&c->trans[c->n_trans], 0, sizeof(c->trans[0]));
	c->trans[c->n_trans].state = state;
	c->trans[c->n_trans].name_hash = hash;
	c->trans[c->n_trans].next = next;
	c->n_trans++;
	return 0;
}

struct cc_pair {
	uint32_t label;
	uint32_t next;
};

static int cc_pair_cmp(const void *a, const void *b)
{
	const struct cc_pair *x = a, *y = b;

	if (x->label != y->label)
		return x->label < y->label ? -1 : 1;
	return x->next < y->next ? -1 : x->next > y->next;
}

static int cc_u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorted union of two sorted, duplicate-free arrays into out. */
static size_t cc_union(const uint32_t *a, size_t na, const uint32_t *b,
		       size_t nb, uint32_t *out)
{
	size_t i = 0, j = 0, n = 0;

	while (i < na || j < nb) {
		if (j == nb || (i < na && a[i] < b[j]))
			out[n++] = a[i++];
		else if (i == na || b[j] < a[i])
			out[n++] = b[j++];
		else {
			out[n++] = a[i++];
			j++;
		}
	}
	return n;
}

static int cc_trans_cmp(const void *a, const void *b)
{
	const struct aw_dfa_trans_entry *x = a, *y = b;

	if (x->state != y->state)
		return x->state < y->state ? -1 : 1;
	return x->name_hash < y->name_hash ? -1 : x->name_hash > y->name_hash;
}

/* Subset construction, breadth-first from the start states. */
static int cc_build(struct cc *c, const uint32_t *exe_set, size_t n_exe,
		    const uint32_t *script_set, size_t n_script,
		    uint32_t *ret_exe, uint32_t *ret_script)
{
	struct cc_pair *pairs = NULL;
	uint32_t *set = NULL, *star = NULL, *target = NULL;
	uint32_t exe, script;
	size_t s;
	int r;

	r = cc_state(c, exe_set, n_exe, &exe);
	if (r < 0)
		return r;
	r = cc_state(c, script_set, n_script, &script);
	if (r < 0)
		return r;

	/* No set holds more NFA states than the NFA has. */
	pairs = calloc(c->nfa.n + 1, sizeof(*pairs));
	set = calloc(c->nfa.n + 1, sizeof(*set));
	star = calloc(c->nfa.n + 1, sizeof(*star));
	target = calloc(2 * c->nfa.n + 1, sizeof(*target));
	if (!pairs || !set || !star || !target) {
		r = -ENOMEM;
		goto out;
	}

	for (s = 1; s < c->n_states; s++) {
		size_t len = c->states[s].len, n_pairs = 0, n_star = 0, i;
		uint32_t star_state = 0;

		/* copy out: cc_state() may move the pool */
		memcpy(set, c->pool + c->states[s].off, len * sizeof(*set));
		for (i = 0; i < len; i++) {
			uint32_t q = set[i], label = c->nfa.label[q];

			if (label == CC_NONE)
				continue;
			if (label == 0)
				star[n_star++] = q + 1;
			else
				pairs[n_pairs++] =
				    (struct cc_pair){label, q + 1};
		}
		/* set is sorted, so star[] is too */
		if (n_star) {
			r = cc_state(c, star, n_star, &star_state);
			if (r < 0)
				goto out;
			r = cc_add_trans(c, s, AW_DFA_OTHER, star_state);
			if (r < 0)
				goto out;
		}
		qsort(pairs, n_pairs, sizeof(*pairs), cc_pair_cmp);
		for (i = 0; i < n_pairs;) {
			size_t j = i, k, n_target;
			uint32_t next;

			while (j < n_pairs && pairs[j].label == pairs[i].label)
				j++;
			for (k = i; k < j; k++)
				set[k - i] = pairs[k].next;
			n_target = cc_union(set, j - i, star, n_star, target);
			r = cc_state(c, target, n_target, &next);
			if (r < 0)
				goto out;
			/* Same target as OTHER: the kernel's fallback does
			 * it, spare the table entry. */
			if (next != star_state) {
				r = cc_add_trans(
				    c, s, c->lits[pairs[i].label].hash, next);
				if (r < 0)
					goto out;
			}
			i = j;
		}
	}
	*ret_exe = exe;
	*ret_script = script;
	r = 0;
out:
	free(pairs);
	free(set);
	free(star);
	free(target);
	return r;
}

static void cc_free(struct cc *c)
{
	free(c->lits);
	free(c->lit_index);
	free(c->nfa.label);
	free(c->nfa.rule);
	free(c->nfa.anchored);
	free(c->pool);
	free(c->states);
	free(c->set_index);
	free(c->trans);
}

void aw_compiled_free(struct aw_compiled *c)
{
	if (!c)
		return;
	free(c->trans);
	free(c->accept);
	free(c->root_accept);
	free(c->rules);
	memset(c, 0, sizeof(*c));
}

int aw_sigdb_compile(const struct aw_sigdb *db, struct aw_compiled *ret,
		     struct aw_diag *diag)
{
	struct cc c = {.db = db, .diag = diag};
	struct aw_compiled out = {0};
	uint32_t *exe_set = NULL, *script_set = NULL;
	size_t n_exe = 0, n_script = 0, n_rules = 0, i, j;
	int r;

	if (!db || !ret)
		return -EINVAL;
	n_rules = db->n_interpreters;
	for (i = 0; i < db->n_sigs; i++)
		n_rules += db->sigs[i].n_matches;
	if (n_rules > AW_RULES_BANK) {
		cc_diag(diag, "", 0, 0,
			"signature database too large: %zu rules, the ABI "
			"allows %u per bank",
			n_rules, AW_RULES_BANK);
		return -E2BIG;
	}
	out.rules = calloc(n_rules ? n_rules : 1, sizeof(*out.rules));
	exe_set = calloc(n_rules ? n_rules : 1, sizeof(*exe_set));
	script_set = calloc(n_rules ? n_rules : 1, sizeof(*script_set));
	/* literal id 0 is '*' */
	r = cc_grow((void **)&c.lits, &c.cap_lits, 1, sizeof(*c.lits));
	if (!out.rules || !exe_set || !script_set || r < 0) {
		r = -ENOMEM;
		goto fail;
	}
	c.n_lits = 1;
	/* state 0: dead */
	r = cc_grow((void **)&c.states, &c.cap_states, 1, sizeof(*c.states));
	if (r < 0)
		goto fail;
	c.n_states = 1;

	/* Rules in db order: this order breaks ties (see top). */
	for (i = 0; i < db->n_sigs; i++) {
		const struct aw_signature *sig = &db->sigs[i];

		for (j = 0; j < sig->n_matches; j++) {
			const struct aw_match *m = &sig->matches[j];
			uint32_t first;
			bool exe = m->kind == AW_MATCH_EXE;

			if (m->kind != AW_MATCH_EXE &&
			    m->kind != AW_MATCH_SCRIPT) {
				cc_diag(diag, sig->file ? sig->file : "",
					m->line, m->column, "bad match kind %d",
					(int)m->kind);
				r = -EINVAL;
				goto fail;
			}
			r = cc_nfa_pattern(&c, m->pattern, out.n_rules,
					   sig->file, m->line, m->column,
					   &first);
			if (r < 0)
				goto fail;
			if (exe)
				exe_set[n_exe++] = first;
			else
				script_set[n_script++] = first;
			out.rules[out.n_rules++] = (struct aw_compiled_rule){
			    .sig_index = i,
			    .kind = exe ? AW_RULE_EXE : AW_RULE_SCRIPT,
			    .pattern = m->pattern,
			};
		}
	}
	for (i = 0; i < db->n_interpreters; i++) {
		const struct aw_match *m = &db->interpreters[i];
		uint32_t first;

		r = cc_nfa_pattern(&c, m->pattern, out.n_rules, NULL, m->line,
				   m->column, &first);
		if (r < 0)
			goto fail;
		exe_set[n_exe++] = first;
		out.rules[out.n_rules++] = (struct aw_compiled_rule){
		    .sig_index = UINT32_MAX,
		    .kind = AW_RULE_INTERPRETER,
		    .pattern = m->pattern,
		};
	}
	r = cc_check_hashes(&c);
	if (r < 0)
		goto fail;
	/* chains were appended in order, so both sets are sorted already */
	qsort(exe_set, n_exe, sizeof(*exe_set), cc_u32_cmp);
	qsort(script_set, n_script, sizeof(*script_set), cc_u32_cmp);

	r = cc_build(&c, exe_set, n_exe, script_set, n_script, &out.exe_start,
		     &out.script_start);
	if (r < 0)
		goto fail;

	out.n_states = c.n_states;
	out.accept = calloc(c.n_states, sizeof(*out.accept));
	out.root_accept = calloc(c.n_states, sizeof(*out.root_accept));
	if (!out.accept || !out.root_accept) {
		r = -ENOMEM;
		goto fail;
	}
	for (i = 1; i < c.n_states; i++) {
		const uint32_t *set = c.pool + c.states[i].off;
		uint32_t acc = CC_NONE, root = CC_NONE;

		for (j = 0; j < c.states[i].len; j++) {
			uint32_t q = set[j];

			if (c.nfa.label[q] != CC_NONE)
				continue;
			/* lowest rule number = first in the db wins */
			if (c.nfa.anchored[q]) {
				if (c.nfa.rule[q] < root)
					root = c.nfa.rule[q];
			} else if (c.nfa.rule[q] < acc) {
				acc = c.nfa.rule[q];
			}
		}
		out.accept[i] = acc == CC_NONE ? 0 : acc + 1;
		out.root_accept[i] = root == CC_NONE ? 0 : root + 1;
	}

	if (c.n_trans)
		qsort(c.trans, c.n_trans, sizeof(*c.trans), cc_trans_cmp);
	out.trans = AW_TAKE_PTR(c.trans);
	out.n_trans = c.n_trans;
	if (!out.trans) {
		/* an empty database still hands back a valid pointer */
		out.trans = calloc(1, sizeof(*out.trans));
		if (!out.trans) {
			r = -ENOMEM;
			goto fail;
		}
	}
	cc_free(&c);
	free(exe_set);
	free(script_set);
	*ret = out;
	return 0;

fail:
	cc_free(&c);
	free(exe_set);
	free(script_set);
	aw_compiled_free(&out);
	return r;
}

static const struct aw_dfa_trans_entry *cc_lookup(const struct aw_compiled *c,
						  uint32_t state, uint64_t hash)
{
	size_t lo = 0, hi = c->n_trans;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct aw_dfa_trans_entry *e = &c->trans[mid];

		if (e->state == state && e->name_hash == hash)
			return e;
		if (e->state < state ||
		    (e->state == state && e->name_hash < hash))
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

uint32_t aw_compiled_match(const struct aw_compiled *c, uint32_t start,
			   const char *path)
{
	const char *end;
	uint32_t state = start, found = 0;
	size_t depth = 0;

	if (!c || !path || start == 0 || start >= c->n_states)
		return 0;
	end = path + strlen(path);
	for (;;) {
		const struct aw_dfa_trans_entry *e;
		const char *name;

		/* empty components ("//", trailing '/') are not names */
		while (end > path && end[-1] == '/')
			end--;
		if (end == path)
			break; /* consumed everything */
		name = end;
		while (name > path && name[-1] != '/')
			name--;
		/* As the kernel's string walk: "." is skipped; ".." ends the
		 * walk keeping the suffix matched right of it (a real path
		 * from the kernel's dentry walk never has either). */
		if (end - name == 1 && name[0] == '.') {
			end = name;
			continue;
		}
		if (end - name == 2 && name[0] == '.' && name[1] == '.')
			return found;
		/* The kernel gives up after AW_WALK_DEPTH components: it
		 * never reaches the root of a deeper path. */
		if (depth++ == AW_WALK_DEPTH)
			return found;
		e = cc_lookup(c, state, aw_name_hash(name, end - name));
		if (!e)
			e = cc_lookup(c, state, AW_DFA_OTHER);
		if (!e)
			return found; /* dead */
		state = e->next;
		if (state >= c->n_states)
			return found;
		if (c->accept[state])
			found = c->accept[state];
		end = name;
	}
	/* Only an absolute path has a root to reach. */
	if (path[0] == '/' && c->root_accept[state])
		return c->root_accept[state];
	return found;
}
