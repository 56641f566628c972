/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Data files compiled in by tools/embed-files.py (the default signature
 * database, policy templates, the page of agentwall web), so the daemon runs on
 * its defaults with nothing installed beside it.
 */
#ifndef AW_EMBEDDED_H
#define AW_EMBEDDED_H

#include <stddef.h>

struct aw_embedded_file {
	const char *name; /* "embedded:<folder>/<file>", for diagnostics */
	const char *data;
	size_t len;
};

extern const struct aw_embedded_file aw_embedded_signatures[];
extern const size_t aw_embedded_signatures_count;
extern const struct aw_embedded_file aw_embedded_policies[];
extern const size_t aw_embedded_policies_count;
extern const struct aw_embedded_file aw_embedded_web[]; /* agentwall web */
extern const size_t aw_embedded_web_count;

#endif
