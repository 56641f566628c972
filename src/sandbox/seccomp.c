// SPDX-License-Identifier: GPL-2.0-only
/*
 * The session's seccomp filter (see seccomp.h).
 *
 * libseccomp generates the BPF program (architecture checks, 64-bit
 * argument comparisons); we export it and load it ourselves, as crun
 * does, so that the flags are ours (TSYNC with a listener, killable
 * waits) and the kernel's errno reaches the caller. libseccomp 2.5 also
 * caches one listener per process in a global, which a second install
 * (a test, a re-exec'd launcher) would silently inherit; loading the
 * program ourselves keeps the listener ours.
 *
 * One table says which system calls make up each group and how their
 * arguments are tested; the filter and aw_seccomp_group_of() are both
 * built from it, so a denial is always reported under the group that
 * denied it.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "sandbox/seccomp.h"
#include "shared/util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080 /* Linux 5.6, unshare() only */
#endif

/* Namespace flags a legacy clone() can carry. CLONE_NEWTIME shares its
 * bit with the exit signal (CSIGNAL) there: it exists for unshare() and
 * clone3() only. */
#define CLONE_NS_FLAGS                                                         \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |         \
	 CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)
#define UNSHARE_NS_FLAGS (CLONE_NS_FLAGS | CLONE_NEWTIME)

/* Terminal ioctls that push bytes into another reader's input queue. */
#define AW_TIOCSTI 0x5412
#define AW_TIOCLINUX 0x541C

/* personality(2): the only personas allowed are PER_LINUX (0) and the
 * query 0xffffffff; the kernel reads the argument as unsigned int. */
#define PERSONA_QUERY 0xffffffffu

#define AW_AF_NETLINK 16
#define AW_NETLINK_SOCK_DIAG 4

/* Address families whose sockets reach past what the network policy
 * decides (its cgroup hooks see inet sockets; Unix sockets are files;
 * netlink and packet sockets are the kernel's and need capabilities the
 * session has not): a vsock goes to the hypervisor or the WSL host, the
 * others to buses, radios and clusters. AF_ALG (the kernel's ciphers)
 * stays. */
static const uint32_t denied_families[] = {
    AF_AX25,   AF_IPX,	 AF_APPLETALK, AF_NETROM,  AF_BRIDGE,	  AF_ATMPVC,
    AF_X25,    AF_ROSE,	 AF_DECnet,    AF_NETBEUI, AF_KEY,	  AF_ECONET,
    AF_ATMSVC, AF_RDS,	 AF_SNA,       AF_IRDA,	   AF_PPPOX,	  AF_WANPIPE,
    AF_LLC,    AF_IB,	 AF_MPLS,      AF_CAN,	   AF_TIPC,	  AF_BLUETOOTH,
    AF_IUCV,   AF_RXRPC, AF_ISDN,      AF_PHONET,  AF_IEEE802154, AF_CAIF,
    AF_NFC,    AF_VSOCK, AF_KCM,       AF_QIPCRTR, AF_SMC,	  AF_XDP,
    AF_MCTP,
};

enum sc_test {
	SC_ALWAYS,	/* every call */
	SC_CLONE_NS,	/* clone: arg0 has a CLONE_NEW* flag */
	SC_UNSHARE_NS,	/* unshare: arg0 has a CLONE_NEW* flag */
	SC_TTY_INJECT,	/* ioctl: arg1 is TIOCSTI or TIOCLINUX */
	SC_PERSONALITY, /* personality: arg0 other than 0 / the query */
	SC_ENOSYS,	/* clone3: ENOSYS, never notified */
	SC_SOCK_DIAG,	/* socket: AF_NETLINK, NETLINK_SOCK_DIAG */
	SC_SOCK_FAMILY, /* socket: one of denied_families */
};

struct sc_rule {
	const char *name;
	uint8_t group; /* enum aw_sc_group */
	uint8_t test;  /* enum sc_test */
	/* For system calls newer than libseccomp 2.5.4's table: the native
	 * number (unified across architectures since 5.1, numbers >= 424;
	 * alpha excepted). 0: resolve by name only. */
	int new_nr;
};

