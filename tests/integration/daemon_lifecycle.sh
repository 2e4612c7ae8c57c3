#!/bin/sh
# daemon_lifecycle.sh - the one start-up order of core/daemon_run.c, seen from outside:
# every config key is a long option (no file needed, the command line beats the file),
# enums are typed at load with file:line, and a failure after detaching (pidfile, user)
# reaches the parent's stderr and exit status instead of a silent exit 0.
# applets: tunneld mailgw databox
. "$TOP/tests/lib.sh"

# --- tunneld from the command line alone
p=$(free_port)
if [ -e /etc/sealbox/tunneld.ini ]; then
	skip "tunneld without a file: /etc/sealbox/tunneld.ini exists here"
else
	bg "$SEALBOX" tunneld -d --listen 127.0.0.1:$p --state-dir "$TMP/st1" 2>"$TMP/t1.log"
	check "tunneld --listen --state-dir -d runs without a file" wait_port 127.0.0.1 $p 10
	kill "$last_pid" 2>/dev/null
fi

# --- the command line overrides the file
p1=$(free_port); p2=$(free_port)
printf '[tunneld]\nlisten = 127.0.0.1:%s\nstate_dir = %s/st2\n' "$p1" "$TMP" >"$TMP/t.ini"
bg "$SEALBOX" tunneld -d -c "$TMP/t.ini" --listen 127.0.0.1:$p2 2>"$TMP/t2.log"
check "--listen overrides the file's listen" wait_port 127.0.0.1 $p2 10
check "the file's listen is not used" sh -c "! /usr/bin/python3 -c 'import socket;socket.create_connection((\"127.0.0.1\",$p1),1)' 2>/dev/null"
kill "$last_pid" 2>/dev/null

# --- a bad option value is a usage error, a bad enum in the file names file:line
"$SEALBOX" tunneld -n --digits 9 >"$TMP/o" 2>&1; rc=$?
check "tunneld --digits 9: exit 64 naming the option" sh -c "[ $rc = 64 ] && grep -q -- '--digits' '$TMP/o'"
printf '[tunneld]\nlisten = 127.0.0.1:0\nlog_level = loud\n' >"$TMP/e.ini"
"$SEALBOX" tunneld -n -c "$TMP/e.ini" >"$TMP/o" 2>&1; rc=$?
check "log_level = loud: exit 78 with file:line" sh -c "[ $rc = 78 ] && grep -q '$TMP/e.ini:3: .*log_level' '$TMP/o'"
"$SEALBOX" tunneld --help >"$TMP/o" 2>&1
check "tunneld --help lists the keys as options" sh -c "grep -q -- '--state-dir' '$TMP/o' && grep -q -- '--max-clients' '$TMP/o'"

# --- failures after detaching reach the parent (no -d)
p=$(free_port)
"$SEALBOX" tunneld --listen 127.0.0.1:$p --state-dir "$TMP/st3" --pidfile "$TMP/no/such/dir/t.pid" >"$TMP/o" 2>&1; rc=$?
check "tunneld: a pidfile that cannot be written fails the start (exit $rc)" [ $rc != 0 ]
check "tunneld: the parent prints why" grep -q "pidfile $TMP/no/such/dir/t.pid" "$TMP/o"
if [ "$(id -u)" = 0 ]; then
	p=$(free_port)
	"$SEALBOX" tunneld --listen 127.0.0.1:$p --state-dir "$TMP/st4" --user no-such-user-sealbox >"$TMP/o" 2>&1; rc=$?
	check "tunneld: an unknown user fails the start after detaching (exit $rc)" sh -c "[ $rc = 77 ] && grep -q \"no-such-user-sealbox' does not exist\" '$TMP/o'"
	"$SEALBOX" mailgw --spool "$TMP/spool" --user no-such-user-sealbox >"$TMP/o" 2>&1; rc=$?
	check "mailgw: an unknown user fails the start after detaching (exit $rc)" sh -c "[ $rc = 77 ] && grep -q 'does not exist' '$TMP/o'"
	p=$(free_port)
	"$SEALBOX" databox serve --plain-http --listen 127.0.0.1:$p --state-dir "$TMP/db" --user no-such-user-sealbox >"$TMP/o" 2>&1; rc=$?
	check "databox serve: user is a key now; an unknown one fails the start (exit $rc)" sh -c "[ $rc = 77 ] && grep -q 'does not exist' '$TMP/o'"
else
	skip "unknown user after detaching: needs root"
fi
"$SEALBOX" mailgw --spool "$TMP/spool" --pidfile "$TMP/no/dir/m.pid" >"$TMP/o" 2>&1; rc=$?
check "mailgw: a pidfile that cannot be written fails the start (exit $rc)" sh -c "[ $rc != 0 ] && grep -q 'cannot write pidfile' '$TMP/o'"

# --- a good detached start: the parent exits 0 once the daemon is ready
p=$(free_port)
"$SEALBOX" tunneld --listen 127.0.0.1:$p --state-dir "$TMP/st5" -p "$TMP/t.pid" >"$TMP/o" 2>&1; rc=$?
check "tunneld detached: the parent exits 0 when ready" [ $rc = 0 ]
check "tunneld detached: it listens and wrote its pidfile" sh -c "[ -s '$TMP/t.pid' ] && kill -0 \$(cat '$TMP/t.pid')"
[ -s "$TMP/t.pid" ] && _pids="$_pids $(cat "$TMP/t.pid")"
wait_port 127.0.0.1 $p 5 || fail "tunneld detached: port $p"
p=$(free_port)
"$SEALBOX" databox serve --plain-http --listen 127.0.0.1:$p --state-dir "$TMP/db2" --pidfile "$TMP/d.pid" >"$TMP/o" 2>&1; rc=$?
check "databox serve detached with --pidfile: exit 0, pidfile written" sh -c "[ $rc = 0 ] && [ -s '$TMP/d.pid' ]"
[ -s "$TMP/d.pid" ] && _pids="$_pids $(cat "$TMP/d.pid")"
"$SEALBOX" databox --print-config >"$TMP/o" 2>&1; rc=$?
check "databox --print-config lists pidfile and user" sh -c "[ $rc = 0 ] && grep -q '^#pidfile =' '$TMP/o' && grep -q '^#user =' '$TMP/o'"
