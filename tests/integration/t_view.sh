#!/bin/bash
# The live view and the web timeline: `agentwall top` under tmux (a real
# terminal: capture-pane shows what a person would see) and `agentwall
# web` in Debian's Chromium, headless, against a real daemon with a
# running session that was refused a masked file.
. "$(dirname "$0")/../lib.sh"
# The templates, Codex's with its API's mock on loopback allowed (the
# real Codex CLI below talks to tests/helpers/mock_openai.py).
mkdir -p "$T/policies"
cp "$AW_ROOT"/policies/*.yaml "$T/policies/"
printf '%s\n' '  - id: mock-api' '    loopback: true' '    protocols: [tcp]' >> "$T/policies/openai.codex-cli.yaml"
chmod 644 "$T"/policies/*.yaml
start_daemon --policies "$T/policies" || { nok "daemon starts"; exit 1; }

TMUX_SOCK=$ID
WEB_PID=""
view_cleanup() {
	tmux -L "$TMUX_SOCK" kill-server 2>/dev/null
	[ -n "$WEB_PID" ] && kill "$WEB_PID" 2>/dev/null && wait "$WEB_PID" 2>/dev/null
	[ -n "${MOCK:-}" ] && kill "$MOCK" 2>/dev/null
	cleanup
}
trap view_cleanup EXIT

# A user's home with a key the coding-agent policy masks, and a file whose
# name is markup (event fields are the agent's choice).
H=$T/home
XSS='<img src=x onerror=alert(1)>'
ESCNAME=$'\e[2J\e]0;owned\aterm'
mkdir -p "$H/.ssh" "$T/ws"
echo "PRIVATE KEY" > "$H/.ssh/id_rsa"
echo "x" > "$H/.ssh/$XSS"
echo "x" > "$H/.ssh/$ESCNAME"
echo "original" > "$T/ws/a.txt"
export HOME=$H
cd "$T/ws"
run() { in_scope "$AW" --state-dir "$STATE" run --policy coding-agent --workspace "$T/ws" -- "$@"; }

# A finished session with a change to review (its diff), then the live
# one: refused the key and the markup-named file, then waiting; USR1
# makes it start one more process.
run /bin/sh -c 'echo hello > new.txt' >/dev/null 2>&1
wait_for events action=session-end >/dev/null
ENDED=$(events action=session-end --field session 2>/dev/null | tail -1)
run /bin/sh -c 'cat "$HOME/.ssh/$2"; cat ~/.ssh/id_rsa; cat "$HOME/.ssh/$1"; trap "sleep 301 &" USR1; sleep 300 & while :; do wait; done' aw-view-shell "$XSS" "$ESCNAME" >/dev/null 2>&1 &
check "a session is refused the masked key (deny recorded)" \
	wait_for events action=open decision=deny target="$H/.ssh/id_rsa"
check "  ... and the markup-named file" \
	wait_for events action=open decision=deny "target=$H/.ssh/$XSS"
live_pid() {
	aw ps --json | python3 -c '
import json, sys
for s in json.load(sys.stdin):
    for p in s["processes"]:
        if "aw-view-shell" in (p["argv"] or [])[:4]:
            print(s["session"], p["pid"])' | head -1
}
read -r SID SHPID < <(for _ in $(seq 100); do l=$(live_pid); [ -n "$l" ] && { echo "$l"; break; }; sleep 0.1; done)
check "the live session is in ps (session $SID, shell $SHPID)" test -n "$SID" -a -n "$SHPID"

# --- agentwall top -------------------------------------------------------

pane() { tmux -L "$TMUX_SOCK" capture-pane -p -t view 2>/dev/null; }
pane_has() { pane | grep -q -- "$1"; }
widest() { pane | python3 -c 'import sys; print(max([len(l) for l in sys.stdin.read().splitlines()] + [0]))'; }
tree_shown() { pane_has aw-view-shell && pane_has "└─ [0-9]* sleep 300"; }
narrow() { pane_has "session $SID" && [ "$(widest)" -le 70 ]; }
tmux -L "$TMUX_SOCK" -f /dev/null new-session -d -s view -x 180 -y 60 \
	"$AW --state-dir $STATE top --interval 0.3"
check "top: the session's header (id, policy)" \
	wait_for pane_has "session $SID .*policy coding-agent"
check "top: its tree shows the shell and its sleep" \
	wait_for tree_shown
check "top: the deny is shown under its session" \
	wait_for pane_has "open  *.*/.ssh/id_rsa  \\[deny: coding-agent/secrets.ssh\\]"
