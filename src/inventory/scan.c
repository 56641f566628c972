// SPDX-License-Identifier: GPL-2.0-only
/*
 * Accounts -> the agents installed and the MCP servers configured. What
 * is found is classified by the signature database, the same one the
 * kernel uses: package names (`package:`), path rules (the compiled DFA,
 * as at exec) and content digests (`content:`, a size first, then the
 * SHA-256). Every walk is bounded (entries, depth) and never follows a
 * symlink into a directory; files under an account's home are opened
 * with that account's file-system identity when run as root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "inventory/inventory.h"
#include "shared/jsonr.h"
#include "shared/util.h"
#include "signatures/signatures.h"

#define INV_DIR_ENTRIES_MAX 4096 /* entries looked at per directory */
#define INV_WALK_FILES_MAX 20000 /* files per tree walk (/opt, extension) */
#define INV_WALK_DEPTH 6
#define INV_PKG_JSON_MAX (1u << 20)
#define INV_CACHE_MAX 1024

struct inv_digest {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	uint8_t sha[32];
};

struct aw_inv_cache {
	struct inv_digest *v;
	size_t n, next;
};

struct aw_inv_cache *aw_inv_cache_new(void)
{
	return calloc(1, sizeof(struct aw_inv_cache));
}

void aw_inv_cache_free(struct aw_inv_cache *c)
{
	if (!c)
		return;
	free(c->v);
	free(c);
}

/* One scan's context. */
struct sc {
	const struct aw_inv_scan_opts *o;
	struct aw_inventory *inv;
	const struct aw_inv_account *acct; /* NULL: system-wide */
	uid_t as_uid;
	gid_t as_gid;
	int err;
};

static char *xstrdup(struct sc *s, const char *v)
{
	char *r;

	if (!v)
		return NULL;
	r = strdup(v);
	if (!r)
		s->err = -ENOMEM;
	return r;
}

static void problem(struct sc *s, const char *path, const char *reason)
{
	struct aw_inv_problem *np;

	np = realloc(s->inv->problems, (s->inv->n_problems + 1) * sizeof(*np));
	if (!np) {
		s->err = -ENOMEM;
		return;
	}
	s->inv->problems = np;
	np += s->inv->n_problems++;
	np->account = xstrdup(s, s->acct ? s->acct->name : NULL);
	np->path = xstrdup(s, path);
	np->reason = xstrdup(s, reason);
}

static void problem_diag(struct sc *s, const char *path,
			 const struct aw_diag *d)
{
	char msg[600];

	if (d->line)
		snprintf(msg, sizeof(msg), "line %u, column %u: %s", d->line,
			 d->column, d->message);
	else
		snprintf(msg, sizeof(msg), "%s", d->message);
	problem(s, path, msg);
}

static void add_str(struct sc *s, char ***v, size_t *n, const char *str)
{
	char **nv;

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], str))
			return;
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv) {
		s->err = -ENOMEM;
		return;
	}
	*v = nv;
	nv[*n] = xstrdup(s, str);
	if (nv[*n])
		(*n)++;
}

/* A directory the daemon should watch (exists, is a directory). */
static void watch_dir(struct sc *s, const char *dir)
{
	struct stat st;

	if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		add_str(s, &s->inv->dirs, &s->inv->n_dirs, dir);
}

static int owned_by(const char *dir, uid_t uid)
{
	struct stat st;

	return lstat(dir, &st) == 0 && st.st_uid == uid;
}

/* Begin and end acting as the account (file-system identity only). */
static void as_acct(struct sc *s, uid_t *save_uid, gid_t *save_gid)
{
	if (s->as_uid == (uid_t)-1)
		return;
	*save_gid = (gid_t)setfsgid(s->as_gid);
	*save_uid = (uid_t)setfsuid(s->as_uid);
}

static void as_self(struct sc *s, uid_t save_uid, gid_t save_gid)
{
	if (s->as_uid == (uid_t)-1)
		return;
	setfsuid(save_uid);
	setfsgid(save_gid);
}

static DIR *open_dir(struct sc *s, const char *path)
{
	uid_t u = 0;
	gid_t g = 0;
	int fd;
	DIR *d;

	as_acct(s, &u, &g);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	as_self(s, u, g);
	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (!d)
		close(fd);
	return d;
}