static const struct sc_rule rules[] = {
    {"ptrace", AW_SC_PTRACE, SC_ALWAYS, 0},
    {"process_vm_readv", AW_SC_PROCESS_VM, SC_ALWAYS, 0},
    {"process_vm_writev", AW_SC_PROCESS_VM, SC_ALWAYS, 0},
    /* Takes a copy of another process's file descriptor under the same
     * ptrace-attach check as process_vm_*: the same reach. */
    {"pidfd_getfd", AW_SC_PROCESS_VM, SC_ALWAYS, 0},
    /* io_uring performs open, connect, ... in kernel workers, not as
     * system calls a filter sees. */
    {"io_uring_setup", AW_SC_IO_URING, SC_ALWAYS, 0},
    {"io_uring_enter", AW_SC_IO_URING, SC_ALWAYS, 0},
    {"io_uring_register", AW_SC_IO_URING, SC_ALWAYS, 0},
    /* The session keyring is shared with the user's other sessions: its
     * keys (Kerberos, ecryptfs, ...) are not the agent's. */
    {"keyctl", AW_SC_KEYRING, SC_ALWAYS, 0},
    {"add_key", AW_SC_KEYRING, SC_ALWAYS, 0},
    {"request_key", AW_SC_KEYRING, SC_ALWAYS, 0},
    {"bpf", AW_SC_BPF, SC_ALWAYS, 0},
    {"perf_event_open", AW_SC_PERF, SC_ALWAYS, 0},
    {"mount", AW_SC_MOUNT, SC_ALWAYS, 0},
    {"umount2", AW_SC_MOUNT, SC_ALWAYS, 0},
    {"pivot_root", AW_SC_MOUNT, SC_ALWAYS, 0},
    {"chroot", AW_SC_MOUNT, SC_ALWAYS, 0},
    {"move_mount", AW_SC_MOUNT, SC_ALWAYS, 0},
    {"open_tree", AW_SC_MOUNT, SC_ALWAYS, 0},
    {"open_tree_attr", AW_SC_MOUNT, SC_ALWAYS, 467}, /* Linux 6.15 */
    {"fsopen", AW_SC_MOUNT, SC_ALWAYS, 0},
    {"fsconfig", AW_SC_MOUNT, SC_ALWAYS, 0},
    {"fsmount", AW_SC_MOUNT, SC_ALWAYS, 0},
    {"fspick", AW_SC_MOUNT, SC_ALWAYS, 0},
    {"mount_setattr", AW_SC_MOUNT, SC_ALWAYS, 0},
    /* Plain clone() must keep working: fork() and pthread_create() are
     * clone() without namespace flags. */
    {"clone", AW_SC_NAMESPACES, SC_CLONE_NS, 0},
    {"unshare", AW_SC_NAMESPACES, SC_UNSHARE_NS, 0},
    {"setns", AW_SC_NAMESPACES, SC_ALWAYS, 0},
    /* clone3() passes its flags in memory, which a filter cannot read.
     * ENOSYS (never a notification: nothing was denied that the program
     * meant) makes glibc and the other runtimes fall back to clone(),
     * whose flags the filter does see. */
    {"clone3", AW_SC_NAMESPACES, SC_ENOSYS, 0},
    {"init_module", AW_SC_MODULES, SC_ALWAYS, 0},
    {"finit_module", AW_SC_MODULES, SC_ALWAYS, 0},
    {"delete_module", AW_SC_MODULES, SC_ALWAYS, 0},
    {"kexec_load", AW_SC_KEXEC, SC_ALWAYS, 0},
    {"kexec_file_load", AW_SC_KEXEC, SC_ALWAYS, 0},
    /* Opens any inode of a mounted file system by its handle, around
     * every path-based rule (the "shocker" container escape). */
    {"open_by_handle_at", AW_SC_HANDLES, SC_ALWAYS, 0},
    {"ioctl", AW_SC_TIOCSTI, SC_TTY_INJECT, 0},
    {"userfaultfd", AW_SC_USERFAULTFD, SC_ALWAYS, 0},
    {"fanotify_init", AW_SC_FANOTIFY, SC_ALWAYS, 0},
    {"reboot", AW_SC_SYSTEM, SC_ALWAYS, 0},
    {"swapon", AW_SC_SYSTEM, SC_ALWAYS, 0},
    {"swapoff", AW_SC_SYSTEM, SC_ALWAYS, 0},
    {"syslog", AW_SC_SYSTEM, SC_ALWAYS, 0},
    {"acct", AW_SC_SYSTEM, SC_ALWAYS, 0},
    {"settimeofday", AW_SC_SYSTEM, SC_ALWAYS, 0},
    {"clock_settime", AW_SC_SYSTEM, SC_ALWAYS, 0},
    /* adjtimex and clock_adjtime are left out: with modes 0 they are
     * how programs read the clock's state. */
    {"sethostname", AW_SC_SYSTEM, SC_ALWAYS, 0},
    {"setdomainname", AW_SC_SYSTEM, SC_ALWAYS, 0},
    {"quotactl", AW_SC_SYSTEM, SC_ALWAYS, 0},
    {"quotactl_fd", AW_SC_SYSTEM, SC_ALWAYS, 0},
    {"iopl", AW_SC_SYSTEM, SC_ALWAYS, 0},
    /* ss, netstat: a sock_diag socket lists every socket of the network
     * namespace (the host's, for a session in it), with addresses,
     * owners and inodes, and Unix socket paths (the daemon's control
     * socket among them). The cgroup socket hooks see inet sockets
     * only, so this is refused here. Other netlink families (route:
     * `ip addr`) stay. */
    {"socket", AW_SC_SOCK_DIAG, SC_SOCK_DIAG, 0},
    {"socket", AW_SC_SOCK_FAMILY, SC_SOCK_FAMILY, 0},
    {"socketpair", AW_SC_SOCK_FAMILY, SC_SOCK_FAMILY, 0},
    {"ioperm", AW_SC_SYSTEM, SC_ALWAYS, 0},
    {"lookup_dcookie", AW_SC_SYSTEM, SC_ALWAYS, 0},
    {"nfsservctl", AW_SC_SYSTEM, SC_ALWAYS, 0},
    /* READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE, MMAP_PAGE_ZERO, ... weaken
     * the next exec's address space (a setuid program's, without
     * no_new_privs). */
    {"personality", AW_SC_SYSTEM, SC_PERSONALITY, 0},
    {"vhangup", AW_SC_SYSTEM, SC_ALWAYS, 0},
};

