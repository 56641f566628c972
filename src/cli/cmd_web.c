// SPDX-License-Identifier: GPL-2.0-only
/*
 * agentwall web: the sessions on a timeline in a browser, each session's
 * process tree, its events with the denials marked, and its diff.
 *
 * A small HTTP/1.1 server of our own, one request per connection, one at
 * a time. The page, its script and its style are compiled in
 * (src/cli/web/, nothing fetched from elsewhere); the data comes from the
 * store opened read-only, the live trees from the daemon (`ps --json`),
 * the diffs from the review library (aw_cli_diff, as `agentwall diff`).
 *
 * What it holds is the audit trail of every session on the machine, so:
 *   - only root or the daemon's group may start it (the daemon answers
 *     `status` to them only);
 *   - it listens on loopback unless told otherwise (--allow-remote);
 *   - every API request carries a token printed at start (other local
 *     users can reach a loopback port too), in a header a cross-site page
 *     cannot set, and the Host header must name the listening address (a
 *     DNS-rebinding page names its own host);
 *   - requests are bounded (8 KiB, GET only, 5 s to arrive), answers are
 *     JSON or the compiled-in files, with a Content-Security-Policy that
 *     allows no inline script. The page puts every event string into the
 *     DOM as text, never as markup: agents' argv and file names are the
 *     attacker's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/cli.h"
#include "shared/embedded.h"
#include "shared/json.h"
#include "shared/util.h"
#include "store/store.h"

#define WEB_REQ_MAX 8192
#define WEB_REQ_TIMEOUT_MS 5000
#define WEB_SEND_TIMEOUT_S 10
#define WEB_SESSIONS_MAX 500 /* newest session starts on the timeline */
#define WEB_DENIES_MAX 1000  /* newest denials, for the timeline's marks */
#define WEB_EVENTS_MAX 3000  /* newest events of one session */

struct web {
	struct aw_cli *cli;
	struct aw_store *st;
	char host[80];	 /* the Host header expected: ADDR:PORT */
	char host2[80];	 /* localhost:PORT when on loopback */
	char token[33];	 /* 128 random bits, hex */
	uint64_t served; /* requests answered */
};

static volatile sig_atomic_t web_stop;

static void web_on_signal(int sig)
{
	(void)sig;
	web_stop = 1;
}

static const char *web_status_text(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 431:
		return "Request Header Fields Too Large";
	default:
		return "Internal Server Error";
	}
}

static void web_send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* gone, or too slow (SO_SNDTIMEO) */
		p += w;
		n -= (size_t)w;
	}
}

static void web_reply(int fd, int code, const char *type, const char *body,
		      size_t len)
{
	char head[1024];
	int n;

	/* The page's own files and fetches only; nothing inline runs,
	 * nothing is framed, no referrer leaves. */
	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\n"
		     "Content-Type: %s\r\n"
		     "Content-Length: %zu\r\n"
		     "Cache-Control: no-store\r\n"
		     "X-Content-Type-Options: nosniff\r\n"
		     "X-Frame-Options: DENY\r\n"
		     "Referrer-Policy: no-referrer\r\n"
		     "Content-Security-Policy: default-src 'none'; "
		     "script-src 'self'; style-src 'self'; connect-src 'self'; "
		     "img-src 'self'; base-uri 'none'; form-action 'none'; "
		     "frame-ancestors 'none'\r\n"
		     "Connection: close\r\n\r\n",
		     code, web_status_text(code), type, len);
	web_send_all(fd, head, (size_t)n);
	web_send_all(fd, body, len);
}

static void web_error(int fd, int code, const char *msg)
{
	struct aw_buf b = {};

	aw_buf_puts(&b, "{\"error\":");
	aw_json_cstr(&b, msg);
	aw_buf_puts(&b, "}\n");
	web_reply(fd, code, "application/json", b.data ? b.data : "",
		  b.data ? b.len : 0);
	aw_buf_free(&b);
}

