#!/bin/bash
# Signature files: checked with precise errors; reloaded without restart;
# a broken reload keeps the database in force.
. "$(dirname "$0")/../lib.sh"
make_fake_agent

# check: good files pass; the shipped database passes.
check "signatures check accepts the test file" "$AW" signatures check "$T/sigs/test.yaml"
check "signatures check accepts the shipped database" "$AW" signatures check "$AW_ROOT"/signatures/*.yaml
"$AW" signatures check "$AW_ROOT"/signatures/*.yaml \
	--path /usr/local/lib/node_modules/@openai/codex/bin/codex.js > "$T/m.txt"
check "check --path names the agent a path would be" grep -q 'openai.codex-cli' "$T/m.txt"

bad() { # bad NAME EXPECTED-REGEX YAML
	printf '%s' "$3" > "$T/bad.yaml"
	"$AW" signatures check "$T/bad.yaml" 2> "$T/bad.err" >/dev/null
	local rc=$?
	if [ $rc = 4 ] && grep -qE "$2" "$T/bad.err"; then ok "rejects $1"; else
		nok "rejects $1 (rc=$rc: $(head -c 300 "$T/bad.err"))"; fi
}
bad "unknown key with line:column" "bad.yaml:5:5: .*unknown" 'version: 1
signatures:
  - id: a.b
    vendor: V
    colour: red
    product: P
    class: coding-agent
    match: [ { exe: "/usr/bin/x" } ]
'
bad "unknown class" "bad.yaml:[0-9]+:[0-9]+: .*class" 'version: 1
signatures:
  - { id: a.b, vendor: V, product: P, class: toaster, match: [ { exe: "/x" } ] }
'
bad "relative pattern" "bad.yaml:[0-9]+:[0-9]+: " 'version: 1
signatures:
  - { id: a.b, vendor: V, product: P, class: coding-agent, match: [ { exe: "bin/x" } ] }
'
bad "'..' in a pattern" "bad.yaml:[0-9]+:[0-9]+: " 'version: 1
signatures:
  - { id: a.b, vendor: V, product: P, class: coding-agent, match: [ { exe: "/usr/../x" } ] }
'
bad "YAML syntax error" "bad.yaml:[0-9]+:[0-9]+: " 'version: 1
signatures: [ { id: a.b
'
printf 'version: 1\nsignatures:\n  - id: "a.\xff\xfe"\n' > "$T/bad.yaml"
"$AW" signatures check "$T/bad.yaml" 2>"$T/bad.err"; rc=$?
check "rejects invalid UTF-8 with a position" test $rc = 4 -a -n "$(grep -E 'bad.yaml:[0-9]+' "$T/bad.err")"
bad "duplicate id" "bad.yaml:[0-9]+:[0-9]+: .*duplicate" 'version: 1
signatures:
  - { id: a.b, vendor: V, product: P, class: coding-agent, match: [ { exe: "/x" } ] }
  - { id: a.b, vendor: V, product: P, class: coding-agent, match: [ { exe: "/y" } ] }
'
head -c 2000000 /dev/zero | tr '\0' 'a' > "$T/huge.yaml"
"$AW" signatures check "$T/huge.yaml" 2>"$T/bad.err"; rc=$?
check "rejects a huge file" test $rc = 4
"$AW" signatures check /nonexistent.yaml 2>"$T/bad.err"; rc=$?
check "missing file is an error naming it" test $rc = 4 -a -n "$(grep nonexistent "$T/bad.err")"

# Reload: start with only the fake agent, add a second signature live.
start_daemon --signatures "$T/sigs" || { nok "daemon starts"; exit 1; }
mkdir -p "$T/opt/other/bin"; cp /bin/bash "$T/opt/other/bin/other-agent"
in_scope "$T/opt/other/bin/other-agent" -c 'echo $$ > '"$T"'/o1.pid'
sleep 0.3
check "unknown agent not classified before reload" \
	test "$(events process.pid="$(cat "$T/o1.pid")" --count)" = 0
cat >> "$T/sigs/test.yaml" <<'YAML'
  - id: test.other-agent
    vendor: Test
    product: Other
    class: computer-use
    match:
      - exe: "**/opt/other/bin/other-agent"
YAML
check "signatures reload succeeds" aw signatures reload
in_scope "$T/opt/other/bin/other-agent" -c 'echo $$ > '"$T"'/o2.pid'
check "new signature in force after reload, without restart" \
	wait_for events action=session-start agent.id=test.other-agent process.pid="$(cat "$T/o2.pid")"

# A broken file: reload refused, previous database stays.
cp "$T/sigs/test.yaml" "$T/good.yaml"
printf '  - id: broken\n    nonsense: [\n' >> "$T/sigs/test.yaml"
aw signatures reload 2>"$T/rl.err"; rc=$?
check "broken reload refused with exit 4" test $rc = 4
check "  ... the error names file:line:column" grep -qE 'test.yaml:[0-9]+:[0-9]+' "$T/rl.err"
in_scope "$(FAKE)" -c 'echo $$ > '"$T"'/f1.pid'
check "  ... the previous database stays in force" \
	wait_for events action=session-start agent.id=test.fake-agent process.pid="$(cat "$T/f1.pid")"
aw status --json > "$T/st.json"
check "  ... status shows the last reload error" grep -q '"last_error":"' "$T/st.json"
cp "$T/good.yaml" "$T/sigs/test.yaml"
kill -HUP "$DAEMON_PID"
sleep 0.5
aw status --json > "$T/st.json"
check "SIGHUP reloads too (error cleared)" grep -q '"last_error":null' "$T/st.json"
check "daemon still running after all that" kill -0 "$DAEMON_PID"
stop_daemon

# The embedded database (no --signatures): real agents' signatures loaded.
start_daemon || { nok "daemon starts on embedded defaults"; exit 1; }
aw status --json > "$T/st.json"
check "embedded database loads (openai, anthropic, google, mcp)" \
	python3 -c "import json,sys; d=json.load(open('$T/st.json')); sys.exit(0 if d['signatures']['count']>=4 else 1)"
