#!/bin/sh
# viewer: a broken direct LAN link falls back to the relay mid-session. The client's
# direct path goes through a TCP forwarder (lib_tcpfwd.py) the test controls
# (SEALBOX_VIEWER_LAN, a test-only client setting, replaces the master's LAN address).
# Killing the forwarder (connection closed) during a get and an exec stream: both ends
# print the relay path and why, the get arrives bit-exact, the exec's output complete and
# in order, and the session goes on. Freezing it (SIGSTOP: a silent path) is caught by the
# keepalive and falls back the same way; so does a direct link that breaks while the
# relay link is down (the fallback waits for the resume).
. "$TOP/tests/lib.sh"
. "$TOP/tests/integration/vw_common.inc"

export SEALBOX_VIEWER_KEEPALIVE=0.5 # a silent link is dead after 4 of them: 2 s
size_mb=200
[ "${SAN:-0}" = 1 ] && size_mb=48
mkdir -p "$TMP/share" "$TMP/local"
head -c $((size_mb * 1024 * 1024)) /dev/urandom >"$TMP/share/big.bin"

start_relay
LP=$(free_port) FP=$(free_port)
VW_LAN="--lan-listen 127.0.0.1:$LP" start_master --share "$TMP/share" --allow-exec --auto-approve
wait_port 127.0.0.1 "$LP" || fail "master listens on its LAN port"

# dfwd: (re)starts the direct path's forwarder, FP -> the master's LAN port
dfwd() {
	bg /usr/bin/python3 "$TOP/tests/integration/lib_tcpfwd.py" "$FP" "$LP"
	dfwd_pid=$last_pid
	wait_port 127.0.0.1 "$FP" || fail "direct forwarder did not start"
}
# client_id ERRFILE: the id from "joined session N as client ID"
client_id() { sed -n 's/.*joined session [0-9]* as client \([0-9]*\)$/\1/p' "$1"; }
vcd() { SEALBOX_VIEWER_LAN=127.0.0.1:$FP vc "$@"; }
stream='i=0; while [ $i -lt 40 ]; do i=$((i+1)); echo "line $i"; sleep 0.1; done; exit 3'
seq 1 40 | sed 's/^/line /' >"$TMP/want"

# 1. the forwarder dies (both ends see the connection close) during a get and an exec
dfwd
vcd get big.bin "$TMP/local/a.bin" 2>"$TMP/e1" & gpid=$!
vcd exec sh -c "$stream" >"$TMP/o1" 2>"$TMP/x1" & xpid=$!
wait_grow "$TMP/local" $((8 * 1024 * 1024)) || fail "the get did not start"
wait_for "$TMP/o1" 'line 3' 10 || fail "the exec did not start"
check "the get went direct" grep -q "approved; path direct 127.0.0.1:$FP" "$TMP/e1"
check "the exec went direct" grep -q "approved; path direct 127.0.0.1:$FP" "$TMP/x1"
kill -9 "$dfwd_pid"; wait "$dfwd_pid" 2>/dev/null
wait "$gpid"; grc=$?
wait "$xpid"; xrc=$?
check "get survives the direct link breaking (exit $grc)" [ "$grc" = 0 ]
check "get: sha256sum equal on both ends" \
	[ "$(sha256sum <"$TMP/share/big.bin")" = "$(sha256sum <"$TMP/local/a.bin")" ]
check "exec survives the direct link breaking (exit code 3 passed through: $xrc)" [ "$xrc" = 3 ]
check "exec output complete and in order" cmp -s "$TMP/want" "$TMP/o1"
for f in e1 x1; do
	check "client ($f) prints why and the relay path" \
		grep -q "viewer-client: direct link lost (.*); path relay-tcp $RELAY" "$TMP/$f"
done
gid=$(client_id "$TMP/e1") xid=$(client_id "$TMP/x1")
check "master prints the relay path for both clients ($gid, $xid)" sh -c \
	"grep -q '^path $gid relay-tcp $RELAY\$' '$MOUT' && grep -q '^path $xid relay-tcp $RELAY\$' '$MOUT'"
