/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef AW_DAEMON_H
#define AW_DAEMON_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "agentwall_abi.h"
#include "shared/json.h"
#include "policy/policy.h"
#include "signatures/signatures.h"
#include "store/store.h"

/* AW_DEFAULT_STATE_DIR, _RUN_DIR, _CONF, _EXTRA_SIGS, _EXTRA_POLICIES,
 * _LAUNCHER and AW_CONF_DIR: from meson's prefix, sysconfdir,
 * localstatedir, runstatedir and bindir (meson.build). */
#include "aw_paths.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 /* Linux 6.5: the peer as a pidfd */
#endif
#define AW_DEFAULT_BPFFS_DIR "/sys/fs/bpf/agentwall"
#define AW_STORE_NAME "events.db"
#define AW_SOCKET_NAME "agentwalld.sock"

struct aw_opts {
	enum aw_scope_kind scope_kind;
	char scope_path[PATH_MAX];
	enum aw_mode mode;
	char store_path[PATH_MAX];
	char socket_path[PATH_MAX];
	char bpffs_dir[PATH_MAX];
	char sig_dir[PATH_MAX];	   /* empty: embedded + AW_DEFAULT_EXTRA_SIGS */
	char policy_dir[PATH_MAX]; /* empty: embedded +
				      AW_DEFAULT_EXTRA_POLICIES */
	char launcher[PATH_MAX];   /* the agentwall binary forced agents are
				      re-executed through */
	char export_path[PATH_MAX];
	int export_ocsf; /* --export-format ocsf: the file gets OCSF lines */
	/* Outputs (outputs.c): "" when off. */
	char webhook_url[1024];
	int webhook_native; /* --webhook-format native (default: ocsf) */
	unsigned webhook_batch;
	char syslog_to[PATH_MAX];
	int syslog_native;
	unsigned output_queue; /* events waiting for the webhook at most */
	char group[64];
	gid_t ctl_gid;	   /* (gid_t)-1: root only */
	uint32_t ring_mib; /* ring buffer size, power of two */
	int json_stdout;
	int quiet;
	char metrics_listen[128]; /* "": no metrics endpoint */
	int metrics_remote;	  /* a non-loopback address is allowed */
	struct aw_store_limits limits;
	char dns_upstream[128]; /* "": the first nameserver of resolv.conf */
	uint64_t session_quota; /* bytes: each session store's size */
	unsigned sessions_max;	/* stores kept at once; 0: no cap */
	unsigned inventory_interval; /* seconds between rescans; 0: off */
};

#define AW_DEFAULT_SESSION_QUOTA (4ull << 30)
#define AW_DEFAULT_SESSIONS_MAX 64
#define AW_DEFAULT_INVENTORY_INTERVAL 300
#define AW_INVENTORY_UNSET 0xffffffffu /* by scope: host 300, cgroup 0 */

/* Kernel feature probe, done once at start and reported by status. */
struct aw_probe {
	char kernel[128];
	int btf;
	int bpf_lsm_listed; /* "bpf" in /sys/kernel/security/lsm */
	int bpf_lsm_loads;  /* a BPF LSM program passed load */
	int bpf_lsm_errno;
	int landlock_abi; /* <= 0: unavailable (negated errno) */
	int seccomp_user_notif;
	int task_storage;
	int ringbuf;
	int tp_btf;
	char cgroup2_path[PATH_MAX];
	char backend[32];
};
void aw_probe_run(struct aw_probe *p);
void aw_probe_json(const struct aw_probe *p, struct aw_buf *b);

/* Signature numbers are stable for the daemon's life so that task storage
 * written under an older database still names the right agent. */
struct aw_sigref {
	char *id, *vendor, *product, *class, *package;
};

struct aw_kernel;
struct aw_daemon;

int aw_kernel_open(const struct aw_opts *o, struct aw_kernel **ret, char *err,
		   size_t errlen);
