#!/bin/bash
# A real agent, start to exit, in a session vs unconfined: Claude Code
# from npm (`claude -p PROMPT --allowedTools Bash`) against a local mock of
# the Anthropic Messages API (tests/helpers/mock_anthropic.py: one Bash
# tool call that writes a file, then a final answer), so one run is the
# agent's whole life: start, two model turns, one shell tool, exit.
#
# Paired runs, alternating, with the daemon in enforce mode the whole time:
#  * unconfined: started outside the daemon's scope cgroup (never
#    classified, never forced);
#  * forced: started from a plain shell inside the scope: classified at
#    exec, stopped, re-executed through the launcher into a session
#    (copy-on-write workspace and home, its own store, the policy's
#    network rules with the mock's loopback port allowed), then run.
# Medians of ROUNDS pairs and their ratio; every run is checked to have
# completed its tool call (the mock got the tool's result).
#
# Usage: bench/agents.sh [ROUNDS]   (default 10)
set -u
ROUNDS=${1:-10}
. "$(dirname "$0")/lib.sh"
CLAUDE=$NPM/node_modules/.bin/claude
[ -x "$CLAUDE" ] || { echo "claude not in $NPM (npm install @anthropic-ai/claude-code there)"; exit 1; }

mkdir -p "$T/policies" "$T/home" "$T/ws"
cp "$ROOT"/policies/*.yaml "$T/policies/"
printf '%s\n' '  - id: mock-api' '    loopback: true' '    protocols: [tcp]' >> "$T/policies/anthropic.claude-code.yaml"
chmod 644 "$T"/policies/*.yaml
python3 "$ROOT/tests/helpers/mock_anthropic.py" "$T/mock.port" "$T/mock.log" 2>"$T/mock.err" &
MOCK=$!
trap 'kill $MOCK 2>/dev/null; cleanup' EXIT
for _ in $(seq 100); do [ -s "$T/mock.port" ] && break; sleep 0.05; done
PORT=$(cat "$T/mock.port")
start --mode enforce --policies "$T/policies" --sessions-max 0 --session-quota 64M

# claude_run [in_cg]: one run, wall ms on stdout; fails if the tool call
# did not complete.
claude_run() {
	local t0 t1 n0 n1
	n0=$(grep -c "tool result: ok" "$T/mock.err")
	t0=$(date +%s%N)
	(cd "$T/ws" && "$@" env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$T/home" LANG=C.UTF-8 TERM=dumb \
		ANTHROPIC_BASE_URL="http://127.0.0.1:$PORT" ANTHROPIC_API_KEY=sk-ant-mock-not-a-key \
		CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_AUTOUPDATER=1 DISABLE_TELEMETRY=1 \
		DISABLE_ERROR_REPORTING=1 timeout 60 "$CLAUDE" -p "Create agent-wrote.txt" --allowedTools Bash \
		</dev/null >/dev/null 2>&1) || return 1
	t1=$(date +%s%N)
	n1=$(grep -c "tool result: ok" "$T/mock.err")
	rm -f "$T/ws/agent-wrote.txt"
	[ "$n1" -gt "$n0" ] || return 1
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", (b - a) / 1e6 }'
}

echo "agentwall real-agent benchmark, $(date -u +%F), kernel $(uname -r), $(nproc) CPUs, $ROUNDS pairs (medians)"
echo "Claude Code $(python3 -c "import json; print(json.load(open('$NPM/node_modules/@anthropic-ai/claude-code/package.json'))['version'])"), mock Anthropic API on loopback, one Bash tool call per run"
echo
# One of each first, not counted (caches: the binary, the daemon's spare store).
claude_run > /dev/null; claude_run in_cg > /dev/null
un=() fo=() pr=() bad=0
for _ in $(seq "$ROUNDS"); do
	u=$(claude_run) || { bad=$((bad + 1)); u=""; }
	f=$(claude_run in_cg) || { bad=$((bad + 1)); f=""; }
	[ -n "$u" ] && un+=("$u")
	[ -n "$f" ] && fo+=("$f")
	[ -n "$u" ] && [ -n "$f" ] && pr+=("$(ratio "$f" "$u")")
done
stop
sessions=$(grep -c '"action":"sandbox"' "$T/export.jsonl")
[ ${#un[@]} -gt 0 ] && [ ${#fo[@]} -gt 0 ] || { echo "no complete run (failed: $bad)"; exit 1; }
u=$(printf '%s\n' "${un[@]}" | median); f=$(printf '%s\n' "${fo[@]}" | median)
echo "claude -p, start to exit (ms):"
echo "  unconfined                 $u   (runs: ${un[*]})"
echo "  forced into a session      $f   (runs: ${fo[*]})"
echo "  ratio of the medians       $(ratio "$f" "$u")"
echo "  median of the pairs' ratios $(printf '%s\n' "${pr[@]}" | median)   (each pair run back to back: less drift)"
echo "  added per run              $(awk -v a="$f" -v b="$u" 'BEGIN { printf "%.1f", a - b }') ms"
echo "  sessions opened: $sessions; runs that did not complete their tool call: $bad"
