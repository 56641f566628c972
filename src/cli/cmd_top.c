// SPDX-License-Identifier: GPL-2.0-only
/*
 * agentwall top: the live sessions as trees, each with its latest events
 * and its latest denials, redrawn in place with plain ANSI sequences.
 *
 * Everything comes from the daemon's control socket: `ps` (the trees, as
 * the daemon renders them for `agentwall ps`) and `log-query` (events).
 * Both answer an ordinary user with the sessions its uid started only,
 * and both hand out text the daemon has already made safe for a terminal
 * (aw_text_sanitize): an agent's argv or a file name cannot carry escape
 * sequences to this screen.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "shared/json.h"
#include "shared/util.h"

#define TOP_EVENTS 5  /* latest events shown under a session */
#define TOP_DENIALS 3 /* latest denials shown under a session */

#define SGR_RESET "\033[0m"
#define SGR_BOLD "\033[1m"
#define SGR_DIM "\033[2m"
#define SGR_REVERSE "\033[7m"
#define SGR_DENY "\033[1;31m"
#define SGR_AGENT "\033[36m"

static volatile sig_atomic_t top_resized, top_stop;
static struct termios top_saved_tio;
static int top_tio_saved;

static void top_on_signal(int sig)
{
	if (sig == SIGWINCH)
		top_resized = 1;
	else
		top_stop = 1;
}

/* The terminal as it was: normal screen, cursor, line discipline. */
static void top_restore(void)
{
	static const char seq[] = "\033[?25h\033[?1049l";

	if (write(STDOUT_FILENO, seq, sizeof(seq) - 1) < 0) {
	}
	if (top_tio_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &top_saved_tio);
	top_tio_saved = 0;
}

static void top_screen_size(int *rows, int *cols)
{
	struct winsize ws;

	*rows = 24;
	*cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row &&
	    ws.ws_col) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

/* One request; the reply, or NULL with err filled. */
static char *top_ask(struct aw_cli *cli, const char *req, char *err,
		     size_t errlen)
{
	char *reply = NULL;

	if (aw_cli_request(cli, req, &reply, err, errlen) < 0)
		return NULL;
	if (!strncmp(reply, "error", 5)) {
		snprintf(err, errlen, "%.*s", (int)strcspn(reply, "\n"), reply);
		free(reply);
		return NULL;
	}
	return reply;
}

/* The rows of a log-query reply ("r TEXT" lines), newest last, into
 * rows[] (pointers into reply). */
static size_t top_rows(char *reply, char **rows, size_t max)
{
	size_t n = 0;

	for (char *l = reply, *nl; l && *l; l = nl ? nl + 1 : NULL) {
		nl = strchr(l, '\n');
		if (nl)
			*nl = 0;
		if (!strncmp(l, "r ", 2) && n < max)
			rows[n++] = l + 2;
	}
	return n;
}

/*
 * An event's text line without its session column (the row sits under
 * its session), and without the agent column when there is no agent:
 * "HH:MM:SS.mmm  SESSION16  AGENT(22)  PID..." -> "HH:MM:SS.mmm  PID...".
 */
static void top_event_line(struct aw_buf *b, const char *row)
{
	const char *rest = row + 32;

	if (strlen(row) <= 32 || row[12] != ' ' || row[13] != ' ' ||
	    row[30] != ' ' || row[31] != ' ') {
		aw_buf_puts(b, row);
		return;
	}
	if (rest[0] == '-' && strspn(rest + 1, " ") >= 21)
		rest += 22;
	aw_buf_add(b, row, 14);
	aw_buf_puts(b, rest);
}

/* A frame: its lines, each with its attribute. */
struct top_frame {
	struct top_line {
		const char *attr; /* an SGR sequence, "" for none */
		char *text;
	} * v;
	size_t n, cap;
	int sessions;
};

static void top_add(struct top_frame *f, const char *attr, const char *text,
		    size_t len)
{
	if (f->n == f->cap) {
		size_t nc = f->cap ? f->cap * 2 : 64;
		struct top_line *nv = realloc(f->v, nc * sizeof(*nv));

		if (!nv)
			return;
		f->v = nv;
		f->cap = nc;
	}
	f->v[f->n].attr = attr;
	f->v[f->n].text = strndup(text, len);
	if (f->v[f->n].text)
		f->n++;
}

static void top_addf(struct top_frame *f, const char *attr, const char *lead,
		     const char *row)
{
	struct aw_buf b = {};

	aw_buf_puts(&b, lead);
	top_event_line(&b, row);
	if (!b.oom)
		top_add(f, attr, b.data, b.len);
	aw_buf_free(&b);
}

