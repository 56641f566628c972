// SPDX-License-Identifier: GPL-2.0-only
/*
 * agentwalld's options: the command line and the configuration file that
 * holds the same settings for a daemon started by a service manager.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "aw_revision.h"
#include "daemon/metrics.h"
#include "daemon/options.h"
#include "daemon/outputs.h"
#include "shared/util.h"

/* A configuration line longer than this is refused, not cut. */
#define AW_CONF_LINE_MAX 4096

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: agentwalld [OPTIONS]\n"
	    "Discover AI agents at exec, attribute their processes to "
	    "sessions, record events.\n\n"
	    "  --scope cgroup:PATH|host  processes that may be classified "
	    "(default: host)\n"
	    "  --mode audit|enforce      (default: audit)\n"
	    "  --state-dir DIR           store and control socket in DIR\n"
	    "                            (default: %s/%s and %s/%s)\n"
	    "  --bpffs-dir DIR           pins (default: %s)\n"
	    "  --signatures DIR          signature database (default: "
	    "embedded + %s)\n"
	    "  --export FILE             append JSON lines to FILE\n"
	    "  --export-format native|ocsf  the export's lines: our schema "
	    "(default)\n"
	    "                            or OCSF 1.8 (written by the outputs "
	    "thread)\n"
	    "  --webhook URL             POST events as JSON lines to "
	    "http://HOST[:PORT]/PATH\n"
	    "                            (batched, retried with backoff; "
	    "never waited for)\n"
	    "  --webhook-format ocsf|native  (default: ocsf)\n"
	    "  --webhook-batch N         events per POST at most (default: "
	    "500)\n"
	    "  --syslog unix:PATH|udp:HOST:PORT  send each event as an RFC "
	    "5424 message\n"
	    "  --syslog-format ocsf|native   (default: ocsf)\n"
	    "  --output-queue N          events waiting for the webhook at "
	    "most (default:\n"
	    "                            10000; past it they are dropped and "
	    "counted)\n"
	    "  --group NAME              group allowed on the control "
	    "socket (default: root only)\n"
	    "  --max-events N            store retention by count "
	    "(default: 5000000)\n"
	    "  --max-age-days N          store retention by age (default: "
	    "90)\n"
	    "  --ring-mib N              kernel ring buffer, MiB, power of "
	    "two (default: 4)\n"
	    "  --policies DIR            policy set (default: embedded + "
	    "%s)\n"
	    "  --launcher PATH           the agentwall binary forced agents "
	    "are\n"
	    "                            re-executed through (default: "
	    "beside agentwalld)\n"
	    "  --session-quota SIZE      each session's copy-on-write store "
	    "(default: 4G;\n"
	    "                            K, M, G suffixes; at least 16M)\n"
	    "  --sessions-max N          session stores kept at once "
	    "(default: 64; 0: no cap)\n"
	    "  --inventory-interval S    rescan installed agents and their "
	    "MCP servers\n"
	    "                            every S seconds, and on changes "
	    "(default: 300\n"
	    "                            with --scope host, else 0: no "
	    "inventory)\n"
	    "  --dns-upstream ADDR[:PORT] where sessions' resolvers forward "
	    "(default:\n"
	    "                            the first nameserver of "
	    "/etc/resolv.conf)\n"
	    "  --metrics ADDR:PORT       serve OpenMetrics at "
	    "http://ADDR:PORT/metrics\n"
	    "                            (loopback only, e.g. 127.0.0.1:9464)\n"
	    "  --metrics-allow-remote    let --metrics bind an address that is "
	    "not\n"
	    "                            loopback (no authentication: see "
	    "agentwalld(8))\n"
	    "  --json                    print events as JSON lines\n"
	    "  --quiet                   print nothing per event\n"
	    "  --config FILE             settings file (default: %s;\n"
	    "                            a missing default file is fine); "
	    "options given\n"
	    "                            here override it\n"
	    "  -V, --version\n"
	    "  -h, --help\n",
	    AW_DEFAULT_STATE_DIR, AW_STORE_NAME, AW_DEFAULT_RUN_DIR,
	    AW_SOCKET_NAME, AW_DEFAULT_BPFFS_DIR, AW_DEFAULT_EXTRA_SIGS,
	    AW_DEFAULT_EXTRA_POLICIES, AW_DEFAULT_CONF);
}

