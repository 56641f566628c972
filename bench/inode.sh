#!/bin/bash
# What a secret's inode mark costs everyone else: a non-agent process
# opening (and closing) a file whose inode the daemon has marked for a
# running session (every open waits for the daemon's permission thread:
# an allow) vs the same open of an unmarked file of the same size on the
# same file system. Also the same marked open with no session (no mark)
# for reference. Rates are opens per second (aw-testproc openclose),
# medians of ROUNDS.
#
# Usage: bench/inode.sh [ROUNDS] [OPENS]   (defaults 5, 20000)
set -u
ROUNDS=${1:-5}
OPENS=${2:-20000}
. "$(dirname "$0")/lib.sh"

echo "agentwall inode marks, $(date -u +%F), kernel $(uname -r), $(nproc) CPUs, $ROUNDS rounds of $OPENS opens (medians)"
H=$T/home
mkdir -p "$H/.ssh"
head -c 3000 /dev/urandom > "$H/.ssh/id_rsa"
head -c 3000 /dev/urandom > "$H/plain"
start
rate() { "$TP" openclose "$OPENS" "$1"; }

marked_n() {
	"$B/agentwall" --state-dir "$T/state" status --json 2>/dev/null |
		python3 -c 'import json,sys; print((json.load(sys.stdin).get("secrets") or {}).get("session_marks", 0))' 2>/dev/null
}
# Each round: both files with no session (nothing marked), then with a
# session that masks ~/.ssh held open while the opens run outside it
# (alternating, so the shared VM's drift hits both sides alike).
base_m=() base_p=() on_m=() on_p=()
for _ in $(seq "$ROUNDS"); do
	base_p+=("$(rate "$H/plain")")
	base_m+=("$(rate "$H/.ssh/id_rsa")")
	cd "$T/ws"
	# (Not through the in_cg function: a function in the background is
	# a subshell, and $! would name it rather than the launcher.)
	HOME=$H bash -c 'echo $BASHPID > "$0/cgroup.procs" && exec "$@"' "$CG" \
		"$B/agentwall" --state-dir "$T/state" run \
		--policy coding-agent --workspace "$T/ws" -- sleep 600 &
	SESS=$! # the launcher itself: it forwards the TERM below
	cd "$ROOT"
	for _ in $(seq 100); do
		n=$(marked_n)
		[ "${n:-0}" -ge 2 ] && break
		sleep 0.1
	done
	on_p+=("$(rate "$H/plain")")
	on_m+=("$(rate "$H/.ssh/id_rsa")")
	kill -TERM "$SESS" 2>/dev/null
	wait "$SESS" 2>/dev/null
	for _ in $(seq 100); do [ "$(marked_n)" = 0 ] && break; sleep 0.1; done
done
echo "marked inodes while the session runs: ${n:-0}"
[ -n "${VERBOSE:-}" ] && echo "rounds: base plain ${base_p[*]} / marked ${base_m[*]}; on plain ${on_p[*]} / marked ${on_m[*]}"
stop

bm=$(printf '%s\n' "${base_m[@]}" | median)
bp=$(printf '%s\n' "${base_p[@]}" | median)
m=$(printf '%s\n' "${on_m[@]}" | median)
p=$(printf '%s\n' "${on_p[@]}" | median)
us() { awk -v r="$1" 'BEGIN { printf "%.2f", 1e6 / r }'; }
echo
echo "non-agent open+close (opens/s, us per open):"
echo "  unmarked file, session running     $p   $(us "$p") us"
echo "  marked file, session running       $m   $(us "$m") us"
echo "  the same two, no session (no mark) $bp / $bm"
echo "  ratio marked/unmarked (time per open)  $(ratio "$p" "$m")"
echo "  added per open of a marked file        $(awk -v a="$m" -v b="$p" 'BEGIN { printf "%.2f", 1e6 / a - 1e6 / b }') us"
echo "  unmarked file, session vs none (time)  $(ratio "$bp" "$p")   (target <= 1.02)"
