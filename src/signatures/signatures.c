// SPDX-License-Identifier: GPL-2.0-only
/*
 * Signature database: parse and validate the YAML files in signatures/.
 *
 * File format (one YAML document per file, UTF-8, at most 1 MiB):
 *
 *   version: 1                     # required, must be 1
 *   llm-apis:                      # optional: LLM API host names
 *     - "api.openai.com"
 *   interpreters:                  # optional list of exe patterns
 *     - "**\/node"
 *   signatures:                    # optional list of signatures
 *     - id: openai.codex-cli       # required, [a-z0-9._-], >= 1 dot
 *       vendor: OpenAI             # required, display name
 *       product: Codex CLI         # required, display name
 *       class: coding-agent        # required, see sig_classes[]
 *       package: "@openai/codex"   # optional npm package name
 *       match:                     # required, 1..64 entries
 *         - exe: "/opt/x/bin/codex"          # the executable's real path
 *         - script: "**\/codex/bin/codex.js" # an interpreter's script arg
 *
 * Every value is a plain string (scalars only; tags are ignored). Unknown
 * keys, duplicate keys, wrong node kinds, empty values and NUL bytes are
 * errors. Each match entry names exactly one of exe / script.
 *
 * Patterns: components separated by '/'. Either absolute ("/usr/bin/x":
 * the whole path) or a suffix ("**\/bin/x": under any directory). A
 * component is a literal name or a whole '*' (any one name). Rejected:
 * relative patterns, empty components, "." and "..", other glob syntax
 * (`codex-*`, '?', '[', '\'), '**' anywhere but first, control
 * characters, components over 255 bytes, patterns over 4096 bytes or
 * deeper than the kernel walks (AW_WALK_DEPTH), and patterns made of
 * wildcards only. The same pattern may not appear twice for the same
 * start (exe + interpreters share one, scripts have the other), whoever
 * defines it: the kernel could not tell the two apart.
 *
 * Errors go to struct aw_diag as file:line:column (1-based; libyaml's
 * marks are 0-based), through the strict reader shared with the policies
 * (shared/yaml.c). The checks across files and the loaders are in
 * load.c.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "agentwall_abi.h"
#include "shared/diag.h"
#include "shared/util.h"
#include "shared/yaml.h"
#include "signatures/sig_int.h"
#include "signatures/signatures.h"

static const char *const sig_classes[] = {
    "coding-agent", "desktop-assistant", "computer-use",
    "mcp-server",   "agent-framework",	 "unknown-agent",
};

struct sig_parser {
	struct aw_yaml y; /* first: sig_parse_doc() casts back */
};

/* Report a problem at a node; a signature file's problems are all
 * -EINVAL, so callers can `return sig_fail(...)`. */
#define sig_fail(p, n, ...) aw_yaml_fail(&(p)->y, (n), -EINVAL, __VA_ARGS__)

