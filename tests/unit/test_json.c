// SPDX-License-Identifier: GPL-2.0-only
/*
 * The renderings of untrusted bytes (JSON for the SIEM, text for the
 * terminal), strict number parsing, the name hash shared with the kernel,
 * time formatting and diagnostics.
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

#include "agentwall_abi.h"
#include "shared/diag.h"
#include "shared/json.h"
#include "shared/util.h"

/* Render n bytes with aw_json_str and compare with the expected text. */
static void check_json(const char *in, size_t n, const char *want)
{
	struct aw_buf b = {};

	aw_json_str(&b, in, n);
	assert_false(b.oom);
	assert_non_null(b.data);
	assert_int_equal(b.len, strlen(b.data));
	assert_string_equal(b.data, want);
	aw_buf_free(&b);
}

static void check_text(const char *in, size_t n, const char *want)
{
	struct aw_buf b = {};

	aw_text_sanitize(&b, in, n);
	assert_false(b.oom);
	if (!*want) {
		assert_int_equal(b.len, 0);
	} else {
		assert_non_null(b.data);
		assert_string_equal(b.data, want);
	}
	aw_buf_free(&b);
}

#define JSON(lit, want) check_json(lit, sizeof(lit) - 1, want)
#define TEXT(lit, want) check_text(lit, sizeof(lit) - 1, want)

static void test_json_plain(void **state)
{
	JSON("", "\"\"");
	JSON("hello world", "\"hello world\"");
	JSON("/usr/bin/node --flag=1", "\"/usr/bin/node --flag=1\"");
	/* '/' needs no escape and is not given one. */
	JSON("a/b", "\"a/b\"");
}

