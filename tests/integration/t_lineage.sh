#!/bin/bash
# Everything an agent spawns belongs to its session: double forks, setsid,
# daemonizing and reparenting to init, scripts, threads, sub-agents.
. "$(dirname "$0")/../lib.sh"
make_fake_agent
start_daemon --signatures "$T/sigs" || { nok "daemon starts"; exit 1; }

# One agent doing all the shapes; it writes the pids it made.
cat > "$T/work.sh" <<SH
#!/bin/sh
# a shell script exec'd by the agent
echo \$\$ > $T/script.pid
exec /bin/sleep 0.1
SH
chmod +x "$T/work.sh"

in_scope "$(FAKE)" -c '
	echo $$ > '"$T"'/root.pid
	( ( exec /bin/sleep 0.2 ) & ) ; sleep 0.05
	( ( /bin/sh -c "echo \$\$ > '"$T"'/dbl.pid; exec /bin/sleep 0.3" & ) & )
	setsid /bin/sh -c "echo \$\$ > '"$T"'/setsid.pid; exec /bin/sleep 0.3"
	'"$TESTPROC"' daemonize /bin/sh -c "echo \$PPID > '"$T"'/daemon.ppid; exec /bin/sleep 1" > '"$T"'/daemon.pid2
	'"$T"'/work.sh
	'"$TESTPROC"' threads 4 /bin/sh -c "echo \$\$ > '"$T"'/thr.pid; exec /bin/sleep 0.2"
	MCP_SLEEP=1 '"$T"'/bin/node '"$T"'/proj/node_modules/.bin/mcp-server-thing --stdio > /dev/null &
	echo $! > '"$T"'/mcp.pid
	sleep 0.3
	'"$AW"' --state-dir '"$STATE"' ps > '"$T"'/ps.txt
	'"$AW"' --state-dir '"$STATE"' ps --json > '"$T"'/ps.json
	wait
'
root=$(cat "$T/root.pid")
wait_for events action=exec process.pid="$root" >/dev/null
sess=$(events action=exec process.pid="$root" --field session | head -1)
check "root opened a session" test -n "$sess"

for what in dbl setsid script thr; do
	pid=$(cat "$T/$what.pid" 2>/dev/null)
	check "$what: process $pid is in the session" \
		wait_for events action=exec process.pid="$pid" session="$sess"
done
dpid=$(cat "$T/daemon.pid2")
check "daemonized grandchild is in the session" \
	wait_for events action=exec process.pid="$dpid" session="$sess"
check "  ... it was reparented away from its spawner" \
	test "$(cat "$T/daemon.ppid")" != "$root"
check "  ... and its lineage still leads back to the root" \
	test "$(events action=exec process.pid="$dpid" target=/bin/sh --field lineage.0.pid)" = "$root"
check "exec of a shell script is recorded with the script as target" \
	events action=exec target="$T/work.sh" session="$sess"
check "exec from a non-leader thread stays in the session" \
	events action=exec process.pid="$(cat "$T/thr.pid")" target=/bin/sh session="$sess"

mpid=$(cat "$T/mcp.pid")
check "MCP server started by the agent is a sub-agent in the same session" \
	wait_for events action=exec process.pid="$mpid" session="$sess" subagent=true agent.id=test.mcp-thing agent.class=mcp-server
check "  ... only one session was opened" \
	test "$(events action=session-start --count)" = 1
check "lineage runs from the session root to the actor" \
	test "$(events action=exec process.pid="$mpid" --field lineage.0.pid)" = "$root"

check "ps shows the session with the agent identity" grep -q "test.fake-agent (Test Fake Agent" "$T/ps.txt"
check "ps shows the sub-agent" grep -q "sub-agent test.mcp-thing, mcp-server" "$T/ps.txt"
check "ps --json is valid JSON" python3 -c "import json; json.load(open('$T/ps.json'))"
check "ps --json lists the root pid" grep -q "\"root_pid\":$root" "$T/ps.json"

check "session ends when its last process exits" \
	wait_for events action=session-end session="$sess"
check "ps shows no live session after the end" \
	wait_for sh -c "$AW --state-dir $STATE ps | grep -q 'no live agent sessions'"
check "export stream is valid JSON throughout" events --valid
