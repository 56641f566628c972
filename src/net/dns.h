/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * DNS messages for the daemon's resolver: agents' queries are parsed and
 * refused or forwarded, the upstream's answers are parsed for the
 * addresses to allow before the answer is handed back.
 *
 * Everything parsed here is hostile: the agent writes the queries, and
 * the answers carry whatever the owner of an allowed zone put in them.
 * So every length is checked against the message, compression pointers
 * may only point backwards (no loops, bounded work), CNAME chains are
 * bounded, and names are compared in wire form (lowercased ASCII), never
 * as text, so that a label holding a '.' cannot pass for two labels.
 *
 * Functions return >= 0 on success and -errno on failure; parsers also
 * write why into err ("offset N: reason") when err is not NULL. Nothing
 * here allocates except aw_dns_parse_response (one array, freed before it
 * returns), logs or keeps state.
 */
#ifndef AW_NET_DNS_H
#define AW_NET_DNS_H

#include <stddef.h>
#include <stdint.h>

#define AW_DNS_NAME_MAX 253 /* text form, no trailing dot */
#define AW_DNS_MSG_MAX 65535
#define AW_DNS_CHAIN_MAX 16 /* CNAME records followed per answer */

/* Wire values (RFC 1035, RFC 3596): never renumber. */
enum { AW_DNS_A = 1, AW_DNS_CNAME = 5, AW_DNS_AAAA = 28 };
enum {
	AW_DNS_NOERROR = 0,
	AW_DNS_FORMERR = 1,
	AW_DNS_SERVFAIL = 2,
	AW_DNS_NXDOMAIN = 3,
	AW_DNS_REFUSED = 5,
};

struct aw_dns_question {
	/* normalized: lowercase ASCII, no trailing dot; "" for the root */
	char name[AW_DNS_NAME_MAX + 1];
	uint16_t qtype, qclass;
};

struct aw_dns_addr {
	int family;	  /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* AF_INET: the 4 bytes first, the rest zero */
	uint32_t ttl;	  /* the smallest TTL along the CNAME chain to it */
};

/*
 * Parse a client's query of len bytes. The header must be that of a plain
 * query: QR=0, OPCODE=0 (QUERY), QDCOUNT=1, ANCOUNT=0, NSCOUNT=0 and
 * ARCOUNT 0, or 1 for an EDNS OPT record (owner the root, type 41; its
 * contents are not interpreted). Nothing may follow the last record.
 *
 * The question name may not be compressed; its labels are 1..63 bytes of
 * [A-Za-z0-9-_] and the name at most AW_DNS_NAME_MAX characters as text.
 * It is stored lowercased without a trailing dot ("" for the root) in
 * *ret_q, with its type and class; *ret_id gets the message ID. Both are
 * written only on success.
 *
 * Returns 0; -EBADMSG for a message that is not a well-formed plain query
 * (truncated, wrong header bits or counts, compression, a label length
 * byte over 63, trailing bytes, longer than AW_DNS_MSG_MAX); -EINVAL for
 * a well-formed query whose name we do not serve (a byte outside the set,
 * over AW_DNS_NAME_MAX). err (errlen bytes, may be NULL) gets the byte
 * offset and the reason.
 */
int aw_dns_parse_query(const uint8_t *msg, size_t len,
		       struct aw_dns_question *ret_q, uint16_t *ret_id,
		       char *err, size_t errlen);

/*
 * Parse an upstream's answer to question q (q->name as parse_query or
 * aw_dns_name_normalize leave it). The caller checks the ID itself
 * (aw_dns_get_id). Required: len >= 12, QR=1, OPCODE=0, QDCOUNT=1 and a
 * question equal to q (the name compared case-insensitively, type and
 * class exactly). Every record of every section is walked and
 * bounds-checked; a message cut short, counts that promise more records
 * than there are, or bytes after the last record are errors. TC is not
 * looked at: a truncated answer that is well formed parses, and the
 * caller, which sees the header, decides whether to retry over TCP.
 *
 * Names: a compression pointer must point strictly before the place it
 * is read from and not into the header, at most 128 pointers per name,
 * the decoded name at most 255 bytes in wire form; extended label types
 * (0x40, 0x80) are errors.
 *
 * Collected: the A and AAAA records of class IN in the answer section
 * owned by q->name or by a name reached from it through CNAME records
 * (class IN, in any order in the section). At most AW_DNS_CHAIN_MAX
 * CNAMEs are followed; a longer chain or a loop is -ELOOP; two CNAMEs
 * with different targets for one name are -EBADMSG. Each address gets
 * the minimum of its own TTL and those of the CNAMEs that led to it,
 * where a TTL with the top bit set counts as 0 (RFC 2181 section 8). An
 * address found twice is stored once with the larger of its TTLs.
 * Records for other owners and of other types or classes are ignored,
 * except that an A record of class IN whose RDLENGTH is not 4 or an AAAA
 * one whose RDLENGTH is not 16 is an error wherever it is.
 *
 * Addresses are collected whatever the RCODE, which is stored in *ret_rcode
 * (the 4 header bits; EDNS extended bits are not added) on success.
 *
 * Returns the number of addresses written to addrs (at most max; more is
 * -E2BIG), or -EBADMSG (malformed), -EPROTO (a well-formed message that
 * is not an answer to q: QR=0, another opcode, another question), -ELOOP,
 * -E2BIG, -EINVAL (q->name is not a valid name), -ENOMEM. addrs is left
 * partly written on failure. err (may be NULL) says where and why.
 */
