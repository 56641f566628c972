#!/bin/bash
# Discovery at exec, in the kernel, within the scope only.
. "$(dirname "$0")/../lib.sh"
make_fake_agent
start_daemon --signatures "$T/sigs" || { nok "daemon starts"; exit 1; }
ok "daemon starts with a cgroup scope"

# The stand-in agent, started in scope, opens a session at its exec.
in_scope "$(FAKE)" -c 'echo $$ > '"$T"'/agent.pid; /bin/true; exit 3'
apid=$(cat "$T/agent.pid")
check "agent in scope opens a session" \
	wait_for events action=session-start agent.id=test.fake-agent process.pid="$apid"
check "its exec names the signature rule" \
	events action=exec process.pid="$apid" 'rule=signature/test.fake-agent:exe:*'
check "its child /bin/true is in the session" \
	wait_for events action=exec target=/bin/true agent.id=test.fake-agent
sess=$(events action=exec process.pid="$apid" --field session | head -1)
check "child exec carries the same session" \
	events action=exec target=/bin/true session="$sess"
check "exit is recorded with the status" \
	wait_for events action=exit process.pid="$apid" exit_code=768

# The classification happened before the agent ran: the very first exec
# event of the agent is its own (nothing it ran came earlier).
first=$(events session="$sess" --field action | head -2 | tr '\n' ' ')
check "session begins with session-start then the agent's own exec" \
	test "$first" = "session-start exec "

# Out of scope: the same agent binary started outside the cgroup.
"$(FAKE)" -c 'echo $$ > '"$T"'/out.pid; /bin/true'
opid=$(cat "$T/out.pid")
sleep 0.5
check "agent outside the scope is not classified" \
	test "$(events process.pid="$opid" --count)" = 0

# Non-agents in scope produce no events.
before=$(events --count)
in_scope /bin/sh -c '/bin/true; /bin/ls / >/dev/null; exit 0'
sleep 0.5
check "non-agent processes in scope produce no events" \
	test "$(events --count)" = "$before"

# A renamed copy of the agent does not match by path (expected: the path
# signature only opens sessions; identity then follows lineage).
cp "$(FAKE)" "$T/bin/innocent"
in_scope "$T/bin/innocent" -c 'echo $$ > '"$T"'/ren.pid'
sleep 0.5
check "a renamed copy outside the signature paths is not classified" \
	test "$(events process.pid="$(cat "$T/ren.pid")" --count)" = 0

# Exact file identity: the agent's file, once classified by its path, is
# recognised under any other name that is the same file.
ln "$(FAKE)" "$T/bin/hardlinked"
in_scope "$T/bin/hardlinked" -c 'echo $$ > '"$T"'/hl.pid'
check "a hard link of a classified agent is classified (inode identity)" \
	wait_for events action=session-start process.pid="$(cat "$T/hl.pid")" 'rule=signature/test.fake-agent:inode:*'
mv "$T/bin/hardlinked" "$T/bin/renamed"
in_scope "$T/bin/renamed" -c 'echo $$ > '"$T"'/mv.pid'
check "  ... and so is the same file renamed" \
	wait_for events action=session-start process.pid="$(cat "$T/mv.pid")" agent.id=test.fake-agent
cp "$T/bin/renamed" "$T/bin/copied"
in_scope "$T/bin/copied" -c 'echo $$ > '"$T"'/cp.pid'
sleep 0.5
check "  ... a copy (a new file) is not: copies are matched by path only" \
	count_is 0 process.pid="$(cat "$T/cp.pid")"
aw status --json > "$T/status.json"
check "status counts the learned identities" grep -q '"learned_files":1' "$T/status.json"

# Interpreter + script: node running an MCP server's bin link, started by
# a non-agent, is classified on its own (class mcp-server).
in_scope "$T/bin/node" "$T/proj/node_modules/.bin/mcp-server-thing" --root /tmp \
	> "$T/mcp.out"
check "interpreter + script (bin link) classified" \
	wait_for events action=session-start agent.id=test.mcp-thing
in_scope "$T/bin/node" "$T/proj/node_modules/@fake/mcp-thing/dist/index.js" > /dev/null
check "interpreter + script (real path) classified" \
	wait_for events action=exec 'rule=signature/test.mcp-thing:script:**/node_modules/@fake/mcp-thing/dist/index.js'
( cd "$T/proj" && in_scope "$T/bin/node" node_modules/.bin/mcp-server-thing >/dev/null )
check "interpreter + relative script path classified" \
	wait_for count_ge 3 action=session-start agent.id=test.mcp-thing
in_scope "$T/bin/node" "$T/proj/node_modules/.bin/not-a-server" 2>/dev/null
in_scope "$T/bin/node" --stack-size=1 "$T/proj/README" 2>/dev/null
sleep 0.5
check "unknown scripts are not matched" \
	test "$(events action=session-start agent.id=test.mcp-thing --count)" = 3
in_scope "$T/bin/node" "$T/proj/x/../node_modules/.bin/mcp-server-thing" >/dev/null 2>&1
check "'..' before the matched suffix cannot hide it" \
	wait_for count_is 4 action=session-start agent.id=test.mcp-thing

# status says what the kernel offers and what the daemon does.
aw status --json > "$T/status.json"
check "status --json is valid JSON" python3 -c "import json; json.load(open('$T/status.json'))"
check "status reports the probed kernel features" \
	grep -q '"landlock_abi":[1-9]' "$T/status.json"
check "status reports the BPF LSM as probed (listed vs loads)" \
	grep -q '"bpf_lsm_loads":\(true\|false\)' "$T/status.json"
check "status reports the scope" grep -q "\"scope\":\"cgroup:$CG\"" "$T/status.json"
aw status > "$T/status.txt"
check "status text form" grep -q 'backend: portable' "$T/status.txt"

# Pins exist while running, are removed on exit; a second daemon on the
# same pin directory is refused without touching the first.
check "links and maps pinned" test -e "$PINS/link_exec" -a -e "$PINS/aw_tasks"
"$AWD" --scope "cgroup:$CG" --state-dir "$T/state2" --bpffs-dir "$PINS" 2>"$T/second.err"
check "second daemon on the same pins refused" grep -q 'in use by a running agentwalld' "$T/second.err"
check "first daemon still answers" sh -c "$AW --state-dir $STATE status --json >/dev/null"
stop_daemon
check "pins removed on exit" test ! -e "$PINS"
check "socket removed on exit" test ! -e "$STATE/agentwalld.sock"
check "store kept on exit" test -s "$STATE/events.db"

# Bad options: usage errors exit 2 with a message.
"$AWD" --scope bogus 2>"$T/e1"; rc=$?
check "bad --scope is a usage error" test $rc = 2 -a -s "$T/e1"
"$AWD" --mode maybe 2>"$T/e2"; rc=$?
check "bad --mode is a usage error" test $rc = 2
"$AWD" --scope "cgroup:/nonexistent-cg" --state-dir "$T/s3" --bpffs-dir "$PINS-x" 2>"$T/e3"; rc=$?
check "missing scope cgroup refused" test $rc = 1
check "  ... and leaves no pins" test ! -e "$PINS-x"
rm -rf "$PINS-x"
