// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: any bytes as a policy file, loaded next to a small fixed
 * `default` so that extends, remove and the contradiction checks have
 * something to work on. Parse, validate, flatten every policy, free; then
 * the same bytes through check_all, whose keep-going parser works on
 * half-broken policies. Must never crash, leak, or leave the set changed
 * by a failed load. Built for libFuzzer with -Dfuzz=true (clang);
 * replay.c runs the corpus as a normal test.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char base[] = "version: 1\n"
			   "id: default\n"
			   "filesystem:\n"
			   "  - id: secrets.ssh\n"
			   "    deny: [\"~/.ssh\", \"**/.env\"]\n"
			   "  - id: ipc.display\n"
			   "    deny: [\"{runtime}/wayland-*\"]\n"
			   "  - id: scratch\n"
			   "    tmpfs: [\"/tmp\"]\n"
			   "  - id: workspace\n"
			   "    cow: [\"{workspace}\"]\n";

static void count(void *ud, const struct aw_diag *d)
{
	if (!d->message[0])
		abort();
	++*(int *)ud;
}

/* check_all reads files: hand it the bytes as one (a memfd). */
static void check_all(const uint8_t *data, size_t size)
{
	struct aw_policyset set = {};
	struct aw_diag diag = {};
	char path[64];
	const char *files[1] = {path};
	int fd, n, seen = 0;

	fd = memfd_create("fuzz.yaml", MFD_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (aw_policy_load_buffer(&set, "base.yaml", base, sizeof(base) - 1,
				  &diag) < 0)
		abort();
	n = aw_policyset_check_all(&set, files, 1, count, &seen);
	if (n >= 0 && n != seen)
		abort();
	aw_policyset_free(&set);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aw_policyset set = {};
	struct aw_diag diag = {};
	size_t i;

	if (aw_policy_load_buffer(&set, "base.yaml", base, sizeof(base) - 1,
				  &diag) < 0)
		abort();
	memset(&diag, 0, sizeof(diag));
	if (aw_policy_load_buffer(&set, "fuzz.yaml", (const char *)data, size,
				  &diag) < 0) {
		/* A failed load leaves the set as it was, with a reason. */
		if (set.n_pols != 1 || !diag.message[0])
			abort();
	}
	memset(&diag, 0, sizeof(diag));
	(void)aw_policyset_validate(&set, &diag);
	for (i = 0; i < set.n_pols; i++) {
		struct aw_policy_flat f = {};

		memset(&diag, 0, sizeof(diag));
		if (aw_policy_flatten(&set, &set.pols[i], &f, &diag) < 0)
			continue;
		if (f.mode != 0 && f.mode != 1)
			abort();
		for (size_t j = 0; j < f.n_rules; j++)
			if (!f.rules[j]->id || !f.rules[j]->n_paths)
				abort();
		aw_policy_flat_free(&f);
	}
	(void)aw_policyset_resolve(&set, "openai.codex-cli", "coding-agent");
	aw_policyset_free(&set);
	check_all(data, size);
	return 0;
}
