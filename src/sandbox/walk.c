// SPDX-License-Identifier: GPL-2.0-only
/*
 * The `**` NAME walk and its cache (walk.h).
 *
 * The cache file (one per workspace and NAME, in the cache directory):
 * "AWWALK1\n", the device, the number of entries, then per directory
 * read in full: inode, ctime (seconds, nanoseconds), entries it had,
 * whether one is NAME, and the names of its subdirectories (those the
 * walk would enter). A directory whose inode and ctime are those of an
 * entry is taken from it: adding, removing or renaming anything in a
 * directory changes its ctime, and a change deeper down is seen at that
 * deeper directory, which is visited (opened and stat'ed) either way.
 * Anything malformed makes the whole file ignored.
 *
 * Only local file systems that keep ctimes themselves are cached
 * (ctimes_kept()). A ctime is only as fine as the kernel's clock gives
 * it: one tick of the coarse clock before Linux 6.13. A directory read
 * in the same tick as its last change can change again without a new
 * ctime, so one changed less than WC_RACY_SEC before the walk began is
 * read but not remembered (as git treats an index entry as new as the
 * index itself).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/launch.h"
#include "sandbox/walk.h"
#include "shared/util.h"

#define WC_MAGIC "AWWALK1\n"
#define WC_FILE_MAX (64u << 20)
#define WC_ENTRIES_MAX 1000000u
#define WC_RACY_SEC 2

struct wc_ent {
	uint64_t ino, count;
	int64_t cs, cns;
	uint8_t has;
	uint8_t borrowed; /* subs belong to the loaded cache's entry */
	uint32_t n_sub;
	char **subs;
};

struct wcache {
	struct wc_ent *v;
	size_t n, cap;
	size_t *tab; /* open addressing by inode: index + 1, 0 empty */
	size_t tabsz;
};

struct walk {
	const char *name;
	size_t budget;
	dev_t dev;
	int64_t settled; /* ctimes before this (seconds) can be remembered */
	struct wcache old, now;
	struct aw_walk_result *res;
	char **later; /* deferred trees */
	size_t n_later;
};

static void wc_free(struct wcache *c)
{
	for (size_t i = 0; i < c->n; i++) {
		if (c->v[i].borrowed)
			continue;
		for (uint32_t j = 0; j < c->v[i].n_sub; j++)
			free(c->v[i].subs[j]);
		free(c->v[i].subs);
	}
	free(c->v);
	free(c->tab);
	memset(c, 0, sizeof(*c));
}

static size_t ino_hash(uint64_t ino, size_t mask)
{
	return (size_t)((ino * 0x9e3779b97f4a7c15ull) >> 17) & mask;
}

static int wc_index(struct wcache *c)
{
	size_t sz = 16;

	while (sz < c->n * 2)
		sz <<= 1;
	c->tab = calloc(sz, sizeof(*c->tab));
	if (!c->tab)
		return -ENOMEM;
	c->tabsz = sz;
	for (size_t i = 0; i < c->n; i++) {
		size_t h = ino_hash(c->v[i].ino, sz - 1);

		while (c->tab[h])
			h = (h + 1) & (sz - 1);
		c->tab[h] = i + 1;
	}
	return 0;
}

static const struct wc_ent *wc_find(const struct wcache *c, uint64_t ino)
{
	size_t h;

	if (!c->tabsz)
		return NULL;
	for (h = ino_hash(ino, c->tabsz - 1); c->tab[h];
	     h = (h + 1) & (c->tabsz - 1))
		if (c->v[c->tab[h] - 1].ino == ino)
			return &c->v[c->tab[h] - 1];
	return NULL;
}

static struct wc_ent *wc_add(struct wcache *c)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct wc_ent *v = realloc(c->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		c->v = v;
		c->cap = cap;
	}
	memset(&c->v[c->n], 0, sizeof(c->v[0]));
	return &c->v[c->n++];
}

/* A subdirectory's name as stored: a single component. */
static int name_ok(const char *s, size_t len)
{
	if (!len || len > NAME_MAX || memchr(s, '/', len) || memchr(s, 0, len))
		return 0;
	return !(len == 1 && s[0] == '.') &&
	       !(len == 2 && s[0] == '.' && s[1] == '.');
}

