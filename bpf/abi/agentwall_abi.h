/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one ABI between agentwall's BPF programs and its user-space code.
 *
 * Every type that crosses the kernel/user boundary (ring-buffer events, map
 * keys and values, enums) is defined here and nowhere else. Rules:
 *  - fixed-width types only, explicit padding, no bool/long/pid_t/packed;
 *  - wire enums are numbered explicitly and never renumbered;
 *  - every event starts with struct aw_event_hdr; the user-side decoder
 *    checks type, version and size before reading anything else.
 */
#ifndef AGENTWALL_ABI_H
#define AGENTWALL_ABI_H

#ifdef __bpf__
/* vmlinux.h provides the __u* types on the BPF side. */
#else
#include <linux/types.h>
#include <stddef.h>
#endif

#define AW_ABI_VERSION 1

/* Limits shared by the kernel walk and the user-space compiler. */
#define AW_PATH_MAX 512	    /* bytes of bprm->filename / script path kept */
#define AW_ARGS_MAX 1024    /* bytes of the argument block kept */
#define AW_NAME_MAX 256	    /* a dentry name is at most 255 bytes + NUL */
#define AW_WALK_DEPTH 32    /* dentry + mount hops walked from the leaf */
#define AW_SCRIPT_ARG_MAX 8 /* interpreter arguments looked at for a script */

/*
 * DFA over path components, walked from the leaf towards the root. Two
 * banks of state numbers let a new signature database be written next to
 * the one in force and switched with a single config update.
 */
#define AW_DFA_BANK_STATES 32768u
#define AW_DFA_STATES_MAX (2 * AW_DFA_BANK_STATES)
#define AW_DFA_TRANS_MAX 65536u
#define AW_RULES_BANK 2048u
#define AW_RULES_MAX (2 * AW_RULES_BANK)
#define AW_INODES_MAX 4096u
#define AW_DFA_OTHER 0ull /* transition taken by any name not listed */
#define AW_SIGS_MAX 4096u /* signature numbers (aw_sig_ids) */
#define AW_SIG_ID_MAX 64  /* bytes of a signature id, NUL included */

/* FNV-1a 64 over the bytes of one path component, last byte first. */
#define AW_FNV_OFFSET 0xcbf29ce484222325ull
#define AW_FNV_PRIME 0x100000001b3ull

enum aw_event_type {
	AW_EV_EXEC = 1,
	AW_EV_FORK = 2,
	AW_EV_EXIT = 3,
	AW_EV_NET = 4, /* a session's socket decision (struct aw_event_net) */
	AW_EV_DISCOVER = 5,   /* a process outside any session reached a known
				 LLM API (struct aw_event_net) */
	AW_EV_FORCE_KILL = 6, /* a held agent was killed by the signal hook
				 (struct aw_event_force_kill) */
};

enum aw_rule_kind {
	AW_RULE_NONE = 0,
	AW_RULE_EXE = 1,	 /* the executable's own path */
	AW_RULE_SCRIPT = 2,	 /* script argument of an interpreter */
	AW_RULE_INTERPRETER = 3, /* exe is an interpreter: look at argv */
	AW_RULE_INODE = 4,	 /* exact file identity (dev, ino) */
};

