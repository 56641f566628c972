// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: any bytes as an agent's configuration file. The first
 * byte picks the format (Codex TOML, Claude, mcpServers, VS Code,
 * opencode, Crush, Amp), the rest is the file. Must never crash, hang or
 * leak, and a refused file must leave no server behind. The TOML and
 * JSON readers are also run on the bytes directly. Built for libFuzzer
 * with -Dfuzz=true (clang); replay.c runs the corpus as a normal test.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "inventory/inventory.h"
#include "shared/jsonr.h"
#include "shared/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aw_inv_servers s = {};
	struct aw_diag diag = {};
	struct aw_jv *v = NULL;
	enum aw_inv_format fmt;
	const char *text;
	char **projects = NULL;
	size_t n_projects = 0;

	if (!size)
		return 0;
	fmt = (enum aw_inv_format)(1 + data[0] % 7);
	text = (const char *)data + 1;
	size--;
	if (aw_inv_mcp_servers_parse(text, size, "fuzz", fmt, "fuzz.agent", &s,
				     &diag) < 0 &&
	    s.n)
		abort();
	aw_inv_servers_free(&s);
	aw_inv_projects_parse(text, size, fmt, &projects, &n_projects);
	for (size_t i = 0; i < n_projects; i++)
		free(projects[i]);
	free(projects);
	if (aw_toml_parse(text, size, "fuzz", &v, &diag) == 0)
		aw_jv_free(v);
	v = NULL;
	if (aw_jsonr_parse(text, size, AW_JSONR_JSONC, "fuzz", &v, &diag) == 0)
		aw_jv_free(v);
	return 0;
}
