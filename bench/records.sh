#!/bin/bash
# The cost of the records of what a session's sandbox refuses by itself
# (src/sandbox/refusals.c: the session's seccomp filter sends its
# write-like calls with a write intent, raw sockets and signals to the
# launcher's supervisor, which lets each go on and judges it after),
# measured side by side in one run: the same session policy with
# `process.refusal-records` true and false, alternating rounds, medians.
# Rates are per CPU second of the workload (tests/helpers/testproc.c).
#
#  1. a non-agent's open/close storm in the scope cgroup while a session
#     runs (nothing of this reaches it: the filter is the session's);
#  2. an agent's open/close storm (read-only opens) in a session;
#  3. an agent's write opens in its workspace (each one is sent to the
#     supervisor: the price of the records);
#  4. an agent's refused writes (open O_WRONLY of a file in /etc);
#  5. a build in a session (compiling src/shared: cc writes its
#     temporary and object files), wall time.
# Rounds alternate which setting goes first.
#
# Usage: bench/records.sh [ROUNDS]   (default 5)
ROUNDS=${1:-5}
. "$(dirname "$0")/lib.sh"
N=${AW_BENCH_OPENS:-200000}
mkdir -p "$T/policies"
cp "$ROOT"/policies/*.yaml "$T/policies/"
cat > "$T/policies/norec.yaml" <<'YAML'
version: 1
id: norec
extends: default
process:
  refusal-records: false
YAML
chmod 644 "$T/policies"/*.yaml
run_in() { local pol=$1; shift; in_cg "$B/agentwall" --state-dir "$T/state" run --policy "$pol" --workspace "$T/ws" -- "$@"; }
start --policies "$T/policies"
rm -rf "$T/ws/src" && cp -r "$ROOT/src" "$ROOT/bpf" "$T/ws/"
build_cmd="cd $T/ws && for f in src/shared/*.c; do cc -O1 -Isrc -Ibpf/abi -c \$f -o /tmp/o.\$\$.o; done"
for r in $(seq "$ROUNDS"); do
	order="off on"
	[ $((r % 2)) = 0 ] && order="on off"
	for rec in $order; do
		pol=default
		[ $rec = off ] && pol=norec
		run_in $pol sleep 600 >/dev/null 2>&1 &
		bg=$!
		sleep 0.5
		in_cg "$TP" openclose "$N" /etc/hostname >> "$T/host.$rec"
		kill -TERM "$bg"; wait "$bg" 2>/dev/null
		run_in $pol "$TP" openclose "$N" /etc/hostname 2>/dev/null >> "$T/agent.$rec"
		run_in $pol "$TP" openwrite "$((N / 10))" "$T/ws/out.txt" 2>/dev/null >> "$T/write.$rec"
		run_in $pol "$TP" openfail "$((N / 10))" /etc/hostname 2>/dev/null >> "$T/fail.$rec"
		ms_per 1 run_in $pol sh -c "$build_cmd" >> "$T/build.$rec"
	done
done
stop
m() { median < "$T/$1"; }
line() { printf "%-46s %12.0f/s %12.0f/s   %6.3f\n" "$1" "$2" "$3" "$(ratio "$2" "$3")"; }
echo "refusal records: $(date -u +%F), kernel $(uname -r), $(nproc) CPUs, $ROUNDS rounds (medians)"
printf "%-46s %14s %14s   %6s\n" "workload (rates; records off, on)" "off" "on" "ratio"
line "non-agent open+close while a session runs" "$(m host.off)" "$(m host.on)"
line "agent open+close (read) in a session" "$(m agent.off)" "$(m agent.on)"
line "agent open for writing+close in its workspace" "$(m write.off)" "$(m write.on)"
line "agent refused writes (O_WRONLY of /etc/...)" "$(m fail.off)" "$(m fail.on)"
printf "%-46s %12.1fms %12.1fms   %6.3f\n" "build in a session (wall, compile src/shared)" \
	"$(m build.off)" "$(m build.on)" "$(ratio "$(m build.on)" "$(m build.off)")"
echo "(targets: non-agent <= 1.02; agent open/close <= 1.05)"
