// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the signature database: parser diagnostics, the real
 * signatures/ directory, the compiled DFA walked the way the kernel walks
 * it, and a fuzz-ish loop over broken documents.
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
#include <unistd.h>

#include "agentwall_abi.h"
#include "signatures/signatures.h"

#ifndef AW_SOURCE_DIR
#define AW_SOURCE_DIR "."
#endif

static int load(struct aw_sigdb *db, const char *text, struct aw_diag *d)
{
	memset(d, 0, sizeof(*d));
	return aw_sigdb_load_buffer(db, "test.yaml", text, strlen(text), d);
}

static const char valid_doc[] =
    "version: 1\n"
    "interpreters:\n"
    "  - \"**/node\"\n"
    "signatures:\n"
    "  - id: openai.codex-cli\n"
    "    vendor: OpenAI\n"
    "    product: Codex CLI\n"
    "    class: coding-agent\n"
    "    package: \"@openai/codex\"\n"
    "    match:\n"
    "      - exe: "
    "\"**/node_modules/@openai/codex-linux-x64/vendor/*/bin/codex\"\n"
    "      - script: \"**/node_modules/@openai/codex/bin/codex.js\"\n"
    "  - id: acme.tool\n"
    "    vendor: Acme\n"
    "    product: Tool\n"
    "    class: unknown-agent\n"
    "    match:\n"
    "      - exe: /opt/acme/bin/tool\n";

static void test_parse_valid(void **state)
{
	struct aw_sigdb db = {0};
	struct aw_diag d;
	const struct aw_signature *s;

	(void)state;
	assert_int_equal(load(&db, valid_doc, &d), 0);
	assert_int_equal(db.n_sigs, 2);
	assert_int_equal(db.n_interpreters, 1);
	assert_string_equal(db.interpreters[0].pattern, "**/node");
	assert_int_equal(db.interpreters[0].kind, AW_MATCH_EXE);
	assert_int_equal(db.interpreters[0].line, 3);
	assert_int_equal(db.interpreters[0].column, 5);

	s = aw_sigdb_find(&db, "openai.codex-cli");
	assert_non_null(s);
	assert_string_equal(s->vendor, "OpenAI");
	assert_string_equal(s->product, "Codex CLI");
	assert_string_equal(s->class, "coding-agent");
	assert_string_equal(s->package, "@openai/codex");
	assert_string_equal(s->file, "test.yaml");
	assert_int_equal(s->line, 5);
	assert_int_equal(s->column, 5);
	assert_int_equal(s->n_matches, 2);
	assert_int_equal(s->matches[0].kind, AW_MATCH_EXE);
	assert_int_equal(s->matches[1].kind, AW_MATCH_SCRIPT);
	assert_int_equal(s->matches[1].line, 12);
	assert_int_equal(s->matches[1].column, 17);

	s = aw_sigdb_find(&db, "acme.tool");
	assert_non_null(s);
	assert_null(s->package);
	assert_string_equal(s->matches[0].pattern, "/opt/acme/bin/tool");
	assert_null(aw_sigdb_find(&db, "acme"));
	aw_sigdb_free(&db);
	assert_int_equal(db.n_sigs, 0);
	assert_null(db.sigs);
}

/* Content identities: a digest and size, kept apart from the patterns;
 * a signature may name content only. */
static void test_content(void **state)
{
	static const char doc[] =
	    "version: 1\nsignatures:\n  - id: a.b\n    vendor: V\n"
	    "    product: P\n    class: coding-agent\n    match:\n"
	    "      - exe: /a/b\n"
	    "      - content: \"sha256:"
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	    " size:315109048\"\n"
	    "  - id: c.d\n    vendor: V\n"
	    "    product: P\n    class: coding-agent\n    match:\n"
	    "      - content: \"sha256:"
	    "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
	    " size:1\"\n";
	struct aw_sigdb db = {};
	struct aw_compiled c = {};
	struct aw_diag d = {};
	const struct aw_signature *s;

	(void)state;
	assert_int_equal(load(&db, doc, &d), 0);
	s = aw_sigdb_find(&db, "a.b");
	assert_non_null(s);
	assert_int_equal(s->n_matches, 1);
	assert_int_equal(s->n_contents, 1);
	assert_int_equal(s->contents[0].size, 315109048);
	assert_int_equal(s->contents[0].sha256[0], 0x00);
	assert_int_equal(s->contents[0].sha256[1], 0x11);
	assert_int_equal(s->contents[0].sha256[31], 0xff);
	assert_int_equal(s->contents[0].line, 9);
	s = aw_sigdb_find(&db, "c.d");
	assert_non_null(s);
	assert_int_equal(s->n_matches, 0);
	assert_int_equal(s->n_contents, 1);
	assert_int_equal(s->contents[0].size, 1);
	/* Content entries add no rules to the kernel's tables. */
	assert_int_equal(aw_sigdb_compile(&db, &c, &d), 0);
	assert_int_equal(c.n_rules, 1);
	aw_compiled_free(&c);
	aw_sigdb_free(&db);
}

/* A document with one signature whose given lines are replaced. */
#define SIG_HEAD "version: 1\nsignatures:\n  - id: a.b\n    vendor: V\n"
#define SIG_REST                                                               \
	"    product: P\n    class: coding-agent\n    match:\n"                \
	"      - exe: /a/b\n"

#define ID_DOC(id)                                                             \
	"version: 1\nsignatures:\n  - id: " id "\n    vendor: V\n" SIG_REST

struct err_case {
	const char *name;
	const char *text;
	int rc;
	unsigned line, column;
	const char *msg; /* substring of the message */
	size_t len;	 /* of text, when it holds NUL bytes */
};

