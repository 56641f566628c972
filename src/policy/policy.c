// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policies: parse and validate the YAML files in policies/, and flatten
 * one policy into what a session gets. The format's reference is
 * policies/README.md; in short (one policy per file, UTF-8, <= 1 MiB):
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
 *   process: {pids-max: 1024, allow-syscalls: [ptrace], notify: true}
 *
 * Every value is a plain string (scalars; tags are ignored). Unknown keys,
 * duplicate keys, wrong node kinds, empty values and NUL bytes are errors,
 * as in signatures.c, whose shape this file follows.
 *
 * Two ways to report. Loaders and validate stop at the first problem and
 * leave it in a struct aw_diag (the caller's set is untouched on failure).
 * check_all keeps going and hands every problem to a callback: within a
 * file the parser skips the broken item and goes on with the next one,
 * and a policy with problems is still added to the set (with the broken
 * items left out) so that the files after it are checked against it.
 *
 * Aliases: libyaml does not copy aliased nodes, it points at them, so a
 * "billion laughs" document costs nothing to load; what could cost is
 * walking it. The schema has a fixed depth and every list has a limit,
 * which bounds the walk, and the text copied out of a document may not
 * exceed the file size limit (p->budget): a document can only expand
 * through aliases, and then it is refused.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "policy/policy.h"
#include "shared/diag.h"
#include "shared/util.h"

/* check_all stops reporting after this many (a generated file could
 * otherwise print a million lines). */
#define POL_PROBLEMS_MAX 1000

static const char *const pol_sc_groups[AW_SC_GROUPS] = {
    "ptrace",	   "process-vm", "io-uring", "keyring",	  "bpf",     "perf",
    "mount",	   "namespaces", "modules",  "kexec",	  "handles", "tiocsti",
    "userfaultfd", "fanotify",	 "system",   "sock-diag",
};

#define POL_SC_LIST                                                            \
	"ptrace, process-vm, io-uring, keyring, bpf, perf, mount, "            \
	"namespaces, modules, kexec, handles, tiocsti, userfaultfd, "          \
	"fanotify, system or sock-diag"

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

/* A grant makes something writable: it cannot be honoured inside a
 * masked tree. escalate is not a grant (read-only, or held). */
static bool pol_is_grant(enum aw_fs_verb v)
{
	return v == AW_FS_COW || v == AW_FS_TMPFS || v == AW_FS_WRITE;
}

/* ---- reporting ---------------------------------------------------------- */

struct pol_report {
	struct aw_diag *diag; /* first problem only, when cb is NULL */
	void (*cb)(void *ud, const struct aw_diag *d); /* every problem */
	void *ud;
	unsigned n;   /* problems reported */
	int first;    /* the first one's -errno */
	bool stopped; /* too many problems: nothing more is reported */
};

static int pol_report(struct pol_report *rep, int err, const char *file,
		      unsigned line, unsigned column, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Record a problem; returns err so callers can `return pol_report(...)`. */
static int pol_report(struct pol_report *rep, int err, const char *file,
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
	if (rep->n > POL_PROBLEMS_MAX) {
		aw_diag_set(&d, file, 0, 0,
			    "more than %d problems: stopping here",
			    POL_PROBLEMS_MAX);
		rep->stopped = true;
	} else {
		aw_diag_set(&d, file, line, column, "%s", msg);
	}
	rep->cb(rep->ud, &d);
	return err;
}

/* Stop at this problem? Always when only the first one is wanted. */
static bool pol_stop(const struct pol_report *rep, int r)
{
	return r == -ENOMEM || !rep->cb || rep->stopped;
}

/* s made safe to quote in a message: cut to fit, control bytes as '?'. */
static const char *pol_safe(const char *s, char *buf, size_t size)
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

/* ---- parser ------------------------------------------------------------- */

struct pol_parser {
	const char *name; /* for diagnostics */
	const char *data; /* the raw text, to place reader errors */
	size_t len;
	yaml_document_t *doc;
	struct pol_report *rep;
	size_t budget; /* bytes of text still allowed out of the document */
	bool fatal;    /* ends the file even in keep-going mode */
};

static int pol_fail(struct pol_parser *p, const yaml_node_t *n, int err,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Report a problem at a node; returns err. */
static int pol_fail(struct pol_parser *p, const yaml_node_t *n, int err,
		    const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return pol_report(p->rep, err, p->name, n ? n->start_mark.line + 1 : 0,
			  n ? n->start_mark.column + 1 : 0, "%s", msg);
}

/* Remember a problem in *bad; true if the caller must stop here
 * (first-problem mode, out of memory, or a fatal problem). In keep-going
 * mode the caller skips the broken item and goes on. */
static bool pol_carry(struct pol_parser *p, int r, int *bad)
{
	if (r >= 0)
		return false;
	if (!*bad)
		*bad = r;
	return pol_stop(p->rep, r) || p->fatal;
}

static const char *node_kind(const yaml_node_t *n)
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

static yaml_node_t *pol_node(struct pol_parser *p, int index)
{
	return yaml_document_get_node(p->doc, index);
}

static struct aw_policy_place pol_place(const yaml_node_t *n)
{
	return (struct aw_policy_place){n->start_mark.line + 1,
					n->start_mark.column + 1};
}

/* A scalar's text. libyaml lets "\0" into double-quoted scalars: refuse
 * it, or a C string would silently be cut short. */
static int pol_scalar(struct pol_parser *p, const yaml_node_t *n,
		      const char *what, const char **ret)
{
	const char *s;
	size_t len;

	if (n->type != YAML_SCALAR_NODE)
		return pol_fail(p, n, -EINVAL, "%s must be a scalar, found %s",
				what, node_kind(n));
	s = (const char *)n->data.scalar.value;
	len = n->data.scalar.length;
	if (memchr(s, '\0', len))
		return pol_fail(p, n, -EINVAL, "%s contains a NUL byte", what);
	if (len == 0)
		return pol_fail(p, n, -EINVAL, "%s must not be empty", what);
	*ret = s;
	return 0;
}

/* Copy a scalar's text out of the document, within the budget. */
static int pol_take(struct pol_parser *p, const yaml_node_t *n, char **ret)
{
	size_t len = n->data.scalar.length;
	char *dup;

	if (len + 1 > p->budget) {
		p->fatal = true;
		return pol_fail(p, n, -E2BIG,
				"the document expands to more than %d bytes of "
				"text (aliases repeating lists?)",
				AW_POL_FILE_MAX);
	}
	p->budget -= len + 1;
	dup = strndup((const char *)n->data.scalar.value, len);
	if (!dup)
		return -ENOMEM;
	*ret = dup;
	return 0;
}

/* Charge a scalar's text to the budget without copying it (values that
 * are parsed into numbers or normalized): walking it costs the same. */
static int pol_spend(struct pol_parser *p, const yaml_node_t *n)
{
	size_t len = n->data.scalar.length;

	if (len + 1 > p->budget) {
		p->fatal = true;
		return pol_fail(p, n, -E2BIG,
				"the document expands to more than %d bytes of "
				"text (aliases repeating lists?)",
				AW_POL_FILE_MAX);
	}
	p->budget -= len + 1;
	return 0;
}

/* A sequence's length, or an error if n is not a list or too long. */
static int pol_seq(struct pol_parser *p, const yaml_node_t *n, const char *what,
		   size_t max, size_t *ret)
{
	size_t len;

	if (n->type != YAML_SEQUENCE_NODE)
		return pol_fail(p, n, -EINVAL, "%s must be a list, found %s",
				what, node_kind(n));
	len = n->data.sequence.items.top - n->data.sequence.items.start;
	/* Before anything is allocated or walked: fail fast. */
	if (len > max)
		return pol_fail(p, n, -E2BIG,
				"%s has %zu entries, the limit is %zu", what,
				len, max);
	*ret = len;
	return 0;
}

struct pol_key {
	const char *name;
	bool required;
};

/*
 * Check a mapping against its schema: keys are scalars, known, not
 * repeated; required ones present. values[i] and key_nodes[i] receive
 * the value and key node of keys[i], or NULL. In keep-going mode every
 * bad key is reported and the good ones are still filled in.
 */
static int pol_map(struct pol_parser *p, const yaml_node_t *map,
		   const char *what, const struct pol_key *keys, size_t n_keys,
		   yaml_node_t **values, yaml_node_t **key_nodes)
{
	yaml_node_pair_t *pair;
	size_t i;
	int bad = 0;

	for (i = 0; i < n_keys; i++)
		values[i] = key_nodes[i] = NULL;
	if (map->type != YAML_MAPPING_NODE)
		return pol_fail(p, map, -EINVAL,
				"%s must be a mapping, found %s", what,
				node_kind(map));

	for (pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = pol_node(p, pair->key);
		yaml_node_t *v = pol_node(p, pair->value);
		const char *name;
		char safe[72];
		int r;

		if (!k || !v) {
			p->fatal = true;
			return pol_fail(p, map, -EINVAL, "malformed mapping");
		}
		if (k->type != YAML_SCALAR_NODE) {
			r = pol_fail(p, k, -EINVAL,
				     "keys in %s must be scalars, found %s",
				     what, node_kind(k));
			if (pol_carry(p, r, &bad))
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
			r = pol_fail(p, k, -EINVAL,
				     "unknown key '%s' in %s (expected %s)",
				     pol_safe(name, safe, 48), what, list);
			if (pol_carry(p, r, &bad))
				return r;
			continue;
		}
		if (key_nodes[i]) {
			r = pol_fail(
			    p, k, -EINVAL,
			    "duplicate key '%s' in %s (first at line %lu)",
			    keys[i].name, what,
			    (unsigned long)key_nodes[i]->start_mark.line + 1);
			if (pol_carry(p, r, &bad))
				return r;
			continue;
		}
		key_nodes[i] = k;
		values[i] = v;
	}
	for (i = 0; i < n_keys; i++)
		if (keys[i].required && !values[i]) {
			int r = pol_fail(p, map, -EINVAL,
					 "%s is missing required key '%s'",
					 what, keys[i].name);

			if (pol_carry(p, r, &bad))
				return r;
		}
	return bad;
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

static int pol_id(struct pol_parser *p, const yaml_node_t *n, const char *what,
		  char **ret)
{
	const char *s;
	char safe[72];
	int r;

	r = pol_scalar(p, n, what, &s);
	if (r < 0)
		return r;
	if (!pol_id_valid(s))
		return pol_fail(
		    p, n, -EINVAL,
		    "bad %s '%s': expected [a-z0-9][a-z0-9._-]*, at "
		    "most %d bytes",
		    what, pol_safe(s, safe, 48), AW_POL_ID_MAX);
	return pol_take(p, n, ret);
}

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
static int pol_path_check(const char *path, enum aw_fs_verb verb, char *why,
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

static void pol_rule_free(struct aw_fs_rule *r)
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

static void pol_net_rule_free(struct aw_net_rule *r)
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

/* A list of ids (agents, classes, remove). Bad entries are left out. */
static int pol_names(struct pol_parser *p, const yaml_node_t *seq,
		     const char *what, const char *item, char ***ret,
		     struct aw_policy_place **ret_at, size_t *ret_n)
{
	size_t i, n;
	int r, bad = 0;

	r = pol_seq(p, seq, what, AW_POL_NAMES_MAX, &n);
	if (r < 0)
		return r;
	*ret = calloc(n ? n : 1, sizeof(**ret));
	*ret_at = calloc(n ? n : 1, sizeof(**ret_at));
	if (!*ret || !*ret_at)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		yaml_node_t *e = pol_node(p, seq->data.sequence.items.start[i]);

		if (!e) {
			p->fatal = true;
			return pol_fail(p, seq, -EINVAL, "malformed list");
		}
		r = pol_id(p, e, item, &(*ret)[*ret_n]);
		if (pol_carry(p, r, &bad))
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
		 pol_safe(rule->id ? rule->id : "?", safe, 64));
	r = pol_seq(p, seq, what, AW_POL_RULE_PATHS_MAX, &n);
	if (r < 0)
		return r;
	if (n == 0)
		return pol_fail(p, seq, -EINVAL, "%s lists no paths", what);
	rule->paths = calloc(n, sizeof(*rule->paths));
	rule->path_at = calloc(n, sizeof(*rule->path_at));
	if (!rule->paths || !rule->path_at)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		yaml_node_t *e = pol_node(p, seq->data.sequence.items.start[i]);
		char why[192];
		const char *s;

		if (!e) {
			p->fatal = true;
			return pol_fail(p, seq, -EINVAL, "malformed list");
		}
		r = pol_scalar(p, e, "a path", &s);
		if (r >= 0 && pol_path_check(s, rule->verb, why, sizeof(why)))
			r = pol_fail(p, e, -EINVAL, "bad path: %s", why);
		if (r >= 0)
			r = pol_take(p, e, &rule->paths[rule->n_paths]);
		if (pol_carry(p, r, &bad))
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
	static const struct pol_key keys[] = {
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
	r = pol_map(p, map, "a rule", keys, R_N, v, k);
	if (r < 0 && (pol_carry(p, r, &bad) || map->type != YAML_MAPPING_NODE))
		return r;
	rule->file = pol->file;
	rule->line = map->start_mark.line + 1;
	rule->column = map->start_mark.column + 1;
	if (v[R_ID]) {
		r = pol_id(p, v[R_ID], "rule id", &rule->id);
		if (pol_carry(p, r, &bad))
			return r;
	}
	for (i = R_DENY; i < R_N; i++) {
		if (!v[i])
			continue;
		if (verb) {
			r = pol_fail(
			    p, k[i], -EINVAL,
			    "rule '%s' has two verbs ('%s' and '%s'): "
			    "a rule has exactly one",
			    pol_safe(rule->id ? rule->id : "?", safe, 64),
			    keys[verb].name, keys[i].name);
			pol_carry(p, r, &bad);
			/* unusable either way: which one was meant? */
			rule->verb = 0;
			return r;
		}
		verb = i;
	}
	if (!verb)
		return pol_fail(p, map, -EINVAL,
				"rule '%s' has no verb: expected one of deny, "
				"cow, tmpfs, write, escalate or state",
				pol_safe(rule->id ? rule->id : "?", safe, 64));
	rule->verb = pol_verbs[verb - R_DENY];
	r = pol_parse_paths(p, v[verb], keys[verb].name, rule);
	if (pol_carry(p, r, &bad))
		return r;
	return bad;
}

static int pol_parse_rules(struct pol_parser *p, const yaml_node_t *seq,
			   struct aw_policy *pol)
{
	size_t i, j, n;
	int r, bad = 0;

	r = pol_seq(p, seq, "'filesystem'", AW_POL_RULES_MAX, &n);
	if (r < 0)
		return r;
	pol->rules = calloc(n ? n : 1, sizeof(*pol->rules));
	if (!pol->rules)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		yaml_node_t *e = pol_node(p, seq->data.sequence.items.start[i]);
		struct aw_fs_rule rule = {0};
		char safe[72];

		if (!e) {
			p->fatal = true;
			return pol_fail(p, seq, -EINVAL, "malformed list");
		}
		r = pol_parse_rule(p, e, pol, &rule);
		if (r < 0 && (pol_stop(p->rep, r) || p->fatal)) {
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
			r = pol_fail(
			    p, e, -EINVAL,
			    "duplicate rule id '%s' (first at line %u)",
			    pol_safe(rule.id, safe, 64), pol->rules[j].line);
			pol_rule_free(&rule);
			if (pol_carry(p, r, &bad))
				return r;
			continue;
		}
		pol->rules[pol->n_rules++] = rule;
	}
	return bad;
}

/* ---- network rules ------------------------------------------------------ */

/*
 * Host names, addresses and ports are checked by small parsers of our
 * own (the rules in policies/README.md, "network"): what is written is
 * either refused with a reason or stored in the one form the daemon
 * compares, so two spellings of a name cannot mean two things.
 */
#define POL_WHY(...)                                                           \
	do {                                                                   \
		snprintf(why, why_len, __VA_ARGS__);                           \
		return -EINVAL;                                                \
	} while (0)

/* Is s an address rather than a name, as a resolver would read it?
 * inet_aton also takes "127.1", "0x7f000001" and octal: every one of them
 * connects to an address without a DNS query, so none is a host name.
 * "[::1]", "10.0.0.1:443" and "10.0.0.0/8" count too. */
static bool pol_is_address(const char *s)
{
	struct in6_addr a6;
	struct in_addr a4;
	char buf[64];
	size_t n;

	if (*s == '[')
		s++;
	n = strcspn(s, "]/%");
	if (n < sizeof(buf)) {
		memcpy(buf, s, n);
		buf[n] = 0;
		if (inet_pton(AF_INET6, buf, &a6) == 1 || inet_aton(buf, &a4))
			return true;
	}
	n = strcspn(s, ":/");
	if (n < sizeof(buf)) {
		memcpy(buf, s, n);
		buf[n] = 0;
		if (inet_aton(buf, &a4))
			return true;
	}
	return false;
}

/*
 * Check a host and write its normalized form (lowercase, one trailing
 * dot removed) into out (AW_POL_HOST_MAX + 1 bytes): labels of
 * [a-z0-9_-], 1..63 bytes, <= 253 bytes in all; or "*." and at least two
 * such labels. 0, or -EINVAL with a reason in why.
 */
static int pol_host_check(const char *s, char *out, char *why, size_t why_len)
{
	size_t len = strlen(s), i, n_labels = 0;
	const char *c, *rest;
	bool digits = false;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			POL_WHY("not ASCII: write an internationalized name in "
				"punycode (xn--...)");
	if (pol_is_address(s))
		POL_WHY("an IP address: use cidrs: for addresses");
	if (strchr(s, '/') || strchr(s, ':'))
		POL_WHY("write the host name alone: no scheme, port or path");
	if (s[len - 1] == '.')
		len--;
	if (len == 0)
		POL_WHY("no name");
	if (len > AW_POL_HOST_MAX)
		POL_WHY("name of %zu bytes, the limit is %d", len,
			AW_POL_HOST_MAX);
	for (i = 0; i < len; i++) {
		char ch = s[i];

		out[i] = ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
	}
	out[len] = 0;

	rest = out;
	if (!strncmp(out, "*.", 2))
		rest = out + 2;
	if (strchr(rest, '*'))
		POL_WHY("'*' is only allowed as a leading '*.' label");
	for (c = rest;; c++) {
		size_t n = strcspn(c, ".");

		if (n == 0)
			POL_WHY("empty label ('..', or a '.' at the start or "
				"twice at the end)");
		if (n > 63)
			POL_WHY("label of %zu bytes, the limit is 63", n);
		digits = true;
		for (i = 0; i < n; i++) {
			unsigned char ch = c[i];

			if ((ch >= 'a' && ch <= 'z') || ch == '-' || ch == '_')
				digits = false;
			else if (ch < '0' || ch > '9')
				POL_WHY(
				    ch < 0x20 || ch == 0x7f
					? "control character 0x%02x: labels "
					  "are [a-z0-9_-]"
					: "character '%c' not allowed: labels "
					  "are [a-z0-9_-]",
				    ch);
		}
		n_labels++;
		c += n;
		if (!*c)
			break;
	}
	/* "123" as the top-level label: resolvers read it as an address */
	if (digits)
		POL_WHY("the last label is all digits, which reads as an "
			"address: use cidrs: for addresses");
	if (rest != out && n_labels < 2)
		POL_WHY("'%s' is too broad: '*.' needs at least two labels "
			"after it",
			out);
	/* RFC 6761: these names are the machine itself, whatever DNS says.
	 * Granting them is granting loopback: say so. */
	len = strlen(out);
	if (!strcmp(out, "localhost") ||
	    (len > 10 && !strcmp(out + len - 10, ".localhost")))
		POL_WHY("names the machine itself: use loopback: true");
	return 0;
}

/* "a.b.c.d[/n]" or "IPv6[/n]"; no "/n": one address. Host bits must be
 * clear. 0, or -EINVAL with a reason in why. */
static int pol_cidr_parse(const char *s, struct aw_net_cidr *ret, char *why,
			  size_t why_len)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s), i;
	uint8_t a[16] = {0}, net[16];
	char addr[64], text[INET6_ADDRSTRLEN];
	unsigned max, prefix, total;
	bool v4;

	if (alen == 0 || alen >= sizeof(addr))
		POL_WHY("not an IPv4 (a.b.c.d) or IPv6 address");
	memcpy(addr, s, alen);
	addr[alen] = 0;
	if (inet_pton(AF_INET, addr, a + 12) == 1) {
		v4 = true;
		a[10] = a[11] = 0xff;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, a) == 1) {
		v4 = false;
		max = 128;
	} else {
		POL_WHY("not an IPv4 (a.b.c.d) or IPv6 address");
	}
	prefix = max;
	if (slash) {
		const char *d = slash + 1;

		/* strict: 0..max in decimal, no sign, no leading zero */
		if (!*d || strlen(d) > 3 ||
		    strspn(d, "0123456789") != strlen(d) ||
		    (d[0] == '0' && d[1]))
			POL_WHY("the prefix length after '/' must be a number "
				"0..%u",
				max);
		prefix = (unsigned)atoi(d);
		if (prefix > max)
			POL_WHY("prefix length %u: an %s prefix is 0..%u",
				prefix, v4 ? "IPv4" : "IPv6", max);
	}
	total = v4 ? prefix + 96 : prefix;
	for (i = 0; i < 16; i++) {
		unsigned keep = total >= (i + 1) * 8 ? 8
				: total > i * 8	     ? total - i * 8
						     : 0;

		net[i] = a[i] & (uint8_t)(0xff00u >> keep);
	}
	if (memcmp(net, a, 16)) {
		inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? net + 12 : net, text,
			  sizeof(text));
		POL_WHY("host bits set (the network is %s/%u)", text, prefix);
	}
	memcpy(ret->addr, a, 16);
	ret->prefix = (uint8_t)total;
	return 0;
}

