// SPDX-License-Identifier: GPL-2.0-only
/*
 * A secret is an inode: the files of a session's masked (`deny`) trees
 * are refused to the session by identity, whatever name or mount reaches
 * them. (Over 900 lines, one job: the marks' table, the walk that fills
 * it, and the permission thread that answers from it share one lock and
 * one set of limits.)
 *
 * The launcher's masks are mounts: they hide a path. A hard link to
 * ~/.ssh/id_rsa made before the session anywhere the session can read
 * (the home, /var/tmp, another tree on the same file system) still names
 * the key. So the daemon holds one fanotify group (FAN_CLASS_CONTENT) with
 * permission marks (FAN_OPEN_PERM, FAN_OPEN_EXEC_PERM) on the real inodes
 * of every file in those trees, and on their directories with
 * FAN_EVENT_ON_CHILD (a file created in ~/.ssh later is opened through
 * its directory when it is written, and is learned then). Every open of a
 * marked inode, by anyone, waits for this file's thread:
 *
 *  - the opener's membership comes from its task storage (aw_tasks),
 *    looked up through the pidfd the event carries (FAN_REPORT_PIDFD: the
 *    process itself, not a pid that could be reused). A process in no
 *    session is allowed at once: one map lookup, no lock, no stat;
 *  - a member of a session whose policy masks that inode is refused
 *    (FAN_DENY: EPERM) and recorded (`action=open decision=deny`, target
 *    the masked real path, `name` the name it used, `rule` the mask's
 *    rule), at most REPORTS_PER_SEC a second per session, the rest
 *    counted into the next record;
 *  - everyone else (other sessions whose policy does not mask it) is
 *    allowed.
 *
 * The thread never blocks on anything slow: no store, no I/O but the
 * event's own descriptors; records go to the event loop through a
 * bounded queue. The daemon's own opens are answered before anything
 * else, so the event loop opening a marked directory cannot wait on a
 * lock it holds.
 *
 * Which inodes: the launcher computes the plan (it expands ~, $HOME,
 * {runtime}, globs, `**` names) and sends the real paths of its masks
 * after the session is opened ("session-secrets"). The daemon trusts the
 * list no further than this: it opens each path itself, without
 * following any symlink (RESOLVE_NO_SYMLINKS: the plan's paths are real
 * paths), walks it on its own file system (bounded), and for an ordinary
 * user marks only what that user owns. A mark adds denials only to the
 * requesting session; what it costs others (their opens of the inode
 * wait for this thread) is limited to the user's own files and bounded
 * per session and in total. (The walk runs as root: a user's own FUSE
 * mount answers root EACCES at once, without asking its server, unless
 * the site enabled user_allow_other; FUSE and network file systems are
 * never marked.)
 *
 * If the daemon dies the group closes: the marks go with it and the
 * kernel allows every open still waiting. The mount masks still hide the
 * paths (docs/sandbox.md).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include <bpf/bpf.h>

#include "daemon/daemon.h"
#include "daemon/members.h"
#include "shared/util.h"

#ifndef FAN_REPORT_PIDFD
#define FAN_REPORT_PIDFD 0x00000080
#endif
#ifndef FAN_EVENT_INFO_TYPE_PIDFD
#define FAN_EVENT_INFO_TYPE_PIDFD 4
struct fanotify_event_info_pidfd {
	struct fanotify_event_info_header hdr;
	__s32 pidfd;
};
#endif

#define SECRETS_BUCKETS 4096
#define SECRETS_SESSION_MAX 8192 /* inodes one session may have marked */
#define SECRETS_TOTAL_MAX 65536	 /* inodes marked at once */
#define SECRETS_WALK_MAX 20000	 /* entries looked at per session */
#define SECRETS_DEPTH_MAX 32
#define REPORTS_PER_SEC 50
#define QUEUE_LEN 128
/* The owner of agentwall's own state (rule agentwall.self), marked once
 * at start for every sandboxed session: no session has id 0. */
#define SELF 0

#define MASK_FILE (FAN_OPEN_PERM | FAN_OPEN_EXEC_PERM)
#define MASK_DIR                                                               \
	(FAN_OPEN_PERM | FAN_OPEN_EXEC_PERM | FAN_ONDIR | FAN_EVENT_ON_CHILD)

/* File systems whose opens may wait on a user's process (FUSE) or the
 * network: never marked, so the thread never depends on them. */
#define FUSE_SUPER_MAGIC 0x65735546
#define NFS_SUPER_MAGIC 0x6969
#define SMB2_SUPER_MAGIC 0xfe534d42
#define CIFS_SUPER_MAGIC 0xff534d42
#define PROC_SUPER_MAGIC 0x9fa0
#define SYSFS_MAGIC 0x62656572
#define BPF_FS_MAGIC 0xcafe4a11
#define TMPFS_MAGIC 0x01021994

/* One session that masks an inode, under one of its rules. */
struct sec_owner {
	uint64_t session;
	char *rule; /* POLICY/RULE-ID */
	char *path; /* the masked real path of the inode */
	int mask;   /* a placeholder of the session's masks (masks.c) */
	struct sec_owner *next;
};

struct sec_inode {
	uint64_t dev, ino;
	int fd; /* readable, or O_PATH (mark_fd) */
	int dir;
	struct sec_owner *owners;
	struct sec_inode *next;
};

struct sec_session {
	uint64_t session;
	uint32_t uid;
	size_t n_marked;
	size_t n_masks; /* of them, placeholders */
	size_t walked;
	uint64_t window; /* second of the rate limit */
	unsigned in_window;
	uint64_t suppressed; /* denials not recorded one by one */
};

struct sec_record {
	uint64_t session;
	uint64_t suppressed;
	uint32_t pid;
	int exec;
	int mask;
	char rule[160];
	char path[PATH_MAX];
	char name[PATH_MAX];
};