static const struct err_case err_cases[] = {
    {"unknown top key", "version: 1\nsigs: []\n", -EINVAL, 2, 1,
     "unknown key 'sigs' in the top level"},
    {"unknown sig key", SIG_HEAD "    vendr: X\n" SIG_REST, -EINVAL, 5, 5,
     "unknown key 'vendr' in signature"},
    {"signatures not a list", "version: 1\nsignatures: {a: b}\n", -EINVAL, 2,
     13, "'signatures' must be a list, found a mapping"},
    {"match scalar",
     SIG_HEAD "    product: P\n    class: coding-agent\n    match: /a/b\n",
     -EINVAL, 7, 12, "'match' must be a list, found a scalar"},
    {"id list",
     "version: 1\nsignatures:\n  - id: [a, b]\n    vendor: V\n" SIG_REST,
     -EINVAL, 3, 9, "'id' must be a scalar, found a list"},
    {"signature scalar", "version: 1\nsignatures:\n  - codex\n", -EINVAL, 3, 5,
     "signature must be a mapping, found a scalar"},
    {"missing vendor", "version: 1\nsignatures:\n  - id: a.b\n" SIG_REST,
     -EINVAL, 3, 5, "missing required key 'vendor'"},
    {"missing match", SIG_HEAD "    product: P\n    class: coding-agent\n",
     -EINVAL, 3, 5, "missing required key 'match'"},
    {"missing version", "signatures: []\n", -EINVAL, 1, 1,
     "missing required key 'version'"},
    {"duplicate key", SIG_HEAD "    vendor: W\n" SIG_REST, -EINVAL, 5, 5,
     "duplicate key 'vendor' in signature (first at line 4)"},
    {"duplicate id",
     SIG_HEAD SIG_REST "  - id: a.b\n    vendor: V\n    product: P\n"
		       "    class: coding-agent\n    match:\n"
		       "      - exe: /c/d\n",
     -EINVAL, 9, 5, "duplicate id 'a.b' (first defined at test.yaml:3)"},
    {"id uppercase", ID_DOC("OpenAI.codex"), -EINVAL, 3, 9,
     "bad id 'OpenAI.codex'"},
    {"id no dot", ID_DOC("codex"), -EINVAL, 3, 9, "bad id 'codex'"},
    {"id double dot", ID_DOC("a..b"), -EINVAL, 3, 9, "bad id"},
    {"id leading dot", ID_DOC(".a"), -EINVAL, 3, 9, "bad id"},
    {"unknown class",
     SIG_HEAD "    product: P\n    class: chatbot\n    match:\n"
	      "      - exe: /a/b\n",
     -EINVAL, 6, 12, "unknown class 'chatbot'"},
    {"bad package", SIG_HEAD "    package: \"@Open AI/x\"\n" SIG_REST, -EINVAL,
     5, 14, "bad npm package name"},
    {"empty vendor",
     "version: 1\nsignatures:\n  - id: a.b\n    vendor: \"\"\n" SIG_REST,
     -EINVAL, 4, 13, "'vendor' must not be empty"},
    {"null vendor",
     "version: 1\nsignatures:\n  - id: a.b\n    vendor:\n" SIG_REST, -EINVAL, 4,
     12, "'vendor' must not be empty"},
    {"NUL in vendor",
     "version: 1\nsignatures:\n  - id: a.b\n    vendor: \"a\\0b\"\n" SIG_REST,
     -EINVAL, 4, 13, "'vendor' contains a NUL byte"},
    {"empty match list",
     SIG_HEAD "    product: P\n    class: coding-agent\n    match: []\n",
     -EINVAL, 7, 12, "'match' must not be empty"},
    {"match both",
     SIG_HEAD "    product: P\n    class: coding-agent\n    match:\n"
	      "      - {exe: /a/b, script: /c/d}\n",
     -EINVAL, 8, 9, "exactly one of 'exe', 'script' or 'content'"},
    {"match neither",
     SIG_HEAD "    product: P\n    class: coding-agent\n    match:\n"
	      "      - {}\n",
     -EINVAL, 8, 9, "exactly one of 'exe', 'script' or 'content'"},
    {"content without size",
     SIG_HEAD "    product: P\n    class: coding-agent\n    match:\n"
	      "      - content: \"sha256:"
	      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	      "\"\n",
     -EINVAL, 8, 18, "bad content"},
    {"content short digest",
     SIG_HEAD "    product: P\n    class: coding-agent\n    match:\n"
	      "      - content: \"sha256:0123 size:10\"\n",
     -EINVAL, 8, 18, "bad content"},
    {"content upper-case digest",
     SIG_HEAD "    product: P\n    class: coding-agent\n    match:\n"
	      "      - content: \"sha256:"
	      "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"
	      " size:10\"\n",
     -EINVAL, 8, 18, "bad content"},
    {"content size zero",
     SIG_HEAD "    product: P\n    class: coding-agent\n    match:\n"
	      "      - content: \"sha256:"
	      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	      " size:0\"\n",
     -EINVAL, 8, 18, "bad content"},
    {"match unknown key",
     SIG_HEAD "    product: P\n    class: coding-agent\n    match:\n"
	      "      - path: /a/b\n",
     -EINVAL, 8, 9, "unknown key 'path' in match entry"},
    {"version 2", "version: 2\n", -EINVAL, 1, 10, "unsupported version '2'"},
    {"empty document", "", -EINVAL, 1, 1, "empty document"},
    {"comment only", "# nothing\n", -EINVAL, 1, 1, "empty document"},
    {"top level list", "- a\n- b\n", -EINVAL, 1, 1,
     "the top level must be a mapping, found a list"},
    {"two documents", "version: 1\n---\nversion: 1\n", -EINVAL, 3, 1,
     "more than one YAML document"},
    {"syntax error", "version: 1\nsignatures: [a, b\n", -EINVAL, 3, 1,
     "YAML syntax error: did not find expected ',' or ']'"},
    {"syntax error colon", "version: 1\nsignatures:\n  - id: a: b\n", -EINVAL,
     3, 10,
     "YAML syntax error: mapping values are not allowed in this context"},
    {"tab indent", "version: 1\nsignatures:\n\t- id: a.b\n", -EINVAL, 3, 1,
     "YAML syntax error: found character that cannot start any token"},
    {"not utf-8", "version: 1\nsignatures:\n  - id: caf\xe9.x\n", -EINVAL, 3,
     12, "not valid UTF-8: byte 0xe9 starts a cut-short sequence"},
    {"not utf-8 lead", "version: 1\n\xff\n", -EINVAL, 2, 1,
     "not valid UTF-8: byte 0xff cannot start a character"},
    {"not utf-8 at end", "version: 1\n# \xc3\xa9\xe2\x82", -EINVAL, 2, 4,
     "not valid UTF-8: byte 0xe2 starts a cut-short sequence"},
    {"utf-16 bom", "\xff\xfev\0e\0r\0", -EINVAL, 1, 1,
     "not valid UTF-8: byte 0xff cannot start a character", 8},
    {"control char", "version: 1\x01\n", -EINVAL, 1, 11,
     "invalid character: control characters are not allowed"},
    {"undefined alias", "version: *v\n", -EINVAL, 1, 10,
     "found undefined alias"},
    /* YAML reads an unquoted leading '*' as an alias */
    {"unquoted star pattern", "version: 1\ninterpreters:\n  - **/node\n",
     -EINVAL, 3, 6,
     "YAML syntax error: did not find expected alphabetic or numeric character "
     "(while scanning an alias at line 3, column 5)"},
    {"interpreters map", "version: 1\ninterpreters: {a: b}\n", -EINVAL, 2, 15,
     "'interpreters' must be a list, found a mapping"},
    /* patterns */
    {"empty pattern",
     SIG_HEAD "    product: P\n    class: coding-agent\n"
	      "    match:\n      - exe: \"\"\n",
     -EINVAL, 8, 14, "pattern must not be empty"},
#define PAT_CASE(name, pat, why)                                               \
	{                                                                      \
		name, "version: 1\ninterpreters:\n  - " pat "\n", -EINVAL, 3,  \
		    5, "bad pattern: " why                                     \
	}
    PAT_CASE("relative", "bin/codex", "relative pattern"),
    PAT_CASE("dot", "/a/./b", "'.' and '..' components are not allowed"),
    PAT_CASE("dotdot", "\"**/a/../b\"",
	     "'.' and '..' components are not allowed"),
    PAT_CASE("double slash", "/a//b", "empty path component"),
    PAT_CASE("trailing slash", "/a/b/", "empty path component"),
    PAT_CASE("root only", "/", "empty path component"),
    PAT_CASE("star star only", "\"**\"", "nothing after '**'"),
    PAT_CASE("star star slash", "\"**/\"", "empty path component"),
    PAT_CASE("partial glob", "\"**/codex-*\"",
	     "component 'codex-*': only a whole '*' component is a wildcard"),
    PAT_CASE("question glob", "\"**/codex?\"",
	     "component 'codex?': only a whole '*' component is a wildcard"),
    PAT_CASE("bracket glob", "\"**/codex[0-9]\"",
	     "component 'codex[0-9]': only a whole '*'"),
    PAT_CASE("inner star star", "\"**/a/**/b\"",
	     "'**' is only allowed as the first component"),
    PAT_CASE("anchored star star", "\"/**/b\"",
	     "'**' is only allowed as the first component"),
    PAT_CASE("only wildcards", "\"/*/*\"",
	     "pattern must name at least one literal component"),
    PAT_CASE("only wildcards suffix", "\"**/*\"",
	     "pattern must name at least one literal component"),
    PAT_CASE("control char", "\"/a/b\\tc\"", "control character 0x09"),
    PAT_CASE("too deep",
	     "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/19/20/21/22/"
	     "23/24/25/26/27/28/29/30/31/32/33",
	     "pattern has 33 components, the kernel walks at most 32"),
    {"duplicate pattern",
     SIG_HEAD SIG_REST "  - id: c.d\n    vendor: V\n    product: P\n"
		       "    class: coding-agent\n    match:\n"
		       "      - exe: /a/b\n",
     -EINVAL, 14, 14,
     "pattern '/a/b' already used by signature a.b at test.yaml:8"},
};

