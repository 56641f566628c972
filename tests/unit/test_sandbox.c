// SPDX-License-Identifier: GPL-2.0-only
/*
 * The sandbox primitives against the real kernel: each test forks, the
 * child narrows itself with the primitive and checks what the kernel then
 * refuses (and what it still allows); the parent checks the child's exit
 * and, for notifications, plays the supervisor. A failed check in a child
 * prints file:line and the call's result and exits 1; an alarm ends a
 * child that hangs.
 *
 * Calls that would change the machine if the filter failed to stop them
 * (we run as root) are made with arguments the kernel rejects anyway
 * (a missing path, a bad magic number, an over-long name).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/filter.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/sched.h>

#include "sandbox/landlock.h"
#include "sandbox/seccomp.h"
#include "shared/util.h"

#define CHILD_TIMEOUT 20 /* seconds */
#define MISSING "/nonexistent-aw-test-path"
#define NR_OPEN_TREE_ATTR 467

/* ---- child-side checks ---------------------------------------------- */

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);        \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			_exit(1);                                              \
		}                                                              \
	} while (0)

/* The call must fail with errno e. */
#define FAILS(e, call)                                                         \
	do {                                                                   \
		long _r;                                                       \
		int _e;                                                        \
		errno = 0;                                                     \
		_r = (long)(call);                                             \
		_e = errno;                                                    \
		CHECK(_r == -1 && _e == (e),                                   \
		      "%s: returned %ld (%s), expected %s", #call, _r,         \
		      strerror(_e), strerror(e));                              \
	} while (0)

/* The call must not fail with EPERM or ENOSYS (i.e. the filter let it
 * through; the kernel may still refuse the arguments). */
#define PASSES(call)                                                           \
	do {                                                                   \
		long _r;                                                       \
		int _e;                                                        \
		errno = 0;                                                     \
		_r = (long)(call);                                             \
		_e = errno;                                                    \
		CHECK(_r >= 0 || (_e != EPERM && _e != ENOSYS),                \
		      "%s: returned %ld (%s), expected it through", #call, _r, \
		      strerror(_e));                                           \
	} while (0)

