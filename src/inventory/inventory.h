/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What is installed and configured: the agents on disk (npm prefixes,
 * bin directories, /opt, editor extension directories, release binaries
 * found by content) and the MCP servers each agent's configuration tells
 * it to start. Shared by `agentwall inventory` and the daemon's
 * inventory stage (src/daemon/inventory.c); no daemon state here.
 *
 * Two layers:
 *   config.c  one configuration file -> its MCP servers (read safely:
 *             size cap, no symlinks, regular files only, the account's
 *             own permissions), the table of known configuration files;
 *   scan.c    accounts -> agents, servers, problems, using the signature
 *             database (path rules and content digests) to classify.
 *
 * Never kept or printed: environment values (only their names) and
 * header values of remote servers.
 */
#ifndef AW_INVENTORY_H
#define AW_INVENTORY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shared/diag.h"

#define AW_INV_FILE_MAX (8u << 20) /* bytes per configuration file */
#define AW_INV_SERVERS_MAX 4096	   /* servers per file */
#define AW_INV_ARGS_MAX 256	   /* args (and env keys) per server */

/* How a configuration file lists its MCP servers. */
enum aw_inv_format {
	AW_INV_FMT_NONE = 0,
	/* ~/.codex/config.toml: [mcp_servers.NAME] command, args, env, url */
	AW_INV_FMT_CODEX,
	/* ~/.claude.json: mcpServers, and projects.<dir>.mcpServers */
	AW_INV_FMT_CLAUDE,
	/* top-level mcpServers: .mcp.json, Gemini, Qwen, Auggie, Copilot
	 * CLI, Cursor, Windsurf */
	AW_INV_FMT_MCPSERVERS,
	/* VS Code mcp.json (JSONC): servers (or mcpServers) */
	AW_INV_FMT_VSCODE,
	/* opencode / Kilo (JSONC): mcp.NAME {type local|remote, command
	 * [array], environment, url} */
	AW_INV_FMT_OPENCODE,
	/* Crush: mcp.NAME {type stdio|http|sse, command, args, env, url} */
	AW_INV_FMT_CRUSH,
	/* Amp settings.json: "amp.mcpServers" */
	AW_INV_FMT_AMP,
};

struct aw_inv_server {
	char *config;	 /* the file it was read from */
	char *project;	 /* Claude's per-project entries: the project dir */
	char *agent;	 /* id of the agent whose configuration it is */
	char *name;	 /* the configured name */
	char *transport; /* "stdio", "http" or "sse" */
	char *command;	 /* stdio: the program (as written) */
	char **args;
	size_t n_args;
	char **env_keys; /* names only, never values */
	size_t n_env_keys;
	char *url; /* remote servers */
	int disabled;
	unsigned line; /* where its entry starts in config */
	/* Filled by the scanner: the signature the command (or its script
	 * argument) matches, NULL when none does ("unknown"). */
	char *known;
	char *account;
};

struct aw_inv_servers {
	struct aw_inv_server *v;
	size_t n;
};

void aw_inv_servers_free(struct aw_inv_servers *s);

/*
 * Read a configuration file the way a hostile one cannot abuse: opened
 * without following any symlink (openat2 RESOLVE_NO_SYMLINKS, relative
 * to dirfd or AT_FDCWD), non-blocking (a FIFO does not hang us), must be
 * a regular file of at most max bytes. With as_uid != (uid_t)-1 the file
 * is opened with that account's file-system identity (setfsuid/setfsgid,
 * only around the open, on the calling thread), so root never reads for
 * an account what the account itself could not (a hard link to a secret).
 * Returns 0 with a NUL-terminated copy, -ENOENT when absent, or -errno
 * with the reason in diag.
 */
int aw_inv_read_file(int dirfd, const char *path, uid_t as_uid, gid_t as_gid,
		     size_t max, char **ret_data, size_t *ret_len,
		     struct aw_diag *diag);

/* Parse a configuration file's text: append its servers to out (config,
 * agent set from name and agent). -EINVAL with the place in diag. */
int aw_inv_mcp_servers_parse(const char *data, size_t len, const char *name,
			     enum aw_inv_format fmt, const char *agent,
			     struct aw_inv_servers *out, struct aw_diag *diag);

/*
 * The MCP servers a configuration file names: aw_inv_read_file (as
 * as_uid, -1 for the caller itself) and aw_inv_mcp_servers_parse. fmt
 * AW_INV_FMT_NONE: guessed from the path (aw_inv_format_for). For the
 * per-session tool inventory: an agent's configuration at its exec.
 */
int aw_inv_mcp_servers_for(const char *path, enum aw_inv_format fmt,
			   uid_t as_uid, gid_t as_gid,
			   struct aw_inv_servers *out, struct aw_diag *diag);

