#!/bin/sh
# viewer: a get of a FIFO (or anything not a regular file) in the share is refused at
# once with a clear error, without blocking the master: another client's exec of the
# same session runs on meanwhile and the master keeps answering.
. "$TOP/tests/lib.sh"
. "$TOP/tests/integration/vw_common.inc"

mkdir -p "$TMP/share"
mkfifo "$TMP/share/pipe"
echo hello >"$TMP/share/plain.txt"
start_relay
start_master --share "$TMP/share" --allow-exec --auto-approve

# an exec that is running while the get arrives, and must finish on time
timeout 30 "$SEALBOX" viewer-client --server "$RELAY" "$SESSION" exec sh -c 'sleep 2; echo exec-alive' >"$TMP/x.out" 2>"$TMP/x.err" & x=$!
wait_for "$TMP/x.err" approved 20
timeout 20 "$SEALBOX" viewer-client --server "$RELAY" "$SESSION" get pipe "$TMP/out" 2>"$TMP/g.err"; rg=$?
check "get of a FIFO fails with exit 66 (exit $rg)" [ "$rg" = 66 ]
check "and says it is not a regular file" grep -q 'not a regular file' "$TMP/g.err"
check "and writes nothing" [ ! -e "$TMP/out" ]
wait $x; rx=$?
check "the other client's exec ran on meanwhile" holds '[ "$rx" = 0 ] && [ "$(cat "$TMP/x.out")" = exec-alive ]'
out=$(timeout 20 "$SEALBOX" viewer-client --server "$RELAY" "$SESSION" get plain.txt "$TMP/plain" 2>/dev/null; cat "$TMP/plain" 2>/dev/null)
check "the master still serves a regular file after it" [ "$out" = hello ]
check "the master logs the refusal" grep -q 'get pipe refused: not a regular file' "$MERR"
finish
