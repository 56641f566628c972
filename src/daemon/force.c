// SPDX-License-Identifier: GPL-2.0-only
/*
 * Forced containment: an agent that exec'd outside any session in enforce
 * mode was stopped by the exec hook before its first instruction (see
 * force_check() in bpf/discovery.bpf.c). Here it is re-executed through
 * the launcher, which puts it in a session:
 *
 *   agentwall --state-dir DIR run --forced --exec EXE -- ARGV...
 *
 * (EXE: the file the kernel just loaded, /proc/PID/exe; ARGV: the argv it
 * was given, after any #! rewriting.)
 *
 * with the process's own argv and environment (the pointers already on its
 * initial stack are reused, not copied), its cwd, fds, pid, parent,
 * process group and terminal, since it is the same process. ptrace makes
 * it do that: attach, point its registers at an `execve` syscall
 * instruction found in its vDSO with the new argv written below its stack
 * pointer, let it run exactly that one syscall, detach at the exec event.
 *
 * Fail closed: if any step fails (already traced, the launcher missing,
 * execve failing), the process is killed; it never resumes its own code.
 *
 * x86_64 only (the register layout and the syscall instruction); other
 * architectures kill (documented in docs/architecture.md).
 *
 * All ptrace requests come from one thread, the tracer; requests and
 * results travel over pipes so the event loop never blocks on a tracee.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/seccomp.h>

#include "daemon/daemon.h"
#include "shared/stage.h"
#include "shared/util.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define FORCE_WAIT_MS 3000
#define FORCE_POLLS (FORCE_WAIT_MS * 10) /* every 100 us */
#define FORCE_ARGC_MAX 8192 /* pointers copied below the stack pointer */

struct force_req {
	uint32_t pid;
	uint32_t content; /* held for a content check (AW_EXEC_CONTENT) */
	uint64_t start_time;
	uint64_t session;
};

enum force_content {
	FORCE_CONTENT_NONE = 0,	   /* classified by path or inode */
	FORCE_CONTENT_AGENT = 1,   /* its digest is a signature's: forced */
	FORCE_CONTENT_RELEASE = 2, /* not an agent: released */
	FORCE_CONTENT_AUDIT = 3,   /* an agent whose policy is in audit mode:
				      recorded, released */
};

struct force_res {
	uint32_t pid;
	int err; /* 0: forced; <0: failed, the process was killed */
	uint64_t session;
	uint64_t start_time;
	uint64_t latency_ns; /* request to detach */
	int group_stop;	     /* its parent saw it stopped (and continued) */
	int skip;	     /* already recorded (the signal hook killed it) */
	int content;	     /* enum force_content */
	uint32_t sig;	     /* FORCE_CONTENT_AGENT/AUDIT: its signature */
	uint64_t hash_ns;    /* time spent hashing */
	uint64_t dev, ino;   /* the file hashed (kernel dev encoding) */
	uint32_t gen;
	char sha[65];
	char why[240];
};

struct aw_force {
	struct aw_daemon *d;
	pthread_t thread;
	int req[2], res[2];
	char launcher[PATH_MAX];
	char state_dir[PATH_MAX]; /* where the launcher finds our socket */
	int running;
	pthread_mutex_t lock; /* content[] is swapped on reload */
	struct aw_content_ent *content;
	size_t n_content;
};

static int fail(struct force_res *r, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct force_res *r, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	r->err = err < 0 ? err : -EIO;
	return r->err;
}

/*
 * The tracee's next stop or its end, bounded in time. waitid(WNOWAIT)
 * polls without consuming; waitpid then takes the status word, which is
 * the one that carries ptrace event numbers in bits 16..23. An end is
 * consumed too: a tracer that does not reap would keep the exit from the
 * real parent.
 */
static int wait_status(uint32_t pid, int pidfd, int *ret_status)
{
	for (int i = 0; i < FORCE_POLLS; i++) {
		siginfo_t si = {};
		int st;

		if (waitid((idtype_t)P_PIDFD, pidfd, &si,
			   WSTOPPED | WEXITED | __WALL | WNOHANG | WNOWAIT) < 0)
			return -errno;
		if (!si.si_pid) {
			usleep(100);
			continue;
		}
		if (waitpid((pid_t)pid, &st, __WALL | WNOHANG) <= 0)
			return -ECHILD;
		if (!WIFSTOPPED(st))
			return -ESRCH;
		*ret_status = st;
		return 0;
	}
	return -ETIMEDOUT;
}

