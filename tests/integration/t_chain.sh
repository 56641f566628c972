#!/bin/bash
# Tamper evidence: every event the daemon stores is hash-chained, and
# `agentwall log --verify` proves the chain or names the first broken row.
# Each way of editing the store with sqlite3 is tried on a copy of the real
# daemon's store and must be detected; what a plain hash chain cannot
# detect on its own (a chain recomputed, the newest rows cut together with
# the head checkpoint) is detected against the head pinned from status.
# Retention keeps the chain verifiable. And `log --follow` starts at the
# end; --from-start gives the history first.
. "$(dirname "$0")/../lib.sh"
make_fake_agent
start_daemon --signatures "$T/sigs" --quiet || { nok "daemon starts"; exit 1; }

in_scope "$(FAKE)" -c 'echo $$ > '"$T"'/a.pid; for i in $(seq 30); do /bin/true; done'
wait_for events action=session-end process.pid="$(cat "$T/a.pid")"
sleep 0.6 # the store commits every 200 ms

aw log --verify > "$T/v.out"; rc=$?
check "log --verify passes on the daemon's store (exit 0)" test $rc = 0
check "  ... and says how many rows it verified" \
	grep -qE '^chain intact: [1-9][0-9]* rows verified' "$T/v.out"
check "  ... checked against the running daemon's head too" \
	grep -q "running daemon's head" "$T/v.out"
