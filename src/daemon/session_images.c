/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Session stores: where a session's copy-on-write changes are kept, after
 * the agent has exited, across daemon restarts and reboots, until a human
 * commits or discards them. (Over 900 lines, one job: the images' whole
 * life, made ahead, mounted, listed, reviewed per peer, removed.)
 *
 *   <state dir>/sessions/<id>/   root 0711
 *       meta                     root 0600: owner, policy, command, state,
 *                                approval (the daemon's; never the user's)
 *       image                    root 0600: a sparse ext4 image whose size
 *                                is the session's quota
 *       fs/                      the image, mounted nosuid,nodev while the
 *                                daemon runs; its root is the user's (0700)
 *                                and holds upper/N, work/N and manifest
 *                                (written by the launcher: which real tree
 *                                each upper/N covers, what is escalated)
 *
 * A file system of its own per session gives the quota its natural
 * failure (ENOSPC at the agent's write), keeps hard links from the rest of
 * the machine out of the store (a link cannot cross file systems), and
 * makes discarding a session unlinking one file: nothing walks a tree the
 * user controls with root's rights.
 *
 * The daemon is the authority for the state and for approval; the changes
 * themselves are read and applied by `agentwall diff|commit` with the
 * session owner's credentials (src/review/), which report back here so
 * that each commit, discard and approval is an event in the store.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <linux/loop.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "review/review.h"
#include "shared/json.h"
#include "shared/util.h"

/* A diff the daemon renders itself (for the group) stays small enough
 * not to hold its loop for long. */
#define AW_RENDER_CHANGES_MAX 5000

static const char *const state_names[] = {
    [AW_KEPT_RUNNING] = "running",
    [AW_KEPT_EXITED] = "exited",
    [AW_KEPT_COMMITTED] = "committed",
    [AW_KEPT_DISCARDED] = "discarded",
};

const char *aw_kept_state_name(enum aw_kept_state s)
{
	return s < AW_ARRAY_SIZE(state_names) ? state_names[s] : "?";
}

/* <state dir>/sessions */
static void sessions_base(struct aw_daemon *d, char *ret, size_t len)
{
	char base[PATH_MAX];

	snprintf(base, sizeof(base), "%s", d->opts.store_path);
	if (strrchr(base, '/'))
		*strrchr(base, '/') = 0;
	snprintf(ret, len, "%s/sessions", base);
}

static void kept_path(struct aw_daemon *d, uint64_t session, const char *leaf,
		      char *ret, size_t len)
{
	char base[PATH_MAX];

	sessions_base(d, base, sizeof(base));
	snprintf(ret, len, "%s/%016llx%s%s", base, (unsigned long long)session,
		 leaf ? "/" : "", leaf ? leaf : "");
}

struct aw_kept *aw_stores_find(struct aw_daemon *d, uint64_t session)
{
	for (size_t i = 0; i < d->n_kept; i++)
		if (d->kept[i].session == session)
			return &d->kept[i];
	return NULL;
}

/* ---- meta --------------------------------------------------------------- */

static int meta_write_sync(struct aw_daemon *d, const struct aw_kept *k,
			   int sync);

static int meta_write(struct aw_daemon *d, const struct aw_kept *k)
{
	return meta_write_sync(d, k, 1);
}

/* sync 0 for a new session's first record: a crash before it is on disk
 * loses an empty store. */
static int meta_write_sync(struct aw_daemon *d, const struct aw_kept *k,
			   int sync)
{
	char p[PATH_MAX], tmp[PATH_MAX + 8];
	struct aw_buf b = {};
	int fd, r = 0;

	aw_buf_printf(&b, "v=1 session=%016llx uid=%u gid=%u state=%s policy=",
		      (unsigned long long)k->session, k->uid, k->gid,
		      aw_kept_state_name(k->state));
	aw_pct_encode(&b, k->policy, strlen(k->policy));
	aw_buf_puts(&b, " agent=");
	aw_pct_encode(&b, k->agent, strlen(k->agent));
	aw_buf_puts(&b, " workspace=");
	aw_pct_encode(&b, k->workspace, strlen(k->workspace));
	aw_buf_puts(&b, " command=");
	aw_pct_encode(&b, k->command, strlen(k->command));
	aw_buf_printf(&b,
		      " started=%llu ended=%llu approved-by=%u "
		      "approved-at=%llu\n",
		      (unsigned long long)k->started_ns,
		      (unsigned long long)k->ended_ns, k->approved_by,
		      (unsigned long long)k->approved_ns);
	if (b.oom) {
		aw_buf_free(&b);
		return -ENOMEM;
	}
	kept_path(d, k->session, "meta", p, sizeof(p));
	snprintf(tmp, sizeof(tmp), "%s.tmp", p);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0 || write(fd, b.data, b.len) != (ssize_t)b.len ||
	    (sync && fsync(fd) < 0) || rename(tmp, p) < 0)
		r = -errno;
	if (fd >= 0)
		close(fd);
	if (r < 0)
		fprintf(stderr, "agentwalld: session %016llx: meta: %s\n",
			(unsigned long long)k->session, strerror(-r));
	aw_buf_free(&b);
	return r;
}

static int meta_read(const char *path, struct aw_kept *k)
{
	char line[16384], v[PATH_MAX];
	uint64_t n;
	ssize_t len;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -errno;
	len = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (len <= 0)
		return -EINVAL;
	line[len] = 0;
	if (strchr(line, '\n'))
		*strchr(line, '\n') = 0;
	memset(k, 0, sizeof(*k));
#define NUM(key, dst)                                                          \
	if (aw_kv_get(line, key, v, sizeof(v)) < 0 || aw_parse_u64(v, &n) < 0) \
		return -EINVAL;                                                \
	dst = n
	if (aw_kv_get(line, "session", v, sizeof(v)) < 0)
		return -EINVAL;
	k->session = strtoull(v, NULL, 16);
	NUM("uid", k->uid);
	NUM("gid", k->gid);
	NUM("started", k->started_ns);
	NUM("ended", k->ended_ns);
	NUM("approved-by", k->approved_by);
	NUM("approved-at", k->approved_ns);
#undef NUM
	if (aw_kv_get(line, "state", v, sizeof(v)) < 0)
		return -EINVAL;
	k->state = AW_KEPT_DISCARDED + 1;
	for (size_t i = 0; i < AW_ARRAY_SIZE(state_names); i++)
		if (!strcmp(v, state_names[i]))
			k->state = i;
	if (k->state > AW_KEPT_DISCARDED)
		return -EINVAL;
	if (aw_kv_get(line, "policy", k->policy, sizeof(k->policy)) < 0 ||
	    aw_kv_get(line, "agent", k->agent, sizeof(k->agent)) < 0 ||
	    aw_kv_get(line, "workspace", k->workspace, sizeof(k->workspace)) <
		0 ||
	    aw_kv_get(line, "command", k->command, sizeof(k->command)) < 0)
		return -EINVAL;
	return 0;
}

