// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "shared/diag.h"
#include "shared/embedded.h"
#include "shared/json.h"
#include "signatures/signatures.h"

/* What agentwalld loads when not given --signatures (from meson's
 * sysconfdir, aw_paths.h). */
#include "aw_paths.h"
#define AW_CLI_EXTRA_SIGS AW_DEFAULT_EXTRA_SIGS

int aw_cli_default_sigdb(struct aw_sigdb *db, struct aw_diag *diag)
{
	int r = 0;

	for (size_t i = 0; i < aw_embedded_signatures_count && !r; i++)
		r = aw_sigdb_load_buffer(db, aw_embedded_signatures[i].name,
					 aw_embedded_signatures[i].data,
					 aw_embedded_signatures[i].len, diag);
	if (!r && access(AW_CLI_EXTRA_SIGS, F_OK) == 0)
		r = aw_sigdb_load_dir(db, AW_CLI_EXTRA_SIGS, diag);
	return r;
}

static int check(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"path", required_argument, NULL, 'p'}, {}};
	const char *paths[64];
	size_t n_paths = 0;
	struct aw_sigdb db = {};
	int c, bad = 0;

	while ((c = getopt_long(argc, argv, "p:", longopts, NULL)) != -1) {
		if (c == 'p' && n_paths < 64)
			paths[n_paths++] = optarg;
		else
			return AW_EXIT_USAGE;
	}
	if (optind >= argc) {
		fprintf(stderr, "agentwall signatures check: no FILE given\n");
		return AW_EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		struct aw_diag diag = {};
		char msg[1024];
		size_t before = db.n_sigs;

		if (aw_sigdb_load_file(&db, argv[i], &diag) < 0) {
			aw_diag_format(&diag, msg, sizeof(msg));
			fprintf(stderr, "%s\n", msg);
			bad = 1;
			continue;
		}
		printf("%s: ok, %zu signature%s\n", argv[i], db.n_sigs - before,
		       db.n_sigs - before == 1 ? "" : "s");
	}
	if (!bad) {
		struct aw_compiled comp = {};
		struct aw_diag diag = {};
		char msg[1024];

		if (aw_sigdb_compile(&db, &comp, &diag) < 0) {
			aw_diag_format(&diag, msg, sizeof(msg));
			fprintf(stderr, "%s\n", msg);
			bad = 1;
		} else {
			/* Show what a path would be classified as. */
			for (size_t i = 0; i < n_paths; i++) {
				uint32_t e = aw_compiled_match(
				    &comp, comp.exe_start, paths[i]);
				uint32_t s = aw_compiled_match(
				    &comp, comp.script_start, paths[i]);
				const struct aw_compiled_rule *r =
				    e	? &comp.rules[e - 1]
				    : s ? &comp.rules[s - 1]
					: NULL;

				if (!r)
					printf("%s: no match\n", paths[i]);
				else if (r->sig_index >= db.n_sigs)
					printf("%s: interpreter (%s): its "
					       "script argument is matched\n",
					       paths[i], r->pattern);
				else
					printf("%s: %s (%s %s)\n", paths[i],
					       db.sigs[r->sig_index].id,
					       e ? "exe" : "script",
					       r->pattern);
			}
			aw_compiled_free(&comp);
		}
	}
	aw_sigdb_free(&db);
	return bad ? AW_EXIT_INVALID : AW_EXIT_OK;
}

/*
 * agentwall signatures list [--json] [FILE|DIR...]: the signatures a
 * database holds, without a daemon. With no argument, the database
 * agentwalld uses by default (the one compiled into it, the same files as
 * in this binary, and /etc/agentwall/signatures.d if it exists).
 */