/* After SIGKILL: take its end so the real parent gets it. */
static void reap_killed(uint32_t pid)
{
	for (int ms = 0; ms < FORCE_WAIT_MS; ms++) {
		int st;
		pid_t w = waitpid((pid_t)pid, &st, __WALL | WNOHANG);

		if (w < 0 || (w > 0 && !WIFSTOPPED(st)))
			return;
		usleep(1000);
	}
}

static uint64_t find_vdso_syscall(uint32_t pid, int memfd)
{
	char p[64], line[512];
	unsigned long lo = 0, hi = 0;
	unsigned char buf[16384];
	FILE *f;
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/%u/maps", pid);
	f = fopen(p, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "[vdso]")) {
			sscanf(line, "%lx-%lx", &lo, &hi);
			break;
		}
	}
	fclose(f);
	if (!lo || hi <= lo)
		return 0;
	if (hi - lo > sizeof(buf))
		hi = lo + sizeof(buf);
	n = pread(memfd, buf, hi - lo, (off_t)lo);
	for (ssize_t i = 0; i + 1 < n; i++)
		if (buf[i] == 0x0f && buf[i + 1] == 0x05)
			return lo + (uint64_t)i;
	return 0;
}

/* "TracerPid" of /proc/PID/status, and that tracer's comm. */
static uint32_t tracer_of(uint32_t pid, char *comm, size_t len)
{
	char p[64], line[256];
	uint32_t t = 0;
	FILE *fp;

	snprintf(comm, len, "?");
	snprintf(p, sizeof(p), "/proc/%u/status", pid);
	fp = fopen(p, "re");
	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "TracerPid: %u", &t) == 1)
			break;
	fclose(fp);
	if (t) {
		snprintf(p, sizeof(p), "/proc/%u/comm", t);
		fp = fopen(p, "re");
		if (fp) {
			if (fgets(comm, (int)len, fp))
				comm[strcspn(comm, "\n")] = 0;
			fclose(fp);
		}
	}
	return t;
}

/*
 * A path the launcher can open for a content-matched executable: its own
 * path if that still names the same file, else a copy in the daemon's
 * content store (<state dir>/content/<sha256>, root's, 0755), made once:
 * a memfd, a deleted file or a file in a directory the launcher cannot
 * reach have no usable path.
 */
