// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket: a Unix stream socket, one request line per
 * connection ("status", "ps", "ps --json", "reload"), one reply, close.
 *
 * Peers are checked with SO_PEERCRED / SO_PEERGROUPS: root, or a member of
 * the configured group. Clients are non-blocking and bounded (request
 * size, reply buffer, idle time, number of clients) so a client that sends
 * garbage, stalls or disconnects mid-message costs nothing but its slot.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/outputs.h"
#include "daemon/writer.h"
#include "shared/util.h"
#include "store/store.h"

#define CTL_MAX_CLIENTS 64
#define CTL_REQ_MAX 16384
#define CTL_IDLE_NS (5ull * 1000000000ull)

struct ctl_client {
	int fd;
	uid_t uid;	/* peer, from SO_PEERCRED */
	int privileged; /* root or the control group */
	char req[CTL_REQ_MAX];
	size_t req_len;
	/* A descriptor passed with the request (SCM_RIGHTS; only
	 * session-masks uses one), closed with the client. */
	int passed_fd;
	struct aw_buf out;
	size_t out_off;
	uint64_t since;
};

struct aw_control {
	struct aw_daemon *d;
	int lfd;
	struct ctl_client clients[CTL_MAX_CLIENTS];
	uint64_t rejected, bad_requests;
};

int aw_control_fd(struct aw_control *c)
{
	return c->lfd;
}

int aw_control_open(struct aw_daemon *d, struct aw_control **ret, char *err,
		    size_t errlen)
{
	struct aw_control *c = calloc(1, sizeof(*c));
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int r;

	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < CTL_MAX_CLIENTS; i++)
		c->clients[i].fd = -1;
	c->d = d;
	if (strlen(d->opts.socket_path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: path too long for a Unix socket",
			 d->opts.socket_path);
		free(c);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, d->opts.socket_path);
	/* A stale socket from a crashed daemon is replaced; anything else
	 * at that path is not ours to remove. */
	if (lstat(sa.sun_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket",
				 sa.sun_path);
			free(c);
			return -EEXIST;
		}
		{
			int probe =
			    socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

			if (probe >= 0 && connect(probe, (struct sockaddr *)&sa,
						  sizeof(sa)) == 0) {
				close(probe);
				snprintf(err, errlen,
					 "%s: another agentwalld "
					 "is listening",
					 sa.sun_path);
				free(c);
				return -EADDRINUSE;
			}
			if (probe >= 0)
				close(probe);
		}
		unlink(sa.sun_path);
	}
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->lfd < 0)
		goto fail;
	if (bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	/* Anyone may connect: an ordinary user's `agentwall run` asks here
	 * for its session. What a peer may ask is decided per request from
	 * its credentials (see handle_request); sessions never see the
	 * socket (it is masked in their mount namespace). */
	if (chmod(sa.sun_path, 0666) < 0)
		goto fail;
	if (d->opts.ctl_gid != (gid_t)-1 &&
	    chown(sa.sun_path, 0, d->opts.ctl_gid) < 0)
		goto fail;
	if (listen(c->lfd, 16) < 0)
		goto fail;
	*ret = c;
	return 0;
fail:
	r = -errno;
	snprintf(err, errlen, "%s: %s", sa.sun_path, strerror(errno));
	if (c->lfd >= 0)
		close(c->lfd);
	free(c);
	return r;
}

static int peer_allowed(struct aw_control *c, int fd, uid_t *ret_uid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	gid_t groups[256];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return 0;
	*ret_uid = cr.uid;
	if (cr.uid == 0)
		return 1;
	if (c->d->opts.ctl_gid == (gid_t)-1)
		return 0;
	if (cr.gid == c->d->opts.ctl_gid)
		return 1;
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return 0;
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == c->d->opts.ctl_gid)
			return 1;
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void client_close(struct aw_control *c, struct ctl_client *cl, int epfd)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, cl->fd, NULL);
	close(cl->fd);
	cl->fd = -1;
	if (cl->passed_fd >= 0)
		close(cl->passed_fd);
	cl->passed_fd = -1;
	aw_buf_free(&cl->out);
	cl->out_off = 0;
	cl->req_len = 0;
}

static void reap_idle(struct aw_control *c, int epfd)
{
	uint64_t now = mono_ns();

	for (size_t i = 0; i < CTL_MAX_CLIENTS; i++)
		if (c->clients[i].fd >= 0 &&
		    now - c->clients[i].since > CTL_IDLE_NS)
			client_close(c, &c->clients[i], epfd);
}

