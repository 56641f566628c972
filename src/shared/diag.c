// SPDX-License-Identifier: GPL-2.0-only
/*
 * Diagnostics as data: the first problem found is recorded with its place,
 * and formatted once by whoever reports it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "shared/diag.h"

void aw_diag_set(struct aw_diag *d, const char *file, unsigned line,
		 unsigned column, const char *fmt, ...)
{
	va_list ap;

	/* Later problems are usually consequences of the first: keep it. */
	if (!d || d->message[0])
		return;
	snprintf(d->file, sizeof(d->file), "%s", file ? file : "");
	d->line = line;
	d->column = column;
	va_start(ap, fmt);
	vsnprintf(d->message, sizeof(d->message), fmt, ap);
	va_end(ap);
	/* An empty message would make the next call overwrite this one. */
	if (!d->message[0])
		snprintf(d->message, sizeof(d->message), "error");
}

int aw_diag_format(const struct aw_diag *d, char *buf, size_t len)
{
	int n;

	if (!d || !buf || !len)
		return -EINVAL;
	if (d->line && d->column)
		n = snprintf(buf, len, "%s:%u:%u: %s", d->file, d->line,
			     d->column, d->message);
	else if (d->line)
		n = snprintf(buf, len, "%s:%u: %s", d->file, d->line,
			     d->message);
	else if (d->file[0])
		n = snprintf(buf, len, "%s: %s", d->file, d->message);
	else
		n = snprintf(buf, len, "%s", d->message);
	if (n < 0)
		return -EIO;
	/* Truncated output is still useful, but the caller may want to know. */
	if ((size_t)n >= len)
		return -ENOBUFS;
	return n;
}

void aw_text_place(const char *data, size_t len, size_t offset,
		   unsigned *ret_line, unsigned *ret_column)
{
	unsigned line = 1, column = 1;

	for (size_t i = 0; i < offset && i < len; i++) {
		unsigned char ch = (unsigned char)data[i];

		if (ch == '\n') {
			line++;
			column = 1;
		} else if ((ch & 0xc0) != 0x80) {
			column++;
		}
	}
	*ret_line = line;
	*ret_column = column;
}

/*
 * libyaml names the byte where decoding failed, which for a cut-short
 * sequence is the innocent byte after it: point at the sequence's first
 * byte instead, that is the one a user has to fix.
 */
void aw_utf8_fault(const char *data, size_t len, size_t off,
		   const char *problem, const char *what, struct aw_diag *d,
		   const char *file)
{
	const unsigned char *u = (const unsigned char *)data;
	int leading = problem && strstr(problem, "leading") != NULL;
	unsigned line, column;

	if (off > len)
		off = len;
	if (!leading && (off == len || u[off] < 0xc0)) {
		size_t back = off;

		while (back > 0 && off - back < 4 &&
		       (u[back - 1] & 0xc0) == 0x80)
			back--;
		if (back > 0 && u[back - 1] >= 0xc0)
			off = back - 1;
	}
	aw_text_place(data, len, off, &line, &column);
	if (off < len && leading)
		aw_diag_set(d, file, line, column,
			    "not valid UTF-8: byte 0x%02x cannot start a "
			    "character (%s must be UTF-8)",
			    u[off], what);
	else if (off < len && u[off] >= 0xc0)
		aw_diag_set(d, file, line, column,
			    "not valid UTF-8: byte 0x%02x starts a cut-short "
			    "sequence (%s must be UTF-8)",
			    u[off], what);
	else
		aw_diag_set(d, file, line, column,
			    "not valid UTF-8: %s (%s must be UTF-8)",
			    problem ? problem : "?", what);
}