#define SUCCEEDS(call)                                                         \
	do {                                                                   \
		long _r;                                                       \
		errno = 0;                                                     \
		_r = (long)(call);                                             \
		CHECK(_r >= 0, "%s: %s", #call, strerror(errno));              \
	} while (0)

/* cmocka catches crash signals and jumps back into its runner: in a
 * child that would run the rest of the suite a second time. A child dies
 * of its signals like any process, and of an alarm if it hangs. */
static void child_init(void)
{
	static const int sigs[] = {SIGSEGV, SIGBUS,  SIGILL,
				   SIGFPE,  SIGABRT, SIGSYS};

	for (size_t i = 0; i < AW_ARRAY_SIZE(sigs); i++)
		signal(sigs[i], SIG_DFL);
	alarm(CHILD_TIMEOUT);
}

/* Run fn in a child; return its wait status. */
static int run_child(void (*fn)(void *), void *arg)
{
	pid_t pid;
	int st;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		child_init();
		fn(arg);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void assert_exit_ok(int st)
{
	if (WIFSIGNALED(st))
		print_error("child killed by signal %d (%s)\n", WTERMSIG(st),
			    strsignal(WTERMSIG(st)));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void install(uint32_t allow)
{
	char why[256] = "";
	int r = aw_seccomp_install(allow, 0, NULL, why, sizeof(why));

	CHECK(r == 0, "aw_seccomp_install: %s (%s)", strerror(-r), why);
}

/* A raw clone/clone3 that the filter should stop. If it went through,
 * the new process must not run the rest of the test. */
static long raw_clone(unsigned long flags)
{
	long r = syscall(__NR_clone, flags, 0, NULL, NULL, 0);

	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid(r, NULL, __WALL);
	return r;
}

static long raw_clone3(uint64_t flags)
{
	struct clone_args ca = {.flags = flags, .exit_signal = SIGCHLD};
	long r = syscall(__NR_clone3, &ca, sizeof(ca));

	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid(r, NULL, 0);
	return r;
}

static void *thread_fn(void *arg)
{
	*(int *)arg = 42;
	return NULL;
}

struct pty {
	int master, slave;
};

static void open_pty(struct pty *p)
{
	p->master = posix_openpt(O_RDWR | O_NOCTTY);
	CHECK(p->master >= 0, "posix_openpt: %s", strerror(errno));
	CHECK(grantpt(p->master) == 0 && unlockpt(p->master) == 0,
	      "grantpt: %s", strerror(errno));
	p->slave = open(ptsname(p->master), O_RDWR | O_NOCTTY);
	CHECK(p->slave >= 0, "open pts: %s", strerror(errno));
}

/* ---- seccomp ----------------------------------------------------------- */

static void child_deny_all(void *arg)
{
	char buf[8] = "", big[1000];
	long word = 1;
	struct iovec local = {buf, sizeof(buf)}, remote = {&word, sizeof(word)};
	struct pty pty;
	struct timex tx = {.modes = 0};
	struct termios tio;
	pthread_t th;
	int got = 0, st;
	pid_t pid;
	char c = 'x';

	memset(big, 'a', sizeof(big));
	open_pty(&pty); /* before: posix_openpt is not ours to test */
	install(0);

	/* ptrace, process-vm */
	FAILS(EPERM, ptrace(PTRACE_TRACEME, 0, NULL, NULL));
	FAILS(EPERM, process_vm_readv(getppid(), &local, 1, &remote, 1, 0));
	FAILS(EPERM, process_vm_writev(getppid(), &local, 1, &remote, 1, 0));
	FAILS(EPERM, syscall(__NR_pidfd_getfd, -1, 0, 0));
	/* io-uring */
	FAILS(EPERM, syscall(__NR_io_uring_setup, 1, NULL));
	FAILS(EPERM, syscall(__NR_io_uring_enter, -1, 0, 0, 0, NULL, 0));
	FAILS(EPERM, syscall(__NR_io_uring_register, -1, 0, NULL, 0));
	/* keyring: KEYCTL_GET_KEYRING_ID of the session keyring */
	FAILS(EPERM, syscall(__NR_keyctl, 0, -3, 0));
	FAILS(EPERM, syscall(__NR_add_key, "user", "aw", "x", 1, -3));
	FAILS(EPERM, syscall(__NR_request_key, "user", "aw", NULL, 0));
	/* bpf, perf */
	FAILS(EPERM, syscall(__NR_bpf, 0, NULL, 0));
	FAILS(EPERM, syscall(__NR_perf_event_open, NULL, 0, -1, -1, 0));
	/* mount */
	FAILS(EPERM, mount("none", MISSING, "tmpfs", 0, NULL));
	FAILS(EPERM, umount2(MISSING, 0));
	FAILS(EPERM, chroot(MISSING));
	FAILS(EPERM, syscall(__NR_pivot_root, MISSING, MISSING));
	FAILS(EPERM, syscall(__NR_fsopen, "tmpfs", 0));
	FAILS(EPERM, syscall(__NR_fsconfig, -1, 0, NULL, NULL, 0));
	FAILS(EPERM, syscall(__NR_fsmount, -1, 0, 0));
	FAILS(EPERM, syscall(__NR_fspick, -1, MISSING, 0));
	FAILS(EPERM, syscall(__NR_open_tree, -1, MISSING, 0));
	FAILS(EPERM, syscall(NR_OPEN_TREE_ATTR, -1, MISSING, 0, NULL, 0));
	FAILS(EPERM, syscall(__NR_move_mount, -1, MISSING, -1, MISSING, 0));
	FAILS(EPERM, syscall(__NR_mount_setattr, -1, MISSING, 0, NULL, 0));
	/* namespaces */
	FAILS(EPERM, unshare(CLONE_NEWUSER));
	FAILS(EPERM, unshare(CLONE_NEWNS));
	FAILS(EPERM, unshare(CLONE_NEWNET));
	FAILS(EPERM, unshare(0x00000080 /* CLONE_NEWTIME */));
	FAILS(EPERM, raw_clone(CLONE_NEWUSER | SIGCHLD));
	FAILS(EPERM, raw_clone(CLONE_NEWPID | SIGCHLD));
	/* The flag in the high half of the argument is ignored by the
	 * kernel's clone(): still caught (the mask is on the low bits). */
	FAILS(EPERM, raw_clone(0xdead000000000000ull | CLONE_NEWNS | SIGCHLD));
	FAILS(EPERM, setns(-1, 0));
	FAILS(ENOSYS, raw_clone3(0));
	FAILS(ENOSYS, raw_clone3(CLONE_NEWUSER));
	SUCCEEDS(unshare(CLONE_FILES)); /* no namespace flag */
	/* fork, threads, raw clone without namespace flags */
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0)
		_exit(7);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		  WEXITSTATUS(st) == 7,
	      "forked child did not exit 7");
	CHECK(pthread_create(&th, NULL, thread_fn, &got) == 0,
	      "pthread_create failed");
	pthread_join(th, NULL);
	CHECK(got == 42, "thread did not run");
	SUCCEEDS(raw_clone(SIGCHLD));
	/* modules, kexec, handles */
	FAILS(EPERM, syscall(__NR_init_module, NULL, 0, ""));
	FAILS(EPERM, syscall(__NR_finit_module, -1, "", 0));
	FAILS(EPERM, syscall(__NR_delete_module, "aw_nonexistent", O_NONBLOCK));
	FAILS(EPERM, syscall(__NR_kexec_load, 0, 0, NULL, 0xdead0000ul));
	FAILS(EPERM, syscall(__NR_kexec_file_load, -1, -1, 0, NULL, 0));
	FAILS(EPERM, syscall(__NR_open_by_handle_at, AT_FDCWD, NULL, 0));
	/* tiocsti: injection refused, also with junk in the high bits;
	 * other terminal ioctls work */
	FAILS(EPERM, ioctl(pty.slave, TIOCSTI, &c));
	FAILS(EPERM, syscall(__NR_ioctl, pty.slave,
			     0xdead000000000000ull | TIOCSTI, &c));
	FAILS(EPERM, ioctl(pty.slave, TIOCLINUX, &c));
	SUCCEEDS(tcgetattr(pty.slave, &tio));
	/* userfaultfd, fanotify */
	FAILS(EPERM, syscall(__NR_userfaultfd, 0));
	FAILS(EPERM, syscall(__NR_fanotify_init, 0, 0));
	/* system */
	FAILS(EPERM, syscall(__NR_reboot, 0, 0, 0, NULL)); /* bad magic */
	FAILS(EPERM, syscall(__NR_swapon, MISSING, 0));
	FAILS(EPERM, syscall(__NR_swapoff, MISSING));
	FAILS(EPERM, klogctl(10 /* SIZE_BUFFER */, NULL, 0));
	FAILS(EPERM, acct(MISSING));
	FAILS(EPERM, syscall(__NR_settimeofday, NULL, NULL));
	FAILS(EPERM, syscall(__NR_clock_settime, CLOCK_REALTIME, NULL));
	FAILS(EPERM, sethostname(big, sizeof(big)));
	FAILS(EPERM, setdomainname(big, sizeof(big)));
	FAILS(EPERM, syscall(__NR_quotactl, 0, NULL, 0, NULL));
	FAILS(EPERM, syscall(__NR_quotactl_fd, -1, 0, 0, NULL));
	FAILS(EPERM, syscall(__NR_iopl, 0));
	FAILS(EPERM, syscall(__NR_ioperm, 0, 0, 0));
	FAILS(EPERM, syscall(__NR_lookup_dcookie, 0, NULL, 0));
	FAILS(EPERM, syscall(__NR_nfsservctl, 0, NULL, NULL));
	setsid(); /* no controlling terminal: vhangup could hang up none */
	FAILS(EPERM, vhangup());
	/* personality: PER_LINUX and the query pass, any flag does not */
	SUCCEEDS(personality(PER_LINUX));
	SUCCEEDS(personality(0xffffffff));
	SUCCEEDS(syscall(__NR_personality, 0x100000000ull)); /* = PER_LINUX */
	FAILS(EPERM, personality(READ_IMPLIES_EXEC));
	FAILS(EPERM, personality(ADDR_NO_RANDOMIZE));
	FAILS(EPERM, personality(PER_LINUX32));
	FAILS(EPERM, personality(0x7fffffff));
	FAILS(EPERM, personality(0xfffffffe));
	FAILS(EPERM, syscall(__NR_personality,
			     0xffffffff00000000ull | MMAP_PAGE_ZERO));
	/* reading the clock's state stays allowed */
	SUCCEEDS(adjtimex(&tx));
	SUCCEEDS(getpid());
	(void)arg;
}

static void test_seccomp_deny_all(void **state)
{
	assert_exit_ok(run_child(child_deny_all, NULL));
}

static void child_allow(void *arg)
{
	install(1u << AW_SC_PTRACE | 1u << AW_SC_NAMESPACES);
	/* Through to the kernel, which finds no such process (TRACEME would
	 * make the test runner our tracer). */
	FAILS(ESRCH, ptrace(PTRACE_PEEKUSER, 0x3fffffff, NULL, NULL));
	/* clone3 goes through when namespaces are allowed */
	SUCCEEDS(raw_clone3(0));
	PASSES(unshare(CLONE_NEWUSER));
	FAILS(EPERM, syscall(__NR_bpf, 0, NULL, 0));
	FAILS(EPERM, syscall(__NR_keyctl, 0, -3, 0));
	(void)arg;
}

static void test_seccomp_allow_mask(void **state)
{
	assert_exit_ok(run_child(child_allow, NULL));
}

static void child_allow_all(void *arg)
{
	install(AW_SC_ALL_GROUPS);
	PASSES(syscall(__NR_bpf, 0, NULL, 0));
	PASSES(syscall(__NR_keyctl, 0, -3, 0));
	PASSES(personality(READ_IMPLIES_EXEC));
	SUCCEEDS(personality(PER_LINUX));
	(void)arg;
}

static void test_seccomp_allow_all(void **state)
{
	assert_exit_ok(run_child(child_allow_all, NULL));
}

/* A program made in one process (the daemon), carried as hex and
 * installed in another (the session's init): the same decisions. */
static void child_handed(void *arg)
{
	const char *hex = arg;
	size_t n = strlen(hex) / (2 * sizeof(struct sock_filter));
	struct sock_filter *insns = calloc(n, sizeof(*insns));
	char why[256] = "";
	int r;

	CHECK(insns && aw_unhex(hex, n * sizeof(*insns), insns) == 0, "unhex");
	CHECK(aw_seccomp_install_program(insns, 0, 0, NULL, why, sizeof(why)) ==
		  -E2BIG,
	      "an empty program is refused");
	CHECK(aw_seccomp_install_program(insns, BPF_MAXINSNS + 1, 0, NULL, why,
					 sizeof(why)) == -E2BIG,
	      "an oversized program is refused");
	r = aw_seccomp_install_program(insns, n, 0, NULL, why, sizeof(why));
	CHECK(r == 0, "install: %s (%s)", strerror(-r), why);
	FAILS(EPERM, syscall(__NR_bpf, 0, NULL, 0));
	FAILS(EPERM, syscall(__NR_keyctl, 0, -3, 0));
	FAILS(EPERM, unshare(CLONE_NEWUSER));
	PASSES(syscall(__NR_personality, PER_LINUX));
	SUCCEEDS(getpid());
	free(insns);
}

static void test_seccomp_program_handed(void **state)
{
	struct sock_filter *insns = NULL;
	size_t n = 0;
	char *hex;

	assert_int_equal(aw_seccomp_program(0, 0, &insns, &n, NULL, 0), 0);
	assert_true(n > 0 && n <= BPF_MAXINSNS);
	hex = malloc(n * sizeof(*insns) * 2 + 1);
	assert_non_null(hex);
	aw_hex(insns, n * sizeof(*insns), hex);
	assert_exit_ok(run_child(child_handed, hex));
	/* Not hex, or not whole: refused, nothing written. */
	hex[3] = 'g';
	assert_int_equal(aw_unhex(hex, n * sizeof(*insns), insns), -EINVAL);
	assert_int_equal(aw_unhex("abc", 2, insns), -EINVAL);
	free(hex);
	free(insns);
	(void)state;
}

static int wait_fd;

/* Returns the errno of its ptrace() (0 if it went through). */
static void *thread_wait_ptrace(void *arg)
{
	char b;

	/* Filtered by TSYNC while it waited. */
	if (read(wait_fd, &b, 1) != 1)
		return (void *)-1L;
	errno = 0;
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0)
		return NULL;
	return (void *)(long)errno;
}

