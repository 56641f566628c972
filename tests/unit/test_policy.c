// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for policies: the templates in policies/ (as files and as
 * compiled into the daemon), resolution and flattening, every parser
 * diagnostic with its place, the whole-set checks, limits and hostile
 * documents, file ownership, and check_all's keep-going reports.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "policy/policy.h"
#include "shared/embedded.h"

#ifndef AW_SOURCE_DIR
#define AW_SOURCE_DIR "."
#endif

/* tools/embed-files.py, as the daemon links it */

static int load(struct aw_policyset *set, const char *name, const char *text,
		struct aw_diag *d)
{
	memset(d, 0, sizeof(*d));
	return aw_policy_load_buffer(set, name, text, strlen(text), d);
}

static void load_ok(struct aw_policyset *set, const char *name,
		    const char *text)
{
	struct aw_diag d;
	int r = load(set, name, text, &d);

	if (r < 0)
		fail_msg("%s: %s:%u:%u: %s", name, d.file, d.line, d.column,
			 d.message);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the templates ------------------------------------------------------ */

static const char *const template_ids[] = {
    "anthropic.claude-code",
    "coding-agent",
    "computer-use",
    "default",
    "desktop-assistant",
    "google.gemini-cli",
    "mcp-server",
    "openai.codex-cli",
};

static void check_templates(const struct aw_policyset *set)
{
	struct aw_diag d = {0};
	size_t i;

	if (aw_policyset_validate(set, &d) < 0)
		fail_msg("validate: %s:%u:%u: %s", d.file, d.line, d.column,
			 d.message);
	assert_int_equal(set->n_pols,
			 sizeof(template_ids) / sizeof(*template_ids));
	for (i = 0; i < sizeof(template_ids) / sizeof(*template_ids); i++)
		assert_non_null(aw_policyset_find(set, template_ids[i]));
	for (i = 0; i < set->n_pols; i++) {
		struct aw_policy_flat f = {0};

		memset(&d, 0, sizeof(d));
		if (aw_policy_flatten(set, &set->pols[i], &f, &d) < 0)
			fail_msg("flatten %s: %s:%u:%u: %s", set->pols[i].id,
				 d.file, d.line, d.column, d.message);
		/* every template is enforcing and grants no syscall back */
		assert_int_equal(f.mode, 1);
		assert_int_equal(f.allow_syscalls, 0);
		assert_true(f.n_rules > 20);
		/* and confines the network (default says `network: []`) */
		assert_int_equal(f.has_network, 1);
		aw_policy_flat_free(&f);
	}
}

static const struct aw_fs_rule *flat_rule(const struct aw_policy_flat *f,
					  const char *id)
{
	size_t i;

	for (i = 0; i < f->n_rules; i++)
		if (!strcmp(f->rules[i]->id, id))
			return f->rules[i];
	return NULL;
}

static const struct aw_net_rule *flat_net(const struct aw_policy_flat *f,
					  const char *id)
{
	size_t i;

	for (i = 0; i < f->n_net_rules; i++)
		if (!strcmp(f->net_rules[i]->id, id))
			return f->net_rules[i];
	return NULL;
}

/* Does any rule of f allow name on proto/port? As the daemon will ask. */
static bool flat_allows(const struct aw_policy_flat *f, const char *name,
			unsigned proto, uint16_t port)
{
	size_t i, j;

	for (i = 0; i < f->n_net_rules; i++)
		for (j = 0; j < f->net_rules[i]->n_hosts; j++)
			if (aw_net_host_match(f->net_rules[i]->hosts[j],
					      name) &&
			    aw_net_rule_allows_port(f->net_rules[i], proto,
						    port))
				return true;
	return false;
}

static void test_templates_dir(void **state)
{
	struct aw_policyset set = {0};
	struct aw_policy_flat f = {0};
	struct aw_diag d = {0};
	const struct aw_policy *p;
	const struct aw_fs_rule *r;
	const struct aw_net_rule *n;

	(void)state;
	/* A checkout need not be owned by the user running the tests. */
	if (aw_policy_load_dir_flags(&set, AW_SOURCE_DIR "/policies",
				     AW_POLICY_LOAD_NO_OWNER_CHECK, &d) < 0)
		fail_msg("%s:%u:%u: %s", d.file, d.line, d.column, d.message);
	check_templates(&set);

	/* default: strict */
	p = aw_policyset_find(&set, "default");
	assert_int_equal(aw_policy_flatten(&set, p, &f, &d), 0);
	assert_int_equal(f.pids_max, 1024);
	assert_null(flat_rule(&f, "home"));
	r = flat_rule(&f, "secrets.ssh");
	assert_non_null(r);
	assert_int_equal(r->verb, AW_FS_DENY);
	assert_string_equal(r->paths[0], "~/.ssh");
	assert_int_equal(flat_rule(&f, "workspace")->verb, AW_FS_COW);
	assert_int_equal(flat_rule(&f, "scratch")->verb, AW_FS_TMPFS);
	assert_int_equal(flat_rule(&f, "persist.shell")->verb, AW_FS_ESCALATE);
	assert_int_equal(flat_rule(&f, "ipc.docker")->verb, AW_FS_DENY);
	assert_non_null(flat_rule(&f, "agentwall.self"));
	/* nothing reachable, loopback included */
	assert_int_equal(f.has_network, 1);
	assert_int_equal(f.n_net_rules, 0);
	aw_policy_flat_free(&f);

	/* coding-agent: registries and GitHub, 443/tcp */
	p = aw_policyset_resolve(&set, "acme.coder", "coding-agent");
	assert_string_equal(p->id, "coding-agent");
	assert_int_equal(aw_policy_flatten(&set, p, &f, &d), 0);
	assert_int_equal(f.n_net_rules, 2);
	n = flat_net(&f, "registries");
	assert_non_null(n);
	assert_int_equal(n->n_hosts, 10);
	assert_int_equal(n->protocols, AW_NET_TCP);
	assert_int_equal(n->n_ports, 1);
	assert_int_equal(n->loopback, 0);
	assert_int_equal(n->n_cidrs, 0);
	assert_non_null(flat_net(&f, "git-hosting"));
	assert_true(flat_allows(&f, "registry.npmjs.org", AW_NET_TCP, 443));
	assert_true(flat_allows(&f, "files.pythonhosted.org", AW_NET_TCP, 443));
	assert_true(flat_allows(&f, "codeload.github.com", AW_NET_TCP, 443));
	assert_false(flat_allows(&f, "registry.npmjs.org", AW_NET_UDP, 443));
	assert_false(flat_allows(&f, "registry.npmjs.org", AW_NET_TCP, 80));
	assert_false(flat_allows(&f, "github.com", AW_NET_TCP, 22));
	assert_false(flat_allows(&f, "api.openai.com", AW_NET_TCP, 443));
	aw_policy_flat_free(&f);

	/* codex: coding-agent's home cow, default's masks, default's mode */
	p = aw_policyset_resolve(&set, "openai.codex-cli", "coding-agent");
	assert_string_equal(p->id, "openai.codex-cli");
	assert_int_equal(aw_policy_flatten(&set, p, &f, &d), 0);
	assert_string_equal(f.id, "openai.codex-cli");
	assert_int_equal(flat_rule(&f, "home")->verb, AW_FS_COW);
	assert_non_null(flat_rule(&f, "secrets.ssh"));
	assert_int_equal(f.pids_max, 1024);
	/* parent first: the inherited rules, then coding-agent's, then its
	 * own state and held configuration */
	assert_string_equal(f.rules[0]->id, "secrets.ssh");
	assert_string_equal(f.rules[f.n_rules - 1]->id, "codex.config");
	assert_int_equal(flat_rule(&f, "codex.state")->verb, AW_FS_STATE);
	assert_int_equal(flat_rule(&f, "codex.config")->verb, AW_FS_ESCALATE);
	assert_int_equal(flat_rule(&f, "state.caches")->verb, AW_FS_STATE);
	/* the registries, then its own API over tcp and udp */
	assert_int_equal(f.n_net_rules, 3);
	assert_string_equal(f.net_rules[0]->id, "registries");
	assert_string_equal(f.net_rules[2]->id, "openai");
	assert_int_equal(f.net_rules[2]->protocols, AW_NET_TCP | AW_NET_UDP);
	assert_true(flat_allows(&f, "api.openai.com", AW_NET_UDP, 443));
	assert_true(flat_allows(&f, "chatgpt.com", AW_NET_TCP, 443));
	assert_true(flat_allows(&f, "pypi.org", AW_NET_TCP, 443));
	assert_false(flat_allows(&f, "api.anthropic.com", AW_NET_TCP, 443));
	aw_policy_flat_free(&f);

	/* claude code and gemini cli: their agent ids */
	p = aw_policyset_resolve(&set, "anthropic.claude-code", "coding-agent");
	assert_string_equal(p->id, "anthropic.claude-code");
	assert_int_equal(aw_policy_flatten(&set, p, &f, &d), 0);
	assert_non_null(flat_rule(&f, "home"));
	assert_non_null(flat_net(&f, "registries"));
	assert_non_null(flat_net(&f, "anthropic.telemetry"));
	assert_true(flat_allows(&f, "api.anthropic.com", AW_NET_TCP, 443));
	assert_true(flat_allows(&f, "statsig.anthropic.com", AW_NET_TCP, 443));
	assert_false(flat_allows(&f, "api.openai.com", AW_NET_TCP, 443));
	aw_policy_flat_free(&f);
	p = aw_policyset_resolve(&set, "google.gemini-cli", "coding-agent");
	assert_string_equal(p->id, "google.gemini-cli");
	assert_int_equal(aw_policy_flatten(&set, p, &f, &d), 0);
	assert_true(flat_allows(&f, "generativelanguage.googleapis.com",
				AW_NET_TCP, 443));
	assert_true(flat_allows(&f, "oauth2.googleapis.com", AW_NET_TCP, 443));
	assert_false(
	    flat_allows(&f, "storage.googleapis.com", AW_NET_TCP, 443));
	aw_policy_flat_free(&f);

	/* mcp-server: no home, fewer processes */
	p = aw_policyset_resolve(&set, "acme.files", "mcp-server");
	assert_string_equal(p->id, "mcp-server");
	assert_int_equal(aw_policy_flatten(&set, p, &f, &d), 0);
	assert_null(flat_rule(&f, "home"));
	assert_int_equal(f.pids_max, 256);
	assert_int_equal(f.has_network, 1);
	assert_int_equal(f.n_net_rules, 0);
	aw_policy_flat_free(&f);

	/* computer-use: the display and input devices unmasked */
	p = aw_policyset_resolve(&set, NULL, "computer-use");
	assert_string_equal(p->id, "computer-use");
	assert_int_equal(aw_policy_flatten(&set, p, &f, &d), 0);
	assert_null(flat_rule(&f, "ipc.display"));
	assert_null(flat_rule(&f, "ipc.input"));
	assert_non_null(flat_rule(&f, "ipc.dbus-session"));
	/* ... granted by its computer-use section, the CDP port a loopback
	 * network rule of its own */
	assert_int_equal(f.display, 1);
	assert_int_equal(f.input, 1);
	assert_int_equal(f.n_cdp, 1);
	assert_int_equal(f.cdp[0], 9222);
	assert_int_equal(f.n_net_rules, 1);
	assert_string_equal(f.net_rules[0]->id, "computer-use.cdp");
	assert_int_equal(f.net_rules[0]->loopback, 1);
	assert_int_equal(
	    aw_net_rule_allows_port(f.net_rules[0], AW_NET_TCP, 9222), 1);
	assert_int_equal(
	    aw_net_rule_allows_port(f.net_rules[0], AW_NET_TCP, 9223), 0);
	aw_policy_flat_free(&f);

	/* every other class: refused */
	p = aw_policyset_resolve(&set, NULL, "coding-agent");
	assert_int_equal(aw_policy_flatten(&set, p, &f, &d), 0);
	assert_int_equal(f.display, 0);
	assert_int_equal(f.input, 0);
	assert_int_equal(f.n_cdp, 0);
	aw_policy_flat_free(&f);

	/* an agent nobody wrote a policy for */
	p = aw_policyset_resolve(&set, "acme.unknown", "unknown-agent");
	assert_string_equal(p->id, "default");
	aw_policyset_free(&set);
}

static void test_templates_embedded(void **state)
{
	struct aw_policyset set = {0};
	size_t i;

	(void)state;
	assert_int_equal(aw_embedded_policies_count,
			 sizeof(template_ids) / sizeof(*template_ids));
	for (i = 0; i < aw_embedded_policies_count; i++) {
		struct aw_policyset one = {0};
		struct aw_diag d = {0};
		const struct aw_embedded_file *e = &aw_embedded_policies[i];

		/* each on its own parses */
		if (aw_policy_load_buffer(&one, e->name, e->data, e->len, &d) <
		    0)
			fail_msg("%s:%u:%u: %s", d.file, d.line, d.column,
				 d.message);
		aw_policyset_free(&one);
		/* and all together validate */
		if (aw_policy_load_buffer(&set, e->name, e->data, e->len, &d) <
		    0)
			fail_msg("%s:%u:%u: %s", d.file, d.line, d.column,
				 d.message);
	}
	check_templates(&set);
	aw_policyset_free(&set);
}

/* ---- resolve and flatten ------------------------------------------------ */

static void test_resolve(void **state)
{
	struct aw_policyset set = {0};

	(void)state;
	assert_null(aw_policyset_resolve(&set, "a.b", "coding-agent"));
	load_ok(&set, "default.yaml", "version: 1\nid: default\n");
	load_ok(&set, "class.yaml",
		"version: 1\nid: class\nextends: default\n"
		"applies-to: {classes: [coding-agent, mcp-server]}\n");
	load_ok(&set, "agent.yaml",
		"version: 1\nid: agent\nextends: default\n"
		"applies-to:\n  agents: [openai.codex-cli]\n");
	/* agent > class > default */
	assert_string_equal(
	    aw_policyset_resolve(&set, "openai.codex-cli", "coding-agent")->id,
	    "agent");
	assert_string_equal(
	    aw_policyset_resolve(&set, "openai.codex-cli", NULL)->id, "agent");
	assert_string_equal(
	    aw_policyset_resolve(&set, "google.gemini-cli", "coding-agent")->id,
	    "class");
	assert_string_equal(aw_policyset_resolve(&set, NULL, "mcp-server")->id,
			    "class");
	assert_string_equal(
	    aw_policyset_resolve(&set, "x.y", "desktop-assistant")->id,
	    "default");
	assert_string_equal(aw_policyset_resolve(&set, NULL, NULL)->id,
			    "default");
	assert_null(aw_policyset_find(&set, "nope"));
	aw_policyset_free(&set);
}

static void test_flatten_order(void **state)
{
	struct aw_policyset set = {0};
	struct aw_policy_flat f = {0};
	struct aw_diag d = {0};

	(void)state;
	load_ok(&set, "default.yaml",
		"version: 1\nid: default\nmode: audit\n"
		"filesystem:\n"
		"  - {id: a, deny: [\"/a\"]}\n"
		"  - {id: b, deny: [\"/b\"]}\n"
		"  - {id: c, tmpfs: [\"/c\"]}\n"
		"process: {pids-max: 100, allow-syscalls: [ptrace]}\n");
	load_ok(&set, "mid.yaml",
		"version: 1\nid: mid\nextends: default\nremove: [b]\n"
		"filesystem:\n"
		"  - {id: a, cow: [\"/a2\", \"/a3\"]}\n"
		"  - {id: d, write: [\"/d\"]}\n"
		"process: {allow-syscalls: [], refusal-records: false}\n");
	load_ok(&set, "leaf.yaml",
		"version: 1\nid: leaf\nextends: mid\nmode: enforce\n"
		"remove: [c]\n"
		"filesystem:\n"
		"  - {id: e, escalate: [\"~/.bashrc\"]}\n"
		"  - {id: d, deny: [\"/d\"]}\n"
		"process: {pids-max: 64}\n");
	assert_int_equal(aw_policyset_validate(&set, &d), 0);

	assert_int_equal(
	    aw_policy_flatten(&set, aw_policyset_find(&set, "default"), &f, &d),
	    0);
	assert_int_equal(f.mode, 0);
	assert_int_equal(f.pids_max, 100);
	assert_int_equal(f.allow_syscalls, 1u << 0);
	assert_int_equal(f.refusal_records, 1); /* the default */
	assert_int_equal(f.n_rules, 3);
	aw_policy_flat_free(&f);

	assert_int_equal(
	    aw_policy_flatten(&set, aw_policyset_find(&set, "mid"), &f, &d), 0);
	/* inherited mode and pids-max; allow-syscalls: [] resets */
	assert_int_equal(f.mode, 0);
	assert_int_equal(f.pids_max, 100);
	assert_int_equal(f.allow_syscalls, 0);
	assert_int_equal(f.refusal_records, 0);
	/* b removed, a replaced in its place, d appended */
	assert_int_equal(f.n_rules, 3);
	assert_string_equal(f.rules[0]->id, "a");
	assert_int_equal(f.rules[0]->verb, AW_FS_COW);
	assert_int_equal(f.rules[0]->n_paths, 2);
	assert_string_equal(f.rules[0]->file, "mid.yaml");
	assert_string_equal(f.rules[1]->id, "c");
	assert_string_equal(f.rules[2]->id, "d");
	aw_policy_flat_free(&f);

	assert_int_equal(
	    aw_policy_flatten(&set, aw_policyset_find(&set, "leaf"), &f, &d),
	    0);
	assert_string_equal(f.id, "leaf");
	assert_int_equal(f.mode, 1);
	assert_int_equal(f.pids_max, 64);
	assert_int_equal(f.n_rules, 3);
	assert_string_equal(f.rules[0]->id, "a");
	assert_string_equal(f.rules[1]->id, "d");
	assert_int_equal(f.rules[1]->verb, AW_FS_DENY);
	assert_string_equal(f.rules[2]->id, "e");
	aw_policy_flat_free(&f);
	aw_policyset_free(&set);

	/* nothing in the chain sets them: enforce, 4096 */
	load_ok(&set, "default.yaml", "version: 1\nid: default\n");
	assert_int_equal(aw_policy_flatten(&set, &set.pols[0], &f, &d), 0);
	assert_int_equal(f.mode, 1);
	assert_int_equal(f.pids_max, AW_POL_PIDS_DEFAULT);
	assert_int_equal(f.n_rules, 0);
	aw_policy_flat_free(&f);
	aw_policyset_free(&set);
}

static void test_verbs(void **state)
{
	static const char doc[] =
	    "version: 1\n"
	    "id: default\n"
	    "description: \"every verb\"\n"
	    "filesystem:\n"
	    "  - id: d\n"
	    "    deny: [\"~/.ssh\", \"**/.env\", \"{env:SSH_AUTH_SOCK}\", "
	    "\"{runtime}/wayland-*\"]\n"
	    "  - id: c\n"
	    "    cow: [\"{workspace}\", \"~\"]\n"
	    "  - id: t\n"
	    "    tmpfs: [\"/tmp\"]\n"
	    "  - id: w\n"
	    "    write: [\"~/.cache/ccache\", \"/\"]\n"
	    "  - id: e\n"
	    "    escalate: [\"~/.bashrc\", \"{runtime}\", \"~/.ssh/rc\"]\n"
	    "process:\n"
	    "  allow-syscalls: [ptrace, system, io-uring]\n";
	struct aw_policyset set = {0};
	struct aw_diag d;
	const struct aw_policy *p;
	unsigned i;

	(void)state;
	load_ok(&set, "verbs.yaml", doc);
	p = &set.pols[0];
	assert_string_equal(p->description, "every verb");
	assert_int_equal(p->mode, -1);
	assert_int_equal(p->pids_max, -1);
	assert_int_equal(p->n_rules, 5);
	assert_int_equal(p->rules[0].verb, AW_FS_DENY);
	assert_int_equal(p->rules[0].n_paths, 4);
	assert_string_equal(p->rules[0].paths[1], "**/.env");
	assert_int_equal(p->rules[0].path_at[1].line, 6);
	assert_int_equal(p->rules[0].path_at[1].column, 22);
	assert_int_equal(p->rules[1].verb, AW_FS_COW);
	assert_int_equal(p->rules[2].verb, AW_FS_TMPFS);
	assert_int_equal(p->rules[3].verb, AW_FS_WRITE);
	assert_int_equal(p->rules[4].verb, AW_FS_ESCALATE);
	assert_int_equal(p->rules[4].line, 13);
	assert_int_equal(p->rules[4].column, 5);
	assert_string_equal(p->rules[4].file, "verbs.yaml");
	assert_int_equal(p->allow_syscalls, (1u << 0) | (1u << 14) | (1u << 2));
	assert_true(p->allow_syscalls_set);
	assert_int_equal(p->id_at.line, 2);
	assert_int_equal(p->id_at.column, 5);
	/* "/" writable: everything under it would be a grant under... no
	 * deny of "/" here, so it stands (the masks are mounted on top). */
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_policyset_validate(&set, &d), 0);
	aw_policyset_free(&set);

	assert_string_equal(aw_fs_verb_name(AW_FS_DENY), "deny");
	assert_string_equal(aw_fs_verb_name(AW_FS_COW), "cow");
	assert_string_equal(aw_fs_verb_name(AW_FS_TMPFS), "tmpfs");
	assert_string_equal(aw_fs_verb_name(AW_FS_WRITE), "write");
	assert_string_equal(aw_fs_verb_name(AW_FS_ESCALATE), "escalate");
	assert_string_equal(aw_fs_verb_name((enum aw_fs_verb)0), "?");
	for (i = 0; i < AW_SC_GROUPS; i++)
		assert_int_equal(aw_policy_syscall_group_find(
				     aw_policy_syscall_group_name(i)),
				 (int)i);
	assert_string_equal(aw_policy_syscall_group_name(0), "ptrace");
	assert_string_equal(aw_policy_syscall_group_name(12), "userfaultfd");
	assert_string_equal(aw_policy_syscall_group_name(14), "system");
	assert_null(aw_policy_syscall_group_name(AW_SC_GROUPS));
	assert_int_equal(aw_policy_syscall_group_find("teleport"), -ENOENT);
	assert_int_equal(aw_policy_syscall_group_find(NULL), -ENOENT);
}

