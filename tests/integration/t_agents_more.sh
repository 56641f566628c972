#!/bin/bash
# The other agents users install from npm (signatures/README.md lists them
# and how each exec chain was traced), classified at exec by the shipped
# (embedded) database, each started the way a user or a program starts it.
# Installed once into their own prefix, kept between runs.
. "$(dirname "$0")/../lib.sh"
CACHE=${AW_NPM_MORE_CACHE:-/var/cache/agentwall-tests/npm-more}
NM=$CACHE/node_modules
# @kilocode/cli is pinned: the registry has no platform packages for 7.8.1
# (its postinstall then fails); 7.7.7 has them.
PKGS="@openai/codex-sdk @openai/agents opencode-ai @github/copilot @qwen-code/qwen-code
@sourcegraph/amp @charmland/crush @kilocode/cli@7.7.7 @augmentcode/auggie
@anthropic-ai/claude-agent-sdk @playwright/mcp @modelcontextprotocol/server-puppeteer"
PKGS=$(echo $PKGS)
STAMP=$CACHE/.agentwall-installed

if [ "$(cat "$STAMP" 2>/dev/null)" != "$PKGS" ]; then
	mkdir -p "$CACHE"
	echo "# installing into $CACHE (kept for later runs): $PKGS"
	# One install of all, without install scripts: two of them fetch from
	# outside the registries (Crush's binary from GitHub, Puppeteer's
	# Chrome), which this machine cannot reach. Then the postinstalls that
	# only link the native binary of a platform package from the registry
	# (Amp, opencode, Kilo) are run, as a normal install runs them.
	if ! (cd "$CACHE" && PUPPETEER_SKIP_DOWNLOAD=1 timeout 900 npm install --ignore-scripts \
		--no-audit --no-fund $PKGS >"$T/npm.log" 2>&1 &&
		timeout 300 npm rebuild @ampcode/cli opencode-ai @kilocode/cli >>"$T/npm.log" 2>&1); then
		if grep -qiE 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|network' "$T/npm.log"; then
			skip "more real agents" "npm registry unreachable: $(grep -m1 -iE 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|network' "$T/npm.log")"
			exit 0
		fi
		nok "npm install of the real agents"; sed 's/^/# /' "$T/npm.log" | tail -20; exit 1
	fi
	echo "$PKGS" > "$STAMP"
fi
ver() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['version'])" "$NM/$1/package.json"; }

# The agents' state goes to a home of the test's own.
export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config XDG_DATA_HOME=$T/home/.local/share \
	XDG_CACHE_HOME=$T/home/.cache XDG_STATE_HOME=$T/home/.local/state
mkdir -p "$HOME"
cd "$T"

start_daemon --quiet || { nok "daemon starts on the embedded database"; exit 1; }

# started ID: the session-start of agent ID (its first), with the root
# process's rule; sess ID: that session.
sess() { events action=session-start agent.id="$1" --field session | head -1; }

# --- native behind the npm bin link (no node in between) ----------------------
v=$(ver opencode-ai)
in_scope "$NM/.bin/opencode" --version > "$T/opencode.out" 2>&1
check "opencode --version ran ($v)" grep -q "$v" "$T/opencode.out"
check "opencode classified at exec (anomaly.opencode, its native binary)" \
	wait_for events action=session-start agent.id=anomaly.opencode \
	"rule=signature/anomaly.opencode:exe:**/node_modules/opencode-ai/bin/opencode.exe"
check "  ... version read from the package" events action=session-start agent.id=anomaly.opencode agent.version="$v"

v=$(ver @ampcode/cli)
in_scope "$NM/.bin/amp" --version > "$T/amp.out" 2>&1
check "amp --version ran ($v)" grep -q "$v" "$T/amp.out"
check "amp classified at exec (sourcegraph.amp)" \
	wait_for events action=session-start agent.id=sourcegraph.amp agent.class=coding-agent agent.version="$v"
# The package's node wrapper, which runs the platform package's binary.
in_scope /usr/bin/node "$NM/@ampcode/cli/cli-wrapper.cjs" --version > /dev/null 2>&1
check "amp through its node wrapper: a second session" \
	wait_for count_is 2 action=session-start agent.id=sourcegraph.amp