/* ---- the image ---------------------------------------------------------- */

static int is_mounted(const char *fs);
static int mount_image(const char *image, const char *fs, int fresh, char *err,
		       size_t errlen);

/* e2fsprogs' mkfs.ext4, found once (not through the daemon's PATH). */
static const char *mkfs_path(void)
{
	static const char *const where[] = {"/usr/sbin/mkfs.ext4",
					    "/sbin/mkfs.ext4"};
	static const char *found;

	for (size_t i = 0; !found && i < AW_ARRAY_SIZE(where); i++)
		if (access(where[i], X_OK) == 0)
			found = where[i];
	return found ? found : where[0];
}

static pid_t spawn_mkfs(const char *image, uid_t uid, gid_t gid, int *err)
{
	char ext[128];
	/* No blocks reserved for growing the file system online (it never
	 * is): they were 2 MB of the template's 2.2 MB written, copied
	 * into every session's image. */
	char *argv[] = {"mkfs.ext4", "-q", "-F",
			"-m",	     "0",  "-L",
			"agentwall", "-O", "^resize_inode",
			"-E",	     ext,  (char *)image,
			NULL};
	char *envp[] = {"PATH=/usr/sbin:/sbin:/usr/bin:/bin", "LC_ALL=C", NULL};
	posix_spawn_file_actions_t fa;
	pid_t pid;

	snprintf(ext, sizeof(ext),
		 "root_owner=%u:%u,lazy_itable_init=1,lazy_journal_init=1,"
		 "nodiscard",
		 (unsigned)uid, (unsigned)gid);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	*err = posix_spawn(&pid, mkfs_path(), &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	return *err ? -1 : pid;
}

/*
 * The next session's store is made ahead, off the event loop (mkfs,
 * attaching and mounting are most of a store's cost): a thread copies the
 * formatted template to <sessions>/.spare/image and mounts it on
 * <sessions>/.spare/fs; a new session takes the whole directory with one
 * rename to <sessions>/<id> (the mount goes with its directory: no mount
 * call on the session's start), chowns its root to the user, and the
 * thread makes the next one.
 */
static struct {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int started, stop, want, ready;
	uint64_t quota;
	char base[PATH_MAX], dir[PATH_MAX + 16], img[PATH_MAX + 32],
	    tmp[PATH_MAX + 32], fs[PATH_MAX + 32], tmpl[PATH_MAX + 32],
	    meta[PATH_MAX + 32];
} spare = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* A copy of the formatted template: only its few allocated blocks are
 * copied (the rest are holes), a millisecond where mkfs takes tens. */
static int image_copy(const char *tmpl, const char *dst, uint64_t size)
{
	int in = open(tmpl, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), out, r = 0;
	struct stat st;
	off_t data = 0;

	if (in < 0)
		return -errno;
	if (fstat(in, &st) < 0 || (uint64_t)st.st_size != size) {
		close(in);
		return -ESTALE; /* made for another quota */
	}
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		r = -errno;
		close(in);
		return r;
	}
	if (ftruncate(out, (off_t)size) < 0)
		r = -errno;
	while (r == 0 && (data = lseek(in, data, SEEK_DATA)) >= 0) {
		off_t hole = lseek(in, data, SEEK_HOLE), pos = data;

		if (hole < 0) {
			r = -errno;
			break;
		}
		while (pos < hole) {
			off_t o = pos;
			ssize_t n = copy_file_range(in, &pos, out, &o,
						    (size_t)(hole - pos), 0);

			if (n <= 0) {
				r = n < 0 ? -errno : -EIO;
				break;
			}
		}
		data = hole;
	}
	if (r == 0 && data < 0 && errno != ENXIO)
		r = -errno;
	close(in);
	close(out);
	if (r < 0)
		unlink(dst);
	return r;
}

/* The formatted template every store starts as (root's; a session's
 * store root is chowned to its user once mounted). */
static int template_make(void)
{
	struct stat st;
	int fd, e, status;
	pid_t pid;
	char tmp[PATH_MAX + 48];

	if (stat(spare.tmpl, &st) == 0 && (uint64_t)st.st_size == spare.quota)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", spare.tmpl);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)spare.quota) < 0) {
		e = -errno;
		close(fd);
		unlink(tmp);
		return e;
	}
	close(fd);
	pid = spawn_mkfs(tmp, 0, 0, &e);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) || rename(tmp, spare.tmpl) < 0) {
		unlink(tmp);
		return -EIO;
	}
	return 0;
}

/* The state dir and its sessions/ (base), traversable (0711) so a user's
 * launcher and CLI reach their own session's fs/. */
static int base_traversable(const char *base)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s", base);
	if (strrchr(p, '/'))
		*strrchr(p, '/') = 0;
	chmod(p, 0711);
	if ((mkdir(base, 0711) < 0 && errno != EEXIST) || chmod(base, 0711))
		return -errno;
	return 0;
}

