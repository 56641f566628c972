// SPDX-License-Identifier: GPL-2.0-only
/*
 * agentwall: the command-line client. A thin layer: live state comes from
 * the daemon over its control socket, history from the store (read-only),
 * so `agentwall log` works with the daemon stopped.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/stage.h"
#include "cli/cli.h"
#include "daemon/daemon.h"

/* One table: dispatch and help. */
static const struct {
	const char *name;
	int (*fn)(struct aw_cli *cli, int argc, char **argv);
	const char *args;
	const char *help;
} commands[] = {
    {"status", cmd_status, "[--json]",
     "daemon, kernel features, signatures, drops"},
    {"ps", cmd_ps, "[--json]", "live agent sessions as process trees"},
    {"top", cmd_top, "[--once] [--interval SECONDS]",
     "live sessions, their trees, latest events and denials"},
    {"web", cmd_web, "[--listen ADDR:PORT] [--allow-remote]",
     "sessions on a timeline in a browser (trees, events, diffs)"},
    {"log", cmd_log,
     "[--session ID] [--agent ID|VENDOR|CLASS] [--action A] "
     "[--decision D] [--since T] [--until T] [--limit N] [--json|--ocsf] "
     "[--follow [--from-start]] | --verify [--anchor ID:HASH] [--json]",
     "what agents did (from the store); --verify proves its hash chain"},
    {"signatures", cmd_signatures,
     "check FILE... [--path PATH] | list [--json] [FILE|DIR...] | reload",
     "validate signature files, list a database; reload the daemon's"},
    {"run", cmd_run,
     "[--policy ID] [--workspace DIR] [--session ID] [--keep-fd N]... [-v] "
     "-- COMMAND...",
     "run COMMAND as an agent session in its policy's sandbox"},
    {"sessions", cmd_sessions, "[--json]",
     "kept sessions: state, files changed, bytes"},
    {"diff", cmd_diff, "SESSION [PATH...] [--json]",
     "what a session changed, as a patch"},
    {"commit", cmd_commit, "SESSION [PATH...] [--conflict keep|beside]",
     "apply a session's changes to the real files"},
    {"discard", cmd_discard, "SESSION [PATH...]",
     "throw a session's changes (or some of them) away"},
    {"approve", cmd_approve, "SESSION",
     "let escalated changes be committed (root, security group)"},
    {"gc", cmd_gc, "[--older-than AGE]",
     "remove sessions with nothing to review (and, with --older-than, "
     "older ones)"},
    {"inventory", cmd_inventory, "[--json] [--user NAME]",
     "agents installed and the MCP servers they are configured to start"},
    {"policy", cmd_policy, "check FILE|DIR... | load | list [--json]",
     "validate policy files; reload or list the daemon's policies"},
};

/* `agentwall COMMAND --help`: that command's line of the table. */
static void command_usage(FILE *f, size_t i)
{
	fprintf(f, "Usage: agentwall %s %s\n\n%s\n", commands[i].name,
		commands[i].args, commands[i].help);
}

/* Does argv ask for help before its `--` (or, for run, before the
 * command it runs)? */
static int wants_help(int argc, char **argv, int is_run)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
		if (is_run && argv[i][0] != '-')
			return 0;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: agentwall [--state-dir DIR] [--version] COMMAND "
		   "[ARGS]\n       agentwall COMMAND --help\n\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-11s %s\n  %-11s   %s\n", commands[i].name,
			commands[i].help, "", commands[i].args);
	fprintf(f, "\nExit codes: 0 ok, 1 failed, 2 usage, 3 daemon not "
		   "reachable, 4 input rejected,\n5 commit left changes "
		   "(conflicts, held for approval); `run` exits as its\n"
		   "command did, or 125 if the sandbox could not be "
		   "built.\n\nThe daemon's state directory: --state-dir DIR, "
		   "else $AGENTWALL_STATE_DIR, else the\ndefaults "
		   "(" AW_DEFAULT_STATE_DIR ", " AW_DEFAULT_RUN_DIR
		   "). A session is named by its 16 "
		   "hex\ndigits, a unique prefix of them, or `last`.\n");
}

void aw_cli_paths(struct aw_cli *cli)
{
	const char *env = getenv("AGENTWALL_STATE_DIR");

	/* The daemon runs elsewhere (--state-dir): say it once in the
	 * environment instead of on every command. */
	if (!cli->state_dir[0] && env && env[0])
		snprintf(cli->state_dir, sizeof(cli->state_dir), "%s", env);
	if (cli->state_dir[0]) {
		snprintf(cli->socket_path, sizeof(cli->socket_path), "%s/%s",
			 cli->state_dir, AW_SOCKET_NAME);
		snprintf(cli->store_path, sizeof(cli->store_path), "%s/%s",
			 cli->state_dir, AW_STORE_NAME);
	} else {
		snprintf(cli->socket_path, sizeof(cli->socket_path), "%s/%s",
			 AW_DEFAULT_RUN_DIR, AW_SOCKET_NAME);
		snprintf(cli->store_path, sizeof(cli->store_path), "%s/%s",
			 AW_DEFAULT_STATE_DIR, AW_STORE_NAME);
	}
}

int aw_cli_common_opt(struct aw_cli *cli, int c, const char *arg)
{
	if (c != AW_OPT_STATE_DIR)
		return 0;
	snprintf(cli->state_dir, sizeof(cli->state_dir), "%s", arg);
	aw_cli_paths(cli);
	return 1;
}

char **aw_cli_argv;

int main(int argc, char **argv)
{
	aw_stage("main");
	aw_cli_argv = argv;
	static const struct option longopts[] = {
	    {"state-dir", required_argument, NULL, AW_OPT_STATE_DIR},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {}};
	struct aw_cli cli = {};
	int c;

	while ((c = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
		if (aw_cli_common_opt(&cli, c, optarg))
			continue;
		if (c == 'h') {
			usage(stdout);
			return AW_EXIT_OK;
		}
		if (c == 'V') {
			printf("agentwall %s\n", AW_VERSION);
			return AW_EXIT_OK;
		}
		usage(stderr);
		return AW_EXIT_USAGE;
	}
	aw_cli_paths(&cli);
	if (optind >= argc) {
		usage(stderr);
		return AW_EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[optind], commands[i].name)) {
			argc -= optind;
			argv += optind;
			if (wants_help(argc, argv, commands[i].fn == cmd_run)) {
				command_usage(stdout, i);
				return AW_EXIT_OK;
			}
			optind = 0; /* reset getopt for the subcommand */
			return commands[i].fn(&cli, argc, argv);
		}
	}
	if (!strcmp(argv[optind], "help")) {
		for (size_t i = 0; optind + 1 < argc &&
				   i < sizeof(commands) / sizeof(commands[0]);
		     i++)
			if (!strcmp(argv[optind + 1], commands[i].name)) {
				command_usage(stdout, i);
				return AW_EXIT_OK;
			}
		usage(stdout);
		return AW_EXIT_OK;
	}
	if (!strcmp(argv[optind], "version")) {
		printf("agentwall %s\n", AW_VERSION);
		return AW_EXIT_OK;
	}
	fprintf(stderr, "agentwall: unknown command \"%s\"\n", argv[optind]);
	usage(stderr);
	return AW_EXIT_USAGE;
}
