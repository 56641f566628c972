#!/bin/bash
# The daemon dies (SIGKILL): its pinned programs and task storage go on
# tracking sessions; a new daemon adopts the pins and picks them up.
. "$(dirname "$0")/../lib.sh"
make_fake_agent
t0=$(date -u +%Y-%m-%dT%H:%M:%S)
start_daemon --signatures "$T/sigs" --quiet || { nok "daemon starts"; exit 1; }

in_scope "$(FAKE)" -c '
	echo $$ > '"$T"'/root.pid
	while [ ! -e '"$T"'/go ]; do sleep 0.05; done
	/bin/sh -c "echo \$\$ > '"$T"'/child.pid; while [ ! -e '"$T"'/end ]; do sleep 0.05; done"
' &
wait_for test -s "$T/root.pid"
root=$(cat "$T/root.pid")
check "session opened" wait_for events action=session-start process.pid="$root"
sess=$(events action=session-start process.pid="$root" --field session)

# A session whose network is confined (the default policy's `network:
# []`) leaves its cgroup's record in the kernel (for its sockets).
in_scope "$AW" --state-dir "$STATE" run -- true >/dev/null 2>&1
known() { aw status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["network"]["cgroups_known"])'; }
before=$(known)
check "a confined session's cgroup is recorded for its sockets ($before)" test "$before" -ge 1

kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=""
check "after a crash the links stay pinned (enforcement outlives the daemon)" \
	test -e "$PINS/link_exec" -a -e "$PINS/aw_tasks"

# While no daemon runs, the agent starts a child.
touch "$T/go"
wait_for test -s "$T/child.pid"
child=$(cat "$T/child.pid")

start_daemon --signatures "$T/sigs" --quiet || { nok "daemon restarts on the old pins"; exit 1; }
ok "a new daemon starts on the pins of a crashed one"
check "it says it adopted them" wait_for events action=notice rule=daemon/adopt
after=$(known)
check "  ... and the new daemon takes over those records, to prune in their turn ($before -> $after)" test "$after" -ge "$before"
check "the child started while no daemon ran was recorded from the ring" \
	wait_for events action=exec process.pid="$child" session="$sess"
aw ps --json > "$T/ps.json"
check "ps shows the session kept across the restart" \
	python3 -c "
import json,sys
ss=[s for s in json.load(open('$T/ps.json')) if s['session']=='$sess']
pids=[p['pid'] for p in ss[0]['processes']] if ss else []
sys.exit(0 if ss and ss[0]['agent']['id']=='test.fake-agent' and $root in pids and $child in pids
         and ss[0]['started'][:19] >= '$t0' else 1)"
in_scope "$(FAKE)" -c 'echo $$ > '"$T"'/new.pid'
check "new sessions after the restart work" \
	wait_for events action=session-start process.pid="$(cat "$T/new.pid")"
touch "$T/end"
check "the adopted session ends when its processes exit" \
	wait_for events action=session-end session="$sess"
"$AWD" --scope "cgroup:$CG" --state-dir "$T/state2" --bpffs-dir "$PINS" 2>"$T/second.err"
check "a second daemon on the live pins is refused" grep -q 'in use' "$T/second.err"
stop_daemon
check "a clean stop removes the pins" test ! -e "$PINS"
