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
};

/* Per-CPU counters (map aw_stats), summed by user space. */
enum aw_stat {
	AW_STAT_DROP_EXEC = 0, /* ring buffer full: exec event lost */
	AW_STAT_DROP_FORK = 1,
	AW_STAT_DROP_EXIT = 2,
	AW_STAT_STORAGE_FAIL = 3, /* task storage could not be created */
	AW_STAT_SESSIONS = 4,	  /* sessions opened */
	AW_STAT_EVENTS = 5,	  /* events submitted */
	AW_STAT_FORCED = 6,	  /* agents stopped to be forced */
	AW_STAT_FORCE_KILLED = 7, /* agents killed: nobody to force them */
	AW_STAT_MAX = 8,
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
	__u32 _pad;
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
#define AW_ALIVE_GRACE_NS (5ull * 1000000000ull)

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
#endif

#endif /* AGENTWALL_ABI_H */