/* A port number 1..65535 in s[0..len), for pol_port_parse: -EINVAL for
 * anything but digits, -ERANGE outside the range. */
static int pol_port_num(const char *s, size_t len, unsigned *ret)
{
	unsigned v = 0;
	size_t i;

	if (len == 0)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
	for (i = 0; i < len; i++) {
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > 65535)
			return -ERANGE;
	}
	if (v == 0)
		return -ERANGE;
	*ret = v;
	return 0;
}

/* "443" or "8000-8100". 0, or -EINVAL with a reason in why. */
static int pol_port_parse(const char *s, struct aw_net_ports *ret, char *why,
			  size_t why_len)
{
	size_t n = strcspn(s, "-");
	unsigned lo = 0, hi = 0;
	int r1, r2 = 0;

	r1 = pol_port_num(s, n, &lo);
	if (s[n])
		r2 = pol_port_num(s + n + 1, strlen(s + n + 1), &hi);
	if (r1 == -EINVAL || r2 == -EINVAL)
		POL_WHY("expected a port (443) or a range (8000-8100)");
	if (r1 < 0 || r2 < 0)
		POL_WHY("ports are 1..65535");
	if (!s[n])
		hi = lo;
	if (lo > hi)
		POL_WHY("the range is backwards (%u > %u)", lo, hi);
	*ret = (struct aw_net_ports){(uint16_t)lo, (uint16_t)hi};
	return 0;
}
#undef POL_WHY

