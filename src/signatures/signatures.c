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
 * marks are 0-based). Every loader parses into a private database and
 * moves it into the caller's only once everything checked out, so a
 * failed load leaves the caller's database exactly as it was.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "agentwall_abi.h"
#include "shared/diag.h"
#include "shared/util.h"
#include "signatures/signatures.h"

static const char *const sig_classes[] = {
    "coding-agent", "desktop-assistant", "computer-use",
    "mcp-server",   "agent-framework",	 "unknown-agent",
};

struct sig_parser {
	const char *name; /* for diagnostics */
	const char *data; /* the raw text, to place reader errors */
	size_t len;
	yaml_document_t *doc;
	struct aw_diag *diag;
};

static void sig_diag(struct aw_diag *diag, const char *file, unsigned line,
		     unsigned column, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void sig_diag(struct aw_diag *diag, const char *file, unsigned line,
		     unsigned column, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!diag)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	aw_diag_set(diag, file, line, column, "%s", msg);
}

/* Report a problem at a node; always returns -EINVAL so callers can
 * `return sig_fail(...)`. */
static int sig_fail(struct sig_parser *p, const yaml_node_t *n, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));

static int sig_fail(struct sig_parser *p, const yaml_node_t *n, const char *fmt,
		    ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sig_diag(p->diag, p->name, n ? n->start_mark.line + 1 : 0,
		 n ? n->start_mark.column + 1 : 0, "%s", msg);
	return -EINVAL;
}

static const char *node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_NO_NODE:
		break;
	}
	return "nothing";
}

static yaml_node_t *sig_node(struct sig_parser *p, int index)
{
	return yaml_document_get_node(p->doc, index);
}

/* A scalar's text. libyaml lets "\0" into double-quoted scalars: refuse
 * it, or a C string would silently be cut short. */
static int sig_scalar(struct sig_parser *p, const yaml_node_t *n,
		      const char *what, const char **ret)
{
	const char *s;
	size_t len;

	if (n->type != YAML_SCALAR_NODE)
		return sig_fail(p, n, "%s must be a scalar, found %s", what,
				node_kind(n));
	s = (const char *)n->data.scalar.value;
	len = n->data.scalar.length;
	if (memchr(s, '\0', len))
		return sig_fail(p, n, "%s contains a NUL byte", what);
	if (len == 0)
		return sig_fail(p, n, "%s must not be empty", what);
	*ret = s;
	return 0;
}

struct sig_key {
	const char *name;
	bool required;
};

/*
 * Check a mapping against its schema: keys are scalars, known, not
 * repeated; required ones present. values[i] receives the value node of
 * keys[i] or NULL.
 */
