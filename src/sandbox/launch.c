// SPDX-License-Identifier: GPL-2.0-only
/*
 * Building the session sandbox and running the command in it.
 *
 * Three processes:
 *  - the launcher (this process: for a forced agent, the agent's own pid,
 *    so its parent waits on what it always waited on). It stays outside
 *    the sandbox: writes the user namespace's id maps, answers seccomp
 *    notifications (each one a denial reported to the daemon), forwards
 *    signals, and exits the way the command did;
 *  - "init", pid 1 of the session's pid namespace, created with new user,
 *    mount, pid, cgroup and IPC namespaces. It builds the file system
 *    view, narrows itself (no_new_privs, Landlock, seccomp), forks the
 *    command, reaps, and when the command ends the namespace ends with it:
 *    whatever daemonized inside is killed;
 *  - the command, with every capability dropped.
 *
 * The order narrows privilege step by step: namespaces, then mounts, then
 * Landlock, then seccomp, then capabilities, then exec. A failure at any
 * step ends the launch (exit 125); the command never runs half-confined.
 *
 * The file system view (bubblewrap's approach): a staging tmpfs becomes
 * the root, the real root is reached at /oldroot, the new root is a
 * recursive bind of it made read-only (mount_setattr, recursive), then
 * the plan's grants and masks are mounted on top, parents before
 * children; pivot into it and detach the rest.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <unistd.h>

#include "shared/stage.h"
#include "review/review.h"
#include "sandbox/landlock.h"
#include "sandbox/launch.h"
#include "sandbox/masks.h"
#include "sandbox/seccomp.h"
#include "shared/json.h"
#include "shared/util.h"

/* The staging tmpfs is mounted on /tmp (any directory would do) and then
 * becomes the root: before that pivot its entries are STAGE "/newroot"
 * and STAGE "/oldroot", after it NEWROOT and OLDROOT. */
#define STAGE "/tmp"
#define NEWROOT "/newroot"
#define OLDROOT "/oldroot"
#define REPORTS_PER_SEC 50

/* ---- small helpers ------------------------------------------------------ */

static void die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
/* In init: say why on stderr and end the launch; the command never runs
 * in a half-built sandbox. */
static void die(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "agentwall: sandbox: %.*s\n", n, msg);
	_exit(AW_LAUNCH_EXIT_FAIL);
}

static int mkdir_p(const char *path, mode_t mode)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Depth first (parents are mounted before what is under them), then by
 * verb so that at one path a grant goes before the mask on top of it. */
static int op_cmp(const void *a, const void *b)
{
	const struct aw_plan_op *x = *(const struct aw_plan_op *const *)a;
	const struct aw_plan_op *y = *(const struct aw_plan_op *const *)b;
	size_t dx = 0, dy = 0;

	for (const char *s = x->path; *s; s++)
		dx += *s == '/';
	for (const char *s = y->path; *s; s++)
		dy += *s == '/';
	if (dx != dy)
		return dx < dy ? -1 : 1;
	if (x->verb != y->verb) {
		/* Masks last; at one path a private tmpfs goes under a grant
		 * that keeps data (a workspace at /tmp is the workspace). */
		if (x->verb == AW_FS_DENY || y->verb == AW_FS_DENY)
			return x->verb == AW_FS_DENY ? 1 : -1;
		if (!strcmp(x->path, y->path) &&
		    (x->verb == AW_FS_TMPFS || y->verb == AW_FS_TMPFS))
			return x->verb == AW_FS_TMPFS ? -1 : 1;
	}
	return strcmp(x->path, y->path);
}

/* ---- the file system view (in init) ------------------------------------ */

/* The whiteouts that mask, ahead, secrets absent at start (plan.c,
 * masks_ahead). Directories on the way are made with the real ones'
 * modes, so that they are no change to review. */
static void make_masks_ahead(const struct aw_plan *plan,
			     const struct aw_plan_op *op, const char *upper)
{
	size_t root = strcmp(op->path, "/") ? strlen(op->path) : 0;

	for (size_t i = 0; i < plan->n_ahead; i++) {
		const char *m = plan->ahead[i].path;
		char up[PATH_MAX * 2 + 16];
		size_t len = strlen(upper);

		if (&plan->ops[plan->ahead[i].op] != op)
			continue;
		snprintf(up, sizeof(up), "%s%s", upper, m + root);
		for (char *s = up + len + 1; (s = strchr(s, '/')); s++) {
			char real[PATH_MAX + 16];
			struct stat st;

			*s = 0;
			snprintf(real, sizeof(real), OLDROOT "%.*s",
				 (int)(root + (size_t)(s - (up + len))), m);
			if (stat(real, &st) < 0 ||
			    (mkdir(up, st.st_mode & 07777) < 0 &&
			     errno != EEXIST))
				die("%s: mask ahead %s: %s", op->rule, m,
				    strerror(errno));
			*s = '/';
		}
		if (mknod(up, S_IFCHR | 0000, makedev(0, 0)) < 0 &&
		    errno != EEXIST)
			die("%s: mask ahead %s: %s", op->rule, m,
			    strerror(errno));
	}
}

