// SPDX-License-Identifier: GPL-2.0-only
/*
 * agentwall kernel side: the network hooks (cgroup socket programs on the
 * scope cgroup and on the sessions' cgroups), decided by the session mark
 * in task storage against per-session maps; see src/daemon/egress.c and
 * docs/network.md. Linked with discovery.bpf.c into one object.
 */
#include "common.bpf.h"

/* ---- network: cgroup socket hooks ------------------------------------- */

#define AW_AF_INET 2
#define AW_AF_INET6 10
#define AW_AF_PACKET 17
#define AW_SOCK_RAW 3
#define AW_IPPROTO_TCP 6
#define AW_IPPROTO_UDP 17
#define AW_DNS_PORT 53

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AW_NET_SESSIONS_MAX);
	__type(key, __u64);
	__type(value, struct aw_net_sess);
} aw_net_sessions SEC(".maps");

/* Never an LRU: a full map refuses the daemon's insert, which then
 * refuses the DNS answer and says so. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AW_NET_ALLOW_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct aw_net_key);
	__type(value, struct aw_net_allow);
} aw_net_allow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, AW_NET_CIDRS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct aw_net_lpm_key);
	__type(value, struct aw_net_allow);
} aw_net_cidrs SEC(".maps");

/* Where a redirected DNS socket really sent to (restored on replies). */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct aw_net_orig);
} aw_net_orig SEC(".maps");

/* Behaviour-based discovery: addresses the known LLM API names resolve
 * to (value: the API's index in the daemon's list), and the processes
 * already reported (an LRU: forgetting one only reports it again). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AW_LLM_ADDRS_MAX);
	__type(key, struct aw_net_key);
	__type(value, __u32);
} aw_llm_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u64);
} aw_disc_seen SEC(".maps");

/* Allowed connects to one destination are reported at most once a
 * second (denials always): a connection storm to an allowed API costs
 * the ring a record a second, not one per connect. Forgetting an entry
 * (LRU) only reports it again. */
struct aw_net_seen_key {
	__u64 session;
	__u8 addr[16];
	__u16 port;
	__u16 _pad[3];
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct aw_net_seen_key);
	__type(value, __u64);
} aw_net_seen SEC(".maps");

static __always_inline int allow_reported_lately(__u64 session,
						 const __u8 a[16], __u16 port)
{
	struct aw_net_seen_key k = {.session = session, .port = port};
	__u64 now = bpf_ktime_get_boot_ns(), *last;

	__builtin_memcpy(k.addr, a, 16);
	last = bpf_map_lookup_elem(&aw_net_seen, &k);
	if (last && now - *last < 1000000000ull)
		return 1;
	bpf_map_update_elem(&aw_net_seen, &k, &now, BPF_ANY);
	return 0;
}

/* The calling task's session state; a thread without storage of its own
 * (an io_uring worker, a thread that predates the mark) has its
 * process's. */
static __always_inline struct aw_task_state *cur_state(void)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct aw_task_state *st = bpf_task_storage_get(&aw_tasks, t, 0, 0);

	if (!st && t->group_leader != t)
		st = bpf_task_storage_get(&aw_tasks, t->group_leader, 0, 0);
	return st;
}

/* The key its sockets are decided under: its session's, or a tool's own
 * (aw_task_state.net_counter). */
static __always_inline __u64 net_key(const struct aw_task_state *st)
{
	if (!st || !st->session)
		return 0;
	if (st->net_counter)
		return (st->session & 0xffffffff00000000ull) | st->net_counter;
	return st->session;
}

/* At most 1000 denial records a second per session reach the ring; the
 * rest are counted (AW_STAT_NET_UNREPORTED, reported as drops). */
struct aw_net_rate {
	__u64 start;
	__u64 count;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct aw_net_rate);
} aw_net_rate SEC(".maps");

