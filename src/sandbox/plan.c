// SPDX-License-Identifier: GPL-2.0-only
/*
 * The launcher's plan: the daemon's reply (the flattened policy) turned
 * into concrete setup operations on real paths.
 *
 * Every path is resolved here, in the host's view and before anything is
 * mounted, with realpath(): a symlink (~/.ssh -> /data/keys) is followed to
 * what it names, so the mask lands on the real tree, and nothing later
 * resolves a path inside the half-built sandbox. Paths that do not exist
 * are skipped for masks (nothing to hide; what the agent creates there is
 * its own, inside a copy-on-write tree) and noted for grants.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <glob.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/filter.h>

#include "review/manifest.h"
#include "sandbox/launch.h"
#include "sandbox/walk.h"
#include "shared/json.h"
#include "shared/util.h"
#include "shared/stage.h"

static void note(struct aw_plan *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note(struct aw_plan *p, const char *fmt, ...)
{
	size_t n = strlen(p->notes);
	va_list ap;

	if (n + 2 >= sizeof(p->notes))
		return;
	if (n) {
		memcpy(p->notes + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(p->notes + n, sizeof(p->notes) - n, fmt, ap);
	va_end(ap);
}

/*
 * realpath() for the plan's ~110 policy paths, with their directories
 * remembered: the C library reads each component of each path as a
 * link (~450 readlink calls, a millisecond of every start), though the
 * paths share a few directories (~/.ssh, ~/.config, ...). Here a path's
 * directory is resolved once, and the path is that plus its last
 * component when that is not a link itself (one lstat); a link, "." or
 * ".." goes to realpath() whole. The same result as realpath(), errno
 * included, as long as nothing changes during the plan (which realpath
 * alone does not promise either).
 */
#define RP_MEMO_MAX 256

static struct rp_memo {
	char *dir;  /* as asked */
	char *real; /* NULL: failed with err */
	int err;
} rp_memo[RP_MEMO_MAX];
static size_t rp_n;

static void rp_forget(void)
{
	for (size_t i = 0; i < rp_n; i++) {
		free(rp_memo[i].dir);
		free(rp_memo[i].real);
	}
	rp_n = 0;
}

static char *plan_realpath(const char *path, char *ret);

/* The memo's entry for dir, resolved now if it is new; NULL when the memo
 * is full or memory is short (the caller asks realpath() instead). */
static const struct rp_memo *rp_dir(const char *dir)
{
	char real[PATH_MAX];
	struct rp_memo *m;
	int err;

	for (size_t i = 0; i < rp_n; i++)
		if (!strcmp(rp_memo[i].dir, dir))
			return &rp_memo[i];
	/* (Resolving dir may remember its own parents first.) */
	err = plan_realpath(dir, real) ? 0 : errno;
	if (rp_n == RP_MEMO_MAX)
		return NULL;
	m = &rp_memo[rp_n];
	m->err = err;
	m->dir = strdup(dir);
	m->real = err ? NULL : strdup(real);
	if (!m->dir || (!err && !m->real)) {
		free(m->dir);
		free(m->real);
		return NULL;
	}
	rp_n++;
	return m;
}

/* With st: also lstat() of the result (a realpath never names a link),
 * taken from the resolution when it had it; 1 if st is filled. */
static char *plan_realpath_st(const char *path, char *ret, struct stat *st,
			      int *have_st)
{
	char dir[PATH_MAX], full[PATH_MAX];
	const char *slash = strrchr(path, '/'), *base;
	const struct rp_memo *m;
	struct stat own;

	if (have_st)
		*have_st = 0;
	if (!st)
		st = &own;
	if (!slash || slash == path || !slash[1])
		return realpath(path, ret);
	base = slash + 1;
	if (!strcmp(base, ".") || !strcmp(base, "..") ||
	    (size_t)(slash - path) >= sizeof(dir))
		return realpath(path, ret);
	memcpy(dir, path, slash - path);
	dir[slash - path] = 0;
	m = rp_dir(dir);
	if (!m)
		return realpath(path, ret);
	if (!m->real) {
		errno = m->err;
		return NULL;
	}
	if ((size_t)snprintf(full, sizeof(full), "%s/%s",
			     strcmp(m->real, "/") ? m->real : "",
			     base) >= sizeof(full))
		return realpath(path, ret);
	if (lstat(full, st) < 0)
		return NULL; /* errno: as realpath's for the last one */
	if (S_ISLNK(st->st_mode))
		return realpath(path, ret);
	if (have_st)
		*have_st = 1;
	memcpy(ret, full, strlen(full) + 1);
	return ret;
}