static void test_errors(void **state)
{
	size_t i, failed = 0;

	(void)state;
	for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *c = &err_cases[i];
		struct aw_sigdb db = {0};
		struct aw_diag d;
		int r;

		memset(&d, 0, sizeof(d));
		/* sizeof, not strlen: some cases hold NUL bytes */
		r = aw_sigdb_load_buffer(&db, "test.yaml", c->text,
					 c->len ? c->len : strlen(c->text), &d);
		if (r != c->rc || d.line != c->line || d.column != c->column ||
		    !strstr(d.message, c->msg)) {
			print_error("case '%s': got %d at %u:%u '%s', want %d "
				    "at %u:%u '%s'\n",
				    c->name, r, d.line, d.column, d.message,
				    c->rc, c->line, c->column, c->msg);
			failed++;
		}
		assert_string_equal(d.file, "test.yaml");
		/* nothing leaked into the caller's db */
		assert_int_equal(db.n_sigs, 0);
		assert_int_equal(db.n_interpreters, 0);
		aw_sigdb_free(&db);
	}
	assert_int_equal(failed, 0);
}

static char *doc_with_long_pattern(size_t comp_len, size_t n_comps)
{
	size_t cap = 64 + n_comps * (comp_len + 1), off;
	char *s = malloc(cap);
	size_t i;

	assert_non_null(s);
	off = (size_t)snprintf(s, cap, "version: 1\ninterpreters:\n  - /");
	for (i = 0; i < n_comps; i++) {
		memset(s + off, 'a' + (char)(i % 26), comp_len);
		off += comp_len;
		s[off++] = i + 1 < n_comps ? '/' : '\n';
	}
	s[off] = '\0';
	return s;
}

static void test_pattern_limits(void **state)
{
	struct aw_sigdb db = {0};
	struct aw_diag d;
	char *s;

	(void)state;
	/* a 255-byte component is fine, 256 is not */
	s = doc_with_long_pattern(255, 2);
	assert_int_equal(load(&db, s, &d), 0);
	aw_sigdb_free(&db);
	free(s);
	s = doc_with_long_pattern(256, 2);
	assert_int_equal(load(&db, s, &d), -EINVAL);
	assert_int_equal(d.line, 3);
	assert_int_equal(d.column, 5);
	assert_non_null(
	    strstr(d.message, "path component of 256 bytes, the limit is 255"));
	free(s);
	/* 4096 bytes overall: 17 components of 255 + '/' = 4352 */
	s = doc_with_long_pattern(255, 17);
	assert_int_equal(load(&db, s, &d), -EINVAL);
	assert_non_null(
	    strstr(d.message, "pattern is 4352 bytes, the limit is 4096"));
	free(s);
	assert_int_equal(db.n_interpreters, 0);

	assert_int_equal(aw_sig_pattern_check("**/a/*/b", NULL, 0), 0);
	assert_int_equal(aw_sig_pattern_check("a", NULL, 0), -EINVAL);
	assert_int_equal(aw_sig_pattern_check(NULL, NULL, 0), -EINVAL);
}

static char *doc_many(size_t n_sigs, size_t n_matches)
{
	size_t cap = 256 + n_sigs * (128 + n_matches * 40), off = 0, i, j;
	char *s = malloc(cap);

	assert_non_null(s);
	off += snprintf(s + off, cap - off, "version: 1\nsignatures:\n");
	for (i = 0; i < n_sigs; i++) {
		off +=
		    snprintf(s + off, cap - off,
			     "  - id: v.p%zu\n    vendor: V\n    product: P\n"
			     "    class: coding-agent\n    match:\n",
			     i);
		for (j = 0; j < n_matches; j++)
			off += snprintf(s + off, cap - off,
					"      - exe: /s%zu/m%zu\n", i, j);
	}
	assert_true(off < cap);
	return s;
}

