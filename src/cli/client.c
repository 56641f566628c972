// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"
#include "shared/json.h"

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

		if (poll(&p, 1, TIMEOUT_MS) <= 0) {
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