static char *plan_realpath(const char *path, char *ret)
{
	return plan_realpath_st(path, ret, NULL, NULL);
}

/* The real path of the deepest existing ancestor of path, with the
 * missing components after it. */
static int real_or_parent(const char *path, char *ret, size_t len)
{
	char buf[PATH_MAX], real[PATH_MAX];
	char *slash;

	snprintf(buf, sizeof(buf), "%s", path);
	while ((slash = strrchr(buf, '/')) && slash != buf) {
		*slash = 0;
		if (plan_realpath(buf, real)) {
			if ((size_t)snprintf(ret, len, "%s%s%s",
					     strcmp(real, "/") ? real : "", "/",
					     path + (slash - buf) + 1) >= len)
				return -ENAMETOOLONG;
			return 0;
		}
	}
	return -ENOENT;
}

static int op_add(struct aw_plan *p, enum aw_fs_verb verb, const char *rule,
		  const char *path)
{
	char real[PATH_MAX];
	struct stat st;
	struct aw_plan_op *n;
	int have_st;

	if ((verb == AW_FS_ESCALATE || verb == AW_FS_STATE) &&
	    !plan_realpath(path, real)) {
		/* Not there yet: what matters is where it would be made
		 * (~/.config/autostart/x.desktop in a copy-on-write home). */
		if (real_or_parent(path, real, sizeof(real)) < 0)
			return 0;
	} else if (!plan_realpath_st(path, real, &st, &have_st) ||
		   (!have_st && lstat(real, &st) < 0)) {
		if (verb == AW_FS_COW || verb == AW_FS_WRITE ||
		    verb == AW_FS_TMPFS)
			note(p, "%s: %s: %s (grant skipped)", rule, path,
			     strerror(errno));
		/* A secret not there yet: masked ahead where it would
		 * appear, if a copy-on-write tree covers it. */
		if (verb == AW_FS_DENY && errno == ENOENT &&
		    p->n_later < AW_PLAN_OPS_MAX &&
		    real_or_parent(path, real, sizeof(real)) == 0)
			return aw_strv_add(&p->later, &p->n_later, real);
		return 0;
	}
	/* The same real path twice (~ and $HOME, or a link to a tree
	 * already listed): the first rule holds. */
	for (size_t i = 0; i < p->n_ops; i++)
		if (!strcmp(p->ops[i].path, real) && p->ops[i].verb == verb)
			return 0;
	if (p->n_ops >= AW_PLAN_OPS_MAX) {
		note(p, "more than %u paths: %s and later ones not applied",
		     AW_PLAN_OPS_MAX, path);
		return -E2BIG;
	}
	n = realloc(p->ops, (p->n_ops + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	p->ops = n;
	n = &p->ops[p->n_ops];
	memset(n, 0, sizeof(*n));
	n->verb = verb;
	n->rule = strdup(rule);
	n->path = strdup(real);
	if (!n->rule || !n->path) {
		free(n->rule);
		free(n->path);
		return -ENOMEM;
	}
	p->n_ops++;
	return 0;
}

/* A path with '*' in a component: each match. */
static int add_glob(struct aw_plan *p, enum aw_fs_verb verb, const char *rule,
		    const char *path)
{
	glob_t g = {};
	int r = 0;

	if (!strchr(path, '*'))
		return op_add(p, verb, rule, path);
	if (glob(path, GLOB_NOSORT | GLOB_NOESCAPE, NULL, &g) != 0)
		return 0; /* no match: nothing to do */
	for (size_t i = 0; i < g.gl_pathc && r >= 0; i++)
		r = op_add(p, verb, rule, g.gl_pathv[i]);
	globfree(&g);
	return r;
}

/* `**` NAME: every entry called NAME in the workspace (walk.c: bounded,
 * one file system, dependency trees last, with the cache directory the
 * daemon gave). */
static int add_named(struct aw_plan *p, const char *rule, const char *name,
		     const char *root, dev_t dev)
{
	struct aw_walk_result res;
	int r = aw_walk_named(root, dev, name, p->walk_cache, &res);

	for (size_t i = 0; r >= 0 && i < res.n; i++)
		r = op_add(p, AW_FS_DENY, rule, res.paths[i]);
	if (res.exhausted)
		note(p, "%s: stopped looking for %s after %u entries", rule,
		     name, AW_PLAN_WALK_MAX);
	if (getenv("AW_STAGES")) /* with the stage timings (stage.h) */
		fprintf(stderr, "WALK %s read=%zu cached=%zu found=%zu\n", name,
			res.dirs_read, res.dirs_cached, res.n);
	aw_walk_result_free(&res);
	return r;
}

/* Expand one policy path for this user; calls add for each result. */
/* The account's runtime directory (what XDG_RUNTIME_DIR is set to by a
 * login; the environment may say otherwise). */
static void own_runtime_dir(char *buf, size_t len)
{
	snprintf(buf, len, "/run/user/%u", (unsigned)getuid());
}

/* rest under the account's own base and under the one the environment
 * names, when that differs (CI, containers, su, sudo -E and IDEs point
 * HOME and XDG_RUNTIME_DIR elsewhere): both are masked or granted. */
static int expand_both(struct aw_plan *p, enum aw_fs_verb verb,
		       const char *rule, const char *own, const char *env,
		       const char *rest)
{
	char buf[PATH_MAX * 2];
	int r = 0;

	if (own[0]) {
		snprintf(buf, sizeof(buf), "%s%s", own, rest);
		r = add_glob(p, verb, rule, buf);
	}
	if (r >= 0 && env && env[0] == '/' && strcmp(env, own)) {
		snprintf(buf, sizeof(buf), "%s%s", env, rest);
		r = add_glob(p, verb, rule, buf);
	}
	return r;
}

static int expand(struct aw_plan *p, enum aw_fs_verb verb, const char *rule,
		  const char *path)
{
	char buf[PATH_MAX * 2];

	if (path[0] == '/')
		return add_glob(p, verb, rule, path);
	if (path[0] == '~')
		return expand_both(p, verb, rule, p->home, getenv("HOME"),
				   path + 1);
	if (!strncmp(path, "{workspace}", 11)) {
		if (!p->workspace[0])
			return 0;
		snprintf(buf, sizeof(buf), "%s%s", p->workspace, path + 11);
		return add_glob(p, verb, rule, buf);
	}
	if (!strncmp(path, "{runtime}", 9)) {
		char own[64];

		own_runtime_dir(own, sizeof(own));
		return expand_both(p, verb, rule, own,
				   getenv("XDG_RUNTIME_DIR"), path + 9);
	}
	if (!strcmp(path, "{env:SSH_AUTH_SOCK}")) {
		const char *s = getenv("SSH_AUTH_SOCK");

		return s && s[0] == '/' ? op_add(p, verb, rule, s) : 0;
	}
	if (!strncmp(path, "**/", 3)) {
		struct stat st;
		if (!p->workspace[0] || stat(p->workspace, &st) < 0)
			return 0;
		return add_named(p, rule, path + 3, p->workspace, st.st_dev);
	}
	note(p, "%s: %s: not a path this launcher knows", rule, path);
	return 0;
}

/*
 * Hard links into masked trees. A mask hides a path, not a file: a hard
 * link to ~/.ssh/id_rsa made earlier somewhere in the workspace would
 * still read the key. So the masked trees' multiply-linked files are
 * collected by identity (bounded), the workspace and the writable grants
 * are walked (bounded, one file system each), and every other name of
 * such a file is masked too, under the rule that masked the first.
 * (A copy-on-write home is not walked: too large to walk at every start.
 * Every other name, anywhere, is refused by identity by the daemon's
 * fanotify marks (src/daemon/secrets.c); these masks by name are the
 * layer that holds when the daemon is gone.)
 */
#define AW_LINKS_MAX 4096

struct secret_ids {
	struct {
		dev_t dev;
		ino_t ino;
		const char *rule;
	} v[AW_LINKS_MAX];
	size_t n;
};

static void secrets_collect(struct secret_ids *s, const char *path,
			    const char *rule, size_t *budget, int depth,
			    dev_t dev)
{
	struct stat st;
	DIR *d;
	struct dirent *de;

	/* (Not into other file systems: no link from outside reaches
	 * them, e.g. the session stores under agentwall's state.) */
	if (!*budget || depth > 16 || lstat(path, &st) < 0 || st.st_dev != dev)
		return;
	--*budget;
	if (S_ISREG(st.st_mode) && st.st_nlink > 1 && s->n < AW_LINKS_MAX) {
		s->v[s->n].dev = st.st_dev;
		s->v[s->n].ino = st.st_ino;
		s->v[s->n].rule = rule;
		s->n++;
		return;
	}
	if (!S_ISDIR(st.st_mode) || !(d = opendir(path)))
		return;
	while ((de = readdir(d)) && *budget) {
		char sub[PATH_MAX];

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path,
				     de->d_name) < sizeof(sub))
			secrets_collect(s, sub, rule, budget, depth + 1, dev);
	}
	closedir(d);
}