aw status --json > "$T/st.json"
head=$(python3 -c "
import json; c = json.load(open('$T/st.json'))['chain']
print('%d:%s' % (c['head_id'], c['head_hash']))" 2>/dev/null)
check "status reports the chain head (id:hash)" grep -qE '^[0-9]+:[0-9a-f]{64}$' <<< "$head"
check "the daemon writes the head to its journal" \
	grep -qE 'agentwalld: event chain head [0-9]+:[0-9a-f]{64}' "$T/daemon.err"
aw log --verify --json > "$T/v.json"
check "--verify --json" python3 -c "
import json,sys; v = json.load(open('$T/v.json'))
sys.exit(0 if v['ok'] and v['problem'] == 'ok' and v['verified'] > 30 else 1)"
aw log --verify --anchor 1:zz > /dev/null 2>&1; rc=$?
check "a malformed --anchor is a usage error" test $rc = 2
aw log --verify --action exec > /dev/null 2>&1; rc=$?
check "--verify with a filter is a usage error (it proves the whole store)" test $rc = 2

# --follow: from the end by default, with the filters; --from-start and
# --limit N give history first.
before=$(aw log --action session-start | wc -l)
"$AW" --state-dir "$STATE" log --follow --json --action session-start > "$T/f_end.json" &
f1=$!
"$AW" --state-dir "$STATE" log --follow --from-start --json --action session-start > "$T/f_all.json" &
f2=$!
"$AW" --state-dir "$STATE" log --follow --limit 1 --action session-start > "$T/f_one.txt" &
f3=$!
"$AW" --state-dir "$STATE" log --follow --since 1h --action session-start > "$T/f_since.txt" &
f5=$!
sleep 1
in_scope "$(FAKE)" -c 'echo $$ > '"$T"'/f.pid'
check "log --follow shows a new session as it happens" \
	wait_for grep -q "\"pid\":$(cat "$T/f.pid")," "$T/f_end.json"
check "  ... starting at the end: only the new one" \
	test "$(wc -l < "$T/f_end.json")" = 1
check "  ... the --action filter holds" \
	test "$(grep -vc '"action":"session-start"' "$T/f_end.json")" = 0
check "log --follow --from-start: the history first, then the new one" \
	wait_for test "$(grep -c '"action":"session-start"' "$T/f_all.json")" = $((before + 1))
check "log --follow --limit 1: the newest one first, then the new one" \
	wait_for test "$(wc -l < "$T/f_one.txt")" = 2
check "log --follow --since: the history since then, then the new one" \
	wait_for test "$(wc -l < "$T/f_since.txt")" = $((before + 1))
kill "$f1" "$f2" "$f3" "$f5"; wait "$f1" "$f2" "$f3" "$f5" 2>/dev/null
# A user who cannot read the store follows through the daemon (its own
# sessions only), from the end as well.
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
chmod 755 "$T"; mkdir -m 777 "$T/nob"
in_scope setpriv --reuid=65534 --regid=65534 --clear-groups "$(FAKE)" -c '/bin/true'
wait_for test "$(aw log --action session-start | wc -l)" = $((before + 2))
as_nobody "$AW" --state-dir "$STATE" log --action session-start > "$T/n_hist.txt" 2>&1
as_nobody "$AW" --state-dir "$STATE" log --follow --action session-start > "$T/n_end.txt" 2>&1 &
f4=$!
sleep 1
in_scope setpriv --reuid=65534 --regid=65534 --clear-groups "$(FAKE)" -c 'echo $$ > '"$T"'/nob/n.pid'
check "through the daemon: --follow shows the user's new session" \
	wait_for grep -qw "$(cat "$T/nob/n.pid")" "$T/n_end.txt"
check "  ... and only that one (it starts at the end)" \
	test "$(wc -l < "$T/n_end.txt")" = 1 -a "$(wc -l < "$T/n_hist.txt")" = 1
kill "$f4"; wait "$f4" 2>/dev/null

# Retention: a restart with a lower --max-events prunes at start, behind a
# prune checkpoint; the rest of the chain still proves, and keeps growing.
stop_daemon
total=$(sqlite3 "$STATE/events.db" 'select count(*) from events')
start_daemon --signatures "$T/sigs" --quiet --max-events 20 || nok "daemon restarts"
in_scope "$(FAKE)" -c '/bin/true; /bin/true'
sleep 0.6
aw log --verify > "$T/v2.out"; rc=$?
check "retention: --verify passes after pruning (exit 0)" test $rc = 0
check "  ... and summarizes the pruned prefix" \
	grep -qE "pruned by retention: [0-9]+ rows up to id [0-9]+ with hash [0-9a-f]{64}" "$T/v2.out"
check "  ... the store was pruned ($total rows before)" \
	test "$(sqlite3 "$STATE/events.db" 'select count(*) from events')" -lt "$total"
stop_daemon
aw log --verify > "$T/v3.out"; rc=$?
check "the stopped store verifies (the daemon pruned again at stop)" test $rc = 0
head=$(aw log --verify --json | python3 -c "
import json,sys; v = json.load(sys.stdin); print('%d:%s' % (v['last_id'], v['head_hash']))")
first=$(aw log --verify --json | python3 -c "import json,sys; print(json.load(sys.stdin)['first_id'])")
last=${head%%:*}
mid=$(( (first + last) / 2 ))

# Readable is enough: an unprivileged user with read access to a copy.
mkdir -p "$T/ro" && chmod 755 "$T" "$T/ro"
sqlite3 "$STATE/events.db" ".backup '$T/ro/events.db'"
chmod 644 "$T/ro/events.db"
setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$AW" --state-dir "$T/ro" log --verify > "$T/ro.out" 2>&1; rc=$?
check "an unprivileged reader can verify (read-only)" test $rc = 0
chmod 600 "$T/ro/events.db"
setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$AW" --state-dir "$T/ro" log --verify > /dev/null 2>&1; rc=$?
check "  ... one who cannot read the store gets an error, not a pass" test $rc = 1

# Tampering, each on a fresh copy of the stopped store.
fresh() { rm -rf "$T/c"; mkdir "$T/c"; sqlite3 "$STATE/events.db" ".backup '$T/c/events.db'"; }
verify_copy() { "$AW" --state-dir "$T/c" log --verify "$@" > "$T/c.out" 2>&1; }
# tamper NAME PROBLEM ROW SQL: detected (exit 6), named as PROBLEM, at
# row id ROW ("-": no row to name).
tamper() {
	local rc
	fresh
	sqlite3 "$T/c/events.db" "$4" || { nok "$1: sqlite3 failed"; return; }
	verify_copy; rc=$?
	check "$1: detected (exit 6)" test $rc = 6
	check "  ... as $2" grep -q "^chain BROKEN ($2)" "$T/c.out"
	if [ "$3" != - ]; then
		check "  ... naming row $3 with its time and action" \
			grep -qE "first broken row: id $3, 20[0-9-]+T[0-9:.]+Z, action [a-z-]+$" "$T/c.out"
	fi
	grep -q "^chain BROKEN ($2)" "$T/c.out" || sed 's/^/# /' "$T/c.out"
}
tamper "one byte of a row's JSON" edited $mid \
	"UPDATE events SET json = substr(json, 1, 30) || (CASE substr(json, 31, 1) WHEN 'a' THEN 'b' ELSE 'a' END) || substr(json, 32) WHERE id = $mid"
tamper "a decision" edited $mid "UPDATE events SET decision = 'deny' WHERE id = $mid"
tamper "a row deleted in the middle" missing $((mid + 1)) "DELETE FROM events WHERE id = $mid"
tamper "the last rows deleted" truncated - "DELETE FROM events WHERE id > $((last - 3))"
tamper "two rows swapped (ids exchanged)" reordered $mid \
	"UPDATE events SET id = -1 WHERE id = $mid; UPDATE events SET id = $mid WHERE id = $((mid + 1)); UPDATE events SET id = $((mid + 1)) WHERE id = -1"
tamper "a forged row appended" appended $((last + 1)) \
	"INSERT INTO events (id, time_ns, session, agent_id, action, pid, ppid, uid, decision, json, chain) SELECT id + 1, time_ns + 1, session, agent_id, action, pid, ppid, uid, decision, json, randomblob(32) FROM events WHERE id = $last"
tamper "a forged row without a hash" appended $((last + 1)) \
	"INSERT INTO events (id, time_ns, session, action, pid, ppid, uid) SELECT id + 1, time_ns + 1, session, 'exec', 1, 1, 0 FROM events WHERE id = $last"
tamper "a row's hash removed" unchained $mid "UPDATE events SET chain = NULL WHERE id = $mid"
tamper "the head checkpoint" checkpoint-mismatch $last \
	"UPDATE chain_checkpoints SET hash = randomblob(32) WHERE kind = 'head'"
tamper "the prune checkpoint" checkpoint-mismatch $first \
	"UPDATE chain_checkpoints SET hash = randomblob(32) WHERE kind = 'prune'"
tamper "a pruned row put back" inserted - \
	"INSERT INTO events (id, time_ns, session, action, pid, ppid, uid) VALUES ($((first - 1)), 1, 1, 'exec', 1, 1, 0)"

# The limits, and the anchor that covers them. Cut the newest rows AND
# move the head checkpoint back: the store alone is consistent again.
fresh
sqlite3 "$T/c/events.db" "DELETE FROM events WHERE id > $((last - 3));
	UPDATE chain_checkpoints SET row_id = $((last - 3)), hash = (SELECT chain FROM events WHERE id = $((last - 3))) WHERE kind = 'head'"
verify_copy; rc=$?
check "tail cut with the head moved back: not visible in the store alone (documented)" test $rc = 0
verify_copy --anchor "$head"; rc=$?
check "  ... detected against the head pinned from status (--anchor)" test $rc = 6
check "  ... as truncated" grep -q "^chain BROKEN (truncated)" "$T/c.out"

# Recompute the chain from an edited row on, per the documented encoding
# (docs/events.md), head included: no key is needed to do this.
forge() {
	python3 - "$T/c/events.db" "$1" <<'PY'
import hashlib, sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1]); start = int(sys.argv[2])
u64 = lambda v: struct.pack(">Q", v & 0xffffffffffffffff)
def field(v):
    if v is None: return b"\0"
    b = v if isinstance(v, bytes) else v.encode()
    return b"\1" + u64(len(b)) + b
db.execute("UPDATE events SET decision = 'deny' WHERE id = ?", (start,))
prev = db.execute("SELECT chain FROM events WHERE id = ?", (start - 1,)).fetchone()[0]
rows = db.execute("SELECT id, time_ns, session, agent_id, action, pid, ppid, uid, exe, target, "
                  "decision, rule, text, json FROM events WHERE id >= ? ORDER BY id", (start,)).fetchall()
for r in rows:
    content = hashlib.sha256(u64(r[1]) + u64(r[2]) + field(r[3]) + field(r[4])
        + u64(r[5]) + u64(r[6]) + u64(r[7]) + b"".join(field(v) for v in r[8:14])).digest()
    prev = hashlib.sha256(prev + u64(r[0]) + content).digest()
    db.execute("UPDATE events SET chain = ? WHERE id = ?", (prev, r[0]))
db.execute("UPDATE chain_checkpoints SET hash = ? WHERE kind = 'head'", (prev,))
db.commit()
PY
}
fresh
forge $mid
verify_copy; rc=$?
check "a chain recomputed from an edit on: not visible in the store alone (documented)" test $rc = 0
verify_copy --anchor "$head"; rc=$?
check "  ... detected against the head pinned from status (--anchor)" test $rc = 6
check "  ... as anchor-mismatch" grep -q "^chain BROKEN (anchor-mismatch)" "$T/c.out"
# Only the edited row's own hash recomputed: the next row's link breaks.
fresh
forge $mid
sqlite3 "$STATE/events.db" ".backup '$T/orig.db'"
python3 - "$T/c/events.db" "$T/orig.db" "$mid" <<'PY'
import sqlite3, sys
# The forged hash of row mid stays; the rows after it and the head get
# their original hashes back.
db = sqlite3.connect(sys.argv[1]); orig = sqlite3.connect(sys.argv[2]); mid = int(sys.argv[3])
for (i, h) in orig.execute("SELECT id, chain FROM events WHERE id > ?", (mid,)):
    db.execute("UPDATE events SET chain = ? WHERE id = ?", (h, i))