enum pol_net_list {
	POL_NET_HOSTS,
	POL_NET_CIDRS,
	POL_NET_PORTS,
	POL_NET_PROTOCOLS,
};

/* One of a network rule's lists. Bad entries are left out (keep-going
 * mode); the caller decides whether what is left still means what was
 * written. */
static int pol_parse_net_list(struct pol_parser *p, const yaml_node_t *seq,
			      const char *key, enum pol_net_list kind,
			      size_t max, struct aw_net_rule *rule)
{
	char what[96], safe[72];
	size_t i, n;
	int r, bad = 0;

	snprintf(what, sizeof(what), "'%s' of network rule '%s'", key,
		 pol_safe(rule->id ? rule->id : "?", safe, 64));
	r = pol_seq(p, seq, what, max, &n);
	if (r < 0)
		return r;
	if (n == 0)
		return pol_fail(p, seq, -EINVAL, "%s lists nothing%s", what,
				kind == POL_NET_PORTS
				    ? " (leave 'ports' out for every port)"
				: kind == POL_NET_PROTOCOLS
				    ? " (leave 'protocols' out for tcp and udp)"
				    : "");
	switch (kind) {
	case POL_NET_HOSTS:
		rule->hosts = calloc(n, sizeof(*rule->hosts));
		if (!rule->hosts)
			return -ENOMEM;
		break;
	case POL_NET_CIDRS:
		rule->cidrs = calloc(n, sizeof(*rule->cidrs));
		if (!rule->cidrs)
			return -ENOMEM;
		break;
	case POL_NET_PORTS:
		rule->ports = calloc(n, sizeof(*rule->ports));
		if (!rule->ports)
			return -ENOMEM;
		break;
	case POL_NET_PROTOCOLS:
		rule->protocols = 0;
		break;
	}
	for (i = 0; i < n; i++) {
		yaml_node_t *e = pol_node(p, seq->data.sequence.items.start[i]);
		char why[160], host[AW_POL_HOST_MAX + 1];
		const char *s;

		if (!e) {
			p->fatal = true;
			return pol_fail(p, seq, -EINVAL, "malformed list");
		}
		r = pol_scalar(p, e,
			       kind == POL_NET_HOSTS   ? "a host"
			       : kind == POL_NET_CIDRS ? "a CIDR"
			       : kind == POL_NET_PORTS ? "a port"
						       : "a protocol",
			       &s);
		if (r >= 0)
			r = pol_spend(p, e);
		if (r < 0)
			goto next;
		switch (kind) {
		case POL_NET_HOSTS:
			if (pol_host_check(s, host, why, sizeof(why)) < 0) {
				r = pol_fail(p, e, -EINVAL, "bad host '%s': %s",
					     pol_safe(s, safe, 64), why);
				break;
			}
			rule->hosts[rule->n_hosts] = strdup(host);
			if (!rule->hosts[rule->n_hosts])
				return -ENOMEM;
			rule->n_hosts++;
			break;
		case POL_NET_CIDRS:
			if (pol_cidr_parse(s, &rule->cidrs[rule->n_cidrs], why,
					   sizeof(why)) < 0) {
				r = pol_fail(p, e, -EINVAL, "bad CIDR '%s': %s",
					     pol_safe(s, safe, 64), why);
				break;
			}
			rule->n_cidrs++;
			break;
		case POL_NET_PORTS:
			if (pol_port_parse(s, &rule->ports[rule->n_ports], why,
					   sizeof(why)) < 0) {
				r = pol_fail(p, e, -EINVAL, "bad port '%s': %s",
					     pol_safe(s, safe, 32), why);
				break;
			}
			rule->n_ports++;
			break;
		case POL_NET_PROTOCOLS:
			if (!strcmp(s, "tcp"))
				rule->protocols |= AW_NET_TCP;
			else if (!strcmp(s, "udp"))
				rule->protocols |= AW_NET_UDP;
			else
				r = pol_fail(p, e, -EINVAL,
					     "unknown protocol '%s' (expected "
					     "tcp or udp)",
					     pol_safe(s, safe, 32));
			break;
		}
	next:
		if (pol_carry(p, r, &bad))
			return r;
	}
	return bad;
}

