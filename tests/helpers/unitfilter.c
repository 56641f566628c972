// SPDX-License-Identifier: GPL-2.0-only
/*
 * aw-unitfilter COMMAND...: run COMMAND under the seccomp filters that
 * agentwalld.service's hardening asks systemd for, so a test can show the
 * daemon still works under them without a systemd to start it:
 *   RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
 *   LockPersonality=yes, RestrictRealtime=yes, SystemCallArchitectures=native
 * (as systemd does it: socket() of another family fails EAFNOSUPPORT,
 * personality() changes EPERM, realtime policies EPERM, other ABIs killed).
 */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static const int allowed[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK};
	scmp_filter_ctx ctx;
	int r = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: aw-unitfilter COMMAND...\n");
		return 2;
	}
	/* SystemCallArchitectures=native: only the native ABI is added. */
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return 1;
	seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	/* RestrictAddressFamilies: every family below AF_MAX but these. */
	for (int fam = 0; fam < AF_MAX && !r; fam++) {
		int ok = 0;

		for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]);
		     i++)
			ok |= fam == allowed[i];
		if (!ok)
			r = seccomp_rule_add(
			    ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket),
			    1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fam));
	}
	/* LockPersonality: any personality but the current one (as systemd
	 * does it, the 0xffffffff query included). */
	if (!r)
		r = seccomp_rule_add(
		    ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
		    SCMP_A0(SCMP_CMP_NE,
			    (scmp_datum_t)personality(0xffffffff)));
	/* RestrictRealtime: SCHED_FIFO, SCHED_RR, SCHED_DEADLINE refused. */
	for (int pol = SCHED_FIFO; pol <= SCHED_RR && !r; pol++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
				     SCMP_SYS(sched_setscheduler), 1,
				     SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)pol));
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
				     SCMP_SYS(sched_setattr), 0);
	if (!r)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0) {
		fprintf(stderr, "aw-unitfilter: seccomp: %d\n", r);
		return 1;
	}
	execvp(argv[1], argv + 1);
	perror(argv[1]);
	return 127;
}
