// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policies, network rules: parsing the network: section (hosts, CIDRs,
 * ports) and the matching the daemon's resolver and socket hooks use
 * (aw_net_host_match, aw_net_rule_allows_port).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "policy/policy.h"
#include "policy/policy_int.h"
#include "shared/diag.h"
#include "shared/util.h"
#include "shared/yaml.h"

/* ---- network rules ------------------------------------------------------ */

/*
 * Host names, addresses and ports are checked by small parsers of our
 * own (the rules in policies/README.md, "network"): what is written is
 * either refused with a reason or stored in the one form the daemon
 * compares, so two spellings of a name cannot mean two things.
 */
#define POL_WHY(...)                                                           \
	do {                                                                   \
		snprintf(why, why_len, __VA_ARGS__);                           \
		return -EINVAL;                                                \
	} while (0)

/* Is s an address rather than a name, as a resolver would read it?
 * inet_aton also takes "127.1", "0x7f000001" and octal: every one of them
 * connects to an address without a DNS query, so none is a host name.
 * "[::1]", "10.0.0.1:443" and "10.0.0.0/8" count too. */
static bool pol_is_address(const char *s)
{
	struct in6_addr a6;
	struct in_addr a4;
	char buf[64];
	size_t n;

	if (*s == '[')
		s++;
	n = strcspn(s, "]/%");
	if (n < sizeof(buf)) {
		memcpy(buf, s, n);
		buf[n] = 0;
		if (inet_pton(AF_INET6, buf, &a6) == 1 || inet_aton(buf, &a4))
			return true;
	}
	n = strcspn(s, ":/");
	if (n < sizeof(buf)) {
		memcpy(buf, s, n);
		buf[n] = 0;
		if (inet_aton(buf, &a4))
			return true;
	}
	return false;
}

/*
 * Check a host and write its normalized form (lowercase, one trailing
 * dot removed) into out (AW_POL_HOST_MAX + 1 bytes): labels of
 * [a-z0-9_-], 1..63 bytes, <= 253 bytes in all; or "*." and at least two
 * such labels. 0, or -EINVAL with a reason in why.
 */
static int pol_host_check(const char *s, char *out, char *why, size_t why_len)
{
	size_t len = strlen(s), i, n_labels = 0;
	const char *c, *rest;
	bool digits = false;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			POL_WHY("not ASCII: write an internationalized name in "
				"punycode (xn--...)");
	if (pol_is_address(s))
		POL_WHY("an IP address: use cidrs: for addresses");
	if (strchr(s, '/') || strchr(s, ':'))
		POL_WHY("write the host name alone: no scheme, port or path");
	if (s[len - 1] == '.')
		len--;
	if (len == 0)
		POL_WHY("no name");
	if (len > AW_POL_HOST_MAX)
		POL_WHY("name of %zu bytes, the limit is %d", len,
			AW_POL_HOST_MAX);
	for (i = 0; i < len; i++) {
		char ch = s[i];

		out[i] = ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
	}
	out[len] = 0;

	rest = out;
	if (!strncmp(out, "*.", 2))
		rest = out + 2;
	if (strchr(rest, '*'))
		POL_WHY("'*' is only allowed as a leading '*.' label");
	for (c = rest;; c++) {
		size_t n = strcspn(c, ".");

		if (n == 0)
			POL_WHY("empty label ('..', or a '.' at the start or "
				"twice at the end)");
		if (n > 63)
			POL_WHY("label of %zu bytes, the limit is 63", n);
		digits = true;
		for (i = 0; i < n; i++) {
			unsigned char ch = c[i];

			if ((ch >= 'a' && ch <= 'z') || ch == '-' || ch == '_')
				digits = false;
			else if (ch < '0' || ch > '9')
				POL_WHY(
				    ch < 0x20 || ch == 0x7f
					? "control character 0x%02x: labels "
					  "are [a-z0-9_-]"
					: "character '%c' not allowed: labels "
					  "are [a-z0-9_-]",
				    ch);
		}
		n_labels++;
		c += n;
		if (!*c)
			break;
	}
	/* "123" as the top-level label: resolvers read it as an address */
	if (digits)
		POL_WHY("the last label is all digits, which reads as an "
			"address: use cidrs: for addresses");
	if (rest != out && n_labels < 2)
		POL_WHY("'%s' is too broad: '*.' needs at least two labels "
			"after it",
			out);
	/* RFC 6761: these names are the machine itself, whatever DNS says.
	 * Granting them is granting loopback: say so. */
	len = strlen(out);
	if (!strcmp(out, "localhost") ||
	    (len > 10 && !strcmp(out + len - 10, ".localhost")))
		POL_WHY("names the machine itself: use loopback: true");
	return 0;
}