static const char *const group_names[AW_SC_GROUPS] = {
    [AW_SC_PTRACE] = "ptrace",
    [AW_SC_PROCESS_VM] = "process-vm",
    [AW_SC_IO_URING] = "io-uring",
    [AW_SC_KEYRING] = "keyring",
    [AW_SC_BPF] = "bpf",
    [AW_SC_PERF] = "perf",
    [AW_SC_MOUNT] = "mount",
    [AW_SC_NAMESPACES] = "namespaces",
    [AW_SC_MODULES] = "modules",
    [AW_SC_KEXEC] = "kexec",
    [AW_SC_HANDLES] = "handles",
    [AW_SC_TIOCSTI] = "tiocsti",
    [AW_SC_USERFAULTFD] = "userfaultfd",
    [AW_SC_FANOTIFY] = "fanotify",
    [AW_SC_SYSTEM] = "system",
    [AW_SC_SOCK_DIAG] = "sock-diag",
    [AW_SC_SOCK_FAMILY] = "socket-families",
};

const char *aw_seccomp_group_name(unsigned idx)
{
	return idx < AW_SC_GROUPS ? group_names[idx] : NULL;
}

/* The rule's number on arch, or -1 if the architecture has no such
 * system call. */
static int rule_nr(const struct sc_rule *r, uint32_t arch)
{
	int nr = seccomp_syscall_resolve_name_arch(arch, r->name);

	if (nr < 0 && r->new_nr && arch == seccomp_arch_native())
		nr = r->new_nr;
	return nr < 0 ? -1 : nr;
}

/* Does a call with these arguments fall under the rule? The same tests
 * as add_rule() below puts in the filter. */