static void test_json_escapes(void **state)
{
	JSON("\"", "\"\\\"\"");
	JSON("\\", "\"\\\\\"");
	JSON("a\"b\\c", "\"a\\\"b\\\\c\"");
	JSON("\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"");
	JSON("\x01\x1f", "\"\\u0001\\u001f\"");
	JSON("\x1b[31mred", "\"\\u001b[31mred\"");
	JSON("\x7f", "\"\\u007f\"");
	/* An embedded NUL inside the given length is data, not the end. */
	JSON("a\0b", "\"a\\u0000b\"");
	/* A terminal would act on C1 controls, bidi overrides and line
	 * separators: valid JSON either way, escaped here. */
	JSON("\xc2\x9b", "\"\\u009b\"");
	JSON("\xe2\x80\xae", "\"\\u202e\"");
	JSON("\xe2\x80\xa8", "\"\\u2028\"");
}

static void test_json_utf8_valid(void **state)
{
	JSON("caf\xc3\xa9", "\"caf\xc3\xa9\"");		  /* U+00E9 */
	JSON("\xc2\xa0", "\"\xc2\xa0\"");		  /* U+00A0 */
	JSON("\xdf\xbf", "\"\xdf\xbf\"");		  /* U+07FF */
	JSON("\xe0\xa0\x80", "\"\xe0\xa0\x80\"");	  /* U+0800 */
	JSON("\xe2\x82\xac", "\"\xe2\x82\xac\"");	  /* U+20AC */
	JSON("\xed\x9f\xbf", "\"\xed\x9f\xbf\"");	  /* U+D7FF */
	JSON("\xee\x80\x80", "\"\xee\x80\x80\"");	  /* U+E000 */
	JSON("\xef\xbf\xbd", "\"\xef\xbf\xbd\"");	  /* U+FFFD */
	JSON("\xf0\x90\x80\x80", "\"\xf0\x90\x80\x80\""); /* U+10000 */
	JSON("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""); /* U+1F600 */
	JSON("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\""); /* U+10FFFF */
}

#define FFFD "\\ufffd"

static void test_json_utf8_invalid(void **state)
{
	/* Lone continuation bytes and bytes that never start a sequence. */
	JSON("\x80", "\"" FFFD "\"");
	JSON("\xbf", "\"" FFFD "\"");
	JSON("\xfe\xff", "\"" FFFD FFFD "\"");
	JSON("\xf5\x80\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"");
	/* Truncated sequences, at the end and followed by ASCII: every
	 * invalid byte is replaced, and decoding resumes on the next. */
	JSON("\xc3", "\"" FFFD "\"");
	JSON("\xe2\x82", "\"" FFFD FFFD "\"");
	JSON("\xe2\x82"
	     "A",
	     "\"" FFFD FFFD "A\"");
	JSON("\xf0\x9f\x98", "\"" FFFD FFFD FFFD "\"");
	JSON("\xf0\x9f\x98"
	     "\xc3\xa9",
	     "\"" FFFD FFFD FFFD "\xc3\xa9\"");
	/* A sequence broken by a new lead byte keeps the valid part. */
	JSON("\xe2\xe2\x82\xac", "\"" FFFD "\xe2\x82\xac\"");
	/* A lead byte followed by a quote: the quote is still escaped. */
	JSON("\xc3\"", "\"" FFFD "\\\"\"");
}

static void test_json_overlong(void **state)
{
	JSON("\xc0\xaf", "\"" FFFD FFFD "\""); /* '/' in 2 */
	JSON("\xc1\xbf", "\"" FFFD FFFD "\"");
	JSON("\xc0\x80", "\"" FFFD FFFD "\"");		/* NUL in 2 */
	JSON("\xe0\x80\xaf", "\"" FFFD FFFD FFFD "\""); /* '/' in 3 */
	JSON("\xe0\x9f\xbf", "\"" FFFD FFFD FFFD "\""); /* U+07FF in 3 */
	JSON("\xf0\x80\x80\xaf", "\"" FFFD FFFD FFFD FFFD "\"");
	JSON("\xf0\x8f\xbf\xbf", "\"" FFFD FFFD FFFD FFFD "\""); /* U+FFFF */
}

static void test_json_surrogates_and_range(void **state)
{
	JSON("\xed\xa0\x80", "\"" FFFD FFFD FFFD "\""); /* U+D800 */
	JSON("\xed\xbf\xbf", "\"" FFFD FFFD FFFD "\""); /* U+DFFF */
	/* CESU-8 pair for U+1F600. */
	JSON("\xed\xa0\xbd\xed\xb8\x80",
	     "\"" FFFD FFFD FFFD FFFD FFFD FFFD "\"");
	JSON("\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\""); /* 110000 */
	JSON("\xf7\xbf\xbf\xbf", "\"" FFFD FFFD FFFD FFFD "\"");
}

/* A JSON string validator, independent of the encoder: RFC 8259 grammar
 * and well-formed UTF-8 (by the same table, written differently). */
static int valid_json_string(const unsigned char *s, size_t n)
{
	size_t i = 1;

	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return 0;
	while (i < n - 1) {
		unsigned c = s[i];

		if (c < 0x20 || c == '"')
			return 0;
		if (c == '\\') {
			if (i + 1 >= n - 1)
				return 0;
			c = s[i + 1];
			if (c && strchr("\"\\/bfnrt", (int)c)) {
				i += 2;
				continue;
			}
			if (c != 'u' || i + 6 > n - 1)
				return 0;
			for (int k = 2; k < 6; k++)
				if (!s[i + k] ||
				    !strchr("0123456789abcdefABCDEF", s[i + k]))
					return 0;
			i += 6;
			continue;
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		{
			unsigned cp, len, min;

			if ((c & 0xe0) == 0xc0) {
				len = 2, cp = c & 0x1f, min = 0x80;
			} else if ((c & 0xf0) == 0xe0) {
				len = 3, cp = c & 0x0f, min = 0x800;
			} else if ((c & 0xf8) == 0xf0) {
				len = 4, cp = c & 0x07, min = 0x10000;
			} else {
				return 0;
			}
			if (i + len > n - 1)
				return 0;
			for (unsigned k = 1; k < len; k++) {
				if ((s[i + k] & 0xc0) != 0x80)
					return 0;
				cp = cp << 6 | (s[i + k] & 0x3f);
			}
			if (cp < min || cp > 0x10ffff ||
			    (cp >= 0xd800 && cp <= 0xdfff))
				return 0;
			i += len;
		}
	}
	return 1;
}

static void test_json_random_always_valid(void **state)
{
	unsigned seed = 12345;
	unsigned char in[64];
	struct aw_buf b = {};

	/* Biased towards bytes that start or continue sequences. */
	for (int iter = 0; iter < 20000; iter++) {
		size_t n = (size_t)(rand_r(&seed) % sizeof(in));

		for (size_t i = 0; i < n; i++) {
			unsigned r = (unsigned)rand_r(&seed);

			in[i] = (r & 3) == 0
				    ? (unsigned char)(0x80 | (r >> 8 & 0x3f))
				: (r & 3) == 1
				    ? (unsigned char)(0xc0 | (r >> 8 & 0x3f))
				    : (unsigned char)(r >> 8);
		}
		aw_buf_reset(&b);
		aw_json_str(&b, (const char *)in, n);
		assert_false(b.oom);
		assert_true(valid_json_string((unsigned char *)b.data, b.len));
	}
	aw_buf_free(&b);
}

static void test_json_key_and_cstr(void **state)
{
	struct aw_buf b = {};

	aw_buf_puts(&b, "{");
	aw_json_key(&b, "exe");
	aw_json_cstr(&b, "/bin/sh");
	aw_buf_puts(&b, ",");
	aw_json_key(&b, "version");
	aw_json_cstr(&b, NULL);
	aw_buf_puts(&b, "}");
	assert_string_equal(b.data, "{\"exe\":\"/bin/sh\",\"version\":null}");
	aw_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void test_buf_growth_and_printf(void **state)
{
	struct aw_buf b = {};
	char big[5000];
	size_t want;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	aw_buf_printf(&b, "%u-", 42u);
	aw_buf_printf(&b, "%s", big);
	aw_buf_printf(&b, "-%s-", "end");
	want = 3 + strlen(big) + 5;
	assert_false(b.oom);
	assert_int_equal(b.len, want);
	assert_int_equal(strlen(b.data), want);
	assert_memory_equal(b.data, "42-xxx", 6);
	assert_string_equal(b.data + want - 5, "-end-");
	for (int i = 0; i < 10000; i++)
		aw_buf_add(&b, "ab", 2);
	assert_int_equal(b.len, want + 20000);
	assert_true(b.cap > b.len);
	aw_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	aw_buf_free(&b);
}

static void test_buf_oom_sticky(void **state)
{
	struct aw_buf b = {};

	aw_buf_puts(&b, "before");
	b.oom = 1; /* as if an allocation had failed */
	aw_buf_puts(&b, "after");
	aw_buf_printf(&b, "%d", 1);
	aw_json_str(&b, "x", 1);
	aw_text_sanitize(&b, "y", 1);
	assert_true(b.oom);
	assert_int_equal(b.len, 6);
	assert_string_equal(b.data, "before");
	/* Reset discards what the flag was about. */
	aw_buf_reset(&b);
	assert_false(b.oom);
	aw_buf_puts(&b, "again");
	assert_string_equal(b.data, "again");
	aw_buf_free(&b);

	/* A size that cannot be allocated sets the flag, not a crash. */
	aw_buf_puts(&b, "z");
	aw_buf_add(&b, "", SIZE_MAX - 1);
	assert_true(b.oom);
	assert_int_equal(b.len, 1);
	aw_buf_free(&b);
}

static void test_text_sanitize(void **state)
{
	TEXT("", "");
	TEXT("ls -la /tmp", "ls -la /tmp");
	TEXT("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07");
	TEXT("a\nb\rc\td", "a\\x0ab\\x0dc\\x09d");
	TEXT("a\0b", "a\\x00b");
	TEXT("\x7f", "\\x7f");
	/* Backslash stays a single backslash. */
	TEXT("C:\\dir\\x41", "C:\\dir\\x41");
	TEXT("caf\xc3\xa9 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xf0\x9f\x98\x80");
	TEXT("\xff", "\\xff");
	TEXT("\xe2\x82"
	     "A",
	     "\\xe2\\x82A");
	TEXT("\xc0\xaf", "\\xc0\\xaf");
	TEXT("\xed\xa0\x80", "\\xed\\xa0\\x80");
	TEXT("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
	/* Whole sequences of code points a terminal acts on. */
	TEXT("\xc2\x9b"
	     "2J",
	     "\\xc2\\x9b2J");
	TEXT("evil\xe2\x80\xaetxt.sh", "evil\\xe2\\x80\\xaetxt.sh");
}

static void test_parse_u64(void **state)
{
	uint64_t v = 77;

	assert_int_equal(aw_parse_u64("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(aw_parse_u64("42", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(aw_parse_u64("007", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(aw_parse_u64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(aw_parse_u64("18446744073709551614", &v), 0);
	assert_true(v == UINT64_MAX - 1);

	v = 77;
	assert_int_equal(aw_parse_u64("18446744073709551616", &v), -ERANGE);
	assert_int_equal(aw_parse_u64("18446744073709551620", &v), -ERANGE);
	assert_int_equal(aw_parse_u64("99999999999999999999", &v), -ERANGE);
	assert_int_equal(aw_parse_u64("184467440737095516150", &v), -ERANGE);
	assert_int_equal(aw_parse_u64("", &v), -EINVAL);
	assert_int_equal(aw_parse_u64(NULL, &v), -EINVAL);
	assert_int_equal(aw_parse_u64("-1", &v), -EINVAL);
	assert_int_equal(aw_parse_u64("-0", &v), -EINVAL);
	assert_int_equal(aw_parse_u64("+1", &v), -EINVAL);
	assert_int_equal(aw_parse_u64(" 1", &v), -EINVAL);
	assert_int_equal(aw_parse_u64("1 ", &v), -EINVAL);
	assert_int_equal(aw_parse_u64("1\n", &v), -EINVAL);
	assert_int_equal(aw_parse_u64("12x", &v), -EINVAL);
	assert_int_equal(aw_parse_u64("0x10", &v), -EINVAL);
	assert_int_equal(aw_parse_u64("1e3", &v), -EINVAL);
	assert_int_equal(aw_parse_u64("1.0", &v), -EINVAL);
	assert_int_equal(aw_parse_u64("99999999999999999999x", &v), -EINVAL);
	/* Failures leave the out-parameter alone. */
	assert_int_equal(v, 77);
}

/* FNV-1a 64 over the bytes from last to first, straightforwardly. */
static uint64_t ref_hash(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = n; i-- > 0;) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h == 0 ? 1 : h;
}

static void test_name_hash(void **state)
{
	static const char *names[] = {
	    "",	       "a",	   "codex",   "node_modules",
	    "@openai", "codex.js", "\xff\xfe"};
	unsigned char rev[64];

	assert_true(AW_FNV_OFFSET == 0xcbf29ce484222325ull);
	assert_true(AW_FNV_PRIME == 0x100000001b3ull);
	for (size_t i = 0; i < AW_ARRAY_SIZE(names); i++) {
		size_t n = strlen(names[i]);

		assert_true(aw_name_hash(names[i], n) ==
			    ref_hash((const unsigned char *)names[i], n));
		assert_true(aw_name_hash(names[i], n) != 0);
	}
	/* Known values (computed separately, in Python). */
	assert_true(aw_name_hash("", 0) == 0xcbf29ce484222325ull);
	assert_true(aw_name_hash("a", 1) == 0xaf63dc4c8601ec8cull);
	assert_true(aw_name_hash("codex", 5) == 0xa7516b1cf821ec98ull);
	assert_true(aw_name_hash("node_modules", 12) == 0x1e6482eedccfd73ull);
	/* Last byte first means: the standard forward FNV-1a of the
	 * reversed name (the standard vector for "a" is af63dc4c8601ec8c). */
	for (size_t i = 0; i < 12; i++)
		rev[i] = (unsigned char)"node_modules"[11 - i];
	{
		uint64_t h = 0xcbf29ce484222325ull;

		for (size_t i = 0; i < 12; i++) {
			h ^= rev[i];
			h *= 0x100000001b3ull;
		}
		assert_true(aw_name_hash("node_modules", 12) == h);
	}
	/* Only the given bytes count. */
	assert_true(aw_name_hash("codexXYZ", 5) == aw_name_hash("codex", 5));
	assert_true(aw_name_hash("ab", 2) != aw_name_hash("ba", 2));
}

static void test_format_time(void **state)
{
	char buf[64];

	aw_format_time(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000000Z");
	aw_format_time(1795849408123456789ull, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-28T07:03:28.123456Z");
	/* Microseconds are truncated, not rounded (no 60th second). */
	aw_format_time(59999999999ull, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:59.999999Z");
	/* A short buffer gets a truncated, terminated string. */
	aw_format_time(0, buf, 5);
	assert_string_equal(buf, "1970");
	assert_true(aw_now_realtime_ns() > 1700000000ull * 1000000000ull);
	assert_true(aw_now_boottime_ns() > 0);
}

static void test_diag(void **state)
{
	struct aw_diag d = {};
	char buf[512];

	aw_diag_set(&d, "sig.yaml", 3, 7, "unknown key '%s'", "exe_path");
	aw_diag_set(&d, "sig.yaml", 9, 1, "later problem");
	assert_int_equal(d.line, 3);
	assert_true(aw_diag_format(&d, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "sig.yaml:3:7: unknown key 'exe_path'");

	memset(&d, 0, sizeof(d));
	aw_diag_set(&d, "policy.yaml", 0, 0, "cannot open: %s", "ENOENT");
	aw_diag_format(&d, buf, sizeof(buf));
	assert_string_equal(buf, "policy.yaml: cannot open: ENOENT");

	memset(&d, 0, sizeof(d));
	aw_diag_set(&d, NULL, 0, 0, "no file");
	aw_diag_format(&d, buf, sizeof(buf));
	assert_string_equal(buf, "no file");

	assert_int_equal(aw_diag_format(&d, buf, 3), -ENOBUFS);
	assert_string_equal(buf, "no");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_plain),
	    cmocka_unit_test(test_json_escapes),
	    cmocka_unit_test(test_json_utf8_valid),
	    cmocka_unit_test(test_json_utf8_invalid),
	    cmocka_unit_test(test_json_overlong),
	    cmocka_unit_test(test_json_surrogates_and_range),
	    cmocka_unit_test(test_json_random_always_valid),
	    cmocka_unit_test(test_json_key_and_cstr),
	    cmocka_unit_test(test_buf_growth_and_printf),
	    cmocka_unit_test(test_buf_oom_sticky),
	    cmocka_unit_test(test_text_sanitize),
	    cmocka_unit_test(test_parse_u64),
	    cmocka_unit_test(test_name_hash),
	    cmocka_unit_test(test_format_time),
	    cmocka_unit_test(test_diag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