check "master says why on stderr" grep -q "viewer-master: client $gid: direct link lost (.*); back to the relay" "$MERR"
rm -f "$TMP/local/a.bin"

# 2. the session goes on: a new client (the direct path is gone: it uses the relay)
out=$(vcd exec echo still here 2>"$TMP/e2"); rc=$?
check "another exec works afterwards (exit $rc)" [ "$rc" = 0 -a "$out" = "still here" ]

# 3. a silent direct path (the forwarder frozen): the keepalive notices, both fall back
dfwd
vcd get big.bin "$TMP/local/b.bin" 2>"$TMP/e3" & gpid=$!
vcd exec sh -c "$stream" >"$TMP/o3" 2>"$TMP/x3" & xpid=$!
wait_grow "$TMP/local" $((8 * 1024 * 1024)) || fail "the get did not start"
wait_for "$TMP/o3" 'line 3' 10 || fail "the exec did not start"
check "the third get went direct" grep -q "approved; path direct 127.0.0.1:$FP" "$TMP/e3"
kill -STOP "$dfwd_pid"
wait "$gpid"; grc=$?
wait "$xpid"; xrc=$?
kill -9 "$dfwd_pid"; wait "$dfwd_pid" 2>/dev/null # (SIGKILL ends a stopped process too)
check "get survives a silent direct link (exit $grc)" [ "$grc" = 0 ]
check "get: sha256sum equal after the silent link" \
	[ "$(sha256sum <"$TMP/share/big.bin")" = "$(sha256sum <"$TMP/local/b.bin")" ]
check "exec survives a silent direct link (exit $xrc)" [ "$xrc" = 3 ]
check "exec output complete and in order after the silent link" cmp -s "$TMP/want" "$TMP/o3"
check "the keepalive caught it: client says nothing was heard, and the relay path" \
	grep -Eq "viewer-client: direct link lost \((nothing heard for [0-9.]+ s|the peer went back to the relay)\); path relay-tcp" "$TMP/e3"
gid=$(client_id "$TMP/e3")
check "master prints the relay path for the third client ($gid)" grep -q "^path $gid relay-tcp $RELAY\$" "$MOUT"
check "one end noticed the silence" grep -q "direct link lost (nothing heard for" "$TMP/e3" "$TMP/x3" "$MERR"

# 4. the direct link and the client's relay link break together: the fallback waits for
# the relay link's resume, then both ends resend what the other lacks
dfwd
cport=$(free_port)
fwd c "$cport"
SEALBOX_VIEWER_LAN=127.0.0.1:$FP "$SEALBOX" viewer-client --server "127.0.0.1:$cport" "$SESSION" \
	exec sh -c "$stream" >"$TMP/o4" 2>"$TMP/x4" & xpid=$!
wait_for "$TMP/o4" 'line 3' 10 || fail "the fourth exec did not start"
kill -9 "$dfwd_pid" "$fwd_c"; wait "$dfwd_pid" "$fwd_c" 2>/dev/null
# the relay link comes back only after the client gave up the direct link (2 s of silence)
wait_for "$TMP/x4" 'direct link lost' 10 || fail "the client did not give up the direct link"
fwd c "$cport"
wait "$xpid"; xrc=$?
check "exec survives both of its links breaking (exit $xrc)" [ "$xrc" = 3 ]
check "exec output complete and in order after both links broke" cmp -s "$TMP/want" "$TMP/o4"
check "the client fell back while resuming, then resumed" sh -c \
	"grep -q 'direct link lost (.*); path relay-tcp .*(resuming)' '$TMP/x4' && grep -q 'viewer-client: resumed after' '$TMP/x4'"
out=$(vc exec echo after 2>/dev/null)
check "the session still works" [ "$out" = after ]
finish
