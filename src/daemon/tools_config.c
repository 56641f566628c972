// SPDX-License-Identifier: GPL-2.0-only
/*
 * A minimal reader of the MCP servers agents are configured to start
 * (what tools.c needs at exec, and nothing more): Codex CLI's TOML
 * ([mcp_servers.NAME] command, args), and the JSON of Claude Code
 * (~/.claude.json mcpServers, its projects' mcpServers, a workspace's
 * .mcp.json) and Gemini CLI (~/.gemini/settings.json and the
 * workspace's .gemini/settings.json mcpServers). JSON goes through
 * SQLite's JSON functions (already linked for the store). Meant to give
 * way to the inventory's parsers behind tools.h.
 *
 * Every file is opened inside the session's root (openat2
 * RESOLVE_IN_ROOT: a symlink cannot lead out of the session's view),
 * non-blocking (a FIFO does not hang the daemon), and read only if it is
 * a regular file of at most AW_TOOL_FILE_MAX bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/tools.h"

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

static int conf_add(struct aw_tool_confs *c, const char *agent,
		    const char *source, const char *name)
{
	struct aw_tool_conf *n;

	if (c->n >= AW_TOOL_CONF_MAX)
		return -E2BIG;
	n = realloc(c->v, (c->n + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	c->v = n;
	n = &c->v[c->n];
	memset(n, 0, sizeof(*n));
	n->name = strdup(name);
	n->agent = strdup(agent);
	n->source = strdup(source);
	if (!n->name || !n->agent || !n->source) {
		free(n->name);
		free(n->agent);
		free(n->source);
		return -ENOMEM;
	}
	c->n++;
	return 0;
}

static int arg_add(struct aw_tool_conf *t, const char *s, size_t len)
{
	char **n;

	if (t->n_args >= AW_TOOL_ARGS_MAX)
		return 0;
	n = realloc(t->args, (t->n_args + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	t->args = n;
	t->args[t->n_args] = strndup(s, len);
	if (!t->args[t->n_args])
		return -ENOMEM;
	t->n_args++;
	return 0;
}

/* ---- TOML: the subset Codex's [mcp_servers.NAME] tables use ---------- */

/* A TOML string at *p ("basic" with escapes, or 'literal') into out;
 * *p moves past it. -1 if there is none. */
static int toml_str(const char **p, char *out, size_t outlen)
{
	const char *s = *p;
	char q = *s;
	size_t n = 0;

	if (q != '"' && q != '\'')
		return -1;
	for (s++; *s && *s != q && *s != '\n'; s++) {
		char c = *s;

		if (q == '"' && c == '\\' && s[1]) {
			s++;
			c = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
		}
		if (n + 1 < outlen)
			out[n++] = c;
	}
	if (*s != q)
		return -1;
	out[n] = 0;
	*p = s + 1;
	return 0;
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return s;
}

static int parse_codex(const char *text, const char *source,
		       struct aw_tool_confs *c)
{
	const char *line = text;
	ssize_t cur = -1; /* the server whose keys we are in */
	char name[256], val[PATH_MAX];
	int r = 0;

	while (line && *line && r >= 0) {
		const char *s = line, *nl = strchr(line, '\n');

		line = nl ? nl + 1 : NULL;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '[') {
			const char *k = s + 1;

			cur = -1;
			if (*k == '[' || strncmp(k, "mcp_servers.", 12))
				continue;
			k += 12;
			if (*k == '"' || *k == '\'') {
				if (toml_str(&k, name, sizeof(name)) < 0)
					continue;
			} else {
				size_t n = strcspn(k, ".] \t\n");

				if (!n || n >= sizeof(name))
					continue;
				memcpy(name, k, n);
				name[n] = 0;
				k += n;
			}
			while (*k == ' ' || *k == '\t')
				k++;
			if (*k != ']') /* [mcp_servers.NAME.env] and such */
				continue;
			r = conf_add(c, "codex", source, name);
			if (r >= 0)
				cur = (ssize_t)c->n - 1;
			continue;
		}
		if (cur < 0)
			continue;
		if (!strncmp(s, "command", 7) || !strncmp(s, "args", 4)) {
			int is_cmd = s[0] == 'c';
			const char *v = s + (is_cmd ? 7 : 4);

			while (*v == ' ' || *v == '\t')
				v++;
			if (*v++ != '=')
				continue;
			v = skip_ws(v);
			if (is_cmd) {
				if (toml_str(&v, val, sizeof(val)) == 0 &&
				    !c->v[cur].command)
					c->v[cur].command = strdup(val);
				continue;
			}
			if (*v++ != '[')
				continue;
			/* An array may span lines: read on from here. */
			for (;;) {
				v = skip_ws(v);
				if (*v == '#') {
					v = strchr(v, '\n');
					if (!v)
						break;
					continue;
				}
				if (*v == ']' || !*v)
					break;
				if (toml_str(&v, val, sizeof(val)) < 0)
					break;
				r = arg_add(&c->v[cur], val, strlen(val));
				if (r < 0)
					break;
				v = skip_ws(v);
				if (*v == ',')
					v++;
			}
			if (v && *v == ']')
				line = strchr(v, '\n') ? strchr(v, '\n') + 1
						       : NULL;
		}
	}
	return r == -E2BIG ? 0 : r;
}