static int content_path(struct aw_force *f, int fd, const struct stat *fst,
			const char *exe, const char *sha, char *out, size_t len)
{
	struct stat st;
	char dir[PATH_MAX], tmp[PATH_MAX + 80];
	int t, r = 0;
	off_t off = 0;

	if (exe[0] == '/' && stat(exe, &st) == 0 && st.st_dev == fst->st_dev &&
	    st.st_ino == fst->st_ino) {
		snprintf(out, len, "%s", exe);
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s/content", f->state_dir);
	/* (The daemon's umask is 077: the launcher, running as the user,
	 * must reach the copy.) */
	if ((mkdir(dir, 0755) < 0 && errno != EEXIST) || chmod(dir, 0755) < 0)
		return -errno;
	snprintf(out, len, "%s/%s", dir, sha);
	if (stat(out, &st) == 0 && st.st_size == fst->st_size)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s/.%s.%d", dir, sha, getpid());
	t = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (t < 0)
		return -errno;
	while (off < fst->st_size) {
		ssize_t n = copy_file_range(fd, &off, t, NULL,
					    (size_t)(fst->st_size - off), 0);

		if (n < 0 && (errno == EXDEV || errno == EINVAL ||
			      errno == EOPNOTSUPP)) {
			/* Across file systems (a memfd is on tmpfs). */
			n = sendfile(t, fd, &off, (size_t)(fst->st_size - off));
		}
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
	}
	if (!r && (fchmod(t, 0755) < 0 || fsync(t) < 0))
		r = -errno;
	close(t);
	if (!r && rename(tmp, out) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

/*
 * The content check of a held exec: hash the file the process runs
 * (/proc/PID/exe is that very file, whatever its names: a copy, a hard
 * link, a memfd) and look the digest up. Returns 0 with res->content set,
 * or -errno with res->why.
 */
static int content_check(struct aw_force *f, uint32_t pid,
			 struct force_res *res, char *exe, size_t exe_len)
{
	char p[64], real[PATH_MAX];
	uint8_t sha[32];
	struct stat fst;
	uint64_t t0 = aw_now_boottime_ns();
	int fd, r;
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/%u/exe", pid);
	n = readlink(p, real, sizeof(real) - 1);
	real[n > 0 ? n : 0] = 0;
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &fst) < 0) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		return fail(res, r, "open its executable to hash it: %s",
			    strerror(-r));
	}
	r = aw_content_sha256_fd(fd, sha);
	res->hash_ns = aw_now_boottime_ns() - t0;
	if (r < 0) {
		close(fd);
		return fail(res, r, "hash its executable: %s", strerror(-r));
	}
	aw_hex(sha, 32, res->sha);
	res->dev = aw_kernel_dev(fst.st_dev);
	res->ino = fst.st_ino;
	{
		int gen = 0;

		/* i_generation, part of the kernel's inode key (0 where the
		 * file system has none). */
		if (ioctl(fd, FS_IOC_GETVERSION, &gen) == 0)
			res->gen = (uint32_t)gen;
	}
	res->content = FORCE_CONTENT_RELEASE;
	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < f->n_content; i++) {
		if (f->content[i].size == (uint64_t)fst.st_size &&
		    !memcmp(f->content[i].sha, sha, 32)) {
			res->content = FORCE_CONTENT_AGENT;
			res->sig = f->content[i].sig;
			break;
		}
	}
	pthread_mutex_unlock(&f->lock);
	if (res->content == FORCE_CONTENT_RELEASE) {
		/* Cleared: the next exec of this unchanged file is not
		 * held. */
		struct aw_content_key k = {
		    .dev = aw_kernel_dev(fst.st_dev),
		    .ino = fst.st_ino,
		    .size = (uint64_t)fst.st_size,
		    .ctime_sec = fst.st_ctim.tv_sec,
		    .ctime_nsec = (uint32_t)fst.st_ctim.tv_nsec,
		};

		aw_kernel_content_ok(f->d->kernel, &k);
		close(fd);
		return 0;
	}
	if (aw_kernel_sig_mode(f->d->kernel, res->sig) == AW_MODE_AUDIT) {
		res->content = FORCE_CONTENT_AUDIT;
		close(fd);
		return 0;
	}
	r = content_path(f, fd, &fst, real, res->sha, exe, exe_len);
	close(fd);
	if (r < 0)
		return fail(res, r, "a path to run it from: %s", strerror(-r));
	return 0;
}

/*
 * The launcher runs in the host's view as the user: a library its
 * environment preloads into it (LD_PRELOAD, LD_AUDIT, LD_LIBRARY_PATH, a
 * GCONV_PATH module, ...) would run the parent's code there, outside
 * the session, with the agent's file at hand. So the dynamic loader's
 * and the C library's loading variables in the agent's environment are
 * hidden from it, in place on its stack: the first byte of the name gets
 * its high bit (no longer an LD_ name to the loader); the launcher's init
 * clears it again for the command, which runs with its environment as it
 * was, inside the session (launch.c, loader_env_restore).
 */

static void hide_loader_env(int memfd, uint64_t envp)
{
	for (unsigned i = 0; i < 4096; i++) {
		uint64_t ptr;
		char name[24] = "";

		if (pread(memfd, &ptr, 8, (off_t)(envp + 8 * i)) != 8 || !ptr)
			return;
		if (pread(memfd, name, sizeof(name) - 1, (off_t)ptr) <= 0)
			continue;
		if (!(name[0] & 0x80) && aw_loader_var(name)) {
			name[0] = (char)(name[0] | 0x80);
			if (pwrite(memfd, name, 1, (off_t)ptr) != 1) {
			}
		}
	}
}

/*
 * A seccomp filter the agent inherited (its parent's, kept across exec)
 * sees the launcher's system calls before the kernel runs them. One that
 * answers a call with success without running it (SECCOMP_RET_ERRNO with
 * errno 0), or hands calls to a supervisor that may answer anything
 * (SECCOMP_RET_USER_NOTIF; a return of the accumulator, whose action
 * cannot be read), could make the launcher believe it dropped its
 * capabilities, installed its own filter or restricted itself with
 * Landlock. Such a task is not forced: killed, and the record says why.
 * Container runtimes' and systemd's filters refuse (EPERM, ENOSYS) or
 * kill: they pass. Read with PTRACE_SECCOMP_GET_FILTER while we hold it.
 * 1 and why set if refused, 0 if not (or the kernel cannot say).
 */