/* struct aw_task_state.flags */
enum aw_task_flags {
	AW_TASK_ROOT = 1u << 0,	    /* opened the session (classified root) */
	AW_TASK_SUBAGENT = 1u << 1, /* classified again inside a session */
	/* The session runs in agentwall's sandbox (set by the daemon through
	 * a pidfd when the launcher asks for a session). */
	AW_TASK_CONTAINED = 1u << 2,
	/* Stopped at exec to be forced into a session; cleared when the
	 * launcher it was re-executed into is given the session. */
	AW_TASK_FORCING = 1u << 3,
	/* Not classified at exec: it reached a known LLM API and was given
	 * a session (and the default policy's network rules) then. */
	AW_TASK_DISCOVERED = 1u << 4,
	/* Its session's network is confined: with no policy entry for the
	 * session (gone, or never made), its sockets are refused. */
	AW_TASK_NET = 1u << 5,
	/* FORCING, and the daemon's ptrace holds it (set by the daemon
	 * through a pidfd once its PTRACE_SEIZE succeeded): from here a
	 * SIGCONT (a shell's `fg`) cannot resume it. Before this, the
	 * signal hook kills a FORCING task that anything would resume. */
	AW_TASK_HELD = 1u << 6,
	/* FORCING because the executable's size is a known agent binary's:
	 * the daemon hashes the file, then forces it as that agent or
	 * releases it (and deletes this storage). */
	AW_TASK_CANDIDATE = 1u << 7,
	/* The signal hook killed it (reported once). */
	AW_TASK_FORCE_KILLED = 1u << 8,
	/* A tool the session's agent is configured to start (an MCP server
	 * its config names), matched by the daemon at exec and marked
	 * through a pidfd: it and everything it forks or execs stay that
	 * tool, under the tool's policy (src/daemon/tools.c). */
	AW_TASK_TOOL = 1u << 9,
	/* FORCING, and it has exec'd the launcher (the daemon's injected
	 * execve): any further exec before its session is given kills it. */
	AW_TASK_LAUNCHED = 1u << 10,
};

/* struct aw_event_exec.flags */
enum aw_exec_flags {
	AW_EXEC_NEW_SESSION = 1u << 0, /* this exec opened a session */
	AW_EXEC_SUBAGENT = 1u << 1,   /* matched a signature inside a session */
	AW_EXEC_PATH_TRUNC = 1u << 2, /* filename did not fit */
	AW_EXEC_ARGS_TRUNC = 1u << 3, /* argument block did not fit */
	AW_EXEC_WALK_TRUNC = 1u << 4, /* path deeper than AW_WALK_DEPTH */
	AW_EXEC_BY_INODE = 1u << 5,   /* matched by exact file identity */
	AW_EXEC_FORCE_STOP = 1u << 6, /* stopped before its first
					 instruction, to be forced */
	AW_EXEC_FORCE_KILL = 1u << 7, /* killed before its first instruction:
					 enforce mode and no live daemon */
	AW_EXEC_FORCE_TRACED = 1u << 8,	 /* killed before its first
					    instruction: already ptraced (by
					    someone else: the daemon could not
					    hold it) */
	AW_EXEC_CONTENT = 1u << 9,	 /* not classified by path or inode, but
					    its size is a known agent binary's:
					    held (FORCE_STOP) or killed
					    (FORCE_KILL) for a content check */
	AW_EXEC_NOT_LAUNCHER = 1u << 10, /* killed (FORCE_KILL): being forced,
					    it exec'd something other than
					    the launcher, or exec'd again */
};

/* Per-CPU counters (map aw_stats), summed by user space. */
enum aw_stat {
	AW_STAT_DROP_EXEC = 0, /* ring buffer full: exec event lost */
	AW_STAT_DROP_FORK = 1,
	AW_STAT_DROP_EXIT = 2,
	AW_STAT_STORAGE_FAIL = 3,     /* task storage could not be created */
	AW_STAT_SESSIONS = 4,	      /* sessions opened */
	AW_STAT_EVENTS = 5,	      /* events submitted */
	AW_STAT_FORCED = 6,	      /* agents stopped to be forced */
	AW_STAT_FORCE_KILLED = 7,     /* agents killed: nobody to force them */
	AW_STAT_DROP_NET = 8,	      /* ring buffer full: socket event lost */
	AW_STAT_NET_DENIED = 9,	      /* session sockets refused */
	AW_STAT_NET_UNREPORTED = 10,  /* denials past 1000/s per session:
					 counted here, not sent */
	AW_STAT_FORCE_CONTINUED = 11, /* killed: something would have resumed
					 it before the daemon held it */
	AW_STAT_FORCE_TRACED = 12,    /* killed at exec: already ptraced */
	AW_STAT_CONTENT_HELD = 13,    /* execs held for a content check */
	AW_STAT_DROP_FORCE = 14,      /* ring buffer full: force-kill record
					 lost (the kill itself was sent) */
	AW_STAT_NET_SOCK_STORED = 15, /* session sockets given storage */
	AW_STAT_MAX = 16,
};

