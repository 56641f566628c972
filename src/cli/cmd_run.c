// SPDX-License-Identifier: GPL-2.0-only
/*
 * agentwall run [--policy ID] [--workspace DIR] [--session ID] -- COMMAND...
 *
 * Start COMMAND as an agent session in a sandbox built from its policy.
 * With --session, COMMAND runs on a kept session's copy-on-write state
 * (its policy and workspace, under its id) instead of a new one.
 * The daemon chooses and revalidates (policy, session, cgroup, kernel
 * mark); this process builds the sandbox with the user's own rights and
 * stays outside it as the session's supervisor (src/sandbox/launch.c).
 *
 * `--forced --exec EXE` is how the daemon re-executes an agent it stopped
 * at exec (src/daemon/force.c): argv after `--` is the agent's own, argv[0]
 * included, and EXE the file the kernel had loaded.
 *
 * Exit status: the command's (a signal death is reproduced); 125 if the
 * sandbox could not be built (the command did not run), 126/127 if the
 * command could not be executed inside it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/stage.h"
#include "cli/cli.h"
#include "sandbox/launch.h"
#include "sandbox/masks.h"
#include "shared/json.h"
#include "shared/util.h"

/*
 * The real paths of the plan's masks, to the daemon, which marks their
 * inodes (src/daemon/secrets.c): a hard link to a masked file, wherever
 * it was made, is then refused to this session and recorded. Sent in
 * batches that fit a control request. Not fatal: without the daemon's
 * marks the mounts still mask every path the plan names.
 */
#define MASKS_REQ_MAX 12000

/* The masks' real paths, for the daemon's marks by inode; the last
 * request also waits for the launcher's cgroup move (ready=1). Returns
 * 1 if the daemon confirmed the move ("ready" first in its reply), else
 * 0 (no masks, no reply, a refusal): then session-ready is asked alone
 * and its answer is the last word. */
static int send_masks(const struct aw_cli *cli, const struct aw_plan *plan,
		      int verbose)
{
	size_t i = 0;
	int ready = 0;

	while (i < plan->n_ops) {
		struct aw_buf req = {};
		char *reply = NULL, e[256] = "";
		unsigned k = 0;

		aw_buf_printf(&req, "session-secrets session=%s",
			      plan->session);
		for (; i < plan->n_ops && req.len < MASKS_REQ_MAX && k < 512;
		     i++) {
			const struct aw_plan_op *op = &plan->ops[i];

			if (op->verb != AW_FS_DENY)
				continue;
			aw_buf_printf(&req, " r%u=", k);
			aw_pct_encode(&req, op->rule, strlen(op->rule));
			aw_buf_printf(&req, " p%u=", k);
			aw_pct_encode(&req, op->path, strlen(op->path));
			k++;
		}
		if (i >= plan->n_ops && k)
			aw_buf_puts(&req, " ready=1");
		aw_buf_add(&req, "", 1);
		if (k && !req.oom &&
		    aw_cli_request(cli, req.data, &reply, e, sizeof(e)) < 0)
			snprintf(e, sizeof(e), "%s", "no reply");
		if (reply && i >= plan->n_ops && !strncmp(reply, "ready\n", 6))
			ready = 1;
		if (verbose)
			fprintf(stderr, "agentwall: masks by inode: %s%s",
				reply ? reply + (ready ? 6 : 0) : e,
				reply ? "" : "\n");
		free(reply);
		aw_buf_free(&req);
	}
	return ready;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: agentwall run [--policy ID] [--workspace DIR] "
		"[--session ID] [--keep-fd N]... [-v] -- COMMAND [ARG...]\n");
}

/* execvp's search, done here so the daemon can classify the file. */
static int resolve_exe(const char *cmd, char *ret, size_t len)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (strchr(cmd, '/')) {
		snprintf(ret, len, "%s", cmd);
		return access(cmd, F_OK) == 0 ? 0 : -errno;
	}
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *end = strchr(path, ':');
		size_t n = end ? (size_t)(end - path) : strlen(path);

		if (n &&
		    (size_t)snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path,
				     cmd) < sizeof(buf) &&
		    access(buf, X_OK) == 0) {
			snprintf(ret, len, "%s", buf);
			return 0;
		}
		path += n + (end ? 1 : 0);
	}
	return -ENOENT;
}

/* Is path at or under dir (both real paths)? */
static int path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (!strcmp(dir, "/"))
		return 1;
	return !strncmp(path, dir, n) && (path[n] == 0 || path[n] == '/');
}

