// SPDX-License-Identifier: GPL-2.0-only
/*
 * Masks that are seen.
 *
 * A `deny` mask is a mount over the masked path. A mode-000 tmpfs refuses
 * `cat ~/.ssh/id_rsa` during path lookup (EACCES), before any file is
 * opened: nothing reaches a hook, nothing is recorded. So each mask is an
 * empty placeholder instead, in one read-only tmpfs of the session's own:
 *
 *  - a masked directory becomes a directory (0555) holding, for each
 *    real entry under it (bounded, shallowest first: scan_tree), an empty
 *    placeholder of the same name: a directory (0555) or an empty file
 *    (0444, 0555 if the real one is executable). Symlinks, sockets and
 *    devices become empty files: a placeholder never leads anywhere;
 *  - a masked file (or socket) becomes one empty file of its own.
 *
 * `open(~/.ssh/id_rsa)` in the session then reaches an inode of that
 * tmpfs. The daemon, handed the tmpfs by the launcher (SCM_RIGHTS on the
 * control socket, "session-masks"), puts its permission marks on every
 * placeholder (src/daemon/secrets.c): the open is refused (EPERM) and
 * recorded with the real path and the mask's rule (`by` `mask`), as is
 * opening a masked directory to list it.
 *
 * If the daemon does not take them (an older daemon, no fanotify), init
 * makes every mask's placeholder mode 000 (aw_masks_seal): they refuse
 * as the old masks did. If it dies later, the placeholders are what
 * they are: empty and read-only. Nothing of a secret is in the session's
 * view; what the session can learn is the names under a masked directory
 * (docs/sandbox.md says so).
 *
 * The names come from a walk in the launcher, in the host's view, before
 * the daemon marks the real inodes (so the walk is not refused, nor
 * recorded); init only creates what the list says and never opens the
 * real tree. agentwall's own state is not walked (its inodes are marked
 * for every session: the walk would be refused): its masks are their
 * roots only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "sandbox/masks.h"
#include "shared/json.h"
#include "shared/util.h"

#define PROC_SUPER_MAGIC 0x9fa0
#define SYSFS_MAGIC 0x62656572
#define BPF_FS_MAGIC 0xcafe4a11
#define FUSE_SUPER_MAGIC 0x65735546
#define NFS_SUPER_MAGIC 0x6969
#define MASKS_REQ_MAX 12000

static int add(struct aw_masks *m, size_t op, const char *rel, int dir,
	       int exec)
{
	if (m->n == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 32;
		struct aw_mask_entry *nv = realloc(m->v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		m->v = nv;
		m->cap = nc;
	}
	m->v[m->n].rel = strdup(rel);
	if (!m->v[m->n].rel)
		return -ENOMEM;
	m->v[m->n].op = op;
	m->v[m->n].dir = dir;
	m->v[m->n].exec = exec;
	m->n++;
	return 0;
}

static int walkable(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0)
		return 0;
	switch ((unsigned long)sf.f_type) {
	case PROC_SUPER_MAGIC:
	case SYSFS_MAGIC:
	case BPF_FS_MAGIC:
	case FUSE_SUPER_MAGIC:
	case NFS_SUPER_MAGIC:
		return 0;
	default:
		return 1;
	}
}

/*
 * The entries under one masked directory (fd, taken), shallowest first:
 * a browser profile under ~/.config holds thousands of files, and a
 * placeholder for each cost a start ~100 ms (this listing, init's tmpfs,
 * the daemon's marks); the names worth a record (~/.ssh/id_rsa,
 * Default/Cookies) are near the top. At most AW_MASKS_PER_TREE_MAX
 * placeholders a tree, on its file system; directories are opened below
 * fd without following any link.
 */
