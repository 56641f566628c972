// SPDX-License-Identifier: GPL-2.0-only
/*
 * The daemon's signature database: loading and reloading it (embedded
 * files, the site's directory, the installed launchers found on disk),
 * publishing it to the kernel's maps, the stable signature numbers kept
 * in task storage, the files learned by identity (a hard link or rename
 * of a classified executable), and the sizes of the binaries named by
 * content. Called by main (start), control (reload), the decoder and the
 * forcing thread (learning); it calls nothing above it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "daemon/daemon.h"
#include "shared/embedded.h"
#include "shared/util.h"

/* The number -> id table lives in a pinned map too, so that a daemon
 * adopting the pins reads the numbers stored in task storage right. */
static void sig_id_publish(struct aw_daemon *d, uint32_t n, const char *id)
{
	struct aw_sig_id v = {};

	snprintf(v.id, sizeof(v.id), "%s", id);
	bpf_map_update_elem(aw_kernel_sig_ids_fd(d->kernel), &n, &v, BPF_ANY);
}

void aw_sigdb_adopt_ids(struct aw_daemon *d)
{
	int fd = aw_kernel_sig_ids_fd(d->kernel);

	for (uint32_t n = 1; n < AW_SIGS_MAX; n++) {
		struct aw_sig_id v;
		struct aw_sigref *ns;

		if (bpf_map_lookup_elem(fd, &n, &v) || !v.id[0])
			continue;
		v.id[sizeof(v.id) - 1] = 0;
		if (n >= d->n_sigs) {
			ns = realloc(d->sigs, (n + 1) * sizeof(*ns));
			if (!ns)
				return;
			memset(ns + d->n_sigs, 0,
			       (n + 1 - d->n_sigs) * sizeof(*ns));
			d->sigs = ns;
			d->n_sigs = n + 1;
		}
		aw_procinfo_set_str(&d->sigs[n].id, v.id);
	}
}

/* Stable numbers for signature ids (see daemon.h). */
uint32_t aw_sigdb_number(struct aw_daemon *d, const struct aw_signature *s)
{
	for (size_t i = 1; i < d->n_sigs; i++) {
		if (d->sigs[i].id && !strcmp(d->sigs[i].id, s->id)) {
			aw_procinfo_set_str(&d->sigs[i].vendor, s->vendor);
			aw_procinfo_set_str(&d->sigs[i].product, s->product);
			aw_procinfo_set_str(&d->sigs[i].class, s->class);
			aw_procinfo_set_str(&d->sigs[i].package, s->package);
			return i;
		}
	}
	{
		size_t n = d->n_sigs ? d->n_sigs : 1;
		struct aw_sigref *ns;

		if (n >= AW_SIGS_MAX)
			return 0;
		ns = realloc(d->sigs, (n + 1) * sizeof(*ns));
		if (!ns)
			return 0;
		d->sigs = ns;
		if (!d->n_sigs)
			memset(&ns[0], 0, sizeof(ns[0]));
		memset(&ns[n], 0, sizeof(ns[n]));
		ns[n].id = strdup(s->id);
		sig_id_publish(d, n, s->id);
		aw_procinfo_set_str(&ns[n].vendor, s->vendor);
		aw_procinfo_set_str(&ns[n].product, s->product);
		aw_procinfo_set_str(&ns[n].class, s->class);
		aw_procinfo_set_str(&ns[n].package, s->package);
		d->n_sigs = n + 1;
		return n;
	}
}

int aw_sigdb_load_sources(struct aw_daemon *d, struct aw_sigdb *db, char *err,
			  size_t errlen)
{
	struct aw_diag diag = {};
	int r;

	if (d->opts.sig_dir[0]) {
		r = aw_sigdb_load_dir(db, d->opts.sig_dir, &diag);
	} else {
		r = 0;
		for (size_t i = 0; i < aw_embedded_signatures_count && !r; i++)
			r = aw_sigdb_load_buffer(
			    db, aw_embedded_signatures[i].name,
			    aw_embedded_signatures[i].data,
			    aw_embedded_signatures[i].len, &diag);
		if (!r && access(AW_DEFAULT_EXTRA_SIGS, F_OK) == 0)
			r = aw_sigdb_load_dir(db, AW_DEFAULT_EXTRA_SIGS, &diag);
	}
	if (r < 0)
		aw_diag_format(&diag, err, errlen);
	return r;
}

/*
 * Launchers installed on PATH (e.g. /usr/local/bin/codex, a symlink to
 * .../@openai/codex/bin/codex.js) are run by their interpreter under the
 * link's name, which says nothing about the agent. Resolve the links in
 * the usual bin directories once per load and add each one that leads to
 * a known script as an exact script path of that signature.
 */
