/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The event outputs beside the store (src/daemon/outputs.c): the export
 * file in OCSF, a webhook (HTTP POST of JSON lines) and syslog (RFC
 * 5424). Events reach them through one bounded queue and a thread of
 * their own; the webhook and syslog each have a further thread and
 * queue, so a slow or absent receiver never holds up the event loop nor
 * the export file.
 * Whatever a full queue or a failed send loses is counted (status).
 */
#ifndef AW_DAEMON_OUTPUTS_H
#define AW_DAEMON_OUTPUTS_H

#include <stddef.h>

#include "shared/json.h"

enum aw_out_format {
	AW_OUT_NATIVE, /* agentwall.event/1, docs/events.md */
	AW_OUT_OCSF,   /* OCSF 1.8, src/shared/ocsf.c */
};

struct aw_outputs_conf {
	int export_fd;		 /* -1: none; else the export file, in OCSF */
	const char *webhook_url; /* NULL: none; http://HOST[:PORT]/PATH */
	enum aw_out_format webhook_format;
	unsigned webhook_batch; /* events per POST at most */
	const char *syslog_to;	/* NULL: none; unix:PATH or udp:HOST:PORT */
	enum aw_out_format syslog_format;
	unsigned queue_max; /* events queued for the webhook (and for syslog)
			       at most */
	const char *hostname;
};

struct aw_outputs;

/* Check a --webhook URL / --syslog target: 0, or -EINVAL with why. */
int aw_outputs_check_url(const char *url, char *err, size_t errlen);
int aw_outputs_check_syslog(const char *to, char *err, size_t errlen);

/* Start the threads (c is copied; its strings too). */
int aw_outputs_start(const struct aw_outputs_conf *c, struct aw_outputs **ret,
		     char *err, size_t errlen);
/* One event line (native JSON, no newline), from the event loop. Never
 * waits for a network output; waits for room in the queue only while
 * the export file is behind (as the store's writer does). */
void aw_outputs_add(struct aw_outputs *o, const char *line, size_t len);
/* "outputs" for `agentwall status`: counters of each output. */
void aw_outputs_status(struct aw_outputs *o, struct aw_buf *b);
/* Events lost on the way to the export file (counted with the daemon's
 * own drops, as the native export's are). */
unsigned long long aw_outputs_export_lost(struct aw_outputs *o);
/* Write out what is queued (the webhook gets one last try, a short
 * one), stop the threads, free. */
void aw_outputs_stop(struct aw_outputs *o);

#endif
