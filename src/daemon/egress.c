/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-session network policy, with no proxy in the data path.
 *
 * The kernel decides every connect and unconnected send of a session's
 * processes (cgroup socket hooks, bpf/network.bpf.c): a destination is
 * reachable if the session's policy names it by CIDR (aw_net_cidrs), or
 * if the session's resolver answered it for a name the policy names
 * (aw_net_allow, for the record's TTL). DNS to any server (port 53, UDP
 * and TCP) is redirected in the kernel to that resolver: one set of
 * sockets per session on 127.0.0.1 and ::1, here. It answers only names
 * the policy allows, forwarding to the system's upstream, and installs the
 * answered addresses before it replies; any other name is REFUSED. So a
 * name outside the policy never reaches the upstream (no exfiltration in
 * query names), and an address no allowed name resolved to is refused at
 * connect.
 *
 * Also here: the records the hooks send (connect and socket decisions).
 * Processes outside any session reaching a known LLM API are discovered
 * by the decoder (events.c), which gives them a session (sessions.c).
 * (Over 900 lines: the resolver is one protocol loop, UDP and TCP, that
 * must install answers in the kernel's maps before replying; split, its
 * halves would share every structure.)
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "daemon/daemon.h"
#include "daemon/metrics.h"
#include "net/dns.h"
#include "shared/json.h"
#include "shared/util.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

#define NET_PENDING_MAX 256    /* upstream queries in flight per session */
#define NET_ADDRS_MAX 4096     /* answered addresses kept per session */
#define NET_TCP_CLIENTS_MAX 16 /* per session */
#define NET_EVENTS_PER_S 100   /* dns and connect events per session */
#define NET_DNS_TIMEOUT_NS (3ull * 1000000000ull)
#define NET_TCP_IDLE_NS (10ull * 1000000000ull)
#define NET_TTL_GRACE_S 2   /* an answer stays usable this much longer */
#define NET_TTL_MAX_S 86400 /* and never longer than a day */
#define NET_LLM_REFRESH_NS (300ull * 1000000000ull)
#define NET_ADDRS_PER_ANSWER 256

struct net_host {
	char *pattern;
	char *rule; /* POLICY/RULE-ID */
	struct aw_net_allow allow;
};

struct net_cidr {
	struct aw_net_cidr c;
	char *rule;
	struct aw_net_allow allow; /* its rule's ports and protocols */
};

struct net_addr {
	uint8_t addr[16];
	uint64_t expires; /* boottime */
	char name[AW_DNS_NAME_MAX + 1];
	char rule[160];
};

struct net_sess {
	uint64_t session; /* its key in the kernel's maps */
	uint64_t report;  /* the session its records belong to: the same,
			     or a tool's session (aw_net_session_open_as) */
	uint32_t uid;
	int enforce;
	char policy[AW_POL_ID_MAX + 1];
	struct net_host *hosts;
	size_t n_hosts;
	struct net_cidr *cidrs;
	size_t n_cidrs;
	int fd[4]; /* UDP v4, UDP v6, TCP v4, TCP v6 listeners */
	uint16_t port;
	int other_netns; /* the resolver listens in the session's netns */
	struct net_addr *addrs;
	size_t n_addrs;
	size_t pending;
	size_t tcp_clients;
	/* events: NET_EVENTS_PER_S, the rest counted into the next */
	uint64_t win_start;
	unsigned win_count;
	uint64_t suppressed;
};

struct tcp_client {
	int fd;
	uint64_t session;
	uint8_t buf[2 + AW_DNS_MSG_MAX];
	size_t len;
	int busy;  /* a query of it is upstream */
	int rearm; /* answered: to be read again */
	uint64_t last_ns;
};

struct dns_pending {
	uint64_t session; /* 0: the daemon's own (LLM API names) */
	int up_fd;
	int up_tcp, up_connected;
	int client_fd; /* the UDP listener, or the TCP client's fd */
	int client_tcp;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	uint16_t client_id, up_id;
	struct aw_dns_question q;
	size_t host;  /* the host rule that allowed it */
	uint8_t *msg; /* what goes upstream (normalized) */
	size_t msg_len;
	uint8_t *cmsg; /* the client's query as sent (NULL: the daemon's) */
	size_t cmsg_len;
	uint8_t *rbuf; /* TCP upstream: what arrived so far */
	size_t rlen;
	uint64_t deadline;
	size_t llm; /* session 0: the LLM API name's index */
};

struct aw_net {
	struct aw_daemon *d;
	int epfd;
	struct sockaddr_storage upstream;
	socklen_t upstream_len;
	char upstream_text[128];
	struct net_sess *sess;
	size_t n_sess;
	struct tcp_client **tcp;
	size_t n_tcp;
	struct dns_pending **pend;
	size_t n_pend;
	uint64_t llm_next;
	char **llm_names;
	size_t n_llm;
	uint64_t dns_queries, dns_refused, dns_failed, allow_full;
	size_t llm_addrs; /* installed for discovery */
	/* What aw_net_cgroups holds (oldest first): a session's own
	 * cgroup stays known after the session, for its sockets that
	 * outlive it, until room is needed. */
	struct net_cgroup {
		uint64_t cgroup, session;
	} * cgroups;
	size_t n_cgroups;
	uint64_t cgroups_full; /* sessions whose sockets got storage */
};

/* Kept after their sessions: all but room for the live ones. */
#define NET_CGROUPS_KEPT (AW_NET_CGROUPS_MAX - AW_NET_SESSIONS_MAX)

static uint64_t now_ns(void)
{
	return aw_now_boottime_ns();
}

/* ---- addresses ---------------------------------------------------------- */

static void addr_text(const uint8_t a[16], uint16_t port, char *buf, size_t len)
{
	char t[INET6_ADDRSTRLEN];
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
					   0, 0, 0, 0, 0xff, 0xff};

	if (!memcmp(a, mapped, 12)) {
		inet_ntop(AF_INET, a + 12, t, sizeof(t));
		if (port)
			snprintf(buf, len, "%s:%u", t, port);
		else
			snprintf(buf, len, "%s", t);
	} else {
		inet_ntop(AF_INET6, a, t, sizeof(t));
		if (port)
			snprintf(buf, len, "[%s]:%u", t, port);
		else
			snprintf(buf, len, "%s", t);
	}
}

