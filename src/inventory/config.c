// SPDX-License-Identifier: GPL-2.0-only
/*
 * Agents' configuration files -> the MCP servers they start. The files
 * are the user's (or an attacker's who can write them): read with every
 * bound (aw_inv_read_file), parsed strictly (shared/jsonr.c,
 * shared/toml.c), and only the names of environment variables kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "inventory/inventory.h"
#include "shared/jsonr.h"
#include "shared/toml.h"
#include "shared/util.h"

/*
 * Where agents keep their MCP servers (each read from the agent's own
 * package or documentation): home-relative unless project is set.
 */
const struct aw_inv_config_loc aw_inv_config_locs[] = {
    {".codex/config.toml", AW_INV_FMT_CODEX, "openai.codex-cli", 0},
    {".claude.json", AW_INV_FMT_CLAUDE, "anthropic.claude-code", 0},
    {".gemini/settings.json", AW_INV_FMT_MCPSERVERS, "google.gemini-cli", 0},
    {".qwen/settings.json", AW_INV_FMT_MCPSERVERS, "qwen.qwen-code", 0},
    {".augment/settings.json", AW_INV_FMT_MCPSERVERS, "augment.auggie", 0},
    {".copilot/mcp-config.json", AW_INV_FMT_MCPSERVERS, "github.copilot-cli",
     0},
    {".config/amp/settings.json", AW_INV_FMT_AMP, "sourcegraph.amp", 0},
    {".config/opencode/opencode.json", AW_INV_FMT_OPENCODE, "anomaly.opencode",
     0},
    {".config/opencode/opencode.jsonc", AW_INV_FMT_OPENCODE, "anomaly.opencode",
     0},
    {".config/kilo/kilo.json", AW_INV_FMT_OPENCODE, "kilocode.kilo-cli", 0},
    {".config/kilo/kilo.jsonc", AW_INV_FMT_OPENCODE, "kilocode.kilo-cli", 0},
    {".config/crush/crush.json", AW_INV_FMT_CRUSH, "charm.crush", 0},
    {".local/share/crush/crush.json", AW_INV_FMT_CRUSH, "charm.crush", 0},
    {".config/Code/User/mcp.json", AW_INV_FMT_VSCODE, "microsoft.vscode", 0},
    {".vscode-server/data/User/mcp.json", AW_INV_FMT_VSCODE, "microsoft.vscode",
     0},
    {".cursor/mcp.json", AW_INV_FMT_MCPSERVERS, "cursor.cursor", 0},
    {".codeium/windsurf/mcp_config.json", AW_INV_FMT_MCPSERVERS,
     "windsurf.windsurf", 0},
    /* in a project directory */
    {".codex/config.toml", AW_INV_FMT_CODEX, "openai.codex-cli", 1},
    {".mcp.json", AW_INV_FMT_MCPSERVERS, "anthropic.claude-code", 1},
    {".vscode/mcp.json", AW_INV_FMT_VSCODE, "microsoft.vscode", 1},
    {".cursor/mcp.json", AW_INV_FMT_MCPSERVERS, "cursor.cursor", 1},
    {".gemini/settings.json", AW_INV_FMT_MCPSERVERS, "google.gemini-cli", 1},
    {".qwen/settings.json", AW_INV_FMT_MCPSERVERS, "qwen.qwen-code", 1},
    {"opencode.json", AW_INV_FMT_OPENCODE, "anomaly.opencode", 1},
    {"crush.json", AW_INV_FMT_CRUSH, "charm.crush", 1},
    {".crush.json", AW_INV_FMT_CRUSH, "charm.crush", 1},
};
const size_t aw_inv_n_config_locs =
    sizeof(aw_inv_config_locs) / sizeof(aw_inv_config_locs[0]);

const char *aw_inv_format_name(enum aw_inv_format fmt)
{
	switch (fmt) {
	case AW_INV_FMT_CODEX:
		return "codex-toml";
	case AW_INV_FMT_CLAUDE:
		return "claude-json";
	case AW_INV_FMT_MCPSERVERS:
		return "mcpServers";
	case AW_INV_FMT_VSCODE:
		return "vscode-mcp";
	case AW_INV_FMT_OPENCODE:
		return "opencode";
	case AW_INV_FMT_CRUSH:
		return "crush";
	case AW_INV_FMT_AMP:
		return "amp";
	case AW_INV_FMT_NONE:
		break;
	}
	return "none";
}

