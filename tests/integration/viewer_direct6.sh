#!/bin/sh
# viewer: the direct LAN path over IPv6. A master with --lan-listen [::1]:PORT announces
# "[::1]:PORT" (lan= through the real relay, unchanged) and the client takes the direct
# path over ::1 (both ends print it with brackets). A dual-stack listener (--lan-listen
# :PORT) takes IPv4 and IPv6 connections on one port, shows an IPv4 peer as IPv4, and
# announces no link-local address. Skipped when this machine has no ::1.
. "$TOP/tests/lib.sh"
. "$TOP/tests/integration/vw_common.inc"

v6port() { /usr/bin/python3 -c 'import socket;s=socket.socket(socket.AF_INET6);s.bind(("::1",0));print(s.getsockname()[1])' 2>/dev/null; }
LP=$(v6port)
[ -n "$LP" ] || { skip "viewer direct path over IPv6: no ::1 on this machine"; exit 0; }

start_relay
VW_LAN="--lan-listen [::1]:$LP" start_master --allow-exec --auto-approve
wait_port ::1 "$LP" || fail "master listens on [::1]:$LP"
check "the master announces [::1]:$LP" grep -q "direct LAN path on \[::1\]:$LP\$" "$MERR"
out=$(vc exec echo over-v6 2>"$TMP/c.err"); rc=$?
check "exec over the IPv6 direct path works" holds \
	'[ "$rc" = 0 -a "$out" = over-v6 ] && grep -q "approved; path direct \[::1\]:$LP\$" "$TMP/c.err"'
check "the master prints the IPv6 direct path for the client" grep -Eq '^path [0-9]+ direct \[::1\]:[0-9]+$' "$MOUT"
check "the relay passed lan= through unchanged (its log names no error)" sh -c "! grep -qi 'lan too long\|protocol error' '$RELAY_LOG'"
finish

# a dual-stack listener: strays over IPv4 and IPv6 reach the same port; no link-local
DP=$(free_port)
VW_LAN="--lan-listen :$DP" start_master --allow-exec --auto-approve
wait_port 127.0.0.1 "$DP" || fail "dual-stack listener takes IPv4"
wait_port ::1 "$DP" || fail "dual-stack listener takes IPv6"
/usr/bin/python3 -c "import socket,sys; s=socket.create_connection(('127.0.0.1',int(sys.argv[1]))); s.recv(32); s.close()" "$DP"
/usr/bin/python3 -c "import socket,sys; s=socket.create_connection(('::1',int(sys.argv[1]))); s.recv(32); s.close()" "$DP"
i=0; while [ $i -lt 60 ] && [ "$(grep -c 'direct: connection from' "$MERR")" -lt 2 ]; do sleep 0.05; i=$((i + 1)); done
check "an IPv4 peer of the dual-stack listener shows as IPv4" grep -q 'direct: connection from 127\.0\.0\.1:' "$MERR"
check "an IPv6 peer of the same listener shows in brackets" grep -q 'direct: connection from \[::1\]:' "$MERR"
lan=$(sed -n 's/.*direct LAN path on //p' "$MERR")
check "a wildcard listener announces no link-local address (no usable scope)" holds \
	'[ -n "$lan" ] && ! echo "$lan" | grep -qi "\[fe80:"'
if command -v ip >/dev/null 2>&1 && ip -6 -o addr show scope global 2>/dev/null | grep -q inet6; then
	check "a wildcard listener announces the host's global/ULA IPv6 addresses, in brackets" holds \
		'echo "$lan" | grep -q "\[[0-9a-f:]*\]:$DP"'
fi
check "the announced list fits tunneld's 255 bytes" [ ${#lan} -le 255 ]
out=$("$SEALBOX" viewer-client --server "$RELAY" --no-lan "$SESSION" exec echo still 2>/dev/null); rc=$?
check "the master still serves after the strays" [ "$rc" = 0 -a "$out" = still ]
finish
