// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reviewing what sessions left in their copy-on-write stores:
 *
 *   agentwall sessions [--json]
 *   agentwall diff SESSION [PATH...] [--json]
 *   agentwall commit SESSION [PATH...] [--conflict keep|beside]
 *   agentwall discard SESSION [PATH...]
 *   agentwall approve SESSION
 *   agentwall gc [--older-than AGE]
 *
 * The daemon says where a session's store is, whose it is, and whether its
 * escalated changes were approved; it records every commit, discard and
 * approval. Reading and applying the changes happens here
 * (src/review/), with the session owner's credentials: root committing a
 * user's session becomes that user first, so nothing is written that the
 * user could not have written, and new files are the user's.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "review/review.h"
#include "shared/json.h"
#include "shared/util.h"

/* One request, its reply's first line checked for "ok". */
static int ask(struct aw_cli *cli, const char *req, char **reply,
	       const char *what)
{
	char err[1024];
	int r = aw_cli_request(cli, req, reply, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "agentwall %s: %s\n", what, err);
		return AW_EXIT_NO_DAEMON;
	}
	if (!strncmp(*reply, "error", 5)) {
		fprintf(stderr, "agentwall %s: %s", what, *reply);
		return AW_EXIT_FAIL;
	}
	return AW_EXIT_OK;
}

/* Where the session's store is, and what the daemon says of it. */
struct where {
	char dir[PATH_MAX];
	uid_t uid;
	gid_t gid;
	int approved;
};

static int locate(struct aw_cli *cli, const char *op, const char *session,
		  struct where *w, const char *what)
{
	char req[128], v[64], err[1024], *reply = NULL;
	uint64_t n;
	int r;

	snprintf(req, sizeof(req), "session-review op=%s session=%s", op,
		 session);
	/* A session whose last process just went may still be closing in
	 * the daemon (its exit not yet read): a moment's grace, asked
	 * quietly; only the last answer is said. */
	for (int tries = 0;; tries++) {
		free(reply);
		reply = NULL;
		if (aw_cli_request(cli, req, &reply, err, sizeof(err)) < 0) {
			fprintf(stderr, "agentwall %s: %s\n", what, err);
			return AW_EXIT_NO_DAEMON;
		}
		if (strncmp(reply, "error", 5)) {
			r = AW_EXIT_OK;
			break;
		}
		if (!strstr(reply, "still running") || tries >= 20) {
			fprintf(stderr, "agentwall %s: %s", what, reply);
			r = AW_EXIT_FAIL;
			break;
		}
		usleep(100000);
	}
	if (r == AW_EXIT_OK && strchr(reply, '\n'))
		*strchr(reply, '\n') = 0;
	if (r == AW_EXIT_OK) {
		if (aw_kv_get(reply + 3, "dir", w->dir, sizeof(w->dir)) < 0 ||
		    aw_kv_get(reply + 3, "uid", v, sizeof(v)) < 0 ||
		    aw_parse_u64(v, &n) < 0) {
			fprintf(stderr, "agentwall %s: malformed reply\n",
				what);
			r = AW_EXIT_FAIL;
		} else {
			w->uid = (uid_t)n;
			if (aw_kv_get(reply + 3, "gid", v, sizeof(v)) == 0 &&
			    aw_parse_u64(v, &n) == 0)
				w->gid = (gid_t)n;
			w->approved = aw_kv_get(reply + 3, "approved", v,
						sizeof(v)) == 0 &&
				      !strcmp(v, "1");
		}
	}
	free(reply);
	return r;
}

/* Root acts on a user's session as that user. */
static int become(const struct where *w, const char *what)
{
	struct passwd *pw;

	if (geteuid() != 0 || w->uid == 0)
		return 0;
	pw = getpwuid(w->uid);
	if ((pw ? initgroups(pw->pw_name, w->gid) : setgroups(0, NULL)) < 0 ||
	    setresgid(w->gid, w->gid, w->gid) < 0 ||
	    setresuid(w->uid, w->uid, w->uid) < 0) {
		fprintf(stderr, "agentwall %s: cannot become uid %u: %s\n",
			what, (unsigned)w->uid, strerror(errno));
		return -1;
	}
	return 0;
}