/* ---- JSON: {"NAME": {"command": ..., "args": [...]}} at a path -------- */

static int parse_json(sqlite3 *db, const char *text, const char *jpath,
		      const char *agent, const char *source,
		      struct aw_tool_confs *c)
{
	sqlite3_stmt *st = NULL, *ast = NULL;
	int r = 0;

	if (sqlite3_prepare_v2(
		db,
		"SELECT key, json_extract(value, '$.command'), "
		"json_extract(value, '$.args') FROM json_each(?1, ?2) "
		"WHERE type = 'object' LIMIT 128",
		-1, &st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT value FROM json_each(?1) WHERE type = "
			       "'text' ORDER BY key LIMIT 32",
			       -1, &ast, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, jpath, -1, SQLITE_STATIC);
	while (r >= 0 && sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *cmd = (const char *)sqlite3_column_text(st, 1);
		const char *args = (const char *)sqlite3_column_text(st, 2);

		if (!name || !cmd)
			continue; /* a URL server: nothing to exec */
		r = conf_add(c, agent, source, name);
		if (r < 0)
			break;
		c->v[c->n - 1].command = strdup(cmd);
		if (!args)
			continue;
		sqlite3_reset(ast);
		sqlite3_bind_text(ast, 1, args, -1, SQLITE_TRANSIENT);
		while (r >= 0 && sqlite3_step(ast) == SQLITE_ROW) {
			const char *a =
			    (const char *)sqlite3_column_text(ast, 0);

			if (a)
				r = arg_add(&c->v[c->n - 1], a, strlen(a));
		}
	}
out:
	sqlite3_finalize(st);
	sqlite3_finalize(ast);
	return r == -E2BIG ? 0 : r;
}

static int load_json(sqlite3 *db, int root_fd, const char *path,
		     const char *jpath, const char *agent,
		     struct aw_tool_confs *c)
{
	size_t len;
	char *text = read_in_root(root_fd, path, &len);
	int r;

	if (!text)
		return 0;
	r = parse_json(db, text, jpath, agent, path, c);
	free(text);
	return r;
}

/* A JSON path member, quoted for SQLite's json_each ($."..."). */
static int json_member_path(char *out, size_t len, const char *prefix,
			    const char *member, const char *suffix)
{
	if (strchr(member, '"') || strchr(member, '\\'))
		return -1;
	return (size_t)snprintf(out, len, "%s.\"%s\"%s", prefix, member,
				suffix) < len
		   ? 0
		   : -1;
}

int aw_tool_confs_load(int root_fd, const char *home, const char *codex_home,
		       const char *workspace, struct aw_tool_confs *out)
{
	char p[PATH_MAX], jp[PATH_MAX + 64];
	sqlite3 *db = NULL;
	size_t len;
	char *text;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (codex_home && codex_home[0] == '/')
		snprintf(p, sizeof(p), "%s/config.toml", codex_home);
	else if (home && home[0] == '/')
		snprintf(p, sizeof(p), "%s/.codex/config.toml", home);
	else
		p[0] = 0;
	if (p[0] && (text = read_in_root(root_fd, p, &len))) {
		r = parse_codex(text, p, out);
		free(text);
	}
	if (r < 0 || sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE,
				     NULL) != SQLITE_OK)
		goto out;
	if (home && home[0] == '/') {
		snprintf(p, sizeof(p), "%s/.claude.json", home);
		r = load_json(db, root_fd, p, "$.mcpServers", "claude", out);
		if (r >= 0 && workspace && workspace[0] == '/' &&
		    json_member_path(jp, sizeof(jp), "$.projects", workspace,
				     ".mcpServers") == 0)
			r = load_json(db, root_fd, p, jp, "claude", out);
		snprintf(p, sizeof(p), "%s/.gemini/settings.json", home);
		if (r >= 0)
			r = load_json(db, root_fd, p, "$.mcpServers", "gemini",
				      out);
	}
	if (r >= 0 && workspace && workspace[0] == '/') {
		snprintf(p, sizeof(p), "%s/.mcp.json", workspace);
		r = load_json(db, root_fd, p, "$.mcpServers", "claude", out);
		snprintf(p, sizeof(p), "%s/.gemini/settings.json", workspace);
		if (r >= 0)
			r = load_json(db, root_fd, p, "$.mcpServers", "gemini",
				      out);
	}
out:
	sqlite3_close(db);
	if (r < 0) {
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
