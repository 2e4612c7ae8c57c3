#!/bin/sh
# viewer + tunneld with its default dead_after (60 s) and resume_grace (30 s): only the
# client's side of the relay link breaks, silently (the old path stays open and passes
# nothing, a new path works: a Wi-Fi change or a NAT rebind). tunneld still thinks the
# old link is alive; the client's RESUME with its token takes over at once, the running
# exec completes, and the retries never block the client's address.
. "$TOP/tests/lib.sh"
. "$TOP/tests/integration/vw_common.inc"

export SEALBOX_VIEWER_KEEPALIVE=1 # PING every second: the client finds its dead path after 4 s
start_relay
cport=$(free_port)
fwd c "$cport"
start_master --allow-exec --auto-approve # straight to the relay: only the client's path breaks
RELAY=127.0.0.1:$cport
script='i=0; while [ $i -lt 100 ]; do i=$((i+1)); echo "line $i"; sleep 0.1; done'

vc exec sh -c "$script" >"$TMP/o1" 2>"$TMP/e1" & cpid=$!
wait_for "$TMP/o1" 'line 5' 10 || fail "the exec did not start"
kill -USR1 "$fwd_c" # its open links freeze; new connections go through
t0=$(date +%s)
wait "$cpid"; rc=$?
t1=$(date +%s)
check "the exec completes although the relay still held the old link (exit $rc after $((t1 - t0)) s)" [ "$rc" = 0 ]
seq 1 100 | sed 's/^/line /' >"$TMP/want"
check "its output is complete and in order" cmp -s "$TMP/want" "$TMP/o1"
secs=$(sed -n 's/.*viewer-client: resumed after \([0-9]*\)\..*/\1/p' "$TMP/e1" | head -1)
check "the client resumed within 10 s of noticing (took ${secs:-never} s)" [ -n "$secs" ] && [ "$secs" -lt 10 ]
check "the relay logged the takeover" grep -q 'id=[0-9]* resumes from .*closing its old connection' "$RELAY_LOG"
check "the client was told how long to try (resume_window, 90 s with the defaults)" \
	grep -q 'resuming for up to 90 s' "$TMP/e1"
out=$(vc exec echo still here 2>"$TMP/e2")
if [ "$out" = "still here" ]; then ok "the client's address is not blocked: a new client is served"; else
	fail "the client's address is not blocked: a new client is served"
	sed 's/^/# client: /' "$TMP/e2"; tail -15 "$RELAY_LOG" | sed 's/^/# relay: /'
fi
kill "$fwd_c" 2>/dev/null
finish