static void mount_overlay(const struct aw_plan *plan,
			  const struct aw_plan_op *op, const char *target)
{
	char lower[PATH_MAX + 16], upper[PATH_MAX + 64], work[PATH_MAX + 64];
	int fs, mnt;

	snprintf(lower, sizeof(lower), OLDROOT "%s", op->path);
	snprintf(upper, sizeof(upper), OLDROOT "%s/upper/%u", plan->dir,
		 op->idx);
	snprintf(work, sizeof(work), OLDROOT "%s/work/%u", plan->dir, op->idx);
	if (mkdir_p(upper, 0700) < 0 || mkdir_p(work, 0700) < 0)
		die("%s: session store %s: %s", op->rule, upper,
		    strerror(errno));
	make_masks_ahead(plan, op, upper);
	/* The new mount API takes each path as one string: no escaping of
	 * ',' or ':' in names (lowerdir+ is Linux 6.8). */
	/* userxattr: in a user namespace overlayfs can only keep its
	 * metadata (opaque directories, redirects) in user.overlay.* xattrs;
	 * without it deleting a directory of the real tree fails with EIO. */
	fs = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs < 0 || fsconfig(fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", lower, 0) ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0)) {
		/* overlayfs clones the lower tree privately; in a user
		 * namespace that fails (EINVAL) when other file systems are
		 * mounted inside it (/tmp with a private mount in it, a home
		 * with a FUSE mount): their mounts are locked. */
		if (errno == EINVAL)
			die("%s: copy-on-write overlay on %s: Invalid argument "
			    "(a file system mounted inside it cannot be "
			    "copied; name a workspace without mounts inside: "
			    "--workspace DIR)",
			    op->rule, op->path);
		die("%s: copy-on-write overlay on %s: %s", op->rule, op->path,
		    strerror(errno));
	}
	mnt =
	    fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (mnt < 0 ||
	    move_mount(mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH))
		die("%s: mount overlay on %s: %s", op->rule, op->path,
		    strerror(errno));
	close(mnt);
	close(fs);
}

/* A file to bind onto, made in a private tmpfs (its directories too).
 * Returns 1 if the source is a file and the target was made. */
static int make_file_target(const struct aw_plan_op *op, const char *target)
{
	char src[PATH_MAX + 16], dir[PATH_MAX + 32], *slash;
	struct stat st;
	int fd;

	snprintf(src, sizeof(src), OLDROOT "%s", op->path);
	if (stat(src, &st) < 0 || S_ISDIR(st.st_mode))
		return 0;
	snprintf(dir, sizeof(dir), "%s", target);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir_p(dir, 0755) < 0)
			die("%s: %s: %s", op->rule, dir, strerror(errno));
	}
	fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		die("%s: %s: %s", op->rule, op->path, strerror(errno));
	close(fd);
	return 1;
}

/* ---- masks the daemon sees (masks.c) ------------------------------------ */

/* In init: the session's mask placeholders, and their tmpfs's root (an
 * O_PATH fd, -1 when there is none: the masks are then mode-000 mounts,
 * as refusing but unrecorded); the socket to the launcher. */
#define MASKS_DIR "/masks"
static const struct aw_masks *view_masks;
static int masks_root = -1;
static int masks_sock = -1;

/* Made first, and at once offered to the launcher, which hands it to the
 * daemon while init mounts the rest of the view. */
static void masks_prepare(void)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	char err[256], byte = 'm';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = cbuf,
			   .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	if (view_masks && view_masks->n)
		masks_root =
		    aw_masks_build(view_masks, MASKS_DIR, err, sizeof(err));
	if (masks_root < 0) {
		/* The old masks: still refusing. */
		masks_root = -1;
		byte = '-';
		m.msg_control = NULL;
		m.msg_controllen = 0;
	} else {
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &masks_root, sizeof(int));
	}
	if (sendmsg(masks_sock, &m, 0) != 1)
		die("hand over the masks: %s", strerror(errno));
}

/* 1 if op is masked by its placeholder. */
static int mask_placeholder(const struct aw_plan *plan,
			    const struct aw_plan_op *op, const struct stat *st,
			    const char *target)
{
	int r;

	if (masks_root < 0)
		return 0;
	r = aw_masks_mount(view_masks, MASKS_DIR, (size_t)(op - plan->ops),
			   S_ISDIR(st->st_mode), target);
	if (r < 0)
		die("%s: mask %s: %s", op->rule, op->path, strerror(-r));
	return r == 0;
}

/* In init, once the view is built and before anything narrows it: the
 * launcher's answer. The command starts once the daemon has its marks
 * (or could not be asked), so its first read is seen; not taken by the
 * daemon, the placeholders are sealed and refuse by their modes. */
static void masks_settle(void)
{
	char ack = 0;

	if (masks_root < 0)
		return;
	if (read(masks_sock, &ack, 1) != 1 || ack != 'k')
		aw_masks_seal(view_masks, masks_root);
	close(masks_root);
	masks_root = -1;
}

/* A descriptor passed with one byte (SCM_RIGHTS), or -1: the peer is gone
 * or passed none. */
static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	char byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = cbuf,
			   .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c;
	ssize_t n;
	int fd;

	while ((n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC)) < 0 &&
	       errno == EINTR) {
	}
	if (n != 1)
		return -1;
	c = CMSG_FIRSTHDR(&m);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* In the launcher: init's mask tmpfs, to the daemon. Not fatal: without
 * the daemon's marks the placeholders are empty and read-only. */
static void masks_relay(const struct aw_launch *l, int sock)
{
	char reply[512], taken = 'n';
	int fd = recv_fd(sock);

	if (fd < 0)
		return; /* init is gone, or no masks: init waits for nothing */
	if (l->masks &&
	    aw_masks_register(l->plan, l->masks, fd, l->socket_path, reply,
			      sizeof(reply)) == 0 &&
	    !strncmp(reply, "ok ", 3) && !strstr(reply, "\nerror"))
		taken = 'k';
	close(fd);
	if (send(sock, &taken, 1, MSG_NOSIGNAL) < 0) {
	}
}