int aw_kernel_ring_fd(struct aw_kernel *k);
int aw_kernel_poll(struct aw_kernel *k); /* consume available records */
int aw_kernel_load_sigs(struct aw_kernel *k, const struct aw_compiled *c,
			const uint32_t *rule_sig_numbers, char *err,
			size_t errlen);
void aw_kernel_stats(struct aw_kernel *k, uint64_t ret[AW_STAT_MAX]);
/* The ring buffer's consumer and producer positions (bytes, read-only
 * mapping valid until aw_kernel_release) and its size. */
int aw_kernel_ring_positions(struct aw_kernel *k, const uint64_t **ret_cons,
			     const uint64_t **ret_prod, uint64_t *ret_size);
void aw_kernel_close(struct aw_kernel *k);
void aw_kernel_release(struct aw_kernel *k, int remove_pins);
unsigned aw_kernel_bank(struct aw_kernel *k);
int aw_kernel_adopted(struct aw_kernel *k);
int aw_kernel_sig_ids_fd(struct aw_kernel *k);
int aw_kernel_set_inode(struct aw_kernel *k, uint64_t dev, uint64_t ino,
			uint32_t gen, uint32_t rule_index);

/* Exact file identities learned from exec: an executable classified by
 * its path is then recognised by (dev, ino) wherever it is linked or
 * renamed to. Kept across signature reloads (re-bound to the new rule of
 * the same signature) for the daemon's life. */
struct aw_learned {
	uint64_t dev, ino;
	uint32_t gen;
	uint32_t sig; /* signature number */
	char *path;
};
int aw_daemon_learn_inode(struct aw_daemon *d, uint64_t dev, uint64_t ino,
			  uint32_t gen, uint32_t rule, const char *path);
int aw_kernel_task_del(struct aw_kernel *k, int pidfd);
int aw_kernel_content_ok(struct aw_kernel *k, const struct aw_content_key *key);
/* enum aw_mode of a signature's policy (AW_MODE_ENFORCE if unset). */
int aw_kernel_sig_mode(struct aw_kernel *k, uint32_t sig);
/* Replace the size prefilter with these sizes. */
int aw_kernel_set_content_sizes(struct aw_kernel *k, const uint64_t *sizes,
				size_t n);
int aw_kernel_heartbeat(struct aw_kernel *k, int alive);
int aw_kernel_set_launcher(struct aw_kernel *k, const char *path);
/* A device number in the kernel's own encoding (s_dev: major << 20 |
 * minor), as the BPF side reads it from an inode. */
uint64_t aw_kernel_dev(dev_t dev);
int aw_kernel_set_sig_mode(struct aw_kernel *k, uint32_t sig,
			   enum aw_mode mode);
int aw_kernel_task_get(struct aw_kernel *k, int pidfd,
		       struct aw_task_state *ret);
int aw_kernel_task_set(struct aw_kernel *k, int pidfd,
		       const struct aw_task_state *st);
/* fn(pidfd of the thread, arg) for every thread of pid; the sum of what
 * it returned. */
int aw_kernel_threads_each(uint32_t pid, int (*fn)(int tfd, void *arg),
			   void *arg);
/* aw_tasks, for lookups by pidfd from another thread. */
int aw_kernel_tasks_fd(struct aw_kernel *k);
uint64_t aw_kernel_new_session(struct aw_kernel *k);
/* The socket hooks: NULL once attached, else why not. */
#define AW_NET_LINKS 14
const char *aw_kernel_net_error(struct aw_kernel *k);
enum aw_net_map {
	AW_NETMAP_SESSIONS,
	AW_NETMAP_ALLOW,
	AW_NETMAP_CIDRS,
	AW_NETMAP_LLM,
	AW_NETMAP_CGROUPS,
};
int aw_kernel_net_fd(struct aw_kernel *k, enum aw_net_map m);
void aw_kernel_set_handler(struct aw_kernel *k,
			   int (*fn)(void *ctx, const void *data, size_t size),
			   void *ctx);