static void test_count_limits(void **state)
{
	struct aw_sigdb db = {0};
	struct aw_diag d;
	char *s, *big;

	(void)state;
	s = doc_many(1, AW_SIG_MATCHES_MAX);
	assert_int_equal(load(&db, s, &d), 0);
	aw_sigdb_free(&db);
	free(s);
	s = doc_many(1, AW_SIG_MATCHES_MAX + 1);
	assert_int_equal(load(&db, s, &d), -EINVAL);
	assert_int_equal(d.line, 8);
	assert_int_equal(d.column, 7);
	assert_non_null(strstr(d.message, "65 match entries, the limit is 64"));
	free(s);

	s = doc_many(AW_SIG_SIGS_MAX, 1);
	assert_int_equal(load(&db, s, &d), 0);
	assert_int_equal(db.n_sigs, AW_SIG_SIGS_MAX);
	/* one more, from another document: the database limit */
	assert_int_equal(load(&db,
			      "version: 1\nsignatures:\n  - id: x.y\n"
			      "    vendor: V\n    product: P\n"
			      "    class: coding-agent\n    match:\n"
			      "      - exe: /x/y\n",
			      &d),
			 -E2BIG);
	assert_non_null(strstr(d.message, "more than 1024 signatures"));
	assert_int_equal(db.n_sigs, AW_SIG_SIGS_MAX);
	aw_sigdb_free(&db);
	free(s);
	s = doc_many(AW_SIG_SIGS_MAX + 1, 1);
	assert_int_equal(load(&db, s, &d), -EINVAL);
	assert_int_equal(d.line, 3);
	assert_non_null(
	    strstr(d.message, "1025 signatures, the limit is 1024"));
	free(s);

	/* over 1 MiB: refused before parsing */
	big = malloc(AW_SIG_FILE_MAX + 2);
	assert_non_null(big);
	memset(big, '#', AW_SIG_FILE_MAX + 1);
	big[AW_SIG_FILE_MAX + 1] = '\0';
	assert_int_equal(load(&db, big, &d), -EFBIG);
	assert_non_null(strstr(d.message, "limit is 1048576"));
	free(big);
	assert_int_equal(db.n_sigs, 0);
}

/* Deep-copy what a db holds, to compare after a failed load. */
static char *db_dump(const struct aw_sigdb *db)
{
	char *buf = NULL;
	size_t len = 0, i, j;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	for (i = 0; i < db->n_sigs; i++) {
		const struct aw_signature *s = &db->sigs[i];

		fprintf(f, "%s|%s|%s|%s|%s|%s:%u:%u\n", s->id, s->vendor,
			s->product, s->class, s->package ? s->package : "-",
			s->file, s->line, s->column);
		for (j = 0; j < s->n_matches; j++)
			fprintf(f, "  %d %s %u:%u\n", s->matches[j].kind,
				s->matches[j].pattern, s->matches[j].line,
				s->matches[j].column);
	}
	for (i = 0; i < db->n_interpreters; i++)
		fprintf(f, "i %s\n", db->interpreters[i].pattern);
	fclose(f);
	return buf;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void test_unchanged_after_failure(void **state)
{
	struct aw_sigdb db = {0};
	struct aw_diag d;
	char dir[] = "/tmp/aw-sigtest-XXXXXX";
	char path[256];
	char *before, *after;

	(void)state;
	assert_int_equal(load(&db, valid_doc, &d), 0);
	before = db_dump(&db);

	/* valid signatures first, an error at the end */
	assert_int_equal(load(&db,
			      "version: 1\nsignatures:\n  - id: x.y\n"
			      "    vendor: V\n    product: P\n"
			      "    class: coding-agent\n    match:\n"
			      "      - exe: /x/y\n  - id: x.z\n    vendr: V\n",
			      &d),
			 -EINVAL);
	/* an id already in the db */
	assert_int_equal(load(&db,
			      "version: 1\nsignatures:\n  - id: acme.tool\n"
			      "    vendor: V\n    product: P\n"
			      "    class: coding-agent\n    match:\n"
			      "      - exe: /x/y\n",
			      &d),
			 -EINVAL);
	assert_non_null(strstr(d.message, "duplicate id 'acme.tool'"));
	/* an interpreter already in the db */
	assert_int_equal(
	    load(&db, "version: 1\ninterpreters: [\"**/node\"]\n", &d),
	    -EINVAL);
	assert_non_null(strstr(
	    d.message, "pattern '**/node' already used by interpreters"));
	/* a syntax error */
	assert_int_equal(load(&db, "version: 1\nsignatures: [\n", &d), -EINVAL);

	/* a directory with a good file and a bad one: all or nothing */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.yaml", dir);
	write_file(path, "version: 1\nsignatures:\n  - id: dir.one\n"
			 "    vendor: V\n    product: P\n"
			 "    class: coding-agent\n    match:\n"
			 "      - exe: /dir/one\n");
	snprintf(path, sizeof(path), "%s/b.yaml", dir);
	write_file(path, "version: 1\nsignatures:\n  - id: dir.one\n"
			 "    vendor: V\n    product: P\n"
			 "    class: coding-agent\n    match:\n"
			 "      - exe: /dir/two\n");
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_sigdb_load_dir(&db, dir, &d), -EINVAL);
	/* cross-file: reported in the second file, naming the first */
	assert_non_null(strstr(d.file, "/b.yaml"));
	assert_int_equal(d.line, 3);
	assert_int_equal(d.column, 5);
	assert_non_null(
	    strstr(d.message, "duplicate id 'dir.one' (first defined at"));
	assert_non_null(strstr(d.message, "/a.yaml:3"));

	after = db_dump(&db);
	assert_string_equal(before, after);
	free(after);

	/* fix b.yaml: now it loads, in sorted order, on top of db */
	write_file(path, "version: 1\nsignatures:\n  - id: dir.two\n"
			 "    vendor: V\n    product: P\n"
			 "    class: coding-agent\n    match:\n"
			 "      - exe: /dir/two\n");
	snprintf(path, sizeof(path), "%s/.hidden.yaml", dir);
	write_file(path, "garbage: [\n");
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	write_file(path, "garbage: [\n");
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_sigdb_load_dir(&db, dir, &d), 0);
	assert_int_equal(db.n_sigs, 4);
	assert_string_equal(db.sigs[2].id, "dir.one");
	assert_string_equal(db.sigs[3].id, "dir.two");
	/* loading it again clashes with itself */
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_sigdb_load_dir(&db, dir, &d), -EINVAL);
	assert_int_equal(db.n_sigs, 4);

	/* files: missing, a directory, too big */
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_sigdb_load_file(&db, "/nonexistent/x.yaml", &d),
			 -ENOENT);
	assert_non_null(strstr(d.message, "cannot open"));
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_sigdb_load_file(&db, dir, &d), -EINVAL);
	assert_non_null(strstr(d.message, "not a regular file"));
	snprintf(path, sizeof(path), "%s/big.yaml", dir);
	{
		int fd =
		    open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		assert_true(fd >= 0);
		assert_int_equal(ftruncate(fd, AW_SIG_FILE_MAX + 1), 0);
		close(fd);
	}
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_sigdb_load_file(&db, path, &d), -EFBIG);
	assert_int_equal(db.n_sigs, 4);
	snprintf(path, sizeof(path), "%s/a.yaml", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/b.yaml", dir);
	unlink(path);
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_sigdb_load_dir(&db, dir, &d), -EFBIG);
	assert_non_null(strstr(d.file, "/big.yaml"));
	assert_int_equal(db.n_sigs, 4);

	snprintf(path, sizeof(path), "%s/big.yaml", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/.hidden.yaml", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	unlink(path);
	/* an empty directory is refused: fail closed */
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_sigdb_load_dir(&db, dir, &d), -ENOENT);
	assert_non_null(strstr(d.message, "no signature files"));
	rmdir(dir);

	free(before);
	aw_sigdb_free(&db);
}

