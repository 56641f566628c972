// SPDX-License-Identifier: GPL-2.0-only
/*
 * DNS messages (RFC 1035) for the daemon's resolver: parse agents' queries
 * and upstream answers, build error replies and the daemon's own queries,
 * normalize and match the names policies allow. See dns.h for the rules.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/dns.h"
#include "shared/util.h"

#define HDR_LEN 12
#define WIRE_MAX 255 /* a name in wire form, the root label included */
#define LABEL_MAX 63
#define PTR_MAX 128 /* compression pointers followed per name */
#define RR_FIXED 10 /* type, class, ttl, rdlength after the owner */
#define TYPE_OPT 41
#define CLASS_IN 1

/* Header flag bits (the 16-bit word at offset 2). */
#define F_QR 0x8000
#define F_OPCODE 0x7800
#define F_RD 0x0100
#define F_RA 0x0080
#define F_RCODE 0x000f

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint8_t ascii_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 'a' - 'A') : c;
}

/* Label bytes we serve and accept in policies: LDH plus '_' (SRV-style
 * and DKIM-style names). */
static bool label_byte_ok(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

__attribute__((format(printf, 4, 5))) static int
dns_fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

#define FAIL(r, off, fmt, ...)                                                 \
	dns_fail(err, errlen, r, "offset %zu: " fmt, (size_t)(off),            \
		 ##__VA_ARGS__)

/*
 * Read the name at off of a response into wire (WIRE_MAX bytes), ASCII
 * lowercased, uncompressed; *ret_wlen gets its length, *ret_next the
 * offset after the name where it sits (after its first pointer if it is
 * compressed). Every pointer must point strictly before the byte it is
 * read from and after the header, so no sequence of pointers can loop
 * and each name costs at most PTR_MAX jumps and WIRE_MAX bytes.
 */
static int name_read(const uint8_t *msg, size_t len, size_t off, uint8_t *wire,
		     size_t *ret_wlen, size_t *ret_next, char *err,
		     size_t errlen)
{
	size_t pos = off, wlen = 0, next = 0;
	unsigned jumps = 0;

	for (;;) {
		uint8_t c;

		if (pos >= len)
			return FAIL(-EBADMSG, pos, "name runs past the end");
		c = msg[pos];
		if ((c & 0xc0) == 0xc0) {
			size_t target;

			if (pos + 1 >= len)
				return FAIL(-EBADMSG, pos,
					    "compression pointer cut short");
			target = (size_t)(c & 0x3f) << 8 | msg[pos + 1];
			if (target >= pos)
				return FAIL(-EBADMSG, pos,
					    "compression pointer to %zu does "
					    "not point backwards",
					    target);
			if (target < HDR_LEN)
				return FAIL(-EBADMSG, pos,
					    "compression pointer into the "
					    "header");
			if (++jumps > PTR_MAX)
				return FAIL(-EBADMSG, pos,
					    "more than %d compression pointers "
					    "in one name",
					    PTR_MAX);
			if (!next)
				next = pos + 2;
			pos = target;
			continue;
		}
		if (c & 0xc0)
			return FAIL(-EBADMSG, pos,
				    "label length byte 0x%02x (over 63 or an "
				    "extended label type)",
				    c);
		if (c == 0) {
			wire[wlen++] = 0;
			break;
		}
		if (pos + 1 + c > len)
			return FAIL(-EBADMSG, pos, "label runs past the end");
		/* Room for this label and the root label after it. */
		if (wlen + 1 + c + 1 > WIRE_MAX)
			return FAIL(-EBADMSG, pos, "name longer than %d bytes",
				    WIRE_MAX);
		wire[wlen++] = c;
		for (unsigned i = 1; i <= c; i++)
			wire[wlen++] = ascii_lower(msg[pos + i]);
		pos += 1 + c;
	}
	*ret_wlen = wlen;
	*ret_next = next ? next : pos + 1;
	return 0;
}

/* A text name (q->name: no trailing dot, "" the root) into wire form,
 * lowercased. Structure only: the bytes of a label are not judged. */
static int text_to_wire(const char *name, uint8_t *wire, size_t *ret_wlen)
{
	size_t wlen = 0;
	const char *p = name;

	if (*p) {
		for (;;) {
			const char *dot = strchr(p, '.');
			size_t n = dot ? (size_t)(dot - p) : strlen(p);

			if (n == 0 || n > LABEL_MAX ||
			    wlen + 1 + n + 1 > WIRE_MAX)
				return -EINVAL;
			wire[wlen++] = (uint8_t)n;
			for (size_t i = 0; i < n; i++)
				wire[wlen++] = ascii_lower((uint8_t)p[i]);
			if (!dot)
				break;
			p = dot + 1;
		}
	}
	wire[wlen++] = 0;
	*ret_wlen = wlen;
	return 0;
}

/* FNV-1a over a lowercased wire name: a cheap first comparison. */
static uint64_t wire_hash(const uint8_t *wire, size_t wlen)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < wlen; i++) {
		h ^= wire[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/*
 * The question of a query at off: plain labels only (a pointer at offset
 * 12 could only point into the header anyway). With text, the name is
 * checked against the label byte set and written as normalized text;
 * without, only its end is found (build_error copies what was sent).
 * *ret_next gets the offset after the name.
 */
static int query_name(const uint8_t *msg, size_t len, size_t off, char *text,
		      size_t *ret_next, char *err, size_t errlen)
{
	size_t pos = off, tlen = 0;

	for (;;) {
		uint8_t c;

		if (pos >= len)
			return FAIL(-EBADMSG, pos, "name runs past the end");
		c = msg[pos];
		if ((c & 0xc0) == 0xc0)
			return FAIL(-EBADMSG, pos, "compression in a query");
		if (c & 0xc0)
			return FAIL(-EBADMSG, pos,
				    "label length byte 0x%02x (over 63 or an "
				    "extended label type)",
				    c);
		if (c == 0)
			break;
		if (pos + 1 + c > len)
			return FAIL(-EBADMSG, pos, "label runs past the end");
		/* Text length: a dot before every label but the first. */
		if (tlen + (tlen ? 1 : 0) + c > AW_DNS_NAME_MAX)
			return FAIL(text ? -EINVAL : -EBADMSG, pos,
				    "name longer than %d characters",
				    AW_DNS_NAME_MAX);
		if (text) {
			if (tlen)
				text[tlen++] = '.';
			for (unsigned i = 1; i <= c; i++) {
				uint8_t b = msg[pos + i];

				if (!label_byte_ok(b))
					return FAIL(
					    -EINVAL, pos + i,
					    "byte 0x%02x in a label "
					    "(allowed: A-Z a-z 0-9 - _)",
					    b);
				text[tlen++] = (char)ascii_lower(b);
			}
		} else {
			tlen += (tlen ? 1 : 0) + c;
		}
		pos += 1 + c;
	}
	if (text)
		text[tlen] = 0;
	*ret_next = pos + 1;
	return 0;
}

int aw_dns_parse_query(const uint8_t *msg, size_t len,
		       struct aw_dns_question *ret_q, uint16_t *ret_id,
		       char *err, size_t errlen)
{
	struct aw_dns_question q = {};
	uint16_t flags, ar;
	size_t pos;
	int r;

	if (!msg)
		return FAIL(-EINVAL, 0, "no message");
	if (len > AW_DNS_MSG_MAX)
		return FAIL(-EBADMSG, AW_DNS_MSG_MAX,
			    "message longer than %d bytes", AW_DNS_MSG_MAX);
	if (len < HDR_LEN)
		return FAIL(-EBADMSG, len, "header cut short (%zu bytes)", len);
	flags = rd16(msg + 2);
	if (flags & F_QR)
		return FAIL(-EBADMSG, 2, "QR set: a response, not a query");
	if (flags & F_OPCODE)
		return FAIL(-EBADMSG, 2, "opcode %u, not QUERY",
			    (flags & F_OPCODE) >> 11);
	if (rd16(msg + 4) != 1)
		return FAIL(-EBADMSG, 4, "QDCOUNT %u, not 1", rd16(msg + 4));
	if (rd16(msg + 6) != 0)
		return FAIL(-EBADMSG, 6, "ANCOUNT %u in a query",
			    rd16(msg + 6));
	if (rd16(msg + 8) != 0)
		return FAIL(-EBADMSG, 8, "NSCOUNT %u in a query",
			    rd16(msg + 8));
	ar = rd16(msg + 10);
	if (ar > 1)
		return FAIL(-EBADMSG, 10,
			    "ARCOUNT %u, more than an EDNS record", ar);

	r = query_name(msg, len, HDR_LEN, q.name, &pos, err, errlen);
	if (r < 0)
		return r;
	if (len - pos < 4)
		return FAIL(-EBADMSG, pos, "question type and class cut short");
	q.qtype = rd16(msg + pos);
	q.qclass = rd16(msg + pos + 2);
	pos += 4;

	if (ar) {
		/* EDNS (RFC 6891): root owner, type OPT; the UDP size, the
		 * extended flags and the options are not used. */
		size_t rdlen;

		if (len - pos < 1 + RR_FIXED)
			return FAIL(-EBADMSG, pos,
				    "additional record cut short");
		if (msg[pos] != 0)
			return FAIL(-EBADMSG, pos,
				    "additional record is not EDNS (owner not "
				    "the root)");
		if (rd16(msg + pos + 1) != TYPE_OPT)
			return FAIL(-EBADMSG, pos + 1,
				    "additional record of type %u, not OPT",
				    rd16(msg + pos + 1));
		rdlen = rd16(msg + pos + 9);
		pos += 1 + RR_FIXED;
		if (len - pos < rdlen)
			return FAIL(-EBADMSG, pos,
				    "OPT data runs past the end");
		pos += rdlen;
	}
	if (pos != len)
		return FAIL(-EBADMSG, pos, "%zu byte(s) after the last record",
			    len - pos);

	*ret_q = q;
	*ret_id = rd16(msg);
	return 0;
}

/* An answer-section record that may matter for the chain. */
struct rr_ref {
	uint64_t hash;	/* of the owner's wire form */
	uint32_t owner; /* offset of the owner name */
	uint32_t rdata; /* offset of the RDATA */
	uint32_t ttl;	/* top bit already cleared to 0 */
	uint16_t type;
	uint16_t rdlen;
};

/* Is the owner of rr equal to wire? Hash first, then the bytes. */
static bool rr_owned_by(const uint8_t *msg, size_t len, const struct rr_ref *rr,
			const uint8_t *wire, size_t wlen, uint64_t hash)
{
	uint8_t owner[WIRE_MAX];
	size_t olen, next;

	if (rr->hash != hash)
		return false;
	if (name_read(msg, len, rr->owner, owner, &olen, &next, NULL, 0) < 0)
		return false;
	return olen == wlen && memcmp(owner, wire, wlen) == 0;
}

/* Add an address, or raise the TTL of the same one already there. */
static int addr_add(struct aw_dns_addr *addrs, size_t max, size_t *n,
		    int family, const uint8_t *a, size_t alen, uint32_t ttl)
{
	struct aw_dns_addr *x;

	for (size_t i = 0; i < *n; i++) {
		x = &addrs[i];
		if (x->family == family && memcmp(x->addr, a, alen) == 0) {
			if (ttl > x->ttl)
				x->ttl = ttl;
			return 0;
		}
	}
	if (*n >= max)
		return -E2BIG;
	x = &addrs[(*n)++];
	memset(x, 0, sizeof(*x));
	x->family = family;
	memcpy(x->addr, a, alen);
	x->ttl = ttl;
	return 0;
}

static uint32_t min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

int aw_dns_parse_response(const uint8_t *msg, size_t len,
			  const struct aw_dns_question *q,
			  struct aw_dns_addr *addrs, size_t max,
			  unsigned *ret_rcode, char *err, size_t errlen)
{
	/* The chain: q->name, then each CNAME target, with the smallest
	 * CNAME TTL on the way to it. */
	uint8_t chain[AW_DNS_CHAIN_MAX + 1][WIRE_MAX];
	size_t chain_len[AW_DNS_CHAIN_MAX + 1];
	uint32_t chain_ttl[AW_DNS_CHAIN_MAX + 1];
	uint64_t chain_hash[AW_DNS_CHAIN_MAX + 1];
	_cleanup_free_ struct rr_ref *rrs = NULL;
	uint8_t wire[WIRE_MAX];
	size_t wlen, pos, n_rrs = 0, n_chain, n_addrs = 0;
	unsigned counts[3];
	uint16_t flags;
	int r;

	if (!msg || !q)
		return FAIL(-EINVAL, 0, "no message or question");
	if (len > AW_DNS_MSG_MAX)
		return FAIL(-EBADMSG, AW_DNS_MSG_MAX,
			    "message longer than %d bytes", AW_DNS_MSG_MAX);
	if (len < HDR_LEN)
		return FAIL(-EBADMSG, len, "header cut short (%zu bytes)", len);
	if (memchr(q->name, 0, sizeof(q->name)) == NULL ||
	    text_to_wire(q->name, chain[0], &chain_len[0]) < 0)
		return FAIL(-EINVAL, 0, "the question asked is not a name");
	flags = rd16(msg + 2);
	if (!(flags & F_QR))
		return FAIL(-EPROTO, 2, "QR clear: a query, not a response");
	if (flags & F_OPCODE)
		return FAIL(-EPROTO, 2, "opcode %u, not QUERY",
			    (flags & F_OPCODE) >> 11);
	if (rd16(msg + 4) != 1)
		return FAIL(-EPROTO, 4, "QDCOUNT %u, not 1", rd16(msg + 4));
	counts[0] = rd16(msg + 6);
	counts[1] = rd16(msg + 8);
	counts[2] = rd16(msg + 10);

	r = name_read(msg, len, HDR_LEN, wire, &wlen, &pos, err, errlen);
	if (r < 0)
		return r;
	if (len - pos < 4)
		return FAIL(-EBADMSG, pos, "question type and class cut short");
	if (wlen != chain_len[0] || memcmp(wire, chain[0], wlen) != 0)
		return FAIL(-EPROTO, HDR_LEN, "answer to another name");
	if (rd16(msg + pos) != q->qtype || rd16(msg + pos + 2) != q->qclass)
		return FAIL(-EPROTO, pos, "answer to another type or class");
	pos += 4;

	/* Each record takes at least 11 bytes (root owner, fixed part): a
	 * count that cannot fit is refused before anything is allocated. */
	if ((size_t)(counts[0] + counts[1] + counts[2]) * (1 + RR_FIXED) >
	    len - pos)
		return FAIL(-EBADMSG, 6,
			    "counts (%u, %u, %u) promise more records than "
			    "the %zu bytes left hold",
			    counts[0], counts[1], counts[2], len - pos);
	if (counts[0]) {
		rrs = calloc(counts[0], sizeof(*rrs));
		if (!rrs)
			return FAIL(-ENOMEM, 0, "out of memory");
	}

	for (unsigned sec = 0; sec < 3; sec++) {
		for (unsigned i = 0; i < counts[sec]; i++) {
			size_t owner = pos, rdlen;
			uint16_t type, class;
			uint32_t ttl;

			r = name_read(msg, len, pos, wire, &wlen, &pos, err,
				      errlen);
			if (r < 0)
				return r;
			if (len - pos < RR_FIXED)
				return FAIL(-EBADMSG, pos, "record cut short");
			type = rd16(msg + pos);
			class = rd16(msg + pos + 2);
			ttl = rd32(msg + pos + 4);
			rdlen = rd16(msg + pos + 8);
			pos += RR_FIXED;
			if (len - pos < rdlen)
				return FAIL(-EBADMSG, pos,
					    "RDATA of %zu bytes runs past the "
					    "end",
					    rdlen);
			/* RFC 2181 section 8: a TTL with the top bit set is
			 * to be taken as 0. */
			if (ttl & 0x80000000u)
				ttl = 0;
			if (class == CLASS_IN &&
			    ((type == AW_DNS_A && rdlen != 4) ||
			     (type == AW_DNS_AAAA && rdlen != 16)))
				return FAIL(-EBADMSG, pos - 2,
					    "RDLENGTH %zu for a%s record",
					    rdlen,
					    type == AW_DNS_A ? "n A" : " AAAA");
			if (type == AW_DNS_CNAME && class == CLASS_IN) {
				uint8_t t[WIRE_MAX];
				size_t tlen, end;

				/* The target must fill RDATA exactly. */
				r = name_read(msg, len, pos, t, &tlen, &end,
					      err, errlen);
				if (r < 0)
					return r;
				if (end != pos + rdlen)
					return FAIL(-EBADMSG, pos,
						    "CNAME target does not "
						    "fill its RDATA");
			}
			if (sec == 0 && class == CLASS_IN &&
			    (type == AW_DNS_A || type == AW_DNS_AAAA ||
			     type == AW_DNS_CNAME))
				rrs[n_rrs++] = (struct rr_ref){
				    .hash = wire_hash(wire, wlen),
				    .owner = (uint32_t)owner,
				    .rdata = (uint32_t)pos,
				    .ttl = ttl,
				    .type = type,
				    .rdlen = (uint16_t)rdlen,
				};
			pos += rdlen;
		}
	}
	if (pos != len)
		return FAIL(-EBADMSG, pos, "%zu byte(s) after the last record",
			    len - pos);

	/* Follow the CNAMEs from q->name. */
	chain_ttl[0] = UINT32_MAX;
	chain_hash[0] = wire_hash(chain[0], chain_len[0]);
	n_chain = 1;
	for (;;) {
		size_t k = n_chain - 1, tlen = 0, end;
		const struct rr_ref *cname = NULL;
		uint32_t ttl = 0;
		uint8_t t[WIRE_MAX];

		for (size_t i = 0; i < n_rrs; i++) {
			const struct rr_ref *rr = &rrs[i];
			uint8_t t2[WIRE_MAX];
			size_t t2len;

			if (rr->type != AW_DNS_CNAME ||
			    !rr_owned_by(msg, len, rr, chain[k], chain_len[k],
					 chain_hash[k]))
				continue;
			if (!cname) {
				cname = rr;
				ttl = rr->ttl;
				(void)name_read(msg, len, rr->rdata, t, &tlen,
						&end, NULL, 0);
				continue;
			}
			/* A name has one CNAME (RFC 2181 section 10.1); the
			 * same one twice is only redundant. */
			(void)name_read(msg, len, rr->rdata, t2, &t2len, &end,
					NULL, 0);
			if (t2len != tlen || memcmp(t, t2, tlen) != 0)
				return FAIL(-EBADMSG, rr->owner,
					    "a second CNAME for one name, to "
					    "another target");
			ttl = min32(ttl, rr->ttl);
		}
		if (!cname)
			break;
		for (size_t i = 0; i < n_chain; i++)
			if (chain_len[i] == tlen &&
			    memcmp(chain[i], t, tlen) == 0)
				return FAIL(-ELOOP, cname->owner, "CNAME loop");
		if (n_chain > AW_DNS_CHAIN_MAX)
			return FAIL(-ELOOP, cname->owner,
				    "CNAME chain longer than %d",
				    AW_DNS_CHAIN_MAX);
		memcpy(chain[n_chain], t, tlen);
		chain_len[n_chain] = tlen;
		chain_hash[n_chain] = wire_hash(t, tlen);
		chain_ttl[n_chain] = min32(chain_ttl[k], ttl);
		n_chain++;
	}

	/* The addresses of every name on the chain. */
	for (size_t k = 0; k < n_chain; k++) {
		for (size_t i = 0; i < n_rrs; i++) {
			const struct rr_ref *rr = &rrs[i];
			int family;

			if (rr->type == AW_DNS_A)
				family = AF_INET;
			else if (rr->type == AW_DNS_AAAA)
				family = AF_INET6;
			else
				continue;
			if (!rr_owned_by(msg, len, rr, chain[k], chain_len[k],
					 chain_hash[k]))
				continue;
			r = addr_add(addrs, max, &n_addrs, family,
				     msg + rr->rdata, rr->rdlen,
				     min32(chain_ttl[k], rr->ttl));
			if (r < 0)
				return FAIL(r, rr->owner,
					    "more than %zu addresses", max);
		}
	}

	if (ret_rcode)
		*ret_rcode = flags & F_RCODE;
	return (int)n_addrs;
}

int aw_dns_build_error(const uint8_t *query, size_t qlen, unsigned rcode,
		       uint8_t *out, size_t outlen)
{
	size_t need = HDR_LEN, qend;
	uint16_t qflags;
	bool has_q = false;

	if (!query || qlen < HDR_LEN)
		return -EBADMSG;
	if (rcode > F_RCODE)
		return -EINVAL;
	if (qlen > AW_DNS_MSG_MAX)
		qlen = AW_DNS_MSG_MAX;
	/* Copy the question only if it can be walked: a FORMERR for a
	 * query we cannot read carries no question. */
	if (rd16(query + 4) == 1 &&
	    query_name(query, qlen, HDR_LEN, NULL, &qend, NULL, 0) == 0 &&
	    qlen - qend >= 4) {
		has_q = true;
		need = qend + 4;
	}
	if (!out || outlen < need)
		return -ENOBUFS;
	qflags = rd16(query + 2);
	if (has_q)
		memmove(out + HDR_LEN, query + HDR_LEN, need - HDR_LEN);
	memmove(out, query, 2);
	wr16(out + 2,
	     (uint16_t)(F_QR | (qflags & (F_OPCODE | F_RD)) | F_RA | rcode));
	wr16(out + 4, has_q ? 1 : 0);
	wr16(out + 6, 0);
	wr16(out + 8, 0);
	wr16(out + 10, 0);
	return (int)need;
}

int aw_dns_build_query(const char *name, uint16_t qtype, uint16_t id,
		       uint8_t *out, size_t outlen)
{
	char norm[AW_DNS_NAME_MAX + 1];
	uint8_t wire[WIRE_MAX];
	size_t wlen, need;
	int r;

	if (!name)
		return -EINVAL;
	if (!name[0] || strcmp(name, ".") == 0) {
		norm[0] = 0;
	} else {
		r = aw_dns_name_normalize(name, norm, sizeof(norm), 0);
		if (r < 0)
			return r;
	}
	if (text_to_wire(norm, wire, &wlen) < 0)
		return -EINVAL;
	need = HDR_LEN + wlen + 4;
	if (!out || outlen < need)
		return -ENOBUFS;
	memset(out, 0, HDR_LEN);
	wr16(out, id);
	wr16(out + 2, F_RD);
	wr16(out + 4, 1);
	memcpy(out + HDR_LEN, wire, wlen);
	wr16(out + HDR_LEN + wlen, qtype);
	wr16(out + HDR_LEN + wlen + 2, CLASS_IN);
	return (int)need;
}

int aw_dns_name_normalize(const char *in, char *out, size_t outlen,
			  int allow_wildcard)
{
	char buf[AW_DNS_NAME_MAX + 1];
	size_t n, i = 0, labels = 0, label_len = 0;

	if (!in)
		return -EINVAL;
	n = strlen(in);
	/* Non-ASCII first: a UTF-8 IDN gets the answer that tells the user
	 * to write it in punycode, whatever else is wrong with it. */
	for (size_t j = 0; j < n; j++)
		if ((unsigned char)in[j] > 0x7f)
			return -EILSEQ;
	if (n && in[n - 1] == '.')
		n--;
	if (n == 0 || n > AW_DNS_NAME_MAX)
		return -EINVAL;
	if (allow_wildcard && n >= 2 && in[0] == '*' && in[1] == '.') {
		buf[0] = '*';
		buf[1] = '.';
		i = 2;
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '.') {
			if (label_len == 0)
				return -EINVAL;
			labels++;
			label_len = 0;
			buf[i] = '.';
			continue;
		}
		if (!label_byte_ok(c))
			return -EINVAL;
		if (++label_len > LABEL_MAX)
			return -EINVAL;
		buf[i] = (char)ascii_lower(c);
	}
	if (label_len == 0)
		return -EINVAL;
	labels++;
	buf[n] = 0;
	/* "*.com" would allow a whole TLD. */
	if (buf[0] == '*' && labels < 2)
		return -EINVAL;
	if (!out || outlen < n + 1)
		return -ENOBUFS;
	memcpy(out, buf, n + 1);
	return 0;
}

static bool ascii_eq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ascii_lower((uint8_t)a[i]) != ascii_lower((uint8_t)b[i]))
			return false;
	return true;
}

