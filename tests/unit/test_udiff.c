// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unified diffs: small cases byte for byte against GNU diff, random pairs
 * applied back by GNU patch and by a strict applier of our own (GNU patch
 * would quietly accept wrong line numbers by searching), edit counts
 * against `diff --minimal`, and the give-up path on large inputs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "review/udiff.h"
#include "shared/json.h"

#define DIFF_PROG "/usr/bin/diff"
#define PATCH_PROG "/usr/bin/patch"

static char tmpdir[] = "/tmp/aw-udiff-XXXXXX";
static const char *const tmpnames[] = {"a", "b", "p", "o", "d"};

/* The fixed path of one of tmpnames in tmpdir. */
static char *tmp_path(const char *name)
{
	static char paths[sizeof(tmpnames) / sizeof(tmpnames[0])][64];
	size_t i;

	for (i = 0; strcmp(tmpnames[i], name); i++)
		assert_true(i + 1 < sizeof(tmpnames) / sizeof(tmpnames[0]));
	if (!paths[i][0])
		snprintf(paths[i], sizeof(paths[i]), "%s/%s", tmpdir, name);
	return paths[i];
}

static int setup_dir(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(tmpnames) / sizeof(tmpnames[0]); i++)
		unlink(tmp_path(tmpnames[i]));
	return rmdir(tmpdir);
}