static void child_tsync(void *arg)
{
	int p[2], fd = -1, r;
	char why[256] = "";
	pthread_t th;
	void *ret;

	CHECK(pipe(p) == 0, "pipe");
	wait_fd = p[0];
	CHECK(pthread_create(&th, NULL, thread_wait_ptrace, NULL) == 0,
	      "pthread_create");
	/* With a listener too: TSYNC and NEW_LISTENER together. */
	r = aw_seccomp_install(0, *(int *)arg, &fd, why, sizeof(why));
	CHECK(r == 0, "install: %s (%s)", strerror(-r), why);
	if (fd >= 0)
		close(fd); /* no supervisor: the thread gets ENOSYS */
	CHECK(write(p[1], "g", 1) == 1, "write");
	pthread_join(th, &ret);
	CHECK((long)ret == (*(int *)arg ? ENOSYS : EPERM),
	      "thread's ptrace: %ld, not the filter's errno", (long)ret);
}

static void test_seccomp_tsync(void **state)
{
	int notify = 0;

	assert_exit_ok(run_child(child_tsync, &notify));
	notify = 1;
	assert_exit_ok(run_child(child_tsync, &notify));
}

static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
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
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &m, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	char byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = cbuf,
			   .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &m, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&m);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* Child of the notify test: hands the listener to the parent (it must
 * not keep it: it would be answering itself), then makes denied calls.
 * Each one waits until the parent answers EPERM. */
