/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A session store's manifest: which real tree each copy-on-write upper
 * directory (upper/N) covers, and which paths the policy escalates. The
 * launcher writes it before anything is mounted (and extends it when a
 * session is resumed); `agentwall diff|commit` read it.
 *
 *   agentwall-session 1
 *   workspace /home/u/src/app
 *   tree 0 /home/u
 *   tree 1 /home/u/src/app
 *   escalate /home/u/.bashrc
 *
 * Paths are %XX-encoded (src/shared/util.h), one record per line.
 */
#ifndef AW_MANIFEST_H
#define AW_MANIFEST_H

#include <stddef.h>

#define AW_MANIFEST_NAME "manifest"
#define AW_MANIFEST_TREES_MAX 4096
#define AW_MANIFEST_PATHS_MAX 4096 /* escalated, home, state: each */

struct aw_manifest_tree {
	unsigned idx; /* upper/<idx>, work/<idx> */
	char *path;   /* the real tree, in the host's view */
};

struct aw_manifest {
	char *workspace;
	struct aw_manifest_tree *trees;
	size_t n_trees;
	char **escalate;
	size_t n_escalate;
	/* The home's dot-path rule: every change at or under HOME/.NAME is
	 * held for approval (a rule that is complete where a list of
	 * persistence files cannot be: ~/.bash_aliases, user site-packages,
	 * any tool's config), except under a `state` path. */
	char **homes;
	size_t n_homes;
	char **state;
	size_t n_state;
	/* Masks made ahead for secrets that did not exist at start: a
	 * whiteout in the upper tree at each of these real paths hides what
	 * appears there later. They are the launcher's, never a change. */
	char **masks;
	size_t n_masks;
};

/* Read dir/manifest. -ENOENT if there is none (a new store); other
 * errors with err saying which line and why. */
int aw_manifest_read(const char *dir, struct aw_manifest *m, char *err,
		     size_t errlen);
/* Write dir/manifest atomically (a temporary file renamed over it). */
int aw_manifest_write(const char *dir, const struct aw_manifest *m);
void aw_manifest_free(struct aw_manifest *m);
/* The upper directory number of the tree at path: the one it had, or the
 * next free one. -ENOMEM, -E2BIG. */
int aw_manifest_tree(struct aw_manifest *m, const char *path);
/* Record path as escalated (once). */
int aw_manifest_escalate(struct aw_manifest *m, const char *path);
/* Record a home directory for the dot-path rule, or a state path
 * (once each). */
int aw_manifest_home(struct aw_manifest *m, const char *path);
int aw_manifest_state(struct aw_manifest *m, const char *path);
int aw_manifest_mask(struct aw_manifest *m, const char *path);
/* Is p (exactly) one of the masks made ahead? */
int aw_manifest_is_mask(const struct aw_manifest *m, const char *p);
/* Is real path p at or under one of the escalated paths listed? */
int aw_manifest_listed(const struct aw_manifest *m, const char *p);
/* Is real path p held for approval: at or under an escalated path, or a
 * dot-path of a home not under a state path? */
int aw_manifest_escalated(const struct aw_manifest *m, const char *p);
/* Is real path p the agent's own state: at or under a state path, and
 * not at or under an escalated one (~/.codex/config.toml inside
 * ~/.codex is not)? Taken with the rest, but not the agent's work: the
 * session's end line counts it apart. */
int aw_manifest_is_state(const struct aw_manifest *m, const char *p);

#endif