static void apply_op(const struct aw_plan *plan, const struct aw_plan_op *op)
{
	char target[PATH_MAX + 32];
	struct stat st;

	snprintf(target, sizeof(target), NEWROOT "%s", op->path);
	if (lstat(target, &st) < 0) {
		/* Under a tmpfs grant (a workspace in /tmp): make the place.
		 * A mask of something the view no longer has is moot. */
		if (op->verb == AW_FS_DENY || op->verb == AW_FS_ESCALATE ||
		    op->verb == AW_FS_STATE)
			return;
		if (op->verb == AW_FS_PROGRAM && make_file_target(op, target))
			goto made;
		if (mkdir_p(target, 0755) < 0)
			die("%s: %s: %s", op->rule, op->path, strerror(errno));
	}
made:
	switch (op->verb) {
	case AW_FS_COW:
		mount_overlay(plan, op, target);
		break;
	case AW_FS_TMPFS:
		if (mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV,
			  "mode=1777"))
			die("%s: tmpfs on %s: %s", op->rule, op->path,
			    strerror(errno));
		break;
	case AW_FS_WRITE: {
		char src[PATH_MAX + 16];

		snprintf(src, sizeof(src), OLDROOT "%s", op->path);
		if (mount(src, target, NULL, MS_BIND | MS_REC, NULL))
			die("%s: bind %s: %s", op->rule, op->path,
			    strerror(errno));
		break;
	}
	case AW_FS_DENY:
		/* A placeholder the daemon watches (masks.c), when made. */
		if (mask_placeholder(plan, op, &st, target))
			break;
		/* Masked: an empty directory or file nobody may read, on
		 * top of the real one, read-only. The path still exists
		 * (tools that stat it keep working); its content is gone. */
		if (S_ISDIR(st.st_mode)) {
			if (mount("tmpfs", target, "tmpfs",
				  MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
				  "mode=000,size=4k"))
				die("%s: mask %s: %s", op->rule, op->path,
				    strerror(errno));
		} else if (mount("/empty", target, NULL, MS_BIND, NULL) ||
			   mount(NULL, target, NULL,
				 MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID |
				     MS_NODEV | MS_NOEXEC,
				 NULL)) {
			die("%s: mask %s: %s", op->rule, op->path,
			    strerror(errno));
		}
		break;
	case AW_FS_ESCALATE:
	case AW_FS_STATE:
		/* Read-only like everything outside a grant; inside a
		 * copy-on-write tree the change is held for review (or, for
		 * state, taken with the rest): the manifest says which. */
		break;
	case AW_FS_PROGRAM: {
		/* The agent's own program tree, under a private tmpfs:
		 * bound back as it is, read-only. */
		char src[PATH_MAX + 16];
		struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY |
						    MOUNT_ATTR_NOSUID |
						    MOUNT_ATTR_NODEV};

		snprintf(src, sizeof(src), OLDROOT "%s", op->path);
		if (mount(src, target, NULL, MS_BIND | MS_REC, NULL) ||
		    mount_setattr(AT_FDCWD, target, AT_RECURSIVE, &ro,
				  sizeof(ro)))
			die("%s: bind %s: %s", op->rule, op->path,
			    strerror(errno));
		break;
	}
	}
}

/*
 * A minimal /dev (bubblewrap's): the harmless character devices bound
 * from the host, a devpts of the session's own, nothing else. The host's
 * /dev would hand a root agent every block device (the loop devices
 * behind other sessions' stores, the disks), and the host's /dev/pts
 * the user's other terminals. The controlling terminal stays reachable
 * through the inherited descriptors and /dev/tty.
 */
static const char *const dev_nodes[] = {"null",	  "zero",    "full",
					"random", "urandom", "tty"};

