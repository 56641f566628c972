#!/bin/bash
# Forced containment: in enforce mode an agent started outside any session
# (from a plain shell) is put into one before its first instruction,
# transparently; if that cannot be done it does not run.
. "$(dirname "$0")/../lib.sh"
make_fake_agent
H=$T/home
mkdir -p "$H/.ssh" "$T/ws"
echo "PRIVATE KEY" > "$H/.ssh/id_rsa"
echo original > "$T/ws/a.txt"
export HOME=$H
cd "$T/ws"

start_daemon --signatures "$T/sigs" --mode enforce ||
	{ nok "daemon starts in enforce mode"; exit 1; }

# The stand-in agent, started from a plain shell: argv, environment, cwd,
# fds and exit status are its own; it runs inside a session's sandbox.
exec 7>"$T/fd7"
out=$(in_scope env AW_PROBE=probe-value "$(FAKE)" -c '
	echo "argv:$0:$1"; echo "env:$AW_PROBE"; echo "cwd:$PWD"
	echo fd7 >&7
	cat ~/.ssh/id_rsa >/dev/null 2>&1 && echo "secret:readable" || echo "secret:masked"
	echo changed > a.txt; echo "pid1:$(cat /proc/1/comm)"
	exit 5' fake0 arg1 2>"$T/agent.err")
rc=$?
exec 7>&-
check "forced: exit status passes through" test $rc = 5
check "forced: argv is the agent's own" grep -qx 'argv:fake0:arg1' <<<"$out"
check "forced: environment kept" grep -qx 'env:probe-value' <<<"$out"
check "forced: cwd kept" grep -qx "cwd:$T/ws" <<<"$out"
check "forced: an inherited fd beyond stdio is closed (sealed session)" test ! -s "$T/fd7"
check "forced: secrets masked inside" grep -qx 'secret:masked' <<<"$out"
check "forced: its write did not reach the real tree" test "$(cat "$T/ws/a.txt")" = original
check "forced: it runs in its own pid namespace" grep -q '^pid1:' <<<"$out"
check "forced: a force event says it was sandboxed" \
	wait_for events action=force decision=sandbox rule=force/launcher
check "forced: the sandbox event names the agent's policy" \
	wait_for events action=sandbox rule=force/coding-agent agent.id=test.fake-agent
# Its changes are kept for review like a `run` session's, and committed.
FS=$(aw sessions | awk 'NR > 1 && / test\.fake-agent / { id = $1 } END { print id }')
check "forced: its session is kept for review (agentwall sessions)" test -n "$FS"
aw diff "$FS" > "$T/forced.diff" 2>&1
check "forced: its edit is in the session's diff" grep -qx '+changed' "$T/forced.diff"
aw commit "$FS" > /dev/null
check "forced: committed, the edit reaches the real tree" test "$(cat "$T/ws/a.txt")" = changed
echo original > "$T/ws/a.txt"
lat=$(events action=force decision=sandbox --field latency_us | head -1)
echo "# forcing took ${lat} us"

# Hostile argv and environment: newlines, invalid UTF-8, a 100 KiB value;
# all reach the forced agent byte for byte.
big=$(head -c 100000 /dev/zero | tr '\0' x)
in_scope env "AW_BIG=$big" "$(FAKE)" -c 'printf "%s" "$1" | od -An -tx1 | tr -d " \n"; echo; echo ${#AW_BIG}' \
	x "$(printf 'a\nb\xff\xfe')" > "$T/hostile.out" 2>"$T/hostile.err"
check "forced: argv with a newline and invalid UTF-8 kept byte for byte" \
	test "$(head -1 "$T/hostile.out")" = 610a62fffe
check "forced: a 100 KiB environment value kept" test "$(sed -n 2p "$T/hostile.out")" = 100000

# A child that renames itself stays in the session, and confined.
out=$(in_scope "$(FAKE)" -c 'exec python3 -c "
import ctypes; ctypes.CDLL(None).prctl(15, b\"innocent\", 0, 0, 0)
try:
    open(\"$HOME/.ssh/id_rsa\").read(); print(\"readable\")
except OSError:
    print(\"masked\")"' 2>/dev/null)
check "forced: a process that renames itself is still confined" test "$out" = masked

# Job control and terminal: the agent in the foreground of an interactive
# shell still reads its terminal (checked with a pty).
out=$(in_scope python3 - "$(FAKE)" <<'PY'
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "-c", "read x; echo got:$x"])
time.sleep(1.0)
os.write(fd, b"typed\n")
buf = b""
end = time.time() + 10
while time.time() < end:
    try:
        d = os.read(fd, 100)
    except OSError:
        break
    if not d:
        break
    buf += d
    if b"got:" in buf:
        break
print(buf.decode(errors="replace"))
os.waitpid(pid, 0)
PY
)
check "forced: the agent reads its controlling terminal" grep -q 'got:typed' <<<"$out"

# A process outside the scope doing the same is never touched.
out=$("$(FAKE)" -c 'cat ~/.ssh/id_rsa' 2>&1)
check "outside the scope: the same agent runs unconfined" test "$out" = "PRIVATE KEY"

# Fail closed: the launcher cannot be executed -> the agent is killed.
stop_daemon
start_daemon --signatures "$T/sigs" --mode enforce --launcher /nonexistent/agentwall ||
	nok "daemon with a broken launcher starts"
in_scope "$(FAKE)" -c 'echo ran > '"$T"'/ran' 2>/dev/null
rc=$?
check "fail closed: forcing failed, the agent did not run" test ! -e "$T/ran"
check "  ... it was killed (status $rc)" test $rc = 137
check "  ... and the event says why" wait_for events action=force decision=deny rule=force/failed

# Fail closed: no live daemon (SIGKILLed, pins left, heartbeat lapsed).
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=""
sleep 5.5
in_scope "$(FAKE)" -c 'echo ran > '"$T"'/ran2' 2>/dev/null
rc=$?
check "fail closed: with no daemon an agent is killed at exec" test ! -e "$T/ran2" -a $rc = 137
start_daemon --signatures "$T/sigs" --mode enforce || nok "daemon restarts (adopts)"
check "  ... reported once a daemon drains the ring" \
	wait_for events action=force decision=deny rule=force/no-daemon
stop_daemon

# Audit mode forces nothing.
start_daemon --signatures "$T/sigs" --mode audit || nok "daemon in audit mode"
out=$(in_scope "$(FAKE)" -c 'cat ~/.ssh/id_rsa' 2>&1)
check "audit: the agent is recorded but not forced" test "$out" = "PRIVATE KEY"
check "audit: its session is recorded" wait_for events action=session-start agent.id=test.fake-agent

# The real Codex CLI from npm, forced.
CODEX=/var/cache/agentwall-tests/npm/node_modules/.bin/codex
stop_daemon
start_daemon --mode enforce || nok "daemon with embedded signatures"
if [ -x "$CODEX" ]; then
	out=$(in_scope "$CODEX" --version 2>&1)
	check "codex: forced and still runs (--version)" grep -qi 'codex' <<<"$out"
	check "codex: its session was sandboxed" \
		wait_for events action=sandbox agent.id=openai.codex-cli rule=force/openai.codex-cli
	out=$(in_scope sh -c "cat $H/.ssh/id_rsa" 2>&1)
	check "a plain shell in scope is not an agent: never denied" test "$out" = "PRIVATE KEY"
else
	skip "codex: forced" "codex not in the npm cache (tools/setup-deps installs it)"
fi
cd /
stop_daemon