static void accept_clients(struct aw_control *c, int epfd)
{
	for (;;) {
		int fd =
		    accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct ctl_client *cl = NULL;
		struct epoll_event ev = {.events = EPOLLIN};

		if (fd < 0)
			return;
		uid_t uid = (uid_t)-1;
		int privileged = peer_allowed(c, fd, &uid);

		reap_idle(c, epfd);
		for (size_t i = 0; i < CTL_MAX_CLIENTS; i++) {
			if (c->clients[i].fd < 0) {
				cl = &c->clients[i];
				break;
			}
		}
		if (!cl) {
			static const char msg[] = "error: busy, try again\n";

			if (write(fd, msg, sizeof(msg) - 1) < 0) {
			}
			close(fd);
			continue;
		}
		memset(cl, 0, sizeof(*cl));
		cl->fd = fd;
		cl->passed_fd = -1;
		cl->uid = uid;
		cl->privileged = privileged;
		cl->since = mono_ns();
		ev.data.fd = fd;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			cl->fd = -1;
		}
	}
}

/*
 * `agentwall log` for someone who cannot read the store (it is root's,
 * or the group's): the daemon runs the query on a read-only connection
 * of its own, restricted to the sessions the peer's uid started (root
 * and the group see all, as they could read the file). Bounded: at most
 * LOG_ROWS_MAX rows a request (the newest); `--follow` asks again with
 * the last id. Reply: "r TEXT" per row, then "end last=ID".
 */
#define LOG_ROWS_MAX 5000

struct log_out {
	struct aw_buf *b;
	int json;
};

static int log_row(void *ud, const char *text, const char *json)
{
	struct log_out *o = ud;
	const char *s = o->json ? json : text;

	aw_buf_puts(o->b, "r ");
	aw_text_sanitize(o->b, s ? s : "", s ? strlen(s) : 0);
	aw_buf_puts(o->b, "\n");
	return 0;
}

static void log_query(struct aw_control *c, struct ctl_client *cl,
		      const char *args)
{
	char agent[128], action[64], decision[32], v[64], err[256];
	struct aw_store_query q = {.last_id = NULL};
	struct log_out o = {.b = &cl->out};
	struct aw_store *st = NULL;
	uint64_t last = 0, n;
	int r;

	if (aw_kv_get(args, "session", v, sizeof(v)) == 0) {
		char *end;

		q.session = strtoull(v, &end, 16);
		if (*end || !v[0]) {
			aw_buf_puts(&cl->out, "error: session: hex id\n");
			return;
		}
	}
	if (aw_kv_get(args, "agent", agent, sizeof(agent)) == 0)
		q.agent = agent;
	if (aw_kv_get(args, "action", action, sizeof(action)) == 0)
		q.action = action;
	if (aw_kv_get(args, "decision", decision, sizeof(decision)) == 0)
		q.decision = decision;
	if (aw_kv_get(args, "since", v, sizeof(v)) == 0)
		aw_parse_u64(v, &q.since_ns);
	if (aw_kv_get(args, "until", v, sizeof(v)) == 0)
		aw_parse_u64(v, &q.until_ns);
	if (aw_kv_get(args, "after", v, sizeof(v)) == 0)
		aw_parse_u64(v, &q.after_id);
	if (aw_kv_get(args, "limit", v, sizeof(v)) == 0 &&
	    aw_parse_u64(v, &n) == 0)
		q.limit = n;
	if (!q.limit || q.limit > LOG_ROWS_MAX)
		q.limit = LOG_ROWS_MAX;
	o.json = aw_kv_get(args, "json", v, sizeof(v)) == 0 && !strcmp(v, "1");
	if (!cl->privileged) {
		q.by_owner = 1;
		q.owner_uid = (uint32_t)cl->uid;
	}
	q.last_id = &last;
	r = aw_store_open_ro(c->d->opts.store_path, &st, err, sizeof(err));
	if (r < 0) {
		aw_buf_printf(&cl->out, "error: store: %s\n", err);
		return;
	}
	r = aw_store_query_events(st, &q, log_row, &o);
	aw_store_close(st);
	if (r < 0) {
		aw_buf_printf(&cl->out, "error: query: %s\n", strerror(-r));
		return;
	}
	if (!last)
		last = q.after_id;
	aw_buf_printf(&cl->out, "end last=%llu\n", (unsigned long long)last);
}