static int links_find(struct aw_plan *p, const struct secret_ids *s,
		      const char *path, size_t *budget, int depth, dev_t dev)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (!*budget || depth > 32 || lstat(path, &st) < 0 || st.st_dev != dev)
		return 0;
	--*budget;
	if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
		for (size_t i = 0; i < s->n; i++)
			if (s->v[i].dev == st.st_dev &&
			    s->v[i].ino == st.st_ino)
				return op_add(p, AW_FS_DENY, s->v[i].rule,
					      path);
		return 0;
	}
	if (!S_ISDIR(st.st_mode) || !(d = opendir(path)))
		return 0;
	while ((de = readdir(d)) && *budget && r >= 0) {
		char sub[PATH_MAX];

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path,
				     de->d_name) < sizeof(sub))
			r = links_find(p, s, sub, budget, depth + 1, dev);
	}
	closedir(d);
	return r;
}

/* Is root one of the trees links_find() walks (the workspace, a write
 * grant)? */
static int link_searched(const struct aw_plan *p, const struct aw_plan_op *o)
{
	return o->verb == AW_FS_WRITE ||
	       (o->verb == AW_FS_COW && p->workspace[0] &&
		!strcmp(o->path, p->workspace));
}

static int mask_hard_links(struct aw_plan *p)
{
	struct secret_ids *s = calloc(1, sizeof(*s));
	size_t budget = AW_PLAN_WALK_MAX, n_ops = p->n_ops, n_devs = 0;
	dev_t devs[16];
	int r = 0;

	if (!s)
		return -ENOMEM;
	/* A hard link lives on the file system of what it links to: only
	 * masked trees on the file systems of the searched trees can have
	 * another name there (a mask on /run or /sys/fs/bpf is not walked
	 * at every session start). */
	for (size_t i = 0; i < n_ops && n_devs < AW_ARRAY_SIZE(devs); i++) {
		struct stat st;

		if (link_searched(p, &p->ops[i]) &&
		    stat(p->ops[i].path, &st) == 0)
			devs[n_devs++] = st.st_dev;
	}
	for (size_t i = 0; i < n_ops; i++) {
		struct stat st;
		int same = 0;

		/* agentwall's own state: root's files, marked by identity
		 * by the daemon for every session (walking it here would
		 * be refused, and recorded as an attempt). */
		if (p->ops[i].verb != AW_FS_DENY ||
		    strstr(p->ops[i].rule, "/agentwall.self") ||
		    lstat(p->ops[i].path, &st) < 0)
			continue;
		for (size_t j = 0; j < n_devs; j++)
			same |= devs[j] == st.st_dev;
		if (same)
			secrets_collect(s, p->ops[i].path, p->ops[i].rule,
					&budget, 0, st.st_dev);
	}
	budget = AW_PLAN_WALK_MAX;
	for (size_t i = 0; s->n && i < n_ops && r >= 0; i++) {
		struct stat st;
		const char *root = p->ops[i].path;

		if (link_searched(p, &p->ops[i]))
			if (stat(root, &st) == 0)
				r = links_find(p, s, root, &budget, 0,
					       st.st_dev);
	}
	free(s);
	return r;
}