static void build_dev(int input)
{
	static const char *const links[][2] = {
	    {"/proc/self/fd", NEWROOT "/dev/fd"},
	    {"/proc/self/fd/0", NEWROOT "/dev/stdin"},
	    {"/proc/self/fd/1", NEWROOT "/dev/stdout"},
	    {"/proc/self/fd/2", NEWROOT "/dev/stderr"},
	    {"pts/ptmx", NEWROOT "/dev/ptmx"},
	};

	if (mount("tmpfs", NEWROOT "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC,
		  "mode=0755,size=64k"))
		die("/dev: %s", strerror(errno));
	for (size_t i = 0; i < AW_ARRAY_SIZE(dev_nodes); i++) {
		char src[64], dst[64];
		int fd;

		snprintf(src, sizeof(src), OLDROOT "/dev/%s", dev_nodes[i]);
		snprintf(dst, sizeof(dst), NEWROOT "/dev/%s", dev_nodes[i]);
		fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
		if (fd < 0)
			die("/dev/%s: %s", dev_nodes[i], strerror(errno));
		close(fd);
		if (mount(src, dst, NULL, MS_BIND, NULL))
			die("/dev/%s: %s", dev_nodes[i], strerror(errno));
	}
	/* Input injection (a virtual keyboard or mouse): only if the policy
	 * grants `computer-use.input`; absent otherwise. */
	if (input && access(OLDROOT "/dev/uinput", F_OK) == 0) {
		int fd = open(NEWROOT "/dev/uinput",
			      O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

		if (fd < 0 || close(fd) ||
		    mount(OLDROOT "/dev/uinput", NEWROOT "/dev/uinput", NULL,
			  MS_BIND, NULL))
			die("/dev/uinput: %s", strerror(errno));
	}
	for (size_t i = 0; i < AW_ARRAY_SIZE(links); i++)
		if (symlink(links[i][0], links[i][1]))
			die("%s: %s", links[i][1], strerror(errno));
	if (mkdir(NEWROOT "/dev/pts", 0755) || mkdir(NEWROOT "/dev/shm", 01777))
		die("/dev: %s", strerror(errno));
	if (mount("devpts", NEWROOT "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=620"))
		die("/dev/pts: %s", strerror(errno));
}

/* Under the session's /proc, what is the host's kernel, not the
 * session's processes (bubblewrap's list). */
static const char *const proc_ro[] = {"sys", "sysrq-trigger", "irq", "bus",
				      "fs"};

static void build_view(const struct aw_plan *plan)
{
	const struct aw_plan_op **ops;
	/* nodev everywhere: no device node of the host's reaches the
	 * session but the ones build_dev() binds afterwards. */
	struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY |
					    MOUNT_ATTR_NOSUID |
					    MOUNT_ATTR_NODEV};
	struct mount_attr dev_ro = {.attr_set = MOUNT_ATTR_RDONLY};
	int fd;

	/* Nothing we mount is seen outside; what the host mounts later
	 * still reaches us. */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL))
		die("make / a slave mount: %s", strerror(errno));
	if (mount("tmpfs", STAGE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"))
		die("staging tmpfs: %s", strerror(errno));
	if (mkdir(STAGE NEWROOT, 0755) || mkdir(STAGE OLDROOT, 0755))
		die("staging directories: %s", strerror(errno));
	fd = open(STAGE "/empty", O_WRONLY | O_CREAT | O_CLOEXEC, 0);
	if (fd < 0)
		die("mask file: %s", strerror(errno));
	close(fd);
	if (chdir(STAGE) || syscall(SYS_pivot_root, STAGE, STAGE OLDROOT))
		die("pivot_root to the staging tmpfs: %s", strerror(errno));
	/* From here the real root is /oldroot and the stage is /. */
	if (mount(OLDROOT, NEWROOT, NULL, MS_BIND | MS_REC, NULL))
		die("bind the root: %s", strerror(errno));
	if (mount_setattr(AT_FDCWD, NEWROOT, AT_RECURSIVE, &ro, sizeof(ro)))
		die("make the view read-only: %s", strerror(errno));
	aw_stage("v-root");
	build_dev(plan->input);
	aw_stage("v-dev");
	masks_prepare();
	aw_stage("v-masks");

	ops = calloc(plan->n_ops ? plan->n_ops : 1, sizeof(*ops));
	if (!ops)
		die("out of memory");
	for (size_t i = 0; i < plan->n_ops; i++)
		ops[i] = &plan->ops[i];
	qsort(ops, plan->n_ops, sizeof(*ops), op_cmp);
	for (size_t i = 0; i < plan->n_ops; i++)
		apply_op(plan, ops[i]);
	free(ops);
	aw_stage("v-ops");
	/* /dev is made: nothing more is created in it. */
	if (mount_setattr(AT_FDCWD, NEWROOT "/dev", 0, &dev_ro, sizeof(dev_ro)))
		die("/dev read-only: %s", strerror(errno));

	/* A proc of the session's own pid namespace: other processes'
	 * /proc/PID are not there to read. */
	if (mount("proc", NEWROOT "/proc", "proc",
		  MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		die("mount proc: %s", strerror(errno));
	/* The kernel's settings are the host's: read-only. Its uid 0 is the
	 * host's for a root user, and the owner's check on /proc/sys needs
	 * no capability (kernel.core_pattern runs a program as host root). */
	for (size_t i = 0; i < AW_ARRAY_SIZE(proc_ro); i++) {
		char p[64];

		snprintf(p, sizeof(p), NEWROOT "/proc/%s", proc_ro[i]);
		if (mount(p, p, NULL, MS_BIND | MS_REC, NULL)) {
			if (errno == ENOENT)
				continue; /* not in this kernel */
			die("bind %s: %s", p, strerror(errno));
		}
		if (mount_setattr(AT_FDCWD, p, AT_RECURSIVE, &ro, sizeof(ro)))
			die("%s read-only: %s", p, strerror(errno));
	}
	aw_stage("v-proc");

	if (chdir(NEWROOT) || syscall(SYS_pivot_root, ".", ".") ||
	    umount2(".", MNT_DETACH) || chdir("/"))
		die("enter the session's root: %s", strerror(errno));
}

/* ---- narrowing (in init, after the view is built) ---------------------- */

static const char *const dev_paths[] = {"/dev", "/proc"};

static void narrow(const struct aw_plan *plan, int notify_sock)
{
	const char **write = calloc(plan->n_ops + 1, sizeof(*write));
	struct aw_landlock_plan ll = {
	    .dev_paths = dev_paths,
	    .n_dev = AW_ARRAY_SIZE(dev_paths),
	    .scope_signals = 1,
	    /* X11 clients connect to the server's abstract socket first
	     * and give up on any error but "not there": a display grant
	     * lifts the scope (Landlock cannot scope by name), so the
	     * session reaches the abstract sockets of its network
	     * namespace. */
	    .scope_abstract_unix = !plan->display,
	    .log_new_exec = 1,
	};
	char notes[512] = "", why[256] = "";
	int nfd = -1, r;

	if (!write)
		die("out of memory");
	for (size_t i = 0; i < plan->n_ops; i++) {
		enum aw_fs_verb v = plan->ops[i].verb;

		if (v == AW_FS_COW || v == AW_FS_TMPFS || v == AW_FS_WRITE)
			write[ll.n_write++] = plan->ops[i].path;
	}
	ll.write_paths = write;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		die("no_new_privs: %s", strerror(errno));
	/* Landlock: writes only inside the grants even if a mount were
	 * undone; no signals or abstract sockets beyond the session. A
	 * kernel without it is said, not silently accepted: the mounts and
	 * seccomp still hold, and the session start event carries the note. */
	r = aw_landlock_apply(&ll, notes, sizeof(notes));
	aw_stage("landlock");
	free(write);
	if (r < 0 && r != -EOPNOTSUPP)
		die("Landlock: %s (%s)", strerror(-r), notes);
	{
		int notify = 1 | (plan->refusals ? AW_SECCOMP_WATCH : 0);

		/* The daemon's program when it is the one this session
		 * needs; else made here. */
		if (plan->filter && plan->filter_mask == plan->allow_syscalls &&
		    plan->filter_notify == notify)
			r = aw_seccomp_install_program(plan->filter,
						       plan->n_filter, notify,
						       &nfd, why, sizeof(why));
		else
			r = aw_seccomp_install(plan->allow_syscalls, notify,
					       &nfd, why, sizeof(why));
	}
	if (r < 0)
		die("seccomp: %s (%s)", strerror(-r), why);
	/* The listener goes to the launcher, outside the sandbox. */
	{
		char cbuf[CMSG_SPACE(sizeof(int))] = {};
		char byte = 'n';
		struct iovec iov = {.iov_base = &byte, .iov_len = 1};
		struct msghdr m = {.msg_iov = &iov,
				   .msg_iovlen = 1,
				   .msg_control = cbuf,
				   .msg_controllen = sizeof(cbuf)};
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);

		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &nfd, sizeof(int));
		if (sendmsg(notify_sock, &m, 0) != 1)
			die("hand over the seccomp listener: %s",
			    strerror(errno));
		close(nfd);
	}
}

/* Async-signal-safe (runs in the vfork child): no stdio. */
static int drop_caps(void)
{
	struct __user_cap_header_struct h = {.version =
						 _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {};

	for (int c = 0; c <= CAP_LAST_CAP; c++)
		prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

/* ---- inherited descriptors ---------------------------------------------- */

/*
 * A session starts with stdio (and the descriptors `run --keep-fd`
 * names) only. Masks are mounts: a descriptor opened before them sees the
 * real tree (a directory fd reaches ~/.ssh by openat), and a socket
 * connected before the session never passes the egress hooks. So every
 * other descriptor is closed in init, and each kept one is checked like
 * a fresh open, in the host's view before the sandbox is built: a
 * directory, a file inside a masked tree, a socket to a masked path or
 * an IP or raw socket is replaced by /dev/null (and said in the notes).
 */
struct kept_fd {
	int fd;
	int replace; /* with /dev/null */
};

static struct kept_fd kept[3 + AW_LAUNCH_KEEP_FDS_MAX];
static size_t n_kept;

static int masked_path(const struct aw_plan *plan, const char *path)
{
	for (size_t i = 0; i < plan->n_ops; i++) {
		const char *m = plan->ops[i].path;
		size_t n = strlen(m);

		if (plan->ops[i].verb == AW_FS_DENY && !strncmp(path, m, n) &&
		    (path[n] == 0 || path[n] == '/'))
			return 1;
	}
	return 0;
}

/* Why fd may not enter the session, or NULL. */
static const char *fd_refused(const struct aw_plan *plan, int fd)
{
	char link[64], path[PATH_MAX];
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) < 0)
		return NULL; /* not open: nothing to keep */
	if (S_ISDIR(st.st_mode))
		return "a directory";
	if (S_ISSOCK(st.st_mode)) {
		struct sockaddr_un sa = {};
		socklen_t sl = sizeof(sa), dl = sizeof(int);
		int dom = 0;

		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &dl) < 0)
			return "a socket";
		if (dom != AF_UNIX)
			return "a network socket";
		if (getpeername(fd, (struct sockaddr *)&sa, &sl) == 0 &&
		    sl > offsetof(struct sockaddr_un, sun_path) &&
		    sa.sun_path[0] == '/' && masked_path(plan, sa.sun_path))
			return "connected to a masked socket";
		return NULL;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n > 0 && path[0] == '/') {
		path[n] = 0;
		if (masked_path(plan, path))
			return "a file inside a masked tree";
	}
	if (S_ISBLK(st.st_mode))
		return "a block device";
	return NULL;
}