/*
 * One network rule. *ret_usable says whether it may join the policy: in
 * keep-going mode a rule loses its bad entries, which narrows it, except
 * when no port or protocol is left (that would widen it to all) or no
 * destination is.
 */
static int pol_parse_net_rule(struct pol_parser *p, const yaml_node_t *map,
			      const struct aw_policy *pol,
			      struct aw_net_rule *rule, bool *ret_usable)
{
	enum { N_ID, N_HOSTS, N_CIDRS, N_LOOPBACK, N_PORTS, N_PROTOCOLS, N_N };
	static const struct pol_key keys[] = {
	    [N_ID] = {"id", true},	  [N_HOSTS] = {"hosts", false},
	    [N_CIDRS] = {"cidrs", false}, [N_LOOPBACK] = {"loopback", false},
	    [N_PORTS] = {"ports", false}, [N_PROTOCOLS] = {"protocols", false},
	};
	yaml_node_t *v[N_N], *k[N_N];
	bool loopback_bad = false;
	char safe[72];
	int r, bad = 0;

	*ret_usable = false;
	r = pol_map(p, map, "a network rule", keys, N_N, v, k);
	if (r < 0 && (pol_carry(p, r, &bad) || map->type != YAML_MAPPING_NODE))
		return r;
	rule->file = pol->file;
	rule->line = map->start_mark.line + 1;
	rule->column = map->start_mark.column + 1;
	rule->protocols = AW_NET_TCP | AW_NET_UDP;
	if (v[N_ID]) {
		r = pol_id(p, v[N_ID], "rule id", &rule->id);
		if (pol_carry(p, r, &bad))
			return r;
	}
	if (v[N_HOSTS]) {
		r = pol_parse_net_list(p, v[N_HOSTS], "hosts", POL_NET_HOSTS,
				       AW_POL_NET_HOSTS_MAX, rule);
		if (pol_carry(p, r, &bad))
			return r;
	}
	if (v[N_CIDRS]) {
		r = pol_parse_net_list(p, v[N_CIDRS], "cidrs", POL_NET_CIDRS,
				       AW_POL_NET_CIDRS_MAX, rule);
		if (pol_carry(p, r, &bad))
			return r;
	}
	if (v[N_LOOPBACK]) {
		const char *s;

		r = pol_scalar(p, v[N_LOOPBACK], "'loopback'", &s);
		if (r >= 0 && !strcmp(s, "true"))
			rule->loopback = 1;
		else if (r >= 0 && strcmp(s, "false"))
			r = pol_fail(p, v[N_LOOPBACK], -EINVAL,
				     "'loopback' must be true or false, found "
				     "'%s'",
				     pol_safe(s, safe, 32));
		loopback_bad = r < 0;
		if (pol_carry(p, r, &bad))
			return r;
	}
	if (v[N_PORTS]) {
		r = pol_parse_net_list(p, v[N_PORTS], "ports", POL_NET_PORTS,
				       AW_POL_NET_PORTS_MAX, rule);
		if (pol_carry(p, r, &bad))
			return r;
	}
	if (v[N_PROTOCOLS]) {
		/* (nothing parsed: protocols 0, the rule unusable) */
		rule->protocols = 0;
		r = pol_parse_net_list(p, v[N_PROTOCOLS], "protocols",
				       POL_NET_PROTOCOLS, 2, rule);
		if (pol_carry(p, r, &bad))
			return r;
	}
	/* What was written, not what survived: a bad host was reported
	 * already, "allows nothing" would be noise. */
	if (!v[N_HOSTS] && !v[N_CIDRS] && !rule->loopback && !loopback_bad) {
		r = pol_fail(p, map, -EINVAL,
			     "network rule '%s' allows no destination: give it "
			     "hosts, cidrs or loopback: true",
			     pol_safe(rule->id ? rule->id : "?", safe, 64));
		if (pol_carry(p, r, &bad))
			return r;
	}
	*ret_usable = rule->id &&
		      (rule->n_hosts || rule->n_cidrs || rule->loopback) &&
		      (!v[N_PORTS] || rule->n_ports) && rule->protocols;
	return bad;
}

/* The rule of the file's filesystem or network rules (they share the
 * namespace of `remove`) with this id: its place, or false. */
static bool pol_rule_id_at(const struct aw_policy *pol, const char *id,
			   struct aw_policy_place *ret)
{
	size_t i;

	for (i = 0; i < pol->n_rules; i++)
		if (!strcmp(pol->rules[i].id, id)) {
			*ret = (struct aw_policy_place){pol->rules[i].line,
							pol->rules[i].column};
			return true;
		}
	for (i = 0; i < pol->n_net_rules; i++)
		if (!strcmp(pol->net_rules[i].id, id)) {
			*ret = (struct aw_policy_place){
			    pol->net_rules[i].line, pol->net_rules[i].column};
			return true;
		}
	return false;
}

static int pol_parse_net_rules(struct pol_parser *p, const yaml_node_t *seq,
			       struct aw_policy *pol)
{
	size_t i, n;
	int r, bad = 0;

	/* Confined from here on, whatever follows: a broken section must not
	 * leave the policy unconfined in keep-going mode. */
	pol->has_network = 1;
	r = pol_seq(p, seq, "'network'", AW_POL_RULES_MAX, &n);
	if (r < 0)
		return r;
	pol->net_rules = calloc(n ? n : 1, sizeof(*pol->net_rules));
	if (!pol->net_rules)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		yaml_node_t *e = pol_node(p, seq->data.sequence.items.start[i]);
		struct aw_net_rule rule = {0};
		struct aw_policy_place first;
		bool usable;
		char safe[72];

		if (!e) {
			p->fatal = true;
			return pol_fail(p, seq, -EINVAL, "malformed list");
		}
		r = pol_parse_net_rule(p, e, pol, &rule, &usable);
		if (r < 0 && (pol_stop(p->rep, r) || p->fatal)) {
			pol_net_rule_free(&rule);
			return r;
		}
		if (r < 0 && !bad)
			bad = r;
		if (!usable) {
			pol_net_rule_free(&rule);
			continue;
		}
		if (pol_rule_id_at(pol, rule.id, &first)) {
			/* At the later of the two in the file (filesystem
			 * rules are parsed first, wherever they are). */
			if (first.line < rule.line)
				r = pol_fail(p, e, -EINVAL,
					     "duplicate rule id '%s' (first at "
					     "line %u)",
					     pol_safe(rule.id, safe, 64),
					     first.line);
			else
				r = pol_report(p->rep, -EINVAL, p->name,
					       first.line, first.column,
					       "duplicate rule id '%s' (first "
					       "at line %u)",
					       pol_safe(rule.id, safe, 64),
					       rule.line);
			pol_net_rule_free(&rule);
			if (pol_carry(p, r, &bad))
				return r;
			continue;
		}
		pol->net_rules[pol->n_net_rules++] = rule;
	}
	return bad;
}