/* Is path at or under root (both real paths)? */
static int under(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (!strcmp(root, "/"))
		return 1;
	return !strncmp(path, root, n) && (path[n] == 0 || path[n] == '/');
}

/* The deepest op at or above path whose verb is in the mask (bits of
 * 1 << verb), or NULL. */
static const struct aw_plan_op *covering(const struct aw_plan *p,
					 const char *path, unsigned verbs)
{
	const struct aw_plan_op *best = NULL;

	for (size_t i = 0; i < p->n_ops; i++) {
		const struct aw_plan_op *o = &p->ops[i];

		if (!(verbs & (1u << o->verb)) || !under(path, o->path))
			continue;
		if (!best || strlen(o->path) > strlen(best->path))
			best = o;
	}
	return best;
}

#define WRITABLE ((1u << AW_FS_COW) | (1u << AW_FS_TMPFS) | (1u << AW_FS_WRITE))
#define HIDING ((1u << AW_FS_DENY) | (1u << AW_FS_TMPFS))

/*
 * The agent's temporary directories. Agents create their scratch files
 * where their environment says (TMPDIR and friends), wherever that is; a
 * read-only view there breaks them (Claude Code hangs on EROFS, Gemini
 * CLI's shell tool fails). So each such directory that no writable grant
 * covers gets a private empty tmpfs, gone with the session. A policy that
 * wants something else names the path itself: `write` keeps the files in
 * the real directory, `cow` keeps them in the session store, and a `deny`
 * above it is respected (no tmpfs inside a mask).
 */
