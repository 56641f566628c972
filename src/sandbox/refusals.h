/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the sandbox refuses by itself, seen by the launcher's supervisor
 * (src/sandbox/refusals.c): see there.
 */
#ifndef AW_SANDBOX_REFUSALS_H
#define AW_SANDBOX_REFUSALS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

struct aw_plan;

/* Taken from the caller before its call goes on (it may be gone after). */
struct aw_refusal_capture {
	int root_fd;	      /* O_PATH of /proc/PID/root, -1 */
	char base[PATH_MAX];  /* the cwd or directory fd, as /proc shows */
	char base2[PATH_MAX]; /* the same for the second name */
	char name[PATH_MAX];  /* the first name as the call passed it */
	char name2[PATH_MAX]; /* the second (rename, link, symlink) */
};

/* Is this native call one the supervisor watches (a write-like call
 * with a write intent, a raw or packet socket, a signal)? The same
 * tests as the filter's observe rules. */
int aw_refusal_watched(int nr, const uint64_t args[6]);
/* seccomp.c adds them with act to its filter. */
int aw_refusal_add_rules(void *scmp_ctx, uint32_t act);

/* Read what the call names, while it waits (pid still the caller's). */
void aw_refusal_capture(uint32_t pid, int nr, const uint64_t args[6],
			struct aw_refusal_capture *c);
void aw_refusal_release(struct aw_refusal_capture *c);

/* After the call went on: would the sandbox refuse it? 1 and the record
 * (action, rule without the policy's prefix, target, detail), or 0. */
struct aw_refusal {
	const char *action;
	char rule[192];
	char target[PATH_MAX];
	char detail[512];
};
int aw_refusal_judge(const struct aw_plan *plan, uint32_t pid, int nr,
		     const uint64_t args[6], const struct aw_refusal_capture *c,
		     struct aw_refusal *out);

#endif