static int scan(struct aw_review *rv, const struct where *w, char *const *paths,
		size_t n, const char *what)
{
	int r = aw_review_scan(rv, w->dir);

	if (r < 0) {
		fprintf(stderr, "agentwall %s: %s\n", what, rv->err);
		aw_review_free(rv);
		return AW_EXIT_FAIL;
	}
	if (aw_review_select(rv, paths, n)) {
		/* A path with no change: nothing to do there, not a usage
		 * mistake. */
		aw_review_free(rv);
		return AW_EXIT_FAIL;
	}
	return AW_EXIT_OK;
}

/* Options, then SESSION, then paths (getopt permutes them out). The
 * session is resolved (a prefix, `last`) into sid, which argv[] then
 * points to. Returns its index, or -(exit code). */
static int session_arg(struct aw_cli *cli, int argc, char **argv,
		       const char *what, const char *usage, char sid[17])
{
	int r;

	if (optind >= argc) {
		fprintf(stderr, "Usage: agentwall %s %s\n", what, usage);
		return -AW_EXIT_USAGE;
	}
	r = aw_cli_session_resolve(cli, argv[optind], sid, what);
	if (r)
		return -r;
	argv[optind] = sid;
	return optind++;
}

/* ---- sessions ------------------------------------------------------------ */

static void human_bytes(char *buf, size_t len, uint64_t b)
{
	static const char *const u[] = {"B", "K", "M", "G", "T"};
	double v = (double)b;
	size_t i = 0;

	while (v >= 1024 && i + 1 < AW_ARRAY_SIZE(u)) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, i ? "%.1f%s" : "%.0f%s", v, u[i]);
}

