// SPDX-License-Identifier: GPL-2.0-only
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int cmd_ps(struct aw_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"state-dir", required_argument, NULL, AW_OPT_STATE_DIR},
	    {}};
	char err[512], *reply = NULL;
	int c, json = 0;

	while ((c = getopt_long(argc, argv, "j", longopts, NULL)) != -1) {
		if (aw_cli_common_opt(cli, c, optarg))
			continue;
		if (c == 'j')
			json = 1;
		else
			return AW_EXIT_USAGE;
	}
	if (aw_cli_request(cli, json ? "ps --json" : "ps", &reply, err,
			   sizeof(err)) < 0) {
		fprintf(stderr, "agentwall: %s\n", err);
		return AW_EXIT_NO_DAEMON;
	}
	if (!strncmp(reply, "error:", 6)) {
		fprintf(stderr, "agentwall: %s", reply);
		free(reply);
		return AW_EXIT_FAIL;
	}
	fputs(reply, stdout);
	free(reply);
	return AW_EXIT_OK;
}