struct aw_secrets {
	int fan;
	int tasks_fd; /* aw_tasks, for membership */
	int pidfd_mode;
	int stop[2], wake[2];
	pid_t self;
	pthread_t thread;
	int running;
	int self_marked;
	pthread_mutex_t lock; /* everything below */
	struct sec_inode *buckets[SECRETS_BUCKETS];
	size_t n_inodes;
	struct sec_session *sessions;
	size_t n_sessions;
	struct sec_record *queue;
	size_t q_head, q_len;
	/* Counters (read by status without the lock: approximate). */
	uint64_t n_events, n_denied, n_learned, n_errors;
};

static size_t bucket_of(uint64_t dev, uint64_t ino)
{
	uint64_t h = (dev * 0x9e3779b97f4a7c15ull) ^ ino;

	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return h % SECRETS_BUCKETS;
}

static struct sec_inode *inode_find(struct aw_secrets *s, uint64_t dev,
				    uint64_t ino)
{
	for (struct sec_inode *e = s->buckets[bucket_of(dev, ino)]; e;
	     e = e->next)
		if (e->dev == dev && e->ino == ino)
			return e;
	return NULL;
}

static struct sec_owner *owner_find(struct sec_inode *e, uint64_t session)
{
	for (struct sec_owner *o = e ? e->owners : NULL; o; o = o->next)
		if (o->session == session)
			return o;
	return NULL;
}

static struct sec_session *session_find(struct aw_secrets *s, uint64_t session)
{
	for (size_t i = 0; i < s->n_sessions; i++)
		if (s->sessions[i].session == session)
			return &s->sessions[i];
	return NULL;
}

/* The session's entry, made on its first request (NULL: no memory).
 * Called with the lock held. */
static struct sec_session *session_get(struct aw_secrets *s, uint64_t session,
				       uid_t uid)
{
	struct sec_session *ss = session_find(s, session), *n;

	if (ss)
		return ss;
	n = realloc(s->sessions, (s->n_sessions + 1) * sizeof(*n));
	if (!n)
		return NULL;
	s->sessions = n;
	ss = &n[s->n_sessions++];
	memset(ss, 0, sizeof(*ss));
	ss->session = session;
	ss->uid = uid;
	return ss;
}

/* fd: a readable descriptor of the inode (the mark is put through it:
 * 1.3 us), or an O_PATH one, which fanotify_mark does not take (then
 * through /proc/self/fd/N: a path lookup in /proc, 4.5 us). */
static int mark_fd(struct aw_secrets *s, int fd, int dir, unsigned flags)
{
	unsigned mask = dir ? MASK_DIR : MASK_FILE;
	char p[64];
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0 && !(fl & O_PATH))
		return fanotify_mark(s->fan, flags, mask, fd, NULL) < 0 ? -errno
									: 0;
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	if (fanotify_mark(s->fan, flags, mask, AT_FDCWD, p) < 0)
		return -errno;
	return 0;
}

/*
 * The inode fd (O_PATH) names, for session ss under rule and path: added
 * to the table and marked, or, when the inode is there already, one more
 * owner. Takes fd (closed when not kept). Called with the lock held;
 * makes no call that could open a file.
 */
static int inode_add(struct aw_secrets *s, struct sec_session *ss, int fd,
		     const struct stat *st, const char *rule, const char *path,
		     int mask)
{
	struct sec_inode *e = inode_find(s, st->st_dev, st->st_ino);
	struct sec_owner *o;
	int r;

	if (e && owner_find(e, ss->session)) {
		close(fd);
		return 0;
	}
	if (ss->n_marked >= SECRETS_SESSION_MAX ||
	    (!e && s->n_inodes >= SECRETS_TOTAL_MAX)) {
		close(fd);
		return -E2BIG;
	}
	o = calloc(1, sizeof(*o));
	if (!o || !(o->rule = strdup(rule)) || !(o->path = strdup(path))) {
		if (o) {
			free(o->rule);
			free(o);
		}
		close(fd);
		return -ENOMEM;
	}
	o->session = ss->session;
	o->mask = mask;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e) {
			r = -ENOMEM;
			goto fail;
		}
		e->dev = st->st_dev;
		e->ino = st->st_ino;
		e->dir = S_ISDIR(st->st_mode);
		e->fd = fd;
		r = mark_fd(s, fd, e->dir, FAN_MARK_ADD);
		if (r < 0) {
			free(e);
			goto fail;
		}
		e->next = s->buckets[bucket_of(e->dev, e->ino)];
		s->buckets[bucket_of(e->dev, e->ino)] = e;
		s->n_inodes++;
	} else {
		close(fd);
	}
	o->next = e->owners;
	e->owners = o;
	ss->n_marked++;
	ss->n_masks += mask != 0;
	return 1;
fail:
	close(fd);
	free(o->rule);
	free(o->path);
	free(o);
	return r;
}

/* ---- the permission thread ---------------------------------------------- */

static uint64_t now_sec(void)
{
	return aw_now_boottime_ns() / 1000000000ull;
}

/* Queue a record for the event loop (lock held). Past the rate or the
 * queue's room, the denial is counted into the session's next record. */
static void record_add(struct aw_secrets *s, uint64_t session,
		       struct sec_session *ss, uint32_t pid, int exec,
		       const struct sec_owner *o, const char *name)
{
	struct sec_record *q;
	uint64_t now = now_sec();

	s->n_denied++;
	if (!ss)
		return;
	if (now != ss->window) {
		ss->window = now;
		ss->in_window = 0;
	}
	if (++ss->in_window > REPORTS_PER_SEC || s->q_len >= QUEUE_LEN) {
		ss->suppressed++;
		return;
	}
	q = &s->queue[(s->q_head + s->q_len++) % QUEUE_LEN];
	q->session = session;
	q->suppressed = ss->suppressed;
	ss->suppressed = 0;
	q->pid = pid;
	q->exec = exec;
	q->mask = o->mask;
	snprintf(q->rule, sizeof(q->rule), "%s", o->rule);
	snprintf(q->path, sizeof(q->path), "%s", o->path);
	snprintf(q->name, sizeof(q->name), "%s", name);
}