/* ---- compiled DFA ------------------------------------------------------ */

struct fixture {
	struct aw_sigdb db;
	struct aw_compiled c;
};

static int real_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct aw_diag d = {0};
	int r;

	if (!f)
		return -1;
	r = aw_sigdb_load_dir(&f->db, AW_SOURCE_DIR "/signatures", &d);
	if (r < 0) {
		print_error("load %s/signatures: %s:%u:%u: %s\n", AW_SOURCE_DIR,
			    d.file, d.line, d.column, d.message);
		free(f);
		return -1;
	}
	r = aw_sigdb_compile(&f->db, &f->c, &d);
	if (r < 0) {
		print_error("compile: %s\n", d.message);
		aw_sigdb_free(&f->db);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int real_teardown(void **state)
{
	struct fixture *f = *state;

	aw_compiled_free(&f->c);
	aw_sigdb_free(&f->db);
	free(f);
	return 0;
}

/* The signature id a path matches from start, or "" (or "interpreter"). */
static const char *match_id(const struct fixture *f, uint32_t start,
			    const char *path, uint16_t *ret_kind)
{
	uint32_t r = aw_compiled_match(&f->c, start, path);
	const struct aw_compiled_rule *rule;

	if (ret_kind)
		*ret_kind = AW_RULE_NONE;
	if (!r)
		return "";
	assert_true(r <= f->c.n_rules);
	rule = &f->c.rules[r - 1];
	if (ret_kind)
		*ret_kind = rule->kind;
	if (rule->sig_index == UINT32_MAX)
		return "interpreter";
	assert_true(rule->sig_index < f->db.n_sigs);
	return f->db.sigs[rule->sig_index].id;
}

#define EXPECT_EXE(f, path, id)                                                \
	assert_string_equal(match_id(f, (f)->c.exe_start, path, NULL), id)
#define EXPECT_SCRIPT(f, path, id)                                             \
	assert_string_equal(match_id(f, (f)->c.script_start, path, NULL), id)

static void test_real_dir(void **state)
{
	struct fixture *f = *state;
	const struct aw_signature *s;
	size_t i;

	assert_true(f->db.n_sigs >= 4);
	assert_true(f->db.n_interpreters >= 4);
	s = aw_sigdb_find(&f->db, "openai.codex-cli");
	assert_non_null(s);
	assert_string_equal(s->package, "@openai/codex");
	assert_non_null(strstr(s->file, "openai.yaml"));
	assert_non_null(aw_sigdb_find(&f->db, "anthropic.claude-code"));
	assert_non_null(aw_sigdb_find(&f->db, "google.gemini-cli"));
	s = aw_sigdb_find(&f->db, "modelcontextprotocol.server-filesystem");
	assert_non_null(s);
	assert_string_equal(s->class, "mcp-server");
	s = aw_sigdb_find(&f->db, "microsoft.playwright-mcp");
	assert_non_null(s);
	assert_string_equal(s->class, "computer-use");

	/* tables inside the ABI limits, state 0 unused */
	assert_true(f->c.n_states <= AW_DFA_BANK_STATES);
	assert_true(f->c.n_trans <= AW_DFA_TRANS_MAX / 2);
	assert_true(f->c.n_rules <= AW_RULES_BANK);
	assert_int_not_equal(f->c.exe_start, 0);
	assert_int_not_equal(f->c.script_start, 0);
	assert_int_not_equal(f->c.exe_start, f->c.script_start);
	assert_int_equal(f->c.accept[0], 0);
	assert_int_equal(f->c.root_accept[0], 0);
	for (i = 0; i < f->c.n_trans; i++) {
		assert_int_not_equal(f->c.trans[i].state, 0);
		assert_int_not_equal(f->c.trans[i].next, 0);
		assert_true(f->c.trans[i].next < f->c.n_states);
		if (i)
			assert_true(
			    f->c.trans[i - 1].state < f->c.trans[i].state ||
			    (f->c.trans[i - 1].state == f->c.trans[i].state &&
			     f->c.trans[i - 1].name_hash <
				 f->c.trans[i].name_hash));
	}
	for (i = 0; i < f->c.n_states; i++) {
		assert_true(f->c.accept[i] <= f->c.n_rules);
		assert_true(f->c.root_accept[i] <= f->c.n_rules);
	}
}

static void test_real_paths(void **state)
{
	struct fixture *f = *state;
	uint16_t kind;

	/* Codex: the native binary node execs, both architectures */
	assert_string_equal(
	    match_id(
		f, f->c.exe_start,
		"/var/cache/agentwall-tests/npm/node_modules/@openai/"
		"codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex",
		&kind),
	    "openai.codex-cli");
	assert_int_equal(kind, AW_RULE_EXE);
	EXPECT_EXE(f,
		   "/usr/local/lib/node_modules/@openai/codex-linux-arm64/"
		   "vendor/aarch64-unknown-linux-musl/bin/codex",
		   "openai.codex-cli");
	EXPECT_EXE(f,
		   "/home/u/.codex/packages/standalone/releases/"
		   "0.171.0-x86_64-unknown-linux-musl/bin/codex",
		   "openai.codex-cli");
	/* Codex: the script node is given */
	assert_string_equal(
	    match_id(f, f->c.script_start, "./node_modules/.bin/codex", &kind),
	    "openai.codex-cli");
	assert_int_equal(kind, AW_RULE_SCRIPT);
	EXPECT_SCRIPT(f, "node_modules/.bin/codex", "openai.codex-cli");
	EXPECT_SCRIPT(f, "/usr/local/bin/codex", "openai.codex-cli");
	EXPECT_SCRIPT(f,
		      "/usr/local/lib/node_modules/@openai/codex/bin/codex.js",
		      "openai.codex-cli");
	EXPECT_SCRIPT(f, "/home/u/.nvm/versions/node/v22.11.0/bin/codex",
		      "openai.codex-cli");
	/* Claude Code */
	EXPECT_EXE(f,
		   "/var/cache/agentwall-tests/npm/node_modules/"
		   "@anthropic-ai/claude-code/bin/claude.exe",
		   "anthropic.claude-code");
	EXPECT_EXE(f,
		   "/srv/app/node_modules/@anthropic-ai/"
		   "claude-code-linux-arm64-musl/claude",
		   "anthropic.claude-code");
	EXPECT_EXE(f, "/home/u/.local/share/claude/versions/2.1.197",
		   "anthropic.claude-code");
	EXPECT_SCRIPT(f,
		      "node_modules/@anthropic-ai/claude-code/cli-wrapper.cjs",
		      "anthropic.claude-code");
	/* Gemini CLI, as first run and as re-launched */
	EXPECT_SCRIPT(f, "./node_modules/.bin/gemini", "google.gemini-cli");
	EXPECT_SCRIPT(f,
		      "/var/cache/agentwall-tests/npm/node_modules/.bin/gemini",
		      "google.gemini-cli");
	EXPECT_SCRIPT(
	    f, "/usr/lib/node_modules/@google/gemini-cli/bundle/gemini.js",
	    "google.gemini-cli");
	/* MCP servers under npx and installed */
	EXPECT_SCRIPT(f,
		      "/root/.npm/_npx/0a1b2c3d4e5f6789/node_modules/.bin/"
		      "mcp-server-filesystem",
		      "modelcontextprotocol.server-filesystem");
	EXPECT_SCRIPT(f,
		      "/home/u/project/node_modules/@modelcontextprotocol/"
		      "server-memory/dist/index.js",
		      "modelcontextprotocol.server-memory");
	EXPECT_SCRIPT(f,
		      "/home/u/.cache/uv/archive-v0/Xy12/bin/mcp-server-fetch",
		      "modelcontextprotocol.server-fetch");
	/* The other agents from npm (t_agents_more runs them) */
	EXPECT_EXE(f, "/usr/lib/node_modules/opencode-ai/bin/opencode.exe",
		   "anomaly.opencode");
	EXPECT_EXE(f,
		   "/home/u/.npm/_npx/0a1b2c3d/node_modules/"
		   "opencode-linux-x64-baseline/bin/opencode",
		   "anomaly.opencode");
	EXPECT_SCRIPT(f, "/usr/local/bin/copilot", "github.copilot-cli");
	EXPECT_EXE(f,
		   "/usr/local/lib/node_modules/@github/copilot/node_modules/"
		   "@github/copilot-linux-x64/copilot",
		   "github.copilot-cli");
	EXPECT_SCRIPT(f, "./node_modules/.bin/qwen", "qwen.qwen-code");
	EXPECT_SCRIPT(f,
		      "/usr/lib/node_modules/@qwen-code/qwen-code/cli-entry.js",
		      "qwen.qwen-code");
	EXPECT_EXE(f,
		   "/usr/lib/node_modules/@sourcegraph/amp/node_modules/"
		   "@ampcode/cli/bin/amp.exe",
		   "sourcegraph.amp");
	EXPECT_SCRIPT(f, "node_modules/.bin/crush", "charm.crush");
	EXPECT_EXE(f, "/p/node_modules/@charmland/crush/bin/crush",
		   "charm.crush");
	EXPECT_EXE(f, "/p/node_modules/@kilocode/cli/bin/.kilo",
		   "kilocode.kilo-cli");
	EXPECT_SCRIPT(f, "/home/u/.nvm/versions/node/v22.1.0/bin/kilocode",
		      "kilocode.kilo-cli");
	EXPECT_SCRIPT(f, "./node_modules/.bin/auggie", "augment.auggie");
	EXPECT_EXE(f,
		   "/srv/app/node_modules/@anthropic-ai/"
		   "claude-agent-sdk-linux-x64/claude",
		   "anthropic.claude-agent-sdk");
	EXPECT_EXE(f,
		   "/home/u/.vscode-server/extensions/"
		   "openai.chatgpt-26.1.0-linux-x64/bin/linux-x86_64/codex",
		   "openai.codex-ide");
	EXPECT_EXE(f,
		   "/home/u/.cursor/extensions/"
		   "openai.chatgpt-26.1.0-linux-arm64/bin/linux-aarch64/codex",
		   "openai.codex-ide");
	EXPECT_SCRIPT(f,
		      "/root/.npm/_npx/9f8e7d6c/node_modules/.bin/"
		      "playwright-mcp",
		      "microsoft.playwright-mcp");
	EXPECT_SCRIPT(f, "node_modules/.bin/mcp-server-puppeteer",
		      "modelcontextprotocol.server-puppeteer");
	/* interpreters */
	assert_string_equal(match_id(f, f->c.exe_start, "/usr/bin/node", &kind),
			    "interpreter");
	assert_int_equal(kind, AW_RULE_INTERPRETER);
	EXPECT_EXE(f, "/root/.pyenv/versions/3.12.4/bin/python3.12",
		   "interpreter");
	EXPECT_EXE(f, "/home/u/.bun/bin/bun", "interpreter");
}

static void test_real_negative(void **state)
{
	struct fixture *f = *state;

	/* a copy or look-alike outside the known layouts */
	EXPECT_EXE(f, "/tmp/codex", "");
	EXPECT_SCRIPT(f, "/tmp/codex", "");
	EXPECT_SCRIPT(f, "/tmp/codex.js", "");
	EXPECT_SCRIPT(f, "/home/u/node_modules/@openai/codex-evil/bin/codex.js",
		      "");
	EXPECT_SCRIPT(f, "/home/u/node_modules/@openai/codex/bin/codex.js.bak",
		      "");
	EXPECT_EXE(f, "/usr/local/bin/codex-evil", "");
	EXPECT_EXE(f, "/usr/bin/nodex", "");
	EXPECT_EXE(f,
		   "/home/u/node_modules/@openai/codex-linux-x64/vendor/"
		   "x86_64-unknown-linux-musl/bin/codex-evil",
		   "");
	/* look-alikes of the other agents */
	EXPECT_EXE(f, "/usr/local/bin/opencode", "");
	EXPECT_EXE(f, "/usr/bin/amp", "");
	EXPECT_EXE(f, "/usr/local/bin/copilot", "");
	EXPECT_EXE(f, "/p/node_modules/opencode-helper/bin/opencode.exe", "");
	EXPECT_SCRIPT(
	    f, "/p/node_modules/@augmentcode/auggie-tools/augment.mjs", "");
	EXPECT_EXE(f, "/home/u/.vscode/extensions/x/bin/linux-x86_64/codex2",
		   "");
	EXPECT_EXE(f, "/p/node_modules/@kilocode/cli/bin/kilo", "");
	/* prefixes of patterns */
	EXPECT_EXE(f, "/usr/local/bin", "");
	EXPECT_EXE(f, "/usr/local", "");
	EXPECT_EXE(f, "/node_modules/@openai/codex-linux-x64/vendor/x/bin", "");
	EXPECT_SCRIPT(f, "/x/node_modules/@openai/codex/bin", "");
	EXPECT_EXE(f, "/", "");
	EXPECT_EXE(f, "", "");
	/* anchored patterns do not match longer paths */
	EXPECT_EXE(f, "/opt/usr/local/bin/codex", "");
	EXPECT_EXE(f, "/usr/local/bin/codex/extra", "");
	EXPECT_EXE(f, "usr/local/bin/codex", "");
	/* the two starts are separate */
	EXPECT_EXE(f, "/x/node_modules/@openai/codex/bin/codex.js", "");
	EXPECT_SCRIPT(f, "/usr/bin/node", "");
	EXPECT_SCRIPT(f, "/home/u/.local/share/claude/versions/2.1.197", "");
	/* start 0 is dead */
	assert_int_equal(aw_compiled_match(&f->c, 0, "/usr/bin/node"), 0);
}

/* Compile a document; fails the test on error. */
static void compile_doc(struct fixture *f, const char *text)
{
	struct aw_diag d;

	memset(f, 0, sizeof(*f));
	if (load(&f->db, text, &d) < 0)
		fail_msg("load: %u:%u: %s", d.line, d.column, d.message);
	memset(&d, 0, sizeof(d));
	if (aw_sigdb_compile(&f->db, &f->c, &d) < 0)
		fail_msg("compile: %s", d.message);
}

static void fixture_free(struct fixture *f)
{
	aw_compiled_free(&f->c);
	aw_sigdb_free(&f->db);
}

#define SIG1(id, kind, pat)                                                    \
	"  - id: " id "\n    vendor: V\n    product: P\n"                      \
	"    class: coding-agent\n    match:\n      - " kind ": \"" pat "\"\n"

static void test_wildcard(void **state)
{
	struct fixture f;

	(void)state;
	compile_doc(&f, "version: 1\nsignatures:\n" SIG1("t.anchored", "exe",
							 "/opt/*/bin/tool")
			    SIG1("t.suffix", "exe", "**/x/*/y")
				SIG1("t.leaf", "exe", "**/lib/*"));
	EXPECT_EXE(&f, "/opt/a/bin/tool", "t.anchored");
	EXPECT_EXE(&f, "/opt/tool/bin/tool", "t.anchored");
	EXPECT_EXE(&f, "/opt/a/b/bin/tool", "");
	EXPECT_EXE(&f, "/opt/bin/tool", "");
	EXPECT_EXE(&f, "/x/opt/a/bin/tool", "");
	EXPECT_EXE(&f, "/q/x/z/y", "t.suffix");
	EXPECT_EXE(&f, "x/x/y", "t.suffix");
	EXPECT_EXE(&f, "/x/y", "");
	EXPECT_EXE(&f, "/x/a/b/y", "");
	EXPECT_EXE(&f, "/usr/lib/anything", "t.leaf");
	EXPECT_EXE(&f, "/usr/lib", "");
	/* '*' matches names the database also uses literally */
	EXPECT_EXE(&f, "/opt/opt/bin/tool", "t.anchored");
	EXPECT_EXE(&f, "/opt/bin/bin/tool", "t.anchored");
	EXPECT_EXE(&f, "/x/x/y", "t.suffix");
	/* empty components in a path are not names */
	EXPECT_EXE(&f, "//opt//a/bin/tool/", "t.anchored");
	fixture_free(&f);
}

static void test_priority(void **state)
{
	struct fixture f;

	(void)state;
	/* deeper accept wins */
	compile_doc(&f,
		    "version: 1\nsignatures:\n" SIG1("t.short", "exe", "**/b")
			SIG1("t.long", "exe", "**/a/b"));
	EXPECT_EXE(&f, "/x/a/b", "t.long");
	EXPECT_EXE(&f, "/x/c/b", "t.short");
	EXPECT_EXE(&f, "a/b", "t.long");
	fixture_free(&f);

	/* reaching the root beats a suffix, only for absolute paths */
	compile_doc(
	    &f, "version: 1\nsignatures:\n" SIG1("t.suffix", "exe", "**/a/b")
		    SIG1("t.root", "exe", "/a/b"));
	EXPECT_EXE(&f, "/a/b", "t.root");
	EXPECT_EXE(&f, "/z/a/b", "t.suffix");
	EXPECT_EXE(&f, "a/b", "t.suffix");
	fixture_free(&f);
	compile_doc(&f,
		    "version: 1\nsignatures:\n" SIG1("t.root", "exe", "/a/b"));
	EXPECT_EXE(&f, "a/b", "");
	EXPECT_EXE(&f, "/a/b", "t.root");
	fixture_free(&f);

	/* same state, same depth: first in the database wins */
	compile_doc(&f,
		    "version: 1\nsignatures:\n" SIG1("t.lit", "exe", "**/x/a")
			SIG1("t.star", "exe", "**/*/a"));
	EXPECT_EXE(&f, "/q/x/a", "t.lit");
	EXPECT_EXE(&f, "/q/y/a", "t.star");
	fixture_free(&f);
	compile_doc(&f,
		    "version: 1\nsignatures:\n" SIG1("t.star", "exe", "**/*/a")
			SIG1("t.lit", "exe", "**/x/a"));
	EXPECT_EXE(&f, "/q/x/a", "t.star");
	fixture_free(&f);

	/* the walk gives up after AW_WALK_DEPTH components */
	compile_doc(&f, "version: 1\nsignatures:\n" SIG1(
			    "t.deep", "exe",
			    "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/"
			    "17/18/19/20/21/22/23/24/25/26/27/28/29/30/31/32")
			    SIG1("t.leaf", "exe", "**/32"));
	EXPECT_EXE(&f,
		   "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/19/20/"
		   "21/22/23/24/25/26/27/28/29/30/31/32",
		   "t.deep");
	EXPECT_EXE(&f,
		   "/0/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/19/"
		   "20/21/22/23/24/25/26/27/28/29/30/31/32",
		   "t.leaf");
	fixture_free(&f);
}

static void test_compile_shape(void **state)
{
	struct fixture f, g;
	size_t i;

	(void)state;
	/* empty database: valid, matches nothing */
	compile_doc(&f, "version: 1\n");
	assert_int_not_equal(f.c.exe_start, 0);
	assert_int_equal(f.c.n_trans, 0);
	assert_int_equal(f.c.n_rules, 0);
	EXPECT_EXE(&f, "/usr/bin/node", "");
	fixture_free(&f);

	/* deterministic: same input, same tables */
	compile_doc(&f, valid_doc);
	compile_doc(&g, valid_doc);
	assert_int_equal(f.c.n_states, g.c.n_states);
	assert_int_equal(f.c.n_trans, g.c.n_trans);
	for (i = 0; i < f.c.n_trans; i++) {
		assert_int_equal(f.c.trans[i].state, g.c.trans[i].state);
		assert_int_equal(f.c.trans[i].name_hash,
				 g.c.trans[i].name_hash);
		assert_int_equal(f.c.trans[i].next, g.c.trans[i].next);
	}
	assert_memory_equal(f.c.accept, g.c.accept,
			    f.c.n_states * sizeof(*f.c.accept));
	assert_memory_equal(f.c.root_accept, g.c.root_accept,
			    f.c.n_states * sizeof(*f.c.root_accept));
	/* rules: signatures' matches in order, then interpreters */
	assert_int_equal(f.c.n_rules, 4);
	assert_int_equal(f.c.rules[0].sig_index, 0);
	assert_int_equal(f.c.rules[0].kind, AW_RULE_EXE);
	assert_int_equal(f.c.rules[1].kind, AW_RULE_SCRIPT);
	assert_int_equal(f.c.rules[2].sig_index, 1);
	assert_int_equal(f.c.rules[3].sig_index, UINT32_MAX);
	assert_int_equal(f.c.rules[3].kind, AW_RULE_INTERPRETER);
	assert_string_equal(f.c.rules[3].pattern, "**/node");
	for (i = 0; i < f.c.n_trans; i++)
		assert_true(f.c.trans[i].name_hash != AW_DFA_OTHER ||
			    f.c.trans[i].next != 0);
	fixture_free(&f);
	fixture_free(&g);
}

/* Hand-built databases past the ABI limits. */
static void test_compile_limits(void **state)
{
	struct aw_sigdb db = {0};
	struct aw_compiled c;
	struct aw_diag d = {0};
	struct aw_signature *sigs;
	size_t i, j, n_sigs = 40;
	char buf[512];

	(void)state;
	/* rules: 40 * 64 > 2048 */
	sigs = calloc(n_sigs, sizeof(*sigs));
	assert_non_null(sigs);
	for (i = 0; i < n_sigs; i++) {
		sigs[i].matches = calloc(64, sizeof(*sigs[i].matches));
		assert_non_null(sigs[i].matches);
		sigs[i].n_matches = 64;
		for (j = 0; j < 64; j++) {
			/* 30 unique components per pattern: ~77k states */
			size_t off = 0, k;

			for (k = 0; k < 30; k++)
				off += snprintf(buf + off, sizeof(buf) - off,
						"/c%zu_%zu_%zu", i, j, k);
			sigs[i].matches[j].kind = AW_MATCH_EXE;
			sigs[i].matches[j].pattern = strdup(buf);
			assert_non_null(sigs[i].matches[j].pattern);
		}
	}
	db.sigs = sigs;
	db.n_sigs = n_sigs;
	assert_int_equal(aw_sigdb_compile(&db, &c, &d), -E2BIG);
	assert_non_null(strstr(d.message, "rules"));

	/* states: 2048 rules of 30 unique components */
	db.n_sigs = 32;
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_sigdb_compile(&db, &c, &d), -E2BIG);
	assert_non_null(strstr(d.message, "states"));

	/* a bad pattern in a hand-built db is caught too */
	db.n_sigs = 1;
	free(sigs[0].matches[0].pattern);
	sigs[0].matches[0].pattern = strdup("relative/path");
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_sigdb_compile(&db, &c, &d), -EINVAL);
	assert_non_null(strstr(d.message, "bad pattern"));

	db.n_sigs = n_sigs;
	aw_sigdb_free(&db);
}