static struct aw_jv *read_json(struct sc *s, const char *path, int report)
{
	struct aw_diag d = {};
	struct aw_jv *doc = NULL;
	char *data = NULL;
	size_t len = 0;
	int r;

	r = aw_inv_read_file(AT_FDCWD, path, s->as_uid, s->as_gid,
			     INV_PKG_JSON_MAX, &data, &len, &d);
	if (r == 0) {
		r = aw_jsonr_parse(data, len, 0, path, &doc, &d);
		free(data);
	}
	if (r && r != -ENOENT && report)
		problem_diag(s, path, &d);
	return r ? NULL : doc;
}

static const struct aw_signature *sig_by_package(const struct aw_sigdb *db,
						 const char *name)
{
	for (size_t i = 0; i < db->n_sigs; i++)
		if (db->sigs[i].package && !strcmp(db->sigs[i].package, name))
			return &db->sigs[i];
	return NULL;
}

/* Path rules, as the kernel applies them: exe first, then script. */
static const struct aw_signature *sig_by_path(const struct aw_inv_scan_opts *o,
					      const char *path,
					      const char **ret_rule)
{
	const struct aw_compiled *c = o->comp;
	uint32_t r = aw_compiled_match(c, c->exe_start, path);

	if (!r || c->rules[r - 1].sig_index >= o->db->n_sigs)
		r = aw_compiled_match(c, c->script_start, path);
	if (!r || c->rules[r - 1].sig_index >= o->db->n_sigs)
		return NULL;
	if (ret_rule)
		*ret_rule = c->rules[r - 1].pattern;
	return &o->db->sigs[c->rules[r - 1].sig_index];
}

/* Content identity of a regular file whose size a signature names. */
static const struct aw_signature *sig_by_content(struct sc *s, const char *path,
						 const struct stat *st)
{
	struct aw_inv_cache *cache = s->o->cache;
	const struct aw_sigdb *db = s->o->db;
	struct inv_digest *hit = NULL, e = {};
	struct stat fst;
	uid_t u = 0;
	gid_t g = 0;
	int fd;

	if (!S_ISREG(st->st_mode) ||
	    !aw_sigdb_content_size_named(db, (uint64_t)st->st_size))
		return NULL;
	for (size_t i = 0; cache && i < cache->n; i++) {
		struct inv_digest *c = &cache->v[i];

		if (c->dev == st->st_dev && c->ino == st->st_ino &&
		    c->size == st->st_size &&
		    !memcmp(&c->mtime, &st->st_mtim, sizeof(c->mtime)) &&
		    !memcmp(&c->ctime, &st->st_ctim, sizeof(c->ctime))) {
			hit = c;
			break;
		}
	}
	if (!hit) {
		as_acct(s, &u, &g);
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
				    O_NOCTTY);
		as_self(s, u, g);
		if (fd < 0)
			return NULL;
		if (fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode) ||
		    fst.st_ino != st->st_ino || fst.st_dev != st->st_dev ||
		    aw_content_sha256_fd(fd, e.sha) < 0) {
			close(fd);
			return NULL;
		}
		close(fd);
		s->inv->hashed++;
		e.dev = st->st_dev;
		e.ino = st->st_ino;
		e.size = st->st_size;
		e.mtime = st->st_mtim;
		e.ctime = st->st_ctim;
		hit = &e;
		if (cache) {
			if (!cache->v)
				cache->v =
				    calloc(INV_CACHE_MAX, sizeof(*cache->v));
			if (cache->v) {
				/* Round robin once full. */
				size_t at = cache->n < INV_CACHE_MAX
						? cache->n++
						: cache->next++ % INV_CACHE_MAX;

				cache->v[at] = e;
			}
		}
	}
	return aw_sigdb_content_find(db, (uint64_t)st->st_size, hit->sha);
}