static __always_inline int deny_report_ok(__u64 session)
{
	struct aw_net_rate *r = bpf_map_lookup_elem(&aw_net_rate, &session);
	__u64 now = bpf_ktime_get_boot_ns();

	if (!r) {
		struct aw_net_rate fresh = {.start = now, .count = 1};

		bpf_map_update_elem(&aw_net_rate, &session, &fresh, BPF_ANY);
		return 1;
	}
	if (now - r->start >= 1000000000ull) {
		r->start = now;
		r->count = 0;
	}
	if (++r->count <= 1000)
		return 1;
	stat_inc(AW_STAT_NET_UNREPORTED);
	return 0;
}

/*
 * Whose socket is it? A confined session's sockets are checked on the way
 * out for what would route them past the connect decision, and
 * connections arriving at their listeners on the way in. A socket belongs
 * to its creator's cgroup for life, and a confined session has its own
 * v2 cgroup: the daemon records it (aw_net_cgroups: cgroup id -> the
 * session's key) before the session's first process and keeps it after
 * the session ends, so a socket that outlives its session is still known
 * as a session's (and fails closed). Only a socket made elsewhere (a
 * discovered process's, a task not yet moved) or under a key of its own
 * (a tool's) gets storage (aw_net_socks): two allocations at creation
 * and an RCU free at close that the common case does without.
 */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} aw_net_socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AW_NET_CGROUPS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, __u64);
} aw_net_cgroups SEC(".maps");

/* The key a full socket was made under; 0: not a confined session's. */
static __always_inline __u64 sock_owner(struct bpf_sock *sk)
{
	__u64 *owner = bpf_sk_storage_get(&aw_net_socks, sk, 0, 0);
	__u64 cg;

	if (owner)
		return *owner;
	cg = bpf_sk_cgroup_id(sk);
	owner = cg ? bpf_map_lookup_elem(&aw_net_cgroups, &cg) : 0;
	return owner ? *owner : 0;
}

/* The destination as 16 bytes (IPv4 v4-mapped) and its port. */
static __always_inline void sa_addr(struct bpf_sock_addr *ctx, int v6,
				    __u8 a[16])
{
	__u32 w[4];

	if (v6) {
		w[0] = ctx->user_ip6[0];
		w[1] = ctx->user_ip6[1];
		w[2] = ctx->user_ip6[2];
		w[3] = ctx->user_ip6[3];
	} else {
		w[0] = 0;
		w[1] = 0;
		w[2] = bpf_htonl(0xffff);
		w[3] = ctx->user_ip4;
	}
	__builtin_memcpy(a, w, 16);
}

static __always_inline int is_v4mapped(const __u8 a[16])
{
	const __u32 *w = (const __u32 *)a;

	return w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff);
}

/* 127.0.0.1 or ::1: where the session's resolver listens. */
static __always_inline int is_loopback(const __u8 a[16])
{
	const __u32 *w = (const __u32 *)a;

	if (is_v4mapped(a))
		return w[3] == bpf_htonl(0x7f000001);
	return w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == bpf_htonl(1);
}

/* 127.0.0.0/8, ::ffff:127.0.0.0/104 or ::1: where a session may listen. */
static __always_inline int is_loopback_net(const __u8 a[16])
{
	const __u32 *w = (const __u32 *)a;

	if (is_v4mapped(a))
		return (bpf_ntohl(w[3]) >> 24) == 127;
	return w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == bpf_htonl(1);
}

static __always_inline int ports_ok(const struct aw_net_allow *al, __u8 pbit,
				    __u16 port)
{
	if (!(al->protos & pbit))
		return 0;
	if (!al->n_ranges)
		return 1;
	for (int i = 0; i < AW_NET_RANGES; i++) {
		if (i >= al->n_ranges)
			break;
		if (port >= al->lo[i] && port <= al->hi[i])
			return 1;
	}
	return 0;
}