static const char *const bin_globs[] = {
    "/usr/local/bin",
    "/usr/bin",
    "/bin",
    "/opt/homebrew/bin",
    "/root/.local/bin",
    "/root/.npm-global/bin",
    "/root/.bun/bin",
    "/home/*/.local/bin",
    "/home/*/.npm-global/bin",
    "/home/*/.bun/bin",
    "/root/.nvm/versions/node/*/bin",
    "/home/*/.nvm/versions/node/*/bin",
    "/usr/local/lib/nodejs/*/bin",
};

static int add_match(struct aw_signature *s, const char *path)
{
	struct aw_match *m;

	if (s->n_matches >= 256)
		return -E2BIG;
	for (size_t i = 0; i < s->n_matches; i++)
		if (!strcmp(s->matches[i].pattern, path))
			return 0;
	m = realloc(s->matches, (s->n_matches + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	s->matches = m;
	m[s->n_matches] =
	    (struct aw_match){.kind = AW_MATCH_SCRIPT, .pattern = strdup(path)};
	if (!m[s->n_matches].pattern)
		return -ENOMEM;
	s->n_matches++;
	return 0;
}

#include <glob.h>
static void add_installed_launchers(struct aw_sigdb *db,
				    const struct aw_compiled *c)
{
	for (size_t g = 0; g < AW_ARRAY_SIZE(bin_globs); g++) {
		glob_t gl;

		if (glob(bin_globs[g], GLOB_NOSORT | GLOB_ONLYDIR, NULL, &gl))
			continue;
		for (size_t i = 0; i < gl.gl_pathc; i++) {
			DIR *dir = opendir(gl.gl_pathv[i]);
			struct dirent *de;

			if (!dir)
				continue;
			while ((de = readdir(dir))) {
				char link[PATH_MAX], real[PATH_MAX];
				uint32_t rule;

				if (de->d_type != DT_LNK ||
				    strpbrk(de->d_name, "*?[]\\"))
					continue;
				if (snprintf(link, sizeof(link), "%s/%s",
					     gl.gl_pathv[i],
					     de->d_name) >= (int)sizeof(link) ||
				    !realpath(link, real))
					continue;
				rule =
				    aw_compiled_match(c, c->script_start, real);
				if (!rule ||
				    c->rules[rule - 1].sig_index >= db->n_sigs)
					continue;
				add_match(
				    &db->sigs[c->rules[rule - 1].sig_index],
				    link);
			}
			closedir(dir);
		}
		globfree(&gl);
	}
}

static const char *kind_name(uint16_t kind)
{
	switch ((enum aw_rule_kind)kind) {
	case AW_RULE_EXE:
		return "exe";
	case AW_RULE_SCRIPT:
		return "script";
	case AW_RULE_INTERPRETER:
		return "interpreter";
	case AW_RULE_INODE:
		return "inode";
	case AW_RULE_NONE:
		break;
	}
	return "?";
}

/* First rule of the bank that classifies by path for signature sig. */
static int exe_rule_of(struct aw_daemon *d, unsigned bank, uint32_t sig)
{
	if (!d->rule_sig[bank] || !d->rule_kind[bank])
		return -1;
	for (size_t i = 0; i < d->n_rule_text[bank]; i++)
		if (d->rule_sig[bank][i] == sig &&
		    d->rule_kind[bank][i] == AW_RULE_EXE)
			return (int)i;
	return -1;
}

static void rebind_learned(struct aw_daemon *d, unsigned bank)
{
	size_t kept = 0;

	for (size_t i = 0; i < d->n_learned; i++) {
		struct aw_learned *l = &d->learned[i];
		int r = exe_rule_of(d, bank, l->sig);

		/* A signature that no longer classifies by path takes its
		 * learned identities with it. */
		if (r < 0 ||
		    aw_kernel_set_inode(d->kernel, l->dev, l->ino, l->gen, r)) {
			free(l->path);
			continue;
		}
		d->learned[kept++] = *l;
	}
	d->n_learned = kept;
}

int aw_daemon_learn_inode(struct aw_daemon *d, uint64_t dev, uint64_t ino,
			  uint32_t gen, uint32_t rule, const char *path)
{
	uint32_t r = rule - 1;
	unsigned bank = r / AW_RULES_BANK, cur = aw_kernel_bank(d->kernel);
	uint32_t idx = r % AW_RULES_BANK;
	struct aw_learned *nl;
	int cur_rule, err;

	if (!rule || bank > 1 || idx >= d->n_rule_text[bank] ||
	    !d->rule_kind[bank] || d->rule_kind[bank][idx] != AW_RULE_EXE)
		return 0; /* only path-classified executables are learned */
	for (size_t i = 0; i < d->n_learned; i++)
		if (d->learned[i].dev == dev && d->learned[i].ino == ino &&
		    d->learned[i].gen == gen)
			return 0;
	if (d->n_learned >= AW_INODES_MAX)
		return -ENOSPC;
	cur_rule = exe_rule_of(d, cur, d->rule_sig[bank][idx]);
	if (cur_rule < 0)
		return 0;
	nl = realloc(d->learned, (d->n_learned + 1) * sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	d->learned = nl;
	err = aw_kernel_set_inode(d->kernel, dev, ino, gen, cur_rule);
	if (err)
		return err;
	nl[d->n_learned] = (struct aw_learned){
	    .dev = dev,
	    .ino = ino,
	    .gen = gen,
	    .sig = d->rule_sig[bank][idx],
	    .path = path ? strdup(path) : NULL,
	};
	d->n_learned++;
	return 1;
}

/* Learn a file recognised by its content, under its signature's first
 * path rule (the identity map's values are rules). */
int aw_daemon_learn_inode_sig(struct aw_daemon *d, uint64_t dev, uint64_t ino,
			      uint32_t gen, uint32_t sig)
{
	unsigned bank = aw_kernel_bank(d->kernel);
	int r = exe_rule_of(d, bank, sig);

	if (r < 0)
		return 0; /* a signature without a path rule: hashed each time
			   */
	return aw_daemon_learn_inode(
	    d, dev, ino, gen, bank * AW_RULES_BANK + (uint32_t)r + 1, NULL);
}

int aw_sigdb_reload(struct aw_daemon *d, char *err, size_t len)
{
	struct aw_sigdb db = {};
	struct aw_compiled c = {}, c2 = {};
	struct aw_diag diag = {};
	uint32_t *numbers = NULL;
	char **texts = NULL;
	unsigned bank;
	int r;

	r = aw_sigdb_load_sources(d, &db, err, len);
	if (r < 0)
		goto out;
	r = aw_sigdb_compile(&db, &c, &diag);
	if (r < 0) {
		aw_diag_format(&diag, err, len);
		goto out;
	}
	add_installed_launchers(&db, &c);
	r = aw_sigdb_compile(&db, &c2, &diag);
	if (r < 0) {
		aw_diag_format(&diag, err, len);
		goto out;
	}
	numbers = calloc(c2.n_rules + 1, sizeof(*numbers));
	texts = calloc(c2.n_rules + 1, sizeof(*texts));
	if (!numbers || !texts) {
		r = -ENOMEM;
		snprintf(err, len, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < c2.n_rules; i++) {
		const struct aw_compiled_rule *cr = &c2.rules[i];
		const char *id = "interpreter";

		if (cr->sig_index < db.n_sigs) {
			numbers[i] =
			    aw_sigdb_number(d, &db.sigs[cr->sig_index]);
			id = db.sigs[cr->sig_index].id;
		}
		if (asprintf(&texts[i], "signature/%s:%s:%s", id,
			     kind_name(cr->kind), cr->pattern) < 0)
			texts[i] = NULL;
	}
	r = aw_kernel_load_sigs(d->kernel, &c2, numbers, err, len);
	if (r < 0)
		goto out;
	bank = aw_kernel_bank(d->kernel);
	for (size_t i = 0; i < d->n_rule_text[bank]; i++)
		free(d->rule_text[bank][i]);
	free(d->rule_text[bank]);
	d->rule_text[bank] = texts;
	d->n_rule_text[bank] = c2.n_rules;
	texts = NULL;
	free(d->rule_sig[bank]);
	d->rule_sig[bank] = numbers;
	numbers = NULL;
	free(d->rule_kind[bank]);
	d->rule_kind[bank] = calloc(c2.n_rules + 1, sizeof(uint16_t));
	for (size_t i = 0; d->rule_kind[bank] && i < c2.n_rules; i++)
		d->rule_kind[bank][i] = c2.rules[i].kind;
	rebind_learned(d, bank);
	aw_sigdb_free(&d->db);
	d->db = db;
	memset(&db, 0, sizeof(db));
	/* Kept for classifying `agentwall run` commands in user space. */
	{
		struct aw_compiled *keep = malloc(sizeof(*keep));

		if (keep) {
			*keep = c2;
			memset(&c2, 0, sizeof(c2));
			if (d->compiled) {
				aw_compiled_free(d->compiled);
				free(d->compiled);
			}
			d->compiled = keep;
		}
	}
	d->sig_generation++;
	d->sig_error[0] = 0;
out:
	if (texts) {
		for (size_t i = 0; i < c2.n_rules; i++)
			free(texts[i]);
		free(texts);
	}
	free(numbers);
	aw_compiled_free(&c);
	aw_compiled_free(&c2);
	aw_sigdb_free(&db);
	if (r < 0)
		snprintf(d->sig_error, sizeof(d->sig_error), "%s", err);
	return r;
}
