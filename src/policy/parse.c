// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policies, the document parser: one YAML file into a struct aw_policy
 * (its root, filesystem rules, process and applies-to; the network rules
 * are in network.c). The format's reference is policies/README.md; in
 * short (one policy per file, UTF-8, <= 1 MiB):
 *
 *   version: 1
 *   id: coding-agent               # [a-z0-9][a-z0-9._-]*, <= 64 bytes
 *   description: "free text"
 *   extends: default               # chains <= 8 deep, no loops
 *   applies-to: {agents: [...], classes: [...]}
 *   mode: enforce                  # audit | enforce, inherited
 *   remove: [ipc.docker]           # inherited rules to drop
 *   filesystem:                    # rules: an id and exactly one verb
 *     - {id: secrets.ssh, deny: ["~/.ssh"]}
 *   network:                       # allow rules; absent: not confined
 *     - {id: api, hosts: ["api.example.com"], ports: [443]}
 *   process: {pids-max: 1024, allow-syscalls: [ptrace], notify: true,
 *             refusal-records: true}
 *
 * Every value is a plain string (scalars; tags are ignored). Unknown keys,
 * duplicate keys, wrong node kinds, empty values and NUL bytes are errors:
 * the strict reader is shared with the signatures (shared/yaml.c).
 *
 * Two ways to report. Loaders and validate stop at the first problem and
 * leave it in a struct aw_diag (the caller's set is untouched on failure).
 * check_all keeps going and hands every problem to a callback: within a
 * file the parser skips the broken item and goes on with the next one,
 * and a policy with problems is still added to the set (with the broken
 * items left out) so that the files after it are checked against it.
 *
 * Aliases: the schema has a fixed depth and every list has a limit,
 * which bounds the walk, and the text copied out of a document may not
 * exceed the file size limit (p->budget): a document can only expand
 * through aliases, and then it is refused.
 */
#include <errno.h>
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

static const char *const pol_sc_groups[AW_SC_GROUPS] = {
    "ptrace",	 "process-vm",	    "io-uring",	   "keyring",  "bpf",
    "perf",	 "mount",	    "namespaces",  "modules",  "kexec",
    "handles",	 "tiocsti",	    "userfaultfd", "fanotify", "system",
    "sock-diag", "socket-families",
};

#define POL_SC_LIST                                                            \
	"ptrace, process-vm, io-uring, keyring, bpf, perf, mount, "            \
	"namespaces, modules, kexec, handles, tiocsti, userfaultfd, "          \
	"fanotify, system, sock-diag or socket-families"

/* Same order as the rule keys in pol_parse_rule(). */
static const enum aw_fs_verb pol_verbs[] = {
    AW_FS_DENY,	 AW_FS_COW,	 AW_FS_TMPFS,
    AW_FS_WRITE, AW_FS_ESCALATE, AW_FS_STATE,
};

const char *aw_fs_verb_name(enum aw_fs_verb v)
{
	switch (v) {
	case AW_FS_DENY:
		return "deny";
	case AW_FS_COW:
		return "cow";
	case AW_FS_TMPFS:
		return "tmpfs";
	case AW_FS_WRITE:
		return "write";
	case AW_FS_ESCALATE:
		return "escalate";
	case AW_FS_PROGRAM:
		return "program";
	case AW_FS_STATE:
		return "state";
	}
	return "?";
}

const char *aw_policy_syscall_group_name(unsigned idx)
{
	return idx < AW_SC_GROUPS ? pol_sc_groups[idx] : NULL;
}

int aw_policy_syscall_group_find(const char *name)
{
	unsigned i;

	if (!name)
		return -ENOENT;
	for (i = 0; i < AW_SC_GROUPS; i++)
		if (!strcmp(name, pol_sc_groups[i]))
			return (int)i;
	return -ENOENT;
}

/* Charge a scalar's text to the budget without copying it (values that
 * are parsed into numbers or normalized): walking it costs the same. */
int pol_spend(struct pol_parser *p, const yaml_node_t *n)
{
	size_t len = n->data.scalar.length;

	if (len + 1 > p->budget) {
		p->y.fatal = true;
		return aw_yaml_fail(&p->y, n, -E2BIG,
				    "the document expands to more than %d "
				    "bytes of text (aliases repeating lists?)",
				    AW_POL_FILE_MAX);
	}
	p->budget -= len + 1;
	return 0;
}

/* Copy a scalar's text out of the document, within the budget. */
static int pol_take(struct pol_parser *p, const yaml_node_t *n, char **ret)
{
	char *dup;
	int r;

	r = pol_spend(p, n);
	if (r < 0)
		return r;
	dup =
	    strndup((const char *)n->data.scalar.value, n->data.scalar.length);
	if (!dup)
		return -ENOMEM;
	*ret = dup;
	return 0;
}

/* Policy, rule, agent and class ids: [a-z0-9][a-z0-9._-]*, <= 64 bytes. */
static bool pol_id_valid(const char *s)
{
	size_t i, len = strlen(s);

	if (len == 0 || len > AW_POL_ID_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
			continue;
		if (i > 0 && (ch == '.' || ch == '_' || ch == '-'))
			continue;
		return false;
	}
	return true;
}

int pol_id(struct pol_parser *p, const yaml_node_t *n, const char *what,
	   char **ret)
{
	const char *s;
	char safe[72];
	int r;

	r = aw_yaml_scalar(&p->y, n, what, &s);
	if (r < 0)
		return r;
	if (!pol_id_valid(s))
		return aw_yaml_fail(
		    &p->y, n, -EINVAL,
		    "bad %s '%s': expected [a-z0-9][a-z0-9._-]*, at "
		    "most %d bytes",
		    what, aw_yaml_safe(s, safe, 48), AW_POL_ID_MAX);
	return pol_take(p, n, ret);
}

/* A list of ids (agents, classes, remove). Bad entries are left out. */
static int pol_names(struct pol_parser *p, const yaml_node_t *seq,
		     const char *what, const char *item, char ***ret,
		     struct aw_policy_place **ret_at, size_t *ret_n)
{
	size_t i, n;
	int r, bad = 0;

	r = aw_yaml_seq(&p->y, seq, what, AW_POL_NAMES_MAX, &n);
	if (r < 0)
		return r;
	*ret = calloc(n ? n : 1, sizeof(**ret));
	*ret_at = calloc(n ? n : 1, sizeof(**ret_at));
	if (!*ret || !*ret_at)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		yaml_node_t *e =
		    aw_yaml_node(&p->y, seq->data.sequence.items.start[i]);

		if (!e) {
			p->y.fatal = true;
			return aw_yaml_fail(&p->y, seq, -EINVAL,
					    "malformed list");
		}
		r = pol_id(p, e, item, &(*ret)[*ret_n]);
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
		if (r < 0)
			continue;
		(*ret_at)[*ret_n] = pol_place(e);
		(*ret_n)++;
	}
	return bad;
}

