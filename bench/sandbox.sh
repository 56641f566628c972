#!/bin/bash
# Sandbox benchmarks, side by side in one run (medians of ROUNDS):
#  1. session start: `agentwall run -- true` vs bubblewrap (Debian's bwrap
#     with the issue's arguments) vs Anthropic's sandbox-runtime (`srt`);
#  2. forced containment: exec-to-first-instruction of a forced agent vs
#     the same exec unforced (enforce vs audit mode);
#  3. a build workload (compiling this project) inside a session vs
#     unconfined;
#  4. non-agent fork+exec and open storms with the daemon enforcing vs not
#     loaded.
# The daemon runs with a cgroup scope made here; everything measured runs
# inside it.
#
# Usage: bench/sandbox.sh [ROUNDS]   (default 5)
set -u
ROUNDS=${1:-5}
. "$(dirname "$0")/lib.sh"

echo "agentwall sandbox benchmarks, $(date -u +%F), kernel $(uname -r), $(nproc) CPUs, $ROUNDS rounds (medians)"
echo

# 1. Session start.
start
cd "$T/ws"
SRT=""
[ -x "$NPM/node_modules/.bin/srt" ] && SRT=$NPM/node_modules/.bin/srt
# A developer's home as the masks meet it: a browser profile of ~3,000
# files under a masked ~/.config (the default policy masks the browsers'
# profiles). HOME names it for the launcher (masks cover both the
# account's home and HOME).
PH=$T/profile-home
python3 - "$PH/.config/google-chrome" <<'PY'
import os, sys
root = sys.argv[1]
for d in ["Default", "Default/Service Worker/CacheStorage", "Default/IndexedDB",
          "Default/Local Storage/leveldb", "Default/Extensions", "Default/GPUCache",
          "Default/Code Cache/js", "Profile 1", "Crashpad/reports"]:
    for i in range(350):
        sub = os.path.join(root, d, f"d{i % 20}")
        os.makedirs(sub, exist_ok=True)
        open(os.path.join(sub, f"f{i}"), "w").write("x")
PY
aw_ms=() bw_ms=() bwe_ms=() srt_ms=() awp_ms=()
for _ in $(seq "$ROUNDS"); do
	aw_ms+=("$(ms_per 20 in_cg "$B/agentwall" --state-dir "$T/state" run -- true)")
	awp_ms+=("$(HOME=$PH ms_per 10 in_cg "$B/agentwall" --state-dir "$T/state" run -- true)")
	bw_ms+=("$(ms_per 20 in_cg bwrap --ro-bind / / --dev /dev --proc /proc true)")
	# The isolation a session has: every namespace, a private /tmp.
	bwe_ms+=("$(ms_per 20 in_cg bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp true)")
	[ -n "$SRT" ] && srt_ms+=("$(ms_per 5 in_cg "$SRT" true)")
done
a=$(printf '%s\n' "${aw_ms[@]}" | median)
w=$(printf '%s\n' "${bw_ms[@]}" | median)
we=$(printf '%s\n' "${bwe_ms[@]}" | median)
echo "session start (ms per start, incl. the in-cgroup bash wrapper):"
echo "  agentwall run -- true      $a"
echo "  bwrap ... true             $w"
echo "  ratio agentwall/bwrap      $(ratio "$a" "$w")"
echo "  bwrap --unshare-all --tmpfs /tmp ... true   $we   (the same isolation)"
echo "  ratio agentwall/that       $(ratio "$a" "$we")   (target <= 1)"
ap=$(printf '%s\n' "${awp_ms[@]}" | median)
echo "  agentwall run -- true, a 3,150-file browser profile masked in HOME   $ap"
echo "  ratio that/bwrap with the same isolation   $(ratio "$ap" "$we")"
if [ -n "$SRT" ]; then
	s=$(printf '%s\n' "${srt_ms[@]}" | median)
	echo "  srt true                   $s"
	echo "  ratio agentwall/srt        $(ratio "$a" "$s")   (target <= 0.1)"
else
	echo "  srt: not installed ($NPM/node_modules/.bin/srt; npm install @anthropic-ai/sandbox-runtime)"
fi
cd "$ROOT"
stop
echo

# 2. Forced containment latency: the daemon measures request-to-detach
#    (exec hook's stop to the launcher image in place); the wall time of a
#    whole forced run vs an unforced one of the same agent is the rest.
mkdir -p "$T/opt/fakeagent/bin" "$T/sigs"
cp /bin/true "$T/opt/fakeagent/bin/fake-agent"
cat > "$T/sigs/t.yaml" <<'YAML'
version: 1
signatures:
  - id: test.fake-agent
    vendor: Test
    product: Fake Agent
    class: coding-agent
    match:
      - exe: "**/opt/fakeagent/bin/fake-agent"