/*
 * An inode that is not in the table reached through a marked directory
 * (FAN_EVENT_ON_CHILD): a file made there after the walk. If its parent
 * is a marked directory that really holds it under that name, it gets the
 * parent's owners and its own mark, so a hard link made to it later is
 * refused too. The name comes from the event's fd; it is checked against
 * the parent (by identity), never trusted.
 */
static void learn(struct aw_secrets *s, int fd, const struct stat *st)
{
	char p[64], path[PATH_MAX], *slash;
	struct stat pst, cst;
	ssize_t n;
	int pfd;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, path, sizeof(path) - 1);
	if (n <= 1 || path[0] != '/')
		return;
	path[n] = 0;
	slash = strrchr(path, '/');
	if (!slash || !slash[1])
		return;
	*slash = 0;
	pfd = open(slash == path ? "/" : path,
		   O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0)
		return;
	if (fstat(pfd, &pst) < 0 ||
	    fstatat(pfd, slash + 1, &cst, AT_SYMLINK_NOFOLLOW) < 0 ||
	    cst.st_dev != st->st_dev || cst.st_ino != st->st_ino) {
		close(pfd);
		return;
	}
	pthread_mutex_lock(&s->lock);
	{
		struct sec_inode *pe = inode_find(s, pst.st_dev, pst.st_ino);

		for (struct sec_owner *o = pe && pe->dir ? pe->owners : NULL; o;
		     o = o->next) {
			struct sec_session *ss = session_find(s, o->session);
			char sub[PATH_MAX];
			int cfd;

			if (!ss)
				continue;
			cfd = openat(pfd, slash + 1,
				     O_PATH | O_NOFOLLOW | O_CLOEXEC);
			if (cfd < 0)
				break;
			snprintf(sub, sizeof(sub), "%s/%s", o->path, slash + 1);
			if (inode_add(s, ss, cfd, &cst, o->rule, sub, 0) > 0)
				s->n_learned++;
		}
	}
	pthread_mutex_unlock(&s->lock);
	close(pfd);
}

static void answer(struct aw_secrets *s, int fd, uint32_t response)
{
	struct fanotify_response r = {.fd = fd, .response = response};

	if (write(s->fan, &r, sizeof(r)) != sizeof(r))
		s->n_errors++;
}