static __always_inline int net_allowed(__u64 session, const __u8 a[16],
				       __u8 pbit, __u16 port)
{
	struct aw_net_key k = {.session = session};
	struct aw_net_lpm_key lk = {.prefixlen = 64 + 128};
	struct aw_net_allow *al;

	if (!pbit)
		return 0;
	__builtin_memcpy(k.addr, a, 16);
	al = bpf_map_lookup_elem(&aw_net_allow, &k);
	if (al && (!al->expires || al->expires > bpf_ktime_get_boot_ns()) &&
	    ports_ok(al, pbit, port))
		return 1;
	__builtin_memcpy(lk.data, &session, 8);
	__builtin_memcpy(lk.data + 8, a, 16);
	al = bpf_map_lookup_elem(&aw_net_cidrs, &lk);
	return al && ports_ok(al, pbit, port);
}

static __always_inline void net_event(__u16 type, struct aw_task_state *st,
				      const __u8 a[16], __u16 port, __u8 family,
				      __u8 proto, __u8 hook, __u8 verdict,
				      __u32 api)
{
	struct aw_event_net *ev;
	struct aw_task_state none = {};

	ev = bpf_ringbuf_reserve(&aw_events, sizeof(*ev), 0);
	if (!ev) {
		stat_inc(AW_STAT_DROP_NET);
		return;
	}
	fill_hdr(&ev->hdr, type, sizeof(*ev));
	fill_proc(&ev->proc, bpf_get_current_task_btf(), st ? st : &none);
	__builtin_memcpy(ev->addr, a, 16);
	ev->port = port;
	ev->family = family;
	ev->proto = proto;
	ev->hook = hook;
	ev->verdict = verdict;
	ev->_pad = 0;
	ev->api = api;
	ev->net_counter = st ? st->net_counter : 0;
	bpf_ringbuf_submit(ev, 0);
	stat_inc(AW_STAT_EVENTS);
}

/* A process outside any session reaching a known LLM API: reported once
 * (per process, as long as the LRU remembers it); never refused. */
static __always_inline void discover(struct aw_task_state *st, const __u8 a[16],
				     __u16 port, __u8 family, __u8 proto)
{
	struct aw_net_key k = {};
	__u32 *api;
	__u32 tgid;
	__u64 now;

	__builtin_memcpy(k.addr, a, 16);
	api = bpf_map_lookup_elem(&aw_llm_addrs, &k);
	if (!api)
		return;
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (bpf_map_lookup_elem(&aw_disc_seen, &tgid))
		return;
	now = bpf_ktime_get_boot_ns();
	bpf_map_update_elem(&aw_disc_seen, &tgid, &now, BPF_ANY);
	/* Marked here, at once: its next socket is decided, and refused
	 * until the daemon (reading this record) gives the session its
	 * policy. The process's other threads see the leader's mark. */
	{
		struct task_struct *t = bpf_get_current_task_btf();
		struct aw_task_state *nst =
		    bpf_task_storage_get(&aw_tasks, t->group_leader, 0,
					 BPF_LOCAL_STORAGE_GET_F_CREATE);

		if (nst && !nst->session) {
			nst->session =
			    ((__u64)aw_session_salt << 32) |
			    __sync_fetch_and_add(&aw_session_counter, 1);
			nst->agent = 0;
			nst->flags =
			    AW_TASK_ROOT | AW_TASK_DISCOVERED | AW_TASK_NET;
			nst->depth = 0;
		}
		if (nst)
			st = nst;
	}
	net_event(AW_EV_DISCOVER, st, a, port, family, proto, AW_HOOK_CONNECT,
		  AW_VERDICT_ALLOW, *api);
}