static int take(const uint8_t **p, const uint8_t *end, void *out, size_t n)
{
	if ((size_t)(end - *p) < n)
		return -1;
	memcpy(out, *p, n);
	*p += n;
	return 0;
}

static void wc_load(struct wcache *c, const char *file, dev_t dev)
{
	int fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	uint8_t *buf = NULL;
	const uint8_t *p, *end;
	uint64_t fdev, n;
	char magic[8];

	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != getuid() || st.st_size > (off_t)WC_FILE_MAX ||
	    !(buf = malloc(st.st_size ? st.st_size : 1)) ||
	    read(fd, buf, st.st_size) != st.st_size)
		goto bad;
	p = buf;
	end = buf + st.st_size;
	if (take(&p, end, magic, 8) || memcmp(magic, WC_MAGIC, 8) ||
	    take(&p, end, &fdev, 8) || fdev != (uint64_t)dev ||
	    take(&p, end, &n, 8) || n > WC_ENTRIES_MAX)
		goto bad;
	for (uint64_t i = 0; i < n; i++) {
		struct wc_ent *e = wc_add(c);
		uint32_t n_sub;

		if (!e || take(&p, end, &e->ino, 8) ||
		    take(&p, end, &e->cs, 8) || take(&p, end, &e->cns, 8) ||
		    take(&p, end, &e->count, 8) || take(&p, end, &e->has, 1) ||
		    take(&p, end, &n_sub, 4) || n_sub > e->count ||
		    e->count > AW_PLAN_WALK_MAX || e->has > 1 ||
		    !(e->subs = calloc(n_sub ? n_sub : 1, sizeof(*e->subs))))
			goto bad;
		/* (n_sub counts what is in subs, for wc_free) */
		for (uint32_t j = 0; j < n_sub; j++) {
			uint16_t len;

			if (take(&p, end, &len, 2) || (size_t)(end - p) < len ||
			    !name_ok((const char *)p, len) ||
			    !(e->subs[j] = strndup((const char *)p, len)))
				goto bad;
			e->n_sub = j + 1;
			p += len;
		}
	}
	if (p != end || wc_index(c) < 0)
		goto bad;
	free(buf);
	close(fd);
	return;
bad:
	wc_free(c);
	free(buf);
	close(fd);
}

static int put(FILE *f, const void *p, size_t n)
{
	return fwrite(p, 1, n, f) == n ? 0 : -1;
}

static void wc_save(const struct wcache *c, const char *file, dev_t dev)
{
	char tmp[PATH_MAX + 32];
	uint64_t d = (uint64_t)dev, n = c->n;
	int fd, bad = 0;
	FILE *f;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%d.tmp", file,
			     (int)getpid()) >= sizeof(tmp))
		return;
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		return;
	}
	bad |= put(f, WC_MAGIC, 8) | put(f, &d, 8) | put(f, &n, 8);
	for (size_t i = 0; i < c->n && !bad; i++) {
		const struct wc_ent *e = &c->v[i];

		bad |= put(f, &e->ino, 8) | put(f, &e->cs, 8) |
		       put(f, &e->cns, 8) | put(f, &e->count, 8) |
		       put(f, &e->has, 1) | put(f, &e->n_sub, 4);
		for (uint32_t j = 0; j < e->n_sub && !bad; j++) {
			uint16_t len = (uint16_t)strlen(e->subs[j]);

			bad |= put(f, &len, 2) | put(f, e->subs[j], len);
		}
	}
	if (fclose(f) != 0 || bad || rename(tmp, file) < 0)
		unlink(tmp);
}