int cmd_sessions(struct aw_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"state-dir", required_argument, NULL, AW_OPT_STATE_DIR},
	    {"help", no_argument, NULL, 'h'},
	    {}};
	int c, json = 0, r, first = 1;
	char *reply = NULL;
	struct aw_buf out = {};

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (aw_cli_common_opt(cli, c, optarg))
			continue;
		if (c == 'j') {
			json = 1;
			continue;
		}
		fprintf(c == 'h' ? stdout : stderr,
			"Usage: agentwall sessions [--json]\n");
		return c == 'h' ? AW_EXIT_OK : AW_EXIT_USAGE;
	}
	r = ask(cli, "session-list", &reply, "sessions");
	if (r)
		return r;
	if (json)
		aw_buf_puts(&out, "[");
	else
		aw_buf_printf(&out,
			      "%-16s  %-9s  %-16s  %-10s  %-20s  %-16s  %6s  "
			      "%8s  %-24s  %s\n",
			      "SESSION", "STATE", "STARTED", "OWNER", "AGENT",
			      "POLICY", "FILES", "BYTES", "WORKSPACE",
			      "COMMAND");
	for (char *line = reply, *nl; (nl = strchr(line, '\n'));
	     line = nl + 1) {
		char id[32], state[16], agent[80], policy[80], dir[PATH_MAX],
		    command[1100], ws[PATH_MAX], v[32], hb[32];
		uint64_t files = 0, bytes = 0, approved = 0, started = 0,
			 ended = 0, used = 0, uid = (uint64_t)-1;
		int readable = 0;

		*nl = 0;
		if (strncmp(line, "session ", 8))
			continue;
		if (aw_kv_get(line, "id", id, sizeof(id)) < 0 ||
		    aw_kv_get(line, "state", state, sizeof(state)) < 0 ||
		    aw_kv_get(line, "dir", dir, sizeof(dir)) < 0)
			continue;
		aw_kv_get(line, "agent", agent, sizeof(agent)) < 0
		    ? (void)snprintf(agent, sizeof(agent), "-")
		    : (void)0;
		if (aw_kv_get(line, "policy", policy, sizeof(policy)) < 0)
			snprintf(policy, sizeof(policy), "-");
		if (aw_kv_get(line, "command", command, sizeof(command)) < 0)
			command[0] = 0;
		if (aw_kv_get(line, "workspace", ws, sizeof(ws)) < 0)
			ws[0] = 0;
		if (aw_kv_get(line, "approved-at", v, sizeof(v)) == 0)
			aw_parse_u64(v, &approved);
		if (aw_kv_get(line, "started", v, sizeof(v)) == 0)
			aw_parse_u64(v, &started);
		if (aw_kv_get(line, "ended", v, sizeof(v)) == 0)
			aw_parse_u64(v, &ended);
		if (aw_kv_get(line, "used", v, sizeof(v)) == 0)
			aw_parse_u64(v, &used);
		if (aw_kv_get(line, "uid", v, sizeof(v)) == 0)
			aw_parse_u64(v, &uid);
		if (strcmp(state, "discarded")) {
			struct aw_review rv;

			if (aw_review_scan(&rv, dir) == 0) {
				readable = 1;
				files = rv.n_changes;
				for (size_t i = 0; i < rv.n_changes; i++)
					if (rv.changes[i].kind !=
					    AW_CHANGE_DELETED)
						bytes += (uint64_t)rv.changes[i]
							     .size;
			}
			aw_review_free(&rv);
		}
		if (json) {
			char t[64];

			aw_buf_puts(&out, first ? "{" : ",{");
			first = 0;
			aw_buf_printf(&out,
				      "\"session\":\"%s\",\"state\":\"%s\","
				      "\"approved\":%s,",
				      id, state, approved ? "true" : "false");
			aw_json_key(&out, "agent");
			if (strcmp(agent, "-"))
				aw_json_cstr(&out, agent);
			else
				aw_buf_puts(&out, "null");
			aw_buf_printf(&out, ",\"uid\":%lld,",
				      uid == (uint64_t)-1 ? -1LL
							  : (long long)uid);
			aw_json_key(&out, "policy");
			aw_json_cstr(&out, policy);
			aw_buf_puts(&out, ",");
			aw_json_key(&out, "command");
			aw_json_cstr(&out, command);
			aw_buf_puts(&out, ",");
			aw_json_key(&out, "workspace");
			aw_json_cstr(&out, ws);
			aw_buf_puts(&out, ",");
			aw_json_key(&out, "store");
			aw_json_cstr(&out, dir);
			aw_format_time(started, t, sizeof(t));
			aw_buf_printf(&out, ",\"started\":\"%s\"", t);
			if (ended) {
				aw_format_time(ended, t, sizeof(t));
				aw_buf_printf(&out, ",\"ended\":\"%s\"", t);
			}
			if (readable)
				aw_buf_printf(&out,
					      ",\"files\":%llu,\"bytes\":%llu",
					      (unsigned long long)files,
					      (unsigned long long)bytes);
			aw_buf_printf(&out, ",\"store_used\":%llu}",
				      (unsigned long long)used);
			continue;
		}
		human_bytes(hb, sizeof(hb), bytes);
		{
			char t[64], owner[32];
			struct passwd *pw =
			    uid != (uint64_t)-1 ? getpwuid((uid_t)uid) : NULL;

			aw_format_time(started, t, sizeof(t));
			/* 2026-12-06T20:33:57.123Z -> 2026-12-06 20:33 */
			if (strlen(t) >= 16) {
				t[10] = ' ';
				t[16] = 0;
			}
			if (pw)
				snprintf(owner, sizeof(owner), "%.10s",
					 pw->pw_name);
			else
				snprintf(owner, sizeof(owner), "%lld",
					 uid == (uint64_t)-1 ? -1LL
							     : (long long)uid);
			aw_buf_printf(&out, "%-16s  %-9s  %-16s  %-10s  ", id,
				      state, t, owner);
		}
		aw_text_sanitize(&out, agent, strlen(agent));
		aw_buf_printf(
		    &out, "%*s  ",
		    20 - (int)strlen(agent) > 0 ? 20 - (int)strlen(agent) : 0,
		    "");
		aw_text_sanitize(&out, policy, strlen(policy));
		aw_buf_printf(
		    &out, "%*s  ",
		    16 - (int)strlen(policy) > 0 ? 16 - (int)strlen(policy) : 0,
		    "");
		if (readable)
			aw_buf_printf(&out, "%6llu  %8s  ",
				      (unsigned long long)files, hb);
		else
			aw_buf_printf(&out, "%6s  %8s  ", "-", "-");
		{
			/* The workspace's last 24 characters: its end names
			 * the project. */
			size_t wl = strlen(ws);
			const char *wsp = wl > 24 ? ws + wl - 24 : ws;

			aw_text_sanitize(&out, wl ? wsp : "-",
					 wl ? strlen(wsp) : 1);
			aw_buf_printf(&out, "%*s  ",
				      24 - (int)(wl ? strlen(wsp) : 1) > 0
					  ? 24 - (int)(wl ? strlen(wsp) : 1)
					  : 0,
				      "");
		}
		aw_text_sanitize(&out, command, strnlen(command, 60));
		if (approved)
			aw_buf_puts(&out, "  (approved)");
		aw_buf_puts(&out, "\n");
	}
	if (json)
		aw_buf_puts(&out, "]\n");
	fwrite(out.data ? out.data : "", 1, out.len, stdout);
	aw_buf_free(&out);
	free(reply);
	return AW_EXIT_OK;
}