pane > "$T/top1.txt"
check "top: denials in red (SGR 31)" \
	sh -c "tmux -L $TMUX_SOCK capture-pane -p -e -t view | grep 'DENIED' | grep -q '\[[0-9;]*31m'"
kill -USR1 "$SHPID"
check "top: updates in place when a new process appears" \
	wait_for pane_has "sleep 301"
check "top: one screen, redrawn (the header once)" \
	test "$(pane | grep -c 'agentwall top ')" = 1
tmux -L "$TMUX_SOCK" resize-window -t view -x 70 -y 20
pane > "$T/top-narrow.txt"
check "top: follows a resize (SIGWINCH): no line wider than 70 columns" \
	wait_for narrow
tmux -L "$TMUX_SOCK" send-keys -t view q
check "top: q quits" wait_for sh -c "! tmux -L $TMUX_SOCK has-session -t view 2>/dev/null"

aw top </dev/null >/dev/null 2>&1
check "top: refuses a non-terminal without --once (exit 2)" test $? = 2
aw top --once > "$T/once.txt" 2>"$T/once.err"
check "top --once: exit 0, nothing on stderr" test $? = 0 -a ! -s "$T/once.err"
check "top --once: one plain frame with the session and its deny" \
	sh -c "grep -q 'session $SID' '$T/once.txt' && grep -q 'DENIED' '$T/once.txt' && ! grep -q \$'\\033' '$T/once.txt'"
check "top --once: the markup file name shown as text" grep -qF "$XSS" "$T/once.txt"
check "top --once: a file name's escape sequences shown as \\xNN, never sent" \
	grep -qF '\x1b[2J\x1b]0;owned\x07term' "$T/once.txt"
# An ordinary user's own session: in its view, root's is not.
mkdir -p "$T/uhome" "$T/uws"; chown -R nobody: "$T/uhome" "$T/uws"; chmod 755 "$T"
(cd "$T/uws" && in_scope setpriv --reuid=nobody --regid=nogroup --clear-groups \
	env HOME="$T/uhome" "$AW" --state-dir "$STATE" run -- /bin/sh -c 'sleep 300' aw-view-nobody >/dev/null 2>&1) &
nobody_top() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$AW" --state-dir "$STATE" top --once > "$T/nobody.txt" 2>&1
	grep -q 'aw-view-nobody' "$T/nobody.txt"
}
check "top: an ordinary user sees its own session" wait_for nobody_top
check "  ... and not root's" sh -c "grep -q '1 live session ' '$T/nobody.txt' && ! grep -q '$SID' '$T/nobody.txt'"
aw top --once > "$T/root.txt"
check "  ... root sees both" sh -c "grep -q 'aw-view-nobody' '$T/root.txt' && grep -q '$SID' '$T/root.txt'"

# --- agentwall web -------------------------------------------------------

