# hitc_plain.sh - hitc against tests/hit_server.py without encryption: the plain LOGON,
# commands one at a time, multi-part answers, severities and exit codes, a wrong PIN,
# four failed logons, the server closing mid-answer, stdin, an ini file.
. "$TOP/tests/lib.sh"
. "$TOP/tests/hitc_lib.sh"

start_hit || { fail "hit_server.py starts"; exit 1; }

hitc_run XS:ECHO:hallo RS:TIERHALTER:x
expect_rc "plain logon, two commands, logoff" 0
printf '%s\n' '=1:0/223:LOGON/*:Anmeldung erfolgreich.' '=2:0/0:ECHO:hallo' \
	'%3:0/0:TIERHALTER/NAME:Müller, Jürgen' '%3:0/0:TIERHALTER/ORT:Weißenburg in Bayern' \
	'=3:0/0:TIERHALTER:2 Sätze' '=99:0/251:LOGOFF/*:Abmeldung erfolgreich.' >"$TMP/want"
tail -n +2 "$TMP/out" >"$TMP/got"
check "answers printed as received, multi-part answer complete, Latin-1 shown as UTF-8" cmp -s "$TMP/want" "$TMP/got"
check "greeting printed first" sh -c "head -1 '$TMP/out' | grep -q '^=0:0/2600::HitServer bereit\. .*Prüfsystem.*Challenge -\{0,1\}[0-9]*\$'"
check "server saw a plain LOGON with BNR15;PIN;MELD_WG" grep -q '"event": "logon", "encrypted": false, "columns": \["BNR15", "PIN", "MELD_WG"\]' "$TMP/hit.log"
check "nothing on stderr without -v" test ! -s "$TMP/err"

hitc_run -v XS:ECHO:verbose
expect_rc "-v on a plain session" 0
check "-v: the plain LOGON is shown with the PIN masked" grep -q 'LOGON/BNR15;PIN;MELD_WG:276090000000001;\*\*\*;4' "$TMP/err"
check "-v: the PIN never appears on stderr" sh -c "! grep -qF '900001' '$TMP/err'"

hitc_run --mbn 7 --meld-wg 1 --timeout 300 XS:ECHO:x
expect_rc "MBN, MELD_WG, TIMEOUT columns" 0
check "server saw MBN 7, MELD_WG 1, TIMEOUT 300" grep -q '"timeout": "300", "mbn": "7", "meld_wg": "1"' "$TMP/hit.log"

hitc_run '*42:XS:ECHO:renumbered'
check "a leading *SEQ: is replaced by hitc's own sequence number" grep -qx '=2:0/0:ECHO:renumbered' "$TMP/out"

hitc_run XS:HINT: XS:WARN: XS:ECHO:z
expect_rc "severity 1 and 2 are not errors" 0

hitc_run XS:FAIL: XS:ECHO:after
expect_rc "a severity-3 answer" 65
check "commands after a severity-3 answer still run" grep -qx '=3:0/0:ECHO:after' "$TMP/out"
check "logoff after a severity-3 answer" grep -q '^=99:0/251' "$TMP/out"

hitc_run XS:FATAL: XS:ECHO:never
expect_rc "a severity-4 answer" 69
check "severity-4 line printed, nothing sent after it" sh -c "grep -q '^=2:4/999:FATAL' '$TMP/out' && ! grep -q never '$TMP/out'"

hitc_run XS:CUT: XS:ECHO:never
expect_rc "server closes mid-answer" 69
check "the complete part before the cut is printed" grep -qx '%2:0/0:CUT:erster Teil' "$TMP/out"
check "the half line is not printed as an answer" sh -c "! grep -q 'CUT:zwei' '$TMP/out'"
check "stderr says the connection ended" grep -q 'closed the connection' "$TMP/err"

printf 'wrong\n' >"$TMP/badpin"
"$SEALBOX" hitc --host 127.0.0.1 --port "$HIT_PORT" --bnr "$HIT_BNR" --pin-file "$TMP/badpin" XS:ECHO:x >"$TMP/out" 2>"$TMP/err"
rc=$?
expect_rc "wrong PIN" 65
check "wrong PIN: the server's answer is shown" grep -qx '=1:3/227:LOGON/PIN:PIN ist falsch.' "$TMP/out"
check "wrong PIN: no command sent" sh -c "! grep -q '^=2:' '$TMP/out'"
check "wrong PIN: stderr says the logon was refused" grep -q 'logon refused' "$TMP/err"

"$SEALBOX" hitc --host 127.0.0.1 --port "$HIT_PORT" --bnr 276010000000099 --pin-file "$TMP/pin" XS:ECHO:x >"$TMP/out" 2>"$TMP/err"
rc=$?
expect_rc "unknown BNR15" 65

HITC_PIN="$HIT_PIN" "$SEALBOX" hitc --host 127.0.0.1 --port "$HIT_PORT" --bnr '09 000 000 0001' XS:ECHO:env </dev/null >"$TMP/out" 2>"$TMP/err"
rc=$?
expect_rc "PIN from HITC_PIN, 12-digit BNR with spaces" 0