/* ---- diff ---------------------------------------------------------------- */

/* A reviewer of the security group cannot read the owner's store: the
 * daemon renders the diff (one PATH at most). */
static int render(struct aw_cli *cli, const char *session, const char *path,
		  int json, struct aw_buf *out)
{
	struct aw_buf req = {};
	char *reply = NULL, abs[PATH_MAX * 2], cwd[PATH_MAX];
	int r;

	aw_buf_printf(&req, "session-review op=render session=%s", session);
	if (json)
		aw_buf_printf(&req, " json=%s", session);
	if (path) {
		if (path[0] != '/' && getcwd(cwd, sizeof(cwd)))
			snprintf(abs, sizeof(abs), "%s/%s", cwd, path);
		else
			snprintf(abs, sizeof(abs), "%s", path);
		aw_buf_puts(&req, " path=");
		aw_pct_encode(&req, abs, strlen(abs));
	}
	r = req.oom ? AW_EXIT_FAIL : ask(cli, req.data, &reply, "diff");
	if (r == AW_EXIT_OK)
		aw_buf_puts(out, reply + 3);
	free(reply);
	aw_buf_free(&req);
	return r;
}

/* The diff of a resolved session (some of its paths) into out; an
 * AW_EXIT_* code, having said why on stderr. */
static int diff_into(struct aw_cli *cli, const char *sid, char *const *paths,
		     size_t n, int json, struct aw_buf *out)
{
	struct aw_review rv;
	struct where w = {};
	int r;

	r = locate(cli, "diff", sid, &w, "diff");
	if (r)
		return r;
	if (geteuid() != 0 && geteuid() != w.uid && access(w.dir, R_OK) < 0)
		return render(cli, sid, n == 1 ? paths[0] : NULL, json, out);
	r = scan(&rv, &w, paths, n, "diff");
	if (r)
		return r;
	if (json)
		aw_review_json(&rv, sid, out);
	else
		aw_review_diff(&rv, out);
	aw_review_free(&rv);
	return out->oom ? AW_EXIT_FAIL : AW_EXIT_OK;
}

int aw_cli_diff(struct aw_cli *cli, const char *sid, int json,
		struct aw_buf *out)
{
	return diff_into(cli, sid, NULL, 0, json, out);
}

int cmd_diff(struct aw_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"state-dir", required_argument, NULL, AW_OPT_STATE_DIR},
	    {"help", no_argument, NULL, 'h'},
	    {}};
	struct aw_buf out = {};
	char sid[17];
	int c, json = 0, r, s;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (aw_cli_common_opt(cli, c, optarg))
			continue;
		if (c == 'j') {
			json = 1;
			continue;
		}
		fprintf(c == 'h' ? stdout : stderr,
			"Usage: agentwall diff SESSION [PATH...] [--json]\n");
		return c == 'h' ? AW_EXIT_OK : AW_EXIT_USAGE;
	}
	s = session_arg(cli, argc, argv, "diff", "SESSION [PATH...] [--json]",
			sid);
	if (s < 0)
		return -s;
	r = diff_into(cli, argv[s], argv + optind, (size_t)(argc - optind),
		      json, &out);
	if (r == AW_EXIT_OK)
		fwrite(out.data ? out.data : "", 1, out.len, stdout);
	aw_buf_free(&out);
	return r;
}

/* ---- commit, discard ----------------------------------------------------- */

/* What was done, for the daemon's record: counts and the paths named. */
static void report_done(struct aw_cli *cli, const char *op, const char *session,
			const struct aw_commit_result *res, char *const *paths,
			size_t n)
{
	struct aw_buf req = {}, p = {};
	char *reply = NULL;

	for (size_t i = 0; i < n && p.len < 2048; i++) {
		if (i)
			aw_buf_puts(&p, " ");
		aw_buf_puts(&p, paths[i]);
	}
	aw_buf_printf(&req,
		      "session-review op=%s session=%s files=%zu bytes=%llu "
		      "conflicts=%zu held=%zu skipped=%zu remaining=%zu",
		      op, session, res->committed,
		      (unsigned long long)res->bytes, res->conflicts, res->held,
		      res->skipped + res->failed, res->remaining);
	if (p.len) {
		aw_buf_puts(&req, " paths=");
		aw_pct_encode(&req, p.data, p.len < 2048 ? p.len : 2048);
	}
	if (!req.oom && ask(cli, req.data, &reply, op) != AW_EXIT_OK)
		fprintf(stderr, "agentwall: the daemon did not record this\n");
	free(reply);
	aw_buf_free(&req);
	aw_buf_free(&p);
}

