#!/bin/bash
# The OpenMetrics endpoint (--metrics): a real daemon in enforce mode,
# real processes (a forced stand-in agent, a sandboxed session whose
# resolver refuses names), scraped with Prometheus' own parsers and curl.
# Its counts are the store's; its gauge follows a session; its
# histogram is well formed; hostile clients do not hang it or the
# daemon; it refuses to listen beyond loopback unless told.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3 # Debian's, with python3-prometheus-client
SCRAPE="$PY $AW_ROOT/tests/helpers/scrape.py"
if ! $PY -c 'import prometheus_client' 2>/dev/null; then
	skip "metrics endpoint" "python3-prometheus-client not installed (tools/setup-deps)"
	exit 0
fi
free_port() { $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
URL=http://127.0.0.1:$PORT/metrics
val() { $SCRAPE value "$URL" "$@"; }
# is N SAMPLE [LABEL=VALUE...], ge N SAMPLE ...: for wait_for (scraped anew
# at each try).
is() { local n=$1; shift; [ "$(val "$@")" = "$n" ]; }
ge() { local n=$1 v; shift; v=$(val "$@") && [ "$v" -ge "$n" ]; }

# --- refused addresses ---------------------------------------------------------
for a in 0.0.0.0:$PORT "[::]:$PORT" 192.0.2.1:$PORT; do
	"$AWD" --scope "cgroup:$CG" --state-dir "$STATE" --bpffs-dir "$PINS" --metrics "$a" \
		>/dev/null 2>"$T/refused.err"
	rc=$?
	check "a non-loopback --metrics $a is refused (usage error)" test $rc = 2
done
check "  ... saying why and what would allow it" grep -q "not a loopback address.*metrics-allow-remote" "$T/refused.err"
printf 'metrics = 0.0.0.0:%s\n' "$PORT" > "$T/remote.conf"
"$AWD" --config "$T/remote.conf" --scope "cgroup:$CG" --state-dir "$STATE" --bpffs-dir "$PINS" \
	>/dev/null 2>"$T/refused.err"
check "  ... from agentwalld.conf too" test $? = 2
"$AWD" --scope "cgroup:$CG" --state-dir "$STATE" --bpffs-dir "$PINS" --metrics "127.0.0.1:x" \
	>/dev/null 2>&1
check "a malformed --metrics is a usage error" test $? = 2
check "nothing listens after the refusals" sh -c "! curl -s -m 2 $URL >/dev/null"

# --- the daemon ------------------------------------------------------------------
make_fake_agent
mkdir -p "$T/policies" "$T/ws"
cp "$AW_ROOT"/policies/*.yaml "$T/policies/"
cat > "$T/policies/mtest.yaml" <<EOF
version: 1
id: mtest
extends: default
mode: enforce
network:
  - id: web
    hosts: ["allowed.test"]
    ports: [8080]
EOF
chmod 644 "$T"/policies/*.yaml
cp "$AW_ROOT/tests/helpers/netprobe.py" "$T/ws/"
printf 'metrics = 127.0.0.1:%s\n' "$PORT" > "$T/agentwalld.conf"
# (The upstream is never asked: every name these sessions ask is refused.)
start_daemon --config "$T/agentwalld.conf" --quiet --signatures "$T/sigs" --policies "$T/policies" \
	--mode enforce --dns-upstream 127.0.0.1:9 || { nok "daemon starts with metrics"; exit 1; }
cd "$T/ws"

out=$($SCRAPE validate "$URL" 2>&1)
check "OpenMetrics: the parser accepts it, Content-Type and # EOF right ($out)" test $? = 0
out=$($SCRAPE validate-text "$URL" 2>&1)
check "Accept: text/plain gets the Prometheus text format, which its parser accepts ($out)" test $? = 0
check "build info names the mode" test "$(val agentwall_build_info mode=enforce)" = 1
check "curl: 200 and the OpenMetrics type" \
	sh -c "curl -s -i $URL | tr -d '\r' | grep -qx 'Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8'"

# --- real events: a forced agent's burst, a session whose names are refused --------
in_scope "$(FAKE)" -c 'for i in $(seq 100); do /bin/true; done; (sleep 0.1 &); wait' >/dev/null 2>&1
in_scope "$AW" --state-dir "$STATE" run --policy mtest --workspace "$T/ws" -- \
	$PY "$T/ws/netprobe.py" "many 5 denied%d.test 10.255.255.53" > "$T/dns.out" 2>&1
sed 's/^/# /' "$T/dns.out"
check "the session's resolver refused the 5 names" grep -q "refused=5" "$T/dns.out"
check "resolver queries by verdict: 5 denied" wait_for is 5 agentwall_resolver_queries_total verdict=deny
check "  ... and recorded as dns denials" wait_for is 5 agentwall_events_total action=dns decision=deny
wait_for events action=session-end
sleep 0.5 # the writer commits every 200 ms
cmp_store() { $SCRAPE compare "$URL" "$STATE/events.db" > "$T/cmp.out" 2>&1; }
wait_for cmp_store
check "agentwall_events_total equals the store's count of every action and decision ($(cat "$T/cmp.out" | tr '\n' ' '))" cmp_store
execs=$(sqlite3 "$STATE/events.db" "select count(*) from events where action='exec'")
check "  ... a burst of real execs among them ($execs)" test "$execs" -ge 100
check "events_total{action=exec} is the store's exec count" test "$(val agentwall_events_total action=exec)" = "$execs"
check "sessions started count the forced agent and the run session" \
	test "$(val agentwall_sessions_started_total agent=test.fake-agent)" -ge 1
check "sandboxed: the run session under its policy" \
	test "$(val agentwall_sessions_sandboxed_total policy=mtest)" = 1
check "store committed counter follows the store" \
	wait_for ge "$(sqlite3 "$STATE/events.db" 'select count(*) from events')" agentwall_store_committed_total
check "the ring buffer's size is given" test "$(val agentwall_ring_size_bytes)" = 4194304
check "no drops" test "$(val agentwall_ring_drops_total)" = 0 -a "$(val agentwall_user_drops_total)" = 0

# --- forcing latency histogram ----------------------------------------------------
forced=$(sqlite3 "$STATE/events.db" "select count(*) from events where action='sandbox' and rule like 'force/%'")
h=$($SCRAPE histogram "$URL" agentwall_force_latency_seconds 2>&1)
check "forcing latency histogram: buckets cumulative, +Inf = count" test $? = 0
check "  ... one observation per forced session ($h = $forced)" test "$h" = "$forced" -a "$forced" -ge 1
echo "# forcing latency: $(val agentwall_force_latency_seconds_sum) s over $h"

# --- the live gauge -----------------------------------------------------------------
live() { is "$1" agentwall_sessions_live agent=test.fake-agent; }
check "no live session of the agent between runs" wait_for live 0
in_scope "$(FAKE)" -c 'sleep 3' >/dev/null 2>&1 &
LP=$!
check "a running agent: sessions_live goes up" wait_for live 1
check "  ... under its policy once forced" wait_for is 1 agentwall_sessions_live agent=test.fake-agent policy=coding-agent
wait $LP
check "  ... and down when it ends" wait_for live 0

# --- hostile clients ----------------------------------------------------------------
code() { curl -s -o /dev/null -m 10 -w '%{http_code}' "$@"; }
check "POST is 405" test "$(code -X POST "$URL")" = 405
check "  ... with Allow: GET, HEAD" sh -c "curl -s -i -X DELETE $URL | tr -d '\r' | grep -qx 'Allow: GET, HEAD'"
check "another path is 404" test "$(code "http://127.0.0.1:$PORT/")" = 404
check "  ... also with a method it would refuse" test "$(code -X PUT "http://127.0.0.1:$PORT/admin")" = 404
check "HEAD is 200 without a body" test "$(curl -s -I -m 10 "$URL" | tr -d '\r' | head -1)" = "HTTP/1.1 200 OK"
raw() { $PY - "$PORT" "$@" <<'PY'
import socket, sys, time
port, what = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=15)
if what == "garbage":
    s.sendall(b"\x16\x03\x01\x02\x00hello\r\n\r\n")
elif what == "huge":
    try:
        s.sendall(b"GET /metrics HTTP/1.1\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n")
    except OSError:
        pass
elif what == "slow":
    # One byte a second: the deadline, not an idle timer, closes it.
    t0 = time.time()
    print("connected", flush=True)
    try:
        for c in b"GET /metrics HTTP/1.1\r\nHost: x\r\n":
            s.sendall(bytes([c]))
            time.sleep(1)
    except OSError:
        pass
    print("closed after %.0f s" % (time.time() - t0))
try:
    data = s.recv(200)
except OSError as e:
    data = ("reset " + str(e)).encode()
print(data.split(b"\r\n")[0].decode(errors="replace"))
PY
}
check "garbage is 400" test "$(raw garbage)" = "HTTP/1.1 400 Bad Request"
out=$(raw huge)
check "a 64 KiB header is refused (431 or reset), not buffered: $out" \
	grep -qE "^HTTP/1.1 431|^reset|^$" <<<"$out"
raw slow > "$T/slow.out" &
SP=$!
wait_for grep -q connected "$T/slow.out" # holds a slot before the flood
# Eight more that send nothing fill the slots; the next is told 503.
$PY - "$PORT" > "$T/flood.out" <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(12)]
time.sleep(3)
codes = []
for s in socks:
    s.settimeout(0.2)
    try:
        codes.append(s.recv(100).split(b"\r\n")[0].decode())
    except OSError:
        codes.append("open")
print("\n".join(codes))
PY
FP=$!
sleep 1
check "while slow and idle clients hold it, a scrape is refused (503) or served, never hung" \
	sh -c "c=\$(curl -s -o /dev/null -m 5 -w '%{http_code}' $URL); [ \"\$c\" = 503 ] || [ \"\$c\" = 200 ]"
check "  ... and the daemon's event loop does not notice (status answers)" \
	sh -c "\"$AW\" --state-dir \"$STATE\" status > /dev/null"
in_scope "$(FAKE)" -c '/bin/true' >/dev/null 2>&1
check "  ... nor its pipeline (a new forced session is recorded)" wait_for ge 2 agentwall_sessions_sandboxed_total policy=coding-agent
wait $FP
check "connections past the limit were told 503" grep -q "503 Service Unavailable" "$T/flood.out"
wait $SP
sed 's/^/# slow client: /' "$T/slow.out"
check "a client trickling its request is closed at the deadline" grep -qE "closed after [4-9] s" "$T/slow.out"
check "refusals are counted (timeout, busy, too-large, method, path)" \
	sh -c "[ \"\$($SCRAPE value $URL agentwall_metrics_http_rejected_total reason=timeout)\" -ge 1 ] &&
	       [ \"\$($SCRAPE value $URL agentwall_metrics_http_rejected_total reason=busy)\" -ge 1 ] &&
	       [ \"\$($SCRAPE value $URL agentwall_metrics_http_rejected_total reason=method)\" -ge 2 ] &&
	       [ \"\$($SCRAPE value $URL agentwall_metrics_http_rejected_total reason=path)\" -ge 2 ]"
out=$($SCRAPE validate "$URL" 2>&1)
check "after all that, a scrape is served and valid ($out)" test $? = 0
stop_daemon
check "the port is closed with the daemon" sh -c "! curl -s -m 2 $URL >/dev/null"

# --- allowed beyond loopback, explicitly ---------------------------------------------
# In a network namespace of the test's own (a veth pair with both ends
# in it, nothing leaves): the address is not loopback, so it takes
# metrics-allow-remote.
NSM=$ID-m
if net_ns "$NSM" && ip -n "$NSM" link add v0 type veth peer name v1 &&
	ip -n "$NSM" addr add 10.203.0.1/24 dev v0 && ip -n "$NSM" link set v0 up &&
	ip -n "$NSM" link set v1 up && ip -n "$NSM" link set lo up; then
	AWD_WRAP=(nsenter --net=/run/netns/"$NSM")
	start_daemon --quiet --metrics "10.203.0.1:$PORT" --metrics-allow-remote ||
		nok "daemon starts with --metrics-allow-remote"
	out=$(nsenter --net=/run/netns/"$NSM" curl -s -m 10 "http://10.203.0.1:$PORT/metrics" | tail -1)
	check "with --metrics-allow-remote, a non-loopback address is served" test "$out" = "# EOF"
	stop_daemon
	AWD_WRAP=()
else
	skip "a non-loopback address with --metrics-allow-remote" "no test network namespace"
fi