/* Scope: which processes may be classified as new session roots. */
enum aw_scope_kind {
	AW_SCOPE_CGROUP = 0, /* the cgroup in aw_scope_cgroup[0] and below */
	AW_SCOPE_HOST = 1,
};

enum aw_mode {
	AW_MODE_AUDIT = 0,
	AW_MODE_ENFORCE = 1,
};

/* Task local storage: present only on tasks that belong to a session. */
struct aw_task_state {
	__u64 session;
	__u32 agent; /* signature number of this process's agent */
	__u32 flags; /* enum aw_task_flags */
	__u32 depth; /* generations below the session root */
	/* A tool's own network policy (src/daemon/tools.c): its sockets
	 * are decided by the per-session maps under the key (session's
	 * upper 32 bits | net_counter) instead of the session's; 0: the
	 * session's. Inherited at fork, kept at exec. */
	__u32 net_counter;
};

/* aw_config[0]: swapped as one value on reload. */
struct aw_config {
	__u32 exe_start;    /* DFA start state for executable paths */
	__u32 script_start; /* DFA start state for script arguments */
	__u32 generation;
	__u32 mode; /* enum aw_mode: enforce forces agents into sessions */
};

/* aw_daemon_alive[0]: CLOCK_BOOTTIME ns until which the daemon counts as
 * alive. Refreshed on the daemon's 200 ms tick; an agent caught at exec
 * in enforce mode after it lapsed is killed, not stopped (nobody would
 * force it). aw_sig_mode[signature number]: enum aw_mode (as __u32) of
 * the policy that agent gets; an audit-mode policy is never forced. */
#define AW_ALIVE_GRACE_NS (2ull * 1000000000ull)

/* aw_launcher[0]: the launcher's file (dev in the kernel's encoding,
 * inode), written by the daemon before it forces anything: the one
 * program a task being forced may exec, once. The daemon's execve names
 * it by path, which the task's own mount namespace or root resolves: a
 * file bound over that path, or anything a preloaded library or a tracer
 * makes it exec instead, is not it. */
struct aw_launcher_id {
	__u64 dev;
	__u64 ino;
};

/*
 * Content identity. aw_content_sizes[i_size]: the number of known agent
 * binaries of that exact size (the in-kernel prefilter: one hash lookup
 * for an exec that matched neither an inode nor a path). aw_content_ok:
 * files of such a size the daemon hashed and found not to be an agent,
 * keyed so that any change of content (which moves ctime; ctime cannot be
 * set from user space) misses. dev is the kernel's encoding (s_dev).
 */
#define AW_CONTENT_SIZES_MAX 1024u
#define AW_CONTENT_OK_MAX 8192u

struct aw_content_key {
	__u64 dev;
	__u64 ino;
	__u64 size;
	__s64 ctime_sec;
	__u32 ctime_nsec;
	__u32 _pad;
};

struct aw_dfa_key {
	__u32 state;
	__u32 _pad;
	__u64 name_hash; /* AW_DFA_OTHER for "any other name" */
};

struct aw_dfa_next {
	__u32 state;
	__u32 _pad;
};

/* aw_dfa_states[state]: rule numbers + 1 accepted here, 0 for none. */
struct aw_dfa_state {
	__u32 accept;	   /* suffix accepted wherever the walk stands */
	__u32 root_accept; /* accepted only if the walk ends at the root */
};

/* aw_rules[rule]: what a rule number means to the kernel. */
struct aw_rule {
	__u32 sig;  /* signature number (stable for the daemon's life) */
	__u16 kind; /* enum aw_rule_kind */
	__u16 _pad;
};

/* aw_sig_ids[number]: the signature id a number stands for. Written by
 * the daemon, never read by the programs: it keeps numbers in task
 * storage meaningful to a daemon that adopts the pins after a restart. */
struct aw_sig_id {
	char id[AW_SIG_ID_MAX];
};

/* i_generation tells a file from a later one that reuses its inode
 * number after it was deleted (an agent update, say). */