static void child_notify(int sock)
{
	char why[256] = "";
	struct pty pty;
	char c = 'x';
	int fd = -1, r;

	open_pty(&pty);
	r = aw_seccomp_install(0, 1, &fd, why, sizeof(why));
	CHECK(r == 0, "install: %s (%s)", strerror(-r), why);
	CHECK(send_fd(sock, fd) == 0, "send_fd: %s", strerror(errno));
	close(fd);
	/* ENOSYS straight from the filter: the parent sees nothing. */
	FAILS(ENOSYS, raw_clone3(0));
	FAILS(EPERM, ptrace(PTRACE_TRACEME, 0, NULL, NULL));
	FAILS(EPERM, unshare(CLONE_NEWUSER));
	FAILS(EPERM, ioctl(pty.slave, TIOCSTI, &c));
	/* not trapped at all */
	SUCCEEDS(unshare(CLONE_FILES));
	SUCCEEDS(personality(PER_LINUX));
	FAILS(EPERM, personality(READ_IMPLIES_EXEC));
}

static void expect_denial(int fd, pid_t pid, int group, const char *name)
{
	struct aw_seccomp_denial d;
	int r = aw_seccomp_answer(fd, &d);

	if (r != 0)
		print_error("aw_seccomp_answer: %s\n", strerror(-r));
	assert_int_equal(r, 0);
	assert_int_equal(d.pid, pid);
	assert_int_equal(d.arch, AUDIT_ARCH_X86_64);
	assert_string_equal(d.syscall, name);
	assert_int_equal(d.group, group);
}

static void test_seccomp_notify(void **state)
{
	struct aw_seccomp_denial d;
	int sv[2], fd, st;
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		child_init();
		close(sv[0]);
		child_notify(sv[1]);
		_exit(0);
	}
	close(sv[1]);
	alarm(CHILD_TIMEOUT * 2); /* a hung supervisor fails the test */
	fd = recv_fd(sv[0]);
	close(sv[0]);
	assert_true(fd >= 0);
	expect_denial(fd, pid, AW_SC_PTRACE, "ptrace");
	expect_denial(fd, pid, AW_SC_NAMESPACES, "unshare");
	expect_denial(fd, pid, AW_SC_TIOCSTI, "ioctl");
	expect_denial(fd, pid, AW_SC_SYSTEM, "personality");
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_exit_ok(st);
	/* The child is gone and reaped: nothing can arrive, and the wait
	 * must say so instead of blocking. */
	assert_int_equal(aw_seccomp_answer(fd, &d), -ESRCH);
	alarm(0);
	close(fd);
}