static int pol_parse_paths(struct pol_parser *p, const yaml_node_t *seq,
			   const char *verb_key, struct aw_fs_rule *rule)
{
	char what[96], safe[72];
	size_t i, n;
	int r, bad = 0;

	snprintf(what, sizeof(what), "'%s' of rule '%s'", verb_key,
		 aw_yaml_safe(rule->id ? rule->id : "?", safe, 64));
	r = aw_yaml_seq(&p->y, seq, what, AW_POL_RULE_PATHS_MAX, &n);
	if (r < 0)
		return r;
	if (n == 0)
		return aw_yaml_fail(&p->y, seq, -EINVAL, "%s lists no paths",
				    what);
	rule->paths = calloc(n, sizeof(*rule->paths));
	rule->path_at = calloc(n, sizeof(*rule->path_at));
	if (!rule->paths || !rule->path_at)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		yaml_node_t *e =
		    aw_yaml_node(&p->y, seq->data.sequence.items.start[i]);
		char why[192];
		const char *s;

		if (!e) {
			p->y.fatal = true;
			return aw_yaml_fail(&p->y, seq, -EINVAL,
					    "malformed list");
		}
		r = aw_yaml_scalar(&p->y, e, "a path", &s);
		if (r >= 0 && pol_path_check(s, rule->verb, why, sizeof(why)))
			r = aw_yaml_fail(&p->y, e, -EINVAL, "bad path: %s",
					 why);
		if (r >= 0)
			r = pol_take(p, e, &rule->paths[rule->n_paths]);
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
		if (r < 0)
			continue;
		rule->path_at[rule->n_paths++] = pol_place(e);
	}
	return bad;
}

/* One rule. On return rule->id and rule->verb say whether it is usable
 * (keep-going mode keeps a rule whose only problems were bad paths). */