static void fds_check(const struct aw_launch *l, char *notes, size_t len)
{
	n_kept = 0;
	for (size_t i = 0; i < 3 + l->n_keep_fds && i < AW_ARRAY_SIZE(kept);
	     i++) {
		int fd = i < 3 ? (int)i : l->keep_fds[i - 3];
		const char *why = fd_refused(l->plan, fd);
		size_t n = strlen(notes);

		kept[n_kept].fd = fd;
		kept[n_kept].replace = why != NULL;
		n_kept++;
		if (why)
			snprintf(notes + n, len - n,
				 "%sdescriptor %d is %s: "
				 "replaced by /dev/null",
				 n ? "; " : "", fd, why);
	}
}

static int is_kept(int fd, const int *also, size_t n_also)
{
	for (size_t i = 0; i < n_kept; i++)
		if (kept[i].fd == fd)
			return 1;
	for (size_t i = 0; i < n_also; i++)
		if (also[i] == fd)
			return 1;
	return 0;
}

/* In init: close what is not kept (the launcher's own pipes are in also),
 * replace what was refused. */
static void fds_seal(const int *also, size_t n_also)
{
	int null_fd = -1;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int dfd;

	if (!d)
		die("/proc/self/fd: %s", strerror(errno));
	dfd = dirfd(d);
	while ((de = readdir(d))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (*end || de->d_name[0] == '.' || fd == dfd)
			continue;
		if (!is_kept((int)fd, also, n_also))
			close((int)fd);
	}
	closedir(d);
	for (size_t i = 0; i < n_kept; i++) {
		if (!kept[i].replace)
			continue;
		if (null_fd < 0 &&
		    (null_fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
			die("/dev/null: %s", strerror(errno));
		if (dup2(null_fd, kept[i].fd) < 0)
			die("replace descriptor %d: %s", kept[i].fd,
			    strerror(errno));
	}
	if (null_fd >= 0)
		close(null_fd);
}

/* ---- init: pid 1 of the session ---------------------------------------- */

/*
 * The daemon hid the loader's variables from a forced agent's launcher
 * (src/daemon/force.c, hide_loader_env: the high bit of the name's first
 * byte); the command gets them back, inside the session. Only names the
 * daemon hides are restored (aw_loader_var).
 */
static void loader_env_restore(void)
{
	for (char **e = environ; e && *e; e++)
		if (((unsigned char)(*e)[0] & 0x80) && aw_loader_var(*e))
			(*e)[0] = (char)((*e)[0] & 0x7f);
}

static volatile sig_atomic_t child_pid;

/* Signals someone sent us (kill(2): si_code <= 0) go on to the command;
 * a terminal's signals reached the whole process group already. */
static void init_forward(int sig, siginfo_t *si, void *uc)
{
	if (child_pid > 0 && si->si_code <= 0)
		kill(child_pid, sig);
}

static const int fwd_signals[] = {SIGTERM, SIGINT,  SIGHUP,   SIGQUIT,
				  SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM};

static void handle_forwarding(void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction sa = {.sa_sigaction = fn,
			       .sa_flags = SA_SIGINFO | SA_RESTART};

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < AW_ARRAY_SIZE(fwd_signals); i++)
		sigaction(fwd_signals[i], &sa, NULL);
}

static void reset_signals(void)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigset_t none;

	for (size_t i = 0; i < AW_ARRAY_SIZE(fwd_signals); i++)
		sigaction(fwd_signals[i], &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void __attribute__((noreturn))
init_main(const struct aw_launch *l, int sync_fd, int notify_sock,
	  int status_fd)
{
	char go;
	int st = 0;
	pid_t cmd;

	/* The launcher is not dumpable, nor are we (born of it): our
	 * /proc files would be root's and the launcher could not write our
	 * id maps. Dumpable until it has; then not again (no process of
	 * this user attaches to the session's init). */
	if (prctl(PR_SET_DUMPABLE, 1) < 0 || write(notify_sock, "r", 1) != 1)
		_exit(AW_LAUNCH_EXIT_FAIL);
	/* Wait for the launcher to write our id maps. */
	if (read(sync_fd, &go, 1) != 1 || go != 'g')
		_exit(AW_LAUNCH_EXIT_FAIL);
	close(sync_fd);
	prctl(PR_SET_DUMPABLE, 0);
	{
		/* Before the view: the host's /proc lists them. */
		const int also[] = {notify_sock, status_fd, l->exe_fd};

		fds_seal(also, AW_ARRAY_SIZE(also));
	}
	aw_stage("init");
	view_masks = l->masks;
	masks_sock = notify_sock;
	build_view(l->plan);
	masks_settle();
	if (chdir(l->cwd) < 0 && chdir("/") < 0)
		die("chdir: %s", strerror(errno));
	aw_stage("view");
	narrow(l->plan, notify_sock);
	aw_stage("narrow");
	close(notify_sock);
	handle_forwarding(init_forward);

	/* vfork: the command starts on this CPU at once (on these VMs
	 * waking another vCPU for a forked child costs milliseconds), and
	 * nothing is copied. Until it execs, the child only makes syscalls
	 * and writes to its own stack: no stdio, no allocation. */
	/* The display is the policy's to grant (computer-use.display): a
	 * session without it is not told where one is. (Its sockets are
	 * masked by the filesystem rules, the abstract X11 socket is out of
	 * the Landlock scope.) */
	if (l->forced)
		loader_env_restore();
	if (!l->plan->display) {
		unsetenv("DISPLAY");
		unsetenv("WAYLAND_DISPLAY");
		unsetenv("XAUTHORITY");
	}
	cmd = vfork();
	if (cmd < 0)
		die("fork: %s", strerror(errno));
	if (cmd == 0) {
		static const char msg[] = "agentwall: cannot execute the "
					  "command in the session\n";
		int e;

		reset_signals();
		if (drop_caps() < 0)
			_exit(AW_LAUNCH_EXIT_FAIL);
		execv(l->exe, l->argv);
		if (errno == ENOENT && l->exe_fd >= 0) {
			/* The file is not in the session's view (it lives
			 * under a masked or private tree): run the one the
			 * launcher opened before the view was built. */
			syscall(SYS_execveat, l->exe_fd, "", l->argv, environ,
				AT_EMPTY_PATH);
		}
		e = errno;
		if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		}
		_exit(e == ENOENT ? 127 : 126);
	}
	child_pid = cmd;
	if (l->exe_fd >= 0)
		close(l->exe_fd);
	/* Reap everything (orphans are re-parented to us) until the
	 * command ends; then so does the namespace. */
	for (;;) {
		int s;
		pid_t w = waitpid(-1, &s, 0);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (w == cmd) {
			st = s;
			break;
		}
	}
	/* The raw wait status, for the launcher to reproduce. */
	if (write(status_fd, &st, sizeof(st)) != sizeof(st)) {
	}
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

/* ---- the launcher ------------------------------------------------------- */

static volatile sig_atomic_t init_pid;

static void launcher_forward(int sig, siginfo_t *si, void *uc)
{
	if (init_pid > 0 && si->si_code <= 0)
		kill(init_pid, sig);
}

static int write_maps(pid_t pid)
{
	char p[64], m[64];
	int r;

	snprintf(m, sizeof(m), "%u %u 1\n", (unsigned)getuid(),
		 (unsigned)getuid());
	snprintf(p, sizeof(p), "/proc/%d/uid_map", pid);
	r = aw_write_file(p, m);
	if (r < 0)
		return r;
	/* An unprivileged map of our own gid needs setgroups denied. */
	snprintf(p, sizeof(p), "/proc/%d/setgroups", pid);
	if (getuid() != 0) {
		r = aw_write_file(p, "deny");
		if (r < 0)
			return r;
	}
	snprintf(m, sizeof(m), "%u %u 1\n", (unsigned)getgid(),
		 (unsigned)getgid());
	snprintf(p, sizeof(p), "/proc/%d/gid_map", pid);
	return aw_write_file(p, m);
}

/* One denial to the daemon: its own connection, a line, the reply. */
static void report(const struct aw_launch *l, const char *line)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char buf[256];

	if (fd < 0)
		return;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", l->socket_path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    send(fd, line, strlen(line), MSG_NOSIGNAL) > 0) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		if (poll(&p, 1, 2000) > 0 && read(fd, buf, sizeof(buf)) < 0) {
		}
	}
	close(fd);
}

