#!/bin/bash
# Bad input: hostile argv, very long paths, exec storms, control-socket
# garbage. Each gets a clear error or a counted drop; the daemon runs on.
. "$(dirname "$0")/../lib.sh"
make_fake_agent
start_daemon --signatures "$T/sigs" --quiet || { nok "daemon starts"; exit 1; }

# argv with newlines, invalid UTF-8, quotes, escapes, control characters.
in_scope "$(FAKE)" -c 'exec /bin/echo "line1
line2" "$(printf "\xff\xfe\xc0\xaf")" "q\"uote\\" "$(printf "\x01\x1b[31m")" > /dev/null'
check "hostile argv recorded" wait_for events action=exec target=/bin/echo
check "  ... export stays valid JSON" events --valid
check "  ... newline kept as data" \
	python3 -c "
import json,sys
for l in open('$T/export.jsonl'):
    e=json.loads(l)
    if e['action']=='exec' and e['target']=='/bin/echo':
        sys.exit(0 if e['process']['argv'][1]=='line1\nline2' and '\ufffd' in e['process']['argv'][2] else 1)
sys.exit(1)"
aw log --action exec > "$T/log.txt"
check "  ... text log escapes it on one line" \
	test "$(grep -c 'exec  *[/]bin/echo line1.x0aline2 .xff.xfe.xc0.xaf ' "$T/log.txt")" = 1
aw log --action exec --json > "$T/log.json"
check "  ... log --json is valid JSON lines" python3 -c "
import json
for l in open('$T/log.json'): json.loads(l)"

# Very long paths: a stand-in agent 40 directories deep (> 4 KiB path),
# exec'ing a binary at the same depth.
deep=$T
for i in $(seq 40); do deep=$deep/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd; done
mkdir -p "$deep/opt/fakeagent/bin"
cp /bin/bash "$deep/opt/fakeagent/bin/fake-agent"
cp /bin/true "$deep/true"
( cd "$deep" && in_scope ./opt/fakeagent/bin/fake-agent -c 'echo $$ > '"$T"'/deep.pid; ./true' )
check "agent 40 levels deep classified by suffix" \
	wait_for events action=session-start process.pid="$(cat "$T/deep.pid")"
check "  ... a >4 KiB exec path is recorded as truncated" \
	wait_for events action=exec target="$T/ddd*" truncated.0=exe

# Huge argv: truncated at the kernel's limit, flagged.
in_scope "$(FAKE)" -c '/bin/true '"$(head -c 6000 /dev/zero | tr '\0' x)"
check "huge argv flagged as truncated" \
	wait_for events action=exec target=/bin/true truncated.0=argv

# An exec storm: 20000 execs from one agent. Every exec is either stored
# or counted as dropped; none disappears silently.
in_scope "$(FAKE)" -c 'echo $$ > '"$T"'/storm.pid; '"$TESTPROC"' storm 20000 /bin/true > '"$T"'/rate'
spid=$(cat "$T/storm.pid")
sleep 2
wait_for sh -c "$AW --state-dir $STATE status --json > $T/st.json && python3 -c \"
import json,sys; d=json.load(open('$T/st.json'))
sys.exit(0 if d['events']['received'] + d['drops']['total'] >= d['events']['kernel_submitted'] else 1)\""
sess=$(events action=session-start process.pid="$spid" --field session)
n=$(aw log --session "$sess" --action exec | grep -c '/bin/true')
drops=$(python3 -c "import json; print(json.load(open('$T/st.json'))['drops']['exec'])")
echo "# storm: $(cat "$T/rate") execs/s, $n exec events stored, $drops exec records dropped"
check "exec storm: stored + dropped accounts for every exec" test $((n + drops)) -ge 20000
check "daemon alive after the storm" kill -0 "$DAEMON_PID"

# Control socket abuse.
sock=$STATE/agentwalld.sock
py() { python3 - "$sock" "$@"; }
py <<'PY' > "$T/c1"
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"\xff\xfe garbage \x00\x01\n"); print(s.recv(4096).decode("utf-8", "replace"))
PY
check "garbage request gets a clear error" grep -q 'error: unknown request' "$T/c1"
py <<'PY' > "$T/c2"
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"A" * 20000); print(s.recv(4096).decode())
PY
check "oversized request refused" grep -q 'too long' "$T/c2"
py <<'PY'
import socket, sys
for i in range(200):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
    s.sendall(b"stat"); s.close()          # close mid-message
PY
check "clients closing mid-message: daemon still answers" sh -c "$AW --state-dir $STATE status --json >/dev/null"
py <<'PY' &
import socket, sys, time
conns = []
for i in range(100):                       # more than the client slots
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); conns.append(s)
time.sleep(8)
PY
hold=$!
sleep 1
check "stalled clients do not block others (idle ones are reaped)" \
	wait_for sh -c "$AW --state-dir $STATE status --json >/dev/null 2>&1"
kill $hold 2>/dev/null; wait $hold 2>/dev/null
chmod 755 "$T" "$STATE"; chmod 666 "$sock"
setpriv --reuid=65534 --regid=65534 --clear-groups "$AW" --state-dir "$STATE" status 2>"$T/c3"; rc=$?
check "non-root peer refused by peer credentials" test $rc = 1 -a -n "$(grep -i 'permission denied' "$T/c3")"
chmod 600 "$sock"
"$AW" --state-dir "$T/nowhere" status 2>/dev/null; rc=$?
check "CLI exit code 3 when the daemon is not reachable" test $rc = 3
"$AW" frobnicate 2>/dev/null; rc=$?
check "CLI exit code 2 on an unknown command" test $rc = 2
check "daemon alive after all that" kill -0 "$DAEMON_PID"

