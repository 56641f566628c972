// SPDX-License-Identifier: GPL-2.0-only
/*
 * The plan's real paths (src/sandbox/plan.c, plan_realpath): each
 * directory resolved once and remembered, instead of realpath() for each
 * of the policy's paths. The answer must be realpath()'s, errno included,
 * or a secret goes unmasked or a grant lands elsewhere: compared here on a
 * tree of links made to mislead (links in the last component and in the
 * middle, relative and absolute, to files and directories, dangling,
 * looping, "." and "..", doubled and trailing slashes, a file used as a
 * directory, names near PATH_MAX), with the memory cold and warm.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* The function under test is static: the file is part of this test. */
#include "../../src/sandbox/plan.c"

static char root[] = "/tmp/aw-plan-XXXXXX";

static void at(const char *rel, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", root, rel);
}

static void mk_dir(const char *rel)
{
	char p[PATH_MAX];

	at(rel, p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
}

static void mk_file(const char *rel)
{
	char p[PATH_MAX];
	int fd;

	at(rel, p, sizeof(p));
	fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
}

static void mk_link(const char *target, const char *rel)
{
	char p[PATH_MAX];

	at(rel, p, sizeof(p));
	assert_int_equal(symlink(target, p), 0);
}

static int setup(void **state)
{
	char abs[PATH_MAX];

	(void)state;
	if (!mkdtemp(root))
		return -1;
	mk_dir("home");
	mk_dir("home/.ssh");
	mk_file("home/.ssh/id_ed25519");
	mk_dir("data");
	mk_dir("data/keys");
	mk_file("data/keys/id_rsa");
	mk_link("id_rsa", "data/keys/current");
	mk_link("../data/keys", "home/keys");
	at("data/keys", abs, sizeof(abs));
	mk_link(abs, "home/abskeys");
	mk_link("keys", "home/keys2");
	mk_link(".", "home/dot");
	mk_link("..", "home/up");
	mk_link("nowhere", "home/dangling");
	mk_link("loop-b", "home/loop-a");
	mk_link("loop-a", "home/loop-b");
	mk_file("home/plain");
	mk_dir("a");
	mk_dir("a/b");
	mk_link("../../data", "a/b/d");
	mk_file("a/b/f");
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

/* plan_realpath(path) answers as realpath(path) does. */
static void same(const char *path)
{
	char a[PATH_MAX], b[PATH_MAX];
	char *ra, *rb;
	int ea, eb;

	errno = 0;
	ra = realpath(path, a);
	ea = errno;
	errno = 0;
	rb = plan_realpath(path, b);
	eb = errno;
	if (!ra != !rb || (ra && strcmp(a, b)) || (!ra && ea != eb))
		fail_msg("%s: realpath %s (%s), plan %s (%s)", path,
			 ra ? a : "-", ra ? "" : strerror(ea), rb ? b : "-",
			 rb ? "" : strerror(eb));
}

static void test_realpath_same(void **state)
{
	static const char *const rel[] = {
	    "home/.ssh/id_ed25519",
	    "home/keys/id_rsa",
	    "home/abskeys/id_rsa",
	    "home/keys2/id_rsa",
	    "home/keys2/current",
	    "home/keys/current",
	    "home/keys",
	    "home/dot/dot/.ssh/id_ed25519",
	    "home/up/home/keys/id_rsa",
	    "home/keys/../keys/id_rsa",
	    "home/keys/..",
	    "home/keys/.",
	    "home/keys/./id_rsa",
	    "home/dangling",
	    "home/dangling/x",
	    "home/loop-a",
	    "home/loop-a/x",
	    "home/plain/x",
	    "home/plain/",
	    "home/.ssh/",
	    "home/.ssh//id_ed25519",
	    "home//.ssh/id_ed25519",
	    "home/missing/x/y",
	    "home/missing",
	    "a/b/d/keys/id_rsa",
	    "a/b/d/../b/f",
	    "a/b/f",
	};
	char p[PATH_MAX];

	(void)state;
	/* Cold, then with every directory remembered. */
	for (int pass = 0; pass < 2; pass++) {
		if (!pass)
			rp_forget();
		for (size_t i = 0; i < AW_ARRAY_SIZE(rel); i++) {
			at(rel[i], p, sizeof(p));
			same(p);
		}
		same("/");
		same("//");
		same("/proc/self/root/etc");
	}
	rp_forget();
}

/* Names near PATH_MAX: the directory alone too long for the buffer, or
 * the whole path, or a link whose target makes it so. */
static void test_realpath_long(void **state)
{
	char name[NAME_MAX + 1], rel[PATH_MAX * 2], p[PATH_MAX * 2];
	size_t len = 0;

	(void)state;
	memset(name, 'n', 200);
	name[200] = 0;
	rp_forget();
	while (strlen(root) + len + 202 < PATH_MAX + 300) {
		len += (size_t)snprintf(rel + len, sizeof(rel) - len, "%s%s",
					len ? "/" : "", name);
		snprintf(p, sizeof(p), "%s/%s", root, rel);
		if (strlen(p) < PATH_MAX)
			assert_int_equal(mkdir(p, 0755), 0);
		same(p);
		snprintf(p, sizeof(p), "%s/%s/x", root, rel);
		same(p);
	}
	rp_forget();
}

/* The `**` walk's cache (walk.c) keeps no directory changed in the last
 * seconds: its ctime may be one coarse tick (or FAT's two seconds) that
 * a change right after the walk's read would not move, and the cache
 * would then hide a NAME made then from every later start. */
static void test_walk_racy_not_kept(void **state)
{
	char ws[PATH_MAX], cache[PATH_MAX], p[PATH_MAX];
	struct aw_walk_result r;
	struct stat st;

	(void)state;
	snprintf(ws, sizeof(ws), "%s/walkws", root);
	snprintf(cache, sizeof(cache), "%s/walkcache", root);
	snprintf(p, sizeof(p), "%s/d", ws);
	assert_int_equal(mkdir(ws, 0755), 0);
	assert_int_equal(mkdir(cache, 0700), 0);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(stat(ws, &st), 0);
	assert_int_equal(aw_walk_named(ws, st.st_dev, ".env", cache, &r), 0);
	assert_int_equal(r.dirs_read, 2);
	aw_walk_result_free(&r);
	/* Unchanged, but changed just now: read again, not believed. */
	assert_int_equal(aw_walk_named(ws, st.st_dev, ".env", cache, &r), 0);
	assert_int_equal(r.dirs_cached, 0);
	assert_int_equal(r.dirs_read, 2);
	aw_walk_result_free(&r);
}

/* A workspace whose file system is not a local one keeping ctimes (NFS
 * answers a stat from an attribute cache, FUSE from its server): read in
 * full at every start. sysfs stands in for them here. */
static void test_walk_remote_not_cached(void **state)
{
	char cache[PATH_MAX];
	struct aw_walk_result r;
	struct stat st;

	(void)state;
	snprintf(cache, sizeof(cache), "%s/walkcache-sys", root);
	assert_int_equal(mkdir(cache, 0700), 0);
	if (stat("/sys/kernel/mm", &st) < 0)
		skip();
	for (int i = 0; i < 2; i++) {
		assert_int_equal(aw_walk_named("/sys/kernel/mm", st.st_dev,
					       ".env", cache, &r),
				 0);
		assert_int_equal(r.dirs_cached, 0);
		assert_true(r.dirs_read > 0);
		aw_walk_result_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_realpath_same),
	    cmocka_unit_test(test_realpath_long),
	    cmocka_unit_test(test_walk_racy_not_kept),
	    cmocka_unit_test(test_walk_remote_not_cached),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
