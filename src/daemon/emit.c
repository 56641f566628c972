// SPDX-License-Identifier: GPL-2.0-only
/*
 * The events' one way out: every stage (the decoder, sessions, the
 * forcing thread, the resolver, the secrets thread's records, the
 * control socket) hands its event here, and this formats it once for
 * the store (through the writer thread), the export stream and the
 * terminal, with the agent, the acting process and its lineage from the
 * process cache. It calls nothing above it: a sink.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/emit.h"
#include "daemon/metrics.h"
#include "daemon/outputs.h"
#include "daemon/writer.h"
#include "shared/util.h"

const struct aw_sigref *aw_daemon_sig(struct aw_daemon *d, uint32_t number)
{
	if (number == 0 || number >= d->n_sigs || !d->sigs[number].id)
		return NULL;
	return &d->sigs[number];
}

/* RFC 3339 with microseconds; the date and time part is reused while the
 * second does not change. */
static void format_time_cached(uint64_t ns, char *out, size_t len)
{
	static uint64_t cached_sec = UINT64_MAX;
	static char cached[64];
	uint64_t sec = ns / 1000000000ull;

	if (sec != cached_sec) {
		aw_format_time(sec * 1000000000ull, cached, sizeof(cached));
		cached_sec = sec;
	}
	/* cached is "YYYY-MM-DDTHH:MM:SS.000000Z": patch the fraction. */
	snprintf(out, len, "%s", cached);
	{
		uint32_t us = (ns / 1000) % 1000000;
		char *dot = strchr(out, '.');

		if (dot && strlen(dot) >= 8) {
			for (int i = 6; i >= 1; i--) {
				dot[i] = '0' + us % 10;
				us /= 10;
			}
		}
	}
}

void aw_store_lock(struct aw_daemon *d)
{
	if (d->writer)
		aw_writer_store_lock(d->writer);
}

void aw_store_unlock(struct aw_daemon *d)
{
	if (d->writer)
		aw_writer_store_unlock(d->writer);
}

uint64_t aw_daemon_user_drops(struct aw_daemon *d)
{
	uint64_t n = d->user_drops + aw_outputs_export_lost(d->outputs);

	if (d->writer)
		n += aw_writer_lost(d->writer);
	else if (d->store)
		n += aw_store_lost(d->store);
	return n;
}

uint64_t aw_realtime_of(struct aw_daemon *d, uint64_t boot_ns)
{
	if (!boot_ns)
		return aw_now_realtime_ns();
	return boot_ns + d->boot_realtime_offset;
}

void aw_json_agent(struct aw_buf *b, const struct aw_sigref *s,
		   const char *version)
{
	if (!s) {
		aw_buf_puts(b, "null");
		return;
	}
	aw_buf_puts(b, "{");
	aw_json_key(b, "id");
	aw_json_cstr(b, s->id);
	aw_buf_puts(b, ",");
	aw_json_key(b, "vendor");
	aw_json_cstr(b, s->vendor);
	aw_buf_puts(b, ",");
	aw_json_key(b, "product");
	aw_json_cstr(b, s->product);
	aw_buf_puts(b, ",");
	aw_json_key(b, "class");
	aw_json_cstr(b, s->class);
	aw_buf_puts(b, ",");
	aw_json_key(b, "version");
	aw_json_cstr(b, version);
	aw_buf_puts(b, "}");
}

void aw_json_argv(struct aw_buf *b, const char *argv, size_t len)
{
	size_t i = 0;
	int first = 1;

	aw_buf_puts(b, "[");
	while (argv && i < len) {
		size_t n = strnlen(argv + i, len - i);

		if (!first)
			aw_buf_puts(b, ",");
		first = 0;
		aw_json_str(b, argv + i, n);
		i += n + 1;
	}
	aw_buf_puts(b, "]");
}

static void text_argv(struct aw_buf *b, const char *argv, size_t len)
{
	size_t i = 0;

	while (argv && i < len) {
		size_t n = strnlen(argv + i, len - i);

		aw_buf_puts(b, " ");
		aw_text_sanitize(b, argv + i, n);
		i += n + 1;
		if (b->len > 400) {
			aw_buf_puts(b, " ...");
			break;
		}
	}
}