aw web --listen 0.0.0.0:0 >/dev/null 2>&1
check "web: a non-loopback address is refused without --allow-remote" test $? = 2
setpriv --reuid=65534 --regid=65534 --clear-groups "$AW" --state-dir "$STATE" web --listen 127.0.0.1:0 >/dev/null 2>&1
check "web: refused to an ordinary user" test $? = 1
"$AW" --state-dir "$STATE" web --listen 127.0.0.1:0 > "$T/web.out" 2>"$T/web.err" &
WEB_PID=$!
wait_for grep -q '^agentwall web: http://127.0.0.1:' "$T/web.out"
URL=$(sed -n 's/^agentwall web: //p' "$T/web.out")
BASE=${URL%%/#*}
TOKEN=${URL##*token=}
check "web: listening on loopback, token in the URL's fragment" test -n "$TOKEN" -a "$BASE" != "$URL"
curl -s -D "$T/hdrs.txt" -o /dev/null "$BASE/"
check "web: the page is served with a CSP that allows no inline script" \
	grep -qi "^content-security-policy: default-src 'none'; script-src 'self';" "$T/hdrs.txt"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
check "web: the API without the token: 403" test "$(code "$BASE/api/sessions")" = 403
# (Its last digit changed.)
WRONG=${TOKEN%?}$([ "${TOKEN: -1}" = 0 ] && echo 1 || echo 0)
check "web: with a wrong token: 403" test "$(code -H "X-Agentwall-Token: $WRONG" "$BASE/api/sessions")" = 403
check "web: with the token: 200" test "$(code -H "X-Agentwall-Token: $TOKEN" "$BASE/api/sessions")" = 200
check "web: another Host (DNS rebinding): 403" \
	test "$(code -H "Host: evil.example:80" -H "X-Agentwall-Token: $TOKEN" "$BASE/api/sessions")" = 403
check "web: POST refused (405)" test "$(code -X POST -d x "$BASE/")" = 405
check "web: an oversized request refused (431)" \
	test "$(code -H "X-Pad: $(head -c 9000 /dev/zero | tr '\0' a)" "$BASE/")" = 431
check "web: a bad session id refused (400)" \
	test "$(code -H "X-Agentwall-Token: $TOKEN" "$BASE/api/session?id=../../x")" = 400
# A client that sends half a request and waits is cut off, and the
# server answers the next one.
python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET / HTTP/1.1\r\n")
s.settimeout(15)
print(s.recv(100).split(b"\r\n")[0].decode())' "${BASE##*:}" > "$T/slow.txt" 2>&1
check "web: a slow request is cut off (408)" grep -q 408 "$T/slow.txt"
check "web: ... and the server still answers" test "$(code "$BASE/app.js")" = 200

CHROME=(chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage
	--no-first-run --user-data-dir="$T/chrome" --virtual-time-budget=15000)
if ! command -v chromium >/dev/null; then
	skip "web: the page in Chromium" "chromium not installed (tools/setup-deps)"
else
	"${CHROME[@]}" --dump-dom "$URL&s=$SID" > "$T/dom.html" 2>"$T/chrome.err"
	check "chromium: the DOM shows the session" grep -q "Session $SID" "$T/dom.html"
	check "chromium: its process tree (the shell, its sleep)" \
		sh -c "grep -q 'aw-view-shell' '$T/dom.html' && grep -q 'sleep 300' '$T/dom.html'"
	check "chromium: the deny as a highlighted row" \
		grep -q "<tr class=\"deny\"><td>[0-9:]*</td><td>[0-9]*</td><td>open</td><td>$H/.ssh/id_rsa</td><td>deny</td>" "$T/dom.html"
	check "chromium: the timeline counts the session's denials" \
		grep -q '<span class="badge">3 denied</span>' "$T/dom.html"
	check "chromium: the markup file name is text in the DOM (escaped)" \
		grep -qF '&lt;img src=x onerror=alert(1)&gt;' "$T/dom.html"
	check "chromium: ... and no element was made from it" \
		sh -c "! grep -q '<img' '$T/dom.html'"
	if [ -n "$ENDED" ]; then
		"${CHROME[@]}" --dump-dom "$URL&s=$ENDED" > "$T/dom2.html" 2>>"$T/chrome.err"
		check "chromium: an ended session's diff (the file it made)" \
			sh -c "grep -q 'new.txt' '$T/dom2.html' && grep -q '<span class=\"add\">+hello' '$T/dom2.html'"
	else
		nok "chromium: an ended session's diff (no session-end recorded)"
	fi
	"${CHROME[@]}" --window-size=1280,800 --screenshot="$T/web.png" "$URL&s=$SID" >/dev/null 2>>"$T/chrome.err"
	python3 "$AW_ROOT/tests/helpers/pngcheck.py" "$T/web.png" 1280 800 > "$T/png.txt" 2>&1
	while IFS= read -r line; do
		case "$line" in
		*": ok") ok "screenshot: ${line%: ok}" ;;
		*) nok "screenshot: $line" ;;
		esac
	done < "$T/png.txt"
	[ -s "$T/png.txt" ] || nok "screenshot: taken and read ($(head -c 300 "$T/chrome.err"))"
	[ -n "${AW_VIEW_SCREENSHOT:-}" ] && cp "$T/web.png" "$AW_VIEW_SCREENSHOT"