/* ---- data ---------------------------------------------------------------- */

struct web_rows {
	struct aw_buf *b;
	int first;
};

static int web_row(void *ud, const char *text, const char *json)
{
	struct web_rows *w = ud;

	(void)text;
	if (!json || json[0] != '{')
		return 0;
	if (!w->first)
		aw_buf_puts(w->b, ",");
	w->first = 0;
	aw_buf_puts(w->b, json);
	return 0;
}

/* "key":[rows of the query] */
static int web_query(struct web *w, struct aw_buf *b, const char *key,
		     const struct aw_store_query *q)
{
	struct web_rows rows = {.b = b, .first = 1};
	int r;

	aw_json_key(b, key);
	aw_buf_puts(b, "[");
	r = aw_store_query_events(w->st, q, web_row, &rows);
	aw_buf_puts(b, "]");
	return r < 0 ? r : 0;
}

/* "live": the daemon's live trees, or null if it does not answer. */
static void web_live(struct web *w, struct aw_buf *b)
{
	char err[256], *reply = NULL;

	aw_json_key(b, "live");
	if (aw_cli_request(w->cli, "ps --json", &reply, err, sizeof(err)) < 0 ||
	    reply[0] != '[') {
		aw_buf_puts(b, "null");
	} else {
		reply[strcspn(reply, "\n")] = 0;
		aw_buf_puts(b, reply);
	}
	free(reply);
}

static void web_now(struct aw_buf *b)
{
	char t[64];

	aw_format_time(aw_now_realtime_ns(), t, sizeof(t));
	aw_buf_puts(b, "{\"now\":");
	aw_json_cstr(b, t);
	aw_buf_puts(b, ",");
}

static int web_sessions(struct web *w, struct aw_buf *b)
{
	struct aw_store_query starts = {.action = "session-start",
					.limit = WEB_SESSIONS_MAX};
	/* A session run by `agentwall run` starts with its sandbox event;
	 * one the daemon classified, with session-start. */
	struct aw_store_query sandboxes = {.action = "sandbox",
					   .limit = WEB_SESSIONS_MAX};
	struct aw_store_query ends = {.action = "session-end",
				      .limit = WEB_SESSIONS_MAX};
	struct aw_store_query denies = {.decision = "deny",
					.limit = WEB_DENIES_MAX};
	int r;

	web_now(b);
	r = web_query(w, b, "starts", &starts);
	aw_buf_puts(b, ",");
	if (r == 0)
		r = web_query(w, b, "sandboxes", &sandboxes);
	aw_buf_puts(b, ",");
	if (r == 0)
		r = web_query(w, b, "ends", &ends);
	aw_buf_puts(b, ",");
	if (r == 0)
		r = web_query(w, b, "denies", &denies);
	aw_buf_puts(b, ",");
	web_live(w, b);
	aw_buf_puts(b, "}\n");
	return r;
}

static int web_session(struct web *w, uint64_t session, struct aw_buf *b)
{
	struct aw_store_query q = {.session = session, .limit = WEB_EVENTS_MAX};
	int r;

	web_now(b);
	r = web_query(w, b, "events", &q);
	aw_buf_puts(b, ",");
	web_live(w, b);
	aw_buf_puts(b, "}\n");
	return r;
}

/* ---- requests ------------------------------------------------------------ */

/* The value of header name (case-insensitive) in the request head, or
 * NULL; its length in ret_len. */
static const char *web_header(const char *head, const char *name,
			      size_t *ret_len)
{
	size_t nl = strlen(name);

	for (const char *l = strstr(head, "\r\n"); l; l = strstr(l, "\r\n")) {
		l += 2;
		if (!strncasecmp(l, name, nl) && l[nl] == ':') {
			const char *v = l + nl + 1, *e;

			while (*v == ' ' || *v == '\t')
				v++;
			e = strstr(v, "\r\n");
			if (!e)
				return NULL;
			while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			*ret_len = (size_t)(e - v);
			return v;
		}
	}
	return NULL;
}