void aw_emit(struct aw_daemon *d, const struct aw_emit_info *e)
{
	struct aw_buf *j = &d->json, *t = &d->line;
	struct aw_sessioninfo *si = aw_sessions_get(d->procs, e->session);
	const struct aw_sigref *sess_agent =
	    si ? aw_daemon_sig(d, si->agent) : NULL;
	const struct aw_sigref *agent = sess_agent;
	const char *version = si ? si->version : NULL;
	uint64_t rt = aw_realtime_of(d, e->ktime);
	char tbuf[64], sid[32];
	struct aw_procinfo *lin[64];
	size_t nl = 0;
	struct aw_store_event se = {};

	if (e->pi && e->pi->agent && e->pi->subagent) {
		agent = aw_daemon_sig(d, e->pi->agent);
		version = NULL;
	}
	format_time_cached(rt, tbuf, sizeof(tbuf));
	for (int i = 15; i >= 0; i--)
		sid[15 - i] = "0123456789abcdef"[(e->session >> (4 * i)) & 0xf];
	sid[16] = 0;

	aw_buf_reset(j);
	aw_buf_puts(j, "{\"schema\":\"agentwall.event/1\",");
	aw_json_key(j, "time");
	aw_json_cstr(j, tbuf);
	aw_buf_puts(j, ",");
	aw_json_key(j, "host");
	aw_json_cstr(j, d->hostname);
	aw_buf_puts(j, ",");
	aw_json_key(j, "session");
	if (e->session)
		aw_json_cstr(j, sid);
	else
		aw_buf_puts(j, "null");
	aw_buf_puts(j, ",");
	aw_json_key(j, "agent");
	aw_json_agent(j, agent, version);
	aw_buf_puts(j, ",");
	aw_json_key(j, "session_agent");
	aw_json_cstr(j, sess_agent ? sess_agent->id : NULL);
	if (e->pi) {
		struct aw_procinfo *pi = e->pi;

		aw_buf_puts(j, ",\"process\":{\"pid\":");
		aw_buf_put_u64(j, pi->pid);
		aw_buf_puts(j, ",\"ppid\":");
		aw_buf_put_u64(j, pi->ppid);
		aw_buf_puts(j, ",\"uid\":");
		aw_buf_put_u64(j, pi->uid);
		aw_buf_puts(j, ",");
		aw_json_key(j, "exe");
		aw_json_cstr(j, pi->exe);
		aw_buf_puts(j, ",");
		aw_json_key(j, "argv");
		aw_json_argv(j, pi->argv, pi->argv_len);
		aw_buf_puts(j, ",");
		aw_json_key(j, "cwd");
		aw_json_cstr(j, pi->cwd);
		aw_buf_puts(j, ",");
		aw_json_key(j, "comm");
		aw_json_str(j, pi->comm, strnlen(pi->comm, sizeof(pi->comm)));
		aw_buf_puts(j, ",\"start_time\":");
		aw_buf_put_u64(j, pi->start_time);
		aw_buf_puts(j, "}");
		nl = aw_procs_lineage(d->procs, pi, lin, AW_ARRAY_SIZE(lin));
		aw_buf_puts(j, ",\"lineage\":[");
		for (size_t i = 0; i < nl; i++) {
			aw_buf_puts(j, i ? ",{\"pid\":" : "{\"pid\":");
			aw_buf_put_u64(j, lin[i]->pid);
			aw_buf_puts(j, ",\"exe\":");
			aw_json_cstr(j, lin[i]->exe);
			aw_buf_puts(j, "}");
		}
		aw_buf_puts(j, "]");
	} else {
		aw_buf_puts(j, ",\"process\":null,\"lineage\":[]");
	}
	aw_buf_puts(j, ",");
	aw_json_key(j, "action");
	aw_json_cstr(j, e->action);
	aw_buf_puts(j, ",");
	aw_json_key(j, "target");
	aw_json_cstr(j, e->target);
	aw_buf_puts(j, ",");
	aw_json_key(j, "decision");
	aw_json_cstr(j, e->decision ? e->decision : "allow");
	aw_buf_puts(j, ",");
	aw_json_key(j, "rule");
	aw_json_cstr(j, e->rule ? e->rule : "observe");
	aw_buf_puts(j, d->opts.mode == AW_MODE_ENFORCE ? ",\"mode\":\"enforce\""
						       : ",\"mode\":\"audit\"");
	if (e->subagent)
		aw_buf_puts(j, ",\"subagent\":true");
	if (e->pi && e->pi->tool) {
		aw_buf_puts(j, ",");
		aw_json_key(j, "tool");
		aw_json_cstr(j, e->pi->tool);
	}
	if (e->has_exit) {
		aw_buf_puts(j, ",\"exit_code\":");
		aw_buf_put_i64(j, e->exit_code);
	}
	if (e->exe_trunc || e->args_trunc)
		aw_buf_printf(j, ",\"truncated\":[%s%s%s]",
			      e->exe_trunc ? "\"exe\"" : "",
			      e->exe_trunc && e->args_trunc ? "," : "",
			      e->args_trunc ? "\"argv\"" : "");
	if (e->extra_json) {
		aw_buf_puts(j, ",");
		aw_buf_puts(j, e->extra_json);
	}
	aw_buf_puts(j, "}");

	/* The readable line: time, session, agent, pid, action, target. */
	aw_buf_reset(t);
	{
		const char *aid = agent ? agent->id : "-";
		char pid[16];
		size_t n;

		aw_buf_add(t, tbuf + 11, 12);
		aw_buf_puts(t, "  ");
		aw_buf_puts(t, e->session ? sid : "----------------");
		aw_buf_puts(t, "  ");
		aw_buf_puts(t, aid);
		for (n = strlen(aid); n < 22; n++)
			aw_buf_add(t, " ", 1);
		n = snprintf(pid, sizeof(pid), "%u", e->pi ? e->pi->pid : 0);
		for (; n < 8; n++)
			aw_buf_add(t, " ", 1);
		aw_buf_puts(t, pid);
		aw_buf_puts(t, "  ");
		aw_buf_puts(t, e->action);
		for (n = strlen(e->action); n < 14; n++)
			aw_buf_add(t, " ", 1);
	}
	if (e->target)
		aw_text_sanitize(t, e->target, strlen(e->target));
	if (!strcmp(e->action, "exec") && e->pi && e->pi->argv) {
		size_t a0 = strnlen(e->pi->argv, e->pi->argv_len);

		if (a0 < e->pi->argv_len)
			text_argv(t, e->pi->argv + a0 + 1,
				  e->pi->argv_len - a0 - 1);
	}
	if (e->has_exit) {
		/* exit_code is a wait status: say it as a shell would. */
		if ((e->exit_code & 0x7f) == 0)
			aw_buf_printf(t, "exit %d", (e->exit_code >> 8) & 0xff);
		else
			aw_buf_printf(
			    t, "killed by signal %d%s", e->exit_code & 0x7f,
			    e->exit_code & 0x80 ? " (core dumped)" : "");
	}
	if (e->decision && strcmp(e->decision, "allow"))
		aw_buf_printf(t, "  [%s: %s]", e->decision,
			      e->rule ? e->rule : "?");
	if (e->subagent)
		aw_buf_puts(t, "  [sub-agent]");
	if (e->pi && e->pi->tool)
		aw_buf_printf(t, "  [tool %s]", e->pi->tool);
	if (e->new_session)
		aw_buf_printf(t, "  [new session: %s]", e->rule);

	if (j->oom || t->oom) {
		d->user_drops++;
		aw_buf_reset(j);
		aw_buf_reset(t);
		j->oom = t->oom = 0;
		return;
	}

	se.time_ns = rt;
	se.session = e->session;
	se.agent_id = agent ? agent->id : NULL;
	se.action = e->action;
	se.pid = e->pi ? e->pi->pid : 0;
	se.ppid = e->pi ? e->pi->ppid : 0;
	se.uid = e->pi ? e->pi->uid : 0;
	se.exe = e->pi ? e->pi->exe : NULL;
	se.target = e->target;
	se.decision = e->decision ? e->decision : "allow";
	se.rule = e->rule ? e->rule : "observe";
	aw_buf_add(t, "", 1);
	aw_buf_add(j, "", 1);
	se.text = t->data;
	se.json = j->data;
	if (d->writer) {
		if (aw_writer_add(d->writer, &se) < 0)
			d->user_drops++;
		else
			aw_metrics_event(d->metrics, e, se.decision,
					 sess_agent ? sess_agent->id : NULL);
	} else if (d->store && aw_store_add_event(d->store, &se) < 0) {
		d->user_drops++;
	}
	j->len--;
	t->len--;
	if (si)
		si->events++;

	if (d->outputs)
		aw_outputs_add(d->outputs, j->data, j->len);
	/* (With --export-format ocsf the outputs thread writes the file.) */
	if (d->export_fd >= 0 && !d->opts.export_ocsf) {
		aw_buf_add(j, "\n", 1);
		if (write(d->export_fd, j->data, j->len) != (ssize_t)j->len)
			d->user_drops++;
		j->len--;
	}
	if (!d->opts.quiet) {
		if (d->opts.json_stdout)
			printf("%.*s\n", (int)j->len, j->data);
		else
			printf("%.*s\n", (int)t->len, t->data);
	}
}

void aw_events_emit_simple(struct aw_daemon *d, const char *action,
			   uint64_t session, const char *target,
			   const char *rule, const char *detail_json)
{
	aw_events_emit_decision(d, action, session, 0, target, rule, NULL,
				detail_json);
}

void aw_events_emit_decision(struct aw_daemon *d, const char *action,
			     uint64_t session, uint32_t pid, const char *target,
			     const char *rule, const char *decision,
			     const char *detail_json)
{
	struct aw_procinfo *pi = pid ? aw_procs_get(d->procs, pid, 0) : NULL;
	struct aw_emit_info e = {
	    .action = action,
	    .pi = pi && pi->session == session ? pi : NULL,
	    .session = session,
	    .target = target,
	    .rule = rule,
	    .decision = decision,
	    .extra_json = detail_json,
	};

	aw_emit(d, &e);
}

/* Read a /proc link of pid only if pid is still the process we mean. */
/* ppid and start time (clock ticks) from /proc/PID/stat. */
