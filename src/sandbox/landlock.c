// SPDX-License-Identifier: GPL-2.0-only
/*
 * The session's Landlock domain (see landlock.h).
 *
 * Raw system calls over the system's <linux/landlock.h>. Debian 12's
 * header has the ABI 1 and 2 rights only; what came later is defined
 * below with the kernel's uapi values.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/landlock.h>

#include "sandbox/landlock.h"
#include "shared/util.h"

/* include/uapi/linux/landlock.h, Linux 6.15 (ABI 7). */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1) /* ABI 6 */
#endif
#ifndef LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF
#define LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF (1U << 0) /* ABI 7 */
#endif
#ifndef LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON
#define LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON (1U << 1) /* ABI 7 */
#endif
#ifndef LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF
#define LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF (1U << 2) /* ABI 7 */
#endif

/*
 * struct landlock_ruleset_attr as of ABI 6. Our own name: the system's
 * header has the ABI 1 structure under the kernel's. The kernel takes a
 * larger structure than it knows if the extra fields are zero.
 */
struct aw_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4: TCP bind/connect */
	uint64_t scoped;	     /* ABI 6: LANDLOCK_SCOPE_* */
};
_Static_assert(sizeof(struct aw_ruleset_attr) == 24,
	       "struct landlock_ruleset_attr is 24 bytes at ABI 6");

#define FS_READ                                                                \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE |           \
	 LANDLOCK_ACCESS_FS_READ_DIR)
#define FS_WRITE                                                               \
	(LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |       \
	 LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR |        \
	 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |          \
	 LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SYM |          \
	 LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE)
#define FS_DEV (LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_IOCTL_DEV)
/* Rights that mean something on a file that is not a directory; the
 * kernel refuses the others in a rule on such a file. */
#define FS_FILE                                                                \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |          \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |          \
	 LANDLOCK_ACCESS_FS_IOCTL_DEV)

static long ll_create_ruleset(const struct aw_ruleset_attr *attr, size_t size,
			      uint32_t flags)
{
	return syscall(__NR_landlock_create_ruleset, attr, size, flags);
}

static long ll_add_rule(int ruleset_fd, enum landlock_rule_type type,
			const void *attr, uint32_t flags)
{
	return syscall(__NR_landlock_add_rule, ruleset_fd, type, attr, flags);
}

static long ll_restrict_self(int ruleset_fd, uint32_t flags)
{
	return syscall(__NR_landlock_restrict_self, ruleset_fd, flags);
}

int aw_landlock_abi(void)
{
	long abi = ll_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	/* ENOSYS: not built in; EOPNOTSUPP: built in, not enabled. */
	return abi > 0 ? (int)abi : 0;
}

__attribute__((format(printf, 3, 4))) static void
note_add(char *notes, size_t len, const char *fmt, ...)
{
	size_t used;
	va_list ap;

	if (!notes || !len)
		return;
	used = strnlen(notes, len);
	if (used >= len - 1)
		return; /* full (or not terminated: leave it alone) */
	if (used) {
		snprintf(notes + used, len - used, "; ");
		used = strnlen(notes, len);
	}
	va_start(ap, fmt);
	vsnprintf(notes + used, len - used, fmt, ap);
	va_end(ap);
}

/* What the kernel's ABI knows; everything it knows is handled. */
static uint64_t fs_handled_for(int abi)
{
	uint64_t fs = FS_READ | FS_WRITE | FS_DEV |
		      LANDLOCK_ACCESS_FS_MAKE_CHAR |
		      LANDLOCK_ACCESS_FS_MAKE_BLOCK;

	/* One case per ABI, oldest first: a kernel enters at its own
	 * level and falls through, stripping every right a later ABI
	 * added. */
	switch (abi) {
	case 1:
		/* ABI 2 added REFER. Without it, moving or linking a file to
		 * another directory is always refused (EXDEV), even inside
		 * the write paths. */
		fs &= ~LANDLOCK_ACCESS_FS_REFER;
		__attribute__((fallthrough));
	case 2:
		/* ABI 3 added TRUNCATE: truncate(2) and O_TRUNC are not
		 * restricted before it. */
		fs &= ~LANDLOCK_ACCESS_FS_TRUNCATE;
		__attribute__((fallthrough));
	case 3:
		/* ABI 4 added TCP bind/connect rights: not ours (the daemon
		 * decides the network), never handled. */
		__attribute__((fallthrough));
	case 4:
		/* ABI 5 added IOCTL_DEV: device ioctls are not restricted
		 * before it. */
		fs &= ~LANDLOCK_ACCESS_FS_IOCTL_DEV;
		__attribute__((fallthrough));
	case 5:
		/* ABI 6 added scopes (signals, abstract unix sockets): no
		 * file system right. */
		__attribute__((fallthrough));
	case 6:
		/* ABI 7 added audit logging flags: no file system right. */
		__attribute__((fallthrough));
	default:
		break;
	}
	return fs;
}

