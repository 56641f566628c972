// SPDX-License-Identifier: GPL-2.0-only
/*
 * `agentwall log --verify`: prove the store's hash chain and say where it
 * breaks. Read-only: root, or whoever may read the store file. The
 * running daemon's head (status), when it answers, and --anchor ID:HASH
 * (a head kept elsewhere) are checked against the store as anchors: they
 * are what catches a chain recomputed by someone with write access, or
 * newest rows deleted together with the head checkpoint.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "shared/json.h"
#include "shared/util.h"
#include "store/store.h"

static const char *const problem_names[] = {
    [AW_CHAIN_OK] = "ok",
    [AW_CHAIN_NONE] = "no-chain",
    [AW_CHAIN_EDITED] = "edited",
    [AW_CHAIN_MISSING] = "missing",
    [AW_CHAIN_REORDERED] = "reordered",
    [AW_CHAIN_UNCHAINED] = "unchained",
    [AW_CHAIN_CHECKPOINT] = "checkpoint-mismatch",
    [AW_CHAIN_TRUNCATED] = "truncated",
    [AW_CHAIN_APPENDED] = "appended",
    [AW_CHAIN_ANCHOR] = "anchor-mismatch",
    [AW_CHAIN_INSERTED] = "inserted",
};

/* ID:HASH (HASH: 64 hex digits), as `status` and the journal print it. */
int aw_log_parse_anchor(const char *arg, struct aw_chain_anchor *ret)
{
	char id[24];
	const char *colon = strchr(arg, ':');
	struct aw_chain_anchor a;

	if (!colon || (size_t)(colon - arg) >= sizeof(id) || colon == arg)
		return -EINVAL;
	memcpy(id, arg, (size_t)(colon - arg));
	id[colon - arg] = 0;
	if (aw_parse_u64(id, &a.id) < 0 || !a.id ||
	    aw_chain_unhex(colon + 1, a.hash) < 0)
		return -EINVAL;
	*ret = a;
	return 0;
}

/* The running daemon's committed head from its status, if it answers
 * (a user who may not reach the socket just goes without). */
static int daemon_head(struct aw_cli *cli, struct aw_chain_anchor *ret)
{
	char *reply = NULL, err[256], hex[2 * AW_CHAIN_HASH + 1];
	const char *p;
	unsigned long long id;
	int r = -ENOENT;

	if (aw_cli_request(cli, "status", &reply, err, sizeof(err)) < 0)
		return -ENOENT;
	p = reply ? strstr(reply, "\"chain\":{\"head_id\":") : NULL;
	if (p &&
	    sscanf(p,
		   "\"chain\":{\"head_id\":%llu,\"head_hash\":\"%64["
		   "0-9a-f]\"",
		   &id, hex) == 2 &&
	    id && aw_chain_unhex(hex, ret->hash) == 0) {
		ret->id = id;
		r = 0;
	}
	free(reply);
	return r;
}

static void print_json(const struct aw_chain_report *rep, int n_anchors)
{
	struct aw_buf b = {};
	char hex[2 * AW_CHAIN_HASH + 1], t[64];

	aw_buf_printf(&b, "{\"ok\":%s,\"problem\":",
		      rep->problem == AW_CHAIN_OK ? "true" : "false");
	aw_json_cstr(&b, problem_names[rep->problem]);
	aw_buf_printf(&b,
		      ",\"verified\":%" PRIu64 ",\"first_id\":%" PRIu64
		      ",\"last_id\":%" PRIu64 ",\"head_hash\":",
		      rep->verified, rep->first_id, rep->last_id);
	aw_chain_hex(rep->head, hex);
	aw_json_cstr(&b, hex);
	aw_buf_puts(&b, ",\"start\":{\"kind\":");
	aw_json_cstr(&b, rep->start_kind);
	aw_chain_hex(rep->start_hash, hex);
	aw_buf_printf(&b, ",\"id\":%" PRIu64 ",\"hash\":", rep->start_id);
	aw_json_cstr(&b, hex);
	aw_buf_printf(&b,
		      "},\"pruned\":%" PRIu64 ",\"unchained_before\":%" PRIu64
		      ",\"checkpoints\":%" PRIu64 ",\"anchors\":%d,"
		      "\"anchors_checked\":%" PRIu64
		      ",\"anchors_pruned\":%" PRIu64,
		      rep->pruned, rep->legacy, rep->checkpoints, n_anchors,
		      rep->anchors_checked, rep->anchors_pruned);
	if (rep->problem != AW_CHAIN_OK) {
		aw_buf_puts(&b, ",\"broken\":{");
		if (rep->bad_id) {
			aw_format_time(rep->bad_time_ns, t, sizeof(t));
			aw_buf_printf(
			    &b, "\"id\":%" PRIu64 ",\"time\":", rep->bad_id);
			aw_json_cstr(&b, t);
			aw_buf_puts(&b, ",\"action\":");
			aw_json_cstr(&b, rep->bad_action);
			aw_buf_puts(&b, ",");
		}
		aw_buf_puts(&b, "\"detail\":");
		aw_json_cstr(&b, rep->detail);
		aw_buf_puts(&b, "}");
	}
	aw_buf_puts(&b, "}");
	if (!b.oom)
		printf("%.*s\n", (int)b.len, b.data);
	aw_buf_free(&b);
}

