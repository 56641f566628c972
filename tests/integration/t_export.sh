#!/bin/bash
# The SOC's side of the record: the export file in OCSF, `agentwall log
# --ocsf`, a webhook and syslog. Real events (an agent's session, a
# sandboxed session refused a syscall, a connect and a name), every OCSF
# line validated against the OCSF 1.8 schema (tests/ocsf/), every event
# reaching the webhook and syslog receivers; a receiver that is down gets
# the events once it is back; a full queue counts its drops.
#
# The daemon and the sessions run in a network namespace made here that
# has only its loopback: the test's DNS and TCP servers listen there.
. "$(dirname "$0")/../lib.sh"
SCHEMA=$AW_ROOT/tests/ocsf/ocsf-1.8.0.schema.json
CHK="python3 $AW_ROOT/tests/helpers/ocsfcheck.py"
SINK="python3 $AW_ROOT/tests/helpers/outsink.py"
NN=$ID-n
net_ns "$NN" || { nok "network namespace"; exit 1; }
ip -n "$NN" link set lo up
inn() { nsenter --net=/run/netns/"$NN" "$@"; }
SINKS=()
stop_sinks() { local p; for p in "${SINKS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; SINKS=(); }
trap 'stop_sinks; cleanup' EXIT

echo '{"allowed.test": {"A": ["127.0.0.6"], "ttl": 60}, "other.test": {"A": ["127.0.0.7"], "ttl": 60}}' > "$T/zone.json"
inn python3 "$AW_ROOT/tests/helpers/dnsd.py" --zone "$T/zone.json" --pidfile "$T/dnsd.pid" \
	--listen "127.0.0.5:53" --log "$T/dnsd.log" 2>"$T/dnsd.err" &
SINKS+=($!)
inn python3 "$AW_ROOT/tests/helpers/netsrv.py" "$T/netsrv.pid" "127.0.0.6:8080/tcp" "127.0.0.7:8080/tcp" 2>"$T/netsrv.err" &
SINKS+=($!)
wait_for test -s "$T/dnsd.pid" && wait_for test -s "$T/netsrv.pid" ||
	{ nok "test servers start"; cat "$T"/*.err | sed 's/^/# /'; exit 1; }

mkdir -p "$T/policies" "$T/ws"
cp "$AW_ROOT"/policies/*.yaml "$T/policies/"
cat > "$T/policies/exporttest.yaml" <<EOF
version: 1
id: exporttest
extends: coding-agent
network:
  - id: web
    hosts: ["allowed.test"]
    ports: [8080]
  - id: local
    loopback: true
    ports: [8080]
    protocols: [tcp]
EOF
chmod 644 "$T"/policies/*.yaml
# The stand-in agent, and the shipped signatures: the real Codex CLI is
# one of the agents.
fake_agent_bin
{ printf 'version: 1\nsignatures:\n'; fake_agent_sig; } > "$T/sigs/fake.yaml"
cp "$AW_ROOT"/signatures/*.yaml "$T/sigs/"
CODEX=/var/cache/agentwall-tests/npm/node_modules/.bin/codex
cp "$AW_ROOT/tests/helpers/netprobe.py" "$AW_ROOT/tests/helpers/escape.py" "$T/ws/"

# The receivers: a webhook (native lines) and syslog on a unix socket.
inn $SINK http "$T/wh.port" "$T/wh.log" 2>"$T/wh.err" &
SINKS+=($!)
$SINK unix "$T/syslog.sock" "$T/syslog.log" 2>"$T/sl.err" &
SINKS+=($!)
wait_for test -s "$T/wh.port" && wait_for test -S "$T/syslog.sock" || { nok "receivers start"; exit 1; }
WH="http://127.0.0.1:$(cat "$T/wh.port")/ingest"

AWD_WRAP=(nsenter --net=/run/netns/"$NN")
start_daemon --signatures "$T/sigs" --policies "$T/policies" --dns-upstream 127.0.0.5:53 \
	--export-format ocsf --webhook "$WH" --webhook-format native --webhook-batch 7 \
	--syslog "unix:$T/syslog.sock" || { nok "daemon starts"; exit 1; }
check "status names the outputs" sh -c "'$AW' --state-dir '$STATE' status --json | python3 -c '
import json,sys; o=json.load(sys.stdin)[\"outputs\"]
sys.exit(0 if o[\"export\"][\"format\"]==\"ocsf\" and o[\"webhook\"][\"format\"]==\"native\" and o[\"syslog\"][\"format\"]==\"ocsf\" else 1)'"

# Real events: an agent's session (exec, fork, exit, session start and
# end), a sandboxed session whose ptrace is refused (syscall), which
# resolves and reaches an allowed name and is refused another address
# and another name.
in_scope "$(FAKE)" -c 'echo $$ > '"$T"'/a.pid; /bin/true; /bin/echo hi > /dev/null; /bin/sh -c "/bin/sh -c \"/bin/sleep 0; true\"; true"'
# The real Codex CLI, as far as it goes offline: its version.
[ -x "$CODEX" ] && (cd /var/cache/agentwall-tests/npm && in_scope "$CODEX" --version > "$T/codex.out" 2>&1)
cd "$T/ws"
run() { in_scope nsenter --net=/run/netns/"$NN" "$AW" --state-dir "$STATE" \
	run --policy exporttest --workspace "$T/ws" -- "$@" 2>&1; }
run python3 "$T/ws/escape.py" ptrace 1 > "$T/esc.out"
out=$(run python3 "$T/ws/netprobe.py" "resolve allowed.test 4" "connect 127.0.0.6 8080" \
	"connect 127.0.0.7 9090" "resolve other.test 4")
echo "$out" | sed 's/^/# /'
cd "$AW_ROOT"
check "the sandbox refused ptrace" grep -q denied "$T/esc.out"
check "the session reached the allowed address" grep -q "connect 127.0.0.6 8080 ok" <<<"$out"
# Everything stored, then stop: the outputs are flushed at the stop.
sleep 1
stop_daemon

check "export file: OCSF lines, each validates against its class" $CHK validate "$SCHEMA" "$T/export.jsonl"
$CHK validate "$SCHEMA" "$T/export.jsonl" | sed 's/^/# /'
aw log --ocsf > "$T/log.ocsf"
check "log --ocsf: each line validates" $CHK validate "$SCHEMA" "$T/log.ocsf"
aw log --json > "$T/log.json"
n_store=$(wc -l < "$T/log.json")
check "export file: every stored event ($n_store)" test "$(wc -l < "$T/export.jsonl")" = "$n_store"
check "log --ocsf: every stored event" test "$(wc -l < "$T/log.ocsf")" = "$n_store"
check "log --ocsf combines with the filters" \
	test "$(aw log --ocsf --action exec | wc -l)" = "$(aw log --action exec | wc -l)"

# Each kind of event lands in its class with our session, agent, rule.
F=$T/export.jsonl
sa=$(aw log --json --action session-start | python3 -c "
import json,sys
for l in sys.stdin:
    e=json.loads(l)
    if e['process']['pid']==$(cat "$T/a.pid"): print(e['session'])")
has() { [ -n "$($CHK find "$F" "$@")" ]; }
# The sandboxed session that connected.
sr=$(aw log --json --action connect | python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['session'])")
check "exec: Process Activity Launch, the agent and session as actor" \
	has class_uid=1007 activity_id=1 unmapped.action=exec actor.session.uid="$sa" \
	actor.app_uid=test.fake-agent unmapped.target=/bin/true
check "fork: Process Activity Launch" has class_uid=1007 activity_id=1 unmapped.action=fork actor.session.uid="$sa"
check "exit: Process Activity Terminate, with the exit code" \
	has class_uid=1007 activity_id=2 unmapped.action=exit actor.session.uid="$sa" exit_code=0
check "session-start: the signature's rule as policy" \
	has class_uid=1007 unmapped.action=session-start actor.session.uid="$sa" \
	policy.name=signature/test.fake-agent:exe:**/opt/fakeagent/bin/fake-agent
check "exec: the parent as parent_process and actor" sh -c "$CHK find '$F' unmapped.action=exec unmapped.target=/bin/true |
	python3 -c 'import json,sys; e=json.loads(sys.stdin.readline()); p=e[\"process\"]
sys.exit(0 if p[\"parent_process\"][\"pid\"]==$(cat "$T/a.pid") and e[\"actor\"][\"process\"][\"pid\"]==$(cat "$T/a.pid") else 1)'"
check "exec: the lineage as ancestry, newest first, beyond the parent" python3 -c "
import json,sys
lin={}
for l in open('$T/log.json'):
    e=json.loads(l)
    if e['action']=='exec' and e['process']:
        p=e['process']; lin['%d-%d'%(p['pid'],p['start_time'])]=[x['pid'] for x in e['lineage']]
deep=0
for l in open('$F'):
    e=json.loads(l)
    if e['unmapped'].get('action')!='exec': continue
    p=e['process']; want=[x for x in reversed(lin.get(p['uid'],[])) if x!=p['pid']]
    got=[x['pid'] for x in p.get('ancestry',[])]
    if len(want)>1:
        deep+=1
        if got!=want or p['parent_process']['pid']!=want[0]: print('#',got,want); sys.exit(1)
    elif got: sys.exit(1)
print('# execs with a lineage beyond the parent:', deep)
sys.exit(0 if deep else 1)"
check "syscall denial: Kernel Activity Invoke, blocked, the rule" \
	has class_uid=1003 activity_id=4 kernel.name=ptrace disposition_id=2 status_id=2 \
	policy.name=exporttest/seccomp.ptrace
check "connect: Network Activity Open to the address and port" \
	has class_uid=4001 activity_id=1 dst_endpoint.ip=127.0.0.6 dst_endpoint.port=8080 \
	connection_info.direction_id=2 policy.name=exporttest/local actor.session.uid="$sr"
check "connect denial: Network Activity Refuse, blocked" \
	has class_uid=4001 activity_id=5 dst_endpoint.ip=127.0.0.7 dst_endpoint.port=9090 \
	disposition_id=2 status_id=2 policy.name=exporttest/network actor.session.uid="$sr"
check "dns: DNS Activity with the query and the answer" \
	has class_uid=4003 query.hostname=allowed.test rcode_id=0 policy.name=exporttest/web
check "dns denial: DNS Activity, refused" has class_uid=4003 query.hostname=other.test rcode_id=5 disposition_id=2
check "sandbox and session-end: Base Event" has class_uid=0 unmapped.action=session-end
if [ -x "$CODEX" ]; then
	check "real Codex CLI: its session in OCSF, the agent as actor" \
		has class_uid=1007 activity_id=1 unmapped.action=session-start actor.app_uid=openai.codex-cli \
		actor.app_name="Codex CLI" unmapped.agent.vendor=OpenAI
	check "  ... its native binary's exec, in the same session" sh -c "$CHK find '$F' unmapped.action=exec actor.app_uid=openai.codex-cli process.name=codex | grep -q ."
else
	skip "real Codex CLI in OCSF" "codex not in the npm cache (tools/setup-deps installs it)"
fi

# The webhook got every event, batched, as native lines, in order.
check "webhook: every event reached the receiver" test "$(wc -l < "$T/wh.log")" = "$n_store"
check "webhook: the same events as the store" sh -c "python3 -c '
import json,sys
a=[json.loads(l) for l in open(\"$T/wh.log\")]; b=[json.loads(l) for l in open(\"$T/log.json\")]
k=lambda e:(e[\"time\"],e[\"action\"],e[\"target\"] or \"\",e[\"decision\"])
sys.exit(0 if sorted(map(k,a))==sorted(map(k,b)) else 1)'"
check "webhook: POSTed as JSON lines in batches of at most 7" \
	awk '$1 != "POST" || $2 != "/ingest" || $3 != "application/x-ndjson" || $4 > 7 || $4 < 1 { bad = 1 } END { exit bad || NR < 2 }' "$T/wh.log.req"
check "syslog: one RFC 5424 message per event" $CHK syslog "$T/syslog.log"
check "syslog: every event" test "$(wc -l < "$T/syslog.log")" = "$n_store"
check "syslog: a denial at warning, its MSGID the action" grep -q '^<84>1 [^ ]* [^ ]* agentwalld [0-9]* syscall - ' "$T/syslog.log"

# The sample events of every action (tests/ocsf/samples.jsonl), through
# the store and `log --ocsf`: the classes real runs here do not reach
# (commit, hold, quota, discover...) validate too.
mkdir -p "$T/samples"
python3 - "$STATE/events.db" "$T/samples/events.db" "$AW_ROOT/tests/ocsf/samples.jsonl" <<'PY'
import json, shutil, sqlite3, sys
shutil.copy(sys.argv[1], sys.argv[2])
db = sqlite3.connect(sys.argv[2])
db.execute("delete from events")
for i, line in enumerate(open(sys.argv[3])):
    ev = json.loads(line)["event"]
    db.execute("insert into events (time_ns, session, action, pid, ppid, uid, text, json, decision, rule, target)"
               " values (?, 0, ?, 0, 0, 0, '', ?, ?, ?, ?)",
               (1000 + i, ev["action"], json.dumps(ev, separators=(",", ":")), ev["decision"], ev["rule"], ev["target"]))
db.commit()
PY
"$AW" --state-dir "$T/samples" log --ocsf > "$T/samples.ocsf"
check "samples: every action renders, each validates" $CHK validate "$SCHEMA" "$T/samples.ocsf"
check "samples: each in the class it names" sh -c "python3 -c '
import json,sys
want=[json.loads(l)[\"class_uid\"] for l in open(\"$AW_ROOT/tests/ocsf/samples.jsonl\")]
got=[json.loads(l)[\"class_uid\"] for l in open(\"$T/samples.ocsf\")]
sys.exit(0 if want==got else 1)'"

# A receiver that is down: the batch is retried with backoff, and the
# events arrive once it is back.
# (Syslog over UDP this time, native lines.)
PORT=$(inn $SINK freeport)
inn $SINK udp "$T/udp.port" "$T/udp.log" 2>"$T/udp.err" &
SINKS+=($!)
wait_for test -s "$T/udp.port" || nok "udp receiver starts"
n0=$(aw log | wc -l)
start_daemon --signatures "$T/sigs" --webhook "http://127.0.0.1:$PORT/late" \
	--syslog "udp:127.0.0.1:$(cat "$T/udp.port")" --syslog-format native || nok "daemon restarts"
in_scope "$(FAKE)" -c '/bin/true'
st() { aw status --json | python3 -c "import json,sys; w=json.load(sys.stdin)['outputs']['webhook']; print(w['$1'])"; }
check "receiver down: the daemon retries (status counts them)" wait_for sh -c "[ \$('$AW' --state-dir '$STATE' status --json | python3 -c \"import json,sys; print(json.load(sys.stdin)['outputs']['webhook']['retries'])\") -ge 2 ]"
check "  ... and says why" grep -q "Connection refused" <<<"$(st last_error)"
inn $SINK http "$T/late.port" "$T/late.log" "$PORT" 2>"$T/late.err" &
SINKS+=($!)
# (The backoff may have reached its 8 s ceiling: up to 30 s here.)
wait_long() { for _ in $(seq 300); do "$@" && return 0; sleep 0.1; done; return 1; }
check "receiver back: the events arrive after a retry" \
	wait_long sh -c "[ \$(cat '$T/late.log' 2>/dev/null | wc -l) -ge 3 ] && [ \$(cat '$T/late.log' | wc -l) = \$(( \$('$AW' --state-dir '$STATE' log | wc -l) - $n0 )) ]"
check "  ... the OCSF ones (the default format)" $CHK validate "$SCHEMA" "$T/late.log"
check "  ... nothing dropped" test "$(st dropped)" = 0
stop_daemon
check "syslog over UDP: RFC 5424 messages, one per event" $CHK syslog "$T/udp.log"
check "  ... every event of this daemon, native lines" sh -c "[ \$(wc -l < '$T/udp.log') = \$(( \$('$AW' --state-dir '$STATE' log | wc -l) - $n0 )) ] && grep -q 'agentwall.event/1' '$T/udp.log'"

# A full queue: the receiver stays down, a queue of 3 overflows; every
# event is sent, queued, in flight or counted as dropped: never silent.
PORT=$(inn $SINK freeport)
n0=$(aw log | wc -l)
n_exec=$(aw log --action exec | wc -l)
start_daemon --signatures "$T/sigs" --webhook "http://127.0.0.1:$PORT/" --output-queue 3 \
	--syslog "unix:$T/nobody.sock" || nok "daemon restarts"
in_scope "$(FAKE)" -c 'for i in 1 2 3 4 5 6 7 8; do /bin/true; done'
# (Counted once the store and the outputs agree: both see every event.)
balanced() {
	aw status --json > "$T/st.json"
	python3 -c "
import json,sys
w=json.load(open('$T/st.json'))['outputs']['webhook']
sys.exit(0 if w['sent']+w['queued']+w['in_flight']+w['dropped'] == $(aw log | wc -l) - $n0 else 1)"
}
wait_for sh -c "[ \$('$AW' --state-dir '$STATE' log --action exec | wc -l) -ge $((n_exec + 8)) ]"
wait_for balanced
check "full queue: drops counted" python3 -c "
import json,sys
w=json.load(open('$T/st.json'))['outputs']['webhook']
print('#', w)
sys.exit(0 if w['dropped'] > 0 and w['queued'] <= 3 else 1)"
check "  ... sent + queued + in flight + dropped = every event handed over" balanced
check "syslog with no listener: each event counted as dropped" python3 -c "
import json,sys
s=json.load(open('$T/st.json'))['outputs']['syslog']
print('#', s)
sys.exit(0 if s['dropped'] > 0 and s['sent'] == 0 and s['last_error'] else 1)"
check "the event pipeline went on (the store has them all)" test "$(aw log --action exec | wc -l)" -ge $((n_exec + 8))
stop_daemon

# Options that cannot work are refused at start.
"$AWD" --scope "cgroup:$CG" --state-dir "$T/bad" --bpffs-dir "$PINS" --webhook https://x.test/ 2> "$T/bad.err"
check "a https webhook is refused (no TLS here), saying why" grep -q "no TLS" "$T/bad.err"
"$AWD" --scope "cgroup:$CG" --state-dir "$T/bad" --bpffs-dir "$PINS" --syslog tcp:1.2.3.4:514 2> "$T/bad.err"
check "a syslog target that is not a datagram socket is refused" grep -q "unix:/PATH or udp:HOST:PORT" "$T/bad.err"
"$AWD" --scope "cgroup:$CG" --state-dir "$T/bad" --bpffs-dir "$PINS" --export-format xml 2> "$T/bad.err"
check "an unknown export format is refused" grep -q "expected native or ocsf" "$T/bad.err"
"$AWD" --scope "cgroup:$CG" --state-dir "$T/bad" --bpffs-dir "$PINS" --export-format ocsf 2> "$T/bad.err"
check "an export format without an export file is refused" grep -q "no export file" "$T/bad.err"
stop_sinks
