#!/bin/sh
# viewer: `watch` follows the terminal the master presents (--present CMD), live, with
# several clients at once; they end with the presented command's exit code.
. "$TOP/tests/lib.sh"
. "$TOP/tests/integration/vw_common.inc"

start_relay
start_master --auto-approve --present 'i=0; while [ $i -lt 30 ]; do echo tick $i; i=$((i+1)); sleep 0.1; done; tty; exit 4'
vc watch >"$TMP/w1.out" 2>"$TMP/w1.err" & w1=$!
vc watch >"$TMP/w2.out" 2>"$TMP/w2.err" & w2=$!
wait $w1; r1=$?
wait $w2; r2=$?
check "first watcher sees the presented output" grep -q 'tick 29' "$TMP/w1.out"
check "second watcher, at the same time, too" grep -q 'tick 29' "$TMP/w2.out"
check "it is a terminal on the master (a pty)" grep -q '/dev/pts/' "$TMP/w1.out"
check "watchers end with the command's exit code" [ "$r1" = 4 -a "$r2" = 4 ]
vc watch >/dev/null 2>"$TMP/w3.err"; rc=$?
check "watching after it ended gives 69" [ "$rc" = 69 ] && grep -q 'has ended' "$TMP/w3.err"
finish
exec 7>&-
start_master --auto-approve
vc watch 2>/dev/null; rc=$?
check "watch without --present gives 77" [ "$rc" = 77 ]
finish