static void handle_event(struct aw_secrets *s,
			 const struct fanotify_event_metadata *m)
{
	struct aw_task_state st;
	struct stat fst;
	int pidfd = -1, member = 0, unknown = 0, denied = 0;
	const char *info = (const char *)m + m->metadata_len;
	const char *end = (const char *)m + m->event_len;

	s->n_events++;
	if (m->fd < 0)
		return; /* overflow: not a permission event */
	/* Our own opens (the walk, the store): at once, no lookup, no
	 * lock (the event loop may hold it). */
	if ((pid_t)m->pid == s->self) {
		answer(s, m->fd, FAN_ALLOW);
		close(m->fd);
		return;
	}
	while (info + sizeof(struct fanotify_event_info_header) <= end) {
		const struct fanotify_event_info_header *h = (const void *)info;

		if (h->len < sizeof(*h) || info + h->len > end)
			break;
		if (h->info_type == FAN_EVENT_INFO_TYPE_PIDFD &&
		    h->len >= sizeof(struct fanotify_event_info_pidfd))
			pidfd = ((const struct fanotify_event_info_pidfd *)h)
				    ->pidfd;
		info += h->len;
	}
	if (!s->pidfd_mode && m->pid > 0)
		pidfd = syscall(SYS_pidfd_open, (pid_t)m->pid, 0);
	/* No pidfd (FAN_NOPIDFD, FAN_EPIDFD: the opener is gone): nobody
	 * to refuse. */
	if (pidfd >= 0 && bpf_map_lookup_elem(s->tasks_fd, &pidfd, &st) == 0 &&
	    st.session)
		member = 1;
	if (member && fstat(m->fd, &fst) == 0) {
		struct sec_inode *e;
		struct sec_owner *o;

		pthread_mutex_lock(&s->lock);
		e = inode_find(s, fst.st_dev, fst.st_ino);
		unknown = !e;
		pthread_mutex_unlock(&s->lock);
		/* A file made in a masked directory since the walk, reached
		 * by a member: learned before the answer. */
		if (unknown)
			learn(s, m->fd, &fst);
		pthread_mutex_lock(&s->lock);
		e = inode_find(s, fst.st_dev, fst.st_ino);
		o = owner_find(e, st.session);
		/* agentwall's own state: masked in every sandboxed session. */
		if (!o && st.flags & AW_TASK_CONTAINED)
			o = owner_find(e, SELF);
		if (o) {
			struct sec_session *ss = session_find(s, st.session);
			char p[64], name[PATH_MAX] = "";
			ssize_t n;

			denied = 1;
			answer(s, m->fd, FAN_DENY);
			/* The name it used, as the kernel sees it. */
			snprintf(p, sizeof(p), "/proc/self/fd/%d", m->fd);
			n = readlink(p, name, sizeof(name) - 1);
			name[n > 0 ? n : 0] = 0;
			record_add(s, st.session,
				   ss ? ss : session_find(s, SELF), m->pid,
				   !!(m->mask & FAN_OPEN_EXEC_PERM), o, name);
		}
		pthread_mutex_unlock(&s->lock);
		unknown = 0;
	}
	if (!denied)
		answer(s, m->fd, FAN_ALLOW);
	/* Not a member: allowed first, learned after (a file being made
	 * in a masked directory by its owner, say ssh-keygen). */
	if (!member && fstat(m->fd, &fst) == 0) {
		pthread_mutex_lock(&s->lock);
		unknown = !inode_find(s, fst.st_dev, fst.st_ino);
		pthread_mutex_unlock(&s->lock);
		if (unknown)
			learn(s, m->fd, &fst);
	}
	if (denied) {
		char b = 1;

		if (write(s->wake[1], &b, 1) < 0) {
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	close(m->fd);
}

static void *secrets_thread(void *arg)
{
	struct aw_secrets *s = arg;
	char buf[16384] __attribute__((aligned(8)));

	for (;;) {
		struct pollfd p[2] = {{.fd = s->fan, .events = POLLIN},
				      {.fd = s->stop[0], .events = POLLIN}};
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		n = read(s->fan, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			s->n_errors++;
			continue;
		}
		for (struct fanotify_event_metadata *m = (void *)buf;
		     FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
			if (m->vers != FANOTIFY_METADATA_VERSION) {
				/* Cannot read it: answering is impossible
				 * without the fd; closing the group would
				 * allow all. Count it. */
				s->n_errors++;
				continue;
			}
			handle_event(s, m);
		}
	}
	return NULL;
}

/* ---- the event loop's side ---------------------------------------------- */

int aw_secrets_open(struct aw_daemon *d, char *err, size_t errlen)
{
	struct aw_secrets *s = calloc(1, sizeof(*s));
	sigset_t all, old;
	int r;

	if (!s)
		return -ENOMEM;
	s->queue = calloc(QUEUE_LEN, sizeof(*s->queue));
	s->stop[0] = s->stop[1] = s->wake[0] = s->wake[1] = -1;
	s->self = getpid();
	s->tasks_fd = aw_kernel_tasks_fd(d->kernel);
	pthread_mutex_init(&s->lock, NULL);
	/* FAN_UNLIMITED_QUEUE: a full queue would let permission events
	 * through unanswered (allowed); each queued event is an opener
	 * waiting, so the queue is bounded by the tasks that can wait.
	 * FAN_REPORT_PIDFD (Linux 5.15): the opener as a pidfd; without
	 * it, pidfd_open of the event's pid (the opener waits on us, so
	 * the pid is still its own unless it was killed meanwhile). */
	s->pidfd_mode = 1;
	s->fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK |
				   FAN_UNLIMITED_MARKS | FAN_UNLIMITED_QUEUE |
				   FAN_REPORT_PIDFD,
			       O_RDONLY | O_LARGEFILE | O_CLOEXEC | O_NOATIME);
	if (s->fan < 0 && errno == EINVAL) {
		s->pidfd_mode = 0;
		s->fan = fanotify_init(
		    FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK |
			FAN_UNLIMITED_MARKS | FAN_UNLIMITED_QUEUE,
		    O_RDONLY | O_LARGEFILE | O_CLOEXEC | O_NOATIME);
	}
	if (!s->queue || s->fan < 0 || pipe2(s->stop, O_CLOEXEC) < 0 ||
	    pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = s->queue ? -errno : -ENOMEM;
		snprintf(err, errlen, "fanotify: %s", strerror(-r));
		goto fail;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = -pthread_create(&s->thread, NULL, secrets_thread, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		snprintf(err, errlen, "thread: %s", strerror(-r));
		goto fail;
	}
	s->running = 1;
	d->secrets = s;
	return 0;
fail:
	if (s->fan >= 0)
		close(s->fan);
	for (int i = 0; i < 2; i++) {
		if (s->stop[i] >= 0)
			close(s->stop[i]);
		if (s->wake[i] >= 0)
			close(s->wake[i]);
	}
	free(s->queue);
	free(s);
	return r;
}

int aw_secrets_fd(struct aw_daemon *d)
{
	return d->secrets ? d->secrets->wake[0] : -1;
}

void aw_secrets_collect(struct aw_daemon *d)
{
	struct aw_secrets *s = d->secrets;
	struct sec_record *r;
	char b[64];

	if (!s)
		return;
	while (read(s->wake[0], b, sizeof(b)) > 0) {
	}
	r = malloc(sizeof(*r));
	if (!r)
		return;
	for (;;) {
		struct aw_buf x = {};

		pthread_mutex_lock(&s->lock);
		if (!s->q_len) {
			pthread_mutex_unlock(&s->lock);
			break;
		}
		*r = s->queue[s->q_head];
		s->q_head = (s->q_head + 1) % QUEUE_LEN;
		s->q_len--;
		pthread_mutex_unlock(&s->lock);
		aw_json_key(&x, "name");
		aw_json_cstr(&x, r->name[0] ? r->name : NULL);
		aw_buf_puts(&x, ",");
		aw_json_key(&x, "access");
		aw_json_cstr(&x, r->exec ? "exec" : "open");
		aw_buf_puts(&x,
			    r->mask ? ",\"by\":\"mask\"" : ",\"by\":\"inode\"");
		if (r->suppressed)
			aw_buf_printf(&x, ",\"suppressed_before\":%llu",
				      (unsigned long long)r->suppressed);
		aw_buf_add(&x, "", 1);
		aw_events_emit_decision(d, "open", r->session, r->pid, r->path,
					r->rule, "deny", x.oom ? NULL : x.data);
		aw_buf_free(&x);
	}
	free(r);
}

/* What a walk found, marked after it (the walk opens directories, which
 * must not happen under the lock). */
struct found {
	int fd;
	struct stat st;
	char *path;
	char *rule;
};

struct walk {
	struct found *v;
	size_t n, cap;
	size_t budget;
	uint32_t uid;
	/* Files are never opened (agentwall's own state: opening and closing
	 * the store would drop SQLite's locks; see store_suffix), nor the
	 * store when some mask covers it. */
	int paths_only;
	struct aw_daemon *d;
	struct aw_secrets *s; /* (for inodes already marked) */
	int store_known; /* the store's files' identities, looked up once */
	struct stat store[3];
	size_t not_owned, skipped_fs, over;
};

static void walk_keep(struct walk *w, int fd, const struct stat *st,
		      const char *path, const char *rule)
{
	if (w->n == w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 64;
		struct found *nv = realloc(w->v, nc * sizeof(*nv));

		if (!nv) {
			close(fd);
			w->over++;
			return;
		}
		w->v = nv;
		w->cap = nc;
	}
	w->v[w->n].fd = fd;
	w->v[w->n].st = *st;
	w->v[w->n].rule = strdup(rule);
	w->v[w->n].path = strdup(path);
	if (!w->v[w->n].path || !w->v[w->n].rule) {
		free(w->v[w->n].rule);
		free(w->v[w->n].path);
		close(fd);
		w->over++;
		return;
	}
	w->n++;
}

/*
 * The store's own files (the database, SQLite's -wal and -shm) are never
 * reported to us, whoever opens them. SQLite's locks are POSIX locks,
 * owned by the process, and closing any descriptor of a file drops them
 * all: every event on the store would hand us a descriptor to close and
 * take the daemon's locks with it. A program that then opens the store
 * read-write (sqlite3) and closes it believes it was the last user and
 * deletes the -wal and -shm under the daemon, and every reader after it
 * sees the store as it was at the last checkpoint. A hard link to the
 * store, which these marks were for, is refused at session start instead
 * (aw_secrets_store_links).
 */
static const char *const store_suffix[] = {"", "-wal", "-shm"};

/* Is st one of the store's files (the database, -wal, -shm)? Their
 * identities are looked up once a walk. */
static int walk_store_file(struct walk *w, const struct stat *st)
{
	if (!w->d)
		return 0;
	if (!w->store_known) {
		for (size_t i = 0; i < AW_ARRAY_SIZE(store_suffix); i++) {
			char p[PATH_MAX + 8];

			snprintf(p, sizeof(p), "%s%s", w->d->opts.store_path,
				 store_suffix[i]);
			if (stat(p, &w->store[i]) < 0)
				memset(&w->store[i], 0, sizeof(w->store[i]));
		}
		w->store_known = 1;
	}
	for (size_t i = 0; i < AW_ARRAY_SIZE(store_suffix); i++)
		if (w->store[i].st_ino && w->store[i].st_dev == st->st_dev &&
		    w->store[i].st_ino == st->st_ino)
			return 1;
	return 0;
}

/*
 * A readable descriptor of the regular file fd (O_PATH) names, which is
 * name in the directory parent, for mark_fd; fd itself if it cannot be
 * had (then closed or returned). Only on the event loop: opened here, a
 * file under a directory already marked makes an event that the
 * permission thread answers, so that thread itself never calls this.
 * Not for anything but a regular file (a FIFO or device is never
 * opened).
 */
static int readable(int parent, const char *name, int fd, const struct stat *st)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC |
		     O_NOATIME,
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	struct stat rst;
	int r;

	if (!name)
		return fd;
	r = syscall(SYS_openat2, parent, name, &how, sizeof(how));
	/* The same inode (the name could have been replaced since). */
	if (r >= 0 && fstat(r, &rst) == 0 && S_ISREG(rst.st_mode) &&
	    rst.st_dev == st->st_dev && rst.st_ino == st->st_ino) {
		close(fd);
		return r;
	}
	if (r >= 0)
		close(r);
	return fd;
}

/* fd: an O_PATH fd of path (taken), found as name in the directory
 * parent (name NULL: not known). Regular files and directories are kept;
 * a directory's entries are walked on the same file system. */
static void walk_one(struct walk *w, int parent, const char *name, int fd,
		     const char *path, const char *rule, dev_t dev, int depth)
{
	struct stat st;
	DIR *dir;
	struct dirent *de;
	int dfd;

	if (!w->budget || fstat(fd, &st) < 0 || st.st_dev != dev) {
		close(fd);
		return;
	}
	w->budget--;
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		close(fd); /* sockets, devices, fifos: not opened as files */
		return;
	}
	if (w->uid != 0 && st.st_uid != w->uid) {
		/* Not the user's: marking it would make others' opens of it
		 * wait on us at this user's request. */
		w->not_owned++;
		close(fd);
		return;
	}
	if (S_ISREG(st.st_mode)) {
		int known = 0;

		/* An inode marked already (another session's mask) takes one
		 * more owner and no descriptor: not opened, which would wait
		 * for the permission thread's answer. */
		if (w->s) {
			pthread_mutex_lock(&w->s->lock);
			known = inode_find(w->s, st.st_dev, st.st_ino) != NULL;
			pthread_mutex_unlock(&w->s->lock);
		}
		walk_keep(w,
			  known || w->paths_only || walk_store_file(w, &st)
			      ? fd
			      : readable(parent, name, fd, &st),
			  &st, path, rule);
		return;
	}
	dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOATIME);
	if (dfd < 0)
		dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* A directory is kept by its readable descriptor when it has one. */
	if (dfd >= 0) {
		int keep = dup(dfd);

		if (keep >= 0) {
			close(fd);
			fd = keep;
		}
	}
	walk_keep(w, fd, &st, path, rule);
	if (depth >= SECRETS_DEPTH_MAX) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	if (dfd < 0 || !(dir = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((de = readdir(dir)) && w->budget) {
		char sub[PATH_MAX];
		int cfd;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path,
				     de->d_name) >= sizeof(sub))
			continue;
		cfd = openat(dirfd(dir), de->d_name,
			     O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (cfd >= 0)
			walk_one(w, dirfd(dir), de->d_name, cfd, sub, rule, dev,
				 depth + 1);
	}
	closedir(dir);
}

