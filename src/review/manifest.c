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
	aw_strv_free(m->escalate, m->n_escalate);
	aw_strv_free(m->homes, m->n_homes);
	aw_strv_free(m->state, m->n_state);
	aw_strv_free(m->masks, m->n_masks);
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

/* Add path to a list of paths, once. */
static int list_add(char ***list, size_t *len, const char *path)
{
	char **n;

	for (size_t i = 0; i < *len; i++)
		if (!strcmp((*list)[i], path))
			return 0;
	if (*len >= AW_MANIFEST_PATHS_MAX)
		return -E2BIG;
	n = realloc(*list, (*len + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	*list = n;
	n[*len] = strdup(path);
	if (!n[*len])
		return -ENOMEM;
	(*len)++;
	return 0;
}

int aw_manifest_escalate(struct aw_manifest *m, const char *path)
{
	return list_add(&m->escalate, &m->n_escalate, path);
}

int aw_manifest_home(struct aw_manifest *m, const char *path)
{
	return list_add(&m->homes, &m->n_homes, path);
}

int aw_manifest_state(struct aw_manifest *m, const char *path)
{
	return list_add(&m->state, &m->n_state, path);
}

int aw_manifest_mask(struct aw_manifest *m, const char *path)
{
	return list_add(&m->masks, &m->n_masks, path);
}

int aw_manifest_is_mask(const struct aw_manifest *m, const char *p)
{
	for (size_t i = 0; i < m->n_masks; i++)
		if (!strcmp(m->masks[i], p))
			return 1;
	return 0;
}

static int at_or_under(const char *p, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(p, dir, n) && (p[n] == 0 || p[n] == '/');
}

/* The length of the deepest entry of list at or above p, 0 if none. */
static size_t deepest(char *const *list, size_t n, const char *p)
{
	size_t best = 0;

	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(list[i]);

		if (len > best && at_or_under(p, list[i]))
			best = len;
	}
	return best;
}

/* Held by a named escalation, unless a deeper `state` rule names the
 * path: the deepest rule decides, as for the plan's own operations (a
 * policy holds ~/.codex/skills and takes ~/.codex/skills/.system, the
 * bundled ones the agent itself unpacks, as its state). */
int aw_manifest_listed(const struct aw_manifest *m, const char *p)
{
	size_t e = deepest(m->escalate, m->n_escalate, p);

	return e && e > deepest(m->state, m->n_state, p);
}

int aw_manifest_escalated(const struct aw_manifest *m, const char *p)
{
	if (aw_manifest_listed(m, p))
		return 1;
	/* The workspace is the user's project, wherever it lives: only
	 * its named escalations hold its changes. */
	if (m->workspace && at_or_under(p, m->workspace))
		return 0;
	for (size_t i = 0; i < m->n_homes; i++) {
		size_t n = strlen(m->homes[i]);

		if (strcmp(m->homes[i], "/") && at_or_under(p, m->homes[i]) &&
		    p[n] == '/' && p[n + 1] == '.') {
			for (size_t j = 0; j < m->n_state; j++)
				if (at_or_under(p, m->state[j]))
					return 0;
			return 1;
		}
	}
	return 0;
}

int aw_manifest_is_state(const struct aw_manifest *m, const char *p)
{
	if (aw_manifest_listed(m, p))
		return 0;
	for (size_t j = 0; j < m->n_state; j++)
		if (at_or_under(p, m->state[j]))
			return 1;
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
		} else if (!strncmp(line, "home ", 5)) {
			r = decode_path(line + 5, path, sizeof(path));
			if (r >= 0)
				r = aw_manifest_home(m, path);
		} else if (!strncmp(line, "state ", 6)) {
			r = decode_path(line + 6, path, sizeof(path));
			if (r >= 0)
				r = aw_manifest_state(m, path);
		} else if (!strncmp(line, "mask ", 5)) {
			r = decode_path(line + 5, path, sizeof(path));
			if (r >= 0)
				r = aw_manifest_mask(m, path);
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
	for (size_t i = 0; i < m->n_homes; i++) {
		aw_buf_puts(&b, "home ");
		aw_pct_encode(&b, m->homes[i], strlen(m->homes[i]));
		aw_buf_puts(&b, "\n");
	}
	for (size_t i = 0; i < m->n_state; i++) {
		aw_buf_puts(&b, "state ");
		aw_pct_encode(&b, m->state[i], strlen(m->state[i]));
		aw_buf_puts(&b, "\n");
	}
	for (size_t i = 0; i < m->n_masks; i++) {
		aw_buf_puts(&b, "mask ");
		aw_pct_encode(&b, m->masks[i], strlen(m->masks[i]));
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