static void handle_request(struct aw_control *c, struct ctl_client *cl,
			   const char *req)
{
	struct aw_daemon *d = c->d;
	struct aw_buf *b = &cl->out;

	/* What any local user may ask: a session for itself, a report for
	 * the session it is in, ping. */
	if (!strncmp(req, "session-open ", 13) ||
	    !strcmp(req, "session-open")) {
		aw_session_open(d, cl->fd, req + 12, b);
		return;
	}
	if (!strncmp(req, "session-report ", 15)) {
		aw_session_report(d, cl->fd, req + 15, b);
		return;
	}
	if (!strncmp(req, "session-ready ", 14)) {
		aw_session_ready(d, cl->fd, req + 14, b);
		return;
	}
	if (!strncmp(req, "session-secrets ", 16)) {
		char v[8];

		/* ready=1: the launcher's last request before the session's
		 * first process also waits for its cgroup move (one round
		 * trip, not two): "ready" first, then the marks' reply; a
		 * failed move is the only reply. */
		if (aw_kv_get(req + 16, "ready", v, sizeof(v)) == 0 &&
		    !strcmp(v, "1")) {
			size_t at = b->len;

			aw_session_ready(d, cl->fd, req + 16, b);
			if (b->len - at < 2 || strncmp(b->data + at, "ok", 2))
				return;
			b->len = at;
			aw_buf_puts(b, "ready\n");
		}
		aw_secrets_request(d, cl->fd, req + 16, b);
		return;
	}
	if (!strncmp(req, "session-masks ", 14)) {
		aw_secrets_masks(d, cl->fd, req + 14, cl->passed_fd, b);
		return;
	}
	/* Kept sessions: each peer sees and changes its own (root and the
	 * group see all; see session_images.c for who may do what). */
	if (!strcmp(req, "session-list")) {
		aw_stores_list(d, cl->fd, cl->privileged, b);
		return;
	}
	if (!strncmp(req, "session-review ", 15)) {
		aw_stores_review(d, cl->fd, cl->privileged, req + 15, b);
		return;
	}
	if (!strcmp(req, "ping")) {
		aw_buf_puts(b, "ok\n");
		return;
	}
	/* Events: each peer reads its own sessions' (log_query). */
	if (!strncmp(req, "log-query", 9) && (!req[9] || req[9] == ' ')) {
		log_query(c, cl, req + 9);
		return;
	}
	/* Live sessions: `agentwall top` of an ordinary user shows the
	 * sessions its uid started, as log-query does; root and the group
	 * see all. */
	if (!strcmp(req, "ps") || !strcmp(req, "ps --json")) {
		aw_ps_render(d, b, req[2] != 0,
			     cl->privileged ? -1 : (int64_t)cl->uid);
		if (req[2])
			aw_buf_puts(b, "\n");
		return;
	}
	if (!cl->privileged) {
		c->rejected++;
		aw_buf_puts(b, "error: permission denied (root or the "
			       "configured group only)\n");
		return;
	}
	if (!strcmp(req, "status")) {
		aw_status_json(d, b);
		aw_buf_puts(b, "\n");
	} else if (!strcmp(req, "reload")) {
		char err[1024];

		/* The group may look; changing what is classified is root's. */
		if (cl->uid != 0) {
			aw_buf_puts(b, "error: reload needs root\n");
		} else if (aw_daemon_reload_signatures(d, err, sizeof(err)) <
			   0) {
			aw_buf_puts(b, "error: reload refused, the previous "
				       "signatures stay in force: ");
			aw_buf_puts(b, err);
			aw_buf_puts(b, "\n");
		} else {
			aw_buf_printf(b,
				      "ok: %zu signatures loaded "
				      "(generation %llu)\n",
				      d->db.n_sigs,
				      (unsigned long long)d->sig_generation);
			aw_events_emit_simple(d, "signatures-reload", 0, NULL,
					      "control/reload", NULL);
		}
	} else if (!strcmp(req, "policy-load")) {
		char err[1024];

		if (cl->uid != 0) {
			aw_buf_puts(b, "error: policy load needs root\n");
		} else if (aw_daemon_reload_policies(d, err, sizeof(err)) < 0) {
			aw_buf_puts(b,
				    "error: policy refused, the one in force "
				    "stays: ");
			aw_buf_puts(b, err);
			aw_buf_puts(b, "\n");
		} else {
			aw_buf_printf(b,
				      "ok: %zu policies loaded (generation "
				      "%llu)\n",
				      d->policies.n_pols,
				      (unsigned long long)d->policy_generation);
			aw_events_emit_simple(d, "policy-load", 0, NULL,
					      "control/policy-load", NULL);
		}
	} else if (!strcmp(req, "policy-list")) {
		for (size_t i = 0; i < d->policies.n_pols; i++) {
			const struct aw_policy *p = &d->policies.pols[i];

			aw_buf_printf(b, "%s\t%s\t%s\n", p->id,
				      p->extends ? p->extends : "-", p->file);
		}
	} else {
		c->bad_requests++;
		aw_buf_puts(b, "error: unknown request \"");
		aw_text_sanitize(b, req, strlen(req));
		aw_buf_puts(b,
			    "\" (expected status, ps, ps --json, reload, "
			    "policy-load, policy-list, session-open, "
			    "session-report, session-ready, session-secrets, "
			    "session-masks, "
			    "session-list, "
			    "session-review, log-query, ping)\n");
	}
}

