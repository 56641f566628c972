// SPDX-License-Identifier: GPL-2.0-only
/*
 * Agents' configuration files -> MCP servers: each format, env names
 * without values, all-or-nothing on errors, and the safe reader's
 * refusals (symlink, FIFO, size).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inventory/inventory.h"
#include "signatures/signatures.h"

static void parse_ok(const char *text, enum aw_inv_format fmt,
		     struct aw_inv_servers *out)
{
	struct aw_diag d = {};
	int r = aw_inv_mcp_servers_parse(text, strlen(text), "cfg", fmt,
					 "agent.x", out, &d);

	if (r)
		fprintf(stderr, "%s:%u:%u: %s\n", d.file, d.line, d.column,
			d.message);
	assert_int_equal(r, 0);
}

static const struct aw_inv_server *by_name(const struct aw_inv_servers *s,
					   const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].name, name))
			return &s->v[i];
	fail_msg("no server %s", name);
	return NULL;
}

static void test_codex(void **state)
{
	struct aw_inv_servers s = {};
	const struct aw_inv_server *v;

	parse_ok(
	    "model = \"o3\"\n"
	    "[mcp_servers.fs]\n"
	    "command = \"npx\"\n"
	    "args = [\"-y\", \"@modelcontextprotocol/server-filesystem\"]\n"
	    "[mcp_servers.fs.env]\n"
	    "TOKEN = \"hunter2\"\n"
	    "[mcp_servers.remote]\n"
	    "url = \"https://example.test/mcp\"\n"
	    "enabled = false\n",
	    AW_INV_FMT_CODEX, &s);
	assert_int_equal(s.n, 2);
	v = by_name(&s, "fs");
	assert_string_equal(v->command, "npx");
	assert_int_equal(v->n_args, 2);
	assert_int_equal(v->n_env_keys, 1);
	assert_string_equal(v->env_keys[0], "TOKEN");
	assert_string_equal(v->transport, "stdio");
	assert_string_equal(v->agent, "agent.x");
	v = by_name(&s, "remote");
	assert_string_equal(v->url, "https://example.test/mcp");
	assert_string_equal(v->transport, "http");
	assert_int_equal(v->disabled, 1);
	aw_inv_servers_free(&s);
}

static void test_json_formats(void **state)
{
	struct aw_inv_servers s = {};

	parse_ok("{\"mcpServers\": {\"a\": {\"command\": \"/bin/a\"}},"
		 " \"projects\": {\"/p\": {\"mcpServers\": {\"b\": "
		 "{\"type\": \"sse\", \"url\": \"http://x/sse\"}}}}}",
		 AW_INV_FMT_CLAUDE, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(by_name(&s, "b")->project, "/p");
	assert_string_equal(by_name(&s, "b")->transport, "sse");
	assert_null(by_name(&s, "a")->project);
	aw_inv_servers_free(&s);

	parse_ok("// comments allowed\n{\"servers\": {\"v\": {\"type\": "
		 "\"stdio\", \"command\": \"node\", \"args\": [\"s.js\"],"
		 " \"env\": {\"K\": \"v\"},},},}",
		 AW_INV_FMT_VSCODE, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0].args[0], "s.js");
	aw_inv_servers_free(&s);

	parse_ok("{\"mcp\": {\"o\": {\"type\": \"local\", \"command\": "
		 "[\"bun\", \"x\", \"srv\"], \"environment\": {\"E\": \"1\"}},"
		 " \"r\": {\"type\": \"remote\", \"url\": \"https://r\"}}}",
		 AW_INV_FMT_OPENCODE, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(by_name(&s, "o")->command, "bun");
	assert_int_equal(by_name(&s, "o")->n_args, 2);
	assert_string_equal(by_name(&s, "o")->env_keys[0], "E");
	assert_string_equal(by_name(&s, "r")->transport, "http");
	aw_inv_servers_free(&s);

	parse_ok("{\"amp.mcpServers\": {\"p\": {\"command\": \"npx\"}}}",
		 AW_INV_FMT_AMP, &s);
	assert_int_equal(s.n, 1);
	aw_inv_servers_free(&s);

	parse_ok("{\"mcpServers\": {\"g\": {\"httpUrl\": \"https://g\"}}}",
		 AW_INV_FMT_MCPSERVERS, &s);
	assert_string_equal(s.v[0].url, "https://g");
	aw_inv_servers_free(&s);
}

static void test_refused(void **state)
{
	struct aw_inv_servers s = {};
	struct aw_diag d = {};
	const char *t = "{\"mcpServers\": {\"ok\": {\"command\": \"a\"},\n"
			"  \"bad\": {\"command\": 7}}}";

	assert_int_equal(aw_inv_mcp_servers_parse(t, strlen(t), "f",
						  AW_INV_FMT_MCPSERVERS, NULL,
						  &s, &d),
			 -EINVAL);
	/* nothing kept of a file that is refused */
	assert_int_equal(s.n, 0);
	assert_int_equal(d.line, 2);
	assert_non_null(strstr(d.message, "mcpServers.bad: command"));
	t = "[mcp_servers.x]\nargs = [\"a\"]\n";
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_inv_mcp_servers_parse(
			     t, strlen(t), "f", AW_INV_FMT_CODEX, NULL, &s, &d),
			 -EINVAL);
	assert_non_null(strstr(d.message, "neither a command nor a url"));
	aw_inv_servers_free(&s);
}

