// SPDX-License-Identifier: GPL-2.0-only
/*
 * The metrics' counters and exposition (src/daemon/metrics.c) and the
 * endpoint's address check (src/daemon/metrics_http.c), without a daemon:
 * what each call counts, label escaping, the bounds on label sets, the
 * histogram, both text formats, and which addresses are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/emit.h"
#include "daemon/metrics.h"

static char *render(struct aw_metrics *m, int om)
{
	struct aw_buf b = {};

	aw_metrics_render(m, &b, om);
	assert_false(b.oom);
	aw_buf_add(&b, "", 1);
	return b.data;
}

static void event(struct aw_metrics *m, const char *action,
		  const char *decision, uint64_t session, const char *agent,
		  const char *rule)
{
	struct aw_emit_info e = {
	    .action = action, .session = session, .rule = rule};

	aw_metrics_event(m, &e, decision, agent);
}

static struct aw_metrics *new_metrics(void)
{
	struct aw_metrics *m = NULL;

	assert_int_equal(
	    aw_metrics_new("1.2.3", "abc", "audit", "portable", &m), 0);
	return m;
}

static void test_listen(void **state)
{
	static const char *const ok[] = {"127.0.0.1:9464", "127.1.2.3:1",
					 "[::1]:80", "localhost:9464",
					 "[::ffff:127.0.0.1]:9"};
	static const char *const remote[] = {"0.0.0.0:9464", "[::]:1",
					     "10.1.2.3:80", "[fd00::1]:80"};
	static const char *const bad[] = {"127.0.0.1",
					  "127.0.0.1:0",
					  ":80",
					  "127.0.0.1:65536",
					  "::1:80",
					  "[::1]80",
					  "[::1]:",
					  "127.0.0.1:80x",
					  "example.com:80",
					  "",
					  "[127.0.0.1]:80"};
	struct sockaddr_storage ss;
	socklen_t sl;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_int_equal(aw_metrics_parse_listen(ok[i], 0, &ss, &sl,
							 err, sizeof(err)),
				 0);
	for (size_t i = 0; i < sizeof(remote) / sizeof(remote[0]); i++) {
		assert_int_equal(aw_metrics_parse_listen(remote[i], 0, &ss, &sl,
							 err, sizeof(err)),
				 -EPERM);
		assert_non_null(strstr(err, "metrics-allow-remote"));
		assert_int_equal(aw_metrics_parse_listen(remote[i], 1, &ss, &sl,
							 err, sizeof(err)),
				 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(aw_metrics_parse_listen(bad[i], 1, &ss, &sl,
							 err, sizeof(err)),
				 -EINVAL);
}

static void test_events(void **state)
{
	struct aw_metrics *m = new_metrics();
	char *t;

	(void)state;
	for (int i = 0; i < 3; i++)
		event(m, "exec", "allow", 0, NULL, NULL);
	event(m, "dns", "deny", 0, NULL, NULL);
	aw_metrics_dns(m, AW_METRICS_DNS_DENY);
	aw_metrics_dns(m, AW_METRICS_DNS_MAX); /* ignored */
	t = render(m, 1);
	assert_non_null(strstr(
	    t,
	    "agentwall_events_total{action=\"exec\",decision=\"allow\"} 3\n"));
	assert_non_null(strstr(
	    t, "agentwall_events_total{action=\"dns\",decision=\"deny\"} 1\n"));
	assert_non_null(strstr(
	    t, "agentwall_resolver_queries_total{verdict=\"deny\"} 1\n"));
	assert_non_null(strstr(t, "# TYPE agentwall_events counter\n"));
	assert_non_null(strstr(t, "# TYPE agentwall_build info\n"));
	assert_non_null(
	    strstr(t, "agentwall_build_info{version=\"1.2.3\",revision="
		      "\"abc\",mode=\"audit\",backend=\"portable\"} 1\n"));
	/* OpenMetrics ends with # EOF, and only there. */
	assert_string_equal(t + strlen(t) - 6, "# EOF\n");
	assert_ptr_equal(strstr(t, "# EOF"), t + strlen(t) - 6);
	free(t);
	t = render(m, 0);
	assert_null(strstr(t, "# EOF"));
	assert_non_null(strstr(t, "# TYPE agentwall_events_total counter\n"));
	assert_non_null(strstr(t, "# TYPE agentwall_build_info gauge\n"));
	assert_null(strstr(t, "# UNIT"));
	free(t);
	aw_metrics_free(m);
}

