// SPDX-License-Identifier: GPL-2.0-only
/*
 * sd_notify(3) without libsystemd: the protocol is one datagram on a unix
 * socket whose address systemd passes in $NOTIFY_SOCKET.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/notify.h"

int aw_notify(const char *fmt, ...)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char msg[512];
	socklen_t salen;
	size_t len;
	va_list ap;
	ssize_t n;
	int fd, r;

	if (!path || !path[0])
		return 0;
	len = strlen(path);
	/* "@name" is Linux's abstract namespace: a leading NUL byte. */
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = 0;
	salen = offsetof(struct sockaddr_un, sun_path) + len +
		(path[0] == '/'); /* the path's NUL */

	va_start(ap, fmt);
	r = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= sizeof(msg))
		return -EINVAL;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	n = sendto(fd, msg, (size_t)r, MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   salen);
	r = n < 0 ? -errno : 1;
	close(fd);
	return r;
}
