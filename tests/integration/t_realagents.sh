#!/bin/bash
# Real-agent acceptance: Codex CLI, Claude Code and Gemini CLI from npm,
# each started from a plain shell (not through `agentwall run`) and forced
# into a session by the enforcing daemon, with TMPDIR outside the
# workspace, complete a tool call that writes in their workspace against a
# local mock of their vendor's API: the write is in the session's diff,
# not in the real tree, and the agent exits 0. The same again with each
# agent in a network namespace of its own (unshare --net, loopback only,
# the mock listening in it), and the interactive Codex TUI on a pty.
#
# How each agent is run offline (versions verified: codex-cli 0.171.0,
# Claude Code 2.1.197, Gemini CLI 0.61.0):
#
# Codex (tests/helpers/mock_openai.py: Responses API, POST /v1/responses,
#   SSE; first turn an exec_command call writing hello.txt, then "done"):
#   CODEX_HOME=~/.codex with tests/lib.sh codex_config (model provider
#   "mock", base_url http://127.0.0.1:PORT/v1, wire_api responses,
#   env_key MOCK_OPENAI_API_KEY, no retries, update check, analytics,
#   otel, plugins and web search off), MOCK_OPENAI_API_KEY=anything;
#   `codex exec --strict-config --color never --skip-git-repo-check
#   --dangerously-bypass-approvals-and-sandbox -C WS PROMPT` (its own
#   sandbox needs new user namespaces, which a session refuses).
#
# Claude Code (tests/helpers/mock_anthropic.py): ANTHROPIC_BASE_URL=
#   http://127.0.0.1:PORT, ANTHROPIC_API_KEY=anything,
#   CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 (no feature flags, metrics
#   or update checks), DISABLE_AUTOUPDATER=1, DISABLE_TELEMETRY=1,
#   DISABLE_ERROR_REPORTING=1; `claude -p PROMPT --allowedTools Bash`
#   (Bash auto-approved; --dangerously-skip-permissions is refused as
#   root unless IS_SANDBOX=1). It sends HEAD / first, then POST
#   /v1/messages?beta=true with "stream": true, and wants SSE events
#   message_start, content_block_start, content_block_delta (text_delta or
#   input_json_delta), content_block_stop, message_delta (stop_reason
#   tool_use or end_turn), message_stop. Turn 1 gets a Bash tool_use
#   (printf ... > agent-wrote.txt), turn 2 (a tool_result in messages)
#   the text "done". It makes TMPDIR/claude-UID/... for its shell tasks.
#
# Gemini CLI (tests/helpers/mock_gemini.py): GOOGLE_GEMINI_BASE_URL=
#   http://127.0.0.1:PORT, GEMINI_API_KEY=anything, and the auth type
#   chosen in ~/.gemini/settings.json (security.auth.selectedType
#   "gemini-api-key": GOOGLE_GEMINI_BASE_URL alone selects the "gateway"
#   auth type, which -p refuses as "Invalid auth method selected"), with
#   general.enableAutoUpdate(Notification), privacy.usageStatisticsEnabled
#   and telemetry.enabled false; GEMINI_CLI_TRUST_WORKSPACE=true (else the
#   folder is untrusted and --yolo is overridden to "default");
#   `gemini -p PROMPT --yolo`. It re-executes node once (memory flags),
#   asks POST /v1beta/models/FLASH-LITE:generateContent to route the turn
#   (JSON {"complexity_reasoning", "complexity_score"}), then POST
#   /v1beta/models/MODEL:streamGenerateContent?alt=sse: "data: JSON" SSE
#   blocks; turn 1 gets a functionCall run_shell_command (printf ... >
#   agent-wrote.txt), turn 2 (a functionResponse) the text "done". Its
#   shell tool makes TMPDIR/gemini-shell-XXXXXX.
#
# Policies: the templates, with a loopback rule (the mock) added to each
# vendor's and, for Claude Code, the name api.mock.test, which the test's
# DNS server (tests/helpers/dnsd.py, the daemon's --dns-upstream) puts on
# 127.0.0.1.
#
# Pending fixes in main (issue 10) these checks are written for, and the
# checks that fail until they land:
#  * a session's private TMPDIR wherever the agent's environment puts it.
#    Today TMPDIR on a read-only tree is EROFS in the session and below
#    /tmp it is missing (the session's /tmp is an empty tmpfs): Claude Code
#    stops after its first request (exit 0, nothing done) with TMPDIR on
#    a read-only tree, Gemini CLI's shell tool fails with EROFS or ENOENT
#    (mkdtemp TMPDIR/gemini-shell-XXXXXX). Failing: "claude (host)" and
#    "gemini (host)", "gemini (netns)": tool call, diff.
#  * DNS for a session in its own network namespace: today lookups go to
#    127.0.0.1:53 of the agent's namespace and time out. Failing: every
#    "claude-dns (netns)" check but the two negative ones.
# Codex needs neither (it keeps its temporary files under CODEX_HOME and
# its daemon's socket under /tmp/codex-daemon-UID).
. "$(dirname "$0")/../lib.sh"
CACHE=${AW_NPM_CACHE:-/var/cache/agentwall-tests/npm}
NM=$CACHE/node_modules
CODEX=$NM/.bin/codex CLAUDE=$NM/.bin/claude GEMINI=$NM/.bin/gemini
if [ ! -x "$CODEX" ] && [ ! -x "$CLAUDE" ] && [ ! -x "$GEMINI" ]; then
	skip "real agents" "not in the npm cache (tools/setup-deps or t_agents installs them)"
	exit 0