/* ASCII only: a locale must not change what a name matches. */
static bool pol_ascii_eq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char x = a[i], y = b[i];

		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return false;
	}
	return true;
}

int aw_net_host_match(const char *pattern, const char *name)
{
	size_t pl, nl, sl, below, i;
	const char *suffix;

	if (!pattern || !name)
		return 0;
	pl = strlen(pattern);
	nl = strlen(name);
	if (pl && pattern[pl - 1] == '.')
		pl--;
	if (nl && name[nl - 1] == '.')
		nl--;
	if (!pl || !nl)
		return 0;
	if (pattern[0] != '*')
		return pl == nl && pol_ascii_eq(pattern, name, pl);
	/* "*.example.com": the suffix ".example.com" (with its dot, so
	 * "evil-example.com" is not below it), and at least one whole label
	 * before it */
	if (pl < 3 || pattern[1] != '.')
		return 0;
	suffix = pattern + 1;
	sl = pl - 1;
	if (nl <= sl || !pol_ascii_eq(name + nl - sl, suffix, sl))
		return 0;
	below = nl - sl;
	if (name[0] == '.')
		return 0;
	for (i = 1; i < below; i++)
		if (name[i] == '.' && name[i - 1] == '.')
			return 0;
	return name[below - 1] != '.';
}

int aw_net_rule_allows_port(const struct aw_net_rule *r, unsigned proto,
			    uint16_t port)
{
	size_t i;

	if (!r || !port || (proto != AW_NET_TCP && proto != AW_NET_UDP) ||
	    !(r->protocols & proto))
		return 0;
	if (!r->n_ports)
		return 1;
	for (i = 0; i < r->n_ports; i++)
		if (port >= r->ports[i].lo && port <= r->ports[i].hi)
			return 1;
	return 0;
}

static int pol_parse_process(struct pol_parser *p, const yaml_node_t *map,
			     struct aw_policy *pol)
{
	enum { P_PIDS, P_SYSCALLS, P_NOTIFY, P_N };
	static const struct pol_key keys[] = {
	    [P_PIDS] = {"pids-max", false},
	    [P_SYSCALLS] = {"allow-syscalls", false},
	    [P_NOTIFY] = {"notify", false},
	};
	yaml_node_t *v[P_N], *k[P_N];
	char safe[72];
	size_t i, n;
	int r, bad = 0;

	r = pol_map(p, map, "'process'", keys, P_N, v, k);
	if (r < 0 && (pol_carry(p, r, &bad) || map->type != YAML_MAPPING_NODE))
		return r;
	if (v[P_PIDS]) {
		const char *s;
		uint64_t val = 0;
		bool neg;

		r = pol_scalar(p, v[P_PIDS], "'pids-max'", &s);
		if (r >= 0) {
			neg = s[0] == '-';
			r = aw_parse_u64(neg ? s + 1 : s, &val);
			if (r == -EINVAL)
				r = pol_fail(p, v[P_PIDS], -EINVAL,
					     "'pids-max' must be an integer, "
					     "found '%s'",
					     pol_safe(s, safe, 32));
			else if (r < 0 || neg || val < AW_POL_PIDS_MIN ||
				 val > AW_POL_PIDS_MAX)
				r = pol_fail(
				    p, v[P_PIDS], -EINVAL,
				    "'pids-max' must be between %d and "
				    "%d, found %s",
				    AW_POL_PIDS_MIN, AW_POL_PIDS_MAX,
				    pol_safe(s, safe, 32));
			else
				pol->pids_max = (int64_t)val;
		}
		if (pol_carry(p, r, &bad))
			return r;
	}
	if (v[P_NOTIFY]) {
		const char *s;

		r = pol_scalar(p, v[P_NOTIFY], "'notify'", &s);
		if (r >= 0 && (!strcmp(s, "true") || !strcmp(s, "false")))
			pol->notify = !strcmp(s, "true");
		else if (r >= 0)
			r = pol_fail(p, v[P_NOTIFY], -EINVAL,
				     "'notify' must be true or false, found "
				     "'%s'",
				     pol_safe(s, safe, 32));
		if (pol_carry(p, r, &bad))
			return r;
	}
	if (v[P_SYSCALLS]) {
		const yaml_node_t *seq = v[P_SYSCALLS];

		r = pol_seq(p, seq, "'allow-syscalls'", AW_POL_NAMES_MAX, &n);
		if (pol_carry(p, r, &bad))
			return r;
		if (r < 0)
			return bad;
		pol->allow_syscalls_set = 1;
		for (i = 0; i < n; i++) {
			yaml_node_t *e =
			    pol_node(p, seq->data.sequence.items.start[i]);
			const char *s;
			int g = -ENOENT;

			if (!e) {
				p->fatal = true;
				return pol_fail(p, seq, -EINVAL,
						"malformed list");
			}
			r = pol_scalar(p, e, "a syscall group", &s);
			if (r >= 0)
				g = aw_policy_syscall_group_find(s);
			if (r >= 0 && g < 0)
				r = pol_fail(p, e, -EINVAL,
					     "unknown syscall group '%s' "
					     "(expected " POL_SC_LIST ")",
					     pol_safe(s, safe, 32));
			if (pol_carry(p, r, &bad))
				return r;
			if (r >= 0)
				pol->allow_syscalls |= 1u << g;
		}
	}
	return bad;
}

static int pol_parse_applies(struct pol_parser *p, const yaml_node_t *map,
			     struct aw_policy *pol)
{
	enum { A_AGENTS, A_CLASSES, A_N };
	static const struct pol_key keys[] = {
	    [A_AGENTS] = {"agents", false},
	    [A_CLASSES] = {"classes", false},
	};
	yaml_node_t *v[A_N], *k[A_N];
	int r, bad = 0;

	r = pol_map(p, map, "'applies-to'", keys, A_N, v, k);
	if (r < 0 && (pol_carry(p, r, &bad) || map->type != YAML_MAPPING_NODE))
		return r;
	if (v[A_AGENTS]) {
		r = pol_names(p, v[A_AGENTS], "'agents'", "agent id",
			      &pol->agents, &pol->agents_at, &pol->n_agents);
		if (pol_carry(p, r, &bad))
			return r;
	}
	if (v[A_CLASSES]) {
		r = pol_names(p, v[A_CLASSES], "'classes'", "agent class",
			      &pol->classes, &pol->classes_at, &pol->n_classes);
		if (pol_carry(p, r, &bad))
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
		K_N
	};
	static const struct pol_key keys[] = {
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
	};
	yaml_node_t *v[K_N], *k[K_N];
	yaml_node_t *root = yaml_document_get_root_node(p->doc);
	const char *s;
	char safe[72];
	size_t i;
	int r, bad = 0;

	if (!root) {
		p->fatal = true;
		return pol_report(p->rep, -EINVAL, p->name, 1, 1,
				  "empty document: expected a mapping with "
				  "'version: 1' and 'id'");
	}
	pol->line = root->start_mark.line + 1;
	pol->column = root->start_mark.column + 1;
	r = pol_map(p, root, "the top level", keys, K_N, v, k);
	if (r < 0 && root->type != YAML_MAPPING_NODE)
		p->fatal = true;
	if (pol_carry(p, r, &bad))
		return r;