static int found(struct walk *w, const char *path)
{
	char sub[PATH_MAX], **v;

	if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, w->name) >=
	    sizeof(sub))
		return 0;
	v = realloc(w->res->paths, (w->res->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	w->res->paths = v;
	if (!(v[w->res->n] = strdup(sub)))
		return -ENOMEM;
	w->res->n++;
	return 0;
}

static int vendored(const char *d)
{
	static const char *const trees[] = {
	    "node_modules", ".git",   ".venv",	"venv", "__pycache__",
	    "target",	    "vendor", ".cache", ".tox", ".gradle"};

	for (size_t i = 0; i < AW_ARRAY_SIZE(trees); i++)
		if (!strcmp(d, trees[i]))
			return 1;
	return 0;
}

static int walk_dir(struct walk *w, int dfd, const struct stat *dst,
		    const char *path, int depth, int defer);
static int walk_cached(struct walk *w, const struct wc_ent *e, const char *path,
		       int depth, int defer);

/* The cache's entry for a directory as it is now, if any. */
static const struct wc_ent *known(const struct walk *w, const struct stat *st)
{
	const struct wc_ent *e = wc_find(&w->old, (uint64_t)st->st_ino);

	return e && e->cs == (int64_t)st->st_ctim.tv_sec &&
		       e->cns == (int64_t)st->st_ctim.tv_nsec &&
		       e->cs < w->settled && e->count < w->budget
		   ? e
		   : NULL;
}

/*
 * One subdirectory: deferred, or entered. Looked at by its path, without
 * following a link: a directory the cache knows unchanged costs that one
 * call; any other is opened (and its inode checked again) and read.
 */
static int walk_sub(struct walk *w, const char *path, const char *name,
		    int depth, int defer)
{
	char sub[PATH_MAX];
	const struct wc_ent *e;
	struct stat st, fst;
	int fd;

	if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, name) >=
	    sizeof(sub))
		return 0;
	if (defer && vendored(name))
		return aw_strv_add(&w->later, &w->n_later, sub);
	if (depth + 1 > 32 || !w->budget ||
	    fstatat(AT_FDCWD, sub, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISDIR(st.st_mode) || st.st_dev != w->dev)
		return 0;
	e = known(w, &st);
	if (e)
		return walk_cached(w, e, sub, depth + 1, defer);
	fd = open(sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &fst) < 0 || fst.st_dev != w->dev) {
		close(fd);
		return 0;
	}
	return walk_dir(w, fd, &fst, sub, depth + 1, defer);
}

/* Known from the cache: the same inode, unchanged since. */
static int walk_cached(struct walk *w, const struct wc_ent *e, const char *path,
		       int depth, int defer)
{
	struct wc_ent *n = wc_add(&w->now);
	int r = 0;

	if (!n)
		return -ENOMEM;
	/* The same as loaded (the loaded cache outlives the new one's
	 * save). */
	*n = *e;
	n->borrowed = 1;
	w->budget -= e->count;
	w->res->dirs_cached++;
	if (e->has)
		r = found(w, path);
	for (uint32_t j = 0; j < e->n_sub && r >= 0; j++)
		r = walk_sub(w, path, e->subs[j], depth, defer);
	return r;
}

