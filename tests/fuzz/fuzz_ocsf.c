// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: any bytes as a row's JSON, read strictly and mapped to
 * OCSF (what `agentwall log --ocsf` does with a store someone may have
 * edited). Must never crash or read out of bounds, and whatever it
 * renders must read back as strict JSON. Built for libFuzzer with
 * -Dfuzz=true (clang); replay.c runs the corpus as a normal test.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/json_read.h"
#include "shared/ocsf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aw_jdoc doc = {}, check = {};
	struct aw_buf out = {};
	/* A copy of exactly size bytes: the reader must not look past it. */
	char *line = malloc(size ? size : 1);

	if (!line)
		return 0;
	memcpy(line, data, size);
	if (aw_ocsf_render(&doc, line, size, &out) >= 0 &&
	    aw_jread(&check, out.data, out.len) != 0)
		abort();
	/* The reader on its own, too: a value is one value, or refused. */
	aw_jread(&check, line, size);
	aw_jdoc_free(&doc);
	aw_jdoc_free(&check);
	aw_buf_free(&out);
	free(line);
	return 0;
}