static void add_agent(struct sc *s, const struct aw_signature *sig,
		      const char *version, const char *path, const char *where,
		      const char *rule)
{
	struct aw_inv_agent *na;

	for (size_t i = 0; i < s->inv->n_agents; i++) {
		const struct aw_inv_agent *a = &s->inv->agents[i];

		if (!strcmp(a->path, path) && !strcmp(a->id, sig->id))
			return;
	}
	na = realloc(s->inv->agents, (s->inv->n_agents + 1) * sizeof(*na));
	if (!na) {
		s->err = -ENOMEM;
		return;
	}
	s->inv->agents = na;
	na += s->inv->n_agents++;
	memset(na, 0, sizeof(*na));
	na->account = xstrdup(s, s->acct ? s->acct->name : NULL);
	na->id = xstrdup(s, sig->id);
	na->vendor = xstrdup(s, sig->vendor);
	na->product = xstrdup(s, sig->product);
	na->class = xstrdup(s, sig->class);
	na->version = xstrdup(s, version);
	na->path = xstrdup(s, path);
	na->where = xstrdup(s, where);
	na->rule = xstrdup(s, rule);
}

/* The version in the package.json above path whose name is package. */
static char *version_above(struct sc *s, const char *path, const char *package)
{
	char dir[PATH_MAX], file[PATH_MAX + 16];
	char *ver = NULL;

	if (!package || strlen(path) >= sizeof(dir))
		return NULL;
	strcpy(dir, path);
	for (int depth = 0; depth < 8 && !ver; depth++) {
		char *slash = strrchr(dir, '/');
		struct aw_jv *doc;
		const char *n, *v;

		if (!slash || slash == dir)
			break;
		*slash = 0;
		snprintf(file, sizeof(file), "%s/package.json", dir);
		doc = read_json(s, file, 0);
		n = aw_jv_get_str(doc, "name");
		v = aw_jv_get_str(doc, "version");
		if (n && v && !strcmp(n, package))
			ver = xstrdup(s, v);
		aw_jv_free(doc);
	}
	return ver;
}

/* A file found in a directory: symlink (its target's path), regular file
 * (its path, then its content). */
static void classify_entry(struct sc *s, const char *dir, const char *name,
			   const char *where)
{
	char path[PATH_MAX], target[PATH_MAX], real[PATH_MAX];
	const struct aw_signature *sig = NULL;
	const char *rule = NULL, *found = path;
	struct stat st;
	char *ver;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return;
	if (lstat(path, &st) < 0)
		return;
	if (S_ISLNK(st.st_mode)) {
		/* Only the link's text: never followed into the account's
		 * tree as root. */
		ssize_t n = readlink(path, target, sizeof(target) - 1);

		if (n <= 0)
			return;
		target[n] = 0;
		if (target[0] == '/')
			snprintf(real, sizeof(real), "%s", target);
		else
			snprintf(real, sizeof(real), "%s/%s", dir, target);
		sig = sig_by_path(s->o, real, &rule);
		if (sig)
			found = real;
	} else if (S_ISREG(st.st_mode)) {
		sig = sig_by_path(s->o, path, &rule);
		if (!sig && (st.st_mode & 0111)) {
			sig = sig_by_content(s, path, &st);
			if (sig) {
				rule = "content sha256";
				where = "content";
			}
		}
	}
	if (!sig)
		return;
	ver = version_above(s, found, sig->package);
	add_agent(s, sig, ver, path, where, rule);
	free(ver);
}

static void scan_bin_dir(struct sc *s, const char *dir)
{
	DIR *d = open_dir(s, dir);
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return;
	watch_dir(s, dir);
	while ((e = readdir(d)) && n++ < INV_DIR_ENTRIES_MAX && !s->err) {
		if (e->d_name[0] == '.')
			continue;
		classify_entry(s, dir, e->d_name, "bin");
	}
	closedir(d);
}

/* A tree (/opt, an editor extension): executables by path and content. */
static void walk(struct sc *s, const char *dir, int depth, size_t *budget,
		 const char *where, const char *version)
{
	DIR *d;
	struct dirent *e;

	if (depth > INV_WALK_DEPTH)
		return;
	d = open_dir(s, dir);
	if (!d)
		return;
	while ((e = readdir(d)) && *budget && !s->err) {
		char path[PATH_MAX];
		const struct aw_signature *sig;
		const char *rule = NULL;
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		(*budget)--;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     e->d_name) >= sizeof(path))
			continue;
		if (lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			/* node_modules of an extension: not agents of
			 * their own, and large. */
			if (strcmp(e->d_name, "node_modules"))
				walk(s, path, depth + 1, budget, where,
				     version);
			continue;
		}
		if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
			continue;
		sig = sig_by_path(s->o, path, &rule);
		if (!sig) {
			sig = sig_by_content(s, path, &st);
			rule = "content sha256";
		}
		if (!sig)
			continue;
		if (version) {
			add_agent(s, sig, version, path, where, rule);
		} else {
			char *v = version_above(s, path, sig->package);

			add_agent(s, sig, v, path, where, rule);
			free(v);
		}
	}
	closedir(d);
}

