/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A strict TOML 1.0 reader for the configuration files agents keep
 * (Codex's ~/.codex/config.toml): tables, dotted and quoted keys, arrays
 * of tables, basic, literal and multi-line strings, integers, floats,
 * booleans, dates and times (kept as their text), arrays and inline
 * tables. The document becomes the same tree as a JSON document
 * (shared/jsonr.h): tables are AW_JV_OBJ, numbers and dates AW_JV_NUM
 * with their text.
 *
 * What TOML forbids is refused with the place and the reason: a key or a
 * table defined twice, a table extended after it was defined inline or
 * by dotted keys, bad escapes, invalid UTF-8, control characters, NUL.
 * Depth and size are bounded as in the JSON reader.
 */
#ifndef AW_TOML_H
#define AW_TOML_H

#include <stddef.h>

#include "shared/diag.h"
#include "shared/jsonr.h"

int aw_toml_parse(const char *data, size_t len, const char *name,
		  struct aw_jv **ret, struct aw_diag *diag);

#endif