static void version(void)
{
	printf("agentwalld %s (git %s)\n"
	       "libbpf %u.%u; kernel side CO-RE (BTF), backend chosen at "
	       "start from what the kernel\n"
	       "allows: portable (tracepoints, cgroup socket hooks, "
	       "namespaces, Landlock,\n"
	       "seccomp user notification, fanotify); `agentwall status` "
	       "names the one in use\n"
	       "configuration %s, state %s, runtime %s\n",
	       AW_VERSION, AW_REVISION, libbpf_major_version(),
	       libbpf_minor_version(), AW_DEFAULT_CONF, AW_DEFAULT_STATE_DIR,
	       AW_DEFAULT_RUN_DIR);
}

void aw_opts_default_launcher(struct aw_opts *o)
{
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (o->launcher[0])
		return;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		snprintf(o->launcher, sizeof(o->launcher), "%s",
			 AW_DEFAULT_LAUNCHER);
		return;
	}
	self[n] = 0;
	slash = strrchr(self, '/');
	*slash = 0;
	snprintf(o->launcher, sizeof(o->launcher), "%s/agentwall", self);
}

enum {
	OPT_SCOPE = 256,
	OPT_MODE,
	OPT_STATE,
	OPT_BPFFS,
	OPT_SIGS,
	OPT_EXPORT,
	OPT_EXPORT_FORMAT,
	OPT_WEBHOOK,
	OPT_WEBHOOK_FORMAT,
	OPT_WEBHOOK_BATCH,
	OPT_SYSLOG,
	OPT_SYSLOG_FORMAT,
	OPT_OUTPUT_QUEUE,
	OPT_GROUP,
	OPT_MAXEV,
	OPT_MAXAGE,
	OPT_JSON,
	OPT_RING,
	OPT_QUIET,
	OPT_POLICIES,
	OPT_LAUNCHER,
	OPT_QUOTA,
	OPT_SESSIONS_MAX,
	OPT_INVENTORY,
	OPT_DNS_UPSTREAM,
	OPT_METRICS,
	OPT_METRICS_REMOTE,
	OPT_CONFIG,
};

/* The settings, in --help's order; the file's keys are these names. */
static const struct option longopts[] = {
    {"scope", required_argument, NULL, OPT_SCOPE},
    {"mode", required_argument, NULL, OPT_MODE},
    {"state-dir", required_argument, NULL, OPT_STATE},
    {"bpffs-dir", required_argument, NULL, OPT_BPFFS},
    {"signatures", required_argument, NULL, OPT_SIGS},
    {"export", required_argument, NULL, OPT_EXPORT},
    {"export-format", required_argument, NULL, OPT_EXPORT_FORMAT},
    {"webhook", required_argument, NULL, OPT_WEBHOOK},
    {"webhook-format", required_argument, NULL, OPT_WEBHOOK_FORMAT},
    {"webhook-batch", required_argument, NULL, OPT_WEBHOOK_BATCH},
    {"syslog", required_argument, NULL, OPT_SYSLOG},
    {"syslog-format", required_argument, NULL, OPT_SYSLOG_FORMAT},
    {"output-queue", required_argument, NULL, OPT_OUTPUT_QUEUE},
    {"group", required_argument, NULL, OPT_GROUP},
    {"max-events", required_argument, NULL, OPT_MAXEV},
    {"max-age-days", required_argument, NULL, OPT_MAXAGE},
    {"json", no_argument, NULL, OPT_JSON},
    {"ring-mib", required_argument, NULL, OPT_RING},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"policies", required_argument, NULL, OPT_POLICIES},
    {"launcher", required_argument, NULL, OPT_LAUNCHER},
    {"session-quota", required_argument, NULL, OPT_QUOTA},
    {"sessions-max", required_argument, NULL, OPT_SESSIONS_MAX},
    {"inventory-interval", required_argument, NULL, OPT_INVENTORY},
    {"dns-upstream", required_argument, NULL, OPT_DNS_UPSTREAM},
    {"metrics", required_argument, NULL, OPT_METRICS},
    {"metrics-allow-remote", no_argument, NULL, OPT_METRICS_REMOTE},
    /* Not settings: the command line only. */
    {"config", required_argument, NULL, OPT_CONFIG},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {}};

