// SPDX-License-Identifier: GPL-2.0-only
/*
 * The JSON and TOML readers (agents' configuration files): what they
 * accept, the tree they build, and what they refuse with which place.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/diag.h"
#include "shared/json_read.h"
#include "shared/jsonr.h"
#include "shared/toml.h"

static struct aw_jv *json_ok(const char *s, unsigned flags)
{
	struct aw_diag d = {};
	struct aw_jv *v = NULL;
	int r = aw_jsonr_parse(s, strlen(s), flags, "t.json", &v, &d);

	if (r)
		fprintf(stderr, "unexpected: %s:%u:%u: %s\n", d.file, d.line,
			d.column, d.message);
	assert_int_equal(r, 0);
	assert_non_null(v);
	return v;
}

/* Must fail at line:column with a message containing want. */
static void json_bad(const char *s, size_t len, unsigned flags, unsigned line,
		     unsigned col, const char *want)
{
	struct aw_diag d = {};
	struct aw_jv *v = NULL;
	int r = aw_jsonr_parse(s, len, flags, "t.json", &v, &d);

	assert_int_equal(r, -EINVAL);
	assert_null(v);
	if (!strstr(d.message, want) || d.line != line || d.column != col)
		fail_msg("got %u:%u: %s, want %u:%u: %s", d.line, d.column,
			 d.message, line, col, want);
}

static void test_json_values(void **state)
{
	struct aw_jv *v = json_ok("{\"a\": [1, -2.5e3, true, false, null, "
				  "\"x\\u00e9\\ud83d\\ude00\\n\"],"
				  " \"b\": {\"c\": \"d\"}, \"a\": \"last\"}",
				  0);
	const struct aw_jv *a;

	assert_int_equal(v->kind, AW_JV_OBJ);
	assert_int_equal(v->n, 3);
	/* duplicate keys: the last one, as JavaScript's JSON.parse */
	assert_string_equal(aw_jv_get_str(v, "a"), "last");
	a = v->items[0];
	assert_int_equal(a->kind, AW_JV_ARR);
	assert_int_equal(a->n, 6);
	assert_string_equal(a->items[1]->s, "-2.5e3");
	assert_int_equal(a->items[2]->b, 1);
	assert_int_equal(a->items[4]->kind, AW_JV_NULL);
	assert_string_equal(a->items[5]->s, "x\xc3\xa9\xf0\x9f\x98\x80\n");
	assert_string_equal(aw_jv_get_str(aw_jv_get(v, "b"), "c"), "d");
	assert_null(aw_jv_get(v, "zz"));
	assert_null(aw_jv_get(a, "a"));
	assert_int_equal(aw_jv_get(v, "b")->line, 1);
	aw_jv_free(v);
}

static void test_json_refused(void **state)
{
	char deep[300];

	json_bad("{\"a\": 1,}", 9, 0, 1, 9, "expected a string key");
	json_bad("[1,]", 4, 0, 1, 4, "expected a value");
	json_bad("{\"a\" 1}", 7, 0, 1, 6, "expected ':'");
	json_bad("{\n  \"a\": tru}", 13, 0, 2, 8, "expected a value");
	json_bad("\"abc", 4, 0, 1, 1, "unterminated string");
	json_bad("\"a\\u0000b\"", 10, 0, 1, 3, "\\u0000");
	json_bad("\"a\\ud800\"", 9, 0, 1, 3, "surrogate");
	json_bad("\"\xc0\xaf\"", 4, 0, 1, 2, "invalid UTF-8");
	json_bad("\"a\tb\"", 5, 0, 1, 3, "control character");
	json_bad("01", 2, 0, 1, 2, "data after");
	json_bad("1 2", 3, 0, 1, 3, "data after");
	json_bad("", 0, 0, 1, 1, "unexpected end");
	json_bad("// c\n{}", 7, 0, 1, 1, "expected a value");
	json_bad("[1, 2", 5, 0, 1, 6, "expected ',' or ']'");
	json_bad("{\"a\":1} \0", 9, 0, 1, 9, "data after");
	/* The one grammar's limit (json_read.h): 32 nested containers. */
	memset(deep, '[', sizeof(deep));
	json_bad(deep, sizeof(deep), 0, 1, 33, "nested too deeply");
	json_bad("\"\\u12", 5, 0, 1, 1, "unterminated string");
	json_bad("\"\\x\"", 4, 0, 1, 2, "bad escape");
	json_bad("\"\\udc00\"", 8, 0, 1, 2, "lone low surrogate");
	json_bad("-", 1, 0, 1, 1, "expected a value");
	json_bad("1.", 2, 0, 1, 3, "expected a digit");
	json_bad("1e+", 3, 0, 1, 4, "expected a digit");
	json_bad("\xef\xbb\xbf", 3, 0, 1, 2, "unexpected end");
}