fi
# --- the real Codex CLI ----------------------------------------------------
# Run in its policy's sandbox against a local mock of its API, whose tool
# call reads the key and then waits: top shows the live session, its
# agent and the deny; the page shows the ended session with its tree.
CODEX=${AW_NPM_CACHE:-/var/cache/agentwall-tests/npm}/node_modules/.bin/codex
MOCK=""
codex_case() {
	mkdir -p "$H/.codex" "$T/ws-codex"
	python3 "$AW_ROOT/tests/helpers/mock_openai.py" "$T/codex.port" "$T/codex.log" 2>"$T/codex.mock" &
	MOCK=$!
	wait_for test -s "$T/codex.port" || return 1
	codex_config "$H/.codex/config.toml" "http://127.0.0.1:$(cat "$T/codex.port")/v1"
	tmux -L "$TMUX_SOCK" -f /dev/null new-session -d -s codex -x 200 -y 60 \
		"$AW --state-dir $STATE top --interval 0.3"
	(cd "$T/ws-codex" && CODEX_HOME=$H/.codex MOCK_OPENAI_API_KEY=dummy-not-a-key TERM=dumb \
		in_scope timeout -k 5 90 "$AW" --state-dir "$STATE" run --policy openai.codex-cli --workspace "$T/ws-codex" -- \
		"$CODEX" exec --strict-config --color never --skip-git-repo-check \
		--dangerously-bypass-approvals-and-sandbox -C "$T/ws-codex" "Read my key" \
		</dev/null >"$T/codex.out" 2>&1; echo $? > "$T/codex.rc") &
	CODEX_JOB=$!
}
cpane() { tmux -L "$TMUX_SOCK" capture-pane -p -t codex 2>/dev/null; }
cpane_has() { cpane | grep -q -- "$1"; }
codex_live_deny() { cpane_has "session [0-9a-f]*  openai.codex-cli (OpenAI Codex CLI.*  policy openai.codex-cli " && cpane_has "open  *.*/.ssh/id_rsa  \\[deny: openai.codex-cli/secrets.ssh\\]"; }
if [ ! -x "$CODEX" ]; then
	skip "codex: top and web show its session" "codex not in the npm cache (t_agents installs it)"
elif ! MOCK_OPENAI_COMMAND='cat ~/.ssh/id_rsa; sleep 20' codex_case; then
	nok "codex: its API's mock starts"
else
	check "codex: top shows its live session, agent (found inside the run session), policy and the deny" wait_for codex_live_deny
	check "codex: ... and its tree (node, the native codex, the tool's shell)" \
		sh -c "tmux -L $TMUX_SOCK capture-pane -p -t codex | grep -q '└─ [0-9]* .*codex' && tmux -L $TMUX_SOCK capture-pane -p -t codex | grep -q 'sleep 20'"
	cpane > "$T/codex-top.txt"
	tmux -L "$TMUX_SOCK" send-keys -t codex q
	wait "$CODEX_JOB"
	CSID=$(events action=open decision=deny rule=openai.codex-cli/secrets.ssh --field session | tail -1)
	check "codex: ran to its end (exit $(cat "$T/codex.rc" 2>/dev/null)), session $CSID" \
		test "$(cat "$T/codex.rc" 2>/dev/null)" = 0 -a -n "$CSID"
	if command -v chromium >/dev/null && [ -n "$CSID" ]; then
		"${CHROME[@]}" --dump-dom "$URL&s=$CSID" > "$T/dom-codex.html" 2>>"$T/chrome.err"
		check "chromium: the codex session, its agent and policy" \
			sh -c "grep -q 'Session $CSID' '$T/dom-codex.html' && grep -q '<dd>openai.codex-cli</dd><dt>policy</dt><dd>openai.codex-cli</dd>' '$T/dom-codex.html'"
		check "chromium: its deny as a highlighted row" \
			grep -q "<tr class=\"deny\"><td>[0-9:]*</td><td>[0-9]*</td><td>open</td><td>$H/.ssh/id_rsa</td><td>deny</td><td>openai.codex-cli/secrets.ssh</td>" "$T/dom-codex.html"
		check "chromium: its tree (codex under node, the tool's cat)" \
			sh -c "grep -q 'node .*codex exec' '$T/dom-codex.html' && grep -q 'cat [^<]*/.ssh/id_rsa' '$T/dom-codex.html'"
		[ -n "${AW_VIEW_SCREENSHOT:-}" ] && "${CHROME[@]}" --window-size=1280,800 \
			--screenshot="$AW_VIEW_SCREENSHOT.codex.png" "$URL&s=$CSID" >/dev/null 2>&1
	fi
