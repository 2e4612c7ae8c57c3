#!/bin/sh
# viewer: the keepalive notices a silently dead path (a frozen forwarder keeps the socket
# open but passes nothing) and the end resumes once the path is back; a drop longer than
# the grace period ends the client with exit 69 and a clear message, while the master
# goes on; a master that cannot resume in time ends with 69 too.
. "$TOP/tests/lib.sh"
. "$TOP/tests/integration/vw_common.inc"

export SEALBOX_VIEWER_KEEPALIVE=1 # PING every second: a link is dead after 4 s of silence
start_relay "dead_after = 3s" "resume_grace = 6s"
mport=$(free_port) cport=$(free_port)
fwd m "$mport"
fwd c "$cport"
RELAY=127.0.0.1:$mport
start_master --allow-exec --auto-approve
RELAY=127.0.0.1:$cport
script='i=0; while [ $i -lt 100 ]; do i=$((i+1)); echo "line $i"; sleep 0.1; done'

# 1. the client's path freezes (SIGSTOP): nothing is closed, only the keepalive can tell
vc exec sh -c "$script" >"$TMP/o1" 2>"$TMP/e1" & cpid=$!
wait_for "$TMP/o1" 'line 5' 10 || fail "the exec did not start"
kill -STOP "$fwd_c"
t0=$(date +%s)
wait_for "$TMP/e1" 'relay link lost (nothing heard for' 10; found=$?
t1=$(date +%s)
check "the client's keepalive finds the frozen path dead ($((t1 - t0)) s)" [ "$found" = 0 ]
kill -9 "$fwd_c"; kill -CONT "$fwd_c" 2>/dev/null; wait "$fwd_c" 2>/dev/null
fwd c "$cport"
wait "$cpid"; rc=$?
check "the exec completes after the resume (exit $rc)" [ "$rc" = 0 ]
seq 1 100 | sed 's/^/line /' >"$TMP/want"
check "its output is complete and in order" cmp -s "$TMP/want" "$TMP/o1"
check "the client said 'resumed'" grep -q 'viewer-client: resumed after' "$TMP/e1"

# 2. the client's path stays down longer than its grace period
SEALBOX_VIEWER_GRACE=2 "$SEALBOX" viewer-client --server "$RELAY" "$SESSION" exec sh -c "$script" \
	>"$TMP/o2" 2>"$TMP/e2" & cpid=$!
wait_for "$TMP/o2" 'line 5' 10 || fail "the second exec did not start"
kill -9 "$fwd_c"; wait "$fwd_c" 2>/dev/null
t0=$(date +%s)
wait "$cpid"; rc=$?
t1=$(date +%s)
check "a drop longer than the grace period ends the client with 69 (got $rc after $((t1 - t0)) s)" [ "$rc" = 69 ]
check "with a clear message" grep -q 'viewer-client: relay link lost; cannot resume: .*no resume within 2 s' "$TMP/e2"
check "the master still runs" kill -0 "$MPID"
check "the relay tells the master the client is gone" wait_for "$MOUT" '^left 3 ' 15
RELAY=127.0.0.1:$RELAY_PORT
out=$(vc exec echo still here 2>"$TMP/e3")
if [ "$out" = "still here" ]; then ok "the master serves a new client"; else
	fail "the master serves a new client"
	sed 's/^/# client: /' "$TMP/e3"; tail -25 "$MERR" | sed 's/^/# master: /'; tail -15 "$RELAY_LOG" | sed 's/^/# relay: /'
fi

# 3. the master's path stays down longer than its grace period (6 s here, the relay's)
SEALBOX_VIEWER_GRACE=3 "$SEALBOX" viewer-master --server "127.0.0.1:$mport" --no-lan --auto-approve \
	<"$TMP/mcmd" >"$TMP/m2.out" 2>"$TMP/m2.err" & m2=$!
_pids="$_pids $m2"
wait_for "$TMP/m2.out" '^session ' 10 || fail "second master did not start"
kill -9 "$fwd_m"; wait "$fwd_m" 2>/dev/null
wait "$m2"; rc=$?
check "a master that cannot resume in time exits 69 (got $rc)" [ "$rc" = 69 ]
check "and says why" grep -q 'viewer-master: relay connection lost: .*no resume within 3 s' "$TMP/m2.err"
MPID= # the first master's link went with the forwarder too; do not expect a clean exit
finish