static int list(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'}, {}};
	struct aw_sigdb db = {};
	struct aw_diag diag = {};
	struct aw_buf b = {};
	char msg[1024];
	size_t w = 0;
	int c, json = 0, r = 0;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'j')
			return AW_EXIT_USAGE;
		json = 1;
	}
	if (optind >= argc)
		r = aw_cli_default_sigdb(&db, &diag);
	for (int i = optind; i < argc && !r; i++) {
		struct stat st;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			r = aw_sigdb_load_dir(&db, argv[i], &diag);
		else
			r = aw_sigdb_load_file(&db, argv[i], &diag);
	}
	if (r < 0) {
		aw_diag_format(&diag, msg, sizeof(msg));
		fprintf(stderr, "%s\n", msg);
		aw_sigdb_free(&db);
		return AW_EXIT_INVALID;
	}
	for (size_t i = 0; i < db.n_sigs; i++) {
		size_t n = strlen(db.sigs[i].id);

		if (n > w)
			w = n;
	}
	if (json)
		aw_buf_puts(&b, "[");
	for (size_t i = 0; i < db.n_sigs; i++) {
		const struct aw_signature *s = &db.sigs[i];

		if (!json) {
			aw_buf_printf(&b, "%-*s  %-14s %s / %s", (int)w, s->id,
				      s->class, s->vendor, s->product);
			if (s->package)
				aw_buf_printf(&b, " (%s)", s->package);
			aw_buf_puts(&b, "\n");
			continue;
		}
		aw_buf_puts(&b, i ? ",\n{" : "\n{");
		aw_json_key(&b, "id");
		aw_json_cstr(&b, s->id);
		aw_buf_puts(&b, ",");
		aw_json_key(&b, "vendor");
		aw_json_cstr(&b, s->vendor);
		aw_buf_puts(&b, ",");
		aw_json_key(&b, "product");
		aw_json_cstr(&b, s->product);
		aw_buf_puts(&b, ",");
		aw_json_key(&b, "class");
		aw_json_cstr(&b, s->class);
		aw_buf_puts(&b, ",");
		aw_json_key(&b, "package");
		aw_json_cstr(&b, s->package);
		aw_buf_puts(&b, ",");
		aw_json_key(&b, "file");
		aw_json_cstr(&b, s->file);
		aw_buf_puts(&b, ",");
		aw_json_key(&b, "match");
		aw_buf_puts(&b, "[");
		for (size_t m = 0; m < s->n_matches; m++) {
			aw_buf_puts(&b, m ? ",{" : "{");
			aw_json_key(&b, s->matches[m].kind == AW_MATCH_EXE
					    ? "exe"
					    : "script");
			aw_json_cstr(&b, s->matches[m].pattern);
			aw_buf_puts(&b, "}");
		}
		aw_buf_puts(&b, "]}");
	}
	if (json)
		aw_buf_puts(&b, "\n]\n");
	aw_sigdb_free(&db);
	if (b.oom) {
		aw_buf_free(&b);
		fprintf(stderr, "agentwall signatures list: out of memory\n");
		return AW_EXIT_FAIL;
	}
	if (b.len)
		fwrite(b.data, 1, b.len, stdout);
	aw_buf_free(&b);
	return AW_EXIT_OK;
}

static int reload(struct aw_cli *cli)
{
	char err[512], *reply = NULL;
	int r;

	if (aw_cli_request(cli, "reload", &reply, err, sizeof(err)) < 0) {
		fprintf(stderr, "agentwall: %s\n", err);
		return AW_EXIT_NO_DAEMON;
	}
	r = strncmp(reply, "ok", 2) ? AW_EXIT_INVALID : AW_EXIT_OK;
	fputs(reply, r ? stderr : stdout);
	free(reply);
	return r;
}

int cmd_signatures(struct aw_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"state-dir", required_argument, NULL, AW_OPT_STATE_DIR}, {}};
	int c;

	/* Common options before the verb. */
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		if (!aw_cli_common_opt(cli, c, optarg))
			return AW_EXIT_USAGE;
	}
	if (optind >= argc) {
		fprintf(stderr, "agentwall signatures: expected check, list "
				"or reload\n");
		return AW_EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	optind = 0;
	if (!strcmp(argv[0], "check"))
		return check(argc, argv);
	if (!strcmp(argv[0], "list"))
		return list(argc, argv);
	if (!strcmp(argv[0], "reload"))
		return reload(cli);
	fprintf(stderr, "agentwall signatures: unknown verb \"%s\"\n", argv[0]);
	return AW_EXIT_USAGE;
}
