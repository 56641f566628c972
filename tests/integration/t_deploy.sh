#!/bin/bash
# Deployed like a system service: `meson install` puts every file where
# the prefix, sysconfdir, localstatedir and runstatedir say (and today's
# paths with meson's defaults), the manuals render, the completions load,
# the unit verifies; agentwalld reads agentwalld.conf (flags override it,
# a bad or group-writable file stops it) and tells systemd it is ready.
. "$(dirname "$0")/../lib.sh"

I=$T/inst
B=$T/build
echo "# building and installing into $I (a few minutes on 2 cores)"
if meson setup --prefix "$I" "$B" "$AW_ROOT" >"$T/setup.log" 2>&1 &&
	ninja -C "$B" >"$T/ninja.log" 2>&1 &&
	meson install -C "$B" >"$T/install.log" 2>&1; then
	ok "meson setup --prefix \$T/inst, build, meson install"
else
	nok "meson setup --prefix \$T/inst, build, meson install"
	tail -20 "$T"/setup.log "$T"/ninja.log "$T"/install.log | sed 's/^/# /'
	exit 1
fi

missing=""
for f in bin/agentwalld bin/agentwall libexec/agentwall/agentwall-full \
	lib/systemd/system/agentwalld.service \
	etc/agentwall/agentwalld.conf share/agentwall/agentwalld.conf \
	share/man/man1/agentwall.1 share/man/man8/agentwalld.8 \
	share/man/man5/agentwall-policy.5 share/man/man5/agentwall-signatures.5 \
	share/bash-completion/completions/agentwall \
	share/bash-completion/completions/agentwalld \
	share/zsh/vendor-completions/_agentwall \
	share/agentwall/policies/default.yaml share/agentwall/policies/README.md \
	share/agentwall/signatures/openai.yaml share/agentwall/signatures/README.md; do
	[ -f "$I/$f" ] || missing="$missing $f"