	if (v[K_VERSION]) {
		r = pol_scalar(p, v[K_VERSION], "'version'", &s);
		if (r >= 0 && strcmp(s, "1"))
			r = pol_fail(p, v[K_VERSION], -EINVAL,
				     "unsupported version '%s' (this build "
				     "reads version 1)",
				     pol_safe(s, safe, 32));
		/* Read nothing else of a version we do not know. */
		if (r < 0) {
			p->fatal = true;
			pol_carry(p, r, &bad);
			return r;
		}
	}
	if (v[K_ID]) {
		r = pol_id(p, v[K_ID], "policy id", &pol->id);
		if (pol_carry(p, r, &bad))
			return r;
		pol->id_at = pol_place(v[K_ID]);
	}
	if (v[K_DESCRIPTION]) {
		r = pol_scalar(p, v[K_DESCRIPTION], "'description'", &s);
		if (r >= 0 &&
		    v[K_DESCRIPTION]->data.scalar.length > AW_POL_TEXT_MAX)
			r = pol_fail(p, v[K_DESCRIPTION], -E2BIG,
				     "'description' is %zu bytes, the limit is "
				     "%d",
				     v[K_DESCRIPTION]->data.scalar.length,
				     AW_POL_TEXT_MAX);
		for (i = 0; r >= 0 && s[i]; i++)
			if (((unsigned char)s[i] < 0x20 && s[i] != '\n' &&
			     s[i] != '\t') ||
			    s[i] == 0x7f)
				r = pol_fail(p, v[K_DESCRIPTION], -EINVAL,
					     "'description' contains a control "
					     "character");
		if (r >= 0)
			r = pol_take(p, v[K_DESCRIPTION], &pol->description);
		if (pol_carry(p, r, &bad))
			return r;
	}
	if (v[K_EXTENDS]) {
		r = pol_id(p, v[K_EXTENDS], "policy id", &pol->extends);
		if (pol_carry(p, r, &bad))
			return r;
		pol->extends_at = pol_place(v[K_EXTENDS]);
		if (pol->extends && pol->id && !strcmp(pol->extends, pol->id)) {
			r = pol_fail(p, v[K_EXTENDS], -EINVAL,
				     "policy '%s' extends itself", pol->id);
			/* reported: not again as a loop */
			free(pol->extends);
			pol->extends = NULL;
			if (pol_carry(p, r, &bad))
				return r;
		}
	}
	if (v[K_APPLIES]) {
		r = pol_parse_applies(p, v[K_APPLIES], pol);
		if (pol_carry(p, r, &bad))
			return r;
	}
	if (v[K_MODE]) {
		r = pol_scalar(p, v[K_MODE], "'mode'", &s);
		if (r >= 0 && !strcmp(s, "audit"))
			pol->mode = 0;
		else if (r >= 0 && !strcmp(s, "enforce"))
			pol->mode = 1;
		else if (r >= 0)
			r = pol_fail(p, v[K_MODE], -EINVAL,
				     "unknown mode '%s' (expected audit or "
				     "enforce)",
				     pol_safe(s, safe, 32));
		if (pol_carry(p, r, &bad))
			return r;
	}
	if (v[K_REMOVE]) {
		r = pol_names(p, v[K_REMOVE], "'remove'", "rule id",
			      &pol->remove, &pol->remove_at, &pol->n_remove);
		if (pol_carry(p, r, &bad))
			return r;
		if (!v[K_EXTENDS]) {
			r = pol_fail(p, v[K_REMOVE], -EINVAL,
				     "'remove' needs 'extends': there are no "
				     "inherited rules to remove");
			if (pol_carry(p, r, &bad))
				return r;
		}
	}
	if (v[K_FS]) {
		r = pol_parse_rules(p, v[K_FS], pol);
		if (pol_carry(p, r, &bad))
			return r;
	}
	if (v[K_NET]) {
		r = pol_parse_net_rules(p, v[K_NET], pol);
		if (pol_carry(p, r, &bad))
			return r;
	}
	if (v[K_PROCESS]) {
		r = pol_parse_process(p, v[K_PROCESS], pol);
		if (pol_carry(p, r, &bad))
			return r;
	}
	/* A rule that replaces an inherited one needs no remove: saying
	 * both is a mistake about what the file does. */
	for (i = 0; i < pol->n_remove; i++) {
		struct aw_policy_place at;

		if (!pol_rule_id_at(pol, pol->remove[i], &at))
			continue;
		r = pol_report(p->rep, -EINVAL, p->name, pol->remove_at[i].line,
			       pol->remove_at[i].column,
			       "'%s' is both removed and defined at line %u: a "
			       "rule with an inherited id replaces the "
			       "inherited one",
			       pol->remove[i], at.line);
		if (pol_carry(p, r, &bad))
			return r;
	}
	return bad;
}

/* ---- YAML-level errors -------------------------------------------------- */

/* A reader error about UTF-8: placed at the byte a user has to fix. */
static int pol_utf8_error(struct pol_parser *p, const yaml_parser_t *parser)
{
	struct aw_diag d = {};

	aw_utf8_fault(p->data, p->len, parser->problem_offset, parser->problem,
		      "policy files", &d, p->name);
	return pol_report(p->rep, -EINVAL, p->name, d.line, d.column, "%s",
			  d.message);
}

static int pol_yaml_error(struct pol_parser *p, const yaml_parser_t *parser)
{
	unsigned line, column;

	switch (parser->error) {
	case YAML_MEMORY_ERROR:
		return pol_report(p->rep, -ENOMEM, p->name, 0, 0,
				  "out of memory");
	case YAML_READER_ERROR:
		/* Reader errors carry a byte offset, not a mark. */
		if (parser->problem && strstr(parser->problem, "UTF-8"))
			return pol_utf8_error(p, parser);
		aw_text_place(p->data, p->len, parser->problem_offset, &line,
			      &column);
		return pol_report(p->rep, -EINVAL, p->name, line, column,
				  "invalid character: %s (0x%02x)",
				  parser->problem ? parser->problem : "unknown",
				  (unsigned)parser->problem_value);
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
	case YAML_COMPOSER_ERROR:
		if (parser->context)
			return pol_report(
			    p->rep, -EINVAL, p->name,
			    parser->problem_mark.line + 1,
			    parser->problem_mark.column + 1,
			    "YAML syntax error: %s (%s at line %lu, column "
			    "%lu)",
			    parser->problem ? parser->problem : "unknown",
			    parser->context,
			    (unsigned long)parser->context_mark.line + 1,
			    (unsigned long)parser->context_mark.column + 1);
		return pol_report(
		    p->rep, -EINVAL, p->name, parser->problem_mark.line + 1,
		    parser->problem_mark.column + 1, "YAML syntax error: %s",
		    parser->problem ? parser->problem : "unknown");
	case YAML_NO_ERROR:
	case YAML_WRITER_ERROR:
	case YAML_EMITTER_ERROR:
		break;
	}
	return pol_report(p->rep, -EINVAL, p->name, 0, 0, "YAML error");
}

/*
 * Parse one document into pol (zeroed by the caller, who frees it in any
 * case). In keep-going mode pol may be usable (pol->id set) despite
 * problems.
 */
static int pol_parse(const char *name, const char *data, size_t len,
		     struct pol_report *rep, struct aw_policy *pol)
{
	struct pol_parser p = {.name = name,
			       .data = data,
			       .len = len,
			       .rep = rep,
			       .budget = AW_POL_FILE_MAX + 1};
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	int r;