static int rule_matches(const struct sc_rule *r, const uint64_t args[6])
{
	uint32_t a;

	switch ((enum sc_test)r->test) {
	case SC_ALWAYS:
	case SC_ENOSYS:
		return 1;
	case SC_CLONE_NS:
		return (args[0] & CLONE_NS_FLAGS) != 0;
	case SC_UNSHARE_NS:
		return (args[0] & UNSHARE_NS_FLAGS) != 0;
	case SC_TTY_INJECT:
		a = (uint32_t)args[1];
		return a == AW_TIOCSTI || a == AW_TIOCLINUX;
	case SC_PERSONALITY:
		a = (uint32_t)args[0];
		return a != 0 && a != PERSONA_QUERY;
	case SC_SOCK_DIAG:
		return (uint32_t)args[0] == AW_AF_NETLINK &&
		       (uint32_t)args[2] == AW_NETLINK_SOCK_DIAG;
	case SC_SOCK_FAMILY:
		for (size_t i = 0; i < AW_ARRAY_SIZE(denied_families); i++)
			if ((uint32_t)args[0] == denied_families[i])
				return 1;
		return 0;
	}
	return 0;
}

int aw_seccomp_group_of(uint32_t arch, int nr, const uint64_t args[6])
{
	static const uint64_t no_args[6];

	if (arch != seccomp_arch_native() || nr < 0)
		return -1;
	if (!args)
		args = no_args;
	for (size_t i = 0; i < AW_ARRAY_SIZE(rules); i++)
		if (rule_nr(&rules[i], arch) == nr &&
		    rule_matches(&rules[i], args))
			return rules[i].group;
	return -1;
}

/* One flag bit per rule: libseccomp ORs rules, and cannot AND two tests
 * of the same argument. */
static int add_flag_rules(scmp_filter_ctx ctx, uint32_t act, int nr,
			  uint64_t flags)
{
	for (int bit = 0; bit < 64; bit++) {
		uint64_t f = 1ull << bit;
		int r;

		if (!(flags & f))
			continue;
		r = seccomp_rule_add(ctx, act, nr, 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, f, f));
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct sc_rule *r, uint32_t act)
{
	int nr = rule_nr(r, seccomp_arch_native()), e;

	if (nr < 0)
		return 0; /* not on this architecture: nothing to deny */
	switch ((enum sc_test)r->test) {
	case SC_ALWAYS:
		return seccomp_rule_add(ctx, act, nr, 0);
	case SC_ENOSYS:
		return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
	case SC_CLONE_NS:
		return add_flag_rules(ctx, act, nr, CLONE_NS_FLAGS);
	case SC_UNSHARE_NS:
		return add_flag_rules(ctx, act, nr, UNSHARE_NS_FLAGS);
	case SC_TTY_INJECT:
		/* The kernel reads the request as unsigned int: compare the
		 * low 32 bits only, or TIOCSTI with junk in the high bits
		 * would pass (Flatpak's CVE-2019-10063). */
		e = seccomp_rule_add(
		    ctx, act, nr, 1,
		    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffull, AW_TIOCSTI));
		if (e < 0)
			return e;
		return seccomp_rule_add(
		    ctx, act, nr, 1,
		    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffull, AW_TIOCLINUX));
	case SC_PERSONALITY:
		/* Deny every low 32-bit value except all zeros and all ones
		 * (the kernel ignores the high bits). A value is neither iff,
		 * going round its 32 bits, some bit is 1 and the next one 0:
		 * 32 masked tests, ORed, say exactly that. */
		for (int i = 0; i < 32; i++) {
			uint64_t one = 1ull << i, next = 1ull << ((i + 1) % 32);

			e = seccomp_rule_add(
			    ctx, act, nr, 1,
			    SCMP_A0(SCMP_CMP_MASKED_EQ, one | next, one));
			if (e < 0)
				return e;
		}
		return 0;
	case SC_SOCK_DIAG:
		/* Both tests at once (ANDed); the kernel reads int. */
		return seccomp_rule_add(
		    ctx, act, nr, 2,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffull, AW_AF_NETLINK),
		    SCMP_A2(SCMP_CMP_MASKED_EQ, 0xffffffffull,
			    AW_NETLINK_SOCK_DIAG));
	case SC_SOCK_FAMILY:
		for (size_t i = 0; i < AW_ARRAY_SIZE(denied_families); i++) {
			e = seccomp_rule_add(ctx, act, nr, 1,
					     SCMP_A0(SCMP_CMP_MASKED_EQ,
						     0xffffffffull,
						     denied_families[i]));
			if (e < 0)
				return e;
		}
		return 0;
	}
	return -EINVAL;
}

