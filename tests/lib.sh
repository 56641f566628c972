# Shared by the integration tests (sourced). A test file is a list of
# cases; each prints one TAP line. Everything the file creates lives under
# $T, a cgroup $CG and a pin directory $PINS, all named aw-test-*, and is
# removed by the EXIT trap here and again by the runner's parent teardown.
set -u
AW_BUILD=${AW_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build}
AW_ROOT=${AW_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
AWD=$AW_BUILD/agentwalld
AW=$AW_BUILD/agentwall
TESTPROC=$AW_BUILD/tests/aw-testproc
CG2=/sys/fs/cgroup/unified

ID=${AW_TEST_PREFIX:-aw-test}-$$-$RANDOM
T=/tmp/$ID
CG=$CG2/$ID
PINS=/sys/fs/bpf/$ID
STATE=$T/state
N=0
DAEMON_PID=""
mkdir -p "$T" "$STATE"
mkdir "$CG"

ok()   { N=$((N + 1)); echo "ok $N $*"; }
nok()  { N=$((N + 1)); echo "not ok $N $*"; }
skip() { N=$((N + 1)); echo "ok $N $1 # SKIP $2"; }
# check NAME COMMAND...: passes if the command succeeds.
check() { local name=$1; shift; if "$@"; then ok "$name"; else nok "$name"; fi; }

# rm_cgroup DIR: kill what runs in DIR and below, remove it depth first.
rm_cgroup() {
	local d pid
	[ -d "$1" ] || return 0
	for d in $(find "$1" -depth -type d 2>/dev/null); do
		for pid in $(cat "$d/cgroup.procs" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
	done
	for _ in $(seq 20); do
		for d in $(find "$1" -depth -type d 2>/dev/null); do rmdir "$d" 2>/dev/null; done
		[ -d "$1" ] || return 0
		sleep 0.1
	done
}

# umount_under DIR: every mount below DIR (session stores a killed
# daemon left mounted), deepest first; their loop devices detach with
# them (autoclear).
umount_under() {
	local m
	for m in $(awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		umount -l "$m" 2>/dev/null
	done
}

# Network namespaces a test made (ip netns add NAME; net_ns NAME records
# it): deleted on exit, their veths with them.
NETNS=()
net_ns() { ip netns add "$1" && NETNS+=("$1"); }

cleanup() {
	stop_daemon
	local ns
	for ns in "${NETNS[@]}"; do
		ip netns pids "$ns" 2>/dev/null | while read -r p; do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	rm_cgroup "$CG"
	# Session pids limits (v1 hierarchy) of this test's daemon.
	rm_cgroup "/sys/fs/cgroup/pids/agentwall-$ID"
	umount_under "$T"
	rm -rf "$PINS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# start_daemon [extra agentwalld options]: in the test's cgroup scope
# (through AWD_WRAP, e.g. nsenter into a test network namespace).
AWD_WRAP=()
start_daemon() {
	"${AWD_WRAP[@]}" "$AWD" --scope "cgroup:$CG" --state-dir "$STATE" --bpffs-dir "$PINS" \
		--export "$T/export.jsonl" "$@" >"$T/daemon.out" 2>"$T/daemon.err" &
	DAEMON_PID=$!
	echo "$DAEMON_PID" > "$T/daemon.pid"
	# (A socket file may be left by a daemon the test killed: wait for
	# this one to answer.)
	for _ in $(seq 200); do
		[ -S "$STATE/agentwalld.sock" ] &&
			"$AW" --state-dir "$STATE" status >/dev/null 2>&1 && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "# daemon did not start:"; sed 's/^/#   /' "$T/daemon.err"
	return 1
}

stop_daemon() {
	[ -n "$DAEMON_PID" ] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	local rc=$?
	# A clean stop is part of every test: under the sanitizer build a
	# leak or an error report makes the exit status non-zero.
	if [ $rc = 0 ]; then ok "daemon stopped cleanly"; else
		nok "daemon stopped cleanly (status $rc)"
		tail -30 "$T/daemon.err" | sed 's/^/# /'
	fi
	DAEMON_PID=""
	rm -f "$T/daemon.pid"
}

# in_scope CMD...: run CMD inside the test's cgroup (moved there before
# it execs, so the exec is the one classified).
in_scope() {
	bash -c 'echo $BASHPID > "$0/cgroup.procs" && exec "$@"' "$CG" "$@"
}

aw() { "$AW" --state-dir "$STATE" "$@"; }

# wait_for CMD...: poll up to 10 s for CMD to succeed.
wait_for() {
	for _ in $(seq 100); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# Events in the export stream (flushed as they happen) matching a jq-less
# filter: python3 is part of Debian's base and meson's dependency.
events() { python3 "$AW_ROOT/tests/evq.py" "$T/export.jsonl" "$@"; }

# The stand-in agent: a copy of bash at a path its signature names.
fake_agent_bin() {
	mkdir -p "$T/opt/fakeagent/bin" "$T/sigs" "$T/bin"
	cp /bin/bash "$T/opt/fakeagent/bin/fake-agent"
}
# Its signature entry, to put under "signatures:".
fake_agent_sig() {
	cat <<'YAML'
  - id: test.fake-agent
    vendor: Test
    product: Fake Agent
    class: coding-agent
    match:
      - exe: "**/opt/fakeagent/bin/fake-agent"
YAML
}

# The stand-in agent, a stand-in interpreter (bash named node) and a
# stand-in MCP server, with a signature file for them in $T/sigs.
make_fake_agent() {
	fake_agent_bin
	cp /bin/bash "$T/bin/node"
	mkdir -p "$T/proj/node_modules/.bin" "$T/proj/node_modules/@fake/mcp-thing/dist"
	printf '#!/bin/sh\necho mcp-server "$@"\nsleep "${MCP_SLEEP:-0}"\n' \
		> "$T/proj/node_modules/@fake/mcp-thing/dist/index.js"
	ln -s ../@fake/mcp-thing/dist/index.js "$T/proj/node_modules/.bin/mcp-server-thing"
	{
		printf 'version: 1\ninterpreters:\n  - "**/node"\nsignatures:\n'
		fake_agent_sig
		cat <<YAML
  - id: test.mcp-thing
    vendor: Test
    product: MCP Thing
    class: mcp-server
    package: "@fake/mcp-thing"
    match:
      - script: "**/node_modules/.bin/mcp-server-thing"
      - script: "**/node_modules/@fake/mcp-thing/dist/index.js"
YAML
	} > "$T/sigs/test.yaml"
}
FAKE() { echo "$T/opt/fakeagent/bin/fake-agent"; }
# count_ge N FILTERS...: at least N export events match.
count_ge() { local n=$1; shift; [ "$(events "$@" --count)" -ge "$n" ]; }
count_is() { local n=$1; shift; [ "$(events "$@" --count)" = "$n" ]; }

# codex_config FILE BASE_URL: a Codex CLI configuration whose model is a
# mock of its API at BASE_URL (tests/helpers/mock_openai.py), with every
# other connection it would make (updates, analytics, plugins) off.
codex_config() {
	cat > "$1" <<EOF
model = "mock-model"
model_provider = "mock"
check_for_update_on_startup = false
web_search = "disabled"

[model_providers.mock]
name = "mock"
base_url = "$2"
wire_api = "responses"
env_key = "MOCK_OPENAI_API_KEY"
request_max_retries = 0
stream_max_retries = 0
supports_websockets = false

[analytics]
enabled = false

[otel]
exporter = "none"
trace_exporter = "none"
metrics_exporter = "none"

[features]
plugins = false
apps = false
remote_plugin = false
unbounded_connection_retries = false
EOF
}
