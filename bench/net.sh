#!/bin/bash
# Network policy benchmarks, side by side in one run (medians of ROUNDS):
#  1. a non-agent connect storm (UDP connects to a loopback address: the
#     socket hooks' cost, no packet) with the hooks attached vs no daemon;
#  2. an agent connect storm to an allowed address, in a session whose
#     policy allows it, vs the same storm outside any session;
#  3. name resolution through the session's resolver vs straight to the
#     same upstream (tests/helpers/dnsd.py on loopback): added latency.
# Everything is loopback: nothing leaves the machine.
#
# Usage: bench/net.sh [ROUNDS]   (default 5)
set -u
ROUNDS=${1:-5}
. "$(dirname "$0")/lib.sh"
AW=$B/agentwall
N=200000
UP=127.0.0.1:5391

echo "agentwall network benchmarks, $(date -u +%F), kernel $(uname -r), $(nproc) CPUs, $ROUNDS rounds (medians)"
echo

# A policy allowing loopback port 9 and the bench zone's names.
mkdir -p "$T/policies"
cp "$ROOT"/policies/*.yaml "$T/policies/"
cat > "$T/policies/netbench.yaml" <<'YAML'
version: 1
id: netbench
extends: default
network:
  - id: sink
    loopback: true
    ports: [9]
  - id: zone
    hosts: ["*.bench.test"]
YAML
chmod 644 "$T"/policies/*.yaml
echo '{"*.bench.test": {"A": ["127.0.0.2"], "ttl": 300}}' > "$T/zone.json"
python3 "$ROOT/tests/helpers/dnsd.py" --zone "$T/zone.json" --pidfile "$T/dnsd.pid" \
	--listen "$UP" 2>"$T/dnsd.err" &
DNSD=$!
trap 'kill $DNSD 2>/dev/null; cleanup' EXIT
for _ in $(seq 100); do [ -s "$T/dnsd.pid" ] && break; sleep 0.05; done

rate() { in_cg "$TP" connect "$N" 127.0.0.1 9 2>/dev/null; }
tcprate() { in_cg "$TP" tcpconnect 20000 2>/dev/null; }
ns_per() { awk -v r="$1" 'BEGIN { printf "%.0f", 1e9 / r }'; }

# 1. Non-agent storms: hooks attached vs not loaded. TCP connections
#    over loopback (handshake, accept, close: a real connect storm), and
#    bare UDP connects (the hooks' own cost and nothing else).
off=() on=() toff=() ton=()
for _ in $(seq "$ROUNDS"); do
	off+=("$(rate)")
	toff+=("$(tcprate)")
	start --policies "$T/policies"
	on+=("$(rate)")
	ton+=("$(tcprate)")
	stop
done
a=$(printf '%s\n' "${toff[@]}" | median); b=$(printf '%s\n' "${ton[@]}" | median)
echo "non-agent connect storm (20000 TCP connections over loopback, in scope, not in a session):"
echo "  no daemon                  $(ns_per "$a") ns per connection"
echo "  hooks attached             $(ns_per "$b") ns per connection"
echo "  ratio                      $(ratio "$a" "$b")   (target <= 1.02; time with / time without)"
a=$(printf '%s\n' "${off[@]}" | median); b=$(printf '%s\n' "${on[@]}" | median)
echo "  bare UDP connects ($N):    $(ns_per "$a") -> $(ns_per "$b") ns, ratio $(ratio "$a" "$b") (the hooks alone, worst case)"
echo

# 2. Agent storm to an allowed address: in a session vs outside any.
start --policies "$T/policies" --dns-upstream "$UP"
out=() in=()
for _ in $(seq "$ROUNDS"); do
	out+=("$(rate)")
	in+=("$(in_cg "$AW" --state-dir "$T/state" run --policy netbench -- "$TP" connect "$N" 127.0.0.1 9 2>/dev/null)")
done
a=$(printf '%s\n' "${out[@]}" | median); b=$(printf '%s\n' "${in[@]}" | median)
echo "agent connect storm to an allowed address ($N UDP connects):"
echo "  outside any session        $(ns_per "$a") ns per connect"
echo "  in a session, allowed      $(ns_per "$b") ns per connect"
echo "  ratio                      $(ratio "$a" "$b")   (target <= 1.10)"
echo

# 3. Resolution latency: through the session's resolver (the query to
#    127.0.0.1:53 is redirected to it) vs straight to the upstream.
mkdir -p "$T/ws"
cat > "$T/ws/lat.py" <<'PY'
import random, socket, statistics, struct, sys, time
server, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
t = []
for i in range(count):
    qid = random.randrange(65536)
    name = b"".join(bytes([len(l)]) + l for l in (b"n%d" % i, b"bench", b"test"))
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + name + b"\0" + struct.pack(">HH", 1, 1)
    t0 = time.perf_counter()
    s.sendto(q, (server, port))
    while True:
        m, _ = s.recvfrom(4096)
        if m[:2] == q[:2]:
            break
    t.append(time.perf_counter() - t0)
print("%.1f" % (statistics.median(t) * 1e6))
PY
d=() v=()
for _ in $(seq "$ROUNDS"); do
	d+=("$(in_cg python3 "$T/ws/lat.py" "${UP%:*}" "${UP#*:}" 2000)")
	v+=("$(in_cg "$AW" --state-dir "$T/state" run --policy netbench --workspace "$T/ws" -- python3 "$T/ws/lat.py" 127.0.0.1 53 2000 2>/dev/null)")
done
stop
a=$(printf '%s\n' "${d[@]}" | median); b=$(printf '%s\n' "${v[@]}" | median)
echo "resolution, median of 2000 queries (distinct names, allowed):"
echo "  straight to the upstream   $a us"
echo "  through agentwall          $b us (redirected in the kernel, answer installed first)"
echo "  added                      $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.0f", b - a }') us   (target <= 1000)"
