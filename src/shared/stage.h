/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where a session's start goes (bench/stages.sh): with AW_STAGES set in
 * its environment, a process prints "STAGE PID SECONDS NAME" on stderr
 * (CLOCK_MONOTONIC, so the launcher's, its init's and the daemon's lines
 * order on one clock) at each named step. Without it: one getenv per
 * process, then a flag test.
 */
#ifndef AW_SHARED_STAGE_H
#define AW_SHARED_STAGE_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static inline void aw_stage(const char *what)
{
	static int on = -1;
	struct timespec t;

	if (on < 0)
		on = getenv("AW_STAGES") != NULL;
	if (!on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t);
	fprintf(stderr, "STAGE %d %ld.%06ld %s\n", (int)getpid(),
		(long)t.tv_sec, t.tv_nsec / 1000, what);
}

#endif
