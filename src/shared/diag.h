/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Errors carried as data: parsers fill a diagnostic naming the place and
 * the reason; entry points format it once, at the edge.
 */
#ifndef AW_DIAG_H
#define AW_DIAG_H

#include <stddef.h>

struct aw_diag {
	char file[256];
	unsigned line;	 /* 1-based, 0 when not about a place in a file */
	unsigned column; /* 1-based */
	char message[256];
};

/* Record the first problem only (later ones are usually consequences). */
void aw_diag_set(struct aw_diag *d, const char *file, unsigned line,
		 unsigned column, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* "file:line:column: message" (or "file: message" without a place). */
int aw_diag_format(const struct aw_diag *d, char *buf, size_t len);

/* 1-based line and column (in characters) of a byte offset of data. */
void aw_text_place(const char *data, size_t len, size_t offset,
		   unsigned *ret_line, unsigned *ret_column);

/* A UTF-8 decoding error libyaml reported at byte off (its problem text
 * in problem), set in d at the byte a user has to fix; what names the
 * kind of file ("policy files"). */
void aw_utf8_fault(const char *data, size_t len, size_t off,
		   const char *problem, const char *what, struct aw_diag *d,
		   const char *file);

#endif