/* ---- one file's diagnostics --------------------------------------------- */

struct err_case {
	const char *name;
	const char *doc;
	int err;
	unsigned line, column;
	const char *msg; /* the start of the message */
	size_t len;	 /* 0: strlen(doc) */
};

#define HEAD "version: 1\nid: t\n"
#define RULE(verb, paths)                                                      \
	HEAD "filesystem:\n  - id: r\n    " verb ": [" paths "]\n"
/* A path in RULE() is at line 5, its opening quote at column
 * 4 + strlen("VERB: [") + 1. */
#define PATH_CASE(nm, verb, path, why)                                         \
	{                                                                      \
		nm, RULE(verb, path), -EINVAL, 5, sizeof(verb) + 7,            \
		    "bad path: " why                                           \
	}

/* A network rule 'n' at line 4; its first list at line 5. A host or
 * CIDR in HOST_CASE / CIDR_CASE is at line 5, column 13 (its quote); a
 * port in PORT_CASE at line 6, column 13. */
#define NET(body) HEAD "network:\n  - id: n\n" body
#define HOST_CASE(nm, host, why)                                               \
	{                                                                      \
		nm, NET("    hosts: [\"" host "\"]\n"), -EINVAL, 5, 13,        \
		    "bad host '" host "': " why                                \
	}
#define CIDR_CASE(nm, cidr, why)                                               \
	{                                                                      \
		nm, NET("    cidrs: [\"" cidr "\"]\n"), -EINVAL, 5, 13,        \
		    "bad CIDR '" cidr "': " why                                \
	}
#define PORT_CASE(nm, port, why)                                               \
	{                                                                      \
		nm, NET("    loopback: true\n    ports: [" port "]\n"),        \
		    -EINVAL, 6, 13, why                                        \
	}