int aw_sig_pattern_check(const char *pattern, char *why, size_t why_len)
{
	const char *c, *end;
	size_t len, depth = 0, literals = 0;

#define SIG_WHY(...)                                                           \
	do {                                                                   \
		if (why && why_len)                                            \
			snprintf(why, why_len, __VA_ARGS__);                   \
		return -EINVAL;                                                \
	} while (0)

	if (!pattern || !*pattern)
		SIG_WHY("empty pattern");
	len = strlen(pattern);
	if (len > AW_SIG_PATTERN_MAX)
		SIG_WHY("pattern is %zu bytes, the limit is %d", len,
			AW_SIG_PATTERN_MAX);
	if (!strncmp(pattern, "**/", 3))
		c = pattern + 3;
	else if (pattern[0] == '/')
		c = pattern + 1;
	else if (!strcmp(pattern, "**"))
		SIG_WHY("nothing after '**'");
	else
		SIG_WHY("relative pattern: start with '/' (whole path) or "
			"'**/' (under any directory)");

	for (;;) {
		size_t clen;

		end = strchr(c, '/');
		clen = end ? (size_t)(end - c) : strlen(c);
		if (clen == 0)
			SIG_WHY(
			    "empty path component ('//' or a trailing '/')");
		if (clen > AW_SIG_COMPONENT_MAX)
			SIG_WHY("path component of %zu bytes, the limit is %d",
				clen, AW_SIG_COMPONENT_MAX);
		if ((clen == 1 && c[0] == '.') ||
		    (clen == 2 && c[0] == '.' && c[1] == '.'))
			SIG_WHY("'.' and '..' components are not allowed (the "
				"kernel sees resolved paths)");
		if (clen == 2 && c[0] == '*' && c[1] == '*')
			SIG_WHY("'**' is only allowed as the first component");
		if (!(clen == 1 && c[0] == '*')) {
			size_t i;

			for (i = 0; i < clen; i++) {
				unsigned char ch = (unsigned char)c[i];

				if (ch == '*' || ch == '?' || ch == '[' ||
				    ch == '\\')
					SIG_WHY(
					    "component '%.*s': only a whole "
					    "'*' component is a wildcard",
					    (int)(clen > 64 ? 64 : clen), c);
				if (ch < 0x20 || ch == 0x7f)
					SIG_WHY("control character 0x%02x in "
						"pattern",
						ch);
			}
			literals++;
		}
		depth++;
		if (!end)
			break;
		c = end + 1;
	}
	/* The kernel walks at most AW_WALK_DEPTH components: a longer
	 * pattern could never match there. */
	if (depth > AW_WALK_DEPTH)
		SIG_WHY(
		    "pattern has %zu components, the kernel walks at most %d",
		    depth, AW_WALK_DEPTH);
	/* "/ *" or "**" + "/ *" would classify every program. */
	if (!literals)
		SIG_WHY("pattern must name at least one literal component");
#undef SIG_WHY
	return 0;
}

static bool sig_id_valid(const char *id)
{
	size_t i, len = strlen(id);
	bool dot = false;

	if (len == 0 || len > AW_SIG_ID_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char ch = id[i];

		if (ch == '.') {
			/* no leading, trailing or doubled dots */
			if (i == 0 || i == len - 1 || id[i - 1] == '.')
				return false;
			dot = true;
		} else if (!((ch >= 'a' && ch <= 'z') ||
			     (ch >= '0' && ch <= '9') || ch == '-' ||
			     ch == '_')) {
			return false;
		}
	}
	return dot && id[0] != '-' && id[0] != '_';
}

/* npm's rules, loosely: [@scope/]name, lowercase URL-safe characters. */
static bool sig_package_valid(const char *s)
{
	size_t i, len = strlen(s);
	const char *slash = strchr(s, '/');

	if (len == 0 || len > AW_SIG_PACKAGE_MAX || s[0] == '.' || s[0] == '_')
		return false;
	if (s[0] == '@') {
		if (!slash || slash == s + 1 || !slash[1] ||
		    strchr(slash + 1, '/'))
			return false;
	} else if (slash) {
		return false;
	}
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      strchr("-._~", ch) || (i == 0 && ch == '@') ||
		      (ch == '/' && s + i == slash)))
			return false;
	}
	return true;
}

static int sig_text(struct sig_parser *p, const yaml_node_t *n,
		    const char *what, size_t max, char **ret)
{
	const char *s;
	size_t i, len;
	char *dup;
	int r;

	r = aw_yaml_scalar(&p->y, n, what, &s);
	if (r < 0)
		return r;
	len = n->data.scalar.length;
	if (len > max)
		return sig_fail(p, n, "%s is %zu bytes, the limit is %zu", what,
				len, max);
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return sig_fail(p, n, "%s contains a control character",
					what);
	dup = strdup(s);
	if (!dup)
		return -ENOMEM;
	*ret = dup;
	return 0;
}

static int sig_pattern(struct sig_parser *p, const yaml_node_t *n,
		       enum aw_match_kind kind, struct aw_match *ret)
{
	char why[192];
	const char *s;
	char *dup;
	int r;

	r = aw_yaml_scalar(&p->y, n, "pattern", &s);
	if (r < 0)
		return r;
	if (aw_sig_pattern_check(s, why, sizeof(why)) < 0)
		return sig_fail(p, n, "bad pattern: %s", why);
	dup = strdup(s);
	if (!dup)
		return -ENOMEM;
	ret->kind = kind;
	ret->pattern = dup;
	ret->line = n->start_mark.line + 1;
	ret->column = n->start_mark.column + 1;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* "sha256:<64 lowercase hex> size:<bytes>" */
static int sig_content(struct sig_parser *p, const yaml_node_t *n,
		       struct aw_content *ret)
{
	const char *s, *q;
	char *end;
	unsigned long long size;
	int r;