static void opts_defaults(struct aw_opts *o)
{
	o->scope_kind = AW_SCOPE_HOST;
	o->mode = AW_MODE_AUDIT;
	o->ctl_gid = (gid_t)-1;
	o->ring_mib = 4;
	o->session_quota = AW_DEFAULT_SESSION_QUOTA;
	o->sessions_max = AW_DEFAULT_SESSIONS_MAX;
	o->inventory_interval = AW_INVENTORY_UNSET;
	o->limits.max_events = 5000000;
	o->limits.max_age_s = 90ull * 86400;
	snprintf(o->store_path, sizeof(o->store_path), "%s/%s",
		 AW_DEFAULT_STATE_DIR, AW_STORE_NAME);
	snprintf(o->socket_path, sizeof(o->socket_path), "%s/%s",
		 AW_DEFAULT_RUN_DIR, AW_SOCKET_NAME);
	snprintf(o->bpffs_dir, sizeof(o->bpffs_dir), "%s",
		 AW_DEFAULT_BPFFS_DIR);
}

/* Apply one setting. name is how the user spelled it ("--mode" on the
 * command line, "mode" in the file), for the message in err. */
static int opt_apply(struct aw_opts *o, int c, const char *name,
		     const char *arg, char *err, size_t errlen)
{
	uint64_t v;

	switch (c) {
	case OPT_POLICIES:
		snprintf(o->policy_dir, sizeof(o->policy_dir), "%s", arg);
		break;
	case OPT_LAUNCHER:
		if (arg[0] != '/') {
			snprintf(err, errlen, "%s %s: must be an absolute path",
				 name, arg);
			return -EINVAL;
		}
		snprintf(o->launcher, sizeof(o->launcher), "%s", arg);
		break;
	case OPT_SCOPE:
		if (!strcmp(arg, "host")) {
			o->scope_kind = AW_SCOPE_HOST;
		} else if (!strncmp(arg, "cgroup:", 7) && arg[7] == '/') {
			o->scope_kind = AW_SCOPE_CGROUP;
			snprintf(o->scope_path, sizeof(o->scope_path), "%s",
				 arg + 7);
		} else {
			snprintf(err, errlen,
				 "%s %s: expected host or cgroup:/PATH", name,
				 arg);
			return -EINVAL;
		}
		break;
	case OPT_MODE:
		if (!strcmp(arg, "audit"))
			o->mode = AW_MODE_AUDIT;
		else if (!strcmp(arg, "enforce"))
			o->mode = AW_MODE_ENFORCE;
		else {
			snprintf(err, errlen,
				 "%s %s: expected audit or enforce", name, arg);
			return -EINVAL;
		}
		break;
	case OPT_STATE:
		if (arg[0] != '/') {
			snprintf(err, errlen, "%s must be absolute", name);
			return -EINVAL;
		}
		snprintf(o->store_path, sizeof(o->store_path), "%s/%s", arg,
			 AW_STORE_NAME);
		snprintf(o->socket_path, sizeof(o->socket_path), "%s/%s", arg,
			 AW_SOCKET_NAME);
		break;
	case OPT_BPFFS:
		if (arg[0] != '/') {
			snprintf(err, errlen, "%s must be absolute", name);
			return -EINVAL;
		}
		snprintf(o->bpffs_dir, sizeof(o->bpffs_dir), "%s", arg);
		break;
	case OPT_SIGS:
		snprintf(o->sig_dir, sizeof(o->sig_dir), "%s", arg);
		break;
	case OPT_EXPORT:
		snprintf(o->export_path, sizeof(o->export_path), "%s", arg);
		break;
	case OPT_EXPORT_FORMAT:
	case OPT_WEBHOOK_FORMAT:
	case OPT_SYSLOG_FORMAT: {
		int native;

		if (!strcmp(arg, "native"))
			native = 1;
		else if (!strcmp(arg, "ocsf"))
			native = 0;
		else {
			snprintf(err, errlen, "%s %s: expected native or ocsf",
				 name, arg);
			return -EINVAL;
		}
		if (c == OPT_EXPORT_FORMAT)
			o->export_ocsf = !native;
		else if (c == OPT_WEBHOOK_FORMAT)
			o->webhook_native = native;
		else
			o->syslog_native = native;
		break;
	}
	case OPT_WEBHOOK:
		if (strlen(arg) >= sizeof(o->webhook_url) ||
		    aw_outputs_check_url(arg, err, errlen) < 0) {
			if (strlen(arg) >= sizeof(o->webhook_url))
				snprintf(err, errlen, "%s: too long", name);
			return -EINVAL;
		}
		snprintf(o->webhook_url, sizeof(o->webhook_url), "%s", arg);
		break;
	case OPT_SYSLOG:
		if (strlen(arg) >= sizeof(o->syslog_to) ||
		    aw_outputs_check_syslog(arg, err, errlen) < 0) {
			if (strlen(arg) >= sizeof(o->syslog_to))
				snprintf(err, errlen, "%s: too long", name);
			return -EINVAL;
		}
		snprintf(o->syslog_to, sizeof(o->syslog_to), "%s", arg);
		break;
	case OPT_WEBHOOK_BATCH:
	case OPT_OUTPUT_QUEUE:
		if (aw_parse_u64(arg, &v) < 0 || v == 0 || v > 1000000) {
			snprintf(err, errlen,
				 "%s %s: expected a number from 1 to 1000000",
				 name, arg);
			return -EINVAL;
		}
		if (c == OPT_WEBHOOK_BATCH)
			o->webhook_batch = v;
		else
			o->output_queue = v;
		break;
	case OPT_GROUP: {
		struct group *g = getgrnam(arg);

		if (!g) {
			snprintf(err, errlen, "%s %s: no such group", name,
				 arg);
			return -EINVAL;
		}
		o->ctl_gid = g->gr_gid;
		snprintf(o->group, sizeof(o->group), "%s", arg);
		break;
	}
	case OPT_MAXEV:
	case OPT_MAXAGE:
		if (aw_parse_u64(arg, &v) < 0) {
			snprintf(err, errlen, "%s: not a number: %s", name,
				 arg);
			return -EINVAL;
		}
		if (c == OPT_MAXEV)
			o->limits.max_events = v;
		else
			o->limits.max_age_s = v * 86400;
		break;
	case OPT_RING:
		if (aw_parse_u64(arg, &v) < 0 || v == 0 || v > 1024 ||
		    (v & (v - 1))) {
			snprintf(err, errlen,
				 "%s %s: expected a power of two from 1 to "
				 "1024",
				 name, arg);
			return -EINVAL;
		}
		o->ring_mib = v;
		break;
	case OPT_QUOTA: {
		char *end;
		unsigned long long q = strtoull(arg, &end, 10);
		int shift = !strcmp(end, "K") || !strcmp(end, "k")   ? 10
			    : !strcmp(end, "M") || !strcmp(end, "m") ? 20
			    : !strcmp(end, "G") || !strcmp(end, "g") ? 30
			    : !strcmp(end, "T") || !strcmp(end, "t") ? 40
			    : *end				     ? -1
								     : 0;

		if (end == arg || arg[0] == '-' || shift < 0 ||
		    q > (1ull << 50) >> shift || (q << shift) < (16ull << 20)) {
			snprintf(err, errlen,
				 "%s %s: expected a size from 16M to 1P "
				 "(suffix K, M, G or T)",
				 name, arg);
			return -EINVAL;
		}
		o->session_quota = q << shift;
		break;
	}
	case OPT_DNS_UPSTREAM:
		if (strlen(arg) >= sizeof(o->dns_upstream)) {
			snprintf(err, errlen, "%s: too long", name);
			return -EINVAL;
		}
		snprintf(o->dns_upstream, sizeof(o->dns_upstream), "%s", arg);
		break;
	case OPT_METRICS:
		/* The address is checked (syntax, loopback) once every
		 * setting is read: metrics-allow-remote may come after. */
		if (strlen(arg) >= sizeof(o->metrics_listen)) {
			snprintf(err, errlen, "%s: too long", name);
			return -EINVAL;
		}
		snprintf(o->metrics_listen, sizeof(o->metrics_listen), "%s",
			 arg);
		break;
	case OPT_METRICS_REMOTE:
		o->metrics_remote = !arg || strcmp(arg, "false");
		break;
	case OPT_SESSIONS_MAX:
		if (aw_parse_u64(arg, &v) < 0 || v > 100000) {
			snprintf(err, errlen,
				 "%s %s: expected a number up to 100000", name,
				 arg);
			return -EINVAL;
		}
		o->sessions_max = (unsigned)v;
		break;
	case OPT_INVENTORY:
		if (aw_parse_u64(arg, &v) < 0 || v > 86400) {
			snprintf(err, errlen,
				 "%s %s: expected seconds up to 86400 (0: off)",
				 name, arg);
			return -EINVAL;
		}
		o->inventory_interval = (unsigned)v;
		break;
	case OPT_JSON:
		o->json_stdout = !arg || strcmp(arg, "false");
		break;
	case OPT_QUIET:
		o->quiet = !arg || strcmp(arg, "false");
		break;
	default:
		snprintf(err, errlen, "%s: not a setting", name);
		return -EINVAL;
	}
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
			 e[-1] == '\r'))
		*--e = 0;
	return s;
}

