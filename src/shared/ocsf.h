/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Our events (agentwall.event/1, docs/events.md) as OCSF 1.8 events: one
 * mapping, used by the daemon's exports and by `agentwall log --ocsf`.
 * The table of which action becomes which class is in docs/events.md.
 */
#ifndef AW_OCSF_H
#define AW_OCSF_H

#include <stddef.h>

#include "shared/json.h"
#include "shared/json_read.h"

#define AW_OCSF_VERSION "1.8.0"

/* Append the OCSF rendering of one event line (line[0..len), without its
 * newline) to out, no newline added. doc is scratch space reused from
 * call to call (aw_jdoc_free it at the end). Returns the OCSF class_uid
 * (>= 0), -EINVAL if the line is not an agentwall.event/1 object (out
 * unchanged), -ENOMEM. */
int aw_ocsf_render(struct aw_jdoc *doc, const char *line, size_t len,
		   struct aw_buf *out);

#endif