static int addr_special(const uint8_t a[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
					   0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t zero[16];

	if (!memcmp(a, mapped, 12))
		return a[12] == 127 || a[12] == 0 ||
		       (a[12] == 169 && a[13] == 254) || a[12] >= 224;
	return !memcmp(a, zero, 15) /* :: and ::1 */ ||
	       (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || a[0] == 0xff;
}

static void addr16(const struct aw_dns_addr *x, uint8_t a[16])
{
	memset(a, 0, 16);
	if (x->family == AF_INET) {
		a[10] = a[11] = 0xff;
		memcpy(a + 12, x->addr, 4);
	} else {
		memcpy(a, x->addr, 16);
	}
}

/* ---- sessions ----------------------------------------------------------- */

static struct net_sess *sess_find(struct aw_net *n, uint64_t session)
{
	for (size_t i = 0; i < n->n_sess; i++)
		if (n->sess[i].session == session)
			return &n->sess[i];
	return NULL;
}

/* Events of a session, at most NET_EVENTS_PER_S a second; the rest are
 * counted and the count rides on the next one (and on session end). */
static int sess_may_emit(struct net_sess *s, struct aw_buf *x)
{
	uint64_t t = now_ns();

	if (t - s->win_start >= 1000000000ull) {
		s->win_start = t;
		s->win_count = 0;
	}
	if (s->win_count >= NET_EVENTS_PER_S) {
		s->suppressed++;
		return 0;
	}
	s->win_count++;
	if (s->suppressed) {
		aw_buf_printf(x, ",\"suppressed_before\":%llu",
			      (unsigned long long)s->suppressed);
		s->suppressed = 0;
	}
	return 1;
}

static void rule_ports(const struct aw_net_rule *r, struct aw_net_allow *a,
		       int *truncated)
{
	memset(a, 0, sizeof(*a));
	a->protos = (r->protocols & AW_NET_TCP ? AW_NETP_TCP : 0) |
		    (r->protocols & AW_NET_UDP ? AW_NETP_UDP : 0);
	for (size_t i = 0; i < r->n_ports; i++) {
		if (a->n_ranges >= AW_NET_RANGES) {
			*truncated = 1; /* fail closed: fewer ports */
			break;
		}
		a->lo[a->n_ranges] = r->ports[i].lo;
		a->hi[a->n_ranges] = r->ports[i].hi;
		a->n_ranges++;
	}
}

/* Two grants for one destination: the union (every port wins over a
 * list; beyond AW_NET_RANGES ranges the rest are dropped: fewer ports,
 * never more). */
static void allow_merge(struct aw_net_allow *into,
			const struct aw_net_allow *from)
{
	into->protos |= from->protos;
	if (!into->n_ranges || !from->n_ranges) {
		into->n_ranges = 0;
		return;
	}
	for (unsigned i = 0; i < from->n_ranges; i++) {
		int have = 0;

		for (unsigned j = 0; j < into->n_ranges; j++)
			have |= into->lo[j] == from->lo[i] &&
				into->hi[j] == from->hi[i];
		if (!have && into->n_ranges < AW_NET_RANGES) {
			into->lo[into->n_ranges] = from->lo[i];
			into->hi[into->n_ranges] = from->hi[i];
			into->n_ranges++;
		}
	}
}

static int listen_pair(struct net_sess *s, char *err, size_t errlen)
{
	for (int tries = 0; tries < 16; tries++) {
		struct sockaddr_in a4 = {.sin_family = AF_INET,
					 .sin_addr.s_addr =
					     htonl(INADDR_LOOPBACK)};
		struct sockaddr_in6 a6 = {.sin6_family = AF_INET6,
					  .sin6_addr = IN6ADDR_LOOPBACK_INIT};
		socklen_t l = sizeof(a4);
		int one = 1, ok = 1;

		for (int i = 0; i < 4; i++)
			s->fd[i] = -1;
		s->fd[0] = socket(AF_INET,
				  SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (s->fd[0] < 0 ||
		    bind(s->fd[0], (struct sockaddr *)&a4, sizeof(a4)) < 0 ||
		    getsockname(s->fd[0], (struct sockaddr *)&a4, &l) < 0) {
			snprintf(err, errlen, "resolver socket: %s",
				 strerror(errno));
			if (s->fd[0] >= 0)
				close(s->fd[0]);
			return -errno;
		}
		s->port = ntohs(a4.sin_port);
		a6.sin6_port = a4.sin_port;
		s->fd[1] = socket(AF_INET6,
				  SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		s->fd[2] = socket(
		    AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		s->fd[3] = socket(
		    AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		for (int i = 1; i < 4; i++)
			if (s->fd[i] >= 0 && (i == 1 || i == 3))
				setsockopt(s->fd[i], IPPROTO_IPV6, IPV6_V6ONLY,
					   &one, sizeof(one));
		if (s->fd[2] >= 0)
			setsockopt(s->fd[2], SOL_SOCKET, SO_REUSEADDR, &one,
				   sizeof(one));
		if (s->fd[3] >= 0)
			setsockopt(s->fd[3], SOL_SOCKET, SO_REUSEADDR, &one,
				   sizeof(one));
		/* IPv6 may be off on the host: then v4 only. */
		if (s->fd[1] >= 0 &&
		    bind(s->fd[1], (struct sockaddr *)&a6, sizeof(a6)) < 0) {
			if (errno == EADDRINUSE)
				ok = 0;
			close(s->fd[1]);
			s->fd[1] = -1;
		}
		if (ok &&
		    (s->fd[2] < 0 ||
		     bind(s->fd[2], (struct sockaddr *)&a4, sizeof(a4)) < 0 ||
		     listen(s->fd[2], 16) < 0))
			ok = 0;
		if (ok && s->fd[3] >= 0 &&
		    (bind(s->fd[3], (struct sockaddr *)&a6, sizeof(a6)) < 0 ||
		     listen(s->fd[3], 16) < 0)) {
			if (errno == EADDRINUSE)
				ok = 0;
			close(s->fd[3]);
			s->fd[3] = -1;
		}
		if (ok)
			return 0;
		for (int i = 0; i < 4; i++)
			if (s->fd[i] >= 0)
				close(s->fd[i]);
	}
	snprintf(err, errlen, "no free port for the session's resolver");
	return -EADDRINUSE;
}

/* ---- the session's network namespace ------------------------------------ */

#ifndef PIDFD_GET_NET_NAMESPACE
#define PIDFD_GET_NET_NAMESPACE _IO(0xFF, 4) /* Linux 6.11 */
#endif

/* The network namespace of the process pidfd names, or -errno. The pidfd
 * names that process, never a reused pid; /proc (by the pidfd's pid) only
 * where the kernel lacks the ioctl, checked against the pidfd after. */
static int netns_of(int pidfd)
{
	char p[64], line[128];
	FILE *f;
	int fd, pid = -1;

	fd = ioctl(pidfd, PIDFD_GET_NET_NAMESPACE, 0);
	if (fd >= 0)
		return fd;
	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", pidfd);
	f = fopen(p, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid: %d", &pid) == 1)
			break;
	if (f)
		fclose(f);
	if (pid <= 0)
		return -ESRCH;
	snprintf(p, sizeof(p), "/proc/%d/ns/net", pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0) {
		close(fd); /* it exited: the pid may be another's now */
		return -ESRCH;
	}
	return fd;
}

static int same_file(int a, int b)
{
	struct stat x, y;

	return fstat(a, &x) == 0 && fstat(b, &y) == 0 && x.st_dev == y.st_dev &&
	       x.st_ino == y.st_ino;
}

struct netns_job {
	int nsfd;
	struct net_sess *s;
	int r;
	int lo_raised; /* its loopback was down: brought up */
	char err[256];
};

/* A namespace's loopback, up: the resolver listens there and the
 * session's DNS is redirected there. A fresh namespace has it down (and
 * no 127.0.0.1 at all): then it is brought up, and the caller says so. */
static int lo_up(int *ret_raised)
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		r = -errno;
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			r = -errno;
		else
			*ret_raised = 1;
	}
	close(fd);
	return r;
}

/* On a thread of its own: setns changes the calling thread only, and the
 * sockets made there stay in that namespace once it is gone; the daemon's
 * loop never leaves its own namespace (its upstream sockets are made
 * there). */
static void *netns_thread(void *arg)
{
	struct netns_job *j = arg;
	int r;

	if (setns(j->nsfd, CLONE_NEWNET) < 0) {
		j->r = -errno;
		snprintf(j->err, sizeof(j->err),
			 "enter the session's network namespace: %s",
			 strerror(errno));
		return NULL;
	}
	r = lo_up(&j->lo_raised);
	if (r < 0) {
		j->r = r;
		snprintf(j->err, sizeof(j->err),
			 "loopback of the session's network namespace: %s",
			 strerror(-r));
		return NULL;
	}
	j->r = listen_pair(j->s, j->err, sizeof(j->err));
	return NULL;
}

/* The resolver's sockets, in the namespace of pidfd's process (the
 * daemon's own when it is the same, or pidfd is -1). */
static int listen_in(struct net_sess *s, int pidfd, int *ret_lo_raised,
		     char *err, size_t errlen)
{
	struct netns_job j = {.s = s};
	pthread_t t;
	int self, r;

	if (pidfd < 0)
		return listen_pair(s, err, errlen);
	j.nsfd = netns_of(pidfd);
	if (j.nsfd < 0) {
		snprintf(err, errlen, "the session's network namespace: %s",
			 strerror(-j.nsfd));
		return j.nsfd;
	}
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self >= 0 && same_file(self, j.nsfd)) {
		close(self);
		close(j.nsfd);
		return listen_pair(s, err, errlen);
	}
	if (self >= 0)
		close(self);
	r = -pthread_create(&t, NULL, netns_thread, &j);
	if (r == 0) {
		pthread_join(t, NULL);
		r = j.r;
		if (r < 0)
			snprintf(err, errlen, "%s", j.err);
	} else {
		snprintf(err, errlen, "resolver thread: %s", strerror(-r));
	}
	close(j.nsfd);
	s->other_netns = 1;
	*ret_lo_raised = j.lo_raised;
	return r;
}

static void sess_free(struct net_sess *s)
{
	for (size_t i = 0; i < s->n_hosts; i++) {
		free(s->hosts[i].pattern);
		free(s->hosts[i].rule);
	}
	free(s->hosts);
	for (size_t i = 0; i < s->n_cidrs; i++)
		free(s->cidrs[i].rule);
	free(s->cidrs);
	free(s->addrs);
	for (int i = 0; i < 4; i++)
		if (s->fd[i] >= 0)
			close(s->fd[i]);
}

static void lpm_key(uint64_t session, const struct aw_net_cidr *c,
		    struct aw_net_lpm_key *k)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = 64 + c->prefix;
	memcpy(k->data, &session, 8);
	memcpy(k->data + 8, c->addr, 16);
}

int aw_net_session_open(struct aw_daemon *d, uint64_t session, uint32_t uid,
			int pidfd, uint64_t cgroup,
			const struct aw_policy_flat *f, char *err,
			size_t errlen)
{
	return aw_net_session_open_as(d, session, session, uid, pidfd, cgroup,
				      f, err, errlen);
}

/* A session whose network entry the kernel still has is live, whether
 * this daemon opened it or an earlier one did (adopted maps). */
static int cgroup_live(struct aw_net *n, uint64_t session)
{
	struct aw_net_sess ks;

	return sess_find(n, session) ||
	       bpf_map_lookup_elem(
		   aw_kernel_net_fd(n->d->kernel, AW_NETMAP_SESSIONS), &session,
		   &ks) == 0;
}

/* One more record known (the newest last). */
static int cgroup_known(struct aw_net *n, uint64_t cgroup, uint64_t session)
{
	struct net_cgroup *c =
	    realloc(n->cgroups, (n->n_cgroups + 1) * sizeof(*c));

	if (!c)
		return -ENOMEM;
	n->cgroups = c;
	c[n->n_cgroups++] = (struct net_cgroup){cgroup, session};
	return 0;
}

/*
 * The session's own cgroup into aw_net_cgroups (bpf/network.bpf.c,
 * sock_owner): its sockets need no storage to be known as its. When
 * NET_CGROUPS_KEPT are recorded, the oldest whose session ended is
 * forgotten (a socket that outlived that session by so many others is
 * then no longer known as a session's). 0, or -errno: the session's
 * sockets get storage instead, as a discovered process's do.
 */
static int cgroup_record(struct aw_net *n, uint64_t cgroup, uint64_t session)
{
	int fd = aw_kernel_net_fd(n->d->kernel, AW_NETMAP_CGROUPS);

	if (n->n_cgroups >= NET_CGROUPS_KEPT) {
		size_t i = 0;

		while (i < n->n_cgroups &&
		       cgroup_live(n, n->cgroups[i].session))
			i++;
		if (i == n->n_cgroups)
			return -ENOSPC;
		bpf_map_delete_elem(fd, &n->cgroups[i].cgroup);
		memmove(&n->cgroups[i], &n->cgroups[i + 1],
			(n->n_cgroups - i - 1) * sizeof(*n->cgroups));
		n->n_cgroups--;
	}
	if (bpf_map_update_elem(fd, &cgroup, &session, BPF_ANY) < 0)
		return -errno;
	if (cgroup_known(n, cgroup, session) < 0) {
		bpf_map_delete_elem(fd, &cgroup);
		return -ENOMEM;
	}
	return 0;
}

int aw_net_session_open_as(struct aw_daemon *d, uint64_t session,
			   uint64_t report, uint32_t uid, int pidfd,
			   uint64_t cgroup, const struct aw_policy_flat *f,
			   char *err, size_t errlen)
{
	struct aw_net *n = d->net;
	struct net_sess s = {.session = session, .report = report, .uid = uid},
			*ns;
	struct aw_net_sess ks = {};
	int truncated = 0, lo_raised = 0, r;

	if (!n || !f->has_network)
		return 0; /* this policy does not confine the network */
	if (aw_kernel_net_error(d->kernel)) {
		snprintf(err, errlen, "network policy cannot be enforced: %s",
			 aw_kernel_net_error(d->kernel));
		return -ENOTSUP;
	}
	if (sess_find(n, session))
		return 0; /* resumed while still known */
	s.enforce = f->mode != 0;
	snprintf(s.policy, sizeof(s.policy), "%s", f->id);
	for (int i = 0; i < 4; i++)
		s.fd[i] = -1;
	for (size_t i = 0; i < f->n_net_rules; i++) {
		const struct aw_net_rule *nr = f->net_rules[i];
		struct aw_net_allow a;
		char rule[160];

		rule_ports(nr, &a, &truncated);
		snprintf(rule, sizeof(rule), "%s/%s", f->id, nr->id);
		for (size_t j = 0; j < nr->n_hosts; j++) {
			struct net_host *h =
			    realloc(s.hosts, (s.n_hosts + 1) * sizeof(*h));

			if (!h)
				goto oom;
			s.hosts = h;
			h[s.n_hosts].pattern = strdup(nr->hosts[j]);
			h[s.n_hosts].rule = strdup(rule);
			h[s.n_hosts].allow = a;
			s.n_hosts++;
		}
		for (size_t j = 0; j < nr->n_cidrs + (nr->loopback ? 2 : 0);
		     j++) {
			struct net_cidr *c =
			    realloc(s.cidrs, (s.n_cidrs + 1) * sizeof(*c));

			if (!c)
				goto oom;
			s.cidrs = c;
			if (j < nr->n_cidrs) {
				c[s.n_cidrs].c = nr->cidrs[j];
			} else {
				/* loopback: 127.0.0.0/8 and ::1 */
				memset(&c[s.n_cidrs].c, 0, sizeof(c->c));
				if (j == nr->n_cidrs) {
					c[s.n_cidrs].c.addr[10] = 0xff;
					c[s.n_cidrs].c.addr[11] = 0xff;
					c[s.n_cidrs].c.addr[12] = 127;
					c[s.n_cidrs].c.prefix = 96 + 8;
				} else {
					c[s.n_cidrs].c.addr[15] = 1;
					c[s.n_cidrs].c.prefix = 128;
				}
			}
			c[s.n_cidrs].rule = strdup(rule);
			c[s.n_cidrs].allow = a;
			s.n_cidrs++;
		}
	}
	r = listen_in(&s, pidfd, &lo_raised, err, errlen);
	if (r < 0) {
		sess_free(&s);
		return r;
	}
	/* The kernel's part: CIDRs (merged per prefix), then the session. */
	for (size_t i = 0; i < s.n_cidrs; i++) {
		struct aw_net_lpm_key k;
		struct aw_net_allow a = s.cidrs[i].allow;
		int fd = aw_kernel_net_fd(d->kernel, AW_NETMAP_CIDRS);

		lpm_key(session, &s.cidrs[i].c, &k);
		/* The same prefix in several rules: the union (an LPM
		 * lookup would return a shorter prefix, so merge here). */
		for (size_t j = 0; j < i; j++)
			if (s.cidrs[j].c.prefix == s.cidrs[i].c.prefix &&
			    !memcmp(s.cidrs[j].c.addr, s.cidrs[i].c.addr, 16))
				allow_merge(&a, &s.cidrs[j].allow);
		if (bpf_map_update_elem(fd, &k, &a, BPF_ANY) < 0) {
			snprintf(err, errlen, "network CIDR map: %s",
				 strerror(errno));
			goto undo;
		}
	}
	ks.flags = s.enforce ? AW_NETS_ENFORCE : 0;
	ks.dns_port = s.port;
	if (cgroup) {
		if (cgroup_record(n, cgroup, session) == 0)
			ks.cgroup = cgroup;
		else
			n->cgroups_full++;
	}
	if (bpf_map_update_elem(aw_kernel_net_fd(d->kernel, AW_NETMAP_SESSIONS),
				&session, &ks, BPF_ANY) < 0) {
		snprintf(err, errlen, "network session map: %s",
			 strerror(errno));
		goto undo;
	}
	ns = realloc(n->sess, (n->n_sess + 1) * sizeof(*ns));
	if (!ns)
		goto undo;
	n->sess = ns;
	for (int i = 0; i < 4; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = s.fd[i]};

		if (s.fd[i] >= 0)
			epoll_ctl(n->epfd, EPOLL_CTL_ADD, s.fd[i], &ev);
	}
	n->sess[n->n_sess++] = s;
	if (lo_raised)
		aw_events_emit_decision(
		    d, "notice", report, 0, NULL, "network/dns", NULL,
		    "\"detail\":\"the session's network namespace had its "
		    "loopback down: brought up for the session's resolver\"");
	if (truncated)
		aw_events_emit_decision(
		    d, "notice", report, 0, NULL, "network/ports", NULL,
		    "\"detail\":\"a destination has more than 8 port ranges: "
		    "the first 8 apply\"");
	return 0;
undo:
	bpf_map_delete_elem(aw_kernel_net_fd(d->kernel, AW_NETMAP_SESSIONS),
			    &session);
	for (size_t i = 0; i < s.n_cidrs; i++) {
		struct aw_net_lpm_key k;

		lpm_key(session, &s.cidrs[i].c, &k);
		bpf_map_delete_elem(
		    aw_kernel_net_fd(d->kernel, AW_NETMAP_CIDRS), &k);
	}
	sess_free(&s);
	return -EIO;
oom:
	sess_free(&s);
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

static void pending_drop(struct aw_net *n, size_t i);

void aw_net_session_end(struct aw_daemon *d, uint64_t session)
{
	struct aw_net *n = d->net;
	struct net_sess *s = n ? sess_find(n, session) : NULL;
	int fd;

	if (!s)
		return;
	if (s->suppressed) {
		struct aw_buf x = {};

		aw_buf_printf(&x, "\"suppressed_before\":%llu",
			      (unsigned long long)s->suppressed);
		aw_events_emit_decision(d, "notice", s->report, 0, NULL,
					"network/events", NULL, x.data);
		aw_buf_free(&x);
	}
	bpf_map_delete_elem(aw_kernel_net_fd(d->kernel, AW_NETMAP_SESSIONS),
			    &session);
	fd = aw_kernel_net_fd(d->kernel, AW_NETMAP_CIDRS);
	for (size_t i = 0; i < s->n_cidrs; i++) {
		struct aw_net_lpm_key k;

		lpm_key(session, &s->cidrs[i].c, &k);
		bpf_map_delete_elem(fd, &k);
	}
	fd = aw_kernel_net_fd(d->kernel, AW_NETMAP_ALLOW);
	for (size_t i = 0; i < s->n_addrs; i++) {
		struct aw_net_key k = {.session = session};

		memcpy(k.addr, s->addrs[i].addr, 16);
		bpf_map_delete_elem(fd, &k);
	}
	for (size_t i = 0; i < n->n_pend;) {
		if (n->pend[i]->session == session)
			pending_drop(n, i);
		else
			i++;
	}
	for (size_t i = 0; i < n->n_tcp;) {
		if (n->tcp[i]->session == session) {
			close(n->tcp[i]->fd);
			free(n->tcp[i]);
			n->tcp[i] = n->tcp[--n->n_tcp];
		} else {
			i++;
		}
	}
	sess_free(s);
	*s = n->sess[--n->n_sess];
}

/* ---- answers into the kernel -------------------------------------------- */

/* Install what an answer allows, before the agent sees it. Returns 0, or
 * -ENOSPC when the session's share or the kernel map is full. */
static int install(struct aw_net *n, struct net_sess *s,
		   const struct net_host *h, const char *qname,
		   const struct aw_dns_addr *addrs, size_t count)
{
	int fd = aw_kernel_net_fd(n->d->kernel, AW_NETMAP_ALLOW);
	uint64_t t = now_ns();

	for (size_t i = 0; i < count; i++) {
		struct aw_net_key k = {.session = s->session};
		struct aw_net_allow a = h->allow, old;
		struct net_addr *na = NULL;
		uint64_t ttl = addrs[i].ttl;

		if (ttl > NET_TTL_MAX_S)
			ttl = NET_TTL_MAX_S;
		addr16(&addrs[i], k.addr);
		/* A name must not open the machine itself, its link or
		 * the cloud's metadata service (DNS rebinding): those
		 * only by a CIDR or loopback rule. */
		if (addr_special(k.addr))
			continue;
		a.expires = t + (ttl + NET_TTL_GRACE_S) * 1000000000ull;
		for (size_t j = 0; j < s->n_addrs; j++)
			if (!memcmp(s->addrs[j].addr, k.addr, 16))
				na = &s->addrs[j];
		if (na && bpf_map_lookup_elem(fd, &k, &old) == 0) {
			uint64_t exp =
			    a.expires > old.expires ? a.expires : old.expires;

			if (old.expires > t) {
				allow_merge(&old, &a);
				a = old;
			}
			a.expires = exp;
		}
		if (!na) {
			if (s->n_addrs >= NET_ADDRS_MAX)
				return -ENOSPC;
			if (!(s->n_addrs & (s->n_addrs + 1))) {
				struct net_addr *g =
				    realloc(s->addrs,
					    (2 * s->n_addrs + 1) * sizeof(*g));

				if (!g)
					return -ENOSPC;
				s->addrs = g;
			}
			na = &s->addrs[s->n_addrs];
			memset(na, 0, sizeof(*na));
			memcpy(na->addr, k.addr, 16);
		}
		if (bpf_map_update_elem(fd, &k, &a, BPF_ANY) < 0) {
			n->allow_full++;
			return -ENOSPC;
		}
		if (na == &s->addrs[s->n_addrs])
			s->n_addrs++;
		na->expires = a.expires;
		snprintf(na->name, sizeof(na->name), "%s", qname);
		snprintf(na->rule, sizeof(na->rule), "%s", h->rule);
	}
	return 0;
}

/* Answered addresses whose time is up leave the kernel map. */
static void expire(struct aw_net *n)
{
	int fd = aw_kernel_net_fd(n->d->kernel, AW_NETMAP_ALLOW);
	uint64_t t = now_ns();

	for (size_t i = 0; i < n->n_sess; i++) {
		struct net_sess *s = &n->sess[i];

		for (size_t j = 0; j < s->n_addrs;) {
			struct aw_net_key k = {.session = s->session};

			if (s->addrs[j].expires > t) {
				j++;
				continue;
			}
			memcpy(k.addr, s->addrs[j].addr, 16);
			bpf_map_delete_elem(fd, &k);
			s->addrs[j] = s->addrs[--s->n_addrs];
		}
	}
}

/* ---- the resolver ------------------------------------------------------- */

static const char *qtype_name(uint16_t t, char *buf, size_t len)
{
	switch (t) {
	case AW_DNS_A:
		return "A";
	case AW_DNS_AAAA:
		return "AAAA";
	case AW_DNS_CNAME:
		return "CNAME";
	case 65:
		return "HTTPS";
	default:
		snprintf(buf, len, "TYPE%u", t);
		return buf;
	}
}

static void dns_event(struct aw_net *n, struct net_sess *s,
		      const struct aw_dns_question *q, const char *decision,
		      const char *rule, const char *why,
		      const struct aw_dns_addr *addrs, int count)
{
	struct aw_buf x = {};
	char tb[16];

	aw_json_key(&x, "qtype");
	aw_json_cstr(&x, qtype_name(q->qtype, tb, sizeof(tb)));
	if (why) {
		aw_buf_puts(&x, ",");
		aw_json_key(&x, "detail");
		aw_json_cstr(&x, why);
	}
	if (count > 0) {
		aw_buf_puts(&x, ",\"addresses\":[");
		for (int i = 0; i < count; i++) {
			uint8_t a[16];
			char t[64];

			addr16(&addrs[i], a);
			addr_text(a, 0, t, sizeof(t));
			aw_buf_puts(&x, i ? "," : "");
			aw_json_cstr(&x, t);
		}
		aw_buf_printf(&x, "],\"ttl\":%u", addrs[0].ttl);
	}
	if (!sess_may_emit(s, &x)) {
		aw_buf_free(&x);
		return;
	}
	aw_buf_add(&x, "", 1);
	aw_events_emit_decision(n->d, "dns", s->report, 0, q->name, rule,
				decision, x.oom ? NULL : x.data);
	aw_buf_free(&x);
}

static void reply(struct aw_net *n, int fd, int tcp,
		  const struct sockaddr_storage *peer, socklen_t plen,
		  const uint8_t *msg, size_t len)
{
	if (tcp) {
		uint8_t hdr[2] = {(uint8_t)(len >> 8), (uint8_t)len};
		struct iovec iov[2] = {{hdr, 2}, {(void *)msg, len}};
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};

		if (sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			n->dns_failed++;
		return;
	}
	if (sendto(fd, msg, len, MSG_DONTWAIT, (const struct sockaddr *)peer,
		   plen) < 0)
		n->dns_failed++;
}

static void reply_error(struct aw_net *n, int fd, int tcp,
			const struct sockaddr_storage *peer, socklen_t plen,
			const uint8_t *query, size_t qlen, unsigned rcode)
{
	uint8_t out[AW_DNS_MSG_MAX];
	int len = aw_dns_build_error(query, qlen, rcode, out, sizeof(out));

	if (len > 0)
		reply(n, fd, tcp, peer, plen, out, (size_t)len);
}

/* The client gets rcode, under its own ID (the message went upstream
 * under another). */
static void fail_client(struct aw_net *n, struct dns_pending *p, unsigned rcode)
{
	if (p->client_fd < 0 || !p->cmsg)
		return; /* one of the daemon's own lookups */
	reply_error(n, p->client_fd, p->client_tcp, &p->peer, p->peer_len,
		    p->cmsg, p->cmsg_len, rcode);
}

static int upstream_socket(struct aw_net *n, int tcp)
{
	int fd = socket(
	    n->upstream.ss_family,
	    (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&n->upstream, n->upstream_len) < 0 &&
	    errno != EINPROGRESS) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

static void pending_drop(struct aw_net *n, size_t i)
{
	struct dns_pending *p = n->pend[i];
	struct net_sess *s = sess_find(n, p->session);

	if (s && s->pending)
		s->pending--;
	if (p->client_tcp) {
		for (size_t j = 0; j < n->n_tcp; j++)
			if (n->tcp[j]->fd == p->client_fd) {
				n->tcp[j]->busy = 0;
				n->tcp[j]->rearm = 1;
			}
	}
	if (p->up_fd >= 0)
		close(p->up_fd);
	free(p->msg);
	free(p->cmsg);
	free(p->rbuf);
	free(p);
	n->pend[i] = n->pend[--n->n_pend];
}

/* Forward a query upstream under a fresh ID. */
static int forward(struct aw_net *n, struct dns_pending *p)
{
	struct epoll_event ev = {.data.fd = -1};
	struct dns_pending **g;

	if (getrandom(&p->up_id, sizeof(p->up_id), 0) != sizeof(p->up_id))
		p->up_id = (uint16_t)now_ns();
	aw_dns_set_id(p->msg, p->msg_len, p->up_id);
	p->up_fd = upstream_socket(n, p->up_tcp);
	if (p->up_fd < 0)
		return p->up_fd;
	if (!p->up_tcp && send(p->up_fd, p->msg, p->msg_len, 0) < 0) {
		close(p->up_fd);
		return -errno;
	}
	g = realloc(n->pend, (n->n_pend + 1) * sizeof(*g));
	if (!g) {
		close(p->up_fd);
		return -ENOMEM;
	}
	n->pend = g;
	ev.events = p->up_tcp ? EPOLLIN | EPOLLOUT : EPOLLIN;
	ev.data.fd = p->up_fd;
	epoll_ctl(n->epfd, EPOLL_CTL_ADD, p->up_fd, &ev);
	p->deadline = now_ns() + NET_DNS_TIMEOUT_NS;
	n->pend[n->n_pend++] = p;
	return 0;
}

/* One query from a session's agent. */
static void query(struct aw_net *n, struct net_sess *s, int fd, int tcp,
		  const struct sockaddr_storage *peer, socklen_t plen,
		  const uint8_t *msg, size_t len)
{
	struct aw_dns_question q;
	struct dns_pending *p;
	uint16_t id;
	char err[256], rule[200];
	size_t h;
	int r;

	n->dns_queries++;
	r = aw_dns_parse_query(msg, len, &q, &id, err, sizeof(err));
	if (r < 0) {
		/* A name we do not serve (bytes outside host names) is
		 * refused; a broken message is a format error. */
		aw_metrics_dns(n->d->metrics, AW_METRICS_DNS_MALFORMED);
		reply_error(n, fd, tcp, peer, plen, msg, len,
			    r == -EINVAL ? AW_DNS_REFUSED : AW_DNS_FORMERR);
		return;
	}
	for (h = 0; h < s->n_hosts; h++)
		if (aw_dns_name_match(s->hosts[h].pattern, q.name))
			break;
	snprintf(rule, sizeof(rule), "%s/network", s->policy);
	/* The policy's verdict, once per query (events are rate-limited,
	 * and an audited query has two). */
	aw_metrics_dns(n->d->metrics, h < s->n_hosts ? AW_METRICS_DNS_ALLOW
				      : s->enforce   ? AW_METRICS_DNS_DENY
						     : AW_METRICS_DNS_AUDIT);
	if (h == s->n_hosts) {
		n->dns_refused++;
		dns_event(n, s, &q, s->enforce ? "deny" : "audit", rule,
			  "no rule of the policy names it", NULL, 0);
		if (s->enforce) {
			reply_error(n, fd, tcp, peer, plen, msg, len,
				    AW_DNS_REFUSED);
			return;
		}
		h = SIZE_MAX; /* audit: forwarded, nothing installed */
	}
	if (s->pending >= NET_PENDING_MAX || !n->upstream_len) {
		dns_event(n, s, &q, "deny", rule,
			  !n->upstream_len ? "no upstream resolver"
					   : "too many queries in flight",
			  NULL, 0);
		reply_error(n, fd, tcp, peer, plen, msg, len, AW_DNS_SERVFAIL);
		return;
	}
	p = calloc(1, sizeof(*p));
	if (!p || !(p->msg = malloc(len + 16)) || !(p->cmsg = malloc(len))) {
		if (p)
			free(p->msg);
		free(p);
		reply_error(n, fd, tcp, peer, plen, msg, len, AW_DNS_SERVFAIL);
		return;
	}
	/* Only the question goes upstream: the name lowercased, a fresh ID
	 * (forward), no client flags, EDNS options or other records, so
	 * that nothing but the choice of an allowed name carries data. */
	r = aw_dns_normalize_query(msg, len, 0, p->msg, len + 16);
	if (r < 0) {
		free(p->msg);
		free(p->cmsg);
		free(p);
		dns_event(n, s, &q, "deny", rule,
			  r == -EOPNOTSUPP ? "query type or class not forwarded"
					   : "query could not be rebuilt",
			  NULL, 0);
		reply_error(n, fd, tcp, peer, plen, msg, len,
			    r == -EOPNOTSUPP ? AW_DNS_REFUSED
					     : AW_DNS_SERVFAIL);
		return;
	}
	p->msg_len = (size_t)r;
	memcpy(p->cmsg, msg, len);
	p->cmsg_len = len;
	p->session = s->session;
	p->client_fd = fd;
	p->client_tcp = tcp;
	p->up_tcp = tcp;
	memcpy(&p->peer, peer, sizeof(p->peer));
	p->peer_len = plen;
	p->client_id = id;
	p->q = q;
	p->host = h;
	if (forward(n, p) < 0) {
		reply_error(n, fd, tcp, peer, plen, msg, len, AW_DNS_SERVFAIL);
		free(p->msg);
		free(p->cmsg);
		free(p);
		return;
	}
	s->pending++;
	if (tcp)
		for (size_t j = 0; j < n->n_tcp; j++)
			if (n->tcp[j]->fd == fd)
				n->tcp[j]->busy = 1;
}

static void llm_answer(struct aw_net *n, struct dns_pending *p,
		       const uint8_t *msg, size_t len);

/* The upstream's answer: checked, installed, then passed on. */
static void answer(struct aw_net *n, size_t i, const uint8_t *msg, size_t len)
{
	struct dns_pending *p = n->pend[i];
	struct net_sess *s = sess_find(n, p->session);
	struct aw_dns_addr addrs[NET_ADDRS_PER_ANSWER];
	unsigned rcode = 0;
	char err[256], rule[200];
	int count;
	uint8_t *out;

	if (aw_dns_get_id(msg, len) != p->up_id)
		return; /* not the answer to this (spoofed or stale) */
	if (!p->session) {
		llm_answer(n, p, msg, len);
		pending_drop(n, i);
		return;
	}
	if (!s) {
		pending_drop(n, i);
		return;
	}
	count =
	    aw_dns_parse_response(msg, len, &p->q, addrs, NET_ADDRS_PER_ANSWER,
				  &rcode, err, sizeof(err));
	snprintf(rule, sizeof(rule), "%s/network", s->policy);
	if (count == -EPROTO)
		return; /* not an answer to this question: spoofed or stale,
			   the real one may still come */
	if (count < 0) {
		char why[320];

		snprintf(why, sizeof(why), "upstream answer refused: %s", err);
		dns_event(n, s, &p->q, "deny", rule, why, NULL, 0);
		fail_client(n, p, AW_DNS_SERVFAIL);
		pending_drop(n, i);
		return;
	}
	if (p->host != SIZE_MAX && count > 0 &&
	    install(n, s, &s->hosts[p->host], p->q.name, addrs, (size_t)count) <
		0) {
		dns_event(n, s, &p->q, "deny", rule,
			  "the session's allowed addresses are full: answer "
			  "refused",
			  NULL, 0);
		fail_client(n, p, AW_DNS_SERVFAIL);
		pending_drop(n, i);
		return;
	}
	dns_event(n, s, &p->q, p->host == SIZE_MAX ? "audit" : "allow",
		  p->host == SIZE_MAX ? rule : s->hosts[p->host].rule,
		  rcode
		      ? (rcode == AW_DNS_NXDOMAIN ? "NXDOMAIN" : "error rcode")
		      : NULL,
		  addrs, count);
	out = malloc(len);
	if (out) {
		memcpy(out, msg, len);
		aw_dns_set_id(out, len, p->client_id);
		/* The question as the client wrote it (its case). */
		aw_dns_restore_question(out, len, p->cmsg, p->cmsg_len);
		reply(n, p->client_fd, p->client_tcp, &p->peer, p->peer_len,
		      out, len);
		free(out);
	}
	pending_drop(n, i);
}

static void upstream_io(struct aw_net *n, size_t i, uint32_t events)
{
	struct dns_pending *p = n->pend[i];
	uint8_t buf[AW_DNS_MSG_MAX];
	ssize_t r;

	if (!p->up_tcp) {
		r = recv(p->up_fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r > 0)
			answer(n, i, buf, (size_t)r);
		return;
	}
	if (!p->up_connected && (events & EPOLLOUT)) {
		uint8_t hdr[2] = {(uint8_t)(p->msg_len >> 8),
				  (uint8_t)p->msg_len};
		struct iovec iov[2] = {{hdr, 2}, {p->msg, p->msg_len}};
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
		struct epoll_event ev = {.events = EPOLLIN,
					 .data.fd = p->up_fd};

		p->up_connected = 1;
		if (sendmsg(p->up_fd, &mh, MSG_NOSIGNAL) < 0) {
			p->deadline = 0; /* fails on the next tick */
			return;
		}
		epoll_ctl(n->epfd, EPOLL_CTL_MOD, p->up_fd, &ev);
		return;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	if (!p->rbuf && !(p->rbuf = malloc(2 + AW_DNS_MSG_MAX)))
		return;
	r = recv(p->up_fd, p->rbuf + p->rlen, 2 + AW_DNS_MSG_MAX - p->rlen,
		 MSG_DONTWAIT);
	if (r <= 0) {
		if (r == 0 || (errno != EAGAIN && errno != EINTR))
			p->deadline = 0;
		return;
	}
	p->rlen += (size_t)r;
	if (p->rlen >= 2) {
		size_t want = ((size_t)p->rbuf[0] << 8) | p->rbuf[1];

		if (p->rlen >= 2 + want)
			answer(n, i, p->rbuf + 2, want);
	}
}

static void listener_io(struct aw_net *n, struct net_sess *s, int fd, int tcp)
{
	if (tcp) {
		int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct tcp_client *tc, **g;
		struct epoll_event ev = {.events = EPOLLIN};

		if (c < 0)
			return;
		if (s->tcp_clients >= NET_TCP_CLIENTS_MAX ||
		    !(tc = calloc(1, sizeof(*tc)))) {
			close(c);
			return;
		}
		g = realloc(n->tcp, (n->n_tcp + 1) * sizeof(*g));
		if (!g) {
			free(tc);
			close(c);
			return;
		}
		n->tcp = g;
		tc->fd = c;
		tc->session = s->session;
		tc->last_ns = now_ns();
		n->tcp[n->n_tcp++] = tc;
		s->tcp_clients++;
		ev.data.fd = c;
		epoll_ctl(n->epfd, EPOLL_CTL_ADD, c, &ev);
		return;
	}
	/* A burst is taken in one go, bounded. */
	for (int k = 0; k < 64; k++) {
		uint8_t buf[AW_DNS_MSG_MAX];
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		ssize_t r = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&peer, &plen);

		if (r <= 0)
			return;
		query(n, s, fd, 0, &peer, plen, buf, (size_t)r);
		s = sess_find(n, s->session); /* (a realloc may move it) */
		if (!s)
			return;
	}
}

static void tcp_client_close(struct aw_net *n, size_t i)
{
	struct tcp_client *tc = n->tcp[i];
	struct net_sess *s = sess_find(n, tc->session);

	for (size_t j = 0; j < n->n_pend;) {
		if (n->pend[j]->client_tcp && n->pend[j]->client_fd == tc->fd)
			pending_drop(n, j);
		else
			j++;
	}
	if (s && s->tcp_clients)
		s->tcp_clients--;
	close(tc->fd);
	free(tc);
	n->tcp[i] = n->tcp[--n->n_tcp];
}

/* Take the next whole query of a TCP client, if it has one and none
 * upstream: one at a time, the rest waits in its buffer, unread. */
static void tcp_client_next(struct aw_net *n, size_t i)
{
	struct tcp_client *tc = n->tcp[i];
	struct net_sess *s = sess_find(n, tc->session);
	struct sockaddr_storage none = {};
	uint8_t msg[AW_DNS_MSG_MAX];
	size_t want;
	struct epoll_event ev = {.data.fd = tc->fd};

	while (s && !tc->busy && tc->len >= 2) {
		want = ((size_t)tc->buf[0] << 8) | tc->buf[1];
		if (tc->len < 2 + want)
			break;
		memcpy(msg, tc->buf + 2, want);
		memmove(tc->buf, tc->buf + 2 + want, tc->len - 2 - want);
		tc->len -= 2 + want;
		query(n, s, tc->fd, 1, &none, 0, msg, want);
		s = sess_find(n, tc->session);
	}
	/* Not read while its query is upstream (level-triggered: it would
	 * wake the loop over and over). */
	ev.events = tc->busy ? 0 : EPOLLIN;
	epoll_ctl(n->epfd, EPOLL_CTL_MOD, tc->fd, &ev);
}

static void tcp_client_io(struct aw_net *n, size_t i, uint32_t events)
{
	struct tcp_client *tc = n->tcp[i];
	ssize_t r;

	if (events & (EPOLLHUP | EPOLLERR)) {
		tcp_client_close(n, i);
		return;
	}
	if (tc->busy || tc->len >= sizeof(tc->buf))
		return;
	r = recv(tc->fd, tc->buf + tc->len, sizeof(tc->buf) - tc->len,
		 MSG_DONTWAIT);
	if (r <= 0) {
		if (r == 0 || (errno != EAGAIN && errno != EINTR))
			tcp_client_close(n, i);
		return;
	}
	tc->len += (size_t)r;
	tc->last_ns = now_ns();
	tcp_client_next(n, i);
}

/* Clients whose query was answered: re-armed, and their next buffered
 * query taken. */
static void tcp_clients_resume(struct aw_net *n)
{
	for (size_t i = 0; i < n->n_tcp; i++) {
		struct tcp_client *tc = n->tcp[i];

		if (tc->busy || !tc->rearm)
			continue;
		tc->rearm = 0;
		tcp_client_next(n, i);
		if (!tc->busy) {
			struct epoll_event ev = {.events = EPOLLIN,
						 .data.fd = tc->fd};

			epoll_ctl(n->epfd, EPOLL_CTL_MOD, tc->fd, &ev);
		}
	}
}

int aw_net_handle(struct aw_daemon *d, int fd, uint32_t events)
{
	struct aw_net *n = d->net;

	if (!n)
		return 0;
	for (size_t i = 0; i < n->n_pend; i++)
		if (n->pend[i]->up_fd == fd) {
			upstream_io(n, i, events);
			tcp_clients_resume(n);
			return 1;
		}
	for (size_t i = 0; i < n->n_tcp; i++)
		if (n->tcp[i]->fd == fd) {
			tcp_client_io(n, i, events);
			tcp_clients_resume(n);
			return 1;
		}
	for (size_t i = 0; i < n->n_sess; i++)
		for (int k = 0; k < 4; k++)
			if (n->sess[i].fd[k] == fd) {
				listener_io(n, &n->sess[i], fd, k >= 2);
				return 1;
			}
	return 0;
}

/* ---- known LLM APIs (behaviour-based discovery) ------------------------- */

static void llm_query(struct aw_net *n, size_t idx, uint16_t qtype)
{
	struct dns_pending *p = calloc(1, sizeof(*p));
	int len;

	if (!p || !(p->msg = malloc(512))) {
		free(p);
		return;
	}
	len = aw_dns_build_query(n->llm_names[idx], qtype, 0, p->msg, 512);
	if (len < 0) {
		free(p->msg);
		free(p);
		return;
	}
	p->msg_len = (size_t)len;
	p->llm = idx;
	p->client_fd = -1;
	snprintf(p->q.name, sizeof(p->q.name), "%s", n->llm_names[idx]);
	p->q.qtype = qtype;
	p->q.qclass = 1;
	if (forward(n, p) < 0) {
		free(p->msg);
		free(p);
	}
}

static void llm_answer(struct aw_net *n, struct dns_pending *p,
		       const uint8_t *msg, size_t len)
{
	struct aw_dns_addr addrs[NET_ADDRS_PER_ANSWER];
	unsigned rcode;
	char err[256];
	int count =
	    aw_dns_parse_response(msg, len, &p->q, addrs, NET_ADDRS_PER_ANSWER,
				  &rcode, err, sizeof(err));
	int fd = aw_kernel_net_fd(n->d->kernel, AW_NETMAP_LLM);

	for (int i = 0; i < count; i++) {
		struct aw_net_key k = {};
		uint32_t v = (uint32_t)p->llm;

		addr16(&addrs[i], k.addr);
		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY) == 0)
			n->llm_addrs++;
	}
}

/* The discovery map holds what the names resolve to now: emptied before
 * each refresh (addresses rotate; indices change with the list). */
static void llm_clear(struct aw_net *n)
{
	int fd = aw_kernel_net_fd(n->d->kernel, AW_NETMAP_LLM);
	struct aw_net_key next;

	while (bpf_map_get_next_key(fd, NULL, &next) == 0)
		if (bpf_map_delete_elem(fd, &next) < 0)
			break;
	n->llm_addrs = 0;
}

static void llm_refresh(struct aw_net *n)
{
	n->llm_next = now_ns() + NET_LLM_REFRESH_NS;
	llm_clear(n);
	if (!n->upstream_len)
		return;
	for (size_t i = 0; i < n->n_llm; i++) {
		llm_query(n, i, AW_DNS_A);
		llm_query(n, i, AW_DNS_AAAA);
	}
}

void aw_net_set_llm_apis(struct aw_daemon *d, char *const *names, size_t count)
{
	struct aw_net *n = d->net;

	if (!n)
		return;
	for (size_t i = 0; i < n->n_llm; i++)
		free(n->llm_names[i]);
	free(n->llm_names);
	n->llm_names = calloc(count ? count : 1, sizeof(char *));
	n->n_llm = 0;
	for (size_t i = 0; n->llm_names && i < count; i++)
		if ((n->llm_names[n->n_llm] = strdup(names[i])))
			n->n_llm++;
	if (d->kernel)
		llm_clear(n);
	n->llm_next = 0; /* resolve them on the next tick */
}

const char *aw_net_llm_name(struct aw_daemon *d, uint32_t idx)
{
	struct aw_net *n = d->net;

	return n && idx < n->n_llm ? n->llm_names[idx] : "?";
}

/* ---- ticks, records ----------------------------------------------------- */

void aw_net_tick(struct aw_daemon *d)
{
	struct aw_net *n = d->net;
	uint64_t t = now_ns();

	if (!n)
		return;
	for (size_t i = 0; i < n->n_pend;) {
		struct dns_pending *p = n->pend[i];

		if (p->deadline > t) {
			i++;
			continue;
		}
		if (p->session) {
			struct net_sess *s = sess_find(n, p->session);
			char rule[200];

			if (s) {
				snprintf(rule, sizeof(rule), "%s/network",
					 s->policy);
				dns_event(n, s, &p->q, "deny", rule,
					  "the upstream resolver did not "
					  "answer",
					  NULL, 0);
			}
			fail_client(n, p, AW_DNS_SERVFAIL);
		}
		pending_drop(n, i);
	}
	for (size_t i = 0; i < n->n_tcp;) {
		if (!n->tcp[i]->busy &&
		    t - n->tcp[i]->last_ns > NET_TCP_IDLE_NS)
			tcp_client_close(n, i);
		else
			i++;
	}
	tcp_clients_resume(n);
	expire(n);
	if (n->n_llm && t >= n->llm_next)
		llm_refresh(n);
}

/* The record of a socket decision (AW_EV_NET) or of a process outside
 * any session reaching an LLM API (AW_EV_DISCOVER). */
int aw_net_record(struct aw_daemon *d, const struct aw_event_net *ev)
{
	struct aw_net *n = d->net;
	struct net_sess *s;
	struct aw_buf x = {};
	char target[80], rule[200];
	const char *name = NULL, *decision, *proto;

	/* A tool's sockets are decided under a key of their own. */
	s = n ? sess_find(n, ev->net_counter
				 ? (ev->proc.session & 0xffffffff00000000ull) |
				       ev->net_counter
				 : ev->proc.session)
	      : NULL;
	proto = ev->proto == IPPROTO_TCP      ? "tcp"
		: ev->proto == IPPROTO_UDP    ? "udp"
		: ev->proto == IPPROTO_ICMP   ? "icmp"
		: ev->proto == IPPROTO_ICMPV6 ? "icmpv6"
		: ev->proto == IPPROTO_RAW    ? "raw"
		: ev->proto == IPPROTO_SCTP   ? "sctp"
					      : "other";
	if (ev->hook == AW_HOOK_SOCKET) {
		snprintf(target, sizeof(target), "%s socket", proto);
	} else if (ev->hook == AW_HOOK_ACCEPT) {
		/* A connection arriving at the session's listener: the
		 * peer, and the port it came to. */
		char a[64];

		addr_text(ev->addr, 0, a, sizeof(a));
		snprintf(target, sizeof(target), "%s to port %u", a, ev->port);
	} else {
		addr_text(ev->addr, ev->port, target, sizeof(target));
	}
	decision = ev->verdict == AW_VERDICT_ALLOW  ? "allow"
		   : ev->verdict == AW_VERDICT_DENY ? "deny"
						    : "audit";
	snprintf(rule, sizeof(rule), "%s/network%s", s ? s->policy : "?",
		 ev->hook == AW_HOOK_SOCKET   ? ".socket"
		 : ev->hook == AW_HOOK_BIND   ? ".bind"
		 : ev->hook == AW_HOOK_ACCEPT ? ".accept"
					      : "");
	if (s && ev->hook != AW_HOOK_SOCKET) {
		for (size_t i = 0; i < s->n_addrs; i++)
			if (!memcmp(s->addrs[i].addr, ev->addr, 16)) {
				name = s->addrs[i].name;
				if (ev->verdict == AW_VERDICT_ALLOW)
					snprintf(rule, sizeof(rule), "%s",
						 s->addrs[i].rule);
			}
		if (!name && ev->verdict == AW_VERDICT_ALLOW)
			for (size_t i = 0; i < s->n_cidrs; i++) {
				const struct aw_net_cidr *c = &s->cidrs[i].c;
				unsigned bits = c->prefix, ok = 1;

				for (unsigned b = 0; b < bits && ok; b++)
					ok = ((ev->addr[b / 8] ^
					       c->addr[b / 8]) &
					      (0x80 >> (b % 8))) == 0;
				if (ok) {
					snprintf(rule, sizeof(rule), "%s",
						 s->cidrs[i].rule);
					break;
				}
			}
	}
	if (ev->hook != AW_HOOK_SOCKET) {
		char a[64];

		addr_text(ev->addr, 0, a, sizeof(a));
		aw_json_key(&x, "address");
		aw_json_cstr(&x, a);
		aw_buf_printf(&x, ",\"port\":%u,", ev->port);
	}
	aw_json_key(&x, "protocol");
	aw_json_cstr(&x, proto);
	aw_buf_puts(&x, ",");
	aw_json_key(&x, "hook");
	aw_json_cstr(&x, ev->hook == AW_HOOK_CONNECT   ? "connect"
			 : ev->hook == AW_HOOK_SENDMSG ? "sendmsg"
			 : ev->hook == AW_HOOK_BIND    ? "bind"
			 : ev->hook == AW_HOOK_ACCEPT  ? "accept"
						       : "socket");
	if (name) {
		aw_buf_puts(&x, ",");
		aw_json_key(&x, "name");
		aw_json_cstr(&x, name);
	}
	/* Denials are never rate-limited away silently: counted. */
	if (s && !sess_may_emit(s, &x)) {
		aw_buf_free(&x);
		return 0;
	}
	aw_buf_add(&x, "", 1);
	aw_events_emit_decision(d, "connect", ev->proc.session, ev->proc.pid,
				target, rule, decision, x.oom ? NULL : x.data);
	aw_buf_free(&x);
	return 0;
}

/* ---- lifecycle ---------------------------------------------------------- */

static int parse_upstream(struct aw_net *n, const char *spec, char *err,
			  size_t errlen)
{
	char host[128];
	const char *port = NULL;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&n->upstream;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&n->upstream;
	uint64_t p = 53;

	if (spec[0] == '[') {
		const char *e = strchr(spec, ']');

		if (!e || (size_t)(e - spec - 1) >= sizeof(host))
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(e - spec - 1),
			 spec + 1);
		if (e[1] == ':')
			port = e + 2;
		else if (e[1])
			goto bad;
	} else {
		const char *c = strchr(spec, ':');

		if (c && strchr(c + 1, ':'))
			c = NULL; /* a bare IPv6 address */
		snprintf(host, sizeof(host), "%.*s",
			 (int)(c ? (size_t)(c - spec) : strlen(spec)), spec);
		if (c)
			port = c + 1;
	}
	if (port && (aw_parse_u64(port, &p) < 0 || !p || p > 65535))
		goto bad;
	memset(&n->upstream, 0, sizeof(n->upstream));
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)p);
		n->upstream_len = sizeof(*a4);
	} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)p);
		n->upstream_len = sizeof(*a6);
	} else {
		goto bad;
	}
	snprintf(n->upstream_text, sizeof(n->upstream_text), "%s", spec);
	return 0;