static __always_inline int sock_addr(struct bpf_sock_addr *ctx, int v6,
				     __u8 hook)
{
	struct aw_task_state *st = cur_state();
	struct aw_net_sess *ns;
	__u8 a[16], pbit, proto = ctx->protocol;
	__u8 family = v6 ? AW_AF_INET6 : AW_AF_INET;
	__u16 port = bpf_ntohs(ctx->user_port);
	__u64 session = net_key(st);

	sa_addr(ctx, v6, a);
	if (!session) {
		if (hook == AW_HOOK_CONNECT)
			discover(st, a, port, family, proto);
		return 1; /* not an agent session: never refused here */
	}
	ns = bpf_map_lookup_elem(&aw_net_sessions, &session);
	if (!ns) {
		if (!(st->flags & AW_TASK_NET))
			return 1; /* a session whose network is not confined */
		/* Confined, and its policy entry is gone (its session
		 * ended while this task lived on): fail closed. */
		stat_inc(AW_STAT_NET_DENIED);
		if (deny_report_ok(session))
			net_event(AW_EV_NET, st, a, port, family, proto, hook,
				  AW_VERDICT_DENY, 0);
		return 0;
	}
	pbit = proto == AW_IPPROTO_TCP	 ? AW_NETP_TCP
	       : proto == AW_IPPROTO_UDP ? AW_NETP_UDP
					 : 0;
	/* DNS goes to the session's resolver, wherever it was sent. */
	if (port == AW_DNS_PORT && pbit && ns->dns_port) {
		struct aw_net_orig *o = bpf_sk_storage_get(
		    &aw_net_orig, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);

		if (o) {
			__builtin_memcpy(o->addr, a, 16);
			o->port = ctx->user_port;
			o->set = 1;
		}
		if (!v6) {
			ctx->user_ip4 = bpf_htonl(0x7f000001);
		} else {
			/* ::ffff:127.0.0.1 for a v4-mapped destination, else
			 * ::1 (one store per word: the verifier wants each
			 * at a constant offset of ctx). */
			int m = is_v4mapped(a);
			__u32 w2 = m ? bpf_htonl(0xffff) : 0;
			__u32 w3 = m ? bpf_htonl(0x7f000001) : bpf_htonl(1);

			ctx->user_ip6[0] = 0;
			ctx->user_ip6[1] = 0;
			ctx->user_ip6[2] = w2;
			ctx->user_ip6[3] = w3;
		}
		ctx->user_port = bpf_htons(ns->dns_port);
		return 1;
	}
	if (ns->dns_port && port == ns->dns_port && pbit && is_loopback(a))
		return 1; /* its own resolver, asked directly */
	if (net_allowed(session, a, pbit, port)) {
		if (hook == AW_HOOK_CONNECT &&
		    !allow_reported_lately(session, a, port))
			net_event(AW_EV_NET, st, a, port, family, proto, hook,
				  AW_VERDICT_ALLOW, 0);
		return 1;
	}
	stat_inc(AW_STAT_NET_DENIED);
	if (!(ns->flags & AW_NETS_ENFORCE)) {
		if (deny_report_ok(session))
			net_event(AW_EV_NET, st, a, port, family, proto, hook,
				  AW_VERDICT_AUDIT, 0);
		return 1;
	}
	if (deny_report_ok(session))
		net_event(AW_EV_NET, st, a, port, family, proto, hook,
			  AW_VERDICT_DENY, 0);
	return 0;
}

/* Replies from the session's resolver look as if they came from the
 * server the agent asked (resolver libraries check that). */
static __always_inline int restore_peer(struct bpf_sock_addr *ctx, int v6)
{
	struct aw_task_state *st = cur_state();
	struct aw_net_orig *o;
	struct aw_net_sess *ns;
	__u8 a[16];
	__u64 session = net_key(st);

	if (!session || !ctx->sk)
		return 1;
	ns = bpf_map_lookup_elem(&aw_net_sessions, &session);
	if (!ns || !ns->dns_port || bpf_ntohs(ctx->user_port) != ns->dns_port)
		return 1;
	sa_addr(ctx, v6, a);
	if (!is_loopback(a))
		return 1;
	o = bpf_sk_storage_get(&aw_net_orig, ctx->sk, 0, 0);
	if (!o || !o->set)
		return 1;
	if (!v6) {
		if (!is_v4mapped(o->addr))
			return 1;
		__builtin_memcpy(&ctx->user_ip4, o->addr + 12, 4);
	} else {
		__u32 w[4];

		__builtin_memcpy(w, o->addr, 16);
		ctx->user_ip6[0] = w[0];
		ctx->user_ip6[1] = w[1];
		ctx->user_ip6[2] = w[2];
		ctx->user_ip6[3] = w[3];
	}
	ctx->user_port = o->port;
	return 1;
}