/* Process cache and sessions (procs.c). */
struct aw_procinfo {
	uint32_t pid;
	uint64_t start_time;
	int start_approx; /* read from /proc (clock ticks), not the kernel */
	uint32_t spawner; /* who forked it: lineage parent */
	uint64_t spawner_start;
	uint32_t ppid;
	uint32_t uid;
	uint64_t session;
	uint32_t agent;
	int subagent;
	char *tool;	   /* configured name of the tool (MCP server) it is, or
			      belongs to; NULL if none (src/daemon/tools.c) */
	uint32_t tool_pid; /* the pid that tool started as */
	int64_t tool_pids_max; /* its policy's limit, -1 if none */
	uint32_t tool_net;     /* its network key's counter, 0 if none */
	int live;
	char comm[16];
	char *exe;
	char *argv; /* NUL-separated */
	size_t argv_len;
	int argv_trunc;
	char *cwd;
	uint64_t last_seen_ns;
};

struct aw_sessioninfo {
	uint64_t session;
	uint32_t agent;
	uint32_t root_pid;
	uint64_t root_start;
	uint32_t uid;
	uint64_t started_ns; /* realtime */
	uint64_t ended_ns;
	uint32_t live;
	uint64_t events;
	char *version;
	char *matched;
};

struct aw_procs;
struct aw_procs *aw_procs_new(void);
void aw_procs_free(struct aw_procs *p);
struct aw_procinfo *aw_procs_get(struct aw_procs *p, uint32_t pid,
				 uint64_t start_time);
struct aw_procinfo *aw_procs_add(struct aw_procs *p, uint32_t pid,
				 uint64_t start_time);
struct aw_sessioninfo *aw_sessions_get(struct aw_procs *p, uint64_t session);
struct aw_sessioninfo *aw_sessions_add(struct aw_procs *p, uint64_t session);
/* Visit live sessions / procs. */
void aw_sessions_each(struct aw_procs *p,
		      void (*fn)(void *ud, struct aw_sessioninfo *s), void *ud);
void aw_procs_each(struct aw_procs *p,
		   void (*fn)(void *ud, struct aw_procinfo *pi), void *ud);
/* Drop dead entries beyond the cache bound; sessions ended long ago. */
void aw_procs_trim(struct aw_procs *p, uint64_t now_ns);
/* Lineage from the session root to pi (inclusive), at most max entries. */
size_t aw_procs_lineage(struct aw_procs *p, struct aw_procinfo *pi,
			struct aw_procinfo **out, size_t max);
size_t aw_procs_count(struct aw_procs *p);
void aw_procinfo_set_str(char **dst, const char *s);

struct aw_writer;

struct aw_adopt_killed {
	uint32_t pid;
	uint64_t start_time;
};

struct aw_daemon {
	struct aw_opts opts;
	/* Agents found waiting to be forced at restart and killed: their
	 * exec records, still in the ring, ask for no forcing. */
	struct aw_adopt_killed *adopt_killed;
	size_t n_adopt_killed;
	struct aw_writer *writer; /* store inserts on their own thread */
	struct aw_probe probe;
	struct aw_kernel *kernel;
	struct aw_store *store;
	struct aw_procs *procs;
	struct aw_sigdb db;
	uint32_t *sig_of_index; /* db index -> stable signature number */
	struct aw_sigref *sigs; /* by number; [0] unused */
	size_t n_sigs;
	struct aw_learned *learned;
	size_t n_learned;
	uint32_t *rule_sig[2]; /* per bank: rule index -> signature number */
	uint16_t *rule_kind[2];
	char **rule_text[2]; /* per bank: rule index -> description */
	size_t n_rule_text[2];
	uint64_t sig_generation;
	char sig_error[512];	    /* last reload failure, "" if none */
	int export_fd;		    /* the native export (emit.c writes it) */
	struct aw_outputs *outputs; /* OCSF export, webhook, syslog */
	char hostname[256];
	uint64_t boot_realtime_offset; /* realtime - boottime, ns */
	uint64_t user_drops;	       /* events lost in user space */
	uint64_t drops_reported;
	uint64_t events_seen;
	uint64_t decode_errors;
	uint64_t started_ns;
	struct aw_buf line;
	struct aw_buf json;
	/* The compiled tables in force (rules point into db). */
	struct aw_compiled *compiled;
	struct aw_policyset policies;
	uint64_t policy_generation;
	char policy_error[512];
	struct aw_sandbox *sandboxes; /* sessions with cgroups of ours */
	size_t n_sandboxes;
	/* Sessions whose last member went (members.c), for the decoder to
	 * end their sandboxes (sessions.c): membership sits below them. */
	uint64_t *ended;
	size_t n_ended, cap_ended;
	struct aw_force *force;
	struct aw_pending_open *pending; /* see sessions.c */
	size_t n_pending;
	struct aw_kept *kept; /* session stores, see session_images.c */
	size_t n_kept;
	struct aw_net *net; /* network policy and resolvers, see egress.c */
	struct aw_secrets *secrets; /* inode marks of masks, see secrets.c */
	struct aw_metrics *metrics; /* NULL without --metrics (metrics.c) */
	struct aw_tools *tools;	    /* configured tools per session, tools.c */
	struct aw_inventory_stage *inventory; /* see inventory.c */
};

