/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Policies: what an agent session may see and do.
 *
 * Loaded from the YAML files in policies/ (libyaml; format reference in
 * policies/README.md), validated with precise file:line:column
 * diagnostics, and flattened (extends resolved, removes and overrides
 * applied) into what one session gets. Nothing here touches the system:
 * the daemon sends the flattened rules to the launcher, which expands the
 * paths for the user and mounts them.
 *
 * Every loader parses into a private set and moves it into the caller's
 * only once everything checked out: a failed load leaves the set as it was.
 */
#ifndef AW_POLICY_H
#define AW_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "shared/diag.h"

/* Limits on what a policy file may ask of us (bounded memory and time,
 * whoever wrote the file). */
#define AW_POL_FILE_MAX (1024 * 1024) /* bytes per file */
#define AW_POL_DIR_FILES_MAX 256      /* *.yaml files per directory */
#define AW_POL_SET_MAX 64	      /* policies in a set */
#define AW_POL_RULES_MAX 1024	      /* rules per policy, flattened too */
#define AW_POL_RULE_PATHS_MAX 256     /* paths per rule */
#define AW_POL_FLAT_PATHS_MAX 4096    /* paths in a flattened policy */
#define AW_POL_FLAT_GLOBS_MAX 64      /* of which with '*' or '**' */
#define AW_POL_NAMES_MAX 256	      /* agents, classes, remove entries */
#define AW_POL_EXTENDS_MAX 8	      /* depth of an extends chain */
#define AW_POL_ID_MAX 64	      /* bytes per policy / rule / agent id */
#define AW_POL_PATH_MAX 4096	      /* bytes per path */
#define AW_POL_COMPONENT_MAX 255      /* bytes per path component */
#define AW_POL_DEPTH_MAX 64	      /* components per path */
#define AW_POL_TEXT_MAX 1024	      /* bytes of description */
#define AW_POL_PIDS_MIN 16
#define AW_POL_PIDS_MAX 1048576
#define AW_POL_PIDS_DEFAULT 4096   /* when no policy in the chain says */
#define AW_POL_NET_HOSTS_MAX 256   /* hosts per network rule */
#define AW_POL_NET_CIDRS_MAX 256   /* cidrs per network rule */
#define AW_POL_NET_PORTS_MAX 32	   /* ports and ranges per network rule */
#define AW_POL_FLAT_HOSTS_MAX 4096 /* hosts in a flattened policy */
#define AW_POL_FLAT_CIDRS_MAX 4096 /* cidrs in a flattened policy */
#define AW_POL_HOST_MAX 253	   /* bytes per host name, normalized */

/* Numbers are part of the daemon-launcher protocol by name only, but
 * keep them stable anyway. */
enum aw_fs_verb {
	AW_FS_DENY = 1,	    /* masked: unreadable and unwritable */
	AW_FS_COW = 2,	    /* copy-on-write overlay, writes stay in the
			       session store */
	AW_FS_TMPFS = 3,    /* private empty writable tmpfs */
	AW_FS_WRITE = 4,    /* plain writable bind: writes reach the tree */
	AW_FS_ESCALATE = 5, /* persistence location: read-only, or held
			       for approval inside a cow tree */
	AW_FS_PROGRAM = 6,  /* not a policy verb: the launcher binds the
			       agent's own program tree back, read-only */
	AW_FS_STATE = 7,    /* the agent's own state or a cache: inside a
			       cow tree taken with the rest, not held by
			       the home's dot-path rule */
};

/* "deny", "cow", "tmpfs", "write", "escalate"; "?" for anything else. */
const char *aw_fs_verb_name(enum aw_fs_verb v);

/* Where something was written (1-based), for diagnostics. */
struct aw_policy_place {
	unsigned line, column;
};

struct aw_fs_rule {
	char *id;
	enum aw_fs_verb verb;
	char **paths; /* as written: "~/.ssh", "{workspace}", "**\/.env" */
	size_t n_paths;
	char *file; /* the policy's file (shared with it, not owned) */
	unsigned line, column;
	struct aw_policy_place *path_at; /* n_paths places */
};

/* Network protocols a rule covers (bits; QUIC is udp). */
enum {
	AW_NET_TCP = 1,
	AW_NET_UDP = 2,
};

/* An address block. IPv4 is stored v4-mapped (::ffff:a.b.c.d) with
 * prefix + 96, so one comparison covers both families; host bits are
 * zero (the parser refuses a block written with them set). */
struct aw_net_cidr {
	uint8_t addr[16];
	uint8_t prefix; /* 0..128 */
};