SEC("cgroup/connect4")
int aw_connect4(struct bpf_sock_addr *ctx)
{
	return sock_addr(ctx, 0, AW_HOOK_CONNECT);
}

SEC("cgroup/connect6")
int aw_connect6(struct bpf_sock_addr *ctx)
{
	return sock_addr(ctx, 1, AW_HOOK_CONNECT);
}

SEC("cgroup/sendmsg4")
int aw_sendmsg4(struct bpf_sock_addr *ctx)
{
	return sock_addr(ctx, 0, AW_HOOK_SENDMSG);
}

SEC("cgroup/sendmsg6")
int aw_sendmsg6(struct bpf_sock_addr *ctx)
{
	return sock_addr(ctx, 1, AW_HOOK_SENDMSG);
}

SEC("cgroup/recvmsg4")
int aw_recvmsg4(struct bpf_sock_addr *ctx)
{
	return restore_peer(ctx, 0);
}

SEC("cgroup/recvmsg6")
int aw_recvmsg6(struct bpf_sock_addr *ctx)
{
	return restore_peer(ctx, 1);
}

SEC("cgroup/getpeername4")
int aw_getpeername4(struct bpf_sock_addr *ctx)
{
	return restore_peer(ctx, 0);
}

SEC("cgroup/getpeername6")
int aw_getpeername6(struct bpf_sock_addr *ctx)
{
	return restore_peer(ctx, 1);
}

/* A confined session gets TCP and UDP sockets only: raw, ICMP ("ping")
 * and other protocols would bypass or escape the address decisions
 * above. Its sockets are flagged for the egress check. */
SEC("cgroup/sock_create")
int aw_sock_create(struct bpf_sock *sk)
{
	struct aw_task_state *st = cur_state();
	struct aw_net_sess *ns;
	__u64 session = net_key(st);
	__u8 none[16] = {};
	__u64 *flag;
	int enforce;

	if (!session)
		return 1;
	ns = bpf_map_lookup_elem(&aw_net_sessions, &session);
	if (!ns && !(st->flags & AW_TASK_NET))
		return 1;
	enforce = !ns || (ns->flags & AW_NETS_ENFORCE);
	if ((sk->family == AW_AF_INET || sk->family == AW_AF_INET6) &&
	    sk->type != AW_SOCK_RAW &&
	    (sk->protocol == AW_IPPROTO_TCP ||
	     sk->protocol == AW_IPPROTO_UDP)) {
		/* In its session's own cgroup, the cgroup says whose it is
		 * (sock_owner). */
		if (ns && ns->cgroup &&
		    ns->cgroup == bpf_get_current_cgroup_id())
			return 1;
		flag = bpf_sk_storage_get(&aw_net_socks, sk, 0,
					  BPF_SK_STORAGE_GET_F_CREATE);
		if (flag) {
			*flag = session;
			stat_inc(AW_STAT_NET_SOCK_STORED);
		}
		return 1;
	}
	stat_inc(AW_STAT_NET_DENIED);
	if (deny_report_ok(session))
		net_event(AW_EV_NET, st, none, 0, sk->family, sk->protocol,
			  AW_HOOK_SOCKET,
			  enforce ? AW_VERDICT_DENY : AW_VERDICT_AUDIT, 0);
	return enforce ? 0 : 1;
}