__attribute__((format(printf, 3, 4))) static void
set_why(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	if (!why || !why_len)
		return;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
}

/* Build the program with libseccomp and copy it out (export writes to a
 * file descriptor: a memfd). */
int aw_seccomp_program(uint32_t allow_mask, int want_notify,
		       struct sock_filter **ret_insns, size_t *ret_n, char *why,
		       size_t why_len)
{
	uint32_t act = want_notify ? SCMP_ACT_NOTIFY : SCMP_ACT_ERRNO(EPERM);
	_cleanup_close_ int mfd = -1;
	_cleanup_free_ struct sock_filter *insns = NULL;
	scmp_filter_ctx ctx;
	off_t size;
	int r;

	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		set_why(why, why_len, "%s", "libseccomp: out of memory");
		return -ENOMEM;
	}
	/* Only the native architecture is in the filter: an i386 call
	 * (int 0x80 works from a 64-bit process) or an x32 call has other
	 * numbers, so it would pass a filter written for the native ones.
	 * libseccomp sends both to the bad-architecture action: refused
	 * like a denied group, through the supervisor, which reports the
	 * call and its ABI (a kill by SIGSYS left no record but the
	 * session's end). Without a supervisor they fail with ENOSYS. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, act);
	/* A binary tree of system call numbers (libseccomp >= 2.5): the
	 * calls the kernel cannot cache as always allowed because the
	 * filter tests their arguments (socket, ioctl, clone, ...) are
	 * found in ~log2(rules) comparisons, not after a linear walk past
	 * every denied call. The same decisions either way. */
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	for (size_t i = 0; r == 0 && i < AW_ARRAY_SIZE(rules); i++)
		if (!(allow_mask & (1u << rules[i].group)))
			r = add_rule(ctx, &rules[i], act);
	/* The calls the supervisor watches for refusals (let go on, never
	 * refused by it: without a supervisor they are left out). */
	if (r == 0 && want_notify && (want_notify & AW_SECCOMP_WATCH))
		r = aw_refusal_add_rules(ctx, act);
	if (r < 0) {
		set_why(why, why_len, "libseccomp: adding the rules: %s",
			strerror(-r));
		goto out;
	}
	mfd = memfd_create("aw-seccomp", MFD_CLOEXEC);
	if (mfd < 0) {
		r = -errno;
		set_why(why, why_len, "memfd_create: %s", strerror(errno));
		goto out;
	}
	r = seccomp_export_bpf(ctx, mfd);
	if (r < 0) {
		set_why(why, why_len, "libseccomp: generating the program: %s",
			strerror(-r));
		goto out;
	}
	size = lseek(mfd, 0, SEEK_END);
	/* BPF_MAXINSNS: the kernel's limit for one filter. */
	if (size <= 0 || size % sizeof(struct sock_filter) ||
	    size > (off_t)(BPF_MAXINSNS * sizeof(struct sock_filter))) {
		r = -E2BIG;
		set_why(why, why_len, "%s",
			"libseccomp produced a program of a bad size");
		goto out;
	}
	insns = malloc(size);
	if (!insns) {
		r = -ENOMEM;
		set_why(why, why_len, "%s", "out of memory");
		goto out;
	}
	if (pread(mfd, insns, size, 0) != size) {
		r = -EIO;
		set_why(why, why_len, "%s", "reading the program back failed");
		goto out;
	}
	*ret_insns = AW_TAKE_PTR(insns);
	*ret_n = size / sizeof(struct sock_filter);
	r = 0;
out:
	seccomp_release(ctx);
	return r;
}