/* The project directories a configuration file lists (Claude's
 * `projects`, Codex's [projects."DIR"]): absolute paths, appended to
 * *projects without repeats, at most AW_INV_PROJECTS_MAX in all. */
#define AW_INV_PROJECTS_MAX 256
int aw_inv_projects_parse(const char *data, size_t len, enum aw_inv_format fmt,
			  char ***projects, size_t *n_projects);

/* A known configuration file, relative to a home directory or to a
 * project directory. */
struct aw_inv_config_loc {
	const char *path;
	enum aw_inv_format fmt;
	const char *agent; /* signature id of the agent that reads it */
	int project;	   /* 1: relative to a project directory */
};
extern const struct aw_inv_config_loc aw_inv_config_locs[];
extern const size_t aw_inv_n_config_locs;

/* The format a path's name says (the table above, then the file name),
 * and the agent that reads it (may be NULL). */
enum aw_inv_format aw_inv_format_for(const char *path, const char **ret_agent);
const char *aw_inv_format_name(enum aw_inv_format fmt);

/* ---- scanning ---- */

struct aw_sigdb;
struct aw_compiled;

struct aw_inv_account {
	char *name;
	uid_t uid;
	gid_t gid;
	char *home;
};

/* Every account with a home directory (uid 0 and the ordinary ones), or
 * the one named / with uid (when name is NULL and uid != -1). */
int aw_inv_accounts(const char *name, uid_t uid, struct aw_inv_account **ret,
		    size_t *ret_n);
void aw_inv_accounts_free(struct aw_inv_account *a, size_t n);

struct aw_inv_agent {
	char *account; /* NULL: installed system-wide */
	char *id;      /* signature id */
	char *vendor, *product, *class;
	char *version; /* package.json or extension manifest, may be NULL */
	char *path;    /* what was found */
	char *where;   /* npm, bin, opt, extension, content */
	char *rule;    /* what matched: package NAME, exe/script PATTERN,
			  sha256 */
};

struct aw_inv_problem {
	char *account;
	char *path;
	char *reason;
};

struct aw_inventory {
	struct aw_inv_agent *agents;
	size_t n_agents;
	struct aw_inv_servers servers;
	struct aw_inv_problem *problems;
	size_t n_problems;
	/* Configuration files read (their servers are in servers). */
	char **configs;
	size_t n_configs;
	/* Directories looked at, for the daemon's inotify watches. */
	char **dirs;
	size_t n_dirs;
	/* Files hashed by this scan (not found in the cache). */
	size_t hashed;
};

void aw_inventory_free(struct aw_inventory *inv);

/* Digests of files already hashed, by (dev, ino, size, mtime, ctime), so
 * a rescan does not hash a 300 MB binary again. */
struct aw_inv_cache;
struct aw_inv_cache *aw_inv_cache_new(void);
void aw_inv_cache_free(struct aw_inv_cache *c);

struct aw_inv_scan_opts {
	const struct aw_sigdb *db;
	const struct aw_compiled *comp;
	struct aw_inv_cache *cache; /* may be NULL */
	int system;		    /* also the system-wide locations */
	int as_owner;		    /* read as each account (root) */
};

/* With as_owner, each account's files are opened with its uid, gid and
 * supplementary groups: the calling thread's file-system identity and
 * groups change during the scan (raw system calls: that thread only) and
 * are restored after. */
int aw_inventory_scan(const struct aw_inv_scan_opts *o,
		      const struct aw_inv_account *accts, size_t n_accts,
		      struct aw_inventory *ret);

/* Sorts what a scan found (agents, servers, problems) into one stable
 * order, so two scans compare item by item. */
void aw_inventory_sort(struct aw_inventory *inv);

/* Which signature a command (and its first non-option argument, for an
 * interpreter) names: the signature's index in db, or -1. */
int aw_inv_classify_command(const struct aw_sigdb *db,
			    const struct aw_compiled *comp, const char *command,
			    char *const *args, size_t n_args);

/* JSON objects of one item (render.c): the CLI's --json lists and the
 * daemon's inventory events have the same shape. A server's "known" is
 * its signature id or "unknown"; env_keys are names only. */
struct aw_buf;
void aw_inv_agent_json(struct aw_buf *b, const struct aw_inv_agent *a);
void aw_inv_server_json(struct aw_buf *b, const struct aw_inv_server *s);
void aw_inv_problem_json(struct aw_buf *b, const struct aw_inv_problem *p);
/* The whole inventory: {"agents":[...],"servers":[...],"problems":[...],
 * "configs":[...]} */
void aw_inventory_json(struct aw_buf *b, const struct aw_inventory *inv);

#endif