static int inherited_filter_fakes(uint32_t pid, char *why, size_t len)
{
	for (unsigned long i = 0; i < 64; i++) {
		long n = ptrace(PTRACE_SECCOMP_GET_FILTER, (pid_t)pid,
				(void *)i, NULL);
		struct sock_filter *prog;

		if (n <= 0 || n > BPF_MAXINSNS)
			return 0; /* no more (ENOENT), none, or unknown */
		prog = calloc((size_t)n, sizeof(*prog));
		if (!prog)
			return 0;
		if (ptrace(PTRACE_SECCOMP_GET_FILTER, (pid_t)pid, (void *)i,
			   prog) != n) {
			free(prog);
			return 0;
		}
		for (long j = 0; j < n; j++) {
			uint32_t k = prog[j].k,
				 act = k & SECCOMP_RET_ACTION_FULL;

			if (BPF_CLASS(prog[j].code) != BPF_RET)
				continue;
			if (BPF_RVAL(prog[j].code) == BPF_A ||
			    act == SECCOMP_RET_USER_NOTIF ||
			    (act == SECCOMP_RET_ERRNO &&
			     !(k & SECCOMP_RET_DATA))) {
				snprintf(
				    why, len,
				    "it inherited a seccomp filter (#%lu of "
				    "its parent's) that can answer system "
				    "calls without running them (%s): its "
				    "launcher could not know its sandbox "
				    "took effect; killed",
				    i + 1,
				    BPF_RVAL(prog[j].code) == BPF_A
					? "a computed action"
				    : act == SECCOMP_RET_USER_NOTIF
					? "a user-space supervisor"
					: "errno 0, a success");
				free(prog);
				return 1;
			}
		}
		free(prog);
	}
	return 0;
}

static int force_one(struct aw_force *f, const struct force_req *q,
		     struct force_res *res)
{
#if defined(__x86_64__)
	struct user_regs_struct regs;
	char p[64], exe[PATH_MAX];
	int pidfd, memfd = -1, status, group_stop, r;
	uint64_t argc, sys_insn, sp, envp, *ptrs = NULL;
	size_t nptr, off, blk_len;
	char *blk = NULL, tcomm[32];
	struct aw_task_state st;
	uint32_t tracer;
	ssize_t n;

	aw_stage("f-seize");
	pidfd = syscall(SYS_pidfd_open, (pid_t)q->pid, 0);
	if (pidfd >= 0 && aw_proc_still(q->pid, q->start_time) != 1) {
		close(pidfd); /* its pid is someone else's now */
		pidfd = -1;
		errno = ESRCH;
	}
	if (pidfd < 0) {
		if (errno == ESRCH)
			return fail(res, -ESRCH,
				    "it ended before the daemon could force it "
				    "(it was killed, or died, while stopped)");
		return fail(res, -errno, "pidfd_open: %s", strerror(errno));
	}
	if (aw_kernel_task_get(f->d->kernel, pidfd, &st) < 0 ||
	    !(st.flags & AW_TASK_FORCING)) {
		r = fail(res, -ESTALE, "it is no longer waiting to be forced");
		goto kill;
	}
	if (st.flags & AW_TASK_FORCE_KILLED) {
		/* The signal hook killed it and said why. */
		res->skip = 1;
		r = fail(res, -ESRCH, "killed by the signal hook");
		goto kill;
	}
	if (ptrace(PTRACE_SEIZE, q->pid, 0,
		   PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD |
		       PTRACE_O_EXITKILL) < 0) {
		/* Already traced (a debugger, or a sandbox of its own) is a
		 * failure to force, not a pass; a tracer that attached after
		 * the exec's stop could also have resumed it. */
		int e = errno;

		tracer = tracer_of(q->pid, tcomm, sizeof(tcomm));
		if (tracer)
			r = fail(
			    res, -e,
			    "traced by pid %u (%s) before the daemon "
			    "could hold it (that tracer could have resumed "
			    "it): killed",
			    tracer, tcomm);
		else
			r = fail(res, -e, "cannot attach: %s: killed",
				 strerror(e));
		goto kill;
	}
	/* Held: from here nothing but us resumes it. Tell the signal hook,
	 * which otherwise kills it on a SIGCONT (a shell's `fg`). */
	if (aw_kernel_task_get(f->d->kernel, pidfd, &st) < 0 ||
	    (st.flags & AW_TASK_FORCE_KILLED)) {
		res->skip = !!(st.flags & AW_TASK_FORCE_KILLED);
		r = fail(res, -ESRCH, "killed by the signal hook");
		goto kill;
	}
	st.flags |= AW_TASK_HELD;
	if (aw_kernel_task_set(f->d->kernel, pidfd, &st) < 0) {
		r = fail(res, -EIO, "could not mark it held");
		goto kill;
	}
	/* The stop it is in (or about to enter): SIGSTOP's delivery, which
	 * we swallow (its parent never sees a stop), or the group stop it
	 * already entered, re-reported to us as an event stop. Other
	 * signals that came first are passed on: no handler exists yet in
	 * the new image, so they do what their default says. */
	for (int i = 0;; i++) {
		r = wait_status(q->pid, pidfd, &status);
		if (r < 0) {
			fail(res, r, "waiting for the stop: %s", strerror(-r));
			goto kill;
		}
		if (!WIFSTOPPED(status)) {
			r = fail(res, -ESRCH, "ended before it was forced");
			goto out;
		}
		group_stop = (status >> 16) == PTRACE_EVENT_STOP;
		res->group_stop = group_stop;
		if (group_stop || WSTOPSIG(status) == SIGSTOP)
			break;
		if (i > 16 || ptrace(PTRACE_CONT, q->pid, 0,
				     (void *)(long)WSTOPSIG(status)) < 0) {
			r = fail(res, -EPROTO, "unexpected stop %#x", status);
			goto kill;
		}
	}