static void scan_extensions(struct sc *s, const char *dir)
{
	DIR *d = open_dir(s, dir);
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return;
	watch_dir(s, dir);
	while ((e = readdir(d)) && n++ < INV_DIR_ENTRIES_MAX && !s->err) {
		char path[PATH_MAX], pj[PATH_MAX + 16];
		size_t budget = 5000;
		struct aw_jv *man;

		if (e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     e->d_name) >= sizeof(path))
			continue;
		snprintf(pj, sizeof(pj), "%s/package.json", path);
		/* The extension's manifest gives the version of what it
		 * bundles. */
		man = read_json(s, pj, 0);
		walk(s, path, 1, &budget, "extension",
		     aw_jv_get_str(man, "version"));
		aw_jv_free(man);
	}
	closedir(d);
}

/* One package directory under node_modules. */
static void scan_package(struct sc *s, const char *pkgdir)
{
	char pj[PATH_MAX + 16];
	const struct aw_signature *sig;
	const struct aw_jv *bin;
	const char *name, *version, *rule = NULL;
	struct aw_jv *doc;
	char rulebuf[300];

	snprintf(pj, sizeof(pj), "%s/package.json", pkgdir);
	doc = read_json(s, pj, 1);
	name = aw_jv_get_str(doc, "name");
	version = aw_jv_get_str(doc, "version");
	if (!name) {
		aw_jv_free(doc);
		return;
	}
	sig = sig_by_package(s->o->db, name);
	if (sig) {
		snprintf(rulebuf, sizeof(rulebuf), "package %s", name);
		add_agent(s, sig, version, pkgdir, "npm", rulebuf);
		aw_jv_free(doc);
		return;
	}
	/* Not named by a signature: its launchers may be. */
	bin = aw_jv_get(doc, "bin");
	for (size_t i = 0; bin && i < (bin->kind == AW_JV_OBJ ? bin->n : 1);
	     i++) {
		const char *b =
		    bin->kind == AW_JV_STR ? bin->s
		    : bin->kind == AW_JV_OBJ && bin->items[i]->kind == AW_JV_STR
			? bin->items[i]->s
			: NULL;
		char p[PATH_MAX];

		if (!b)
			continue;
		while (b[0] == '.' && b[1] == '/')
			b += 2;
		snprintf(p, sizeof(p), "%s/%s", pkgdir, b);
		sig = sig_by_path(s->o, p, &rule);
		if (sig) {
			add_agent(s, sig, version, pkgdir, "npm", rule);
			break;
		}
	}
	aw_jv_free(doc);
}

static void scan_node_modules(struct sc *s, const char *dir)
{
	DIR *d = open_dir(s, dir);
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return;
	watch_dir(s, dir);
	while ((e = readdir(d)) && n++ < INV_DIR_ENTRIES_MAX && !s->err) {
		char path[PATH_MAX];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     e->d_name) >= sizeof(path))
			continue;
		if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (e->d_name[0] == '@') {
			DIR *sd = open_dir(s, path);
			struct dirent *se;
			size_t m = 0;

			if (!sd)
				continue;
			watch_dir(s, path);
			while ((se = readdir(sd)) &&
			       m++ < INV_DIR_ENTRIES_MAX && !s->err) {
				char p2[PATH_MAX];

				if (se->d_name[0] == '.')
					continue;
				if ((size_t)snprintf(p2, sizeof(p2), "%s/%s",
						     path,
						     se->d_name) >= sizeof(p2))
					continue;
				if (lstat(p2, &st) == 0 && S_ISDIR(st.st_mode))
					scan_package(s, p2);
			}
			closedir(sd);
		} else {
			scan_package(s, path);
		}
	}
	closedir(d);
}