int cmd_commit(struct aw_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"conflict", required_argument, NULL, 'c'},
	    {"state-dir", required_argument, NULL, AW_OPT_STATE_DIR},
	    {"help", no_argument, NULL, 'h'},
	    {}};
	static const char usage[] =
	    "SESSION [PATH...] [--conflict keep|beside]";
	enum aw_conflict_mode mode = AW_CONFLICT_KEEP;
	struct aw_review rv;
	struct aw_commit_result res;
	struct where w = {};
	struct aw_buf out = {};
	char sid[17];
	int c, r, s;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (aw_cli_common_opt(cli, c, optarg))
			continue;
		if (c == 'c' &&
		    (!strcmp(optarg, "keep") || !strcmp(optarg, "beside"))) {
			mode = optarg[0] == 'k' ? AW_CONFLICT_KEEP
						: AW_CONFLICT_SIDE;
			continue;
		}
		fprintf(c == 'h' ? stdout : stderr,
			"Usage: agentwall commit %s\n", usage);
		return c == 'h' ? AW_EXIT_OK : AW_EXIT_USAGE;
	}
	s = session_arg(cli, argc, argv, "commit", usage, sid);
	if (s < 0)
		return -s;
	r = locate(cli, "commit", argv[s], &w, "commit");
	if (r)
		return r;
	if (become(&w, "commit") < 0)
		return AW_EXIT_FAIL;
	r = scan(&rv, &w, argv + optind, (size_t)(argc - optind), "commit");
	if (r)
		return r;
	if (aw_review_commit(&rv, argv[s], w.approved, mode, &out, &res) < 0) {
		fprintf(stderr, "agentwall commit: %s\n", rv.err);
		aw_review_free(&rv);
		return AW_EXIT_FAIL;
	}
	fwrite(out.data ? out.data : "", 1, out.len, stdout);
	printf("%zu committed (%llu byte%s), %zu conflict%s, %zu held for "
	       "approval, %zu not taken; %zu change%s left in session %s\n",
	       res.committed, (unsigned long long)res.bytes,
	       res.bytes == 1 ? "" : "s", res.conflicts,
	       res.conflicts == 1 ? "" : "s", res.held,
	       res.skipped + res.failed, res.remaining,
	       res.remaining == 1 ? "" : "s", argv[s]);
	report_done(cli, "commit-done", argv[s], &res, argv + optind,
		    (size_t)(argc - optind));
	aw_buf_free(&out);
	aw_review_free(&rv);
	if (res.failed)
		return AW_EXIT_FAIL;
	return res.conflicts || res.held ? AW_EXIT_PENDING : AW_EXIT_OK;
}

int cmd_discard(struct aw_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"state-dir", required_argument, NULL, AW_OPT_STATE_DIR},
	    {"help", no_argument, NULL, 'h'},
	    {}};
	struct aw_review rv;
	struct aw_commit_result res;
	struct where w = {};
	struct aw_buf out = {};
	char req[128], *reply = NULL;
	char sid[17];
	int c, r, s;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (aw_cli_common_opt(cli, c, optarg))
			continue;
		fprintf(c == 'h' ? stdout : stderr,
			"Usage: agentwall discard SESSION [PATH...]\n");
		return c == 'h' ? AW_EXIT_OK : AW_EXIT_USAGE;
	}
	s = session_arg(cli, argc, argv, "discard", "SESSION [PATH...]", sid);
	if (s < 0)
		return -s;
	if (optind >= argc) {
		/* All of it: the daemon drops the whole store. */
		snprintf(req, sizeof(req),
			 "session-review op=discard "
			 "session=%s",
			 argv[s]);
		r = ask(cli, req, &reply, "discard");
		free(reply);
		if (r == AW_EXIT_OK)
			printf("session %s discarded\n", argv[s]);
		return r;
	}
	r = locate(cli, "commit", argv[s], &w, "discard");
	if (r)
		return r;
	if (become(&w, "discard") < 0)
		return AW_EXIT_FAIL;
	r = scan(&rv, &w, argv + optind, (size_t)(argc - optind), "discard");
	if (r)
		return r;
	if (aw_review_discard(&rv, &out, &res) < 0) {
		fprintf(stderr, "agentwall discard: %s\n", rv.err);
		aw_review_free(&rv);
		return AW_EXIT_FAIL;
	}
	fwrite(out.data ? out.data : "", 1, out.len, stdout);
	if (!res.committed && !res.failed)
		printf("nothing to discard in session %s (%zu change%s left)\n",
		       argv[s], res.remaining, res.remaining == 1 ? "" : "s");
	else
		printf("%zu discarded; %zu change%s left in session %s\n",
		       res.committed, res.remaining,
		       res.remaining == 1 ? "" : "s", argv[s]);
	report_done(cli, "discard-done", argv[s], &res, argv + optind,
		    (size_t)(argc - optind));
	aw_buf_free(&out);
	aw_review_free(&rv);
	return res.failed ? AW_EXIT_FAIL : AW_EXIT_OK;
}

