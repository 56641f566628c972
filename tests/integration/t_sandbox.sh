#!/bin/bash
# `agentwall run`: the session sandbox (namespaces, copy-on-write, masks,
# Landlock, seccomp), each rule allowed and denied, and escapes tried.
. "$(dirname "$0")/../lib.sh"
make_fake_agent
start_daemon --signatures "$T/sigs" || { nok "daemon starts"; exit 1; }

# A user's world: home with secrets, a workspace, a session bus socket.
H=$T/home
mkdir -p "$H/.ssh" "$H/.aws" "$T/ws/src" "$T/run"
echo "PRIVATE KEY" > "$H/.ssh/id_rsa"
echo "[default]" > "$H/.aws/credentials"
echo "export PS1=x" > "$H/.bashrc"
echo "original" > "$T/ws/a.txt"
echo "TOKEN=secret" > "$T/ws/.env"
# `**/.env` anywhere in the workspace: deep in the project, and inside a
# dependency tree (walked after the rest of the project).
mkdir -p "$T/ws/app/config" "$T/ws/node_modules/pkg/lib" "$T/ws/pub"
echo "TOKEN=deep" > "$T/ws/app/config/.env"
echo "TOKEN=dep" > "$T/ws/node_modules/pkg/lib/.env"
echo "public" > "$T/ws/pub/env"
echo "int main(){}" > "$T/ws/src/m.c"
# The escape helper from the workspace: the tree may live under /tmp,
# which is private in a session.
cp "$AW_ROOT/tests/helpers/escape.py" "$T/ws/escape.py"
ESC="python3 $T/ws/escape.py"
python3 -c '
import socket, os, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8)
a = socket.socket(socket.AF_UNIX); a.bind("\0aw-test-abstract-'"$ID"'"); a.listen(8)
open(sys.argv[2], "w").write(str(os.getpid()))
time.sleep(600)' "$T/run/bus" "$T/bus.pid" &
BUS=$!
wait_for test -S "$T/run/bus"
export HOME=$H XDG_RUNTIME_DIR=$T/run
cd "$T/ws"

# The coding-agent template (what a classified coding agent gets); an
# unclassified command gets the stricter default, checked below.
run() { in_scope "$AW" --state-dir "$STATE" run --policy coding-agent --workspace "$T/ws" -- "$@"; }
# denied CMD...: CMD ran in its session and was refused: it failed with
# its own status, not the launcher's (125) or exec's (126, 127).
denied() { "$@" >/dev/null 2>&1; local rc=$?; [ $rc -ge 1 ] && [ $rc -le 124 ]; }

# --- the session itself ------------------------------------------------
out=$(run /bin/echo hello 2>"$T/err")
check "run: the command runs and its output passes through" test "$out" = hello
run /bin/sh -c 'exit 7'
check "run: exit status passed through" test $? = 7
run /bin/sh -c 'kill -TERM $$'
check "run: death by signal reproduced (143)" test $? = 143
check "run: a sandbox event names the policy" \
	wait_for events action=sandbox rule=run/coding-agent
in_scope "$AW" --state-dir "$STATE" run -- /bin/true
check "run: an unclassified command gets the strict default policy" \
	wait_for events action=sandbox rule=run/default
in_scope "$AW" --state-dir "$STATE" run -- "$(FAKE)" -c 'true'
check "run: the command classified by signature gets its agent id and policy" \
	wait_for events action=sandbox agent.id=test.fake-agent rule=run/coding-agent
out=$(run /bin/sh -c 'echo $$; ls /proc | grep -c "^[0-9]"')
check "run: own pid namespace (the command is pid 2, few processes)" \
	test "$(echo "$out" | head -1)" = 2 -a "$(echo "$out" | tail -1)" -le 4
check "run: another process's /proc/PID is not there" \
	denied run test -e /proc/$DAEMON_PID/status