static const char *load_error(int err, int want_notify)
{
	switch (err) {
	case EINVAL:
		return want_notify
			   ? "the kernel refused the filter or its flags "
			     "(TSYNC with a listener needs Linux 5.7)"
			   : "the kernel refused the filter or its flags";
	case EACCES:
		return "no_new_privs is not set and the caller lacks "
		       "CAP_SYS_ADMIN";
	case EBUSY:
		return "a seccomp filter with a listener is already installed "
		       "on this process (one supervisor per filter chain)";
	case ESRCH:
		return "another thread of the process has a seccomp filter "
		       "this one cannot be synchronized with (TSYNC)";
	case ENOSYS:
		return "the kernel is built without seccomp "
		       "(CONFIG_SECCOMP_FILTER)";
	case ENOMEM:
		return "out of memory, or the process's filters together "
		       "exceed the kernel's 32768 instructions";
	default:
		return "seccomp(SECCOMP_SET_MODE_FILTER) failed";
	}
}

int aw_seccomp_install(uint32_t allow_mask, int want_notify, int *ret_notify_fd,
		       char *why, size_t why_len)
{
	_cleanup_free_ struct sock_filter *insns = NULL;
	size_t n = 0;
	int r;

	if (why && why_len)
		why[0] = 0;
	r = aw_seccomp_program(allow_mask, want_notify, &insns, &n, why,
			       why_len);
	if (r < 0)
		return r;
	return aw_seccomp_install_program(insns, n, want_notify, ret_notify_fd,
					  why, why_len);
}

int aw_seccomp_install_program(const struct sock_filter *insns, size_t n,
			       int want_notify, int *ret_notify_fd, char *why,
			       size_t why_len)
{
	struct sock_fprog prog;
	unsigned long flags;
	long r;

	if (why && why_len)
		why[0] = 0;
	if (want_notify && !ret_notify_fd)
		return -EINVAL;
	if (!n || n > BPF_MAXINSNS)
		return -E2BIG;
	/* Without no_new_privs an unprivileged filter is refused, and a
	 * setuid exec would run under a filter it did not expect. */
	r = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	if (r == 0)
		r = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (r < 0) {
		r = -errno;
		set_why(why, why_len, "no_new_privs: %s", strerror(errno));
		return r;
	}
	prog.len = (unsigned short)n;
	prog.filter = (struct sock_filter *)insns;

	/* Every thread gets the filter, or none does (TSYNC). With a
	 * listener, TSYNC_ESRCH makes a failed sync return ESRCH instead of
	 * the failing thread's id, which would be taken for the listener.
	 * WAIT_KILLABLE_RECV: once the supervisor has taken a notification,
	 * the caller's wait ignores non-fatal signals, so a program that is
	 * signalled often (Go's preemption) does not restart the call and
	 * notify again and again. */
	flags = SECCOMP_FILTER_FLAG_TSYNC;
	if (want_notify)
		flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER |
			 SECCOMP_FILTER_FLAG_TSYNC_ESRCH |
			 SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
	r = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (r < 0 && errno == EINVAL && want_notify) {
		/* WAIT_KILLABLE_RECV is Linux 5.19: do without it. */
		flags &= ~(unsigned long)SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
		r = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, flags,
			    &prog);
	}
	if (r < 0) {
		r = -errno;
		set_why(why, why_len, "%s", load_error(errno, want_notify));
		return r;
	}
	if (!want_notify && r > 0) {
		/* Plain TSYNC reports the thread it could not sync. */
		set_why(why, why_len, "%s", load_error(ESRCH, 0));
		return -ESRCH;
	}
	if (want_notify)
		*ret_notify_fd = r;
	return 0;
}

static void fill_denial(struct aw_seccomp_denial *d,
			const struct seccomp_notif *req)
{
	const char *known = NULL;
	uint64_t args[6];
	char *name;

	memset(d, 0, sizeof(*d));
	d->pid = req->pid;
	d->nr = req->data.nr;
	d->arch = req->data.arch;
	for (int i = 0; i < 6; i++)
		args[i] = req->data.args[i];
	d->group = aw_seccomp_group_of(d->arch, d->nr, args);
	memcpy(d->args, args, sizeof(d->args));
	d->capture.root_fd = -1;
	/* x32 shares x86-64's audit arch; its numbers carry a bit. */
	if (d->arch == SCMP_ARCH_X86_64 && (d->nr & 0x40000000)) {
		d->abi = "x32";
		name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X32, d->nr);
	} else {
		d->abi = d->arch == seccomp_arch_native() ? ""
			 : d->arch == SCMP_ARCH_X86	  ? "i386"
							  : "foreign";
		name = seccomp_syscall_resolve_num_arch(d->arch, d->nr);
	}
	/* Names newer than libseccomp's table come from ours. */
	for (size_t i = 0; !name && !known && i < AW_ARRAY_SIZE(rules); i++)
		if (rules[i].new_nr && rules[i].new_nr == d->nr &&
		    d->arch == seccomp_arch_native())
			known = rules[i].name;
	if (name || known)
		snprintf(d->syscall, sizeof(d->syscall), "%s",
			 name ? name : known);
	else
		snprintf(d->syscall, sizeof(d->syscall), "syscall-%d", d->nr);
	free(name);
}

