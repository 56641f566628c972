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

# Before any session: neither file is marked.
base_m=() base_p=()
for _ in $(seq "$ROUNDS"); do
	base_m+=("$(rate "$H/.ssh/id_rsa")")
	base_p+=("$(rate "$H/plain")")
done

# A session that masks ~/.ssh, held open while the opens run outside it.
(cd "$T/ws" && HOME=$H in_cg "$B/agentwall" --state-dir "$T/state" run \
	--policy coding-agent --workspace "$T/ws" -- sleep 600) &
SESS=$!
for _ in $(seq 100); do
	n=$("$B/agentwall" --state-dir "$T/state" status --json 2>/dev/null |
		python3 -c 'import json,sys; print((json.load(sys.stdin).get("secrets") or {}).get("marked_inodes", 0))' 2>/dev/null)
	[ "${n:-0}" -ge 2 ] && break
	sleep 0.1
done
echo "marked inodes while the session runs: ${n:-0}"
on_m=() on_p=()
for _ in $(seq "$ROUNDS"); do
	on_m+=("$(rate "$H/.ssh/id_rsa")")
	on_p+=("$(rate "$H/plain")")
done
kill -TERM "$SESS" 2>/dev/null
wait "$SESS" 2>/dev/null
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