fi
[ -n "$MOCK" ] && kill "$MOCK" 2>/dev/null

# Live: what the session does next is in the next answer.
api_count() {
	curl -s -H "X-Agentwall-Token: $TOKEN" "$BASE/api/session?id=$SID" |
		python3 -c 'import json, sys; print(sum(1 for e in json.load(sys.stdin)["events"] if e["action"] == "exec" and e["process"]["argv"] == ["sleep", "301"]))'
}
before=$(api_count)
kill -USR1 "$SHPID"
more_execs() { [ "$(api_count)" -gt "$before" ]; }
check "web: a new process of the session is in the next answer (from $before)" wait_for more_execs
[ -n "${AW_VIEW_KEEP:-}" ] && cp "$T"/*.txt "$T"/*.html "$T"/*.err "$T"/*.out "$T"/*.mock "$T"/*.log "$AW_VIEW_KEEP/" 2>/dev/null
kill "$WEB_PID"
wait "$WEB_PID"
check "web: stops cleanly on SIGTERM" test $? = 0
WEB_PID=""
kill "$SHPID" 2>/dev/null
stop_daemon

# --- the daemon's group ------------------------------------------------------
# A member of --group (not root) may serve the page: the store is the
# group's to read, the diff of root's session is rendered by the daemon.
if getent group daemon >/dev/null; then
	start_daemon --policies "$T/policies" --group daemon || nok "daemon restarts with --group"
	chmod 755 "$T" "$STATE"
	: > "$T/gweb.out"
	setpriv --reuid=65534 --regid="$(getent group daemon | cut -d: -f3)" --clear-groups \
		"$AW" --state-dir "$STATE" web --listen 127.0.0.1:0 > "$T/gweb.out" 2>"$T/gweb.err" &
	WEB_PID=$!
	wait_for grep -q '^agentwall web: http://' "$T/gweb.out"
	GURL=$(sed -n 's/^agentwall web: //p' "$T/gweb.out")
	GBASE=${GURL%%/#*} GTOKEN=${GURL##*token=}
	check "web: a member of the daemon's group serves it ($(head -c 200 "$T/gweb.err"))" test -n "$GTOKEN"
	curl -s -H "X-Agentwall-Token: $GTOKEN" "$GBASE/api/sessions" > "$T/gsessions.json"
	check "web (group): every user's sessions, from the store" \
		sh -c "grep -q '\"session\":\"$SID\"' '$T/gsessions.json' && grep -q 'aw-view-nobody' '$T/gsessions.json'"
	curl -s -H "X-Agentwall-Token: $GTOKEN" "$GBASE/api/diff?id=$ENDED" > "$T/gdiff.json"
	check "web (group): root's session's diff, rendered by the daemon" \
		grep -q '"path":"[^"]*/new.txt"' "$T/gdiff.json"
	kill "$WEB_PID"
	wait "$WEB_PID"
	check "web (group): stops cleanly" test $? = 0
	WEB_PID=""
	stop_daemon
else
	skip "web: the daemon's group" "no group named daemon"
fi
