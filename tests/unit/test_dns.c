// SPDX-License-Identifier: GPL-2.0-only
/*
 * DNS messages as the daemon's resolver meets them: agents' queries and
 * upstream answers built by hand, byte by byte, including the hostile
 * shapes (compression loops, CNAME loops and long chains, truncation,
 * lying counts, wrong RDLENGTHs, names that are almost the question),
 * and the name rules policies are written in.
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
#include <sys/socket.h>

#include "net/dns.h"

/* A message under construction. */
struct msg {
	uint8_t b[8192];
	size_t len;
};

static void put8(struct msg *m, uint8_t v)
{
	assert_true(m->len < sizeof(m->b));
	m->b[m->len++] = v;
}

static void put16(struct msg *m, uint16_t v)
{
	put8(m, (uint8_t)(v >> 8));
	put8(m, (uint8_t)v);
}

static void put32(struct msg *m, uint32_t v)
{
	put16(m, (uint16_t)(v >> 16));
	put16(m, (uint16_t)v);
}

static void put_bytes(struct msg *m, const void *p, size_t n)
{
	assert_true(m->len + n <= sizeof(m->b));
	if (n)
		memcpy(m->b + m->len, p, n);
	m->len += n;
}

/* The labels of a dotted name, no root label: "" puts nothing. */
static void put_labels(struct msg *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);

		put8(m, (uint8_t)n);
		put_bytes(m, name, n);
		name += n + (dot ? 1 : 0);
	}
}

/* A whole uncompressed name. */
static void put_name(struct msg *m, const char *name)
{
	put_labels(m, name);
	put8(m, 0);
}

static void put_ptr(struct msg *m, size_t off)
{
	put16(m, (uint16_t)(0xc000 | off));
}

static void put_hdr(struct msg *m, uint16_t id, uint16_t flags, uint16_t qd,
		    uint16_t an, uint16_t ns, uint16_t ar)
{
	m->len = 0;
	put16(m, id);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
}

static void put_question(struct msg *m, const char *name, uint16_t type)
{
	put_name(m, name);
	put16(m, type);
	put16(m, 1);
}

/* A response header (QR, RD, RA, NOERROR) and the question. */
static void response(struct msg *m, const char *qname, uint16_t qtype,
		     uint16_t an)
{
	put_hdr(m, 0x1234, 0x8180, 1, an, 0, 0);
	put_question(m, qname, qtype);
}

/* The fixed part of a record after an owner already put. */
static void put_rr_tail(struct msg *m, uint16_t type, uint16_t class,
			uint32_t ttl, const void *rdata, uint16_t rdlen)
{
	put16(m, type);
	put16(m, class);
	put32(m, ttl);
	put16(m, rdlen);
	put_bytes(m, rdata, rdlen);
}

static void rr_a(struct msg *m, const char *owner, uint32_t ttl, uint8_t a,
		 uint8_t b, uint8_t c, uint8_t d)
{
	uint8_t ip[4] = {a, b, c, d};

	put_name(m, owner);
	put_rr_tail(m, AW_DNS_A, 1, ttl, ip, 4);
}

static void rr_aaaa(struct msg *m, const char *owner, uint32_t ttl,
		    uint8_t last)
{
	uint8_t ip[16] = {0x20, 0x01, 0x0d, 0xb8};

	ip[15] = last;
	put_name(m, owner);
	put_rr_tail(m, AW_DNS_AAAA, 1, ttl, ip, 16);
}

static void rr_cname(struct msg *m, const char *owner, uint32_t ttl,
		     const char *target)
{
	size_t at;

	put_name(m, owner);
	put16(m, AW_DNS_CNAME);
	put16(m, 1);
	put32(m, ttl);
	at = m->len;
	put16(m, 0);
	put_name(m, target);
	m->b[at] = (uint8_t)((m->len - at - 2) >> 8);
	m->b[at + 1] = (uint8_t)(m->len - at - 2);
}

static void set_count(struct msg *m, int which, uint16_t v)
{
	/* which: 0 QD, 1 AN, 2 NS, 3 AR */
	m->b[4 + 2 * which] = (uint8_t)(v >> 8);
	m->b[5 + 2 * which] = (uint8_t)v;
}

static const struct aw_dns_question q_a = {"example.com", AW_DNS_A, 1};
static const struct aw_dns_question q_aaaa = {"example.com", AW_DNS_AAAA, 1};
static const struct aw_dns_question q_www = {"www.example.com", AW_DNS_A, 1};

static char err[256];

static int parse(const struct msg *m, const struct aw_dns_question *q,
		 struct aw_dns_addr *addrs, size_t max, unsigned *rcode)
{
	unsigned dummy;

	err[0] = 0;
	return aw_dns_parse_response(m->b, m->len, q, addrs, max,
				     rcode ? rcode : &dummy, err, sizeof(err));
}

/* An error always says where. */
static void assert_err(int r, int want)
{
	assert_int_equal(r, want);
	assert_non_null(strstr(err, "offset "));
}

static void assert_ip4(const struct aw_dns_addr *a, uint8_t last, uint32_t ttl)
{
	uint8_t want[16] = {192, 0, 2, last};

	assert_int_equal(a->family, AF_INET);
	assert_memory_equal(a->addr, want, 16);
	assert_int_equal(a->ttl, ttl);
}

static void test_response_a(void **state)
{
	struct aw_dns_addr addrs[4];
	unsigned rcode = 99;
	struct msg m;

	response(&m, "example.com", AW_DNS_A, 2);
	rr_a(&m, "example.com", 300, 192, 0, 2, 1);
	/* The usual shape: the owner a pointer to the question. */
	put_ptr(&m, 12);
	put_rr_tail(&m, AW_DNS_A, 1, 60, (uint8_t[]){192, 0, 2, 2}, 4);
	assert_int_equal(parse(&m, &q_a, addrs, 4, &rcode), 2);
	assert_int_equal(rcode, AW_DNS_NOERROR);
	assert_ip4(&addrs[0], 1, 300);
	assert_ip4(&addrs[1], 2, 60);

	/* NXDOMAIN, no answers. */
	put_hdr(&m, 7, 0x8183, 1, 0, 0, 0);
	put_question(&m, "example.com", AW_DNS_A);
	assert_int_equal(parse(&m, &q_a, addrs, 4, &rcode), 0);
	assert_int_equal(rcode, AW_DNS_NXDOMAIN);
}

static void test_response_aaaa(void **state)
{
	struct aw_dns_addr addrs[4];
	uint8_t want[16] = {0x20, 0x01, 0x0d, 0xb8};
	struct msg m;

	response(&m, "example.com", AW_DNS_AAAA, 1);
	rr_aaaa(&m, "example.com", 120, 7);
	assert_int_equal(parse(&m, &q_aaaa, addrs, 4, NULL), 1);
	want[15] = 7;
	assert_int_equal(addrs[0].family, AF_INET6);
	assert_memory_equal(addrs[0].addr, want, 16);
	assert_int_equal(addrs[0].ttl, 120);
}

