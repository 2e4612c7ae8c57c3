#!/bin/sh
# viewer: forward LPORT:NAME to a service the master exposes, fetched with curl; many
# streams at once; a stalled stream does not starve the others; unknown names give 77.
. "$TOP/tests/lib.sh"
. "$TOP/tests/integration/vw_common.inc"

mkdir -p "$TMP/www"
echo "served through the tunnel" >"$TMP/www/index.txt"
head -c 5000000 /dev/urandom >"$TMP/www/blob"
hport=$(free_port)
(cd "$TMP/www" && exec /usr/bin/python3 -m http.server -b 127.0.0.1 "$hport" >/dev/null 2>&1) &
_pids="$_pids $!"
wait_port 127.0.0.1 "$hport"
dead=$(free_port)
start_relay
start_master --expose web=127.0.0.1:$hport --expose dead=127.0.0.1:$dead --auto-approve

lport=$(free_port)
"$SEALBOX" viewer-client --server "$RELAY" "$SESSION" forward $lport:web 2>"$TMP/f.err" &
fpid=$!; _pids="$_pids $fpid"
wait_port 127.0.0.1 $lport
check "client says what it forwards" grep -q "forwarding 127.0.0.1:$lport -> web" "$TMP/f.err"
out=$(curl -s --max-time 10 http://127.0.0.1:$lport/index.txt)
check "curl through the forward" [ "$out" = "served through the tunnel" ]

want=$(sha256sum <"$TMP/www/blob")
cpids=""
for i in 1 2 3 4 5 6 7 8; do curl -s --max-time 30 -o "$TMP/b$i" http://127.0.0.1:$lport/blob & cpids="$cpids $!"; done
for p in $cpids; do wait $p; done
good=0
for i in 1 2 3 4 5 6 7 8; do [ "$(sha256sum <"$TMP/b$i")" = "$want" ] && good=$((good + 1)); done
check "8 concurrent streams, all bytes right ($good/8)" [ $good = 8 ]

# a reader that asks for 5 MB and then does not read: its window fills, others go on
# (a script file, not a here-document: dash would fork a shell copy that runs our EXIT trap)
cat >"$TMP/stall.py" <<'PY'
import os, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.sendall(b"GET /blob HTTP/1.0\r\n\r\n")
print("asked", flush=True)
for _ in range(600):  # stalled until the test has made its other request (the go file)
    if os.path.exists(sys.argv[2]):
        break
    time.sleep(0.05)
n = 0
while True:
    b = s.recv(65536)
    if not b:
        break
    n += len(b)
print("stalled reader got", "all" if n >= 5000000 else n)
PY
/usr/bin/python3 "$TMP/stall.py" "$lport" "$TMP/stall.go" >"$TMP/stall.out" 2>&1 &
spid=$!
wait_for "$TMP/stall.out" '^asked' 10 || fail "the stalled reader did not connect"
# a fixed pause on purpose: the stalled stream's window fills within it, and nothing
# outside says when it is full; were it not full yet, the check below would only be weaker
sleep 1
start=$(date +%s%N)
out=$(curl -s --max-time 5 http://127.0.0.1:$lport/index.txt)
ms=$((($(date +%s%N) - start) / 1000000))
: >"$TMP/stall.go"
check "a stalled stream does not starve another (${ms} ms)" [ "$out" = "served through the tunnel" -a $ms -lt 2000 ]
wait $spid
check "the stalled stream completes once it reads" grep -q "stalled reader got all" "$TMP/stall.out"

lport2=$(free_port)
"$SEALBOX" viewer-client --server "$RELAY" "$SESSION" forward $lport2:nosuch 2>"$TMP/n.err"; rc=$?
check "forward to a name not exposed gives 77" [ "$rc" = 77 ]
lport3=$(free_port)
"$SEALBOX" viewer-client --server "$RELAY" "$SESSION" forward $lport3:dead 2>"$TMP/d.err" &
dpid=$!; _pids="$_pids $dpid"
wait_port 127.0.0.1 $lport3
curl -s --max-time 5 http://127.0.0.1:$lport3/ >/dev/null; rc=$?
check "a dead service closes that stream only (curl rc $rc)" holds '[ "$rc" != 0 ] && kill -0 $dpid'
out=$(curl -s --max-time 10 http://127.0.0.1:$lport/index.txt)
check "the other forward still works" [ "$out" = "served through the tunnel" ]
kill -INT $fpid; wait $fpid; rc=$?
check "Ctrl-C ends a forward with 0" [ "$rc" = 0 ]
finish