	r = aw_yaml_scalar(&p->y, n, "content", &s);
	if (r < 0)
		return r;
	if (strncmp(s, "sha256:", 7))
		goto bad;
	q = s + 7;
	for (int i = 0; i < 32; i++) {
		int hi = hexval(q[2 * i]), lo;

		if (hi < 0)
			goto bad;
		lo = hexval(q[2 * i + 1]);
		if (lo < 0)
			goto bad;
		ret->sha256[i] = (uint8_t)(hi << 4 | lo);
	}
	q += 64;
	if (strncmp(q, " size:", 6) || q[6] < '1' || q[6] > '9')
		goto bad;
	errno = 0;
	size = strtoull(q + 6, &end, 10);
	if (errno || *end || size == 0)
		goto bad;
	ret->size = size;
	ret->line = n->start_mark.line + 1;
	ret->column = n->start_mark.column + 1;
	return 0;
bad:
	return sig_fail(p, n,
			"bad content: expected \"sha256:<64 lowercase hex "
			"digits> size:<bytes>\"");
}

static void sig_signature_free(struct aw_signature *s)
{
	size_t i;

	free(s->id);
	free(s->vendor);
	free(s->product);
	free(s->class);
	free(s->package);
	for (i = 0; i < s->n_matches; i++)
		free(s->matches[i].pattern);
	free(s->matches);
	free(s->contents);
	free(s->file);
	memset(s, 0, sizeof(*s));
}

void aw_sigdb_free(struct aw_sigdb *db)
{
	size_t i;

	if (!db)
		return;
	for (i = 0; i < db->n_sigs; i++)
		sig_signature_free(&db->sigs[i]);
	free(db->sigs);
	for (i = 0; i < db->n_interpreters; i++)
		free(db->interpreters[i].pattern);
	free(db->interpreters);
	for (i = 0; i < db->n_llm_apis; i++)
		free(db->llm_apis[i]);
	free(db->llm_apis);
	memset(db, 0, sizeof(*db));
}

static int sig_parse_matches(struct sig_parser *p, const yaml_node_t *seq,
			     struct aw_signature *sig)
{
	static const struct aw_yaml_key keys[] = {
	    {"exe", false},
	    {"script", false},
	    {"content", false},
	};
	size_t i, n;
	int r;

	r = aw_yaml_seq(&p->y, seq, "'match'", SIZE_MAX, &n);
	if (r < 0)
		return r;
	if (n == 0)
		return sig_fail(p, seq, "'match' must not be empty");
	if (n > AW_SIG_MATCHES_MAX)
		return sig_fail(p, seq, "%zu match entries, the limit is %d", n,
				AW_SIG_MATCHES_MAX);
	sig->matches = calloc(n, sizeof(*sig->matches));
	sig->contents = calloc(n, sizeof(*sig->contents));
	if (!sig->matches || !sig->contents)
		return -ENOMEM;

	for (i = 0; i < n; i++) {
		yaml_node_t *m =
		    aw_yaml_node(&p->y, seq->data.sequence.items.start[i]);
		yaml_node_t *v[AW_ARRAY_SIZE(keys)];

		if (!m)
			return sig_fail(p, seq, "malformed list");
		r = aw_yaml_map(&p->y, m, "match entry", keys,
				AW_ARRAY_SIZE(keys), v, NULL);
		if (r < 0)
			return r;
		if (!!v[0] + !!v[1] + !!v[2] != 1)
			return sig_fail(p, m,
					"a match entry names exactly one of "
					"'exe', 'script' or 'content'");
		if (v[2]) {
			r = sig_content(p, v[2],
					&sig->contents[sig->n_contents]);
			if (r < 0)
				return r;
			sig->n_contents++;
			continue;
		}
		r = sig_pattern(p, v[0] ? v[0] : v[1],
				v[0] ? AW_MATCH_EXE : AW_MATCH_SCRIPT,
				&sig->matches[sig->n_matches]);
		if (r < 0)
			return r;
		sig->n_matches++;
	}
	return 0;
}

static int sig_parse_signature(struct sig_parser *p, const yaml_node_t *map,
			       struct aw_signature *sig)
{
	enum { K_ID, K_VENDOR, K_PRODUCT, K_CLASS, K_PACKAGE, K_MATCH };
	static const struct aw_yaml_key keys[] = {
	    [K_ID] = {"id", true},
	    [K_VENDOR] = {"vendor", true},
	    [K_PRODUCT] = {"product", true},
	    [K_CLASS] = {"class", true},
	    [K_PACKAGE] = {"package", false},
	    [K_MATCH] = {"match", true},
	};
	yaml_node_t *v[AW_ARRAY_SIZE(keys)];
	size_t i;
	int r;