static void top_frame_free(struct top_frame *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].text);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

/* Ask for a session's latest events and denials and add them. */
static void top_session_events(struct aw_cli *cli, const char *sid,
			       struct top_frame *f)
{
	char req[160], err[256], *ev, *dn;
	char *evrows[TOP_EVENTS], *dnrows[TOP_DENIALS];
	size_t nev = 0, ndn = 0;

	snprintf(req, sizeof(req), "log-query session=%s limit=%d json=0", sid,
		 TOP_EVENTS);
	ev = top_ask(cli, req, err, sizeof(err));
	snprintf(req, sizeof(req),
		 "log-query session=%s decision=deny limit=%d json=0", sid,
		 TOP_DENIALS);
	dn = top_ask(cli, req, err, sizeof(err));
	if (ev)
		nev = top_rows(ev, evrows, TOP_EVENTS);
	if (dn)
		ndn = top_rows(dn, dnrows, TOP_DENIALS);
	/* A latest event that is also one of the denials is coloured as
	 * one (the deny query decided that, not the row's text: a file
	 * name can say "[deny" too). */
	for (size_t i = 0; i < nev; i++) {
		int deny = 0;

		for (size_t k = 0; k < ndn; k++)
			deny |= !strcmp(evrows[i], dnrows[k]);
		top_addf(f, deny ? SGR_DENY : SGR_DIM,
			 i ? "         " : "  latest ", evrows[i]);
	}
	for (size_t k = 0; k < ndn; k++)
		top_addf(f, SGR_DENY, k ? "         " : "  DENIED ", dnrows[k]);
	free(ev);
	free(dn);
}

/* One frame: the daemon's trees (`ps`), each session followed by its
 * events. Sessions below the screen's last line (max_lines) are not asked
 * for their events: two requests a session a tick is enough. */
static int top_frame(struct aw_cli *cli, struct top_frame *f, size_t max_lines)
{
	char err[512], *ps, *l, *nl;

	ps = top_ask(cli, "ps", err, sizeof(err));
	if (!ps) {
		top_add(f, SGR_DENY, err, strlen(err));
		return -1;
	}
	for (l = ps; *l; l = nl) {
		char sid[17] = "";
		size_t len;

		nl = strchr(l, '\n');
		len = nl ? (size_t)(nl - l) : strlen(l);
		nl = nl ? nl + 1 : l + len;
		if (!strncmp(l, "session ", 8) && len >= 24) {
			if (f->sessions++)
				top_add(f, "", "", 0);
			top_add(f, SGR_BOLD, l, len);
		} else if (!strncmp(l, "  ", 2)) {
			top_add(f,
				memmem(l, len, "[sub-agent", 10) ? SGR_AGENT
				: memmem(l, len, "(exited)", 8)	 ? SGR_DIM
								 : "",
				l, len);
		} else if (len) {
			top_add(f, "", l, len);
		}
		/* A session's events follow its tree: at the next session
		 * or the end. */
		if (f->sessions && f->n < max_lines &&
		    (!*nl || !strncmp(nl, "session ", 8))) {
			for (ssize_t i = (ssize_t)f->n - 1; i >= 0; i--)
				if (!strncmp(f->v[i].text, "session ", 8)) {
					memcpy(sid, f->v[i].text + 8, 16);
					break;
				}
			sid[16] = 0;
			top_session_events(cli, sid, f);
		}
	}
	free(ps);
	return 0;
}

/* The bytes of s that fill at most cols columns: UTF-8 continuation
 * bytes take none (the tree's box characters are one column each). */
static size_t top_fit(const char *s, int cols)
{
	size_t i = 0;
	int c = 0;

	for (; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (c == cols)
				break;
			c++;
		}
	}
	return i;
}

/* Drawn over the previous frame from the top left, each line cleared to
 * its end, the rest of the screen cleared after: no flicker. Not a
 * terminal: the lines as they are. */