static int spare_make(void)
{
	char err[256];

	if (base_traversable(spare.base) < 0)
		return -errno;
	if (template_make() < 0)
		return -EIO;
	if ((mkdir(spare.dir, 0711) < 0 && errno != EEXIST) ||
	    chmod(spare.dir, 0711) < 0)
		return -errno;
	unlink(spare.tmp);
	unlink(spare.img);
	if (image_copy(spare.tmpl, spare.tmp, spare.quota) < 0 ||
	    rename(spare.tmp, spare.img) < 0) {
		unlink(spare.tmp);
		return -EIO;
	}
	if ((mkdir(spare.fs, 0700) < 0 && errno != EEXIST) ||
	    mount_image(spare.img, spare.fs, 1, err, sizeof(err)) < 0) {
		unlink(spare.img);
		return -EIO;
	}
	{
		/* The session's first record is written over this file:
		 * making a file on the state directory's file system takes
		 * 0.2-0.9 ms (an ext4 without a journal looks past the
		 * inodes freed lately), here and not in the session's start. */
		int fd =
		    open(spare.meta,
			 O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd >= 0)
			close(fd);
	}
	{
		/* The first directory made on a new ext4 reads its block
		 * allocator's bitmaps through the loop device: done here,
		 * not in the session's start (its overlays' directories). */
		char warm[PATH_MAX + 48];

		snprintf(warm, sizeof(warm), "%s/.warm", spare.fs);
		if (mkdir(warm, 0700) == 0)
			rmdir(warm);
	}
	return 0;
}

static void *spare_main(void *arg)
{
	(void)arg;
	/* Woken by a session's start: not ahead of the reply to it. */
	aw_thread_background();
	pthread_mutex_lock(&spare.mu);
	for (;;) {
		while (!spare.stop && (!spare.want || spare.ready))
			pthread_cond_wait(&spare.cv, &spare.mu);
		if (spare.stop)
			break;
		pthread_mutex_unlock(&spare.mu);
		{
			int ok = spare_make() == 0;

			pthread_mutex_lock(&spare.mu);
			spare.ready = ok;
			spare.want = 0; /* a failure waits for the next ask */
		}
	}
	pthread_mutex_unlock(&spare.mu);
	return NULL;
}

static void spare_start(struct aw_daemon *d)
{
	sessions_base(d, spare.base, sizeof(spare.base));
	snprintf(spare.dir, sizeof(spare.dir), "%s/.spare", spare.base);
	snprintf(spare.img, sizeof(spare.img), "%s/image", spare.dir);
	snprintf(spare.tmp, sizeof(spare.tmp), "%s/image.tmp", spare.dir);
	/* (meta_write_sync's temporary name) */
	snprintf(spare.meta, sizeof(spare.meta), "%s/meta.tmp", spare.dir);
	snprintf(spare.fs, sizeof(spare.fs), "%s/fs", spare.dir);
	snprintf(spare.tmpl, sizeof(spare.tmpl), "%s/.template-image",
		 spare.base);
	spare.quota = d->opts.session_quota;
	/* What an earlier run left is remade: its quota may differ. */
	while (is_mounted(spare.fs) && umount2(spare.fs, MNT_DETACH) == 0)
		;
	spare.stop = spare.ready = 0;
	spare.want = 1;
	spare.started = pthread_create(&spare.th, NULL, spare_main, NULL) == 0;
}

static void spare_stop(void)
{
	if (!spare.started)
		return;
	pthread_mutex_lock(&spare.mu);
	spare.stop = 1;
	pthread_cond_signal(&spare.cv);
	pthread_mutex_unlock(&spare.mu);
	pthread_join(spare.th, NULL);
	spare.started = 0;
	while (is_mounted(spare.fs) && umount2(spare.fs, MNT_DETACH) == 0)
		;
	unlink(spare.img);
	unlink(spare.tmp);
	unlink(spare.meta);
	rmdir(spare.fs);
	rmdir(spare.dir);
}

/* The spare directory renamed to dir (a session's, not there yet), its
 * store mounted on dir/fs, if one is ready (0); the thread starts on the
 * next. */
static int spare_take(const char *dir)
{
	int r = -ENOENT;

	if (!spare.started)
		return r;
	pthread_mutex_lock(&spare.mu);
	if (spare.ready && renameat2(AT_FDCWD, spare.dir, AT_FDCWD, dir,
				     RENAME_NOREPLACE) == 0)
		r = 0;
	spare.ready = 0;
	spare.want = 1;
	pthread_cond_signal(&spare.cv);
	pthread_mutex_unlock(&spare.mu);
	return r;
}

static int run_mkfs(const char *image, uid_t uid, gid_t gid, char *err,
		    size_t errlen)
{
	int e, status;
	pid_t pid = spawn_mkfs(image, uid, gid, &e);

	if (pid < 0) {
		snprintf(err, errlen, "mkfs.ext4: %s (e2fsprogs)", strerror(e));
		return -e;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(err, errlen, "mkfs.ext4 %s failed (status %d)", image,
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -EIO;
	}
	return 0;
}

/* The loop device the image is already attached to (a daemon that was
 * killed left it mounted, or a running session's overlay still holds
 * it): mounting that device again reuses its file system; attaching the
 * image a second time would put two file systems on one image. */
static int loop_find(const char *image, char *dev, size_t len)
{
	DIR *dir = opendir("/sys/block");
	struct dirent *de;
	int found = -ENOENT;

	if (!dir)
		return -errno;
	while ((de = readdir(dir)) && found < 0) {
		char p[PATH_MAX], back[PATH_MAX];
		ssize_t n;
		int fd;

		if (strncmp(de->d_name, "loop", 4))
			continue;
		snprintf(p, sizeof(p), "/sys/block/%s/loop/backing_file",
			 de->d_name);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, back, sizeof(back) - 1);
		close(fd);
		if (n <= 0)
			continue;
		back[n] = 0;
		if (back[n - 1] == '\n')
			back[n - 1] = 0;
		if (!strcmp(back, image)) {
			snprintf(dev, len, "/dev/%s", de->d_name);
			found = 0;
		}
	}
	closedir(dir);
	return found;
}

static int is_mounted(const char *fs)
{
	char parent[PATH_MAX + 4];
	struct stat a, b;

	snprintf(parent, sizeof(parent), "%s/..", fs);
	return stat(fs, &a) == 0 && stat(parent, &b) == 0 &&
	       a.st_dev != b.st_dev;
}

/* image on fs through a loop device (the one it is attached to already,
 * if any: not looked for when the image is fresh, made here a moment
 * ago, since the look reads a sysfs file per loop device there is). */