static int ends_with_path(const char *path, const char *suffix)
{
	size_t n = strlen(path), m = strlen(suffix);

	return n > m && path[n - m - 1] == '/' && !strcmp(path + n - m, suffix);
}

enum aw_inv_format aw_inv_format_for(const char *path, const char **ret_agent)
{
	const char *base = strrchr(path, '/');
	const char *agent = NULL;
	enum aw_inv_format f = AW_INV_FMT_NONE;

	base = base ? base + 1 : path;
	/* Home-relative entries first (longer, more specific paths). */
	for (size_t i = 0; i < aw_inv_n_config_locs; i++)
		if (ends_with_path(path, aw_inv_config_locs[i].path) ||
		    !strcmp(path, aw_inv_config_locs[i].path)) {
			f = aw_inv_config_locs[i].fmt;
			agent = aw_inv_config_locs[i].agent;
			break;
		}
	if (f == AW_INV_FMT_NONE) {
		if (!strcmp(base, "config.toml"))
			f = AW_INV_FMT_CODEX, agent = "openai.codex-cli";
		else if (!strcmp(base, "mcp.json"))
			f = AW_INV_FMT_VSCODE;
		else if (strstr(base, ".json"))
			f = AW_INV_FMT_MCPSERVERS;
	}
	if (ret_agent)
		*ret_agent = agent;
	return f;
}

static void server_clear(struct aw_inv_server *v)
{
	free(v->config);
	free(v->project);
	free(v->agent);
	free(v->name);
	free(v->transport);
	free(v->command);
	aw_strv_free(v->args, v->n_args);
	aw_strv_free(v->env_keys, v->n_env_keys);
	free(v->url);
	free(v->known);
	free(v->account);
	memset(v, 0, sizeof(*v));
}