/* The kernel fills struct seccomp_notif with its own size: refuse a
 * kernel whose structure outgrew ours instead of letting it write past
 * the end (none has so far; the sizes call exists for that day). */
static int check_notif_sizes(void)
{
	static int checked; /* 1 ok, < 0 error; a race only repeats it */
	struct seccomp_notif_sizes sz;

	if (checked)
		return checked < 0 ? checked : 0;
	if (syscall(__NR_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0)
		return -errno;
	if (sz.seccomp_notif > sizeof(struct seccomp_notif) ||
	    sz.seccomp_notif_resp > sizeof(struct seccomp_notif_resp))
		checked = -EOVERFLOW;
	else
		checked = 1;
	return checked < 0 ? checked : 0;
}

int aw_seccomp_answer(int notify_fd, struct aw_seccomp_denial *ret)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	struct aw_seccomp_denial d;
	uint64_t id;
	int r;

	r = check_notif_sizes();
	if (r < 0)
		return r;
	for (;;) {
		struct pollfd p = {.fd = notify_fd, .events = POLLIN};

		/* Wait in poll, not in NOTIF_RECV: poll also reports POLLHUP
		 * when no task uses the filter any more (so the death of the
		 * last one cannot leave us waiting forever), and it is never
		 * restarted after a signal handler. After POLLIN the receive
		 * cannot block: each notification raised the count it waits
		 * on, and a vanished one makes it fail with ENOENT. */
		if (poll(&p, 1, -1) < 0)
			return -errno;
		if (p.revents & POLLNVAL)
			return -EBADF;
		if (!(p.revents & POLLIN)) {
			if (p.revents & (POLLHUP | POLLERR))
				return -ESRCH;
			continue;
		}
		/* The kernel refuses a buffer that is not zeroed. */
		memset(&req, 0, sizeof(req));
		if (ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0)
			break;
		if (errno != ENOENT)
			return -errno;
		/* ENOENT: the caller was killed between poll and receive;
		 * nothing is known about it. Wait for the next one. */
	}
	fill_denial(&d, &req);
	d.watched =
	    d.group < 0 && !d.abi[0] && aw_refusal_watched(d.nr, d.args);
	if (d.watched)
		aw_refusal_capture(d.pid, d.nr, d.args, &d.capture);

	/* The id check is what makes anything read about the caller by its
	 * pid trustworthy: if the notification is still pending after the
	 * reads, the pid was still the caller's while we read. Whatever
	 * may be added here later (/proc/<pid>/...) goes before it. Our
	 * <linux/seccomp.h> has the fixed ioctl number (_IOW, Linux 5.9);
	 * the kernel still accepts the first, misnumbered _IOR one. */
	id = req.id;
	if (ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0) {
		r = errno == ENOENT ? -ENOENT : -errno;
		/* (a watched call stays watched: judged without what
		 * it named, it is recorded only if that is not needed) */
		aw_refusal_release(&d.capture);
		*ret = d;
		return r;
	}
	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	resp.error = d.watched ? 0 : -EPERM;
	resp.val = 0;
	/* A denied group's call is answered here, never let go on; a
	 * watched call goes on to the kernel, which decides as it would
	 * without us. */
	resp.flags = d.watched ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0;
	r = 0;
	if (ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0)
		/* ENOENT: the caller died or a signal ended its wait in
		 * between; the attempt still happened. */
		r = -errno;
	*ret = d;
	return r;
}
