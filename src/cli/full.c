// SPDX-License-Identifier: GPL-2.0-only
/*
 * The commands of agentwall-full, run from agentwall: the ones that read
 * the store (SQLite) or hash files (libcrypto). `agentwall` links neither,
 * since it is every session's launcher and loading them cost ~1.2 ms of
 * each start (meson.build). The full program is looked for beside this
 * one first (a build tree, or a copy that carries it), then where it was
 * installed; it gets this process's arguments as they were.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "aw_paths.h"
#include "cli/cli.h"

static int exec_full(void)
{
	char self[PATH_MAX], beside[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	const char *full = AW_CLI_FULL;

	if (n > 0) {
		char *slash;

		self[n] = 0;
		slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			snprintf(beside, sizeof(beside), "%s/agentwall-full",
				 self);
			if (access(beside, X_OK) == 0)
				full = beside;
		}
	}
	aw_cli_argv[0] = (char *)full;
	execv(full, aw_cli_argv);
	fprintf(stderr, "agentwall: %s: %s (this command is in it)\n", full,
		strerror(errno));
	return AW_EXIT_FAIL;
}

int cmd_log(struct aw_cli *cli, int argc, char **argv)
{
	(void)cli, (void)argc, (void)argv;
	return exec_full();
}

int cmd_web(struct aw_cli *cli, int argc, char **argv)
{
	(void)cli, (void)argc, (void)argv;
	return exec_full();
}

int cmd_signatures(struct aw_cli *cli, int argc, char **argv)
{
	(void)cli, (void)argc, (void)argv;
	return exec_full();
}

int cmd_inventory(struct aw_cli *cli, int argc, char **argv)
{
	(void)cli, (void)argc, (void)argv;
	return exec_full();
}