/* www.example.com -> a.cdn.net -> b.cdn.net -> 2 addresses, the records
 * in the given order (0: forward, 1: reverse). */
static void build_chain(struct msg *m, int reverse)
{
	response(m, "www.example.com", AW_DNS_A, 5);
	if (!reverse) {
		rr_cname(m, "www.example.com", 600, "a.cdn.net");
		rr_cname(m, "a.cdn.net", 60, "b.cdn.net");
		rr_a(m, "b.cdn.net", 300, 192, 0, 2, 1);
		rr_a(m, "b.cdn.net", 30, 192, 0, 2, 2);
		rr_a(m, "a.cdn.net", 500, 192, 0, 2, 3);
	} else {
		rr_a(m, "a.cdn.net", 500, 192, 0, 2, 3);
		rr_a(m, "b.cdn.net", 30, 192, 0, 2, 2);
		rr_a(m, "b.cdn.net", 300, 192, 0, 2, 1);
		rr_cname(m, "a.cdn.net", 60, "b.cdn.net");
		rr_cname(m, "www.example.com", 600, "a.cdn.net");
	}
}

static void test_response_cname_chain(void **state)
{
	struct aw_dns_addr addrs[4];
	struct msg m;

	for (int reverse = 0; reverse <= 1; reverse++) {
		build_chain(&m, reverse);
		assert_int_equal(parse(&m, &q_www, addrs, 4, NULL), 3);
		/* In chain order: a.cdn.net's (under the first CNAME's TTL)
		 * then b.cdn.net's (under the smaller second one). */
		assert_ip4(&addrs[0], 3, 500);
		if (reverse) {
			assert_ip4(&addrs[1], 2, 30);
			assert_ip4(&addrs[2], 1, 60);
		} else {
			assert_ip4(&addrs[1], 1, 60);
			assert_ip4(&addrs[2], 2, 30);
		}
	}

	/* The CNAME's target compressed, pointing into its own owner. */
	response(&m, "www.example.com", AW_DNS_A, 2);
	put_ptr(&m, 12); /* www.example.com */
	put16(&m, AW_DNS_CNAME);
	put16(&m, 1);
	put32(&m, 100);
	put16(&m, 6);
	put8(&m, 3);
	put_bytes(&m, "cdn", 3);
	put_ptr(&m, 16); /* example.com inside the question */
	rr_a(&m, "cdn.example.com", 200, 192, 0, 2, 9);
	assert_int_equal(parse(&m, &q_www, addrs, 4, NULL), 1);
	assert_ip4(&addrs[0], 9, 100);

	/* A CNAME whose target does not fill RDATA. */
	response(&m, "www.example.com", AW_DNS_A, 1);
	put_name(&m, "www.example.com");
	put_rr_tail(&m, AW_DNS_CNAME, 1, 5, "\x01x\x00\x00", 4);
	assert_err(parse(&m, &q_www, addrs, 4, NULL), -EBADMSG);

	/* Two CNAMEs for one name, to different targets. */
	response(&m, "www.example.com", AW_DNS_A, 2);
	rr_cname(&m, "www.example.com", 5, "a.net");
	rr_cname(&m, "www.example.com", 5, "b.net");
	assert_err(parse(&m, &q_www, addrs, 4, NULL), -EBADMSG);
	/* The same CNAME twice: the smaller TTL. */
	response(&m, "www.example.com", AW_DNS_A, 3);
	rr_cname(&m, "www.example.com", 50, "a.net");
	rr_cname(&m, "www.example.com", 40, "a.net");
	rr_a(&m, "a.net", 100, 192, 0, 2, 4);
	assert_int_equal(parse(&m, &q_www, addrs, 4, NULL), 1);
	assert_ip4(&addrs[0], 4, 40);
}

static void test_response_cname_loop(void **state)
{
	struct aw_dns_addr addrs[4];
	struct msg m;

	response(&m, "www.example.com", AW_DNS_A, 3);
	rr_cname(&m, "www.example.com", 60, "a.net");
	rr_cname(&m, "a.net", 60, "b.net");
	rr_cname(&m, "b.net", 60, "A.NET");
	assert_err(parse(&m, &q_www, addrs, 4, NULL), -ELOOP);

	/* To itself. */
	response(&m, "www.example.com", AW_DNS_A, 1);
	rr_cname(&m, "www.example.com", 60, "WWW.example.com");
	assert_err(parse(&m, &q_www, addrs, 4, NULL), -ELOOP);

	/* A loop among names the chain never reaches is not ours. */
	response(&m, "www.example.com", AW_DNS_A, 3);
	rr_cname(&m, "x.net", 60, "y.net");
	rr_cname(&m, "y.net", 60, "x.net");
	rr_a(&m, "www.example.com", 60, 192, 0, 2, 1);
	assert_int_equal(parse(&m, &q_www, addrs, 4, NULL), 1);
}

/* www.example.com -> c1.net -> ... -> cN.net, A at the end. */
static void build_long_chain(struct msg *m, int n)
{
	char owner[32], target[32];

	response(m, "www.example.com", AW_DNS_A, (uint16_t)(n + 1));
	strcpy(owner, "www.example.com");
	for (int i = 1; i <= n; i++) {
		snprintf(target, sizeof(target), "c%d.net", i);
		rr_cname(m, owner, (uint32_t)(1000 - i), target);
		strcpy(owner, target);
	}
	rr_a(m, owner, 5000, 192, 0, 2, 1);
}

static void test_response_chain_length(void **state)
{
	struct aw_dns_addr addrs[4];
	struct msg m;

	build_long_chain(&m, 16);
	assert_int_equal(parse(&m, &q_www, addrs, 4, NULL), 1);
	assert_ip4(&addrs[0], 1, 1000 - 16);
	build_long_chain(&m, 17);
	assert_err(parse(&m, &q_www, addrs, 4, NULL), -ELOOP);
	assert_non_null(strstr(err, "longer than 16"));
}

