#!/bin/bash
# Copy-on-write review benchmarks, side by side in one run (medians of
# ROUNDS):
#  1. a build writing its objects into the copy-on-write workspace of a
#     session vs the same build outside any session;
#  2. `agentwall diff` and `agentwall commit` of 10,000 changed files
#     (each file edited: a unified diff each; commit replaces each file
#     atomically, synced) and of 10,000 new files, in files/s, against
#     `rsync -a` of the same upper tree onto a copy of the real tree.
#
# Usage: bench/review.sh [ROUNDS]   (default 5)
set -u
ROUNDS=${1:-5}
. "$(dirname "$0")/lib.sh"
AW=$B/agentwall
NFILES=10000

echo "agentwall review benchmarks, $(date -u +%F), kernel $(uname -r), $(nproc) CPUs, $ROUNDS rounds (medians)"
echo

# 1. A build writing into the workspace: compile the project's C sources
#    into ws/obj (in a session, every object lands in the session store).
rm -rf "$T/ws" && mkdir -p "$T/ws" && cp -r "$ROOT/src" "$ROOT/bpf" "$T/ws/"
build_cmd="cd $T/ws && rm -rf obj && mkdir obj && for f in src/shared/*.c src/store/*.c src/signatures/*.c src/policy/*.c src/review/*.c; do cc -O1 -Isrc -Ibpf/abi -c \$f -o obj/\$(basename \$f).o || exit 1; done"
start
un=() in=()
for _ in $(seq "$ROUNDS"); do
	un+=("$(ms_per 1 in_cg sh -c "$build_cmd")")
	in+=("$(ms_per 1 in_cg "$AW" --state-dir "$T/state" run --workspace "$T/ws" -- sh -c "$build_cmd")")
	"$AW" --state-dir "$T/state" gc --older-than 1s >/dev/null
done
stop
rm -rf "$T/ws/obj"
u=$(printf '%s\n' "${un[@]}" | median); i=$(printf '%s\n' "${in[@]}" | median)
echo "build writing into the workspace (compile src/{shared,store,signatures,policy,review} into ws/obj):"
echo "  outside a session          $u ms"
echo "  in a session (cow)         $i ms"
echo "  ratio                      $(ratio "$i" "$u")   (target <= 1.05)"
echo

# 2. diff and commit of NFILES files, vs rsync -a of the same upper tree.
last() { "$AW" --state-dir "$T/state" sessions | awk 'NR > 1 { id = $1 } END { print id }'; }
upper() { echo "$T/state/sessions/$1/fs/upper/$(awk '$1 == "tree" && $2 ~ /^[0-9]+$/ { print $2; exit }' "$T/state/sessions/$1/fs/manifest")"; }
rate() { awk -v n="$NFILES" -v ms="$1" 'BEGIN { printf "%.0f", n / (ms / 1000) }'; }
start --session-quota 2G
for kind in edited new; do
	d_ms=() c_ms=() r_ms=()
	for _ in $(seq "$ROUNDS"); do
		rm -rf "$T/ws" "$T/ref" && mkdir -p "$T/ws/many"
		python3 - "$T/ws/many" "$NFILES" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    with open("%s/f%05d.txt" % (d, i), "w") as f:
        f.write("".join("line %d of file %d\n" % (j, i) for j in range(20)))
PY
		[ $kind = new ] && rm -rf "$T/ws/many" && mkdir "$T/ws/many"
		in_cg "$AW" --state-dir "$T/state" run --workspace "$T/ws" -- python3 -c '
import sys
d, n, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for i in range(n):
    p = "%s/f%05d.txt" % (d, i)
    if kind == "edited":
        lines = open(p).read().splitlines(True)
        lines[10] = "edited by the agent\n"
        open(p, "w").write("".join(lines))
    else:
        open(p, "w").write("new file %d\n" % i * 20)' "$T/ws/many" "$NFILES" "$kind"
		S=$(last)
		cp -a "$T/ws" "$T/ref"
		d_ms+=("$(ms_per 1 "$AW" --state-dir "$T/state" diff "$S")")
		r_ms+=("$(ms_per 1 rsync -a "$(upper "$S")/" "$T/ref/")")
		c_ms+=("$(ms_per 1 "$AW" --state-dir "$T/state" commit "$S")")
		n=$(grep -l "agent" "$T/ws/many/"* 2>/dev/null | wc -l)
		[ $kind = new ] && n=$(ls "$T/ws/many" | wc -l)
		[ "$n" = "$NFILES" ] || echo "  (commit took $n of $NFILES files!)"
		"$AW" --state-dir "$T/state" gc >/dev/null
	done
	d=$(printf '%s\n' "${d_ms[@]}" | median); c=$(printf '%s\n' "${c_ms[@]}" | median)
	r=$(printf '%s\n' "${r_ms[@]}" | median)
	echo "$NFILES $kind files:"
	echo "  agentwall diff             $d ms   $(rate "$d") files/s"
	echo "  agentwall commit           $c ms   $(rate "$c") files/s"
	echo "  rsync -a of the upper tree $r ms   $(rate "$r") files/s"
	echo "  ratio diff/rsync           $(ratio "$d" "$r")"
	echo "  ratio commit/rsync         $(ratio "$c" "$r")"
	echo
done
stop
