/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef AW_CLI_H
#define AW_CLI_H

#include <limits.h>
#include <stdint.h>

/* Exit codes: what a script can rely on. */
enum aw_exit {
	AW_EXIT_OK = 0,
	AW_EXIT_FAIL = 1,      /* the operation failed */
	AW_EXIT_USAGE = 2,     /* bad command line */
	AW_EXIT_NO_DAEMON = 3, /* agentwalld not reachable */
	AW_EXIT_INVALID = 4,   /* input rejected (e.g. a signature file) */
	AW_EXIT_PENDING = 5,   /* commit: some changes were not taken
				  (conflicts, or held for approval) */
	AW_EXIT_TAMPERED = 6,  /* log --verify: the hash chain is broken */
};

struct aw_cli {
	char state_dir[PATH_MAX]; /* "" = defaults */
	char socket_path[PATH_MAX];
	char store_path[PATH_MAX];
};

/* Paths from --state-dir or the defaults. */
void aw_cli_paths(struct aw_cli *cli);
/* Handle --state-dir DIR inside a subcommand's own options. */
int aw_cli_common_opt(struct aw_cli *cli, int c, const char *arg);

/* Send one request line, collect the whole reply (malloc'd, NUL-ended).
 * Returns -errno; on failure err says why. */
int aw_cli_request(const struct aw_cli *cli, const char *req, char **ret,
		   char *err, size_t errlen);

/* A session named on the command line: its 16 hex digits, a unique
 * prefix of them, or `last` (the newest kept session the caller may
 * see). Writes the full id; returns an AW_EXIT_* code, having said why
 * on stderr. */
int aw_cli_session_resolve(struct aw_cli *cli, const char *arg, char ret[17],
			   const char *what);

struct aw_buf;
/* A kept session's changes as `agentwall diff [--json]` gives them
 * (cmd_review.c), into out: read here if this user may, else rendered by
 * the daemon. Returns an AW_EXIT_* code, having said why on stderr. */
int aw_cli_diff(struct aw_cli *cli, const char *sid, int json,
		struct aw_buf *out);

int cmd_status(struct aw_cli *cli, int argc, char **argv);
int cmd_ps(struct aw_cli *cli, int argc, char **argv);
int cmd_log(struct aw_cli *cli, int argc, char **argv);
int cmd_top(struct aw_cli *cli, int argc, char **argv);
int cmd_web(struct aw_cli *cli, int argc, char **argv);
int cmd_signatures(struct aw_cli *cli, int argc, char **argv);
int cmd_run(struct aw_cli *cli, int argc, char **argv);
int cmd_policy(struct aw_cli *cli, int argc, char **argv);
int cmd_sessions(struct aw_cli *cli, int argc, char **argv);
int cmd_diff(struct aw_cli *cli, int argc, char **argv);
int cmd_commit(struct aw_cli *cli, int argc, char **argv);
int cmd_discard(struct aw_cli *cli, int argc, char **argv);
int cmd_approve(struct aw_cli *cli, int argc, char **argv);
int cmd_gc(struct aw_cli *cli, int argc, char **argv);
int cmd_inventory(struct aw_cli *cli, int argc, char **argv);

/* The database agentwalld uses without --signatures: the files compiled
 * in, then /etc/agentwall/signatures.d if present (cmd_signatures.c). */
struct aw_sigdb;
struct aw_diag;
int aw_cli_default_sigdb(struct aw_sigdb *db, struct aw_diag *diag);

/* log --verify (log_verify.c): prove the store's hash chain, check the
 * running daemon's head and `anchor` (may be NULL) against it. */
struct aw_chain_anchor;
int aw_log_verify(struct aw_cli *cli, const struct aw_chain_anchor *anchor,
		  int json);
/* --anchor ID:HASH; 0 or -EINVAL. */
int aw_log_parse_anchor(const char *arg, struct aw_chain_anchor *ret);

/* RFC 3339 UTC, @UNIX-SECONDS, or an age ("90s", "10m", "2h", "7d") before
 * now, as realtime ns (cmd_log.c). */
int aw_cli_parse_time(const char *s, uint64_t *ret);

#define AW_OPT_STATE_DIR 1000

/* main()'s arguments as given (src/cli/full.c passes them on). */
extern char **aw_cli_argv;

#endif
