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
