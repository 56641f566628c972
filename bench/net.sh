#!/bin/bash
# Network policy benchmarks, side by side in one run (medians of ROUNDS):
#  1. a non-agent connect storm (UDP connects to a loopback address: the
#     socket hooks' cost, no packet) with the hooks attached vs no daemon;
#  2. an agent connect storm to an allowed address, in a session whose
#     policy allows it, vs the same storm outside any session, paired
#     round by round, and where the difference goes (a session whose
#     network is not confined; the socket hooks' time per call);
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

# 2. Agent storm to an allowed address: in a session vs outside any,
#    paired round by round. Where the difference goes: the same storm
#    in a session whose network is not confined (its policy has no
#    `network:`: namespaces, Landlock and the seccomp filter, but no
#    per-socket decision), and the time the kernel spends in the socket
#    hooks per call, outside vs in the session (kernel.bpf_stats_enabled,
#    restored afterwards).
cat > "$T/policies/nonet.yaml" <<'YAML'
version: 1
id: nonet
mode: enforce
YAML
chmod 644 "$T/policies/nonet.yaml"
stats_was=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo)
[ -n "$stats_was" ] && sysctl -qw kernel.bpf_stats_enabled=1
trap 'kill $DNSD 2>/dev/null; [ -n "$stats_was" ] && sysctl -qw kernel.bpf_stats_enabled=$stats_was; cleanup' EXIT
start --policies "$T/policies" --dns-upstream "$UP"
# The ids of this daemon's connect4 and sock_create programs, from its
# pinned links; "run_time_ns run_cnt" of each.
hook_ids=""
for l in link_connect4 link_sock_create; do
	hook_ids+="$(bpftool link show pinned "$PINS/$l" 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "prog") print $(i + 1) }') "
done
hook_snap() {
	local i
	for i in $hook_ids; do
		bpftool prog show id "$i" 2>/dev/null | awk '{ for (i = 1; i < NF; i++) { if ($i == "run_time_ns") t = $(i + 1); if ($i == "run_cnt") c = $(i + 1) } } END { printf "%d %d ", t, c }'
	done
	echo
}
# hook_add VAR BEFORE AFTER: accumulate the four counters' deltas.
hook_add() {
	local -n acc=$1
	local d
	d=$(echo "$2 $3" | awk '{ for (i = 1; i <= 4; i++) printf "%d ", $(i + 4) - $i }')
	acc=$(echo "${acc:-0 0 0 0} $d" | awk '{ for (i = 1; i <= 4; i++) printf "%d ", $i + $(i + 4) }')
}
out=() in=() nn=() rin=() rnn=() hout="" hin=""
for _ in $(seq "$ROUNDS"); do
	h0=$(hook_snap)
	o=$(rate)
	h1=$(hook_snap)
	i=$(in_cg "$AW" --state-dir "$T/state" run --policy netbench -- "$TP" connect "$N" 127.0.0.1 9 2>/dev/null)
	h2=$(hook_snap)
	u=$(in_cg "$AW" --state-dir "$T/state" run --policy nonet -- "$TP" connect "$N" 127.0.0.1 9 2>/dev/null)
	hook_add hout "$h0" "$h1"
	hook_add hin "$h1" "$h2"
	out+=("$o") in+=("$i") nn+=("$u")
	rin+=("$(ratio "$o" "$i")") rnn+=("$(ratio "$o" "$u")")
done
a=$(printf '%s\n' "${out[@]}" | median); b=$(printf '%s\n' "${in[@]}" | median)
c=$(printf '%s\n' "${nn[@]}" | median)
spread() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { printf "[%s..%s]", v[1], v[NR] }'; }
per_call() { echo "$1" | awk -v k="$2" '{ c = $(2 * k); printf "%.0f", c ? $(2 * k - 1) / c : 0 }'; }
echo "agent connect storm to an allowed address ($N UDP connects):"
echo "  outside any session        $(ns_per "$a") ns per connect"
echo "  in a session, allowed      $(ns_per "$b") ns per connect"
echo "  ratio                      $(ratio "$a" "$b")   (target <= 1.10; ratio of the medians)"
echo "  paired, round by round     $(printf '%s\n' "${rin[@]}" | median) $(spread "${rin[@]}")   (median [min..max] of $ROUNDS)"
echo "  where it goes:"
echo "    session, network not confined  $(ns_per "$c") ns, paired ratio $(printf '%s\n' "${rnn[@]}" | median) $(spread "${rnn[@]}")"
echo "    (namespaces, Landlock, the seccomp filter on socket(); no per-socket decision)"
if [ -n "$stats_was" ] && [ -n "${hout// /}" ]; then
	echo "    BPF hooks, ns per call      outside    in the session"
	echo "      sock_create              $(per_call "$hout" 2)        $(per_call "$hin" 2)"
	echo "      connect4                 $(per_call "$hout" 1)        $(per_call "$hin" 1)"
	echo "    (kernel.bpf_stats_enabled; the socket storage's free at close is not in it)"
fi
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
