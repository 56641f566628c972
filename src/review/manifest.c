/* SPDX-License-Identifier: GPL-2.0-only */
/* A session store's manifest: see manifest.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "review/manifest.h"
#include "shared/json.h"
#include "shared/util.h"

#define MAGIC "agentwall-session 1"

void aw_manifest_free(struct aw_manifest *m)
{
	free(m->workspace);
	for (size_t i = 0; i < m->n_trees; i++)
		free(m->trees[i].path);
	free(m->trees);
	for (size_t i = 0; i < m->n_escalate; i++)
		free(m->escalate[i]);
	free(m->escalate);
	memset(m, 0, sizeof(*m));
}

static int add_tree(struct aw_manifest *m, unsigned idx, const char *path)
{
	struct aw_manifest_tree *n;

	if (m->n_trees >= AW_MANIFEST_TREES_MAX)
		return -E2BIG;
	n = realloc(m->trees, (m->n_trees + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	m->trees = n;
	n[m->n_trees].idx = idx;
	n[m->n_trees].path = strdup(path);
	if (!n[m->n_trees].path)
		return -ENOMEM;
	m->n_trees++;
	return 0;
}

int aw_manifest_tree(struct aw_manifest *m, const char *path)
{
	unsigned next = 0;
	int r;

	for (size_t i = 0; i < m->n_trees; i++) {
		if (!strcmp(m->trees[i].path, path))
			return (int)m->trees[i].idx;
		if (m->trees[i].idx >= next)
			next = m->trees[i].idx + 1;
	}
	r = add_tree(m, next, path);
	return r < 0 ? r : (int)next;
}

int aw_manifest_escalate(struct aw_manifest *m, const char *path)
{
	char **n;

	for (size_t i = 0; i < m->n_escalate; i++)
		if (!strcmp(m->escalate[i], path))
			return 0;
	n = realloc(m->escalate, (m->n_escalate + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	m->escalate = n;
	n[m->n_escalate] = strdup(path);
	if (!n[m->n_escalate])
		return -ENOMEM;
	m->n_escalate++;
	return 0;
}

int aw_manifest_escalated(const struct aw_manifest *m, const char *p)
{
	for (size_t i = 0; i < m->n_escalate; i++) {
		const char *e = m->escalate[i];
		size_t n = strlen(e);

		if (!strncmp(p, e, n) && (p[n] == 0 || p[n] == '/'))
			return 1;
	}
	return 0;
}

static int decode_path(const char *s, char *out, size_t len)
{
	size_t n;
	int r = aw_pct_decode(s, strlen(s), out, len, &n);

	if (r < 0)
		return r;
	if (out[0] != '/' || strlen(out) != n)
		return -EINVAL; /* relative, or a NUL inside */
	/* Normal form only: no "." or ".." component, no "//", no trailing
	 * slash (commit resolves below these paths, never above). */
	for (const char *c = out; *c; c++) {
		if (*c != '/')
			continue;
		if (c[1] == '/' || (c[1] == 0 && c != out) ||
		    (c[1] == '.' && (c[2] == '/' || c[2] == 0)) ||
		    (c[1] == '.' && c[2] == '.' && (c[3] == '/' || c[3] == 0)))
			return -EINVAL;
	}
	return 0;
}

int aw_manifest_read(const char *dir, struct aw_manifest *m, char *err,
		     size_t errlen)
{
	char p[PATH_MAX + 16], path[PATH_MAX];
	FILE *f;
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	int r = 0;

	memset(m, 0, sizeof(*m));
	snprintf(p, sizeof(p), "%s/" AW_MANIFEST_NAME, dir);
	f = fopen(p, "re");
	if (!f)
		return -errno;
	while (r >= 0 && (n = getline(&line, &cap, f)) > 0) {
		unsigned idx;
		int off = 0;

		lineno++;
		if (line[n - 1] == '\n')
			line[--n] = 0;
		if (lineno == 1) {
			if (strcmp(line, MAGIC))
				r = -EINVAL;
		} else if (!strncmp(line, "workspace ", 10)) {
			r = decode_path(line + 10, path, sizeof(path));
			if (r >= 0) {
				free(m->workspace);
				m->workspace = strdup(path);
				r = m->workspace ? 0 : -ENOMEM;
			}
		} else if (sscanf(line, "tree %u %n", &idx, &off) == 1 &&
			   off > 0) {
			r = decode_path(line + off, path, sizeof(path));
			if (r >= 0)
				r = add_tree(m, idx, path);
		} else if (!strncmp(line, "escalate ", 9)) {
			r = decode_path(line + 9, path, sizeof(path));
			if (r >= 0)
				r = aw_manifest_escalate(m, path);
		} else {
			r = -EINVAL;
		}
		if (r < 0)
			snprintf(err, errlen, "%s:%zu: %s", p, lineno,
				 r == -EINVAL ? "not a manifest record (or a "
						"path not in normal form)"
					      : strerror(-r));
	}
	if (r >= 0 && lineno == 0) {
		snprintf(err, errlen, "%s: empty", p);
		r = -EINVAL;
	}
	free(line);
	fclose(f);
	if (r < 0)
		aw_manifest_free(m);
	return r;
}

int aw_manifest_write(const char *dir, const struct aw_manifest *m)
{
	char p[PATH_MAX + 16], tmp[PATH_MAX + 32];
	struct aw_buf b = {};
	int fd, r = 0;

	aw_buf_puts(&b, MAGIC "\n");
	if (m->workspace) {
		aw_buf_puts(&b, "workspace ");
		aw_pct_encode(&b, m->workspace, strlen(m->workspace));
		aw_buf_puts(&b, "\n");
	}
	for (size_t i = 0; i < m->n_trees; i++) {
		aw_buf_printf(&b, "tree %u ", m->trees[i].idx);
		aw_pct_encode(&b, m->trees[i].path, strlen(m->trees[i].path));
		aw_buf_puts(&b, "\n");
	}
	for (size_t i = 0; i < m->n_escalate; i++) {
		aw_buf_puts(&b, "escalate ");
		aw_pct_encode(&b, m->escalate[i], strlen(m->escalate[i]));
		aw_buf_puts(&b, "\n");
	}
	if (b.oom) {
		aw_buf_free(&b);
		return -ENOMEM;
	}
	snprintf(p, sizeof(p), "%s/" AW_MANIFEST_NAME, dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", p);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	/* (Not synced: it is written before anything is mounted, so a
	 * crash before it reaches the disk loses no change.) */
	if (fd < 0 || write(fd, b.data, b.len) != (ssize_t)b.len ||
	    rename(tmp, p) < 0)
		r = errno ? -errno : -EIO;
	if (fd >= 0)
		close(fd);
	aw_buf_free(&b);
	return r;
}