static int pol_parse_rule(struct pol_parser *p, const yaml_node_t *map,
			  const struct aw_policy *pol, struct aw_fs_rule *rule)
{
	enum {
		R_ID,
		R_DENY,
		R_COW,
		R_TMPFS,
		R_WRITE,
		R_ESCALATE,
		R_STATE,
		R_N
	};
	static const struct aw_yaml_key keys[] = {
	    [R_ID] = {"id", true},
	    /* the verbs: exactly one */
	    [R_DENY] = {"deny", false},
	    [R_COW] = {"cow", false},
	    [R_TMPFS] = {"tmpfs", false},
	    [R_WRITE] = {"write", false},
	    [R_ESCALATE] = {"escalate", false},
	    [R_STATE] = {"state", false},
	};
	yaml_node_t *v[R_N], *k[R_N];
	char safe[72];
	int r, bad = 0, verb = 0, i;

	_Static_assert(AW_ARRAY_SIZE(pol_verbs) == R_N - 1,
		       "one rule key per verb");
	r = aw_yaml_map(&p->y, map, "a rule", keys, R_N, v, k);
	if (r < 0 &&
	    (aw_yaml_carry(&p->y, r, &bad) || map->type != YAML_MAPPING_NODE))
		return r;
	rule->file = pol->file;
	rule->line = map->start_mark.line + 1;
	rule->column = map->start_mark.column + 1;
	if (v[R_ID]) {
		r = pol_id(p, v[R_ID], "rule id", &rule->id);
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
	}
	for (i = R_DENY; i < R_N; i++) {
		if (!v[i])
			continue;
		if (verb) {
			r = aw_yaml_fail(
			    &p->y, k[i], -EINVAL,
			    "rule '%s' has two verbs ('%s' and '%s'): "
			    "a rule has exactly one",
			    aw_yaml_safe(rule->id ? rule->id : "?", safe, 64),
			    keys[verb].name, keys[i].name);
			aw_yaml_carry(&p->y, r, &bad);
			/* unusable either way: which one was meant? */
			rule->verb = 0;
			return r;
		}
		verb = i;
	}
	if (!verb)
		return aw_yaml_fail(
		    &p->y, map, -EINVAL,
		    "rule '%s' has no verb: expected one of deny, "
		    "cow, tmpfs, write, escalate or state",
		    aw_yaml_safe(rule->id ? rule->id : "?", safe, 64));
	rule->verb = pol_verbs[verb - R_DENY];
	r = pol_parse_paths(p, v[verb], keys[verb].name, rule);
	if (aw_yaml_carry(&p->y, r, &bad))
		return r;
	return bad;
}

static int pol_parse_rules(struct pol_parser *p, const yaml_node_t *seq,
			   struct aw_policy *pol)
{
	size_t i, j, n;
	int r, bad = 0;

	r = aw_yaml_seq(&p->y, seq, "'filesystem'", AW_POL_RULES_MAX, &n);
	if (r < 0)
		return r;
	pol->rules = calloc(n ? n : 1, sizeof(*pol->rules));
	if (!pol->rules)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		yaml_node_t *e =
		    aw_yaml_node(&p->y, seq->data.sequence.items.start[i]);
		struct aw_fs_rule rule = {0};
		char safe[72];

		if (!e) {
			p->y.fatal = true;
			return aw_yaml_fail(&p->y, seq, -EINVAL,
					    "malformed list");
		}
		r = pol_parse_rule(p, e, pol, &rule);
		if (r < 0 && (aw_yaml_stop(p->y.rep, r) || p->y.fatal)) {
			pol_rule_free(&rule);
			if (!bad)
				bad = r;
			return r;
		}
		if (r < 0 && !bad)
			bad = r;
		if (!rule.id || !rule.verb) {
			pol_rule_free(&rule);
			continue;
		}
		for (j = 0; j < pol->n_rules; j++)
			if (!strcmp(pol->rules[j].id, rule.id))
				break;
		if (j < pol->n_rules) {
			r = aw_yaml_fail(
			    &p->y, e, -EINVAL,
			    "duplicate rule id '%s' (first at line %u)",
			    aw_yaml_safe(rule.id, safe, 64),
			    pol->rules[j].line);
			pol_rule_free(&rule);
			if (aw_yaml_carry(&p->y, r, &bad))
				return r;
			continue;
		}
		pol->rules[pol->n_rules++] = rule;
	}
	return bad;
}