static void scan_tree(struct aw_masks *m, size_t op, int root, dev_t dev,
		      size_t *budget)
{
	size_t first = m->n, taken = 0, next = first;
	const char *rel = "";

	/* The tree's directories are its placeholders with dir set, in
	 * the order added: each is listed in turn (breadth first). */
	for (;;) {
		struct open_how how = {
		    .flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC |
			     O_NOATIME,
		    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			       RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
		};
		struct stat dst;
		struct dirent *de;
		DIR *d = NULL;
		int dfd;

		dfd = rel[0]
			  ? syscall(SYS_openat2, root, rel, &how, sizeof(how))
			  : dup(root);
		if (dfd < 0 && rel[0] && errno == EPERM) {
			how.flags &= ~(uint64_t)O_NOATIME; /* not the owner */
			dfd =
			    syscall(SYS_openat2, root, rel, &how, sizeof(how));
		}
		if (dfd >= 0 && (fstat(dfd, &dst) < 0 || dst.st_dev != dev ||
				 !(d = fdopendir(dfd))))
			close(dfd);
		while (d && (de = readdir(d))) {
			char sub[PATH_MAX];
			struct stat st;

			if (!strcmp(de->d_name, ".") ||
			    !strcmp(de->d_name, ".."))
				continue;
			if (!*budget || taken >= AW_MASKS_PER_TREE_MAX ||
			    m->n >= AW_MASKS_PLACEHOLDERS_MAX) {
				m->over++;
				continue;
			}
			--*budget;
			if ((size_t)snprintf(sub, sizeof(sub), "%s%s%s", rel,
					     rel[0] ? "/" : "",
					     de->d_name) >= sizeof(sub) ||
			    fstatat(dirfd(d), de->d_name, &st,
				    AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			if (add(m, op, sub, S_ISDIR(st.st_mode),
				S_ISREG(st.st_mode) && (st.st_mode & 0111)) <
			    0) {
				m->over++;
				continue;
			}
			taken++;
		}
		if (d)
			closedir(d);
		/* The next directory of this tree not listed yet (none once
		 * the tree's placeholders are all taken: what lies deeper is
		 * not counted). */
		while (next < m->n && !m->v[next].dir)
			next++;
		if (next >= m->n || taken >= AW_MASKS_PER_TREE_MAX ||
		    m->n >= AW_MASKS_PLACEHOLDERS_MAX || !*budget)
			break;
		rel = m->v[next++].rel;
	}
	close(root);
}

int aw_masks_scan(const struct aw_plan *plan, struct aw_masks *m)
{
	size_t budget = AW_MASKS_WALK_MAX;

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < plan->n_ops; i++) {
		const struct aw_plan_op *op = &plan->ops[i];
		size_t rl = strlen(op->rule);
		struct stat st;
		int fd;

		/* /dev and /proc are the session's own: masks there are
		 * moot (launch.c builds them). */
		if (op->verb != AW_FS_DENY || !strncmp(op->path, "/dev/", 5) ||
		    !strncmp(op->path, "/proc/", 6) || lstat(op->path, &st) < 0)
			continue;
		if (add(m, i, "", S_ISDIR(st.st_mode),
			S_ISREG(st.st_mode) && (st.st_mode & 0111)) < 0)
			return -ENOMEM;
		if (!S_ISDIR(st.st_mode) ||
		    (rl >= 14 && !strcmp(op->rule + rl - 14, "agentwall.self")))
			continue;
		fd = open(op->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					O_CLOEXEC | O_NOATIME);
		if (fd < 0)
			fd = open(op->path, O_RDONLY | O_DIRECTORY |
						O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue; /* not ours to read: its root only */
		if (!walkable(fd)) {
			close(fd);
			continue;
		}
		scan_tree(m, i, fd, st.st_dev, &budget);
	}
	return 0;
}

void aw_masks_free(struct aw_masks *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].rel);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* The placeholder of e, relative to the mask tmpfs's root. */
static void entry_name(const struct aw_mask_entry *e, int dir, char *buf,
		       size_t len)
{
	snprintf(buf, len, "%c%zu%s%s", dir ? 'd' : 'f', e->op,
		 e->rel[0] ? "/" : "", e->rel);
}

/* The tmpfs of root made read-only or read-write ("ro", "rw"). */
static int reconfigure(int root, const char *flag)
{
	int fs = fspick(root, "", FSPICK_EMPTY_PATH | FSPICK_CLOEXEC), r = 0;

	if (fs < 0 || fsconfig(fs, FSCONFIG_SET_FLAG, flag, NULL, 0) ||
	    fsconfig(fs, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0))
		r = -errno;
	if (fs >= 0)
		close(fs);
	return r;
}

int aw_masks_build(const struct aw_masks *m, const char *dir, char *err,
		   size_t errlen)
{
	char opts[64];
	int root, fd;

	/* Sized for its inodes only: nothing is ever written there. */
	snprintf(opts, sizeof(opts), "mode=0755,size=64k,nr_inodes=%zu",
		 m->n + 16);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		goto fail;
	if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts))
		goto fail;
	root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		goto fail;
	/* Parents come before their entries (the scan's order). */
	for (size_t i = 0; i < m->n; i++) {
		const struct aw_mask_entry *e = &m->v[i];
		char name[PATH_MAX + 32];

		/* Entries live under their mask's directory, d<op>/. */
		entry_name(e, e->rel[0] ? 1 : e->dir, name, sizeof(name));
		if (e->rel[0] && !e->dir) {
			/* An entry: under its mask's directory. */
			fd = openat(root, name,
				    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
				    0600);
			if (fd < 0)
				continue; /* its parent could not be made */
			close(fd);
		} else if (e->dir) {
			if (mkdirat(root, name, 0755) < 0)
				continue;
		} else {
			fd = openat(root, name,
				    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
				    0600);
			if (fd < 0)
				goto fail_root;
			close(fd);
		}
	}
	/* Modes last (a 0555 directory takes no more entries); umask
	 * does not apply to fchmodat. */
	for (size_t i = m->n; i-- > 0;) {
		const struct aw_mask_entry *e = &m->v[i];
		char name[PATH_MAX + 32];

		entry_name(e, e->rel[0] ? 1 : e->dir, name, sizeof(name));
		fchmodat(root, name, e->dir ? 0555 : e->exec ? 0555 : 0444, 0);
	}
	/* The file system read-only (each bind is read-only as well); its
	 * own mount, soon detached, stays as it is: aw_masks_seal may need
	 * it. */
	if (fchmodat(root, ".", 0555, 0) < 0 || reconfigure(root, "ro") < 0)
		goto fail_root;
	return root;
