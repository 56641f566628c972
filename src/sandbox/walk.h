/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The walk behind a `**` NAME mask: every entry called NAME under a
 * workspace, one file system, no symlinks followed, at most
 * AW_PLAN_WALK_MAX entries, dependency trees (node_modules, .git, ...)
 * after the rest. With a cache directory, what each directory held is
 * remembered there and read again only when the directory changed (its
 * inode's ctime, which no user can set back): a start in a workspace of
 * tens of thousands of files opens and stats its directories instead of
 * reading every entry. The cache decides what a session may read, so it
 * lives where no session can write (the daemon's state directory, masked
 * in every session; the daemon makes a directory there for each user).
 */
#ifndef AW_SANDBOX_WALK_H
#define AW_SANDBOX_WALK_H

#include <stddef.h>
#include <sys/types.h>

struct aw_walk_result {
	char **paths; /* every NAME found, as found */
	size_t n;
	int exhausted; /* the budget ran out: later entries not looked at */
	size_t dirs_read, dirs_cached; /* how the directories were known */
};

/* root: the workspace (on device dev); cache_dir: NULL or "" for none.
 * 0 or -ENOMEM. A cache that cannot be read is not used; one that cannot
 * be written is not kept. */
int aw_walk_named(const char *root, dev_t dev, const char *name,
		  const char *cache_dir, struct aw_walk_result *ret);
void aw_walk_result_free(struct aw_walk_result *r);

#endif
