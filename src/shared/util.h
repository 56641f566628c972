/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef AW_UTIL_H
#define AW_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define AW_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void aw_freep(void *p)
{
	free(*(void **)p);
}
static inline void aw_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define _cleanup_free_ __attribute__((cleanup(aw_freep)))
#define _cleanup_close_ __attribute__((cleanup(aw_closep)))

/* Hand a cleanup-owned pointer to the caller. */
#define AW_TAKE_PTR(p)                                                         \
	({                                                                     \
		__typeof__(p) _p = (p);                                        \
		(p) = NULL;                                                    \
		_p;                                                            \
	})

/* Strict number parsing: whole string, no sign surprises, range checked. */
int aw_parse_u64(const char *s, uint64_t *ret);

/* FNV-1a 64 over one path component, last byte first (see the ABI). */
uint64_t aw_name_hash(const char *name, size_t len);

/* CLOCK_REALTIME and CLOCK_BOOTTIME in ns. */
uint64_t aw_now_realtime_ns(void);
uint64_t aw_now_boottime_ns(void);
/* Is the environment entry one of the dynamic loader's or the C library's
 * loading variables (LD_*, GCONV_PATH, GLIBC_TUNABLES, ...), its first
 * byte read without the high bit? The daemon hides them from a forced
 * agent's launcher by setting that bit (force.c); init clears it for the
 * command (launch.c). */
int aw_loader_var(const char *entry);
/* The calling thread as background work (SCHED_BATCH). */
void aw_thread_background(void);

/* Format ns since epoch as RFC 3339 UTC with microseconds. */
void aw_format_time(uint64_t realtime_ns, char *buf, size_t len);

/* Write s to an existing file (a /proc or cgroup control file): the
 * whole string in one write, or -errno (-EIO for a short write). */
int aw_write_file(const char *path, const char *s);

struct aw_buf;
/* %XX encoding of bytes that would break a control-socket line (space,
 * '=', '%', control characters, non-ASCII). */
void aw_pct_encode(struct aw_buf *b, const char *s, size_t n);
/* Decode n bytes into out (NUL-ended). -EINVAL on a bad escape or a byte
 * that should have been escaped, -ENAMETOOLONG if out is too small. */
/* Free n strings and the array that holds them (NULL: nothing). */
void aw_strv_free(char **v, size_t n);
/* A copy of str appended to v (n entries). 0 or -ENOMEM. */
int aw_strv_add(char ***v, size_t *n, const char *str);
/* The value of a hexadecimal digit (either case), or -1. */
int aw_hexval(int c);
/* n bytes as 2n lowercase hex digits and a NUL (out: 2n + 1). */
void aw_hex(const void *b, size_t n, char *out);
/* Exactly 2n hex digits (either case) into n bytes: 0, or -EINVAL
 * (out untouched). */
int aw_unhex(const char *hex, size_t n, void *out);
int aw_pct_decode(const char *s, size_t n, char *out, size_t outlen,
		  size_t *ret_len);
/* The value of key=VALUE among the space-separated words of line,
 * decoded; -ENOENT if absent. */
int aw_kv_get(const char *line, const char *key, char *out, size_t outlen);

#endif