static void test_response_pointer_loops(void **state)
{
	struct aw_dns_addr addrs[4];
	struct msg m;
	size_t at;

	/* A pointer to itself (as the owner of the answer). */
	response(&m, "example.com", AW_DNS_A, 1);
	at = m.len;
	put_ptr(&m, at);
	put_rr_tail(&m, AW_DNS_A, 1, 5, "\xc0\x00\x02\x01", 4);
	assert_err(parse(&m, &q_a, addrs, 4, NULL), -EBADMSG);

	/* Two pointers to each other: the first names the second (ahead of
	 * it), the second the first. */
	response(&m, "example.com", AW_DNS_A, 1);
	at = m.len;
	put_ptr(&m, at + 2);
	put_ptr(&m, at);
	put_rr_tail(&m, AW_DNS_A, 1, 5, "\xc0\x00\x02\x01", 4);
	assert_err(parse(&m, &q_a, addrs, 4, NULL), -EBADMSG);

	/* A forward pointer to a perfectly good name further on. */
	response(&m, "example.com", AW_DNS_A, 2);
	at = m.len;
	put_ptr(&m, at + 2 + 10 + 4);
	put_rr_tail(&m, AW_DNS_A, 1, 5, "\xc0\x00\x02\x01", 4);
	rr_a(&m, "example.com", 5, 192, 0, 2, 2);
	assert_err(parse(&m, &q_a, addrs, 4, NULL), -EBADMSG);

	/* Into the header: bytes that were never a name. */
	response(&m, "example.com", AW_DNS_A, 1);
	put_ptr(&m, 4);
	put_rr_tail(&m, AW_DNS_A, 1, 5, "\xc0\x00\x02\x01", 4);
	assert_err(parse(&m, &q_a, addrs, 4, NULL), -EBADMSG);

	/* A question that is a pointer (it can only point backwards into
	 * the header). */
	put_hdr(&m, 1, 0x8180, 1, 0, 0, 0);
	put_ptr(&m, 12);
	put16(&m, 1);
	put16(&m, 1);
	assert_err(parse(&m, &q_a, addrs, 4, NULL), -EBADMSG);

	/* A question ending in half a pointer. */
	put_hdr(&m, 1, 0x8180, 1, 0, 0, 0);
	put8(&m, 0xc0);
	assert_err(parse(&m, &q_a, addrs, 4, NULL), -EBADMSG);
	assert_non_null(strstr(err, "cut short"));

	/* An owner of 4 labels of 63 bytes: 257 bytes in wire form. */
	response(&m, "example.com", AW_DNS_A, 1);
	for (int i = 0; i < 4; i++) {
		put8(&m, 63);
		for (int j = 0; j < 63; j++)
			put8(&m, 'a');
	}
	put8(&m, 0);
	put_rr_tail(&m, AW_DNS_A, 1, 5, "\xc0\x00\x02\x01", 4);
	assert_err(parse(&m, &q_a, addrs, 4, NULL), -EBADMSG);
	assert_non_null(strstr(err, "longer than 255"));
	/* Through a pointer to the question: 3 labels of 63, one of 49 or
	 * 50, then example.com's 13 bytes: 255 is fine, 256 is not. */
	for (int last = 49; last <= 50; last++) {
		response(&m, "example.com", AW_DNS_A, 1);
		for (int i = 0; i < 4; i++) {
			int n = i < 3 ? 63 : last;

			put8(&m, (uint8_t)n);
			for (int j = 0; j < n; j++)
				put8(&m, 'a');
		}
		put_ptr(&m, 12);
		put_rr_tail(&m, AW_DNS_A, 1, 5, "\xc0\x00\x02\x01", 4);
		if (last == 49)
			assert_int_equal(parse(&m, &q_a, addrs, 4, NULL), 0);
		else
			assert_err(parse(&m, &q_a, addrs, 4, NULL), -EBADMSG);
	}

	/* Extended label types 0x40 and 0x80. */
	response(&m, "example.com", AW_DNS_A, 1);
	put8(&m, 0x41);
	put8(&m, 0);
	put_rr_tail(&m, AW_DNS_A, 1, 5, "\xc0\x00\x02\x01", 4);
	assert_err(parse(&m, &q_a, addrs, 4, NULL), -EBADMSG);
}

/* An answer whose owner reaches the question through jumps pointers:
 * a record of an unknown type holds a ladder of pointers, each to the
 * one before, the first to the question. */
static int parse_ladder(unsigned jumps)
{
	struct aw_dns_addr addrs[1];
	struct msg m;
	size_t blob, rungs = jumps - 1;

	response(&m, "example.com", AW_DNS_A, 2);
	put_name(&m, "pad.example.com");
	put16(&m, 65280);
	put16(&m, 1);
	put32(&m, 5);
	put16(&m, (uint16_t)(2 * rungs));
	blob = m.len;
	put_ptr(&m, 12);
	for (size_t i = 1; i < rungs; i++)
		put_ptr(&m, blob + 2 * (i - 1));
	put_ptr(&m, blob + 2 * (rungs - 1));
	put_rr_tail(&m, AW_DNS_A, 1, 5, "\xc0\x00\x02\x01", 4);
	return parse(&m, &q_a, addrs, 1, NULL);
}

static void test_response_pointer_limit(void **state)
{
	assert_int_equal(parse_ladder(2), 1);
	assert_int_equal(parse_ladder(128), 1);
	assert_err(parse_ladder(129), -EBADMSG);
	assert_non_null(strstr(err, "128"));
}

static void test_response_truncated(void **state)
{
	struct aw_dns_addr addrs[4];
	struct msg m;
	size_t full;

	build_chain(&m, 0);
	/* Something in the other sections too. */
	set_count(&m, 2, 1);
	set_count(&m, 3, 1);
	put_name(&m, "cdn.net");
	put_rr_tail(&m, 2, 1, 5, "\x02ns\x00", 4);
	put8(&m, 0);
	put_rr_tail(&m, 41, 1232, 0, NULL, 0);
	full = m.len;
	assert_int_equal(parse(&m, &q_www, addrs, 4, NULL), 3);
	/* Every shorter prefix is an error, read within its length (ASan
	 * builds check the "within"). */
	for (size_t l = 0; l < full; l++) {
		uint8_t *copy = malloc(l ? l : 1);
		int r;

		assert_non_null(copy);
		memcpy(copy, m.b, l);
		err[0] = 0;
		r = aw_dns_parse_response(copy, l, &q_www, addrs, 4, NULL, err,
					  sizeof(err));
		assert_true(r < 0);
		assert_true(err[0] != 0);
		free(copy);
	}
	/* And a byte too many. */
	put8(&m, 0);
	assert_err(parse(&m, &q_www, addrs, 4, NULL), -EBADMSG);
}