static const char *const temp_vars[] = {
    "TMPDIR", "TMP", "TEMP", "TEMPDIR", "XDG_RUNTIME_DIR", "XDG_CACHE_HOME",
};

/* One such directory (v, named by name): a private tmpfs, or a note
 * saying why not. own: the account's runtime directory, not named by the
 * environment (its absence is said nowhere). */
static int temp_dir(struct aw_plan *p, const char *name, const char *v, int own)
{
	char real[PATH_MAX], rule[160];
	const struct aw_plan_op *c;
	struct stat st;

	if (!v || v[0] != '/')
		return 0;
	errno = 0;
	if (!realpath(v, real) || stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
		if (!own)
			note(p, "%s=%s: %s (no temporary directory made)", name,
			     v, errno ? strerror(errno) : "not a directory");
		return 0;
	}
	/* The policy's own grant (or mask) holds; under a private tmpfs
	 * (TMPDIR=/tmp/u) the directory must still be made. */
	c = covering(p, real, WRITABLE | (1u << AW_FS_DENY));
	if (c && (c->verb != AW_FS_TMPFS || !strcmp(c->path, real)))
		return 0;
	/* Never a tmpfs over the root, the workspace, the home or a tree
	 * that holds them: that would hide the user's files. */
	if (!strcmp(real, "/") ||
	    (p->workspace[0] && under(p->workspace, real)) ||
	    (p->home[0] && under(p->home, real))) {
		note(p,
		     "%s=%s holds the workspace or the home (no temporary "
		     "directory made)",
		     name, v);
		return 0;
	}
	snprintf(rule, sizeof(rule), "%s/temp.%s", p->policy, name);
	return op_add(p, AW_FS_TMPFS, rule, real);
}

static int add_temp_dirs(struct aw_plan *p)
{
	char own_rt[64];
	int r = 0;

	for (size_t i = 0; r >= 0 && i < AW_ARRAY_SIZE(temp_vars); i++)
		r = temp_dir(p, temp_vars[i], getenv(temp_vars[i]), 0);
	/* The account's own runtime directory too, wherever XDG_RUNTIME_DIR
	 * points (su, sudo -E, an IDE's or WSLg's own value): its sockets
	 * (the session bus, agents, tmux, docker) stay out either way. */
	own_runtime_dir(own_rt, sizeof(own_rt));
	return r < 0 ? r : temp_dir(p, "runtime", own_rt, 1);
}

/*
 * The agent's own program stays reachable: an agent installed under /tmp
 * (or any tree the policy replaces with a private tmpfs) would otherwise
 * not find its own files in the session ("Cannot find module"). For the
 * executable and the script an interpreter was given, when a tmpfs hides
 * it, the file is bound back read-only, or for a package, the
 * node_modules tree it was installed in (/tmp/a/node_modules for
 * /tmp/a/node_modules/x/cli.js: its dependencies are siblings). A mask is
 * never undone: a program inside a masked tree stays masked (the session
 * says so).
 */
static int keep_one(struct aw_plan *p, const char *path)
{
	char real[PATH_MAX], top[PATH_MAX];
	const struct aw_plan_op *h;
	const char *rest;
	size_t n;

	if (!realpath(path, real))
		return 0;
	h = covering(p, real, HIDING | (1u << AW_FS_COW) | (1u << AW_FS_WRITE));
	if (!h || h->verb == AW_FS_COW || h->verb == AW_FS_WRITE)
		return 0; /* visible as it is */
	if (h->verb == AW_FS_DENY) {
		note(p, "the program %s is inside the masked %s (%s)", real,
		     h->path, h->rule);
		return 0;
	}
	/* A package's files: the whole dependency tree it was installed
	 * with (the outermost node_modules below the hidden directory);
	 * anything else: the file itself. */
	n = strcmp(h->path, "/") ? strlen(h->path) : 0;
	rest = strstr(real + n, "/node_modules/");
	if (rest)
		snprintf(top, sizeof(top), "%.*s",
			 (int)(rest - real) + (int)strlen("/node_modules"),
			 real);
	else
		snprintf(top, sizeof(top), "%s", real);
	for (size_t i = 0; i < p->n_ops; i++)
		if (p->ops[i].verb == AW_FS_PROGRAM &&
		    under(top, p->ops[i].path))
			return 0;
	return op_add(p, AW_FS_PROGRAM, "agentwall.program", top);
}

