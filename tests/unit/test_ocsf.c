// SPDX-License-Identifier: GPL-2.0-only
/*
 * The strict JSON reader (what it refuses as much as what it reads) and
 * the OCSF mapping: every sample event of tests/ocsf/samples.jsonl gets
 * the class it names, and hostile strings stay valid JSON. (The schema
 * validation of the same renderings is in tests/integration/t_export.sh.)
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

#include "shared/json_read.h"
#include "shared/ocsf.h"

static int parse(const char *s)
{
	struct aw_jdoc d = {};
	int r = aw_jread(&d, s, strlen(s));

	aw_jdoc_free(&d);
	return r;
}

static void test_reader_accepts(void **state)
{
	static const char *const ok[] = {
	    "{}",
	    "[]",
	    " {\"a\" : [1, -2, 3.5e-3, 0, true, false, null, \"x\"]} ",
	    "\"\\u00e9\\ud83d\\ude00\\n\\\"\\\\\\/\"",
	    "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
	    "-0.0E+1",
	    "{\"a\":{\"b\":{\"c\":[[[]]]}}}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_int_equal(parse(ok[i]), 0);
}

static void test_reader_refuses(void **state)
{
	static const char *const bad[] = {
	    "",
	    "{",
	    "{\"a\"}",
	    "{\"a\":1,}",
	    "[1,]",
	    "[1 2]",
	    "{a:1}",
	    "01",
	    "1.",
	    ".5",
	    "-",
	    "1e",
	    "+1",
	    "tru",
	    "nul",
	    "\"unterminated",
	    "\"raw\ncontrol\"",
	    "\"bad \\x escape\"",
	    "\"\\u12\"",
	    "\"\\ud800 lone high\"",
	    "\"\\udc00 lone low\"",
	    "\"\xff\"",		    /* not UTF-8 */
	    "\"\xc0\xaf\"",	    /* overlong */
	    "\"\xed\xa0\x80\"",	    /* surrogate */
	    "\"\xf4\x90\x80\x80\"", /* above U+10FFFF */
	    "{} {}",
	    "[] x",
	    "{\"a\":1}\n{\"b\":2}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse(bad[i]);

		if (r != -EINVAL)
			fail_msg("accepted or wrong error %d: %s", r, bad[i]);
	}
}

static void test_reader_depth(void **state)
{
	char deep[200];
	int n = AW_JREAD_DEPTH + 1;

	(void)state;
	for (int i = 0; i < n; i++) {
		deep[i] = '[';
		deep[2 * n - 1 - i] = ']';
	}
	deep[2 * n] = 0;
	assert_int_equal(parse(deep), -EINVAL);
	deep[0] = ' ';
	deep[2 * n - 1] = ' ';
	assert_int_equal(parse(deep), 0);
}

