/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The session's seccomp filter: the system calls agents use to escape a
 * sandbox or reach beyond it, in groups a policy can allow one by one.
 *
 * Everything not in a denied group is allowed: this is a deny list of
 * escape routes, not an allow list of what programs may do (the file
 * system view, Landlock and the daemon's BPF side decide the rest).
 *
 * A denied system call fails with EPERM. With a listener (want_notify) it
 * goes to the supervisor instead, which records the denial and answers
 * EPERM; the calling thread waits for that answer. If the listener is
 * closed (no supervisor), the kernel fails notified calls with ENOSYS:
 * still denied (fail-closed), only the errno differs.
 */
#ifndef AW_SECCOMP_H
#define AW_SECCOMP_H

#include <stddef.h>
#include <stdint.h>

#include "sandbox/refusals.h"

/*
 * Group indexes are an ABI: a policy's allow_syscalls has bit 1u << idx
 * set for each group it allows. Numbered explicitly, never renumbered.
 */
enum aw_sc_group {
	AW_SC_PTRACE = 0,	/* ptrace */
	AW_SC_PROCESS_VM = 1,	/* process_vm_readv/writev, pidfd_getfd */
	AW_SC_IO_URING = 2,	/* io_uring_setup/enter/register */
	AW_SC_KEYRING = 3,	/* keyctl, add_key, request_key */
	AW_SC_BPF = 4,		/* bpf */
	AW_SC_PERF = 5,		/* perf_event_open */
	AW_SC_MOUNT = 6,	/* mount, umount2, pivot_root, chroot, the
				   new mount API */
	AW_SC_NAMESPACES = 7,	/* unshare/clone with CLONE_NEW*, setns;
				   clone3 fails with ENOSYS */
	AW_SC_MODULES = 8,	/* init_module, finit_module, delete_module */
	AW_SC_KEXEC = 9,	/* kexec_load, kexec_file_load */
	AW_SC_HANDLES = 10,	/* open_by_handle_at */
	AW_SC_TIOCSTI = 11,	/* ioctl TIOCSTI / TIOCLINUX */
	AW_SC_USERFAULTFD = 12, /* userfaultfd */
	AW_SC_FANOTIFY = 13,	/* fanotify_init */
	AW_SC_SYSTEM = 14,	/* reboot, swap, syslog, clocks, host name,
				   quotas, port I/O, personality flags, ... */
	AW_SC_SOCK_DIAG = 15,	/* socket(AF_NETLINK, *, NETLINK_SOCK_DIAG):
				   every socket of the network namespace */
	AW_SC_SOCK_FAMILY = 16, /* socket() of an address family the
				   network policy never sees: AF_VSOCK (the
				   hypervisor), Bluetooth, CAN, TIPC, ... */
};

#define AW_SC_GROUPS 17
#define AW_SC_ALL_GROUPS ((1u << AW_SC_GROUPS) - 1)

/* "ptrace", "process-vm", ...; NULL if idx is out of range. */
const char *aw_seccomp_group_name(unsigned idx);

/*
 * Which group a trapped system call belongs to, from a notification's
 * data (architecture, number, arguments), with the same argument tests as
 * the filter (clone without CLONE_NEW* belongs to none). -1 if none, or if
 * arch is not the native architecture.
 */
int aw_seccomp_group_of(uint32_t arch, int nr, const uint64_t args[6]);

/*
 * Install the filter on the calling process, all threads (TSYNC). Every
 * group not in allow_mask is denied: EPERM, or with want_notify a user
 * notification whose listener is stored in *ret_notify_fd (O_CLOEXEC).
 * System calls of other architectures (i386 through int 0x80, x32) kill
 * the process: they would go around a filter written for the native
 * numbers. Sets no_new_privs if it is not set.
 *
 * Returns 0 or -errno; on failure why says what the kernel refused or
 * lacked. Hand the listener to a process outside the filter and close it
 * here: a task that traps a call must never be the one to answer it.
 */
/* want_notify: 0, or 1 (a listener for the denied groups), | this to
 * have the listener see the calls sandbox/refusals.c watches too. */
#define AW_SECCOMP_WATCH 2
int aw_seccomp_install(uint32_t allow_mask, int want_notify, int *ret_notify_fd,
		       char *why, size_t why_len);

/*
 * The same in two steps. The program for (allow_mask, want_notify) is
 * the same for every session with those: the daemon makes it once
 * (libseccomp takes most of a millisecond) and sends it with the
 * session's rules; the session's init installs it as it is.
 * aw_seccomp_program: *ret (malloc'd, *ret_n instructions) or -errno.
 * aw_seccomp_install_program: a program of at most BPF_MAXINSNS, as
 * aw_seccomp_install.
 */
struct sock_filter;
int aw_seccomp_program(uint32_t allow_mask, int want_notify,
		       struct sock_filter **ret, size_t *ret_n, char *why,
		       size_t why_len);
int aw_seccomp_install_program(const struct sock_filter *insns, size_t n,
			       int want_notify, int *ret_notify_fd, char *why,
			       size_t why_len);

struct aw_seccomp_denial {
	uint32_t pid;	  /* in the supervisor's pid namespace */
	int nr;		  /* system call number */
	int group;	  /* enum aw_sc_group, -1 if none */
	uint32_t arch;	  /* AUDIT_ARCH_* */
	char syscall[32]; /* name, or "syscall-NR" if unknown */
	const char *abi;  /* "" native, "i386", "x32", "foreign" */
	/* Not a denial: a watched call (sandbox/refusals.c), let go on
	 * (SECCOMP_USER_NOTIF_FLAG_CONTINUE) after what it names was taken;
	 * the caller judges it and releases the capture. */
	int watched;
	uint64_t args[6];
	struct aw_refusal_capture capture;
};

/*
 * Supervisor side: wait for one notification on notify_fd, answer it with
 * EPERM (never anything else: nothing trapped is let through) and fill
 * *ret. Returns 0; -ENOENT if the caller died or was interrupted before
 * the answer (*ret is still filled: the attempt happened); -EINTR if a
 * signal handler ran while waiting; -ESRCH if no task uses the filter any
 * more (nothing will ever arrive); or another -errno.
 *
 * A supervisor that is also the tracee's parent must not wait here alone:
 * a dead child counts as a user of the filter until it is reaped. Poll
 * the listener together with something that reports the death (as the
 * launcher does), or have a SIGCHLD handler (poll is never restarted
 * after a handler: the death interrupts the wait with -EINTR).
 */
int aw_seccomp_answer(int notify_fd, struct aw_seccomp_denial *ret);

#endif