/* Say what this kernel lacks of what the plan asks for, in one note. */
static void note_missing(const struct aw_landlock_plan *plan, int abi,
			 char *notes, size_t len)
{
	char m[512] = "";
	size_t n = 0;

#define MISSING(...)                                                           \
	do {                                                                   \
		if (n < sizeof(m))                                             \
			n += snprintf(m + n, sizeof(m) - n, "%s",              \
				      n ? ", " : "");                          \
		if (n < sizeof(m))                                             \
			n += snprintf(m + n, sizeof(m) - n, __VA_ARGS__);      \
	} while (0)

	if (abi < 2)
		MISSING("no moving or linking files across directories, even "
			"inside the write paths (needs 2)");
	if (abi < 3)
		MISSING("no truncate restriction (needs 3)");
	if (abi < 5)
		MISSING("no device ioctl restriction (needs 5)");
	if (abi < 6 && (plan->scope_signals || plan->scope_abstract_unix))
		MISSING("no signal/abstract-socket scoping (needs 6)");
	if (abi < 7 && plan->log_new_exec)
		MISSING("no audit of denials after exec (needs 7)");
#undef MISSING
	if (n)
		note_add(notes, len, "Landlock ABI %d: %s", abi, m);
}

/* Add one path_beneath rule. A path that does not exist is skipped (1),
 * with a note. */
static int add_path(int ruleset_fd, const char *path, uint64_t allowed,
		    uint64_t handled, char *notes, size_t len)
{
	struct landlock_path_beneath_attr pb = {0};
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	/* O_PATH follows symbolic links: the rule is on what the path
	 * names now, as the mount view shows it. */
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT || r == -ENOTDIR) {
			note_add(notes, len, "skipped, does not exist: %s",
				 path);
			return 1;
		}
		note_add(notes, len, "%s: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		note_add(notes, len, "%s: %s", path, strerror(-r));
		return r;
	}
	allowed &= handled;
	if (!S_ISDIR(st.st_mode))
		allowed &= FS_FILE;
	if (!allowed)
		return 0;
	pb.allowed_access = allowed;
	pb.parent_fd = fd;
	if (ll_add_rule(ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0) {
		r = -errno;
		note_add(notes, len, "landlock_add_rule %s: %s", path,
			 strerror(-r));
		return r;
	}
	return 0;
}

int aw_landlock_apply(const struct aw_landlock_plan *plan, char *notes,
		      size_t notes_len)
{
	struct aw_ruleset_attr attr = {0};
	_cleanup_close_ int ruleset_fd = -1;
	uint32_t restrict_flags = 0;
	int abi, r;

	if (notes && notes_len)
		notes[0] = 0;
	/* landlock_restrict_self() needs no_new_privs (or CAP_SYS_ADMIN in
	 * the user namespace; we do not rely on that: a setuid exec must not
	 * escape the domain's intent either). */
	r = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	if (r == 0)
		r = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (r < 0) {
		r = -errno;
		note_add(notes, notes_len, "no_new_privs: %s", strerror(-r));
		return r;
	}

	abi = aw_landlock_abi();
	if (abi <= 0) {
		note_add(notes, notes_len,
			 "Landlock is unavailable on this kernel (not built "
			 "in, or not in the lsm= list)");
		return -EOPNOTSUPP;
	}
	if (abi > AW_LANDLOCK_ABI_MAX)
		abi = AW_LANDLOCK_ABI_MAX;

	attr.handled_access_fs = fs_handled_for(abi);
	if (abi >= 6) {
		if (plan->scope_signals)
			attr.scoped |= LANDLOCK_SCOPE_SIGNAL;
		if (plan->scope_abstract_unix)
			attr.scoped |= LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET;
	}
	/* ABI 7: denials are audited in the process that made the domain
	 * until it execs; NEW_EXEC_ON keeps auditing the program it runs
	 * (the agent), which is the one we care about. Records exist only
	 * while audit is enabled system-wide (auditctl -e 1): Landlock
	 * counts a denial, then returns if audit_enabled is 0. */
	if (abi >= 7 && plan->log_new_exec)
		restrict_flags |= LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON;
	note_missing(plan, abi, notes, notes_len);

	ruleset_fd = ll_create_ruleset(&attr, sizeof(attr), 0);
	if (ruleset_fd < 0) {
		r = -errno;
		note_add(notes, notes_len, "landlock_create_ruleset: %s",
			 strerror(-r));
		return r;
	}
	/* Read and execute everywhere; make_char / make_block nowhere. */
	r = add_path(ruleset_fd, "/", FS_READ, attr.handled_access_fs, notes,
		     notes_len);
	for (size_t i = 0; r >= 0 && i < plan->n_write; i++)
		r = add_path(ruleset_fd, plan->write_paths[i], FS_WRITE,
			     attr.handled_access_fs, notes, notes_len);
	for (size_t i = 0; r >= 0 && i < plan->n_dev; i++)
		r = add_path(ruleset_fd, plan->dev_paths[i], FS_DEV,
			     attr.handled_access_fs, notes, notes_len);
	if (r < 0)
		return r;
	if (ll_restrict_self(ruleset_fd, restrict_flags) < 0) {
		r = -errno;
		note_add(notes, notes_len, "landlock_restrict_self: %s%s",
			 strerror(-r),
			 r == -E2BIG ? " (16 nested domains already)" : "");
		return r;
	}
	return abi;
}
