// SPDX-License-Identifier: GPL-2.0-only
/* Inventory items as JSON, one shape for the CLI and the daemon's events. */
#include <string.h>

#include "inventory/inventory.h"
#include "shared/json.h"

static void kv(struct aw_buf *b, const char *key, const char *v, int first)
{
	if (!first)
		aw_buf_puts(b, ",");
	aw_json_key(b, key);
	aw_json_cstr(b, v);
}

static void strs(struct aw_buf *b, const char *key, char *const *v, size_t n)
{
	aw_buf_puts(b, ",");
	aw_json_key(b, key);
	aw_buf_puts(b, "[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			aw_buf_puts(b, ",");
		aw_json_cstr(b, v[i]);
	}
	aw_buf_puts(b, "]");
}

void aw_inv_agent_json(struct aw_buf *b, const struct aw_inv_agent *a)
{
	aw_buf_puts(b, "{");
	kv(b, "account", a->account, 1);
	kv(b, "agent", a->id, 0);
	kv(b, "vendor", a->vendor, 0);
	kv(b, "product", a->product, 0);
	kv(b, "class", a->class, 0);
	kv(b, "version", a->version, 0);
	kv(b, "path", a->path, 0);
	kv(b, "where", a->where, 0);
	kv(b, "rule", a->rule, 0);
	aw_buf_puts(b, "}");
}

void aw_inv_server_json(struct aw_buf *b, const struct aw_inv_server *s)
{
	aw_buf_puts(b, "{");
	kv(b, "account", s->account, 1);
	kv(b, "agent", s->agent, 0);
	kv(b, "config", s->config, 0);
	kv(b, "project", s->project, 0);
	kv(b, "name", s->name, 0);
	kv(b, "transport", s->transport, 0);
	kv(b, "command", s->command, 0);
	strs(b, "args", s->args, s->n_args);
	strs(b, "env_keys", s->env_keys, s->n_env_keys);
	kv(b, "url", s->url, 0);
	aw_buf_printf(b, ",\"disabled\":%s", s->disabled ? "true" : "false");
	kv(b, "known", s->known ? s->known : "unknown", 0);
	aw_buf_puts(b, "}");
}

void aw_inv_problem_json(struct aw_buf *b, const struct aw_inv_problem *p)
{
	aw_buf_puts(b, "{");
	kv(b, "account", p->account, 1);
	kv(b, "path", p->path, 0);
	kv(b, "reason", p->reason, 0);
	aw_buf_puts(b, "}");
}

void aw_inventory_json(struct aw_buf *b, const struct aw_inventory *inv)
{
	aw_buf_puts(b, "{\"agents\":[");
	for (size_t i = 0; i < inv->n_agents; i++) {
		aw_buf_puts(b, i ? ",\n" : "\n");
		aw_inv_agent_json(b, &inv->agents[i]);
	}
	aw_buf_puts(b, "],\n\"servers\":[");
	for (size_t i = 0; i < inv->servers.n; i++) {
		aw_buf_puts(b, i ? ",\n" : "\n");
		aw_inv_server_json(b, &inv->servers.v[i]);
	}
	aw_buf_puts(b, "],\n\"problems\":[");
	for (size_t i = 0; i < inv->n_problems; i++) {
		aw_buf_puts(b, i ? ",\n" : "\n");
		aw_inv_problem_json(b, &inv->problems[i]);
	}
	aw_buf_puts(b, "],\n\"configs\":[");
	for (size_t i = 0; i < inv->n_configs; i++) {
		if (i)
			aw_buf_puts(b, ",");
		aw_json_cstr(b, inv->configs[i]);
	}
	aw_buf_puts(b, "]}\n");
}
