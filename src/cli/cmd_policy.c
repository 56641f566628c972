// SPDX-License-Identifier: GPL-2.0-only
/*
 * agentwall policy check FILE|DIR... : every problem, as file:line:column;
 * agentwall policy load : the daemon reloads its policy set, atomically
 *                         (a broken set is refused, the one in force stays);
 * agentwall policy list : the policies in force.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "policy/policy.h"
#include "shared/embedded.h"
#include "shared/json.h"

/* Files that define `default` are a whole set (as with agentwalld
 * --policies DIR); anything else is checked as the daemon would load it:
 * on top of the embedded templates (as /etc/agentwall/policies.d is). */
static int is_whole_set(int argc, char **argv)
{
	struct aw_policyset probe = {};
	struct aw_diag diag = {};
	int whole;

	for (int i = 0; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			aw_policy_load_dir_flags(&probe, argv[i],
						 AW_POLICY_LOAD_NO_OWNER_CHECK,
						 &diag);
		else
			aw_policy_load_file_flags(&probe, argv[i],
						  AW_POLICY_LOAD_NO_OWNER_CHECK,
						  &diag);
	}
	whole = aw_policyset_find(&probe, "default") != NULL;
	aw_policyset_free(&probe);
	return whole;
}

static void print_diag(void *ud, const struct aw_diag *d)
{
	char buf[1024];

	aw_diag_format(d, buf, sizeof(buf));
	fprintf(stderr, "%s\n", buf);
	++*(int *)ud;
}

static int policy_check(int argc, char **argv)
{
	struct aw_policyset set = {};
	int problems = 0, n;

	if (argc < 1) {
		fprintf(stderr, "Usage: agentwall policy check FILE|DIR...\n");
		return AW_EXIT_USAGE;
	}
	if (!is_whole_set(argc, argv)) {
		struct aw_diag diag = {};

		for (size_t i = 0; i < aw_embedded_policies_count; i++)
			aw_policy_load_buffer(
			    &set, aw_embedded_policies[i].name,
			    aw_embedded_policies[i].data,
			    aw_embedded_policies[i].len, &diag);
	}
	n = aw_policyset_check_all(&set, (const char *const *)argv,
				   (size_t)argc, print_diag, &problems);
	if (n == 0 && problems == 0) {
		printf("ok: %zu polic%s\n", set.n_pols,
		       set.n_pols == 1 ? "y" : "ies");
		for (size_t i = 0; i < set.n_pols; i++)
			printf("  %s (%s)\n", set.pols[i].id, set.pols[i].file);
	}
	aw_policyset_free(&set);
	if (n > 0 || problems > 0) {
		fprintf(stderr, "%d problem%s\n", n > 0 ? n : problems,
			(n > 0 ? n : problems) == 1 ? "" : "s");
		return AW_EXIT_INVALID;
	}
	if (n < 0) {
		fprintf(stderr, "agentwall policy check: %s\n", strerror(-n));
		return AW_EXIT_FAIL;
	}
	return AW_EXIT_OK;
}

static int policy_request(struct aw_cli *cli, const char *req)
{
	char err[1024], *reply = NULL;
	int r = aw_cli_request(cli, req, &reply, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "agentwall policy: %s\n", err);
		return AW_EXIT_NO_DAEMON;
	}
	if (!strncmp(reply, "error:", 6)) {
		fputs(reply, stderr);
		r = strstr(reply, "refused") ? AW_EXIT_INVALID : AW_EXIT_FAIL;
	} else {
		fputs(reply, stdout);
		r = AW_EXIT_OK;
	}
	free(reply);
	return r;
}

/* policy-list's lines are "ID\tEXTENDS\tFILE". */
static int policy_list_json(struct aw_cli *cli)
{
	char err[1024], *reply = NULL;
	struct aw_buf out = {};
	int first = 1;

	if (aw_cli_request(cli, "policy-list", &reply, err, sizeof(err)) < 0) {
		fprintf(stderr, "agentwall policy: %s\n", err);
		return AW_EXIT_NO_DAEMON;
	}
	if (!strncmp(reply, "error", 5)) {
		fputs(reply, stderr);
		free(reply);
		return AW_EXIT_FAIL;
	}
	aw_buf_puts(&out, "[");
	for (char *l = reply, *nl; (nl = strchr(l, '\n')); l = nl + 1) {
		char *t1, *t2;

		*nl = 0;
		t1 = strchr(l, '\t');
		t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		if (!t2)
			continue;
		*t1 = *t2 = 0;
		aw_buf_puts(&out, first ? "{" : ",{");
		first = 0;
		aw_json_key(&out, "id");
		aw_json_cstr(&out, l);
		aw_buf_puts(&out, ",");
		aw_json_key(&out, "extends");
		if (strcmp(t1 + 1, "-"))
			aw_json_cstr(&out, t1 + 1);
		else
			aw_buf_puts(&out, "null");
		aw_buf_puts(&out, ",");
		aw_json_key(&out, "file");
		aw_json_cstr(&out, t2 + 1);
		aw_buf_puts(&out, "}");
	}
	aw_buf_puts(&out, "]\n");
	fwrite(out.data ? out.data : "", 1, out.len, stdout);
	aw_buf_free(&out);
	free(reply);
	return AW_EXIT_OK;
}

int cmd_policy(struct aw_cli *cli, int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr,
			"Usage: agentwall policy check FILE|DIR... | load | "
			"list\n");
		return AW_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "check"))
		return policy_check(argc - 2, argv + 2);
	if (!strcmp(argv[1], "load"))
		return policy_request(cli, "policy-load");
	if (!strcmp(argv[1], "list")) {
		if (argc == 3 && !strcmp(argv[2], "--json"))
			return policy_list_json(cli);
		if (argc > 2) {
			fprintf(stderr,
				"Usage: agentwall policy list [--json]\n");
			return AW_EXIT_USAGE;
		}
		return policy_request(cli, "policy-list");
	}
	fprintf(stderr, "agentwall policy: unknown subcommand \"%s\"\n",
		argv[1]);
	return AW_EXIT_USAGE;
}