/* The caller dies while its notification is pending: the supervisor
 * neither blocks nor answers a call that no longer exists. */
static void test_seccomp_notify_caller_dies(void **state)
{
	struct aw_seccomp_denial d;
	struct pollfd p;
	int sv[2], fd, st, r;
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char why[256];
		int nfd = -1;

		child_init();
		close(sv[0]);
		if (aw_seccomp_install(0, 1, &nfd, why, sizeof(why)) ||
		    send_fd(sv[1], nfd))
			_exit(1);
		close(nfd);
		ptrace(PTRACE_TRACEME, 0, NULL, NULL); /* waits */
		_exit(2);
	}
	close(sv[1]);
	alarm(CHILD_TIMEOUT * 2);
	fd = recv_fd(sv[0]);
	close(sv[0]);
	assert_true(fd >= 0);
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, CHILD_TIMEOUT * 1000), 1);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	r = aw_seccomp_answer(fd, &d);
	assert_int_equal(r, -ESRCH);
	alarm(0);
	close(fd);
}

static void child_no_supervisor(void *arg)
{
	char why[256] = "";
	int fd = -1, r;

	r = aw_seccomp_install(0, 1, &fd, why, sizeof(why));
	CHECK(r == 0, "install: %s (%s)", strerror(-r), why);
	close(fd);
	/* Fail-closed: denied, with the kernel's ENOSYS. */
	FAILS(ENOSYS, ptrace(PTRACE_TRACEME, 0, NULL, NULL));
	FAILS(ENOSYS, unshare(CLONE_NEWUSER));
	FAILS(ENOSYS, raw_clone3(0));
	SUCCEEDS(getpid());
	(void)arg;
}

static void test_seccomp_no_supervisor(void **state)
{
	assert_exit_ok(run_child(child_no_supervisor, NULL));
}

#ifdef __x86_64__
/* An i386 system call from a 64-bit process. */
static long int80(long nr, long a1)
{
	long ret;

	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a1), "c"(0), "d"(0)
			 : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

static void child_int80(void *arg)
{
	long r;

	install(*(uint32_t *)arg);
	r = int80(26, 0); /* i386 ptrace(PTRACE_TRACEME) */
	CHECK(r == -EPERM, "int 0x80 ptrace returned %ld", r);
}

static void child_int80_getpid(void *arg)
{
	long r;

	install(*(uint32_t *)arg);
	r = int80(20, 0); /* i386 getpid: harmless, still another arch */
	CHECK(r == -EPERM, "int 0x80 getpid returned %ld", r);
}

static void child_x32(void *arg)
{
	long r;

	install(0);
	r = syscall(0x40000000 | __NR_getpid); /* x32 getpid */
	CHECK(r == -1 && errno == EPERM, "x32 getpid returned %ld", r);
	(void)arg;
}

static void child_int80_unfiltered(void *arg)
{
	long r = int80(20, 0);

	CHECK(r == getpid(), "i386 getpid returned %ld", r);
	(void)arg;
}

static void test_seccomp_other_arch(void **state)
{
	uint32_t none = 0, all = AW_SC_ALL_GROUPS;
	int st;

	/* Without a filter the kernel runs it (IA32 emulation on): so the
	 * SIGSYS below is the filter's doing. */
	st = run_child(child_int80_unfiltered, NULL);
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		print_message("# SKIP int 0x80 does not work here (no IA32 "
			      "emulation)\n");
		skip();
	}
	/* Refused (EPERM here: no supervisor asked for), whatever the
	 * groups allow; the supervisor reports them (test below). */
	assert_exit_ok(run_child(child_int80, &none));
	assert_exit_ok(run_child(child_int80_getpid, &all));
	assert_exit_ok(run_child(child_x32, NULL));
}
#endif