#define AW_SOL_IP 0
#define AW_SOL_IPV6 41
#define AW_IP_OPTIONS 4
#define AW_IPV6_2292RTHDR 5
#define AW_IPV6_HOPOPTS 54
#define AW_IPV6_RTHDRDSTOPTS 55
#define AW_IPV6_RTHDR 57
#define AW_IPV6_DSTOPTS 59

/* Source routing (IPv4 options, IPv6 routing and option headers) would
 * send a session's packets elsewhere than the address its connect or
 * send was decided for. */
SEC("cgroup/setsockopt")
int aw_setsockopt(struct bpf_sockopt *ctx)
{
	struct aw_task_state *st;
	__u64 key;
	int level = ctx->level, opt = ctx->optname;

	if (!((level == AW_SOL_IP && opt == AW_IP_OPTIONS) ||
	      (level == AW_SOL_IPV6 &&
	       (opt == AW_IPV6_2292RTHDR || opt == AW_IPV6_HOPOPTS ||
		opt == AW_IPV6_RTHDRDSTOPTS || opt == AW_IPV6_RTHDR ||
		opt == AW_IPV6_DSTOPTS))))
		return 1;
	st = cur_state();
	if (!st || !st->session)
		return 1;
	key = net_key(st);
	if (!bpf_map_lookup_elem(&aw_net_sessions, &key) &&
	    !(st->flags & AW_TASK_NET))
		return 1;
	stat_inc(AW_STAT_NET_DENIED);
	return 0;
}

/* The same given per message (ancillary data) ends up in the packet: a
 * flagged socket's IPv4 packet with options, or IPv6 packet with a
 * hop-by-hop, routing or destination options header, is dropped. */
SEC("cgroup_skb/egress")
int aw_egress(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	__u8 b;

	/* The packet first (every packet in scope comes here): only one
	 * with options or extension headers is worth the socket lookup. */
	if (bpf_skb_load_bytes(skb, 0, &b, 1) < 0)
		return 1;
	if ((b >> 4) == 4) {
		if ((b & 15) <= 5)
			return 1; /* IHL 5: no options */
	} else if ((b >> 4) == 6) {
		if (bpf_skb_load_bytes(skb, 6, &b, 1) < 0 ||
		    (b != 0 && b != 43 && b != 60))
			return 1;
	} else {
		return 1;
	}
	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	return sk && sock_owner(sk) ? 0 : 1;
}

/*
 * Listening. A confined session may bind a port (not 0: an ephemeral
 * port is a client's) only on a loopback address, and only on a port
 * its policy lets it reach there (a `loopback: true` or CIDR rule on
 * that port): a bind to a wildcard or an outside address is refused.
 * Binding nothing (listen() autobinds a wildcard ephemeral port) or port
 * 0 is not decided here; what arrives at such a listener is, below.
 */
static __always_inline int bind_addr(struct bpf_sock_addr *ctx, int v6)
{
	struct aw_task_state *st = cur_state();
	struct aw_net_sess *ns;
	__u8 a[16], pbit, proto = ctx->protocol;
	__u8 family = v6 ? AW_AF_INET6 : AW_AF_INET;
	__u16 port = bpf_ntohs(ctx->user_port);
	__u64 session = net_key(st);
	int enforce;

	if (!session || !port)
		return 1; /* not a session, or a client's bind */
	ns = bpf_map_lookup_elem(&aw_net_sessions, &session);
	if (!ns && !(st->flags & AW_TASK_NET))
		return 1; /* a session whose network is not confined */
	sa_addr(ctx, v6, a);
	pbit = proto == AW_IPPROTO_TCP	 ? AW_NETP_TCP
	       : proto == AW_IPPROTO_UDP ? AW_NETP_UDP
					 : 0;
	/* (No policy entry: fail closed, as at connect.) */
	if (ns && is_loopback_net(a) && net_allowed(session, a, pbit, port))
		return 1;
	stat_inc(AW_STAT_NET_DENIED);
	enforce = !ns || (ns->flags & AW_NETS_ENFORCE);
	if (deny_report_ok(session))
		net_event(AW_EV_NET, st, a, port, family, proto, AW_HOOK_BIND,
			  enforce ? AW_VERDICT_DENY : AW_VERDICT_AUDIT, 0);
	return enforce ? 0 : 1;
}

