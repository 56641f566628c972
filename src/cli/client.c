// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"
#include "shared/json.h"
#include "shared/util.h"

#define REPLY_MAX (64u << 20)
#define TIMEOUT_MS 10000

int aw_cli_request(const struct aw_cli *cli, const char *req, char **ret,
		   char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct aw_buf b = {};
	char chunk[65536];
	int fd, r;

	if (strlen(cli->socket_path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: path too long", cli->socket_path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, cli->socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot reach agentwalld at %s: %s",
			 cli->socket_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return r;
	}
	{
		/* A refused peer gets its error before it has sent anything:
		 * a failed send is not the end, the reply may be waiting. */
		size_t n = strlen(req);
		char *line = malloc(n + 2);

		if (!line) {
			close(fd);
			return -ENOMEM;
		}
		memcpy(line, req, n);
		line[n] = '\n';
		if (send(fd, line, n + 1, MSG_NOSIGNAL) < 0 && errno != EPIPE &&
		    errno != ECONNRESET) {
			r = -errno;
			snprintf(err, errlen, "send: %s", strerror(errno));
			free(line);
			close(fd);
			return r;
		}
		free(line);
	}
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		int pr = poll(&p, 1, TIMEOUT_MS);

		/* A signal (agentwall top's SIGWINCH) is not an answer. */
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0) {
			snprintf(err, errlen, "agentwalld did not answer");
			close(fd);
			aw_buf_free(&b);
			return -ETIMEDOUT;
		}
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		aw_buf_add(&b, chunk, n);
		if (b.len > REPLY_MAX || b.oom) {
			snprintf(err, errlen, "reply too large");
			close(fd);
			aw_buf_free(&b);
			return -E2BIG;
		}
	}
	close(fd);
	aw_buf_add(&b, "", 1);
	if (b.oom) {
		aw_buf_free(&b);
		return -ENOMEM;
	}
	*ret = b.data;
	return 0;
}

/*
 * Times: RFC 3339 UTC ("2026-11-28T05:00:00Z", seconds optional), a Unix
 * time in seconds ("@1795000000"), or an age ("90s", "10m", "2h", "7d").
 */
int aw_cli_parse_time(const char *s, uint64_t *ret)
{
	struct tm tm = {};
	uint64_t v;
	size_t n = strlen(s);
	const char *end;

	if (s[0] == '@') {
		if (aw_parse_u64(s + 1, &v) < 0)
			return -EINVAL;
		*ret = v * 1000000000ull;
		return 0;
	}
	if (n >= 2 && strchr("smhd", s[n - 1])) {
		char num[32];
		uint64_t mult = s[n - 1] == 's'	  ? 1
				: s[n - 1] == 'm' ? 60
				: s[n - 1] == 'h' ? 3600
						  : 86400;

		if (n - 1 >= sizeof(num))
			return -EINVAL;
		memcpy(num, s, n - 1);
		num[n - 1] = 0;
		if (aw_parse_u64(num, &v) < 0 || v > 100000ull * 86400)
			return -EINVAL;
		*ret = aw_now_realtime_ns() - v * mult * 1000000000ull;
		return 0;
	}
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		end = strptime(s, "%Y-%m-%dT%H:%M", &tm);
	if (!end)
		end = strptime(s, "%Y-%m-%d", &tm);
	if (!end || (*end && strcmp(end, "Z") != 0))
		return -EINVAL;
	*ret = (uint64_t)timegm(&tm) * 1000000000ull;
	return 0;
}

static int hex_prefix(const char *s)
{
	if (!*s || strlen(s) > 16)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

int aw_cli_session_resolve(struct aw_cli *cli, const char *arg, char ret[17],
			   const char *what)
{
	char *reply = NULL, id[32], v[32], found[17] = "", amb[64] = "";
	uint64_t newest = 0, started;
	size_t matches = 0;
	int last = !strcmp(arg, "last");

	if (!last && !hex_prefix(arg)) {
		fprintf(stderr,
			"agentwall %s: %s: not a session (its 16 hex digits, a "
			"prefix of them, or `last`; see agentwall sessions)\n",
			what, arg);
		return AW_EXIT_USAGE;
	}
	if (strlen(arg) == 16) {
		snprintf(ret, 17, "%s", arg);
		return AW_EXIT_OK;
	}
	{
		char err[1024];

		if (aw_cli_request(cli, "session-list", &reply, err,
				   sizeof(err)) < 0) {
			fprintf(stderr, "agentwall %s: %s\n", what, err);
			return AW_EXIT_NO_DAEMON;
		}
		if (!strncmp(reply, "error", 5)) {
			fprintf(stderr, "agentwall %s: %s", what, reply);
			free(reply);
			return AW_EXIT_FAIL;
		}
	}
	for (char *line = reply, *nl; (nl = strchr(line, '\n'));
	     line = nl + 1) {
		*nl = 0;
		if (strncmp(line, "session ", 8) ||
		    aw_kv_get(line, "id", id, sizeof(id)) < 0 ||
		    strlen(id) != 16)
			continue;
		if (last) {
			if (aw_kv_get(line, "started", v, sizeof(v)) == 0 &&
			    aw_parse_u64(v, &started) == 0 &&
			    started >= newest) {
				newest = started;
				snprintf(found, sizeof(found), "%s", id);
				matches = 1;
			}
		} else if (!strncmp(id, arg, strlen(arg))) {
			if (matches++ < 3)
				snprintf(amb + strlen(amb),
					 sizeof(amb) - strlen(amb), "%s%s",
					 matches > 1 ? ", " : "", id);
			snprintf(found, sizeof(found), "%s", id);
		}
	}
	free(reply);
	if (matches == 1) {
		snprintf(ret, 17, "%s", found);
		return AW_EXIT_OK;
	}
	if (!matches)
		fprintf(stderr, "agentwall %s: %s\n", what,
			last ? "no kept session (see agentwall sessions)"
			     : "no kept session has that prefix");
	else
		fprintf(stderr,
			"agentwall %s: %s names %zu sessions (%s%s): give more "
			"digits\n",
			what, arg, matches, amb, matches > 3 ? ", ..." : "");
	return AW_EXIT_USAGE;
}
