// SPDX-License-Identifier: GPL-2.0-only
/*
 * The outputs beside the store (outputs.h): the export file in OCSF, a
 * webhook and syslog. A sink: it is called by emit.c (each event), main.c
 * (start, stop) and control.c (status), and calls nothing of the daemon.
 *
 * Up to three threads. The formatter takes the events' native lines
 * from a double buffer (as the store's writer does), renders each as
 * OCSF once if any output wants it, appends the batch to the export file
 * in one write, and copies each line (as an RFC 5424 message for syslog)
 * into the queue of each network output: a bounded ring, whose overflow
 * is dropped and counted. The webhook's thread posts batches of lines
 * and retries a failed batch with exponential backoff while its ring
 * fills; syslog's sends one datagram per message, waiting at most a
 * second for room. Only the export file may hold up the event loop, and
 * only as the store does: a file is local and lossless, a receiver is
 * neither. (Over 900 lines, one job: the threads share the queues, the
 * counters and the order of the stop; the small HTTP client is the
 * webhook's alone.)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/outputs.h"
#include "shared/json_read.h"
#include "shared/ocsf.h"
#include "shared/util.h"

/* The formatter's queue: bytes of native lines waiting. */
#define FILL_CAP (16u << 20)
/* The export file is written in pieces of about this size. */
#define FILE_CHUNK (256u << 10)
/* Backoff of a failed webhook batch: from the first to the last. */
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 8000
/* One try of the webhook: connect, send, read the status line. */
#define HTTP_TIMEOUT_MS 5000
/* A batch waits this long for more events before it is posted. */
#define BATCH_LINGER_MS 200
/* At the daemon's stop, the remaining batches get one short try (the
 * first that fails drops the rest), and syslog this long to send what
 * is queued. */
#define STOP_TIMEOUT_MS 3000

/* A network output's queue and thread: the formatter pushes copies of
 * lines into a bounded ring, the output's thread takes them off. */
struct queue {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char **ring; /* max lines (malloc'd) */
	size_t *ring_len;
	unsigned max, head, count;
	unsigned in_flight; /* lines taken off, being sent */
	int stop;
	/* Counters, under lock. */
	uint64_t sent, dropped;
};

struct webhook {
	struct queue q;
	char host[256], port[16], path[1024], hostport[300];
	enum aw_out_format format;
	unsigned batch;
	uint64_t batches, retries; /* under q.lock */
	char last_error[256];
};

struct syslog_out {
	struct queue q;
	int fd;
	struct sockaddr_storage to;
	socklen_t to_len;
	enum aw_out_format format;
	char spec[300];
	char last_error[128]; /* under q.lock */
};

