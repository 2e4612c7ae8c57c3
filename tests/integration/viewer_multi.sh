#!/bin/sh
# viewer: two clients in one session at once; the master kicks one, which is cut off
# (exit 77), and sends the other a new group key, while it carries on under its own keys.
. "$TOP/tests/lib.sh"
. "$TOP/tests/integration/vw_common.inc"

mkdir -p "$TMP/share"
head -c 20000000 /dev/urandom >"$TMP/share/f.bin"
start_relay
start_master --share "$TMP/share" --allow-exec --auto-approve

wait_line() { # PATTERN FILE: up to 10 s
	i=0
	while [ $i -lt 200 ] && ! grep -Eq "$1" "$2" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
	grep -Eq "$1" "$2"
}

# two at once: a 20 MB get and a slow exec overlap
vc get f.bin "$TMP/f1" 2>"$TMP/g.err" & g=$!
vc exec sh -c 'for i in 1 2 3; do echo $i; sleep 0.2; done' >"$TMP/x.out" 2>/dev/null & x=$!
wait $g; rg=$?
wait $x; rx=$?
check "two clients at once: get ok" holds '[ "$rg" = 0 ] && cmp -s "$TMP/share/f.bin" "$TMP/f1"'
check "two clients at once: exec ok" [ "$rx" = 0 -a "$(cat "$TMP/x.out" | tr -d '\n')" = 123 ]

# kick + re-key
vc exec sh -c 'sleep 3; echo A-done' >"$TMP/a.out" 2>"$TMP/a.err" & a=$!
wait_line 'approved' "$TMP/a.err"
aid=$(sed -n 's/.*joined session [0-9]* as client \([0-9]*\).*/\1/p' "$TMP/a.err")
vc exec sh -c 'sleep 3; echo B-done' >"$TMP/b.out" 2>"$TMP/b.err" & b=$!
wait_line 'approved' "$TMP/b.err"
# the kick comes once both commands run on the master (B's exec must outlive A's kick)
bid=$(sed -n 's/.*joined session [0-9]* as client \([0-9]*\).*/\1/p' "$TMP/b.err")
wait_line "client $aid: exec sh" "$MERR" || fail "A's exec did not start"
wait_line "client $bid: exec sh" "$MERR" || fail "B's exec did not start"
echo "kick $aid" >&7
wait $a; ra=$?
wait $b; rb=$?
check "kicked client exits 77" [ "$ra" = 77 ]
check "kicked client is told so" grep -q 'kicked' "$TMP/a.err"
check "kicked client gets no more output" [ ! -s "$TMP/a.out" ]
check "master prints the kick" grep -q "^kicked $aid " "$MOUT"
# every member that leaves (the two above, and A) makes a new group epoch
check "master re-keys the group after the kick" sh -c "sed -n '/^kicked $aid /,\$p' '$MOUT' | grep -q '^rekeyed epoch [0-9]*$'"
check "remaining client received the new group key" grep -q 'group key re-keyed (epoch [0-9]*)' "$TMP/b.err"
check "remaining client carries on under the new key" [ "$rb" = 0 -a "$(cat "$TMP/b.out")" = B-done ]
# and a new join after the re-key gets the new epoch
out=$(vc exec echo later 2>/dev/null)
check "a client joining after the re-key works" [ "$out" = later ]
finish
