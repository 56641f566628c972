#!/bin/bash
# Where a session's start goes: `agentwall run -- true` ROUNDS times with
# AW_STAGES=1 (the launcher, its init and the daemon print a monotonic
# timestamp at each stage; src/shared/stage.h), and the median time of
# each stage, from the previous one (whichever process it was in).
#
# With "forced", a stand-in agent (a copy of /bin/true its signature
# names) exec'd in the daemon's scope in enforce mode instead: the
# stages start at the daemon's forcing request (f-request: the exec
# hook's stop reached the event loop), then its tracer (f-seize, f-exec:
# the launcher image in place), then the launcher's as above.
#
# Usage: bench/stages.sh [ROUNDS [forced]]   (default 20)
set -u
ROUNDS=${1:-20}
MODE=${2:-run}
. "$(dirname "$0")/lib.sh"

: > "$T/stages"
if [ "$MODE" = forced ]; then
	mkdir -p "$T/opt/fakeagent/bin" "$T/sigs"
	cp /bin/true "$T/opt/fakeagent/bin/fake-agent"
	printf '%s\n' 'version: 1' 'signatures:' '  - id: test.fake-agent' \
		'    vendor: Test' '    product: Fake Agent' '    class: coding-agent' \
		'    match:' '      - exe: "**/opt/fakeagent/bin/fake-agent"' > "$T/sigs/t.yaml"
	AW_STAGES=1 start --signatures "$T/sigs" --mode enforce
	FIRST=f-request
	cmd=("$T/opt/fakeagent/bin/fake-agent")
else
	AW_STAGES=1 start
	FIRST=main
	cmd=("$B/agentwall" --state-dir "$T/state" run -- true)
fi
cd "$T/ws"
for _ in 1 2 3; do in_cg "${cmd[@]}" >/dev/null 2>&1; done
for _ in $(seq "$ROUNDS"); do
	AW_STAGES=1 in_cg "${cmd[@]}" 2>>"$T/stages" >/dev/null
	sleep 0.1
done
cd "$ROOT"
stop
grep '^STAGE' "$T/d.err" >> "$T/stages"
echo "session start ($MODE) by stage, $(date -u +%F), kernel $(uname -r), $(nproc) CPUs, $ROUNDS starts (medians, ms since the stage before)"
python3 - "$T/stages" "$FIRST" <<'PY'
import statistics, sys
rows = sorted((float(l.split()[2]), l.split()[3]) for l in open(sys.argv[1]) if l.startswith("STAGE "))
runs, cur = [], None
for t, name in rows:
    if name == sys.argv[2]:
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