static void test_reader_lookup(void **state)
{
	const char *s = "{\"a\":[1,{\"x\":2},3],\"b\":\"q\\\"\",\"c\":-42}";
	struct aw_jdoc d = {};
	int64_t v;
	int a;

	(void)state;
	assert_int_equal(aw_jread(&d, s, strlen(s)), 0);
	a = aw_jget(&d, 0, "a");
	assert_int_equal(d.tok[a].size, 3);
	assert_int_equal(aw_jint(&d, aw_jat(&d, a, 2), &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(aw_jint(&d, aw_jget(&d, aw_jat(&d, a, 1), "x"), &v),
			 0);
	assert_int_equal(v, 2);
	assert_true(aw_jstr_is(&d, aw_jget(&d, 0, "b"), "q\\\""));
	assert_int_equal(aw_jint(&d, aw_jget(&d, 0, "c"), &v), 0);
	assert_int_equal(v, -42);
	assert_int_equal(aw_jget(&d, 0, "zz"), -1);
	assert_int_equal(aw_jat(&d, a, 3), -1);
	aw_jdoc_free(&d);
}

/* Each sample: {"class_uid":N,"event":{...}}. */
static void test_samples(void **state)
{
	FILE *f = fopen(AW_SOURCE_DIR "/tests/ocsf/samples.jsonl", "r");
	struct aw_jdoc doc = {}, check = {};
	struct aw_buf out = {};
	char line[16384];
	int n = 0;

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		char *ev = strstr(line, "\"event\":");
		long want = strtol(line + strlen("{\"class_uid\":"), NULL, 10);
		int r;

		assert_non_null(ev);
		if (line[len - 1] == '\n')
			line[--len] = 0;
		ev += 8;
		aw_buf_reset(&out);
		r = aw_ocsf_render(&doc, ev, line + len - 1 - ev, &out);
		if (r != want)
			fail_msg("sample %d: class %d, expected %ld", n + 1, r,
				 want);
		/* What we write, we read back strictly. */
		assert_int_equal(aw_jread(&check, out.data, out.len), 0);
		assert_non_null(strstr(
		    out.data,
		    "\"metadata\":{\"version\":\"" AW_OCSF_VERSION "\""));
		assert_non_null(
		    strstr(out.data, "\"product\":{\"name\":\"agentwall\""));
		n++;
	}
	fclose(f);
	assert_true(n >= 30);
	aw_jdoc_free(&doc);
	aw_jdoc_free(&check);
	aw_buf_free(&out);
}

static void test_render_fields(void **state)
{
	const char *exit_ev =
	    "{\"schema\":\"agentwall.event/1\",\"time\":\"1970-01-02T00:00:"
	    "01.250000Z\",\"host\":\"h\",\"session\":\"00000000000000ab\","
	    "\"agent\":null,\"session_agent\":null,\"process\":{\"pid\":7,"
	    "\"ppid\":1,\"uid\":0,\"exe\":null,\"argv\":[],\"cwd\":null,"
	    "\"comm\":\"x\",\"start_time\":5},\"lineage\":[],\"action\":"
	    "\"exit\",\"target\":null,\"decision\":\"allow\",\"rule\":"
	    "\"observe\",\"mode\":\"audit\",\"exit_code\":137}";
	struct aw_jdoc doc = {};
	struct aw_buf out = {};

	(void)state;
	assert_int_equal(aw_ocsf_render(&doc, exit_ev, strlen(exit_ev), &out),
			 1007);
	/* One day and 1.25 s after the epoch, in ms. */
	assert_non_null(strstr(out.data, "\"time\":86401250,"));
	assert_non_null(strstr(out.data, "\"type_uid\":100702,"));
	/* Killed by signal 9: 128 + 9, as a shell says it. */
	assert_non_null(strstr(out.data, "\"exit_code\":137"));
	assert_non_null(
	    strstr(out.data, "\"session\":{\"uid\":\"00000000000000ab\"}"));
	assert_non_null(strstr(out.data, "\"unmapped\":{"));
	/* Not ours: refused, nothing written. */
	aw_buf_reset(&out);
	assert_int_equal(aw_ocsf_render(&doc, "{\"schema\":\"x\"}", 14, &out),
			 -EINVAL);
	assert_int_equal(out.len, 0);
	assert_int_equal(aw_ocsf_render(&doc, "[1]", 3, &out), -EINVAL);
	aw_jdoc_free(&doc);
	aw_buf_free(&out);
}

/* Hostile store rows: each sample line mutated at random (bytes
 * flipped, cut, spliced, keys retyped). The reader and the mapping must
 * never crash, and whatever they render must be strict JSON again. */
static void test_mutations(void **state)
{
	FILE *f = fopen(AW_SOURCE_DIR "/tests/ocsf/samples.jsonl", "r");
	static const char *const junk[] = {
	    "null", "1",     "-1",	    "\"x\"",	   "{}",
	    "[]",   "[1,2]", "{\"pid\":1}", "\"\\u0000\"", "true",
	    "1e9",  "\"/\"", "\"a\\\\\"",
	};
	struct aw_jdoc doc = {}, check = {};
	struct aw_buf out = {};
	char lines[64][16384], buf[32768];
	int nl = 0, rendered = 0;
	unsigned seed = 12345;

	(void)state;
	assert_non_null(f);
	while (nl < 64 && fgets(buf, sizeof(buf), f)) {
		char *ev = strstr(buf, "\"event\":");
		size_t len = strlen(buf);

		if (buf[len - 1] == '\n')
			buf[--len] = 0;
		ev += 8;
		snprintf(lines[nl++], sizeof(lines[0]), "%.*s",
			 (int)(buf + len - 1 - ev), ev);
	}
	fclose(f);
	for (int it = 0; it < 30000; it++) {
		const char *src = lines[it % nl];
		size_t n = strlen(src);

		memcpy(buf, src, n + 1);
		seed = seed * 1103515245 + 12345;
		switch ((seed >> 16) % 4) {
		case 0: /* flip a byte */
			buf[(seed >> 3) % n] ^= 1 << ((seed >> 9) % 8);
			break;
		case 1: /* cut */
			buf[(seed >> 3) % n] = 0;
			n = strlen(buf);
			break;
		case 2: { /* a value replaced after a colon */
			char *colon = strchr(buf + (seed >> 3) % n, ':');
			const char *j = junk[(seed >> 11) % 13];
			char *end;
			size_t jl = strlen(j);

			if (!colon)
				break;
			end = colon + 1 + strcspn(colon + 1, ",}]");
			memmove(colon + 1 + jl, end, strlen(end) + 1);
			memcpy(colon + 1, j, jl);
			n = strlen(buf);
			break;
		}
		default: /* a byte set to something a parser trips on */
			buf[(seed >> 3) % n] =
			    "\"\\{}[],:\x01\xff/"[(seed >> 11) % 12];
			break;
		}
		aw_buf_reset(&out);
		if (aw_ocsf_render(&doc, buf, n, &out) < 0)
			continue;
		rendered++;
		if (aw_jread(&check, out.data, out.len) != 0)
			fail_msg("rendered invalid JSON from: %s\n-> %s", buf,
				 out.data);
	}
	/* Most mutations still render (a flipped byte in a path). */
	assert_true(rendered > 1000);
	aw_jdoc_free(&doc);
	aw_jdoc_free(&check);
	aw_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reader_accepts),
	    cmocka_unit_test(test_reader_refuses),
	    cmocka_unit_test(test_reader_depth),
	    cmocka_unit_test(test_reader_lookup),
	    cmocka_unit_test(test_samples),
	    cmocka_unit_test(test_render_fields),
	    cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
