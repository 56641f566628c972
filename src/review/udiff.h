/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unified diffs of two byte strings, for showing a reviewer what an agent
 * changed. The contents are untrusted and may be large or hostile: lines
 * are arbitrary bytes (NULs, CRs, invalid UTF-8), and the work and memory
 * are bounded whatever the inputs (see aw_udiff()).
 */
#ifndef AW_REVIEW_UDIFF_H
#define AW_REVIEW_UDIFF_H

#include <stddef.h>

struct aw_buf; /* src/shared/json.h: growable buffer, sticky oom flag */

/* Append to out a unified diff (the format of `diff -u`, 3 lines of
 * context, hunks "@@ -l,s +l,s @@") turning a (alen bytes) into b (blen
 * bytes). The header lines ("--- ", "+++ ") are NOT written: the caller
 * writes them. Lines are split on '\n'; a last line without '\n' is
 * followed by "\ No newline at end of file" exactly as GNU diff does.
 * Returns the number of hunks written (0 if a and b are equal), or
 * -ENOMEM (also when out's sticky oom flag is set on return). Never
 * quadratic in memory: if the edit script would need more than max_cost
 * work (an internal bound, e.g. D > 10000 or similar), fall back to one
 * hunk replacing the differing middle (after trimming the common prefix
 * and suffix lines) -- still a correct diff. */
int aw_udiff(struct aw_buf *out, const char *a, size_t alen, const char *b,
	     size_t blen);

#endif