bad:
	snprintf(err, errlen,
		 "upstream resolver %s: expected ADDR, ADDR:PORT or "
		 "[ADDR6]:PORT",
		 spec);
	return -EINVAL;
}

/* The system's resolver: the first nameserver of /etc/resolv.conf. */
static void upstream_default(struct aw_net *n)
{
	FILE *f = fopen("/etc/resolv.conf", "re");
	char line[256], err[256];

	while (f && fgets(line, sizeof(line), f)) {
		char addr[128];

		if (sscanf(line, " nameserver %127s", addr) == 1 &&
		    parse_upstream(n, addr, err, sizeof(err)) == 0)
			break;
	}
	if (f)
		fclose(f);
}

int aw_net_open(struct aw_daemon *d, int epfd, char *err, size_t errlen)
{
	struct aw_net *n = calloc(1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	n->d = d;
	n->epfd = epfd;
	if (d->opts.dns_upstream[0]) {
		if (parse_upstream(n, d->opts.dns_upstream, err, errlen) < 0) {
			free(n);
			return -EINVAL;
		}
	} else {
		upstream_default(n);
	}
	/* A previous daemon's records (its maps adopted): known, so that
	 * they are pruned in their turn, before this daemon's. */
	if (d->kernel && !aw_kernel_net_error(d->kernel)) {
		int fd = aw_kernel_net_fd(d->kernel, AW_NETMAP_CGROUPS);
		uint64_t key, next, session;
		int more = bpf_map_get_next_key(fd, NULL, &next) == 0;

		while (more) {
			key = next;
			more = bpf_map_get_next_key(fd, &key, &next) == 0;
			if (bpf_map_lookup_elem(fd, &key, &session) == 0 &&
			    cgroup_known(n, key, session) < 0)
				break;
		}
	}
	d->net = n;
	return 0;
}

void aw_net_close(struct aw_daemon *d)
{
	struct aw_net *n = d->net;

	if (!n)
		return;
	while (n->n_sess)
		aw_net_session_end(d, n->sess[0].session);
	while (n->n_pend)
		pending_drop(n, 0);
	for (size_t i = 0; i < n->n_llm; i++)
		free(n->llm_names[i]);
	free(n->llm_names);
	free(n->sess);
	free(n->cgroups);
	free(n->tcp);
	free(n->pend);
	free(n);
	d->net = NULL;
}

void aw_net_status(struct aw_daemon *d, struct aw_buf *b)
{
	struct aw_net *n = d->net;
	const char *e = d->kernel ? aw_kernel_net_error(d->kernel) : "off";

	uint64_t st[AW_STAT_MAX] = {};

	if (d->kernel)
		aw_kernel_stats(d->kernel, st);
	aw_buf_puts(b, "{\"hooks\":");
	aw_json_cstr(b, e ? e : "attached");
	aw_buf_printf(b, ",\"denied\":%llu,\"sockets_stored\":%llu",
		      (unsigned long long)st[AW_STAT_NET_DENIED],
		      (unsigned long long)st[AW_STAT_NET_SOCK_STORED]);
	if (n) {
		size_t other = 0;

		for (size_t i = 0; i < n->n_sess; i++)
			other += n->sess[i].other_netns != 0;
		aw_buf_printf(b, ",\"sessions_other_netns\":%zu", other);
		aw_buf_puts(b, ",\"upstream\":");
		aw_json_cstr(b, n->upstream_len ? n->upstream_text : NULL);
		aw_buf_printf(b,
			      ",\"sessions\":%zu,\"queries\":%llu,"
			      "\"refused\":%llu,\"failed\":%llu,"
			      "\"allow_full\":%llu,\"llm_apis\":%zu,"
			      "\"llm_addrs\":%zu,\"cgroups_known\":%zu,"
			      "\"cgroups_full\":%llu",
			      n->n_sess, (unsigned long long)n->dns_queries,
			      (unsigned long long)n->dns_refused,
			      (unsigned long long)n->dns_failed,
			      (unsigned long long)n->allow_full, n->n_llm,
			      n->llm_addrs, n->n_cgroups,
			      (unsigned long long)n->cgroups_full);
	}
	aw_buf_puts(b, "}");
}

void aw_net_addr_text(const struct aw_event_net *ev, char *buf, size_t len)
{
	addr_text(ev->addr, ev->port, buf, len);
}