/* A port range, inclusive; a single port has lo == hi. 1 <= lo <= hi. */
struct aw_net_ports {
	uint16_t lo, hi;
};

/*
 * One network allow rule: destinations (host names, address blocks,
 * loopback), on some ports, over some protocols. Whatever no rule of a
 * confined policy allows is denied. At least one of n_hosts, n_cidrs,
 * loopback is non-zero.
 */
struct aw_net_rule {
	char *id; /* shares the namespace of `remove` with filesystem rules */
	char **hosts; /* normalized: lowercase, no trailing dot; an exact name
			 or "*.example.com" (see aw_net_host_match) */
	size_t n_hosts;
	struct aw_net_cidr *cidrs;
	size_t n_cidrs;
	int loopback;		    /* 127.0.0.0/8 and ::1 */
	struct aw_net_ports *ports; /* NULL, n_ports 0: every port */
	size_t n_ports;
	unsigned protocols; /* AW_NET_TCP | AW_NET_UDP, never 0 */
	char *file;	    /* the policy's file (shared with it, not owned) */
	unsigned line, column;
};

struct aw_policy {
	char *id;
	char *description; /* NULL if absent */
	char *extends;	   /* NULL if absent */
	char **agents;	   /* applies-to.agents: signature ids */
	size_t n_agents;
	char **classes; /* applies-to.classes: signature classes */
	size_t n_classes;
	int mode; /* -1 unset, 0 audit, 1 enforce (enum aw_mode) */
	char **remove;
	size_t n_remove;
	struct aw_fs_rule *rules; /* as written in this file */
	size_t n_rules;
	struct aw_net_rule *net_rules; /* as written in this file */
	size_t n_net_rules;
	int has_network;	 /* the file has a `network:` key (even `[]`) */
	int64_t pids_max;	 /* -1 unset */
	uint32_t allow_syscalls; /* bit (1u << group index) */
	int allow_syscalls_set;	 /* the key was there (even if empty) */
	int notify; /* -1 unset; tell the user on the terminal (0/1) */
	/* computer-use: display (X11, Wayland), input (/dev/uinput), CDP
	 * ports on loopback; -1 unset, 0 refused, 1 granted. */
	int cu_display, cu_input;
	int cu_cdp_set;
	uint16_t cu_cdp[AW_POL_NET_PORTS_MAX];
	size_t n_cu_cdp;
	struct aw_net_ports cu_cdp_ranges[AW_POL_NET_PORTS_MAX];
	struct aw_net_rule cu_cdp_rule; /* loopback TCP to cu_cdp */
	int refusal_records; /* -1 unset; record the sandbox's own refusals */
	char *file;
	unsigned line, column; /* the top-level mapping */
	/* places, for diagnostics */
	struct aw_policy_place id_at;
	struct aw_policy_place extends_at;
	struct aw_policy_place *agents_at;  /* n_agents */
	struct aw_policy_place *classes_at; /* n_classes */
	struct aw_policy_place *remove_at;  /* n_remove */
};

struct aw_policyset {
	struct aw_policy *pols;
	size_t n_pols;
};

/*
 * What a session gets: extends resolved, removes applied, a rule whose id
 * is inherited replaces the inherited one in its place, new rules
 * appended; ordered parent-first (filesystem and network rules alike).
 * mode, pids_max and allow_syscalls come from the nearest policy in the
 * chain that sets them.
 *
 * has_network is 0 when no policy in the chain has a `network:` key: the
 * network is not confined at all (net_rules is empty). Otherwise it is
 * confined to the union of net_rules, which may be empty: nothing is
 * reachable.
 */
struct aw_policy_flat {
	const char *id;	  /* the policy's id (points into the set) */
	int mode;	  /* resolved: 0 audit / 1 enforce (default enforce) */
	int64_t pids_max; /* resolved, default AW_POL_PIDS_DEFAULT */
	uint32_t allow_syscalls;
	int notify; /* resolved, default 1: session lines on stderr */
	/* computer-use, resolved (nearest in the chain; default refused):
	 * the display and input granted; the CDP ports granted on loopback
	 * (then also a network rule `computer-use.cdp` in net_rules). */
	int display, input;
	const uint16_t *cdp;
	size_t n_cdp;
	int refusal_records; /* resolved, default 1 (sandbox/refusals.c) */
	const struct aw_fs_rule **rules; /* point into the set */
	size_t n_rules;
	const struct aw_net_rule **net_rules; /* point into the set */
	size_t n_net_rules;
	int has_network;
};

/* Loader flags. */
#define AW_POLICY_LOAD_NO_OWNER_CHECK 0x1u /* e.g. a source tree in tests */

