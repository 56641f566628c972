/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reviewing a session's copy-on-write store: what the agent changed
 * (scan), how it reads (diff), taking it into the real trees (commit) or
 * dropping part of it (discard). Runs with the session owner's
 * credentials: it can only ever write where that user could.
 *
 * The store is overlayfs upper directories (one per copy-on-write tree,
 * see manifest.h), so a change is what an upper entry says about the path
 * below it:
 *   - a regular file, symlink or directory that the real tree does not
 *     have, or has with other content, type or mode;
 *   - a whiteout (character device 0/0): the real entry was deleted;
 *   - an opaque directory (user.overlay.opaque=y): the real directory was
 *     replaced, so its real entries the upper lacks were deleted.
 * The birth time of the upper entry is when the agent's copy was made:
 * a real file changed at or after it is a conflict, never overwritten.
 */
#ifndef AW_REVIEW_H
#define AW_REVIEW_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "review/manifest.h"

struct aw_buf;

enum aw_change_kind {
	AW_CHANGE_CREATED,  /* the real tree has nothing there */
	AW_CHANGE_MODIFIED, /* other content, or another type */
	AW_CHANGE_MODE,	    /* only the permission bits differ */
	AW_CHANGE_DELETED,  /* the real entry goes */
	AW_CHANGE_SPECIAL,  /* a device node, fifo or socket: never taken */
};

struct aw_change {
	enum aw_change_kind kind;
	size_t tree;	       /* index into the manifest's trees */
	char *rel;	       /* below the tree's root */
	char *real;	       /* the real path: root/rel */
	mode_t upper_mode;     /* type and bits in the store (0: deleted) */
	mode_t real_mode;      /* in the real tree when scanned (0: absent) */
	off_t size;	       /* in the store */
	struct timespec since; /* the agent's copy was made then */
	int escalated;	       /* at or under an escalated path */
	int binary;	       /* set by the diff */
	const char *renamed_from; /* a deleted path with the same content */
	int selected;		  /* by the paths the command named */
};

struct aw_review {
	char dir[4096]; /* the store: manifest, upper/N */
	struct aw_manifest manifest;
	struct aw_change *changes; /* parents before children */
	size_t n_changes;
	char err[1024];
	int first_only; /* aw_review_any: the scan stops at the first */
};

const char *aw_change_kind_name(enum aw_change_kind k);

/* Read the manifest and find every change. -errno with r->err set. */
int aw_review_scan(struct aw_review *r, const char *dir);
void aw_review_free(struct aw_review *r);

/* Does the store hold any change, by the scan's own definition (it stops
 * at the first)? 1 yes, 0 no, -errno with err set. The one test of a
 * session's emptiness (the daemon's cap and gc, `sessions`): what the
 * launcher itself put into an upper layer -- the masks made ahead and the
 * directories on their way, made with the real ones' modes -- is no
 * change, while anything the agent put there, a file where such a mask
 * was included, is one. */
int aw_review_any(const char *dir, char *err, size_t errlen);

/* Mark the changes the paths name (a path selects itself, what is below
 * it, and the directories that must be made for it). Absolute paths, or
 * relative to the current directory. No paths: everything. Returns how
 * many paths matched nothing (each is said on stderr). */
size_t aw_review_select(struct aw_review *r, char *const *paths, size_t n);

/* The selected changes as a patch (git's extended format) or as JSON. */
int aw_review_diff(struct aw_review *r, struct aw_buf *out);
int aw_review_json(struct aw_review *r, const char *session,
		   struct aw_buf *out);

enum aw_conflict_mode {
	AW_CONFLICT_KEEP, /* report it; both versions stay where they are */
	AW_CONFLICT_SIDE, /* put the agent's version beside the real file
			     (NAME.agentwall-SESSION) and drop it here */
};

struct aw_commit_result {
	size_t committed, conflicts, held, skipped, failed;
	uint64_t bytes;
	size_t remaining; /* changes left in the store after this */
};

/* Apply the selected changes. Escalated ones need `approved`. Each
 * outcome is a line on `report` (the real path, quoted when unsafe to
 * print). Safe to re-run after an interruption. */
int aw_review_commit(struct aw_review *r, const char *session, int approved,
		     enum aw_conflict_mode mode, struct aw_buf *report,
		     struct aw_commit_result *res);
/* Drop the selected changes from the store. */
int aw_review_discard(struct aw_review *r, struct aw_buf *report,
		      struct aw_commit_result *res);

/* A path as a patch header names it: as is, or C-quoted ("...") when it
 * holds control characters, quotes, backslashes or non-ASCII bytes. */
void aw_review_quote(struct aw_buf *b, const char *prefix, const char *path);

#endif