static int mount_image(const char *image, const char *fs, int fresh, char *err,
		       size_t errlen)
{
	char real[PATH_MAX], dev[64];
	int loopfd = -1, imgfd = -1, r = 0;

	if (is_mounted(fs))
		return 0;
	if (!realpath(image, real)) {
		snprintf(err, errlen, "session store %s: %s", image,
			 strerror(errno));
		return -errno;
	}
	if (!fresh && loop_find(real, dev, sizeof(dev)) == 0) {
		loopfd = open(dev, O_RDWR | O_CLOEXEC);
	} else {
		int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);

		imgfd = open(real, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		for (int tries = 0; ctl >= 0 && imgfd >= 0 && tries < 8;
		     tries++) {
			struct loop_config lc = {.fd = (uint32_t)imgfd};
			long n = ioctl(ctl, LOOP_CTL_GET_FREE);

			if (n < 0)
				break;
			snprintf(dev, sizeof(dev), "/dev/loop%ld", n);
			loopfd = open(dev, O_RDWR | O_CLOEXEC);
			if (loopfd < 0)
				continue;
			/* Detached by the kernel once unmounted. */
			lc.info.lo_flags = LO_FLAGS_AUTOCLEAR;
			snprintf((char *)lc.info.lo_file_name,
				 sizeof(lc.info.lo_file_name), "agentwall");
			if (ioctl(loopfd, LOOP_CONFIGURE, &lc) == 0)
				break;
			close(loopfd); /* raced for it: take another */
			loopfd = -1;
		}
		if (ctl >= 0)
			close(ctl);
	}
	if (loopfd < 0) {
		r = -(errno ? errno : ENODEV);
		snprintf(err, errlen, "no loop device for %s: %s", image,
			 strerror(-r));
	} else if (mount(dev, fs, "ext4", MS_NOSUID | MS_NODEV | MS_NOATIME,
			 /* no background zeroing of inode tables (the
			  * uninitialized groups are flagged, so nothing
			  * needs it) */
			 "noinit_itable") < 0) {
		r = -errno;
		snprintf(err, errlen, "mount %s on %s: %s", dev, fs,
			 strerror(-r));
	}
	if (loopfd >= 0)
		close(loopfd);
	if (imgfd >= 0)
		close(imgfd);
	return r;
}

/* fresh: its image was made a moment ago (see mount_image). */
static int store_mount_as(struct aw_daemon *d, uint64_t session, int fresh,
			  char *err, size_t errlen)
{
	char image[PATH_MAX], fs[PATH_MAX];

	kept_path(d, session, "image", image, sizeof(image));
	kept_path(d, session, "fs", fs, sizeof(fs));
	return mount_image(image, fs, fresh, err, errlen);
}

static int store_mount(struct aw_daemon *d, uint64_t session, char *err,
		       size_t errlen)
{
	return store_mount_as(d, session, 0, err, errlen);
}

static void store_unmount(struct aw_daemon *d, uint64_t session)
{
	char fs[PATH_MAX];

	kept_path(d, session, "fs", fs, sizeof(fs));
	/* Lazily: a running session's overlay keeps the file system (and
	 * its loop device) alive until it ends. */
	while (is_mounted(fs) && umount2(fs, MNT_DETACH) == 0)
		;
}

/* Everything of a session's store goes; the meta stays if keep_meta. */
static void store_remove(struct aw_daemon *d, uint64_t session, int keep_meta)
{
	char p[PATH_MAX];

	store_unmount(d, session);
	kept_path(d, session, "image", p, sizeof(p));
	unlink(p);
	kept_path(d, session, "fs", p, sizeof(p));
	rmdir(p);
	if (keep_meta)
		return;
	kept_path(d, session, "meta", p, sizeof(p));
	unlink(p);
	kept_path(d, session, NULL, p, sizeof(p));
	rmdir(p);
}

static void kept_drop(struct aw_daemon *d, struct aw_kept *k)
{
	size_t i = k - d->kept;

	memmove(&d->kept[i], &d->kept[i + 1], (d->n_kept - i - 1) * sizeof(*k));
	d->n_kept--;
}

/* Does the store hold a change to review? The review's scan answers
 * (aw_review_any: the same definition as diff, commit and `sessions`), so
 * what the launcher itself put into the upper layers -- the whiteouts of
 * the masks made ahead and the directories on their way -- never keeps a
 * session. Read with the owner's file system rights, as for render: the
 * manifest is the owner's. A store that cannot be mounted or read is
 * kept (nothing unreviewed is thrown away on an error). */
static int store_has_changes(struct aw_daemon *d, struct aw_kept *k)
{
	char fs[PATH_MAX], err[1024];
	int r;

	if (k->changes_seen)
		return 1;
	if (store_mount(d, k->session, err, sizeof(err)) < 0) {
		fprintf(stderr, "agentwalld: session %016llx: %s\n",
			(unsigned long long)k->session, err);
		return 1;
	}
	kept_path(d, k->session, "fs", fs, sizeof(fs));
	setfsgid(k->gid);
	setfsuid(k->uid);
	r = aw_review_any(fs, err, sizeof(err));
	setfsuid(0);
	setfsgid(0);
	if (r < 0)
		fprintf(stderr, "agentwalld: session %016llx: %s\n",
			(unsigned long long)k->session, err);
	if (r)
		k->changes_seen = 1;
	return r != 0;
}

/* ---- lifecycle ---------------------------------------------------------- */

static int kept_cmp(const void *a, const void *b)
{
	const struct aw_kept *x = a, *y = b;

	return x->started_ns < y->started_ns   ? -1
	       : x->started_ns > y->started_ns ? 1
					       : 0;
}

/* At start: the sessions kept by earlier runs (and boots). A session
 * recorded as running whose cgroup is gone ended while no daemon
 * watched. */