static void test_seccomp_group_of(void **state)
{
	const uint32_t a = AUDIT_ARCH_X86_64;
	uint64_t args[6] = {0};

#define GROUP(nr, a0, a1, want)                                                \
	do {                                                                   \
		args[0] = (a0);                                                \
		args[1] = (a1);                                                \
		assert_int_equal(aw_seccomp_group_of(a, (nr), args), (want));  \
	} while (0)

	GROUP(__NR_ptrace, 0, 0, AW_SC_PTRACE);
	GROUP(__NR_process_vm_readv, 0, 0, AW_SC_PROCESS_VM);
	GROUP(__NR_process_vm_writev, 0, 0, AW_SC_PROCESS_VM);
	GROUP(__NR_pidfd_getfd, 0, 0, AW_SC_PROCESS_VM);
	GROUP(__NR_io_uring_enter, 0, 0, AW_SC_IO_URING);
	GROUP(__NR_keyctl, 0, 0, AW_SC_KEYRING);
	GROUP(__NR_request_key, 0, 0, AW_SC_KEYRING);
	GROUP(__NR_bpf, 0, 0, AW_SC_BPF);
	GROUP(__NR_perf_event_open, 0, 0, AW_SC_PERF);
	GROUP(__NR_mount, 0, 0, AW_SC_MOUNT);
	GROUP(__NR_fsopen, 0, 0, AW_SC_MOUNT);
	GROUP(NR_OPEN_TREE_ATTR, 0, 0, AW_SC_MOUNT);
	GROUP(__NR_clone, CLONE_NEWUSER | SIGCHLD, 0, AW_SC_NAMESPACES);
	GROUP(__NR_clone, SIGCHLD, 0, -1);
	GROUP(__NR_clone, CLONE_VM | CLONE_THREAD | CLONE_SIGHAND, 0, -1);
	GROUP(__NR_unshare, 0x80 /* CLONE_NEWTIME */, 0, AW_SC_NAMESPACES);
	GROUP(__NR_unshare, CLONE_FILES, 0, -1);
	GROUP(__NR_setns, 0, 0, AW_SC_NAMESPACES);
	GROUP(__NR_clone3, 0, 0, AW_SC_NAMESPACES);
	GROUP(__NR_finit_module, 0, 0, AW_SC_MODULES);
	GROUP(__NR_kexec_file_load, 0, 0, AW_SC_KEXEC);
	GROUP(__NR_open_by_handle_at, 0, 0, AW_SC_HANDLES);
	GROUP(__NR_name_to_handle_at, 0, 0, -1);
	GROUP(__NR_ioctl, 0, TIOCSTI, AW_SC_TIOCSTI);
	GROUP(__NR_ioctl, 0, 0xffffffff00000000ull | TIOCLINUX, AW_SC_TIOCSTI);
	GROUP(__NR_ioctl, 0, TCGETS, -1);
	GROUP(__NR_userfaultfd, 0, 0, AW_SC_USERFAULTFD);
	GROUP(__NR_fanotify_init, 0, 0, AW_SC_FANOTIFY);
	GROUP(__NR_reboot, 0, 0, AW_SC_SYSTEM);
	GROUP(__NR_vhangup, 0, 0, AW_SC_SYSTEM);
	GROUP(__NR_personality, PER_LINUX, 0, -1);
	GROUP(__NR_personality, 0xffffffff, 0, -1);
	GROUP(__NR_personality, READ_IMPLIES_EXEC, 0, AW_SC_SYSTEM);
	GROUP(__NR_adjtimex, 0, 0, -1);
	GROUP(__NR_getpid, 0, 0, -1);
	GROUP(-1, 0, 0, -1);
	/* i386 numbers are not native ones */
	assert_int_equal(aw_seccomp_group_of(AUDIT_ARCH_I386, 26, args), -1);
	assert_int_equal(aw_seccomp_group_of(a, __NR_ptrace, NULL),
			 AW_SC_PTRACE);
#undef GROUP

	assert_string_equal(aw_seccomp_group_name(AW_SC_PTRACE), "ptrace");
	assert_string_equal(aw_seccomp_group_name(AW_SC_PROCESS_VM),
			    "process-vm");
	assert_string_equal(aw_seccomp_group_name(AW_SC_IO_URING), "io-uring");
	assert_string_equal(aw_seccomp_group_name(AW_SC_SYSTEM), "system");
	for (unsigned i = 0; i < AW_SC_GROUPS; i++)
		assert_non_null(aw_seccomp_group_name(i));
	assert_null(aw_seccomp_group_name(AW_SC_GROUPS));
}

/* ---- Landlock ------------------------------------------------------ */

struct ll_fixture {
	char base[64];
	char in[96], out[96];
	int abi;
};

static int ll_setup(void **state)
{
	struct ll_fixture *f = calloc(1, sizeof(*f));
	char p[160];
	int fd;

	if (!f)
		return -1;
	/* tests/run removes /tmp/aw-test-* if we crash */
	snprintf(f->base, sizeof(f->base), "/tmp/aw-test-sandbox-XXXXXX");
	if (!mkdtemp(f->base))
		return -1;
	snprintf(f->in, sizeof(f->in), "%s/in", f->base);
	snprintf(f->out, sizeof(f->out), "%s/out", f->base);
	if (mkdir(f->in, 0755) || mkdir(f->out, 0755))
		return -1;
	snprintf(p, sizeof(p), "%s/a", f->in);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/b", f->in);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/victim", f->out);
	fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "intact", 6) != 6)
		return -1;
	close(fd);
	snprintf(p, sizeof(p), "%s/file", f->in);
	fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	close(fd);
	snprintf(p, sizeof(p), "%s/a/file", f->in);
	fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	close(fd);
	f->abi = aw_landlock_abi();
	*state = f;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path);
}

