#!/bin/bash
# Where a session's start goes: `agentwall run -- true` ROUNDS times with
# AW_STAGES=1 (the launcher, its init and the daemon print a monotonic
# timestamp at each stage; src/shared/stage.h), and the median time of
# each stage, from the previous one (whichever process it was in).
#
# Usage: bench/stages.sh [ROUNDS]   (default 20)
set -u
ROUNDS=${1:-20}
. "$(dirname "$0")/lib.sh"

AW_STAGES=1 start
cd "$T/ws"
for _ in 1 2 3; do in_cg "$B/agentwall" --state-dir "$T/state" run -- true >/dev/null 2>&1; done
: > "$T/stages"
for _ in $(seq "$ROUNDS"); do
	AW_STAGES=1 in_cg "$B/agentwall" --state-dir "$T/state" run -- true 2>>"$T/stages" >/dev/null
	sleep 0.1
done
cd "$ROOT"
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null; DPID=""
grep '^STAGE' "$T/d.err" >> "$T/stages"
stop
echo "session start by stage, $(date -u +%F), kernel $(uname -r), $(nproc) CPUs, $ROUNDS starts (medians, ms since the stage before)"
python3 - "$T/stages" <<'PY'
import statistics, sys
rows = sorted((float(l.split()[2]), l.split()[3]) for l in open(sys.argv[1]) if l.startswith("STAGE "))
runs, cur = [], None
for t, name in rows:
    if name == "main":
        cur, prev = {}, t
        runs.append(cur)
    if cur is not None:
        cur[name] = cur.get(name, 0) + (t - prev) * 1000
        prev = t
order = []
for r in runs:
    for k in r:
        if k not in order:
            order.append(k)
for k in order[1:]:
    print(f"  {k:10s} {statistics.median([r.get(k, 0) for r in runs]):7.2f}")
print(f"  {'total':10s} {statistics.median([sum(r.values()) for r in runs]):7.2f}")
PY