void aw_stores_load(struct aw_daemon *d)
{
	char base[PATH_MAX];
	DIR *dir;
	struct dirent *de;

	sessions_base(d, base, sizeof(base));
	dir = opendir(base);
	if (!dir) {
		/* None kept yet (a fresh state directory): the first
		 * session's store is still made ahead. */
		spare_start(d);
		return;
	}
	while ((de = readdir(dir))) {
		char p[PATH_MAX + 300], err[512];
		struct aw_kept k, *n;

		if (strlen(de->d_name) != 16)
			continue;
		snprintf(p, sizeof(p), "%s/%s/meta", base, de->d_name);
		if (meta_read(p, &k) < 0)
			continue; /* not a kept session (or an older layout) */
		n = realloc(d->kept, (d->n_kept + 1) * sizeof(*n));
		if (!n)
			break;
		d->kept = n;
		if (k.state == AW_KEPT_RUNNING &&
		    !aw_sandbox_alive(d, k.session)) {
			k.state = AW_KEPT_EXITED;
			k.ended_ns = aw_now_realtime_ns();
			meta_write(d, &k);
		}
		d->kept[d->n_kept++] = k;
		if (k.state != AW_KEPT_DISCARDED &&
		    store_mount(d, k.session, err, sizeof(err)) < 0)
			fprintf(stderr, "agentwalld: session %016llx: %s\n",
				(unsigned long long)k.session, err);
	}
	closedir(dir);
	/* Oldest first, as they were made. */
	if (d->n_kept)
		qsort(d->kept, d->n_kept, sizeof(*d->kept), kept_cmp);
	spare_start(d);
}

void aw_stores_close(struct aw_daemon *d)
{
	spare_stop();
	for (size_t i = 0; i < d->n_kept; i++)
		store_unmount(d, d->kept[i].session);
	free(d->kept);
	d->kept = NULL;
	d->n_kept = 0;
}

/* Sessions with nothing to review go first when the cap is reached. */
static size_t gc_empty(struct aw_daemon *d, uid_t only_uid, int any_uid,
		       struct aw_buf *out)
{
	size_t removed = 0;

	for (size_t i = 0; i < d->n_kept;) {
		struct aw_kept *k = &d->kept[i];

		if ((any_uid || k->uid == only_uid) &&
		    k->state != AW_KEPT_RUNNING &&
		    (k->state == AW_KEPT_COMMITTED ||
		     k->state == AW_KEPT_DISCARDED ||
		     !store_has_changes(d, k))) {
			if (out)
				aw_buf_printf(out, "removed %016llx %s\n",
					      (unsigned long long)k->session,
					      aw_kept_state_name(k->state));
			store_remove(d, k->session, 0);
			kept_drop(d, k);
			removed++;
			continue;
		}
		i++;
	}
	return removed;
}

int aw_stores_walk_cache(struct aw_daemon *d, uid_t uid, gid_t gid, char *ret,
			 size_t len)
{
	char base[PATH_MAX], p[PATH_MAX];
	struct stat st;

	sessions_base(d, base, sizeof(base));
	if (strrchr(base, '/'))
		*strrchr(base, '/') = 0;
	/* walk/ is root's and traversable: nobody else makes anything in
	 * it, so the user's directory cannot be a link put there. */
	snprintf(p, sizeof(p), "%s/walk", base);
	if ((mkdir(p, 0711) < 0 && errno != EEXIST) || lstat(p, &st) < 0 ||
	    !S_ISDIR(st.st_mode) || st.st_uid != 0 || chmod(p, 0711) < 0)
		return -EPERM;
	if ((size_t)snprintf(ret, len, "%s/%u", p, (unsigned)uid) >= len)
		return -ENAMETOOLONG;
	if (mkdir(ret, 0700) == 0 && lchown(ret, uid, gid) < 0) {
		int e = -errno;

		rmdir(ret);
		return e;
	}
	if (lstat(ret, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != uid)
		return -EPERM;
	return 0;
}

int aw_stores_create(struct aw_daemon *d, uint64_t session, uid_t uid,
		     gid_t gid, const char *policy, const char *agent,
		     const char *workspace, const char *command, char *fs,
		     size_t fslen, char *err, size_t errlen)
{
	char base[PATH_MAX], p[PATH_MAX];
	struct aw_kept k = {}, *n;
	size_t kept = 0;
	int fd, r = 0;

	for (size_t i = 0; i < d->n_kept; i++)
		kept += d->kept[i].state != AW_KEPT_DISCARDED;
	if (d->opts.sessions_max && kept >= d->opts.sessions_max) {
		gc_empty(d, 0, 1, NULL);
		kept = 0;
		for (size_t i = 0; i < d->n_kept; i++)
			kept += d->kept[i].state != AW_KEPT_DISCARDED;
	}
	if (d->opts.sessions_max && kept >= d->opts.sessions_max) {
		snprintf(err, errlen,
			 "%zu sessions are kept with changes nobody has "
			 "reviewed (the cap is %u): commit or discard some "
			 "(agentwall sessions; agentwall gc --older-than)",
			 kept, d->opts.sessions_max);
		return -ENOSPC;
	}
	n = realloc(d->kept, (d->n_kept + 1) * sizeof(*n));
	if (!n) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	d->kept = n;

	kept_path(d, session, NULL, p, sizeof(p));
	kept_path(d, session, "fs", fs, fslen);
	/* The spare's thread made the state dir and sessions/ traversable
	 * (0711) so the user's launcher and CLI reach their own session's
	 * fs/; without a spare that is done here. */
	if (spare_take(p) == 0) {
		/* The spare's mount came with its directory. */
		if (chown(fs, uid, gid) < 0 || chmod(fs, 0700) < 0) {
			r = -errno;
			snprintf(err, errlen, "session store %s: %s", fs,
				 strerror(-r));
			store_remove(d, session, 0);
			return r;
		}
		goto made;
	}
	sessions_base(d, base, sizeof(base));
	if (base_traversable(base) < 0) {
		r = -errno;
		snprintf(err, errlen, "mkdir %s: %s", base, strerror(-r));
		return r;
	}
	if (mkdir(p, 0711) < 0 || chmod(p, 0711) < 0) {
		r = -errno;
		snprintf(err, errlen, "mkdir %s: %s", p, strerror(-r));
		return r;
	}
	kept_path(d, session, "image", p, sizeof(p));
	/* With no spare ready (sessions opened in a burst) a copy of the
	 * formatted template; the store's root becomes the user's once
	 * mounted. */
	if (mkdir(fs, 0700) == 0 && spare.started &&
	    image_copy(spare.tmpl, p, d->opts.session_quota) == 0) {
		if ((r = store_mount_as(d, session, 1, err, errlen)) < 0 ||
		    (r = chown(fs, uid, gid) < 0 ? -errno : 0) < 0 ||
		    (r = chmod(fs, 0700) < 0 ? -errno : 0) < 0) {
			if (!err[0])
				snprintf(err, errlen, "session store %s: %s",
					 fs, strerror(-r));
			store_remove(d, session, 0);
			return r;
		}
		goto made;
	}
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)d->opts.session_quota) < 0) {
		r = -errno;
		snprintf(err, errlen, "session image %s: %s", p, strerror(-r));
		if (fd >= 0)
			close(fd);
		store_remove(d, session, 0);
		return r;
	}
	close(fd);
	if ((mkdir(fs, 0700) < 0 && errno != EEXIST) ||
	    (r = run_mkfs(p, uid, gid, err, errlen)) < 0 ||
	    (r = store_mount_as(d, session, 1, err, errlen)) < 0 ||
	    (r = chmod(fs, 0700) < 0 ? -errno : 0) < 0) {
		if (!err[0]) {
			r = -errno;
			snprintf(err, errlen, "mkdir %s: %s", fs, strerror(-r));
		}
		store_remove(d, session, 0);
		return r < 0 ? r : -EIO;
	}
