// SPDX-License-Identifier: GPL-2.0-only
/*
 * The metrics endpoint (--metrics ADDR:PORT): GET /metrics over HTTP/1.x
 * on a thread of its own, so that a scraper, slow or hostile, never
 * holds the event loop. It reads the counters (metrics.c) and nothing
 * else of the daemon's.
 *
 * Bounded in every direction: at most HTTP_CONNS connections (one more
 * is told 503 and closed), a request of at most HTTP_REQ_MAX bytes
 * (headers included; a body is never read), and HTTP_DEADLINE_MS from
 * accept to the last byte of the answer, whatever the client sends or
 * reads in between (a client trickling bytes, or reading its answer a
 * byte a second, is closed at the deadline). One request per
 * connection. Everything is non-blocking on one epoll.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon/metrics.h"
#include "shared/util.h"

#define HTTP_CONNS 8
#define HTTP_REQ_MAX 8192
#define HTTP_DEADLINE_MS 5000
#define HTTP_BACKLOG 16

#define CT_OPENMETRICS                                                         \
	"application/openmetrics-text; version=1.0.0; charset=utf-8"
#define CT_PROMETHEUS "text/plain; version=0.0.4; charset=utf-8"

struct conn {
	int fd; /* -1: free */
	uint64_t deadline_ms;
	size_t len;    /* request bytes read */
	int answering; /* the answer is in out */
	size_t sent;
	struct aw_buf out;
	char req[HTTP_REQ_MAX + 1];
};

struct aw_metrics_server {
	struct aw_metrics *m;
	int lfd, stop_fd, epfd;
	pthread_t thread;
	struct conn c[HTTP_CONNS];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int aw_metrics_parse_listen(const char *addr, int allow_remote,
			    struct sockaddr_storage *ret, socklen_t *ret_len,
			    char *err, size_t errlen)
{
	struct sockaddr_storage ss = {};
	char host[INET6_ADDRSTRLEN + 8];
	const char *colon, *port_s;
	uint64_t port;
	size_t hl;
	int loopback;

	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (!close || close[1] != ':')
			goto syntax;
		hl = (size_t)(close - addr - 1);
		if (hl >= sizeof(host))
			goto syntax;
		memcpy(host, addr + 1, hl);
		port_s = close + 2;
	} else {
		colon = strrchr(addr, ':');
		if (!colon || strchr(addr, ':') != colon)
			goto syntax;
		hl = (size_t)(colon - addr);
		if (hl >= sizeof(host))
			goto syntax;
		memcpy(host, addr, hl);
		port_s = colon + 1;
	}
	host[hl] = 0;
	if (aw_parse_u64(port_s, &port) < 0 || port == 0 || port > 65535)
		goto syntax;
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	if (addr[0] != '[') {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			goto syntax;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
		*ret_len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			goto syntax;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
			   (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
			    in6->sin6_addr.s6_addr[12] == 127);
		*ret_len = sizeof(*in6);
	}
	/* The endpoint has no authentication and no TLS; what it says
	 * (agents, policies, how busy they are) is for this host. */
	if (!loopback && !allow_remote) {
		snprintf(err, errlen,
			 "%s is not a loopback address: the metrics endpoint "
			 "has no authentication (add metrics-allow-remote to "
			 "serve it beyond this host)",
			 addr);
		return -EPERM;
	}
	*ret = ss;
	return 0;
syntax:
	snprintf(err, errlen,
		 "%s: expected ADDR:PORT, [ADDR6]:PORT or localhost:PORT "
		 "(port 1-65535)",
		 addr);
	return -EINVAL;
}

static void conn_close(struct aw_metrics_server *s, struct conn *c)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	aw_buf_free(&c->out);
}

static void status(struct conn *c, int code, const char *text,
		   const char *extra)
{
	aw_buf_printf(&c->out,
		      "HTTP/1.1 %d %s\r\nContent-Type: text/plain; "
		      "charset=utf-8\r\nContent-Length: %zu\r\n%s"
		      "Connection: close\r\n\r\n%s\n",
		      code, text, strlen(text) + 1, extra ? extra : "", text);
}

/* A header's value (case-insensitive name), or NULL; hdrs ends with the
 * blank line, NUL-terminated. */