void aw_inv_servers_free(struct aw_inv_servers *s)
{
	for (size_t i = 0; i < s->n; i++)
		server_clear(&s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int openat2_nofollow(int dirfd, const char *path, int flags)
{
	struct open_how how = {
	    .flags = (uint64_t)flags,
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

	if (fd < 0 && errno == ENOSYS)
		/* Before 5.6: only the last component is checked. */
		fd = openat(dirfd, path, flags | O_NOFOLLOW);
	return (int)fd;
}

int aw_inv_read_file(int dirfd, const char *path, uid_t as_uid, gid_t as_gid,
		     size_t max, char **ret_data, size_t *ret_len,
		     struct aw_diag *diag)
{
	int fd, rfd = -1, e = 0;
	struct stat st, rst;
	char proc[64];
	char *data = NULL;
	size_t len = 0;
	uid_t old_uid = 0;
	gid_t old_gid = 0;

	if (as_uid != (uid_t)-1) {
		/* Only the open is done as the account: what it can reach
		 * (directory search, the file's mode) is what we read. */
		old_gid = (gid_t)setfsgid(as_gid);
		old_uid = (uid_t)setfsuid(as_uid);
	}
	/* O_PATH first: a device or FIFO is never opened for reading. */
	fd = openat2_nofollow(dirfd, path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		e = -errno;
	} else if (fstat(fd, &st) < 0) {
		e = -errno;
	} else if (S_ISREG(st.st_mode) && (size_t)st.st_size <= max) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		rfd = open(proc, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
		if (rfd < 0)
			e = -errno;
	}
	if (as_uid != (uid_t)-1) {
		setfsuid(old_uid);
		setfsgid(old_gid);
	}
	if (e) {
		if (fd >= 0)
			close(fd);
		if (e == -ENOENT || e == -ENOTDIR)
			return -ENOENT;
		if (e == -ELOOP)
			aw_diag_set(diag, path, 0, 0,
				    "refused: a symbolic link (in the path or "
				    "the file itself)");
		else if (e == -EXDEV)
			aw_diag_set(diag, path, 0, 0,
				    "refused: path leaves its directory");
		else
			aw_diag_set(diag, path, 0, 0, "cannot open: %s",
				    strerror(-e));
		return e;
	}
	close(fd);
	if (!S_ISREG(st.st_mode)) {
		aw_diag_set(diag, path, 0, 0,
			    "refused: not a regular file (%s)",
			    S_ISFIFO(st.st_mode)   ? "a FIFO"
			    : S_ISCHR(st.st_mode)  ? "a character device"
			    : S_ISBLK(st.st_mode)  ? "a block device"
			    : S_ISSOCK(st.st_mode) ? "a socket"
			    : S_ISDIR(st.st_mode)  ? "a directory"
						   : "another kind");
		return -EINVAL;
	}
	if ((size_t)st.st_size > max) {
		aw_diag_set(diag, path, 0, 0,
			    "refused: %lld bytes, more than the %zu allowed",
			    (long long)st.st_size, max);
		return -EFBIG;
	}
	if (fstat(rfd, &rst) < 0 || rst.st_dev != st.st_dev ||
	    rst.st_ino != st.st_ino) {
		close(rfd);
		aw_diag_set(diag, path, 0, 0, "refused: replaced while read");
		return -EAGAIN;
	}
	data = malloc(max + 1);
	if (!data) {
		close(rfd);
		return -ENOMEM;
	}
	/* The size may grow after fstat: read at most max + 1 to tell. */
	while (len <= max) {
		ssize_t n = read(rfd, data + len, max + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(rfd);
	if (!e && len > max) {
		aw_diag_set(diag, path, 0, 0,
			    "refused: more than the %zu bytes allowed", max);
		e = -EFBIG;
	}
	if (e) {
		if (e != -EFBIG)
			aw_diag_set(diag, path, 0, 0, "cannot read: %s",
				    strerror(-e));
		free(data);
		return e;
	}
	data[len] = 0;
	*ret_data = data;
	*ret_len = len;
	return 0;
}

/* Parsing one server entry. */
struct pctx {
	const char *name; /* file, for diagnostics */
	const char *agent;
	struct aw_inv_servers *out;
	struct aw_diag *diag;
};

static int bad(struct pctx *c, const struct aw_jv *at, const char *where,
	       const char *what)
{
	aw_diag_set(c->diag, c->name, at ? at->line : 0, at ? at->column : 0,
		    "%s: %s", where, what);
	return -EINVAL;
}

static int dup_to(char **dst, const char *s)
{
	if (!s)
		return 0;
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

static int add_strs(struct pctx *c, const struct aw_jv *arr, size_t from,
		    char ***dst, size_t *n, const char *where)
{
	if (arr->n > AW_INV_ARGS_MAX)
		return bad(c, arr, where, "too many entries");
	if (arr->n <= from)
		return 0;
	*dst = calloc(arr->n - from, sizeof(char *));
	if (!*dst)
		return -ENOMEM;
	for (size_t i = from; i < arr->n; i++) {
		if (arr->items[i]->kind != AW_JV_STR)
			return bad(c, arr->items[i], where,
				   "expected a string");
		(*dst)[(*n)++] = strdup(arr->items[i]->s);
		if (!(*dst)[*n - 1])
			return -ENOMEM;
	}
	return 0;
}

static int env_keys(struct pctx *c, const struct aw_jv *env,
		    struct aw_inv_server *s, const char *where)
{
	if (!env)
		return 0;
	if (env->kind != AW_JV_OBJ)
		return bad(c, env, where, "expected a table of variables");
	if (env->n > AW_INV_ARGS_MAX)
		return bad(c, env, where, "too many entries");
	if (!env->n)
		return 0;
	s->env_keys = calloc(env->n, sizeof(char *));
	if (!s->env_keys)
		return -ENOMEM;
	/* Names only: the values are often credentials. */
	for (size_t i = 0; i < env->n; i++) {
		int seen = 0;

		for (size_t j = 0; j < s->n_env_keys; j++)
			seen |= !strcmp(s->env_keys[j], env->keys[i]);
		if (seen)
			continue;
		s->env_keys[s->n_env_keys] = strdup(env->keys[i]);
		if (!s->env_keys[s->n_env_keys])
			return -ENOMEM;
		s->n_env_keys++;
	}
	return 0;
}

static const char *transport_of(const char *type, int has_url)
{
	if (type) {
		if (!strcmp(type, "stdio") || !strcmp(type, "local"))
			return "stdio";
		if (!strcmp(type, "sse"))
			return "sse";
		if (!strcmp(type, "http") || !strcmp(type, "remote") ||
		    !strcmp(type, "streamable-http") ||
		    !strcmp(type, "streamableHttp"))
			return "http";
	}
	return has_url ? "http" : "stdio";
}

/* One server: the entry v, called name, in the table named where. */
static int server(struct pctx *c, enum aw_inv_format fmt, const char *project,
		  const char *name, const struct aw_jv *v, const char *where)
{
	struct aw_inv_server *s, *nv;
	const struct aw_jv *cmd, *args, *env, *en, *dis;
	const char *url, *type;
	char w[512];
	int r;

	snprintf(w, sizeof(w), "%s.%s", where, name);
	if (v->kind != AW_JV_OBJ)
		return bad(c, v, w, "expected a table (the server's settings)");
	if (c->out->n >= AW_INV_SERVERS_MAX)
		return bad(c, v, w, "too many servers");
	nv = realloc(c->out->v, (c->out->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	c->out->v = nv;
	s = &nv[c->out->n++];
	memset(s, 0, sizeof(*s));
	s->line = v->line;
	if (dup_to(&s->config, c->name) || dup_to(&s->agent, c->agent) ||
	    dup_to(&s->name, name) || dup_to(&s->project, project))
		return -ENOMEM;
	cmd = aw_jv_get(v, "command");
	args = aw_jv_get(v, "args");
	env = aw_jv_get(v, fmt == AW_INV_FMT_OPENCODE ? "environment" : "env");
	url = aw_jv_get_str(v, "url");
	if (!url)
		url = aw_jv_get_str(v, "httpUrl"); /* Gemini, Qwen */
	if (!url)
		url = aw_jv_get_str(v, "serverUrl"); /* Windsurf */
	type = aw_jv_get_str(v, "type");
	if (!type)
		type = aw_jv_get_str(v, "transport");
	if (cmd && cmd->kind == AW_JV_STR) {
		if (dup_to(&s->command, cmd->s))
			return -ENOMEM;
	} else if (cmd && cmd->kind == AW_JV_ARR) {
		/* opencode: command is the whole argv */
		if (!cmd->n || cmd->items[0]->kind != AW_JV_STR)
			return bad(c, cmd, w,
				   "command: expected a non-empty array of "
				   "strings");
		if (dup_to(&s->command, cmd->items[0]->s))
			return -ENOMEM;
		r = add_strs(c, cmd, 1, &s->args, &s->n_args, w);
		if (r)
			return r;
	} else if (cmd) {
		return bad(c, cmd, w, "command: expected a string");
	}
	if (args) {
		if (args->kind != AW_JV_ARR)
			return bad(c, args, w, "args: expected an array");
		if (s->args)
			return bad(c, args, w,
				   "args given twice (command is an array)");
		r = add_strs(c, args, 0, &s->args, &s->n_args, w);
		if (r)
			return r;
	}
	r = env_keys(c, env, s, w);
	if (r)
		return r;
	if (dup_to(&s->url, url) ||
	    dup_to(&s->transport, transport_of(type, url != NULL)))
		return -ENOMEM;
	dis = aw_jv_get(v, "disabled");
	en = aw_jv_get(v, "enabled");
	s->disabled = (dis && dis->kind == AW_JV_BOOL && dis->b) ||
		      (en && en->kind == AW_JV_BOOL && !en->b);
	if (!s->command && !s->url)
		return bad(c, v, w, "neither a command nor a url");
	return 0;
}

/* A table of servers (name -> settings). Absent is fine. */
static int servers(struct pctx *c, enum aw_inv_format fmt, const char *project,
		   const struct aw_jv *t, const char *where)
{
	if (!t)
		return 0;
	if (t->kind != AW_JV_OBJ)
		return bad(c, t, where, "expected a table of servers");
	for (size_t i = 0; i < t->n; i++) {
		int r;

		/* A repeated name (JSON): the last one is what the agent
		 * uses. */
		if (aw_jv_get(t, t->keys[i]) != t->items[i])
			continue;
		r = server(c, fmt, project, t->keys[i], t->items[i], where);
		if (r)
			return r;
	}
	return 0;
}

int aw_inv_mcp_servers_parse(const char *data, size_t len, const char *name,
			     enum aw_inv_format fmt, const char *agent,
			     struct aw_inv_servers *out, struct aw_diag *diag)
{
	struct pctx c = {
	    .name = name, .agent = agent, .out = out, .diag = diag};
	struct aw_jv *doc = NULL;
	size_t before = out->n;
	int r;

	if (fmt == AW_INV_FMT_CODEX)
		r = aw_toml_parse(data, len, name, &doc, diag);
	else
		r = aw_jsonr_parse(
		    data, len, fmt == AW_INV_FMT_CLAUDE ? 0 : AW_JSONR_JSONC,
		    name, &doc, diag);
	if (r)
		return r;
	if (doc->kind != AW_JV_OBJ) {
		r = bad(&c, doc, "document", "expected an object");
		goto out;
	}
	switch (fmt) {
	case AW_INV_FMT_CODEX:
		r = servers(&c, fmt, NULL, aw_jv_get(doc, "mcp_servers"),
			    "mcp_servers");
		break;
	case AW_INV_FMT_CLAUDE: {
		const struct aw_jv *projects = aw_jv_get(doc, "projects");

		r = servers(&c, fmt, NULL, aw_jv_get(doc, "mcpServers"),
			    "mcpServers");
		if (r || !projects)
			break;
		if (projects->kind != AW_JV_OBJ) {
			r = bad(&c, projects, "projects", "expected an object");
			break;
		}
		for (size_t i = 0; i < projects->n && !r; i++) {
			char w[512];

			snprintf(w, sizeof(w), "projects.%s.mcpServers",
				 projects->keys[i]);
			r = servers(&c, fmt, projects->keys[i],
				    aw_jv_get(projects->items[i], "mcpServers"),
				    w);
		}
		break;
	}
	case AW_INV_FMT_MCPSERVERS:
		r = servers(&c, fmt, NULL, aw_jv_get(doc, "mcpServers"),
			    "mcpServers");
		break;
	case AW_INV_FMT_VSCODE:
		r = servers(&c, fmt, NULL, aw_jv_get(doc, "servers"),
			    "servers");
		if (!r)
			r = servers(&c, fmt, NULL, aw_jv_get(doc, "mcpServers"),
				    "mcpServers");
		break;
	case AW_INV_FMT_OPENCODE:
	case AW_INV_FMT_CRUSH:
		r = servers(&c, fmt, NULL, aw_jv_get(doc, "mcp"), "mcp");
		break;
	case AW_INV_FMT_AMP:
		r = servers(&c, fmt, NULL, aw_jv_get(doc, "amp.mcpServers"),
			    "amp.mcpServers");
		break;
	case AW_INV_FMT_NONE:
		r = bad(&c, NULL, "format", "not a known configuration file");
		break;
	}
out:
	aw_jv_free(doc);
	if (r) {
		/* All or nothing: a half-read file is not a list. */
		if (r == -ENOMEM)
			aw_diag_set(diag, name, 0, 0, "out of memory");
		for (size_t i = before; i < out->n; i++)
			server_clear(&out->v[i]);
		out->n = before;
	}
	return r;
}

int aw_inv_projects_parse(const char *data, size_t len, enum aw_inv_format fmt,
			  char ***projects, size_t *n_projects)
{
	const struct aw_jv *t;
	struct aw_jv *doc = NULL;
	struct aw_diag d = {};
	int r;

	if (fmt == AW_INV_FMT_CODEX)
		r = aw_toml_parse(data, len, "", &doc, &d);
	else if (fmt == AW_INV_FMT_CLAUDE)
		r = aw_jsonr_parse(data, len, 0, "", &doc, &d);
	else
		return 0;
	if (r)
		return r;
	t = aw_jv_get(doc, "projects");
	for (size_t i = 0; t && t->kind == AW_JV_OBJ && i < t->n; i++) {
		const char *dir = t->keys[i];
		int seen = 0;
		char **nv;

		if (dir[0] != '/' || *n_projects >= AW_INV_PROJECTS_MAX)
			continue;
		for (size_t j = 0; j < *n_projects; j++)
			seen |= !strcmp((*projects)[j], dir);
		if (seen)
			continue;
		nv = realloc(*projects, (*n_projects + 1) * sizeof(*nv));
		if (!nv) {
			r = -ENOMEM;
			break;
		}
		*projects = nv;
		nv[*n_projects] = strdup(dir);
		if (!nv[*n_projects]) {
			r = -ENOMEM;
			break;
		}
		(*n_projects)++;
	}
	aw_jv_free(doc);
	return r;
}

int aw_inv_mcp_servers_for(const char *path, enum aw_inv_format fmt,
			   uid_t as_uid, gid_t as_gid,
			   struct aw_inv_servers *out, struct aw_diag *diag)
{
	const char *agent = NULL;
	char *data = NULL;
	size_t len = 0;
	int r;

	if (fmt == AW_INV_FMT_NONE)
		fmt = aw_inv_format_for(path, &agent);
	else
		aw_inv_format_for(path, &agent);
	r = aw_inv_read_file(AT_FDCWD, path, as_uid, as_gid, AW_INV_FILE_MAX,
			     &data, &len, diag);
	if (r)
		return r;
	r = aw_inv_mcp_servers_parse(data, len, path, fmt, agent, out, diag);
	free(data);
	return r;
}