static int ll_teardown(void **state)
{
	struct ll_fixture *f = *state;

	nftw(f->base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void need_landlock(const struct ll_fixture *f, int abi)
{
	if (f->abi < abi) {
		print_message(
		    "# SKIP Landlock ABI %d here, the test needs %d\n", f->abi,
		    abi);
		skip();
	}
}

static int expected_abi(const struct ll_fixture *f)
{
	return f->abi < AW_LANDLOCK_ABI_MAX ? f->abi : AW_LANDLOCK_ABI_MAX;
}

static void apply(const struct ll_fixture *f,
		  const struct aw_landlock_plan *plan, char *notes, size_t len)
{
	int r = aw_landlock_apply(plan, notes, len);

	CHECK(r == expected_abi(f), "aw_landlock_apply: %d (%s) [%s]", r,
	      r < 0 ? strerror(-r) : "abi", notes);
}

#define P(buf, dir, name) (snprintf(buf, sizeof(buf), "%s/%s", dir, name), buf)

static void child_fs(void *arg)
{
	const struct ll_fixture *f = arg;
	const char *wpaths[] = {f->in, MISSING};
	const char *dev[] = {"/dev/null"};
	struct aw_landlock_plan plan = {
	    .write_paths = wpaths,
	    .n_write = 2,
	    .dev_paths = dev,
	    .n_dev = 1,
	};
	char notes[512], p[160], q[160], b[16];
	pid_t pid;
	int fd, st;

	apply(f, &plan, notes, sizeof(notes));
	CHECK(strstr(notes, MISSING), "notes do not name %s: [%s]", MISSING,
	      notes);
	CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, "no_new_privs");

	/* writing: inside yes, outside no */
	fd = open(P(p, f->in, "new"), O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0, "create inside: %s", strerror(errno));
	CHECK(write(fd, "x", 1) == 1, "write inside");
	close(fd);
	FAILS(EACCES, open(P(p, f->out, "new"), O_CREAT | O_WRONLY, 0644));
	FAILS(EACCES, open(P(p, f->out, "victim"), O_WRONLY));
	FAILS(EACCES, open(P(p, f->out, "victim"), O_RDWR));
	FAILS(EACCES, open("/tmp", O_TMPFILE | O_WRONLY, 0600));
	/* reading: anywhere */
	fd = open(P(p, f->out, "victim"), O_RDONLY);
	CHECK(fd >= 0 && read(fd, b, 6) == 6 && !memcmp(b, "intact", 6),
	      "read outside");
	close(fd);
	fd = open("/etc/passwd", O_RDONLY);
	CHECK(fd >= 0, "read /etc/passwd: %s", strerror(errno));
	close(fd);
	fd = open(f->out, O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0, "read dir outside: %s", strerror(errno));
	close(fd);
	/* special files */
	FAILS(EACCES, mkfifo(P(p, f->out, "fifo"), 0600));
	SUCCEEDS(mkfifo(P(p, f->in, "fifo"), 0600));
	/* no device nodes anywhere, even as root in a write path */
	FAILS(EACCES,
	      mknod(P(p, f->in, "null"), S_IFCHR | 0600, makedev(1, 3)));
	/* truncate (ABI 3) */
	if (expected_abi(f) >= 3)
		FAILS(EACCES, truncate(P(p, f->out, "victim"), 0));
	SUCCEEDS(truncate(P(p, f->in, "new"), 0));
	/* other changes outside */
	FAILS(EACCES, unlink(P(p, f->out, "victim")));
	FAILS(EACCES, mkdir(P(p, f->out, "d"), 0755));
	FAILS(EACCES, symlink("victim", P(p, f->out, "sym")));
	SUCCEEDS(symlink("new", P(p, f->in, "sym")));
	/* moving out of the write path: refused (no make_reg there, and
	 * refer) */
	errno = 0;
	CHECK(rename(P(p, f->in, "file"), P(q, f->out, "file")) == -1 &&
		  (errno == EACCES || errno == EXDEV),
	      "rename out: %s", strerror(errno));
	errno = 0;
	CHECK(link(P(p, f->in, "file"), P(q, f->out, "file")) == -1 &&
		  (errno == EACCES || errno == EXDEV),
	      "link out: %s", strerror(errno));
	/* and in from outside: the source cannot be removed */
	errno = 0;
	CHECK(rename(P(p, f->out, "victim"), P(q, f->in, "victim")) == -1 &&
		  (errno == EACCES || errno == EXDEV),
	      "rename in: %s", strerror(errno));
	/* moving between directories inside: allowed (refer, ABI 2) */
	if (expected_abi(f) >= 2) {
		char s[160], d[160];

		snprintf(s, sizeof(s), "%s/a/file", f->in);
		snprintf(d, sizeof(d), "%s/b/file", f->in);
		SUCCEEDS(rename(s, d));
	}
	/* device paths: /dev/null writable, /dev/zero not */
	fd = open("/dev/null", O_WRONLY);
	CHECK(fd >= 0 && write(fd, "x", 1) == 1, "write /dev/null: %s",
	      strerror(errno));
	close(fd);
	FAILS(EACCES, open("/dev/zero", O_WRONLY));
	/* executing still works */
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		  WEXITSTATUS(st) == 0,
	      "exec /bin/true failed");
}

static void test_landlock_fs(void **state)
{
	struct ll_fixture *f = *state;
	char p[160], b[16] = "";
	struct stat st;
	int fd;

	need_landlock(f, 1);
	assert_exit_ok(run_child(child_fs, f));
	/* Nothing outside changed. */
	fd = open(P(p, f->out, "victim"), O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, b, sizeof(b)), 6);
	close(fd);
	assert_memory_equal(b, "intact", 6);
	assert_int_equal(stat(P(p, f->out, "file"), &st), -1);
	assert_int_equal(stat(P(p, f->in, "file"), &st), 0);
	assert_int_equal(stat(P(p, f->in, "null"), &st), -1);
}

/* An abstract unix socket listening on name (a leading NUL is added). */
static int abstract_listener(const char *name, struct sockaddr_un *sa,
			     socklen_t *len)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "%s", name);
	*len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
	if (s < 0 || bind(s, (struct sockaddr *)sa, *len) || listen(s, 4))
		return -1;
	return s;
}