static void top_draw(const struct top_frame *f, int tty, int rows, int cols)
{
	struct aw_buf out = {};
	char t[64], head[160];

	aw_format_time(aw_now_realtime_ns(), t, sizeof(t));
	snprintf(head, sizeof(head),
		 "agentwall top  %d live session%s  %.8s UTC%s", f->sessions,
		 f->sessions == 1 ? "" : "s", t + 11, tty ? "  (q quits)" : "");
	if (!tty) {
		aw_buf_printf(&out, "%s\n", head);
		for (size_t i = 0; i < f->n; i++)
			aw_buf_printf(&out, "%s\n", f->v[i].text);
	} else {
		aw_buf_puts(&out, "\033[H" SGR_REVERSE);
		aw_buf_add(&out, head, top_fit(head, cols));
		aw_buf_puts(&out, "\033[K" SGR_RESET);
		for (size_t i = 0; i < f->n && (int)i + 1 < rows; i++) {
			aw_buf_puts(&out, "\r\n");
			aw_buf_puts(&out, f->v[i].attr);
			aw_buf_add(&out, f->v[i].text,
				   top_fit(f->v[i].text, cols));
			aw_buf_puts(&out, SGR_RESET "\033[K");
		}
		aw_buf_puts(&out, "\033[J");
	}
	if (out.data && write(STDOUT_FILENO, out.data, out.len) < 0) {
	}
	aw_buf_free(&out);
}

int cmd_top(struct aw_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"once", no_argument, NULL, '1'},
	    {"interval", required_argument, NULL, 'i'},
	    {"state-dir", required_argument, NULL, AW_OPT_STATE_DIR},
	    {}};
	struct sigaction sa = {.sa_handler = top_on_signal};
	uint64_t interval_ms = 1000;
	int c, once = 0, tty, rows, cols, r = AW_EXIT_OK;

	while ((c = getopt_long(argc, argv, "1i:", longopts, NULL)) != -1) {
		if (aw_cli_common_opt(cli, c, optarg))
			continue;
		if (c == '1') {
			once = 1;
		} else if (c == 'i') {
			double v;
			char *end;

			errno = 0;
			v = strtod(optarg, &end);
			if (errno || *end || !(v >= 0.1 && v <= 3600)) {
				fprintf(stderr,
					"agentwall top: --interval %s: "
					"seconds, 0.1 to 3600\n",
					optarg);
				return AW_EXIT_USAGE;
			}
			interval_ms = (uint64_t)(v * 1000);
		} else {
			return AW_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "agentwall top: unexpected argument %s\n",
			argv[optind]);
		return AW_EXIT_USAGE;
	}
	tty = isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
	if (!tty && !once) {
		fprintf(stderr, "agentwall top: not a terminal; --once prints "
				"one frame\n");
		return AW_EXIT_USAGE;
	}
	if (once) {
		struct top_frame f = {};

		r = top_frame(cli, &f, SIZE_MAX) < 0 ? AW_EXIT_NO_DAEMON
						     : AW_EXIT_OK;
		top_draw(&f, 0, 0, 0);
		top_frame_free(&f);
		return r;
	}

	/* Keys without Enter, nothing echoed; the alternate screen, so the
	 * shell's screen is back as it was after q. */
	if (tcgetattr(STDIN_FILENO, &top_saved_tio) == 0) {
		struct termios raw = top_saved_tio;

		raw.c_lflag &= ~(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		top_tio_saved = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
	}
	/* SA_RESTART for the requests' own calls; the wait below is a
	 * poll, which a signal always interrupts, so a resize redraws at
	 * once. */
	sa.sa_flags = SA_RESTART;
	sigaction(SIGWINCH, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	fputs("\033[?1049h\033[?25l", stdout);
	fflush(stdout);

	while (!top_stop) {
		struct top_frame f = {};
		struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
		uint64_t until = aw_now_boottime_ns() / 1000000 + interval_ms;

		top_resized = 0;
		top_screen_size(&rows, &cols);
		top_frame(cli, &f, (size_t)rows);
		top_draw(&f, 1, rows, cols);
		top_frame_free(&f);
		/* Wait for the next tick, a key, or a resize (which
		 * interrupts poll, SA_RESTART or not). */
		while (!top_stop && !top_resized) {
			uint64_t now = aw_now_boottime_ns() / 1000000;
			char key[16];
			ssize_t k;

			if (now >= until)
				break;
			if (poll(&p, 1, (int)(until - now)) <= 0)
				continue;
			if (p.revents & (POLLHUP | POLLERR)) {
				top_stop = 1;
				break;
			}
			k = read(STDIN_FILENO, key, sizeof(key));
			if (k == 0)
				top_stop = 1;
			for (ssize_t i = 0; i < k; i++)
				if (key[i] == 'q' || key[i] == 'Q' ||
				    key[i] == 3 /* ^C in raw mode */)
					top_stop = 1;
		}
	}
	top_restore();
	return r;
}
