/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Session membership in the process cache (src/daemon/members.c): what
 * the decoder needs of it beyond daemon.h's calls.
 */
#ifndef AW_DAEMON_MEMBERS_H
#define AW_DAEMON_MEMBERS_H

#include <stddef.h>
#include <stdint.h>

struct aw_daemon;
struct aw_procinfo;
struct aw_sessioninfo;
struct aw_sigref;
struct aw_event_exec;

char *aw_members_agent_version(struct aw_daemon *d, struct aw_procinfo *pi,
			       const struct aw_sigref *sig,
			       const char *filename);
struct aw_procinfo *aw_members_proc_from_proc(struct aw_daemon *d,
					      uint32_t pid);
char *aw_members_proc_link(uint32_t pid, const char *what);
struct aw_procinfo *aw_members_proc_take(struct aw_daemon *d, uint32_t pid,
					 uint64_t start, int *ret_known);
void aw_members_rule_describe(struct aw_daemon *d, uint32_t rule, char *buf,
			      size_t len, const struct aw_sigref *sig);
struct aw_sessioninfo *aw_members_session_lazy(struct aw_daemon *d,
					       struct aw_procinfo *pi,
					       uint64_t ktime);
void aw_members_session_member_gone(struct aw_daemon *d, struct aw_procinfo *pi,
				    uint64_t ktime);
void aw_members_session_started(struct aw_daemon *d, struct aw_procinfo *pi,
				const struct aw_event_exec *ev,
				const char *filename, char *rule_desc);

/* A session whose last member went: its sandbox is to be ended
 * (sessions.c). 1 and the session, or 0 when there is none. */
int aw_members_take_ended(struct aw_daemon *d, uint64_t *ret_session);

/* A control-socket request from a session's launcher (its task storage
 * says CONTAINED) naming its own session (session=ID): 0 with the peer's
 * pidfd (to close), task state and, if asked, credentials; -EPERM with
 * the error line in out ("only a session's launcher WHAT"). */
struct ucred;
struct aw_task_state;
struct aw_buf;
int aw_members_peer_session(struct aw_daemon *d, int fd, const char *args,
			    const char *what, struct ucred *ret_cred,
			    int *ret_pidfd, struct aw_task_state *ret_st,
			    struct aw_buf *out);

#endif