/* One configuration file: its servers, or why it was refused. */
static void scan_config(struct sc *s, int dirfd, const char *rel,
			const char *shown, enum aw_inv_format fmt,
			const char *agent, char ***projects, size_t *n_projects)
{
	struct aw_diag d = {};
	char *data = NULL;
	size_t len = 0, before = s->inv->servers.n;
	int r;

	r = aw_inv_read_file(dirfd, rel, s->as_uid, s->as_gid, AW_INV_FILE_MAX,
			     &data, &len, &d);
	if (r == -ENOENT)
		return;
	if (r) {
		problem_diag(s, shown, &d);
		return;
	}
	r = aw_inv_mcp_servers_parse(data, len, shown, fmt, agent,
				     &s->inv->servers, &d);
	if (r) {
		problem_diag(s, shown, &d);
	} else {
		add_str(s, &s->inv->configs, &s->inv->n_configs, shown);
		for (size_t i = before; i < s->inv->servers.n; i++)
			s->inv->servers.v[i].account =
			    xstrdup(s, s->acct ? s->acct->name : NULL);
		if (projects)
			aw_inv_projects_parse(data, len, fmt, projects,
					      n_projects);
	}
	free(data);
}

static void scan_account(struct sc *s, const struct aw_inv_account *a)
{
	static const char *const npm[] = {
	    ".npm-global/lib/node_modules", ".local/lib/node_modules",
	    "node_modules", ".bun/install/global/node_modules",
	    ".local/share/pnpm/global/5/node_modules"};
	static const char *const bins[] = {".local/bin", "bin", ".cargo/bin",
					   ".bun/bin"};
	static const char *const exts[] = {
	    ".vscode/extensions",    ".vscode-server/extensions",
	    ".cursor/extensions",    ".cursor-server/extensions",
	    ".windsurf/extensions",  ".windsurf-server/extensions",
	    ".vscode-oss/extensions"};
	char **projects = NULL, p[PATH_MAX];
	size_t n_projects = 0;
	DIR *d;
	int home;

	home = open(a->home, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (home < 0)
		return;
	watch_dir(s, a->home);
	for (size_t i = 0; i < aw_inv_n_config_locs && !s->err; i++) {
		const struct aw_inv_config_loc *l = &aw_inv_config_locs[i];
		char *slash;

		if (l->project)
			continue;
		snprintf(p, sizeof(p), "%s/%s", a->home, l->path);
		scan_config(s, home, l->path, p, l->fmt, l->agent, &projects,
			    &n_projects);
		slash = strrchr(p, '/');
		*slash = 0;
		watch_dir(s, p);
	}
	close(home);
	/* Project directories the agents know of (Claude's and Codex's
	 * project lists): their own configuration files. */
	for (size_t i = 0; i < n_projects && !s->err; i++) {
		for (size_t j = 0; j < aw_inv_n_config_locs; j++) {
			const struct aw_inv_config_loc *l =
			    &aw_inv_config_locs[j];
			char *slash;

			if (!l->project)
				continue;
			if ((size_t)snprintf(p, sizeof(p), "%s/%s", projects[i],
					     l->path) >= sizeof(p))
				continue;
			scan_config(s, AT_FDCWD, p, p, l->fmt, l->agent, NULL,
				    NULL);
			slash = strrchr(p, '/');
			*slash = 0;
			/* A project directory is any path the account's
			 * files name: watched only if the account owns it
			 * (not /tmp, not someone else's busy tree). */
			if (owned_by(p, a->uid))
				watch_dir(s, p);
		}
	}
	for (size_t i = 0; i < n_projects; i++)
		free(projects[i]);
	free(projects);
	for (size_t i = 0; i < sizeof(npm) / sizeof(npm[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", a->home, npm[i]);
		scan_node_modules(s, p);
	}
	snprintf(p, sizeof(p), "%s/.nvm/versions/node", a->home);
	d = open_dir(s, p);
	if (d) {
		struct dirent *e;
		size_t n = 0;

		watch_dir(s, p);
		while ((e = readdir(d)) && n++ < 64) {
			char q[PATH_MAX];

			if (e->d_name[0] == '.')
				continue;
			snprintf(q, sizeof(q), "%s/%s/lib/node_modules", p,
				 e->d_name);
			scan_node_modules(s, q);
			snprintf(q, sizeof(q), "%s/%s/bin", p, e->d_name);
			scan_bin_dir(s, q);
		}
		closedir(d);
	}
	for (size_t i = 0; i < sizeof(bins) / sizeof(bins[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", a->home, bins[i]);
		scan_bin_dir(s, p);
	}
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", a->home, exts[i]);
		scan_extensions(s, p);
	}
}

static void scan_system(struct sc *s)
{
	static const char *const npm[] = {"/usr/lib/node_modules",
					  "/usr/local/lib/node_modules"};
	size_t budget = INV_WALK_FILES_MAX;

	for (size_t i = 0; i < sizeof(npm) / sizeof(npm[0]); i++)
		scan_node_modules(s, npm[i]);
	scan_bin_dir(s, "/usr/local/bin");
	watch_dir(s, "/opt");
	walk(s, "/opt", 1, &budget, "opt", NULL);
}

static int cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int cmp_agent(const void *x, const void *y)
{
	const struct aw_inv_agent *a = x, *b = y;
	int r = cmp_str(a->account, b->account);

	if (!r)
		r = cmp_str(a->id, b->id);
	if (!r)
		r = cmp_str(a->path, b->path);
	return r;
}

static int cmp_server(const void *x, const void *y)
{
	const struct aw_inv_server *a = x, *b = y;
	int r = cmp_str(a->account, b->account);

	if (!r)
		r = cmp_str(a->config, b->config);
	if (!r)
		r = cmp_str(a->project, b->project);
	if (!r)
		r = cmp_str(a->name, b->name);
	return r;
}

static int cmp_problem(const void *x, const void *y)
{
	const struct aw_inv_problem *a = x, *b = y;
	int r = cmp_str(a->account, b->account);

	return r ? r : cmp_str(a->path, b->path);
}

void aw_inventory_sort(struct aw_inventory *inv)
{
	if (inv->n_agents)
		qsort(inv->agents, inv->n_agents, sizeof(*inv->agents),
		      cmp_agent);
	if (inv->servers.n)
		qsort(inv->servers.v, inv->servers.n, sizeof(*inv->servers.v),
		      cmp_server);
	if (inv->n_problems)
		qsort(inv->problems, inv->n_problems, sizeof(*inv->problems),
		      cmp_problem);
}

/* Interpreters and runners whose argument names what they run. */
static int is_runner(const char *base)
{
	static const char *const r[] = {"npx", "bunx", "pnpx",
					"uvx", "pipx", "dlx"};

	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		if (!strcmp(base, r[i]))
			return 1;
	return 0;
}

int aw_inv_classify_command(const struct aw_sigdb *db,
			    const struct aw_compiled *comp, const char *command,
			    char *const *args, size_t n_args)
{
	struct aw_inv_scan_opts o = {.db = db, .comp = comp};
	const struct aw_signature *sig = NULL;
	const char *base, *arg = NULL;
	char p[PATH_MAX];
	size_t i;

	if (!command || !db || !comp)
		return -1;
	base = strrchr(command, '/');
	base = base ? base + 1 : command;
	for (i = 0; i < n_args; i++)
		if (args[i][0] != '-') {
			arg = args[i];
			break;
		}
	/* npx -y @scope/pkg@1.2 ...: the package, by name. */
	if (is_runner(base) && arg) {
		char pkg[256];
		const char *at = strchr(arg + (arg[0] == '@'), '@');
		size_t n = at ? (size_t)(at - arg) : strlen(arg);

		if (n < sizeof(pkg)) {
			memcpy(pkg, arg, n);
			pkg[n] = 0;
			sig = sig_by_package(db, pkg);
		}
	}
	/* A path: the rules, as at exec (exe, then an interpreter's
	 * script). A bare name is looked for as a launcher in a bin
	 * directory, where PATH would find it. */
	if (!sig && strchr(command, '/'))
		sig = sig_by_path(&o, command, NULL);
	if (!sig && !strchr(command, '/')) {
		snprintf(p, sizeof(p), "bin/%s", command);
		sig = sig_by_path(&o, p, NULL);
	}
	if (!sig && arg && strchr(arg, '/'))
		sig = sig_by_path(&o, arg, NULL);
	return sig ? (int)(sig - db->sigs) : -1;
}

/*
 * The account's supplementary groups for the time of its scan, so that a
 * file readable by one of root's groups is not read for an account that
 * is not in it. The raw system call changes the calling thread only
 * (glibc's setgroups() would change every thread of the daemon). Returns
 * how many groups were saved (to restore), or -1 (nothing changed).
 */
static int groups_enter(const struct aw_inv_account *a, gid_t *saved, int max)
{
	gid_t groups[256];
	int n = 256, n_saved = getgroups(max, saved);

	if (n_saved < 0)
		return -1;
	if (getgrouplist(a->name, a->gid, groups, &n) < 0)
		n = 0; /* more than 256: none rather than root's */
	if (syscall(SYS_setgroups, (size_t)n, groups) < 0)
		return -1;
	return n_saved;
}

int aw_inventory_scan(const struct aw_inv_scan_opts *o,
		      const struct aw_inv_account *accts, size_t n_accts,
		      struct aw_inventory *ret)
{
	struct sc s = {.o = o, .inv = ret, .as_uid = (uid_t)-1};

	memset(ret, 0, sizeof(*ret));
	if (o->system)
		scan_system(&s);
	for (size_t i = 0; i < n_accts && !s.err; i++) {
		gid_t saved[256];
		int n_saved = -1;

		s.acct = &accts[i];
		s.as_uid = o->as_owner ? accts[i].uid : (uid_t)-1;
		s.as_gid = accts[i].gid;
		if (o->as_owner)
			n_saved = groups_enter(&accts[i], saved, 256);
		scan_account(&s, &accts[i]);
		if (n_saved >= 0)
			syscall(SYS_setgroups, (size_t)n_saved, saved);
	}
	for (size_t i = 0; i < ret->servers.n && !s.err; i++) {
		struct aw_inv_server *v = &ret->servers.v[i];
		int k = aw_inv_classify_command(o->db, o->comp, v->command,
						v->args, v->n_args);

		if (k >= 0)
			v->known = xstrdup(&s, o->db->sigs[k].id);
	}
	if (s.err) {
		aw_inventory_free(ret);
		return s.err;
	}
	aw_inventory_sort(ret);
	return 0;
}

void aw_inventory_free(struct aw_inventory *inv)
{
	for (size_t i = 0; i < inv->n_agents; i++) {
		struct aw_inv_agent *a = &inv->agents[i];

		free(a->account);
		free(a->id);
		free(a->vendor);
		free(a->product);
		free(a->class);
		free(a->version);
		free(a->path);
		free(a->where);
		free(a->rule);
	}
	free(inv->agents);
	aw_inv_servers_free(&inv->servers);
	for (size_t i = 0; i < inv->n_problems; i++) {
		free(inv->problems[i].account);
		free(inv->problems[i].path);
		free(inv->problems[i].reason);
	}
	free(inv->problems);
	aw_strv_free(inv->configs, inv->n_configs);
	aw_strv_free(inv->dirs, inv->n_dirs);
	memset(inv, 0, sizeof(*inv));
}

static int add_account(struct aw_inv_account **v, size_t *n,
		       const struct passwd *pw)
{
	struct aw_inv_account *nv;
	struct stat st;

	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].uid == pw->pw_uid ||
		    !strcmp((*v)[i].home, pw->pw_dir))
			return 0;
	if (!pw->pw_dir || pw->pw_dir[0] != '/' || !strcmp(pw->pw_dir, "/") ||
	    stat(pw->pw_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv += *n;
	nv->name = strdup(pw->pw_name);
	nv->home = strdup(pw->pw_dir);
	nv->uid = pw->pw_uid;
	nv->gid = pw->pw_gid;
	if (!nv->name || !nv->home) {
		free(nv->name);
		free(nv->home);
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

int aw_inv_accounts(const char *name, uid_t uid, struct aw_inv_account **ret,
		    size_t *ret_n)
{
	struct aw_inv_account *v = NULL;
	struct passwd *pw;
	size_t n = 0;
	int r = 0;

	if (name || uid != (uid_t)-1) {
		pw = name ? getpwnam(name) : getpwuid(uid);
		if (!pw)
			return -ENOENT;
		r = add_account(&v, &n, pw);
	} else {
		setpwent();
		/* root and the ordinary accounts (not nobody): system
		 * accounts do not install agents in their homes. */
		while ((pw = getpwent()) && !r && n < 65536)
			if (pw->pw_uid == 0 ||
			    (pw->pw_uid >= 1000 && pw->pw_uid != 65534))
				r = add_account(&v, &n, pw);
		endpwent();
	}
	if (r) {
		aw_inv_accounts_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

void aw_inv_accounts_free(struct aw_inv_account *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].name);
		free(a[i].home);
	}
	free(a);
}