int aw_dns_name_match(const char *pattern, const char *name)
{
	size_t plen, nlen;

	if (!pattern || !name || !pattern[0])
		return 0;
	plen = strlen(pattern);
	nlen = strlen(name);
	if (pattern[0] == '*' && pattern[1] == '.') {
		/* The suffix keeps its dot: ".example.com" cannot match
		 * "evil-example.com" or "xexample.com", and the name must
		 * hold at least one character (a label) before it. */
		const char *suffix = pattern + 1;
		size_t slen = plen - 1;

		if (slen < 2 || nlen <= slen || name[0] == '.')
			return 0;
		return ascii_eq(name + nlen - slen, suffix, slen);
	}
	return plen == nlen && ascii_eq(pattern, name, plen);
}

uint16_t aw_dns_get_id(const uint8_t *msg, size_t len)
{
	if (!msg || len < 2)
		return 0;
	return rd16(msg);
}

void aw_dns_set_id(uint8_t *msg, size_t len, uint16_t id)
{
	if (!msg || len < 2)
		return;
	wr16(msg, id);
}

int aw_dns_qtype_forwarded(uint16_t qtype)
{
	switch (qtype) {
	case 1:	  /* A */
	case 2:	  /* NS */
	case 5:	  /* CNAME */
	case 6:	  /* SOA */
	case 12:  /* PTR */
	case 15:  /* MX */
	case 16:  /* TXT */
	case 28:  /* AAAA */
	case 33:  /* SRV */
	case 64:  /* SVCB */
	case 65:  /* HTTPS */
	case 257: /* CAA */
		return 1;
	default:
		return 0;
	}
}