static const struct err_case err_cases[] = {
    /* structure */
    {"unknown top-level key", HEAD "filesytem: []\n", -EINVAL, 3, 1,
     "unknown key 'filesytem' in the top level (expected version, id, "
     "description, extends, applies-to, mode, remove, filesystem, "
     "network, process, computer-use)"},
    {"computer-use: not a boolean", HEAD "computer-use:\n  display: yes\n",
     -EINVAL, 4, 12, "'display' must be true or false, found 'yes'"},
    {"computer-use: a port out of range",
     HEAD "computer-use:\n  cdp-ports: [0]\n", -EINVAL, 4, 15,
     "'cdp-ports' takes ports 1-65535, found '0'"},
    {"computer-use: unknown key", HEAD "computer-use:\n  screen: true\n",
     -EINVAL, 4, 3,
     "unknown key 'screen' in 'computer-use' (expected display, input, "
     "cdp-ports)"},
    {"unknown key in a rule",
     HEAD "filesystem:\n  - id: r\n    deny: [\"/a\"]\n    comment: x\n",
     -EINVAL, 6, 5,
     "unknown key 'comment' in a rule (expected id, deny, cow, tmpfs, "
     "write, escalate, state)"},
    {"unknown key in process", HEAD "process:\n  max-pids: 10\n", -EINVAL, 4, 3,
     "unknown key 'max-pids' in 'process' (expected pids-max, "
     "allow-syscalls, notify, refusal-records)"},
    {"unknown key in applies-to", HEAD "applies-to: {agent: [a.b]}\n", -EINVAL,
     3, 14, "unknown key 'agent' in 'applies-to' (expected agents, classes)"},
    {"two verbs",
     HEAD "filesystem:\n  - id: r\n    deny: [\"/a\"]\n    cow: [\"/b\"]\n",
     -EINVAL, 6, 5,
     "rule 'r' has two verbs ('deny' and 'cow'): a rule has exactly one"},
    {"no verb", HEAD "filesystem:\n  - id: r\n", -EINVAL, 4, 5,
     "rule 'r' has no verb"},
    {"missing rule id", HEAD "filesystem:\n  - deny: [\"/a\"]\n", -EINVAL, 4, 5,
     "a rule is missing required key 'id'"},
    {"missing policy id", "version: 1\nfilesystem: []\n", -EINVAL, 1, 1,
     "the top level is missing required key 'id'"},
    {"missing version", "id: t\n", -EINVAL, 1, 1,
     "the top level is missing required key 'version'"},
    {"version 2", "version: 2\nid: t\n", -EINVAL, 1, 10,
     "unsupported version '2' (this build reads version 1)"},
    {"duplicate key", HEAD "mode: audit\nmode: enforce\n", -EINVAL, 4, 1,
     "duplicate key 'mode' in the top level (first at line 3)"},
    {"duplicate rule id",
     HEAD "filesystem:\n  - {id: r, deny: [\"/a\"]}\n"
	  "  - {id: r, cow: [\"/b\"]}\n",
     -EINVAL, 5, 5, "duplicate rule id 'r' (first at line 4)"},
    {"rule not a mapping", HEAD "filesystem: [x]\n", -EINVAL, 3, 14,
     "a rule must be a mapping, found a scalar"},
    {"filesystem not a list", HEAD "filesystem: {a: b}\n", -EINVAL, 3, 13,
     "'filesystem' must be a list, found a mapping"},
    {"no paths", RULE("deny", ""), -EINVAL, 5, 11,
     "'deny' of rule 'r' lists no paths"},
    {"path not a scalar", RULE("deny", "[\"/a\"]"), -EINVAL, 5, 12,
     "a path must be a scalar, found a list"},
    {"NUL in path", RULE("deny", "\"/a\\0b\""), -EINVAL, 5, 12,
     "a path contains a NUL byte"},
    {"bad policy id", "version: 1\nid: Default\n", -EINVAL, 2, 5,
     "bad policy id 'Default': expected [a-z0-9][a-z0-9._-]*"},
    {"bad rule id", HEAD "filesystem:\n  - {id: .x, deny: [\"/a\"]}\n", -EINVAL,
     4, 10, "bad rule id '.x'"},
    {"long id",
     "version: 1\nid: "
     "a12345678901234567890123456789012345678901234567890123456789012345\n",
     -EINVAL, 2, 5, "bad policy id"},
    {"bad agent id", HEAD "applies-to:\n  agents: [OpenAI]\n", -EINVAL, 4, 12,
     "bad agent id 'OpenAI'"},
    {"bad mode", HEAD "mode: strict\n", -EINVAL, 3, 7,
     "unknown mode 'strict' (expected audit or enforce)"},
    {"extends itself", HEAD "extends: t\n", -EINVAL, 3, 10,
     "policy 't' extends itself"},
    {"remove without extends", HEAD "remove: [a]\n", -EINVAL, 3, 9,
     "'remove' needs 'extends'"},
    {"remove and define",
     HEAD "extends: default\nremove: [r]\nfilesystem:\n"
	  "  - {id: r, deny: [\"/a\"]}\n",
     -EINVAL, 4, 10, "'r' is both removed and defined at line 6"},
    {"description control character", HEAD "description: \"a\\x1b[31m\"\n",
     -EINVAL, 3, 14, "'description' contains a control character"},
    {"empty document", "", -EINVAL, 1, 1, "empty document"},
    {"comment only", "# nothing\n", -EINVAL, 1, 1, "empty document"},
    {"top level list", "- a\n", -EINVAL, 1, 1,
     "the top level must be a mapping, found a list"},
    {"two documents", HEAD "---\n" HEAD, -EINVAL, 4, 1,
     "more than one YAML document"},
    {"syntax error", HEAD "filesystem: [a, b\n", -EINVAL, 4, 1,
     "YAML syntax error: did not find expected ',' or ']'"},
    {"tab indent", HEAD "filesystem:\n\t- id: r\n", -EINVAL, 4, 1,
     "YAML syntax error: found character that cannot start any token"},
    {"undefined alias", HEAD "mode: *m\n", -EINVAL, 3, 7,
     "YAML syntax error: found undefined alias"},
    /* YAML reads an unquoted '**' as an alias: say so at the place */
    {"unquoted star star", RULE("deny", "**/.env"), -EINVAL, 5, 13,
     "YAML syntax error: did not find expected alphabetic or numeric "
     "character"},
    /* encoding */
    {"not utf-8", HEAD "description: caf\xe9 au lait\n", -EINVAL, 3, 17,
     "not valid UTF-8: byte 0xe9 starts a cut-short sequence (policy files "
     "must be UTF-8)"},
    {"not utf-8 lead", HEAD "\xff\n", -EINVAL, 3, 1,
     "not valid UTF-8: byte 0xff cannot start a character"},
    {"not utf-8 in a path", RULE("deny", "\"/a/\xc3(\""), -EINVAL, 5, 16,
     "not valid UTF-8: byte 0xc3 starts a cut-short sequence"},
    {"utf-16 bom", "\xff\xfev\0e\0r\0", -EINVAL, 1, 1,
     "not valid UTF-8: byte 0xff cannot start a character", 8},
    {"raw control char", HEAD "mode: audit\x01\n", -EINVAL, 3, 12,
     "invalid character: control characters are not allowed"},
    /* paths */
    PATH_CASE("dot dot", "deny", "\"/a/../b\"", "'.' and '..' components"),
    PATH_CASE("dot", "cow", "\"{workspace}/./b\"", "'.' and '..' components"),
    PATH_CASE("relative", "deny", "\"a/b\"",
	      "relative path: start with '/', '~', '{workspace}' or "
	      "'{runtime}' (or '**/NAME')"),
    PATH_CASE("relative in cow", "cow", "\"src\"",
	      "relative path: start with '/', '~', '{workspace}' or "
	      "'{runtime}'"),
    PATH_CASE("control char", "deny", "\"/a\\x01b\"",
	      "control character 0x01 at byte 3"),
    PATH_CASE("delete char", "deny", "\"/a\\x7f\"",
	      "control character 0x7f at byte 3"),
    PATH_CASE("named with slash", "deny", "\"**/x/y\"",
	      "'**/NAME' takes one literal name: no '/' or '*' after '**/'"),
    PATH_CASE("named with star", "deny", "\"**/*.pem\"",
	      "'**/NAME' takes one literal name"),
    PATH_CASE("named outside deny", "cow", "\"**/.env\"",
	      "'**/NAME' is only allowed in 'deny'"),
    PATH_CASE("named escalate", "escalate", "\"**/.git\"",
	      "'**/NAME' is only allowed in 'deny'"),
    PATH_CASE("named empty", "deny", "\"**/\"", "'**/' needs a NAME"),
    PATH_CASE("star star inside", "deny", "\"/a/**/b\"",
	      "'**' is only allowed as '**/NAME' at the start of a deny path"),
    PATH_CASE("env HOME", "deny", "\"{env:HOME}\"",
	      "'{env:...}' is not supported, except '{env:SSH_AUTH_SOCK}' as a "
	      "whole path"),
    PATH_CASE("env ssh suffix", "deny", "\"{env:SSH_AUTH_SOCK}/x\"",
	      "'{env:...}' is not supported"),
    PATH_CASE("env ssh in cow", "cow", "\"{env:SSH_AUTH_SOCK}\"",
	      "'{env:SSH_AUTH_SOCK}' names the agent's ssh-agent socket"),
    PATH_CASE("unknown placeholder", "deny", "\"{home}/x\"",
	      "unknown placeholder"),
    PATH_CASE("placeholder glued", "deny", "\"{workspace}x\"",
	      "a placeholder is followed by '/' or nothing"),
    PATH_CASE("brace inside", "deny", "\"/a/{workspace}\"",
	      "'{' and '}' only belong to a leading"),
    PATH_CASE("tilde user", "deny", "\"~bob/.ssh\"",
	      "'~NAME' (another user's home) is not supported"),
    PATH_CASE("trailing slash", "deny", "\"/a/b/\"", "trailing '/'"),
    PATH_CASE("tilde slash", "deny", "\"~/\"", "trailing '/'"),
    PATH_CASE("double slash", "deny", "\"/a//b\"", "empty path component"),
    PATH_CASE("question mark", "deny", "\"/a/b?\"",
	      "'?' and '[' are not supported"),
    PATH_CASE("bracket", "deny", "\"/a/[ab]\"",
	      "'?' and '[' are not supported"),
    {"empty path", RULE("deny", "\"\""), -EINVAL, 5, 12,
     "a path must not be empty"},
    /* process */
    {"unknown syscall group",
     HEAD "process:\n  allow-syscalls: [ptrace, teleport]\n", -EINVAL, 4, 28,
     "unknown syscall group 'teleport' (expected ptrace, process-vm, "
     "io-uring, keyring, bpf, perf, mount, namespaces, modules, kexec, "
     "handles, tiocsti, userfaultfd, fanotify, system, sock-diag or "
     "socket-families)"},
    {"refusal-records not a bool", HEAD "process:\n  refusal-records: off\n",
     -EINVAL, 4, 20, "'refusal-records' must be true or false, found 'off'"},
    {"pids-max low", HEAD "process:\n  pids-max: 8\n", -EINVAL, 4, 13,
     "'pids-max' must be between 16 and 1048576, found 8"},
    {"pids-max high", HEAD "process:\n  pids-max: 1048577\n", -EINVAL, 4, 13,
     "'pids-max' must be between 16 and 1048576, found 1048577"},
    {"pids-max huge", HEAD "process:\n  pids-max: 99999999999999999999999\n",
     -EINVAL, 4, 13, "'pids-max' must be between 16 and 1048576"},
    {"pids-max negative", HEAD "process:\n  pids-max: -5\n", -EINVAL, 4, 13,
     "'pids-max' must be between 16 and 1048576, found -5"},
    {"pids-max word", HEAD "process:\n  pids-max: lots\n", -EINVAL, 4, 13,
     "'pids-max' must be an integer, found 'lots'"},
    {"pids-max float", HEAD "process:\n  pids-max: 100.5\n", -EINVAL, 4, 13,
     "'pids-max' must be an integer, found '100.5'"},
    {"pids-max hex", HEAD "process:\n  pids-max: 0x100\n", -EINVAL, 4, 13,
     "'pids-max' must be an integer"},
    {"pids-max plus", HEAD "process:\n  pids-max: +100\n", -EINVAL, 4, 13,
     "'pids-max' must be an integer"},
    {"pids-max list", HEAD "process:\n  pids-max: [1]\n", -EINVAL, 4, 13,
     "'pids-max' must be a scalar, found a list"},
    /* network: structure */
    {"network not a list", HEAD "network: {a: b}\n", -EINVAL, 3, 10,
     "'network' must be a list, found a mapping"},
    {"network rule not a mapping", HEAD "network: [x]\n", -EINVAL, 3, 11,
     "a network rule must be a mapping, found a scalar"},
    {"unknown key in a network rule",
     NET("    hosts: [\"a.com\"]\n    port: 443\n"), -EINVAL, 6, 5,
     "unknown key 'port' in a network rule (expected id, hosts, cidrs, "
     "loopback, ports, protocols)"},
    {"missing network rule id", HEAD "network:\n  - hosts: [\"a.com\"]\n",
     -EINVAL, 4, 5, "a network rule is missing required key 'id'"},
    {"bad network rule id", HEAD "network:\n  - {id: A, loopback: true}\n",
     -EINVAL, 4, 10, "bad rule id 'A'"},
    {"no destination", NET("    ports: [443]\n"), -EINVAL, 4, 5,
     "network rule 'n' allows no destination: give it hosts, cidrs or "
     "loopback: true"},
    {"loopback false alone", NET("    loopback: false\n"), -EINVAL, 4, 5,
     "network rule 'n' allows no destination"},
    {"loopback yes", NET("    loopback: yes\n"), -EINVAL, 5, 15,
     "'loopback' must be true or false, found 'yes'"},
    {"loopback list", NET("    loopback: [true]\n"), -EINVAL, 5, 15,
     "'loopback' must be a scalar, found a list"},
    {"hosts not a list", NET("    hosts: a.com\n"), -EINVAL, 5, 12,
     "'hosts' of network rule 'n' must be a list, found a scalar"},
    {"hosts empty", NET("    hosts: []\n"), -EINVAL, 5, 12,
     "'hosts' of network rule 'n' lists nothing"},
    {"cidrs empty", NET("    cidrs: []\n"), -EINVAL, 5, 12,
     "'cidrs' of network rule 'n' lists nothing"},
    {"ports empty", NET("    loopback: true\n    ports: []\n"), -EINVAL, 6, 12,
     "'ports' of network rule 'n' lists nothing (leave 'ports' out for "
     "every port)"},
    {"protocols empty", NET("    loopback: true\n    protocols: []\n"), -EINVAL,
     6, 16,
     "'protocols' of network rule 'n' lists nothing (leave 'protocols' "
     "out for tcp and udp)"},
    {"host not a scalar", NET("    hosts: [[a.com]]\n"), -EINVAL, 5, 13,
     "a host must be a scalar, found a list"},
    {"host with NUL", NET("    hosts: [\"a\\0.com\"]\n"), -EINVAL, 5, 13,
     "a host contains a NUL byte"},
    {"empty host", NET("    hosts: [\"\"]\n"), -EINVAL, 5, 13,
     "a host must not be empty"},
    {"duplicate network rule id",
     HEAD "network:\n  - {id: r, loopback: true}\n"
	  "  - {id: r, cidrs: [\"::1\"]}\n",
     -EINVAL, 5, 5, "duplicate rule id 'r' (first at line 4)"},
    {"network id of a filesystem rule",
     HEAD "filesystem:\n  - {id: r, deny: [\"/a\"]}\n"
	  "network:\n  - {id: r, loopback: true}\n",
     -EINVAL, 6, 5, "duplicate rule id 'r' (first at line 4)"},
    /* the later one in the file, wherever the sections are */
    {"filesystem id of a network rule",
     HEAD "network:\n  - {id: r, loopback: true}\n"
	  "filesystem:\n  - {id: r, deny: [\"/a\"]}\n",
     -EINVAL, 6, 5, "duplicate rule id 'r' (first at line 4)"},
    {"remove and define a network rule",
     HEAD "extends: default\nremove: [r]\nnetwork:\n"
	  "  - {id: r, loopback: true}\n",
     -EINVAL, 4, 10, "'r' is both removed and defined at line 6"},
    /* network: hosts */
    HOST_CASE("host empty label", "a..example.com", "empty label"),
    HOST_CASE("host leading dot", ".example.com", "empty label"),
    HOST_CASE("host two trailing dots", "example.com..", "empty label"),
    HOST_CASE("host only a dot", ".", "no name"),
    HOST_CASE("host not ascii",
	      "b\xc3\xbc"
	      "cher.example",
	      "not ASCII: write an internationalized name in punycode "
	      "(xn--...)"),
    HOST_CASE("host ipv4", "10.0.0.1",
	      "an IP address: use cidrs: for addresses"),
    HOST_CASE("host ipv4 short form", "127.1",
	      "an IP address: use cidrs: for addresses"),
    HOST_CASE("host ipv4 hex", "0x7f000001",
	      "an IP address: use cidrs: for addresses"),
    HOST_CASE("host ipv6", "::1", "an IP address: use cidrs: for addresses"),
    HOST_CASE("host ipv6 bracketed", "[2001:db8::1]",
	      "an IP address: use cidrs: for addresses"),
    HOST_CASE("host cidr", "10.0.0.0/8",
	      "an IP address: use cidrs: for addresses"),
    HOST_CASE("host address and port", "10.0.0.1:443",
	      "an IP address: use cidrs: for addresses"),
    HOST_CASE("host numeric top label", "example.123",
	      "the last label is all digits, which reads as an address: use "
	      "cidrs: for addresses"),
    HOST_CASE("host with port", "api.example.com:443",
	      "write the host name alone: no scheme, port or path"),
    HOST_CASE("host url", "https://api.example.com/",
	      "write the host name alone: no scheme, port or path"),
    HOST_CASE("host star alone", "*",
	      "'*' is only allowed as a leading '*.' label"),
    HOST_CASE("host star glued", "*example.com",
	      "'*' is only allowed as a leading '*.' label"),
    HOST_CASE("host star inside", "api.*.example.com",
	      "'*' is only allowed as a leading '*.' label"),
    HOST_CASE("host star in a label", "api*.example.com",
	      "'*' is only allowed as a leading '*.' label"),
    HOST_CASE("host two stars", "*.*.example.com",
	      "'*' is only allowed as a leading '*.' label"),
    HOST_CASE("host star star", "**.example.com",
	      "'*' is only allowed as a leading '*.' label"),
    HOST_CASE("host star tld", "*.com",
	      "'*.com' is too broad: '*.' needs at least two labels after it"),
    HOST_CASE("host star tld upper", "*.COM.",
	      "'*.com' is too broad: '*.' needs at least two labels after it"),
    HOST_CASE("host localhost", "LocalHost.",
	      "names the machine itself: use loopback: true"),
    HOST_CASE("host under localhost", "db.localhost",
	      "names the machine itself: use loopback: true"),
    HOST_CASE("host wildcard localhost", "*.app.localhost",
	      "names the machine itself: use loopback: true"),
    HOST_CASE("host space", "a b.com",
	      "character ' ' not allowed: labels are [a-z0-9_-]"),
    HOST_CASE("host bang", "a!b.com",
	      "character '!' not allowed: labels are [a-z0-9_-]"),
    {"host control char", NET("    hosts: [\"a\\x01b.com\"]\n"), -EINVAL, 5, 13,
     "bad host 'a?b.com': control character 0x01: labels are [a-z0-9_-]"},
    /* network: cidrs */
    CIDR_CASE("cidr host bits", "10.0.0.1/8",
	      "host bits set (the network is 10.0.0.0/8)"),
    CIDR_CASE("cidr host bits 6", "fd00::1/8",
	      "host bits set (the network is fd00::/8)"),
    CIDR_CASE("cidr host bits /31", "192.0.2.7/31",
	      "host bits set (the network is 192.0.2.6/31)"),
    CIDR_CASE("cidr v4 prefix", "10.0.0.0/33",
	      "prefix length 33: an IPv4 prefix is 0..32"),
    CIDR_CASE("cidr v6 prefix", "::/129",
	      "prefix length 129: an IPv6 prefix is 0..128"),
    CIDR_CASE("cidr no prefix", "10.0.0.0/",
	      "the prefix length after '/' must be a number 0..32"),
    CIDR_CASE("cidr prefix zero", "10.0.0.0/08",
	      "the prefix length after '/' must be a number 0..32"),
    CIDR_CASE("cidr prefix sign", "::/-1",
	      "the prefix length after '/' must be a number 0..128"),
    CIDR_CASE("cidr two slashes", "10.0.0.0/8/8",
	      "the prefix length after '/' must be a number 0..32"),
    CIDR_CASE("cidr three parts", "10.0.0/8",
	      "not an IPv4 (a.b.c.d) or IPv6 address"),
    CIDR_CASE("cidr leading zero", "010.0.0.1",
	      "not an IPv4 (a.b.c.d) or IPv6 address"),
    CIDR_CASE("cidr octet", "10.0.0.256",
	      "not an IPv4 (a.b.c.d) or IPv6 address"),
    CIDR_CASE("cidr name", "example.com",
	      "not an IPv4 (a.b.c.d) or IPv6 address"),
    CIDR_CASE("cidr zone", "fe80::1%eth0",
	      "not an IPv4 (a.b.c.d) or IPv6 address"),
    CIDR_CASE("cidr prefix only", "/8",
	      "not an IPv4 (a.b.c.d) or IPv6 address"),
    /* network: ports and protocols */
    PORT_CASE("port zero", "0", "bad port '0': ports are 1..65535"),
    PORT_CASE("port too big", "65536", "bad port '65536': ports are 1..65535"),
    PORT_CASE("port huge", "99999999999999999999",
	      "bad port '99999999999999999999': ports are 1..65535"),
    PORT_CASE("port range zero", "\"0-80\"",
	      "bad port '0-80': ports are 1..65535"),
    PORT_CASE("port range backwards", "\"9000-8000\"",
	      "bad port '9000-8000': the range is backwards (9000 > 8000)"),
    PORT_CASE("port name", "https",
	      "bad port 'https': expected a port (443) or a range "
	      "(8000-8100)"),
    PORT_CASE("port negative", "-5", "bad port '-5': expected a port"),
    PORT_CASE("port open range", "\"5-\"", "bad port '5-': expected a port"),
    PORT_CASE("port three parts", "\"1-2-3\"",
	      "bad port '1-2-3': expected a port"),
    PORT_CASE("port plus", "+443", "bad port '+443': expected a port"),
    PORT_CASE("port float", "443.0", "bad port '443.0': expected a port"),
    PORT_CASE("port in a list", "[443]",
	      "a port must be a scalar, found a list"),
    {"unknown protocol",
     NET("    loopback: true\n    protocols: [tcp, icmp]\n"), -EINVAL, 6, 22,
     "unknown protocol 'icmp' (expected tcp or udp)"},
    {"protocol upper case", NET("    loopback: true\n    protocols: [TCP]\n"),
     -EINVAL, 6, 17, "unknown protocol 'TCP' (expected tcp or udp)"},
    {"protocols too many",
     NET("    loopback: true\n    protocols: [tcp, udp, tcp]\n"), -E2BIG, 6, 16,
     "'protocols' of network rule 'n' has 3 entries, the limit is 2"},
    /* limits, small */
    {"file too big", NULL, -EFBIG, 0, 0, "file is 1048577 bytes"},
};

