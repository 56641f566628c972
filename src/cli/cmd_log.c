// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "shared/json.h"
#include "shared/ocsf.h"
#include "shared/util.h"
#include "store/store.h"

/* What `--action` and `--decision` may name (docs/events.md): a typo
 * is an error, not an empty answer. */
static const char *const actions[] = {
    "exec",	   "fork",    "exit",	  "tool-start",	 "session-start",
    "session-end", "notice",  "sandbox",  "force",	 "syscall",
    "commit",	   "discard", "approve",  "quota",	 "inventory",
    "connect",	   "dns",     "discover", "drop",	 "open",
    "write",	   "signal",  "hold",	  "policy-load", "signatures-reload",
    NULL,
};
static const char *const decisions[] = {"allow",    "deny",  "sandbox",
					"escalate", "audit", NULL};

static int known(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return 1;
	return 0;
}

static const char *list_of(const char *const *list)
{
	static char buf[512];
	size_t n = 0;

	buf[0] = 0;
	for (; *list && n < sizeof(buf); list++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
				      n ? ", " : "", *list);
	return buf;
}

/* --ocsf: each event's JSON line rendered as an OCSF event (ocsf.h). */
static struct aw_jdoc ocsf_doc;
static struct aw_buf ocsf_out;

static void print_ocsf(const char *json)
{
	aw_buf_reset(&ocsf_out);
	if (aw_ocsf_render(&ocsf_doc, json, strlen(json), &ocsf_out) < 0) {
		fprintf(stderr,
			"agentwall log: an event could not be "
			"rendered as OCSF: %.80s\n",
			json);
		return;
	}
	puts(ocsf_out.data);
}

static int print_cb(void *ud, const char *text, const char *json)
{
	int how = *(int *)ud;

	if (how == 2)
		print_ocsf(json);
	else
		puts(how ? json : text);
	return 0;
}

/*
 * An ordinary user cannot read the store (root's, or the group's): the
 * daemon answers the same query for the sessions the user started
 * (control request log-query), "r ROW" lines then "end last=ID".
 */
static int log_via_daemon(struct aw_cli *cli, const struct aw_store_query *q,
			  int json, int follow, int from_end)
{
	uint64_t last = q->after_id;
	int first = 1;
	/* --follow from the end: the first answer only says where the end
	 * is (the newest matching row; none: all later ones are new). */
	int skip = follow && from_end && !q->limit && !q->since_ns;

	for (;;) {
		struct aw_buf req = {};
		char *reply = NULL, err[512];
		int r;

		aw_buf_puts(&req, "log-query");
		if (q->session)
			aw_buf_printf(&req, " session=%llx",
				      (unsigned long long)q->session);
		if (q->agent) {
			aw_buf_puts(&req, " agent=");
			aw_pct_encode(&req, q->agent, strlen(q->agent));
		}
		if (q->action) {
			aw_buf_puts(&req, " action=");
			aw_pct_encode(&req, q->action, strlen(q->action));
		}
		if (q->decision) {
			aw_buf_puts(&req, " decision=");
			aw_pct_encode(&req, q->decision, strlen(q->decision));
		}
		aw_buf_printf(&req, " since=%llu until=%llu after=%llu json=%d",
			      (unsigned long long)q->since_ns,
			      (unsigned long long)q->until_ns,
			      (unsigned long long)last, json ? 1 : 0);
		if (first && (q->limit || skip))
			aw_buf_printf(&req, " limit=%llu",
				      skip ? 1ull
					   : (unsigned long long)q->limit);
		aw_buf_add(&req, "", 1);
		r = req.oom ? -ENOMEM
			    : aw_cli_request(cli, req.data, &reply, err,
					     sizeof(err));
		aw_buf_free(&req);
		if (r < 0) {
			fprintf(stderr,
				"agentwall log: the store is not readable "
				"here and the daemon did not answer: %s\n",
				err);
			return AW_EXIT_FAIL;
		}
		for (char *l = reply, *nl; l && *l; l = nl ? nl + 1 : NULL) {
			nl = strchr(l, '\n');
			if (nl)
				*nl = 0;
			if (!strncmp(l, "r ", 2)) {
				if (!skip && json == 2)
					print_ocsf(l + 2);
				else if (!skip)
					puts(l + 2);
			} else if (!strncmp(l, "end last=", 9)) {
				aw_parse_u64(l + 9, &last);
			} else if (!strncmp(l, "error", 5)) {
				fprintf(stderr, "agentwall log: %s\n", l);
				free(reply);
				return AW_EXIT_FAIL;
			}
		}
		free(reply);
		first = 0;
		skip = 0;
		if (!follow)
			return AW_EXIT_OK;
		fflush(stdout);
		usleep(250000);
	}
}