static void client_io(struct aw_control *c, struct ctl_client *cl, int epfd,
		      uint32_t events)
{
	if (events & EPOLLIN && !cl->out.len) {
		char cbuf[CMSG_SPACE(4 * sizeof(int))];
		struct iovec iov = {.iov_base = cl->req + cl->req_len,
				    .iov_len =
					sizeof(cl->req) - 1 - cl->req_len};
		struct msghdr m = {.msg_iov = &iov,
				   .msg_iovlen = 1,
				   .msg_control = cbuf,
				   .msg_controllen = sizeof(cbuf)};
		ssize_t n = recvmsg(cl->fd, &m, MSG_CMSG_CLOEXEC);
		char *nl;

		/* Descriptors: the first one kept, any other closed. */
		for (struct cmsghdr *h = n >= 0 ? CMSG_FIRSTHDR(&m) : NULL; h;
		     h = CMSG_NXTHDR(&m, h)) {
			size_t k;

			if (h->cmsg_level != SOL_SOCKET ||
			    h->cmsg_type != SCM_RIGHTS)
				continue;
			k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t j = 0; j < k; j++) {
				int pfd;

				memcpy(&pfd, CMSG_DATA(h) + j * sizeof(int),
				       sizeof(int));
				if (cl->passed_fd < 0)
					cl->passed_fd = pfd;
				else
					close(pfd);
			}
		}

		if (n <= 0) {
			/* Closed before a whole request, or an error. */
			if (n == 0 || (errno != EAGAIN && errno != EINTR))
				client_close(c, cl, epfd);
			return;
		}
		cl->req_len += n;
		cl->req[cl->req_len] = 0;
		nl = memchr(cl->req, '\n', cl->req_len);
		if (!nl && memchr(cl->req, 0, cl->req_len))
			nl = memchr(cl->req, 0, cl->req_len);
		if (!nl) {
			if (cl->req_len >= sizeof(cl->req) - 1) {
				c->bad_requests++;
				aw_buf_puts(&cl->out, "error: request too long "
						      "(max 16383 bytes)\n");
			} else {
				return;
			}
		} else {
			*nl = 0;
			if (nl > cl->req && nl[-1] == '\r')
				nl[-1] = 0;
			handle_request(c, cl, cl->req);
		}
		if (cl->out.oom) {
			client_close(c, cl, epfd);
			return;
		}
		{
			struct epoll_event ev = {.events = EPOLLOUT,
						 .data.fd = cl->fd};

			epoll_ctl(epfd, EPOLL_CTL_MOD, cl->fd, &ev);
		}
		events |= EPOLLOUT;
	}
	if (events & EPOLLOUT && cl->out.len) {
		ssize_t n = write(cl->fd, cl->out.data + cl->out_off,
				  cl->out.len - cl->out_off);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			client_close(c, cl, epfd);
			return;
		}
		cl->out_off += n;
		if (cl->out_off >= cl->out.len)
			client_close(c, cl, epfd);
		return;
	}
	if (events & (EPOLLHUP | EPOLLERR))
		client_close(c, cl, epfd);
}

void aw_control_handle(struct aw_control *c, int epfd, int fd, uint32_t events)
{
	if (fd == c->lfd) {
		accept_clients(c, epfd);
		return;
	}
	for (size_t i = 0; i < CTL_MAX_CLIENTS; i++) {
		if (c->clients[i].fd == fd) {
			client_io(c, &c->clients[i], epfd, events);
			return;
		}
	}
}