	snprintf(p, sizeof(p), "/proc/%u/exe", q->pid);
	n = readlink(p, exe, sizeof(exe) - 1);
	if (n <= 0) {
		r = fail(res, -errno, "its executable: %s", strerror(errno));
		goto kill;
	}
	exe[n] = 0;
	if (q->content) {
		r = content_check(f, q->pid, res, exe, sizeof(exe));
		if (r < 0)
			goto kill;
		if (res->content == FORCE_CONTENT_AGENT) {
			/* Forced as that agent: the launcher's session
			 * request is checked against this storage. */
			st.agent = res->sig;
			st.flags &= ~AW_TASK_CANDIDATE;
			r = aw_kernel_task_set(f->d->kernel, pidfd, &st);
		} else if (res->content == FORCE_CONTENT_AUDIT) {
			/* An agent whose policy only records: its session
			 * goes on, unconfined, as the path rules would. */
			st.agent = res->sig;
			st.flags &= ~(AW_TASK_CANDIDATE | AW_TASK_FORCING |
				      AW_TASK_HELD);
			r = aw_kernel_task_set(f->d->kernel, pidfd, &st);
		} else {
			/* Not an agent: no session, no state. */
			r = aw_kernel_task_del(f->d->kernel, pidfd);
		}
		if (r < 0) {
			fail(res, r, "update its kernel state: %s",
			     strerror(-r));
			goto kill;
		}
		if (res->content != FORCE_CONTENT_AGENT) {
			/* Let it go, as if never stopped: detaching drops
			 * the SIGSTOP we took; a group stop its parent saw
			 * ends with SIGCONT (harmless now: not FORCING). */
			ptrace(PTRACE_DETACH, q->pid, 0, 0);
			if (group_stop)
				kill((pid_t)q->pid, SIGCONT);
			r = 0;
			goto out;
		}
	}
	{
		char why[256];

		if (inherited_filter_fakes(q->pid, why, sizeof(why))) {
			r = fail(res, -EPERM, "%s", why);
			goto kill;
		}
	}
	snprintf(p, sizeof(p), "/proc/%u/mem", q->pid);
	memfd = open(p, O_RDWR | O_CLOEXEC);
	if (memfd < 0 || ptrace(PTRACE_GETREGS, q->pid, 0, &regs) < 0) {
		r = fail(res, -errno, "its memory: %s", strerror(errno));
		goto kill;
	}
	sys_insn = find_vdso_syscall(q->pid, memfd);
	if (!sys_insn) {
		r = fail(res, -ENOENT, "no syscall instruction in its vDSO");
		goto kill;
	}
	/* The initial stack: argc, argv[argc], NULL, envp..., NULL, auxv. */
	sp = regs.rsp;
	if (pread(memfd, &argc, 8, (off_t)sp) != 8 || argc > FORCE_ARGC_MAX) {
		r = fail(res, -E2BIG, "argument count unreadable or too large");
		goto kill;
	}
	envp = sp + 8 * (argc + 2);
	hide_loader_env(memfd, envp);

