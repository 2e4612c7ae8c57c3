#!/bin/sh
# viewer: the direct LAN path. With the master listening on 127.0.0.1 the client moves
# its data path there after proving K (both ends print "path ... direct"); with --no-lan
# the relay is used; a stray TCP connection to the LAN port gets only the random
# challenge, is closed, and the master keeps serving.
. "$TOP/tests/lib.sh"
. "$TOP/tests/integration/vw_common.inc"

mkdir -p "$TMP/share"
head -c 500000 /dev/urandom >"$TMP/share/r.bin"
start_relay
LP=$(free_port)
VW_LAN="--lan-listen 127.0.0.1:$LP" start_master --share "$TMP/share" --allow-exec --auto-approve
wait_port 127.0.0.1 "$LP" || fail "master listens on its LAN port"

out=$(vc exec echo hello 2>"$TMP/c.err"); rc=$?
check "exec over the direct path works" [ "$rc" = 0 -a "$out" = hello ]
check "client prints the direct path" grep -q "path direct 127.0.0.1:$LP" "$TMP/c.err"
check "master prints the direct path for the client" grep -Eq "^path [0-9]+ direct 127\.0\.0\.1:[0-9]+\$" "$MOUT"
vc get r.bin "$TMP/r.bin" 2>"$TMP/g.err"; rc=$?
check "get over the direct path: same bytes" holds '[ "$rc" = 0 ] && cmp -s "$TMP/share/r.bin" "$TMP/r.bin"'
check "get went direct" grep -q "path direct" "$TMP/g.err"

# a stray connection: it gets the 32-byte challenge and nothing else, then is closed
/usr/bin/python3 - "$LP" >"$TMP/stray.out" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
got = b""
s.sendall(b"\x00\x02" + b"\x00" * 32)   # a wrong proof for client 2
t0 = time.time()
while time.time() - t0 < 4:
    try:
        d = s.recv(4096)
    except socket.timeout:
        break
    if not d:
        break
    got += d
print(len(got), "closed" if not d else "open")
PY
check "a stray connection gets only the 32-byte challenge and is closed" [ "$(cat "$TMP/stray.out")" = "32 closed" ]
/usr/bin/python3 -c "import socket,sys; s=socket.create_connection(('127.0.0.1',int(sys.argv[1]))); s.close()" "$LP"
check "the master logs the refused stray" grep -q 'no proof of' "$MERR"
out=$(vc exec echo still 2>"$TMP/c2.err"); rc=$?
check "the master keeps serving after strays" holds '[ "$rc" = 0 -a "$out" = still ] && grep -q "path direct" "$TMP/c2.err"'
out=$("$SEALBOX" viewer-client --server "$RELAY" --no-lan "$SESSION" exec echo relayed 2>"$TMP/c3.err"); rc=$?
check "client --no-lan stays on the relay" holds '[ "$rc" = 0 -a "$out" = relayed ] && grep -q "path relay-tcp $RELAY" "$TMP/c3.err"'
finish

# --no-lan on the master: relay path
start_master --allow-exec --auto-approve
out=$(vc exec echo relayed 2>"$TMP/c4.err"); rc=$?
check "with --no-lan the relay is used" holds '[ "$rc" = 0 -a "$out" = relayed ] && grep -q "path relay-tcp $RELAY" "$TMP/c4.err"'
check "master with --no-lan prints the relay path" grep -Eq "^path [0-9]+ relay-tcp " "$MOUT"
check "master with --no-lan announces no LAN address" sh -c "! grep -q 'direct LAN path on' '$MERR'"
finish