void aw_control_close(struct aw_control *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < CTL_MAX_CLIENTS; i++) {
		if (c->clients[i].fd >= 0)
			close(c->clients[i].fd);
		aw_buf_free(&c->clients[i].out);
	}
	if (c->lfd >= 0)
		close(c->lfd);
	unlink(c->d->opts.socket_path);
	free(c);
}

/* ---- status and ps ---- */

struct count_ctx {
	size_t live;
	size_t procs_live;
};

static void count_sess(void *ud, struct aw_sessioninfo *s)
{
	struct count_ctx *c = ud;

	if (!s->ended_ns)
		c->live++;
}

void aw_status_json(struct aw_daemon *d, struct aw_buf *b)
{
	uint64_t st[AW_STAT_MAX];
	struct count_ctx cc = {};
	char t[64];

	aw_kernel_stats(d->kernel, st);
	aw_sessions_each(d->procs, count_sess, &cc);
	aw_buf_printf(b,
		      "{\"daemon\":{\"pid\":%d,\"version\":\"" AW_VERSION "\",",
		      (int)getpid());
	aw_format_time(d->started_ns, t, sizeof(t));
	aw_json_key(b, "started");
	aw_json_cstr(b, t);
	aw_buf_printf(b, ",\"mode\":\"%s\",\"scope\":",
		      d->opts.mode == AW_MODE_ENFORCE ? "enforce" : "audit");
	if (d->opts.scope_kind == AW_SCOPE_HOST) {
		aw_buf_puts(b, "\"host\"");
	} else {
		struct aw_buf tmp = {};

		aw_buf_puts(&tmp, "cgroup:");
		aw_buf_puts(&tmp, d->opts.scope_path);
		aw_json_str(b, tmp.data, tmp.len);
		aw_buf_free(&tmp);
	}
	aw_buf_puts(b, ",");
	aw_json_key(b, "store");
	aw_json_cstr(b, d->opts.store_path);
	aw_buf_puts(b, ",");
	aw_json_key(b, "socket");
	aw_json_cstr(b, d->opts.socket_path);
	aw_buf_puts(b, ",");
	aw_json_key(b, "bpffs_dir");
	aw_json_cstr(b, d->opts.bpffs_dir);
	aw_buf_puts(b, ",");
	aw_json_key(b, "export");
	aw_json_cstr(b, d->opts.export_path[0] ? d->opts.export_path : NULL);
	aw_buf_puts(b, d->opts.export_ocsf ? ",\"export_format\":\"ocsf\""
					   : ",\"export_format\":\"native\"");
	aw_buf_puts(b, "},\"outputs\":");
	aw_outputs_status(d->outputs, b);
	aw_buf_puts(b, ",\"kernel\":");
	aw_probe_json(&d->probe, b);
	aw_buf_printf(b,
		      ",\"signatures\":{\"count\":%zu,\"generation\":%llu,"
		      "\"source\":",
		      d->db.n_sigs, (unsigned long long)d->sig_generation);
	aw_json_cstr(b, d->opts.sig_dir[0] ? d->opts.sig_dir
					   : "embedded+" AW_DEFAULT_EXTRA_SIGS);
	aw_buf_printf(b, ",\"learned_files\":%zu", d->n_learned);
	aw_buf_puts(b, ",\"last_error\":");
	aw_json_cstr(b, d->sig_error[0] ? d->sig_error : NULL);
	aw_buf_printf(b,
		      "},\"policies\":{\"count\":%zu,\"generation\":%llu,"
		      "\"source\":",
		      d->policies.n_pols,
		      (unsigned long long)d->policy_generation);
	aw_json_cstr(b, d->opts.policy_dir[0]
			    ? d->opts.policy_dir
			    : "embedded+" AW_DEFAULT_EXTRA_POLICIES);
	aw_buf_puts(b, ",\"last_error\":");
	aw_json_cstr(b, d->policy_error[0] ? d->policy_error : NULL);
	/* What this backend enforces, and how: said, not implied. */
	aw_buf_puts(b, "},\"enforcement\":{\"forced_containment\":");
	aw_json_cstr(b, d->opts.mode == AW_MODE_ENFORCE
			    ? "on: agents caught at exec are stopped and "
			      "re-executed into a sandboxed session"
			    : "off: audit mode records sessions only");
	aw_buf_puts(b, ",\"launcher\":");
	aw_json_cstr(b, d->opts.launcher);
	aw_buf_printf(b,
		      ",\"forced\":%llu,\"killed_no_daemon\":%llu,"
		      "\"killed_continued\":%llu,\"killed_traced\":%llu,"
		      "\"content_held\":%llu,"
		      "\"sandboxed_sessions\":%zu,\"in_place_decisions\":%s},",
		      (unsigned long long)st[AW_STAT_FORCED],
		      (unsigned long long)st[AW_STAT_FORCE_KILLED],
		      (unsigned long long)st[AW_STAT_FORCE_CONTINUED],
		      (unsigned long long)st[AW_STAT_FORCE_TRACED],
		      (unsigned long long)st[AW_STAT_CONTENT_HELD],
		      d->n_sandboxes,
		      d->probe.bpf_lsm_loads ? "\"available (BPF LSM), not "
					       "used by this build\""
					     : "\"none: no BPF LSM\"");
	/* What this (portable) backend cannot close, said here and in the
	 * docs (docs/sandbox.md, "What is observed, and what is not"). */
	aw_buf_puts(b, "\"not_enforced\":[");
	{
		static const char *const gaps[] = {
		    "a masked path absent at session start outside a "
		    "copy-on-write tree is not masked by name if created "
		    "during the session (the session's notice lists them)",
		    "writes outside the grants fail read-only (EROFS) "
		    "without a record",
		    "signals to processes outside the session fail (pid "
		    "namespace, Landlock scope) without a record",
		    "/proc/net in a session in the host's network namespace "
		    "lists that namespace's sockets",
		    "a hard link to a masked socket connects (connect is not "
		    "an open)",
		};

		for (size_t i = 0; i < AW_ARRAY_SIZE(gaps); i++) {
			if (i)
				aw_buf_puts(b, ",");
			aw_json_cstr(b, gaps[i]);
		}
	}
	aw_buf_puts(b, "],\"secrets\":");
	aw_secrets_status(d, b);
	aw_buf_puts(b, ",\"network\":");
	aw_net_status(d, b);
	aw_buf_puts(b, ",");
	aw_inventory_status(d, b);
	aw_buf_puts(b, ",");
	aw_buf_printf(b, "\"sessions\":{\"live\":%zu,\"opened\":%llu},",
		      cc.live, (unsigned long long)st[AW_STAT_SESSIONS]);
	aw_buf_printf(b,
		      "\"events\":{\"kernel_submitted\":%llu,\"received\":%llu,"
		      "\"stored\":%llu,\"decode_errors\":%llu},",
		      (unsigned long long)st[AW_STAT_EVENTS],
		      (unsigned long long)d->events_seen,
		      (unsigned long long)(d->writer
					       ? aw_writer_committed(d->writer)
					       : 0),
		      (unsigned long long)d->decode_errors);
	{
		/* The chain's committed head: pinned outside the store (a
		 * monitoring system's copy, log --verify --anchor), it shows
		 * a store rewritten or cut short later. */
		uint8_t h[AW_CHAIN_HASH];
		char hex[2 * AW_CHAIN_HASH + 1];
		uint64_t id, rows;

		if (d->store &&
		    aw_store_chain_head(d->store, &id, h, &rows) == 0) {
			aw_chain_hex(h, hex);
			aw_buf_printf(b,
				      "\"chain\":{\"head_id\":%llu,"
				      "\"head_hash\":\"%s\",\"rows\":%llu},",
				      (unsigned long long)id, hex,
				      (unsigned long long)rows);
		}
	}
	aw_buf_printf(b,
		      "\"drops\":{\"exec\":%llu,\"fork\":%llu,\"exit\":%llu,"
		      "\"force\":%llu,"
		      "\"storage\":%llu,\"user\":%llu,\"total\":%llu},",
		      (unsigned long long)st[AW_STAT_DROP_EXEC],
		      (unsigned long long)st[AW_STAT_DROP_FORK],
		      (unsigned long long)st[AW_STAT_DROP_EXIT],
		      (unsigned long long)st[AW_STAT_DROP_FORCE],
		      (unsigned long long)st[AW_STAT_STORAGE_FAIL],
		      (unsigned long long)aw_daemon_user_drops(d),
		      (unsigned long long)(st[AW_STAT_DROP_EXEC] +
					   st[AW_STAT_DROP_FORK] +
					   st[AW_STAT_DROP_EXIT] +
					   st[AW_STAT_DROP_FORCE] +
					   st[AW_STAT_STORAGE_FAIL] +
					   aw_daemon_user_drops(d)));
	aw_buf_printf(b, "\"process_cache\":%zu}", aw_procs_count(d->procs));
}

