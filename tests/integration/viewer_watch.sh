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
check "watching after it ended gives 69" holds '[ "$rc" = 69 ] && grep -q '\''has ended'\'' "$TMP/w3.err"'
finish
exec 7>&-

# a late watcher first sees the tail of what was shown before it joined (screen replay)
start_master --auto-approve --present 'echo early-marker; i=0; while [ $i -lt 25 ]; do echo tick $i; i=$((i+1)); sleep 0.1; done'
vc watch >"$TMP/w4.out" 2>"$TMP/w4.err" & w4=$!
i=0; while [ $i -lt 100 ] && ! grep -q 'tick 3' "$TMP/w4.out" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
vc watch >"$TMP/w5.out" 2>"$TMP/w5.err" & w5=$!
wait $w4 $w5
check "the late watcher joined after the start" [ "$(grep -c tick "$TMP/w4.out")" -gt 3 ]
check "the late watcher still sees what was shown before it joined" grep -q 'early-marker' "$TMP/w5.out"
check "and then the live output" grep -q 'tick 24' "$TMP/w5.out"
check "the replay comes first, in order" sh -c "grep -o 'early-marker\|tick [0-9]*' '$TMP/w5.out' | head -5 | tr '\n' ' ' | grep -q '^early-marker tick 0 tick 1 tick 2 tick 3'"
finish
exec 7>&-
start_master --auto-approve
vc watch 2>/dev/null; rc=$?
check "watch without --present gives 77" [ "$rc" = 77 ]
finish
