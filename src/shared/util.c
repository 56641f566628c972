// SPDX-License-Identifier: GPL-2.0-only
/*
 * Small helpers shared by the daemon, the CLI and the tests: strict number
 * parsing, the name hash the kernel side also computes, clocks and time
 * formatting.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agentwall_abi.h"
#include "shared/json.h"
#include "shared/util.h"

int aw_parse_u64(const char *s, uint64_t *ret)
{
	uint64_t v = 0;
	const char *p;

	/* strtoull() accepts leading blanks, a sign (and negates "-1" into a
	 * huge value) and stops silently at junk: none of that is wanted for
	 * limits and ids typed by an administrator. */
	if (!s || !*s)
		return -EINVAL;
	for (p = s; *p; p++) {
		unsigned d;

		if (*p < '0' || *p > '9')
			return -EINVAL;
		d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10) {
			/* Keep scanning: junk after an overflow is still junk,
			 * and EINVAL is the more useful answer for it. */
			for (p++; *p; p++)
				if (*p < '0' || *p > '9')
					return -EINVAL;
			return -ERANGE;
		}
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

uint64_t aw_name_hash(const char *name, size_t len)
{
	const unsigned char *p = (const unsigned char *)name;
	uint64_t h = AW_FNV_OFFSET;

	/* Last byte first: the BPF side walks the name backwards from its end
	 * and must get the same value. */
	while (len > 0) {
		len--;
		h ^= p[len];
		h *= AW_FNV_PRIME;
	}
	/* 0 is AW_DFA_OTHER, the "any other name" transition. */
	return h ? h : 1;
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	if (clock_gettime(clk, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t aw_now_realtime_ns(void)
{
	return now_ns(CLOCK_REALTIME);
}

uint64_t aw_now_boottime_ns(void)
{
	/* BOOTTIME, not MONOTONIC: the kernel stamps records with
	 * bpf_ktime_get_boot_ns(), which keeps counting during suspend. */
	return now_ns(CLOCK_BOOTTIME);
}

int aw_loader_var(const char *entry)
{
	static const char *const vars[] = {
	    "LD_",	"GCONV_PATH=", "GLIBC_TUNABLES=", "MALLOC_TRACE=",
	    "LOCPATH=", "NLSPATH=",    "HOSTALIASES=",	  "RESOLV_HOST_CONF=",
	};

	if (!entry[0])
		return 0;
	for (size_t i = 0; i < AW_ARRAY_SIZE(vars); i++)
		if ((entry[0] & 0x7f) == vars[i][0] &&
		    !strncmp(entry + 1, vars[i] + 1, strlen(vars[i]) - 1))
			return 1;
	return 0;
}

void aw_thread_background(void)
{
	struct sched_param sp = {0};

	/* A batch thread takes its fair share, but its wakeup does not
	 * preempt the thread running on that CPU: work woken by a session's
	 * start (the next store, the event writer) waits its turn instead of
	 * delaying the reply the launcher waits for. */
	pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
}

void aw_format_time(uint64_t realtime_ns, char *buf, size_t len)
{
	time_t secs = (time_t)(realtime_ns / 1000000000ull);
	unsigned usec = (unsigned)(realtime_ns % 1000000000ull / 1000);
	struct tm tm;

	if (!buf || !len)
		return;
	if (!gmtime_r(&secs, &tm)) {
		snprintf(buf, len, "1970-01-01T00:00:00.000000Z");
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, usec);
}

/* Control-socket requests and replies are lines of space-separated
 * key=value words: any byte that could break that (space, '=', '%',
 * control characters, non-ASCII) travels as %XX. */
static int pct_plain(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '%' && c != '=';
}

void aw_pct_encode(struct aw_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[3] = {'%', hex[c >> 4], hex[c & 15]};

		if (pct_plain(c))
			aw_buf_add(b, (const char *)&c, 1);
		else
			aw_buf_add(b, e, 3);
	}
}

void aw_strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

int aw_strv_add(char ***v, size_t *n, const char *str)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	if (!(nv[*n] = strdup(str)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

int aw_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

void aw_hex(const void *b, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	const uint8_t *p = b;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = 0;
}

int aw_unhex(const char *hex, size_t n, void *out)
{
	uint8_t *o = out;

	if (!hex || strlen(hex) != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (aw_hexval(hex[2 * i]) < 0 || aw_hexval(hex[2 * i + 1]) < 0)
			return -EINVAL;
	for (size_t i = 0; i < n; i++)
		o[i] = (uint8_t)(aw_hexval(hex[2 * i]) << 4 |
				 aw_hexval(hex[2 * i + 1]));
	return 0;
}

int aw_pct_decode(const char *s, size_t n, char *out, size_t outlen,
		  size_t *ret_len)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -EINVAL;
			hi = aw_hexval(s[i + 1]);
			lo = aw_hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (!pct_plain((unsigned char)c)) {
			return -EINVAL;
		}
		if (o + 1 >= outlen)
			return -ENAMETOOLONG;
		out[o++] = c;
	}
	out[o] = 0;
	if (ret_len)
		*ret_len = o;
	return 0;
}

int aw_kv_get(const char *line, const char *key, char *out, size_t outlen)
{
	size_t kl = strlen(key);
	const char *p = line;

	while (*p) {
		const char *end = strchr(p, ' ');
		size_t wl = end ? (size_t)(end - p) : strlen(p);

		if (wl > kl && !strncmp(p, key, kl) && p[kl] == '=')
			return aw_pct_decode(p + kl + 1, wl - kl - 1, out,
					     outlen, NULL);
		if (!end)
			break;
		p = end + 1;
	}
	return -ENOENT;
}

int aw_write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(s);
	ssize_t n;
	int e;

	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	e = errno;
	close(fd);
	if (n < 0)
		return -e;
	return (size_t)n == len ? 0 : -EIO;
}
