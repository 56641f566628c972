// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: any bytes as a signature file. Parse, and if it parses,
 * compile and run the matcher on a few paths. Must never crash, leak or
 * leave the database changed by a failed load. Built for libFuzzer with
 * -Dfuzz=true (clang); replay.c runs the corpus as a normal test.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signatures/signatures.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = {
	    "/usr/local/lib/node_modules/@openai/codex/bin/codex.js",
	    "./node_modules/.bin/codex",
	    "/x/../node_modules/.bin/mcp-server-filesystem",
	    "relative/bin/claude",
	    "/",
	};
	struct aw_sigdb db = {};
	struct aw_compiled c = {};
	struct aw_diag diag = {};

	if (aw_sigdb_load_buffer(&db, "fuzz.yaml", (const char *)data, size,
				 &diag) < 0) {
		/* A failed load leaves the database as it was: empty. */
		if (db.n_sigs || db.n_interpreters)
			abort();
		return 0;
	}
	if (aw_sigdb_compile(&db, &c, &diag) == 0) {
		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
			uint32_t r =
			    aw_compiled_match(&c, c.exe_start, paths[i]);

			if (r > c.n_rules)
				abort();
			r = aw_compiled_match(&c, c.script_start, paths[i]);
			if (r > c.n_rules)
				abort();
		}
		aw_compiled_free(&c);
	}
	aw_sigdb_free(&db);
	return 0;
}