static void test_bounds(void **state)
{
	struct aw_metrics *m = new_metrics();
	char name[32], *t;
	char longname[64];

	(void)state;
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "a%d", i);
		event(m, name, "allow", 0, NULL, NULL);
	}
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	event(m, "exec", longname, 0, NULL, NULL);
	t = render(m, 1);
	/* 128 pairs apart, the other 172 and the one too long together. */
	assert_non_null(strstr(
	    t,
	    "agentwall_events_total{action=\"a127\",decision=\"allow\"} 1\n"));
	assert_null(strstr(t, "action=\"a128\""));
	assert_non_null(strstr(t, "agentwall_events_total{action=\"other\","
				  "decision=\"other\"} 173\n"));
	assert_null(strstr(t, "xxxxxxxx"));
	free(t);
	aw_metrics_free(m);
}

static void test_sessions(void **state)
{
	struct aw_metrics *m = new_metrics();
	char *t;

	(void)state;
	/* A forced session: started at exec, given its policy later. */
	event(m, "session-start", "allow", 1, "x.agent", "signature/x");
	t = render(m, 1);
	assert_non_null(strstr(
	    t,
	    "agentwall_sessions_live{agent=\"x.agent\",policy=\"none\"} 1\n"));
	free(t);
	event(m, "sandbox", "sandbox", 1, "x.agent", "force/coding-agent");
	/* An agentwall run session, and a label that needs escaping. */
	event(m, "sandbox", "sandbox", 2, "q\"b\\c\nd", "run/p1");
	event(m, "exec", "allow", 2, "q\"b\\c\nd", NULL); /* no change */
	t = render(m, 1);
	assert_non_null(strstr(t, "agentwall_sessions_live{agent=\"x.agent\","
				  "policy=\"none\"} 0\n"));
	assert_non_null(strstr(t, "agentwall_sessions_live{agent=\"x.agent\","
				  "policy=\"coding-agent\"} 1\n"));
	assert_non_null(strstr(t, "agentwall_sessions_live{agent=\"q\\\"b\\\\c"
				  "\\nd\",policy=\"p1\"} 1\n"));
	assert_non_null(strstr(
	    t, "agentwall_sessions_started_total{agent=\"x.agent\"} 1\n"));
	assert_non_null(strstr(t, "agentwall_sessions_sandboxed_total{agent="
				  "\"x.agent\",policy=\"coding-agent\"} 1\n"));
	free(t);
	event(m, "session-end", "allow", 1, "x.agent", NULL);
	event(m, "session-end", "allow", 1, "x.agent", NULL); /* again */
	event(m, "session-end", "allow", 99, NULL, NULL);     /* unknown */
	t = render(m, 1);
	assert_non_null(strstr(t, "agentwall_sessions_live{agent=\"x.agent\","
				  "policy=\"coding-agent\"} 0\n"));
	assert_non_null(strstr(t, "agentwall_sessions_live{agent=\"q\\\"b\\\\c"
				  "\\nd\",policy=\"p1\"} 1\n"));
	free(t);
	aw_metrics_free(m);
}

static void test_histogram(void **state)
{
	struct aw_metrics *m = new_metrics();
	char *t;

	(void)state;
	aw_metrics_force_stopped(m, 7, 1000000000ull);
	aw_metrics_force_stopped(m, 8, 1000000000ull);
	aw_metrics_force_contained(m, 7, 1003000000ull); /* 3 ms */
	aw_metrics_force_contained(m, 8, 1020000000ull); /* 20 ms */
	aw_metrics_force_contained(m, 9, 1020000000ull); /* never stopped */
	t = render(m, 1);
	assert_non_null(strstr(
	    t, "agentwall_force_latency_seconds_bucket{le=\"0.0025\"} 0\n"));
	assert_non_null(strstr(
	    t, "agentwall_force_latency_seconds_bucket{le=\"0.005\"} 1\n"));
	assert_non_null(strstr(
	    t, "agentwall_force_latency_seconds_bucket{le=\"0.025\"} 2\n"));
	assert_non_null(strstr(
	    t, "agentwall_force_latency_seconds_bucket{le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(t, "agentwall_force_latency_seconds_count 2\n"));
	assert_non_null(
	    strstr(t, "agentwall_force_latency_seconds_sum 0.023000000\n"));
	assert_non_null(strstr(t, "# UNIT agentwall_force_latency_seconds "
				  "seconds\n"));
	free(t);
	aw_metrics_free(m);
}

static void test_null(void **state)
{
	struct aw_emit_info e = {.action = "exec"};

	(void)state;
	/* Without --metrics every call is a no-op. */
	aw_metrics_event(NULL, &e, "allow", NULL);
	aw_metrics_dns(NULL, AW_METRICS_DNS_ALLOW);
	aw_metrics_force_stopped(NULL, 1, 1);
	aw_metrics_force_contained(NULL, 1, 2);
	aw_metrics_rejected(NULL, AW_METRICS_REJ_BUSY);
	aw_metrics_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_listen),    cmocka_unit_test(test_events),
	    cmocka_unit_test(test_bounds),    cmocka_unit_test(test_sessions),
	    cmocka_unit_test(test_histogram), cmocka_unit_test(test_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