static void test_response_lying_counts(void **state)
{
	struct aw_dns_addr addrs[4];
	struct msg m;

	response(&m, "example.com", AW_DNS_A, 1);
	rr_a(&m, "example.com", 5, 192, 0, 2, 1);
	set_count(&m, 1, 65535);
	assert_err(parse(&m, &q_a, addrs, 4, NULL), -EBADMSG);
	set_count(&m, 1, 2);
	assert_err(parse(&m, &q_a, addrs, 4, NULL), -EBADMSG);
	set_count(&m, 1, 1);
	set_count(&m, 3, 65535);
	assert_err(parse(&m, &q_a, addrs, 4, NULL), -EBADMSG);
	/* RDLENGTH past the end. */
	set_count(&m, 3, 0);
	m.b[m.len - 5] = 5;
	assert_err(parse(&m, &q_a, addrs, 4, NULL), -EBADMSG);
	/* Too short for a header, too long for DNS. */
	assert_err(aw_dns_parse_response(m.b, 11, &q_a, addrs, 4, NULL, err,
					 sizeof(err)),
		   -EBADMSG);
	assert_int_equal(
	    aw_dns_parse_response(m.b, 65536, &q_a, addrs, 4, NULL, NULL, 0),
	    -EBADMSG);
}

static void test_response_rdlength(void **state)
{
	struct aw_dns_addr addrs[4];
	struct msg m;

	response(&m, "example.com", AW_DNS_A, 1);
	put_name(&m, "example.com");
	put_rr_tail(&m, AW_DNS_A, 1, 5, "\xc0\x00\x02", 3);
	assert_err(parse(&m, &q_a, addrs, 4, NULL), -EBADMSG);

	response(&m, "example.com", AW_DNS_AAAA, 1);
	put_name(&m, "example.com");
	put_rr_tail(&m, AW_DNS_AAAA, 1, 5, "\xc0\x00\x02\x01", 4);
	assert_err(parse(&m, &q_aaaa, addrs, 4, NULL), -EBADMSG);

	/* Wrong even when owned by another name. */
	response(&m, "example.com", AW_DNS_A, 1);
	put_name(&m, "other.net");
	put_rr_tail(&m, AW_DNS_A, 1, 5, "\xc0\x00\x02\x01\x05", 5);
	assert_err(parse(&m, &q_a, addrs, 4, NULL), -EBADMSG);

	/* Class CH "A" records have other data and are ignored. */
	response(&m, "example.com", AW_DNS_A, 1);
	put_name(&m, "example.com");
	put_rr_tail(&m, AW_DNS_A, 3, 5, "\x01x\x00\x00\x01", 5);
	assert_int_equal(parse(&m, &q_a, addrs, 4, NULL), 0);
}

static void test_response_ttl(void **state)
{
	struct aw_dns_addr addrs[8];
	struct msg m;

	response(&m, "example.com", AW_DNS_A, 4);
	rr_a(&m, "example.com", 0, 192, 0, 2, 1);
	rr_a(&m, "example.com", 0x80000000u, 192, 0, 2, 2);
	rr_a(&m, "example.com", 0xffffffffu, 192, 0, 2, 3);
	rr_a(&m, "example.com", 0x7fffffffu, 192, 0, 2, 4);
	assert_int_equal(parse(&m, &q_a, addrs, 8, NULL), 4);
	assert_ip4(&addrs[0], 1, 0);
	assert_ip4(&addrs[1], 2, 0);
	assert_ip4(&addrs[2], 3, 0);
	assert_ip4(&addrs[3], 4, 0x7fffffffu);

	/* A CNAME with the top bit set zeroes what it leads to. */
	response(&m, "www.example.com", AW_DNS_A, 2);
	rr_cname(&m, "www.example.com", 0x80000001u, "a.net");
	rr_a(&m, "a.net", 300, 192, 0, 2, 5);
	assert_int_equal(parse(&m, &q_www, addrs, 8, NULL), 1);
	assert_ip4(&addrs[0], 5, 0);
}

static void test_response_case(void **state)
{
	struct aw_dns_addr addrs[4];
	struct msg m;

	response(&m, "WwW.ExAmPlE.CoM", AW_DNS_A, 3);
	rr_cname(&m, "www.EXAMPLE.com", 60, "Cdn.Example.NET");
	rr_a(&m, "CDN.example.net", 30, 192, 0, 2, 1);
	rr_a(&m, "WWW.EXAMPLE.COM", 90, 192, 0, 2, 2);
	assert_int_equal(parse(&m, &q_www, addrs, 4, NULL), 2);
	assert_ip4(&addrs[0], 2, 90);
	assert_ip4(&addrs[1], 1, 30);
}

static void test_response_question_mismatch(void **state)
{
	struct aw_dns_question q_up = {"EXAMPLE.COM", AW_DNS_A, 1};
	struct aw_dns_question q_bad = {"a..b", AW_DNS_A, 1};
	struct aw_dns_addr addrs[4];
	struct msg m;

	response(&m, "example.net", AW_DNS_A, 1);
	rr_a(&m, "example.com", 5, 192, 0, 2, 1);
	assert_err(parse(&m, &q_a, addrs, 4, NULL), -EPROTO);

	response(&m, "example.com", AW_DNS_AAAA, 1);
	rr_a(&m, "example.com", 5, 192, 0, 2, 1);
	assert_err(parse(&m, &q_a, addrs, 4, NULL), -EPROTO);

	/* Class CH. */
	put_hdr(&m, 1, 0x8180, 1, 0, 0, 0);
	put_name(&m, "example.com");
	put16(&m, AW_DNS_A);
	put16(&m, 3);
	assert_err(parse(&m, &q_a, addrs, 4, NULL), -EPROTO);

	/* One label holding a dot is not two labels. */
	put_hdr(&m, 1, 0x8180, 1, 0, 0, 0);
	put8(&m, 11);
	put_bytes(&m, "example.com", 11);
	put8(&m, 0);
	put16(&m, AW_DNS_A);
	put16(&m, 1);
	assert_err(parse(&m, &q_a, addrs, 4, NULL), -EPROTO);

	/* A query (QR=0), another opcode, no question, two questions. */
	response(&m, "example.com", AW_DNS_A, 0);
	m.b[2] = 0x01;
	assert_err(parse(&m, &q_a, addrs, 4, NULL), -EPROTO);
	m.b[2] = 0x81 | (2 << 3);
	assert_err(parse(&m, &q_a, addrs, 4, NULL), -EPROTO);
	m.b[2] = 0x81;
	assert_int_equal(parse(&m, &q_a, addrs, 4, NULL), 0);
	/* The question is compared case-insensitively on our side too. */
	assert_int_equal(parse(&m, &q_up, addrs, 4, NULL), 0);
	set_count(&m, 0, 0);
	assert_err(parse(&m, &q_a, addrs, 4, NULL), -EPROTO);
	set_count(&m, 0, 2);
	assert_err(parse(&m, &q_a, addrs, 4, NULL), -EPROTO);

	/* A question that is not a name. */
	set_count(&m, 0, 1);
	assert_int_equal(parse(&m, &q_bad, addrs, 4, NULL), -EINVAL);
}