made:
	k.session = session;
	k.uid = uid;
	k.gid = gid;
	k.state = AW_KEPT_RUNNING;
	snprintf(k.policy, sizeof(k.policy), "%s", policy);
	snprintf(k.agent, sizeof(k.agent), "%s", agent);
	snprintf(k.workspace, sizeof(k.workspace), "%s", workspace);
	snprintf(k.command, sizeof(k.command), "%s", command);
	k.started_ns = aw_now_realtime_ns();
	r = meta_write_sync(d, &k, 0);
	if (r < 0) {
		snprintf(err, errlen, "session meta: %s", strerror(-r));
		store_remove(d, session, 0);
		return r;
	}
	d->kept[d->n_kept++] = k;
	return 0;
}

/* A session-open that failed after its store was made. */
void aw_stores_abort(struct aw_daemon *d, uint64_t session, int resumed)
{
	struct aw_kept *k = aw_stores_find(d, session);

	if (!k)
		return;
	if (resumed) {
		k->state = AW_KEPT_EXITED;
		meta_write(d, k);
		return;
	}
	store_remove(d, session, 0);
	kept_drop(d, k);
}

int aw_stores_resume(struct aw_daemon *d, uint64_t session, uid_t uid, char *fs,
		     size_t fslen, char *err, size_t errlen)
{
	struct aw_kept *k = aw_stores_find(d, session);
	int r;

	if (!k || k->uid != uid) {
		snprintf(err, errlen, "no session %016llx of yours is kept",
			 (unsigned long long)session);
		return -ENOENT;
	}
	if (k->state == AW_KEPT_RUNNING || k->state == AW_KEPT_DISCARDED) {
		snprintf(err, errlen, "session %016llx is %s",
			 (unsigned long long)session,
			 aw_kept_state_name(k->state));
		return -EBUSY;
	}
	r = store_mount(d, session, err, errlen);
	if (r < 0)
		return r;
	/* What was approved was the change as it stood: more may come. */
	k->state = AW_KEPT_RUNNING;
	k->changes_seen = 0;
	k->approved_by = 0;
	k->approved_ns = 0;
	k->ended_ns = 0;
	meta_write(d, k);
	kept_path(d, session, "fs", fs, fslen);
	return 0;
}

/* A store that filled up: the agent's write failed with ENOSPC; this
 * says so, once per filling (looked at every tick while the session runs,
 * and when it ends). */
static void quota_check(struct aw_daemon *d, struct aw_kept *k)
{
	char fs[PATH_MAX];
	struct statvfs sv;
	uint64_t avail;
	int full;

	kept_path(d, k->session, "fs", fs, sizeof(fs));
	if (statvfs(fs, &sv) < 0)
		return;
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	full = avail < (1u << 20) || (sv.f_files && sv.f_favail == 0);
	if (full && !k->quota_full) {
		struct aw_buf x = {};

		aw_buf_printf(
		    &x, "\"quota\":%llu,\"free\":%llu,\"inodes_free\":%llu",
		    (unsigned long long)d->opts.session_quota,
		    (unsigned long long)avail, (unsigned long long)sv.f_favail);
		aw_events_emit_decision(d, "quota", k->session, 0, fs,
					"session/quota", "deny",
					x.oom ? NULL : x.data);
		aw_buf_free(&x);
	}
	if (full)
		k->quota_full = 1;
	else if (avail > (2u << 20))
		k->quota_full = 0;
}

void aw_stores_session_end(struct aw_daemon *d, uint64_t session)
{
	struct aw_kept *k = aw_stores_find(d, session);

	if (!k || k->state != AW_KEPT_RUNNING)
		return;
	quota_check(d, k);
	k->state = AW_KEPT_EXITED;
	k->ended_ns = aw_now_realtime_ns();
	/* Not synced: a sync here (milliseconds on a VM's disk) held the
	 * event loop, and so the next session's start, in every burst.
	 * After a crash the record may say "running" still, which the next
	 * start turns into "exited" (aw_stores_load): only the end time is
	 * lost. */
	meta_write_sync(d, k, 0);
}

void aw_stores_tick(struct aw_daemon *d)
{
	for (size_t i = 0; i < d->n_kept; i++)
		if (d->kept[i].state == AW_KEPT_RUNNING)
			quota_check(d, &d->kept[i]);
}

/* ---- requests ----------------------------------------------------------- */

static void kept_line(struct aw_daemon *d, const struct aw_kept *k,
		      struct aw_buf *out)
{
	char fs[PATH_MAX];
	struct statvfs sv;
	unsigned long long used = 0;

