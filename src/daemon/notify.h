/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef AW_DAEMON_NOTIFY_H
#define AW_DAEMON_NOTIFY_H

/* Tell the service manager (systemd's Type=notify) how the daemon is
 * doing: one datagram of NAME=VALUE lines to $NOTIFY_SOCKET, a path or an
 * abstract socket ("@name"). Nothing happens without $NOTIFY_SOCKET.
 * Returns 1 if sent, 0 if there is no one to tell, a negative errno. */
int aw_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