static void test_errors(void **state)
{
	char *big;
	size_t i;

	(void)state;
	big = malloc(AW_POL_FILE_MAX + 1);
	assert_non_null(big);
	memset(big, '#', AW_POL_FILE_MAX + 1);
	for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *c = &err_cases[i];
		const char *doc = c->doc ? c->doc : big;
		size_t len = c->doc ? (c->len ? c->len : strlen(c->doc))
				    : AW_POL_FILE_MAX + 1;
		struct aw_policyset set = {0};
		struct aw_diag d = {0};
		int r;

		r = aw_policy_load_buffer(&set, "test.yaml", doc, len, &d);
		if (r != c->err || d.line != c->line || d.column != c->column ||
		    strncmp(d.message, c->msg, strlen(c->msg)) ||
		    strcmp(d.file, "test.yaml") || set.n_pols)
			fail_msg("case '%s': got %d %s:%u:%u: %s", c->name, r,
				 d.file, d.line, d.column, d.message);
		aw_policyset_free(&set);
	}
	free(big);
}

/* A doc with n rules of m distinct paths each. */
static char *gen_rules(size_t n, size_t m)
{
	size_t cap = 64 + n * (32 + m * 16), off = 0, i, j;
	char *s = malloc(cap);

	assert_non_null(s);
	off += snprintf(s + off, cap - off, "version: 1\nid: t\nfilesystem:\n");
	for (i = 0; i < n; i++) {
		off += snprintf(s + off, cap - off, "  - id: r%zu\n    deny: [",
				i);
		for (j = 0; j < m; j++)
			off += snprintf(s + off, cap - off, "%s\"/p%zu\"",
					j ? ", " : "", j);
		off += snprintf(s + off, cap - off, "]\n");
	}
	assert_true(off < cap);
	return s;
}

