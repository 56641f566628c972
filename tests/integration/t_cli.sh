#!/bin/bash
# The command line without surprises: --version and --help everywhere,
# typos refused rather than answered with nothing, messages that say what
# happened, sessions named by prefix or `last`, the state directory from
# the environment.
. "$(dirname "$0")/../lib.sh"
make_fake_agent
start_daemon --signatures "$T/sigs" || { nok "daemon starts"; exit 1; }
mkdir -p "$T/ws"; cd "$T/ws"
echo original > a.txt
run() { in_scope "$AW" --state-dir "$STATE" run --policy coding-agent --workspace "$T/ws" "$@"; }

out=$("$AW" --version)
check "--version" grep -qE '^agentwall [0-9]+\.[0-9]+' <<<"$out"
check "version (as a command)" test "$("$AW" version)" = "$out"
bad=""
for c in status ps top web log signatures run sessions diff commit discard approve gc policy; do
	o=$("$AW" "$c" --help 2>&1) && grep -q "^Usage: agentwall $c" <<<"$o" || bad="$bad $c"
done
check "every command takes --help (exit 0, its usage)${bad:+: not$bad}" test -z "$bad"
check "help COMMAND" bash -c "'$AW' help diff | grep -q '^Usage: agentwall diff'"
out=$(run -- /bin/sh -c 'echo "$1"' x --help 2>/dev/null)
check "run: a --help after the command is the command's" test "$out" = --help

aw log --decision blocked > "$T/o" 2>&1
check "log --decision with a typo: usage error (2)" test $? = 2
check "  ... naming the decisions there are" grep -q 'one of allow, deny' "$T/o"
aw log --action frobnicate > "$T/o" 2>&1
check "log --action with a typo: usage error (2)" test $? = 2
# Every action the event schema documents is accepted.
bad=""
for a in $(sed -n 's/^| `\([a-z-]*\)` | .*/\1/p' "$AW_ROOT/docs/events.md" | sort -u); do
	case "$a" in schema|time|host|session|agent|process|lineage|action|target|decision|rule|mode|subagent|tool|truncated|drops|id|vendor|product|class|version|pid|ppid|uid|exe|argv|cwd|comm|*_*) continue ;; esac
	aw log --action "$a" --limit 1 >/dev/null 2>&1 || bad="$bad $a"
done
check "log --action accepts each documented action${bad:+: not$bad}" test -z "$bad"

aw status --json > "$T/st.json"
check "status --json says what this backend does not enforce" \
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["not_enforced"] and d["daemon"]["version"]' "$T/st.json"
aw status | grep -q '^not_enforced' 
check "status (text) lists it too" test $? = 0
aw policy list --json > "$T/pl.json"
check "policy list --json is JSON with the policies" \
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert any(p["id"]=="default" and p["extends"] is None for p in d)' "$T/pl.json"
"$AW" signatures check "$T/sigs/test.yaml" > "$T/o" 2>&1
check "signatures check: singular and plural said right" grep -q ': ok, 2 signatures$' "$T/o"

# --- sessions ---------------------------------------------------------------
# Each daemon draws a random salt for its session ids: S1 alone under its
# daemon has a unique 8-digit prefix.
stop_daemon
start_daemon --signatures "$T/sigs" || nok "daemon restarts"
run -- /bin/sh -c 'echo one > a.txt' 2>/dev/null
S1=$(aw sessions --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["session"])')
# A new daemon: new session ids (another random salt), so S1's first
# digits are its own.
stop_daemon
start_daemon --signatures "$T/sigs" || nok "daemon restarts"
in_scope "$AW" --state-dir "$STATE" run -- /bin/sh -c 'echo x > b.txt' 2>/dev/null
S2=$(aw sessions --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["session"])')
aw sessions > "$T/s.out"
check "sessions: the table has started, owner and workspace columns" \
	bash -c "head -1 '$T/s.out' | grep -q 'STARTED.*OWNER.*WORKSPACE'"
check "sessions: ... and the owner's name" grep -q "^$S2 .* root " "$T/s.out"
check "sessions --json: an unclassified command's agent is null" \
	python3 -c 'import json,sys; d=[s for s in json.load(open(sys.argv[1])) if s["session"]==sys.argv[2]]; assert d[0]["agent"] is None and d[0]["uid"]==0' <(aw sessions --json) "$S2"
check "a session by a unique prefix" bash -c "'$AW' --state-dir '$STATE' diff ${S1:0:8} 2>/dev/null | grep -qx +one"
check "a session by 'last'" bash -c "'$AW' --state-dir '$STATE' diff last 2>/dev/null | grep -q 'b.txt'"
in_scope "$AW" --state-dir "$STATE" run -- /bin/sh -c 'echo y > c.txt' 2>/dev/null
aw diff "${S2:0:8}" > "$T/o" 2>&1
check "an ambiguous prefix: usage error (2)" test $? = 2
check "  ... naming the sessions" grep -q "names 2 sessions ($S2" "$T/o"
aw diff zz > "$T/o" 2>&1
check "not an id: usage error (2)" test $? = 2
aw log --session "${S1:0:8}" > "$T/o" 2>&1
check "log --session by prefix" grep -q "$S1" "$T/o"

aw approve "$S1" > "$T/o" 2>&1
check "approve with nothing held says so" grep -q 'nothing is held for approval' "$T/o"
check "  ... and records no approval" bash -c "! grep -q '\"action\":\"approve\".*$S1' '$T/export.jsonl'"
aw discard "$S1" nothing-here > "$T/o" 2>&1
check "discard of a path with no change: failure (1), not usage" test $? = 1
echo user-edit > a.txt
aw commit "$S1" --conflict beside > "$T/o" 2>&1
check "commit --conflict beside names the file it wrote" grep -q "suffix .agentwall-$S1" "$T/o"
check "  ... which is there" test "$(cat "a.txt.agentwall-$S1")" = one
check "commit: counts in words (1 committed, no '1 changes')" bash -c "! grep -q ' 1 changes' '$T/o' && grep -q '^1 committed' '$T/o'"
rm -f "a.txt.agentwall-$S1"

# A running session: one error line, not one per retry.
run -- /bin/sh -c 'sleep 4' 2>/dev/null &
RP=$!
sleep 1
SR=$(aw sessions --json | python3 -c 'import json,sys; print([s for s in json.load(sys.stdin) if s["state"]=="running"][0]["session"])')
aw commit "$SR" > "$T/o" 2>&1
check "commit of a running session: one error line" test "$(grep -c 'still running' "$T/o")" = 1
wait $RP

out=$(AGENTWALL_STATE_DIR=$STATE "$AW" sessions 2>&1 | tail -n +2 | wc -l)
check "AGENTWALL_STATE_DIR names the daemon's state directory" test "$out" -ge 3
aw gc > "$T/o" 2>&1
check "gc says how many it removed, in words" grep -qE '^[0-9]+ sessions? removed$' "$T/o"

stop_daemon
