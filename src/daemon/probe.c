// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the running kernel offers, probed at start, never assumed: a kernel
 * may list "bpf" among its LSMs and still refuse to load LSM programs (the
 * project's own machines do), so the BPF LSM is probed by loading one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/landlock.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "daemon/daemon.h"

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

static int lsm_listed(void)
{
	char buf[512];
	char *tok, *save = NULL;

	if (read_file("/sys/kernel/security/lsm", buf, sizeof(buf)) < 0)
		return 0;
	for (tok = strtok_r(buf, ",\n", &save); tok;
	     tok = strtok_r(NULL, ",\n", &save))
		if (!strcmp(tok, "bpf"))
			return 1;
	return 0;
}

/* Load (never attach) "return 0" on bpf_lsm_file_open. */
static int lsm_loads(int *ret_errno)
{
	struct bpf_insn prog[] = {
	    {.code = 0xb7, .dst_reg = 0, .imm = 0}, /* r0 = 0 */
	    {.code = 0x95},			    /* exit */
	};
	struct btf *vmlinux = btf__load_vmlinux_btf();
	LIBBPF_OPTS(bpf_prog_load_opts, opts);
	int id, fd;

	if (!vmlinux) {
		*ret_errno = errno;
		return 0;
	}
	id =
	    btf__find_by_name_kind(vmlinux, "bpf_lsm_file_open", BTF_KIND_FUNC);
	btf__free(vmlinux);
	if (id < 0) {
		*ret_errno = ENOENT;
		return 0;
	}
	opts.expected_attach_type = BPF_LSM_MAC;
	opts.attach_btf_id = id;
	fd =
	    bpf_prog_load(BPF_PROG_TYPE_LSM, "aw_probe", "GPL", prog, 2, &opts);
	if (fd < 0) {
		*ret_errno = errno;
		return 0;
	}
	close(fd);
	*ret_errno = 0;
	return 1;
}

static void cgroup2_mount(char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];

	out[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char mnt[PATH_MAX];
		char *sep = strstr(line, " - ");

		if (!sep || strncmp(sep, " - cgroup2 ", 11) != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1) {
			snprintf(out, len, "%s", mnt);
			break;
		}
	}
	fclose(f);
}

void aw_probe_run(struct aw_probe *p)
{
	struct utsname u;
	char buf[256];
	int abi;

	memset(p, 0, sizeof(*p));
	if (uname(&u) == 0)
		snprintf(p->kernel, sizeof(p->kernel), "%s", u.release);
	p->btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	p->bpf_lsm_listed = lsm_listed();
	p->bpf_lsm_loads = lsm_loads(&p->bpf_lsm_errno);
	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
		      LANDLOCK_CREATE_RULESET_VERSION);
	p->landlock_abi = abi >= 0 ? abi : -errno;
	if (read_file("/proc/sys/kernel/seccomp/actions_avail", buf,
		      sizeof(buf)) == 0)
		p->seccomp_user_notif = strstr(buf, "user_notif") != NULL;
	p->task_storage =
	    libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL) == 1;
	p->ringbuf = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1;
	p->tp_btf = p->btf; /* confirmed for real when the programs attach */
	cgroup2_mount(p->cgroup2_path, sizeof(p->cgroup2_path));
	/* Both backends share discovery; the LSM backend (in-place denials)
	 * is not built yet, so "portable" is reported even where it would
	 * load, with bpf_lsm_loads saying what the kernel could do. */
	snprintf(p->backend, sizeof(p->backend), "portable");
}

void aw_probe_json(const struct aw_probe *p, struct aw_buf *b)
{
	aw_buf_puts(b, "{");
	aw_json_key(b, "release");
	aw_json_cstr(b, p->kernel);
	aw_buf_printf(b,
		      ",\"btf\":%s,\"bpf_lsm_listed\":%s,"
		      "\"bpf_lsm_loads\":%s,",
		      p->btf ? "true" : "false",
		      p->bpf_lsm_listed ? "true" : "false",
		      p->bpf_lsm_loads ? "true" : "false");
	aw_json_key(b, "bpf_lsm_error");
	aw_json_cstr(b, p->bpf_lsm_loads ? NULL : strerror(p->bpf_lsm_errno));
	aw_buf_printf(b,
		      ",\"landlock_abi\":%d,\"seccomp_user_notif\":%s,"
		      "\"task_storage\":%s,\"ringbuf\":%s,",
		      p->landlock_abi > 0 ? p->landlock_abi : 0,
		      p->seccomp_user_notif ? "true" : "false",
		      p->task_storage ? "true" : "false",
		      p->ringbuf ? "true" : "false");
	aw_json_key(b, "cgroup2");
	aw_json_cstr(b, p->cgroup2_path[0] ? p->cgroup2_path : NULL);
	aw_buf_puts(b, ",");
	aw_json_key(b, "backend");
	aw_json_cstr(b, p->backend);
	aw_buf_puts(b, "}");
}