/* One "key = value" line (comments and blank lines already skipped). */
static int conf_line(struct aw_opts *o, char *line, char *err, size_t errlen)
{
	char *eq = strchr(line, '=');
	char *key, *val;
	size_t n;

	if (!eq) {
		snprintf(err, errlen, "expected key = value");
		return -EINVAL;
	}
	*eq = 0;
	key = trim(line);
	val = trim(eq + 1);
	n = strlen(val);
	/* A value may be quoted to keep spaces at its ends. */
	if (n >= 2 && val[0] == '"' && val[n - 1] == '"') {
		val[n - 1] = 0;
		val++;
	}
	for (const struct option *lo = longopts; lo->name; lo++) {
		if (strcmp(lo->name, key))
			continue;
		if (lo->val == OPT_CONFIG || lo->val == 'h' || lo->val == 'V')
			break;
		if (lo->has_arg == no_argument) {
			if (!strcmp(val, "true") || !strcmp(val, "yes"))
				return opt_apply(o, lo->val, key, NULL, err,
						 errlen);
			if (!strcmp(val, "false") || !strcmp(val, "no"))
				return opt_apply(o, lo->val, key, "false", err,
						 errlen);
			snprintf(err, errlen,
				 "%s = %s: expected true, false, yes or no",
				 key, val);
			return -EINVAL;
		}
		if (!val[0]) {
			snprintf(err, errlen, "%s: no value", key);
			return -EINVAL;
		}
		return opt_apply(o, lo->val, key, val, err, errlen);
	}
	snprintf(err, errlen,
		 "unknown key \"%s\" (the keys are agentwalld's long options: "
		 "agentwalld --help)",
		 key);
	return -EINVAL;
}

