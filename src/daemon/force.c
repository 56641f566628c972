// SPDX-License-Identifier: GPL-2.0-only
/*
 * Forced containment: an agent that exec'd outside any session in enforce
 * mode was stopped by the exec hook before its first instruction (see
 * force_check() in bpf/agentwall.bpf.c). Here it is re-executed through
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

#include "daemon/daemon.h"
#include "shared/util.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define FORCE_WAIT_MS 3000
#define FORCE_POLLS (FORCE_WAIT_MS * 10) /* every 100 us */
#define FORCE_ARGC_MAX 8192 /* pointers copied below the stack pointer */

struct force_req {
	uint32_t pid;
	uint32_t _pad;
	uint64_t start_time;
	uint64_t session;
};

struct force_res {
	uint32_t pid;
	int err; /* 0: forced; <0: failed, the process was killed */
	uint64_t session;
	uint64_t latency_ns; /* request to detach */
	int group_stop;	     /* its parent saw it stopped (and continued) */
	char why[200];
};

struct aw_force {
	struct aw_daemon *d;
	pthread_t thread;
	int req[2], res[2];
	char launcher[PATH_MAX];
	char state_dir[PATH_MAX]; /* where the launcher finds our socket */
	int running;
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

static int force_one(struct aw_force *f, const struct force_req *q,
		     struct force_res *res)
{
#if defined(__x86_64__)
	struct user_regs_struct regs;
	char p[64], exe[PATH_MAX];
	int pidfd, memfd = -1, status, group_stop, r;
	uint64_t argc, sys_insn, sp, envp, *ptrs = NULL;
	size_t nptr, off, blk_len;
	char *blk = NULL;
	ssize_t n;

	pidfd = syscall(SYS_pidfd_open, (pid_t)q->pid, 0);
	if (pidfd < 0)
		return fail(res, -errno, "pidfd_open: %s", strerror(errno));
	if (ptrace(PTRACE_SEIZE, q->pid, 0,
		   PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD |
		       PTRACE_O_EXITKILL) < 0) {
		/* Already traced (a debugger, or a sandbox of its own) is a
		 * failure to force, not a pass. */
		r = fail(res, -errno, "cannot attach: %s", strerror(errno));
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

static void *force_thread(void *arg)
{
	struct aw_force *f = arg;
	struct force_req q;

	while (read(f->req[0], &q, sizeof(q)) == sizeof(q)) {
		struct force_res res = {.pid = q.pid, .session = q.session};
		uint64_t t0 = aw_now_boottime_ns();

		if (q.pid == 0)
			break; /* stop request */
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
	snprintf(f->launcher, sizeof(f->launcher), "%s", d->opts.launcher);
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

void aw_force_request(struct aw_force *f, uint32_t pid, uint64_t start_time,
		      uint64_t session)
{
	struct force_req q = {
	    .pid = pid, .start_time = start_time, .session = session};

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

		res.why[sizeof(res.why) - 1] = 0;
		aw_buf_printf(&x, "\"latency_us\":%llu,\"stop\":\"%s\"",
			      (unsigned long long)(res.latency_ns / 1000),
			      res.group_stop ? "group" : "signal");
		if (res.err) {
			aw_buf_puts(&x, ",");
			aw_json_key(&x, "detail");
			aw_json_cstr(&x, res.why);
		}
		aw_buf_add(&x, "", 1);
		aw_events_emit_decision(
		    d, "force", res.session, res.pid, d->opts.launcher,
		    res.err ? "force/failed" : "force/launcher",
		    res.err ? "deny" : "sandbox", x.oom ? NULL : x.data);
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
	free(f);
}
