// SPDX-License-Identifier: GPL-2.0-only
/*
 * agentwall inventory [--json] [--user NAME]: the agents installed and
 * the MCP servers their configuration starts, for every account (root)
 * or the caller's own. Reads the disk itself, no daemon needed; the
 * daemon runs the same scan (src/inventory/) and records what changes.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "inventory/inventory.h"
#include "shared/json.h"
#include "signatures/signatures.h"

static void text(struct aw_buf *b, const struct aw_inventory *inv)
{
	aw_buf_printf(b, "agents (%zu)\n", inv->n_agents);
	for (size_t i = 0; i < inv->n_agents; i++) {
		const struct aw_inv_agent *a = &inv->agents[i];

		aw_buf_printf(b, "  %-10s %-28s %-14s %-9s ",
			      a->account ? a->account : "(system)", a->id,
			      a->version ? a->version : "-", a->where);
		aw_text_sanitize(b, a->path, strlen(a->path));
		aw_buf_puts(b, "\n");
	}
	aw_buf_printf(b, "servers (%zu)\n", inv->servers.n);
	for (size_t i = 0; i < inv->servers.n; i++) {
		const struct aw_inv_server *s = &inv->servers.v[i];
		const char *what = s->command ? s->command : s->url;

		aw_buf_printf(b, "  %-10s %-22s ",
			      s->account ? s->account : "(system)",
			      s->agent ? s->agent : "-");
		aw_text_sanitize(b, s->name, strlen(s->name));
		aw_buf_printf(b, " [%s] ", s->transport);
		aw_text_sanitize(b, what, strlen(what));
		for (size_t j = 0; j < s->n_args; j++) {
			aw_buf_puts(b, " ");
			aw_text_sanitize(b, s->args[j], strlen(s->args[j]));
		}
		if (s->n_env_keys) {
			aw_buf_puts(b, " env:");
			for (size_t j = 0; j < s->n_env_keys; j++) {
				aw_buf_puts(b, j ? "," : "");
				aw_text_sanitize(b, s->env_keys[j],
						 strlen(s->env_keys[j]));
			}
		}
		aw_buf_printf(b, " -> %s%s\n    in ",
			      s->known ? s->known : "unknown",
			      s->disabled ? " (disabled)" : "");
		aw_text_sanitize(b, s->config, strlen(s->config));
		if (s->project) {
			aw_buf_puts(b, " project ");
			aw_text_sanitize(b, s->project, strlen(s->project));
		}
		aw_buf_puts(b, "\n");
	}
	aw_buf_printf(b, "problems (%zu)\n", inv->n_problems);
	for (size_t i = 0; i < inv->n_problems; i++) {
		const struct aw_inv_problem *p = &inv->problems[i];

		aw_buf_puts(b, "  ");
		aw_text_sanitize(b, p->path, strlen(p->path));
		aw_buf_puts(b, ": ");
		aw_text_sanitize(b, p->reason, strlen(p->reason));
		aw_buf_puts(b, "\n");
	}
}

int cmd_inventory(struct aw_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"user", required_argument, NULL, 'u'},
	    {}};
	struct aw_inv_scan_opts o = {};
	struct aw_inv_account *accts = NULL;
	struct aw_inventory inv = {};
	struct aw_sigdb db = {};
	struct aw_compiled comp = {};
	struct aw_diag diag = {};
	struct aw_buf b = {};
	const char *user = NULL;
	char msg[1024];
	size_t n_accts = 0;
	int c, json = 0, r, ret = AW_EXIT_OK;

	while ((c = getopt_long(argc, argv, "ju:", longopts, NULL)) != -1) {
		if (c == 'j')
			json = 1;
		else if (c == 'u')
			user = optarg;
		else
			return AW_EXIT_USAGE;
	}
	if (optind < argc) {
		fprintf(stderr, "agentwall inventory: unexpected \"%s\"\n",
			argv[optind]);
		return AW_EXIT_USAGE;
	}
	if (aw_cli_default_sigdb(&db, &diag) < 0 ||
	    aw_sigdb_compile(&db, &comp, &diag) < 0) {
		aw_diag_format(&diag, msg, sizeof(msg));
		fprintf(stderr, "agentwall inventory: %s\n", msg);
		aw_sigdb_free(&db);
		return AW_EXIT_INVALID;
	}
	if (geteuid() == 0) {
		/* Every account, each read as itself. */
		r = aw_inv_accounts(user, (uid_t)-1, &accts, &n_accts);
		o.as_owner = 1;
	} else {
		/* An ordinary user sees their own account only. */
		r = aw_inv_accounts(NULL, getuid(), &accts, &n_accts);
		if (!r && user && (!n_accts || strcmp(accts[0].name, user))) {
			fprintf(stderr, "agentwall inventory: only root may "
					"look at another account\n");
			ret = AW_EXIT_FAIL;
			goto out;
		}
	}
	if (r < 0) {
		fprintf(stderr, "agentwall inventory: %s: no such account\n",
			user ? user : "caller");
		ret = AW_EXIT_FAIL;
		goto out;
	}
	o.db = &db;
	o.comp = &comp;
	o.system = 1;
	r = aw_inventory_scan(&o, accts, n_accts, &inv);
	if (r < 0) {
		fprintf(stderr, "agentwall inventory: out of memory\n");
		ret = AW_EXIT_FAIL;
		goto out;
	}
	if (json)
		aw_inventory_json(&b, &inv);
	else
		text(&b, &inv);
	if (b.oom) {
		fprintf(stderr, "agentwall inventory: out of memory\n");
		ret = AW_EXIT_FAIL;
	} else if (b.len) {
		fwrite(b.data, 1, b.len, stdout);
	}
out:
	(void)cli;
	aw_buf_free(&b);
	aw_inventory_free(&inv);
	aw_inv_accounts_free(accts, n_accts);
	aw_compiled_free(&comp);
	aw_sigdb_free(&db);
	return ret;
}