static const char *header(const char *hdrs, const char *name, size_t *ret_len)
{
	size_t nl = strlen(name);

	for (const char *l = strchr(hdrs, '\n'); l; l = strchr(l, '\n')) {
		const char *v;

		l++;
		if (strncasecmp(l, name, nl) || l[nl] != ':')
			continue;
		v = l + nl + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		*ret_len = strcspn(v, "\r\n");
		return v;
	}
	return NULL;
}

static int has(const char *v, size_t n, const char *what)
{
	size_t wl = strlen(what);

	for (size_t i = 0; i + wl <= n; i++)
		if (!strncasecmp(v + i, what, wl))
			return 1;
	return 0;
}

/* The request is complete (up to its blank line): make the answer. */
static void answer(struct aw_metrics_server *s, struct conn *c)
{
	char *sp1, *sp2, *eol;
	const char *accept;
	size_t alen = 0;
	int head, om = 1;
	struct aw_buf body = {};

	c->answering = 1;
	eol = strchr(c->req, '\n');
	sp1 = memchr(c->req, ' ', (size_t)(eol - c->req));
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (!sp1 || !sp2 || strncmp(sp2 + 1, "HTTP/1.", 7)) {
		aw_metrics_rejected(s->m, AW_METRICS_REJ_BAD);
		status(c, 400, "Bad Request", NULL);
		return;
	}
	*sp1 = *sp2 = 0;
	head = !strcmp(c->req, "HEAD");
	if (strcmp(sp1 + 1, "/metrics") && strncmp(sp1 + 1, "/metrics?", 9)) {
		aw_metrics_rejected(s->m, AW_METRICS_REJ_PATH);
		status(c, 404, "Not Found", NULL);
		return;
	}
	if (!head && strcmp(c->req, "GET")) {
		aw_metrics_rejected(s->m, AW_METRICS_REJ_METHOD);
		status(c, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n");
		return;
	}
	/* OpenMetrics unless the client asks for the Prometheus text
	 * format only (text/plain, and no openmetrics-text). */
	accept = header(sp2 + 1, "Accept", &alen);
	if (accept && !has(accept, alen, "application/openmetrics-text") &&
	    has(accept, alen, "text/plain"))
		om = 0;
	aw_metrics_render(s->m, &body, om);
	if (body.oom) {
		aw_buf_free(&body);
		status(c, 503, "Service Unavailable", NULL);
		return;
	}
	aw_buf_printf(&c->out,
		      "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n"
		      "Content-Length: %zu\r\nCache-Control: no-store\r\n"
		      "Connection: close\r\n\r\n",
		      om ? CT_OPENMETRICS : CT_PROMETHEUS, body.len);
	if (!head)
		aw_buf_add(&c->out, body.data, body.len);
	aw_buf_free(&body);
	if (c->out.oom) {
		aw_buf_reset(&c->out);
		c->out.oom = 0;
		status(c, 503, "Service Unavailable", NULL);
	}
}

static void conn_write(struct aw_metrics_server *s, struct conn *c)
{
	while (c->sent < c->out.len) {
		ssize_t n =
		    send(c->fd, c->out.data + c->sent, c->out.len - c->sent,
			 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return; /* EPOLLOUT brings us back */
			break;
		}
		c->sent += (size_t)n;
	}
	/* All sent (or the peer went): done. */
	shutdown(c->fd, SHUT_WR);
	conn_close(s, c);
}

static void conn_read(struct aw_metrics_server *s, struct conn *c)
{
	for (;;) {
		ssize_t n;

		if (c->len == HTTP_REQ_MAX) {
			aw_metrics_rejected(s->m, AW_METRICS_REJ_TOO_LARGE);
			status(c, 431, "Request Header Fields Too Large", NULL);
			c->answering = 1;
			break;
		}
		n = recv(c->fd, c->req + c->len, HTTP_REQ_MAX - c->len,
			 MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_close(s, c);
			return;
		}
		if (n < 0)
			return; /* wait for more */
		c->len += (size_t)n;
		c->req[c->len] = 0;
		if (memchr(c->req, 0, c->len)) {
			aw_metrics_rejected(s->m, AW_METRICS_REJ_BAD);
			status(c, 400, "Bad Request", NULL);
			c->answering = 1;
			break;
		}
		if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n")) {
			answer(s, c);
			break;
		}
	}
	/* Answering: the rest of what the client sends is not read. */
	{
		struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};

		epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev);
	}
	conn_write(s, c);
}

