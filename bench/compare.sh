#!/bin/bash
# Two builds side by side in one run (the only comparison this shared VM
# resolves): session start of BASE's agentwall and this tree's, each with
# its own daemon, alternated round by round with bwrap (a session's
# isolation) in between; then a forced stand-in agent (/bin/true) with
# each, and unforced (audit mode) for reference.
#
# Usage: bench/compare.sh BASE_BUILD_DIR [ROUNDS [FORCED_ROUNDS]]
#   (e.g. git archive OLD | tar -x -C /tmp/base && meson setup /tmp/base/build /tmp/base && ninja -C /tmp/base/build)
set -u
OLD=$(realpath "${1:?usage: bench/compare.sh BASE_BUILD_DIR [ROUNDS [FORCED_ROUNDS]]}")
ROUNDS=${2:-5}
FROUNDS=${3:-$ROUNDS}
. "$(dirname "$0")/lib.sh"
NEW=$B

echo "agentwall: $OLD vs $NEW, $(date -u +%F), kernel $(uname -r), $(nproc) CPUs"
cd "$T/ws"
o=() n=() w=()
for _ in $(seq "$ROUNDS"); do
	B=$OLD; start; in_cg "$B/agentwall" --state-dir "$T/state" run -- true >/dev/null 2>&1
	o+=("$(ms_per 20 in_cg "$B/agentwall" --state-dir "$T/state" run -- true)"); stop
	w+=("$(ms_per 20 in_cg bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp true)")
	B=$NEW; start; in_cg "$B/agentwall" --state-dir "$T/state" run -- true >/dev/null 2>&1
	n+=("$(ms_per 20 in_cg "$B/agentwall" --state-dir "$T/state" run -- true)"); stop
done
a=$(printf '%s\n' "${o[@]}" | median); b=$(printf '%s\n' "${n[@]}" | median); c=$(printf '%s\n' "${w[@]}" | median)
pr=$(paste <(printf '%s\n' "${o[@]}") <(printf '%s\n' "${n[@]}") | awk '{print $2 / $1}' | median)
echo "session start (ms per start, incl. the in-cgroup bash wrapper), medians of $ROUNDS rounds:"
echo "  base                       $a"
echo "  this tree                  $b   (median of the paired ratios $pr)"
echo "  bwrap --unshare-all ...    $c"
echo "  ratio to bwrap             base $(ratio "$a" "$c") -> $(ratio "$b" "$c")"
echo "  rounds: base ${o[*]}; this ${n[*]}; bwrap ${w[*]}"
echo

mkdir -p "$T/opt/fakeagent/bin" "$T/sigs"
cp /bin/true "$T/opt/fakeagent/bin/fake-agent"
printf '%s\n' 'version: 1' 'signatures:' '  - id: test.fake-agent' \
	'    vendor: Test' '    product: Fake Agent' '    class: coding-agent' \
	'    match:' '      - exe: "**/opt/fakeagent/bin/fake-agent"' > "$T/sigs/t.yaml"
FA=$T/opt/fakeagent/bin/fake-agent
u=() o=() n=()
for _ in $(seq "$FROUNDS"); do
	B=$NEW; start --signatures "$T/sigs" --mode audit; u+=("$(ms_per 10 in_cg "$FA")"); stop
	B=$OLD; start --signatures "$T/sigs" --mode enforce; in_cg "$FA" 2>/dev/null
	o+=("$(ms_per 10 in_cg "$FA")"); stop
	B=$NEW; start --signatures "$T/sigs" --mode enforce; in_cg "$FA" 2>/dev/null
	n+=("$(ms_per 10 in_cg "$FA")"); stop
done
a=$(printf '%s\n' "${u[@]}" | median); b=$(printf '%s\n' "${o[@]}" | median); c=$(printf '%s\n' "${n[@]}" | median)
echo "forced stand-in agent (/bin/true), ms per run, medians of $FROUNDS rounds:"
echo "  unforced (audit)           $a"
echo "  forced, base               $b   (+$(awk -v x="$b" -v y="$a" 'BEGIN { printf "%.3f", x - y }'))"
echo "  forced, this tree          $c   (+$(awk -v x="$c" -v y="$a" 'BEGIN { printf "%.3f", x - y }'))"
echo "  rounds: unforced ${u[*]}; base ${o[*]}; this ${n[*]}"
cd "$ROOT"