fail_root:
	close(root);
fail:
	snprintf(err, errlen, "mask placeholders: %s", strerror(errno));
	return -errno;
}

int aw_masks_seal(const struct aw_masks *m, int root)
{
	int r = reconfigure(root, "rw");

	if (r < 0)
		return r;
	for (size_t i = 0; i < m->n; i++) {
		const struct aw_mask_entry *e = &m->v[i];
		char name[32];

		if (e->rel[0])
			continue;
		snprintf(name, sizeof(name), "%c%zu", e->dir ? 'd' : 'f',
			 e->op);
		if (fchmodat(root, name, 0, 0) < 0 && errno != ENOENT)
			r = -errno;
	}
	return reconfigure(root, "ro") < 0 ? -EROFS : r;
}

int aw_masks_mount(const struct aw_masks *m, const char *dir, size_t op,
		   int target_dir, const char *target)
{
	char src[PATH_MAX + 64];

	for (size_t i = 0; i < m->n; i++) {
		const struct aw_mask_entry *e = &m->v[i];

		if (e->op != op || e->rel[0])
			continue;
		if (e->dir != target_dir)
			return 1;
		snprintf(src, sizeof(src), "%s/%c%zu", dir, e->dir ? 'd' : 'f',
			 op);
		/* Read-only, no set-id, no devices; exec stays possible so
		 * that running a masked program reaches the daemon (an empty
		 * file runs nothing). */
		if (mount(src, target, NULL, MS_BIND, NULL) ||
		    mount(NULL, target, NULL,
			  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID |
			      MS_NODEV,
			  NULL))
			return -errno;
		return 0;
	}
	return 1;
}

static int send_request(const char *socket_path, const char *req, int fd,
			char *reply, size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	struct iovec iov = {.iov_base = (void *)req, .iov_len = strlen(req)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	size_t got = 0;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), r = 0;

	if (s < 0)
		return -errno;
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", socket_path);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    sendmsg(s, &msg, MSG_NOSIGNAL) != (ssize_t)iov.iov_len) {
		r = -errno;
		goto out;
	}
	/* The reply, until the daemon closes (bounded wait). */
	for (;;) {
		struct pollfd p = {.fd = s, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 2000) <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		n = read(s, reply + got, len - 1 - got);
		if (n <= 0)
			break;
		got += n;
		if (got >= len - 1)
			break;
	}
out:
	reply[got] = 0;
	close(s);
	return r;
}

int aw_masks_register(const struct aw_plan *plan, const struct aw_masks *m,
		      int fd, const char *socket_path, char *reply, size_t len)
{
	size_t i = 0;
	int r = 0;

	reply[0] = 0;
	while (i < m->n) {
		struct aw_buf req = {};
		unsigned k = 0;

		aw_buf_printf(&req, "session-masks session=%s", plan->session);
		for (; i < m->n && req.len < MASKS_REQ_MAX && k < 512; i++) {
			const struct aw_mask_entry *e = &m->v[i];
			const struct aw_plan_op *op = &plan->ops[e->op];

			if (e->rel[0])
				continue;
			aw_buf_printf(&req, " n%u=%c%zu r%u=", k,
				      e->dir ? 'd' : 'f', e->op, k);
			aw_pct_encode(&req, op->rule, strlen(op->rule));
			aw_buf_printf(&req, " p%u=", k);
			aw_pct_encode(&req, op->path, strlen(op->path));
			k++;
		}
		aw_buf_puts(&req, "\n");
		aw_buf_add(&req, "", 1);
		if (k && !req.oom) {
			size_t used = strlen(reply);

			r = send_request(socket_path, req.data, fd,
					 reply + used, len - used);
		}
		aw_buf_free(&req);
		if (r < 0)
			break;
	}
	return r;
}