/* "a.b.c.d[/n]" or "IPv6[/n]"; no "/n": one address. Host bits must be
 * clear. 0, or -EINVAL with a reason in why. */
static int pol_cidr_parse(const char *s, struct aw_net_cidr *ret, char *why,
			  size_t why_len)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s), i;
	uint8_t a[16] = {0}, net[16];
	char addr[64], text[INET6_ADDRSTRLEN];
	unsigned max, prefix, total;
	bool v4;

	if (alen == 0 || alen >= sizeof(addr))
		POL_WHY("not an IPv4 (a.b.c.d) or IPv6 address");
	memcpy(addr, s, alen);
	addr[alen] = 0;
	if (inet_pton(AF_INET, addr, a + 12) == 1) {
		v4 = true;
		a[10] = a[11] = 0xff;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, a) == 1) {
		v4 = false;
		max = 128;
	} else {
		POL_WHY("not an IPv4 (a.b.c.d) or IPv6 address");
	}
	prefix = max;
	if (slash) {
		const char *d = slash + 1;

		/* strict: 0..max in decimal, no sign, no leading zero */
		if (!*d || strlen(d) > 3 ||
		    strspn(d, "0123456789") != strlen(d) ||
		    (d[0] == '0' && d[1]))
			POL_WHY("the prefix length after '/' must be a number "
				"0..%u",
				max);
		prefix = (unsigned)atoi(d);
		if (prefix > max)
			POL_WHY("prefix length %u: an %s prefix is 0..%u",
				prefix, v4 ? "IPv4" : "IPv6", max);
	}
	total = v4 ? prefix + 96 : prefix;
	for (i = 0; i < 16; i++) {
		unsigned keep = total >= (i + 1) * 8 ? 8
				: total > i * 8	     ? total - i * 8
						     : 0;

		net[i] = a[i] & (uint8_t)(0xff00u >> keep);
	}
	if (memcmp(net, a, 16)) {
		inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? net + 12 : net, text,
			  sizeof(text));
		POL_WHY("host bits set (the network is %s/%u)", text, prefix);
	}
	memcpy(ret->addr, a, 16);
	ret->prefix = (uint8_t)total;
	return 0;
}

/* A port number 1..65535 in s[0..len), for pol_port_parse: -EINVAL for
 * anything but digits, -ERANGE outside the range. */
static int pol_port_num(const char *s, size_t len, unsigned *ret)
{
	unsigned v = 0;
	size_t i;

	if (len == 0)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
	for (i = 0; i < len; i++) {
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > 65535)
			return -ERANGE;
	}
	if (v == 0)
		return -ERANGE;
	*ret = v;
	return 0;
}

/* "443" or "8000-8100". 0, or -EINVAL with a reason in why. */
static int pol_port_parse(const char *s, struct aw_net_ports *ret, char *why,
			  size_t why_len)
{
	size_t n = strcspn(s, "-");
	unsigned lo = 0, hi = 0;
	int r1, r2 = 0;

	r1 = pol_port_num(s, n, &lo);
	if (s[n])
		r2 = pol_port_num(s + n + 1, strlen(s + n + 1), &hi);
	if (r1 == -EINVAL || r2 == -EINVAL)
		POL_WHY("expected a port (443) or a range (8000-8100)");
	if (r1 < 0 || r2 < 0)
		POL_WHY("ports are 1..65535");
	if (!s[n])
		hi = lo;
	if (lo > hi)
		POL_WHY("the range is backwards (%u > %u)", lo, hi);
	*ret = (struct aw_net_ports){(uint16_t)lo, (uint16_t)hi};
	return 0;
}
#undef POL_WHY

enum pol_net_list {
	POL_NET_HOSTS,
	POL_NET_CIDRS,
	POL_NET_PORTS,
	POL_NET_PROTOCOLS,
};

/* One of a network rule's lists. Bad entries are left out (keep-going
 * mode); the caller decides whether what is left still means what was
 * written. */