s2=$(events action=session-start agent.id=sourcegraph.amp --field session | sed -n 2p)
check "  ... the platform binary it runs is in that session" \
	wait_for events action=exec session="$s2" "target=$NM/@ampcode/cli-linux-x64/amp"

# --- node launchers that run a native binary as a child -----------------------
v=$(ver @github/copilot)
in_scope "$NM/.bin/copilot" --version > "$T/copilot.out" 2>&1
check "copilot --version ran ($v)" grep -q "$v" "$T/copilot.out"
check "copilot classified at exec (github.copilot-cli, the node loader)" \
	wait_for events action=session-start agent.id=github.copilot-cli process.comm=node agent.version="$v"
s=$(sess github.copilot-cli)
check "  ... the native binary it starts is in the same session" \
	wait_for events action=exec session="$s" "target=$NM/@github/copilot-linux-x64/copilot"
check "  ... one session, not two" count_is 1 action=session-start agent.id=github.copilot-cli

v=$(ver @kilocode/cli)
in_scope "$NM/.bin/kilo" --version > "$T/kilo.out" 2>&1
check "kilo --version ran ($v)" grep -q "$v" "$T/kilo.out"
check "kilo classified at exec (kilocode.kilo-cli)" \
	wait_for events action=session-start agent.id=kilocode.kilo-cli agent.version="$v"
s=$(sess kilocode.kilo-cli)
check "  ... its native binary (bin/.kilo) is in the same session" \
	wait_for events action=exec session="$s" "target=$NM/@kilocode/cli/bin/.kilo"
check "  ... one session" count_is 1 action=session-start agent.id=kilocode.kilo-cli

# Crush's launcher downloads its binary from GitHub, which is out of reach
# here: a stand-in (a copy of /bin/echo) where the installer puts it, so
# that the launcher's real chain runs. Removed again at the end.
# (A stand-in a killed run left behind is known by its content.)
CRUSH_BIN=$NM/@charmland/crush/bin/crush
if [ ! -e "$CRUSH_BIN" ]; then
	mkdir -p "$(dirname "$CRUSH_BIN")" && cp /bin/echo "$CRUSH_BIN"
fi
in_scope "$NM/.bin/crush" run "say hi" > "$T/crush.out" 2>&1
if cmp -s /bin/echo "$CRUSH_BIN"; then
	rm -f "$CRUSH_BIN" && rmdir "$(dirname "$CRUSH_BIN")" 2>/dev/null
fi
check "crush ran its binary" grep -qx "run say hi" "$T/crush.out"
check "crush classified at exec (charm.crush, the node launcher)" \
	wait_for events action=session-start agent.id=charm.crush process.comm=node agent.version="$(ver @charmland/crush)"
s=$(sess charm.crush)
check "  ... the binary it runs is in the same session" \
	wait_for events action=exec session="$s" "target=$CRUSH_BIN"

# --- plain node ----------------------------------------------------------------
v=$(ver @qwen-code/qwen-code)
in_scope "$NM/.bin/qwen" --version > "$T/qwen.out" 2>&1 < /dev/null
check "qwen --version ran ($v)" grep -q "$v" "$T/qwen.out"
check "qwen classified at exec (qwen.qwen-code)" \
	wait_for events action=session-start agent.id=qwen.qwen-code agent.version="$v"

v=$(ver @augmentcode/auggie)
in_scope "$NM/.bin/auggie" --version > "$T/auggie.out" 2>&1 < /dev/null
check "auggie --version ran ($v)" grep -q "$v" "$T/auggie.out"
check "auggie classified at exec (augment.auggie)" \
	wait_for events action=session-start agent.id=augment.auggie agent.version="$v"

# --- computer use ----------------------------------------------------------------
v=$(ver @playwright/mcp)
in_scope "$NM/.bin/playwright-mcp" --version > "$T/pw.out" 2>&1 < /dev/null
check "playwright-mcp --version ran ($v)" grep -q "$v" "$T/pw.out"
check "Playwright MCP classified at exec, class computer-use" \
	wait_for events action=session-start agent.id=microsoft.playwright-mcp agent.class=computer-use agent.version="$v"
# The Puppeteer server speaks MCP on stdin: it ends at end of input.
in_scope timeout 10 "$NM/.bin/mcp-server-puppeteer" < /dev/null > /dev/null 2>&1
check "Puppeteer MCP classified at exec, class computer-use" \
	wait_for events action=session-start agent.id=modelcontextprotocol.server-puppeteer agent.class=computer-use