/* Same length, compared without an early exit. */
static int web_token_ok(const struct web *w, const char *v, size_t n)
{
	unsigned char diff = 0;

	if (!v || n != strlen(w->token))
		return 0;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(v[i] ^ w->token[i]);
	return diff == 0;
}

static const struct aw_embedded_file *web_file(const char *name)
{
	char full[64];

	snprintf(full, sizeof(full), "embedded:web/%s", name);
	for (size_t i = 0; i < aw_embedded_web_count; i++)
		if (!strcmp(aw_embedded_web[i].name, full))
			return &aw_embedded_web[i];
	return NULL;
}

static int web_session_arg(const char *query, uint64_t *ret)
{
	char id[32];
	size_t n;

	/* ?id=16 hex digits, nothing else. */
	if (!query || strncmp(query, "id=", 3))
		return -EINVAL;
	n = strlen(query + 3);
	if (n != 16)
		return -EINVAL;
	memcpy(id, query + 3, 17);
	for (size_t i = 0; i < 16; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		      (id[i] >= 'a' && id[i] <= 'f')))
			return -EINVAL;
	*ret = strtoull(id, NULL, 16);
	return 0;
}

static void web_handle(struct web *w, int fd, char *req)
{
	static const struct {
		const char *path, *file, *type;
	} files[] = {
	    {"/", "index.html", "text/html; charset=utf-8"},
	    {"/app.js", "app.js", "text/javascript; charset=utf-8"},
	    {"/app.css", "app.css", "text/css; charset=utf-8"},
	};
	char *sp, *path, *query, *ver;
	const char *v;
	size_t vn;
	struct aw_buf b = {};
	uint64_t session;
	int r;

	/* "GET /path?query HTTP/1.1" */
	sp = strchr(req, ' ');
	if (!sp || sp - req != 3 || strncmp(req, "GET", 3)) {
		web_error(fd, 405, "only GET");
		return;
	}
	path = sp + 1;
	ver = strchr(path, ' ');
	if (!ver || path[0] != '/' ||
	    (strncmp(ver, " HTTP/1.1\r\n", 11) &&
	     strncmp(ver, " HTTP/1.0\r\n", 11))) {
		web_error(fd, 400, "malformed request line");
		return;
	}
	*ver = 0;
	v = web_header(ver + 1, "Host", &vn);
	if (!v || !((vn == strlen(w->host) && !strncmp(v, w->host, vn)) ||
		    (w->host2[0] && vn == strlen(w->host2) &&
		     !strncmp(v, w->host2, vn)))) {
		web_error(fd, 403, "Host is not this server's address");
		return;
	}
	query = strchr(path, '?');
	if (query)
		*query++ = 0;
	for (size_t i = 0; i < AW_ARRAY_SIZE(files); i++) {
		const struct aw_embedded_file *f;

		if (strcmp(path, files[i].path))
			continue;
		f = web_file(files[i].file);
		if (!f) {
			web_error(fd, 500, "page not compiled in");
			return;
		}
		web_reply(fd, 200, files[i].type, f->data, f->len);
		return;
	}
	if (strncmp(path, "/api/", 5)) {
		web_error(fd, 404, "no such page");
		return;
	}
	v = web_header(ver + 1, "X-Agentwall-Token", &vn);
	if (!web_token_ok(w, v, vn)) {
		web_error(fd, 403,
			  "token missing or wrong (the URL printed by "
			  "agentwall web carries it)");
		return;
	}
	if (!strcmp(path, "/api/sessions")) {
		r = web_sessions(w, &b);
	} else if (!strcmp(path, "/api/session")) {
		if (web_session_arg(query, &session) < 0) {
			web_error(fd, 400, "expected ?id=16 hex digits");
			return;
		}
		r = web_session(w, session, &b);
	} else if (!strcmp(path, "/api/diff")) {
		char sid[17];

		if (web_session_arg(query, &session) < 0) {
			web_error(fd, 400, "expected ?id=16 hex digits");
			return;
		}
		snprintf(sid, sizeof(sid), "%016llx",
			 (unsigned long long)session);
		/* A session without a kept store (not run in a sandbox, or
		 * gone) has no diff: said as such, not as a failure. */
		if (aw_cli_diff(w->cli, sid, 1, &b) != AW_EXIT_OK) {
			aw_buf_free(&b);
			web_error(fd, 404, "no kept changes for this session");
			return;
		}
		r = 0;
	} else {
		web_error(fd, 404, "no such API");
		return;
	}
	if (r < 0 || b.oom) {
		aw_buf_free(&b);
		web_error(fd, 500, r < 0 ? strerror(-r) : "out of memory");
		return;
	}
	web_reply(fd, 200, "application/json", b.data ? b.data : "",
		  b.data ? b.len : 0);
	aw_buf_free(&b);
}