/* Parse one in-memory document (one policy) and add it to set; name is
 * used in diagnostics. Never checks ownership. Refuses an id already in
 * the set. On error fill diag, return -EINVAL (-E2BIG for limits) and
 * leave set as it was. */
int aw_policy_load_buffer(struct aw_policyset *set, const char *name,
			  const char *data, size_t len, struct aw_diag *diag);
/* Like load_buffer from a file, which must not be writable by group or
 * others and must be owned by root or the effective uid (as doas):
 * -EPERM otherwise ("FILE: writable by others (mode 0666): refusing"). */
int aw_policy_load_file(struct aw_policyset *set, const char *path,
			struct aw_diag *diag);
int aw_policy_load_file_flags(struct aw_policyset *set, const char *path,
			      unsigned flags, struct aw_diag *diag);
/* Every *.yaml in dir (sorted), all or nothing; the directory and each
 * file are checked for ownership. The set must contain a policy `default`
 * afterwards (it may come from an earlier load). */
int aw_policy_load_dir(struct aw_policyset *set, const char *dir,
		       struct aw_diag *diag);
int aw_policy_load_dir_flags(struct aw_policyset *set, const char *dir,
			     unsigned flags, struct aw_diag *diag);

/* Cross-policy checks: extends exist and do not loop, no agent or class
 * named by two policies' applies-to, `default` present, every policy
 * flattens (removes name inherited rules, limits) without contradictions
 * (one path under two verbs; a cow/write/tmpfs grant at or under a deny).
 * Call after loading everything. First problem in diag. */
int aw_policyset_validate(const struct aw_policyset *set, struct aw_diag *diag);

/* Like load + validate, but keep going: load every file or directory of
 * files (into set, which may already hold policies the files are checked
 * against, e.g. the embedded templates), then validate, calling cb for
 * EVERY problem found. A file stops at its first YAML-level problem;
 * semantic problems are all reported. Returns the number of problems, or
 * -errno if checking itself failed (out of memory). */
int aw_policyset_check_all(struct aw_policyset *set, const char *const *files,
			   size_t n_files,
			   void (*cb)(void *ud, const struct aw_diag *d),
			   void *ud);

void aw_policyset_free(struct aw_policyset *set);
const struct aw_policy *aw_policyset_find(const struct aw_policyset *set,
					  const char *id);
/* Which policy an agent gets: the one whose applies-to.agents names
 * agent_id, else one whose applies-to.classes names agent_class, else
 * `default` (NULL if none). agent_id and agent_class may be NULL. */
const struct aw_policy *aw_policyset_resolve(const struct aw_policyset *set,
					     const char *agent_id,
					     const char *agent_class);

/* ret is written only on success; free it with aw_policy_flat_free. */
int aw_policy_flatten(const struct aw_policyset *set, const struct aw_policy *p,
		      struct aw_policy_flat *ret, struct aw_diag *diag);
void aw_policy_flat_free(struct aw_policy_flat *f);

/*
 * Does a rule's host pattern match a name? pattern is a normalized rule
 * host; name is compared ASCII case-insensitively, one trailing dot
 * ignored (DNS answers may come in any case). "api.example.com" matches
 * only itself. "*.example.com" matches a name with at least one more
 * label below example.com, at any depth ("a.example.com",
 * "a.b.example.com"), and never "example.com", "evil-example.com" or
 * "example.com.evil.net". 1 on a match, 0 otherwise (also for NULL).
 */
int aw_net_host_match(const char *pattern, const char *name);

/* Does r cover one protocol (AW_NET_TCP or AW_NET_UDP, one bit) on port?
 * 1 or 0; port 0 is never allowed. */
int aw_net_rule_allows_port(const struct aw_net_rule *r, unsigned proto,
			    uint16_t port);

/* Syscall groups a policy may grant back from the launcher's seccomp deny
 * list. The index order is the ABI of allow_syscalls bits (enum
 * aw_sc_group in sandbox/seccomp.h numbers the same groups): ptrace=0
 * process-vm=1 io-uring=2 keyring=3 bpf=4 perf=5 mount=6 namespaces=7
 * modules=8 kexec=9 handles=10 tiocsti=11 userfaultfd=12 fanotify=13
 * system=14 sock-diag=15 socket-families=16. Never renumber, only append.
 */
#ifndef AW_SC_GROUPS
#define AW_SC_GROUPS 17
#endif

/* "ptrace", ..., NULL for an index >= AW_SC_GROUPS. */
const char *aw_policy_syscall_group_name(unsigned idx);
/* The index, or -ENOENT. */
int aw_policy_syscall_group_find(const char *name);

#endif