static void test_limits(void **state)
{
	struct aw_policyset set = {0};
	struct aw_diag d;
	char *doc, *end;
	double t;
	size_t i;

	(void)state;
	/* 300 paths in a rule: refused before any is looked at */
	doc = gen_rules(1, 300);
	t = now();
	assert_int_equal(load(&set, "test.yaml", doc, &d), -E2BIG);
	assert_true(now() - t < 0.5);
	assert_int_equal(d.line, 5);
	assert_int_equal(d.column, 11);
	assert_string_equal(d.message,
			    "'deny' of rule 'r0' has 300 entries, the limit is "
			    "256");
	free(doc);
	/* 256 is fine */
	doc = gen_rules(1, 256);
	assert_int_equal(load(&set, "test.yaml", doc, &d), 0);
	aw_policyset_free(&set);
	free(doc);

	/* 2000 rules */
	doc = gen_rules(2000, 1);
	t = now();
	assert_int_equal(load(&set, "test.yaml", doc, &d), -E2BIG);
	assert_true(now() - t < 0.5);
	assert_int_equal(d.line, 4);
	assert_int_equal(d.column, 3);
	assert_string_equal(d.message,
			    "'filesystem' has 2000 entries, the limit is 1024");
	free(doc);

	/* a path over 4096 bytes: 42 components of 99 bytes */
	doc = malloc(8192);
	assert_non_null(doc);
	strcpy(doc, HEAD "filesystem:\n  - id: r\n    deny: [\"");
	end = doc + strlen(doc);
	for (i = 0; i < 42; i++) {
		*end++ = '/';
		memset(end, 'a', 99);
		end += 99;
	}
	strcpy(end, "\"]\n");
	assert_int_equal(load(&set, "test.yaml", doc, &d), -EINVAL);
	assert_string_equal(d.message,
			    "bad path: path is 4200 bytes, the limit is 4096");
	free(doc);

	/* too many components */
	doc = malloc(1024);
	assert_non_null(doc);
	strcpy(doc, RULE("deny", "\"/"));
	doc[strlen(doc) - 2] = 0;
	for (i = 0; i < 65; i++)
		strcat(doc, i ? "/a" : "a");
	strcat(doc, "\"]\n");
	assert_int_equal(load(&set, "test.yaml", doc, &d), -EINVAL);
	assert_string_equal(d.message,
			    "bad path: path has more than 64 components");
	free(doc);

	/* 64 policies in a set, not 65 */
	for (i = 0; i < AW_POL_SET_MAX; i++) {
		char buf[64];

		snprintf(buf, sizeof(buf), "version: 1\nid: p%zu\n", i);
		load_ok(&set, "many.yaml", buf);
	}
	assert_int_equal(
	    load(&set, "more.yaml", "version: 1\nid: one-more\n", &d), -E2BIG);
	assert_string_equal(d.message, "more than 64 policies in the set");
	assert_int_equal(set.n_pols, AW_POL_SET_MAX);
	aw_policyset_free(&set);

	/* the same id twice */
	load_ok(&set, "a.yaml", "version: 1\nid: a\n");
	assert_int_equal(load(&set, "b.yaml", "# b\nversion: 1\nid: a\n", &d),
			 -EINVAL);
	assert_string_equal(d.file, "b.yaml");
	assert_int_equal(d.line, 3);
	assert_int_equal(d.column, 5);
	assert_string_equal(d.message,
			    "duplicate policy id 'a' (first defined at "
			    "a.yaml:2:5)");
	assert_int_equal(set.n_pols, 1);
	aw_policyset_free(&set);
}

/* Aliases point at nodes, they do not copy them: refused, or bounded. */
static void test_alias_bomb(void **state)
{
	struct aw_policyset set = {0};
	struct aw_diag d;
	char *doc;
	size_t cap = 4 << 20, off = 0, i, j;
	double t;

	(void)state;
	/* billion laughs, nested: the schema has no place for a list in a
	 * list, the first nesting is refused */
	doc = malloc(cap);
	assert_non_null(doc);
	off += snprintf(doc + off, cap - off,
			"version: 1\nid: t\nfilesystem:\n  - id: r\n"
			"    deny: &a [\"/lol\", \"/lol\", \"/lol\", \"/lol\", "
			"\"/lol\", \"/lol\", \"/lol\", \"/lol\", \"/lol\", "
			"\"/lol\"]\n");
	for (i = 0; i < 9; i++) {
		off += snprintf(doc + off, cap - off,
				"  - id: r%zu\n    deny: &%c [", i,
				(char)('b' + i));
		for (j = 0; j < 10; j++)
			off += snprintf(doc + off, cap - off, "%s*%c",
					j ? ", " : "", (char)('a' + i));
		off += snprintf(doc + off, cap - off, "]\n");
	}
	t = now();
	assert_int_equal(load(&set, "lol.yaml", doc, &d), -EINVAL);
	assert_true(now() - t < 0.5);
	/* (libyaml keeps no place for an alias: the place is the aliased
	 * node's, the list at line 5) */
	assert_int_equal(d.line, 5);
	assert_string_equal(d.message, "a path must be a scalar, found a list");

	/* wide: 1024 rules all pointing at one list of 256 long paths would
	 * be 1 GiB of copies from a few hundred KiB of text */
	off = 0;
	off += snprintf(doc + off, cap - off,
			"version: 1\nid: t\nfilesystem:\n  - id: r0\n"
			"    deny: &p [");
	for (j = 0; j < 256; j++) {
		off += snprintf(doc + off, cap - off, "%s\"", j ? ", " : "");
		for (i = 0; i < 4; i++) {
			doc[off++] = '/';
			memset(doc + off, 'x', 250);
			off += 250;
		}
		off += snprintf(doc + off, cap - off, "%zu\"", j);
	}
	off += snprintf(doc + off, cap - off, "]\n");
	for (i = 1; i < 1024; i++)
		off += snprintf(doc + off, cap - off,
				"  - {id: r%zu, deny: *p}\n", i);
	assert_true(off < AW_POL_FILE_MAX);
	t = now();
	assert_int_equal(load(&set, "wide.yaml", doc, &d), -E2BIG);
	assert_true(now() - t < 1.0);
	/* at the aliased list: the place libyaml keeps */
	assert_int_equal(d.line, 5);
	assert_string_equal(
	    d.message, "the document expands to more than 1048576 bytes of "
		       "text (aliases repeating lists?)");
	assert_int_equal(set.n_pols, 0);

	/* a list that contains itself */
	assert_int_equal(
	    load(&set, "self.yaml", HEAD "filesystem: &s [*s]\n", &d), -EINVAL);
	assert_int_equal(load(&set, "self.yaml",
			      HEAD "filesystem:\n  - &r {id: r, deny: [*r]}\n",
			      &d),
			 -EINVAL);
	/* aliases used sensibly are fine */
	load_ok(&set, "ok.yaml",
		HEAD "filesystem:\n  - {id: a, deny: &x [\"/a\", \"/b\"]}\n"
		     "  - {id: b, escalate: *x}\n");
	assert_int_equal(set.pols[0].rules[1].n_paths, 2);
	aw_policyset_free(&set);
	free(doc);
}

/* ---- network ------------------------------------------------------------ */

static void assert_cidr(const struct aw_net_cidr *c, const char *addr6,
			unsigned prefix)
{
	uint8_t want[16];

	assert_int_equal(inet_pton(AF_INET6, addr6, want), 1);
	assert_memory_equal(c->addr, want, 16);
	assert_int_equal(c->prefix, prefix);
}

static void test_network_parse(void **state)
{
	static const char doc[] =
	    "version: 1\n"
	    "id: default\n"
	    "network:\n"
	    "  - id: openai.api\n"
	    "    hosts: [\"API.OpenAI.com.\", \"*.ChatGPT.com\", "
	    "\"_srv.x-y.example\"]\n"
	    "    cidrs: [\"10.0.0.0/8\", \"fd00::/8\", \"192.0.2.7\", "
	    "\"2001:db8::1\", \"0.0.0.0/0\", \"::/0\", "
	    "\"::ffff:10.1.0.0/112\"]\n"
	    "    ports: [443, \"8000-8100\", 1, 65535, \"7-7\"]\n"
	    "  - id: local\n"
	    "    loopback: true\n"
	    "    protocols: [udp]\n"
	    "  - id: both\n"
	    "    cidrs: [\"127.0.0.0/8\"]\n"
	    "    loopback: false\n"
	    "    protocols: [udp, tcp]\n";
	struct aw_policyset set = {0};
	const struct aw_net_rule *r;
	const struct aw_policy *p;
	char l63[64], name[512];
	struct aw_diag d;

	(void)state;
	load_ok(&set, "net.yaml", doc);
	p = &set.pols[0];
	assert_int_equal(p->has_network, 1);
	assert_int_equal(p->n_rules, 0);
	assert_int_equal(p->n_net_rules, 3);

	r = &p->net_rules[0];
	assert_string_equal(r->id, "openai.api");
	assert_string_equal(r->file, "net.yaml");
	assert_int_equal(r->line, 4);
	assert_int_equal(r->column, 5);
	/* normalized: lowercase, the trailing dot gone */
	assert_int_equal(r->n_hosts, 3);
	assert_string_equal(r->hosts[0], "api.openai.com");
	assert_string_equal(r->hosts[1], "*.chatgpt.com");
	assert_string_equal(r->hosts[2], "_srv.x-y.example");
	/* IPv4 v4-mapped with prefix + 96 */
	assert_int_equal(r->n_cidrs, 7);
	assert_cidr(&r->cidrs[0], "::ffff:10.0.0.0", 104);
	assert_cidr(&r->cidrs[1], "fd00::", 8);
	assert_cidr(&r->cidrs[2], "::ffff:192.0.2.7", 128);
	assert_cidr(&r->cidrs[3], "2001:db8::1", 128);
	assert_cidr(&r->cidrs[4], "::ffff:0.0.0.0", 96);
	assert_cidr(&r->cidrs[5], "::", 0);
	assert_cidr(&r->cidrs[6], "::ffff:10.1.0.0", 112);
	assert_int_equal(r->loopback, 0);
	assert_int_equal(r->n_ports, 5);
	assert_int_equal(r->ports[0].lo, 443);
	assert_int_equal(r->ports[0].hi, 443);
	assert_int_equal(r->ports[1].lo, 8000);
	assert_int_equal(r->ports[1].hi, 8100);
	assert_int_equal(r->ports[2].lo, 1);
	assert_int_equal(r->ports[3].hi, 65535);
	assert_int_equal(r->ports[4].lo, 7);
	assert_int_equal(r->ports[4].hi, 7);
	/* default: both protocols */
	assert_int_equal(r->protocols, AW_NET_TCP | AW_NET_UDP);

	r = &p->net_rules[1];
	assert_int_equal(r->loopback, 1);
	assert_int_equal(r->n_hosts + r->n_cidrs, 0);
	assert_null(r->ports);
	assert_int_equal(r->n_ports, 0);
	assert_int_equal(r->protocols, AW_NET_UDP);
	r = &p->net_rules[2];
	assert_int_equal(r->loopback, 0);
	assert_int_equal(r->protocols, AW_NET_TCP | AW_NET_UDP);
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_policyset_validate(&set, &d), 0);
	aw_policyset_free(&set);

	/* `network: []`: confined, no rules; no key: not confined */
	load_ok(&set, "a.yaml", "version: 1\nid: a\nnetwork: []\n");
	load_ok(&set, "b.yaml", "version: 1\nid: b\n");
	assert_int_equal(set.pols[0].has_network, 1);
	assert_int_equal(set.pols[0].n_net_rules, 0);
	assert_int_equal(set.pols[1].has_network, 0);
	aw_policyset_free(&set);

	/* a name of 253 bytes (254 with its dot) is fine, 254 is not; a
	 * label of 63 is fine, 64 is not */
	memset(l63, 'a', 63);
	l63[63] = 0;
	snprintf(name, sizeof(name),
		 HEAD "network:\n  - {id: n, hosts: [\"%s.%s.%s.%.61s.\"]}\n",
		 l63, l63, l63, l63);
	load_ok(&set, "long.yaml", name);
	assert_int_equal(strlen(set.pols[0].net_rules[0].hosts[0]), 253);
	aw_policyset_free(&set);
	snprintf(name, sizeof(name),
		 HEAD "network:\n  - {id: n, hosts: [\"%s.%s.%s.%.62s\"]}\n",
		 l63, l63, l63, l63);
	assert_int_equal(load(&set, "long.yaml", name, &d), -EINVAL);
	assert_int_equal(d.line, 4);
	assert_int_equal(d.column, 21);
	assert_non_null(strstr(d.message, "': name of 254 bytes, the limit is "
					  "253"));
	snprintf(name, sizeof(name),
		 HEAD "network:\n  - {id: n, hosts: [\"%sa.com\"]}\n", l63);
	assert_int_equal(load(&set, "long.yaml", name, &d), -EINVAL);
	assert_non_null(strstr(d.message, "': label of 64 bytes, the limit is "
					  "63"));
	assert_int_equal(set.n_pols, 0);
}