int aw_dns_normalize_query(const uint8_t *query, size_t qlen, uint16_t id,
			   uint8_t *out, size_t outlen)
{
	struct aw_dns_question q;
	uint8_t wire[WIRE_MAX];
	size_t wlen, need, qend, pos;
	unsigned edns = 0;
	uint16_t cid;
	int r;

	r = aw_dns_parse_query(query, qlen, &q, &cid, NULL, 0);
	if (r < 0)
		return r;
	if (q.qclass != CLASS_IN || !aw_dns_qtype_forwarded(q.qtype))
		return -EOPNOTSUPP;
	if (rd16(query + 10)) {
		/* parse_query checked the OPT record: it follows the
		 * question; its CLASS is the UDP payload size. */
		if (query_name(query, qlen, HDR_LEN, NULL, &qend, NULL, 0) < 0)
			return -EBADMSG;
		pos = qend + 4 + 1 + 2;
		edns = rd16(query + pos) >= 1232 ? 1232 : 512;
	}
	if (text_to_wire(q.name, wire, &wlen) < 0)
		return -EINVAL;
	need = HDR_LEN + wlen + 4 + (edns ? 1 + RR_FIXED : 0);
	if (!out || outlen < need)
		return -ENOBUFS;
	memset(out, 0, need);
	wr16(out, id);
	wr16(out + 2, F_RD);
	wr16(out + 4, 1);
	wr16(out + 10, edns ? 1 : 0);
	memcpy(out + HDR_LEN, wire, wlen);
	pos = HDR_LEN + wlen;
	wr16(out + pos, q.qtype);
	wr16(out + pos + 2, CLASS_IN);
	pos += 4;
	if (edns) {
		/* root, TYPE OPT, CLASS = UDP size, TTL 0, RDLENGTH 0 */
		out[pos] = 0;
		wr16(out + pos + 1, TYPE_OPT);
		wr16(out + pos + 3, (uint16_t)edns);
	}
	return (int)need;
}

int aw_dns_restore_question(uint8_t *answer, size_t alen, const uint8_t *query,
			    size_t qlen)
{
	size_t aend, qend;

	if (!answer || !query || alen < HDR_LEN || qlen < HDR_LEN ||
	    rd16(answer + 4) != 1 || rd16(query + 4) != 1)
		return -EPROTO;
	if (query_name(query, qlen, HDR_LEN, NULL, &qend, NULL, 0) < 0 ||
	    query_name(answer, alen, HDR_LEN, NULL, &aend, NULL, 0) < 0 ||
	    aend != qend)
		return -EPROTO;
	for (size_t i = HDR_LEN; i < qend; i++)
		if (ascii_lower(answer[i]) != ascii_lower(query[i]))
			return -EPROTO;
	memcpy(answer + HDR_LEN, query + HDR_LEN, qend - HDR_LEN);
	return 0;
}
