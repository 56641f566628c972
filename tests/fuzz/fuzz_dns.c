// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: any bytes as a DNS message, parsed as an agent's query and
 * as an upstream's answer (to a fixed question and to the question the
 * bytes carry, if they are a query), answered with an error reply, and
 * as text through the name functions. Must never crash, hang or break
 * the invariants the resolver relies on: counts within bounds, a reason
 * with every error, normalized names, replies that parse back. Built for
 * libFuzzer with -Dfuzz=true (clang); replay.c runs the corpus as a
 * normal test.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ADDRS 8

static int label_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_';
}

/* A name as parse_query and name_normalize promise it. */
static void check_normalized(const char *name, int root_ok, int wildcard)
{
	size_t n = strlen(name), label = 0;

	if (n > AW_DNS_NAME_MAX)
		abort();
	if (n == 0) {
		if (!root_ok)
			abort();
		return;
	}
	if (wildcard && name[0] == '*') {
		if (name[1] != '.')
			abort();
		name += 2;
		n -= 2;
	}
	for (size_t i = 0; i < n; i++) {
		if (name[i] == '.') {
			if (label == 0)
				abort();
			label = 0;
		} else if (!label_char_ok(name[i]) || ++label > 63) {
			abort();
		}
	}
	if (label == 0)
		abort();
}

static void check_response(const uint8_t *data, size_t size,
			   const struct aw_dns_question *q)
{
	struct aw_dns_addr addrs[MAX_ADDRS];
	unsigned rcode = 99;
	char err[160];
	int r;

	err[0] = 0;
	r = aw_dns_parse_response(data, size, q, addrs, MAX_ADDRS, &rcode, err,
				  sizeof(err));
	if (r < 0) {
		if (r < -4095 || !err[0])
			abort();
		return;
	}
	if (r > MAX_ADDRS || rcode > 15)
		abort();
	for (int i = 0; i < r; i++) {
		if (addrs[i].family != AF_INET && addrs[i].family != AF_INET6)
			abort();
		if (addrs[i].ttl & 0x80000000u)
			abort();
		for (int j = 0; j < i; j++)
			if (addrs[i].family == addrs[j].family &&
			    !memcmp(addrs[i].addr, addrs[j].addr, 16))
				abort();
	}
	/* Fewer slots than addresses must fail, not overflow. */
	if (r > 0 && aw_dns_parse_response(data, size, q, addrs, (size_t)r - 1,
					   &rcode, NULL, 0) != -E2BIG)
		abort();
}

/* An error reply built for any input parses back as a response with the
 * rcode, and, for a query that parsed, as the answer to its question. */
static void check_error_reply(const uint8_t *data, size_t size,
			      const struct aw_dns_question *q, int q_ok,
			      uint16_t id)
{
	static uint8_t out[AW_DNS_MSG_MAX];
	struct aw_dns_addr addrs[1];
	unsigned rcode = 99;
	int len, r;

	len = aw_dns_build_error(data, size, AW_DNS_REFUSED, out, sizeof(out));
	if (size < 12) {
		if (len != -EBADMSG)
			abort();
		return;
	}
	if (len < 12 || (size_t)len > size)
		abort();
	if (aw_dns_get_id(out, (size_t)len) != aw_dns_get_id(data, size))
		abort();
	if (!q_ok)
		return;
	r = aw_dns_parse_response(out, (size_t)len, q, addrs, 1, &rcode, NULL,
				  0);
	if (r != 0 || rcode != AW_DNS_REFUSED || aw_dns_get_id(out, 2) != id)
		abort();
	/* One byte short of room is refused, not overflowed. */
	if (aw_dns_build_error(data, size, AW_DNS_SERVFAIL, out,
			       (size_t)len - 1) != -ENOBUFS)
		abort();
}