SEC("cgroup/bind4")
int aw_bind4(struct bpf_sock_addr *ctx)
{
	return bind_addr(ctx, 0);
}

SEC("cgroup/bind6")
int aw_bind6(struct bpf_sock_addr *ctx)
{
	return bind_addr(ctx, 1);
}

#define AW_TCP_LISTEN 10

/*
 * A connection arriving at a confined session's listener (its SYN, or
 * the ACK of a SYN cookie: the packets a listening socket receives) is
 * let in only from a peer the session may reach on that port; anything
 * else is dropped, so no accepted socket exists to carry data back out
 * (an accepted socket sends without a connect, past the hooks above).
 * Attached to the sessions' parent cgroup only (kernel.c): sockets of
 * processes outside sessions never come here. Each packet a session's
 * socket receives does: the socket's state is the first test, without
 * a map lookup. No task runs this (softirq): the session is the one
 * stored on the listener at its creation.
 */
SEC("cgroup_skb/ingress")
int aw_ingress(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	struct aw_net_sess *ns;
	struct aw_event_net *ev;
	__u64 session;
	__u32 w[4] = {};
	__u8 a[16], b, family;
	__u16 port;
	int enforce;

	if (!sk)
		return 1; /* fail-open: no socket, not a listener's packet */
	sk = bpf_sk_fullsock(sk);
	if (!sk || sk->state != AW_TCP_LISTEN)
		return 1; /* not a listener: decided at connect and send */
	session = sock_owner(sk);
	if (!session)
		return 1; /* not a confined session's listener */
	/* The peer: the packet's source. */
	if (bpf_skb_load_bytes(skb, 0, &b, 1) < 0)
		return 0; /* fail closed */
	if ((b >> 4) == 4) {
		family = AW_AF_INET;
		w[2] = bpf_htonl(0xffff);
		if (bpf_skb_load_bytes(skb, 12, &w[3], 4) < 0)
			return 0; /* fail closed */
	} else if ((b >> 4) == 6) {
		family = AW_AF_INET6;
		if (bpf_skb_load_bytes(skb, 8, w, 16) < 0)
			return 0; /* fail closed */
	} else {
		return 0; /* fail closed: neither IPv4 nor IPv6 */
	}
	__builtin_memcpy(a, w, 16);
	port = (__u16)sk->src_port;
	ns = bpf_map_lookup_elem(&aw_net_sessions, &session);
	if (ns && net_allowed(session, a, AW_NETP_TCP, port))
		return 1;
	stat_inc(AW_STAT_NET_DENIED);
	enforce = !ns || (ns->flags & AW_NETS_ENFORCE);
	if (!deny_report_ok(session))
		return enforce ? 0 : 1;
	/* The record names the session; there is no process here. */
	ev = bpf_ringbuf_reserve(&aw_events, sizeof(*ev), 0);
	if (!ev) {
		stat_inc(AW_STAT_DROP_NET);
		return enforce ? 0 : 1;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	fill_hdr(&ev->hdr, AW_EV_NET, sizeof(*ev));
	ev->proc.session = session;
	__builtin_memcpy(ev->addr, a, 16);
	ev->port = port;
	ev->family = family;
	ev->proto = AW_IPPROTO_TCP;
	ev->hook = AW_HOOK_ACCEPT;
	ev->verdict = enforce ? AW_VERDICT_DENY : AW_VERDICT_AUDIT;
	bpf_ringbuf_submit(ev, 0);
	stat_inc(AW_STAT_EVENTS);
	return enforce ? 0 : 1;
}
