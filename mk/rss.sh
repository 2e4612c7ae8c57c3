#!/bin/sh
# rss.sh BIN - idle resident memory (VmRSS) of the daemons the issue sets goals for, each
# started on loopback with a minimal configuration and measured once it listens:
# tunneld; viewer-master joined to that tunneld; mailgw with one SMTP listener.
# Printed by `make sizes`; a figure, not a test (RSS depends on the kernel and libc).
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
TOP=$(cd "$(dirname "$0")/.." && pwd)
SEALBOX=$BIN
export SEALBOX TOP
. "$TOP/tests/lib.sh"
rss() { awk '/^VmRSS/ { printf "%.1f MB", $2 / 1024 }' "/proc/$1/status" 2>/dev/null; }
have() { "$BIN" --list | grep -qx "$1"; }
name=$(basename "$(dirname "$BIN")")

if have tunneld; then
	rport=$(free_port)
	printf '[tunneld]\nlisten = 127.0.0.1:%s\nstate_dir = %s\n' "$rport" "$TMP" >"$TMP/t.ini"
	bg "$BIN" tunneld -d -c "$TMP/t.ini" 2>"$TMP/t.log"; tpid=$last_pid
	wait_port 127.0.0.1 "$rport" 20 && sleep 0.5
	echo "$name: idle RSS tunneld $(rss $tpid) (goal <= 2 MB)"
	if have viewer-master; then
		bg "$BIN" viewer-master --server 127.0.0.1:$rport --lan-listen 127.0.0.1:0 --auto-approve \
			</dev/null >"$TMP/m.out" 2>"$TMP/m.err"; mpid=$last_pid
		i=0; while [ $i -lt 200 ] && ! grep -q '^session ' "$TMP/m.out"; do sleep 0.05; i=$((i + 1)); done
		sleep 0.5
		echo "$name: idle RSS viewer-master $(rss $mpid) (goal <= 3 MB)"
	fi
fi
if have mailgw; then
	certs >/dev/null 2>&1 || true
	mport=$(free_port)
	printf '[mailgw]\nhostname = mx.test\nspool = %s/spool\n[delivery]\n[listener in]\nlisten = 127.0.0.1:%s\nmode = smtp\ncert = %s/server.pem\nkey = %s/server.key\n' \
		"$TMP" "$mport" "$CERTS" "$CERTS" >"$TMP/mg.ini"
	bg "$BIN" mailgw -d -c "$TMP/mg.ini" 2>"$TMP/mg.log"; gpid=$last_pid
	wait_port 127.0.0.1 "$mport" 20 && sleep 0.5
	echo "$name: idle RSS mailgw $(rss $gpid) (goal <= 4 MB)"
fi
