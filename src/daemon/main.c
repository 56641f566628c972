// SPDX-License-Identifier: GPL-2.0-only
/*
 * agentwalld: loads the kernel side, compiles signatures into its maps,
 * drains events into the store / export stream / terminal, and serves the
 * control socket. One epoll loop; store inserts run on a writer thread.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "aw_revision.h"
#include "daemon/daemon.h"
#include "daemon/metrics.h"
#include "daemon/notify.h"
#include "daemon/options.h"
#include "daemon/outputs.h"
#include "daemon/writer.h"
#include "shared/util.h"
#include "shared/embedded.h"

/* Create the directories above file. Returns 1 if the last one was
 * created here (then, and only then, its mode and group are ours to set),
 * 0 if it existed, -errno on failure. */
static int mkdir_parents(const char *file, mode_t mode)
{
	char p[PATH_MAX];
	int created = 0;

	snprintf(p, sizeof(p), "%s", file);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		created = mkdir(p, mode) == 0;
		if (!created && errno != EEXIST)
			return -errno;
		if (created && chmod(p, mode) < 0) /* past the umask */
			return -errno;
		*s = '/';
	}
	return created;
}

/* Let members of the control group read the store (`agentwall log`):
 * the file and SQLite's -wal and -shm beside it, and a directory made
 * here. Directories that existed before are left as they are. */
/* The chain's head into the journal (at start, every minute when it
 * moved, at stop): a copy of it outside the store, for log --verify
 * --anchor, that whoever can rewrite the store cannot rewrite. */
static void log_chain_head(struct aw_daemon *d, uint64_t *logged)
{
	uint8_t h[AW_CHAIN_HASH];
	char hex[2 * AW_CHAIN_HASH + 1];
	uint64_t id, rows;

	if (!d->store || aw_store_chain_head(d->store, &id, h, &rows) < 0 ||
	    id == *logged)
		return;
	aw_chain_hex(h, hex);
	fprintf(stderr,
		"agentwalld: event chain head %llu:%s (%llu rows chained)\n",
		(unsigned long long)id, hex, (unsigned long long)rows);
	*logged = id;
}

static void store_share_with_group(const struct aw_opts *o, int dir_created)
{
	static const char *const suffix[] = {"", "-wal", "-shm"};
	char p[PATH_MAX + 8];

	if (o->ctl_gid == (gid_t)-1)
		return;
	if (dir_created) {
		char *slash;

		snprintf(p, sizeof(p), "%s", o->store_path);
		slash = strrchr(p, '/');
		if (slash && slash != p) {
			*slash = 0;
			if (chown(p, 0, o->ctl_gid) < 0 || chmod(p, 0750) < 0)
				fprintf(stderr, "agentwalld: %s: %s\n", p,
					strerror(errno));
		}
	}
	for (size_t i = 0; i < AW_ARRAY_SIZE(suffix); i++) {
		snprintf(p, sizeof(p), "%s%s", o->store_path, suffix[i]);
		if (chown(p, 0, o->ctl_gid) < 0 || chmod(p, 0640) < 0) {
			if (errno != ENOENT)
				fprintf(stderr, "agentwalld: %s: %s\n", p,
					strerror(errno));
		}
	}
}

/* What only the event loop can read, for the metrics endpoint: once a
 * second, with the drop check (the user-space drops wait for the store
 * writer's lock as that check does). */
static void metrics_sample(struct aw_daemon *d)
{
	struct aw_metrics_sample s = {};

	if (!d->metrics)
		return;
	aw_kernel_stats(d->kernel, s.kernel);
	s.user_drops = aw_daemon_user_drops(d);
	aw_writer_queue(d->writer, &s.queue_events, &s.queue_bytes);
	s.store_committed = aw_writer_committed(d->writer);
	aw_metrics_publish(d->metrics, &s);
}

static int timer_arm(int fd, unsigned ms)
{
	struct itimerspec its = {
	    .it_interval = {.tv_sec = ms / 1000,
			    .tv_nsec = (ms % 1000) * 1000000L},
	    .it_value = {.tv_sec = ms / 1000,
			 .tv_nsec = (ms % 1000) * 1000000L},
	};

	return timerfd_settime(fd, 0, &its, NULL);
}

