/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The session launcher: the unprivileged half of a sandboxed session
 * (`agentwall run`, and the launcher forced agents are re-executed into).
 *
 * As bubblewrap does, everything is first turned into a list of setup
 * operations (the plan), checked, and only then acted on. The plan comes
 * from the policy the daemon sent, with `~`, `{workspace}`, `{runtime}`,
 * globs and `**` names expanded here, in the user's view of the machine.
 */
#ifndef AW_LAUNCH_H
#define AW_LAUNCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy/policy.h"

#define AW_PLAN_OPS_MAX 4096
#define AW_PLAN_WALK_MAX 100000 /* entries looked at for `**` names */
#define AW_LAUNCH_EXIT_FAIL 125 /* the launcher itself failed */

struct aw_plan_op {
	enum aw_fs_verb verb;
	char *rule;   /* policy/rule-id */
	char *path;   /* real path, in the host's view */
	unsigned idx; /* cow trees: upper/work directory number */
};

struct aw_plan {
	char session[17];
	char policy[65];
	char agent[65];
	char dir[4096]; /* the session's store directory */
	char workspace[4096];
	char home[4096];       /* the account's home directory, "" if none */
	char walk_cache[4096]; /* the daemon's cache for `**` walks, or "" */
	uint32_t allow_syscalls;
	int notify;	    /* session lines on the terminal (stderr) */
	int display, input; /* computer-use grants (policy) */
	int refusals;	    /* record what the sandbox refuses by itself */
	char product[128];  /* the agent's name, for those lines */
	/* The seccomp program the daemon made, for this mask and these
	 * listener flags (NULL: init makes its own). */
	struct sock_filter *filter;
	size_t n_filter;
	uint32_t filter_mask;
	int filter_notify;
	struct aw_plan_op *ops;
	size_t n_ops;
	/* Masked paths that did not exist at start (real paths), and the
	 * masks made ahead for them in a copy-on-write tree: a whiteout at
	 * `path` in the upper directory of ops[op]. */
	char **later;
	size_t n_later;
	struct aw_plan_ahead {
		char *path;
		size_t op;
	} * ahead;
	size_t n_ahead;
	char notes[2048]; /* what was skipped, and why */
};

/* Parse the daemon's session-open reply into plan (expanding paths for
 * the current user, home and environment). Returns 0 or -errno with err
 * set. */
int aw_plan_from_reply(struct aw_plan *plan, const char *reply,
		       const char *workspace, char *err, size_t errlen);
void aw_plan_free(struct aw_plan *plan);
/* Keep the agent's own program (exe, and the script in argv an
 * interpreter runs) reachable when a private tmpfs would hide it. */
int aw_plan_keep_program(struct aw_plan *plan, const char *exe,
			 char *const *argv);

struct aw_masks;

struct aw_launch {
	const struct aw_plan *plan;
	const struct aw_masks *masks; /* placeholders (masks.c), or NULL */
	const char *exe;	      /* what to execute */
	int exe_fd;	   /* O_PATH of exe, if the path is hidden inside */
	char *const *argv; /* argv[0] included */
	const char *cwd;
	const char *socket_path; /* the daemon's, for denial reports */
	int forced;		 /* an agent forced into its session */
	const char *state_dir;	 /* the CLI's --state-dir, "" for default */
	const int *keep_fds;	 /* beyond stdio, checked like stdio */
	size_t n_keep_fds;
};

#define AW_LAUNCH_KEEP_FDS_MAX 16

/* Build the sandbox and run the command in it; returns the exit status to
 * exit with (or raises the signal the command died of). Never returns
 * having run the command outside the sandbox. */
int aw_launch_run(const struct aw_launch *l);

#endif