int aw_dns_parse_response(const uint8_t *msg, size_t len,
			  const struct aw_dns_question *q,
			  struct aw_dns_addr *addrs, size_t max,
			  unsigned *ret_rcode, char *err, size_t errlen);

/*
 * Build into out (outlen bytes) the reply with rcode (0..15) to query:
 * the query's ID, OPCODE and RD bit, QR=1, RA=1, every other flag 0. If
 * the query's header says QDCOUNT=1 and its question can be walked (plain
 * labels, no compression, within qlen), the question is copied as sent
 * (bytes and case untouched) and QDCOUNT is 1; otherwise the reply has no
 * question (QDCOUNT 0), as a FORMERR to an unreadable query must. All
 * other counts are 0. The query need not be valid otherwise, so that a
 * query parse_query rejected can still be answered.
 *
 * Returns the reply's length; -EBADMSG if qlen < 12 (no header to copy
 * the ID from), -EINVAL for rcode > 15, -ENOBUFS if out is too small.
 */
int aw_dns_build_error(const uint8_t *query, size_t qlen, unsigned rcode,
		       uint8_t *out, size_t outlen);

/*
 * Build into out a query for name and qtype (class IN) with id, RD=1 and
 * no EDNS record (the daemon's own lookups). name is as
 * aw_dns_name_normalize would accept it without a wildcard (it is
 * normalized here: case, one trailing dot); "" or "." is the root.
 * Returns the length; -EINVAL for a bad name (-EILSEQ non-ASCII),
 * -ENOBUFS if out is too small.
 */
int aw_dns_build_query(const char *name, uint16_t qtype, uint16_t id,
		       uint8_t *out, size_t outlen);

/*
 * Normalize a name written in a policy or by a user into out (outlen
 * bytes, may be in itself): lowercase, one trailing dot removed, at least
 * one label, labels of 1..63 bytes of [a-z0-9-_], at most AW_DNS_NAME_MAX
 * characters. IDNs must be written in punycode ("xn--..."): any byte over
 * 0x7f is -EILSEQ. With allow_wildcard a leading "*." is kept for
 * patterns, and then at least two labels must follow it ("*.example.com",
 * not "*.com"); a '*' anywhere else, or any '*' without allow_wildcard, is
 * -EINVAL. Returns 0; -EINVAL, -EILSEQ, or -ENOBUFS if out is too small.
 * out is written only on success.
 */
int aw_dns_name_normalize(const char *in, char *out, size_t outlen,
			  int allow_wildcard);

/*
 * Does pattern match name (both normalized; ASCII case is ignored
 * anyway)? A plain pattern matches the equal name. "*.example.com"
 * matches a name ending in ".example.com" with at least one more label
 * before it ("a.example.com", "a.b.example.com"), never "example.com",
 * "evil-example.com", "xexample.com" or "example.com.evil.net". An empty
 * pattern matches nothing. Returns 1 or 0.
 */
int aw_dns_name_match(const char *pattern, const char *name);

/*
 * Rebuild a client's query for the upstream, so that nothing of it but
 * the question reaches the upstream: query must parse (aw_dns_parse_query)
 * and is written into out as a fresh message with ID id, flags RD only
 * (the client's CD, AD, Z bits dropped), one question with the name
 * lowercased (the letter case of a name carries bits), its type and
 * class IN, and no other records, except that a client that sent an EDNS
 * OPT record gets a minimal one (root owner, UDP size 1232 if the client
 * offered at least that, else 512, version 0, no flags, no options: the
 * client's options, cookies, padding and padding lengths stay here).
 *
 * Only classes IN and types in aw_dns_qtype_forwarded are rebuilt;
 * others are -EOPNOTSUPP (not forwarded: a type number carries 16 bits).
 * Returns the length; -EBADMSG or -EINVAL as aw_dns_parse_query;
 * -ENOBUFS if out is too small.
 */
int aw_dns_normalize_query(const uint8_t *query, size_t qlen, uint16_t id,
			   uint8_t *out, size_t outlen);

/* The query types forwarded upstream: A, NS, CNAME, SOA, PTR, MX, TXT,
 * AAAA, SRV, SVCB, HTTPS, CAA. 1 or 0. */
int aw_dns_qtype_forwarded(uint16_t qtype);

/*
 * An answer to a normalized query carries the question as the upstream
 * saw it (lowercase): give it back the client's own bytes (same length:
 * only the case differs), so that a client checking its question, or
 * its 0x20 case randomisation, gets what it asked. Nothing happens unless
 * both messages have QDCOUNT 1 and the names are equal but for case.
 * Returns 0, or -EPROTO when nothing was restored.
 */
int aw_dns_restore_question(uint8_t *answer, size_t alen, const uint8_t *query,
			    size_t qlen);

/* The ID of a message (0 if it is shorter than 2 bytes). */
uint16_t aw_dns_get_id(const uint8_t *msg, size_t len);

/* Set the ID of a message (nothing if it is shorter than 2 bytes): to
 * forward under a fresh ID and to restore the client's in the answer. */
void aw_dns_set_id(uint8_t *msg, size_t len, uint16_t id);

#endif
