/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Masks that are seen: each `deny` mask of a session is an empty,
 * read-only placeholder the daemon can watch (src/sandbox/masks.c).
 */
#ifndef AW_MASKS_H
#define AW_MASKS_H

#include <stddef.h>

#include "sandbox/launch.h"

#define AW_MASKS_PLACEHOLDERS_MAX 1024 /* entries under masked trees */
#define AW_MASKS_PER_TREE_MAX 256      /* of them, under one masked tree */
#define AW_MASKS_WALK_MAX 20000	       /* entries looked at */

/* One placeholder: the mask of ops[op] itself (rel ""), or an entry
 * under a masked directory (rel "a/b"). */
struct aw_mask_entry {
	size_t op;
	char *rel;
	int dir;
	int exec; /* the real file is executable: so is its placeholder */
};

struct aw_masks {
	struct aw_mask_entry *v;
	size_t n, cap;
	size_t over; /* entries not given a placeholder (limits) */
};

/* In the launcher, in the host's view, before the daemon marks the
 * masked inodes: what each mask holds (names and types only). */
int aw_masks_scan(const struct aw_plan *plan, struct aw_masks *m);
void aw_masks_free(struct aw_masks *m);

/* In init, before the plan's operations: the session's mask tmpfs at
 * dir, filled with the placeholders, read-only. Returns an O_PATH fd of
 * its root, or -errno with err set. */
int aw_masks_build(const struct aw_masks *m, const char *dir, char *err,
		   size_t errlen);
/* In init, for a `deny` op: bind its placeholder over target. Returns 0,
 * 1 if it has none of target's type (the caller masks it the old way),
 * or -errno. */
int aw_masks_mount(const struct aw_masks *m, const char *dir, size_t op,
		   int target_dir, const char *target);
/* In init, when the daemon did not take the masks (no fanotify, an
 * older daemon): every mask's placeholder made mode 000, so that they
 * refuse as the old masks did (EACCES) rather than read empty. root:
 * aw_masks_build's fd. Returns 0 or -errno. */
int aw_masks_seal(const struct aw_masks *m, int root);
/* In the launcher: hand the daemon the mask tmpfs (fd) with the real
 * path and rule of each placeholder ("session-masks"). Returns 0 with the
 * daemon's reply in reply, or -errno. */
int aw_masks_register(const struct aw_plan *plan, const struct aw_masks *m,
		      int fd, const char *socket_path, char *reply, size_t len);

#endif