static int pol_parse_process(struct pol_parser *p, const yaml_node_t *map,
			     struct aw_policy *pol)
{
	enum { P_PIDS, P_SYSCALLS, P_NOTIFY, P_REFUSALS, P_N };
	static const struct aw_yaml_key keys[] = {
	    [P_PIDS] = {"pids-max", false},
	    [P_SYSCALLS] = {"allow-syscalls", false},
	    [P_NOTIFY] = {"notify", false},
	    [P_REFUSALS] = {"refusal-records", false},
	};
	yaml_node_t *v[P_N], *k[P_N];
	char safe[72];
	size_t i, n;
	int r, bad = 0;

	r = aw_yaml_map(&p->y, map, "'process'", keys, P_N, v, k);
	if (r < 0 &&
	    (aw_yaml_carry(&p->y, r, &bad) || map->type != YAML_MAPPING_NODE))
		return r;
	if (v[P_PIDS]) {
		const char *s;
		uint64_t val = 0;
		bool neg;

		r = aw_yaml_scalar(&p->y, v[P_PIDS], "'pids-max'", &s);
		if (r >= 0) {
			neg = s[0] == '-';
			r = aw_parse_u64(neg ? s + 1 : s, &val);
			if (r == -EINVAL)
				r = aw_yaml_fail(
				    &p->y, v[P_PIDS], -EINVAL,
				    "'pids-max' must be an integer, "
				    "found '%s'",
				    aw_yaml_safe(s, safe, 32));
			else if (r < 0 || neg || val < AW_POL_PIDS_MIN ||
				 val > AW_POL_PIDS_MAX)
				r = aw_yaml_fail(
				    &p->y, v[P_PIDS], -EINVAL,
				    "'pids-max' must be between %d and "
				    "%d, found %s",
				    AW_POL_PIDS_MIN, AW_POL_PIDS_MAX,
				    aw_yaml_safe(s, safe, 32));
			else
				pol->pids_max = (int64_t)val;
		}
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
	}
	if (v[P_NOTIFY]) {
		const char *s;

		r = aw_yaml_scalar(&p->y, v[P_NOTIFY], "'notify'", &s);
		if (r >= 0 && (!strcmp(s, "true") || !strcmp(s, "false")))
			pol->notify = !strcmp(s, "true");
		else if (r >= 0)
			r = aw_yaml_fail(
			    &p->y, v[P_NOTIFY], -EINVAL,
			    "'notify' must be true or false, found "
			    "'%s'",
			    aw_yaml_safe(s, safe, 32));
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
	}
	if (v[P_REFUSALS]) {
		const char *s;

		r = aw_yaml_scalar(&p->y, v[P_REFUSALS], "'refusal-records'",
				   &s);
		if (r >= 0 && (!strcmp(s, "true") || !strcmp(s, "false")))
			pol->refusal_records = !strcmp(s, "true");
		else if (r >= 0)
			r = aw_yaml_fail(&p->y, v[P_REFUSALS], -EINVAL,
					 "'refusal-records' must be true or "
					 "false, found '%s'",
					 aw_yaml_safe(s, safe, 32));
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
	}
	if (v[P_SYSCALLS]) {
		const yaml_node_t *seq = v[P_SYSCALLS];

		r = aw_yaml_seq(&p->y, seq, "'allow-syscalls'",
				AW_POL_NAMES_MAX, &n);
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
		if (r < 0)
			return bad;
		pol->allow_syscalls_set = 1;
		for (i = 0; i < n; i++) {
			yaml_node_t *e = aw_yaml_node(
			    &p->y, seq->data.sequence.items.start[i]);
			const char *s;
			int g = -ENOENT;

			if (!e) {
				p->y.fatal = true;
				return aw_yaml_fail(&p->y, seq, -EINVAL,
						    "malformed list");
			}
			r = aw_yaml_scalar(&p->y, e, "a syscall group", &s);
			if (r >= 0)
				g = aw_policy_syscall_group_find(s);
			if (r >= 0 && g < 0)
				r = aw_yaml_fail(&p->y, e, -EINVAL,
						 "unknown syscall group '%s' "
						 "(expected " POL_SC_LIST ")",
						 aw_yaml_safe(s, safe, 32));
			if (aw_yaml_carry(&p->y, r, &bad))
				return r;
			if (r >= 0)
				pol->allow_syscalls |= 1u << g;
		}
	}
	return bad;
}