/* Read the configuration file. A missing file is no configuration unless
 * it was named (--config). Like a policy, a file anyone but its owner
 * (root or us) can write is refused. */
static int conf_read(struct aw_opts *o, const char *path, bool named)
{
	char line[AW_CONF_LINE_MAX + 2], err[PATH_MAX + 256];
	unsigned lineno = 0;
	struct stat st;
	FILE *f;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT && !named)
			return 0;
		fprintf(stderr, "agentwalld: %s: %s\n", path, strerror(errno));
		return -EINVAL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "agentwalld: %s: not a regular file\n", path);
		close(fd);
		return -EINVAL;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		fprintf(stderr,
			"agentwalld: %s: writable by others (mode %04o): "
			"refusing\n",
			path, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -EINVAL;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		fprintf(stderr,
			"agentwalld: %s: owned by uid %u, not root or uid "
			"%u: refusing\n",
			path, (unsigned)st.st_uid, (unsigned)geteuid());
		close(fd);
		return -EINVAL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		char *s;

		lineno++;
		if (n > AW_CONF_LINE_MAX && line[n - 1] != '\n') {
			fprintf(stderr, "agentwalld: %s:%u: line too long\n",
				path, lineno);
			fclose(f);
			return -EINVAL;
		}
		s = trim(line);
		if (!s[0] || s[0] == '#')
			continue;
		if (conf_line(o, s, err, sizeof(err)) < 0) {
			fprintf(stderr, "agentwalld: %s:%u: %s\n", path, lineno,
				err);
			fclose(f);
			return -EINVAL;
		}
	}
	fclose(f);
	return 0;
}

