#!/bin/sh
# viewer: exec (output, stderr, exit code, stdin), ls, get, put through a relay; the share
# refuses .. and symlink escapes; permissions and unknown sessions give 77 / 69.
. "$TOP/tests/lib.sh"
. "$TOP/tests/integration/vw_common.inc"

mkdir -p "$TMP/share/sub" "$TMP/local"
echo "top secret" >"$TMP/secret.txt"
printf 'hello viewer\n' >"$TMP/share/hello.txt"
head -c 300000 /dev/urandom >"$TMP/share/sub/rand.bin"
ln -s ../secret.txt "$TMP/share/escape"
start_relay
start_master --share "$TMP/share" --allow-exec --auto-approve

out=$(vc exec uname -a 2>"$TMP/c.err"); rc=$?
check "exec uname -a prints the master's uname" [ "$rc" = 0 -a "$out" = "$(uname -a)" ]
check "client prints an 8-digit SAS" grep -Eq 'SAS [0-9]{8}' "$TMP/c.err"
csas=$(sed -n 's/.*SAS \([0-9]\{8\}\).*/\1/p' "$TMP/c.err")
check "master prints the join with the same SAS" grep -Eq "^join [0-9]+ 127\.0\.0\.1:[0-9]+ SAS $csas\$" "$MOUT"
check "client prints its path" grep -q 'path relay-tcp' "$TMP/c.err"
check "master warns about --auto-approve" grep -q 'without checking' "$MERR"

vc exec sh -c 'echo out; echo err >&2; exit 7' >"$TMP/o" 2>"$TMP/e"; rc=$?
check "exec returns the remote exit code" [ "$rc" = 7 ]
check "exec keeps stdout and stderr apart" [ "$(cat "$TMP/o")" = out ]
check "exec stderr arrives on stderr" grep -q '^err$' "$TMP/e"
out=$(printf 'line1\nline2\n' | vc exec tr a-z A-Z 2>/dev/null)
check "exec forwards stdin" [ "$out" = "$(printf 'LINE1\nLINE2')" ]
vc exec /nonexistent/cmd >/dev/null 2>&1; rc=$?
check "exec of a missing command gives 127" [ "$rc" = 127 ]

out=$(vc ls 2>/dev/null); rc=$?
check "ls lists the share" holds '[ "$rc" = 0 ] && echo "$out" | grep -q '\''hello.txt'\'' && echo "$out" | grep -q '\''^d .*sub$'\'''
check "ls shows a symlink as l" sh -c "echo '$out' | grep -q '^l .*escape\$'"
out=$(vc ls sub 2>/dev/null)
check "ls DIR" sh -c "echo '$out' | grep -q '300000.rand.bin'"

vc get sub/rand.bin "$TMP/local/r.bin" 2>"$TMP/e"; rc=$?
check "get exits 0" [ "$rc" = 0 ]
check "get: same bytes" cmp -s "$TMP/share/sub/rand.bin" "$TMP/local/r.bin"
check "get reports the verified checksum" grep -q 'checksum verified' "$TMP/e"
check "get leaves no temporary file" [ "$(ls "$TMP/local")" = r.bin ]

head -c 123457 /dev/urandom >"$TMP/local/up.bin"
vc put "$TMP/local/up.bin" sub/up.bin 2>/dev/null; rc=$?
check "put exits 0" [ "$rc" = 0 ]
check "put: same bytes on the master" cmp -s "$TMP/local/up.bin" "$TMP/share/sub/up.bin"
check "put leaves no temporary file" sh -c "! ls -a '$TMP/share/sub' | grep -q sealbox-put"
: >"$TMP/local/empty"
vc put "$TMP/local/empty" empty 2>/dev/null
check "put of an empty file" [ -f "$TMP/share/empty" -a ! -s "$TMP/share/empty" ]

vc get ../secret.txt "$TMP/local/s1" 2>"$TMP/e"; rc=$?
check "get ../ is refused with 77" [ "$rc" = 77 -a ! -e "$TMP/local/s1" ]
check "the refusal says why" grep -q 'leaves the shared directory' "$TMP/e"
vc get escape "$TMP/local/s2" 2>/dev/null; rc=$?
check "get through a symlink is refused with 77" [ "$rc" = 77 -a ! -e "$TMP/local/s2" ]
vc put "$TMP/local/up.bin" ../evil.bin 2>/dev/null; rc=$?
check "put ../ is refused" [ "$rc" = 77 -a ! -e "$TMP/evil.bin" ]
vc put "$TMP/local/up.bin" escape 2>/dev/null
check "put over a symlink does not write through it" [ "$(cat "$TMP/secret.txt")" = "top secret" ]
vc get nothere "$TMP/local/n" 2>/dev/null; rc=$?
check "get of a missing file gives 66" [ "$rc" = 66 ]

"$SEALBOX" viewer-client --server "$RELAY" 99999 exec true 2>"$TMP/e"; rc=$?
[ "$SESSION" = 99999 ] || check "unknown session gives 69" [ "$rc" = 69 ]
check "unknown session says so" grep -q 'no-such-session' "$TMP/e"
"$SEALBOX" viewer-client --server 127.0.0.1:$(free_port) 12345 exec true 2>/dev/null; rc=$?
check "unreachable relay gives 69" [ "$rc" = 69 ]

# a terminal resize during an exec (no terminal on the master's side) changes nothing and
# costs nothing: the client once kept the signal pending and spun at 100% CPU until the end
"$SEALBOX" viewer-client --server "$RELAY" "$SESSION" exec sleep 3 >/dev/null 2>"$TMP/w.err" & wpid=$!
wait_log "$MERR" "exec sleep" 20 || fail "the exec did not start"
t0=$(awk '{print $14 + $15}' "/proc/$wpid/stat")
kill -WINCH "$wpid"
sleep 1 # on purpose: the CPU time taken over this second is what is measured
t1=$(awk '{print $14 + $15}' "/proc/$wpid/stat")
wait "$wpid"; rc=$?
check "SIGWINCH during an exec: no busy loop ($((t1 - t0)) ticks of CPU in 1 s), exit $rc" \
	[ $((t1 - t0)) -lt 30 -a "$rc" = 0 ]

# a second master without --allow-exec and without --share
kill -TERM "$MPID"; wait "$MPID"; mrc=$?
check "master exits 0 on SIGTERM (exit $mrc)" [ $mrc = 0 ]
[ $mrc = 0 ] || tail -15 "$MERR" | sed 's/^/# master: /'
exec 7>&-
start_master --auto-approve
vc exec true 2>"$TMP/e"; rc=$?
check "exec without --allow-exec gives 77" [ "$rc" = 77 ]
check "and says it is not allowed" grep -q 'does not allow' "$TMP/e"
vc ls 2>/dev/null; rc=$?
check "ls without --share gives 77" [ "$rc" = 77 ]
finish
