# hitc_stdin.sh - stdin is read on the event loop: while the user (here a FIFO) has not
# typed the next command, answers to the ones already sent are read and printed. With a
# blocking read of stdin, hitc would sit in read(2) with the first answer unread.
. "$TOP/tests/lib.sh"
. "$TOP/tests/hitc_lib.sh"

start_hit || { fail "hit_server.py starts"; exit 1; }

mkfifo "$TMP/in"
"$SEALBOX" hitc --host 127.0.0.1 --port "$HIT_PORT" --bnr "$HIT_BNR" --pin-file "$TMP/pin" \
	--answer-timeout 20 --block 10 <"$TMP/in" >"$TMP/out" 2>"$TMP/err" &
hpid=$!
exec 3>"$TMP/in"
echo "XS:ECHO:first" >&3

# wait_out TEXT: up to 10 s for TEXT on hitc's stdout.
wait_out() {
	_i=0
	while ! grep -qF -- "$1" "$TMP/out" && [ $_i -lt 200 ]; do sleep 0.05; _i=$((_i + 1)); done
	grep -qF -- "$1" "$TMP/out"
}
check "the first answer is printed while stdin stays silent" wait_out ":ECHO:first"
check "hitc is still running, waiting for more input" kill -0 "$hpid"
echo "XS:ECHO:second" >&3
exec 3>&-
wait "$hpid"
rc=$?
expect_rc "end of stdin ends the session" 0
check "the second answer follows" grep -q '^=3:0/0:ECHO:second' "$TMP/out"
check "logoff after the last answer" sh -c "tail -1 '$TMP/out' | grep -q '^=99:'"

# A line longer than max_line is skipped with a clear message, the rest still runs.
{ echo "XS:ECHO:a"; head -c 3000 /dev/zero | tr '\0' x; echo; echo "XS:ECHO:b"; } >"$TMP/cmds"
hitc_run --max-line 1024 <"$TMP/cmds"
expect_rc "an overlong stdin line makes the run exit 65" 65
check "the overlong line is named" grep -q 'stdin line 2: longer than max_line' "$TMP/err"
check "the commands around it are answered" sh -c "grep -q ':ECHO:a\$' '$TMP/out' && grep -q ':ECHO:b\$' '$TMP/out'"

# stdin from /dev/null: no command, a clean logon and logoff, no warning.
hitc_run </dev/null
expect_rc "empty stdin: logon and logoff" 0
check "nothing on stderr for /dev/null" sh -c "! grep -q . '$TMP/err'"