static void test_read_file(void **state)
{
	char dir[] = "/tmp/aw-inv-XXXXXX", p[256], *data = NULL;
	struct aw_diag d = {};
	size_t len = 0;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/ok.json", dir);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	assert_true(write(fd, "{}", 2) == 2);
	close(fd);
	assert_int_equal(
	    aw_inv_read_file(AT_FDCWD, p, (uid_t)-1, 0, 100, &data, &len, &d),
	    0);
	assert_int_equal(len, 2);
	free(data);
	assert_int_equal(
	    aw_inv_read_file(AT_FDCWD, p, (uid_t)-1, 0, 1, &data, &len, &d),
	    -EFBIG);
	snprintf(p, sizeof(p), "%s/link.json", dir);
	memset(&d, 0, sizeof(d));
	assert_int_equal(symlink("/etc/passwd", p), 0);
	assert_int_equal(aw_inv_read_file(AT_FDCWD, p, (uid_t)-1, 0, 1 << 20,
					  &data, &len, &d),
			 -ELOOP);
	assert_non_null(strstr(d.message, "symbolic link"));
	unlink(p);
	snprintf(p, sizeof(p), "%s/fifo.json", dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	memset(&d, 0, sizeof(d));
	assert_int_equal(aw_inv_read_file(AT_FDCWD, p, (uid_t)-1, 0, 1 << 20,
					  &data, &len, &d),
			 -EINVAL);
	assert_non_null(strstr(d.message, "FIFO"));
	unlink(p);
	snprintf(p, sizeof(p), "%s/none.json", dir);
	assert_int_equal(aw_inv_read_file(AT_FDCWD, p, (uid_t)-1, 0, 1 << 20,
					  &data, &len, &d),
			 -ENOENT);
	snprintf(p, sizeof(p), "%s/ok.json", dir);
	unlink(p);
	rmdir(dir);
}

static void test_format_for(void **state)
{
	const char *agent = NULL;

	assert_int_equal(
	    aw_inv_format_for("/home/u/.codex/config.toml", &agent),
	    AW_INV_FMT_CODEX);
	assert_string_equal(agent, "openai.codex-cli");
	assert_int_equal(aw_inv_format_for("/home/u/.claude.json", &agent),
			 AW_INV_FMT_CLAUDE);
	assert_int_equal(aw_inv_format_for("/w/p/.vscode/mcp.json", &agent),
			 AW_INV_FMT_VSCODE);
	assert_int_equal(
	    aw_inv_format_for("/h/.config/amp/settings.json", &agent),
	    AW_INV_FMT_AMP);
}

/* Which signature a configured command names (the shipped database). */
static void test_classify(void **state)
{
	struct aw_sigdb db = {};
	struct aw_compiled c = {};
	struct aw_diag d = {};
	char *npx[] = {"-y", "@modelcontextprotocol/server-memory@1.2.3", "x"};
	char *pw[] = {"@playwright/mcp@latest"};
	char *node[] = {"--inspect", "/srv/node_modules/@modelcontextprotocol/"
				     "server-filesystem/dist/index.js"};
	char *git[] = {"mcp-server-git"};
	int k;

	assert_int_equal(
	    aw_sigdb_load_dir(&db, AW_SOURCE_DIR "/signatures", &d), 0);
	assert_int_equal(aw_sigdb_compile(&db, &c, &d), 0);
	k = aw_inv_classify_command(&db, &c, "npx", npx, 3);
	assert_true(k >= 0);
	assert_string_equal(db.sigs[k].id,
			    "modelcontextprotocol.server-memory");
	k = aw_inv_classify_command(&db, &c, "npx", pw, 1);
	assert_true(k >= 0);
	assert_string_equal(db.sigs[k].id, "microsoft.playwright-mcp");
	k = aw_inv_classify_command(&db, &c, "/usr/bin/node", node, 2);
	assert_true(k >= 0);
	assert_string_equal(db.sigs[k].id,
			    "modelcontextprotocol.server-filesystem");
	k = aw_inv_classify_command(&db, &c, "mcp-server-github", NULL, 0);
	assert_true(k >= 0);
	assert_string_equal(db.sigs[k].id,
			    "modelcontextprotocol.server-github");
	/* the interpreter alone, a runner of an unknown package, nothing */
	assert_int_equal(aw_inv_classify_command(&db, &c, "node", NULL, 0), -1);
	assert_int_equal(aw_inv_classify_command(&db, &c, "uvx", git, 1), -1);
	assert_int_equal(aw_inv_classify_command(&db, &c, NULL, NULL, 0), -1);
	aw_compiled_free(&c);
	aw_sigdb_free(&db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_codex),
	    cmocka_unit_test(test_json_formats),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_read_file),
	    cmocka_unit_test(test_format_for),
	    cmocka_unit_test(test_classify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