done
check "every file lands under the prefix${missing:+: missing$missing}" test -z "$missing"
# Execute-only: exec makes it non-dumpable before its first instruction,
# so no process of the same user attaches to a launcher.
check "the launcher is installed execute-only (0711)" test "$(stat -c %a "$I/bin/agentwall")" = 711
check "  ... and an ordinary user runs it" \
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$I/bin/agentwall" --version
n_pol=$(ls "$AW_ROOT"/policies/*.yaml | wc -l)
n_sig=$(ls "$AW_ROOT"/signatures/*.yaml | wc -l)
check "all $n_pol policy templates and $n_sig signature files installed for reading" \
	test "$(ls "$I"/share/agentwall/policies/*.yaml | wc -l)" = "$n_pol" -a \
	"$(ls "$I"/share/agentwall/signatures/*.yaml | wc -l)" = "$n_sig"
check "binaries are executable" test -x "$I/bin/agentwalld" -a -x "$I/bin/agentwall"
# The commands of agentwall-full, run by the installed agentwall from
# libexec (nothing beside it in bin/).
check "installed agentwall runs agentwall-full's commands (signatures list)" \
	bash -c "'$I/bin/agentwall' signatures list | grep -q openai.codex-cli"
check "  ... and links neither SQLite nor libcrypto itself" \
	bash -c "! ldd '$I/bin/agentwall' | grep -qE 'libsqlite3|libcrypto'"

# The paths compiled in follow the prefix.
v=$("$I/bin/agentwalld" --version)
check "agentwalld --version: version and git revision" grep -qE '^agentwalld [0-9]+\.[0-9]+\.[0-9]+ \(git [0-9a-f]' <<<"$v"
check "  ... configuration under sysconfdir, state under localstatedir" \
	grep -qF "configuration $I/etc/agentwall/agentwalld.conf, state $I/var/lib/agentwall, runtime $I/var/run/agentwall" <<<"$v"
h=$("$I/bin/agentwalld" --help)
check "agentwalld --help names the installed paths" \
	grep -qF "$I/etc/agentwall/policies.d" <<<"$h"
check "agentwall --help names the installed state directory" \
	bash -c "'$I/bin/agentwall' --help | grep -qF '$I/var/lib/agentwall'"

# meson's own defaults: today's paths (no build needed to see them).
meson setup "$T/b-default" "$AW_ROOT" >/dev/null 2>&1
meson setup --prefix /usr "$T/b-usr" "$AW_ROOT" >/dev/null 2>&1
meson setup --prefix /opt/aw -Dsysconfdir=/etc/opt/aw -Dlocalstatedir=/var/opt/aw \
	"$T/b-opt" "$AW_ROOT" >/dev/null 2>&1
paths() { sed -n 's/^#define \(AW_[A-Z_]*\) "\(.*\)"$/\1=\2/p' "$1/aw_paths.h" | sort | tr '\n' ' '; }
want="AW_CLI_FULL=/usr/local/libexec/agentwall/agentwall-full AW_CONF_DIR=/etc/agentwall AW_DEFAULT_CONF=/etc/agentwall/agentwalld.conf AW_DEFAULT_EXTRA_POLICIES=/etc/agentwall/policies.d AW_DEFAULT_EXTRA_SIGS=/etc/agentwall/signatures.d AW_DEFAULT_LAUNCHER=/usr/local/bin/agentwall AW_DEFAULT_RUN_DIR=/run/agentwall AW_DEFAULT_STATE_DIR=/var/lib/agentwall "
got=$(paths "$T/b-default")
check "meson defaults (prefix /usr/local): /etc, /var/lib, /run, /usr/local/bin as before, /usr/local/libexec" test "$got" = "$want"
[ "$got" = "$want" ] || echo "# got: $got"
got=$(paths "$T/b-usr")
check "prefix /usr (Debian): /etc, /var/lib, /run, /usr/bin, /usr/libexec" \
	test "$got" = "${want//usr\/local/usr}"
got=$(paths "$T/b-opt")
check "explicit sysconfdir and localstatedir are honoured" \
	grep -qF "AW_DEFAULT_CONF=/etc/opt/aw/agentwall/agentwalld.conf AW_DEFAULT_EXTRA_POLICIES=/etc/opt/aw/agentwall/policies.d AW_DEFAULT_EXTRA_SIGS=/etc/opt/aw/agentwall/signatures.d AW_DEFAULT_LAUNCHER=/opt/aw/bin/agentwall AW_DEFAULT_RUN_DIR=/var/opt/aw/run/agentwall AW_DEFAULT_STATE_DIR=/var/opt/aw/lib/agentwall" <<<"$got"
meson setup --prefix /usr -Drunstatedir=/srv/run "$T/b-run" "$AW_ROOT" >/dev/null 2>&1
check "runstatedir is honoured" grep -q 'AW_DEFAULT_RUN_DIR "/srv/run/agentwall"' "$T/b-run/aw_paths.h"
rm -rf "$T/b-default" "$T/b-usr" "$T/b-opt" "$T/b-run"

# DESTDIR: the same tree below it, nothing outside it.
meson install -C "$B" --destdir "$T/dest" >/dev/null 2>&1
check "meson install --destdir: the tree lands under DESTDIR" \
	test -x "$T/dest$I/bin/agentwalld" -a -f "$T/dest$I/etc/agentwall/agentwalld.conf"
# An administrator's configuration is never overwritten by an install.
echo "mode = enforce" >> "$T/dest$I/etc/agentwall/agentwalld.conf"
meson install -C "$B" --destdir "$T/dest" >/dev/null 2>&1
check "a second install keeps an edited agentwalld.conf" \
	grep -q '^mode = enforce' "$T/dest$I/etc/agentwall/agentwalld.conf"
rm -rf "$T/dest"

# The sample: every key commented out, and the daemon takes it as is.
keys=$(sed -n 's/^#\([a-z-]*\) =.*/\1/p' "$I/etc/agentwall/agentwalld.conf" | sort | tr '\n' ' ')
opts=$("$I/bin/agentwalld" --help | grep -o '^  --[a-z-]*' | sed 's/^  --//' |
	grep -vx 'config\|version\|help' | sort | tr '\n' ' ')
check "the sample conf names every daemon option, commented out" test "$keys" = "$opts"
[ "$keys" = "$opts" ] || echo "# keys: $keys / options: $opts"
check "  ... with no active line" test -z "$(grep -v '^#' "$I/etc/agentwall/agentwalld.conf" | grep .)"

# Manuals.
bad=""
for m in "$I"/share/man/man*/*; do
	w=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$m" 2>&1)
	[ -z "$w" ] || { bad="$bad $(basename "$m")"; echo "# $w"; }
	MANWIDTH=80 man -l "$m" 2>/dev/null | grep -q 'NAME' || bad="$bad $(basename "$m")(man)"
done
check "man pages render without warnings (groff -man -ww, man -l)${bad:+: not$bad}" test -z "$bad"
check "agentwalld(8) names the installed configuration file" \
	bash -c "MANWIDTH=200 man -l '$I/share/man/man8/agentwalld.8' 2>/dev/null | grep -qF '$I/etc/agentwall/agentwalld.conf'"
check "no unsubstituted @VAR@ in the man pages, unit or sample conf" \
	bash -c "! grep -l '@[A-Za-z]*@' '$I'/share/man/man*/* '$I/lib/systemd/system/agentwalld.service' '$I/etc/agentwall/agentwalld.conf'"

# Completion.
check "bash completion loads: complete -p agentwall" \
	bash -c "source '$I/share/bash-completion/completions/agentwall' && complete -p agentwall | grep -q _agentwall"
check "  ... and agentwalld" \
	bash -c "source '$I/share/bash-completion/completions/agentwalld' && complete -p agentwalld | grep -q _agentwalld"
comp() { # comp WORD...: what bash completes for the last (possibly empty) word
	PATH="$I/bin:$PATH" bash -c 'source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1));
		if [ "$1" = agentwalld ]; then _agentwalld; else _agentwall; fi; printf "%s\n" "${COMPREPLY[@]}"' \
		"$I/share/bash-completion/completions/agentwall" "$@"
}
check "bash: commands" bash -c '[ "$(echo $(cat))" = "diff discard" ]' < <(comp agentwall di)
check "bash: log --decision values" bash -c '[ "$(echo $(cat))" = "allow audit" ]' < <(comp agentwall log --decision a)
check "bash: agentwalld --mode values" bash -c '[ "$(echo $(cat))" = "audit enforce" ]' < <(comp agentwalld --mode "")
if command -v zsh >/dev/null; then
	check "zsh completion parses (zsh -n)" zsh -n "$I/share/zsh/vendor-completions/_agentwall"
	check "zsh completion loads under compinit" zsh -fc "fpath=('$I/share/zsh/vendor-completions' \$fpath); autoload -Uz compinit; compinit -u -d '$T/zcd'; [[ \${_comps[agentwall]} == _agentwall && \${_comps[agentwalld]} == _agentwall ]]"
else
	skip "zsh completion parses" "zsh is not installed"
fi

# The unit.
U=$I/lib/systemd/system/agentwalld.service
check "unit: Type=notify, ExecStart is the installed daemon" \
	bash -c "grep -qx 'Type=notify' '$U' && grep -qx 'ExecStart=$I/bin/agentwalld' '$U'"
if command -v systemd-analyze >/dev/null; then
	out=$(systemd-analyze verify --man=no "$U" 2>&1)
	check "systemd-analyze verify: no complaint" test -z "$out"
	[ -z "$out" ] || echo "$out" | sed 's/^/# /'
else
	skip "systemd-analyze verify" "systemd-analyze is not installed"
fi

# agentwalld.conf: the installed daemon reads $I/etc/agentwall/agentwalld.conf.
AWD=$I/bin/agentwalld
C=$I/etc/agentwall/agentwalld.conf
mode() { aw status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon"]["mode"])'; }
printf '# test\n\nmode = enforce\nsessions-max = "12"\nquiet = yes\n' > "$C"
chmod 0600 "$C"
if start_daemon; then
	check "a key from agentwalld.conf takes effect (mode = enforce)" test "$(mode)" = enforce
	check "  ... quiet = yes: nothing printed per event" test ! -s "$T/daemon.out"
	stop_daemon
else
	nok "the daemon starts with agentwalld.conf"
fi
if start_daemon --mode audit; then
	check "a flag overrides the file (--mode audit)" test "$(mode)" = audit
	stop_daemon
else
	nok "the daemon starts with a flag overriding agentwalld.conf"
fi
refused() { # refused NAME EXPECTED-MESSAGE: the daemon does not start
	local rc
	"$AWD" --scope "cgroup:$CG" --state-dir "$STATE" --bpffs-dir "$PINS" >"$T/o" 2>&1
	rc=$?
	check "$1: refused (exit $rc)" test "$rc" != 0
	check "  ... saying: $2" grep -qF -- "$2" "$T/o"
	check "  ... nothing loaded" test ! -e "$PINS"
}
printf 'mode = enforce\n\nmode = loud\n' > "$C"
refused "a bad value" "agentwalld: $C:3: mode loud: expected audit or enforce"
printf '# c\nfrobnicate = 1\n' > "$C"
refused "an unknown key" "$C:2: unknown key \"frobnicate\""
printf 'mode enforce\n' > "$C"
refused "a line without =" "$C:1: expected key = value"
printf 'json = maybe\n' > "$C"
refused "a bad boolean" "$C:1: json = maybe: expected true, false, yes or no"
printf 'session-quota = 1M\n' > "$C"
refused "a value a flag would refuse too" "$C:1: session-quota 1M: expected a size"
printf 'config = /x\n' > "$C"
refused "config is not a key" "$C:1: unknown key \"config\""
printf 'mode = audit\n' > "$C"
chmod 0664 "$C"
refused "a group-writable file" "$C: writable by others (mode 0664): refusing"
chmod 0602 "$C"
refused "a world-writable file" "$C: writable by others (mode 0602): refusing"
chmod 0600 "$C"
chown 1:1 "$C"
refused "a file owned by another user" "$C: owned by uid 1, not root"
chown 0:0 "$C"
"$AWD" --config "$T/nope.conf" >"$T/o" 2>&1
check "--config FILE that does not exist: refused" \
	bash -c "[ $? != 0 ] && grep -qF '$T/nope.conf: No such file or directory' '$T/o'"
printf 'mode = loud\n' > "$C"
check "--help works whatever the file says" bash -c "'$AWD' --help | grep -q '^Usage: agentwalld'"
check "--version too" bash -c "'$AWD' --version | grep -q '^agentwalld '"

# sd_notify: a missing file is no configuration; READY=1 reaches
# $NOTIFY_SOCKET (abstract, as systemd uses, and a path), STOPPING=1 too.
rm -f "$C"
"$AWD" --mode loud > "$T/o" 2>&1
check "flags: same message as before the file existed (usage error 2)" \
	bash -c "[ $? = 2 ] && grep -qx 'agentwalld: --mode loud: expected audit or enforce' '$T/o'"
"$AWD" --scope "cgroup:$T/no-such-cgroup" --state-dir "$T/scope-state" > "$T/o" 2>&1
check "a --scope cgroup that is not there: refused (exit 1) before any store is made" \
	bash -c "[ $? = 1 ] && grep -qF 'cgroup:$T/no-such-cgroup: No such file or directory' '$T/o' && [ ! -e '$T/scope-state' ]"
notify_listen() { # ADDR OUT: record each datagram as one line in OUT
	python3 - "$1" "$2" <<'PY' &
import socket, sys
addr, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
open(out + ".bound", "w").close()
s.settimeout(60)
with open(out, "w") as f:
    try:
        while True:
            m = s.recv(4096).decode()
            f.write(m.replace("\n", "|") + "\n"); f.flush()
            if "STOPPING=1" in m:
                break
    except socket.timeout:
        pass
PY
	NOTIFY_PID=$!
	wait_for test -e "$2.bound"
}
for addr in "@$ID.notify" "$T/notify.sock"; do
	notify_listen "$addr" "$T/notify.out"
	AWD_WRAP=(env NOTIFY_SOCKET="$addr")
	if start_daemon; then
		check "sd_notify to $addr: READY=1 when the control socket answers" \
			wait_for grep -q 'READY=1' "$T/notify.out"
		check "  ... with a STATUS= line" grep -q 'STATUS=backend .*, mode audit, [0-9]* signatures' "$T/notify.out"
		stop_daemon
		check "  ... STOPPING=1 when it stops" wait_for grep -q 'STOPPING=1' "$T/notify.out"
	else
		nok "the daemon starts with no agentwalld.conf and NOTIFY_SOCKET=$addr"
	fi
	kill "$NOTIFY_PID" 2>/dev/null; wait "$NOTIFY_PID" 2>/dev/null
	rm -f "$T/notify.out" "$T/notify.out.bound" "$T/notify.sock"
done
AWD_WRAP=()

# The unit's seccomp-based hardening (RestrictAddressFamilies,
# LockPersonality, RestrictRealtime, SystemCallArchitectures), applied the
# way systemd does by a helper: the daemon starts, builds a session, keeps
# its change. And completion from that running daemon: session and
# policy ids.
AWD_WRAP=("$AW_BUILD/tests/aw-unitfilter")
if start_daemon; then
	ok "the daemon starts under the unit's seccomp hardening"
	mkdir -p "$T/ws"
	( cd "$T/ws" && in_scope "$I/bin/agentwall" --state-dir "$STATE" run --policy coding-agent \
		--workspace "$T/ws" -- /bin/sh -c 'echo x > new.txt' >/dev/null 2>&1 )
	sid=$(aw sessions --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["session"])' 2>/dev/null)
	check "  ... a session runs in its sandbox and its change is kept for review" \
		bash -c "'$I/bin/agentwall' --state-dir '$STATE' diff '$sid' | grep -q '^+x'"
	check "  ... its store is mounted where the host sees it" \
		grep -q " $STATE/sessions/$sid/fs " /proc/self/mountinfo
	check "bash: diff completes the session ids (and last)" \
		bash -c '[ -n "$1" ] && [ "$(echo $(cat))" = "$1 last" ]' x "$sid" < <(comp agentwall --state-dir "$STATE" diff "")
	check "bash: run --session completes them too" \
		bash -c '[ -n "$1" ] && grep -qx "$1"' x "$sid" < <(comp agentwall --state-dir "$STATE" run --session "")
	check "bash: commit SESSION completes paths, not sessions" \
		bash -c '! grep -qx last' < <(cd "$T/ws" && comp agentwall --state-dir "$STATE" commit "$sid" "")
	check "bash: run --policy completes the daemon's policy ids" \
		bash -c 'grep -qx default && true' < <(comp agentwall --state-dir "$STATE" run --policy "")
	aw discard "$sid" >/dev/null 2>&1
	stop_daemon
else
	nok "the daemon starts under the unit's seccomp hardening"
fi
AWD_WRAP=()

# Why the unit sets no ProtectSystem=, ProtectHome=, PrivateTmp=, ...: each
# gives the service a mount namespace of its own (as unshare -m does), and
# the session stores the daemon mounts are then not the host's.
AWD_WRAP=(unshare -m --propagation slave)
if start_daemon; then
	( cd "$T/ws" && in_scope "$I/bin/agentwall" --state-dir "$STATE" run --policy coding-agent \
		--workspace "$T/ws" -- /bin/sh -c 'echo y > other.txt' >/dev/null 2>&1 )
	sid=$(aw sessions --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["session"])' 2>/dev/null)
	check "in a mount namespace of its own, the daemon's store mount is not the host's (why the unit has no Protect*/Private* mount settings)" \
		bash -c "grep -q ' $STATE/sessions/$sid/fs ' /proc/$DAEMON_PID/mountinfo && ! grep -q ' $STATE/sessions/$sid/fs ' /proc/self/mountinfo"
	aw discard "$sid" >/dev/null 2>&1
	stop_daemon
else
	nok "the daemon starts in a mount namespace of its own"
fi
AWD_WRAP=()