static void test_network_match(void **state)
{
	static const struct {
		const char *pattern, *name;
		int match;
	} cases[] = {
	    {"api.example.com", "api.example.com", 1},
	    {"api.example.com", "API.Example.COM", 1},
	    {"api.example.com", "api.example.com.", 1},
	    {"api.example.com", "example.com", 0},
	    {"api.example.com", "x.api.example.com", 0},
	    {"api.example.com", "api.example.com.evil.net", 0},
	    {"api.example.com", "api.example.co", 0},
	    {"api.example.com", "", 0},
	    {"*.example.com", "a.example.com", 1},
	    {"*.example.com", "A.Example.Com.", 1},
	    {"*.example.com", "a.b.example.com", 1},
	    {"*.example.com", "_x.example.com", 1},
	    /* the pitfalls */
	    {"*.example.com", "example.com", 0},
	    {"*.example.com", "example.com.", 0},
	    {"*.example.com", "evil-example.com", 0},
	    {"*.example.com", "evilexample.com", 0},
	    {"*.example.com", "example.com.evil.net", 0},
	    {"*.example.com", "a.example.com.evil.net", 0},
	    {"*.example.com", ".example.com", 0},
	    {"*.example.com", "a..example.com", 0},
	    {"*.example.com", "a..b.example.com", 0},
	    {"*.example.com", "*.example.com", 1},
	    {"*.example.com", "", 0},
	    {"*.example.com", ".", 0},
	    /* patterns the parser never stores match nothing odd */
	    {"*", "a.com", 0},
	    {"*.", "a.com", 0},
	    {"*x.com", "ax.com", 0},
	    {"", "", 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (aw_net_host_match(cases[i].pattern, cases[i].name) !=
		    cases[i].match)
			fail_msg("'%s' against '%s': expected %d",
				 cases[i].pattern, cases[i].name,
				 cases[i].match);
	assert_int_equal(aw_net_host_match(NULL, "a.com"), 0);
	assert_int_equal(aw_net_host_match("a.com", NULL), 0);
}

static void test_network_ports(void **state)
{
	struct aw_policyset set = {0};
	const struct aw_net_rule *r;

	(void)state;
	load_ok(&set, "ports.yaml",
		HEAD
		"network:\n"
		"  - {id: all, loopback: true}\n"
		"  - {id: some, loopback: true, ports: [443, \"8000-8100\"],"
		" protocols: [tcp]}\n"
		"  - {id: dns, loopback: true, ports: [53], "
		"protocols: [udp]}\n");
	r = &set.pols[0].net_rules[0];
	assert_int_equal(aw_net_rule_allows_port(r, AW_NET_TCP, 1), 1);
	assert_int_equal(aw_net_rule_allows_port(r, AW_NET_UDP, 65535), 1);
	/* port 0 never; one protocol bit at a time */
	assert_int_equal(aw_net_rule_allows_port(r, AW_NET_TCP, 0), 0);
	assert_int_equal(aw_net_rule_allows_port(r, 0, 443), 0);
	assert_int_equal(
	    aw_net_rule_allows_port(r, AW_NET_TCP | AW_NET_UDP, 443), 0);
	assert_int_equal(aw_net_rule_allows_port(r, 4, 443), 0);
	r = &set.pols[0].net_rules[1];
	assert_int_equal(aw_net_rule_allows_port(r, AW_NET_TCP, 443), 1);
	assert_int_equal(aw_net_rule_allows_port(r, AW_NET_TCP, 8000), 1);
	assert_int_equal(aw_net_rule_allows_port(r, AW_NET_TCP, 8050), 1);
	assert_int_equal(aw_net_rule_allows_port(r, AW_NET_TCP, 8100), 1);
	assert_int_equal(aw_net_rule_allows_port(r, AW_NET_TCP, 7999), 0);
	assert_int_equal(aw_net_rule_allows_port(r, AW_NET_TCP, 8101), 0);
	assert_int_equal(aw_net_rule_allows_port(r, AW_NET_TCP, 444), 0);
	assert_int_equal(aw_net_rule_allows_port(r, AW_NET_UDP, 443), 0);
	r = &set.pols[0].net_rules[2];
	assert_int_equal(aw_net_rule_allows_port(r, AW_NET_UDP, 53), 1);
	assert_int_equal(aw_net_rule_allows_port(r, AW_NET_TCP, 53), 0);
	assert_int_equal(aw_net_rule_allows_port(NULL, AW_NET_TCP, 53), 0);
	aw_policyset_free(&set);
}

static void test_network_flatten(void **state)
{
	struct aw_policyset set = {0};
	struct aw_policy_flat f = {0};
	struct aw_diag d = {0};

	(void)state;
	/* no `network:` anywhere: not confined */
	load_ok(&set, "default.yaml",
		"version: 1\nid: default\n"
		"filesystem:\n  - {id: fs, deny: [\"/a\"]}\n");
	load_ok(&set, "open.yaml", "version: 1\nid: open\nextends: default\n");
	/* a child may confine an unconfined parent */
	load_ok(&set, "shut.yaml",
		"version: 1\nid: shut\nextends: default\nnetwork: []\n");
	load_ok(&set, "base.yaml",
		"version: 1\nid: base\nextends: default\n"
		"network:\n"
		"  - {id: a, hosts: [\"a.example.com\"]}\n"
		"  - {id: b, hosts: [\"b.example.com\"]}\n"
		"  - {id: c, loopback: true}\n");
	load_ok(&set, "mid.yaml",
		"version: 1\nid: mid\nextends: base\nremove: [b, fs]\n"
		"network:\n"
		"  - {id: a, cidrs: [\"10.0.0.0/8\"], ports: [22]}\n"
		"  - {id: d, hosts: [\"d.example.com\"]}\n");
	/* no key of its own: inherits the rules and the confinement */
	load_ok(&set, "leaf.yaml",
		"version: 1\nid: leaf\nextends: mid\nremove: [c]\n");
	load_ok(&set, "empty.yaml",
		"version: 1\nid: empty\nextends: mid\nnetwork: []\n");
	assert_int_equal(aw_policyset_validate(&set, &d), 0);

#define FLAT(id)                                                               \
	assert_int_equal(                                                      \
	    aw_policy_flatten(&set, aw_policyset_find(&set, id), &f, &d), 0)
	FLAT("default");
	assert_int_equal(f.has_network, 0);
	assert_int_equal(f.n_net_rules, 0);
	aw_policy_flat_free(&f);
	FLAT("open");
	assert_int_equal(f.has_network, 0);
	aw_policy_flat_free(&f);
	FLAT("shut");
	assert_int_equal(f.has_network, 1);
	assert_int_equal(f.n_net_rules, 0);
	assert_int_equal(f.n_rules, 1);
	aw_policy_flat_free(&f);

	FLAT("base");
	assert_int_equal(f.has_network, 1);
	assert_int_equal(f.n_net_rules, 3);
	assert_string_equal(f.net_rules[0]->id, "a");
	assert_string_equal(f.net_rules[2]->id, "c");
	aw_policy_flat_free(&f);

	/* b removed (and the filesystem rule fs, by the same remove), a
	 * replaced in its place, d appended */
	FLAT("mid");
	assert_int_equal(f.has_network, 1);
	assert_int_equal(f.n_rules, 0);
	assert_int_equal(f.n_net_rules, 3);
	assert_string_equal(f.net_rules[0]->id, "a");
	assert_int_equal(f.net_rules[0]->n_hosts, 0);
	assert_int_equal(f.net_rules[0]->n_cidrs, 1);
	assert_string_equal(f.net_rules[0]->file, "mid.yaml");
	assert_int_equal(f.net_rules[0]->ports[0].lo, 22);
	assert_string_equal(f.net_rules[1]->id, "c");
	assert_string_equal(f.net_rules[2]->id, "d");
	aw_policy_flat_free(&f);

	FLAT("leaf");
	assert_int_equal(f.has_network, 1);
	assert_int_equal(f.n_net_rules, 2);
	assert_string_equal(f.net_rules[0]->id, "a");
	assert_string_equal(f.net_rules[1]->id, "d");
	aw_policy_flat_free(&f);

	/* `network: []` in a child adds nothing and takes nothing away */
	FLAT("empty");
	assert_int_equal(f.has_network, 1);
	assert_int_equal(f.n_net_rules, 3);
	aw_policy_flat_free(&f);
#undef FLAT
	aw_policyset_free(&set);
}

/* ---- whole-set checks --------------------------------------------------- */

struct set_case {
	const char *name;
	const char *docs[4]; /* file name, then text; pairs */
	const char *file;
	unsigned line, column;
	const char *msg;
};

#define DEFAULT_DOC                                                            \
	"version: 1\nid: default\nfilesystem:\n"                               \
	"  - id: secrets\n"                                                    \
	"    deny: [\"~/.ssh\", \"**/.env\", \"{runtime}/wayland-*\"]\n"       \
	"  - id: workspace\n"                                                  \
	"    cow: [\"{workspace}\"]\n"                                         \
	"  - id: scratch\n"                                                    \
	"    tmpfs: [\"/tmp\"]\n"

#define CHILD(body) "version: 1\nid: child\nextends: default\n" body

static const struct set_case set_cases[] = {
    {"missing default",
     {"a.yaml", "version: 1\nid: a\n"},
     "policy set",
     0,
     0,
     "no policy with id 'default' (the one every agent without a policy of "
     "its own gets)"},
    {"extends unknown",
     {"default.yaml", DEFAULT_DOC, "child.yaml",
      "version: 1\nid: child\nextends: nosuch\n"},
     "child.yaml",
     3,
     10,
     "'child' extends unknown policy 'nosuch'"},
    {"extends loop",
     {"default.yaml", "version: 1\nid: default\nextends: b\n", "b.yaml",
      "version: 1\nid: b\nextends: default\n"},
     "default.yaml",
     3,
     10,
     "extends loop: default -> b -> default"},
    {"applies-to twice",
     {"a.yaml", "version: 1\nid: default\napplies-to:\n  agents: [x.y, z.w]\n",
      "b.yaml", "version: 1\nid: b\napplies-to: {agents: [z.w]}\n"},
     "b.yaml",
     3,
     23,
     "agent 'z.w' is in applies-to of policies 'b' and 'default' "
     "(a.yaml:4:17): which one would it get?"},
    {"class twice",
     {"a.yaml",
      "version: 1\nid: default\napplies-to: {classes: [mcp-server]}\n",
      "b.yaml", "version: 1\nid: b\napplies-to: {classes: [mcp-server]}\n"},
     "b.yaml",
     3,
     24,
     "class 'mcp-server' is in applies-to of policies 'b' and 'default'"},
    {"contradiction in one file",
     {"default.yaml", "version: 1\nid: default\nfilesystem:\n"
		      "  - {id: x, deny: [\"/a\"]}\n"
		      "  - {id: y, cow: [\"/b\", \"/a\"]}\n"},
     "default.yaml",
     5,
     25,
     "'/a' is cow here (rule y) and deny in rule x (default.yaml:4:20): "
     "one path, one verb"},
    {"contradiction with the parent",
     {"default.yaml", DEFAULT_DOC, "child.yaml",
      CHILD("filesystem:\n  - {id: c, escalate: [\"/tmp\"]}\n")},
     "child.yaml",
     5,
     24,
     "'/tmp' is escalate here (rule c) and tmpfs in rule scratch "
     "(default.yaml:9:13): one path, one verb"},
    {"grant under deny",
     {"default.yaml", DEFAULT_DOC, "child.yaml",
      CHILD("filesystem:\n  - {id: keys, write: [\"~/.ssh/keys\"]}\n")},
     "child.yaml",
     5,
     24,
     "write '~/.ssh/keys' (rule keys) is inside '~/.ssh', denied by rule "
     "secrets (default.yaml:5:12): a grant in a masked tree cannot be "
     "honoured"},
    {"grant under glob deny",
     {"default.yaml", DEFAULT_DOC, "child.yaml",
      CHILD("filesystem:\n  - {id: w, tmpfs: [\"{runtime}/wayland-0/x\"]}\n")},
     "child.yaml",
     5,
     21,
     "tmpfs '{runtime}/wayland-0/x' (rule w) is inside "
     "'{runtime}/wayland-*', denied by rule secrets"},
    {"grant glob at deny",
     {"default.yaml", "version: 1\nid: default\nfilesystem:\n"
		      "  - {id: k, deny: [\"~/.config/gh\"]}\n"
		      "  - {id: c, write: [\"~/.config/*\"]}\n"},
     "default.yaml",
     5,
     21,
     "write '~/.config/*' (rule c) is inside '~/.config/gh', denied by "
     "rule k"},
    {"grant under named deny",
     {"default.yaml", DEFAULT_DOC, "child.yaml",
      CHILD("filesystem:\n  - {id: e, cow: [\"{workspace}/.env\"]}\n")},
     "child.yaml",
     5,
     19,
     "cow '{workspace}/.env' (rule e) is inside '**/.env', denied by rule "
     "secrets"},
    {"deny over inherited grant",
     {"default.yaml", DEFAULT_DOC, "child.yaml",
      CHILD("filesystem:\n  - {id: all, deny: [\"/\"]}\n")},
     "child.yaml",
     5,
     22,
     "deny '/' (rule all) masks tmpfs '/tmp' of rule scratch "
     "(default.yaml:9:13)"},
    {"network rule with an inherited filesystem rule's id",
     {"default.yaml", DEFAULT_DOC, "child.yaml",
      CHILD("network:\n  - {id: secrets, loopback: true}\n")},
     "child.yaml",
     5,
     5,
     "network rule 'secrets' has the id of inherited filesystem rule "
     "(default.yaml:4:5): filesystem and network rule ids are one "
     "namespace (remove: names either)"},
    {"filesystem rule with an inherited network rule's id",
     {"default.yaml",
      "version: 1\nid: default\nnetwork:\n"
      "  - {id: api, hosts: [\"a.com\"]}\n",
      "child.yaml", CHILD("filesystem:\n  - {id: api, deny: [\"/a\"]}\n")},
     "child.yaml",
     5,
     5,
     "filesystem rule 'api' has the id of inherited network rule "
     "(default.yaml:4:5)"},
    {"remove unknown network rule",
     {"default.yaml",
      "version: 1\nid: default\nnetwork:\n"
      "  - {id: api, hosts: [\"a.com\"]}\n",
      "child.yaml", CHILD("remove: [api, apj]\n")},
     "child.yaml",
     4,
     15,
     "remove: 'apj' is not a rule of 'default'"},
    {"remove unknown",
     {"default.yaml", DEFAULT_DOC, "child.yaml", CHILD("remove: [secret]\n")},
     "child.yaml",
     4,
     10,
     "remove: 'secret' is not a rule of 'default' (or what it extends)"},
};

static void test_set_errors(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(set_cases) / sizeof(set_cases[0]); i++) {
		const struct set_case *c = &set_cases[i];
		struct aw_policyset set = {0};
		struct aw_diag d = {0};
		int r;

		for (j = 0; j < 4 && c->docs[j]; j += 2)
			load_ok(&set, c->docs[j], c->docs[j + 1]);
		r = aw_policyset_validate(&set, &d);
		if (r != -EINVAL || d.line != c->line ||
		    d.column != c->column || strcmp(d.file, c->file) ||
		    strncmp(d.message, c->msg, strlen(c->msg)))
			fail_msg("case '%s': got %d %s:%u:%u: %s", c->name, r,
				 d.file, d.line, d.column, d.message);
		aw_policyset_free(&set);
	}
}

static void test_set_ok(void **state)
{
	struct aw_policyset set = {0};
	struct aw_policy_flat f;
	struct aw_diag d = {0};
	char buf[128];
	int i;

	(void)state;
	load_ok(&set, "default.yaml", DEFAULT_DOC);
	/* masks inside grants, escalate inside masks, the same path under
	 * one verb twice: all fine */
	load_ok(&set, "child.yaml",
		CHILD("filesystem:\n"
		      "  - {id: home, cow: [\"~\"]}\n"
		      "  - {id: p, escalate: [\"~/.ssh/authorized_keys\"]}\n"
		      "  - {id: d, deny: [\"/tmp/.X11-unix\", \"~/.ssh\"]}\n"
		      "  - {id: w, write: [\"{runtime}/wayland\", "
		      "\"{workspace}/env\", \"~/.sshd\"]}\n"));
	assert_int_equal(aw_policyset_validate(&set, &d), 0);
	aw_policyset_free(&set);

	/* a chain 8 deep is fine, 9 is not */
	load_ok(&set, "default.yaml", "version: 1\nid: default\n");
	for (i = 1; i <= 8; i++) {
		snprintf(buf, sizeof(buf), "version: 1\nid: p%d\nextends: %s\n",
			 i, i == 1 ? "default" : "");
		if (i > 1)
			snprintf(buf, sizeof(buf),
				 "version: 1\nid: p%d\nextends: p%d\n", i,
				 i - 1);
		load_ok(&set, "chain.yaml", buf);
	}
	assert_int_equal(aw_policyset_validate(&set, &d), 0);
	assert_int_equal(
	    aw_policy_flatten(&set, aw_policyset_find(&set, "p8"), &f, &d), 0);
	aw_policy_flat_free(&f);
	load_ok(&set, "deep.yaml", "version: 1\nid: p9\nextends: p8\n");
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_policyset_validate(&set, &d), -EINVAL);
	assert_string_equal(d.message,
			    "extends chain of 'p9' is deeper than 8 policies");
	assert_int_equal(d.line, 3);
	memset(&d, 0, sizeof(d));
	assert_int_equal(
	    aw_policy_flatten(&set, aw_policyset_find(&set, "p9"), &f, &d),
	    -EINVAL);
	aw_policyset_free(&set);
}