# --- programs on the SDKs ----------------------------------------------------------
# A program on @openai/codex-sdk: the SDK runs the Codex binary of the
# @openai/codex it depends on ("exec --experimental-json"), which is the
# Codex CLI's signature; the program (node) stays outside the session. Its
# API is a closed loopback port, without retries: the exec is what is
# looked at.
mkdir -p "$HOME/.codex"
codex_config "$HOME/.codex/config.toml" "http://127.0.0.1:9/v1"
cat > "$T/codex-sdk.mjs" <<EOF
const { Codex } = await import("$NM/@openai/codex-sdk/dist/index.js");
try { await new Codex().startThread({ skipGitRepoCheck: true }).run("say hi"); } catch (e) { console.log("done"); }
EOF
CODEX_HOME=$HOME/.codex MOCK_OPENAI_API_KEY=sk-test \
	in_scope timeout 60 /usr/bin/node "$T/codex-sdk.mjs" > "$T/csdk.out" 2>&1
check "codex-sdk program: Codex classified at exec (openai.codex-cli)" \
	wait_for events action=session-start agent.id=openai.codex-cli process.argv.1=exec process.argv.2=--experimental-json \
	"process.exe=$NM/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex"
# (read from the platform package, an npm alias of @openai/codex whose
# version carries the platform: 0.163.0-linux-x64)
v=$(ver @openai/codex)
check "  ... version of the @openai/codex the SDK depends on ($v)" sh -c \
	"python3 '$AW_ROOT/tests/evq.py' '$T/export.jsonl' action=session-start agent.id=openai.codex-cli --field agent.version | grep -q '^$v'"
check "  ... the program itself opened no session" \
	count_is 0 action=session-start process.argv.1="$T/codex-sdk.mjs"

# A program on @anthropic-ai/claude-agent-sdk: the SDK runs the Claude
# Code harness of its platform package. Its API is a closed loopback port;
# the harness retries, so the program is stopped once the exec is seen.
cat > "$T/claude-sdk.mjs" <<EOF
const { query } = await import("$NM/@anthropic-ai/claude-agent-sdk/sdk.mjs");
try { for await (const m of query({ prompt: "say hi", options: { maxTurns: 1 } })) {} } catch (e) {}
EOF
ANTHROPIC_BASE_URL=http://127.0.0.1:9 ANTHROPIC_API_KEY=sk-test \
	in_scope timeout 60 /usr/bin/node "$T/claude-sdk.mjs" > /dev/null 2>&1 &
CSDK=$!
check "claude-agent-sdk program: its harness classified at exec (anthropic.claude-agent-sdk)" \
	wait_for events action=session-start agent.id=anthropic.claude-agent-sdk \
	"process.exe=$NM/@anthropic-ai/claude-agent-sdk-linux-x64/claude" process.argv.1=--output-format
check "  ... version read from the platform package" \
	events action=session-start agent.id=anthropic.claude-agent-sdk agent.version="$(ver @anthropic-ai/claude-agent-sdk)"
check "  ... the program itself opened no session" \
	count_is 0 action=session-start process.argv.1="$T/claude-sdk.mjs"
kill "$CSDK" 2>/dev/null; wait "$CSDK" 2>/dev/null

# A program on @openai/agents: a library, nothing it starts says so, and
# the script is the user's own. Not classified at exec, by design: such
# programs are found by their connects to an LLM API (behaviour-based
# discovery, t_network). Here its API is a closed loopback port.
cat > "$T/agents-app.mjs" <<EOF
const { Agent, run, setDefaultOpenAIClient, setTracingDisabled } = await import("$NM/@openai/agents/dist/index.mjs");
const { default: OpenAI } = await import("$NM/openai/index.mjs");
setTracingDisabled(true);
setDefaultOpenAIClient(new OpenAI({ baseURL: "http://127.0.0.1:9/v1", apiKey: "sk-test", maxRetries: 0 }));
try { await run(new Agent({ name: "a", instructions: "say hi" }), "hi"); } catch (e) { console.log("ran:", e.constructor.name); }
EOF
before=$(events action=session-start --count)
in_scope timeout 30 /usr/bin/node "$T/agents-app.mjs" > "$T/agents.out" 2>&1
check "@openai/agents program ran (its model call refused)" grep -q "^ran:" "$T/agents.out"
check "  ... and is not classified at exec (left to behaviour discovery)" \
	test "$(events action=session-start --count)" = "$before"

