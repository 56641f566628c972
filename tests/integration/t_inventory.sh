#!/bin/bash
# Inventory: the agents installed and the MCP servers their configuration
# starts, for a test account whose home holds every configuration format,
# an npm tree, an editor extension and a renamed copy of a real agent
# binary (found by its content). Then: exact lists from `inventory
# --json`, hostile files refused without hanging, an ordinary user sees
# only their own account, and the daemon reports a newly configured
# server as an `inventory` event within 2 s.
. "$(dirname "$0")/../lib.sh"

NPM=${AW_NPM_CACHE:-/var/cache/agentwall-tests/npm}/node_modules
U=awinv$$
H=$T/home/$U
mkdir -p "$T/home"
chmod 755 "$T" "$T/home"
if ! useradd -M -d "$H" -s /bin/sh "$U" 2>"$T/useradd.err"; then
	skip "inventory" "cannot create a test account: $(cat "$T/useradd.err")"
	exit 0
fi
# The account goes with the test, whatever happens.
trap 'cleanup; userdel "$U" 2>/dev/null' EXIT
mkdir -p "$H"

mk() { mkdir -p "$(dirname "$H/$1")"; cat > "$H/$1"; }

# --- configuration files, one per format ---
mk .codex/config.toml <<EOF
model = "o4-mini"
[mcp_servers.fs]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-filesystem", "/srv"]
env = { FS_TOKEN = "secret-fs-value" }

[mcp_servers.mystery]
command = "/opt/tools/mystery-mcp"
args = ["--port", "0"]

[mcp_servers.remote]
url = "https://mcp.example.test/mcp"

[projects."$H/proj"]
trust_level = "trusted"
[projects."$H/proj2"]
trust_level = "trusted"
EOF
mk .claude.json <<EOF
{"numStartups": 3,
 "mcpServers": {"playwright": {"type": "stdio", "command": "npx",
   "args": ["@playwright/mcp@latest"], "env": {"PW_SECRET": "secret-pw"}}},
 "projects": {"$H/proj": {"allowedTools": [],
   "mcpServers": {"local": {"command": "node", "args": ["$H/proj/server.js"]}}},
   "$T/rootproj": {"allowedTools": []}}}
EOF
mk proj/.mcp.json <<'EOF'
{"mcpServers": {"shared": {"command": "uvx", "args": ["mcp-server-git"]}}}
EOF
mk proj/.vscode/mcp.json <<'EOF'
// VS Code allows comments
{
  "servers": {
    "gh": {"type": "http", "url": "https://api.githubcopilot.test/mcp/"},
  },
}
EOF
mk .gemini/settings.json <<'EOF'
{"theme": "Default", "mcpServers": {"memory": {"command": "npx",
  "args": ["-y", "@modelcontextprotocol/server-memory"]},
  "stream": {"httpUrl": "https://stream.example.test/mcp", "headers": {"Authorization": "secret-header"}}}}
EOF
mk .config/Code/User/mcp.json <<'EOF'
{"servers": {"code-fs": {"command": "/usr/bin/env", "args": ["my-code-server"],
  "env": {"A": "1", "B": "2"}}}}
EOF
mk .cursor/mcp.json <<'EOF'
{"mcpServers": {"cursor-sse": {"url": "https://cursor.example.test/sse", "type": "sse"}}}
EOF
mk .config/opencode/opencode.json <<'EOF'
{"$schema": "https://opencode.ai/config.json",
 "mcp": {"oc-local": {"type": "local", "command": ["bun", "x", "oc-server"],
   "environment": {"OC_KEY": "secret-oc"}, "enabled": true}}}
EOF
mk .copilot/mcp-config.json <<'EOF'
{"mcpServers": {"copilot-tool": {"type": "local", "command": "copilot-tool", "args": [], "tools": ["*"]}}}
EOF
mk .config/amp/settings.json <<'EOF'
{"amp.mcpServers": {"amp-pw": {"command": "npx", "args": ["-y", "@playwright/mcp"]}}}
EOF
mk .config/crush/crush.json <<'EOF'
{"mcp": {"crush-http": {"type": "http", "url": "https://crush.example.test/mcp"}}}
EOF