static int pol_parse_net_list(struct pol_parser *p, const yaml_node_t *seq,
			      const char *key, enum pol_net_list kind,
			      size_t max, struct aw_net_rule *rule)
{
	char what[96], safe[72];
	size_t i, n;
	int r, bad = 0;

	snprintf(what, sizeof(what), "'%s' of network rule '%s'", key,
		 aw_yaml_safe(rule->id ? rule->id : "?", safe, 64));
	r = aw_yaml_seq(&p->y, seq, what, max, &n);
	if (r < 0)
		return r;
	if (n == 0)
		return aw_yaml_fail(
		    &p->y, seq, -EINVAL, "%s lists nothing%s", what,
		    kind == POL_NET_PORTS
			? " (leave 'ports' out for every port)"
		    : kind == POL_NET_PROTOCOLS
			? " (leave 'protocols' out for tcp and udp)"
			: "");
	switch (kind) {
	case POL_NET_HOSTS:
		rule->hosts = calloc(n, sizeof(*rule->hosts));
		if (!rule->hosts)
			return -ENOMEM;
		break;
	case POL_NET_CIDRS:
		rule->cidrs = calloc(n, sizeof(*rule->cidrs));
		if (!rule->cidrs)
			return -ENOMEM;
		break;
	case POL_NET_PORTS:
		rule->ports = calloc(n, sizeof(*rule->ports));
		if (!rule->ports)
			return -ENOMEM;
		break;
	case POL_NET_PROTOCOLS:
		rule->protocols = 0;
		break;
	}
	for (i = 0; i < n; i++) {
		yaml_node_t *e =
		    aw_yaml_node(&p->y, seq->data.sequence.items.start[i]);
		char why[160], host[AW_POL_HOST_MAX + 1];
		const char *s;

		if (!e) {
			p->y.fatal = true;
			return aw_yaml_fail(&p->y, seq, -EINVAL,
					    "malformed list");
		}
		r = aw_yaml_scalar(&p->y, e,
				   kind == POL_NET_HOSTS   ? "a host"
				   : kind == POL_NET_CIDRS ? "a CIDR"
				   : kind == POL_NET_PORTS ? "a port"
							   : "a protocol",
				   &s);
		if (r >= 0)
			r = pol_spend(p, e);
		if (r < 0)
			goto next;
		switch (kind) {
		case POL_NET_HOSTS:
			if (pol_host_check(s, host, why, sizeof(why)) < 0) {
				r = aw_yaml_fail(
				    &p->y, e, -EINVAL, "bad host '%s': %s",
				    aw_yaml_safe(s, safe, 64), why);
				break;
			}
			rule->hosts[rule->n_hosts] = strdup(host);
			if (!rule->hosts[rule->n_hosts])
				return -ENOMEM;
			rule->n_hosts++;
			break;
		case POL_NET_CIDRS:
			if (pol_cidr_parse(s, &rule->cidrs[rule->n_cidrs], why,
					   sizeof(why)) < 0) {
				r = aw_yaml_fail(
				    &p->y, e, -EINVAL, "bad CIDR '%s': %s",
				    aw_yaml_safe(s, safe, 64), why);
				break;
			}
			rule->n_cidrs++;
			break;
		case POL_NET_PORTS:
			if (pol_port_parse(s, &rule->ports[rule->n_ports], why,
					   sizeof(why)) < 0) {
				r = aw_yaml_fail(
				    &p->y, e, -EINVAL, "bad port '%s': %s",
				    aw_yaml_safe(s, safe, 32), why);
				break;
			}
			rule->n_ports++;
			break;
		case POL_NET_PROTOCOLS:
			if (!strcmp(s, "tcp"))
				rule->protocols |= AW_NET_TCP;
			else if (!strcmp(s, "udp"))
				rule->protocols |= AW_NET_UDP;
			else
				r = aw_yaml_fail(
				    &p->y, e, -EINVAL,
				    "unknown protocol '%s' (expected "
				    "tcp or udp)",
				    aw_yaml_safe(s, safe, 32));
			break;
		}
	next:
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
	}
	return bad;
}

/*
 * One network rule. *ret_usable says whether it may join the policy: in
 * keep-going mode a rule loses its bad entries, which narrows it, except
 * when no port or protocol is left (that would widen it to all) or no
 * destination is.
 */
