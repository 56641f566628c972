#!/bin/bash
# Forced containment: in enforce mode an agent started outside any session
# (from a plain shell) is put into one before its first instruction,
# transparently; if that cannot be done it does not run.
. "$(dirname "$0")/../lib.sh"
make_fake_agent
H=$T/home
mkdir -p "$H/.ssh" "$T/ws"
echo "PRIVATE KEY" > "$H/.ssh/id_rsa"
echo original > "$T/ws/a.txt"
export HOME=$H
cd "$T/ws"

start_daemon --signatures "$T/sigs" --mode enforce ||
	{ nok "daemon starts in enforce mode"; exit 1; }

# The stand-in agent, started from a plain shell: argv, environment, cwd,
# fds and exit status are its own; it runs inside a session's sandbox.
exec 7>"$T/fd7"
out=$(in_scope env AW_PROBE=probe-value "$(FAKE)" -c '
	echo "argv:$0:$1"; echo "env:$AW_PROBE"; echo "cwd:$PWD"
	echo fd7 >&7
	cat ~/.ssh/id_rsa >/dev/null 2>&1 && echo "secret:readable" || echo "secret:masked"
	echo changed > a.txt; echo "pid1:$(cat /proc/1/comm)"
	exit 5' fake0 arg1 2>"$T/agent.err")
rc=$?
exec 7>&-
check "forced: exit status passes through" test $rc = 5
check "forced: argv is the agent's own" grep -qx 'argv:fake0:arg1' <<<"$out"
check "forced: environment kept" grep -qx 'env:probe-value' <<<"$out"
check "forced: cwd kept" grep -qx "cwd:$T/ws" <<<"$out"
check "forced: an inherited fd beyond stdio is closed (sealed session)" test ! -s "$T/fd7"
check "forced: secrets masked inside" grep -qx 'secret:masked' <<<"$out"
check "forced: its write did not reach the real tree" test "$(cat "$T/ws/a.txt")" = original
check "forced: it runs in its own pid namespace" grep -q '^pid1:' <<<"$out"
check "forced: a force event says it was sandboxed" \
	wait_for events action=force decision=sandbox rule=force/launcher
check "forced: the sandbox event names the agent's policy" \
	wait_for events action=sandbox rule=force/coding-agent agent.id=test.fake-agent
# Its changes are kept for review like a `run` session's, and committed.
FS=$(aw sessions | awk 'NR > 1 && / test\.fake-agent / { id = $1 } END { print id }')
check "forced: its session is kept for review (agentwall sessions)" test -n "$FS"
aw diff "$FS" > "$T/forced.diff" 2>&1
check "forced: its edit is in the session's diff" grep -qx '+changed' "$T/forced.diff"
aw commit "$FS" > /dev/null
check "forced: committed, the edit reaches the real tree" test "$(cat "$T/ws/a.txt")" = changed
echo original > "$T/ws/a.txt"
lat=$(events action=force decision=sandbox --field latency_us | head -1)
echo "# forcing took ${lat} us"

# Hostile argv and environment: newlines, invalid UTF-8, a 100 KiB value;
# all reach the forced agent byte for byte.
big=$(head -c 100000 /dev/zero | tr '\0' x)
in_scope env "AW_BIG=$big" "$(FAKE)" -c 'printf "%s" "$1" | od -An -tx1 | tr -d " \n"; echo; echo ${#AW_BIG}' \
	x "$(printf 'a\nb\xff\xfe')" > "$T/hostile.out" 2>"$T/hostile.err"
check "forced: argv with a newline and invalid UTF-8 kept byte for byte" \
	test "$(head -1 "$T/hostile.out")" = 610a62fffe
check "forced: a 100 KiB environment value kept" test "$(sed -n 2p "$T/hostile.out")" = 100000

# A child that renames itself stays in the session, and confined.
out=$(in_scope "$(FAKE)" -c 'exec python3 -c "
import ctypes; ctypes.CDLL(None).prctl(15, b\"innocent\", 0, 0, 0)
try:
    open(\"$HOME/.ssh/id_rsa\").read(); print(\"readable\")
except OSError:
    print(\"masked\")"' 2>/dev/null)
check "forced: a process that renames itself is still confined" test "$out" = masked

# Job control and terminal: the agent in the foreground of an interactive
# shell still reads its terminal (checked with a pty).
out=$(in_scope python3 - "$(FAKE)" <<'PY'
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "-c", "read x; echo got:$x"])
time.sleep(1.0)
os.write(fd, b"typed\n")
buf = b""
end = time.time() + 10
while time.time() < end:
    try:
        d = os.read(fd, 100)
    except OSError:
        break
    if not d:
        break
    buf += d
    if b"got:" in buf:
        break
print(buf.decode(errors="replace"))
os.waitpid(pid, 0)
PY
)
check "forced: the agent reads its controlling terminal" grep -q 'got:typed' <<<"$out"

# No window: a parent that spams SIGCONT at the agent it just exec'd
# (100 agents, each continued in a tight loop from its fork on) never
# gets it to run unconfined: each is either forced (and confined) or
# killed before its first instruction. Unconfined, the agent would copy
# the key outside, write a marker outside and connect to a loopback
# listener (which its policy does not allow in a session).
# (Under the sanitizer build a launcher's leak check at its exit stops
# its threads with ptrace, which 400,000 SIGCONTs a second keep from
# stopping: an agent forced between two of them then hangs there. Off
# for this storm; every other test keeps it.)
in_scope env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	python3 - "$(FAKE)" "$T" "$H" > "$T/spam.out" 2>&1 <<'PY'
import os, signal, socket, sys, time
fake, T, H = sys.argv[1:4]
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(256)
srv.setblocking(False)
port = srv.getsockname()[1]
script = (f"cat {H}/.ssh/id_rsa > {T}/leak.$$ 2>/dev/null; "
          f"echo ran > {T}/ran.$$ 2>/dev/null; "
          f"echo x 2>/dev/null > /dev/tcp/127.0.0.1/{port}; exit 3")
killed = forced = other = sent = 0
for i in range(100):
    pid = os.fork()
    if pid == 0:
        os.execv(fake, [fake, "-c", script])
    end = time.time() + 20
    st = None
    while True:
        try:
            os.kill(pid, signal.SIGCONT)
            sent += 1
        except ProcessLookupError:
            pass
        r, s = os.waitpid(pid, os.WNOHANG)
        if r:
            st = s
            break
        if time.time() > end:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            break
    if st is not None and os.WIFSIGNALED(st) and os.WTERMSIG(st) == 9:
        killed += 1
    elif st is not None and os.WIFEXITED(st) and os.WEXITSTATUS(st) == 3:
        forced += 1
    else:
        other += 1
conns = 0
while True:
    try:
        c, _ = srv.accept()
        conns += 1
        c.close()
    except BlockingIOError:
        break
print(f"killed={killed} forced={forced} other={other} conns={conns} sigcont={sent}")
PY
echo "# SIGCONT spam: $(cat "$T/spam.out")"
check "no window: 100 agents continued in a loop: none read the key outside" \
	test -z "$(cat "$T"/leak.* 2>/dev/null)"
check "  ... none wrote outside its session" test -z "$(ls "$T"/ran.* 2>/dev/null)"
check "  ... none connected out" grep -q ' conns=0 ' "$T/spam.out"
check "  ... each was killed or ran forced (none timed out)" grep -q ' other=0 ' "$T/spam.out"
check "  ... a continued one is recorded: who continued it, and that it was killed" \
	wait_for events action=force decision=deny rule=force/failed \
	--match 'detail=^continued \(signal 18\) by pid [0-9]+ \(python3, uid 0\) before the daemon held it: killed'
rm -f "$T"/leak.* "$T"/ran.*

# Already traced at exec (PTRACE_TRACEME): the daemon could not hold it,
# its tracer could run it: killed before its first instruction.
in_scope python3 - "$(FAKE)" "$T" > "$T/traced.out" 2>&1 <<'PY'
import ctypes, os, sys
fake, T = sys.argv[1:3]
libc = ctypes.CDLL(None)
pid = os.fork()
if pid == 0:
    libc.ptrace(0, 0, 0, 0)  # PTRACE_TRACEME
    os.execv(fake, [fake, "-c", f"echo ran > {T}/traced-ran"])
_, st = os.waitpid(pid, 0)
# (A tracee stops at exec with SIGTRAP, unless it is killed first.)
while os.WIFSTOPPED(st):
    libc.ptrace(7, pid, 0, 0)  # PTRACE_CONT
    _, st = os.waitpid(pid, 0)
print("signal", os.WTERMSIG(st) if os.WIFSIGNALED(st) else "-")
PY
check "traced at exec: killed, did not run" \
	test ! -e "$T/traced-ran" -a "$(cat "$T/traced.out")" = "signal 9"
check "  ... recorded as force/traced" wait_for events action=force decision=deny rule=force/traced

# Another tracer after the exec's stop, before the daemon's seize. With
# PTRACE_ATTACH (which sends SIGSTOP) the signal hook kills the agent
# first; with PTRACE_SEIZE + PTRACE_CONT no signal is involved and the
# agent may run until the daemon finds it traced (about 1 ms), kills it
# and names the tracer (docs/sandbox.md, "Another tracer after the stop").
# Either tracer can also win before the exec hook runs (/proc/PID/exe
# names the new image a moment before the hook): then the hook finds the
# agent already traced and kills it at exec (force/traced). Each way is
# run on its own, and only the records made during it count.
cat > "$T/tracer.py" <<'PY'
import ctypes, os, sys, time
fake, T, how = sys.argv[1:4]
req = {"attach": 16, "seize": 0x4206}[how]
libc = ctypes.CDLL(None, use_errno=True)
won = lost = leaked = 0
for i in range(20):
    pid = os.fork()
    if pid == 0:
        os.execv(fake, [fake, "-c", f"echo ran > {T}/tr-{how}.$$; exit 4"])
    # Wait for the exec (its image is the agent's), then race the daemon.
    while True:
        try:
            if os.readlink(f"/proc/{pid}/exe") == fake:
                break
        except OSError:
            pass
        # Forced and ended before its image was seen: the daemon won
        # (without this the loop never ends once the child is a zombie).
        if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
            break
    ok = False
    for _ in range(2000):
        if libc.ptrace(req, pid, 0, 0) == 0:
            ok = True
            break
    if ok:
        won += 1
        if how == "seize":
            libc.ptrace(0x4207, pid, 0, 0)  # PTRACE_INTERRUPT
        _, st = os.waitpid(pid, os.__dict__.get("WALL", 0x40000000))
        # Resumed with the signal it stopped for (a fault kills it
        # rather than repeat forever), the tracer's own stops without.
        for _ in range(1000):
            if not os.WIFSTOPPED(st):
                break
            sig = os.WSTOPSIG(st)
            libc.ptrace(7, pid, 0, 0 if sig in (5, 19) or st >> 16 else sig)  # PTRACE_CONT
            _, st = os.waitpid(pid, 0x40000000)
        else:
            os.kill(pid, 9)
            os.waitpid(pid, 0x40000000)
    else:
        lost += 1
        _, st = os.waitpid(pid, 0)
    leaked += os.path.exists(f"{T}/tr-{how}.{pid}")
print(f"{how}: tracer first {won}, daemon first {lost}, ran unconfined {leaked}")
PY
# tracer_records: the records a tracer's win leaves (the signal hook's or
# the daemon's kill naming the tracer, or the exec hook's force/traced).
tracer_records() {
	echo $(($(events action=force decision=deny rule=force/traced --count) +
		$(events action=force decision=deny rule=force/failed --count \
			--match 'detail=(while a tracer other than the daemon held it|before the daemon could hold it)')))
}
tracer_grew() { [ $(($(tracer_records) - $1)) -ge "$2" ]; }
for how in attach seize; do
	before=$(tracer_records)
	in_scope python3 "$T/tracer.py" "$(FAKE)" "$T" "$how" > "$T/tracer-$how.out" 2>&1
	sed "s/^/# /" "$T/tracer-$how.out"
	# (A seizing parent may run it for the daemon's reaction time; the
	# docs say so. An attaching one never.)
	[ "$how" = attach ] &&
		check "PTRACE_ATTACH after the stop: the agent never ran unconfined" \
			grep -q "^attach: .* ran unconfined 0\$" "$T/tracer-$how.out"
	# (A "win" may also be an attach after the forcing, to the launcher
	# the agent's pid became: no agent instruction ran, nothing to
	# record. So: some records, not one per win.)
	won=$(sed -n "s/^$how: tracer first \([0-9]*\),.*/\1/p" "$T/tracer-$how.out")
	if [ "${won:-0}" -gt 0 ]; then
		wait_for tracer_grew "$before" 1
		check "  ... the tracer's wins are recorded: killed as traced ($(($(tracer_records) - before)) records for $won wins)" \
			tracer_grew "$before" 1
	fi
done
rm -f "$T"/tr-*

# While it is being forced, the task may exec agentwall's launcher only,
# once: the daemon's execve names the launcher by path, which the task's
# own mount namespace resolves, and a library preloaded into the launcher
# or a tracer could make it exec the agent itself. Each is killed before
# the agent's first instruction, and the record says what it exec'd.
LAUNCHER=$AW
printf '#!/bin/sh\nexec "$@"\n' > "$T/not-launcher"
chmod 755 "$T/not-launcher"
fail_before=$(events action=force rule=force/failed --count)
in_scope unshare -m --propagation private sh -c \
	'mount --bind "$0" "$1" && exec "$2" -c "echo ran > $3/bound-ran"' \
	"$T/not-launcher" "$LAUNCHER" "$(FAKE)" "$T" 2>/dev/null
rc=$?
check "a file bound over the launcher's path: the agent never ran (status $rc)" \
	test ! -e "$T/bound-ran" -a $rc = 137
check "  ... recorded: it exec'd something other than the launcher" \
	wait_for events action=force decision=deny rule=force/failed \
	--match "detail=^exec'd this while being forced"
cat > "$T/pre.c" <<'C'
#include <stdlib.h>
#include <unistd.h>
/* In the launcher, before its main: run the agent itself instead. */
__attribute__((constructor)) static void hijack(void)
{
	const char *a = getenv("HIJACK_AGENT"), *o = getenv("HIJACK_OUT");

	if (a && o) {
		unsetenv("LD_PRELOAD");
		execl(a, a, "-c", o, (char *)NULL);
	}
}
C
if cc -shared -fPIC -o "$T/pre.so" "$T/pre.c" 2>/dev/null; then
	before=$(events action=force rule=force/failed --count)
	in_scope env LD_PRELOAD="$T/pre.so" HIJACK_AGENT="$(FAKE)" \
		HIJACK_OUT="cat ~/.ssh/id_rsa > $T/pre-ran" "$(FAKE)" -c true 2>/dev/null
	rc=$?
	check "a library preloaded for the agent: it never ran unconfined (status $rc)" \
		test ! -s "$T/pre-ran"
	# (Hidden from the launcher by the daemon, it did not run there:
	# nothing was exec'd in its place.)
	check "  ... the launcher did not load it (no exec in its place)" \
		test "$(events action=force rule=force/failed --count)" = "$before"
else
	skip "a library preloaded into the launcher" "no C compiler (cc) to build one"
fi
# A seccomp filter the parent installs before the exec (it is inherited)
# sees the launcher's own calls first: one that answers "success" without
# running them (errno 0) could fake the launcher's capability drop,
# filter and Landlock. Not forced: killed, and said. A filter that
# refuses (EPERM, as container runtimes' do) is no obstacle.
cat > "$T/scwrap.c" <<'C'
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
/* scwrap ERRNO NR PROGRAM ARGS...: system call NR gets ERRNO. */
int main(int argc, char **argv)
{
	unsigned e = (unsigned)(argv[1][0] - '0'), nr = 0;
	struct sock_filter f[4];

	for (const char *c = argv[2]; *c; c++)
		nr = nr * 10 + (unsigned)(*c - '0');
	f[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					    offsetof(struct seccomp_data, nr));
	f[1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1);
	f[2] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | e);
	f[3] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog p = {.len = 4, .filter = f};

	(void)argc;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p))
		return 99;
	execv(argv[3], argv + 3);
	return 98;
}
C
if cc -o "$T/scwrap" "$T/scwrap.c" 2>/dev/null; then
	# 446: landlock_restrict_self (x86_64); 163: acct
	out=$(in_scope "$T/scwrap" 0 446 "$(FAKE)" -c 'cat ~/.ssh/id_rsa; echo ran' 2>/dev/null)
	rc=$?
	check "an inherited filter faking success: the agent never ran (status $rc)" \
		test -z "$out" -a $rc = 137
	check "  ... and the record says why" \
		wait_for events action=force decision=deny rule=force/failed \
		--match 'detail=^it inherited a seccomp filter .*[(]errno 0, a success[)]'
	out=$(in_scope "$T/scwrap" 1 163 "$(FAKE)" -c 'cat ~/.ssh/id_rsa >/dev/null 2>&1 || echo masked' 2>/dev/null)
	check "an inherited filter that refuses (EPERM): forced as usual ($out)" test "$out" = masked