static void accept_all(struct aw_metrics_server *s)
{
	for (;;) {
		int fd =
		    accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c = NULL;
		struct epoll_event ev = {.events = EPOLLIN};

		if (fd < 0)
			return;
		for (size_t i = 0; i < HTTP_CONNS; i++)
			if (s->c[i].fd < 0) {
				c = &s->c[i];
				break;
			}
		if (!c) {
			static const char busy[] =
			    "HTTP/1.1 503 Service Unavailable\r\n"
			    "Content-Length: 0\r\nConnection: close\r\n\r\n";

			aw_metrics_rejected(s->m, AW_METRICS_REJ_BUSY);
			if (send(fd, busy, sizeof(busy) - 1,
				 MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* (It is closed either way.) */
			}
			close(fd);
			continue;
		}
		c->fd = fd;
		c->len = 0;
		c->sent = 0;
		c->answering = 0;
		c->out = (struct aw_buf){};
		c->deadline_ms = now_ms() + HTTP_DEADLINE_MS;
		ev.data.ptr = c;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			c->fd = -1;
		}
	}
}

static void *server_main(void *arg)
{
	struct aw_metrics_server *s = arg;

	for (;;) {
		struct epoll_event evs[HTTP_CONNS + 2];
		uint64_t t = now_ms(), next = t + 1000;
		int n;

		for (size_t i = 0; i < HTTP_CONNS; i++) {
			struct conn *c = &s->c[i];

			if (c->fd < 0)
				continue;
			if (c->deadline_ms <= t) {
				if (!c->answering)
					aw_metrics_rejected(
					    s->m, AW_METRICS_REJ_TIMEOUT);
				conn_close(s, c);
			} else if (c->deadline_ms < next) {
				next = c->deadline_ms;
			}
		}
		n = epoll_wait(s->epfd, evs, (int)AW_ARRAY_SIZE(evs),
			       (int)(next - t));
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &s->stop_fd)
				return NULL;
			if (p == &s->lfd) {
				accept_all(s);
				continue;
			}
			{
				struct conn *c = p;

				if (c->fd < 0)
					continue; /* closed in this round */
				if (c->answering)
					conn_write(s, c);
				else
					conn_read(s, c);
			}
		}
	}
}

int aw_metrics_serve(struct aw_metrics *m, const char *addr, int allow_remote,
		     struct aw_metrics_server **ret, char *err, size_t errlen)
{
	struct aw_metrics_server *s;
	struct sockaddr_storage ss;
	socklen_t sl;
	struct epoll_event ev = {.events = EPOLLIN};
	sigset_t all, old;
	int one = 1, r;

	r = aw_metrics_parse_listen(addr, allow_remote, &ss, &sl, err, errlen);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->m = m;
	s->stop_fd = s->epfd = -1;
	for (size_t i = 0; i < HTTP_CONNS; i++)
		s->c[i].fd = -1;
	s->lfd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0)
		goto fail;
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(s->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			   sizeof(one));
	if (bind(s->lfd, (struct sockaddr *)&ss, sl) < 0 ||
	    listen(s->lfd, HTTP_BACKLOG) < 0)
		goto fail;
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->stop_fd < 0 || s->epfd < 0)
		goto fail;
	ev.data.ptr = &s->lfd;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev) < 0)
		goto fail;
	ev.data.ptr = &s->stop_fd;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->stop_fd, &ev) < 0)
		goto fail;
	/* Signals stay with the event loop's signalfd. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&s->thread, NULL, server_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		errno = r;
		goto fail;
	}
	*ret = s;
	return 0;
fail:
	r = -errno;
	snprintf(err, errlen, "%s: %s", addr, strerror(errno));
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	if (s->lfd >= 0)
		close(s->lfd);
	free(s);
	return r;
}

void aw_metrics_server_stop(struct aw_metrics_server *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	if (write(s->stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(s->thread, NULL);
	for (size_t i = 0; i < HTTP_CONNS; i++)
		if (s->c[i].fd >= 0)
			conn_close(s, &s->c[i]);
	close(s->epfd);
	close(s->stop_fd);
	close(s->lfd);
	free(s);
}