struct aw_outputs {
	pthread_t thread;
	pthread_mutex_t q_lock;
	pthread_cond_t q_cond, room;
	struct aw_buf fill, drain;
	size_t fill_count;
	int stop;
	int export_fd;
	uint64_t exported, export_lost; /* under q_lock */
	uint64_t queue_dropped;		/* under q_lock: no room, no file */
	struct webhook *wh;
	struct syslog_out *sl;
	char hostname[256];
	pid_t pid;
	/* Formatter's scratch. */
	struct aw_jdoc doc;
	struct aw_buf ocsf, file, msg;
	uint64_t file_lines; /* lines in file */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

static void deadline_in(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* http://HOST[:PORT][/PATH], HOST a name, an IPv4 address or [IPv6].
 * TLS is not spoken: a receiver elsewhere sits behind a local relay. */
static int url_parse(const char *url, struct webhook *w, char *err,
		     size_t errlen)
{
	const char *p = url, *h, *he, *pe;

	if (strncmp(p, "http://", 7)) {
		snprintf(err, errlen,
			 "%s: expected http://HOST[:PORT]/PATH (no TLS: "
			 "relay through a local agent for https)",
			 url);
		return -EINVAL;
	}
	p += 7;
	if (*p == '[') {
		h = p + 1;
		he = strchr(h, ']');
		if (!he)
			goto bad;
		pe = he + 1;
	} else {
		h = p;
		he = h + strcspn(h, ":/");
		pe = he;
	}
	if (he == h || (size_t)(he - h) >= sizeof(w->host))
		goto bad;
	memcpy(w->host, h, he - h);
	w->host[he - h] = 0;
	snprintf(w->port, sizeof(w->port), "80");
	if (*pe == ':') {
		size_t n = strspn(pe + 1, "0123456789");

		if (!n || n > 5 || atoi(pe + 1) < 1 || atoi(pe + 1) > 65535)
			goto bad;
		snprintf(w->port, sizeof(w->port), "%.*s", (int)n, pe + 1);
		pe += 1 + n;
	}
	if (*pe && *pe != '/')
		goto bad;
	snprintf(w->path, sizeof(w->path), "%s", *pe ? pe : "/");
	for (const char *c = w->path; *c; c++)
		if (*c <= ' ' || *c == 0x7f)
			goto bad;
	snprintf(w->hostport, sizeof(w->hostport), "%.*s",
		 (int)(pe - (url + 7)), url + 7);
	return 0;
bad:
	snprintf(err, errlen,
		 "%s: not a URL of the form http://HOST[:PORT]/PATH", url);
	return -EINVAL;
}

int aw_outputs_check_url(const char *url, char *err, size_t errlen)
{
	struct webhook w;

	return url_parse(url, &w, err, errlen);
}

static int syslog_parse(const char *to, struct syslog_out *s, char *err,
			size_t errlen)
{
	memset(&s->to, 0, sizeof(s->to));
	if (!strncmp(to, "unix:", 5) && to[5] == '/') {
		struct sockaddr_un *un = (struct sockaddr_un *)&s->to;

		if (strlen(to + 5) >= sizeof(un->sun_path)) {
			snprintf(err, errlen, "%s: path too long", to);
			return -EINVAL;
		}
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, to + 5);
		s->to_len = sizeof(*un);
		return 0;
	}
	if (!strncmp(to, "udp:", 4)) {
		char host[256];
		const char *colon = strrchr(to + 4, ':');
		struct addrinfo hints = {.ai_socktype = SOCK_DGRAM,
					 .ai_flags = AI_NUMERICSERV},
				*ai = NULL;
		size_t hn;

		if (!colon || colon == to + 4)
			goto bad;
		hn = colon - (to + 4);
		if (to[4] == '[' && colon[-1] == ']') {
			memcpy(host, to + 5, hn - 2);
			host[hn - 2] = 0;
		} else if (hn < sizeof(host)) {
			memcpy(host, to + 4, hn);
			host[hn] = 0;
		} else {
			goto bad;
		}
		if (getaddrinfo(host, colon + 1, &hints, &ai) != 0 || !ai)
			goto bad;
		memcpy(&s->to, ai->ai_addr, ai->ai_addrlen);
		s->to_len = ai->ai_addrlen;
		freeaddrinfo(ai);
		return 0;
	}
bad:
	snprintf(err, errlen,
		 "%s: expected unix:/PATH or udp:HOST:PORT (a datagram "
		 "socket)",
		 to);
	return -EINVAL;
}

int aw_outputs_check_syslog(const char *to, char *err, size_t errlen)
{
	struct syslog_out s;

	return syslog_parse(to, &s, err, errlen);
}

/* ---- the queues of the network outputs ---- */

static int queue_init(struct queue *q, unsigned max)
{
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	q->max = max;
	q->ring = calloc(max, sizeof(*q->ring));
	q->ring_len = calloc(max, sizeof(*q->ring_len));
	return q->ring && q->ring_len ? 0 : -ENOMEM;
}

/* A copy of line into the ring; a full ring drops it, counted. Wakes the
 * thread at the first line and every `wake` lines. */
static void queue_push(struct queue *q, const char *line, size_t len,
		       unsigned wake)
{
	char *copy;

	pthread_mutex_lock(&q->lock);
	if (q->count == q->max || !(copy = malloc(len))) {
		q->dropped++;
		pthread_mutex_unlock(&q->lock);
		return;
	}
	memcpy(copy, line, len);
	{
		unsigned tail = (q->head + q->count) % q->max;

		q->ring[tail] = copy;
		q->ring_len[tail] = len;
	}
	q->count++;
	if (q->count == 1 || q->count % wake == 0)
		pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

/* Under lock: the oldest line, now the caller's to free. */
static char *queue_pop(struct queue *q, size_t *ret_len)
{
	char *l = q->ring[q->head];

	*ret_len = q->ring_len[q->head];
	q->ring[q->head] = NULL;
	q->head = (q->head + 1) % q->max;
	q->count--;
	return l;
}

/* Under lock: everything still queued is lost, and counted. */
static void queue_drop_all(struct queue *q)
{
	size_t len;

	q->dropped += q->count;
	while (q->count)
		free(queue_pop(q, &len));
}

static void queue_stop(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->stop = 1;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);
}

static void queue_free(struct queue *q)
{
	for (unsigned i = 0; q->ring && i < q->max; i++)
		free(q->ring[i]);
	free(q->ring);
	free(q->ring_len);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
}

/* ---- the webhook ---- */

static int wait_fd(int fd, short ev, uint64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = ev};
	uint64_t now = now_ms();
	int r;

