/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the two halves of the kernel side share (discovery.bpf.c,
 * network.bpf.c, linked into one object): the task storage that is the
 * session mark, the ring buffer, the per-CPU counters, the session id's
 * parts, and the record helpers. The maps are defined here as weak,
 * identical in both objects: the static linker keeps one.
 */
#ifndef AW_COMMON_BPF_H
#define AW_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "agentwall_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct aw_task_state);
} aw_tasks SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} aw_events SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, AW_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} aw_stats SEC(".maps") __weak;

/* Session ids: salt (random per load, set by the daemon) << 32 |
 * counter; defined in discovery.bpf.c. */
extern const volatile __u32 aw_session_salt;
extern __u32 aw_session_counter;

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&aw_stats, &idx);

	if (v)
		*v += 1;
}

static __always_inline void fill_proc(struct aw_proc *p, struct task_struct *t,
				      struct aw_task_state *st)
{
	p->pid = BPF_CORE_READ(t, tgid);
	p->tid = BPF_CORE_READ(t, pid);
	p->ppid = BPF_CORE_READ(t, real_parent, tgid);
	p->uid = BPF_CORE_READ(t, cred, uid.val);
	p->start_time = BPF_CORE_READ(t, group_leader, start_boottime);
	p->session = st->session;
	p->agent = st->agent;
	p->task_flags = st->flags;
	BPF_CORE_READ_STR_INTO(&p->comm, t, comm);
}

static __always_inline void fill_hdr(struct aw_event_hdr *h, __u16 type,
				     __u32 size)
{
	h->type = type;
	h->version = AW_ABI_VERSION;
	h->size = size;
	h->ktime = bpf_ktime_get_boot_ns();
}

#endif
