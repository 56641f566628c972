// SPDX-License-Identifier: GPL-2.0-only
/*
 * A new signature database reaches every stage that keeps a part of it:
 * the kernel's maps and the daemon's copy (sigdb.c), the resolver's LLM
 * API names (egress.c), the kernel's per-signature modes from the policies
 * (sessions.c), and the digests of binaries named by content (the
 * forcing thread first, then the sizes the kernel holds execs for), and
 * the inventory thread's own copy.
 * Called at start (main.c), on SIGHUP and on `reload` (control.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"

/*
 * Content identities of the database in force: sizes to the kernel's
 * prefilter, digests to the forcing thread (which hashes held execs).
 */
void aw_sigdb_content_publish(struct aw_daemon *d)
{
	struct aw_content_ent *ents = NULL;
	uint64_t *sizes = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < d->db.n_sigs; i++) {
		struct aw_signature *s = &d->db.sigs[i];

		for (size_t j = 0; j < s->n_contents; j++) {
			if (n == cap) {
				size_t nc = cap ? 2 * cap : 16;
				struct aw_content_ent *ne =
				    realloc(ents, nc * sizeof(*ne));
				uint64_t *ns;

				if (!ne)
					goto oom;
				ents = ne;
				ns = realloc(sizes, nc * sizeof(*ns));
				if (!ns)
					goto oom;
				sizes = ns;
				cap = nc;
			}
			memcpy(ents[n].sha, s->contents[j].sha256, 32);
			ents[n].size = s->contents[j].size;
			ents[n].sig = aw_sigdb_number(d, s);
			sizes[n] = ents[n].size;
			n++;
		}
	}
	if (n > AW_CONTENT_SIZES_MAX)
		n = AW_CONTENT_SIZES_MAX; /* the rest are not recognised */
	/* Digests first: a size the kernel holds for always has its
	 * digests where the forcing thread looks. */
	if (d->force) {
		aw_force_set_content(d->force, ents, n);
		ents = NULL;
	}
	aw_kernel_set_content_sizes(d->kernel, sizes, n);
oom:
	free(ents);
	free(sizes);
}

int aw_daemon_reload_signatures(struct aw_daemon *d, char *err, size_t len)
{
	int r = aw_sigdb_reload(d, err, len);

	if (r < 0)
		return r;
	aw_net_set_llm_apis(d, d->db.llm_apis, d->db.n_llm_apis);
	aw_policies_apply_modes(d);
	aw_sigdb_content_publish(d);
	aw_inventory_sigdb_changed(d);
	return 0;
}