int aw_plan_keep_program(struct aw_plan *p, const char *exe, char *const *argv)
{
	int r = keep_one(p, exe);

	/* An interpreter's script: its first argument that is not an
	 * option and names a file. */
	for (size_t i = 1; r >= 0 && argv[0] && argv[i] && i < 8; i++) {
		struct stat st;

		if (argv[i][0] == '-')
			continue;
		if (stat(argv[i], &st) == 0 && S_ISREG(st.st_mode))
			r = keep_one(p, argv[i]);
		break;
	}
	return r;
}

/*
 * Secrets and sockets that appear after the session started (`aws
 * configure` writing ~/.aws/credentials during a long session): a mask
 * mount needs a path to mount on. Inside a copy-on-write tree the upper
 * layer can hold one ahead: a whiteout at the first missing component
 * hides whatever the real tree later gets there (review knows these
 * whiteouts are the launcher's, never a deletion). Under a private tmpfs
 * nothing from outside appears; elsewhere (a read-only or writable view
 * of the real tree) it cannot be done with a mount: said in the notes.
 */
static int masks_ahead(struct aw_plan *p)
{
	size_t uncovered = 0;
	char first[PATH_MAX] = "";

	for (size_t i = 0; i < p->n_later; i++) {
		const char *l = p->later[i];
		const struct aw_plan_op *c =
		    covering(p, l, WRITABLE | (1u << AW_FS_DENY));
		char m[PATH_MAX];
		struct stat st;
		size_t n;
		struct aw_plan_ahead *a;

		if (c && (c->verb == AW_FS_DENY || c->verb == AW_FS_TMPFS))
			continue;
		if (!c || c->verb != AW_FS_COW) {
			if (!uncovered++)
				snprintf(first, sizeof(first), "%s", l);
			continue;
		}
		/* The first component below the tree that is not there. */
		n = strcmp(c->path, "/") ? strlen(c->path) : 0;
		do {
			const char *next = strchr(l + n + 1, '/');

			n = next ? (size_t)(next - l) : strlen(l);
			snprintf(m, sizeof(m), "%.*s", (int)n, l);
		} while (lstat(m, &st) == 0 && l[n]);
		if (lstat(m, &st) == 0)
			continue; /* there now: the mask mount covers it */
		for (size_t j = 0; j < p->n_ahead; j++)
			if (!strcmp(p->ahead[j].path, m))
				goto next;
		a = realloc(p->ahead, (p->n_ahead + 1) * sizeof(*a));
		if (!a)
			return -ENOMEM;
		p->ahead = a;
		a[p->n_ahead].op = (size_t)(c - p->ops);
		if (!(a[p->n_ahead].path = strdup(m)))
			return -ENOMEM;
		p->n_ahead++;
	next:;
	}
	if (uncovered)
		note(p,
		     "%zu masked path%s absent at start outside a "
		     "copy-on-write tree (%s%s): if created during the "
		     "session, not masked by name",
		     uncovered, uncovered == 1 ? "" : "s", first,
		     uncovered > 1 ? ", ..." : "");
	return 0;
}

/* "seccomp mask=N notify=N prog=HEX" (len bytes at s, no newline): the
 * program the daemon made for the session (see aw_seccomp_program). */
static int seccomp_line(struct aw_plan *plan, const char *s, size_t len)
{
	const char *prog = memmem(s, len, " prog=", 6);
	char head[128], val[32];
	size_t hexlen, n;
	uint64_t mask, notify;
	char *hex;
	int r;

	if (!prog || (size_t)(prog - s) >= sizeof(head))
		return -EPROTO;
	memcpy(head, s, prog - s);
	head[prog - s] = 0;
	if (aw_kv_get(head, "mask", val, sizeof(val)) < 0 ||
	    aw_parse_u64(val, &mask) < 0 || mask > UINT32_MAX ||
	    aw_kv_get(head, "notify", val, sizeof(val)) < 0 ||
	    aw_parse_u64(val, &notify) < 0 || notify > 255)
		return -EPROTO;
	prog += 6;
	hexlen = len - (size_t)(prog - s);
	n = hexlen / (2 * sizeof(struct sock_filter));
	if (!n || n > BPF_MAXINSNS ||
	    hexlen != n * 2 * sizeof(struct sock_filter))
		return -EPROTO;
	hex = strndup(prog, hexlen);
	free(plan->filter);
	plan->filter = malloc(n * sizeof(struct sock_filter));
	if (!hex || !plan->filter) {
		free(hex);
		return -ENOMEM;
	}
	r = aw_unhex(hex, n * sizeof(struct sock_filter), plan->filter);
	free(hex);
	if (r < 0) {
		free(plan->filter);
		plan->filter = NULL;
		return -EPROTO;
	}
	plan->n_filter = n;
	plan->filter_mask = (uint32_t)mask;
	plan->filter_notify = (int)notify;
	return 0;
}