static int abstract_connect(const struct sockaddr_un *sa, socklen_t len)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	if (s < 0)
		return -1;
	r = connect(s, (const struct sockaddr *)sa, len);
	if (r < 0) {
		int e = errno;

		close(s);
		errno = e;
		return -1;
	}
	close(s);
	return 0;
}

struct scope_arg {
	const struct ll_fixture *f;
	struct sockaddr_un out;
	socklen_t out_len;
	int scoped;
};

static void child_scope(void *arg)
{
	const struct scope_arg *a = arg;
	struct aw_landlock_plan plan = {
	    .scope_signals = a->scoped,
	    .scope_abstract_unix = a->scoped,
	};
	struct sockaddr_un in;
	socklen_t in_len;
	char notes[256], name[64];
	pid_t pid;
	int ls;

	apply(a->f, &plan, notes, sizeof(notes));
	if (a->scoped) {
		/* the parent is outside the domain */
		FAILS(EPERM, kill(getppid(), 0));
		FAILS(EPERM, abstract_connect(&a->out, a->out_len));
	} else {
		SUCCEEDS(kill(getppid(), 0));
		SUCCEEDS(abstract_connect(&a->out, a->out_len));
	}
	/* its own child is inside */
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		pause();
		_exit(0);
	}
	SUCCEEDS(kill(pid, SIGKILL));
	waitpid(pid, NULL, 0);
	/* a listener made inside the domain */
	snprintf(name, sizeof(name), "aw-test-in-%d", getpid());
	ls = abstract_listener(name, &in, &in_len);
	CHECK(ls >= 0, "listen inside: %s", strerror(errno));
	SUCCEEDS(abstract_connect(&in, in_len));
	close(ls);
}

static void test_landlock_scope(void **state)
{
	struct scope_arg a = {.f = *state};
	char name[64];
	int ls;

	need_landlock(a.f, 6);
	snprintf(name, sizeof(name), "aw-test-out-%d", getpid());
	ls = abstract_listener(name, &a.out, &a.out_len);
	assert_true(ls >= 0);
	/* Without the scopes both work: the test measures the scoping. */
	a.scoped = 0;
	assert_exit_ok(run_child(child_scope, &a));
	a.scoped = 1;
	assert_exit_ok(run_child(child_scope, &a));
	close(ls);
}

static void child_abi(void *arg)
{
	const struct ll_fixture *f = arg;
	struct aw_landlock_plan plan = {.log_new_exec = 1};
	char notes[256] = "junk";
	int r = aw_landlock_apply(&plan, notes, sizeof(notes));

	CHECK(r == expected_abi(f), "returned %d, aw_landlock_abi() %d", r,
	      f->abi);
	/* At ABI 7 nothing is missing: no note at all. */
	if (r >= AW_LANDLOCK_ABI_MAX)
		CHECK(notes[0] == 0, "unexpected notes: [%s]", notes);
	/* A second domain stacks on the first. */
	r = aw_landlock_apply(&plan, notes, sizeof(notes));
	CHECK(r == expected_abi(f), "second domain: %d", r);
}

static void test_landlock_abi(void **state)
{
	struct ll_fixture *f = *state;

	need_landlock(f, 1);
	print_message("# Landlock ABI %d\n", f->abi);
	assert_exit_ok(run_child(child_abi, f));
}

static void child_notes_short(void *arg)
{
	const char *wpaths[] = {MISSING "/a", MISSING "/b", MISSING "/c"};
	struct aw_landlock_plan plan = {.write_paths = wpaths, .n_write = 3};
	char notes[16];
	int r;

	memset(notes, 'z', sizeof(notes));
	r = aw_landlock_apply(&plan, notes, sizeof(notes));
	CHECK(r > 0, "apply: %d", r);
	CHECK(memchr(notes, 0, sizeof(notes)) != NULL, "notes not ended");
	(void)arg;
}

static void test_landlock_notes_truncated(void **state)
{
	need_landlock(*state, 1);
	assert_exit_ok(run_child(child_notes_short, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seccomp_group_of),
	    cmocka_unit_test(test_seccomp_deny_all),
	    cmocka_unit_test(test_seccomp_allow_mask),
	    cmocka_unit_test(test_seccomp_allow_all),
	    cmocka_unit_test(test_seccomp_program_handed),
	    cmocka_unit_test(test_seccomp_tsync),
	    cmocka_unit_test(test_seccomp_notify),
	    cmocka_unit_test(test_seccomp_notify_caller_dies),
	    cmocka_unit_test(test_seccomp_no_supervisor),
#ifdef __x86_64__
	    cmocka_unit_test(test_seccomp_other_arch),
#endif
	    cmocka_unit_test_setup_teardown(test_landlock_fs, ll_setup,
					    ll_teardown),
	    cmocka_unit_test_setup_teardown(test_landlock_scope, ll_setup,
					    ll_teardown),
	    cmocka_unit_test_setup_teardown(test_landlock_abi, ll_setup,
					    ll_teardown),
	    cmocka_unit_test_setup_teardown(test_landlock_notes_truncated,
					    ll_setup, ll_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