/* One session-report line: ACTION DECISION RULE (POLICY/rule) and, when
 * given, the acting pid (0: none), the target and a detail. */
static void report_event(const struct aw_launch *l, uint32_t pid,
			 const char *action, const char *decision,
			 const char *rule, const char *target,
			 const char *detail)
{
	struct aw_buf b = {};
	char full[192];

	snprintf(full, sizeof(full), "%s/%s", l->plan->policy, rule);
	aw_buf_printf(&b, "session-report session=%s", l->plan->session);
	if (pid)
		aw_buf_printf(&b, " pid=%u", pid);
	aw_buf_printf(&b, " action=%s decision=%s rule=", action, decision);
	aw_pct_encode(&b, full, strlen(full));
	if (target) {
		aw_buf_puts(&b, " target=");
		aw_pct_encode(&b, target, strlen(target));
	}
	if (detail && detail[0]) {
		aw_buf_puts(&b, " detail=");
		aw_pct_encode(&b, detail, strnlen(detail, 480));
	}
	aw_buf_puts(&b, "\n");
	aw_buf_add(&b, "", 1);
	if (!b.oom)
		report(l, b.data);
	aw_buf_free(&b);
}

static void report_denial(const struct aw_launch *l,
			  const struct aw_seccomp_denial *dn, uint64_t *window,
			  unsigned *in_window, unsigned long *suppressed)
{
	char rule[64], target[96], d[96] = "";
	uint64_t now = aw_now_boottime_ns() / 1000000000ull;

	/* A session hammering a denied syscall must not flood the store:
	 * past the rate, denials are counted and the count reported. */
	if (now != *window) {
		*window = now;
		*in_window = 0;
	}
	if (++*in_window > REPORTS_PER_SEC) {
		++*suppressed;
		return;
	}
	snprintf(rule, sizeof(rule), "seccomp.%s",
		 dn->abi && dn->abi[0] ? "abi"
		 : dn->group >= 0      ? aw_seccomp_group_name(dn->group)
				       : "other");
	if (dn->abi && dn->abi[0])
		snprintf(target, sizeof(target), "%s (%s)", dn->syscall,
			 dn->abi);
	else
		snprintf(target, sizeof(target), "%s", dn->syscall);
	if (*suppressed)
		snprintf(d, sizeof(d),
			 "%lu earlier denials not reported "
			 "one by one (rate limit)",
			 *suppressed);
	*suppressed = 0;
	report_event(l, dn->pid, "syscall", "deny", rule, target, d);
}