static enum aw_fs_verb verb_of(const char *s)
{
	static const enum aw_fs_verb all[] = {AW_FS_DENY,     AW_FS_COW,
					      AW_FS_TMPFS,    AW_FS_WRITE,
					      AW_FS_ESCALATE, AW_FS_STATE};

	for (size_t i = 0; i < AW_ARRAY_SIZE(all); i++)
		if (!strcmp(s, aw_fs_verb_name(all[i])))
			return all[i];
	return 0;
}

/*
 * The session store's manifest: each copy-on-write tree keeps the upper
 * directory it had (a resumed session continues where it stopped), new
 * trees get the next number, and the escalated paths are recorded for
 * review. Written before anything is mounted.
 */
static int bind_store(struct aw_plan *plan, char *err, size_t errlen)
{
	struct aw_manifest m = {};
	int r = aw_manifest_read(plan->dir, &m, err, errlen);

	if (r == -ENOENT) {
		memset(&m, 0, sizeof(m));
		r = 0;
	}
	if (r < 0) {
		if (!err[0])
			snprintf(err, errlen, "session store %s: %s", plan->dir,
				 strerror(-r));
		return r;
	}
	if (!m.workspace && plan->workspace[0])
		m.workspace = strdup(plan->workspace);
	for (size_t i = 0; i < plan->n_ops && r >= 0; i++) {
		if (plan->ops[i].verb == AW_FS_COW) {
			r = aw_manifest_tree(&m, plan->ops[i].path);
			if (r >= 0)
				plan->ops[i].idx = (unsigned)r;
		} else if (plan->ops[i].verb == AW_FS_ESCALATE) {
			r = aw_manifest_escalate(&m, plan->ops[i].path);
		} else if (plan->ops[i].verb == AW_FS_STATE) {
			r = aw_manifest_state(&m, plan->ops[i].path);
		}
	}
	for (size_t i = 0; i < plan->n_ahead && r >= 0; i++)
		r = aw_manifest_mask(&m, plan->ahead[i].path);
	/* The homes `~` means (the account's and the HOME given), for the
	 * dot-path rule. */
	if (r >= 0 && plan->home[0])
		r = aw_manifest_home(&m, plan->home);
	{
		const char *env = getenv("HOME");
		char real[PATH_MAX];

		if (r >= 0 && env && env[0] == '/' && realpath(env, real) &&
		    strcmp(real, "/"))
			r = aw_manifest_home(&m, real);
	}
	if (r >= 0)
		r = aw_manifest_write(plan->dir, &m);
	if (r < 0)
		snprintf(err, errlen, "session store %s: manifest: %s",
			 plan->dir, strerror(-r));
	aw_manifest_free(&m);
	return r < 0 ? r : 0;
}

