#!/bin/bash
# Shared by the benchmarks under bench/ (sourced): a cgroup scope made
# here for the daemon and the workloads, start/stop of a daemon on a
# state directory of its own, and the arithmetic. Everything made is
# removed on exit.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
B=$ROOT/build
ROUNDS=${ROUNDS:-5}
[ -x "$B/agentwalld" ] || { meson setup build >/dev/null && ninja -C build >/dev/null; }
TP=$B/tests/aw-testproc
ID=aw-bench-$$
CG=/sys/fs/cgroup/unified/$ID
T=/tmp/$ID
PINS=/sys/fs/bpf/$ID
NPM=${AW_NPM_CACHE:-/var/cache/agentwall-tests/npm}
mkdir -p "$T/ws" "$CG"
MOUNTED=0
if [ "$(stat -f -c %T /sys/fs/bpf)" != bpf_fs ]; then mount -t bpf bpf /sys/fs/bpf && MOUNTED=1; fi
DPID=""
rm_cg() {
	local d p
	for d in $(find "$1" -depth -type d 2>/dev/null); do
		for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	done
	for _ in $(seq 20); do
		for d in $(find "$1" -depth -type d 2>/dev/null); do rmdir "$d" 2>/dev/null; done
		[ -d "$1" ] || return 0
		sleep 0.1
	done
}
# Session stores a daemon left mounted (it unmounts them when it stops).
umount_under() {
	local m
	for m in $(awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		umount -l "$m" 2>/dev/null
	done
}
cleanup() {
	[ -n "$DPID" ] && { kill -TERM "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; }
	rm_cg "$CG"
	rm_cg "/sys/fs/cgroup/pids/agentwall-$ID"
	umount_under "$T"
	rm -rf "$PINS" "$T"
	[ $MOUNTED = 1 ] && [ -z "$(ls -A /sys/fs/bpf | grep -vx -e maps.debug -e progs.debug)" ] && umount /sys/fs/bpf
}
trap cleanup EXIT

start() {
	"$B/agentwalld" --scope "cgroup:$CG" --state-dir "$T/state" --bpffs-dir "$PINS" \
		--export "$T/export.jsonl" --quiet "$@" >"$T/d.out" 2>"$T/d.err" &
	DPID=$!
	for _ in $(seq 100); do [ -S "$T/state/agentwalld.sock" ] && return; sleep 0.05; done
	cat "$T/d.err"; exit 1
}
stop() { kill -TERM "$DPID"; wait "$DPID" 2>/dev/null; DPID=""; umount_under "$T/state"; rm -rf "$T/state"; }
in_cg() { bash -c 'echo $BASHPID > "$0/cgroup.procs" && exec "$@"' "$CG" "$@"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# ms_per N CMD...: mean wall ms of one run of CMD over N runs.
ms_per() {
	local n=$1 t0 t1; shift
	t0=$(date +%s%N)
	for _ in $(seq "$n"); do "$@" >/dev/null 2>&1; done
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN { printf "%.3f\n", (b - a) / 1e6 / n }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", a / b }'; }
