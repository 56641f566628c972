// SPDX-License-Identifier: GPL-2.0-only
/*
 * aw-testproc: process shapes for the lineage tests.
 *   threads N PROG ARGS...   start N threads; the last one execs PROG
 *                            (exec from a non-leader thread)
 *   daemonize PROG ARGS...   fork, setsid, fork again, parent exits; the
 *                            grandchild (reparented to init) execs PROG;
 *                            prints its pid
 *   storm N PROG ARGS...     fork+exec+wait PROG N times, print rate
 *                            (per CPU second, see now())
 *   spin N                   fork N children that exit at once
 *   openclose N PATH         open and close PATH N times, print rate
 *   openfail N PATH          open PATH for writing N times (each refused:
 *                            a read-only tree in a session), print rate
 *   openwrite N PATH         open PATH for writing (made if absent) and
 *                            close it, N times, print rate
 *   connect N ADDR PORT      connect a UDP socket to ADDR:PORT (IPv4)
 *                            and close it, N times, print rate (the
 *                            socket hooks' cost; no packet is sent)
 *   tcpconnect N             N TCP connections over loopback to a
 *                            listener of its own (connect, accept,
 *                            close both), print rate
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char **exec_argv;

static void *thread_main(void *arg)
{
	long last = (long)arg;

	if (last) {
		execv(exec_argv[0], exec_argv);
		perror("execv");
		_exit(127);
	}
	pause();
	return NULL;
}

/*
 * Rates are per CPU second (this process and its waited-for children,
 * user + system), not per wall second: on a shared 2-CPU machine the
 * wall clock mostly measures the neighbours, while the CPU time spent,
 * including the kernel hooks on our behalf, is what the daemon adds.
 */
static double now(void)
{
	struct rusage self, kids;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	return self.ru_utime.tv_sec + self.ru_stime.tv_sec +
	       kids.ru_utime.tv_sec + kids.ru_stime.tv_sec +
	       (self.ru_utime.tv_usec + self.ru_stime.tv_usec +
		kids.ru_utime.tv_usec + kids.ru_stime.tv_usec) /
		   1e6;
}

int main(int argc, char **argv)
{
	/* "clock": CLOCK_MONOTONIC in ns at main, first thing (bench/
	 * sandbox.sh: exec to a forced agent's first instruction). */
	if (argc == 2 && !strcmp(argv[1], "clock")) {
		struct timespec t;

		clock_gettime(CLOCK_MONOTONIC, &t);
		printf("%lld\n",
		       (long long)t.tv_sec * 1000000000LL + t.tv_nsec);
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "threads")) {
		long n = atol(argv[2]);
		pthread_t t;

		exec_argv = argv + 3;
		for (long i = 0; i < n; i++)
			pthread_create(&t, NULL, thread_main,
				       (void *)(long)(i == n - 1));
		pause();
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "daemonize")) {
		int pfd[2];
		pid_t c;

		if (pipe(pfd) < 0)
			return 1;
		c = fork();
		if (c == 0) {
			setsid();
			if (fork() == 0) {
				char buf[32];
				int n = snprintf(buf, sizeof(buf), "%d\n",
						 getpid());

				if (write(pfd[1], buf, n) < 0)
					_exit(1);
				close(pfd[0]);
				close(pfd[1]);
				/* Let the middle process exit first so the
				 * grandchild is reparented before it execs. */
				usleep(200000);
				execv(argv[2], argv + 2);
				_exit(127);
			}
			_exit(0);
		}
		close(pfd[1]);
		waitpid(c, NULL, 0);
		{
			char buf[32] = "";
			ssize_t n = read(pfd[0], buf, sizeof(buf) - 1);

			if (n > 0)
				fputs(buf, stdout);
		}
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "storm")) {
		long n = atol(argv[2]);
		double t0 = now();

		for (long i = 0; i < n; i++) {
			pid_t c = fork();

			if (c == 0) {
				execv(argv[3], argv + 3);
				_exit(127);
			}
			waitpid(c, NULL, 0);
		}
		printf("%.0f\n", n / (now() - t0));
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "openclose")) {
		long n = atol(argv[2]);
		double t0 = now();

		for (long i = 0; i < n; i++) {
			int fd = open(argv[3], O_RDONLY | O_CLOEXEC);

			if (fd < 0) {
				perror(argv[3]);
				return 1;
			}
			close(fd);
		}
		printf("%.0f\n", n / (now() - t0));
		return 0;
	}
	if (argc == 4 &&
	    (!strcmp(argv[1], "openfail") || !strcmp(argv[1], "openwrite"))) {
		long n = atol(argv[2]);
		int flags = O_WRONLY | O_CLOEXEC |
			    (!strcmp(argv[1], "openwrite") ? O_CREAT : 0);
		double t0 = now();

		for (long i = 0; i < n; i++) {
			int fd = open(argv[3], flags, 0644);

			if (fd >= 0)
				close(fd);
		}
		printf("%.0f\n", n / (now() - t0));
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "connect")) {
		long n = atol(argv[2]), refused = 0;
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_port = htons(atoi(argv[4]))};
		double t0 = now();

		if (inet_pton(AF_INET, argv[3], &a.sin_addr) != 1)
			return 2;
		for (long i = 0; i < n; i++) {
			int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

			if (fd < 0) {
				perror("socket");
				return 1;
			}
			if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
				refused++;
			close(fd);
		}
		printf("%.0f\n", n / (now() - t0));
		if (refused)
			fprintf(stderr, "%ld of %ld refused\n", refused, n);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "tcpconnect")) {
		long n = atol(argv[2]);
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_addr.s_addr = htonl(0x7f000001)};
		socklen_t al = sizeof(a);
		int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		double t0;

		if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    listen(l, 128) < 0 ||
		    getsockname(l, (struct sockaddr *)&a, &al) < 0) {
			perror("listener");
			return 1;
		}
		t0 = now();
		for (long i = 0; i < n; i++) {
			int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0),
			    s;

			if (c < 0 ||
			    connect(c, (struct sockaddr *)&a, sizeof(a)) < 0) {
				perror("connect");
				return 1;
			}
			s = accept(l, NULL, NULL);
			if (s >= 0)
				close(s);
			close(c);
		}
		printf("%.0f\n", n / (now() - t0));
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "spin")) {
		long n = atol(argv[2]);
		double t0 = now();

		for (long i = 0; i < n; i++) {
			pid_t c = fork();

			if (c == 0)
				_exit(0);
			waitpid(c, NULL, 0);
		}
		printf("%.0f\n", n / (now() - t0));
		return 0;
	}
#ifdef __x86_64__
	/* Other ABIs from a 64-bit process: i386 ptrace(PTRACE_TRACEME)
	 * through int 0x80, and x32 getpid. Prints each call's result. */
	if (argc == 2 && !strcmp(argv[1], "abis")) {
		long r;

		__asm__ volatile("int $0x80"
				 : "=a"(r)
				 : "a"(26L), "b"(0L), "c"(0L), "d"(0L)
				 : "memory", "r8", "r9", "r10", "r11");
		printf("i386:%ld\n", r);
		r = syscall(0x40000000 | __NR_getpid);
		printf("x32:%ld\n", r < 0 ? -(long)errno : r);
		return 0;
	}
#endif
	fprintf(stderr,
		"usage: aw-testproc threads|daemonize|storm|spin|abis ...\n");
	return 2;
}