/* tools.c: an exec of a session member that is a tool the agent is
 * configured to start becomes one (see there); a member already marked
 * (task_flags) keeps its name. */
void aw_tools_exec(struct aw_daemon *d, struct aw_procinfo *pi,
		   uint32_t task_flags, uint64_t ktime);
/* A fork of a tool's process: the child is the tool too (marked and in
 * the tool's cgroup, if the fork came before the tool was). */
void aw_tools_fork(struct aw_daemon *d, const struct aw_procinfo *parent,
		   struct aw_procinfo *child, uint32_t task_flags);
/* A session ended: its tools' own network policies go too. */
void aw_tools_session_end(struct aw_daemon *d, uint64_t session);
void aw_tools_free(struct aw_daemon *d);

/* events.c */
/* The event schema's "agent" object (null without a signature) and an
 * argv array from a NUL-separated block: one definition for events and
 * `ps --json`. */
void aw_json_agent(struct aw_buf *b, const struct aw_sigref *s,
		   const char *version);
void aw_json_argv(struct aw_buf *b, const char *argv, size_t len);
int aw_events_handle(void *ctx, const void *data, size_t size);
void aw_events_emit_simple(struct aw_daemon *d, const char *action,
			   uint64_t session, const char *target,
			   const char *rule, const char *detail_json);
void aw_events_check_drops(struct aw_daemon *d);
/* 1 if pid is still the process that started at start_time (boottime
 * ns), 0 if not (gone, or the pid reused), -1 if /proc cannot say. */
int aw_proc_still(uint32_t pid, uint64_t start_time);
/* /proc/PID/stat: parent and start time (clock ticks); -errno. */
int aw_proc_stat(uint32_t pid, uint32_t *ret_ppid, uint64_t *ret_ticks);
void aw_events_reconcile(struct aw_daemon *d);
/* End the sandboxes of sessions whose last member went (after every
 * record, reconciliation and tick). */
void aw_events_end_sandboxes(struct aw_daemon *d);
/* After adopting a previous daemon's pins: rebuild sessions from the
 * kernel's task storage of the live processes. */
void aw_events_adopt(struct aw_daemon *d);
const struct aw_sigref *aw_daemon_sig(struct aw_daemon *d, uint32_t number);
/* Around every use of d->store from the event loop (see writer.c). */
void aw_store_lock(struct aw_daemon *d);
void aw_store_unlock(struct aw_daemon *d);
/* Events lost in user space: our own count, plus the store's. */
uint64_t aw_daemon_user_drops(struct aw_daemon *d);

void aw_events_emit_decision(struct aw_daemon *d, const char *action,
			     uint64_t session, uint32_t pid, const char *target,
			     const char *rule, const char *decision,
			     const char *detail_json);