# --group: members of the configured group may use the socket.
if getent group nogroup >/dev/null; then
	stop_daemon
	start_daemon --signatures "$T/sigs" --quiet --group nogroup || nok "daemon starts with --group"
	# (Anyone may connect to ask for a session; everything else is
	# checked per request against the peer's credentials.)
	check "socket mode 0666, requests checked per peer" \
		test "$(stat -c '%a' "$STATE/agentwalld.sock")" = 666
	chmod 755 "$T"
	check "a member of the configured group is allowed" \
		sh -c "setpriv --reuid=65534 --regid=65534 --clear-groups $AW --state-dir $STATE status --json >/dev/null"
	check "a member can read the store (agentwall log)" \
		sh -c "setpriv --reuid=65534 --regid=65534 --clear-groups $AW --state-dir $STATE log --limit 1 >/dev/null"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$AW" --state-dir "$STATE" signatures reload 2>"$T/rl.err"; rc=$?
	check "a member cannot reload the signatures (root only)" \
		test $rc != 0 -a -n "$(grep 'needs root' "$T/rl.err")"
	setpriv --reuid=65534 --regid=$(id -g daemon) --clear-groups "$AW" --state-dir "$STATE" status 2>/dev/null; rc=$?
	check "a non-member cannot connect" test $rc != 0
else
	skip "--group" "no group named nogroup on this machine"
fi

# A full ring buffer: the daemon is stopped while an agent storms, with a
# 1 MiB ring. Sessions are still decided in the kernel; the lost records
# are counted, reported as a drop event, in status and in the store.
stop_daemon
start_daemon --signatures "$T/sigs" --quiet --ring-mib 1 || nok "daemon starts with a 1 MiB ring"
kill -STOP "$DAEMON_PID"
in_scope "$(FAKE)" -c 'echo $$ > '"$T"'/full.pid; '"$TESTPROC"' spin 30000 > /dev/null; /bin/true'
kill -CONT "$DAEMON_PID"
check "drops are reported as an event" wait_for events action=drop rule=kernel/ringbuf-full
aw status --json > "$T/st.json"
check "  ... and counted in status" python3 -c "
import json,sys; d=json.load(open('$T/st.json')); sys.exit(0 if d['drops']['fork'] + d['drops']['exit'] > 0 else 1)"
check "  ... and recorded in the store" test "$(aw log --action drop | wc -l)" -ge 1
check "  ... the session itself was not lost (decided before reporting)" \
	wait_for events action=session-start process.pid="$(cat "$T/full.pid")"
check "  ... and it still ends when its processes are gone (reconciled)" \
	wait_for events action=session-end session="$(events action=session-start process.pid="$(cat "$T/full.pid")" --field session)"

# --export refuses what is not a plain file of root's.
stop_daemon
mkfifo "$T/fifo"
timeout 5 "$AWD" --scope "cgroup:$CG" --state-dir "$T/s4" --bpffs-dir "$PINS-e" --export "$T/fifo" 2>"$T/e4"; rc=$?
check "--export to a FIFO refused (no hang)" test $rc = 1 -a -n "$(grep -e '--export' "$T/e4")"
rm -rf "$PINS-e"

# A FIFO named package.json above an agent's script must not block the
# daemon (version lookup opens it).
start_daemon --signatures "$T/sigs" --quiet || nok "daemon restarts"
mkdir -p "$T/trap/node_modules/@fake/mcp-thing/dist"
cp "$T/proj/node_modules/@fake/mcp-thing/dist/index.js" "$T/trap/node_modules/@fake/mcp-thing/dist/"
mkfifo "$T/trap/node_modules/@fake/mcp-thing/package.json"
in_scope "$T/bin/node" "$T/trap/node_modules/@fake/mcp-thing/dist/index.js" >/dev/null
check "a FIFO package.json does not block the daemon" \
	wait_for sh -c "timeout 3 $AW --state-dir $STATE status --json >/dev/null"

# The session's seccomp program goes only to a launcher that asks for it
# (seccomp=prog): one that does not know the line would take it for a
# malformed rule and start no session. (Each client its own process: the
# daemon places the one that opened a session in it.)
sock=$STATE/agentwalld.sock
for ask in "" " seccomp=prog"; do
	in_scope python3 - "$sock" "$T" "$ask" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"session-open v=1 forced=0" + sys.argv[3].encode() + b" workspace=" + sys.argv[2].encode() + b" exe=/bin/true\n")
data = b""
while not data.endswith(b"end\n") and not data.startswith(b"error"):
    c = s.recv(65536)
    if not c:
        break
    data += c
print("asked" if sys.argv[3] else "plain", "ok" if data.startswith(b"ok ") else repr(data[:80]),
      "seccomp" if any(l.startswith(b"seccomp ") for l in data.split(b"\n")) else "none")
PY
done > "$T/so" 2>&1
sed 's/^/# /' "$T/so"
check "session-open without seccomp=prog: a reply without the program" grep -q "^plain ok none" "$T/so"
check "  ... with it: the program is sent" grep -q "^asked ok seccomp" "$T/so"
mkdir -p "$T/sws"; out=$(cd "$T/sws" && in_scope "$AW" --state-dir "$STATE" run -- /bin/echo in-session 2>&1)
echo "$out" | sed 's/^/# /'
check "  ... and agentwall run asks for it and starts its session" grep -q in-session <<<"$out"
