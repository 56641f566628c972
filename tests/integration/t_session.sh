#!/bin/bash
# The session boundary: what a session is given. Its temporary
# directories wherever the environment says, its own program even under
# a private tree, the workspace edge cases, no inherited descriptor but
# stdio (checked), and a minimal /dev. For `run` and forced sessions, as
# root and as an ordinary user; each case also tries to get around it.
. "$(dirname "$0")/../lib.sh"
make_fake_agent
start_daemon --signatures "$T/sigs" --mode enforce || { nok "daemon starts"; exit 1; }

H=$T/home
mkdir -p "$H/.ssh" "$T/ws" "$T/usertmp" "$T/usercache" "$T/other"
echo "PRIVATE KEY" > "$H/.ssh/id_rsa"
echo "visible" > "$H/notes.txt"
echo original > "$T/ws/a.txt"
export HOME=$H
cd "$T/ws"
run() { in_scope "$AW" --state-dir "$STATE" run "$@"; }
latest() { aw sessions | awk 'NR > 1 { id = $1 } END { print id }'; }

# --- temporary directories ---------------------------------------------
out=$(TMPDIR=$T/usertmp XDG_CACHE_HOME=$T/usercache run -- /bin/sh -c '
	d=$(mktemp -d "$TMPDIR/agent-XXXXXX") && echo made > "$d/f" && cat "$d/f"
	echo c > "$XDG_CACHE_HOME/c" && echo cache-ok
	ls -A "$TMPDIR" | wc -l' 2>"$T/err")
check "temp: mktemp -d under a TMPDIR outside the workspace works" grep -qx made <<<"$out"
check "temp: XDG_CACHE_HOME outside the grants is writable" grep -qx cache-ok <<<"$out"
check "temp: the session's TMPDIR starts empty (private)" test "$(echo "$out" | tail -1)" = 1
check "temp: nothing reached the real TMPDIR" test -z "$(ls -A "$T/usertmp")"
check "temp: nothing reached the real cache directory" test -z "$(ls -A "$T/usercache")"
out=$(TMP=$T/usertmp TEMP=$T/other run -- /bin/sh -c 'touch "$TMP/x" "$TEMP/y" && echo ok' 2>&1)
check "temp: TMP and TEMP too" test "$out" = ok
# Getting around it: a TMPDIR that is the home or / is not turned into
# an empty tmpfs (it would hide the user's files); the home stays readable.
out=$(TMPDIR=$H run -- /bin/cat "$H/notes.txt" 2>&1)
check "temp: TMPDIR=\$HOME does not hide the home" test "$out" = visible
out=$(TMPDIR=/ run -- /bin/cat /etc/hostname 2>&1)
check "temp: TMPDIR=/ does not hide the file system" test "$out" = "$(cat /etc/hostname)"
# A TMPDIR inside a masked tree stays masked.
out=$(TMPDIR=$H/.ssh run -- /bin/sh -c 'cat "$TMPDIR/id_rsa" 2>/dev/null || echo masked' 2>&1)
check "temp: a TMPDIR inside a mask does not unmask it" test "$out" = masked
# Forced agent with TMPDIR elsewhere.
out=$(TMPDIR=$T/usertmp in_scope "$(FAKE)" -c 'd=$(mktemp -d) && echo x > $d/f && echo forced-tmp-ok' 2>/dev/null)
check "temp: a forced agent's mktemp -d under TMPDIR works" test "$out" = forced-tmp-ok
check "temp: ... and left nothing in the real one" test -z "$(ls -A "$T/usertmp")"

# --- the agent's own program -------------------------------------------
# Under /tmp (private in a session): a "node" and its package there.
out=$(run -- "$T/bin/node" "$T/proj/node_modules/@fake/mcp-thing/dist/index.js" hi 2>&1)
check "program: an interpreter and its script under /tmp stay reachable" test "$out" = "mcp-server hi"
out=$(run -- "$T/bin/node" -c "cat $T/home/notes.txt 2>/dev/null || echo hidden" 2>&1)
check "program: ... but the rest of /tmp stays private" test "$out" = hidden
out=$(in_scope "$(FAKE)" -c "test -x $T/opt/fakeagent/bin/fake-agent && echo self-visible; ls $T/ws >/dev/null 2>&1 && echo ws-visible" 2>&1)
check "program: a forced agent under /tmp finds its own executable" grep -qx self-visible <<<"$out"
check "program: ... and its workspace" grep -qx ws-visible <<<"$out"

# --- workspace edge cases ----------------------------------------------
out=$(cd / && run -- /bin/sh -c 'pwd; touch /x 2>/dev/null || echo ro' 2>"$T/err")
check "workspace: run from / works (no workspace, read-only)" test "$out" = "$(printf '/\nro')"
check "workspace: ... and says so" grep -q 'no workspace' "$T/err"
run --workspace / -- /bin/true 2>"$T/err"
rc=$?
check "workspace: --workspace / refused (125)" test $rc = 125
check "workspace: ... naming the option to use" grep -q -- '--workspace DIR' "$T/err"
run --workspace "$T" -- /bin/true 2>"$T/err"
check "workspace: a tree that holds the session store is refused" test $? = 125
check "workspace: ... with a clear error" grep -q "holds agentwall's session store" "$T/err"
mkdir -p "$T/my ws"
out=$(cd "$T/other" && run --workspace "$T/my ws" -- /bin/sh -c 'pwd; echo spaced > "file one"' 2>/dev/null)
check "workspace: --workspace DIR is the working directory" test "$out" = "$T/my ws"
S=$(latest)
check "workspace: a path with spaces: the write is in the session's diff" \
	sh -c "'$AW' --state-dir '$STATE' diff $S | grep -qx '+spaced'"
check "workspace: ... and not in the real tree" test ! -e "$T/my ws/file one"
out=$(cd "$T/ws" && run --workspace "$T/ws" -- /bin/sh -c 'cd /; cd - >/dev/null; pwd' 2>&1)
check "workspace: started inside the workspace, stays there" test "$out" = "$T/ws"
out=$(run --workspace "$H" -- /bin/sh -c 'echo h > "$HOME/new.txt" && pwd' 2>/dev/null)
check "workspace: the home as workspace works" test "$out" = "$H"
check "workspace: ... its write stays in the session" test ! -e "$H/new.txt"
run --workspace "$T/nonexistent" -- /bin/true 2>"$T/err"
check "workspace: a missing one is refused with its name" grep -q nonexistent "$T/err"

# --- inherited descriptors ---------------------------------------------
exec 3<"$H/.ssh" 4>>"$T/other/append.log" 5<"$H/.ssh/id_rsa"
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
c, _ = s.accept(); data = c.recv(100)
open(sys.argv[2], "wb").write(data)' "$T/port" "$T/received" &
LPID=$!
wait_for test -s "$T/port"
exec 6<>/dev/tcp/127.0.0.1/$(cat "$T/port")
out=$(run -- /bin/sh -c '
	cat <&3 >/dev/null 2>&1 && echo dirfd-open || echo dirfd-closed
	ls /proc/self/fd/3/ 2>/dev/null | grep -q id_rsa && echo dirfd-reads
	echo appended >&4 2>/dev/null && echo appendfd-open || echo appendfd-closed
	cat <&5 2>/dev/null | grep -q KEY && echo keyfd-reads || echo keyfd-closed
	echo exfil >&6 2>/dev/null && echo sock-open || echo sock-closed' 2>/dev/null)
check "fds: a directory fd is not inherited" grep -qx dirfd-closed <<<"$out"
check "fds: ... nothing reads the masked tree through it" bash -c "! grep -q dirfd-reads <<<'$out'"
check "fds: an O_APPEND file fd is not inherited" grep -qx appendfd-closed <<<"$out"
check "fds: ... and nothing was appended" test ! -s "$T/other/append.log"
check "fds: an fd of the masked key is not inherited" grep -qx keyfd-closed <<<"$out"
check "fds: a connected TCP socket is not inherited" grep -qx sock-closed <<<"$out"
out=$(in_scope "$(FAKE)" -c 'echo exfil >&6 2>/dev/null && echo sock-open || echo sock-closed
	cat <&5 2>/dev/null | grep -q KEY && echo keyfd-reads || echo keyfd-closed' 2>/dev/null)
check "fds: forced: a connected socket is not inherited" grep -qx sock-closed <<<"$out"
check "fds: forced: an fd of the masked key is not inherited" grep -qx keyfd-closed <<<"$out"
exec 6>&-
kill "$LPID" 2>/dev/null; wait "$LPID" 2>/dev/null
check "fds: the listener received nothing" test ! -s "$T/received"
out=$(run --keep-fd 4 -- /bin/sh -c 'echo kept >&4 && echo ok' 2>&1)
check "fds: --keep-fd keeps one the user passes" test "$out" = ok -a "$(cat "$T/other/append.log")" = kept
out=$(run --keep-fd 5 -- /bin/sh -c 'cat <&5' 2>/dev/null)
check "fds: --keep-fd of a masked file: checked, replaced by /dev/null" test -z "$out"
exec 3<&- 4>&- 5<&-
out=$(run -- /bin/cat < "$H/.ssh/id_rsa" 2>/dev/null)
check "fds: stdin redirected from a masked file reads nothing" test -z "$out"
out=$(run -- /bin/sh -c 'ls /proc/self/fd/0/ 2>/dev/null | grep -c id_rsa' < "$H/.ssh" 2>/dev/null)
check "fds: a directory on stdin is replaced" test "$out" = 0
check "fds: the session's notice says what was replaced" \
	wait_for grep -q '"action":"notice".*descriptor 0 is a directory: replaced by /dev/null' "$T/export.jsonl"
out=$(echo piped | run -- /bin/cat 2>&1)
check "fds: a pipe on stdin passes" test "$out" = piped

# --- /dev --------------------------------------------------------------
out=$(run -- /bin/ls /dev 2>&1 | tr '\n' ' ')
check "dev: a minimal /dev" test "$out" = "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero "
loopdev=$(losetup -f 2>/dev/null || echo /dev/loop0)
out=$(run -- /bin/sh -c "head -c 1 $loopdev >/dev/null 2>&1 && echo readable || echo refused" 2>&1)
check "dev: a root agent cannot reach loop devices" test "$out" = refused
root_dev=$(awk '$5 == "/" { print $3 }' /proc/self/mountinfo | head -1)
out=$(run -- /bin/sh -c 'for d in /dev/sd* /dev/vd* /dev/nvme* /dev/mem /dev/kmsg; do [ -e "$d" ] && echo "$d"; done; echo end' 2>&1)
check "dev: no disks, memory or kernel log" test "$out" = end
out=$(run -- python3 -c 'import os; os.mknod("/tmp/blk", 0o600 | 0o60000, os.makedev(7, 0)); open("/tmp/blk","rb").read(1); print("read")' 2>&1)
check "dev: a block node made in the session does not open" bash -c "! grep -qx read <<<'$out'"
out=$(run -- /bin/sh -c 'echo x > /dev/null && head -c 4 /dev/urandom | wc -c' 2>&1)
check "dev: null and urandom work" test "$out" = 4
out=$(run -- python3 -c 'import os, pty; m, s = pty.openpty(); print(os.ttyname(s))' 2>&1)
check "dev: a pty can be made (its own devpts)" grep -q '^/dev/pts/' <<<"$out"
out=$(run -- /bin/sh -c 'ls /dev/pts | grep -c "^[0-9]"' 2>&1)
check "dev: the host's terminals are not there" test "$out" = 0
out=$(run -- /bin/sh -c 'touch /dev/evil 2>/dev/null && echo wrote || echo ro' 2>&1)
check "dev: /dev is read-only" test "$out" = ro
out=$(run -- /bin/sh -c 'echo x > /dev/shm/s && cat /dev/shm/s' 2>&1)
check "dev: /dev/shm is writable" test "$out" = x

# --- an ordinary user --------------------------------------------------
mkdir -p "$T/uhome" "$T/uws" "$T/utmp"; chown -R nobody: "$T/uhome" "$T/uws" "$T/utmp"
exec 3<"$T/uhome"
out=$(cd "$T/uws" && HOME=$T/uhome TMPDIR=$T/utmp in_scope setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$AW" --state-dir "$STATE" run -- /bin/sh -c '
	d=$(mktemp -d) && echo ok > "$d/f" && cat "$d/f"
	ls /proc/self/fd/3 >/dev/null 2>&1 && echo fd3-open || echo fd3-closed
	ls /dev | wc -l' 2>&1)
exec 3<&-
check "user: mktemp under its TMPDIR works" grep -qx ok <<<"$out"
check "user: an inherited directory fd is closed" grep -qx fd3-closed <<<"$out"
check "user: the minimal /dev" test "$(echo "$out" | tail -1)" = 13
check "user: nothing reached its real TMPDIR" test -z "$(ls -A "$T/utmp")"

# --- secrets that appear during the session ----------------------------
mkdir -p "$H/.config"
echo "user config" > "$H/.config/user.conf"
run --policy coding-agent --workspace "$T/ws" -- /bin/sh -c '
	for i in $(seq 40); do
		cat ~/.aws/credentials ~/.kube/config ~/.config/gcloud/token 2>/dev/null
		[ -e "$HOME/.late-ready" ] && break
		sleep 0.1
	done
	cat ~/.config/user.conf; echo end' > "$T/late.out" 2>/dev/null &
RP=$!
sleep 1
mkdir -p "$H/.aws" "$H/.kube" "$H/.config/gcloud"
echo "AWS SECRET" > "$H/.aws/credentials"; echo "KUBE SECRET" > "$H/.kube/config"
echo "GCLOUD SECRET" > "$H/.config/gcloud/token"; touch "$H/.late-ready"
wait $RP
check "later: a secret created during the session is not read (~/.aws, ~/.kube, ~/.config/gcloud)" \
	bash -c "! grep -q SECRET '$T/late.out'"
check "later: ... the rest of the home still reads" grep -qx "user config" "$T/late.out"
S=$(latest)
aw diff "$S" > "$T/late.diff" 2>&1
check "later: the masks made ahead are no change to review" bash -c "! grep -qE 'aws|kube|gcloud|\.config' '$T/late.diff'"
aw commit "$S" > /dev/null 2>&1
check "later: committing the session does not delete the user's new secrets" \
	test -f "$H/.aws/credentials" -a -f "$H/.kube/config" -a -f "$H/.config/gcloud/token"
rm -rf "$H/.aws" "$H/.kube" "$H/.config/gcloud" "$H/.late-ready"
# Outside a copy-on-write tree (default policy: the home read-only) the
# session says what it cannot cover.
run -- /bin/true 2>/dev/null
check "later: the notice says which absent masks are not covered" \
	wait_for grep -q 'absent at start outside a copy-on-write tree' "$T/export.jsonl"

# --- other ABIs: refused and recorded ------------------------------------
cp "$TESTPROC" "$T/ws/testproc"
# (LeakSanitizer, in the sanitizer build's helper, needs ptrace: refused
# in a session, as it should be.)
out=$(ASAN_OPTIONS=detect_leaks=0 run -- "$T/ws/testproc" abis 2>&1)
check "abi: an i386 ptrace (int 0x80) is refused, the agent lives on" grep -qx 'i386:-1' <<<"$out"
check "abi: an x32 call is refused" grep -qx 'x32:-1' <<<"$out"
check "abi: the i386 call is recorded with its ABI" \
	wait_for events action=syscall decision=deny rule=default/seccomp.abi 'target=ptrace (i386)'
check "abi: the x32 call is recorded with its ABI" \
	wait_for events action=syscall decision=deny rule=default/seccomp.abi 'target=getpid (x32)'
out=$(ASAN_OPTIONS=detect_leaks=0 in_scope "$(FAKE)" -c "'$T/ws/testproc' abis" 2>/dev/null)
check "abi: forced: refused too" grep -qx 'i386:-1' <<<"$out"
check "abi: forced: recorded" \
	wait_for events action=syscall decision=deny rule=coding-agent/seccomp.abi 'target=ptrace (i386)'

# --- an ordinary user reads its own sessions and events, not others' ----
mkdir -p "$T/uws2"; chown nobody: "$T/uws2"
(cd "$T/uws2" && in_scope setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$AW" --state-dir "$STATE" run -- /bin/sh -c 'echo mine > f; kill -9 1 2>/dev/null; true' 2>/dev/null)
US=$(aw sessions | awk 'NR > 1 { id = $1 } END { print id }')
asuser() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$AW" --state-dir "$STATE" "$@"; }
wait_for events action=session-end session="$US" >/dev/null
sleep 0.5
asuser log > "$T/ulog.out" 2>&1
check "user log: an ordinary user reads its own session's events" grep -q "$US" "$T/ulog.out"
asuser log --json --session "$US" > "$T/ulog.json" 2>&1
check "user log: --json rows are JSON" python3 -c "import json,sys; [json.loads(l) for l in open(sys.argv[1])]" "$T/ulog.json"
OTHER=$(events action=session-start --field session | head -1)
ROOTS=$(aw sessions | awk 'NR > 1 && $NF !~ /dash -c echo mine/ { print $1 }' | head -3)
check "user log: ... never root's sessions" bash -c "! grep -qE '$OTHER$(printf '|%s' $ROOTS)' '$T/ulog.out'"
check "user log: asking for root's session by id gives nothing" test -z "$(asuser log --session "$OTHER" 2>&1)"
asuser sessions > "$T/usess.out" 2>&1
check "user sessions: its own session listed" grep -q "^$US" "$T/usess.out"
check "user sessions: ... and none of root's" bash -c "! grep -qE '$OTHER$(printf '|%s' $ROOTS)' '$T/usess.out'"
check "user diff: it reads its own session's diff" bash -c "'$AW' --state-dir '$STATE' diff $US >/dev/null 2>&1 && setpriv --reuid=nobody --regid=nogroup --clear-groups '$AW' --state-dir '$STATE' diff $US | grep -qx +mine"
check "user diff: not another's" bash -c "! setpriv --reuid=nobody --regid=nogroup --clear-groups '$AW' --state-dir '$STATE' diff $OTHER >/dev/null 2>&1"

# --- telling the person at the terminal -------------------------------
run --workspace "$T/ws" -- /bin/sh -c 'echo edited > a.txt; echo new > b.txt' 2>"$T/err"
S=$(latest)
check "tell: a run session's end says how many changes it kept" \
	grep -q "agentwall: session $S kept 2 changes out of your tree" "$T/err"
check "tell: ... with the exact commands to review them" \
	grep -qF "\`agentwall --state-dir $STATE diff $S\`" "$T/err"
run --workspace "$T/ws" -- /bin/sh -c 'echo quiet' 2>"$T/err" >/dev/null
check "tell: no changes, no line" test ! -s "$T/err"
in_scope "$(FAKE)" -c 'echo forced-edit > a.txt' 2>"$T/err"
check "tell: a forced agent's first line says it runs in a session" \
	bash -c "head -1 '$T/err' | grep -q '^agentwall: Fake Agent runs in session [0-9a-f]* (policy coding-agent)'"
check "tell: ... and its last the change it kept" grep -q "kept 1 change out of your tree" "$T/err"
check "tell: the real file is untouched" test "$(cat "$T/ws/a.txt")" = original
# A policy can say nothing (process.notify: false).
stop_daemon
P=$T/policies; mkdir -p "$P"; cp "$AW_ROOT"/policies/*.yaml "$P/"
printf 'process:\n  notify: false\n' >> "$P/coding-agent.yaml"
start_daemon --signatures "$T/sigs" --mode enforce --policies "$P" || nok "daemon with a quiet policy"
in_scope "$(FAKE)" -c 'echo forced-edit > a.txt' 2>"$T/err"
check "tell: process.notify false: nothing on the terminal" test ! -s "$T/err"
printf 'version: 1\nid: quiet\nextends: default\nprocess:\n  notify: maybe\n' > "$T/quiet.yaml"
"$AW" policy check "$T/quiet.yaml" > "$T/pc.out" 2>&1
check "tell: a bad notify value is refused with its place" grep -q "quiet.yaml:5:11: 'notify' must be true or false" "$T/pc.out"

stop_daemon