/* What a walk found, into session's table (placeholder: the inodes are
 * the session's own mask placeholders); the walk is used up. */
static void walk_add(struct aw_secrets *s, uint64_t session, struct walk *w,
		     int placeholder, size_t *marked, size_t *failed)
{
	struct sec_session *ss;

	pthread_mutex_lock(&s->lock);
	ss = session_find(s, session);
	if (ss)
		ss->walked += SECRETS_WALK_MAX - ss->walked - w->budget;
	for (size_t i = 0; i < w->n; i++) {
		int r = ss ? inode_add(s, ss, w->v[i].fd, &w->v[i].st,
				       w->v[i].rule, w->v[i].path, placeholder)
			   : (close(w->v[i].fd), -ESRCH);

		if (r > 0)
			(*marked)++;
		else if (r == -E2BIG)
			w->over++;
		else if (r < 0)
			(*failed)++;
		free(w->v[i].path);
		free(w->v[i].rule);
	}
	pthread_mutex_unlock(&s->lock);
	free(w->v);
	w->v = NULL;
	w->n = 0;
}

static int fs_markable(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0)
		return 0;
	switch ((unsigned long)sf.f_type) {
	case FUSE_SUPER_MAGIC:
	case NFS_SUPER_MAGIC:
	case SMB2_SUPER_MAGIC:
	case CIFS_SUPER_MAGIC:
	case PROC_SUPER_MAGIC:
	case SYSFS_MAGIC:
	case BPF_FS_MAGIC:
		return 0;
	default:
		return 1;
	}
}

