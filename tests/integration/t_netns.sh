#!/bin/bash
# The session's network, wherever the session lives and whatever it tries
# beyond connect and send:
#  - a session in a network namespace of its own (a container, `unshare
#    --net`, a namespace with a veth) gets its resolver there, UDP and
#    TCP, IPv4 and IPv6, decided as in the daemon's namespace;
#  - listening: binds decided, connections from peers the policy does
#    not allow never arrive (no accepted socket to send data out on);
#  - DNS carries nothing but the question: the upstream sees the name
#    lowercased, a fresh ID, no client flags or EDNS options;
#  - sock_diag netlink (ss) refused in sessions;
#  - `agentwall run` started outside the scope cgroup is confined all
#    the same (moved under the cgroup that carries the hooks).
#
# Namespaces made here: "c" holds the daemon (and sessions started from
# it), "s" the servers, "a" an agent's own namespace with a veth to "s".
# Nothing leaves the machine: their only routes are the veths.
. "$(dirname "$0")/../lib.sh"
X=$(( $$ % 200 + 20 ))
NC=$ID-c NS=$ID-s NA=$ID-a
P=10.203.$X                 # s has .2-.5, c has .1
P6=fd00:a3:$X               # s has ::2, ::3; c has ::1
Q=10.204.$X                 # a has .1, s has .2
net_ns "$NC" && net_ns "$NS" && net_ns "$NA" || { nok "network namespaces"; exit 1; }
ip link add "anc$X" type veth peer name "ans$X" || { nok "veth pair"; exit 1; }
ip link add "ana$X" type veth peer name "anb$X" || { nok "veth pair"; exit 1; }
ip link set "anc$X" netns "$NC"; ip link set "ans$X" netns "$NS"
ip link set "ana$X" netns "$NA"; ip link set "anb$X" netns "$NS"
for n in "$NC" "$NS" "$NA"; do ip -n "$n" link set lo up; done
ip -n "$NC" addr add "$P.1/24" dev "anc$X"
ip -n "$NC" addr add "$P6::1/64" dev "anc$X" nodad
for a in 2 3 4 5; do ip -n "$NS" addr add "$P.$a/24" dev "ans$X"; done
ip -n "$NS" addr add "$P6::2/64" dev "ans$X" nodad
ip -n "$NS" addr add "$P6::3/64" dev "ans$X" nodad
ip -n "$NA" addr add "$Q.1/24" dev "ana$X"
ip -n "$NS" addr add "$Q.2/24" dev "anb$X"
for l in "$NC anc$X" "$NS ans$X" "$NA ana$X" "$NS anb$X"; do set -- $l; ip -n "$1" link set "$2" up; done
ip -n "$NA" route add "$P.0/24" via "$Q.2"
ins() { nsenter --net=/run/netns/"$NS" "$@"; }
inc() { nsenter --net=/run/netns/"$NC" "$@"; }

cat > "$T/zone.json" <<EOF
{
 "allowed.test": {"A": ["$P.2"], "ttl": 60},
 "other.test": {"A": ["$P.3"], "ttl": 60},
 "udp.test": {"A": ["$P.2"], "ttl": 60}
}
EOF
ins python3 "$AW_ROOT/tests/helpers/dnsd.py" --zone "$T/zone.json" --pidfile "$T/dnsd.pid" \
	--listen "$P.2:53" --listen "[$P6::2]:53" --log "$T/dnsd.log" --raw "$T/dnsd.raw" 2>"$T/dnsd.err" &
ins python3 "$AW_ROOT/tests/helpers/netsrv.py" "$T/netsrv.pid" "$P.2:8080/tcp" "$P.3:8080/tcp" \
	"$P.2:9999/udp" "$P.3:9999/udp" 2>"$T/netsrv.err" &