int cmd_log(struct aw_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"session", required_argument, NULL, 's'},
	    {"agent", required_argument, NULL, 'a'},
	    {"action", required_argument, NULL, 'A'},
	    {"decision", required_argument, NULL, 'd'},
	    {"since", required_argument, NULL, 'S'},
	    {"until", required_argument, NULL, 'U'},
	    {"limit", required_argument, NULL, 'n'},
	    {"json", no_argument, NULL, 'j'},
	    {"ocsf", no_argument, NULL, 'O'},
	    {"follow", no_argument, NULL, 'f'},
	    {"from-start", no_argument, NULL, 'F'},
	    {"verify", no_argument, NULL, 'V'},
	    {"anchor", required_argument, NULL, 'H'},
	    {"state-dir", required_argument, NULL, AW_OPT_STATE_DIR},
	    {}};
	struct aw_store_query q = {};
	struct aw_store *st = NULL;
	const char *session_arg = NULL;
	char err[512];
	int c, json = 0, follow = 0, from_start = 0, verify = 0, r;
	struct aw_chain_anchor anchor;
	int have_anchor = 0;
	uint64_t last = 0;

	while ((c = getopt_long(argc, argv, "s:a:A:d:S:U:n:jf", longopts,
				NULL)) != -1) {
		if (aw_cli_common_opt(cli, c, optarg))
			continue;
		switch (c) {
		case 's':
			session_arg = optarg;
			break;
		case 'a':
			q.agent = optarg;
			break;
		case 'A':
			if (!known(optarg, actions)) {
				fprintf(stderr,
					"agentwall log: --action %s: not an "
					"action (one of %s)\n",
					optarg, list_of(actions));
				return AW_EXIT_USAGE;
			}
			q.action = optarg;
			break;
		case 'd':
			if (!known(optarg, decisions)) {
				fprintf(stderr,
					"agentwall log: --decision %s: not a "
					"decision (one of %s)\n",
					optarg, list_of(decisions));
				return AW_EXIT_USAGE;
			}
			q.decision = optarg;
			break;
		case 'S':
		case 'U':
			if (aw_cli_parse_time(optarg, c == 'S'
							  ? &q.since_ns
							  : &q.until_ns) < 0) {
				fprintf(stderr,
					"agentwall log: %s %s: "
					"expected 2026-11-28T05:00:00Z, @UNIX, "
					"or an age like 10m, 2h, 7d\n",
					c == 'S' ? "--since" : "--until",
					optarg);
				return AW_EXIT_USAGE;
			}
			break;
		case 'n': {
			uint64_t v;

			if (aw_parse_u64(optarg, &v) < 0) {
				fprintf(stderr,
					"agentwall log: --limit %s: "
					"not a number\n",
					optarg);
				return AW_EXIT_USAGE;
			}
			q.limit = v;
			break;
		}
		case 'j':
			json = json ? json : 1;
			break;
		case 'O':
			json = 2;
			break;
		case 'f':
			follow = 1;
			break;
		case 'F':
			from_start = 1;
			break;
		case 'V':
			verify = 1;
			break;
		case 'H':
			if (aw_log_parse_anchor(optarg, &anchor) < 0) {
				fprintf(
				    stderr,
				    "agentwall log: --anchor %s: expected "
				    "ID:HASH (a row id and its 64-hex-digit "
				    "hash, as status prints the head)\n",
				    optarg);
				return AW_EXIT_USAGE;
			}
			have_anchor = 1;
			break;
		default:
			return AW_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "agentwall log: unexpected argument %s\n",
			argv[optind]);
		return AW_EXIT_USAGE;
	}
	if (verify && follow) {
		fprintf(stderr,
			"agentwall log: --verify and --follow do not go "
			"together\n");
		return AW_EXIT_USAGE;
	}
	if (from_start && !follow && !verify) {
		fprintf(stderr,
			"agentwall log: --from-start goes with --follow\n");
		return AW_EXIT_USAGE;
	}
	if (have_anchor && !verify) {
		fprintf(stderr, "agentwall log: --anchor goes with --verify\n");
		return AW_EXIT_USAGE;
	}
	if (verify && (session_arg || q.agent || q.action || q.decision ||
		       q.since_ns || q.until_ns || q.limit || from_start)) {
		fprintf(stderr, "agentwall log: --verify proves the whole "
				"store; it takes no filters\n");
		return AW_EXIT_USAGE;
	}
	if (verify)
		return aw_log_verify(cli, have_anchor ? &anchor : NULL, json);
	if (session_arg) {
		/* A kept session by prefix or `last`; any other id (a
		 * session with no store: no sandbox) taken as it is. */
		char sid[17], *end;

		if (strlen(session_arg) == 16 ||
		    aw_cli_session_resolve(cli, session_arg, sid, "log") != 0)
			snprintf(sid, sizeof(sid), "%s", session_arg);
		errno = 0;
		q.session = strtoull(sid, &end, 16);
		if (errno || *end || !*sid || strlen(sid) > 16 ||
		    sid[0] == '-' || sid[0] == '+') {
			fprintf(stderr,
				"agentwall log: --session %s: expected a "
				"session (16 hex digits, a prefix, `last`)\n",
				session_arg);
			return AW_EXIT_USAGE;
		}
	}
	r = aw_store_open_ro(cli->store_path, &st, err, sizeof(err));
	if (r == -EACCES || r == -EPERM)
		return log_via_daemon(cli, &q, json, follow, !from_start);
	if (r < 0) {
		fprintf(stderr, "agentwall log: store %s: %s\n",
			cli->store_path, err);
		return AW_EXIT_FAIL;
	}
	q.last_id = &last;
	/* --follow starts at the end (like tail -f): only what happens from
	 * now on, or the newest --limit rows first, or those since --since;
	 * --from-start shows the whole history first. */
	if (follow && !from_start && !q.limit && !q.since_ns)
		r = aw_store_last_id(st, &last);
	else
		r = aw_store_query_events(st, &q, print_cb, &json);
	/* --follow: then every new matching row as the daemon commits it
	 * (every 200 ms), until interrupted. Rows are read by id, so a
	 * prune of old rows meanwhile loses nothing new. */
	while (follow && r >= 0) {
		fflush(stdout);
		usleep(250000);
		q.limit = 0;
		q.after_id = last;
		r = aw_store_query_events(st, &q, print_cb, &json);
	}
	aw_store_close(st);
	aw_jdoc_free(&ocsf_doc);
	aw_buf_free(&ocsf_out);
	if (r < 0) {
		fprintf(stderr, "agentwall log: query failed: %s\n",
			strerror(-r));
		return AW_EXIT_FAIL;
	}
	return AW_EXIT_OK;
}