/*
 * "session-secrets session=ID r0=RULE p0=PATH r1=... p1=...": the real
 * paths of a session's masks, from its launcher. The peer must be a
 * member of that session (its task storage says so), as for reports.
 * Reply: "ok marked=N learned... skipped=..." or "error: ...".
 */
void aw_secrets_request(struct aw_daemon *d, int fd, const char *args,
			struct aw_buf *out)
{
	struct aw_secrets *s = d->secrets;
	int pidfd = -1;
	struct ucred cred;
	struct aw_task_state st;
	struct walk w = {.d = d, .s = d->secrets};
	struct sec_session *ss;
	size_t marked = 0, failed = 0, refused = 0, odd = 0;
	uint64_t session;

	if (!s) {
		aw_buf_puts(out, "error: inode marks unavailable (no fanotify "
				 "group)\n");
		return;
	}
	if (aw_members_peer_session(d, fd, args, "names its masks", &cred,
				    &pidfd, &st, out) < 0)
		goto out;
	session = st.session;
	pthread_mutex_lock(&s->lock);
	ss = session_get(s, session, cred.uid);
	w.budget = ss && ss->walked < SECRETS_WALK_MAX
		       ? SECRETS_WALK_MAX - ss->walked
		       : 0;
	w.uid = ss ? ss->uid : cred.uid;
	pthread_mutex_unlock(&s->lock);
	if (!ss) {
		aw_buf_puts(out, "error: out of memory\n");
		goto out;
	}
	/* Walk first, without the lock: opening a marked directory makes
	 * an event our thread answers. */
	for (unsigned i = 0; i < 512; i++) {
		char rk[16], pk[16], rule[160], path[PATH_MAX];
		struct open_how how = {
		    .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
		};
		struct stat rst;
		int rfd;

		snprintf(rk, sizeof(rk), "r%u", i);
		snprintf(pk, sizeof(pk), "p%u", i);
		if (aw_kv_get(args, pk, path, sizeof(path)) < 0)
			break;
		if (aw_kv_get(args, rk, rule, sizeof(rule)) < 0 ||
		    path[0] != '/') {
			odd++;
			continue;
		}
		/* Marked at start for every session (aw_secrets_mark_self). */
		if (s->self_marked && strlen(rule) > 15 &&
		    !strcmp(rule + strlen(rule) - 15, "/agentwall.self"))
			continue;
		/* The plan's paths are real paths: a symlink in one now was
		 * put there since, and is not followed. */
		rfd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
		if (rfd < 0) {
			refused++;
			continue;
		}
		if (!fs_markable(rfd) || fstat(rfd, &rst) < 0) {
			w.skipped_fs++;
			close(rfd);
			continue;
		}
		walk_one(&w, AT_FDCWD, path, rfd, path, rule, rst.st_dev, 0);
	}
	walk_add(s, session, &w, 0, &marked, &failed);
	aw_buf_printf(out,
		      "ok marked=%zu not-owned=%zu not-found=%zu "
		      "not-markable-fs=%zu over-limit=%zu failed=%zu "
		      "walk-limit=%d\n",
		      marked, w.not_owned, refused, w.skipped_fs, w.over,
		      failed, !w.budget);
	if (odd)
		aw_buf_printf(out, "# %zu malformed entries\n", odd);
	/* What the session does not get is said, once per request. */
	if (w.over || !w.budget || failed) {
		char x[256];

		snprintf(x, sizeof(x),
			 "\"detail\":\"masked files refused by name only "
			 "beyond the inode marks' limits: %zu not marked "
			 "(limit %u a session), %zu failed%s\"",
			 w.over, SECRETS_SESSION_MAX, failed,
			 w.budget ? "" : ", walk stopped after 20000 entries");
		aw_events_emit_decision(d, "notice", session, 0, NULL,
					"session/inode-marks", "allow", x);
	}
out:
	if (pidfd >= 0)
		close(pidfd);
}

/* Is dev a file system mounted in the daemon's own view (the host's)? A
 * session's mask tmpfs is mounted only in the session's namespace. */
static int host_visible(dev_t dev)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int found = 0;

	if (!f)
		return 1; /* cannot tell: refuse */
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned maj, min;

		if (sscanf(line, "%*u %*u %u:%u", &maj, &min) == 2 &&
		    maj == major(dev) && min == minor(dev))
			found = 1;
	}
	fclose(f);
	return found;
}

/*
 * "session-masks session=ID n0=NAME r0=RULE p0=PATH ...", with the
 * session's mask tmpfs passed as a descriptor (src/sandbox/masks.c): NAME
 * is a placeholder under its root (d<op> for a masked directory, f<op>
 * for a masked file), PATH the real path it masks. Each placeholder, and
 * every entry under a masked directory's, is marked for the session like
 * a masked file (owner `mask`): an open of it by a member is refused and
 * recorded with PATH (and the entry's path under it). The descriptor must
 * be a tmpfs that is not the host's (mounted in no namespace the daemon
 * sees: what a session builds for itself), and for an ordinary user hold
 * only the user's files: marking it costs nobody else anything. Reply:
 * "ok masks=N marked=N ..." or "error: ...".
 */