/* A watched call (sandbox/refusals.c), already gone on: recorded if the
 * sandbox refuses it, under the same rate as the denials. */
static void report_refusal(const struct aw_launch *l,
			   const struct aw_seccomp_denial *dn, uint64_t *window,
			   unsigned *in_window, unsigned long *suppressed)
{
	struct aw_refusal o;
	uint64_t now;

	if (!aw_refusal_judge(l->plan, dn->pid, dn->nr, dn->args, &dn->capture,
			      &o))
		return;
	now = aw_now_boottime_ns() / 1000000000ull;
	if (now != *window) {
		*window = now;
		*in_window = 0;
	}
	if (++*in_window > REPORTS_PER_SEC) {
		++*suppressed;
		return;
	}
	if (*suppressed) {
		size_t n = strlen(o.detail);

		snprintf(o.detail + n, sizeof(o.detail) - n,
			 "; %lu earlier denials not reported one by one "
			 "(rate limit)",
			 *suppressed);
	}
	*suppressed = 0;
	report_event(l, dn->pid, o.action, "deny", o.rule, o.target, o.detail);
}

/*
 * What this session does not get, said once as a `notice` event: grants
 * skipped (their path does not exist), and what the kernel's Landlock
 * lacks. (The sandbox is still built: mounts and seccomp do not depend
 * on Landlock; silence about the difference would be the failure.)
 */
static void report_notes(const struct aw_launch *l, const char *more)
{
	char notes[sizeof(l->plan->notes) + 1024];
	int abi = aw_landlock_abi();

	snprintf(notes, sizeof(notes), "%s%s%s", l->plan->notes,
		 l->plan->notes[0] && more[0] ? "; " : "", more);
	if (abi < 6) {
		size_t n = strlen(notes);

		snprintf(notes + n, sizeof(notes) - n, "%sLandlock %s%s",
			 n ? "; " : "",
			 abi <= 0
			     ? "unavailable: writes outside the grants are "
			       "refused by the read-only view alone"
			     : "ABI below 6: no signal or abstract-socket "
			       "scoping",
			 "");
	}
	if (!notes[0])
		return;
	report_event(l, 0, "notice", "allow", "sandbox", NULL, notes);
}

/*
 * Telling the person at the terminal (policy `process.notify`, on by
 * default; both lines on stderr): a forced agent's first line says it
 * runs in a session, and a session that ends with changes kept in its
 * store says how many and the exact commands to review them. Without it
 * an agent says "wrote README.md", exits 0, and the file is not there.
 */
static void tell_start(const struct aw_launch *l)
{
	const struct aw_plan *p = l->plan;

	if (!p->notify || !l->forced)
		return;
	fprintf(stderr,
		"agentwall: %s runs in session %s (policy %s); its changes "
		"stay in the session until you review them\n",
		p->product[0] ? p->product
		: p->agent[0] ? p->agent
			      : "agent",
		p->session, p->policy);
}

/*
 * Held changes are records: each change the session leaves under an
 * escalated path (or a dot-path of the home) is reported when the
 * session ends, before anyone reviews it (action `hold`, decision
 * `escalate`), at most HOLD_REPORTS_MAX one by one and the rest counted.
 */
#define HOLD_REPORTS_MAX 100

static void report_hold(const struct aw_launch *l, const struct aw_review *r,
			const struct aw_change *c, size_t more)
{
	char d[96] = "";

	if (more)
		snprintf(d, sizeof(d),
			 "and %zu more held changes not reported one by one",
			 more);
	report_event(l, 0, "hold", "escalate",
		     aw_manifest_listed(&r->manifest, c->real) ? "escalate"
							       : "home.dotpath",
		     c->real, d);
}

static void tell_end(const struct aw_launch *l)
{
	const struct aw_plan *p = l->plan;
	struct aw_review r = {};
	size_t held = 0, files = 0, state = 0, reported = 0;
	char cmd[PATH_MAX + 64] = "agentwall", hold[64] = "", own[96] = "";
	int cow = 0;

	for (size_t i = 0; i < p->n_ops; i++)
		cow |= p->ops[i].verb == AW_FS_COW;
	if (!cow || aw_review_scan(&r, p->dir) < 0)
		return;
	for (size_t i = 0; i < r.n_changes; i++) {
		const struct aw_change *c = &r.changes[i];

		if (S_ISDIR(c->upper_mode) && S_ISDIR(c->real_mode))
			continue; /* a directory only holding changes */
		/* The agent's own bookkeeping (its history, logs, caches:
		 * the policy's `state`): taken with the rest, but not what
		 * the person asked the agent to do, so counted apart. */
		if (aw_manifest_is_state(&r.manifest, c->real)) {
			state++;
			continue;
		}
		files++;
		held += c->escalated != 0;
	}
	for (size_t i = 0; i < r.n_changes && reported < held; i++) {
		const struct aw_change *c = &r.changes[i];

		if (!c->escalated ||
		    (S_ISDIR(c->upper_mode) && S_ISDIR(c->real_mode)))
			continue;
		if (++reported == HOLD_REPORTS_MAX) {
			report_hold(l, &r, c, held - reported);
			break;
		}
		report_hold(l, &r, c, 0);
	}
	aw_review_free(&r);
	if (!(files + state) || !p->notify)
		return;
	if (l->state_dir && l->state_dir[0])
		snprintf(cmd, sizeof(cmd), "agentwall --state-dir %s",
			 l->state_dir);
	if (held)
		snprintf(hold, sizeof(hold), " (%zu held for approval)", held);
	if (state)
		snprintf(own, sizeof(own), "%s%zu of the agent's own state",
			 files ? ", and " : " but ", state);
	fprintf(stderr,
		"agentwall: session %s kept %zu change%s out of your tree%s%s: "
		"review them with `%s diff %s`, take them with `%s commit "
		"%s`, or drop them with `%s discard %s`\n",
		p->session, files, files == 1 ? "" : "s", hold, own, cmd,
		p->session, cmd, p->session, cmd, p->session);
}