# The kernel's settings under the session's own /proc are the host's:
# read-only, also for a root session (its uid 0 is the host's, and the
# owner's check on /proc/sys needs no capability: kernel.core_pattern
# would run a program as host root). Each write puts back the value read.
out=$(run /usr/bin/python3 -c '
import errno, os
for p in ("/proc/sys/kernel/core_pattern", "/proc/sys/kernel/hostname", "/proc/sys/fs/protected_hardlinks"):
    try:
        cur = open(p).read()
        fd = os.open(p, os.O_WRONLY)
        os.write(fd, cur.encode())
        os.close(fd)
        print(p, "written")
    except OSError as e:
        print(p, errno.errorcode.get(e.errno))
' 2>&1)
check "run (root): /proc/sys is read-only in the session ($(echo $out | tr '\n' ' '))" \
	test "$(grep -c ' EROFS$' <<<"$out")" = 3
check "  ... and still readable" run grep -q . /proc/sys/kernel/hostname
check "run (root): /etc/shadow is masked (the host's password hashes)" \
	denied run grep -q root /etc/shadow
check "  ... (readable outside)" grep -q root /etc/shadow
run cat /proc/self/cgroup > "$T/cg.out"
check "run: its own cgroup namespace (its cgroup is its root)" grep -qx '0::/' "$T/cg.out"
run sleep 1 &
SLEEPER=$!
sleep 0.5
# (On this hybrid host the session's cgroup is in the v1 pids hierarchy,
# where its limit lives; see docs/sandbox.md.)
SCG="$CG/agentwall-sessions/s-* /sys/fs/cgroup/pids/agentwall-$ID/s-*"
check "run: the session has its own cgroup" sh -c "ls -d $SCG 2>/dev/null | grep -q ."
wait $SLEEPER
check "  ... removed when the session ends" \
	wait_for sh -c "! ls -d $SCG 2>/dev/null | grep -q ."

HOME=$T/no-such-home run /bin/true
check "run: what a session does not get is said (a grant skipped: notice event)" \
	wait_for events action=notice rule=coding-agent/sandbox "detail=coding-agent/home: $T/no-such-home*"

# --- copy-on-write workspace -------------------------------------------
out=$(run /bin/sh -c 'echo changed > a.txt; echo new > b.txt; mkdir d; cat a.txt')
check "cow: the session sees its own edit" test "$out" = changed
check "cow: the real file is untouched" test "$(cat "$T/ws/a.txt")" = original
check "cow: a created file does not reach the real tree" test ! -e "$T/ws/b.txt"
check "cow: the edit landed in the session store" \
	sh -c "grep -rqs changed $STATE/sessions/*/fs/upper/"
run /bin/sh -c 'rm a.txt; mv src src2'
check "cow: delete and rename inside leave the real tree intact" \
	test -f "$T/ws/a.txt" -a -d "$T/ws/src" -a ! -e "$T/ws/src2"
out=$(run /bin/sh -c 'echo x >> ~/.bashrc && tail -1 ~/.bashrc')
check "cow: home is copy-on-write (a shell rc edit stays in the session)" \
	test "$out" = x -a "$(tail -1 "$H/.bashrc")" = "export PS1=x"

# --- read-only outside the grants ----------------------------------------
check "ro: /etc is read-only" denied run sh -c 'echo x > /etc/agentwall-test'
check "ro: /usr is read-only" denied run touch /usr/agentwall-test
check "ro: cron/systemd persistence is not writable" \
	denied run sh -c 'mkdir -p /etc/cron.d && echo x > /etc/cron.d/aw-test'
test ! -e /etc/agentwall-test -a ! -e /usr/agentwall-test -a ! -e /etc/cron.d/aw-test
check "ro: nothing reached the real /etc or /usr" test $? = 0
# (a name of this test's own: the host's /tmp may hold anything)
TMPNAME=/tmp/aw-private-$ID
out=$(run /bin/sh -c "echo t > $TMPNAME && cat $TMPNAME")
check "tmpfs: /tmp is private and writable" test "$out" = t -a ! -e "$TMPNAME"

# --- secrets -------------------------------------------------------------
check "outside the session the key is readable" $ESC read "$H/.ssh/id_rsa"
check "secrets: ~/.ssh/id_rsa unreadable" denied run $ESC read $H/.ssh/id_rsa
check "secrets: ~/.aws unreadable" denied run $ESC read $H/.aws/credentials
check "secrets: ~/.ssh listing shows nothing" \
	test -z "$(run ls -A "$H/.ssh" 2>/dev/null)"
check "secrets: .env in the workspace unreadable" denied run $ESC read $T/ws/.env
check "secrets: a .env deep in the project unreadable" denied run $ESC read $T/ws/app/config/.env
check "secrets: a .env inside node_modules unreadable" denied run $ESC read $T/ws/node_modules/pkg/lib/.env
check "  ... while a file merely near the name stays readable" test "$(run cat "$T/ws/pub/env" 2>/dev/null)" = public
# The walk for **/.env remembers each directory while its ctime holds
# (the cache lives in the daemon's state directory, masked in sessions).
WC=$(ls "$STATE"/walk/0/* 2>/dev/null | head -1)
check "walk cache: kept in the state directory, the user's own (0700)" \
	test -n "$WC" -a "$(stat -c %a "$STATE/walk/0")" = 700 -a "$(stat -c %a "$STATE/walk")" = 711
check "  ... a session cannot see it" denied run $ESC read "$WC"
# Changes after the cache was made are seen at the next start.
mkdir -p "$T/ws/app/late" "$T/moved/inner"
echo "TOKEN=new" > "$T/ws/app/config/new-sibling"; mv "$T/ws/app/config/new-sibling" "$T/ws/app/late/.env"
echo "TOKEN=moved" > "$T/moved/inner/.env"; mv "$T/moved" "$T/ws/app/moved"
echo "TOKEN=dep2" > "$T/ws/node_modules/pkg/.env"
echo "TOKEN=pub" > "$T/ws/pub/.env"
# (a directory changed in the last two seconds is read, not remembered:
# its ctime may not move for a change in the same tick; walk.c)
sleep 3
check "walk cache: a .env made in a directory after the cache, masked" denied run $ESC read $T/ws/app/late/.env
check "  ... one moved in with its directory, masked" denied run $ESC read $T/ws/app/moved/inner/.env
check "  ... one added inside node_modules, masked" denied run $ESC read $T/ws/node_modules/pkg/.env
check "  ... one added to a directory the cache knew, masked" denied run $ESC read $T/ws/pub/.env
check "  ... the ones found before still masked" denied run $ESC read $T/ws/app/config/.env
walk=$(AW_STAGES=1 run /bin/true 2>&1 >/dev/null | grep '^WALK .env' | tail -1)
echo "# $walk"
check "walk cache: an unchanged workspace is walked from the cache (no directory read)" \
	grep -qE 'read=0 cached=[1-9][0-9]* found=7' <<<"$walk"
# A cache file that is not ours, or not a cache, is not believed.
printf 'AWWALK1\ngarbage' > "$WC"
check "walk cache: a corrupt cache is ignored (.env still masked)" denied run $ESC read $T/ws/app/config/.env
run /bin/true
printf 'AWWALK1\n%s' "$(head -c 64 /dev/zero | tr '\0' 'x')" > "$WC"; chown nobody "$WC"
check "walk cache: a cache file of another owner is ignored" denied run $ESC read $T/ws/app/config/.env
out=$(run /bin/sh -c 'echo id > ~/.ssh/authorized_keys' 2>&1)
check "persist: ~/.ssh/authorized_keys cannot be written" \
	test "$(cat "$H/.ssh/authorized_keys" 2>/dev/null)" = ""
# Escapes to the same file by other names.
ln -s "$H/.ssh/id_rsa" "$T/ws/link-to-key"
ln -s "$T/ws/a.txt" "$T/ws/link-to-a"
check "control: a symlink to a workspace file reads" run $ESC read "$T/ws/link-to-a"
check "escape: a symlink into ~/.ssh" denied run $ESC read $T/ws/link-to-key
check "escape: /proc/self/root path" denied run $ESC read /proc/self/root$H/.ssh/id_rsa
check "control: openat2 of a workspace file" run $ESC openat2 "$T/ws/a.txt"
check "escape: openat2" denied run $ESC openat2 $H/.ssh/id_rsa
check "control: O_PATH + reopen of a workspace file" run $ESC opath-reopen "$T/ws/a.txt"
check "escape: O_PATH then reopen through /proc/self/fd" denied run $ESC opath-reopen $H/.ssh/id_rsa
check "escape: hard link made inside the session" \
	denied run sh -c "ln $H/.ssh/id_rsa $T/ws/hl && cat $T/ws/hl"
ln "$H/.ssh/id_rsa" "$T/ws/planted-hardlink"
ln "$T/ws/a.txt" "$T/ws/hardlink-to-a"
check "control: a hard link to a workspace file reads" run $ESC read "$T/ws/hardlink-to-a"
check "escape: a hard link into ~/.ssh planted before the session" \
	denied run $ESC read "$T/ws/planted-hardlink"
rm -f "$T/ws/planted-hardlink" "$T/ws/hardlink-to-a"
check "escape: rename of the masked parent" \
	denied run sh -c "mv $H/.ssh $H/s2 && cat $H/s2/id_rsa"
check "control: memfd + execveat runs (reads a workspace file)" \
	run $ESC memfd-exec /bin/cat "$T/ws/a.txt"
check "escape: memfd + execveat of a reader" \
	denied run $ESC memfd-exec /bin/cat $H/.ssh/id_rsa
check "control: LD_PRELOAD set, a workspace file reads" \
	run env LD_PRELOAD=/lib/x86_64-linux-gnu/libc.so.6 cat "$T/ws/a.txt"
check "escape: LD_PRELOAD does not lift the mask" \
	denied run env LD_PRELOAD=/lib/x86_64-linux-gnu/libc.so.6 cat $H/.ssh/id_rsa
cat > "$T/ws/thread.py" <<PY
import threading, sys
r = [0]
def f():
    try:
        open("$H/.ssh/id_rsa").read(); r[0] = 0
    except OSError:
        r[0] = 1
t = threading.Thread(target=f); t.start(); t.join(); sys.exit(r[0])
PY
check "escape: a thread of the process is confined too" denied run python3 "$T/ws/thread.py"
check "  ... (the same script outside reads the key)" python3 "$T/ws/thread.py"

# --- orchestration sockets -------------------------------------------------
# A vsock reaches the hypervisor (or the WSL host) past every network
# rule: refused (socket-families), and recorded; a Unix socketpair stays.
VS='import socket, sys
try:
    socket.socket(40, socket.SOCK_STREAM).close(); print("made")
except OSError as e:
    print(e.errno)'
if [ "$(python3 -c "$VS")" = made ]; then
	check "ipc: an AF_VSOCK socket is refused in a session ($(run python3 -c "$VS" 2>&1))" \
		test "$(run python3 -c "$VS" 2>&1)" = 1
	check "  ... recorded under socket-families" \
		wait_for events action=syscall decision=deny rule=coding-agent/seccomp.socket-families
else
	skip "ipc: an AF_VSOCK socket is refused in a session" "this kernel has no vsock transport outside either"
fi
check "ipc: a Unix socketpair still works" \
	run python3 -c 'import socket; a, b = socket.socketpair(); a.send(b"x"); assert b.recv(1) == b"x"'
check "outside: the session bus accepts connections" $ESC connect "$T/run/bus"
check "ipc: the session bus socket is hidden" denied run $ESC connect $T/run/bus
check "ipc: abstract sockets outside the session refused (Landlock scope)" \
	denied run $ESC connect-abstract aw-test-abstract-$ID
check "ipc: agentwall's control socket is hidden" \
	denied run $ESC connect $STATE/agentwalld.sock
check "self: agentwall's state is masked" denied run ls $STATE/events.db

# --- other processes ---------------------------------------------------------
check "process: signal to a process outside (pid not visible)" \
	denied run $ESC kill $BUS
check "control: signalling a process of the session works" run $ESC kill 1
check "process: ptrace refused" denied run $ESC ptrace 1
check "process: process_vm_readv refused" denied run $ESC process_vm 1

# --- seccomp: each denial is an event ----------------------------------------
for t in io_uring bpf keyctl unshare-user mount perf; do
	check "seccomp: $t refused" denied run $ESC $t
done
check "outside the scope the same syscalls work (io_uring)" $ESC io_uring
check "outside the scope the same syscalls work (unshare -U)" $ESC unshare-user
check "deny events name the session, process and rule" \
	wait_for events action=syscall decision=deny target=io_uring_setup 'rule=coding-agent/seccomp.io-uring'
check "  ... for ptrace too" wait_for events action=syscall decision=deny 'rule=coding-agent/seccomp.ptrace'
n=$(aw log --decision deny --json | grep -c '"decision":"deny"')
check "agentwall log --decision deny lists them" test "$n" -ge 6

# --- sandboxes inside ours -------------------------------------------------
if command -v bwrap >/dev/null; then
	check "nested: bubblewrap inside the session cannot build its own namespaces" \
		denied run bwrap --ro-bind / / true
else
	skip "nested: bubblewrap" "bwrap not installed"
fi
check "nested: the agent's own Landlock domain works inside ours" run $ESC landlock

# --- leaving -----------------------------------------------------------------
run /bin/sh -c 'setsid sleep 31.5 </dev/null >/dev/null 2>&1 & sleep 0.2'
check "leave: a daemonized child ends with the session" \
	wait_for sh -c "! pgrep -fx 'sleep 31.5' >/dev/null"
check "leave: cannot move itself out of its cgroup" \
	denied run sh -c 'echo $$ > /sys/fs/cgroup/unified/cgroup.procs'
check "leave: setuid helpers do not elevate (no_new_privs)" \
	test "$(run sh -c 'grep NoNewPrivs /proc/self/status' | awk '{print $2}')" = 1

# --- the daemon killed while a session runs -----------------------------
run /bin/sh -c "sleep 1.5; $ESC read $H/.ssh/id_rsa > $T/ws/late 2>&1; echo late >> a.txt" &
RUNPID=$!
sleep 0.5
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=""
wait $RUNPID
check "daemon killed: the running session stays confined" \
	test "$(cat "$T/ws/a.txt")" = original -a ! -e "$T/ws/late"
check "daemon killed: without a daemon, run refuses to start anything" \
	test "$(run /bin/true 2>/dev/null; echo $?)" = 125
start_daemon --signatures "$T/sigs" || nok "daemon restarts"
check "restart: the killed daemon's empty session cgroups are removed" \
	sh -c "! ls -d $SCG 2>/dev/null | grep -q ."

# --- an ordinary user --------------------------------------------------------
mkdir -p "$T/uhome" "$T/uws"; chown -R nobody: "$T/uhome" "$T/uws"
chmod 755 "$T"
out=$(cd "$T/uws" && in_scope setpriv --reuid=nobody --regid=nogroup --clear-groups \
	env HOME="$T/uhome" "$AW" --state-dir "$STATE" run -- /bin/sh -c 'id -u; echo hi > f; cat f' 2>"$T/user.err")
echo "$out" | sed 's/^/# user: /'
check "user: an ordinary user runs a session" test "$(echo "$out" | tail -1)" = hi
check "user: as itself inside" test "$(echo "$out" | head -1)" = 65534
check "user: the write stayed in the session" test ! -e "$T/uws/f"
echo "TOKEN=u" > "$T/uws/.env"; chown nobody: "$T/uws/.env"
for _ in 1 2; do
	ucat=$(cd "$T/uws" && in_scope setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env HOME="$T/uhome" "$AW" --state-dir "$STATE" run -- cat .env 2>/dev/null)
done
check "user: .env masked, the second start from the walk cache" test -z "$ucat"
check "user: the user's walk cache is its own" test "$(stat -c %U "$STATE/walk/65534" 2>/dev/null)" = nobody -a -n "$(ls "$STATE/walk/65534")"
# The account's runtime directory is out of the session wherever
# XDG_RUNTIME_DIR points (su, sudo -E, an IDE's own value): its sockets
# (bus, agents, tmux) are not there. /run/user/65534 is made for this and
# removed, unless it was there already.
URT=/run/user/65534 made_urt=0
if [ ! -e "$URT" ]; then
	mkdir -p "$URT" && chown nobody: "$URT" && chmod 700 "$URT" && made_urt=1
fi
echo sock > "$URT/aw-test-$ID"; chown nobody: "$URT/aw-test-$ID"
mkdir -p "$T/urt"; chown nobody: "$T/urt"
seen=$(cd "$T/uws" && in_scope setpriv --reuid=nobody --regid=nogroup --clear-groups \
	env HOME="$T/uhome" XDG_RUNTIME_DIR="$T/urt" "$AW" --state-dir "$STATE" run -- \
	/bin/sh -c "test -e $URT/aw-test-$ID && echo visible || echo hidden" 2>/dev/null)
rm -f "$URT/aw-test-$ID"
[ $made_urt = 1 ] && rmdir "$URT"
check "user: XDG_RUNTIME_DIR elsewhere, the account's /run/user/UID is still hidden ($seen)" \
	test "$seen" = hidden

kill "$BUS" 2>/dev/null
cd /
stop_daemon