else
	skip "an inherited seccomp filter" "no C compiler (cc) to build the wrapper"
fi
# The agent keeps its loader variables: hidden from its launcher only.
out=$(in_scope env LD_LIBRARY_PATH=/aw-test-none GLIBC_TUNABLES=glibc.malloc.check=0 \
	"$(FAKE)" -c 'echo "ld:$LD_LIBRARY_PATH:$GLIBC_TUNABLES"' 2>/dev/null)
check "forced: the agent's LD_LIBRARY_PATH and GLIBC_TUNABLES are its own again inside ($out)" \
	test "$out" = "ld:/aw-test-none:glibc.malloc.check=0"
# A tracer of the same user cannot attach to a launcher (it is not
# dumpable), forced or not, nor to the session's init; the command itself
# it can (the control: no Yama here, same-user ptrace is allowed).
(cd / && in_scope setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$AW" --state-dir "$STATE" run -- sleep 4 > /dev/null 2>&1) &
rp=$!
lp=""
for _ in $(seq 50); do
	lp=$(pgrep -u nobody -f "^$AW --state-dir $STATE run -- sleep 4" | head -1)
	[ -n "$lp" ] && [ -n "$(pgrep -u nobody -x sleep)" ] && break
	sleep 0.1
done
ip=$(pgrep -P "${lp:-0}" | head -1)
cp=$(pgrep -P "${ip:-0}" | head -1)
att=$(setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 - "$lp" "$ip" "$cp" <<'PY'
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
out = []
for pid in sys.argv[1:]:
    if not pid:
        out.append("none")
        continue
    # PTRACE_SEIZE: ATTACH's permission check, and no SIGSTOP (the
    # tracee runs on, and is let go when this tracer exits).
    r = libc.ptrace(0x4206, int(pid), 0, 0)
    out.append("attached" if r == 0 else "refused")
print(" ".join(out))
PY
)
wait $rp
check "the launcher and the session's init refuse a same-user ptrace, the command does not ($att)" \
	test "$att" = "refused refused attached"

# A process outside the scope doing the same is never touched.
out=$("$(FAKE)" -c 'cat ~/.ssh/id_rsa' 2>&1)
check "outside the scope: the same agent runs unconfined" test "$out" = "PRIVATE KEY"

# Fail closed: the launcher cannot be executed -> the agent is killed.
stop_daemon
start_daemon --signatures "$T/sigs" --mode enforce --launcher /nonexistent/agentwall ||
	nok "daemon with a broken launcher starts"
in_scope "$(FAKE)" -c 'echo ran > '"$T"'/ran' 2>/dev/null
rc=$?
check "fail closed: forcing failed, the agent did not run" test ! -e "$T/ran"
check "  ... it was killed (status $rc)" test $rc = 137
check "  ... and the event says why" wait_for events action=force decision=deny rule=force/failed

# Daemon death: agents exec'd 0.1 to 5 s after the daemon is SIGKILLed
# (pins left; its pulse stays valid for 2 s). Within the pulse an agent
# is stopped and nobody forces it: a SIGCONT (a shell's `fg`) kills it,
# and one left stopped is killed by the next daemon at adoption. After
# it, an agent is killed at exec. None runs unconfined.
stop_daemon
start_daemon --signatures "$T/sigs" --mode enforce || nok "daemon in enforce mode again"
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=""
exec 3>&2 2>/dev/null # (bash's own "Killed" notices for the jobs below)
t0=$(date +%s.%N)
declare -A DPIDS
for at in 0.1 0.3 0.6 1.0 1.4 1.8 2.5 3.5 5.0; do
	sleep "$(python3 -c "import time; print(max(0, $t0 + $at - time.time()))")"
	# (in_scope's body, not the function: $! is then the agent itself)
	bash -c 'echo $BASHPID > "$0/cgroup.procs" && exec "$@"' "$CG" "$(FAKE)" \
		-c 'cat ~/.ssh/id_rsa > '"$T"'/dleak.$$ 2>/dev/null; echo ran > '"$T"'/dran.$$' 2>/dev/null &
	DPIDS[$at]=$!
done
sleep 0.3
stopped=()
gone=()
for at in $(printf '%s\n' "${!DPIDS[@]}" | sort -n); do
	st=$(awk '{print $3}' "/proc/${DPIDS[$at]}/stat" 2>/dev/null)
	if [ "$st" = T ]; then stopped+=("$at"); else gone+=("$at"); fi
done
echo "# after the daemon's death (s): stopped at exec: ${stopped[*]:-none}; killed at exec: ${gone[*]:-none}"
# A `fg` for every other stopped one: the signal hook kills it.
n=0
for at in "${stopped[@]}"; do
	n=$((n + 1))
	[ $((n % 2)) = 1 ] && kill -CONT "${DPIDS[$at]}"
done
sleep 0.5
start_daemon --signatures "$T/sigs" --mode enforce || nok "daemon restarts (adopts)"
for at in "${!DPIDS[@]}"; do wait "${DPIDS[$at]}" 2>/dev/null; done
exec 2>&3 3>&-
check "daemon death: no agent exec'd 0.1-5 s after it read the key outside" \
	test -z "$(cat "$T"/dleak.* 2>/dev/null)"
check "  ... none ran at all" test -z "$(ls "$T"/dran.* 2>/dev/null)"
check "  ... within its pulse an agent was stopped, not run (${#stopped[@]})" test ${#stopped[@]} -ge 1
check "  ... after it, killed at exec and reported once a daemon drains the ring" \
	wait_for events action=force decision=deny rule=force/no-daemon
if [ ${#stopped[@]} -ge 1 ]; then
	check "  ... a stopped one continued by SIGCONT was killed, and recorded" \
		wait_for events action=force decision=deny rule=force/failed \
		--match 'detail=^continued \(signal 18\) by pid [0-9]+ \(kill|bash'
fi
if [ ${#stopped[@]} -ge 2 ]; then
	check "  ... one left stopped was killed by the restarted daemon, and recorded" \
		wait_for events action=force decision=deny rule=force/failed \
		--match 'detail=^stopped at exec to be forced, but the daemon ended'
fi
check "  ... no record blames a vanished process (pidfd_open)" \
	test "$(events action=force --match detail=pidfd_open --count)" = 0
rm -f "$T"/dleak.* "$T"/dran.*
stop_daemon

# Sessions without changes do not fill the cap on kept sessions. Every
# session's store holds what the launcher itself put there: the masks made
# ahead for secrets absent at start (~/.aws, ~/.kube, ... are not in this
# home) are whiteouts in the upper layer, with the directories on their
# way. That is no change: with --sessions-max 3, eight no-op sessions
# (forced agents and `agentwall run -- true`) all run, and none is listed
# with changes. A fresh state directory: only these sessions count.
STATE0=$STATE
STATE=$T/state-cap
mkdir -p "$STATE"
start_daemon --signatures "$T/sigs" --mode enforce --sessions-max 3 ||
	nok "daemon with --sessions-max 3"
files_of() { # SESSION: its "files" in `agentwall sessions --json` (- if not listed)
	aw sessions --json | python3 -c 'import json, sys
for s in json.load(sys.stdin):
    if s["session"] == sys.argv[1]:
        print(s.get("files", "?")); break
else:
    print("-")' "$1"
}
listed_with_changes() { # how many sessions are listed with files > 0
	aw sessions --json | python3 -c 'import json, sys
print(sum(1 for s in json.load(sys.stdin) if s.get("files", 1) != 0))'
}
refused=0
# (`run` under the default policy, and under coding-agent, whose
# copy-on-write home gets the masks made ahead.)
for pol in default coding-agent default coding-agent; do
	in_scope "$(FAKE)" -c 'exit 0' 2>>"$T/cap.err" || refused=$((refused + 1))
	in_scope "$AW" --state-dir "$STATE" run --policy $pol -- true 2>>"$T/cap.err" ||
		refused=$((refused + 1))
done
check "cap 3: 8 sessions without changes (4 forced no-op agents, 4 run -- true) all ran ($refused refused)" \
	test $refused = 0
check "  ... their stores do hold the launcher's masks made ahead (whiteouts)" \
	test -n "$(find "$STATE"/sessions/*/fs/upper -type c 2>/dev/null | head -1)"
check "  ... none is listed with changes ($(listed_with_changes))" test "$(listed_with_changes)" = 0
check "  ... at most 3 are kept" test "$(aw sessions --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -le 3
# Another owner's sessions: the daemon looks into a store with its
# owner's rights; that user's empty sessions go too, and one with a
# change stays.
mkdir -p "$T/uhome" "$T/uws"
chown nobody: "$T/uhome" "$T/uws"
asuser() {
	(cd "$T/uws" && HOME=$T/uhome in_scope setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$AW" --state-dir "$STATE" run --policy coding-agent -- "$@")
}
refused=0
for i in 1 2 3; do asuser true 2>>"$T/cap.err" || refused=$((refused + 1)); done
asuser sh -c 'echo u > u.txt' 2>>"$T/cap.err" || refused=$((refused + 1))
U=$(aw sessions | awk 'NR > 1 { id = $1 } END { print id }')
for i in 1 2; do asuser true 2>>"$T/cap.err" || refused=$((refused + 1)); done
check "another owner (nobody): 5 sessions without changes and one with ran ($refused refused)" \
	test $refused = 0
check "  ... its session with a change is kept ($(files_of "$U") files)" test "$(files_of "$U")" = 1
aw discard "$U" > /dev/null
# Getting around it: the agent writes a file where a mask made ahead was
# (~/.aws, absent at start): that is its change, held for approval (a
# dot-path of the home), never hidden as the launcher's. Deleting a real
# file is a change too. Both stay kept while no-op sessions come and go.
in_scope "$(FAKE)" -c 'echo planted > ~/.aws' 2>/dev/null
P=$(aw sessions | awk 'NR > 1 { id = $1 } END { print id }')
in_scope "$(FAKE)" -c 'rm a.txt' 2>/dev/null
D=$(aw sessions | awk 'NR > 1 { id = $1 } END { print id }')
check "a file written at a masked-ahead path is a change ($(files_of "$P") files)" test "$(files_of "$P")" = 1
aw diff "$P" > "$T/planted.diff" 2>&1
check "  ... in its diff" grep -q "^+++ b$H/.aws" "$T/planted.diff"
aw commit "$P" > "$T/planted.out" 2>&1
check "  ... held for approval, not committed" \
	test "$(grep -c "^held $H/.aws" "$T/planted.out")" = 1 -a ! -e "$H/.aws"
check "a real file deleted is a change ($(files_of "$D") files)" test "$(files_of "$D")" = 1
check "  ... in its diff" grep -q "^deleted file mode" <(aw diff "$D" 2>&1)
refused=0
for i in 1 2 3; do
	in_scope "$(FAKE)" -c 'exit 0' 2>>"$T/cap.err" || refused=$((refused + 1))
done
check "cap 3 with 2 sessions with changes: 3 more no-op agents ran ($refused refused)" test $refused = 0
check "  ... the two sessions with changes are kept" \
	test "$(files_of "$P")" = 1 -a "$(files_of "$D")" = 1
in_scope "$(FAKE)" -c 'echo c > c1.txt' 2>/dev/null
out=$(in_scope "$(FAKE)" -c 'echo c > c2.txt' 2>&1)
rc=$?
check "  ... the cap still holds for changes: a 4th agent with 3 sessions of changes kept is refused ($rc)" \
	test $rc != 0 -a ! -e "$T/ws/c2.txt"
check "  ... saying why" grep -q "sessions are kept with changes" <<<"$out"
check "the real tree kept its file and got nothing" test -e "$T/ws/a.txt" -a ! -e "$T/ws/c1.txt"
check "the daemon could read every store it looked into" \
	bash -c "! grep '^agentwalld: session [0-9a-f]*: ' '$T/daemon.err'"
stop_daemon
STATE=$STATE0

# Audit mode forces nothing.
start_daemon --signatures "$T/sigs" --mode audit || nok "daemon in audit mode"
out=$(in_scope "$(FAKE)" -c 'cat ~/.ssh/id_rsa' 2>&1)
check "audit: the agent is recorded but not forced" test "$out" = "PRIVATE KEY"
check "audit: its session is recorded" wait_for events action=session-start agent.id=test.fake-agent

# The real Codex CLI from npm, forced.
CODEX=/var/cache/agentwall-tests/npm/node_modules/.bin/codex
stop_daemon
start_daemon --mode enforce || nok "daemon with embedded signatures"
if [ -x "$CODEX" ]; then
	out=$(in_scope "$CODEX" --version 2>&1)
	check "codex: forced and still runs (--version)" grep -qi 'codex' <<<"$out"
	check "codex: its session was sandboxed" \
		wait_for events action=sandbox agent.id=openai.codex-cli rule=force/openai.codex-cli
	out=$(in_scope sh -c "cat $H/.ssh/id_rsa" 2>&1)
	check "a plain shell in scope is not an agent: never denied" test "$out" = "PRIVATE KEY"
else
	skip "codex: forced" "codex not in the npm cache (tools/setup-deps installs it)"
fi
# Content identity: the Codex native binary under any other name is
# forced as openai.codex-cli (its size is in the kernel's prefilter; the
# daemon hashes the held exec and finds the digest in openai.yaml). A
# fresh daemon for each identity question: nothing learned before.
CXBIN=/var/cache/agentwall-tests/npm/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex
if [ -x "$CXBIN" ] && grep -q "size:$(stat -c %s "$CXBIN")\"" "$AW_ROOT/signatures/openai.yaml"; then
	stop_daemon
	start_daemon --mode enforce || nok "daemon with embedded signatures"
	mkdir -p "$T/c"
	n=0
	forced_as_codex() { # WHAT OUTPUT: one more content-matched, sandboxed session
		n=$((n + 1))
		check "content: $1 runs (--version)" grep -q 'codex-cli' <<<"$2"
		check "  ... forced as openai.codex-cli by its digest" \
			wait_for count_ge $n action=session-start agent.id=openai.codex-cli \
			'rule=signature/openai.codex-cli:sha256:*'
		check "  ... in a sandboxed session" \
			wait_for count_ge $n action=force decision=sandbox rule=force/launcher --match 'sha256=^[0-9a-f]{64}$'
	}
	# A hard link made before the original was ever run (or classified).
	ln "$CXBIN" "$T/c/linked"
	forced_as_codex "a hard link" "$(in_scope "$T/c/linked" --version 2>&1)"
	rm -f "$T/c/linked"
	# A copy under a name no path rule knows.
	cp "$CXBIN" "$T/c/mytool"
	forced_as_codex "a copy" "$(in_scope "$T/c/mytool" --version 2>&1)"
	out=$(in_scope "$T/c/mytool" --version 2>&1)
	check "  ... its next exec is known by the file's identity (no hash)" \
		wait_for events action=session-start agent.id=openai.codex-cli \
		'rule=signature/openai.codex-cli:inode:*'
	rm -f "$T/c/mytool"
	# A memfd (memfd_create, close-on-exec, then fexecve): no path at all.
	out=$(in_scope python3 -c '
import os, sys
src = os.open(sys.argv[1], os.O_RDONLY)
fd = os.memfd_create("innocent")
n = os.fstat(src).st_size
while n > 0:
    n -= os.sendfile(fd, src, None, n)
os.execve(fd, ["innocent", "--version"], dict(os.environ))' "$CXBIN" 2>&1)
	forced_as_codex "a memfd (fexecve)" "$out"
	# execveat: a directory fd and a name, then an O_PATH fd with
	# AT_EMPTY_PATH (what fexecve does without /proc).
	cp "$CXBIN" "$T/c/at1"
	cp "$CXBIN" "$T/c/at2"
	EXECVEAT='
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
argv = (ctypes.c_char_p * 3)(b"x", b"--version", None)
envp = (ctypes.c_char_p * 1)(None)
if sys.argv[1] == "dirfd":
    d = os.open(os.path.dirname(sys.argv[2]), os.O_PATH | os.O_DIRECTORY)
    libc.syscall(322, d, os.path.basename(sys.argv[2]).encode(), argv, envp, 0)
else:
    f = os.open(sys.argv[2], os.O_PATH)
    libc.syscall(322, f, b"", argv, envp, 0x1000)  # AT_EMPTY_PATH
print("execveat failed", ctypes.get_errno())'
	forced_as_codex "execveat(dirfd, name)" "$(in_scope python3 -c "$EXECVEAT" dirfd "$T/c/at1" 2>&1)"
	forced_as_codex "execveat(fd, \"\", AT_EMPTY_PATH)" "$(in_scope python3 -c "$EXECVEAT" empty "$T/c/at2" 2>&1)"
	rm -f "$T/c/at1" "$T/c/at2"

	# A non-agent of exactly the same size (a real ELF, padded): held
	# once for the hash, then released; it runs normally and is not an
	# agent; its next exec is not even held (the cleared file is cached).
	cp /bin/echo "$T/c/same-size"
	truncate -s "$(stat -c %s "$CXBIN")" "$T/c/same-size"
	s0=$(events action=session-start --count)
	out=$(in_scope "$T/c/same-size" hello 2>&1; echo "rc=$?")
	check "same size, other content: runs normally" test "$out" = "$(printf 'hello\nrc=0')"
	out=$(in_scope sh -c 'cat ~/.ssh/id_rsa' 2>&1)
	held=$(aw status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["enforcement"]["content_held"])' 2>/dev/null)
	out2=$(in_scope "$T/c/same-size" again 2>&1)
	held2=$(aw status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["enforcement"]["content_held"])' 2>/dev/null)
	check "  ... and again" test "$out2" = again
	check "  ... it is not an agent: no session" test "$(events action=session-start --count)" = "$s0"
	check "  ... held once for the hash, not at its next exec ($held, $held2)" \
		test -n "$held" -a "$held" = "$held2"
	check "  ... released after one content check" \
		test "$(grep -c 'content checked .* not an agent, released' "$T/daemon.err")" = 1
	# Its content changes (same size): held and hashed again.
	printf 'x' | dd of="$T/c/same-size" bs=1 seek=100000000 conv=notrunc status=none
	out=$(in_scope "$T/c/same-size" changed 2>&1)
	check "  ... changed in place: checked again (ctime moved)" \
		test "$out" = changed -a "$(grep -c 'not an agent, released' "$T/daemon.err")" = 2
	rm -f "$T/c/same-size"
	# Files of that size queue for a content check, a second of hashing
	# each here; an agent classified by its path does not wait behind
	# them (the time it waits unheld is the window a parent's
	# PTRACE_SEIZE has). Three padded decoys, then the stand-in: it is
	# forced once the first decoy's hash is done, before the others.
	for i in 1 2 3; do
		cp /bin/echo "$T/c/decoy$i"
		truncate -s "$(stat -c %s "$CXBIN")" "$T/c/decoy$i"
	done
	before=$(grep -c 'content checked .* not an agent, released' "$T/daemon.err")
	dp=()
	for i in 1 2 3; do
		in_scope "$T/c/decoy$i" decoy > /dev/null 2>&1 &
		dp+=($!)
	done
	sleep 0.2
	out=$(in_scope "$(FAKE)" -c 'echo forced' 2>/dev/null)
	hashed=$(($(grep -c 'content checked .* not an agent, released' "$T/daemon.err") - before))
	wait "${dp[@]}"
	check "an agent classified by path is forced before queued content checks ($hashed of 3 hashed before it)" \
		test "$out" = forced -a "$hashed" -le 2
	rm -f "$T"/c/decoy*
else
	skip "content identity" "the Codex native binary of openai.yaml's digest is not in the npm cache"
fi
cd /
stop_daemon