# --- installed agents ---
pkg() { # DIR NAME VERSION [BIN-JSON]
	mkdir -p "$H/$1"
	printf '{"name": "%s", "version": "%s"%s}\n' "$2" "$3" "${4:+, \"bin\": $4}" > "$H/$1/package.json"
}
pkg .npm-global/lib/node_modules/@openai/codex @openai/codex 0.99.1-test '{"codex": "bin/codex.js"}'
pkg .npm-global/lib/node_modules/left-pad left-pad 1.3.0
pkg .local/lib/node_modules/@google/gemini-cli @google/gemini-cli 0.42.0-test
pkg .nvm/versions/node/v22.1.0/lib/node_modules/opencode-ai opencode-ai 1.2.3-test
pkg .nvm/versions/node/v22.1.0/lib/node_modules/@playwright/mcp @playwright/mcp 0.0.99-test
# The Codex IDE extension with its bundled binary (a stand-in: matched by
# path; the version is the extension manifest's).
E=.vscode/extensions/openai.chatgpt-26.5.1-linux-x64
pkg $E chatgpt 26.5.1
mkdir -p "$H/$E/bin/linux-x86_64"
printf '#!/bin/sh\n' > "$H/$E/bin/linux-x86_64/codex"
chmod 755 "$H/$E/bin/linux-x86_64/codex"
pkg .cursor/extensions/some.other-1.0.0 other 1.0.0
# A renamed copy of a real agent binary: only its content names it.
CLAUDE_BIN=$NPM/@anthropic-ai/claude-code-linux-x64/claude
if [ -f "$CLAUDE_BIN" ]; then
	mkdir -p "$H/bin"
	cp "$CLAUDE_BIN" "$H/bin/helper-tool"
	chmod 755 "$H/bin/helper-tool"
fi
chown -R "$U:$U" "$H"

# --- hostile files (made after the chown above: nothing here may be
# followed or changed by it) ---
mkdir -p "$H/.augment" "$H/.qwen" "$H/.config/kilo" "$H/.codeium/windsurf"
{ printf '{"mcpServers": {}, "pad": "'; head -c $((10 * 1024 * 1024)) /dev/zero | tr '\0' ' '; printf '"}'; } > "$H/.augment/settings.json"
mkfifo "$H/.qwen/settings.json"
ln -s /etc/shadow "$H/.config/kilo/kilo.json"
mk .local/share/crush/crush.json <<'EOF2'
{"mcp": {"broken": {"command": "x" "args": []}}}
EOF2
mk proj2/.codex/config.toml <<'EOF2'
[mcp_servers.a]
command = "a"
[mcp_servers.a]
command = "b"
EOF2
# A hard link to a file only root (and root's group) may read, as root
# could make one (the account could not, protected_hardlinks): read as
# the account, with its groups and not root's, it is refused.
echo '{"mcpServers": {"root-only": {"command": "root-secret-cmd"}}}' > "$T/rootonly"
chown root:root "$T/rootonly"
chmod 640 "$T/rootonly"
ln "$T/rootonly" "$H/.codeium/windsurf/mcp_config.json"
# A project the account names but may not enter: not read for it.
mkdir -p "$T/rootproj"
echo '{"mcpServers": {"root-proj": {"command": "root-proj-cmd"}}}' > "$T/rootproj/.mcp.json"
chmod 700 "$T/rootproj"
# A directory of the home that is a symlink to root's files.
mkdir -p "$T/rootvs/data/User"
echo '{"servers": {"root-vs": {"command": "root-vs-cmd"}}}' > "$T/rootvs/data/User/mcp.json"
ln -s "$T/rootvs" "$H/.vscode-server"
chown "$U:$U" "$H/.augment/settings.json" "$H/.qwen/settings.json" \
	"$H/.local/share/crush/crush.json" "$H/proj2/.codex/config.toml"