static int plan_parse(struct aw_plan *plan, const char *reply,
		      const char *workspace, char *err, size_t errlen)
{
	const char *line = reply, *nl;
	char val[PATH_MAX];
	int r = 0, ended = 0;

	memset(plan, 0, sizeof(*plan));
	/* The account's home, looked up once (NSS is not cheap). */
	{
		struct passwd *pw = getpwuid(getuid());

		if (pw && pw->pw_dir && pw->pw_dir[0] == '/')
			snprintf(plan->home, sizeof(plan->home), "%s",
				 pw->pw_dir);
	}
	snprintf(plan->workspace, sizeof(plan->workspace), "%s",
		 workspace ? workspace : "");
	if (strncmp(reply, "ok ", 3)) {
		nl = strchr(reply, '\n');
		snprintf(err, errlen, "%.*s",
			 (int)(nl ? nl - reply : (long)strlen(reply)), reply);
		return -EPERM;
	}
	nl = strchr(reply, '\n');
	{
		char first[8192];
		uint64_t v;

		snprintf(first, sizeof(first), "%.*s", (int)(nl - reply),
			 reply + 3);
		if (aw_kv_get(first, "session", plan->session,
			      sizeof(plan->session)) < 0 ||
		    aw_kv_get(first, "policy", plan->policy,
			      sizeof(plan->policy)) < 0 ||
		    aw_kv_get(first, "dir", plan->dir, sizeof(plan->dir)) < 0) {
			snprintf(err, errlen,
				 "malformed reply from agentwalld");
			return -EPROTO;
		}
		aw_kv_get(first, "agent", plan->agent, sizeof(plan->agent));
		/* A resumed session keeps the workspace it had. */
		if (aw_kv_get(first, "workspace", val, sizeof(val)) == 0 &&
		    val[0] == '/')
			snprintf(plan->workspace, sizeof(plan->workspace), "%s",
				 val);
		plan->notify =
		    !(aw_kv_get(first, "notify", val, sizeof(val)) == 0 &&
		      !strcmp(val, "0"));
		plan->display =
		    aw_kv_get(first, "display", val, sizeof(val)) == 0 &&
		    !strcmp(val, "1");
		plan->input =
		    aw_kv_get(first, "input", val, sizeof(val)) == 0 &&
		    !strcmp(val, "1");
		plan->refusals =
		    !(aw_kv_get(first, "refusals", val, sizeof(val)) == 0 &&
		      !strcmp(val, "0"));
		/* Where the walks for `**` names keep what they saw
		 * (walk.h); none from an older daemon. */
		if (aw_kv_get(first, "walkcache", val, sizeof(val)) == 0 &&
		    val[0] == '/')
			snprintf(plan->walk_cache, sizeof(plan->walk_cache),
				 "%s", val);
		aw_kv_get(first, "product", plan->product,
			  sizeof(plan->product));
		if (aw_kv_get(first, "syscalls", val, sizeof(val)) == 0 &&
		    aw_parse_u64(val, &v) == 0)
			plan->allow_syscalls = (uint32_t)v;
	}
	for (line = nl + 1; *line && r >= 0; line = nl + 1) {
		char l[PATH_MAX * 4], verb[16], id[128], path[PATH_MAX],
		    rule[256];
		enum aw_fs_verb v;

		nl = strchr(line, '\n');
		if (!nl)
			break;
		if (!strncmp(line, "seccomp ", 8)) {
			r = seccomp_line(plan, line + 8,
					 (size_t)(nl - line) - 8);
			if (r < 0) {
				snprintf(err, errlen,
					 "malformed seccomp program from "
					 "agentwalld");
				break;
			}
			continue;
		}
		if ((size_t)(nl - line) >= sizeof(l))
			continue;
		memcpy(l, line, nl - line);
		l[nl - line] = 0;
		if (!strcmp(l, "end")) {
			ended = 1;
			break;
		}
		if (strncmp(l, "rule ", 5) ||
		    aw_kv_get(l + 5, "verb", verb, sizeof(verb)) < 0 ||
		    aw_kv_get(l + 5, "id", id, sizeof(id)) < 0 ||
		    aw_kv_get(l + 5, "path", path, sizeof(path)) < 0 ||
		    !(v = verb_of(verb))) {
			snprintf(err, errlen, "malformed rule from agentwalld");
			r = -EPROTO;
			break;
		}
		snprintf(rule, sizeof(rule), "%s/%s", plan->policy, id);
		r = expand(plan, v, rule, path);
	}
	if (r >= 0 && !ended) {
		snprintf(err, errlen, "truncated reply from agentwalld");
		r = -EPROTO;
	}
	if (r < 0) {
		if (!err[0])
			snprintf(err, errlen, "policy paths: %s", strerror(-r));
		aw_plan_free(plan);
		return r;
	}
	aw_stage("p-rules");
	r = add_temp_dirs(plan);
	aw_stage("p-temp");
	if (r >= 0)
		r = masks_ahead(plan);
	aw_stage("p-ahead");
	if (r >= 0)
		r = mask_hard_links(plan);
	aw_stage("p-links");
	if (r < 0) {
		snprintf(err, errlen, "looking for hard links: %s",
			 strerror(-r));
		aw_plan_free(plan);
		return r;
	}
	r = bind_store(plan, err, errlen);
	if (r < 0) {
		aw_plan_free(plan);
		return r;
	}
	return 0;
}

int aw_plan_from_reply(struct aw_plan *plan, const char *reply,
		       const char *workspace, char *err, size_t errlen)
{
	int r;

	rp_forget();
	r = plan_parse(plan, reply, workspace, err, errlen);
	rp_forget();
	return r;
}

void aw_plan_free(struct aw_plan *plan)
{
	free(plan->filter);
	plan->filter = NULL;
	plan->n_filter = 0;
	for (size_t i = 0; i < plan->n_ops; i++) {
		free(plan->ops[i].rule);
		free(plan->ops[i].path);
	}
	free(plan->ops);
	plan->ops = NULL;
	plan->n_ops = 0;
	aw_strv_free(plan->later, plan->n_later);
	plan->later = NULL;
	plan->n_later = 0;
	for (size_t i = 0; i < plan->n_ahead; i++)
		free(plan->ahead[i].path);
	free(plan->ahead);
	plan->ahead = NULL;
	plan->n_ahead = 0;
}