static void test_response_other_owners(void **state)
{
	struct aw_dns_addr addrs[4];
	struct msg m;

	response(&m, "example.com", AW_DNS_A, 5);
	rr_a(&m, "evil.net", 5, 192, 0, 2, 66);
	rr_a(&m, "a.example.com", 5, 192, 0, 2, 67);
	rr_a(&m, "com", 5, 192, 0, 2, 68);
	rr_a(&m, "example.com", 5, 192, 0, 2, 1);
	/* A CNAME elsewhere does not pull its target's addresses in. */
	rr_cname(&m, "evil.net", 5, "example.com");
	set_count(&m, 3, 1);
	/* Nor do the additional section's glue records. */
	rr_a(&m, "example.com", 5, 192, 0, 2, 69);
	assert_int_equal(parse(&m, &q_a, addrs, 4, NULL), 1);
	assert_ip4(&addrs[0], 1, 5);
}

static void test_response_max(void **state)
{
	struct aw_dns_addr addrs[4];
	struct msg m;

	response(&m, "example.com", AW_DNS_A, 4);
	for (uint8_t i = 1; i <= 3; i++)
		rr_a(&m, "example.com", 5, 192, 0, 2, i);
	/* A repeat is stored once, with the larger TTL. */
	rr_a(&m, "example.com", 50, 192, 0, 2, 2);
	assert_int_equal(parse(&m, &q_a, addrs, 3, NULL), 3);
	assert_ip4(&addrs[1], 2, 50);
	assert_err(parse(&m, &q_a, addrs, 2, NULL), -E2BIG);
	assert_err(parse(&m, &q_a, NULL, 0, NULL), -E2BIG);
}

static int query(const struct msg *m, struct aw_dns_question *q, uint16_t *id)
{
	err[0] = 0;
	return aw_dns_parse_query(m->b, m->len, q, id, err, sizeof(err));
}

static void test_query_ok(void **state)
{
	struct aw_dns_question q;
	uint16_t id = 0;
	struct msg m;

	put_hdr(&m, 0xbeef, 0x0100, 1, 0, 0, 0);
	put_question(&m, "Api.GitHub.com", AW_DNS_AAAA);
	assert_int_equal(query(&m, &q, &id), 0);
	assert_string_equal(q.name, "api.github.com");
	assert_int_equal(q.qtype, AW_DNS_AAAA);
	assert_int_equal(q.qclass, 1);
	assert_int_equal(id, 0xbeef);

	/* With EDNS, and underscores and punycode. */
	put_hdr(&m, 1, 0x0120, 1, 0, 0, 1);
	put_question(&m, "_dmarc.xn--bcher-kva.example", 16);
	put8(&m, 0);
	put16(&m, 41);
	put16(&m, 1232);
	put32(&m, 0);
	put16(&m, 4);
	put32(&m, 0x000a0000);
	assert_int_equal(query(&m, &q, &id), 0);
	assert_string_equal(q.name, "_dmarc.xn--bcher-kva.example");

	/* The root. */
	put_hdr(&m, 1, 0, 1, 0, 0, 0);
	put_question(&m, "", 2);
	assert_int_equal(query(&m, &q, &id), 0);
	assert_string_equal(q.name, "");
}

/* A query for a name of exactly n text characters: "a.a...a", the first
 * label "aa" when n is even. */
static void long_query(struct msg *m, size_t n)
{
	char name[300];

	for (size_t i = 0; i < n; i++)
		name[n - 1 - i] = i % 2 ? '.' : 'a';
	name[0] = 'a';
	name[n] = 0;
	put_hdr(m, 1, 0, 1, 0, 0, 0);
	put_question(m, name, 1);
}

static void test_query_bad(void **state)
{
	static const char *bad_labels[] = {"a*b", "a b",  "a\x80",
					   "a/b", "a\\b", "a@b"};
	struct aw_dns_question q = {"untouched"};
	uint16_t id = 7;
	struct msg m;

	for (size_t i = 0; i < sizeof(bad_labels) / sizeof(*bad_labels); i++) {
		put_hdr(&m, 1, 0, 1, 0, 0, 0);
		put_question(&m, bad_labels[i], 1);
		assert_err(query(&m, &q, &id), -EINVAL);
		assert_non_null(strstr(err, "offset 14:"));
	}
	/* A dot inside a label. */
	put_hdr(&m, 1, 0, 1, 0, 0, 0);
	put8(&m, 3);
	put_bytes(&m, "a.b", 3);
	put8(&m, 0);
	put32(&m, 0x00010001);
	assert_err(query(&m, &q, &id), -EINVAL);

	/* Compression. */
	put_hdr(&m, 1, 0, 1, 0, 0, 0);
	put8(&m, 1);
	put8(&m, 'a');
	put_ptr(&m, 12);
	put32(&m, 0x00010001);
	assert_err(query(&m, &q, &id), -EBADMSG);
	assert_non_null(strstr(err, "compression"));

	/* Label length byte 64. */
	put_hdr(&m, 1, 0, 1, 0, 0, 0);
	put8(&m, 64);
	for (int i = 0; i < 64; i++)
		put8(&m, 'a');
	put8(&m, 0);
	put32(&m, 0x00010001);
	assert_err(query(&m, &q, &id), -EBADMSG);

	/* 253 characters fit, 254 do not. */
	long_query(&m, 253);
	assert_int_equal(query(&m, &q, &id), 0);
	assert_int_equal(strlen(q.name), 253);
	long_query(&m, 254);
	assert_err(query(&m, &q, &id), -EINVAL);
	strcpy(q.name, "untouched");

	/* Header: QDCOUNT 2 and 0, QR=1, opcode, other counts. */
	put_hdr(&m, 1, 0, 2, 0, 0, 0);
	put_question(&m, "a.com", 1);
	put_question(&m, "b.com", 1);
	assert_err(query(&m, &q, &id), -EBADMSG);
	set_count(&m, 0, 0);
	assert_err(query(&m, &q, &id), -EBADMSG);
	put_hdr(&m, 1, 0x8000, 1, 0, 0, 0);
	put_question(&m, "a.com", 1);
	assert_err(query(&m, &q, &id), -EBADMSG);
	m.b[2] = 0x28; /* opcode 5, UPDATE */
	assert_err(query(&m, &q, &id), -EBADMSG);
	m.b[2] = 0;
	assert_int_equal(query(&m, &q, &id), 0);
	for (int c = 1; c <= 3; c++) {
		set_count(&m, c, c == 3 ? 2 : 1);
		assert_err(query(&m, &q, &id), -EBADMSG);
		set_count(&m, c, 0);
	}
	/* ARCOUNT 1 that is not an OPT record. */
	set_count(&m, 3, 1);
	rr_a(&m, "a.com", 5, 1, 2, 3, 4);
	assert_err(query(&m, &q, &id), -EBADMSG);

	/* EDNS records that are not: cut short, another type at the
	 * root, data past the end. */
	put_hdr(&m, 1, 0, 1, 0, 0, 1);
	put_question(&m, "a.com", 1);
	put_bytes(&m, "\0\0\x29", 3);
	assert_err(query(&m, &q, &id), -EBADMSG);
	put_hdr(&m, 1, 0, 1, 0, 0, 1);
	put_question(&m, "a.com", 1);
	put8(&m, 0);
	put_rr_tail(&m, AW_DNS_A, 1, 0, "\1\2\3\4", 4);
	assert_err(query(&m, &q, &id), -EBADMSG);
	assert_non_null(strstr(err, "not OPT"));
	put_hdr(&m, 1, 0, 1, 0, 0, 1);
	put_question(&m, "a.com", 1);
	put8(&m, 0);
	put_rr_tail(&m, 41, 1232, 0, "\0\x0a\0\x08", 4);
	m.b[m.len - 5] = 10;
	assert_err(query(&m, &q, &id), -EBADMSG);

	/* Trailing bytes and every truncation. */
	put_hdr(&m, 1, 0, 1, 0, 0, 0);
	put_question(&m, "a.com", 1);
	for (size_t l = 0; l < m.len; l++)
		assert_int_equal(aw_dns_parse_query(m.b, l, &q, &id, NULL, 0),
				 -EBADMSG);
	put8(&m, 0);
	assert_err(query(&m, &q, &id), -EBADMSG);

	/* Nothing written on failure. */
	assert_string_equal(q.name, "a.com");
	assert_int_equal(id, 1);
}

