#!/bin/bash
# Tools per session and computer-use governance.
#
# Tools: an MCP server the session's agent is configured to start (Codex's
# ~/.codex/config.toml [mcp_servers.NAME], Claude Code's and Gemini CLI's
# mcpServers) is a sub-agent named as configured, under the mcp-server
# policy (its process limit in a cgroup of its own), even when no
# signature knows it; a process merely named like one, outside the
# session, is not; a re-exec does not take a tool out of its policy.
# The real Codex CLI is forced into a session with a test MCP server
# (tests/helpers/mcp_stdio.py) configured: Codex starts its configured
# MCP servers at session start (initialize, tools/list; seen in the
# server's log), before its first model turn.
. "$(dirname "$0")/../lib.sh"
CACHE=${AW_NPM_CACHE:-/var/cache/agentwall-tests/npm}
CODEX=$CACHE/node_modules/.bin/codex

make_fake_agent
# The agent's policy (coding-agent) lets it reach a test listener on
# loopback; the tool's (mcp-server) does not.
LP=$((20000 + $$ % 10000))
python3 -c 'import socket,sys,time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); time.sleep(120)' "$LP" &
LPID=$!
mkdir -p "$T/pol0"
cp "$AW_ROOT"/policies/*.yaml "$T/pol0/"
printf '%s\n' '  - id: test-listener' '    loopback: true' "    ports: [$LP]" '    protocols: [tcp]' >> "$T/pol0/coding-agent.yaml"
chmod 644 "$T"/pol0/*.yaml
start_daemon --mode enforce --signatures "$T/sigs" --policies "$T/pol0" || { nok "daemon starts"; exit 1; }

# ---- a stand-in agent with a configured tool ------------------------------
H=$T/home
mkdir -p "$H/.codex" "$T/ws"
# The tool: leaves its pid, forks, tries the listener (after its mark),
# then re-executes itself.
tool_cmd="echo \$\$ > $T/tool.pid; (exec -a tool-child sleep 30) & echo \$! > $T/child.pid; sleep 1.5; (exec -a tool-net bash -c 'exec 3<>/dev/tcp/127.0.0.1/$LP') 2>/dev/null; exec -a tool-reexec sleep 30"
cat > "$H/.codex/config.toml" <<EOF
model = "x"

[mcp_servers.notes]
command = "bash"
args = ["-c", "$tool_cmd"]

[mcp_servers.notes.env]
X = "1"
EOF
# A server of the workspace's .mcp.json (Claude Code's project file),
# and hostile files where other agents' configurations would be: a FIFO
# (reading it would hang) and a symlink to a root-only file.
printf '{"mcpServers": {"lookup": {"command": "sleep", "args": ["31.5"]}, "remote": {"type": "http", "url": "http://127.0.0.1:1/"}}}\n' > "$T/ws/.mcp.json"
mkdir -p "$H/.gemini"
mkfifo "$H/.gemini/settings.json"
ln -s /etc/shadow "$H/.claude.json"
# The agent (in a session: what it writes stays in the session, so the
# pids come from the events): starts the tool as configured, and a
# look-alike with other arguments; waits.
(cd "$T/ws" && HOME=$H in_scope "$(FAKE)" -c '
	bash -c "$1" &
	bash -c "exec -a other-look sleep 30" &
	sleep 31.5 &
	sleep 1; (exec -a agent-net bash -c "exec 3<>/dev/tcp/127.0.0.1/$2") 2>/dev/null
	wait' "$T" "$tool_cmd" "$LP" > "$T/agent.out" 2>&1 &)
wait_for events action=exec process.argv.0=tool-reexec > /dev/null
sess=$(events action=session-start agent.id=test.fake-agent --field session | head -1)
apid=$(events action=session-start agent.id=test.fake-agent --field process.pid | head -1)
check "stand-in agent forced into a session" test -n "$sess"
tpid=$(events action=exec process.argv.0=tool-reexec --field process.pid | head -1)
cpid=$(events action=exec process.argv.0=tool-child --field process.pid | head -1)
opid=$(events action=exec process.argv.0=other-look --field process.pid | head -1)
check "configured tool recorded: tool-start, its configured name, the mcp-server policy" \
	wait_for events action=tool-start process.pid="$tpid" session="$sess" target=notes \
	mcp.policy=mcp-server mcp.agent=openai.codex-cli subagent=true
check "  ... with the file that configured it" \
	wait_for events action=tool-start process.pid="$tpid" mcp.config="$H/.codex/config.toml"
check "  ... held to the policy's process limit in a cgroup of its own" \
	grep -q "/t-$tpid\$" "/proc/$tpid/cgroup"
check "  ... pids.max of mcp-server (256)" \
	grep -qx 256 "/sys/fs/cgroup/pids/agentwall-$ID/s-$sess/t-$tpid/pids.max"
check "the look-alike with other arguments is not a tool" \
	count_is 0 action=tool-start process.pid="$opid"
check "  ... nor named one" count_is 0 process.pid="$opid" tool=notes
check "what the tool forks is the tool too (events name it)" \
	wait_for events action=exec process.pid="$cpid" tool=notes
check "  ... and stays in its cgroup" grep -q "/t-$tpid\$" "/proc/$cpid/cgroup"
check "re-exec: still the tool (exec event named)" \
	wait_for events action=exec process.pid="$tpid" tool=notes process.argv.0=tool-reexec
check "  ... still in the tool's cgroup" grep -q "/t-$tpid\$" "/proc/$tpid/cgroup"
check "a server of the workspace's .mcp.json is a tool too (Claude Code's config)" \
	wait_for events action=tool-start session="$sess" target=lookup mcp.agent=anthropic.claude-code mcp.config="$T/ws/.mcp.json"
check "  ... its remote server (nothing to exec) is nobody's name" count_is 0 action=tool-start target=remote
check "a FIFO and a symlink to a root-only file as configs: the daemon answers" sh -c "\"$AW\" --state-dir \"$STATE\" status > /dev/null"
aw ps > "$T/ps.txt"
aw ps --json > "$T/ps.json"
check "ps shows the tool where it starts" grep -q "$tpid .*\[tool notes, mcp-server\]" "$T/ps.txt"
check "the agent reaches the listener its policy allows" \
	wait_for events action=connect session="$sess" decision=allow process.argv.0=agent-net target="127.0.0.1:$LP"
check "the tool does not: its own network policy (mcp-server's), recorded in the session" \
	wait_for events action=connect session="$sess" decision=deny process.argv.0=tool-net target="127.0.0.1:$LP" rule=mcp-server/network tool=notes
check "  ... tool-start says so" events action=tool-start process.pid="$tpid" mcp.network=own
check "ps --json names it" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
ss = d if isinstance(d, list) else d.get("sessions", [])
ok = any(p.get("tool") == "notes" and p["pid"] == int(sys.argv[2]) for s in ss for p in s["processes"])
sys.exit(0 if ok else 1)' "$T/ps.json" "$tpid"

# The same command outside any session (in scope, not the agent's): no tool.
(cd "$T/ws" && HOME=$H in_scope bash -c "$tool_cmd" > /dev/null 2>&1 &)
wait_for test -s "$T/tool.pid"
sleep 1
check "the configured command started outside the session is not a tool" \
	count_is 0 action=tool-start process.pid="$(cat "$T/tool.pid")"
kill "$(cat "$T/tool.pid")" "$(cat "$T/child.pid")" "$apid" "$tpid" "$cpid" "$opid" "$LPID" 2>/dev/null

# ---- the real Codex CLI with an MCP server no signature names -------------
if [ ! -x "$CODEX" ] || [ -n "${SKIP_CODEX:-}" ]; then
	skip "codex with a configured MCP server" "codex not in the npm cache"
else
	C=$T/codex-home
	mkdir -p "$C/.codex" "$T/cws"
	codex_config "$C/.codex/config.toml.in" "http://127.0.0.1:@PORT@/v1"
	cat >> "$C/.codex/config.toml.in" <<EOF

[mcp_servers.weather-desk]
command = "python3"
args = ["$AW_ROOT/tests/helpers/mcp_stdio.py", "$T/cws/mcp.log"]
EOF
	# The mock on loopback needs a network rule: a policy set with one.
	mkdir -p "$T/policies"
	cp "$AW_ROOT"/policies/*.yaml "$T/policies/"
	printf '%s\n' '  - id: mock-api' '    loopback: true' '    protocols: [tcp]' >> "$T/policies/openai.codex-cli.yaml"
	chmod 644 "$T"/policies/*.yaml
	stop_daemon
	start_daemon --mode enforce --policies "$T/policies" || { nok "daemon restarts"; exit 1; }
	cat > "$T/codex.sh" <<'SH'
python3 "$AW_ROOT/tests/helpers/mock_openai.py" "$1/port" "$1/mock.log" 2>"$1/mock.err" &
m=$!
for _ in $(seq 100); do [ -s "$1/port" ] && break; sleep 0.05; done
sed "s/@PORT@/$(cat "$1/port")/" "$HOME/.codex/config.toml.in" > "$HOME/.codex/config.toml"
cd "$1"
timeout -k 5 60 env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$HOME" CODEX_HOME="$HOME/.codex" \
	MOCK_OPENAI_API_KEY=x LANG=C.UTF-8 TERM=dumb "$CODEX" exec --strict-config --color never \
	--skip-git-repo-check --dangerously-bypass-approvals-and-sandbox -C "$1" "say hi" \
	</dev/null >"$1/codex.out" 2>"$1/codex.err"
echo $? > "$1/codex.rc"
kill $m
SH
	(HOME=$C AW_ROOT=$AW_ROOT CODEX=$CODEX in_scope bash "$T/codex.sh" "$T/cws")
	check "codex ran in its forced session (exit $(cat "$T/cws/codex.rc"))" test "$(cat "$T/cws/codex.rc")" = 0
	csess=$(events action=session-start agent.id=openai.codex-cli --field session | tail -1)
	mpid=$(events action=exec session="$csess" --match 'process.argv.1=mcp_stdio.py$' --field process.pid | head -1)
	aw diff "$csess" "$T/cws" > "$T/cws.diff" 2>&1
	check "codex started its configured MCP server (initialize, tools/list in its log)" \
		grep -q "tools/list" "$T/cws.diff"
	check "the server is a sub-agent of codex's session under mcp-server" \
		wait_for events action=tool-start session="$csess" target=weather-desk \
		process.pid="$mpid" mcp.policy=mcp-server subagent=true
	check "  ... named by no signature (no agent of its own)" \
		count_is 0 action=exec process.pid="$mpid" agent.class=mcp-server
	check "  ... its limit applied (cgroup of its own)" \
		events action=tool-start process.pid="$mpid" --match mcp.cgroup="/t-$mpid\$"
fi

# ---- computer use: the display, input injection, CDP ports ----------------
if ! command -v Xvfb > /dev/null || ! command -v xdotool > /dev/null; then
	skip "computer use" "Xvfb or xdotool missing (tools/setup-deps)"
else
	stop_daemon
	start_daemon --policies "$AW_ROOT/policies" || { nok "daemon restarts"; exit 1; }
	dn=$((50 + $$ % 40))
	Xvfb ":$dn" -screen 0 640x480x24 -nolisten tcp -noreset > "$T/xvfb.log" 2>&1 &
	XPID=$!
	wait_for test -S "/tmp/.X11-unix/X$dn"
	check "Xvfb :$dn up (test display)" test -S "/tmp/.X11-unix/X$dn"
	# A computer-use session moves the pointer on it and reads it back.
	DISPLAY=":$dn" aw run --policy computer-use --workspace "$T/ws" -- \
		xdotool mousemove 123 45 sleep 0.5 getmouselocation > "$T/cu.out" 2> "$T/cu.err"
	check "computer-use session: xdotool drives the display" grep -q "x:123 y:45" "$T/cu.out"
	grep -q "x:123 y:45" "$T/cu.out" || sed 's/^/# /' "$T/cu.err" "$T/cu.out"
	check "  ... and its grants are recorded (sandbox event)" \
		events action=sandbox policy=computer-use computer_use.display=true computer_use.input=true computer_use.cdp_ports.0=9222
	# A coding-agent session: no DISPLAY, and given one it still cannot
	# connect, neither the socket path nor the abstract socket.
	DISPLAY=":$dn" aw run --policy coding-agent --workspace "$T/ws" -- \
		sh -c 'echo "DISPLAY=[$DISPLAY]"; DISPLAY=:'"$dn"' xdotool mousemove 1 1 sleep 0.5 && echo CONNECTED' > "$T/ca.out" 2> "$T/ca.err"
	check "coding-agent session: DISPLAY not passed" grep -qx "DISPLAY=\[\]" "$T/ca.out"
	check "  ... xdotool cannot connect to the display" test -z "$(grep CONNECTED "$T/ca.out")"
	check "  ... the pointer did not move" sh -c "DISPLAY=:$dn xdotool getmouselocation | grep -q 'x:123 y:45'"
	DISPLAY=":$dn" aw run --policy coding-agent --workspace "$T/ws" -- \
		python3 -c 'import socket,sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect("\0/tmp/.X11-unix/X'"$dn"'"); print("abstract: connected")
except OSError as e:
    print("abstract:", e.errno)
s = socket.socket(socket.AF_UNIX)
try:
    s.connect("/tmp/.X11-unix/X'"$dn"'"); print("path: connected")
except OSError as e:
    print("path:", e.errno)' > "$T/abs.out" 2>&1
	check "  ... the abstract X11 socket is refused (Landlock scope)" grep -q "^abstract: [0-9]" "$T/abs.out"
	check "  ... the X11 socket path is not there" grep -q "^path: [0-9]" "$T/abs.out"
	check "  ... and its refusal is recorded (sandbox event: display false)" \
		events action=sandbox policy=coding-agent computer_use.display=false computer_use.input=false
	if [ -c /dev/uinput ]; then
		aw run --policy coding-agent --workspace "$T/ws" -- \
			sh -c 'test -e /dev/uinput && echo UINPUT' > "$T/ui.out" 2>&1
		check "coding-agent session: no /dev/uinput" test -z "$(cat "$T/ui.out")"
		aw run --policy computer-use --workspace "$T/ws" -- \
			sh -c 'test -c /dev/uinput && echo UINPUT' > "$T/ui2.out" 2>&1
		check "computer-use session: /dev/uinput granted" grep -qx UINPUT "$T/ui2.out"
	else
		skip "/dev/uinput refused unless granted" "this host has no /dev/uinput (uinput module not loaded)"
	fi
	kill "$XPID"; wait "$XPID" 2>/dev/null

	# CDP: a listener on a loopback port (as a browser's remote debugging).
	python3 -c 'import socket,time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 9222)); s.listen(8); time.sleep(20)' &
	LPID=$!
	sleep 0.5
	cdp='import socket
s = socket.socket()
try:
    s.settimeout(3); s.connect(("127.0.0.1", 9222)); print("cdp: connected")
except OSError as e:
    print("cdp: refused", e)'
	aw run --policy coding-agent --workspace "$T/ws" -- python3 -c "$cdp" > "$T/cdp1.out" 2>&1
	check "coding-agent session: a CDP port on loopback is refused" grep -q "cdp: refused" "$T/cdp1.out"
	check "  ... and recorded" wait_for events session="$(events action=sandbox policy=coding-agent --field session | tail -1)" decision=deny --match 'target=127.0.0.1.*9222'
	aw run --policy computer-use --workspace "$T/ws" -- python3 -c "$cdp" > "$T/cdp2.out" 2>&1
	check "computer-use session: its granted CDP port connects" grep -q "cdp: connected" "$T/cdp2.out"
	kill "$LPID" 2>/dev/null
fi

# ---- a real Playwright client over CDP -----------------------------------
# A headless Chromium (Debian's) with its remote-debugging port on
# loopback, started by the test outside any session; Playwright
# (playwright-core from the npm cache) connects to it over CDP from a
# session whose policy grants that port (a test policy extending
# computer-use: the nearest cdp-ports wins), and from a coding-agent
# session, which is refused.
PW=${AW_NPM_MORE_CACHE:-/var/cache/agentwall-tests/npm-more}/node_modules/playwright-core
if [ ! -d "$PW" ] || ! command -v chromium > /dev/null; then
	skip "Playwright over CDP" "playwright-core (installed by t_agents_more.sh) or chromium missing"
else
	cport=$((30000 + $$ % 20000))
	mkdir -p "$T/pol"
	cp "$AW_ROOT"/policies/*.yaml "$T/pol/"
	printf 'version: 1\nid: cu-test\nextends: computer-use\ncomputer-use:\n  cdp-ports: [%s]\n' "$cport" > "$T/pol/cu-test.yaml"
	chmod 644 "$T"/pol/*.yaml
	stop_daemon
	start_daemon --policies "$T/pol" || { nok "daemon restarts"; exit 1; }
	chromium --headless=new --no-sandbox --disable-gpu --no-first-run \
		--remote-debugging-address=127.0.0.1 --remote-debugging-port="$cport" \
		--user-data-dir="$T/chrome" about:blank > "$T/chrome.log" 2>&1 &
	CPID=$!
	wait_for curl -sf "http://127.0.0.1:$cport/json/version" > /dev/null
	cat > "$T/ws/pw.js" <<JS
const { chromium } = require("$PW");
(async () => {
  try {
    const b = await chromium.connectOverCDP("http://127.0.0.1:$cport", { timeout: 8000 });
    const ctx = b.contexts()[0];
    const page = await ctx.newPage();
    await page.setContent("<title>driven by playwright</title>");
    console.log("title: " + await page.title());
    await page.close();
  } catch (e) {
    console.log("refused: " + String(e.message).split("\\n")[0]);
  }
  process.exit(0);
})();
JS
	(cd "$T/ws" && aw run --policy cu-test --workspace "$T/ws" -- node pw.js > "$T/pw1.out" 2>&1)
	check "playwright over CDP in a session granted the port: drives the browser" \
		grep -q "title: driven by playwright" "$T/pw1.out"
	grep -q "title:" "$T/pw1.out" || sed 's/^/# /' "$T/pw1.out" | head -5
	(cd "$T/ws" && aw run --policy coding-agent --workspace "$T/ws" -- node pw.js > "$T/pw2.out" 2>&1)
	check "  ... from a coding-agent session: refused" grep -q "^refused:" "$T/pw2.out"
	check "  ... and the refusal recorded" wait_for events decision=deny --match "target=127.0.0.1:$cport"
	kill "$CPID" 2>/dev/null
	wait "$CPID" 2>/dev/null
fi
check "export valid JSON" events --valid