int cmd_run(struct aw_cli *cli, int argc, char **argv)
{
	enum {
		OPT_POLICY = 1100,
		OPT_WORKSPACE,
		OPT_FORCED,
		OPT_EXEC,
		OPT_SESSION,
		OPT_KEEP_FD
	};
	static const struct option longopts[] = {
	    {"policy", required_argument, NULL, OPT_POLICY},
	    {"workspace", required_argument, NULL, OPT_WORKSPACE},
	    {"forced", no_argument, NULL, OPT_FORCED},
	    {"exec", required_argument, NULL, OPT_EXEC},
	    {"session", required_argument, NULL, OPT_SESSION},
	    {"keep-fd", required_argument, NULL, OPT_KEEP_FD},
	    {"state-dir", required_argument, NULL, AW_OPT_STATE_DIR},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {}};
	const char *policy = NULL, *workspace = NULL, *exec_path = NULL,
		   *session = NULL;
	char exe[PATH_MAX], real[PATH_MAX], ws[PATH_MAX], cwd[PATH_MAX],
	    err[1024] = "";
	struct aw_plan plan = {};
	struct aw_masks masks = {};
	struct aw_buf req = {};
	char *reply = NULL, *ready = NULL;
	int c, forced = 0, verbose = 0, r, exe_fd = -1, ret;
	int keep[AW_LAUNCH_KEEP_FDS_MAX];
	char sid[17];
	size_t n_keep = 0;

	/* First: no process of this user attaches to the launcher (it runs
	 * in the host's view, and a forced agent's launcher is the agent's
	 * own pid). A tracer here could have it exec anything, or run the
	 * agent's code in place, outside the session. Init (launch.c) is
	 * dumpable only until its id maps are written. */
	prctl(PR_SET_DUMPABLE, 0);
	while ((c = getopt_long(argc, argv, "+hv", longopts, NULL)) != -1) {
		if (aw_cli_common_opt(cli, c, optarg))
			continue;
		switch (c) {
		case OPT_POLICY:
			policy = optarg;
			break;
		case OPT_WORKSPACE:
			workspace = optarg;
			break;
		case OPT_FORCED:
			forced = 1;
			break;
		case OPT_EXEC:
			exec_path = optarg;
			break;
		case OPT_SESSION:
			session = optarg;
			break;
		case OPT_KEEP_FD: {
			uint64_t v;

			if (aw_parse_u64(optarg, &v) < 0 || v < 3 ||
			    v > INT32_MAX || n_keep >= AW_LAUNCH_KEEP_FDS_MAX) {
				fprintf(stderr,
					"agentwall run: --keep-fd %s: a "
					"descriptor number above 2 (at most "
					"%d of them)\n",
					optarg, AW_LAUNCH_KEEP_FDS_MAX);
				return AW_EXIT_USAGE;
			}
			keep[n_keep++] = (int)v;
			break;
		}
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return AW_EXIT_OK;
		default:
			usage(stderr);
			return AW_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return AW_EXIT_USAGE;
	}
	if (!getcwd(cwd, sizeof(cwd))) {
		fprintf(stderr, "agentwall run: current directory: %s\n",
			strerror(errno));
		return AW_LAUNCH_EXIT_FAIL;
	}
	if (!realpath(workspace ? workspace : cwd, ws)) {
		fprintf(stderr, "agentwall run: workspace %s: %s\n",
			workspace ? workspace : cwd, strerror(errno));
		return AW_LAUNCH_EXIT_FAIL;
	}
	if (workspace) {
		struct stat st;

		if (stat(ws, &st) < 0 || !S_ISDIR(st.st_mode)) {
			fprintf(stderr,
				"agentwall run: workspace %s: not a "
				"directory\n",
				workspace);
			return AW_LAUNCH_EXIT_FAIL;
		}
		/* The command starts in its workspace, unless it was
		 * already somewhere inside it. */
		if (!path_within(cwd, ws))
			snprintf(cwd, sizeof(cwd), "%s", ws);
	}
	if (!strcmp(ws, "/")) {
		/* The whole file system copy-on-write is not a workspace
		 * (and would hold the session's own store). Started from
		 * `/` (a service, a forced agent's cwd), the session has no
		 * workspace: everything read-only but its temporary
		 * directories. */
		if (workspace) {
			fprintf(stderr,
				"agentwall run: --workspace /: the whole file "
				"system cannot be a workspace; name the "
				"project directory (--workspace DIR)\n");
			return AW_LAUNCH_EXIT_FAIL;
		}
		if (!forced)
			fprintf(stderr,
				"agentwall: started from /, the session has "
				"no workspace (nothing is writable but its "
				"temporary directories); give one with "
				"--workspace DIR\n");
		ws[0] = 0;
	}
	r = exec_path ? (snprintf(exe, sizeof(exe), "%s", exec_path), 0)
		      : resolve_exe(argv[optind], exe, sizeof(exe));
	if (r < 0 || !realpath(exe, real)) {
		fprintf(stderr, "agentwall run: %s: %s\n", argv[optind],
			strerror(r < 0 ? -r : errno));
		return 127;
	}
	/* Opened now, in the host's view: the file may be hidden in the
	 * session's (say, under a private /tmp). */
	exe_fd = open(real, O_PATH | O_CLOEXEC);

	/* seccomp=prog: the daemon's program is welcome (plan.c,
	 * seccomp_line). */
	aw_buf_printf(
	    &req, "session-open v=1 forced=%d seccomp=prog workspace=", forced);
	aw_pct_encode(&req, ws, strlen(ws));
	aw_buf_puts(&req, " exe=");
	aw_pct_encode(&req, real, strlen(real));
	for (int i = 1; i <= 8 && optind + i < argc; i++) {
		const char *a = argv[optind + i];

		aw_buf_printf(&req, " a%d=", i);
		aw_pct_encode(&req, a, strnlen(a, 1024));
	}
	if (session) {
		if (aw_cli_session_resolve(cli, session, sid, "run") != 0) {
			ret = AW_EXIT_USAGE;
			goto out;
		}
		session = sid;
		aw_buf_puts(&req, " resume=");
		aw_pct_encode(&req, session, strlen(session));
	}
	if (policy) {
		aw_buf_puts(&req, " policy=");
		aw_pct_encode(&req, policy, strlen(policy));
	}
	aw_buf_add(&req, "", 1);
	if (req.oom) {
		ret = AW_LAUNCH_EXIT_FAIL;
		goto out;
	}
	aw_stage("req");
	r = aw_cli_request(cli, req.data, &reply, err, sizeof(err));
	aw_stage("reply");
	if (r < 0) {
		/* No daemon, no session: the command does not run outside
		 * one (a forced agent stays stopped in effect: it ends). */
		fprintf(stderr, "agentwall run: %s\n", err);
		ret = AW_LAUNCH_EXIT_FAIL;
		goto out;
	}
	r = aw_plan_from_reply(&plan, reply, ws, err, sizeof(err));
	if (r >= 0 && plan.workspace[0] &&
	    path_within(plan.dir, plan.workspace)) {
		snprintf(err, sizeof(err),
			 "the workspace %s holds agentwall's session store "
			 "(%s): a copy cannot live inside the tree it copies; "
			 "name a directory that does not contain it "
			 "(--workspace DIR)",
			 plan.workspace, plan.dir);
		r = -EINVAL;
	} else if (r >= 0) {
		aw_stage("plan");
		r = aw_plan_keep_program(&plan, real, argv + optind);
		if (r < 0)
			snprintf(err, sizeof(err),
				 "the program's own files: %s", strerror(-r));
	}
	if (r < 0) {
		fprintf(stderr, "agentwall run: %s%s\n",
			forced ? "forced session refused: " : "", err);
		ret = AW_LAUNCH_EXIT_FAIL;
		goto out;
	}
	/* What the masked trees hold, read before the daemon marks them
	 * (the session's placeholders, src/sandbox/masks.c). */
	aw_stage("keep-exe");
	if (aw_masks_scan(&plan, &masks) < 0)
		aw_masks_free(&masks);
	aw_stage("scan");
	/* The daemon moved this process into the session's cgroups while
	 * the plan was made; nothing of the session starts before that is
	 * done (confirmed with the masks, or asked alone). */
	r = send_masks(cli, &plan, verbose);
	aw_stage("secrets");
	if (r == 0) {
		char rq[64];

		snprintf(rq, sizeof(rq), "session-ready session=%s",
			 plan.session);
		r = aw_cli_request(cli, rq, &ready, err, sizeof(err));
	}
	if (r >= 0 && ready && strncmp(ready, "ok", 2)) {
		snprintf(err, sizeof(err), "%s", ready);
		err[strcspn(err, "\n")] = 0;
		r = -EIO;
	}
	free(ready);
	if (r < 0) {
		fprintf(stderr, "agentwall run: %s%s\n",
			forced ? "forced session refused: " : "", err);
		ret = AW_LAUNCH_EXIT_FAIL;
		goto out;
	}
	aw_stage("ready");
	if (verbose)
		fprintf(stderr,
			"agentwall: session %s, policy %s, agent %s, %zu "
			"sandbox operations%s%s\n",
			plan.session, plan.policy, plan.agent, plan.n_ops,
			plan.notes[0] ? "; " : "", plan.notes);
	{
		struct aw_launch l = {
		    .plan = &plan,
		    .masks = &masks,
		    .exe = exec_path ? exec_path : exe,
		    .exe_fd = exe_fd,
		    .argv = argv + optind,
		    .cwd = cwd,
		    .socket_path = cli->socket_path,
		    .forced = forced,
		    .state_dir = cli->state_dir,
		    .keep_fds = keep,
		    .n_keep_fds = n_keep,
		};

		ret = aw_launch_run(&l);
	}
out:
	aw_masks_free(&masks);
	aw_plan_free(&plan);
	free(reply);
	aw_buf_free(&req);
	if (exe_fd >= 0)
		close(exe_fd);
	return ret;
}