	/* New argv: launcher, run, --forced, --exec, EXE, --, then the
	 * original argv pointers; strings first, then the array. */
	{
		const char *words[] = {f->launcher, "--state-dir", f->state_dir,
				       "run",	    "--forced",	   "--exec",
				       exe,	    "--"};
		size_t nw = AW_ARRAY_SIZE(words), slen = 0;
		uint64_t base, arr;

		for (size_t i = 0; i < nw; i++)
			slen += strlen(words[i]) + 1;
		nptr = nw + argc + 1;
		blk_len = ((slen + 15) & ~(size_t)15) + nptr * 8;
		blk = calloc(1, blk_len);
		ptrs = calloc(argc + 1, 8);
		if (!blk || !ptrs) {
			r = fail(res, -ENOMEM, "out of memory");
			goto kill;
		}
		if (argc && pread(memfd, ptrs, 8 * argc, (off_t)(sp + 8)) !=
				(ssize_t)(8 * argc)) {
			r = fail(res, -EIO, "argv unreadable");
			goto kill;
		}
		/* 256 bytes of slack below the old stack pointer, aligned
		 * for the ABI (the launcher's own entry aligns again). */
		base = (sp - 256 - blk_len) & ~(uint64_t)15;
		arr = base + ((slen + 15) & ~(size_t)15);
		off = 0;
		for (size_t i = 0; i < nw; i++) {
			uint64_t a = base + off;

			memcpy(blk + off, words[i], strlen(words[i]) + 1);
			memcpy(blk + (arr - base) + 8 * i, &a, 8);
			off += strlen(words[i]) + 1;
		}
		memcpy(blk + (arr - base) + 8 * nw, ptrs, 8 * argc);
		/* (calloc left the terminating NULL pointer.) */
		if (pwrite(memfd, blk, blk_len, (off_t)base) !=
		    (ssize_t)blk_len) {
			r = fail(res, -errno, "write below its stack: %s",
				 strerror(errno));
			goto kill;
		}
		regs.rip = sys_insn;
		regs.rax = SYS_execve;
		regs.orig_rax = (unsigned long long)-1; /* no restart */
		regs.rdi = base;			/* launcher path */
		regs.rsi = arr;
		regs.rdx = envp;
		regs.rsp = base;
	}
	if (ptrace(PTRACE_SETREGS, q->pid, 0, &regs) < 0) {
		r = fail(res, -errno, "set registers: %s", strerror(errno));
		goto kill;
	}
	/* A group stop already seen by its parent ends with SIGCONT, as
	 * if the user had continued it. */
	if (group_stop)
		kill((pid_t)q->pid, SIGCONT);
	if (ptrace(PTRACE_SYSCALL, q->pid, 0, 0) < 0) {
		r = fail(res, -errno, "resume: %s", strerror(errno));
		goto kill;
	}
	for (int i = 0; i < 8; i++) {
		r = wait_status(q->pid, pidfd, &status);
		if (r < 0 || !WIFSTOPPED(status)) {
			fail(res, r < 0 ? r : -ESRCH, "lost during re-exec");
			goto kill;
		}
		if ((status >> 16) == PTRACE_EVENT_EXEC) {
			/* The launcher image is in place: let it go. */
			ptrace(PTRACE_DETACH, q->pid, 0, 0);
			aw_stage("f-exec");
			r = 0;
			goto out;
		}
		if (WSTOPSIG(status) == (SIGTRAP | 0x80)) {
			struct user_regs_struct now;

			/* Syscall stops: entry, then (only on failure) an
			 * exit without an exec event. */
			if (ptrace(PTRACE_GETREGS, q->pid, 0, &now) == 0 &&
			    (long long)now.rax < 0 &&
			    (long long)now.rax != -ENOSYS) {
				fail(res, (int)now.rax,
				     "execve of the launcher %s failed: %s",
				     f->launcher, strerror(-(int)now.rax));
				goto kill;
			}
			ptrace(PTRACE_SYSCALL, q->pid, 0, 0);
			continue;
		}
		/* SIGCONT (ours) is swallowed; anything else is passed. */
		ptrace(PTRACE_SYSCALL, q->pid, 0,
		       WSTOPSIG(status) == SIGCONT
			   ? NULL
			   : (void *)(long)WSTOPSIG(status));
	}
	fail(res, -EPROTO, "no exec event");
kill:
	/* Fail closed: it has run none of its own code; it never will. */
	syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	reap_killed(q->pid);
	r = res->err;
out:
	free(blk);
	free(ptrs);
	if (memfd >= 0)
		close(memfd);
	close(pidfd);
	return r;
#else
	kill((pid_t)q->pid, SIGKILL);
	return fail(res, -EOPNOTSUPP,
		    "forcing is implemented for x86_64 only: killed");
#endif
}