/* ---- files and directories ---------------------------------------------- */

static char tmpdir[64];

static int tmp_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/aw-test-policy-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	return chmod(tmpdir, 0755);
}

static int tmp_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const char *text, mode_t mode)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	/* explicitly: the umask would hide what is tested */
	assert_int_equal(chmod(path, mode), 0);
}

static void test_ownership(void **state)
{
	struct aw_policyset set = {0};
	struct aw_diag d;
	char path[256], msg[64];

	(void)state;
	write_file("default.yaml", "version: 1\nid: default\n", 0666);
	snprintf(path, sizeof(path), "%s/default.yaml", tmpdir);

	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_policy_load_file(&set, path, &d), -EPERM);
	assert_string_equal(d.file, path);
	assert_int_equal(d.line, 0);
	assert_string_equal(d.message,
			    "writable by others (mode 0666): refusing");
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_policy_load_dir(&set, tmpdir, &d), -EPERM);
	assert_string_equal(d.file, path);
	assert_int_equal(set.n_pols, 0);

	assert_int_equal(chmod(path, 0620), 0);
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_policy_load_file(&set, path, &d), -EPERM);
	assert_string_equal(d.message,
			    "writable by others (mode 0620): refusing");

	/* the caller can waive the check (a source tree, tests) */
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_policy_load_file_flags(
			     &set, path, AW_POLICY_LOAD_NO_OWNER_CHECK, &d),
			 0);
	aw_policyset_free(&set);

	assert_int_equal(chmod(path, 0644), 0);
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_policy_load_file(&set, path, &d), 0);
	aw_policyset_free(&set);
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_policy_load_dir(&set, tmpdir, &d), 0);
	assert_int_equal(set.n_pols, 1);
	aw_policyset_free(&set);

	/* the directory itself */
	assert_int_equal(chmod(tmpdir, 0777), 0);
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_policy_load_dir(&set, tmpdir, &d), -EPERM);
	assert_string_equal(d.file, tmpdir);
	assert_string_equal(d.message,
			    "writable by others (mode 0777): refusing");
	assert_int_equal(chmod(tmpdir, 01777), 0);
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_policy_load_dir(&set, tmpdir, &d), -EPERM);
	assert_string_equal(d.message,
			    "writable by others (mode 1777): refusing");
	assert_int_equal(chmod(tmpdir, 0755), 0);

	/* someone else's file (needs root to make one) */
	if (geteuid() == 0) {
		assert_int_equal(chown(path, 4242, 4242), 0);
		memset(&d, 0, sizeof(d));
		assert_int_equal(aw_policy_load_file(&set, path, &d), -EPERM);
		snprintf(msg, sizeof(msg),
			 "owned by uid 4242, not root or uid %u: refusing",
			 (unsigned)geteuid());
		assert_string_equal(d.message, msg);
		assert_int_equal(chown(path, 0, 0), 0);
	}
	assert_int_equal(set.n_pols, 0);
	assert_int_equal(unlink(path), 0);
}

static void test_dir(void **state)
{
	struct aw_policyset set = {0};
	struct aw_diag d;
	char path[256];

	(void)state;
	/* no default in the directory, none loaded before */
	write_file("site.yaml", "version: 1\nid: site\nextends: default\n",
		   0644);
	write_file(".hidden.yaml", "garbage: [", 0644);
	write_file("notes.txt", "garbage: [", 0644);
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_policy_load_dir(&set, tmpdir, &d), -EINVAL);
	assert_string_equal(d.file, tmpdir);
	assert_string_equal(d.message,
			    "no policy with id 'default' (the one every agent "
			    "without a policy of its own gets)");
	assert_int_equal(set.n_pols, 0);
	/* with one loaded before (the embedded templates): site policies
	 * add to it */
	load_ok(&set, "embedded:default.yaml", "version: 1\nid: default\n");
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_policy_load_dir(&set, tmpdir, &d), 0);
	assert_int_equal(set.n_pols, 2);
	assert_int_equal(aw_policyset_validate(&set, &d), 0);

	/* all or nothing: a broken file leaves the set as it was */
	write_file("zz.yaml", "version: 1\nid: zz\nmode: sometimes\n", 0644);
	write_file("aa.yaml", "version: 1\nid: aa\n", 0644);
	memset(&d, 0, sizeof(d));
	aw_policyset_free(&set);
	load_ok(&set, "embedded:default.yaml", "version: 1\nid: default\n");
	assert_int_equal(aw_policy_load_dir(&set, tmpdir, &d), -EINVAL);
	snprintf(path, sizeof(path), "%s/zz.yaml", tmpdir);
	assert_string_equal(d.file, path);
	assert_int_equal(d.line, 3);
	assert_int_equal(d.column, 7);
	assert_int_equal(set.n_pols, 1);
	/* a clash with what was loaded before */
	write_file("zz.yaml", "version: 1\nid: default\n", 0644);
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_policy_load_dir(&set, tmpdir, &d), -EINVAL);
	assert_string_equal(d.file, path);
	assert_string_equal(d.message,
			    "duplicate policy id 'default' (first defined at "
			    "embedded:default.yaml:2:5)");
	assert_int_equal(set.n_pols, 1);
	aw_policyset_free(&set);

	/* a directory that is not there, a file that is not regular */
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_policy_load_dir(&set, "/nonexistent/aw", &d),
			 -ENOENT);
	assert_string_equal(d.message,
			    "cannot open directory: No such file or directory");
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_policy_load_file(&set, tmpdir, &d), -EINVAL);
	assert_string_equal(d.message, "not a regular file");

	unlink(path);
	snprintf(path, sizeof(path), "%s/aa.yaml", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/site.yaml", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/.hidden.yaml", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/notes.txt", tmpdir);
	unlink(path);
}

struct collected {
	char lines[32][320];
	int n;
};

static void collect(void *ud, const struct aw_diag *d)
{
	struct collected *c = ud;

	if (c->n < 32)
		aw_diag_format(d, c->lines[c->n], sizeof(c->lines[0]));
	c->n++;
}

static bool has_line(const struct collected *c, const char *s)
{
	for (int i = 0; i < c->n && i < 32; i++)
		if (strstr(c->lines[i], s))
			return true;
	return false;
}

static void dump(const struct collected *c)
{
	for (int i = 0; i < c->n && i < 32; i++)
		print_message("# %s\n", c->lines[i]);
}

static void test_check_all(void **state)
{
	struct aw_policyset set = {0};
	struct collected c = {0};
	char dir[128], file[256], want[512];
	const char *args[2];
	int n, i;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/d", tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	/* every problem of a file, not only the first */
	write_file("d/a.yaml",
		   "version: 1\n"
		   "id: a\n"
		   "extends: nosuch\n"
		   "colour: blue\n"
		   "filesystem:\n"
		   "  - id: r\n"
		   "    deny: [\"rel\", \"/ok\", \"/x/../y\"]\n"
		   "  - id: s\n"
		   "    cow: [\"/ok\"]\n"
		   "process: {pids-max: 1}\n",
		   0644);
	write_file("d/b.yaml", "version: 1\nid: b\nfilesystem: [\n", 0644);
	write_file("d/c.yaml", "version: 1\nid: a\n", 0664);
	snprintf(file, sizeof(file), "%s/e.yaml", tmpdir);
	write_file("e.yaml",
		   "version: 1\nid: e\napplies-to: {agents: [x.y]}\n"
		   "remove: [z]\n",
		   0644);
	args[0] = dir;
	args[1] = file;
	n = aw_policyset_check_all(&set, args, 2, collect, &c);
	if (n != 11)
		dump(&c);
	assert_int_equal(n, c.n);
	assert_int_equal(n, 11);
#define WANT(fmt, ...)                                                         \
	do {                                                                   \
		snprintf(want, sizeof(want), fmt, __VA_ARGS__);                \
		if (!has_line(&c, want)) {                                     \
			dump(&c);                                              \
			fail_msg("missing: %s", want);                         \
		}                                                              \
	} while (0)
	WANT("%s/a.yaml:4:1: unknown key 'colour' in the top level", dir);
	WANT("%s/a.yaml:7:12: bad path: relative path", dir);
	WANT("%s/a.yaml:7:26: bad path: '.' and '..'", dir);
	WANT("%s/a.yaml:10:21: 'pids-max' must be between 16", dir);
	WANT("%s/b.yaml:4:1: YAML syntax error", dir);
	WANT("%s/c.yaml: writable by others (mode 0664): refusing", dir);
	WANT("%s/c.yaml:2:5: duplicate policy id 'a' (first defined at "
	     "%s/a.yaml:2:5)",
	     dir, dir);
	WANT("%s/a.yaml:3:10: 'a' extends unknown policy 'nosuch'", dir);
	WANT("%s/a.yaml:9:11: '/ok' is cow here (rule s) and deny in rule r",
	     dir);
	WANT("%s:4:9: 'remove' needs 'extends'", file);
	WANT("%s: no policy with id 'default'", "policy set");
#undef WANT
	/* what loaded is in the set: a (with its good parts) and e */
	assert_int_equal(set.n_pols, 2);
	assert_int_equal(aw_policyset_find(&set, "a")->n_rules, 2);
	aw_policyset_free(&set);

	/* a clean set: no problems */
	memset(&c, 0, sizeof(c));
	args[0] = AW_SOURCE_DIR "/policies/default.yaml";
	n = aw_policyset_check_all(&set, args, 1, collect, &c);
	/* a checkout owned by someone else is reported, nothing else */
	for (i = 0; i < c.n && i < 32; i++)
		if (!strstr(c.lines[i], "refusing"))
			fail_msg("unexpected: %s", c.lines[i]);
	assert_int_equal(set.n_pols, 1);
	aw_policyset_free(&set);

	snprintf(file, sizeof(file), "%s/d/a.yaml", tmpdir);
	unlink(file);
	snprintf(file, sizeof(file), "%s/d/b.yaml", tmpdir);
	unlink(file);
	snprintf(file, sizeof(file), "%s/d/c.yaml", tmpdir);
	unlink(file);
	snprintf(file, sizeof(file), "%s/e.yaml", tmpdir);
	unlink(file);
	rmdir(dir);
}