struct aw_inode_key {
	__u64 dev;
	__u64 ino;
	__u32 gen;
	__u32 _pad;
};

struct aw_event_hdr {
	__u16 type;
	__u16 version;
	__u32 size;  /* whole record, header included */
	__u64 ktime; /* CLOCK_BOOTTIME ns */
};

struct aw_proc {
	__u32 pid; /* tgid */
	__u32 tid;
	__u32 ppid; /* real parent's tgid */
	__u32 uid;
	__u64 start_time; /* task start, boottime ns: (pid, start) is unique */
	__u64 session;
	__u32 agent;
	__u32 task_flags;
	char comm[16];
};

struct aw_event_exec {
	struct aw_event_hdr hdr;
	struct aw_proc proc;
	__u64 exe_dev;
	__u64 exe_ino;
	__u32 rule;	    /* matching rule number + 1, 0 if none */
	__u32 flags;	    /* enum aw_exec_flags */
	__u32 filename_len; /* bytes of filename after the args, NUL incl. */
	__u32 args_len;	    /* bytes of data[] first: NUL-separated argv */
	__u32 argc;
	__u32 exe_gen; /* i_generation of the executable */
	char data[];   /* args, then filename */
};

struct aw_event_fork {
	struct aw_event_hdr hdr;
	struct aw_proc proc; /* the child */
	__u32 parent_pid;
	__u32 _pad;
	__u64 parent_start_time;
};

struct aw_event_exit {
	struct aw_event_hdr hdr;
	struct aw_proc proc;
	__s32 exit_code; /* as in wait(2) status */
	__u32 _pad;
};

#define AW_EXEC_DATA_MAX (AW_PATH_MAX + AW_ARGS_MAX)

enum aw_force_kill_reason {
	/* A signal that resumes a stopped task (SIGCONT) reached it before
	 * the daemon held it. */
	AW_FKILL_CONTINUED = 1,
	/* A signal reached it while a tracer other than the daemon's held
	 * it (e.g. PTRACE_ATTACH's SIGSTOP). */
	AW_FKILL_TRACED = 2,
	/* Or'ed in: the kill could not be queued in the kernel (its CPU's
	 * deferred-signal slot was busy); the daemon sends it. */
	AW_FKILL_NOT_QUEUED = 0x100,
};

struct aw_event_force_kill {
	struct aw_event_hdr hdr;
	struct aw_proc proc; /* the agent */
	__u32 sender_pid;    /* tgid of the signal's sender */
	__u32 sender_uid;
	__u32 sig;
	__u32 reason; /* enum aw_force_kill_reason (| AW_FKILL_NOT_QUEUED) */
	char sender_comm[16];
};

/*
 * Network: cgroup socket hooks on the scope cgroup (connect4/6,
 * sendmsg4/6, recvmsg4/6, getpeername4/6, sock_create), keyed on the
 * session in the calling task's storage. A session the daemon gave a
 * network policy has an aw_net_sessions entry; a destination is allowed
 * if an address its resolver answered (aw_net_allow, with the record's
 * TTL) or a CIDR of its policy (aw_net_cidrs) allows that port and
 * protocol. DNS (port 53, UDP and TCP) is redirected to the session's
 * resolver on loopback, whatever server it was sent to. Addresses are 16
 * bytes, IPv4 as v4-mapped IPv6 (::ffff:a.b.c.d).
 */
#define AW_NET_RANGES 8		/* port ranges per allowed destination */
#define AW_NET_ALLOW_MAX 65536u /* resolved addresses, all sessions */
#define AW_NET_CIDRS_MAX 16384u
#define AW_NET_SESSIONS_MAX 4096u
/* Confined sessions' own v2 cgroups (aw_net_cgroups), kept after their
 * sessions end for the sockets that outlive them; the daemon prunes the
 * oldest ended ones. */
#define AW_NET_CGROUPS_MAX 16384u
#define AW_LLM_ADDRS_MAX 4096u

enum aw_net_proto_bits {
	AW_NETP_TCP = 1u << 0,
	AW_NETP_UDP = 1u << 1,
};

