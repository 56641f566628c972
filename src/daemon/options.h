/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef AW_DAEMON_OPTIONS_H
#define AW_DAEMON_OPTIONS_H

#include "daemon/daemon.h"

/* The daemon's settings: defaults, then the configuration file
 * (AW_DEFAULT_CONF, or --config FILE; "key = value" lines whose keys are
 * the long options), then the command line, each overriding the one
 * before. --help and --version print and exit 0. Returns 0, or -EINVAL
 * after saying why on stderr (a file's problem as FILE:LINE: message). */
int aw_opts_parse(int argc, char **argv, struct aw_opts *o);

/* The launcher defaults to the agentwall binary installed beside us. */
void aw_opts_default_launcher(struct aw_opts *o);

#endif
