// SPDX-License-Identifier: GPL-2.0-only
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/*
 * Render the daemon's status JSON as indented "key: value" lines. The
 * input comes from our own daemon, but is still walked defensively: any
 * surprise ends the rendering, never reads past the end.
 */
static const char *render(const char *p, int depth, int in_list);

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

static const char *print_string(const char *p)
{
	/* p at opening quote; print the content with escapes kept. */
	p++;
	while (*p && *p != '"') {
		if (*p == '\\' && p[1]) {
			if (p[1] == 'n')
				fputs("\\n", stdout);
			else if (p[1] == 'u' && strlen(p) >= 6) {
				fwrite(p, 1, 6, stdout);
				p += 6;
				continue;
			} else
				putchar(p[1]);
			p += 2;
			continue;
		}
		putchar(*p++);
	}
	return *p ? p + 1 : p;
}

static void indent(int depth)
{
	for (int i = 0; i < depth; i++)
		fputs("  ", stdout);
}

static const char *render_value(const char *p, int depth)
{
	p = skip_ws(p);
	if (*p == '{' || *p == '[') {
		putchar('\n');
		return render(p, depth, *p == '[');
	}
	if (*p == '"') {
		putchar(' ');
		p = print_string(p);
		putchar('\n');
		return p;
	}
	putchar(' ');
	while (*p && *p != ',' && *p != '}' && *p != ']')
		putchar(*p++);
	putchar('\n');
	return p;
}

static const char *render(const char *p, int depth, int in_list)
{
	char close = in_list ? ']' : '}';

	p = skip_ws(p) + 1;
	for (;;) {
		p = skip_ws(p);
		if (!*p)
			return p;
		if (*p == close)
			return p + 1;
		if (*p == ',') {
			p++;
			continue;
		}
		indent(depth);
		if (in_list) {
			putchar('-');
		} else {
			if (*p != '"')
				return p + strlen(p);
			p = print_string(p);
			p = skip_ws(p);
			if (*p != ':')
				return p + strlen(p);
			p++;
			putchar(':');
		}
		p = render_value(p, depth + 1);
	}
}

int cmd_status(struct aw_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"state-dir", required_argument, NULL, AW_OPT_STATE_DIR},
	    {}};
	char err[512], *reply = NULL;
	int c, json = 0;

	while ((c = getopt_long(argc, argv, "j", longopts, NULL)) != -1) {
		if (aw_cli_common_opt(cli, c, optarg))
			continue;
		if (c == 'j')
			json = 1;
		else
			return AW_EXIT_USAGE;
	}
	if (aw_cli_request(cli, "status", &reply, err, sizeof(err)) < 0) {
		fprintf(stderr, "agentwall: %s\n", err);
		fprintf(stderr,
			"agentwall: the store at %s can still be "
			"queried with `agentwall log`\n",
			cli->store_path);
		return AW_EXIT_NO_DAEMON;
	}
	if (!strncmp(reply, "error:", 6)) {
		fprintf(stderr, "agentwall: %s", reply);
		free(reply);
		return AW_EXIT_FAIL;
	}
	if (json)
		fputs(reply, stdout);
	else
		render(reply, 0, 0);
	free(reply);
	return AW_EXIT_OK;
}