# --- the Codex IDE extension's binary ---------------------------------------------
# The VSIX is not on a registry this machine reaches: the npm package's
# native binary, copied to the extension layout of each editor (a copy,
# not a link: a link's real path is the npm one).
CODEX_NATIVE=$NM/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex
n=0
for ed in .vscode .vscode-server .cursor .windsurf; do
	d=$HOME/$ed/extensions/openai.chatgpt-26.1.0-linux-x64/bin/linux-x86_64
	mkdir -p "$d" && cp "$CODEX_NATIVE" "$d/codex"
	in_scope "$d/codex" --version > /dev/null 2>&1
	n=$((n + 1))
	check "Codex IDE binary under ~/$ed/extensions classified (openai.codex-ide)" \
		wait_for events action=session-start agent.id=openai.codex-ide "process.exe=$d/codex" \
		'rule=signature/openai.codex-ide:exe:**/extensions/*/bin/linux-x86_64/codex'
	rm -f "$d/codex"
done
check "  ... one session each" count_is $n action=session-start agent.id=openai.codex-ide

# --- look-alikes are not agents ------------------------------------------------------
before=$(events --count)
mkdir -p "$T/proj/node_modules/.bin" "$T/proj/node_modules/@augmentcode/auggie-tools" \
	"$T/proj/node_modules/opencode-helper/bin" "$T/proj/tools"
echo 'console.log("hello")' > "$T/proj/node_modules/@augmentcode/auggie-tools/augment.mjs"
echo 'console.log("notes")' > "$T/proj/tools/copilot-notes.js"
cp /bin/true "$T/proj/node_modules/opencode-helper/bin/opencode.exe"
cp /bin/true "$T/proj/tools/copilot"
cp /bin/true "$T/proj/tools/amp"
in_scope /usr/bin/node "$T/proj/node_modules/@augmentcode/auggie-tools/augment.mjs" > /dev/null
in_scope /usr/bin/node "$T/proj/tools/copilot-notes.js" > /dev/null
in_scope "$T/proj/node_modules/opencode-helper/bin/opencode.exe"
in_scope "$T/proj/tools/copilot"
in_scope "$T/proj/tools/amp"
sleep 0.5
check "a non-agent node script, and binaries named like agents, are not classified" \
	test "$(events --count)" = "$before"

# --- the database lists them ------------------------------------------------------------
aw signatures list --json > "$T/sigs.json"
check "signatures list --json shows each with vendor, product and class" python3 - "$T/sigs.json" <<'PY'
import json, sys
want = {
    "anomaly.opencode": ("Anomaly", "opencode", "coding-agent"),
    "github.copilot-cli": ("GitHub", "Copilot CLI", "coding-agent"),
    "qwen.qwen-code": ("Alibaba Qwen", "Qwen Code", "coding-agent"),
    "sourcegraph.amp": ("Sourcegraph", "Amp", "coding-agent"),
    "charm.crush": ("Charm", "Crush", "coding-agent"),
    "kilocode.kilo-cli": ("Kilo Code", "Kilo Code CLI", "coding-agent"),
    "augment.auggie": ("Augment Code", "Auggie", "coding-agent"),
    "anthropic.claude-agent-sdk": ("Anthropic", "Claude Agent SDK", "coding-agent"),
    "openai.codex-cli": ("OpenAI", "Codex CLI", "coding-agent"),
    "openai.codex-ide": ("OpenAI", "Codex IDE extension", "coding-agent"),
    "microsoft.playwright-mcp": ("Microsoft", "Playwright MCP server", "computer-use"),
    "modelcontextprotocol.server-puppeteer": ("Model Context Protocol", "Puppeteer MCP server", "computer-use"),
}
got = {s["id"]: (s["vendor"], s["product"], s["class"]) for s in json.load(open(sys.argv[1]))}
bad = {k: got.get(k) for k in want if got.get(k) != want[k]}
if bad:
    print("# differs:", bad)
sys.exit(1 if bad else 0)
PY
check "export valid JSON" events --valid