enum aw_net_sess_flags {
	AW_NETS_ENFORCE = 1u << 0, /* deny; else record what would be */
};

struct aw_net_sess {
	__u32 flags;	/* enum aw_net_sess_flags */
	__u16 dns_port; /* the session's resolver on 127.0.0.1 / ::1 */
	__u16 _pad;
	/* The session's own v2 cgroup (its id), recorded in aw_net_cgroups:
	 * a socket its tasks make there needs no storage of its own to say
	 * whose it is. 0: none (a discovered process, a tool's own key). */
	__u64 cgroup;
};

struct aw_net_allow {
	__u64 expires; /* boottime ns; 0: does not expire */
	__u16 lo[AW_NET_RANGES], hi[AW_NET_RANGES];
	__u8 n_ranges; /* 0: every port */
	__u8 protos;   /* enum aw_net_proto_bits */
	__u8 _pad[6];
};

struct aw_net_key {
	__u64 session;
	__u8 addr[16];
};

/* LPM: prefixlen counts the 64 session bits first. */
struct aw_net_lpm_key {
	__u32 prefixlen;
	__u8 data[24]; /* session (8 bytes, host order), address */
};

struct aw_net_orig {
	__u8 addr[16]; /* where the agent sent its DNS query */
	__u16 port;    /* network order */
	__u8 set;
	__u8 _pad[5];
};

enum aw_net_hook {
	AW_HOOK_CONNECT = 1,
	AW_HOOK_SENDMSG = 2,
	AW_HOOK_SOCKET = 3, /* socket creation: raw and packet sockets */
	AW_HOOK_BIND = 4,   /* bind of a port: addr, port as bound */
	AW_HOOK_ACCEPT = 5, /* a connection to a session's listener: addr is
			       the peer, port the listening port; no process
			       (proc has the session only) */
};

enum aw_net_verdict {
	AW_VERDICT_ALLOW = 1,
	AW_VERDICT_DENY = 2,
	AW_VERDICT_AUDIT = 3, /* would be denied; the policy is in audit */
};

struct aw_event_net {
	struct aw_event_hdr hdr;
	struct aw_proc proc;
	__u8 addr[16];
	__u16 port;   /* host order */
	__u8 family;  /* AF_INET, AF_INET6; AF_PACKET for sockets */
	__u8 proto;   /* IPPROTO_*; the socket type for AW_HOOK_SOCKET */
	__u8 hook;    /* enum aw_net_hook */
	__u8 verdict; /* enum aw_net_verdict */
	__u16 _pad;
	__u32 api;	   /* AW_EV_DISCOVER: the aw_llm_addrs value */
	__u32 net_counter; /* the acting task's (aw_task_state) */
};

#ifndef __bpf__
_Static_assert(sizeof(struct aw_event_hdr) == 16, "hdr");
_Static_assert(sizeof(struct aw_proc) == 56, "proc");
_Static_assert(sizeof(struct aw_task_state) == 24, "task state");
_Static_assert(sizeof(struct aw_config) == 16, "config");
_Static_assert(sizeof(struct aw_dfa_key) == 16, "dfa key");
_Static_assert(sizeof(struct aw_inode_key) == 24, "inode key");
_Static_assert(sizeof(struct aw_rule) == 8, "rule");
_Static_assert(sizeof(struct aw_event_exec) == 112, "exec");
_Static_assert(offsetof(struct aw_event_exec, data) == 112, "exec data");
_Static_assert(sizeof(struct aw_event_fork) == 88, "fork");
_Static_assert(sizeof(struct aw_event_exit) == 80, "exit");
_Static_assert(sizeof(struct aw_event_force_kill) == 104, "force kill");
_Static_assert(sizeof(struct aw_content_key) == 40, "content key");
_Static_assert(sizeof(struct aw_net_allow) == 48, "net allow");
_Static_assert(sizeof(struct aw_net_key) == 24, "net key");
_Static_assert(sizeof(struct aw_net_lpm_key) == 28, "net lpm key");
_Static_assert(sizeof(struct aw_event_net) == 104, "net event");
#endif

#endif /* AGENTWALL_ABI_H */
