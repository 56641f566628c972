/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The sink every daemon stage emits through (src/daemon/emit.c). The
 * simple forms (aw_events_emit_simple, aw_events_emit_decision) and the
 * JSON helpers are declared in daemon.h with the rest of the daemon's
 * calls; this header holds the full record, for the decoder.
 */
#ifndef AW_DAEMON_EMIT_H
#define AW_DAEMON_EMIT_H

#include <stdint.h>

struct aw_daemon;
struct aw_procinfo;

struct aw_emit_info {
	const char *action;
	struct aw_procinfo *pi; /* may be NULL for daemon-level events */
	uint64_t session;
	uint64_t ktime; /* boottime ns; 0 = now */
	const char *target;
	const char *rule;
	int subagent;
	int new_session;
	int has_exit;
	int exit_code;
	int exe_trunc, args_trunc;
	const char *extra_json; /* appended members, without braces */
	const char *decision;	/* NULL: allow */
};

void aw_emit(struct aw_daemon *d, const struct aw_emit_info *e);
/* A boottime timestamp (the kernel's) as wall-clock ns. */
uint64_t aw_realtime_of(struct aw_daemon *d, uint64_t boot_ns);

#endif
