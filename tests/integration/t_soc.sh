#!/bin/bash
# The SOC's round trip, end to end, on one real Codex CLI session: the
# daemon runs with every output a security team plugs in at once (the
# OCSF export file, an OCSF webhook, the metrics endpoint), Codex is asked
# by a local mock of its API to read ~/.ssh/id_rsa, and then:
#   store -> OCSF lines that validate -> the webhook receiver got every
#   event -> the metrics counters equal the store's counts -> the chain
#   verifies, and a one-byte edit of a copy is named.
# Each piece has its own file (t_export, t_metrics, t_chain); this one
# shows they agree about the same session.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3 # Debian's: python3-jsonschema, python3-prometheus-client
CODEX=${AW_NPM_CACHE:-/var/cache/agentwall-tests/npm}/node_modules/.bin/codex
if [ ! -x "$CODEX" ]; then
	skip "SOC round trip of a Codex session" "codex not in the npm cache (t_agents installs it)"
	exit 0
fi
if ! $PY -c 'import jsonschema, prometheus_client' 2>/dev/null; then
	skip "SOC round trip of a Codex session" "python3-jsonschema or python3-prometheus-client missing (tools/setup-deps)"
	exit 0
fi
SCHEMA=$AW_ROOT/tests/ocsf/ocsf-1.8.0.schema.json
CHK="$PY $AW_ROOT/tests/helpers/ocsfcheck.py"
SINK="$PY $AW_ROOT/tests/helpers/outsink.py"
SCRAPE="$PY $AW_ROOT/tests/helpers/scrape.py"
PIDS=()
soc_cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	cleanup
}
trap soc_cleanup EXIT