/* A true/false scalar into *ret. */
static int pol_bool(struct pol_parser *p, const yaml_node_t *n,
		    const char *what, int *ret)
{
	const char *s;
	char safe[72];
	int r = aw_yaml_scalar(&p->y, n, what, &s);

	if (r >= 0 && (!strcmp(s, "true") || !strcmp(s, "false")))
		*ret = !strcmp(s, "true");
	else if (r >= 0)
		r = aw_yaml_fail(&p->y, n, -EINVAL,
				 "%s must be true or false, found '%s'", what,
				 aw_yaml_safe(s, safe, 32));
	return r;
}

/*
 * computer-use: {display: BOOL, input: BOOL, cdp-ports: [PORT...]}: what
 * a UI-driving agent may touch, refused unless granted (docs/sandbox.md,
 * "Computer use").
 */
static int pol_parse_cu(struct pol_parser *p, const yaml_node_t *map,
			struct aw_policy *pol)
{
	enum { C_DISPLAY, C_INPUT, C_CDP, C_N };
	static const struct aw_yaml_key keys[] = {
	    [C_DISPLAY] = {"display", false},
	    [C_INPUT] = {"input", false},
	    [C_CDP] = {"cdp-ports", false},
	};
	yaml_node_t *v[C_N], *k[C_N];
	char safe[72];
	size_t i, n;
	int r, bad = 0;

	r = aw_yaml_map(&p->y, map, "'computer-use'", keys, C_N, v, k);
	if (r < 0 &&
	    (aw_yaml_carry(&p->y, r, &bad) || map->type != YAML_MAPPING_NODE))
		return r;
	if (v[C_DISPLAY]) {
		r = pol_bool(p, v[C_DISPLAY], "'display'", &pol->cu_display);
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
	}
	if (v[C_INPUT]) {
		r = pol_bool(p, v[C_INPUT], "'input'", &pol->cu_input);
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
	}
	if (!v[C_CDP])
		return bad;
	r = aw_yaml_seq(&p->y, v[C_CDP], "'cdp-ports'", AW_POL_NET_PORTS_MAX,
			&n);
	if (aw_yaml_carry(&p->y, r, &bad))
		return r;
	if (r < 0)
		return bad;
	pol->cu_cdp_set = 1;
	for (i = 0; i < n; i++) {
		yaml_node_t *e =
		    aw_yaml_node(&p->y, v[C_CDP]->data.sequence.items.start[i]);
		const char *s;
		uint64_t port = 0;

		if (!e) {
			p->y.fatal = true;
			return aw_yaml_fail(&p->y, v[C_CDP], -EINVAL,
					    "malformed list");
		}
		r = aw_yaml_scalar(&p->y, e, "a port", &s);
		if (r >= 0 &&
		    (aw_parse_u64(s, &port) < 0 || !port || port > 65535))
			r = aw_yaml_fail(&p->y, e, -EINVAL,
					 "'cdp-ports' takes ports 1-65535, "
					 "found '%s'",
					 aw_yaml_safe(s, safe, 32));
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
		if (r >= 0) {
			pol->cu_cdp[pol->n_cu_cdp] = (uint16_t)port;
			pol->cu_cdp_ranges[pol->n_cu_cdp].lo = (uint16_t)port;
			pol->cu_cdp_ranges[pol->n_cu_cdp].hi = (uint16_t)port;
			pol->n_cu_cdp++;
		}
	}
	/* The ports as a network rule of the policy's own: the egress
	 * hooks decide a CDP connect like any other. */
	if (!pol->n_cu_cdp)
		return bad;
	pol->cu_cdp_rule = (struct aw_net_rule){
	    .id = (char *)"computer-use.cdp",
	    .loopback = 1,
	    .ports = malloc(pol->n_cu_cdp * sizeof(struct aw_net_ports)),
	    .n_ports = pol->n_cu_cdp,
	    .protocols = AW_NET_TCP,
	    .file = pol->file,
	    .line = v[C_CDP]->start_mark.line + 1,
	    .column = v[C_CDP]->start_mark.column + 1,
	};
	if (!pol->cu_cdp_rule.ports)
		return -ENOMEM;
	memcpy(pol->cu_cdp_rule.ports, pol->cu_cdp_ranges,
	       pol->n_cu_cdp * sizeof(struct aw_net_ports));
	return bad;
}