int aw_launch_run(const struct aw_launch *l)
{
	int sync[2], nsock[2], stat_pipe[2];
	int nfd = -1, st = -1, have_status = 0;
	uint64_t window = 0;
	unsigned in_window = 0;
	unsigned long suppressed = 0;
	pid_t pid;
	char fd_notes[768] = "", ready = 0;

	fds_check(l, fd_notes, sizeof(fd_notes));
	tell_start(l);
	aw_stage("launch");
	if (pipe2(sync, O_CLOEXEC) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, nsock) ||
	    pipe2(stat_pipe, O_CLOEXEC)) {
		fprintf(stderr, "agentwall: sandbox: %s\n", strerror(errno));
		return AW_LAUNCH_EXIT_FAIL;
	}
	/* Block the forwarded signals until the handlers know the pid. */
	{
		sigset_t set, old;

		sigemptyset(&set);
		for (size_t i = 0; i < AW_ARRAY_SIZE(fwd_signals); i++)
			sigaddset(&set, fwd_signals[i]);
		sigprocmask(SIG_BLOCK, &set, &old);
		pid =
		    (pid_t)syscall(SYS_clone,
				   CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID |
				       CLONE_NEWCGROUP | CLONE_NEWIPC | SIGCHLD,
				   NULL, NULL, NULL, NULL);
		if (pid == 0) {
			sigprocmask(SIG_SETMASK, &old, NULL);
			close(sync[1]);
			close(nsock[0]);
			close(stat_pipe[0]);
			init_main(l, sync[0], nsock[1], stat_pipe[1]);
		}
		if (pid > 0) {
			init_pid = pid;
			handle_forwarding(launcher_forward);
		}
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	if (pid < 0) {
		fprintf(stderr, "agentwall: sandbox: new namespaces: %s%s\n",
			strerror(errno),
			errno == EPERM || errno == ENOSPC
			    ? " (unprivileged user namespaces disabled? see "
			      "user.max_user_namespaces)"
			    : "");
		return AW_LAUNCH_EXIT_FAIL;
	}
	close(sync[0]);
	close(nsock[1]);
	close(stat_pipe[1]);
	if (read(nsock[0], &ready, 1) != 1 || ready != 'r' ||
	    write_maps(pid) < 0 || write(sync[1], "g", 1) != 1) {
		fprintf(stderr, "agentwall: sandbox: user namespace maps: %s\n",
			strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return AW_LAUNCH_EXIT_FAIL;
	}
	close(sync[1]);
	aw_stage("maps");
	/* The notes' record costs a round trip to the daemon: made while
	 * init builds the view, not before it starts. */
	report_notes(l, fd_notes);

	masks_relay(l, nsock[0]);
	/* Supervise: seccomp notifications until init is gone. */
	nfd = recv_fd(nsock[0]);
	close(nsock[0]);
	for (;;) {
		struct pollfd p[2] = {{.fd = stat_pipe[0], .events = POLLIN},
				      {.fd = nfd, .events = POLLIN}};
		int n = nfd >= 0 ? 2 : 1;

		if (poll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (n == 2 && p[1].revents & POLLIN) {
			struct aw_seccomp_denial dn = {.capture.root_fd = -1};
			int r = aw_seccomp_answer(nfd, &dn);

			if (dn.watched)
				report_refusal(l, &dn, &window, &in_window,
					       &suppressed);
			else if (r == 0 || r == -ENOENT)
				report_denial(l, &dn, &window, &in_window,
					      &suppressed);
			aw_refusal_release(&dn.capture);
			continue;
		}
		if (n == 2 && p[1].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			/* No task uses the filter any more. */
			close(nfd);
			nfd = -1;
		}
		if (p[0].revents) {
			have_status =
			    read(stat_pipe[0], &st, sizeof(st)) == sizeof(st);
			break;
		}
	}
	if (nfd >= 0)
		close(nfd);
	close(stat_pipe[0]);
	/* With the command's status in hand there is no need to wait for
	 * init: tearing the namespaces down (unmounting the view, ending
	 * what the session left running) takes milliseconds and is the
	 * kernel's business. Without it (init was killed), wait. */
	if (!have_status) {
		int s = 0;

		while (waitpid(pid, &s, 0) < 0 && errno == EINTR) {
		}
		st = s;
	} else {
		waitpid(pid, NULL, WNOHANG);
	}
	aw_stage("status");
	tell_end(l);
	aw_stage("end");
	/* Exit as the command did: a signal death is reproduced. */
	if (WIFSIGNALED(st)) {
		struct sigaction dfl = {.sa_handler = SIG_DFL};
		sigset_t one;

		fflush(stdout);
		sigaction(WTERMSIG(st), &dfl, NULL);
		sigemptyset(&one);
		sigaddset(&one, WTERMSIG(st));
		sigprocmask(SIG_UNBLOCK, &one, NULL);
		prctl(PR_SET_DUMPABLE, 0); /* no core of ours */
		kill(getpid(), WTERMSIG(st));
		return 128 + WTERMSIG(st);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : AW_LAUNCH_EXIT_FAIL;
}