/* One row of a session tree: the process and its lineage from the root,
 * which is also the sort key (depth-first order, siblings by age). */
struct ps_item {
	struct aw_procinfo *pi;
	size_t n;
	struct aw_procinfo *lin[64];
};

struct ps_ctx {
	struct aw_daemon *d;
	struct aw_buf *b;
	int json;
	int first;
	int64_t only_uid; /* -1: every session */
	struct aw_sessioninfo *sess;
	struct ps_item *items;
	size_t n, cap;
};

static int ps_has(struct ps_ctx *c, struct aw_procinfo *pi)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->items[i].pi == pi)
			return 1;
	return 0;
}

static void ps_add(struct ps_ctx *c, struct aw_procinfo *pi)
{
	struct ps_item *it;

	if (ps_has(c, pi))
		return;
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 32;
		struct ps_item *np = realloc(c->items, nc * sizeof(*np));

		if (!np)
			return;
		c->items = np;
		c->cap = nc;
	}
	it = &c->items[c->n++];
	it->pi = pi;
	it->n =
	    aw_procs_lineage(c->d->procs, pi, it->lin, AW_ARRAY_SIZE(it->lin));
}

static void collect_proc(void *ud, struct aw_procinfo *pi)
{
	struct ps_ctx *c = ud;
	size_t before = c->n;

	if (pi->session != c->sess->session || !pi->live)
		return;
	ps_add(c, pi);
	/* Exited ancestors of a live process stay in the tree, marked, so
	 * that its place (double fork, daemon) is still visible. */
	if (c->n > before) {
		struct ps_item *it = &c->items[c->n - 1];
		struct aw_procinfo *lin[64];
		size_t n = it->n;

		memcpy(lin, it->lin, n * sizeof(lin[0]));
		for (size_t i = 0; i + 1 < n; i++)
			if (!lin[i]->live)
				ps_add(c, lin[i]);
	}
}

