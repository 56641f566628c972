/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The tools an agent is configured to start (MCP servers), as the
 * daemon needs them to recognise one at exec: a name, the file that named
 * it, the command and its arguments. tools_config.c reads them (a minimal
 * reader of the agents' files, meant to be replaced by the inventory's
 * parsers behind this interface); tools.c matches execs against them.
 */
#ifndef AW_DAEMON_TOOLS_H
#define AW_DAEMON_TOOLS_H

#include <stddef.h>

#define AW_TOOL_CONF_MAX 128	    /* servers per session's configs */
#define AW_TOOL_FILE_MAX (1u << 20) /* bytes per config file read */
/* (Below the inventory's own cap: read at a session's execs.) */
#define AW_TOOL_ARGS_MAX 32 /* arguments compared per server */

struct aw_tool_conf {
	char *name;    /* [mcp_servers.NAME], "mcpServers": {"NAME": ...} */
	char *agent;   /* whose config: a signature id (openai.codex-cli) */
	char *source;  /* the file, as the session sees it */
	char *command; /* as written: "npx", "/usr/bin/python3" */
	char **args;
	size_t n_args;
};

struct aw_tool_confs {
	struct aw_tool_conf *v;
	size_t n;
};

/* Where to look: the session's file system view (a directory fd of its
 * root: every path is resolved inside it, symlinks included), the
 * agent's HOME and CODEX_HOME (NULL: HOME/.codex), the workspace (NULL:
 * none). Unreadable, oversized, non-regular or malformed files are
 * skipped. 0 or -ENOMEM. */
int aw_tool_confs_load(int root_fd, const char *home, const char *codex_home,
		       const char *workspace, struct aw_tool_confs *out);
void aw_tool_confs_free(struct aw_tool_confs *c);

/* Is this exec (exe, argv as NUL-separated strings) the configured
 * server c? The command's name is looked for in argv[0..2] (an
 * interpreter line or `env` puts it further right), and the configured
 * arguments must follow it, in order, exactly. */
int aw_tool_conf_matches(const struct aw_tool_conf *c, const char *exe,
			 const char *argv, size_t argv_len);

#endif