	if (now >= deadline)
		return -ETIMEDOUT;
	r = poll(&p, 1, (int)(deadline - now));
	if (r < 0)
		return -errno;
	return r ? 0 : -ETIMEDOUT;
}

/* One POST of body; 0 on a 2xx answer, else -errno with why in err. */
static int http_post(struct webhook *w, const char *body, size_t len,
		     unsigned timeout_ms, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV},
			*ai = NULL;
	uint64_t deadline = now_ms() + timeout_ms;
	char head[1536], resp[256];
	size_t hl, off = 0, got = 0;
	int fd = -1, r, gai;

	gai = getaddrinfo(w->host, w->port, &hints, &ai);
	if (gai != 0 || !ai) {
		snprintf(err, errlen, "%s: %s", w->host, gai_strerror(gai));
		return -EHOSTUNREACH;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    0);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 &&
	    errno != EINPROGRESS) {
		r = -errno;
		goto out;
	}
	r = wait_fd(fd, POLLOUT, deadline);
	if (r == 0) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		r = -soerr;
	}
	if (r < 0)
		goto out;
	hl = snprintf(head, sizeof(head),
		      "POST %s HTTP/1.1\r\nHost: %s\r\n"
		      "User-Agent: agentwalld/" AW_VERSION "\r\n"
		      "Content-Type: application/x-ndjson\r\n"
		      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		      w->path, w->hostport, len);
	while (off < hl + len) {
		const char *p = off < hl ? head + off : body + (off - hl);
		size_t n = off < hl ? hl - off : len - (off - hl);
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

		if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
			r = wait_fd(fd, POLLOUT, deadline);
			if (r < 0)
				goto out;
			continue;
		}
		if (k <= 0) {
			r = k < 0 ? -errno : -EPIPE;
			goto out;
		}
		off += k;
	}
	/* The status line is all we need. */
	while (got < sizeof(resp) - 1 && !memchr(resp, '\n', got)) {
		ssize_t k = recv(fd, resp + got, sizeof(resp) - 1 - got, 0);

		if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
			r = wait_fd(fd, POLLIN, deadline);
			if (r < 0)
				goto out;
			continue;
		}
		if (k <= 0)
			break;
		got += k;
	}
	resp[got] = 0;
	if (strncmp(resp, "HTTP/1.", 7) || got < 12 || resp[9] != '2') {
		char *nl = strpbrk(resp, "\r\n");

		if (nl)
			*nl = 0;
		snprintf(err, errlen, "answer: %.100s", got ? resp : "(none)");
		r = -EPROTO;
		goto out;
	}
	r = 0;
out:
	if (r < 0 && r != -EPROTO)
		snprintf(err, errlen, "%s:%s: %s", w->host, w->port,
			 strerror(-r));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return r;
}