/* One grammar: what the tree reader accepts, the in-place tokenizer
 * accepts too, and the other way round (the BOM aside). */
static void test_json_one_grammar(void **state)
{
	static const char *const docs[] = {
	    "{}",
	    "[]",
	    "0",
	    "-0.5e+7",
	    "\"\\ud83d\\ude00\"",
	    "[1,]",
	    "01",
	    "\"\\u0000\"",
	    "{\"a\":1,\"a\":2}",
	    "// c\n1",
	    "\"\xed\xa0\x80\"",
	    "\"\x7f\"",
	    "[[[]]]",
	    " true ",
	    "nul",
	    "1 /* c */",
	};
	struct aw_jdoc doc = {};

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct aw_diag d = {};
		struct aw_jv *v = NULL;
		int tree = aw_jsonr_parse(docs[i], strlen(docs[i]), 0, "t", &v,
					  &d) == 0;
		int flat = aw_jread(&doc, docs[i], strlen(docs[i])) == 0;

		if (tree != flat)
			fail_msg("%s: tree %d, in place %d", docs[i], tree,
				 flat);
		aw_jv_free(v);
	}
	/* A repeated key: the last, in both. */
	assert_int_equal(aw_jread(&doc, "{\"a\":1,\"a\":2}", 13), 0);
	assert_int_equal(aw_jget(&doc, 0, "a"), 4);
	aw_jdoc_free(&doc);
}

static void test_jsonc(void **state)
{
	struct aw_jv *v = json_ok("// comment\n{ /* block */ \"servers\": "
				  "{\"a\": [1, 2,],}, // trailing\n}",
				  AW_JSONR_JSONC);

	assert_int_equal(aw_jv_get(aw_jv_get(v, "servers"), "a")->n, 2);
	aw_jv_free(v);
	json_bad("/* open", 7, AW_JSONR_JSONC, 1, 1, "unterminated comment");
	json_bad("[1] /* open *", 13, AW_JSONR_JSONC, 1, 5,
		 "unterminated comment");
	json_bad("[,]", 3, AW_JSONR_JSONC, 1, 2, "expected a value");
	json_bad("[1,,]", 5, AW_JSONR_JSONC, 1, 4, "expected a value");
	v = json_ok("\xef\xbb\xbf[1] /**/", AW_JSONR_JSONC);
	assert_int_equal(v->n, 1);
	assert_int_equal(v->items[0]->column, 3);
	aw_jv_free(v);
}

static struct aw_jv *toml_ok(const char *s)
{
	struct aw_diag d = {};
	struct aw_jv *v = NULL;
	int r = aw_toml_parse(s, strlen(s), "t.toml", &v, &d);

	if (r)
		fprintf(stderr, "unexpected: %s:%u:%u: %s\n", d.file, d.line,
			d.column, d.message);
	assert_int_equal(r, 0);
	return v;
}

static void toml_bad(const char *s, unsigned line, unsigned col,
		     const char *want)
{
	struct aw_diag d = {};
	struct aw_jv *v = NULL;
	int r = aw_toml_parse(s, strlen(s), "t.toml", &v, &d);

	assert_int_equal(r, -EINVAL);
	assert_null(v);
	if (!strstr(d.message, want) || d.line != line || d.column != col)
		fail_msg("got %u:%u: %s, want %u:%u: %s", d.line, d.column,
			 d.message, line, col, want);
}