static void test_name_normalize(void **state)
{
	char out[AW_DNS_NAME_MAX + 1], big[300];

#define NORM_OK(in, wild, want)                                                \
	do {                                                                   \
		assert_int_equal(                                              \
		    aw_dns_name_normalize(in, out, sizeof(out), wild), 0);     \
		assert_string_equal(out, want);                                \
	} while (0)
#define NORM_ERR(in, wild, e)                                                  \
	assert_int_equal(aw_dns_name_normalize(in, out, sizeof(out), wild), e)

	NORM_OK("example.com", 0, "example.com");
	NORM_OK("example.com.", 0, "example.com");
	NORM_OK("ExAmPle.COM.", 0, "example.com");
	NORM_OK("xn--bcher-kva.example", 0, "xn--bcher-kva.example");
	NORM_OK("_acme-challenge.example.com", 0,
		"_acme-challenge.example.com");
	NORM_OK("localhost", 0, "localhost");
	NORM_OK("*.Example.com.", 1, "*.example.com");

	NORM_ERR("bücher.example", 0, -EILSEQ);
	NORM_ERR("\xff.example", 1, -EILSEQ);
	NORM_ERR("", 0, -EINVAL);
	NORM_ERR(".", 0, -EINVAL);
	NORM_ERR("example.com..", 0, -EINVAL);
	NORM_ERR(".example.com", 0, -EINVAL);
	NORM_ERR("a..b", 0, -EINVAL);
	NORM_ERR("a b.com", 0, -EINVAL);
	NORM_ERR("a/b.com", 0, -EINVAL);

	memset(big, 'a', 64);
	strcpy(big + 64, ".com");
	NORM_ERR(big, 0, -EINVAL);
	NORM_OK(big + 1, 0, big + 1);

	/* 253 characters are the limit, with or without the dot. */
	for (int i = 0; i < 254; i++)
		big[i] = i % 2 ? '.' : 'a';
	big[253] = 0;
	NORM_OK(big, 0, big);
	big[253] = '.';
	big[254] = 0;
	assert_int_equal(aw_dns_name_normalize(big, out, sizeof(out), 0), 0);
	assert_int_equal(strlen(out), 253);
	big[253] = 'a';
	NORM_ERR(big, 0, -EINVAL);

	/* Wildcards: a leading "*." with two labels after, only there. */
	NORM_ERR("*.example.com", 0, -EINVAL);
	NORM_ERR("*.com", 1, -EINVAL);
	NORM_ERR("*.com.", 1, -EINVAL);
	NORM_ERR("*", 1, -EINVAL);
	NORM_ERR("*.", 1, -EINVAL);
	NORM_ERR("a.*.com", 1, -EINVAL);
	NORM_ERR("*a.example.com", 1, -EINVAL);
	NORM_ERR("*.*.example.com", 1, -EINVAL);
	NORM_ERR("example.*", 1, -EINVAL);

	/* Room, and in place. */
	assert_int_equal(aw_dns_name_normalize("Ab.c", out, 4, 0), -ENOBUFS);
	assert_int_equal(aw_dns_name_normalize("Ab.c", out, 5, 0), 0);
	strcpy(big, "WWW.Example.ORG.");
	assert_int_equal(aw_dns_name_normalize(big, big, sizeof(big), 0), 0);
	assert_string_equal(big, "www.example.org");
	assert_int_equal(aw_dns_name_normalize(NULL, out, sizeof(out), 0),
			 -EINVAL);
#undef NORM_OK
#undef NORM_ERR
}

static void test_name_match(void **state)
{
	assert_true(aw_dns_name_match("example.com", "example.com"));
	assert_false(aw_dns_name_match("example.com", "a.example.com"));
	assert_false(aw_dns_name_match("example.com", "example.co"));
	assert_false(aw_dns_name_match("a.example.com", "example.com"));

	assert_true(aw_dns_name_match("*.example.com", "a.example.com"));
	assert_true(aw_dns_name_match("*.example.com", "a.b.example.com"));
	assert_true(aw_dns_name_match("*.example.com", "A.Example.COM"));
	assert_false(aw_dns_name_match("*.example.com", "example.com"));
	assert_false(aw_dns_name_match("*.example.com", ".example.com"));
	assert_false(aw_dns_name_match("*.example.com", "evil-example.com"));
	assert_false(aw_dns_name_match("*.example.com", "xexample.com"));
	assert_false(
	    aw_dns_name_match("*.example.com", "example.com.evil.net"));
	assert_false(
	    aw_dns_name_match("*.example.com", "a.example.com.evil.net"));
	assert_false(aw_dns_name_match("*.example.com", "example.comx"));
	assert_false(aw_dns_name_match("*.example.com", ""));
	/* A wildcard is not a name. */
	assert_false(aw_dns_name_match("a.example.com", "*.example.com"));

	assert_false(aw_dns_name_match("", ""));
	assert_false(aw_dns_name_match("", "example.com"));
	assert_false(aw_dns_name_match("*.", "a."));
	assert_false(aw_dns_name_match(NULL, "a"));
	assert_false(aw_dns_name_match("a", NULL));
}

