#!/bin/bash
# Per-session network egress by name: the kernel decides each connect and
# send of a session (cgroup socket hooks), DNS goes to the session's
# resolver whatever server was asked, answers are installed with their
# TTL, everything else is refused and reported; a process outside any
# session that reaches a known LLM API is discovered.
#
# Everything runs in two network namespaces made here, joined by a veth
# pair: "c" holds the daemon and the sessions (its only routes are the
# veth and its own loopback, so nothing can leave the machine even if a
# hook failed), "s" the servers: the test's DNS (tests/helpers/dnsd.py),
# a resolver the agent might prefer, TCP and UDP servers.
. "$(dirname "$0")/../lib.sh"
X=$(( $$ % 200 + 20 ))
NC=$ID-c NS=$ID-s
P=10.201.$X                 # s has .2-.9, c has .1
P6=fd00:a1:$X               # s has ::2, ::3; c has ::1
net_ns "$NC" && net_ns "$NS" || { nok "network namespaces"; exit 1; }
ip link add "awc$X" type veth peer name "aws$X" || { nok "veth pair"; exit 1; }
ip link set "awc$X" netns "$NC"; ip link set "aws$X" netns "$NS"
ip -n "$NC" link set lo up; ip -n "$NS" link set lo up
ip -n "$NC" addr add "$P.1/24" dev "awc$X"
ip -n "$NC" addr add "$P6::1/64" dev "awc$X" nodad
for a in 2 3 4 5 6 7 8 9; do ip -n "$NS" addr add "$P.$a/24" dev "aws$X"; done
ip -n "$NS" addr add "$P6::2/64" dev "aws$X" nodad
ip -n "$NS" addr add "$P6::3/64" dev "aws$X" nodad
ip -n "$NC" link set "awc$X" up; ip -n "$NS" link set "aws$X" up
inc() { nsenter --net=/run/netns/"$NC" "$@"; }
ins() { nsenter --net=/run/netns/"$NS" "$@"; }
PROBE="python3 $T/ws/netprobe.py"

# The test's DNS zone; .3 also runs a resolver "of the agent's own",
# whose answers (.66) must never be what a session gets.
cat > "$T/zone.json" <<EOF
{
 "allowed.test": {"A": ["$P.2"], "ttl": 60},
 "other.test": {"A": ["$P.3"], "ttl": 60},
 "rotate.test": {"A": ["$P.2"], "ttl": 1},
 "short.test": {"A": ["$P.2"], "ttl": 1},
 "v6.test": {"AAAA": ["$P6::2"], "ttl": 60},
 "udp.test": {"A": ["$P.2"], "ttl": 60},
 "alias.test": {"CNAME": "allowed.test", "ttl": 30},
 "doh.test": {"A": ["$P.5"]},
 "wild.test": {"A": ["$P.3"]},
 "*.wild.test": {"A": ["$P.2"]},
 "evil-wild.test": {"A": ["$P.3"]},
 "wild.test.evil.test": {"A": ["$P.3"]},
 "xn--bcher-kva.test": {"A": ["$P.2"]},
 "api.mock.test": {"A": ["$P.7"]},
 "unlisted.test": {"A": ["$P.7"]},
 "llm.test": {"A": ["$P.8"]},
 "malformed.test": {"mode": "malformed"},
 "truncated.test": {"mode": "truncated", "A": ["$P.2"]},
 "loop.test": {"mode": "compression-loop"},
 "huge.test": {"mode": "huge"},
 "cnameloop.test": {"mode": "cname-loop"},
 "chain.test": {"mode": "cname-chain", "length": 20},
 "ttl0.test": {"mode": "ttl0", "A": ["$P.2"]},
 "wrongid.test": {"mode": "wrong-id", "A": ["$P.2"]},
 "wrongq.test": {"mode": "wrong-question", "A": ["$P.2"]},
 "slow.test": {"mode": "slow", "delay": 5, "A": ["$P.2"]},
 "drop.test": {"mode": "drop"},
 "bigttl.test": {"mode": "big-ttl", "A": ["$P.2"]},
 "*.spread.test": {"mode": "spread"}
}
EOF
echo '{"*.test": {"A": ["'"$P"'.66"]}, "allowed.test": {"A": ["'"$P"'.66"]}}' > "$T/rogue.json"
ins python3 "$AW_ROOT/tests/helpers/dnsd.py" --zone "$T/zone.json" --pidfile "$T/dnsd.pid" \
	--listen "$P.2:53" --listen "[$P6::2]:53" --log "$T/dnsd.log" 2>"$T/dnsd.err" &