YAML
FA=$T/opt/fakeagent/bin/fake-agent
# The same stand-in for exec to its first instruction: a copy of the
# test helper at the signature's path, which prints CLOCK_MONOTONIC first
# thing in main ("clock"); the time is taken just before its execve.
FC=$T/opt/fakeagent/bin/fake-agent-clock
cp "$TP" "$FC"
printf '      - exe: "**/opt/fakeagent/bin/fake-agent-clock"\n' >> "$T/sigs/t.yaml"
exec_to_main() { # ms from execve to main, one run
	in_cg python3 -c 'import os, sys, time
r, w = os.pipe()
if os.fork() == 0:
    os.dup2(w, 1)
    os.write(1, b"%d\n" % time.clock_gettime_ns(time.CLOCK_MONOTONIC))
    os.execv(sys.argv[1], [sys.argv[1], "clock"])
os.close(w)
out = b""
while True:
    b = os.read(r, 64)
    if not b:
        break
    out += b
os.wait()
t, m = (int(x) for x in out.split()[:2])
print("%.3f" % ((m - t) / 1e6))' "$FC" 2>/dev/null
}
start --signatures "$T/sigs" --mode audit
au=() ax=()
for _ in $(seq "$ROUNDS"); do
	au+=("$(ms_per 10 in_cg "$FA")")
	for _ in 1 2 3 4 5; do ax+=("$(exec_to_main)"); done
done
stop
# No cap on the sessions kept for review: past it (64 by default) every
# further forcing is refused, and a refused run is a short one.
start --signatures "$T/sigs" --mode enforce --sessions-max 100000
en=() ex=()
for _ in $(seq "$ROUNDS"); do
	en+=("$(ms_per 10 in_cg "$FA")")
	for _ in 1 2 3 4 5; do ex+=("$(exec_to_main)"); done
done
lat=$(python3 - "$T/export.jsonl" <<'PY'
import json, sys, statistics
v = [json.loads(l).get("latency_us") for l in open(sys.argv[1]) if '"action":"force"' in l]
v = [x for x in v if x is not None]
print(statistics.median(v) / 1000 if v else "n/a")
PY
)
refused=$(grep -c '"rule":"force/refused"' "$T/export.jsonl")
stop
a=$(printf '%s\n' "${au[@]}" | median); e=$(printf '%s\n' "${en[@]}" | median)
echo "forced containment (stand-in agent = /bin/true):"
echo "  unforced run (audit)       $a ms"
echo "  forced run (enforce)       $e ms   (whole run: force + launcher + sandbox)"
echo "  stop-to-launcher (daemon)  $lat ms median   (target <= 10)"
echo "  forcings refused           $refused of $((ROUNDS * 20))   (a refused run is not a forced start)"
xa=$(printf '%s\n' "${ax[@]}" | median); xe=$(printf '%s\n' "${ex[@]}" | median)
echo "  exec to main, unforced     $xa ms   (median of $((ROUNDS * 5)))"
echo "  exec to main, forced       $xe ms"
echo "  added by forcing           $(awk -v a="$xa" -v b="$xe" 'BEGIN { printf "%.3f", b - a }') ms   (target <= 2)"
echo

# 3. A build inside a session vs unconfined: compile the project's sources.
rm -rf "$T/ws/src" && cp -r "$ROOT/src" "$ROOT/bpf" "$T/ws/"
build_cmd="cd $T/ws && for f in src/shared/*.c src/store/*.c src/signatures/*.c; do cc -O1 -Isrc -Ibpf/abi -c \$f -o /tmp/o.\$\$.o; done"
start
un=() in=()
for _ in $(seq "$ROUNDS"); do
	un+=("$(ms_per 1 in_cg sh -c "$build_cmd")")
	in+=("$(ms_per 1 in_cg "$B/agentwall" --state-dir "$T/state" run --workspace "$T/ws" -- sh -c "$build_cmd")")
done
stop
u=$(printf '%s\n' "${un[@]}" | median); i=$(printf '%s\n' "${in[@]}" | median)
echo "build workload (compile src/shared, store, signatures):"
echo "  unconfined                 $u ms"
echo "  in a session               $i ms"
echo "  ratio                      $(ratio "$i" "$u")   (target <= 1.05)"
echo

# 4. Non-agents with the daemon enforcing vs not loaded.
fe_off=() fe_on=() op_off=() op_on=()
for _ in $(seq "$ROUNDS"); do
	fe_off+=("$(ms_per 1 in_cg "$TP" storm 2000 /bin/true)")
	op_off+=("$(ms_per 1 in_cg "$TP" openclose 200000 /etc/hostname)")
	start --mode enforce
	fe_on+=("$(ms_per 1 in_cg "$TP" storm 2000 /bin/true)")
	op_on+=("$(ms_per 1 in_cg "$TP" openclose 200000 /etc/hostname)")
	stop
done
a=$(printf '%s\n' "${fe_off[@]}" | median); b=$(printf '%s\n' "${fe_on[@]}" | median)
c=$(printf '%s\n' "${op_off[@]}" | median); d=$(printf '%s\n' "${op_on[@]}" | median)
echo "non-agent storms (in scope), enforce vs not loaded:"
echo "  fork+exec x2000            $a ms -> $b ms   ratio $(ratio "$b" "$a")   (target <= 1.02)"
echo "  open+close x200000         $c ms -> $d ms   ratio $(ratio "$d" "$c")   (target <= 1.02)"