static void check_query(const uint8_t *data, size_t size)
{
	static uint8_t out[AW_DNS_MSG_MAX];
	struct aw_dns_question q, q2;
	uint16_t id = 0, id2 = 0;
	char err[160];
	int r, len;

	err[0] = 0;
	r = aw_dns_parse_query(data, size, &q, &id, err, sizeof(err));
	if (r < 0 && (!err[0] || (r != -EBADMSG && r != -EINVAL)))
		abort();
	check_error_reply(data, size, &q, r == 0, id);
	if (r < 0)
		return;
	check_normalized(q.name, 1, 0);
	if (id != aw_dns_get_id(data, size))
		abort();
	/* Our own query for the same question parses to it again. */
	len = aw_dns_build_query(q.name, q.qtype, id, out, sizeof(out));
	if (len < 0)
		abort();
	if (aw_dns_parse_query(out, (size_t)len, &q2, &id2, err, sizeof(err)) !=
	    0)
		abort();
	if (strcmp(q.name, q2.name) || q.qtype != q2.qtype || id2 != id)
		abort();
	/* The upstream's copy: the same question, lowercased, under the
	 * new ID, never longer than what the client sent plus an OPT. */
	len = aw_dns_normalize_query(data, size, 0x5a5a, out, sizeof(out));
	if (len == -EOPNOTSUPP) {
		if (q.qclass == 1 && aw_dns_qtype_forwarded(q.qtype))
			abort();
		return;
	}
	if (len < 0 || (size_t)len > size + 11 ||
	    aw_dns_parse_query(out, (size_t)len, &q2, &id2, NULL, 0) != 0 ||
	    strcmp(q.name, q2.name) || q.qtype != q2.qtype || id2 != 0x5a5a)
		abort();
}

/* The bytes as an answer to the question they carry: the header and
 * question (as build_error copies them) turned back into a query give
 * it, when it is one parse_query accepts. */
static void check_own_question(const uint8_t *data, size_t size)
{
	static uint8_t hq[AW_DNS_MSG_MAX];
	struct aw_dns_question q;
	uint16_t id;
	int len;

	len = aw_dns_build_error(data, size, 0, hq, sizeof(hq));
	if (len < 0)
		return;
	hq[2] &= 0x01; /* QR, OPCODE, AA and TC cleared: RD kept */
	hq[3] = 0;
	if (aw_dns_parse_query(hq, (size_t)len, &q, &id, NULL, 0) == 0)
		check_response(data, size, &q);
}

static void check_names(const uint8_t *data, size_t size)
{
	char in[600], a[AW_DNS_NAME_MAX + 1], b[AW_DNS_NAME_MAX + 1];
	char name[AW_DNS_NAME_MAX + 8];
	const char *nl;
	size_t n = size < sizeof(in) - 1 ? size : sizeof(in) - 1;
	int r;

	memcpy(in, data, n);
	in[n] = 0;
	for (int wild = 0; wild <= 1; wild++) {
		r = aw_dns_name_normalize(in, a, sizeof(a), wild);
		if (r < 0) {
			if (r != -EINVAL && r != -EILSEQ)
				abort();
			continue;
		}
		check_normalized(a, 0, wild);
		/* Idempotent, and a name matches itself. */
		if (aw_dns_name_normalize(a, b, sizeof(b), wild) != 0 ||
		    strcmp(a, b))
			abort();
		if (a[0] != '*') {
			if (!aw_dns_name_match(a, a))
				abort();
			continue;
		}
		/* "*.rest": never rest itself, always "x.rest". */
		if (aw_dns_name_match(a, a + 2) || aw_dns_name_match(a, a + 1))
			abort();
		if (strlen(a) < AW_DNS_NAME_MAX) {
			name[0] = 'x';
			strcpy(name + 1, a + 1);
			if (!aw_dns_name_match(a, name))
				abort();
		}
	}
	/* "pattern\nname": a match means equal, or a proper subdomain. */
	nl = memchr(in, '\n', n);
	if (nl) {
		char pat[AW_DNS_NAME_MAX + 1];
		size_t plen = (size_t)(nl - in);

		if (plen >= sizeof(b))
			return;
		memcpy(b, in, plen);
		b[plen] = 0;
		if (aw_dns_name_normalize(b, pat, sizeof(pat), 1) < 0 ||
		    aw_dns_name_normalize(nl + 1, a, sizeof(a), 0) < 0)
			return;
		if (!aw_dns_name_match(pat, a))
			return;
		if (pat[0] == '*') {
			size_t sl = strlen(pat + 1), al = strlen(a);

			if (al <= sl || strcmp(a + al - sl, pat + 1))
				abort();
		} else if (strcmp(pat, a)) {
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct aw_dns_question fixed[] = {
	    {.name = "example.com", .qtype = AW_DNS_A, .qclass = 1},
	    {.name = "example.com", .qtype = AW_DNS_AAAA, .qclass = 1},
	    {.name = "a", .qtype = AW_DNS_A, .qclass = 1},
	};

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		check_response(data, size, &fixed[i]);
	check_query(data, size);
	check_own_question(data, size);
	check_names(data, size);
	(void)aw_dns_build_error(data, size, AW_DNS_FORMERR, NULL, 0);
	return 0;
}