/* A session the daemon opened for a launcher (run or forced). */
void aw_events_session_open(struct aw_daemon *d, uint32_t pid, uint32_t uid,
			    uint64_t session, uint32_t agent, const char *cu,
			    const char *policy, const char *workspace,
			    int forced, const char *note);

/* sessions.c */
struct aw_sandbox;
int aw_daemon_reload_policies(struct aw_daemon *d, char *err, size_t len);
void aw_policies_apply_modes(struct aw_daemon *d);
void aw_session_open(struct aw_daemon *d, int fd, const char *args,
		     struct aw_buf *out);
/* "session-ready": the launcher waits until it is in its session's
 * cgroups (the move session-open started), before the session's first
 * process. */
void aw_session_ready(struct aw_daemon *d, int fd, const char *args,
		      struct aw_buf *out);
void aw_session_report(struct aw_daemon *d, int fd, const char *args,
		       struct aw_buf *out);
void aw_sandbox_session_end(struct aw_daemon *d, uint64_t session);
int aw_sandbox_tool_cgroup(struct aw_daemon *d, uint64_t session,
			   uint32_t owner, uint32_t pid, int64_t pids_max,
			   char *where, size_t wlen, char *err, size_t errlen);
void aw_sandbox_tick(struct aw_daemon *d);
struct aw_pending_open;
void aw_sessions_flush_pending(struct aw_daemon *d);
void aw_sandbox_cleanup(struct aw_daemon *d);
void aw_sandbox_sweep(struct aw_daemon *d);

/* 1 if a process of the session is still in its cgroup. */
int aw_sandbox_alive(struct aw_daemon *d, uint64_t session);
/* The cgroup v2 and v1 (pids) directories sessions' cgroups are made in
 * (session_images.c). */
#define CG_PIDS_V1 "/sys/fs/cgroup/pids"
void aw_session_cgroup_parents(struct aw_daemon *d, char *v2, size_t v2len,
			       char *v1, size_t v1len);

/* session_images.c: sessions' copy-on-write stores, kept for review. */
enum aw_kept_state {
	AW_KEPT_RUNNING,
	AW_KEPT_EXITED,	   /* ended, changes (if any) await review */
	AW_KEPT_COMMITTED, /* everything was committed */
	AW_KEPT_DISCARDED,
};
struct aw_kept {
	uint64_t session;
	uint32_t uid, gid;
	enum aw_kept_state state;
	char policy[65], agent[65];
	char workspace[PATH_MAX];
	char command[1024];
	uint64_t started_ns, ended_ns;
	uint32_t approved_by;
	uint64_t approved_ns; /* 0: escalated changes not approved */
	int quota_full;
	/* A change was found (store_has_changes): not looked for again
	 * until the session runs again. In memory only. */
	int changes_seen;
};
const char *aw_kept_state_name(enum aw_kept_state s);
struct aw_kept *aw_stores_find(struct aw_daemon *d, uint64_t session);
void aw_stores_load(struct aw_daemon *d);
void aw_stores_close(struct aw_daemon *d);
/* A new session's store (mkfs + mount); fs gets the mounted root. */
/* <state dir>/walk/<uid>: the user's cache for the launcher's `**`
 * walks (src/sandbox/walk.h), made the user's, 0700. Inside the state
 * directory, which every session has masked: no session writes it. 0 and
 * the path, or -errno. */
int aw_stores_walk_cache(struct aw_daemon *d, uid_t uid, gid_t gid, char *ret,
			 size_t len);
int aw_stores_create(struct aw_daemon *d, uint64_t session, uid_t uid,
		     gid_t gid, const char *policy, const char *agent,
		     const char *workspace, const char *command, char *fs,
		     size_t fslen, char *err, size_t errlen);
int aw_stores_resume(struct aw_daemon *d, uint64_t session, uid_t uid, char *fs,
		     size_t fslen, char *err, size_t errlen);