static void test_build_error(void **state)
{
	struct aw_dns_question q;
	struct aw_dns_addr addrs[1];
	uint8_t out[512];
	unsigned rcode = 99;
	uint16_t id;
	struct msg m;
	int len;

	/* A query with EDNS and mixed case: the reply keeps the question as
	 * sent and drops the OPT record. */
	put_hdr(&m, 0xabcd, 0x0110, 1, 0, 0, 1);
	put_question(&m, "Evil.Example", AW_DNS_A);
	put8(&m, 0);
	put_rr_tail(&m, 41, 1232, 0, NULL, 0);
	assert_int_equal(query(&m, &q, &id), 0);
	len = aw_dns_build_error(m.b, m.len, AW_DNS_REFUSED, out, sizeof(out));
	assert_int_equal(len, 12 + 14 + 4);
	assert_int_equal(aw_dns_get_id(out, len), 0xabcd);
	assert_int_equal(out[2], 0x81); /* QR, RD */
	assert_int_equal(out[3], 0x85); /* RA, REFUSED */
	assert_memory_equal(out + 4, "\x00\x01\x00\x00\x00\x00\x00\x00", 8);
	assert_memory_equal(out + 12, m.b + 12, 18);
	err[0] = 0;
	assert_int_equal(aw_dns_parse_response(out, len, &q, addrs, 1, &rcode,
					       err, sizeof(err)),
			 0);
	assert_int_equal(rcode, AW_DNS_REFUSED);

	/* RD clear stays clear. */
	m.b[2] = 0;
	len = aw_dns_build_error(m.b, m.len, AW_DNS_SERVFAIL, out, sizeof(out));
	assert_int_equal(out[2], 0x80);
	assert_int_equal(out[3], 0x82);

	/* Room: exactly enough, one short. */
	assert_int_equal(aw_dns_build_error(m.b, m.len, 2, out, len), len);
	assert_int_equal(aw_dns_build_error(m.b, m.len, 2, out, len - 1),
			 -ENOBUFS);

	/* A question parse_query refuses is still echoed. */
	put_hdr(&m, 2, 0x0100, 1, 0, 0, 0);
	put_question(&m, "bad*name.com", AW_DNS_A);
	assert_int_equal(query(&m, &q, &id), -EINVAL);
	len = aw_dns_build_error(m.b, m.len, AW_DNS_REFUSED, out, sizeof(out));
	assert_int_equal(len, m.len);
	assert_int_equal(out[5], 1);

	/* Unreadable questions are dropped: FORMERR with QDCOUNT 0. */
	put_hdr(&m, 3, 0x0100, 1, 0, 0, 0);
	put8(&m, 1);
	put8(&m, 'a');
	put_ptr(&m, 12);
	put32(&m, 0x00010001);
	len = aw_dns_build_error(m.b, m.len, AW_DNS_FORMERR, out, sizeof(out));
	assert_int_equal(len, 12);
	assert_int_equal(out[5], 0);
	assert_int_equal(out[3], 0x81);
	len = aw_dns_build_error(m.b, 14, AW_DNS_FORMERR, out, sizeof(out));
	assert_int_equal(len, 12);
	set_count(&m, 0, 2);
	assert_int_equal(aw_dns_build_error(m.b, m.len, 1, out, sizeof(out)),
			 12);

	/* No header to copy, an rcode out of range. */
	assert_int_equal(aw_dns_build_error(m.b, 11, 5, out, sizeof(out)),
			 -EBADMSG);
	assert_int_equal(aw_dns_build_error(m.b, m.len, 16, out, sizeof(out)),
			 -EINVAL);

	/* In place. */
	put_hdr(&m, 4, 0x0100, 1, 0, 0, 0);
	put_question(&m, "a.com", AW_DNS_A);
	len = aw_dns_build_error(m.b, m.len, 5, m.b, sizeof(m.b));
	assert_int_equal(len, m.len);
	assert_int_equal(m.b[3], 0x85);
}

