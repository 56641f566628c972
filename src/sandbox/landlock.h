/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The session's Landlock domain: read and execute anywhere, write only
 * inside the granted hierarchies, device writes and ioctls only on the
 * listed devices, no device nodes created anywhere; optionally no signals
 * and no abstract unix sockets beyond the session.
 *
 * Best effort as the kernel's sandboxer does it: the kernel's ABI is
 * queried, what it lacks is stripped and said in a note, never silently
 * dropped. Network access is not handled here (the daemon decides it).
 */
#ifndef AW_LANDLOCK_H
#define AW_LANDLOCK_H

#include <stddef.h>

/* The newest Landlock ABI this code knows; a newer kernel is used at this
 * level. */
#define AW_LANDLOCK_ABI_MAX 7

/* ABI of the running kernel, 0 if Landlock is not built in or not
 * enabled (lsm= boot parameter). */
int aw_landlock_abi(void);

struct aw_landlock_plan {
	/* Hierarchies where writing is allowed: write_file, truncate,
	 * create and remove files, directories, symlinks, sockets and
	 * fifos, rename and link (refer). A file grants its file rights. */
	const char *const *write_paths;
	size_t n_write;
	/* Hierarchies where write_file and ioctl_dev are allowed (/dev/null,
	 * /dev/tty, /dev/pts, ...). */
	const char *const *dev_paths;
	size_t n_dev;
	int scope_signals;	 /* ABI >= 6: no signals out of the domain */
	int scope_abstract_unix; /* ABI >= 6: no connect to abstract unix
				    sockets made outside the domain */
	int log_new_exec;	 /* ABI >= 7: audit denials after exec too */
};

/*
 * Build the ruleset, set no_new_privs if it is not set, and restrict the
 * calling thread (and what it creates afterwards: call it before starting
 * threads). A path that does not exist is skipped and named in notes;
 * notes also says what this kernel lacks ("Landlock ABI 5: no signal/
 * abstract-socket scoping (needs 6)"). Notes are "; "-separated and always
 * NUL-terminated (truncated if notes_len is short).
 *
 * Returns the ABI used (> 0: the kernel's, at most AW_LANDLOCK_ABI_MAX),
 * -EOPNOTSUPP if Landlock is unavailable (the caller decides whether that
 * is fatal; nothing was changed but no_new_privs), or another -errno with
 * notes naming what failed.
 */
int aw_landlock_apply(const struct aw_landlock_plan *plan, char *notes,
		      size_t notes_len);

#endif