static int pol_parse_applies(struct pol_parser *p, const yaml_node_t *map,
			     struct aw_policy *pol)
{
	enum { A_AGENTS, A_CLASSES, A_N };
	static const struct aw_yaml_key keys[] = {
	    [A_AGENTS] = {"agents", false},
	    [A_CLASSES] = {"classes", false},
	};
	yaml_node_t *v[A_N], *k[A_N];
	int r, bad = 0;

	r = aw_yaml_map(&p->y, map, "'applies-to'", keys, A_N, v, k);
	if (r < 0 &&
	    (aw_yaml_carry(&p->y, r, &bad) || map->type != YAML_MAPPING_NODE))
		return r;
	if (v[A_AGENTS]) {
		r = pol_names(p, v[A_AGENTS], "'agents'", "agent id",
			      &pol->agents, &pol->agents_at, &pol->n_agents);
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
	}
	if (v[A_CLASSES]) {
		r = pol_names(p, v[A_CLASSES], "'classes'", "agent class",
			      &pol->classes, &pol->classes_at, &pol->n_classes);
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
	}
	return bad;
}

static int pol_parse_root(struct pol_parser *p, struct aw_policy *pol)
{
	enum {
		K_VERSION,
		K_ID,
		K_DESCRIPTION,
		K_EXTENDS,
		K_APPLIES,
		K_MODE,
		K_REMOVE,
		K_FS,
		K_NET,
		K_PROCESS,
		K_CU,
		K_N
	};
	static const struct aw_yaml_key keys[] = {
	    [K_VERSION] = {"version", true},
	    [K_ID] = {"id", true},
	    [K_DESCRIPTION] = {"description", false},
	    [K_EXTENDS] = {"extends", false},
	    [K_APPLIES] = {"applies-to", false},
	    [K_MODE] = {"mode", false},
	    [K_REMOVE] = {"remove", false},
	    [K_FS] = {"filesystem", false},
	    [K_NET] = {"network", false},
	    [K_PROCESS] = {"process", false},
	    [K_CU] = {"computer-use", false},
	};
	yaml_node_t *v[K_N], *k[K_N];
	yaml_node_t *root = yaml_document_get_root_node(p->y.doc);
	const char *s;
	char safe[72];
	size_t i;
	int r, bad = 0;

	if (!root) {
		p->y.fatal = true;
		return aw_yaml_report(p->y.rep, -EINVAL, p->y.name, 1, 1,
				      "empty document: expected a mapping with "
				      "'version: 1' and 'id'");
	}
	pol->line = root->start_mark.line + 1;
	pol->column = root->start_mark.column + 1;
	r = aw_yaml_map(&p->y, root, "the top level", keys, K_N, v, k);
	if (r < 0 && root->type != YAML_MAPPING_NODE)
		p->y.fatal = true;
	if (aw_yaml_carry(&p->y, r, &bad))
		return r;

	if (v[K_VERSION]) {
		r = aw_yaml_scalar(&p->y, v[K_VERSION], "'version'", &s);
		if (r >= 0 && strcmp(s, "1"))
			r = aw_yaml_fail(&p->y, v[K_VERSION], -EINVAL,
					 "unsupported version '%s' (this build "
					 "reads version 1)",
					 aw_yaml_safe(s, safe, 32));
		/* Read nothing else of a version we do not know. */
		if (r < 0) {
			p->y.fatal = true;
			aw_yaml_carry(&p->y, r, &bad);
			return r;
		}
	}
	if (v[K_ID]) {
		r = pol_id(p, v[K_ID], "policy id", &pol->id);
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
		pol->id_at = pol_place(v[K_ID]);
	}
	if (v[K_DESCRIPTION]) {
		r = aw_yaml_scalar(&p->y, v[K_DESCRIPTION], "'description'",
				   &s);
		if (r >= 0 &&
		    v[K_DESCRIPTION]->data.scalar.length > AW_POL_TEXT_MAX)
			r = aw_yaml_fail(
			    &p->y, v[K_DESCRIPTION], -E2BIG,
			    "'description' is %zu bytes, the limit is "
			    "%d",
			    v[K_DESCRIPTION]->data.scalar.length,
			    AW_POL_TEXT_MAX);
		for (i = 0; r >= 0 && s[i]; i++)
			if (((unsigned char)s[i] < 0x20 && s[i] != '\n' &&
			     s[i] != '\t') ||
			    s[i] == 0x7f)
				r = aw_yaml_fail(
				    &p->y, v[K_DESCRIPTION], -EINVAL,
				    "'description' contains a control "
				    "character");
		if (r >= 0)
			r = pol_take(p, v[K_DESCRIPTION], &pol->description);
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
	}
	if (v[K_EXTENDS]) {
		r = pol_id(p, v[K_EXTENDS], "policy id", &pol->extends);
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
		pol->extends_at = pol_place(v[K_EXTENDS]);
		if (pol->extends && pol->id && !strcmp(pol->extends, pol->id)) {
			r = aw_yaml_fail(&p->y, v[K_EXTENDS], -EINVAL,
					 "policy '%s' extends itself", pol->id);
			/* reported: not again as a loop */
			free(pol->extends);
			pol->extends = NULL;
			if (aw_yaml_carry(&p->y, r, &bad))
				return r;
		}
	}
	if (v[K_APPLIES]) {
		r = pol_parse_applies(p, v[K_APPLIES], pol);
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
	}
	if (v[K_MODE]) {
		r = aw_yaml_scalar(&p->y, v[K_MODE], "'mode'", &s);
		if (r >= 0 && !strcmp(s, "audit"))
			pol->mode = 0;
		else if (r >= 0 && !strcmp(s, "enforce"))
			pol->mode = 1;
		else if (r >= 0)
			r = aw_yaml_fail(&p->y, v[K_MODE], -EINVAL,
					 "unknown mode '%s' (expected audit or "
					 "enforce)",
					 aw_yaml_safe(s, safe, 32));
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
	}
	if (v[K_REMOVE]) {
		r = pol_names(p, v[K_REMOVE], "'remove'", "rule id",
			      &pol->remove, &pol->remove_at, &pol->n_remove);
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
		if (!v[K_EXTENDS]) {
			r = aw_yaml_fail(
			    &p->y, v[K_REMOVE], -EINVAL,
			    "'remove' needs 'extends': there are no "
			    "inherited rules to remove");
			if (aw_yaml_carry(&p->y, r, &bad))
				return r;
		}
	}
	if (v[K_FS]) {
		r = pol_parse_rules(p, v[K_FS], pol);
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
	}
	if (v[K_NET]) {
		r = pol_parse_net_rules(p, v[K_NET], pol);
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
	}
	if (v[K_PROCESS]) {
		r = pol_parse_process(p, v[K_PROCESS], pol);
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
	}
	if (v[K_CU]) {
		r = pol_parse_cu(p, v[K_CU], pol);
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
	}
	/* A rule that replaces an inherited one needs no remove: saying
	 * both is a mistake about what the file does. */
	for (i = 0; i < pol->n_remove; i++) {
		struct aw_policy_place at;

		if (!pol_rule_id_at(pol, pol->remove[i], &at))
			continue;
		r = aw_yaml_report(
		    p->y.rep, -EINVAL, p->y.name, pol->remove_at[i].line,
		    pol->remove_at[i].column,
		    "'%s' is both removed and defined at line %u: a "
		    "rule with an inherited id replaces the "
		    "inherited one",
		    pol->remove[i], at.line);
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
	}
	return bad;
}

/*
 * Parse one document into pol (zeroed by the caller, who frees it in any
 * case). In keep-going mode pol may be usable (pol->id set) despite
 * problems.
 */
static int pol_parse_doc(struct aw_yaml *y, void *out)
{
	/* y is the first member of the parser */
	return pol_parse_root((struct pol_parser *)y, out);
}

int pol_parse(const char *name, const char *data, size_t len,
	      struct aw_yaml_report *rep, struct aw_policy *pol)
{
	struct pol_parser p = {.y = {.name = name,
				     .data = data,
				     .len = len,
				     .kind = "policy files",
				     .rep = rep},
			       .budget = AW_POL_FILE_MAX + 1};

	pol->mode = -1;
	pol->pids_max = -1;
	pol->notify = -1;
	pol->cu_display = -1;
	pol->cu_input = -1;
	pol->refusal_records = -1;
	pol->file = strdup(name);
	if (!pol->file)
		return -ENOMEM;
	return aw_yaml_parse(&p.y, AW_POL_FILE_MAX, pol_parse_doc, pol);
}