void aw_stores_abort(struct aw_daemon *d, uint64_t session, int resumed);
void aw_stores_session_end(struct aw_daemon *d, uint64_t session);
void aw_stores_tick(struct aw_daemon *d);
void aw_stores_list(struct aw_daemon *d, int fd, int privileged,
		    struct aw_buf *out);
void aw_stores_review(struct aw_daemon *d, int fd, int privileged,
		      const char *args, struct aw_buf *out);

/* egress.c: per-session network policy, the sessions' resolvers. */
struct aw_net;
struct aw_policy_flat;
struct aw_event_net;
int aw_net_open(struct aw_daemon *d, int epfd, char *err, size_t errlen);
void aw_net_close(struct aw_daemon *d);
/* The session's resolver listens in the network namespace of the process
 * pidfd names (-1: the daemon's own): a session in a container or under
 * `unshare --net` asks 127.0.0.1 of its own namespace. */
/* cgroup: the id of the session's own v2 cgroup, which only its tasks
 * are in (0: none); its sockets are known by it (aw_net_cgroups). */
int aw_net_session_open(struct aw_daemon *d, uint64_t session, uint32_t uid,
			int pidfd, uint64_t cgroup,
			const struct aw_policy_flat *f, char *err,
			size_t errlen);
/* The same for a tool's own network policy (tools.c): its sockets are
 * decided under the key session, its records go to the session report. */
int aw_net_session_open_as(struct aw_daemon *d, uint64_t session,
			   uint64_t report, uint32_t uid, int pidfd,
			   uint64_t cgroup, const struct aw_policy_flat *f,
			   char *err, size_t errlen);
void aw_net_session_end(struct aw_daemon *d, uint64_t session);
/* 1 if fd was one of the resolvers' (and was handled). */
int aw_net_handle(struct aw_daemon *d, int fd, uint32_t events);
void aw_net_tick(struct aw_daemon *d);
int aw_net_record(struct aw_daemon *d, const struct aw_event_net *ev);
/* ADDR:PORT ([v6]:PORT) of a record, as events name it. */
void aw_net_addr_text(const struct aw_event_net *ev, char *buf, size_t len);
void aw_net_set_llm_apis(struct aw_daemon *d, char *const *names, size_t count);
const char *aw_net_llm_name(struct aw_daemon *d, uint32_t idx);
void aw_net_status(struct aw_daemon *d, struct aw_buf *b);
/* A process outside any session that reached a known LLM API: a
 * session and the default policy's network rules from now on
 * (sessions.c). */
int aw_session_discovered(struct aw_daemon *d, uint32_t pid, uint32_t uid,
			  uint64_t start_time, uint64_t session,
			  const char *api, const char *address);
/* events.c: the record of it. */
void aw_events_discovered(struct aw_daemon *d, uint32_t pid, uint32_t uid,
			  uint64_t session, const char *api,
			  const char *address, const char *policy);

/* secrets.c: masked files refused by inode (fanotify permission marks). */
struct aw_secrets;
int aw_secrets_open(struct aw_daemon *d, char *err, size_t errlen);
int aw_secrets_fd(struct aw_daemon *d); /* readable: records to emit */
void aw_secrets_collect(struct aw_daemon *d);
void aw_secrets_mark_self(struct aw_daemon *d);
/* -EMLINK (err says which file and what to do) when the store has a
 * hard link elsewhere: a sandboxed session is refused then. */
int aw_secrets_store_links(struct aw_daemon *d, char *err, size_t errlen);
void aw_secrets_request(struct aw_daemon *d, int fd, const char *args,
			struct aw_buf *out);
/* "session-masks": the session's mask tmpfs (fd, passed by its launcher)
 * and the real path and rule of each placeholder. */
void aw_secrets_masks(struct aw_daemon *d, int fd, const char *args,
		      int passed_fd, struct aw_buf *out);
void aw_secrets_session_end(struct aw_daemon *d, uint64_t session);
void aw_secrets_status(struct aw_daemon *d, struct aw_buf *b);
void aw_secrets_close(struct aw_daemon *d);