void aw_secrets_masks(struct aw_daemon *d, int fd, const char *args,
		      int passed_fd, struct aw_buf *out)
{
	struct aw_secrets *s = d->secrets;
	int pidfd = -1;
	struct ucred cred;
	struct aw_task_state st;
	struct walk w = {.d = d, .s = d->secrets};
	struct sec_session *ss;
	struct statfs sf;
	struct stat rst;
	size_t marked = 0, failed = 0, missing = 0, n = 0;
	uint64_t session;

	if (!s) {
		aw_buf_puts(out, "error: inode marks unavailable (no fanotify "
				 "group)\n");
		return;
	}
	if (aw_members_peer_session(d, fd, args, "names its masks", &cred,
				    &pidfd, &st, out) < 0)
		goto out;
	if (passed_fd < 0 || fstatfs(passed_fd, &sf) < 0 ||
	    (unsigned long)sf.f_type != TMPFS_MAGIC ||
	    fstat(passed_fd, &rst) < 0 || !S_ISDIR(rst.st_mode) ||
	    host_visible(rst.st_dev)) {
		aw_buf_puts(out, "error: session-masks takes the session's own "
				 "mask tmpfs (a descriptor)\n");
		goto out;
	}
	session = st.session;
	pthread_mutex_lock(&s->lock);
	ss = session_get(s, session, cred.uid);
	w.budget = ss && ss->walked < SECRETS_WALK_MAX
		       ? SECRETS_WALK_MAX - ss->walked
		       : 0;
	w.uid = ss ? ss->uid : cred.uid;
	pthread_mutex_unlock(&s->lock);
	if (!ss) {
		aw_buf_puts(out, "error: out of memory\n");
		goto out;
	}
	/* Walked before it is marked: nothing waits on us meanwhile. */
	for (unsigned i = 0; i < 512; i++) {
		char nk[16], rk[16], pk[16], name[32], rule[160],
		    path[PATH_MAX];
		int efd;

		snprintf(nk, sizeof(nk), "n%u", i);
		snprintf(rk, sizeof(rk), "r%u", i);
		snprintf(pk, sizeof(pk), "p%u", i);
		if (aw_kv_get(args, nk, name, sizeof(name)) < 0)
			break;
		if (aw_kv_get(args, rk, rule, sizeof(rule)) < 0 ||
		    aw_kv_get(args, pk, path, sizeof(path)) < 0 ||
		    path[0] != '/' || strchr(name, '/') ||
		    (name[0] != 'd' && name[0] != 'f')) {
			missing++;
			continue;
		}
		efd = openat(passed_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (efd < 0) {
			missing++;
			continue;
		}
		n++;
		walk_one(&w, passed_fd, name, efd, path, rule, rst.st_dev, 0);
	}
	walk_add(s, session, &w, 1, &marked, &failed);
	aw_buf_printf(out,
		      "ok masks=%zu marked=%zu not-owned=%zu missing=%zu "
		      "over-limit=%zu failed=%zu\n",
		      n, marked, w.not_owned, missing, w.over, failed);
	if (w.over || !w.budget || failed) {
		char x[256];

		snprintf(x, sizeof(x),
			 "\"detail\":\"masked paths refused without a record "
			 "beyond the marks' limits: %zu placeholders not "
			 "marked (limit %u a session), %zu failed\"",
			 w.over, SECRETS_SESSION_MAX, failed);
		aw_events_emit_decision(d, "notice", session, 0, NULL,
					"session/inode-marks", "allow", x);
	}
out:
	if (pidfd >= 0)
		close(pidfd);
}

static void store_ignore(struct aw_daemon *d)
{
	char p[PATH_MAX + 8];

	for (size_t i = 0; i < AW_ARRAY_SIZE(store_suffix); i++) {
		snprintf(p, sizeof(p), "%s%s", d->opts.store_path,
			 store_suffix[i]);
		/* Also silences the state directory's FAN_EVENT_ON_CHILD
		 * for this file. ENOENT: no such file yet, nothing to
		 * report either. */
		if (fanotify_mark(d->secrets->fan,
				  FAN_MARK_ADD | FAN_MARK_IGNORED_MASK |
				      FAN_MARK_IGNORED_SURV_MODIFY,
				  MASK_FILE, AT_FDCWD, p) < 0 &&
		    errno != ENOENT)
			d->secrets->n_errors++;
	}
}

int aw_secrets_store_links(struct aw_daemon *d, char *err, size_t errlen)
{
	char p[PATH_MAX + 8];
	struct stat st;

	for (size_t i = 0; i < AW_ARRAY_SIZE(store_suffix); i++) {
		snprintf(p, sizeof(p), "%s%s", d->opts.store_path,
			 store_suffix[i]);
		if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_nlink > 1) {
			snprintf(
			    err, errlen,
			    "agentwall's store %s has %ju hard links: "
			    "every session's record can be read through "
			    "the others; find them (find / -xdev -samefile "
			    "%s) and remove them",
			    p, (uintmax_t)st.st_nlink, p);
			return -EMLINK;
		}
	}
	return 0;
}

/*
 * agentwall's own state, socket directory and configuration, marked once
 * for every sandboxed session (rule agentwall.self): a hard link to the
 * store made before a root session would read every session's record.
 * Marked here rather than per session: the state directory is walked
 * once, not at every session start. (Files made there later are not
 * learned: the daemon's own opens are answered before anything else.)
 */
