// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tools per session (src/daemon/tools_config.c): the servers read from
 * the agents' files under a session's root, and which execs are them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/tools.h"

static char root[] = "/tmp/aw-unit-tools-XXXXXX";

static void put(const char *rel, const char *text)
{
	char p[512], d[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s%s", root, rel);
	snprintf(d, sizeof(d), "%s", p);
	for (char *s = d + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		mkdir(d, 0755);
		*s = '/';
	}
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const struct aw_tool_conf *find(const struct aw_tool_confs *c,
				       const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].name, name))
			return &c->v[i];
	return NULL;
}

/* argv as the kernel hands it: NUL-separated. */
static int matches(const struct aw_tool_conf *c, const char *exe,
		   const char *const *argv)
{
	char buf[1024];
	size_t n = 0;

	for (; *argv; argv++) {
		size_t l = strlen(*argv) + 1;

		memcpy(buf + n, *argv, l);
		n += l;
	}
	return aw_tool_conf_matches(c, exe, buf, n);
}

static void test_load_and_match(void **state)
{
	struct aw_tool_confs c = {};
	const struct aw_tool_conf *t;
	int rfd;

	(void)state;
	assert_non_null(mkdtemp(root));
	put("/home/u/.codex/config.toml",
	    "[mcp_servers.notes]\ncommand = \"python3\"\n"
	    "args = [\"/opt/notes.py\", \"--db\", \"x\"]\n"
	    "[mcp_servers.notes.env]\nTOKEN = \"secret\"\n");
	put("/work/p/.mcp.json",
	    "{\"mcpServers\": {\"fs\": {\"command\": \"npx\", \"args\": "
	    "[\"-y\", \"@modelcontextprotocol/server-filesystem\", \".\"]},"
	    " \"web\": {\"type\": \"http\", \"url\": \"http://x/\"}}}");
	/* Absolute symlinks resolve inside the root, not the host's. */
	put("/etc/elsewhere.json",
	    "{\"mcpServers\": {\"inside\": {\"command\": \"true\"}}}");
	{
		char l[512];

		snprintf(l, sizeof(l), "%s/home/u/.gemini", root);
		mkdir(l, 0755);
		snprintf(l, sizeof(l), "%s/home/u/.gemini/settings.json", root);
		assert_int_equal(symlink("/etc/elsewhere.json", l), 0);
	}
	rfd = open(root, O_PATH | O_DIRECTORY);
	assert_true(rfd >= 0);
	assert_int_equal(
	    aw_tool_confs_load(rfd, "/home/u", NULL, "/work/p", &c), 0);
	close(rfd);

	t = find(&c, "notes");
	assert_non_null(t);
	assert_string_equal(t->agent, "openai.codex-cli");
	assert_string_equal(t->source, "/home/u/.codex/config.toml");
	assert_int_equal(t->n_args, 3);
	/* argv[0] by its name, or the interpreter's own path */
	assert_true(matches(t, "/usr/bin/python3.11",
			    (const char *const[]){"python3", "/opt/notes.py",
						  "--db", "x", NULL}));
	assert_true(
	    matches(t, "/usr/bin/python3.11",
		    (const char *const[]){"/usr/bin/python3", "/opt/notes.py",
					  "--db", "x", "--more", NULL}));
	/* other arguments, or fewer: not it */
	assert_false(matches(t, "/usr/bin/python3.11",
			     (const char *const[]){"python3", "/opt/notes.py",
						   "--db", "y", NULL}));
	assert_false(
	    matches(t, "/usr/bin/python3.11",
		    (const char *const[]){"python3", "/opt/notes.py", NULL}));
	assert_false(matches(
	    t, "/usr/bin/perl",
	    (const char *const[]){"perl", "/opt/notes.py", "--db", "x", NULL}));

	t = find(&c, "fs");
	assert_non_null(t);
	assert_string_equal(t->agent, "anthropic.claude-code");
	/* npx is a script: the kernel's argv is env's or node's */
	assert_true(matches(
	    t, "/usr/bin/node",
	    (const char *const[]){"node", "/usr/bin/npx", "-y",
				  "@modelcontextprotocol/server-filesystem",
				  ".", NULL}));
	assert_null(find(&c, "web")); /* remote: nothing to exec */
	assert_non_null(find(&c, "inside"));

	aw_tool_confs_free(&c);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		assert_int_equal(system(cmd), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_load_and_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