cat > "$T/expect.py" <<'EOF'
import json, sys
home, user, have_claude = sys.argv[2], sys.argv[3], sys.argv[4] == "1"
inv = json.load(open(sys.argv[1]))
agents = sorted((a["agent"], a["version"], a["where"], a["path"].replace(home, "~"))
                for a in inv["agents"] if a["account"] == user)
want_agents = [
    ("anomaly.opencode", "1.2.3-test", "npm", "~/.nvm/versions/node/v22.1.0/lib/node_modules/opencode-ai"),
    ("google.gemini-cli", "0.42.0-test", "npm", "~/.local/lib/node_modules/@google/gemini-cli"),
    ("microsoft.playwright-mcp", "0.0.99-test", "npm", "~/.nvm/versions/node/v22.1.0/lib/node_modules/@playwright/mcp"),
    ("openai.codex-cli", "0.99.1-test", "npm", "~/.npm-global/lib/node_modules/@openai/codex"),
    ("openai.codex-ide", "26.5.1", "extension", "~/.vscode/extensions/openai.chatgpt-26.5.1-linux-x64/bin/linux-x86_64/codex"),
]
if have_claude:
    want_agents.append(("anthropic.claude-code", None, "content", "~/bin/helper-tool"))
want_agents.sort(key=lambda t: tuple("" if x is None else x for x in t))
agents.sort(key=lambda t: tuple("" if x is None else x for x in t))
servers = list((s["config"].replace(home, "~"), s["project"] and s["project"].replace(home, "~"),
                  s["name"], s["agent"], s["transport"], s["command"],
                  tuple(a.replace(home, "~") for a in s["args"]), tuple(s["env_keys"]), s["url"], s["known"])
                 for s in inv["servers"] if s["account"] == user)
want_servers = sorted([
    ("~/.codex/config.toml", None, "fs", "openai.codex-cli", "stdio", "npx",
     ("-y", "@modelcontextprotocol/server-filesystem", "/srv"), ("FS_TOKEN",), None, "modelcontextprotocol.server-filesystem"),
    ("~/.codex/config.toml", None, "mystery", "openai.codex-cli", "stdio", "/opt/tools/mystery-mcp",
     ("--port", "0"), (), None, "unknown"),
    ("~/.codex/config.toml", None, "remote", "openai.codex-cli", "http", None, (), (), "https://mcp.example.test/mcp", "unknown"),
    ("~/.claude.json", None, "playwright", "anthropic.claude-code", "stdio", "npx",
     ("@playwright/mcp@latest",), ("PW_SECRET",), None, "microsoft.playwright-mcp"),
    ("~/.claude.json", "~/proj", "local", "anthropic.claude-code", "stdio", "node", ("~/proj/server.js",), (), None, "unknown"),
    ("~/proj/.mcp.json", None, "shared", "anthropic.claude-code", "stdio", "uvx", ("mcp-server-git",), (), None, "unknown"),
    ("~/proj/.vscode/mcp.json", None, "gh", "microsoft.vscode", "http", None, (), (), "https://api.githubcopilot.test/mcp/", "unknown"),
    ("~/.gemini/settings.json", None, "memory", "google.gemini-cli", "stdio", "npx",
     ("-y", "@modelcontextprotocol/server-memory"), (), None, "modelcontextprotocol.server-memory"),
    ("~/.gemini/settings.json", None, "stream", "google.gemini-cli", "http", None, (), (), "https://stream.example.test/mcp", "unknown"),
    ("~/.config/Code/User/mcp.json", None, "code-fs", "microsoft.vscode", "stdio", "/usr/bin/env", ("my-code-server",), ("A", "B"), None, "unknown"),
    ("~/.cursor/mcp.json", None, "cursor-sse", "cursor.cursor", "sse", None, (), (), "https://cursor.example.test/sse", "unknown"),
    ("~/.config/opencode/opencode.json", None, "oc-local", "anomaly.opencode", "stdio", "bun", ("x", "oc-server"), ("OC_KEY",), None, "unknown"),
    ("~/.copilot/mcp-config.json", None, "copilot-tool", "github.copilot-cli", "stdio", "copilot-tool", (), (), None, "unknown"),
    ("~/.config/amp/settings.json", None, "amp-pw", "sourcegraph.amp", "stdio", "npx", ("-y", "@playwright/mcp"), (), None, "microsoft.playwright-mcp"),
    ("~/.config/crush/crush.json", None, "crush-http", "charm.crush", "http", None, (), (), "https://crush.example.test/mcp", "unknown"),
], key=repr)
servers.sort(key=repr)
ok = True
if agents != want_agents:
    ok = False
    print("# agents: got", agents, "\n# want", want_agents)