# Codex's policy, with its API's mock on loopback allowed.
mkdir -p "$T/policies"
cp "$AW_ROOT"/policies/*.yaml "$T/policies/"
printf '%s\n' '  - id: mock-api' '    loopback: true' '    protocols: [tcp]' >> "$T/policies/openai.codex-cli.yaml"
chmod 644 "$T"/policies/*.yaml

$SINK http "$T/wh.port" "$T/wh.log" 2>"$T/wh.err" &
PIDS+=($!)
MOCK_OPENAI_COMMAND='cat ~/.ssh/id_rsa' $PY "$AW_ROOT/tests/helpers/mock_openai.py" "$T/api.port" "$T/api.log" 2>"$T/api.err" &
PIDS+=($!)
wait_for test -s "$T/wh.port" && wait_for test -s "$T/api.port" ||
	{ nok "receivers start"; cat "$T"/*.err | sed 's/^/# /'; exit 1; }
MPORT=$($SINK freeport)
MURL=http://127.0.0.1:$MPORT/metrics
# start_daemon exports to $T/export.jsonl: here in OCSF.
start_daemon --policies "$T/policies" --export-format ocsf \
	--webhook "http://127.0.0.1:$(cat "$T/wh.port")/ingest" --webhook-format ocsf \
	--metrics "127.0.0.1:$MPORT" || { nok "daemon starts with every output"; exit 1; }

# The session: Codex in its policy's sandbox, its tool call reads the key.
H=$T/home
mkdir -p "$H/.ssh" "$H/.codex" "$T/ws"
echo "PRIVATE KEY MATERIAL" > "$H/.ssh/id_rsa"
chmod 600 "$H/.ssh/id_rsa"
codex_config "$H/.codex/config.toml" "http://127.0.0.1:$(cat "$T/api.port")/v1"
(cd "$T/ws" && HOME=$H CODEX_HOME=$H/.codex MOCK_OPENAI_API_KEY=dummy-not-a-key \
	TERM=dumb \
	in_scope timeout -k 5 120 "$AW" --state-dir "$STATE" run --policy openai.codex-cli --workspace "$T/ws" -- \
	"$CODEX" exec --strict-config --color never --skip-git-repo-check \
	--dangerously-bypass-approvals-and-sandbox -C "$T/ws" "Read my key" \
	</dev/null >"$T/codex.out" 2>&1
	echo $? > "$T/codex.rc")
check "codex ran its tool call to the end (exit $(cat "$T/codex.rc"))" test "$(cat "$T/codex.rc")" = 0
check "  ... and did not get the key" sh -c "! grep -q 'PRIVATE KEY MATERIAL' '$T/codex.out' '$T/api.log'"
q() { sqlite3 "$STATE/events.db" "$1"; }
deny_row() { q "select session from events where action = 'open' and decision = 'deny' and target = '$H/.ssh/id_rsa' and rule = 'openai.codex-cli/secrets.ssh' order by id desc limit 1"; }
wait_for sh -c "[ -n \"\$(sqlite3 '$STATE/events.db' \"select 1 from events where action = 'open' and decision = 'deny' limit 1\")\" ]"
SN=$(deny_row)
SID=$(q "select printf('%016x', $SN)")
check "the store: the deny of ~/.ssh/id_rsa, in the Codex session ($SID)" test -n "$SN"
ended() { [ "$(q "select count(*) from events where action = 'session-end' and session = $SN")" -ge 1 ]; }
check "  ... the session ended" wait_for ended
sleep 1 # the outputs' last batch
NEV=$(q 'select count(*) from events')
NS=$(q "select count(*) from events where session = $SN")
check "  ... the session's events are stored ($NS of $NEV)" test "$NS" -gt 5

# 1. The OCSF export file: every stored event, every line valid.
lines_ge() { [ "$(grep -c . "$1" 2>/dev/null)" -ge "$2" ]; }
check "OCSF export: one line per stored event ($NEV)" wait_for lines_ge "$T/export.jsonl" "$NEV"
check "  ... every line validates against the OCSF 1.8 schema" $CHK validate "$SCHEMA" "$T/export.jsonl"
check "  ... the deny: File System Activity, Open, denied, rule and session" \
	sh -c "[ -n \"\$($CHK find '$T/export.jsonl' class_uid=1001 activity_id=14 disposition_id=2 policy.name=openai.codex-cli/secrets.ssh actor.session.uid=$SID)\" ]"
check "  ... the agent named as the actor" \
	sh -c "[ -n \"\$($CHK find '$T/export.jsonl' actor.session.uid=$SID actor.app_uid=openai.codex-cli)\" ]"
"$AW" --state-dir "$STATE" log --ocsf --session "$SID" > "$T/log.ocsf"
check "log --ocsf of the session: $NS lines, all valid" \
	sh -c "test \"\$(wc -l < '$T/log.ocsf')\" = $NS && $CHK validate '$SCHEMA' '$T/log.ocsf' > /dev/null"

# 2. The webhook: the receiver got the same events.
wait_for lines_ge "$T/wh.log" "$NEV"
check "webhook: the receiver got every stored event ($(grep -c . "$T/wh.log") lines, $NEV events)" lines_ge "$T/wh.log" "$NEV"
check "  ... valid OCSF too" $CHK validate "$SCHEMA" "$T/wh.log"
check "  ... with the session's deny" \
	sh -c "[ -n \"\$($CHK find '$T/wh.log' class_uid=1001 disposition_id=2 actor.session.uid=$SID)\" ]"
check "  ... nothing dropped (status)" sh -c "'$AW' --state-dir '$STATE' status --json | $PY -c '
import json,sys; w=json.load(sys.stdin)[\"outputs\"][\"webhook\"]; sys.exit(0 if w[\"dropped\"]==0 else 1)'"

# 3. The metrics: counters equal the store's counts, by action and decision.
check "metrics: a valid OpenMetrics page" $SCRAPE validate "$MURL"
check "  ... events_total by action and decision equals the store" wait_for $SCRAPE compare "$MURL" "$STATE/events.db"
check "  ... the deny counted" sh -c "[ \"\$($SCRAPE value $MURL agentwall_events_total action=open decision=deny)\" -ge 1 ]"

# 4. The chain: verifies, and a one-byte edit of the deny is named.
"$AW" --state-dir "$STATE" log --verify > "$T/v.out" 2>&1
rc=$?
check "log --verify passes on the live store (exit $rc: $(head -1 "$T/v.out"))" test $rc = 0
mkdir "$T/c"
sqlite3 "$STATE/events.db" ".backup '$T/c/events.db'"
ROW=$(sqlite3 "$T/c/events.db" "select id from events where action = 'open' and decision = 'deny' and session = $SN limit 1")
sqlite3 "$T/c/events.db" "update events set json = replace(json, 'id_rsa', 'id_rsb') where id = $ROW"
"$AW" --state-dir "$T/c" log --verify > "$T/c.out" 2>&1
rc=$?
check "  ... a one-byte edit of the deny's row: --verify fails (exit $rc)" test $rc = 6
check "  ... and names that row ($ROW)" grep -q "$ROW" "$T/c.out"