db.execute("UPDATE chain_checkpoints SET hash = (SELECT chain FROM events WHERE id = row_id) WHERE kind = 'head'")
db.commit()
PY
verify_copy; rc=$?
check "one row edited and its own hash recomputed: detected (exit 6)" test $rc = 6
check "  ... at the next row, which says the row before may be the forged one" \
	grep -q "first broken row: id $((mid + 1))," "$T/c.out"

# The live daemon's head is an anchor too: rows cut while it runs show.
start_daemon --signatures "$T/sigs" --quiet --max-events 20 || nok "daemon restarts"
in_scope "$(FAKE)" -c '/bin/true'
sleep 0.6
aw log --verify > /dev/null; rc=$?
check "restarted on the intact store: --verify passes" test $rc = 0
n=$(aw status --json | python3 -c "import json,sys; print(json.load(sys.stdin)['chain']['head_id'])")
sqlite3 "$STATE/events.db" "DELETE FROM events WHERE id = $n; UPDATE chain_checkpoints SET row_id = $((n - 1)), hash = (SELECT chain FROM events WHERE id = $((n - 1))) WHERE kind = 'head'"
aw log --verify > "$T/v4.out"; rc=$?
check "head row and head checkpoint cut under the running daemon: detected by its head" test $rc = 6
stop_daemon