if servers != want_servers:
    ok = False
    for s in servers:
        if s not in want_servers: print("# unexpected server", s)
    for s in want_servers:
        if s not in servers: print("# missing server", s)
sys.exit(0 if ok else 1)
EOF

have_claude=0; [ -f "$CLAUDE_BIN" ] && have_claude=1
timeout 60 "$AW" inventory --json > "$T/inv.json" 2> "$T/inv.err"
rc=$?
check "inventory --json runs as root (status $rc)" test $rc = 0
check "  ... and its output is JSON" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/inv.json"
check "  ... lists exactly the fixture's agents and MCP servers" python3 "$T/expect.py" "$T/inv.json" "$H" "$U" "$have_claude"
[ $have_claude = 1 ] || skip "real agent binary by content" "no claude binary in $NPM"
check "  ... never an environment value nor a header value" \
	bash -c '! grep -q -e secret-fs-value -e secret-pw -e secret-oc -e secret-header "$0"' "$T/inv.json"

problem() { # PATH-SUFFIX REGEX: the file is reported with that reason
	python3 - "$T/inv.json" "$H/$1" "$2" <<'EOF'
import json, os, re, sys
inv = json.load(open(sys.argv[1]))
hits = [p for p in inv["problems"] if p["path"] == os.path.normpath(sys.argv[2])]
if not hits or not re.search(sys.argv[3], hits[0]["reason"]):
    print("# problems:", [p for p in inv["problems"]])
    sys.exit(1)
EOF
}
check "hostile: a 10 MB file is refused by size" problem .augment/settings.json 'more than the [0-9]+ allowed'
check "hostile: a FIFO is refused, no hang" problem .qwen/settings.json 'FIFO'
check "hostile: a symlink to /etc/shadow is refused" problem .config/kilo/kilo.json 'symbolic link'
check "hostile: a hard link to a root-only file is not read for the account" problem .codeium/windsurf/mcp_config.json 'Permission denied'
check "hostile: malformed JSON, with the place" problem .local/share/crush/crush.json "line 1, column 36: expected ',' or '}'"
check "hostile: malformed TOML (a table twice), with the place" problem proj2/.codex/config.toml 'line 3, column 14: table "a" defined twice'
check "hostile: a project the account may not enter is not read for it" problem ../../rootproj/.mcp.json 'Permission denied'
check "hostile: a symlinked directory in the home is not followed" problem .vscode-server/data/User/mcp.json 'symbolic link'
check "  ... and nothing of those files in the output" bash -c '! grep -q -e "root:" -e root-secret-cmd -e root-proj-cmd -e root-vs-cmd "$0"' "$T/inv.json"