static int pol_parse_net_rule(struct pol_parser *p, const yaml_node_t *map,
			      const struct aw_policy *pol,
			      struct aw_net_rule *rule, bool *ret_usable)
{
	enum { N_ID, N_HOSTS, N_CIDRS, N_LOOPBACK, N_PORTS, N_PROTOCOLS, N_N };
	static const struct aw_yaml_key keys[] = {
	    [N_ID] = {"id", true},	  [N_HOSTS] = {"hosts", false},
	    [N_CIDRS] = {"cidrs", false}, [N_LOOPBACK] = {"loopback", false},
	    [N_PORTS] = {"ports", false}, [N_PROTOCOLS] = {"protocols", false},
	};
	yaml_node_t *v[N_N], *k[N_N];
	bool loopback_bad = false;
	char safe[72];
	int r, bad = 0;

	*ret_usable = false;
	r = aw_yaml_map(&p->y, map, "a network rule", keys, N_N, v, k);
	if (r < 0 &&
	    (aw_yaml_carry(&p->y, r, &bad) || map->type != YAML_MAPPING_NODE))
		return r;
	rule->file = pol->file;
	rule->line = map->start_mark.line + 1;
	rule->column = map->start_mark.column + 1;
	rule->protocols = AW_NET_TCP | AW_NET_UDP;
	if (v[N_ID]) {
		r = pol_id(p, v[N_ID], "rule id", &rule->id);
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
	}
	if (v[N_HOSTS]) {
		r = pol_parse_net_list(p, v[N_HOSTS], "hosts", POL_NET_HOSTS,
				       AW_POL_NET_HOSTS_MAX, rule);
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
	}
	if (v[N_CIDRS]) {
		r = pol_parse_net_list(p, v[N_CIDRS], "cidrs", POL_NET_CIDRS,
				       AW_POL_NET_CIDRS_MAX, rule);
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
	}
	if (v[N_LOOPBACK]) {
		const char *s;

		r = aw_yaml_scalar(&p->y, v[N_LOOPBACK], "'loopback'", &s);
		if (r >= 0 && !strcmp(s, "true"))
			rule->loopback = 1;
		else if (r >= 0 && strcmp(s, "false"))
			r = aw_yaml_fail(
			    &p->y, v[N_LOOPBACK], -EINVAL,
			    "'loopback' must be true or false, found "
			    "'%s'",
			    aw_yaml_safe(s, safe, 32));
		loopback_bad = r < 0;
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
	}
	if (v[N_PORTS]) {
		r = pol_parse_net_list(p, v[N_PORTS], "ports", POL_NET_PORTS,
				       AW_POL_NET_PORTS_MAX, rule);
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
	}
	if (v[N_PROTOCOLS]) {
		/* (nothing parsed: protocols 0, the rule unusable) */
		rule->protocols = 0;
		r = pol_parse_net_list(p, v[N_PROTOCOLS], "protocols",
				       POL_NET_PROTOCOLS, 2, rule);
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
	}
	/* What was written, not what survived: a bad host was reported
	 * already, "allows nothing" would be noise. */
	if (!v[N_HOSTS] && !v[N_CIDRS] && !rule->loopback && !loopback_bad) {
		r = aw_yaml_fail(
		    &p->y, map, -EINVAL,
		    "network rule '%s' allows no destination: give it "
		    "hosts, cidrs or loopback: true",
		    aw_yaml_safe(rule->id ? rule->id : "?", safe, 64));
		if (aw_yaml_carry(&p->y, r, &bad))
			return r;
	}
	*ret_usable = rule->id &&
		      (rule->n_hosts || rule->n_cidrs || rule->loopback) &&
		      (!v[N_PORTS] || rule->n_ports) && rule->protocols;
	return bad;
}

/* The rule of the file's filesystem or network rules (they share the
 * namespace of `remove`) with this id: its place, or false. */
bool pol_rule_id_at(const struct aw_policy *pol, const char *id,
		    struct aw_policy_place *ret)
{
	size_t i;

