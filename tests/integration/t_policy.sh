#!/bin/bash
# Policies: check with precise errors, atomic load (a broken set is
# refused and the one in force stays), ownership, and what a session gets.
. "$(dirname "$0")/../lib.sh"
make_fake_agent
P=$T/pol
mkdir -p "$P"
cp "$AW_ROOT"/policies/*.yaml "$P/"
chmod 644 "$P"/*.yaml

check "the shipped templates pass policy check" aw policy check "$P"
out=$(aw policy check "$P/default.yaml" 2>&1)
check "  ... one file alone too" test $? = 0

bad() { # bad NAME EXPECTED-SUBSTRING YAML
	printf '%s\n' "$3" > "$T/bad-$1.yaml"
	out=$(aw policy check "$T/bad-$1.yaml" 2>&1); rc=$?
	if [ $rc = 4 ] && grep -q "bad-$1.yaml:[0-9]*:[0-9]*: .*$2" <<<"$out"; then
		ok "policy check: $1 -> file:line:column: ...$2..."
	else
		nok "policy check: $1 (rc $rc): $out"
	fi
}
bad unknown-key "unknown" 'version: 1
id: x
filesystem:
  - id: a
    deny: ["/x"]
    colour: red'
bad dotdot "\.\." 'version: 1
id: x
filesystem:
  - id: a
    cow: ["/home/../etc"]'
bad relative "absolute\|path" 'version: 1
id: x
filesystem:
  - id: a
    deny: ["etc/passwd"]'
bad contradiction "contradict\|both\|under" 'version: 1
id: x
filesystem:
  - id: a
    deny: ["/srv/x"]
  - id: b
    cow: ["/srv/x"]'
bad two-verbs "verb" 'version: 1
id: x
filesystem:
  - id: a
    deny: ["/x"]
    cow: ["/y"]'
python3 -c 'print("version: 1\nid: x\nfilesystem:\n  - id: a\n    deny: [" + ",".join("\"/p%d\"" % i for i in range(5000)) + "]")' > "$T/bad-huge.yaml"
out=$(aw policy check "$T/bad-huge.yaml" 2>&1); rc=$?
check "policy check: a huge list is refused with a limit error" test $rc = 4
printf 'version: 1\nid: x\ndescription: "\xff\xfe"\n' > "$T/bad-utf8.yaml"
out=$(aw policy check "$T/bad-utf8.yaml" 2>&1); rc=$?
check "policy check: non-UTF-8 is refused (exit 4)" test $rc = 4
check "  ... with a position" grep -q 'bad-utf8.yaml:[0-9]' <<<"$out"
cp "$P/default.yaml" "$T/ww.yaml"; chmod 666 "$T/ww.yaml"
out=$(aw policy check "$T/ww.yaml" 2>&1); rc=$?
check "policy check: a file writable by others is refused (exit 4)" test $rc = 4
check "  ... saying why" grep -qi 'writable' <<<"$out"

# The daemon on this directory; a policy change is visible to new sessions.
start_daemon --signatures "$T/sigs" --policies "$P" || { nok "daemon starts"; exit 1; }
mkdir -p "$T/ws"; cd "$T/ws"
run() { in_scope "$AW" --state-dir "$STATE" run --workspace "$T/ws" "$@"; }
check "run --policy picks a loaded policy" run --policy mcp-server -- /bin/true
check "  ... which the sandbox event names" wait_for events action=sandbox rule=run/mcp-server
check "run --policy with an unknown id is refused" sh -c "! run --policy nope -- /bin/true 2>/dev/null"

# A broken set: refused by load and by SIGHUP; the one in force stays.
gen1=$(aw policy list | wc -l)
printf 'version: 1\nid: default\nfilesystem:\n  - id: a\n    bogus: 1\n' > "$P/default.yaml"
out=$(aw policy load 2>&1); rc=$?
check "policy load: a broken set is refused (exit 4)" test $rc = 4
check "  ... with file:line:column" grep -q 'default.yaml:[0-9]*:[0-9]*:' <<<"$out"
kill -HUP "$DAEMON_PID"; sleep 0.3
check "  ... SIGHUP refuses it too, the daemon keeps running" kill -0 "$DAEMON_PID"
check "  ... the policy in force still works" run -- /bin/true
check "  ... and still has its rules" test "$(aw policy list | wc -l)" = "$gen1"
cp "$AW_ROOT/policies/default.yaml" "$P/default.yaml"; chmod 666 "$P/default.yaml"
out=$(aw policy load 2>&1); rc=$?
check "policy load: a file writable by others is refused" test $rc = 4
chmod 644 "$P/default.yaml"
# A real change: a site policy that grants the workspace write in place.
cat > "$P/site.yaml" <<'YAML'
version: 1
id: site-writer
extends: default
applies-to:
  agents: [test.fake-agent]
remove: [workspace]
filesystem:
  - id: workspace-rw
    write: ["{workspace}"]
process:
  pids-max: 64
YAML
chmod 644 "$P/site.yaml"
check "policy load: a good set is swapped in" aw policy load
run "$(FAKE)" -c 'echo direct > written.txt'
check "the new policy applies to the next session (plain write grant)" \
	test "$(cat "$T/ws/written.txt" 2>/dev/null)" = direct
check "  ... and is named by the session" wait_for events action=sandbox rule=run/site-writer

# A fork bomb in a session is bounded by its cgroup (pids-max 64).
out=$(run "$(FAKE)" -c 'exec python3 -c "
import os, time
n = 0
for i in range(500):
    try:
        if os.fork() == 0:
            time.sleep(5); os._exit(0)
        n += 1
    except OSError:
        break
print(\"started:%d\" % n)"' 2>/dev/null)
m=$(grep -o 'started:[0-9]*' <<<"$out" | cut -d: -f2)
check "fork bomb: bounded by the session's pids limit (started ${m:-?} of 500)" \
	test -n "$m" -a "${m:-999}" -lt 64
check "fork bomb: the daemon is unharmed" kill -0 "$DAEMON_PID"
check "fork bomb: the refused forks are recorded (rule site-writer/process.pids-max)" \
	wait_for events action=fork decision=deny target=pids-max rule=site-writer/process.pids-max

cd /
stop_daemon