void aw_secrets_mark_self(struct aw_daemon *d)
{
	struct aw_secrets *s = d->secrets;
	char dirs[5][PATH_MAX];
	size_t n = 0;
	struct walk w = {
	    .budget = SECRETS_WALK_MAX, .uid = 0, .paths_only = 1, .d = d};
	struct sec_session *ss;

	if (!s)
		return;
	snprintf(dirs[n], PATH_MAX, "%s", d->opts.store_path);
	if (strrchr(dirs[n], '/') && strrchr(dirs[n], '/') != dirs[n])
		*strrchr(dirs[n++], '/') = 0;
	snprintf(dirs[n], PATH_MAX, "%s", d->opts.socket_path);
	if (strrchr(dirs[n], '/') && strrchr(dirs[n], '/') != dirs[n])
		*strrchr(dirs[n++], '/') = 0;
	snprintf(dirs[n++], PATH_MAX, "%s", AW_CONF_DIR);
	if (d->opts.policy_dir[0])
		snprintf(dirs[n++], PATH_MAX, "%s", d->opts.policy_dir);
	if (d->opts.sig_dir[0])
		snprintf(dirs[n++], PATH_MAX, "%s", d->opts.sig_dir);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		int fd;

		if (i && !strcmp(dirs[i], dirs[0]))
			continue;
		fd = open(dirs[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!fs_markable(fd) || fstat(fd, &st) < 0) {
			close(fd);
			continue;
		}
		walk_one(&w, AT_FDCWD, dirs[i], fd, dirs[i], "agentwall.self",
			 st.st_dev, 0);
	}
	pthread_mutex_lock(&s->lock);
	ss = session_find(s, SELF);
	if (!ss) {
		struct sec_session *nv =
		    realloc(s->sessions, (s->n_sessions + 1) * sizeof(*nv));

		if (nv) {
			s->sessions = nv;
			ss = &nv[s->n_sessions++];
			memset(ss, 0, sizeof(*ss));
			ss->session = SELF;
		}
	}
	for (size_t i = 0; i < w.n; i++) {
		if (ss && !walk_store_file(&w, &w.v[i].st))
			inode_add(s, ss, w.v[i].fd, &w.v[i].st, w.v[i].rule,
				  w.v[i].path, 0);
		else
			close(w.v[i].fd);
		free(w.v[i].path);
		free(w.v[i].rule);
	}
	store_ignore(d);
	s->self_marked = ss != NULL;
	pthread_mutex_unlock(&s->lock);
	free(w.v);
}

static void inode_free(struct aw_secrets *s, struct sec_inode *e)
{
	mark_fd(s, e->fd, e->dir, FAN_MARK_REMOVE);
	close(e->fd);
	free(e);
	s->n_inodes--;
}

/* The session ended: its ownership of each inode goes, and the marks of
 * inodes no other session masks. */
void aw_secrets_session_end(struct aw_daemon *d, uint64_t session)
{
	struct aw_secrets *s = d->secrets;
	struct sec_session *ss;
	uint64_t suppressed;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	ss = session_find(s, session);
	if (!ss) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	suppressed = ss->suppressed;
	*ss = s->sessions[--s->n_sessions];
	for (size_t b = 0; b < SECRETS_BUCKETS; b++) {
		struct sec_inode **pe = &s->buckets[b];

		while (*pe) {
			struct sec_inode *e = *pe;
			struct sec_owner **po = &e->owners;

			while (*po) {
				struct sec_owner *o = *po;

				if (o->session == session) {
					*po = o->next;
					free(o->rule);
					free(o->path);
					free(o);
				} else {
					po = &o->next;
				}
			}
			if (!e->owners) {
				*pe = e->next;
				inode_free(s, e);
			} else {
				pe = &e->next;
			}
		}
	}
	pthread_mutex_unlock(&s->lock);
	/* Denials past the rate after the last record: said once. */
	if (suppressed) {
		char x[160];

		snprintf(x, sizeof(x),
			 "\"detail\":\"%llu refused opens of masked files "
			 "not recorded one by one (rate limit)\","
			 "\"suppressed\":%llu",
			 (unsigned long long)suppressed,
			 (unsigned long long)suppressed);
		aw_events_emit_decision(d, "notice", session, 0, NULL,
					"session/open-rate", "deny", x);
	}
}

void aw_secrets_status(struct aw_daemon *d, struct aw_buf *b)
{
	struct aw_secrets *s = d->secrets;
	size_t inodes = 0, sessions = 0, self = 0, owned = 0, masks = 0;

	if (!s) {
		aw_buf_puts(b, "null");
		return;
	}
	pthread_mutex_lock(&s->lock);
	inodes = s->n_inodes;
	for (size_t i = 0; i < s->n_sessions; i++) {
		if (s->sessions[i].session == SELF) {
			self = s->sessions[i].n_marked;
		} else {
			sessions++;
			owned += s->sessions[i].n_marked;
			masks += s->sessions[i].n_masks;
		}
	}
	pthread_mutex_unlock(&s->lock);
	aw_buf_printf(
	    b,
	    "{\"marked_inodes\":%zu,\"self_inodes\":%zu,"
	    "\"session_marks\":%zu,\"mask_marks\":%zu,\"sessions\":%zu,"
	    "\"events\":%llu,\"denied\":%llu,\"learned\":%llu,"
	    "\"errors\":%llu,\"pidfd\":%s}",
	    inodes, self, owned, masks, sessions,
	    (unsigned long long)s->n_events, (unsigned long long)s->n_denied,
	    (unsigned long long)s->n_learned, (unsigned long long)s->n_errors,
	    s->pidfd_mode ? "true" : "false");
}

void aw_secrets_close(struct aw_daemon *d)
{
	struct aw_secrets *s = d->secrets;

	if (!s)
		return;
	if (s->running && write(s->stop[1], "x", 1) == 1)
		pthread_join(s->thread, NULL);
	/* Closing the group removes every mark and allows whatever open
	 * still waits. */
	close(s->fan);
	for (size_t b = 0; b < SECRETS_BUCKETS; b++) {
		while (s->buckets[b]) {
			struct sec_inode *e = s->buckets[b];

			s->buckets[b] = e->next;
			while (e->owners) {
				struct sec_owner *o = e->owners;

				e->owners = o->next;
				free(o->rule);
				free(o->path);
				free(o);
			}
			close(e->fd);
			free(e);
		}
	}
	for (int i = 0; i < 2; i++) {
		close(s->stop[i]);
		close(s->wake[i]);
	}
	pthread_mutex_destroy(&s->lock);
	free(s->sessions);
	free(s->queue);
	free(s);
	d->secrets = NULL;
}