ins python3 "$AW_ROOT/tests/helpers/dnsd.py" --zone "$T/rogue.json" --pidfile "$T/rogue.pid" \
	--listen "$P.3:53" --log "$T/rogue.log" 2>"$T/rogue.err" &
srv=()
for a in 2 3 4 5 6 7 8; do srv+=("$P.$a:8080/tcp" "$P.$a:443/tcp"); done
srv+=("$P.4:8081/tcp" "$P.2:9999/udp" "$P.3:9999/udp" "[$P6::2]:8080/tcp" "[$P6::3]:8080/tcp")
ins python3 "$AW_ROOT/tests/helpers/netsrv.py" "$T/netsrv.pid" "${srv[@]}" 2>"$T/netsrv.err" &
wait_for test -s "$T/dnsd.pid" && wait_for test -s "$T/rogue.pid" && wait_for test -s "$T/netsrv.pid" ||
	{ nok "test servers start"; cat "$T"/*.err | sed 's/^/# /'; exit 1; }

# Policies: the templates, and one for these tests.
mkdir -p "$T/policies" "$T/ws" "$T/sigs"
cp "$AW_ROOT"/policies/*.yaml "$T/policies/"
cat > "$T/policies/nettest.yaml" <<EOF
version: 1
id: nettest
extends: default
mode: enforce
network:
  - id: web
    hosts: ["allowed.test", "rotate.test", "short.test", "v6.test", "alias.test",
            "*.wild.test", "xn--bcher-kva.test", "malformed.test", "truncated.test",
            "loop.test", "huge.test", "cnameloop.test", "chain.test", "ttl0.test",
            "wrongid.test", "wrongq.test", "slow.test", "drop.test", "bigttl.test",
            "*.spread.test"]
    ports: [8080]
  - id: echo
    hosts: ["udp.test"]
    ports: [9999]
    protocols: [udp]
  - id: lan
    cidrs: ["$P.4/32"]
    ports: [8080]
EOF
sed -e 's/^id: nettest/id: nettest-audit/' -e 's/^mode: enforce/mode: audit/' \
	"$T/policies/nettest.yaml" > "$T/policies/nettest-audit.yaml"
cat > "$T/policies/codex-test.yaml" <<EOF
version: 1
id: codex-test
extends: openai.codex-cli
network:
  - id: mock-api
    hosts: ["api.mock.test"]
    ports: [8000]
EOF
chmod 644 "$T"/policies/*.yaml
# The LLM API list for discovery: the test's own name.
printf 'version: 1\nllm-apis:\n  - llm.test\n' > "$T/sigs/llm.yaml"
# A stand-in agent (forced into a session in enforce mode).
fake_agent_bin
{ printf 'version: 1\nsignatures:\n'; fake_agent_sig; } > "$T/sigs/fake.yaml"
cp "$AW_ROOT/tests/helpers/netprobe.py" "$T/ws/"

AWD_WRAP=(nsenter --net=/run/netns/"$NC")
start_daemon --policies "$T/policies" --signatures "$T/sigs" --dns-upstream "$P.2:53" --mode enforce ||
	{ nok "daemon starts"; exit 1; }
cd "$T/ws"
# run POLICY STEP...: the probe as an agent session of POLICY (in c).
run() { local pol=$1; shift; in_scope nsenter --net=/run/netns/"$NC" "$AW" --state-dir "$STATE" \
	run --policy "$pol" --workspace "$T/ws" -- python3 "$T/ws/netprobe.py" "$@" 2>&1; }
# outside STEP...: the same probe, in scope but in no session.
outside() { in_scope nsenter --net=/run/netns/"$NC" python3 "$T/ws/netprobe.py" "$@" 2>&1; }
has() { grep -q -- "$2" <<<"$1"; }
status_json() { aw status --json; }
check "the socket hooks are attached" sh -c "\"$AW\" --state-dir \"$STATE\" status --json | grep -q '\"hooks\":\"attached\"'"

# --- names --------------------------------------------------------------------
out=$(run nettest "resolve allowed.test 4" "connect allowed.test 8080")
echo "$out" | sed 's/^/# /'
check "dns: an allowed name resolves (to the upstream's answer)" has "$out" "resolve allowed.test ok $P.2"
check "connect: the address it resolved to is reached" has "$out" "connect allowed.test 8080 ok hello"
check "dns: an allow event names the rule and the addresses" \
	wait_for events action=dns target=allowed.test decision=allow rule=nettest/web
check "connect: an allow event carries the name" \
	wait_for events action=connect decision=allow name=allowed.test port=8080
out=$(run nettest "resolve other.test 4" "connect $P.3 8080")
check "dns: a name outside the policy is refused" has "$out" "resolve other.test error"
check "dns: ... and never reached the upstream (no exfiltration by name)" sh -c "! grep -q ' other.test ' $T/dnsd.log"
check "dns: ... a deny event" wait_for events action=dns target=other.test decision=deny rule=nettest/network
check "connect: its address is refused (EPERM)" has "$out" "connect $P.3 8080 error EPERM"
check "connect: a deny event names the session, process and address" \
	wait_for events action=connect decision=deny "target=$P.3:8080" address="$P.3"
out=$(run nettest "connect $P.2 8080")
check "connect: a hard-coded address of an allowed name, not resolved in this session, is refused" \
	has "$out" "connect $P.2 8080 error EPERM"
out=$(run nettest "resolve alias.test 4" "connect alias.test 8080")
check "dns: a CNAME to an allowed name is followed" has "$out" "connect alias.test 8080 ok"
out=$(run nettest "connect $P.4 8080" "connect $P.4 8081")
check "cidr: an allowed CIDR and port" has "$out" "connect $P.4 8080 ok"
check "cidr: another port of it is refused" has "$out" "connect $P.4 8081 error EPERM"

# --- changing addresses: rotation and expiry -----------------------------------
run nettest "connect rotate.test 8080" "sleep 4" "connect rotate.test 8080" "connect $P.2 8080" > "$T/rot.out" &
RP=$!
sleep 1.5
python3 - "$T/zone.json" "$P" <<'PY'
import json, sys
z = json.load(open(sys.argv[1])); z["rotate.test"]["A"] = [sys.argv[2] + ".6"]
open(sys.argv[1] + ".new", "w").write(json.dumps(z))
PY
mv "$T/zone.json.new" "$T/zone.json"; kill -HUP "$(cat "$T/dnsd.pid")"
wait $RP
sed 's/^/# /' "$T/rot.out"
check "rotation: the first address was reached" grep -q "^connect rotate.test 8080 ok hello_from_$P.2:8080" "$T/rot.out"
check "rotation: the new address (new answer, new TTL) is followed" \
	grep -q "^connect rotate.test 8080 ok hello_from_$P.6:8080" "$T/rot.out"
check "expiry: the old address, its TTL over, is refused" grep -q "^connect $P.2 8080 error EPERM" "$T/rot.out"
out=$(run nettest "connect short.test 8080" "connect $P.2 8080" "sleep 4.5" "connect $P.2 8080")
check "expiry: within the TTL the address is reached" has "$out" "connect $P.2 8080 ok"
check "expiry: after TTL + grace it is refused" test "$(grep -c "connect $P.2 8080 error EPERM" <<<"$out")" = 1

# --- IPv6, UDP, raw --------------------------------------------------------------
out=$(run nettest "resolve v6.test 6" "connect v6.test 8080" "connect $P6::3 8080")
check "ipv6: an AAAA answer is reached" has "$out" "connect v6.test 8080 ok"
check "ipv6: another v6 address is refused" has "$out" "connect $P6::3 8080 error EPERM"
out=$(run nettest "connect ::ffff:$P.3 8080")
check "ipv6: a v4-mapped address is the IPv4 one (refused)" has "$out" "error EPERM"
out=$(run nettest "udp udp.test 9999" "udpc udp.test 9999" "udp $P.3 9999")
check "udp: an unconnected send to an allowed name" has "$out" "udp udp.test 9999 ok echo"
check "udp: a connected one" has "$out" "udpc udp.test 9999 ok echo"
check "udp: to another address, refused" has "$out" "udp $P.3 9999 error EPERM"
out=$(run nettest "udp allowed.test 9999")
check "udp: an allowed name on a port of another protocol's rule, refused" has "$out" "error EPERM"
out=$(run nettest raw)
# (In a session the sandbox has no CAP_NET_RAW already; the hook's own
# refusal is seen below, on a discovered process, which has it.)
check "raw sockets are refused in a session" has "$out" "raw error EPERM"
out=$(run nettest rthdr; outside rthdr)
check "source routing: an IPv6 routing header is refused in a session" \
	test "$(head -1 <<<"$out")" = "rthdr error EPERM"
check "source routing: ... and not outside one" test "$(tail -1 <<<"$out")" != "rthdr error EPERM"
# Options given per message (not by setsockopt) reach the packet: the
# egress hook drops a confined session's, known by its cgroup (no socket
# storage is made for a session's sockets in its own cgroup).
stored0=$(status_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["network"]["sockets_stored"])')
out=$(run nettest "udpopt udp.test 9999" "udp udp.test 9999" "udp udp.test 9999"; outside "udpopt $P.2 9999")
echo "$out" | sed 's/^/# /'
check "ip options per message: a session's datagram with them is dropped" has "$out" "udpopt udp.test 9999 error"
check "  ... the same datagram without options goes through" has "$out" "udp udp.test 9999 ok echo"
check "  ... and with them from outside a session, too (control)" has "$out" "udpopt $P.2 9999 ok echo"
stored1=$(status_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["network"]["sockets_stored"])')
check "a session's sockets in its own cgroup get no socket storage ($stored0 -> $stored1)" test "$stored0" = "$stored1"

# --- resolvers the agent chooses ------------------------------------------------
out=$(run nettest "dig $P.3 allowed.test" "dig $P.3 other.test" "dig $P.3 allowed.test A tcp" "connect allowed.test 8080")
check "own resolver: a query to another server is answered by agentwall's (not $P.66)" \
	has "$out" "dig allowed.test rcode=0 addrs=$P.2"
check "own resolver: ... names outside the policy refused there too" has "$out" "dig other.test rcode=5"
check "own resolver: ... over TCP as well" test "$(grep -c "dig allowed.test rcode=0 addrs=$P.2" <<<"$out")" = 2
check "own resolver: the agent's resolver never saw a query" test ! -s "$T/rogue.log"
out=$(run nettest "dig $P6::2 allowed.test")
check "own resolver: over IPv6 too" has "$out" "dig allowed.test rcode=0 addrs=$P.2"
out=$(run nettest "resolve doh.test" "connect $P.5 443")
check "doh: a DNS-over-HTTPS resolver outside the policy is refused (name)" has "$out" "resolve doh.test error"
check "doh: ... and (address)" has "$out" "connect $P.5 443 error EPERM"

# --- wildcard pitfalls --------------------------------------------------------------
out=$(run nettest "dig $P.3 a.wild.test" "dig $P.3 a.b.wild.test" "dig $P.3 wild.test" \
	"dig $P.3 evil-wild.test" "dig $P.3 wild.test.evil.test" "dig $P.3 A.WILD.TEST" \
	"dig $P.3 allowed.test." "dig $P.3 xn--bcher-kva.test")
echo "$out" | sed 's/^/# /'
check "wildcard: a name below matches" has "$out" "dig a.wild.test rcode=0"
check "wildcard: two labels below match" has "$out" "dig a.b.wild.test rcode=0"
check "wildcard: not the name itself" has "$out" "dig wild.test rcode=5"
check "wildcard: not evil-wild.test" has "$out" "dig evil-wild.test rcode=5"
check "wildcard: not wild.test.evil.test" has "$out" "dig wild.test.evil.test rcode=5"
check "names: mixed case matches" has "$out" "dig A.WILD.TEST rcode=0"
check "names: a trailing dot matches" has "$out" "dig allowed.test. rcode=0"
check "names: punycode (IDN) as written in the policy" has "$out" "dig xn--bcher-kva.test rcode=0"
out=$(run nettest "dig $P.3 bücher.test")
check "names: raw UTF-8 in a query is refused, not matched" has "$out" "rcode=5"

# --- a forced agent: the same, by its class's policy --------------------------------
out=$(in_scope nsenter --net=/run/netns/"$NC" "$(FAKE)" -c "python3 $T/ws/netprobe.py 'connect $P.3 8080' 'dig $P.3 registry.npmjs.org'" 2>&1)
echo "$out" | sed 's/^/# /'
check "forced: an agent forced into a session is confined the same way" has "$out" "connect $P.3 8080 error EPERM"
check "forced: its policy (coding-agent) allows the registries by name" has "$out" "dig registry.npmjs.org rcode="
check "forced: the refusal names the coding-agent policy" \
	wait_for events action=connect decision=deny "target=$P.3:8080" rule=coding-agent/network

# --- outside any session: never refused ------------------------------------------
out=$(outside "connect $P.3 8080" "dig $P.2 other.test" "udp $P.3 9999" raw)
check "outside: a hard-coded address is reached" has "$out" "connect $P.3 8080 ok"
check "outside: DNS is not redirected (the server's own answer)" has "$out" "dig other.test rcode=0 addrs=$P.3"
check "outside: UDP anywhere" has "$out" "udp $P.3 9999 ok"
check "outside: raw sockets" has "$out" "raw ok"

# --- audit mode ----------------------------------------------------------------------
out=$(run nettest-audit "connect $P.3 8080")
check "audit: the connect goes through" has "$out" "connect $P.3 8080 ok"
check "audit: ... recorded as what enforce would deny" wait_for events action=connect decision=audit "target=$P.3:8080"

# --- bad upstream answers ----------------------------------------------------------------
out=$(run nettest "dig $P.3 malformed.test" "dig $P.3 loop.test" "dig $P.3 cnameloop.test" \
	"dig $P.3 wrongid.test" "dig $P.3 wrongq.test" "dig $P.3 drop.test" "dig $P.3 truncated.test" \
	"dig $P.3 truncated.test A tcp" "dig $P.3 huge.test A tcp" "dig $P.3 chain.test" \
	"dig $P.3 ttl0.test" "dig $P.3 bigttl.test" "connect ttl0.test 8080")
echo "$out" | sed 's/^/# /'
check "bad answer: malformed -> SERVFAIL" has "$out" "dig malformed.test rcode=2"
check "bad answer: compression loop -> SERVFAIL" has "$out" "dig loop.test rcode=2"
check "bad answer: CNAME loop -> SERVFAIL" has "$out" "dig cnameloop.test rcode=2"
check "bad answer: wrong ID -> no answer taken (SERVFAIL on timeout)" has "$out" "dig wrongid.test rcode=2"
check "bad answer: another question -> not taken (SERVFAIL on timeout)" has "$out" "dig wrongq.test rcode=2"
check "bad answer: none at all -> SERVFAIL" has "$out" "dig drop.test rcode=2"
check "bad answer: truncated over UDP is passed on (TC), and TCP gets the whole" \
	has "$out" "dig truncated.test rcode=0 addrs=$P.2"
check "bad answer: a huge answer over TCP (200 records)" has "$out" "dig huge.test rcode=0 addrs=10.201"
check "bad answer: a chain of 20 CNAMEs (over the limit of 16) -> SERVFAIL" has "$out" "dig chain.test rcode=2"
check "bad answer: TTL 0 still lets the agent connect right after" has "$out" "connect ttl0.test 8080 ok"
check "bad answer: every refusal is an event" wait_for events action=dns target=loop.test decision=deny
check "bad answers: the daemon still runs" kill -0 "$DAEMON_PID"
# 100,000 names, each resolving to its own address: the session's share
# of the allow map (4096) fills; then answers are refused, and said so.
out=$(run nettest "many 100000 n%d.spread.test $P.3" "many 2000 x%d.other.test $P.3")
echo "$out" | sed 's/^/# /'
kv() { sed -n "s/.*[ ]$2=\([0-9]*\).*/\1/p" <<<"$1" | head -1; }
a=$(kv "$out" answered) sf=$(kv "$out" servfail) fl=$(kv "$out" failed)
check "flood: 100,000 names answered or refused, none lost ($a answered, $sf refused, $fl lost)" \
	test $((a + sf)) -ge 99900
# (Names past the cap that hash to an address already allowed are still
# answered: about 6% of them, 4096 of the spread's 65536 addresses.)
check "flood: the session's allowed addresses are bounded at 4096 (the rest refused)" \
	test "$a" -ge 4096 -a "$a" -le 11000 -a "$sf" -ge 89000
check "flood: a full allow map refuses the answer and says so (not an LRU)" \
	wait_for events action=dns decision=deny "detail=the session's allowed addresses are full: answer refused"
check "flood: names outside the policy refused just as fast" grep -q "many answered=0 failed=0 refused=2000" <<<"$out"
# (The count rides on the next event of the session, or on a notice at
# its end.)
check "flood: events beyond 100/s are counted, not lost" \
	wait_for grep -q '"suppressed_before":[1-9]' "$T/export.jsonl"
check "flood: the daemon still runs and answers" aw status

# --- log: where did this agent try to go ------------------------------------------------
S=$(events action=connect decision=deny "target=$P.3:8080" --field session | head -1)
aw log --session "$S" --action connect > "$T/log.out"
check "log --action connect: the session's connects, addresses and decisions" grep -q "$P.3:8080" "$T/log.out"
aw log --action dns --decision deny > "$T/logdns.out"
check "log --action dns: names refused" grep -q "other.test" "$T/logdns.out"

# --- behaviour-based discovery ------------------------------------------------------------
wait_for sh -c "\"$AW\" --state-dir \"$STATE\" status --json | grep -q '\"llm_addrs\":[1-9]'"
# Ordinary tools: curl to other hosts, a package-manager-like fetch, a
# browser-like burst of connections; none of them is an LLM API.
outside "connect $P.3 8080" "connect $P.5 443" "connect $P.6 443" "dig $P.2 registry.test" > /dev/null
in_scope nsenter --net=/run/netns/"$NC" curl -s -m 3 "http://$P.3:8080/" > /dev/null 2>&1
in_scope nsenter --net=/run/netns/"$NC" curl -s -m 3 "http://$P.6:8080/simple/" > /dev/null 2>&1
bp=(); for a in 2 3 4 5 6 7; do outside "connect $P.$a 443" > /dev/null & bp+=($!); done; wait "${bp[@]}"
check "discovery: ordinary traffic to other hosts discovers nothing" sh -c "! python3 $AW_ROOT/tests/evq.py $T/export.jsonl action=discover --count | grep -qv '^0$'"
stored0=$(status_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["network"]["sockets_stored"])')
out=$(outside "connect $P.8 443" "connect $P.3 8080" raw)
echo "$out" | sed 's/^/# /'
check "discovery: a process reaching a known LLM API is discovered" \
	wait_for events action=discover target=llm.test rule=behaviour/llm-api:llm.test
check "discovery: its own connect to the API went through" has "$out" "connect $P.8 443 ok"
check "discovery: from then on the default policy holds (its next connect refused)" has "$out" "connect $P.3 8080 error EPERM"
check "discovery: the refusal names its new session" wait_for events action=connect decision=deny "target=$P.3:8080" rule=default/network
check "discovery: a raw socket is refused by the hook (it has CAP_NET_RAW)" has "$out" "raw error EPERM"
check "  ... and reported" wait_for events action=connect decision=deny "target=icmp socket" rule=default/network.socket
stored1=$(status_json | python3 -c 'import json,sys; print(json.load(sys.stdin)["network"]["sockets_stored"])')
check "discovery: outside any session's cgroup, its sockets carry their session ($stored0 -> $stored1)" test "$stored1" -gt "$stored0"

# --- the real Codex CLI, by name to a local mock of its API -------------------------------
CODEX=/var/cache/agentwall-tests/npm/node_modules/.bin/codex
if [ -x "$CODEX" ]; then
	mkdir -p "$T/home/.codex" "$T/home/tmp" "$T/repo"
	ins python3 "$AW_ROOT/tests/helpers/mock_openai.py" "$T/mock.port" "$T/mock.log" 2>"$T/mock.err" &
	wait_for test -s "$T/mock.port"
	MP=$(cat "$T/mock.port")
	# (The mock listens on an ephemeral port of its netns: reached
	# through a port forward on $P.7:8000.)
	ins python3 -c '
import socket, sys, threading
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], 8000)); l.listen(16)
def pipe(a, b):
    while True:
        d = a.recv(65536)
        if not d: break
        b.sendall(d)
    b.close()