static void write_file(const char *name, const char *data, size_t len)
{
	int fd = open(tmp_path(name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		      0600);

	assert_true(fd >= 0);
	assert_int_equal(len ? write(fd, data, len) : 0, (ssize_t)len);
	close(fd);
}

static char *read_file(const char *name, size_t *ret_len)
{
	struct stat st;
	char *data;
	int fd = open(tmp_path(name), O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	data = malloc(st.st_size + 1);
	assert_non_null(data);
	assert_int_equal(read(fd, data, st.st_size), st.st_size);
	close(fd);
	*ret_len = st.st_size;
	return data;
}

/* Run argv with stdout into the temp file out (or /dev/null) and stderr
 * to /dev/null; the exit status, -1 if it did not exit. */
static int run(char *const argv[], const char *out)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(out ? tmp_path(out) : "/dev/null",
			      O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int null = open("/dev/null", O_WRONLY);

		if (fd < 0 || null < 0)
			_exit(126);
		dup2(fd, 1);
		dup2(null, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int have(const char *prog)
{
	return access(prog, X_OK) == 0;
}

/* The body of `diff [-d] -a -u a b` (its two header lines dropped) into
 * a malloc'd buffer; NULL if diff is missing. */
static char *gnu_diff(const char *a, size_t alen, const char *b, size_t blen,
		      int minimal, size_t *ret_len)
{
	char *argv[] = {DIFF_PROG,     "-a", "-u", tmp_path("a"),
			tmp_path("b"), NULL, NULL};
	char *out, *p;
	size_t len, skip = 0;
	int i, rc;

	if (!have(DIFF_PROG))
		return NULL;
	if (minimal) {
		/* "-d" first keeps the file names last. */
		argv[5] = argv[4];
		argv[4] = argv[3];
		argv[3] = "-d";
	}
	write_file("a", a, alen);
	write_file("b", b, blen);
	rc = run(argv, "d");
	assert_true(rc == 0 || rc == 1);
	out = read_file("d", &len);
	for (i = 0; i < 2 && skip < len; i++) {
		p = memchr(out + skip, '\n', len - skip);
		assert_non_null(p);
		skip = p - out + 1;
	}
	memmove(out, out + skip, len - skip);
	*ret_len = len - skip;
	return out;
}

/*
 * Apply a diff body to a strictly: every hunk where its header says, its
 * context and deletions checked against a, no fuzz and no search. Also
 * checks the counts in every header. Returns the result, or NULL if the
 * body is malformed or does not fit a.
 */
struct text {
	const char *p;
	size_t len, pos;
};

/* The next line of t with its '\n' (if any); 0 at the end. */
static size_t text_line(struct text *t, const char **ret)
{
	const char *nl;
	size_t n;

	if (t->pos >= t->len)
		return 0;
	*ret = t->p + t->pos;
	nl = memchr(*ret, '\n', t->len - t->pos);
	n = nl ? (size_t)(nl - *ret) + 1 : t->len - t->pos;
	t->pos += n;
	return n;
}

static int parse_range(const char **s, long *start, long *count)
{
	char *end;

	*start = strtol(*s, &end, 10);
	if (end == *s)
		return -1;
	*count = 1;
	if (*end == ',') {
		*s = end + 1;
		*count = strtol(*s, &end, 10);
		if (end == *s)
			return -1;
	} else if (*start == 0) {
		return -1; /* GNU always writes ",0" for an empty range */
	}
	*s = end;
	return 0;
}

#define NO_NL "\\ No newline at end of file\n"

static char *strict_apply(const char *a, size_t alen, const char *body,
			  size_t blen, size_t *ret_len, int *ret_hunks)
{
	struct aw_buf out = {};
	struct text ta = {a, alen, 0}, tp = {body, blen, 0};
	const char *l, *al;
	size_t n, an;
	long aline = 0, delta = 0;
	int hunks = 0;

	aw_buf_add(&out, "", 0);
	n = text_line(&tp, &l);
	while (n) {
		long os, oc, ns, nc, first;
		const char *s = l;
		int last_from_a, last_to_b, need_marker;

		if (n < 4 || memcmp(s, "@@ -", 4))
			goto bad;
		s += 4;
		if (parse_range(&s, &os, &oc) || strncmp(s, " +", 2))
			goto bad;
		s += 2;
		if (parse_range(&s, &ns, &nc) || strncmp(s, " @@\n", 4))
			goto bad;
		hunks++;
		/* An empty range names the line before it. */
		first = oc ? os - 1 : os;
		if (first < aline || (nc ? ns - 1 : ns) != first + delta)
			goto bad;
		for (; aline < first; aline++) {
			an = text_line(&ta, &al);
			if (!an)
				goto bad;
			aw_buf_add(&out, al, an);
		}
		delta += nc - oc;
		while ((n = text_line(&tp, &l)) && (oc || nc)) {
			need_marker = 0;
			if (l[0] == ' ' || l[0] == '-') {
				an = text_line(&ta, &al);
				aline++;
				if (!an || !oc--)
					goto bad;
				/* Without its '\n', the last line of a is
				 * written with one and then the marker. */
				need_marker = al[an - 1] != '\n';
				if (an != n - 1 - need_marker ||
				    memcmp(al, l + 1, an))
					goto bad;
			}
			if (l[0] == ' ' || l[0] == '+') {
				if (!nc--)
					goto bad;
				aw_buf_add(&out, l + 1, n - 1);
			}
			if (l[0] != ' ' && l[0] != '-' && l[0] != '+')
				goto bad;
			last_from_a = l[0] != '+';
			last_to_b = l[0] != '-';
			/* The marker ends the line just written without
			 * its '\n'. */
			if (tp.pos < tp.len && tp.p[tp.pos] == '\\') {
				n = text_line(&tp, &l);
				if (n != strlen(NO_NL) || memcmp(l, NO_NL, n))
					goto bad;
				if (last_to_b)
					out.data[--out.len] = 0;
				if (last_from_a && ta.pos != ta.len)
					goto bad;
				need_marker = 0;
			}
			if (need_marker)
				goto bad;
		}
		if (oc || nc)
			goto bad;
	}
	while ((an = text_line(&ta, &al)))
		aw_buf_add(&out, al, an);
	assert_false(out.oom);
	*ret_len = out.len;
	*ret_hunks = hunks;
	return out.data;
bad:
	aw_buf_free(&out);
	return NULL;
}

/* Both sides of one diff line: the tags count what changed. */
static void count_edits(const char *body, size_t len, long *ret_del,
			long *ret_ins)
{
	struct text t = {body, len, 0};
	const char *l;

	*ret_del = *ret_ins = 0;
	while (text_line(&t, &l)) {
		*ret_del += l[0] == '-';
		*ret_ins += l[0] == '+';
	}
}

/* Our diff of a and b, checked: it applies strictly and gives b, its
 * hunk count is the return value, and 0 hunks means equal inputs. */
static char *udiff_checked(const char *a, size_t alen, const char *b,
			   size_t blen, size_t *ret_len, int *ret_hunks)
{
	struct aw_buf out = {};
	char *res;
	size_t rlen;
	int hunks, parsed;

	hunks = aw_udiff(&out, a, alen, b, blen);
	assert_true(hunks >= 0);
	assert_false(out.oom);
	assert_int_equal(hunks == 0,
			 alen == blen && (!alen || !memcmp(a, b, alen)));
	res = strict_apply(a, alen, out.data ? out.data : "", out.len, &rlen,
			   &parsed);
	if (!res)
		fail_msg("diff does not apply strictly:\n%.*s", (int)out.len,
			 out.data);
	assert_int_equal(parsed, hunks);
	assert_int_equal(rlen, blen);
	assert_memory_equal(res, b, blen);
	free(res);
	*ret_len = out.len;
	*ret_hunks = hunks;
	return out.data ? out.data : strdup("");
}

/* GNU patch applies body (with headers) to a and must give b. */
static void check_patch(const char *a, size_t alen, const char *b, size_t blen,
			const char *body, size_t len)
{
	char *argv[] = {PATCH_PROG, "-s",	   "-f",	  "--binary",
			"-F",	    "0",	   "-r",	  "-",
			"-o",	    tmp_path("o"), tmp_path("a"), tmp_path("p"),
			NULL};
	struct aw_buf p = {};
	char *res;
	size_t rlen;

	aw_buf_puts(&p, "--- a\n+++ b\n");
	aw_buf_add(&p, body, len);
	assert_false(p.oom);
	write_file("a", a, alen);
	write_file("p", p.data, p.len);
	aw_buf_free(&p);
	unlink(tmp_path("o"));
	assert_int_equal(run(argv, NULL), 0);
	res = read_file("o", &rlen);
	assert_int_equal(rlen, blen);
	assert_memory_equal(res, b, blen);
	free(res);
}

struct exact {
	const char *what;
	const char *a, *b, *want;
	size_t alen, blen;
	int hunks;
};

#define EXACT(what, a, b, hunks, want)                                         \
	{                                                                      \
		what, a, b, want, sizeof(a) - 1, sizeof(b) - 1, hunks          \
	}

#define L1_20                                                                  \
	"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n"                                      \
	"11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n"

static const struct exact exact_cases[] = {
    EXACT("insert at start", "b\nc\nd\n", "a\nb\nc\nd\n", 1,
	  "@@ -1,3 +1,4 @@\n+a\n b\n c\n d\n"),
    EXACT("insert into empty", "", "a\nb\n", 1, "@@ -0,0 +1,2 @@\n+a\n+b\n"),
    EXACT("delete everything", "a\nb\n", "", 1, "@@ -1,2 +0,0 @@\n-a\n-b\n"),
    EXACT("empty vs no newline", "", "x", 1,
	  "@@ -0,0 +1 @@\n+x\n\\ No newline at end of file\n"),
    EXACT("delete at end", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n",
	  "1\n2\n3\n4\n5\n6\n7\n8\n", 1,
	  "@@ -6,5 +6,3 @@\n 6\n 7\n 8\n-9\n-10\n"),
    EXACT("one line", "a\n", "b\n", 1, "@@ -1 +1 @@\n-a\n+b\n"),
    EXACT("change in middle", L1_20,
	  "1\n2\n3\n4\n5\n6\n7\n8\n9\nten\n11\n12\n13\n14\n15\n16\n17\n18\n19\n"
	  "20\n",
	  1, "@@ -7,7 +7,7 @@\n 7\n 8\n 9\n-10\n+ten\n 11\n 12\n 13\n"),
    /* Six unchanged lines between two changes: one hunk; seven: two. */
    EXACT("gap of six", L1_20,
	  "1\n2\nX\n4\n5\n6\n7\n8\n9\nY\n11\n12\n13\n14\n15\n16\n17\n18\n19\n"
	  "20\n",
	  1,
	  "@@ -1,13 +1,13 @@\n 1\n 2\n-3\n+X\n 4\n 5\n 6\n 7\n 8\n 9\n-10\n+Y\n"
	  " 11\n 12\n 13\n"),
    EXACT("gap of seven", L1_20,
	  "1\n2\nX\n4\n5\n6\n7\n8\n9\n10\nY\n12\n13\n14\n15\n16\n17\n18\n19\n"
	  "20\n",
	  2,
	  "@@ -1,6 +1,6 @@\n 1\n 2\n-3\n+X\n 4\n 5\n 6\n"
	  "@@ -8,7 +8,7 @@\n 8\n 9\n 10\n-11\n+Y\n 12\n 13\n 14\n"),
    EXACT("newline added at end", "x\ny", "x\ny\n", 1,
	  "@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n+y\n"),
    EXACT("newline removed at end", "x\ny\n", "x\ny", 1,
	  "@@ -1,2 +1,2 @@\n x\n-y\n+y\n\\ No newline at end of file\n"),
    EXACT("no newline on either side", "x\ny", "x\nz", 1,
	  "@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n+z\n"
	  "\\ No newline at end of file\n"),
    EXACT("no newline in context", "1\n2\n3\n4\n5", "1\nX\n3\n4\n5", 1,
	  "@@ -1,5 +1,5 @@\n 1\n-2\n+X\n 3\n 4\n 5\n"
	  "\\ No newline at end of file\n"),
    EXACT("two lines become one without newline", "x\nx\n", "x", 1,
	  "@@ -1,2 +1 @@\n-x\n-x\n+x\n\\ No newline at end of file\n"),
    EXACT("carriage returns are data", "a\r\nb\r\n", "a\nb\r\n", 1,
	  "@@ -1,2 +1,2 @@\n-a\r\n+a\n b\r\n"),
    /* Runs slide to where GNU diff shows them. */
    EXACT("repeated line inserted", "a\nb\nc\n", "a\nb\nb\nc\n", 1,
	  "@@ -1,3 +1,4 @@\n a\n b\n+b\n c\n"),
    EXACT(
	"function inserted", "f() {\n  x;\n}\n\ng() {\n  y;\n}\n",
	"f() {\n  x;\n}\n\nh() {\n  z;\n}\n\ng() {\n  y;\n}\n", 1,
	"@@ -2,6 +2,10 @@\n   x;\n }\n \n+h() {\n+  z;\n+}\n+\n g() {\n   y;\n"
	" }\n"),
    EXACT("replaced line next to an equal one", "x\nx\n", "y\nx\n", 1,
	  "@@ -1,2 +1,2 @@\n-x\n+y\n x\n"),
    /* Neither the first nor the last place of the deleted pair: the one
     * next to the insertion. */
    EXACT("replaced pair among equal pairs", "k\na\nb\na\nb\na\nb\nz\n",
	  "k\na\nb\nY\na\nb\nz\n", 1,
	  "@@ -1,8 +1,7 @@\n k\n a\n b\n-a\n-b\n+Y\n a\n b\n z\n"),
};

static void test_exact(void **state)
{
	size_t i, len, glen;
	int hunks, gnu = have(DIFF_PROG);
	char *got, *ref;

	if (!gnu)
		print_message("%s absent: comparing with the recorded GNU "
			      "output only\n",
			      DIFF_PROG);
	for (i = 0; i < sizeof(exact_cases) / sizeof(exact_cases[0]); i++) {
		const struct exact *c = &exact_cases[i];

		got = udiff_checked(c->a, c->alen, c->b, c->blen, &len, &hunks);
		if (len != strlen(c->want) || memcmp(got, c->want, len))
			fail_msg("%s: got\n%.*s\nwant\n%s", c->what, (int)len,
				 got, c->want);
		assert_int_equal(hunks, c->hunks);
		ref = gnu_diff(c->a, c->alen, c->b, c->blen, 0, &glen);
		if (ref && (glen != len || memcmp(ref, got, len)))
			fail_msg("%s: GNU diff prints\n%.*s", c->what,
				 (int)glen, ref);
		free(ref);
		free(got);
	}
}

/* NULs, CRs, invalid UTF-8 and a line GNU would call binary: bytes. */
static void test_bytes(void **state)
{
	static const char a[] = "a\0b\nx\xff\xfe\n\r\n\n\0\n";
	static const char b[] = "a\0b\nx\xff\n\r\n\n\0";
	static const char want[] = "@@ -1,5 +1,5 @@\n a\0b\n-x\xff\xfe\n"
				   "+x\xff\n \r\n \n-\0\n+\0\n"
				   "\\ No newline at end of file\n";
	char *got, *ref;
	size_t len, glen;
	int hunks;

	got = udiff_checked(a, sizeof(a) - 1, b, sizeof(b) - 1, &len, &hunks);
	assert_int_equal(hunks, 1);
	assert_int_equal(len, sizeof(want) - 1);
	assert_memory_equal(got, want, len);
	ref = gnu_diff(a, sizeof(a) - 1, b, sizeof(b) - 1, 0, &glen);
	if (ref) {
		assert_int_equal(glen, len);
		assert_memory_equal(ref, got, len);
	}
	if (have(PATCH_PROG))
		check_patch(a, sizeof(a) - 1, b, sizeof(b) - 1, got, len);
	free(ref);
	free(got);

	/* Equal inputs, empty or not: nothing written. */
	got = udiff_checked("", 0, "", 0, &len, &hunks);
	assert_int_equal(hunks, 0);
	assert_int_equal(len, 0);
	free(got);
	got = udiff_checked(a, sizeof(a) - 1, a, sizeof(a) - 1, &len, &hunks);
	assert_int_equal(hunks, 0);
	assert_int_equal(len, 0);
	free(got);
}

static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/* Few distinct lines, so that there are many equal lines to align. */
static void random_line(struct aw_buf *b)
{
	static const char *const lines[] = {
	    "a\n", "b\n", "c\n", "}\n", "\n", "a\r\n", "x\0y\n", "\xff\xfe\n"};
	const char *l = lines[rng() % 8];

	/* Lengths by hand: one of them holds a NUL. */
	aw_buf_add(b, l, l[0] == 'x' ? 4 : strlen(l));
}

static void random_text(struct aw_buf *b, long lines)
{
	while (lines-- > 0)
		random_line(b);
}

/* b made from a by a few insertions, deletions and replacements. */
static void random_edit(struct aw_buf *out, const char *a, size_t alen)
{
	struct text t = {a, alen, 0};
	const char *l;
	size_t n;
	unsigned rate = 2 + rng() % 20;

	while ((n = text_line(&t, &l))) {
		unsigned r = rng() % (rate * 3);

		if (r == 0)
			continue; /* deleted */
		if (r == 1)
			random_text(out, 1 + rng() % 3);
		if (r == 2) {
			random_line(out);
			continue; /* replaced */
		}
		aw_buf_add(out, l, n);
	}
	if (rng() % rate == 0)
		random_text(out, 1 + rng() % 3);
}

static void drop_final_newline(struct aw_buf *b)
{
	if (b->len && b->data[b->len - 1] == '\n' && rng() % 4 == 0)
		b->data[--b->len] = 0;
}

static void test_random_round_trip(void **state)
{
	int i, hunks, same_as_gnu = 0, gnu = have(DIFF_PROG);
	int patch = have(PATCH_PROG);

	if (!patch)
		print_message("%s absent (Debian: apt-get install patch): "
			      "checking with the strict applier only\n",
			      PATCH_PROG);
	if (!gnu)
		print_message("%s absent: edit counts not compared with "
			      "diff --minimal\n",
			      DIFF_PROG);
	rng_state = 0x9e3779b97f4a7c15ULL;
	for (i = 0; i < 300; i++) {
		struct aw_buf a = {}, b = {};
		char *got, *ref;
		size_t len, glen;
		long del, ins, gdel, gins;

		aw_buf_add(&a, "", 0);
		aw_buf_add(&b, "", 0);
		random_text(&a, rng() % 201);
		switch (rng() % 5) {
		case 0: /* unrelated */
			random_text(&b, rng() % 201);
			break;
		case 1: /* equal */
			aw_buf_add(&b, a.data, a.len);
			break;
		default:
			random_edit(&b, a.data, a.len);
			break;
		}
		drop_final_newline(&a);
		drop_final_newline(&b);
		assert_false(a.oom || b.oom);

		got = udiff_checked(a.data, a.len, b.data, b.len, &len, &hunks);
		if (hunks && patch)
			check_patch(a.data, a.len, b.data, b.len, got, len);
		if (gnu) {
			/* A shortest script: as many edits as --minimal. */
			ref = gnu_diff(a.data, a.len, b.data, b.len, 1, &glen);
			count_edits(got, len, &del, &ins);
			count_edits(ref, glen, &gdel, &gins);
			assert_int_equal(del, gdel);
			assert_int_equal(ins, gins);
			free(ref);
			ref = gnu_diff(a.data, a.len, b.data, b.len, 0, &glen);
			same_as_gnu += glen == len && !memcmp(ref, got, len);
			free(ref);
		}
		free(got);
		aw_buf_free(&a);
		aw_buf_free(&b);
	}
	if (gnu)
		print_message(
		    "%d of 300 random diffs identical to GNU diff -u\n",
		    same_as_gnu);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void numbered(struct aw_buf *b, const char *word, long from, long to)
{
	for (; from < to; from++)
		aw_buf_printf(b, "%s %ld\n", word, from);
	assert_false(b->oom);
}

/* a changed into b: one hunk replacing everything, checked strictly and
 * by GNU patch. */
static void check_one_block(const struct aw_buf *a, const struct aw_buf *b,
			    long lines, const char *what)
{
	struct aw_buf out = {}, head = {};
	double t;
	long del, ins;
	int hunks;
	char *res;
	size_t rlen;

	t = now();
	hunks = aw_udiff(&out, a->data, a->len, b->data, b->len);
	t = now() - t;
	print_message("%ld lines, %s: %.3f s\n", lines, what, t);
	assert_int_equal(hunks, 1);
	aw_buf_printf(&head, "@@ -1,%ld +1,%ld @@\n-", lines, lines);
	assert_true(out.len > head.len);
	assert_memory_equal(out.data, head.data, head.len);
	count_edits(out.data, out.len, &del, &ins);
	assert_int_equal(del, lines);
	assert_int_equal(ins, lines);
	res = strict_apply(a->data, a->len, out.data, out.len, &rlen, &hunks);
	assert_non_null(res);
	assert_int_equal(hunks, 1);
	assert_int_equal(rlen, b->len);
	assert_memory_equal(res, b->data, b->len);
	free(res);
	if (have(PATCH_PROG))
		check_patch(a->data, a->len, b->data, b->len, out.data,
			    out.len);
	aw_buf_free(&out);
	aw_buf_free(&head);
}

/* Large inputs with nothing to align must be quick and still correct. */
static void test_give_up(void **state)
{
	struct aw_buf a = {}, b = {}, out = {};
	double t;
	long i, del, ins;
	int hunks;

	/* No line in common: set aside before any search. */
	numbered(&a, "old", 0, 200000);
	numbered(&b, "new", 0, 200000);
	check_one_block(&a, &b, 200000, "no line in common");

	/* Every line in common, in the opposite order: the distance is
	 * 399998, the search gives up and the whole is replaced. */
	aw_buf_reset(&b);
	for (i = 199999; i >= 0; i--)
		aw_buf_printf(&b, "old %ld\n", i);
	check_one_block(&a, &b, 200000,
			"same lines reversed (search gives up)");

	/* With a common start and end, only the middle is replaced. */
	aw_buf_reset(&a);
	aw_buf_reset(&b);
	numbered(&a, "same", 0, 1000);
	numbered(&b, "same", 0, 1000);
	numbered(&a, "mid", 0, 100000);
	for (i = 89999; i >= 0; i--)
		aw_buf_printf(&b, "mid %ld\n", i);
	numbered(&a, "end", 0, 1000);
	numbered(&b, "end", 0, 1000);
	t = now();
	hunks = aw_udiff(&out, a.data, a.len, b.data, b.len);
	t = now() - t;
	print_message(
	    "200000 lines, partly reversed: %.3f s (reported, not asserted)\n",
	    t);
	assert_int_equal(hunks, 1);
	assert_true(out.len > 30);
	assert_memory_equal(out.data,
			    "@@ -998,100006 +998,90006 @@\n same 997\n", 39);
	count_edits(out.data, out.len, &del, &ins);
	assert_int_equal(del, 100000);
	assert_int_equal(ins, 90000);
	aw_buf_free(&out);
	aw_buf_free(&a);
	aw_buf_free(&b);
}

/* A few MB with scattered edits: a real diff (many hunks), quickly, as
 * short as GNU's shortest. Swaps and copied lines keep the search busy:
 * lines found on one side only are set aside before it. */
static void test_large_similar(void **state)
{
	struct aw_buf a = {}, b = {};
	char *got, *ref;
	size_t len, glen;
	double t;
	int hunks;
	long i, del, ins, gdel, gins, edits = 0;

#define LINE "line %ld of a rather ordinary file\n"
	rng_state = 42;
	for (i = 0; i < 300000; i++)
		aw_buf_printf(&a, LINE, i);
	for (i = 0; i < 300000; i++) {
		switch (rng() % 1000) {
		case 0: /* deleted */
			edits++;
			break;
		case 1: /* changed */
			edits += 2;
			aw_buf_printf(&b, "changed %ld\n", i);
			break;
		case 2: /* a copy of an earlier line inserted */
			edits++;
			aw_buf_printf(&b, LINE, i / 2);
			aw_buf_printf(&b, LINE, i);
			break;
		case 3: /* swapped with the next line */
			if (i + 1 < 300000) {
				edits += 2;
				aw_buf_printf(&b, LINE, i + 1);
				aw_buf_printf(&b, LINE, i);
				i++;
				break;
			}
			/* fall through */
		default:
			aw_buf_printf(&b, LINE, i);
			break;
		}
	}
#undef LINE
	assert_false(a.oom || b.oom);
	t = now();
	got = udiff_checked(a.data, a.len, b.data, b.len, &len, &hunks);
	t = now() - t;
	print_message("%zu bytes, %ld lines edited: %.3f s, %d hunks\n", a.len,
		      edits, t, hunks);
	assert_true(t < 2.0);
	assert_true(hunks > 100);
	count_edits(got, len, &del, &ins);
	assert_true(del + ins <= edits);
	ref = gnu_diff(a.data, a.len, b.data, b.len, 1, &glen);
	if (ref) {
		count_edits(ref, glen, &gdel, &gins);
		assert_int_equal(del, gdel);
		assert_int_equal(ins, gins);
	}
	free(ref);
	free(got);
	aw_buf_free(&a);
	aw_buf_free(&b);
}

static void test_oom_reported(void **state)
{
	struct aw_buf out = {};

	out.oom = 1;
	assert_int_equal(aw_udiff(&out, "a\n", 2, "b\n", 2), -ENOMEM);
	assert_int_equal(aw_udiff(&out, "a\n", 2, "a\n", 2), -ENOMEM);
	aw_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exact),
	    cmocka_unit_test(test_bytes),
	    cmocka_unit_test(test_random_round_trip),
	    cmocka_unit_test(test_give_up),
	    cmocka_unit_test(test_large_similar),
	    cmocka_unit_test(test_oom_reported),
	};

	return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