static int sig_map(struct sig_parser *p, const yaml_node_t *map,
		   const char *what, const struct sig_key *keys, size_t n_keys,
		   yaml_node_t **values)
{
	yaml_node_t *key_nodes[8] = {0};
	yaml_node_pair_t *pair;
	size_t i;

	if (n_keys > AW_ARRAY_SIZE(key_nodes))
		return -EINVAL;
	if (map->type != YAML_MAPPING_NODE)
		return sig_fail(p, map, "%s must be a mapping, found %s", what,
				node_kind(map));
	for (i = 0; i < n_keys; i++)
		values[i] = NULL;

	for (pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = sig_node(p, pair->key);
		yaml_node_t *v = sig_node(p, pair->value);
		const char *name;

		if (!k || !v)
			return sig_fail(p, map, "malformed mapping");
		if (k->type != YAML_SCALAR_NODE)
			return sig_fail(p, k,
					"keys in %s must be scalars, found %s",
					what, node_kind(k));
		name = (const char *)k->data.scalar.value;
		for (i = 0; i < n_keys; i++)
			if (strlen(keys[i].name) == k->data.scalar.length &&
			    !memcmp(keys[i].name, name, k->data.scalar.length))
				break;
		if (i == n_keys) {
			char list[128] = "";
			size_t j, off = 0;

			for (j = 0; j < n_keys && off < sizeof(list); j++)
				off += snprintf(list + off, sizeof(list) - off,
						"%s%s", j ? ", " : "",
						keys[j].name);
			return sig_fail(
			    p, k, "unknown key '%.64s' in %s (expected %s)",
			    name, what, list);
		}
		if (key_nodes[i])
			return sig_fail(
			    p, k,
			    "duplicate key '%s' in %s (first at line %lu)",
			    keys[i].name, what,
			    (unsigned long)key_nodes[i]->start_mark.line + 1);
		key_nodes[i] = k;
		values[i] = v;
	}
	for (i = 0; i < n_keys; i++)
		if (keys[i].required && !values[i])
			return sig_fail(p, map,
					"%s is missing required key '%s'", what,
					keys[i].name);
	return 0;
}

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

	r = sig_scalar(p, n, what, &s);
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

	r = sig_scalar(p, n, "pattern", &s);
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

	r = sig_scalar(p, n, "content", &s);
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
	static const struct sig_key keys[] = {
	    {"exe", false},
	    {"script", false},
	    {"content", false},
	};
	size_t i, n;
	int r;

	if (seq->type != YAML_SEQUENCE_NODE)
		return sig_fail(p, seq, "'match' must be a list, found %s",
				node_kind(seq));
	n = seq->data.sequence.items.top - seq->data.sequence.items.start;
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
		yaml_node_t *m = sig_node(p, seq->data.sequence.items.start[i]);
		yaml_node_t *v[AW_ARRAY_SIZE(keys)];

		if (!m)
			return sig_fail(p, seq, "malformed list");
		r = sig_map(p, m, "match entry", keys, AW_ARRAY_SIZE(keys), v);
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
	static const struct sig_key keys[] = {
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

	r = sig_map(p, map, "signature", keys, AW_ARRAY_SIZE(keys), v);
	if (r < 0)
		return r;
	sig->line = map->start_mark.line + 1;
	sig->column = map->start_mark.column + 1;
	sig->file = strdup(p->name);
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
	static const struct sig_key keys[] = {
	    [K_VERSION] = {"version", true},
	    [K_INTERPRETERS] = {"interpreters", false},
	    [K_SIGNATURES] = {"signatures", false},
	    [K_LLM_APIS] = {"llm-apis", false},
	};
	yaml_node_t *v[AW_ARRAY_SIZE(keys)];
	yaml_node_t *root = yaml_document_get_root_node(p->doc);
	const char *version;
	size_t i, n;
	int r;

	if (!root) {
		sig_diag(
		    p->diag, p->name, 1, 1,
		    "empty document: expected a mapping with 'version: 1'");
		return -EINVAL;
	}
	r = sig_map(p, root, "the top level", keys, AW_ARRAY_SIZE(keys), v);
	if (r < 0)
		return r;
	r = sig_scalar(p, v[K_VERSION], "'version'", &version);
	if (r < 0)
		return r;
	if (strcmp(version, "1"))
		return sig_fail(
		    p, v[K_VERSION],
		    "unsupported version '%.32s' (this build reads version 1)",
		    version);

	if (v[K_INTERPRETERS]) {
		yaml_node_t *seq = v[K_INTERPRETERS];

		if (seq->type != YAML_SEQUENCE_NODE)
			return sig_fail(
			    p, seq, "'interpreters' must be a list, found %s",
			    node_kind(seq));
		n = seq->data.sequence.items.top -
		    seq->data.sequence.items.start;
		if (n > AW_SIG_INTERPRETERS_MAX)
			return sig_fail(p, seq,
					"%zu interpreters, the limit is %d", n,
					AW_SIG_INTERPRETERS_MAX);
		out->interpreters =
		    calloc(n ? n : 1, sizeof(*out->interpreters));
		if (!out->interpreters)
			return -ENOMEM;
		for (i = 0; i < n; i++) {
			yaml_node_t *e =
			    sig_node(p, seq->data.sequence.items.start[i]);

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

		if (seq->type != YAML_SEQUENCE_NODE)
			return sig_fail(p, seq,
					"'llm-apis' must be a list, found %s",
					node_kind(seq));
		n = seq->data.sequence.items.top -
		    seq->data.sequence.items.start;
		if (n > AW_SIG_LLM_APIS_MAX)
			return sig_fail(p, seq, "%zu llm-apis, the limit is %d",
					n, AW_SIG_LLM_APIS_MAX);
		out->llm_apis = calloc(n ? n : 1, sizeof(*out->llm_apis));
		if (!out->llm_apis)
			return -ENOMEM;
		for (i = 0; i < n; i++) {
			yaml_node_t *e =
			    sig_node(p, seq->data.sequence.items.start[i]);
			const char *name;

			if (!e)
				return sig_fail(p, seq, "malformed list");
			r = sig_scalar(p, e, "an llm-apis entry", &name);
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

		if (seq->type != YAML_SEQUENCE_NODE)
			return sig_fail(p, seq,
					"'signatures' must be a list, found %s",
					node_kind(seq));
		n = seq->data.sequence.items.top -
		    seq->data.sequence.items.start;
		if (n > AW_SIG_SIGS_MAX)
			return sig_fail(p, seq,
					"%zu signatures, the limit is %d", n,
					AW_SIG_SIGS_MAX);
		out->sigs = calloc(n ? n : 1, sizeof(*out->sigs));
		if (!out->sigs)
			return -ENOMEM;
		for (i = 0; i < n; i++) {
			yaml_node_t *e =
			    sig_node(p, seq->data.sequence.items.start[i]);

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

/* A reader error about UTF-8: placed at the byte a user has to fix. */
static int sig_utf8_error(struct sig_parser *p, const yaml_parser_t *parser)
{
	aw_utf8_fault(p->data, p->len, parser->problem_offset, parser->problem,
		      "signature files", p->diag, p->name);
	return -EINVAL;
}

static int sig_yaml_error(struct sig_parser *p, const yaml_parser_t *parser)
{
	unsigned line, column;

	switch (parser->error) {
	case YAML_MEMORY_ERROR:
		sig_diag(p->diag, p->name, 0, 0, "out of memory");
		return -ENOMEM;
	case YAML_READER_ERROR:
		/* Reader errors carry a byte offset, not a mark. */
		if (parser->problem && strstr(parser->problem, "UTF-8"))
			return sig_utf8_error(p, parser);
		aw_text_place(p->data, p->len, parser->problem_offset, &line,
			      &column);
		sig_diag(p->diag, p->name, line, column,
			 "invalid character: %s (0x%02x)",
			 parser->problem ? parser->problem : "unknown",
			 (unsigned)parser->problem_value);
		return -EINVAL;
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
	case YAML_COMPOSER_ERROR:
		if (parser->context)
			sig_diag(
			    p->diag, p->name, parser->problem_mark.line + 1,
			    parser->problem_mark.column + 1,
			    "YAML syntax error: %s (%s at line %lu, column "
			    "%lu)",
			    parser->problem ? parser->problem : "unknown",
			    parser->context,
			    (unsigned long)parser->context_mark.line + 1,
			    (unsigned long)parser->context_mark.column + 1);
		else
			sig_diag(p->diag, p->name,
				 parser->problem_mark.line + 1,
				 parser->problem_mark.column + 1,
				 "YAML syntax error: %s",
				 parser->problem ? parser->problem : "unknown");
		return -EINVAL;
	case YAML_NO_ERROR:
	case YAML_WRITER_ERROR:
	case YAML_EMITTER_ERROR:
		break;
	}
	sig_diag(p->diag, p->name, 0, 0, "YAML error");
	return -EINVAL;
}

/* Parse one document into out (which the caller frees in any case). */
static int sig_parse(const char *name, const char *data, size_t len,
		     struct aw_sigdb *out, struct aw_diag *diag)
{
	struct sig_parser p = {
	    .name = name, .data = data, .len = len, .diag = diag};
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	int r;

	if (len > AW_SIG_FILE_MAX) {
		sig_diag(diag, name, 0, 0,
			 "file is %zu bytes, the limit is %d (1 MiB)", len,
			 AW_SIG_FILE_MAX);
		return -EFBIG;
	}
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	/* No BOM sniffing into UTF-16: we promise UTF-8 only. */
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);

	if (!yaml_parser_load(&parser, &doc)) {
		r = sig_yaml_error(&p, &parser);
		yaml_parser_delete(&parser);
		return r;
	}
	p.doc = &doc;
	r = sig_parse_root(&p, out);
	if (r >= 0) {
		/* A second document would be silently ignored otherwise. */
		if (!yaml_parser_load(&parser, &extra)) {
			r = sig_yaml_error(&p, &parser);
		} else {
			yaml_node_t *root = yaml_document_get_root_node(&extra);

			if (root) {
				p.doc = &extra;
				r = sig_fail(
				    &p, root,
				    "more than one YAML document in the file");
			}
			yaml_document_delete(&extra);
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return r;
}

struct sig_pat_ref {
	const char *pattern;
	int start; /* AW_MATCH_EXE for exe + interpreters, else script */
	size_t order;
	const char *file;
	unsigned line, column;
	const char *owner; /* signature id, or NULL for an interpreter */
};

static int sig_pat_ref_cmp(const void *a, const void *b)
{
	const struct sig_pat_ref *x = a, *y = b;
	int c;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	c = strcmp(x->pattern, y->pattern);
	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void sig_add_refs(struct sig_pat_ref *refs, size_t *n,
			 const struct aw_sigdb *db, const char *interp_file)
{
	size_t i, j;

	for (i = 0; i < db->n_sigs; i++)
		for (j = 0; j < db->sigs[i].n_matches; j++) {
			const struct aw_match *m = &db->sigs[i].matches[j];

			refs[*n] = (struct sig_pat_ref){
			    .pattern = m->pattern,
			    .start = m->kind,
			    .order = *n,
			    .file = db->sigs[i].file,
			    .line = m->line,
			    .column = m->column,
			    .owner = db->sigs[i].id,
			};
			(*n)++;
		}
	for (i = 0; i < db->n_interpreters; i++) {
		const struct aw_match *m = &db->interpreters[i];

		refs[*n] = (struct sig_pat_ref){
		    .pattern = m->pattern,
		    .start = AW_MATCH_EXE,
		    .order = *n,
		    .file = interp_file,
		    .line = m->line,
		    .column = m->column,
		};
		(*n)++;
	}
}

static size_t sig_count_patterns(const struct aw_sigdb *db)
{
	size_t i, n = db->n_interpreters;

	for (i = 0; i < db->n_sigs; i++)
		n += db->sigs[i].n_matches;
	return n;
}

/*
 * Checks that need the whole database: limits, duplicate ids, the same
 * pattern twice for one start. `dbs` in load order; `names[i]` is the
 * file of dbs[i]'s interpreters (signatures carry their own).
 */
static int sig_check(const struct aw_sigdb *const *dbs,
		     const char *const *names, size_t n_dbs,
		     struct aw_diag *diag)
{
	const struct aw_signature *all[AW_SIG_SIGS_MAX];
	struct sig_pat_ref *refs, *dup = NULL;
	size_t i, j, k, n_sigs = 0, n_interp = 0, n_refs = 0, n_pat = 0;

	for (k = 0; k < n_dbs; k++) {
		for (i = 0; i < dbs[k]->n_sigs; i++) {
			const struct aw_signature *s = &dbs[k]->sigs[i];

			if (n_sigs == AW_SIG_SIGS_MAX) {
				sig_diag(
				    diag, s->file, s->line, s->column,
				    "more than %d signatures in the database",
				    AW_SIG_SIGS_MAX);
				return -E2BIG;
			}
			for (j = 0; j < n_sigs; j++)
				if (!strcmp(all[j]->id, s->id)) {
					sig_diag(
					    diag, s->file, s->line, s->column,
					    "duplicate id '%s' (first defined "
					    "at %.96s:%u)",
					    s->id, all[j]->file, all[j]->line);
					return -EINVAL;
				}
			all[n_sigs++] = s;
		}
		n_interp += dbs[k]->n_interpreters;
		if (n_interp > AW_SIG_INTERPRETERS_MAX) {
			sig_diag(diag, names[k], 0, 0,
				 "more than %d interpreters in the database",
				 AW_SIG_INTERPRETERS_MAX);
			return -E2BIG;
		}
		n_pat += sig_count_patterns(dbs[k]);
	}

	if (!n_pat)
		return 0;
	refs = calloc(n_pat, sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	for (k = 0; k < n_dbs; k++)
		sig_add_refs(refs, &n_refs, dbs[k], names[k]);
	qsort(refs, n_refs, sizeof(*refs), sig_pat_ref_cmp);
	/* Report the duplicate written last-but-earliest: the second
	 * occurrence that comes first in load order. */
	for (i = 1; i < n_refs; i++)
		if (refs[i].start == refs[i - 1].start &&
		    !strcmp(refs[i].pattern, refs[i - 1].pattern) &&
		    (!dup || refs[i].order < dup->order))
			dup = &refs[i];
	if (dup) {
		const struct sig_pat_ref *first = dup - 1;

		while (first > refs && first[-1].start == dup->start &&
		       !strcmp(first[-1].pattern, dup->pattern))
			first--;
		sig_diag(
		    diag, dup->file, dup->line, dup->column,
		    "pattern '%.64s' already used by %s%s at %.64s:%u",
		    dup->pattern, first->owner ? "signature " : "interpreters",
		    first->owner ? first->owner : "", first->file, first->line);
		free(refs);
		return -EINVAL;
	}
	free(refs);
	return 0;
}

/* Move src's contents to the end of dst; src ends up empty. Nothing in
 * dst changes unless this succeeds. */
static int sig_append(struct aw_sigdb *dst, struct aw_sigdb *src)
{
	struct aw_signature *sigs = dst->sigs;
	struct aw_match *interp = dst->interpreters;

	if (src->n_sigs) {
		sigs = malloc((dst->n_sigs + src->n_sigs) * sizeof(*sigs));
		if (!sigs)
			return -ENOMEM;
	}
	if (src->n_interpreters) {
		interp = malloc((dst->n_interpreters + src->n_interpreters) *
				sizeof(*interp));
		if (!interp) {
			if (sigs != dst->sigs)
				free(sigs);
			return -ENOMEM;
		}
	}
	if (sigs != dst->sigs) {
		if (dst->n_sigs)
			memcpy(sigs, dst->sigs, dst->n_sigs * sizeof(*sigs));
		memcpy(sigs + dst->n_sigs, src->sigs,
		       src->n_sigs * sizeof(*sigs));
		free(dst->sigs);
		dst->sigs = sigs;
		dst->n_sigs += src->n_sigs;
	}
	if (interp != dst->interpreters) {
		if (dst->n_interpreters)
			memcpy(interp, dst->interpreters,
			       dst->n_interpreters * sizeof(*interp));
		memcpy(interp + dst->n_interpreters, src->interpreters,
		       src->n_interpreters * sizeof(*interp));
		free(dst->interpreters);
		dst->interpreters = interp;
		dst->n_interpreters += src->n_interpreters;
	}
	if (src->n_llm_apis) {
		char **l =
		    realloc(dst->llm_apis,
			    (dst->n_llm_apis + src->n_llm_apis) * sizeof(*l));

		if (!l)
			return -ENOMEM; /* (sigs moved: src keeps the rest) */
		memcpy(l + dst->n_llm_apis, src->llm_apis,
		       src->n_llm_apis * sizeof(*l));
		dst->llm_apis = l;
		dst->n_llm_apis += src->n_llm_apis;
	}
	/* the strings now belong to dst */
	free(src->sigs);
	free(src->interpreters);
	free(src->llm_apis);
	memset(src, 0, sizeof(*src));
	return 0;
}

/* Check new (from file `name`) against db, then move it in. */
static int sig_merge(struct aw_sigdb *db, struct aw_sigdb *new,
		     const char *name, struct aw_diag *diag)
{
	const struct aw_sigdb *dbs[2] = {db, new};
	const char *names[2] = {"(loaded before)", name};
	int r;

	r = sig_check(dbs, names, 2, diag);
	if (r < 0)
		return r;
	return sig_append(db, new);
}

int aw_sigdb_load_buffer(struct aw_sigdb *db, const char *name,
			 const char *data, size_t len, struct aw_diag *diag)
{
	struct aw_sigdb tmp = {0};
	int r;

	if (!db || (!data && len))
		return -EINVAL;
	if (!name)
		name = "(buffer)";
	r = sig_parse(name, data ? data : "", len, &tmp, diag);
	if (r >= 0)
		r = sig_merge(db, &tmp, name, diag);
	aw_sigdb_free(&tmp);
	return r;
}

/* Read a whole regular file of at most AW_SIG_FILE_MAX bytes. */
static int sig_read_file(const char *path, char **ret_data, size_t *ret_len,
			 struct aw_diag *diag)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int r = -errno;

		sig_diag(diag, path, 0, 0, "cannot open: %s", strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		int r = -errno;

		sig_diag(diag, path, 0, 0, "cannot stat: %s", strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		sig_diag(diag, path, 0, 0, "not a regular file");
		return -EINVAL;
	}
	if (st.st_size > AW_SIG_FILE_MAX)
		goto too_big;
	/* One byte more than the limit, so a file that grows under us is
	 * caught too. */
	buf = malloc(AW_SIG_FILE_MAX + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf + len, AW_SIG_FILE_MAX + 1 - len);

		if (n < 0) {
			int r = -errno;

			if (r == -EINTR)
				continue;
			sig_diag(diag, path, 0, 0, "cannot read: %s",
				 strerror(-r));
			return r;
		}
		if (n == 0)
			break;
		len += n;
		if (len > AW_SIG_FILE_MAX)
			goto too_big;
	}
	*ret_data = AW_TAKE_PTR(buf);
	*ret_len = len;
	return 0;

too_big:
	sig_diag(diag, path, 0, 0, "file is larger than %d bytes (1 MiB)",
		 AW_SIG_FILE_MAX);
	return -EFBIG;
}

int aw_sigdb_load_file(struct aw_sigdb *db, const char *path,
		       struct aw_diag *diag)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int r;

	if (!db || !path)
		return -EINVAL;
	r = sig_read_file(path, &data, &len, diag);
	if (r < 0)
		return r;
	return aw_sigdb_load_buffer(db, path, data, len, diag);
}

static int sig_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool sig_is_yaml_name(const char *name)
{
	size_t len = strlen(name);

	/* dotfiles are editor and package-manager leftovers */
	return name[0] != '.' && len > 5 && !strcmp(name + len - 5, ".yaml");
}

int aw_sigdb_load_dir(struct aw_sigdb *db, const char *dir,
		      struct aw_diag *diag)
{
	struct aw_sigdb all = {0};
	char *names[AW_SIG_DIR_FILES_MAX];
	size_t i, n = 0;
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (!db || !dir)
		return -EINVAL;
	d = opendir(dir);
	if (!d) {
		r = -errno;
		sig_diag(diag, dir, 0, 0, "cannot open directory: %s",
			 strerror(-r));
		return r;
	}
	while ((errno = 0, de = readdir(d))) {
		if (!sig_is_yaml_name(de->d_name))
			continue;
		if (n == AW_SIG_DIR_FILES_MAX) {
			sig_diag(diag, dir, 0, 0,
				 "more than %d *.yaml files in the directory",
				 AW_SIG_DIR_FILES_MAX);
			r = -E2BIG;
			goto out;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			r = -ENOMEM;
			goto out;
		}
		n++;
	}
	if (errno) {
		r = -errno;
		sig_diag(diag, dir, 0, 0, "cannot read directory: %s",
			 strerror(-r));
		goto out;
	}
	if (n == 0) {
		/* An empty database classifies nothing: fail closed. */
		sig_diag(diag, dir, 0, 0, "no signature files (*.yaml) found");
		r = -ENOENT;
		goto out;
	}
	qsort(names, n, sizeof(names[0]), sig_name_cmp);

	for (i = 0; i < n; i++) {
		_cleanup_free_ char *path = NULL;
		_cleanup_free_ char *data = NULL;
		struct aw_sigdb one = {0};
		const struct aw_sigdb *dbs[3] = {db, &all, &one};
		const char *dbnames[3] = {"(loaded before)", dir, NULL};
		size_t len;

		if (asprintf(&path, "%s/%s", dir, names[i]) < 0) {
			path = NULL;
			r = -ENOMEM;
			goto out;
		}
		r = sig_read_file(path, &data, &len, diag);
		if (r < 0)
			goto out;
		r = sig_parse(path, data, len, &one, diag);
		if (r >= 0) {
			/* against the caller's db and the files before */
			dbnames[2] = path;
			r = sig_check(dbs, dbnames, 3, diag);
		}
		if (r >= 0)
			r = sig_append(&all, &one);
		aw_sigdb_free(&one);
		if (r < 0)
			goto out;
	}
	r = sig_append(db, &all);

out:
	closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	aw_sigdb_free(&all);
	return r;
}

const struct aw_signature *aw_sigdb_find(const struct aw_sigdb *db,
					 const char *id)
{
	size_t i;

	if (!db || !id)
		return NULL;
	for (i = 0; i < db->n_sigs; i++)
		if (!strcmp(db->sigs[i].id, id))
			return &db->sigs[i];
	return NULL;
}