/* Take up to batch lines off the ring into body; returns how many. */
static unsigned take_batch(struct webhook *w, struct aw_buf *body)
{
	unsigned n = 0;

	while (w->q.count && n < w->batch) {
		size_t len;
		char *l = queue_pop(&w->q, &len);

		aw_buf_add(body, l, len);
		free(l);
		n++;
	}
	return n;
}

static void *webhook_main(void *arg)
{
	struct webhook *w = arg;
	struct queue *q = &w->q;
	struct aw_buf body = {};
	unsigned n = 0, backoff = BACKOFF_MIN_MS;
	char err[256];

	aw_thread_background();
	pthread_mutex_lock(&q->lock);
	for (;;) {
		struct timespec ts;
		int stopping, r;

		if (!n) {
			while (!q->count && !q->stop)
				pthread_cond_wait(&q->cond, &q->lock);
			if (!q->count && q->stop)
				break;
			/* Let a batch fill a little before it goes. */
			if (q->count < w->batch && !q->stop) {
				deadline_in(&ts, BATCH_LINGER_MS);
				pthread_cond_timedwait(&q->cond, &q->lock, &ts);
			}
			aw_buf_reset(&body);
			n = q->in_flight = take_batch(w, &body);
			if (body.oom) {
				q->dropped += n;
				n = q->in_flight = 0;
				continue;
			}
		}
		stopping = q->stop;
		pthread_mutex_unlock(&q->lock);
		r = http_post(w, body.data, body.len,
			      stopping ? STOP_TIMEOUT_MS : HTTP_TIMEOUT_MS, err,
			      sizeof(err));
		pthread_mutex_lock(&q->lock);
		if (r == 0) {
			q->sent += n;
			w->batches++;
			n = q->in_flight = 0;
			backoff = BACKOFF_MIN_MS;
			continue;
		}
		snprintf(w->last_error, sizeof(w->last_error), "%s", err);
		if (q->stop) {
			/* The daemon is going: what the receiver did not
			 * take is lost, and counted. */
			q->dropped += n;
			queue_drop_all(q);
			n = q->in_flight = 0;
			break;
		}
		w->retries++;
		deadline_in(&ts, backoff);
		while (!q->stop &&
		       pthread_cond_timedwait(&q->cond, &q->lock, &ts) == 0)
			;
		backoff =
		    backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	pthread_mutex_unlock(&q->lock);
	aw_buf_free(&body);
	return NULL;
}

/* ---- syslog ---- */

/* PRINTUSASCII (33..126) only, for HOSTNAME and MSGID. */
static void put_token(struct aw_buf *b, const char *s, size_t n, size_t max)
{
	if (!n) {
		aw_buf_add(b, "-", 1);
		return;
	}
	for (size_t i = 0; i < n && i < max; i++) {
		char c = s[i] > 32 && s[i] < 127 ? s[i] : '_';

		aw_buf_add(b, &c, 1);
	}
}

/* RFC 5424: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG, the
 * message the event's JSON line after a BOM (it is UTF-8). Facility
 * authpriv: the lines hold command lines and paths. Made here, sent by
 * the syslog thread. */
static void syslog_queue(struct aw_outputs *o, const struct aw_jdoc *doc,
			 const char *msg, size_t len)
{
	int t = aw_jget(doc, 0, "time"), a = aw_jget(doc, 0, "action");
	int dec = aw_jget(doc, 0, "decision");
	int sev = aw_jstr_is(doc, dec, "deny")	  ? 4
		  : aw_jstr_is(doc, dec, "allow") ? 6
						  : 5;
	struct aw_buf *b = &o->msg;

	aw_buf_reset(b);
	aw_buf_printf(b, "<%d>1 ", 10 * 8 + sev);
	if (t >= 0 && doc->tok[t].type == AW_J_STR)
		put_token(b, doc->s + doc->tok[t].start, doc->tok[t].len, 64);
	else
		aw_buf_puts(b, "-");
	aw_buf_puts(b, " ");
	put_token(b, o->hostname, strlen(o->hostname), 255);
	aw_buf_printf(b, " agentwalld %d ", (int)o->pid);
	if (a >= 0 && doc->tok[a].type == AW_J_STR)
		put_token(b, doc->s + doc->tok[a].start, doc->tok[a].len, 32);
	else
		aw_buf_puts(b, "-");
	aw_buf_puts(b, " - \xef\xbb\xbf");
	aw_buf_add(b, msg, len);
	if (b->oom) {
		pthread_mutex_lock(&o->sl->q.lock);
		o->sl->q.dropped++;
		pthread_mutex_unlock(&o->sl->q.lock);
		return;
	}
	queue_push(&o->sl->q, b->data, b->len, 64);
}

/* One datagram per message. The socket waits up to a second for room
 * (a unix datagram receiver queues few messages): this thread waits,
 * never the formatter. No listener, or still no room: dropped, counted.
 * At the stop, what is queued gets STOP_TIMEOUT_MS in all, then one try
 * each without waiting. */
static void *syslog_main(void *arg)
{
	struct syslog_out *s = arg;
	struct queue *q = &s->q;
	uint64_t stop_by = 0;

	aw_thread_background();
	pthread_mutex_lock(&q->lock);
	for (;;) {
		size_t len;
		char *m;
		int stopping;
		ssize_t k;

		while (!q->count && !q->stop)
			pthread_cond_wait(&q->cond, &q->lock);
		if (!q->count && q->stop)
			break;
		m = queue_pop(q, &len);
		q->in_flight = 1;
		if (q->stop && !stop_by)
			stop_by = now_ms() + STOP_TIMEOUT_MS;
		stopping = q->stop && now_ms() >= stop_by;
		pthread_mutex_unlock(&q->lock);
		k = sendto(s->fd, m, len,
			   MSG_NOSIGNAL | (stopping ? MSG_DONTWAIT : 0),
			   (struct sockaddr *)&s->to, s->to_len);
		free(m);
		pthread_mutex_lock(&q->lock);
		q->in_flight = 0;
		if (k == (ssize_t)len) {
			q->sent++;
		} else {
			q->dropped++;
			snprintf(s->last_error, sizeof(s->last_error), "%s",
				 k < 0 ? strerror(errno) : "short send");
		}
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

/* ---- the formatter ---- */

/* Append what o->file holds to the export file; lines not written are
 * counted in lost. */
static void write_file(struct aw_outputs *o, uint64_t *lost)
{
	size_t off = 0;

	if (o->file.oom) {
		*lost += o->file_lines;
		goto out;
	}
	while (off < o->file.len) {
		ssize_t k =
		    write(o->export_fd, o->file.data + off, o->file.len - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN) {
			struct pollfd p = {.fd = o->export_fd,
					   .events = POLLOUT};

			poll(&p, 1, 100);
			continue;
		}
		if (k <= 0) {
			/* The rest of the batch: count the lines not
			 * written (the tail of the buffer). */
			uint64_t n = 0;

			for (size_t i = off; i < o->file.len; i++)
				n += o->file.data[i] == '\n';
			*lost += n;
			break;
		}
		off += k;
	}
out:
	aw_buf_reset(&o->file);
	o->file_lines = 0;
}

static void format_one(struct aw_outputs *o, const char *line, size_t len,
		       uint64_t *lost)
{
	int want_ocsf = o->export_fd >= 0 ||
			(o->wh && o->wh->format == AW_OUT_OCSF) ||
			(o->sl && o->sl->format == AW_OUT_OCSF);
	int ok = 0;

	aw_buf_reset(&o->ocsf);
	if (want_ocsf)
		ok = aw_ocsf_render(&o->doc, line, len, &o->ocsf) >= 0;
	else
		ok = aw_jread(&o->doc, line, len) == 0;
	if (o->export_fd >= 0) {
		if (ok) {
			aw_buf_add(&o->file, o->ocsf.data, o->ocsf.len);
			aw_buf_add(&o->file, "\n", 1);
			/* Written while still in the cache: one write of a
			 * whole batch copied it back from memory, at a third
			 * of the speed (bench/README.md). */
			o->file_lines++;
			if (o->file.len >= FILE_CHUNK)
				write_file(o, lost);
		} else {
			(*lost)++;
		}
	}
	if (o->sl) {
		if (!ok) {
			pthread_mutex_lock(&o->sl->q.lock);
			o->sl->q.dropped++;
			pthread_mutex_unlock(&o->sl->q.lock);
		} else if (o->sl->format == AW_OUT_OCSF) {
			syslog_queue(o, &o->doc, o->ocsf.data, o->ocsf.len);
		} else {
			syslog_queue(o, &o->doc, line, len);
		}
	}
	if (o->wh) {
		if (o->wh->format == AW_OUT_OCSF && !ok) {
			pthread_mutex_lock(&o->wh->q.lock);
			o->wh->q.dropped++;
			pthread_mutex_unlock(&o->wh->q.lock);
		} else if (o->wh->format == AW_OUT_OCSF) {
			aw_buf_add(&o->ocsf, "\n", 1);
			queue_push(&o->wh->q, o->ocsf.data, o->ocsf.len,
				   o->wh->batch);
		} else {
			/* The line is followed by its newline in drain. */
			queue_push(&o->wh->q, line, len + 1, o->wh->batch);
		}
	}
}

static void *formatter_main(void *arg)
{
	struct aw_outputs *o = arg;

	aw_thread_background();
	pthread_mutex_lock(&o->q_lock);
	for (;;) {
		struct aw_buf tmp;
		struct timespec ts;
		uint64_t lines = 0, lost = 0;
		size_t off = 0;

		if (!o->fill.len && !o->stop) {
			deadline_in(&ts, 100);
			pthread_cond_timedwait(&o->q_cond, &o->q_lock, &ts);
		}
		if (!o->fill.len && o->stop)
			break;
		tmp = o->fill;
		o->fill = o->drain;
		o->drain = tmp;
		o->fill_count = 0;
		pthread_cond_broadcast(&o->room);
		pthread_mutex_unlock(&o->q_lock);

		while (off < o->drain.len) {
			char *nl = memchr(o->drain.data + off, '\n',
					  o->drain.len - off);
			size_t len = nl ? (size_t)(nl - o->drain.data) - off
					: o->drain.len - off;

			format_one(o, o->drain.data + off, len, &lost);
			lines++;
			off += len + 1;
		}
		if (o->export_fd >= 0)
			write_file(o, &lost);
		aw_buf_reset(&o->drain);

		pthread_mutex_lock(&o->q_lock);
		if (o->export_fd >= 0) {
			o->exported += lines - lost;
			o->export_lost += lost;
		}
	}
	pthread_mutex_unlock(&o->q_lock);
	return NULL;
}

void aw_outputs_add(struct aw_outputs *o, const char *line, size_t len)
{
	pthread_mutex_lock(&o->q_lock);
	if (o->fill.len && o->fill.len + len + 1 > FILL_CAP) {
		if (o->export_fd < 0) {
			/* Only network outputs behind: never wait for them. */
			o->queue_dropped++;
			pthread_mutex_unlock(&o->q_lock);
			return;
		}
		while (o->fill.len && o->fill.len + len + 1 > FILL_CAP &&
		       !o->stop)
			pthread_cond_wait(&o->room, &o->q_lock);
	}
	aw_buf_add(&o->fill, line, len);
	aw_buf_add(&o->fill, "\n", 1);
	if (o->fill.oom) {
		/* The pending lines are gone: count them, start over. */
		o->queue_dropped += o->fill_count + 1;
		if (o->export_fd >= 0)
			o->export_lost += o->fill_count + 1;
		aw_buf_free(&o->fill);
		o->fill_count = 0;
	} else if (++o->fill_count == 4096) {
		pthread_cond_signal(&o->q_cond);
	}
	pthread_mutex_unlock(&o->q_lock);
}

static int start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int r;

	/* Signals stay with the event loop's signalfd. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -r;
}

int aw_outputs_start(const struct aw_outputs_conf *c, struct aw_outputs **ret,
		     char *err, size_t errlen)
{
	struct aw_outputs *o = calloc(1, sizeof(*o));
	unsigned max = c->queue_max ? c->queue_max : 10000;
	int r, wh_started = 0, sl_started = 0;

	if (!o)
		return -ENOMEM;
	pthread_mutex_init(&o->q_lock, NULL);
	pthread_cond_init(&o->q_cond, NULL);
	pthread_cond_init(&o->room, NULL);
	o->export_fd = c->export_fd;
	o->pid = getpid();
	snprintf(o->hostname, sizeof(o->hostname), "%s",
		 c->hostname ? c->hostname : "-");
	if (c->syslog_to) {
		struct timeval tv = {.tv_sec = 1};

		o->sl = calloc(1, sizeof(*o->sl));
		if (!o->sl) {
			r = -ENOMEM;
			goto fail;
		}
		o->sl->fd = -1;
		r = queue_init(&o->sl->q, max);
		if (r < 0)
			goto fail;
		r = syslog_parse(c->syslog_to, o->sl, err, errlen);
		if (r < 0)
			goto fail;
		snprintf(o->sl->spec, sizeof(o->sl->spec), "%s", c->syslog_to);
		o->sl->format = c->syslog_format;
		o->sl->fd =
		    socket(o->sl->to.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (o->sl->fd < 0) {
			r = -errno;
			snprintf(err, errlen, "syslog socket: %s",
				 strerror(errno));
			goto fail;
		}
		setsockopt(o->sl->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		r = start_thread(&o->sl->q.thread, syslog_main, o->sl);
		if (r < 0) {
			snprintf(err, errlen, "syslog thread: %s",
				 strerror(-r));
			goto fail;
		}
		sl_started = 1;
	}
	if (c->webhook_url) {
		struct webhook *w = calloc(1, sizeof(*w));

		if (!w) {
			r = -ENOMEM;
			goto fail;
		}
		o->wh = w;
		r = queue_init(&w->q, max);
		if (r < 0)
			goto fail;
		r = url_parse(c->webhook_url, w, err, errlen);
		if (r < 0)
			goto fail;
		w->format = c->webhook_format;
		w->batch = c->webhook_batch ? c->webhook_batch : 500;
		r = start_thread(&w->q.thread, webhook_main, w);
		if (r < 0) {
			snprintf(err, errlen, "webhook thread: %s",
				 strerror(-r));
			goto fail;
		}
		wh_started = 1;
	}
	r = start_thread(&o->thread, formatter_main, o);
	if (r < 0) {
		snprintf(err, errlen, "outputs thread: %s", strerror(-r));
		goto fail;
	}
	*ret = o;
	return 0;
fail:
	if (r == -ENOMEM)
		snprintf(err, errlen, "no memory");
	if (wh_started)
		queue_stop(&o->wh->q);
	if (sl_started)
		queue_stop(&o->sl->q);
	if (o->sl) {
		if (o->sl->fd >= 0)
			close(o->sl->fd);
		queue_free(&o->sl->q);
		free(o->sl);
	}
	if (o->wh) {
		queue_free(&o->wh->q);
		free(o->wh);
	}
	free(o);
	return r;
}

static void fmt_name(struct aw_buf *b, enum aw_out_format f)
{
	aw_buf_puts(b, f == AW_OUT_OCSF ? "\"ocsf\"" : "\"native\"");
}

void aw_outputs_status(struct aw_outputs *o, struct aw_buf *b)
{
	uint64_t exported = 0, lost = 0, qdrop = 0;

	if (!o) {
		aw_buf_puts(b, "null");
		return;
	}
	pthread_mutex_lock(&o->q_lock);
	exported = o->exported;
	lost = o->export_lost;
	qdrop = o->queue_dropped;
	pthread_mutex_unlock(&o->q_lock);
	aw_buf_puts(b, "{\"export\":");
	if (o->export_fd >= 0)
		aw_buf_printf(b,
			      "{\"format\":\"ocsf\",\"written\":%llu,"
			      "\"lost\":%llu}",
			      (unsigned long long)exported,
			      (unsigned long long)lost);
	else
		aw_buf_puts(b, "null");
	aw_buf_puts(b, ",\"webhook\":");
	if (o->wh) {
		struct webhook *w = o->wh;
		struct queue *q = &w->q;

		pthread_mutex_lock(&q->lock);
		aw_buf_puts(b, "{\"url\":");
		{
			struct aw_buf u = {};

			aw_buf_printf(&u, "http://%s%s", w->hostport, w->path);
			aw_json_cstr(b, u.data);
			aw_buf_free(&u);
		}
		aw_buf_puts(b, ",\"format\":");
		fmt_name(b, w->format);
		/* dropped: the webhook's own queue full, and the shared
		 * queue before it. */
		aw_buf_printf(
		    b,
		    ",\"queued\":%u,\"in_flight\":%u,\"queue_max\":%u,"
		    "\"sent\":%llu,"
		    "\"batches\":%llu,\"retries\":%llu,"
		    "\"dropped\":%llu,\"last_error\":",
		    q->count, q->in_flight, q->max, (unsigned long long)q->sent,
		    (unsigned long long)w->batches,
		    (unsigned long long)w->retries,
		    (unsigned long long)(q->dropped + qdrop));
		aw_json_cstr(b, w->last_error[0] ? w->last_error : NULL);
		aw_buf_puts(b, "}");
		pthread_mutex_unlock(&q->lock);
	} else {
		aw_buf_puts(b, "null");
	}
	aw_buf_puts(b, ",\"syslog\":");
	if (o->sl) {
		struct queue *q = &o->sl->q;

		pthread_mutex_lock(&q->lock);
		aw_buf_puts(b, "{\"to\":");
		aw_json_cstr(b, o->sl->spec);
		aw_buf_puts(b, ",\"format\":");
		fmt_name(b, o->sl->format);
		aw_buf_printf(
		    b,
		    ",\"queued\":%u,\"in_flight\":%u,\"queue_max\":%u,"
		    "\"sent\":%llu,\"dropped\":%llu,\"last_error\":",
		    q->count, q->in_flight, q->max, (unsigned long long)q->sent,
		    (unsigned long long)(q->dropped + qdrop));
		aw_json_cstr(b,
			     o->sl->last_error[0] ? o->sl->last_error : NULL);
		aw_buf_puts(b, "}");
		pthread_mutex_unlock(&q->lock);
	} else {
		aw_buf_puts(b, "null");
	}
	aw_buf_puts(b, "}");
}

unsigned long long aw_outputs_export_lost(struct aw_outputs *o)
{
	uint64_t n;

	if (!o || o->export_fd < 0)
		return 0;
	pthread_mutex_lock(&o->q_lock);
	n = o->export_lost;
	pthread_mutex_unlock(&o->q_lock);
	return n;
}

void aw_outputs_stop(struct aw_outputs *o)
{
	if (!o)
		return;
	pthread_mutex_lock(&o->q_lock);
	o->stop = 1;
	pthread_cond_signal(&o->q_cond);
	pthread_cond_broadcast(&o->room);
	pthread_mutex_unlock(&o->q_lock);
	pthread_join(o->thread, NULL);
	if (o->wh) {
		queue_stop(&o->wh->q);
		queue_free(&o->wh->q);
		free(o->wh);
	}
	if (o->sl) {
		queue_stop(&o->sl->q);
		close(o->sl->fd);
		queue_free(&o->sl->q);
		free(o->sl);
	}
	aw_buf_free(&o->fill);
	aw_buf_free(&o->drain);
	aw_buf_free(&o->ocsf);
	aw_buf_free(&o->file);
	aw_buf_free(&o->msg);
	aw_jdoc_free(&o->doc);
	pthread_mutex_destroy(&o->q_lock);
	pthread_cond_destroy(&o->q_cond);
	pthread_cond_destroy(&o->room);
	free(o);
}
