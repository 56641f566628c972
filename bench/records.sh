#!/bin/bash
# The cost of sessions' refusal records (bpf/records.bpf.c: every
# syscall's exit on the machine takes the tracing path while it is
# attached, which is while a sandboxed session lives), measured side by
# side in one run: the same daemon with --refusal-records on and off,
# alternating rounds, medians.
#
#  1. a non-agent's open/close storm in the scope cgroup: no daemon,
#     daemon with records off and on, with no session running and while
#     one runs (an idle `sleep` in a session);
#  2. an agent's open/close storm in a `run` session: records off, on;
#  3. what it costs when there is something to record: a session's storm
#     of refused writes (open O_WRONLY of a read-only file), records off
#     and on (the kernel limits the reports per CPU, the daemon per
#     session).
#
# Usage: bench/records.sh [ROUNDS]   (default 5)
ROUNDS=${1:-5}
. "$(dirname "$0")/lib.sh"
N=${AW_BENCH_OPENS:-200000}
run_in() { in_cg "$B/agentwall" --state-dir "$T/state" run --policy default --workspace "$T/ws" -- "$@"; }
for r in $(seq "$ROUNDS"); do
	in_cg "$TP" openclose "$N" /etc/hostname >> "$T/host.none"
	for rec in off on; do
		start --refusal-records "$rec"
		in_cg "$TP" openclose "$N" /etc/hostname >> "$T/host.$rec"
		run_in sleep 600 >/dev/null 2>&1 &
		bg=$!
		sleep 1
		in_cg "$TP" openclose "$N" /etc/hostname >> "$T/live.$rec"
		run_in "$TP" openclose "$N" /etc/hostname 2>/dev/null >> "$T/agent.$rec"
		run_in "$TP" openfail "$((N / 4))" /etc/hostname 2>/dev/null >> "$T/fail.$rec"
		kill -TERM "$bg"; wait "$bg" 2>/dev/null
		stop
	done
done
m() { median < "$T/$1"; }
line() { printf "%-44s %12.0f/s %12.0f/s   %6.3f\n" "$1" "$2" "$3" "$(ratio "$2" "$3")"; }
echo "refusal records: $(date -u +%F), kernel $(uname -r), $(nproc) CPUs, $ROUNDS rounds (medians)"
printf "%-44s %14s %14s   %6s\n" "workload (rates)" "without" "with" "ratio"
line "non-agent open+close, no daemon vs on" "$(m host.none)" "$(m host.on)"
line "non-agent open+close, records off vs on" "$(m host.off)" "$(m host.on)"
line "non-agent, a session running, off vs on" "$(m live.off)" "$(m live.on)"
line "agent open+close in a session, off vs on" "$(m agent.off)" "$(m agent.on)"
line "agent refused writes in a session, off vs on" "$(m fail.off)" "$(m fail.on)"
echo "(targets: non-agent <= 1.02; agent open/close <= 1.05)"