/* A doc (id default) with n network rules of m distinct entries each:
 * kind 'h' hosts, 'c' cidrs, 'p' ports. */
static char *gen_net(size_t n, size_t m, char kind)
{
	size_t cap = 64 + n * (48 + m * 24), off = 0, i, j;
	char *s = malloc(cap);

	assert_non_null(s);
	off +=
	    snprintf(s + off, cap - off, "version: 1\nid: default\nnetwork:\n");
	for (i = 0; i < n; i++) {
		off += snprintf(s + off, cap - off, "  - id: r%zu\n%s    %s: [",
				i, kind == 'p' ? "    loopback: true\n" : "",
				kind == 'h'   ? "hosts"
				: kind == 'c' ? "cidrs"
					      : "ports");
		for (j = 0; j < m; j++) {
			size_t k = i * m + j;

			if (kind == 'h')
				off += snprintf(s + off, cap - off,
						"%s\"h%zu.example.com\"",
						j ? ", " : "", k);
			else if (kind == 'c')
				off += snprintf(
				    s + off, cap - off, "%s\"10.%zu.%zu.0/24\"",
				    j ? ", " : "", k / 256, k % 256);
			else
				off += snprintf(s + off, cap - off, "%s%zu",
						j ? ", " : "", j + 1);
		}
		off += snprintf(s + off, cap - off, "]\n");
	}
	assert_true(off < cap);
	return s;
}

static void test_network_limits(void **state)
{
	struct aw_policyset set = {0};
	struct aw_policy_flat f;
	struct aw_diag d;
	char *doc;
	size_t off, i, j;
	double t;

	(void)state;
	/* per rule: 256 hosts, 256 cidrs, 32 ports; one more is refused
	 * at the list, before any entry is looked at */
	doc = gen_net(1, 257, 'h');
	assert_int_equal(load(&set, "test.yaml", doc, &d), -E2BIG);
	assert_int_equal(d.line, 5);
	assert_int_equal(d.column, 12);
	assert_string_equal(d.message, "'hosts' of network rule 'r0' has 257 "
				       "entries, the limit is 256");
	free(doc);
	doc = gen_net(1, 257, 'c');
	assert_int_equal(load(&set, "test.yaml", doc, &d), -E2BIG);
	assert_string_equal(d.message, "'cidrs' of network rule 'r0' has 257 "
				       "entries, the limit is 256");
	free(doc);
	doc = gen_net(1, 33, 'p');
	assert_int_equal(load(&set, "test.yaml", doc, &d), -E2BIG);
	assert_int_equal(d.line, 6);
	assert_int_equal(d.column, 12);
	assert_string_equal(d.message, "'ports' of network rule 'r0' has 33 "
				       "entries, the limit is 32");
	free(doc);
	assert_int_equal(set.n_pols, 0);
	doc = gen_net(1, 256, 'h');
	load_ok(&set, "test.yaml", doc);
	aw_policyset_free(&set);
	free(doc);
	doc = gen_net(1, 256, 'c');
	load_ok(&set, "test.yaml", doc);
	aw_policyset_free(&set);
	free(doc);
	doc = gen_net(1, 32, 'p');
	load_ok(&set, "test.yaml", doc);
	assert_int_equal(set.pols[0].net_rules[0].n_ports, 32);
	aw_policyset_free(&set);
	free(doc);

	/* per policy: 1024 rules */
	doc = gen_net(1025, 1, 'c');
	assert_int_equal(load(&set, "test.yaml", doc, &d), -E2BIG);
	assert_string_equal(d.message,
			    "'network' has 1025 entries, the limit is 1024");
	free(doc);

	/* flattened: 4096 hosts and 4096 cidrs (17 full rules are 4352) */
	doc = gen_net(17, 256, 'h');
	load_ok(&set, "test.yaml", doc);
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_policyset_validate(&set, &d), -E2BIG);
	assert_int_equal(d.line, 1);
	assert_int_equal(d.column, 1);
	assert_string_equal(d.message, "policy 'default' has 4352 hosts with "
				       "what it inherits, the limit is 4096");
	assert_int_equal(aw_policy_flatten(&set, &set.pols[0], &f, &d), -E2BIG);
	aw_policyset_free(&set);
	free(doc);
	doc = gen_net(17, 256, 'c');
	load_ok(&set, "test.yaml", doc);
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_policyset_validate(&set, &d), -E2BIG);
	assert_string_equal(d.message, "policy 'default' has 4352 cidrs with "
				       "what it inherits, the limit is 4096");
	aw_policyset_free(&set);
	free(doc);
	doc = gen_net(16, 256, 'h');
	load_ok(&set, "test.yaml", doc);
	assert_int_equal(aw_policyset_validate(&set, &d), 0);
	aw_policyset_free(&set);
	free(doc);

	/* aliases: 1024 rules pointing at one list of 256 long names would
	 * be 60 MiB of names from 100 KiB of text */
	doc = malloc(1 << 20);
	assert_non_null(doc);
	off = snprintf(doc, 1 << 20,
		       HEAD "network:\n  - id: r0\n    hosts: &h [");
	for (j = 0; j < 256; j++) {
		off +=
		    snprintf(doc + off, (1 << 20) - off, "%s\"", j ? ", " : "");
		for (i = 0; i < 4; i++) {
			memset(doc + off, 'x', 58);
			off += 58;
			doc[off++] = '.';
		}
		off += snprintf(doc + off, (1 << 20) - off, "h%zu\"", j);
	}
	off += snprintf(doc + off, (1 << 20) - off, "]\n");
	for (i = 1; i < 1024; i++)
		off += snprintf(doc + off, (1 << 20) - off,
				"  - {id: r%zu, hosts: *h}\n", i);
	assert_true(off < AW_POL_FILE_MAX);
	t = now();
	assert_int_equal(load(&set, "wide.yaml", doc, &d), -E2BIG);
	assert_true(now() - t < 1.0);
	assert_string_equal(
	    d.message, "the document expands to more than 1048576 bytes of "
		       "text (aliases repeating lists?)");
	assert_int_equal(set.n_pols, 0);
	free(doc);
}

/* check_all: every problem of a network section, and what survives is
 * never wider than what was written. */
static void test_network_check_all(void **state)
{
	struct aw_policyset set = {0};
	struct collected c = {0};
	char file[256], file2[256], want[512];
	const char *args[3];
	const struct aw_policy *p;
	int n;

	(void)state;
	write_file("default.yaml", "version: 1\nid: default\nnetwork: []\n",
		   0644);
	write_file("n.yaml",
		   "version: 1\n"
		   "id: n\n"
		   "extends: default\n"
		   "network:\n"
		   "  - id: a\n"
		   "    hosts: [\"ok.example.com\", \"bad..example.com\", "
		   "\"*.com\"]\n"
		   "  - id: b\n"
		   "    loopback: true\n"
		   "    ports: [0]\n"
		   "  - id: c\n"
		   "    cidrs: [\"10.0.0.1/8\"]\n"
		   "    protocols: [icmp]\n"
		   "  - id: d\n"
		   "    port: 1\n"
		   "    loopback: true\n"
		   "  - id: e\n"
		   "    cidrs: [\"::1\"]\n"
		   "    protocols: [tcp, quic]\n",
		   0644);
	write_file("m.yaml",
		   "version: 1\nid: m\nextends: default\nnetwork: {a: b}\n",
		   0644);
	snprintf(file, sizeof(file), "%s/default.yaml", tmpdir);
	snprintf(file2, sizeof(file2), "%s/n.yaml", tmpdir);
	args[0] = file;
	args[1] = file2;
	snprintf(want, sizeof(want), "%s/m.yaml", tmpdir);
	args[2] = want;
	n = aw_policyset_check_all(&set, args, 3, collect, &c);
	if (n != 8)
		dump(&c);
	assert_int_equal(n, 8);
#define WANT(fmt, ...)                                                         \
	do {                                                                   \
		char _w[512];                                                  \
		snprintf(_w, sizeof(_w), fmt, __VA_ARGS__);                    \
		if (!has_line(&c, _w)) {                                       \
			dump(&c);                                              \
			fail_msg("missing: %s", _w);                           \
		}                                                              \
	} while (0)
	WANT("%s:6:31: bad host 'bad..example.com': empty label", file2);
	WANT("%s:6:51: bad host '*.com': '*.com' is too broad", file2);
	WANT("%s:9:13: bad port '0': ports are 1..65535", file2);
	WANT("%s:11:13: bad CIDR '10.0.0.1/8': host bits set", file2);
	WANT("%s:12:17: unknown protocol 'icmp'", file2);
	WANT("%s:14:5: unknown key 'port' in a network rule", file2);
	WANT("%s:18:22: unknown protocol 'quic'", file2);
	WANT("%s:4:10: 'network' must be a list, found a mapping", want);
#undef WANT
	/* a keeps its good host; b (no port left would be every port) and
	 * c are gone; d stays; e keeps tcp */
	p = aw_policyset_find(&set, "n");
	assert_non_null(p);
	assert_int_equal(p->n_net_rules, 3);
	assert_string_equal(p->net_rules[0].id, "a");
	assert_int_equal(p->net_rules[0].n_hosts, 1);
	assert_string_equal(p->net_rules[1].id, "d");
	assert_string_equal(p->net_rules[2].id, "e");
	assert_int_equal(p->net_rules[2].protocols, AW_NET_TCP);
	/* a broken section still confines */
	assert_int_equal(aw_policyset_find(&set, "m")->has_network, 1);
	aw_policyset_free(&set);
	unlink(file);
	unlink(file2);
	unlink(want);
}

/* A loaded set is never changed by a failed load. */
static void test_unchanged_after_failure(void **state)
{
	struct aw_policyset set = {0};
	struct aw_diag d;
	const struct aw_policy *before;

	(void)state;
	load_ok(&set, "default.yaml", DEFAULT_DOC);
	before = set.pols;
	assert_int_equal(load(&set, "bad.yaml", RULE("deny", "\"rel\""), &d),
			 -EINVAL);
	assert_int_equal(load(&set, "bad.yaml", HEAD "filesystem: [\n", &d),
			 -EINVAL);
	assert_int_equal(set.n_pols, 1);
	assert_ptr_equal(set.pols, before);
	assert_string_equal(set.pols[0].id, "default");
	assert_int_equal(set.pols[0].n_rules, 3);
	assert_int_equal(aw_policyset_validate(&set, &d), 0);
	aw_policyset_free(&set);
	aw_policyset_free(&set); /* twice is harmless */
	aw_policyset_free(NULL);
	aw_policy_flat_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_templates_dir),
	    cmocka_unit_test(test_templates_embedded),
	    cmocka_unit_test(test_resolve),
	    cmocka_unit_test(test_flatten_order),
	    cmocka_unit_test(test_verbs),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_alias_bomb),
	    cmocka_unit_test(test_network_parse),
	    cmocka_unit_test(test_network_match),
	    cmocka_unit_test(test_network_ports),
	    cmocka_unit_test(test_network_flatten),
	    cmocka_unit_test(test_network_limits),
	    cmocka_unit_test(test_set_errors),
	    cmocka_unit_test(test_set_ok),
	    cmocka_unit_test(test_unchanged_after_failure),
	    cmocka_unit_test_setup_teardown(test_ownership, tmp_setup,
					    tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_dir, tmp_setup, tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_check_all, tmp_setup,
					    tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_network_check_all, tmp_setup,
					    tmp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