/* Requests read ahead of the one being forced (a burst of execs). */
#define FORCE_QUEUE 64

/*
 * Which waiting request goes next: one classified by path or inode before
 * any content check. Hashing a file of a known agent binary's size takes
 * up to a second (Codex's 315 MB), and anyone can make such files: an
 * agent queued behind them would wait that long unheld (the window in
 * which a parent's PTRACE_SEIZE could run it, docs/sandbox.md). The stop
 * request (pid 0) goes last.
 */
static size_t force_pick(const struct force_req *queue, size_t n)
{
	size_t pick = n;

	for (size_t i = 0; i < n; i++) {
		if (queue[i].pid && !queue[i].content)
			return i;
		if (queue[i].pid && pick == n)
			pick = i;
	}
	return pick == n ? 0 : pick;
}

static void *force_thread(void *arg)
{
	struct aw_force *f = arg;
	struct force_req queue[FORCE_QUEUE], q;
	size_t n = 0;

	for (;;) {
		struct force_res res;
		uint64_t t0;
		size_t i;

		/* The first blocking, then whatever else is waiting. */
		if (!n) {
			if (read(f->req[0], &queue[0], sizeof(queue[0])) !=
			    sizeof(queue[0]))
				break;
			n = 1;
		}
		while (n < FORCE_QUEUE) {
			struct pollfd pf = {.fd = f->req[0], .events = POLLIN};

			if (poll(&pf, 1, 0) != 1 ||
			    read(f->req[0], &queue[n], sizeof(queue[n])) !=
				sizeof(queue[n]))
				break;
			n++;
		}
		i = force_pick(queue, n);
		q = queue[i];
		memmove(&queue[i], &queue[i + 1], (n - i - 1) * sizeof(q));
		n--;
		if (q.pid == 0)
			break; /* stop request */
		res = (struct force_res){.pid = q.pid,
					 .session = q.session,
					 .start_time = q.start_time};
		t0 = aw_now_boottime_ns();
		/* The launcher's file as it is now (a package upgrade
		 * replaces it): the one the task may exec (aw_launcher). */
		if (f->d->kernel)
			aw_kernel_set_launcher(f->d->kernel, f->launcher);
		force_one(f, &q, &res);
		res.latency_ns = aw_now_boottime_ns() - t0;
		if (write(f->res[1], &res, sizeof(res)) != sizeof(res))
			break;
	}
	return NULL;
}