static void print_text(const struct aw_chain_report *rep, int n_anchors,
		       int from_daemon)
{
	char hex[2 * AW_CHAIN_HASH + 1], t[64];

	if (rep->problem == AW_CHAIN_OK) {
		printf("chain intact: %" PRIu64 " rows verified",
		       rep->verified);
		if (rep->verified)
			printf(" (ids %" PRIu64 "..%" PRIu64 ")", rep->first_id,
			       rep->last_id);
		printf(" from the %s checkpoint at id %" PRIu64 "\n",
		       rep->start_kind, rep->start_id);
	} else {
		printf("chain BROKEN (%s): %" PRIu64
		       " rows verified before the break\n",
		       problem_names[rep->problem], rep->verified);
		if (rep->bad_id) {
			aw_format_time(rep->bad_time_ns, t, sizeof(t));
			printf("  first broken row: id %" PRIu64
			       ", %s, action %s\n",
			       rep->bad_id, t,
			       rep->bad_action[0] ? rep->bad_action : "-");
		}
		printf("  %s\n", rep->detail);
	}
	if (rep->pruned) {
		aw_chain_hex(rep->start_hash, hex);
		printf("  pruned by retention: %" PRIu64
		       " rows up to id %" PRIu64 " with hash %s\n",
		       rep->pruned, rep->start_id, hex);
	}
	if (rep->legacy)
		printf("  unchained rows from before the chain began: %" PRIu64
		       " (not covered)\n",
		       rep->legacy);
	printf("  checkpoints checked: %" PRIu64 "; anchors checked: %" PRIu64
	       " of %d%s",
	       rep->checkpoints, rep->anchors_checked, n_anchors,
	       from_daemon ? " (one is the running daemon's head)" : "");
	if (rep->anchors_pruned)
		printf(", %" PRIu64 " before the pruned point",
		       rep->anchors_pruned);
	printf("\n");
	if (rep->problem == AW_CHAIN_OK && rep->verified) {
		aw_chain_hex(rep->head, hex);
		printf("  head: %" PRIu64 ":%s\n", rep->last_id, hex);
	}
}

int aw_log_verify(struct aw_cli *cli, const struct aw_chain_anchor *anchor,
		  int json)
{
	struct aw_chain_anchor anchors[2];
	struct aw_chain_report rep;
	struct aw_store *st = NULL;
	char err[512];
	int n = 0, from_daemon = 0, r;

	if (anchor)
		anchors[n++] = *anchor;
	/* Asked before the store is read: whatever the daemon has
	 * committed by then is in the snapshot verified below. */
	if (daemon_head(cli, &anchors[n]) == 0) {
		n++;
		from_daemon = 1;
	}
	r = aw_store_open_ro(cli->store_path, &st, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "agentwall log --verify: store %s: %s\n",
			cli->store_path, err);
		return AW_EXIT_FAIL;
	}
	r = aw_store_verify(st, anchors, (size_t)n, &rep);
	aw_store_close(st);
	if (r < 0) {
		fprintf(stderr,
			"agentwall log --verify: reading the store: %s\n",
			strerror(-r));
		return AW_EXIT_FAIL;
	}
	if (rep.problem == AW_CHAIN_NONE) {
		fprintf(stderr, "agentwall log --verify: %s\n", rep.detail);
		return AW_EXIT_FAIL;
	}
	if (json)
		print_json(&rep, n);
	else
		print_text(&rep, n, from_daemon);
	return rep.problem == AW_CHAIN_OK ? AW_EXIT_OK : AW_EXIT_TAMPERED;
}