static int cmp_item(const void *a, const void *b)
{
	const struct ps_item *x = a, *y = b;

	for (size_t i = 0; i < x->n && i < y->n; i++) {
		const struct aw_procinfo *p = x->lin[i], *q = y->lin[i];

		if (p == q)
			continue;
		if (p->start_time != q->start_time)
			return p->start_time < q->start_time ? -1 : 1;
		return p->pid < q->pid ? -1 : 1;
	}
	return x->n < y->n ? -1 : x->n > y->n;
}

static void argv_text(struct aw_buf *b, const struct aw_procinfo *pi)
{
	size_t i = 0;

	while (pi->argv && i < pi->argv_len) {
		size_t n = strnlen(pi->argv + i, pi->argv_len - i);

		if (i)
			aw_buf_puts(b, " ");
		aw_text_sanitize(b, pi->argv + i, n > 120 ? 120 : n);
		i += n + 1;
		if (i > 240) {
			aw_buf_puts(b, " ...");
			break;
		}
	}
}

static void ps_session(void *ud, struct aw_sessioninfo *s)
{
	struct ps_ctx *c = ud;
	const struct aw_sigref *sig = aw_daemon_sig(c->d, s->agent);
	struct aw_buf *b = c->b;
	const struct aw_kept *kept;
	char sid[32], t[64];

	if (s->ended_ns || (c->only_uid >= 0 && (int64_t)s->uid != c->only_uid))
		return;
	kept = aw_stores_find(c->d, s->session);
	c->sess = s;
	c->n = 0;
	aw_procs_each(c->d->procs, collect_proc, c);
	qsort(c->items, c->n, sizeof(*c->items), cmp_item);
	/* A session `agentwall run` opened for a command it did not
	 * classify (a shell, a wrapper) learns its agent when one execs
	 * inside: name the first, as its events do. */
	for (size_t i = 0; !sig && i < c->n; i++)
		sig = aw_daemon_sig(c->d, c->items[i].pi->agent);
	snprintf(sid, sizeof(sid), "%016llx", (unsigned long long)s->session);
	aw_format_time(s->started_ns, t, sizeof(t));

	if (c->json) {
		aw_buf_printf(b, "%s{\"session\":\"%s\",\"agent\":",
			      c->first ? "" : ",", sid);
		aw_json_agent(b, sig, s->version);
		aw_buf_printf(b, ",\"root_pid\":%u,\"uid\":%u,\"started\":",
			      s->root_pid, s->uid);
		aw_json_cstr(b, t);
		aw_buf_puts(b, ",\"matched\":");
		aw_json_cstr(b, s->matched);
		aw_buf_puts(b, ",\"policy\":");
		aw_json_cstr(b, kept && kept->policy[0] ? kept->policy : NULL);
		aw_buf_printf(b, ",\"events\":%llu,\"processes\":[",
			      (unsigned long long)s->events);
		for (size_t i = 0; i < c->n; i++) {
			struct aw_procinfo *pi = c->items[i].pi;
			const struct aw_sigref *ps =
			    pi->subagent ? aw_daemon_sig(c->d, pi->agent)
					 : NULL;

			aw_buf_printf(b,
				      "%s{\"pid\":%u,\"ppid\":%u,"
				      "\"spawner\":%u,\"depth\":%zu,"
				      "\"live\":%s,\"exe\":",
				      i ? "," : "", pi->pid, pi->ppid,
				      pi->spawner, c->items[i].n - 1,
				      pi->live ? "true" : "false");
			aw_json_cstr(b, pi->exe);
			aw_buf_puts(b, ",\"argv\":");
			aw_json_argv(b, pi->argv, pi->argv_len);
			aw_buf_puts(b, ",\"subagent\":");
			aw_json_cstr(b, ps ? ps->id : NULL);
			aw_buf_puts(b, ",\"tool\":");
			aw_json_cstr(b, pi->tool);
			aw_buf_puts(b, "}");
		}
		aw_buf_puts(b, "]}");
	} else {
		aw_buf_printf(b, "session %s  %s", sid, sig ? sig->id : "?");
		if (sig)
			aw_buf_printf(b, " (%s %s%s%s, %s)", sig->vendor,
				      sig->product, s->version ? " " : "",
				      s->version ? s->version : "", sig->class);
		if (kept && kept->policy[0])
			aw_buf_printf(b, "  policy %s", kept->policy);
		aw_buf_printf(b, "  uid %u  since %.19s  %llu events\n", s->uid,
			      t, (unsigned long long)s->events);
		for (size_t i = 0; i < c->n; i++) {
			struct ps_item *it = &c->items[i];
			struct aw_procinfo *pi = it->pi;
			struct aw_procinfo *up =
			    it->n > 1 ? it->lin[it->n - 2] : NULL;
			size_t depth = it->n - 1;

			aw_buf_puts(b, "  ");
			for (size_t k = 1; k < depth && k < 20; k++)
				aw_buf_puts(b, "   ");
			aw_buf_printf(b, "%s%u ", depth ? "└─ " : "", pi->pid);
			argv_text(b, pi);
			if (!pi->live)
				aw_buf_puts(b, "  (exited)");
			/* Mark where a sub-agent starts, not every process
			 * below it. */
			if (pi->tool &&
			    (!up || !up->tool || strcmp(up->tool, pi->tool))) {
				aw_buf_puts(b, "  [tool ");
				aw_text_sanitize(b, pi->tool, strlen(pi->tool));
				aw_buf_puts(b, ", mcp-server]");
			} else if (!pi->tool && pi->subagent &&
				   (!up || up->agent != pi->agent ||
				    !up->subagent)) {
				const struct aw_sigref *ps =
				    aw_daemon_sig(c->d, pi->agent);

				aw_buf_printf(b, "  [sub-agent %s, %s]",
					      ps ? ps->id : "?",
					      ps ? ps->class : "?");
			}
			if (pi->ppid != pi->spawner && pi->spawner)
				aw_buf_printf(b, "  (reparented to %u)",
					      pi->ppid);
			aw_buf_puts(b, "\n");
		}
	}
	c->first = 0;
}

void aw_ps_render(struct aw_daemon *d, struct aw_buf *b, int json,
		  int64_t only_uid)
{
	struct ps_ctx c = {
	    .d = d, .b = b, .json = json, .first = 1, .only_uid = only_uid};

	if (json)
		aw_buf_puts(b, "[");
	aw_sessions_each(d->procs, ps_session, &c);
	if (json)
		aw_buf_puts(b, "]");
	else if (c.first)
		aw_buf_puts(b, "no live agent sessions\n");
	free(c.items);
}