# Deep nesting: refused quickly, not a stack overflow.
python3 -c 'print("{\"mcpServers\": " + "[" * 100000 + "]" * 100000 + "}")' > "$H/.gemini/settings.json"
chown "$U:$U" "$H/.gemini/settings.json"
timeout 20 "$AW" inventory --json --user "$U" > "$T/deep.json" 2>&1
check "hostile: deep nesting is refused, no crash (status $?)" python3 -c '
import json, sys
i = json.load(open(sys.argv[1]))
assert any(p["path"].endswith("/.gemini/settings.json") and "nested too deeply" in p["reason"] for p in i["problems"])' "$T/deep.json"
mk .gemini/settings.json <<'EOF'
{"theme": "Default", "mcpServers": {"memory": {"command": "npx",
  "args": ["-y", "@modelcontextprotocol/server-memory"]},
  "stream": {"httpUrl": "https://stream.example.test/mcp", "headers": {"Authorization": "secret-header"}}}}
EOF
chown "$U:$U" "$H/.gemini/settings.json"

# --- an ordinary user sees only their own account ---
runuser -u "$U" -- env HOME="$H" "$AW" inventory --json > "$T/own.json" 2> "$T/own.err"
check "ordinary user: inventory --json runs" test $? = 0
check "  ... sees only their own account" python3 -c '
import json, sys
inv = json.load(open(sys.argv[1]))
accts = {x["account"] for k in ("agents", "servers", "problems") for x in inv[k]}
assert accts <= {sys.argv[2], None}, accts
assert any(s["name"] == "fs" for s in inv["servers"])' "$T/own.json" "$U"
check "  ... the same lists as root sees for that account" python3 "$T/expect.py" "$T/own.json" "$H" "$U" "$have_claude"
runuser -u "$U" -- "$AW" inventory --user root > "$T/o" 2>&1
check "  ... and may not ask for another account" test $? != 0

# --- the daemon: a new [mcp_servers] entry becomes an inventory event ---
start_daemon --inventory-interval 3600 || exit 1
check "daemon: a baseline inventory event at start" wait_for count_ge 1 action=inventory rule=inventory/baseline
sleep 0.3
start=$(date +%s%N)
cat >> "$H/.codex/config.toml" <<'EOF'

[mcp_servers.newly]
command = "/usr/local/bin/new-tool-mcp"
env = { NEW_SECRET = "secret-new" }
EOF
got=""
for _ in $(seq 40); do
	if [ "$(events action=inventory inventory.change=added inventory.kind=mcp-server inventory.item.name=newly --count)" -ge 1 ]; then
		got=$(( ($(date +%s%N) - start) / 1000000 )); break
	fi
	sleep 0.05
done
check "daemon: a new [mcp_servers] entry is an inventory event within 2 s (${got:-none} ms)" \
	test -n "$got" -a "${got:-9999}" -le 2000
check "  ... naming the file, the server, env keys only, unknown to the signatures" python3 -c '
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if "\"newly\"" in l]
e = evs[0]
it = e["inventory"]["item"]
assert e["target"] == sys.argv[2] + "/.codex/config.toml", e["target"]
assert it["env_keys"] == ["NEW_SECRET"] and it["known"] == "unknown", it
assert e["rule"] == "inventory/mcp-server:unknown", e["rule"]
assert "secret-new" not in open(sys.argv[1]).read()' "$T/export.jsonl" "$H"
# A newly installed agent too.
pkg .local/lib/node_modules/@anthropic-ai/claude-code @anthropic-ai/claude-code 9.9.9-test
chown -R "$U:$U" "$H/.local/lib/node_modules"
check "daemon: a newly installed agent is an inventory event" \
	wait_for count_ge 1 action=inventory inventory.change=added inventory.kind=agent inventory.item.agent=anthropic.claude-code inventory.item.version=9.9.9-test
rm -rf "$H/.local/lib/node_modules/@anthropic-ai"
check "daemon: its removal too" \
	wait_for count_ge 1 action=inventory inventory.change=removed inventory.kind=agent inventory.item.version=9.9.9-test
aw status --json > "$T/st.json"
check "status --json reports the inventory" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))["inventory"]
assert d["scans"] >= 2 and d["servers"] >= 15, d' "$T/st.json"
stop_daemon