int aw_force_start(struct aw_daemon *d, struct aw_force **ret)
{
	struct aw_force *f = calloc(1, sizeof(*f));
	sigset_t all, old;
	int r;

	if (!f)
		return -ENOMEM;
	f->d = d;
	pthread_mutex_init(&f->lock, NULL);
	snprintf(f->launcher, sizeof(f->launcher), "%s", d->opts.launcher);
	if (d->kernel)
		aw_kernel_set_launcher(d->kernel, f->launcher);
	snprintf(f->state_dir, sizeof(f->state_dir), "%s", d->opts.socket_path);
	if (strrchr(f->state_dir, '/'))
		*strrchr(f->state_dir, '/') = 0;
	if (pipe2(f->req, O_CLOEXEC) < 0) {
		free(f);
		return -errno;
	}
	if (pipe2(f->res, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = -errno;
		close(f->req[0]);
		close(f->req[1]);
		free(f);
		return r;
	}
	/* The tracer thread takes no signals: the event loop's signalfd
	 * gets them. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = -pthread_create(&f->thread, NULL, force_thread, f);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		close(f->req[0]);
		close(f->req[1]);
		close(f->res[0]);
		close(f->res[1]);
		free(f);
		return r;
	}
	f->running = 1;
	*ret = f;
	return 0;
}

void aw_force_set_content(struct aw_force *f, struct aw_content_ent *ents,
			  size_t n)
{
	struct aw_content_ent *old;

	pthread_mutex_lock(&f->lock);
	old = f->content;
	f->content = ents;
	f->n_content = n;
	pthread_mutex_unlock(&f->lock);
	free(old);
}

void aw_force_request(struct aw_force *f, uint32_t pid, uint64_t start_time,
		      uint64_t session, int content)
{
	struct force_req q = {.pid = pid,
			      .content = !!content,
			      .start_time = start_time,
			      .session = session};

	aw_stage("f-request");
	/* A request that cannot be queued leaves the agent stopped, not
	 * running: still closed. Say so. */
	if (write(f->req[1], &q, sizeof(q)) != sizeof(q))
		aw_events_emit_decision(f->d, "force", session, pid, NULL,
					"force/queue", "deny",
					"\"detail\":\"could not queue the "
					"forcing request: left stopped\"");
}

int aw_force_fd(struct aw_force *f)
{
	return f->res[0];
}

void aw_force_collect(struct aw_daemon *d)
{
	struct force_res res;

	while (read(d->force->res[0], &res, sizeof(res)) == sizeof(res)) {
		struct aw_buf x = {};
		const char *rule, *decision;

		res.why[sizeof(res.why) - 1] = 0;
		res.sha[sizeof(res.sha) - 1] = 0;
		if (res.skip)
			continue; /* the signal hook's record says it all */
		if (res.err == -ESRCH &&
		    aw_daemon_was_killed_forcing(d, res.pid, res.start_time))
			continue; /* killed while it waited, and recorded */
		if (res.content == FORCE_CONTENT_AGENT ||
		    res.content == FORCE_CONTENT_AUDIT) {
			aw_events_content_session(d, res.pid, res.start_time,
						  res.sig, res.sha);
			/* The next exec of this very file is classified by
			 * its identity, without a hold or a hash. */
			aw_daemon_learn_inode_sig(d, res.dev, res.ino, res.gen,
						  res.sig);
		} else if (res.content == FORCE_CONTENT_RELEASE)
			aw_events_content_released(d, res.pid, res.start_time);
		if (res.content == FORCE_CONTENT_RELEASE ||
		    res.content == FORCE_CONTENT_AUDIT) {
			if (!d->opts.quiet)
				fprintf(
				    stderr,
				    "agentwalld: pid %u: content checked "
				    "in %llu ms (sha256 %s): %s\n",
				    res.pid,
				    (unsigned long long)(res.hash_ns / 1000000),
				    res.sha,
				    res.content == FORCE_CONTENT_AUDIT
					? "an agent in audit mode"
					: "not an agent, released");
			continue;
		}
		aw_buf_printf(&x, "\"latency_us\":%llu,\"stop\":\"%s\"",
			      (unsigned long long)(res.latency_ns / 1000),
			      res.group_stop ? "group" : "signal");
		if (res.content == FORCE_CONTENT_AGENT)
			aw_buf_printf(&x, ",\"sha256\":\"%s\",\"hash_us\":%llu",
				      res.sha,
				      (unsigned long long)(res.hash_ns / 1000));
		if (res.err) {
			aw_buf_puts(&x, ",");
			aw_json_key(&x, "detail");
			aw_json_cstr(&x, res.why);
		}
		aw_buf_add(&x, "", 1);
		rule = res.err ? "force/failed" : "force/launcher";
		decision = res.err ? "deny" : "sandbox";
		aw_events_emit_decision(d, "force", res.session, res.pid,
					d->opts.launcher, rule, decision,
					x.oom ? NULL : x.data);
		aw_buf_free(&x);
	}
}

void aw_force_stop(struct aw_force *f)
{
	struct force_req q = {};

	if (!f)
		return;
	if (f->running) {
		if (write(f->req[1], &q, sizeof(q)) == sizeof(q))
			pthread_join(f->thread, NULL);
	}
	close(f->req[0]);
	close(f->req[1]);
	close(f->res[0]);
	close(f->res[1]);
	free(f->content);
	pthread_mutex_destroy(&f->lock);
	free(f);
}