	kept_path(d, k->session, "fs", fs, sizeof(fs));
	if (k->state != AW_KEPT_DISCARDED && is_mounted(fs) &&
	    statvfs(fs, &sv) == 0)
		used = (unsigned long long)(sv.f_blocks - sv.f_bfree) *
		       sv.f_frsize;
	aw_buf_printf(out,
		      "session id=%016llx uid=%u state=%s started=%llu "
		      "ended=%llu approved-by=%u approved-at=%llu used=%llu "
		      "quota=%llu policy=",
		      (unsigned long long)k->session, k->uid,
		      aw_kept_state_name(k->state),
		      (unsigned long long)k->started_ns,
		      (unsigned long long)k->ended_ns, k->approved_by,
		      (unsigned long long)k->approved_ns, used,
		      (unsigned long long)d->opts.session_quota);
	aw_pct_encode(out, k->policy, strlen(k->policy));
	aw_buf_puts(out, " agent=");
	aw_pct_encode(out, k->agent, strlen(k->agent));
	aw_buf_puts(out, " dir=");
	aw_pct_encode(out, fs, strlen(fs));
	aw_buf_puts(out, " workspace=");
	aw_pct_encode(out, k->workspace, strlen(k->workspace));
	aw_buf_puts(out, " command=");
	aw_pct_encode(out, k->command, strlen(k->command));
	aw_buf_puts(out, "\n");
}

/* A session whose launcher just exited may not have had its last exit
 * record read yet: look at the kernel's queue, then at its cgroup. */
static void settle(struct aw_daemon *d, struct aw_kept *k)
{
	if (k->state != AW_KEPT_RUNNING)
		return;
	aw_kernel_poll(d->kernel);
	if (k->state == AW_KEPT_RUNNING && !aw_sandbox_alive(d, k->session))
		aw_stores_session_end(d, k->session);
}

void aw_stores_list(struct aw_daemon *d, int fd, int privileged,
		    struct aw_buf *out)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
		aw_buf_printf(out, "error: peer credentials: %s\n",
			      strerror(errno));
		return;
	}
	for (size_t i = 0; i < d->n_kept; i++) {
		struct aw_kept *k = &d->kept[i];

		if (!privileged && k->uid != cred.uid)
			continue;
		settle(d, k);
		kept_line(d, k, out);
	}
	aw_buf_puts(out, "end\n");
}

static void review_event(struct aw_daemon *d, const char *action,
			 const struct aw_kept *k, uint32_t pid, uid_t by,
			 const char *args)
{
	static const char *const keys[] = {"files",	"bytes",   "conflicts",
					   "held",	"skipped", "remaining",
					   "older-than"};
	struct aw_buf x = {};
	char v[4096], rule[64];

	aw_buf_printf(&x, "\"by_uid\":%u", (unsigned)by);
	for (size_t i = 0; args && i < AW_ARRAY_SIZE(keys); i++) {
		uint64_t n;

		if (aw_kv_get(args, keys[i], v, sizeof(v)) == 0 &&
		    aw_parse_u64(v, &n) == 0) {
			aw_buf_puts(&x, ",");
			aw_json_key(&x, keys[i]);
			aw_buf_printf(&x, "%llu", (unsigned long long)n);
		}
	}
	/* The paths the command named, as it named them (bounded). */
	if (args && aw_kv_get(args, "paths", v, sizeof(v)) == 0 && v[0]) {
		aw_buf_puts(&x, ",");
		aw_json_key(&x, "paths");
		aw_json_cstr(&x, v);
	}
	snprintf(rule, sizeof(rule), "review/%s", action);
	aw_events_emit_decision(d, action, k->session, pid,
				k->workspace[0] ? k->workspace : NULL, rule,
				"allow", x.oom ? NULL : x.data);
	aw_buf_free(&x);
}

/*
 * session-review op=OP session=ID [...]
 *   diff           where the store is (owner, root, the group)
 *   commit         where the store is and whether escalated changes were
 *                  approved (owner, root); the session must have ended
 *   commit-done    what a commit did: files= bytes= conflicts= held=
 *                  skipped= remaining= paths= (the event)
 *   discard        the whole store goes (owner, root)
 *   discard-done   part of it went: remaining= paths=
 *   approve        escalated changes may be committed (root, the group)
 *   gc             sessions with nothing to review go; older-than=SECONDS
 *                  also those ended before then (owner's, or all for root)
 */
