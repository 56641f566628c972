/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the signature sources share among themselves (signatures.c, the
 * parser; load.c, the checks across files and the loaders); the API is
 * signatures.h.
 */
#ifndef AW_SIG_INT_H
#define AW_SIG_INT_H

#include <stddef.h>

#include "shared/diag.h"
#include "signatures/signatures.h"

/* Parse one document into out (which the caller frees in any case). */
int sig_parse(const char *name, const char *data, size_t len,
	      struct aw_sigdb *out, struct aw_diag *diag);

#endif
