/* SPDX-License-Identifier: GPL-2.0-only */
/* Reviewing a session's copy-on-write store: see review.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "review/review.h"
#include "review/udiff.h"
#include "shared/json.h"
#include "shared/util.h"

#define DIFF_MAX (16u << 20) /* larger files are summarised, not shown */
#define DEPTH_MAX 256

static const char *const kind_names[] = {
    [AW_CHANGE_CREATED] = "created", [AW_CHANGE_MODIFIED] = "modified",
    [AW_CHANGE_MODE] = "mode",	     [AW_CHANGE_DELETED] = "deleted",
    [AW_CHANGE_SPECIAL] = "special",
};

const char *aw_change_kind_name(enum aw_change_kind k)
{
	return k < AW_ARRAY_SIZE(kind_names) ? kind_names[k] : "?";
}

/* ---- safe opening -------------------------------------------------------- */

/* rel below dirfd, never through a symlink, "..", a magic link or onto
 * another file system: a tree changed under us fails, it is not
 * followed out. rel "" is dirfd itself. */
static int open_beneath(int dirfd, const char *rel, int flags, mode_t mode)
{
	struct open_how how = {
	    .flags = (uint64_t)flags | O_CLOEXEC | O_NOFOLLOW,
	    .mode = (flags & O_CREAT) ? mode : 0,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
		       RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	long fd;

	if (!rel[0])
		rel = ".";
	fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
	return fd < 0 ? -errno : (int)fd;
}

/* The directory that holds rel, and rel's last component. */
static int open_parent(int rootfd, const char *rel, const char **name)
{
	char buf[PATH_MAX];
	const char *slash = strrchr(rel, '/');

	if (!slash) {
		*name = rel;
		return open_beneath(rootfd, "", O_PATH | O_DIRECTORY, 0);
	}
	if ((size_t)(slash - rel) >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, rel, slash - rel);
	buf[slash - rel] = 0;
	*name = slash + 1;
	return open_beneath(rootfd, buf, O_PATH | O_DIRECTORY, 0);
}

static int read_all(int dirfd, const char *name, size_t max, char **ret,
		    size_t *len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct aw_buf b = {};
	char chunk[65536];
	ssize_t n;

	*ret = NULL;
	*len = 0;
	if (fd < 0)
		return -errno;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (b.len + (size_t)n > max) {
			close(fd);
			aw_buf_free(&b);
			return -EFBIG;
		}
		aw_buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	if (n < 0 || b.oom) {
		aw_buf_free(&b);
		return n < 0 ? -errno : -ENOMEM;
	}
	*ret = b.data ? b.data : calloc(1, 1);
	*len = b.len;
	return *ret ? 0 : -ENOMEM;
}

/* Same bytes? (Both regular files, opened without following.) */
static int same_content(int da, const char *na, int db, const char *nb)
{
	int a = openat(da, na, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int b = openat(db, nb, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char x[65536], y[65536];
	int same = a >= 0 && b >= 0;

	while (same) {
		ssize_t n = read(a, x, sizeof(x)), m;

		if (n <= 0) {
			same = n == 0 && read(b, y, 1) == 0;
			break;
		}
		m = 0;
		while (m < n) {
			ssize_t k = read(b, y + m, (size_t)(n - m));

			if (k <= 0)
				break;
			m += k;
		}
		same = m == n && !memcmp(x, y, (size_t)n);
	}
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	return same;
}

static int same_link(int da, const char *na, int db, const char *nb)
{
	char x[PATH_MAX], y[PATH_MAX];
	ssize_t n = readlinkat(da, na, x, sizeof(x)),
		m = readlinkat(db, nb, y, sizeof(y));

	return n >= 0 && n == m && !memcmp(x, y, (size_t)n);
}

static int is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static int is_opaque(int dirfd)
{
	char v[4];
	ssize_t n = fgetxattr(dirfd, "user.overlay.opaque", v, sizeof(v));

	return n == 1 && v[0] == 'y';
}

/* The same for a directory opened O_PATH (fgetxattr refuses those). */
static int is_opaque_at(int pathfd)
{
	int fd = openat(pathfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = fd >= 0 && is_opaque(fd);

	if (fd >= 0)
		close(fd);
	return r;
}

static struct timespec btime_of(int dirfd, const char *name)
{
	struct statx stx;

	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_BTIME, &stx) == 0 &&
	    (stx.stx_mask & STATX_BTIME))
		return (struct timespec){.tv_sec = stx.stx_btime.tv_sec,
					 .tv_nsec = stx.stx_btime.tv_nsec};
	/* Unknown: every later real change is then a conflict. */
	return (struct timespec){0, 0};
}

/* Changed at or after t (the agent's copy): a conflict. */
static int changed_since(const struct stat *st, struct timespec t)
{
	return st->st_ctim.tv_sec > t.tv_sec ||
	       (st->st_ctim.tv_sec == t.tv_sec &&
		st->st_ctim.tv_nsec >= t.tv_nsec);
}

/* ---- scan -----------------------------------------------------------------
 */

struct scan {
	struct aw_review *r;
	size_t tree;
	int up_root, real_root; /* real_root -1: the real tree is gone */
};

static int add_change(struct scan *s, enum aw_change_kind kind, const char *rel,
		      mode_t upper_mode, mode_t real_mode, off_t size,
		      struct timespec since)
{
	struct aw_review *r = s->r;
	struct aw_change *n, *c;
	const char *root = r->manifest.trees[s->tree].path;

	if (!(r->n_changes & (r->n_changes + 1))) {
		n = realloc(r->changes, (2 * r->n_changes + 1) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		r->changes = n;
	}
	c = &r->changes[r->n_changes];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->tree = s->tree;
	c->rel = strdup(rel);
	if (asprintf(&c->real, "%s/%s", strcmp(root, "/") ? root : "", rel) < 0)
		c->real = NULL;
	if (!c->rel || !c->real) {
		free(c->rel);
		free(c->real);
		return -ENOMEM;
	}
	c->upper_mode = upper_mode;
	c->real_mode = real_mode;
	c->size = size;
	c->since = since;
	c->escalated = aw_manifest_escalated(&r->manifest, c->real);
	c->selected = 1;
	r->n_changes++;
	/* One is the answer to "any change?": the walk ends here. */
	return r->first_only ? -ECANCELED : 0;
}

static int is_mask(const struct scan *s, const char *rel)
{
	const char *root = s->r->manifest.trees[s->tree].path;
	char real[PATH_MAX * 2];

	snprintf(real, sizeof(real), "%s/%s", strcmp(root, "/") ? root : "",
		 rel);
	return aw_manifest_is_mask(&s->r->manifest, real);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory, sorted (NULL-ended; free each and the array). */
static char **list_dir(int dirfd, size_t *n)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	char **v = NULL;
	size_t cap = 0;

	*n = 0;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (*n + 2 > cap) {
			char **g =
			    realloc(v, (cap = cap * 2 + 16) * sizeof(*g));

			if (!g)
				break;
			v = g;
		}
		if (!(v[*n] = strdup(de->d_name)))
			break;
		(*n)++;
	}
	closedir(d);
	if (v) {
		v[*n] = NULL;
		qsort(v, *n, sizeof(*v), name_cmp);
	}
	return v;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int scan_dir(struct scan *s, const char *rel, int depth)
{
	int up = -1, real = -1, r = 0;
	char **names = NULL;
	size_t n = 0;
	char sub[PATH_MAX];

	if (depth > DEPTH_MAX)
		return -ELOOP;
	up = open_beneath(s->up_root, rel, O_RDONLY | O_DIRECTORY, 0);
	if (up < 0)
		return up;
	if (s->real_root >= 0)
		real =
		    open_beneath(s->real_root, rel, O_RDONLY | O_DIRECTORY, 0);
	names = list_dir(up, &n);
	/* A replaced directory: what the real one has and this lacks was
	 * deleted. */
	if (real >= 0 && rel[0] && is_opaque(up)) {
		size_t m = 0;
		char **rn = list_dir(real, &m);
		struct timespec since;
		const char *slash = strrchr(rel, '/');
		int parent = -1;

		/* The opaque directory's own birth: when it replaced. */
		if (slash) {
			snprintf(sub, sizeof(sub), "%.*s", (int)(slash - rel),
				 rel);
			parent = open_beneath(s->up_root, sub,
					      O_PATH | O_DIRECTORY, 0);
		} else {
			parent = dup(s->up_root);
		}
		since = btime_of(parent, slash ? slash + 1 : rel);
		if (parent >= 0)
			close(parent);
		for (size_t i = 0; i < m && r >= 0; i++) {
			struct stat st;

			if (names &&
			    bsearch(&rn[i], names, n, sizeof(*names), name_cmp))
				continue;
			if (fstatat(real, rn[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			snprintf(sub, sizeof(sub), "%s%s%s", rel, "/", rn[i]);
			r = add_change(s, AW_CHANGE_DELETED, sub, 0, st.st_mode,
				       0, since);
		}
		free_list(rn, m);
	}
	for (size_t i = 0; i < n && r >= 0; i++) {
		struct stat us, rs;
		int have_real;
		struct timespec since = btime_of(up, names[i]);

		if ((size_t)snprintf(sub, sizeof(sub), "%s%s%s", rel,
				     rel[0] ? "/" : "",
				     names[i]) >= sizeof(sub)) {
			r = -ENAMETOOLONG;
			break;
		}
		if (fstatat(up, names[i], &us, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		have_real = real >= 0 && fstatat(real, names[i], &rs,
						 AT_SYMLINK_NOFOLLOW) == 0;
		if (!have_real)
			memset(&rs, 0, sizeof(rs));
		if (is_whiteout(&us)) {
			/* A mask the launcher made ahead for a secret that
			 * was not there: never a deletion to take. */
			if (have_real && !is_mask(s, sub))
				r = add_change(s, AW_CHANGE_DELETED, sub, 0,
					       rs.st_mode, 0, since);
			continue;
		}
		if (!S_ISREG(us.st_mode) && !S_ISDIR(us.st_mode) &&
		    !S_ISLNK(us.st_mode)) {
			r = add_change(s, AW_CHANGE_SPECIAL, sub, us.st_mode,
				       rs.st_mode, 0, since);
			continue;
		}
		if (!have_real) {
			r = add_change(s, AW_CHANGE_CREATED, sub, us.st_mode, 0,
				       us.st_size, since);
		} else if ((us.st_mode & S_IFMT) != (rs.st_mode & S_IFMT) ||
			   (S_ISREG(us.st_mode) &&
			    (us.st_size != rs.st_size ||
			     !same_content(up, names[i], real, names[i]))) ||
			   (S_ISLNK(us.st_mode) &&
			    !same_link(up, names[i], real, names[i]))) {
			r = add_change(s, AW_CHANGE_MODIFIED, sub, us.st_mode,
				       rs.st_mode, us.st_size, since);
		} else if ((us.st_mode & 07777) != (rs.st_mode & 07777) &&
			   !S_ISLNK(us.st_mode)) {
			r = add_change(s, AW_CHANGE_MODE, sub, us.st_mode,
				       rs.st_mode, us.st_size, since);
		}
		if (r >= 0 && S_ISDIR(us.st_mode))
			r = scan_dir(s, sub, depth + 1);
	}
	free_list(names, n);
	close(up);
	if (real >= 0)
		close(real);
	return r;
}

void aw_review_free(struct aw_review *r)
{
	for (size_t i = 0; i < r->n_changes; i++) {
		free(r->changes[i].rel);
		free(r->changes[i].real);
	}
	free(r->changes);
	r->changes = NULL;
	r->n_changes = 0;
	aw_manifest_free(&r->manifest);
}

/* Same content, one deleted and one created: shown as a rename. */
static void pair_renames(struct aw_review *r)
{
	size_t budget = 100000;

	for (size_t i = 0; i < r->n_changes; i++) {
		struct aw_change *c = &r->changes[i];

		if (c->kind != AW_CHANGE_CREATED || !S_ISREG(c->upper_mode))
			continue;
		for (size_t j = 0; j < r->n_changes && budget; j++) {
			struct aw_change *d = &r->changes[j];
			struct stat st;
			int up, real, same = 0;
			const char *un, *rn;

			if (d->kind != AW_CHANGE_DELETED ||
			    !S_ISREG(d->real_mode) || d->renamed_from)
				continue;
			budget--;
			{
				char root[PATH_MAX];
				int rr, ur;

				snprintf(root, sizeof(root), "%s",
					 r->manifest.trees[d->tree].path);
				rr = open(root,
					  O_PATH | O_DIRECTORY | O_CLOEXEC);
				real =
				    rr >= 0 ? open_parent(rr, d->rel, &rn) : -1;
				if (rr >= 0)
					close(rr);
				snprintf(root, sizeof(root), "%s/upper/%u",
					 r->dir,
					 r->manifest.trees[c->tree].idx);
				ur = open(root,
					  O_PATH | O_DIRECTORY | O_CLOEXEC);
				up =
				    ur >= 0 ? open_parent(ur, c->rel, &un) : -1;
				if (ur >= 0)
					close(ur);
			}
			if (real >= 0 && up >= 0 &&
			    fstatat(real, rn, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    st.st_size == c->size)
				same = same_content(up, un, real, rn);
			if (real >= 0)
				close(real);
			if (up >= 0)
				close(up);
			if (same) {
				c->renamed_from = d->real;
				d->renamed_from = c->real; /* paired */
				break;
			}
		}
	}
}

static int scan_store(struct aw_review *r, const char *dir, int first_only)
{
	int e;

	memset(r, 0, sizeof(*r));
	r->first_only = first_only;
	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	e = aw_manifest_read(dir, &r->manifest, r->err, sizeof(r->err));
	if (e == -ENOENT) {
		/* The session never got as far as its sandbox. */
		memset(&r->manifest, 0, sizeof(r->manifest));
		return 0;
	}
	if (e < 0) {
		if (!r->err[0])
			snprintf(r->err, sizeof(r->err), "%s: manifest: %s",
				 dir, strerror(-e));
		return e;
	}
	for (size_t t = 0; t < r->manifest.n_trees; t++) {
		char up[PATH_MAX + 32];
		struct scan s = {.r = r, .tree = t};
		int rootfd;

		snprintf(up, sizeof(up), "upper/%u", r->manifest.trees[t].idx);
		rootfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		s.up_root = rootfd >= 0 ? open_beneath(rootfd, up,
						       O_PATH | O_DIRECTORY, 0)
					: -1;
		if (rootfd >= 0)
			close(rootfd);
		if (s.up_root < 0)
			continue; /* nothing was ever written there */
		s.real_root = open(r->manifest.trees[t].path,
				   O_PATH | O_DIRECTORY | O_CLOEXEC);
		e = scan_dir(&s, "", 0);
		close(s.up_root);
		if (s.real_root >= 0)
			close(s.real_root);
		if (e == -ECANCELED && first_only)
			return 0;
		if (e < 0) {
			snprintf(r->err, sizeof(r->err), "%s/%s: %s", dir, up,
				 strerror(-e));
			return e;
		}
	}
	pair_renames(r);
	return 0;
}

int aw_review_scan(struct aw_review *r, const char *dir)
{
	return scan_store(r, dir, 0);
}

int aw_review_any(const char *dir, char *err, size_t errlen)
{
	struct aw_review *r = malloc(sizeof(*r));
	int e;

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	e = scan_store(r, dir, 1);
	if (e < 0)
		snprintf(err, errlen, "%s", r->err);
	else
		e = r->n_changes > 0;
	aw_review_free(r);
	free(r);
	return e;
}

/* ---- selection ----------------------------------------------------------- */

static int under(const char *p, const char *dir)
{
	size_t n = strlen(dir);

	if (!strcmp(dir, "/"))
		return p[0] == '/';
	return !strncmp(p, dir, n) && (p[n] == 0 || p[n] == '/');
}

size_t aw_review_select(struct aw_review *r, char *const *paths, size_t n)
{
	size_t unmatched = 0;
	char cwd[PATH_MAX] = "";

	if (!n)
		return 0;
	if (!getcwd(cwd, sizeof(cwd)))
		cwd[0] = 0;
	for (size_t i = 0; i < r->n_changes; i++)
		r->changes[i].selected = 0;
	for (size_t k = 0; k < n; k++) {
		char abs[PATH_MAX * 2];
		size_t len, hits = 0;

		if (paths[k][0] == '/')
			snprintf(abs, sizeof(abs), "%s", paths[k]);
		else
			snprintf(abs, sizeof(abs), "%s/%s", cwd, paths[k]);
		len = strlen(abs);
		while (len > 1 && abs[len - 1] == '/')
			abs[--len] = 0;
		for (size_t i = 0; i < r->n_changes; i++) {
			struct aw_change *c = &r->changes[i];

			/* The path, what is below it, and the directories
			 * above it that must be made first. */
			if (under(c->real, abs) ||
			    (S_ISDIR(c->upper_mode) &&
			     c->kind != AW_CHANGE_DELETED &&
			     under(abs, c->real))) {
				c->selected = 1;
				hits++;
			}
		}
		if (!hits) {
			unmatched++;
			fprintf(stderr,
				"agentwall: %s: no change in this "
				"session\n",
				paths[k]);
		}
	}
	return unmatched;
}

/* ---- diff ---------------------------------------------------------------- */

void aw_review_quote(struct aw_buf *b, const char *prefix, const char *path)
{
	int plain = 1;

	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			plain = 0;
	if (plain) {
		aw_buf_puts(b, prefix);
		aw_buf_puts(b, path);
		return;
	}
	aw_buf_puts(b, "\"");
	aw_buf_puts(b, prefix);
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		switch (*p) {
		case '\n':
			aw_buf_puts(b, "\\n");
			break;
		case '\t':
			aw_buf_puts(b, "\\t");
			break;
		case '"':
			aw_buf_puts(b, "\\\"");
			break;
		case '\\':
			aw_buf_puts(b, "\\\\");
			break;
		default:
			if (*p < 0x20 || *p >= 0x7f)
				aw_buf_printf(b, "\\%03o", *p);
			else
				aw_buf_add(b, (const char *)p, 1);
		}
	}
	aw_buf_puts(b, "\"");
}

/* The two sides of a change: the real tree's and the store's content
 * (a symlink's target, as git shows it). Either may be absent. */
struct sides {
	char *a, *b;
	size_t alen, blen;
	int too_big;
};

static int read_side(const char *root, const char *rel, mode_t mode, char **ret,
		     size_t *len, int *too_big)
{
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC), dfd, r;
	const char *name;

	*ret = NULL;
	*len = 0;
	if (rootfd < 0)
		return -errno;
	dfd = open_parent(rootfd, rel, &name);
	close(rootfd);
	if (dfd < 0)
		return dfd;
	if (S_ISLNK(mode)) {
		char t[PATH_MAX];
		ssize_t n = readlinkat(dfd, name, t, sizeof(t));

		r = n < 0 ? -errno : 0;
		if (n >= 0 && (*ret = malloc((size_t)n + 1))) {
			memcpy(*ret, t, (size_t)n);
			(*ret)[n] = 0;
			*len = (size_t)n;
		}
	} else {
		r = read_all(dfd, name, DIFF_MAX, ret, len);
		if (r == -EFBIG) {
			*too_big = 1;
			r = 0;
		}
	}
	close(dfd);
	return r;
}

static void read_sides(struct aw_review *r, const struct aw_change *c,
		       struct sides *s)
{
	char up[PATH_MAX + 32];

	memset(s, 0, sizeof(*s));
	snprintf(up, sizeof(up), "%s/upper/%u", r->dir,
		 r->manifest.trees[c->tree].idx);
	if (c->real_mode && (S_ISREG(c->real_mode) || S_ISLNK(c->real_mode)))
		read_side(r->manifest.trees[c->tree].path, c->rel, c->real_mode,
			  &s->a, &s->alen, &s->too_big);
	if (c->kind != AW_CHANGE_DELETED &&
	    (S_ISREG(c->upper_mode) || S_ISLNK(c->upper_mode)))
		read_side(up, c->rel, c->upper_mode, &s->b, &s->blen,
			  &s->too_big);
}

static int is_binary(const char *s, size_t n)
{
	return s && memchr(s, 0, n < 8000 ? n : 8000) != NULL;
}

static void diff_one(struct aw_review *r, struct aw_change *c,
		     struct aw_buf *out)
{
	struct sides s;
	int content;
	mode_t om = c->real_mode, nm = c->upper_mode;
	const char *from = c->kind == AW_CHANGE_CREATED && c->renamed_from
			       ? c->renamed_from
			       : c->real;

	if (c->kind == AW_CHANGE_DELETED && c->renamed_from)
		return; /* shown with its new name */
	if (c->escalated) {
		aw_buf_puts(out,
			    "# agentwall: escalated, held until approved: ");
		aw_review_quote(out, "", c->real);
		aw_buf_puts(out, "\n");
	}
	if (c->kind == AW_CHANGE_SPECIAL) {
		aw_buf_puts(out, "# agentwall: not taken (a device node, fifo "
				 "or socket): ");
		aw_review_quote(out, "", c->real);
		aw_buf_puts(out, "\n");
		return;
	}
	if ((c->kind == AW_CHANGE_CREATED && S_ISDIR(nm)) ||
	    (c->kind == AW_CHANGE_DELETED && S_ISDIR(om))) {
		aw_buf_printf(out, "# agentwall: directory %s: ",
			      c->kind == AW_CHANGE_CREATED ? "created"
							   : "deleted");
		aw_review_quote(out, "", c->real);
		aw_buf_puts(out, "\n");
		return;
	}
	if (c->kind == AW_CHANGE_MODE && S_ISDIR(nm)) {
		aw_buf_printf(out, "# agentwall: directory mode %o -> %o: ",
			      om & 07777, nm & 07777);
		aw_review_quote(out, "", c->real);
		aw_buf_puts(out, "\n");
		return;
	}
	aw_buf_puts(out, "diff --git ");
	aw_review_quote(out, "a", from);
	aw_buf_puts(out, " ");
	aw_review_quote(out, "b", c->real);
	aw_buf_puts(out, "\n");
	if (c->kind == AW_CHANGE_CREATED && c->renamed_from) {
		aw_buf_puts(out, "similarity index 100%\nrename from ");
		aw_review_quote(out, "", from);
		aw_buf_puts(out, "\nrename to ");
		aw_review_quote(out, "", c->real);
		aw_buf_puts(out, "\n");
		return;
	}
	if (c->kind == AW_CHANGE_CREATED)
		aw_buf_printf(out, "new file mode %06o\n", nm);
	else if (c->kind == AW_CHANGE_DELETED)
		aw_buf_printf(out, "deleted file mode %06o\n", om);
	else if (om != nm)
		aw_buf_printf(out, "old mode %06o\nnew mode %06o\n", om, nm);
	if (c->kind == AW_CHANGE_MODE)
		return;
	if (c->kind == AW_CHANGE_MODIFIED && S_ISDIR(nm)) {
		aw_buf_puts(out, "# agentwall: replaced by a directory\n");
		return;
	}
	read_sides(r, c, &s);
	content = !s.too_big;
	c->binary = is_binary(s.a, s.alen) || is_binary(s.b, s.blen);
	if (!content || c->binary) {
		aw_buf_puts(out, "Binary files ");
		if (c->kind == AW_CHANGE_CREATED)
			aw_buf_puts(out, "/dev/null");
		else
			aw_review_quote(out, "a", from);
		aw_buf_puts(out, " and ");
		if (c->kind == AW_CHANGE_DELETED)
			aw_buf_puts(out, "/dev/null");
		else
			aw_review_quote(out, "b", c->real);
		aw_buf_puts(out, " differ\n");
	} else {
		aw_buf_puts(out, "--- ");
		if (c->kind == AW_CHANGE_CREATED)
			aw_buf_puts(out, "/dev/null");
		else
			aw_review_quote(out, "a", from);
		aw_buf_puts(out, "\n+++ ");
		if (c->kind == AW_CHANGE_DELETED)
			aw_buf_puts(out, "/dev/null");
		else
			aw_review_quote(out, "b", c->real);
		aw_buf_puts(out, "\n");
		aw_udiff(out, s.a ? s.a : "", s.alen, s.b ? s.b : "", s.blen);
	}
	free(s.a);
	free(s.b);
}

int aw_review_diff(struct aw_review *r, struct aw_buf *out)
{
	for (size_t i = 0; i < r->n_changes; i++)
		if (r->changes[i].selected)
			diff_one(r, &r->changes[i], out);
	return out->oom ? -ENOMEM : 0;
}

static const char *type_name(mode_t m)
{
	return !m	    ? NULL
	       : S_ISREG(m) ? "file"
	       : S_ISDIR(m) ? "directory"
	       : S_ISLNK(m) ? "symlink"
			    : "special";
}

/* A path in JSON: as text (invalid UTF-8 shown as U+FFFD), and its exact
 * bytes %XX-encoded when that text is not them. */
static void json_path(struct aw_buf *b, const char *key, const char *p)
{
	int exact = 1;
	char kb[64];

	aw_json_key(b, key);
	aw_json_cstr(b, p);
	for (const unsigned char *s = (const unsigned char *)p; *s; s++)
		exact &= *s >= 0x20 && *s < 0x7f;
	if (exact)
		return;
	snprintf(kb, sizeof(kb), "%s_pct", key);
	aw_buf_puts(b, ",");
	aw_json_key(b, kb);
	aw_buf_puts(b, "\"");
	aw_pct_encode(b, p, strlen(p));
	aw_buf_puts(b, "\"");
}

int aw_review_json(struct aw_review *r, const char *session, struct aw_buf *out)
{
	int first = 1;

	aw_buf_puts(out, "{");
	aw_json_key(out, "session");
	aw_json_cstr(out, session);
	aw_buf_puts(out, ",");
	aw_json_key(out, "changes");
	aw_buf_puts(out, "[");
	for (size_t i = 0; i < r->n_changes; i++) {
		struct aw_change *c = &r->changes[i];
		struct aw_buf d = {};

		if (!c->selected)
			continue;
		diff_one(r, c, &d); /* also decides c->binary */
		aw_buf_puts(out, first ? "{" : ",{");
		first = 0;
		json_path(out, "path", c->real);
		aw_buf_puts(out, ",");
		json_path(out, "tree", r->manifest.trees[c->tree].path);
		aw_buf_puts(out, ",");
		aw_json_key(out, "kind");
		aw_json_cstr(out,
			     c->kind == AW_CHANGE_CREATED && c->renamed_from
				 ? "renamed"
				 : aw_change_kind_name(c->kind));
		aw_buf_puts(out, ",");
		aw_json_key(out, "type");
		aw_json_cstr(out, type_name(c->kind == AW_CHANGE_DELETED
						? c->real_mode
						: c->upper_mode));
		aw_buf_printf(out, ",\"escalated\":%s,\"binary\":%s",
			      c->escalated ? "true" : "false",
			      c->binary ? "true" : "false");
		if (c->real_mode)
			aw_buf_printf(out, ",\"mode_old\":\"%04o\"",
				      c->real_mode & 07777);
		if (c->kind != AW_CHANGE_DELETED)
			aw_buf_printf(
			    out, ",\"mode_new\":\"%04o\",\"size\":%lld",
			    c->upper_mode & 07777, (long long)c->size);
		if (c->renamed_from) {
			aw_buf_puts(out, ",");
			json_path(out,
				  c->kind == AW_CHANGE_DELETED ? "renamed_to"
							       : "renamed_from",
				  c->renamed_from);
		}
		aw_buf_puts(out, ",");
		aw_json_key(out, "diff");
		aw_json_str(out, d.data ? d.data : "", d.len);
		aw_buf_puts(out, "}");
		aw_buf_free(&d);
	}
	aw_buf_puts(out, "]}\n");
	return out->oom ? -ENOMEM : 0;
}

/* ---- commit -------------------------------------------------------------- */

#define TMP_PREFIX ".agentwall-tmp-"

struct op {
	struct aw_review *r;
	const char *session;
	struct aw_change *c;
	int real_dir, up_dir; /* the parents, in each tree */
	const char *name;     /* the last component (same on both sides) */
	struct aw_buf *report;
};

static void say(struct op *o, const char *what, const char *why)
{
	aw_buf_puts(o->report, what);
	aw_buf_puts(o->report, " ");
	aw_review_quote(o->report, "", o->c->real);
	if (why) {
		aw_buf_puts(o->report, ": ");
		aw_buf_puts(o->report, why);
	}
	aw_buf_puts(o->report, "\n");
}

/* Copy the store's file into a new file `tmp` beside the real one; synced
 * when it is to replace one (so that a crash of the machine leaves the
 * old file or the new, never an empty one). */
static int copy_in(struct op *o, const char *tmp, mode_t mode, int sync)
{
	int in = openat(o->up_dir, o->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int out;
	char buf[1 << 16];
	ssize_t n = 0;
	int r = 0;

	if (in < 0)
		return -errno;
	unlinkat(o->real_dir, tmp, 0); /* ours, from an interrupted run */
	out =
	    openat(o->real_dir, tmp,
		   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		r = -errno;
		close(in);
		return r;
	}
	while (r == 0 && (n = read(in, buf, sizeof(buf))) > 0) {
		char *p = buf;

		while (n > 0) {
			ssize_t w = write(out, p, (size_t)n);

			if (w < 0) {
				r = -errno;
				break;
			}
			p += w;
			n -= w;
		}
	}
	if (n < 0)
		r = -errno;
	/* No setuid, setgid or sticky bit is ever taken. */
	if (r == 0 &&
	    (fchmod(out, mode & 0777) < 0 || (sync && fsync(out) < 0)))
		r = -errno;
	close(in);
	close(out);
	if (r < 0)
		unlinkat(o->real_dir, tmp, 0);
	return r;
}

/* The store's version of a file or symlink, in place of the real name:
 * made under a temporary name, then renamed over it (or, with
 * noreplace, only if the name is still free). */
static int place(struct op *o, const char *target, int noreplace)
{
	char tmp[64];
	mode_t m = o->c->upper_mode;
	int r;

	snprintf(tmp, sizeof(tmp), TMP_PREFIX "%.16s", o->session);
	if (S_ISLNK(m)) {
		char t[PATH_MAX];
		ssize_t n = readlinkat(o->up_dir, o->name, t, sizeof(t) - 1);

		if (n < 0)
			return -errno;
		t[n] = 0;
		unlinkat(o->real_dir, tmp, 0);
		if (symlinkat(t, o->real_dir, tmp) < 0)
			return -errno;
	} else {
		r = copy_in(o, tmp, m, !noreplace);
		if (r < 0)
			return r;
	}
	if (syscall(SYS_renameat2, o->real_dir, tmp, o->real_dir, target,
		    noreplace ? RENAME_NOREPLACE : 0) < 0) {
		r = -errno;
		unlinkat(o->real_dir, tmp, 0);
		return r;
	}
	return 0;
}

/* One walk of a directory tree, fd by fd, never following a link: with
 * since, a check that nothing in it changed at or after since (-EAGAIN
 * if something did); without, its removal. */
static int tree_walk(int dirfd, const struct timespec *since, int depth)
{
	size_t n;
	char **names;
	int r = 0;

	if (depth > DEPTH_MAX)
		return -ELOOP;
	names = list_dir(dirfd, &n);
	for (size_t i = 0; i < n && r == 0; i++) {
		struct stat st;

		if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (since && changed_since(&st, *since)) {
			r = -EAGAIN;
		} else if (S_ISDIR(st.st_mode)) {
			int sub = open_beneath(dirfd, names[i],
					       O_RDONLY | O_DIRECTORY, 0);

			r = sub < 0 ? sub : tree_walk(sub, since, depth + 1);
			if (sub >= 0)
				close(sub);
			if (!since && r == 0 &&
			    unlinkat(dirfd, names[i], AT_REMOVEDIR))
				r = -errno;
		} else if (!since && unlinkat(dirfd, names[i], 0) < 0) {
			r = -errno;
		}
	}
	free_list(names, n);
	return r;
}

static int tree_check(int dirfd, struct timespec since)
{
	return tree_walk(dirfd, &since, 0);
}

static int tree_remove(int dirfd)
{
	return tree_walk(dirfd, NULL, 0);
}

/* Remove the real entry `name` (any type) if nothing in it changed after
 * since: 0, -EAGAIN for a conflict, or -errno. */
static int real_remove(struct op *o, const struct stat *st)
{
	int r;

	if (changed_since(st, o->c->since))
		return -EAGAIN;
	if (!S_ISDIR(st->st_mode))
		return unlinkat(o->real_dir, o->name, 0) < 0 ? -errno : 0;
	{
		int sub = open_beneath(o->real_dir, o->name,
				       O_RDONLY | O_DIRECTORY, 0);

		if (sub < 0)
			return sub;
		r = tree_check(sub, o->c->since);
		if (r == 0)
			r = tree_remove(sub);
		close(sub);
	}
	if (r == 0 && unlinkat(o->real_dir, o->name, AT_REMOVEDIR) < 0)
		r = -errno;
	return r;
}

/* Does the real entry already equal the store's? */
static int already(struct op *o, const struct stat *rs)
{
	mode_t m = o->c->upper_mode;

	if ((rs->st_mode & S_IFMT) != (m & S_IFMT))
		return 0;
	if (S_ISREG(m))
		return (rs->st_mode & 0777) == (m & 0777) &&
		       same_content(o->up_dir, o->name, o->real_dir, o->name);
	if (S_ISLNK(m))
		return same_link(o->up_dir, o->name, o->real_dir, o->name);
	if (S_ISDIR(m))
		return (rs->st_mode & 01777) == (m & 01777);
	return 0;
}

/* The conflict's other way out: the agent's version beside the real one. */
static int put_beside(struct op *o)
{
	char side[NAME_MAX + 1];

	if (!S_ISREG(o->c->upper_mode) && !S_ISLNK(o->c->upper_mode))
		return -EINVAL;
	if ((size_t)snprintf(side, sizeof(side), "%s.agentwall-%.16s", o->name,
			     o->session) >= sizeof(side))
		return -ENAMETOOLONG;
	return place(o, side, 1);
}

enum outcome { DONE, CONFLICT, FAILED };

static enum outcome apply(struct op *o, const char **why)
{
	struct aw_change *c = o->c;
	struct stat rs;
	int have = fstatat(o->real_dir, o->name, &rs, AT_SYMLINK_NOFOLLOW) == 0;
	int r;

	*why = NULL;
	if (c->kind == AW_CHANGE_DELETED) {
		if (!have)
			return DONE; /* already gone */
		r = real_remove(o, &rs);
		if (r == -EAGAIN) {
			*why = "changed in the real tree after the agent "
			       "deleted it";
			return CONFLICT;
		}
		return r < 0 ? (*why = strerror(-r), FAILED) : DONE;
	}
	if (have && already(o, &rs))
		return DONE; /* same change on both sides, or a re-run */
	if (c->kind == AW_CHANGE_CREATED && have) {
		*why = "created in the real tree too, with other content";
		return CONFLICT;
	}
	if (c->kind != AW_CHANGE_CREATED) {
		if (!have) {
			*why = "deleted in the real tree after the agent's "
			       "copy was made";
			return CONFLICT;
		}
		if (changed_since(&rs, c->since)) {
			*why = "changed in the real tree after the agent's "
			       "copy was made";
			return CONFLICT;
		}
	}
	if (c->kind == AW_CHANGE_MODE) {
		if (S_ISDIR(c->upper_mode) ? 0 : !S_ISREG(c->upper_mode))
			return DONE;
		if (fchmodat(o->real_dir, o->name,
			     c->upper_mode &
				 (S_ISDIR(c->upper_mode) ? 01777 : 0777),
			     0) < 0)
			return *why = strerror(errno), FAILED;
		return DONE;
	}
	/* Another type: the real entry goes first (checked unchanged). */
	if (have && (rs.st_mode & S_IFMT) != (c->upper_mode & S_IFMT)) {
		r = real_remove(o, &rs);
		if (r == -EAGAIN) {
			*why = "changed in the real tree after the agent's "
			       "copy was made";
			return CONFLICT;
		}
		if (r < 0)
			return *why = strerror(-r), FAILED;
		have = 0;
	}
	if (S_ISDIR(c->upper_mode)) {
		if (have) {
			if (fchmodat(o->real_dir, o->name,
				     c->upper_mode & 01777, 0) < 0)
				return *why = strerror(errno), FAILED;
		} else if (mkdirat(o->real_dir, o->name,
				   c->upper_mode & 01777) < 0 &&
			   errno != EEXIST) {
			return *why = strerror(errno), FAILED;
		} else {
			/* Past the umask, as the agent had it. */
			fchmodat(o->real_dir, o->name, c->upper_mode & 01777,
				 0);
		}
		return DONE;
	}
	r = place(o, o->name, !have);
	if (r == -EEXIST) {
		*why = "created in the real tree too, with other content";
		return CONFLICT;
	}
	return r < 0 ? (*why = strerror(-r), FAILED) : DONE;
}

/* The change is in the real tree: it leaves the store. (Directories go
 * at the end, when empty.) */
static void drop_upper(struct op *o)
{
	struct stat st;

	/* In a replaced (opaque) directory an entry stays: without it the
	 * directory would say the real one was deleted. (prune_upper lifts
	 * the opacity once nothing is left to delete.) */
	if (fstatat(o->up_dir, o->name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    S_ISDIR(st.st_mode) || is_opaque_at(o->up_dir))
		return;
	unlinkat(o->up_dir, o->name, 0);
}

/* A store entry that says nothing the real one does not (same type,
 * content or target, and mode). */
static int entry_same(int up, int real, const char *name)
{
	struct stat us, rs;

	if (fstatat(up, name, &us, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fstatat(real, name, &rs, AT_SYMLINK_NOFOLLOW) < 0 ||
	    (us.st_mode & S_IFMT) != (rs.st_mode & S_IFMT))
		return 0;
	if (S_ISREG(us.st_mode))
		return (us.st_mode & 07777) == (rs.st_mode & 07777) &&
		       us.st_size == rs.st_size &&
		       same_content(up, name, real, name);
	if (S_ISLNK(us.st_mode))
		return same_link(up, name, real, name);
	return 0;
}

/* An opaque directory whose real counterpart holds nothing the store
 * lacks hides nothing any more: it becomes an ordinary one, and what in
 * it equals the real tree leaves the store. */
static void unopaque_if_done(int dirfd, int realfd)
{
	size_t n, rn;
	char **l, **rl;
	int pending = 0;

	if (realfd < 0 || !is_opaque(dirfd))
		return;
	l = list_dir(dirfd, &n);
	rl = list_dir(realfd, &rn);
	for (size_t i = 0; i < rn && !pending; i++)
		pending = !l || !bsearch(&rl[i], l, n, sizeof(*l), name_cmp);
	if (!pending && fremovexattr(dirfd, "user.overlay.opaque") == 0)
		for (size_t i = 0; i < n; i++)
			if (entry_same(dirfd, realfd, l[i]))
				unlinkat(dirfd, l[i], 0);
	free_list(l, n);
	free_list(rl, rn);
}

/* Empty store directories go, deepest first; an opaque one only once the
 * real directory holds nothing it would hide (else removing it would
 * bring back what the agent deleted). */
static void prune_upper(int dirfd, int realfd, int depth)
{
	size_t n;
	char **names;

	if (depth > DEPTH_MAX)
		return;
	names = list_dir(dirfd, &n);
	for (size_t i = 0; i < n; i++) {
		struct stat st, rs0;
		int sub, rsub = -1;

		if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		/* A whiteout over nothing hides nothing. */
		if (is_whiteout(&st) && realfd >= 0 &&
		    fstatat(realfd, names[i], &rs0, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno == ENOENT)
			unlinkat(dirfd, names[i], 0);
		if (!S_ISDIR(st.st_mode))
			continue;
		sub = open_beneath(dirfd, names[i], O_RDONLY | O_DIRECTORY, 0);
		if (sub < 0)
			continue;
		if (realfd >= 0)
			rsub = open_beneath(realfd, names[i],
					    O_RDONLY | O_DIRECTORY, 0);
		prune_upper(sub, rsub, depth + 1);
		unopaque_if_done(sub, rsub);
		{
			size_t left, rleft = 0;
			char **l = list_dir(sub, &left), **rl = NULL;
			int opaque = is_opaque(sub);
			struct stat rs;

			if (opaque && rsub >= 0)
				rl = list_dir(rsub, &rleft);
			/* A directory the real tree lacks, or whose mode
			 * differs, is still a change. */
			if (!left && (!opaque || rleft == 0) && rsub >= 0 &&
			    fstat(rsub, &rs) == 0 &&
			    (rs.st_mode & 01777) == (st.st_mode & 01777))
				unlinkat(dirfd, names[i], AT_REMOVEDIR);
			free_list(l, left);
			free_list(rl, rleft);
		}
		close(sub);
		if (rsub >= 0)
			close(rsub);
	}
	free_list(names, n);
}

static int tree_fds(struct aw_review *r, size_t t, int *up, int *real)
{
	char p[PATH_MAX + 32];

	snprintf(p, sizeof(p), "%s/upper/%u", r->dir, r->manifest.trees[t].idx);
	*up = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	*real =
	    open(r->manifest.trees[t].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return *up < 0 ? -errno : 0;
}

static size_t count_remaining(struct aw_review *r)
{
	struct aw_review again;
	size_t n;

	if (aw_review_scan(&again, r->dir) < 0)
		return r->n_changes; /* unknown: say all */
	n = again.n_changes;
	aw_review_free(&again);
	return n;
}

/* One commit or discard of a session at a time: two would share the
 * temporary names. Held until the process ends. */
static int lock_store(struct aw_review *r)
{
	char p[PATH_MAX + 16];
	int fd;

	snprintf(p, sizeof(p), "%s/lock", r->dir);
	fd = open(p, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		snprintf(r->err, sizeof(r->err), "%s",
			 e == EWOULDBLOCK ? "another commit or discard of "
					    "this session is running"
					  : strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	return fd;
}

/* After a commit or a discard: the store's emptied directories go, what
 * is left is counted, the lock is let go. */
static int finish(struct aw_review *r, struct aw_commit_result *res, int lock)
{
	for (size_t t = 0; t < r->manifest.n_trees; t++) {
		int up, real;

		if (tree_fds(r, t, &up, &real) == 0)
			prune_upper(up, real, 0);
		if (up >= 0)
			close(up);
		if (real >= 0)
			close(real);
	}
	res->remaining = count_remaining(r);
	close(lock);
	return 0;
}

int aw_review_commit(struct aw_review *r, const char *session, int approved,
		     enum aw_conflict_mode mode, struct aw_buf *report,
		     struct aw_commit_result *res)
{
	int lock = lock_store(r);

	memset(res, 0, sizeof(*res));
	if (lock < 0)
		return lock;
	for (size_t i = 0; i < r->n_changes; i++) {
		struct aw_change *c = &r->changes[i];
		struct op o = {
		    .r = r, .session = session, .c = c, .report = report};
		int up_root, real_root;
		const char *why;

		if (!c->selected)
			continue;
		if (c->escalated && !approved) {
			res->held++;
			say(&o, "held",
			    "escalated (persistence): needs agentwall approve");
			continue;
		}
		if (c->kind == AW_CHANGE_SPECIAL) {
			res->skipped++;
			say(&o, "skipped",
			    "device nodes, fifos and sockets are not taken");
			continue;
		}
		if (tree_fds(r, c->tree, &up_root, &real_root) < 0 ||
		    real_root < 0) {
			res->failed++;
			say(&o, "failed", "the real tree is not there");
			if (up_root >= 0)
				close(up_root);
			continue;
		}
		o.real_dir = open_parent(real_root, c->rel, &o.name);
		o.up_dir = open_parent(up_root, c->rel, &o.name);
		close(up_root);
		close(real_root);
		if (o.real_dir >= 0) {
			/* Ours, left by a run that was interrupted. */
			char tmp[64];

			snprintf(tmp, sizeof(tmp), TMP_PREFIX "%.16s", session);
			unlinkat(o.real_dir, tmp, 0);
		}
		if (o.real_dir < 0 || o.up_dir < 0) {
			res->failed++;
			say(&o, "failed",
			    o.real_dir == -ELOOP || o.real_dir == -EXDEV ||
				    o.real_dir == -ENOTDIR
				? "a symlink, file or mount where its "
				  "directory "
				  "should be: not followed"
			    : o.real_dir < 0 ? "its directory is not there"
					     : "the store changed");
		} else {
			switch (apply(&o, &why)) {
			case DONE:
				res->committed++;
				if (S_ISREG(c->upper_mode) &&
				    c->kind != AW_CHANGE_DELETED)
					res->bytes += (uint64_t)c->size;
				drop_upper(&o);
				say(&o, "committed", NULL);
				break;
			case CONFLICT:
				if (mode == AW_CONFLICT_SIDE &&
				    c->kind != AW_CHANGE_DELETED &&
				    put_beside(&o) == 0) {
					char side[96];

					res->committed++;
					drop_upper(&o);
					/* (The name is in the quoted path
					 * before this: not repeated raw.) */
					snprintf(side, sizeof(side),
						 "the agent's version is "
						 "beside it, with the suffix "
						 ".agentwall-%.16s",
						 session);
					say(&o, "beside", side);
					break;
				}
				res->conflicts++;
				say(&o, "conflict", why);
				break;
			case FAILED:
				res->failed++;
				say(&o, "failed", why);
				break;
			}
		}
		if (o.real_dir >= 0)
			close(o.real_dir);
		if (o.up_dir >= 0)
			close(o.up_dir);
	}
	return finish(r, res, lock);
}

/* Lift an opaque directory's opacity, keeping what it hid deleted by
 * whiteouts, except `keep`, which the real tree shows again. */
static int unopaque_except(int uppath, int realpath, const char *keep)
{
	int dfd = openat(uppath, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t n = 0, rn = 0;
	char **l = NULL, **rl = NULL;
	int r = 0;

	if (dfd < 0 || realpath < 0 || !is_opaque(dfd)) {
		r = dfd < 0 ? -errno : -ENOENT;
		goto out;
	}
	l = list_dir(dfd, &n);
	rl = list_dir(realpath, &rn);
	for (size_t i = 0; i < rn && r == 0; i++) {
		if (!strcmp(rl[i], keep) ||
		    (l && bsearch(&rl[i], l, n, sizeof(*l), name_cmp)))
			continue;
		if (mknodat(dfd, rl[i], S_IFCHR | 0, makedev(0, 0)) < 0 &&
		    errno != EEXIST)
			r = -errno;
	}
	if (r == 0 && fremovexattr(dfd, "user.overlay.opaque") < 0)
		r = -errno;
out:
	free_list(l, n);
	free_list(rl, rn);
	if (dfd >= 0)
		close(dfd);
	return r;
}

static int store_remove(int dirfd, const char *name)
{
	struct stat st;
	int r = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(st.st_mode)) {
		int sub = open_beneath(dirfd, name, O_RDONLY | O_DIRECTORY, 0);

		if (sub < 0)
			return sub;
		r = tree_remove(sub);
		close(sub);
		if (r == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
			r = -errno;
		return r;
	}
	return unlinkat(dirfd, name, 0) < 0 ? -errno : 0;
}

int aw_review_discard(struct aw_review *r, struct aw_buf *report,
		      struct aw_commit_result *res)
{
	int lock = lock_store(r);

	memset(res, 0, sizeof(*res));
	if (lock < 0)
		return lock;
	for (size_t i = 0; i < r->n_changes; i++) {
		struct aw_change *c = &r->changes[i];
		struct op o = {.r = r, .c = c, .report = report};
		int up_root, real_root, e;

		if (!c->selected)
			continue;
		if (tree_fds(r, c->tree, &up_root, &real_root) < 0) {
			res->failed++;
			say(&o, "failed", "the store is not there");
			continue;
		}
		o.up_dir = open_parent(up_root, c->rel, &o.name);
		o.real_dir = real_root >= 0
				 ? open_parent(real_root, c->rel, &o.name)
				 : -ENOENT;
		close(up_root);
		if (real_root >= 0)
			close(real_root);
		/* Gone with a directory discarded before it: done. */
		e = o.up_dir == -ENOENT ? 0 : o.up_dir < 0 ? o.up_dir : 0;
		if (o.up_dir >= 0) {
			struct stat st;

			if (fstatat(o.up_dir, o.name, &st,
				    AT_SYMLINK_NOFOLLOW) < 0 &&
			    c->kind == AW_CHANGE_DELETED)
				/* Deleted because its directory was replaced:
				 * the directory becomes an ordinary one whose
				 * other deletions are whiteouts, and this one
				 * gets none. */
				e = unopaque_except(o.up_dir, o.real_dir,
						    o.name);
			else
				e = store_remove(o.up_dir, o.name);
		}
		if (e == 0) {
			res->committed++;
			say(&o, "discarded", NULL);
		} else {
			res->failed++;
			say(&o, "failed", strerror(-e));
		}
		if (o.up_dir >= 0)
			close(o.up_dir);
		if (o.real_dir >= 0)
			close(o.real_dir);
	}
	return finish(r, res, lock);
}