/* ---- fuzz-ish ---------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static void fuzz_one(const char *data, size_t len)
{
	struct aw_sigdb db = {0};
	struct aw_compiled c;
	struct aw_diag d = {0};
	int r;

	r = aw_sigdb_load_buffer(&db, "fuzz.yaml", data, len, &d);
	if (r < 0) {
		/* every failure says why */
		assert_true(d.message[0] != '\0');
		assert_int_equal(db.n_sigs, 0);
	} else if (aw_sigdb_compile(&db, &c, &d) >= 0) {
		aw_compiled_match(&c, c.exe_start, "/usr/bin/node");
		aw_compiled_match(&c, c.script_start, "a/b/c");
		aw_compiled_free(&c);
	}
	aw_sigdb_free(&db);
}

static void fuzz_str(const char *s)
{
	fuzz_one(s, strlen(s));
}

static void test_fuzz(void **state)
{
	static const char alphabet[] =
	    "version: 1\nsignatures:- id,[]{}\"'&*!|>#"
	    "%@`\\\t exe script match /**ab.\x00\xc3\xa9\xff";
	size_t base_len = strlen(valid_doc);
	char buf[2048];
	int i;

	(void)state;
	for (i = 0; i < 3000; i++) {
		size_t len, j;

		if (i % 3 == 0) {
			/* random bytes from a YAML-ish alphabet */
			len = rng() % 200;
			for (j = 0; j < len; j++)
				buf[j] =
				    alphabet[rng() % (sizeof(alphabet) - 1)];
		} else {
			/* a valid document with a few bytes changed, cut
			 * short or with an insertion */
			memcpy(buf, valid_doc, base_len);
			len = base_len;
			for (j = rng() % 4 + 1; j > 0; j--) {
				size_t at = rng() % len;

				switch (rng() % 3) {
				case 0:
					buf[at] = (char)rng();
					break;
				case 1:
					buf[at] =
					    alphabet[rng() %
						     (sizeof(alphabet) - 1)];
					break;
				default:
					if (len + 8 < sizeof(buf)) {
						memmove(buf + at + 8, buf + at,
							len - at);
						memcpy(buf + at, "*a &a [ ", 8);
						len += 8;
					}
				}
			}
			if (rng() % 4 == 0)
				len = rng() % len;
		}
		fuzz_one(buf, len);
	}
	/* deep nesting and anchors pointing at themselves */
	memset(buf, '[', sizeof(buf));
	fuzz_one(buf, sizeof(buf));
	fuzz_str("version: 1\nsignatures: &a [*a]\n");
	fuzz_str("version: 1\nsignatures:\n  - &m [{exe: /a}, *m]\n");
	fuzz_str(
	    "version: 1\nsignatures:\n  - &s {id: a.b, vendor: V, product: P,"
	    " class: mcp-server, match: [{exe: /a}]}\n  - *s\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_valid),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_content),
	    cmocka_unit_test(test_pattern_limits),
	    cmocka_unit_test(test_count_limits),
	    cmocka_unit_test(test_unchanged_after_failure),
	    cmocka_unit_test_setup_teardown(test_real_dir, real_setup,
					    real_teardown),
	    cmocka_unit_test_setup_teardown(test_real_paths, real_setup,
					    real_teardown),
	    cmocka_unit_test_setup_teardown(test_real_negative, real_setup,
					    real_teardown),
	    cmocka_unit_test(test_wildcard),
	    cmocka_unit_test(test_priority),
	    cmocka_unit_test(test_compile_shape),
	    cmocka_unit_test(test_compile_limits),
	    cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