void aw_stores_review(struct aw_daemon *d, int fd, int privileged,
		      const char *args, struct aw_buf *out)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	char op[32], v[64], fs[PATH_MAX], err[512] = "";
	struct aw_kept *k = NULL;
	int owner_or_root, r;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
		aw_buf_printf(out, "error: peer credentials: %s\n",
			      strerror(errno));
		return;
	}
	if (aw_kv_get(args, "op", op, sizeof(op)) < 0) {
		aw_buf_puts(out, "error: session-review needs op=\n");
		return;
	}
	if (!strcmp(op, "gc")) {
		uint64_t older = 0, now = aw_now_realtime_ns();
		size_t removed;

		if (aw_kv_get(args, "older-than", v, sizeof(v)) == 0 &&
		    aw_parse_u64(v, &older) < 0) {
			aw_buf_puts(out, "error: older-than must be seconds\n");
			return;
		}
		removed = gc_empty(d, cred.uid, cred.uid == 0, out);
		for (size_t i = 0; older && i < d->n_kept;) {
			k = &d->kept[i];
			if ((cred.uid == 0 || k->uid == cred.uid) &&
			    k->state == AW_KEPT_EXITED &&
			    k->ended_ns + older * 1000000000ull < now) {
				review_event(d, "discard", k, cred.pid,
					     cred.uid, args);
				aw_buf_printf(out, "removed %016llx exited\n",
					      (unsigned long long)k->session);
				store_remove(d, k->session, 0);
				kept_drop(d, k);
				removed++;
				continue;
			}
			i++;
		}
		aw_buf_printf(out, "ok removed=%zu\n", removed);
		return;
	}
	if (aw_kv_get(args, "session", v, sizeof(v)) < 0 || strlen(v) != 16 ||
	    !(k = aw_stores_find(d, strtoull(v, NULL, 16))) ||
	    (!privileged && k->uid != cred.uid)) {
		aw_buf_puts(out, "error: no such session is kept (see "
				 "agentwall sessions)\n");
		return;
	}
	owner_or_root = cred.uid == 0 || cred.uid == k->uid;
	settle(d, k);
	kept_path(d, k->session, "fs", fs, sizeof(fs));
	if (k->state == AW_KEPT_DISCARDED) {
		aw_buf_printf(out, "error: session %016llx was discarded\n",
			      (unsigned long long)k->session);
		return;
	}
	if (strcmp(op, "diff") && strcmp(op, "render") &&
	    k->state == AW_KEPT_RUNNING) {
		aw_buf_printf(out,
			      "error: session %016llx is still running; "
			      "review it once it has ended\n",
			      (unsigned long long)k->session);
		return;
	}
	if (!strcmp(op, "approve")) {
		if (!privileged) {
			aw_buf_puts(out, "error: approval needs root or the "
					 "configured security group\n");
			return;
		}
		k->approved_by = cred.uid;
		k->approved_ns = aw_now_realtime_ns();
		meta_write(d, k);
		review_event(d, "approve", k, cred.pid, cred.uid, NULL);
		aw_buf_puts(out, "ok\n");
		return;
	}
	if (!strcmp(op, "render") && !privileged) {
		aw_buf_puts(out, "error: render is for root and the "
				 "configured group\n");
		return;
	}
	if (strcmp(op, "diff") && strcmp(op, "render") && !owner_or_root) {
		aw_buf_puts(out, "error: only the session's owner or root "
				 "may change what it left\n");
		return;
	}
	if (!strcmp(op, "render")) {
		/* The diff for a reviewer who cannot read the owner's store
		 * (the security group): read here, never written. */
		struct aw_review rv;
		char path[PATH_MAX], *p = path;
		char *paths[1];
		size_t n0 = out->len;

		if (aw_kv_get(args, "path", path, sizeof(path)) < 0)
			p = NULL;
		paths[0] = p;
		/* With the owner's file system rights (this thread only):
		 * the manifest is the owner's, so what it names is read as
		 * the owner could, never as root. */
		setfsgid(k->gid);
		setfsuid(k->uid);
		r = aw_review_scan(&rv, fs);
		if (r < 0) {
			setfsuid(0);
			setfsgid(0);
			aw_buf_printf(out, "error: %s\n", rv.err);
			aw_review_free(&rv);
			return;
		}
		if (rv.n_changes > AW_RENDER_CHANGES_MAX) {
			setfsuid(0);
			setfsgid(0);
			aw_buf_printf(out,
				      "error: %zu changes: too many to render "
				      "here; ask root or the owner\n",
				      rv.n_changes);
			aw_review_free(&rv);
			return;
		}
		aw_buf_puts(out, "ok\n");
		if (p && aw_review_select(&rv, paths, 1)) {
			out->len = n0;
			aw_buf_puts(out, "error: no change at that path\n");
		} else if (aw_kv_get(args, "json", v, sizeof(v)) == 0) {
			aw_review_json(&rv, v, out);
		} else {
			aw_review_diff(&rv, out);
		}
		setfsuid(0);
		setfsgid(0);
		aw_review_free(&rv);
		return;
	}
	if (!strcmp(op, "diff") || !strcmp(op, "commit")) {
		r = store_mount(d, k->session, err, sizeof(err));
		if (r < 0) {
			aw_buf_printf(out, "error: %s\n", err);
			return;
		}
		aw_buf_printf(
		    out, "ok uid=%u gid=%u state=%s approved=%d dir=", k->uid,
		    k->gid, aw_kept_state_name(k->state), k->approved_ns != 0);
		aw_pct_encode(out, fs, strlen(fs));
		aw_buf_puts(out, "\n");
		return;
	}
	if (!strcmp(op, "commit-done") || !strcmp(op, "discard-done")) {
		uint64_t remaining = 1;
		int commit = !strcmp(op, "commit-done");

		if (aw_kv_get(args, "remaining", v, sizeof(v)) < 0 ||
		    aw_parse_u64(v, &remaining) < 0) {
			aw_buf_puts(out, "error: remaining= missing\n");
			return;
		}
		review_event(d, commit ? "commit" : "discard", k, cred.pid,
			     cred.uid, args);
		if (!remaining && !commit)
			store_remove(d, k->session, 1); /* nothing left */
		if (!remaining)
			k->state =
			    commit ? AW_KEPT_COMMITTED : AW_KEPT_DISCARDED;
		meta_write(d, k);
		aw_buf_puts(out, "ok\n");
		return;
	}
	if (!strcmp(op, "discard")) {
		review_event(d, "discard", k, cred.pid, cred.uid, args);
		store_remove(d, k->session, 1);
		k->state = AW_KEPT_DISCARDED;
		meta_write(d, k);
		aw_buf_puts(out, "ok\n");
		return;
	}
	aw_buf_puts(out, "error: op must be diff, commit, commit-done, "
			 "discard, discard-done, approve or gc\n");
}

/* Where sessions' cgroups live (sessions.c makes them), and whether a
 * session still has a process in one. */
/* Where this daemon's session cgroups live: under the scope (cgroup v2),
 * or in the v1 pids tree under a name derived from the scope. */
void aw_session_cgroup_parents(struct aw_daemon *d, char *v2, size_t v2len,
			       char *v1, size_t v1len)
{
	const char *tag = "host";

	if (d->opts.scope_kind == AW_SCOPE_CGROUP) {
		const char *b = strrchr(d->opts.scope_path, '/');

		tag = b && b[1] ? b + 1 : "scope";
		snprintf(v2, v2len, "%s/agentwall-sessions",
			 d->opts.scope_path);
	} else {
		snprintf(v2, v2len, "%s/agentwall-sessions",
			 d->probe.cgroup2_path);
	}
	snprintf(v1, v1len, CG_PIDS_V1 "/agentwall-%s", tag);
}

int aw_sandbox_alive(struct aw_daemon *d, uint64_t session)
{
	char parents[2][PATH_MAX];

	aw_session_cgroup_parents(d, parents[0], sizeof(parents[0]), parents[1],
				  sizeof(parents[1]));
	for (int i = 0; i < 2; i++) {
		char p[PATH_MAX + 64], c;
		int fd;
		ssize_t n;

		snprintf(p, sizeof(p), "%s/s-%016llx/cgroup.procs", parents[i],
			 (unsigned long long)session);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, &c, 1);
		close(fd);
		if (n == 1)
			return 1;
	}
	return 0;
}