int aw_opts_parse(int argc, char **argv, struct aw_opts *o)
{
	const char *conf = AW_DEFAULT_CONF;
	bool named = false;
	char err[PATH_MAX + 256];
	int c;

	opts_defaults(o);
	/* First the options about options: where the file is, help and
	 * version (which work whatever the file says). */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		if (c == OPT_CONFIG) {
			conf = optarg;
			named = true;
		} else if (c == 'h') {
			usage(stdout);
			exit(0);
		} else if (c == 'V') {
			version();
			exit(0);
		}
	}
	if (conf_read(o, conf, named) < 0)
		return -EINVAL;

	opterr = 1;
	optind = 0;
	while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		const char *name = "?";
		char flag[64];

		if (c == OPT_CONFIG)
			continue;
		if (c == '?' || c == ':' || c == 'h' || c == 'V') {
			usage(stderr);
			return -EINVAL;
		}
		for (const struct option *lo = longopts; lo->name; lo++)
			if (lo->val == c)
				name = lo->name;
		snprintf(flag, sizeof(flag), "--%s", name);
		if (opt_apply(o, c, flag, optarg, err, sizeof(err)) < 0) {
			fprintf(stderr, "agentwalld: %s\n", err);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "agentwalld: unexpected argument %s\n",
			argv[optind]);
		return -EINVAL;
	}
	/* The inventory is of the whole host: on by default for a host
	 * daemon, off for one scoped to a cgroup (a test's, a trial's)
	 * unless asked for. */
	if (o->inventory_interval == AW_INVENTORY_UNSET)
		o->inventory_interval = o->scope_kind == AW_SCOPE_HOST
					    ? AW_DEFAULT_INVENTORY_INTERVAL
					    : 0;
	if (o->metrics_listen[0]) {
		struct sockaddr_storage ss;
		socklen_t sl;

		if (aw_metrics_parse_listen(o->metrics_listen,
					    o->metrics_remote, &ss, &sl, err,
					    sizeof(err)) < 0) {
			fprintf(stderr, "agentwalld: --metrics %s\n", err);
			return -EINVAL;
		}
	}
	/* A format for no file would be a setting that does nothing. */
	if (o->export_ocsf && !o->export_path[0]) {
		fprintf(stderr,
			"agentwalld: export-format ocsf: no export file "
			"(--export FILE)\n");
		return -EINVAL;
	}
	return 0;
}