/* Read one request head: at most WEB_REQ_MAX bytes, within
 * WEB_REQ_TIMEOUT_MS of the connection. A slow or endless sender is cut
 * off; one connection at a time means it can only delay others by that
 * long. */
static void web_client(struct web *w, int fd)
{
	char req[WEB_REQ_MAX + 1];
	size_t len = 0;
	uint64_t deadline = aw_now_boottime_ns() / 1000000 + WEB_REQ_TIMEOUT_MS;
	struct timeval tv = {.tv_sec = WEB_SEND_TIMEOUT_S};

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (;;) {
		uint64_t now = aw_now_boottime_ns() / 1000000;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (now >= deadline ||
		    poll(&p, 1, (int)(deadline - now)) <= 0) {
			if (web_stop)
				return;
			web_error(fd, 408, "request too slow");
			return;
		}
		n = recv(fd, req + len, WEB_REQ_MAX - len, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return;
		len += (size_t)n;
		req[len] = 0;
		if (memchr(req, 0, len)) {
			web_error(fd, 400, "NUL in request");
			return;
		}
		if (strstr(req, "\r\n\r\n"))
			break;
		if (len == WEB_REQ_MAX) {
			web_error(fd, 431, "request too large");
			return;
		}
	}
	web_handle(w, fd, req);
	w->served++;
}

/* ADDR:PORT (IPv4, or [IPv6]:PORT) into a socket address. */
static int web_parse_listen(const char *s, struct sockaddr_storage *ss,
			    socklen_t *len, int *ret_loopback)
{
	char addr[64];
	const char *colon = strrchr(s, ':');
	uint64_t port;
	size_t an;

	if (!colon || aw_parse_u64(colon + 1, &port) < 0 || port > 65535)
		return -EINVAL;
	an = (size_t)(colon - s);
	if (an >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, an);
	addr[an] = 0;
	memset(ss, 0, sizeof(*ss));
	if (an > 2 && addr[0] == '[' && addr[an - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		addr[an - 1] = 0;
		if (inet_pton(AF_INET6, addr + 1, &a->sin6_addr) != 1)
			return -EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a);
		*ret_loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, addr, &a->sin_addr) != 1)
			return -EINVAL;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*len = sizeof(*a);
		*ret_loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	}
	return 0;
}

/* Root, or someone the daemon answers `status` (its group). */
static int web_allowed(struct aw_cli *cli)
{
	char err[256], *reply = NULL;
	int ok;

	if (geteuid() == 0)
		return 1;
	if (aw_cli_request(cli, "status", &reply, err, sizeof(err)) < 0)
		return 0;
	ok = strncmp(reply, "error", 5) != 0;
	free(reply);
	return ok;
}