while True:
    c, _ = l.accept(); u = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
    threading.Thread(target=pipe, args=(c, u), daemon=True).start()
    threading.Thread(target=pipe, args=(u, c), daemon=True).start()' "$P.7" "$MP" &
	sleep 0.5
	codex_cfg() { codex_config "$T/home/.codex/config.toml" "http://$1:8000/v1"; }
	codex_run() {
		(cd "$T/repo" && HOME=$T/home CODEX_HOME=$T/home/.codex TMPDIR=$T/home/tmp MOCK_OPENAI_API_KEY=dummy \
			in_scope nsenter --net=/run/netns/"$NC" timeout 120 "$AW" --state-dir "$STATE" run \
			--policy codex-test --workspace "$T/repo" -- "$CODEX" exec --strict-config --color never \
			--skip-git-repo-check --dangerously-bypass-approvals-and-sandbox -C "$T/repo" \
			"say hello" </dev/null >"$T/codex.out" 2>"$T/codex.err")
	}
	git -C "$T/repo" init -q; echo original > "$T/repo/hello.txt"
	codex_cfg api.mock.test; codex_run
	check "codex: reaches its API by name through the session's resolver" \
		test "$(grep -c '^/v1/responses$' "$T/mock.log")" -ge 1
	check "codex: the name was allowed at DNS" wait_for events action=dns target=api.mock.test decision=allow rule=codex-test/mock-api
	: > "$T/mock.log"
	codex_cfg unlisted.test; codex_run
	check "codex: an unlisted host is refused" test ! -s "$T/mock.log"
	check "codex: ... at DNS, with an event" wait_for events action=dns target=unlisted.test decision=deny
else
	skip "codex: network policy" "codex not in the npm cache (tools/setup-deps installs it)"
fi