/* ---- approve, gc --------------------------------------------------------- */

int cmd_approve(struct aw_cli *cli, int argc, char **argv)
{
	char req[128], sid[17], *reply = NULL;
	struct where w = {};
	struct aw_review rv = {};
	int c, r;
	static const struct option longopts[] = {
	    {"state-dir", required_argument, NULL, AW_OPT_STATE_DIR},
	    {"help", no_argument, NULL, 'h'},
	    {}};

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (aw_cli_common_opt(cli, c, optarg))
			continue;
		fprintf(c == 'h' ? stdout : stderr,
			"Usage: agentwall approve SESSION\n");
		return c == 'h' ? AW_EXIT_OK : AW_EXIT_USAGE;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "Usage: agentwall approve SESSION\n");
		return AW_EXIT_USAGE;
	}
	r = aw_cli_session_resolve(cli, argv[optind], sid, "approve");
	if (r)
		return r;
	/* Nothing held, nothing to approve (when the store can be read
	 * here: root can; a reviewer of the group may not). */
	if (locate(cli, "diff", sid, &w, "approve") == AW_EXIT_OK &&
	    aw_review_scan(&rv, w.dir) == 0) {
		size_t held = 0;

		for (size_t i = 0; i < rv.n_changes; i++)
			held += rv.changes[i].escalated != 0;
		aw_review_free(&rv);
		if (!held) {
			printf("session %s: nothing is held for approval\n",
			       sid);
			return AW_EXIT_OK;
		}
	} else {
		aw_review_free(&rv);
	}
	snprintf(req, sizeof(req), "session-review op=approve session=%s", sid);
	r = ask(cli, req, &reply, "approve");
	if (r == AW_EXIT_OK)
		printf("session %s: its held changes are approved; the owner "
		       "may commit them now\n",
		       sid);
	free(reply);
	return r;
}

int cmd_gc(struct aw_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"older-than", required_argument, NULL, 'o'},
	    {"state-dir", required_argument, NULL, AW_OPT_STATE_DIR},
	    {"help", no_argument, NULL, 'h'},
	    {}};
	char req[128], *reply = NULL;
	uint64_t older = 0, t;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (aw_cli_common_opt(cli, c, optarg))
			continue;
		if (c == 'o' && strchr("smhd", optarg[strlen(optarg) - 1]) &&
		    aw_cli_parse_time(optarg, &t) == 0) {
			older = (aw_now_realtime_ns() - t) / 1000000000ull;
			if (!older)
				older = 1;
			continue;
		}
		fprintf(c == 'h' ? stdout : stderr,
			"Usage: agentwall gc [--older-than AGE (90s, 10m, "
			"2h, 7d)]\n");
		return c == 'h' ? AW_EXIT_OK : AW_EXIT_USAGE;
	}
	if (older)
		snprintf(req, sizeof(req),
			 "session-review op=gc older-than=%llu",
			 (unsigned long long)older);
	else
		snprintf(req, sizeof(req), "session-review op=gc");
	r = ask(cli, req, &reply, "gc");
	if (r == AW_EXIT_OK) {
		char v[32];
		uint64_t n = 0;

		if (strchr(reply, '\n'))
			*strchr(reply, '\n') = 0;
		if (aw_kv_get(reply + 3, "removed", v, sizeof(v)) == 0)
			aw_parse_u64(v, &n);
		printf("%llu session%s removed\n", (unsigned long long)n,
		       n == 1 ? "" : "s");
	}
	free(reply);
	return r;
}