static int walk_dir(struct walk *w, int dfd, const struct stat *dst,
		    const char *path, int depth, int defer)
{
	const struct wc_ent *e;
	struct wc_ent rec = {.ino = dst->st_ino,
			     .cs = dst->st_ctim.tv_sec,
			     .cns = dst->st_ctim.tv_nsec};
	size_t cap_sub = 0;
	DIR *d;
	struct dirent *de = NULL;
	int r = 0, whole = 1;

	if (depth > 32 || !w->budget) {
		close(dfd);
		return 0;
	}
	e = known(w, dst);
	if (e) {
		close(dfd);
		return walk_cached(w, e, path, depth, defer);
	}
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return 0;
	}
	w->res->dirs_read++;
	while (r >= 0 && (de = readdir(d))) {
		if (!--w->budget) {
			w->res->exhausted = 1;
			whole = 0;
			break;
		}
		rec.count++; /* what the budget counts: every entry */
		if (de->d_name[0] == '.' &&
		    (!de->d_name[1] ||
		     (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		if (!strcmp(de->d_name, w->name)) {
			rec.has = 1;
			r = found(w, path);
			continue;
		}
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if (rec.n_sub == cap_sub) {
			char **s;

			cap_sub = cap_sub ? cap_sub * 2 : 8;
			s = realloc(rec.subs, cap_sub * sizeof(*s));
			if (!s) {
				r = -ENOMEM;
				break;
			}
			rec.subs = s;
		}
		if (!(rec.subs[rec.n_sub] = strdup(de->d_name))) {
			r = -ENOMEM;
			break;
		}
		rec.n_sub++;
		r = walk_sub(w, path, de->d_name, depth, defer);
	}
	closedir(d);
	if (r >= 0 && whole && !de && rec.cs < w->settled) {
		struct wc_ent *n = wc_add(&w->now);

		if (n) {
			*n = rec;
			return r;
		}
	}
	for (uint32_t j = 0; j < rec.n_sub; j++)
		free(rec.subs[j]);
	free(rec.subs);
	return r;
}

/* <cache_dir>/<FNV-1a of root NUL name, 16 hex digits> */
static int cache_file(const char *cache_dir, const char *root, const char *name,
		      char *ret, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	const char *parts[] = {root, name};

	for (size_t i = 0; i < 2; i++)
		for (const char *s = parts[i];; s++) {
			h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
			if (!*s)
				break;
		}
	return (size_t)snprintf(ret, len, "%s/%016llx", cache_dir,
				(unsigned long long)h) < len
		   ? 0
		   : -ENAMETOOLONG;
}

/*
 * Whether the workspace's file system keeps a directory's ctime itself
 * (a local one): over NFS, FUSE, 9p or SMB a stat answers from an
 * attribute cache (NFS keeps a directory's up to a minute) or from a
 * server that may set what it likes, and FAT keeps no ctime at all.
 * Those are read in full at every start, as without a cache.
 */
static int ctimes_kept(int fd)
{
	static const unsigned long local[] = {
	    EXT4_SUPER_MAGIC,  XFS_SUPER_MAGIC,	 TMPFS_MAGIC,
	    BTRFS_SUPER_MAGIC, F2FS_SUPER_MAGIC, OVERLAYFS_SUPER_MAGIC};
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0)
		return 0;
	for (size_t i = 0; i < AW_ARRAY_SIZE(local); i++)
		if ((unsigned long)sf.f_type == local[i])
			return 1;
	return 0;
}

int aw_walk_named(const char *root, dev_t dev, const char *name,
		  const char *cache_dir, struct aw_walk_result *ret)
{
	struct walk w = {
	    .name = name, .budget = AW_PLAN_WALK_MAX, .dev = dev, .res = ret};
	char file[PATH_MAX];
	int use_cache, fd, r;
	struct timespec now;
	struct stat st;

	memset(ret, 0, sizeof(*ret));
	clock_gettime(CLOCK_REALTIME, &now);
	w.settled = (int64_t)now.tv_sec - WC_RACY_SEC;
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	use_cache = cache_dir && cache_dir[0] && ctimes_kept(fd) &&
		    cache_file(cache_dir, root, name, file, sizeof(file)) == 0;
	if (use_cache)
		wc_load(&w.old, file, dev);
	r = walk_dir(&w, fd, &st, root, 0, 1);
	/* The dependency trees, in the order met (inside them, nothing is
	 * deferred again). */
	for (size_t i = 0; i < w.n_later; i++) {
		if (r >= 0 && w.budget &&
		    (fd = open(w.later[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					       O_CLOEXEC)) >= 0) {
			if (fstat(fd, &st) == 0 && st.st_dev == dev)
				r = walk_dir(&w, fd, &st, w.later[i], 1, 0);
			else
				close(fd);
		}
		free(w.later[i]);
	}
	free(w.later);
	/* Kept when anything was read anew (an unchanged walk leaves the
	 * file as it is: nothing written at each start). */
	if (r >= 0 && use_cache && (ret->dirs_read || w.now.n != w.old.n))
		wc_save(&w.now, file, dev);
	wc_free(&w.old);
	wc_free(&w.now);
	return r;
}

void aw_walk_result_free(struct aw_walk_result *r)
{
	aw_strv_free(r->paths, r->n);
	r->paths = NULL;
	r->n = 0;
}