int main(int argc, char **argv)
{
	struct aw_daemon d = {.export_fd = -1};
	struct aw_control *ctl = NULL;
	struct aw_metrics_server *msrv = NULL;
	char err[1024] = "";
	int epfd = -1, sfd = -1, tfd = -1, r, ret = 1;
	sigset_t mask;
	uint64_t ticks = 0, chain_logged = UINT64_MAX;

	if (aw_opts_parse(argc, argv, &d.opts) < 0)
		return 2;
	if (geteuid() != 0) {
		fprintf(stderr, "agentwalld: must run as root (loads BPF "
				"programs)\n");
		return 1;
	}
	/* Before the store is made: a scope that is not there would leave
	 * an empty store behind and fail later. */
	if (d.opts.scope_kind == AW_SCOPE_CGROUP) {
		struct stat st;
		const char *why = NULL;

		if (stat(d.opts.scope_path, &st) < 0)
			why = strerror(errno);
		else if (!S_ISDIR(st.st_mode))
			why = "not a cgroup directory";
		if (why) {
			fprintf(stderr, "agentwalld: --scope cgroup:%s: %s\n",
				d.opts.scope_path, why);
			return 1;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* The store and export hold every agent's argv and paths: readable
	 * by root (and the control group, below) only. */
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	/* Each network-confined session holds resolver sockets: the soft
	 * limit of 1024 descriptors would run out long before the hard. */
	{
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}

	gethostname(d.hostname, sizeof(d.hostname) - 1);
	d.boot_realtime_offset = aw_now_realtime_ns() - aw_now_boottime_ns();
	d.started_ns = aw_now_realtime_ns();
	aw_probe_run(&d.probe);
	/* Counting starts before the first event (the adoption's). */
	if (d.opts.metrics_listen[0] &&
	    aw_metrics_new(AW_VERSION, AW_REVISION,
			   d.opts.mode == AW_MODE_ENFORCE ? "enforce" : "audit",
			   d.probe.backend, &d.metrics) < 0) {
		fprintf(stderr, "agentwalld: metrics: out of memory\n");
		goto out;
	}

	d.procs = aw_procs_new();
	if (!d.procs)
		goto out;

	r = mkdir_parents(d.opts.store_path, 0700);
	if (r >= 0) {
		int store_dir_created = r;

		/* The socket's own mode guards it; its directory is open. */
		r = mkdir_parents(d.opts.socket_path, 0755);
		if (r >= 0 && d.opts.ctl_gid != (gid_t)-1) {
			/* SQLite gives -wal and -shm the mode and owner of
			 * the database file: make that file first. */
			int fd =
			    open(d.opts.store_path,
				 O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

			if (fd >= 0)
				close(fd);
			store_share_with_group(&d.opts, store_dir_created);
		}
	}
	if (r < 0) {
		fprintf(stderr, "agentwalld: state directory: %s\n",
			strerror(-r));
		goto out;
	}
	r = aw_store_open(d.opts.store_path, &d.opts.limits, &d.store, err,
			  sizeof(err));
	if (r < 0) {
		fprintf(stderr, "agentwalld: store %s: %s\n", d.opts.store_path,
			err);
		goto out;
	}
	store_share_with_group(&d.opts, 0); /* -wal and -shm exist now */
	r = aw_writer_start(d.store, 64u << 20, &d.writer);
	if (r < 0) {
		fprintf(stderr, "agentwalld: store writer thread: %s\n",
			strerror(-r));
		goto out;
	}
	/* Retention applies at start too: a daemon restarted with a lower
	 * limit must not wait a full interval to honour it. */
	aw_store_prune(d.store, aw_now_realtime_ns());
	log_chain_head(&d, &chain_logged);
	if (d.opts.export_path[0]) {
		struct stat st;

		/* Appended to, never replaced: it must be a plain file of
		 * root's with one name (not a FIFO that would block us, not a
		 * link into a file someone else reads). */
		d.export_fd = open(d.opts.export_path,
				   O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
				       O_NOFOLLOW | O_NONBLOCK | O_NOCTTY,
				   0600);
		if (d.export_fd < 0) {
			fprintf(stderr, "agentwalld: --export %s: %s\n",
				d.opts.export_path, strerror(errno));
			goto out;
		}
		if (fstat(d.export_fd, &st) < 0 || !S_ISREG(st.st_mode) ||
		    st.st_uid != 0 || st.st_nlink != 1 ||
		    fchmod(d.export_fd, 0600) < 0) {
			fprintf(stderr,
				"agentwalld: --export %s: must be a regular "
				"file owned by root with a single link\n",
				d.opts.export_path);
			goto out;
		}
	}
	if ((d.export_fd >= 0 && d.opts.export_ocsf) || d.opts.webhook_url[0] ||
	    d.opts.syslog_to[0]) {
		struct aw_outputs_conf oc = {
		    .export_fd = d.opts.export_ocsf ? d.export_fd : -1,
		    .webhook_url =
			d.opts.webhook_url[0] ? d.opts.webhook_url : NULL,
		    .webhook_format =
			d.opts.webhook_native ? AW_OUT_NATIVE : AW_OUT_OCSF,
		    .webhook_batch = d.opts.webhook_batch,
		    .syslog_to = d.opts.syslog_to[0] ? d.opts.syslog_to : NULL,
		    .syslog_format =
			d.opts.syslog_native ? AW_OUT_NATIVE : AW_OUT_OCSF,
		    .queue_max = d.opts.output_queue,
		    .hostname = d.hostname,
		};

		r = aw_outputs_start(&oc, &d.outputs, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "agentwalld: outputs: %s\n", err);
			goto out;
		}
	}

	/* Signals first, so that a TERM during load still unwinds. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

	r = aw_kernel_open(&d.opts, &d.kernel, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "agentwalld: %s\n", err);
		goto out;
	}
	aw_kernel_set_handler(d.kernel, aw_events_handle, &d);
	if (d.metrics) {
		const uint64_t *cons, *prod;
		uint64_t size;

		if (aw_kernel_ring_positions(d.kernel, &cons, &prod, &size) ==
		    0)
			aw_metrics_set_ring(d.metrics, cons, prod, size);
	}
	if (aw_kernel_adopted(d.kernel))
		aw_sigdb_adopt_ids(&d);
	r = aw_daemon_reload_policies(&d, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "agentwalld: policies: %s\n", err);
		goto out;
	}
	r = aw_daemon_reload_signatures(&d, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "agentwalld: signatures: %s\n", err);
		goto out;
	}
	aw_opts_default_launcher(&d.opts);
	r = aw_force_start(&d, &d.force);
	if (r < 0) {
		fprintf(stderr, "agentwalld: forcing thread: %s\n",
			strerror(-r));
		goto out;
	}
	/* Masked files refused by inode: a daemon without fanotify still
	 * masks by name (the launcher's mounts); said, not fatal. */
	r = aw_secrets_open(&d, err, sizeof(err));
	if (r < 0)
		fprintf(stderr,
			"agentwalld: masked files are refused by name only: "
			"%s\n",
			err);
	else
		aw_secrets_mark_self(&d);
	aw_sigdb_content_publish(&d);
	/* From here a stopped agent has someone to force it. */
	aw_kernel_heartbeat(d.kernel, 1);
	aw_sandbox_sweep(&d);
	if (aw_kernel_adopted(d.kernel)) {
		/* A previous daemon died with its pins in place: the kernel
		 * went on tracking its sessions; pick them up. Its pulse
		 * may still be valid: end it first, so that every task the
		 * walk finds waiting to be forced was stopped for a daemon
		 * that is gone (an agent exec'd meanwhile is killed at exec,
		 * and recorded). */
		aw_kernel_heartbeat(d.kernel, 0);
		aw_events_adopt(&d);
		fprintf(stderr,
			"agentwalld: adopted the pins in %s: sessions "
			"tracked while no daemon ran are kept\n",
			d.opts.bpffs_dir);
	}
	/* From here a stopped agent has someone to force it. */
	aw_kernel_heartbeat(d.kernel, 1);
	aw_stores_load(&d);
	r = aw_control_open(&d, &ctl, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "agentwalld: control socket: %s\n", err);
		goto out;
	}

	if (d.metrics) {
		metrics_sample(&d);
		r = aw_metrics_serve(d.metrics, d.opts.metrics_listen,
				     d.opts.metrics_remote, &msrv, err,
				     sizeof(err));
		if (r < 0) {
			fprintf(stderr, "agentwalld: --metrics %s\n", err);
			goto out;
		}
	}

	epfd = epoll_create1(EPOLL_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (epfd < 0 || tfd < 0 || sfd < 0 || timer_arm(tfd, 200) < 0) {
		fprintf(stderr, "agentwalld: event loop: %s\n",
			strerror(errno));
		goto out;
	}
	r = aw_net_open(&d, epfd, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "agentwalld: %s\n", err);
		goto out;
	}
	aw_net_set_llm_apis(&d, d.db.llm_apis, d.db.n_llm_apis);
	/* What is installed and configured: its own thread; a failure is
	 * said and the daemon goes on without it. */
	if (aw_inventory_open(&d, err, sizeof(err)) < 0)
		fprintf(stderr, "agentwalld: no inventory: %s\n", err);
	if (aw_kernel_net_error(d.kernel))
		fprintf(stderr,
			"agentwalld: network policy is not enforced: %s\n",
			aw_kernel_net_error(d.kernel));
	{
		struct epoll_event ev = {.events = EPOLLIN};
		int fds[7] = {aw_kernel_ring_fd(d.kernel),
			      sfd,
			      tfd,
			      aw_control_fd(ctl),
			      aw_force_fd(d.force),
			      aw_secrets_fd(&d),
			      aw_inventory_fd(&d)};

		for (size_t i = 0; i < 7; i++) {
			if (fds[i] < 0)
				continue;
			ev.data.fd = fds[i];
			if (epoll_ctl(epfd, EPOLL_CTL_ADD, fds[i], &ev) < 0) {
				fprintf(stderr, "agentwalld: epoll: %s\n",
					strerror(errno));
				goto out;
			}
		}
	}

	fprintf(stderr,
		"agentwalld: backend %s, scope %s%s, mode %s, %zu signatures; "
		"store %s, socket %s, pins %s\n",
		d.probe.backend,
		d.opts.scope_kind == AW_SCOPE_HOST ? "host" : "cgroup:",
		d.opts.scope_kind == AW_SCOPE_HOST ? "" : d.opts.scope_path,
		d.opts.mode == AW_MODE_ENFORCE ? "enforce" : "audit",
		d.db.n_sigs, d.opts.store_path, d.opts.socket_path,
		d.opts.bpffs_dir);
	/* Type=notify: the service is up once the control socket answers. */
	aw_notify("READY=1\nSTATUS=backend %s, mode %s, %zu signatures",
		  d.probe.backend,
		  d.opts.mode == AW_MODE_ENFORCE ? "enforce" : "audit",
		  d.db.n_sigs);
	if (d.opts.mode == AW_MODE_ENFORCE)
		aw_events_emit_simple(
		    &d, "notice", 0, NULL, "backend/portable",
		    "\"detail\":\"enforce mode, portable backend: agents "
		    "discovered at exec are forced into a sandboxed session "
		    "(namespaces, Landlock, seccomp); no BPF LSM, so nothing "
		    "is decided in place\"");
	/* Loading parsed the kernel's BTF (tens of MiB, freed): give the
	 * pages back so the idle daemon stays small. */
	malloc_trim(0);
	if (!d.opts.quiet && !d.opts.json_stdout)
		printf("TIME          SESSION           AGENT                  "
		       "    PID  ACTION        TARGET\n");

	for (;;) {
		struct epoll_event evs[16];
		int n = epoll_wait(epfd, evs, 16, -1);
		int stop = 0;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == aw_kernel_ring_fd(d.kernel)) {
				aw_kernel_poll(d.kernel);
			} else if (fd == sfd) {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) ==
				       sizeof(si)) {
					if (si.ssi_signo == SIGHUP) {
						if (aw_daemon_reload_policies(
							&d, err, sizeof(err)) <
						    0)
							fprintf(stderr,
								"agentwalld: "
								"policy refused"
								", the one in "
								"force stays: "
								"%s\n",
								err);
						if (aw_daemon_reload_signatures(
							&d, err, sizeof(err)) <
						    0)
							fprintf(stderr,
								"agentwalld: "
								"reload refused"
								", previous "
								"signatures "
								"stay: %s\n",
								err);
					} else {
						stop = 1;
					}
				}
			} else if (fd == tfd) {
				uint64_t exp;

				if (read(tfd, &exp, sizeof(exp)) < 0)
					exp = 0;
				ticks++;
				aw_kernel_heartbeat(d.kernel, 1);
				/* (The writer thread commits every 200 ms.) */
				aw_kernel_poll(d.kernel);
				if (ticks % 5 == 0) {
					aw_events_check_drops(&d);
					metrics_sample(&d);
				}
				if (ticks % 10 == 0)
					aw_events_reconcile(&d);
				aw_events_end_sandboxes(&d);
				if (d.n_sandboxes)
					aw_sandbox_tick(&d);
				aw_stores_tick(&d);
				aw_net_tick(&d);
				if (ticks % 300 == 0) {
					aw_store_lock(&d);
					aw_store_prune(d.store,
						       aw_now_realtime_ns());
					aw_store_unlock(&d);
					log_chain_head(&d, &chain_logged);
				}
			} else if (d.force && fd == aw_force_fd(d.force)) {
				aw_force_collect(&d);
			} else if (d.secrets && fd == aw_secrets_fd(&d)) {
				aw_secrets_collect(&d);
			} else if (d.inventory && fd == aw_inventory_fd(&d)) {
				aw_inventory_collect(&d);
			} else if (!aw_net_handle(&d, fd, evs[i].events)) {
				aw_control_handle(ctl, epfd, fd, evs[i].events);
			}
		}
		if (d.n_pending)
			aw_sessions_flush_pending(&d);
		if (stop)
			break;
	}
	/* Drain what the kernel already reported before going. */
	aw_kernel_poll(d.kernel);
	aw_events_check_drops(&d);
	ret = 0;