	r = aw_yaml_map(&p->y, map, "signature", keys, AW_ARRAY_SIZE(keys), v,
			NULL);
	if (r < 0)
		return r;
	sig->line = map->start_mark.line + 1;
	sig->column = map->start_mark.column + 1;
	sig->file = strdup(p->y.name);
	if (!sig->file)
		return -ENOMEM;

	r = sig_text(p, v[K_ID], "'id'", AW_SIG_ID_MAX, &sig->id);
	if (r < 0)
		return r;
	if (!sig_id_valid(sig->id))
		return sig_fail(
		    p, v[K_ID],
		    "bad id '%s': expected vendor.product in [a-z0-9._-]",
		    sig->id);
	r = sig_text(p, v[K_VENDOR], "'vendor'", AW_SIG_TEXT_MAX, &sig->vendor);
	if (r < 0)
		return r;
	r = sig_text(p, v[K_PRODUCT], "'product'", AW_SIG_TEXT_MAX,
		     &sig->product);
	if (r < 0)
		return r;
	r = sig_text(p, v[K_CLASS], "'class'", AW_SIG_TEXT_MAX, &sig->class);
	if (r < 0)
		return r;
	for (i = 0; i < AW_ARRAY_SIZE(sig_classes); i++)
		if (!strcmp(sig->class, sig_classes[i]))
			break;
	if (i == AW_ARRAY_SIZE(sig_classes))
		return sig_fail(p, v[K_CLASS],
				"unknown class '%.64s' (expected coding-agent, "
				"desktop-assistant, computer-use, mcp-server, "
				"agent-framework or unknown-agent)",
				sig->class);
	if (v[K_PACKAGE]) {
		r = sig_text(p, v[K_PACKAGE], "'package'", AW_SIG_PACKAGE_MAX,
			     &sig->package);
		if (r < 0)
			return r;
		if (!sig_package_valid(sig->package))
			return sig_fail(p, v[K_PACKAGE],
					"bad npm package name '%.64s'",
					sig->package);
	}
	return sig_parse_matches(p, v[K_MATCH], sig);
}

/* An LLM API host: lowercase LDH labels, 1..63 bytes each, <= 253. */
static bool sig_host_ok(const char *h)
{
	size_t label = 0, len = strlen(h);

	if (!len || len > 253 || h[0] == '.' || h[len - 1] == '.')
		return false;
	for (; *h; h++) {
		if (*h == '.') {
			if (!label)
				return false;
			label = 0;
			continue;
		}
		if (!((*h >= 'a' && *h <= 'z') || (*h >= '0' && *h <= '9') ||
		      *h == '-') ||
		    ++label > 63)
			return false;
	}
	return true;
}

static int sig_parse_root(struct sig_parser *p, struct aw_sigdb *out)
{
	enum { K_VERSION, K_INTERPRETERS, K_SIGNATURES, K_LLM_APIS };
	static const struct aw_yaml_key keys[] = {
	    [K_VERSION] = {"version", true},
	    [K_INTERPRETERS] = {"interpreters", false},
	    [K_SIGNATURES] = {"signatures", false},
	    [K_LLM_APIS] = {"llm-apis", false},
	};
	yaml_node_t *v[AW_ARRAY_SIZE(keys)];
	yaml_node_t *root = yaml_document_get_root_node(p->y.doc);
	const char *version;
	size_t i, n;
	int r;

	if (!root) {
		return aw_yaml_report(
		    p->y.rep, -EINVAL, p->y.name, 1, 1,
		    "empty document: expected a mapping with 'version: 1'");
	}
	r = aw_yaml_map(&p->y, root, "the top level", keys, AW_ARRAY_SIZE(keys),
			v, NULL);
	if (r < 0)
		return r;
	r = aw_yaml_scalar(&p->y, v[K_VERSION], "'version'", &version);
	if (r < 0)
		return r;
	if (strcmp(version, "1"))
		return sig_fail(
		    p, v[K_VERSION],
		    "unsupported version '%.32s' (this build reads version 1)",
		    version);

	if (v[K_INTERPRETERS]) {
		yaml_node_t *seq = v[K_INTERPRETERS];

		r = aw_yaml_seq(&p->y, seq, "'interpreters'", SIZE_MAX, &n);
		if (r < 0)
			return r;
		if (n > AW_SIG_INTERPRETERS_MAX)
			return sig_fail(p, seq,
					"%zu interpreters, the limit is %d", n,
					AW_SIG_INTERPRETERS_MAX);
		out->interpreters =
		    calloc(n ? n : 1, sizeof(*out->interpreters));
		if (!out->interpreters)
			return -ENOMEM;
		for (i = 0; i < n; i++) {
			yaml_node_t *e = aw_yaml_node(
			    &p->y, seq->data.sequence.items.start[i]);

			if (!e)
				return sig_fail(p, seq, "malformed list");
			r = sig_pattern(p, e, AW_MATCH_EXE,
					&out->interpreters[i]);
			if (r < 0)
				return r;
			out->n_interpreters++;
		}
	}

	if (v[K_LLM_APIS]) {
		/* Host names of LLM APIs: a process outside any session that
		 * reaches one is discovered as an agent. */
		yaml_node_t *seq = v[K_LLM_APIS];

		r = aw_yaml_seq(&p->y, seq, "'llm-apis'", SIZE_MAX, &n);
		if (r < 0)
			return r;
		if (n > AW_SIG_LLM_APIS_MAX)
			return sig_fail(p, seq, "%zu llm-apis, the limit is %d",
					n, AW_SIG_LLM_APIS_MAX);
		out->llm_apis = calloc(n ? n : 1, sizeof(*out->llm_apis));
		if (!out->llm_apis)
			return -ENOMEM;
		for (i = 0; i < n; i++) {
			yaml_node_t *e = aw_yaml_node(
			    &p->y, seq->data.sequence.items.start[i]);
			const char *name;

			if (!e)
				return sig_fail(p, seq, "malformed list");
			r = aw_yaml_scalar(&p->y, e, "an llm-apis entry",
					   &name);
			if (r < 0)
				return r;
			if (!sig_host_ok(name))
				return sig_fail(p, e,
						"'%.64s' is not a host name "
						"(lowercase letters, digits, "
						"'-', '.'; no wildcards)",
						name);
			out->llm_apis[i] = strdup(name);
			if (!out->llm_apis[i])
				return -ENOMEM;
			out->n_llm_apis++;
		}
	}

	if (v[K_SIGNATURES]) {
		yaml_node_t *seq = v[K_SIGNATURES];

		r = aw_yaml_seq(&p->y, seq, "'signatures'", SIZE_MAX, &n);
		if (r < 0)
			return r;
		if (n > AW_SIG_SIGS_MAX)
			return sig_fail(p, seq,
					"%zu signatures, the limit is %d", n,
					AW_SIG_SIGS_MAX);
		out->sigs = calloc(n ? n : 1, sizeof(*out->sigs));
		if (!out->sigs)
			return -ENOMEM;
		for (i = 0; i < n; i++) {
			yaml_node_t *e = aw_yaml_node(
			    &p->y, seq->data.sequence.items.start[i]);

			if (!e)
				return sig_fail(p, seq, "malformed list");
			/* counted first so a half-parsed entry is freed too */
			out->n_sigs++;
			r = sig_parse_signature(p, e, &out->sigs[i]);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int sig_parse_doc(struct aw_yaml *y, void *out)
{
	/* y is the first member of the parser */
	return sig_parse_root((struct sig_parser *)y, out);
}

int sig_parse(const char *name, const char *data, size_t len,
	      struct aw_sigdb *out, struct aw_diag *diag)
{
	struct aw_yaml_report rep = {.diag = diag};
	struct sig_parser p = {.y = {.name = name,
				     .data = data,
				     .len = len,
				     .kind = "signature files",
				     .rep = &rep,
				     .raw_keys = true}};

	return aw_yaml_parse(&p.y, AW_SIG_FILE_MAX, sig_parse_doc, out);
}