fi

# Processes this file starts outside the scope, stopped on exit with the
# rest (tests/lib.sh cleanup).
UT_RO=/var/tmp/$ID-usertmp
DNSD="" OUTSIDE="" CDD=/tmp/codex-daemon-$(id -u) CDD_MADE=""
[ -e "$CDD" ] || CDD_MADE=1
finish() {
	[ -n "$DNSD" ] && kill "$DNSD" 2>/dev/null
	[ -n "$OUTSIDE" ] && kill $OUTSIDE 2>/dev/null
	# (The unconfined TUI's daemon made its socket directory.)
	[ -n "$CDD_MADE" ] && rmdir "$CDD" 2>/dev/null
	cleanup
	rm -rf "$UT_RO"
}
trap finish EXIT

# Policies: the templates, each vendor's with its mock on loopback allowed
# (the templates allow only the vendors' real hosts).
mkdir -p "$T/policies"
cp "$AW_ROOT"/policies/*.yaml "$T/policies/"
for p in openai.codex-cli anthropic.claude-code google.gemini-cli; do
	printf '%s\n' '  - id: mock-api' '    loopback: true' '    protocols: [tcp]' >> "$T/policies/$p.yaml"
done
printf '%s\n' '  - id: mock-dns' '    hosts: ["api.mock.test"]' >> "$T/policies/anthropic.claude-code.yaml"
chmod 644 "$T"/policies/*.yaml

# The sessions' DNS upstream: a test server on loopback whose zone puts
# the mock's name (and an unlisted one) on 127.0.0.1.
DP=$((20000 + $$ % 20000))
printf '{"api.mock.test": {"A": ["127.0.0.1"], "ttl": 60}, "unlisted.test": {"A": ["127.0.0.1"]}}\n' > "$T/zone.json"
python3 "$AW_ROOT/tests/helpers/dnsd.py" --zone "$T/zone.json" --pidfile "$T/dnsd.pid" \
	--listen "127.0.0.1:$DP" --log "$T/dnsd.log" 2>"$T/dnsd.err" &
DNSD=$!
wait_for test -s "$T/dnsd.pid" || { nok "test DNS server starts"; cat "$T/dnsd.err"; exit 1; }

# TMPDIR outside the workspace, two ways users have it: on a tree the
# session sees read-only (/var/tmp/..., EROFS unless the session gives it
# a private one), and below /tmp, which the session replaces with an empty
# tmpfs (pam_tmpdir's /tmp/user/UID: missing unless made). Both exist
# (and stay empty) outside.
H=$T/home UT_TMP=$T/usertmp
mkdir -p "$H/.codex" "$H/.gemini" "$UT_RO" "$UT_TMP"
codex_config "$H/.codex/config.toml.in" "http://127.0.0.1:@PORT@/v1"
cat > "$H/.gemini/settings.json" <<'EOF'
{"general": {"enableAutoUpdate": false, "enableAutoUpdateNotification": false},
 "privacy": {"usageStatisticsEnabled": false},
 "telemetry": {"enabled": false},
 "security": {"auth": {"selectedType": "gemini-api-key"}}}
EOF

# The runner, in scope (maybe in a new network namespace): brings up
# loopback if asked, starts the agent's mock, runs the agent with its
# offline environment (under a timeout: a hang fails fast), records its
# exit status, stops the mock.
cat > "$T/agent.sh" <<'SH'
agent=$1 ws=$2 out=$3 netns=$4
[ "$netns" = 1 ] && { ip link set lo up || exit 99; }
case $agent in
codex) mock=mock_openai.py ;; claude) mock=mock_anthropic.py ;; gemini) mock=mock_gemini.py ;;
esac
rm -f "$out.port"
python3 "$AW_ROOT/tests/helpers/$mock" "$out.port" "$out.log" 2>"$out.mock" &
m=$!
for _ in $(seq 100); do [ -s "$out.port" ] && break; sleep 0.05; done
port=$(cat "$out.port")
api=${API_HOST:-127.0.0.1}
cd "$ws"
base=(env -i "PATH=/usr/local/bin:/usr/bin:/bin" "HOME=$HOME" "TMPDIR=$TMPDIR" LANG=C.UTF-8 TERM=dumb)
case $agent in
codex)
	sed "s/@PORT@/$port/" "$HOME/.codex/config.toml.in" > "$HOME/.codex/config.toml"
	timeout -k 5 "$TMO" "${base[@]}" CODEX_HOME="$HOME/.codex" MOCK_OPENAI_API_KEY=dummy-not-a-key \
		"$CODEX" exec --strict-config --color never --skip-git-repo-check \
		--dangerously-bypass-approvals-and-sandbox -C "$ws" \
		"Create hello.txt containing the line: edited by codex" ;;
claude)
	timeout -k 5 "$TMO" "${base[@]}" ANTHROPIC_BASE_URL="http://$api:$port" \
		ANTHROPIC_API_KEY=sk-ant-mock-not-a-key CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
		DISABLE_AUTOUPDATER=1 DISABLE_TELEMETRY=1 DISABLE_ERROR_REPORTING=1 \
		"$CLAUDE" -p "Create agent-wrote.txt containing: written by claude" --allowedTools Bash ;;
gemini)
	timeout -k 5 "$TMO" "${base[@]}" GOOGLE_GEMINI_BASE_URL="http://127.0.0.1:$port" \
		GEMINI_API_KEY=mock-not-a-key GEMINI_CLI_TRUST_WORKSPACE=true \
		"$GEMINI" -p "Create agent-wrote.txt containing: written by gemini" --yolo ;;
esac </dev/null >"$out.out" 2>"$out.err"
echo $? > "$out.rc"
kill $m; wait $m 2>/dev/null
exit 0
SH
export AW_ROOT CODEX CLAUDE GEMINI HOME=$H TMO=${AW_AGENT_TIMEOUT:-45}

start_daemon --mode enforce --policies "$T/policies" --dns-upstream "127.0.0.1:$DP" || { nok "daemon starts in enforce mode"; exit 1; }

# The newest session of agent $1.
sessions_of() { aw sessions --json | python3 -c 'import json,sys; [print(s["session"]) for s in json.load(sys.stdin) if s["agent"] == sys.argv[1]]' "$1"; }

# agent_case NAME AGENT-ID FILE LINE WHERE [LABEL]: one forced run and its
# checks; the session's id is left in $S.
agent_case() {
	local name=$1 id=$2 file=$3 line=$4 where=$5 label=${6:-$1} s wrap=() ut=${CASE_TMPDIR:-$UT_RO}
	local o=$T/$label-$where ws=$T/ws-$label-$where
	mkdir -p "$ws"
	[ "$where" = netns ] && wrap=(unshare --net) ut=$UT_TMP
	sessions_of "$id" > "$o.before"
	(cd "$ws" && TMPDIR=$ut in_scope "${wrap[@]}" bash "$T/agent.sh" "$name" "$ws" "$o" "$([ "$where" = netns ] && echo 1 || echo 0)")
	local rc; rc=$(cat "$o.rc" 2>/dev/null || echo none)
	s=$(sessions_of "$id" | grep -vxFf "$o.before" | tail -1)
	S=$s name=$label
	check "$name ($where): forced into a session, exit status 0 (got $rc)" test "$rc" = 0
	# (mock_openai does not look at the tool's output; the others say
	# whether the agent reported it as failed.)
	check "$name ($where): its tool call ran, the model got its result" \
		grep -q -e "final message 'done'" -e "final text 'done' (tool result: ok)" "$o.mock"
	check "$name ($where): its write did not reach the real workspace" test ! -e "$ws/$file"
	aw diff "$s" "$ws" > "$o.diff" 2>&1
	check "$name ($where): the write is in the session's diff" grep -qx "+$line" "$o.diff"
	check "$name ($where): nothing it put in TMPDIR ($ut) reached the real one" \
		test -z "$(ls -A "$ut")"
	if [ "$rc" != 0 ] || ! grep -qx "+$line" "$o.diff"; then
		echo "# session ${s:-none}; $name stderr:"; tail -5 "$o.err" | sed 's/^/#   /'
		echo "# mock:"; tail -5 "$o.mock" | sed 's/^/#   /'
	fi
}

for where in host netns; do
	if [ -x "$CODEX" ]; then
		agent_case codex openai.codex-cli hello.txt "edited by codex" "$where"
	else
		skip "codex ($where)" "codex not in the npm cache"
	fi
	if [ -x "$CLAUDE" ]; then
		agent_case claude anthropic.claude-code agent-wrote.txt "written by claude" "$where"
	else
		skip "claude ($where)" "claude not in the npm cache"
	fi
	if [ -x "$GEMINI" ]; then
		agent_case gemini google.gemini-cli agent-wrote.txt "written by gemini" "$where"
	else
		skip "gemini ($where)" "gemini not in the npm cache"
	fi
done
# The end lines of the host runs: Claude Code rewrites ~/.claude.json on
# every start, and that file names its MCP servers and the projects'
# trust: held, and counted; Gemini CLI's own state is counted apart.
end_line() { grep -o "agentwall: session [0-9a-f]* kept [^:]*" "$T/$1-host.err"; }
if [ -x "$CLAUDE" ]; then
	check "claude's end line: its file and ~/.claude.json (held), its own state apart ($(end_line claude))" \
		grep -Eqx "agentwall: session [0-9a-f]{16} kept 2 changes out of your tree \(1 held for approval\), and [1-9][0-9]* of the agent's own state" <<<"$(end_line claude)"
	check "  ... the hold of ~/.claude.json is recorded" \
		wait_for events action=hold decision=escalate target="$H/.claude.json"
fi
if [ -x "$GEMINI" ]; then
	check "gemini's end line: kept 1 change, its own state apart ($(end_line gemini))" \
		grep -Eqx "agentwall: session [0-9a-f]{16} kept 1 change out of your tree, and [1-9][0-9]* of the agent's own state" <<<"$(end_line gemini)"
fi
# --- the real Codex CLI asked to read a key: refused, and recorded --------------
if [ -x "$CODEX" ]; then
	mkdir -p "$H/.ssh" "$T/ws-codex-key"
	echo "REAL-KEY-MATERIAL" > "$H/.ssh/id_rsa"; chmod 600 "$H/.ssh/id_rsa"
	o=$T/codex-key
	(cd "$T/ws-codex-key" && TMPDIR=$UT_RO MOCK_OPENAI_COMMAND='cat ~/.ssh/id_rsa' \
		in_scope bash "$T/agent.sh" codex "$T/ws-codex-key" "$o" 0)
	check "codex asked to read ~/.ssh/id_rsa: its tool ran (exit $(cat "$o.rc" 2>/dev/null))" test "$(cat "$o.rc" 2>/dev/null)" = 0
	check "  ... the key reached neither its output nor the model" \
		bash -c "! grep -q REAL-KEY-MATERIAL '$o.out' '$o.err' '$o.log' '$o.mock' 2>/dev/null"
	check "  ... a deny record names the key's path and the rule" \
		wait_for events action=open decision=deny target="$H/.ssh/id_rsa" rule=openai.codex-cli/secrets.ssh
else
	skip "codex asked to read a key" "codex not in the npm cache"
fi

# --- the session's end line: the agent's work, its own state apart ----------
# Codex writes its databases, logs and rollout to ~/.codex on every run
# (its policy's `state`): taken with the rest, but the line that tells the
# person what the session kept counts what the tool call wrote, and its
# own state apart. A developer who has run Codex before has its bundled
# skills in ~/.codex/skills (Codex unpacks them on a version's first run;
# they steer later sessions, so a session's copy of them is held): here
# one unconfined run, outside the scope, does that first.
if [ -x "$CODEX" ]; then
	mkdir -p "$T/ws-codex-warm" "$T/ws-codex-line" "$T/ws-codex-cfg" "$T/warm-tmp"
	(cd "$T/ws-codex-warm" && TMPDIR=$T/warm-tmp bash "$T/agent.sh" codex "$T/ws-codex-warm" "$T/codex-warm" 0)
	check "codex unconfined, before: it ran (exit $(cat "$T/codex-warm.rc" 2>/dev/null)) and unpacked its skills" \
		test "$(cat "$T/codex-warm.rc" 2>/dev/null)" = 0 -a -e "$H/.codex/skills/.system"
	o=$T/codex-line
	sessions_of openai.codex-cli > "$o.before"
	(cd "$T/ws-codex-line" && TMPDIR=$UT_RO in_scope bash "$T/agent.sh" codex "$T/ws-codex-line" "$o" 0)
	line=$(grep -o "agentwall: session [0-9a-f]* kept [^:]*" "$o.err")
	echo "# ${line:-no end line}"
	check "codex's end line: kept 1 change (hello.txt), its own state counted apart, nothing held" \
		grep -Eqx "agentwall: session [0-9a-f]{16} kept 1 change out of your tree, and [1-9][0-9]* of the agent's own state" <<<"$line"
	S=$(sessions_of openai.codex-cli | grep -vxFf "$o.before" | tail -1)
	aw diff "$S" "$T/ws-codex-line" > "$o.diff" 2>&1
	check "  ... and that change is the tool call's hello.txt" grep -qx "+edited by codex" "$o.diff"
	# Codex's config names the programs it starts: a write to it by the
	# agent is still held for approval, and counted.
	o=$T/codex-cfg
	sessions_of openai.codex-cli > "$o.before"
	(cd "$T/ws-codex-cfg" && TMPDIR=$UT_RO \
		MOCK_OPENAI_COMMAND="printf 'edited by codex\\n' > hello.txt; printf '# added by the agent\\n' >> ~/.codex/config.toml" \
		in_scope bash "$T/agent.sh" codex "$T/ws-codex-cfg" "$o" 0)
	line=$(grep -o "agentwall: session [0-9a-f]* kept [^:]*" "$o.err")
	echo "# ${line:-no end line}"
	check "codex writes ~/.codex/config.toml: kept 2 changes, 1 held for approval" \
		grep -Eqx "agentwall: session [0-9a-f]{16} kept 2 changes out of your tree \(1 held for approval\), and [1-9][0-9]* of the agent's own state" <<<"$line"
	check "  ... the real config.toml untouched" bash -c "! grep -q 'added by the agent' '$H/.codex/config.toml'"
	check "  ... a hold record names it" \
		wait_for events action=hold decision=escalate target="$H/.codex/config.toml"
	S=$(sessions_of openai.codex-cli | grep -vxFf "$o.before" | tail -1)
	aw diff "$S" --json > "$o.json" 2>&1
	check "  ... the diff marks it escalated" python3 -c '
import json, sys
c = [c for c in json.load(open(sys.argv[1]))["changes"] if c["path"] == sys.argv[2]]
sys.exit(0 if c and all(x["escalated"] for x in c) else 1)' "$o.json" "$H/.codex/config.toml"
else
	skip "codex's end line" "codex not in the npm cache"
fi

# --- by name, through the session's resolver ----------------------------------
# Claude Code's API as http://api.mock.test:PORT (the policy's mock-dns
# rule; the test DNS puts it on 127.0.0.1, reached by the loopback rule),
# and its Bash tool asks for a name no rule lists. In its own network
# namespace the session's resolver must answer there too (pending fix:
# today the lookup goes to 127.0.0.1:53 of the agent's namespace, where
# nothing listens). TMPDIR is below /tmp here, which works today in the
# host's namespace, so that only the resolver is tested.
if [ -x "$CLAUDE" ]; then
	for where in host netns; do
		CASE_TMPDIR=$UT_TMP API_HOST=api.mock.test MOCK_ANTHROPIC_COMMAND="printf 'written by claude\\n' > agent-wrote.txt; \
if getent hosts unlisted.test; then echo resolved; else echo refused; fi > dns.txt" \
			agent_case claude anthropic.claude-code agent-wrote.txt "written by claude" "$where" claude-dns
		# (The agent has exited: its session's events are out; evq is no
		# quick poll on a loaded machine.)
		sleep 0.5
		check "claude-dns ($where): api.mock.test resolved through agentwall (a dns event)" \
			events action=dns target=api.mock.test decision=allow rule=anthropic.claude-code/mock-dns session="$S"
		check "claude-dns ($where): the unlisted name refused, with a dns event" \
			events action=dns target=unlisted.test decision=deny session="$S"
		check "claude-dns ($where): ... and the tool saw the refusal" grep -qx "+refused" "$T/claude-dns-$where.diff"
	done
else
	skip "claude-dns" "claude not in the npm cache"
fi

# --- the interactive Codex TUI, on a pty ------------------------------------
# The TUI does not run the model or the tools itself: it installs a copy of
# its binary under CODEX_HOME/packages/app-server-daemon and starts it as a
# detached daemon (`codex app-server --listen unix:// --managed-daemon`,
# setsid, reparented to init; its control socket is
# /tmp/codex-daemon-UID/HASH, not under TMPDIR), which runs the turns and
# the tool commands (bash -lc ...) and outlives the TUI. Forced, that
# daemon is still the session's: its exec and the tool's are in the same
# session as codex's session-start, and it ends with the session.
# The TUI's config adds: approval_policy "never", sandbox_mode
# "danger-full-access", the workspace trusted ([projects."WS"]), and the
# browser and computer-use features off. The driver answers the TUI's
# terminal queries (cursor position ESC[6n, colours OSC 10/11), waits for
# its prompt, types, presses Enter, waits for the mock's final answer,
# then Ctrl-C twice.
cat > "$T/tui.py" <<'PY'
import os, pty, select, signal, struct, sys, time, fcntl, termios
# tui.py PTYLOG MOCKNOTES PROMPT -- CMD...: done when the mock has given
# its final answer (the file the tool writes is in the session, not here).
log, notes, prompt, cmd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[5:]
def answered(what="final message"):
    try:
        return what in open(notes).read()
    except OSError:
        return False
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
out, seen, t0 = open(log, "wb"), b"", time.time()
def pump(t, until=None):
    global seen
    end = time.time() + t
    while time.time() < end:
        if until and until():
            return True
        if not select.select([fd], [], [], 0.1)[0]:
            continue
        try:
            d = os.read(fd, 65536)
        except OSError:
            return False
        if not d:
            return False
        out.write(d); out.flush(); seen = (seen + d)[-8192:]
        if b"\x1b[6n" in d: os.write(fd, b"\x1b[1;1R")
        if b"\x1b]10;?" in d: os.write(fd, b"\x1b]10;rgb:ffff/ffff/ffff\x1b\\")
        if b"\x1b]11;?" in d: os.write(fd, b"\x1b]11;rgb:0000/0000/0000\x1b\\")
    return False
ready = pump(30, lambda: b"for shortcuts" in seen)
time.sleep(float(os.environ.get("TUI_SETTLE", "1")))
t_ready = time.time() - t0
# Typed, not pasted: a fast burst of keys is taken as a paste, whose
# Enter is a newline. Enter again if no turn started (an Enter before the
# TUI's thread is up is lost).
for ch in prompt:
    os.write(fd, ch.encode()); time.sleep(0.05)
for _ in range(4):
    time.sleep(0.5)
    seen = b""
    os.write(fd, b"\r")
    if pump(8, lambda: b"esc to interrupt" in seen or answered("POST")):
        break
pump(30, answered)
t_done = time.time() - t0
pump(1)
for k in (b"\x03", b"\x03"):
    try:
        os.write(fd, k)
    except OSError:
        break
    pump(1)
if not pump(10, lambda: os.waitpid(pid, os.WNOHANG)[0] == pid):
    os.kill(pid, signal.SIGKILL)
print("ready" if ready else "never-ready", "answered" if answered() else "no-answer",
      "(ready %.1f s, answered %.1f s, exited %.1f s)" % (t_ready, t_done, time.time() - t0))
PY
if [ -x "$CODEX" ]; then
	TW=$T/ws-codex-tui TW0=$T/ws-codex-tui-outside
	mkdir -p "$TW" "$TW0" "$H/.codex-tui"
	python3 "$AW_ROOT/tests/helpers/mock_openai.py" "$T/tui.port" "$T/tui.log" 2>"$T/tui.mock" &
	TM=$!
	wait_for test -s "$T/tui.port"
	codex_config "$T/tui-cfg" "http://127.0.0.1:$(cat "$T/tui.port")/v1"
	{
		printf 'approval_policy = "never"\nsandbox_mode = "danger-full-access"\n'
		sed 's/^\[features\]$/[features]\nbrowser_use = false\nbrowser_use_external = false\nin_app_browser = false\ncomputer_use = false/' "$T/tui-cfg"
		printf '\n[projects."%s"]\ntrust_level = "trusted"\n' "$TW" "$TW0"
	} > "$H/.codex-tui/config.toml"
	# tui WS NOTES [in_scope]: the TUI in WS on a pty, driven to one turn.
	tui() {
		local ws=$1 notes=$2; shift 2
		(cd "$ws" && "$@" env -i "PATH=/usr/local/bin:/usr/bin:/bin" HOME="$H" TMPDIR="$UT_RO" \
			LANG=C.UTF-8 TERM=xterm-256color CODEX_HOME="$H/.codex-tui" MOCK_OPENAI_API_KEY=dummy-not-a-key \
			timeout -k 5 90 python3 "$T/tui.py" "$T/tui.pty" "$notes" \
			"Create hello.txt containing the line: edited by codex" -- "$CODEX")
	}
	tui_daemons() { pgrep -f -- "$H/.codex-tui/packages" | sort; }
	# First unconfined, outside the scope, as the user may have run it
	# before: its app-server daemon stays, outside any session, listening
	# on /tmp/codex-daemon-0/..., with the same CODEX_HOME.
	tui "$TW0" "$T/tui.mock" > "$T/tui0.out" 2>&1
	echo "# codex TUI unconfined: $(cat "$T/tui0.out")"
	tui_daemons > "$T/tui.outside"
	OUTSIDE=$(cat "$T/tui.outside")
	check "codex TUI unconfined: its detached daemon runs on after it" test -s "$T/tui.outside"
	# Then forced: from a plain shell in scope.
	: > "$T/tui.mock1"
	tail -f -n 0 "$T/tui.mock" > "$T/tui.mock1" 2>/dev/null &
	TF=$!
	sessions_of openai.codex-cli > "$T/tui.before"
	tui "$TW" "$T/tui.mock1" in_scope > "$T/tui.out" 2>&1
	kill "$TF" "$TM"; wait "$TF" "$TM" 2>/dev/null
	echo "# codex TUI forced: $(cat "$T/tui.out")"
	TS=$(sessions_of openai.codex-cli | grep -vxFf "$T/tui.before" | tail -1)
	check "codex TUI: forced, on a pty, it took the typed prompt to the model" \
		grep -q "final message 'done'" "$T/tui.mock1"
	check "codex TUI: its tool's write did not reach the real workspace" test ! -e "$TW/hello.txt"
	aw diff "$TS" "$TW" > "$T/tui.diff" 2>&1
	check "codex TUI: the write is in the session's diff" grep -qx "+edited by codex" "$T/tui.diff"
	# execs_with STRING [CWD]: the sessions of the execs with STRING in an
	# argument (and in CWD).
	execs_with() { python3 - "$T/export.jsonl" "$@" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    p = e.get("process") or {}
    if e.get("action") == "exec" and any(sys.argv[2] in a for a in p.get("argv") or []) \
            and (len(sys.argv) < 4 or p.get("cwd") == sys.argv[3]):
        print(e.get("session") or "none")
PY
	}
	execs_with "--managed-daemon" | sort -u > "$T/tui.daemon-sessions"
	execs_with "printf 'edited by codex" "$TW" | sort -u > "$T/tui.tool-sessions"
	check "codex TUI: it started its own app-server daemon, in codex's session" \
		test "$(cat "$T/tui.daemon-sessions")" = "$TS"
	check "codex TUI: the tool command ran in the same session, not in the daemon outside" \
		test "$(cat "$T/tui.tool-sessions")" = "$TS"
	check "codex TUI: the tool command is seen at all (exec events)" test -s "$T/tui.tool-sessions"
	check "codex TUI: the session's daemon did not outlive the session" \
		wait_for eval 'test "$(tui_daemons)" = "$(cat "$T/tui.outside")"'
	check "codex TUI: the daemon outside still runs, untouched" kill -0 $(cat "$T/tui.outside")
	if ! grep -qx "+edited by codex" "$T/tui.diff"; then
		echo "# session ${TS:-none}"; tail -5 "$T/tui.mock1" | sed 's/^/#   /'
		echo "# the terminal's last output:"
		python3 -c 'import re, sys; d = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
d = re.sub(r"\x1b\[[0-9;?<>=]*[a-zA-Z~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)", "", d)
print(d[-1200:])' "$T/tui.pty" | sed 's/^/#   /'
	fi
	kill $OUTSIDE 2>/dev/null; OUTSIDE=""
else
	skip "codex TUI" "codex not in the npm cache"
fi

check "every agent was forced (a sandbox event per run)" \
	count_ge 6 action=sandbox 'rule=force/*'

cd /
stop_daemon