out:
	aw_notify("STOPPING=1");
	/* First: it reads the ring's positions, mapped until the kernel
	 * side is released. */
	aw_metrics_server_stop(msrv);
	/* Going: an agent caught at exec from now on is killed, not left
	 * stopped for a daemon that will not come. */
	if (d.kernel)
		aw_kernel_heartbeat(d.kernel, 0);
	aw_force_stop(d.force);
	d.force = NULL;
	aw_secrets_collect(&d);
	aw_secrets_close(&d);
	aw_inventory_close(&d);
	if (d.n_pending)
		aw_sessions_flush_pending(&d);
	aw_sandbox_cleanup(&d);
	aw_stores_close(&d);
	aw_net_close(&d);
	/* Everything queued is written and committed before we go. */
	aw_outputs_stop(d.outputs);
	d.outputs = NULL;
	aw_writer_stop(d.writer);
	d.writer = NULL;
	if (d.store) {
		aw_store_flush(d.store);
		aw_store_prune(d.store, aw_now_realtime_ns());
		log_chain_head(&d, &chain_logged);
	}
	aw_control_close(ctl);
	/* A clean stop removes the pins; a failed start keeps pins it
	 * adopted (they hold sessions the kernel kept tracking). */
	if (d.kernel)
		aw_kernel_release(d.kernel,
				  ret == 0 || !aw_kernel_adopted(d.kernel));
	if (d.store)
		aw_store_close(d.store);
	if (epfd >= 0)
		close(epfd);
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	if (d.export_fd >= 0)
		close(d.export_fd);
	aw_tools_free(&d);
	aw_procs_free(d.procs);
	aw_sigdb_free(&d.db);
	if (d.compiled) {
		aw_compiled_free(d.compiled);
		free(d.compiled);
	}
	aw_policyset_free(&d.policies);
	for (int b = 0; b < 2; b++) {
		for (size_t i = 0; i < d.n_rule_text[b]; i++)
			free(d.rule_text[b][i]);
		free(d.rule_text[b]);
		free(d.rule_sig[b]);
		free(d.rule_kind[b]);
	}
	for (size_t i = 0; i < d.n_learned; i++)
		free(d.learned[i].path);
	free(d.learned);
	for (size_t i = 1; i < d.n_sigs; i++) {
		free(d.sigs[i].id);
		free(d.sigs[i].vendor);
		free(d.sigs[i].product);
		free(d.sigs[i].class);
		free(d.sigs[i].package);
	}
	free(d.sigs);
	aw_buf_free(&d.line);
	aw_buf_free(&d.json);
	aw_metrics_free(d.metrics);
	return ret;
}
