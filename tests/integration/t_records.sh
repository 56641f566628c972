#!/bin/bash
# Every contained attempt leaves a record naming its target and rule, in
# a `run` session and in a forced one alike: masked paths (by path,
# symlink, hard link, inherited descriptor), writes to the read-only
# view and under masks, persistence writes, signals and ptrace of an
# outside process, other ABIs' syscalls, raw and packet sockets, a fork
# bomb, refused connections and names.
. "$(dirname "$0")/../lib.sh"
make_fake_agent
H=$T/home
mkdir -p "$H/.ssh" "$T/ws" "$T/policies"
echo "PRIVATE KEY" > "$H/.ssh/id_rsa"
echo "# rc" > "$H/.bashrc"
ln -s "$H/.ssh/id_rsa" "$T/ws/keylink"
ln "$H/.ssh/id_rsa" "$T/ws/keyhard"
# (/var/tmp: the session's /tmp is a private tmpfs; the same file system
# as the home here.)
EL=/var/tmp/$ID
mkdir -p "$EL"
ln "$H/.ssh/id_rsa" "$EL/keyhard"
cp "$TESTPROC" "$T/ws/testproc"
export HOME=$H
cd "$T/ws"
# The shipped policies, and one of the coding-agent's with a small pids
# limit, so the fork bomb is refused quickly.
cp "$AW_ROOT"/policies/*.yaml "$T/policies/"
cat > "$T/policies/records.yaml" <<'YAML'
version: 1
id: records
extends: coding-agent
applies-to:
  agents: [test.fake-agent]
process:
  pids-max: 40
YAML
chmod 644 "$T/policies"/*.yaml

start_daemon --signatures "$T/sigs" --policies "$T/policies" --mode enforce ||
	{ nok "daemon starts in enforce mode"; exit 1; }

# A process outside any session, for the signal and ptrace attempts.
sleep 300 &
OUTSIDE=$!
# An abstract Unix socket outside any session (Landlock's scope refuses
# a session's connection to it).
python3 -c "
import socket, time
s = socket.socket(socket.AF_UNIX); s.bind(b'\0aw-rec-$ID'); s.listen(8); time.sleep(300)" &
ABSTRACT=$!
trap 'kill $OUTSIDE $ABSTRACT 2>/dev/null; rm -rf "$EL"; cleanup' EXIT

# The attempts, one script for both kinds of session ($1: a tag).
cat > "$T/ws/attempts.sh" <<'SH'
tag=$1 outside=$2 elsewhere=$3 abstract=$4
cat ~/.ssh/id_rsa
cat keylink
cat keyhard
cat "$elsewhere/keyhard"
ls /proc/self/fd/0/
echo x > /etc/aw-rec-$tag
mkdir /usr/aw-rec-$tag
echo x > ~/.ssh/id_rsa
touch ~/.ssh/new-$tag
echo "* * * * * root sh /tmp/x" > /etc/cron.d/aw-rec-$tag
echo "evil" >> ~/.bashrc
kill -TERM "$outside"
python3 -c "import ctypes; print('ptrace', ctypes.CDLL(None).ptrace(16, $outside, 0, 0))"
ASAN_OPTIONS=detect_leaks=0 ./testproc abis
python3 -c "
import socket
for fam, typ, pr in ((socket.AF_PACKET, socket.SOCK_RAW, 0), (socket.AF_INET, socket.SOCK_RAW, 1)):
    try:
        socket.socket(fam, typ, pr)
    except OSError as e:
        print('socket', fam, typ, e.errno)
u = socket.socket(socket.AF_UNIX)
try:
    u.connect(b'\0' + b'$abstract')
except OSError as e:
    print('abstract', e.errno)
s = socket.socket()
try:
    s.connect(('127.0.0.1', 9))
except OSError as e:
    print('connect', e.errno)
try:
    socket.getaddrinfo('exfil-$tag.example', 80)
except OSError as e:
    print('dns', e)
"
python3 -c "
import os, time
for i in range(100):
    try:
        if os.fork() == 0:
            time.sleep(3); os._exit(0)
    except OSError:
        print('fork refused'); break
"
exit 0
SH

# `run` session.
in_scope "$AW" --state-dir "$STATE" run --policy records -- \
	bash attempts.sh run "$OUTSIDE" "$EL" "aw-rec-$ID" <"$H/.ssh" >"$T/run.out" 2>&1
RS=$(events action=sandbox rule=run/records --field session | tail -1)
# Forced: the stand-in agent (bash at a path its signature names) runs
# the same script from a plain shell.
in_scope "$(FAKE)" attempts.sh forced "$OUTSIDE" "$EL" "aw-rec-$ID" <"$H/.ssh" >"$T/forced.out" 2>&1
FS=$(events action=sandbox rule=force/records --field session | tail -1)
sed 's/^/# run: /' "$T/run.out"
sed 's/^/# forced: /' "$T/forced.out"
echo "# sessions: run $RS forced $FS"


K=$H/.ssh/id_rsa
for kind in run forced; do
	if [ $kind = run ]; then S=$RS; else S=$FS; fi
	[ -n "$S" ] || { nok "$kind: the session was made"; continue; }
	ev() { wait_for events session="$S" "$@"; }
	check "$kind: mask via path: open deny, the real path, the mask's rule" \
		ev action=open decision=deny "target=$K" rule=records/secrets.ssh by=mask name="$K"
	check "$kind: mask via a symlink in the workspace: the real path" \
		ev action=open decision=deny "target=$K" rule=records/secrets.ssh by=mask
	check "$kind: hard link in the workspace: masked by name, recorded" \
		ev action=open decision=deny "target=$T/ws/keyhard" rule=records/secrets.ssh
	check "$kind: hard link elsewhere: refused by identity, the real path" \
		ev action=open decision=deny "target=$K" rule=records/secrets.ssh by=inode
	check "$kind: inherited directory descriptor: replaced, named in the notice" \
		ev action=notice rule=records/sandbox --match 'detail=descriptor 0 is a directory: replaced by /dev/null'
	check "$kind: write to a read-only tree (/etc): target and rule" \
		ev action=write decision=deny "target=/etc/aw-rec-$kind" rule=records/read-only \
		--match 'detail=^openat refused \(EROFS\): by the read-only view'
	check "$kind: mkdir in a read-only tree (/usr): target and rule" \
		ev action=write decision=deny "target=/usr/aw-rec-$kind" rule=records/read-only --match 'detail=^mkdir '
	check "$kind: write through a masked path: the real path, the mask's rule" \
		ev action=write decision=deny "target=$K" rule=records/secrets.ssh --match 'detail=by the mask'
	check "$kind: a file created under a mask: recorded" \
		ev action=write decision=deny "target=$H/.ssh/new-$kind" rule=records/secrets.ssh
	check "$kind: persistence write outside a copy-on-write tree (/etc/cron.d): its escalate rule" \
		ev action=write decision=deny "target=/etc/cron.d/aw-rec-$kind" --match 'rule=^records/persist'
	check "$kind: persistence write in the copy-on-write home: held, recorded" \
		ev action=hold decision=escalate "target=$H/.bashrc"
	check "$kind: signal to an outside process: the pid, the host's command, the rule" \
		ev action=signal decision=deny "target=pid $OUTSIDE" rule=records/process.signal-scope \
		--match "detail=^kill\\($OUTSIDE, signal 15\\).*the host's pid $OUTSIDE is sleep"
	check "$kind: ptrace of an outside process: refused and recorded" \
		ev action=syscall decision=deny target=ptrace rule=records/seccomp.ptrace
	check "$kind: i386 syscall: recorded with its ABI" \
		ev action=syscall decision=deny 'target=ptrace (i386)' rule=records/seccomp.abi
	check "$kind: x32 syscall: recorded with its ABI" \
		ev action=syscall decision=deny 'target=getpid (x32)' rule=records/seccomp.abi
	check "$kind: packet socket refused by the capability check: recorded" \
		ev action=connect decision=deny 'target=packet socket' rule=records/network.socket --match 'detail=CAP_NET_RAW'
	check "$kind: raw IP socket refused by the capability check: recorded" \
		ev action=connect decision=deny 'target=raw socket' rule=records/network.socket --match 'detail=^socket\(family 2, type 3, protocol 1\)'
	check "$kind: fork bomb: the refused forks, the pids rule" \
		ev action=fork decision=deny target=pids-max rule=records/process.pids-max
	check "$kind: refused connect: the address and rule" \
		ev action=connect decision=deny target=127.0.0.1:9 rule=records/network
	check "$kind: refused name: the name and rule" \
		ev action=dns decision=deny "target=exfil-$kind.example" rule=records/network
	check "$kind: the attempts all failed inside" sh -c "! grep -q 'PRIVATE KEY' '$T/$kind.out'"
done
check "nothing was written to the real tree" \
	test ! -e /etc/aw-rec-run -a ! -e /etc/aw-rec-forced -a ! -e /usr/aw-rec-run -a ! -e /etc/cron.d/aw-rec-run
check "the real .bashrc is unchanged" test "$(cat "$H/.bashrc")" = "# rc"
check "the real key is unchanged" test "$(cat "$K")" = "PRIVATE KEY"

# Not recorded: a process in no session (in scope, refused the same
# way), and a session's writes that succeed.
in_scope sh -c 'mkdir /proc/aw-rec-outside' 2>/dev/null
in_scope "$AW" --state-dir "$STATE" run --policy records -- sh -c 'echo ok > fine.txt' 2>/dev/null
sleep 0.5
check "no record for a process in no session" count_is 0 action=write target=/proc/aw-rec-outside
check "no record for a session's write that succeeded" count_is 0 action=write "target=$T/ws/fine.txt"
check "no record for writes to devices on the read-only /dev" count_is 0 action=write target=/dev/null
python3 -c "
import json,sys
for l in open('$T/export.jsonl'):
    e=json.loads(l)
    if e['action'] in ('exec','fork','exit') and e['decision']!='deny': continue
    x={k:v for k,v in e.items() if k not in ('schema','time','host','agent','process','lineage','session_agent','mode')}
    print('#', (e.get('process') or {}).get('comm'), json.dumps(x))
"