int cmd_web(struct aw_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"allow-remote", no_argument, NULL, 'R'},
	    {"state-dir", required_argument, NULL, AW_OPT_STATE_DIR},
	    {}};
	const char *listen_arg = "127.0.0.1:8470";
	struct sockaddr_storage ss;
	struct web w = {.cli = cli};
	struct sigaction sa = {.sa_handler = web_on_signal};
	unsigned char rnd[16];
	char err[512], shown[64];
	socklen_t sl;
	int c, remote = 0, loopback = 0, lfd, one = 1, r;

	while ((c = getopt_long(argc, argv, "l:R", longopts, NULL)) != -1) {
		if (aw_cli_common_opt(cli, c, optarg))
			continue;
		if (c == 'l')
			listen_arg = optarg;
		else if (c == 'R')
			remote = 1;
		else
			return AW_EXIT_USAGE;
	}
	if (optind < argc) {
		fprintf(stderr, "agentwall web: unexpected argument %s\n",
			argv[optind]);
		return AW_EXIT_USAGE;
	}
	if (web_parse_listen(listen_arg, &ss, &sl, &loopback) < 0) {
		fprintf(stderr,
			"agentwall web: --listen %s: expected ADDR:PORT "
			"(127.0.0.1:8470, [::1]:8470)\n",
			listen_arg);
		return AW_EXIT_USAGE;
	}
	if (!loopback && !remote) {
		fprintf(stderr,
			"agentwall web: %s is not a loopback address: the "
			"audit trail would be reachable from the network "
			"(--allow-remote if that is meant)\n",
			listen_arg);
		return AW_EXIT_USAGE;
	}
	if (!web_allowed(cli)) {
		fprintf(stderr, "agentwall web: root or the daemon's group "
				"only (and the daemon must be running for the "
				"group)\n");
		return AW_EXIT_FAIL;
	}
	r = aw_store_open_ro(cli->store_path, &w.st, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "agentwall web: store %s: %s\n",
			cli->store_path, err);
		return AW_EXIT_FAIL;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		fprintf(stderr, "agentwall web: getrandom: %s\n",
			strerror(errno));
		aw_store_close(w.st);
		return AW_EXIT_FAIL;
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(w.token + 2 * i, 3, "%02x", rnd[i]);

	lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&ss, sl) < 0 || listen(lfd, 16) < 0) {
		fprintf(stderr, "agentwall web: %s: %s\n", listen_arg,
			strerror(errno));
		if (lfd >= 0)
			close(lfd);
		aw_store_close(w.st);
		return AW_EXIT_FAIL;
	}
	/* Port 0: the kernel's choice, which the URL then names. */
	sl = sizeof(ss);
	getsockname(lfd, (struct sockaddr *)&ss, &sl);
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		char ip[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		snprintf(shown, sizeof(shown), "[%s]:%u", ip,
			 ntohs(a->sin6_port));
		if (loopback)
			snprintf(w.host2, sizeof(w.host2), "localhost:%u",
				 ntohs(a->sin6_port));
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		char ip[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(shown, sizeof(shown), "%s:%u", ip, ntohs(a->sin_port));
		if (loopback)
			snprintf(w.host2, sizeof(w.host2), "localhost:%u",
				 ntohs(a->sin_port));
	}
	snprintf(w.host, sizeof(w.host), "%s", shown);
	/* The token in the fragment: browsers never send it, nor put it in
	 * a Referer; the page reads it and sends it with each request. */
	printf("agentwall web: http://%s/#token=%s\n", shown, w.token);
	fflush(stdout);

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	while (!web_stop) {
		struct pollfd p = {.fd = lfd, .events = POLLIN};
		int fd;

		if (poll(&p, 1, 1000) <= 0)
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		web_client(&w, fd);
		shutdown(fd, SHUT_WR);
		close(fd);
	}
	close(lfd);
	aw_store_close(w.st);
	return AW_EXIT_OK;
}