printf 'XS:ECHO:eins\n\n*7:XS:ECHO:zwei\r\nnot a command\nXS:ECHO:drei\n' >"$TMP/stdin"
hitc_run <"$TMP/stdin"
expect_rc "stdin: a line that is not a command" 65
check "stdin: good lines sent in order, bad one skipped" sh -c "grep -qx '=2:0/0:ECHO:eins' '$TMP/out' && grep -qx '=3:0/0:ECHO:zwei' '$TMP/out' && grep -qx '=4:0/0:ECHO:drei' '$TMP/out'"
check "stdin: the bad line is named on stderr" grep -q 'stdin line 4: not a command' "$TMP/err"

printf '[hitc]\nhost = 127.0.0.1\nport = %s\nbnr = %s\npin_file = %s\nblock = 3\n' "$HIT_PORT" "$HIT_BNR" "$TMP/pin" >"$TMP/hitc.ini"
"$SEALBOX" hitc -c "$TMP/hitc.ini" XS:ECHO:ini >"$TMP/out" 2>"$TMP/err"
rc=$?
expect_rc "all settings from [hitc] in -c FILE" 0
check "ini session answered" grep -qx '=2:0/0:ECHO:ini' "$TMP/out"
"$SEALBOX" hitc -c "$TMP/hitc.ini" --port 1 XS:ECHO:ini >"$TMP/out" 2>"$TMP/err"
rc=$?
expect_rc "a command-line option overrides the file (port 1: connect fails)" 69
check "connect failure named on stderr" grep -q 'cannot connect to 127.0.0.1 port 1' "$TMP/err"

stop_hit
start_hit --prior-failures 3 || fail "hit_server.py restarts"
"$SEALBOX" hitc --host 127.0.0.1 --port "$HIT_PORT" --bnr "$HIT_BNR" --pin-file "$TMP/badpin" XS:ECHO:x >"$TMP/out" 2>"$TMP/err"
rc=$?
expect_rc "fourth failed logon: severity 4 and close" 69
check "fourth failure: the 4/190 line is printed" grep -q '^=1:4/190:LOGON:Nach mehreren ungültigen Versuchen' "$TMP/out"

stop_hit
start_hit || fail "hit_server.py restarts"
/usr/bin/python3 - "$HIT_PORT" >"$TMP/py" 2>&1 <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
f.readline()
sev = []
for i in range(4):
    s.sendall(b"*1:XS:LOGON/BNR15;PIN;MELD_WG:276090000000001;x;4\r\n")
    sev.append(f.readline()[3:4].decode())
print(",".join(sev), f.readline())
PY
check "test server: failures 1-3 severity 3, the 4th severity 4, then EOF" grep -qx "3,3,3,4 b''" "$TMP/py"

stop_hit
start_hit --extra-hello || fail "hit_server.py restarts"
hitc_run XS:ECHO:x
expect_rc "a multi-part greeting" 0
check "both greeting parts printed" sh -c "head -2 '$TMP/out' | grep -q '^%0:1/2601' && sed -n 2p '$TMP/out' | grep -q '^=0:0/2600'"

# The LOGON TIMEOUT column: the server drops an idle session with a severity-4 line.
# (sleep 2: the session must stay idle past its --timeout 1; the wait is what is tested)
stop_hit
start_hit || fail "hit_server.py restarts"
{ echo XS:ECHO:before; sleep 2; echo XS:ECHO:late; } | "$SEALBOX" hitc --host 127.0.0.1 --port "$HIT_PORT" \
	--bnr "$HIT_BNR" --pin-file "$TMP/pin" --timeout 1 >"$TMP/out" 2>"$TMP/err"
rc=$?
expect_rc "server TIMEOUT while hitc waits for stdin" 69
check "TIMEOUT: the answer before the pause, then the server's severity-4 line" sh -c \
	"grep -qx '=2:0/0:ECHO:before' '$TMP/out' && grep -q '^=0:4/199::Zeit' '$TMP/out'"

# A server that accepts and never speaks: the answer timeout ends hitc.
silent_port=$(free_port)
bg /usr/bin/python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4)
keep=[]
while True: keep.append(s.accept())' "$silent_port"
wait_port 127.0.0.1 "$silent_port"
"$SEALBOX" hitc --host 127.0.0.1 --port "$silent_port" --bnr "$HIT_BNR" --pin-file "$TMP/pin" \
	--answer-timeout 1 XS:ECHO:x >"$TMP/out" 2>"$TMP/err"
rc=$?
expect_rc "no greeting within --answer-timeout" 69
check "timeout named on stderr" grep -q 'no answer from the server within 1 s' "$TMP/err"

# IPv6: the same session over ::1.
stop_hit
if start_hit --host ::1 2>/dev/null; then
	"$SEALBOX" hitc --host ::1 --port "$HIT_PORT" --bnr "$HIT_BNR" --pin-file "$TMP/pin" XS:ECHO:v6 >"$TMP/out" 2>"$TMP/err"
	rc=$?
	expect_rc "session over IPv6 (::1)" 0
	check "IPv6 answer printed" grep -qx '=2:0/0:ECHO:v6' "$TMP/out"
else
	skip "session over IPv6: no ::1 on this machine"
fi