/* force.c: re-execute agents stopped at exec through the launcher. */
struct aw_force;
/* A shipped binary's identity (signature `content:` entries). */
struct aw_content_ent {
	uint8_t sha[32];
	uint64_t size;
	uint32_t sig; /* signature number */
};
int aw_force_start(struct aw_daemon *d, struct aw_force **ret);
/* content: the exec was held for a content check (AW_EXEC_CONTENT). */
void aw_force_request(struct aw_force *f, uint32_t pid, uint64_t start_time,
		      uint64_t session, int content);
/* Takes ents (malloc'ed) over. */
void aw_force_set_content(struct aw_force *f, struct aw_content_ent *ents,
			  size_t n);
/* events.c: a held exec whose content is an agent's (session-start), or
 * not (its process record leaves the session it was held in). */
void aw_events_content_session(struct aw_daemon *d, uint32_t pid,
			       uint64_t start_time, uint32_t sig,
			       const char *sha);
/* Agents killed while waiting to be forced, already recorded. */
void aw_daemon_killed_forcing(struct aw_daemon *d, uint32_t pid,
			      uint64_t start_time);
int aw_daemon_was_killed_forcing(struct aw_daemon *d, uint32_t pid,
				 uint64_t start_time);
void aw_events_content_released(struct aw_daemon *d, uint32_t pid,
				uint64_t start_time);
/* Results come back on this fd (readable when there are some). */
int aw_force_fd(struct aw_force *f);
void aw_force_collect(struct aw_daemon *d);
void aw_force_stop(struct aw_force *f);

/* main.c */
int aw_daemon_learn_inode_sig(struct aw_daemon *d, uint64_t dev, uint64_t ino,
			      uint32_t gen, uint32_t sig);
/* src/daemon/sigdb.c: at start, the signature numbers a previous
 * daemon's task storage holds, and the content sizes for the kernel. */
void aw_sigdb_adopt_ids(struct aw_daemon *d);
void aw_sigdb_content_publish(struct aw_daemon *d);
int aw_daemon_reload_signatures(struct aw_daemon *d, char *err, size_t len);
/* sigdb.c: the database and the kernel's classification maps only (the
 * rest of a reload is reload.c's). */
int aw_sigdb_reload(struct aw_daemon *d, char *err, size_t len);
/* A database parsed from the sources the daemon's comes from (its
 * --signatures directory, or the embedded files and signatures.d), for
 * a stage that keeps its own copy (inventory.c's thread). */
int aw_sigdb_load_sources(struct aw_daemon *d, struct aw_sigdb *db, char *err,
			  size_t errlen);
/* The stable number of a signature (kept in task storage). */
struct aw_signature;
uint32_t aw_sigdb_number(struct aw_daemon *d, const struct aw_signature *s);

/* inventory.c: installed agents and configured MCP servers, rescanned on
 * its own thread (timer and inotify); what changed becomes `inventory`
 * events, emitted from the main loop when its fd is readable. */
struct aw_inventory_stage;
int aw_inventory_open(struct aw_daemon *d, char *err, size_t errlen);
int aw_inventory_fd(struct aw_daemon *d); /* readable: a scan to collect */
void aw_inventory_collect(struct aw_daemon *d);
void aw_inventory_sigdb_changed(struct aw_daemon *d);
void aw_inventory_status(struct aw_daemon *d, struct aw_buf *b);
void aw_inventory_close(struct aw_daemon *d);

/* control.c */
struct aw_control;
int aw_control_open(struct aw_daemon *d, struct aw_control **ret, char *err,
		    size_t errlen);
int aw_control_fd(struct aw_control *c);
void aw_control_handle(struct aw_control *c, int epfd, int fd, uint32_t events);
void aw_control_close(struct aw_control *c);
void aw_status_json(struct aw_daemon *d, struct aw_buf *b);
/* Live sessions as trees; only_uid >= 0: only the sessions that uid
 * started. */
void aw_ps_render(struct aw_daemon *d, struct aw_buf *b, int json,
		  int64_t only_uid);

#endif