static void test_toml_codex(void **state)
{
	struct aw_jv *v = toml_ok(
	    "# Codex\n"
	    "model = \"gpt-5\"\n"
	    "approval_policy = 'on-request'\n"
	    "\n"
	    "[mcp_servers.docs]\n"
	    "command = \"npx\"\n"
	    "args = [\"-y\", \"@modelcontextprotocol/server-filesystem\",\n"
	    "        \"/srv/docs\", # a comment in an array\n"
	    "]\n"
	    "env = { API_KEY = \"secret\", \"X-Y\" = 'z' }\n"
	    "startup_timeout_sec = 20\n"
	    "enabled = true\n"
	    "\n"
	    "[mcp_servers.\"quoted name\"]\n"
	    "url = \"https://mcp.example/sse\"\n"
	    "[projects.\"/home/u/proj\"]\n"
	    "trust_level = \"trusted\"\n"
	    "[a]\n"
	    "b.c = 1_000\n"
	    "b.d = 0x1F\n"
	    "when = 1979-05-27 07:32:00Z\n"
	    "f = -3.5e-2\n"
	    "ml = \"\"\"\n"
	    "line one\\\n"
	    "    line two\"\"\"\n"
	    "lit = '''\n"
	    "C:\\x\\'''\n"
	    "[[hooks]]\n"
	    "name = \"one\"\n"
	    "[[hooks]]\n"
	    "name = \"two\"\n"
	    "[hooks.sub]\n"
	    "k = \"v\"\n");
	const struct aw_jv *servers = aw_jv_get(v, "mcp_servers");
	const struct aw_jv *docs = aw_jv_get(servers, "docs");
	const struct aw_jv *a = aw_jv_get(v, "a"), *hooks;

	assert_string_equal(aw_jv_get_str(v, "model"), "gpt-5");
	assert_string_equal(aw_jv_get_str(v, "approval_policy"), "on-request");
	assert_int_equal(servers->n, 2);
	assert_string_equal(aw_jv_get_str(docs, "command"), "npx");
	assert_int_equal(aw_jv_get(docs, "args")->n, 3);
	assert_string_equal(aw_jv_get(docs, "args")->items[2]->s, "/srv/docs");
	assert_string_equal(aw_jv_get(docs, "env")->keys[1], "X-Y");
	assert_int_equal(aw_jv_get(docs, "enabled")->b, 1);
	assert_int_equal(docs->line, 5);
	assert_string_equal(
	    aw_jv_get_str(aw_jv_get(servers, "quoted name"), "url"),
	    "https://mcp.example/sse");
	assert_non_null(aw_jv_get(aw_jv_get(v, "projects"), "/home/u/proj"));
	assert_string_equal(aw_jv_get(aw_jv_get(a, "b"), "c")->s, "1_000");
	assert_string_equal(aw_jv_get(a, "when")->s, "1979-05-27 07:32:00Z");
	assert_string_equal(aw_jv_get_str(a, "ml"), "line oneline two");
	assert_string_equal(aw_jv_get_str(a, "lit"), "C:\\x\\");
	hooks = aw_jv_get(v, "hooks");
	assert_int_equal(hooks->kind, AW_JV_ARR);
	assert_int_equal(hooks->n, 2);
	assert_string_equal(aw_jv_get_str(hooks->items[1], "name"), "two");
	assert_string_equal(
	    aw_jv_get_str(aw_jv_get(hooks->items[1], "sub"), "k"), "v");
	aw_jv_free(v);
}

static void test_toml_refused(void **state)
{
	char deep[300];

	toml_bad("a = 1\na = 2\n", 2, 1, "duplicate key \"a\"");
	toml_bad("[t]\n[t]\n", 2, 2, "defined twice");
	toml_bad("t = {x = 1}\n[t]\n", 2, 2, "defined twice");
	toml_bad("t = {x = 1}\n[t.y]\n", 2, 2, "not a table");
	toml_bad("[t]\nx.y = 1\n[t.x]\n", 3, 4, "defined twice");
	toml_bad("[t.x]\n[t]\nx.y = 1\n", 3, 1, "cannot be extended");
	toml_bad("a = [1]\n[[a]]\n", 2, 3, "array of tables");
	toml_bad("a = \"x\n", 1, 7, "newline in a string");
	toml_bad("a = \"\\q\"\n", 1, 6, "bad escape");
	toml_bad("a = \"\\u0000\"\n", 1, 6, "NUL");
	toml_bad("a = 'x", 1, 5, "unterminated");
	toml_bad("a = 01\n", 1, 5, "expected a value");
	toml_bad("a = 1__0\n", 1, 5, "expected a value");
	toml_bad("a = tru\n", 1, 5, "expected a value");
	toml_bad("a = 1 b = 2\n", 1, 7, "end of the line");
	toml_bad("a = {x = 1,}\n", 1, 12, "expected a key");
	toml_bad("[a\n", 1, 3, "expected ']'");
	toml_bad("= 1\n", 1, 1, "expected a key");
	toml_bad("a = \"\xff\"\n", 1, 6, "invalid UTF-8");
	toml_bad("# \x01\n", 1, 3, "control character");
	memcpy(deep, "a = ", 4);
	memset(deep + 4, '[', sizeof(deep) - 5);
	deep[sizeof(deep) - 1] = 0;
	toml_bad(deep, 1, 69, "nested too deeply");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_values),
	    cmocka_unit_test(test_json_refused),
	    cmocka_unit_test(test_jsonc),
	    cmocka_unit_test(test_json_one_grammar),
	    cmocka_unit_test(test_toml_codex),
	    cmocka_unit_test(test_toml_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