	for (i = 0; i < pol->n_rules; i++)
		if (!strcmp(pol->rules[i].id, id)) {
			*ret = (struct aw_policy_place){pol->rules[i].line,
							pol->rules[i].column};
			return true;
		}
	for (i = 0; i < pol->n_net_rules; i++)
		if (!strcmp(pol->net_rules[i].id, id)) {
			*ret = (struct aw_policy_place){
			    pol->net_rules[i].line, pol->net_rules[i].column};
			return true;
		}
	return false;
}

int pol_parse_net_rules(struct pol_parser *p, const yaml_node_t *seq,
			struct aw_policy *pol)
{
	size_t i, n;
	int r, bad = 0;

	/* Confined from here on, whatever follows: a broken section must not
	 * leave the policy unconfined in keep-going mode. */
	pol->has_network = 1;
	r = aw_yaml_seq(&p->y, seq, "'network'", AW_POL_RULES_MAX, &n);
	if (r < 0)
		return r;
	pol->net_rules = calloc(n ? n : 1, sizeof(*pol->net_rules));
	if (!pol->net_rules)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		yaml_node_t *e =
		    aw_yaml_node(&p->y, seq->data.sequence.items.start[i]);
		struct aw_net_rule rule = {0};
		struct aw_policy_place first;
		bool usable;
		char safe[72];

		if (!e) {
			p->y.fatal = true;
			return aw_yaml_fail(&p->y, seq, -EINVAL,
					    "malformed list");
		}
		r = pol_parse_net_rule(p, e, pol, &rule, &usable);
		if (r < 0 && (aw_yaml_stop(p->y.rep, r) || p->y.fatal)) {
			pol_net_rule_free(&rule);
			return r;
		}
		if (r < 0 && !bad)
			bad = r;
		if (!usable) {
			pol_net_rule_free(&rule);
			continue;
		}
		if (pol_rule_id_at(pol, rule.id, &first)) {
			/* At the later of the two in the file (filesystem
			 * rules are parsed first, wherever they are). */
			if (first.line < rule.line)
				r = aw_yaml_fail(
				    &p->y, e, -EINVAL,
				    "duplicate rule id '%s' (first at "
				    "line %u)",
				    aw_yaml_safe(rule.id, safe, 64),
				    first.line);
			else
				r = aw_yaml_report(
				    p->y.rep, -EINVAL, p->y.name, first.line,
				    first.column,
				    "duplicate rule id '%s' (first "
				    "at line %u)",
				    aw_yaml_safe(rule.id, safe, 64), rule.line);
			pol_net_rule_free(&rule);
			if (aw_yaml_carry(&p->y, r, &bad))
				return r;
			continue;
		}
		pol->net_rules[pol->n_net_rules++] = rule;
	}
	return bad;
}

/* ASCII only: a locale must not change what a name matches. */
static bool pol_ascii_eq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char x = a[i], y = b[i];

		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return false;
	}
	return true;
}

int aw_net_host_match(const char *pattern, const char *name)
{
	size_t pl, nl, sl, below, i;
	const char *suffix;

	if (!pattern || !name)
		return 0;
	pl = strlen(pattern);
	nl = strlen(name);
	if (pl && pattern[pl - 1] == '.')
		pl--;
	if (nl && name[nl - 1] == '.')
		nl--;
	if (!pl || !nl)
		return 0;
	if (pattern[0] != '*')
		return pl == nl && pol_ascii_eq(pattern, name, pl);
	/* "*.example.com": the suffix ".example.com" (with its dot, so
	 * "evil-example.com" is not below it), and at least one whole label
	 * before it */
	if (pl < 3 || pattern[1] != '.')
		return 0;
	suffix = pattern + 1;
	sl = pl - 1;
	if (nl <= sl || !pol_ascii_eq(name + nl - sl, suffix, sl))
		return 0;
	below = nl - sl;
	if (name[0] == '.')
		return 0;
	for (i = 1; i < below; i++)
		if (name[i] == '.' && name[i - 1] == '.')
			return 0;
	return name[below - 1] != '.';
}

int aw_net_rule_allows_port(const struct aw_net_rule *r, unsigned proto,
			    uint16_t port)
{
	size_t i;

	if (!r || !port || (proto != AW_NET_TCP && proto != AW_NET_UDP) ||
	    !(r->protocols & proto))
		return 0;
	if (!r->n_ports)
		return 1;
	for (i = 0; i < r->n_ports; i++)
		if (port >= r->ports[i].lo && port <= r->ports[i].hi)
			return 1;
	return 0;
}
