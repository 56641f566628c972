#!/bin/bash
# The store answers "what did this agent do": filters by session, agent,
# action, decision and time; --json; retention; works with the daemon
# stopped; survives a restart.
. "$(dirname "$0")/../lib.sh"
make_fake_agent
start_daemon --signatures "$T/sigs" --quiet --max-events 400 || { nok "daemon starts"; exit 1; }

in_scope "$(FAKE)" -c 'echo $$ > '"$T"'/a.pid; /bin/true; /bin/echo one > /dev/null'
sleep 1.1
t_mid=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sleep 1.1
in_scope "$(FAKE)" -c 'echo $$ > '"$T"'/b.pid; /bin/echo two > /dev/null'
in_scope "$T/bin/node" "$T/proj/node_modules/.bin/mcp-server-thing" > /dev/null
wait_for events action=session-end agent.id=test.mcp-thing
sa=$(events action=session-start process.pid="$(cat "$T/a.pid")" --field session)
sb=$(events action=session-start process.pid="$(cat "$T/b.pid")" --field session)
sleep 0.5 # the store commits every 200 ms

aw log --session "$sa" --json > "$T/la.json"
check "--session selects one session's events" \
	python3 -c "
import json,sys
ev=[json.loads(l) for l in open('$T/la.json')]
sys.exit(0 if ev and all(e['session']=='$sa' for e in ev) else 1)"
check "  ... including its children's execs" grep -q '"target":"/bin/true"' "$T/la.json"
check "--agent by id" test "$(aw log --agent test.mcp-thing --action session-start | wc -l)" = 1
check "--agent by vendor prefix" test "$(aw log --agent test --action session-start | wc -l)" = 3
check "--action" test "$(aw log --action exit --session "$sb" | wc -l)" -ge 2
check "--decision allow (the spine only observes)" test "$(aw log --decision allow | wc -l)" -gt 5
check "--decision deny is empty" test "$(aw log --decision deny | wc -l)" = 0
check "--since splits the two runs" test "$(aw log --since "$t_mid" --action session-start --agent test.fake-agent | wc -l)" = 1
check "--until too" test "$(aw log --until "$t_mid" --action session-start | wc -l)" = 1
check "--since with an age" test "$(aw log --since 10m --action session-start | wc -l)" = 3
check "--limit keeps the newest" test "$(aw log --limit 2 | wc -l)" = 2
aw log --since yesterday 2>/dev/null; rc=$?
check "bad --since is a usage error" test $rc = 2
aw log --session xyz 2>/dev/null; rc=$?
check "bad --session is a usage error" test $rc = 2

# --follow prints new events as they are committed.
"$AW" --state-dir "$STATE" log --follow --from-start --json --action session-start > "$T/follow.json" &
fpid=$!
sleep 0.5
in_scope "$(FAKE)" -c 'echo $$ > '"$T"'/f.pid'
check "log --follow shows a new session as it happens" \
	wait_for grep -q "\"pid\":$(cat "$T/f.pid")," "$T/follow.json"
check "  ... after the existing ones, each once" \
	test "$(grep -c '"action":"session-start"' "$T/follow.json")" = 4
kill "$fpid"; wait "$fpid" 2>/dev/null

# Restart: the store keeps everything, new events append.
stop_daemon
check "log works with the daemon stopped" test "$(aw log --session "$sa" | wc -l)" -ge 3
before=$(aw log | wc -l)
start_daemon --signatures "$T/sigs" --quiet --max-events 400 || nok "daemon restarts"
in_scope "$(FAKE)" -c '/bin/true'
sleep 0.6
check "store survives a restart and grows" test "$(aw log | wc -l)" -gt "$before"

# Retention: --max-events 400 bounds the table (pruned periodically and
# at most one prune interval late; we ask for a prune by restarting).
in_scope "$(FAKE)" -c 'for i in $(seq 300); do /bin/true; done'
sleep 1
stop_daemon
start_daemon --signatures "$T/sigs" --quiet --max-events 400 || nok "daemon restarts"
stop_daemon
check "retention bounds the event count" test "$(aw log | wc -l)" -le 400
sqlite3 "$STATE/events.db" 'select max(version) from schema_version' > "$T/ver" 2>/dev/null || python3 -c "
import sqlite3; print(sqlite3.connect('$STATE/events.db').execute('select max(version) from schema_version').fetchone()[0])" > "$T/ver"
check "store has a schema version (2: hash-chained)" test "$(cat "$T/ver")" = 2
