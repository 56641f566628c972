// SPDX-License-Identifier: GPL-2.0-only
/*
 * The MCP servers a session's agent is configured to start, for
 * tools.c: every configuration file the inventory knows
 * (aw_inv_config_locs: Codex's config.toml, Claude Code's ~/.claude.json
 * and .mcp.json, Gemini CLI's settings.json, and the other agents'),
 * under the agent's HOME and the session's workspace, parsed by the
 * inventory's readers (src/inventory/config.c). Only stdio servers
 * (something to exec) that are not disabled; Claude Code's per-project
 * entries only for the session's workspace.
 *
 * The files are read as the session sees them: opened inside its root
 * (openat2 RESOLVE_IN_ROOT on a directory fd of /proc/PID/root: no
 * symlink or `..` leads out of the session's view), non-blocking (a FIFO
 * does not hang the daemon), regular files only, at most
 * AW_TOOL_FILE_MAX bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/tools.h"
#include "inventory/inventory.h"

static char *read_in_root(int root_fd, const char *path, size_t *ret_len)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd;

	while (*path == '/')
		path++;
	fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > (off_t)AW_TOOL_FILE_MAX)
		goto out;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		goto out;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = 0;
	*ret_len = got;
out:
	close(fd);
	return buf;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* One parsed server into out; 0, -E2BIG when full, -ENOMEM. */
static int conf_add(struct aw_tool_confs *out, const struct aw_inv_server *s)
{
	struct aw_tool_conf *n, *t;
	size_t na = s->n_args < AW_TOOL_ARGS_MAX ? s->n_args : AW_TOOL_ARGS_MAX;

	if (out->n >= AW_TOOL_CONF_MAX)
		return -E2BIG;
	n = realloc(out->v, (out->n + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	out->v = n;
	t = &out->v[out->n];
	memset(t, 0, sizeof(*t));
	t->name = dup_or_null(s->name);
	t->agent = dup_or_null(s->agent ? s->agent : "?");
	t->source = dup_or_null(s->config);
	t->command = dup_or_null(s->command);
	t->args = calloc(na ? na : 1, sizeof(char *));
	out->n++; /* freed with the rest from here on */
	if (!t->name || !t->agent || !t->source || !t->command || !t->args)
		return -ENOMEM;
	for (size_t i = 0; i < na; i++) {
		t->args[i] = strdup(s->args[i] ? s->args[i] : "");
		if (!t->args[i])
			return -ENOMEM;
		t->n_args++;
	}
	return 0;
}

static int load_one(int root_fd, const char *path, enum aw_inv_format fmt,
		    const char *agent, const char *workspace,
		    struct aw_tool_confs *out)
{
	struct aw_inv_servers sv = {};
	struct aw_diag diag = {};
	size_t len = 0;
	char *text = read_in_root(root_fd, path, &len);
	int r = 0;

	if (!text)
		return 0;
	if (aw_inv_mcp_servers_parse(text, len, path, fmt, agent, &sv, &diag) ==
	    0) {
		for (size_t i = 0; i < sv.n && r >= 0; i++) {
			const struct aw_inv_server *s = &sv.v[i];

			if (s->disabled || !s->command || !s->name ||
			    (s->transport && strcmp(s->transport, "stdio")))
				continue;
			if (s->project &&
			    (!workspace || strcmp(s->project, workspace)))
				continue;
			r = conf_add(out, s);
		}
	}
	aw_inv_servers_free(&sv);
	free(text);
	return r;
}

int aw_tool_confs_load(int root_fd, const char *home, const char *codex_home,
		       const char *workspace, struct aw_tool_confs *out)
{
	char p[PATH_MAX];
	int r = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < aw_inv_n_config_locs && r >= 0; i++) {
		const struct aw_inv_config_loc *l = &aw_inv_config_locs[i];
		const char *base = l->project ? workspace : home;

		if (l->fmt == AW_INV_FMT_CODEX && !l->project && codex_home &&
		    codex_home[0] == '/') {
			/* CODEX_HOME replaces ~/.codex. */
			snprintf(p, sizeof(p), "%s/config.toml", codex_home);
		} else {
			if (!base || base[0] != '/')
				continue;
			if ((size_t)snprintf(p, sizeof(p), "%s/%s", base,
					     l->path) >= sizeof(p))
				continue;
		}
		r = load_one(root_fd, p, l->fmt, l->agent, workspace, out);
	}
	if (r < 0 && r != -E2BIG) {
		aw_tool_confs_free(out);
		return r;
	}
	return 0;
}

void aw_tool_confs_free(struct aw_tool_confs *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].name);
		free(c->v[i].agent);
		free(c->v[i].source);
		free(c->v[i].command);
		for (size_t j = 0; j < c->v[i].n_args; j++)
			free(c->v[i].args[j]);
		free(c->v[i].args);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static const char *base_of(const char *s)
{
	const char *b = strrchr(s, '/');

	return b ? b + 1 : s;
}

int aw_tool_conf_matches(const struct aw_tool_conf *c, const char *exe,
			 const char *argv, size_t argv_len)
{
	const char *av[3 + AW_TOOL_ARGS_MAX];
	size_t ac = 0, off = 0;

	if (!c->command || !c->command[0] || !argv)
		return 0;
	while (off < argv_len && ac < sizeof(av) / sizeof(av[0])) {
		av[ac++] = argv + off;
		off += strnlen(argv + off, argv_len - off) + 1;
	}
	for (size_t k = 0; k < 3 && k < ac; k++) {
		int named = !strcmp(base_of(av[k]), base_of(c->command)) ||
			    (k == 0 && exe &&
			     !strcmp(base_of(exe), base_of(c->command)));
		size_t i;

		if (!named || ac < k + 1 + c->n_args)
			continue;
		/* A command written with a path is that file. */
		if (strchr(c->command, '/') && strcmp(av[k], c->command) &&
		    (!exe || strcmp(exe, c->command)))
			continue;
		for (i = 0; i < c->n_args; i++)
			if (strcmp(av[k + 1 + i], c->args[i]))
				break;
		if (i == c->n_args)
			return 1;
	}
	return 0;
}