	pol->mode = -1;
	pol->pids_max = -1;
	pol->notify = -1;
	pol->file = strdup(name);
	if (!pol->file)
		return -ENOMEM;
	if (len > AW_POL_FILE_MAX)
		return pol_report(rep, -EFBIG, name, 0, 0,
				  "file is %zu bytes, the limit is %d (1 MiB)",
				  len, AW_POL_FILE_MAX);
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	/* No BOM sniffing into UTF-16: we promise UTF-8 only. */
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);

	if (!yaml_parser_load(&parser, &doc)) {
		r = pol_yaml_error(&p, &parser);
		yaml_parser_delete(&parser);
		return r;
	}
	p.doc = &doc;
	r = pol_parse_root(&p, pol);
	if (r >= 0 || !pol_stop(rep, r)) {
		int r2 = 0;

		/* A second document would be silently ignored otherwise. */
		if (!yaml_parser_load(&parser, &extra)) {
			r2 = pol_yaml_error(&p, &parser);
		} else {
			yaml_node_t *root = yaml_document_get_root_node(&extra);

			if (root) {
				p.doc = &extra;
				r2 = pol_fail(&p, root, -EINVAL,
					      "more than one YAML document in "
					      "the file");
			}
			yaml_document_delete(&extra);
		}
		if (r >= 0)
			r = r2;
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return r;
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
		     const struct aw_policy *pol, struct pol_report *rep)
{
	size_t i, total = 0;

	for (i = 0; i < n_sets; i++) {
		const struct aw_policy *o = aw_policyset_find(sets[i], pol->id);

		if (o)
			return pol_report(rep, -EINVAL, pol->file,
					  pol->id_at.line, pol->id_at.column,
					  "duplicate policy id '%s' (first "
					  "defined at %.96s:%u:%u)",
					  pol->id, o->file, o->id_at.line,
					  o->id_at.column);
		total += sets[i]->n_pols;
	}
	if (total >= AW_POL_SET_MAX)
		return pol_report(
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

/* ---- flattening --------------------------------------------------------- */

/*
 * The chain of p: chain[0] = p, chain[k] its k-th ancestor; *ret_n says
 * how many were found (also on error). Returns 0, or -ENOENT (*ret_at's
 * extends names nothing), -ELOOP (*ret_at is where the loop closes: the
 * policy met twice) or -E2BIG (deeper than AW_POL_EXTENDS_MAX).
 */
static int pol_chain(const struct aw_policyset *set, const struct aw_policy *p,
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

static int pol_report_contra(struct pol_report *rep, const struct pol_ent *at,
			     const struct pol_ent *other)
{
	struct aw_policy_place pa = pol_ent_place(at),
			       po = pol_ent_place(other);
	char safe[72];

	return pol_report(rep, -EINVAL, at->rule->file, pa.line, pa.column,
			  "'%s' is %s here (rule %s) and %s in rule %s "
			  "(%.64s:%u:%u): one path, one verb",
			  pol_safe(at->path, safe, 48),
			  aw_fs_verb_name(at->rule->verb), at->rule->id,
			  aw_fs_verb_name(other->rule->verb), other->rule->id,
			  other->rule->file, po.line, po.column);
}

/* A grant inside a masked tree: reported at the grant, or at the deny if
 * only the deny is the checked policy's own. */
static int pol_report_masked(struct pol_report *rep, const struct pol_ent *g,
			     const struct pol_ent *d, bool own_only)
{
	struct aw_policy_place pg = pol_ent_place(g), pd = pol_ent_place(d);
	char sg[72], sd[72];

	if (!own_only || g->own)
		return pol_report(
		    rep, -EINVAL, g->rule->file, pg.line, pg.column,
		    "%s '%s' (rule %s) is inside '%s', denied by rule %s "
		    "(%.64s:%u:%u): a grant in a masked tree cannot be "
		    "honoured",
		    aw_fs_verb_name(g->rule->verb), pol_safe(g->path, sg, 48),
		    g->rule->id, pol_safe(d->path, sd, 48), d->rule->id,
		    d->rule->file, pd.line, pd.column);
	return pol_report(rep, -EINVAL, d->rule->file, pd.line, pd.column,
			  "deny '%s' (rule %s) masks %s '%s' of rule %s "
			  "(%.64s:%u:%u): a grant in a masked tree cannot be "
			  "honoured",
			  pol_safe(d->path, sd, 48), d->rule->id,
			  aw_fs_verb_name(g->rule->verb),
			  pol_safe(g->path, sg, 48), g->rule->id, g->rule->file,
			  pg.line, pg.column);
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
			   struct pol_report *rep)
{
	struct pol_ent *ents, **stack = NULL;
	size_t i, j, n = 0, n_globs = 0, sp = 0;
	int bad = 0;

#define POL_CHECK(expr)                                                        \
	do {                                                                   \
		int _r = (expr);                                               \
		if (_r < 0) {                                                  \
			if (!bad)                                              \
				bad = _r;                                      \
			if (pol_stop(rep, _r))                                 \
				goto out;                                      \
		}                                                              \
	} while (0)

	for (i = 0; i < n_rules; i++)
		n += rules[i]->n_paths;
	if (n > AW_POL_FLAT_PATHS_MAX)
		return pol_report(rep, -E2BIG, p->file, p->line, p->column,
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
		POL_CHECK(pol_report(rep, -E2BIG, p->file, p->line, p->column,
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
#undef POL_CHECK
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
static int pol_report_kind_clash(struct pol_report *rep, const char *file,
				 unsigned line, unsigned column, bool net,
				 const struct pol_flat_slot *old)
{
	char safe[72];

	return pol_report(
	    rep, -EINVAL, file, line, column,
	    "%s rule '%s' has the id of inherited %s rule (%.64s:%u:%u): "
	    "filesystem and network rule ids are one namespace (remove: "
	    "names either)",
	    net ? "network" : "filesystem", pol_safe(old->id, safe, 64),
	    net ? "filesystem" : "network",
	    old->fs ? old->fs->file : old->net->file,
	    old->fs ? old->fs->line : old->net->line,
	    old->fs ? old->fs->column : old->net->column);
}

/* Totals of a flattened policy's network rules against the limits. */
static int pol_check_net(const struct aw_policy *p,
			 const struct aw_net_rule *const *rules, size_t n,
			 struct pol_report *rep)
{
	size_t i, hosts = 0, cidrs = 0;

	if (n > AW_POL_RULES_MAX)
		return pol_report(rep, -E2BIG, p->file, p->line, p->column,
				  "policy '%s' has %zu network rules with what "
				  "it inherits, the limit is %d",
				  p->id, n, AW_POL_RULES_MAX);
	for (i = 0; i < n; i++) {
		hosts += rules[i]->n_hosts;
		cidrs += rules[i]->n_cidrs;
	}
	if (hosts > AW_POL_FLAT_HOSTS_MAX)
		return pol_report(rep, -E2BIG, p->file, p->line, p->column,
				  "policy '%s' has %zu hosts with what it "
				  "inherits, the limit is %d",
				  p->id, hosts, AW_POL_FLAT_HOSTS_MAX);
	if (cidrs > AW_POL_FLAT_CIDRS_MAX)
		return pol_report(rep, -E2BIG, p->file, p->line, p->column,
				  "policy '%s' has %zu cidrs with what it "
				  "inherits, the limit is %d",
				  p->id, cidrs, AW_POL_FLAT_CIDRS_MAX);
	return 0;
}

/* The flattened rules, as pol_flatten_chain hands them out. */
struct pol_flat_rules {
	const struct aw_fs_rule **fs;
	size_t n_fs;
	const struct aw_net_rule **net;
	size_t n_net;
};

static void pol_flat_rules_free(struct pol_flat_rules *fr)
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
static int pol_flatten_chain(const struct aw_policy *const *chain, size_t n,
			     bool own_only, struct pol_report *rep,
			     struct pol_flat_rules *ret)
{
	const struct aw_policy *p = chain[0];
	struct pol_flat_rules fr = {0};
	struct pol_flat_slot *slots;
	struct pol_slot *idx;
	size_t cap = 0, n_slots = 0, lvl, i, k;
	int bad = 0;

#define POL_FLAT_CHECK(expr)                                                   \
	do {                                                                   \
		int _r = (expr);                                               \
		if (_r < 0) {                                                  \
			if (!bad)                                              \
				bad = _r;                                      \
			if (pol_stop(rep, _r))                                 \
				goto out;                                      \
		}                                                              \
	} while (0)

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
			POL_FLAT_CHECK(pol_report(
			    rep, -EINVAL, q->file, q->remove_at[i].line,
			    q->remove_at[i].column,
			    "remove: '%s' is not a rule of '%s' (or what it "
			    "extends)",
			    pol_safe(q->remove[i], safe, 64),
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
					POL_FLAT_CHECK(pol_report_kind_clash(
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
		POL_FLAT_CHECK(pol_report(rep, -E2BIG, p->file, p->line,
					  p->column,
					  "policy '%s' has %zu rules with what "
					  "it inherits, the limit is %d",
					  p->id, fr.n_fs, AW_POL_RULES_MAX));
		goto out;
	}
	POL_FLAT_CHECK(pol_check_net(p, fr.net, fr.n_net, rep));
	/* (not on a half-flattened list: a missed remove would show up as
	 * contradictions that are not there) */
	if (!bad)
		POL_FLAT_CHECK(
		    pol_check_paths(p, fr.fs, fr.n_fs, own_only, rep));
out:
#undef POL_FLAT_CHECK
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
static int pol_report_chain(const struct aw_policyset *set, int r,
			    const struct aw_policy *at, struct pol_report *rep)
{
	char text[256], safe[72];

	switch (r) {
	case -ENOENT:
		return pol_report(rep, -EINVAL, at->file, at->extends_at.line,
				  at->extends_at.column,
				  "'%s' extends unknown policy '%s'", at->id,
				  pol_safe(at->extends, safe, 64));
	case -ELOOP:
		pol_loop_text(set, at, text, sizeof(text));
		return pol_report(rep, -EINVAL, at->file, at->extends_at.line,
				  at->extends_at.column, "extends loop: %.200s",
				  text);
	default:
		return pol_report(rep, -EINVAL, at->file, at->extends_at.line,
				  at->extends_at.column,
				  "extends chain of '%s' is deeper than %d "
				  "policies",
				  at->id, AW_POL_EXTENDS_MAX);
	}
}

static int pol_flatten(const struct aw_policyset *set,
		       const struct aw_policy *p, struct pol_report *rep,
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
	return 0;
}

int aw_policy_flatten(const struct aw_policyset *set, const struct aw_policy *p,
		      struct aw_policy_flat *ret, struct aw_diag *diag)
{
	struct pol_report rep = {.diag = diag};

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
			    struct pol_report *rep)
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
			r = pol_report(
			    rep, -EINVAL, b->file, c[j].at.line, c[j].at.column,
			    "%s '%s' is in applies-to of policies "
			    "'%s' and '%s' (%.64s:%u:%u): which one "
			    "would it get?",
			    classes ? "class" : "agent", c[j].name, b->id,
			    a->id, a->file, c[i].at.line, c[i].at.column);
			if (!bad)
				bad = r;
			if (pol_stop(rep, r))
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
			 struct pol_report *rep)
{
	size_t i, j;
	int r, bad = 0;

#define POL_SET_CHECK(expr)                                                    \
	do {                                                                   \
		int _r = (expr);                                               \
		if (_r < 0) {                                                  \
			if (!bad)                                              \
				bad = _r;                                      \
			if (pol_stop(rep, _r))                                 \
				return bad;                                    \
		}                                                              \
	} while (0)

	/* A set built by the loaders has neither problem; a hand-built one
	 * may. */
	if (set->n_pols > AW_POL_SET_MAX)
		return pol_report(rep, -E2BIG, where, 0, 0,
				  "%zu policies in the set, the limit is %d",
				  set->n_pols, AW_POL_SET_MAX);
	for (i = 0; i < set->n_pols; i++) {
		if (!set->pols[i].id || !set->pols[i].file)
			return pol_report(rep, -EINVAL, where, 0, 0,
					  "a policy without an id or file");
		for (j = 0; j < i; j++)
			if (!strcmp(set->pols[i].id, set->pols[j].id))
				POL_SET_CHECK(pol_report(
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
		POL_SET_CHECK(pol_report(
		    rep, -EINVAL, where, 0, 0,
		    "no policy with id 'default' (the one every agent without "
		    "a policy of its own gets)"));
	POL_SET_CHECK(pol_check_claims(set, false, rep));
	POL_SET_CHECK(pol_check_claims(set, true, rep));

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
				POL_SET_CHECK(
				    pol_report_chain(set, r, at, rep));
			continue;
		}
		if (r == -E2BIG) {
			/* once, at the first policy too deep */
			parent = aw_policyset_find(set, p->extends);
			if (parent &&
			    pol_chain(set, parent, pchain, &pn, &pat) != -E2BIG)
				POL_SET_CHECK(pol_report_chain(set, r, p, rep));
			continue;
		}
		if (r == -ENOENT && at == p)
			/* once, at the policy whose extends is wrong */
			POL_SET_CHECK(pol_report_chain(set, r, at, rep));
		/* With a broken extends, what is there is still checked (in
		 * keep-going mode: more problems in one run). */
		r = pol_flatten_chain(chain, n, true, rep, &fr);
		pol_flat_rules_free(&fr);
		POL_SET_CHECK(r);
	}
#undef POL_SET_CHECK
	return bad;
}

int aw_policyset_validate(const struct aw_policyset *set, struct aw_diag *diag)
{
	struct pol_report rep = {.diag = diag};

	if (!set)
		return -EINVAL;
	return pol_check_set(set, "policy set", &rep);
}

/* ---- files -------------------------------------------------------------- */

/* As OpenBSD's doas: a policy anyone else can write is no policy. */
static int pol_check_owner(const char *path, const struct stat *st,
			   struct pol_report *rep)
{
	uid_t euid = geteuid();

	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return pol_report(rep, -EPERM, path, 0, 0,
				  "writable by others (mode %04o): refusing",
				  (unsigned)(st->st_mode & 07777));
	if (st->st_uid != 0 && st->st_uid != euid)
		return pol_report(rep, -EPERM, path, 0, 0,
				  "owned by uid %u, not root or uid %u: "
				  "refusing",
				  (unsigned)st->st_uid, (unsigned)euid);
	return 0;
}

/* Read a whole regular file of at most AW_POL_FILE_MAX bytes. An
 * ownership problem stops here only in first-problem mode. */
static int pol_read_file(const char *path, unsigned flags,
			 struct pol_report *rep, char **ret_data,
			 size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;
	int r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		return pol_report(rep, r, path, 0, 0, "cannot open: %s",
				  strerror(-r));
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		return pol_report(rep, r, path, 0, 0, "cannot stat: %s",
				  strerror(-r));
	}
	if (!S_ISREG(st.st_mode))
		return pol_report(rep, -EINVAL, path, 0, 0,
				  "not a regular file");
	/* The descriptor's inode is the one read: no race with a rename. */
	if (!(flags & AW_POLICY_LOAD_NO_OWNER_CHECK)) {
		r = pol_check_owner(path, &st, rep);
		if (r < 0 && pol_stop(rep, r))
			return r;
	}
	if (st.st_size > AW_POL_FILE_MAX)
		goto too_big;
	/* One byte more than the limit, so a file that grows under us is
	 * caught too. */
	buf = malloc(AW_POL_FILE_MAX + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf + len, AW_POL_FILE_MAX + 1 - len);

		if (n < 0) {
			r = -errno;
			if (r == -EINTR)
				continue;
			return pol_report(rep, r, path, 0, 0, "cannot read: %s",
					  strerror(-r));
		}
		if (n == 0)
			break;
		len += n;
		if (len > AW_POL_FILE_MAX)
			goto too_big;
	}
	*ret_data = AW_TAKE_PTR(buf);
	*ret_len = len;
	return 0;

too_big:
	return pol_report(rep, -EFBIG, path, 0, 0,
			  "file is larger than %d bytes (1 MiB)",
			  AW_POL_FILE_MAX);
}

static int pol_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool pol_is_yaml_name(const char *name)
{
	size_t len = strlen(name);

	/* dotfiles are editor and package-manager leftovers */
	return name[0] != '.' && len > 5 && !strcmp(name + len - 5, ".yaml");
}

/* The *.yaml names in dir, sorted; the directory's ownership checked. */
static int pol_list_dir(const char *dir, unsigned flags, struct pol_report *rep,
			char **names, size_t *ret_n)
{
	struct dirent *de;
	struct stat st;
	size_t n = 0;
	DIR *d;
	int r = 0;

	d = opendir(dir);
	if (!d) {
		r = -errno;
		return pol_report(rep, r, dir, 0, 0,
				  "cannot open directory: %s", strerror(-r));
	}
	if (fstat(dirfd(d), &st) < 0) {
		r = -errno;
		pol_report(rep, r, dir, 0, 0, "cannot stat: %s", strerror(-r));
		goto out;
	}
	if (!(flags & AW_POLICY_LOAD_NO_OWNER_CHECK)) {
		r = pol_check_owner(dir, &st, rep);
		if (r < 0 && pol_stop(rep, r))
			goto out;
		r = 0;
	}
	while ((errno = 0, de = readdir(d))) {
		if (!pol_is_yaml_name(de->d_name))
			continue;
		if (n == AW_POL_DIR_FILES_MAX) {
			r = pol_report(rep, -E2BIG, dir, 0, 0,
				       "more than %d *.yaml files in the "
				       "directory",
				       AW_POL_DIR_FILES_MAX);
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
		pol_report(rep, r, dir, 0, 0, "cannot read directory: %s",
			   strerror(-r));
		goto out;
	}
	if (n)
		qsort(names, n, sizeof(names[0]), pol_name_cmp);
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

int aw_policy_load_buffer(struct aw_policyset *set, const char *name,
			  const char *data, size_t len, struct aw_diag *diag)
{
	struct pol_report rep = {.diag = diag};
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
	struct pol_report rep = {.diag = diag};
	_cleanup_free_ char *data = NULL;
	size_t len;
	int r;

	if (!set || !path)
		return -EINVAL;
	r = pol_read_file(path, flags, &rep, &data, &len);
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
	struct pol_report rep = {.diag = diag};
	struct aw_policyset all = {0};
	const struct aw_policyset *sets[2] = {set, &all};
	char *names[AW_POL_DIR_FILES_MAX];
	size_t i, n = 0;
	int r;

	if (!set || !dir)
		return -EINVAL;
	r = pol_list_dir(dir, flags, &rep, names, &n);
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
		r = pol_read_file(path, flags, &rep, &data, &len);
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
		r = pol_report(&rep, -EINVAL, dir, 0, 0,
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
			  struct pol_report *rep)
{
	const struct aw_policyset *sets[1] = {set};
	struct pol_held held = {0};
	struct pol_report frep = {.cb = pol_hold, .ud = &held};
	_cleanup_free_ char *data = NULL;
	struct aw_policy pol = {0};
	size_t len, i;
	int r;

	r = pol_read_file(path, 0, &frep, &data, &len);
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
			pol_report(rep, -EINVAL, held.v[i].file, held.v[i].line,
				   held.v[i].column, "%s", held.v[i].message);
	}
	free(held.v);
	return r == -ENOMEM ? r : 0;
}

int aw_policyset_check_all(struct aw_policyset *set, const char *const *files,
			   size_t n_files,
			   void (*cb)(void *ud, const struct aw_diag *d),
			   void *ud)
{
	struct pol_report rep = {.cb = cb, .ud = ud};
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
		if (pol_list_dir(files[i], 0, &rep, names, &n) < 0)
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
