#!/bin/bash
# The real agents from npm, classified at exec by the shipped (embedded)
# signature database, started the way users start them, not through us.
. "$(dirname "$0")/../lib.sh"
CACHE=${AW_NPM_CACHE:-/var/cache/agentwall-tests/npm}
NM=$CACHE/node_modules
PKGS="@openai/codex @anthropic-ai/claude-code @google/gemini-cli @modelcontextprotocol/server-filesystem"

if [ ! -x "$NM/.bin/codex" ] || [ ! -x "$NM/.bin/claude" ] || [ ! -x "$NM/.bin/gemini" ] ||
   [ ! -e "$NM/.bin/mcp-server-filesystem" ]; then
	mkdir -p "$CACHE"
	echo "# installing $PKGS into $CACHE (kept for later runs)"
	if ! (cd "$CACHE" && timeout 900 npm install --no-audit --no-fund $PKGS >"$T/npm.log" 2>&1); then
		if grep -qiE 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|network' "$T/npm.log"; then
			skip "real agents" "npm registry unreachable: $(grep -m1 -iE 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|network' "$T/npm.log")"
			exit 0
		fi
		nok "npm install of the real agents"; sed 's/^/# /' "$T/npm.log" | tail -20; exit 1
	fi
fi
codex_ver=$(python3 -c "import json; print(json.load(open('$NM/@openai/codex/package.json'))['version'])")
claude_ver=$(python3 -c "import json; print(json.load(open('$NM/@anthropic-ai/claude-code/package.json'))['version'])")

start_daemon --quiet || { nok "daemon starts on the embedded database"; exit 1; }

# Codex as a project-local install: the bin link run by node (via env).
(cd "$CACHE" && in_scope ./node_modules/.bin/codex --version > "$T/codex.out")
check "codex --version ran" grep -q "$codex_ver" "$T/codex.out"
check "codex classified at exec (openai.codex-cli)" \
	wait_for events action=session-start agent.id=openai.codex-cli
sess=$(events action=session-start agent.id=openai.codex-cli --field session | head -1)
check "  ... the node launcher is the session root" \
	events action=session-start session="$sess" process.comm=node 'rule=signature/openai.codex-cli:script:*'
check "  ... the native binary it starts is in the same session" \
	wait_for events action=exec session="$sess" "target=$NM/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex"
check "  ... one session, not two" count_is 1 action=session-start agent.id=openai.codex-cli
check "  ... version read from the package ($codex_ver)" \
	events action=session-start session="$sess" agent.version="$codex_ver"

# Codex by absolute path through node, as IDE extensions start it.
in_scope /usr/bin/node "$NM/@openai/codex/bin/codex.js" --version > /dev/null
check "codex via node + absolute script path" \
	wait_for count_is 2 action=session-start agent.id=openai.codex-cli
# The native binary started directly.
in_scope "$NM/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex" --version > /dev/null
check "codex native binary started directly" \
	wait_for count_is 3 action=session-start agent.id=openai.codex-cli

# Claude Code: a native binary behind the npm bin link.
in_scope "$NM/.bin/claude" --version > "$T/claude.out"
check "claude --version ran" grep -q "$claude_ver" "$T/claude.out"
check "claude classified at exec (anthropic.claude-code)" \
	wait_for events action=session-start agent.id=anthropic.claude-code agent.class=coding-agent

# Gemini CLI: a node bundle.
in_scope "$NM/.bin/gemini" --version > "$T/gemini.out"
check "gemini classified at exec (google.gemini-cli)" \
	wait_for events action=session-start agent.id=google.gemini-cli

# An MCP server started by node on its own is an mcp-server session;
# started by an agent it is a sub-agent (see t_lineage with a stand-in).
( cd "$T" && in_scope /usr/bin/node "$NM/.bin/mcp-server-filesystem" "$T" < /dev/null > /dev/null 2>&1 & sleep 1.5; kill $! 2>/dev/null )
check "MCP filesystem server classified (class mcp-server)" \
	wait_for events action=session-start agent.class=mcp-server

# The same server started by an agent through npx (as agents' MCP
# configurations do): a sub-agent of class mcp-server inside the agent's
# session, not a session of its own. The stand-in agent is a copy of bash
# at a path a test signature names, added beside the embedded database.
fake_agent_bin
for f in "$AW_ROOT"/signatures/*.yaml; do cp "$f" "$T/sigs/"; done
{ printf 'version: 1\nsignatures:\n'; fake_agent_sig; } > "$T/sigs/zz-test.yaml"
stop_daemon
start_daemon --quiet --signatures "$T/sigs" || { nok "daemon restarts"; exit 1; }
(cd "$CACHE" && in_scope "$T/opt/fakeagent/bin/fake-agent" -c \
	'echo $$ > '"$T"'/fa.pid; timeout 5 npx --offline mcp-server-filesystem '"$T"' < /dev/null > /dev/null 2>&1; true')
fsess=$(events action=session-start process.pid="$(cat "$T/fa.pid")" --field session)
check "agent's npx-started MCP server is a sub-agent in its session" \
	wait_for events action=exec session="$fsess" subagent=true agent.class=mcp-server
check "  ... and opened no session of its own" \
	count_is 1 action=session-start agent.class=mcp-server

# Outside the scope nothing is classified.
before=$(events --count)
(cd "$CACHE" && ./node_modules/.bin/codex --version > /dev/null)
sleep 0.5
check "codex outside the scope: no events" test "$(events --count)" = "$before"
check "export valid JSON" events --valid
