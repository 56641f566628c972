/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The signature database: which programs are AI agents.
 *
 * Loaded from the YAML files in signatures/ (libyaml), validated with precise
 * file:line:column diagnostics, and compiled into the kernel's form: a DFA
 * over path components walked from the leaf towards the root (see
 * bpf/abi/agentwall_abi.h), plus rules telling the kernel what each accept
 * means. Nothing here touches the kernel; the daemon writes the compiled
 * tables into maps.
 */
#ifndef AW_SIGNATURES_H
#define AW_SIGNATURES_H

#include <stddef.h>
#include <stdint.h>

#include "shared/diag.h"

/* Limits on what a signature file may ask of us (bounded memory and time,
 * whoever wrote the file). */
#define AW_SIG_FILE_MAX (1024 * 1024) /* bytes per file */
#define AW_SIG_DIR_FILES_MAX 256      /* *.yaml files per directory */
#define AW_SIG_SIGS_MAX 1024	      /* signatures in a database */
#define AW_SIG_MATCHES_MAX 64	      /* match entries per signature */
#define AW_SIG_INTERPRETERS_MAX 64    /* interpreter patterns in a database */
#define AW_SIG_PATTERN_MAX 4096	      /* bytes per pattern */
#define AW_SIG_COMPONENT_MAX 255      /* bytes per pattern component */
#define AW_SIG_ID_MAX 64	      /* bytes per signature id */
#define AW_SIG_TEXT_MAX 128	      /* bytes per vendor / product name */
#define AW_SIG_PACKAGE_MAX 214	      /* npm's own limit on package names */

enum aw_match_kind {
	AW_MATCH_EXE = 1,    /* pattern on the executable's real path */
	AW_MATCH_SCRIPT = 2, /* pattern on an interpreter's script argument */
};

/*
 * One pattern. Components separated by '/'; a component is a literal name
 * or '*' (any one name). A leading '**' makes it a suffix pattern (matches
 * under any directory); otherwise it must be absolute and matches only the
 * whole path.
 */
struct aw_match {
	enum aw_match_kind kind;
	char *pattern;
	unsigned line, column; /* where it was written, for diagnostics */
};

/*
 * Content identity: a shipped binary, by its SHA-256 and size. The size is
 * the kernel's prefilter (in the inode at exec); the digest is checked by
 * the daemon on a size match.
 */
struct aw_content {
	uint8_t sha256[32];
	uint64_t size;
	unsigned line, column;
};

struct aw_signature {
	char *id;      /* vendor.product, e.g. openai.codex-cli */
	char *vendor;  /* display name, e.g. OpenAI */
	char *product; /* display name, e.g. Codex CLI */
	char *class;   /* coding-agent, desktop-assistant, computer-use,
			  mcp-server, ... */
	char *package; /* npm package name for version lookup, may be NULL */
	struct aw_match *matches;
	size_t n_matches;
	struct aw_content *contents; /* `content:` match entries */
	size_t n_contents;
	char *file;	       /* file it came from */
	unsigned line, column; /* where its mapping starts */
};

#define AW_SIG_LLM_APIS_MAX 256

struct aw_sigdb {
	struct aw_signature *sigs;
	size_t n_sigs;
	/* Interpreter exe patterns (e.g. "**\/node"): their script argument is
	 * matched against the script patterns. */
	struct aw_match *interpreters;
	size_t n_interpreters;
	/* Host names of LLM APIs (behaviour-based discovery). */
	char **llm_apis;
	size_t n_llm_apis;
};

/* Check one pattern's syntax (the rules above, plus the limits). Returns 0
 * or -EINVAL with a human reason in why (may be NULL). Used by the parser
 * and again by the compiler, which may be handed a hand-built db. */
int aw_sig_pattern_check(const char *pattern, char *why, size_t why_len);

/* Parse one YAML file and append to db. On error fill diag, return -EINVAL
 * (or -errno for I/O) and leave db as it was. */
int aw_sigdb_load_file(struct aw_sigdb *db, const char *path,
		       struct aw_diag *diag);
/* Parse an in-memory document; name is used in diagnostics. */
int aw_sigdb_load_buffer(struct aw_sigdb *db, const char *name,
			 const char *data, size_t len, struct aw_diag *diag);
/* Load every *.yaml in dir (sorted), all or nothing; cross-file checks
 * (duplicate ids) included. */
int aw_sigdb_load_dir(struct aw_sigdb *db, const char *dir,
		      struct aw_diag *diag);
void aw_sigdb_free(struct aw_sigdb *db);
const struct aw_signature *aw_sigdb_find(const struct aw_sigdb *db,
					 const char *id);

/* Content identity (content.c): the SHA-256 of a whole file (read with
 * pread from offset 0: the descriptor's position is left alone), whether
 * any `content:` entry has this size (the cheap prefilter), and the
 * signature a size and digest name (NULL: none). */
int aw_content_sha256_fd(int fd, uint8_t out[32]);
int aw_sigdb_content_size_named(const struct aw_sigdb *db, uint64_t size);
const struct aw_signature *aw_sigdb_content_find(const struct aw_sigdb *db,
						 uint64_t size,
						 const uint8_t sha256[32]);

/* Compiled kernel tables. State numbers and rule numbers are relative to
 * 0 here; the daemon adds the bank base when it writes them. State 0 is
 * the dead state and never used as a real state. */
struct aw_dfa_trans_entry {
	uint32_t state;
	uint64_t name_hash; /* AW_DFA_OTHER (0) for "any other name" */
	uint32_t next;
};

struct aw_compiled_rule {
	uint32_t sig_index; /* index into db->sigs, or UINT32_MAX for an
			       interpreter rule */
	uint16_t kind;	    /* enum aw_rule_kind from the ABI */
	const char *pattern;
};

struct aw_compiled {
	struct aw_dfa_trans_entry *trans;
	size_t n_trans;
	/* per state: accept / root_accept as rule index + 1, 0 for none */
	uint32_t *accept;
	uint32_t *root_accept;
	size_t n_states;
	uint32_t exe_start;
	uint32_t script_start;
	struct aw_compiled_rule *rules;
	size_t n_rules;
};

/* Fails with -E2BIG (and a diag) if the tables exceed the ABI limits.
 * Rules point at db's pattern strings: keep db alive while ret is used.
 * n_states counts state 0, so accept[] and root_accept[] have n_states
 * entries and accept[0] == root_accept[0] == 0. */
int aw_sigdb_compile(const struct aw_sigdb *db, struct aw_compiled *ret,
		     struct aw_diag *diag);
void aw_compiled_free(struct aw_compiled *c);

/* Run the compiled DFA in user space exactly as the kernel does; used by
 * tests and by `agentwall signatures check --path`. Returns rule index + 1
 * or 0. `path` is split on '/', walked from the last component; empty
 * components are skipped, "." and ".." are names like any other (the
 * kernel's dentry walk never sees them; a script argument may). At most
 * AW_WALK_DEPTH components are walked: a deeper path never reaches the
 * root. Only an absolute path can reach the root (root_accept). */
uint32_t aw_compiled_match(const struct aw_compiled *c, uint32_t start,
			   const char *path);

#endif