wait_for test -s "$T/dnsd.pid" && wait_for test -s "$T/netsrv.pid" ||
	{ nok "test servers start"; cat "$T"/*.err | sed 's/^/# /'; exit 1; }

mkdir -p "$T/policies" "$T/ws" "$T/sigs"
cp "$AW_ROOT"/policies/*.yaml "$T/policies/"
# The stand-in agent gets this policy (by its signature id).
cat > "$T/policies/nstest.yaml" <<EOF
version: 1
id: nstest
extends: default
mode: enforce
applies-to:
  agents: [test.fake-agent]
network:
  - id: web
    hosts: ["allowed.test"]
    ports: [8080]
  - id: echo
    hosts: ["udp.test"]
    ports: [9999]
    protocols: [udp]
EOF
cat > "$T/policies/listentest.yaml" <<EOF
version: 1
id: listentest
extends: default
mode: enforce
network:
  - id: local-dev
    loopback: true
    ports: [8090]
EOF
sed -e 's/^id: listentest/id: listentest-audit/' -e 's/^mode: enforce/mode: audit/' \
	"$T/policies/listentest.yaml" > "$T/policies/listentest-audit.yaml"
chmod 644 "$T"/policies/*.yaml
fake_agent_bin
{ printf 'version: 1\nsignatures:\n'; fake_agent_sig; } > "$T/sigs/fake.yaml"
cp "$AW_ROOT/tests/helpers/netprobe.py" "$T/ws/"
PROBE=$T/ws/netprobe.py

AWD_WRAP=(nsenter --net=/run/netns/"$NC")
start_daemon --policies "$T/policies" --signatures "$T/sigs" --dns-upstream "$P.2:53" --mode enforce ||
	{ nok "daemon starts"; exit 1; }
cd "$T/ws"
has() { grep -q -- "$2" <<<"$1"; }
hasnt() { ! grep -q -- "$2" <<<"$1"; }
# run POLICY STEP...: the probe as an agent session of POLICY, in c.
run() { local pol=$1; shift; in_scope nsenter --net=/run/netns/"$NC" "$AW" --state-dir "$STATE" \
	run --policy "$pol" --workspace "$T/ws" -- python3 "$PROBE" "$@" 2>&1; }
outside() { in_scope nsenter --net=/run/netns/"$NC" python3 "$PROBE" "$@" 2>&1; }
# forced NETNS-SETUP STEP...: the stand-in agent, forced into its session
# (policy nstest), inside what NETNS-SETUP makes (a command prefix run
# in c, ending in a shell that execs the agent).
forced_q() { local s=""; for a in "$@"; do s+=" '$a'"; done; echo "python3 $PROBE$s"; }

# --- 1. a session in a network namespace of its own ------------------------
steps=("resolve allowed.test 4" "dig $P.3 allowed.test" "dig $P.3 other.test" \
	"dig $P.3 allowed.test A tcp" "dig $P6::2 allowed.test" "dig $P6::2 allowed.test A tcp" "udp $P.3 9999")
out=$(in_scope nsenter --net=/run/netns/"$NC" unshare --net sh -c \
	"ip link set lo up && exec \"$(FAKE)\" -c \"$(forced_q "${steps[@]}")\"" 2>&1)
echo "$out" | sed 's/^/# /'
check "unshare --net: the forced agent resolves an allowed name (getaddrinfo)" has "$out" "resolve allowed.test ok $P.2"
check "unshare --net: over UDP/IPv4 to any server" has "$out" "dig allowed.test rcode=0 addrs=$P.2"
check "unshare --net: a name outside the policy is REFUSED" has "$out" "dig other.test rcode=5"
check "unshare --net: ... with a dns deny event" \
	wait_for events action=dns target=other.test decision=deny rule=nstest/network
check "unshare --net: over TCP and IPv6 (UDP, TCP) as well" \
	test "$(grep -c "dig allowed.test rcode=0 addrs=$P.2" <<<"$out")" = 4
check "unshare --net: the dns allow event names the rule" \
	wait_for events action=dns target=allowed.test decision=allow rule=nstest/web
check "unshare --net: a send outside the policy is refused (EPERM, not a timeout)" has "$out" "udp $P.3 9999 error EPERM"
check "unshare --net: no timeouts (every answer from the session's resolver)" hasnt "$out" "error timed_out\|error timeout"

# Loopback down (a bare `unshare --net`): brought up, and said so.
out=$(in_scope nsenter --net=/run/netns/"$NC" unshare --net sh -c \
	"exec \"$(FAKE)\" -c \"$(forced_q "dig $P.3 allowed.test" "dig $P.3 other.test")\"" 2>&1)
echo "$out" | sed 's/^/# /'
check "lo down: the daemon brings it up and the agent resolves" has "$out" "dig allowed.test rcode=0 addrs=$P.2"
check "lo down: ... refusals as well" has "$out" "dig other.test rcode=5"
check "lo down: a notice says the loopback was brought up" \
	wait_for events action=notice rule=network/dns

# A namespace with a veth to the servers: names, connects and sends
# decided there as in the daemon's.
steps=("resolve allowed.test 4" "connect allowed.test 8080" "connect $P.3 8080" "dig $P.3 other.test" \
	"udp udp.test 9999" "udp $P.3 9999" "dig $P.3 allowed.test A tcp")
out=$(in_scope nsenter --net=/run/netns/"$NA" "$(FAKE)" -c "$(forced_q "${steps[@]}")" 2>&1)
echo "$out" | sed 's/^/# /'
check "veth netns: an allowed name resolves and is reached" has "$out" "connect allowed.test 8080 ok hello"
check "veth netns: an address no allowed name gave is refused" has "$out" "connect $P.3 8080 error EPERM"
check "veth netns: ... with a connect deny event" \
	wait_for events action=connect decision=deny "target=$P.3:8080" rule=nstest/network
check "veth netns: an unlisted name is REFUSED" has "$out" "dig other.test rcode=5"
check "veth netns: UDP to an allowed name's port" has "$out" "udp udp.test 9999 ok echo"
check "veth netns: UDP elsewhere refused" has "$out" "udp $P.3 9999 error EPERM"
check "veth netns: DNS over TCP" has "$out" "dig allowed.test rcode=0 addrs=$P.2"
# The same with agentwall run, started in that namespace.
out=$(in_scope nsenter --net=/run/netns/"$NA" "$AW" --state-dir "$STATE" run --policy nstest \
	--workspace "$T/ws" -- python3 "$PROBE" "connect allowed.test 8080" "dig $P.3 other.test" 2>&1)
check "veth netns: agentwall run there as well" has "$out" "connect allowed.test 8080 ok hello"
check "veth netns: ... and refused there" has "$out" "dig other.test rcode=5"
# Getting around it: the agent asks the daemon's namespace's resolver
# port on its own loopback (nothing there but the session's resolver),
# or another port 53 server: all redirected, never the upstream's answer.
raw_before=$(wc -l < "$T/dnsd.log")
out=$(in_scope nsenter --net=/run/netns/"$NA" "$(FAKE)" -c "$(forced_q "dig $Q.2 other.test" "dig 127.0.0.53 other.test")" 2>&1)
check "veth netns: other resolvers are the session's too (REFUSED, twice)" \
	test "$(grep -c "dig other.test rcode=5" <<<"$out")" = 2
check "veth netns: the upstream never saw the refused names" \
	sh -c "! tail -n +$((raw_before + 1)) $T/dnsd.log | grep -q other.test"

# --- 2. listening ------------------------------------------------------------
out=$(run nstest "listen 0.0.0.0 8090 1" "listen 127.0.0.1 8090 1" "listen :: 8090 1")
echo "$out" | sed 's/^/# /'
check "listen: a bind to 0.0.0.0:8090 is refused (EPERM)" has "$out" "listen 0.0.0.0 8090 error EPERM"
check "listen: loopback without a loopback rule, refused" has "$out" "listen 127.0.0.1 8090 error EPERM"
check "listen: [::]:8090 refused" has "$out" "listen :: 8090 error EPERM"
check "listen: a bind deny event" wait_for events action=connect decision=deny hook=bind "target=0.0.0.0:8090" rule=nstest/network.bind
out=$(run listentest "listen 127.0.0.1 8091 1" "listen 127.0.0.1 8090 1")
check "listen: loopback on a port outside the loopback rule, refused" has "$out" "listen 127.0.0.1 8091 error EPERM"
check "listen: loopback on the rule's port is allowed" has "$out" "listen 127.0.0.1 8090 ok"

# A listener the policy allows, reached over loopback by a local client.
run listentest "listen 127.0.0.1 8090 6" > "$T/l1.out" &
LP=$!
wait_for grep -q "listen 127.0.0.1 8090 ok" "$T/l1.out"
got=$(inc python3 -c 'import socket; s=socket.create_connection(("127.0.0.1", 8090), timeout=3); print(s.recv(100).decode().strip())' 2>&1)
wait $LP
check "listen: a loopback client reaches the allowed listener" test "$got" = secret

# Getting around the bind check: listen() without bind, or on port 0,
# takes a wildcard ephemeral port. A peer outside cannot connect to it.
try_listener() { # STEP CLIENT-ADDR: the session listens, s connects in
	run listentest "$1" > "$T/l.out" &
	local lp=$! port
	wait_for grep -q "^listen .* ok" "$T/l.out" || { wait $lp; echo "listener: $(cat "$T/l.out")"; return; }
	port=$(awk '/^listen .* ok/ { print $NF }' "$T/l.out")
	ins python3 -c 'import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
    print("client got", repr(s.recv(100)))
except Exception as e:
    print("client error", type(e).__name__)' "$2" "$port"
	wait $lp
	cat "$T/l.out"
}
out=$(try_listener "listen - 0 4" "$P.1")
echo "$out" | sed 's/^/# /'
check "listen(): an outside client cannot connect to an autobound listener" has "$out" "client error"
check "listen(): ... the session accepted nothing" has "$out" "accept timeout"
check "listen(): ... and it sent nothing" hasnt "$out" secret
check "listen(): an accept deny event names the peer and the port" \
	wait_for events action=connect decision=deny hook=accept rule=listentest/network.accept "address=$P.2"
out=$(try_listener "listen 0.0.0.0 0 4" "$P.1")
check "bind(0.0.0.0:0) + listen: the outside client cannot connect" has "$out" "client error"
check "  ... nothing accepted" has "$out" "accept timeout"
out=$(try_listener "listen :: 0 4" "$P6::1")
check "bind([::]:0) + listen: an IPv6 client outside cannot connect" has "$out" "client error"
check "  ... nothing accepted" has "$out" "accept timeout"
out=$(try_listener "listen :: 0 4" "$P.1")
check "bind([::]:0) + listen: nor an IPv4 one (v4-mapped)" has "$out" "client error"
# Outside any session the same listener is reached (the test would see it).
outside "listen - 0 4" > "$T/lo.out" &
LP=$!
wait_for grep -q "^listen .* ok" "$T/lo.out"
port=$(awk '/^listen .* ok/ { print $NF }' "$T/lo.out")
got=$(ins python3 -c 'import socket, sys; s=socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3); print(s.recv(100).decode().strip())' "$P.1" "$port" 2>&1)
wait $LP
check "outside a session: the same listener is reached (control)" test "$got" = secret
# Audit mode: let through, recorded.
run listentest-audit "listen 0.0.0.0 8092 1" > "$T/la.out"
check "listen, audit: the bind goes through" grep -q "listen 0.0.0.0 8092 ok" "$T/la.out"
check "listen, audit: ... recorded as audit" wait_for events action=connect decision=audit hook=bind "target=0.0.0.0:8092"

# A listener that outlives its session: taken out of it by a process
# outside (pidfd_getfd), the session then ends. Its sockets are known by
# the session's cgroup, kept after the session: still refused (fail closed).
cat > "$T/ws/hold.py" <<'PY'
import ctypes, os, socket, sys, time
libc = ctypes.CDLL(None, use_errno=True)
while True:
    words = open(sys.argv[1]).read().split()
    if len(words) >= 3 and words[0] == "passed":
        break
    time.sleep(0.05)
port, fd = int(words[1]), int(words[2])
# The session's process: the one running pass.py whose fd is a socket.
pid = None
for d in os.listdir("/proc"):
    try:
        argv = open("/proc/%s/cmdline" % d, "rb").read().split(b"\0")
        if (len(argv) > 2 and argv[1].endswith(b"/pass.py") and argv[2] == sys.argv[3].encode()
                and os.readlink("/proc/%s/fd/%d" % (d, fd)).startswith("socket:")):
            pid = int(d)
    except (OSError, ValueError):
        pass
pfd = libc.syscall(434, pid or 0, 0)           # pidfd_open
got = libc.syscall(438, pfd, fd, 0)            # pidfd_getfd
if got < 0:
    print("hold error", ctypes.get_errno(), flush=True); sys.exit(1)
s = socket.socket(fileno=got)
print("holding %d" % s.getsockname()[1], flush=True)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
s.settimeout(4)
try:
    a, peer = s.accept(); a.sendall(b"secret\n"); print("held accept ok", peer[0], flush=True)
except socket.timeout:
    print("held accept timeout", flush=True)
PY
cat > "$T/ws/pass.py" <<'PY'
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM); s.listen(4)
print("passed %d %d" % (s.getsockname()[1], s.fileno()), flush=True)
time.sleep(3)
PY
rm -f "$T/go"; : > "$T/pass.out"
in_scope nsenter --net=/run/netns/"$NC" python3 "$T/ws/hold.py" "$T/pass.out" "$T/go" "$ID" > "$T/hold.out" 2>&1 &
HP=$!
ends0=$(events action=session-end --count)
in_scope nsenter --net=/run/netns/"$NC" "$AW" --state-dir "$STATE" run --policy listentest \
	--workspace "$T/ws" -- python3 "$T/ws/pass.py" "$ID" > "$T/pass.out" 2>&1
wait_for grep -q "^holding " "$T/hold.out"
port=$(awk '/^holding / { print $2 }' "$T/hold.out")
wait_for sh -c "[ \"\$(python3 $AW_ROOT/tests/evq.py $T/export.jsonl action=session-end --count)\" -gt $ends0 ]"
touch "$T/go"
got=$(ins python3 -c 'import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
    print("client got", repr(s.recv(100)))
except Exception as e:
    print("client error", type(e).__name__)' "$P.1" "${port:-1}" 2>&1)
wait $HP
cat "$T/pass.out" "$T/hold.out" | sed 's/^/# /'; echo "# $got"
check "listener outliving its session: taken out of it while it ran" grep -q "^holding " "$T/hold.out"
check "  ... an outside client still cannot connect after the session ended" has "$got" "client error"
check "  ... the holder accepted nothing" grep -q "held accept timeout" "$T/hold.out"

# --- 3. DNS carries nothing but the question -----------------------------------
: > "$T/dnsd.raw"
out=$(run nstest "digx $P.3 AlLoWeD.TeSt" "digx $P6::2 aLLowed.tEST")
echo "$out" | sed 's/^/# /'
check "dns: a mixed-case query is answered" has "$out" "digx AlLoWeD.TeSt rcode=0 addrs=$P.2"
check "dns: ... with the client's own ID and question (its case)" has "$out" "digx AlLoWeD.TeSt rcode=0 addrs=$P.2 question=same"
check "dns: ... over IPv6 too" has "$out" "digx aLLowed.tEST rcode=0 addrs=$P.2 question=same"
python3 - "$T/dnsd.raw" > "$T/raw.out" <<'PY'
import struct, sys
for line in open(sys.argv[1]):
    proto, h = line.split()
    m = bytes.fromhex(h)
    flags, qd, an, ns, ar = struct.unpack(">HHHHH", m[2:12])
    i, labels = 12, []
    while m[i]:
        labels.append(m[i + 1:i + 1 + m[i]].decode()); i += 1 + m[i]
    i += 5
    rest = m[i:]
    print("name=%s flags=%04x qd=%d an=%d ns=%d ar=%d rest=%s secret=%s" % (
        ".".join(labels), flags, qd, an, ns, ar, rest.hex(), b"SECRET" in m))
PY
sed 's/^/# /' "$T/raw.out"
check "dns: the upstream got two queries" test "$(wc -l < "$T/raw.out")" = 2
check "dns: ... the name lowercased" sh -c "! grep -v '^name=allowed.test ' $T/raw.out"
check "dns: ... flags RD only (the client's AD and CD dropped)" sh -c "! grep -v ' flags=0100 ' $T/raw.out"
check "dns: ... no option data (the client's EDNS option stayed here)" sh -c "! grep -q 'secret=True' $T/raw.out"
# OPT: root, type 41, class 1232 (the client offered 4000), TTL 0, no data.
check "dns: ... a minimal OPT record (UDP size 1232, no flags, no options)" \
	sh -c "! grep -v ' ar=1 rest=00002904d0000000000000 ' $T/raw.out"
check "dns: the upstream's log shows no letter case" sh -c "! grep -q 'AlLoWeD\|aLLowed' $T/dnsd.log"
out=$(run nstest "dig $P.3 allowed.test TXT" "dig $P.3 other.test TXT")
check "dns: a TXT query of an allowed name is forwarded" has "$out" "dig allowed.test rcode=0"
check "dns: ... of another name refused" has "$out" "dig other.test rcode=5"

# --- 4. sock_diag (ss) ------------------------------------------------------------
out=$(run nstest "netlink 4" "netlink 0")
check "sock_diag: a session cannot open a NETLINK_SOCK_DIAG socket" has "$out" "netlink 4 error EPERM"
check "sock_diag: ... other netlink (route: ip addr) still works" has "$out" "netlink 0 ok"
check "sock_diag: ... a syscall deny event" \
	wait_for events action=syscall decision=deny rule=nstest/seccomp.sock-diag
# (ss then falls back to /proc/net/unix, /proc/net/tcp, ...: those still
# list the sockets of the session's network namespace, docs/network.md.)
before=$(events action=syscall rule=nstest/seccomp.sock-diag --count)
in_scope nsenter --net=/run/netns/"$NC" "$AW" --state-dir "$STATE" run --policy nstest -- ss -tan >/dev/null 2>&1
more() { [ "$(events action=syscall rule=nstest/seccomp.sock-diag --count)" -gt "$before" ]; }
check "sock_diag: ss's own sock_diag socket is refused and recorded" wait_for more
out=$(in_scope nsenter --net=/run/netns/"$NC" "$(FAKE)" -c "$(forced_q "netlink 4")" 2>&1)
check "sock_diag: refused in a forced session too" has "$out" "netlink 4 error EPERM"
check "sock_diag: outside a session it works (control)" has "$(outside "netlink 4")" "netlink 4 ok"

# --- 5. agentwall run from outside the scope cgroup --------------------------------
# (This shell is not in $CG: the session's launcher starts outside the
# cgroup the socket hooks are attached to.)
grep -q "$ID" /proc/self/cgroup && skip "run outside the scope" "the test runs inside the scope" || {
nsenter --net=/run/netns/"$NC" "$AW" --state-dir "$STATE" run --policy default --workspace "$T/ws" -- \
	python3 "$PROBE" "sleep 1.5" "connect $P.3 8080" "udp $P.3 9999" "udpc $P.3 9999" > "$T/ro.out" 2>&1 &
RO=$!
in_sessions_cg() { cat "$CG"/agentwall-sessions/s-*/cgroup.procs 2>/dev/null | grep -q .; }
check "run outside the scope: the session is placed under the scope's cgroup" wait_for in_sessions_cg
wait $RO
out=$(cat "$T/ro.out")
echo "$out" | sed 's/^/# /'
check "run outside the scope, default policy: connect refused" has "$out" "connect $P.3 8080 error EPERM"
check "run outside the scope: unconnected UDP refused" has "$out" "udp $P.3 9999 error EPERM"
check "run outside the scope: connected UDP refused" has "$out" "udpc $P.3 9999 error EPERM"
check "run outside the scope: deny events" wait_for events action=connect decision=deny "target=$P.3:8080" rule=default/network
}
# --- the same as an ordinary user ---------------------------------------------------
mkdir -p "$T/uws" && chmod 777 "$T/uws" && cp "$PROBE" "$T/uws/" && chmod 644 "$T/uws/netprobe.py"
grep -q "$ID" /proc/self/cgroup && skip "user: run outside the scope" "the test runs inside the scope" || {
out=$(nsenter --net=/run/netns/"$NC" setpriv --reuid=65534 --regid=65534 --clear-groups "$AW" --state-dir "$STATE" \
	run --policy default --workspace "$T/uws" -- python3 "$T/uws/netprobe.py" "connect $P.3 8080" "udp $P.3 9999" "netlink 4" 2>&1)
echo "$out" | sed 's/^/# /'
check "user: run outside the scope, connect refused" has "$out" "connect $P.3 8080 error EPERM"
check "user: ... unconnected UDP refused" has "$out" "udp $P.3 9999 error EPERM"
check "user: ... sock_diag refused" has "$out" "netlink 4 error EPERM"
}
run_user() { local pol=$1; shift; in_scope nsenter --net=/run/netns/"$NC" setpriv --reuid=65534 --regid=65534 \
	--clear-groups "$AW" --state-dir "$STATE" run --policy "$pol" --workspace "$T/uws" -- python3 "$T/uws/netprobe.py" "$@" 2>&1; }
run_user listentest "listen - 0 4" > "$T/lu.out" &
LP=$!
if wait_for grep -q "^listen .* ok" "$T/lu.out"; then
	port=$(awk '/^listen .* ok/ { print $NF }' "$T/lu.out")
	got=$(ins python3 -c 'import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2); print("client got", s.recv(100))
except Exception as e:
    print("client error", type(e).__name__)' "$P.1" "$port")
	wait $LP
	check "user: an outside client cannot connect to the session's listener" has "$got" "client error"
	check "user: ... the session accepted nothing" grep -q "accept timeout" "$T/lu.out"
else
	wait $LP; nok "user: the listener starts ($(cat "$T/lu.out"))"
fi
out=$(run_user listentest "listen 0.0.0.0 8090 1")
check "user: a wildcard bind is refused" has "$out" "listen 0.0.0.0 8090 error EPERM"
check "the daemon still runs" kill -0 "$DAEMON_PID"