static void test_build_query(void **state)
{
	struct aw_dns_question q;
	uint8_t out[512];
	uint16_t id = 0;
	int len;

	len = aw_dns_build_query("Registry.NPMJS.org.", AW_DNS_AAAA, 0x4242,
				 out, sizeof(out));
	assert_int_equal(len, 12 + 20 + 4);
	assert_int_equal(out[2], 0x01); /* RD */
	assert_int_equal(out[3], 0);
	assert_int_equal(
	    aw_dns_parse_query(out, len, &q, &id, err, sizeof(err)), 0);
	assert_string_equal(q.name, "registry.npmjs.org");
	assert_int_equal(q.qtype, AW_DNS_AAAA);
	assert_int_equal(q.qclass, 1);
	assert_int_equal(id, 0x4242);

	len = aw_dns_build_query("", AW_DNS_A, 1, out, sizeof(out));
	assert_int_equal(len, 17);
	assert_int_equal(aw_dns_parse_query(out, len, &q, &id, NULL, 0), 0);
	assert_string_equal(q.name, "");

	assert_int_equal(aw_dns_build_query("a..b", 1, 1, out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(aw_dns_build_query("*.a.b", 1, 1, out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(aw_dns_build_query("ü.de", 1, 1, out, sizeof(out)),
			 -EILSEQ);
	assert_int_equal(aw_dns_build_query("a.com", 1, 1, out, 20), -ENOBUFS);
	assert_int_equal(aw_dns_build_query("a.com", 1, 1, out, 23), 23);
}

/* A client's query as a tunnel would write it: mixed case, every header
 * flag it may set, an EDNS record with a payload size and an option. */
static void tunnel_query(struct msg *m, const char *name, uint16_t qtype,
			 uint16_t udp, int with_opt)
{
	put_hdr(m, 0xbeef, 0x0130 /* RD, AD, CD */, 1, 0, 0, with_opt ? 1 : 0);
	put_name(m, name);
	put16(m, qtype);
	put16(m, 1);
	if (with_opt) {
		put8(m, 0);	  /* root */
		put16(m, 41);	  /* OPT */
		put16(m, udp);	  /* payload size */
		put32(m, 0x8000); /* DO */
		put16(m, 4 + 6);  /* RDLENGTH */
		put16(m, 65001);  /* an option code */
		put16(m, 6);	  /* its length */
		put_bytes(m, "SECRET", 6);
	}
}

static void test_normalize_query(void **state)
{
	struct msg m, want;
	struct aw_dns_question q;
	uint8_t out[512];
	uint16_t id;
	int len;

	/* Case, flags and the EDNS option go; the question stays. */
	tunnel_query(&m, "aPi.OpEnAi.CoM", AW_DNS_A, 4000, 1);
	len = aw_dns_normalize_query(m.b, m.len, 0x1111, out, sizeof(out));
	put_hdr(&want, 0x1111, 0x0100, 1, 0, 0, 1);
	put_question(&want, "api.openai.com", AW_DNS_A);
	put8(&want, 0);
	put16(&want, 41);
	put16(&want, 1232); /* capped: the client's 4000 is not passed on */
	put32(&want, 0);    /* no DO, version 0 */
	put16(&want, 0);    /* no options */
	assert_int_equal(len, (int)want.len);
	assert_memory_equal(out, want.b, want.len);
	assert_null(memmem(out, (size_t)len, "SECRET", 6));
	assert_int_equal(aw_dns_parse_query(out, len, &q, &id, NULL, 0), 0);
	assert_string_equal(q.name, "api.openai.com");

	/* A small payload size says 512, whatever the exact value. */
	tunnel_query(&m, "a.example.com", AW_DNS_AAAA, 1231, 1);
	len = aw_dns_normalize_query(m.b, m.len, 1, out, sizeof(out));
	assert_true(len > 0);
	assert_int_equal((out[len - 8] << 8) | out[len - 7], 512);
	tunnel_query(&m, "a.example.com", AW_DNS_AAAA, 600, 1);
	assert_int_equal(aw_dns_normalize_query(m.b, m.len, 1, want.b, 512),
			 len);
	assert_memory_equal(out, want.b, (size_t)len);

	/* Without EDNS: no OPT record added. */
	tunnel_query(&m, "A.EXAMPLE.COM", AW_DNS_A, 0, 0);
	len = aw_dns_normalize_query(m.b, m.len, 7, out, sizeof(out));
	put_hdr(&want, 7, 0x0100, 1, 0, 0, 0);
	put_question(&want, "a.example.com", AW_DNS_A);
	assert_int_equal(len, (int)want.len);
	assert_memory_equal(out, want.b, want.len);

	/* Types outside the list, other classes: not forwarded. */
	tunnel_query(&m, "a.example.com", 0x1234, 0, 0);
	assert_int_equal(aw_dns_normalize_query(m.b, m.len, 1, out, 512),
			 -EOPNOTSUPP);
	tunnel_query(&m, "a.example.com", 255 /* ANY */, 0, 0);
	assert_int_equal(aw_dns_normalize_query(m.b, m.len, 1, out, 512),
			 -EOPNOTSUPP);
	tunnel_query(&m, "a.example.com", AW_DNS_A, 0, 0);
	m.b[m.len - 1] = 3; /* class CH */
	assert_int_equal(aw_dns_normalize_query(m.b, m.len, 1, out, 512),
			 -EOPNOTSUPP);
	for (uint16_t t = 0; t < 300; t++)
		assert_int_equal(aw_dns_qtype_forwarded(t),
				 t == 1 || t == 2 || t == 5 || t == 6 ||
				     t == 12 || t == 15 || t == 16 || t == 28 ||
				     t == 33 || t == 64 || t == 65 || t == 257);

	/* What parse_query refuses is refused here. */
	tunnel_query(&m, "a.example.com", AW_DNS_A, 0, 0);
	assert_int_equal(aw_dns_normalize_query(m.b, m.len - 1, 1, out, 512),
			 -EBADMSG);
	tunnel_query(&m, "a b.example.com", AW_DNS_A, 0, 0);
	assert_int_equal(aw_dns_normalize_query(m.b, m.len, 1, out, 512),
			 -EINVAL);
	tunnel_query(&m, "a.example.com", AW_DNS_A, 4000, 1);
	assert_int_equal(aw_dns_normalize_query(m.b, m.len, 1, out, 20),
			 -ENOBUFS);
}

static void test_restore_question(void **state)
{
	struct msg ans, qry, other;

	tunnel_query(&qry, "aPi.OpEnAi.CoM", AW_DNS_A, 0, 0);
	response(&ans, "api.openai.com", AW_DNS_A, 1);
	put_ptr(&ans, 12);
	put_rr_tail(&ans, AW_DNS_A, 1, 60, "\x01\x02\x03\x04", 4);
	other = ans;
	assert_int_equal(
	    aw_dns_restore_question(ans.b, ans.len, qry.b, qry.len), 0);
	/* The question bytes are the client's; the rest is untouched. */
	assert_memory_equal(ans.b + 12, qry.b + 12, 16);
	assert_memory_equal(ans.b + 28, other.b + 28, ans.len - 28);
	assert_memory_equal(ans.b, other.b, 12);
	/* Another name (not only its case): nothing happens. */
	tunnel_query(&qry, "api.openai.org", AW_DNS_A, 0, 0);
	other = ans;
	assert_int_equal(
	    aw_dns_restore_question(ans.b, ans.len, qry.b, qry.len), -EPROTO);
	assert_memory_equal(ans.b, other.b, ans.len);
	tunnel_query(&qry, "api.openai.co", AW_DNS_A, 0, 0);
	assert_int_equal(
	    aw_dns_restore_question(ans.b, ans.len, qry.b, qry.len), -EPROTO);
	/* No question in the answer (QDCOUNT 0): nothing. */
	set_count(&ans, 0, 0);
	assert_int_equal(
	    aw_dns_restore_question(ans.b, ans.len, qry.b, qry.len), -EPROTO);
	assert_int_equal(aw_dns_restore_question(ans.b, 11, qry.b, qry.len),
			 -EPROTO);
}

static void test_id(void **state)
{
	uint8_t m[12] = {0x12, 0x34};

	assert_int_equal(aw_dns_get_id(m, sizeof(m)), 0x1234);
	assert_int_equal(aw_dns_get_id(m, 1), 0);
	aw_dns_set_id(m, sizeof(m), 0xfedc);
	assert_int_equal(m[0], 0xfe);
	assert_int_equal(m[1], 0xdc);
	aw_dns_set_id(m, 1, 0);
	assert_int_equal(m[0], 0xfe);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_response_a),
	    cmocka_unit_test(test_response_aaaa),
	    cmocka_unit_test(test_response_cname_chain),
	    cmocka_unit_test(test_response_cname_loop),
	    cmocka_unit_test(test_response_chain_length),
	    cmocka_unit_test(test_response_pointer_loops),
	    cmocka_unit_test(test_response_pointer_limit),
	    cmocka_unit_test(test_response_truncated),
	    cmocka_unit_test(test_response_lying_counts),
	    cmocka_unit_test(test_response_rdlength),
	    cmocka_unit_test(test_response_ttl),
	    cmocka_unit_test(test_response_case),
	    cmocka_unit_test(test_response_question_mismatch),
	    cmocka_unit_test(test_response_other_owners),
	    cmocka_unit_test(test_response_max),
	    cmocka_unit_test(test_query_ok),
	    cmocka_unit_test(test_query_bad),
	    cmocka_unit_test(test_name_normalize),
	    cmocka_unit_test(test_name_match),
	    cmocka_unit_test(test_build_error),
	    cmocka_unit_test(test_build_query),
	    cmocka_unit_test(test_id),
	    cmocka_unit_test(test_normalize_query),
	    cmocka_unit_test(test_restore_question),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
